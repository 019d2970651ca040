//! `zhiqilian serve` as a child process of a benchmark (the cross-node and
//! reconnect-storm benchmarks start, kill and restart their own servers),
//! and the figures read from `/proc` about it.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::api::Res;

/// How to start a node: binary, data folder, database and extra `ZQL_*`.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    pub bin: PathBuf,
    pub data_dir: PathBuf,
    /// PostgreSQL URL; `None`: SQLite in the data folder.
    pub database_url: Option<String>,
    pub secret: String,
    pub env: Vec<(String, String)>,
}

impl NodeSpec {
    /// `zhiqilian` with this node's data folder, database and secret.
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.env("ZQL_DATA_DIR", &self.data_dir)
            .env("ZQL_JWT_SECRET", &self.secret)
            .env("ZQL_LOG", "warn")
            .env_remove("ZQL_CONFIG")
            .stdin(Stdio::null());
        match &self.database_url {
            Some(u) => c.env("ZQL_DATABASE_URL", u),
            None => c.env_remove("ZQL_DATABASE_URL"),
        };
        c
    }

    /// `zhiqilian admin create` of a platform admin.
    pub fn create_admin(&self, login: &str, password: &str) -> Res<()> {
        let mut child = self
            .command()
            .args(["admin", "create", "--login", login, "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()?;
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().ok_or("no stdin")?;
            writeln!(stdin, "{password}")?;
        }
        if !child.wait()?.success() {
            return Err("zhiqilian admin create failed".into());
        }
        Ok(())
    }
}

/// A running `zhiqilian serve` and the tail of its log.
pub struct Node {
    child: Child,
    pub address: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Node {
    /// Starts `serve` on a free loopback port (one address stands in for
    /// every client, so the per-address and per-firm allowances are
    /// lifted) and waits until it reports its address.
    pub fn start(spec: &NodeSpec) -> Res<Node> {
        let mut c = spec.command();
        c.arg("serve")
            .env("ZQL_BIND", "127.0.0.1:0")
            .env("ZQL_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for k in [
            "ZQL_RATE_LIMIT_IP_PER_MINUTE",
            "ZQL_RATE_LIMIT_AUTH_PER_MINUTE",
            "ZQL_LISTING_LIMIT_PER_FIRM_PER_HOUR",
            "ZQL_LISTING_LIMIT_PER_USER_PER_HOUR",
            "ZQL_MESSAGE_LIMIT_PER_FIRM_PER_MINUTE",
            "ZQL_MESSAGE_LIMIT_PER_USER_PER_MINUTE",
        ] {
            c.env(k, "10000000");
        }
        for (k, v) in &spec.env {
            c.env(k, v);
        }
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
            Ok(addr) => Ok(Node {
                child,
                address: addr,
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

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no shutdown, streams cut off.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn log_tail(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A process's CPU time (user + system, seconds), resident set and its
/// peak (MiB), from `/proc`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcStats {
    pub cpu_secs: f64,
    pub rss_mib: f64,
    pub peak_rss_mib: f64,
}

pub fn proc_stats(pid: u32) -> ProcStats {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    ProcStats {
        // USER_HZ is 100 on Linux.
        cpu_secs: ticks as f64 / 100.0,
        rss_mib: kib("VmRSS:") / 1024.0,
        peak_rss_mib: kib("VmHWM:") / 1024.0,
    }
}

/// Busy seconds of the whole machine (all cores) so far.
pub fn machine_busy_secs() -> f64 {
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
    (total - f.get(3).copied().unwrap_or(0) - f.get(4).copied().unwrap_or(0)) as f64 / 100.0
}

/// Quantile `p` (0–100) of sorted values (nearest rank).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn round(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (x * m).round() / m
}
