//! Industrial communities, their streets and industries, and the places that
//! trucks go to.

use crate::items::{self, Profile};

/// One industrial community (工业社区).
#[derive(Debug)]
pub struct Community {
    pub name: String,
    /// Short local names used in posts (大港, 新碶 …).
    pub nick: Vec<&'static str>,
    /// Place names for routes (北仑, 宁波北仑 …).
    pub route: Vec<&'static str>,
    /// Address up to the street office, e.g. 宁波市北仑区新碶街道.
    pub addr: String,
    pub roads: &'static [&'static str],
    /// Six-digit administrative region code of the district (positions 3–8 of a USCC).
    pub region: &'static str,
    pub lat: f64,
    pub lon: f64,
    /// Ports or yards nearby, for container work.
    pub ports: &'static [&'static str],
    /// Whether `ports` are seaports (else export boxes go to a distant port).
    pub seaport: bool,
    /// Which industries the community's firms are in, by weight.
    pub mix: &'static [(&'static Profile, u32)],
}

struct Builtin {
    name: &'static str,
    nick: &'static [&'static str],
    route: &'static [&'static str],
    addr: &'static str,
    roads: &'static [&'static str],
    region: &'static str,
    lat: f64,
    lon: f64,
    ports: &'static [&'static str],
    seaport: bool,
    mix: &'static [(&'static Profile, u32)],
}

const NINGBO_PORTS: &[&str] = &["北仑港", "梅山港", "穿山港区", "北仑港区", "大榭"];

static BUILTIN: &[Builtin] = &[
    Builtin {
        name: "大港工业社区",
        nick: &["大港", "新碶", "大港", "北仑大港"],
        route: &["北仑", "宁波北仑", "北仑大港", "新碶", "宁波"],
        addr: "宁波市北仑区新碶街道",
        roads: &[
            "大港一路",
            "大港二路",
            "大港三路",
            "大港四路",
            "大港五路",
            "大港六路",
            "长江路",
            "嵩山路",
            "明州路",
            "黄山西路",
            "太河路",
            "新大路",
            "岷山路",
            "庐山东路",
        ],
        region: "330206",
        lat: 29.9323,
        lon: 121.8693,
        ports: NINGBO_PORTS,
        seaport: true,
        mix: &[
            (&items::MOLDING, 9),
            (&items::MACHINING, 7),
            (&items::STAMPING, 4),
            (&items::DIECAST, 2),
            (&items::PACKAGING, 3),
            (&items::LOGISTICS, 3),
            (&items::ELECTRONICS, 3),
            (&items::LABOUR, 2),
            (&items::RENTAL, 2),
            (&items::PROPERTY, 2),
            (&items::MAINTENANCE, 2),
            (&items::TESTING, 1),
            (&items::CONSULTING, 1),
            (&items::SURFACE, 1),
        ],
    },
    Builtin {
        name: "灵峰工业社区",
        nick: &["灵峰", "大碶", "灵峰", "北仑大碶"],
        route: &["北仑", "北仑大碶", "灵峰", "宁波北仑", "宁波"],
        addr: "宁波市北仑区大碶街道",
        roads: &[
            "灵峰路",
            "沙湾路",
            "联合路",
            "东河路",
            "璎珞河路",
            "庐山西路",
            "高潮路",
            "坝头西路",
            "灵山路",
            "银杏路",
        ],
        region: "330206",
        lat: 29.8795,
        lon: 121.9292,
        ports: NINGBO_PORTS,
        seaport: true,
        mix: &[
            (&items::DIECAST, 7),
            (&items::STAMPING, 5),
            (&items::MACHINING, 4),
            (&items::MOLDING, 4),
            (&items::COLD_CHAIN, 3),
            (&items::LOGISTICS, 3),
            (&items::PROPERTY, 3),
            (&items::RENTAL, 2),
            (&items::PACKAGING, 2),
            (&items::MAINTENANCE, 2),
            (&items::SURFACE, 2),
            (&items::LABOUR, 1),
        ],
    },
    Builtin {
        name: "霞浦物流工业社区",
        nick: &["霞浦", "霞浦", "北仑霞浦", "霞浦物流园"],
        route: &["北仑霞浦", "霞浦", "北仑港", "北仑", "宁波"],
        addr: "宁波市北仑区霞浦街道",
        roads: &[
            "霞浦中路",
            "港西大道",
            "海发路",
            "雪山路",
            "恒山路",
            "保税西区港城大道",
            "霞浦西路",
            "通途路",
            "凤洋一路",
        ],
        region: "330206",
        lat: 29.9534,
        lon: 121.9429,
        ports: NINGBO_PORTS,
        seaport: true,
        mix: &[
            (&items::LOGISTICS, 10),
            (&items::COLD_CHAIN, 6),
            (&items::CHEMICAL, 4),
            (&items::RENTAL, 3),
            (&items::PROPERTY, 2),
            (&items::LABOUR, 3),
            (&items::PACKAGING, 2),
            (&items::TESTING, 1),
            (&items::CONSULTING, 1),
        ],
    },
    Builtin {
        name: "平湖经开智创工业社区",
        nick: &["平湖", "平湖经开", "经开区", "平湖经开区"],
        route: &["平湖", "平湖经开", "嘉兴平湖", "嘉兴"],
        addr: "浙江省平湖市经济技术开发区",
        roads: &[
            "平湖大道",
            "新兴三路",
            "新明路",
            "兴平一路",
            "新凯路",
            "新兴一路",
            "昌盛路",
            "经一路",
            "新华北路",
            "兴港路",
        ],
        region: "330482",
        lat: 30.6996,
        lon: 121.0218,
        ports: &["乍浦港", "独山港", "嘉兴港"],
        seaport: true,
        mix: &[
            (&items::ELECTRONICS, 7),
            (&items::PACKAGING, 4),
            (&items::LOGISTICS, 4),
            (&items::MACHINING, 3),
            (&items::MOLDING, 3),
            (&items::MEDICAL, 2),
            (&items::LABOUR, 3),
            (&items::PROPERTY, 2),
            (&items::RENTAL, 1),
            (&items::CONSULTING, 1),
            (&items::TESTING, 1),
        ],
    },
    Builtin {
        name: "马海工业社区",
        nick: &["马山", "马海", "越城", "马山镇"],
        route: &["绍兴", "绍兴马海", "马山", "越城", "绍兴越城"],
        addr: "浙江省绍兴市越城区马山街道",
        roads: &[
            "马欢路",
            "镇东路",
            "新二路",
            "越东北路",
            "马山大道",
            "海涂路",
            "镇西路",
            "新三路",
            "滨海大道",
        ],
        region: "330602",
        lat: 30.0507,
        lon: 120.6517,
        ports: &["绍兴港", "马山", "柯桥物流园", "绍兴综保区"],
        seaport: false,
        mix: &[
            (&items::TEXTILE, 10),
            (&items::CHEMICAL, 4),
            (&items::LOGISTICS, 3),
            (&items::PACKAGING, 2),
            (&items::LABOUR, 2),
            (&items::PROPERTY, 2),
            (&items::MAINTENANCE, 1),
            (&items::SURFACE, 1),
            (&items::MACHINING, 1),
        ],
    },
    Builtin {
        name: "春晓湖工业社区",
        nick: &["春晓", "春晓湖", "北仑春晓", "春晓"],
        route: &["北仑春晓", "春晓", "北仑", "宁波北仑"],
        addr: "宁波市北仑区春晓街道",
        roads: &[
            "春晓大道",
            "三山路",
            "湖滨路",
            "滨海路",
            "洋沙山路",
            "春晓中路",
            "昆亭路",
            "慈东路",
        ],
        region: "330206",
        lat: 29.8020,
        lon: 121.9524,
        ports: NINGBO_PORTS,
        seaport: true,
        mix: &[
            (&items::ELECTRONICS, 5),
            (&items::COLD_CHAIN, 3),
            (&items::MACHINING, 3),
            (&items::PROPERTY, 4),
            (&items::STAMPING, 2),
            (&items::MEDICAL, 1),
            (&items::RENTAL, 1),
            (&items::LOGISTICS, 2),
            (&items::MOLDING, 2),
        ],
    },
    Builtin {
        name: "海盐智汇湾工业社区",
        nick: &["海盐", "西塘桥", "海盐西塘桥", "智汇湾"],
        route: &["海盐", "西塘桥", "嘉兴海盐", "海盐西塘桥"],
        addr: "浙江省海盐县西塘桥街道",
        roads: &[
            "新港路",
            "工业大道",
            "海港大道",
            "杭州湾大道",
            "兴港路",
            "金星路",
            "翁金线",
            "西塘路",
        ],
        region: "330424",
        lat: 30.5219,
        lon: 120.9547,
        ports: &["乍浦港", "独山港", "海盐港区"],
        seaport: true,
        mix: &[
            (&items::STAMPING, 4),
            (&items::TESTING, 4),
            (&items::MACHINING, 4),
            (&items::ELECTRONICS, 3),
            (&items::SURFACE, 2),
            (&items::LOGISTICS, 2),
            (&items::MEDICAL, 2),
            (&items::PACKAGING, 2),
            (&items::LABOUR, 1),
            (&items::PROPERTY, 1),
            (&items::CONSULTING, 1),
        ],
    },
];

/// Places for communities beyond the seven: (place, address prefix, region code, lat, lon).
static EXTRA_PLACES: &[(&str, &str, &str, f64, f64)] = &[
    ("余姚", "浙江省余姚市", "330281", 30.0372, 121.1546),
    ("慈溪", "浙江省慈溪市", "330282", 30.1696, 121.2664),
    ("镇海", "宁波市镇海区", "330211", 29.9490, 121.7167),
    ("鄞州", "宁波市鄞州区", "330212", 29.8170, 121.5470),
    ("奉化", "宁波市奉化区", "330213", 29.6553, 121.4063),
    ("宁海", "浙江省宁海县", "330226", 29.2890, 121.4290),
    ("象山", "浙江省象山县", "330225", 29.4768, 121.8692),
    ("嘉善", "浙江省嘉善县", "330421", 30.8305, 120.9264),
    ("海宁", "浙江省海宁市", "330481", 30.5097, 120.6808),
    ("桐乡", "浙江省桐乡市", "330483", 30.6302, 120.5651),
    ("柯桥", "绍兴市柯桥区", "330603", 30.0817, 120.4950),
    ("上虞", "绍兴市上虞区", "330604", 30.0325, 120.8686),
    ("诸暨", "浙江省诸暨市", "330681", 29.7136, 120.2364),
    ("萧山", "杭州市萧山区", "330109", 30.1850, 120.2645),
    ("长兴", "浙江省长兴县", "330522", 31.0267, 119.9108),
    ("德清", "浙江省德清县", "330521", 30.5425, 119.9774),
    ("义乌", "浙江省义乌市", "330782", 29.3056, 120.0752),
    ("永康", "浙江省永康市", "330784", 28.8884, 120.0470),
    ("温岭", "浙江省温岭市", "331081", 28.3718, 121.3856),
    ("乐清", "浙江省乐清市", "330382", 28.1128, 120.9830),
    ("瑞安", "浙江省瑞安市", "330381", 27.7780, 120.6554),
    ("黄岩", "台州市黄岩区", "331003", 28.6496, 121.2619),
];

static EXTRA_SUFFIXES: &[&str] = &[
    "高新",
    "滨海",
    "经开",
    "临港",
    "智造",
    "科创",
    "新材料",
    "汽配",
    "电子信息",
    "物流",
];

static EXTRA_ROADS: &[&str] = &[
    "兴业路",
    "创业大道",
    "科技路",
    "工业大道",
    "园区路",
    "东方路",
    "环城北路",
    "纬一路",
    "经二路",
    "开发大道",
    "滨海大道",
    "江南路",
    "明珠路",
    "振兴路",
    "新兴路",
    "金山路",
    "富强路",
    "智造大道",
];

static EXTRA_MIX: &[(&Profile, u32)] = &[
    (&items::MOLDING, 4),
    (&items::MACHINING, 4),
    (&items::STAMPING, 3),
    (&items::DIECAST, 2),
    (&items::ELECTRONICS, 3),
    (&items::TEXTILE, 2),
    (&items::CHEMICAL, 1),
    (&items::PACKAGING, 2),
    (&items::LOGISTICS, 3),
    (&items::COLD_CHAIN, 1),
    (&items::LABOUR, 2),
    (&items::RENTAL, 2),
    (&items::PROPERTY, 2),
    (&items::MAINTENANCE, 1),
    (&items::TESTING, 1),
    (&items::CONSULTING, 1),
    (&items::SURFACE, 1),
    (&items::MEDICAL, 1),
];

/// The first `n` communities: the seven of the evaluation data, then
/// generated ones (余姚高新工业社区 …). The list depends on `n` only.
pub fn communities(n: usize) -> Vec<Community> {
    let mut out = Vec::with_capacity(n);
    for b in BUILTIN.iter().take(n) {
        out.push(Community {
            name: b.name.to_string(),
            nick: b.nick.to_vec(),
            route: b.route.to_vec(),
            addr: b.addr.to_string(),
            roads: b.roads,
            region: b.region,
            lat: b.lat,
            lon: b.lon,
            ports: b.ports,
            seaport: b.seaport,
            mix: b.mix,
        });
    }
    for i in 0..n.saturating_sub(BUILTIN.len()) {
        let (place, prefix, region, lat, lon) = EXTRA_PLACES[i % EXTRA_PLACES.len()];
        let j = i / EXTRA_PLACES.len();
        let suffix = EXTRA_SUFFIXES[j % EXTRA_SUFFIXES.len()];
        let round = j / EXTRA_SUFFIXES.len();
        let name = if round == 0 {
            format!("{place}{suffix}工业社区")
        } else {
            format!("{place}{suffix}第{}工业社区", round + 1)
        };
        // Spread the parks of one place around it (up to ~8 km), deterministically.
        let angle = (j as f64) * 2.399_963; // golden angle
        let radius = 0.02 + 0.05 * ((j % 7) as f64) / 7.0;
        out.push(Community {
            name,
            nick: vec![place, place, suffix_nick(suffix)],
            route: vec![place, place],
            addr: format!("{prefix}{suffix}工业园"),
            roads: EXTRA_ROADS,
            region,
            lat: lat + radius * angle.sin(),
            lon: lon + radius * angle.cos(),
            ports: &["物流园", "公路港", "保税物流中心"],
            seaport: false,
            mix: EXTRA_MIX,
        });
    }
    out
}

/// Generated communities (never the seven of the evaluation data) whose
/// centre lies at least `min_km` from every point of `points`: places for
/// listings that must not be fair matches of listings at `points`. Drawn
/// from the first `pool` communities, in their order.
pub fn communities_away_from(points: &[(f64, f64)], min_km: f64, pool: usize) -> Vec<Community> {
    communities(pool.max(BUILTIN.len()))
        .into_iter()
        .skip(BUILTIN.len())
        .filter(|c| {
            points
                .iter()
                .all(|&(lat, lon)| km(lat, lon, c.lat, c.lon) >= min_km)
        })
        .collect()
}

fn suffix_nick(suffix: &str) -> &'static str {
    match suffix {
        "高新" => "高新区",
        "滨海" => "滨海新区",
        "经开" => "开发区",
        "临港" => "临港园区",
        "智造" => "智造园",
        "科创" => "科创园",
        "新材料" => "新材料园",
        "汽配" => "汽配园",
        "电子信息" => "电子园",
        _ => "物流园",
    }
}

/// A destination for trucks: names people use for it, and its position.
#[derive(Debug)]
pub struct Dest {
    pub names: &'static [&'static str],
    pub lat: f64,
    pub lon: f64,
    /// A chemical park (for hazmat routes).
    pub chemical: bool,
}

pub static DESTS: &[Dest] = &[
    Dest {
        names: &["上海洋山港", "洋山", "洋山港", "上海洋山"],
        lat: 30.62,
        lon: 122.07,
        chemical: false,
    },
    Dest {
        names: &["上海外高桥", "外高桥", "上海外高桥港区"],
        lat: 31.36,
        lon: 121.60,
        chemical: false,
    },
    Dest {
        names: &["上海", "上海", "上海市区", "沪"],
        lat: 31.23,
        lon: 121.47,
        chemical: false,
    },
    Dest {
        names: &["上海嘉定", "嘉定", "上海嘉定安亭"],
        lat: 31.38,
        lon: 121.25,
        chemical: false,
    },
    Dest {
        names: &["上海化学工业区", "上海化工区", "漕泾"],
        lat: 30.81,
        lon: 121.47,
        chemical: true,
    },
    Dest {
        names: &["杭州", "杭州", "杭州下沙", "杭州余杭"],
        lat: 30.27,
        lon: 120.15,
        chemical: false,
    },
    Dest {
        names: &["萧山", "杭州萧山", "萧山临江"],
        lat: 30.18,
        lon: 120.26,
        chemical: false,
    },
    Dest {
        names: &["义乌", "义乌", "义乌国际商贸城", "金华义乌"],
        lat: 29.31,
        lon: 120.08,
        chemical: false,
    },
    Dest {
        names: &["金华", "金华", "金华婺城"],
        lat: 29.08,
        lon: 119.65,
        chemical: false,
    },
    Dest {
        names: &["苏州", "苏州", "苏州工业园区", "苏州吴中"],
        lat: 31.30,
        lon: 120.58,
        chemical: false,
    },
    Dest {
        names: &["昆山", "昆山", "苏州昆山"],
        lat: 31.38,
        lon: 120.98,
        chemical: false,
    },
    Dest {
        names: &["无锡", "无锡", "无锡新区"],
        lat: 31.49,
        lon: 120.31,
        chemical: false,
    },
    Dest {
        names: &["南京", "南京", "南京江宁"],
        lat: 32.06,
        lon: 118.80,
        chemical: false,
    },
    Dest {
        names: &["南京化工园", "南京江北新材料园", "南京化学工业园"],
        lat: 32.25,
        lon: 118.80,
        chemical: true,
    },
    Dest {
        names: &["合肥", "合肥", "合肥经开区"],
        lat: 31.82,
        lon: 117.23,
        chemical: false,
    },
    Dest {
        names: &["温州", "温州", "温州瓯海"],
        lat: 28.00,
        lon: 120.70,
        chemical: false,
    },
    Dest {
        names: &["台州", "台州", "台州椒江"],
        lat: 28.66,
        lon: 121.42,
        chemical: false,
    },
    Dest {
        names: &["柯桥", "绍兴柯桥", "柯桥"],
        lat: 30.08,
        lon: 120.49,
        chemical: false,
    },
    Dest {
        names: &["上虞", "绍兴上虞", "杭州湾上虞经开区"],
        lat: 30.03,
        lon: 120.87,
        chemical: true,
    },
    Dest {
        names: &["嘉兴", "嘉兴", "嘉兴南湖"],
        lat: 30.75,
        lon: 120.76,
        chemical: false,
    },
    Dest {
        names: &["平湖", "平湖", "嘉兴平湖", "平湖经开"],
        lat: 30.70,
        lon: 121.02,
        chemical: false,
    },
    Dest {
        names: &["海盐", "海盐", "嘉兴海盐"],
        lat: 30.52,
        lon: 120.95,
        chemical: false,
    },
    Dest {
        names: &["嘉兴港区", "乍浦", "嘉兴乍浦化工园"],
        lat: 30.60,
        lon: 121.10,
        chemical: true,
    },
    Dest {
        names: &["北仑", "宁波北仑", "北仑"],
        lat: 29.90,
        lon: 121.85,
        chemical: false,
    },
    Dest {
        names: &["北仑港", "宁波港", "北仑港区", "宁波舟山港"],
        lat: 29.93,
        lon: 121.89,
        chemical: false,
    },
    Dest {
        names: &["宁波", "宁波", "宁波鄞州", "宁波市区"],
        lat: 29.87,
        lon: 121.55,
        chemical: false,
    },
    Dest {
        names: &["宁波石化经济技术开发区", "镇海石化区", "宁波化工区"],
        lat: 30.00,
        lon: 121.65,
        chemical: true,
    },
    Dest {
        names: &["慈溪", "慈溪", "宁波慈溪"],
        lat: 30.17,
        lon: 121.27,
        chemical: false,
    },
    Dest {
        names: &["余姚", "余姚", "宁波余姚"],
        lat: 30.04,
        lon: 121.15,
        chemical: false,
    },
    Dest {
        names: &["常州", "常州", "常州武进"],
        lat: 31.78,
        lon: 119.97,
        chemical: false,
    },
    Dest {
        names: &["南通", "南通", "南通开发区"],
        lat: 31.98,
        lon: 120.89,
        chemical: false,
    },
    Dest {
        names: &["武汉", "武汉", "武汉经开区"],
        lat: 30.59,
        lon: 114.30,
        chemical: false,
    },
    Dest {
        names: &["广州", "广州", "广州黄埔"],
        lat: 23.13,
        lon: 113.26,
        chemical: false,
    },
];

/// Straight-line distance in km (equirectangular, fine at these scales).
pub fn km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let x = (lon2 - lon1).to_radians() * ((lat1 + lat2) / 2.0).to_radians().cos();
    let y = (lat2 - lat1).to_radians();
    6371.0 * (x * x + y * y).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn communities_away_from_keep_their_distance() {
        // 大港 (Ningbo Beilun) and 马海 (Shaoxing).
        let points = [(29.9323, 121.8693), (30.0507, 120.6517)];
        let far = communities_away_from(&points, 80.0, 227);
        assert!(!far.is_empty());
        for c in &far {
            for &(lat, lon) in &points {
                assert!(km(lat, lon, c.lat, c.lon) >= 80.0, "{} is too near", c.name);
            }
        }
        let names: Vec<&str> = far.iter().map(|c| c.name.as_str()).collect();
        assert!(
            !names
                .iter()
                .any(|n| n.starts_with("镇海") || n.starts_with("柯桥"))
        );
        assert!(names.iter().any(|n| n.starts_with("温岭")));
    }

    #[test]
    fn seven_named_communities_then_generated_ones() {
        let c = communities(7);
        assert_eq!(c.len(), 7);
        assert_eq!(c[0].name, "大港工业社区");
        assert_eq!(c[6].name, "海盐智汇湾工业社区");
        let many = communities(600);
        assert_eq!(many.len(), 600);
        let names: std::collections::HashSet<_> = many.iter().map(|c| c.name.clone()).collect();
        assert_eq!(names.len(), 600, "community names are unique");
        assert_eq!(many[7].name, "余姚高新工业社区");
        assert!(many.iter().all(|c| c.name.chars().count() <= 64));
        assert!(many.iter().all(|c| c.region.len() == 6));
        assert_eq!(communities(3).len(), 3);
    }
}
