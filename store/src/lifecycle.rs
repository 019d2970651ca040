//! The account lifecycle: session versions (ending a user's tokens, stream
//! tickets and streams at once), one-time password reset codes, firm
//! invitations, membership changes, the firm profile, and the erasure of a
//! deleted account's personal data (PIPL). Table work only; the rules and
//! the transactions that combine these are the service's
//! (`service::lifecycle`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::{Firm, Membership, User};
use super::schema::{
    audit_log, case_notes, community_staff, firm_invites, firms, memberships, messages,
    notifications, password_resets, refresh_tokens, thread_reads, users, wechat_bindings,
    wechat_pushes, wechat_subscriptions,
};
use super::stream::{self, NewEvent};
use super::{DbConnection, StoreResult};

/// The event-log type that tells a user's open streams, on every node, to
/// check the user's session version again. Internal: no stream or webhook
/// passes it on.
pub const SESSIONS_ENDED: &str = "user.sessions_ended";

/// What decides whether a user's token still counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionState {
    pub version: i64,
    pub deleted: bool,
    /// The user's firm is suspended.
    pub firm_suspended: bool,
    /// The user is staff whose account was disabled.
    pub staff_disabled: bool,
}

/// A user's session state (one read by primary key, with the firm's
/// suspension and the staff account's state); `None` when there is no
/// such user.
pub fn session_state(c: &mut DbConnection, user_id: &str) -> StoreResult<Option<SessionState>> {
    let row: Option<(i64, bool, Option<NaiveDateTime>, Option<NaiveDateTime>)> = users::table
        .left_join(memberships::table.inner_join(firms::table))
        .left_join(community_staff::table)
        .filter(users::id.eq(user_id))
        .select((
            users::session_version,
            users::deleted_at.is_not_null(),
            firms::suspended_at.nullable(),
            community_staff::disabled_at.nullable(),
        ))
        .first(c)
        .optional()?;
    Ok(
        row.map(|(version, deleted, suspended, disabled)| SessionState {
            version,
            deleted,
            firm_suspended: suspended.is_some(),
            staff_disabled: disabled.is_some(),
        }),
    )
}

/// Inside a transaction: ends every session of the user (its access
/// tokens and stream tickets by the version, its refresh tokens by
/// revocation). Returns the event that ends its open streams, to append
/// last.
pub fn end_sessions(
    c: &mut DbConnection,
    user_id: &str,
    at: NaiveDateTime,
) -> StoreResult<NewEvent> {
    diesel::update(users::table.find(user_id))
        .set(users::session_version.eq(users::session_version + 1))
        .execute(c)?;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(at)))
    .execute(c)?;
    Ok(NewEvent {
        event_type: SESSIONS_ENDED,
        audience: vec![stream::user(user_id)],
        payload: serde_json::json!({ "user_id": user_id }),
    })
}

pub fn set_password(c: &mut DbConnection, user_id: &str, hash: &str) -> StoreResult<()> {
    diesel::update(users::table.find(user_id))
        .set(users::password_hash.eq(hash))
        .execute(c)?;
    Ok(())
}

// ------------------------------------------------------------ reset codes

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = password_resets)]
pub struct PasswordReset {
    pub id: String,
    pub user_id: String,
    pub code_hash: String,
    pub issued_by: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

/// Issues a reset code; the user's earlier unused codes stop counting.
pub fn issue_reset(c: &mut DbConnection, r: &PasswordReset) -> StoreResult<()> {
    diesel::update(
        password_resets::table
            .filter(password_resets::user_id.eq(&r.user_id))
            .filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(Some(r.created_at)))
    .execute(c)?;
    diesel::insert_into(password_resets::table)
        .values(r)
        .execute(c)?;
    Ok(())
}

/// Uses the user's reset code with this hash if it is unused and not
/// expired at `at` (a guarded update: used once, even by racing calls).
pub fn use_reset(
    c: &mut DbConnection,
    user_id: &str,
    code_hash: &str,
    at: NaiveDateTime,
) -> StoreResult<bool> {
    let n = diesel::update(
        password_resets::table
            .filter(password_resets::user_id.eq(user_id))
            .filter(password_resets::code_hash.eq(code_hash))
            .filter(password_resets::used_at.is_null())
            .filter(password_resets::expires_at.gt(at)),
    )
    .set(password_resets::used_at.eq(Some(at)))
    .execute(c)?;
    Ok(n == 1)
}

// ---------------------------------------------------------------- invites

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = firm_invites)]
pub struct Invite {
    pub id: String,
    pub firm_id: String,
    pub code_hash: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub used_by: Option<String>,
}

pub fn insert_invite(c: &mut DbConnection, i: &Invite) -> StoreResult<()> {
    diesel::insert_into(firm_invites::table)
        .values(i)
        .execute(c)?;
    Ok(())
}

/// Takes an unused, unexpired invitation by its hash for `user_id` (once:
/// a guarded update); returns its firm.
pub fn use_invite(
    c: &mut DbConnection,
    code_hash: &str,
    user_id: &str,
    at: NaiveDateTime,
) -> StoreResult<Option<String>> {
    let Some(firm_id) = firm_invites::table
        .filter(firm_invites::code_hash.eq(code_hash))
        .filter(firm_invites::used_at.is_null())
        .filter(firm_invites::expires_at.gt(at))
        .select(firm_invites::firm_id)
        .first::<String>(c)
        .optional()?
    else {
        return Ok(None);
    };
    let n = diesel::update(
        firm_invites::table
            .filter(firm_invites::code_hash.eq(code_hash))
            .filter(firm_invites::used_at.is_null()),
    )
    .set((
        firm_invites::used_at.eq(Some(at)),
        firm_invites::used_by.eq(Some(user_id)),
    ))
    .execute(c)?;
    Ok((n == 1).then_some(firm_id))
}

/// Whether an unused, unexpired invitation has this hash.
pub fn invite_is_open(
    c: &mut DbConnection,
    code_hash: &str,
    at: NaiveDateTime,
) -> StoreResult<bool> {
    Ok(firm_invites::table
        .filter(firm_invites::code_hash.eq(code_hash))
        .filter(firm_invites::used_at.is_null())
        .filter(firm_invites::expires_at.gt(at))
        .count()
        .get_result::<i64>(c)?
        > 0)
}

// ------------------------------------------------------------- memberships

pub fn membership(c: &mut DbConnection, user_id: &str) -> StoreResult<Option<Membership>> {
    Ok(memberships::table
        .find(user_id)
        .select(Membership::as_select())
        .first(c)
        .optional()?)
}

pub fn add_membership(c: &mut DbConnection, m: &Membership) -> StoreResult<()> {
    diesel::insert_into(memberships::table)
        .values(m)
        .execute(c)?;
    Ok(())
}

pub fn firm_member_count(c: &mut DbConnection, firm_id: &str) -> StoreResult<i64> {
    Ok(memberships::table
        .filter(memberships::firm_id.eq(firm_id))
        .count()
        .get_result(c)?)
}

pub fn remove_membership(c: &mut DbConnection, user_id: &str) -> StoreResult<bool> {
    Ok(diesel::delete(memberships::table.find(user_id)).execute(c)? == 1)
}

pub fn set_role(c: &mut DbConnection, user_id: &str, role: &str) -> StoreResult<()> {
    diesel::update(memberships::table.find(user_id))
        .set(memberships::role.eq(role))
        .execute(c)?;
    Ok(())
}

// ----------------------------------------------------------------- firms

/// Writes a firm's profile fields and verification state as in `f`.
pub fn save_profile(c: &mut DbConnection, f: &Firm) -> StoreResult<()> {
    diesel::update(firms::table.find(&f.id))
        .set((
            firms::name.eq(&f.name),
            firms::uscc.eq(&f.uscc),
            firms::address.eq(&f.address),
            firms::lat.eq(f.lat),
            firms::lon.eq(f.lon),
            firms::contact_name.eq(&f.contact_name),
            firms::contact_phone.eq(&f.contact_phone),
            firms::verified.eq(f.verified),
            firms::verified_at.eq(f.verified_at),
            firms::verified_by.eq(&f.verified_by),
            firms::claim_refused_at.eq(f.claim_refused_at),
            firms::updated_at.eq(f.updated_at),
        ))
        .execute(c)?;
    Ok(())
}

// ----------------------------------------------------------------- export

/// A message the user wrote: (thread, body, when).
pub fn messages_by(
    c: &mut DbConnection,
    user_id: &str,
) -> StoreResult<Vec<(String, String, NaiveDateTime)>> {
    Ok(messages::table
        .filter(messages::author_user_id.eq(user_id))
        .order(messages::id.asc())
        .select((messages::thread_id, messages::body, messages::created_at))
        .load(c)?)
}

/// The listings a user posted: (id, title, when).
pub fn listings_created_by(
    c: &mut DbConnection,
    user_id: &str,
) -> StoreResult<Vec<(String, String, NaiveDateTime)>> {
    use super::schema::listings;
    Ok(listings::table
        .filter(listings::created_by.eq(user_id))
        .order(listings::id.asc())
        .select((listings::id, listings::title, listings::created_at))
        .load(c)?)
}

pub fn has_wechat(c: &mut DbConnection, user_id: &str) -> StoreResult<bool> {
    Ok(wechat_bindings::table
        .filter(wechat_bindings::user_id.eq(user_id))
        .count()
        .get_result::<i64>(c)?
        > 0)
}

// ----------------------------------------------------------------- erasure

/// Inside a transaction: erases a user's personal data. The row stays (the
/// park's records name it) with `pseudonym` for a name and no usable login,
/// password, roles, WeChat binding and alerts, notifications or read markers; the
/// name it signed messages, audit entries and case notes with becomes the
/// pseudonym; what it wrote in business records stays.
pub fn erase_user(
    c: &mut DbConnection,
    u: &User,
    pseudonym: &str,
    at: NaiveDateTime,
) -> StoreResult<()> {
    diesel::update(users::table.find(&u.id))
        .set((
            users::phone.eq(None::<String>),
            // A login is required of every row: one nobody can own (the
            // `.invalid` domain) and that no password opens.
            users::email.eq(Some(format!("deleted-{}@deleted.invalid", u.id))),
            users::display_name.eq(pseudonym),
            users::password_hash.eq("!deleted"),
            users::deleted_at.eq(Some(at)),
        ))
        .execute(c)?;
    diesel::delete(memberships::table.find(&u.id)).execute(c)?;
    diesel::delete(community_staff::table.find(&u.id)).execute(c)?;
    diesel::delete(wechat_bindings::table.filter(wechat_bindings::user_id.eq(&u.id))).execute(c)?;
    diesel::delete(wechat_subscriptions::table.filter(wechat_subscriptions::user_id.eq(&u.id)))
        .execute(c)?;
    diesel::delete(wechat_pushes::table.filter(wechat_pushes::user_id.eq(&u.id))).execute(c)?;
    diesel::delete(notifications::table.filter(notifications::user_id.eq(&u.id))).execute(c)?;
    diesel::delete(thread_reads::table.filter(thread_reads::user_id.eq(&u.id))).execute(c)?;
    diesel::delete(password_resets::table.filter(password_resets::user_id.eq(&u.id))).execute(c)?;
    diesel::update(messages::table.filter(messages::author_user_id.eq(&u.id)))
        .set(messages::author_name.eq(pseudonym))
        .execute(c)?;
    diesel::update(audit_log::table.filter(audit_log::actor_user_id.eq(&u.id)))
        .set(audit_log::actor_name.eq(pseudonym))
        .execute(c)?;
    diesel::update(case_notes::table.filter(case_notes::author_user_id.eq(&u.id)))
        .set(case_notes::author_name.eq(pseudonym))
        .execute(c)?;
    Ok(())
}
