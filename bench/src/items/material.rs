//! Raw material, surplus stock, scrap and packaging.

use super::{Ctx, Post};
use crate::text::{Amount, mass_qty, mass_text, say_date};

/// A grade of a bulk material: attribute name, spoken names, grade, producer
/// words, use, price range in 元/吨, packaging.
#[derive(Debug, Clone, Copy)]
struct Grade {
    name: &'static str,
    spoken: &'static [&'static str],
    grade: &'static str,
    grade_spoken: &'static [&'static str],
    makers: &'static [&'static str],
    uses: &'static [&'static str],
    price: (i64, i64),
    packaging: &'static [&'static str],
}

const PLASTICS: &[Grade] = &[
    Grade {
        name: "聚丙烯",
        spoken: &["PP", "均聚PP", "聚丙烯", "拉丝级均聚PP"],
        grade: "T30S",
        grade_spoken: &["T30S", "T30S", "拉丝料T30S"],
        makers: &["镇海炼化", "宁波富德", "浙石化", "中韩石化"],
        uses: &["编织袋", "注塑", "拉丝"],
        price: (7200, 7900),
        packaging: &["25kg袋", "25kg原包"],
    },
    Grade {
        name: "聚丙烯",
        spoken: &["共聚PP", "PP", "抗冲共聚PP"],
        grade: "K8003",
        grade_spoken: &["K8003", "K8003"],
        makers: &["燕山石化", "上海石化", "扬子石化"],
        uses: &["注塑", "周转箱", "家电件"],
        price: (7700, 8400),
        packaging: &["25kg袋"],
    },
    Grade {
        name: "聚丙烯",
        spoken: &["共聚PP", "PP"],
        grade: "K8303",
        grade_spoken: &["K8303"],
        makers: &["燕山石化", "镇海炼化"],
        uses: &["注塑", "汽车件"],
        price: (7800, 8500),
        packaging: &["25kg袋"],
    },
    Grade {
        name: "聚丙烯",
        spoken: &["透明PP", "PP"],
        grade: "M800E",
        grade_spoken: &["M800E"],
        makers: &["上海石化"],
        uses: &["透明件", "注塑"],
        price: (8200, 8900),
        packaging: &["25kg袋"],
    },
    Grade {
        name: "ABS",
        spoken: &["ABS", "ABS粒子", "通用ABS"],
        grade: "PA-757",
        grade_spoken: &["757", "PA-757", "奇美757", "PA757"],
        makers: &["奇美", "镇江奇美"],
        uses: &["家电外壳", "注塑", "玩具"],
        price: (10500, 12800),
        packaging: &["25kg袋"],
    },
    Grade {
        name: "ABS",
        spoken: &["ABS", "高光ABS"],
        grade: "PA-747S",
        grade_spoken: &["747S", "PA-747S"],
        makers: &["奇美"],
        uses: &["家电外壳", "电子外壳"],
        price: (11500, 13500),
        packaging: &["25kg袋"],
    },
    Grade {
        name: "ABS",
        spoken: &["ABS"],
        grade: "AG15A1",
        grade_spoken: &["AG15A1", "台化AG15A1"],
        makers: &["宁波台化"],
        uses: &["注塑", "小家电"],
        price: (10200, 12000),
        packaging: &["25kg袋"],
    },
    Grade {
        name: "低密度聚乙烯",
        spoken: &["LDPE", "高压膜料", "低密度聚乙烯"],
        grade: "2426H",
        grade_spoken: &["2426H", "2426H膜料"],
        makers: &["茂名石化", "上海石化", "扬子巴斯夫"],
        uses: &["吹膜", "包装膜"],
        price: (9000, 10200),
        packaging: &["25kg袋"],
    },
    Grade {
        name: "线性低密度聚乙烯",
        spoken: &["LLDPE", "线性", "7042"],
        grade: "7042",
        grade_spoken: &["7042", "DFDA-7042"],
        makers: &["镇海炼化", "扬子石化"],
        uses: &["吹膜", "缠绕膜"],
        price: (8000, 8700),
        packaging: &["25kg袋"],
    },
    Grade {
        name: "高密度聚乙烯",
        spoken: &["HDPE", "高密度聚乙烯"],
        grade: "5000S",
        grade_spoken: &["5000S"],
        makers: &["扬子石化", "大庆石化"],
        uses: &["拉丝", "吹塑"],
        price: (8700, 9400),
        packaging: &["25kg袋"],
    },
    Grade {
        name: "聚碳酸酯",
        spoken: &["PC", "聚碳酸酯"],
        grade: "2805",
        grade_spoken: &["2805", "科思创2805"],
        makers: &["科思创", "上海科思创"],
        uses: &["灯罩", "电子外壳"],
        price: (14500, 18000),
        packaging: &["25kg袋"],
    },
    Grade {
        name: "尼龙66",
        spoken: &["PA66", "尼龙66", "PA66加纤"],
        grade: "PA66 GF30",
        grade_spoken: &["GF30", "加纤30%", "PA66-GF30"],
        makers: &["神马", "改性厂"],
        uses: &["汽车件", "电器件"],
        price: (19000, 26000),
        packaging: &["25kg袋"],
    },
    Grade {
        name: "聚甲醛",
        spoken: &["POM", "聚甲醛", "赛钢"],
        grade: "M90",
        grade_spoken: &["M90", "M90-44"],
        makers: &["云天化", "宝理"],
        uses: &["齿轮", "卡扣"],
        price: (11000, 14500),
        packaging: &["25kg袋"],
    },
];

fn bulk_offer(x: &mut Ctx<'_>, g: &Grade, lo: i64, hi: i64) -> Post {
    let t = x.step(lo, hi, if hi > 50 { 5 } else { 1 }) as f64;
    let spoken = x.pick(g.spoken);
    let grade = x.pick(g.grade_spoken);
    let maker = x.pick(g.makers);
    let tt = mass_text(x.r, t);
    let nick = x.nick();
    let mut p = Post::new(match x.int(0, 3) {
        0 => format!("{spoken} {grade} 现货{tt}"),
        1 => format!("{maker}{grade} 余料{tt}"),
        2 => format!("{grade} {spoken} {}级 {tt}", x.pick(g.uses)),
        _ => format!("出{spoken}{grade} {tt} {nick}自提"),
    });
    p.desc.m(format!("{maker}{grade}"));
    p.desc.m(format!("{}用", x.pick(g.uses)));
    p.desc.m(format!(
        "{tt}{}",
        x.pick(&["现货", "库存", "原包", "订单取消多出来的"])
    ));
    p.desc.o(format!("{nick}仓库可提"));
    p.desc.o("量大可送");
    p.desc.o("价格可谈");
    p.quantity = Some(mass_qty(x.r, t));
    if x.p(0.75) {
        p.price = Some({
            let v = x.step(g.price.0, g.price.1, 50) as f64;
            price_per_t(x, v)
        });
    }
    p.s("material_name", g.name);
    if x.p(0.9) {
        p.s("grade", g.grade);
    }
    if x.p(0.6) {
        p.s("packaging", x.pick(g.packaging));
    }
    p
}

fn bulk_request(x: &mut Ctx<'_>, g: &Grade, lo: i64, hi: i64) -> Post {
    let t = x.step(lo, hi, if hi > 50 { 5 } else { 1 }) as f64;
    let spoken = x.pick(g.spoken);
    let grade = x.pick(g.grade_spoken);
    let tt = mass_text(x.r, t);
    let rush = x.rush();
    let monthly = x.p(0.25);
    let mut p = Post::new(match (monthly, x.int(0, 2)) {
        (true, _) => format!("{rush}{spoken}长期采购 每月{tt}"),
        (false, 0) => format!("{rush}求购{spoken} {grade} {tt}"),
        (false, 1) => format!("{rush}采购{grade} {tt}"),
        _ => format!("{rush}收{spoken} {grade}或同等级 {tt}"),
    });
    p.desc.m(format!("{}用{spoken}", x.pick(g.uses)));
    p.desc.m(format!("{grade}或同等级都可以"));
    p.desc.m(if monthly {
        format!("每月{tt}左右")
    } else {
        tt.clone()
    });
    let day = x.int(3, 40) as i32;
    p.desc
        .o(format!("{}前送到{}", say_date(x.r, day), x.nick()));
    p.desc.o("要原包新料");
    p.desc.o("月结");
    p.quantity = Some(mass_qty(x.r, t));
    if x.p(0.4) {
        p.price = Some({
            let v = x.step(g.price.0, g.price.1, 50) as f64;
            price_per_t(x, v)
        });
    }
    p.s("material_name", g.name);
    if x.p(0.8) {
        p.s("grade", g.grade);
    }
    p.window = Some((Some(x.int(0, 10).min(i64::from(day)) as i32), Some(day)));
    p
}

fn price_per_t(x: &mut Ctx<'_>, yuan_per_t: f64) -> Amount {
    match x.int(0, 9) {
        0 => Amount::new(yuan_per_t / 1000.0, "元/公斤"),
        1 => Amount::new(yuan_per_t / 1000.0, "元/kg"),
        _ => Amount::new(yuan_per_t, "元/吨"),
    }
}

pub fn plastic_virgin(x: &mut Ctx<'_>) -> Post {
    let g = *x.r.pick_ref(PLASTICS);
    if x.offer {
        bulk_offer(x, &g, 2, 60)
    } else {
        bulk_request(x, &g, 3, 80)
    }
}

pub fn plastic_recycled(x: &mut Ctx<'_>) -> Post {
    let (name, spoken, colour) = x.pick(&[
        (
            "ABS破碎料",
            &["ABS水口料", "ABS破碎料", "ABS回料"][..],
            &["白色", "黑色", "本色"][..],
        ),
        (
            "PP再生颗粒",
            &["PP再生料", "PP回料", "PP再生颗粒"][..],
            &["黑色", "杂色", "本色"][..],
        ),
        (
            "LDPE再生料",
            &["LDPE再生料", "PE回料", "膜料再生颗粒"][..],
            &["透明偏黄", "本色"][..],
        ),
        (
            "PC粉碎料",
            &["PC水口料", "PC粉碎料"][..],
            &["透明", "白色"][..],
        ),
        ("PET瓶片", &["PET瓶片", "瓶片"][..], &["白色", "蓝白"][..]),
    ]);
    let sp = x.pick(spoken);
    let col = x.pick(colour);
    let t = x.int(1, 20) as f64;
    let tt = mass_text(x.r, t);
    if x.offer {
        let nick = x.nick();
        let mut p = Post::new(format!("{col}{sp} {tt}左右 {nick}"));
        p.desc.m(format!("注塑下来的{col}{sp}"));
        p.desc
            .m(x.pick(&["已粉碎", "干净无杂", "已造粒", "按颜色分好了"]));
        p.desc.m(format!("约{tt}"));
        p.desc.o("便宜处理");
        p.desc.o(format!("{nick}自提"));
        p.quantity = Some(mass_qty(x.r, t));
        p.price = x
            .p(0.7)
            .then(|| Amount::new(x.step(2500, 8000, 100) as f64, "元/吨"));
        p.s("material_name", name);
        if x.p(0.5) {
            p.s("packaging", x.pick(&["吨袋", "编织袋", "25kg袋"]));
        }
        p
    } else {
        let mut p = Post::new(format!("{}收{col}{sp} 几吨都要", x.rush()));
        p.desc.m(format!("长期收{col}{sp}"));
        p.desc.m("干净的价格好说");
        p.desc.o(format!("{}自己去拉", x.nick()));
        p.quantity = Some(mass_qty(x.r, t));
        p.s("material_name", name);
        p
    }
}

pub fn aluminium(x: &mut Ctx<'_>) -> Post {
    // ADC12, 日标12#, YL113 and 12号铝 are one alloy under different names.
    let (name, grade, spoken, price) = x.pick(&[
        (
            "铝合金锭",
            "ADC12",
            &["ADC12", "日标12#", "YL113", "12号铝锭", "ADC12铝锭"][..],
            (18500, 21000),
        ),
        (
            "铝合金锭",
            "A356.2",
            &["A356", "A356.2铝锭"][..],
            (19500, 22500),
        ),
        (
            "铝合金锭",
            "AlSi9Cu3",
            &["AlSi9Cu3", "226铝锭"][..],
            (18000, 20500),
        ),
        (
            "铝合金回炉料",
            "ADC12",
            &["ADC12浇口料", "压铸渣包", "铝回炉料"][..],
            (12000, 14500),
        ),
    ]);
    let sp = x.pick(spoken);
    let t = x.step(3, 60, 1) as f64;
    let tt = mass_text(x.r, t);
    if x.offer {
        let mut p = Post::new(format!("{sp} 现货{tt}"));
        if name == "铝合金回炉料" {
            p.desc.m(format!("压铸件的{sp}、废品件"));
            p.desc.m(format!("约{tt}，可回炉"));
            p.desc.o("按铝废料价走");
        } else {
            p.desc.m(if sp.ends_with("铝锭") {
                format!("{sp}（再生）")
            } else {
                format!("{sp}再生铝锭")
            });
            p.desc.m("随货附材质证明和光谱单");
            p.desc.m(format!("{tt}现货"));
            p.desc.o("宁波周边可送到厂");
        }
        p.desc.o(format!("{}自提", x.nick()));
        p.quantity = Some(mass_qty(x.r, t));
        p.price = Some(Amount::new(x.step(price.0, price.1, 100) as f64, "元/吨"));
        p.s("material_name", name);
        p.s("grade", grade);
        if x.p(0.4) {
            p.s("packaging", "约1吨/捆");
        }
        p
    } else {
        let day = x.int(5, 30) as i32;
        let mut p = Post::new(format!(
            "{}采购{sp}铝合金锭{tt} {}到厂",
            x.rush(),
            say_date(x.r, day)
        ));
        p.desc.m(format!("压铸用{sp}"));
        p.desc.m(tt.clone());
        p.desc.m("要有质保书");
        p.desc
            .o(format!("{}前送到{}", say_date(x.r, day), x.nick()));
        p.desc.o("付款方式可谈");
        p.quantity = Some(mass_qty(x.r, t));
        if x.p(0.5) {
            p.price = Some(Amount::new(x.step(price.0, price.1, 100) as f64, "元/吨"));
        }
        p.s("material_name", "铝合金锭");
        p.s("grade", grade);
        p.window = Some((Some(0), Some(day)));
        p
    }
}

pub fn steel(x: &mut Ctx<'_>) -> Post {
    let (name, grade, spoken, price) = x.pick(&[
        (
            "冷轧钢板",
            "SPCC",
            &["SPCC冷轧卷", "冷板", "冷轧板", "SPCC"][..],
            (4000, 4700),
        ),
        (
            "热轧卷板",
            "Q235B",
            &["热卷", "Q235B热轧卷", "热轧板"][..],
            (3500, 4100),
        ),
        (
            "镀锌板",
            "DX51D+Z",
            &["镀锌卷", "DX51D镀锌板", "白铁皮"][..],
            (4500, 5300),
        ),
        (
            "不锈钢板",
            "304 2B",
            &["304不锈钢板", "304冷轧", "不锈钢2B板"][..],
            (13500, 16500),
        ),
        (
            "冷轧钢板边角料",
            "SPCC",
            &["冷轧边角料", "冲压下脚料", "冷板条料"][..],
            (2600, 3200),
        ),
    ]);
    let sp = x.pick(spoken);
    let th = x.pick(&["0.8", "1.0", "1.2", "1.5", "2.0", "3.0"]);
    let t = x.step(3, 80, 1) as f64;
    let tt = mass_text(x.r, t);
    let scrap = name.contains("边角料");
    let grade_text = if scrap {
        grade.to_string()
    } else {
        format!("{grade} {th}mm")
    };
    if x.offer {
        let mut p = Post::new(if scrap {
            format!("{sp} {th}厚 约{tt}")
        } else {
            format!(
                "{th}mm {sp} 正品现货 {}",
                x.pick(&["可开平", "整卷", "可分条"])
            )
        });
        if scrap {
            p.desc.m(format!("落料剩的{sp}，{th}厚"));
            p.desc.m(format!("宽度80-300mm不等，约{tt}"));
            p.desc.o("按废钢价上浮");
        } else {
            p.desc.m(format!("{sp}{th}mm正品"));
            p.desc.m("可开平、剪板配送");
            p.desc.m(format!("{}吨起", x.int(1, 5)));
        }
        p.desc.o(format!("{}仓库现货", x.nick()));
        p.quantity = Some(mass_qty(x.r, t));
        p.price = Some(Amount::new(x.step(price.0, price.1, 10) as f64, "元/吨"));
        p.s("material_name", name);
        p.s("grade", grade_text);
        p
    } else {
        let mut p = Post::new(if scrap {
            format!("{}收{sp} {grade} {th}mm左右 {tt}", x.rush())
        } else {
            format!("{}采购{sp} {th}mm {tt}", x.rush())
        });
        p.desc.m(format!(
            "做{}用",
            x.pick(&["小垫片", "支架", "机箱", "钣金件", "电器外壳"])
        ));
        p.desc.m(format!("{sp}{th}mm上下"));
        p.desc.m(tt.clone());
        p.desc.o(format!("{}附近自提", x.nick()));
        p.quantity = Some(mass_qty(x.r, t));
        p.s("material_name", name);
        p.s("grade", grade);
        p
    }
}

pub fn fibre(x: &mut Ctx<'_>) -> Post {
    let (name, grade, spoken, price, pack) = x.pick(&[
        (
            "涤纶长丝",
            "FDY 150D/48F",
            &["涤纶FDY 150D", "全拉伸丝150D/48F", "FDY150D"][..],
            (7800, 8600),
            "纸管",
        ),
        (
            "涤纶长丝",
            "FDY 75D/72F",
            &["FDY 75D/72F", "涤纶全拉伸丝75D"][..],
            (8300, 9200),
            "纸管",
        ),
        (
            "涤纶低弹丝",
            "DTY 150D/48F",
            &["DTY 150D/48F", "涤纶加弹丝150D", "低弹丝"][..],
            (8500, 9400),
            "纸箱",
        ),
        (
            "涤纶预取向丝",
            "POY 250D/48F",
            &["POY 250D", "预取向丝"][..],
            (7300, 8000),
            "纸管",
        ),
        (
            "涤纶短纤",
            "1.4D×38mm",
            &["涤纶短纤1.4D×38mm", "棉型短纤", "1.4D*38mm短纤"][..],
            (6800, 7600),
            "包",
        ),
        (
            "锦纶长丝",
            "锦纶6 FDY 70D/24F",
            &["锦纶FDY 70D", "尼龙6长丝70D"][..],
            (14500, 16500),
            "纸管",
        ),
    ]);
    let sp = x.pick(spoken);
    let t = x.step(2, 50, 1) as f64;
    let tt = mass_text(x.r, t);
    if x.offer {
        let adj = x.pick(&["AA级", "A级", "半光", "有光"]);
        let mut p = Post::new(format!("{sp} {adj} {tt}"));
        p.desc.m(format!("{sp}，{adj}"));
        p.desc.m(format!("库存{tt}"));
        p.desc.o(format!("{}自提", x.nick()));
        p.desc.o("长期客户价格另议");
        p.quantity = Some(mass_qty(x.r, t));
        p.price = Some(Amount::new(x.step(price.0, price.1, 50) as f64, "元/吨"));
        p.s("material_name", name);
        p.s("grade", grade);
        if x.p(0.6) {
            p.s("packaging", pack);
        }
        p
    } else {
        let mut p = Post::new(format!("{}{sp} 采购{tt}", x.rush()));
        p.desc.m(format!(
            "{}用{sp}",
            x.pick(&["针织", "织造", "经编", "纺纱"])
        ));
        p.desc.m(tt.clone());
        p.desc.o("有色丝也可以考虑");
        p.desc.o(format!("送{}", x.nick()));
        p.quantity = Some(mass_qty(x.r, t));
        p.s("material_name", name);
        p.s("grade", grade);
        p
    }
}

pub fn chemicals(x: &mut Ctx<'_>) -> Post {
    let (name, grade, spoken, price, pack, haz) = x.pick(&[
        (
            "无水硫酸钠",
            "工业级≥99%",
            &["元明粉", "无水硫酸钠", "元明粉(无水硫酸钠)"][..],
            (350, 550),
            "50kg编织袋",
            false,
        ),
        (
            "碳酸钠",
            "轻质≥99.2%",
            &["纯碱", "轻质纯碱", "碳酸钠"][..],
            (1500, 2100),
            "吨袋",
            false,
        ),
        (
            "氢氧化钠溶液",
            "32%",
            &["液碱", "32%液碱", "烧碱溶液"][..],
            (800, 1100),
            "槽罐车",
            true,
        ),
        (
            "乙酸乙酯",
            "≥99.5%",
            &["乙酸乙酯", "醋酸乙酯", "乙酯"][..],
            (5800, 7200),
            "200L铁桶",
            true,
        ),
        (
            "过氧化氢",
            "27.5%",
            &["双氧水", "27.5%双氧水"][..],
            (700, 1100),
            "IBC吨桶",
            true,
        ),
        (
            "氢氧化钠",
            "≥99%",
            &["片碱", "99片碱"][..],
            (3200, 4000),
            "25kg袋",
            true,
        ),
        (
            "冰醋酸",
            "≥99.8%",
            &["冰醋酸", "醋酸"][..],
            (2800, 3600),
            "IBC吨桶",
            true,
        ),
    ]);
    let sp = x.pick(spoken);
    let t = x.step(5, 200, 5) as f64;
    let tt = mass_text(x.r, t);
    let monthly = x.p(0.4);
    let qty_text = if monthly {
        format!("月供{tt}")
    } else {
        tt.clone()
    };
    if x.offer {
        let mut p = Post::new(format!("{sp} {grade} {qty_text}"));
        p.desc.m(format!("{sp}，{grade}"));
        p.desc.m(format!("{pack}包装"));
        p.desc.m(if monthly {
            format!("月产量{tt}上下")
        } else {
            format!("现货{tt}")
        });
        if haz {
            p.desc.o("危化品需提供经营许可证");
        }
        p.desc.o("可以签年度合同");
        p.quantity = Some(mass_qty(x.r, t));
        p.price = Some(Amount::new(x.step(price.0, price.1, 10) as f64, "元/吨"));
        p.s("material_name", name);
        p.s("grade", grade);
        p.s("packaging", pack);
        p
    } else {
        let mut p = Post::new(if monthly {
            format!("{}{sp} 长期要货 {tt}/月", x.rush())
        } else {
            format!("{}{sp}采购 {tt}", x.rush())
        });
        p.desc.m(format!(
            "{}用{sp}",
            x.pick(&["染色车间", "污水处理", "前处理", "生产"])
        ));
        if !sp.contains(grade) {
            p.desc.m(grade.to_string());
        }
        p.desc.m(if monthly {
            format!("每月{tt}左右")
        } else {
            tt.clone()
        });
        p.desc.o(format!("送{}", x.nick()));
        p.desc.o("长期合作");
        p.quantity = Some(mass_qty(x.r, t));
        if x.p(0.5) {
            p.price = Some(Amount::new(x.step(price.0, price.1, 10) as f64, "元/吨"));
        }
        p.s("material_name", name);
        p.s("grade", grade);
        p
    }
}

pub fn packaging(x: &mut Ctx<'_>) -> Post {
    match x.int(0, 5) {
        0 | 1 => cartons(x),
        2 | 3 => pallets(x),
        4 => film(x),
        _ => bags(x),
    }
}

fn cartons(x: &mut Ctx<'_>) -> Post {
    let layers = x.pick(&["五层", "三层", "五层BC楞", "七层"]);
    let (l, w, h) = x.pick(&[
        (600, 400, 400),
        (500, 350, 300),
        (400, 300, 250),
        (600, 400, 300),
        (450, 350, 350),
    ]);
    let size = match x.int(0, 2) {
        0 => format!("{l}×{w}×{h}"),
        1 => format!("{l}x{w}x{h}"),
        _ => format!("{}*{}*{}cm", l / 10, w / 10, h / 10),
    };
    let n = x.step(1000, 50000, 500);
    let unit = x.pick(&["只", "个", "只"]);
    let nt = if n >= 10000 && n % 10000 == 0 {
        format!("{}万{unit}", n / 10000)
    } else {
        format!("{n}{unit}")
    };
    let syn = x.pick(&["瓦楞纸箱", "纸箱", "外箱", "瓦楞箱"]);
    if x.offer {
        let mut p = Post::new(format!("{layers}{syn} 库存{nt} {size}"));
        p.desc.m(format!("采购多下的{layers}{syn}，{size}"));
        p.desc
            .m(x.pick(&["印有我司logo", "白板无印刷", "牛皮纸面"]));
        p.desc.m(nt.clone());
        p.desc.o("做内衬、周转的可以低价拿走");
        p.quantity = Some(Amount::new(n as f64, unit));
        p.price = Some(Amount::new(
            x.real(0.8, 4.5),
            if unit == "只" { "元/只" } else { "元/个" },
        ));
        p.s("material_name", "瓦楞纸箱");
        p.s("grade", layers);
        p
    } else {
        let mut p = Post::new(format!("{}要{layers}{syn}{size} {nt}", x.rush()));
        p.desc.m(format!("{layers}{syn}，{size}"));
        p.desc.m(format!("{nt}左右"));
        p.desc.o("库存箱无印刷的也可以");
        p.desc.o(format!("送{}", x.nick()));
        p.quantity = Some(Amount::new(n as f64, unit));
        p.s("material_name", "瓦楞纸箱");
        p.s("grade", layers);
        p
    }
}

fn pallets(x: &mut Ctx<'_>) -> Post {
    let (name, spoken, grade) = x.pick(&[
        (
            "木托盘",
            &["木托盘", "木栈板", "栈板", "木卡板"][..],
            "1200×1000",
        ),
        (
            "塑料托盘",
            &["塑料托盘", "塑料栈板", "川字托盘"][..],
            "1200×1000川字",
        ),
        (
            "塑料托盘",
            &["九脚塑料托盘", "塑料托盘"][..],
            "1100×1100九脚",
        ),
        ("木托盘", &["熏蒸木托盘", "出口木栈板"][..], "1200×800熏蒸"),
    ]);
    let sp = x.pick(spoken);
    let n = x.step(50, 2000, 50);
    let unit = x.pick(&["片", "个", "块", "片"]);
    if x.offer {
        let used = x.p(0.6);
        let mut p = Post::new(format!(
            "{}{sp} {grade} {n}{unit}",
            if used { "二手" } else { "" }
        ));
        p.desc.m(format!(
            "{}{sp}，{grade}",
            if used {
                "进口货拆下来的"
            } else {
                "新做的"
            }
        ));
        p.desc
            .m(x.pick(&["四面进叉", "可上货架", "八九成新", "承重1吨"]));
        p.desc.m(format!("约{n}{unit}"));
        p.desc.o(format!("{}自提", x.nick()));
        p.quantity = Some(Amount::new(n as f64, unit));
        p.price = Some(Amount::new(
            x.step(25, 120, 5) as f64,
            match unit {
                "片" => "元/片",
                "块" => "元/块",
                _ => "元/个",
            },
        ));
        p.s("material_name", name);
        p.s("grade", grade);
        p
    } else {
        let g = if sp.contains("川字") {
            grade.trim_end_matches("川字")
        } else {
            grade
        };
        let mut p = Post::new(format!("{}求二手{sp} {g} {n}{unit}", x.rush()));
        p.desc
            .m(format!("{}用", x.pick(&["冷库", "仓库", "出口", "周转"])));
        p.desc.m(format!("{grade}规格"));
        p.desc.m(format!("{n}{unit}左右"));
        p.desc.o(format!("送到{}最好", x.nick()));
        p.quantity = Some(Amount::new(n as f64, unit));
        p.s("material_name", name);
        p.s("grade", grade);
        p
    }
}

fn film(x: &mut Ctx<'_>) -> Post {
    let sp = x.pick(&["缠绕膜", "PE拉伸膜", "打包膜"]);
    let t = x.int(1, 10) as f64;
    let tt = mass_text(x.r, t);
    let width = x.pick(&["50cm", "45cm", "100cm"]);
    if x.offer {
        let mut p = Post::new(format!("{sp} {width} {tt}现货"));
        p.desc
            .m(format!("{sp}，宽{width}，厚{}μ", x.pick(&[15, 17, 20, 23])));
        p.desc.m(format!("现货{tt}"));
        p.desc.o("手用机用都有");
        p.quantity = Some(mass_qty(x.r, t));
        p.price = Some(Amount::new(x.step(9000, 12000, 100) as f64, "元/吨"));
        p.s("material_name", "缠绕膜");
        p.s("grade", width);
        p.s("packaging", "纸箱");
        p
    } else {
        let rolls = x.step(50, 600, 10);
        let mut p = Post::new(format!("{}采购{sp}{rolls}卷", x.rush()));
        p.desc.m(format!("仓库打包用{sp}"));
        p.desc.m(format!("{width}宽，{rolls}卷左右"));
        p.quantity = Some(Amount::new(rolls as f64, "卷"));
        p.s("material_name", "缠绕膜");
        p
    }
}

fn bags(x: &mut Ctx<'_>) -> Post {
    let (name, sp, grade, unit) = x.pick(&[
        ("编织袋", "PP编织袋", "PP覆膜55×95cm", "条"),
        ("吨袋", "吨袋", "90×90×110cm", "只"),
        ("吨袋", "集装袋", "四吊带1吨", "只"),
        ("编织袋", "拉丝编织袋", "50×80cm", "条"),
    ]);
    let n = x.step(500, 50000, 500);
    if x.offer {
        let mut p = Post::new(format!("{sp} 库存{n}{unit}"));
        p.desc.m(format!("{sp}{grade}"));
        p.desc.m(format!("库存{n}{unit}"));
        p.desc.o("装粒子、化工料都行");
        p.desc.o(format!("{}自提", x.nick()));
        p.quantity = Some(Amount::new(n as f64, unit));
        p.price = Some(Amount::new(
            x.real(0.4, 28.0),
            if unit == "条" { "元/条" } else { "元/只" },
        ));
        p.s("material_name", name);
        p.s("grade", grade);
        p
    } else {
        let mut p = Post::new(format!("{}求购{sp} {n}{unit}", x.rush()));
        p.desc.m(format!(
            "装{}用",
            x.pick(&["塑料粒子", "化工原料", "纯碱", "元明粉"])
        ));
        p.desc.m(format!("{grade}，{n}{unit}"));
        p.quantity = Some(Amount::new(n as f64, unit));
        p.s("material_name", name);
        p
    }
}

pub fn ppe(x: &mut Ctx<'_>) -> Post {
    let (name, grade, spoken, pack, price) = x.pick(&[
        (
            "医用外科口罩",
            "YY 0469",
            &["医用外科口罩", "一次性医用外科口罩"][..],
            "50只/盒",
            0.35,
        ),
        (
            "防护口罩",
            "KN95",
            &["KN95口罩", "KN95防护口罩"][..],
            "20只/盒",
            0.9,
        ),
        (
            "医用防护口罩",
            "GB 19083",
            &["医用防护口罩", "N95医用防护口罩"][..],
            "独立包装",
            2.5,
        ),
        (
            "一次性防护服",
            "GB 19082",
            &["防护服", "医用防护服"][..],
            "1件/袋",
            25.0,
        ),
        (
            "丁腈手套",
            "无粉",
            &["丁腈手套", "一次性丁腈手套"][..],
            "100只/盒",
            0.3,
        ),
    ]);
    let sp = x.pick(spoken);
    let unit = if name == "一次性防护服" {
        "件"
    } else {
        "只"
    };
    if x.offer {
        let n = x.step(10_000, 1_000_000, 10_000);
        let nt = format!("{}万{unit}", n / 10_000);
        let mut p = Post::new(format!("{sp} {nt} 现货"));
        p.desc.m(format!("{grade}{sp}"));
        p.desc
            .m(x.pick(&["有医疗器械注册证", "有检测报告", "白名单企业"]));
        p.desc.m(format!("{pack}，{nt}现货"));
        p.desc.o("量大价优");
        p.quantity = Some(Amount::new(n as f64, unit));
        p.price = Some(Amount::new(
            price * x.real(0.8, 1.3),
            if unit == "件" { "元/件" } else { "元/只" },
        ));
        p.s("material_name", name);
        p.s("grade", grade);
        p.s("packaging", pack);
        p
    } else {
        let n = x.step(1000, 100_000, 1000);
        let nt = if n % 10_000 == 0 {
            format!("{}万{unit}", n / 10_000)
        } else {
            format!("{n}{unit}")
        };
        let mut p = Post::new(if x.emergency() {
            format!("厂区封控 {}{sp}{nt}", x.rush())
        } else {
            format!("{}采购{sp} {nt}", x.rush())
        });
        if x.emergency() {
            p.desc.m("厂区临时封控，防护用品告急");
            p.desc.m(format!("急需{grade}或以上{sp}{nt}"));
            p.desc.m(format!("今晚能送到{}的先联系", x.nick()));
        } else {
            p.desc.m(format!("员工日常用{sp}"));
            p.desc.m(format!("{grade}，{nt}"));
            p.desc.o("要有注册证或检测报告");
        }
        p.quantity = Some(Amount::new(n as f64, unit));
        p.s("material_name", name);
        p.s("grade", grade);
        p
    }
}
