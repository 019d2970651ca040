//! WeChat against a local stub of its API: mini-program sign-in
//! (`code2session`) and subscribe messages (`stable_token`,
//! `subscribeMessage.send`), including their error codes.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

/// A stub of WeChat's API: `GET /sns/jscode2session` answers by
/// `js_code`; `POST /cgi-bin/stable_token` hands out numbered tokens (a new
/// one on `force_refresh`); `POST /cgi-bin/message/subscribe/send` answers
/// what the test queued in `send_answers` (success when empty) and `40001`
/// to a token that is not the newest. Records every call.
struct WechatStub {
    base: String,
    queries: Arc<Mutex<Vec<String>>>,
    calls: Arc<Mutex<Vec<Call>>>,
    send_answers: Arc<Mutex<VecDeque<Value>>>,
    task: tokio::task::JoinHandle<()>,
}

/// One request the stub got.
#[derive(Debug, Clone)]
struct Call {
    path: String,
    query: String,
    body: Value,
}

impl Drop for WechatStub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The stub's shared state.
#[derive(Clone)]
struct StubState {
    queries: Arc<Mutex<Vec<String>>>,
    calls: Arc<Mutex<Vec<Call>>>,
    send_answers: Arc<Mutex<VecDeque<Value>>>,
    tokens: Arc<Mutex<u32>>,
    answers: Arc<HashMap<&'static str, Value>>,
}

impl StubState {
    fn answer(&self, path: &str, query: &str, body: &Value) -> Value {
        match path {
            "/sns/jscode2session" => {
                let code = query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("js_code="))
                    .unwrap_or("");
                self.answers
                    .get(code)
                    .cloned()
                    .unwrap_or(json!({ "errcode": 40029, "errmsg": "invalid code" }))
            }
            "/cgi-bin/stable_token" => {
                if body["appid"] != "wx-test-app" || body["secret"] != "wx-test-secret" {
                    return json!({ "errcode": 40013, "errmsg": "invalid appid" });
                }
                let mut n = self.tokens.lock().expect("tokens");
                if *n == 0 || body["force_refresh"] == true {
                    *n += 1;
                }
                json!({ "access_token": format!("tok-{n}"), "expires_in": 7200 })
            }
            "/cgi-bin/message/subscribe/send" => {
                let newest = format!("access_token=tok-{}", self.tokens.lock().expect("tokens"));
                if !query.split('&').any(|kv| kv == newest) {
                    return json!({ "errcode": 40001, "errmsg": "invalid credential" });
                }
                self.send_answers
                    .lock()
                    .expect("answers")
                    .pop_front()
                    .unwrap_or(json!({ "errcode": 0, "errmsg": "ok" }))
            }
            _ => json!({ "errcode": 404, "errmsg": "no such api" }),
        }
    }
}

impl WechatStub {
    async fn start(answers: HashMap<&'static str, Value>) -> WechatStub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind stub");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let state = StubState {
            queries: Arc::default(),
            calls: Arc::default(),
            send_answers: Arc::default(),
            tokens: Arc::default(),
            answers: Arc::new(answers),
        };
        let (queries, calls, send_answers) = (
            state.queries.clone(),
            state.calls.clone(),
            state.send_answers.clone(),
        );
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(serve(sock, state.clone()));
            }
        });
        WechatStub {
            base,
            queries,
            calls,
            send_answers,
            task,
        }
    }

    /// The calls made to one API path so far.
    fn calls_to(&self, path: &str) -> Vec<Call> {
        self.calls
            .lock()
            .expect("calls")
            .iter()
            .filter(|c| c.path == path)
            .cloned()
            .collect()
    }

    /// Waits (up to 20 s) until `path` has had `n` calls; returns them.
    async fn wait_for(&self, path: &str, n: usize) -> Vec<Call> {
        for _ in 0..400 {
            let calls = self.calls_to(path);
            if calls.len() >= n {
                return calls;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "{path}: fewer than {n} calls after 20 s: {:?}",
            self.calls_to(path)
        );
    }
}

/// Answers one HTTP/1.1 request.
async fn serve(mut sock: tokio::net::TcpStream, state: StubState) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body: Value = serde_json::from_slice(&buf[head_end..]).unwrap_or(Value::Null);
    let target = head.split(' ').nth(1).unwrap_or("").to_string();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    state
        .queries
        .lock()
        .expect("queries")
        .push(query.to_string());
    let answer = state.answer(path, query, &body).to_string();
    state.calls.lock().expect("calls").push(Call {
        path: path.to_string(),
        query: query.to_string(),
        body,
    });
    // WeChat labels its JSON text/plain. Codes `unsized-…` are answered
    // without a length (the body ends with the connection).
    let length = if query.contains("js_code=unsized-") {
        String::new()
    } else {
        format!("content-length: {}\r\n", answer.len())
    };
    let reply = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n{length}connection: close\r\n\r\n{answer}"
    );
    let _ = sock.write_all(reply.as_bytes()).await;
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

// ------------------------------------------------------- subscribe messages

const SEND: &str = "/cgi-bin/message/subscribe/send";
const TOKEN: &str = "/cgi-bin/stable_token";

/// A server with WeChat and two subscribe-message templates configured.
async fn app_with_templates(stub: &WechatStub) -> TestApp {
    spawn_app_with(&[
        ("ZQL_WECHAT_API_BASE", stub.base.as_str()),
        ("ZQL_WECHAT_APP_ID", "wx-test-app"),
        ("ZQL_WECHAT_APP_SECRET", "wx-test-secret"),
        (
            "ZQL_WECHAT_TEMPLATE_MESSAGE",
            "tmpl-msg|thing1=body,time2=time,phrase3=title",
        ),
        (
            "ZQL_WECHAT_TEMPLATE_CASE",
            "tmpl-case|thing1=body,thing2=app",
        ),
    ])
    .await
}

async fn subscriptions(app: &TestApp, token: &str) -> Value {
    app.get("/api/v1/me/wechat-subscriptions", token)
        .await
        .expect(200)
        .clone()
}

fn remaining(subs: &Value, topic: &str) -> i64 {
    subs["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|s| s["topic"] == topic)
        .and_then(|s| s["remaining"].as_i64())
        .unwrap_or_else(|| panic!("no topic {topic} in {subs}"))
}

/// A thread firm a opens about a new offer of firm b.
async fn thread_about_offer(app: &TestApp, w: &World, title: &str) -> String {
    let offer = app.create_listing(&w.b.admin, &space_offer(title)).await;
    let r = app
        .post(
            "/api/v1/threads",
            &w.a.admin.token,
            &json!({ "listing_id": id_of(&offer) }),
        )
        .await;
    id_of(r.expect(201))
}

async fn b_says(app: &TestApp, w: &World, thread: &str, text: &str) {
    app.post(
        &format!("/api/v1/threads/{thread}/messages"),
        &w.b.admin.token,
        &json!({ "client_msg_id": uuid::Uuid::now_v7().to_string(), "text": text }),
    )
    .await
    .expect(201);
}

/// Firm a's newest notification.
async fn newest_notification(app: &TestApp, w: &World) -> Value {
    app.get("/api/v1/notifications?limit=1", &w.a.admin.token)
        .await
        .expect(200)["items"][0]
        .clone()
}

#[tokio::test]
async fn consents_are_recorded_as_the_mini_program_reports_them() {
    let stub = WechatStub::start(HashMap::from([("code-bind", ok("o-wang"))])).await;
    let app = app_with_templates(&stub).await;
    let w = app.world().await;
    let token = &w.a.admin.token;
    let subs = subscriptions(&app, token).await;
    assert_eq!(subs["wechat_bound"], false);
    let topics: Vec<&str> = subs["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|s| s["topic"].as_str().expect("topic"))
        .collect();
    assert_eq!(topics, ["message", "case"], "only configured topics");
    assert_eq!(subs["data"][0]["template_id"], "tmpl-msg");
    assert_eq!(subs["data"][0]["label"], "新消息");
    assert_eq!(subs["data"][0]["enabled"], true);

    wechat(&app, "code-bind", Some(token)).await.expect(200);
    assert_eq!(subscriptions(&app, token).await["wechat_bound"], true);

    // What wx.requestSubscribeMessage resolves with, errMsg included.
    let answer = json!({ "results": {
        "errMsg": "requestSubscribeMessage:ok", "tmpl-msg": "accept", "tmpl-case": "reject" } });
    for _ in 0..2 {
        app.post("/api/v1/me/wechat-subscriptions", token, &answer)
            .await
            .expect(200);
    }
    let subs = subscriptions(&app, token).await;
    assert_eq!(
        (remaining(&subs, "message"), remaining(&subs, "case")),
        (2, 0)
    );

    // Bad answers change nothing.
    for (body, field) in [
        (
            json!({ "results": { "tmpl-other": "accept" } }),
            "results.tmpl-other",
        ),
        (
            json!({ "results": { "tmpl-msg": "maybe" } }),
            "results.tmpl-msg",
        ),
        (
            json!({ "results": { "errMsg": "requestSubscribeMessage:ok" } }),
            "results",
        ),
    ] {
        let r = app
            .post("/api/v1/me/wechat-subscriptions", token, &body)
            .await;
        assert_eq!(r.expect_invalid(), vec![field], "{body}");
    }
    app.post(
        "/api/v1/me/wechat-subscriptions",
        token,
        &json!({ "results": {}, "extra": 1 }),
    )
    .await
    .expect(422);
    // "ban": WeChat will not deliver this template to the user any more.
    let subs = app
        .post(
            "/api/v1/me/wechat-subscriptions",
            token,
            &json!({ "results": { "tmpl-msg": "ban" } }),
        )
        .await
        .expect(200)
        .clone();
    assert_eq!(remaining(&subs, "message"), 0);

    // The user's own switch; unknown or unconfigured topics are 404.
    let subs = app
        .patch(
            "/api/v1/me/wechat-subscriptions/case",
            token,
            &json!({ "enabled": false }),
        )
        .await
        .expect(200)
        .clone();
    assert_eq!(subs["data"][1]["enabled"], false);
    for topic in ["brokered", "nothing"] {
        app.patch(
            &format!("/api/v1/me/wechat-subscriptions/{topic}"),
            token,
            &json!({ "enabled": false }),
        )
        .await
        .expect_problem(404, "not_found");
    }
    // Another user's consents are their own.
    assert_eq!(
        remaining(&subscriptions(&app, &w.b.admin.token).await, "message"),
        0
    );
    // Nothing was sent to WeChat by any of this.
    assert!(stub.calls_to(SEND).is_empty());
}

#[tokio::test]
async fn subscribe_messages_reach_consenting_users_once_per_thread_per_quarter_hour() {
    let stub = WechatStub::start(HashMap::from([("code-bind", ok("o-wang"))])).await;
    let app = app_with_templates(&stub).await;
    let w = app.world().await;
    let token = &w.a.admin.token;
    wechat(&app, "code-bind", Some(token)).await.expect(200);
    let accept = |t: &str| json!({ "results": { t: "accept" } });
    for _ in 0..3 {
        app.post(
            "/api/v1/me/wechat-subscriptions",
            token,
            &accept("tmpl-msg"),
        )
        .await
        .expect(200);
    }

    // A message in a thread: one subscribe message, with the app's token.
    let t1 = thread_about_offer(&app, &w, "2000㎡ 厂房出租 带行车").await;
    b_says(&app, &w, &t1, "您好，厂房下周可以看").await;
    let sent = stub.wait_for(SEND, 1).await;
    let first = &sent[0];
    assert_eq!(first.body["touser"], "o-wang");
    assert_eq!(first.body["template_id"], "tmpl-msg");
    assert_eq!(first.body["miniprogram_state"], "formal");
    assert_eq!(first.body["data"]["phrase3"]["value"], "新消息");
    assert!(
        first.body["data"]["time2"]["value"]
            .as_str()
            .is_some_and(|t| t.contains('年') && t.contains(':')),
        "{}",
        first.body
    );
    let note = newest_notification(&app, &w).await;
    assert_eq!(note["thread_id"], t1.as_str());
    assert_eq!(
        first.body["page"],
        format!(
            "pages/notifications/index?open={}",
            note["id"].as_str().expect("id")
        )
    );
    assert!(
        first.query.contains("access_token=tok-1"),
        "{}",
        first.query
    );
    let tokens = stub.calls_to(TOKEN);
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].body["grant_type"], "client_credential");
    assert_eq!(tokens[0].body["force_refresh"], false);

    // A second message in the same thread within the quarter hour is not
    // sent; one in another thread is (and, sent in order, shows the first
    // was passed over, not delayed).
    b_says(&app, &w, &t1, "另外行车是 5 吨的").await;
    let t2 = thread_about_offer(&app, &w, "仓库 800㎡ 可分租").await;
    b_says(&app, &w, &t2, "仓库月底空出来").await;
    let sent = stub.wait_for(SEND, 2).await;
    assert_eq!(sent.len(), 2);
    let note = newest_notification(&app, &w).await;
    assert_eq!(note["thread_id"], t2.as_str());
    assert!(
        sent[1].body["page"]
            .as_str()
            .is_some_and(|p| p.ends_with(note["id"].as_str().expect("id")))
    );
    assert_eq!(remaining(&subscriptions(&app, token).await, "message"), 1);

    // A refused token (40001) is refreshed once, and the message sent.
    stub.send_answers
        .lock()
        .expect("answers")
        .push_back(json!({ "errcode": 40001, "errmsg": "invalid credential" }));
    let t3 = thread_about_offer(&app, &w, "冷库 200 立方 出租").await;
    b_says(&app, &w, &t3, "冷库零下十八度").await;
    let sent = stub.wait_for(SEND, 4).await;
    let tokens = stub.calls_to(TOKEN);
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    assert_eq!(tokens[1].body["force_refresh"], true);
    assert!(
        sent[3].query.contains("access_token=tok-2"),
        "{}",
        sent[3].query
    );
    assert_eq!(remaining(&subscriptions(&app, token).await, "message"), 0);

    // Without a consent left nothing is queued; WeChat's "no consent"
    // (43101) resets the count, so nothing more is tried.
    app.post(
        "/api/v1/me/wechat-subscriptions",
        token,
        &accept("tmpl-msg"),
    )
    .await
    .expect(200);
    stub.send_answers
        .lock()
        .expect("answers")
        .push_back(json!({ "errcode": 43101, "errmsg": "user refuse to accept the msg" }));
    let t4 = thread_about_offer(&app, &w, "叉车 3 吨 出租").await;
    b_says(&app, &w, &t4, "叉车明天可以送过去").await;
    stub.wait_for(SEND, 5).await;
    let mut left = 1;
    for _ in 0..200 {
        left = remaining(&subscriptions(&app, token).await, "message");
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(left, 0, "43101 resets the banked consents");

    // Switched off by the user: nothing. A case update (another topic,
    // later in the log) is sent, and is the only send after that.
    app.post(
        "/api/v1/me/wechat-subscriptions",
        token,
        &accept("tmpl-msg"),
    )
    .await
    .expect(200);
    app.post(
        "/api/v1/me/wechat-subscriptions",
        token,
        &accept("tmpl-case"),
    )
    .await
    .expect(200);
    app.patch(
        "/api/v1/me/wechat-subscriptions/message",
        token,
        &json!({ "enabled": false }),
    )
    .await
    .expect(200);
    let t5 = thread_about_offer(&app, &w, "包装纸箱 余料 处理").await;
    b_says(&app, &w, &t5, "纸箱还有两百个").await;
    let mut urgent = listing("request", "space", "急需临时仓库 500平", "public");
    urgent["urgency"] = json!("urgent");
    let request = id_of(&app.create_listing(&w.a.admin, &urgent).await);
    let queue = app
        .get(
            "/api/v1/staff/queue?status=active&limit=100",
            &w.staff1.token,
        )
        .await
        .expect(200)
        .clone();
    let case = queue["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|k| k["listing"]["id"] == request.as_str())
        .cloned()
        .expect("case of the urgent request");
    app.post_empty(
        &format!("/api/v1/staff/cases/{}/claim", id_of(&case)),
        &w.staff1.token,
    )
    .await
    .expect(200);
    let sent = stub.wait_for(SEND, 6).await;
    assert_eq!(sent.len(), 6, "{sent:?}");
    assert_eq!(sent[5].body["template_id"], "tmpl-case");
    assert_eq!(sent[5].body["data"]["thing2"]["value"], "智企连");
    assert!(
        sent[5].body["data"]["thing1"]["value"]
            .as_str()
            .is_some_and(|v| v.contains("已受理")),
        "{}",
        sent[5].body
    );
    assert_eq!(remaining(&subscriptions(&app, token).await, "message"), 1);
}
