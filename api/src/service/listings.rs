//! The listing write path: posting, editing and closing, with the rules of
//! who may do each; a listing and the staff case its request may open are
//! written in one transaction.

use serde::Deserialize;
use zhiqilian_matcher::{Kind, ListingStatus, Side};

use crate::service::access::{Caller, visible_to};
use crate::service::cases::{self, opens_case};
use crate::service::error::{ApiError, Code};
use crate::service::frontdesk;
use crate::service::listing_form::{self, ListingInput, ListingPatch};
use crate::service::pagination::{self, Page};
use crate::service::quota::Quotas;
use crate::service::validate;
use crate::service::views::{ListingOut, listing_out};
use crate::store::listings::{ListFilter, ListingView};
use crate::store::models::Listing;
use crate::store::{Db, DbConnection, StoreError, StoreResult, accounts, listings, now, stream};

/// A listing the caller may see; 404 for anything else (a listing one may
/// not see does not exist for one).
pub async fn visible(db: &Db, caller: &Caller, id: String) -> Result<ListingView, ApiError> {
    let v = db
        .run(move |c| listings::get(c, &id))
        .await?
        .ok_or_else(|| ApiError::not_found("供需信息"))?;
    if !visible_to(&v, &caller.viewer()) {
        return Err(ApiError::not_found("供需信息"));
    }
    Ok(v)
}

/// A firm member posts a listing for their firm (or community staff for a
/// firm of their community, [`frontdesk::firm_to_post_for`]): the form is validated
/// against the firm (its address is the default location), the firm's and
/// the user's allowances are spent (urgent and emergency requests have
/// their own), and the listing is written with the case its request opens.
/// Returns the new listing as shown and the position of its change.
pub async fn post(
    db: &Db,
    quotas: &Quotas,
    caller: &Caller,
    input: ListingInput,
) -> Result<(ListingOut, i64), ApiError> {
    let (firm, for_firm) =
        frontdesk::firm_to_post_for(db, caller, input.firm_id.as_deref()).await?;
    let at = now();
    let draft = listing_form::validate(&input, &firm, at).map_err(ApiError::validation)?;
    let mut row = listing_form::new_row(&firm, Some(caller.user_id.clone()), None, draft, at);
    if for_firm {
        row.posted_by_staff = Some(caller.user_id.clone());
    }
    if opens_case(&row) {
        quotas.emergency(&firm.id, &caller.user_id)?;
    }
    quotas.listing(&firm.id, &caller.user_id)?;
    let id = row.id.clone();
    let seq = db
        .run(move |c| {
            if for_firm {
                frontdesk::create_for_firm(c, &row)
            } else {
                create(c, &row)
            }
        })
        .await?;
    Ok((shown(db, id).await?, seq))
}

/// A listing as the API shows it (no visibility check: for what the caller
/// just wrote or was already allowed to see).
pub async fn shown(db: &Db, id: String) -> Result<ListingOut, ApiError> {
    db.run(move |c| listings::get(c, &id))
        .await?
        .map(listing_out)
        .ok_or_else(|| ApiError::not_found("供需信息"))
}

/// A listing the caller may see, as the API shows it.
pub async fn get(db: &Db, caller: &Caller, id: String) -> Result<ListingOut, ApiError> {
    Ok(listing_out(visible(db, caller, id).await?))
}

/// A member of the owning firm edits an open listing: the patch applies to
/// the listing as it is, the result is validated as a new post would be, an
/// edit that changes nothing writes nothing (`None`), and a concurrent edit
/// is refused (`edit_conflict`). Raising a request to urgent or emergency
/// spends that allowance. Returns the listing as it now is and the position
/// of the change, if any.
pub async fn edit(
    db: &Db,
    quotas: &Quotas,
    caller: &Caller,
    id: String,
    patch: ListingPatch,
) -> Result<(ListingOut, Option<i64>), ApiError> {
    let v = visible(db, caller, id).await?;
    let seq = edit_visible(db, quotas, caller, &v, patch).await?;
    let out = match seq {
        Some(_) => shown(db, v.listing.id).await?,
        None => listing_out(v),
    };
    Ok((out, seq))
}

async fn edit_visible(
    db: &Db,
    quotas: &Quotas,
    caller: &Caller,
    v: &ListingView,
    patch: ListingPatch,
) -> Result<Option<i64>, ApiError> {
    let for_firm = frontdesk::edits_for_firm(caller, &v.listing);
    if !(caller.is_member_of(&v.listing.firm_id) || for_firm) {
        return Err(ApiError::forbidden(
            "只有发布企业的成员（或代发且未被接管时的本社区工作人员）可以修改",
        ));
    }
    if v.listing.status != ListingStatus::Open {
        return Err(ApiError::conflict(
            Code::ListingClosed,
            "已关闭的供需信息不能修改",
        ));
    }
    let keep_expiry = patch.expires_at.is_none();
    let keep_quotes_close = patch.call_for_quotes.is_none();
    let input = listing_form::apply_patch(listing_form::input_of(&v.listing), patch)
        .map_err(ApiError::validation)?;
    let firm_id = v.listing.firm_id.clone();
    let firm = db
        .run(move |c| accounts::get_firm(c, &firm_id))
        .await?
        .ok_or_else(|| ApiError::not_found("企业"))?;
    let at = now();
    let mut draft = listing_form::validate(&input, &firm, at).map_err(ApiError::validation)?;
    if keep_expiry {
        draft.expires_at = v.listing.expires_at;
    }
    if keep_quotes_close && let Some(c) = draft.call_for_quotes.as_mut() {
        c.closes_at = v.listing.quotes_close_at;
    }
    let mut row = v.listing.clone();
    listing_form::fill_row(&mut row, draft);
    if row == v.listing {
        return Ok(None);
    }
    if opens_case(&row) && !opens_case(&v.listing) {
        quotas.emergency(&row.firm_id, &caller.user_id)?;
    }
    let expected = row.version;
    row.version += 1;
    row.updated_at = at;
    let staff = caller.user_id.clone();
    let seq = db
        .run(move |c| {
            if for_firm {
                frontdesk::replace_for_firm(c, &row, expected, &staff)
            } else {
                replace(c, &row, expected)
            }
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                ApiError::conflict(Code::EditConflict, "该信息刚被他人修改，请刷新后重试")
            }
            other => other.into(),
        })?;
    Ok(Some(seq))
}

/// The owning firm's members, the community's staff and admins may close a
/// listing; closing a closed one changes nothing (`None`). Returns the
/// listing as it now is and the position of the change, if any.
pub async fn close(
    db: &Db,
    caller: &Caller,
    id: String,
) -> Result<(ListingOut, Option<i64>), ApiError> {
    let v = visible(db, caller, id).await?;
    let l = &v.listing;
    if !(caller.is_member_of(&l.firm_id) || caller.can_administer_community(&l.community_id)) {
        return Err(ApiError::forbidden(
            "只有发布企业的成员或本社区工作人员可以关闭",
        ));
    }
    let id = l.id.clone();
    let seq = if !caller.is_member_of(&l.firm_id) && caller.staff_community.is_some() {
        // Staff close a firm's listing: audited, the firm's admins told.
        let (l, staff) = (l.clone(), caller.user_id.clone());
        db.run(move |c| frontdesk::close_for_firm(c, &l, &staff))
            .await?
    } else {
        db.run({
            let id = id.clone();
            move |c| listings::close(c, &id, now())
        })
        .await?
    };
    Ok((shown(db, id).await?, seq))
}

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

// ------------------------------------------------------------------ browse

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only my firm's listings (any status).
    #[serde(default)]
    pub mine: Option<bool>,
    pub side: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub community: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// Browses listings: the caller's firm's own (any status) or the open ones
/// the caller may see, newest first, a page at a time.
pub async fn browse(db: &Db, caller: &Caller, q: ListQuery) -> Result<Page<ListingOut>, ApiError> {
    let mut e = validate::Errors::default();
    let check =
        |e: &mut validate::Errors, field: &str, v: &Option<String>, ok: bool, allowed: &str| {
            if v.is_some() && !ok {
                e.push(
                    field,
                    "invalid_value",
                    format!("取值无效，可选值：{allowed}"),
                );
            }
        };
    check(
        &mut e,
        "side",
        &q.side,
        q.side.as_deref().is_none_or(|s| s.parse::<Side>().is_ok()),
        "offer, request",
    );
    check(
        &mut e,
        "kind",
        &q.kind,
        q.kind.as_deref().is_none_or(|s| s.parse::<Kind>().is_ok()),
        "space, equipment, material, logistics, workforce, service",
    );
    check(
        &mut e,
        "status",
        &q.status,
        q.status
            .as_deref()
            .is_none_or(|s| s.parse::<ListingStatus>().is_ok()),
        "open, closed",
    );
    let mine = q.mine.unwrap_or(false);
    let firm_id = if mine {
        match caller.firm_id() {
            Some(f) => Some(f.to_string()),
            None => {
                e.push("mine", "not_a_member", "只有企业成员可以查看本企业的发布");
                None
            }
        }
    } else {
        None
    };
    e.into_result().map_err(ApiError::validation)?;
    let limit = pagination::limit(q.limit)?;
    // Others' listings default to open ones; my own list shows every status.
    let status = q.status.or_else(|| (!mine).then(|| "open".to_string()));
    let filter = ListFilter {
        firm_id,
        side: q.side,
        kind: q.kind,
        status,
        community_id: q.community,
        before_id: pagination::decode(q.cursor.as_deref())?,
        limit: limit + 1,
    };
    let viewer = caller.viewer();
    let rows = db.run(move |c| listings::list(c, &viewer, &filter)).await?;
    Ok(Page::from_rows(rows, limit, |v| &v.listing.id, listing_out))
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
        assert_eq!(k.status, zhiqilian_matcher::CaseStatus::Open);
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
        urgent.urgency = zhiqilian_matcher::Urgency::Urgent;
        urgent.version += 1;
        super::replace(&mut p.conn(), &urgent, row.version).expect("replace");
        let k = cases::by_listing(&mut p.conn(), &row.id)
            .expect("read")
            .expect("a case once urgent");
        assert_eq!(k.urgency, zhiqilian_matcher::Urgency::Urgent);

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

// -------------------------------------------------------------- bulk loads

/// One checked listing of a bulk load (the command-line importer, a
/// spreadsheet import), keyed by its external key.
#[derive(Debug, Clone)]
pub struct BulkItem {
    /// The line or row it came from, for reporting.
    pub row: usize,
    pub key: String,
    pub firm: crate::store::models::Firm,
    pub draft: listing_form::Draft,
    /// Community staff loading for the firm: new listings record them as
    /// poster (`posted_by_staff`), and a stored listing is changed only
    /// while it is open and no admin of the firm has taken it over.
    pub posted_by_staff: Option<String>,
}

/// What a bulk load did with one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkOutcome {
    Created,
    Updated,
    Unchanged,
}

/// Why a bulk item was not written: the field (`key` or `database`) and a
/// message for people.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkError {
    pub row: usize,
    pub field: &'static str,
    pub message: String,
}

impl From<diesel::result::Error> for BulkError {
    fn from(e: diesel::result::Error) -> BulkError {
        bulk_err(0, "database", e.to_string())
    }
}

fn bulk_err(row: usize, field: &'static str, message: impl Into<String>) -> BulkError {
    BulkError {
        row,
        field,
        message: message.into(),
    }
}

/// Whether `stored` (the listing with the item's key) may take the item.
fn bulk_refusal(p: &BulkItem, stored: &Listing) -> Option<BulkError> {
    if stored.firm_id != p.firm.id {
        return Some(bulk_err(p.row, "key", "该编号已属于另一家企业的信息"));
    }
    if p.posted_by_staff.is_some() {
        if stored.posted_by_staff.is_none() {
            return Some(bulk_err(p.row, "key", "该信息已由企业接管，社区不能再修改"));
        }
        if stored.status != ListingStatus::Open {
            return Some(bulk_err(p.row, "key", "该信息已关闭，不能通过导入修改"));
        }
    }
    None
}

fn bulk_new_row(p: &BulkItem, at: chrono::NaiveDateTime) -> Listing {
    let mut row = listing_form::new_row(
        &p.firm,
        p.posted_by_staff.clone(),
        Some(p.key.clone()),
        p.draft.clone(),
        at,
    );
    row.posted_by_staff = p.posted_by_staff.clone();
    row
}

/// Creates or updates the listing of one item; `stored` is the listing
/// with its key, if any. Expiry is not part of a bulk item: an update keeps
/// what is stored.
fn bulk_write_one(
    conn: &mut DbConnection,
    p: &BulkItem,
    stored: Option<&Listing>,
) -> Result<BulkOutcome, BulkError> {
    let at = now();
    let db_err = |e: StoreError| bulk_err(p.row, "database", format!("写入失败：{e}"));
    let Some(existing) = stored else {
        create(conn, &bulk_new_row(p, at)).map_err(db_err)?;
        return Ok(BulkOutcome::Created);
    };
    if let Some(refused) = bulk_refusal(p, existing) {
        return Err(refused);
    }
    let mut row = existing.clone();
    let expires_at = row.expires_at;
    listing_form::fill_row(&mut row, p.draft.clone());
    row.expires_at = expires_at;
    if row == *existing {
        return Ok(BulkOutcome::Unchanged);
    }
    row.version += 1;
    row.updated_at = at;
    replace(conn, &row, existing.version).map_err(db_err)?;
    Ok(BulkOutcome::Updated)
}

/// Writes a batch of items: all in one transaction (new listings as one
/// bulk insert), or, when that fails (a key repeated within the batch, a
/// concurrent writer), item by item so that one bad item costs only itself.
/// Answers each item's outcome in order.
pub fn write_bulk(
    conn: &mut DbConnection,
    items: &[BulkItem],
) -> Vec<Result<BulkOutcome, BulkError>> {
    use diesel::Connection;
    if items.is_empty() {
        return Vec::new();
    }
    let keys: Vec<String> = items.iter().map(|p| p.key.clone()).collect();
    let existing = match listings::by_ext_keys(conn, &keys) {
        Ok(found) => found,
        Err(e) => {
            return items
                .iter()
                .map(|p| Err(bulk_err(p.row, "database", format!("读取失败：{e}"))))
                .collect();
        }
    };
    let whole = conn.transaction::<_, BulkError, _>(|c| {
        let at = now();
        let mut fresh = Vec::new();
        let mut outcomes = Vec::with_capacity(items.len());
        for p in items {
            match existing.get(&p.key) {
                None => {
                    fresh.push(bulk_new_row(p, at));
                    outcomes.push(BulkOutcome::Created);
                }
                Some(stored) => outcomes.push(bulk_write_one(c, p, Some(stored))?),
            }
        }
        create_many(c, &fresh).map_err(|e| bulk_err(0, "database", e.to_string()))?;
        Ok(outcomes)
    });
    match whole {
        Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
        Err(_) => items
            .iter()
            .map(|p| match listings::by_ext_key(conn, &p.key) {
                Ok(stored) => {
                    conn.transaction::<_, BulkError, _>(|c| bulk_write_one(c, p, stored.as_ref()))
                }
                Err(e) => Err(bulk_err(p.row, "database", format!("读取失败：{e}"))),
            })
            .collect(),
    }
}
