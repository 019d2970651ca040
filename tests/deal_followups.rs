//! Deals over HTTP, continued: a requester asks a quoting firm to revise;
//! staff brokering a case propose an agreement for the requester that both
//! firms confirm; staff hide an abusive rating comment; the rating window's
//! sweep publishes a lone rating when the window closes; a cancellation
//! releases what the agreement held and takes the match back from
//! `agreed`; response times reach the reputation; the reputation tallies
//! always equal a recount; bad input changes nothing. Runs on SQLite, and
//! on PostgreSQL with `ZQL_TEST_DATABASE_URL`.

use std::time::Duration;

use serde_json::{Value, json};
use zhiqilian::service::reputation::Ledger;

use crate::helpers::*;

fn call_for_quotes(title: &str, tonnes: f64) -> Value {
    json!({"side": "request", "kind": "material", "title": title,
           "quantity": {"amount": tonnes, "unit": "吨"},
           "call_for_quotes": {},
           "attributes": {"material_name": "铝锭"}})
}

fn ingots(tonnes: f64) -> Value {
    json!({"side": "offer", "kind": "material", "title": "现货铝锭 A00",
           "quantity": {"amount": tonnes, "unit": "吨"},
           "attributes": {"material_name": "铝锭"}})
}

fn quote(offer: &str, tonnes: f64, price: f64) -> Value {
    json!({"offer_id": offer,
           "quantity": {"amount": tonnes, "unit": "吨"},
           "price": {"amount": price, "unit": "元/吨"},
           "place": "北仑区大港工业城", "terms": "款到发货",
           "valid_until": "2030-01-01T00:00:00Z"})
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("a number, got {v}"))
}

async fn submit(app: &TestApp, by: &Session, request: &str, body: &Value) -> Value {
    app.post(
        &format!("/api/v1/listings/{request}/quotes"),
        &by.token,
        body,
    )
    .await
    .expect(201)
    .clone()
}

async fn user_id(app: &TestApp, by: &Session) -> String {
    get(app, "/api/v1/me", by).await["user"]["id"]
        .as_str()
        .expect("user id")
        .to_string()
}

async fn get(app: &TestApp, path: &str, by: &Session) -> Value {
    app.get(path, &by.token).await.expect(200).clone()
}

/// A call for quotes of `tonnes` by `buyer`, a quote of all of it by
/// `seller`, accepted: returns (request, offer, agreement) ids; the
/// agreement is proposed, awaiting the seller.
async fn accepted_quote(
    app: &TestApp,
    buyer: &Session,
    seller: &Session,
    tonnes: f64,
) -> (String, String, String) {
    let request = id_of(
        &app.create_listing(buyer, &call_for_quotes("求购铝锭", tonnes))
            .await,
    );
    let offer = id_of(&app.create_listing(seller, &ingots(tonnes * 2.0)).await);
    let q = submit(app, seller, &request, &quote(&offer, tonnes, 8000.0)).await;
    let accepted = app
        .post_empty(
            &format!("/api/v1/quotes/{}/accept", id_of(&q)),
            &buyer.token,
        )
        .await;
    let agreement = accepted.expect(200)["agreement_id"]
        .as_str()
        .expect("agreement")
        .to_string();
    (request, offer, agreement)
}

/// The same, confirmed by the seller and completed.
async fn completed_deal(app: &TestApp, buyer: &Session, seller: &Session) -> String {
    let (_, _, id) = accepted_quote(app, buyer, seller, 5.0).await;
    app.post(
        &format!("/api/v1/agreements/{id}/confirm"),
        &seller.token,
        &json!({"version": 1}),
    )
    .await
    .expect(200);
    app.post_empty(&format!("/api/v1/agreements/{id}/complete"), &buyer.token)
        .await
        .expect(200);
    id
}

async fn event_types(app: &TestApp) -> Vec<(String, Value)> {
    app.db()
        .run(|c| zhiqilian::store::stream::after(c, 0, 100_000))
        .await
        .expect("events")
        .into_iter()
        .map(|e| {
            let payload = serde_json::from_str(&e.event.payload).expect("payload");
            (e.event.event_type, payload)
        })
        .collect()
}

async fn notification_types(app: &TestApp, by: &Session) -> Vec<String> {
    app.all_pages("/api/v1/notifications", &by.token)
        .await
        .iter()
        .map(|n| n["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The reputation tallies kept by the writes equal a recount from the
/// agreements and ratings themselves.
async fn tallies_match_a_recount(app: &TestApp) {
    let (kept, recounted) = app
        .db()
        .run(|c| Ok((Ledger::load(c)?, Ledger::recount(c)?)))
        .await
        .expect("ledgers");
    assert_eq!(kept, recounted);
}

#[tokio::test]
async fn a_requester_asks_a_quoting_firm_to_revise() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (a, b) = (&w.a.admin, &w.b.admin);
    let request = id_of(
        &app.create_listing(a, &call_for_quotes("求购铝锭 20 吨", 20.0))
            .await,
    );
    let offer = id_of(&app.create_listing(b, &ingots(30.0)).await);
    let q = submit(&app, b, &request, &quote(&offer, 20.0, 8200.0)).await;
    let qid = id_of(&q);
    assert!(q["revision_request"].is_null());
    let ask = format!("/api/v1/quotes/{qid}/revision-request");

    // Bad input or the wrong firm: refused, nothing changes.
    let r = app.post(&ask, &a.token, &json!({})).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.field_code("message").as_deref(), Some("required"));
    app.post(&ask, &a.token, &json!({"message": "x", "extra": 1}))
        .await
        .expect_problem(422, "validation_failed");
    app.post(&ask, &b.token, &json!({"message": "请降价"}))
        .await
        .expect_problem(403, "forbidden");
    app.post(&ask, &w.c.admin.token, &json!({"message": "请降价"}))
        .await
        .expect_problem(404, "not_found");
    let unchanged = get(&app, &format!("/api/v1/quotes/{qid}"), b).await;
    assert!(unchanged["revision_request"].is_null());

    // The requester asks; the quoting firm sees it on the quote and is told.
    let asked = app
        .post(
            &ask,
            &a.token,
            &json!({"message": "单价请降到 8000 元/吨以内"}),
        )
        .await;
    let asked = asked.expect(200).clone();
    assert_eq!(
        asked["revision_request"]["message"],
        "单价请降到 8000 元/吨以内"
    );
    assert_eq!(
        asked["revision_request"]["requested_by"],
        user_id(&app, a).await.as_str()
    );
    assert_eq!(asked["status"], "submitted");
    let seen = get(&app, &format!("/api/v1/quotes/{qid}"), b).await;
    assert_eq!(
        seen["revision_request"]["message"],
        "单价请降到 8000 元/吨以内"
    );
    let compared = get(&app, &format!("/api/v1/listings/{request}/quotes"), a).await;
    assert!(compared["items"][0]["revision_request"].is_object());
    assert!(
        notification_types(&app, b)
            .await
            .contains(&"quote.revision_requested".to_string())
    );
    let events = event_types(&app).await;
    assert!(
        events
            .iter()
            .any(|(t, p)| t == "quote.updated" && p["quote_id"] == qid.as_str())
    );

    // Revising answers it.
    let revised = app
        .patch(
            &format!("/api/v1/quotes/{qid}"),
            &b.token,
            &json!({"price": {"amount": 7990, "unit": "元/吨"}}),
        )
        .await;
    let revised = revised.expect(200).clone();
    assert!(revised["revision_request"].is_null(), "{revised:#}");
    assert_eq!(revised["version"], 2);

    // Asked again, then withdrawn: the request goes with it; a decided
    // quote cannot be asked.
    app.post(&ask, &a.token, &json!({"message": "交期能否提前？"}))
        .await
        .expect(200);
    let withdrawn = app
        .post_empty(&format!("/api/v1/quotes/{qid}/withdraw"), &b.token)
        .await;
    let withdrawn = withdrawn.expect(200).clone();
    assert_eq!(withdrawn["status"], "withdrawn");
    assert!(withdrawn["revision_request"].is_null());
    app.post(&ask, &a.token, &json!({"message": "再看看？"}))
        .await
        .expect_problem(409, "quote_decided");
}

async fn case_id_of(app: &TestApp, staff: &Session, listing: &str) -> String {
    for _ in 0..100 {
        let q = get(app, "/api/v1/staff/queue?status=active&limit=100", staff).await;
        if let Some(k) = q["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|k| k["listing"]["id"] == listing)
        {
            return id_of(k);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no case for {listing}");
}

#[tokio::test]
async fn staff_brokering_a_case_propose_an_agreement_both_firms_confirm() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (a, b) = (&w.a.admin, &w.b.admin);
    let offer = id_of(&app.create_listing(b, &ingots(50.0)).await);
    let other_offer = id_of(&app.create_listing(&w.c.admin, &ingots(50.0)).await);
    let mut urgent = call_for_quotes("急购铝锭 产线待料", 30.0);
    urgent["urgency"] = json!("urgent");
    urgent.as_object_mut().unwrap().remove("call_for_quotes");
    let request = id_of(&app.create_listing(a, &urgent).await);
    let kid = case_id_of(&app, &w.staff1, &request).await;
    let brokered = app
        .post(
            &format!("/api/v1/staff/cases/{kid}/broker"),
            &w.staff1.token,
            &json!({"offer_ids": [offer]}),
        )
        .await;
    let mid = brokered.expect(200)["contacts"][0]["match_id"]
        .as_str()
        .expect("match")
        .to_string();
    // A match of another request, for the refusal below.
    let elsewhere = id_of(
        &app.create_listing(a, &call_for_quotes("求购铝锭 1 吨", 1.0))
            .await,
    );
    let q = submit(
        &app,
        &w.c.admin,
        &elsewhere,
        &quote(&other_offer, 1.0, 8000.0),
    )
    .await;
    let foreign_match = q["match_id"].as_str().unwrap().to_string();

    let path = format!("/api/v1/staff/cases/{kid}/agreements");
    let terms = |m: &str, unit: &str| {
        json!({"match_id": m,
               "quantity": {"amount": 30, "unit": unit},
               "price": {"amount": 7900, "unit": "元/吨"},
               "place": "大港工业城 3 号门"})
    };
    // Firms, staff of another community, another request's match, unknown
    // units: refused, and nothing is proposed.
    app.post(&path, &a.token, &terms(&mid, "吨"))
        .await
        .expect_problem(403, "forbidden");
    app.post(&path, &w.staff2.token, &terms(&mid, "吨"))
        .await
        .expect_problem(404, "not_found");
    let r = app
        .post(&path, &w.staff1.token, &terms(&foreign_match, "吨"))
        .await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.field_code("match_id").as_deref(), Some("not_of_case"));
    let r = app.post(&path, &w.staff1.token, &terms(&mid, "斗")).await;
    r.expect_problem(422, "validation_failed");
    let mine = app
        .all_pages(&format!("/api/v1/agreements?match={mid}"), &a.token)
        .await;
    assert!(mine.is_empty(), "{mine:?}");

    // Staff propose for the requester: both firms are introduced (their
    // contacts revealed, recorded as an introduction) and both confirm.
    let staff1 = user_id(&app, &w.staff1).await;
    let proposed = app.post(&path, &w.staff1.token, &terms(&mid, "吨")).await;
    let proposed = proposed.expect(201).clone();
    let aid = id_of(&proposed);
    assert_eq!(proposed["status"], "proposed");
    assert_eq!(proposed["proposed_by_staff"], staff1.as_str());
    assert_eq!(proposed["proposed_by_firm_id"], w.a.id.as_str());
    assert_eq!(proposed["case_id"], kid.as_str());
    assert_eq!(
        proposed["awaiting_firm_ids"],
        json!([w.a.id.as_str(), w.b.id.as_str()])
    );
    for firm in [a, b] {
        let seen = get(&app, &format!("/api/v1/agreements/{aid}"), firm).await;
        assert_eq!(seen["reveal"]["reason"], "staff_introduction");
        assert_eq!(seen["reveal"]["revealed_by"], staff1.as_str());
        assert!(seen["contacts"]["offer_firm"]["contact_phone"].is_string());
    }
    let audit = app
        .all_pages(
            "/api/v1/staff/audit?action=agreement.proposed_for_requester",
            &w.staff1.token,
        )
        .await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["subject"]["id"], aid.as_str());
    app.post(&path, &w.staff1.token, &terms(&mid, "吨"))
        .await
        .expect_problem(409, "agreement_exists");

    let confirm = format!("/api/v1/agreements/{aid}/confirm");
    let first = app.post(&confirm, &a.token, &json!({"version": 1})).await;
    let first = first.expect(200).clone();
    assert_eq!(first["status"], "proposed", "one firm is not enough");
    assert_eq!(first["awaiting_firm_ids"], json!([w.b.id.as_str()]));
    app.post(&confirm, &a.token, &json!({"version": 1}))
        .await
        .expect_problem(409, "awaiting_other_firm");
    let r = get(&app, &format!("/api/v1/listings/{request}"), a).await;
    assert_eq!(f(&r["remaining"]["amount"]), 30.0, "nothing held yet");
    let both = app.post(&confirm, &b.token, &json!({"version": 1})).await;
    let both = both.expect(200).clone();
    assert_eq!(both["status"], "confirmed");
    assert!(both["awaiting_firm_ids"].as_array().unwrap().is_empty());
    let m = get(&app, &format!("/api/v1/matches/{mid}"), a).await;
    assert_eq!(m["status"], "agreed");
    let r = get(&app, &format!("/api/v1/listings/{request}"), a).await;
    assert_eq!(r["status"], "fulfilled");
    tallies_match_a_recount(&app).await;
}

#[tokio::test]
async fn staff_hide_an_abusive_rating_comment_and_the_score_still_counts() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (a, b) = (&w.a.admin, &w.b.admin);
    let aid = completed_deal(&app, a, b).await;
    let rate = format!("/api/v1/agreements/{aid}/ratings");
    app.post(
        &rate,
        &a.token,
        &json!({"score": 1, "comment": "骗子公司，垃圾"}),
    )
    .await
    .expect(201);
    let rated = app
        .post(&rate, &b.token, &json!({"score": 5, "comment": "付款爽快"}))
        .await;
    let rated = rated.expect(201).clone();
    let rating = rated["ratings"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rater_firm_id"] == w.a.id.as_str())
        .expect("a's rating")
        .clone();
    let rid = id_of(&rating);
    let before = get(&app, &format!("/api/v1/firms/{}/reputation", w.b.id), a).await;
    let hide = format!("/api/v1/agreements/{aid}/ratings/{rid}/hide");

    // Firms, staff elsewhere, no reason, an unknown rating: refused.
    app.post(&hide, &b.token, &json!({"reason": "不实"}))
        .await
        .expect_problem(403, "forbidden");
    app.post(&hide, &w.staff2.token, &json!({"reason": "辱骂"}))
        .await
        .expect_problem(404, "not_found");
    let r = app.post(&hide, &w.staff1.token, &json!({})).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.field_code("reason").as_deref(), Some("required"));
    app.post(
        &format!("/api/v1/agreements/{aid}/ratings/{aid}/hide"),
        &w.staff1.token,
        &json!({"reason": "辱骂"}),
    )
    .await
    .expect_problem(404, "not_found");
    let still = get(&app, &format!("/api/v1/agreements/{aid}"), b).await;
    assert!(
        still["ratings"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["comment_hidden"] == false)
    );

    // Staff hide it: the firms see that staff hid it and why, not what it
    // said; staff still read it; the score still counts.
    let hidden = app
        .post(&hide, &w.staff1.token, &json!({"reason": "含辱骂性语言"}))
        .await;
    hidden.expect(200);
    for firm in [a, b] {
        let v = get(&app, &format!("/api/v1/agreements/{aid}"), firm).await;
        let r = v["ratings"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == rid.as_str())
            .expect("the rating")
            .clone();
        assert_eq!(r["comment_hidden"], true);
        assert_eq!(r["comment_hidden_reason"], "含辱骂性语言");
        assert_eq!(r["comment"], "");
        assert_eq!(r["score"], 1);
    }
    let v = get(&app, &format!("/api/v1/agreements/{aid}"), &w.staff1).await;
    let r = v["ratings"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == rid.as_str())
        .unwrap()
        .clone();
    assert_eq!(r["comment"], "骗子公司，垃圾");
    app.post(&hide, &w.staff1.token, &json!({"reason": "再来"}))
        .await
        .expect_problem(409, "already_hidden");
    let after = get(&app, &format!("/api/v1/firms/{}/reputation", w.b.id), a).await;
    assert_eq!(before, after, "hiding a comment does not change the score");
    // Staff list a firm's deals (where the console shows its ratings).
    for (firm, has) in [(&w.b.id, true), (&w.a.id, true), (&w.c.id, false)] {
        let listed = app
            .all_pages(
                &format!("/api/v1/agreements?firm={firm}&status=completed"),
                &w.staff1.token,
            )
            .await;
        assert_eq!(
            listed.iter().any(|x| x["id"] == aid.as_str()),
            has,
            "{firm}"
        );
    }
    let audit = app
        .all_pages(
            "/api/v1/staff/audit?action=rating.comment_hidden",
            &w.staff1.token,
        )
        .await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["subject"]["id"], rid.as_str());
    assert!(
        notification_types(&app, b)
            .await
            .contains(&"rating.comment_hidden".to_string())
    );
    tallies_match_a_recount(&app).await;
}

/// The rating window is driven past its close by moving the agreement's
/// completion (and the rating's window) 31 days back, as the expiry and
/// SLA tests move their clocks; the sweep runs every second here.
#[tokio::test]
async fn a_lone_rating_is_published_when_the_window_closes() {
    use diesel::prelude::*;
    use zhiqilian::store::schema::{agreements, ratings};

    let app = spawn_app_with(&[("ZQL_SWEEP_INTERVAL_SECS", "1")]).await;
    let w = app.world().await;
    let (a, b) = (&w.a.admin, &w.b.admin);
    let aid = completed_deal(&app, a, b).await;
    let rated = app
        .post(
            &format!("/api/v1/agreements/{aid}/ratings"),
            &a.token,
            &json!({"score": 5, "tags": ["准时"], "comment": "按时交货"}),
        )
        .await;
    assert_eq!(rated.expect(201)["ratings"]["published"], false);
    let rep = get(&app, &format!("/api/v1/firms/{}/reputation", w.b.id), a).await;
    assert_eq!(rep["ratings"], 0);
    // A few sweeps within the window publish nothing.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let v = get(&app, &format!("/api/v1/agreements/{aid}"), b).await;
    assert_eq!(v["ratings"]["published"], false);
    assert!(v["ratings"]["items"].as_array().unwrap().is_empty());
    assert!(
        !event_types(&app)
            .await
            .iter()
            .any(|(t, _)| t == "rating.published")
    );

    let closed = chrono::Utc::now().naive_utc() - chrono::Duration::days(31);
    let id = aid.clone();
    app.db()
        .run(move |c| {
            diesel::update(agreements::table.find(&id))
                .set(agreements::completed_at.eq(Some(closed)))
                .execute(c)?;
            diesel::update(ratings::table.filter(ratings::agreement_id.eq(&id)))
                .set(ratings::window_closes_at.eq(closed + chrono::Duration::days(30)))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let mut published = Value::Null;
    for _ in 0..100 {
        let v = get(&app, &format!("/api/v1/agreements/{aid}"), b).await;
        if v["ratings"]["items"][0]["published_at"].is_string() {
            published = v;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(published["ratings"]["published"], true, "{published:#}");
    assert_eq!(published["ratings"]["items"][0]["score"], 5);
    // Announced once (event for streams and webhooks, notifications), and
    // counted in the reputation.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let announced: Vec<_> = event_types(&app)
        .await
        .into_iter()
        .filter(|(t, p)| t == "rating.published" && p["agreement_id"] == aid.as_str())
        .collect();
    assert_eq!(announced.len(), 1, "{announced:?}");
    for firm in [a, b] {
        let n = notification_types(&app, firm).await;
        assert_eq!(
            n.iter().filter(|t| *t == "rating.published").count(),
            1,
            "{n:?}"
        );
    }
    let rep = get(&app, &format!("/api/v1/firms/{}/reputation", w.b.id), a).await;
    assert_eq!(rep["ratings"], 1);
    assert_eq!(f(&rep["average_rating"]), 5.0);
    // Too late to rate now.
    app.post(
        &format!("/api/v1/agreements/{aid}/ratings"),
        &b.token,
        &json!({"score": 3}),
    )
    .await
    .expect_problem(409, "rating_window_closed");
    tallies_match_a_recount(&app).await;
}

#[tokio::test]
async fn cancelling_releases_the_quantity_and_takes_the_match_back_to_contacted() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (a, b) = (&w.a.admin, &w.b.admin);
    let (request, offer, aid) = accepted_quote(&app, a, b, 10.0).await;
    let confirmed = app
        .post(
            &format!("/api/v1/agreements/{aid}/confirm"),
            &b.token,
            &json!({"version": 1}),
        )
        .await;
    let mid = confirmed.expect(200)["match_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = get(&app, &format!("/api/v1/listings/{request}"), a).await;
    assert_eq!(r["status"], "fulfilled");
    assert_eq!(
        get(&app, &format!("/api/v1/matches/{mid}"), a).await["status"],
        "agreed"
    );

    // No reason: refused, nothing released.
    app.post(
        &format!("/api/v1/agreements/{aid}/cancel"),
        &b.token,
        &json!({"reason": "  "}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let r = get(&app, &format!("/api/v1/listings/{request}"), a).await;
    assert_eq!(r["status"], "fulfilled");

    let cancelled = app
        .post(
            &format!("/api/v1/agreements/{aid}/cancel"),
            &b.token,
            &json!({"reason": "原料涨价，无法按约供货"}),
        )
        .await;
    let cancelled = cancelled.expect(200).clone();
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(f(&cancelled["committed"]["request"]["amount"]), 0.0);
    // The request reopens with its whole need; the offer has its 20 t again.
    let r = get(&app, &format!("/api/v1/listings/{request}"), a).await;
    assert_eq!(r["status"], "open");
    assert_eq!(f(&r["remaining"]["amount"]), 10.0);
    assert_eq!(f(&r["committed"]["amount"]), 0.0);
    let o = get(&app, &format!("/api/v1/listings/{offer}"), b).await;
    assert_eq!(f(&o["remaining"]["amount"]), 20.0);
    // The match is back to contacted: the firms may agree anew; the
    // statistics no longer count it as agreed.
    assert_eq!(
        get(&app, &format!("/api/v1/matches/{mid}"), a).await["status"],
        "contacted"
    );
    let agreed_at = |app: &TestApp, id: String| {
        let db = app.db();
        async move {
            use diesel::prelude::*;
            use zhiqilian::store::schema::match_records;
            db.run(move |c| {
                Ok(match_records::table
                    .find(&id)
                    .select(match_records::agreed_at)
                    .first::<Option<chrono::NaiveDateTime>>(c)?)
            })
            .await
            .expect("agreed_at")
        }
    };
    assert!(agreed_at(&app, mid.clone()).await.is_none());
    assert!(
        notification_types(&app, a)
            .await
            .contains(&"agreement.cancelled".to_string())
    );
    let again = app
        .post(
            "/api/v1/agreements",
            &a.token,
            &json!({"match_id": mid,
                    "quantity": {"amount": 8, "unit": "吨"},
                    "price": {"amount": 8300, "unit": "元/吨"}}),
        )
        .await;
    let again = again.expect(201).clone();
    let confirmed = app
        .post(
            &format!("/api/v1/agreements/{}/confirm", id_of(&again)),
            &b.token,
            &json!({"version": 1}),
        )
        .await;
    assert_eq!(confirmed.expect(200)["status"], "confirmed");
    assert_eq!(
        get(&app, &format!("/api/v1/matches/{mid}"), a).await["status"],
        "agreed"
    );
    assert!(agreed_at(&app, mid.clone()).await.is_some());
    let r = get(&app, &format!("/api/v1/listings/{request}"), a).await;
    assert_eq!(f(&r["remaining"]["amount"]), 2.0);
    // A cancelled confirmed deal counts against completion.
    let rep = get(&app, &format!("/api/v1/firms/{}/reputation", w.b.id), a).await;
    assert_eq!(rep["confirmed_deals"], 2);
    assert_eq!(rep["completed_deals"], 0);
    assert_eq!(f(&rep["completion_rate"]), 0.0);
    tallies_match_a_recount(&app).await;
}

#[tokio::test]
async fn a_firms_median_response_time_reaches_its_profile_and_quotes() {
    use diesel::prelude::*;
    use zhiqilian::store::schema::thread_responses;

    let app = spawn_app().await;
    let w = app.world().await;
    let (a, b) = (&w.a.admin, &w.b.admin);
    let offer = id_of(&app.create_listing(b, &ingots(30.0)).await);
    let rep = get(&app, &format!("/api/v1/firms/{}/reputation", w.b.id), a).await;
    assert!(rep["median_response_secs"].is_null());
    assert_eq!(rep["responses"], 0);

    // a asks about b's offer; b answers. Messages b wrote first do not
    // count for b.
    let say = |token: String, thread: String, id: &'static str, text: &'static str| {
        let app = &app;
        async move {
            app.post(
                &format!("/api/v1/threads/{thread}/messages"),
                &token,
                &json!({"client_msg_id": id, "text": text}),
            )
            .await
            .expect(201);
        }
    };
    let t = app
        .post("/api/v1/threads", &a.token, &json!({"listing_id": offer}))
        .await;
    let tid = id_of(t.expect(201));
    say(a.token.clone(), tid.clone(), "m1", "请问铝锭现货还有吗？").await;
    say(a.token.clone(), tid.clone(), "m2", "急用").await;
    say(b.token.clone(), tid.clone(), "m3", "有的，30 吨").await;
    let request = id_of(
        &app.create_listing(&w.c.admin, &call_for_quotes("求购铝锭", 5.0))
            .await,
    );
    let t2 = app
        .post("/api/v1/threads", &b.token, &json!({"listing_id": request}))
        .await;
    let t2 = id_of(t2.expect(201));
    say(b.token.clone(), t2.clone(), "n1", "我们有现货").await;
    say(w.c.admin.token.clone(), t2.clone(), "n2", "价格多少？").await;

    let rep = get(&app, &format!("/api/v1/firms/{}/reputation", w.b.id), a).await;
    assert_eq!(rep["responses"], 1, "{rep:#}");
    assert!(rep["median_response_secs"].as_i64().is_some_and(|s| s >= 0));
    let crep = get(&app, &format!("/api/v1/firms/{}/reputation", w.c.id), a).await;
    assert_eq!(crep["responses"], 1, "c answered b's first message");

    // With the first message an hour before the answer, the median is an
    // hour; a second thread answered after three hours makes it two.
    let id = tid.clone();
    app.db()
        .run(move |c| {
            let answered: Option<chrono::NaiveDateTime> = thread_responses::table
                .find(&id)
                .select(thread_responses::responded_at)
                .first(c)?;
            let answered = answered.expect("answered");
            diesel::update(thread_responses::table.find(&id))
                .set(thread_responses::opened_at.eq(answered - chrono::Duration::hours(1)))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let rep = get(&app, &format!("/api/v1/firms/{}/reputation", w.b.id), a).await;
    assert_eq!(rep["median_response_secs"], 3600);
    let profile = get(&app, &format!("/api/v1/firms/{}", w.b.id), a).await;
    assert_eq!(profile["reputation"]["median_response_secs"], 3600);

    let own_request = id_of(
        &app.create_listing(a, &call_for_quotes("求购铝锭 5 吨", 5.0))
            .await,
    );
    submit(&app, b, &own_request, &quote(&offer, 5.0, 8000.0)).await;
    let compared = get(&app, &format!("/api/v1/listings/{own_request}/quotes"), a).await;
    assert_eq!(
        compared["items"][0]["reputation"]["median_response_secs"],
        3600
    );
}

/// The bad input: an unknown unit, a quote over the remaining
/// need, a stale version, rating twice, rating before completion — each a
/// clear 4xx problem that changes nothing.
#[tokio::test]
async fn bad_deal_input_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (a, b) = (&w.a.admin, &w.b.admin);
    let (request, offer, aid) = accepted_quote(&app, a, b, 4.0).await;
    let mid = get(&app, &format!("/api/v1/agreements/{aid}"), a).await["match_id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = get(&app, &format!("/api/v1/agreements/{aid}"), a).await;

    // Unknown units in a quote and in changed terms.
    let more = id_of(
        &app.create_listing(a, &call_for_quotes("求购铝锭 9 吨", 9.0))
            .await,
    );
    let mut odd = quote(&offer, 1.0, 8000.0);
    odd["quantity"]["unit"] = json!("斗");
    let r = app
        .post(&format!("/api/v1/listings/{more}/quotes"), &b.token, &odd)
        .await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(
        r.field_code("quantity.unit").as_deref(),
        Some("unknown_unit")
    );
    let r = app
        .post(
            &format!("/api/v1/agreements/{aid}/versions"),
            &a.token,
            &json!({"quantity": {"amount": 2, "unit": "斗"}}),
        )
        .await;
    r.expect_problem(422, "validation_failed");
    // Over the remaining need.
    let r = app
        .post(
            &format!("/api/v1/listings/{more}/quotes"),
            &b.token,
            &quote(&offer, 9.5, 8000.0),
        )
        .await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(
        r.field_code("quantity.amount").as_deref(),
        Some("over_remaining_need")
    );
    let none = get(&app, &format!("/api/v1/listings/{more}/quotes"), a).await;
    assert!(none["items"].as_array().unwrap().is_empty());
    // A stale version.
    app.post(
        &format!("/api/v1/agreements/{aid}/confirm"),
        &b.token,
        &json!({"version": 2}),
    )
    .await
    .expect_problem(409, "stale_version");
    let after = get(&app, &format!("/api/v1/agreements/{aid}"), a).await;
    assert_eq!(before, after);
    let r = get(&app, &format!("/api/v1/listings/{request}"), a).await;
    assert_eq!(f(&r["remaining"]["amount"]), 4.0);
    // Rating before completion, then twice.
    app.post(
        &format!("/api/v1/agreements/{aid}/confirm"),
        &b.token,
        &json!({"version": 1}),
    )
    .await
    .expect(200);
    let rate = format!("/api/v1/agreements/{aid}/ratings");
    app.post(&rate, &a.token, &json!({"score": 4}))
        .await
        .expect_problem(409, "deal_not_completed");
    let v = get(&app, &format!("/api/v1/agreements/{aid}"), a).await;
    assert!(
        v["ratings"]["rated_firm_ids"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    app.post_empty(&format!("/api/v1/agreements/{aid}/complete"), &b.token)
        .await
        .expect(200);
    app.post(&rate, &a.token, &json!({"score": 4, "comment": "好"}))
        .await
        .expect(201);
    let r = app
        .post(&rate, &a.token, &json!({"score": 1, "comment": "改主意了"}))
        .await;
    r.expect_problem(409, "already_rated");
    let v = get(&app, &format!("/api/v1/agreements/{aid}"), a).await;
    let items = v["ratings"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        (items[0]["score"].clone(), items[0]["comment"].clone()),
        (json!(4), json!("好"))
    );
    assert_eq!(
        get(&app, &format!("/api/v1/matches/{mid}"), a).await["status"],
        "agreed"
    );
    tallies_match_a_recount(&app).await;
}

/// The migration that introduced the tallies and response rows fills them
/// from the agreements, ratings and messages already there: emptied and
/// refilled by its own statements after a few deals and threads, they read
/// the same as what the writes kept.
#[tokio::test]
async fn the_migration_fills_tallies_and_response_times_from_existing_deals() {
    use diesel::prelude::*;
    use zhiqilian::store::schema::{reputation_tallies, thread_responses};

    let app = spawn_app().await;
    let w = app.world().await;
    let (a, b) = (&w.a.admin, &w.b.admin);
    let done = completed_deal(&app, a, b).await;
    for (by, score) in [(a, 4), (b, 5)] {
        app.post(
            &format!("/api/v1/agreements/{done}/ratings"),
            &by.token,
            &json!({"score": score}),
        )
        .await
        .expect(201);
    }
    let lone = completed_deal(&app, b, a).await;
    app.post(
        &format!("/api/v1/agreements/{lone}/ratings"),
        &a.token,
        &json!({"score": 2}),
    )
    .await
    .expect(201);
    let (_, _, cancelled) = accepted_quote(&app, a, &w.c.admin, 3.0).await;
    app.post(
        &format!("/api/v1/agreements/{cancelled}/confirm"),
        &w.c.admin.token,
        &json!({"version": 1}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/v1/agreements/{cancelled}/cancel"),
        &a.token,
        &json!({"reason": "需求取消"}),
    )
    .await
    .expect(200);
    let offer = id_of(&app.create_listing(b, &ingots(3.0)).await);
    let t = app
        .post("/api/v1/threads", &a.token, &json!({"listing_id": offer}))
        .await;
    let tid = id_of(t.expect(201));
    for (by, id) in [(a, "x1"), (b, "x2"), (a, "x3"), (b, "x4")] {
        app.post(
            &format!("/api/v1/threads/{tid}/messages"),
            &by.token,
            &json!({"client_msg_id": id, "text": "你好"}),
        )
        .await
        .expect(201);
    }
    let unanswered = app
        .post(
            "/api/v1/threads",
            &w.c.admin.token,
            &json!({"listing_id": offer}),
        )
        .await;
    let unanswered = id_of(unanswered.expect(201));
    app.post(
        &format!("/api/v1/threads/{unanswered}/messages"),
        &w.c.admin.token,
        &json!({"client_msg_id": "y1", "text": "在吗"}),
    )
    .await
    .expect(201);

    type Responses = Vec<(
        String,
        String,
        chrono::NaiveDateTime,
        Option<chrono::NaiveDateTime>,
    )>;
    let read = |c: &mut zhiqilian::store::DbConnection| -> zhiqilian::store::StoreResult<(Ledger, Responses)> {
        let responses = thread_responses::table
            .order(thread_responses::thread_id.asc())
            .select((
                thread_responses::thread_id,
                thread_responses::firm_id,
                thread_responses::opened_at,
                thread_responses::responded_at,
            ))
            .load(c)?;
        Ok((Ledger::load(c)?, responses))
    };
    let (kept, responses) = app.db().run(read).await.expect("kept");
    assert_eq!(responses.len(), 2, "{responses:?}");
    assert!(responses.iter().any(|r| r.0 == unanswered && r.3.is_none()));
    tallies_match_a_recount(&app).await;

    let up = std::fs::read_to_string(format!(
        "{}/../migrations/{}/2026-12-07-200001_deal_followups/up.sql",
        env!("CARGO_MANIFEST_DIR"),
        app.backend_name()
    ))
    .expect("the migration");
    let fills: Vec<String> = up
        .split(";\n")
        .map(|s| {
            s.lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|s| {
            let s = s.trim_start();
            s.starts_with("INSERT INTO reputation_tallies")
                || s.starts_with("UPDATE reputation_tallies")
                || s.starts_with("INSERT INTO thread_responses")
        })
        .collect();
    assert_eq!(fills.len(), 4);
    let (refilled, responses_again) = app
        .db()
        .run(move |c| {
            diesel::delete(reputation_tallies::table).execute(c)?;
            diesel::delete(thread_responses::table).execute(c)?;
            for sql in &fills {
                diesel::sql_query(sql.as_str()).execute(c)?;
            }
            read(c)
        })
        .await
        .expect("refilled");
    assert_eq!(refilled, kept);
    assert_eq!(responses_again, responses);
}
