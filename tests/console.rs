//! The staff console's files: served from the binary at `/console` with
//! their content types, revalidated by ETag, and never anything else.

use reqwest::Method;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};

use crate::helpers::{assert_problem_type, spawn_app};

#[tokio::test]
async fn the_console_is_served_with_types_and_etags() {
    let app = spawn_app().await;
    for path in ["/console", "/console/"] {
        let resp = app.client.get(app.url(path)).send().await.expect("get");
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(resp.headers()[CACHE_CONTROL], "no-cache");
        let csp = resp.headers()["content-security-policy"]
            .to_str()
            .expect("csp");
        assert!(csp.contains("default-src 'self'"), "{csp}");
        let html = resp.text().await.expect("body");
        assert!(html.contains("/console/js/main.js"), "{html}");
    }

    for (path, ty) in [
        ("/console/js/main.js", "text/javascript; charset=utf-8"),
        (
            "/console/js/views/case.js",
            "text/javascript; charset=utf-8",
        ),
        ("/console/app.css", "text/css; charset=utf-8"),
        ("/console/icon.svg", "image/svg+xml"),
    ] {
        let resp = app.client.get(app.url(path)).send().await.expect("get");
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.headers()[CONTENT_TYPE], ty, "{path}");
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        let etag = resp.headers()[ETAG].clone();

        // The same ETag back: 304 and no body.
        let again = app
            .client
            .get(app.url(path))
            .header(IF_NONE_MATCH, etag.clone())
            .send()
            .await
            .expect("revalidate");
        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(again.headers()[ETAG], etag);
        assert!(again.bytes().await.expect("body").is_empty());
    }

    let head = app
        .client
        .head(app.url("/console/app.css"))
        .send()
        .await
        .expect("head");
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()[CONTENT_TYPE], "text/css; charset=utf-8");
}

#[tokio::test]
async fn nothing_else_is_served_under_console() {
    let app = spawn_app().await;
    for path in [
        "/console/nothing.js",
        "/console/js/",
        "/console/../Cargo.toml",
        "/console/%2e%2e/Cargo.toml",
        "/console/.hidden",
    ] {
        let r = app.get_anon(path).await;
        assert_eq!(r.status, 404, "{path}: {:#}", r.body);
        assert_problem_type(&r);
    }
    let r = app
        .request(Method::POST, "/console", None, Some(&serde_json::json!({})))
        .await;
    r.expect_problem(405, "method_not_allowed");
}
