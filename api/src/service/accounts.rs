//! Firms and their verification by community staff.

use crate::service::cases;
use crate::service::error::{ApiError, Code};
use crate::store::accounts;
use crate::store::audit::Actor;
use crate::store::models::Firm;
use crate::store::{Db, DbConnection, StoreError, StoreResult, begin_write, listings, stream};

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

/// Staff verify a firm (see [`verify_firm`]) on a pooled connection; a USCC
/// already verified for another firm (`uscc_taken`) or a claim refused
/// earlier (`claim_refused`) is a conflict.
pub async fn verify(db: &Db, firm_id: String, actor: Actor) -> Result<Firm, ApiError> {
    db.run(move |c| verify_firm(c, &firm_id, &actor))
        .await
        .map_err(|e| match e {
            StoreError::Conflict(what) if what == "claim_refused" => ApiError::conflict(
                Code::ClaimRefused,
                "同一统一社会信用代码的另一家企业已通过认证，本申请已被拒绝",
            ),
            StoreError::Conflict(_) => {
                ApiError::conflict(Code::UsccTaken, "同一统一社会信用代码已有通过认证的企业")
            }
            other => other.into(),
        })?
        .ok_or_else(|| ApiError::not_found("企业"))
}
