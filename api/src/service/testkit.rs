//! A park in a fresh SQLite database in a temp folder, for the use cases'
//! unit tests: two communities, staff, and firms with a member each. The
//! tests call the service functions directly, without HTTP.

use chrono::Utc;
use serde_json::Value;

use crate::service::access::{Caller, FirmMembership, FirmRole};
use crate::service::listing_form::{self, ListingInput};
use crate::store::accounts::{self, NewCommunity, NewFirm, NewUser};
use crate::store::audit::Actor;
use crate::store::models::{Community, Firm, Listing, User};
use crate::store::{Db, DbConnection, now};

pub struct Park {
    pub db: Db,
    _dir: tempfile::TempDir,
    pub dagang: Community,
    pub other: Community,
    pub staff: User,
    /// A verified firm that asks (requests) and one that helps (offers).
    pub buyer: Member,
    pub seller: Member,
    /// A verified firm of the other community.
    pub far: Member,
}

pub struct Member {
    pub firm: Firm,
    pub user: User,
}

impl Member {
    pub fn caller(&self) -> Caller {
        Caller {
            user_id: self.user.id.clone(),
            platform_admin: false,
            firm: Some(FirmMembership {
                firm_id: self.firm.id.clone(),
                role: FirmRole::Admin,
                community_id: self.firm.community_id.clone(),
            }),
            staff_community: None,
            expires_at: Utc::now().timestamp() + 900,
            client: None,
        }
    }
}

fn user(name: &str, n: u32) -> NewUser {
    NewUser {
        phone: Some(format!("139{n:08}")),
        email: None,
        display_name: name.to_string(),
        password_hash: String::new(),
        is_platform_admin: false,
    }
}

fn firm(c: &mut DbConnection, community: &Community, name: &str, n: u32, verified: bool) -> Member {
    let f = accounts::create_firm(
        c,
        NewFirm {
            name: name.to_string(),
            uscc: format!("91330206MA2{n:07}"),
            community_id: community.id.clone(),
            address: "宁波市北仑区大港工业城".into(),
            lat: Some(29.89),
            lon: Some(121.84),
            contact_name: "张工".into(),
            contact_phone: "13900000000".into(),
            verified,
        },
    )
    .expect("firm");
    let (u, _) =
        accounts::add_member(c, &f.id, "admin", user(&format!("{name}管理员"), n)).expect("member");
    Member { firm: f, user: u }
}

/// A migrated database with the park's people in it.
pub fn park() -> Park {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("zhiqilian.db").display());
    let db = Db::connect(&url, 2).expect("open the database");
    db.migrate().expect("migrate");
    let mut c = db.conn().expect("connection");
    let community = |c: &mut DbConnection, name: &str| {
        accounts::create_community(
            c,
            NewCommunity {
                name: name.to_string(),
                district: "北仑区".into(),
                lat: Some(29.89),
                lon: Some(121.84),
            },
        )
        .expect("community")
    };
    let dagang = community(&mut c, "大港工业社区");
    let other = community(&mut c, "小港工业社区");
    let (staff, _) =
        accounts::create_staff(&mut c, &dagang.id, user("社区小王", 1)).expect("staff");
    let buyer = firm(&mut c, &dagang, "甬江机械", 2, true);
    let seller = firm(&mut c, &dagang, "港城检测", 3, true);
    let far = firm(&mut c, &other, "小港物流", 4, true);
    drop(c);
    Park {
        db,
        _dir: dir,
        dagang,
        other,
        staff,
        buyer,
        seller,
        far,
    }
}

impl Park {
    pub fn conn(&self) -> crate::store::PooledConn {
        self.db.conn().expect("connection")
    }

    /// A new unverified firm of the park (self-registered).
    pub fn unverified(&self, name: &str, n: u32) -> Member {
        firm(&mut self.conn(), &self.dagang, name, n, false)
    }

    /// The park's staff member as a caller.
    pub fn staff_caller(&self) -> Caller {
        Caller {
            user_id: self.staff.id.clone(),
            platform_admin: false,
            firm: None,
            staff_community: Some(self.dagang.id.clone()),
            expires_at: Utc::now().timestamp() + 900,
            client: None,
        }
    }

    pub fn staff_actor(&self) -> Actor {
        Actor {
            user_id: self.staff.id.clone(),
            name: self.staff.display_name.clone(),
        }
    }

    /// The row a firm member's form would make (validated as the API does).
    pub fn row(&self, m: &Member, form: Value) -> Listing {
        let input: ListingInput = serde_json::from_value(form).expect("a listing form");
        let at = now();
        let draft = listing_form::validate(&input, &m.firm, at).expect("a valid listing");
        listing_form::new_row(&m.firm, Some(m.user.id.clone()), None, draft, at)
    }

    /// Posts a listing through the write path.
    pub fn post(&self, m: &Member, form: Value) -> Listing {
        let row = self.row(m, form);
        crate::service::listings::create(&mut self.conn(), &row).expect("create");
        row
    }
}

/// An emergency request for a test device.
pub fn emergency_request() -> Value {
    serde_json::json!({
        "side": "request",
        "kind": "service",
        "title": "急需盐雾试验箱检测服务",
        "description": "今天下午产线要出货，急需盐雾试验检测，请附近企业帮忙",
        "urgency": "emergency",
        "attributes": { "service_type": "检测" }
    })
}

/// An offer that answers [`emergency_request`].
pub fn testing_offer() -> Value {
    serde_json::json!({
        "side": "offer",
        "kind": "service",
        "title": "提供盐雾试验检测服务",
        "description": "CNAS 实验室，盐雾试验箱空闲，可当天检测",
        "attributes": { "service_type": "检测" }
    })
}

/// Runs an async use case to its end on a runtime of its own (for tests
/// that are not `#[tokio::test]`).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}
