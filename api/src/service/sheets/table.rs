//! Spreadsheet files as tables of text: reading a CSV (UTF-8, or GB18030 as
//! Excel saves it on Chinese Windows) or an .xlsx (its first worksheet)
//! into a header and rows, and writing sheets as .xlsx or CSV. Limits keep a
//! file from costing more than a staff member's park could mean.

use std::io::{Cursor, Read};

use crate::service::error::{ApiError, Code, Status};

/// The largest file accepted, in bytes.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// The most data rows (below the header) one file may hold.
pub const MAX_ROWS: usize = 5000;
/// The most columns of a header.
pub const MAX_COLUMNS: usize = 50;
/// The longest cell, in characters.
pub const MAX_CELL_CHARS: usize = 5000;
/// The most an .xlsx may unpack to (a zip bomb is refused before reading).
const MAX_UNPACKED: u64 = 64 * 1024 * 1024;
/// The most entries an .xlsx archive may hold.
const MAX_ENTRIES: usize = 500;

pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const CSV_TYPE: &str = "text/csv; charset=utf-8";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// `csv` or `xlsx` (a query's `format`).
    pub fn parse(field: &str, s: Option<&str>, default: Format) -> Result<Format, ApiError> {
        match s.map(str::trim) {
            None => Ok(default),
            Some("csv") => Ok(Format::Csv),
            Some("xlsx") => Ok(Format::Xlsx),
            Some(_) => Err(ApiError::field(
                field,
                "invalid_choice",
                "format 须为 xlsx 或 csv",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => CSV_TYPE,
            Format::Xlsx => XLSX_TYPE,
        }
    }
}

/// The format of an uploaded body, from its media type; a generic binary
/// type is told by the content (an .xlsx is a zip archive).
pub fn detect(content_type: Option<&str>, bytes: &[u8]) -> Result<Format, ApiError> {
    let essence = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match essence.as_str() {
        "text/csv" | "text/plain" | "application/csv" => Ok(Format::Csv),
        XLSX_TYPE => Ok(Format::Xlsx),
        "application/octet-stream" | "" if bytes.starts_with(b"PK\x03\x04") => Ok(Format::Xlsx),
        "application/octet-stream" | "" => Ok(Format::Csv),
        other => Err(ApiError::new(
            Status::UNSUPPORTED_MEDIA_TYPE,
            Code::UnsupportedMediaType,
            format!("不支持的文件类型 {other}：请上传 .xlsx 或 .csv（text/csv）"),
        )),
    }
}

/// A sheet as text: the header row and the data rows with their row
/// numbers as a spreadsheet program shows them (the header is row 1 when
/// the sheet starts at the top).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub header_row: usize,
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub number: usize,
    pub cells: Vec<String>,
}

impl Row {
    /// The cell of column `i`, trimmed ("" past the row's end), without
    /// the `'` an export puts before text that looks like a formula.
    pub fn cell(&self, i: usize) -> &str {
        let s = self.cells.get(i).map(|s| s.trim()).unwrap_or("");
        match s.strip_prefix('\'') {
            Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
            _ => s,
        }
    }
}

pub fn unreadable(detail: impl Into<String>) -> ApiError {
    ApiError::new(
        Status::UNPROCESSABLE_ENTITY,
        Code::SheetUnreadable,
        detail.into(),
    )
}

fn invalid(field: &str, code: &'static str, message: String) -> ApiError {
    let mut e = ApiError::field(field, code, message);
    e.code = Code::SheetInvalid;
    e.detail = Some("表格不符合导入要求".into());
    e
}

/// Reads a file into a table: the first non-blank row is the header; blank
/// rows are skipped.
pub fn read(format: Format, bytes: &[u8]) -> Result<Table, ApiError> {
    if bytes.len() > MAX_BYTES {
        return Err(too_large());
    }
    let grid = match format {
        Format::Csv => csv_rows(bytes)?,
        Format::Xlsx => xlsx_rows(bytes)?,
    };
    let mut rows = grid
        .into_iter()
        .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()));
    let Some((header_row, headers)) = rows.next() else {
        return Err(invalid(
            "file",
            "empty",
            "表格是空的：第一行须为列名".into(),
        ));
    };
    let mut headers: Vec<String> = headers.into_iter().map(|h| h.trim().to_string()).collect();
    while headers.last().is_some_and(String::is_empty) {
        headers.pop();
    }
    if headers.len() > MAX_COLUMNS {
        return Err(invalid(
            "file",
            "too_many_columns",
            format!("最多 {MAX_COLUMNS} 列，该表有 {} 列", headers.len()),
        ));
    }
    let rows: Vec<Row> = rows
        .map(|(number, cells)| Row { number, cells })
        .take(MAX_ROWS + 1)
        .collect();
    if rows.len() > MAX_ROWS {
        return Err(invalid(
            "file",
            "too_many_rows",
            format!("一次最多导入 {MAX_ROWS} 行，请拆分文件"),
        ));
    }
    if let Some((r, _)) = rows
        .iter()
        .flat_map(|r| r.cells.iter().map(move |c| (r.number, c)))
        .find(|(_, c)| c.chars().count() > MAX_CELL_CHARS)
    {
        return Err(invalid(
            "file",
            "cell_too_long",
            format!("第 {r} 行有单元格超过 {MAX_CELL_CHARS} 个字符"),
        ));
    }
    Ok(Table {
        header_row,
        headers,
        rows,
    })
}

pub fn too_large() -> ApiError {
    ApiError::new(
        Status::PAYLOAD_TOO_LARGE,
        Code::PayloadTooLarge,
        format!("文件超过 {} MB", MAX_BYTES / 1024 / 1024),
    )
}

/// UTF-8 (with or without a byte-order mark), else GB18030.
fn decode_text(bytes: &[u8]) -> Result<String, ApiError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(s.to_string());
    }
    let (text, _, bad) = encoding_rs::GB18030.decode(bytes);
    if bad {
        return Err(unreadable(
            "文件编码无法识别：请另存为 UTF-8 或 GBK 编码的 CSV，或上传 .xlsx",
        ));
    }
    Ok(text.into_owned())
}

fn csv_rows(bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>, ApiError> {
    let text = decode_text(bytes)?;
    if text.contains('\0') {
        return Err(unreadable("文件不是文本格式的 CSV：请上传 .xlsx 或 .csv"));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut folded = 0usize;
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| unreadable(format!("CSV 第 {} 行无法解析：{e}", i + 1)))?;
        // The row as a spreadsheet program shows the file: blank lines are
        // rows, a cell's own line breaks are not.
        // (The reader's position is where the previous record ended: the
        // blank lines it skipped come first.)
        let start = rec.position().map_or(i + 1, |p| {
            let skipped = text.as_bytes()[p.byte() as usize..]
                .iter()
                .take_while(|b| matches!(b, b'\n' | b'\r'))
                .filter(|b| **b == b'\n')
                .count();
            p.line() as usize + skipped
        });
        let line = start.saturating_sub(folded).max(1);
        folded += rec.iter().map(|f| f.matches('\n').count()).sum::<usize>();
        if rec.len() > MAX_COLUMNS * 4 {
            return Err(invalid(
                "file",
                "too_many_columns",
                format!("第 {line} 行超过 {MAX_COLUMNS} 列"),
            ));
        }
        out.push((line, rec.iter().map(str::to_string).collect()));
        if out.len() > MAX_ROWS + 100 {
            break;
        }
    }
    Ok(out)
}

/// Refuses an archive that would unpack to more than [`MAX_UNPACKED`].
fn check_archive(bytes: &[u8]) -> Result<(), ApiError> {
    let archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|_| unreadable("文件不是有效的 .xlsx（无法按 zip 打开）"))?;
    if archive.len() > MAX_ENTRIES {
        return Err(unreadable("文件不是有效的 .xlsx（内容过多）"));
    }
    let mut archive = archive;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|_| unreadable("文件不是有效的 .xlsx（压缩包损坏）"))?;
        total = total.saturating_add(entry.size());
    }
    if total > MAX_UNPACKED {
        return Err(unreadable("文件解压后过大，请删去多余的工作表或格式后重试"));
    }
    Ok(())
}

fn cell_text(d: &calamine::Data) -> String {
    use calamine::Data;
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        Data::DateTime(t) => {
            let (y, mo, d, h, mi, s, _) = t.to_ymd_hms_milli();
            if (h, mi, s) == (0, 0, 0) {
                format!("{y:04}-{mo:02}-{d:02}")
            } else {
                format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
            }
        }
        Data::Error(e) => format!("#{e}"),
    }
}

/// A number as a person wrote it: whole numbers without a decimal point
/// (phone numbers typed into a number cell among them).
pub fn number_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

fn xlsx_rows(bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>, ApiError> {
    use calamine::{Reader, Xlsx};
    check_archive(bytes)?;
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e| unreadable(format!("文件不是有效的 .xlsx：{e}")))?;
    let range = match book.worksheet_range_at(0) {
        None => return Ok(Vec::new()),
        Some(r) => r.map_err(|e| unreadable(format!("无法读取第一个工作表：{e}")))?,
    };
    let Some((top, left)) = range.start() else {
        return Ok(Vec::new());
    };
    if range.width() > MAX_COLUMNS * 4 || range.height() > MAX_ROWS * 4 {
        return Err(invalid(
            "file",
            "too_many_rows",
            format!("工作表过大：一次最多导入 {MAX_ROWS} 行、{MAX_COLUMNS} 列"),
        ));
    }
    let pad = left as usize;
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, cells)| {
            let mut v: Vec<String> = vec![String::new(); pad];
            v.extend(cells.iter().map(cell_text));
            (top as usize + i + 1, v)
        })
        .collect())
}

// ----------------------------------------------------------------- writing

/// One sheet to write: a name, the header and rows of cells.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// Column widths in characters (defaults to the header's width).
    pub widths: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<Option<f64>> for Cell {
    fn from(v: Option<f64>) -> Cell {
        v.map_or(Cell::Empty, Cell::Number)
    }
}

impl From<Option<String>> for Cell {
    fn from(v: Option<String>) -> Cell {
        v.map_or(Cell::Empty, Cell::Text)
    }
}

/// The sheets as an .xlsx workbook: bold, frozen header rows; text cells
/// stay text (a USCC or a phone number is never turned into a number).
pub fn to_xlsx(sheets: &[Sheet]) -> Result<Vec<u8>, ApiError> {
    use rust_xlsxwriter::{Format as CellFormat, Workbook};
    let mut book = Workbook::new();
    let bold = CellFormat::new().set_bold();
    for s in sheets {
        let ws = book.add_worksheet();
        let fail = |e: rust_xlsxwriter::XlsxError| ApiError::internal(format!("xlsx: {e}"));
        ws.set_name(&s.name).map_err(fail)?;
        for (c, h) in s.headers.iter().enumerate() {
            let col = c as u16;
            ws.write_string_with_format(0, col, h, &bold)
                .map_err(fail)?;
            let width = s
                .widths
                .get(c)
                .copied()
                .unwrap_or_else(|| (h.chars().count() as f64 * 2.2).max(10.0));
            ws.set_column_width(col, width).map_err(fail)?;
        }
        ws.set_freeze_panes(1, 0).map_err(fail)?;
        for (r, row) in s.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(t) if !t.is_empty() => {
                        ws.write_string(r, c, t).map_err(fail)?;
                    }
                    Cell::Number(n) if n.is_finite() => {
                        ws.write_number(r, c, *n).map_err(fail)?;
                    }
                    _ => {}
                }
            }
        }
    }
    book.save_to_buffer()
        .map_err(|e| ApiError::internal(format!("xlsx: {e}")))
}

/// A CSV field, quoted when needed; text a spreadsheet program would read
/// as a formula is prefixed with `'`.
pub fn csv_field(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// One sheet as CSV with a byte-order mark (Excel then reads it as UTF-8).
pub fn to_csv(sheet: &Sheet) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    let line = |cells: Vec<String>| cells.join(",") + "\r\n";
    out.push_str(&line(sheet.headers.iter().map(|h| csv_field(h)).collect()));
    for row in &sheet.rows {
        out.push_str(&line(
            row.iter()
                .map(|c| match c {
                    Cell::Text(t) => csv_field(t),
                    Cell::Number(n) => number_text(*n),
                    Cell::Empty => String::new(),
                })
                .collect(),
        ));
    }
    out.into_bytes()
}

/// Reads a whole body up to `limit` bytes (`None` past it).
pub fn read_limited(mut r: impl Read, limit: usize) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    r.by_ref().take(limit as u64 + 1).read_to_end(&mut buf)?;
    Ok((buf.len() <= limit).then_some(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_in_utf8_and_gb18030_with_blank_rows_and_numbers() {
        let t = read(
            Format::Csv,
            "\u{feff}企业名称,电话\n\n甲公司,13800000000\n".as_bytes(),
        )
        .expect("reads");
        assert_eq!(t.headers, ["企业名称", "电话"]);
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.rows[0].number, 3);
        let (gbk, _, _) = encoding_rs::GB18030.encode("企业名称\n乙公司\n");
        let t = read(Format::Csv, &gbk).expect("reads GBK");
        assert_eq!(t.rows[0].cell(0), "乙公司");
        let t = read(
            Format::Csv,
            "名称,描述\n甲,\"两行\n描述\"\n乙,x\n".as_bytes(),
        )
        .expect("reads");
        assert_eq!((t.rows[0].number, t.rows[1].number), (2, 3));
        assert_eq!(number_text(13800000000.0), "13800000000");
        assert_eq!(number_text(2.5), "2.5");
    }

    #[test]
    fn limits_and_garbage() {
        let mut big = String::from("a\n");
        for i in 0..=MAX_ROWS {
            big.push_str(&format!("{i}\n"));
        }
        let e = read(Format::Csv, big.as_bytes()).expect_err("too many rows");
        assert_eq!(e.code, Code::SheetInvalid);
        let e = read(Format::Xlsx, b"PK\x03\x04 not really").expect_err("not a zip");
        assert_eq!(e.code, Code::SheetUnreadable);
        let e = read(Format::Csv, b"").expect_err("empty");
        assert_eq!(e.code, Code::SheetInvalid);
        assert_eq!(
            detect(Some("image/png"), b"").expect_err("415").status,
            Status::UNSUPPORTED_MEDIA_TYPE
        );
    }

    #[test]
    fn xlsx_round_trip_keeps_text_and_numbers() {
        let sheet = Sheet {
            name: "企业".into(),
            headers: vec!["企业名称".into(), "电话".into(), "数量".into()],
            rows: vec![vec!["=甲".into(), "0574-1".into(), Cell::Number(2.5)]],
            widths: Vec::new(),
        };
        let bytes = to_xlsx(std::slice::from_ref(&sheet)).expect("writes");
        let t = read(Format::Xlsx, &bytes).expect("reads back");
        assert_eq!(t.headers, sheet.headers);
        assert_eq!(t.rows[0].cells, ["=甲", "0574-1", "2.5"]);
        let csv = String::from_utf8(to_csv(&sheet)).expect("utf-8");
        assert!(csv.contains("'=甲,0574-1,2.5"), "{csv}");
        let back = read(Format::Csv, csv.as_bytes()).expect("reads CSV");
        assert_eq!(back.rows[0].cell(0), "=甲", "the formula guard is undone");
    }
}
