//! Testing, repair, certification, disinfection and other services.

use super::{Ctx, Post};
use crate::text::{Amount, num, say_date};

/// A repair trade: service_type, spoken names, brands, machine noun, faults.
type RepairTrade = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static str,
    &'static [&'static str],
);

const REPAIRS: &[RepairTrade] = &[
    (
        "注塑机维修",
        &["啤机维修", "注塑机维修", "注塑机修理"],
        &["海天", "震雄", "伊之密", "力劲"],
        "注塑机",
        &["油温过高", "射胶无力", "电脑板报警", "锁模不稳"],
    ),
    (
        "叉车维修",
        &["叉车维修", "铲车修理", "叉车保养"],
        &["合力", "杭叉", "龙工", "林德"],
        "叉车",
        &["门架油缸漏油", "起升无力", "刹车失灵", "打不着火"],
    ),
    (
        "空压机维修",
        &["空压机维修", "螺杆机大修", "空压机保养"],
        &["阿特拉斯", "英格索兰", "开山", "复盛"],
        "空压机",
        &["机头异响", "排温过高停机", "压力上不去", "主电机烧了"],
    ),
    (
        "数控机床维修",
        &["CNC维修", "加工中心维修", "数控系统维修"],
        &["FANUC", "三菱", "西门子", "新代"],
        "系统加工中心",
        &["主轴异响", "伺服报警", "换刀卡住", "系统黑屏"],
    ),
    (
        "行车维修",
        &["行车维修", "桥吊检修", "起重机维保"],
        &["5吨", "10吨", "16吨"],
        "行车",
        &["大车走不动", "刹车打滑", "遥控失灵"],
    ),
    (
        "冷库维修",
        &["冷库维修", "制冷机组维修", "冷库制冷维修"],
        &["比泽尔", "谷轮", "汉钟"],
        "制冷机组",
        &["温度降不下来", "压缩机跳停", "冷凝器漏氟"],
    ),
];

pub fn repair(x: &mut Ctx<'_>) -> Post {
    let (ty, spoken, objs, noun, faults) = x.pick(REPAIRS);
    let sp = x.pick(spoken);
    let obj = x.pick(objs);
    if x.offer {
        let mut p = Post::new(format!(
            "{sp} {} 上门",
            x.pick(&["24h应急", "快速响应", "包工包料", "年度维保"])
        ));
        let other = x.pick(objs);
        if other == obj {
            p.desc.m(format!("{obj}{noun}{sp}"));
        } else {
            p.desc.m(format!("{obj}、{other}等{noun}{sp}"));
        }
        p.desc.m(x.pick(&[
            "电路、油路都修",
            "换轴承、保养、大修",
            "原厂配件",
            "老师傅二十年经验",
        ]));
        p.desc.o(format!("{}区域{}小时到", x.here(), x.int(1, 3)));
        p.desc.o("可签年度维保");
        if x.p(0.4) {
            p.price = Some(Amount::new(x.step(200, 800, 50) as f64, "元/次"));
        }
        p.s("service_type", ty);
        p
    } else {
        let fault = x.pick(faults);
        let mut p = Post::new(format!("{}{obj}{noun}{fault} 找{sp}", x.rush()));
        p.desc.m(format!("我们一台{obj}{noun}{fault}"));
        if x.emergency() {
            p.desc.m("已经停机，生产线等着");
        }
        p.desc.m("找靠谱师傅上门看看");
        p.desc.o(format!("{}这边", x.nick()));
        p.s("service_type", ty);
        p.window = Some((Some(0), Some(x.int(1, 10) as i32)));
        p
    }
}

/// (service_type, spoken, certification, price unit, price range)
type TestOffer = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    (i64, i64),
);

const TESTS: &[TestOffer] = &[
    ("盐雾试验", "NSS中性盐雾试验", "CNAS", "元/小时", (20, 40)),
    (
        "盐雾试验",
        "CASS铜加速醋酸盐雾",
        "CNAS/CMA",
        "元/小时",
        (30, 60),
    ),
    ("材料检测", "RoHS 2.0十项检测", "CNAS", "元/样", (400, 900)),
    ("材料检测", "金属成分光谱分析", "CMA", "元/样", (150, 400)),
    ("材料检测", "REACH SVHC检测", "CNAS", "元/样", (1500, 4000)),
    ("尺寸检测", "三坐标检测", "CNAS", "元/小时", (150, 350)),
    ("力学性能测试", "拉伸/硬度测试", "CMA", "元/样", (100, 300)),
    ("可靠性试验", "高低温循环试验", "CNAS", "元/小时", (40, 90)),
    ("可靠性试验", "IP防水防尘测试", "CNAS", "元/样", (800, 2000)),
];

pub fn testing(x: &mut Ctx<'_>) -> Post {
    let (ty, sp, cert, unit, price) = x.pick(TESTS);
    if x.offer {
        let mut p = Post::new(format!("{sp} {cert}报告"));
        p.desc.m(sp.to_string());
        p.desc.m(format!("报告加盖{cert}章"));
        p.desc.o(format!("{}个工作日", x.int(2, 7)));
        p.desc.o(format!("{}送样方便", x.nick()));
        p.price = Some(Amount::new(x.step(price.0, price.1, 10) as f64, unit));
        p.s("service_type", ty);
        p.s("certification", cert);
        p
    } else {
        let hours = x.pick(&[24, 48, 72, 96, 240]);
        let mut p = Post::new(format!(
            "{}{}要{sp}报告 {cert}",
            x.rush(),
            x.pick(&["出口电器外壳", "汽车零件", "五金件", "客户验厂"])
        ));
        p.desc.m(format!("客户要{sp}"));
        if ty == "盐雾试验" {
            p.desc.m(format!("{hours}小时"));
        }
        p.desc.m(format!("报告必须有{cert}章"));
        p.desc.o(format!("{}附近能送样的", x.nick()));
        p.quantity = x.p(0.4).then(|| Amount::new(x.int(1, 20) as f64, "样"));
        p.s("service_type", ty);
        p.s("certification", cert);
        p
    }
}

pub fn consulting(x: &mut Ctx<'_>) -> Post {
    let (cert, sp, what) = x.pick(&[
        ("IATF16949", "16949", "汽车零部件质量体系"),
        ("ISO9001", "9001", "质量管理体系"),
        (
            "ISO14001/ISO45001",
            "14001/45001",
            "环境、职业健康安全管理体系",
        ),
        ("ISO13485", "13485", "医疗器械质量体系"),
        ("ISO50001", "能源体系", "能源管理体系"),
    ]);
    if x.offer {
        let mut p = Post::new(format!(
            "{} 体系认证辅导 {}{}",
            if x.p(0.5) { cert } else { sp },
            x.pick(&["驻厂", "一条龙", "包通过", "资料代写"]),
            if x.p(0.4) {
                format!(" {}", x.here())
            } else {
                String::new()
            }
        ));
        p.desc.m(format!("{what}认证辅导"));
        p.desc.m("从体系文件编写到外审陪审全程跟进");
        p.desc.o(format!("一般{}个月", x.int(3, 6)));
        p.desc.o(format!("{}范围可驻厂辅导", x.here()));
        p.price = Some(Amount::new(x.int(2, 8) as f64, "万元"));
        p.s("service_type", "认证咨询");
        p.s("certification", cert);
        p
    } else {
        let by = x.int(60, 240) as i32;
        let nick = x.nick();
        let mut p = Post::new(match x.int(0, 3) {
            0 => format!("{}找{sp}辅导机构", x.rush()),
            1 => format!("{}{cert}认证辅导 找有经验的老师", x.rush()),
            2 => format!(
                "{nick}企业求{sp}体系辅导 {}前拿证",
                crate::text::say_month(by)
            ),
            _ => format!(
                "{}{}要过{sp}审核 找辅导",
                x.rush(),
                crate::text::say_month(by)
            ),
        });
        p.desc.m(format!(
            "{}要求{}前拿到{cert}证书",
            x.pick(&["主机厂", "客户", "集团"]),
            crate::text::say_month(by)
        ));
        p.desc.m("想找有行业经验的辅导老师");
        p.desc.o("能驻厂的优先");
        if x.p(0.5) {
            p.price = Some(Amount::new(x.int(3, 10) as f64, "万元"));
        }
        p.s("service_type", "认证咨询");
        p.s("certification", cert);
        p.window = Some((Some(0), Some(by)));
        p
    }
}

pub fn nucleic(x: &mut Ctx<'_>) -> Post {
    let goods = x.p(0.5);
    if x.offer {
        let mut p = if goods {
            let mut p = Post::new("进口冷链货物 环境样本核酸检测".to_string());
            p.desc.m("进口冷链货物外包装、冷柜环境样本核酸检测");
            p.desc.m("CMA资质");
            p.desc.o("当天采样次日出报告");
            p.desc.o(format!("{}港区、冷库上门", x.nick()));
            p.price = Some(Amount::new(x.step(30, 80, 5) as f64, "元/样"));
            p.s("service_type", "核酸检测");
            p
        } else {
            let mut p = Post::new(format!(
                "员工核酸检测 上门采样 {}",
                x.pick(&["出报告快", "可混检", "24小时"])
            ));
            p.desc.m("上门给企业员工采咽拭子做核酸");
            p.desc.m(format!("{}人混检", x.pick(&[5, 10, 20])));
            p.desc.o("次日出报告");
            p.desc.o(format!("{}区域", x.nick()));
            p.price = Some(Amount::new(x.int(3, 16) as f64, "元/人"));
            p.s("service_type", "核酸检测（人员）");
            p
        };
        p.s("certification", "CMA");
        p
    } else if goods {
        let n = x.int(1, 4);
        let mut p = Post::new(format!(
            "{}进口{}外包装做核酸检测 {}要报告",
            x.rush(),
            x.pick(&["冻虾", "冻肉", "冷冻水产", "车厘子"]),
            x.pick(&["明早", "明天", "今晚"])
        ));
        p.desc
            .m(format!("{}个冷柜今天到{}", crate::text::cn(n), x.nick()));
        p.desc.m("需要做外包装环境样本核酸检测");
        p.desc.m("要CMA资质");
        p.desc.o("明天上午必须出报告");
        p.quantity = Some(Amount::new((n * x.int(10, 30)) as f64, "样"));
        p.s("service_type", "核酸检测");
        p.s("certification", "CMA");
        p.window = Some((Some(0), Some(1)));
        p
    } else {
        let n = x.step(50, 2000, 10);
        let mut p = Post::new(format!("{}员工核酸检测 {n}人 上门采样", x.rush()));
        p.desc.m(format!("厂里{n}人要做核酸"));
        p.desc.m("需要上门采样");
        p.desc.o("明天出报告");
        p.quantity = Some(Amount::new(n as f64, "人"));
        p.s("service_type", "核酸检测（人员）");
        p.window = Some((Some(0), Some(2)));
        p
    }
}

pub fn disinfection(x: &mut Ctx<'_>) -> Post {
    if x.offer {
        let mut p = Post::new("进口冷链货物预防性消毒(消杀)服务".to_string());
        p.desc.m("对进口冷链货物外包装和集装箱做预防性消杀");
        p.desc.m("消杀完出具证明");
        p.desc.o(format!("{}港区上门", x.nick()));
        p.price = Some(Amount::new(
            x.step(300, 800, 50) as f64,
            x.pick(&["元/柜", "元/票", "元/次"]),
        ));
        p.s("service_type", "消杀");
        p
    } else {
        let n = x.int(1, 6);
        let mut p = Post::new(format!("{}{}个进口冷柜 找消杀服务", x.rush(), n));
        p.desc.m(format!("{}个进口冷柜{}到库", crate::text::cn(n), {
            let v = x.int(0, 3) as i32;
            say_date(x.r, v)
        }));
        p.desc.m("需要外包装预防性消毒");
        p.desc.m("要出消毒证明");
        p.quantity = Some(Amount::new(n as f64, "柜"));
        p.s("service_type", "消杀");
        p.window = Some((Some(0), Some(3)));
        p
    }
}

pub fn surface(x: &mut Ctx<'_>) -> Post {
    let (ty, sp, obj) = x.pick(&[
        ("阳极氧化", "阳极氧化", "铝件"),
        ("电镀", "镀锌/镀镍", "五金件"),
        ("喷涂", "喷粉/喷漆", "钣金件"),
        ("热处理", "淬火/渗碳", "齿轮轴类"),
        ("热处理", "真空热处理", "模具钢"),
        ("抛丸", "抛丸除锈", "钢结构件"),
    ]);
    if x.offer {
        let nick = x.nick();
        let mut p = Post::new(match x.int(0, 3) {
            0 => format!("承接{sp}加工 {obj}"),
            1 => format!("{nick}{ty}厂 承接{obj}{sp}"),
            2 => format!("{obj}{sp} 外协加工 量大从优"),
            _ => format!("{sp}代加工 {nick}可上门收货"),
        });
        p.desc.m(format!("承接{obj}{sp}"));
        p.desc
            .m(x.pick(&["有环评手续", "可做盐雾报告", "交期3-5天", "量大价优"]));
        p.desc.o(format!("{}可上门收货", x.nick()));
        if x.p(0.5) {
            p.price = Some(Amount::new(
                x.real(0.3, 12.0),
                x.pick(&["元/件", "元/公斤", "元/kg"]),
            ));
        }
        p.s("service_type", ty);
        p
    } else {
        let n = x.step(500, 50000, 500);
        let mut p = Post::new(format!("{}{obj}{n}件 找{sp}外协", x.rush()));
        p.desc.m(format!("{obj}{n}件要做{sp}"));
        p.desc
            .m(x.pick(&["要求盐雾48小时", "颜色黑色", "硬度HRC58-62", "膜厚10-15μm"]));
        p.desc.o("长期订单");
        p.quantity = Some(Amount::new(n as f64, "件"));
        p.s("service_type", ty);
        p
    }
}

pub fn calibration(x: &mut Ctx<'_>) -> Post {
    let objs = x.pick(&["卡尺、千分尺", "压力表", "三坐标", "电子秤", "温度计"]);
    if x.offer {
        let mut p = Post::new(format!("计量校准 {objs} 上门 CNAS"));
        p.desc.m(format!("{objs}等量具仪器计量校准"));
        p.desc.m("CNAS认可证书");
        p.desc.o("可上门校准");
        p.price = Some(Amount::new(x.step(20, 300, 10) as f64, "元/台"));
        p.s("service_type", "计量校准");
        p.s("certification", "CNAS");
        p
    } else {
        let n = x.step(20, 500, 10);
        let mut p = Post::new(format!("{}年度计量校准 {n}台件", x.rush()));
        p.desc.m(format!("{objs}等{n}台件到期"));
        p.desc.m("需要CNAS证书");
        p.quantity = Some(Amount::new(n as f64, "件"));
        p.s("service_type", "计量校准");
        p.s("certification", "CNAS");
        p
    }
}

pub fn training(x: &mut Ctx<'_>) -> Post {
    let (what, cert) = x.pick(&[
        ("叉车证培训", "特种设备作业人员证N1"),
        ("低压电工证培训", "特种作业操作证"),
        ("焊工证培训", "特种作业操作证"),
        ("安全生产培训", "安全培训合格证"),
    ]);
    if x.offer {
        let mut p = Post::new(format!("{what} 包考证 {}", x.nick()));
        p.desc.m(format!("{what}，考{cert}"));
        p.desc.m(format!("{}天理论+实操", x.int(3, 10)));
        p.desc.o("企业团报优惠");
        p.price = Some(Amount::new(x.step(500, 1800, 50) as f64, "元/人"));
        p.s("service_type", "培训");
        p.s("certification", cert);
        p
    } else {
        let n = x.int(3, 30);
        let mut p = Post::new(format!("{}{n}名员工要做{what}", x.rush()));
        p.desc.m(format!("{n}名员工要考{cert}"));
        p.desc.m("最好能上门培训");
        p.quantity = Some(Amount::new(n as f64, "人"));
        p.s("service_type", "培训");
        p.s("certification", cert);
        p
    }
}

pub fn customs(x: &mut Ctx<'_>) -> Post {
    if x.offer {
        let mut p = Post::new(format!(
            "报关报检 {}口岸 {}",
            x.nick(),
            x.pick(&["AEO高级认证", "当天放行", "一般贸易"])
        ));
        p.desc.m("一般贸易、加工贸易报关");
        p.desc.m("商检、原产地证一起办");
        p.desc.o("AEO高级认证企业");
        p.price = Some(Amount::new(x.step(150, 400, 50) as f64, "元/票"));
        p.s("service_type", "报关");
        p.s("certification", "AEO高级认证");
        p
    } else {
        let n = x.int(5, 60);
        let mut p = Post::new(format!("{}找报关行 每月{n}票", x.rush()));
        p.desc.m(format!("出口每月{n}票左右"));
        p.desc.m("一般贸易");
        p.desc.o("需要能做原产地证");
        p.quantity = Some(Amount::new(n as f64, "票"));
        p.s("service_type", "报关");
        p
    }
}

pub fn mould(x: &mut Ctx<'_>) -> Post {
    let what = x.pick(&["注塑模具", "压铸模", "冲压模", "吹塑模"]);
    let design = x.p(0.25);
    let sp = if design {
        "模具设计"
    } else {
        x.pick(&["模具维修", "模具修补", "模具保养"])
    };
    if x.offer {
        let mut p = Post::new(if design {
            format!("{what}设计 3D出图 {}", x.nick())
        } else {
            format!("{what}{sp} 激光烧焊 {}", x.nick())
        });
        p.desc.m(format!("承接{what}{sp}"));
        p.desc.m(if design {
            x.pick(&["UG 3D设计出图", "模流分析+结构设计", "可做DFM报告"])
        } else {
            x.pick(&["激光烧焊、抛光、改模", "有慢走丝和火花机", "氩弧焊补模"])
        });
        p.desc.o(if design {
            "一周出图"
        } else {
            "当天可取"
        });
        p.s("service_type", sp);
        p
    } else if design {
        let mut p = Post::new(format!("{}新产品找{what}设计", x.rush()));
        p.desc
            .m(format!("新开{}套{what}", crate::text::cn(x.int(1, 6))));
        p.desc.m("需要设计+模流分析");
        p.desc.o(format!("{}附近", x.nick()));
        p.s("service_type", "模具设计");
        p
    } else {
        let fault = x.pick(&[
            "型腔拉伤",
            "顶针断了",
            "分型面跑披锋",
            "滑块卡死",
            "水路漏水",
        ]);
        let mut p = Post::new(format!("{}{what}{fault} 找{sp}", x.rush()));
        p.desc.m(format!("一套{what}{fault}"));
        p.desc.m(format!("找{sp}师傅"));
        p.desc.o(format!("{}附近", x.nick()));
        p.s("service_type", "模具维修");
        p
    }
}

pub fn haz_waste(x: &mut Ctx<'_>) -> Post {
    let (what, code) = x.pick(&[
        ("废矿物油", "HW08"),
        ("废有机溶剂", "HW06"),
        ("电镀污泥", "HW17"),
        ("废包装桶", "HW49"),
        ("废乳化液", "HW09"),
    ]);
    let t = x.int(1, 50) as f64;
    if x.offer {
        let mut p = Post::new(format!("危废处置 {what}{code} 有经营许可证"));
        p.desc
            .m(format!("持危险废物经营许可证，可收{what}（{code}）"));
        p.desc.m("转移联单一起办");
        p.desc.o(format!("{}上门收运", x.here()));
        p.price = Some(Amount::new(x.step(1500, 6000, 100) as f64, "元/吨"));
        p.s("service_type", "危废处置");
        p.s("certification", "危险废物经营许可证");
        p
    } else {
        let mut p = Post::new(format!("{}{what}{}吨 找有资质处置单位", x.rush(), num(t)));
        p.desc.m(format!("厂里{what}（{code}）约{}吨", num(t)));
        p.desc.m("要有危废经营许可证");
        p.desc.o("长期合作");
        p.quantity = Some(crate::text::mass_qty(x.r, t));
        p.s("service_type", "危废处置");
        p
    }
}
