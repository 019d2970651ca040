//! Firm self-registration, USCC checking, verification, members, reading
//! and listing firms.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::*;

/// Codes of real (fictional) firms in the shared dev listings.
const DEV_USCCS: &[&str] = &[
    "91330206625496915B",
    "91330206MA2LTKJ895",
    "91330206603660411L",
    "91330206MA2K7UM33J",
];

#[tokio::test]
async fn registration_creates_an_unverified_firm_and_its_admin() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let c = app.create_community(&admin, "大港工业社区").await;
    let uscc = valid_uscc();
    let login = new_phone();

    let r = app
        .post_anon(
            "/api/v1/firms/register",
            &firm_body(&c, &uscc.to_lowercase(), &login),
        )
        .await;
    let body = r.expect(202).clone();
    assert_eq!(body["status"], "submitted");
    assert_eq!(body["login"], login.as_str());
    assert!(body.get("firm").is_none() && body.get("admin_user_id").is_none());

    let s = app.session(&login).await;
    let me = app.get("/api/v1/me", &s.token).await;
    let me = me.expect(200).clone();
    assert_eq!(me["roles"], json!(["firm_admin"]));
    assert_eq!(me["firm"]["verified"], false);
    let firm_id = me["firm"]["id"].as_str().expect("firm id");
    let firm = app.get(&format!("/api/v1/firms/{firm_id}"), &s.token).await;
    let firm = firm.expect(200);
    assert_eq!(firm["uscc"], uscc, "USCC is stored upper case");
    assert_eq!(firm["community_id"], c);
    assert_eq!(firm["verified"], false);
    assert_eq!(firm["claim_status"], "pending");
    assert!(firm["verified_at"].is_null());
    assert_eq!(firm["name"], "宁波甬港模塑科技有限公司");
    assert_eq!(firm["contact_phone"], "0574-86881234");
    assert_eq!(firm["lat"], 29.9321);
}

#[tokio::test]
async fn uscc_check_character_is_enforced() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let c = app.create_community(&admin, "大港工业社区").await;

    let mut valid: Vec<String> = DEV_USCCS.iter().map(|s| s.to_string()).collect();
    valid.extend((0..3).map(|_| valid_uscc()));
    for uscc in &valid {
        let r = app
            .post_anon("/api/v1/firms/register", &firm_body(&c, uscc, &new_phone()))
            .await;
        assert_eq!(
            r.status.as_u16(),
            202,
            "{uscc} should be accepted: {:#}",
            r.body
        );
    }

    let invalid = [
        ("one char changed", "91330206625496916B"),
        ("check char changed", "91330206625496915C"),
        ("too short", "91330206625496915"),
        ("too long", "91330206625496915BB"),
        ("empty", ""),
        ("letter I", "91330206MA2LTKJ8I5"),
        ("letter O", "91330206MO2LTKJ895"),
        ("letter Z", "Z1330206MA2LTKJ895"),
        ("letter S", "9S330206MA2LTKJ895"),
        ("letter V", "91330206MA2LTKJ89V"),
        ("inner space", "913302066254 96915B"),
        ("full width", "９1330206MA2LTKJ895"),
    ];
    for (what, uscc) in invalid {
        let r = app
            .post_anon("/api/v1/firms/register", &firm_body(&c, uscc, &new_phone()))
            .await;
        assert_eq!(r.status.as_u16(), 422, "{what} {uscc:?}: {:#}", r.body);
        assert_eq!(r.body["code"], "validation_failed", "{what}");
        assert_eq!(r.fields(), ["uscc"], "{what} {uscc:?}: {:#}", r.body);
        assert_eq!(r.field_code("uscc").as_deref(), Some("invalid_uscc"));
    }

    // Nothing was created for the rejected ones.
    let list = app
        .all_pages(&format!("/api/v1/firms?community={c}"), &admin.token)
        .await;
    assert_eq!(list.len(), valid.len());
    let stored: HashSet<&str> = list.iter().filter_map(|f| f["uscc"].as_str()).collect();
    let sent: HashSet<&str> = valid.iter().map(String::as_str).collect();
    assert_eq!(stored, sent);
}

/// A USCC that is only claimed can be claimed again (staff decide); one
/// whose firm is verified is taken. A login that has an account gets the
/// answer of a free one, and nothing is stored.
#[tokio::test]
async fn verified_uscc_taken_taken_login_private_and_unknown_community() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let c = app.create_community(&admin, "大港工业社区").await;
    let f = app.register_firm(&c).await;

    // The same code, spelled in lower case, is the same firm: a competing
    // claim while the first is pending, taken once it is verified.
    app.post_anon(
        "/api/v1/firms/register",
        &firm_body(&c, &f.uscc.to_lowercase(), &new_phone()),
    )
    .await
    .expect(202);
    app.verify_firm(&admin, &f.id).await;
    app.post_anon(
        "/api/v1/firms/register",
        &firm_body(&c, &f.uscc.to_lowercase(), &new_phone()),
    )
    .await
    .expect_problem(409, "uscc_taken");

    let firms_before = app
        .all_pages(&format!("/api/v1/firms?community={c}"), &admin.token)
        .await
        .len();
    let unused_uscc = valid_uscc();
    let taken = app
        .post_anon(
            "/api/v1/firms/register",
            &firm_body(&c, &unused_uscc, &f.admin.login),
        )
        .await;
    assert_eq!(taken.status.as_u16(), 202, "{:#}", taken.body);
    // Nothing was stored for it: the firm of that attempt was rolled back
    // with its admin, and the USCC is still free.
    let firms_after = app
        .all_pages(&format!("/api/v1/firms?community={c}"), &admin.token)
        .await
        .len();
    assert_eq!(firms_after, firms_before);
    app.post_anon(
        "/api/v1/firms/register",
        &firm_body(&c, &unused_uscc, &new_phone()),
    )
    .await
    .expect(202);

    let r = app
        .post_anon(
            "/api/v1/firms/register",
            &firm_body(
                "00000000-0000-0000-0000-000000000000",
                &valid_uscc(),
                &new_phone(),
            ),
        )
        .await;
    assert_eq!(r.expect_invalid(), ["community_id"]);
    assert_eq!(
        r.field_code("community_id").as_deref(),
        Some("unknown_community")
    );

    // A failed registration leaves no account behind.
    let uscc = valid_uscc();
    let login = new_phone();
    app.post_anon("/api/v1/firms/register", &firm_body(&c, &f.uscc, &login))
        .await
        .expect(409);
    app.login(&login, PASSWORD)
        .await
        .expect_problem(401, "invalid_credentials");
    app.post_anon("/api/v1/firms/register", &firm_body(&c, &uscc, &login))
        .await
        .expect(202);
    app.session(&login).await;
}

#[tokio::test]
async fn registration_reports_every_problem_at_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let c = app.create_community(&admin, "大港工业社区").await;

    // Present but blank or bad.
    let r = app
        .post_anon(
            "/api/v1/firms/register",
            &json!({
                "name": "",
                "uscc": "123",
                "community_id": c,
                "address": " ",
                "lat": 29.9,
                "contact_name": "",
                "contact_phone": "call me",
                "admin": { "login": "nobody", "password": "short", "display_name": "" }
            }),
        )
        .await;
    let fields = r.expect_invalid();
    assert_fields(
        &fields,
        &[
            "name",
            "uscc",
            "address",
            "lon",
            "contact_name",
            "contact_phone",
            "admin.login",
            "admin.password",
            "admin.display_name",
        ],
    );

    // Absent altogether.
    let r = app
        .post_anon("/api/v1/firms/register", &json!({ "community_id": c }))
        .await;
    let fields = r.expect_invalid();
    assert_fields(
        &fields,
        &[
            "name",
            "uscc",
            "address",
            "contact_name",
            "contact_phone",
            "admin.login",
            "admin.password",
            "admin.display_name",
        ],
    );
    let r = app.post_anon("/api/v1/firms/register", &json!({})).await;
    assert_fields(&r.expect_invalid(), &["name", "uscc", "community_id"]);

    // Unknown fields are refused by name.
    let mut body = firm_body(&c, &valid_uscc(), &new_phone());
    body["legal_person"] = json!("张三");
    let r = app.post_anon("/api/v1/firms/register", &body).await;
    assert_eq!(r.expect_invalid(), ["legal_person"]);
}

#[tokio::test]
async fn verification_by_community_staff_only() {
    let app = spawn_app().await;
    let w = app.world().await;
    let f = app.register_firm(&w.c1).await;
    let path = format!("/api/v1/firms/{}/verify", f.id);

    // The firm cannot verify itself.
    app.post_empty(&path, &f.admin.token)
        .await
        .expect_problem(403, "forbidden");
    // Another community's staff and other firms do not even see it.
    app.post_empty(&path, &w.staff2.token)
        .await
        .expect_problem(404, "not_found");
    app.post_empty(&path, &w.c.admin.token)
        .await
        .expect_problem(404, "not_found");

    let r = app.post_empty(&path, &w.staff1.token).await;
    let body = r.expect(200);
    assert_eq!(body["verified"], true);
    assert!(body["verified_at"].is_string());
    let me = app.get("/api/v1/me", &f.admin.token).await;
    assert_eq!(me.expect(200)["firm"]["verified"], true);

    // Once verified the firm is visible, but still not theirs to verify.
    app.post_empty(&path, &w.staff2.token)
        .await
        .expect_problem(403, "forbidden");
    // Verifying again is harmless.
    let again = app.post_empty(&path, &w.admin.token).await;
    assert_eq!(again.expect(200)["verified_at"], body["verified_at"]);

    app.post_empty(
        "/api/v1/firms/00000000-0000-0000-0000-000000000000/verify",
        &w.admin.token,
    )
    .await
    .expect_problem(404, "not_found");
}

#[tokio::test]
async fn reading_a_firm_depends_on_who_asks() {
    let app = spawn_app().await;
    let w = app.world().await;
    let unverified = app.register_firm(&w.c1).await;

    // Others see a verified firm's public profile, without contact details.
    let r = app
        .get(&format!("/api/v1/firms/{}", w.a.id), &w.c.admin.token)
        .await;
    let body = r.expect(200);
    assert_eq!(body["id"], w.a.id);
    assert_eq!(body["verified"], true);
    assert!(body.get("contact_phone").is_none(), "{body:#}");
    assert!(body.get("contact_name").is_none(), "{body:#}");

    // Its own members, its staff and admins see contact details.
    for s in [&w.a.admin, &w.staff1, &w.admin] {
        let r = app
            .get(&format!("/api/v1/firms/{}", w.a.id), &s.token)
            .await;
        assert_eq!(r.expect(200)["contact_phone"], "0574-86881234");
    }
    // Staff of another community: public profile only.
    let r = app
        .get(&format!("/api/v1/firms/{}", w.a.id), &w.staff2.token)
        .await;
    assert!(r.expect(200).get("contact_phone").is_none());

    // An unverified firm is invisible to other firms and other communities.
    let path = format!("/api/v1/firms/{}", unverified.id);
    for s in [&w.a.admin, &w.c.admin, &w.staff2] {
        app.get(&path, &s.token)
            .await
            .expect_problem(404, "not_found");
    }
    for s in [&unverified.admin, &w.staff1, &w.admin] {
        app.get(&path, &s.token).await.expect(200);
    }
    app.get_anon(&path)
        .await
        .expect_problem(401, "unauthenticated");
}

#[tokio::test]
async fn firm_admins_add_members() {
    let app = spawn_app().await;
    let w = app.world().await;
    let path = format!("/api/v1/firms/{}/members", w.a.id);

    let login = new_phone();
    let r = app
        .post(
            &path,
            &w.a.admin.token,
            &json!({ "login": login, "password": PASSWORD, "display_name": "小陈" }),
        )
        .await;
    let body = r.expect(201);
    assert_eq!(body["firm_id"], w.a.id);
    assert_eq!(body["role"], "member");
    assert_eq!(body["display_name"], "小陈");
    let member = app.session(&login).await;
    let me = app.get("/api/v1/me", &member.token).await;
    assert_eq!(me.expect(200)["roles"], json!(["firm_member"]));

    // A second admin.
    let login2 = new_phone();
    let r = app
        .post(
            &path,
            &w.a.admin.token,
            &json!({ "login": login2, "password": PASSWORD, "display_name": "副总", "role": "admin" }),
        )
        .await;
    assert_eq!(r.expect(201)["role"], "admin");
    let second_admin = app.session(&login2).await;
    let me = app.get("/api/v1/me", &second_admin.token).await;
    assert_eq!(me.expect(200)["roles"], json!(["firm_admin"]));

    let new = || json!({ "login": new_phone(), "password": PASSWORD, "display_name": "某人" });
    // A plain member may not add members.
    app.post(&path, &member.token, &new())
        .await
        .expect_problem(403, "forbidden");
    // Another firm's admin may not either; staff neither.
    app.post(&path, &w.b.admin.token, &new())
        .await
        .expect_problem(403, "forbidden");
    app.post(&path, &w.staff1.token, &new())
        .await
        .expect_problem(403, "forbidden");
    // Unverified firm of someone else: invisible.
    let u = app.register_firm(&w.c2).await;
    app.post(
        &format!("/api/v1/firms/{}/members", u.id),
        &w.a.admin.token,
        &new(),
    )
    .await
    .expect_problem(404, "not_found");

    let mut bad = new();
    bad["role"] = json!("owner");
    let r = app.post(&path, &w.a.admin.token, &bad).await;
    assert_eq!(r.expect_invalid(), ["role"]);
    app.post(
        &path,
        &w.a.admin.token,
        &json!({ "login": login, "password": PASSWORD, "display_name": "重复" }),
    )
    .await
    .expect_problem(409, "login_taken");
}

fn firm_ids(items: &[Value]) -> HashSet<String> {
    ids(items).into_iter().collect()
}

#[tokio::test]
async fn listing_firms_is_for_staff_and_admins() {
    let app = spawn_app().await;
    let w = app.world().await;
    let pending = app.register_firm(&w.c1).await;

    // Staff see their own community only, verified or not.
    let items = app.all_pages("/api/v1/firms", &w.staff1.token).await;
    assert_eq!(
        firm_ids(&items),
        HashSet::from([w.a.id.clone(), w.b.id.clone(), pending.id.clone()])
    );
    assert!(items.iter().all(|f| f["community_id"] == w.c1.as_str()));
    assert!(items.iter().all(|f| f["contact_phone"].is_string()));
    let items = app
        .all_pages(
            &format!("/api/v1/firms?community={}", w.c1),
            &w.staff1.token,
        )
        .await;
    assert_eq!(items.len(), 3);
    // The verification queue.
    let r = app
        .get("/api/v1/firms?verified=false", &w.staff1.token)
        .await;
    let items = r.expect(200)["items"].as_array().expect("items").clone();
    assert_eq!(ids(&items), std::slice::from_ref(&pending.id));

    app.get(
        &format!("/api/v1/firms?community={}", w.c2),
        &w.staff1.token,
    )
    .await
    .expect_problem(403, "forbidden");
    for s in [&w.a.admin, &pending.admin] {
        app.get("/api/v1/firms", &s.token)
            .await
            .expect_problem(403, "forbidden");
    }

    // Admins see everything, or one community.
    let all = app.all_pages("/api/v1/firms", &w.admin.token).await;
    assert_eq!(all.len(), 4);
    let c2 = app
        .all_pages(&format!("/api/v1/firms?community={}", w.c2), &w.admin.token)
        .await;
    assert_eq!(ids(&c2), std::slice::from_ref(&w.c.id));
}

#[tokio::test]
async fn firm_list_pages_with_a_cursor() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let c = app.create_community(&admin, "大港工业社区").await;
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(app.register_firm(&c).await.id);
    }

    let r = app.get("/api/v1/firms?limit=2", &admin.token).await;
    let page1 = r.expect(200).clone();
    assert_eq!(page1["items"].as_array().map(Vec::len), Some(2));
    let cursor = page1["next_cursor"].as_str().expect("a next page");

    let all = app.all_pages("/api/v1/firms?limit=2", &admin.token).await;
    let got = ids(&all);
    // Newest first, each firm exactly once.
    let mut expected = created.clone();
    expected.reverse();
    assert_eq!(got, expected);

    let r = app
        .get(
            &format!("/api/v1/firms?limit=2&cursor={cursor}"),
            &admin.token,
        )
        .await;
    assert_eq!(
        ids(r.expect(200)["items"].as_array().expect("items")),
        &expected[2..4]
    );

    let r = app.get("/api/v1/firms?limit=0", &admin.token).await;
    assert_eq!(r.expect_invalid(), ["limit"]);
    let r = app.get("/api/v1/firms?cursor=%%%", &admin.token).await;
    assert_eq!(r.expect_invalid(), ["cursor"]);
    let r = app
        .get("/api/v1/firms?cursor=bm90LWEtdXVpZA", &admin.token)
        .await;
    assert_eq!(r.expect_invalid(), ["cursor"]);
}
