//! Deals carried to the end over HTTP: a call for quotes, quotes compared,
//! two partial quotes accepted, both agreements confirmed (quantity
//! committed, the request shows what remains), contacts revealed,
//! completion, both ratings published together, and the reputation and
//! the matcher's `reliability` factor moving; and parallel confirmations
//! that must never over-commit. Runs on SQLite, and on PostgreSQL with
//! `ZQL_TEST_DATABASE_URL`.

use serde_json::{Value, json};

use crate::helpers::*;

fn call_for_quotes(title: &str, tonnes: f64) -> Value {
    json!({"side": "request", "kind": "material", "title": title,
           "quantity": {"amount": tonnes, "unit": "吨"},
           "call_for_quotes": {},
           "attributes": {"material_name": "铝锭"}})
}

fn ingots(amount: f64, unit: &str) -> Value {
    json!({"side": "offer", "kind": "material", "title": "现货铝锭 A00",
           "quantity": {"amount": amount, "unit": unit},
           "attributes": {"material_name": "铝锭"}})
}

fn quote(offer: &str, amount: f64, unit: &str, price: f64) -> Value {
    json!({"offer_id": offer,
           "quantity": {"amount": amount, "unit": unit},
           "price": {"amount": price, "unit": "元/吨"},
           "available_from": "2026-12-10", "available_until": "2026-12-20",
           "place": "北仑区大港工业城", "terms": "款到发货，含运费",
           "valid_until": "2030-01-01T00:00:00Z"})
}

async fn submit(app: &TestApp, by: &Session, request: &str, body: &Value) -> Value {
    let r = app
        .post(
            &format!("/api/v1/listings/{request}/quotes"),
            &by.token,
            body,
        )
        .await;
    r.expect(201).clone()
}

fn stream_types(app: &TestApp) -> impl std::future::Future<Output = Vec<String>> {
    let db = app.db();
    async move {
        db.run(|c| zhiqilian::store::stream::after(c, 0, 100_000))
            .await
            .expect("events")
            .into_iter()
            .map(|e| e.event.event_type)
            .collect()
    }
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("a number, got {v}"))
}

#[tokio::test]
async fn a_full_deal_from_quotes_to_ratings() {
    let app = spawn_app().await;
    let w = app.world().await;
    let d = app.verified_firm(&w.c1, &w.admin).await;
    let (a, b, c) = (&w.a.admin, &w.b.admin, &w.c.admin);

    // A call for quotes must be a request, and not an emergency.
    let mut emergency = call_for_quotes("急需铝锭", 5.0);
    emergency["urgency"] = json!("emergency");
    let r = app.post("/api/v1/listings", &a.token, &emergency).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(
        r.field_code("call_for_quotes").as_deref(),
        Some("not_for_emergency")
    );

    let request = app
        .create_listing(a, &call_for_quotes("求购铝锭 100 吨", 100.0))
        .await;
    assert!(request["call_for_quotes"].is_object(), "{request:#}");
    let request = id_of(&request);
    let quotes_path = format!("/api/v1/listings/{request}/quotes");
    let b_offer = id_of(&app.create_listing(b, &ingots(60.0, "吨")).await);
    let c_offer = id_of(&app.create_listing(c, &ingots(50.0, "吨")).await);
    let d_offer = id_of(
        &app.create_listing(&d.admin, &ingots(40_000.0, "公斤"))
            .await,
    );

    // Three quotes, one of them in 公斤.
    let qb = submit(&app, b, &request, &quote(&b_offer, 50.0, "吨", 8000.0)).await;
    let qc = submit(&app, c, &request, &quote(&c_offer, 30.0, "吨", 7800.0)).await;
    let qd = submit(
        &app,
        &d.admin,
        &request,
        &quote(&d_offer, 40_000.0, "公斤", 8200.0),
    )
    .await;
    assert_eq!(f(&qd["total_price_yuan"]), 328_000.0);
    assert_eq!(f(&qd["coverage"]), 0.4);
    // A quote over the need, or a second one, changes nothing.
    let r = app
        .post(
            &quotes_path,
            &c.token,
            &quote(&c_offer, 101.0, "吨", 7000.0),
        )
        .await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(
        r.field_code("quantity.amount").as_deref(),
        Some("over_remaining_need")
    );
    app.post(&quotes_path, &c.token, &quote(&c_offer, 10.0, "吨", 7000.0))
        .await
        .expect_problem(409, "already_quoted");
    // A quote with a unit nobody knows.
    let r = app
        .post(&quotes_path, &c.token, &quote(&c_offer, 10.0, "斗", 7000.0))
        .await;
    r.expect_problem(422, "validation_failed");

    // Compare: the requester sees all three, sorted by total price; a
    // quoting firm sees only its own.
    let all = app
        .get(&format!("{quotes_path}?sort=total_price"), &a.token)
        .await;
    let all = all.expect(200).clone();
    let items = all["items"].as_array().expect("items");
    assert_eq!(ids(items), [id_of(&qc), id_of(&qd), id_of(&qb)]);
    assert_eq!(f(&items[0]["total_price_yuan"]), 234_000.0);
    assert!(items.iter().all(|q| q["reputation"]["rating"].is_number()));
    assert_eq!(f(&all["request"]["remaining"]["amount"]), 100.0);
    let own = app.get(&quotes_path, &b.token).await;
    assert_eq!(
        ids(own.expect(200)["items"].as_array().unwrap()),
        [id_of(&qb)]
    );
    app.get(&format!("/api/v1/quotes/{}", id_of(&qb)), &c.token)
        .await
        .expect_problem(404, "not_found");
    let by_cover = app
        .get(&format!("{quotes_path}?sort=-coverage"), &a.token)
        .await;
    assert_eq!(by_cover.expect(200)["items"][0]["id"], id_of(&qb).as_str());

    // b revises its quote before the decision.
    let revised = app
        .patch(
            &format!("/api/v1/quotes/{}", id_of(&qb)),
            &b.token,
            &json!({"price": {"amount": 7950, "unit": "元/吨"}}),
        )
        .await;
    assert_eq!(revised.expect(200)["version"], 2);

    // Accept two partial quotes, decline the third with a reason.
    let accepted_b = app
        .post_empty(&format!("/api/v1/quotes/{}/accept", id_of(&qb)), &a.token)
        .await;
    let accepted_b = accepted_b.expect(200).clone();
    let accepted_c = app
        .post_empty(&format!("/api/v1/quotes/{}/accept", id_of(&qc)), &a.token)
        .await;
    let accepted_c = accepted_c.expect(200).clone();
    app.post(
        &format!("/api/v1/quotes/{}/decline", id_of(&qd)),
        &a.token,
        &json!({}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let declined = app
        .post(
            &format!("/api/v1/quotes/{}/decline", id_of(&qd)),
            &a.token,
            &json!({"reason": "已由两家分担"}),
        )
        .await;
    assert_eq!(declined.expect(200)["decline_reason"], "已由两家分担");
    app.patch(
        &format!("/api/v1/quotes/{}", id_of(&qb)),
        &b.token,
        &json!({"place": "别处"}),
    )
    .await
    .expect_problem(409, "quote_decided");

    let ab = accepted_b["agreement_id"]
        .as_str()
        .expect("agreement")
        .to_string();
    let ac = accepted_c["agreement_id"]
        .as_str()
        .expect("agreement")
        .to_string();
    // Before confirmation the contacts stay hidden.
    let pending = app.get(&format!("/api/v1/agreements/{ab}"), &b.token).await;
    let pending = pending.expect(200).clone();
    assert_eq!(pending["status"], "proposed");
    assert!(pending["contacts"].is_null());
    assert_eq!(pending["awaiting_firm_id"], w.b.id.as_str());
    let reputation_before = app
        .get(&format!("/api/v1/firms/{}/reputation", w.b.id), &a.token)
        .await
        .expect(200)
        .clone();
    // The requesting firm's profile hides its contact from b until then.
    let profile = app
        .get(&format!("/api/v1/firms/{}", w.a.id), &b.token)
        .await;
    let profile = profile.expect(200).clone();
    assert!(profile["contact_phone"].is_null(), "{profile:#}");
    assert!(profile["reputation"]["rating"].is_number());
    // A stale version is refused; the current one confirms.
    app.post(
        &format!("/api/v1/agreements/{ab}/confirm"),
        &b.token,
        &json!({"version": 7}),
    )
    .await
    .expect_problem(409, "stale_version");
    let cb = app
        .post(
            &format!("/api/v1/agreements/{ab}/confirm"),
            &b.token,
            &json!({"version": 1}),
        )
        .await;
    let cb = cb.expect(200).clone();
    let cc = app
        .post(
            &format!("/api/v1/agreements/{ac}/confirm"),
            &c.token,
            &json!({"version": 1}),
        )
        .await;
    let cc = cc.expect(200).clone();
    assert_eq!(
        (cb["status"].clone(), cc["status"].clone()),
        (json!("confirmed"), json!("confirmed"))
    );
    assert_eq!(f(&cb["total_price_yuan"]), 397_500.0);

    // Quantity committed: the request shows what remains and stays open.
    let r = app
        .get(&format!("/api/v1/listings/{request}"), &a.token)
        .await;
    let r = r.expect(200).clone();
    assert_eq!(f(&r["committed"]["amount"]), 80.0);
    assert_eq!(f(&r["remaining"]["amount"]), 20.0);
    assert_eq!(r["status"], "open");
    let offer = app
        .get(&format!("/api/v1/listings/{b_offer}"), &b.token)
        .await;
    assert_eq!(f(&offer.expect(200)["remaining"]["amount"]), 10.0);
    // Both matches are agreed, through their agreements.
    let m = app
        .get(
            &format!("/api/v1/matches/{}", cb["match_id"].as_str().unwrap()),
            &a.token,
        )
        .await;
    assert_eq!(m.expect(200)["status"], "agreed");

    // Contacts revealed to both, and the reveal recorded for both to see.
    for (viewer, other_phone) in [(a, "offer_firm"), (b, "request_firm")] {
        let v = app
            .get(&format!("/api/v1/agreements/{ab}"), &viewer.token)
            .await;
        let v = v.expect(200).clone();
        assert!(
            v["contacts"][other_phone]["contact_phone"].is_string(),
            "{v:#}"
        );
        assert_eq!(v["reveal"]["reason"], "agreement_confirmed");
        assert!(v["reveal"]["revealed_at"].is_string());
    }
    // The profile shows it now too — to b, not to d.
    let profile = app
        .get(&format!("/api/v1/firms/{}", w.a.id), &b.token)
        .await;
    assert!(profile.expect(200)["contact_phone"].is_string());
    let profile = app
        .get(&format!("/api/v1/firms/{}", w.a.id), &d.admin.token)
        .await;
    assert!(profile.expect(200)["contact_phone"].is_null());
    // Nobody else sees the agreement.
    app.get(&format!("/api/v1/agreements/{ab}"), &d.admin.token)
        .await
        .expect_problem(404, "not_found");

    // Fulfilment: b starts and completes; c's deal completes too.
    app.post_empty(&format!("/api/v1/agreements/{ab}/start"), &b.token)
        .await
        .expect(200);
    app.post(
        &format!("/api/v1/agreements/{ab}/ratings"),
        &a.token,
        &json!({"score": 5}),
    )
    .await
    .expect_problem(409, "deal_not_completed");
    let done = app
        .post_empty(&format!("/api/v1/agreements/{ab}/complete"), &a.token)
        .await;
    assert_eq!(done.expect(200)["status"], "completed");
    // Proof of delivery: b attaches a photo of the delivered goods; a sees
    // and downloads it, d does not see it.
    let proof = crate::attachments::upload(
        &app,
        &b.token,
        "agreement",
        &ab,
        "交付照片.jpg",
        &crate::attachments::photo_with_gps(),
    )
    .await;
    let proof = id_of(proof.expect(201));
    let listed = app
        .get(
            &format!("/api/v1/attachments?parent_type=agreement&parent_id={ab}"),
            &a.token,
        )
        .await;
    assert_eq!(
        ids(listed.expect(200)["items"].as_array().unwrap()),
        std::slice::from_ref(&proof)
    );
    let got = crate::attachments::download(
        &app,
        &a.token,
        &format!("/api/v1/attachments/{proof}/content"),
    )
    .await;
    assert_eq!((got.status, got.content_type.as_str()), (200, "image/jpeg"));
    app.get(&format!("/api/v1/attachments/{proof}"), &d.admin.token)
        .await
        .expect_problem(404, "not_found");
    app.post_empty(&format!("/api/v1/agreements/{ac}/complete"), &c.token)
        .await
        .expect(200);
    app.post(
        &format!("/api/v1/agreements/{ac}/cancel"),
        &c.token,
        &json!({"reason": "晚了"}),
    )
    .await
    .expect_problem(409, "invalid_transition");

    // Ratings: hidden until both have rated, then published together.
    app.post(
        &format!("/api/v1/agreements/{ab}/ratings"),
        &a.token,
        &json!({"score": 6}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let one = app
        .post(
            &format!("/api/v1/agreements/{ab}/ratings"),
            &a.token,
            &json!({"score": 5, "tags": ["准时", "质量"], "comment": "按时到货，质量稳定"}),
        )
        .await;
    assert_eq!(one.expect(201)["ratings"]["published"], false);
    let seen_by_b = app.get(&format!("/api/v1/agreements/{ab}"), &b.token).await;
    let seen_by_b = seen_by_b.expect(200).clone();
    assert!(seen_by_b["ratings"]["items"].as_array().unwrap().is_empty());
    app.post(
        &format!("/api/v1/agreements/{ab}/ratings"),
        &a.token,
        &json!({"score": 4}),
    )
    .await
    .expect_problem(409, "already_rated");
    let both = app
        .post(
            &format!("/api/v1/agreements/{ab}/ratings"),
            &b.token,
            &json!({"score": 4, "tags": ["沟通"]}),
        )
        .await;
    let both = both.expect(201).clone();
    assert_eq!(both["ratings"]["published"], true);
    assert_eq!(both["ratings"]["items"].as_array().unwrap().len(), 2);

    // Reputation moves …
    let reputation_after = app
        .get(&format!("/api/v1/firms/{}/reputation", w.b.id), &a.token)
        .await
        .expect(200)
        .clone();
    assert_eq!(reputation_before["completed_deals"], 0);
    assert_eq!(reputation_after["completed_deals"], 1);
    assert_eq!(reputation_after["ratings"], 1);
    assert!(f(&reputation_after["rating"]) > f(&reputation_before["rating"]));
    assert!(f(&reputation_after["reliability"]) > f(&reputation_before["reliability"]));
    // … and so does the matcher's reliability factor: b (rated 5★) now
    // ranks with a better record than d (no deal: the park's prior).
    let next = app
        .create_listing(
            a,
            &json!({"side": "request", "kind": "material", "title": "求购铝锭 5 吨",
                    "quantity": {"amount": 5, "unit": "吨"},
                    "attributes": {"material_name": "铝锭"}}),
        )
        .await;
    // Matching retrieves candidates from the search index: wait until the
    // indexer has both offers.
    let mut m = Value::Null;
    for _ in 0..100 {
        let r = app
            .get(
                &format!("/api/v1/listings/{}/matches?limit=50", id_of(&next)),
                &a.token,
            )
            .await;
        m = r.expect(200).clone();
        let found = |id: &str| {
            m["items"]
                .as_array()
                .is_some_and(|items| items.iter().any(|i| i["listing"]["id"] == id))
        };
        if found(&b_offer) && found(&d_offer) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let reliability = |offer: &str| -> f64 {
        let item = m["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["listing"]["id"] == offer)
            .unwrap_or_else(|| panic!("{offer} among the matches: {m:#}"));
        let factor = item["factors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["key"] == "reliability")
            .unwrap_or_else(|| panic!("a reliability factor: {item:#}"));
        assert!(
            factor["reason"]
                .as_str()
                .unwrap()
                .chars()
                .any(|c| c > '\u{2E80}')
        );
        f(&factor["value"])
    };
    assert!(reliability(&b_offer) > reliability(&d_offer));

    // Events for live streams and webhooks; the park's funnel.
    let types = stream_types(&app).await;
    for t in [
        "quote.created",
        "quote.updated",
        "agreement.proposed",
        "agreement.confirmed",
        "agreement.completed",
        "rating.published",
    ] {
        assert!(types.iter().any(|x| x == t), "{t} in {types:?}");
    }
    let s = app.get("/api/v1/staff/stats", &w.staff1.token).await;
    let s = s.expect(200).clone();
    let funnel = &s["funnel"];
    assert!(funnel["suggested"].as_u64().unwrap() >= 3, "{funnel:#}");
    assert_eq!(funnel["quoted"], 3);
    assert_eq!(funnel["agreed"], 2);
    assert_eq!(funnel["completed"], 2);
    assert_eq!(f(&funnel["agreed_value_yuan"]), 397_500.0 + 234_000.0);
}

#[tokio::test]
async fn quotes_on_a_closed_request_or_after_the_closing_time_are_refused() {
    let app = spawn_app().await;
    let w = app.world().await;
    let offer = id_of(&app.create_listing(&w.b.admin, &ingots(10.0, "吨")).await);
    let closes = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let mut body = call_for_quotes("求购铝锭 3 吨", 3.0);
    body["call_for_quotes"] = json!({"closes_at": closes});
    let soon = id_of(&app.create_listing(&w.a.admin, &body).await);
    let closed = id_of(
        &app.create_listing(&w.a.admin, &call_for_quotes("求购铝锭 2 吨", 2.0))
            .await,
    );
    let plain = id_of(
        &app.create_listing(
            &w.a.admin,
            &json!({"side": "request", "kind": "material", "title": "求购铝锭 1 吨",
                    "attributes": {"material_name": "铝锭"}}),
        )
        .await,
    );
    app.post_empty(
        &format!("/api/v1/listings/{closed}/close"),
        &w.a.admin.token,
    )
    .await
    .expect(200);
    let q = quote(&offer, 1.0, "吨", 8000.0);
    app.post(
        &format!("/api/v1/listings/{closed}/quotes"),
        &w.b.admin.token,
        &q,
    )
    .await
    .expect_problem(409, "request_closed");
    app.post(
        &format!("/api/v1/listings/{plain}/quotes"),
        &w.b.admin.token,
        &q,
    )
    .await
    .expect_problem(409, "not_a_call_for_quotes");
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    app.post(
        &format!("/api/v1/listings/{soon}/quotes"),
        &w.b.admin.token,
        &q,
    )
    .await
    .expect_problem(409, "quotes_closed");
    // Nothing was written.
    for r in [&soon, &closed, &plain] {
        let all = app
            .get(&format!("/api/v1/listings/{r}/quotes"), &w.a.admin.token)
            .await;
        assert!(all.expect(200)["items"].as_array().unwrap().is_empty());
    }
}

/// Three agreements of 40 t each on a request of 100 t, confirmed at the
/// same moment by their three firms: two fit, the third is refused, and
/// never more than 100 t is committed — on SQLite (one writer at a time)
/// and on PostgreSQL (row locks on both listings).
#[tokio::test]
async fn parallel_confirmations_never_over_commit() {
    let app = spawn_app().await;
    let w = app.world().await;
    let d = app.verified_firm(&w.c1, &w.admin).await;
    let request = id_of(
        &app.create_listing(&w.a.admin, &call_for_quotes("求购铝锭 100 吨", 100.0))
            .await,
    );
    let mut agreements = Vec::new();
    let firms = [&w.b.admin, &w.c.admin, &d.admin];
    for firm in firms {
        let offer = id_of(&app.create_listing(firm, &ingots(40.0, "吨")).await);
        let q = submit(&app, firm, &request, &quote(&offer, 40.0, "吨", 8000.0)).await;
        let accepted = app
            .post_empty(
                &format!("/api/v1/quotes/{}/accept", id_of(&q)),
                &w.a.admin.token,
            )
            .await;
        agreements.push(
            accepted.expect(200)["agreement_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let confirms = agreements.iter().zip(firms).map(|(id, firm)| {
        let app = &app;
        async move {
            app.post(
                &format!("/api/v1/agreements/{id}/confirm"),
                &firm.token,
                &json!({"version": 1}),
            )
            .await
        }
    });
    let replies = futures_util::future::join_all(confirms).await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    let refused: Vec<_> = replies.iter().filter(|r| r.status != 200).collect();
    assert_eq!(ok, 2, "{replies:?}");
    assert_eq!(refused.len(), 1);
    refused[0].expect_problem(409, "over_commitment");
    let r = app
        .get(&format!("/api/v1/listings/{request}"), &w.a.admin.token)
        .await;
    let r = r.expect(200).clone();
    assert_eq!(f(&r["committed"]["amount"]), 80.0);
    assert_eq!(f(&r["remaining"]["amount"]), 20.0);
    // The agreements' own records agree with the listing.
    let mut held = 0.0;
    for id in &agreements {
        let a = app
            .get(&format!("/api/v1/agreements/{id}"), &w.a.admin.token)
            .await;
        let a = a.expect(200).clone();
        if a["status"] == "confirmed" {
            held += f(&a["committed"]["request"]["amount"]);
        } else {
            assert_eq!(a["status"], "proposed");
        }
    }
    assert_eq!(held, 80.0);
}
