//! WeChat openids bound to users.

use diesel::prelude::*;

use super::models::User;
use super::schema::{users, wechat_bindings as b};
use super::{DbConnection, StoreError, StoreResult, now};

/// The user an openid is bound to.
pub fn user_of(conn: &mut DbConnection, openid: &str) -> StoreResult<Option<User>> {
    Ok(b::table
        .inner_join(users::table.on(users::id.eq(b::user_id)))
        .filter(b::openid.eq(openid))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Binds `openid` to `user_id`; `Conflict` when either is bound elsewhere
/// (binding the same pair again changes nothing).
pub fn bind(
    conn: &mut DbConnection,
    openid: &str,
    unionid: Option<&str>,
    user_id: &str,
) -> StoreResult<()> {
    let existing: Option<String> = b::table
        .find(openid)
        .select(b::user_id)
        .first(conn)
        .optional()?;
    match existing {
        Some(u) if u == user_id => return Ok(()),
        Some(_) => return Err(StoreError::Conflict("openid".into())),
        None => {}
    }
    diesel::insert_into(b::table)
        .values((
            b::openid.eq(openid),
            b::user_id.eq(user_id),
            b::unionid.eq(unionid),
            b::created_at.eq(now()),
        ))
        .execute(conn)
        .map_err(|e| StoreError::unique_as_conflict(e, "user"))?;
    Ok(())
}
