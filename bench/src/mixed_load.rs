//! `mixed-load`: mixed traffic at a fixed arrival rate against a running
//! server, for `bench/load.sh`.
//!
//! ```text
//! mixed-load seed --url URL --admin-login L --admin-password P --firms 10 --tag T --out setup.json
//! mixed-load run  --url URL --setup setup.json --queries urls.txt --ids ids.txt \
//!                 --rate R --duration S [--bare] --label L --pid PID --out step.json
//! ```
//!
//! `seed` registers and verifies firms in the existing communities (one
//! listing each) and opens a thread between each firm and the next, all
//! through the API, and writes their accounts and ids to a JSON file.
//!
//! `run` signs every account in, then sends requests on a fixed schedule
//! (open loop, see `zhiqilian_bench::load`): by default search 60 %,
//! listing reads 20 %, matches 10 %, new listings by the seeded firms 5 %,
//! chat messages in their threads 5 %, drawn from a seeded stream; with
//! `--bare`, `GET /healthz` only. Latency runs from each request's scheduled
//! time. Writes one JSON report (counts by status, latency per route and
//! overall, per second, CPU of the server, of this process and of the rest
//! of the machine) and prints a one-line summary on stderr.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use zhiqilian_bench::api::{Api, Res};
use zhiqilian_bench::load::{Latency, Mix, Outcome, Record, Schedule, run_open_loop};
use zhiqilian_bench::rng::Rng;
use zhiqilian_bench::{Config, Generator};

#[derive(Debug, Parser)]
#[command(
    name = "mixed-load",
    about = "Open-loop mixed traffic for bench/load.sh"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Creates the firms, listings and threads the load uses.
    Seed(SeedArgs),
    /// One load step at a fixed arrival rate.
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
struct SeedArgs {
    /// Base URL of the server, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    url: String,
    /// A platform admin's login and password.
    #[arg(long)]
    admin_login: String,
    #[arg(long)]
    admin_password: String,
    /// Firms to register (at least 2).
    #[arg(long, default_value_t = 10)]
    firms: usize,
    /// Makes logins and tax codes unique for this run (the data folder may be reused).
    #[arg(long)]
    tag: String,
    /// Where the accounts and ids go (JSON).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    #[arg(long)]
    url: String,
    /// The file `seed` wrote.
    #[arg(long)]
    setup: PathBuf,
    /// Search URLs, one a line (bench/queries.py).
    #[arg(long)]
    queries: Option<PathBuf>,
    /// Listing ids, one a line (the first column of a TSV is taken).
    #[arg(long)]
    ids: Option<PathBuf>,
    /// Matches are asked for the first this many ids.
    #[arg(long, default_value_t = 500)]
    matches_ids: usize,
    /// Requests a second.
    #[arg(long)]
    rate: f64,
    /// Seconds of scheduled sends.
    #[arg(long)]
    duration: f64,
    /// GET /healthz only (the bare endpoint).
    #[arg(long)]
    bare: bool,
    /// Weights of search, read, matches, write, message.
    #[arg(long, default_value = "60,20,10,5,5")]
    mix: String,
    /// The most requests out at once; a due request beyond it is not sent
    /// and counts as an error ("unsent").
    #[arg(long, default_value_t = 1000)]
    max_outstanding: usize,
    /// Seconds before a request counts as timed out.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Name of the step (also part of message ids).
    #[arg(long)]
    label: String,
    /// The server's process id, for its CPU.
    #[arg(long)]
    pid: Option<u32>,
    /// A step holds with no errors and p99 at most this (ms).
    #[arg(long, default_value_t = 50.0)]
    p99_target: f64,
    #[arg(long)]
    out: PathBuf,
}

const ROUTES: [&str; 5] = ["search", "read", "matches", "write", "message"];
const SEARCH: usize = 0;
const READ: usize = 1;
const MATCHES: usize = 2;
const WRITE: usize = 3;
const MESSAGE: usize = 4;

const FIRM_PASSWORD: &str = "bench-Load-Passw0rd";

// ---------------------------------------------------------------- API calls

fn api(base: &str) -> Res<Api> {
    Ok(Api::new(
        base,
        reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(120))
            .build()?,
    ))
}

fn id_of(v: &Value, what: &str) -> Res<String> {
    Ok(v["id"]
        .as_str()
        .ok_or_else(|| format!("no id in the {what}: {v}"))?
        .to_string())
}

/// New listings as a firm would post them: generated lines without the
/// fields the server takes from the poster (key, firm, community; the
/// location defaults to the firm's address).
struct Listings(Generator, Vec<u8>);

impl Listings {
    fn new(seed: u64) -> Listings {
        let cfg = Config {
            count: u64::MAX,
            seed,
            ..Config::default()
        };
        Listings(Generator::new(&cfg), Vec::new())
    }

    fn next(&mut self) -> Value {
        self.1.clear();
        self.0.next_line(&mut self.1);
        let mut v: Value = serde_json::from_slice(&self.1).unwrap_or(Value::Null);
        if let Some(o) = v.as_object_mut() {
            for k in ["key", "firm", "community", "location"] {
                o.remove(k);
            }
        }
        v
    }
}

// ---------------------------------------------------------------- seed

async fn seed(a: SeedArgs) -> Res<()> {
    if a.firms < 2 {
        return Err("--firms must be at least 2".into());
    }
    let api = api(&a.url)?;
    let admin = api.login(&a.admin_login, &a.admin_password).await?;
    let mut communities = api
        .call(reqwest::Method::GET, "/api/v1/communities", None, None)
        .await?["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    communities.sort_by(|x, y| x["name"].as_str().cmp(&y["name"].as_str()));
    if communities.is_empty() {
        return Err("no community: import the listings first".into());
    }
    let tag_seed = a.tag.bytes().fold(1469598103934665603u64, |h, b| {
        (h ^ b as u64).wrapping_mul(1099511628211)
    });
    let mut rng = Rng::new(tag_seed);
    let mut listings = Listings::new(tag_seed);
    let mut firms = Vec::new();
    for i in 0..a.firms {
        let c = &communities[i % communities.len()];
        let community = id_of(c, "community")?;
        let login = format!("load-{}-{i}@bench.example", a.tag);
        let mut registered = None;
        // A tax code already taken (vanishingly rare) is drawn again.
        for _ in 0..5 {
            let uscc = zhiqilian_bench::firms::make_uscc(&mut rng, "330206", false);
            let r = api
                .call(
                    reqwest::Method::POST,
                    "/api/v1/firms/register",
                    None,
                    Some(json!({
                        "name": format!("压测企业{}{i}有限公司", a.tag),
                        "uscc": uscc, "community_id": community,
                        "address": format!("{}{}号厂房", c["name"].as_str().unwrap_or("宁波市北仑区"), i + 1),
                        "lat": c["lat"].as_f64().unwrap_or(29.93),
                        "lon": c["lon"].as_f64().unwrap_or(121.87),
                        "contact_name": "王经理", "contact_phone": "0574-86880000",
                        "admin": { "login": login, "password": FIRM_PASSWORD,
                                   "display_name": format!("联系人{i}") }
                    })),
                )
                .await;
            match r {
                Ok(_) => {
                    let token = api.login(&login, FIRM_PASSWORD).await?;
                    registered = Some(api.my_firm(&token).await?);
                    break;
                }
                Err(e) if e.to_string().contains("uscc_taken") => continue,
                Err(e) => return Err(e),
            }
        }
        let firm = registered.ok_or("no free tax code after 5 draws")?;
        api.call(
            reqwest::Method::POST,
            &format!("/api/v1/firms/{firm}/verify"),
            Some(&admin),
            None,
        )
        .await?;
        let token = api.login(&login, FIRM_PASSWORD).await?;
        let listing = id_of(
            &api.call(
                reqwest::Method::POST,
                "/api/v1/listings",
                Some(&token),
                Some(listings.next()),
            )
            .await?,
            "new listing",
        )?;
        firms.push((firm, login, token, listing, community));
    }
    // Firm i asks firm i + 1 about its listing: both firms talk in the thread.
    let mut threads = Vec::new();
    for i in 0..firms.len() {
        let j = (i + 1) % firms.len();
        let t = api
            .call(
                reqwest::Method::POST,
                "/api/v1/threads",
                Some(&firms[i].2),
                Some(json!({ "listing_id": firms[j].3 })),
            )
            .await?;
        threads.push(json!({ "id": id_of(&t, "thread")?, "firms": [i, j] }));
    }
    let out = json!({
        "tag": a.tag,
        "admin": { "login": a.admin_login, "password": a.admin_password },
        "firms": firms.iter().map(|(id, login, _, listing, community)| json!({
            "id": id, "login": login, "password": FIRM_PASSWORD,
            "listing": listing, "community": community,
        })).collect::<Vec<_>>(),
        "threads": threads,
    });
    std::fs::write(&a.out, serde_json::to_vec_pretty(&out)?)?;
    eprintln!(
        "mixed-load seed: {} firms in {} communities, {} threads",
        firms.len(),
        communities.len().min(firms.len()),
        threads.len()
    );
    Ok(())
}

// ---------------------------------------------------------------- run

/// One request to send.
struct Req {
    route: usize,
    method: reqwest::Method,
    url: String,
    token: Option<Arc<str>>,
    body: Option<Vec<u8>>,
}

fn lines(path: &Option<PathBuf>, what: &str) -> Res<Vec<String>> {
    let path = path
        .as_ref()
        .ok_or_else(|| format!("--{what} is required"))?;
    let text = std::fs::read_to_string(path)?;
    let v: Vec<String> = text
        .lines()
        .filter_map(|l| l.split('\t').next())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if v.is_empty() {
        return Err(format!("{}: empty", path.display()).into());
    }
    Ok(v)
}

/// utime + stime of a process, in clock ticks.
fn proc_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    n(11) + n(12)
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

fn round(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (x * m).round() / m
}

fn latency_json(l: Latency) -> Value {
    json!({
        "count": l.count,
        "p50_ms": round(l.p50, 3), "p90_ms": round(l.p90, 3),
        "p99_ms": round(l.p99, 3), "p999_ms": round(l.p999, 3), "max_ms": round(l.max, 3),
    })
}

/// Counts and latencies of a set of records.
fn figures(rs: &[&Record], secs: f64) -> Value {
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    for r in rs {
        *by_status.entry(r.outcome.key()).or_default() += 1;
    }
    let ok = rs.iter().filter(|r| r.outcome.is_ok()).count();
    let answered = rs.iter().filter(|r| r.outcome != Outcome::Unsent);
    let lat = |f: &dyn Fn(&Record) -> bool| {
        latency_json(Latency::of(rs.iter().filter(|r| f(r)).map(|r| r.latency)))
    };
    json!({
        "scheduled": rs.len(),
        "ok": ok,
        "errors": rs.len() - ok,
        "ok_per_s": round(ok as f64 / secs, 1),
        "by_status": by_status,
        // Every request that was sent, whatever its answer.
        "latency": latency_json(Latency::of(answered.map(|r| r.latency))),
        // Refused at once with 429/503 (shed), and all the others that were sent.
        "shed": lat(&|r| r.outcome.is_shed()),
        "admitted": lat(&|r| !r.outcome.is_shed() && r.outcome != Outcome::Unsent),
        "server_5xx_not_503": rs.iter().filter(|r| matches!(r.outcome, Outcome::Status(s) if s >= 500 && s != 503)).count(),
    })
}

async fn run(a: RunArgs) -> Res<()> {
    let setup: Value = serde_json::from_slice(&std::fs::read(&a.setup)?)?;
    let base = a.url.trim_end_matches('/').to_string();
    let api = api(&base)?;
    if !(a.rate > 0.0 && a.duration > 0.0) {
        return Err("--rate and --duration must be positive".into());
    }

    // Tokens (sign-in costs the server an argon2 hash each: before the clock).
    let mut firm_tokens: Vec<Arc<str>> = Vec::new();
    let mut admin: Option<Arc<str>> = None;
    let (mut queries, mut ids, mut threads) = (Vec::new(), Vec::new(), Vec::new());
    if !a.bare {
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        admin = Some(
            api.login(
                &s(&setup["admin"]["login"]),
                &s(&setup["admin"]["password"]),
            )
            .await?
            .into(),
        );
        for f in setup["firms"].as_array().ok_or("setup: no firms")? {
            firm_tokens.push(api.login(&s(&f["login"]), &s(&f["password"])).await?.into());
        }
        for t in setup["threads"].as_array().ok_or("setup: no threads")? {
            let ends: Vec<usize> = t["firms"]
                .as_array()
                .map(|v| {
                    v.iter()
                        .filter_map(|x| x.as_u64())
                        .map(|x| x as usize)
                        .collect()
                })
                .unwrap_or_default();
            threads.push((s(&t["id"]), ends));
        }
        queries = lines(&a.queries, "queries")?;
        ids = lines(&a.ids, "ids")?;
    }
    let weights: Vec<u32> = a
        .mix
        .split(',')
        .map(|w| w.trim().parse::<u32>())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("--mix: {e}"))?;
    if weights.len() != ROUTES.len() || weights.iter().all(|&w| w == 0) {
        return Err("--mix needs 5 weights, not all zero".into());
    }
    let mix = Mix::new(&weights);
    let route_names: Vec<&str> = if a.bare {
        vec!["healthz"]
    } else {
        ROUTES.to_vec()
    };

    let client = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(a.max_outstanding)
        // Below the server's keep-alive (actix: 5 s), so that no request is
        // sent on a connection the server is closing.
        .pool_idle_timeout(Duration::from_secs(3))
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs_f64(a.timeout))
        .build()?;

    // Open some connections before the clock starts.
    let warm = ((a.rate / 50.0).ceil() as usize).clamp(2, 64);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..warm {
        let (c, u) = (client.clone(), format!("{base}/healthz"));
        set.spawn(async move { c.get(u).send().await.map(|_| ()) });
    }
    while set.join_next().await.is_some() {}

    let mut rng = Rng::new(a.seed);
    let mut listings = Listings::new(a.seed.wrapping_add(1_000_003));
    let matches_n = a.matches_ids.clamp(1, ids.len().max(1));
    let tag = setup["tag"].as_str().unwrap_or("t").to_string();
    const TEXTS: &[&str] = &[
        "您好，这台设备下周还能租吗？",
        "价格能再商量一下吗？我们要得比较多。",
        "明天上午九点过来看现场，方便吗？",
        "可以开13%专票吗？",
        "运费怎么算？我们在北仑大港。",
        "收到，我们内部确认后回复您。",
        "能先发几张照片看看吗？",
        "月结30天可以接受吗？",
    ];
    let pick = |i: u64| -> (usize, Req) {
        if a.bare {
            return (
                0,
                Req {
                    route: 0,
                    method: reqwest::Method::GET,
                    url: format!("{base}/healthz"),
                    token: None,
                    body: None,
                },
            );
        }
        let route = mix.pick(&mut rng);
        let get = |url: String| Req {
            route,
            method: reqwest::Method::GET,
            url,
            token: admin.clone(),
            body: None,
        };
        let req = match route {
            SEARCH => get(queries[rng.below(queries.len())].clone()),
            READ => get(format!(
                "{base}/api/v1/listings/{}",
                ids[rng.below(ids.len())]
            )),
            MATCHES => get(format!(
                "{base}/api/v1/listings/{}/matches?limit=10",
                ids[rng.below(matches_n)]
            )),
            WRITE => Req {
                route,
                method: reqwest::Method::POST,
                url: format!("{base}/api/v1/listings"),
                token: Some(firm_tokens[rng.below(firm_tokens.len())].clone()),
                body: serde_json::to_vec(&listings.next()).ok(),
            },
            MESSAGE => {
                let (thread, ends) = &threads[rng.below(threads.len())];
                let who = ends.get(rng.below(ends.len().max(1))).copied().unwrap_or(0);
                let text = format!("{}（{}）", TEXTS[rng.below(TEXTS.len())], i % 1000);
                Req {
                    route,
                    method: reqwest::Method::POST,
                    url: format!("{base}/api/v1/threads/{thread}/messages"),
                    token: Some(firm_tokens[who.min(firm_tokens.len() - 1)].clone()),
                    body: serde_json::to_vec(&json!({
                        "client_msg_id": format!("{tag}-{}-{i}", a.label),
                        "text": text,
                    }))
                    .ok(),
                }
            }
            _ => unreachable!("the mix has five routes"),
        };
        (route, req)
    };

    // The first few unexpected answers, for the log.
    let samples: Arc<Mutex<Vec<String>>> = Arc::default();
    let samples2 = samples.clone();
    let send = move |r: Req| {
        let (client, samples) = (client.clone(), samples2.clone());
        async move {
            let mut b = client.request(r.method, &r.url);
            if let Some(t) = &r.token {
                b = b.bearer_auth(t);
            }
            if let Some(body) = r.body {
                b = b.header("content-type", "application/json").body(body);
            }
            match b.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    match resp.bytes().await {
                        Ok(body) => {
                            let o = Outcome::Status(status);
                            if !o.is_ok() && !o.is_shed() {
                                let mut s = samples.lock().unwrap_or_else(|e| e.into_inner());
                                if s.len() < 10 {
                                    let text = String::from_utf8_lossy(&body);
                                    s.push(format!(
                                        "{} {status} {}: {}",
                                        ROUTES.get(r.route).unwrap_or(&"?"),
                                        r.url,
                                        text.chars().take(300).collect::<String>()
                                    ));
                                }
                            }
                            o
                        }
                        Err(e) if e.is_timeout() => Outcome::Timeout,
                        Err(_) => Outcome::Failed,
                    }
                }
                Err(e) if e.is_timeout() => Outcome::Timeout,
                Err(_) => Outcome::Failed,
            }
        }
    };

    let schedule = Schedule::new(a.rate, a.duration);
    let me = std::process::id();
    let (srv0, own0, busy0) = (a.pid.map(proc_ticks), proc_ticks(me), machine_busy());
    let t0 = Instant::now();
    let records = run_open_loop(schedule, a.max_outstanding, pick, send).await;
    let wall = t0.elapsed().as_secs_f64();
    let (srv1, own1, busy1) = (a.pid.map(proc_ticks), proc_ticks(me), machine_busy());

    let tick = 100.0; // USER_HZ on Linux
    let own = (own1 - own0) as f64 / tick / wall;
    let busy = busy1.saturating_sub(busy0) as f64 / tick / wall;
    let srv = match (srv0, srv1) {
        (Some(x), Some(y)) => Some(y.saturating_sub(x) as f64 / tick),
        _ => None,
    };
    let all: Vec<&Record> = records.iter().collect();
    let overall = figures(&all, a.duration);
    let ok = overall["ok"].as_u64().unwrap_or(0);
    let errors = overall["errors"].as_u64().unwrap_or(0);
    let p99 = overall["latency"]["p99_ms"].as_f64().unwrap_or(f64::MAX);
    let held = errors == 0 && p99 <= a.p99_target;
    let mut routes = serde_json::Map::new();
    for (i, name) in route_names.iter().enumerate() {
        let rs: Vec<&Record> = records.iter().filter(|r| r.route == i).collect();
        routes.insert(name.to_string(), figures(&rs, a.duration));
    }
    // Second by second (of the scheduled time): how the step went along.
    let secs = a.duration.ceil() as usize;
    let mut buckets: Vec<Vec<&Record>> = vec![Vec::new(); secs];
    for r in &records {
        if let Some(b) = buckets.get_mut(r.due.as_secs() as usize) {
            b.push(r);
        }
    }
    let mut per_second = Vec::with_capacity(secs);
    for (s, rs) in buckets.iter().enumerate() {
        let l = Latency::of(
            rs.iter()
                .filter(|r| r.outcome != Outcome::Unsent)
                .map(|r| r.latency),
        );
        per_second.push(json!({
            "s": s,
            "scheduled": rs.len(),
            "ok": rs.iter().filter(|r| r.outcome.is_ok()).count(),
            "shed": rs.iter().filter(|r| r.outcome.is_shed()).count(),
            "errors": rs.iter().filter(|r| !r.outcome.is_ok()).count(),
            "p50_ms": round(l.p50, 2),
            "p99_ms": round(l.p99, 2),
        }));
    }
    let server_cores = srv.map(|s| s / wall);
    let report = json!({
        "label": a.label,
        "mode": if a.bare { "bare" } else { "mixed" },
        "offered_rate": a.rate,
        "duration_s": a.duration,
        "mix": if a.bare { Value::Null } else { json!(route_names.iter().zip(&weights).map(|(n, w)| (n.to_string(), *w)).collect::<BTreeMap<_, _>>()) },
        "achieved_ok_per_s": round(ok as f64 / a.duration, 1),
        "held": held,
        "p99_target_ms": a.p99_target,
        "overall": overall,
        "routes": routes,
        "per_second": per_second,
        "cpu": {
            "wall_s": round(wall, 2),
            "server_cores": server_cores.map(|c| round(c, 3)),
            "server_ms_per_ok": srv.filter(|_| ok > 0).map(|s| round(s * 1000.0 / ok as f64, 3)),
            "loadgen_cores": round(own, 3),
            "other_cores": round((busy - own - server_cores.unwrap_or(0.0)).max(0.0), 3),
        },
        "max_outstanding": a.max_outstanding,
        "timeout_s": a.timeout,
        "unexpected_answers": *samples.lock().unwrap_or_else(|e| e.into_inner()),
    });
    std::fs::write(&a.out, serde_json::to_vec_pretty(&report)?)?;
    let shed = report["overall"]["shed"]["count"].as_u64().unwrap_or(0);
    eprintln!(
        "{:<18} {:>7} req/s: ok {:>7.1}/s, p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms, errors {} (shed {}), server {} cores, {} ms/req, load generator {:.2}, other {:.2} -> held: {}",
        a.label,
        a.rate,
        ok as f64 / a.duration,
        report["overall"]["latency"]["p50_ms"]
            .as_f64()
            .unwrap_or(0.0),
        p99,
        report["overall"]["latency"]["max_ms"]
            .as_f64()
            .unwrap_or(0.0),
        errors,
        shed,
        server_cores.map_or("-".into(), |c| format!("{c:.2}")),
        report["cpu"]["server_ms_per_ok"]
            .as_f64()
            .map_or("-".into(), |c| format!("{c:.3}")),
        own,
        report["cpu"]["other_cores"].as_f64().unwrap_or(0.0),
        if held { "yes" } else { "no" },
    );
    Ok(())
}

fn main() -> Res<()> {
    let cli = Cli::parse();
    // One runtime, two workers: the machine's cores are shared with the server.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        match cli.cmd {
            Cmd::Seed(a) => seed(a).await,
            Cmd::Run(a) => run(a).await,
        }
    })
}
