//! Chat threads: idempotent creation, privacy (404 for non-participants on
//! every route), idempotent posting, seq order under concurrent posts,
//! unread counts, staff joining, close/reopen and match status messages.

use serde_json::{Value, json};

use crate::helpers::*;

/// A public offer of firm b and the thread firm a opens about it.
async fn listing_thread(app: &TestApp, w: &World) -> (String, String) {
    let listing = app
        .create_listing(&w.b.admin, &space_offer("2000㎡ 厂房出租 带行车"))
        .await;
    let lid = id_of(&listing);
    let r = app
        .post(
            "/api/v1/threads",
            &w.a.admin.token,
            &json!({ "listing_id": lid }),
        )
        .await;
    (id_of(r.expect(201)), lid)
}

pub async fn say(app: &TestApp, token: &str, thread: &str, client_id: &str, text: &str) -> Value {
    let r = app
        .post(
            &format!("/api/v1/threads/{thread}/messages"),
            token,
            &json!({ "client_msg_id": client_id, "text": text }),
        )
        .await;
    r.expect(201).clone()
}

async fn thread_of(app: &TestApp, token: &str, id: &str) -> Value {
    app.get(&format!("/api/v1/threads/{id}"), token)
        .await
        .expect(200)
        .clone()
}

#[tokio::test]
async fn a_listing_thread_is_created_once_and_hidden_from_everyone_else() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (tid, lid) = listing_thread(&app, &w).await;

    // Asking again (any member of the firm) returns the same thread.
    let again = app
        .post(
            "/api/v1/threads",
            &w.a.admin.token,
            &json!({ "listing_id": lid }),
        )
        .await;
    assert_eq!(id_of(again.expect(200)), tid);
    let member = app.add_member(&w.a.admin, &w.a.id).await;
    let r = app
        .post(
            "/api/v1/threads",
            &member.token,
            &json!({ "listing_id": lid }),
        )
        .await;
    assert_eq!(id_of(r.expect(200)), tid);

    // What a chat list needs.
    let t = thread_of(&app, &w.a.admin.token, &tid).await;
    assert_eq!(t["title"], "2000㎡ 厂房出租 带行车");
    assert_eq!(t["subject"]["type"], "listing");
    assert_eq!(t["subject"]["listing"]["id"], lid);
    assert_eq!(t["firms"][0]["id"], w.b.id);
    assert_eq!(t["other_firm"]["id"], w.b.id);
    assert_eq!(t["my_role"], "firm");
    assert_eq!(t["status"], "open");
    assert_eq!(t["unread"], 0);
    assert_eq!(
        thread_of(&app, &w.b.admin.token, &tid).await["other_firm"]["id"],
        w.a.id
    );

    // Firm c (another community) gets a thread of its own about the listing.
    let r = app
        .post(
            "/api/v1/threads",
            &w.c.admin.token,
            &json!({ "listing_id": lid }),
        )
        .await;
    let tc = id_of(r.expect(201));
    assert_ne!(tc, tid);
    let b_threads = app.all_pages("/api/v1/threads", &w.b.admin.token).await;
    assert_eq!(b_threads.len(), 2);
    let a_threads = app.all_pages("/api/v1/threads", &w.a.admin.token).await;
    assert_eq!(ids(&a_threads), vec![tid.clone()]);

    // Everyone else: 404 on every thread route, and nothing in their lists.
    say(&app, &w.a.admin.token, &tid, "m1", "您好，厂房还在吗？").await;
    for token in [&w.c.admin.token, &w.staff2.token, &w.admin.token] {
        let base = format!("/api/v1/threads/{tid}");
        app.get(&base, token).await.expect_problem(404, "not_found");
        app.get(&format!("{base}/messages"), token)
            .await
            .expect_problem(404, "not_found");
        app.post(
            &format!("{base}/messages"),
            token,
            &json!({ "client_msg_id": "x1", "text": "偷看" }),
        )
        .await
        .expect_problem(404, "not_found");
        app.post(&format!("{base}/read"), token, &json!({ "seq": 1 }))
            .await
            .expect_problem(404, "not_found");
        for action in ["close", "reopen", "join"] {
            app.post_empty(&format!("{base}/{action}"), token)
                .await
                .expect_problem(404, "not_found");
        }
        let listed = app.all_pages("/api/v1/threads", token).await;
        assert!(!ids(&listed).contains(&tid), "{listed:?}");
    }

    // Bad requests change nothing.
    let r = app
        .post("/api/v1/threads", &w.a.admin.token, &json!({}))
        .await;
    assert_fields(&r.expect_invalid(), &["listing_id", "match_id"]);
    let own = app
        .create_listing(&w.a.admin, &space_offer("自家厂房"))
        .await;
    let r = app
        .post(
            "/api/v1/threads",
            &w.a.admin.token,
            &json!({ "listing_id": id_of(&own) }),
        )
        .await;
    assert_eq!(r.expect_invalid(), vec!["listing_id".to_string()]);
    app.post(
        "/api/v1/threads",
        &w.a.admin.token,
        &json!({ "listing_id": "0190a1a1-0000-7000-8000-000000000000" }),
    )
    .await
    .expect_problem(404, "not_found");
    // Staff do not start listing threads.
    app.post(
        "/api/v1/threads",
        &w.staff1.token,
        &json!({ "listing_id": lid }),
    )
    .await
    .expect_problem(403, "forbidden");
    assert_eq!(
        app.all_pages("/api/v1/threads", &w.a.admin.token)
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn messages_are_posted_once_paged_by_seq_and_counted_unread() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (tid, lid) = listing_thread(&app, &w).await;
    let path = format!("/api/v1/threads/{tid}/messages");

    let first = say(&app, &w.a.admin.token, &tid, "c-1", "  您好，行车几吨？ ").await;
    assert_eq!(first["seq"], 1);
    assert_eq!(first["kind"], "text");
    assert_eq!(first["text"], "您好，行车几吨？");
    assert_eq!(first["author"]["firm_id"], w.a.id);
    assert_eq!(first["author"]["role"], "firm");
    // A retry of the same client id returns the stored message.
    let retry = app
        .post(
            &path,
            &w.a.admin.token,
            &json!({ "client_msg_id": "c-1", "text": "您好，行车几吨？" }),
        )
        .await;
    assert_eq!(retry.expect(200)["id"], first["id"]);
    assert_eq!(retry.body["seq"], 1);
    // The same client id from another author is another message.
    let reply = app
        .post(
            &path,
            &w.b.admin.token,
            &json!({ "client_msg_id": "c-1", "text": "10 吨，可以看现场。", "listing_ref": lid }),
        )
        .await;
    assert_eq!(reply.expect(201)["seq"], 2);
    assert_eq!(reply.body["listing_ref"], lid);

    // Every bad field is named, and nothing is posted.
    let r = app
        .post(
            &path,
            &w.a.admin.token,
            &json!({ "client_msg_id": "has space", "text": "   " }),
        )
        .await;
    assert_fields(&r.expect_invalid(), &["client_msg_id", "text"]);
    let r = app
        .post(
            &path,
            &w.a.admin.token,
            &json!({ "client_msg_id": "c-9", "text": "长".repeat(4001) }),
        )
        .await;
    assert_eq!(r.expect_invalid(), vec!["text".to_string()]);
    assert_eq!(r.field_code("text").as_deref(), Some("too_long"));
    let mut hidden = space_offer("社区内部厂房");
    hidden["visibility"] = json!("community");
    let hidden = app.create_listing(&w.c.admin, &hidden).await;
    let r = app
        .post(
            &path,
            &w.a.admin.token,
            &json!({ "client_msg_id": "c-10", "text": "看这个", "listing_ref": id_of(&hidden) }),
        )
        .await;
    assert_eq!(r.expect_invalid(), vec!["listing_ref".to_string()]);
    let r = app
        .post(&path, &w.a.admin.token, &json!({ "text": "缺 id" }))
        .await;
    assert_eq!(r.expect_invalid(), vec!["client_msg_id".to_string()]);

    // Unread: posting marks my own thread read up to my message.
    let unread = |t: &Value| t["unread"].as_i64().expect("unread");
    assert_eq!(unread(&thread_of(&app, &w.a.admin.token, &tid).await), 1);
    assert_eq!(unread(&thread_of(&app, &w.b.admin.token, &tid).await), 0);
    let colleague = app.add_member(&w.a.admin, &w.a.id).await;
    let listed = app.all_pages("/api/v1/threads", &colleague.token).await;
    assert_eq!(unread(&listed[0]), 2, "unread is per user");
    assert_eq!(listed[0]["last_message"]["seq"], 2);
    assert_eq!(listed[0]["last_message"]["preview"], "10 吨，可以看现场。");
    let read = app
        .post(
            &format!("/api/v1/threads/{tid}/read"),
            &colleague.token,
            &json!({ "seq": 99 }),
        )
        .await;
    assert_eq!(read.expect(200)["last_read_seq"], 2, "clamped to last seq");
    assert_eq!(read.body["unread"], 0);
    // Markers never move back.
    let back = app
        .post(
            &format!("/api/v1/threads/{tid}/read"),
            &colleague.token,
            &json!({ "seq": 1 }),
        )
        .await;
    assert_eq!(back.expect(200)["last_read_seq"], 2);
    app.post(
        &format!("/api/v1/threads/{tid}/read"),
        &colleague.token,
        &json!({ "seq": -1 }),
    )
    .await
    .expect_invalid();

    // Paging by seq.
    for i in 3..=8 {
        say(
            &app,
            &w.b.admin.token,
            &tid,
            &format!("b-{i}"),
            &format!("第{i}条"),
        )
        .await;
    }
    let seqs = |page: &Value| -> Vec<i64> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|m| m["seq"].as_i64().expect("seq"))
            .collect()
    };
    let newest = app.get(&format!("{path}?limit=3"), &w.a.admin.token).await;
    assert_eq!(seqs(newest.expect(200)), vec![6, 7, 8]);
    assert_eq!(newest.body["has_more"], true);
    assert_eq!(newest.body["last_seq"], 8);
    let older = app
        .get(&format!("{path}?before_seq=6&limit=3"), &w.a.admin.token)
        .await;
    assert_eq!(seqs(older.expect(200)), vec![3, 4, 5]);
    let oldest = app
        .get(&format!("{path}?before_seq=3&limit=3"), &w.a.admin.token)
        .await;
    assert_eq!(seqs(oldest.expect(200)), vec![1, 2]);
    assert_eq!(oldest.body["has_more"], false);
    let after = app
        .get(&format!("{path}?after_seq=2&limit=4"), &w.a.admin.token)
        .await;
    assert_eq!(seqs(after.expect(200)), vec![3, 4, 5, 6]);
    assert_eq!(after.body["has_more"], true);
    let between = app
        .get(
            &format!("{path}?after_seq=2&before_seq=5"),
            &w.a.admin.token,
        )
        .await;
    assert_eq!(seqs(between.expect(200)), vec![3, 4]);
    let r = app
        .get(&format!("{path}?limit=201"), &w.a.admin.token)
        .await;
    assert_eq!(r.expect_invalid(), vec!["limit".to_string()]);
    assert_eq!(unread(&thread_of(&app, &w.a.admin.token, &tid).await), 7);
}

#[tokio::test]
async fn concurrent_posts_from_two_firms_get_gapless_seqs_in_order() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (tid, _) = listing_thread(&app, &w).await;
    let mut stream = app.events(&w.a.admin.token, None).await;
    stream
        .until(std::time::Duration::from_secs(5), |e| e.event == "ready")
        .await;

    let path = format!("/api/v1/threads/{tid}/messages");
    let posts = (0..20).flat_map(|i| {
        [
            (&w.a.admin.token, format!("a-{i}")),
            (&w.b.admin.token, format!("b-{i}")),
        ]
    });
    let replies = futures_util::future::join_all(posts.map(|(token, cid)| {
        let path = path.clone();
        let app = &app;
        async move {
            app.post(&path, token, &json!({ "client_msg_id": cid, "text": cid }))
                .await
        }
    }))
    .await;
    let mut seqs: Vec<i64> = replies
        .iter()
        .map(|r| r.expect(201)["seq"].as_i64().expect("seq"))
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=40).collect::<Vec<i64>>());

    let page = app
        .get(&format!("{path}?after_seq=0&limit=200"), &w.b.admin.token)
        .await;
    let listed: Vec<i64> = page.expect(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["seq"].as_i64().expect("seq"))
        .collect();
    assert_eq!(listed, (1..=40).collect::<Vec<i64>>());

    // The stream delivers them in seq order with increasing ids.
    let events = stream
        .until(std::time::Duration::from_secs(10), |e| {
            e.event == "message.created" && e.data["seq"] == 40
        })
        .await;
    let delivered: Vec<(i64, i64)> = events
        .iter()
        .filter(|e| e.event == "message.created")
        .map(|e| (e.id.expect("id"), e.data["seq"].as_i64().expect("seq")))
        .collect();
    assert_eq!(
        delivered.iter().map(|d| d.1).collect::<Vec<_>>(),
        (1..=40).collect::<Vec<i64>>()
    );
    assert!(
        delivered.windows(2).all(|p| p[0].0 < p[1].0),
        "{delivered:?}"
    );
}

#[tokio::test]
async fn staff_join_as_staff_and_threads_close_and_reopen() {
    let app = spawn_app().await;
    let w = app.world().await;
    let (tid, _) = listing_thread(&app, &w).await;
    say(&app, &w.a.admin.token, &tid, "a-1", "价格能谈吗？").await;
    let base = format!("/api/v1/threads/{tid}");

    // Staff of the community see the thread and may join; not read before.
    let t = thread_of(&app, &w.staff1.token, &tid).await;
    assert_eq!(t["my_role"], "observer");
    assert!(
        app.all_pages("/api/v1/threads", &w.staff1.token)
            .await
            .is_empty()
    );
    let community = app
        .all_pages("/api/v1/threads?scope=community", &w.staff1.token)
        .await;
    assert_eq!(ids(&community), vec![tid.clone()]);
    app.get(&format!("{base}/messages"), &w.staff1.token)
        .await
        .expect_problem(403, "not_a_participant");
    app.get("/api/v1/threads?scope=community", &w.a.admin.token)
        .await
        .expect_invalid();
    // Firm members take part already.
    app.post_empty(&format!("{base}/join"), &w.a.admin.token)
        .await
        .expect_problem(403, "forbidden");

    let joined = app
        .post_empty(&format!("{base}/join"), &w.staff1.token)
        .await;
    assert_eq!(joined.expect(200)["my_role"], "staff");
    assert_eq!(joined.body["staff"][0]["name"], "社区工作人员");
    // Joining again changes nothing.
    app.post_empty(&format!("{base}/join"), &w.staff1.token)
        .await
        .expect(200);
    let m = say(&app, &w.staff1.token, &tid, "s-1", "我来协调一下价格").await;
    assert_eq!(m["author"]["role"], "staff");
    assert_eq!(m["author"]["firm_id"], Value::Null);
    let mine = app.all_pages("/api/v1/threads", &w.staff1.token).await;
    assert_eq!(ids(&mine), vec![tid.clone()]);

    // Close: system message, no more posts; reopen: posts again.
    let closed = app
        .post_empty(&format!("{base}/close"), &w.b.admin.token)
        .await;
    assert_eq!(closed.expect(200)["status"], "closed");
    assert!(closed.body["closed_at"].is_string());
    app.post(
        &format!("{base}/messages"),
        &w.a.admin.token,
        &json!({ "client_msg_id": "a-2", "text": "还在吗" }),
    )
    .await
    .expect_problem(409, "thread_closed");
    // A retry of a message posted before closing still answers with it.
    let retry = app
        .post(
            &format!("{base}/messages"),
            &w.a.admin.token,
            &json!({ "client_msg_id": "a-1", "text": "价格能谈吗？" }),
        )
        .await;
    assert_eq!(retry.expect(200)["seq"], 1);
    app.post_empty(&format!("{base}/close"), &w.a.admin.token)
        .await
        .expect(200);
    let reopened = app
        .post_empty(&format!("{base}/reopen"), &w.a.admin.token)
        .await;
    assert_eq!(reopened.expect(200)["status"], "open");
    say(&app, &w.a.admin.token, &tid, "a-2", "还在吗").await;

    let all = app
        .get(&format!("{base}/messages?limit=200"), &w.b.admin.token)
        .await;
    let kinds: Vec<(String, String)> = all.expect(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap_or("").to_string(),
                m["event"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let expect = [
        ("text", ""),
        ("system", "staff_joined"),
        ("text", ""),
        ("system", "closed"),
        ("system", "reopened"),
        ("text", ""),
    ];
    assert_eq!(
        kinds,
        expect
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );
}

async fn match_record(app: &TestApp, w: &World) -> String {
    for (by, body) in [
        (
            &w.b.admin,
            json!({"side": "offer", "kind": "equipment", "title": "3吨叉车出租 可带司机",
                   "attributes": {"equipment_type": "叉车", "mode": "出租"}}),
        ),
        (
            &w.a.admin,
            json!({"side": "request", "kind": "equipment", "title": "急租叉车 3吨", "urgency": "urgent",
                   "attributes": {"equipment_type": "叉车", "mode": "出租"}}),
        ),
    ] {
        app.post("/api/v1/listings?wait=indexed", &by.token, &body)
            .await
            .expect(201);
    }
    for _ in 0..100 {
        let r = app.all_pages("/api/v1/matches", &w.a.admin.token).await;
        if let Some(m) = r.first() {
            return id_of(m);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no match record after 10 s");
}

#[tokio::test]
async fn a_match_thread_records_status_changes_and_reaches_both_firms() {
    let app = spawn_app().await;
    let w = app.world().await;
    let mid = match_record(&app, &w).await;
    let mut b_stream = app.events(&w.b.admin.token, None).await;
    b_stream
        .until(std::time::Duration::from_secs(5), |e| e.event == "ready")
        .await;

    let r = app
        .post(
            "/api/v1/threads",
            &w.a.admin.token,
            &json!({ "match_id": mid }),
        )
        .await;
    let tid = id_of(r.expect(201));
    assert_eq!(r.body["subject"]["type"], "match");
    assert_eq!(r.body["subject"]["match"]["status"], "suggested");
    // Each firm sees the other's listing as the title.
    assert_eq!(r.body["title"], "3吨叉车出租 可带司机");
    let again = app
        .post(
            "/api/v1/threads",
            &w.b.admin.token,
            &json!({ "match_id": mid }),
        )
        .await;
    assert_eq!(id_of(again.expect(200)), tid);
    assert_eq!(again.body["title"], "急租叉车 3吨");
    app.post(
        "/api/v1/threads",
        &w.c.admin.token,
        &json!({ "match_id": mid }),
    )
    .await
    .expect_problem(404, "not_found");
    // Staff of the community open it too, and take part as staff.
    let staff = app
        .post(
            "/api/v1/threads",
            &w.staff1.token,
            &json!({ "match_id": mid }),
        )
        .await;
    assert_eq!(id_of(staff.expect(200)), tid);
    assert_eq!(staff.body["my_role"], "staff");

    app.patch(
        &format!("/api/v1/matches/{mid}"),
        &w.b.admin.token,
        &json!({ "status": "contacted" }),
    )
    .await
    .expect(200);
    let page = app
        .get(&format!("/api/v1/threads/{tid}/messages"), &w.a.admin.token)
        .await;
    let last = page.expect(200)["items"]
        .as_array()
        .expect("items")
        .last()
        .cloned()
        .expect("a message");
    assert_eq!(last["kind"], "system");
    assert_eq!(last["event"], "match_status");
    assert_eq!(last["text"], "匹配状态变为：已联系");

    // Firm b's stream: the thread, the staff joining, the status change.
    let seen = b_stream
        .until(std::time::Duration::from_secs(10), |e| {
            e.event == "match.status_changed"
        })
        .await;
    let types: Vec<&str> = seen.iter().map(|e| e.event.as_str()).collect();
    assert!(types.contains(&"thread.created"), "{types:?}");
    assert!(
        seen.iter()
            .any(|e| e.event == "message.created" && e.data["event"] == "match_status"),
        "{seen:#?}"
    );
    let changed = seen.last().expect("status event");
    assert_eq!(changed.data["match_id"], mid);
    assert_eq!(changed.data["status"], "contacted");
}
