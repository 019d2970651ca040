//! The listing write path: a listing and the staff case its request may
//! open are written in one transaction.

use crate::service::cases;
use crate::store::models::Listing;
use crate::store::{DbConnection, StoreResult, listings, stream};

/// Inserts a new listing (and opens its case when it needs one); returns
/// the position of its change in the change log.
pub fn create(conn: &mut DbConnection, row: &Listing) -> StoreResult<i64> {
    stream::write(conn, |c| {
        let (seq, mut live) = listings::insert(c, row)?;
        live.extend(cases::open_for(c, row)?);
        Ok((seq, live))
    })
}

/// Replaces a listing if it still has `expected_version` (two editors
/// cannot silently overwrite each other: `StoreError::Conflict` otherwise);
/// its case opens or follows its urgency.
pub fn replace(conn: &mut DbConnection, row: &Listing, expected_version: i32) -> StoreResult<i64> {
    stream::write(conn, |c| {
        let seq = listings::update(c, row, expected_version)?;
        Ok((seq, cases::open_for(c, row)?))
    })
}

/// Inserts many new listings in one transaction (bulk import), with the
/// cases their requests open.
pub fn create_many(conn: &mut DbConnection, rows: &[Listing]) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    stream::write(conn, |c| {
        listings::insert_many(c, rows)?;
        let mut live = Vec::new();
        for r in rows {
            live.extend(cases::open_for(c, r)?);
        }
        Ok(((), live))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::service::testkit::{emergency_request, park};
    use crate::store::{StoreError, cases, listings};

    #[test]
    fn an_emergency_request_opens_its_case_in_the_same_write() {
        let p = park();
        let request = p.post(&p.buyer, emergency_request());
        let k = cases::by_listing(&mut p.conn(), &request.id)
            .expect("read")
            .expect("the emergency opened a case");
        assert_eq!(
            (k.status.as_str(), k.urgency.as_str()),
            ("open", "emergency")
        );
        assert_eq!(k.community_id, p.dagang.id);

        let mut normal = emergency_request();
        normal["urgency"] = json!("normal");
        let quiet = p.post(&p.buyer, normal);
        assert!(
            cases::by_listing(&mut p.conn(), &quiet.id)
                .expect("read")
                .is_none()
        );
    }

    #[test]
    fn an_unverified_firms_emergency_waits_for_its_verification() {
        let p = park();
        let newcomer = p.unverified("新来的厂", 9);
        let request = p.post(&newcomer, emergency_request());
        assert!(
            cases::by_listing(&mut p.conn(), &request.id)
                .expect("read")
                .is_none(),
            "an unverified firm cannot reach the staff queue"
        );
        let f =
            super::super::accounts::verify_firm(&mut p.conn(), &newcomer.firm.id, &p.staff_actor())
                .expect("verify")
                .expect("the firm");
        assert!(f.verified);
        let k = cases::by_listing(&mut p.conn(), &request.id)
            .expect("read")
            .expect("verification opened the waiting case");
        assert_eq!(k.status, "open");
        // Verifying again changes nothing and opens nothing twice.
        super::super::accounts::verify_firm(&mut p.conn(), &newcomer.firm.id, &p.staff_actor())
            .expect("verify again");
        let open = cases::list(
            &mut p.conn(),
            &cases::QueueFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .expect("queue");
        assert_eq!(
            open.iter().filter(|c| c.listing_id == request.id).count(),
            1
        );
    }

    #[test]
    fn raising_urgency_opens_a_case_and_a_stale_version_changes_nothing() {
        let p = park();
        let mut normal = emergency_request();
        normal["urgency"] = json!("normal");
        let row = p.post(&p.buyer, normal);
        let mut urgent = row.clone();
        urgent.urgency = "urgent".into();
        urgent.version += 1;
        super::replace(&mut p.conn(), &urgent, row.version).expect("replace");
        let k = cases::by_listing(&mut p.conn(), &row.id)
            .expect("read")
            .expect("a case once urgent");
        assert_eq!(k.urgency, "urgent");

        let mut stale = urgent.clone();
        stale.title = "别人同时改了标题".into();
        stale.version += 1;
        let e = super::replace(&mut p.conn(), &stale, row.version).expect_err("stale version");
        assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
        let now = listings::get_row(&mut p.conn(), &row.id)
            .expect("read")
            .expect("row");
        assert_eq!((now.title, now.version), (urgent.title, urgent.version));
    }
}
