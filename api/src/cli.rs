//! The `zhiqilian` command line: serve (default), migrate, admin, import.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use crate::auth::password;
use crate::config::Config;
use crate::import::{ImportOptions, import_file};
use crate::store::accounts::{self, NewUser};
use crate::store::{Db, StoreError};
use crate::validate::Login;

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
    /// Import listings from a JSONL file in the shared evaluation format.
    Import(ImportArgs),
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
    }
}

async fn serve(config: Config) -> anyhow::Result<i32> {
    let (server, addr) = crate::app::build_server(config).await?;
    tracing::info!(%addr, "zhiqilian serving on http://{addr}");
    server.await?;
    Ok(0)
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
    if let Err(m) = password::check_policy(&pw) {
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
    let report = tokio::task::spawn_blocking(move || import_file(&db, &path, opts)).await??;
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
        "{} lines: {} created, {} updated, {} unchanged, {} failed; {} communities and {} firms created; {:.2}s",
        report.lines,
        report.created,
        report.updated,
        report.unchanged,
        report.failed_lines(),
        report.communities_created,
        report.firms_created,
        secs
    );
    Ok(if report.errors.is_empty() { 0 } else { 1 })
}
