//! The firm app's H5 build at `/app`: served from `app_dir` with content
//! types, a year's caching for hashed files, `index.html` for client-side
//! routes, nothing outside the folder; without `app_dir`, a page saying how
//! to build it.

use reqwest::Method;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION};

use crate::helpers::{assert_problem_type, spawn_app, spawn_app_with};

const INDEX: &str = "<!doctype html><html><body><div id=\"app\"></div>\
    <script src=\"./js/app.0a1b2c3d.js\"></script></body></html>";

/// A folder laid out like `miniprogram/dist/h5`.
fn h5_build() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp build dir");
    let p = dir.path();
    std::fs::create_dir_all(p.join("js")).expect("js dir");
    std::fs::create_dir_all(p.join("css")).expect("css dir");
    std::fs::write(p.join("index.html"), INDEX).expect("index");
    std::fs::write(p.join("js/app.0a1b2c3d.js"), "console.log('app');").expect("js");
    std::fs::write(p.join("css/app.9f8e7d6c.css"), "body{margin:0}").expect("css");
    std::fs::write(
        p.join("logo.svg"),
        "<svg xmlns='http://www.w3.org/2000/svg'/>",
    )
    .expect("svg");
    std::fs::write(p.join(".env"), "SECRET=1").expect("dot file");
    dir
}

#[tokio::test]
async fn the_h5_build_is_served_at_app() {
    let build = h5_build();
    let dir = build.path().display().to_string();
    let app = spawn_app_with(&[("ZQL_APP_DIR", &dir)]).await;

    // `/app` moves to `/app/` so the build's relative URLs resolve under it.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let r = plain.get(app.url("/app")).send().await.expect("get /app");
    assert_eq!(r.status(), 308);
    assert_eq!(r.headers()[LOCATION], "/app/");

    // The page itself, and a client-side route (no extension): index.html,
    // revalidated on every load.
    for path in ["/app/", "/app/pages/home/index", "/app/listing"] {
        let r = app.client.get(app.url(path)).send().await.expect("get");
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(r.headers()[CACHE_CONTROL], "no-cache", "{path}");
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .expect("csp");
        assert!(csp.contains("connect-src 'self'"), "{csp}");
        assert_eq!(r.text().await.expect("body"), INDEX, "{path}");
    }

    // Hashed assets: their type, cached for a year; the rest revalidated.
    for (path, ty, cache) in [
        (
            "/app/js/app.0a1b2c3d.js",
            "text/javascript; charset=utf-8",
            "public, max-age=31536000, immutable",
        ),
        (
            "/app/css/app.9f8e7d6c.css",
            "text/css; charset=utf-8",
            "public, max-age=31536000, immutable",
        ),
        ("/app/logo.svg", "image/svg+xml", "no-cache"),
    ] {
        let r = app.client.get(app.url(path)).send().await.expect("get");
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()[CONTENT_TYPE], ty, "{path}");
        assert_eq!(r.headers()[CACHE_CONTROL], cache, "{path}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        let etag = r.headers()[ETAG].clone();
        let again = app
            .client
            .get(app.url(path))
            .header(IF_NONE_MATCH, etag.clone())
            .send()
            .await
            .expect("revalidate");
        assert_eq!(again.status(), 304, "{path}");
        assert!(again.bytes().await.expect("body").is_empty());
    }

    // Gzipped for clients that accept it.
    let big = "console.log('智企连');\n".repeat(200);
    std::fs::write(build.path().join("js/big.11223344.js"), &big).expect("big js");
    let r = app
        .client
        .get(app.url("/app/js/big.11223344.js"))
        .header(reqwest::header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .expect("get gzip");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[reqwest::header::CONTENT_ENCODING], "gzip");
    let sent = r.bytes().await.expect("body").len();
    assert!(sent < big.len() / 4, "{sent} bytes for {}", big.len());

    // A rebuilt file is served at once (read from disk, not cached).
    std::fs::write(build.path().join("logo.svg"), "<svg/>").expect("rewrite");
    let r = app.get_anon("/app/logo.svg").await;
    assert_eq!(r.status, 200);
    let r = app
        .client
        .get(app.url("/app/logo.svg"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.text().await.expect("body"), "<svg/>");

    // A missing asset (it has an extension) is a 404, not the page; nothing
    // outside the folder or hidden is served.
    for path in [
        "/app/js/gone.0a1b2c3d.js",
        "/app/.env",
        "/app/../Cargo.toml",
        "/app/%2e%2e/Cargo.toml",
        "/app/js/%2e%2e/%2e%2e/Cargo.toml",
    ] {
        let r = app.get_anon(path).await;
        assert_eq!(r.status, 404, "{path}: {:#}", r.body);
        assert_problem_type(&r);
    }
    let head = app
        .client
        .head(app.url("/app/js/app.0a1b2c3d.js"))
        .send()
        .await
        .expect("head");
    assert_eq!(head.status(), 200);
    let r = app
        .request(Method::POST, "/app/", None, Some(&serde_json::json!({})))
        .await;
    r.expect_problem(405, "method_not_allowed");
}

#[tokio::test]
async fn without_app_dir_app_says_how_to_build_it() {
    let app = spawn_app().await;
    for path in ["/app/", "/app/pages/home/index", "/app/js/app.0a1b2c3d.js"] {
        let r = app.client.get(app.url(path)).send().await.expect("get");
        assert_eq!(r.status(), 404, "{path}");
        assert_eq!(r.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
        let html = r.text().await.expect("body");
        for want in [
            "企业端",
            "npm run build",
            "app_dir",
            "ZQL_APP_DIR",
            "not built",
        ] {
            assert!(html.contains(want), "{path}: lacks {want:?}: {html}");
        }
    }

    // A folder without a build in it says so, naming the folder.
    let empty = tempfile::tempdir().expect("empty dir");
    let dir = empty.path().display().to_string();
    let app = spawn_app_with(&[("ZQL_APP_DIR", &dir)]).await;
    let r = app.client.get(app.url("/app/")).send().await.expect("get");
    assert_eq!(r.status(), 404);
    let html = r.text().await.expect("body");
    assert!(html.contains("index.html") && html.contains(&dir), "{html}");
}
