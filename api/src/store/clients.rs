//! API clients of third-party apps and the service users they act as.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{api_clients, users};
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

/// Replaces the secret of a client that is not revoked; `None` when it is
/// revoked or gone.
pub fn set_secret(
    conn: &mut DbConnection,
    id: &str,
    secret_hash: &str,
    at: NaiveDateTime,
) -> StoreResult<Option<ApiClient>> {
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
    get(conn, id)
}

/// Revokes a client for good (its secret stops working at once; tokens
/// already issued live out their few minutes).
pub fn revoke(
    conn: &mut DbConnection,
    id: &str,
    at: NaiveDateTime,
) -> StoreResult<Option<ApiClient>> {
    diesel::update(
        api_clients::table
            .filter(api_clients::id.eq(id))
            .filter(api_clients::revoked_at.is_null()),
    )
    .set(api_clients::revoked_at.eq(Some(at)))
    .execute(conn)?;
    get(conn, id)
}
