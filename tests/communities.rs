//! Communities (tenants) and their staff accounts.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn admin_creates_and_anyone_reads_communities() {
    let app = spawn_app().await;
    let admin = app.admin().await;

    let r = app
        .post(
            "/api/v1/communities",
            &admin.token,
            &json!({ "name": "  大港工业社区 ", "district": "北仑区", "lat": 29.93, "lon": 121.87 }),
        )
        .await;
    let created = r.expect(201).clone();
    assert_eq!(created["name"], "大港工业社区", "name is trimmed");
    assert_eq!(created["district"], "北仑区");
    assert_eq!(created["lat"], 29.93);
    assert_eq!(created["lon"], 121.87);
    let id = id_of(&created);

    // Without coordinates and district.
    let r = app
        .post(
            "/api/v1/communities",
            &admin.token,
            &json!({ "name": "灵峰工业社区" }),
        )
        .await;
    let second = r.expect(201).clone();
    assert!(second["lat"].is_null() && second["lon"].is_null());
    assert_eq!(second["district"], "");

    // Public reads: no token needed.
    let list = app.get_anon("/api/v1/communities").await;
    let items = list.expect(200)["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 2);
    assert!(items.contains(&created), "{items:#?}");
    let one = app.get_anon(&format!("/api/v1/communities/{id}")).await;
    assert_eq!(one.expect(200), &created);

    app.get_anon("/api/v1/communities/00000000-0000-0000-0000-000000000000")
        .await
        .expect_problem(404, "not_found");
}

#[tokio::test]
async fn only_platform_admins_create_communities() {
    let app = spawn_app().await;
    let w = app.world().await;
    for s in [&w.a.admin, &w.staff1] {
        app.post(
            "/api/v1/communities",
            &s.token,
            &json!({ "name": "新社区" }),
        )
        .await
        .expect_problem(403, "forbidden");
    }
    app.post_anon("/api/v1/communities", &json!({ "name": "新社区" }))
        .await
        .expect_problem(401, "unauthenticated");
    let list = app.get_anon("/api/v1/communities").await;
    assert_eq!(list.expect(200)["items"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn duplicate_and_invalid_communities() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    app.create_community(&admin, "马海工业社区").await;
    app.post(
        "/api/v1/communities",
        &admin.token,
        &json!({ "name": "马海工业社区" }),
    )
    .await
    .expect_problem(409, "community_exists");

    let r = app
        .post(
            "/api/v1/communities",
            &admin.token,
            &json!({ "name": "x", "lat": 120.0, "lon": 29.0 }),
        )
        .await;
    let fields = r.expect_invalid();
    assert_fields(&fields, &["name", "lat"]);
    assert_eq!(r.field_code("name").as_deref(), Some("too_short"));
    assert_eq!(r.field_code("lat").as_deref(), Some("out_of_range"));

    let r = app
        .post(
            "/api/v1/communities",
            &admin.token,
            &json!({ "name": "   ", "lat": 29.0 }),
        )
        .await;
    let fields = r.expect_invalid();
    assert_fields(&fields, &["name", "lon"]);
    assert_eq!(r.field_code("name").as_deref(), Some("required"));

    let r = app
        .post(
            "/api/v1/communities",
            &admin.token,
            &json!({ "name": "春晓湖工业社区", "lon": 500.0, "lat": 29.0 }),
        )
        .await;
    assert_eq!(r.expect_invalid(), ["lon"]);

    // Unknown fields are refused, naming the field.
    let r = app
        .post(
            "/api/v1/communities",
            &admin.token,
            &json!({ "name": "春晓湖工业社区", "province": "浙江" }),
        )
        .await;
    assert_eq!(r.expect_invalid(), ["province"]);

    let list = app.get_anon("/api/v1/communities").await;
    assert_eq!(list.expect(200)["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn admin_creates_staff() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let c = app.create_community(&admin, "霞浦物流工业社区").await;

    let login = new_email("Staff");
    let r = app
        .post(
            &format!("/api/v1/communities/{c}/staff"),
            &admin.token,
            &json!({ "login": login, "password": PASSWORD, "display_name": "李干事" }),
        )
        .await;
    let body = r.expect(201);
    assert_eq!(body["community_id"], c);
    assert_eq!(body["display_name"], "李干事");
    assert!(body["user_id"].is_string());

    // The email is stored lower-cased and the staff user can sign in.
    let s = app.session(&login.to_lowercase()).await;
    let me = app.get("/api/v1/me", &s.token).await;
    assert_eq!(me.expect(200)["staff"]["community_id"], c);

    // The same login again.
    app.post(
        &format!("/api/v1/communities/{c}/staff"),
        &admin.token,
        &json!({ "login": login, "password": PASSWORD, "display_name": "李干事" }),
    )
    .await
    .expect_problem(409, "login_taken");

    // Validation names every bad field.
    let r = app
        .post(
            &format!("/api/v1/communities/{c}/staff"),
            &admin.token,
            &json!({ "login": "12345", "password": "12345678", "display_name": "" }),
        )
        .await;
    let fields = r.expect_invalid();
    assert_fields(&fields, &["login", "password", "display_name"]);
    assert_eq!(r.field_code("password").as_deref(), Some("weak_password"));

    // Unknown community; staff may not create staff.
    app.post(
        "/api/v1/communities/00000000-0000-0000-0000-000000000000/staff",
        &admin.token,
        &json!({ "login": new_email("s"), "password": PASSWORD, "display_name": "王" }),
    )
    .await
    .expect_problem(404, "not_found");
    app.post(
        &format!("/api/v1/communities/{c}/staff"),
        &s.token,
        &json!({ "login": new_email("s"), "password": PASSWORD, "display_name": "王" }),
    )
    .await
    .expect_problem(403, "forbidden");
}
