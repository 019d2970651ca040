//! The `zhiqilian` command line: serve (default), migrate, admin, import,
//! reindex, backup and restore, evaluation, tuning the matcher's weights.

pub mod backup;
pub mod eval;
pub mod import;
pub mod rematch;
pub mod tune;
pub mod vocab_suggest;

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use crate::cli::import::{ImportOptions, import_file};
use crate::config::Config;
use crate::service::password;
use crate::service::validate::Login;
use crate::store::accounts::{self, NewUser};
use crate::store::{Db, StoreError};

#[derive(Debug, Parser)]
#[command(
    name = "zhiqilian",
    version,
    about = "智企连 Zhiqilian: supply-and-demand matching for industrial parks",
    long_about = "智企连 Zhiqilian: supply-and-demand matching for industrial parks.\n\n\
        Configuration: ZQL_* environment variables over an optional TOML file (--config or \
        ZQL_CONFIG) over defaults. With no command, `serve` runs."
)]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the REST API (the default command).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Platform administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Import listings from a JSONL file in the evaluation format of eval/README.md.
    Import(ImportArgs),
    /// Rebuild this node's search index from the database into a fresh
    /// folder and swap it in (stop the server first).
    Reindex,
    /// Match every open listing again (after new weights or vocabulary, or
    /// an import): the server node holding the matching lease does it,
    /// resumably; this command asks for the run and shows its progress.
    Rematch(crate::cli::rematch::RematchArgs),
    /// Search quality on a labelled data set: for every request, its title
    /// searched among offers of the same kind; share with a grade-2 offer in
    /// the top 5.
    EvalSearch(EvalArgs),
    /// Matching quality on a labelled data set: nDCG@5, P@1 and Recall@10
    /// per direction and per kind, through the API's retrieval and scoring.
    Eval(EvalArgs),
    /// Fit the matcher's factor weights on the outcome log (what firms did
    /// with their matches) and write them only when they are better on
    /// held-out outcomes and lower no figure of the labelled sets. Exit
    /// status 3: fitted, but nothing written (the reason is printed).
    Tune(crate::cli::tune::TuneArgs),
    /// Vocabulary tools.
    Vocab {
        #[command(subcommand)]
        command: VocabCommand,
    },
    /// Write a consistent copy of the SQLite database while the server runs
    /// (PostgreSQL: use pg_dump).
    Backup(BackupArgs),
    /// Replace the SQLite database with a backup (stop the server first);
    /// the current file is kept as `<db>.before-restore` and the search
    /// index is rebuilt at the next start.
    Restore(RestoreArgs),
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The backup file to write.
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A backup written by `zhiqilian backup`.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Folder with listings.jsonl, judgments.jsonl and meta.json.
    #[arg(long)]
    pub data: PathBuf,
    /// Reference date (YYYY-MM-DD) the listings count as posted on and
    /// matching runs at; default: `as_of` of the set's meta.json. The
    /// figures never depend on the day they are computed.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<chrono::NaiveDate>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also load N generated listings in communities far from the set's
    /// (none a fair match of a labelled listing; always the same N listings),
    /// to measure how the figures hold up in a full index.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub distractors: u64,
}

#[derive(Debug, Subcommand)]
pub enum VocabCommand {
    /// Propose new words (character n-grams the tokenizer breaks apart) and
    /// synonym pairs (terms sharing contexts and attribute values) from the
    /// open listings, printed for review; nothing is added by itself.
    Suggest(crate::cli::vocab_suggest::SuggestArgs),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a platform admin account.
    Create(AdminCreateArgs),
}

#[derive(Debug, Args)]
pub struct AdminCreateArgs {
    /// Sign-in: a mainland mobile number or an email address.
    #[arg(long)]
    pub login: String,
    /// Read the password from standard input (first line).
    #[arg(long, required = true)]
    pub password_stdin: bool,
    /// Display name.
    #[arg(long, default_value = "平台管理员")]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The JSONL file.
    pub file: PathBuf,
    /// Leave firms created by the import unverified (their listings stay
    /// private until community staff verify them).
    #[arg(long)]
    pub unverified: bool,
}

pub async fn run(cli: Cli, config: Config) -> anyhow::Result<i32> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let db = Db::connect(&config.database_url, 1)?;
            let applied = tokio::task::spawn_blocking(move || db.migrate()).await??;
            if applied.is_empty() {
                println!("database is up to date");
            } else {
                for v in applied {
                    println!("applied {v}");
                }
            }
            Ok(0)
        }
        Command::Admin {
            command: AdminCommand::Create(a),
        } => admin_create(config, a).await,
        Command::Import(a) => import(config, a).await,
        Command::Reindex => reindex(config).await,
        Command::Rematch(a) => crate::cli::rematch::rematch(open_db(&config).await?, a).await,
        Command::Backup(a) => backup(config, a).await,
        Command::Restore(a) => restore(config, a).await,
        Command::Vocab {
            command: VocabCommand::Suggest(a),
        } => vocab_suggest(config, a).await,
        Command::Tune(a) => crate::cli::tune::run(config, a).await,
        Command::Eval(a) => {
            let data = a.data.clone();
            let weights = crate::http::app::load_weights(config.matcher_weights.as_deref())?;
            let as_of = crate::cli::eval::reference_date(&data, a.as_of)?;
            let vocab = eval_vocabulary(&config).await?;
            let q = tokio::task::spawn_blocking(move || {
                crate::cli::eval::match_quality_full(&data, &weights, as_of, vocab, a.distractors)
            })
            .await??;
            if a.json {
                println!("{}", serde_json::to_string(&q)?);
            } else {
                let line = |name: &str, r: &crate::cli::eval::RankQuality| {
                    println!(
                        "{name:<18} n={:<3} nDCG@5 {:.3}  P@1 {:.3}  P@1(grade 2) {:.3}  Recall@10 {:.3}",
                        r.anchors, r.ndcg5, r.p1, r.p1_grade2, r.recall10
                    )
                };
                println!("as of {as_of}, {} distractors", q.distractors);
                line("request → offers", &q.forward);
                for (k, r) in &q.per_kind {
                    line(&format!("  {k}"), r);
                }
                line("offer → requests", &q.reverse);
                for (r, top) in &q.misses {
                    println!("  miss {r}: top {}", top.join(" "));
                }
            }
            Ok(0)
        }
        Command::EvalSearch(a) => {
            let data = a.data.clone();
            let as_of = crate::cli::eval::reference_date(&data, a.as_of)?;
            let vocab = eval_vocabulary(&config).await?;
            let q = tokio::task::spawn_blocking(move || {
                crate::cli::eval::search_quality_full(&data, as_of, vocab, a.distractors)
            })
            .await??;
            if a.json {
                println!("{}", serde_json::to_string(&q)?);
            } else {
                println!(
                    "as of {as_of}, {} distractors: {} requests: grade-2 offer in top 5: {:.3}; MRR of first grade-2: {:.3}",
                    q.distractors, q.requests, q.grade2_in_top5, q.mrr_grade2
                );
                let mut kinds: Vec<_> = q.per_kind.iter().collect();
                kinds.sort_by(|a, b| a.0.cmp(b.0));
                for (k, v) in kinds {
                    println!("  {k:<10} {v:.3}");
                }
                if !q.misses.is_empty() {
                    println!("  misses: {}", q.misses.join(" "));
                }
            }
            Ok(0)
        }
    }
}

/// `vocab suggest`: the deployment's vocabulary (as `serve` loads it) against
/// the open listings or `--from` a JSONL file.
async fn vocab_suggest(
    config: Config,
    a: crate::cli::vocab_suggest::SuggestArgs,
) -> anyhow::Result<i32> {
    let docs = match a.from.clone() {
        Some(path) => crate::cli::vocab_suggest::docs_from_jsonl(&path)?,
        None => {
            let db = open_db(&config).await?;
            tokio::task::spawn_blocking(move || crate::cli::vocab_suggest::docs_from_db(&db))
                .await??
        }
    };
    let dir = config
        .vocab_dir
        .clone()
        .unwrap_or_else(|| config.data_dir.join("vocab"));
    let opts = zhiqilian_matcher::vocab::Options {
        min_listings: a.min_listings,
        min_similarity: a.min_similarity,
        limit: a.limit,
        ..Default::default()
    };
    let (s, read) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let vocab = crate::worker::indexer::load_vocabulary(&dir)?;
        Ok((
            crate::cli::vocab_suggest::suggest(&docs, vocab, &opts),
            docs.len(),
        ))
    })
    .await??;
    if a.json {
        println!("{}", serde_json::to_string(&s)?);
    } else {
        print!("{}", crate::cli::vocab_suggest::render(&s, read));
    }
    Ok(0)
}

/// The vocabulary an evaluation runs on: `vocab_dir` when it is set
/// explicitly (to measure an edited vocabulary), else the shipped one — never
/// a folder found by chance under the data directory.
async fn eval_vocabulary(
    config: &Config,
) -> anyhow::Result<std::sync::Arc<zhiqilian_search_index::Vocabulary>> {
    match config.vocab_dir.clone() {
        Some(dir) => {
            eprintln!("vocabulary: {}", dir.display());
            let v =
                tokio::task::spawn_blocking(move || zhiqilian_search_index::Vocabulary::load(&dir))
                    .await??;
            Ok(std::sync::Arc::new(v))
        }
        None => Ok(zhiqilian_search_index::Vocabulary::shared_builtin()),
    }
}

async fn backup(config: Config, a: BackupArgs) -> anyhow::Result<i32> {
    let db = crate::cli::backup::sqlite_file(&config.database_url)?;
    let s = tokio::task::spawn_blocking(move || {
        crate::cli::backup::backup(&db, &a.to, a.force).map(|s| (s, a.to))
    })
    .await??;
    let (s, to) = s;
    eprintln!(
        "backup written to {}: {}, {} listings, migration {}, {:.2}s",
        to.display(),
        crate::cli::backup::mib(s.bytes),
        s.listings,
        s.migration,
        s.secs
    );
    Ok(0)
}

async fn restore(config: Config, a: RestoreArgs) -> anyhow::Result<i32> {
    let db = crate::cli::backup::sqlite_file(&config.database_url)?;
    let index = crate::worker::indexer::index_dir(&config.data_dir);
    let r = tokio::task::spawn_blocking(move || {
        crate::cli::backup::restore(&a.from, &db, &index).map(|r| (r, db))
    })
    .await??;
    let (r, db) = r;
    if let Some(p) = &r.previous {
        eprintln!("the previous database is kept as {}", p.display());
    }
    if r.index_removed {
        eprintln!("search index removed: the next start rebuilds it from the database");
    }
    eprintln!(
        "restored {}: {}, {} listings, migration {}, {:.2}s",
        db.display(),
        crate::cli::backup::mib(r.summary.bytes),
        r.summary.listings,
        r.summary.migration,
        r.summary.secs
    );
    Ok(0)
}

async fn reindex(config: Config) -> anyhow::Result<i32> {
    use indicatif::{ProgressBar, ProgressStyle};

    let db = open_db(&config).await?;
    let data_dir = config.data_dir.clone();
    let vocab_dir = config
        .vocab_dir
        .clone()
        .unwrap_or_else(|| config.data_dir.join("vocab"));
    let started = std::time::Instant::now();
    let n = tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
        let vocab = crate::worker::indexer::load_vocab_state(&vocab_dir)?;
        let total = crate::store::listings::count(&mut *db.conn()?)?;
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} 重建索引 [{bar:40}] {pos}/{len} {per_sec} 预计剩余 {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        let n =
            crate::worker::indexer::reindex(&db, &data_dir, &vocab, |done| bar.set_position(done))?;
        bar.finish_and_clear();
        Ok(n)
    })
    .await??;
    println!(
        "reindexed {n} listings in {:.2}s",
        started.elapsed().as_secs_f64()
    );
    Ok(0)
}

async fn serve(config: Config) -> anyhow::Result<i32> {
    let (server, addr, state) = crate::http::app::build_server(config).await?;
    tracing::info!(%addr, node = %state.background.node_id, "zhiqilian serving on http://{addr}");
    // On SIGINT/SIGTERM the server stops accepting and finishes in-flight
    // requests (up to `shutdown_timeout_secs`); open event streams end at
    // once with a reconnect hint rather than hold the shutdown.
    tokio::spawn(async {
        stop_signal().await;
        tracing::info!("stopping: finishing in-flight requests");
        crate::worker::events::shutdown_streams();
    });
    server.await?;
    crate::http::app::wind_down(&state).await;
    tracing::info!("stopped");
    Ok(0)
}

#[cfg(unix)]
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn stop_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

async fn open_db(config: &Config) -> anyhow::Result<Db> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data dir {}", config.data_dir.display()))?;
    let db = Db::connect(&config.database_url, 2)?;
    let d = db.clone();
    tokio::task::spawn_blocking(move || d.migrate()).await??;
    Ok(db)
}

async fn admin_create(config: Config, a: AdminCreateArgs) -> anyhow::Result<i32> {
    let login = Login::parse(&a.login).map_err(|m| anyhow::anyhow!("--login: {m}"))?;
    let mut pw = String::new();
    std::io::stdin()
        .read_to_string(&mut pw)
        .context("cannot read the password from stdin")?;
    let pw = pw.lines().next().unwrap_or("").to_string();
    if let Err(m) = password::check_policy(&pw, &[login.as_str(), a.name.trim()]) {
        bail!("password: {m}");
    }
    let name = a.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 64 {
        bail!("--name: 1–64 characters");
    }
    let hash = password::hash(pw)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let db = open_db(&config).await?;
    let user = db
        .run(move |c| {
            accounts::create_user(
                c,
                NewUser {
                    phone: login.phone(),
                    email: login.email(),
                    display_name: name,
                    password_hash: hash,
                    is_platform_admin: true,
                },
            )
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                anyhow::anyhow!("an account with login {} already exists", a.login.trim())
            }
            other => other.into(),
        })?;
    println!("created platform admin {} ({})", user.id, a.login.trim());
    Ok(0)
}

async fn import(config: Config, a: ImportArgs) -> anyhow::Result<i32> {
    let db = open_db(&config).await?;
    let opts = ImportOptions {
        verify_firms: !a.unverified,
        progress: true,
    };
    let path = a.file.clone();
    let started = std::time::Instant::now();
    let vocab_dir = config
        .vocab_dir
        .clone()
        .unwrap_or_else(|| config.data_dir.join("vocab"));
    let data_dir = config.data_dir.clone();
    let (report, indexed) = tokio::task::spawn_blocking(move || {
        // Index while importing: the other core keeps the local search index
        // in step, so the import is searchable when it ends.
        let indexer =
            crate::worker::indexer::LocalIndexer::spawn(db.clone(), &data_dir, &vocab_dir);
        let report = import_file(&db, &path, opts);
        let indexed = indexer.map(|i| i.finish());
        (report, indexed)
    })
    .await?;
    let report = report?;
    let secs = started.elapsed().as_secs_f64();
    for e in &report.errors {
        eprintln!(
            "{}:{}: {}: {}",
            a.file.display(),
            e.line,
            e.field,
            e.message
        );
    }
    println!(
        "{} lines: {} created, {} updated, {} unchanged, {} failed; {} communities and {} firms created; {:.2}s ({:.0} lines/s)",
        report.lines,
        report.created,
        report.updated,
        report.unchanged,
        report.failed_lines(),
        report.communities_created,
        report.firms_created,
        secs,
        report.lines as f64 / secs.max(1e-9),
    );
    match indexed {
        Ok(Ok(seq)) => println!("search index up to date (change {seq})"),
        Ok(Err(e)) => {
            eprintln!("search index not updated ({e:#}); it catches up when the server starts")
        }
        Err(e) => println!(
            "search index not updated here ({e:#}); the running server's indexer applies the import"
        ),
    }
    Ok(if report.errors.is_empty() { 0 } else { 1 })
}
