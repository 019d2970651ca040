//! `gen-listings`: writes N generated listings as JSONL.
//!
//! ```text
//! gen-listings --count N [--seed S] [--out FILE] [--communities 7] [--firms-per-community 80]
//! ```

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use zhiqilian_bench::{Config, generate};

const USAGE: &str = "usage: gen-listings --count N [--seed S] [--out FILE] \
[--communities 7] [--firms-per-community 80]

Writes N realistic Chinese supply/demand listings (JSONL, the shared eval
listings format) to stdout or FILE. The same arguments always give the same bytes.";

struct Args {
    cfg: Config,
    out: Option<String>,
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut cfg = Config::default();
    let mut count = None;
    let mut out = None;
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        if name == "-h" || name == "--help" {
            return Err(String::new());
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let number = |v: String| -> Result<u64, String> {
            v.replace('_', "")
                .parse::<u64>()
                .map_err(|_| format!("{name}: “{v}” is not a non-negative integer"))
        };
        match name.as_str() {
            "--count" | "-n" => count = Some(number(value()?)?),
            "--seed" | "-s" => cfg.seed = number(value()?)?,
            "--out" | "-o" => out = Some(value()?),
            "--communities" => {
                cfg.communities = usize::try_from(number(value()?)?).map_err(|e| e.to_string())?
            }
            "--firms-per-community" => {
                cfg.firms_per_community =
                    usize::try_from(number(value()?)?).map_err(|e| e.to_string())?
            }
            other => return Err(format!("unknown argument “{other}”")),
        }
    }
    cfg.count = count.ok_or("--count is required")?;
    if cfg.communities == 0 || cfg.communities > 100_000 {
        return Err("--communities must be between 1 and 100000".into());
    }
    if cfg.firms_per_community == 0 || cfg.firms_per_community > 100_000 {
        return Err("--firms-per-community must be between 1 and 100000".into());
    }
    Ok(Args { cfg, out })
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("gen-listings: {msg}\n");
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
            // Ignore a closed pipe (`--help | head`).
            let _ = writeln!(io::stdout(), "{USAGE}");
            return ExitCode::SUCCESS;
        }
    };
    let started = Instant::now();
    let result = match &args.out {
        Some(path) => File::create(path)
            .and_then(|f| generate(&args.cfg, &mut BufWriter::with_capacity(1 << 20, f))),
        None => {
            let stdout = io::stdout();
            let mut lock = stdout.lock();
            let r = generate(&args.cfg, &mut lock);
            let _ = lock.flush();
            r
        }
    };
    let stats = match result {
        Ok(s) => s,
        // A closed pipe (`| head`) is not an error worth a message.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen-listings: {e}");
            return ExitCode::FAILURE;
        }
    };
    let secs = started.elapsed().as_secs_f64();
    let firms = args.cfg.communities * args.cfg.firms_per_community;
    eprintln!(
        "gen-listings: {} listings ({} offers, {} requests; {} firms in {} communities; {:.1} MiB) in {:.3} s = {:.0} lines/s",
        stats.lines,
        stats.offers,
        stats.requests,
        firms,
        args.cfg.communities,
        stats.bytes as f64 / (1024.0 * 1024.0),
        secs,
        stats.lines as f64 / secs.max(1e-9),
    );
    ExitCode::SUCCESS
}
