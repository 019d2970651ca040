//! The community as the park's front desk: staff post, edit and close
//! listings for the firms of their community (the listing records who
//! posted it, the firm's admins are told and may take it over); any
//! listing can become a staff case (a firm asks the community for help, or
//! staff open one), whatever its urgency; staff keep internal notes on a
//! case that firms never see.

use chrono::{DateTime, Utc};
use diesel::Connection;
use serde::Serialize;
use serde_json::json;

use crate::service::access::Caller;
use crate::service::error::{ApiError, Code};
use crate::service::validate::Errors;
use crate::store::audit::{self, Actor};
use crate::store::cases::{self as case_store, Case, Note};
use crate::store::listings::ListingView;
use crate::store::models::{Firm, Listing};
use crate::store::notifications::{self, NewNotification};
use crate::store::stream::NewEvent;
use crate::store::{
    Db, DbConnection, StoreError, StoreResult, accounts, listings, new_id, now, stream,
};
use zhiqilian_matcher::{CaseStatus, ListingStatus};

/// Longest case note (characters).
pub const NOTE_MAX_CHARS: usize = 2000;

/// The firm a new listing is posted for, and whether staff post it for the
/// firm (`true`) or one of its members for their own firm (`false`).
///
/// A firm member posts for their own firm (naming another is refused);
/// community staff must name a firm of their own community (`firm_id`);
/// a firm of another community, or none, does not exist for them (404).
pub async fn firm_to_post_for(
    db: &Db,
    caller: &Caller,
    named: Option<&str>,
) -> Result<(Firm, bool), ApiError> {
    let named = named.map(str::trim).filter(|s| !s.is_empty());
    if let Some(own) = caller.firm_id() {
        if named.is_some_and(|f| f != own) {
            return Err(ApiError::forbidden("企业成员只能为本企业发布供需信息"));
        }
        let own = own.to_string();
        let firm = db
            .run(move |c| accounts::get_firm(c, &own))
            .await?
            .ok_or_else(|| ApiError::forbidden("所属企业不存在"))?;
        return Ok((firm, false));
    }
    let Some(community) = caller.staff_community.clone() else {
        return Err(ApiError::forbidden(
            "只有企业成员或本社区工作人员（代企业）可以发布供需信息",
        ));
    };
    let Some(firm_id) = named.map(str::to_string) else {
        return Err(ApiError::field(
            "firm_id",
            "required",
            "社区工作人员代企业发布时须指定企业（firm_id）",
        ));
    };
    let firm = db
        .run(move |c| accounts::get_firm(c, &firm_id))
        .await?
        .filter(|f| f.community_id == community)
        .ok_or_else(|| ApiError::not_found("企业"))?;
    Ok((firm, true))
}

/// Whether the caller edits `l` as community staff for its firm: staff of
/// the listing's community, on a listing staff posted for the firm that
/// none of its admins has taken over yet.
pub fn edits_for_firm(caller: &Caller, l: &Listing) -> bool {
    caller.firm.is_none()
        && l.posted_by_staff.is_some()
        && caller.staff_community.as_deref() == Some(l.community_id.as_str())
}

/// Inside a transaction: the audit entry of a staff action on a firm's
/// listing and the notification of the firm's admins.
fn staff_acted(
    c: &mut DbConnection,
    staff_user: &str,
    l: &Listing,
    action: &str,
    what: &str,
) -> StoreResult<Vec<NewEvent>> {
    let actor = accounts::actor(c, staff_user)?;
    audit::record(
        c,
        &actor,
        &l.community_id,
        action,
        None,
        ("listing", &l.id),
        json!({ "firm_id": l.firm_id, "title": l.title }),
    )?;
    let admins = notifications::firm_admins(c, &l.firm_id)?;
    notifications::notify(
        c,
        &admins,
        &NewNotification {
            kind: "listing.staff_action",
            title: format!("社区工作人员{}{what}了贵企业的供需信息", actor.name),
            body: l.title.clone(),
            subject_type: "listing",
            subject_id: l.id.clone(),
            thread_id: None,
            group_key: None,
        },
    )
}

/// Inserts a listing staff posted for its firm, with the case its request
/// may open, the audit entry and the notification of the firm's admins.
pub fn create_for_firm(conn: &mut DbConnection, row: &Listing) -> StoreResult<i64> {
    let staff = row.posted_by_staff.clone().ok_or(StoreError::NotFound)?;
    stream::write(conn, |c| {
        let (seq, mut live) = listings::insert(c, row)?;
        live.extend(crate::service::cases::open_for(c, row)?);
        live.extend(staff_acted(
            c,
            &staff,
            row,
            "listing.posted_for_firm",
            "代为发布",
        )?);
        Ok((seq, live))
    })
}

/// Replaces a listing staff edit for its firm (as
/// [`crate::service::listings::replace`]), audited and notified.
pub fn replace_for_firm(
    conn: &mut DbConnection,
    row: &Listing,
    expected_version: i32,
    staff_user: &str,
) -> StoreResult<i64> {
    stream::write(conn, |c| {
        let seq = listings::update(c, row, expected_version)?;
        let mut live = crate::service::cases::open_for(c, row)?;
        live.extend(staff_acted(
            c,
            staff_user,
            row,
            "listing.edited_for_firm",
            "修改",
        )?);
        Ok((seq, live))
    })
}

/// Staff close a listing of a firm of their community: audited, and the
/// firm's admins are told. `None` when it was closed already.
pub fn close_for_firm(
    conn: &mut DbConnection,
    l: &Listing,
    staff_user: &str,
) -> StoreResult<Option<i64>> {
    stream::write(conn, |c| {
        let seq = listings::close(c, &l.id, now())?;
        let live = match seq {
            Some(_) => staff_acted(c, staff_user, l, "listing.closed_for_firm", "关闭")?,
            None => Vec::new(),
        };
        Ok((seq, live))
    })
}

/// One of the firm's admins takes over a listing staff posted for the
/// firm: the on-behalf marker is cleared (staff can no longer edit it; the
/// firm owns it as if it had posted it), the staff member who posted it is
/// told. Taking over a listing the firm already owns changes nothing
/// (`None`). Returns the position of the change, if any.
pub async fn take_over(db: &Db, caller: &Caller, v: &ListingView) -> Result<Option<i64>, ApiError> {
    let l = &v.listing;
    if !caller.is_firm_admin_of(&l.firm_id) {
        return Err(ApiError::forbidden("只有该企业的管理员可以接管"));
    }
    let Some(staff) = l.posted_by_staff.clone() else {
        return Ok(None);
    };
    let mut row = l.clone();
    row.posted_by_staff = None;
    row.version += 1;
    row.updated_at = now();
    let expected = l.version;
    let admin = caller.user_id.clone();
    let seq = db
        .run(move |conn| {
            stream::write(conn, |c| {
                let seq = listings::update(c, &row, expected)?;
                let actor = accounts::actor(c, &admin)?;
                audit::record(
                    c,
                    &actor,
                    &row.community_id,
                    "listing.taken_over",
                    None,
                    ("listing", &row.id),
                    json!({ "firm_id": row.firm_id, "posted_by_staff": staff }),
                )?;
                let live = notifications::notify(
                    c,
                    std::slice::from_ref(&staff),
                    &NewNotification {
                        kind: "listing.taken_over",
                        title: "企业已接管您代发的供需信息".into(),
                        body: row.title.clone(),
                        subject_type: "listing",
                        subject_id: row.id.clone(),
                        thread_id: None,
                        group_key: None,
                    },
                )?;
                Ok((seq, live))
            })
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

/// A listing the caller may see (404 for anything else, as the listing
/// routes answer).
async fn visible(db: &Db, caller: &Caller, id: String) -> Result<ListingView, ApiError> {
    let viewer = caller.viewer();
    db.run(move |c| listings::get(c, &id))
        .await?
        .filter(|v| crate::service::access::visible_to(v, &viewer))
        .ok_or_else(|| ApiError::not_found("供需信息"))
}

/// [`take_over`] of a listing the caller may see, answered as shown.
pub async fn take_over_listing(
    db: &Db,
    caller: &Caller,
    id: String,
) -> Result<(crate::service::views::ListingOut, Option<i64>), ApiError> {
    let v = visible(db, caller, id).await?;
    let seq = take_over(db, caller, &v).await?;
    let v = match seq {
        Some(_) => {
            let id = v.listing.id.clone();
            db.run(move |c| listings::get(c, &id))
                .await?
                .ok_or_else(|| ApiError::not_found("供需信息"))?
        }
        None => v,
    };
    Ok((crate::service::views::listing_out(v), seq))
}

/// [`ask_community`] about a listing the caller may see.
pub async fn ask_community_about(
    db: &Db,
    caller: &Caller,
    id: String,
    note: Option<String>,
) -> Result<CaseSummary, ApiError> {
    let v = visible(db, caller, id).await?;
    ask_community(db, caller, &v, note).await
}

/// A case as the firm that asked for help sees it: no staff notes.
#[derive(Debug, Clone, Serialize)]
pub struct CaseSummary {
    pub id: String,
    pub listing_id: String,
    pub firm_id: String,
    pub community_id: String,
    pub urgency: String,
    pub status: String,
    pub opened_at: DateTime<Utc>,
    /// Whether this request opened the case (`false`: it was open already).
    pub opened_now: bool,
}

fn summary(k: Case, opened_now: bool) -> CaseSummary {
    CaseSummary {
        id: k.id,
        listing_id: k.listing_id,
        firm_id: k.firm_id,
        community_id: k.community_id,
        urgency: k.urgency.as_str().to_string(),
        status: k.status.as_str().to_string(),
        opened_at: k.opened_at.and_utc(),
        opened_now,
    }
}

fn checked_note(note: Option<String>, field: &str) -> Result<Option<String>, ApiError> {
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if let Some(n) = &note {
        let mut e = Errors::default();
        if n.chars().count() > NOTE_MAX_CHARS {
            e.push(field, "too_long", format!("最多 {NOTE_MAX_CHARS} 个字符"));
        }
        e.into_result().map_err(ApiError::validation)?;
    }
    Ok(note)
}

/// Opens (or finds) the case of a listing in one transaction, with its
/// audit entry and, when given, a first staff-only note.
fn open_case_in(
    conn: &mut DbConnection,
    l: &Listing,
    actor_id: &str,
    action: &str,
    note: Option<&str>,
) -> StoreResult<(Case, bool)> {
    stream::write(conn, |c| {
        crate::store::begin_write(c)?;
        let (k, created, live) = case_store::open_on_request(c, l)?;
        if k.status == CaseStatus::Resolved {
            return Ok(((k, false), Vec::new()));
        }
        let actor = accounts::actor(c, actor_id)?;
        if created {
            audit::record(
                c,
                &actor,
                &k.community_id,
                action,
                Some(&k.id),
                ("listing", &l.id),
                json!({ "urgency": k.urgency, "note": note }),
            )?;
        }
        if let Some(body) = note {
            case_store::add_note(c, &new_note(&k.id, &actor, body))?;
        }
        Ok(((k, created), live))
    })
}

fn new_note(case_id: &str, actor: &Actor, body: &str) -> Note {
    Note {
        id: new_id(),
        case_id: case_id.to_string(),
        author_user_id: actor.user_id.clone(),
        author_name: actor.name.clone(),
        body: body.to_string(),
        created_at: now(),
    }
}

fn open_listing_for_case(l: &Listing) -> Result<(), ApiError> {
    if l.status != ListingStatus::Open {
        return Err(ApiError::conflict(
            Code::ListingClosed,
            "已关闭的供需信息不能转为工单",
        ));
    }
    Ok(())
}

fn resolved_refusal() -> ApiError {
    ApiError::conflict(
        Code::CaseResolved,
        "该信息的工单已办结；如仍需协助，请重新发布需求",
    )
}

/// "Ask the community": a member of the listing's firm asks the
/// community's staff for help with it, whatever its urgency. Opens the
/// listing's case (or finds the open one); the note goes to staff.
pub async fn ask_community(
    db: &Db,
    caller: &Caller,
    v: &ListingView,
    note: Option<String>,
) -> Result<CaseSummary, ApiError> {
    let l = v.listing.clone();
    if !caller.is_member_of(&l.firm_id) {
        return Err(ApiError::forbidden("只有发布企业的成员可以请社区协助"));
    }
    open_listing_for_case(&l)?;
    if !v.firm_verified {
        return Err(ApiError::conflict(
            Code::FirmUnverified,
            "企业通过社区认证后才能请社区协助",
        ));
    }
    let note = checked_note(note, "note")?;
    let user = caller.user_id.clone();
    let (k, created) = db
        .run(move |c| open_case_in(c, &l, &user, "case.requested_by_firm", note.as_deref()))
        .await?;
    if k.status == CaseStatus::Resolved {
        return Err(resolved_refusal());
    }
    Ok(summary(k, created))
}

/// Staff open a case from any listing of their community (a phone call to
/// the front desk, a need seen in the park's groups).
pub async fn open_case(
    db: &Db,
    caller: &Caller,
    listing_id: String,
    note: Option<String>,
) -> Result<CaseSummary, ApiError> {
    let Some(community) = caller.staff_community.clone() else {
        return Err(ApiError::forbidden("需要社区工作人员权限"));
    };
    let note = checked_note(note, "note")?;
    let l = db
        .run(move |c| listings::get_row(c, &listing_id))
        .await?
        .filter(|l| l.community_id == community)
        .ok_or_else(|| ApiError::not_found("供需信息"))?;
    open_listing_for_case(&l)?;
    let user = caller.user_id.clone();
    let (k, created) = db
        .run(move |c| open_case_in(c, &l, &user, "case.opened_by_staff", note.as_deref()))
        .await?;
    if k.status == CaseStatus::Resolved {
        return Err(resolved_refusal());
    }
    Ok(summary(k, created))
}

/// A case note as staff read it.
#[derive(Debug, Serialize)]
pub struct NoteOut {
    pub id: String,
    pub case_id: String,
    pub author: crate::service::views::ActorOut,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

fn note_out(n: Note) -> NoteOut {
    NoteOut {
        id: n.id,
        case_id: n.case_id,
        author: crate::service::views::ActorOut {
            id: n.author_user_id,
            name: n.author_name,
        },
        body: n.body,
        created_at: n.created_at.and_utc(),
    }
}

/// A case the caller holds as staff (of its community, the one it came
/// from, or a platform admin); 404 for anyone else, firms included.
async fn staff_case(db: &Db, caller: &Caller, id: String) -> Result<Case, ApiError> {
    let k = db
        .run(move |c| case_store::get(c, &id))
        .await?
        .ok_or_else(|| ApiError::not_found("工单"))?;
    let ok = caller.platform_admin
        || (caller.client.is_none()
            && caller
                .staff_community
                .as_deref()
                .is_some_and(|cm| k.readable_by(cm)));
    if ok {
        Ok(k)
    } else {
        Err(ApiError::not_found("工单"))
    }
}

/// Staff add an internal note to a case.
pub async fn add_note(
    db: &Db,
    caller: &Caller,
    case_id: String,
    body: String,
) -> Result<NoteOut, ApiError> {
    let k = staff_case(db, caller, case_id).await?;
    let Some(body) = checked_note(Some(body), "body")? else {
        return Err(ApiError::field("body", "required", "备注内容不能为空"));
    };
    let user = caller.user_id.clone();
    let note = db
        .run(move |c| {
            c.transaction::<_, StoreError, _>(|c| {
                crate::store::begin_write(c)?;
                let actor = accounts::actor(c, &user)?;
                let note = new_note(&k.id, &actor, &body);
                case_store::add_note(c, &note)?;
                Ok(note)
            })
        })
        .await?;
    Ok(note_out(note))
}

/// A case's internal notes, oldest first (staff only).
pub async fn notes(db: &Db, caller: &Caller, case_id: String) -> Result<Vec<NoteOut>, ApiError> {
    let k = staff_case(db, caller, case_id).await?;
    let rows = db.run(move |c| case_store::notes_of(c, &k.id)).await?;
    Ok(rows.into_iter().map(note_out).collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::service::testkit::{block_on, park, testing_offer};
    use crate::store::{audit, cases, notifications};

    /// Staff name a firm of their own community; a firm of another
    /// community does not exist for them; members post only for their own.
    #[test]
    fn who_posts_for_which_firm() {
        let p = park();
        let staff = p.staff_caller();
        let (f, for_firm) =
            block_on(firm_to_post_for(&p.db, &staff, Some(&p.buyer.firm.id))).expect("own park");
        assert_eq!((f.id.as_str(), for_firm), (p.buyer.firm.id.as_str(), true));
        let e = block_on(firm_to_post_for(&p.db, &staff, Some(&p.far.firm.id))).expect_err("far");
        assert_eq!(e.status.as_u16(), 404);
        let e = block_on(firm_to_post_for(&p.db, &staff, None)).expect_err("unnamed");
        assert_eq!(e.status.as_u16(), 422);
        let member = p.buyer.caller();
        let (f, for_firm) = block_on(firm_to_post_for(&p.db, &member, None)).expect("own firm");
        assert_eq!((f.id.as_str(), for_firm), (p.buyer.firm.id.as_str(), false));
        let e = block_on(firm_to_post_for(&p.db, &member, Some(&p.seller.firm.id)))
            .expect_err("another firm");
        assert_eq!(e.status.as_u16(), 403);
    }

    /// A listing staff post for a firm is the firm's, records the staff
    /// member, is audited, tells the firm's admins; an admin's take-over
    /// clears the marker and tells the staff member.
    #[test]
    fn posting_for_a_firm_and_taking_it_over() {
        let p = park();
        let mut row = p.row(&p.seller, testing_offer());
        row.created_by = Some(p.staff.id.clone());
        row.posted_by_staff = Some(p.staff.id.clone());
        create_for_firm(&mut p.conn(), &row).expect("create");
        let stored = listings::get(&mut p.conn(), &row.id)
            .expect("read")
            .expect("listing");
        assert_eq!(stored.listing.firm_id, p.seller.firm.id);
        assert_eq!(
            stored.listing.posted_by_staff.as_deref(),
            Some(p.staff.id.as_str())
        );
        let told = notifications::list(&mut p.conn(), &p.seller.user.id, false, None, 10)
            .expect("notifications");
        assert!(
            told.iter()
                .any(|n| n.notification_type == "listing.staff_action")
        );
        let log = audit::list(
            &mut p.conn(),
            &audit::AuditFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .expect("audit");
        assert!(log.iter().any(|e| e.action == "listing.posted_for_firm"));

        let staff = p.staff_caller();
        assert!(edits_for_firm(&staff, &stored.listing));
        block_on(take_over(&p.db, &p.buyer.caller(), &stored)).expect_err("another firm");
        let seq = block_on(take_over(&p.db, &p.seller.caller(), &stored)).expect("take over");
        assert!(seq.is_some());
        let after = listings::get(&mut p.conn(), &row.id)
            .expect("read")
            .expect("listing");
        assert_eq!(after.listing.posted_by_staff, None);
        assert!(!edits_for_firm(&staff, &after.listing));
        assert_eq!(
            block_on(take_over(&p.db, &p.seller.caller(), &after)).expect("again"),
            None
        );
    }

    /// A normal request becomes a case when its firm asks; staff notes stay
    /// with staff; another community's staff and firms cannot read them.
    #[test]
    fn a_firm_asks_for_help_and_staff_keep_notes() {
        let p = park();
        let mut form = crate::service::testkit::emergency_request();
        form["urgency"] = json!("normal");
        let l = p.post(&p.buyer, form);
        let v = listings::get(&mut p.conn(), &l.id)
            .expect("read")
            .expect("v");
        let k = block_on(ask_community(
            &p.db,
            &p.buyer.caller(),
            &v,
            Some("下午能帮忙问问吗".into()),
        ))
        .expect("asked");
        assert!(k.opened_now);
        assert_eq!((k.urgency.as_str(), k.status.as_str()), ("normal", "open"));
        let again = block_on(ask_community(&p.db, &p.buyer.caller(), &v, None)).expect("again");
        assert_eq!(
            (again.id.as_str(), again.opened_now),
            (k.id.as_str(), false)
        );
        block_on(ask_community(&p.db, &p.seller.caller(), &v, None)).expect_err("not theirs");

        let staff = p.staff_caller();
        block_on(add_note(
            &p.db,
            &staff,
            k.id.clone(),
            "已电话联系张工".into(),
        ))
        .expect("note");
        let seen = block_on(notes(&p.db, &staff, k.id.clone())).expect("notes");
        assert_eq!(seen.len(), 2, "the firm's words and the staff note");
        assert!(block_on(notes(&p.db, &p.buyer.caller(), k.id.clone())).is_err());
        let mut far_staff = p.staff_caller();
        far_staff.staff_community = Some(p.other.id.clone());
        assert!(block_on(notes(&p.db, &far_staff, k.id.clone())).is_err());
        let stored = cases::get(&mut p.conn(), &k.id)
            .expect("read")
            .expect("case");
        assert_eq!(stored.urgency.as_str(), "normal");
    }
}
