//! Webhooks: signed deliveries to a local receiver, only of what the
//! client may see, in order; retries with backoff against a failing
//! receiver and automatic disabling; delivery after a restart; SSRF
//! refusal.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HashMap<String, String>,
    body: Vec<u8>,
    at: Instant,
}

/// A local HTTP receiver answering with planned statuses (then `fallback`).
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    plan: Arc<Mutex<VecDeque<u16>>>,
    fallback: Arc<Mutex<u16>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    async fn start(plan: &[u16], fallback: u16) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let url = format!("http://{}/hooks/zql", listener.local_addr().expect("addr"));
        let got = Arc::new(Mutex::new(Vec::new()));
        let plan = Arc::new(Mutex::new(plan.iter().copied().collect::<VecDeque<u16>>()));
        let fallback = Arc::new(Mutex::new(fallback));
        let (g, p, f) = (got.clone(), plan.clone(), fallback.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let (g, p, f) = (g.clone(), p.clone(), f.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let head_end = loop {
                        let Ok(n) = sock.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                    let headers: HashMap<String, String> = head
                        .lines()
                        .skip(1)
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
                        .collect();
                    let len: usize = headers
                        .get("content-length")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    while buf.len() < head_end + len {
                        let Ok(n) = sock.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let body = buf[head_end..].to_vec();
                    let status = p
                        .lock()
                        .expect("plan")
                        .pop_front()
                        .unwrap_or_else(|| *f.lock().expect("fallback"));
                    g.lock().expect("got").push(Received {
                        headers,
                        body,
                        at: Instant::now(),
                    });
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    );
                    let _ = sock.write_all(reply.as_bytes()).await;
                });
            }
        });
        Receiver {
            url,
            got,
            plan,
            fallback,
            task,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().expect("got").clone()
    }

    fn answer(&self, status: u16) {
        *self.fallback.lock().expect("fallback") = status;
        self.plan.lock().expect("plan").clear();
    }

    /// Waits until at least `n` requests arrived.
    async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n || start.elapsed() > within {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn json_of(r: &Received) -> Value {
    serde_json::from_slice(&r.body).expect("JSON body")
}

/// Verifies `t=…,v1=…` the way the integration guide tells receivers to.
fn verified(secret: &str, r: &Received, body: &[u8]) -> bool {
    let header = r
        .headers
        .get("zhiqilian-signature")
        .expect("signature header");
    let mut t = "";
    let mut v1 = "";
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v,
            Some(("v1", v)) => v1 = v,
            _ => {}
        }
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let Ok(sig) = hex::decode(v1) else {
        return false;
    };
    mac.verify_slice(&sig).is_ok()
}

/// A client of firm `firm_id` with `webhooks:manage` and `listings:read`
/// (listing events need it); returns its token.
async fn hook_client(app: &TestApp, staff: &Session, firm_id: &str) -> String {
    scoped_hook_client(app, staff, firm_id, &["webhooks:manage", "listings:read"]).await
}

/// A client of firm `firm_id` with `scopes`; returns its token.
pub async fn scoped_hook_client(
    app: &TestApp,
    staff: &Session,
    firm_id: &str,
    scopes: &[&str],
) -> String {
    let r = app
        .post(
            "/api/v1/clients",
            &staff.token,
            &json!({ "name": "园区平台", "firm_id": firm_id, "scopes": scopes }),
        )
        .await;
    let b = r.expect(201);
    let (id, secret) = (
        b["id"].as_str().expect("id").to_string(),
        b["client_secret"].as_str().expect("secret").to_string(),
    );
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
}

/// Subscribes; returns (webhook id, signing secret).
async fn subscribe(app: &TestApp, token: &str, url: &str, types: &[&str]) -> (String, String) {
    let r = app
        .post(
            "/api/v1/webhooks",
            token,
            &json!({ "url": url, "event_types": types }),
        )
        .await;
    let b = r.expect(201);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    (
        b["id"].as_str().expect("id").to_string(),
        b["secret"].as_str().expect("secret").to_string(),
    )
}

const PRIVATE_OK: (&str, &str) = ("ZQL_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true");

#[tokio::test]
async fn signed_deliveries_of_what_the_client_may_see_in_order() {
    let app = spawn_app_with(&[PRIVATE_OK]).await;
    let w = app.world().await;
    let rx = Receiver::start(&[], 200).await;
    let token = hook_client(&app, &w.staff1, &w.a.id).await;
    let (hook, secret) = subscribe(
        &app,
        &token,
        &rx.url,
        &["listing.created", "listing.closed"],
    )
    .await;
    assert!(secret.starts_with("whsec_"));

    let mine = app
        .create_listing(&w.a.admin, &space_offer("A 厂房 出租"))
        .await;
    // Another community's listing is not a's business.
    app.create_listing(&w.c.admin, &space_offer("C 厂房 出租"))
        .await;
    app.post_empty(
        &format!("/api/v1/listings/{}/close", id_of(&mine)),
        &w.a.admin.token,
    )
    .await
    .expect(200);

    // A last listing of a's marks the end: deliveries come in event order,
    // so once it has arrived, c's listing (written before it) would have too.
    let last = app
        .create_listing(&w.a.admin, &space_offer("A 仓库 出租"))
        .await;
    let got_all = rx.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(got_all.len(), 3, "{got_all:?}");
    let bodies: Vec<Value> = got_all.iter().map(json_of).collect();
    assert_eq!(bodies[0]["type"], "listing.created");
    assert_eq!(bodies[1]["type"], "listing.closed");
    assert_eq!(bodies[2]["type"], "listing.created");
    assert_eq!(bodies[0]["data"]["id"], mine["id"]);
    assert_eq!(bodies[1]["data"]["id"], mine["id"]);
    assert_eq!(bodies[2]["data"]["id"], last["id"]);
    assert_eq!(bodies[0]["webhook_id"], hook.as_str());
    assert!(bodies[0]["event_id"].as_i64() < bodies[1]["event_id"].as_i64());
    for r in &got_all {
        assert_eq!(
            r.headers.get("content-type").map(String::as_str),
            Some("application/json")
        );
        assert!(r.headers.contains_key("zhiqilian-delivery"));
        assert!(verified(&secret, r, &r.body), "signature verifies");
        let header = &r.headers["zhiqilian-signature"];
        let now = chrono::Utc::now().timestamp();
        assert!(zhiqilian::worker::webhooks::verify(
            &secret, header, &r.body, now, 300
        ));
        // A tampered body, or the wrong secret, fails.
        let mut tampered = r.body.clone();
        tampered[2] ^= 1;
        assert!(!verified(&secret, r, &tampered));
        assert!(!zhiqilian::worker::webhooks::verify(
            &secret, header, &tampered, now, 300
        ));
        assert!(!verified("whsec_other", r, &r.body));
    }

    // The log (an attempt is recorded once the receiver has answered); the
    // subscription is the client's alone.
    let items = log_when(&app, &token, &hook, |l| {
        l.len() == 3 && l.iter().all(|d| d["status"] != "pending")
    })
    .await;
    assert!(
        items
            .iter()
            .all(|d| d["status"] == "delivered" && d["attempts"] == 1),
        "{items:#?}"
    );
    let listed = app.get("/api/v1/webhooks", &token).await;
    assert_eq!(listed.expect(200)["items"][0]["id"], hook.as_str());
    let other = hook_client(&app, &w.staff1, &w.b.id).await;
    app.get(&format!("/api/v1/webhooks/{hook}"), &other)
        .await
        .expect_problem(404, "not_found");
    app.get("/api/v1/webhooks", &w.a.admin.token)
        .await
        .expect_problem(403, "forbidden");
    app.request(
        reqwest::Method::DELETE,
        &format!("/api/v1/webhooks/{hook}"),
        Some(&token),
        None,
    )
    .await
    .expect(204);
    app.get(&format!("/api/v1/webhooks/{hook}"), &token)
        .await
        .expect_problem(404, "not_found");
}

async fn delivery_log(app: &TestApp, token: &str, hook: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/webhooks/{hook}/deliveries"), token)
        .await
        .expect(200)["items"]
        .as_array()
        .expect("items")
        .clone()
}

/// The delivery log once `done` holds for it; fails after 10 s.
async fn log_when(
    app: &TestApp,
    token: &str,
    hook: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = delivery_log(app, token, hook).await;
        if done(&log) {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "delivery log after 10 s: {log:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn hook_status(app: &TestApp, token: &str, hook: &str) -> Value {
    app.get(&format!("/api/v1/webhooks/{hook}"), token)
        .await
        .expect(200)
        .clone()
}

#[tokio::test]
async fn failing_receivers_get_retries_with_backoff_then_the_hook_is_disabled() {
    let app = spawn_app_with(&[
        PRIVATE_OK,
        ("ZQL_WEBHOOK_RETRY_BASE_MS", "200"),
        ("ZQL_WEBHOOK_MAX_ATTEMPTS", "4"),
    ])
    .await;
    let w = app.world().await;
    let rx = Receiver::start(&[500, 503], 200).await;
    let token = hook_client(&app, &w.staff1, &w.a.id).await;
    let (hook, _) = subscribe(&app, &token, &rx.url, &["listing.created"]).await;

    app.create_listing(&w.a.admin, &space_offer("重试 一号"))
        .await;
    let got = rx.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 3);
    // Backoff: about 200 ms (100–200 with jitter), then about 400 (200–400).
    let gap1 = got[1].at - got[0].at;
    let gap2 = got[2].at - got[1].at;
    assert!(gap1 >= Duration::from_millis(90), "{gap1:?}");
    assert!(gap2 >= Duration::from_millis(190), "{gap2:?}");
    // Every attempt carries the same delivery and body.
    assert_eq!(got[0].body, got[2].body);
    assert_eq!(
        got[0].headers["zhiqilian-delivery"],
        got[2].headers["zhiqilian-delivery"]
    );
    let log = log_when(&app, &token, &hook, |l| l[0]["status"] != "pending").await;
    assert_eq!(log[0]["status"], "delivered");
    assert_eq!(log[0]["attempts"], 3);
    assert_eq!(log[0]["last_status_code"], 200);

    // A receiver that keeps failing: 4 attempts, then the hook is disabled.
    rx.answer(500);
    let before = rx.received().len();
    app.create_listing(&w.a.admin, &space_offer("重试 二号"))
        .await;
    let start = Instant::now();
    while hook_status(&app, &token, &hook).await["status"] != "disabled" {
        assert!(start.elapsed() < Duration::from_secs(15), "not disabled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(rx.received().len() - before, 4);
    let log = delivery_log(&app, &token, &hook).await;
    assert_eq!(log[0]["status"], "failed");
    assert_eq!(log[0]["attempts"], 4);
    assert_eq!(log[0]["last_status_code"], 500);
    // Operators see it in /metrics.
    let text = app
        .get_anon("/metrics")
        .await
        .body
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(metric(&text, "zql_webhooks_disabled"), Some(1.0), "{text}");
    assert!(metric(&text, r#"zql_webhook_deliveries{status="failed"}"#).is_some_and(|n| n >= 1.0));
    // While disabled nothing is sent; enabling sends the failed one first.
    // A second, active subscription shows the sender's rounds: each round
    // sends every active subscription's oldest due delivery and ends when
    // all are sent, so once it has received two listings written while the
    // first hook was disabled, the sender has been through a round in which
    // that hook's delivery was due, and one after.
    let witness = Receiver::start(&[], 200).await;
    subscribe(&app, &token, &witness.url, &["listing.created"]).await;
    for title in ["重试 三号", "重试 四号"] {
        app.create_listing(&w.a.admin, &space_offer(title)).await;
    }
    let seen = witness.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(seen.len(), 2, "the active subscription got {seen:?}");
    assert_eq!(rx.received().len() - before, 4, "sent while disabled");
    let log = delivery_log(&app, &token, &hook).await;
    assert_eq!(log[0]["status"], "pending", "{log:#?}");
    assert_eq!(log[0]["attempts"], 0, "{log:#?}");
    rx.answer(200);
    let r = app
        .post_empty(&format!("/api/v1/webhooks/{hook}/enable"), &token)
        .await;
    assert_eq!(r.expect(200)["status"], "active");
    let got = rx.wait_for(before + 7, Duration::from_secs(10)).await;
    let titles: Vec<Value> = got[before + 4..]
        .iter()
        .map(|r| json_of(r)["data"]["title"].clone())
        .collect();
    assert_eq!(
        titles,
        vec![json!("重试 二号"), json!("重试 三号"), json!("重试 四号")]
    );
}

#[tokio::test]
async fn pending_deliveries_survive_a_restart() {
    let mut app = spawn_app_with(&[PRIVATE_OK, ("ZQL_WEBHOOK_RETRY_BASE_MS", "500")]).await;
    let w = app.world().await;
    let rx = Receiver::start(&[], 503).await;
    let token = hook_client(&app, &w.staff1, &w.a.id).await;
    let (hook, _) = subscribe(&app, &token, &rx.url, &["listing.created"]).await;
    app.create_listing(&w.a.admin, &space_offer("重启之后"))
        .await;
    rx.wait_for(1, Duration::from_secs(10)).await;

    // The node stops; another starts on the same database.
    app.stop().await;
    let node = app
        .another_node_with(&[PRIVATE_OK, ("ZQL_WEBHOOK_RETRY_BASE_MS", "500")])
        .await;
    rx.answer(200);
    let start = Instant::now();
    loop {
        let log = delivery_log(&node, &token, &hook).await;
        if log[0]["status"] == "delivered" {
            assert!(log[0]["attempts"].as_i64() >= Some(2), "{log:?}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "{log:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let last = rx.received().pop().expect("delivered");
    assert_eq!(json_of(&last)["data"]["title"], "重启之后");
}

#[tokio::test]
async fn targets_on_private_networks_are_refused() {
    let app = spawn_app().await;
    let w = app.world().await;
    let token = hook_client(&app, &w.staff1, &w.a.id).await;
    for url in [
        "http://127.0.0.1:9/x",
        "http://localhost/x",
        "http://10.0.0.5/x",
        "http://172.20.1.1/x",
        "http://192.168.1.10/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://[fd12::1]/x",
        "http://0.0.0.0/x",
        // Loopback and metadata addresses in IPv6 disguise, and special
        // ranges beyond the private ones.
        "http://[::127.0.0.1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data",
        "http://[2002:7f00:1::]/x",
        "http://[fec0::1]/x",
        "http://198.18.0.1/x",
        "http://192.0.0.1/x",
        "http://203.0.113.9/x",
    ] {
        let r = app
            .post(
                "/api/v1/webhooks",
                &token,
                &json!({ "url": url, "event_types": ["listing.created"] }),
            )
            .await;
        r.expect_invalid();
        assert_eq!(
            r.field_code("url").as_deref(),
            Some("target_not_allowed"),
            "{url}"
        );
    }
    let r = app
        .post(
            "/api/v1/webhooks",
            &token,
            &json!({ "url": "ftp://example.com/x", "event_types": ["listing.created"] }),
        )
        .await;
    assert_eq!(r.expect_invalid(), vec!["url"]);
    let r = app
        .post(
            "/api/v1/webhooks",
            &token,
            &json!({ "url": "https://hooks.example.com/x", "event_types": ["listing.exploded"] }),
        )
        .await;
    assert_eq!(r.expect_invalid(), vec!["event_types"]);
}

/// Message text reaches a client's URL only with `threads:read`, as on the
/// messages route: subscribing without it is refused, and a subscription
/// made before that rule (stored as is) gets no message.
#[tokio::test]
async fn webhooks_deliver_only_what_the_client_scopes_may_read() {
    let app = spawn_app_with(&[PRIVATE_OK]).await;
    let w = app.world().await;
    let rx = Receiver::start(&[], 200).await;
    let narrow = scoped_hook_client(&app, &w.staff1, &w.a.id, &["webhooks:manage"]).await;
    let r = app
        .post(
            "/api/v1/webhooks",
            &narrow,
            &json!({ "url": rx.url, "event_types": ["message.created"] }),
        )
        .await;
    r.expect_invalid();
    assert_eq!(
        r.field_code("event_types").as_deref(),
        Some("insufficient_scope")
    );
    let r = app
        .post(
            "/api/v1/webhooks",
            &narrow,
            &json!({ "url": rx.url, "event_types": ["listing.created"] }),
        )
        .await;
    assert_eq!(
        r.field_code("event_types").as_deref(),
        Some("insufficient_scope")
    );

    // The narrow client's subscription as an older version stored it.
    let client_id = app
        .db()
        .run(|c| {
            use diesel::prelude::*;
            use zhiqilian::store::schema::api_clients as k;
            Ok(k::table
                .filter(k::scopes.eq("webhooks:manage"))
                .select(k::id)
                .first::<String>(c)?)
        })
        .await
        .expect("the narrow client");
    let old_hook = {
        let at = chrono::Utc::now().naive_utc();
        let mut row = zhiqilian::store::webhooks::Webhook {
            id: uuid::Uuid::now_v7().to_string(),
            client_id,
            url: rx.url.clone(),
            event_types: "message.created".into(),
            secret: "whsec_stored_before".into(),
            status: "active".into(),
            disabled_reason: None,
            from_event_id: 0,
            created_at: at,
            updated_at: at,
        };
        app.db()
            .run(move |c| {
                row.from_event_id = zhiqilian::store::stream::head(c)?;
                zhiqilian::store::webhooks::insert(c, &row)?;
                Ok(row.id)
            })
            .await
            .expect("stored subscription")
    };
    // A client that may read threads subscribes to the same.
    let wide = scoped_hook_client(
        &app,
        &w.staff1,
        &w.a.id,
        &["webhooks:manage", "threads:read"],
    )
    .await;
    let (wide_hook, _) = subscribe(&app, &wide, &rx.url, &["message.created"]).await;

    let offer = app
        .create_listing(&w.b.admin, &space_offer("2000㎡ 厂房出租"))
        .await;
    let thread = app
        .post(
            "/api/v1/threads",
            &w.a.admin.token,
            &json!({ "listing_id": id_of(&offer) }),
        )
        .await;
    let thread = id_of(thread.expect(201));
    crate::threads::say(&app, &w.b.admin.token, &thread, "b-1", "底价 15 元").await;

    let got = rx.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(json_of(&got[0])["webhook_id"], wide_hook.as_str());
    assert_eq!(json_of(&got[0])["data"]["text"], "底价 15 元");
    // The fan-out has passed the message: nothing was queued for the old one.
    let queued: i64 = app
        .db()
        .run(move |c| {
            use diesel::prelude::*;
            use zhiqilian::store::schema::webhook_deliveries as d;
            Ok(d::table
                .filter(d::webhook_id.eq(old_hook))
                .count()
                .get_result(c)?)
        })
        .await
        .expect("count deliveries");
    assert_eq!(queued, 0);
    assert_eq!(rx.received().len(), 1);
}

// ------------------------------------------------- staff, for a client

/// A client of firm `firm_id` created by `staff`: (id, secret).
async fn staff_client(
    app: &TestApp,
    staff: &Session,
    firm_id: &str,
    scopes: &[&str],
) -> (String, String) {
    let b = app
        .post(
            "/api/v1/clients",
            &staff.token,
            &json!({ "name": "物业平台", "firm_id": firm_id, "scopes": scopes }),
        )
        .await
        .expect(201)
        .clone();
    (
        b["id"].as_str().expect("id").to_string(),
        b["client_secret"].as_str().expect("secret").to_string(),
    )
}

async fn client_token(app: &TestApp, id: &str, secret: &str) -> String {
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
        .expect("token")
        .to_string()
}

/// The delivery log of a client's subscription as staff see it, once
/// `done` holds for it; fails after 10 s.
async fn staff_log_when(
    app: &TestApp,
    token: &str,
    client: &str,
    hook: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = app
            .get(
                &format!("/api/v1/clients/{client}/webhooks/{hook}/deliveries"),
                token,
            )
            .await
            .expect(200)["items"]
            .as_array()
            .expect("items")
            .clone();
        if done(&log) {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "delivery log after 10 s: {log:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn audit_actions(app: &TestApp, token: &str) -> Vec<(String, String)> {
    app.get("/api/v1/staff/audit?limit=100", token)
        .await
        .expect(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or("").to_string(),
                e["subject"]["id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn staff_subscribe_for_a_client_test_ping_and_resend_through_the_outbox() {
    let app = spawn_app_with(&[PRIVATE_OK]).await;
    let w = app.world().await;
    let staff = &w.staff1.token;
    let rx = Receiver::start(&[], 200).await;
    let (client, secret) = staff_client(&app, &w.staff1, &w.a.id, &["listings:read"]).await;

    // Event types are checked against the client's grant, not staff's rights.
    let r = app
        .post(
            &format!("/api/v1/clients/{client}/webhooks"),
            staff,
            &json!({ "url": rx.url, "event_types": ["message.created"] }),
        )
        .await;
    let p = r.expect_problem(422, "validation_failed");
    assert_eq!(p["errors"][0]["code"], "insufficient_scope", "{p}");
    // The target checks of the client's own route apply (private targets
    // are allowed in this set-up; a URL that is not http(s) never is).
    app.post(
        &format!("/api/v1/clients/{client}/webhooks"),
        staff,
        &json!({ "url": "ftp://example.com/x", "event_types": ["listing.created"] }),
    )
    .await
    .expect_problem(422, "validation_failed");

    let r = app
        .post(
            &format!("/api/v1/clients/{client}/webhooks"),
            staff,
            &json!({ "url": rx.url, "event_types": ["listing.created"] }),
        )
        .await;
    let b = r.expect(201).clone();
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let hook = b["id"].as_str().expect("id").to_string();
    let hook_secret = b["secret"].as_str().expect("secret").to_string();

    // The client sees the subscription staff made for it, as its own.
    let token = client_token(&app, &client, &secret).await;
    let list = app
        .get(
            "/api/v1/clients/{}/webhooks"
                .replace("{}", &client)
                .as_str(),
            staff,
        )
        .await;
    assert_eq!(list.expect(200)["items"][0]["id"], hook.as_str());
    let mine = app.get("/api/v1/webhooks", &token).await;
    // Its token lacks `webhooks:manage`: it cannot manage them itself.
    mine.expect_problem(403, "insufficient_scope");

    // A test ping goes through the outbox: signed, in the log.
    let r = app
        .post_empty(
            &format!("/api/v1/clients/{client}/webhooks/{hook}/ping"),
            staff,
        )
        .await;
    let queued = r.expect(202).clone();
    assert_eq!(queued["event_type"], "ping");
    assert_eq!(queued["status"], "pending");
    let got = rx.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "the receiver got the ping");
    assert!(
        verified(&hook_secret, &got[0], &got[0].body),
        "signed with the hook's secret"
    );
    assert_eq!(
        got[0].headers.get("zhiqilian-event").map(String::as_str),
        Some("ping")
    );
    let body = json_of(&got[0]);
    assert_eq!(body["type"], "ping");
    assert_eq!(body["webhook_id"], hook.as_str());
    assert_eq!(
        got[0].headers.get("zhiqilian-delivery").map(String::as_str),
        queued["id"].as_str()
    );
    let log = staff_log_when(&app, staff, &client, &hook, |l| {
        l.iter()
            .any(|d| d["event_type"] == "ping" && d["status"] == "delivered")
    })
    .await;
    assert_eq!(log[0]["last_status_code"], 200);
    assert_eq!(log[0]["attempts"], 1);

    // A failing receiver: the ping fails once (not retried) and the
    // subscription stays active.
    rx.answer(500);
    let failed = app
        .post_empty(
            &format!("/api/v1/clients/{client}/webhooks/{hook}/ping"),
            staff,
        )
        .await
        .expect(202)["id"]
        .as_str()
        .expect("id")
        .to_string();
    let log = staff_log_when(&app, staff, &client, &hook, |l| {
        l.iter()
            .any(|d| d["id"] == failed.as_str() && d["status"] == "failed")
    })
    .await;
    let row = log
        .iter()
        .find(|d| d["id"] == failed.as_str())
        .expect("row");
    assert_eq!(row["last_status_code"], 500);
    assert_eq!(row["attempts"], 1);
    let h = app
        .get(&format!("/api/v1/clients/{client}/webhooks/{hook}"), staff)
        .await;
    assert_eq!(h.expect(200)["status"], "active");
    assert_eq!(rx.received().len(), 2);

    // The receiver is fixed; the failed delivery is resent (once per
    // Idempotency-Key) and succeeds, with the same body.
    rx.answer(200);
    let path = format!("/api/v1/clients/{client}/webhooks/{hook}/deliveries/{failed}/resend");
    let send = |key: &'static str| {
        app.send(
            app.client
                .post(app.url(&path))
                .bearer_auth(staff)
                .header("idempotency-key", key)
                .json(&json!({})),
        )
    };
    let first = send("resend-1").await.expect(202).clone();
    let again = send("resend-1").await.expect(202).clone();
    assert_eq!(first["id"], again["id"], "a replay queues nothing new");
    assert_eq!(first["resend_of"], failed.as_str());
    let log = staff_log_when(&app, staff, &client, &hook, |l| {
        l.iter()
            .any(|d| d["id"] == first["id"] && d["status"] == "delivered")
    })
    .await;
    assert_eq!(log.len(), 3, "two pings and one resend: {log:#?}");
    let got = rx.wait_for(3, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 3);
    assert_eq!(got[2].body, got[1].body, "the same payload");
    assert!(verified(&hook_secret, &got[2], &got[2].body));
    assert_eq!(
        got[2].headers.get("zhiqilian-delivery").map(String::as_str),
        first["id"].as_str()
    );
    // A pending delivery is not resent twice; an unknown one is 404.
    app.post_empty(
        &format!("/api/v1/clients/{client}/webhooks/{hook}/deliveries/nope/resend"),
        staff,
    )
    .await
    .expect_problem(404, "not_found");

    // Real events still arrive (the subscription was made by staff).
    app.create_listing(&w.a.admin, &space_offer("代订阅 一号"))
        .await;
    let got = rx.wait_for(4, Duration::from_secs(10)).await;
    assert_eq!(json_of(&got[3])["type"], "listing.created");

    // Disabled: no ping, no resend; enabled again.
    let r = app
        .post_empty(
            &format!("/api/v1/clients/{client}/webhooks/{hook}/disable"),
            staff,
        )
        .await;
    assert_eq!(r.expect(200)["status"], "disabled");
    app.post_empty(
        &format!("/api/v1/clients/{client}/webhooks/{hook}/ping"),
        staff,
    )
    .await
    .expect_problem(409, "webhook_disabled");
    let r = app
        .post_empty(
            &format!("/api/v1/clients/{client}/webhooks/{hook}/enable"),
            staff,
        )
        .await;
    assert_eq!(r.expect(200)["status"], "active");
    // The failed ping is not tried again on enabling.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.received().len(), 4);

    // Every staff action is in the audit log, on the subscription.
    let audit = audit_actions(&app, staff).await;
    for action in [
        "webhook.created",
        "webhook.test_sent",
        "webhook.delivery_resent",
        "webhook.disabled",
        "webhook.enabled",
    ] {
        assert!(
            audit.iter().any(|(a, s)| a == action && s == &hook),
            "{action} audited: {audit:?}"
        );
    }
    assert_eq!(
        audit
            .iter()
            .filter(|(a, _)| a == "webhook.delivery_resent")
            .count(),
        1,
        "one resend for one Idempotency-Key"
    );
    assert!(
        audit
            .iter()
            .any(|(a, s)| a == "client.created" && s == &client)
    );

    // Deleting removes the subscription and its log.
    app.request(
        reqwest::Method::DELETE,
        &format!("/api/v1/clients/{client}/webhooks/{hook}"),
        Some(staff),
        None,
    )
    .await
    .expect(204);
    app.get(&format!("/api/v1/clients/{client}/webhooks/{hook}"), staff)
        .await
        .expect_problem(404, "not_found");
    assert!(
        audit_actions(&app, staff)
            .await
            .iter()
            .any(|(a, s)| a == "webhook.deleted" && s == &hook)
    );
}

#[tokio::test]
async fn other_communities_clients_and_their_webhooks_are_not_found() {
    let app = spawn_app_with(&[PRIVATE_OK]).await;
    let w = app.world().await;
    let rx = Receiver::start(&[], 200).await;
    let (client, _) = staff_client(&app, &w.staff1, &w.a.id, &["listings:read"]).await;
    let hook = app
        .post(
            &format!("/api/v1/clients/{client}/webhooks"),
            &w.staff1.token,
            &json!({ "url": rx.url, "event_types": ["listing.created"] }),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .expect("id")
        .to_string();
    let other = &w.staff2.token;
    for path in [
        format!("/api/v1/clients/{client}/usage"),
        format!("/api/v1/clients/{client}/webhooks"),
        format!("/api/v1/clients/{client}/webhooks/{hook}"),
        format!("/api/v1/clients/{client}/webhooks/{hook}/deliveries"),
    ] {
        app.get(&path, other).await.expect_problem(404, "not_found");
    }
    for path in [
        format!("/api/v1/clients/{client}/webhooks/{hook}/ping"),
        format!("/api/v1/clients/{client}/webhooks/{hook}/disable"),
    ] {
        app.post_empty(&path, other)
            .await
            .expect_problem(404, "not_found");
    }
    app.post(
        &format!("/api/v1/clients/{client}/webhooks"),
        other,
        &json!({ "url": rx.url, "event_types": ["listing.closed"] }),
    )
    .await
    .expect_problem(404, "not_found");
    // Firm members are not managers at all.
    app.get(
        &format!("/api/v1/clients/{client}/webhooks"),
        &w.a.admin.token,
    )
    .await
    .expect_problem(403, "forbidden");
    // Nothing was sent or changed by them.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(rx.received().is_empty());
    let h = app
        .get(
            &format!("/api/v1/clients/{client}/webhooks/{hook}"),
            &w.staff1.token,
        )
        .await;
    assert_eq!(h.expect(200)["status"], "active");
    // Platform admins manage every community's clients.
    app.get(
        &format!("/api/v1/clients/{client}/webhooks/{hook}/deliveries"),
        &w.admin.token,
    )
    .await
    .expect(200);
    // A hook of another client is not reachable through this client.
    let (client2, _) = staff_client(&app, &w.staff1, &w.a.id, &["listings:read"]).await;
    app.get(
        &format!("/api/v1/clients/{client2}/webhooks/{hook}"),
        &w.staff1.token,
    )
    .await
    .expect_problem(404, "not_found");

    // A replayed creation answers the same subscription without its secret
    // (no secret is kept for replays).
    let create = || {
        app.send(
            app.client
                .post(app.url(&format!("/api/v1/clients/{client2}/webhooks")))
                .bearer_auth(&w.staff1.token)
                .header("idempotency-key", "hook-for-client2")
                .json(&json!({ "url": rx.url, "event_types": ["listing.created"] })),
        )
    };
    let first = create().await.expect(201).clone();
    let replay = create().await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    let replay = replay.expect(201).clone();
    assert_eq!(first["id"], replay["id"]);
    assert!(
        first["secret"]
            .as_str()
            .is_some_and(|s| s.starts_with("whsec_"))
    );
    assert!(replay["secret"].is_null(), "{replay}");
}

#[tokio::test]
async fn client_usage_counts_requests_errors_and_tokens_per_day() {
    let app = spawn_app().await;
    let w = app.world().await;
    let staff = &w.staff1.token;
    let (client, secret) = staff_client(&app, &w.staff1, &w.a.id, &["listings:read"]).await;
    let app = &app;
    let usage = |days: &'static str| {
        let path = format!("/api/v1/clients/{client}/usage?days={days}");
        async move { app.get(&path, staff).await.expect(200).clone() }
    };
    let before = usage("7").await;
    assert_eq!(before["days"].as_array().expect("days").len(), 7);
    assert_eq!(before["totals"]["requests"], 0);
    assert_eq!(before["totals"]["tokens"], 0);
    assert!(before["last_used_at"].is_null());

    let token = client_token(app, &client, &secret).await;
    let token2 = client_token(app, &client, &secret).await;
    for _ in 0..3 {
        app.get("/api/v1/listings", &token).await.expect(200);
    }
    // Out of its scopes: counted, as an error.
    app.get("/api/v1/matches", &token2)
        .await
        .expect_problem(403, "insufficient_scope");

    let after = usage("7").await;
    assert_eq!(after["totals"]["requests"], 4, "{after}");
    assert_eq!(after["totals"]["errors"], 1, "{after}");
    assert_eq!(after["totals"]["tokens"], 2, "{after}");
    let today = after["days"]
        .as_array()
        .expect("days")
        .last()
        .expect("today")
        .clone();
    assert_eq!(today["day"], after["to"]);
    assert_eq!(today["requests"], 4);
    assert!(after["last_used_at"].is_string());
    // Staff's own requests are not the client's.
    app.get("/api/v1/listings", staff).await.expect(200);
    assert_eq!(usage("1").await["totals"]["requests"], 4);

    app.get(&format!("/api/v1/clients/{client}/usage?days=0"), staff)
        .await
        .expect_problem(422, "validation_failed");
    app.get(&format!("/api/v1/clients/{client}/usage?days=91"), staff)
        .await
        .expect_problem(422, "validation_failed");
}

/// `attachment.added` and `attachment.removed` are webhook types for a
/// client with `attachments:read`: its firm's upload and removal on a
/// listing are delivered; a firm's licence is not (it is for users only).
#[tokio::test]
async fn attachment_events_are_delivered_to_subscribed_clients() {
    let app = spawn_app_with(&[PRIVATE_OK]).await;
    let w = app.world().await;
    let rx = Receiver::start(&[], 200).await;
    let types = ["attachment.added", "attachment.removed"];
    let narrow = scoped_hook_client(&app, &w.staff1, &w.a.id, &["webhooks:manage"]).await;
    let r = app
        .post(
            "/api/v1/webhooks",
            &narrow,
            &json!({ "url": rx.url, "event_types": types }),
        )
        .await;
    r.expect_invalid();
    assert_eq!(
        r.field_code("event_types").as_deref(),
        Some("insufficient_scope")
    );
    let client = scoped_hook_client(
        &app,
        &w.staff1,
        &w.a.id,
        &["webhooks:manage", "attachments:read"],
    )
    .await;
    let (hook, secret) = subscribe(&app, &client, &rx.url, &types).await;

    let tok = &w.a.admin.token;
    crate::attachments::upload(
        &app,
        tok,
        "firm",
        &w.a.id,
        "营业执照.pdf",
        &crate::attachments::pdf(),
    )
    .await
    .expect(201);
    let lid = id_of(&app.create_listing(&w.a.admin, &space_offer("仓库")).await);
    let up = crate::attachments::upload(
        &app,
        tok,
        "listing",
        &lid,
        "平面图.pdf",
        &crate::attachments::pdf(),
    )
    .await;
    let aid = id_of(up.expect(201));
    app.request(
        reqwest::Method::DELETE,
        &format!("/api/v1/attachments/{aid}"),
        Some(tok),
        None,
    )
    .await
    .expect(204);

    let got = rx.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 2, "{got:?}");
    let bodies: Vec<Value> = got.iter().map(json_of).collect();
    for (r, b) in got.iter().zip(&bodies) {
        assert!(verified(&secret, r, &r.body), "unsigned: {b:#}");
        assert_eq!(b["webhook_id"], hook.as_str());
        assert_eq!(b["data"]["id"], aid.as_str(), "only the listing's: {b:#}");
        assert_eq!(b["data"]["parent_type"], "listing");
        assert_eq!(b["data"]["parent_id"], lid.as_str());
    }
    assert_eq!(bodies[0]["type"], "attachment.added", "{:#}", bodies[0]);
    assert_eq!(bodies[0]["data"]["filename"], "平面图.pdf");
    assert_eq!(bodies[1]["type"], "attachment.removed", "{:#}", bodies[1]);
    // Nothing more arrives: the licence was never queued.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.received().len(), 2);
}
