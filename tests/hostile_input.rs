//! Hostile input: control characters (NUL) anywhere in a request, bodies
//! built to multiply the answer, webhook and event-stream fan-out one
//! client can set up, and refusals that happen before routing (CORS
//! preflights) — all answered in the one error format, on both backends.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::helpers::*;

fn assert_control_refused(r: &Reply, field: &str) {
    assert_eq!(r.status.as_u16(), 422, "{field}: {:#}", r.body);
    assert_problem_type(r);
    assert_eq!(r.body["code"], "validation_failed");
    assert_eq!(
        r.field_code(field).as_deref(),
        Some("control_character"),
        "{field}: {:#}",
        r.body
    );
}

#[tokio::test]
async fn nul_in_a_path_id_is_a_not_found_problem() {
    let app = spawn_app().await;
    let w = app.world().await;
    for path in [
        "/api/v1/communities/a%00b",
        "/api/v1/listings/a%00b",
        "/api/v1/firms/%00",
        "/api/v1/threads/x%1Fy/messages",
    ] {
        let r = app.get(path, &w.a.admin.token).await;
        assert_eq!(r.status.as_u16(), 404, "{path}: {:#}", r.body);
        assert_problem_type(&r);
        assert_eq!(r.body["code"], "not_found", "{path}");
    }
    let r = app.get_anon("/api/v1/communities/a%00b").await;
    r.expect_problem(404, "not_found");
}

#[tokio::test]
async fn nul_in_text_fields_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let w = app.world().await;

    // A community name (admin), a listing title, a registration's name
    // and the nested admin's display name.
    let r = app
        .post(
            "/api/v1/communities",
            &w.admin.token,
            &json!({ "name": "大港\u{0}社区", "district": "北仑区" }),
        )
        .await;
    assert_control_refused(&r, "name");
    let communities = app.get_anon("/api/v1/communities").await;
    assert_eq!(
        communities.expect(200)["items"].as_array().map(Vec::len),
        Some(2)
    );

    let mut l = space_offer("标准厂房\u{0}出租");
    let r = app.post("/api/v1/listings", &w.a.admin.token, &l).await;
    assert_control_refused(&r, "title");
    l["title"] = json!("标准厂房出租");
    l["attributes"]["floor"] = json!("一\u{7}楼");
    let r = app.post("/api/v1/listings", &w.a.admin.token, &l).await;
    assert_control_refused(&r, "attributes.floor");
    let mine = app
        .all_pages("/api/v1/listings?mine=true", &w.a.admin.token)
        .await;
    assert!(mine.is_empty(), "{mine:?}");

    let mut reg = firm_body(&w.c1, &valid_uscc(), &new_phone());
    reg["name"] = json!("宁波\u{0}模塑");
    reg["admin"]["display_name"] = json!("王\u{1b}[31m芳");
    let r = app.post_anon("/api/v1/firms/register", &reg).await;
    assert_control_refused(&r, "name");
    assert_control_refused(&r, "admin.display_name");
    let login = reg["admin"]["login"].as_str().expect("login").to_string();
    app.login(&login, PASSWORD)
        .await
        .expect_problem(401, "invalid_credentials");

    // A NUL in a sign-in is the same refusal, not a database error.
    let r = app
        .post_anon(
            "/api/v1/auth/login",
            &json!({ "login": "13800000001\u{0}", "password": PASSWORD }),
        )
        .await;
    assert_control_refused(&r, "login");
}

#[tokio::test]
async fn control_characters_in_query_strings_and_forms_are_refused() {
    let app = spawn_app().await;
    let w = app.world().await;
    for (path, field) in [
        ("/api/v1/listings/search?q=%E5%8F%89%E8%BD%A6%00", "q"),
        ("/api/v1/listings?kind=space%01", "kind"),
        ("/api/v1/matches?listing=a%00b", "listing"),
        ("/api/v1/threads?x%00=1", "x"),
    ] {
        let r = app.get(path, &w.a.admin.token).await;
        assert_control_refused(&r, field);
    }
    let r = app
        .send(
            app.client
                .post(app.url("/api/v1/oauth/token"))
                .form(&[("grant_type", "client_credentials"), ("client_id", "a\0b")]),
        )
        .await;
    assert_control_refused(&r, "client_id");
}

/// Descriptions and messages may span lines; titles and names may not.
#[tokio::test]
async fn line_breaks_pass_only_where_text_spans_lines() {
    let app = spawn_app().await;
    let w = app.world().await;
    let mut l = space_offer("标准厂房出租");
    l["description"] = json!("第一行\n\t第二行\r\n第三行");
    let created = app.create_listing(&w.a.admin, &l).await;
    assert_eq!(created["description"], "第一行\n\t第二行\r\n第三行");
    l["title"] = json!("标准厂房\n出租");
    let r = app.post("/api/v1/listings", &w.a.admin.token, &l).await;
    assert_control_refused(&r, "title");

    let t = app
        .post(
            "/api/v1/threads",
            &w.b.admin.token,
            &json!({ "listing_id": id_of(&created) }),
        )
        .await;
    let t = id_of(t.expect(201));
    let path = format!("/api/v1/threads/{t}/messages");
    let r = app
        .post(
            &path,
            &w.b.admin.token,
            &json!({ "client_msg_id": "m-1", "text": "您好\n厂房还在吗？" }),
        )
        .await;
    assert_eq!(r.expect(201)["text"], "您好\n厂房还在吗？");
    let r = app
        .post(
            &path,
            &w.b.admin.token,
            &json!({ "client_msg_id": "m-2", "text": "您好\u{0}" }),
        )
        .await;
    assert_control_refused(&r, "text");
    let msgs = app.get(&path, &w.b.admin.token).await;
    assert_eq!(msgs.expect(200)["items"].as_array().map(Vec::len), Some(1));
}

/// A 250 KB body with 16,000 unknown attribute keys: the answer lists 50
/// field errors and counts them all, instead of repeating every one.
#[tokio::test]
async fn field_errors_are_capped_with_a_count() {
    let app = spawn_app().await;
    let w = app.world().await;
    let mut attrs = Map::new();
    for i in 0..16_000 {
        attrs.insert(format!("k{i}"), json!(1));
    }
    let mut l = space_offer("标准厂房出租");
    l["attributes"] = Value::Object(attrs);
    let body = serde_json::to_vec(&l).expect("json");
    assert!(body.len() < 256 * 1024, "{} bytes", body.len());
    let r = app
        .send(
            app.client
                .post(app.url("/api/v1/listings"))
                .bearer_auth(&w.a.admin.token)
                .header("content-type", "application/json")
                .body(body),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.body["code"]);
    assert_eq!(r.body["errors"].as_array().map(Vec::len), Some(50));
    assert!(
        r.body["error_count"].as_u64().is_some_and(|n| n >= 16_000),
        "{}",
        r.body["error_count"]
    );
    let size = serde_json::to_vec(&r.body).expect("json").len();
    assert!(size < 16 * 1024, "answer of {size} bytes");

    // A few errors are all listed, with their count.
    let r = app
        .post(
            "/api/v1/listings",
            &w.a.admin.token,
            &json!({ "side": "offer", "kind": "space", "title": "x" }),
        )
        .await;
    let n = r.expect_invalid().len();
    assert_eq!(r.body["error_count"].as_u64(), Some(n as u64));
}

#[tokio::test]
async fn webhook_subscriptions_are_capped_per_client_and_not_duplicated() {
    let app = spawn_app_with(&[
        ("ZQL_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true"),
        ("ZQL_WEBHOOK_MAX_PER_CLIENT", "3"),
    ])
    .await;
    let w = app.world().await;
    let token = crate::webhooks::scoped_hook_client(
        &app,
        &w.staff1,
        &w.a.id,
        &["webhooks:manage", "threads:read", "matches:read"],
    )
    .await;
    let hook = |url: &str, types: &[&str]| json!({ "url": url, "event_types": types });
    let first = app
        .post(
            "/api/v1/webhooks",
            &token,
            &hook(
                "http://127.0.0.1:9/a",
                &["message.created", "match.created"],
            ),
        )
        .await;
    let first_id = id_of(first.expect(201));
    // The same URL and event types (in another order) is the same target.
    let r = app
        .post(
            "/api/v1/webhooks",
            &token,
            &hook(
                "http://127.0.0.1:9/a",
                &["match.created", "message.created"],
            ),
        )
        .await;
    let p = r.expect_problem(409, "webhook_exists");
    assert!(
        p["detail"].as_str().is_some_and(|d| d.contains(&first_id)),
        "{p:#}"
    );
    // Other types or another URL are other targets, up to the cap.
    app.post(
        "/api/v1/webhooks",
        &token,
        &hook("http://127.0.0.1:9/a", &["match.created"]),
    )
    .await
    .expect(201);
    app.post(
        "/api/v1/webhooks",
        &token,
        &hook("http://127.0.0.1:9/b", &["match.created"]),
    )
    .await
    .expect(201);
    app.post(
        "/api/v1/webhooks",
        &token,
        &hook("http://127.0.0.1:9/c", &["match.created"]),
    )
    .await
    .expect_problem(409, "webhook_limit_reached");
    let list = app.get("/api/v1/webhooks", &token).await;
    assert_eq!(list.expect(200)["items"].as_array().map(Vec::len), Some(3));
    // Deleting one frees a place.
    app.request(
        Method::DELETE,
        &format!("/api/v1/webhooks/{first_id}"),
        Some(&token),
        None,
    )
    .await
    .expect(204);
    app.post(
        "/api/v1/webhooks",
        &token,
        &hook("http://127.0.0.1:9/c", &["match.created"]),
    )
    .await
    .expect(201);
}

#[tokio::test]
async fn open_event_streams_are_capped_per_user() {
    let app = spawn_app_with(&[
        ("ZQL_EVENTS_MAX_STREAMS_PER_USER", "2"),
        // A heartbeat is how the server notices a client that went away.
        ("ZQL_EVENTS_HEARTBEAT_SECS", "1"),
    ])
    .await;
    let w = app.world().await;
    let s1 = app.events(&w.a.admin.token, None).await;
    let _s2 = app.events(&w.a.admin.token, None).await;
    let r = app
        .send(
            app.client
                .get(app.url("/api/v1/events"))
                .bearer_auth(&w.a.admin.token),
        )
        .await;
    r.expect_problem(429, "too_many_requests");
    assert!(r.header("retry-after").is_some());
    // Another user of the same firm has streams of their own.
    let member = app.add_member(&w.a.admin, &w.a.id).await;
    let _other = app.events(&member.token, None).await;
    // A closed stream frees its place (once the server noticed).
    drop(s1);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        // Only the status: the body of an open stream does not end.
        let r = app
            .client
            .get(app.url("/api/v1/events"))
            .bearer_auth(&w.a.admin.token)
            .send()
            .await
            .expect("request");
        if r.status().as_u16() == 200 {
            break;
        }
        assert_eq!(r.status().as_u16(), 429);
        assert!(
            Instant::now() < deadline,
            "the closed stream's place was never freed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn refused_cors_preflights_are_problems() {
    let app = spawn_app_with(&[("ZQL_CORS_ALLOWED_ORIGINS", "https://console.park.example")]).await;
    let preflight = |origin: &str, method: &str| {
        app.client
            .request(Method::OPTIONS, app.url("/api/v1/listings"))
            .header("origin", origin)
            .header("access-control-request-method", method)
    };
    let r = app.send(preflight("https://evil.example", "POST")).await;
    assert_eq!(r.status.as_u16(), 403, "{:?}", r.body);
    assert_problem_type(&r);
    assert_eq!(r.body["code"], "cors_origin_not_allowed");
    assert!(r.header("access-control-allow-origin").is_none());

    let r = app
        .send(preflight("https://console.park.example", "PUT"))
        .await;
    assert_eq!(r.status.as_u16(), 403, "{:?}", r.body);
    assert_problem_type(&r);
    assert_eq!(r.body["code"], "cors_request_not_allowed");

    let r = app
        .send(preflight("https://console.park.example", "POST"))
        .await;
    assert!(r.status.is_success(), "{:?}", r.status);
}

/// The importer shares the listing validation: a line with a control
/// character in its text is reported by field, never written (PostgreSQL
/// would refuse NUL), and the good lines go in.
#[tokio::test]
async fn imported_lines_with_control_characters_are_reported_not_written() {
    use zhiqilian::cli::import::{ImportOptions, import_file};
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let uscc = valid_uscc();
    let line = |key: &str, title: &str, description: &str, usage: &str| {
        json!({
            "key": key, "side": "offer", "kind": "space", "title": title,
            "description": description,
            "firm": { "name": "宁波测试制造有限公司", "uscc": uscc },
            "community": "测试工业社区",
            "location": { "address": "宁波市北仑区", "lat": 29.9, "lon": 121.8 },
            "attributes": { "area_m2": 800, "usage": usage }
        })
        .to_string()
    };
    let lines = [
        line("N-1", "标准厂房出租", "一楼\n带行车", "生产"),
        line("N-2", "标准厂房\u{0}出租", "", "生产"),
        line("N-3", "标准厂房出租", "一楼\u{0}", "生产"),
        line("N-4", "标准厂房出租", "", "生\u{0}产"),
    ];
    let path = dir.path().join("nul.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    let db = app.db();
    let report = tokio::task::spawn_blocking(move || {
        import_file(
            &db,
            &path,
            ImportOptions {
                verify_firms: true,
                progress: false,
            },
        )
    })
    .await
    .expect("import task")
    .expect("import runs");
    assert_eq!(report.created, 1);
    let mut by_line: Vec<(usize, &str)> = report
        .errors
        .iter()
        .map(|e| (e.line, e.field.as_str()))
        .collect();
    // ("生\0产" is also not one of `usage`'s values.)
    by_line.dedup();
    assert_eq!(
        by_line,
        [(2, "title"), (3, "description"), (4, "attributes.usage")],
        "{:?}",
        report.errors
    );
}
