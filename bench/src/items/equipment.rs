//! Machines: for rent, for sale, shared machine hours or contract work.

use super::{Ctx, Post};
use crate::text::{Amount, cn, count, num, say_date};

/// A machine model whose number implies its spec (海天MA2500 = 250 t).
#[derive(Debug, Clone, Copy)]
struct Model {
    brand: &'static str,
    model: &'static str,
    spec: f64,
}

const fn m(brand: &'static str, model: &'static str, spec: f64) -> Model {
    Model { brand, model, spec }
}

fn qty_machines(x: &mut Ctx<'_>, n: i64) -> Amount {
    let unit = if x.p(0.9) { "台" } else { "套" };
    Amount::new(n as f64, unit)
}

fn n_machines(x: &mut Ctx<'_>) -> i64 {
    x.w(&[(1, 9), (2, 6), (3, 3), (4, 2), (5, 1), (6, 1), (8, 1)])
}

/// Per-day machine rent in one of its spellings.
fn day_rent(x: &mut Ctx<'_>, per_day: f64) -> Amount {
    match x.int(0, 9) {
        0..=6 => Amount::new(per_day.round(), "元/台/天"),
        7 | 8 => Amount::new((per_day * 26.0 / 100.0).round() * 100.0, "元/台/月"),
        _ => Amount::new(per_day.round(), "元/天"),
    }
}

fn sale_price(x: &mut Ctx<'_>, wan: f64) -> Amount {
    if wan < 1.0 || x.p(0.1) {
        Amount::new((wan * 10_000.0 / 100.0).round() * 100.0, "元")
    } else {
        Amount::new(wan, "万元")
    }
}

fn year(x: &mut Ctx<'_>) -> i64 {
    x.int(2012, 2023)
}

const MODE_OFFER: &[(&str, u32)] = &[("出租", 3), ("出售", 3), ("共享机时", 2), ("代加工", 2)];

// ---- injection moulding ----------------------------------------------------

const INJECTION: &[Model] = &[
    m("海天", "MA900", 90.0),
    m("海天", "MA1200", 120.0),
    m("海天", "MA1600", 160.0),
    m("海天", "MA2000", 200.0),
    m("海天", "MA2500", 250.0),
    m("海天", "MA2800", 280.0),
    m("海天", "MA3200", 320.0),
    m("海天", "MA3800", 380.0),
    m("海天", "MA4700", 470.0),
    m("海天", "MA5300", 530.0),
    m("海天", "MA6000", 600.0),
    m("海天", "MA8000", 800.0),
    m("震雄", "JM88-MK6", 88.0),
    m("震雄", "JM128-MK6", 128.0),
    m("震雄", "JM168-MK6", 168.0),
    m("震雄", "JM218-MK6", 218.0),
    m("震雄", "JM328-MK6", 328.0),
    m("震雄", "JM458-MK6", 458.0),
    m("伊之密", "UN120A5", 120.0),
    m("伊之密", "UN160A5", 160.0),
    m("伊之密", "UN260A5", 260.0),
    m("伊之密", "UN350A5", 350.0),
    m("伊之密", "UN470A5", 470.0),
    m("海达", "HDX88", 88.0),
    m("海达", "HDX128", 128.0),
    m("海达", "HDX208", 208.0),
];

const PLASTICS: &[&str] = &[
    "PP", "ABS", "PC", "PA66", "POM", "PC/ABS", "HIPS", "TPE", "PP/ABS",
];
const MOULDED: &[&str] = &[
    "收纳盒",
    "家电外壳",
    "汽车内饰件",
    "文具",
    "笔杆",
    "小家电面板",
    "灯具配件",
    "瓶盖",
    "周转箱",
    "电器开关面板",
    "玩具件",
    "卫浴配件",
];

pub fn injection(x: &mut Ctx<'_>) -> Post {
    let md = *x.r.pick_ref(INJECTION);
    let model = if md.brand == "海天" && x.p(0.35) {
        format!("{}{}", md.model, x.pick(&["/II", "II", "-II", "/X"]))
    } else {
        md.model.to_string()
    };
    let syn = x.pick(&["注塑机", "注塑机", "啤机", "注射成型机", "注塑机", "啤机"]);
    let t = md.spec;
    let plastic = x.pick(PLASTICS);
    let product = x.pick(MOULDED);
    if x.offer {
        let mode = x.w(MODE_OFFER);
        let n = n_machines(x);
        let nn = count(x.r, n);
        let title = match (mode, x.int(0, 2)) {
            ("代加工", 0) => format!("承接{}吨注塑加工 {plastic}料件", num(t)),
            ("代加工", 1) => format!("承接注塑外协 {}{} {n}台", md.brand, model),
            ("代加工", _) => format!("{syn}有空档 接{plastic}注塑加工"),
            ("共享机时", 0) => format!("{}{model} {nn}台 夜班空机对外", md.brand),
            ("共享机时", _) => format!("{}吨{syn}机时共享 按天/按小时", num(t)),
            ("出租", 0) => format!("{}{}吨{syn}{nn}台 对外出租", md.brand, num(t)),
            ("出租", _) => format!("闲置{}{model} 整机出租", md.brand),
            (_, 0) => format!("闲置{}{model}{syn} 转让", md.brand),
            (_, 1) => format!("二手{syn} {}{}T 出售", md.brand, num(t)),
            _ => format!("处理{}{syn}{nn}台 {model}", md.brand),
        };
        let mut p = Post::new(title);
        match mode {
            "代加工" => {
                p.desc.m(format!("有{}{model}{nn}台", md.brand));
                p.desc.m(format!("{plastic}{product}这类外发订单都能做"));
                p.desc.o("原料客户提供或我方代购都行");
                p.desc.o("带机械手和干燥机");
                p.desc.o(format!("{}附近的厂优先", x.nick()));
                if x.p(0.4) {
                    p.price = Some(Amount::new((t * 0.25 + 30.0).round(), "元/小时"));
                }
            }
            "共享机时" => {
                p.desc
                    .m(format!("{nn}台{}{}吨{syn}，白班满", md.brand, num(t)));
                p.desc.m("夜班经常空机");
                p.desc.m("客户带模来做或我们派人开机都可以");
                p.desc.o("按天或按小时算");
                p.price = Some(if x.p(0.5) {
                    Amount::new((t * 4.0 + 200.0).round(), "元/台/天")
                } else {
                    Amount::new((t * 0.3 + 40.0).round(), "元/小时")
                });
            }
            "出租" => {
                p.desc.m(format!("{}{model}，锁模力{}吨", md.brand, num(t)));
                p.desc.m(format!("{nn}台闲置，整机出租"));
                p.desc.o("月租优先");
                p.desc.o(format!("{}自提", x.nick()));
                p.desc.o("可以先来看机试模");
                p.price = Some(day_rent(x, t * 1.2 + 100.0));
            }
            _ => {
                let y = year(x);
                p.desc
                    .m(format!("{}{model}，{}吨，{y}年机", md.brand, num(t)));
                p.desc.m(x.pick(&[
                    "一直在用保养好",
                    "产线调整转让",
                    "换新机淘汰下来的",
                    "液压油刚换过",
                ]));
                p.desc.o("可试机");
                p.desc.o(format!("{}自提", x.nick()));
                p.price = Some({
                    let v = (t * 0.07 * x.real(0.6, 1.3)).max(3.0);
                    sale_price(x, v)
                });
            }
        }
        p.quantity = Some(qty_machines(x, n));
        p.s("equipment_type", if x.p(0.75) { "注塑机" } else { syn });
        if x.p(0.9) {
            p.s("brand", md.brand);
        }
        if x.p(0.85) {
            p.s("model", model);
        }
        p.s("mode", mode);
        if x.p(0.85) {
            p.f("clamping_force_t", t);
        }
        p
    } else {
        let mode = x.w(&[("共享机时", 3), ("代加工", 3), ("出租", 2), ("出售", 2)]);
        let want_t = (t / 10.0).round() * 10.0;
        let rush = x.rush();
        let title = match (mode, x.int(0, 1)) {
            ("出售", _) => format!("{rush}求购二手{syn} {}吨左右", num(want_t)),
            ("出租", 0) => format!("{rush}求租{}T以上{syn} {}个月", num(want_t), x.int(1, 6)),
            ("出租", _) => format!("{rush}租{syn}{}吨 {}台", num(want_t), x.int(1, 3)),
            (_, 0) => format!("{rush}求{}T以上{syn} 外发或借机时", num(want_t)),
            _ => format!("{rush}{plastic}{product}找注塑外协 {}T", num(want_t)),
        };
        let mut p = Post::new(title);
        let start = x.int(3, 40) as i32;
        p.desc.m(format!("手上有批{product}订单要赶"));
        p.desc.m(format!("需要{}T以上的机台", num(want_t)));
        match mode {
            "出售" => {
                p.desc.m("海天、震雄都可以，五年内的机器");
                if x.p(0.6) {
                    p.price = Some(Amount::new(x.step(8, 40, 1) as f64, "万元"));
                }
            }
            _ => {
                p.desc
                    .m(x.pick(&["模具我们自己带", "模具我们自己出", "料我们提供"]));
                p.desc.o(format!(
                    "{}开始做{}左右",
                    say_date(x.r, start),
                    x.pick(&["一个月", "两三周", "两个月"])
                ));
                p.desc.o("夜班也可以");
                if x.p(0.3) {
                    p.price = Some(Amount::new((want_t * 4.5 + 150.0).round(), "元/台/天"));
                }
            }
        }
        p.desc.o(format!("{}附近最好", x.nick()));
        p.quantity = Some(Amount::new(x.int(1, 2) as f64, "台"));
        p.s("equipment_type", if x.p(0.7) { "注塑机" } else { syn });
        p.f("clamping_force_t", want_t);
        p.s("mode", mode);
        p
    }
}

// ---- die casting -----------------------------------------------------------

const DIE_CAST: &[Model] = &[
    m("力劲", "DCC160", 160.0),
    m("力劲", "DCC280", 280.0),
    m("力劲", "DCC400", 400.0),
    m("力劲", "DCC630", 630.0),
    m("力劲", "DCC800", 800.0),
    m("力劲", "DCC1250", 1250.0),
    m("伊之密", "DM300", 300.0),
    m("伊之密", "DM500", 500.0),
    m("海天金属", "HDC400", 400.0),
];

pub fn die_cast(x: &mut Ctx<'_>) -> Post {
    let md = *x.r.pick_ref(DIE_CAST);
    let t = md.spec;
    let alloy = x.pick(&["ADC12", "A380", "AlSi9Cu3", "ADC12", "YL113"]);
    let part = x.pick(&[
        "电机壳",
        "汽车支架",
        "灯具散热器",
        "家电压铸件",
        "阀体",
        "5G基站壳体",
        "变速箱壳体",
    ]);
    if x.offer {
        let mode = x.w(&[("代加工", 6), ("出售", 2), ("共享机时", 1)]);
        let n = x.int(1, 3);
        let title = match mode {
            "代加工" => format!("{}{} 压铸代加工 {alloy}", md.brand, md.model),
            "出售" => format!("二手{}吨压铸机 {}{} 转让", num(t), md.brand, md.model),
            _ => format!("{}吨压铸岛 机时对外 {}", num(t), x.nick()),
        };
        let mut p = Post::new(title);
        p.desc.m(format!("{}{}{}台", md.brand, md.model, cn(n)));
        match mode {
            "出售" => {
                p.desc.m(format!("{}年机，带取件机器人和喷雾", year(x)));
                p.desc.o("产品转型处理");
                p.price = Some({
                    let v = t * 0.12 * x.real(0.6, 1.2);
                    sale_price(x, v)
                });
            }
            _ => {
                p.desc.m(format!("铝合金压铸件外协加工，{alloy}材料"));
                p.desc.o(format!("做过{part}"));
                p.desc.o("后道去毛刺、CNC可以一起做");
            }
        }
        p.desc.o(format!("{}自提或送货", x.nick()));
        p.quantity = Some(qty_machines(x, n));
        p.s("equipment_type", "压铸机");
        p.s("brand", md.brand);
        p.s("model", md.model);
        p.s("mode", mode);
        p.f("clamping_force_t", t);
        p
    } else {
        let rush = x.rush();
        let mut p = Post::new(format!(
            "{rush}{part}找压铸外协 {}吨以上",
            num((t / 50.0).round() * 50.0)
        ));
        p.desc.m(format!("{alloy}铝合金{part}"));
        p.desc.m(format!("单件约{}公斤", num(x.real(0.3, 6.0))));
        p.desc.m(format!("需要{}T以上压铸机", num(t)));
        p.desc
            .o(format!("月需求{}件左右", x.step(2000, 30000, 500)));
        p.desc.o("模具我们提供");
        p.desc.o("最好能做后道机加工");
        p.quantity = Some(Amount::new(x.step(1000, 20000, 500) as f64, "件"));
        p.s("equipment_type", "压铸机");
        p.s("mode", "代加工");
        p.f("clamping_force_t", t);
        p
    }
}

// ---- machining centres -----------------------------------------------------

const VMC: &[(&str, f64)] = &[
    ("VMC640", 600.0),
    ("VMC850", 800.0),
    ("VMC855", 800.0),
    ("VMC1060", 1000.0),
    ("VMC1160", 1100.0),
    ("VMC1270", 1200.0),
    ("VMC1580", 1500.0),
];
const VMC_BRANDS: &[&str] = &[
    "海天精工",
    "友嘉",
    "台中精机",
    "大连机床",
    "乔锋",
    "日发",
    "",
    "",
];
const CNC_SYSTEMS: &[&str] = &[
    "FANUC 0i-MF",
    "发那科",
    "三菱M80",
    "新代",
    "西门子828D",
    "凯恩帝",
    "FANUC",
];

pub fn cnc(x: &mut Ctx<'_>) -> Post {
    let (model, travel) = x.pick(VMC);
    let brand = x.pick(VMC_BRANDS);
    let sys = x.pick(CNC_SYSTEMS);
    let syn = x.pick(&[
        "加工中心",
        "立加",
        "立式加工中心",
        "CNC",
        "电脑锣",
        "数控铣",
    ]);
    let size = &model[3..];
    let y_travel = (travel * 0.55 / 10.0).round() * 10.0;
    if x.offer {
        let mode = x.w(MODE_OFFER);
        let n = n_machines(x);
        let nn = count(x.r, n);
        let title = match (mode, x.int(0, 1)) {
            ("共享机时", 0) => format!("{size}立加 夜班机时对外共享"),
            ("共享机时", _) => format!("{nn}台{syn}夜班空着 可共享"),
            ("代加工", 0) => format!("承接CNC精密加工 {syn}{nn}台"),
            ("代加工", _) => format!("{syn}代加工 铝件/钢件 小批量"),
            ("出租", _) => format!("{model}{syn}出租 {sys}"),
            (_, 0) => format!("二手{size}{syn} {sys} 出售"),
            _ => format!("闲置机床处理 {brand}{model} {}年", year(x)),
        };
        let mut p = Post::new(title);
        p.desc.m(format!(
            "{nn}台{brand}{size}立式加工中心(行程{}×{})",
            num(travel),
            num(y_travel)
        ));
        match mode {
            "共享机时" => {
                p.desc.m("白天排满，晚上机台空着可以对外");
                p.desc.o("按机时计费，可配操机工");
                p.price = Some(Amount::new(x.step(60, 140, 5) as f64, "元/小时"));
            }
            "代加工" => {
                p.desc.m("铝合金、不锈钢、模具钢都做");
                p.desc.o("带三坐标检测");
                p.desc.o("交期一周左右");
            }
            "出租" => {
                p.desc.m(format!("{sys}系统，精度好"));
                p.desc.o("整机出租，三个月起");
                p.price = Some({
                    let v = x.step(250, 600, 10) as f64;
                    day_rent(x, v)
                });
            }
            _ => {
                p.desc.m(format!("{sys}系统，{}年的", year(x)));
                p.desc.o("搬厂处理");
                p.desc.o(format!("{}自提", x.nick()));
                p.price = Some({
                    let v = travel / 100.0 * x.real(0.9, 1.6);
                    sale_price(x, v)
                });
            }
        }
        p.quantity = Some(qty_machines(x, n));
        p.s("equipment_type", if x.p(0.7) { "加工中心" } else { syn });
        if !brand.is_empty() && x.p(0.7) {
            p.s("brand", brand);
        }
        if x.p(0.85) {
            p.s("model", model);
        }
        p.s("mode", mode);
        p.f("travel_mm", travel);
        p
    } else {
        let mode = x.w(&[("代加工", 4), ("出售", 2), ("出租", 1), ("共享机时", 1)]);
        let rush = x.rush();
        let part = x.pick(&[
            "6061铝外壳",
            "不锈钢法兰",
            "45#钢支架",
            "模具镶件",
            "铝合金散热片",
            "光电外壳铝件",
        ]);
        let n = x.step(20, 2000, 10);
        let mut p = match mode {
            "代加工" => {
                let mut p = Post::new(format!("{rush}{part}{n}件 找CNC外协"));
                p.desc.m(format!("{part}{n}件"));
                p.desc.m(x.pick(&[
                    "带斜孔，需要四轴一次装夹",
                    "公差±0.02",
                    "要求表面无刀纹",
                    "图纸齐全可打样",
                ]));
                p.desc.o(format!("{}附近的厂优先", x.nick()));
                p.desc.o("要附三坐标检测报告");
                p.quantity = Some(Amount::new(n as f64, "件"));
                p
            }
            "出售" => {
                let mut p = Post::new(format!("{rush}预算{}万 收一台二手{syn}", x.int(8, 25)));
                p.desc.m(format!("车间想补一台二手{syn}"));
                p.desc.m(format!("X行程{}左右", num(travel)));
                p.desc.o("发那科或三菱系统");
                p.quantity = Some(Amount::new(1.0, "台"));
                p.price = Some(Amount::new(x.int(8, 25) as f64, "万元"));
                p
            }
            _ => {
                let mut p = Post::new(format!("{rush}租{syn}或借机时 {size}以上"));
                p.desc.m(format!("订单集中，{size}以上{syn}不够用"));
                p.desc.m(format!("想租{}台或借夜班机时", cn(x.int(1, 3))));
                p.desc.o("一个月左右");
                p.quantity = Some(Amount::new(x.int(1, 3) as f64, "台"));
                p
            }
        };
        p.s("equipment_type", if x.p(0.7) { "加工中心" } else { syn });
        p.s("mode", mode);
        if x.p(0.6) {
            p.f("travel_mm", travel);
        }
        p
    }
}

pub fn lathe(x: &mut Ctx<'_>) -> Post {
    let (model, swing) = x.pick(&[
        ("CK6140", 400.0),
        ("CK6150", 500.0),
        ("CK6163", 630.0),
        ("TCK46A", 460.0),
        ("CK6136", 360.0),
    ]);
    let brand = x.pick(&["大连机床", "沈阳机床", "云南机床", "宝鸡", "", ""]);
    let syn = x.pick(&["数控车床", "数车", "CNC车床", "车床", "斜床身数控车"]);
    if x.offer {
        let mode = x.w(MODE_OFFER);
        let n = n_machines(x);
        let mut p = Post::new(match mode {
            "代加工" => format!("{syn}{}台 承接轴类/套类加工", count(x.r, n)),
            "出售" => format!("{brand}{model}{syn} 出售"),
            "出租" => format!("{syn}出租 {model} {}台", n),
            _ => format!("{syn}机时共享 {}", x.nick()),
        });
        p.desc.m(format!("{brand}{model}{}台", cn(n)));
        p.desc.m(format!("回转直径{}", num(swing)));
        match mode {
            "代加工" => {
                p.desc.m("来料加工，轴、套、法兰都做");
            }
            "出售" => {
                p.desc.m(format!("{}年的，精度正常", year(x)));
                p.price = Some({
                    let v = x.real(2.5, 9.0);
                    sale_price(x, v)
                });
            }
            "出租" => {
                p.price = Some({
                    let v = x.step(120, 300, 10) as f64;
                    day_rent(x, v)
                });
            }
            _ => {
                p.desc.m("夜班空着，可以带师傅");
                p.price = Some(Amount::new(x.step(40, 90, 5) as f64, "元/小时"));
            }
        }
        p.desc.o("广数、FANUC系统都有");
        p.quantity = Some(qty_machines(x, n));
        p.s("equipment_type", if x.p(0.7) { "数控车床" } else { syn });
        if !brand.is_empty() {
            p.s("brand", brand);
        }
        p.s("model", model);
        p.s("mode", mode);
        p
    } else {
        let rush = x.rush();
        let n = x.step(100, 5000, 100);
        let mut p = Post::new(format!("{rush}找{syn}外协 轴类件{n}件"));
        p.desc.m(format!("45#钢轴类件{n}件"));
        p.desc.m(format!("直径{}以内", x.step(20, 120, 5)));
        p.desc.m("需要数车加工+热处理");
        p.desc.o(format!("{}范围", x.nick()));
        p.quantity = Some(Amount::new(n as f64, "件"));
        p.s("equipment_type", "数控车床");
        p.s("mode", "代加工");
        p
    }
}

pub fn five_axis(x: &mut Ctx<'_>) -> Post {
    let md = *x.r.pick_ref(&[
        m("DMG", "DMU 50", 650.0),
        m("哈斯", "UMC-750", 762.0),
        m("科德", "KMC800", 800.0),
        m("北京精雕", "JDGR200", 200.0),
        m("德马吉", "DMU 65", 735.0),
    ]);
    if x.offer {
        let mut p = Post::new(match x.int(0, 3) {
            0 => format!(
                "{} 五轴 小批量精密件外协",
                x.pick(&[md.brand, "五轴联动", "5-axis"])
            ),
            1 => format!("{} {} 五轴加工中心 接单", md.brand, md.model),
            2 => format!("五轴联动加工 {} 1件起做", x.nick()),
            _ => format!("{}五轴 承接异形件/叶轮加工", md.brand),
        });
        p.desc.m(format!("{} {}五轴联动", md.brand, md.model));
        p.desc.m("承接铝合金、不锈钢精密小件");
        p.desc.o("1件起做");
        p.desc.o(format!("交期{}天", x.int(5, 12)));
        p.desc.o("带三坐标出报告");
        p.s("equipment_type", "五轴加工中心");
        p.s("brand", md.brand);
        p.s("model", md.model);
        p.s("mode", "代加工");
        p.f("travel_mm", md.spec);
        p
    } else {
        let rush = x.rush();
        let n = x.int(5, 200);
        let mut p = Post::new(format!("{rush}叶轮/异形件{n}件 找五轴加工"));
        p.desc.m(format!("异形曲面件{n}件"));
        p.desc.m("需要五轴联动一次成型");
        p.desc.o("材料钛合金或7075");
        p.desc.o("需要首件检测报告");
        p.quantity = Some(Amount::new(n as f64, "件"));
        p.s("equipment_type", "五轴加工中心");
        p.s("mode", "代加工");
        p
    }
}

// ---- presses and sheet metal -----------------------------------------------

const PRESSES: &[Model] = &[
    m("扬力", "JH21-80", 80.0),
    m("扬力", "JH21-110", 110.0),
    m("扬力", "JH21-160", 160.0),
    m("扬力", "JH21-200", 200.0),
    m("扬力", "JH21-250", 250.0),
    m("扬力", "JH21-315", 315.0),
    m("扬力", "JH21-400", 400.0),
    m("金丰", "JF21-160", 160.0),
    m("沃得", "JH21-125", 125.0),
    m("扬力", "JH25-200", 200.0),
    m("金丰", "JH31-250", 250.0),
];

pub fn press(x: &mut Ctx<'_>) -> Post {
    let md = *x.r.pick_ref(PRESSES);
    let t = md.spec;
    let syn = x.pick(&["冲床", "压力机", "冲压机", "开式压力机", "冲床"]);
    if x.offer {
        let mode = x.w(&[("出租", 3), ("出售", 3), ("代加工", 3), ("共享机时", 1)]);
        let n = n_machines(x);
        let mut p = Post::new(match (mode, x.int(0, 1)) {
            ("出租", _) => format!("{}{}{syn} 可租 按天/按月", md.brand, md.model),
            ("出售", 0) => format!("二手{}吨{syn} {}台 出售", num(t), n),
            ("出售", _) => format!("处理{}{}T{syn}", md.brand, num(t)),
            _ => format!("{}吨{syn}接冲压外协 {}", num(t), x.nick()),
        });
        p.desc
            .m(format!("{}吨{}，{}{}", num(t), syn, md.brand, md.model));
        if x.p(0.5) {
            p.desc.m("带气垫和送料机");
        }
        match mode {
            "出租" => {
                p.desc.m("整机租走或在我们厂里冲都行（按冲次算）");
                p.price = Some(day_rent(x, t * 2.2 + 60.0));
            }
            "出售" => {
                p.desc.m(format!("{}年机", year(x)));
                p.desc.o("离合器刹车刚修过");
                p.price = Some({
                    let v = t * 0.06 * x.real(0.7, 1.3);
                    sale_price(x, v)
                });
            }
            _ => {
                p.desc.m("承接五金冲压件，模具可客供");
                p.desc.o("可配套攻牙和焊接");
            }
        }
        p.quantity = Some(qty_machines(x, n));
        p.s("equipment_type", if x.p(0.7) { "冲床" } else { syn });
        p.s("brand", md.brand);
        p.s("model", md.model);
        p.s("mode", mode);
        p.f("tonnage_t", t);
        p
    } else {
        let mode = x.w(&[("出租", 3), ("代加工", 3), ("出售", 1)]);
        let rush = x.rush();
        let want = (t / 10.0).round() * 10.0;
        let mut p = Post::new(match mode {
            "出租" => format!("{rush}求租{syn}{}T以上 {}个月", num(want), x.int(1, 6)),
            "出售" => format!("{rush}求购二手{syn} {}吨", num(want)),
            _ => format!("{rush}找冲压外协 {}吨以上{syn}", num(want)),
        });
        p.desc
            .m(x.pick(&["模具试冲+小批量", "新项目量产前过渡", "支架类冲压件"]));
        p.desc.m(format!("需要{}吨以上{syn}", num(want)));
        p.desc.o("或者直接找冲压外协也行");
        p.desc.o(format!("{}优先", x.nick()));
        p.quantity = Some(Amount::new(1.0, "台"));
        p.s("equipment_type", if x.p(0.7) { "冲床" } else { syn });
        p.f("tonnage_t", want);
        p.s("mode", mode);
        p
    }
}

pub fn sheet_metal(x: &mut Ctx<'_>) -> Post {
    let laser = x.p(0.5);
    if laser {
        let (brand, model, kw) = x.pick(&[
            ("大族", "G3015HF", 6.0),
            ("奔腾", "3015", 3.0),
            ("邦德", "3015E", 12.0),
            ("宏山", "HS-G3015", 6.0),
        ]);
        let syn = x.pick(&["激光切割机", "光纤激光切割机", "激光切割", "激光下料"]);
        if x.offer {
            let mode = x.w(&[("代加工", 5), ("出售", 2), ("共享机时", 1)]);
            let mut p = Post::new(match mode {
                "代加工" => format!("{}kW{syn} 承接钣金下料", num(kw)),
                "出售" => format!("{brand}{}kW{syn} 出售", num(kw)),
                _ => format!("{syn}机时对外 {}", x.nick()),
            });
            p.desc.m(format!("{brand}{model}，{}kW", num(kw)));
            p.desc.m("碳钢20mm、不锈钢10mm以内都能切");
            if mode == "出售" {
                p.price = Some({
                    let v = kw * 3.5 * x.real(0.6, 1.0);
                    sale_price(x, v)
                });
            } else {
                p.desc.o("来图下料，当天可出");
                p.price = x
                    .p(0.4)
                    .then(|| Amount::new(x.step(150, 400, 10) as f64, "元/小时"));
            }
            p.s("equipment_type", if x.p(0.7) { "激光切割机" } else { syn });
            p.s("brand", brand);
            p.s("model", model);
            p.s("mode", mode);
            p.f("travel_mm", 3000.0);
            p
        } else {
            let rush = x.rush();
            let t = x.int(2, 30);
            let mut p = Post::new(format!("{rush}找激光切割外协 钢板{t}吨"));
            p.desc.m(format!(
                "Q235钢板{}厚，约{t}吨",
                x.pick(&["3mm", "6mm", "8mm", "10mm"])
            ));
            p.desc.m("需要激光下料+折弯");
            p.desc.o("图纸DXF提供");
            p.quantity = Some(crate::text::mass_qty(x.r, t as f64));
            p.s("equipment_type", "激光切割机");
            p.s("mode", "代加工");
            p
        }
    } else {
        let (brand, model, t) = x.pick(&[
            ("亚威", "PBH-110/3100", 110.0),
            ("金方圆", "PPEB-100/3200", 100.0),
            ("亚威", "PBB-160/4100", 160.0),
            ("普玛宝", "PR6C 220x41", 220.0),
        ]);
        let syn = x.pick(&["折弯机", "数控折弯机", "电液折弯机"]);
        if x.offer {
            let mode = x.w(&[("出售", 3), ("出租", 2), ("代加工", 3)]);
            let mut p = Post::new(format!("{brand}{}吨{syn} {mode}", num(t)));
            p.desc.m(format!("{brand}{model}，{}吨", num(t)));
            p.desc.m(x.pick(&["带后挡料", "4米长台面", "配多套模具"]));
            match mode {
                "出售" => {
                    p.price = Some({
                        let v = t * 0.1 * x.real(0.6, 1.1);
                        sale_price(x, v)
                    })
                }
                "出租" => p.price = Some(day_rent(x, t * 2.0)),
                _ => {
                    p.desc.o("承接钣金折弯");
                }
            }
            p.quantity = Some(Amount::new(1.0, "台"));
            p.s("equipment_type", syn);
            p.s("brand", brand);
            p.s("model", model);
            p.s("mode", mode);
            p.f("tonnage_t", t);
            p
        } else {
            let rush = x.rush();
            let mut p = Post::new(format!("{rush}求购二手{syn} {}吨左右", num(t)));
            p.desc.m(format!("钣金车间要添一台{}吨{syn}", num(t)));
            p.desc.m("台面3米以上");
            p.desc.o("预算有限，二手的也行");
            p.quantity = Some(Amount::new(1.0, "台"));
            p.s("equipment_type", "折弯机");
            p.s("mode", "出售");
            p.f("tonnage_t", t);
            p
        }
    }
}

// ---- material handling and site equipment ----------------------------------

/// (brand, model, tonnes, type, synonyms)
const FORKLIFTS: &[(&str, &str, f64, &str, &[&str])] = &[
    (
        "合力",
        "CPCD30",
        3.0,
        "叉车",
        &["叉车", "铲车", "柴油叉车", "内燃叉车"],
    ),
    ("合力", "CPCD50", 5.0, "叉车", &["叉车", "铲车", "内燃叉车"]),
    (
        "合力",
        "CPD20",
        2.0,
        "电动叉车",
        &["电动叉车", "电瓶叉车", "叉车"],
    ),
    ("杭叉", "CPCD35", 3.5, "叉车", &["叉车", "铲车", "柴油叉车"]),
    ("杭叉", "CPD15", 1.5, "电动叉车", &["电动叉车", "电瓶叉车"]),
    ("杭叉", "CDD16", 1.6, "堆高车", &["堆高车", "电动堆高车"]),
    ("龙工", "LG30DT", 3.0, "叉车", &["叉车", "铲车", "内燃叉车"]),
    ("龙工", "LG50DT", 5.0, "叉车", &["叉车", "铲车"]),
    (
        "诺力",
        "CDD15",
        1.5,
        "堆高车",
        &["堆高车", "电动堆高车", "堆垛车"],
    ),
    ("林德", "E20", 2.0, "电动叉车", &["电动叉车", "平衡重叉车"]),
    ("丰田", "8FBN25", 2.5, "电动叉车", &["电动叉车", "叉车"]),
    (
        "合力",
        "CQD16",
        1.6,
        "前移式叉车",
        &["前移式叉车", "前移叉车"],
    ),
];

pub fn forklift(x: &mut Ctx<'_>) -> Post {
    let &(brand, model, t, ty, syns) = x.r.pick_ref(FORKLIFTS);
    let syn = x.pick(syns);
    let tt = num(t);
    if x.offer {
        let mode = x.w(&[("出租", 6), ("出售", 3)]);
        let n = if mode == "出售" {
            x.w(&[(1, 6), (2, 2), (3, 1)])
        } else {
            x.w(&[(1, 3), (2, 4), (3, 2), (4, 2), (6, 1), (10, 1)])
        };
        let nn = count(x.r, n);
        let mut p = Post::new(match (mode, x.int(0, 2)) {
            ("出租", 0) => format!("{brand}{tt}吨{syn}出租 日租月租"),
            ("出租", 1) => format!("{}{syn}{}T {nn}台 可租", x.nick(), tt),
            ("出租", _) => format!("闲置{syn}{nn}台 对外出租"),
            (_, 0) => format!("{brand}{}T{syn} 二手转让", tt),
            _ => format!("{syn}转让 {brand}{model}"),
        });
        p.desc.m(format!("{brand}{model}，{}吨{syn}{nn}台", tt));
        match mode {
            "出租" => {
                p.desc
                    .m(x.pick(&["门架3米", "门架4.5米", "带侧移", "电池今年新换的"]));
                p.desc.o("日租月租都行");
                p.desc.o(format!("{}周边送车上门", x.nick()));
                p.desc.o("司机可以一起派");
                p.price = Some(day_rent(x, t * 60.0 + 80.0));
            }
            _ => {
                p.desc.m(format!(
                    "{}年的，{}千多小时",
                    x.int(2015, 2023),
                    x.int(2, 9)
                ));
                p.desc.o("刚做过大保养");
                p.desc.o("手续齐全");
                p.price = Some({
                    let v = t * 1.4 * x.real(0.7, 1.4);
                    sale_price(x, v)
                });
            }
        }
        p.quantity = Some(qty_machines(x, n));
        p.s("equipment_type", if x.p(0.6) { ty } else { syn });
        p.s("brand", brand);
        if x.p(0.6) {
            p.s("model", model);
        }
        p.s("mode", mode);
        p.f("tonnage_t", t);
        p
    } else {
        let mode = x.w(&[("出租", 5), ("出售", 1)]);
        let n = x.w(&[(1, 4), (2, 4), (3, 2), (5, 1)]);
        let rush = x.rush();
        let months = x.int(1, 6);
        let mut p = Post::new(match (mode, x.int(0, 1)) {
            ("出租", 0) => format!("{rush}月租{syn}{}T {}台 {}用", tt, n, x.nick()),
            ("出租", _) => format!("{rush}租{}台{syn} {}吨左右", cn(n), tt),
            _ => format!("{rush}求购二手{syn} {}吨", tt),
        });
        p.desc.m(x.pick(&[
            "仓库出货量上来了",
            "旺季到了",
            "原来的车在大修",
            "新仓库启用",
        ]));
        p.desc.m(format!("要{}吨{syn}{}台", tt, cn(n)));
        if mode == "出租" {
            p.desc.m(format!("租{}个月", cn(months)));
            p.desc
                .o(x.pick(&["内燃电动都行", "室内作业不要柴油的", "最好是电动的"]));
            p.desc.o("能带司机更好");
        }
        p.quantity = Some(Amount::new(n as f64, "台"));
        p.s("equipment_type", if x.p(0.5) { "叉车" } else { syn });
        p.f("tonnage_t", t);
        p.s("mode", mode);
        if mode == "出租" {
            p.window = Some((Some(x.int(0, 20) as i32), None));
        }
        p
    }
}

const CRANES: &[Model] = &[
    m("三一", "STC250", 25.0),
    m("三一", "STC500", 50.0),
    m("三一", "STC800", 80.0),
    m("徐工", "QY25K5", 25.0),
    m("徐工", "QY50KA", 50.0),
    m("徐工", "XCT80", 80.0),
    m("中联", "ZTC250", 25.0),
    m("中联", "ZTC550", 55.0),
    m("徐工", "QY12", 12.0),
    m("三一", "STC160", 16.0),
];

pub fn crane(x: &mut Ctx<'_>) -> Post {
    let md = *x.r.pick_ref(CRANES);
    let t = md.spec;
    let syn = x.pick(&["汽车吊", "吊车", "汽车起重机", "汽车吊"]);
    if x.offer {
        let mut p = Post::new(match x.int(0, 2) {
            0 => format!("{}{}{syn} 台班出租 含司机", md.brand, md.model),
            1 => format!("{}吨{syn}出租 {}当天到", num(t), x.nick()),
            _ => format!("{syn}出租 {}T/{}T都有", num(t), num(t * 2.0)),
        });
        p.desc
            .m(format!("{}{}{syn}，{}吨", md.brand, md.model, num(t)));
        p.desc.m("司机、司索工一起派");
        p.desc.o(format!("{}范围当天进场", x.here()));
        p.desc.o("台班计费");
        p.desc.o("设备进场、钢结构吊装都做");
        p.quantity = Some(Amount::new(x.int(1, 3) as f64, "台"));
        p.price = Some(Amount::new((t * 55.0 + 400.0).round(), "元/台/天"));
        p.s("equipment_type", if x.p(0.7) { "汽车吊" } else { syn });
        p.s("brand", md.brand);
        p.s("model", md.model);
        p.s("mode", "出租");
        p.f("tonnage_t", t);
        p
    } else {
        let rush = x.rush();
        let heavy = (t * x.real(0.3, 0.5)).round().max(2.0);
        let day = x.int(2, 30) as i32;
        let mut p = Post::new(format!(
            "{rush}设备吊装 需{}吨{syn} {}天",
            num(t),
            x.int(1, 3)
        ));
        p.desc.m(format!("{}新设备进场", say_date(x.r, day)));
        p.desc.m(format!("最重一件{}吨", num(heavy)));
        p.desc.m(format!("需要{}T以上{syn}一台带司机", num(t)));
        p.desc.o(format!("地点{}", x.nick()));
        p.quantity = Some(Amount::new(1.0, "台"));
        p.s("equipment_type", "汽车吊");
        p.f("tonnage_t", t);
        p.s("mode", "出租");
        p.window = Some((Some(day), Some(day + x.int(0, 2) as i32)));
        p
    }
}

/// (brand, model, kW)
const COMPRESSORS: &[(&str, &str, f64)] = &[
    ("阿特拉斯·科普柯", "GA37", 37.0),
    ("阿特拉斯", "GA55", 55.0),
    ("阿特拉斯·科普柯", "GA75 VSD", 75.0),
    ("开山", "LG-6.5/8", 37.0),
    ("开山", "LG-10/8", 55.0),
    ("英格索兰", "UP6-37", 37.0),
    ("复盛", "SA-37A", 37.0),
    ("捷豹", "JAG-75", 75.0),
    ("阿特拉斯", "GA90", 90.0),
    ("", "7.5kW活塞式", 7.5),
];

pub fn compressor(x: &mut Ctx<'_>) -> Post {
    let (brand, model, kw) = x.pick(COMPRESSORS);
    let syn = x.pick(&["空压机", "空气压缩机", "螺杆机", "螺杆空压机", "空压机"]);
    let kws = if x.p(0.5) {
        format!("{}kW", num(kw))
    } else {
        format!("{}千瓦", num(kw))
    };
    if x.offer {
        let mode = x.w(&[("出租", 6), ("出售", 3)]);
        let n = x.w(&[(1, 5), (2, 2), (3, 2)]);
        let mut p = Post::new(match (mode, x.int(0, 1)) {
            ("出租", 0) => format!("{syn}出租 {kws} 应急短租"),
            ("出租", _) => format!("{brand}{model}{}台 短租", cn(n)),
            (_, 0) => format!("{brand}{model}{syn} 闲置出售"),
            _ => format!("二手{kws}{syn}转让"),
        });
        p.desc.m(format!("{brand}{kws}{syn}{}台", cn(n)));
        if mode == "出租" {
            p.desc.m("应急短租可以");
            p.desc.o(format!("{}范围两小时内到场接管", x.here()));
            p.price = Some(day_rent(x, kw * 7.0 + 60.0));
        } else {
            p.desc.m(format!("运行{}万小时", num(x.real(0.5, 3.0))));
            p.desc.o("带冷干机和储气罐");
            p.desc.o("可现场看机");
            p.price = Some({
                let v = kw * 0.12 * x.real(0.5, 1.1);
                sale_price(x, v)
            });
        }
        p.quantity = Some(qty_machines(x, n));
        p.s("equipment_type", if x.p(0.6) { "空压机" } else { syn });
        if !brand.is_empty() {
            p.s("brand", brand);
        }
        p.s("model", model);
        p.s("mode", mode);
        p
    } else if x.emergency() || (x.urgent() && x.p(0.5)) {
        let need = if kw < 30.0 { 37.0 } else { kw };
        let mut p = Post::new(format!(
            "{}{}坏了整条线停！急租{}kw以上",
            x.rush(),
            syn,
            num(need)
        ));
        p.desc.m(format!("主{syn}烧了，等配件要一周"));
        p.desc.m(format!(
            "{}线停着",
            x.pick(&["喷涂", "注塑车间", "装配", "包装", "冲压"])
        ));
        p.desc.m(format!("急租{}kW以上的{syn}一台", num(need)));
        p.desc.o(format!("{}这边", x.nick()));
        p.quantity = Some(Amount::new(1.0, "台"));
        p.s("equipment_type", if x.p(0.6) { "空压机" } else { syn });
        p.s("mode", "出租");
        p.window = Some((Some(0), Some(x.int(7, 14) as i32)));
        p
    } else {
        let mode = x.w(&[("出售", 3), ("出租", 2)]);
        let mut p = Post::new(match mode {
            "出售" => format!("{}求购{kws}{syn} 二手也可", x.rush()),
            _ => format!("{}租{kws}{syn} {}个月", x.rush(), x.int(1, 4)),
        });
        p.desc.m(format!("车间扩产用气量不够，需要{kws}左右{syn}"));
        p.desc.m("排气压力0.8MPa");
        p.desc.o("变频优先");
        p.quantity = Some(Amount::new(1.0, "台"));
        p.s("equipment_type", "空压机");
        p.s("mode", mode);
        p
    }
}

pub fn aerial_lift(x: &mut Ctx<'_>) -> Post {
    let (brand, model, h) = x.pick(&[
        ("鼎力", "GTJZ0607", 6.0),
        ("鼎力", "GTJZ1212", 12.0),
        ("星邦", "GTJZ0808", 8.0),
        ("星邦", "GTBZ18", 18.0),
        ("临工", "LGMG AS1012", 10.0),
    ]);
    let syn = x.pick(&["剪叉式升降机", "高空作业平台", "升降车", "剪叉车", "曲臂车"]);
    if x.offer {
        let n = x.int(1, 8);
        let mut p = Post::new(format!("{syn}出租 {}米 {}台", num(h), n));
        p.desc.m(format!("{brand}{model}，作业高度{}米", num(h)));
        p.desc.m(format!("{}台可租", cn(n)));
        p.desc.o("厂房装修、钢构、设备安装用");
        p.desc.o("可送货上门");
        p.quantity = Some(Amount::new(n as f64, "台"));
        p.price = Some(day_rent(x, h * 25.0 + 80.0));
        p.s("equipment_type", syn);
        p.s("brand", brand);
        p.s("model", model);
        p.s("mode", "出租");
        p
    } else {
        let days = x.int(3, 30);
        let mut p = Post::new(format!("{}租{syn} {}米以上 {days}天", x.rush(), num(h)));
        p.desc.m(format!(
            "车间{}",
            x.pick(&["换灯", "管道改造", "钢结构刷漆", "行车检修"])
        ));
        p.desc.m(format!("需要{}米以上{syn}", num(h)));
        p.desc.m(format!("用{days}天左右"));
        p.quantity = Some(Amount::new(1.0, "台"));
        p.s("equipment_type", "高空作业平台");
        p.s("mode", "出租");
        p
    }
}

pub fn genset(x: &mut Ctx<'_>) -> Post {
    let (brand, kw) = x.pick(&[
        ("康明斯", 200.0),
        ("玉柴", 300.0),
        ("潍柴", 500.0),
        ("上柴", 150.0),
        ("康明斯", 800.0),
    ]);
    let syn = x.pick(&["发电机组", "柴油发电机", "发电机"]);
    if x.offer {
        let mut p = Post::new(format!("{}kW{syn}出租 {}", num(kw), x.nick()));
        p.desc.m(format!("{brand}{}kW静音{syn}", num(kw)));
        p.desc.m("停电检修、应急保电都可以");
        p.desc.o("带电缆和技术员");
        p.desc.o("24小时响应");
        p.price = Some(day_rent(x, kw * 4.0 + 300.0));
        p.quantity = Some(Amount::new(x.int(1, 3) as f64, "台"));
        p.s("equipment_type", "发电机组");
        p.s("brand", brand);
        p.s("mode", "出租");
        p
    } else {
        let day = x.int(0, 15) as i32;
        let mut p = Post::new(format!("{}租{syn} {}kW以上", x.rush(), num(kw)));
        p.desc.m(format!(
            "{}厂区{}",
            say_date(x.r, day),
            x.pick(&["线路改造要停电", "变压器检修停电", "电网限电"])
        ));
        p.desc.m(format!("需要{}kW以上{syn}保冷库和生产", num(kw)));
        p.desc.o("带人值守");
        p.quantity = Some(Amount::new(1.0, "台"));
        p.s("equipment_type", "发电机组");
        p.s("mode", "出租");
        p.window = Some((Some(day), Some(day + x.int(1, 5) as i32)));
        p
    }
}

pub fn textile_machine(x: &mut Ctx<'_>) -> Post {
    let (ty, syns, detail) = x.pick(&[
        (
            "倍捻机",
            &["倍捻机", "加捻机"][..],
            "涤纶FDY、DTY 150D及以下加捻",
        ),
        (
            "针织大圆机",
            &["大圆机", "针织圆机", "圆机"][..],
            "34寸单面，纬编汗布",
        ),
        (
            "喷水织机",
            &["喷水织机", "喷水机"][..],
            "190cm幅宽，织涤纶塔丝隆",
        ),
        ("剑杆织机", &["剑杆织机", "剑杆机"][..], "230cm幅宽，多臂"),
        ("加弹机", &["加弹机", "假捻机"][..], "DTY 75D-300D"),
    ]);
    let syn = x.pick(syns);
    let n = x.step(4, 60, 2);
    if x.offer {
        let mode = x.w(&[("代加工", 5), ("出售", 3)]);
        let mut p = Post::new(match mode {
            "代加工" => format!("{syn}{n}台 承接来料加工"),
            _ => format!("{syn}{n}台 整厂转让"),
        });
        p.desc.m(format!("有{syn}{n}台"));
        p.desc.m(detail);
        if mode == "出售" {
            p.desc.o("产能调整打包转让");
            p.price = Some(Amount::new((n as f64 * x.real(0.8, 3.0)).round(), "万元"));
        } else {
            p.desc.o(format!("{}，量大优先", x.nick()));
        }
        p.quantity = Some(Amount::new(n as f64, "台"));
        p.s("equipment_type", if x.p(0.7) { ty } else { syn });
        p.s("mode", mode);
        p
    } else {
        let mut p = Post::new(format!(
            "{}找{syn}代加工 {}",
            x.rush(),
            detail.split('，').next().unwrap_or(detail)
        ));
        p.desc.m(format!("订单多做不过来，找{syn}外发"));
        p.desc.m(detail);
        p.desc.o(format!("{}附近", x.nick()));
        p.s("equipment_type", ty);
        p.s("mode", "代加工");
        p
    }
}

pub fn film_blowing(x: &mut Ctx<'_>) -> Post {
    let w = x.pick(&[800.0, 1200.0, 1500.0, 2000.0]);
    if x.offer {
        let n = x.int(1, 4);
        let film = x.pick(&["PE", "LDPE", "LLDPE", "PE收缩膜", "PE平口袋"]);
        let mut p = Post::new(match x.int(0, 1) {
            0 => format!("{film}吹膜外协 {}台吹膜机有产能", cn(n)),
            _ => format!("吹膜机{}台 接{film}来料加工 {}", n, x.nick()),
        });
        p.desc.m(format!(
            "吹膜机{}台，最大折径{}毫米",
            cn(n),
            num((w * x.real(0.4, 0.5) / 10.0).round() * 10.0)
        ));
        p.desc.m(format!("{film}、缠绕膜基膜都能吹"));
        p.desc.o(x.pick(&[
            "原料可以客户提供",
            "可代买2426H、7042原料",
            "印刷分切一条龙",
        ]));
        p.desc.o(format!("{}厂里加工", x.nick()));
        p.quantity = Some(Amount::new(n as f64, "台"));
        p.s("equipment_type", "吹膜机");
        p.s("mode", "代加工");
        p
    } else {
        let t = x.int(3, 40);
        let mut p = Post::new(format!("{}PE膜{t}吨 找吹膜外协", x.rush()));
        p.desc.m(format!("包装用PE膜{t}吨"));
        p.desc
            .m(format!("幅宽{}毫米，厚度{}丝", num(w), x.int(3, 12)));
        p.desc.o("料我们提供");
        p.quantity = Some(crate::text::mass_qty(x.r, t as f64));
        p.s("equipment_type", "吹膜机");
        p.s("mode", "代加工");
        p
    }
}

pub fn lab_instrument(x: &mut Ctx<'_>) -> Post {
    let (ty, brand, model, synonym) = x.pick(&[
        ("荧光定量PCR仪", "ABI", "7500", "qPCR"),
        ("荧光定量PCR仪", "宏石", "SLAN-96S", "实时荧光定量仪"),
        ("荧光定量PCR仪", "伯乐", "CFX96", "qPCR"),
        ("核酸提取仪", "", "32通道", "全自动提取仪"),
        ("盐雾试验箱", "", "YWX-150", "盐雾箱"),
        ("三坐标测量机", "海克斯康", "Global S 07.10.07", "三坐标"),
        ("万能材料试验机", "", "WDW-10", "拉力机"),
        ("高低温试验箱", "", "GDW-225", "高低温箱"),
    ]);
    let syn = if x.p(0.5) { synonym } else { ty };
    if x.offer {
        let mode = x.w(&[("出租", 4), ("出售", 4), ("共享机时", 1)]);
        let n = x.int(1, 3);
        let mut p = Post::new(match mode {
            "出租" => format!("{brand} {model} {}台 闲置可出租", cn(n)),
            "出售" => format!("实验室淘汰{syn} 低价转让"),
            _ => format!("{syn}机时共享 按小时"),
        });
        p.desc
            .m(format!("{brand} {model} {syn}").trim_start().to_string());
        p.desc.m(x.pick(&[
            "计量校准证书还在有效期",
            "实验室更新设备换下来的",
            "能正常使用",
            "去年新买的用得少",
        ]));
        match mode {
            "出租" => {
                p.desc.o("有资质的实验室可短租");
                p.desc.o("负责上门装机调试");
                p.price = Some(match x.int(0, 1) {
                    0 => Amount::new(x.step(300, 1200, 50) as f64, "元/台/天"),
                    _ => Amount::new(x.step(3000, 15000, 500) as f64, "元/台/月"),
                });
            }
            "出售" => {
                p.price = Some({
                    let v = x.real(0.8, 25.0);
                    sale_price(x, v)
                })
            }
            _ => p.price = Some(Amount::new(x.step(50, 300, 10) as f64, "元/小时")),
        }
        p.quantity = Some(Amount::new(n as f64, "台"));
        p.s("equipment_type", ty);
        if !brand.is_empty() {
            p.s("brand", brand);
        }
        p.s("model", model);
        p.s("mode", mode);
        p
    } else {
        let n = x.int(1, 2);
        let mode = x.w(&[("出租", 3), ("出售", 2)]);
        let mut p = Post::new(format!(
            "{}{} {}{syn}",
            x.rush(),
            if mode == "出租" { "想租" } else { "求购" },
            cn(n)
        ));
        p.desc.m(format!(
            "{}，{}{}台{syn}",
            x.pick(&["实验室扩项", "质量部新增检测项目", "客户要求来料全检"]),
            if mode == "出租" { "想租" } else { "想买" },
            cn(n)
        ));
        if !brand.is_empty() {
            p.desc.o(format!("{brand}或同档次都行"));
        }
        p.desc.o("先用三个月");
        p.quantity = Some(Amount::new(n as f64, "台"));
        p.s("equipment_type", ty);
        p.s("mode", mode);
        p
    }
}

pub fn mask_machine(x: &mut Ctx<'_>) -> Post {
    let (ty, spec, speed) = x.pick(&[
        ("KN95口罩机", "一拖二全自动线", 60),
        ("平面口罩机", "一拖一全自动线", 120),
        ("平面口罩机", "一拖二全自动线", 200),
    ]);
    if x.offer {
        let mut p = Post::new(match x.int(0, 2) {
            0 => format!("{ty} {spec} 闲置出售"),
            1 => format!(
                "低价处理{ty} {} {}",
                x.pick(&["九成新", "能正常生产", "带超声波焊接"]),
                x.nick()
            ),
            _ => format!("二手{ty}转让 每分钟{speed}只"),
        });
        p.desc.m(format!("{ty}{spec}"));
        p.desc.m(format!("产能每分钟约{speed}片"));
        p.desc.o("防疫物资需求下来后一直停着");
        p.desc.o("欢迎来厂看机");
        p.quantity = Some(Amount::new(1.0, "套"));
        p.price = Some({
            let v = x.real(3.0, 15.0);
            sale_price(x, v)
        });
        p.s("equipment_type", "口罩机");
        p.s("mode", "出售");
        p
    } else {
        let mut p = Post::new(format!("{}求购二手{ty}", x.rush()));
        p.desc.m(format!("求购{ty}，{spec}"));
        p.desc.m("要能正常生产的");
        p.desc.o("带超声波焊接");
        p.quantity = Some(Amount::new(1.0, "套"));
        p.s("equipment_type", "口罩机");
        p.s("mode", "出售");
        p
    }
}
