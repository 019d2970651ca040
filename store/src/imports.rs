//! Spreadsheet import jobs: one row per import of a community's firms or
//! listings, with its progress and row errors (JSON). Table work only; the
//! rules are the service's (`service::sheets`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::import_jobs;
use super::{DbConnection, StoreResult, now};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = import_jobs)]
pub struct ImportJob {
    pub id: String,
    pub community_id: String,
    /// `firms` or `listings`.
    pub kind: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    pub file_name: String,
    pub total_rows: i32,
    pub processed_rows: i32,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub failed: i32,
    /// JSON array of the rows' errors.
    pub errors: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

/// Progress so far, written after every batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub processed_rows: i32,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub failed: i32,
}

pub fn insert(conn: &mut DbConnection, job: &ImportJob) -> StoreResult<()> {
    diesel::insert_into(import_jobs::table)
        .values(job)
        .execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, id: &str) -> StoreResult<Option<ImportJob>> {
    Ok(import_jobs::table
        .find(id)
        .select(ImportJob::as_select())
        .first(conn)
        .optional()?)
}

/// Records progress (and, when `finished` names the final status, the end).
pub fn record(
    conn: &mut DbConnection,
    id: &str,
    p: Progress,
    errors: &str,
    finished: Option<&str>,
) -> StoreResult<()> {
    let t = now();
    let target = import_jobs::table.find(id);
    let set = (
        import_jobs::processed_rows.eq(p.processed_rows),
        import_jobs::created.eq(p.created),
        import_jobs::updated.eq(p.updated),
        import_jobs::unchanged.eq(p.unchanged),
        import_jobs::failed.eq(p.failed),
        import_jobs::errors.eq(errors),
        import_jobs::updated_at.eq(t),
    );
    match finished {
        Some(status) => diesel::update(target)
            .set((
                set,
                import_jobs::status.eq(status),
                import_jobs::finished_at.eq(Some(t)),
            ))
            .execute(conn)?,
        None => diesel::update(target).set(set).execute(conn)?,
    };
    Ok(())
}
