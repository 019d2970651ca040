//! Importing a community's firms: one row per firm, keyed on its 统一社会信用代码.
//! A new code creates the firm, verified by the importing staff member (the
//! community's own roster); a code of a firm of the community updates the
//! columns the file has. A code a firm of another community holds, or one
//! that a self-registered firm claims and staff have not decided, is refused
//! on its row.

use std::collections::HashMap;

use zhiqilian_matcher::Uscc;

use crate::service::sheets::columns::{Column, Layout, number};
use crate::service::sheets::table::Row;
use crate::service::sheets::{CellError, RowResult};
use crate::service::validate::Errors;
use crate::store::accounts::{self, FirmFilter, NewFirm};
use crate::store::imports::Progress;
use crate::store::models::Firm;
use crate::store::{DbConnection, StoreError, StoreResult, lifecycle, listings, now, stream};

pub const NAME: &str = "企业名称";
pub const USCC: &str = "统一社会信用代码";
const CONTACT: &str = "联系人";
const PHONE: &str = "电话";
const ADDRESS: &str = "地址";
const LAT: &str = "纬度";
const LON: &str = "经度";

pub const COLUMNS: &[Column] = &[
    Column {
        header: NAME,
        aliases: &["名称", "企业", "公司名称", "单位名称"],
        required: true,
        note: "2–100 个字符",
    },
    Column {
        header: USCC,
        aliases: &["信用代码", "社会信用代码", "统一代码", "USCC"],
        required: true,
        note: "18 位统一社会信用代码；导入按它识别企业：已有的更新，没有的新建（由导入的工作人员认证）",
    },
    Column {
        header: CONTACT,
        aliases: &["联系人姓名", "负责人"],
        required: false,
        note: "最多 64 个字符",
    },
    Column {
        header: PHONE,
        aliases: &["联系电话", "手机", "手机号", "电话号码"],
        required: false,
        note: "数字和 +-() 空格，最多 32 个字符",
    },
    Column {
        header: ADDRESS,
        aliases: &["企业地址", "详细地址", "注册地址"],
        required: false,
        note: "最多 200 个字符；是企业发布信息的默认地点",
    },
    Column {
        header: LAT,
        aliases: &["lat"],
        required: false,
        note: "-90 到 90，与经度同时填写",
    },
    Column {
        header: LON,
        aliases: &["lon", "lng"],
        required: false,
        note: "-180 到 180，与纬度同时填写",
    },
];

/// A checked row that changes something: the firm as it will be stored.
#[derive(Debug, Clone)]
pub struct FirmWrite {
    pub row: usize,
    pub firm: Firm,
    pub is_new: bool,
    pub renamed: bool,
}

/// The row's values; `None` for a column the file does not have.
struct Fields {
    name: String,
    uscc: Option<String>,
    contact_name: Option<String>,
    contact_phone: Option<String>,
    address: Option<String>,
    lat_lon: Option<(Option<f64>, Option<f64>)>,
}

fn coordinate(e: &mut Errors, col: &str, v: Option<&str>) -> Option<f64> {
    let v = v.filter(|v| !v.is_empty())?;
    let x = number(v);
    if x.is_none() {
        e.push(col, "invalid_type", "须为数字");
    }
    x
}

fn parse(layout: &Layout, row: &Row) -> Result<Fields, Errors> {
    let mut e = Errors::default();
    let name = e.text(NAME, layout.get(row, NAME).unwrap_or(""), 2, 100);
    let raw = layout.get(row, USCC).unwrap_or("");
    let uscc = match Uscc::parse(raw) {
        Ok(u) => Some(u.as_str().to_string()),
        Err(_) if raw.is_empty() => {
            e.push(USCC, "required", "不能为空");
            None
        }
        Err(err) => {
            e.push(USCC, "invalid_uscc", err.to_string());
            None
        }
    };
    let contact_name = layout.get(row, CONTACT).map(|v| e.text(CONTACT, v, 0, 64));
    let contact_phone = layout.get(row, PHONE).map(|v| e.text(PHONE, v, 0, 32));
    if let Some(p) = &contact_phone
        && !p
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'))
    {
        e.push(PHONE, "invalid_format", "联系电话只能包含数字和 +-() 空格");
    }
    let address = layout.get(row, ADDRESS).map(|v| e.text(ADDRESS, v, 0, 200));
    let lat_lon = (layout.has(LAT) || layout.has(LON)).then(|| {
        let lat = coordinate(&mut e, LAT, layout.get(row, LAT));
        let lon = coordinate(&mut e, LON, layout.get(row, LON));
        let mut ll = Errors::default();
        ll.lat_lon("", lat, lon);
        for f in ll.0 {
            let col = if f.field == "lat" { LAT } else { LON };
            e.push(col, f.code, f.message);
        }
        (lat, lon)
    });
    if !e.is_empty() {
        return Err(e);
    }
    Ok(Fields {
        name,
        uscc,
        contact_name,
        contact_phone,
        address,
        lat_lon,
    })
}

fn cell_errors(row: usize, e: Errors) -> Vec<CellError> {
    e.0.into_iter()
        .map(|f| CellError {
            row,
            column: f.field,
            code: f.code.to_string(),
            message: f.message,
        })
        .collect()
}

fn one(row: usize, column: &str, code: &str, message: impl Into<String>) -> Vec<CellError> {
    vec![CellError {
        row,
        column: column.to_string(),
        code: code.to_string(),
        message: message.into(),
    }]
}

/// The stored firm with the row's columns applied.
fn apply(mut f: Firm, v: &Fields) -> Firm {
    f.name = v.name.clone();
    if let Some(x) = &v.contact_name {
        f.contact_name = x.clone();
    }
    if let Some(x) = &v.contact_phone {
        f.contact_phone = x.clone();
    }
    if let Some(x) = &v.address {
        f.address = x.clone();
    }
    if let Some((lat, lon)) = v.lat_lon {
        f.lat = lat;
        f.lon = lon;
    }
    f
}

/// What the row does given the firms that claim its code.
fn decide(
    row: usize,
    community: &str,
    staff: &str,
    v: &Fields,
    uscc: &str,
    claims: &[&Firm],
) -> Result<(&'static str, Option<FirmWrite>), Vec<CellError>> {
    if let Some(f) = claims.iter().find(|f| f.verified) {
        if f.community_id != community {
            return Err(one(
                row,
                USCC,
                "taken",
                "该统一社会信用代码的企业已在其他社区登记",
            ));
        }
        let next = apply((*f).clone(), v);
        if same(f, &next) {
            return Ok(("unchanged", None));
        }
        let renamed = next.name != f.name;
        return Ok((
            "update",
            Some(FirmWrite {
                row,
                firm: next,
                is_new: false,
                renamed,
            }),
        ));
    }
    if claims.iter().any(|f| f.claim_refused_at.is_none()) {
        return Err(one(
            row,
            USCC,
            "pending_claim",
            "已有企业以该代码自行注册、等待认证：请先在“企业认证”中处理",
        ));
    }
    let t = now();
    let mut firm = accounts::firm_row(NewFirm {
        name: v.name.clone(),
        uscc: uscc.to_string(),
        community_id: community.to_string(),
        address: String::new(),
        lat: None,
        lon: None,
        contact_name: String::new(),
        contact_phone: String::new(),
        verified: true,
    });
    firm = apply(firm, v);
    firm.verified_at = Some(t);
    firm.verified_by = Some(staff.to_string());
    Ok((
        "create",
        Some(FirmWrite {
            row,
            firm,
            is_new: true,
            renamed: false,
        }),
    ))
}

fn same(a: &Firm, b: &Firm) -> bool {
    (
        &a.name,
        &a.address,
        a.lat,
        a.lon,
        &a.contact_name,
        &a.contact_phone,
    ) == (
        &b.name,
        &b.address,
        b.lat,
        b.lon,
        &b.contact_name,
        &b.contact_phone,
    )
}

/// Checks every row (reads only).
pub fn check(
    c: &mut DbConnection,
    community: &str,
    staff: &str,
    layout: &Layout,
    rows: &[Row],
) -> StoreResult<(Vec<RowResult>, Vec<FirmWrite>)> {
    let parsed: Vec<(&Row, Result<Fields, Errors>)> =
        rows.iter().map(|r| (r, parse(layout, r))).collect();
    let usccs: Vec<String> = parsed
        .iter()
        .filter_map(|(_, p)| p.as_ref().ok().and_then(|f| f.uscc.clone()))
        .collect();
    let mut claims: HashMap<String, Vec<Firm>> = HashMap::new();
    for chunk in usccs.chunks(500) {
        for f in accounts::claims_of(c, chunk)? {
            claims.entry(f.uscc.clone()).or_default().push(f);
        }
    }
    let mut first_row: HashMap<String, usize> = HashMap::new();
    let mut results = Vec::with_capacity(rows.len());
    let mut writes = Vec::new();
    for (row, p) in parsed {
        let key = layout.get(row, USCC).unwrap_or("").to_string();
        let label = layout.get(row, NAME).unwrap_or("").to_string();
        let outcome = match p {
            Err(e) => Err(cell_errors(row.number, e)),
            Ok(v) => {
                let uscc = v.uscc.clone().unwrap_or_default();
                if let Some(first) = first_row.get(&uscc) {
                    Err(one(
                        row.number,
                        USCC,
                        "duplicate_key",
                        format!("与第 {first} 行的统一社会信用代码重复"),
                    ))
                } else {
                    first_row.insert(uscc.clone(), row.number);
                    let found: Vec<&Firm> = claims
                        .get(&uscc)
                        .map(|v| v.iter().collect())
                        .unwrap_or_default();
                    decide(row.number, community, staff, &v, &uscc, &found)
                }
            }
        };
        let (action, errors) = match outcome {
            Ok((action, w)) => {
                writes.extend(w);
                (action, Vec::new())
            }
            Err(errors) => ("error", errors),
        };
        results.push(RowResult {
            row: row.number,
            key,
            label,
            action,
            errors,
        });
    }
    Ok((results, writes))
}

fn write_one(c: &mut DbConnection, w: &FirmWrite) -> StoreResult<()> {
    stream::write(c, |c| {
        if w.is_new {
            let created = accounts::create_firm(
                c,
                NewFirm {
                    name: w.firm.name.clone(),
                    uscc: w.firm.uscc.clone(),
                    community_id: w.firm.community_id.clone(),
                    address: w.firm.address.clone(),
                    lat: w.firm.lat,
                    lon: w.firm.lon,
                    contact_name: w.firm.contact_name.clone(),
                    contact_phone: w.firm.contact_phone.clone(),
                    verified: true,
                },
            )?;
            let mut f = created;
            f.verified_by = w.firm.verified_by.clone();
            lifecycle::save_profile(c, &f)?;
        } else {
            let mut f = w.firm.clone();
            f.updated_at = now();
            lifecycle::save_profile(c, &f)?;
            if w.renamed {
                // Listings show the firm's name: reindex them (last).
                listings::touch_firm(c, &f.id)?;
            }
        }
        Ok(((), Vec::new()))
    })
}

/// Writes a batch, each firm in its own transaction (a code verified
/// elsewhere meanwhile fails its row only).
pub fn write(
    c: &mut DbConnection,
    batch: &[FirmWrite],
    p: &mut Progress,
    errors: &mut Vec<CellError>,
) {
    for w in batch {
        match write_one(c, w) {
            Ok(()) if w.is_new => p.created += 1,
            Ok(()) => p.updated += 1,
            Err(e) => {
                p.failed += 1;
                let message = match e {
                    StoreError::Conflict(_) => "该统一社会信用代码已由其他企业登记".to_string(),
                    other => format!("写入失败：{other}"),
                };
                errors.extend(one(w.row, USCC, "write_failed", message));
            }
        }
        p.processed_rows += 1;
    }
}

/// Every firm of a community, oldest first (for exports and for finding a
/// listing row's firm).
pub fn of_community(c: &mut DbConnection, community: &str) -> StoreResult<Vec<Firm>> {
    let mut out = Vec::new();
    let mut before = None;
    loop {
        let page = accounts::list_firms(
            c,
            &FirmFilter {
                community_id: Some(community.to_string()),
                verified: None,
                before_id: before.clone(),
                limit: 1000,
            },
        )?;
        let last = page.last().map(|f| f.id.clone());
        let full = page.len() == 1000;
        out.extend(page);
        if !full || out.len() >= 100_000 {
            break;
        }
        before = last;
    }
    out.reverse();
    Ok(out)
}
