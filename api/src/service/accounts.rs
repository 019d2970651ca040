//! Firms and their verification by community staff.

use crate::service::cases;
use crate::store::accounts;
use crate::store::audit::Actor;
use crate::store::models::Firm;
use crate::store::{DbConnection, StoreResult, begin_write, listings, stream};

/// Verifies a firm (once: verifying again changes nothing), in one
/// transaction: the competing claims to its USCC are refused, the audit
/// entry written, its members notified, its listings queued for
/// re-indexing (what others may see of them changes) and the cases of its
/// waiting urgent requests opened. Returns the firm as it now is, or None
/// if it was absent.
pub fn verify_firm(conn: &mut DbConnection, id: &str, actor: &Actor) -> StoreResult<Option<Firm>> {
    stream::write(conn, |c| {
        begin_write(c)?;
        let (firm, verified_now, mut live) = accounts::verify_firm_in(c, id, actor)?;
        if verified_now {
            listings::touch_firm(c, id)?;
            live.extend(cases::open_for_firm(c, id)?);
        }
        Ok((firm, live))
    })
}
