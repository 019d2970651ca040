//! Fictional firms with names, addresses and valid unified social credit codes.

use std::collections::HashSet;

use zhiqilian_matcher::compute_check_character;

use crate::items::Profile;
use crate::places::Community;
use crate::rng::Rng;

#[derive(Debug)]
pub struct Firm {
    pub key: String,
    pub name: String,
    pub uscc: String,
    pub community: usize,
    pub profile: &'static Profile,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    /// The firm object as JSON, ready to paste into each of its listings.
    pub json: String,
}

/// USCC alphabet (GB 32100-2015): digits and capitals without I, O, Z, S, V.
const USCC_CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Check digit of a nine-character organisation code (GB 11714): weights
/// 3,7,9,10,5,8,4,2 over values 0–9 and A=10 … Z=35; 10 is written X.
pub fn org_check_digit(body: &[u8; 8]) -> u8 {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .iter()
        .zip(W)
        .map(|(&c, w)| {
            let v = if c.is_ascii_digit() {
                u32::from(c - b'0')
            } else {
                u32::from(c - b'A') + 10
            };
            v * w
        })
        .sum();
    match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        d => b'0' + d as u8,
    }
}

/// A fresh code for a firm registered in `region`: 9 (market regulator),
/// 1 (enterprise) or 2 (individual business), the region, an organisation
/// code (old numeric style or the post-2015 MA… style), and the check character.
pub fn make_uscc(r: &mut Rng, region: &str, individual: bool) -> String {
    let mut body = [0u8; 8];
    if r.chance(0.45) {
        body[0] = b'5' + r.below(3) as u8;
        for b in body.iter_mut().skip(1) {
            *b = b'0' + r.below(10) as u8;
        }
    } else {
        body[0] = b'M';
        body[1] = b'A';
        body[2] = r.pick(b"2223");
        for b in body.iter_mut().skip(3) {
            *b = r.pick(USCC_CHARS);
        }
    }
    let org_check = org_check_digit(&body);
    let mut code = String::with_capacity(18);
    code.push('9');
    code.push(if individual { '2' } else { '1' });
    code.push_str(region);
    code.extend(body.iter().map(|&b| char::from(b)));
    code.push(char::from(org_check));
    let check = compute_check_character(&code).expect("body uses the USCC alphabet only");
    code.push(check);
    code
}

const TRADE_CHARS: &[&str] = &[
    "鑫", "恒", "华", "盛", "泰", "达", "源", "丰", "宏", "隆", "瑞", "嘉", "信", "德", "昌", "兴",
    "通", "宇", "博", "力", "诚", "永", "金", "腾", "亿", "凯", "新", "明", "远", "航", "天", "正",
    "祥", "利", "顺", "邦", "创", "科", "汇", "佳", "润", "晟", "锦", "众", "康", "荣", "安", "东",
    "方", "宝", "翔", "峰", "伟", "俊", "海", "阳", "立", "晶", "越", "长", "龙", "欣", "辰", "卓",
];

/// Place words firms put in front of their trade name, per community nick.
fn name_prefixes(c: &Community) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = Vec::new();
    match c.region {
        "330206" => v.extend(["宁波", "宁波", "宁波北仑", "北仑"]),
        "330482" => v.extend(["平湖", "平湖", "嘉兴", "浙江"]),
        "330424" => v.extend(["海盐", "海盐", "嘉兴", "浙江"]),
        "330602" => v.extend(["绍兴", "绍兴", "绍兴越城", "浙江"]),
        _ => {}
    }
    v.extend(c.route.iter().take(1));
    v.push("浙江");
    v
}

const LOCAL_TRADE: &[&str] = &[
    "甬港", "仑港", "甬兴", "越海", "海湾", "港城", "东海", "明州", "四明", "之江", "钱塘", "杭湾",
];

const SUFFIXES: &[(&str, u32)] = &[
    ("有限公司", 55),
    ("科技有限公司", 18),
    ("股份有限公司", 8),
    ("实业有限公司", 6),
    ("有限责任公司", 5),
    ("集团有限公司", 3),
];

fn trade_name(r: &mut Rng) -> String {
    if r.chance(0.12) {
        return r.pick(LOCAL_TRADE).to_string();
    }
    let a = r.pick(TRADE_CHARS);
    let mut b = r.pick(TRADE_CHARS);
    while b == a {
        b = r.pick(TRADE_CHARS);
    }
    if r.chance(0.08) {
        let c = r.pick(TRADE_CHARS);
        format!("{a}{b}{c}")
    } else {
        format!("{a}{b}")
    }
}

/// An address in the community and a point near its centre (within ~3 km).
pub fn address_near(r: &mut Rng, c: &Community) -> (String, f64, f64) {
    let road = r.pick(c.roads);
    let no = r.int(1, 1688);
    let mut addr = format!("{}{road}{no}号", c.addr);
    if r.chance(0.15) {
        let extra = r.pick(&["1号厂房", "2号厂房", "A栋", "B栋", "3号楼", "东侧", "内"]);
        addr.push_str(extra);
    }
    let lat = c.lat + r.real(-0.027, 0.027);
    let lon = c.lon + r.real(-0.031, 0.031);
    (addr, round4(lat), round4(lon))
}

pub fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Generates `per_community` firms for every community; names and codes unique.
pub fn firms(r: &mut Rng, communities: &[Community], per_community: usize) -> Vec<Firm> {
    let mut names = HashSet::new();
    let mut codes = HashSet::new();
    let mut out = Vec::with_capacity(communities.len() * per_community);
    for (ci, c) in communities.iter().enumerate() {
        let prefixes = name_prefixes(c);
        for _ in 0..per_community {
            let profile = r.weighted(c.mix);
            let individual = !profile.shop.is_empty() && r.chance(0.08);
            let mut name = String::new();
            for attempt in 0.. {
                let prefix = r.pick(&prefixes);
                let trade = trade_name(r);
                let word = r.pick(profile.words);
                name = if individual {
                    let place = r.pick(&c.nick);
                    let shop = r.pick(profile.shop);
                    format!("{place}{trade}{shop}")
                } else {
                    let mut suffix = r.weighted(SUFFIXES);
                    if word.ends_with("科技") && suffix == "科技有限公司" {
                        suffix = "有限公司";
                    }
                    format!("{prefix}{trade}{word}{suffix}")
                };
                if attempt > 50 {
                    name = format!("{name}（{}）", out.len() + 1);
                }
                if names.insert(name.clone()) {
                    break;
                }
            }
            let mut uscc = make_uscc(r, c.region, individual);
            while !codes.insert(uscc.clone()) {
                uscc = make_uscc(r, c.region, individual);
            }
            let (address, lat, lon) = address_near(r, c);
            let key = format!("GF{:05}", out.len() + 1);
            let mut json = String::with_capacity(128);
            json.push_str("{\"key\": ");
            json.push_str(&serde_json::to_string(&key).expect("string"));
            json.push_str(", \"name\": ");
            json.push_str(&serde_json::to_string(&name).expect("string"));
            json.push_str(", \"uscc\": ");
            json.push_str(&serde_json::to_string(&uscc).expect("string"));
            json.push('}');
            out.push(Firm {
                key,
                name,
                uscc,
                community: ci,
                profile,
                address,
                lat,
                lon,
                json,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use zhiqilian_matcher::Uscc;

    #[test]
    fn org_check_digit_matches_known_codes() {
        // Organisation codes inside USCCs of the dev data.
        assert_eq!(org_check_digit(b"62549691"), b'5');
        assert_eq!(org_check_digit(b"MA2LTKJ8"), b'9');
        assert_eq!(org_check_digit(b"60366041"), b'1');
    }

    #[test]
    fn generated_codes_parse() {
        let mut r = Rng::new(3);
        for i in 0..2000 {
            let code = make_uscc(&mut r, "330206", i % 10 == 0);
            let parsed = Uscc::parse(&code).unwrap_or_else(|e| panic!("{code}: {e}"));
            assert_eq!(parsed.region_code(), "330206");
            assert_eq!(parsed.registration_authority(), '9');
        }
    }
}
