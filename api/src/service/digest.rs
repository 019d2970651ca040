//! The digest of open needs: a community's open requests of the last days,
//! as text staff paste into the park's WeChat groups and as a list the
//! console prints, each with a short link (`/s/{code}`) back to the listing
//! in the firm app. Following a short link counts a click.

use std::cmp::Reverse;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use zhiqilian_matcher::{Kind, Urgency};

use crate::service::access::Caller;
use crate::service::error::ApiError;
use crate::service::staff::read_scope;
use crate::service::validate::Errors;
use crate::service::views::utc;
use crate::store::listings::ListingView;
use crate::store::{Db, accounts, listings, now, short_links};

/// Days a digest looks back by default, and at most.
const DEFAULT_DAYS: u32 = 7;
const MAX_DAYS: u32 = 90;
/// Needs listed by default, and at most (a WeChat message stays readable).
const DEFAULT_LIMIT: u32 = 30;
const MAX_LIMIT: u32 = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestQuery {
    /// Platform admins name the community; staff get their own.
    pub community_id: Option<String>,
    pub days: Option<u32>,
    pub kind: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct DigestItem {
    pub listing_id: String,
    pub title: String,
    pub kind: String,
    pub urgency: Urgency,
    /// What the request still needs ("60 吨"), when it names a quantity.
    pub remaining: Option<String>,
    pub created_at: DateTime<Utc>,
    pub short_code: String,
    pub short_url: String,
    /// Visits through the short link so far.
    pub clicks: i64,
}

#[derive(Debug, Serialize)]
pub struct DigestOut {
    pub community_id: String,
    pub community_name: String,
    pub generated_at: DateTime<Utc>,
    pub since: DateTime<Utc>,
    pub days: u32,
    pub items: Vec<DigestItem>,
    /// The digest as one message, ready to paste.
    pub text: String,
}

/// An amount without a needless fraction: 100, 2.5, 0.75.
fn amount(a: f64) -> String {
    let s = format!("{a:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The order of a digest: the most pressing first, then the newest.
fn order(items: &mut [ListingView]) {
    items.sort_by_key(|v| (Reverse(v.listing.urgency), Reverse(v.listing.id.clone())));
}

fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// The text of a digest (dates in China Standard Time, the park's days).
pub fn text(community: &str, days: u32, at: DateTime<Utc>, items: &[DigestItem]) -> String {
    let day = at.with_timezone(&cst()).format("%-m月%-d日");
    let mut out = format!("【{community}·供需速递】{day}\n");
    if items.is_empty() {
        out.push_str(&format!("近{days}天园区企业暂无新发布的需求。\n"));
    } else {
        out.push_str(&format!(
            "近{days}天园区企业发布的需求 {} 条，能帮上忙的企业请点链接查看，在「智企连」里直接联系：\n",
            items.len()
        ));
        for (i, it) in items.iter().enumerate() {
            let flag = match it.urgency {
                Urgency::Emergency => "【紧急】",
                Urgency::Urgent => "【加急】",
                Urgency::Normal => "",
            };
            let kind = it
                .kind
                .parse::<Kind>()
                .map_or(it.kind.as_str(), |k| k.label_zh());
            let need = it
                .remaining
                .as_ref()
                .map(|r| format!("，尚需 {r}"))
                .unwrap_or_default();
            out.push_str(&format!(
                "{}. {flag}{}（{kind}{need}）{}\n",
                i + 1,
                it.title,
                it.short_url
            ));
        }
    }
    // "大港工业社区" is already a community's name; "大港" is not.
    let by = if community.ends_with("社区") {
        community.to_string()
    } else {
        format!("{community}社区")
    };
    out.push_str(&format!("有事找社区：{by}工作人员整理。"));
    out
}

/// The digest of a community's open needs. Staff see their own community;
/// platform admins name one. Short links are made for listings that have
/// none yet; `base` is the service's public address.
pub async fn digest(
    db: &Db,
    caller: &Caller,
    q: DigestQuery,
    base: &str,
) -> Result<DigestOut, ApiError> {
    let scope = read_scope(caller, q.community_id.as_ref())?;
    let mut e = Errors::default();
    let days = q.days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        e.push(
            "days",
            "out_of_range",
            format!("天数须在 1 到 {MAX_DAYS} 之间"),
        );
    }
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        e.push(
            "limit",
            "out_of_range",
            format!("条数须在 1 到 {MAX_LIMIT} 之间"),
        );
    }
    if let Some(k) = &q.kind
        && k.parse::<Kind>().is_err()
    {
        e.push(
            "kind",
            "invalid_value",
            format!("取值无效，可选值：{}", Kind::EXPECTED),
        );
    }
    let Some(community_id) = scope else {
        e.push("community_id", "required", "请指定社区");
        return Err(ApiError::validation(e.0));
    };
    e.into_result().map_err(ApiError::validation)?;
    let at = now();
    let since = at - Duration::days(i64::from(days));
    let staff = caller.user_id.clone();
    let cid = community_id.clone();
    let (name, mut needs, codes, clicks) = db
        .run(move |c| {
            let Some(community) = accounts::get_community(c, &cid)? else {
                return Ok(None);
            };
            // Read past the limit so that the most pressing are kept.
            let mut needs = listings::open_needs_of(
                c,
                &cid,
                q.kind.as_deref(),
                since,
                i64::from(MAX_LIMIT) * 5,
            )?;
            order(&mut needs);
            needs.truncate(limit as usize);
            let ids: Vec<String> = needs.iter().map(|v| v.listing.id.clone()).collect();
            let codes = short_links::ensure(c, &ids, &cid, &staff, at)?;
            let clicks = short_links::clicks(c, &ids)?;
            Ok(Some((community.name, needs, codes, clicks)))
        })
        .await?
        .ok_or_else(|| ApiError::not_found("社区"))?;
    let base = base.trim_end_matches('/');
    let items: Vec<DigestItem> = needs
        .drain(..)
        .map(|v| {
            let l = v.listing;
            let remaining = l
                .remaining_amount()
                .zip(l.quantity_unit.clone())
                .map(|(a, u)| format!("{} {u}", amount(a)));
            let code = codes.get(&l.id).cloned().unwrap_or_default();
            DigestItem {
                short_url: format!("{base}/s/{code}"),
                clicks: clicks.get(&l.id).copied().unwrap_or(0),
                short_code: code,
                listing_id: l.id,
                title: l.title,
                kind: l.kind,
                urgency: l.urgency,
                remaining,
                created_at: utc(l.created_at),
            }
        })
        .collect();
    let generated_at = utc(at);
    Ok(DigestOut {
        text: text(&name, days, generated_at, &items),
        community_id,
        community_name: name,
        generated_at,
        since: utc(since),
        days,
        items,
    })
}

/// Where a short link leads: the listing's page in the firm app. Unknown
/// or malformed codes are 404.
pub async fn follow(db: &Db, code: String) -> Result<String, ApiError> {
    if !short_links::well_formed(&code) {
        return Err(ApiError::not_found("链接"));
    }
    let listing = db
        .run(move |c| short_links::follow(c, &code))
        .await?
        .ok_or_else(|| ApiError::not_found("链接"))?;
    Ok(format!("/app/#/pages/listing/index?id={listing}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn item(title: &str, urgency: Urgency, remaining: Option<&str>) -> DigestItem {
        DigestItem {
            listing_id: "l".into(),
            title: title.into(),
            kind: "equipment".into(),
            urgency,
            remaining: remaining.map(str::to_string),
            created_at: Utc::now(),
            short_code: "abcdefg".into(),
            short_url: "https://zql.example/s/abcdefg".into(),
            clicks: 0,
        }
    }

    #[test]
    fn the_text_lists_needs_with_their_urgency_remainder_and_link() {
        // 17:00 UTC is the next day in the park.
        let at = Utc.with_ymd_and_hms(2026, 12, 5, 17, 0, 0).unwrap();
        let t = text(
            "大港",
            7,
            at,
            &[
                item("求租空压机 37kW", Urgency::Emergency, None),
                item("求购 PP 颗粒", Urgency::Normal, Some("60 吨")),
            ],
        );
        assert!(t.starts_with("【大港·供需速递】12月6日\n"), "{t}");
        assert!(t.contains("需求 2 条"), "{t}");
        assert!(
            t.contains("1. 【紧急】求租空压机 37kW（设备）https://zql.example/s/abcdefg\n"),
            "{t}"
        );
        assert!(t.contains("2. 求购 PP 颗粒（设备，尚需 60 吨）"), "{t}");
        assert!(t.ends_with("有事找社区：大港社区工作人员整理。"), "{t}");
        let named = text("大港工业社区", 7, at, &[]);
        assert!(named.ends_with("大港工业社区工作人员整理。"), "{named}");
        let none = text("大港", 3, at, &[]);
        assert!(none.contains("近3天园区企业暂无新发布的需求"), "{none}");
    }

    #[test]
    fn amounts_drop_needless_fractions() {
        assert_eq!(amount(100.0), "100");
        assert_eq!(amount(2.5), "2.5");
        assert_eq!(amount(0.75), "0.75");
        assert_eq!(amount(1.0 / 3.0), "0.33");
    }
}
