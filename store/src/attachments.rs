//! Attachments: the rows that describe files kept in the object store
//! (photos and PDFs on listings, quotes, messages, agreements and firms).
//! The bytes are the service's (`service::attachments`); this module keeps
//! the table and finds rows whose parent is gone.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{agreements, attachments, firms, listings, messages, quotes};
use super::{DbConnection, StoreResult};

/// What an attachment belongs to.
pub const PARENT_TYPES: &[&str] = &["listing", "quote", "message", "agreement", "firm"];

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = attachments)]
pub struct Attachment {
    pub id: String,
    pub parent_type: String,
    pub parent_id: String,
    /// The firm the uploader acted for (none for staff).
    pub firm_id: Option<String>,
    pub uploaded_by: String,
    pub filename: String,
    pub content_type: String,
    pub byte_size: i64,
    pub sha256: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub has_thumbnail: bool,
    pub created_at: NaiveDateTime,
}

pub fn insert(c: &mut DbConnection, a: &Attachment) -> StoreResult<()> {
    diesel::insert_into(attachments::table)
        .values(a)
        .execute(c)?;
    Ok(())
}

pub fn get(c: &mut DbConnection, id: &str) -> StoreResult<Option<Attachment>> {
    Ok(attachments::table
        .find(id)
        .select(Attachment::as_select())
        .first(c)
        .optional()?)
}

/// The attachments of one parent, oldest first.
pub fn of_parent(
    c: &mut DbConnection,
    parent_type: &str,
    parent_id: &str,
) -> StoreResult<Vec<Attachment>> {
    Ok(attachments::table
        .filter(attachments::parent_type.eq(parent_type))
        .filter(attachments::parent_id.eq(parent_id))
        .order(attachments::id.asc())
        .select(Attachment::as_select())
        .load(c)?)
}

pub fn count_of_parent(
    c: &mut DbConnection,
    parent_type: &str,
    parent_id: &str,
) -> StoreResult<i64> {
    Ok(attachments::table
        .filter(attachments::parent_type.eq(parent_type))
        .filter(attachments::parent_id.eq(parent_id))
        .count()
        .get_result(c)?)
}

/// Deletes the row; false when it was already gone.
pub fn delete(c: &mut DbConnection, id: &str) -> StoreResult<bool> {
    Ok(diesel::delete(attachments::table.find(id)).execute(c)? == 1)
}

/// Which of `ids` have a row.
pub fn existing(c: &mut DbConnection, ids: &[String]) -> StoreResult<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(attachments::table
        .filter(attachments::id.eq_any(ids))
        .select(attachments::id)
        .load(c)?)
}

/// Attachments whose parent row no longer exists (at most `limit`).
pub fn orphaned(c: &mut DbConnection, limit: i64) -> StoreResult<Vec<Attachment>> {
    let of = |t: &'static str| attachments::parent_type.eq(t);
    let pid = attachments::parent_id;
    Ok(attachments::table
        .filter(
            (of("listing").and(pid.ne_all(listings::table.select(listings::id))))
                .or(of("quote").and(pid.ne_all(quotes::table.select(quotes::id))))
                .or(of("message").and(pid.ne_all(messages::table.select(messages::id))))
                .or(of("agreement").and(pid.ne_all(agreements::table.select(agreements::id))))
                .or(of("firm").and(pid.ne_all(firms::table.select(firms::id)))),
        )
        .order(attachments::id.asc())
        .limit(limit)
        .select(Attachment::as_select())
        .load(c)?)
}
