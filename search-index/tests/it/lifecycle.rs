//! Index lifecycle: commits and their sequence, reopening, corruption, rebuilds.

use std::collections::BTreeSet;
use std::path::Path;

use zhiqilian_search_index::{
    IndexError, ListingDoc, ListingIndex, RebuildReason, SCHEMA_VERSION, SearchRequest,
};

use crate::fixtures::{ids, listings, park, text, vocab};

fn open(dir: &Path) -> zhiqilian_search_index::OpenOutcome {
    ListingIndex::open_or_create(dir, vocab()).expect("open")
}

#[test]
fn new_directory_needs_a_rebuild_then_keeps_its_sequence() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("index");
    let outcome = open(&dir);
    assert!(outcome.needs_rebuild);
    assert_eq!(outcome.reason, Some(RebuildReason::Missing));
    let index = outcome.index;
    assert_eq!(index.applied_seq(), 0);
    index.rebuild(listings(), 41, |_| {}).expect("rebuild");
    let extra = ListingDoc {
        id: "o-new".into(),
        title: "数控车床出租".into(),
        ..listings()[0].clone()
    };
    index.upsert(&extra).expect("upsert");
    index.commit(42).expect("commit");
    // read-your-writes: visible right after the commit
    assert_eq!(ids(&index, &text("数控车床")), vec!["o-new"]);
    assert_eq!(index.applied_seq(), 42);
    index.close().expect("close");

    let outcome = open(&dir);
    assert!(!outcome.needs_rebuild, "{:?}", outcome.reason);
    assert_eq!(outcome.index.applied_seq(), 42);
    assert_eq!(ids(&outcome.index, &text("数控车床")), vec!["o-new"]);
}

#[test]
fn uncommitted_changes_are_invisible_and_can_be_rolled_back() {
    let index = park();
    let doc = ListingDoc {
        id: "o-draft".into(),
        title: "龙门加工中心出租".into(),
        ..listings()[0].clone()
    };
    let draft =
        |index: &ListingIndex| ids(index, &text("龙门加工中心")).contains(&"o-draft".into());
    index.upsert(&doc).expect("upsert");
    assert!(!draft(&index));
    index.rollback().expect("rollback");
    index.commit(2).expect("commit");
    assert!(!draft(&index));
    // the same change committed is visible at once
    index.upsert(&doc).expect("upsert");
    index.commit(3).expect("commit");
    assert!(draft(&index));
}

#[test]
fn upsert_replaces_and_delete_removes() {
    let index = park();
    let mut doc = listings()[0].clone();
    doc.title = "5吨柴油叉车出租".into();
    index.upsert(&doc).expect("upsert");
    index.delete("o-compressor").expect("delete");
    index.delete("no-such-id").expect("delete unknown");
    index.commit(2).expect("commit");
    let found = ids(&index, &text("柴油叉车"));
    assert_eq!(
        found.iter().filter(|id| *id == "o-forklift").count(),
        1,
        "{found:?}"
    );
    assert!(ids(&index, &text("空压机")).is_empty());
    assert_eq!(index.num_docs() as usize, listings().len() - 1);
}

#[test]
fn corrupt_meta_is_reported_and_replaced() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let index =
        ListingIndex::rebuild_into(tmp.path(), vocab(), listings(), 7, |_| {}).expect("rebuild");
    index.close().expect("close");
    std::fs::write(tmp.path().join("meta.json"), b"{ not json").expect("corrupt");
    let outcome = open(tmp.path());
    assert!(outcome.needs_rebuild);
    assert!(
        matches!(outcome.reason, Some(RebuildReason::Corrupt(_))),
        "{:?}",
        outcome.reason
    );
    assert_eq!(outcome.index.num_docs(), 0);
    assert_eq!(outcome.index.applied_seq(), 0);
}

#[test]
fn missing_segment_files_are_reported() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let index =
        ListingIndex::rebuild_into(tmp.path(), vocab(), listings(), 7, |_| {}).expect("rebuild");
    index.close().expect("close");
    let mut removed = 0;
    for entry in std::fs::read_dir(tmp.path()).expect("list") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if !name.starts_with('.') && name != "meta.json" {
            std::fs::remove_file(&path).expect("remove");
            removed += 1;
        }
    }
    assert!(removed > 0);
    let outcome = open(tmp.path());
    assert!(outcome.needs_rebuild);
    assert!(
        matches!(outcome.reason, Some(RebuildReason::Corrupt(_))),
        "{:?}",
        outcome.reason
    );
}

#[test]
fn older_schema_version_is_reported() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let index =
        ListingIndex::rebuild_into(tmp.path(), vocab(), listings(), 7, |_| {}).expect("rebuild");
    index.close().expect("close");
    {
        // An index as an older build would have left it.
        let raw = tantivy::Index::open_in_dir(tmp.path()).expect("open raw");
        let mut writer: tantivy::IndexWriter =
            raw.writer_with_num_threads(1, 15_000_000).expect("writer");
        let mut prepared = writer.prepare_commit().expect("prepare");
        prepared.set_payload(&format!(
            r#"{{"schema_version":{},"seq":7}}"#,
            SCHEMA_VERSION - 1
        ));
        prepared.commit().expect("commit");
        writer.wait_merging_threads().expect("wait");
    }
    let outcome = open(tmp.path());
    assert!(outcome.needs_rebuild);
    assert_eq!(
        outcome.reason,
        Some(RebuildReason::SchemaVersion {
            found: SCHEMA_VERSION - 1,
            expected: SCHEMA_VERSION
        })
    );
}

#[test]
fn a_second_writer_on_the_same_directory_is_an_error_not_a_wipe() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let first =
        ListingIndex::rebuild_into(tmp.path(), vocab(), listings(), 3, |_| {}).expect("rebuild");
    let second = ListingIndex::open_or_create(tmp.path(), vocab());
    assert!(matches!(second, Err(IndexError::Tantivy(_))), "{second:?}");
    // the first one is untouched
    assert_eq!(first.num_docs() as usize, listings().len());
}

fn snapshot(index: &ListingIndex) -> Vec<(String, u64, BTreeSet<String>, String)> {
    let queries = [
        "",
        "叉车",
        "铲车出租",
        "冷库",
        "ADC12",
        "普工",
        "\"叉车出租\"",
        "加工中心",
    ];
    queries
        .iter()
        .map(|q| {
            let results = index
                .search(&SearchRequest {
                    status: None,
                    limit: 100,
                    ..SearchRequest::text(*q)
                })
                .expect("search");
            let found: BTreeSet<String> = results.hits.iter().map(|h| h.id.clone()).collect();
            (
                q.to_string(),
                results.total,
                found,
                format!("{:?}", results.facets),
            )
        })
        .collect()
}

#[test]
fn rebuild_equals_incremental_indexing() {
    // Incremental: everything in several commits, then edits and deletions.
    let incremental = ListingIndex::create_in_ram(vocab()).expect("index");
    let docs = listings();
    for (i, chunk) in docs.chunks(4).enumerate() {
        for d in chunk {
            incremental.upsert(d).expect("upsert");
        }
        incremental.commit(i as i64 + 1).expect("commit");
    }
    let mut edited = docs[1].clone();
    edited.title = "电动叉车维修".into();
    incremental.upsert(&edited).expect("upsert");
    incremental.delete("o-pallet").expect("delete");
    incremental.commit(100).expect("commit");

    // Rebuild: the final state in one go, with progress reports.
    let final_state: Vec<ListingDoc> = docs
        .iter()
        .filter(|d| d.id != "o-pallet")
        .map(|d| {
            if d.id == edited.id {
                edited.clone()
            } else {
                d.clone()
            }
        })
        .collect();
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut reported = Vec::new();
    let rebuilt = ListingIndex::rebuild_into(tmp.path(), vocab(), final_state.clone(), 100, |n| {
        reported.push(n)
    })
    .expect("rebuild");
    assert_eq!(reported.last().copied(), Some(final_state.len() as u64));
    assert_eq!(rebuilt.applied_seq(), 100);
    assert_eq!(rebuilt.num_docs(), incremental.num_docs());
    assert_eq!(snapshot(&rebuilt), snapshot(&incremental));
}

#[test]
fn failed_rebuild_keeps_the_old_content() {
    let index = park();
    let before = index.num_docs();
    let mut docs = listings();
    docs.push(ListingDoc::default()); // empty id
    let result = index.rebuild(docs, 99, |_| {});
    assert!(
        matches!(result, Err(IndexError::InvalidDocument(_))),
        "{result:?}"
    );
    index.commit(2).expect("commit");
    assert_eq!(index.num_docs(), before);
    assert_eq!(index.applied_seq(), 2);
}
