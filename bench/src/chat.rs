//! `chat-bench`: live delivery of chat messages against a running server.
//!
//! 1. Sets up a community, two verified firms, a listing and the thread
//!    firm a opens about it (through the API, as a platform admin).
//! 2. Latency: firm a posts messages at a fixed rate (arrival-rate
//!    schedule, never a closed loop) while firm b's event stream, on
//!    another connection, waits for each; latency runs from the scheduled
//!    send time to the event's arrival.
//! 3. Holds `--streams` event streams of synthetic users (access tokens
//!    signed with the server's secret; `--fanout` of them members of firm
//!    b, the rest spread over other firms, ten per firm) and reports the
//!    server's RSS and CPU while idle, then the latency run again with
//!    those streams open, with RSS and CPU while messages flow.
//!
//! Prints one JSON object with every figure on stdout; progress on stderr.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use zhiqilian_bench::api::{Api, Res};
use zhiqilian_bench::sse::EventStream;

#[derive(Debug, Parser)]
#[command(
    name = "chat-bench",
    about = "Chat delivery latency and event-stream capacity"
)]
struct Args {
    /// Base URL of the server, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    url: String,
    /// The server's ZQL_JWT_SECRET (to sign tokens of synthetic users).
    #[arg(long)]
    secret: String,
    /// A platform admin's login and password.
    #[arg(long)]
    admin_login: String,
    #[arg(long)]
    admin_password: String,
    /// The server's process id (for RSS and CPU).
    #[arg(long)]
    pid: u32,
    /// Messages per second.
    #[arg(long, default_value_t = 100)]
    rate: u32,
    /// Seconds of each latency run.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Event streams held for the capacity runs (0 skips them).
    #[arg(long, default_value_t = 5000)]
    streams: usize,
    /// How many of those streams belong to firm b (receive every message).
    #[arg(long, default_value_t = 50)]
    fanout: usize,
    /// Seconds of the idle measurement.
    #[arg(long, default_value_t = 30)]
    idle: u64,
}

/// Registers and verifies a firm; (firm id, its admin's token).
async fn firm(api: &Api, admin: &str, community: &str, n: u64) -> Res<(String, String)> {
    api.verified_firm(admin, community, n, "压测企业").await
}

/// An access token for a synthetic user, signed like the server's own.
fn token(secret: &str, user: &str, firm: &str, community: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "sub": user, "iss": "zhiqilian", "aud": "zhiqilian-api", "iat": now, "exp": now + 3600,
        "adm": false, "firm": firm, "frole": "member", "fcmty": community,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign a token")
}

/// utime + stime (clock ticks) and RSS (KiB) of a process.
fn proc_stats(pid: u32) -> (u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (ticks, rss)
}

/// Busy clock ticks of the whole machine (all cores).
fn machine_busy() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let f: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    let total: u64 = f.iter().take(8).sum();
    total - f.get(3).copied().unwrap_or(0) - f.get(4).copied().unwrap_or(0)
}

/// Server CPU (cores) and peak RSS (MiB) while `f` runs, with the CPU of
/// this load generator and of everything else on the machine (noise).
async fn measured<T>(pid: u32, f: impl std::future::Future<Output = T>) -> (T, Value) {
    let ticks_per_sec = 100.0; // USER_HZ on Linux
    let me = std::process::id();
    let (t0, _) = proc_stats(pid);
    let (own0, _) = proc_stats(me);
    let busy0 = machine_busy();
    let started = Instant::now();
    let peak = Arc::new(AtomicUsize::new(0));
    let p2 = peak.clone();
    let sampler = tokio::spawn(async move {
        loop {
            let (_, rss) = proc_stats(pid);
            p2.fetch_max(rss as usize, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
    let out = f.await;
    sampler.abort();
    let (t1, rss_end) = proc_stats(pid);
    let (own1, _) = proc_stats(me);
    let busy1 = machine_busy();
    let secs = started.elapsed().as_secs_f64();
    let cores = (t1 - t0) as f64 / ticks_per_sec / secs;
    let own = (own1 - own0) as f64 / ticks_per_sec / secs;
    let other = ((busy1 - busy0) as f64 / ticks_per_sec / secs - cores - own).max(0.0);
    let peak = peak.load(Ordering::Relaxed).max(rss_end as usize);
    (
        out,
        json!({
            "seconds": round(secs, 1),
            "server_cpu_cores": round(cores, 3),
            "bench_cpu_cores": round(own, 3),
            "other_cpu_cores": round(other, 2),
            "server_rss_mib_end": round(rss_end as f64 / 1024.0, 1),
            "server_rss_mib_peak": round(peak as f64 / 1024.0, 1),
        }),
    )
}

fn round(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (x * m).round() / m
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Who talks where: firm a posts into the thread, firm b listens.
struct Chat {
    api: Arc<Api>,
    addr: String,
    listener_token: String,
    poster_token: String,
    thread: String,
    rate: u32,
}

/// Posts `rate × duration` messages on a fixed schedule while the listener
/// waits for each; returns latency figures (ms).
async fn latency_run(c: &Chat, duration: u64, tag: &str) -> Res<Value> {
    let (api, rate, thread, poster_token) = (c.api.clone(), c.rate, &c.thread, &c.poster_token);
    let mut sub = EventStream::open(&c.addr, &c.listener_token, None).await?;
    sub.until("ready").await?;
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let total = rate as u64 * duration;
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<f64>();
    let sent2 = sent.clone();
    let reader = tokio::spawn(async move {
        loop {
            let Ok(e) = sub.next().await else { return };
            if e.event != "message.created" {
                continue;
            }
            let at = Instant::now();
            let Ok(v) = serde_json::from_str::<Value>(&e.data) else {
                continue;
            };
            let Some(cid) = v["client_msg_id"].as_str() else {
                continue;
            };
            if let Some(t0) = sent2.lock().await.remove(cid) {
                let _ = done_tx.send(at.duration_since(t0).as_secs_f64() * 1000.0);
            }
        }
    });
    let errors = Arc::new(AtomicUsize::new(0));
    let start = Instant::now() + Duration::from_millis(200);
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    for i in 0..total {
        let due = start + period * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let cid = format!("{tag}-{i}");
        sent.lock().await.insert(cid.clone(), due);
        let (api, token, thread, errors) = (
            api.clone(),
            poster_token.to_string(),
            thread.to_string(),
            errors.clone(),
        );
        tokio::spawn(async move {
            let r = api
                .call(
                    reqwest::Method::POST,
                    &format!("/api/v1/threads/{thread}/messages"),
                    Some(&token),
                    Some(json!({ "client_msg_id": cid, "text": format!("压测消息 {i}：明天上午九点来看叉车，方便吗？") })),
                )
                .await;
            if r.is_err() {
                errors.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    let mut lat = Vec::with_capacity(total as usize);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while (lat.len() as u64) < total {
        match tokio::time::timeout_at(deadline, done_rx.recv()).await {
            Ok(Some(ms)) => lat.push(ms),
            _ => break,
        }
    }
    reader.abort();
    let achieved = lat.len() as f64 / start.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    Ok(json!({
        "messages": total,
        "delivered": lat.len(),
        "post_errors": errors.load(Ordering::Relaxed),
        "rate_per_s": rate,
        "delivered_per_s": round(achieved, 1),
        "p50_ms": round(percentile(&lat, 50.0), 2),
        "p90_ms": round(percentile(&lat, 90.0), 2),
        "p99_ms": round(percentile(&lat, 99.0), 2),
        "max_ms": round(lat.last().copied().unwrap_or(f64::NAN), 2),
    }))
}

#[tokio::main]
async fn main() -> Res<()> {
    let a = Args::parse();
    let addr = a
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let api = Arc::new(Api::new(
        &a.url,
        reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(64)
            .timeout(Duration::from_secs(30))
            .build()?,
    ));

    eprintln!("setting up a community, two firms, a listing and a thread");
    let admin = api.login(&a.admin_login, &a.admin_password).await?;
    let community = api
        .call(
            reqwest::Method::POST,
            "/api/v1/communities",
            Some(&admin),
            Some(json!({ "name": format!("压测社区{}", std::process::id()), "district": "北仑区", "lat": 29.93, "lon": 121.87 })),
        )
        .await?["id"]
        .as_str()
        .ok_or("no community id")?
        .to_string();
    let (_, a_token) = firm(&api, &admin, &community, 1).await?;
    let (b_id, b_token) = firm(&api, &admin, &community, 2).await?;
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

    let chat = Chat {
        api: api.clone(),
        addr: addr.clone(),
        listener_token: b_token.clone(),
        poster_token: a_token.clone(),
        thread: thread.clone(),
        rate: a.rate,
    };
    // Warm-up: connections, caches, the first queries.
    latency_run(&chat, 2, "warm").await?;

    eprintln!(
        "latency: {} messages/s for {} s, one subscriber",
        a.rate, a.duration
    );
    let (base, base_load) = measured(a.pid, latency_run(&chat, a.duration, "solo")).await;
    let base = base?;
    eprintln!("  {base}");

    let mut out = json!({
        "rate": a.rate,
        "duration_s": a.duration,
        "latency_one_subscriber": base,
        "server_during_latency_one_subscriber": base_load,
    });

    if a.streams > 0 {
        eprintln!("opening {} event streams", a.streams);
        let (_, rss_before) = proc_stats(a.pid);
        let opened = Instant::now();
        let mut held = Vec::with_capacity(a.streams);
        let mut pending = tokio::task::JoinSet::new();
        for i in 0..a.streams {
            let (user, firm) = if i < a.fanout {
                (format!("bench-b-{i}"), b_id.clone())
            } else {
                (format!("bench-u-{i}"), format!("bench-firm-{}", i / 10))
            };
            let t = token(&a.secret, &user, &firm, &community);
            let addr = addr.clone();
            pending.spawn(async move {
                let mut s = EventStream::open(&addr, &t, None).await?;
                s.until("ready").await?;
                Res::Ok(s)
            });
            // Keep the accept queue shallow.
            while pending.len() >= 200 {
                if let Some(r) = pending.join_next().await {
                    held.push(r??);
                }
            }
        }
        while let Some(r) = pending.join_next().await {
            held.push(r??);
        }
        let open_secs = opened.elapsed().as_secs_f64();
        eprintln!("  {} streams open in {open_secs:.1} s", held.len());
        // Every stream keeps reading (heartbeats, fanned-out messages).
        let received = Arc::new(AtomicUsize::new(0));
        let mut readers = tokio::task::JoinSet::new();
        for mut s in held {
            let received = received.clone();
            readers.spawn(async move {
                while let Ok(e) = s.next().await {
                    if e.event == "message.created" {
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        eprintln!("idle for {} s", a.idle);
        let ((), idle) = measured(a.pid, tokio::time::sleep(Duration::from_secs(a.idle))).await;
        eprintln!("  {idle}");
        eprintln!(
            "latency with {} streams open: {} messages/s for {} s",
            a.streams, a.rate, a.duration
        );
        let (loaded, load) = measured(a.pid, latency_run(&chat, a.duration, "busy")).await;
        let loaded = loaded?;
        eprintln!("  {loaded}\n  {load}");
        // Let the other streams read what is still on its way before counting.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut ended = 0;
        while readers.try_join_next().is_some() {
            ended += 1;
        }
        let still_open = a.streams - ended;
        out["streams"] = json!({
            "held": a.streams,
            "of_firm_b": a.fanout,
            "opened_in_s": round(open_secs, 1),
            "server_rss_mib_before": round(rss_before as f64 / 1024.0, 1),
            "idle": idle,
            "latency_while_held": loaded,
            "server_while_messages_flow": load,
            "fanned_out_messages_received": received.load(Ordering::Relaxed),
            "fanned_out_messages_expected": a.fanout as u64 * a.rate as u64 * a.duration,
            "still_open_at_end": still_open,
        });
        readers.abort_all();
    }
    println!("{out}");
    Ok(())
}
