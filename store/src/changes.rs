//! The ordered listing change log that every node's indexer tails.
//!
//! A change row is appended in the same transaction as the listing write.
//! On PostgreSQL an identity value is drawn before commit, so two
//! transactions could commit their sequence numbers out of order and a
//! tailer that has read seq 6 would never see 5. Appends therefore take a
//! transaction-scoped advisory lock: the change row is the last statement of
//! every listing write, so the lock is held only from there to the commit.

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::schema::listing_changes;
use super::{DbConnection, StoreResult, now};

const CHANGE_LOG_LOCK: i64 = 7_268_041_912;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOp {
    Upsert,
    Delete,
}

impl ChangeOp {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeOp::Upsert => "upsert",
            ChangeOp::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = listing_changes)]
pub struct Change {
    pub seq: i64,
    pub listing_id: String,
    pub op: String,
    pub created_at: chrono::NaiveDateTime,
}

/// Appends one change; call it as the last statement of a write transaction.
pub fn append(conn: &mut DbConnection, listing_id: &str, op: ChangeOp) -> StoreResult<i64> {
    let row = (
        listing_changes::listing_id.eq(listing_id),
        listing_changes::op.eq(op.as_str()),
        listing_changes::created_at.eq(now()),
    );
    let seq = match conn {
        DbConnection::Postgresql(c) => {
            diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
                .bind::<BigInt, _>(CHANGE_LOG_LOCK)
                .execute(c)?;
            diesel::insert_into(listing_changes::table)
                .values(row)
                .returning(listing_changes::seq)
                .get_result(c)?
        }
        DbConnection::Sqlite(c) => diesel::insert_into(listing_changes::table)
            .values(row)
            .returning(listing_changes::seq)
            .get_result(c)?,
    };
    Ok(seq)
}

/// Changes after `after_seq`, oldest first.
pub fn since(conn: &mut DbConnection, after_seq: i64, limit: i64) -> StoreResult<Vec<Change>> {
    Ok(listing_changes::table
        .filter(listing_changes::seq.gt(after_seq))
        .order(listing_changes::seq.asc())
        .limit(limit)
        .select(Change::as_select())
        .load(conn)?)
}

/// The newest sequence number, 0 when the log is empty.
pub fn head(conn: &mut DbConnection) -> StoreResult<i64> {
    let max: Option<i64> = listing_changes::table
        .select(diesel::dsl::max(listing_changes::seq))
        .first(conn)?;
    Ok(max.unwrap_or(0))
}

/// Appends one change per listing; call it last in a write transaction.
pub fn append_many(
    conn: &mut DbConnection,
    listing_ids: &[String],
    op: ChangeOp,
) -> StoreResult<()> {
    let at = now();
    let rows: Vec<_> = listing_ids
        .iter()
        .map(|id| {
            (
                listing_changes::listing_id.eq(id.as_str()),
                listing_changes::op.eq(op.as_str()),
                listing_changes::created_at.eq(at),
            )
        })
        .collect();
    match conn {
        DbConnection::Postgresql(c) => {
            diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
                .bind::<BigInt, _>(CHANGE_LOG_LOCK)
                .execute(c)?;
            for chunk in rows.chunks(1_000) {
                diesel::insert_into(listing_changes::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
        DbConnection::Sqlite(c) => {
            for chunk in rows.chunks(1_000) {
                diesel::insert_into(listing_changes::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}
