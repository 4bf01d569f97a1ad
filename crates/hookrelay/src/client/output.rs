//! How commands print: aligned tables for people, JSON for scripts (`--json`), colour
//! only on a terminal (and never with `NO_COLOR`), spinners only where someone watches.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

/// Whether stdout is a terminal that may get colour.
pub fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// `text` in the colour that goes with a delivery status or outcome, on a terminal.
pub fn status(text: &str) -> String {
    let code = match text {
        "succeeded" | "valid" | "ok" | "created" => "32",
        "failed" | "invalid" | "archived" | "deleted" => "31",
        "pending" | "updated" => "33",
        _ => return text.to_owned(),
    };
    if colour() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// A spinner on stderr with `message`; hidden when stderr is not a terminal, so logs and
/// pipes get no control characters.
pub fn spinner(message: impl Into<String>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner().with_message(message.into());
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// A progress bar on stderr over `len` items; hidden off a terminal.
pub fn progress(len: u64, message: impl Into<String>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len).with_message(message.into());
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({elapsed})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Prints `value` as indented JSON.
pub fn json(value: &Value) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(_) => println!("{value}"),
    }
}

/// Prints what a declarative `PUT` did: one line per code under each of `changes`
/// (e.g. `created`, `updated`, `archived`), then how many were left as they were.
pub fn report(answer: &Value, changes: &[&str]) {
    let mut any = false;
    for change in changes {
        for code in answer[*change].as_array().into_iter().flatten() {
            any = true;
            // Padded before colouring, so escape codes do not count as width.
            let pad = " ".repeat(10usize.saturating_sub(change.len()));
            println!("{}{pad}{}", status(change), cell(code));
        }
    }
    let unchanged = answer["unchanged"].as_array().map_or(0, Vec::len);
    if !any {
        println!("no changes ({unchanged} unchanged)");
    } else if unchanged > 0 {
        println!("{unchanged} unchanged");
    }
}

/// `1 delivery`, `2 deliveries`: `n` and the noun, singular or plural.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A text cell of a JSON field: strings as they are, `null` as `-`, the rest as JSON.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// An aligned table; the column named `status` is coloured.
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column headers.
    pub fn new(headers: &[&'static str]) -> Self {
        Self {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds one row (as many cells as headers).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text, one line per row, columns padded to their widest cell.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.len()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let header_cells: Vec<String> = self.headers.iter().map(|h| h.to_uppercase()).collect();
        let mut out = String::new();
        for (n, row) in std::iter::once(&header_cells).chain(&self.rows).enumerate() {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                let width = widths.get(i).copied().unwrap_or(0);
                let pad = width.saturating_sub(cell.chars().count());
                // Colour is added after measuring, so escape codes do not skew the widths.
                let shown = if n > 0 && self.headers.get(i) == Some(&"status") {
                    status(cell)
                } else {
                    cell.clone()
                };
                line.push_str(&shown);
                if i + 1 < row.len() {
                    line.push_str(&" ".repeat(pad + 2));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// Prints the table, or a line saying it is empty.
    pub fn print(&self, empty: &str) {
        if self.rows.is_empty() {
            println!("{empty}");
        } else {
            print!("{}", self.render());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align() {
        let mut t = Table::new(&["id", "status"]);
        t.row(vec!["dlv_1".into(), "failed".into()]);
        t.row(vec!["dlv_22".into(), "ok".into()]);
        assert_eq!(t.render(), "ID      STATUS\ndlv_1   failed\ndlv_22  ok\n");
        assert_eq!(cell(&Value::Null), "-");
        assert_eq!(count(1, "attempt", "attempts"), "1 attempt");
        assert_eq!(count(2, "attempt", "attempts"), "2 attempts");
        assert_eq!(cell(&serde_json::json!(["a", "b"])), "a,b");
    }
}
