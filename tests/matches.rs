//! `GET /api/v1/listings/{id}/matches`: both directions, explained scores,
//! decoys ruled out, and the caller's visibility.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::*;

async fn post(app: &TestApp, by: &Session, body: Value) -> String {
    let r = app
        .post("/api/v1/listings?wait=indexed", &by.token, &body)
        .await;
    id_of(r.expect(201))
}

async fn matches(app: &TestApp, token: &str, id: &str) -> Value {
    app.get(&format!("/api/v1/listings/{id}/matches"), token)
        .await
        .expect(200)
        .clone()
}

fn match_ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["listing"]["id"].as_str().expect("id").to_string())
        .collect()
}

fn route(side: &str, title: &str, from: &str, to: &str) -> Value {
    json!({
        "side": side, "kind": "logistics", "title": title,
        "quantity": {"amount": 20, "unit": "吨"},
        "available_from": "2026-12-01", "available_until": "2026-12-31",
        "attributes": {"origin": from, "destination": to, "vehicle_type": "集卡", "capacity_t": 30}
    })
}

#[tokio::test]
async fn a_request_gets_the_right_offers_first_with_reasons_and_no_decoys() {
    let app = spawn_app().await;
    let w = app.world().await;
    let need = post(
        &app,
        &w.a.admin,
        route(
            "request",
            "北仑→上海洋山 整车20吨 12月",
            "北仑",
            "上海洋山港",
        ),
    )
    .await;
    let good = post(
        &app,
        &w.b.admin,
        route("offer", "北仑到上海洋山 集卡每天有车", "北仑", "上海洋山港"),
    )
    .await;
    let far = post(
        &app,
        &w.c.admin,
        // The same offer from a firm of another community.
        route("offer", "北仑到上海洋山 集卡每天有车", "北仑", "上海洋山港"),
    )
    .await;
    let reversed = post(
        &app,
        &w.b.admin,
        route("offer", "上海洋山→北仑 回程车", "上海洋山港", "北仑"),
    )
    .await;
    let own = post(
        &app,
        &w.a.admin,
        route("offer", "北仑到上海洋山 自有车队", "北仑", "上海洋山港"),
    )
    .await;
    let mut late = route("offer", "北仑到上海洋山 明年车队", "北仑", "上海洋山港");
    late["available_from"] = json!("2027-03-01");
    late["available_until"] = json!("2027-03-31");
    let late = post(&app, &w.b.admin, late).await;

    let page = matches(&app, &w.a.admin.token, &need).await;
    let ids = match_ids(&page);
    assert_eq!(page["listing_id"], need);
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(&good) && ids.contains(&far), "{ids:?}");
    for decoy in [&reversed, &own, &late] {
        assert!(!ids.contains(decoy), "decoy {decoy} in {ids:?}");
    }
    let item = |id: &str| {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|m| m["listing"]["id"] == id)
            .expect("match")
            .clone()
    };
    let factor = |m: &Value, key: &str| {
        m["factors"]
            .as_array()
            .expect("factors")
            .iter()
            .find(|f| f["key"] == key)
            .and_then(|f| f["value"].as_f64())
    };
    // In-park (内循环) is preferred: the same-community offer gets the bonus.
    assert_eq!(factor(&item(&good), "community"), Some(1.0));
    assert_eq!(factor(&item(&far), "community"), Some(0.0));
    assert_eq!(ids[0], good, "in-park offer first: {ids:?}");
    let top = item(&good);
    let score = top["score"].as_f64().expect("score");
    assert!((0.0..=1.0).contains(&score));
    let factors = top["factors"].as_array().expect("factors");
    assert!(factors.len() >= 3, "{factors:?}");
    for f in factors {
        assert!(!f["reason"].as_str().unwrap_or("").is_empty(), "{f}");
        assert!((0.0..=1.0).contains(&f["value"].as_f64().expect("value")));
    }
    assert!(
        factors.iter().any(|f| f["key"] == "community"),
        "{factors:?}"
    );

    // The other direction: the offer finds the request.
    let back = match_ids(&matches(&app, &w.b.admin.token, &good).await);
    assert_eq!(back, vec![need.clone()]);
}

#[tokio::test]
async fn matches_respect_what_the_caller_may_see() {
    let app = spawn_app().await;
    let w = app.world().await;
    let need = post(
        &app,
        &w.c.admin,
        json!({"side": "request", "kind": "equipment", "title": "急租叉车 3吨 两台", "urgency": "urgent",
               "attributes": {"equipment_type": "叉车", "mode": "出租"}}),
    )
    .await;
    let mut body = json!({"side": "offer", "kind": "equipment", "title": "3吨叉车出租 可带司机",
                          "attributes": {"equipment_type": "叉车", "mode": "出租"}});
    body["visibility"] = json!("community");
    let hidden = post(&app, &w.a.admin, body).await;
    // Firm c (another community) does not see a's community-only offer.
    assert!(!match_ids(&matches(&app, &w.c.admin.token, &need).await).contains(&hidden));
    // Staff of a's community see both; the admin sees it too.
    assert!(match_ids(&matches(&app, &w.admin.token, &need).await).contains(&hidden));
    // A listing the caller may not see is 404, as everywhere.
    app.get(
        &format!("/api/v1/listings/{hidden}/matches"),
        &w.c.admin.token,
    )
    .await
    .expect_problem(404, "not_found");
    let r = app
        .get(
            &format!("/api/v1/listings/{need}/matches?limit=0"),
            &w.c.admin.token,
        )
        .await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.fields(), vec!["limit".to_string()]);
}

/// The keys the dev set's judgments name: (requests, offers).
fn judged_keys(data: &std::path::Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let text = std::fs::read_to_string(data.join("judgments.jsonl")).expect("judgments.jsonl");
    let mut requests = BTreeSet::new();
    let mut offers = BTreeSet::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let j: Value = serde_json::from_str(line).expect("a judgment");
        requests.insert(j["request"].as_str().expect("request").to_string());
        offers.insert(j["offer"].as_str().expect("offer").to_string());
    }
    (requests, offers)
}

/// `zhiqilian eval` on the dev set: the ranking must not regress, overall,
/// per kind and in both directions, and every judged listing is ranked (a
/// judged listing dropped from the average would flatter it).
#[test]
fn dev_set_matching_quality_holds() {
    let data = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../eval/dev"));
    let (requests, offers) = judged_keys(data);
    assert_eq!((requests.len(), offers.len()), (47, 80));
    let q = zhiqilian::cli::eval::match_quality(data, &zhiqilian_matcher::Weights::default())
        .expect("evaluate");
    assert_eq!(q.forward.anchors, requests.len(), "judged requests ranked");
    assert_eq!(q.reverse.anchors, offers.len(), "judged offers ranked");
    assert!(q.forward.ndcg5 >= 0.94, "nDCG@5 {:.3}", q.forward.ndcg5);
    assert!(q.forward.p1 >= 0.95, "P@1 {:.3}", q.forward.p1);
    assert!(
        q.forward.p1_grade2 >= 0.91,
        "P@1 grade 2 {:.3}",
        q.forward.p1_grade2
    );
    assert!(
        q.reverse.ndcg5 >= 0.94,
        "reverse nDCG@5 {:.3}",
        q.reverse.ndcg5
    );
    // Per kind, just under the figures of today's ranking: an average can
    // hide one kind falling apart (logistics sat at 0.728 in a 0.909 mean).
    // (kind, anchors, nDCG@5 minimum) per direction.
    let forward: &[(&str, usize, f64)] = &FORWARD_MINIMUMS;
    let reverse: &[(&str, usize, f64)] = &REVERSE_MINIMUMS;
    for (direction, figures, minimums) in [
        ("request → offers", &q.per_kind, forward),
        ("offer → requests", &q.reverse_per_kind, reverse),
    ] {
        let kinds: Vec<&str> = figures.keys().map(String::as_str).collect();
        let expected: Vec<&str> = minimums.iter().map(|m| m.0).collect();
        assert_eq!(kinds, expected, "{direction}: kinds");
        for (kind, anchors, min) in minimums {
            let f = &figures[*kind];
            assert_eq!(f.anchors, *anchors, "{direction} {kind}: anchors");
            assert!(
                f.ndcg5 >= *min,
                "{direction} {kind}: nDCG@5 {:.3} < {min}",
                f.ndcg5
            );
        }
    }
}

/// (kind, judged anchors, nDCG@5 minimum) ranking requests' offers, as of
/// the set's reference date; today 0.940, 0.923, 0.938, 0.987, 0.933 and 1.
const FORWARD_MINIMUMS: [(&str, usize, f64); 6] = [
    ("equipment", 9, 0.93),
    ("logistics", 9, 0.92),
    ("material", 10, 0.93),
    ("service", 5, 0.98),
    ("space", 9, 0.92),
    ("workforce", 5, 0.99),
];
/// The same ranking offers' requests; today 0.967, 0.935, 0.941, 0.971,
/// 0.892 and 1.
const REVERSE_MINIMUMS: [(&str, usize, f64); 6] = [
    ("equipment", 19, 0.96),
    ("logistics", 14, 0.93),
    ("material", 17, 0.93),
    ("service", 6, 0.96),
    ("space", 16, 0.88),
    ("workforce", 8, 0.99),
];

async fn records(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    app.all_pages(&format!("/api/v1/matches{query}"), token)
        .await
}

async fn wait_for_records(app: &TestApp, token: &str, query: &str, n: usize) -> Vec<Value> {
    for _ in 0..100 {
        let r = records(app, token, query).await;
        if r.len() >= n {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} match records for {query} after 10 s");
}

#[tokio::test]
async fn new_listings_become_match_records_with_a_lifecycle_and_visibility() {
    let app = spawn_app().await;
    let w = app.world().await;
    let offer = post(
        &app,
        &w.b.admin,
        json!({"side": "offer", "kind": "equipment", "title": "空压机出租 37kW 螺杆式",
               "attributes": {"equipment_type": "空压机", "mode": "出租"}}),
    )
    .await;
    let request = post(
        &app,
        &w.a.admin,
        json!({"side": "request", "kind": "equipment", "title": "急租空压机 产线停了", "urgency": "emergency",
               "attributes": {"equipment_type": "空压机", "mode": "出租"}}),
    )
    .await;

    // The request is matched right after it is indexed.
    let mine = wait_for_records(&app, &w.a.admin.token, "", 1).await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    let m = &mine[0];
    assert_eq!(m["request"]["id"], request);
    assert_eq!(m["offer"]["id"], offer);
    assert_eq!(m["status"], "suggested");
    assert!(!m["factors"].as_array().expect("factors").is_empty());
    let id = m["id"].as_str().expect("id").to_string();
    let path = format!("/api/v1/matches/{id}");

    // Both firms and their community's staff see it; nobody else does.
    for token in [
        &w.a.admin.token,
        &w.b.admin.token,
        &w.staff1.token,
        &w.admin.token,
    ] {
        app.get(&path, token).await.expect(200);
    }
    for token in [&w.c.admin.token, &w.staff2.token] {
        app.get(&path, token).await.expect_problem(404, "not_found");
        assert!(records(&app, token, "").await.is_empty());
    }
    let created = app
        .db()
        .run(|c| zhiqilian::store::matches::events_of(c, "match.created"))
        .await
        .expect("events");
    assert_eq!(
        created
            .iter()
            .filter(|(_, subject, _)| *subject == id)
            .count(),
        1
    );

    // suggested → contacted → agreed; no way back, no skipping.
    let patch = |status: &str| json!({ "status": status });
    app.patch(&path, &w.c.admin.token, &patch("contacted"))
        .await
        .expect_problem(404, "not_found");
    app.patch(&path, &w.a.admin.token, &patch("agreed"))
        .await
        .expect_problem(409, "invalid_transition");
    app.patch(&path, &w.a.admin.token, &patch("bogus"))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        app.patch(&path, &w.b.admin.token, &patch("contacted"))
            .await
            .expect(200)["status"],
        "contacted"
    );
    // Changed on purpose with the deals: `agreed` is never asked for. A
    // firm asking gets 409 `agreement_required`; the record becomes agreed
    // only when one firm proposes terms and the other confirms them.
    app.patch(&path, &w.a.admin.token, &patch("agreed"))
        .await
        .expect_problem(409, "agreement_required");
    assert_eq!(
        app.get(&path, &w.a.admin.token).await.expect(200)["status"],
        "contacted"
    );
    // Staff broker; they do not agree for a firm.
    app.post(
        "/api/v1/agreements",
        &w.staff1.token,
        &json!({"match_id": id, "quantity": {"amount": 1, "unit": "台"},
                "price": {"amount": 800, "unit": "元/台"}}),
    )
    .await
    .expect_problem(403, "firm_consent_required");
    let agreement = app.agree(&id, &w.a.admin, &w.b.admin).await;
    assert_eq!(agreement["match_id"], id.as_str());
    assert_eq!(
        app.get(&path, &w.b.admin.token).await.expect(200)["status"],
        "agreed"
    );
    app.patch(&path, &w.a.admin.token, &patch("contacted"))
        .await
        .expect_problem(409, "invalid_transition");
    assert_eq!(
        records(&app, &w.b.admin.token, "?status=agreed")
            .await
            .len(),
        1
    );
    assert!(
        records(&app, &w.b.admin.token, "?status=suggested")
            .await
            .is_empty()
    );
    app.get("/api/v1/matches?status=maybe", &w.a.admin.token)
        .await
        .expect_problem(422, "validation_failed");
}

#[tokio::test]
async fn closing_a_listing_expires_its_open_match_records() {
    let app = spawn_app().await;
    let w = app.world().await;
    let offer = post(
        &app,
        &w.b.admin,
        json!({"side": "offer", "kind": "material", "title": "ADC12铝锭 现货 20吨", "attributes": {"material_name": "铝锭", "grade": "ADC12"}}),
    )
    .await;
    post(
        &app,
        &w.a.admin,
        json!({"side": "request", "kind": "material", "title": "求购ADC12铝锭 10吨", "attributes": {"material_name": "铝锭", "grade": "ADC12"}}),
    )
    .await;
    let m = wait_for_records(&app, &w.a.admin.token, "?status=suggested", 1).await;
    let id = m[0]["id"].as_str().expect("id").to_string();
    app.post_empty(&format!("/api/v1/listings/{offer}/close"), &w.b.admin.token)
        .await
        .expect(200);
    let mut status = String::new();
    for _ in 0..100 {
        status = app
            .get(&format!("/api/v1/matches/{id}"), &w.a.admin.token)
            .await
            .expect(200)["status"]
            .as_str()
            .expect("status")
            .to_string();
        if status == "expired" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, "expired");
}
