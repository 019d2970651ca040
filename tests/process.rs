//! `zhiqilian` as separate processes, for tests that kill a server with
//! SIGKILL, restart it on the same data folder, or run the operator
//! commands (backup, restore) beside it.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::helpers::JWT_SECRET;

/// A `zhiqilian serve` process on a data folder and database of the test's.
pub struct ServerProcess {
    child: Option<std::process::Child>,
    pub address: String,
    data_dir: PathBuf,
    database_url: String,
    extra: Vec<(String, String)>,
    /// The last lines the process wrote to stderr, for failure messages.
    log: Arc<Mutex<Vec<String>>>,
    /// A data folder of its own (a node beside the test's app).
    _own_dir: Option<tempfile::TempDir>,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn command(data_dir: &Path, database_url: &str) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_zhiqilian"));
    c.env("ZQL_DATA_DIR", data_dir)
        .env("ZQL_DATABASE_URL", database_url)
        .env("ZQL_JWT_SECRET", JWT_SECRET)
        .env_remove("ZQL_CONFIG")
        .stdin(std::process::Stdio::null());
    c
}

/// Runs a `zhiqilian` command to its end: (success, stderr).
pub fn run_command(data_dir: &Path, database_url: &str, args: &[&str]) -> (bool, String) {
    let out = command(data_dir, database_url)
        .args(args)
        .output()
        .expect("run zhiqilian");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

impl ServerProcess {
    /// Starts `zhiqilian serve` and waits until it reports its address.
    pub fn start(data_dir: &Path, database_url: &str, extra: &[(&str, &str)]) -> ServerProcess {
        let mut p = ServerProcess {
            child: None,
            address: String::new(),
            data_dir: data_dir.to_path_buf(),
            database_url: database_url.to_string(),
            extra: extra
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            log: Arc::new(Mutex::new(Vec::new())),
            _own_dir: None,
        };
        p.spawn();
        p
    }

    /// A node on `database_url` with a data folder (index) of its own.
    pub fn node(database_url: &str) -> ServerProcess {
        let dir = tempfile::tempdir().expect("node data dir");
        let mut p = ServerProcess::start(dir.path(), database_url, &[("ZQL_WORKERS", "1")]);
        p._own_dir = Some(dir);
        p
    }

    /// A node as [`ServerProcess::node`] with more configuration.
    pub fn node_with(database_url: &str, extra: &[(&str, &str)]) -> ServerProcess {
        let dir = tempfile::tempdir().expect("node data dir");
        let mut all = vec![("ZQL_WORKERS", "1")];
        all.extend_from_slice(extra);
        let mut p = ServerProcess::start(dir.path(), database_url, &all);
        p._own_dir = Some(dir);
        p
    }

    /// The running process's id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("a running process").id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// SIGTERM, then waits for the exit (panics after `within`).
    pub fn terminate(&mut self, within: Duration) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("a running process");
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(sent.success());
        let started = std::time::Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if started.elapsed() > within {
                let _ = child.kill();
                panic!(
                    "no exit {within:?} after SIGTERM; log:\n{}",
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn spawn(&mut self) {
        let mut c = command(&self.data_dir, &self.database_url);
        c.arg("serve")
            .env("ZQL_BIND", "127.0.0.1:0")
            .env("ZQL_WORKERS", "2")
            .env("ZQL_DB_POOL_SIZE", "4")
            .env("ZQL_LOG_FORMAT", "json")
            .env("ZQL_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        // Crash and multi-node tests write fast as few users; the per-firm
        // and per-user allowances have tests of their own.
        for k in [
            "ZQL_LISTING_LIMIT_PER_FIRM_PER_HOUR",
            "ZQL_LISTING_LIMIT_PER_USER_PER_HOUR",
            "ZQL_EMERGENCY_LIMIT_PER_FIRM_PER_DAY",
            "ZQL_EMERGENCY_LIMIT_PER_USER_PER_DAY",
            "ZQL_MESSAGE_LIMIT_PER_FIRM_PER_MINUTE",
            "ZQL_MESSAGE_LIMIT_PER_USER_PER_MINUTE",
        ] {
            c.env(k, "1000000");
        }
        for (k, v) in &self.extra {
            c.env(k, v);
        }
        let mut child = c.spawn().expect("start a server process");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        let log = self.log.clone();
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
                if let Ok(mut l) = log.lock() {
                    if l.len() >= 200 {
                        l.remove(0);
                    }
                    l.push(line);
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(90)) {
            Ok(addr) => self.address = format!("http://{addr}"),
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "the server process did not report its address; its log:\n{}",
                    self.log_tail()
                );
            }
        }
        self.child = Some(child);
    }

    /// SIGKILL: no shutdown, no flush, in-flight requests cut off.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the process again on the same data folder and database.
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    pub fn log_tail(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }
}
