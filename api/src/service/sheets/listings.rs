//! Importing a community's listings: one row per listing, keyed on 编号 (the
//! community's own numbering), for a firm of the community named by its
//! 统一社会信用代码 or its exact name. Staff import for the firms as the front
//! desk posts for them: the listings record the staff member as poster,
//! the firms' admins are told and may take them over; a listing its firm
//! took over, or that is closed, is no longer changed by an import.

use std::collections::HashMap;

use zhiqilian_matcher::{FieldError, Uscc};

use crate::service::listing_form::{self, Amount, ListingInput, LocationIn};
use crate::service::listings::{BulkItem, BulkOutcome, write_bulk};
use crate::service::sheets::columns::{Column, Layout, choice, choices, date, number};
use crate::service::sheets::firms::{self, NAME, USCC};
use crate::service::sheets::table::Row;
use crate::service::sheets::{CellError, RowResult};
use crate::service::validate::Errors;
use crate::store::imports::Progress;
use crate::store::models::{Firm, Listing};
use crate::store::{DbConnection, StoreResult, listings, now};

pub const KEY: &str = "编号";
const SIDE: &str = "供需";
const KIND: &str = "类别";
const TITLE: &str = "标题";
const DESCRIPTION: &str = "描述";
const QUANTITY: &str = "数量";
const UNIT: &str = "单位";
const PRICE: &str = "价格";
const PRICE_UNIT: &str = "价格单位";
const URGENCY: &str = "紧急程度";
const VISIBILITY: &str = "可见范围";
const FROM: &str = "开始日期";
const UNTIL: &str = "结束日期";
const ADDRESS: &str = "地址";
const LAT: &str = "纬度";
const LON: &str = "经度";

pub const COLUMNS: &[Column] = &[
    Column {
        header: KEY,
        aliases: &["外部编号", "信息编号", "序号编号"],
        required: true,
        note: "本社区自己的编号（1–64 个字符）；再次导入同一编号即更新该条信息",
    },
    Column {
        header: USCC,
        aliases: &["企业信用代码", "信用代码", "社会信用代码"],
        required: false,
        note: "发布信息的企业（须为本社区企业）；与企业名称至少填一项",
    },
    Column {
        header: NAME,
        aliases: &["企业", "公司名称", "发布企业"],
        required: false,
        note: "本社区企业的全称；未填信用代码时按名称查找",
    },
    Column {
        header: SIDE,
        aliases: &["供需方向", "供求", "类型"],
        required: true,
        note: "供给 或 需求",
    },
    Column {
        header: KIND,
        aliases: &["分类", "信息类别"],
        required: true,
        note: "厂房仓储、设备、物料、物流运力、用工、服务",
    },
    Column {
        header: TITLE,
        aliases: &["名称", "信息标题"],
        required: true,
        note: "2–100 个字符",
    },
    Column {
        header: DESCRIPTION,
        aliases: &["详细描述", "说明", "内容"],
        required: false,
        note: "最多 2000 个字符，可换行",
    },
    Column {
        header: QUANTITY,
        aliases: &["数目"],
        required: false,
        note: "大于 0 的数，与单位同时填写",
    },
    Column {
        header: UNIT,
        aliases: &["数量单位", "计量单位"],
        required: false,
        note: "如 台、吨、平方米、人",
    },
    Column {
        header: PRICE,
        aliases: &["单价", "预算"],
        required: false,
        note: "0 或以上的数，与价格单位同时填写（需求为预算）",
    },
    Column {
        header: PRICE_UNIT,
        aliases: &["计价单位"],
        required: false,
        note: "如 元/天、元/吨",
    },
    Column {
        header: URGENCY,
        aliases: &["紧急", "紧急度"],
        required: false,
        note: "常规（默认）、加急、紧急；加急和紧急的需求进入工单队列",
    },
    Column {
        header: VISIBILITY,
        aliases: &["可见性", "公开范围"],
        required: false,
        note: "公开（默认）或 仅本社区",
    },
    Column {
        header: FROM,
        aliases: &["可用开始日期", "起始日期"],
        required: false,
        note: "YYYY-MM-DD",
    },
    Column {
        header: UNTIL,
        aliases: &["可用结束日期", "截止日期"],
        required: false,
        note: "YYYY-MM-DD，不早于开始日期",
    },
    Column {
        header: ADDRESS,
        aliases: &["地点", "详细地址"],
        required: false,
        note: "空白时取企业地址",
    },
    Column {
        header: LAT,
        aliases: &["lat"],
        required: false,
        note: "与经度同时填写",
    },
    Column {
        header: LON,
        aliases: &["lon", "lng"],
        required: false,
        note: "与纬度同时填写",
    },
];

pub const SIDES: &[(&str, &[&str])] = &[
    ("offer", &["供给", "供应", "提供", "供", "出租", "出售"]),
    ("request", &["需求", "求购", "求租", "需", "求"]),
];
pub const KINDS: &[(&str, &[&str])] = &[
    ("space", &["厂房仓储", "厂房", "仓储", "仓库", "场地"]),
    ("equipment", &["设备", "设备机时", "机器"]),
    ("material", &["物料", "原材料", "材料"]),
    ("logistics", &["物流运力", "物流", "运输", "运力"]),
    ("workforce", &["用工", "共享用工", "人力", "劳务"]),
    ("service", &["服务", "检测服务", "技术服务"]),
];
pub const URGENCIES: &[(&str, &[&str])] = &[
    ("normal", &["常规", "普通", "一般"]),
    ("urgent", &["加急", "急"]),
    ("emergency", &["紧急", "特急", "停产"]),
];
pub const VISIBILITIES: &[(&str, &[&str])] = &[
    ("public", &["公开", "全部"]),
    ("community", &["仅本社区", "本社区", "社区内"]),
];

/// The label of a wire value in a choice table (the first name).
pub fn label(table: &[(&str, &[&str])], wire: &str) -> String {
    table
        .iter()
        .find(|(w, _)| *w == wire)
        .and_then(|(_, names)| names.first())
        .map_or_else(|| wire.to_string(), |n| n.to_string())
}

/// The column a listing-form field is reported under.
fn column_of(field: &str) -> &'static str {
    match field.split('.').next().unwrap_or(field) {
        "side" => SIDE,
        "kind" => KIND,
        "title" => TITLE,
        "description" => DESCRIPTION,
        "quantity" if field.ends_with("unit") => UNIT,
        "quantity" => QUANTITY,
        "price" if field.ends_with("unit") => PRICE_UNIT,
        "price" => PRICE,
        "location" if field.ends_with("lat") => LAT,
        "location" if field.ends_with("lon") => LON,
        "location" => ADDRESS,
        "available_from" => FROM,
        "available_until" => UNTIL,
        "urgency" => URGENCY,
        "visibility" => VISIBILITY,
        _ => KEY,
    }
}

/// The firms of the community, by code and by name.
struct Firms {
    by_uscc: HashMap<String, Firm>,
    by_name: HashMap<String, Vec<Firm>>,
}

impl Firms {
    fn load(c: &mut DbConnection, community: &str) -> StoreResult<Firms> {
        let mut by_uscc: HashMap<String, Firm> = HashMap::new();
        let mut by_name: HashMap<String, Vec<Firm>> = HashMap::new();
        for f in firms::of_community(c, community)? {
            if f.claim_refused_at.is_some() {
                continue;
            }
            by_name.entry(f.name.clone()).or_default().push(f.clone());
            let keep = by_uscc
                .get(&f.uscc)
                .is_none_or(|old| !old.verified && f.verified);
            if keep {
                by_uscc.insert(f.uscc.clone(), f);
            }
        }
        Ok(Firms { by_uscc, by_name })
    }

    fn find(&self, e: &mut Errors, uscc: Option<&str>, name: Option<&str>) -> Option<Firm> {
        let uscc = uscc.filter(|s| !s.is_empty());
        let name = name.filter(|s| !s.is_empty());
        if let Some(raw) = uscc {
            let code = match Uscc::parse(raw) {
                Ok(u) => u.as_str().to_string(),
                Err(err) => {
                    e.push(USCC, "invalid_uscc", err.to_string());
                    return None;
                }
            };
            let Some(f) = self.by_uscc.get(&code) else {
                e.push(
                    USCC,
                    "unknown_firm",
                    "本社区没有该统一社会信用代码的企业：请先导入企业",
                );
                return None;
            };
            if let Some(n) = name
                && n != f.name
            {
                e.push(
                    NAME,
                    "firm_mismatch",
                    format!("与信用代码对应的企业名称“{}”不一致", f.name),
                );
                return None;
            }
            return Some(f.clone());
        }
        let Some(n) = name else {
            e.push(USCC, "required", "须填写统一社会信用代码或企业名称");
            return None;
        };
        match self.by_name.get(n).map(Vec::as_slice) {
            Some([f]) => Some(f.clone()),
            Some([_, _, ..]) => {
                e.push(
                    NAME,
                    "ambiguous_firm",
                    "本社区有多家同名企业，请填写统一社会信用代码",
                );
                None
            }
            _ => {
                e.push(
                    NAME,
                    "unknown_firm",
                    "本社区没有该名称的企业：请核对全称或先导入企业",
                );
                None
            }
        }
    }
}

/// A choice column into the input's wire value (`Some(raw)` when unknown,
/// so the form reports it), `None` for a blank cell.
fn choice_cell(
    e: &mut Errors,
    col: &str,
    v: &str,
    table: &[(&'static str, &[&str])],
) -> Option<String> {
    if v.is_empty() {
        return None;
    }
    match choice(v, table) {
        Some(w) => Some(w.to_string()),
        None => {
            e.push(
                col,
                "invalid_value",
                format!("“{v}”无法识别，可填：{}", choices(table)),
            );
            None
        }
    }
}

fn amount(e: &mut Errors, cols: (&str, &str), a: Option<&str>, u: Option<&str>) -> Option<Amount> {
    let (a, u) = (a.unwrap_or(""), u.unwrap_or(""));
    match (a.is_empty(), u.is_empty()) {
        (true, true) => None,
        (false, true) => {
            e.push(
                cols.1,
                "required",
                format!("填写了{}，须同时填写{}", cols.0, cols.1),
            );
            None
        }
        (true, false) => {
            e.push(
                cols.0,
                "required",
                format!("填写了{}，须同时填写{}", cols.1, cols.0),
            );
            None
        }
        (false, false) => match number(a) {
            Some(amount) => Some(Amount {
                amount,
                unit: u.to_string(),
            }),
            None => {
                e.push(cols.0, "invalid_type", "须为数字");
                None
            }
        },
    }
}

/// The row over `base` (a stored listing's input, or a blank one): each
/// column the file has replaces its field; a blank cell clears it.
fn input(e: &mut Errors, layout: &Layout, row: &Row, mut base: ListingInput) -> ListingInput {
    let get = |h: &str| layout.get(row, h);
    if let Some(v) = get(SIDE) {
        base.side = choice_cell(e, SIDE, v, SIDES);
    }
    if let Some(v) = get(KIND) {
        base.kind = choice_cell(e, KIND, v, KINDS);
    }
    if let Some(v) = get(TITLE) {
        base.title = Some(v.to_string());
    }
    if let Some(v) = get(DESCRIPTION) {
        // Cells keep their line breaks; a CSV's may be CRLF.
        base.description = Some(v.replace("\r\n", "\n"));
    }
    if layout.has(QUANTITY) || layout.has(UNIT) {
        base.quantity = amount(e, (QUANTITY, UNIT), get(QUANTITY), get(UNIT));
    }
    if layout.has(PRICE) || layout.has(PRICE_UNIT) {
        base.price = amount(e, (PRICE, PRICE_UNIT), get(PRICE), get(PRICE_UNIT));
    }
    if let Some(v) = get(URGENCY) {
        base.urgency = choice_cell(e, URGENCY, v, URGENCIES);
    }
    if let Some(v) = get(VISIBILITY) {
        base.visibility = choice_cell(e, VISIBILITY, v, VISIBILITIES);
    }
    if let Some(v) = get(FROM) {
        base.available_from = Some(date(v)).filter(|d| !d.is_empty());
    }
    if let Some(v) = get(UNTIL) {
        base.available_until = Some(date(v)).filter(|d| !d.is_empty());
    }
    if layout.has(ADDRESS) || layout.has(LAT) || layout.has(LON) {
        let coord = |e: &mut Errors, col: &str| match get(col).filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => {
                let x = number(v);
                if x.is_none() {
                    e.push(col, "invalid_type", "须为数字");
                }
                x
            }
        };
        let address = get(ADDRESS).filter(|v| !v.is_empty()).map(str::to_string);
        let (lat, lon) = (coord(e, LAT), coord(e, LON));
        base.location = (address.is_some() || lat.is_some() || lon.is_some())
            .then_some(LocationIn { address, lat, lon });
    }
    base
}

/// One error per column (the first: a choice that was not understood is
/// not reported again as missing).
fn cell_errors(row: usize, errs: Vec<FieldError>) -> Vec<CellError> {
    let mut seen = std::collections::HashSet::new();
    errs.into_iter()
        .map(|f| CellError {
            row,
            // Errors of this module name their column; the listing form's
            // name a field of the form.
            column: if f.field.is_ascii() {
                column_of(&f.field).to_string()
            } else {
                f.field
            },
            code: f.code.to_string(),
            message: f.message,
        })
        .filter(|e| seen.insert(e.column.clone()))
        .collect()
}

/// Checks one row against its firm and the listing its key already names.
fn check_row(
    layout: &Layout,
    row: &Row,
    key: &str,
    firm: Firm,
    stored: Option<&Listing>,
    staff: &str,
) -> Result<(&'static str, Option<BulkItem>), Vec<FieldError>> {
    let mut e = Errors::default();
    let base = match stored {
        None => ListingInput::default(),
        Some(l) => {
            if l.firm_id != firm.id {
                e.push(KEY, "taken", "该编号已属于另一家企业的信息");
            } else if l.posted_by_staff.is_none() {
                e.push(KEY, "not_editable", "该信息已由企业接管，社区不能再修改");
            } else if l.status != zhiqilian_matcher::ListingStatus::Open {
                e.push(KEY, "not_editable", "该信息已关闭，不能通过导入修改");
            }
            listing_form::input_of(l)
        }
    };
    let input = input(&mut e, layout, row, base);
    if let Some(l) = stored {
        if input.side.as_deref().is_some_and(|s| s != l.side) {
            e.push(
                SIDE,
                "immutable",
                "发布后不能修改供需方向，请换一个编号另行导入",
            );
        }
        if input.kind.as_deref().is_some_and(|k| k != l.kind) {
            e.push(
                KIND,
                "immutable",
                "发布后不能修改类别，请换一个编号另行导入",
            );
        }
    }
    let draft = match listing_form::validate(&input, &firm, now()) {
        Ok(d) if e.is_empty() => d,
        Ok(_) => return Err(e.0),
        Err(errs) => {
            e.extend(errs);
            return Err(e.0);
        }
    };
    let item = BulkItem {
        row: row.number,
        key: key.to_string(),
        firm,
        draft,
        posted_by_staff: Some(staff.to_string()),
    };
    let Some(l) = stored else {
        return Ok(("create", Some(item)));
    };
    let mut next = l.clone();
    listing_form::fill_row(&mut next, item.draft.clone());
    next.expires_at = l.expires_at;
    if next == *l {
        Ok(("unchanged", None))
    } else {
        Ok(("update", Some(item)))
    }
}

/// The stored key of a community's 编号.
pub fn stored_key(community: &str, key: &str) -> String {
    format!("{community}:{key}")
}

/// The 编号 of a stored key, when it is one of the community's.
pub fn sheet_key(community: &str, ext_key: Option<&str>) -> String {
    ext_key
        .and_then(|k| k.strip_prefix(community))
        .and_then(|k| k.strip_prefix(':'))
        .unwrap_or("")
        .to_string()
}

/// Checks every row (reads only).
pub fn check(
    c: &mut DbConnection,
    community: &str,
    staff: &str,
    layout: &Layout,
    rows: &[Row],
) -> StoreResult<(Vec<RowResult>, Vec<BulkItem>)> {
    let firms = Firms::load(c, community)?;
    let keys: Vec<String> = rows
        .iter()
        .filter_map(|r| layout.get(r, KEY))
        .filter(|k| !k.is_empty())
        .map(|k| stored_key(community, k))
        .collect();
    let mut stored: HashMap<String, Listing> = HashMap::new();
    for chunk in keys.chunks(500) {
        stored.extend(listings::by_ext_keys(c, chunk)?);
    }
    let mut first_row: HashMap<String, usize> = HashMap::new();
    let mut results = Vec::with_capacity(rows.len());
    let mut writes = Vec::new();
    for row in rows {
        let key = layout.get(row, KEY).unwrap_or("").to_string();
        let mut e = Errors::default();
        let key_text = e.text(KEY, &key, 1, 64);
        if let Some(first) = first_row.get(&key_text) {
            e.push(KEY, "duplicate_key", format!("与第 {first} 行的编号重复"));
        } else if !key_text.is_empty() {
            first_row.insert(key_text.clone(), row.number);
        }
        let firm = firms.find(&mut e, layout.get(row, USCC), layout.get(row, NAME));
        let outcome = match (firm, e.is_empty()) {
            (Some(f), true) => {
                let sk = stored_key(community, &key_text);
                check_row(layout, row, &sk, f, stored.get(&sk), staff)
            }
            _ => {
                // Report the listing's own problems too.
                let mut more = Errors::default();
                let probe = input(&mut more, layout, row, ListingInput::default());
                more.extend(
                    listing_form::validate(&probe, &accounts_placeholder(), now())
                        .err()
                        .unwrap_or_default(),
                );
                e.extend(more.0);
                Err(e.0)
            }
        };
        let (action, errors) = match outcome {
            Ok((action, item)) => {
                writes.extend(item);
                (action, Vec::new())
            }
            Err(errs) => ("error", cell_errors(row.number, errs)),
        };
        results.push(RowResult {
            row: row.number,
            key,
            label: layout.get(row, TITLE).unwrap_or("").to_string(),
            action,
            errors,
        });
    }
    Ok((results, writes))
}

/// A firm with no location, to check a row whose firm is unknown.
fn accounts_placeholder() -> Firm {
    crate::store::accounts::firm_row(crate::store::accounts::NewFirm {
        name: String::new(),
        uscc: String::new(),
        community_id: String::new(),
        address: String::new(),
        lat: None,
        lon: None,
        contact_name: String::new(),
        contact_phone: String::new(),
        verified: false,
    })
}

/// Writes a batch through the shared bulk writer; `touched` counts the
/// listings written per firm (for the firms' notifications).
pub fn write(
    c: &mut DbConnection,
    batch: &[BulkItem],
    p: &mut Progress,
    errors: &mut Vec<CellError>,
    touched: &mut Vec<(String, usize)>,
) {
    for (item, r) in batch.iter().zip(write_bulk(c, batch)) {
        p.processed_rows += 1;
        match r {
            Ok(o) => {
                match o {
                    BulkOutcome::Created => p.created += 1,
                    BulkOutcome::Updated => p.updated += 1,
                    BulkOutcome::Unchanged => p.unchanged += 1,
                }
                if o != BulkOutcome::Unchanged {
                    match touched.iter_mut().find(|(f, _)| *f == item.firm.id) {
                        Some((_, n)) => *n += 1,
                        None => touched.push((item.firm.id.clone(), 1)),
                    }
                }
            }
            Err(e) => {
                p.failed += 1;
                errors.push(CellError {
                    row: e.row,
                    column: KEY.to_string(),
                    code: "write_failed".into(),
                    message: e.message,
                });
            }
        }
    }
}
