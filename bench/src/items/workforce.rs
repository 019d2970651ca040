//! Workers lent out (可借调, 可派驻) or wanted for a period.

use super::{Ctx, Post, Val};
use crate::text::{Amount, count, say_date, say_month};

/// A trade: attribute job type, spoken names, skill pool, pay per hour range.
#[derive(Debug, Clone, Copy)]
struct Trade {
    job: &'static str,
    spoken: &'static [&'static str],
    skills: &'static [&'static str],
    hourly: (i64, i64),
    head: (i64, i64),
}

fn pay(x: &mut Ctx<'_>, t: &Trade) -> Amount {
    let h = x.int(t.hourly.0, t.hourly.1) as f64;
    match x.int(0, 9) {
        0..=3 => Amount::new(h, "元/小时"),
        4..=7 => Amount::new((h * 9.0 / 10.0).round() * 10.0, "元/人/天"),
        _ => Amount::new((h * 260.0 / 100.0).round() * 100.0, "元/人/月"),
    }
}

fn skills(x: &mut Ctx<'_>, t: &Trade) -> Vec<&'static str> {
    let n = x.int(1, 3.min(t.skills.len() as i64)) as usize;
    let mut out: Vec<&'static str> = Vec::with_capacity(n);
    for _ in 0..n * 2 {
        let s = x.pick(t.skills);
        if !out.contains(&s) {
            out.push(s);
        }
        if out.len() == n {
            break;
        }
    }
    out
}

/// Certificates are held (持叉车证), skills are known (会氩弧焊).
fn is_certificate(s: &str) -> bool {
    s.ends_with('证') || s.ends_with("驾照")
}

fn skills_text(skills: &[&str]) -> String {
    let certs: Vec<&str> = skills
        .iter()
        .copied()
        .filter(|s| is_certificate(s))
        .collect();
    let can: Vec<&str> = skills
        .iter()
        .copied()
        .filter(|s| !is_certificate(s))
        .collect();
    match (certs.is_empty(), can.is_empty()) {
        (true, _) => format!("会{}", can.join("、")),
        (false, true) => format!("持{}", certs.join("、")),
        (false, false) => format!("持{}，会{}", certs.join("、"), can.join("、")),
    }
}

fn period_text(days: i64) -> String {
    match days {
        d if d <= 10 => format!("{d}天"),
        d if d < 28 => format!("{}周", (d + 3) / 7),
        d if d <= 45 => "一个月".to_string(),
        d if d <= 75 => "两个月".to_string(),
        d if d <= 100 => "三个月".to_string(),
        d if d <= 200 => "半年".to_string(),
        _ => "一年".to_string(),
    }
}

fn post(x: &mut Ctx<'_>, t: Trade) -> Post {
    let spoken = x.pick(t.spoken);
    let head = x.int(t.head.0, t.head.1);
    let hc = count(x.r, head);
    let nick = x.nick();
    let period = x.pick(&[7, 14, 20, 30, 45, 60, 90, 120, 180, 365]);
    let pt = period_text(period);
    let sk = skills(x, &t);
    let sk_text = skills_text(&sk);
    let unit = x.pick(&["人", "人", "名", "位"]);
    if x.offer {
        let mut p = Post::new(match x.int(0, 3) {
            0 => format!("{spoken}{hc}名 可借调{pt}"),
            1 => format!("{nick} {spoken}{head}人 {} 可派", sk[0]),
            2 => format!("淡季{spoken}{hc}名 可共享{pt}"),
            _ => format!("劳务输出 {spoken} {head}人以内 {}天到岗", x.int(1, 5)),
        });
        p.desc.m(format!(
            "{}{spoken}{hc}{}",
            x.pick(&["手上", "淡季多出", "可派", "现有"]),
            if unit == "人" { "人" } else { unit }
        ));
        p.desc.m(sk_text.clone());
        p.desc.o(format!("可以到兄弟企业帮忙{pt}"));
        p.desc.o(format!("{nick}范围"));
        p.desc
            .o(x.pick(&["按天或按月结算", "提前一天说", "男女不限可两班倒"]));
        p.quantity = Some(Amount::new(head as f64, unit));
        if x.p(0.6) {
            p.price = Some(pay(x, &t));
        }
        p.s("job_type", if x.p(0.7) { t.job } else { spoken });
        p.i("headcount", head);
        if x.p(0.75) {
            p.attrs.push(("skills", Val::List(sk)));
        }
        if x.p(0.6) {
            p.i("period_days", period);
        }
        p
    } else {
        let start = if x.urgent() {
            x.int(0, 5)
        } else {
            x.int(3, 60)
        } as i32;
        let mut p = Post::new(match x.int(0, 3) {
            0 => format!("{}招{spoken}{hc}名 {nick}", x.rush()),
            1 => format!("{}借调{spoken}{head}人 {pt}", x.rush()),
            2 => {
                let (a, b) = (say_month(start), say_month(start + period as i32));
                if a == b {
                    format!("{}{a}需要{spoken}{head}人 {pt}", x.rush())
                } else {
                    format!("{}{a}到{b} 需要{spoken}{head}人", x.rush())
                }
            }
            _ => format!("{}找{spoken}{hc}名 {}", x.rush(), skills_text(&sk[..1])),
        });
        p.desc.m(x.pick(&[
            "旺季赶单",
            "订单集中，人手不够",
            "新线投产",
            "春节前出货集中",
            "老员工请假",
        ]));
        p.desc.m(format!("需要{spoken}{hc}{unit}"));
        p.desc.m(sk_text.clone());
        p.desc.o(format!("{}开始，干{pt}", say_date(x.r, start)));
        p.desc.o(format!("{nick}厂区"));
        p.desc
            .o(x.pick(&["包吃住", "包住宿不包吃", "两班倒", "长白班"]));
        p.quantity = Some(Amount::new(head as f64, unit));
        if x.p(0.35) {
            p.price = Some(pay(x, &t));
        }
        p.s("job_type", if x.p(0.7) { t.job } else { spoken });
        p.i("headcount", head);
        if x.p(0.7) {
            p.attrs.push(("skills", Val::List(sk)));
        }
        if x.p(0.7) {
            p.i("period_days", period);
        }
        p.window = Some((Some(start), Some(start + period as i32)));
        p
    }
}

pub fn general(x: &mut Ctx<'_>) -> Post {
    post(
        x,
        Trade {
            job: "普工",
            spoken: &["普工", "操作工", "流水线工人", "男女工", "包装工"],
            skills: &["流水线", "包装", "去毛刺", "组装", "注塑", "两班倒", "检验"],
            hourly: (20, 28),
            head: (5, 80),
        },
    )
}

pub fn loaders(x: &mut Ctx<'_>) -> Post {
    post(
        x,
        Trade {
            job: "装卸工",
            spoken: &["装卸工", "搬运工", "装卸队", "拆柜工"],
            skills: &["拆柜", "装车", "理货", "打托"],
            hourly: (25, 40),
            head: (4, 30),
        },
    )
}

pub fn forklift_drivers(x: &mut Ctx<'_>) -> Post {
    post(
        x,
        Trade {
            job: "叉车工",
            spoken: &["叉车工", "叉车司机", "铲车司机", "持证叉车工"],
            skills: &[
                "叉车证",
                "N1证",
                "电动叉车",
                "内燃叉车",
                "前移式叉车",
                "堆高车",
            ],
            hourly: (26, 38),
            head: (1, 8),
        },
    )
}

pub fn welders(x: &mut Ctx<'_>) -> Post {
    post(
        x,
        Trade {
            job: "焊工",
            spoken: &["焊工", "电焊工", "二保焊焊工", "氩弧焊师傅", "CO2气保焊工"],
            skills: &[
                "二保焊",
                "CO2气保焊",
                "氩弧焊",
                "焊工证",
                "不锈钢焊接",
                "看图",
            ],
            hourly: (32, 50),
            head: (1, 10),
        },
    )
}

pub fn cnc_workers(x: &mut Ctx<'_>) -> Post {
    let t = if x.p(0.3) {
        Trade {
            job: "注塑调机员",
            spoken: &["注塑调机师傅", "啤机调机", "注塑技术员"],
            skills: &["注塑调机", "海天", "换模", "机械手", "震雄"],
            hourly: (30, 48),
            head: (1, 5),
        }
    } else {
        Trade {
            job: "数控操机工",
            spoken: &[
                "CNC师傅",
                "数控操机工",
                "加工中心调机师傅",
                "CNC操机",
                "数车师傅",
            ],
            skills: &[
                "FANUC",
                "三菱",
                "西门子",
                "编程",
                "加工中心",
                "数控车床",
                "UG编程",
                "MasterCAM",
            ],
            hourly: (30, 50),
            head: (1, 6),
        }
    };
    post(x, t)
}

pub fn electricians(x: &mut Ctx<'_>) -> Post {
    post(
        x,
        Trade {
            job: "电工",
            spoken: &["电工", "维修电工", "设备电工", "机修"],
            skills: &["低压电工证", "高压电工证", "PLC", "设备维修", "变频器"],
            hourly: (30, 45),
            head: (1, 4),
        },
    )
}

pub fn qc_workers(x: &mut Ctx<'_>) -> Post {
    let t = if x.p(0.7) {
        Trade {
            job: "质检员",
            spoken: &["质检员", "品检", "QC", "检验员"],
            skills: &["三坐标", "卡尺", "IQC", "来料检验", "8D报告", "二次元"],
            hourly: (24, 36),
            head: (1, 10),
        }
    } else {
        Trade {
            job: "仓管员",
            spoken: &["仓管员", "仓库管理员", "仓管"],
            skills: &["WMS", "盘点", "ERP", "叉车证", "出入库"],
            hourly: (22, 32),
            head: (1, 6),
        }
    };
    post(x, t)
}

pub fn textile_workers(x: &mut Ctx<'_>) -> Post {
    let t = if x.p(0.6) {
        Trade {
            job: "挡车工",
            spoken: &["挡车工", "圆机挡车工", "倍捻挡车工", "织机挡车工"],
            skills: &["圆机", "倍捻", "喷水织机", "剑杆织机", "验布", "三班倒"],
            hourly: (24, 34),
            head: (2, 30),
        }
    } else {
        Trade {
            job: "缝纫工",
            spoken: &["缝纫工", "平车工", "车位工"],
            skills: &["平车", "包缝", "绷缝", "验布", "整烫"],
            hourly: (25, 36),
            head: (2, 30),
        }
    };
    post(x, t)
}

pub fn drivers(x: &mut Ctx<'_>) -> Post {
    post(
        x,
        Trade {
            job: "货车司机",
            spoken: &["货车司机", "A2司机", "驾驶员", "集卡司机", "危运驾驶员"],
            skills: &["A2驾照", "B2驾照", "危险品押运证", "冷链", "从业资格证"],
            hourly: (30, 45),
            head: (1, 6),
        },
    )
}
