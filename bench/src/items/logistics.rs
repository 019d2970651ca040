//! Trucks and transport capacity, with routes in both directions.

use super::{Ctx, Post};
use crate::places::{DESTS, Dest, km};
use crate::text::{Amount, mass_qty, mass_text, num, say_date};

/// A vehicle: names, capacity range in t, volume range in m³.
#[derive(Debug, Clone, Copy)]
struct Vehicle {
    attr: &'static str,
    names: &'static [&'static str],
    cap: (f64, f64),
    vol: Option<(f64, f64)>,
    /// 元 per km for a full load.
    rate: f64,
}

const fn v(
    attr: &'static str,
    names: &'static [&'static str],
    cap: (f64, f64),
    vol: Option<(f64, f64)>,
    rate: f64,
) -> Vehicle {
    Vehicle {
        attr,
        names,
        cap,
        vol,
        rate,
    }
}

const GENERAL: &[Vehicle] = &[
    v(
        "4.2米厢式货车",
        &["4.2米厢车", "4米2厢车", "4.2米厢式货车"],
        (2.0, 3.0),
        Some((16.0, 18.0)),
        3.5,
    ),
    v(
        "6.8米厢式货车",
        &["6.8米厢车", "6米8厢车"],
        (8.0, 10.0),
        Some((38.0, 42.0)),
        5.5,
    ),
    v(
        "9.6米厢式货车",
        &["9.6米厢车", "9米6厢车", "9.6米厢式货车"],
        (15.0, 18.0),
        Some((55.0, 60.0)),
        7.0,
    ),
    v(
        "13米高栏",
        &["13米高栏", "13米半挂", "十三米高栏"],
        (30.0, 34.0),
        None,
        9.0,
    ),
    v(
        "17.5米平板",
        &["17.5米平板", "17米5平板车"],
        (30.0, 35.0),
        None,
        10.0,
    ),
    v(
        "飞翼车",
        &["9.6米飞翼车", "13米飞翼车", "飞翼车"],
        (15.0, 30.0),
        Some((60.0, 90.0)),
        8.0,
    ),
];

const CONTAINER: &[Vehicle] = &[v(
    "集卡",
    &[
        "集卡",
        "拖头",
        "集装箱拖车",
        "40尺集卡",
        "双桥拖头+40尺骨架车",
    ],
    (25.0, 30.0),
    None,
    9.5,
)];

const COLD: &[Vehicle] = &[
    v(
        "4.2米冷藏车",
        &["4.2米冷藏车", "4米2冷链车"],
        (2.0, 3.0),
        Some((14.0, 16.0)),
        5.0,
    ),
    v(
        "7.6米冷藏车",
        &["7.6米冷藏车", "7米6冷链车"],
        (8.0, 10.0),
        Some((35.0, 40.0)),
        8.0,
    ),
    v(
        "9.6米冷藏车",
        &["9.6米冷藏车", "9米6冷冻车", "冷链车9.6米"],
        (15.0, 17.0),
        Some((50.0, 55.0)),
        10.0,
    ),
];

const HAZ: &[Vehicle] = &[
    v(
        "危险品厢式车",
        &["危险品厢式车", "危运厢车", "危化品运输车"],
        (8.0, 15.0),
        None,
        12.0,
    ),
    v(
        "槽罐车",
        &["危化品槽罐车", "槽罐车", "液体罐车"],
        (25.0, 32.0),
        None,
        13.0,
    ),
];

const HEAVY: &[Vehicle] = &[
    v(
        "低平板",
        &["低平板", "低平板半挂", "低板车"],
        (30.0, 60.0),
        None,
        15.0,
    ),
    v(
        "平板车",
        &["平板车", "17.5米平板"],
        (20.0, 35.0),
        None,
        11.0,
    ),
];

/// A route between the community and a destination at least `min_km` away.
struct Route {
    origin: &'static str,
    dest: &'static str,
    /// True when the truck comes into the community (回程 for the far end).
    inbound: bool,
    km: f64,
}

fn pick_dest(x: &mut Ctx<'_>, min_km: f64, max_km: f64, chemical: bool) -> (&'static Dest, f64) {
    let c = x.c;
    for _ in 0..64 {
        let d = x.r.pick_ref(DESTS);
        if chemical && !d.chemical {
            continue;
        }
        let dist = km(c.lat, c.lon, d.lat, d.lon) * 1.3;
        if dist >= min_km && dist <= max_km {
            return (d, dist);
        }
    }
    // Shanghai is far enough from every community in the tables.
    let d = if chemical { &DESTS[4] } else { &DESTS[2] };
    (d, (km(c.lat, c.lon, d.lat, d.lon) * 1.3).max(min_km))
}

fn route(x: &mut Ctx<'_>, min_km: f64, max_km: f64, chemical: bool) -> Route {
    let (d, dist) = pick_dest(x, min_km, max_km, chemical);
    let far = x.r.pick(d.names);
    let here = x.here();
    let inbound = !chemical && x.p(0.4);
    if inbound {
        Route {
            origin: far,
            dest: here,
            inbound,
            km: dist,
        }
    } else {
        Route {
            origin: here,
            dest: far,
            inbound,
            km: dist,
        }
    }
}

fn arrow(x: &mut Ctx<'_>, a: &str, b: &str) -> String {
    match x.int(0, 6) {
        0..=2 => format!("{a}→{b}"),
        3 => format!("{a}-{b}"),
        4 => format!("{a}到{b}"),
        5 => format!("{a}至{b}"),
        _ => format!("{a}发{b}"),
    }
}

fn truck_price(x: &mut Ctx<'_>, veh: &Vehicle, dist: f64, factor: f64) -> Amount {
    let base = (dist * veh.rate * factor + 300.0) * x.real(0.85, 1.15);
    Amount::new(
        (base / 50.0).round() * 50.0,
        x.pick(&["元/车", "元/车", "元/趟", "元/车"]),
    )
}

fn common_attrs(
    p: &mut Post,
    x: &mut Ctx<'_>,
    r: &Route,
    veh: &Vehicle,
    cap: f64,
    cold: bool,
    haz: bool,
) {
    p.s("origin", r.origin);
    p.s("destination", r.dest);
    if x.p(0.85) {
        p.s("vehicle_type", veh.attr);
    }
    p.f("capacity_t", cap);
    if let Some((lo, hi)) = veh.vol
        && x.p(0.3)
    {
        p.f("volume_m3", x.real(lo, hi).round());
    }
    p.b("cold_chain", cold);
    p.b("hazmat", haz);
}

pub fn truckload(x: &mut Ctx<'_>) -> Post {
    let veh = *x.r.pick_ref(GENERAL);
    let vname = x.pick(veh.names);
    let r = route(x, 40.0, 1800.0, false);
    let cap = x.real(veh.cap.0, veh.cap.1).round();
    let dated = x.p(0.35);
    let day = x.int(2, 40) as i32;
    if x.offer {
        let back = r.inbound || x.p(0.3);
        let n = x.w(&[(1, 4), (2, 3), (3, 2), (5, 1)]);
        let path = arrow(x, r.origin, r.dest);
        let mut p = Post::new(match (back, x.int(0, 2)) {
            (true, 0) => format!("{path} 回程{vname} 空车便宜走"),
            (true, 1) => format!("{} 回程空车 {vname} 可配货", path),
            (true, _) => format!("每周空车{} {vname}", path),
            (false, 0) => format!("{path} {vname} 整车/拼车"),
            (false, 1) => format!("{path}专线 {}", vname),
            _ => format!("{vname}{path} 每天发车"),
        });
        if back {
            p.desc
                .m(format!("我们车送货到{}，回{}基本空车", r.origin, r.dest));
        } else {
            p.desc.m(format!("{}至{}专线", r.origin, r.dest));
        }
        p.desc
            .m(format!("{vname}，整车{}以内", mass_text(x.r, cap)));
        if dated {
            p.desc.m(format!("{}装车", say_date(x.r, day)));
        } else {
            p.desc
                .o(x.pick(&["每周二四", "每天都有", "每周3趟", "长期合作"]));
        }
        p.desc.o("价格好谈");
        p.quantity = Some(Amount::new(n as f64, x.pick(&["车", "趟", "车"])));
        p.price = Some(truck_price(x, &veh, r.km, if back { 0.7 } else { 1.0 }));
        common_attrs(&mut p, x, &r, &veh, cap, false, false);
        if dated {
            p.attrs.push(("departure_date", super::Val::Date(day)));
            p.window = Some((Some(day), Some(day)));
        }
        p
    } else {
        let load = (cap * x.real(0.3, 1.0)).round().max(1.0);
        let goods = x.pick(&[
            "汽配件",
            "塑料粒子",
            "文具成品",
            "家电",
            "五金件",
            "纸箱",
            "吨袋货",
            "机械设备",
        ]);
        let lt = mass_text(x.r, load);
        let path = arrow(x, r.origin, r.dest);
        let weekly = !dated && x.p(0.4);
        let mut p = Post::new(match (weekly, x.int(0, 1)) {
            (true, _) => format!("{}{path} 整车 每周{}次", x.rush(), x.int(1, 3)),
            (false, 0) => format!("{}找车 {path} {goods}{lt}", x.rush()),
            _ => format!("{}{path} {goods} 求回程车", x.rush()),
        });
        p.desc.m(format!("{goods}从{}发{}", r.origin, r.dest));
        p.desc.m(format!("{lt}左右"));
        p.desc.o(format!("{vname}或同类都行"));
        if dated {
            p.desc.m(format!("{}装货", say_date(x.r, day)));
        }
        p.desc.o("回程车价格优先");
        p.quantity = Some(if x.p(0.6) {
            mass_qty(x.r, load)
        } else {
            Amount::new(x.int(1, 4) as f64, "车")
        });
        if x.p(0.3) {
            p.price = Some(truck_price(x, &veh, r.km, 0.8));
        }
        p.s("origin", r.origin);
        p.s("destination", r.dest);
        if x.p(0.5) {
            p.s("vehicle_type", veh.attr);
        }
        p.f("capacity_t", load);
        if dated {
            p.attrs.push(("departure_date", super::Val::Date(day)));
            p.window = Some((
                Some(day - x.int(0, 2) as i32).filter(|d| *d >= 0),
                Some(day),
            ));
        }
        p.b("cold_chain", false);
        p.b("hazmat", false);
        p
    }
}

/// Seaports for boxes from inland parks: indices into [`DESTS`].
const SEAPORTS: &[usize] = &[24, 24, 24, 0, 1, 22];

pub fn container(x: &mut Ctx<'_>) -> Post {
    let veh = CONTAINER[0];
    let vname = x.pick(veh.names);
    let c = x.c;
    let box_ = x.pick(&["20GP", "40HQ", "40尺", "20尺", "40GP"]);
    // Port parks: short hauls in the port area, or the port to inland
    // cities. Inland parks: the park to a seaport. Both ways round.
    let short_haul = c.seaport && x.p(0.25);
    let (origin, dest, dist) = if short_haul {
        let port = x.r.pick(c.ports);
        let yard = x.pick(&["港区堆场", "周边冷库", "保税区", "白峰堆场", "物流园"]);
        (port, yard, 25.0)
    } else if c.seaport {
        let port = x.r.pick(c.ports);
        let (d, dist) = pick_dest(x, 40.0, 600.0, false);
        let far = x.r.pick(d.names);
        if x.p(0.5) {
            (port, far, dist)
        } else {
            (far, port, dist)
        }
    } else {
        let d = &DESTS[x.pick(SEAPORTS)];
        let dist = (km(c.lat, c.lon, d.lat, d.lon) * 1.3).max(30.0);
        let port = x.r.pick(d.names);
        let here = x.here();
        if x.offer && x.p(0.4) {
            (port, here, dist)
        } else {
            (here, port, dist)
        }
    };
    let r = Route {
        origin,
        dest,
        inbound: false,
        km: dist,
    };
    let path = arrow(x, origin, dest);
    if x.offer {
        let mut p = Post::new(match (short_haul, x.int(0, 1)) {
            (true, _) => format!(
                "{vname} {}短驳 {}",
                origin,
                x.pick(&["带司机", "按趟计费", "24小时", "普箱为主"])
            ),
            (false, 0) => format!("{path} 集卡拖车 天天发"),
            _ => format!("{path} {vname} 进出口柜"),
        });
        p.desc.m(format!("{}之间{vname}", path));
        p.desc.m(x.pick(&[
            "进口提柜送货、出口装箱都做",
            "提空箱、装货、还重柜全包",
            "转关/中转柜都做",
        ]));
        p.desc.m(format!("{box_}都接"));
        p.desc.o("可长期合作");
        p.quantity = x.p(0.5).then(|| Amount::new(x.int(2, 10) as f64, "车"));
        p.price = Some(if short_haul {
            Amount::new(x.step(350, 700, 50) as f64, "元/车")
        } else {
            truck_price(x, &veh, r.km, 1.0)
        });
        let cap = x.real(25.0, 30.0).round();
        common_attrs(&mut p, x, &r, &veh, cap, false, false);
        p
    } else {
        // An export box: loaded at the firm, delivered to the port.
        let (origin, dest) = if short_haul || c.seaport {
            (x.here(), x.r.pick(c.ports))
        } else {
            (origin, dest)
        };
        let n = x.int(1, 5);
        let day = x.int(3, 25) as i32;
        let path = arrow(x, origin, dest);
        let mut p = Post::new(format!("{}{path} 出口柜{box_} {}个", x.rush(), n));
        p.desc.m(format!("出口订单{}个{box_}", cn_or(n)));
        p.desc.m(format!("要在{}前进{}", say_date(x.r, day), dest));
        p.desc.m(format!("{}装货", x.nick()));
        p.desc.o("需要提还箱的车队");
        p.desc.o("长期合作");
        p.quantity = Some(Amount::new(n as f64, "车"));
        p.s("origin", origin);
        p.s("destination", dest);
        p.s("vehicle_type", "集卡");
        p.b("cold_chain", false);
        p.b("hazmat", false);
        p.window = Some((Some(0), Some(day)));
        p
    }
}

fn cn_or(n: i64) -> String {
    crate::text::cn(n)
}

pub fn cold_truck(x: &mut Ctx<'_>) -> Post {
    let reefer_box = x.p(0.2);
    let veh = if reefer_box {
        v(
            "冷藏集装箱拖车",
            &["冷柜拖车(带发电机组)", "冷藏集装箱拖车", "冷柜拖车"],
            (25.0, 28.0),
            None,
            11.0,
        )
    } else {
        *x.r.pick_ref(COLD)
    };
    let vname = x.pick(veh.names);
    let r = if reefer_box {
        let c = x.c;
        let port = x.r.pick(c.ports);
        let store = x.pick(&["霞浦冷库", "周边冷库", "保税区冷库", "梅山冷链基地"]);
        Route {
            origin: port,
            dest: store,
            inbound: false,
            km: 30.0,
        }
    } else {
        route(x, 40.0, 1500.0, false)
    };
    let temp = x.pick(&["-18℃", "-18~-25℃", "0~4℃", "-25℃", "2~8℃"]);
    let cap = x.real(veh.cap.0, veh.cap.1).round();
    let path = arrow(x, r.origin, r.dest);
    if x.offer {
        let mut p = Post::new(match x.int(0, 2) {
            0 => format!("冷链车{} {temp} {path}", vname),
            1 => format!("{path} {temp}冻品专线"),
            _ => format!("{vname} {temp} 可外租"),
        });
        p.desc.m(format!(
            "{temp}{}",
            x.pick(&["冷冻专线", "冷链专线", "温控运输"])
        ));
        p.desc.m(format!("{}至{}", r.origin, r.dest));
        p.desc.m(format!("{vname}，整车零担都接"));
        p.desc.o("全程温度可追溯");
        if reefer_box {
            p.desc.o("路上全程插电不断冷");
        }
        p.price = Some(if x.p(0.2) {
            Amount::new(x.step(1200, 2500, 100) as f64, "元/天")
        } else {
            truck_price(x, &veh, r.km, 1.0)
        });
        common_attrs(&mut p, x, &r, &veh, cap, true, false);
        p
    } else {
        let load = (cap * x.real(0.4, 1.0)).round().max(1.0);
        let goods = x.pick(&["冻品", "冻肉", "水产", "疫苗", "乳品", "速冻水饺"]);
        let lt = mass_text(x.r, load);
        let day = if x.urgent() {
            x.int(0, 2)
        } else {
            x.int(2, 20)
        } as i32;
        let mut p = Post::new(if reefer_box {
            format!(
                "{}进口冷柜{}到港 要拖到{}",
                x.rush(),
                say_date(x.r, day),
                r.dest
            )
        } else {
            format!("{}冷链车{temp} {path} {goods}{lt}", x.rush())
        });
        p.desc.m(format!("{goods}发{}", r.dest));
        p.desc.m(format!("{lt}左右"));
        p.desc.m(format!("需要{temp}冷藏车"));
        if reefer_box {
            p.desc.m("路上不能断电，车要带发电机");
        }
        p.desc.o(format!("{}上门提货", r.origin));
        p.desc.o("要有温度记录");
        p.quantity = Some(mass_qty(x.r, load));
        p.s("origin", r.origin);
        p.s("destination", r.dest);
        if reefer_box || x.p(0.4) {
            p.s("vehicle_type", veh.attr);
        }
        p.f("capacity_t", load);
        p.b("cold_chain", true);
        p.b("hazmat", false);
        if x.p(0.5) {
            p.attrs.push(("departure_date", super::Val::Date(day)));
        }
        p.window = Some((Some(day), Some(day + x.int(0, 3) as i32)));
        p
    }
}

pub fn hazmat(x: &mut Ctx<'_>) -> Post {
    let veh = *x.r.pick_ref(HAZ);
    let vname = x.pick(veh.names);
    let r = route(x, 40.0, 900.0, true);
    let (goods, class) = x.pick(&[
        ("乙酸乙酯", "3类易燃液体"),
        ("甲醇", "3类易燃液体"),
        ("液碱", "8类腐蚀品"),
        ("双氧水", "5.1类氧化剂"),
        ("油漆", "3类"),
        ("冰醋酸", "8类腐蚀品"),
    ]);
    let cap = x.real(veh.cap.0, veh.cap.1).round();
    let path = arrow(x, r.origin, r.dest);
    if x.offer {
        let mut p = Post::new(format!("危化品运输 {path} {vname}"));
        p.desc.m(format!("有危运资质，{vname}"));
        p.desc.m(format!("{class}都能运"));
        p.desc.m("配押运员");
        p.desc.o(format!("{}出发", r.origin));
        p.price = Some(truck_price(x, &veh, r.km, 1.0));
        common_attrs(&mut p, x, &r, &veh, cap, false, true);
        p
    } else {
        let load = (cap * x.real(0.3, 0.9)).round().max(1.0);
        let lt = mass_text(x.r, load);
        let day = x.int(2, 20) as i32;
        let mut p = Post::new(format!("{}危化品运输 {goods}{lt} {path}", x.rush()));
        p.desc.m(format!(
            "{class}，{}约{lt}",
            x.pick(&["200L桶装", "IBC吨桶", "散装"])
        ));
        p.desc.m(format!(
            "{}左右从{}发{}",
            say_date(x.r, day),
            r.origin,
            r.dest
        ));
        p.desc.m("车辆须有危运证，配押运员");
        p.quantity = Some(mass_qty(x.r, load));
        p.s("origin", r.origin);
        p.s("destination", r.dest);
        p.f("capacity_t", load);
        p.attrs.push(("departure_date", super::Val::Date(day)));
        p.b("cold_chain", false);
        p.b("hazmat", true);
        p.window = Some((Some(day), Some(day)));
        p
    }
}

pub fn heavy(x: &mut Ctx<'_>) -> Post {
    let veh = *x.r.pick_ref(HEAVY);
    let vname = x.pick(veh.names);
    let r = route(x, 20.0, 800.0, false);
    let path = arrow(x, r.origin, r.dest);
    if x.offer {
        let mut p = Post::new(match x.int(0, 2) {
            0 => format!("工厂搬迁/设备移位 {vname}配叉车吊车"),
            1 => format!("{} 大件运输 {vname} {}吨以内", x.nick(), num(veh.cap.1)),
            _ => format!("设备移位/搬厂一条龙 {} {vname}", r.origin),
        });
        p.desc.m("专业做工厂整体搬迁和设备移位");
        p.desc.m(format!("{vname}、叉车、吊车一条龙"));
        p.desc
            .o(format!("{}、{}都可以上门看现场报价", r.origin, r.dest));
        let cap = x.real(veh.cap.0, veh.cap.1).round();
        common_attrs(&mut p, x, &r, &veh, cap, false, false);
        p
    } else {
        let w = x.int(5, 45) as f64;
        let day = x.int(3, 30) as i32;
        let mut p = Post::new(format!(
            "{}大件设备运输 {}吨 {path} {vname}",
            x.rush(),
            num(w)
        ));
        p.desc.m(format!("一台{}吨的设备", num(w)));
        p.desc.m(format!("要从{}运到{}", r.origin, r.dest));
        p.desc.m(format!("需要{vname}"));
        p.desc.o("最好能配吊车装卸");
        p.desc.o(format!("{}左右", say_date(x.r, day)));
        p.quantity = Some(Amount::new(1.0, "车"));
        p.s("origin", r.origin);
        p.s("destination", r.dest);
        p.s("vehicle_type", veh.attr);
        p.f("capacity_t", w);
        p.attrs.push(("departure_date", super::Val::Date(day)));
        p.b("cold_chain", false);
        p.b("hazmat", false);
        p.window = Some((Some(day), Some(day)));
        p
    }
}
