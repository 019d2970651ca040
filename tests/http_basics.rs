//! What every endpoint shares: the error format, body limits, routing
//! fallbacks, request ids and the health probes.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn malformed_json_is_a_problem() {
    let app = spawn_app().await;
    let req = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(r#"{"login": "a@b.cn", "password": "#);
    let r = app.send(req).await;
    r.expect_problem(400, "invalid_json");
    assert_eq!(r.body["type"], "urn:zhiqilian:problem:invalid_json");
    assert_eq!(r.body["title"], "Bad Request");
    assert!(r.body["detail"].is_string());
    assert!(r.body.get("errors").is_none(), "{:#}", r.body);

    // Valid JSON of the wrong shape is a validation error naming the field.
    let r = app
        .post_anon("/api/v1/auth/login", &json!({ "login": "a@b.cn" }))
        .await;
    assert_eq!(r.expect_invalid(), ["password"]);
    let r = app.post_anon("/api/v1/auth/login", &json!([1, 2])).await;
    r.expect_problem(422, "validation_failed");
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let app = spawn_app().await;
    for ct in ["text/plain", "application/x-www-form-urlencoded"] {
        let req = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .header("content-type", ct)
            .body(r#"{"login":"a@b.cn","password":"x"}"#);
        let r = app.send(req).await;
        r.expect_problem(415, "unsupported_media_type");
    }
    // No content type at all.
    let req = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .body(r#"{"login":"a@b.cn","password":"x"}"#);
    let r = app.send(req).await;
    assert_eq!(r.status.as_u16(), 415, "{:#}", r.body);
    assert_problem_type(&r);
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let app = spawn_app_with(&[("ZQL_BODY_LIMIT_BYTES", "2048")]).await;
    let big = json!({ "login": "a@b.cn", "password": "p".repeat(4096) });
    let r = app.post_anon("/api/v1/auth/login", &big).await;
    r.expect_problem(413, "payload_too_large");

    // Just under the limit is read (and then judged on its content).
    let fits = json!({ "login": "a@b.cn", "password": "p".repeat(1900) });
    let r = app.post_anon("/api/v1/auth/login", &fits).await;
    r.expect(422);

    // Authenticated endpoints obey the limit too.
    let admin = app.admin().await;
    let mut body = space_offer("厂房");
    body["description"] = json!("很".repeat(1000));
    let r = app.post("/api/v1/communities", &admin.token, &body).await;
    r.expect_problem(413, "payload_too_large");
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let app = spawn_app().await;
    let r = app.get_anon("/api/v1/nothing-here").await;
    r.expect_problem(404, "route_not_found");
    let r = app.get_anon("/").await;
    r.expect_problem(404, "route_not_found");

    let r = app
        .request(Method::DELETE, "/api/v1/listings", None, None)
        .await;
    r.expect_problem(405, "method_not_allowed");
    let r = app
        .request(Method::PUT, "/api/v1/listings/abc", None, Some(&json!({})))
        .await;
    r.expect_problem(405, "method_not_allowed");
    let r = app.get_anon("/api/v1/auth/login").await;
    r.expect_problem(405, "method_not_allowed");
    let r = app.request(Method::POST, "/healthz", None, None).await;
    r.expect_problem(405, "method_not_allowed");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let mut seen = std::collections::HashSet::new();
    for r in [
        app.get_anon("/healthz").await,
        app.get_anon("/healthz").await,
        app.get_anon("/api/v1/me").await,
        app.get_anon("/no/such/route").await,
        app.get_anon("/api/v1/communities").await,
    ] {
        let id = r
            .header("x-request-id")
            .unwrap_or_else(|| panic!("no x-request-id on {} {:#}", r.status, r.body))
            .to_string();
        assert!(!id.is_empty());
        assert!(seen.insert(id.clone()), "request id {id} repeated");
    }
}

#[tokio::test]
async fn health_probes() {
    let app = spawn_app().await;
    let r = app.get_anon("/healthz").await;
    assert_eq!(r.expect(200), &json!({ "status": "ok" }));
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{:?}",
        r.headers
    );
    let r = app.get_anon("/readyz").await;
    assert_eq!(
        r.expect(200),
        &json!({ "status": "ready", "database": app.backend_name() })
    );
}

/// Beyond `max_in_flight` requests are answered at once with 503
/// `overloaded` and Retry-After; probes are never shed, even while the
/// limit is reached; the server serves normally again as soon as the burst
/// is over.
#[tokio::test]
async fn requests_beyond_the_in_flight_limit_are_shed_at_once() {
    use tokio::io::AsyncWriteExt;
    // A server process of its own: a request whose body never finishes must
    // reach it over a real socket from outside the server's runtime.
    let mut app = database_only().await;
    let node = crate::process::ServerProcess::start(
        app.data_dir(),
        &app.database_url,
        &[("ZQL_MAX_IN_FLIGHT", "1")],
    );
    app.address = node.address.clone();
    let w = app.world().await;
    for i in 0..5 {
        app.create_listing(&w.b.admin, &space_offer(&format!("厂房出租 {i} 号")))
            .await;
    }
    let search = "/api/v1/listings/search?q=厂房";
    let burst = (0..40).map(|_| app.get(search, &w.a.admin.token));
    let replies = futures_util::future::join_all(burst).await;
    let shed: Vec<&Reply> = replies.iter().filter(|r| r.status == 503).collect();
    assert!(
        replies.iter().all(|r| r.status == 200 || r.status == 503),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(!shed.is_empty(), "40 concurrent searches with a limit of 1");
    assert!(shed.len() < 40, "some were served");
    for r in shed {
        r.expect_problem(503, "overloaded");
        assert_eq!(r.header("retry-after"), Some("1"));
    }

    // The one slot held for as long as the test likes: a request whose body
    // is still on its way (the input screen waits for it). Now and then the
    // server ends such a stalled body at once (400 `invalid_body`, an
    // incomplete payload), which frees the slot: then it is held anew.
    let hold = || async {
        let mut held = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://"))
            .await
            .expect("connect");
        held.write_all(
            b"POST /api/v1/auth/login HTTP/1.1\r\nhost: localhost\r\n\
              content-type: application/json\r\ncontent-length: 200\r\n\r\n{\"login\":",
        )
        .await
        .expect("send the head");
        held
    };
    let mut held = hold().await;
    let mut tries = 1;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while app.get(search, &w.a.admin.token).await.status != 503 {
        assert!(
            std::time::Instant::now() < deadline,
            "the held request never took the slot ({tries} tries)"
        );
        let mut probe = [0u8; 1];
        if let Ok(Ok(n)) =
            tokio::time::timeout(std::time::Duration::from_millis(50), held.peek(&mut probe)).await
        {
            assert!(n <= 1);
            held = hold().await;
            tries += 1;
        }
    }
    // While it is held, a burst of searches with probes among them: every
    // search is shed, every probe answered.
    let (app_ref, token) = (&app, w.a.admin.token.as_str());
    let during = (0..30).map(|i| async move {
        let path = match i % 3 {
            0 => search,
            1 => "/healthz",
            _ => "/readyz",
        };
        (path, app_ref.get(path, token).await)
    });
    for (path, r) in futures_util::future::join_all(during).await {
        if path == search {
            r.expect_problem(503, "overloaded");
        } else {
            assert_eq!(r.status, 200, "{path} shed while the limit was reached");
        }
    }
    app.get(search, &w.a.admin.token)
        .await
        .expect_problem(503, "overloaded");

    // The held request gives up; afterwards everything is served.
    drop(held);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let r = app.get(search, &w.a.admin.token).await;
        if r.status == 200 {
            break;
        }
        r.expect_problem(503, "overloaded");
        assert!(
            std::time::Instant::now() < deadline,
            "still shedding 10 s after the burst"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
