//! `crash-bench`: crash safety at scale, for `bench/crash.sh`.
//!
//! Starts `zhiqilian serve` on a data folder and database, sets up firms,
//! staff and a thread through the API, then for each trial runs the mixed
//! write traffic of `zhiqilian_bench::crash`, kills the server with SIGKILL
//! at a random moment, starts it again and checks that every write it
//! acknowledged is there as sent, message seqs are gapless, and search and
//! matching caught up. Then once more with `zhiqilian import` killed in its
//! middle (and the server with it; the import is then run again to its
//! end), and once with `zhiqilian reindex` killed while it writes the new
//! index, before the server starts again.
//!
//! Prints one JSON object with the figures on stdout; progress on stderr.
//! Exits 1 when anything acknowledged was lost.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::json;
use zhiqilian_bench::api::{Api, Res};
use zhiqilian_bench::crash::{self, Acked, Check, Logins};

#[derive(Debug, Clone, Parser)]
#[command(
    name = "crash-bench",
    about = "SIGKILL trials under mixed write traffic"
)]
struct Args {
    /// The `zhiqilian` binary.
    #[arg(long)]
    bin: PathBuf,
    /// Data folder (SQLite database unless --database-url, search index).
    #[arg(long)]
    data_dir: PathBuf,
    /// PostgreSQL URL (default: SQLite in the data folder).
    #[arg(long)]
    database_url: Option<String>,
    /// Kills under traffic.
    #[arg(long, default_value_t = 20)]
    trials: usize,
    /// A JSONL file for the import trial (none: no import trial).
    #[arg(long)]
    import_file: Option<PathBuf>,
    /// Skip the reindex trial.
    #[arg(long)]
    no_reindex: bool,
    /// Listings and messages acknowledged in a trial before its kill.
    #[arg(long, default_value_t = 30)]
    listings: usize,
    #[arg(long, default_value_t = 10)]
    messages: usize,
    /// Seconds search and matching get to catch up after a restart.
    #[arg(long, default_value_t = 90)]
    catch_up: u64,
    /// Name of the backend in the output.
    #[arg(long, default_value = "sqlite")]
    label: String,
    /// Disk-full run instead of kills: fill the filesystem of this folder
    /// (a small tmpfs) mid-traffic, hold it full, then free it.
    #[arg(long)]
    fill: Option<PathBuf>,
    /// Seconds the disk stays full.
    #[arg(long, default_value_t = 10)]
    full_secs: u64,
}

const SECRET: &str = "crash-bench-secret-0123456789abcdef0123456789";
const ADMIN: &str = "crash-admin@park.example";
const ADMIN_PASSWORD: &str = "crash-Admin-Passw0rd";

/// `zhiqilian` with the run's data folder, database and secret.
fn command(a: &Args) -> Command {
    let mut c = Command::new(&a.bin);
    c.env("ZQL_DATA_DIR", &a.data_dir)
        .env("ZQL_JWT_SECRET", SECRET)
        .env("ZQL_LOG", "info")
        .env_remove("ZQL_CONFIG")
        .stdin(Stdio::null());
    match &a.database_url {
        Some(u) => c.env("ZQL_DATABASE_URL", u),
        None => c.env_remove("ZQL_DATABASE_URL"),
    };
    c
}

/// A running `zhiqilian serve` and the tail of its log.
struct Server {
    child: Child,
    address: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(a: &Args) -> Res<Server> {
        let mut c = command(a);
        c.arg("serve")
            .env("ZQL_BIND", "127.0.0.1:0")
            .env("ZQL_WORKERS", "2")
            // One address stands in for every client.
            .env("ZQL_RATE_LIMIT_IP_PER_MINUTE", "10000000")
            .env("ZQL_RATE_LIMIT_AUTH_PER_MINUTE", "10000000")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = c.spawn()?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let (tx, rx) = std::sync::mpsc::channel();
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = log.clone();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("serving on http://").nth(1) {
                    let addr: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                        .collect();
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(addr);
                    }
                }
                if let Ok(mut l) = lines.lock() {
                    if l.len() >= 100 {
                        l.remove(0);
                    }
                    l.push(line);
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(addr) => Ok(Server {
                child,
                address: format!("http://{addr}"),
                log,
            }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!(
                    "the server did not start; log:\n{}",
                    log.lock().map(|l| l.join("\n")).unwrap_or_default()
                )
                .into())
            }
        }
    }

    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn log_tail(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A number in lo..hi, different on every call and run.
fn random(lo: i64, hi: i64) -> i64 {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    zhiqilian_bench::rng::Rng::new(t ^ (n << 32)).int(lo, hi - 1)
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

struct Run {
    args: Args,
    http: reqwest::Client,
    logins: Logins,
    acked: Arc<Mutex<Acked>>,
    server: Server,
    restart_secs: Vec<f64>,
    caught_up_secs: Vec<f64>,
    problems: Vec<String>,
    last: Check,
    trial: usize,
}

impl Run {
    fn api(&self) -> Api {
        Api::new(&self.server.address, self.http.clone())
    }

    /// Traffic until enough is acknowledged, then `during` (which kills
    /// what it wants; the server is killed after it), then a restart.
    async fn trial<F, Fut>(&mut self, kind: &str, during: F) -> Res<serde_json::Value>
    where
        F: FnOnce(Args, Api, String) -> Fut,
        Fut: std::future::Future<Output = Res<serde_json::Value>>,
    {
        self.trial += 1;
        let who = self.logins.sign_in(&self.api()).await?;
        let (before, cut0) = {
            let a = self.acked.lock().expect("acked");
            ((a.listings.len(), a.messages.len()), a.cut)
        };
        let traffic = crash::start(&self.server.address, &who, self.trial, &self.acked);
        let want = (self.args.listings, self.args.messages);
        if !crash::wait_acked(&self.acked, before, want, Duration::from_secs(60)).await {
            traffic.stop().await;
            return Err(format!(
                "trial {}: too few writes acknowledged in 60 s; log:\n{}",
                self.trial,
                self.server.log_tail()
            )
            .into());
        }
        let pause = random(0, 300) as u64;
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let mut extra = during(self.args.clone(), self.api(), who.admin.clone()).await?;
        self.server.kill9();
        traffic.stop().await;
        let killed = Instant::now();
        if kind == "reindex" {
            let (r, problems) = reindex_killed(&self.args).await?;
            self.problems.extend(problems);
            extra = r;
        }
        self.server = Server::start(&self.args)?;
        let restart = killed.elapsed().as_secs_f64();
        let a = self.acked.lock().expect("acked").clone();
        let who = self.logins.sign_in(&self.api()).await?;
        let check = crash::check(
            &self.api(),
            &who,
            &a,
            // After the import, matching first works through the listings
            // its re-run created before it reaches this trial's.
            Duration::from_secs(self.args.catch_up * if kind == "reindex" { 5 } else { 1 }),
            // After a killed import, matching first works through what it
            // committed: checked after the import's re-run, with more time.
            kind != "import",
        )
        .await?;
        if !check.is_clean() {
            self.problems.push(format!(
                "trial {} ({kind}):\n{}",
                self.trial,
                check.problems()
            ));
        }
        let refused: Vec<String> = a.refused.iter().take(5).cloned().collect();
        if !a.refused.is_empty() {
            self.problems.push(format!(
                "trial {}: {} writes refused, e.g. {refused:?}",
                self.trial,
                a.refused.len()
            ));
        }
        eprintln!(
            "{} trial {:>2} ({kind}): {} writes acknowledged so far, lost {}, {} cut in flight by this kill, restart {:.1}s, caught up {:.1}s{}",
            self.args.label,
            self.trial,
            a.writes(),
            check.lost(),
            a.cut - cut0,
            restart,
            check.caught_up_secs,
            if check.is_clean() {
                ""
            } else {
                " — PROBLEMS"
            },
        );
        self.restart_secs.push(restart);
        self.caught_up_secs.push(check.caught_up_secs);
        self.last = check;
        Ok(extra)
    }
}

/// Runs `zhiqilian reindex` (the server is down) and kills it part-way:
/// a random 0–1.5 s after it began building the new index (`index.new`).
/// (what happened, problems).
async fn reindex_killed(a: &Args) -> Res<(serde_json::Value, Vec<String>)> {
    let mut c = command(a);
    c.arg("reindex")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let fresh = a.data_dir.join("index.new");
    let _ = std::fs::remove_dir_all(&fresh);
    let mut child = c.spawn()?;
    let started = Instant::now();
    let mut building = None;
    while started.elapsed() < Duration::from_secs(120) {
        if child.try_wait()?.is_some() {
            break;
        }
        if fresh.exists() {
            building = Some(started.elapsed().as_millis() as u64);
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let wait = random(0, 1500) as u64;
    tokio::time::sleep(Duration::from_millis(wait)).await;
    let finished = child.try_wait()?.is_some();
    let _ = child.kill();
    let out = child.wait_with_output()?;
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    let killed_after = started.elapsed().as_millis() as u64;
    let mut problems = Vec::new();
    if finished || said.contains("reindexed") || building.is_none() {
        problems.push(format!(
            "reindex not killed while building (building from {building:?} ms, finished: {finished}): {}",
            said.trim()
        ));
    }
    eprintln!(
        "{}: reindex killed after {killed_after} ms, {wait} ms into building the new index (finished before: {finished})",
        a.label
    );
    Ok((
        json!({
            "killed_after_ms": killed_after, "building_since_ms": building,
            "killed_into_build_ms": wait, "finished_before_kill": finished,
        }),
        problems,
    ))
}

/// Parses the import's summary line: (lines, failed).
fn import_summary(out: &str) -> Option<(u64, u64)> {
    let line = out.lines().find(|l| l.contains(" lines: "))?;
    let lines = line.split(" lines: ").next()?.trim().parse().ok()?;
    let failed = line
        .split(", ")
        .find(|p| p.ends_with(" failed;") || p.contains(" failed"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some((lines, failed))
}

async fn run(args: Args) -> Res<serde_json::Value> {
    std::fs::create_dir_all(&args.data_dir)?;
    create_admin(&args)?;
    if args.fill.is_some() {
        return disk_full(args).await;
    }
    let server = Server::start(&args)?;
    let http = crash::client();
    let logins = crash::setup(
        &Api::new(&server.address, http.clone()),
        ADMIN,
        ADMIN_PASSWORD,
    )
    .await?;
    let mut run = Run {
        args,
        http,
        logins,
        acked: Arc::new(Mutex::new(Acked::default())),
        server,
        restart_secs: Vec::new(),
        caught_up_secs: Vec::new(),
        problems: Vec::new(),
        last: Check::default(),
        trial: 0,
    };
    let started = Instant::now();
    for _ in 0..run.args.trials {
        run.trial("serve", |_, _, _| async { Ok(json!(null)) })
            .await?;
    }
    let mut import = json!(null);
    if let Some(file) = run.args.import_file.clone() {
        let lines = std::fs::read_to_string(&file)?.lines().count();
        let before = run.last.listings_total;
        let acked_before = run.acked.lock().expect("acked").listings.len();
        let to_import = file.clone();
        import = run
            .trial("import", move |a, api, admin| async move {
                let file = to_import;
                // Searchable listings now, then the kill once the import has
                // committed a random share (10–60 %) of its lines.
                let searchable = |api: Api, admin: String| async move {
                    let v = api
                        .call(reqwest::Method::GET, "/api/v1/listings/search?limit=1", Some(&admin), None)
                        .await?;
                    Res::Ok(v["total"].as_u64().unwrap_or(0))
                };
                let base = searchable(api.clone(), admin.clone()).await?;
                let share = random(100, 600) as f64 / 1000.0;
                let target = base + (lines as f64 * share) as u64;
                let mut c = command(&a);
                c.arg("import")
                    .arg(&file)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null());
                let mut child = c.spawn()?;
                let started = Instant::now();
                let mut finished = false;
                while started.elapsed() < Duration::from_secs(300) {
                    if child.try_wait()?.is_some() {
                        finished = true;
                        break;
                    }
                    if searchable(api.clone(), admin.clone()).await? >= target {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                let _ = child.kill();
                let _ = child.wait();
                let wait = started.elapsed().as_millis() as u64;
                let seen = searchable(api, admin).await?.saturating_sub(base);
                eprintln!(
                    "{}: import of {lines} lines killed after {wait} ms, {seen} of them searchable (finished before: {finished})",
                    a.label
                );
                Ok(json!({
                    "lines": lines, "killed_after_ms": wait, "finished_before_kill": finished,
                    "searchable_at_kill": seen,
                }))
            })
            .await?;
        let after_kill = run.last.listings_total;
        // Run again to its end: idempotent on each line's key.
        let out = command(&run.args)
            .arg("import")
            .arg(&file)
            .stderr(Stdio::null())
            .output()?;
        let said = String::from_utf8_lossy(&out.stdout).to_string();
        let (seen, failed) =
            import_summary(&said).ok_or(format!("no import summary in: {said}"))?;
        let who = run.logins.sign_in(&run.api()).await?;
        let a = run.acked.lock().expect("acked").clone();
        // Matching works through the whole import before it reaches the
        // traffic's later listings: more time.
        let check = crash::check(
            &run.api(),
            &who,
            &a,
            Duration::from_secs(run.args.catch_up * 5),
            true,
        )
        .await?;
        let acked_in_trial = run.acked.lock().expect("acked").listings.len() - acked_before;
        // Less the traffic's own listings (those cut in flight may have
        // committed too, hence "about").
        let committed_at_kill = after_kill.saturating_sub(before + acked_in_trial);
        if failed != 0 || seen as usize != lines {
            run.problems.push(format!("import re-run: {}", said.trim()));
        }
        if !check.is_clean() {
            run.problems
                .push(format!("after the import re-run:\n{}", check.problems()));
        }
        if import["finished_before_kill"] == true {
            run.problems
                .push("the import finished before its kill".into());
        }
        import["listings_before"] = json!(before);
        import["listings_after_kill"] = json!(after_kill);
        import["listings_after_rerun"] = json!(check.listings_total);
        import["rerun"] = json!(said.lines().next().unwrap_or_default());
        import["committed_by_killed_import_approx"] = json!(committed_at_kill);
        run.last = check;
    }
    let mut reindex = json!(null);
    if !run.args.no_reindex {
        reindex = run
            .trial("reindex", |_, _, _| async { Ok(json!({})) })
            .await?;
        reindex["searchable_after_restart"] = json!(run.last.not_searchable.is_empty());
    }
    let a = run.acked.lock().expect("acked").clone();
    let lost = run.last.lost();
    Ok(json!({
        "backend": run.args.label,
        "trials": run.trial,
        "kills_of_serve_under_traffic": run.args.trials,
        "acknowledged_writes": a.writes(),
        "acknowledged": {
            "listings": a.listings.len(), "messages": a.messages.len(),
            "match_statuses": a.matches.len(), "case_actions": a.cases.len(),
            "status_changes": a.status_changes,
        },
        "lost_writes": lost,
        "cut_in_flight": a.cut,
        "throttled": a.throttled,
        "restart_secs_median": round2(median(run.restart_secs.clone())),
        "caught_up_secs_median": round2(median(run.caught_up_secs.clone())),
        "caught_up_secs_max": round2(run.caught_up_secs.iter().cloned().fold(0.0, f64::max)),
        "import": import,
        "reindex": reindex,
        "problems": run.problems,
        "seconds": round2(started.elapsed().as_secs_f64()),
    }))
}

/// A platform admin for the run.
fn create_admin(args: &Args) -> Res<()> {
    let mut admin = command(args);
    admin
        .args(["admin", "create", "--login", ADMIN, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null());
    let mut child = admin.spawn()?;
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().ok_or("stdin")?;
        writeln!(stdin, "{ADMIN_PASSWORD}")?;
    }
    if !child.wait()?.success() {
        return Err("zhiqilian admin create failed".into());
    }
    Ok(())
}

/// Fills the filesystem of `dir` with one file until it is full; its size.
fn fill_up(file: &std::path::Path) -> Res<u64> {
    use std::io::Write;
    let mut f = std::fs::File::create(file)?;
    let chunk = vec![0u8; 1 << 16];
    let mut n = 0u64;
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(k) => n += k as u64,
            Err(_) => break,
        }
    }
    // What the page cache took may still fail at sync: the disk is full.
    let _ = f.sync_all();
    Ok(n)
}

/// The problem code of a refused answer ("… → 503 Service Unavailable:
/// {json}").
fn code_of(refused: &str) -> String {
    let status = refused
        .split(" → ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or("?");
    let code = refused
        .split_once(": {")
        .and_then(|(_, j)| serde_json::from_str::<serde_json::Value>(&format!("{{{j}")).ok())
        .and_then(|v| v["code"].as_str().map(String::from))
        .unwrap_or_else(|| "-".into());
    format!("{status} {code}")
}

/// The disk-full run: traffic, the filesystem of `--fill` filled up and
/// held full while reads are probed, then freed; the server must answer
/// writes 503 `storage_full` (never another 5xx), keep serving reads, lose
/// nothing acknowledged and recover by itself.
async fn disk_full(args: Args) -> Res<serde_json::Value> {
    let fill_dir = args.fill.clone().ok_or("--fill")?;
    let mut server = Server::start(&args)?;
    let http = crash::client();
    let api = Api::new(&server.address, http.clone());
    let logins = crash::setup(&api, ADMIN, ADMIN_PASSWORD).await?;
    let who = logins.sign_in(&api).await?;
    let acked = Arc::new(Mutex::new(Acked::default()));
    let traffic = crash::start(&server.address, &who, 1, &acked);
    if !crash::wait_acked(
        &acked,
        (0, 0),
        (args.listings, args.messages),
        Duration::from_secs(60),
    )
    .await
    {
        traffic.stop().await;
        return Err(format!("too few writes acknowledged; log:\n{}", server.log_tail()).into());
    }
    let snapshot = |a: &Acked| (a.writes(), a.refused.len());
    let (w0, r0) = snapshot(&acked.lock().expect("acked"));
    let filler = fill_dir.join("zql-filler");
    let filled = fill_up(&filler)?;
    eprintln!(
        "{}: filled {} with {} MiB",
        args.label,
        fill_dir.display(),
        filled >> 20
    );
    let full_since = Instant::now();
    let (mut reads_ok, mut reads_failed, mut read_errors) = (0u32, 0u32, Vec::new());
    while full_since.elapsed() < Duration::from_secs(args.full_secs) {
        for path in [
            "/api/v1/listings?limit=20".to_string(),
            format!("/api/v1/listings/search?q={}&limit=20", crash::MARK),
            format!("/api/v1/threads/{}/messages?limit=50", who.thread),
        ] {
            match api
                .call(reqwest::Method::GET, &path, Some(&who.firms[0]), None)
                .await
            {
                Ok(_) => reads_ok += 1,
                Err(e) => {
                    reads_failed += 1;
                    if read_errors.len() < 5 {
                        read_errors.push(e.to_string());
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (w1, r1) = snapshot(&acked.lock().expect("acked"));
    let refused_while_full: Vec<String> = acked.lock().expect("acked").refused[r0..r1].to_vec();
    std::fs::remove_file(&filler)?;
    let freed = Instant::now();
    // Recovered once a write is acknowledged after the space was freed.
    let mut recovered = None;
    while freed.elapsed() < Duration::from_secs(120) {
        let w = acked.lock().expect("acked").writes();
        if w > w1 + 5 {
            recovered = Some(freed.elapsed().as_secs_f64());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    traffic.stop().await;
    let alive = server.child.try_wait()?.is_none();
    let a = acked.lock().expect("acked").clone();
    let check = crash::check(&api, &who, &a, Duration::from_secs(args.catch_up), true).await?;
    let mut codes: std::collections::BTreeMap<String, usize> = Default::default();
    for r in &refused_while_full {
        *codes.entry(code_of(r)).or_default() += 1;
    }
    let mut problems = Vec::new();
    let other: Vec<&String> = a
        .refused
        .iter()
        .filter(|r| !code_of(r).starts_with("503 storage_full"))
        .take(5)
        .collect();
    if !other.is_empty() {
        problems.push(format!(
            "answers other than 2xx or 503 storage_full: {other:?}"
        ));
    }
    if !check.is_clean() {
        problems.push(check.problems());
    }
    if recovered.is_none() {
        problems.push("writes did not recover within 120 s of freeing the space".into());
    }
    if !alive {
        problems.push("the server process died".into());
    }
    if reads_failed > 0 {
        problems.push(format!(
            "{reads_failed} reads failed while full: {read_errors:?}"
        ));
    }
    let log = server.log_tail();
    server.kill9();
    Ok(json!({
        "backend": args.label,
        "filled_mib": filled >> 20,
        "full_secs": args.full_secs,
        "writes_acknowledged_before_full": w0,
        "writes_acknowledged_while_full": w1 - w0,
        "refused_while_full": codes,
        "reads_while_full": { "ok": reads_ok, "failed": reads_failed },
        "recovered_secs_after_freeing": recovered.map(round2),
        "acknowledged_writes": a.writes(),
        "lost_writes": check.lost(),
        "search_and_matching_caught_up_secs": round2(check.caught_up_secs),
        "server_alive": alive,
        "problems": problems,
        "log_tail": log.lines().rev().take(8).collect::<Vec<_>>(),
    }))
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    match run(args).await {
        Ok(v) => {
            println!("{v}");
            let clean =
                v["lost_writes"] == 0 && v["problems"].as_array().is_some_and(|p| p.is_empty());
            std::process::exit(if clean { 0 } else { 1 });
        }
        Err(e) => {
            eprintln!("crash-bench: {e}");
            std::process::exit(2);
        }
    }
}
