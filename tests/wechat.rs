//! WeChat mini-program sign-in against a local stub of WeChat's
//! `code2session`, including its error codes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

/// A stub of `GET /sns/jscode2session`: answers by `js_code`, records the
/// query strings it got.
struct WechatStub {
    base: String,
    queries: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WechatStub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl WechatStub {
    async fn start(answers: HashMap<&'static str, Value>) -> WechatStub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind stub");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let queries = Arc::new(Mutex::new(Vec::new()));
        let q = queries.clone();
        let answers = Arc::new(answers);
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let (q, answers) = (q.clone(), answers.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 2048];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&buf).to_string();
                    let target = head.split(' ').nth(1).unwrap_or("").to_string();
                    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
                    q.lock().expect("queries").push(query.to_string());
                    let code = query
                        .split('&')
                        .find_map(|kv| kv.strip_prefix("js_code="))
                        .unwrap_or("");
                    let body = if path != "/sns/jscode2session" {
                        json!({ "errcode": 404, "errmsg": "no such api" })
                    } else {
                        answers
                            .get(code)
                            .cloned()
                            .unwrap_or(json!({ "errcode": 40029, "errmsg": "invalid code" }))
                    }
                    .to_string();
                    // WeChat labels its JSON text/plain. Codes `unsized-…`
                    // are answered without a length (the body ends with
                    // the connection).
                    let length = if code.starts_with("unsized-") {
                        String::new()
                    } else {
                        format!("content-length: {}\r\n", body.len())
                    };
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n{length}connection: close\r\n\r\n{body}"
                    );
                    let _ = sock.write_all(reply.as_bytes()).await;
                });
            }
        });
        WechatStub {
            base,
            queries,
            task,
        }
    }
}

fn ok(openid: &str) -> Value {
    json!({ "openid": openid, "session_key": "c2Vzc2lvbg==", "unionid": format!("u-{openid}") })
}

async fn wechat(app: &TestApp, code: &str, token: Option<&str>) -> Reply {
    let mut req = app
        .client
        .post(app.url("/api/v1/auth/wechat"))
        .json(&json!({ "code": code }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    app.send(req).await
}

#[tokio::test]
async fn mini_program_sign_in_binds_once_then_signs_in() {
    let stub = WechatStub::start(HashMap::from([
        ("code-1", ok("o-wang")),
        ("code-2", ok("o-wang")),
        ("code-3", ok("o-wang")),
        ("code-4", ok("o-li")),
    ]))
    .await;
    let app = spawn_app_with(&[
        ("ZQL_WECHAT_API_BASE", stub.base.as_str()),
        ("ZQL_WECHAT_APP_ID", "wx-test-app"),
        ("ZQL_WECHAT_APP_SECRET", "wx-test-secret"),
    ])
    .await;
    let w = app.world().await;

    // Unbound: reported, nothing signed in.
    wechat(&app, "code-1", None)
        .await
        .expect_problem(403, "wechat_binding_required");
    // The app id, secret and code went to WeChat.
    let q = stub.queries.lock().expect("queries")[0].clone();
    for part in [
        "appid=wx-test-app",
        "secret=wx-test-secret",
        "js_code=code-1",
        "grant_type=authorization_code",
    ] {
        assert!(q.contains(part), "{q}");
    }

    // After a password sign-in, a fresh code with that token binds.
    let r = wechat(&app, "code-2", Some(&w.a.admin.token)).await;
    let b = r.expect(200);
    assert_eq!(b["token_type"], "Bearer");
    // From now on the code alone signs the user in, with their roles.
    let r = wechat(&app, "code-3", None).await;
    let token = r.expect(200)["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    let me = app.get("/api/v1/me", &token).await;
    assert_eq!(me.expect(200)["firm"]["id"], w.a.id.as_str());
    assert!(r.body["refresh_token"].is_string());

    // One WeChat per account, one account per WeChat.
    wechat(&app, "code-4", Some(&w.a.admin.token))
        .await
        .expect_problem(409, "wechat_already_bound");
    wechat(&app, "code-1", Some(&w.b.admin.token))
        .await
        .expect_problem(409, "wechat_already_bound");
    // A bad token is refused, not ignored.
    wechat(&app, "code-3", Some("not-a-token"))
        .await
        .expect_problem(401, "invalid_token");
    let r = wechat(&app, "  ", None).await;
    assert_eq!(r.expect_invalid(), vec!["code"]);
}

#[tokio::test]
async fn wechat_error_codes_map_to_problems() {
    let stub = WechatStub::start(HashMap::from([
        ("bad", json!({ "errcode": 40029, "errmsg": "invalid code" })),
        (
            "used",
            json!({ "errcode": 40163, "errmsg": "code been used" }),
        ),
        (
            "fast",
            json!({ "errcode": 45011, "errmsg": "api minute-quota reach limit" }),
        ),
        (
            "risky",
            json!({ "errcode": 40226, "errmsg": "high risk level user" }),
        ),
        ("busy", json!({ "errcode": -1, "errmsg": "system error" })),
        (
            "odd",
            json!({ "errcode": 40013, "errmsg": "invalid appid" }),
        ),
        ("empty", json!({ "session_key": "x" })),
    ]))
    .await;
    let app = spawn_app_with(&[
        ("ZQL_WECHAT_API_BASE", stub.base.as_str()),
        ("ZQL_WECHAT_APP_ID", "wx-test-app"),
        ("ZQL_WECHAT_APP_SECRET", "wx-test-secret"),
    ])
    .await;
    wechat(&app, "bad", None)
        .await
        .expect_problem(401, "wechat_code_invalid");
    wechat(&app, "used", None)
        .await
        .expect_problem(401, "wechat_code_used");
    let r = wechat(&app, "fast", None).await;
    r.expect_problem(429, "wechat_rate_limited");
    assert!(r.header("retry-after").is_some());
    wechat(&app, "risky", None)
        .await
        .expect_problem(403, "wechat_user_blocked");
    let r = wechat(&app, "busy", None).await;
    r.expect_problem(503, "wechat_unavailable");
    assert!(r.header("retry-after").is_some());
    wechat(&app, "odd", None)
        .await
        .expect_problem(502, "wechat_error");
    wechat(&app, "empty", None)
        .await
        .expect_problem(502, "wechat_error");

    // WeChat unreachable.
    drop(stub);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    wechat(&app, "bad", None)
        .await
        .expect_problem(503, "wechat_unavailable");
}

#[tokio::test]
async fn without_an_app_id_wechat_sign_in_is_off() {
    let app = spawn_app().await;
    wechat(&app, "any", None)
        .await
        .expect_problem(404, "wechat_not_configured");
}

/// What comes back from `code2session` is held to what WeChat sends: a
/// small body, and ids of its alphabet and length. Anything else is a
/// 502, and nobody is signed in or bound.
#[tokio::test]
async fn wechat_answers_are_capped_and_their_ids_checked() {
    let padding = "x".repeat(1 << 20);
    let stub = WechatStub::start(HashMap::from([
        ("huge", json!({ "openid": "o-huge", "padding": padding })),
        (
            "unsized-huge",
            json!({ "openid": "o-huge", "padding": padding }),
        ),
        ("unsized-ok", ok("o-unsized")),
        (
            "nul",
            json!({ "openid": "o-wang\u{0}", "session_key": "x" }),
        ),
        (
            "path",
            json!({ "openid": "../../users/1", "session_key": "x" }),
        ),
        (
            "long",
            json!({ "openid": "o".repeat(65), "session_key": "x" }),
        ),
        (
            "html",
            json!({ "openid": "<script>x</script>", "session_key": "x" }),
        ),
        (
            "union",
            json!({ "openid": "o-ok", "unionid": "u id; drop" }),
        ),
        ("fine", ok("oAbc-123_XYZ")),
    ]))
    .await;
    let app = spawn_app_with(&[
        ("ZQL_WECHAT_API_BASE", stub.base.as_str()),
        ("ZQL_WECHAT_APP_ID", "wx-test-app"),
        ("ZQL_WECHAT_APP_SECRET", "wx-test-secret"),
    ])
    .await;
    let w = app.world().await;
    for code in [
        "huge",
        "unsized-huge",
        "nul",
        "path",
        "long",
        "html",
        "union",
    ] {
        let r = wechat(&app, code, Some(&w.a.admin.token)).await;
        assert_eq!(r.status, 502, "{code}: {:?}", r.body);
        assert_eq!(r.body["code"], "wechat_error", "{code}");
    }
    // Nothing was bound: the user binds a well-formed openid afterwards.
    let r = wechat(&app, "fine", Some(&w.a.admin.token)).await;
    r.expect(200);
    // An answer without a length that stays small is read as usual.
    wechat(&app, "unsized-ok", None)
        .await
        .expect_problem(403, "wechat_binding_required");
}
