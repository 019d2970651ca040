//! Districts (区域): administrative units over several communities, their
//! communities and administrators; and the staff roster of a community
//! (its accounts, whether disabled, when last active). Table work only;
//! who may do what is the service's (`service::districts`).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::{Community, Staff, User};
use super::schema::{
    audit_log, communities, community_staff, district_admins, district_communities, districts,
    refresh_tokens, users,
};
use super::{DbConnection, StoreError, StoreResult, new_id, now};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = districts)]
pub struct District {
    pub id: String,
    pub name: String,
    pub created_at: NaiveDateTime,
}

pub fn create(c: &mut DbConnection, name: &str) -> StoreResult<District> {
    let row = District {
        id: new_id(),
        name: name.to_string(),
        created_at: now(),
    };
    diesel::insert_into(districts::table)
        .values(&row)
        .execute(c)
        .map_err(|e| StoreError::unique_as_conflict(e, "district name"))?;
    Ok(row)
}

pub fn get(c: &mut DbConnection, id: &str) -> StoreResult<Option<District>> {
    Ok(districts::table
        .find(id)
        .select(District::as_select())
        .first(c)
        .optional()?)
}

/// Every district, by name.
pub fn list(c: &mut DbConnection) -> StoreResult<Vec<District>> {
    Ok(districts::table
        .order(districts::name.asc())
        .select(District::as_select())
        .load(c)?)
}

/// The districts a user administers, by name.
pub fn administered_by(c: &mut DbConnection, user_id: &str) -> StoreResult<Vec<District>> {
    Ok(districts::table
        .inner_join(district_admins::table)
        .filter(district_admins::user_id.eq(user_id))
        .order(districts::name.asc())
        .select(District::as_select())
        .load(c)?)
}

/// The communities of the districts a user administers (each once, by
/// name): what a district administrator reads and manages. One query.
pub fn communities_administered_by(
    c: &mut DbConnection,
    user_id: &str,
) -> StoreResult<Vec<Community>> {
    let mut rows: Vec<Community> = communities::table
        .inner_join(
            district_communities::table.inner_join(
                district_admins::table
                    .on(district_admins::district_id.eq(district_communities::district_id)),
            ),
        )
        .filter(district_admins::user_id.eq(user_id))
        .order((communities::name.asc(), communities::id.asc()))
        .select(Community::as_select())
        .load(c)?;
    rows.dedup_by(|a, b| a.id == b.id);
    Ok(rows)
}

/// A district's communities, by name.
pub fn communities_of(c: &mut DbConnection, district_id: &str) -> StoreResult<Vec<Community>> {
    Ok(communities::table
        .inner_join(district_communities::table)
        .filter(district_communities::district_id.eq(district_id))
        .order(communities::name.asc())
        .select(Community::as_select())
        .load(c)?)
}

/// A district's administrators, by name.
pub fn admins_of(c: &mut DbConnection, district_id: &str) -> StoreResult<Vec<User>> {
    Ok(users::table
        .inner_join(district_admins::table)
        .filter(district_admins::district_id.eq(district_id))
        .order(users::display_name.asc())
        .select(User::as_select())
        .load(c)?)
}

/// Adds a community to a district; false when it already was in it.
pub fn add_community(
    c: &mut DbConnection,
    district_id: &str,
    community_id: &str,
) -> StoreResult<bool> {
    let exists: i64 = district_communities::table
        .filter(district_communities::district_id.eq(district_id))
        .filter(district_communities::community_id.eq(community_id))
        .count()
        .get_result(c)?;
    if exists > 0 {
        return Ok(false);
    }
    diesel::insert_into(district_communities::table)
        .values((
            district_communities::district_id.eq(district_id),
            district_communities::community_id.eq(community_id),
            district_communities::created_at.eq(now()),
        ))
        .execute(c)?;
    Ok(true)
}

/// Removes a community from a district; false when it was not in it.
pub fn remove_community(
    c: &mut DbConnection,
    district_id: &str,
    community_id: &str,
) -> StoreResult<bool> {
    Ok(diesel::delete(
        district_communities::table
            .filter(district_communities::district_id.eq(district_id))
            .filter(district_communities::community_id.eq(community_id)),
    )
    .execute(c)?
        > 0)
}

/// Makes a user an administrator of a district; false when they were.
pub fn add_admin(c: &mut DbConnection, district_id: &str, user_id: &str) -> StoreResult<bool> {
    let exists: i64 = district_admins::table
        .filter(district_admins::district_id.eq(district_id))
        .filter(district_admins::user_id.eq(user_id))
        .count()
        .get_result(c)?;
    if exists > 0 {
        return Ok(false);
    }
    diesel::insert_into(district_admins::table)
        .values((
            district_admins::district_id.eq(district_id),
            district_admins::user_id.eq(user_id),
            district_admins::created_at.eq(now()),
        ))
        .execute(c)?;
    Ok(true)
}

/// Ends a user's administration of a district; false when they had none.
pub fn remove_admin(c: &mut DbConnection, district_id: &str, user_id: &str) -> StoreResult<bool> {
    Ok(diesel::delete(
        district_admins::table
            .filter(district_admins::district_id.eq(district_id))
            .filter(district_admins::user_id.eq(user_id)),
    )
    .execute(c)?
        > 0)
}

// ------------------------------------------------------------ staff roster

/// A community's staff accounts with their users, by name.
pub fn staff_of(c: &mut DbConnection, community_id: &str) -> StoreResult<Vec<(Staff, User)>> {
    Ok(community_staff::table
        .inner_join(users::table)
        .filter(community_staff::community_id.eq(community_id))
        .filter(users::deleted_at.is_null())
        .order((users::display_name.asc(), users::id.asc()))
        .select((Staff::as_select(), User::as_select()))
        .load(c)?)
}

/// One staff account with its user.
pub fn staff_member(c: &mut DbConnection, user_id: &str) -> StoreResult<Option<(Staff, User)>> {
    Ok(community_staff::table
        .inner_join(users::table)
        .filter(community_staff::user_id.eq(user_id))
        .select((Staff::as_select(), User::as_select()))
        .first(c)
        .optional()?)
}

/// Disables (`Some(at)`) or enables (`None`) a staff account.
pub fn set_staff_disabled(
    c: &mut DbConnection,
    user_id: &str,
    at: Option<NaiveDateTime>,
) -> StoreResult<()> {
    diesel::update(community_staff::table.find(user_id))
        .set(community_staff::disabled_at.eq(at))
        .execute(c)?;
    Ok(())
}

/// When each user last signed in or refreshed a session (the newest
/// refresh token issued to them).
pub fn last_sign_in(
    c: &mut DbConnection,
    user_ids: &[String],
) -> StoreResult<HashMap<String, NaiveDateTime>> {
    let rows: Vec<(String, Option<NaiveDateTime>)> = refresh_tokens::table
        .filter(refresh_tokens::user_id.eq_any(user_ids))
        .group_by(refresh_tokens::user_id)
        .select((
            refresh_tokens::user_id,
            diesel::dsl::max(refresh_tokens::created_at),
        ))
        .load(c)?;
    Ok(rows
        .into_iter()
        .filter_map(|(u, t)| t.map(|t| (u, t)))
        .collect())
}

/// When each user last did something the audit log records.
pub fn last_action(
    c: &mut DbConnection,
    user_ids: &[String],
) -> StoreResult<HashMap<String, NaiveDateTime>> {
    let rows: Vec<(String, Option<NaiveDateTime>)> = audit_log::table
        .filter(audit_log::actor_user_id.eq_any(user_ids))
        .group_by(audit_log::actor_user_id)
        .select((audit_log::actor_user_id, diesel::dsl::max(audit_log::at)))
        .load(c)?;
    Ok(rows
        .into_iter()
        .filter_map(|(u, t)| t.map(|t| (u, t)))
        .collect())
}
