//! Deterministic generator of realistic Chinese supply/demand listings in the
//! JSONL format of the labelled evaluation data (`eval/README.md`), for
//! load tests and benchmarks of Zhiqilian.
//!
//! The same [`Config`] always yields the same bytes: the firm table is drawn
//! first from the seed, then the listings one after another from the same
//! ChaCha8 stream, so a shorter run is a prefix of a longer one.

pub mod api;
pub mod crash;
pub mod firms;
pub mod items;
pub mod load;
pub mod node;
pub mod places;
pub mod rng;
pub mod sse;
pub mod text;

use std::io::{self, Write};

use zhiqilian_matcher::{Kind, Side, Urgency};

use crate::firms::Firm;
use crate::items::{Ctx, Item, Val};
use crate::places::Community;
use crate::rng::Rng;
use crate::text::Amount;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub count: u64,
    pub seed: u64,
    pub communities: usize,
    pub firms_per_community: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            count: 1000,
            seed: 1,
            communities: 7,
            firms_per_community: 80,
        }
    }
}

/// Totals of a run, for the summary on stderr and for tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    pub lines: u64,
    pub offers: u64,
    pub requests: u64,
    pub bytes: u64,
    pub by_kind: [u64; 6],
}

fn kind_index(k: Kind) -> usize {
    Kind::ALL.iter().position(|&x| x == k).unwrap_or(0)
}

/// Share of listings that are offers.
const OFFER_SHARE: f64 = 0.6;
/// Share of a firm's posts drawn from its own line of business.
const OWN_LINE: f64 = 0.8;

pub struct Generator {
    rng: Rng,
    communities: Vec<Community>,
    firms: Vec<Firm>,
    /// Cumulative posting weight of the firms, for a binary-search draw.
    cumulative: Vec<f64>,
    /// Community names as JSON strings.
    community_json: Vec<String>,
    stats: Stats,
}

impl Generator {
    pub fn new(cfg: &Config) -> Self {
        Self::with_communities(cfg, places::communities(cfg.communities.max(1)))
    }

    /// A generator whose firms are in `communities` (at least one) instead
    /// of the first `cfg.communities`.
    pub fn with_communities(cfg: &Config, communities: Vec<Community>) -> Self {
        assert!(!communities.is_empty(), "at least one community");
        let mut rng = Rng::new(cfg.seed);
        let firms = firms::firms(&mut rng, &communities, cfg.firms_per_community.max(1));
        // A few firms post a lot and many post a little: weight 1/rank^0.8
        // within each community, in a random rank order.
        let per = cfg.firms_per_community.max(1);
        let mut cumulative = Vec::with_capacity(firms.len());
        let mut total = 0.0;
        let mut ranks: Vec<usize> = (0..per).collect();
        for _ in 0..communities.len() {
            for i in (1..ranks.len()).rev() {
                let j = rng.below(i + 1);
                ranks.swap(i, j);
            }
            for &rank in &ranks {
                total += 1.0 / ((rank + 1) as f64).powf(0.8);
                cumulative.push(total);
            }
        }
        let community_json = communities
            .iter()
            .map(|c| serde_json::to_string(&c.name).expect("string"))
            .collect();
        Self {
            rng,
            communities,
            firms,
            cumulative,
            community_json,
            stats: Stats::default(),
        }
    }

    pub fn communities(&self) -> &[Community] {
        &self.communities
    }

    pub fn firms(&self) -> &[Firm] {
        &self.firms
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    fn pick_firm(&mut self) -> usize {
        let total = *self.cumulative.last().expect("at least one firm");
        let x = self.rng.real(0.0, total);
        self.cumulative
            .partition_point(|&c| c <= x)
            .min(self.firms.len() - 1)
    }

    /// Appends one listing as a JSON line (with its newline) to `out`.
    pub fn next_line(&mut self, out: &mut Vec<u8>) {
        let start = out.len();
        let fi = self.pick_firm();
        let firm = &self.firms[fi];
        let community = &self.communities[firm.community];
        let r = &mut self.rng;
        let offer = r.chance(OFFER_SHARE);
        let profile = firm.profile;
        let own = if offer {
            profile.offers
        } else {
            profile.requests
        };
        let item: Item = if !own.is_empty() && r.chance(OWN_LINE) {
            r.weighted(own)
        } else if offer {
            r.weighted(items::GENERIC_OFFERS)
        } else {
            r.weighted(items::GENERIC_REQUESTS)
        };
        let kind = item.kind();
        let urgency = {
            let e = item.emergency_rate(offer);
            let u = if offer { 0.05 } else { 0.17 };
            let x = r.unit();
            if x < e {
                Urgency::Emergency
            } else if x < e + u {
                Urgency::Urgent
            } else {
                Urgency::Normal
            }
        };
        let mut ctx = Ctx {
            r,
            offer,
            urg: urgency,
            c: community,
        };
        let post = item.generate(&mut ctx);
        let r = &mut self.rng;

        let (side, seq) = if offer {
            self.stats.offers += 1;
            (Side::Offer, self.stats.offers)
        } else {
            self.stats.requests += 1;
            (Side::Request, self.stats.requests)
        };
        self.stats.by_kind[kind_index(kind)] += 1;
        self.stats.lines += 1;

        let mut desc = post.desc;
        extra_clauses(&mut desc, r, kind, offer);
        let description = desc.finish(r, urgency, offer);
        // Some quantities are given only in the text.
        let quantity = post.quantity.filter(|_| !r.chance(0.08));
        let (from, until) = post
            .window
            .unwrap_or_else(|| default_window(r, offer, urgency));

        // The listing is at the firm's address, or now and then at another
        // site of the firm in the same community.
        let (addr_own, lat, lon);
        let addr: &str = if r.chance(0.12) {
            let (a, la, lo) = firms::address_near(r, community);
            addr_own = a;
            lat = la;
            lon = lo;
            &addr_own
        } else {
            lat = firm.lat;
            lon = firm.lon;
            &firm.address
        };

        out.extend_from_slice(b"{\"key\": \"G-");
        out.extend_from_slice(if offer { b"O-" } else { b"R-" });
        let _ = write!(out, "{seq:07}");
        out.extend_from_slice(b"\", \"side\": \"");
        out.extend_from_slice(side.as_str().as_bytes());
        out.extend_from_slice(b"\", \"kind\": \"");
        out.extend_from_slice(kind.as_str().as_bytes());
        out.extend_from_slice(b"\", \"title\": ");
        json_str(out, post.title.trim());
        out.extend_from_slice(b", \"description\": ");
        json_str(out, &description);
        out.extend_from_slice(b", \"firm\": ");
        out.extend_from_slice(firm.json.as_bytes());
        out.extend_from_slice(b", \"community\": ");
        out.extend_from_slice(self.community_json[firm.community].as_bytes());
        out.extend_from_slice(b", \"location\": {\"address\": ");
        json_str(out, addr);
        out.extend_from_slice(b", \"lat\": ");
        json_num(out, lat);
        out.extend_from_slice(b", \"lon\": ");
        json_num(out, lon);
        out.push(b'}');
        if let Some(q) = quantity {
            out.extend_from_slice(b", \"quantity\": ");
            json_amount(out, q);
        }
        if let Some(p) = post.price {
            out.extend_from_slice(b", \"price\": ");
            json_amount(out, p);
        }
        if let Some(f) = from {
            out.extend_from_slice(b", \"available_from\": \"");
            text::push_date(out, f);
            out.push(b'"');
        }
        if let Some(u) = until {
            out.extend_from_slice(b", \"available_until\": \"");
            text::push_date(out, u);
            out.push(b'"');
        }
        out.extend_from_slice(b", \"urgency\": \"");
        out.extend_from_slice(urgency.as_str().as_bytes());
        out.push(b'"');
        // A few posters leave the structured summary out entirely.
        if !post.attrs.is_empty() && !r.chance(0.03) {
            out.extend_from_slice(b", \"attributes\": {");
            for (i, (k, v)) in post.attrs.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                out.push(b'"');
                out.extend_from_slice(k.as_bytes());
                out.extend_from_slice(b"\": ");
                json_val(out, v);
            }
            out.push(b'}');
        }
        out.extend_from_slice(b"}\n");
        self.stats.bytes += (out.len() - start) as u64;
    }
}

/// Small talk that posters add whatever they post, by kind and side.
fn extra_clauses(d: &mut text::Desc, r: &mut Rng, kind: Kind, offer: bool) {
    const OFFER: &[&str] = &[
        "可开13%专票",
        "看货提前预约",
        "周末也可以联系",
        "同社区企业优先",
        "价格随行就市",
        "可签长期合同",
        "微信同号",
        "非诚勿扰",
    ];
    const REQUEST: &[&str] = &[
        "月结30天",
        "有意向的请留言",
        "现款现结",
        "需要开专票",
        "同社区企业优先",
        "长期需求",
        "请直接报价",
        "中介勿扰",
    ];
    let specific: &[&str] = match (kind, offer) {
        (Kind::Space, true) => &[
            "水电齐全",
            "消防验收已过",
            "可以办营业执照",
            "物业费另算",
            "押二付三",
        ],
        (Kind::Space, false) => &["不要二房东", "要能办环评", "消防要合规", "最好有办公室"],
        (Kind::Equipment, true) => &["可试机", "保养记录齐全", "可开设备发票", "配件齐全"],
        (Kind::Equipment, false) => &["要能开票", "带操作培训更好", "设备要有合格证"],
        (Kind::Material, true) => &["可提供COA", "质保书齐全", "可先寄小样", "款到发货"],
        (Kind::Material, false) => &["要提供质保书", "先送样确认", "要正规发票", "可长期合作"],
        (Kind::Logistics, true) => &[
            "有GPS全程跟踪",
            "货物保险可代买",
            "司机熟悉路线",
            "可开运输专票",
        ],
        (Kind::Logistics, false) => &["需要装卸", "要有货运险", "运费可月结", "要准时到"],
        (Kind::Workforce, true) => &["人员有社保", "服从管理", "工具自带", "可签劳务协议"],
        (Kind::Workforce, false) => &[
            "有经验者优先",
            "需要健康证",
            "工资日结周结都可以",
            "签劳务协议",
        ],
        (Kind::Service, true) => &["可开发票", "报告可扫码查询", "价格透明", "老客户有优惠"],
        (Kind::Service, false) => &["请报价", "有资质的联系", "要正规发票", "可以长期合作"],
    };
    if r.chance(0.7) {
        d.o(r.pick(specific));
    }
    if r.chance(0.5) {
        d.o(r.pick(if offer { OFFER } else { REQUEST }));
    }
}

/// When an item did not set one: offers are mostly available now for a
/// while; requests say when they need it.
fn default_window(r: &mut Rng, offer: bool, urgency: Urgency) -> (Option<i32>, Option<i32>) {
    if urgency == Urgency::Emergency {
        let f = 0;
        let u = r.int(0, 3) as i32;
        return (Some(f), r.chance(0.6).then_some(u));
    }
    if offer {
        let from = if r.chance(0.6) {
            0
        } else {
            r.int(-10, 90) as i32
        };
        let from_set = r.chance(0.82);
        let until = r.chance(0.7).then(|| {
            from.max(0)
                + r.pick(&[30, 45, 60, 90, 120, 180, 222, 365, 406, 540])
                + r.int(0, 10) as i32
        });
        (from_set.then_some(from), until)
    } else {
        let lead = if urgency == Urgency::Urgent {
            r.int(0, 7)
        } else {
            r.int(0, 75)
        } as i32;
        let from_set = r.chance(0.75);
        let until = r
            .chance(0.6)
            .then(|| lead + r.pick(&[7, 14, 20, 30, 45, 60, 90, 120, 180]));
        (from_set.then_some(lead), until)
    }
}

/// Appends `s` as a JSON string (UTF-8 kept, as `ensure_ascii=False` writes it).
pub fn json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                let _ = write!(out, "\\u{b:04x}");
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Appends a finite number: integers without a decimal point.
pub fn json_num(out: &mut Vec<u8>, x: f64) {
    debug_assert!(x.is_finite());
    if x.fract() == 0.0 && x.abs() < 1e15 {
        let _ = write!(out, "{}", x as i64);
    } else {
        let _ = write!(out, "{x}");
    }
}

fn json_amount(out: &mut Vec<u8>, a: Amount) {
    out.extend_from_slice(b"{\"amount\": ");
    json_num(out, a.amount);
    out.extend_from_slice(b", \"unit\": ");
    json_str(out, a.unit);
    out.push(b'}');
}

fn json_val(out: &mut Vec<u8>, v: &Val) {
    match v {
        Val::Num(x) => json_num(out, *x),
        Val::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Val::Str(s) => json_str(out, s),
        Val::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Val::List(items) => {
            out.push(b'[');
            for (i, s) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                json_str(out, s);
            }
            out.push(b']');
        }
        Val::Date(off) => {
            out.push(b'"');
            text::push_date(out, *off);
            out.push(b'"');
        }
    }
}

/// Writes `cfg.count` listings to `w`, buffering about 1 MiB at a time.
pub fn generate<W: Write>(cfg: &Config, w: &mut W) -> io::Result<Stats> {
    generate_in(cfg, places::communities(cfg.communities.max(1)), w)
}

/// Writes `cfg.count` listings by firms of `communities` to `w` (see
/// [`Generator::with_communities`]).
pub fn generate_in<W: Write>(
    cfg: &Config,
    communities: Vec<Community>,
    w: &mut W,
) -> io::Result<Stats> {
    let mut g = Generator::with_communities(cfg, communities);
    let mut buf = Vec::with_capacity(1 << 21);
    for _ in 0..cfg.count {
        g.next_line(&mut buf);
        if buf.len() >= 1 << 20 {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    w.write_all(&buf)?;
    w.flush()?;
    Ok(g.stats().clone())
}

/// The whole output as bytes (for tests and small runs).
pub fn generate_vec(cfg: &Config) -> Vec<u8> {
    let mut out = Vec::new();
    generate(cfg, &mut out).expect("writing to a Vec cannot fail");
    out
}
