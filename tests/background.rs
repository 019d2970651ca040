//! Background work under database leases: two nodes on one database match
//! every change once between them, a stopped node hands its work over at
//! once, an overdue case is flagged once, and expired listings expire their
//! match records. (Two nodes here are two servers in one test process, each
//! with its own pool, index and background loop; `two_server_processes`
//! covers separate processes.)

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use zhiqilian::store::leases;

use crate::helpers::*;

async fn lease(app: &TestApp, job: &'static str) -> (i64, Option<String>) {
    let (pos, owner, _) = app
        .db()
        .run(move |c| leases::state(c, job))
        .await
        .expect("lease row")
        .expect("job exists");
    (pos, owner)
}

/// Waits until the matching job has matched every change written so far.
async fn matched_up(app: &TestApp) {
    let head = app.change_head().await;
    for _ in 0..200 {
        if lease(app, "matching").await.0 >= head {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("matching did not reach change {head} in 10 s");
}

fn matched(app: &TestApp) -> u64 {
    app.state
        .background
        .counters
        .listings_matched
        .load(Ordering::SeqCst)
}

async fn post(app: &TestApp, by: &Session, body: Value) -> String {
    let r = app.post("/api/v1/listings", &by.token, &body).await;
    id_of(r.expect(201))
}

#[tokio::test]
async fn two_nodes_match_every_change_once_and_hand_over_on_stop() {
    let a = spawn_app().await;
    let w = a.world().await;
    let b = a.another_node().await;
    // Sessions are signed with the shared key: they work on either node.
    let before = a.change_head().await;
    matched_up(&a).await;
    let (m0a, m0b) = (matched(&a), matched(&b));

    let mut titles = Vec::new();
    for i in 0..10 {
        let (node, firm) = if i % 2 == 0 { (&a, &w.a) } else { (&b, &w.b) };
        let title = format!("空压机出租 {i} 号机");
        post(
            node,
            &firm.admin,
            json!({"side": "offer", "kind": "equipment", "title": title}),
        )
        .await;
        titles.push(title);
    }
    for i in 0..10 {
        let (node, firm) = if i % 2 == 0 { (&b, &w.c) } else { (&a, &w.a) };
        post(
            node,
            &firm.admin,
            json!({"side": "request", "kind": "equipment", "title": format!("急租空压机 第{i}台")}),
        )
        .await;
    }

    // Written on A, searchable on B within 2 s (and the other way round).
    for (node, title) in [(&b, &titles[0]), (&a, &titles[1])] {
        let started = Instant::now();
        loop {
            let r = node
                .get(
                    &format!("/api/v1/listings/search?q={}", urlencode(title)),
                    &w.c.admin.token,
                )
                .await;
            let hit = r.expect(200)["items"]
                .as_array()
                .expect("items")
                .iter()
                .any(|h| h["title"] == *title || h["listing"]["title"] == *title);
            if hit {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "{title} not searchable on the other node within 2 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    // Every change matched exactly once between the two nodes.
    matched_up(&a).await;
    let head = a.change_head().await;
    let done = (matched(&a) - m0a) + (matched(&b) - m0b);
    assert_eq!(
        done,
        (head - before) as u64,
        "changes matched across both nodes"
    );
    let (_, owner) = lease(&a, "matching").await;
    let ids = [
        a.state.background.node_id.clone(),
        b.state.background.node_id.clone(),
    ];
    assert!(owner.as_ref().is_some_and(|o| ids.contains(o)), "{owner:?}");
    // Each match record exists once (one `match.created` per pair).
    let created = a
        .db()
        .run(|c| zhiqilian::store::matches::events_of(c, "match.created"))
        .await
        .expect("events");
    let mut subjects: Vec<&String> = created.iter().map(|(_, s, _)| s).collect();
    let n = subjects.len();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), n);
    assert!(n > 0, "the requests found the offers");

    // The holder stops: its lease is released and the other node carries on.
    let (holder, other) = if owner.as_deref() == Some(ids[0].as_str()) {
        (&a, &b)
    } else {
        (&b, &a)
    };
    holder.state.background.shutdown().await;
    assert_eq!(lease(&a, "matching").await.1, None, "released at stop");
    let other_before = matched(other);
    for i in 0..3 {
        post(
            other,
            &w.b.admin,
            json!({"side": "offer", "kind": "equipment", "title": format!("叉车出租 {i}")}),
        )
        .await;
    }
    matched_up(other).await;
    assert_eq!(matched(other) - other_before, 3);
    assert_eq!(
        lease(&a, "matching").await.1.as_deref(),
        Some(other.state.background.node_id.as_str())
    );
    drop(b);
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

#[tokio::test]
async fn an_overdue_case_is_flagged_once_however_many_nodes_run() {
    let a = spawn_app_with(&[("ZQL_SWEEP_INTERVAL_SECS", "1")]).await;
    let w = a.world().await;
    let b = a
        .another_node_with(&[("ZQL_SWEEP_INTERVAL_SECS", "1")])
        .await;
    let mut live = a.events(&w.staff1.token, None).await;
    let request = post(
        &a,
        &w.a.admin,
        json!({"side": "request", "kind": "equipment", "title": "急租空压机", "urgency": "emergency"}),
    )
    .await;
    a.backdate_case(&request, chrono::Duration::hours(1)).await;
    // The sweep runs every second here, on whichever node holds its lease.
    let got = live
        .until(Duration::from_secs(10), |e| {
            e.event == "notification" && e.data["type"] == "case.overdue"
        })
        .await;
    assert!(got.iter().any(|e| e.data["type"] == "case.overdue"));
    // Let both nodes sweep a few more times: still one notification.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let feed = a.all_pages("/api/v1/notifications", &w.staff1.token).await;
    let overdue = feed.iter().filter(|n| n["type"] == "case.overdue").count();
    assert_eq!(overdue, 1, "{feed:?}");
    drop(b);
}

#[tokio::test]
async fn expired_listings_expire_their_open_match_records() {
    use diesel::prelude::*;
    use zhiqilian::store::schema::listings;

    let app = spawn_app_with(&[("ZQL_SWEEP_INTERVAL_SECS", "1")]).await;
    let w = app.world().await;
    post(
        &app,
        &w.b.admin,
        json!({"side": "offer", "kind": "equipment", "title": "空压机出租 37kW"}),
    )
    .await;
    let request = post(
        &app,
        &w.a.admin,
        json!({"side": "request", "kind": "equipment", "title": "求租空压机 37kW"}),
    )
    .await;
    let mut records = Vec::new();
    for _ in 0..100 {
        records = app.all_pages("/api/v1/matches", &w.a.admin.token).await;
        if !records.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(records[0]["status"], "suggested");
    // The request's expiry passes (as if it had been set to a minute ago).
    let expired = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1);
    let id = request.clone();
    app.db()
        .run(move |c| {
            diesel::update(listings::table.find(&id))
                .set(listings::expires_at.eq(Some(expired)))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    // The expiry sweep runs every second here (it sweeps whole seconds).
    for _ in 0..100 {
        let r = app.all_pages("/api/v1/matches", &w.a.admin.token).await;
        if r[0]["status"] == "expired" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the match record of an expired listing was not expired within 10 s");
}

#[tokio::test]
async fn metrics_show_requests_lag_background_work_and_streams() {
    let app = spawn_app().await;
    let w = app.world().await;
    app.get_anon("/healthz").await;
    post(
        &app,
        &w.b.admin,
        json!({"side": "offer", "kind": "equipment", "title": "空压机出租"}),
    )
    .await;
    matched_up(&app).await;
    let _stream = app.events(&w.a.admin.token, None).await;
    let r = app.get_anon("/metrics").await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap_or_default()
            .starts_with("text/plain")
    );
    let text = r.body.as_str().expect("text").to_string();
    assert!(
        metric(
            &text,
            r#"zql_http_requests_total{method="GET",route="/healthz",status="2xx"}"#
        )
        .is_some_and(|v| v >= 1.0),
        "{text}"
    );
    assert!(
        metric(
            &text,
            r#"zql_http_requests_total{method="POST",route="/api/v1/listings",status="2xx"}"#
        )
        .is_some_and(|v| v >= 1.0)
    );
    assert!(text.contains(
        r#"zql_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.005"}"#
    ));
    assert!(
        metric(&text, r#"zql_background_total{kind="listings_matched"}"#).is_some_and(|v| v >= 1.0)
    );
    assert_eq!(
        metric(&text, r#"zql_background_lease_held{job="matching"}"#),
        Some(1.0)
    );
    assert!(metric(&text, "zql_index_lag_changes").is_some());
    assert!(metric(&text, "zql_index_lag_seconds").is_some());
    assert!(metric(&text, "zql_event_streams_open").is_some_and(|v| v >= 1.0));
    assert!(metric(&text, r#"zql_db_pool_connections{state="idle"}"#).is_some());
    assert_eq!(
        metric(&text, r#"zql_webhook_deliveries{status="pending"}"#),
        Some(0.0)
    );
    assert_eq!(metric(&text, "zql_webhooks_disabled"), Some(0.0));

    // With a token configured, scrapers must present it.
    let guarded = spawn_app_with(&[("ZQL_METRICS_TOKEN", "scrape-secret-0123456789")]).await;
    guarded
        .get_anon("/metrics")
        .await
        .expect_problem(403, "forbidden");
    guarded
        .get("/metrics", "wrong-token-0123456789")
        .await
        .expect_problem(403, "forbidden");
    assert_eq!(
        guarded
            .get("/metrics", "scrape-secret-0123456789")
            .await
            .status,
        200
    );
}

/// `zhiqilian rematch`: a run matches every open listing again, in id
/// order, from where it stopped; asking again while it is unfinished
/// returns the same run.
#[tokio::test]
async fn a_rematch_run_matches_open_listings_again_from_where_it_stopped() {
    use diesel::prelude::*;
    use zhiqilian::store::rematch::{self, Run};
    use zhiqilian::store::schema::{match_records, rematch_runs};

    let app = spawn_app().await;
    let w = app.world().await;
    let compressor = |side: &str, title: &str| {
        json!({"side": side, "kind": "equipment", "title": title,
               "attributes": {"equipment_type": "空压机", "mode": "出租"}})
    };
    let offer = post(
        &app,
        &w.b.admin,
        compressor("offer", "空压机出租 37kW 螺杆式"),
    )
    .await;
    let first = post(
        &app,
        &w.a.admin,
        compressor("request", "租空压机 37kW 一个月"),
    )
    .await;
    let second = post(
        &app,
        &w.c.admin,
        compressor("request", "求租螺杆空压机 两周"),
    )
    .await;
    matched_up(&app).await;
    async fn records(app: &TestApp) -> Vec<(String, String)> {
        app.db()
            .run(|c| {
                Ok(match_records::table
                    .select((match_records::request_id, match_records::offer_id))
                    .order(match_records::request_id)
                    .load::<(String, String)>(c)?)
            })
            .await
            .expect("records")
    }
    let before = records(&app).await;
    assert!(
        before.contains(&(first.clone(), offer.clone())),
        "matched on posting: {before:?}"
    );
    // The records go (as they would be re-scored after new weights).
    app.db()
        .run(|c| {
            diesel::delete(match_records::table).execute(c)?;
            Ok(())
        })
        .await
        .expect("cleared");

    // A run that had matched the offer before it stopped, and a second
    // request for a run while it is unfinished.
    let stopped = Run {
        id: zhiqilian::store::new_id(),
        reason: "weights tuned".into(),
        total: 3,
        done: 1,
        last_listing_id: offer.clone(),
        requested_at: zhiqilian::store::now(),
        started_at: Some(zhiqilian::store::now()),
        finished_at: None,
    };
    let row = stopped.clone();
    let (again, new) = app
        .db()
        .run(move |c| {
            diesel::insert_into(rematch_runs::table)
                .values(&row)
                .execute(c)?;
            rematch::request(c, "another")
        })
        .await
        .expect("run");
    assert!(!new, "an unfinished run is followed, not doubled");
    assert_eq!(again.id, stopped.id);

    let deadline = Instant::now() + Duration::from_secs(20);
    let run = loop {
        let id = stopped.id.clone();
        let r = app
            .db()
            .run(move |c| rematch::get(c, &id))
            .await
            .expect("get")
            .expect("run");
        if r.finished_at.is_some() {
            break r;
        }
        assert!(Instant::now() < deadline, "the run did not finish: {r:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // It went on after the offer: the two requests, each matched again.
    assert_eq!(run.done, 3, "{run:?}");
    assert_eq!(run.last_listing_id, second);
    let after = records(&app).await;
    assert!(after.contains(&(first.clone(), offer.clone())), "{after:?}");
    assert!(
        after.contains(&(second.clone(), offer.clone())),
        "{after:?}"
    );
    assert!(
        app.state
            .background
            .counters
            .listings_rematched
            .load(Ordering::SeqCst)
            >= 2
    );
    // Nothing left to do: a new request starts a new run.
    let (next, new) = app
        .db()
        .run(|c| rematch::request(c, "next"))
        .await
        .expect("run");
    assert!(new && next.id != run.id && next.done == 0);
}
