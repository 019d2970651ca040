//! Short links to listings (`/s/{code}`), for the digest of open needs that
//! staff paste into the park's WeChat groups. One code per listing, made on
//! first use and reused after; each visit counts a click.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::short_links as s;
use super::{DbConnection, StoreError, StoreResult};

/// Characters of a code: digits and ASCII letters, none that read alike in
/// print (0/O, 1/l/I).
const ALPHABET: &[u8] = b"23456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
/// Length of a code: 57^7 ≈ 1.95 × 10^12 codes, far beyond guessing.
pub const CODE_LEN: usize = 7;

/// Whether `code` has the shape of a short code (checked before any query).
pub fn well_formed(code: &str) -> bool {
    code.len() == CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b))
}

/// A new random code.
fn new_code() -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let mut n = u128::from_be_bytes(bytes);
    (0..CODE_LEN)
        .map(|_| {
            let c = ALPHABET[(n % ALPHABET.len() as u128) as usize];
            n /= ALPHABET.len() as u128;
            c as char
        })
        .collect()
}

/// The codes of these listings, made for those that have none yet.
pub fn ensure(
    c: &mut DbConnection,
    listing_ids: &[String],
    community_id: &str,
    by: &str,
    at: NaiveDateTime,
) -> StoreResult<HashMap<String, String>> {
    let mut out: HashMap<String, String> = s::table
        .filter(s::listing_id.eq_any(listing_ids))
        .select((s::listing_id, s::code))
        .load::<(String, String)>(c)?
        .into_iter()
        .collect();
    for id in listing_ids {
        if out.contains_key(id) {
            continue;
        }
        // A code already taken (or a listing linked meanwhile by another
        // request) is a unique violation: look again, then try a new code.
        let mut tries = 0;
        let code = loop {
            let code = new_code();
            let row = (
                s::code.eq(&code),
                s::listing_id.eq(id),
                s::community_id.eq(community_id),
                s::created_by.eq(by),
                s::created_at.eq(at),
            );
            match diesel::insert_into(s::table).values(row).execute(c) {
                Ok(_) => break code,
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) if tries < 5 => {
                    tries += 1;
                    if let Some(code) = code_of(c, id)? {
                        break code;
                    }
                }
                Err(e) => return Err(StoreError::from(e)),
            }
        };
        out.insert(id.clone(), code);
    }
    Ok(out)
}

fn code_of(c: &mut DbConnection, listing_id: &str) -> StoreResult<Option<String>> {
    Ok(s::table
        .filter(s::listing_id.eq(listing_id))
        .select(s::code)
        .first(c)
        .optional()?)
}

/// The listing a code stands for, counting the visit.
pub fn follow(c: &mut DbConnection, code: &str) -> StoreResult<Option<String>> {
    let n = diesel::update(s::table.find(code))
        .set(s::clicks.eq(s::clicks + 1))
        .execute(c)?;
    if n == 0 {
        return Ok(None);
    }
    Ok(s::table
        .find(code)
        .select(s::listing_id)
        .first(c)
        .optional()?)
}

/// Visits counted so far, per listing.
pub fn clicks(c: &mut DbConnection, listing_ids: &[String]) -> StoreResult<HashMap<String, i64>> {
    Ok(s::table
        .filter(s::listing_id.eq_any(listing_ids))
        .select((s::listing_id, s::clicks))
        .load::<(String, i64)>(c)?
        .into_iter()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_well_formed_and_differ() {
        let a = new_code();
        let b = new_code();
        assert!(well_formed(&a), "{a}");
        assert!(well_formed(&b), "{b}");
        assert_ne!(a, b);
        assert!(!well_formed("abc"));
        assert!(!well_formed("abcdef0"), "0 is not in the alphabet");
        assert!(!well_formed("abcdéfg"));
    }
}
