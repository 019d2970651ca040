//! Crash safety: a `zhiqilian serve` process is killed with SIGKILL while
//! concurrent clients create listings and post chat messages, then started
//! again on the same data folder and database, several times over. Every
//! write it acknowledged (a 2xx answer) must still be there, and in search
//! once the indexer has caught up; at the end the matching job has got
//! through every change. Both backends.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::*;
use crate::process::ServerProcess;

const CYCLES: usize = 5;
/// Acknowledged writes each cycle waits for before the kill.
const LISTINGS_BEFORE_KILL: usize = 30;
const MESSAGES_BEFORE_KILL: usize = 10;
/// The word every listing of this test carries, to find them all by search.
pub const MARK: &str = "zqcrash";

#[derive(Default)]
pub struct Acked {
    /// Listing id → title.
    pub listings: BTreeMap<String, String>,
    /// Listing id → when its request was sent.
    pub sent: BTreeMap<String, Instant>,
    /// Message id → client_msg_id.
    pub messages: BTreeMap<String, String>,
    /// Answers that were neither 2xx nor a cut connection.
    pub refused: Vec<String>,
    pub cut: usize,
}

pub struct Traffic {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("http client")
}

/// Posts `body` until `stop`; records what the server acknowledged.
fn writer(
    base: String,
    path: String,
    token: String,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Acked>>,
    body: impl Fn(usize) -> Value + Send + 'static,
    record: fn(&mut Acked, &Value, &Value, Instant),
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = client();
        let mut i = 0;
        while !stop.load(Ordering::SeqCst) {
            i += 1;
            let sent = body(i);
            let sent_at = Instant::now();
            let r = client
                .post(format!("{base}{path}"))
                .bearer_auth(&token)
                .json(&sent)
                .send()
                .await;
            let r = match r {
                Ok(r) => r,
                Err(_) => {
                    // Cut off or refused: not acknowledged, so not checked.
                    acked.lock().expect("acked").cut += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            let status = r.status();
            // An answer counts once its body arrived whole.
            let Ok(answer) = r.json::<Value>().await else {
                acked.lock().expect("acked").cut += 1;
                continue;
            };
            let mut a = acked.lock().expect("acked");
            if status.is_success() {
                record(&mut a, &sent, &answer, sent_at);
            } else {
                a.refused.push(format!("POST {path} → {status}: {answer}"));
            }
        }
    })
}

/// Three firms create listings and two post messages in `thread`, each
/// as fast as the server answers, until stopped.
pub fn start_traffic(
    app: &TestApp,
    w: &World,
    thread: &str,
    cycle: usize,
    acked: &Arc<Mutex<Acked>>,
) -> Traffic {
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for (n, firm) in [&w.a, &w.b, &w.c].into_iter().enumerate() {
        tasks.push(writer(
            app.address.clone(),
            "/api/v1/listings".into(),
            firm.admin.token.clone(),
            stop.clone(),
            acked.clone(),
            move |i| {
                json!({
                    "side": if n % 2 == 0 { "offer" } else { "request" },
                    "kind": "equipment",
                    "title": format!("叉车 {MARK} c{cycle}w{n}n{i}"),
                    "description": "五吨叉车，夜班可用。",
                    "visibility": "public",
                })
            },
            |a, sent, answer, at| {
                let id = answer["id"].as_str().unwrap_or_default().to_string();
                a.sent.insert(id.clone(), at);
                a.listings
                    .insert(id, sent["title"].as_str().unwrap_or("").into());
            },
        ));
    }
    for (n, firm) in [&w.a, &w.b].into_iter().enumerate() {
        tasks.push(writer(
            app.address.clone(),
            format!("/api/v1/threads/{thread}/messages"),
            firm.admin.token.clone(),
            stop.clone(),
            acked.clone(),
            move |i| json!({ "client_msg_id": format!("c{cycle}w{n}n{i}"), "text": format!("第{i}条") }),
            |a, sent, answer, _| {
                let id = answer["id"].as_str().unwrap_or_default().to_string();
                a.messages
                    .insert(id, sent["client_msg_id"].as_str().unwrap_or("").into());
            },
        ));
    }
    Traffic { stop, tasks }
}

impl Traffic {
    pub async fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.tasks {
            t.await.expect("client task");
        }
    }
}

/// Every listing the platform admin can list (all of them).
pub async fn listed(app: &TestApp, token: &str) -> HashSet<String> {
    ids(&app.all_pages("/api/v1/listings?limit=100", token).await)
        .into_iter()
        .collect()
}

/// Every message of the thread, in seq order: (id, seq).
pub async fn messages(app: &TestApp, token: &str, thread: &str) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let r = app
            .get(
                &format!("/api/v1/threads/{thread}/messages?after_seq={after}&limit=200"),
                token,
            )
            .await;
        let body = r.expect(200);
        let items = body["items"].as_array().expect("items");
        for m in items {
            after = m["seq"].as_i64().expect("seq");
            out.push((id_of(m), after));
        }
        if !body["has_more"].as_bool().unwrap_or(false) || items.is_empty() {
            return out;
        }
    }
}

/// Ids of the listings search finds for the test's mark.
pub async fn searched(app: &TestApp, token: &str) -> HashSet<String> {
    app.all_pages(
        &format!("/api/v1/listings/search?q={MARK}&limit=100"),
        token,
    )
    .await
    .iter()
    .map(|h| h["listing"]["id"].as_str().expect("hit id").to_string())
    .collect()
}

fn lost_report<'a>(what: &str, lost: impl Iterator<Item = (&'a String, &'a String)>) -> String {
    let lines: Vec<String> = lost
        .map(|(id, label)| format!("  {id} ({label})"))
        .collect();
    format!(
        "{} acknowledged {what} lost:\n{}",
        lines.len(),
        lines.join("\n")
    )
}

/// The usual world plus a thread between firms a and b.
pub async fn world_with_thread(app: &TestApp) -> (World, String) {
    let w = app.world().await;
    let offer = app
        .create_listing(&w.b.admin, &space_offer("1000㎡ 仓库出租"))
        .await;
    let thread = id_of(
        app.post(
            "/api/v1/threads",
            &w.a.admin.token,
            &json!({ "listing_id": id_of(&offer) }),
        )
        .await
        .expect(201),
    );
    (w, thread)
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9_and_reach_search() {
    let started = Instant::now();
    let mut app = database_only().await;
    let mut node = ServerProcess::start(app.data_dir(), &app.database_url, &[]);
    app.address = node.address.clone();
    let (w, thread) = world_with_thread(&app).await;
    let acked = Arc::new(Mutex::new(Acked::default()));

    for cycle in 1..=CYCLES {
        let (l0, m0) = {
            let a = acked.lock().expect("acked");
            (a.listings.len(), a.messages.len())
        };
        let traffic = start_traffic(&app, &w, &thread, cycle, &acked);
        // Kill once enough has been acknowledged, while the clients keep
        // writing (at a varying point of a request).
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (l, m) = {
                let a = acked.lock().expect("acked");
                (a.listings.len() - l0, a.messages.len() - m0)
            };
            if l >= LISTINGS_BEFORE_KILL && m >= MESSAGES_BEFORE_KILL {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "cycle {cycle}: only {l} listings and {m} messages acknowledged in 20 s; server log:\n{}",
                node.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(rand::random_range(0..200))).await;
        node.kill9();
        traffic.stop().await;
        let killed_at = Instant::now();
        node.restart();
        app.address = node.address.clone();
        let restart_secs = killed_at.elapsed().as_secs_f64();

        let (listings, msgs, cut) = {
            let a = acked.lock().expect("acked");
            assert!(
                a.refused.is_empty(),
                "cycle {cycle}: writes refused:\n{}",
                a.refused.join("\n")
            );
            (a.listings.clone(), a.messages.clone(), a.cut)
        };

        // In the database (through the API), with nothing lost.
        let in_db = listed(&app, &w.admin.token).await;
        let lost: Vec<_> = listings
            .iter()
            .filter(|(id, _)| !in_db.contains(*id))
            .collect();
        assert!(
            lost.is_empty(),
            "cycle {cycle}, {}",
            lost_report("listings", lost.iter().copied())
        );
        let thread_msgs = messages(&app, &w.a.admin.token, &thread).await;
        let stored: HashSet<&String> = thread_msgs.iter().map(|(id, _)| id).collect();
        let lost: Vec<_> = msgs.iter().filter(|(id, _)| !stored.contains(id)).collect();
        assert!(
            lost.is_empty(),
            "cycle {cycle}, {}",
            lost_report("messages", lost.iter().copied())
        );
        // Seqs stay gapless through crashes.
        let seqs: Vec<i64> = thread_msgs.iter().map(|(_, s)| *s).collect();
        let expected: Vec<i64> = (1..=seqs.len() as i64).collect();
        assert_eq!(seqs, expected, "cycle {cycle}: message seqs have gaps");

        // In search, once the restarted indexer has caught up.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut missing;
        loop {
            let found = searched(&app, &w.admin.token).await;
            missing = listings
                .iter()
                .filter(|(id, _)| !found.contains(*id))
                .collect::<Vec<_>>();
            if missing.is_empty() || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        assert!(
            missing.is_empty(),
            "cycle {cycle}: not searchable 30 s after the restart: {}\nserver log:\n{}",
            lost_report("listings", missing.iter().copied()),
            node.log_tail()
        );
        eprintln!(
            "{} cycle {cycle}: {} listings and {} messages acknowledged so far, all kept and searchable; {cut} requests cut off; restart {restart_secs:.1}s",
            app.backend_name(),
            listings.len(),
            msgs.len()
        );
    }
    // Matched: the matching job (one node at a time, under a lease the
    // killed process held until it runs out) gets through every change.
    let head = app.change_head().await;
    let waited = Instant::now();
    let deadline = waited + Duration::from_secs(60);
    loop {
        let (position, _, _) = app
            .db()
            .run(|c| zhiqilian::store::leases::state(c, "matching"))
            .await
            .expect("matching job state")
            .expect("matching job row");
        if position >= head {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "matching stopped at change {position} of {head} after the restarts; server log:\n{}",
            node.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    eprintln!(
        "{}: every change up to {head} matched {:.1}s after the last restart",
        app.backend_name(),
        waited.elapsed().as_secs_f64()
    );
    eprintln!(
        "{}: {CYCLES} kill -9 cycles in {:.1}s",
        app.backend_name(),
        started.elapsed().as_secs_f64()
    );
}
