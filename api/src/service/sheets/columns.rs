//! The columns of an import as staff write them: a canonical Chinese header
//! per column with the other names people give it, found in a header row
//! whatever its order, with notes (`企业名称*`, `数量（台）`) ignored.

use std::collections::HashMap;

use zhiqilian_matcher::FieldError;

use crate::service::error::{ApiError, Code};
use crate::service::sheets::table::Row;

#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The canonical header (templates and exports write it).
    pub header: &'static str,
    /// Other headers that mean the same column.
    pub aliases: &'static [&'static str],
    pub required: bool,
    /// What goes in it, for the template's notes.
    pub note: &'static str,
}

/// A header as compared: without spaces, `*` marks and notes in brackets,
/// ASCII letters in lower case.
pub fn normalise(h: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in h.chars() {
        match c {
            '(' | '（' | '[' | '【' => depth += 1,
            ')' | '）' | ']' | '】' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            '*' | '＊' => {}
            c if c.is_whitespace() => {}
            c => out.push(c.to_ascii_lowercase()),
        }
    }
    out
}

/// Where each column is in a file's header.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    at: HashMap<&'static str, usize>,
    /// The headers of the file's columns that no column takes.
    pub ignored: Vec<String>,
}

impl Layout {
    /// Whether the file has the column.
    pub fn has(&self, header: &str) -> bool {
        self.at.contains_key(header)
    }

    /// The row's cell of a column: `None` when the file has no such column,
    /// `Some("")` for a blank cell.
    pub fn get<'r>(&self, row: &'r Row, header: &str) -> Option<&'r str> {
        self.at.get(header).map(|&i| row.cell(i))
    }

    /// The recognised columns, in canonical order.
    pub fn columns(&self, spec: &[Column]) -> Vec<String> {
        spec.iter()
            .filter(|c| self.has(c.header))
            .map(|c| c.header.to_string())
            .collect()
    }
}

fn sheet_invalid(errors: Vec<FieldError>) -> ApiError {
    let mut e = ApiError::validation(errors);
    e.code = Code::SheetInvalid;
    e.detail = Some("表格的列不符合导入要求，请对照模板".into());
    e
}

/// Finds the columns of `spec` in a header row. A required column that is
/// missing, or a column named twice, is a 422 `sheet_invalid`; headers of
/// no column are listed as ignored.
///
/// `any_of` lists groups of columns of which the file needs at least one
/// (a listing's firm: by code or by name).
pub fn layout(spec: &[Column], any_of: &[&[&str]], headers: &[String]) -> Result<Layout, ApiError> {
    let mut layout = Layout::default();
    let mut errors = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let n = normalise(h);
        if n.is_empty() {
            continue;
        }
        let found = spec
            .iter()
            .find(|c| normalise(c.header) == n || c.aliases.iter().any(|a| normalise(a) == n));
        match found {
            Some(c) if layout.at.contains_key(c.header) => errors.push(FieldError::new(
                format!("columns.{}", c.header),
                "duplicate_column",
                format!("列“{}”出现了不止一次（“{h}”）", c.header),
            )),
            Some(c) => {
                layout.at.insert(c.header, i);
            }
            None => layout.ignored.push(h.clone()),
        }
    }
    for c in spec.iter().filter(|c| c.required) {
        if !layout.has(c.header) {
            errors.push(FieldError::new(
                format!("columns.{}", c.header),
                "missing_column",
                format!("缺少必填列“{}”", c.header),
            ));
        }
    }
    for group in any_of {
        if !group.iter().any(|h| layout.has(h)) {
            let names: Vec<String> = group.iter().map(|h| format!("“{h}”")).collect();
            errors.push(FieldError::new(
                format!("columns.{}", group[0]),
                "missing_column",
                format!("须有 {} 列之一", names.join("或")),
            ));
        }
    }
    if errors.is_empty() {
        Ok(layout)
    } else {
        Err(sheet_invalid(errors))
    }
}

/// A number as people type it (`1,200`, ` 3.5 `); `None` for text.
pub fn number(s: &str) -> Option<f64> {
    let t: String = s
        .chars()
        .filter(|c| !matches!(c, ',' | '，' | ' '))
        .collect();
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// A date as `YYYY-MM-DD` from `2026-12-01`, `2026/12/1`, `2026.12.1`,
/// `2026年12月1日` or a date cell with a time of midnight; anything else is
/// passed on as it is (the listing form then says what is wrong).
pub fn date(s: &str) -> String {
    let t = s.trim();
    let t = t.strip_suffix(" 00:00:00").unwrap_or(t);
    let parts: Vec<&str> = t
        .split(['-', '/', '.', '年', '月', '日'])
        .filter(|p| !p.is_empty())
        .collect();
    if let [y, m, d] = parts[..]
        && let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>())
        && let Some(date) = chrono::NaiveDate::from_ymd_opt(y, m, d)
    {
        return date.format("%Y-%m-%d").to_string();
    }
    t.to_string()
}

/// The wire value of a labelled choice: its Chinese label or one of its
/// other names, or the wire value itself (any ASCII case).
pub fn choice(s: &str, table: &[(&'static str, &[&str])]) -> Option<&'static str> {
    let n = normalise(s);
    table
        .iter()
        .find(|(wire, names)| *wire == n || names.iter().any(|x| normalise(x) == n))
        .map(|(wire, _)| *wire)
}

/// The names a choice accepts, for an error message.
pub fn choices(table: &[(&'static str, &[&str])]) -> String {
    table
        .iter()
        .filter_map(|(_, names)| names.first().copied())
        .collect::<Vec<_>>()
        .join("、")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &[Column] = &[
        Column {
            header: "企业名称",
            aliases: &["公司名称"],
            required: true,
            note: "",
        },
        Column {
            header: "电话",
            aliases: &["联系电话"],
            required: false,
            note: "",
        },
    ];

    #[test]
    fn headers_with_marks_notes_and_aliases() {
        let l = layout(
            SPEC,
            &[],
            &["联系电话（手机）".into(), "公司名称*".into(), "备注".into()],
        )
        .expect("layout");
        assert!(l.has("企业名称") && l.has("电话"));
        assert_eq!(l.ignored, ["备注"]);
        let e = layout(
            SPEC,
            &[&["地址", "邮箱"]],
            &["电话".into(), "联系电话".into()],
        )
        .expect_err("invalid");
        let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["columns.电话", "columns.企业名称", "columns.地址"]);
        assert_eq!(e.code, Code::SheetInvalid);
    }

    #[test]
    fn numbers_dates_and_choices() {
        assert_eq!(number("1,200"), Some(1200.0));
        assert!(number("十").is_none());
        assert_eq!(date("2026/12/1"), "2026-12-01");
        assert_eq!(date("2026年1月5日"), "2026-01-05");
        assert_eq!(date("2026-02-30"), "2026-02-30");
        let t: &[(&str, &[&str])] = &[("offer", &["供给", "供应"]), ("request", &["需求"])];
        assert_eq!(choice("供应", t), Some("offer"));
        assert_eq!(choice("Request", t), Some("request"));
        assert_eq!(choice("出租", t), None);
        assert_eq!(choices(t), "供给、需求");
    }
}
