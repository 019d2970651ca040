//! Retention: the `retention` background sweep prunes the event log,
//! notifications, idempotency keys, login throttle rows and finished
//! webhook deliveries past their configured age, and keeps what is
//! younger (and webhook deliveries still owed). A stream resuming from
//! before the pruned horizon gets one `reset` event and goes on from the
//! head; one resuming from the horizon on catches up as usual. Both
//! backends.

use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use diesel::prelude::*;
use serde_json::json;
use zhiqilian::store::schema::{
    idempotency_keys, import_jobs, login_throttle, notifications, stream_events, users,
    webhook_deliveries,
};

use crate::events::thread_between_a_and_b;
use crate::helpers::*;
use crate::protection::post_keyed;
use crate::threads::say;

const WAIT: Duration = Duration::from_secs(15);

/// A webhook subscription of a client of firm b (delivering nowhere: the
/// test writes its delivery rows itself); its id.
async fn webhook(app: &TestApp, w: &World) -> String {
    let token = crate::webhooks::scoped_hook_client(
        app,
        &w.staff1,
        &w.b.id,
        &["webhooks:manage", "matches:read"],
    )
    .await;
    let r = app
        .post(
            "/api/v1/webhooks",
            &token,
            &json!({ "url": "http://127.0.0.1:9/hook", "event_types": ["match.created"] }),
        )
        .await;
    id_of(r.expect(201))
}

async fn pruned_through(app: &TestApp) -> i64 {
    app.db()
        .run(zhiqilian::store::retention::pruned_through)
        .await
        .expect("retention position")
}

async fn event_ids(app: &TestApp) -> Vec<i64> {
    app.db()
        .run(|c| {
            Ok(stream_events::table
                .select(stream_events::id)
                .order(stream_events::id.asc())
                .load::<i64>(c)?)
        })
        .await
        .expect("event ids")
}

#[tokio::test]
async fn old_rows_are_pruned_and_a_stream_from_before_the_horizon_is_reset() {
    let app = spawn_app_with(&[
        ("ZQL_SWEEP_INTERVAL_SECS", "1"),
        ("ZQL_RETENTION_EVENTS_DAYS", "30"),
        ("ZQL_RETENTION_NOTIFICATIONS_DAYS", "90"),
        ("ZQL_RETENTION_LOGIN_THROTTLE_DAYS", "7"),
        ("ZQL_RETENTION_WEBHOOK_DELIVERIES_DAYS", "30"),
        ("ZQL_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true"),
    ])
    .await;
    let w = app.world().await;
    let tid = thread_between_a_and_b(&app, &w).await;
    let mut s = app.events(&w.b.admin.token, None).await;
    let first = s.until(WAIT, |e| e.event == "ready").await;
    let start = first.last().and_then(|e| e.id).expect("ready id");
    for i in 1..=3 {
        say(&app, &w.a.admin.token, &tid, &format!("old-{i}"), "旧消息").await;
    }
    let old = s
        .until(WAIT, |e| e.event == "message.created" && e.data["seq"] == 3)
        .await;
    let horizon = old.last().and_then(|e| e.id).expect("event id");
    assert_eq!(pruned_through(&app).await, 0, "nothing is old yet");
    drop(s);

    // Age everything written so far past its retention, then write rows
    // that are young.
    let hook = webhook(&app, &w).await;
    let now = Utc::now().naive_utc();
    let hook_id = hook.clone();
    app.db()
        .run(move |c| {
            diesel::update(stream_events::table.filter(stream_events::id.le(horizon)))
                .set(stream_events::created_at.eq(now - TimeDelta::days(31)))
                .execute(c)?;
            diesel::update(notifications::table)
                .set(notifications::created_at.eq(now - TimeDelta::days(91)))
                .execute(c)?;
            for row in [
                (
                    idempotency_keys::principal.eq("u:old"),
                    idempotency_keys::idem_key.eq("k-old"),
                    idempotency_keys::fingerprint.eq("f"),
                    idempotency_keys::created_at.eq(now - TimeDelta::hours(25)),
                ),
                (
                    idempotency_keys::principal.eq("u:young"),
                    idempotency_keys::idem_key.eq("k-young"),
                    idempotency_keys::fingerprint.eq("f"),
                    idempotency_keys::created_at.eq(now - TimeDelta::hours(1)),
                ),
            ] {
                diesel::insert_into(idempotency_keys::table)
                    .values(row)
                    .execute(c)?;
            }
            for row in [
                (
                    login_throttle::login.eq("old@park.example"),
                    login_throttle::failures.eq(3),
                    login_throttle::first_failure_at.eq(now - TimeDelta::days(8)),
                ),
                (
                    login_throttle::login.eq("young@park.example"),
                    login_throttle::failures.eq(3),
                    login_throttle::first_failure_at.eq(now - TimeDelta::days(1)),
                ),
            ] {
                diesel::insert_into(login_throttle::table)
                    .values(row)
                    .execute(c)?;
            }
            let delivery = |id: &str, status: &str, age: i64, event: i64| {
                (
                    webhook_deliveries::id.eq(id.to_string()),
                    webhook_deliveries::webhook_id.eq(hook_id.clone()),
                    webhook_deliveries::event_id.eq(event),
                    webhook_deliveries::event_type.eq("match.created"),
                    webhook_deliveries::body.eq("{}"),
                    webhook_deliveries::status.eq(status.to_string()),
                    webhook_deliveries::attempts.eq(1),
                    // Not due for a long time: the sender leaves it alone.
                    webhook_deliveries::next_attempt_at.eq(now + TimeDelta::days(1)),
                    webhook_deliveries::created_at.eq(now - TimeDelta::days(age)),
                )
            };
            for row in [
                delivery("d-old-delivered", "delivered", 31, horizon),
                delivery("d-old-failed", "failed", 31, horizon - 1),
                delivery("d-old-pending", "pending", 31, horizon - 2),
                delivery("d-young", "delivered", 1, horizon - 3),
            ] {
                diesel::insert_into(webhook_deliveries::table)
                    .values(row)
                    .execute(c)?;
            }
            Ok(())
        })
        .await
        .expect("age the rows");
    say(&app, &w.a.admin.token, &tid, "new-1", "新消息").await;

    // The sweep (every second here) prunes the old rows.
    let deadline = Instant::now() + WAIT;
    while pruned_through(&app).await < horizon {
        assert!(
            Instant::now() < deadline,
            "the event log was not pruned up to {horizon}: at {}",
            pruned_through(&app).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(pruned_through(&app).await, horizon);
    let ids = event_ids(&app).await;
    assert!(
        ids.first().is_some_and(|id| *id > horizon),
        "events up to {horizon} pruned, later ones kept: {ids:?}"
    );
    let head = *ids.last().expect("newer events are kept");
    let deadline = Instant::now() + WAIT;
    loop {
        let (n, keys, throttle, deliveries) = app
            .db()
            .run(|c| {
                let n: i64 = notifications::table.count().get_result(c)?;
                let keys: Vec<String> = idempotency_keys::table
                    .select(idempotency_keys::idem_key)
                    .load(c)?;
                let throttle: Vec<String> = login_throttle::table
                    .select(login_throttle::login)
                    .filter(login_throttle::login.like("%@park.example"))
                    .order(login_throttle::login.asc())
                    .load(c)?;
                let deliveries: Vec<String> = webhook_deliveries::table
                    .select(webhook_deliveries::id)
                    .order(webhook_deliveries::id.asc())
                    .load(c)?;
                Ok((n, keys, throttle, deliveries))
            })
            .await
            .expect("rows");
        let old_notifications = app
            .db()
            .run(move |c| {
                Ok(notifications::table
                    .filter(notifications::created_at.lt(now - TimeDelta::days(90)))
                    .count()
                    .get_result::<i64>(c)?)
            })
            .await
            .expect("old notifications");
        let done = old_notifications == 0
            && !keys.contains(&"k-old".to_string())
            && throttle == ["young@park.example"]
            && deliveries == ["d-old-pending", "d-young"];
        if done {
            assert!(keys.contains(&"k-young".to_string()), "{keys:?}");
            // The new message's notification is young and stays.
            assert!(n >= 1, "young notifications are kept");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not pruned: {old_notifications} old notifications, keys {keys:?}, throttle rows {throttle:?}, deliveries {deliveries:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Resuming from before the horizon: one `reset`, then `ready` at the
    // head, then live events as usual.
    let mut s = app.events(&w.b.admin.token, Some(start)).await;
    let got = s.until(WAIT, |e| e.event == "ready").await;
    let kinds: Vec<&str> = got.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(kinds, ["reset", "ready"], "{kinds:?}");
    let reset = &got[0];
    let resumed = reset.id.expect("reset id");
    assert!(
        resumed >= head,
        "the reset points at the head: {resumed} < {head}"
    );
    assert_eq!(reset.data["last_event_id"], resumed);
    assert_eq!(reset.data["requested"], start);
    assert_eq!(reset.data["pruned_through"], horizon);
    assert_eq!(got[1].id, Some(resumed));
    say(&app, &w.a.admin.token, &tid, "new-2", "重新加载之后").await;
    let live = s.until(WAIT, |e| e.event == "message.created").await;
    assert!(live.iter().all(|e| e.event != "reset"), "one reset only");
    assert_eq!(
        live.last().expect("live message").data["text"],
        "重新加载之后"
    );
    drop(s);

    // Resuming from the horizon itself misses nothing: no reset, and the
    // events after it arrive from the log.
    let mut s = app.events(&w.b.admin.token, Some(horizon)).await;
    let got = s
        .until(WAIT, |e| {
            e.event == "message.created" && e.data["text"] == "重新加载之后"
        })
        .await;
    assert!(
        got.iter().all(|e| e.event != "reset"),
        "no reset at the horizon"
    );
    assert_eq!(got[0].event, "ready");
    assert_eq!(got[0].id, Some(horizon));
    let texts: Vec<&str> = got
        .iter()
        .filter(|e| e.event == "message.created")
        .filter_map(|e| e.data["text"].as_str())
        .collect();
    assert_eq!(texts, ["新消息", "重新加载之后"]);
}

/// `retention_idempotency_hours`: the sweep prunes a key older than that,
/// after which a request with it is a new one; a younger key still replays
/// its first answer, here one older than the default 24 hours.
#[tokio::test]
async fn idempotency_keys_are_kept_for_their_configured_hours() {
    let app = spawn_app_with(&[
        ("ZQL_SWEEP_INTERVAL_SECS", "1"),
        ("ZQL_RETENTION_IDEMPOTENCY_HOURS", "48"),
    ])
    .await;
    let w = app.world().await;
    let token = &w.a.admin.token;
    let (old_body, fresh_body) = (space_offer("旧键 仓库出租"), space_offer("新键 仓库出租"));
    let old = post_keyed(&app, token, "k-old", &old_body)
        .await
        .expect(201)
        .clone();
    let fresh = post_keyed(&app, token, "k-fresh", &fresh_body)
        .await
        .expect(201)
        .clone();
    let now = Utc::now().naive_utc();
    app.db()
        .run(move |c| {
            for (key, hours) in [("k-old", 49), ("k-fresh", 30)] {
                diesel::update(idempotency_keys::table.filter(idempotency_keys::idem_key.eq(key)))
                    .set(idempotency_keys::created_at.eq(now - TimeDelta::hours(hours)))
                    .execute(c)?;
            }
            Ok(())
        })
        .await
        .expect("age the keys");

    // No keyed request in between: only the sweep prunes.
    let deadline = Instant::now() + WAIT;
    loop {
        let keys: Vec<String> = app
            .db()
            .run(|c| {
                Ok(idempotency_keys::table
                    .select(idempotency_keys::idem_key)
                    .order(idempotency_keys::idem_key.asc())
                    .load(c)?)
            })
            .await
            .expect("keys");
        if keys == ["k-fresh"] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the expired key was not pruned (or the fresh one was): {keys:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let again = post_keyed(&app, token, "k-fresh", &fresh_body).await;
    assert_eq!(again.expect(201), &fresh, "a 30-hour-old key replays");
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let reused = post_keyed(&app, token, "k-old", &old_body).await;
    assert_ne!(
        reused.expect(201)["id"],
        old["id"],
        "a pruned key is free: the request is new"
    );
    assert!(reused.header("idempotent-replayed").is_none());
    let mine = app.all_pages("/api/v1/listings?mine=true", token).await;
    assert_eq!(mine.len(), 3, "{mine:?}");
}

/// `retention_import_jobs_days`: finished spreadsheet import jobs (whose
/// error report quotes the sheet's cells) older than that are pruned; a
/// younger one stays, and so does one still running, however old.
#[tokio::test]
async fn finished_import_jobs_are_pruned_after_their_days() {
    let app = spawn_app_with(&[
        ("ZQL_SWEEP_INTERVAL_SECS", "1"),
        ("ZQL_RETENTION_IMPORT_JOBS_DAYS", "30"),
    ])
    .await;
    let w = app.world().await;
    let now = Utc::now().naive_utc();
    let community = w.c1.clone();
    app.db()
        .run(move |c| {
            // Any account will do as the importer.
            let staff: String = users::table.select(users::id).first(c)?;
            for (id, status, age, finished) in [
                ("job-old", "done", 31, true),
                ("job-young", "done", 29, true),
                ("job-running", "running", 400, false),
            ] {
                let at = now - TimeDelta::days(age);
                diesel::insert_into(import_jobs::table)
                    .values((
                        import_jobs::id.eq(id),
                        import_jobs::community_id.eq(&community),
                        import_jobs::kind.eq("firms"),
                        import_jobs::status.eq(status),
                        import_jobs::file_name.eq("企业.xlsx"),
                        import_jobs::total_rows.eq(2),
                        import_jobs::processed_rows.eq(2),
                        import_jobs::created.eq(1),
                        import_jobs::updated.eq(0),
                        import_jobs::unchanged.eq(0),
                        import_jobs::failed.eq(1),
                        import_jobs::errors.eq("[]"),
                        import_jobs::created_by.eq(&staff),
                        import_jobs::created_at.eq(at),
                        import_jobs::updated_at.eq(at),
                        import_jobs::finished_at.eq(finished.then_some(at)),
                    ))
                    .execute(c)?;
            }
            Ok(())
        })
        .await
        .expect("import jobs");
    let deadline = Instant::now() + WAIT;
    loop {
        let ids: Vec<String> = app
            .db()
            .run(|c| {
                Ok(import_jobs::table
                    .select(import_jobs::id)
                    .order(import_jobs::id.asc())
                    .load(c)?)
            })
            .await
            .expect("jobs");
        if ids == ["job-running", "job-young"] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the old finished job is pruned, the others kept: {ids:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
