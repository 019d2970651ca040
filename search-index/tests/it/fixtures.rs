//! A small invented park: listings across the six kinds and three communities.

use std::sync::Arc;

use zhiqilian_search_index::{ListingDoc, ListingIndex, SearchRequest, Vocabulary};

pub const NORTH: (f64, f64) = (29.95, 121.80);
pub const SOUTH: (f64, f64) = (29.80, 121.60);
pub const EAST: (f64, f64) = (29.90, 122.00);

/// Unix seconds at midnight UTC of a calendar date (days-from-civil).
pub fn day(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400
}

pub struct Spec {
    pub id: &'static str,
    pub side: &'static str,
    pub kind: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub attributes: &'static str,
    pub community: &'static str,
    pub firm: &'static str,
    pub at: (f64, f64),
}

pub fn doc(spec: &Spec, created_at: i64) -> ListingDoc {
    ListingDoc {
        id: spec.id.into(),
        side: spec.side.into(),
        kind: spec.kind.into(),
        status: "open".into(),
        community: spec.community.into(),
        urgency: "normal".into(),
        visibility: "public".into(),
        firm: spec.firm.into(),
        title: spec.title.into(),
        description: spec.description.into(),
        attributes_text: spec.attributes.into(),
        firm_name: format!("{}实业有限公司", spec.firm),
        created_at,
        lat: Some(spec.at.0),
        lon: Some(spec.at.1),
        verified: true,
        ..ListingDoc::default()
    }
}

const SPECS: &[Spec] = &[
    Spec {
        id: "o-forklift",
        side: "offer",
        kind: "equipment",
        title: "3吨叉车出租",
        description: "合力3t内燃叉车，可按天或按月租赁，含司机可另议。",
        attributes: "叉车\n合力\n出租",
        community: "c-north",
        firm: "f01",
        at: NORTH,
    },
    Spec {
        id: "o-forklift-repair",
        side: "offer",
        kind: "service",
        title: "叉车维修保养",
        description: "专业维修各品牌电动叉车、内燃叉车，上门服务。",
        attributes: "设备维修",
        community: "c-south",
        firm: "f02",
        at: SOUTH,
    },
    Spec {
        id: "o-injection",
        side: "offer",
        kind: "equipment",
        title: "海天MA2500注塑机共享机时",
        description: "250吨注塑机，夜班空闲，可代加工PP、ABS制品。",
        attributes: "注塑机\n海天\nMA2500\n共享机时",
        community: "c-north",
        firm: "f03",
        at: NORTH,
    },
    Spec {
        id: "o-plant",
        side: "offer",
        kind: "space",
        title: "标准厂房出租 2000平方米",
        description: "单层钢结构厂房，层高9米，带5吨行车，可做仓储。",
        attributes: "生产\n丙",
        community: "c-east",
        firm: "f04",
        at: EAST,
    },
    Spec {
        id: "o-coldstore",
        side: "offer",
        kind: "space",
        title: "-25℃冷库出租",
        description: "低温冷库300平米，适合冷冻食品周转，<24小时>有人值守。",
        attributes: "冷库",
        community: "c-south",
        firm: "f05",
        at: SOUTH,
    },
    Spec {
        id: "o-alloy",
        side: "offer",
        kind: "material",
        title: "ADC12铝锭现货",
        description: "压铸用铝合金锭，每月可供50吨。",
        attributes: "铝锭\nADC12",
        community: "c-east",
        firm: "f06",
        at: EAST,
    },
    Spec {
        id: "o-pcr",
        side: "offer",
        kind: "equipment",
        title: "荧光定量PCR仪共享",
        description: "实验室闲置一台荧光定量PCR仪，可按天共享。",
        attributes: "荧光定量PCR仪",
        community: "c-north",
        firm: "f07",
        at: NORTH,
    },
    Spec {
        id: "o-workers",
        side: "offer",
        kind: "workforce",
        title: "普工外派20人",
        description: "劳务公司可派普工，日结，适合包装、搬运。",
        attributes: "普工",
        community: "c-south",
        firm: "f08",
        at: SOUTH,
    },
    Spec {
        id: "o-truck",
        side: "offer",
        kind: "logistics",
        title: "集卡运输 港区提柜",
        description: "自有拖头10台，承接港区短驳、40尺柜运输。",
        attributes: "集卡",
        community: "c-east",
        firm: "f09",
        at: EAST,
    },
    Spec {
        id: "o-compressor",
        side: "offer",
        kind: "equipment",
        title: "螺杆空压机出租",
        description: "37千瓦螺杆式空气压缩机，可应急租赁。",
        attributes: "空压机",
        community: "c-north",
        firm: "f01",
        at: NORTH,
    },
    Spec {
        id: "o-pallet",
        side: "offer",
        kind: "material",
        title: "二手木栈板处理",
        description: "1.2米×1米木栈板约500片，低价处理。",
        attributes: "栈板",
        community: "c-south",
        firm: "f02",
        at: SOUTH,
    },
    Spec {
        id: "o-apartment",
        side: "offer",
        kind: "space",
        title: "员工公寓出租",
        description: "紧邻宁波大学科技园，拎包入住，可整租给企业。",
        attributes: "宿舍",
        community: "c-east",
        firm: "f10",
        at: EAST,
    },
    Spec {
        id: "o-cnc",
        side: "offer",
        kind: "equipment",
        title: "立加VMC850共享",
        description: "三菱系统立式加工中心，行程800毫米，可承接铝件加工。",
        attributes: "加工中心\nVMC850",
        community: "c-east",
        firm: "f03",
        at: EAST,
    },
    Spec {
        id: "r-forklift",
        side: "request",
        kind: "equipment",
        title: "求租铲车一台",
        description: "仓库装卸用，3吨以上，租期两周。",
        attributes: "",
        community: "c-north",
        firm: "f11",
        at: NORTH,
    },
    Spec {
        id: "r-masks",
        side: "request",
        kind: "material",
        title: "急需防护口罩",
        description: "疫情防控急需口罩10万只，可分批交货。",
        attributes: "口罩",
        community: "c-south",
        firm: "f12",
        at: SOUTH,
    },
    Spec {
        id: "o-mask-machine",
        side: "offer",
        kind: "equipment",
        title: "口罩机转让",
        description: "平面口罩机两台，九成新。",
        attributes: "口罩机",
        community: "c-east",
        firm: "f13",
        at: EAST,
    },
    Spec {
        id: "o-welders",
        side: "offer",
        kind: "workforce",
        title: "二保焊工派遣",
        description: "持证焊工5名，熟练CO2气保焊。",
        attributes: "焊工",
        community: "c-north",
        firm: "f08",
        at: NORTH,
    },
    Spec {
        id: "o-pp",
        side: "offer",
        kind: "material",
        title: "T30S拉丝级PP",
        description: "均聚聚丙烯，袋装25公斤。",
        attributes: "聚丙烯\nT30S",
        community: "c-south",
        firm: "f06",
        at: SOUTH,
    },
    Spec {
        id: "o-stacker",
        side: "offer",
        kind: "equipment",
        title: "电动堆高车出租",
        description: "1.5吨电动堆高车，园区内可送。",
        attributes: "堆高车",
        community: "c-east",
        firm: "f04",
        at: EAST,
    },
];

/// The park: every listing open and public, created one hour apart in file order, except
/// where a test needs a twist (see the comments).
pub fn listings() -> Vec<ListingDoc> {
    let mut docs: Vec<ListingDoc> = SPECS
        .iter()
        .enumerate()
        .map(|(i, s)| doc(s, day(2026, 11, 1) + 3_600 * i as i64))
        .collect();
    for d in &mut docs {
        match d.id.as_str() {
            // only members of its community may see it
            "o-stacker" => d.visibility = "community".into(),
            "r-masks" => d.urgency = "emergency".into(),
            "r-forklift" => d.urgency = "urgent".into(),
            // a window in November only
            "o-forklift" => {
                d.available_from = Some(day(2026, 11, 1));
                d.available_until = Some(day(2026, 11, 30));
            }
            // open-ended from December on
            "o-compressor" => d.available_from = Some(day(2026, 12, 1)),
            // no coordinates
            "o-pallet" => {
                d.lat = None;
                d.lon = None;
            }
            _ => {}
        }
    }
    docs.push(ListingDoc {
        id: "o-sold".into(),
        status: "closed".into(),
        title: "叉车出售（已售）".into(),
        description: "二手叉车一台，已成交。".into(),
        ..doc(&SPECS[0], day(2026, 10, 1))
    });
    docs
}

pub fn open_count() -> u64 {
    listings().iter().filter(|d| d.status == "open").count() as u64
}

pub fn park() -> ListingIndex {
    let index = ListingIndex::create_in_ram(vocab()).expect("in-memory index");
    for d in listings() {
        index.upsert(&d).expect("upsert");
    }
    index.commit(1).expect("commit");
    index
}

pub fn vocab() -> Arc<Vocabulary> {
    Vocabulary::shared_builtin()
}

pub fn ids(index: &ListingIndex, request: &SearchRequest) -> Vec<String> {
    index
        .search(request)
        .expect("search")
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect()
}

pub fn text(q: &str) -> SearchRequest {
    SearchRequest {
        limit: 100,
        ..SearchRequest::text(q)
    }
}
