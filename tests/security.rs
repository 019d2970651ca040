//! What an outside probe of a live server found, one regression test per
//! finding: API clients that outlived their revocation or rotation, event
//! streams that ignored a client's scopes, `/metrics` behind a proxy,
//! secrets kept or cached where they must not be, query values in logs,
//! and message text shown to staff who had not joined.

use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::process::ServerProcess;
use crate::threads::say;

/// Creates an API client of firm `firm_id` with `scopes`; (id, secret).
async fn firm_client(app: &TestApp, w: &World, firm_id: &str, scopes: &[&str]) -> (String, String) {
    let r = app
        .post(
            "/api/v1/clients",
            &w.staff1.token,
            &json!({ "name": "园区 ERP", "firm_id": firm_id, "scopes": scopes }),
        )
        .await;
    let b = r.expect(201);
    (
        b["id"].as_str().expect("id").to_string(),
        b["client_secret"].as_str().expect("secret").to_string(),
    )
}

async fn token_of(app: &TestApp, id: &str, secret: &str) -> String {
    let r = app
        .send(
            app.client
                .post(app.url("/api/v1/oauth/token"))
                .basic_auth(id, Some(secret))
                .form(&[("grant_type", "client_credentials")]),
        )
        .await;
    r.expect(200)["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

async fn ticket_of(app: &TestApp, token: &str) -> String {
    let r = app.post_empty("/api/v1/events/ticket", token).await;
    r.expect(200)["ticket"]
        .as_str()
        .expect("ticket")
        .to_string()
}

async fn stream_with_ticket(app: &TestApp, ticket: &str) -> EventStream {
    EventStream::open(
        app.client
            .get(app.url("/api/v1/events"))
            .query(&[("ticket", ticket)])
            .timeout(Duration::from_secs(600)),
    )
    .await
}

/// The id of the `ready` event a stream opens with.
async fn ready(s: &mut EventStream) -> i64 {
    let e = s.next(Duration::from_secs(5)).await.expect("ready event");
    assert_eq!(e.event, "ready");
    e.id.expect("ready id")
}

/// A JWT's claims, read without checking (the server checks).
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("JWT payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// An offer of firm b and a thread about it opened by firm a.
async fn thread_between_a_and_b(app: &TestApp, w: &World) -> String {
    let offer = app
        .create_listing(&w.b.admin, &space_offer("2000㎡ 厂房出租 带行车"))
        .await;
    let r = app
        .post(
            "/api/v1/threads",
            &w.a.admin.token,
            &json!({ "listing_id": id_of(&offer) }),
        )
        .await;
    id_of(r.expect(201))
}

#[tokio::test]
async fn revoking_a_client_ends_its_tickets_and_open_streams_at_once() {
    let app = spawn_app().await;
    let w = app.world().await;
    let thread = thread_between_a_and_b(&app, &w).await;
    let (id, secret) = firm_client(&app, &w, &w.a.id, &["events:read", "threads:read"]).await;
    let token = token_of(&app, &id, &secret).await;
    let ticket = ticket_of(&app, &token).await;
    // One stream opened with the token, one with the ticket, and one on
    // another node, before.
    let node = app.another_node().await;
    let mut by_token = app.events(&token, None).await;
    let mut by_ticket = stream_with_ticket(&app, &ticket).await;
    let mut elsewhere = node.events(&token, None).await;
    ready(&mut by_token).await;
    ready(&mut by_ticket).await;
    ready(&mut elsewhere).await;
    // They deliver while the client lives.
    say(&app, &w.b.admin.token, &thread, "b-1", "还在吗").await;
    for s in [&mut by_token, &mut by_ticket, &mut elsewhere] {
        s.until(Duration::from_secs(5), |e| e.event == "message.created")
            .await;
    }

    app.post_empty(&format!("/api/v1/clients/{id}/revoke"), &w.staff1.token)
        .await
        .expect(200);
    let said = say(&app, &w.b.admin.token, &thread, "b-2", "报价单已发").await;
    for s in [&mut by_token, &mut by_ticket, &mut elsewhere] {
        let seen = s
            .until(Duration::from_secs(5), |e| e.event == "revoked")
            .await;
        assert!(
            seen.iter()
                .all(|e| e.event != "message.created" || e.data["id"] != said["id"]),
            "{seen:?}"
        );
        // The stream ends with it.
        assert!(s.next(Duration::from_secs(5)).await.is_none());
        assert!(s.ended, "the stream is closed");
    }
    // The ticket, still within its minute, opens nothing now.
    let r = app
        .send(
            app.client
                .get(app.url("/api/v1/events"))
                .query(&[("ticket", ticket.as_str())]),
        )
        .await;
    r.expect_problem(401, "invalid_token");
    app.get("/api/v1/events", &token)
        .await
        .expect_problem(401, "invalid_token");
    drop(elsewhere);
    drop(node);
}

#[tokio::test]
async fn rotating_a_secret_ends_what_the_old_one_issued_even_within_the_same_second() {
    let app = spawn_app().await;
    let w = app.world().await;
    let thread = thread_between_a_and_b(&app, &w).await;
    let (id, mut secret) = firm_client(&app, &w, &w.a.id, &["events:read", "threads:read"]).await;

    // A token minted in the same whole second as the rotation (tokens
    // count their issue time in seconds; rotations are finer).
    let mut same_second = None;
    for _ in 0..10 {
        let now = chrono::Utc::now();
        if now.timestamp_subsec_millis() > 300 {
            let next = 1000 - u64::from(now.timestamp_subsec_millis()) + 20;
            tokio::time::sleep(Duration::from_millis(next)).await;
        }
        let old = token_of(&app, &id, &secret).await;
        let ticket = ticket_of(&app, &old).await;
        let mut stream = app.events(&old, None).await;
        let opened_at = ready(&mut stream).await;
        let r = app
            .post_empty(&format!("/api/v1/clients/{id}/rotate"), &w.staff1.token)
            .await;
        let b = r.expect(200);
        secret = b["client_secret"].as_str().expect("secret").to_string();
        let rotated: chrono::DateTime<chrono::Utc> = b["secret_rotated_at"]
            .as_str()
            .expect("secret_rotated_at")
            .parse()
            .expect("a date-time");
        if rotated.timestamp() == claims_of(&old)["iat"].as_i64().expect("iat") {
            same_second = Some((old, ticket, stream, opened_at));
            break;
        }
    }
    let (old, ticket, mut stream, opened_at) =
        same_second.expect("a token and a rotation within one second");
    app.get("/api/v1/me", &old)
        .await
        .expect_problem(401, "invalid_token");
    let r = app
        .send(
            app.client
                .get(app.url("/api/v1/events"))
                .query(&[("ticket", ticket.as_str())]),
        )
        .await;
    r.expect_problem(401, "invalid_token");
    stream
        .until(Duration::from_secs(5), |e| e.event == "revoked")
        .await;

    // The new secret's token works, and its stream, resuming from before
    // the rotation, survives it and delivers.
    let new = token_of(&app, &id, &secret).await;
    app.get("/api/v1/me", &new).await.expect(200);
    let mut resumed = app.events(&new, Some(opened_at)).await;
    ready(&mut resumed).await;
    let said = say(&app, &w.b.admin.token, &thread, "b-1", "新密钥之后").await;
    let seen = resumed
        .until(Duration::from_secs(5), |e| {
            e.event == "message.created" && e.data["id"] == said["id"]
        })
        .await;
    assert!(seen.iter().all(|e| e.event != "revoked"), "{seen:?}");
}

#[tokio::test]
async fn client_streams_carry_only_what_the_client_scopes_may_read() {
    let app = spawn_app().await;
    let w = app.world().await;
    let thread = thread_between_a_and_b(&app, &w).await;
    // events:read and listings:read, but not threads:read.
    let (id, secret) = firm_client(&app, &w, &w.a.id, &["events:read", "listings:read"]).await;
    let listings_only = token_of(&app, &id, &secret).await;
    let (id, secret) = firm_client(&app, &w, &w.a.id, &["events:read", "threads:read"]).await;
    let threads_too = token_of(&app, &id, &secret).await;
    let mut narrow = app.events(&listings_only, None).await;
    let mut wide = app.events(&threads_too, None).await;
    let start = ready(&mut narrow).await;
    ready(&mut wide).await;

    let said = say(
        &app,
        &w.a.admin.token,
        &thread,
        "a-1",
        "价格 1.2 万/月，可谈",
    )
    .await;
    let listing = app
        .create_listing(&w.a.admin, &space_offer("500㎡ 仓库 出租"))
        .await;

    // The narrow client gets the listing, and no message before it.
    let seen = narrow
        .until(Duration::from_secs(5), |e| {
            e.event == "listing.created" && e.data["id"] == listing["id"]
        })
        .await;
    assert!(
        seen.iter()
            .all(|e| !e.event.starts_with("message.") && !e.event.starts_with("thread.")),
        "{seen:?}"
    );
    // The same holds when it resumes from the log.
    let mut again = app.events(&listings_only, Some(start)).await;
    ready(&mut again).await;
    let replayed = again
        .until(Duration::from_secs(5), |e| e.event == "listing.created")
        .await;
    assert!(
        replayed.iter().all(|e| e.event != "message.created"),
        "{replayed:?}"
    );
    // The client with threads:read reads the text, as on the messages route.
    wide.until(Duration::from_secs(5), |e| {
        e.event == "message.created" && e.data["text"] == said["text"]
    })
    .await;
    let seen = wide.drain(Duration::from_millis(300)).await;
    assert!(
        seen.iter().all(|e| e.event != "listing.created"),
        "{seen:?}"
    );
}

#[tokio::test]
async fn metrics_behind_a_reverse_proxy_judge_the_client_it_names() {
    let app = spawn_app_with(&[("ZQL_TRUSTED_PROXY_HEADER", "X-Forwarded-For")]).await;
    let scrape = |forwarded: Option<&str>| {
        let mut req = app.client.get(app.url("/metrics"));
        if let Some(f) = forwarded {
            req = req.header("x-forwarded-for", f);
        }
        app.send(req)
    };
    // From the internet through the proxy on this host: refused.
    scrape(Some("203.0.113.7"))
        .await
        .expect_problem(403, "forbidden");
    // A spoofed loopback entry is not the one the proxy wrote (the last).
    scrape(Some("127.0.0.1, 198.51.100.20"))
        .await
        .expect_problem(403, "forbidden");
    // A scraper on this host, through the proxy or not.
    assert_eq!(scrape(Some("127.0.0.1")).await.status, 200);
    assert_eq!(scrape(None).await.status, 200);
}

#[tokio::test]
async fn answers_with_secrets_or_tokens_are_not_cached_nor_kept() {
    let app = spawn_app_with(&[("ZQL_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")]).await;
    let w = app.world().await;
    let no_store = |r: &Reply, what: &str| {
        assert_eq!(r.header("cache-control"), Some("no-store"), "{what}");
    };

    let r = app.login(&w.a.admin.login, PASSWORD).await;
    r.expect(200);
    no_store(&r, "login");
    let refresh = r.body["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();
    let r = app
        .post_anon("/api/v1/auth/refresh", &json!({ "refresh_token": refresh }))
        .await;
    r.expect(200);
    no_store(&r, "refresh");
    let r = app
        .post_empty("/api/v1/events/ticket", &w.a.admin.token)
        .await;
    r.expect(200);
    no_store(&r, "ticket");

    // A client created with an Idempotency-Key: the replay is the same
    // client, without the secret shown once, and not cacheable either.
    let create = |key: &'static str| {
        app.send(
            app.client
                .post(app.url("/api/v1/clients"))
                .bearer_auth(&w.staff1.token)
                .header("idempotency-key", key)
                .json(&json!({ "name": "ERP", "firm_id": w.a.id,
                               "scopes": ["listings:read", "webhooks:manage"] })),
        )
    };
    let first = create("client-1").await;
    let created = first.expect(201).clone();
    no_store(&first, "client creation");
    let secret = created["client_secret"]
        .as_str()
        .expect("secret")
        .to_string();
    let replay = create("client-1").await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    let replayed = replay.expect(201);
    assert_eq!(replayed["id"], created["id"]);
    assert!(replayed["client_secret"].is_null(), "{replayed}");
    no_store(&replay, "client creation replayed");
    let id = created["id"].as_str().expect("id").to_string();
    let r = app
        .send(
            app.client
                .post(app.url("/api/v1/oauth/token"))
                .basic_auth(&id, Some(&secret))
                .form(&[("grant_type", "client_credentials")]),
        )
        .await;
    r.expect(200);
    no_store(&r, "oauth token");
    let r = app
        .post_empty(&format!("/api/v1/clients/{id}/rotate"), &w.staff1.token)
        .await;
    r.expect(200);
    no_store(&r, "rotation");
    let rotated = r.body["client_secret"]
        .as_str()
        .expect("secret")
        .to_string();
    let token = token_of(&app, &id, &rotated).await;

    // The same for a webhook's signing secret.
    let subscribe = || {
        app.send(
            app.client
                .post(app.url("/api/v1/webhooks"))
                .bearer_auth(&token)
                .header("idempotency-key", "hook-1")
                .json(&json!({ "url": "http://127.0.0.1:9/hook",
                               "event_types": ["listing.created"] })),
        )
    };
    let first = subscribe().await;
    let hook_secret = first.expect(201)["secret"]
        .as_str()
        .expect("secret")
        .to_string();
    let replay = subscribe().await;
    assert!(replay.expect(201)["secret"].is_null(), "{:?}", replay.body);
    no_store(&replay, "webhook replayed");

    // Nothing of either secret sits in the idempotency table.
    let bodies: Vec<Option<String>> = app
        .db()
        .run(|c| {
            use diesel::prelude::*;
            use zhiqilian::store::schema::idempotency_keys as k;
            Ok(k::table.select(k::body).load(c)?)
        })
        .await
        .expect("stored answers");
    let bodies: Vec<String> = bodies.into_iter().flatten().collect();
    assert_eq!(bodies.len(), 2);
    for b in &bodies {
        assert!(
            !b.contains(&secret) && !b.contains(&rotated) && !b.contains(&hook_secret),
            "a secret is stored: {b}"
        );
    }
}

#[tokio::test]
async fn failed_requests_log_no_query_values() {
    let mut app = database_only().await;
    // WeChat sign-in configured, with WeChat out of reach.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let wechat = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let server = ServerProcess::start(
        app.data_dir(),
        &app.database_url.clone(),
        &[
            ("ZQL_WECHAT_API_BASE", wechat.as_str()),
            ("ZQL_WECHAT_APP_ID", "wx-test-app"),
            ("ZQL_WECHAT_APP_SECRET", "wx-app-secret-must-not-leak"),
        ],
    );
    app.address = server.address.clone();
    let ticket = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRpY2tldA.c2lnbmF0dXJlLXRoYXQtbXVzdC1ub3QtbGVhaw";
    let r = app
        .send(
            app.client
                .get(app.url("/api/v1/events"))
                .query(&[("ticket", ticket), ("last_event_id", "7")]),
        )
        .await;
    r.expect_problem(401, "invalid_ticket");
    // The failure is logged (as a warning, with its request's span)...
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let log = loop {
        let log = server.log_tail();
        if log.contains("invalid_ticket") || std::time::Instant::now() > deadline {
            break log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let line = log
        .lines()
        .find(|l| l.contains("invalid_ticket"))
        .unwrap_or_else(|| panic!("the failure is logged; log:\n{log}"));
    assert!(
        line.contains("/api/v1/events?ticket=…&last_event_id=…"),
        "{line}"
    );
    // ...and nothing of the ticket, anywhere in the log.
    assert!(
        !log.contains("c2lnbmF0dXJlLXRoYXQtbXVzdC1ub3QtbGVhaw"),
        "{log}"
    );
    assert!(!log.contains("c2VjcmV0LXRpY2tldA"), "{log}");

    // WeChat out of reach is logged without the URL that carries the app
    // secret and the user's code.
    app.post_anon(
        "/api/v1/auth/wechat",
        &json!({ "code": "wx-code-must-not-leak" }),
    )
    .await
    .expect_problem(503, "wechat_unavailable");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let log = loop {
        let log = server.log_tail();
        if log.contains("code2session unreachable") || std::time::Instant::now() > deadline {
            break log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(log.contains("code2session unreachable"), "{log}");
    assert!(!log.contains("wx-app-secret-must-not-leak"), "{log}");
    assert!(!log.contains("wx-code-must-not-leak"), "{log}");
}

#[tokio::test]
async fn staff_who_have_not_joined_see_no_part_of_a_message() {
    let app = spawn_app().await;
    let w = app.world().await;
    let thread = thread_between_a_and_b(&app, &w).await;
    say(
        &app,
        &w.a.admin.token,
        &thread,
        "a-1",
        "底价 18 元/平方米，别外传",
    )
    .await;

    let one = app
        .get(&format!("/api/v1/threads/{thread}"), &w.staff1.token)
        .await;
    let one = one.expect(200);
    assert_eq!(one["my_role"], "observer");
    assert!(one["last_message"].is_null(), "{one}");
    let listed = app
        .all_pages("/api/v1/threads?scope=community", &w.staff1.token)
        .await;
    assert_eq!(ids(&listed), vec![thread.clone()]);
    assert!(listed[0]["last_message"].is_null(), "{}", listed[0]);
    // As on the messages route, which refuses them until they join.
    app.get(
        &format!("/api/v1/threads/{thread}/messages"),
        &w.staff1.token,
    )
    .await
    .expect_problem(403, "not_a_participant");

    // Once joined, they read it like the firms do.
    app.post_empty(&format!("/api/v1/threads/{thread}/join"), &w.staff1.token)
        .await
        .expect(200);
    let joined = app
        .get(&format!("/api/v1/threads/{thread}"), &w.staff1.token)
        .await;
    // The newest message is now the system note of the joining.
    assert_eq!(joined.expect(200)["last_message"]["kind"], "system");
    let firm_view = app
        .get(&format!("/api/v1/threads/{thread}"), &w.b.admin.token)
        .await;
    assert!(firm_view.expect(200)["last_message"]["preview"].is_string());
}
