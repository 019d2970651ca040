//! `crossnode-bench`: delivery latency across two server processes on one
//! PostgreSQL database, for `bench/crossnode.sh`.
//!
//! Starts two `zhiqilian serve` nodes, A and B, on the same database (each
//! with its own data folder), sets up a community, two verified firms, a
//! listing and a thread through node A, and holds firm b's event stream on
//! node B. Firm a then posts messages through node A at a fixed rate
//! (arrival-rate schedule, each POST on its own task, never a closed loop).
//! For every message: **post acknowledged → event received** on node B (the
//! cross-node part: commit, `NOTIFY`, B's wake-up and read, the SSE write;
//! negative when the event overtook the answer), and scheduled send → event
//! received (what a user sees, as `chat-bench` measures on one node).
//! Lost: acknowledged messages whose event never arrived (after a drain of
//! 10 s). Also both nodes' CPU while idle and while messages flow.
//!
//! Prints one JSON object on stdout; progress on stderr.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{Value, json};
use zhiqilian_bench::api::{Api, Res};
use zhiqilian_bench::node::{Node, NodeSpec, machine_busy_secs, percentile, proc_stats, round};
use zhiqilian_bench::sse::EventStream;

#[derive(Debug, Parser)]
#[command(
    name = "crossnode-bench",
    about = "Chat delivery latency from one node to another"
)]
struct Args {
    /// The `zhiqilian` binary (both nodes).
    #[arg(long)]
    bin: PathBuf,
    /// A fresh PostgreSQL database.
    #[arg(long)]
    database_url: String,
    /// A scratch folder (the nodes' data folders go in it).
    #[arg(long)]
    scratch: PathBuf,
    /// Messages per second.
    #[arg(long, default_value_t = 100)]
    rate: u32,
    /// Seconds of posting.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Seconds of the idle measurement (both nodes, one stream open).
    #[arg(long, default_value_t = 10)]
    idle: u64,
    /// Name of this binary in the output.
    #[arg(long, default_value = "")]
    label: String,
}

const SECRET: &str = "crossnode-bench-secret-0123456789abcdef012345";
const ADMIN: &str = "crossnode-admin@park.example";
const ADMIN_PASSWORD: &str = "crossnode-Admin-Passw0rd";

/// Registers and verifies a firm; (firm id, its admin's token).
async fn firm(api: &Api, admin: &str, community: &str, n: u64) -> Res<(String, String)> {
    api.verified_firm(admin, community, n, "跨节点压测企业")
        .await
}

/// When each message was scheduled, acknowledged and received.
#[derive(Default)]
struct Times {
    scheduled: HashMap<String, Instant>,
    acked: HashMap<String, Instant>,
    received: HashMap<String, Instant>,
    duplicates: usize,
    failed: usize,
}

fn summary(v: &mut [f64]) -> Value {
    v.sort_by(f64::total_cmp);
    json!({
        "p50_ms": round(percentile(v, 50.0), 2),
        "p90_ms": round(percentile(v, 90.0), 2),
        "p99_ms": round(percentile(v, 99.0), 2),
        "max_ms": round(v.last().copied().unwrap_or(f64::NAN), 2),
        "min_ms": round(v.first().copied().unwrap_or(f64::NAN), 2),
    })
}

/// CPU seconds of both nodes and of the machine.
fn cpu(a: u32, b: u32) -> (f64, f64, f64) {
    (
        proc_stats(a).cpu_secs,
        proc_stats(b).cpu_secs,
        machine_busy_secs(),
    )
}

fn cores(before: (f64, f64, f64), after: (f64, f64, f64), secs: f64) -> Value {
    let (a, b) = ((after.0 - before.0) / secs, (after.1 - before.1) / secs);
    let machine = (after.2 - before.2) / secs;
    json!({
        "node_a_cpu_cores": round(a, 3),
        "node_b_cpu_cores": round(b, 3),
        "machine_busy_cores": round(machine, 2),
    })
}

/// Posts `rate × duration` messages through `api` (node A) on a fixed
/// schedule while `sub` (node B) reads; returns the times.
async fn run(
    api: &Arc<Api>,
    token: &str,
    thread: &str,
    mut sub: EventStream,
    rate: u32,
    duration: u64,
    tag: &str,
) -> Res<(Times, EventStream)> {
    let times = Arc::new(Mutex::new(Times::default()));
    let total = rate as u64 * duration;
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let t2 = times.clone();
    let reader = tokio::spawn(async move {
        loop {
            let e = tokio::select! {
                e = sub.next() => e,
                _ = &mut stop_rx => return Res::Ok(sub),
            };
            let e = e?;
            let at = Instant::now();
            if e.event != "message.created" {
                continue;
            }
            let Ok(v) = serde_json::from_str::<Value>(&e.data) else {
                continue;
            };
            let Some(cid) = v["client_msg_id"].as_str() else {
                continue;
            };
            let mut t = t2.lock().expect("times");
            if t.received.insert(cid.to_string(), at).is_some() {
                t.duplicates += 1;
            }
        }
    });
    let start = Instant::now() + Duration::from_millis(200);
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    let mut posts = tokio::task::JoinSet::new();
    for i in 0..total {
        let due = start + period * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let cid = format!("{tag}-{i}");
        times
            .lock()
            .expect("times")
            .scheduled
            .insert(cid.clone(), due);
        let (api, token, thread, times) = (
            api.clone(),
            token.to_string(),
            thread.to_string(),
            times.clone(),
        );
        posts.spawn(async move {
            let r = api
                .call(
                    reqwest::Method::POST,
                    &format!("/api/v1/threads/{thread}/messages"),
                    Some(&token),
                    Some(json!({ "client_msg_id": cid, "text": format!("跨节点消息 {i}：下午两点来提货") })),
                )
                .await;
            let at = Instant::now();
            let mut t = times.lock().expect("times");
            match r {
                Ok(_) => {
                    t.acked.insert(cid, at);
                }
                Err(_) => t.failed += 1,
            }
        });
    }
    while posts.join_next().await.is_some() {}
    // Drain: whatever is acknowledged and not yet received gets 10 s.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let missing = {
            let t = times.lock().expect("times");
            t.acked
                .keys()
                .filter(|k| !t.received.contains_key(*k))
                .count()
        };
        if missing == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop_tx.send(());
    let sub = reader.await??;
    let times = Arc::try_unwrap(times)
        .map_err(|_| "times still shared")?
        .into_inner()
        .map_err(|_| "poisoned")?;
    Ok((times, sub))
}

#[tokio::main]
async fn main() -> Res<()> {
    let a = Args::parse();
    let spec = |name: &str| NodeSpec {
        bin: a.bin.clone(),
        data_dir: a.scratch.join(name),
        database_url: Some(a.database_url.clone()),
        secret: SECRET.into(),
        env: vec![],
    };
    let (spec_a, spec_b) = (spec("node-a"), spec("node-b"));
    spec_a.create_admin(ADMIN, ADMIN_PASSWORD)?;
    let node_a = Node::start(&spec_a)?;
    let node_b = Node::start(&spec_b)?;
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
        .build()?;
    let api = Arc::new(Api::new(&node_a.url(), http));

    eprintln!("setting up a community, two firms, a listing and a thread (node A)");
    let admin = api.login(ADMIN, ADMIN_PASSWORD).await?;
    let community = api
        .call(
            reqwest::Method::POST,
            "/api/v1/communities",
            Some(&admin),
            Some(json!({ "name": "跨节点压测社区", "district": "北仑区", "lat": 29.93, "lon": 121.87 })),
        )
        .await?["id"]
        .as_str()
        .ok_or("no community id")?
        .to_string();
    let (_, a_token) = firm(&api, &admin, &community, 1).await?;
    let (_, b_token) = firm(&api, &admin, &community, 2).await?;
    let listing = api
        .call(
            reqwest::Method::POST,
            "/api/v1/listings",
            Some(&b_token),
            Some(
                json!({ "side": "offer", "kind": "equipment", "title": "3吨叉车出租 可带司机",
                "attributes": { "equipment_type": "叉车", "mode": "出租" } }),
            ),
        )
        .await?["id"]
        .as_str()
        .ok_or("no listing id")?
        .to_string();
    let thread = api
        .call(
            reqwest::Method::POST,
            "/api/v1/threads",
            Some(&a_token),
            Some(json!({ "listing_id": listing })),
        )
        .await?["id"]
        .as_str()
        .ok_or("no thread id")?
        .to_string();

    let mut sub = EventStream::open(&node_b.address, &b_token, None).await?;
    sub.until("ready").await?;
    // Warm-up: connections, caches, the first queries on both nodes.
    let (_, sub) = run(&api, &a_token, &thread, sub, a.rate, 2, "warm").await?;

    eprintln!("idle for {} s (one stream open on node B)", a.idle);
    let (pa, pb) = (node_a.pid(), node_b.pid());
    let (c0, t0) = (cpu(pa, pb), Instant::now());
    tokio::time::sleep(Duration::from_secs(a.idle)).await;
    let idle = cores(c0, cpu(pa, pb), t0.elapsed().as_secs_f64());

    eprintln!(
        "{} messages/s for {} s: posted on node A, streamed from node B",
        a.rate, a.duration
    );
    let (c0, t0) = (cpu(pa, pb), Instant::now());
    let (t, _sub) = run(&api, &a_token, &thread, sub, a.rate, a.duration, "run").await?;
    let load = cores(c0, cpu(pa, pb), t0.elapsed().as_secs_f64());

    let mut from_ack = Vec::new();
    let mut from_send = Vec::new();
    let mut overtook = 0;
    for (cid, acked) in &t.acked {
        if let Some(got) = t.received.get(cid) {
            let ms = if got >= acked {
                got.duration_since(*acked).as_secs_f64() * 1000.0
            } else {
                overtook += 1;
                -(acked.duration_since(*got).as_secs_f64() * 1000.0)
            };
            from_ack.push(ms);
            if let Some(s) = t.scheduled.get(cid) {
                from_send.push(got.saturating_duration_since(*s).as_secs_f64() * 1000.0);
            }
        }
    }
    let lost = t
        .acked
        .keys()
        .filter(|k| !t.received.contains_key(*k))
        .count();
    let out = json!({
        "label": a.label,
        "rate": a.rate,
        "duration_s": a.duration,
        "sent": a.rate as u64 * a.duration,
        "acknowledged": t.acked.len(),
        "post_errors": t.failed,
        "received": t.received.len(),
        "lost": lost,
        "duplicates": t.duplicates,
        "event_before_ack": overtook,
        "ack_to_event": summary(&mut from_ack),
        "send_to_event": summary(&mut from_send),
        "idle": idle,
        "during": load,
    });
    println!("{out}");
    drop(node_a);
    drop(node_b);
    Ok(())
}
