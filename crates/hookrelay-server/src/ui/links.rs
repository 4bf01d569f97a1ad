//! Links between dashboard pages: ids and names in paths, and the "next page" link of
//! the cursor-paginated lists.

use super::html::{escape, query_value};

/// A value percent-encoded for one path segment (`/ui/events/{id}`), so a stored name
/// can never add a segment or a query.
pub fn path_segment(text: &str) -> String {
    // Form encoding writes a space as `+`, which a path would keep as a plus sign.
    query_value(text).replace('+', "%20")
}

/// `<p><a rel="next" …>label</a></p>` to `path` with the non-blank `filters` and
/// `cursor`, ready to insert into a page.
pub fn next_page(
    path: &str,
    filters: &[(&str, Option<&str>)],
    cursor: &str,
    label: &str,
) -> String {
    let mut parts: Vec<String> = filters
        .iter()
        .filter_map(|(name, value)| {
            let value = value.map(str::trim).filter(|v| !v.is_empty())?;
            Some(format!("{name}={}", query_value(value)))
        })
        .collect();
    parts.push(format!("cursor={}", query_value(cursor)));
    format!(
        "<p><a rel=\"next\" href=\"{}?{}\">{}</a></p>",
        escape(path),
        escape(&parts.join("&")),
        escape(label)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_next_links_are_encoded() {
        assert_eq!(path_segment("a b/c?d"), "a%20b%2Fc%3Fd");
        assert_eq!(
            next_page(
                "/ui/events",
                &[
                    ("scope", Some("biz:1")),
                    ("type", None),
                    ("find", Some(" "))
                ],
                "evt_1",
                "Older →"
            ),
            "<p><a rel=\"next\" href=\"/ui/events?scope=biz%3A1&amp;cursor=evt_1\">Older →</a></p>"
        );
    }
}
