//! `zhiqilian import FILE.jsonl`: loads listings in the evaluation
//! format, creating the communities and firms they name. Idempotent on each
//! line's `key`; every bad line is reported with its number and field, and
//! never stops the good ones.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;
use serde_json::Value;
use zhiqilian_matcher::{FieldError, Uscc};

use crate::service::listing_form::{self, ListingInput};
use crate::service::listings::{BulkItem, BulkOutcome, write_bulk};
use crate::store::accounts::{self, NewCommunity, NewFirm};
use crate::store::models::Firm;
use crate::store::{Db, DbConnection, StoreResult, now};

/// Lines written per transaction: large enough to amortise the commit's
/// fsync, small enough that a failing batch is cheap to retry line by line.
const BATCH: usize = 500;

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Mark firms created by the import as verified (operator-curated data).
    pub verify_firms: bool,
    pub progress: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LineError {
    pub line: usize,
    pub field: String,
    pub message: String,
}

impl From<diesel::result::Error> for LineError {
    fn from(e: diesel::result::Error) -> LineError {
        err(0, "database", e.to_string())
    }
}

#[derive(Debug, Default, Clone)]
pub struct ImportReport {
    pub lines: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub communities_created: usize,
    pub firms_created: usize,
    pub errors: Vec<LineError>,
}

impl ImportReport {
    pub fn failed_lines(&self) -> usize {
        let mut lines: Vec<usize> = self.errors.iter().map(|e| e.line).collect();
        lines.dedup();
        lines.len()
    }
}

#[derive(Debug, Deserialize)]
struct FirmLine {
    name: String,
    uscc: String,
}

fn err(line: usize, field: &str, message: impl Into<String>) -> LineError {
    LineError {
        line,
        field: field.to_string(),
        message: message.into(),
    }
}

fn field_errors(line: usize, errs: Vec<FieldError>) -> Vec<LineError> {
    errs.into_iter()
        .map(|e| err(line, &e.field, e.message))
        .collect()
}

struct Importer<'a> {
    conn: &'a mut DbConnection,
    opts: ImportOptions,
    communities: HashMap<String, String>,
    firms: HashMap<String, Firm>,
    report: ImportReport,
}

impl Importer<'_> {
    fn community_id(&mut self, name: &str) -> StoreResult<String> {
        if let Some(id) = self.communities.get(name) {
            return Ok(id.clone());
        }
        let id = match accounts::community_by_name(self.conn, name)? {
            Some(c) => c.id,
            None => {
                self.report.communities_created += 1;
                accounts::create_community(
                    self.conn,
                    NewCommunity {
                        name: name.to_string(),
                        district: String::new(),
                        lat: None,
                        lon: None,
                    },
                )?
                .id
            }
        };
        self.communities.insert(name.to_string(), id.clone());
        Ok(id)
    }

    fn firm(
        &mut self,
        f: &FirmLine,
        uscc: &str,
        community: &str,
        loc: &Value,
    ) -> StoreResult<Firm> {
        if let Some(firm) = self.firms.get(uscc) {
            return Ok(firm.clone());
        }
        let firm = match accounts::firm_by_uscc(self.conn, uscc)? {
            Some(firm) => firm,
            None => {
                let community_id = self.community_id(community)?;
                self.report.firms_created += 1;
                accounts::create_firm(
                    self.conn,
                    firm_at(
                        loc,
                        f.name.trim(),
                        uscc,
                        community_id,
                        self.opts.verify_firms,
                    ),
                )?
            }
        };
        self.firms.insert(uscc.to_string(), firm.clone());
        Ok(firm)
    }

    /// Parses and checks one line; database work only for its firm and
    /// community, which later lines reuse.
    fn prepare(&mut self, line: usize, text: &str) -> Result<BulkItem, Vec<LineError>> {
        let mut obj = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(vec![err(line, "line", "每行须为一个 JSON 对象")]),
            Err(e) => return Err(vec![err(line, "line", format!("JSON 无法解析：{e}"))]),
        };
        let mut errors = Vec::new();
        let key = match obj.remove("key") {
            Some(Value::String(k)) if !k.trim().is_empty() && k.len() <= 64 => {
                Some(k.trim().to_string())
            }
            Some(_) => {
                errors.push(err(line, "key", "key 须为 1–64 字节的字符串"));
                None
            }
            None => {
                errors.push(err(line, "key", "缺少 key"));
                None
            }
        };
        let community = match obj.remove("community") {
            Some(Value::String(c)) if !c.trim().is_empty() && c.chars().count() <= 64 => {
                Some(c.trim().to_string())
            }
            _ => {
                errors.push(err(line, "community", "community 须为社区名称"));
                None
            }
        };
        let firm_line = match obj
            .remove("firm")
            .map(serde_path_to_error::deserialize::<_, FirmLine>)
        {
            Some(Ok(f)) => Some(f),
            Some(Err(e)) => {
                errors.push(err(
                    line,
                    &format!("firm.{}", e.path()),
                    e.inner().to_string(),
                ));
                None
            }
            None => {
                errors.push(err(line, "firm", "缺少 firm"));
                None
            }
        };
        let uscc = firm_line.as_ref().and_then(|f| match Uscc::parse(&f.uscc) {
            Ok(u) => Some(u.as_str().to_string()),
            Err(e) => {
                errors.push(err(line, "firm.uscc", format!("统一社会信用代码无效：{e}")));
                None
            }
        });
        if let Some(f) = &firm_line {
            let n = f.name.trim().chars().count();
            if !(2..=100).contains(&n) {
                errors.push(err(line, "firm.name", "企业名称须为 2–100 个字符"));
            }
        }
        let loc = obj.get("location").cloned().unwrap_or(Value::Null);
        let input = match serde_path_to_error::deserialize::<_, ListingInput>(Value::Object(obj)) {
            Ok(i) => Some(i),
            Err(e) => {
                let path = e.path().to_string();
                let msg = e.inner().to_string();
                let field = if path == "." {
                    msg.split('`').nth(1).unwrap_or("line").to_string()
                } else {
                    path
                };
                errors.push(err(line, &field, msg));
                None
            }
        };
        // Check the listing itself before touching the database, against a
        // provisional firm at the line's location, so every problem of a bad
        // line is reported and a bad line creates no firm.
        let mut draft = None;
        if let Some(input) = &input {
            match listing_form::validate(input, &provisional_firm(&loc), now()) {
                Ok(d) => draft = Some(d),
                Err(errs) => errors.extend(field_errors(line, errs)),
            }
        }
        let (
            Some(key),
            Some(community),
            Some(firm_line),
            Some(uscc),
            Some(input),
            Some(draft),
            true,
        ) = (
            key,
            community,
            firm_line,
            uscc,
            input,
            draft,
            errors.is_empty(),
        )
        else {
            return Err(errors);
        };
        let firm = self
            .firm(&firm_line, &uscc, &community, &loc)
            .map_err(|e| vec![err(line, "firm", format!("写入企业失败：{e}"))])?;
        // Without a location of its own the listing takes its firm's, which
        // may differ from this line's when the firm was created earlier.
        let draft = if input.location.is_none() {
            listing_form::validate(&input, &firm, now()).map_err(|e| field_errors(line, e))?
        } else {
            draft
        };
        Ok(BulkItem {
            row: line,
            key,
            firm,
            draft,
            posted_by_staff: None,
        })
    }
}

/// A firm at the line's location (firms take their address and coordinates
/// from the first listing that names them).
fn firm_at(loc: &Value, name: &str, uscc: &str, community_id: String, verified: bool) -> NewFirm {
    NewFirm {
        name: name.to_string(),
        uscc: uscc.to_string(),
        community_id,
        address: loc
            .get("address")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        lat: loc.get("lat").and_then(Value::as_f64),
        lon: loc.get("lon").and_then(Value::as_f64),
        contact_name: String::new(),
        contact_phone: String::new(),
        verified,
    }
}

fn provisional_firm(loc: &Value) -> Firm {
    accounts::firm_row(firm_at(loc, "", "", String::new(), false))
}

fn tally(report: &mut ImportReport, o: BulkOutcome) {
    match o {
        BulkOutcome::Created => report.created += 1,
        BulkOutcome::Updated => report.updated += 1,
        BulkOutcome::Unchanged => report.unchanged += 1,
    }
}

/// Writes a batch through the shared bulk writer (one transaction, or line
/// by line when that fails).
fn flush(imp: &mut Importer<'_>, batch: &mut Vec<BulkItem>) {
    for r in write_bulk(imp.conn, batch) {
        match r {
            Ok(o) => tally(&mut imp.report, o),
            Err(e) => {
                let field = if e.field == "database" {
                    "key"
                } else {
                    e.field
                };
                imp.report.errors.push(err(e.row, field, e.message));
            }
        }
    }
    batch.clear();
}

/// Imports a JSONL file through `db`; blocking (call from a blocking thread).
pub fn import_file(db: &Db, path: &Path, opts: ImportOptions) -> anyhow::Result<ImportReport> {
    let total = {
        let f =
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        BufReader::new(f).lines().count() as u64
    };
    let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let bar = if opts.progress {
        let b = ProgressBar::new(total);
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} 导入 [{bar:40}] {pos}/{len} 行 {per_sec} 预计剩余 {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b
    } else {
        ProgressBar::hidden()
    };

    let mut conn = db.conn()?;
    if let DbConnection::Sqlite(c) = &mut *conn {
        // A bulk import is re-runnable (idempotent on `key`), so it need not
        // fsync every batch; one checkpoint at the end makes it durable.
        diesel::connection::SimpleConnection::batch_execute(c, "PRAGMA synchronous = NORMAL")?;
    }
    let mut imp = Importer {
        conn: &mut conn,
        opts,
        communities: HashMap::new(),
        firms: HashMap::new(),
        report: ImportReport::default(),
    };
    let mut batch = Vec::with_capacity(BATCH);
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let n = i + 1;
        bar.inc(1);
        let text = match line {
            Ok(t) => t,
            Err(e) => {
                imp.report.lines = n;
                imp.report
                    .errors
                    .push(err(n, "line", format!("无法读取（非 UTF-8？）：{e}")));
                continue;
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        imp.report.lines += 1;
        match imp.prepare(n, &text) {
            Ok(p) => batch.push(p),
            Err(errs) => imp.report.errors.extend(errs),
        }
        if batch.len() >= BATCH {
            flush(&mut imp, &mut batch);
        }
    }
    flush(&mut imp, &mut batch);
    let mut report = imp.report;
    if let DbConnection::Sqlite(c) = &mut *conn {
        diesel::connection::SimpleConnection::batch_execute(
            c,
            "PRAGMA wal_checkpoint(FULL); PRAGMA synchronous = FULL",
        )?;
    }
    bar.finish_and_clear();
    report.errors.sort_by_key(|e| e.line);
    Ok(report)
}
