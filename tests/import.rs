//! The JSONL importer on the shared dev listings, and on a file with bad
//! lines.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use zhiqilian::cli::import::{ImportOptions, ImportReport, import_file};

use crate::helpers::*;

const DEV_LISTINGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../eval/dev/listings.jsonl");

async fn import(app: &TestApp, path: &Path) -> ImportReport {
    let db = app.db();
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        import_file(
            &db,
            &path,
            ImportOptions {
                verify_firms: true,
                progress: false,
            },
        )
    })
    .await
    .expect("import task")
    .expect("import runs")
}

#[tokio::test]
async fn dev_listings_import_cleanly_and_idempotently() {
    let app = spawn_app().await;
    let text = std::fs::read_to_string(DEV_LISTINGS)
        .unwrap_or_else(|e| panic!("cannot read {DEV_LISTINGS}: {e}"));
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("dev line is JSON"))
        .collect();
    assert_eq!(lines.len(), 167);

    let first = import(&app, Path::new(DEV_LISTINGS)).await;
    assert!(first.errors.is_empty(), "{:#?}", first.errors);
    assert_eq!(first.lines, 167);
    assert_eq!(first.created, 167);
    assert_eq!((first.updated, first.unchanged), (0, 0));
    assert_eq!(first.communities_created, 7);
    assert_eq!(first.firms_created, 42);
    assert_eq!(app.change_head().await, 167);

    let second = import(&app, Path::new(DEV_LISTINGS)).await;
    assert!(second.errors.is_empty(), "{:#?}", second.errors);
    assert_eq!(second.unchanged, 167);
    assert_eq!((second.created, second.updated), (0, 0));
    assert_eq!((second.communities_created, second.firms_created), (0, 0));
    assert_eq!(
        app.change_head().await,
        167,
        "unchanged lines write nothing"
    );

    // Over HTTP: the communities are public, the listings visible to a
    // signed-in member of a freshly registered firm.
    let r = app.get_anon("/api/v1/communities").await;
    let communities: HashMap<String, String> = r.expect(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| (c["name"].as_str().expect("name").to_string(), id_of(c)))
        .collect();
    let names: HashSet<&str> = lines
        .iter()
        .map(|l| l["community"].as_str().expect("community"))
        .collect();
    assert_eq!(
        communities
            .keys()
            .map(String::as_str)
            .collect::<HashSet<_>>(),
        names
    );
    let dagang = &communities["大港工业社区"];
    let f = app.register_firm(dagang).await;
    let member = app.add_member(&f.admin, &f.id).await;

    let all = app
        .all_pages("/api/v1/listings?limit=50", &member.token)
        .await;
    assert_eq!(all.len(), 167);
    let keys: HashSet<&str> = all.iter().filter_map(|l| l["key"].as_str()).collect();
    let want: HashSet<&str> = lines.iter().filter_map(|l| l["key"].as_str()).collect();
    assert_eq!(keys, want);
    assert!(all.iter().all(|l| l["firm"]["verified"] == true));

    let in_dagang = app
        .all_pages(
            &format!("/api/v1/listings?community={dagang}&limit=100"),
            &member.token,
        )
        .await;
    let expected = lines
        .iter()
        .filter(|l| l["community"] == "大港工业社区")
        .count();
    assert_eq!(in_dagang.len(), expected);

    // One line checked field by field against its source.
    let src = &lines[0];
    let got = all
        .iter()
        .find(|l| l["key"] == src["key"])
        .expect("first dev listing");
    for key in [
        "side",
        "kind",
        "title",
        "description",
        "available_from",
        "available_until",
        "urgency",
    ] {
        assert_eq!(got[key], src[key], "{key}");
    }
    assert_eq!(got["attributes"], src["attributes"]);
    assert_eq!(got["location"], src["location"]);
    assert_eq!(got["quantity"]["unit"], src["quantity"]["unit"]);
    assert_eq!(
        got["quantity"]["amount"].as_f64(),
        src["quantity"]["amount"].as_f64()
    );
    assert_eq!(got["firm"]["name"], src["firm"]["name"]);
    assert_eq!(got["community"]["name"], src["community"]);

    let offers = app
        .all_pages("/api/v1/listings?side=offer&limit=100", &member.token)
        .await;
    let expected = lines.iter().filter(|l| l["side"] == "offer").count();
    assert_eq!(offers.len(), expected);
}

fn write_lines(dir: &Path, lines: &[String]) -> PathBuf {
    let p = dir.join("bad.jsonl");
    std::fs::write(&p, lines.join("\n") + "\n").expect("write test file");
    p
}

#[tokio::test]
async fn bad_lines_are_reported_and_good_lines_still_import() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let uscc = valid_uscc();
    let good = |key: &str, title: &str| {
        json!({
            "key": key, "side": "offer", "kind": "space", "title": title,
            "firm": { "name": "宁波测试制造有限公司", "uscc": uscc },
            "community": "测试工业社区",
            "location": { "address": "宁波市北仑区", "lat": 29.9, "lon": 121.8 },
            "attributes": { "area_m2": 800 }
        })
    };
    let mut bad_uscc = good("T-3", "厂房");
    bad_uscc["firm"]["uscc"] = json!("91330206625496915C");
    bad_uscc["firm"]["name"] = json!("另一家公司");
    bad_uscc["community"] = json!("不该出现的社区");
    let mut bad_fields = good("T-4", "");
    bad_fields["kind"] = json!("spaceship");
    let mut bad_values = good("T-8", "冷库");
    bad_values["quantity"] = json!({ "amount": -5, "unit": "吨" });
    bad_values["attributes"] = json!({ "colour": "red" });
    let mut unknown_field = good("T-9", "仓库");
    unknown_field["owner"] = json!("someone");
    let mut no_key = good("x", "仓库");
    no_key.as_object_mut().expect("object").remove("key");

    let lines = vec![
        good("T-1", "第一条好数据").to_string(), // 1
        "{not json".to_string(),                 // 2
        bad_uscc.to_string(),                    // 3
        bad_fields.to_string(),                  // 4
        String::new(),                           // 5 (blank, skipped)
        good("T-6", "第二条好数据").to_string(), // 6
        "[1, 2]".to_string(),                    // 7
        bad_values.to_string(),                  // 8
        unknown_field.to_string(),               // 9
        no_key.to_string(),                      // 10
    ];
    let path = write_lines(dir.path(), &lines);
    let report = import(&app, &path).await;

    assert_eq!(report.lines, 9, "blank lines are not counted");
    assert_eq!(report.created, 2);
    assert_eq!(report.communities_created, 1, "bad lines create nothing");
    assert_eq!(report.firms_created, 1);
    let by_line: Vec<(usize, &str)> = report
        .errors
        .iter()
        .map(|e| (e.line, e.field.as_str()))
        .collect();
    let has = |line: usize, field: &str| by_line.contains(&(line, field));
    for (line, field) in [
        (2, "line"),
        (3, "firm.uscc"),
        (4, "kind"),
        (4, "title"),
        (7, "line"),
        (8, "quantity.amount"),
        (8, "attributes.colour"),
        (9, "owner"),
        (10, "key"),
    ] {
        assert!(
            has(line, field),
            "no error for line {line} field {field}: {by_line:?}"
        );
    }
    let lines_with_errors: HashSet<usize> = report.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines_with_errors, HashSet::from([2, 3, 4, 7, 8, 9, 10]));
    assert_eq!(report.failed_lines(), 7);
    assert!(report.errors.iter().all(|e| !e.message.is_empty()));
    assert_eq!(app.change_head().await, 2);

    // The good lines are there; fixing a bad line and re-running imports it
    // and leaves the others unchanged.
    let mut fixed = lines.clone();
    fixed[3] = good("T-4", "修好的数据").to_string();
    let path = write_lines(dir.path(), &fixed);
    let again = import(&app, &path).await;
    assert_eq!((again.created, again.unchanged, again.updated), (1, 2, 0));

    // Changing a line updates the listing in place.
    fixed[0] = good("T-1", "第一条好数据（改）").to_string();
    let path = write_lines(dir.path(), &fixed);
    let third = import(&app, &path).await;
    assert_eq!((third.created, third.unchanged, third.updated), (0, 2, 1));

    let admin = app.admin().await;
    let all = app.all_pages("/api/v1/listings", &admin.token).await;
    let mut titles: Vec<(String, String, i64)> = all
        .iter()
        .map(|l| {
            (
                l["key"].as_str().unwrap_or_default().to_string(),
                l["title"].as_str().unwrap_or_default().to_string(),
                l["version"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    titles.sort();
    assert_eq!(
        titles,
        [
            ("T-1".to_string(), "第一条好数据（改）".to_string(), 2),
            ("T-4".to_string(), "修好的数据".to_string(), 1),
            ("T-6".to_string(), "第二条好数据".to_string(), 1),
        ]
    );
    let r = app.get_anon("/api/v1/communities").await;
    let names: Vec<&str> = r.expect(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["测试工业社区"]);
}

#[tokio::test]
async fn a_missing_file_is_an_error() {
    let app = spawn_app().await;
    let db = app.db();
    let r = tokio::task::spawn_blocking(move || {
        import_file(
            &db,
            Path::new("/nonexistent/listings.jsonl"),
            ImportOptions {
                verify_firms: true,
                progress: false,
            },
        )
    })
    .await
    .expect("task");
    let e = r.expect_err("missing file");
    assert!(
        e.to_string().contains("/nonexistent/listings.jsonl"),
        "{e:#}"
    );
}

/// The command-line import keeps a local search index in step as it writes,
/// and finds the index busy (not corrupted) when a server holds it.
#[tokio::test]
async fn import_indexes_locally_and_leaves_a_busy_index_alone() {
    use zhiqilian::worker::indexer::{LocalIndexer, index_dir};
    use zhiqilian_search_index::{ListingIndex, SearchRequest, Vocabulary};

    let app = spawn_app().await;
    let node = tempfile::tempdir().expect("node data dir");
    let vocab_dir = node.path().join("vocab");
    let db = app.db();
    let dir = node.path().to_path_buf();
    let (report, seq) = tokio::task::spawn_blocking(move || {
        let indexer = LocalIndexer::spawn(db.clone(), &dir, &vocab_dir).expect("index free");
        let report = import_file(
            &db,
            Path::new(DEV_LISTINGS),
            ImportOptions {
                verify_firms: true,
                progress: false,
            },
        )
        .expect("import");
        (report, indexer.finish().expect("indexer"))
    })
    .await
    .expect("task");
    assert_eq!(report.created, 167);
    assert_eq!(seq, app.change_head().await);
    let opened =
        ListingIndex::open_or_create(&index_dir(node.path()), Vocabulary::shared_builtin())
            .expect("reopen");
    assert!(!opened.needs_rebuild);
    assert_eq!(opened.index.num_docs(), 167);
    assert!(
        !opened
            .index
            .search(&SearchRequest::text("荧光定量PCR仪"))
            .expect("search")
            .hits
            .is_empty()
    );

    // While something holds the index (here `opened`, as a running server
    // would), an import still writes to the database, but its indexer finds
    // the index busy and leaves it be.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut extra: Value = serde_json::from_str(
        std::fs::read_to_string(DEV_LISTINGS)
            .expect("dev listings")
            .lines()
            .next()
            .expect("a line"),
    )
    .expect("json");
    extra["key"] = json!("busy-index-extra");
    extra["title"] = json!("忙碌索引期间导入的 注塑代加工");
    let path = write_lines(dir.path(), &[extra.to_string()]);
    let busy = LocalIndexer::spawn(app.db(), node.path(), &node.path().join("vocab"));
    let err = busy
        .err()
        .expect("the index is held: the indexer must not start");
    let message = format!("{err:#}");
    assert!(
        message.contains("unavailable") && message.contains("Lock"),
        "not a busy-index error: {message}"
    );
    assert_eq!(import(&app, &path).await.created, 1);
    let head = app.change_head().await;
    assert_eq!(head, seq + 1);
    drop(opened);

    // Read from disk afresh: the index is intact and where it was.
    let reopened =
        ListingIndex::open_or_create(&index_dir(node.path()), Vocabulary::shared_builtin())
            .expect("reopen");
    assert!(!reopened.needs_rebuild, "{:?}", reopened.reason);
    assert_eq!(reopened.index.num_docs(), 167);
    assert_eq!(reopened.index.applied_seq(), seq);
    drop(reopened);
    // Once free, an indexer catches up with what was imported meanwhile.
    let (db, dir) = (app.db(), node.path().to_path_buf());
    let caught_up = tokio::task::spawn_blocking(move || {
        LocalIndexer::spawn(db, &dir, &dir.join("vocab"))
            .expect("index free")
            .finish()
            .expect("indexer")
    })
    .await
    .expect("task");
    assert_eq!(caught_up, head);
    let after = ListingIndex::open_or_create(&index_dir(node.path()), Vocabulary::shared_builtin())
        .expect("reopen");
    assert_eq!(after.index.num_docs(), 168);
}

/// A key repeated within one file: the first line creates the listing, the
/// later one updates it (the bulk insert of the batch falls back to lines).
#[tokio::test]
async fn a_key_repeated_in_one_file_creates_then_updates() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let first = std::fs::read_to_string(DEV_LISTINGS)
        .expect("dev listings")
        .lines()
        .next()
        .expect("a line")
        .to_string();
    let mut second: Value = serde_json::from_str(&first).expect("json");
    second["title"] = json!("380T注塑代加工 PP/ABS件（更新）");
    let path = write_lines(dir.path(), &[first, second.to_string()]);
    let report = import(&app, &path).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!((report.created, report.updated), (1, 1));
    let head = app.change_head().await;
    assert_eq!(head, 2, "one change per write");
}
