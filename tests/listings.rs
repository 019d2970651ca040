//! Listings: create, validate, edit, close, visibility and browsing, and the
//! change log every write appends to.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::*;

fn path(id: &str) -> String {
    format!("/api/v1/listings/{id}")
}

async fn list_ids(app: &TestApp, query: &str, token: &str) -> HashSet<String> {
    app.all_pages(&format!("/api/v1/listings{query}"), token)
        .await
        .iter()
        .map(id_of)
        .collect()
}

#[tokio::test]
async fn create_round_trips_every_field() {
    let app = spawn_app().await;
    let w = app.world().await;
    let body = space_offer("北仑 2000㎡ 单层厂房出租");

    let r = app.post("/api/v1/listings", &w.a.admin.token, &body).await;
    let l = r.expect(201).clone();
    let id = id_of(&l);
    assert_eq!(r.header("location"), Some(path(&id).as_str()));
    for key in [
        "side",
        "kind",
        "title",
        "description",
        "quantity",
        "price",
        "available_from",
        "available_until",
        "urgency",
        "visibility",
        "attributes",
    ] {
        assert_eq!(l[key], body[key], "{key}: {l:#}");
    }
    assert_eq!(l["status"], "open");
    assert_eq!(l["version"], 1);
    assert!(l["key"].is_null());
    assert!(l["closed_at"].is_null());
    assert!(l["expires_at"].is_null());
    assert_eq!(l["firm"]["id"], w.a.id);
    assert_eq!(l["firm"]["verified"], true);
    assert_eq!(l["firm"]["name"], "宁波甬港模塑科技有限公司");
    assert_eq!(l["community"]["id"], w.c1);
    assert_eq!(l["community"]["name"], "大港工业社区");
    assert_eq!(l["created_at"], l["updated_at"]);
    // Without a location the firm's address and coordinates are used.
    assert_eq!(
        l["location"],
        json!({ "address": "宁波市北仑区新碶街道大港五路66号", "lat": 29.9321, "lon": 121.8683 })
    );

    // Reading it back gives the same document.
    let got = app.get(&path(&id), &w.a.admin.token).await;
    assert_eq!(got.expect(200), &l);
    let got = app.get(&path(&id), &w.c.admin.token).await;
    assert_eq!(got.expect(200), &l);

    // An explicit location, expiry and defaults for urgency and visibility.
    let expires = (chrono::Utc::now() + chrono::TimeDelta::days(30))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let l2 = app
        .create_listing(
            &w.a.admin,
            &json!({
                "side": "request", "kind": "logistics", "title": "求北仑到洋山冷链车",
                "location": { "address": "霞浦", "lat": 29.95, "lon": 121.94 },
                "expires_at": expires,
                "attributes": { "origin": "北仑", "destination": "洋山港", "cold_chain": true }
            }),
        )
        .await;
    assert_eq!(
        l2["location"],
        json!({ "address": "霞浦", "lat": 29.95, "lon": 121.94 })
    );
    assert_eq!(l2["urgency"], "normal");
    assert_eq!(l2["visibility"], "public");
    assert_eq!(l2["description"], "");
    assert!(l2["quantity"].is_null() && l2["price"].is_null());
    let stored: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(l2["expires_at"].clone()).expect("expires_at is a timestamp");
    assert_eq!(stored.format("%Y-%m-%dT%H:%M:%SZ").to_string(), expires);

    // Members of the firm (not only its admin) may post.
    let member = app.add_member(&w.a.admin, &w.a.id).await;
    let l3 = app
        .create_listing(
            &member,
            &listing("offer", "workforce", "普工 10 人可借调", "public"),
        )
        .await;
    assert_eq!(l3["firm"]["id"], w.a.id);
}

#[tokio::test]
async fn only_firm_members_post_listings() {
    let app = spawn_app().await;
    let w = app.world().await;
    let body = space_offer("厂房出租");
    app.post("/api/v1/listings", &w.admin.token, &body)
        .await
        .expect_problem(403, "forbidden");
    // Staff post only for a firm of their community, which they must name
    // (tests/frontdesk.rs covers posting for a firm).
    let r = app.post("/api/v1/listings", &w.staff1.token, &body).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.field_code("firm_id").as_deref(), Some("required"));
    app.post_anon("/api/v1/listings", &body)
        .await
        .expect_problem(401, "unauthenticated");
}

#[tokio::test]
async fn validation_reports_every_field_at_once() {
    let app = spawn_app().await;
    let w = app.world().await;
    let before = app.change_head().await;
    let t = &w.a.admin.token;

    let r = app
        .post(
            "/api/v1/listings",
            t,
            &json!({
                "side": "sideways",
                "kind": "space",
                "title": "",
                "quantity": { "amount": -5, "unit": "㎡" },
                "available_from": "2027-03-01",
                "available_until": "2027-01-01",
                "attributes": { "area_m2": 100, "colour": "red" }
            }),
        )
        .await;
    let fields = r.expect_invalid();
    assert_fields(
        &fields,
        &[
            "side",
            "title",
            "quantity.amount",
            "available_until",
            "attributes.colour",
        ],
    );
    assert_eq!(r.field_code("side").as_deref(), Some("invalid_value"));
    assert_eq!(r.field_code("title").as_deref(), Some("required"));
    assert_eq!(
        r.field_code("quantity.amount").as_deref(),
        Some("out_of_range")
    );
    assert_eq!(
        r.field_code("available_until").as_deref(),
        Some("out_of_range")
    );
    assert_eq!(
        r.field_code("attributes.colour").as_deref(),
        Some("unknown_key")
    );
    assert!(!fields.contains(&"attributes.area_m2".to_string()));

    // Missing required fields and bad values elsewhere.
    let r = app
        .post(
            "/api/v1/listings",
            t,
            &json!({
                "title": "x",
                "price": { "amount": 1, "unit": "" },
                "location": { "lat": 95.0, "lon": 121.0 },
                "available_from": "2027/01/01",
                "urgency": "asap",
                "visibility": "secret",
                "expires_at": "tomorrow"
            }),
        )
        .await;
    let fields = r.expect_invalid();
    assert_fields(
        &fields,
        &[
            "side",
            "kind",
            "title",
            "price.unit",
            "location.lat",
            "available_from",
            "urgency",
            "visibility",
            "expires_at",
        ],
    );
    assert_eq!(r.field_code("side").as_deref(), Some("required"));
    assert_eq!(r.field_code("kind").as_deref(), Some("required"));
    assert_eq!(r.field_code("title").as_deref(), Some("too_short"));

    // Attribute values are checked for the listing's kind.
    let r = app
        .post(
            "/api/v1/listings",
            t,
            &json!({
                "side": "offer", "kind": "space", "title": "冷库出租",
                "attributes": { "usage": "宿舍", "area_m2": "很大", "headcount": 3 }
            }),
        )
        .await;
    assert_fields(
        &r.expect_invalid(),
        &[
            "attributes.usage",
            "attributes.area_m2",
            "attributes.headcount",
        ],
    );

    // An expiry in the past.
    let r = app
        .post(
            "/api/v1/listings",
            t,
            &json!({ "side": "offer", "kind": "service", "title": "检测服务",
                     "expires_at": "2020-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(r.expect_invalid(), ["expires_at"]);

    // Unknown top-level fields are refused by name.
    let mut body = space_offer("厂房");
    body["colour"] = json!("red");
    let r = app.post("/api/v1/listings", t, &body).await;
    assert_eq!(r.expect_invalid(), ["colour"]);
    // So are wrong JSON types.
    let mut body = space_offer("厂房");
    body["title"] = json!(42);
    r_is_422(&app.post("/api/v1/listings", t, &body).await);

    // Nothing was written.
    assert_eq!(app.change_head().await, before);
    let mine = app.all_pages("/api/v1/listings?mine=true", t).await;
    assert!(mine.is_empty(), "{mine:#?}");
}

#[track_caller]
fn r_is_422(r: &Reply) {
    r.expect_problem(422, "validation_failed");
    assert!(!r.fields().is_empty(), "{:#}", r.body);
}

#[tokio::test]
async fn owners_edit_listings() {
    let app = spawn_app().await;
    let w = app.world().await;
    let l = app
        .create_listing(&w.a.admin, &space_offer("厂房出租"))
        .await;
    let id = id_of(&l);
    let member = app.add_member(&w.a.admin, &w.a.id).await;

    let r = app
        .patch(
            &path(&id),
            &member.token,
            &json!({
                "title": "厂房出租（可分租）",
                "price": { "amount": 22, "unit": "元/㎡/月" },
                "quantity": null,
                "attributes": { "area_m2": 1500, "usage": "仓储" }
            }),
        )
        .await;
    let u = r.expect(200).clone();
    assert_eq!(u["version"], 2);
    assert_eq!(u["title"], "厂房出租（可分租）");
    assert_eq!(u["price"], json!({ "amount": 22.0, "unit": "元/㎡/月" }));
    assert!(u["quantity"].is_null());
    assert_eq!(u["attributes"], json!({ "area_m2": 1500, "usage": "仓储" }));
    // Untouched fields are kept.
    for key in [
        "side",
        "kind",
        "description",
        "available_from",
        "location",
        "created_at",
    ] {
        assert_eq!(u[key], l[key], "{key}");
    }
    assert_ne!(u["updated_at"], l["updated_at"]);
    assert_eq!(app.get(&path(&id), &w.b.admin.token).await.expect(200), &u);

    // A patch that changes nothing keeps the version.
    let r = app
        .patch(
            &path(&id),
            &w.a.admin.token,
            &json!({ "title": "厂房出租（可分租）" }),
        )
        .await;
    assert_eq!(r.expect(200)["version"], 2);

    // Side and kind cannot change.
    let r = app
        .patch(
            &path(&id),
            &w.a.admin.token,
            &json!({ "side": "request", "kind": "equipment" }),
        )
        .await;
    assert_eq!(r.expect_invalid(), ["side", "kind"]);
    assert_eq!(r.field_code("side").as_deref(), Some("immutable"));
    assert_eq!(r.field_code("kind").as_deref(), Some("immutable"));
    let r = app
        .patch(&path(&id), &w.a.admin.token, &json!({ "side": "offer" }))
        .await;
    assert_eq!(r.expect_invalid(), ["side"]);

    // The patched listing is validated as a whole.
    let r = app
        .patch(
            &path(&id),
            &w.a.admin.token,
            &json!({ "title": " ", "available_until": "2026-01-01", "attributes": { "brand": "海天" } }),
        )
        .await;
    assert_fields(
        &r.expect_invalid(),
        &["title", "available_until", "attributes.brand"],
    );
    let r = app
        .patch(&path(&id), &w.a.admin.token, &json!({ "owner": "me" }))
        .await;
    assert_eq!(r.expect_invalid(), ["owner"]);
    assert_eq!(
        app.get(&path(&id), &w.a.admin.token).await.expect(200)["version"],
        2
    );

    app.patch(
        "/api/v1/listings/00000000-0000-0000-0000-000000000000",
        &w.a.admin.token,
        &json!({ "title": "不存在" }),
    )
    .await
    .expect_problem(404, "not_found");
}

#[tokio::test]
async fn other_firms_cannot_edit() {
    let app = spawn_app().await;
    let w = app.world().await;
    let public = id_of(
        &app.create_listing(&w.a.admin, &space_offer("公开厂房"))
            .await,
    );
    let local = id_of(
        &app.create_listing(
            &w.a.admin,
            &listing("offer", "equipment", "社区内共享叉车", "community"),
        )
        .await,
    );
    let patch = json!({ "title": "被改了" });

    // Visible to them, but not theirs.
    app.patch(&path(&public), &w.c.admin.token, &patch)
        .await
        .expect_problem(403, "forbidden");
    app.patch(&path(&public), &w.b.admin.token, &patch)
        .await
        .expect_problem(403, "forbidden");
    app.patch(&path(&local), &w.b.admin.token, &patch)
        .await
        .expect_problem(403, "forbidden");
    // Community-only listing of another community: not even visible.
    app.patch(&path(&local), &w.c.admin.token, &patch)
        .await
        .expect_problem(404, "not_found");
    // Staff and admins close but do not edit.
    for s in [&w.staff1, &w.admin] {
        app.patch(&path(&public), &s.token, &patch)
            .await
            .expect_problem(403, "forbidden");
    }
    let l = app.get(&path(&public), &w.a.admin.token).await;
    assert_eq!(l.expect(200)["title"], "公开厂房");
    assert_eq!(l.body["version"], 1);
}

#[tokio::test]
async fn community_only_listings_stay_in_the_community() {
    let app = spawn_app().await;
    let w = app.world().await;
    let local = id_of(
        &app.create_listing(
            &w.a.admin,
            &listing("request", "workforce", "急招普工 5 名", "community"),
        )
        .await,
    );

    for s in [&w.a.admin, &w.b.admin, &w.staff1, &w.admin] {
        let r = app.get(&path(&local), &s.token).await;
        assert_eq!(r.expect(200)["visibility"], "community");
        assert!(list_ids(&app, "", &s.token).await.contains(&local));
    }
    for s in [&w.c.admin, &w.staff2] {
        app.get(&path(&local), &s.token)
            .await
            .expect_problem(404, "not_found");
        assert!(!list_ids(&app, "", &s.token).await.contains(&local));
    }

    // Making it public opens it to everyone.
    app.patch(
        &path(&local),
        &w.a.admin.token,
        &json!({ "visibility": "public" }),
    )
    .await
    .expect(200);
    app.get(&path(&local), &w.c.admin.token).await.expect(200);
    assert!(list_ids(&app, "", &w.staff2.token).await.contains(&local));
}

#[tokio::test]
async fn unverified_firms_are_private_until_verified() {
    let app = spawn_app().await;
    let w = app.world().await;
    let u = app.register_firm(&w.c1).await;
    let l = app
        .create_listing(&u.admin, &space_offer("新企业的厂房"))
        .await;
    let id = id_of(&l);
    assert_eq!(l["firm"]["verified"], false);

    // The firm itself, its community's staff and admins see it.
    for s in [&u.admin, &w.staff1, &w.admin] {
        app.get(&path(&id), &s.token).await.expect(200);
    }
    for s in [&w.b.admin, &w.c.admin, &w.staff2] {
        app.get(&path(&id), &s.token)
            .await
            .expect_problem(404, "not_found");
        assert!(!list_ids(&app, "", &s.token).await.contains(&id));
    }
    assert!(
        list_ids(&app, "?mine=true", &u.admin.token)
            .await
            .contains(&id)
    );

    app.verify_firm(&w.staff1, &u.id).await;
    for s in [&w.b.admin, &w.c.admin, &w.staff2] {
        let r = app.get(&path(&id), &s.token).await;
        assert_eq!(r.expect(200)["firm"]["verified"], true);
        assert!(list_ids(&app, "", &s.token).await.contains(&id));
    }
}

#[tokio::test]
async fn closing_listings() {
    let app = spawn_app().await;
    let w = app.world().await;
    let id = id_of(
        &app.create_listing(&w.a.admin, &space_offer("厂房出租"))
            .await,
    );

    let r = app
        .post_empty(&format!("{}/close", path(&id)), &w.a.admin.token)
        .await;
    let closed = r.expect(200).clone();
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["version"], 2);
    assert!(closed["closed_at"].is_string());

    // Closing again is a no-op that answers the same.
    let r = app
        .post_empty(&format!("{}/close", path(&id)), &w.a.admin.token)
        .await;
    assert_eq!(r.expect(200), &closed);

    // A closed listing cannot be edited.
    app.patch(
        &path(&id),
        &w.a.admin.token,
        &json!({ "title": "重新开放" }),
    )
    .await
    .expect_problem(409, "listing_closed");
    // Closed listings drop out of the default (open) list but stay readable.
    assert!(!list_ids(&app, "", &w.b.admin.token).await.contains(&id));
    assert!(
        list_ids(&app, "?status=closed", &w.b.admin.token)
            .await
            .contains(&id)
    );
    assert!(
        list_ids(&app, "?mine=true", &w.a.admin.token)
            .await
            .contains(&id)
    );
    app.get(&path(&id), &w.b.admin.token).await.expect(200);
}

async fn close(app: &TestApp, id: &str, by: &Session) -> Reply {
    app.post_empty(&format!("{}/close", path(id)), &by.token)
        .await
}

async fn new_public(app: &TestApp, w: &World) -> String {
    id_of(
        &app.create_listing(&w.a.admin, &space_offer("公开厂房"))
            .await,
    )
}

async fn new_local(app: &TestApp, w: &World) -> String {
    let body = listing("offer", "material", "余料 PP 颗粒", "community");
    id_of(&app.create_listing(&w.a.admin, &body).await)
}

#[tokio::test]
async fn who_may_close() {
    let app = spawn_app().await;
    let w = app.world().await;

    // The listing's community staff may close, public or community-only.
    let id = new_public(&app, &w).await;
    let r = close(&app, &id, &w.staff1).await;
    assert_eq!(r.expect(200)["status"], "closed");
    let id = new_local(&app, &w).await;
    let r = close(&app, &id, &w.staff1).await;
    assert_eq!(r.expect(200)["status"], "closed");
    // So may platform admins.
    let id = new_public(&app, &w).await;
    close(&app, &id, &w.admin).await.expect(200);

    // Another community's staff: forbidden when visible, unknown when not.
    let public = new_public(&app, &w).await;
    close(&app, &public, &w.staff2)
        .await
        .expect_problem(403, "forbidden");
    let local = new_local(&app, &w).await;
    close(&app, &local, &w.staff2)
        .await
        .expect_problem(404, "not_found");
    // Other firms may not close either.
    close(&app, &public, &w.b.admin)
        .await
        .expect_problem(403, "forbidden");
    close(&app, &local, &w.c.admin)
        .await
        .expect_problem(404, "not_found");
    for id in [&public, &local] {
        let r = app.get(&path(id), &w.a.admin.token).await;
        assert_eq!(r.expect(200)["status"], "open");
    }
    close(&app, "00000000-0000-0000-0000-000000000000", &w.admin)
        .await
        .expect_problem(404, "not_found");
}

#[tokio::test]
async fn list_filters() {
    let app = spawn_app().await;
    let w = app.world().await;
    let a_space = id_of(&app.create_listing(&w.a.admin, &space_offer("厂房")).await);
    let a_equipment = id_of(
        &app.create_listing(
            &w.a.admin,
            &listing("request", "equipment", "求租叉车", "public"),
        )
        .await,
    );
    let a_material = id_of(
        &app.create_listing(
            &w.a.admin,
            &listing("offer", "material", "余料", "community"),
        )
        .await,
    );
    let a_closed = id_of(&app.create_listing(&w.a.admin, &space_offer("已租出")).await);
    app.post_empty(&format!("{}/close", path(&a_closed)), &w.a.admin.token)
        .await
        .expect(200);
    let b_request = id_of(
        &app.create_listing(
            &w.b.admin,
            &listing("request", "space", "求租仓库", "public"),
        )
        .await,
    );
    let c_space = id_of(
        &app.create_listing(&w.c.admin, &space_offer("灵峰厂房"))
            .await,
    );
    let set = |v: &[&String]| v.iter().map(|s| s.to_string()).collect::<HashSet<_>>();
    let b = &w.b.admin.token;

    // Default: open listings the caller may see.
    assert_eq!(
        list_ids(&app, "", b).await,
        set(&[&a_space, &a_equipment, &a_material, &b_request, &c_space])
    );
    assert_eq!(
        list_ids(&app, "", &w.c.admin.token).await,
        set(&[&a_space, &a_equipment, &b_request, &c_space])
    );
    // mine: every status of my firm's listings.
    assert_eq!(
        list_ids(&app, "?mine=true", &w.a.admin.token).await,
        set(&[&a_space, &a_equipment, &a_material, &a_closed])
    );
    assert_eq!(
        list_ids(&app, "?mine=true&status=open", &w.a.admin.token).await,
        set(&[&a_space, &a_equipment, &a_material])
    );
    assert_eq!(list_ids(&app, "?mine=true", b).await, set(&[&b_request]));
    assert_eq!(
        list_ids(&app, "?side=request", b).await,
        set(&[&a_equipment, &b_request])
    );
    assert_eq!(
        list_ids(&app, "?kind=material", b).await,
        set(&[&a_material])
    );
    assert_eq!(
        list_ids(&app, "?side=offer&kind=space", b).await,
        set(&[&a_space, &c_space])
    );
    assert_eq!(list_ids(&app, "?status=closed", b).await, set(&[&a_closed]));
    assert_eq!(
        list_ids(&app, &format!("?community={}", w.c2), b).await,
        set(&[&c_space])
    );
    assert_eq!(
        list_ids(&app, &format!("?community={}&side=request", w.c1), b).await,
        set(&[&a_equipment, &b_request])
    );
    // Staff of c2 see c1's public listings only.
    assert_eq!(
        list_ids(&app, &format!("?community={}", w.c1), &w.staff2.token).await,
        set(&[&a_space, &a_equipment, &b_request])
    );
    // Items carry the full listing.
    let r = app.get("/api/v1/listings?kind=material", b).await;
    let items = r.expect(200)["items"].as_array().expect("items").clone();
    assert_eq!(
        items[0],
        app.get(&path(&a_material), b).await.expect(200).clone()
    );
}

#[tokio::test]
async fn invalid_list_parameters() {
    let app = spawn_app().await;
    let w = app.world().await;
    let t = w.a.admin.token.as_str();
    let app = &app;
    let get =
        move |q: &'static str| async move { app.get(&format!("/api/v1/listings{q}"), t).await };

    let r = get("?side=sideways&kind=robots&status=pending").await;
    assert_eq!(r.expect_invalid(), ["side", "kind", "status"]);
    assert_eq!(get("?limit=0").await.expect_invalid(), ["limit"]);
    assert_eq!(get("?limit=101").await.expect_invalid(), ["limit"]);
    assert_eq!(get("?limit=-1").await.expect_invalid(), ["limit"]);
    get("?limit=100").await.expect(200);
    get("?limit=1").await.expect(200);
    assert_eq!(
        get("?cursor=not-a-cursor").await.expect_invalid(),
        ["cursor"]
    );
    assert_eq!(
        get("?cursor=bm90LWEtdXVpZA").await.expect_invalid(),
        ["cursor"]
    );
    // Values of the wrong type and unknown parameters.
    get("?limit=many")
        .await
        .expect_problem(400, "invalid_query");
    get("?mine=perhaps")
        .await
        .expect_problem(400, "invalid_query");
    get("?colour=red")
        .await
        .expect_problem(400, "invalid_query");
    // Only firm members have listings of their own.
    let r = app.get("/api/v1/listings?mine=true", &w.staff1.token).await;
    assert_eq!(r.expect_invalid(), ["mine"]);
    // Unknown listing ids.
    app.get(&path("00000000-0000-0000-0000-000000000000"), t)
        .await
        .expect_problem(404, "not_found");
    app.get(&path("not-a-uuid"), t)
        .await
        .expect_problem(404, "not_found");
}

#[tokio::test]
async fn cursor_pagination_has_no_gaps_or_duplicates() {
    let app = spawn_app().await;
    let w = app.world().await;
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(id_of(
            &app.create_listing(&w.a.admin, &space_offer(&format!("厂房 {i} 号")))
                .await,
        ));
    }
    let expected: Vec<String> = created.iter().rev().cloned().collect();

    let r = app
        .get("/api/v1/listings?mine=true&limit=3", &w.a.admin.token)
        .await;
    let p1 = r.expect(200).clone();
    assert_eq!(ids(p1["items"].as_array().expect("items")), &expected[..3]);
    let c1 = p1["next_cursor"].as_str().expect("cursor 1");
    let r = app
        .get(
            &format!("/api/v1/listings?mine=true&limit=3&cursor={c1}"),
            &w.a.admin.token,
        )
        .await;
    let p2 = r.expect(200).clone();
    assert_eq!(ids(p2["items"].as_array().expect("items")), &expected[3..6]);
    let c2 = p2["next_cursor"].as_str().expect("cursor 2");
    let r = app
        .get(
            &format!("/api/v1/listings?mine=true&limit=3&cursor={c2}"),
            &w.a.admin.token,
        )
        .await;
    let p3 = r.expect(200).clone();
    assert_eq!(ids(p3["items"].as_array().expect("items")), &expected[6..]);
    assert!(p3["next_cursor"].is_null());

    // Exactly `limit` items left: no empty extra page.
    let all = app
        .all_pages("/api/v1/listings?limit=7", &w.b.admin.token)
        .await;
    assert_eq!(ids(&all), expected);
    let r = app.get("/api/v1/listings?limit=7", &w.b.admin.token).await;
    assert!(r.expect(200)["next_cursor"].is_null());
    // Default page size is 20.
    let r = app.get("/api/v1/listings", &w.b.admin.token).await;
    assert_eq!(r.expect(200)["items"].as_array().map(Vec::len), Some(7));

    // A page boundary survives a new listing and a closed one.
    let r = app.get("/api/v1/listings?limit=4", &w.b.admin.token).await;
    let cursor = r.expect(200)["next_cursor"]
        .as_str()
        .expect("cursor")
        .to_string();
    app.create_listing(&w.a.admin, &space_offer("新来的")).await;
    app.post_empty(&format!("{}/close", path(&expected[5])), &w.a.admin.token)
        .await
        .expect(200);
    let rest = app
        .all_pages(
            &format!("/api/v1/listings?limit=4&cursor={cursor}"),
            &w.b.admin.token,
        )
        .await;
    let want: Vec<String> = [4, 6].iter().map(|&i| expected[i].clone()).collect();
    assert_eq!(ids(&rest), want);
}

#[tokio::test]
async fn every_write_appends_one_change() {
    let app = spawn_app().await;
    let w = app.world().await;
    let h0 = app.change_head().await;

    let l = app.create_listing(&w.a.admin, &space_offer("厂房")).await;
    let id = id_of(&l);
    assert_eq!(app.change_head().await, h0 + 1, "create");

    app.patch(
        &path(&id),
        &w.a.admin.token,
        &json!({ "title": "厂房（已降价）" }),
    )
    .await
    .expect(200);
    assert_eq!(app.change_head().await, h0 + 2, "update");

    // Writes that change nothing or fail append nothing.
    app.patch(
        &path(&id),
        &w.a.admin.token,
        &json!({ "title": "厂房（已降价）" }),
    )
    .await
    .expect(200);
    app.patch(
        &path(&id),
        &w.a.admin.token,
        &json!({ "kind": "equipment" }),
    )
    .await
    .expect(422);
    app.patch(&path(&id), &w.c.admin.token, &json!({ "title": "x" }))
        .await
        .expect(403);
    assert_eq!(app.change_head().await, h0 + 2, "no-op and refused writes");

    app.post_empty(&format!("{}/close", path(&id)), &w.a.admin.token)
        .await
        .expect(200);
    assert_eq!(app.change_head().await, h0 + 3, "close");
    app.post_empty(&format!("{}/close", path(&id)), &w.a.admin.token)
        .await
        .expect(200);
    assert_eq!(app.change_head().await, h0 + 3, "second close");

    // The log names the listing in order.
    let changes = app
        .db()
        .run(move |c| zhiqilian::store::changes::since(c, h0, 100))
        .await
        .expect("changes");
    let seqs: Vec<i64> = changes.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, [h0 + 1, h0 + 2, h0 + 3]);
    assert!(
        changes
            .iter()
            .all(|c| c.listing_id == id && c.op == "upsert")
    );
}

#[tokio::test]
async fn concurrent_posts_all_land_in_the_log() {
    let app = spawn_app().await;
    let w = app.world().await;
    let h0 = app.change_head().await;
    let (app_ref, w_ref) = (&app, &w);
    let posts = (0..8).map(move |i| {
        let s = if i % 2 == 0 {
            &w_ref.a.admin
        } else {
            &w_ref.c.admin
        };
        let body: Value = space_offer(&format!("并发发布 {i}"));
        async move { app_ref.post("/api/v1/listings", &s.token, &body).await }
    });
    for r in futures_util::future::join_all(posts).await {
        r.expect(201);
    }
    assert_eq!(app.change_head().await, h0 + 8);
    let all = app
        .all_pages("/api/v1/listings?limit=3", &w.b.admin.token)
        .await;
    assert_eq!(all.len(), 8);
}

#[tokio::test]
async fn expired_listings_drop_out_of_browsing() {
    let app = spawn_app().await;
    let w = app.world().await;
    let expires_at = chrono::Utc::now() + chrono::TimeDelta::milliseconds(1500);
    let mut body = space_offer("短期厂房");
    body["expires_at"] = json!(expires_at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
    let id = id_of(&app.create_listing(&w.a.admin, &body).await);
    let lasting = id_of(
        &app.create_listing(&w.a.admin, &space_offer("长期厂房"))
            .await,
    );
    assert!(list_ids(&app, "", &w.b.admin.token).await.contains(&id));

    let wait = expires_at - chrono::Utc::now() + chrono::TimeDelta::milliseconds(200);
    tokio::time::sleep(wait.to_std().unwrap_or_default()).await;

    // Past its expiry an open listing is no longer on offer ...
    let open = list_ids(&app, "", &w.b.admin.token).await;
    assert!(!open.contains(&id) && open.contains(&lasting), "{open:?}");
    assert!(
        !list_ids(&app, "?status=open", &w.b.admin.token)
            .await
            .contains(&id)
    );
    // ... but its owner still finds it among their own, and it can be read.
    assert!(
        list_ids(&app, "?mine=true", &w.a.admin.token)
            .await
            .contains(&id)
    );
    let r = app.get(&path(&id), &w.b.admin.token).await;
    assert_eq!(r.expect(200)["status"], "open");
}

#[tokio::test]
async fn expiry_can_be_set_kept_and_cleared_by_patch() {
    let app = spawn_app().await;
    let w = app.world().await;
    let at = |days: i64| {
        (chrono::Utc::now() + chrono::TimeDelta::days(days))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let expiry = |v: &serde_json::Value| {
        v["expires_at"].as_str().map(|s| {
            chrono::DateTime::parse_from_rfc3339(s)
                .expect("expires_at is RFC 3339")
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        })
    };
    let (first, later) = (at(30), at(60));
    let mut body = space_offer("厂房");
    body["expires_at"] = json!(first);
    let id = id_of(&app.create_listing(&w.a.admin, &body).await);
    let t = &w.a.admin.token;

    // Other edits keep the expiry.
    let r = app
        .patch(&path(&id), t, &json!({ "title": "厂房（改）" }))
        .await;
    assert_eq!(expiry(r.expect(200)), Some(first.clone()));
    // A new expiry replaces it.
    let r = app
        .patch(&path(&id), t, &json!({ "expires_at": later }))
        .await;
    assert_eq!(expiry(r.expect(200)), Some(later.clone()));
    assert_eq!(
        expiry(app.get(&path(&id), t).await.expect(200)),
        Some(later.clone())
    );
    // One in the past is refused.
    let r = app
        .patch(
            &path(&id),
            t,
            &json!({ "expires_at": "2020-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(r.expect_invalid(), ["expires_at"]);
    // null clears it.
    let r = app
        .patch(&path(&id), t, &json!({ "expires_at": null }))
        .await;
    assert!(r.expect(200)["expires_at"].is_null(), "{:#}", r.body);
}
