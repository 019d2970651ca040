//! Exports of a community's listings, firms, cases and statistics as .xlsx
//! or CSV. The listings and firms exports have the import's columns first,
//! so an exported file, edited, imports back (the extra columns are
//! ignored).

use std::collections::HashMap;

use chrono::{FixedOffset, NaiveDateTime};
use serde::Deserialize;
use zhiqilian_matcher::CaseStatus;

use crate::service::access::Caller;
use crate::service::error::ApiError;
use crate::service::sheets::listings::{self as ls, KINDS, SIDES, URGENCIES, VISIBILITIES, label};
use crate::service::sheets::table::{self, Cell, Format, Sheet};
use crate::service::sheets::{FileOut, community_of, firms};
use crate::service::sla::SlaConfig;
use crate::service::staff::{self, WindowQuery};
use crate::store::cases::{self as case_store, Case, QueueFilter};
use crate::store::listings::{ListFilter, ListingView, Viewer};
use crate::store::models::Firm;
use crate::store::{Db, DbConnection, StoreResult, listings};

/// The most rows an export holds.
const MAX_EXPORT_ROWS: usize = 50_000;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `xlsx` (default) or `csv`.
    pub format: Option<String>,
    /// Platform admins name the community; staff export their own.
    pub community_id: Option<String>,
    /// The statistics' window (as `GET /staff/stats`).
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A time in China Standard Time, as the parks read it.
fn cst(t: Option<NaiveDateTime>) -> Cell {
    let offset = FixedOffset::east_opt(8 * 3600).expect("valid offset");
    t.map_or(Cell::Empty, |t| {
        Cell::Text(
            t.and_utc()
                .with_timezone(&offset)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
        )
    })
}

fn listing_rows(c: &mut DbConnection, community: &str) -> StoreResult<Vec<ListingView>> {
    let mut out: Vec<ListingView> = Vec::new();
    loop {
        let page = listings::list(
            c,
            &Viewer::Staff {
                community_id: community.to_string(),
            },
            &ListFilter {
                community_id: Some(community.to_string()),
                before_id: out.last().map(|v| v.listing.id.clone()),
                limit: 1000,
                ..ListFilter::default()
            },
        )?;
        let full = page.len() == 1000;
        out.extend(page);
        if !full || out.len() >= MAX_EXPORT_ROWS {
            return Ok(out);
        }
    }
}

fn listings_sheet(
    community: &str,
    rows: Vec<ListingView>,
    usccs: &HashMap<String, String>,
) -> Sheet {
    let mut headers: Vec<String> = ls::COLUMNS.iter().map(|c| c.header.to_string()).collect();
    headers.extend(["状态", "系统编号", "发布时间"].map(String::from));
    let rows = rows
        .into_iter()
        .map(|v| {
            let l = v.listing;
            vec![
                ls::sheet_key(community, l.ext_key.as_deref()).into(),
                usccs.get(&l.firm_id).cloned().into(),
                v.firm_name.into(),
                label(SIDES, &l.side).into(),
                label(KINDS, &l.kind).into(),
                l.title.clone().into(),
                l.description.clone().into(),
                l.quantity_amount.into(),
                l.quantity_unit.clone().into(),
                l.price_amount.into(),
                l.price_unit.clone().into(),
                label(URGENCIES, l.urgency.as_str()).into(),
                label(VISIBILITIES, l.visibility.as_str()).into(),
                l.available_from.clone().into(),
                l.available_until.clone().into(),
                l.address.clone().into(),
                l.lat.into(),
                l.lon.into(),
                match l.shown_status() {
                    "open" => "开放",
                    "fulfilled" => "已成交",
                    _ => "已关闭",
                }
                .into(),
                l.id.clone().into(),
                cst(Some(l.created_at)),
            ]
        })
        .collect();
    Sheet {
        name: "供需信息".into(),
        headers,
        rows,
        widths: Vec::new(),
    }
}

fn firms_sheet(rows: Vec<Firm>) -> Sheet {
    let mut headers: Vec<String> = firms::COLUMNS
        .iter()
        .map(|c| c.header.to_string())
        .collect();
    headers.extend(["认证状态", "系统编号", "登记时间"].map(String::from));
    let rows = rows
        .into_iter()
        .map(|f| {
            let status = if f.suspended_at.is_some() {
                "已暂停"
            } else if f.verified {
                "已认证"
            } else if f.claim_refused_at.is_some() {
                "未通过"
            } else {
                "待认证"
            };
            vec![
                f.name.into(),
                f.uscc.into(),
                f.contact_name.into(),
                f.contact_phone.into(),
                f.address.into(),
                f.lat.into(),
                f.lon.into(),
                status.into(),
                f.id.into(),
                cst(Some(f.created_at)),
            ]
        })
        .collect();
    Sheet {
        name: "企业".into(),
        headers,
        rows,
        widths: Vec::new(),
    }
}

fn case_rows(c: &mut DbConnection, community: &str) -> StoreResult<Vec<Case>> {
    let mut out: Vec<Case> = Vec::new();
    loop {
        let page = case_store::list(
            c,
            &QueueFilter {
                community_id: Some(community.to_string()),
                statuses: CaseStatus::ALL.to_vec(),
                after_id: out.last().map(|k| k.id.clone()),
                limit: 1000,
                ..QueueFilter::default()
            },
        )?;
        let full = page.len() == 1000;
        out.extend(page);
        if !full || out.len() >= MAX_EXPORT_ROWS {
            return Ok(out);
        }
    }
}

fn cases_sheet(c: &mut DbConnection, community: &str) -> StoreResult<Sheet> {
    let cases = case_rows(c, community)?;
    let ids: Vec<String> = cases.iter().map(|k| k.listing_id.clone()).collect();
    let mut titles: HashMap<String, (String, String)> = HashMap::new();
    for chunk in ids.chunks(500) {
        for v in listings::get_many(c, chunk)? {
            titles.insert(v.listing.id.clone(), (v.listing.title, v.firm_name));
        }
    }
    let staff: Vec<String> = cases.iter().filter_map(|k| k.claimed_by.clone()).collect();
    let names = case_store::user_names(c, &staff)?;
    let headers = [
        "工单编号",
        "状态",
        "紧急程度",
        "标题",
        "企业",
        "开启时间",
        "认领人",
        "认领时间",
        "首次对接",
        "结案时间",
        "结果",
        "结案说明",
        "曾超时",
    ]
    .map(String::from)
    .to_vec();
    let rows = cases
        .into_iter()
        .map(|k| {
            let (title, firm) = titles.get(&k.listing_id).cloned().unwrap_or_default();
            let outcome = match k.outcome.as_deref() {
                Some("solved") => "已解决",
                Some("partly") => "部分解决",
                Some("not_solved") => "未解决",
                _ => "",
            };
            vec![
                k.id.into(),
                k.status.label_zh().into(),
                label(URGENCIES, k.urgency.as_str()).into(),
                title.into(),
                firm.into(),
                cst(Some(k.opened_at)),
                k.claimed_by.and_then(|u| names.get(&u).cloned()).into(),
                cst(k.claimed_at),
                cst(k.first_contact_at),
                cst(k.resolved_at),
                outcome.into(),
                k.outcome_note.into(),
                if k.overdue_at.is_some() { "是" } else { "否" }.into(),
            ]
        })
        .collect();
    Ok(Sheet {
        name: "工单".into(),
        headers,
        rows,
        widths: Vec::new(),
    })
}

fn rate(r: Option<f64>) -> Cell {
    r.map_or(Cell::Empty, Cell::Number)
}

fn stats_sheets(s: &staff::StatsOut) -> Vec<Sheet> {
    let st = &s.stats;
    let n = |v: usize| Cell::Number(v as f64);
    let overview: Vec<(&str, Cell)> = vec![
        ("社区", s.community.as_ref().map(|c| c.name.clone()).into()),
        ("开始", Cell::Text(s.from.to_rfc3339())),
        ("结束", Cell::Text(s.to.to_rfc3339())),
        ("发布信息", n(st.listings.total)),
        ("需求", n(st.requests)),
        ("获得匹配的需求", n(st.requests_matched)),
        ("匹配率", rate(st.match_rate)),
        (
            "首个匹配用时中位数（秒）",
            rate(st.median_secs_to_first_match),
        ),
        ("达成用时中位数（秒）", rate(st.median_secs_to_agreement)),
        ("达成匹配", n(st.agreed_matches)),
        ("园区内达成", n(st.agreed_in_park)),
        ("内循环率", rate(st.in_park_rate)),
        ("紧急求助", n(st.emergencies)),
        ("按时解决的紧急求助", n(st.emergencies_solved_within_sla)),
        ("紧急求助按时解决率", rate(st.emergency_sla_rate)),
    ];
    vec![
        Sheet {
            name: "概览".into(),
            headers: vec!["指标".into(), "数值".into()],
            rows: overview
                .into_iter()
                .map(|(k, v)| vec![k.into(), v])
                .collect(),
            widths: vec![28.0, 28.0],
        },
        Sheet {
            name: "分类".into(),
            headers: vec!["类别".into(), "供给".into(), "需求".into()],
            rows: st
                .listings
                .by_kind
                .iter()
                .map(|k| vec![label(KINDS, k.kind).into(), n(k.offer), n(k.request)])
                .collect(),
            widths: Vec::new(),
        },
        Sheet {
            name: "每日".into(),
            headers: ["日期", "发布", "需求", "获得匹配", "达成"]
                .map(String::from)
                .to_vec(),
            rows: st
                .daily
                .iter()
                .map(|d| {
                    vec![
                        d.date.to_string().into(),
                        n(d.listings),
                        n(d.requests),
                        n(d.matched),
                        n(d.agreed),
                    ]
                })
                .collect(),
            widths: Vec::new(),
        },
    ]
}

/// Exports `what` (`listings`, `firms`, `cases`, `stats`) of the caller's
/// community as .xlsx (default) or CSV.
pub async fn export(
    db: &Db,
    sla: SlaConfig,
    caller: &Caller,
    what: String,
    q: ExportQuery,
) -> Result<FileOut, ApiError> {
    let format = Format::parse("format", q.format.as_deref(), Format::Xlsx)?;
    if !matches!(what.as_str(), "listings" | "firms" | "cases" | "stats") {
        return Err(ApiError::not_found("导出类型"));
    }
    if what != "stats" && (q.from.is_some() || q.to.is_some()) {
        return Err(ApiError::field("from", "unsupported", "只有统计导出按时段"));
    }
    let community = community_of(db, caller, q.community_id).await?;
    let (name, sheets, stats_csv) = if what == "stats" {
        let window = WindowQuery {
            from: q.from,
            to: q.to,
            community_id: Some(community.clone()),
            format: None,
        };
        let out = staff::park_stats(db, sla, caller, &window).await?;
        ("统计", stats_sheets(&out), Some(out.csv()))
    } else {
        let cm = community.clone();
        let w = what.clone();
        let sheet = db
            .run(move |c| match w.as_str() {
                "listings" => {
                    let firms = firms::of_community(c, &cm)?;
                    let usccs: HashMap<String, String> =
                        firms.into_iter().map(|f| (f.id, f.uscc)).collect();
                    Ok(listings_sheet(&cm, listing_rows(c, &cm)?, &usccs))
                }
                "firms" => Ok(firms_sheet(firms::of_community(c, &cm)?)),
                _ => cases_sheet(c, &cm),
            })
            .await?;
        let name = match what.as_str() {
            "listings" => "供需信息",
            "firms" => "企业",
            _ => "工单",
        };
        (name, vec![sheet], None)
    };
    let bytes = match (format, stats_csv) {
        (Format::Csv, Some(csv)) => csv.into_bytes(),
        (Format::Csv, None) => table::to_csv(&sheets[0]),
        (Format::Xlsx, _) => tokio::task::spawn_blocking(move || table::to_xlsx(&sheets))
            .await
            .map_err(ApiError::internal)??,
    };
    Ok(FileOut {
        bytes,
        content_type: format.content_type(),
        file_name: format!("{name}.{}", format.as_str()),
    })
}
