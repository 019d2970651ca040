//! Crash safety, the short version of `bench/crash.sh`: a `zhiqilian serve`
//! process is killed with SIGKILL while concurrent clients create
//! listings, post chat messages, move match records and act on staff
//! cases (the traffic of `zhiqilian_bench::crash`), then started again on
//! the same data folder and database, several times over. Every write it
//! acknowledged (a 2xx answer) must still be there with the content that
//! was sent, message seqs gapless, every acknowledged listing searchable
//! and matched once the node caught up; the kills must have cut requests
//! in flight; at the end the matching job has got through every change.
//! Both backends.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use zhiqilian_bench::api::Api;
use zhiqilian_bench::crash::{self, Acked, Actors};

use crate::helpers::*;
use crate::process::ServerProcess;

pub use zhiqilian_bench::crash::MARK;

const CYCLES: usize = 5;
/// Acknowledged writes each cycle waits for before the kill.
const LISTINGS_BEFORE_KILL: usize = 30;
const MESSAGES_BEFORE_KILL: usize = 10;

/// The writers of the shared crash traffic, from the test world.
pub fn actors(w: &World, thread: &str) -> Actors {
    Actors {
        admin: w.admin.token.clone(),
        firms: [
            w.a.admin.token.clone(),
            w.b.admin.token.clone(),
            w.c.admin.token.clone(),
        ],
        staff: w.staff1.token.clone(),
        thread: thread.to_string(),
    }
}

/// Starts the shared crash traffic (`zhiqilian_bench::crash`) against `app`.
pub fn start_traffic(
    app: &TestApp,
    w: &World,
    thread: &str,
    cycle: usize,
    acked: &Arc<Mutex<Acked>>,
) -> crash::Traffic {
    crash::start(&app.address, &actors(w, thread), cycle, acked)
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
    let who = actors(&w, &thread);
    let acked = Arc::new(Mutex::new(Acked::default()));
    let http = crash::client();

    for cycle in 1..=CYCLES {
        let before = {
            let a = acked.lock().expect("acked");
            (a.listings.len(), a.messages.len())
        };
        let cut_before = acked.lock().expect("acked").cut;
        let traffic = start_traffic(&app, &w, &thread, cycle, &acked);
        // Kill once enough has been acknowledged, while the clients keep
        // writing (at a varying point of a request).
        let enough = crash::wait_acked(
            &acked,
            before,
            (LISTINGS_BEFORE_KILL, MESSAGES_BEFORE_KILL),
            Duration::from_secs(20),
        )
        .await;
        assert!(
            enough,
            "cycle {cycle}: too few writes acknowledged in 20 s; server log:\n{}",
            node.log_tail()
        );
        // Match statuses follow the matcher, which lags the writers on a
        // busy machine: until the first one (and the first case action) is
        // acknowledged, keep the traffic going a while longer, so that
        // their checks run whatever else shares the cores.
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline && {
            let a = acked.lock().expect("acked");
            a.matches.is_empty() || a.cases.is_empty()
        } {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(rand::random_range(0..200))).await;
        node.kill9();
        traffic.stop().await;
        let killed_at = Instant::now();
        node.restart();
        app.address = node.address.clone();
        let restart_secs = killed_at.elapsed().as_secs_f64();

        let a = acked.lock().expect("acked").clone();
        assert!(
            a.refused.is_empty(),
            "cycle {cycle}: writes refused:\n{}",
            a.refused.join("\n")
        );
        // Stored as acknowledged (titles, message ids and texts, statuses),
        // gapless seqs, searchable once the restarted node caught up; after
        // the last kill also a match record for every listing that had a
        // counterpart (matching resumes once the killed node's lease
        // lapsed: checked once, to keep the test short).
        let api = Api::new(&app.address, http.clone());
        let check = crash::check(&api, &who, &a, Duration::from_secs(60), cycle == CYCLES)
            .await
            .expect("check the store through the API");
        assert!(
            check.is_clean(),
            "cycle {cycle}:\n{}\nserver log:\n{}",
            check.problems(),
            node.log_tail()
        );
        eprintln!(
            "{} cycle {cycle}: {} listings, {} messages, {} match statuses, {} case actions acknowledged so far, all kept and searchable ({:.1}s); {} requests cut off by this kill; restart {restart_secs:.1}s",
            app.backend_name(),
            a.listings.len(),
            a.messages.len(),
            a.matches.len(),
            a.cases.len(),
            check.caught_up_secs,
            a.cut - cut_before,
        );
    }
    let a = acked.lock().expect("acked").clone();
    // The kills cut requests in flight: otherwise this test proves nothing.
    assert!(
        a.cut > 0,
        "no request was cut off by {CYCLES} kills: the kills missed the traffic"
    );
    // The traffic moved match records and cases, so their checks ran.
    assert!(
        !a.matches.is_empty() && !a.cases.is_empty(),
        "no match status or case action acknowledged: {} / {}",
        a.matches.len(),
        a.cases.len()
    );
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
        "{}: {CYCLES} kill -9 cycles in {:.1}s; {} writes acknowledged, {} requests cut in flight; every change up to {head} matched {:.1}s after the last restart",
        app.backend_name(),
        started.elapsed().as_secs_f64(),
        a.writes(),
        a.cut,
        waited.elapsed().as_secs_f64()
    );
}
