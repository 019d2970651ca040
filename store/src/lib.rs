//! zhiqilian-store: one diesel code path over SQLite (embedded default) and
//! PostgreSQL (multi-node), r2d2 pools, embedded migrations.
//!
//! Policy: store functions are synchronous and return `StoreResult`; the
//! async side calls them through [`Db::run`], which moves the work onto the
//! blocking thread pool so database I/O never stalls an actix worker.
//!
//! SQLite write transactions start with a write (permission checks and
//! reads happen before `transaction`), so the connection takes the write lock
//! up front and waits on `busy_timeout` instead of failing a lock upgrade.

pub mod accounts;
pub mod agreements;
pub mod attachments;
pub mod audit;
pub mod cases;
pub mod changes;
pub mod clients;
pub mod districts;
pub mod idempotency;
pub mod imports;
pub mod leases;
pub mod lifecycle;
pub mod listings;
pub mod matches;
pub mod models;
pub mod moderation;
pub mod notifications;
pub mod outcomes;
pub mod quotes;
pub mod ratings;
pub mod rematch;
pub mod reputation;
pub mod retention;
pub mod schema;
pub mod scopes;
pub mod short_links;
pub mod stream;
pub mod threads;
pub mod vocabulary;
pub mod webhooks;
pub mod wechat;
pub mod wechat_push;

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, CustomizeConnection, ManageConnection, Pool, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// Runs one diesel expression on the concrete connection of either backend,
/// for what `MultiConnection` cannot express (RETURNING, ON CONFLICT).
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::DbConnection::Sqlite($c) => $body,
            $crate::DbConnection::Postgresql($c) => $body,
        }
    };
}
pub(crate) use on_backend;

/// A connection to either backend; queries written against it run on both.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(transparent)]
    Query(diesel::result::Error),
    #[error("database connection: {0}")]
    Pool(#[from] r2d2::PoolError),
    /// The database could not take the work: the connection was lost, or
    /// (SQLite) another process held the write lock past the timeout.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The disk under the database is full (SQLite's `SQLITE_FULL` or an
    /// I/O error on write, PostgreSQL's `disk_full`): writes fail until
    /// space is freed, reads go on.
    #[error("storage full: {0}")]
    Full(String),
    #[error("migrations: {0}")]
    Migration(String),
    #[error("blocking task failed: {0}")]
    Blocking(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> StoreError {
        if is_unavailable(&e) {
            StoreError::Unavailable(e.to_string())
        } else if is_full(&e) {
            StoreError::Full(e.to_string())
        } else {
            StoreError::Query(e)
        }
    }
}

/// An error that says nothing about the request and everything about the
/// database being out of reach: PostgreSQL closed the connection (restart,
/// `pg_terminate_backend`, a database closed to connections) or SQLite's
/// write lock stayed taken past `busy_timeout`. Retrying later may succeed.
fn is_unavailable(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => true,
        Error::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            let m = info.message();
            m.starts_with("database is locked")
                || m.starts_with("database table is locked")
                || m.contains("terminating connection")
                || m.contains("server closed the connection")
                || m.contains("no connection to the server")
        }
        // The rollback after a lost connection failed too.
        Error::BrokenTransactionManager => true,
        _ => false,
    }
}

/// Out of disk space: SQLite says "database or disk is full" (or, when the
/// WAL or a journal cannot grow, "disk I/O error"); PostgreSQL's
/// `disk_full` says "No space left on device".
fn is_full(e: &diesel::result::Error) -> bool {
    use diesel::result::Error;
    match e {
        Error::DatabaseError(_, info) => is_full_message(info.message()),
        _ => false,
    }
}

/// The messages of [`is_full`], also for errors that reach us as text
/// (a connection that failed to open on a full disk).
pub fn is_full_message(m: &str) -> bool {
    m.contains("database or disk is full")
        || m.contains("disk I/O error")
        || m.contains("No space left on device")
        || m.contains("could not extend file")
}

impl StoreError {
    /// Maps a unique-constraint violation to `Conflict`, keeping other errors.
    pub fn unique_as_conflict(e: diesel::result::Error, what: &str) -> StoreError {
        match e {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => StoreError::Conflict(what.to_string()),
            diesel::result::Error::NotFound => StoreError::NotFound,
            other => other.into(),
        }
    }
}

/// Which backend a database URL selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Sqlite { path: PathBuf },
    Postgres { url: String },
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Backend, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres {
                url: url.to_string(),
            })
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// URL has no file path".into());
            }
            Ok(Backend::Sqlite {
                path: PathBuf::from(path),
            })
        } else {
            Err("expected a sqlite://PATH or postgres:// URL".into())
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres { .. } => "postgres",
        }
    }
}

pub struct ConnManager {
    backend: Backend,
}

impl ManageConnection for ConnManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.backend {
            Backend::Postgres { url } => PgConnection::establish(url)
                .map(DbConnection::Postgresql)
                .map_err(r2d2::Error::ConnectionError),
            Backend::Sqlite { path } => SqliteConnection::establish(&path.to_string_lossy())
                .map(DbConnection::Sqlite)
                .map_err(r2d2::Error::ConnectionError),
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

#[derive(Debug)]
struct SqlitePragmas {
    busy_timeout_ms: u128,
}

impl CustomizeConnection<DbConnection, r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        if let DbConnection::Sqlite(c) = conn {
            // FULL: an acknowledged write survives power loss, not only a crash.
            c.batch_execute(&format!(
                "PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON; \
                 PRAGMA synchronous = FULL;",
                self.busy_timeout_ms
            ))
            .map_err(r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// How long work waits for the database by default (`db_timeout_secs`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The shared handle to the database: a pool plus the backend it talks to.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnManager>,
    backend: Backend,
}

pub type PooledConn = r2d2::PooledConnection<ConnManager>;

impl Db {
    /// Opens the pool (creating the SQLite file and its folder if needed).
    pub fn connect(url: &str, pool_size: u32) -> anyhow::Result<Db> {
        Db::connect_with(url, pool_size, DEFAULT_TIMEOUT)
    }

    /// Opens the pool; `timeout` bounds the wait for a connection (and, on
    /// SQLite, for the write lock), after which the work fails as
    /// unavailable instead of hanging.
    pub fn connect_with(url: &str, pool_size: u32, timeout: Duration) -> anyhow::Result<Db> {
        let backend = Backend::from_url(url).map_err(|e| anyhow::anyhow!(e))?;
        if let Backend::Sqlite { path } = &backend {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
            }
            // WAL is a property of the file: set it once, before the pool opens.
            let mut c = SqliteConnection::establish(&path.to_string_lossy())?;
            c.batch_execute("PRAGMA journal_mode = WAL;")?;
        }
        let manager = ConnManager {
            backend: backend.clone(),
        };
        let pool = Pool::builder()
            .max_size(pool_size.max(1))
            .connection_timeout(timeout)
            .connection_customizer(Box::new(SqlitePragmas {
                busy_timeout_ms: timeout.as_millis(),
            }))
            .build(manager)
            .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", backend.name()))?;
        Ok(Db { pool, backend })
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    pub fn conn(&self) -> StoreResult<PooledConn> {
        Ok(self.pool.get()?)
    }

    /// Pool state for readiness and metrics: (connections, idle).
    pub fn pool_state(&self) -> (u32, u32) {
        let s = self.pool.state();
        (s.connections, s.idle_connections)
    }

    /// Runs `f` with a pooled connection on the blocking thread pool.
    pub async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> StoreResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Blocking(e.to_string()))?
    }

    /// Applies pending migrations; returns the versions applied.
    pub fn migrate(&self) -> StoreResult<Vec<String>> {
        let mut conn = self.conn()?;
        run_migrations(&mut conn)
    }

    /// True when no embedded migration is pending.
    pub fn migrations_applied(&self) -> StoreResult<bool> {
        let mut conn = self.conn()?;
        let pending = match &mut *conn {
            DbConnection::Sqlite(c) => c.pending_migrations(SQLITE_MIGRATIONS).map(|p| p.len()),
            DbConnection::Postgresql(c) => {
                c.pending_migrations(POSTGRES_MIGRATIONS).map(|p| p.len())
            }
        }
        .map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(pending == 0)
    }
}

pub fn run_migrations(conn: &mut DbConnection) -> StoreResult<Vec<String>> {
    fn names(
        r: diesel::migration::Result<Vec<diesel::migration::MigrationVersion<'_>>>,
    ) -> StoreResult<Vec<String>> {
        r.map(|v| v.iter().map(|v| v.to_string()).collect())
            .map_err(|e| StoreError::Migration(e.to_string()))
    }
    match conn {
        DbConnection::Sqlite(c) => names(c.run_pending_migrations(SQLITE_MIGRATIONS)),
        DbConnection::Postgresql(c) => {
            // Nodes starting together must not race on the same migration.
            c.batch_execute("SELECT pg_advisory_lock(7268041911)")?;
            let r = names(c.run_pending_migrations(POSTGRES_MIGRATIONS));
            c.batch_execute("SELECT pg_advisory_unlock(7268041911)")?;
            r
        }
    }
}

/// Current time, truncated to microseconds so it round-trips through both
/// backends unchanged.
pub fn now() -> chrono::NaiveDateTime {
    let t = chrono::Utc::now().naive_utc();
    chrono::DurationRound::duration_trunc(t, chrono::TimeDelta::microseconds(1)).unwrap_or(t)
}

/// First statement of a write transaction that reads before it writes: on
/// SQLite it takes the write lock now (a statement that writes no row still
/// does), so a read snapshot never has to be upgraded after another writer
/// committed — which fails at once with "database is locked" instead of
/// waiting. PostgreSQL needs nothing here.
pub fn begin_write(conn: &mut DbConnection) -> StoreResult<()> {
    if let DbConnection::Sqlite(c) = conn {
        use diesel::RunQueryDsl;
        diesel::sql_query("UPDATE work_leases SET position = position WHERE 0").execute(c)?;
    }
    Ok(())
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
