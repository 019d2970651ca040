//! Business rules that keep one party from acting for others: unverified
//! firms cannot reach the staff queue, per-firm and per-user allowances,
//! agreements need both firms, registration reveals no accounts, weak
//! passwords are refused, sign-in throttling locks the guesser's address
//! and not the owner, USCC claims compete until staff verify one, and a
//! staff action refuses a body it cannot read.

use serde_json::{Value, json};

use crate::helpers::*;

fn emergency(title: &str) -> Value {
    json!({"side": "request", "kind": "equipment", "title": title,
           "urgency": "emergency",
           "attributes": {"equipment_type": "空压机", "mode": "出租"}})
}

/// The listing ids of the cases in a staff queue.
async fn queued(app: &TestApp, staff: &Session) -> Vec<String> {
    app.all_pages("/api/v1/staff/queue?status=active", &staff.token)
        .await
        .iter()
        .filter_map(|k| k["listing"]["id"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn unverified_firms_emergencies_wait_for_verification() {
    let app = spawn_app().await;
    let w = app.world().await;
    let f = app.register_firm(&w.c1).await;
    let mut posted = Vec::new();
    for i in 0..3 {
        let l = app
            .create_listing(&f.admin, &emergency(&format!("急租空压机 {i}")))
            .await;
        posted.push(id_of(&l));
    }
    // Nothing reached the queue, the staff's notifications or the
    // emergency statistics.
    assert!(queued(&app, &w.staff1).await.is_empty());
    let n = app.get("/api/v1/notifications", &w.staff1.token).await;
    assert!(
        n.expect(200)["items"]
            .as_array()
            .is_some_and(|i| i.iter().all(|n| n["type"] != "case.opened")),
        "{:#}",
        n.body
    );
    let s = app.get("/api/v1/staff/stats", &w.staff1.token).await;
    let s = s.expect(200);
    assert_eq!(s["emergencies"], 0);
    assert_eq!(s["listings"]["total"], 0);
    assert_eq!(s["requests"], 0);

    // Verification lets them in: staff vouched for the firm.
    app.verify_firm(&w.staff1, &f.id).await;
    let mut q = queued(&app, &w.staff1).await;
    q.sort();
    posted.sort();
    assert_eq!(q, posted);
    // A verified firm's emergency opens its case at once.
    let l = app
        .create_listing(&f.admin, &emergency("急租空压机 再来一台"))
        .await;
    assert!(queued(&app, &w.staff1).await.contains(&id_of(&l)));
}

fn problem_with_retry_after(r: &Reply) {
    r.expect_problem(429, "too_many_requests");
    let secs: u64 = r
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!(secs >= 1, "{secs}");
}

#[tokio::test]
async fn listings_emergencies_and_messages_have_per_user_and_per_firm_limits() {
    let app = spawn_app_with(&[
        ("ZQL_LISTING_LIMIT_PER_USER_PER_HOUR", "3"),
        ("ZQL_LISTING_LIMIT_PER_FIRM_PER_HOUR", "5"),
        ("ZQL_EMERGENCY_LIMIT_PER_USER_PER_DAY", "1"),
        ("ZQL_EMERGENCY_LIMIT_PER_FIRM_PER_DAY", "100"),
        ("ZQL_MESSAGE_LIMIT_PER_USER_PER_MINUTE", "2"),
        ("ZQL_MESSAGE_LIMIT_PER_FIRM_PER_MINUTE", "3"),
    ])
    .await;
    let w = app.world().await;

    // Listings: three by one user, then the user's limit; a colleague
    // posts two more, then the firm's limit holds for everyone.
    for i in 0..3 {
        app.create_listing(&w.a.admin, &space_offer(&format!("厂房出租 {i}")))
            .await;
    }
    let r = app
        .post(
            "/api/v1/listings",
            &w.a.admin.token,
            &space_offer("厂房出租 3"),
        )
        .await;
    problem_with_retry_after(&r);
    let colleague = app.add_member(&w.a.admin, &w.a.id).await;
    for i in 0..2 {
        app.create_listing(&colleague, &space_offer(&format!("仓库出租 {i}")))
            .await;
    }
    let r = app
        .post(
            "/api/v1/listings",
            &colleague.token,
            &space_offer("仓库出租 2"),
        )
        .await;
    problem_with_retry_after(&r);
    let mine = app
        .all_pages("/api/v1/listings?mine=true", &w.a.admin.token)
        .await;
    assert_eq!(mine.len(), 5);

    // Emergencies: one per user, counted apart from plain listings.
    let first = app
        .create_listing(&w.b.admin, &emergency("急租空压机 一"))
        .await;
    let r = app
        .post(
            "/api/v1/listings",
            &w.b.admin.token,
            &emergency("急租空压机 二"),
        )
        .await;
    problem_with_retry_after(&r);
    // Raising a request to an emergency counts too.
    let plain = app
        .create_listing(
            &w.b.admin,
            &json!({"side": "request", "kind": "equipment", "title": "求租空压机",
                    "attributes": {"equipment_type": "空压机"}}),
        )
        .await;
    let r = app
        .patch(
            &format!("/api/v1/listings/{}", id_of(&plain)),
            &w.b.admin.token,
            &json!({"urgency": "emergency"}),
        )
        .await;
    problem_with_retry_after(&r);

    // Messages: two per user, three per firm.
    let t = app
        .post(
            "/api/v1/threads",
            &w.a.admin.token,
            &json!({ "listing_id": id_of(&first) }),
        )
        .await;
    let path = format!("/api/v1/threads/{}/messages", id_of(t.expect(201)));
    let msg = |n: u32| json!({ "client_msg_id": format!("m-{n}"), "text": format!("第 {n} 条") });
    for n in 0..2 {
        app.post(&path, &w.a.admin.token, &msg(n)).await.expect(201);
    }
    problem_with_retry_after(&app.post(&path, &w.a.admin.token, &msg(2)).await);
    app.post(&path, &colleague.token, &msg(3)).await.expect(201);
    problem_with_retry_after(&app.post(&path, &colleague.token, &msg(4)).await);
    // The other firm has its own allowance.
    app.post(&path, &w.b.admin.token, &msg(5)).await.expect(201);
    let msgs = app.get(&path, &w.a.admin.token).await;
    let texts: Vec<&str> = msgs.expect(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|m| m["kind"] != "system")
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert_eq!(texts.len(), 4, "{texts:?}");
}

/// A match record of firms a (request) and b (offer), moved to contacted.
async fn contacted_match(app: &TestApp, w: &World) -> String {
    let offer = app
        .create_listing(
            &w.b.admin,
            &json!({"side": "offer", "kind": "equipment", "title": "空压机出租 37kW 螺杆式",
                    "attributes": {"equipment_type": "空压机", "mode": "出租"}}),
        )
        .await;
    let request = app
        .post(
            "/api/v1/listings?wait=indexed",
            &w.a.admin.token,
            &json!({"side": "request", "kind": "equipment", "title": "求租空压机 37kW",
                    "attributes": {"equipment_type": "空压机", "mode": "出租"}}),
        )
        .await;
    let request = id_of(request.expect(201));
    let offer = id_of(&offer);
    for _ in 0..100 {
        let rows = app
            .all_pages(
                &format!("/api/v1/matches?listing={request}"),
                &w.a.admin.token,
            )
            .await;
        if let Some(m) = rows.iter().find(|m| m["offer"]["id"] == offer.as_str()) {
            let id = id_of(m);
            let r = app
                .patch(
                    &format!("/api/v1/matches/{id}"),
                    &w.b.admin.token,
                    &json!({"status": "contacted"}),
                )
                .await;
            assert_eq!(r.expect(200)["status"], "contacted");
            return id;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no match record of the pair after 10 s");
}

/// Changed on purpose with the deals: a match is no longer agreed by each
/// firm PATCHing `agreed`; one firm proposes terms and the other confirms
/// that same version.
#[tokio::test]
async fn an_agreement_needs_both_firms() {
    let app = spawn_app().await;
    let w = app.world().await;
    let id = contacted_match(&app, &w).await;
    let path = format!("/api/v1/matches/{id}");

    app.patch(&path, &w.a.admin.token, &json!({"status": "agreed"}))
        .await
        .expect_problem(409, "agreement_required");
    let terms = json!({"match_id": id, "quantity": {"amount": 1, "unit": "台"},
                       "price": {"amount": 800, "unit": "元/台"}});
    let r = app
        .post("/api/v1/agreements", &w.a.admin.token, &terms)
        .await;
    let proposed = r.expect(201).clone();
    assert_eq!(
        proposed["status"], "proposed",
        "one firm alone is no agreement"
    );
    let aid = id_of(&proposed);
    let confirm = format!("/api/v1/agreements/{aid}/confirm");
    // The proposer cannot confirm its own terms.
    app.post(&confirm, &w.a.admin.token, &json!({"version": 1}))
        .await
        .expect_problem(409, "awaiting_other_firm");
    assert_eq!(
        app.get(&path, &w.a.admin.token).await.expect(200)["status"],
        "contacted"
    );
    let stats = app.get("/api/v1/staff/stats", &w.staff1.token).await;
    assert_eq!(stats.expect(200)["agreed_matches"], 0);
    // Staff and admins cannot agree for a firm.
    for t in [&w.staff1.token, &w.admin.token] {
        app.post(&confirm, t, &json!({"version": 1}))
            .await
            .expect_problem(403, "firm_consent_required");
    }
    // Until the other firm confirms, it may still decline the match.
    let r = app
        .patch(&path, &w.b.admin.token, &json!({"status": "declined"}))
        .await;
    assert_eq!(r.expect(200)["status"], "declined");

    // Another pair: the other firm confirms, and it counts.
    let app2 = spawn_app().await;
    let w2 = app2.world().await;
    let id = contacted_match(&app2, &w2).await;
    let path = format!("/api/v1/matches/{id}");
    app2.agree(&id, &w2.b.admin, &w2.a.admin).await;
    assert_eq!(
        app2.get(&path, &w2.a.admin.token).await.expect(200)["status"],
        "agreed"
    );
    let stats = app2.get("/api/v1/staff/stats", &w2.staff1.token).await;
    assert_eq!(stats.expect(200)["agreed_matches"], 1);
    app2.patch(&path, &w2.b.admin.token, &json!({"status": "declined"}))
        .await
        .expect_problem(409, "invalid_transition");
}

#[tokio::test]
async fn registration_does_not_reveal_which_logins_exist() {
    let app = spawn_app().await;
    let w = app.world().await;
    let staff_login = "staff-lookup@park.example";
    app.post(
        &format!("/api/v1/communities/{}/staff", w.c1),
        &w.admin.token,
        &json!({ "login": staff_login, "password": PASSWORD, "display_name": "社区专员" }),
    )
    .await
    .expect(201);
    let before = app
        .all_pages(&format!("/api/v1/firms?community={}", w.c1), &w.admin.token)
        .await
        .len();

    let other_password = "another-Gangkou-77";
    let mut taken = firm_body(&w.c1, &valid_uscc(), staff_login);
    taken["admin"]["password"] = json!(other_password);
    let mut free = firm_body(&w.c1, &valid_uscc(), "newcomer@park.example");
    free["admin"]["password"] = json!(other_password);
    let a = app.post_anon("/api/v1/firms/register", &taken).await;
    let b = app.post_anon("/api/v1/firms/register", &free).await;
    assert_eq!(a.status, b.status);
    assert_eq!(a.status.as_u16(), 202);
    let mut a_body = a.body.clone();
    let mut b_body = b.body.clone();
    assert_eq!(a_body["login"], staff_login);
    a_body["login"] = Value::Null;
    b_body["login"] = Value::Null;
    assert_eq!(a_body, b_body, "the two answers differ beyond the login");

    // Only the free login registered a firm; the staff account is as it was.
    let after = app
        .all_pages(&format!("/api/v1/firms?community={}", w.c1), &w.admin.token)
        .await
        .len();
    assert_eq!(after, before + 1);
    app.login(staff_login, other_password)
        .await
        .expect_problem(401, "invalid_credentials");
    let me = app.session(staff_login).await;
    let me = app.get("/api/v1/me", &me.token).await;
    assert!(me.expect(200)["firm"].is_null());
    app.login("newcomer@park.example", other_password)
        .await
        .expect(200);
}

#[tokio::test]
async fn guessable_passwords_are_refused_in_chinese() {
    let app = spawn_app().await;
    let w = app.world().await;
    for weak in ["password", "Password1", "qwertyuiop", "abc123456"] {
        let mut body = firm_body(&w.c1, &valid_uscc(), &new_phone());
        body["admin"]["password"] = json!(weak);
        let r = app.post_anon("/api/v1/firms/register", &body).await;
        assert_eq!(r.expect_invalid(), ["admin.password"], "{weak}");
        assert_eq!(
            r.field_code("admin.password").as_deref(),
            Some("weak_password")
        );
        let msg = r.body["errors"][0]["message"].as_str().unwrap_or("");
        assert!(msg.contains("密码"), "{msg}");
    }
    // The login itself is a word a guesser tries first.
    let login = new_phone();
    let mut body = firm_body(&w.c1, &valid_uscc(), &login);
    body["admin"]["password"] = json!(format!("wang{login}"));
    let r = app.post_anon("/api/v1/firms/register", &body).await;
    assert_eq!(r.expect_invalid(), ["admin.password"]);
    // Members and staff get the same check.
    let r = app
        .post(
            &format!("/api/v1/firms/{}/members", w.a.id),
            &w.a.admin.token,
            &json!({ "login": new_phone(), "password": "password", "display_name": "业务员" }),
        )
        .await;
    assert_eq!(r.expect_invalid(), ["password"]);
}

#[tokio::test]
async fn failed_sign_ins_lock_the_guessing_address_not_the_account() {
    let app = spawn_app_with(&[
        ("ZQL_TRUSTED_PROXY_HEADER", "X-Forwarded-For"),
        ("ZQL_LOGIN_MAX_FAILURES", "5"),
    ])
    .await;
    let w = app.world().await;
    let victim = w.a.admin.login.clone();
    let from = |ip: &str, password: &str| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", ip)
            .json(&json!({ "login": victim, "password": password }))
    };
    let attacker = "203.0.113.7";
    for _ in 0..5 {
        app.send(from(attacker, "wrong-guess-1"))
            .await
            .expect_problem(401, "invalid_credentials");
    }
    // The attacker's address is locked, even with the right password.
    let r = app.send(from(attacker, PASSWORD)).await;
    r.expect_problem(429, "too_many_requests");
    assert!(r.header("retry-after").is_some());
    // The owner, elsewhere, signs in.
    app.send(from("198.51.100.2", PASSWORD)).await.expect(200);
    // And a few of the owner's own typos do not lock the owner out.
    for _ in 0..3 {
        app.send(from("198.51.100.2", "wrong-guess-2"))
            .await
            .expect_problem(401, "invalid_credentials");
    }
    app.send(from("198.51.100.2", PASSWORD)).await.expect(200);
}

#[tokio::test]
async fn uscc_claims_compete_until_staff_verify_one() {
    let app = spawn_app().await;
    let w = app.world().await;
    // A squatter claims a real firm's USCC first; the real firm registers
    // after it and is not turned away.
    let squatter = app.register_firm(&w.c1).await;
    let uscc = squatter.uscc.clone();
    let login = new_phone();
    app.post_anon("/api/v1/firms/register", &firm_body(&w.c1, &uscc, &login))
        .await
        .expect(202);
    let real_admin = app.session(&login).await;
    let me = app.get("/api/v1/me", &real_admin.token).await;
    let real = me.expect(200)["firm"]["id"]
        .as_str()
        .expect("firm")
        .to_string();
    assert_ne!(real, squatter.id);

    // Staff see the claims side by side; the claimants do not see each other.
    let r = app
        .get(&format!("/api/v1/firms/{real}"), &w.staff1.token)
        .await;
    let f = r.expect(200);
    assert_eq!(f["claim_status"], "pending");
    let others = f["competing_claims"].as_array().expect("competing claims");
    assert_eq!(ids(others), std::slice::from_ref(&squatter.id));
    let listed = app
        .all_pages(
            &format!("/api/v1/firms?community={}&verified=false", w.c1),
            &w.staff1.token,
        )
        .await;
    let squatter_row = listed
        .iter()
        .find(|f| f["id"] == squatter.id.as_str())
        .expect("the squatter's claim is listed");
    assert_eq!(
        ids(squatter_row["competing_claims"].as_array().expect("claims")),
        std::slice::from_ref(&real)
    );
    let own = app
        .get(&format!("/api/v1/firms/{real}"), &real_admin.token)
        .await;
    assert!(own.expect(200).get("competing_claims").is_none());

    // Verifying the real firm refuses the squatter's claim.
    app.verify_firm(&w.staff1, &real).await;
    let r = app
        .get(&format!("/api/v1/firms/{}", squatter.id), &w.staff1.token)
        .await;
    assert_eq!(r.expect(200)["claim_status"], "refused");
    app.post_empty(
        &format!("/api/v1/firms/{}/verify", squatter.id),
        &w.staff1.token,
    )
    .await
    .expect_problem(409, "claim_refused");
    // The squatter's admin is told.
    let n = app
        .get("/api/v1/notifications", &squatter.admin.token)
        .await;
    let n = n.expect(200);
    assert!(
        n["items"]
            .as_array()
            .is_some_and(|i| i.iter().any(|n| n["type"] == "firm.claim_refused")),
        "{n:#}"
    );
    // Now the USCC is taken.
    app.post_anon(
        "/api/v1/firms/register",
        &firm_body(&w.c1, &uscc, &new_phone()),
    )
    .await
    .expect_problem(409, "uscc_taken");
}

#[tokio::test]
async fn claiming_a_case_refuses_a_body_it_cannot_read() {
    let app = spawn_app().await;
    let w = app.world().await;
    let l = app
        .create_listing(&w.a.admin, &emergency("急租空压机 产线停了"))
        .await;
    let lid = id_of(&l);
    let k = app
        .all_pages("/api/v1/staff/queue?status=active", &w.staff1.token)
        .await
        .into_iter()
        .find(|k| k["listing"]["id"] == lid.as_str())
        .expect("the case");
    let path = format!("/api/v1/staff/cases/{}/claim", id_of(&k));
    let r = app
        .post(&path, &w.staff1.token, &json!({"take_over": "yes"}))
        .await;
    assert_eq!(r.expect_invalid(), ["take_over"]);
    let r = app
        .post(&path, &w.staff1.token, &json!({"take_ovr": true}))
        .await;
    assert_eq!(r.status.as_u16(), 422, "{:#}", r.body);
    let r = app
        .send(
            app.client
                .post(app.url(&path))
                .bearer_auth(&w.staff1.token)
                .header("content-type", "application/json")
                .body("{\"take_over\": tru"),
        )
        .await;
    r.expect_problem(400, "invalid_json");
    // Nothing happened to the case.
    let case = app
        .get(
            &format!("/api/v1/staff/cases/{}", id_of(&k)),
            &w.staff1.token,
        )
        .await;
    assert_eq!(case.expect(200)["status"], "open");
    // Without a body, and with a valid one, claiming works.
    let r = app.post_empty(&path, &w.staff1.token).await;
    assert_eq!(r.expect(200)["status"], "claimed");
}
