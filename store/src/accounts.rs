//! Communities, firms, users, memberships, staff, refresh tokens and the
//! login throttle.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::stream::NewEvent;

use super::models::*;
use super::schema::*;
use super::{DbConnection, StoreError, StoreResult, new_id, now};

// ---------------------------------------------------------------- communities

pub struct NewCommunity {
    pub name: String,
    pub district: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

pub fn create_community(conn: &mut DbConnection, c: NewCommunity) -> StoreResult<Community> {
    let row = Community {
        id: new_id(),
        name: c.name,
        district: c.district,
        lat: c.lat,
        lon: c.lon,
        created_at: now(),
    };
    diesel::insert_into(communities::table)
        .values(&row)
        .execute(conn)
        .map_err(|e| StoreError::unique_as_conflict(e, "community name"))?;
    Ok(row)
}

pub fn list_communities(conn: &mut DbConnection) -> StoreResult<Vec<Community>> {
    Ok(communities::table
        .order(communities::name.asc())
        .select(Community::as_select())
        .load(conn)?)
}

pub fn get_community(conn: &mut DbConnection, id: &str) -> StoreResult<Option<Community>> {
    Ok(communities::table
        .find(id)
        .select(Community::as_select())
        .first(conn)
        .optional()?)
}

pub fn community_by_name(conn: &mut DbConnection, name: &str) -> StoreResult<Option<Community>> {
    Ok(communities::table
        .filter(communities::name.eq(name))
        .select(Community::as_select())
        .first(conn)
        .optional()?)
}

// ---------------------------------------------------------------------- users

#[derive(Clone)]
pub struct NewUser {
    pub phone: Option<String>,
    pub email: Option<String>,
    pub display_name: String,
    pub password_hash: String,
    pub is_platform_admin: bool,
}

fn insert_user(conn: &mut DbConnection, u: NewUser) -> StoreResult<User> {
    let row = User {
        id: new_id(),
        phone: u.phone,
        email: u.email,
        display_name: u.display_name,
        password_hash: u.password_hash,
        is_platform_admin: u.is_platform_admin,
        created_at: now(),
        session_version: 0,
        deleted_at: None,
    };
    diesel::insert_into(users::table)
        .values(&row)
        .execute(conn)
        .map_err(|e| StoreError::unique_as_conflict(e, "login"))?;
    Ok(row)
}

pub fn create_user(conn: &mut DbConnection, u: NewUser) -> StoreResult<User> {
    insert_user(conn, u)
}

/// Finds a user by a normalised login (a phone number or an email address).
pub fn user_by_login(conn: &mut DbConnection, login: &str) -> StoreResult<Option<User>> {
    Ok(users::table
        .filter(users::phone.eq(login).or(users::email.eq(login)))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn get_user(conn: &mut DbConnection, id: &str) -> StoreResult<Option<User>> {
    Ok(users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Everything that decides what a user may do.
#[derive(Debug, Clone, Default)]
pub struct Roles {
    pub platform_admin: bool,
    pub membership: Option<Membership>,
    pub staff: Option<Staff>,
}

pub fn roles_of(conn: &mut DbConnection, user: &User) -> StoreResult<Roles> {
    let membership = memberships::table
        .find(&user.id)
        .select(Membership::as_select())
        .first(conn)
        .optional()?;
    // A disabled staff account holds no staff role.
    let staff = community_staff::table
        .find(&user.id)
        .filter(community_staff::disabled_at.is_null())
        .select(Staff::as_select())
        .first(conn)
        .optional()?;
    Ok(Roles {
        platform_admin: user.is_platform_admin,
        membership,
        staff,
    })
}

/// Creates a user who is staff of one community.
pub fn create_staff(
    conn: &mut DbConnection,
    community_id: &str,
    u: NewUser,
) -> StoreResult<(User, Staff)> {
    conn.transaction(|conn| {
        let user = insert_user(conn, u)?;
        let staff = Staff {
            user_id: user.id.clone(),
            community_id: community_id.to_string(),
            created_at: now(),
            disabled_at: None,
        };
        diesel::insert_into(community_staff::table)
            .values(&staff)
            .execute(conn)?;
        Ok((user, staff))
    })
}

// ---------------------------------------------------------------------- firms

pub struct NewFirm {
    pub name: String,
    pub uscc: String,
    pub community_id: String,
    pub address: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub contact_name: String,
    pub contact_phone: String,
    pub verified: bool,
}

/// The row a new firm would have (a fresh id, timestamps now).
pub fn firm_row(f: NewFirm) -> Firm {
    let t = now();
    Firm {
        id: new_id(),
        name: f.name,
        uscc: f.uscc,
        community_id: f.community_id,
        address: f.address,
        lat: f.lat,
        lon: f.lon,
        contact_name: f.contact_name,
        contact_phone: f.contact_phone,
        verified: f.verified,
        verified_at: if f.verified { Some(t) } else { None },
        verified_by: None,
        created_at: t,
        updated_at: t,
        claim_refused_at: None,
        suspended_at: None,
        suspended_reason: None,
    }
}

/// Creates a firm with no members (operator import).
pub fn create_firm(conn: &mut DbConnection, f: NewFirm) -> StoreResult<Firm> {
    let row = firm_row(f);
    diesel::insert_into(firms::table)
        .values(&row)
        .execute(conn)
        .map_err(|e| StoreError::unique_as_conflict(e, "uscc"))?;
    Ok(row)
}

/// Self-registration: the firm and its first admin user, in one transaction.
pub fn register_firm(
    conn: &mut DbConnection,
    f: NewFirm,
    admin: NewUser,
) -> StoreResult<(Firm, User, Membership)> {
    conn.transaction(|conn| {
        let firm = create_firm(conn, f)?;
        let user = insert_user(conn, admin)?;
        let m = Membership {
            user_id: user.id.clone(),
            firm_id: firm.id.clone(),
            role: "admin".into(),
            created_at: now(),
        };
        diesel::insert_into(memberships::table)
            .values(&m)
            .execute(conn)?;
        Ok((firm, user, m))
    })
}

pub fn add_member(
    conn: &mut DbConnection,
    firm_id: &str,
    role: &str,
    u: NewUser,
) -> StoreResult<(User, Membership)> {
    conn.transaction(|conn| {
        let user = insert_user(conn, u)?;
        let m = Membership {
            user_id: user.id.clone(),
            firm_id: firm_id.to_string(),
            role: role.to_string(),
            created_at: now(),
        };
        diesel::insert_into(memberships::table)
            .values(&m)
            .execute(conn)?;
        Ok((user, m))
    })
}

pub fn get_firm(conn: &mut DbConnection, id: &str) -> StoreResult<Option<Firm>> {
    Ok(firms::table
        .find(id)
        .select(Firm::as_select())
        .first(conn)
        .optional()?)
}

/// The firm of a USCC: the verified one, else the oldest pending claim.
pub fn firm_by_uscc(conn: &mut DbConnection, uscc: &str) -> StoreResult<Option<Firm>> {
    Ok(firms::table
        .filter(firms::uscc.eq(uscc))
        .order((firms::verified.desc(), firms::id.asc()))
        .select(Firm::as_select())
        .first(conn)
        .optional()?)
}

/// Every firm claiming one of these USCCs (oldest first), so staff can
/// see competing claims side by side.
pub fn claims_of(conn: &mut DbConnection, usccs: &[String]) -> StoreResult<Vec<Firm>> {
    Ok(firms::table
        .filter(firms::uscc.eq_any(usccs))
        .order(firms::id.asc())
        .select(Firm::as_select())
        .load(conn)?)
}

pub struct FirmFilter {
    pub community_id: Option<String>,
    pub verified: Option<bool>,
    pub before_id: Option<String>,
    pub limit: i64,
}

/// Firms newest first (ids are time-ordered UUIDv7), paged by id.
pub fn list_firms(conn: &mut DbConnection, f: &FirmFilter) -> StoreResult<Vec<Firm>> {
    let mut q = firms::table.select(Firm::as_select()).into_boxed();
    if let Some(c) = &f.community_id {
        q = q.filter(firms::community_id.eq(c.clone()));
    }
    if let Some(v) = f.verified {
        q = q.filter(firms::verified.eq(v));
    }
    if let Some(b) = &f.before_id {
        q = q.filter(firms::id.lt(b.clone()));
    }
    Ok(q.order(firms::id.desc()).limit(f.limit).load(conn)?)
}

/// Inside a write transaction: verifies a firm (once: verifying again
/// changes nothing), refuses the competing claims to its USCC, records the
/// audit entry and notifies the members. Returns the firm as it now is
/// (None if absent), whether this call verified it, and the live events.
pub fn verify_firm_in(
    conn: &mut DbConnection,
    id: &str,
    actor: &super::audit::Actor,
) -> StoreResult<(Option<Firm>, bool, Vec<NewEvent>)> {
    let t = now();
    {
        let Some(claim) = get_firm(conn, id)? else {
            return Ok((None, false, Vec::new()));
        };
        if claim.verified {
            return Ok((Some(claim), false, Vec::new()));
        }
        // One verified firm per USCC (a unique index holds it under races
        // too); verifying a claim refuses its competitors.
        if claim.claim_refused_at.is_some() {
            return Err(StoreError::Conflict("claim_refused".into()));
        }
        let verified_other = firms::table
            .filter(firms::uscc.eq(&claim.uscc))
            .filter(firms::verified.eq(true))
            .select(firms::id)
            .first::<String>(conn)
            .optional()?;
        if verified_other.is_some() {
            return Err(StoreError::Conflict("uscc".into()));
        }
        let n = diesel::update(firms::table.find(id).filter(firms::verified.eq(false)))
            .set((
                firms::verified.eq(true),
                firms::verified_at.eq(Some(t)),
                firms::verified_by.eq(Some(&actor.user_id)),
                firms::updated_at.eq(t),
            ))
            .execute(conn)
            .map_err(|e| StoreError::unique_as_conflict(e, "uscc"))?;
        let firm = get_firm(conn, id)?;
        let (Some(f), 1) = (&firm, n) else {
            return Ok((firm, false, Vec::new()));
        };
        let refused: Vec<String> = firms::table
            .filter(firms::uscc.eq(&f.uscc))
            .filter(firms::id.ne(id))
            .filter(firms::claim_refused_at.is_null())
            .select(firms::id)
            .load(conn)?;
        if !refused.is_empty() {
            diesel::update(firms::table.filter(firms::id.eq_any(&refused)))
                .set((firms::claim_refused_at.eq(Some(t)), firms::updated_at.eq(t)))
                .execute(conn)?;
        }
        super::audit::record(
            conn,
            actor,
            &f.community_id,
            "firm.verified",
            None,
            ("firm", id),
            serde_json::json!({ "name": f.name, "refused_claims": refused }),
        )?;
        let users = super::notifications::firm_members(conn, &[id.to_string()])?;
        let mut live = super::notifications::notify(
            conn,
            &users,
            &super::notifications::NewNotification {
                kind: "firm.verified",
                title: "企业认证通过".into(),
                body: format!("{} 已通过社区认证", f.name),
                subject_type: "firm",
                subject_id: id.to_string(),
                thread_id: None,
                group_key: None,
            },
        )?;
        // The refused claimants learn why their firm will not be verified.
        for other in &refused {
            let members = super::notifications::firm_members(conn, std::slice::from_ref(other))?;
            live.extend(super::notifications::notify(
                conn,
                &members,
                &super::notifications::NewNotification {
                    kind: "firm.claim_refused",
                    title: "企业认证申请未通过".into(),
                    body:
                        "同一统一社会信用代码的另一家企业已通过社区认证；如有异议请联系社区工作人员"
                            .into(),
                    subject_type: "firm",
                    subject_id: other.clone(),
                    thread_id: None,
                    group_key: None,
                },
            )?);
        }
        Ok((firm, true, live))
    }
}

// ------------------------------------------------------------- refresh tokens

pub fn insert_refresh_token(conn: &mut DbConnection, t: &RefreshToken) -> StoreResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values(t)
        .execute(conn)?;
    Ok(())
}

pub fn refresh_token_by_hash(
    conn: &mut DbConnection,
    hash: &str,
) -> StoreResult<Option<RefreshToken>> {
    Ok(refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash))
        .select(RefreshToken::as_select())
        .first(conn)
        .optional()?)
}

/// Outcome of presenting a refresh token.
pub enum Rotation {
    /// The token was live; it is now rotated and `next` replaces it.
    Rotated { user_id: String },
    /// The token had already been rotated: the family is now revoked.
    Reused,
    /// Unknown, expired or revoked.
    Invalid,
}

/// Rotates a refresh token atomically: a conditional update makes two
/// concurrent uses of one token count as one use and one reuse.
pub fn rotate_refresh_token(
    conn: &mut DbConnection,
    hash: &str,
    next: RefreshToken,
    at: NaiveDateTime,
) -> StoreResult<Rotation> {
    conn.transaction(|conn| {
        let rotated = diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(hash))
                .filter(refresh_tokens::rotated_at.is_null())
                .filter(refresh_tokens::revoked_at.is_null())
                .filter(refresh_tokens::expires_at.gt(at)),
        )
        .set(refresh_tokens::rotated_at.eq(Some(at)))
        .execute(conn)?;
        let Some(tok) = refresh_token_by_hash(conn, hash)? else {
            return Ok(Rotation::Invalid);
        };
        if rotated == 1 {
            let next = RefreshToken {
                user_id: tok.user_id.clone(),
                family_id: tok.family_id.clone(),
                ..next
            };
            insert_refresh_token(conn, &next)?;
            return Ok(Rotation::Rotated {
                user_id: tok.user_id,
            });
        }
        if tok.rotated_at.is_some() && tok.revoked_at.is_none() {
            revoke_family(conn, &tok.family_id, at)?;
            return Ok(Rotation::Reused);
        }
        Ok(Rotation::Invalid)
    })
}

pub fn revoke_family(
    conn: &mut DbConnection,
    family: &str,
    at: NaiveDateTime,
) -> StoreResult<usize> {
    Ok(diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(at)))
    .execute(conn)?)
}

// ------------------------------------------------------------- login throttle

pub fn throttle_state(conn: &mut DbConnection, login: &str) -> StoreResult<Option<LoginThrottle>> {
    Ok(login_throttle::table
        .find(login)
        .select(LoginThrottle::as_select())
        .first(conn)
        .optional()?)
}

/// Records a failed login and returns the new state. `window` bounds how long
/// failures accumulate; after `max_failures` the login locks for `lock`, and
/// each further failure while counting doubles the lock (capped).
pub fn record_login_failure(
    conn: &mut DbConnection,
    login: &str,
    at: NaiveDateTime,
    window: chrono::TimeDelta,
    max_failures: i32,
    lock: chrono::TimeDelta,
) -> StoreResult<LoginThrottle> {
    conn.transaction(|conn| {
        super::begin_write(conn)?;
        let prev = throttle_state(conn, login)?;
        let (failures, first) = match &prev {
            Some(p) if at - p.first_failure_at <= window => (p.failures + 1, p.first_failure_at),
            _ => (1, at),
        };
        let locked_until = if failures >= max_failures {
            let doublings = (failures - max_failures).min(6) as u32;
            Some(at + lock * 2i32.pow(doublings))
        } else {
            None
        };
        let row = LoginThrottle {
            login: login.to_string(),
            failures,
            first_failure_at: first,
            locked_until,
        };
        if prev.is_some() {
            diesel::update(login_throttle::table.find(login))
                .set((
                    login_throttle::failures.eq(row.failures),
                    login_throttle::first_failure_at.eq(row.first_failure_at),
                    login_throttle::locked_until.eq(row.locked_until),
                ))
                .execute(conn)?;
        } else {
            diesel::insert_into(login_throttle::table)
                .values(&row)
                .execute(conn)?;
        }
        Ok(row)
    })
}

pub fn clear_login_failures(conn: &mut DbConnection, login: &str) -> StoreResult<()> {
    diesel::delete(login_throttle::table.find(login)).execute(conn)?;
    Ok(())
}

/// A user as the audit log names them (an account gone: no name).
pub fn actor(c: &mut DbConnection, user_id: &str) -> StoreResult<super::audit::Actor> {
    let name = get_user(c, user_id)?
        .map(|u| u.display_name)
        .unwrap_or_default();
    Ok(super::audit::Actor {
        user_id: user_id.to_string(),
        name,
    })
}
