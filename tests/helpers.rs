//! The harness: `spawn_app()` starts the real server on an ephemeral port
//! with its own data dir and database, and tests talk to it over HTTP.
//!
//! SQLite in a temp dir by default; with `ZQL_TEST_DATABASE_URL` set (an
//! admin URL such as `postgres://postgres@127.0.0.1:5432/postgres`) every
//! test gets a fresh PostgreSQL database that is dropped afterwards.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use zhiqilian::store::Db;
use zhiqilian::store::accounts::{self, NewUser};

/// The HS256 secret the test servers sign with, so tests can forge tokens.
pub const JWT_SECRET: &str = "integration-tests-only-secret-0123456789abcdef";
pub const ISSUER: &str = "zhiqilian";
pub const AUDIENCE: &str = "zhiqilian-api";
/// The password every account made by these helpers uses.
pub const PASSWORD: &str = "correct-horse-42";

const USCC_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// A running server and what a test needs to reach it.
pub struct TestApp {
    pub address: String,
    pub database_url: String,
    pub client: reqwest::Client,
    /// The node's state (its background work, index, configuration).
    pub state: NodeState,
    db: Option<Db>,
    /// The in-process server; `None` when the test runs server processes.
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// (admin URL, database name) of a per-test PostgreSQL database.
    pg: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

/// The state of a node running in this process.
pub struct NodeState(Option<actix_web::web::Data<zhiqilian::http::state::AppState>>);

impl std::ops::Deref for NodeState {
    type Target = zhiqilian::http::state::AppState;
    fn deref(&self) -> &zhiqilian::http::state::AppState {
        self.0
            .as_deref()
            .expect("the server runs in another process: no state here")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Dropping the server future closes the listener and stops workers.
        if let Some(s) = &self.server {
            s.abort();
        }
        self.db.take();
        if let Some((admin_url, name)) = self.pg.take() {
            match PgConnection::establish(&admin_url) {
                Ok(mut c) => {
                    if let Err(e) =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut c)
                    {
                        eprintln!("warning: cannot drop test database {name}: {e}");
                    }
                }
                Err(e) => eprintln!("warning: cannot drop test database {name}: {e}"),
            }
        }
    }
}

/// A response: status, JSON body (Null when empty) and headers.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: HeaderMap,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status and returns the body.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {:#}",
            self.body
        );
        &self.body
    }

    /// Asserts an `application/problem+json` error with this status and code.
    #[track_caller]
    pub fn expect_problem(&self, status: u16, code: &str) -> &Value {
        self.expect(status);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "problem content type; body: {:#}",
            self.body
        );
        assert_eq!(
            self.body["code"], code,
            "problem code; body: {:#}",
            self.body
        );
        assert_eq!(
            self.body["status"], status,
            "problem status; body: {:#}",
            self.body
        );
        &self.body
    }

    /// Asserts a 422 `validation_failed` problem and returns its field names.
    #[track_caller]
    pub fn expect_invalid(&self) -> Vec<String> {
        self.expect_problem(422, "validation_failed");
        self.fields()
    }

    /// `errors[].field`, in order.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The `code` of the field error on `field`.
    pub fn field_code(&self, field: &str) -> Option<String> {
        self.body["errors"]
            .as_array()?
            .iter()
            .find(|e| e["field"] == field)
            .and_then(|e| e["code"].as_str().map(str::to_string))
    }
}

/// Asserts that `fields` (from a 422) contains every name in `expected`.
#[track_caller]
pub fn assert_fields(fields: &[String], expected: &[&str]) {
    let missing: Vec<&&str> = expected
        .iter()
        .filter(|e| !fields.iter().any(|f| f == *e))
        .collect();
    assert!(
        missing.is_empty(),
        "fields {missing:?} not reported; got {fields:?}"
    );
}

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct Session {
    pub login: String,
    pub token: String,
    pub refresh: String,
}

/// A registered firm and its first admin.
#[derive(Debug, Clone)]
pub struct FirmAccount {
    pub id: String,
    pub uscc: String,
    pub community_id: String,
    pub admin: Session,
}

/// A small populated world most tests start from: two communities, three
/// verified firms (a and b in c1, c in c2) and one staff user per community.
pub struct World {
    pub admin: Session,
    pub c1: String,
    pub c2: String,
    pub a: FirmAccount,
    pub b: FirmAccount,
    pub c: FirmAccount,
    pub staff1: Session,
    pub staff2: Session,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// With `ZQL_TEST_DATABASE_URL`, a new PostgreSQL database for one test:
/// its URL and (admin URL, name) to drop it afterwards; else nothing (the
/// test uses a SQLite file in its data dir).
fn test_database() -> (Option<String>, Option<(String, String)>) {
    match std::env::var("ZQL_TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.trim().is_empty() => {
            let name = format!("zqlt_{}", uuid::Uuid::now_v7().simple());
            let mut c = PgConnection::establish(&admin_url)
                .unwrap_or_else(|e| panic!("cannot connect to {admin_url}: {e}"));
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut c)
                .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
            (
                Some(with_database(&admin_url, &name)),
                Some((admin_url, name)),
            )
        }
        _ => (None, None),
    }
}

fn test_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// Starts a server with extra configuration (env-style `ZQL_*` keys).
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let (database_url, pg) = test_database();
    let mut app = spawn_node(database_url, extra).await;
    app.pg = pg;
    app
}

/// Starts a node with its own data dir (index) on `database_url`, or on a
/// SQLite file in that data dir.
async fn spawn_node(database_url: Option<String>, extra: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().expect("temp data dir");
    let database_url =
        database_url.unwrap_or_else(|| format!("sqlite://{}/zhiqilian.db", dir.path().display()));
    let mut env: HashMap<String, String> = [
        ("ZQL_DATA_DIR", dir.path().display().to_string()),
        ("ZQL_DATABASE_URL", database_url.clone()),
        ("ZQL_WORKERS", "1".into()),
        ("ZQL_DB_POOL_SIZE", "4".into()),
        ("ZQL_JWT_SECRET", JWT_SECRET.into()),
        // Tests send many requests from one address, some in bursts on
        // purpose (ordering under concurrency); the limits and admission
        // control have tests of their own.
        ("ZQL_MAX_IN_FLIGHT", "1000".into()),
        ("ZQL_RATE_LIMIT_IP_PER_MINUTE", "1000000".into()),
        ("ZQL_RATE_LIMIT_CLIENT_PER_MINUTE", "1000000".into()),
        ("ZQL_RATE_LIMIT_AUTH_PER_MINUTE", "1000000".into()),
        ("ZQL_LISTING_LIMIT_PER_FIRM_PER_HOUR", "1000000".into()),
        ("ZQL_LISTING_LIMIT_PER_USER_PER_HOUR", "1000000".into()),
        ("ZQL_EMERGENCY_LIMIT_PER_FIRM_PER_DAY", "1000000".into()),
        ("ZQL_EMERGENCY_LIMIT_PER_USER_PER_DAY", "1000000".into()),
        ("ZQL_MESSAGE_LIMIT_PER_FIRM_PER_MINUTE", "1000000".into()),
        ("ZQL_MESSAGE_LIMIT_PER_USER_PER_MINUTE", "1000000".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    let config = zhiqilian::config::Config::load_from(None, &|k| env.get(k).cloned())
        .expect("test configuration");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    let (server, addr, state) = zhiqilian::http::app::build_server_on(config, listener)
        .await
        .expect("build the server");
    let server = tokio::spawn(server);
    let db = Db::connect(&database_url, 1).expect("test's own database handle");
    TestApp {
        address: format!("http://{addr}"),
        database_url,
        client: test_client(),
        state: NodeState(Some(state)),
        db: Some(db),
        server: Some(server),
        pg: None,
        _dir: dir,
    }
}

/// A fresh data folder and database (migrated) with no server in this
/// process, for tests that run `zhiqilian serve` processes on them: set
/// `address` to a running process's before using the HTTP helpers.
pub async fn database_only() -> TestApp {
    let dir = tempfile::tempdir().expect("temp data dir");
    let (database_url, pg) = test_database();
    let database_url =
        database_url.unwrap_or_else(|| format!("sqlite://{}/zhiqilian.db", dir.path().display()));
    let db = Db::connect(&database_url, 1).expect("test's own database handle");
    let d = db.clone();
    tokio::task::spawn_blocking(move || d.migrate())
        .await
        .expect("migration task")
        .expect("migrate the test database");
    TestApp {
        address: String::new(),
        database_url,
        client: test_client(),
        state: NodeState(None),
        db: Some(db),
        server: None,
        pg,
        _dir: dir,
    }
}

impl TestApp {
    /// A second node on this app's database, with its own data dir, index
    /// and background loop (drop it before this app).
    pub async fn another_node(&self) -> TestApp {
        self.another_node_with(&[]).await
    }

    pub async fn another_node_with(&self, extra: &[(&str, &str)]) -> TestApp {
        spawn_node(Some(self.database_url.clone()), extra).await
    }

    /// Stops this node as `serve` does at a signal: no more requests, its
    /// background work and webhook deliveries wound down (the database
    /// stays, for another node).
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = server.await;
        }
        zhiqilian::http::app::wind_down(&self.state).await;
    }
}

/// `postgres://u@h:p/admin?x` with the database replaced by `name`.
fn with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{host_part}/{name}{query}")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// (admin URL, database name) of the test's own PostgreSQL database.
    pub fn pg_database(&self) -> Option<(String, String)> {
        self.pg.clone()
    }

    /// The test's data folder (the server's `data_dir`).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// A handle on the same database the server uses.
    pub fn db(&self) -> Db {
        self.db.clone().expect("database handle")
    }

    /// Fails a PostgreSQL-only test run without PostgreSQL: such tests are
    /// `#[ignore]`d, so they run only when asked for, and then they must not
    /// pass without testing anything.
    #[track_caller]
    pub fn require_postgres(&self) {
        assert_eq!(
            self.backend_name(),
            "postgres",
            "this test needs PostgreSQL: set ZQL_TEST_DATABASE_URL"
        );
    }

    pub fn backend_name(&self) -> &'static str {
        if self.database_url.starts_with("postgres") {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// Sends a prepared request and reads the reply.
    pub async fn send(&self, req: RequestBuilder) -> Reply {
        let resp = req.send().await.expect("request sent");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("response body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status,
            body,
            headers,
        }
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        self.send(req).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn get_anon(&self, path: &str) -> Reply {
        self.request(Method::GET, path, None, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.request(Method::POST, path, Some(token), Some(body))
            .await
    }

    pub async fn post_anon(&self, path: &str, body: &Value) -> Reply {
        self.request(Method::POST, path, None, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.request(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    /// POST with an empty JSON object (close, verify).
    pub async fn post_empty(&self, path: &str, token: &str) -> Reply {
        self.request(Method::POST, path, Some(token), None).await
    }

    // ------------------------------------------------------------- accounts

    pub async fn login(&self, login: &str, password: &str) -> Reply {
        self.post_anon(
            "/api/v1/auth/login",
            &json!({ "login": login, "password": password }),
        )
        .await
    }

    /// Signs in and returns the session; the login must succeed.
    pub async fn session(&self, login: &str) -> Session {
        let r = self.login(login, PASSWORD).await;
        let body = r.expect(200);
        Session {
            login: login.to_string(),
            token: body["access_token"]
                .as_str()
                .expect("access_token")
                .to_string(),
            refresh: body["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_string(),
        }
    }

    /// Creates a platform admin through the store (as `zhiqilian admin
    /// create` does) and signs in over HTTP.
    pub async fn admin(&self) -> Session {
        let login = new_email("admin");
        let hash = zhiqilian::service::password::hash_blocking(PASSWORD).expect("hash");
        let email = login.clone();
        self.db()
            .run(move |c| {
                accounts::create_user(
                    c,
                    NewUser {
                        phone: None,
                        email: Some(email),
                        display_name: "平台管理员".into(),
                        password_hash: hash,
                        is_platform_admin: true,
                    },
                )
            })
            .await
            .expect("create platform admin");
        self.session(&login).await
    }

    /// Creates a community; returns its id.
    pub async fn create_community(&self, admin: &Session, name: &str) -> String {
        let r = self
            .post(
                "/api/v1/communities",
                &admin.token,
                &json!({ "name": name, "district": "北仑区", "lat": 29.93, "lon": 121.87 }),
            )
            .await;
        id_of(r.expect(201))
    }

    /// Registers a firm (unverified) in `community_id` and signs its admin in.
    pub async fn register_firm(&self, community_id: &str) -> FirmAccount {
        let uscc = valid_uscc();
        let login = new_phone();
        let r = self
            .post_anon(
                "/api/v1/firms/register",
                &firm_body(community_id, &uscc, &login),
            )
            .await;
        r.expect(202);
        // The registration's answer names no ids (it is the same whether or
        // not the login was free): the firm is the signed-in admin's.
        let admin = self.session(&login).await;
        let me = self.get("/api/v1/me", &admin.token).await;
        let id = me.expect(200)["firm"]["id"]
            .as_str()
            .expect("firm id")
            .to_string();
        FirmAccount {
            id,
            uscc,
            community_id: community_id.to_string(),
            admin,
        }
    }

    /// Registers a firm and has it verified by `verifier`.
    pub async fn verified_firm(&self, community_id: &str, verifier: &Session) -> FirmAccount {
        let f = self.register_firm(community_id).await;
        self.verify_firm(verifier, &f.id).await;
        f
    }

    pub async fn verify_firm(&self, by: &Session, firm_id: &str) {
        let r = self
            .post_empty(&format!("/api/v1/firms/{firm_id}/verify"), &by.token)
            .await;
        assert_eq!(r.expect(200)["verified"], true);
    }

    /// Creates a staff user of `community_id` and signs them in.
    pub async fn create_staff(&self, admin: &Session, community_id: &str) -> Session {
        let login = new_email("staff");
        let r = self
            .post(
                &format!("/api/v1/communities/{community_id}/staff"),
                &admin.token,
                &json!({ "login": login, "password": PASSWORD, "display_name": "社区工作人员" }),
            )
            .await;
        r.expect(201);
        self.session(&login).await
    }

    /// Adds a plain member to a firm and signs them in.
    pub async fn add_member(&self, firm_admin: &Session, firm_id: &str) -> Session {
        let login = new_phone();
        let r = self
            .post(
                &format!("/api/v1/firms/{firm_id}/members"),
                &firm_admin.token,
                &json!({ "login": login, "password": PASSWORD, "display_name": "业务员" }),
            )
            .await;
        r.expect(201);
        self.session(&login).await
    }

    pub async fn world(&self) -> World {
        let admin = self.admin().await;
        let c1 = self.create_community(&admin, "大港工业社区").await;
        let c2 = self.create_community(&admin, "灵峰工业社区").await;
        let a = self.verified_firm(&c1, &admin).await;
        let b = self.verified_firm(&c1, &admin).await;
        let c = self.verified_firm(&c2, &admin).await;
        let staff1 = self.create_staff(&admin, &c1).await;
        let staff2 = self.create_staff(&admin, &c2).await;
        World {
            admin,
            c1,
            c2,
            a,
            b,
            c,
            staff1,
            staff2,
        }
    }

    // ---------------------------------------------------------------- deals

    /// Makes a match `agreed` the only way there is: `proposer` (a firm of
    /// the match) proposes terms on it and `confirmer` (the other firm)
    /// confirms that version. Returns the confirmed agreement.
    pub async fn agree(&self, match_id: &str, proposer: &Session, confirmer: &Session) -> Value {
        let a = self
            .post(
                "/api/v1/agreements",
                &proposer.token,
                &json!({"match_id": match_id,
                        "quantity": {"amount": 1, "unit": "台"},
                        "price": {"amount": 800, "unit": "元/台"}}),
            )
            .await;
        let a = a.expect(201).clone();
        let r = self
            .post(
                &format!("/api/v1/agreements/{}/confirm", id_of(&a)),
                &confirmer.token,
                &json!({"version": a["version"]}),
            )
            .await;
        let a = r.expect(200).clone();
        assert_eq!(a["status"], "confirmed", "{a:#}");
        a
    }

    // ------------------------------------------------------------- listings

    /// Posts a listing; it must be created. Returns the listing.
    pub async fn create_listing(&self, by: &Session, body: &Value) -> Value {
        let r = self.post("/api/v1/listings", &by.token, body).await;
        r.expect(201).clone()
    }

    /// Follows `next_cursor` through every page of a list endpoint.
    pub async fn all_pages(&self, path: &str, token: &str) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..1000 {
            let url = match &cursor {
                Some(c) => format!("{path}{sep}cursor={c}"),
                None => path.to_string(),
            };
            let r = self.get(&url, token).await;
            let body = r.expect(200);
            items.extend(body["items"].as_array().expect("items").iter().cloned());
            match body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return items,
            }
        }
        panic!("pagination of {path} did not end");
    }

    /// Moves the opening of a request's staff case `ago` into the past.
    pub async fn backdate_case(&self, listing_id: &str, ago: chrono::Duration) {
        use diesel::{ExpressionMethods, QueryDsl};
        use zhiqilian::store::schema::cases;
        let opened = chrono::Utc::now().naive_utc() - ago;
        let id = listing_id.to_string();
        self.db()
            .run(move |c| {
                diesel::update(cases::table.filter(cases::listing_id.eq(&id)))
                    .set(cases::opened_at.eq(opened))
                    .execute(c)?;
                Ok(())
            })
            .await
            .expect("backdate the case");
    }

    /// The newest sequence number of the listing change log.
    pub async fn change_head(&self) -> i64 {
        self.db()
            .run(zhiqilian::store::changes::head)
            .await
            .expect("change log head")
    }
}

/// The `id` of a JSON object.
#[track_caller]
pub fn id_of(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v:#}"))
        .to_string()
}

/// The ids of a list of JSON objects.
pub fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(id_of).collect()
}

static SEQ: AtomicU64 = AtomicU64::new(0);

fn next_seq() -> u64 {
    SEQ.fetch_add(1, Ordering::Relaxed)
}

/// A fresh mainland mobile number.
pub fn new_phone() -> String {
    format!("139{:08}", next_seq())
}

pub fn new_email(prefix: &str) -> String {
    format!("{prefix}{}@example.cn", next_seq())
}

/// A random unified social credit code with a correct check character.
pub fn valid_uscc() -> String {
    let mut body = String::from("91330206");
    for _ in 0..9 {
        body.push(char::from(
            USCC_ALPHABET[rand::random_range(0..USCC_ALPHABET.len())],
        ));
    }
    let check = zhiqilian_matcher::compute_check_character(&body).expect("body is in the alphabet");
    body.push(check);
    body
}

/// A complete registration request.
pub fn firm_body(community_id: &str, uscc: &str, login: &str) -> Value {
    json!({
        "name": "宁波甬港模塑科技有限公司",
        "uscc": uscc,
        "community_id": community_id,
        "address": "宁波市北仑区新碶街道大港五路66号",
        "lat": 29.9321,
        "lon": 121.8683,
        "contact_name": "王经理",
        "contact_phone": "0574-86881234",
        "admin": { "login": login, "password": PASSWORD, "display_name": "王经理" }
    })
}

/// A valid public space offer.
pub fn space_offer(title: &str) -> Value {
    json!({
        "side": "offer",
        "kind": "space",
        "title": title,
        "description": "单层钢结构厂房，层高 9 米，带 10 吨行车，可分租。",
        "quantity": { "amount": 2000.0, "unit": "㎡" },
        "price": { "amount": 25.0, "unit": "元/㎡/月" },
        "available_from": "2026-12-01",
        "available_until": "2027-12-31",
        "urgency": "normal",
        "visibility": "public",
        "attributes": { "area_m2": 2000, "ceiling_height_m": 9, "crane_t": 10, "usage": "生产" }
    })
}

/// A minimal valid listing of `side` and `kind`.
pub fn listing(side: &str, kind: &str, title: &str, visibility: &str) -> Value {
    json!({ "side": side, "kind": kind, "title": title, "visibility": visibility })
}

/// Signs arbitrary claims with HS256 (or another HMAC) under `secret`.
pub fn sign(claims: &Value, secret: &[u8], alg: jsonwebtoken::Algorithm) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(alg),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .expect("sign test token")
}

/// Claims the server would accept, for user `sub`, valid for `exp_in` seconds.
pub fn claims(sub: &str, exp_in: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "sub": sub, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + exp_in, "adm": true })
}

/// base64url without padding, as JWTs use.
pub fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

/// Asserts a reply is `application/problem+json` (for non-JSON extractors).
#[track_caller]
pub fn assert_problem_type(r: &Reply) {
    assert_eq!(
        r.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "{:#}",
        r.body
    );
}

// ------------------------------------------------------------ event streams

/// One Server-Sent Event.
#[derive(Debug, Clone)]
pub struct Sse {
    pub id: Option<i64>,
    pub event: String,
    pub data: Value,
}

/// An open `GET /api/v1/events` stream.
pub struct EventStream {
    resp: reqwest::Response,
    buf: String,
    /// Comment lines (heartbeats) seen so far.
    pub comments: usize,
    /// The server ended the stream.
    pub ended: bool,
}

impl TestApp {
    /// Opens the caller's event stream (optionally resuming after an id);
    /// it must open.
    pub async fn events(&self, token: &str, last_event_id: Option<i64>) -> EventStream {
        let mut req = self
            .client
            .get(self.url("/api/v1/events"))
            .bearer_auth(token)
            .timeout(std::time::Duration::from_secs(600));
        if let Some(n) = last_event_id {
            req = req.header("last-event-id", n.to_string());
        }
        EventStream::open(req).await
    }
}

impl EventStream {
    pub async fn open(req: RequestBuilder) -> EventStream {
        let resp = req.send().await.expect("event stream request");
        assert_eq!(resp.status(), StatusCode::OK, "event stream status");
        assert_eq!(
            resp.headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("text/event-stream")
        );
        EventStream {
            resp,
            buf: String::new(),
            comments: 0,
            ended: false,
        }
    }

    /// The next event (heartbeats counted, not returned); `None` when
    /// nothing arrives within `wait` or the stream ended.
    pub async fn next(&mut self, wait: std::time::Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(i) = self.buf.find("\n\n") {
                let frame: String = self.buf.drain(..i + 2).collect();
                let mut ev = Sse {
                    id: None,
                    event: "message".into(),
                    data: Value::Null,
                };
                let mut is_event = false;
                for line in frame.lines() {
                    if line.starts_with(':') {
                        self.comments += 1;
                    } else if let Some(v) = line.strip_prefix("id: ") {
                        ev.id = Some(v.parse().expect("numeric event id"));
                        is_event = true;
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        ev.event = v.to_string();
                        is_event = true;
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        ev.data = serde_json::from_str(v).expect("JSON event data");
                        is_event = true;
                    }
                }
                if is_event {
                    return Some(ev);
                }
            }
            if self.ended {
                return None;
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return None;
            }
            match tokio::time::timeout(left, self.resp.chunk()).await {
                Ok(Ok(Some(b))) => self.buf.push_str(&String::from_utf8_lossy(&b)),
                Ok(_) => self.ended = true,
                Err(_) => return None,
            }
        }
    }

    /// Events until one satisfies `done` (which is included); panics after
    /// `wait`.
    pub async fn until(
        &mut self,
        wait: std::time::Duration,
        done: impl Fn(&Sse) -> bool,
    ) -> Vec<Sse> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(e) => {
                    let stop = done(&e);
                    seen.push(e);
                    if stop {
                        return seen;
                    }
                }
                None => panic!("event not received within {wait:?}; got {seen:#?}"),
            }
        }
    }

    /// Every event arriving within `wait`.
    pub async fn drain(&mut self, wait: std::time::Duration) -> Vec<Sse> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(e) => seen.push(e),
                None => return seen,
            }
        }
    }
}

/// A sample's value in Prometheus text: `name{labels}` exactly as written.
pub fn metric(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name_and_labels) && l[name_and_labels.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}
