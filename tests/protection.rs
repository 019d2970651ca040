//! Protection at the edge: rate limits per IP (behind a trusted proxy
//! header only), per API client and on sign-in routes; `Idempotency-Key`
//! replays; ETags; CORS from the configured allow-list.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

async fn healthz_from(app: &TestApp, forwarded: Option<&str>) -> Reply {
    let mut req = app.client.get(app.url("/healthz"));
    if let Some(f) = forwarded {
        req = req.header("x-forwarded-for", f);
    }
    app.send(req).await
}

#[tokio::test]
async fn per_ip_limit_answers_429_with_retry_after() {
    let app = spawn_app_with(&[("ZQL_RATE_LIMIT_IP_PER_MINUTE", "3")]).await;
    for _ in 0..3 {
        healthz_from(&app, None).await.expect(200);
    }
    let r = healthz_from(&app, None).await;
    r.expect_problem(429, "too_many_requests");
    let wait: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("secs");
    assert!((1..=60).contains(&wait), "{wait}");
    // Without a trusted proxy header configured, a forged one changes nothing.
    healthz_from(&app, Some("198.51.100.7"))
        .await
        .expect_problem(429, "too_many_requests");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_header_names_the_client() {
    let app = spawn_app_with(&[
        ("ZQL_RATE_LIMIT_IP_PER_MINUTE", "2"),
        ("ZQL_TRUSTED_PROXY_HEADER", "X-Forwarded-For"),
    ])
    .await;
    // The proxy appends the address it saw: the last entry counts.
    for _ in 0..2 {
        healthz_from(&app, Some("10.9.9.9, 203.0.113.1"))
            .await
            .expect(200);
    }
    healthz_from(&app, Some("10.9.9.9, 203.0.113.1"))
        .await
        .expect_problem(429, "too_many_requests");
    healthz_from(&app, Some("203.0.113.2")).await.expect(200);
}

#[tokio::test]
async fn sign_in_routes_have_a_stricter_limit() {
    let app = spawn_app_with(&[("ZQL_RATE_LIMIT_AUTH_PER_MINUTE", "2")]).await;
    for _ in 0..2 {
        app.login("13800000009", "wrong-password-1")
            .await
            .expect(401);
    }
    app.login("13800000009", "wrong-password-1")
        .await
        .expect_problem(429, "too_many_requests");
    app.send(
        app.client
            .post(app.url("/api/v1/oauth/token"))
            .form(&[("grant_type", "client_credentials")]),
    )
    .await
    .expect_problem(429, "too_many_requests");
    // Other routes are not held back.
    healthz_from(&app, None).await.expect(200);
}

#[tokio::test]
async fn each_api_client_has_its_own_limit() {
    let app = spawn_app_with(&[("ZQL_RATE_LIMIT_CLIENT_PER_MINUTE", "3")]).await;
    let w = app.world().await;
    let r = app
        .post(
            "/api/v1/clients",
            &w.staff1.token,
            &json!({ "name": "ERP", "firm_id": w.a.id, "scopes": ["listings:read"] }),
        )
        .await;
    let b = r.expect(201);
    let (id, secret) = (
        b["id"].as_str().expect("id").to_string(),
        b["client_secret"].as_str().expect("secret").to_string(),
    );
    let token_of = async || {
        let r = app
            .send(
                app.client
                    .post(app.url("/api/v1/oauth/token"))
                    .basic_auth(&id, Some(&secret))
                    .form(&[("grant_type", "client_credentials")]),
            )
            .await;
        r.expect(200)["access_token"]
            .as_str()
            .expect("token")
            .to_string()
    };
    let t1 = token_of().await;
    let t2 = token_of().await;
    for t in [&t1, &t2, &t1] {
        app.get("/api/v1/listings", t).await.expect(200);
    }
    // Another token of the same client shares its allowance.
    app.get("/api/v1/listings", &t2)
        .await
        .expect_problem(429, "too_many_requests");
    // Users are not counted against the client.
    app.get("/api/v1/listings", &w.a.admin.token)
        .await
        .expect(200);
}

pub async fn post_keyed(app: &TestApp, token: &str, key: &str, body: &serde_json::Value) -> Reply {
    app.send(
        app.client
            .post(app.url("/api/v1/listings"))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(body),
    )
    .await
}

#[tokio::test]
async fn idempotent_replays_return_the_first_answer() {
    let app = spawn_app().await;
    let w = app.world().await;
    let body = space_offer("仓库 一次就好");
    let first = post_keyed(&app, &w.a.admin.token, "k-1", &body).await;
    let first_body = first.expect(201).clone();
    assert!(first.header("idempotent-replayed").is_none());
    let again = post_keyed(&app, &w.a.admin.token, "k-1", &body).await;
    assert_eq!(again.expect(201), &first_body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let mine = app
        .all_pages("/api/v1/listings?mine=true", &w.a.admin.token)
        .await;
    assert_eq!(mine.len(), 1, "{mine:?}");

    // The same key for another request is refused.
    post_keyed(&app, &w.a.admin.token, "k-1", &space_offer("别的"))
        .await
        .expect_problem(422, "idempotency_key_reused");
    // Keys are per caller.
    let other = post_keyed(&app, &w.b.admin.token, "k-1", &body).await;
    assert_ne!(other.expect(201)["id"], first_body["id"]);
    // A failed request does not hold its key: the corrected one goes through.
    let bad = json!({ "side": "offer", "kind": "space", "title": "x" });
    post_keyed(&app, &w.a.admin.token, "k-2", &bad)
        .await
        .expect(422);
    post_keyed(&app, &w.a.admin.token, "k-2", &body)
        .await
        .expect(201);
    // Anonymous registrations are keyed too.
    let reg = firm_body(&w.c1, &valid_uscc(), &new_phone());
    let send = || {
        app.client
            .post(app.url("/api/v1/firms/register"))
            .header("idempotency-key", "reg-1")
            .json(&reg)
    };
    let r1 = app.send(send()).await;
    let r2 = app.send(send()).await;
    assert_eq!(r1.expect(202), r2.expect(202));
    app.send(
        app.client
            .post(app.url("/api/v1/listings"))
            .bearer_auth(&w.a.admin.token)
            .header("idempotency-key", "")
            .json(&body),
    )
    .await
    .expect_problem(400, "invalid_idempotency_key");
}

#[tokio::test]
async fn listing_and_match_reads_carry_etags() {
    let app = spawn_app().await;
    let w = app.world().await;
    let l = app
        .create_listing(&w.a.admin, &space_offer("带标签的厂房"))
        .await;
    let path = format!("/api/v1/listings/{}", id_of(&l));
    let r = app.get(&path, &w.a.admin.token).await;
    r.expect(200);
    let etag = r.header("etag").expect("ETag").to_string();
    let cached = app
        .send(
            app.client
                .get(app.url(&path))
                .bearer_auth(&w.a.admin.token)
                .header("if-none-match", &etag),
        )
        .await;
    assert_eq!(cached.status.as_u16(), 304);
    assert_eq!(cached.header("etag"), Some(etag.as_str()));
    assert_eq!(cached.body, serde_json::Value::Null);
    // A change gives a new tag and a full answer.
    app.patch(&path, &w.a.admin.token, &json!({ "title": "改过的厂房" }))
        .await
        .expect(200);
    let changed = app
        .send(
            app.client
                .get(app.url(&path))
                .bearer_auth(&w.a.admin.token)
                .header("if-none-match", &etag),
        )
        .await;
    assert_eq!(changed.expect(200)["title"], "改过的厂房");
    assert_ne!(changed.header("etag"), Some(etag.as_str()));
    // Match lists too, with a match record in them: b offers an air
    // compressor, a asks for one.
    app.create_listing(
        &w.b.admin,
        &json!({"side": "offer", "kind": "equipment", "title": "空压机出租 37kW 螺杆式",
                "attributes": {"equipment_type": "空压机", "mode": "出租"}}),
    )
    .await;
    app.create_listing(
        &w.a.admin,
        &json!({"side": "request", "kind": "equipment", "title": "急租空压机 产线停了",
                "attributes": {"equipment_type": "空压机", "mode": "出租"}}),
    )
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let r = loop {
        let r = app.get("/api/v1/matches", &w.a.admin.token).await;
        if r.expect(200)["items"]
            .as_array()
            .is_some_and(|i| !i.is_empty())
        {
            break r;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no match record in 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    // Matching may still be writing (the other direction, a re-score): wait
    // until two reads in a row give the same list.
    let mut r = r;
    let r = loop {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let again = app.get("/api/v1/matches", &w.a.admin.token).await;
        if again.header("etag") == r.header("etag") {
            break again;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the match list kept changing for 10 s"
        );
        r = again;
    };
    let record = r.body["items"][0].clone();
    let tag = r.header("etag").expect("ETag").to_string();
    let matches_if = |tag: String| {
        app.send(
            app.client
                .get(app.url("/api/v1/matches"))
                .bearer_auth(&w.a.admin.token)
                .header("if-none-match", tag),
        )
    };
    let cached = matches_if(format!("W/{tag}")).await;
    assert_eq!(cached.status.as_u16(), 304);
    assert_eq!(cached.body, serde_json::Value::Null);
    // A status change makes the list differ: a new tag and the full list.
    app.patch(
        &format!("/api/v1/matches/{}", record["id"].as_str().expect("id")),
        &w.a.admin.token,
        &json!({ "status": "contacted" }),
    )
    .await
    .expect(200);
    let changed = matches_if(tag.clone()).await;
    assert_eq!(changed.expect(200)["items"][0]["status"], "contacted");
    assert_ne!(changed.header("etag"), Some(tag.as_str()));
}

#[tokio::test]
async fn cors_answers_only_the_configured_origins() {
    let app = spawn_app_with(&[(
        "ZQL_CORS_ALLOWED_ORIGINS",
        "https://console.park.example, https://erp.park.example",
    )])
    .await;
    let preflight = |origin: &str| {
        app.client
            .request(Method::OPTIONS, app.url("/api/v1/listings"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, idempotency-key",
            )
    };
    let ok = app.send(preflight("https://console.park.example")).await;
    assert!(ok.status.is_success(), "{:?}", ok.status);
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("https://console.park.example")
    );
    let refused = app.send(preflight("https://evil.example")).await;
    assert!(refused.header("access-control-allow-origin").is_none());
    let r = app
        .send(
            app.client
                .get(app.url("/healthz"))
                .header("origin", "https://erp.park.example"),
        )
        .await;
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://erp.park.example")
    );
    let r = app
        .send(
            app.client
                .get(app.url("/healthz"))
                .header("origin", "https://evil.example"),
        )
        .await;
    assert!(r.header("access-control-allow-origin").is_none());
}
