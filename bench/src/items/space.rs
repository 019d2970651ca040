//! Factory floor, warehouses, cold stores and offices.

use super::{Ctx, Post};
use crate::text::{Amount, area_qty, area_text, mass_qty, mass_text, num, rent_price, say_month};

fn area(x: &mut Ctx<'_>, lo: i64, hi: i64) -> f64 {
    let step = if hi > 3000 { 100 } else { 50 };
    x.step(lo, hi, step) as f64
}

fn road(x: &mut Ctx<'_>) -> &'static str {
    let c = x.c;
    x.r.pick(c.roads)
}

pub fn factory(x: &mut Ctx<'_>) -> Post {
    let a = area(x, 300, 12000);
    let floor = if a > 3000.0 || x.p(0.6) {
        1
    } else {
        x.int(2, 5)
    };
    let height = if floor == 1 {
        x.pick(&[6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0])
    } else {
        x.pick(&[4.0, 4.5, 5.0, 5.5])
    };
    let load = if floor == 1 {
        x.pick(&[2.0, 3.0, 5.0, 8.0])
    } else {
        x.pick(&[0.5, 0.8, 1.0])
    };
    let kva = x.pick(&[
        100.0, 200.0, 250.0, 315.0, 400.0, 630.0, 800.0, 1000.0, 1250.0, 2000.0,
    ]);
    let crane = if floor == 1 && x.p(0.35) {
        Some(x.pick(&[3.0, 5.0, 10.0, 16.0, 20.0, 32.0]))
    } else {
        None
    };
    let fire = x.w(&[("丙", 6), ("丁", 3), ("戊", 1)]);
    let syn = x.pick(&["厂房", "车间", "标准厂房", "单层厂房", "生产车间"]);
    let at = area_text(x.r, a);
    let nick = x.nick();
    let rent = x.step(12, 38, 1) as f64;
    if x.offer {
        let rd = road(x);
        let mut p = Post::new(match x.int(0, 4) {
            0 => format!(
                "{syn}出租 {at} {}",
                if floor == 1 { "一层" } else { "楼上" }
            ),
            1 => format!("{nick} {syn}{at}出租 层高{}米", num(height)),
            2 => format!("{rd} {}楼{syn}{at}出租", floor),
            3 => format!("厂房转租 {at} 可分租"),
            _ => format!("{nick}新建{syn}{at} 整租/分租"),
        });
        p.desc.m(format!(
            "{rd}，{}{}",
            if floor == 1 {
                "单层".to_string()
            } else {
                format!("{floor}楼")
            },
            at
        ));
        p.desc.m(format!("层高{}米", num(height)));
        if let Some(c) = crane {
            p.desc.m(format!(
                "{}吨{}已装",
                num(c),
                x.pick(&["行车", "天车", "桥吊"])
            ));
        }
        p.desc.o(format!("地坪{}吨/平", num(load)));
        p.desc.o(format!("{}kVA", num(kva)));
        if floor > 1 {
            p.desc.o(format!("{}吨货梯", x.pick(&[2, 3, 5])));
        }
        p.desc.o(x.pick(&[
            "之前是机加工车间，环氧地坪",
            "独门独院",
            "有货车通道",
            "可办环评",
            "本厂搬迁，剩余租期可谈",
        ]));
        p.quantity = Some(area_qty(x.r, a));
        p.price = Some(rent_price(x.r, rent));
        p.f("area_m2", a);
        if x.p(0.8) {
            p.f("ceiling_height_m", height);
        }
        if x.p(0.6) {
            p.f("floor_load_t_per_m2", load);
        }
        if x.p(0.7) {
            p.f("power_kva", kva);
        }
        if let Some(c) = crane {
            p.f("crane_t", c);
        }
        p.i("floor", floor);
        p.s("usage", "生产");
        if x.p(0.8) {
            p.s("fire_class", fire);
        }
        p
    } else {
        let lo = (a * 0.7 / 50.0).round() * 50.0;
        let hi = (a * 1.3 / 50.0).round() * 50.0;
        let purpose = x.pick(&[
            "放加工中心",
            "上压力机线",
            "做装配",
            "放注塑机",
            "新项目落地",
            "扩产",
        ]);
        let start = x.int(10, 120) as i32;
        let mut p = Post::new(match x.int(0, 2) {
            0 => format!("{}求{syn}{}-{}平 {purpose}", x.rush(), num(lo), num(hi)),
            1 => format!("{}找单层车间{at} {nick}附近", x.rush()),
            _ => format!("{}租{syn}{at}左右 {}", x.rush(), purpose),
        });
        p.desc.m(purpose.to_string());
        p.desc.m(format!("要{syn}{}左右", at));
        if floor == 1 {
            p.desc.m("一楼");
        }
        if let Some(c) = crane {
            p.desc.o(format!("天车{}吨以上", num(c)));
        }
        p.desc.o(format!("电量{}kVA以上", num(kva)));
        p.desc.o(format!("{}进场", say_month(start)));
        p.desc.o(format!("{nick}附近"));
        p.desc.o("租一年以上");
        p.quantity = Some(area_qty(x.r, a));
        if x.p(0.4) {
            p.price = Some(rent_price(x.r, rent));
        }
        p.f("area_m2", a);
        if floor == 1 {
            p.i("floor", 1);
        }
        if let Some(c) = crane {
            p.f("crane_t", c);
        }
        if x.p(0.5) {
            p.f("power_kva", kva);
        }
        p.s("usage", "生产");
        p.window = Some((Some(start), None));
        p
    }
}

pub fn warehouse(x: &mut Ctx<'_>) -> Post {
    let a = area(x, 200, 15000);
    let floor = if x.p(0.75) { 1 } else { x.int(2, 4) };
    let height = if floor == 1 {
        x.pick(&[7.0, 8.0, 9.0, 10.0, 12.0])
    } else {
        x.pick(&[4.5, 5.0, 6.0])
    };
    let fire = x.w(&[("丙", 8), ("丁", 2), ("戊", 2)]);
    let syn = if floor == 1 {
        x.pick(&["仓库", "库房", "平库", "高台库", "物流仓库"])
    } else {
        x.pick(&["仓库", "库房", "楼库"])
    };
    let at = area_text(x.r, a);
    let nick = x.nick();
    let rent = x.step(15, 35, 1) as f64;
    if x.offer {
        let rd = road(x);
        let free_from: i32 = x.w(&[(0, 6), (10, 1), (40, 1), (160, 1)]);
        let mut p = Post::new(match x.int(0, 3) {
            0 => format!("{rd} 标准{syn}{at}出租"),
            1 => format!("{nick} {syn}{at} {}类 可分租", fire),
            2 if free_from > 30 => format!("{syn}{at} {}空出", say_month(free_from)),
            _ => format!("{syn}出租 {at} 一楼 集卡可进"),
        });
        p.desc.m(format!(
            "{}，{}{}",
            if floor == 1 { "一楼平库" } else { "楼库" },
            at,
            if floor == 1 { "" } else { "，有货梯" }
        ));
        p.desc.m(format!("层高{}米，{}类", num(height), fire));
        p.desc.o(x.pick(&[
            "带卸货平台",
            "提供装卸和叉车",
            "24小时安保",
            "可提供仓配一体",
        ]));
        if free_from > 30 {
            p.desc.o(format!("{}原租户到期", say_month(free_from)));
        } else {
            p.desc.o("随时可看");
        }
        p.quantity = Some(area_qty(x.r, a));
        p.price = Some(rent_price(x.r, rent));
        p.f("area_m2", a);
        if x.p(0.7) {
            p.f("ceiling_height_m", height);
        }
        if floor == 1 && x.p(0.4) {
            p.f("floor_load_t_per_m2", x.pick(&[2.0, 3.0, 5.0]));
        }
        p.i("floor", floor);
        p.s("usage", "仓储");
        p.s("fire_class", fire);
        p.window = Some((
            Some(free_from),
            x.p(0.5).then(|| free_from + x.int(180, 1100) as i32),
        ));
        p
    } else {
        let lo = (a * 0.8 / 100.0).round().max(1.0) * 100.0;
        let hi = (a * 1.3 / 100.0).round().max(2.0) * 100.0;
        let goods = x.pick(&[
            "塑料粒子",
            "箱包成品",
            "改性料",
            "纺织品",
            "家电成品",
            "五金件",
            "纸箱",
        ]);
        let start = x.int(0, 60) as i32;
        let months = x.pick(&[3, 6, 12, 24]);
        let mut p = Post::new(match x.int(0, 2) {
            0 => format!("{}求租{syn}{}-{}平 放{goods}", x.rush(), num(lo), num(hi)),
            1 => format!("{}短租{syn}{}个月 {at}", x.rush(), months),
            _ => format!("{}{nick}附近 租{syn}{at}", x.rush()),
        });
        p.desc.m(format!("放{goods}"));
        p.desc.m(format!("需要{at}左右"));
        if floor == 1 {
            p.desc.m("一楼能进集卡");
        } else {
            p.desc.m("楼上也可以，得有货梯");
        }
        p.desc.o(format!("{}类就行", fire));
        p.desc.o(format!("租{months}个月"));
        p.desc.o(format!("预算{}元/平/月以内", num(rent)));
        p.quantity = Some(area_qty(x.r, a));
        if x.p(0.4) {
            p.price = Some(rent_price(x.r, rent));
        }
        p.f("area_m2", a);
        if floor == 1 && x.p(0.6) {
            p.i("floor", 1);
        }
        p.s("usage", "仓储");
        if x.p(0.6) {
            p.s("fire_class", fire);
        }
        p.window = Some((Some(start), Some(start + months * 30)));
        p
    }
}

pub fn cold_store(x: &mut Ctx<'_>) -> Post {
    // 0~4 ℃ chill rooms cannot take frozen goods: a classic decoy.
    let (label, temp, frozen) = x.pick(&[
        ("低温冷冻库", "-25℃", true),
        ("冷冻库", "-18℃~-22℃", true),
        ("冻库", "-18℃", true),
        ("超低温库", "-35℃", true),
        ("保鲜库", "0~4℃", false),
        ("冷藏库", "0~5℃", false),
    ]);
    let goods = if frozen {
        x.pick(&["冻肉", "水产", "冻虾", "速冻食品", "冻品"])
    } else {
        x.pick(&["果蔬", "乳品", "巧克力", "鲜花", "药品"])
    };
    let by_tonnes = x.p(0.45);
    let nick = x.nick();
    if x.offer {
        let mut p = if by_tonnes {
            let t = x.step(100, 5000, 50) as f64;
            let tt = mass_text(x.r, t);
            let mut p = Post::new(format!("{nick} {temp}{label} 库容{tt} 有空位"));
            p.desc.m(format!("{label}，{temp}"));
            p.desc.m(format!("{goods}都能存"));
            p.desc.m("按吨·天收费");
            p.desc.o("可代理货");
            p.desc.o("还有部分库位");
            p.quantity = Some(mass_qty(x.r, t));
            p.price = Some(Amount::new(x.real(1.5, 4.5), "元/吨/天"));
            p
        } else {
            let a = x.step(100, 3000, 50) as f64;
            let at = area_text(x.r, a);
            let mut p = Post::new(format!("{}{label} {at} 对外", nick));
            p.desc.m(format!("库温{temp}"));
            p.desc.m(format!("{goods}都可以放"));
            if !frozen {
                p.desc.m("冻品放不了");
            }
            p.desc
                .o(x.pick(&["有海关监管资质", "带月台", "可按托位计费"]));
            p.quantity = Some(area_qty(x.r, a));
            p.price = Some(Amount::new(x.step(60, 130, 5) as f64, "元/平方米/月"));
            p.f("area_m2", a);
            p
        };
        p.s("usage", "冷库");
        if x.p(0.5) {
            p.i("floor", 1);
        }
        p
    } else {
        let t = x.step(20, 800, 10) as f64;
        let tt = mass_text(x.r, t);
        let until = x.int(30, 150) as i32;
        let mut p = Post::new(format!(
            "{}{goods}找{} 约{tt}",
            x.rush(),
            if frozen { "冻库" } else { "冷藏库" }
        ));
        p.desc.m(format!("{goods}近期到货"));
        p.desc.m(format!("大概{tt}"));
        p.desc.m(format!(
            "要{}的库位",
            if frozen {
                "零下18度以下"
            } else {
                "0到4度"
            }
        ));
        p.desc.o(format!("放到{}", say_month(until)));
        p.desc.o(format!("{nick}范围"));
        p.desc.o("按吨计费优先");
        p.quantity = Some(mass_qty(x.r, t));
        p.s("usage", "冷库");
        p.window = Some((Some(x.int(0, 20) as i32), Some(until)));
        p
    }
}

pub fn haz_warehouse(x: &mut Ctx<'_>) -> Post {
    // 甲类 goods need a 甲类 store; 乙/丙 offered for them is a decoy.
    let fire = x.w(&[("甲", 5), ("乙", 3), ("丙", 1)]);
    let goods = match fire {
        "甲" => x.pick(&["乙酸乙酯", "甲醇", "丙酮", "3类易燃液体"]),
        "乙" => x.pick(&["冰醋酸", "硫磺", "油漆"]),
        _ => x.pick(&["润滑油", "塑料粒子", "纺织品"]),
    };
    let a = x.step(100, 1500, 50) as f64;
    let at = area_text(x.r, a);
    if x.offer {
        let mut p = Post::new(format!(
            "{fire}类{} {at} 可存{goods}",
            x.pick(&["危险品仓库", "危化品仓库", "仓库"])
        ));
        p.desc.m(format!("{}配套{fire}类库", x.nick()));
        p.desc.m(x.pick(&[
            "防爆照明+可燃气体报警",
            "已通过消防验收",
            "有危化品仓储资质",
        ]));
        p.desc.m(format!("可存{goods}（桶装）"));
        p.desc.o("需提供MSDS");
        p.quantity = Some(area_qty(x.r, a));
        p.price = Some(Amount::new(x.step(40, 90, 5) as f64, "元/平方米/月"));
        p.f("area_m2", a);
        p.s("usage", "仓储");
        p.s("fire_class", fire);
        p.i("floor", 1);
        p
    } else {
        let t = x.step(10, 200, 5) as f64;
        let tt = mass_text(x.r, t);
        let mut p = Post::new(format!("{}找{fire}类仓库 存{goods}", x.rush()));
        p.desc.m(format!("{goods}约{tt}"));
        p.desc.m(x.pick(&["200L铁桶装", "IBC吨桶装", "桶装"]));
        p.desc.m(format!("需要{fire}类库{}左右", at));
        p.desc.o(format!("{}附近最好", x.nick()));
        p.desc.o("有危化品仓储资质的联系");
        p.quantity = Some(mass_qty(x.r, t));
        p.f("area_m2", a);
        p.s("usage", "仓储");
        p.s("fire_class", fire);
        p
    }
}

pub fn cleanroom(x: &mut Ctx<'_>) -> Post {
    let class = x.pick(&["十万级", "万级", "10万级", "ISO8级", "ISO7级", "千级"]);
    let a = x.step(200, 3000, 20) as f64;
    let at = area_text(x.r, a);
    let syn = x.pick(&["无尘车间", "净化车间", "洁净厂房", "无尘室"]);
    let kva = x.pick(&[200.0, 250.0, 315.0, 400.0, 630.0]);
    if x.offer {
        let mut p = Post::new(format!("{syn}转租 约{at}（{class}）"));
        p.desc.m(format!("{}，{class}{syn}", road(x)));
        p.desc
            .m(x.pick(&["带风淋室和更衣间", "恒温22±2℃", "配空压气源"]));
        p.desc.o("原设备已搬走");
        p.desc.o("适合电子组装、医疗器械类");
        p.quantity = Some(area_qty(x.r, a));
        p.price = Some({
            let v = x.step(35, 70, 1) as f64;
            rent_price(x.r, v)
        });
        p.f("area_m2", a);
        p.s("usage", "生产");
        if x.p(0.5) {
            p.f("power_kva", kva);
        }
        p.i("floor", x.int(1, 3));
        p
    } else {
        let start = x.int(20, 90) as i32;
        let purpose = x.pick(&[
            "SMT贴片",
            "医疗耗材包装",
            "光学组装",
            "锂电池模组",
            "芯片封测",
        ]);
        let mut p = Post::new(match x.int(0, 1) {
            0 => format!("{}{purpose}项目 求{class}{syn}{at}", x.rush()),
            _ => format!("{}租{syn} {at}左右 做{purpose}", x.rush()),
        });
        p.desc.m(format!("新上{purpose}项目，需要{class}{syn}"));
        p.desc.m(format!("{at}上下"));
        p.desc.o(format!("{}附近", x.nick()));
        p.desc.o(format!("{}前进场", say_month(start)));
        p.quantity = Some(area_qty(x.r, a));
        p.f("area_m2", a);
        p.s("usage", "生产");
        p.window = Some((Some(start), None));
        p
    }
}

pub fn office(x: &mut Ctx<'_>) -> Post {
    let a = x.step(40, 800, 10) as f64;
    let at = area_text(x.r, a);
    let floor = x.int(1, 12);
    if x.offer {
        let mut p = Post::new(format!("{} 办公室出租 {at} 拎包入住", x.nick()));
        p.desc.m(format!("{}，{floor}楼办公室{at}", road(x)));
        p.desc
            .m(x.pick(&["精装修带家具", "有会议室", "可注册公司", "配食堂"]));
        p.desc.o("园区内停车方便");
        p.quantity = Some(area_qty(x.r, a));
        p.price = Some({
            let v = x.step(25, 60, 1) as f64;
            rent_price(x.r, v)
        });
        p.f("area_m2", a);
        p.i("floor", floor);
        p.s("usage", "办公");
        p
    } else {
        let mut p = Post::new(format!("{}求租办公室{at}左右", x.rush()));
        p.desc.m(format!("{}人团队", x.int(5, 60)));
        p.desc.m(format!("需要办公室{at}左右"));
        p.desc.o(format!("{}园区内最好", x.nick()));
        p.quantity = Some(area_qty(x.r, a));
        p.f("area_m2", a);
        p.s("usage", "办公");
        p
    }
}
