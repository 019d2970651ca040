//! The park's own vocabulary: staff add a synonym group, every node
//! re-indexes in the background without a restart, search finds the park's
//! local trade name by its common name, an undo takes it away again; audit,
//! roles and validation.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

const VOCAB: &str = "/api/v1/staff/vocabulary";

/// Ids of the listings a search for `q` finds (as `token` may see them).
async fn search_ids(app: &TestApp, token: &str, q: &str) -> Vec<String> {
    let r = app
        .get(
            &format!("/api/v1/listings/search?q={}&limit=50", urlencode(q)),
            token,
        )
        .await;
    r.expect(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|h| h["listing"]["id"].as_str().expect("id").to_string())
        .collect()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Polls the node's re-index status until it applies `version` (or later).
async fn wait_applied(app: &TestApp, token: &str, query: &str, version: i64) -> Value {
    let started = Instant::now();
    loop {
        let r = app.get(&format!("{VOCAB}/reindex{query}"), token).await;
        let s = r.expect(200).clone();
        if s["applied_version"].as_i64().expect("applied_version") >= version
            && s["up_to_date"] == json!(true)
        {
            return s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "vocabulary version {version} not applied: {s}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn post_listing(app: &TestApp, by: &Session, title: &str) -> String {
    let r = app
        .post(
            "/api/v1/listings?wait=indexed",
            &by.token,
            &listing("offer", "equipment", title, "public"),
        )
        .await;
    id_of(r.expect(201))
}

async fn audit_actions(app: &TestApp, token: &str) -> Vec<Value> {
    app.all_pages("/api/v1/staff/audit", token).await
}

async fn version_now(app: &TestApp, token: &str) -> i64 {
    app.get(&format!("{VOCAB}/reindex"), token)
        .await
        .expect(200)["version"]
        .as_i64()
        .expect("version")
}

#[tokio::test]
async fn a_synonym_group_staff_add_is_searchable_after_the_background_reindex_and_undo_takes_it_back()
 {
    let app = spawn_app().await;
    let w = app.world().await;
    // 炮头 is what the park calls a hydraulic breaker (破碎锤).
    let id = post_listing(&app, &w.a.admin, "炮头出租 带操作手 按天计").await;
    let other = post_listing(&app, &w.b.admin, "叉车出租 三吨").await;
    assert!(
        search_ids(&app, &w.b.admin.token, "炮头")
            .await
            .contains(&id)
    );
    assert!(
        !search_ids(&app, &w.b.admin.token, "破碎锤")
            .await
            .contains(&id)
    );
    let before = version_now(&app, &w.staff1.token).await;

    let r = app
        .post(
            VOCAB,
            &w.staff1.token,
            &json!({"kind": "synonyms", "terms": [" 炮头 ", "破碎锤"]}),
        )
        .await;
    let added = r.expect(201).clone();
    let version = added["version"].as_i64().expect("version");
    assert_eq!(version, before + 1);
    assert_eq!(added["entry"]["terms"], json!(["炮头", "破碎锤"]));
    assert_eq!(added["entry"]["kind"], "synonyms");

    // The node re-indexes in the background and reports its progress;
    // searches keep answering meanwhile.
    let status = wait_applied(&app, &w.staff1.token, "", version).await;
    assert_eq!(status["running"], false);
    assert!(status["total"].as_u64().expect("total") >= 2, "{status}");
    assert_eq!(status["done"], status["total"], "{status}");
    let found = search_ids(&app, &w.b.admin.token, "破碎锤").await;
    assert!(found.contains(&id), "{found:?}");
    assert!(!found.contains(&other));
    // The other way round too, and matching retrieves through the same
    // index: a request for 破碎锤 is matched with the 炮头 offer.
    assert!(
        search_ids(&app, &w.b.admin.token, "炮头")
            .await
            .contains(&id)
    );

    let list = app.get(VOCAB, &w.staff1.token).await.expect(200).clone();
    assert_eq!(list["community_id"], json!(w.c1));
    assert_eq!(list["version"], json!(version));
    let entries = list["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["terms"], json!(["炮头", "破碎锤"]));
    assert_eq!(list["changes"][0]["action"], "add");
    assert!(list["changes"][0]["undone_at"].is_null());

    let audit = audit_actions(&app, &w.staff1.token).await;
    let entry = audit
        .iter()
        .find(|e| e["action"] == "vocabulary.added")
        .expect("audited");
    assert_eq!(entry["subject"]["type"], "vocabulary_entry");
    assert_eq!(entry["subject"]["id"], added["entry"]["id"]);
    assert_eq!(entry["detail"]["terms"], json!(["炮头", "破碎锤"]));

    // Undo the last change: the group is gone again once re-indexed.
    let r = app
        .post(&format!("{VOCAB}/undo"), &w.staff1.token, &json!({}))
        .await;
    let undone = r.expect(200).clone();
    let version2 = undone["version"].as_i64().expect("version");
    assert_eq!(version2, version + 1);
    assert_eq!(undone["undone"]["action"], "add");
    assert_eq!(undone["undone"]["terms"], json!(["炮头", "破碎锤"]));
    wait_applied(&app, &w.staff1.token, "", version2).await;
    assert!(
        !search_ids(&app, &w.b.admin.token, "破碎锤")
            .await
            .contains(&id)
    );
    assert!(
        search_ids(&app, &w.b.admin.token, "炮头")
            .await
            .contains(&id)
    );
    let list = app.get(VOCAB, &w.staff1.token).await.expect(200).clone();
    assert!(list["entries"].as_array().expect("entries").is_empty());
    assert!(!list["changes"][0]["undone_at"].is_null());
    let audit = audit_actions(&app, &w.staff1.token).await;
    assert!(audit.iter().any(|e| e["action"] == "vocabulary.undone"));

    // Nothing left to undo; undoing the same change again is refused.
    app.post(&format!("{VOCAB}/undo"), &w.staff1.token, &json!({}))
        .await
        .expect_problem(409, "conflict");
    let change_id = undone["undone"]["id"].as_str().expect("id");
    app.post(
        &format!("{VOCAB}/undo"),
        &w.staff1.token,
        &json!({"change_id": change_id}),
    )
    .await
    .expect_problem(409, "conflict");
    assert_eq!(version_now(&app, &w.staff1.token).await, version2);
}

#[tokio::test]
async fn removing_an_entry_and_undoing_the_removal_restore_each_other() {
    let app = spawn_app().await;
    let w = app.world().await;
    let id = post_listing(&app, &w.a.admin, "出租炮头一台").await;
    let r = app
        .post(
            VOCAB,
            &w.staff1.token,
            &json!({"kind": "synonyms", "terms": ["炮头", "破碎锤"]}),
        )
        .await;
    let entry_id = r.expect(201)["entry"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let r = app
        .request(
            Method::DELETE,
            &format!("{VOCAB}/{entry_id}"),
            Some(&w.staff1.token),
            None,
        )
        .await;
    let version = r.expect(200)["version"].as_i64().expect("version");
    wait_applied(&app, &w.staff1.token, "", version).await;
    assert!(
        !search_ids(&app, &w.b.admin.token, "破碎锤")
            .await
            .contains(&id)
    );
    // Removing it again: it is not live any more.
    app.request(
        Method::DELETE,
        &format!("{VOCAB}/{entry_id}"),
        Some(&w.staff1.token),
        None,
    )
    .await
    .expect_problem(404, "not_found");
    // Undo the removal: back again.
    let r = app
        .post(&format!("{VOCAB}/undo"), &w.staff1.token, &json!({}))
        .await;
    let undone = r.expect(200).clone();
    assert_eq!(undone["undone"]["action"], "remove");
    let version = undone["version"].as_i64().expect("version");
    wait_applied(&app, &w.staff1.token, "", version).await;
    assert!(
        search_ids(&app, &w.b.admin.token, "破碎锤")
            .await
            .contains(&id)
    );
    let audit = audit_actions(&app, &w.staff1.token).await;
    for action in [
        "vocabulary.added",
        "vocabulary.removed",
        "vocabulary.undone",
    ] {
        assert!(audit.iter().any(|e| e["action"] == action), "{action}");
    }
}

#[tokio::test]
async fn only_a_park_staff_and_platform_admins_manage_its_vocabulary() {
    let app = spawn_app().await;
    let w = app.world().await;
    let group = json!({"kind": "synonyms", "terms": ["炮头", "破碎锤"]});
    // Firm users are refused.
    app.post(VOCAB, &w.a.admin.token, &group)
        .await
        .expect_problem(403, "forbidden");
    app.get(VOCAB, &w.a.admin.token)
        .await
        .expect_problem(403, "forbidden");
    app.get(&format!("{VOCAB}/reindex"), &w.a.admin.token)
        .await
        .expect_problem(403, "forbidden");
    app.get(&format!("{VOCAB}/suggestions"), &w.a.admin.token)
        .await
        .expect_problem(403, "forbidden");
    app.post(&format!("{VOCAB}/undo"), &w.a.admin.token, &json!({}))
        .await
        .expect_problem(403, "forbidden");
    app.get_anon(VOCAB).await.expect(401);

    let r = app.post(VOCAB, &w.staff1.token, &group).await;
    let entry_id = r.expect(201)["entry"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    // Another park's staff neither see, remove nor undo it, nor name it.
    let theirs = app.get(VOCAB, &w.staff2.token).await.expect(200).clone();
    assert!(theirs["entries"].as_array().expect("entries").is_empty());
    app.get(&format!("{VOCAB}?community_id={}", w.c1), &w.staff2.token)
        .await
        .expect_problem(403, "forbidden");
    app.request(
        Method::DELETE,
        &format!("{VOCAB}/{entry_id}"),
        Some(&w.staff2.token),
        None,
    )
    .await
    .expect_problem(404, "not_found");
    app.post(&format!("{VOCAB}/undo"), &w.staff2.token, &json!({}))
        .await
        .expect_problem(409, "conflict");
    app.post(
        &format!("{VOCAB}/undo"),
        &w.staff2.token,
        &json!({"community_id": w.c1}),
    )
    .await
    .expect_problem(403, "forbidden");
    let firm_member = app.add_member(&w.a.admin, &w.a.id).await;
    app.request(
        Method::DELETE,
        &format!("{VOCAB}/{entry_id}"),
        Some(&firm_member.token),
        None,
    )
    .await
    .expect_problem(403, "forbidden");

    // Platform admins name the park.
    app.get(VOCAB, &w.admin.token)
        .await
        .expect_problem(422, "validation_failed");
    let mine = app
        .get(&format!("{VOCAB}?community_id={}", w.c1), &w.admin.token)
        .await
        .expect(200)
        .clone();
    assert_eq!(mine["entries"][0]["id"], json!(entry_id));
    app.get(&format!("{VOCAB}?community_id=nope"), &w.admin.token)
        .await
        .expect_problem(404, "not_found");
    let r = app
        .post(
            VOCAB,
            &w.admin.token,
            &json!({"community_id": w.c2, "kind": "word", "terms": ["辊道窑"]}),
        )
        .await;
    r.expect(201);
    let theirs = app.get(VOCAB, &w.staff2.token).await.expect(200).clone();
    assert_eq!(theirs["entries"][0]["terms"], json!(["辊道窑"]));
    // Still exactly one live entry in c1: nothing of the refusals landed.
    let mine = app.get(VOCAB, &w.staff1.token).await.expect(200).clone();
    assert_eq!(mine["entries"].as_array().expect("entries").len(), 1);
    assert_eq!(mine["changes"].as_array().expect("changes").len(), 1);
}

#[tokio::test]
async fn bad_entries_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let w = app.world().await;
    let t = &w.staff1.token;
    app.post(
        VOCAB,
        t,
        &json!({"kind": "synonyms", "terms": ["破碎锤", "炮头"]}),
    )
    .await
    .expect(201);
    let before = version_now(&app, t).await;
    let invalid = [
        json!({"kind": "synonyms", "terms": ["炮头"]}),
        json!({"kind": "synonyms", "terms": ["炮头", " 炮头 "]}),
        json!({"kind": "synonyms", "terms": ["炮头", ""]}),
        json!({"kind": "synonyms", "terms": ["炮头", "   "]}),
        json!({"kind": "synonyms", "terms": ["炮头", "破碎锤/镐头"]}),
        json!({"kind": "synonyms", "terms": ["炮头", "破 碎锤"]}),
        json!({"kind": "synonyms", "terms": ["炮头", "破碎锤\u{0}"]}),
        json!({"kind": "synonyms", "terms": ["炮头", "长".repeat(21)]}),
        json!({"kind": "synonyms", "terms": (0..11).map(|i| format!("词{i}")).collect::<Vec<_>>()}),
        json!({"kind": "word", "terms": []}),
        json!({"kind": "word", "terms": ["窑"]}),
        json!({"kind": "word", "terms": ["abc123"]}),
        json!({"kind": "word", "terms": ["辊道窑", "辊道"]}),
        json!({"kind": "phrase", "terms": ["辊道窑"]}),
    ];
    for body in &invalid {
        let r = app.post(VOCAB, t, body).await;
        assert_eq!(r.status.as_u16(), 422, "{body}: {}", r.body);
        assert_problem_type(&r);
    }
    // Malformed bodies.
    app.post(VOCAB, t, &json!({"kind": "word"}))
        .await
        .expect_problem(422, "validation_failed");
    app.post(
        VOCAB,
        t,
        &json!({"kind": "word", "terms": ["辊道窑"], "x": 1}),
    )
    .await
    .expect_problem(422, "validation_failed");
    // The same group again, in another order or width: a duplicate.
    app.post(
        VOCAB,
        t,
        &json!({"kind": "synonyms", "terms": ["炮头", "破碎锤"]}),
    )
    .await
    .expect_problem(409, "conflict");
    assert_eq!(version_now(&app, t).await, before);
    let list = app.get(VOCAB, t).await.expect(200).clone();
    assert_eq!(list["entries"].as_array().expect("entries").len(), 1);
    app.request(
        Method::DELETE,
        &format!("{VOCAB}/no-such-entry"),
        Some(t),
        None,
    )
    .await
    .expect_problem(404, "not_found");
    app.post(
        &format!("{VOCAB}/undo"),
        t,
        &json!({"change_id": "no-such-change"}),
    )
    .await
    .expect_problem(404, "not_found");
    assert_eq!(version_now(&app, t).await, before);
}

#[tokio::test]
async fn a_second_node_applies_a_change_made_on_another_node() {
    let app = spawn_app().await;
    let w = app.world().await;
    let node2 = app.another_node().await;
    let id = post_listing(&app, &w.a.admin, "炮头出租 带操作手").await;
    // node2 follows the change log on its own.
    let started = Instant::now();
    while !search_ids(&node2, &w.b.admin.token, "炮头")
        .await
        .contains(&id)
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "node2 never indexed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !search_ids(&node2, &w.b.admin.token, "破碎锤")
            .await
            .contains(&id)
    );

    let r = app
        .post(
            VOCAB,
            &w.staff1.token,
            &json!({"kind": "synonyms", "terms": ["炮头", "破碎锤"]}),
        )
        .await;
    let added = r.expect(201).clone();
    let version = added["version"].as_i64().expect("version");
    // node2 learns of it from the database (no poke reaches it).
    wait_applied(&node2, &w.staff1.token, "", version).await;
    assert!(
        search_ids(&node2, &w.b.admin.token, "破碎锤")
            .await
            .contains(&id)
    );

    // And back: removed through node2, applied by the first node.
    let entry_id = added["entry"]["id"].as_str().expect("id");
    let r = node2
        .request(
            Method::DELETE,
            &format!("{VOCAB}/{entry_id}"),
            Some(&w.staff1.token),
            None,
        )
        .await;
    let version = r.expect(200)["version"].as_i64().expect("version");
    wait_applied(&app, &w.staff1.token, "", version).await;
    assert!(
        !search_ids(&app, &w.b.admin.token, "破碎锤")
            .await
            .contains(&id)
    );
    drop(node2);
}

#[tokio::test]
async fn suggestions_come_from_the_park_listings_and_an_accepted_one_is_applied() {
    let app = spawn_app().await;
    let w = app.world().await;
    let titles = [
        "辊道窑出租 长期合作",
        "求购二手辊道窑一条",
        "转让辊道窑 九成新",
        "专业维修辊道窑 上门服务",
        "出售辊道窑配件",
        "辊道窑改造 节能",
    ];
    for (i, t) in titles.iter().enumerate() {
        let by = if i % 2 == 0 { &w.a.admin } else { &w.b.admin };
        post_listing(&app, by, t).await;
    }
    // Another park's listings are not read.
    post_listing(&app, &w.c.admin, "梭式窑出租").await;
    let r = app
        .get(&format!("{VOCAB}/suggestions"), &w.staff1.token)
        .await;
    let s = r.expect(200).clone();
    assert_eq!(s["community_id"], json!(w.c1));
    assert_eq!(s["listings"], json!(titles.len()));
    let items = s["suggestions"].as_array().expect("suggestions");
    let word = items
        .iter()
        .find(|x| x["kind"] == "word" && x["terms"] == json!(["辊道窑"]))
        .unwrap_or_else(|| panic!("辊道窑 not suggested: {s}"));
    assert!(word["listings"].as_u64().expect("listings") >= 3);
    // Nothing entered the vocabulary by being suggested.
    let list = app.get(VOCAB, &w.staff1.token).await.expect(200).clone();
    assert!(list["entries"].as_array().expect("entries").is_empty());

    // Accept it.
    let r = app
        .post(
            VOCAB,
            &w.staff1.token,
            &json!({"kind": "word", "terms": ["辊道窑"], "from_suggestion": true}),
        )
        .await;
    let version = r.expect(201)["version"].as_i64().expect("version");
    wait_applied(&app, &w.staff1.token, "", version).await;
    let s = app
        .get(&format!("{VOCAB}/suggestions"), &w.staff1.token)
        .await
        .expect(200)
        .clone();
    assert!(
        !s["suggestions"]
            .as_array()
            .expect("suggestions")
            .iter()
            .any(|x| x["terms"] == json!(["辊道窑"])),
        "{s}"
    );
    let audit = audit_actions(&app, &w.staff1.token).await;
    let e = audit
        .iter()
        .find(|e| e["action"] == "vocabulary.added")
        .expect("audited");
    let detail: Value = match &e["detail"] {
        Value::String(s) => serde_json::from_str(s).expect("detail json"),
        v => v.clone(),
    };
    assert_eq!(detail["from_suggestion"], true, "{e}");
}
