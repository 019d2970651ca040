//! `GET /api/v1/listings/{id}/matches`: both directions, explained scores,
//! decoys ruled out, and the caller's visibility.

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

/// `zhiqilian eval` on the shared dev set: the ranking must not regress.
#[test]
fn dev_set_matching_quality_holds() {
    let data = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/eval/dev"
    ));
    let q = zhiqilian::eval::match_quality(data, &zhiqilian_matcher::Weights::default())
        .expect("evaluate");
    assert_eq!(q.forward.anchors, 47);
    assert!(q.forward.ndcg5 >= 0.88, "nDCG@5 {:.3}", q.forward.ndcg5);
    assert!(q.forward.p1 >= 0.85, "P@1 {:.3}", q.forward.p1);
    assert!(
        q.reverse.ndcg5 >= 0.85,
        "reverse nDCG@5 {:.3}",
        q.reverse.ndcg5
    );
}
