//! Listings: every write changes the row and appends to the change log in
//! one transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use zhiqilian_matcher::{ListingStatus, Visibility};

use super::changes::{self, ChangeOp};
use super::models::Listing;
use super::schema::{communities, firms, listings};
use super::stream::{self, NewEvent};
use super::{DbConnection, StoreError, StoreResult};

/// Who is looking: decides which listings are visible.
#[derive(Debug, Clone)]
pub enum Viewer {
    /// Platform admins see everything.
    Admin,
    /// Community staff see everything in their community, and what is
    /// public elsewhere.
    Staff { community_id: String },
    /// Firm members see their own firm's listings, public listings of
    /// verified firms, and community-only listings of verified firms in
    /// their own community.
    Member {
        firm_id: String,
        community_id: String,
    },
    /// A signed-in user with no firm or staff role sees public listings.
    Guest,
}

/// A listing with the names a client shows next to it.
#[derive(Debug, Clone)]
pub struct ListingView {
    pub listing: Listing,
    pub firm_name: String,
    pub firm_verified: bool,
    pub community_name: String,
}

type ViewRow = (Listing, String, bool, String);

/// Listings joined with the firm and community names a view shows.
macro_rules! joined_views {
    () => {
        listings::table
            .inner_join(firms::table)
            .inner_join(communities::table)
            .select((
                Listing::as_select(),
                firms::name,
                // A suspended firm counts as unverified: its listings
                // leave others' view (and the index's) until it is lifted.
                firms::verified.and(firms::suspended_at.is_null()),
                communities::name,
            ))
    };
}

/// Listings others may see at all: of a verified firm that is not
/// suspended, and not hidden by moderation.
macro_rules! shown {
    () => {
        firms::verified
            .eq(true)
            .and(firms::suspended_at.is_null())
            .and(listings::hidden_at.is_null())
    };
}

fn to_view((listing, firm_name, firm_verified, community_name): ViewRow) -> ListingView {
    ListingView {
        listing,
        firm_name,
        firm_verified,
        community_name,
    }
}

/// Whether `viewer` may see `v` (the same rule `list` applies in SQL).
pub fn visible_to(v: &ListingView, viewer: &Viewer) -> bool {
    let l = &v.listing;
    let public_ok = v.firm_verified
        && l.hidden_at.is_none()
        && (l.visibility == Visibility::Public
            || matches!(viewer, Viewer::Member { community_id, .. } if *community_id == l.community_id));
    match viewer {
        Viewer::Admin => true,
        Viewer::Staff { community_id } => *community_id == l.community_id || public_ok,
        Viewer::Member { firm_id, .. } => *firm_id == l.firm_id || public_ok,
        Viewer::Guest => public_ok,
    }
}

/// Inside a transaction: inserts a listing with its change-log row; returns
/// the change's position and the `listing.created` event to append.
pub fn insert(conn: &mut DbConnection, row: &Listing) -> StoreResult<(i64, Vec<NewEvent>)> {
    {
        diesel::insert_into(listings::table)
            .values(row)
            .execute(conn)
            .map_err(|e| StoreError::unique_as_conflict(e, "listing key"))?;
        let seq = changes::append(conn, &row.id, ChangeOp::Upsert)?;
        let live = vec![listing_event(
            "listing.created",
            &row.firm_id,
            &row.community_id,
            serde_json::json!({
                "id": row.id,
                "firm_id": row.firm_id,
                "community_id": row.community_id,
                "side": row.side,
                "kind": row.kind,
                "title": row.title,
                "urgency": row.urgency,
                "visibility": row.visibility,
            }),
        )];
        Ok((seq, live))
    }
}

/// `listing.created` / `listing.closed` for the listing's firm and its
/// community's staff (live streams and webhooks).
fn listing_event(
    event_type: &'static str,
    firm_id: &str,
    community_id: &str,
    payload: serde_json::Value,
) -> NewEvent {
    NewEvent {
        event_type,
        audience: vec![stream::firm(firm_id), stream::community(community_id)],
        payload,
    }
}

/// Replaces a listing if it still has `expected_version` (optimistic
/// concurrency: two editors cannot silently overwrite each other). Inside a
/// transaction; returns the change's position.
pub fn update(conn: &mut DbConnection, row: &Listing, expected_version: i32) -> StoreResult<i64> {
    {
        let n = diesel::update(
            listings::table
                .find(&row.id)
                .filter(listings::version.eq(expected_version)),
        )
        .set(row)
        .execute(conn)?;
        if n == 0 {
            return Err(StoreError::Conflict(
                "listing was changed concurrently".into(),
            ));
        }
        changes::append(conn, &row.id, ChangeOp::Upsert)
    }
}

/// Closes an open listing; `Ok(None)` when it was already closed.
pub fn close(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> StoreResult<Option<i64>> {
    let closed = conn.transaction::<_, StoreError, _>(|conn| {
        let n = diesel::update(listings::table.find(id).filter(listings::status.eq(ListingStatus::Open)))
            .set((
                listings::status.eq(ListingStatus::Closed),
                listings::closed_at.eq(Some(at)),
                listings::updated_at.eq(at),
                listings::version.eq(listings::version + 1),
            ))
            .execute(conn)?;
        if n == 0 {
            return Ok(None);
        }
        let (firm_id, community_id, title): (String, String, String) = listings::table
            .find(id)
            .select((listings::firm_id, listings::community_id, listings::title))
            .first(conn)?;
        let seq = changes::append(conn, id, ChangeOp::Upsert)?;
        let event = listing_event(
            "listing.closed",
            &firm_id,
            &community_id,
            serde_json::json!({
                "id": id,
                "firm_id": firm_id,
                "community_id": community_id,
                "title": title,
                "closed_at": chrono::DateTime::<chrono::Utc>::from_naive_utc_and_offset(at, chrono::Utc),
            }),
        );
        stream::append(conn, &[event])?;
        Ok(Some(seq))
    })?;
    if closed.is_some() {
        stream::committed();
    }
    Ok(closed)
}

pub fn get(conn: &mut DbConnection, id: &str) -> StoreResult<Option<ListingView>> {
    Ok(joined_views!()
        .filter(listings::id.eq(id))
        .first::<ViewRow>(conn)
        .optional()?
        .map(to_view))
}

pub fn get_row(conn: &mut DbConnection, id: &str) -> StoreResult<Option<Listing>> {
    Ok(listings::table
        .find(id)
        .select(Listing::as_select())
        .first(conn)
        .optional()?)
}

pub fn by_ext_key(conn: &mut DbConnection, key: &str) -> StoreResult<Option<Listing>> {
    Ok(listings::table
        .filter(listings::ext_key.eq(key))
        .select(Listing::as_select())
        .first(conn)
        .optional()?)
}

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only the viewer's own firm's listings.
    pub firm_id: Option<String>,
    pub side: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub community_id: Option<String>,
    pub before_id: Option<String>,
    pub limit: i64,
}

/// Listings visible to `viewer`, newest first (UUIDv7 ids are time-ordered),
/// paged by id.
pub fn list(
    conn: &mut DbConnection,
    viewer: &Viewer,
    f: &ListFilter,
) -> StoreResult<Vec<ListingView>> {
    let mut q = joined_views!().into_boxed();

    let public = listings::visibility.eq("public");
    match viewer.clone() {
        Viewer::Admin => {}
        Viewer::Staff { community_id } => {
            q = q.filter(
                listings::community_id
                    .eq(community_id)
                    .or(shown!().and(public)),
            );
        }
        Viewer::Member {
            firm_id,
            community_id,
        } => {
            q = q.filter(
                listings::firm_id
                    .eq(firm_id)
                    .or(shown!().and(public.or(listings::community_id.eq(community_id)))),
            );
        }
        Viewer::Guest => {
            q = q.filter(shown!().and(public));
        }
    }
    if let Some(v) = &f.firm_id {
        q = q.filter(listings::firm_id.eq(v.clone()));
    }
    if let Some(v) = &f.side {
        q = q.filter(listings::side.eq(v.clone()));
    }
    if let Some(v) = &f.kind {
        q = q.filter(listings::kind.eq(v.clone()));
    }
    if let Some(v) = &f.status {
        q = q.filter(listings::status.eq(v.clone()));
        if v == "open" {
            // An open listing past its expiry is no longer on offer.
            q = q.filter(
                listings::expires_at
                    .is_null()
                    .or(listings::expires_at.gt(super::now())),
            );
        }
    }
    if let Some(v) = &f.community_id {
        q = q.filter(listings::community_id.eq(v.clone()));
    }
    if let Some(v) = &f.before_id {
        q = q.filter(listings::id.lt(v.clone()));
    }
    Ok(q.order(listings::id.desc())
        .limit(f.limit)
        .load::<ViewRow>(conn)?
        .into_iter()
        .map(to_view)
        .collect())
}

/// Several listings by id, in no particular order.
pub fn get_many(conn: &mut DbConnection, ids: &[String]) -> StoreResult<Vec<ListingView>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(joined_views!()
        .filter(listings::id.eq_any(ids))
        .load::<ViewRow>(conn)?
        .into_iter()
        .map(to_view)
        .collect())
}

/// All listings after `after_id` in id order, for full index rebuilds.
pub fn scan(
    conn: &mut DbConnection,
    after_id: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<ListingView>> {
    let mut q = joined_views!().into_boxed();
    if let Some(a) = after_id {
        q = q.filter(listings::id.gt(a.to_string()));
    }
    Ok(q.order(listings::id.asc())
        .limit(limit)
        .load::<ViewRow>(conn)?
        .into_iter()
        .map(to_view)
        .collect())
}

/// A community's open listings, oldest first, at most 5,000 (the newest):
/// what vocabulary suggestions read.
pub fn open_of_community(
    conn: &mut DbConnection,
    community_id: &str,
) -> StoreResult<Vec<ListingView>> {
    let mut rows: Vec<ListingView> = joined_views!()
        .filter(listings::community_id.eq(community_id))
        .filter(listings::status.eq(ListingStatus::Open))
        .order(listings::id.desc())
        .limit(5_000)
        .load::<ViewRow>(conn)?
        .into_iter()
        .map(to_view)
        .collect();
    rows.reverse();
    Ok(rows)
}

/// Appends an upsert change for every listing of a firm (its verification
/// changes what others may see of them).
pub fn touch_firm(conn: &mut DbConnection, firm_id: &str) -> StoreResult<Option<i64>> {
    let ids: Vec<String> = listings::table
        .filter(listings::firm_id.eq(firm_id))
        .select(listings::id)
        .load(conn)?;
    let mut last = None;
    for id in ids {
        last = Some(changes::append(conn, &id, ChangeOp::Upsert)?);
    }
    Ok(last)
}

/// A firm's open urgent and emergency requests, oldest first.
pub fn open_urgent_requests_of(
    conn: &mut DbConnection,
    firm_id: &str,
) -> StoreResult<Vec<Listing>> {
    Ok(listings::table
        .filter(listings::firm_id.eq(firm_id))
        .filter(listings::side.eq("request"))
        .filter(listings::status.eq(ListingStatus::Open))
        .filter(listings::urgency.eq_any(["urgent", "emergency"]))
        .order(listings::id.asc())
        .select(Listing::as_select())
        .load(conn)?)
}

/// A community's open requests posted since `since` that its firms may all
/// see (of a verified firm that is not suspended, not hidden, public or
/// for the community), newest first: what a digest of open needs lists.
pub fn open_needs_of(
    conn: &mut DbConnection,
    community_id: &str,
    kind: Option<&str>,
    since: NaiveDateTime,
    limit: i64,
) -> StoreResult<Vec<ListingView>> {
    let mut q = joined_views!()
        .filter(shown!())
        .filter(listings::community_id.eq(community_id))
        .filter(listings::side.eq("request"))
        .filter(listings::status.eq(ListingStatus::Open))
        .filter(
            listings::expires_at
                .is_null()
                .or(listings::expires_at.gt(super::now())),
        )
        .filter(listings::created_at.ge(since))
        .into_boxed();
    if let Some(k) = kind {
        q = q.filter(listings::kind.eq(k.to_string()));
    }
    Ok(q.order(listings::id.desc())
        .limit(limit)
        .load::<ViewRow>(conn)?
        .into_iter()
        .map(to_view)
        .collect())
}

pub fn count(conn: &mut DbConnection) -> StoreResult<i64> {
    Ok(listings::table.count().get_result(conn)?)
}

/// The listings with these external keys, by key.
pub fn by_ext_keys(
    conn: &mut DbConnection,
    keys: &[String],
) -> StoreResult<std::collections::HashMap<String, Listing>> {
    Ok(listings::table
        .filter(listings::ext_key.eq_any(keys))
        .select(Listing::as_select())
        .load(conn)?
        .into_iter()
        .filter_map(|l| l.ext_key.clone().map(|k| (k, l)))
        .collect())
}

/// Inside a transaction: inserts many new listings and their change-log
/// rows (bulk import).
pub fn insert_many(conn: &mut DbConnection, rows: &[Listing]) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    {
        // Well under SQLite's limit of 32766 bound variables per statement.
        for chunk in rows.chunks(200) {
            let n = match conn {
                DbConnection::Sqlite(c) => diesel::insert_into(listings::table)
                    .values(chunk)
                    .execute(c),
                DbConnection::Postgresql(c) => diesel::insert_into(listings::table)
                    .values(chunk)
                    .execute(c),
            };
            n.map_err(|e| StoreError::unique_as_conflict(e, "listing key"))?;
        }
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        changes::append_many(conn, &ids, ChangeOp::Upsert)?;
        Ok(())
    }
}

/// Listings created in `[from, to)` in a community (`None`: all): id, side,
/// kind, creation time — for park statistics.
pub fn created_between(
    conn: &mut DbConnection,
    community: Option<&str>,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> StoreResult<Vec<(String, String, String, NaiveDateTime)>> {
    // Only verified firms' listings count: a self-registered firm nobody
    // vouched for cannot move the park's figures.
    let verified = super::schema::firms::table
        .filter(super::schema::firms::verified.eq(true))
        .select(super::schema::firms::id);
    let mut q = listings::table
        .filter(listings::created_at.ge(from))
        .filter(listings::created_at.lt(to))
        .filter(listings::firm_id.eq_any(verified))
        .select((
            listings::id,
            listings::side,
            listings::kind,
            listings::created_at,
        ))
        .into_boxed();
    if let Some(c) = community {
        q = q.filter(listings::community_id.eq(c.to_string()));
    }
    Ok(q.load(conn)?)
}

/// Listings whose `expires_at` lies in `(after, until]` (after and until
/// in Unix seconds), earliest first: the expiry sweep's next batch.
pub fn expired_between(
    conn: &mut DbConnection,
    after: i64,
    until: NaiveDateTime,
    limit: i64,
) -> StoreResult<Vec<(String, NaiveDateTime)>> {
    let after = chrono::DateTime::from_timestamp(after, 0)
        .map(|t| t.naive_utc())
        .unwrap_or_default();
    // Whole seconds: a listing expiring at 12:00:00.5 belongs to second
    // 12:00:00, which `after` = 12:00:00 has finished.
    let after = after + chrono::Duration::seconds(1);
    Ok(listings::table
        .filter(listings::expires_at.ge(after))
        .filter(listings::expires_at.le(until))
        .order(listings::expires_at.asc())
        .limit(limit)
        .select((listings::id, listings::expires_at.assume_not_null()))
        .load(conn)?)
}

/// Inside a write transaction: the listing row, locked against concurrent
/// writers until the commit (PostgreSQL: `SELECT … FOR UPDATE`; SQLite: the
/// write lock `begin_write` took at the start of the transaction already
/// excludes every other writer).
pub fn lock(conn: &mut DbConnection, id: &str) -> StoreResult<Option<Listing>> {
    if let DbConnection::Postgresql(pg) = conn {
        return Ok(listings::table
            .find(id)
            .select(Listing::as_select())
            .for_update()
            .first(pg)
            .optional()?);
    }
    get_row(conn, id)
}

/// Inside a transaction (after [`lock`]): sets the quantity a listing's
/// confirmed agreements hold. Nothing left: the listing closes as
/// fulfilled; something left again (an agreement cancelled or changed):
/// a fulfilled listing reopens. Bumps the version (a concurrent edit from
/// before fails) and appends to the change log so search and matching see
/// the remaining quantity. Returns the row as written and its live events.
pub fn set_committed(
    conn: &mut DbConnection,
    row: &Listing,
    committed: f64,
    at: NaiveDateTime,
) -> StoreResult<(Listing, Vec<NewEvent>)> {
    let mut l = row.clone();
    l.committed_amount = committed.max(0.0);
    let covered = l
        .quantity_amount
        .is_some_and(|q| q - l.committed_amount <= q.abs() * 1e-9);
    let mut live = Vec::new();
    if covered && l.status == ListingStatus::Open {
        l.status = ListingStatus::Closed;
        l.closed_at = Some(at);
        l.fulfilled_at = Some(at);
        live.push(listing_event(
            "listing.closed",
            &l.firm_id,
            &l.community_id,
            serde_json::json!({
                "id": l.id,
                "firm_id": l.firm_id,
                "community_id": l.community_id,
                "title": l.title,
                "fulfilled": true,
                "closed_at": chrono::DateTime::<chrono::Utc>::from_naive_utc_and_offset(at, chrono::Utc),
            }),
        ));
    } else if !covered && l.fulfilled_at.is_some() && l.status == ListingStatus::Closed {
        l.status = ListingStatus::Open;
        l.closed_at = None;
        l.fulfilled_at = None;
    }
    l.version += 1;
    l.updated_at = at;
    diesel::update(listings::table.find(&l.id))
        .set(&l)
        .execute(conn)?;
    changes::append(conn, &l.id, ChangeOp::Upsert)?;
    Ok((l, live))
}
