//! `zhiqilian rematch`: asks for every open listing to be matched again
//! (after a change of matcher weights or vocabulary, or a large import) and
//! follows the run. The work is done by the server node that holds the
//! matching lease (`worker::background`), in id order, resumable: stopping
//! this command, or a node, loses nothing; running it again while a run is
//! unfinished follows that run.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::store::{Db, rematch};

#[derive(Debug, Args)]
pub struct RematchArgs {
    /// Why (kept with the run), e.g. "weights tuned 2026-12".
    #[arg(long, default_value = "rematch")]
    pub reason: String,
    /// Ask for the run and return without following it.
    #[arg(long)]
    pub no_wait: bool,
}

/// How long without progress before saying that no node seems to work on it.
const STALL_HINT: Duration = Duration::from_secs(15);

pub async fn rematch(db: Db, a: RematchArgs) -> anyhow::Result<i32> {
    let reason = a.reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > 200 {
        anyhow::bail!("--reason: 1 to 200 characters");
    }
    let (run, new) = db.run(move |c| rematch::request(c, &reason)).await?;
    if new {
        println!("rematch {} asked for: {} open listings", run.id, run.total);
    } else {
        println!(
            "rematch {} ({}) is already under way: {}/{} listings; following it",
            run.id, run.reason, run.done, run.total
        );
    }
    if a.no_wait {
        return Ok(0);
    }
    let bar = if std::io::stderr().is_terminal() {
        let b = ProgressBar::new(run.total.max(0) as u64);
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} 重新匹配 [{bar:40}] {pos}/{len} 条 {per_sec} 预计剩余 {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let started = Instant::now();
    let (mut last_done, mut last_move) = (run.done, Instant::now());
    let mut hinted = false;
    loop {
        let id = run.id.clone();
        let Some(now) = db.run(move |c| rematch::get(c, &id)).await? else {
            anyhow::bail!("rematch {} disappeared", run.id);
        };
        bar.set_length(now.total.max(now.done).max(0) as u64);
        bar.set_position(now.done.max(0) as u64);
        if now.finished_at.is_some() {
            bar.finish_and_clear();
            let secs = started.elapsed().as_secs_f64();
            println!(
                "rematch {} done: {} listings in {:.1} s ({:.0} listings/s)",
                now.id,
                now.done,
                secs,
                (now.done - run.done) as f64 / secs.max(0.001)
            );
            return Ok(0);
        }
        if now.done != last_done {
            (last_done, last_move) = (now.done, Instant::now());
        } else if !hinted && last_move.elapsed() > STALL_HINT {
            bar.println(
                "no progress for 15 s: is a server running with the matching job \
                 (`zhiqilian serve`, background_jobs)? The run waits for it.",
            );
            hinted = true;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
