//! District administrators (区域管理员): a platform admin creates a district
//! and assigns communities and administrators; a district administrator
//! reads the queues, cases and statistics of those communities only,
//! compares them side by side, and manages their staff accounts.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// A district "北仑区" over c1 and c2 of the world, with an administrator
/// created by invitation who set their password with the code.
struct District {
    id: String,
    admin: Session,
    admin_id: String,
}

async fn district(app: &TestApp, w: &World) -> District {
    let r = app
        .post(
            "/api/v1/districts",
            &w.admin.token,
            &json!({"name": format!("北仑区{}", new_phone())}),
        )
        .await;
    let id = id_of(r.expect(201));
    for c in [&w.c1, &w.c2] {
        let r = app
            .request(
                Method::PUT,
                &format!("/api/v1/districts/{id}/communities/{c}"),
                Some(&w.admin.token),
                None,
            )
            .await;
        r.expect(200);
    }
    let login = new_email("district");
    let r = app
        .post(
            &format!("/api/v1/districts/{id}/admins"),
            &w.admin.token,
            &json!({"login": login, "display_name": "区经信局 王科长"}),
        )
        .await;
    let added = r.expect(200).clone();
    let admin_id = added["user_id"].as_str().expect("user id").to_string();
    let code = added["invite"]["code"].as_str().expect("an invite code");
    assert_eq!(
        added["district"]["communities"].as_array().unwrap().len(),
        2
    );
    // The invited account has no password until its owner sets one.
    app.login(&login, PASSWORD)
        .await
        .expect_problem(401, "invalid_credentials");
    app.post_anon(
        "/api/v1/auth/reset-password",
        &json!({"login": login, "code": code, "new_password": PASSWORD}),
    )
    .await
    .expect(204);
    let admin = app.session(&login).await;
    District {
        id,
        admin,
        admin_id,
    }
}

fn compressor_offer() -> Value {
    json!({"side": "offer", "kind": "equipment", "title": "空压机出租 37kW 螺杆式",
           "attributes": {"equipment_type": "空压机", "mode": "出租"}})
}

fn compressor_emergency() -> Value {
    json!({"side": "request", "kind": "equipment", "title": "急租空压机 产线停了",
           "urgency": "emergency",
           "attributes": {"equipment_type": "空压机", "mode": "出租"}})
}

/// The id of the case of a request, as its community's staff see it.
async fn case_id(app: &TestApp, staff: &Session, listing: &str) -> String {
    let q = app
        .get("/api/v1/staff/queue?status=active&limit=100", &staff.token)
        .await;
    let q = q.expect(200);
    let k = q["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|k| k["listing"]["id"] == listing)
        .unwrap_or_else(|| panic!("no case for {listing} in {q}"));
    id_of(k)
}

/// Staff broker a case with one offer; returns the match id.
async fn broker(app: &TestApp, staff: &Session, case: &str, offer: &str) -> String {
    let r = app
        .post(
            &format!("/api/v1/staff/cases/{case}/broker"),
            &staff.token,
            &json!({"offer_ids": [offer]}),
        )
        .await;
    r.expect(200)["contacts"][0]["match_id"]
        .as_str()
        .expect("match id")
        .to_string()
}

fn row<'a>(stats: &'a Value, community: &str) -> &'a Value {
    stats["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|r| r["community"]["id"] == community)
        .unwrap_or_else(|| panic!("no row for {community} in {stats:#}"))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("a number: {v}"))
}

/// A district administrator reads their communities' queues, cases and
/// statistics, and nothing of another community's; they read, never act.
#[tokio::test]
async fn a_district_admin_sees_its_communities_only() {
    let app = spawn_app().await;
    let w = app.world().await;
    let d = district(&app, &w).await;
    let c3 = app.create_community(&w.admin, "春晓工业社区").await;
    let far = app.verified_firm(&c3, &w.admin).await;
    let staff3 = app.create_staff(&w.admin, &c3).await;

    let near = app
        .create_listing(&w.a.admin, &compressor_emergency())
        .await;
    let away = app
        .create_listing(&far.admin, &compressor_emergency())
        .await;
    let near_case = case_id(&app, &w.staff1, &id_of(&near)).await;
    let far_case = case_id(&app, &staff3, &id_of(&away)).await;

    let me = app.get("/api/v1/me", &d.admin.token).await;
    let me = me.expect(200);
    assert!(
        me["roles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "district_admin"),
        "{me:#}"
    );
    assert_eq!(me["districts"][0]["id"], d.id.as_str());

    // Queues: one of its communities at a time; another community is 403.
    let q = app
        .get(
            &format!("/api/v1/staff/queue?community_id={}", w.c1),
            &d.admin.token,
        )
        .await;
    let ids: Vec<String> = ids(q.expect(200)["items"].as_array().unwrap());
    assert_eq!(ids, vec![near_case.clone()]);
    let q = app
        .get(
            &format!("/api/v1/staff/queue?community_id={}", w.c2),
            &d.admin.token,
        )
        .await;
    assert!(q.expect(200)["items"].as_array().unwrap().is_empty());
    app.get(
        &format!("/api/v1/staff/queue?community_id={c3}"),
        &d.admin.token,
    )
    .await
    .expect_problem(403, "forbidden");
    let r = app.get("/api/v1/staff/queue", &d.admin.token).await;
    assert_eq!(r.status.as_u16(), 422);
    assert_eq!(r.field_code("community_id").as_deref(), Some("required"));

    // Cases: its communities' are readable, another's do not exist.
    let k = app
        .get(&format!("/api/v1/staff/cases/{near_case}"), &d.admin.token)
        .await;
    assert_eq!(k.expect(200)["community"]["id"], w.c1.as_str());
    app.get(&format!("/api/v1/staff/cases/{far_case}"), &d.admin.token)
        .await
        .expect_problem(404, "not_found");
    // Reading is all: claiming is the community staff's.
    app.post(
        &format!("/api/v1/staff/cases/{near_case}/claim"),
        &d.admin.token,
        &json!({}),
    )
    .await
    .expect_problem(403, "forbidden");
    let k = app
        .get(&format!("/api/v1/staff/cases/{near_case}"), &w.staff1.token)
        .await;
    assert_eq!(k.expect(200)["status"], "open");

    // Statistics and SLA of its communities; not of another.
    for route in ["stats", "sla"] {
        let s = app
            .get(
                &format!("/api/v1/staff/{route}?community_id={}", w.c1),
                &d.admin.token,
            )
            .await;
        assert_eq!(s.expect(200)["community"]["id"], w.c1.as_str());
        app.get(
            &format!("/api/v1/staff/{route}?community_id={c3}"),
            &d.admin.token,
        )
        .await
        .expect_problem(403, "forbidden");
    }
    let s = app.get("/api/v1/district/stats", &d.admin.token).await;
    let s = s.expect(200);
    let rows: Vec<&str> = s["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["community"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{s:#}");
    assert!(rows.contains(&w.c1.as_str()) && rows.contains(&w.c2.as_str()));

    // Staff of another community are not theirs to see.
    app.get(&format!("/api/v1/communities/{c3}/staff"), &d.admin.token)
        .await
        .expect_problem(404, "not_found");

    // Non-admins are refused everything district.
    for s in [&w.staff1, &w.a.admin] {
        app.get("/api/v1/district/stats", &s.token)
            .await
            .expect_problem(403, "forbidden");
        app.get("/api/v1/districts", &s.token)
            .await
            .expect_problem(403, "forbidden");
        app.post("/api/v1/districts", &s.token, &json!({"name": "某区"}))
            .await
            .expect_problem(403, "forbidden");
        app.get(&format!("/api/v1/communities/{}/staff", w.c1), &s.token)
            .await
            .expect_problem(403, "forbidden");
    }
    // A district admin does not manage districts.
    app.post(
        "/api/v1/districts",
        &d.admin.token,
        &json!({"name": "某区"}),
    )
    .await
    .expect_problem(403, "forbidden");

    // Removal ends the administration at once (the same token).
    let r = app
        .request(
            Method::DELETE,
            &format!("/api/v1/districts/{}/admins/{}", d.id, d.admin_id),
            Some(&w.admin.token),
            None,
        )
        .await;
    assert!(r.expect(200)["admins"].as_array().unwrap().is_empty());
    app.get("/api/v1/district/stats", &d.admin.token)
        .await
        .expect_problem(403, "forbidden");
    app.get(&format!("/api/v1/staff/cases/{near_case}"), &d.admin.token)
        .await
        .expect_problem(403, "forbidden");
    // The change is in the communities' audit logs.
    let log = app
        .get(
            &format!(
                "/api/v1/staff/audit?action=district.admin_removed&community_id={}",
                w.c2
            ),
            &w.admin.token,
        )
        .await;
    assert_eq!(log.expect(200)["items"].as_array().unwrap().len(), 1);
}

/// The side-by-side figures are each community's own `/staff/stats` and
/// `/staff/sla` numbers: c1 brokered and agreed a deal inside the park,
/// c2 one with a firm of c1.
#[tokio::test]
async fn the_side_by_side_numbers_are_each_communitys_own() {
    let app = spawn_app().await;
    let w = app.world().await;
    let d = district(&app, &w).await;

    let offer = id_of(&app.create_listing(&w.b.admin, &compressor_offer()).await);
    let r1 = id_of(
        &app.create_listing(&w.a.admin, &compressor_emergency())
            .await,
    );
    let r2 = id_of(
        &app.create_listing(&w.c.admin, &compressor_emergency())
            .await,
    );
    let k1 = case_id(&app, &w.staff1, &r1).await;
    let k2 = case_id(&app, &w.staff2, &r2).await;
    let m1 = broker(&app, &w.staff1, &k1, &offer).await;
    let m2 = broker(&app, &w.staff2, &k2, &offer).await;
    app.agree(&m1, &w.a.admin, &w.b.admin).await;
    app.agree(&m2, &w.c.admin, &w.b.admin).await;
    app.post(
        &format!("/api/v1/staff/cases/{k2}/resolve"),
        &w.staff2.token,
        &json!({"outcome": "solved"}),
    )
    .await
    .expect(200);

    let s = app.get("/api/v1/district/stats", &d.admin.token).await;
    let s = s.expect(200).clone();
    assert_eq!(s["district"], Value::Null);
    let (one, two) = (row(&s, &w.c1), row(&s, &w.c2));
    assert_eq!(
        (one["listings"].as_u64(), two["listings"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        (one["requests"].as_u64(), two["requests"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(one["agreed_matches"], 1);
    assert_eq!(one["agreed_in_park"], 1);
    assert_eq!(f(&one["in_park_rate"]), 1.0);
    assert_eq!(two["agreed_matches"], 1);
    assert_eq!(two["agreed_in_park"], 0);
    assert_eq!(f(&two["in_park_rate"]), 0.0);
    assert_eq!(
        (one["agreed_deals"].as_u64(), two["agreed_deals"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(f(&one["agreed_value_yuan"]), 800.0);
    assert_eq!(f(&one["agreed_value_in_park_yuan"]), 800.0);
    assert_eq!(f(&one["in_park_rate_by_value"]), 1.0);
    assert_eq!(f(&two["agreed_value_in_park_yuan"]), 0.0);
    assert_eq!(f(&two["in_park_rate_by_value"]), 0.0);
    // c1's case is still brokered, c2's resolved.
    assert_eq!(
        (one["open_cases"].as_u64(), two["open_cases"].as_u64()),
        (Some(1), Some(0))
    );
    for r in [one, two] {
        assert_eq!(r["sla"]["cases"], 1);
        assert_eq!(r["sla"]["claim"]["done"], 1);
        assert_eq!(r["sla"]["claim"]["within_target"], 1);
        assert_eq!(f(&r["sla"]["claim"]["rate"]), 1.0);
        assert_eq!(r["sla"]["contact"]["within_target"], 1);
    }
    assert_eq!(one["sla"]["resolve"]["done"], 0);
    assert_eq!(one["sla"]["resolve"]["rate"], Value::Null);
    assert_eq!(two["sla"]["resolve"]["done"], 1);
    assert_eq!(f(&two["sla"]["resolve"]["rate"]), 1.0);

    // The same figures the communities' own staff read.
    for (staff, r) in [(&w.staff1, one), (&w.staff2, two)] {
        let own = app.get("/api/v1/staff/stats", &staff.token).await;
        let own = own.expect(200);
        assert_eq!(r["in_park_rate"], own["in_park_rate"]);
        assert_eq!(r["agreed_matches"], own["agreed_matches"]);
        assert_eq!(
            r["in_park_rate_by_value"],
            own["funnel"]["in_park_rate_by_value"]
        );
        let sla = app.get("/api/v1/staff/sla", &staff.token).await;
        let emergency = &sla.expect(200)["by_urgency"][0];
        assert_eq!(emergency["urgency"], "emergency");
        assert_eq!(r["sla"]["resolve"]["done"], emergency["resolve"]["done"]);
    }

    // A platform admin names the district; a window without the deals is empty.
    let r = app.get("/api/v1/district/stats", &w.admin.token).await;
    assert_eq!(r.field_code("district_id").as_deref(), Some("required"));
    let s = app
        .get(
            &format!(
                "/api/v1/district/stats?district_id={}&from=2025-01-01&to=2025-01-31",
                d.id
            ),
            &w.admin.token,
        )
        .await;
    let s = s.expect(200);
    assert_eq!(s["district"]["id"], d.id.as_str());
    assert_eq!(row(s, &w.c1)["listings"], 0);
    assert_eq!(row(s, &w.c1)["open_cases"], 1, "open cases are of now");
    let r = app
        .get("/api/v1/district/stats?from=2026-13-01", &d.admin.token)
        .await;
    assert_eq!(r.field_code("from").as_deref(), Some("invalid_format"));
}

/// Staff accounts: a district admin invites one (it sets its password with
/// the code), disables one — its token, refresh token and open stream end
/// at once and sign-in is refused — and enables it again.
#[tokio::test]
async fn disabling_a_staff_account_ends_its_sessions_at_once() {
    let app = spawn_app().await;
    let w = app.world().await;
    let d = district(&app, &w).await;
    let c3 = app.create_community(&w.admin, "春晓工业社区").await;
    let staff3 = app.create_staff(&w.admin, &c3).await;

    // Invite.
    let login = new_phone();
    let r = app
        .post(
            &format!("/api/v1/communities/{}/staff", w.c1),
            &d.admin.token,
            &json!({"login": login, "display_name": "新同事 小李"}),
        )
        .await;
    let invited = r.expect(201).clone();
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let code = invited["invite"]["code"].as_str().expect("code");
    app.post_anon(
        "/api/v1/auth/reset-password",
        &json!({"login": login, "code": code, "new_password": PASSWORD}),
    )
    .await
    .expect(204);
    let newcomer = app.session(&login).await;
    app.get("/api/v1/staff/queue", &newcomer.token)
        .await
        .expect(200);
    // Not in another community, not by staff.
    app.post(
        &format!("/api/v1/communities/{c3}/staff"),
        &d.admin.token,
        &json!({"login": new_phone(), "display_name": "外人"}),
    )
    .await
    .expect_problem(404, "not_found");
    app.post(
        &format!("/api/v1/communities/{}/staff", w.c1),
        &w.staff1.token,
        &json!({"login": new_phone(), "display_name": "外人"}),
    )
    .await
    .expect_problem(403, "forbidden");

    // The roster.
    let list = app
        .get(
            &format!("/api/v1/communities/{}/staff", w.c1),
            &d.admin.token,
        )
        .await;
    let list = list.expect(200).clone();
    let staff1_id = {
        let me = app.get("/api/v1/me", &w.staff1.token).await;
        me.expect(200)["user"]["id"].as_str().unwrap().to_string()
    };
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list:#}");
    let one = items
        .iter()
        .find(|s| s["user_id"] == staff1_id.as_str())
        .unwrap();
    assert_eq!(one["status"], "active");
    assert!(one["last_sign_in_at"].is_string(), "{one:#}");

    // Disable: the token, the refresh token and the open stream end.
    let mut live = app.events(&w.staff1.token, None).await;
    let r = app
        .post(
            &format!("/api/v1/communities/{}/staff/{staff1_id}/disable", w.c1),
            &d.admin.token,
            &json!({"reason": "离职"}),
        )
        .await;
    assert_eq!(r.expect(200)["status"], "disabled");
    let seen = live
        .until(std::time::Duration::from_secs(5), |e| e.event == "revoked")
        .await;
    assert!(seen.iter().any(|e| e.event == "revoked"), "{seen:?}");
    app.get("/api/v1/staff/queue", &w.staff1.token)
        .await
        .expect_problem(403, "account_disabled");
    app.login(&w.staff1.login, PASSWORD)
        .await
        .expect_problem(403, "account_disabled");
    app.post_anon(
        "/api/v1/auth/refresh",
        &json!({"refresh_token": w.staff1.refresh}),
    )
    .await
    .expect(401);
    app.post(
        &format!("/api/v1/communities/{}/staff/{staff1_id}/disable", w.c1),
        &d.admin.token,
        &json!({}),
    )
    .await
    .expect_problem(409, "already_disabled");
    // Others' staff are not theirs; staff do not disable colleagues.
    let staff3_id = {
        let me = app.get("/api/v1/me", &staff3.token).await;
        me.expect(200)["user"]["id"].as_str().unwrap().to_string()
    };
    app.post(
        &format!("/api/v1/communities/{c3}/staff/{staff3_id}/disable"),
        &d.admin.token,
        &json!({}),
    )
    .await
    .expect_problem(404, "not_found");
    app.post(
        &format!("/api/v1/communities/{}/staff/{staff3_id}/disable", w.c1),
        &d.admin.token,
        &json!({}),
    )
    .await
    .expect_problem(404, "not_found");
    app.get("/api/v1/staff/queue", &staff3.token)
        .await
        .expect(200);
    let staff_id = |s: &Value| s["user_id"].as_str().unwrap().to_string();
    app.post(
        &format!(
            "/api/v1/communities/{}/staff/{}/disable",
            w.c1,
            staff_id(&invited)
        ),
        &w.staff2.token,
        &json!({}),
    )
    .await
    .expect_problem(403, "forbidden");
    app.get("/api/v1/staff/queue", &newcomer.token)
        .await
        .expect(200);

    let list = app
        .get(
            &format!("/api/v1/communities/{}/staff", w.c1),
            &w.admin.token,
        )
        .await;
    let list = list.expect(200).clone();
    let one = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["user_id"] == staff1_id.as_str())
        .unwrap();
    assert_eq!(one["status"], "disabled");
    assert!(one["disabled_at"].is_string());
    let log = app
        .get(
            &format!(
                "/api/v1/staff/audit?action=staff.disabled&community_id={}",
                w.c1
            ),
            &w.admin.token,
        )
        .await;
    let log = log.expect(200);
    assert_eq!(log["items"][0]["subject"]["id"], staff1_id.as_str());
    assert_eq!(log["items"][0]["detail"]["reason"], "离职");

    // Enable: sign-in works again; the old token stays ended.
    let r = app
        .post(
            &format!("/api/v1/communities/{}/staff/{staff1_id}/enable", w.c1),
            &w.admin.token,
            &json!({}),
        )
        .await;
    assert_eq!(r.expect(200)["status"], "active");
    app.post(
        &format!("/api/v1/communities/{}/staff/{staff1_id}/enable", w.c1),
        &w.admin.token,
        &json!({}),
    )
    .await
    .expect_problem(409, "not_disabled");
    app.get("/api/v1/staff/queue", &w.staff1.token)
        .await
        .expect_problem(401, "session_ended");
    let back = app.session(&w.staff1.login).await;
    app.get("/api/v1/staff/queue", &back.token)
        .await
        .expect(200);
}
