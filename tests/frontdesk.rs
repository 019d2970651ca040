//! The community as the park's front desk: staff post, edit and close for a
//! firm of their community (and only theirs), the firm's admins are told and
//! may take the listing over, matching treats it as the firm's; any listing
//! becomes a case (a firm asks, staff open one) with normal-urgency SLA
//! targets; internal case notes stay with staff.

use serde_json::{Value, json};

use crate::helpers::*;

fn compressor_offer() -> Value {
    json!({"side": "offer", "kind": "equipment", "title": "空压机出租 37kW 螺杆式",
           "attributes": {"equipment_type": "空压机", "mode": "出租"}})
}

fn compressor_request() -> Value {
    json!({"side": "request", "kind": "equipment", "title": "求租空压机 37kW 一周",
           "attributes": {"equipment_type": "空压机", "mode": "出租"}})
}

async fn notification_types(app: &TestApp, token: &str) -> Vec<String> {
    app.get("/api/v1/notifications", token).await.expect(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| n["type"].as_str().expect("type").to_string())
        .collect()
}

async fn audit_actions(app: &TestApp, token: &str) -> Vec<String> {
    app.all_pages("/api/v1/staff/audit", token)
        .await
        .iter()
        .map(|e| e["action"].as_str().expect("action").to_string())
        .collect()
}

fn for_firm(mut body: Value, firm: &str) -> Value {
    body["firm_id"] = json!(firm);
    body
}

#[tokio::test]
async fn staff_post_edit_and_close_for_a_firm_of_their_community_only() {
    let app = spawn_app().await;
    let w = app.world().await;
    // Staff must name the firm; another community's firm does not exist
    // for them; a member cannot post for another firm.
    app.post(
        "/api/v1/listings",
        &w.staff1.token,
        &space_offer("厂房出租"),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        "/api/v1/listings",
        &w.staff2.token,
        &for_firm(space_offer("厂房出租"), &w.a.id),
    )
    .await
    .expect_problem(404, "not_found");
    app.post(
        "/api/v1/listings",
        &w.a.admin.token,
        &for_firm(space_offer("厂房出租"), &w.b.id),
    )
    .await
    .expect_problem(403, "forbidden");

    let posted = app
        .post(
            "/api/v1/listings",
            &w.staff1.token,
            &for_firm(space_offer("大港 2000 平厂房出租"), &w.a.id),
        )
        .await;
    let l = posted.expect(201).clone();
    let id = id_of(&l);
    assert_eq!(l["firm"]["id"], w.a.id);
    let staff_id = app.get("/api/v1/me", &w.staff1.token).await.expect(200)["user"]["id"].clone();
    assert_eq!(l["posted_by_staff"], staff_id);
    // The firm sees it as its own, with the marker.
    let mine = app
        .get("/api/v1/listings?mine=true", &w.a.admin.token)
        .await;
    let mine = mine.expect(200)["items"].as_array().expect("items").clone();
    assert!(
        mine.iter()
            .any(|m| m["id"] == id && m["posted_by_staff"] == staff_id)
    );
    assert!(
        notification_types(&app, &w.a.admin.token)
            .await
            .contains(&"listing.staff_action".to_string())
    );

    // Staff edit it (the firm is told again); the other community cannot.
    let edited = app
        .patch(
            &format!("/api/v1/listings/{id}"),
            &w.staff1.token,
            &json!({"title": "大港 2000 平厂房出租 可分租"}),
        )
        .await;
    assert_eq!(edited.expect(200)["title"], "大港 2000 平厂房出租 可分租");
    app.patch(
        &format!("/api/v1/listings/{id}"),
        &w.staff2.token,
        &json!({"title": "别的社区改的"}),
    )
    .await
    .expect(403);
    // Staff close it; the firm's admins are told; everything is audited.
    let closed = app
        .post_empty(&format!("/api/v1/listings/{id}/close"), &w.staff1.token)
        .await;
    assert_eq!(closed.expect(200)["status"], "closed");
    let told = notification_types(&app, &w.a.admin.token).await;
    assert_eq!(
        told.iter().filter(|t| *t == "listing.staff_action").count(),
        3,
        "posted, edited, closed: {told:?}"
    );
    let actions = audit_actions(&app, &w.staff1.token).await;
    for a in [
        "listing.posted_for_firm",
        "listing.edited_for_firm",
        "listing.closed_for_firm",
    ] {
        assert!(actions.contains(&a.to_string()), "{a} in {actions:?}");
    }
}

#[tokio::test]
async fn a_firm_admin_takes_over_what_staff_posted_and_staff_can_no_longer_edit() {
    let app = spawn_app().await;
    let w = app.world().await;
    let l = app
        .create_listing(&w.staff1, &for_firm(space_offer("代发：仓库出租"), &w.a.id))
        .await;
    let id = id_of(&l);
    let member = app.add_member(&w.a.admin, &w.a.id).await;
    // Only the firm's admins take over (others see the public listing but
    // may not change it).
    for s in [&member, &w.b.admin, &w.c.admin, &w.staff1] {
        app.post_empty(&format!("/api/v1/listings/{id}/take-over"), &s.token)
            .await
            .expect_problem(403, "forbidden");
    }
    let taken = app
        .post_empty(
            &format!("/api/v1/listings/{id}/take-over"),
            &w.a.admin.token,
        )
        .await;
    assert_eq!(taken.expect(200)["posted_by_staff"], Value::Null);
    // Again: nothing changes.
    let again = app
        .post_empty(
            &format!("/api/v1/listings/{id}/take-over"),
            &w.a.admin.token,
        )
        .await;
    assert_eq!(again.expect(200)["version"], taken.body["version"]);
    assert!(
        notification_types(&app, &w.staff1.token)
            .await
            .contains(&"listing.taken_over".to_string())
    );
    app.patch(
        &format!("/api/v1/listings/{id}"),
        &w.staff1.token,
        &json!({"title": "工作人员不能再改"}),
    )
    .await
    .expect_problem(403, "forbidden");
    // The firm closes it as its own.
    let closed = app
        .post_empty(&format!("/api/v1/listings/{id}/close"), &w.a.admin.token)
        .await;
    assert_eq!(closed.expect(200)["status"], "closed");
    assert!(
        audit_actions(&app, &w.staff1.token)
            .await
            .contains(&"listing.taken_over".to_string())
    );
}

#[tokio::test]
async fn matching_treats_a_listing_posted_for_a_firm_as_the_firms() {
    let app = spawn_app().await;
    let w = app.world().await;
    let offer = app
        .post(
            "/api/v1/listings?wait=indexed",
            &w.b.admin.token,
            &compressor_offer(),
        )
        .await;
    let offer = id_of(offer.expect(201));
    let request = app
        .post(
            "/api/v1/listings?wait=indexed",
            &w.staff1.token,
            &for_firm(compressor_request(), &w.a.id),
        )
        .await;
    let request = id_of(request.expect(201));
    let page = app
        .get(
            &format!("/api/v1/listings/{request}/matches"),
            &w.a.admin.token,
        )
        .await;
    let items = page.expect(200)["items"].as_array().expect("items").clone();
    assert!(
        items.iter().any(|m| m["listing"]["id"] == offer),
        "{items:?}"
    );
    // From the offer's side, the request is firm A's.
    let back = app
        .get(
            &format!("/api/v1/listings/{offer}/matches"),
            &w.b.admin.token,
        )
        .await;
    let back = back.expect(200)["items"].as_array().expect("items").clone();
    let seen = back
        .iter()
        .find(|m| m["listing"]["id"] == request)
        .expect("the request");
    assert_eq!(seen["listing"]["firm"]["id"], w.a.id);
}

#[tokio::test]
async fn any_listing_becomes_a_case_with_normal_sla_targets() {
    let app = spawn_app_with(&[("ZQL_SLA_NORMAL", "120/600/2880")]).await;
    let w = app.world().await;
    let request = app
        .create_listing(
            &w.a.admin,
            &listing("request", "material", "求购 304 不锈钢板", "public"),
        )
        .await;
    let rid = id_of(&request);
    // Not the firm's listing: 403; another community's firm cannot see it… it is public: 403.
    app.post(
        &format!("/api/v1/listings/{rid}/ask-community"),
        &w.b.admin.token,
        &json!({}),
    )
    .await
    .expect_problem(403, "forbidden");
    let asked = app
        .post(
            &format!("/api/v1/listings/{rid}/ask-community"),
            &w.a.admin.token,
            &json!({"note": "量不大，急着试产"}),
        )
        .await;
    let k = asked.expect(201).clone();
    assert_eq!(k["urgency"], "normal");
    assert_eq!(k["status"], "open");
    assert_eq!(k["opened_now"], true);
    let kid = id_of(&k);
    // Asking again answers the open case.
    let again = app
        .post(
            &format!("/api/v1/listings/{rid}/ask-community"),
            &w.a.admin.token,
            &json!({}),
        )
        .await;
    assert_eq!(again.expect(200)["id"], kid);
    // The case is in the queue with the normal targets.
    let case = app
        .get(&format!("/api/v1/staff/cases/{kid}"), &w.staff1.token)
        .await;
    let case = case.expect(200).clone();
    assert_eq!(case["urgency"], "normal");
    assert_eq!(case["sla"]["claim"]["target_secs"], 120 * 60);
    assert_eq!(case["sla"]["resolve"]["target_secs"], 2880 * 60);
    assert!(
        notification_types(&app, &w.staff1.token)
            .await
            .contains(&"case.opened".to_string())
    );
    let sla = app.get("/api/v1/staff/sla", &w.staff1.token).await;
    let normal = sla.expect(200)["by_urgency"]
        .as_array()
        .expect("by urgency")
        .iter()
        .find(|u| u["urgency"] == "normal")
        .cloned()
        .expect("a normal row");
    assert_eq!(normal["cases"], 1);

    // Staff open a case from an offer of their community; not from another's.
    let offer = app.create_listing(&w.b.admin, &compressor_offer()).await;
    let oid = id_of(&offer);
    app.post(
        "/api/v1/staff/cases",
        &w.staff2.token,
        &json!({"listing_id": oid}),
    )
    .await
    .expect_problem(404, "not_found");
    app.post(
        "/api/v1/staff/cases",
        &w.a.admin.token,
        &json!({"listing_id": oid}),
    )
    .await
    .expect_problem(403, "forbidden");
    let opened = app
        .post(
            "/api/v1/staff/cases",
            &w.staff1.token,
            &json!({"listing_id": oid, "note": "港城来电：设备闲置，想找人用"}),
        )
        .await;
    assert_eq!(opened.expect(201)["urgency"], "normal");
    let actions = audit_actions(&app, &w.staff1.token).await;
    assert!(actions.contains(&"case.requested_by_firm".to_string()));
    assert!(actions.contains(&"case.opened_by_staff".to_string()));
    // A closed listing does not become a case.
    app.post_empty(&format!("/api/v1/listings/{oid}/close"), &w.b.admin.token)
        .await
        .expect(200);
    let other = app.create_listing(&w.b.admin, &compressor_request()).await;
    let other = id_of(&other);
    app.post_empty(&format!("/api/v1/listings/{other}/close"), &w.b.admin.token)
        .await
        .expect(200);
    app.post(
        "/api/v1/staff/cases",
        &w.staff1.token,
        &json!({"listing_id": other}),
    )
    .await
    .expect_problem(409, "listing_closed");
}

#[tokio::test]
async fn internal_case_notes_are_for_staff_only() {
    let app = spawn_app().await;
    let w = app.world().await;
    let request = app.create_listing(&w.a.admin, &compressor_request()).await;
    let rid = id_of(&request);
    let k = app
        .post(
            &format!("/api/v1/listings/{rid}/ask-community"),
            &w.a.admin.token,
            &json!({}),
        )
        .await;
    let kid = id_of(k.expect(201));
    let secret = "内部：该企业上月欠费，先核实再对接";
    let note = app
        .post(
            &format!("/api/v1/staff/cases/{kid}/notes"),
            &w.staff1.token,
            &json!({"body": secret}),
        )
        .await;
    assert_eq!(note.expect(201)["body"], secret);
    app.post(
        &format!("/api/v1/staff/cases/{kid}/notes"),
        &w.staff1.token,
        &json!({"body": "  "}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let notes = app
        .get(&format!("/api/v1/staff/cases/{kid}/notes"), &w.staff1.token)
        .await;
    assert_eq!(notes.expect(200)["items"][0]["body"], secret);
    // Firms (the case's own included) and other communities' staff: 404.
    for s in [&w.a.admin, &w.b.admin, &w.staff2] {
        app.get(&format!("/api/v1/staff/cases/{kid}/notes"), &s.token)
            .await
            .expect_problem(404, "not_found");
        app.post(
            &format!("/api/v1/staff/cases/{kid}/notes"),
            &s.token,
            &json!({"body": "试图写入"}),
        )
        .await
        .expect_problem(404, "not_found");
    }
    // Nothing the firm reads carries the note.
    for path in [
        format!("/api/v1/listings/{rid}"),
        "/api/v1/notifications".to_string(),
        "/api/v1/threads".to_string(),
    ] {
        let r = app.get(&path, &w.a.admin.token).await;
        assert!(
            !r.expect(200).to_string().contains(secret),
            "{path} leaks the note"
        );
    }
    let asked = app
        .post(
            &format!("/api/v1/listings/{rid}/ask-community"),
            &w.a.admin.token,
            &json!({}),
        )
        .await;
    assert!(!asked.expect(200).to_string().contains(secret));
}

// ------------------------------------------------------- account lifecycle

const NEW_PASSWORD: &str = "tide-lantern-granite-57";

async fn user_id(app: &TestApp, s: &Session) -> String {
    app.get("/api/v1/me", &s.token).await.expect(200)["user"]["id"]
        .as_str()
        .expect("id")
        .to_string()
}

#[tokio::test]
async fn changing_a_password_needs_the_old_one_a_strong_new_one_and_ends_sessions() {
    let app = spawn_app().await;
    let w = app.world().await;
    let s = &w.a.admin;
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let r = app
        .post(
            "/api/v1/me/password",
            &s.token,
            &change("wrong-one-99", NEW_PASSWORD),
        )
        .await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(
        r.field_code("current_password").as_deref(),
        Some("wrong_password")
    );
    // Long but guessable passwords fail the estimator, not only short ones.
    for weak in ["password1234", "qwertyuiop", "11111111a"] {
        let r = app
            .post("/api/v1/me/password", &s.token, &change(PASSWORD, weak))
            .await;
        r.expect_problem(422, "validation_failed");
        assert_eq!(
            r.field_code("new_password").as_deref(),
            Some("weak_password"),
            "{weak}"
        );
    }
    app.post(
        "/api/v1/me/password",
        &s.token,
        &change(PASSWORD, NEW_PASSWORD),
    )
    .await
    .expect(204);
    // The old token and refresh token end at once; the new password works.
    app.get("/api/v1/me", &s.token)
        .await
        .expect_problem(401, "session_ended");
    app.post_anon("/api/v1/auth/refresh", &json!({"refresh_token": s.refresh}))
        .await
        .expect(401);
    app.login(&s.login, PASSWORD).await.expect(401);
    let fresh = app.login(&s.login, NEW_PASSWORD).await;
    let t = fresh.expect(200)["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    app.get("/api/v1/me", &t).await.expect(200);
}

#[tokio::test]
async fn staff_issue_one_time_expiring_reset_codes_for_their_community_only() {
    let app = spawn_app().await;
    let w = app.world().await;
    let member = app.add_member(&w.a.admin, &w.a.id).await;
    let uid = user_id(&app, &member).await;
    // Only staff of the member's community; firms cannot.
    for s in [&w.staff2, &w.b.admin] {
        let r = app
            .post(
                "/api/v1/staff/password-resets",
                &s.token,
                &json!({"user_id": uid}),
            )
            .await;
        assert!(matches!(r.status.as_u16(), 403 | 404), "{:?}", r.body);
    }
    let issued = app
        .post(
            "/api/v1/staff/password-resets",
            &w.staff1.token,
            &json!({"user_id": uid}),
        )
        .await;
    let code = issued.expect(201)["code"]
        .as_str()
        .expect("code")
        .to_string();
    let reset =
        |code: &str, pw: &str| json!({"login": member.login, "code": code, "new_password": pw});
    app.post_anon(
        "/api/v1/auth/reset-password",
        &reset("WRONGCODE2", NEW_PASSWORD),
    )
    .await
    .expect_problem(400, "invalid_reset_code");
    app.post_anon("/api/v1/auth/reset-password", &reset(&code, "password1234"))
        .await
        .expect_problem(422, "validation_failed");
    // Typed with a dash and in lower case, as read out over the phone.
    let typed = format!("{}-{}", &code[..5], code[5..].to_lowercase());
    app.post_anon("/api/v1/auth/reset-password", &reset(&typed, NEW_PASSWORD))
        .await
        .expect(204);
    app.get("/api/v1/me", &member.token)
        .await
        .expect_problem(401, "session_ended");
    app.login(&member.login, NEW_PASSWORD).await.expect(200);
    // Single use.
    app.post_anon(
        "/api/v1/auth/reset-password",
        &reset(&code, "another-tide-lantern-58"),
    )
    .await
    .expect_problem(400, "invalid_reset_code");
    // Expired codes fail.
    let second = app
        .post(
            "/api/v1/staff/password-resets",
            &w.staff1.token,
            &json!({"user_id": uid}),
        )
        .await;
    let second = second.expect(201)["code"]
        .as_str()
        .expect("code")
        .to_string();
    {
        use diesel::{ExpressionMethods, RunQueryDsl};
        use zhiqilian::store::schema::password_resets;
        let past = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1);
        app.db()
            .run(move |c| {
                diesel::update(password_resets::table)
                    .set(password_resets::expires_at.eq(past))
                    .execute(c)?;
                Ok(())
            })
            .await
            .expect("expire the codes");
    }
    app.post_anon(
        "/api/v1/auth/reset-password",
        &reset(&second, "another-tide-lantern-58"),
    )
    .await
    .expect_problem(400, "invalid_reset_code");
    assert!(
        audit_actions(&app, &w.staff1.token)
            .await
            .contains(&"account.reset_code_issued".to_string())
    );
}

#[tokio::test]
async fn an_admin_invites_removes_and_hands_over_and_removal_ends_streams_at_once() {
    let app = spawn_app().await;
    let w = app.world().await;
    // Only the firm's admin invites.
    app.post_empty(
        &format!("/api/v1/firms/{}/invites", w.a.id),
        &w.b.admin.token,
    )
    .await
    .expect(404);
    let inv = app
        .post_empty(
            &format!("/api/v1/firms/{}/invites", w.a.id),
            &w.a.admin.token,
        )
        .await;
    let code = inv.expect(201)["code"].as_str().expect("code").to_string();
    let login = new_phone();
    let join = |code: &str, login: &str| json!({"code": code, "login": login, "password": PASSWORD, "display_name": "新同事"});
    app.post_anon("/api/v1/firms/join", &join("NOPE", &login))
        .await
        .expect_problem(400, "invalid_invite");
    let joined = app
        .post_anon("/api/v1/firms/join", &join(&code, &login))
        .await;
    assert_eq!(joined.expect(201)["firm_id"], w.a.id);
    app.post_anon("/api/v1/firms/join", &join(&code, &new_phone()))
        .await
        .expect_problem(400, "invalid_invite");
    let colleague = app.session(&login).await;
    let me = app.get("/api/v1/me", &colleague.token).await;
    assert_eq!(me.expect(200)["firm"]["id"], w.a.id);
    let cid = user_id(&app, &colleague).await;

    // The colleague has a live stream and a ticket when removed.
    let mut live = app.events(&colleague.token, None).await;
    let ticket = app
        .post_empty("/api/v1/events/ticket", &colleague.token)
        .await;
    let ticket = ticket.expect(200)["ticket"]
        .as_str()
        .expect("ticket")
        .to_string();
    app.request(
        reqwest::Method::DELETE,
        &format!("/api/v1/firms/{}/members/{cid}", w.a.id),
        Some(&colleague.token),
        None,
    )
    .await
    .expect_problem(403, "forbidden");
    app.request(
        reqwest::Method::DELETE,
        &format!("/api/v1/firms/{}/members/{cid}", w.a.id),
        Some(&w.a.admin.token),
        None,
    )
    .await
    .expect(204);
    let seen = live
        .until(std::time::Duration::from_secs(5), |e| e.event == "revoked")
        .await;
    assert!(seen.iter().any(|e| e.event == "revoked"), "{seen:?}");
    app.get("/api/v1/me", &colleague.token)
        .await
        .expect_problem(401, "session_ended");
    app.get_anon(&format!("/api/v1/events?ticket={ticket}"))
        .await
        .expect_problem(401, "session_ended");
    app.post_anon(
        "/api/v1/auth/refresh",
        &json!({"refresh_token": colleague.refresh}),
    )
    .await
    .expect(401);
    // Signing in again gives no firm.
    let again = app.session(&login).await;
    let me = app.get("/api/v1/me", &again.token).await;
    assert_eq!(me.expect(200)["firm"], Value::Null);

    // Hand-over: the member becomes admin; the old admin signs in again as
    // a member.
    let member = app.add_member(&w.a.admin, &w.a.id).await;
    let mid = user_id(&app, &member).await;
    app.post(
        &format!("/api/v1/firms/{}/admin", w.a.id),
        &w.a.admin.token,
        &json!({"user_id": cid}),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        &format!("/api/v1/firms/{}/admin", w.a.id),
        &w.a.admin.token,
        &json!({"user_id": mid}),
    )
    .await
    .expect(204);
    app.get("/api/v1/me", &w.a.admin.token)
        .await
        .expect_problem(401, "session_ended");
    let new_admin = app.session(&member.login).await;
    let me = app.get("/api/v1/me", &new_admin.token).await;
    assert_eq!(me.expect(200)["firm"]["role"], "admin");
    let old_admin = app.session(&w.a.admin.login).await;
    let me = app.get("/api/v1/me", &old_admin.token).await;
    assert_eq!(me.expect(200)["firm"]["role"], "member");
    let actions = audit_actions(&app, &w.staff1.token).await;
    assert!(actions.contains(&"firm.member_removed".to_string()));
    assert!(actions.contains(&"firm.admin_handed_over".to_string()));
}

#[tokio::test]
async fn a_new_name_or_uscc_sends_the_firm_back_to_verification() {
    let app = spawn_app().await;
    let w = app.world().await;
    let path = format!("/api/v1/firms/{}", w.a.id);
    let offer = app
        .create_listing(&w.a.admin, &space_offer("厂房出租 改名测试"))
        .await;
    let oid = id_of(&offer);
    let member = app.add_member(&w.a.admin, &w.a.id).await;
    app.patch(&path, &member.token, &json!({"address": "别处"}))
        .await
        .expect_problem(403, "forbidden");
    app.patch(&path, &w.b.admin.token, &json!({"address": "别处"}))
        .await
        .expect(404);
    app.patch(&path, &w.a.admin.token, &json!({"uscc": "123"}))
        .await
        .expect_problem(422, "validation_failed");
    let r = app
        .patch(
            &path,
            &w.a.admin.token,
            &json!({"address": "宁波市北仑区新碶街道 88 号"}),
        )
        .await;
    assert_eq!(r.expect(200)["verified"], true);
    let r = app
        .patch(
            &path,
            &w.a.admin.token,
            &json!({"name": "甬江精密机械有限公司"}),
        )
        .await;
    let body = r.expect(200);
    assert_eq!(body["verified"], false);
    assert_eq!(body["name"], "甬江精密机械有限公司");
    // Its listings leave other firms' view until staff verify it again.
    app.get(&format!("/api/v1/listings/{oid}"), &w.b.admin.token)
        .await
        .expect(404);
    assert!(
        notification_types(&app, &w.staff1.token)
            .await
            .contains(&"firm.reverify".to_string())
    );
    app.verify_firm(&w.staff1, &w.a.id).await;
    app.get(&format!("/api/v1/listings/{oid}"), &w.b.admin.token)
        .await
        .expect(200);
}

#[tokio::test]
async fn a_user_exports_their_data_and_deletes_their_account() {
    let app = spawn_app().await;
    let w = app.world().await;
    let member = app.add_member(&w.a.admin, &w.a.id).await;
    let uid = user_id(&app, &member).await;
    let l = app
        .create_listing(&member, &space_offer("业务员发布的厂房"))
        .await;
    let data = app.get("/api/v1/me/export", &member.token).await;
    let data = data.expect(200).clone();
    assert_eq!(data["user"]["id"], uid);
    assert_eq!(data["user"]["phone"], member.login);
    assert_eq!(data["firm_membership"]["firm_id"], w.a.id);
    assert_eq!(data["listings_posted"][0]["id"], l["id"]);

    // The only admin of a firm with colleagues hands over first.
    app.post(
        "/api/v1/me/delete",
        &w.a.admin.token,
        &json!({"password": PASSWORD}),
    )
    .await
    .expect_problem(409, "hand_over_first");
    app.post(
        "/api/v1/me/delete",
        &member.token,
        &json!({"password": "wrong-pass-77"}),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        "/api/v1/me/delete",
        &member.token,
        &json!({"password": PASSWORD}),
    )
    .await
    .expect(204);
    app.get("/api/v1/me", &member.token)
        .await
        .expect_problem(401, "session_ended");
    app.login(&member.login, PASSWORD).await.expect(401);
    // The listing stays, the firm's; the login is free again.
    let kept = app
        .get(&format!("/api/v1/listings/{}", id_of(&l)), &w.a.admin.token)
        .await;
    assert_eq!(kept.expect(200)["firm"]["id"], w.a.id);
    let (phone, email, name, deleted): (Option<String>, Option<String>, String, bool) = {
        use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, RunQueryDsl};
        use zhiqilian::store::schema::users;
        let id = uid.clone();
        app.db()
            .run(move |c| {
                Ok(users::table
                    .filter(users::id.eq(&id))
                    .select((
                        users::phone,
                        users::email,
                        users::display_name,
                        users::deleted_at.is_not_null(),
                    ))
                    .first(c)
                    .optional()?
                    .expect("the row is kept"))
            })
            .await
            .expect("read")
    };
    assert_eq!((phone, deleted), (None, true));
    assert!(email.expect("a placeholder").ends_with("@deleted.invalid"));
    assert!(name.starts_with("已注销用户-"), "{name}");
    let r = app
        .post(
            &format!("/api/v1/firms/{}/members", w.a.id),
            &w.a.admin.token,
            &json!({"login": member.login, "password": PASSWORD, "display_name": "新人"}),
        )
        .await;
    r.expect(201);
}

// -------------------------------------------------------------- moderation

async fn moderate(app: &TestApp, staff: &Session, body: Value) -> Reply {
    app.post("/api/v1/staff/moderation/actions", &staff.token, &body)
        .await
}

#[tokio::test]
async fn reports_need_a_reason_and_a_subject_the_reporter_can_see() {
    let app = spawn_app().await;
    let w = app.world().await;
    let offer = app.create_listing(&w.b.admin, &compressor_offer()).await;
    let oid = id_of(&offer);
    let mut inner = space_offer("仅本社区可见的厂房");
    inner["visibility"] = json!("community");
    let hidden_from_c = id_of(&app.create_listing(&w.b.admin, &inner).await);
    let r = app
        .post(
            "/api/v1/reports",
            &w.a.admin.token,
            &json!({"subject_type": "listing", "subject_id": oid, "reason": "dislike"}),
        )
        .await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.field_code("reason").as_deref(), Some("invalid_value"));
    app.post(
        "/api/v1/reports",
        &w.c.admin.token,
        &json!({"subject_type": "listing", "subject_id": hidden_from_c, "reason": "spam"}),
    )
    .await
    .expect_problem(404, "not_found");
    app.post_anon(
        "/api/v1/reports",
        &json!({"subject_type": "firm", "subject_id": w.b.id, "reason": "spam"}),
    )
    .await
    .expect_problem(401, "unauthenticated");
    for (kind, id) in [("listing", oid.as_str()), ("firm", w.b.id.as_str())] {
        let r = app
            .post(
                "/api/v1/reports",
                &w.a.admin.token,
                &json!({"subject_type": kind, "subject_id": id, "reason": "fraud",
                        "text": "报价明显不实"}),
            )
            .await;
        assert_eq!(r.expect(201)["firm_id"], w.b.id);
    }
    // The queue is the community's staff's, with the firm's history.
    let q = app
        .get("/api/v1/staff/moderation?status=open", &w.staff1.token)
        .await;
    let items = q.expect(200)["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["firm"]["reports"], 2);
    assert_eq!(items[0]["firm"]["actions"], 0);
    let other = app.get("/api/v1/staff/moderation", &w.staff2.token).await;
    assert_eq!(
        other.expect(200)["items"].as_array().expect("items").len(),
        0
    );
    app.get("/api/v1/staff/moderation", &w.a.admin.token)
        .await
        .expect_problem(403, "forbidden");
    assert!(
        notification_types(&app, &w.staff1.token)
            .await
            .contains(&"report.filed".to_string())
    );
    // Dismissing closes that report only.
    let rid = id_of(&items[0]);
    let done = moderate(
        &app,
        &w.staff1,
        json!({"action": "dismiss", "report_id": rid, "reason": "核实无误"}),
    )
    .await;
    assert_eq!(done.expect(201)["reports_closed"], 1);
    let q = app
        .get("/api/v1/staff/moderation?status=open", &w.staff1.token)
        .await;
    assert_eq!(q.expect(200)["items"].as_array().expect("items").len(), 1);
}

#[tokio::test]
async fn hiding_a_listing_tells_its_firm_why_and_removing_a_message_leaves_a_notice() {
    let app = spawn_app().await;
    let w = app.world().await;
    let offer = app.create_listing(&w.b.admin, &compressor_offer()).await;
    let oid = id_of(&offer);
    let r = app
        .post(
            "/api/v1/reports",
            &w.a.admin.token,
            &json!({"subject_type": "listing", "subject_id": oid, "reason": "fraud"}),
        )
        .await;
    let rid = id_of(r.expect(201));
    // Another community's staff cannot act on it.
    moderate(
        &app,
        &w.staff2,
        json!({"action": "hide_listing", "report_id": rid, "reason": "虚假信息"}),
    )
    .await
    .expect_problem(404, "not_found");
    moderate(
        &app,
        &w.staff1,
        json!({"action": "hide_listing", "report_id": rid, "reason": "虚假信息"}),
    )
    .await
    .expect(201);
    app.get(&format!("/api/v1/listings/{oid}"), &w.a.admin.token)
        .await
        .expect(404);
    let own = app
        .get(&format!("/api/v1/listings/{oid}"), &w.b.admin.token)
        .await;
    let own = own.expect(200);
    assert_eq!(own["status"], "closed");
    assert_eq!(own["hidden"]["reason"], "虚假信息");
    assert!(
        notification_types(&app, &w.b.admin.token)
            .await
            .contains(&"moderation".to_string())
    );

    // A message in a thread between A and B, reported by A, removed.
    let l = app
        .create_listing(&w.b.admin, &space_offer("厂房出租 可谈"))
        .await;
    let t = app
        .post(
            "/api/v1/threads",
            &w.a.admin.token,
            &json!({"listing_id": id_of(&l)}),
        )
        .await;
    let tid = id_of(t.expect(201));
    let m = crate::threads::say(
        &app,
        &w.b.admin.token,
        &tid,
        "m-1",
        "加我私人微信，先付定金",
    )
    .await;
    let mid = id_of(&m);
    app.post(
        "/api/v1/reports",
        &w.c.admin.token,
        &json!({"subject_type": "message", "subject_id": mid, "reason": "fraud"}),
    )
    .await
    .expect_problem(404, "not_found");
    app.post(
        "/api/v1/reports",
        &w.a.admin.token,
        &json!({"subject_type": "message", "subject_id": mid, "reason": "fraud"}),
    )
    .await
    .expect(201);
    moderate(
        &app,
        &w.staff1,
        json!({"action": "remove_message", "target_id": mid, "reason": "诱导场外交易"}),
    )
    .await
    .expect(201);
    let msgs = app
        .get(&format!("/api/v1/threads/{tid}/messages"), &w.a.admin.token)
        .await;
    let msgs = msgs.expect(200)["items"].as_array().expect("items").clone();
    let shown = msgs.iter().find(|x| x["id"] == mid).expect("the message");
    let text = shown["text"].as_str().expect("text");
    assert!(text.contains("已被社区工作人员移除"), "{text}");
    assert!(!text.contains("私人微信"));
    let actions = audit_actions(&app, &w.staff1.token).await;
    assert!(actions.contains(&"moderation.hide_listing".to_string()));
    assert!(actions.contains(&"moderation.remove_message".to_string()));
}

#[tokio::test]
async fn suspending_a_firm_hides_its_listings_refuses_sign_in_and_ends_sessions() {
    let app = spawn_app().await;
    let w = app.world().await;
    let offer = app.create_listing(&w.b.admin, &compressor_offer()).await;
    let oid = id_of(&offer);
    let member = app.add_member(&w.b.admin, &w.b.id).await;
    let mut live = app.events(&member.token, None).await;
    moderate(
        &app,
        &w.staff1,
        json!({"action": "warn_firm", "target_id": w.b.id, "reason": "重复发布"}),
    )
    .await
    .expect(201);
    moderate(
        &app,
        &w.staff2,
        json!({"action": "suspend_firm", "target_id": w.b.id, "reason": "x"}),
    )
    .await
    .expect_problem(404, "not_found");
    moderate(
        &app,
        &w.a.admin,
        json!({"action": "suspend_firm", "target_id": w.b.id, "reason": "x"}),
    )
    .await
    .expect_problem(403, "forbidden");
    moderate(
        &app,
        &w.staff1,
        json!({"action": "suspend_firm", "target_id": w.b.id, "reason": "多次虚假发布"}),
    )
    .await
    .expect(201);
    moderate(
        &app,
        &w.staff1,
        json!({"action": "suspend_firm", "target_id": w.b.id, "reason": "again"}),
    )
    .await
    .expect_problem(409, "already_suspended");
    // Tokens and streams end at once; sign-in is refused with a clear code.
    let seen = live
        .until(std::time::Duration::from_secs(5), |e| e.event == "revoked")
        .await;
    assert!(seen.iter().any(|e| e.event == "revoked"), "{seen:?}");
    for s in [&w.b.admin, &member] {
        app.get("/api/v1/me", &s.token)
            .await
            .expect_problem(403, "firm_suspended");
        app.login(&s.login, PASSWORD)
            .await
            .expect_problem(403, "firm_suspended");
    }
    // Its API clients act for no one either.
    let created = app
        .post(
            "/api/v1/clients",
            &w.staff1.token,
            &json!({"name": "港城 ERP", "firm_id": w.b.id, "scopes": ["listings:read"]}),
        )
        .await;
    let created = created.expect(201).clone();
    let token = app
        .send(app.client.post(app.url("/api/v1/oauth/token")).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", created["id"].as_str().expect("id")),
            (
                "client_secret",
                created["client_secret"].as_str().expect("secret"),
            ),
        ]))
        .await;
    let client_token = token.expect(200)["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    app.get("/api/v1/listings", &client_token)
        .await
        .expect_problem(403, "firm_suspended");
    // Its listings leave others' view (staff still see them).
    app.get(&format!("/api/v1/listings/{oid}"), &w.a.admin.token)
        .await
        .expect(404);
    app.get(&format!("/api/v1/listings/{oid}"), &w.staff1.token)
        .await
        .expect(200);
    let q = app.get("/api/v1/staff/moderation", &w.staff1.token).await;
    q.expect(200);
    // Lifting brings both back.
    moderate(
        &app,
        &w.staff1,
        json!({"action": "lift_suspension", "target_id": w.b.id, "reason": "已整改"}),
    )
    .await
    .expect(201);
    app.login(&w.b.admin.login, PASSWORD).await.expect(200);
    app.get("/api/v1/listings", &client_token).await.expect(200);
    app.get(&format!("/api/v1/listings/{oid}"), &w.a.admin.token)
        .await
        .expect(200);
    let actions = audit_actions(&app, &w.staff1.token).await;
    for a in [
        "moderation.warn_firm",
        "moderation.suspend_firm",
        "moderation.lift_suspension",
    ] {
        assert!(actions.contains(&a.to_string()), "{a} in {actions:?}");
    }
}

/// Ids of the listings a search for 空压机 shows the caller, once the index
/// agrees with `want` (present or not) or the wait runs out.
async fn compressor_search_has(app: &TestApp, token: &str, id: &str, want: bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let hits = app
            .all_pages("/api/v1/listings/search?q=空压机&limit=100", token)
            .await;
        let has = hits.iter().any(|h| h["listing"]["id"] == id);
        if has == want || std::time::Instant::now() > deadline {
            return has;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn unverifying_a_firm_takes_its_listings_out_of_view_until_verified_again() {
    let app = spawn_app().await;
    let w = app.world().await;
    let offer = app.create_listing(&w.b.admin, &compressor_offer()).await;
    let oid = id_of(&offer);
    assert!(compressor_search_has(&app, &w.a.admin.token, &oid, true).await);
    // Another community's staff and firms may not.
    moderate(
        &app,
        &w.staff2,
        json!({"action": "unverify_firm", "target_id": w.b.id, "reason": "x"}),
    )
    .await
    .expect_problem(404, "not_found");
    moderate(
        &app,
        &w.a.admin,
        json!({"action": "unverify_firm", "target_id": w.b.id, "reason": "x"}),
    )
    .await
    .expect_problem(403, "forbidden");
    let done = moderate(
        &app,
        &w.staff1,
        json!({"action": "unverify_firm", "target_id": w.b.id, "reason": "营业执照已注销"}),
    )
    .await;
    assert_eq!(done.expect(201)["action"], "unverify_firm");
    moderate(
        &app,
        &w.staff1,
        json!({"action": "unverify_firm", "target_id": w.b.id, "reason": "again"}),
    )
    .await
    .expect_problem(409, "not_verified");
    let firm = app
        .get(&format!("/api/v1/firms/{}", w.b.id), &w.staff1.token)
        .await;
    assert_eq!(firm.expect(200)["verified"], false);
    // Out of others' view and search; its own users still sign in and see it.
    app.get(&format!("/api/v1/listings/{oid}"), &w.a.admin.token)
        .await
        .expect(404);
    assert!(!compressor_search_has(&app, &w.a.admin.token, &oid, false).await);
    app.login(&w.b.admin.login, PASSWORD).await.expect(200);
    app.get(&format!("/api/v1/listings/{oid}"), &w.b.admin.token)
        .await
        .expect(200);
    assert!(
        notification_types(&app, &w.b.admin.token)
            .await
            .contains(&"moderation".to_string())
    );
    // Verified again, it is back.
    app.post(
        &format!("/api/v1/firms/{}/verify", w.b.id),
        &w.staff1.token,
        &json!({}),
    )
    .await
    .expect(200);
    app.get(&format!("/api/v1/listings/{oid}"), &w.a.admin.token)
        .await
        .expect(200);
    assert!(compressor_search_has(&app, &w.a.admin.token, &oid, true).await);
    let actions = audit_actions(&app, &w.staff1.token).await;
    assert!(
        actions.contains(&"moderation.unverify_firm".to_string()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn the_digest_lists_open_needs_most_pressing_first_with_short_links() {
    let app = spawn_app().await;
    let w = app.world().await;
    let normal = id_of(
        &app.create_listing(
            &w.a.admin,
            &json!({"side": "request", "kind": "material", "title": "求购铝锭 A00",
                    "quantity": {"amount": 100, "unit": "吨"},
                    "attributes": {"material_name": "铝锭"}}),
        )
        .await,
    );
    let urgent = id_of(
        &app.create_listing(
            &w.b.admin,
            &json!({"side": "request", "kind": "equipment", "title": "急租空压机 产线停了",
                    "urgency": "emergency", "attributes": {"equipment_type": "空压机"}}),
        )
        .await,
    );
    // Not in the digest: an offer, another community's need, a closed one.
    app.create_listing(&w.a.admin, &compressor_offer()).await;
    app.create_listing(&w.c.admin, &compressor_request()).await;
    let closed = id_of(&app.create_listing(&w.a.admin, &compressor_request()).await);
    app.post(
        &format!("/api/v1/listings/{closed}/close"),
        &w.a.admin.token,
        &json!({}),
    )
    .await
    .expect(200);

    let d = app.get("/api/v1/staff/digest", &w.staff1.token).await;
    let d = d.expect(200).clone();
    let ids: Vec<&str> = d["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["listing_id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [urgent.as_str(), normal.as_str()], "{d:#}");
    assert_eq!(d["community_id"], w.c1);
    assert_eq!(d["days"], 7);
    assert_eq!(d["items"][1]["remaining"], "100 吨");
    let text = d["text"].as_str().expect("text");
    let url = |i: usize| {
        d["items"][i]["short_url"]
            .as_str()
            .expect("url")
            .to_string()
    };
    assert!(text.contains("需求 2 条"), "{text}");
    assert!(
        text.contains(&format!("1. 【紧急】急租空压机 产线停了（设备）{}", url(0))),
        "{text}"
    );
    assert!(
        text.contains(&format!("2. 求购铝锭 A00（物料，尚需 100 吨）{}", url(1))),
        "{text}"
    );
    assert!(url(0).starts_with(&app.url("/s/")), "{}", url(0));

    // The short link leads to the listing in the firm app and counts.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let r = plain.get(url(0)).send().await.expect("follow");
    assert_eq!(r.status(), 302);
    assert_eq!(
        r.headers()["location"],
        format!("/app/#/pages/listing/index?id={urgent}").as_str()
    );
    app.get_anon("/s/zzzzzzz")
        .await
        .expect_problem(404, "not_found");
    app.get_anon("/s/not-a-code")
        .await
        .expect_problem(404, "not_found");
    // The same codes next time, with the visit counted.
    let again = app.get("/api/v1/staff/digest", &w.staff1.token).await;
    let again = again.expect(200).clone();
    assert_eq!(again["items"][0]["short_url"], url(0));
    assert_eq!(again["items"][0]["clicks"], 1);
    assert_eq!(again["items"][1]["clicks"], 0);
    let only = app
        .get("/api/v1/staff/digest?kind=material&days=1", &w.staff1.token)
        .await;
    assert_eq!(only.expect(200)["items"].as_array().map(Vec::len), Some(1));

    // Who may ask, and bad input.
    let c1 = &w.c1;
    let c2 = &w.c2;
    app.get(
        &format!("/api/v1/staff/digest?community_id={c2}"),
        &w.staff1.token,
    )
    .await
    .expect_problem(403, "forbidden");
    app.get("/api/v1/staff/digest", &w.a.admin.token)
        .await
        .expect_problem(403, "forbidden");
    app.get("/api/v1/staff/digest", &w.admin.token)
        .await
        .expect_problem(422, "validation_failed");
    let by_admin = app
        .get(
            &format!("/api/v1/staff/digest?community_id={c1}"),
            &w.admin.token,
        )
        .await;
    assert_eq!(by_admin.expect(200)["items"][0]["short_url"], url(0));
    for bad in ["days=0", "days=91", "limit=0", "limit=101", "kind=boats"] {
        app.get(&format!("/api/v1/staff/digest?{bad}"), &w.staff1.token)
            .await
            .expect_problem(422, "validation_failed");
    }
    app.get("/api/v1/staff/digest?colour=red", &w.staff1.token)
        .await
        .expect(400);
}
