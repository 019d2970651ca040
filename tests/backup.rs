//! `zhiqilian backup` and `zhiqilian restore` as an operator runs them,
//! beside a `zhiqilian serve` process: a backup taken while clients write
//! is a sound database holding everything acknowledged before it began;
//! restoring it brings the server back to that point, search included.
//! On PostgreSQL both commands refuse and point to pg_dump.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};

use crate::crash::{MARK, listed, messages, searched, start_traffic, world_with_thread};
use crate::helpers::*;
use crate::process::{ServerProcess, run_command};
use zhiqilian_bench::crash::Acked;

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = diesel::sql_types::Text)]
    line: String,
}

fn lines(c: &mut SqliteConnection, sql: &str) -> Vec<String> {
    diesel::sql_query(sql)
        .load::<Line>(c)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .map(|l| l.line)
        .collect()
}

async fn wait_acked(acked: &std::sync::Mutex<Acked>, listings: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.lock().expect("acked").listings.len() < listings {
        assert!(Instant::now() < deadline, "writes too slow");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn command(dir: &Path, url: &str, args: &[&str]) -> (bool, String) {
    let (dir, url) = (dir.to_path_buf(), url.to_string());
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_command(&dir, &url, &args)
    })
    .await
    .expect("command task")
}

#[tokio::test]
async fn a_backup_taken_while_clients_write_is_consistent_and_restores() {
    let mut app = database_only().await;
    let file = app.data_dir().join("backup-1.db");
    let file_s = file.display().to_string();
    if app.backend_name() == "postgres" {
        for args in [
            vec!["backup", "--to", file_s.as_str()],
            vec!["restore", "--from", file_s.as_str()],
        ] {
            let (ok, err) = command(app.data_dir(), &app.database_url, &args).await;
            assert!(!ok, "{args:?} must fail on PostgreSQL");
            assert!(err.contains("pg_dump"), "{args:?}: {err}");
        }
        return;
    }
    let mut node = ServerProcess::start(app.data_dir(), &app.database_url, &[]);
    app.address = node.address.clone();
    let (w, thread) = world_with_thread(&app).await;
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Acked::default()));
    let traffic = start_traffic(&app, &w, &thread, 1, &acked);
    wait_acked(&acked, 20).await;

    // Everything acknowledged before the backup starts must be in it.
    let (before, messages_before) = {
        let a = acked.lock().expect("acked");
        (a.listings.clone(), a.messages.clone())
    };
    let started = Instant::now();
    let (ok, err) = command(
        app.data_dir(),
        &app.database_url,
        &["backup", "--to", &file_s],
    )
    .await;
    let backup_secs = started.elapsed().as_secs_f64();
    let ended = Instant::now();
    assert!(ok, "backup failed: {err}");
    assert!(err.contains("backup written to"), "{err}");
    // Writes go on after the backup; none of them may survive the restore.
    let n = acked.lock().expect("acked").listings.len();
    wait_acked(&acked, n + 10).await;
    traffic.stop().await;
    let (after, during) = {
        let a = acked.lock().expect("acked");
        assert!(
            a.refused.is_empty(),
            "writes refused during the backup:\n{}",
            a.refused.join("\n")
        );
        let after: HashSet<String> = a
            .listings
            .iter()
            .filter(|(_, l)| l.sent > ended)
            .map(|(id, _)| id.clone())
            .collect();
        let during = a.listings.len() - before.len() - after.len();
        (after, during)
    };
    assert!(after.len() >= 10);

    // The file is a sound database holding every acknowledged write.
    {
        let mut c = SqliteConnection::establish(&file_s).expect("open the backup");
        assert_eq!(
            lines(
                &mut c,
                "SELECT integrity_check AS line FROM pragma_integrity_check()"
            ),
            ["ok"]
        );
        let ids: HashSet<String> = lines(&mut c, "SELECT id AS line FROM listings")
            .into_iter()
            .collect();
        let lost: Vec<_> = before.iter().filter(|(id, _)| !ids.contains(*id)).collect();
        assert!(
            lost.is_empty(),
            "acknowledged listings missing from the backup: {lost:#?}"
        );
        let msgs: HashSet<String> = lines(&mut c, "SELECT id AS line FROM messages")
            .into_iter()
            .collect();
        let lost: Vec<_> = messages_before
            .keys()
            .filter(|id| !msgs.contains(*id))
            .collect();
        assert!(
            lost.is_empty(),
            "acknowledged messages missing from the backup: {lost:?}"
        );
        // Each listing's change is in the log the indexer replays.
        let unlogged = lines(
            &mut c,
            "SELECT id AS line FROM listings WHERE id NOT IN (SELECT listing_id FROM listing_changes)",
        );
        assert!(
            unlogged.is_empty(),
            "listings without a change-log row: {unlogged:?}"
        );
    }

    // An existing file is never overwritten without --force.
    let size = std::fs::metadata(&file).expect("backup file").len();
    let (ok, err) = command(
        app.data_dir(),
        &app.database_url,
        &["backup", "--to", &file_s],
    )
    .await;
    assert!(!ok && err.contains("--force"), "{err}");
    assert_eq!(std::fs::metadata(&file).expect("backup file").len(), size);
    let forced = app.data_dir().join("backup-2.db").display().to_string();
    std::fs::write(&forced, "old").expect("write");
    let (ok, err) = command(
        app.data_dir(),
        &app.database_url,
        &["backup", "--to", &forced, "--force"],
    )
    .await;
    assert!(ok, "{err}");
    // The old file was replaced by a sound database, not written over in
    // place: it passes the integrity check and holds what the first backup
    // held (and the writes since).
    {
        let mut c = SqliteConnection::establish(&forced).expect("open the forced backup");
        assert_eq!(
            lines(
                &mut c,
                "SELECT integrity_check AS line FROM pragma_integrity_check()"
            ),
            ["ok"]
        );
        let ids: HashSet<String> = lines(&mut c, "SELECT id AS line FROM listings")
            .into_iter()
            .collect();
        let missing: Vec<_> = before.keys().filter(|id| !ids.contains(*id)).collect();
        assert!(
            missing.is_empty(),
            "listings missing from the forced backup: {missing:?}"
        );
        assert!(ids.len() > before.len(), "{} listings", ids.len());
    }

    // Restore refuses while the server runs, then works once it is stopped
    // (here the hard way).
    let (ok, err) = command(
        app.data_dir(),
        &app.database_url,
        &["restore", "--from", &file_s],
    )
    .await;
    assert!(!ok && err.contains("stop it first"), "{err}");
    node.kill9();
    let (ok, err) = command(
        app.data_dir(),
        &app.database_url,
        &["restore", "--from", &file_s],
    )
    .await;
    assert!(ok, "restore failed: {err}");
    assert!(
        err.contains("before-restore") && err.contains("rebuilds"),
        "{err}"
    );
    assert!(app.data_dir().join("zhiqilian.db.before-restore").is_file());
    assert!(!app.data_dir().join("index").exists());

    node.restart();
    app.address = node.address.clone();
    let in_db = listed(&app, &w.admin.token).await;
    let lost: Vec<_> = before.keys().filter(|id| !in_db.contains(*id)).collect();
    assert!(lost.is_empty(), "listings lost by the restore: {lost:?}");
    let back: Vec<_> = after.iter().filter(|id| in_db.contains(*id)).collect();
    assert!(
        back.is_empty(),
        "listings written after the backup survived the restore: {back:?}"
    );
    let thread_msgs: HashSet<String> = messages(&app, &w.a.admin.token, &thread)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert!(messages_before.keys().all(|id| thread_msgs.contains(id)));
    // The index was rebuilt from the restored database at start.
    let found = searched(&app, &w.admin.token).await;
    let missing: Vec<_> = before.keys().filter(|id| !found.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "not searchable after the restore: {missing:?}"
    );
    assert!(
        found.iter().all(|id| in_db.contains(id)),
        "search shows listings the database no longer has"
    );
    // And the service writes on from there.
    let l = app
        .create_listing(
            &w.a.admin,
            &listing(
                "offer",
                "equipment",
                &format!("叉车 {MARK} 恢复后"),
                "public",
            ),
        )
        .await;
    let id = id_of(&l);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !searched(&app, &w.admin.token).await.contains(&id) {
        assert!(
            Instant::now() < deadline,
            "a write after the restore is not searchable"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "backup in {backup_secs:.2}s while clients wrote ({} listings acknowledged before it, {during} during, {} after); restored and searchable",
        before.len(),
        after.len()
    );
}
