//! Spreadsheets: community staff import their community's firms and
//! listings from a CSV or .xlsx file, and export listings, firms, cases and
//! statistics as .xlsx or CSV.
//!
//! An import is checked first (a dry run writes nothing and answers each
//! row's result and every problem by row and column, with the columns'
//! Chinese names); the import itself checks the file again, then writes in
//! batches as a job whose progress any node answers. Imports are idempotent
//! on a key column: firms on 统一社会信用代码, listings on 编号 (the
//! community's own numbering: stored as the listing's external key
//! `<community id>:<编号>`, so two communities may use the same numbers).

pub mod columns;
mod export;
mod firms;
mod listings;
pub mod table;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use zhiqilian_matcher::FieldError;

use crate::service::access::Caller;
use crate::service::error::{ApiError, Code};
use crate::service::threads::actor_on;
use crate::store::audit::{self, Actor};
use crate::store::imports::{self, ImportJob, Progress};
use crate::store::{Db, DbConnection, StoreResult, accounts, new_id, now, stream};

pub use export::{ExportQuery, export};
use table::{Format, Table};

/// Rows written per transaction (and between progress updates).
const BATCH: usize = 200;
/// A job that has not moved for this long was cut short (its node stopped);
/// importing the file again finishes it, since imports are idempotent.
const STALE_SECS: i64 = 600;

/// What is imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Firms,
    Listings,
}

impl Kind {
    pub fn parse(s: &str) -> Result<Kind, ApiError> {
        match s {
            "firms" => Ok(Kind::Firms),
            "listings" => Ok(Kind::Listings),
            _ => Err(ApiError::not_found("导入类型")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Firms => "firms",
            Kind::Listings => "listings",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Firms => "企业",
            Kind::Listings => "供需信息",
        }
    }

    /// Groups of columns of which a file needs one.
    fn any_of(self) -> &'static [&'static [&'static str]] {
        match self {
            Kind::Firms => &[],
            Kind::Listings => &[&[firms::USCC, firms::NAME]],
        }
    }

    fn spec(self) -> &'static [columns::Column] {
        match self {
            Kind::Firms => firms::COLUMNS,
            Kind::Listings => listings::COLUMNS,
        }
    }
}

/// The query of an upload.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// Platform admins name the community; staff import into their own.
    pub community_id: Option<String>,
    /// Shown on the job (the console sends the file's name).
    pub file_name: Option<String>,
    /// Import the rows without errors and skip the others (otherwise a file
    /// with any error is refused whole).
    pub skip_invalid: Option<bool>,
}

/// An uploaded file as the HTTP layer hands it over.
#[derive(Debug, Clone)]
pub struct Upload {
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// A problem of one cell (or of the row as a whole: `column` is then the
/// key column).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellError {
    pub row: usize,
    pub column: String,
    pub code: String,
    pub message: String,
}

/// What importing a row would do (`create`, `update`, `unchanged`) or
/// `error`.
#[derive(Debug, Clone, Serialize)]
pub struct RowResult {
    pub row: usize,
    /// The key cell (统一社会信用代码 or 编号) as written.
    pub key: String,
    /// The firm's name or the listing's title.
    pub label: String,
    pub action: &'static str,
    pub errors: Vec<CellError>,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Counts {
    pub create: usize,
    pub update: usize,
    pub unchanged: usize,
    pub error: usize,
}

/// A dry run: every row's result; nothing was written.
#[derive(Debug, Clone, Serialize)]
pub struct DryRun {
    pub kind: &'static str,
    pub format: &'static str,
    pub community_id: String,
    pub header_row: usize,
    pub total_rows: usize,
    pub counts: Counts,
    /// The recognised columns, and the headers no column takes.
    pub columns: Vec<String>,
    pub ignored_columns: Vec<String>,
    pub rows: Vec<RowResult>,
}

/// Checked rows: the results, and what to write for each row that changes
/// something.
pub(crate) struct Checked {
    pub run: DryRun,
    pub writes: Writes,
}

pub(crate) enum Writes {
    Firms(Vec<firms::FirmWrite>),
    Listings(Vec<crate::service::listings::BulkItem>),
}

impl Writes {
    fn len(&self) -> usize {
        match self {
            Writes::Firms(v) => v.len(),
            Writes::Listings(v) => v.len(),
        }
    }
}

/// The community a staff member works on: their own; platform admins name
/// one (which must exist).
async fn community_of(db: &Db, caller: &Caller, asked: Option<String>) -> Result<String, ApiError> {
    if caller.client.is_some() {
        return Err(ApiError::forbidden("表格导入导出只供社区工作人员使用"));
    }
    let id = if let Some(own) = &caller.staff_community {
        if asked.as_ref().is_some_and(|a| a != own) {
            return Err(ApiError::forbidden("只能导入导出本社区的数据"));
        }
        own.clone()
    } else if caller.platform_admin {
        asked.ok_or_else(|| {
            ApiError::field(
                "community_id",
                "required",
                "平台管理员须指定社区（community_id）",
            )
        })?
    } else {
        return Err(ApiError::forbidden("需要社区工作人员或平台管理员权限"));
    };
    let probe = id.clone();
    db.run(move |c| accounts::get_community(c, &probe))
        .await?
        .ok_or_else(|| ApiError::not_found("社区"))?;
    Ok(id)
}

fn row_results(mut rows: Vec<RowResult>) -> (Counts, Vec<RowResult>) {
    rows.sort_by_key(|r| r.row);
    let mut counts = Counts::default();
    for r in &rows {
        match r.action {
            "create" => counts.create += 1,
            "update" => counts.update += 1,
            "unchanged" => counts.unchanged += 1,
            _ => counts.error += 1,
        }
    }
    (counts, rows)
}

/// Reads and checks a file against the community's data.
async fn check(
    db: &Db,
    caller: &Caller,
    kind: Kind,
    community: String,
    upload: Upload,
) -> Result<Checked, ApiError> {
    let format = table::detect(upload.content_type.as_deref(), &upload.bytes)?;
    let bytes = upload.bytes;
    let t: Table = tokio::task::spawn_blocking(move || table::read(format, &bytes))
        .await
        .map_err(ApiError::internal)??;
    let layout = columns::layout(kind.spec(), kind.any_of(), &t.headers)?;
    let (columns, ignored) = (layout.columns(kind.spec()), layout.ignored.clone());
    let staff = caller.user_id.clone();
    let cm = community.clone();
    let (header_row, total_rows) = (t.header_row, t.rows.len());
    let (results, writes) = db
        .run(move |c| match kind {
            Kind::Firms => {
                firms::check(c, &cm, &staff, &layout, &t.rows).map(|(r, w)| (r, Writes::Firms(w)))
            }
            Kind::Listings => listings::check(c, &cm, &staff, &layout, &t.rows)
                .map(|(r, w)| (r, Writes::Listings(w))),
        })
        .await?;
    let (counts, rows) = row_results(results);
    Ok(Checked {
        run: DryRun {
            kind: kind.as_str(),
            format: format.as_str(),
            community_id: community,
            header_row,
            total_rows,
            counts,
            columns,
            ignored_columns: ignored,
            rows,
        },
        writes,
    })
}

/// Checks a file and answers each row's result; writes nothing.
pub async fn dry_run(
    db: &Db,
    caller: &Caller,
    kind: String,
    q: UploadQuery,
    upload: Upload,
) -> Result<DryRun, ApiError> {
    let kind = Kind::parse(&kind)?;
    let community = community_of(db, caller, q.community_id).await?;
    Ok(check(db, caller, kind, community, upload).await?.run)
}

/// An import job as answered.
#[derive(Debug, Clone, Serialize)]
pub struct JobOut {
    pub id: String,
    pub kind: String,
    pub community_id: String,
    /// `running`, `done`, `failed`, or `interrupted` (its node stopped:
    /// import the file again to finish it).
    pub status: String,
    pub file_name: String,
    pub total_rows: i32,
    pub processed_rows: i32,
    /// `processed_rows / total_rows` (1 for an empty file).
    pub progress: f64,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub failed: i32,
    pub errors: Vec<CellError>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

fn job_out(j: ImportJob, at: NaiveDateTime) -> JobOut {
    let status = if j.status == "running" && (at - j.updated_at).num_seconds() > STALE_SECS {
        "interrupted".to_string()
    } else {
        j.status
    };
    JobOut {
        progress: if j.total_rows == 0 {
            1.0
        } else {
            f64::from(j.processed_rows) / f64::from(j.total_rows)
        },
        errors: serde_json::from_str(&j.errors).unwrap_or_default(),
        id: j.id,
        kind: j.kind,
        community_id: j.community_id,
        status,
        file_name: j.file_name,
        total_rows: j.total_rows,
        processed_rows: j.processed_rows,
        created: j.created,
        updated: j.updated,
        unchanged: j.unchanged,
        failed: j.failed,
        created_at: j.created_at.and_utc(),
        updated_at: j.updated_at.and_utc(),
        finished_at: j.finished_at.map(|t| t.and_utc()),
    }
}

/// The codes a row error may carry, as the field errors of a problem
/// spell them.
const ROW_CODES: &[&str] = &[
    "required",
    "too_short",
    "too_long",
    "invalid_value",
    "invalid_format",
    "invalid_type",
    "out_of_range",
    "control_character",
    "invalid_uscc",
    "duplicate_key",
    "unknown_firm",
    "ambiguous_firm",
    "firm_mismatch",
    "immutable",
    "taken",
    "pending_claim",
    "not_editable",
    "requests_only",
    "not_for_emergency",
    "unknown_key",
    "write_failed",
];

fn static_code(code: &str) -> &'static str {
    ROW_CODES
        .iter()
        .find(|c| **c == code)
        .copied()
        .unwrap_or("invalid_value")
}

/// The 422 of an import refused because rows have errors.
fn has_errors(run: &DryRun) -> ApiError {
    let errors: Vec<FieldError> = run
        .rows
        .iter()
        .flat_map(|r| r.errors.iter())
        .map(|e| {
            FieldError::new(
                format!("rows.{}.{}", e.row, e.column),
                static_code(&e.code),
                e.message.clone(),
            )
        })
        .collect();
    let mut e = ApiError::validation(errors);
    e.code = Code::ImportHasErrors;
    e.detail = Some(format!(
        "有 {} 行存在错误，未导入任何数据：请修改后重新上传，或选择只导入无误的行（skip_invalid=true）",
        run.counts.error
    ));
    e
}

fn file_name(q: &UploadQuery) -> Result<String, ApiError> {
    let mut e = crate::service::validate::Errors::default();
    let name = e.text("file_name", q.file_name.as_deref().unwrap_or(""), 0, 200);
    e.into_result().map_err(ApiError::validation)?;
    Ok(name)
}

/// Checks a file and starts writing it as a job (the rows with errors are
/// skipped when `skip_invalid`, else the whole file is refused). Answers the
/// job as it starts; `job` reports its progress.
pub async fn start_import(
    db: &Db,
    caller: &Caller,
    kind: String,
    q: UploadQuery,
    upload: Upload,
) -> Result<JobOut, ApiError> {
    let kind = Kind::parse(&kind)?;
    let name = file_name(&q)?;
    let community = community_of(db, caller, q.community_id.clone()).await?;
    let checked = check(db, caller, kind, community.clone(), upload).await?;
    if checked.run.counts.error > 0 && !q.skip_invalid.unwrap_or(false) {
        return Err(has_errors(&checked.run));
    }
    let at = now();
    let skipped: Vec<CellError> = checked
        .run
        .rows
        .iter()
        .flat_map(|r| r.errors.iter().cloned())
        .collect();
    let c = checked.run.counts;
    let job = ImportJob {
        id: new_id(),
        community_id: community,
        kind: kind.as_str().into(),
        status: "running".into(),
        file_name: name,
        total_rows: checked.run.total_rows as i32,
        processed_rows: (c.unchanged + c.error) as i32,
        created: 0,
        updated: 0,
        unchanged: c.unchanged as i32,
        failed: c.error as i32,
        errors: serde_json::to_string(&skipped).map_err(ApiError::internal)?,
        created_by: caller.user_id.clone(),
        created_at: at,
        updated_at: at,
        finished_at: None,
    };
    let row = job.clone();
    db.run(move |c| imports::insert(c, &row)).await?;
    let actor = actor_on(db, caller).await?;
    let (db2, id) = (db.clone(), job.id.clone());
    let writes = checked.writes;
    let started = job.clone();
    tokio::spawn(async move {
        let r = db2
            .run(move |c| {
                run_job(c, started, writes, &actor);
                Ok(())
            })
            .await;
        if let Err(e) = r {
            tracing::error!(error = %e, job = %id, "import job could not run");
            let _ = db2
                .run(move |c| imports::record(c, &id, Progress::default(), "[]", Some("failed")))
                .await;
        }
    });
    Ok(job_out(job, at))
}

/// Writes a job's rows batch by batch, recording progress after each, then
/// the audit entry and the notifications. Blocking (on the pool's thread).
fn run_job(c: &mut DbConnection, job: ImportJob, writes: Writes, actor: &Actor) {
    let mut p = Progress {
        processed_rows: job.processed_rows,
        created: 0,
        updated: 0,
        unchanged: job.unchanged,
        failed: job.failed,
    };
    let mut errors: Vec<CellError> = serde_json::from_str(&job.errors).unwrap_or_default();
    let total = writes.len();
    let firms_touched = match writes {
        Writes::Firms(items) => {
            for batch in items.chunks(BATCH) {
                firms::write(c, batch, &mut p, &mut errors);
                progress(c, &job.id, p, &errors);
            }
            Vec::new()
        }
        Writes::Listings(items) => {
            let mut touched = Vec::new();
            for batch in items.chunks(BATCH) {
                listings::write(c, batch, &mut p, &mut errors, &mut touched);
                progress(c, &job.id, p, &errors);
            }
            touched
        }
    };
    errors.sort_by_key(|e| e.row);
    let json = serde_json::to_string(&errors).unwrap_or_else(|_| "[]".into());
    let done = finish(c, &job, actor, p, total, &firms_touched);
    let status = if done.is_ok() { "done" } else { "failed" };
    if let Err(e) = &done {
        tracing::error!(error = %e, job = %job.id, "import job could not finish");
    }
    if let Err(e) = imports::record(c, &job.id, p, &json, Some(status)) {
        tracing::error!(error = %e, job = %job.id, "import job progress not recorded");
    }
}

fn progress(c: &mut DbConnection, id: &str, p: Progress, errors: &[CellError]) {
    let json = serde_json::to_string(errors).unwrap_or_else(|_| "[]".into());
    if let Err(e) = imports::record(c, id, p, &json, None) {
        tracing::warn!(error = %e, job = %id, "import progress not recorded");
    }
}

/// The audit entry of a finished import and, for listings, one
/// notification to the admins of each firm whose listings it wrote.
fn finish(
    c: &mut DbConnection,
    job: &ImportJob,
    actor: &Actor,
    p: Progress,
    written: usize,
    firms: &[(String, usize)],
) -> StoreResult<()> {
    use crate::store::notifications::{self, NewNotification};
    stream::write(c, |c| {
        audit::record(
            c,
            actor,
            &job.community_id,
            &format!("import.{}", job.kind),
            None,
            ("import_job", &job.id),
            serde_json::json!({
                "file_name": job.file_name, "rows": job.total_rows, "written": written,
                "created": p.created, "updated": p.updated, "unchanged": p.unchanged,
                "failed": p.failed,
            }),
        )?;
        let mut live = Vec::new();
        for (firm_id, n) in firms {
            let admins = notifications::firm_admins(c, firm_id)?;
            live.extend(notifications::notify(
                c,
                &admins,
                &NewNotification {
                    kind: "listing.staff_action",
                    title: format!("社区工作人员{}为贵企业导入了供需信息", actor.name),
                    body: format!("新增或更新 {n} 条，企业管理员可接管或关闭"),
                    subject_type: "firm",
                    subject_id: firm_id.clone(),
                    thread_id: None,
                    group_key: None,
                },
            )?);
        }
        Ok(((), live))
    })
}

/// An import job, for staff of its community (and platform admins).
pub async fn job(db: &Db, caller: &Caller, id: String) -> Result<JobOut, ApiError> {
    let j = db
        .run(move |c| imports::get(c, &id))
        .await?
        .filter(|j| caller.can_administer_community(&j.community_id) && caller.client.is_none())
        .ok_or_else(|| ApiError::not_found("导入任务"))?;
    Ok(job_out(j, now()))
}

/// A file to download: its bytes, media type and name.
#[derive(Debug, Clone)]
pub struct FileOut {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub file_name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateQuery {
    pub format: Option<String>,
}

/// The import template of a kind: the header row (and, in .xlsx, a second
/// sheet with what goes in each column).
pub fn template(caller: &Caller, kind: String, q: TemplateQuery) -> Result<FileOut, ApiError> {
    if caller.client.is_some() || (caller.staff_community.is_none() && !caller.platform_admin) {
        return Err(ApiError::forbidden("需要社区工作人员或平台管理员权限"));
    }
    let kind = Kind::parse(&kind)?;
    let format = Format::parse("format", q.format.as_deref(), Format::Xlsx)?;
    let spec = kind.spec();
    let main = table::Sheet {
        name: kind.label().into(),
        headers: spec
            .iter()
            .map(|c| {
                if c.required {
                    format!("{}*", c.header)
                } else {
                    c.header.to_string()
                }
            })
            .collect(),
        rows: Vec::new(),
        widths: Vec::new(),
    };
    let bytes = match format {
        Format::Csv => table::to_csv(&main),
        Format::Xlsx => {
            let notes = table::Sheet {
                name: "填写说明".into(),
                headers: vec![
                    "列名".into(),
                    "必填".into(),
                    "也可写作".into(),
                    "说明".into(),
                ],
                rows: spec
                    .iter()
                    .map(|c| {
                        vec![
                            c.header.into(),
                            if c.required { "是" } else { "" }.into(),
                            c.aliases.join("、").into(),
                            c.note.into(),
                        ]
                    })
                    .collect(),
                widths: vec![18.0, 6.0, 30.0, 80.0],
            };
            table::to_xlsx(&[main, notes])?
        }
    };
    Ok(FileOut {
        bytes,
        content_type: format.content_type(),
        file_name: format!("{}导入模板.{}", kind.label(), format.as_str()),
    })
}

/// An HTTP status for an upload that is too large (the HTTP layer reads the
/// body up to [`table::MAX_BYTES`]).
pub fn too_large() -> ApiError {
    table::too_large()
}
