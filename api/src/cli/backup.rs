//! Backup and restore of the SQLite database: `zhiqilian backup` writes a
//! consistent snapshot while the server runs, `zhiqilian restore` puts one
//! back in place with the server stopped. PostgreSQL is backed up with its
//! own tools (pg_dump / pg_restore, see docs/OPERATIONS.md).
//!
//! The snapshot is `VACUUM INTO`: one read transaction on the live
//! database, so in WAL mode writers go on committing while it runs (they
//! are never blocked) and the copy holds exactly what was committed when it
//! began. Files are written beside their destination, flushed to disk and
//! renamed into place, so a crash leaves either the old file or the new
//! one, never half of one.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::Sqlite;
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};

use crate::store::{Backend, SQLITE_MIGRATIONS};

/// Why a PostgreSQL database is not backed up by this command.
pub const POSTGRES_HINT: &str = "the database is PostgreSQL: back it up with pg_dump and restore it with \
pg_restore (see docs/OPERATIONS.md, \"Backup and restore\"), e.g. \
pg_dump --format=custom --file=zhiqilian.dump \"$ZQL_DATABASE_URL\"";

/// What a backup or a checked restore file holds.
#[derive(Debug, Clone)]
pub struct Summary {
    pub bytes: u64,
    pub listings: i64,
    /// The newest migration applied to it.
    pub migration: String,
    pub secs: f64,
}

/// The SQLite file a database URL names; PostgreSQL is refused with the hint.
pub fn sqlite_file(database_url: &str) -> anyhow::Result<PathBuf> {
    match Backend::from_url(database_url).map_err(|e| anyhow::anyhow!(e))? {
        Backend::Sqlite { path } => Ok(path),
        Backend::Postgres { .. } => bail!("{POSTGRES_HINT}"),
    }
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn open(path: &Path) -> anyhow::Result<SqliteConnection> {
    let mut c = SqliteConnection::establish(&path.to_string_lossy())
        .with_context(|| format!("cannot open {}", path.display()))?;
    c.batch_execute("PRAGMA busy_timeout = 10000;")?;
    Ok(c)
}

/// The migrations this binary knows, oldest first.
fn known_migrations() -> anyhow::Result<Vec<String>> {
    let m = MigrationSource::<Sqlite>::migrations(&SQLITE_MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("embedded migrations: {e}"))?;
    let mut v: Vec<String> = m.iter().map(|m| m.name().version().to_string()).collect();
    v.sort();
    Ok(v)
}

/// Checks that `c` is a sound Zhiqilian database this binary can serve:
/// integrity, the migration table, no migration newer than this binary.
/// `full` runs `integrity_check` (every page), otherwise `quick_check`.
fn check(c: &mut SqliteConnection, what: &Path, full: bool) -> anyhow::Result<(String, i64)> {
    let pragma = if full {
        "integrity_check"
    } else {
        "quick_check"
    };
    let lines: Vec<Line> =
        diesel::sql_query(format!("SELECT {pragma} AS line FROM pragma_{pragma}()"))
            .load(c)
            .with_context(|| format!("{} is not a readable SQLite database", what.display()))?;
    let report: Vec<&str> = lines.iter().map(|l| l.line.as_str()).collect();
    if report != ["ok"] {
        bail!(
            "{} fails SQLite's integrity check: {}",
            what.display(),
            report
                .iter()
                .take(5)
                .copied()
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    let applied: Vec<Line> =
        diesel::sql_query("SELECT version AS line FROM __diesel_schema_migrations")
            .load(c)
            .map_err(|_| {
                anyhow::anyhow!(
                    "{} is not a Zhiqilian database (no migration table)",
                    what.display()
                )
            })?;
    let known = known_migrations()?;
    let mut applied: Vec<String> = applied.into_iter().map(|l| l.line).collect();
    applied.sort();
    if applied.first() != known.first() {
        bail!(
            "{} is not a Zhiqilian database (its migrations do not start with {})",
            what.display(),
            known.first().map_or("", String::as_str)
        );
    }
    if let Some(newer) = applied.iter().find(|v| !known.contains(v)) {
        bail!(
            "{} was written by a newer Zhiqilian (migration {newer} is unknown to this binary, \
             which knows up to {}); restore it with that version",
            what.display(),
            known.last().map_or("", String::as_str)
        );
    }
    let listings = diesel::sql_query("SELECT COUNT(*) AS n FROM listings")
        .get_result::<Count>(c)
        .with_context(|| format!("{} has no listings table", what.display()))?
        .n;
    Ok((applied.last().cloned().unwrap_or_default(), listings))
}

fn sync_file(path: &Path) -> anyhow::Result<()> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot flush {} to disk", path.display()))
}

fn sync_dir(path: &Path) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Makes the renames in `dir` durable; not every platform can open a
    // directory, and there it is not needed.
    if let Ok(d) = File::open(dir) {
        d.sync_all()
            .with_context(|| format!("cannot flush {}", dir.display()))?;
    }
    Ok(())
}

/// `path` with `suffix` appended to its file name.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

fn remove_if_exists(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Writes a consistent snapshot of the database at `db` to `to`, refusing
/// to replace an existing file unless `force`.
pub fn backup(db: &Path, to: &Path, force: bool) -> anyhow::Result<Summary> {
    let started = Instant::now();
    if !db.is_file() {
        bail!("no database at {}", db.display());
    }
    if to.exists() && !force {
        bail!(
            "{} already exists; choose another file or pass --force to replace it",
            to.display()
        );
    }
    let partial = beside(to, &format!(".partial-{}", std::process::id()));
    remove_if_exists(&partial)?;
    let mut c = open(db)?;
    // Refuse to copy what this binary could not restore.
    check_tables(&mut c, db)?;
    eprintln!("backing up {} to {} …", db.display(), to.display());
    let snapshot = diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(partial.to_string_lossy().into_owned())
        .execute(&mut c);
    drop(c);
    if let Err(e) = snapshot {
        let _ = std::fs::remove_file(&partial);
        return Err(e).with_context(|| format!("cannot write {}", partial.display()));
    }
    let placed = (|| -> anyhow::Result<Summary> {
        // SQLite does not flush what VACUUM INTO wrote.
        sync_file(&partial)?;
        let (migration, listings) = {
            let mut copy = open(&partial)?;
            check(&mut copy, &partial, false)?
        };
        if force {
            std::fs::rename(&partial, to)
                .with_context(|| format!("cannot move the backup to {}", to.display()))?;
        } else {
            // A link fails if the name was taken meanwhile: never overwrite.
            std::fs::hard_link(&partial, to).with_context(|| {
                format!(
                    "cannot create {} (pass --force to replace it)",
                    to.display()
                )
            })?;
            std::fs::remove_file(&partial)?;
        }
        sync_dir(to)?;
        Ok(Summary {
            bytes: std::fs::metadata(to)?.len(),
            listings,
            migration,
            secs: started.elapsed().as_secs_f64(),
        })
    })();
    if placed.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    placed
}

/// The migration table and the listings table exist (a cheap check of the
/// live database before copying it).
fn check_tables(c: &mut SqliteConnection, what: &Path) -> anyhow::Result<()> {
    diesel::sql_query(
        "SELECT COUNT(*) AS n FROM __diesel_schema_migrations, (SELECT 1 FROM listings LIMIT 1)",
    )
    .get_result::<Count>(c)
    .map(|_| ())
    .map_err(|_| anyhow::anyhow!("{} is not a Zhiqilian database", what.display()))
}

/// Holds the search index's writer lock: while it is held no server runs on
/// this data folder (every server holds it for as long as it runs).
pub struct IndexGuard {
    _lock: Option<zhiqilian_search_index::WriterLock>,
}

pub fn lock_index(index_dir: &Path) -> anyhow::Result<IndexGuard> {
    if !index_dir.is_dir() {
        return Ok(IndexGuard { _lock: None });
    }
    match zhiqilian_search_index::ListingIndex::lock_writer(index_dir)? {
        Some(lock) => Ok(IndexGuard { _lock: Some(lock) }),
        None => bail!(
            "a server is running on this data folder (it holds the search index {}); stop it first",
            index_dir.display()
        ),
    }
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct Restored {
    pub summary: Summary,
    /// Where the replaced database was kept, if there was one.
    pub previous: Option<PathBuf>,
    pub index_removed: bool,
}

/// Replaces the database at `db` with the backup `from` (the server must be
/// stopped): checks it, copies it beside `db`, flushes it, keeps the current
/// file as `<db>.before-restore` and renames the copy into place; removes
/// the search index folder so the next start rebuilds it from the database.
pub fn restore(from: &Path, db: &Path, index_dir: &Path) -> anyhow::Result<Restored> {
    let started = Instant::now();
    if !from.is_file() {
        bail!("no backup file at {}", from.display());
    }
    let from_wal = beside(from, "-wal");
    if std::fs::metadata(&from_wal).is_ok_and(|m| m.len() > 0) {
        bail!(
            "{} has a write-ahead log beside it ({}): it is a live database, not a backup; \
             take one with `zhiqilian backup`",
            from.display(),
            from_wal.display()
        );
    }
    if std::fs::canonicalize(from).ok() == std::fs::canonicalize(db).ok() && db.exists() {
        bail!("{} is the database itself", from.display());
    }
    let guard = lock_index(index_dir)?;
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }

    let incoming = beside(db, ".restoring");
    for f in [
        incoming.clone(),
        beside(&incoming, "-wal"),
        beside(&incoming, "-shm"),
    ] {
        remove_if_exists(&f)?;
    }
    eprintln!("copying {} to {} …", from.display(), incoming.display());
    std::fs::copy(from, &incoming)
        .with_context(|| format!("cannot copy {} to {}", from.display(), incoming.display()))?;
    let checked = (|| -> anyhow::Result<(String, i64)> {
        eprintln!("checking {} …", from.display());
        let mut c = open(&incoming)?;
        let r = check(&mut c, from, true)?;
        // Leaves no log beside the copy: everything is in the one file.
        c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")?;
        drop(c);
        for f in [beside(&incoming, "-wal"), beside(&incoming, "-shm")] {
            remove_if_exists(&f)?;
        }
        sync_file(&incoming)?;
        Ok(r)
    })();
    let (migration, listings) = match checked {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&incoming);
            return Err(e);
        }
    };

    let previous = if db.exists() {
        // Fold the live database's log into its file, so the file kept
        // aside is complete and no log is left to be replayed into the
        // restored one.
        let folded = open(db).and_then(|mut c| {
            c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")
                .with_context(|| format!("cannot checkpoint {}", db.display()))
        });
        if let Err(e) = folded {
            let _ = std::fs::remove_file(&incoming);
            return Err(e.context("nothing was changed"));
        }
        let wal = beside(db, "-wal");
        if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
            let _ = std::fs::remove_file(&incoming);
            bail!(
                "{} still has changes in {} (is a process using the database?); nothing was changed",
                db.display(),
                wal.display()
            );
        }
        let kept = beside(db, ".before-restore");
        remove_if_exists(&kept)?;
        if std::fs::hard_link(db, &kept).is_err() {
            std::fs::copy(db, &kept).with_context(|| {
                format!("cannot keep the current database as {}", kept.display())
            })?;
            sync_file(&kept)?;
        }
        Some(kept)
    } else {
        None
    };
    for f in [beside(db, "-wal"), beside(db, "-shm")] {
        remove_if_exists(&f)?;
    }
    std::fs::rename(&incoming, db)
        .with_context(|| format!("cannot move {} to {}", incoming.display(), db.display()))?;
    sync_dir(db)?;

    let data_dir = index_dir.parent().unwrap_or(Path::new("."));
    let mut index_removed = false;
    for dir in [
        index_dir.to_path_buf(),
        data_dir.join("index.new"),
        data_dir.join("index.old"),
    ] {
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot remove the search index {}", dir.display()))?;
            index_removed = true;
        }
    }
    drop(guard);
    Ok(Restored {
        summary: Summary {
            bytes: std::fs::metadata(db)?.len(),
            listings,
            migration,
            secs: started.elapsed().as_secs_f64(),
        },
        previous,
        index_removed,
    })
}

/// Bytes as MiB for the summary lines.
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migrated(path: &Path) -> crate::store::Db {
        let db = crate::store::Db::connect(&format!("sqlite://{}", path.display()), 1)
            .expect("open database");
        db.migrate().expect("migrate");
        db
    }

    fn one(path: &Path, sql: &str) -> i64 {
        diesel::sql_query(sql)
            .get_result::<Count>(&mut open(path).expect("open"))
            .expect("query")
            .n
    }

    #[test]
    fn backup_refuses_to_overwrite_without_force_and_replaces_with_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("zhiqilian.db");
        let _h = migrated(&db);
        let to = dir.path().join("b.db");
        std::fs::write(&to, b"keep me").expect("write");
        let e = backup(&db, &to, false).expect_err("refused");
        assert!(e.to_string().contains("--force"), "{e}");
        assert_eq!(std::fs::read(&to).expect("read"), b"keep me");
        let s = backup(&db, &to, true).expect("forced backup");
        assert!(s.bytes > 0);
        assert_eq!(s.listings, 0);
        assert_eq!(
            s.migration,
            *known_migrations().expect("known").last().unwrap()
        );
        // No partial file is left behind.
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("partial"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn writers_go_on_while_a_backup_runs_and_the_copy_is_the_snapshot_at_its_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("zhiqilian.db");
        let live = migrated(&db);
        // Enough pages that the copy takes a while.
        live.conn()
            .expect("conn")
            .batch_execute(
                "CREATE TABLE ballast (b BLOB); \
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 48) \
                 INSERT INTO ballast SELECT randomblob(1048576) FROM n; \
                 CREATE TABLE ticks (at INTEGER);",
            )
            .expect("ballast");
        let to = dir.path().join("b.db");
        let (db2, to2) = (db.clone(), to.clone());
        let backup = std::thread::spawn(move || {
            let t = Instant::now();
            let s = backup(&db2, &to2, false).expect("backup");
            (s, t, Instant::now())
        });
        let mut slowest = std::time::Duration::ZERO;
        let mut during = 0;
        while !backup.is_finished() {
            let t = Instant::now();
            live.conn()
                .expect("conn")
                .batch_execute("INSERT INTO ticks VALUES (1);")
                .expect("a write during the backup");
            slowest = slowest.max(t.elapsed());
            during += 1;
        }
        let (_, began, ended) = backup.join().expect("backup thread");
        let took = ended - began;
        assert!(during >= 3, "only {during} writes in a {took:?} backup");
        assert!(
            slowest < std::time::Duration::from_millis(500),
            "a write waited {slowest:?} during a {took:?} backup"
        );
        let copied = one(&to, "SELECT COUNT(*) AS n FROM ticks");
        assert!(copied < during, "{copied} of {during} writes in the copy");
        assert_eq!(one(&to, "SELECT COUNT(*) AS n FROM ballast"), 48);
        eprintln!("{during} writes during a {took:?} backup, slowest {slowest:?}");
    }

    #[test]
    fn backup_and_restore_refuse_postgres_and_what_is_not_ours() {
        let e = sqlite_file("postgres://u@h/db").expect_err("postgres");
        assert!(e.to_string().contains("pg_dump"), "{e}");
        let dir = tempfile::tempdir().expect("tempdir");
        let index = dir.path().join("index");
        let db = dir.path().join("zhiqilian.db");

        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "not a database, just some text that is long enough").expect("w");
        let e = restore(&text, &db, &index).expect_err("text");
        assert!(e.to_string().contains("not"), "{e}");

        let other = dir.path().join("other.db");
        open(&other)
            .expect("open")
            .batch_execute("CREATE TABLE t (x INTEGER);")
            .expect("create");
        let e = restore(&other, &db, &index).expect_err("foreign database");
        assert!(e.to_string().contains("not a Zhiqilian database"), "{e}");
        let e = backup(&other, &dir.path().join("x.db"), false).expect_err("foreign");
        assert!(e.to_string().contains("not a Zhiqilian database"), "{e}");

        let newer = dir.path().join("newer.db");
        drop(migrated(&newer));
        open(&newer)
            .expect("open")
            .batch_execute(
                "INSERT INTO __diesel_schema_migrations (version) VALUES ('99991231000001');",
            )
            .expect("insert");
        let e = restore(&newer, &db, &index).expect_err("newer");
        assert!(e.to_string().contains("newer Zhiqilian"), "{e}");
        assert!(!db.exists(), "nothing was put in place");
        assert!(!beside(&db, ".restoring").exists());
    }

    #[test]
    fn restore_keeps_the_previous_file_and_removes_the_index() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("zhiqilian.db");
        let index = dir.path().join("index");
        let live = migrated(&db);
        let backup_file = dir.path().join("b.db");
        backup(&db, &backup_file, false).expect("backup");
        // Written after the backup, and left in the live database's log.
        live.conn()
            .expect("conn")
            .batch_execute(
                "CREATE TABLE after_backup (x INTEGER); INSERT INTO after_backup VALUES (1);",
            )
            .expect("write");
        drop(live);
        std::fs::create_dir_all(&index).expect("index dir");
        std::fs::write(index.join("meta.json"), "{}").expect("w");

        let r = restore(&backup_file, &db, &index).expect("restore");
        assert!(r.index_removed);
        assert!(!index.exists());
        let kept = r.previous.expect("previous kept");
        assert_eq!(kept, dir.path().join("zhiqilian.db.before-restore"));
        assert_eq!(one(&kept, "SELECT COUNT(*) AS n FROM after_backup"), 1);
        assert!(
            open(&db)
                .expect("open")
                .batch_execute("SELECT * FROM after_backup")
                .is_err(),
            "the restored database has no trace of later writes"
        );
        assert_eq!(one(&db, "SELECT COUNT(*) AS n FROM listings"), 0);
        // The restored file serves: migrations are complete.
        assert!(migrated(&db).migrations_applied().expect("applied"));
    }

    #[test]
    fn restore_refuses_while_the_index_is_locked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("zhiqilian.db");
        let index = dir.path().join("index");
        drop(migrated(&db));
        let backup_file = dir.path().join("b.db");
        backup(&db, &backup_file, false).expect("backup");
        let held = lock_index({
            std::fs::create_dir_all(&index).expect("index");
            &index
        })
        .expect("first lock");
        let e = restore(&backup_file, &db, &index).expect_err("locked");
        assert!(e.to_string().contains("stop it first"), "{e}");
        drop(held);
        restore(&backup_file, &db, &index).expect("restore once unlocked");
    }
}
