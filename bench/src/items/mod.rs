//! What firms post: one generator per kind of item, and the firm profiles
//! (industries) that say which items a firm offers and asks for.

mod equipment;
mod logistics;
mod material;
mod service;
mod space;
mod workforce;

use zhiqilian_matcher::{Kind, Urgency};

use crate::places::Community;
use crate::rng::Rng;
use crate::text::{Amount, Desc};

/// An attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Num(f64),
    Int(i64),
    Str(String),
    Bool(bool),
    List(Vec<&'static str>),
    /// A date as a day offset from 2026-11-20.
    Date(i32),
}

/// The kind-specific part of a listing, before the common fields are added.
#[derive(Debug)]
pub struct Post {
    pub title: String,
    pub desc: Desc,
    pub quantity: Option<Amount>,
    pub price: Option<Amount>,
    pub attrs: Vec<(&'static str, Val)>,
    /// Availability window as day offsets; `None` lets the caller choose.
    pub window: Option<(Option<i32>, Option<i32>)>,
}

impl Post {
    pub fn new(title: String) -> Self {
        Self {
            title,
            desc: Desc::new(),
            quantity: None,
            price: None,
            attrs: Vec::with_capacity(8),
            window: None,
        }
    }

    pub fn s(&mut self, key: &'static str, v: impl Into<String>) -> &mut Self {
        self.attrs.push((key, Val::Str(v.into())));
        self
    }

    pub fn f(&mut self, key: &'static str, v: f64) -> &mut Self {
        self.attrs.push((key, Val::Num(crate::text::round2(v))));
        self
    }

    pub fn i(&mut self, key: &'static str, v: i64) -> &mut Self {
        self.attrs.push((key, Val::Int(v)));
        self
    }

    pub fn b(&mut self, key: &'static str, v: bool) -> &mut Self {
        self.attrs.push((key, Val::Bool(v)));
        self
    }
}

/// What an item generator needs to know about the listing being written.
pub struct Ctx<'a> {
    pub r: &'a mut Rng,
    pub offer: bool,
    pub urg: Urgency,
    pub c: &'a Community,
}

impl Ctx<'_> {
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        self.r.pick(items)
    }

    pub fn w<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        self.r.weighted(items)
    }

    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        self.r.int(lo, hi)
    }

    pub fn step(&mut self, lo: i64, hi: i64, step: i64) -> i64 {
        self.r.step(lo, hi, step)
    }

    pub fn real(&mut self, lo: f64, hi: f64) -> f64 {
        self.r.real(lo, hi)
    }

    pub fn p(&mut self, p: f64) -> bool {
        self.r.chance(p)
    }

    /// A short local name of the community (大港, 新碶, 马山 …).
    pub fn nick(&mut self) -> &'static str {
        let c = self.c;
        self.r.pick(&c.nick)
    }

    /// A local place name as used for routes (北仑, 宁波北仑, 绍兴 …).
    pub fn here(&mut self) -> &'static str {
        let c = self.c;
        self.r.pick(&c.route)
    }

    pub fn urgent(&self) -> bool {
        self.urg != Urgency::Normal
    }

    pub fn emergency(&self) -> bool {
        self.urg == Urgency::Emergency
    }

    /// A title prefix that marks urgency on requests (急需, 【紧急】 …).
    pub fn rush(&mut self) -> &'static str {
        match self.urg {
            Urgency::Normal => "",
            Urgency::Urgent => self.r.pick(&["急", "急", "【急】", "加急 "]),
            Urgency::Emergency => self.r.pick(&["紧急！", "【紧急】", "急！！", "急急急 "]),
        }
    }

    /// A verb for what a request wants: 求租, 找, 需要 …
    pub fn want(&mut self) -> &'static str {
        self.r.pick(&["求", "找", "需要", "寻", "想找"])
    }
}

/// Every item a firm can post. Each belongs to one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Item {
    // equipment
    Injection,
    DieCast,
    Cnc,
    Lathe,
    FiveAxis,
    Press,
    SheetMetal,
    Forklift,
    Crane,
    Compressor,
    AerialLift,
    Genset,
    TextileMachine,
    FilmBlowing,
    LabInstrument,
    MaskMachine,
    // material
    PlasticVirgin,
    PlasticRecycled,
    Aluminium,
    Steel,
    Fibre,
    Chemicals,
    Packaging,
    Ppe,
    // space
    Factory,
    Warehouse,
    ColdStore,
    HazWarehouse,
    Cleanroom,
    Office,
    // logistics
    Truckload,
    Container,
    ColdTruck,
    Hazmat,
    Heavy,
    // workforce
    GeneralWorkers,
    Loaders,
    ForkliftDrivers,
    Welders,
    CncWorkers,
    Electricians,
    QcWorkers,
    TextileWorkers,
    Drivers,
    // service
    Repair,
    Testing,
    Consulting,
    Nucleic,
    Disinfection,
    Surface,
    Calibration,
    Training,
    Customs,
    MouldService,
    HazWaste,
}

impl Item {
    pub fn kind(self) -> Kind {
        use Item::*;
        match self {
            Injection | DieCast | Cnc | Lathe | FiveAxis | Press | SheetMetal | Forklift
            | Crane | Compressor | AerialLift | Genset | TextileMachine | FilmBlowing
            | LabInstrument | MaskMachine => Kind::Equipment,
            PlasticVirgin | PlasticRecycled | Aluminium | Steel | Fibre | Chemicals | Packaging
            | Ppe => Kind::Material,
            Factory | Warehouse | ColdStore | HazWarehouse | Cleanroom | Office => Kind::Space,
            Truckload | Container | ColdTruck | Hazmat | Heavy => Kind::Logistics,
            GeneralWorkers | Loaders | ForkliftDrivers | Welders | CncWorkers | Electricians
            | QcWorkers | TextileWorkers | Drivers => Kind::Workforce,
            Repair | Testing | Consulting | Nucleic | Disinfection | Surface | Calibration
            | Training | Customs | MouldService | HazWaste => Kind::Service,
        }
    }

    /// Chance that a request for this item is an emergency (production has
    /// stopped, a public-health need); offers are almost never emergencies.
    pub fn emergency_rate(self, offer: bool) -> f64 {
        use Item::*;
        if offer {
            return 0.003;
        }
        match self {
            Compressor | Genset | Nucleic | Ppe | Disinfection => 0.3,
            Repair | ColdTruck | ColdStore | Crane => 0.08,
            _ => 0.01,
        }
    }

    pub fn generate(self, x: &mut Ctx<'_>) -> Post {
        use Item::*;
        match self {
            Injection => equipment::injection(x),
            DieCast => equipment::die_cast(x),
            Cnc => equipment::cnc(x),
            Lathe => equipment::lathe(x),
            FiveAxis => equipment::five_axis(x),
            Press => equipment::press(x),
            SheetMetal => equipment::sheet_metal(x),
            Forklift => equipment::forklift(x),
            Crane => equipment::crane(x),
            Compressor => equipment::compressor(x),
            AerialLift => equipment::aerial_lift(x),
            Genset => equipment::genset(x),
            TextileMachine => equipment::textile_machine(x),
            FilmBlowing => equipment::film_blowing(x),
            LabInstrument => equipment::lab_instrument(x),
            MaskMachine => equipment::mask_machine(x),
            PlasticVirgin => material::plastic_virgin(x),
            PlasticRecycled => material::plastic_recycled(x),
            Aluminium => material::aluminium(x),
            Steel => material::steel(x),
            Fibre => material::fibre(x),
            Chemicals => material::chemicals(x),
            Packaging => material::packaging(x),
            Ppe => material::ppe(x),
            Factory => space::factory(x),
            Warehouse => space::warehouse(x),
            ColdStore => space::cold_store(x),
            HazWarehouse => space::haz_warehouse(x),
            Cleanroom => space::cleanroom(x),
            Office => space::office(x),
            Truckload => logistics::truckload(x),
            Container => logistics::container(x),
            ColdTruck => logistics::cold_truck(x),
            Hazmat => logistics::hazmat(x),
            Heavy => logistics::heavy(x),
            GeneralWorkers => workforce::general(x),
            Loaders => workforce::loaders(x),
            ForkliftDrivers => workforce::forklift_drivers(x),
            Welders => workforce::welders(x),
            CncWorkers => workforce::cnc_workers(x),
            Electricians => workforce::electricians(x),
            QcWorkers => workforce::qc_workers(x),
            TextileWorkers => workforce::textile_workers(x),
            Drivers => workforce::drivers(x),
            Repair => service::repair(x),
            Testing => service::testing(x),
            Consulting => service::consulting(x),
            Nucleic => service::nucleic(x),
            Disinfection => service::disinfection(x),
            Surface => service::surface(x),
            Calibration => service::calibration(x),
            Training => service::training(x),
            Customs => service::customs(x),
            MouldService => service::mould(x),
            HazWaste => service::haz_waste(x),
        }
    }
}

/// An industry: words for firm names and what such a firm posts.
#[derive(Debug)]
pub struct Profile {
    pub words: &'static [&'static str],
    /// Name endings of individual businesses (个体工商户) in this line; empty
    /// when such firms are never individual businesses.
    pub shop: &'static [&'static str],
    pub offers: &'static [(Item, u32)],
    pub requests: &'static [(Item, u32)],
}

use Item::*;

pub static MOLDING: Profile = Profile {
    words: &[
        "模塑科技",
        "塑业",
        "塑胶制品",
        "注塑科技",
        "塑料制品",
        "塑胶",
    ],
    shop: &["塑料制品厂", "注塑加工厂"],
    offers: &[
        (Injection, 10),
        (PlasticRecycled, 5),
        (GeneralWorkers, 2),
        (Factory, 1),
        (FilmBlowing, 1),
        (CncWorkers, 1),
    ],
    requests: &[
        (PlasticVirgin, 9),
        (PlasticRecycled, 2),
        (Injection, 3),
        (Repair, 3),
        (GeneralWorkers, 3),
        (Packaging, 2),
        (MouldService, 2),
        (Truckload, 2),
        (Container, 1),
    ],
};

pub static MACHINING: Profile = Profile {
    words: &[
        "精密机械",
        "精工",
        "机械制造",
        "五金制品",
        "模具",
        "精密模具",
    ],
    shop: &["机械加工厂", "五金加工厂", "模具加工部"],
    offers: &[
        (Cnc, 7),
        (Lathe, 4),
        (FiveAxis, 2),
        (CncWorkers, 3),
        (Factory, 1),
        (MouldService, 1),
    ],
    requests: &[
        (Steel, 3),
        (Aluminium, 1),
        (Cnc, 3),
        (CncWorkers, 4),
        (Testing, 2),
        (Surface, 3),
        (Factory, 2),
        (Calibration, 1),
    ],
};

pub static STAMPING: Profile = Profile {
    words: &["汽车部件", "冲压件", "钣金制造", "金属制品", "汽配"],
    shop: &["五金冲压厂", "钣金加工厂"],
    offers: &[(Press, 7), (SheetMetal, 4), (Steel, 3), (Welders, 1)],
    requests: &[
        (Steel, 6),
        (Press, 2),
        (Welders, 3),
        (Surface, 2),
        (Crane, 1),
        (Factory, 2),
        (Heavy, 1),
    ],
};

pub static DIECAST: Profile = Profile {
    words: &["压铸", "铝业", "汽配", "精密压铸", "金属科技"],
    shop: &["压铸加工厂"],
    offers: &[(DieCast, 7), (Aluminium, 4), (Cnc, 1)],
    requests: &[
        (Aluminium, 7),
        (Compressor, 2),
        (Repair, 2),
        (Cnc, 2),
        (GeneralWorkers, 2),
        (Testing, 1),
        (Surface, 1),
    ],
};

pub static LOGISTICS: Profile = Profile {
    words: &[
        "物流",
        "国际物流",
        "供应链管理",
        "货运代理",
        "运输",
        "集装箱运输",
    ],
    shop: &["货运部", "搬运服务部"],
    offers: &[
        (Truckload, 7),
        (Container, 6),
        (Heavy, 1),
        (Warehouse, 4),
        (Forklift, 2),
        (Loaders, 3),
        (Customs, 1),
    ],
    requests: &[
        (ForkliftDrivers, 3),
        (Loaders, 2),
        (Forklift, 2),
        (Warehouse, 2),
        (Drivers, 3),
        (Truckload, 1),
    ],
};

pub static COLD_CHAIN: Profile = Profile {
    words: &["冷链物流", "冷链", "冷藏物流", "食品", "水产"],
    shop: &[],
    offers: &[(ColdStore, 7), (ColdTruck, 6), (Container, 1)],
    requests: &[
        (Disinfection, 3),
        (Nucleic, 2),
        (ColdStore, 2),
        (ColdTruck, 3),
        (Loaders, 2),
        (Packaging, 1),
    ],
};

pub static TEXTILE: Profile = Profile {
    words: &["化纤", "纺织", "针织", "织造", "印染", "纺织科技"],
    shop: &["针织厂", "织造厂", "纺织品经营部"],
    offers: &[(Fibre, 7), (TextileMachine, 3), (TextileWorkers, 1)],
    requests: &[
        (Fibre, 4),
        (Chemicals, 3),
        (Container, 3),
        (TextileWorkers, 3),
        (Warehouse, 2),
    ],
};

pub static CHEMICAL: Profile = Profile {
    words: &["化工", "新材料", "精细化工", "化学"],
    shop: &[],
    offers: &[(Chemicals, 8), (HazWarehouse, 1), (Hazmat, 1)],
    requests: &[
        (HazWarehouse, 3),
        (Hazmat, 4),
        (Packaging, 2),
        (HazWaste, 2),
        (Chemicals, 1),
    ],
};

pub static PACKAGING: Profile = Profile {
    words: &["包装", "纸业", "包装材料", "印务", "包装制品"],
    shop: &["纸箱厂", "包装材料经营部"],
    offers: &[(Packaging, 9), (Truckload, 1)],
    requests: &[
        (Forklift, 1),
        (GeneralWorkers, 2),
        (Truckload, 2),
        (Warehouse, 2),
        (PlasticVirgin, 1),
    ],
};

pub static TESTING: Profile = Profile {
    words: &["检测技术", "检测", "技术服务", "质量技术服务", "计量检测"],
    shop: &[],
    offers: &[
        (Testing, 7),
        (Nucleic, 2),
        (Calibration, 2),
        (LabInstrument, 1),
    ],
    requests: &[(LabInstrument, 3), (QcWorkers, 1), (Office, 1)],
};

pub static CONSULTING: Profile = Profile {
    words: &["企业管理咨询", "管理咨询", "认证技术服务", "商务咨询"],
    shop: &[],
    offers: &[(Consulting, 7), (Training, 3), (Customs, 1)],
    requests: &[(Office, 2)],
};

pub static LABOUR: Profile = Profile {
    words: &["人力资源", "劳务", "人力资源服务", "劳务派遣"],
    shop: &[],
    offers: &[
        (GeneralWorkers, 6),
        (Loaders, 3),
        (ForkliftDrivers, 2),
        (Welders, 2),
        (CncWorkers, 1),
        (Drivers, 1),
        (TextileWorkers, 1),
        (Training, 1),
    ],
    requests: &[(Office, 1), (Truckload, 1)],
};

pub static RENTAL: Profile = Profile {
    words: &["设备租赁", "机械设备租赁", "工程机械", "起重设备", "叉车"],
    shop: &["叉车租赁部", "机械租赁部"],
    offers: &[
        (Forklift, 6),
        (Crane, 4),
        (Compressor, 3),
        (AerialLift, 3),
        (Genset, 2),
        (Repair, 2),
        (Training, 1),
    ],
    requests: &[(Drivers, 2), (Electricians, 1), (Factory, 1)],
};

pub static ELECTRONICS: Profile = Profile {
    words: &["电子科技", "电器", "智能科技", "光电科技", "电子", "家电"],
    shop: &["电子加工厂"],
    offers: &[(Factory, 1), (QcWorkers, 1), (Packaging, 1), (Cleanroom, 1)],
    requests: &[
        (Cleanroom, 3),
        (GeneralWorkers, 4),
        (Packaging, 3),
        (Testing, 3),
        (PlasticVirgin, 1),
        (Injection, 2),
        (Cnc, 1),
        (QcWorkers, 2),
        (Truckload, 2),
        (Container, 2),
        (Consulting, 1),
    ],
};

pub static MEDICAL: Profile = Profile {
    words: &["医疗器械", "卫生用品", "防护用品", "生物科技"],
    shop: &[],
    offers: &[(Ppe, 7), (MaskMachine, 2), (LabInstrument, 2)],
    requests: &[(Packaging, 2), (Cleanroom, 2), (QcWorkers, 1), (Testing, 1)],
};

pub static PROPERTY: Profile = Profile {
    words: &["实业", "实业投资", "产业园运营", "置业", "园区管理"],
    shop: &[],
    offers: &[(Factory, 5), (Warehouse, 3), (Office, 2), (Cleanroom, 1)],
    requests: &[(Electricians, 1), (Consulting, 1)],
};

pub static MAINTENANCE: Profile = Profile {
    words: &["机电设备", "机电工程", "自动化设备", "机电科技"],
    shop: &["机电维修部", "设备维修部"],
    offers: &[
        (Repair, 7),
        (MouldService, 1),
        (Electricians, 2),
        (Compressor, 2),
        (Calibration, 1),
    ],
    requests: &[(Electricians, 2), (Office, 1)],
};

pub static SURFACE: Profile = Profile {
    words: &["表面处理", "热处理", "金属表面处理", "电镀"],
    shop: &["喷涂加工厂", "热处理厂"],
    offers: &[(Surface, 8)],
    requests: &[
        (Chemicals, 2),
        (Hazmat, 1),
        (HazWaste, 2),
        (GeneralWorkers, 1),
    ],
};

/// Posts any firm may make besides its own line of business.
pub static GENERIC_OFFERS: &[(Item, u32)] = &[
    (Factory, 2),
    (Warehouse, 2),
    (Office, 1),
    (Forklift, 2),
    (Packaging, 2),
    (GeneralWorkers, 2),
    (Truckload, 3),
    (Compressor, 1),
    (Loaders, 1),
    (Repair, 1),
];

pub static GENERIC_REQUESTS: &[(Item, u32)] = &[
    (GeneralWorkers, 3),
    (ForkliftDrivers, 2),
    (Warehouse, 2),
    (Factory, 1),
    (Truckload, 5),
    (Container, 3),
    (ColdTruck, 1),
    (Heavy, 1),
    (Testing, 1),
    (Forklift, 2),
    (Repair, 2),
    (Packaging, 2),
    (Crane, 1),
    (Compressor, 1),
    (Electricians, 1),
    (Consulting, 1),
    (Welders, 1),
    (AerialLift, 1),
    (Ppe, 1),
];

/// Every item that appears in some profile or generic list (for tests).
pub static ALL_PROFILES: &[&Profile] = &[
    &MOLDING,
    &MACHINING,
    &STAMPING,
    &DIECAST,
    &LOGISTICS,
    &COLD_CHAIN,
    &TEXTILE,
    &CHEMICAL,
    &PACKAGING,
    &TESTING,
    &CONSULTING,
    &LABOUR,
    &RENTAL,
    &ELECTRONICS,
    &MEDICAL,
    &PROPERTY,
    &MAINTENANCE,
    &SURFACE,
];
