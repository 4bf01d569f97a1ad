/// Which page of a list to read: newest first, after `cursor` (an id).
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    /// How many items, 1 to 1000.
    pub limit: u32,
    /// The last id of the previous page.
    pub cursor: Option<String>,
}

/// One page of a list and where the next one starts.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Page<T> {
    /// The items.
    pub data: Vec<T>,
    /// Pass as `cursor` to read on; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only says there is more.
    pub fn from_rows(mut rows: Vec<T>, limit: u32, cursor_of: impl Fn(&T) -> String) -> Self {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(&cursor_of)
        } else {
            None
        };
        Self {
            data: rows,
            next_cursor,
        }
    }

    /// Maps the items, keeping the cursor.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            data: self.data.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}
