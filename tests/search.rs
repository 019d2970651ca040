//! Search: Chinese-aware matching through HTTP, read-your-writes with
//! `?wait=indexed`, visibility, and an index that is a faithful, rebuildable
//! copy of the database (catch-up after a stop, rebuild of a lost index,
//! `reindex` equal to incremental indexing).

use serde_json::{Value, json};

use crate::helpers::*;

const WAIT: &str = "?wait=indexed";

async fn post_indexed(app: &TestApp, by: &Session, body: &Value) -> String {
    let r = app
        .post(&format!("/api/v1/listings{WAIT}"), &by.token, body)
        .await;
    assert_eq!(r.header("x-indexed"), Some("true"), "{:?}", r.body);
    id_of(r.expect(201))
}

async fn search(app: &TestApp, token: &str, query: &[(&str, &str)]) -> Value {
    let url = reqwest::Url::parse_with_params(&app.url("/api/v1/listings/search"), query)
        .expect("search url");
    let r = app.send(app.client.get(url).bearer_auth(token)).await;
    r.expect(200).clone()
}

fn hit_ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|h| h["listing"]["id"].as_str().expect("id").to_string())
        .collect()
}

fn equipment(title: &str, description: &str) -> Value {
    json!({
        "side": "offer", "kind": "equipment", "title": title, "description": description,
        "attributes": { "equipment_type": "注塑机", "mode": "共享机时" }
    })
}

#[tokio::test]
async fn written_with_wait_indexed_is_found_by_the_next_search() {
    let app = spawn_app().await;
    let w = app.world().await;
    let id = post_indexed(
        &app,
        &w.a.admin,
        &equipment("海天MA2500注塑机 夜班机时共享", "250吨锁模力，夜班空闲。"),
    )
    .await;
    let page = search(&app, &w.b.admin.token, &[("q", "MA2500")]).await;
    assert_eq!(hit_ids(&page), vec![id.clone()]);
    let hit = &page["items"][0];
    assert!(
        hit["highlights"]["title"]
            .as_str()
            .unwrap_or("")
            .contains("<em>"),
        "{hit:#}"
    );
    assert_eq!(page["total"], 1);
    assert_eq!(page["total_is_exact"], true);
    // Facets only when asked for: the lists are there, empty.
    assert_eq!(page["facets"], json!({"kind": [], "community": []}));
    let faceted = search(
        &app,
        &w.b.admin.token,
        &[("q", "MA2500"), ("facets", "kind,community")],
    )
    .await;
    assert_eq!(hit_ids(&faceted), vec![id.clone()]);
    assert_eq!(faceted["facets"]["kind"][0]["value"], "equipment");
    assert_eq!(faceted["facets"]["kind"][0]["count"], 1);
    assert_eq!(faceted["facets"]["community"][0]["name"], "大港工业社区");
    let kinds = search(
        &app,
        &w.b.admin.token,
        &[("q", "MA2500"), ("facets", "kind")],
    )
    .await;
    assert_eq!(kinds["facets"]["kind"][0]["count"], 1);
    assert_eq!(kinds["facets"]["community"], json!([]));
    // Every field the contract requires of a page is in the answer.
    let spec: serde_json::Value = yaml_serde::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml"))
            .expect("openapi.yaml"),
    )
    .expect("openapi.yaml is YAML");
    let required = spec["components"]["schemas"]["SearchPage"]["required"]
        .as_array()
        .expect("SearchPage.required")
        .clone();
    assert!(required.contains(&json!("total_is_exact")), "{required:?}");
    for field in required {
        let field = field.as_str().expect("field name");
        assert!(faceted.get(field).is_some(), "{field} missing: {faceted:#}");
    }

    // An edit and a close are searchable as soon as they are answered.
    let r = app
        .patch(
            &format!("/api/v1/listings/{id}{WAIT}"),
            &w.a.admin.token,
            &json!({"title": "海天MA2500啤机 夜班机时共享"}),
        )
        .await;
    assert_eq!(r.header("x-indexed"), Some("true"));
    assert_eq!(
        hit_ids(&search(&app, &w.b.admin.token, &[("q", "啤机")]).await),
        vec![id.clone()]
    );
    let r = app
        .post_empty(
            &format!("/api/v1/listings/{id}/close{WAIT}"),
            &w.a.admin.token,
        )
        .await;
    r.expect(200);
    assert_eq!(r.header("x-indexed"), Some("true"));
    assert!(hit_ids(&search(&app, &w.b.admin.token, &[("q", "MA2500")]).await).is_empty());
}

#[tokio::test]
async fn unspaced_chinese_and_synonyms_find_the_listing() {
    let app = spawn_app().await;
    let w = app.world().await;
    let forklift = post_indexed(
        &app,
        &w.a.admin,
        &json!({"side": "offer", "kind": "equipment", "title": "合力3吨柴油叉车出租", "description": "日租月租均可，可带司机。"}),
    )
    .await;
    let decoy = post_indexed(
        &app,
        &w.b.admin,
        &json!({"side": "offer", "kind": "space", "title": "标准厂房出租 2000平米", "description": "层高9米，带行车。"}),
    )
    .await;
    let token = &w.c.admin.token;
    // One unspaced run of several words.
    let ids = hit_ids(&search(&app, token, &[("q", "柴油叉车出租")]).await);
    assert_eq!(ids.first(), Some(&forklift), "{ids:?}");
    // 铲车 and 堆高车 are what many posters call a 叉车.
    for q in ["铲车", "堆高车出租"] {
        let ids = hit_ids(&search(&app, token, &[("q", q)]).await);
        assert_eq!(ids.first(), Some(&forklift), "{q}: {ids:?}");
    }
    // The factory shares only the word 出租: it may follow, never lead.
    assert!(!hit_ids(&search(&app, token, &[("q", "铲车")]).await).contains(&decoy));
    // A quoted phrase must appear as written.
    assert!(hit_ids(&search(&app, token, &[("q", "\"叉车柴油\"")]).await).is_empty());
    // Filters.
    assert!(hit_ids(&search(&app, token, &[("q", "叉车"), ("kind", "space")]).await).is_empty());
    assert!(hit_ids(&search(&app, token, &[("q", "叉车"), ("side", "request")]).await).is_empty());
    assert_eq!(
        hit_ids(&search(&app, token, &[("q", "出租"), ("kind", "space,service")]).await),
        vec![decoy]
    );
}

#[tokio::test]
async fn search_respects_visibility_and_verification() {
    let app = spawn_app().await;
    let w = app.world().await;
    let mut body = equipment("空压机出租 阿特拉斯37kW", "螺杆空压机，应急可当天送到。");
    body["visibility"] = json!("community");
    let private = post_indexed(&app, &w.a.admin, &body).await;
    // Same community (firm b, staff1) sees it; another community does not.
    assert_eq!(
        hit_ids(&search(&app, &w.b.admin.token, &[("q", "空压机")]).await),
        vec![private.clone()]
    );
    assert_eq!(
        hit_ids(&search(&app, &w.staff1.token, &[("q", "空压机")]).await),
        vec![private.clone()]
    );
    assert!(hit_ids(&search(&app, &w.c.admin.token, &[("q", "空压机")]).await).is_empty());
    assert!(hit_ids(&search(&app, &w.staff2.token, &[("q", "空压机")]).await).is_empty());
    assert_eq!(
        hit_ids(&search(&app, &w.admin.token, &[("q", "空压机")]).await),
        vec![private]
    );

    // An unverified firm's listing: its own members and its staff only,
    // until verification, which re-indexes its listings.
    let newcomer = app.register_firm(&w.c1).await;
    let id = post_indexed(
        &app,
        &newcomer.admin,
        &equipment("二手空压机出售", "7.5kW，九成新。"),
    )
    .await;
    let q = [("q", "空压机出售")];
    assert!(!hit_ids(&search(&app, &w.b.admin.token, &q).await).contains(&id));
    assert!(hit_ids(&search(&app, &newcomer.admin.token, &q).await).contains(&id));
    assert!(hit_ids(&search(&app, &w.staff1.token, &q).await).contains(&id));
    app.verify_firm(&w.staff1, &newcomer.id).await;
    let mut seen = false;
    for _ in 0..50 {
        if hit_ids(&search(&app, &w.b.admin.token, &q).await).contains(&id) {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(seen, "verification did not reach the index within 5 s");
}

#[tokio::test]
async fn distance_radius_sort_and_pages() {
    let app = spawn_app().await;
    let w = app.world().await;
    let mut ids = Vec::new();
    // Five warehouses 1 km apart going north from (29.90, 121.85).
    for i in 0..5 {
        let body = json!({
            "side": "offer", "kind": "space", "title": format!("仓库出租 {}号库", i + 1),
            "location": {"address": "北仑", "lat": 29.90 + 0.009 * i as f64, "lon": 121.85},
            "attributes": {"usage": "仓储"}
        });
        ids.push(post_indexed(&app, &w.a.admin, &body).await);
    }
    let t = &w.b.admin.token;
    let page = search(
        &app,
        t,
        &[
            ("q", "仓库"),
            ("near", "29.90,121.85"),
            ("radius_km", "2.5"),
            ("sort", "distance"),
        ],
    )
    .await;
    assert_eq!(hit_ids(&page), ids[..3].to_vec());
    let d: Vec<f64> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|h| h["distance_km"].as_f64().expect("distance"))
        .collect();
    assert!(
        d[0] < 0.1 && (d[1] - 1.0).abs() < 0.05 && (d[2] - 2.0).abs() < 0.05,
        "{d:?}"
    );

    // Pages of 2 over 5 hits: no gaps, no repeats.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..5 {
        let mut q = vec![("q", "仓库"), ("limit", "2"), ("sort", "newest")];
        if let Some(c) = &cursor {
            q.push(("cursor", c.as_str()));
        }
        let page = search(&app, t, &q).await;
        assert_eq!(page["total"], 5);
        seen.extend(hit_ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);
}

#[tokio::test]
async fn empty_absurd_and_invalid_queries_get_sane_answers() {
    let app = spawn_app().await;
    let w = app.world().await;
    post_indexed(&app, &w.a.admin, &space_offer("厂房出租")).await;
    let t = &w.b.admin.token;
    // No text: everything that passes the filters, newest first.
    assert_eq!(search(&app, t, &[]).await["total"], 1);
    // No words to search by (punctuation, emoji, a lone quote, query
    // syntax that is not ours): as if there were no text. Words that no
    // listing has: nothing, never everything. Field syntax is just words.
    for (q, found) in [
        ("！！！，。", 1),
        ("🚜🚜🚜", 1),
        ("\"", 1),
        ("*:*", 1),
        ("AND OR NOT", 0),
        ("叉车", 0),
        ("冷库 blah", 0),
        ("title:厂房", 1),
    ] {
        let page = search(&app, t, &[("q", q)]).await;
        assert_eq!(page["total"], found, "{q:?}: {page:#}");
        let items = page["items"].as_array().expect("items");
        assert_eq!(items.len(), found, "{q:?}: {page:#}");
        for hit in items {
            assert_eq!(hit["listing"]["title"], "厂房出租", "{q:?}: {page:#}");
        }
    }
    let long = "厂".repeat(1_001);
    let url = |q: &[(&str, &str)]| {
        reqwest::Url::parse_with_params(&app.url("/api/v1/listings/search"), q).expect("url")
    };
    let r = app
        .send(app.client.get(url(&[("q", long.as_str())])).bearer_auth(t))
        .await;
    r.expect_problem(422, "validation_failed");
    for (q, field) in [
        (vec![("near", "north")], "near"),
        (vec![("radius_km", "5")], "radius_km"),
        (
            vec![("near", "29.9,121.8"), ("radius_km", "-1")],
            "radius_km",
        ),
        (vec![("sort", "distance")], "sort"),
        (vec![("sort", "cheapest")], "sort"),
        (vec![("kind", "space,rocket")], "kind"),
        (vec![("available_on", "next week")], "available_on"),
        (vec![("cursor", "bm90LWEtY3Vyc29y")], "cursor"),
        (vec![("limit", "0")], "limit"),
        (vec![("facets", "kind,price")], "facets"),
    ] {
        let r = app.send(app.client.get(url(&q)).bearer_auth(t)).await;
        r.expect_problem(422, "validation_failed");
        assert!(
            r.fields().contains(&field.to_string()),
            "{q:?}: {:?}",
            r.fields()
        );
    }
    app.get_anon("/api/v1/listings/search?q=x")
        .await
        .expect_problem(401, "unauthenticated");
}

#[tokio::test]
async fn the_index_catches_up_after_a_stop_is_rebuilt_when_lost_and_reindex_equals_incremental() {
    use zhiqilian::worker::indexer;
    use zhiqilian_search_index::SearchRequest;

    let app = spawn_app().await;
    let w = app.world().await;
    for t in ["叉车出租", "注塑机共享", "冷库仓储"] {
        post_indexed(
            &app,
            &w.a.admin,
            &listing("offer", "equipment", t, "public"),
        )
        .await;
    }
    let node = tempfile::tempdir().expect("second node's data dir");
    // A second node starts from nothing: it rebuilds from the database.
    let s = indexer::start(app.db(), node.path(), indexer::VocabState::builtin())
        .await
        .expect("start");
    assert_eq!(s.index.num_docs(), 3);
    let head = app.change_head().await;
    assert_eq!(s.applied_seq(), head);
    s.shutdown().await;
    drop(s);

    // Writes while that node is stopped are applied when it starts again,
    // from the sequence its index committed.
    post_indexed(
        &app,
        &w.b.admin,
        &listing("offer", "equipment", "空压机出租", "public"),
    )
    .await;
    let id = post_indexed(
        &app,
        &w.b.admin,
        &listing("request", "equipment", "求购二手叉车", "public"),
    )
    .await;
    app.post_empty(&format!("/api/v1/listings/{id}/close"), &w.b.admin.token)
        .await
        .expect(200);
    let s = indexer::start(app.db(), node.path(), indexer::VocabState::builtin())
        .await
        .expect("restart");
    assert_eq!(s.applied_seq(), app.change_head().await);
    assert_eq!(s.index.num_docs(), 5);
    let found = |s: &indexer::SearchIndex, q: &str| -> Vec<String> {
        s.index
            .search(&SearchRequest::text(q))
            .expect("search")
            .hits
            .into_iter()
            .map(|h| h.id)
            .collect()
    };
    assert_eq!(found(&s, "空压机").len(), 1);
    assert!(found(&s, "求购二手叉车").is_empty() || !found(&s, "求购二手叉车").contains(&id));
    let incremental: Vec<Vec<String>> = ["叉车", "注塑机", "空压机 冷库", ""]
        .iter()
        .map(|q| found(&s, q))
        .collect();
    s.shutdown().await;
    drop(s);

    // `reindex` builds a fresh copy that answers exactly the same.
    let n = indexer::reindex(
        &app.db(),
        node.path(),
        &indexer::VocabState::builtin(),
        |_| {},
    )
    .expect("reindex");
    assert_eq!(n, 5);
    let s = indexer::start(app.db(), node.path(), indexer::VocabState::builtin())
        .await
        .expect("after reindex");
    let rebuilt: Vec<Vec<String>> = ["叉车", "注塑机", "空压机 冷库", ""]
        .iter()
        .map(|q| found(&s, q))
        .collect();
    assert_eq!(rebuilt, incremental);
    s.shutdown().await;
    drop(s);

    // A deleted index folder is rebuilt at start.
    std::fs::remove_dir_all(indexer::index_dir(node.path())).expect("delete index");
    let s = indexer::start(app.db(), node.path(), indexer::VocabState::builtin())
        .await
        .expect("rebuild");
    assert_eq!(s.index.num_docs(), 5);
    assert_eq!(s.applied_seq(), app.change_head().await);
    s.shutdown().await;
}

/// The quality figure of `zhiqilian eval-search` on the dev set: a
/// regression in tokenising, synonyms or ranking shows here first. Every
/// request with a judged grade-2 offer is searched (none dropped from the
/// average), and each kind holds on its own.
#[test]
fn dev_set_search_quality_holds() {
    let data = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../eval/dev"));
    let judged: std::collections::BTreeSet<String> =
        std::fs::read_to_string(data.join("judgments.jsonl"))
            .expect("judgments.jsonl")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str::<Value>(l).expect("a judgment"))
            .filter(|j| j["grade"].as_u64() >= Some(2))
            .map(|j| j["request"].as_str().expect("request").to_string())
            .collect();
    assert_eq!(judged.len(), 47);
    let q = zhiqilian::cli::eval::search_quality(data).expect("evaluate");
    assert_eq!(q.requests, judged.len(), "requests searched");
    assert!(
        q.grade2_in_top5 >= 0.90,
        "grade-2 in top 5 fell to {:.3}; misses {:?}",
        q.grade2_in_top5,
        q.misses
    );
    // Per kind, just under today's shares.
    let mut kinds: Vec<&str> = q.per_kind.keys().map(String::as_str).collect();
    kinds.sort_unstable();
    let expected: Vec<&str> = SEARCH_MINIMUMS.iter().map(|m| m.0).collect();
    assert_eq!(kinds, expected);
    for (kind, min) in SEARCH_MINIMUMS {
        let share = q.per_kind[kind];
        assert!(
            share >= min,
            "{kind}: grade-2 in top 5 {share:.3} < {min}; misses {:?}",
            q.misses
        );
    }
}

/// (kind, minimum share of requests with a grade-2 offer in the top 5);
/// today 8 of 9 for equipment and logistics, every one for the others.
const SEARCH_MINIMUMS: [(&str, f64); 6] = [
    ("equipment", 0.88),
    ("logistics", 0.88),
    ("material", 0.99),
    ("service", 0.99),
    ("space", 0.99),
    ("workforce", 0.99),
];
