//! API clients of third-party apps and the service users they act as.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{api_client_usage as u, api_clients, users};
use super::stream::{self, NewEvent};
use super::{DbConnection, StoreResult, new_id, now};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_clients)]
pub struct ApiClient {
    pub id: String,
    pub name: String,
    pub firm_id: Option<String>,
    pub community_id: String,
    pub user_id: String,
    pub scopes: String,
    pub secret_hash: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub secret_rotated_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

pub struct NewClient {
    pub name: String,
    pub firm_id: Option<String>,
    pub community_id: String,
    pub scopes: String,
    pub secret_hash: String,
    pub created_by: String,
}

/// Creates the client and its service user (no password, no login that
/// anyone can type: the address is in the reserved `.invalid` domain).
pub fn create(conn: &mut DbConnection, c: NewClient) -> StoreResult<ApiClient> {
    let id = new_id();
    let at = now();
    let user_id = new_id();
    let row = ApiClient {
        id: id.clone(),
        name: c.name.clone(),
        firm_id: c.firm_id,
        community_id: c.community_id,
        user_id: user_id.clone(),
        scopes: c.scopes,
        secret_hash: c.secret_hash,
        created_by: c.created_by,
        created_at: at,
        secret_rotated_at: None,
        revoked_at: None,
    };
    conn.transaction(|conn| {
        diesel::insert_into(users::table)
            .values((
                users::id.eq(&user_id),
                users::email.eq(format!("client-{id}@api-clients.invalid")),
                users::display_name.eq(&c.name),
                // Not a PHC string: no password ever verifies against it.
                users::password_hash.eq("!"),
                users::is_platform_admin.eq(false),
                users::created_at.eq(at),
            ))
            .execute(conn)?;
        diesel::insert_into(api_clients::table)
            .values(&row)
            .execute(conn)?;
        Ok(row)
    })
}

pub fn get(conn: &mut DbConnection, id: &str) -> StoreResult<Option<ApiClient>> {
    Ok(api_clients::table
        .find(id)
        .select(ApiClient::as_select())
        .first(conn)
        .optional()?)
}

/// Clients oldest first after `after`; `community` limits to one community.
pub fn list(
    conn: &mut DbConnection,
    community: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<ApiClient>> {
    let mut q = api_clients::table
        .select(ApiClient::as_select())
        .order(api_clients::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(c) = community {
        q = q.filter(api_clients::community_id.eq(c.to_string()));
    }
    if let Some(a) = after {
        q = q.filter(api_clients::id.gt(a.to_string()));
    }
    Ok(q.load(conn)?)
}

/// The event-log type that tells a client's open streams to check the
/// client again (revoked, or its secret rotated). Internal: no stream or
/// webhook passes it on.
pub const CREDENTIALS_CHANGED: &str = "client.credentials_changed";

/// Which secret of a client is current, as a token records it
/// (`Claims::crot`): when it was set, in microseconds; `None` for the
/// first one.
pub fn secret_version(c: &ApiClient) -> Option<i64> {
    c.secret_rotated_at.map(|t| t.and_utc().timestamp_micros())
}

/// Whether a token of client `id` issued for the secret `version` still
/// counts: the client exists, is not revoked and has not rotated since.
pub fn is_live(conn: &mut DbConnection, id: &str, version: Option<i64>) -> StoreResult<bool> {
    Ok(get(conn, id)?.is_some_and(|c| c.revoked_at.is_none() && secret_version(&c) == version))
}

/// Tells the client's open streams, on every node, to check it again.
fn credentials_changed(conn: &mut DbConnection, c: &ApiClient) -> StoreResult<()> {
    stream::append(
        conn,
        &[NewEvent {
            event_type: CREDENTIALS_CHANGED,
            audience: vec![stream::user(&c.user_id)],
            payload: serde_json::json!({ "client_id": c.id }),
        }],
    )?;
    Ok(())
}

/// Replaces the secret of a client that is not revoked; `None` when it is
/// revoked or gone. Tokens, tickets and streams of the old secret end.
/// Call [`stream::committed`] afterwards.
pub fn set_secret(
    conn: &mut DbConnection,
    id: &str,
    secret_hash: &str,
    at: NaiveDateTime,
) -> StoreResult<Option<ApiClient>> {
    conn.transaction(|conn| {
        let n = diesel::update(
            api_clients::table
                .filter(api_clients::id.eq(id))
                .filter(api_clients::revoked_at.is_null()),
        )
        .set((
            api_clients::secret_hash.eq(secret_hash),
            api_clients::secret_rotated_at.eq(Some(at)),
        ))
        .execute(conn)?;
        if n == 0 {
            return Ok(None);
        }
        let Some(c) = get(conn, id)? else {
            return Ok(None);
        };
        credentials_changed(conn, &c)?;
        Ok(Some(c))
    })
}

/// Revokes a client for good: its secret, tokens, stream tickets and open
/// streams stop working at once. Call [`stream::committed`] afterwards.
pub fn revoke(
    conn: &mut DbConnection,
    id: &str,
    at: NaiveDateTime,
) -> StoreResult<Option<ApiClient>> {
    conn.transaction(|conn| {
        let n = diesel::update(
            api_clients::table
                .filter(api_clients::id.eq(id))
                .filter(api_clients::revoked_at.is_null()),
        )
        .set(api_clients::revoked_at.eq(Some(at)))
        .execute(conn)?;
        let c = get(conn, id)?;
        if n == 1
            && let Some(c) = &c
        {
            credentials_changed(conn, c)?;
        }
        Ok(c)
    })
}

/// What a client did on one day (China Standard Time, `YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = u)]
pub struct UsageDay {
    pub client_id: String,
    pub day: String,
    pub requests: i64,
    pub errors: i64,
    pub tokens: i64,
    pub last_used_at: Option<NaiveDateTime>,
}

diesel::define_sql_function! {
    /// The first non-null argument.
    fn coalesce(x: diesel::sql_types::Nullable<diesel::sql_types::Timestamp>, y: diesel::sql_types::Nullable<diesel::sql_types::Timestamp>) -> diesel::sql_types::Nullable<diesel::sql_types::Timestamp>;
}

/// Adds counts gathered in memory to the stored days (one statement per
/// client and day, in one transaction).
pub fn add_usage(conn: &mut DbConnection, rows: &[UsageDay]) -> StoreResult<()> {
    use diesel::upsert::excluded;
    conn.transaction(|conn| {
        for r in rows {
            super::on_backend!(conn, |c| diesel::insert_into(u::table)
                .values(r)
                .on_conflict((u::client_id, u::day))
                .do_update()
                .set((
                    u::requests.eq(u::requests + excluded(u::requests)),
                    u::errors.eq(u::errors + excluded(u::errors)),
                    u::tokens.eq(u::tokens + excluded(u::tokens)),
                    u::last_used_at.eq(coalesce(excluded(u::last_used_at), u::last_used_at)),
                ))
                .execute(c)?);
        }
        Ok(())
    })
}

/// A client's days from `from` on (oldest first) and when it last made a
/// request at all.
pub fn usage(
    conn: &mut DbConnection,
    client_id: &str,
    from: &str,
) -> StoreResult<(Vec<UsageDay>, Option<NaiveDateTime>)> {
    let days = u::table
        .filter(u::client_id.eq(client_id))
        .filter(u::day.ge(from))
        .order(u::day.asc())
        .select(UsageDay::as_select())
        .load(conn)?;
    let last: Option<NaiveDateTime> = u::table
        .filter(u::client_id.eq(client_id))
        .select(diesel::dsl::max(u::last_used_at))
        .first(conn)?;
    Ok((days, last))
}
