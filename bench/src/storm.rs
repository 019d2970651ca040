//! `storm-bench`: a reconnect storm after a server restart, for
//! `bench/storm.sh`.
//!
//! 1. Starts `zhiqilian serve`, sets up a community, firm a and `--threads`
//!    firms b1…bn, each with a listing and a thread firm a opens about it.
//! 2. Opens `--streams` event streams of synthetic users (access tokens
//!    signed with the server's secret), spread evenly over the firms b: a
//!    stream receives exactly its firm's thread.
//! 3. Firm a posts messages round-robin into the threads at `--rate`
//!    (fixed schedule, one task per POST). When `--before` of them are
//!    acknowledged, the server is killed (SIGKILL) and started again on the
//!    same data; the writer goes on (posts fail while it is down).
//! 4. Once `--missed` more messages are acknowledged by the new process,
//!    every stream reconnects at once with `Last-Event-ID` (the last id it
//!    received), retrying every 100–300 ms until the server takes it, while
//!    the writer goes on posting. The writer stops 2 s after the last
//!    stream is back.
//! 5. Checks every stream: the seqs of its thread's `message.created`
//!    events, over both connections, are exactly 1…last_seq of the thread
//!    (no gap, no duplicate), event ids only grow, no `reset`.
//!
//! Figures: time from the release to every stream back (`ready`), to every
//! stream holding every message written before the release (the backlog),
//! to every stream holding every message (after the writer stopped); the
//! restarted server's CPU time and peak RSS; the machine's other load.
//! Prints one JSON object on stdout; progress on stderr. Exits 1 when a
//! stream missed or repeated anything.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, watch};
use zhiqilian_bench::api::{Api, Res};
use zhiqilian_bench::node::{Node, NodeSpec, machine_busy_secs, percentile, proc_stats, round};
use zhiqilian_bench::sse::EventStream;

#[derive(Debug, Parser)]
#[command(name = "storm-bench", about = "Event streams resuming after a restart")]
struct Args {
    /// The `zhiqilian` binary.
    #[arg(long)]
    bin: PathBuf,
    /// Data folder (SQLite database unless --database-url, search index).
    #[arg(long)]
    data_dir: PathBuf,
    /// PostgreSQL URL of a fresh database (default: SQLite).
    #[arg(long)]
    database_url: Option<String>,
    /// Event streams held (each one socket on both sides: mind `ulimit -n`).
    #[arg(long, default_value_t = 5000)]
    streams: usize,
    /// Threads (and firms b) the streams are spread over.
    #[arg(long, default_value_t = 10)]
    threads: usize,
    /// Messages per second, all phases.
    #[arg(long, default_value_t = 50)]
    rate: u32,
    /// Messages acknowledged before the kill.
    #[arg(long, default_value_t = 200)]
    before: usize,
    /// Messages acknowledged after the restart, before the streams return.
    #[arg(long, default_value_t = 200)]
    missed: usize,
    /// Longest wait for the recovery, seconds.
    #[arg(long, default_value_t = 180)]
    timeout: u64,
    /// Name of the backend in the output.
    #[arg(long, default_value = "sqlite")]
    label: String,
}

const SECRET: &str = "storm-bench-secret-0123456789abcdef0123456789";
const ADMIN: &str = "storm-admin@park.example";
const ADMIN_PASSWORD: &str = "storm-Admin-Passw0rd";

/// Registers and verifies a firm; (firm id, its admin's token).
async fn firm(api: &Api, admin: &str, community: &str, n: u64) -> Res<(String, String)> {
    api.verified_firm(admin, community, n, "重连压测企业").await
}

/// An access token for a synthetic member of `firm`.
fn token(user: &str, firm: &str, community: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "sub": user, "iss": "zhiqilian", "aud": "zhiqilian-api", "iat": now, "exp": now + 3600,
        "adm": false, "firm": firm, "frole": "member", "fcmty": community,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("sign a token")
}

/// What one stream saw, over both its connections.
#[derive(Debug, Default)]
struct Seen {
    thread: usize,
    /// Seqs of its thread's `message.created`, in arrival order.
    seqs: Vec<i64>,
    /// Messages of other threads (must be none).
    foreign: usize,
    /// Event ids that did not grow, `reset` events, a `ready` that did not
    /// resume where asked.
    violations: Vec<String>,
    last_id: i64,
    attempts: u32,
    /// Since the release: back (`ready`), holding its backlog.
    ready_after: Option<Duration>,
    backlog_after: Option<Duration>,
    /// Since the release: holding every message (once the writer stopped).
    complete_after: Option<Duration>,
}

impl Seen {
    fn take(&mut self, e: &zhiqilian_bench::sse::Event, threads: &[String]) {
        match e.event.as_str() {
            "ready" => {
                let id = e.id.unwrap_or(-1);
                if self.last_id > 0 && id != self.last_id {
                    self.violations
                        .push(format!("ready at {id}, asked {}", self.last_id));
                }
                self.last_id = id;
                return;
            }
            "reset" => {
                self.violations.push("reset".into());
                return;
            }
            _ => {}
        }
        if let Some(id) = e.id {
            if id <= self.last_id {
                self.violations
                    .push(format!("id {id} after {}", self.last_id));
            }
            self.last_id = id;
        }
        if e.event != "message.created" {
            return;
        }
        let Ok(v) = serde_json::from_str::<Value>(&e.data) else {
            self.violations.push("unreadable message event".into());
            return;
        };
        if v["thread_id"].as_str() == Some(threads[self.thread].as_str()) {
            self.seqs.push(v["seq"].as_i64().unwrap_or(-1));
        } else {
            self.foreign += 1;
        }
    }
}

/// Shared between the streams and the driver.
struct Storm {
    addr: watch::Receiver<String>,
    release: watch::Receiver<Option<Instant>>,
    stop: watch::Receiver<bool>,
    /// Per thread: its last seq when the streams were released.
    backlog: watch::Receiver<Vec<i64>>,
    /// Per thread: its last seq once the writer stopped.
    finals: watch::Receiver<Option<Vec<i64>>>,
    threads: Arc<Vec<String>>,
    opened: AtomicUsize,
    cut: AtomicUsize,
    back: AtomicUsize,
    caught_up: AtomicUsize,
    complete: AtomicUsize,
}

async fn stream_task(
    storm: Arc<Storm>,
    mut seen: Seen,
    token: String,
    gate: Arc<Semaphore>,
) -> Seen {
    // Open and hold until the server dies.
    let addr = storm.addr.borrow().clone();
    let mut s = {
        let _permit = gate.acquire().await.expect("gate");
        match EventStream::open(&addr, &token, None).await {
            Ok(s) => s,
            Err(e) => {
                seen.violations.push(format!("could not open: {e}"));
                return seen;
            }
        }
    };
    let mut opened = false;
    while let Ok(e) = s.next().await {
        seen.take(&e, &storm.threads);
        if !opened && e.event == "ready" {
            opened = true;
            storm.opened.fetch_add(1, Ordering::SeqCst);
        }
    }
    drop(s);
    storm.cut.fetch_add(1, Ordering::SeqCst);
    // Wait for the release, then come back all at once.
    let mut release = storm.release.clone();
    let released = match release.wait_for(Option::is_some).await {
        Ok(r) => r.expect("released"),
        Err(_) => return seen,
    };
    let addr = storm.addr.borrow().clone();
    let mut s = loop {
        seen.attempts += 1;
        match EventStream::open(&addr, &token, Some(seen.last_id)).await {
            Ok(s) => break s,
            Err(_) => {
                let jitter = 100 + (seen.attempts as u64 * 37 + seen.thread as u64 * 11) % 200;
                tokio::time::sleep(Duration::from_millis(jitter)).await;
            }
        }
    };
    let backlog = storm.backlog.borrow()[seen.thread];
    let mut stop = storm.stop.clone();
    let mut finals = storm.finals.clone();
    loop {
        let e = tokio::select! {
            e = s.next() => Some(e),
            _ = stop.wait_for(|s| *s) => break,
            _ = finals.changed(), if seen.complete_after.is_none() => None,
        };
        let got = match e {
            Some(Ok(e)) => Some(e),
            Some(Err(_)) => {
                seen.violations.push("the resumed stream ended".into());
                break;
            }
            None => None,
        };
        if let Some(e) = &got {
            seen.take(e, &storm.threads);
        }
        if seen.complete_after.is_none() {
            let last = finals.borrow().as_ref().map(|f| f[seen.thread]);
            if last.is_some_and(|l| seen.seqs.last().is_some_and(|q| *q >= l)) {
                seen.complete_after = Some(released.elapsed());
                storm.complete.fetch_add(1, Ordering::SeqCst);
            }
        }
        let Some(e) = got else {
            continue;
        };
        if e.event == "ready" && seen.ready_after.is_none() {
            seen.ready_after = Some(released.elapsed());
            storm.back.fetch_add(1, Ordering::SeqCst);
        }
        if seen.backlog_after.is_none() && seen.seqs.last().is_some_and(|q| *q >= backlog) {
            seen.backlog_after = Some(released.elapsed());
            storm.caught_up.fetch_add(1, Ordering::SeqCst);
        }
    }
    seen
}

/// Posts into the threads round-robin at `rate` until `stop`; counts
/// acknowledged and failed posts.
struct Writer {
    acked: Arc<AtomicUsize>,
    failed: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

fn writer(
    api: watch::Receiver<Arc<Api>>,
    token: String,
    threads: Arc<Vec<String>>,
    rate: u32,
) -> Writer {
    let acked = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (a, f, st) = (acked.clone(), failed.clone(), stop.clone());
    let task = tokio::spawn(async move {
        let start = Instant::now();
        let period = Duration::from_secs_f64(1.0 / rate as f64);
        let mut posts = tokio::task::JoinSet::new();
        let mut i: u32 = 0;
        while !st.load(Ordering::SeqCst) {
            tokio::time::sleep_until((start + period * i).into()).await;
            let thread = threads[i as usize % threads.len()].clone();
            let (api, token, a, f) = (api.borrow().clone(), token.clone(), a.clone(), f.clone());
            posts.spawn(async move {
                let r = api
                    .call(
                        reqwest::Method::POST,
                        &format!("/api/v1/threads/{thread}/messages"),
                        Some(&token),
                        Some(json!({ "client_msg_id": format!("storm-{i}"), "text": format!("重连压测消息 {i}") })),
                    )
                    .await;
                if r.is_ok() { &a } else { &f }.fetch_add(1, Ordering::SeqCst);
            });
            while posts.try_join_next().is_some() {}
            i += 1;
        }
        while posts.join_next().await.is_some() {}
    });
    Writer {
        acked,
        failed,
        stop,
        task,
    }
}

async fn wait_until(what: &str, within: Duration, cond: impl Fn() -> bool) -> Res<()> {
    let deadline = Instant::now() + within;
    while !cond() {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

fn secs(d: Duration) -> f64 {
    round(d.as_secs_f64(), 2)
}

#[tokio::main]
async fn main() -> Res<()> {
    let a = Args::parse();
    let spec = NodeSpec {
        bin: a.bin.clone(),
        data_dir: a.data_dir.clone(),
        database_url: a.database_url.clone(),
        secret: SECRET.into(),
        env: vec![("ZQL_EVENTS_MAX_STREAMS_PER_USER".into(), "100000".into())],
    };
    spec.create_admin(ADMIN, ADMIN_PASSWORD)?;
    let mut node = Node::start(&spec)?;
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
        .build()?;
    let api = Arc::new(Api::new(&node.url(), http.clone()));

    eprintln!(
        "setting up a community, firm a and {} firms b with a thread each",
        a.threads
    );
    let admin = api.login(ADMIN, ADMIN_PASSWORD).await?;
    let community = api
        .call(
            reqwest::Method::POST,
            "/api/v1/communities",
            Some(&admin),
            Some(json!({ "name": "重连压测社区", "district": "北仑区", "lat": 29.93, "lon": 121.87 })),
        )
        .await?["id"]
        .as_str()
        .ok_or("no community id")?
        .to_string();
    let (_, a_token) = firm(&api, &admin, &community, 0).await?;
    let mut firms_b = Vec::new();
    let mut threads = Vec::new();
    for j in 0..a.threads {
        let (id, t) = firm(&api, &admin, &community, 1 + j as u64).await?;
        let listing = api
            .call(
                reqwest::Method::POST,
                "/api/v1/listings",
                Some(&t),
                Some(json!({ "side": "offer", "kind": "equipment", "title": format!("{}号 3吨叉车出租", j + 1),
                    "attributes": { "equipment_type": "叉车", "mode": "出租" } })),
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
        firms_b.push(id);
        threads.push(thread);
    }
    let threads = Arc::new(threads);

    let (addr_tx, addr_rx) = watch::channel(node.address.clone());
    let (release_tx, release_rx) = watch::channel(None);
    let (stop_tx, stop_rx) = watch::channel(false);
    let (backlog_tx, backlog_rx) = watch::channel(vec![0i64; a.threads]);
    let (finals_tx, finals_rx) = watch::channel(None);
    let storm = Arc::new(Storm {
        addr: addr_rx,
        release: release_rx,
        stop: stop_rx,
        backlog: backlog_rx,
        finals: finals_rx,
        threads: threads.clone(),
        opened: AtomicUsize::new(0),
        cut: AtomicUsize::new(0),
        back: AtomicUsize::new(0),
        caught_up: AtomicUsize::new(0),
        complete: AtomicUsize::new(0),
    });

    eprintln!("opening {} event streams", a.streams);
    let opened_at = Instant::now();
    let gate = Arc::new(Semaphore::new(200));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..a.streams {
        let j = i % a.threads;
        let t = token(&format!("storm-u-{i}"), &firms_b[j], &community);
        let seen = Seen {
            thread: j,
            ..Seen::default()
        };
        tasks.spawn(stream_task(storm.clone(), seen, t, gate.clone()));
    }
    wait_until("the streams to open", Duration::from_secs(120), || {
        storm.opened.load(Ordering::SeqCst) == a.streams
    })
    .await?;
    let open_secs = opened_at.elapsed().as_secs_f64();
    let before_kill = proc_stats(node.pid());
    eprintln!(
        "  open in {open_secs:.1} s; server RSS {:.0} MiB",
        before_kill.rss_mib
    );

    eprintln!(
        "writing {} messages/s; SIGKILL after {} acknowledged",
        a.rate, a.before
    );
    let (api_tx, api_rx) = watch::channel(api.clone());
    let w = writer(api_rx, a_token.clone(), threads.clone(), a.rate);
    wait_until("messages before the kill", Duration::from_secs(120), || {
        w.acked.load(Ordering::SeqCst) >= a.before
    })
    .await?;
    let peak_before_kill = proc_stats(node.pid()).peak_rss_mib;
    node.kill9();
    let killed = Instant::now();
    let acked_at_kill = w.acked.load(Ordering::SeqCst);
    node = Node::start(&spec)?;
    let restart_secs = killed.elapsed().as_secs_f64();
    let pid = node.pid();
    let _ = addr_tx.send(node.address.clone());
    let _ = api_tx.send(Arc::new(Api::new(&node.url(), http.clone())));
    eprintln!("  restarted in {restart_secs:.1} s; writing on");
    wait_until(
        "every stream to notice the kill",
        Duration::from_secs(60),
        || storm.cut.load(Ordering::SeqCst) == a.streams,
    )
    .await?;
    wait_until(
        "messages after the restart",
        Duration::from_secs(120),
        || w.acked.load(Ordering::SeqCst) >= acked_at_kill + a.missed,
    )
    .await?;

    // The backlog each stream must get back: its thread's messages so far.
    let api = Arc::new(Api::new(&node.url(), http.clone()));
    let last_seqs = |api: Arc<Api>, threads: Arc<Vec<String>>, token: String| async move {
        let mut out = Vec::new();
        for t in threads.iter() {
            let v = api
                .call(
                    reqwest::Method::GET,
                    &format!("/api/v1/threads/{t}"),
                    Some(&token),
                    None,
                )
                .await?;
            out.push(v["last_seq"].as_i64().ok_or("no last_seq")?);
        }
        Res::Ok(out)
    };
    let backlog = last_seqs(api.clone(), threads.clone(), a_token.clone()).await?;
    let _ = backlog_tx.send(backlog.clone());
    let stats0 = proc_stats(pid);
    let busy0 = machine_busy_secs();
    eprintln!(
        "releasing {} streams at once (backlog per thread: {:?})",
        a.streams, backlog
    );
    let released = Instant::now();
    let _ = release_tx.send(Some(released));
    let within = Duration::from_secs(a.timeout);
    wait_until("every stream back", within, || {
        storm.back.load(Ordering::SeqCst) == a.streams
    })
    .await?;
    let all_back = released.elapsed();
    let stats_back = proc_stats(pid);
    wait_until("every stream's backlog", within, || {
        storm.caught_up.load(Ordering::SeqCst) == a.streams
    })
    .await?;
    let all_backlog = released.elapsed();
    let stats_backlog = proc_stats(pid);
    tokio::time::sleep(Duration::from_secs(2)).await;
    w.stop.store(true, Ordering::SeqCst);
    w.task.await?;
    let writer_stopped = released.elapsed();
    let finals = last_seqs(api.clone(), threads.clone(), a_token.clone()).await?;
    let _ = finals_tx.send(Some(finals.clone()));
    // Every message to every stream; a stream that never completes fails
    // the check below.
    let completed = wait_until("every stream complete", Duration::from_secs(30), || {
        storm.complete.load(Ordering::SeqCst) == a.streams
    })
    .await
    .is_ok();
    let all_complete = released.elapsed();
    let stats_end = proc_stats(pid);
    let busy1 = machine_busy_secs();
    let storm_secs = released.elapsed().as_secs_f64();
    let _ = stop_tx.send(true);
    let mut seen = Vec::new();
    while let Some(s) = tasks.join_next().await {
        seen.push(s?);
    }

    // The checks.
    let mut exact = 0;
    let mut problems: Vec<String> = Vec::new();
    let mut ready = Vec::new();
    let mut caught = Vec::new();
    let mut attempts = Vec::new();
    for (i, s) in seen.iter().enumerate() {
        let want: Vec<i64> = (1..=finals[s.thread]).collect();
        let ok = s.seqs == want && s.foreign == 0 && s.violations.is_empty();
        if ok {
            exact += 1;
        } else if problems.len() < 10 {
            let missing = want.iter().filter(|q| !s.seqs.contains(q)).count();
            let extra = s.seqs.len() as i64 - (want.len() - missing) as i64;
            problems.push(format!(
                "stream {i} (thread {}): {} events, {missing} missing, {extra} repeated or out of place, {} foreign, {:?}",
                s.thread,
                s.seqs.len(),
                s.foreign,
                s.violations.iter().take(3).collect::<Vec<_>>()
            ));
        }
        if let Some(d) = s.ready_after {
            ready.push(d.as_secs_f64() * 1000.0);
        }
        if let Some(d) = s.backlog_after {
            caught.push(d.as_secs_f64() * 1000.0);
        }
        attempts.push(s.attempts as f64);
    }
    ready.sort_by(f64::total_cmp);
    caught.sort_by(f64::total_cmp);
    attempts.sort_by(f64::total_cmp);
    let missed_per_stream: Vec<i64> = backlog.clone();
    let out = json!({
        "backend": a.label,
        "streams": a.streams,
        "threads": a.threads,
        "rate": a.rate,
        "opened_in_s": round(open_secs, 1),
        "acknowledged_before_kill": acked_at_kill,
        "posts_failed": w.failed.load(Ordering::SeqCst),
        "posts_acknowledged": w.acked.load(Ordering::SeqCst),
        "restart_s": round(restart_secs, 2),
        "backlog_last_seq_per_thread": missed_per_stream,
        "final_last_seq_per_thread": finals,
        "recovery": {
            "all_back_s": secs(all_back),
            "all_backlog_s": secs(all_backlog),
            "writer_stopped_s": secs(writer_stopped),
            "all_complete_s": if completed { json!(secs(all_complete)) } else { Value::Null },
            "back_p50_ms": round(percentile(&ready, 50.0), 0),
            "back_p99_ms": round(percentile(&ready, 99.0), 0),
            "backlog_p50_ms": round(percentile(&caught, 50.0), 0),
            "backlog_p99_ms": round(percentile(&caught, 99.0), 0),
            "connect_attempts_p50": percentile(&attempts, 50.0),
            "connect_attempts_max": attempts.last().copied().unwrap_or(0.0),
        },
        "server": {
            "rss_mib_before_kill": round(before_kill.rss_mib, 1),
            "peak_rss_mib_before_kill": round(peak_before_kill, 1),
            "restarted_rss_mib_at_release": round(stats0.rss_mib, 1),
            "restarted_peak_rss_mib": round(stats_end.peak_rss_mib, 1),
            "restarted_cpu_s_start_to_release": round(stats0.cpu_secs, 2),
            "cpu_s_release_to_all_back": round(stats_back.cpu_secs - stats0.cpu_secs, 2),
            "cpu_s_release_to_all_backlog": round(stats_backlog.cpu_secs - stats0.cpu_secs, 2),
            "cpu_s_release_to_end": round(stats_end.cpu_secs - stats0.cpu_secs, 2),
            "machine_busy_cores_during": round((busy1 - busy0) / storm_secs, 2),
            "storm_s": round(storm_secs, 1),
        },
        "streams_exact": exact,
        "streams_with_problems": a.streams - exact,
        "problems": problems,
    });
    println!("{out}");
    if exact != a.streams {
        eprintln!("{} streams missed or repeated events", a.streams - exact);
        std::process::exit(1);
    }
    Ok(())
}
