//! Running tallies of what reputations are computed from, per firm and the
//! community a deal or rating counted in: confirmed, completed and failed
//! (cancelled after confirmation) deals, and the published ratings a firm
//! received. The transactions that confirm, complete or cancel an agreement
//! and that publish ratings add to them, so a reputation is read from a few
//! rows instead of being recounted from every agreement and rating.

use diesel::prelude::*;

use super::schema::reputation_tallies;
use super::{DbConnection, StoreResult};

/// One firm's tally in one community.
#[derive(Debug, Clone, Default, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = reputation_tallies)]
pub struct Tally {
    pub firm_id: String,
    pub community_id: String,
    pub confirmed: i32,
    pub completed: i32,
    pub failed: i32,
    pub ratings: i32,
    pub rating_sum: i64,
}

/// What one event adds to a tally.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Delta {
    pub confirmed: i32,
    pub completed: i32,
    pub failed: i32,
    pub ratings: i32,
    pub rating_sum: i64,
}

impl Delta {
    pub const CONFIRMED: Delta = Delta {
        confirmed: 1,
        completed: 0,
        failed: 0,
        ratings: 0,
        rating_sum: 0,
    };
    pub const COMPLETED: Delta = Delta {
        confirmed: 0,
        completed: 1,
        failed: 0,
        ratings: 0,
        rating_sum: 0,
    };
    pub const FAILED: Delta = Delta {
        confirmed: 0,
        completed: 0,
        failed: 1,
        ratings: 0,
        rating_sum: 0,
    };

    pub fn rating(score: i32) -> Delta {
        Delta {
            ratings: 1,
            rating_sum: i64::from(score),
            ..Delta::default()
        }
    }
}

/// Inside the transaction of the event: adds `d` to the firm's tally in
/// the community (creating it at zero first).
pub fn add(c: &mut DbConnection, firm_id: &str, community_id: &str, d: Delta) -> StoreResult<()> {
    let zero = Tally {
        firm_id: firm_id.to_string(),
        community_id: community_id.to_string(),
        ..Tally::default()
    };
    match c {
        DbConnection::Sqlite(c) => diesel::insert_into(reputation_tallies::table)
            .values(&zero)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConnection::Postgresql(c) => diesel::insert_into(reputation_tallies::table)
            .values(&zero)
            .on_conflict_do_nothing()
            .execute(c)?,
    };
    use reputation_tallies::dsl as t;
    diesel::update(
        t::reputation_tallies
            .filter(t::firm_id.eq(firm_id))
            .filter(t::community_id.eq(community_id)),
    )
    .set((
        t::confirmed.eq(t::confirmed + d.confirmed),
        t::completed.eq(t::completed + d.completed),
        t::failed.eq(t::failed + d.failed),
        t::ratings.eq(t::ratings + d.ratings),
        t::rating_sum.eq(t::rating_sum + d.rating_sum),
    ))
    .execute(c)?;
    Ok(())
}

/// The tallies of some firms (any community).
pub fn of_firms(c: &mut DbConnection, firm_ids: &[String]) -> StoreResult<Vec<Tally>> {
    let mut out = Vec::new();
    for chunk in firm_ids.chunks(500) {
        out.extend(
            reputation_tallies::table
                .filter(reputation_tallies::firm_id.eq_any(chunk))
                .select(Tally::as_select())
                .load(c)?,
        );
    }
    Ok(out)
}

/// The tallies counted in some communities (a park's prior).
pub fn of_communities(c: &mut DbConnection, community_ids: &[String]) -> StoreResult<Vec<Tally>> {
    let mut out = Vec::new();
    for chunk in community_ids.chunks(500) {
        out.extend(
            reputation_tallies::table
                .filter(reputation_tallies::community_id.eq_any(chunk))
                .select(Tally::as_select())
                .load(c)?,
        );
    }
    Ok(out)
}

/// Every tally.
pub fn all(c: &mut DbConnection) -> StoreResult<Vec<Tally>> {
    Ok(reputation_tallies::table
        .select(Tally::as_select())
        .load(c)?)
}
