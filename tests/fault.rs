//! The database out of reach for a few seconds in the middle of traffic:
//! requests fail fast and cleanly (503 `database_unavailable`, problem+json,
//! `Retry-After`), and the service recovers by itself afterwards.
//!
//! PostgreSQL: the test's database is closed to new connections and every
//! session on it terminated (`ALLOW_CONNECTIONS false`,
//! `pg_terminate_backend`), then opened again. SQLite has no server to lose;
//! its equivalent is another process holding the write lock (a stuck
//! `sqlite3` shell, a tool writing in one long transaction): writes fail
//! once `db_timeout_secs` has passed, reads go on (WAL).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};
use serde_json::json;

use crate::helpers::*;

/// `db_timeout_secs` for the server under test.
const DB_TIMEOUT: u64 = 2;
const OUTAGE: Duration = Duration::from_secs(4);

#[derive(Debug, Clone)]
struct Outcome {
    what: &'static str,
    /// Sent at.
    at: Instant,
    answered: Instant,
    secs: f64,
    status: u16,
    code: String,
    problem_json: bool,
    retry_after: bool,
}

/// The database made unavailable, and made available again.
enum Outage {
    Postgres { admin: PgConnection, name: String },
    Sqlite { lock: SqliteConnection },
}

impl Outage {
    fn begin(app: &TestApp) -> Outage {
        match app.pg_database() {
            Some((admin_url, name)) => {
                let mut admin = PgConnection::establish(&admin_url).expect("admin connection");
                admin
                    .batch_execute(&format!(
                        "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
                         SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                         WHERE datname = '{name}' AND pid <> pg_backend_pid();"
                    ))
                    .expect("close the database");
                Outage::Postgres { admin, name }
            }
            None => {
                let path = app
                    .database_url
                    .strip_prefix("sqlite://")
                    .expect("sqlite url");
                let mut lock = SqliteConnection::establish(path).expect("open the database");
                // Waits its turn behind the server's writers, then holds on.
                lock.batch_execute("PRAGMA busy_timeout = 10000; BEGIN IMMEDIATE;")
                    .expect("take the write lock");
                Outage::Sqlite { lock }
            }
        }
    }

    fn end(self) {
        match self {
            Outage::Postgres { mut admin, name } => admin
                .batch_execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true;"))
                .expect("open the database again"),
            Outage::Sqlite { mut lock } => lock.batch_execute("ROLLBACK;").expect("release"),
        }
    }
}

#[tokio::test]
async fn requests_fail_cleanly_while_the_database_is_away_and_recover_after() {
    let timeout = DB_TIMEOUT.to_string();
    let app = Arc::new(spawn_app_with(&[("ZQL_DB_TIMEOUT_SECS", &timeout)]).await);
    let w = app.world().await;
    let stop = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<Vec<Outcome>>> = Arc::default();

    let mut tasks = Vec::new();
    for (n, token) in [
        w.a.admin.token.clone(),
        w.b.admin.token.clone(),
        w.c.admin.token.clone(),
    ]
    .into_iter()
    .enumerate()
    {
        let (app, stop, seen) = (app.clone(), stop.clone(), seen.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                let (what, req) = match i % 3 {
                    0 => (
                        "create listing",
                        app.client.post(app.url("/api/v1/listings")).json(&json!({
                            "side": "offer", "kind": "equipment",
                            "title": format!("叉车 故障测试 w{n}n{i}"), "visibility": "public"
                        })),
                    ),
                    1 => ("list listings", app.client.get(app.url("/api/v1/listings"))),
                    _ => (
                        "search",
                        app.client.get(app.url("/api/v1/listings/search?q=叉车")),
                    ),
                };
                let t = Instant::now();
                let r = app.send(req.bearer_auth(&token)).await;
                seen.lock().expect("seen").push(Outcome {
                    what,
                    at: t,
                    answered: Instant::now(),
                    secs: t.elapsed().as_secs_f64(),
                    status: r.status.as_u16(),
                    code: r.body["code"].as_str().unwrap_or("").to_string(),
                    problem_json: r.header("content-type") == Some("application/problem+json"),
                    retry_after: r.header("retry-after").is_some(),
                });
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }

    tokio::time::sleep(Duration::from_secs(1)).await;
    let outage_start = Instant::now();
    let outage = {
        let app = app.clone();
        tokio::task::spawn_blocking(move || Outage::begin(&app))
            .await
            .expect("outage")
    };
    tokio::time::sleep(OUTAGE).await;
    tokio::task::spawn_blocking(move || outage.end())
        .await
        .expect("end outage");
    let outage_end = Instant::now();
    // Recovery: the service heals itself without a restart.
    tokio::time::sleep(Duration::from_secs(DB_TIMEOUT + 4)).await;
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        t.await.expect("client");
    }

    let seen = seen.lock().expect("seen").clone();
    let bad: Vec<&Outcome> = seen
        .iter()
        .filter(|o| {
            let clean_503 = o.status == 503
                && o.code == "database_unavailable"
                && o.problem_json
                && o.retry_after;
            !((200..300).contains(&o.status) || clean_503)
        })
        .collect();
    assert!(
        bad.is_empty(),
        "answers other than 2xx or a clean 503: {bad:#?}"
    );
    let before: Vec<&Outcome> = seen.iter().filter(|o| o.answered < outage_start).collect();
    assert!(
        !before.is_empty() && before.iter().all(|o| o.status < 300),
        "{before:#?}"
    );
    let unavailable: Vec<&Outcome> = seen.iter().filter(|o| o.status == 503).collect();
    assert!(
        unavailable.iter().any(|o| o.what == "create listing"),
        "the outage was not felt: {seen:#?}"
    );
    // Fast failure: no request waits much past the timeout.
    let slowest = seen.iter().map(|o| o.secs).fold(0.0, f64::max);
    assert!(
        slowest < DB_TIMEOUT as f64 + 3.0,
        "a request took {slowest:.1}s"
    );
    // Healed: a few seconds after the database is back, everything works.
    let settled = outage_end + Duration::from_secs(DB_TIMEOUT + 1);
    let late: Vec<&Outcome> = seen.iter().filter(|o| o.at > settled).collect();
    assert!(
        late.len() >= 10,
        "too few requests after the outage: {}",
        late.len()
    );
    let failed: Vec<&&Outcome> = late.iter().filter(|o| o.status >= 300).collect();
    assert!(
        failed.is_empty(),
        "still failing after the outage: {failed:#?}"
    );
    // And a write made now is searchable (the indexer recovered too).
    let r = app
        .post(
            "/api/v1/listings?wait=indexed",
            &w.a.admin.token,
            &listing("offer", "equipment", "叉车 故障之后", "public"),
        )
        .await;
    r.expect(201);
    assert_eq!(
        r.header("x-indexed"),
        Some("true"),
        "not indexed after the outage"
    );
    eprintln!(
        "{}: {} requests, {} answered 503 database_unavailable during a {:?} outage (slowest {slowest:.2}s), all 2xx from {:.1}s after it",
        app.backend_name(),
        seen.len(),
        unavailable.len(),
        OUTAGE,
        (settled - outage_end).as_secs_f64()
    );
}

/// The error a query gets when its connection is gone (PostgreSQL: the
/// session terminated under it; SQLite: the write lock never came) is 503
/// `database_unavailable`, not a 500.
#[tokio::test]
async fn a_lost_connection_or_a_held_lock_is_unavailable_not_internal() {
    use zhiqilian::service::error::ApiError;
    use zhiqilian::store::StoreError;
    let app = database_only().await;
    let e = tokio::task::spawn_blocking(move || -> StoreError {
        let e = match app.pg_database() {
            Some((admin_url, _)) => {
                let mut c = PgConnection::establish(&app.database_url).expect("connect");
                let mut admin = PgConnection::establish(&admin_url).expect("admin");
                admin
                    .batch_execute(&format!(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                         WHERE datname = '{}' AND pid <> pg_backend_pid();",
                        app.pg_database().expect("pg").1
                    ))
                    .expect("terminate");
                c.batch_execute("SELECT 1")
                    .expect_err("the session is gone")
            }
            None => {
                let path = app.database_url.strip_prefix("sqlite://").expect("sqlite");
                let mut holder = SqliteConnection::establish(path).expect("open");
                holder.batch_execute("BEGIN IMMEDIATE;").expect("lock");
                let mut c = SqliteConnection::establish(path).expect("open");
                c.batch_execute("PRAGMA busy_timeout = 200;")
                    .expect("pragma");
                c.batch_execute("CREATE TABLE t (x INTEGER);")
                    .expect_err("the write lock is taken")
            }
        };
        drop(app);
        StoreError::from(e)
    })
    .await
    .expect("task");
    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
    let api = ApiError::from(e);
    assert_eq!(
        (api.status.as_u16(), api.code.as_str()),
        (503, "database_unavailable")
    );
}
