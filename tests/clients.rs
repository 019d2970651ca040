//! API clients: creation by staff and admins, the client-credentials grant,
//! rotation and revocation, the scope every route enforces, and a client
//! confined to its firm or community.

use reqwest::Method;
use serde_json::{Value, json};
use zhiqilian::store::scopes::{ClientAccess, Scope};

use crate::helpers::*;

/// Creates a client as `by`; returns (client id, secret).
async fn create_client(
    app: &TestApp,
    by: &Session,
    owner: Value,
    scopes: &[&str],
) -> (String, String) {
    let mut body = json!({ "name": "园区物流 ERP", "scopes": scopes });
    for (k, v) in owner.as_object().expect("owner object") {
        body[k] = v.clone();
    }
    let r = app.post("/api/v1/clients", &by.token, &body).await;
    let b = r.expect(201);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    (
        b["id"].as_str().expect("id").to_string(),
        b["client_secret"].as_str().expect("secret").to_string(),
    )
}

async fn token_reply(app: &TestApp, form: &[(&str, &str)]) -> Reply {
    app.send(app.client.post(app.url("/api/v1/oauth/token")).form(form))
        .await
}

/// A client's access token; the grant must succeed.
async fn client_token(app: &TestApp, id: &str, secret: &str) -> String {
    let r = token_reply(
        app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ],
    )
    .await;
    r.expect(200)["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

#[tokio::test]
async fn clients_are_created_by_staff_and_trade_secrets_for_tokens() {
    let app = spawn_app().await;
    let w = app.world().await;

    // Firm users cannot create clients; staff only in their own community.
    app.post(
        "/api/v1/clients",
        &w.a.admin.token,
        &json!({ "name": "ERP", "firm_id": w.a.id, "scopes": ["listings:read"] }),
    )
    .await
    .expect_problem(403, "forbidden");
    app.post(
        "/api/v1/clients",
        &w.staff2.token,
        &json!({ "name": "ERP", "firm_id": w.a.id, "scopes": ["listings:read"] }),
    )
    .await
    .expect_problem(403, "forbidden");
    let bad = app
        .post(
            "/api/v1/clients",
            &w.staff1.token,
            &json!({ "name": "ERP", "firm_id": w.a.id, "community_id": w.c1, "scopes": ["root"] }),
        )
        .await
        .expect_invalid();
    assert_fields(&bad, &["scopes", "firm_id"]);

    let (id, secret) = create_client(
        &app,
        &w.staff1,
        json!({ "firm_id": w.a.id }),
        &["listings:read", "threads:read"],
    )
    .await;
    assert!(secret.starts_with("zqs_"));
    let shown = app
        .get(&format!("/api/v1/clients/{id}"), &w.staff1.token)
        .await;
    let shown = shown.expect(200);
    assert!(shown.get("client_secret").is_none(), "{shown}");
    assert_eq!(shown["scopes"], json!(["listings:read", "threads:read"]));
    assert_eq!(shown["community_id"], w.c1.as_str());
    app.get(&format!("/api/v1/clients/{id}"), &w.staff2.token)
        .await
        .expect_problem(404, "not_found");
    let listed = app.all_pages("/api/v1/clients", &w.staff2.token).await;
    assert!(listed.is_empty());
    let listed = app.all_pages("/api/v1/clients", &w.admin.token).await;
    assert_eq!(ids(&listed), vec![id.clone()]);

    // Form fields or HTTP Basic; the token says what was granted.
    let r = token_reply(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
        ],
    )
    .await;
    let b = r.expect(200);
    assert_eq!(b["token_type"], "Bearer");
    assert_eq!(b["scope"], "listings:read threads:read");
    assert!(b.get("refresh_token").is_none());
    let basic = app
        .send(
            app.client
                .post(app.url("/api/v1/oauth/token"))
                .basic_auth(&id, Some(&secret))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("scope", "listings:read"),
                ]),
        )
        .await;
    assert_eq!(basic.expect(200)["scope"], "listings:read");

    // Wrong secret, unknown client, more scope than granted, other grants.
    for (cid, s) in [(id.as_str(), "zqs_wrong"), ("nobody", secret.as_str())] {
        token_reply(
            &app,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", cid),
                ("client_secret", s),
            ],
        )
        .await
        .expect_problem(401, "invalid_client");
    }
    token_reply(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
            ("scope", "listings:write"),
        ],
    )
    .await
    .expect_problem(400, "invalid_scope");
    token_reply(&app, &[("grant_type", "password"), ("client_id", &id)])
        .await
        .expect_problem(400, "unsupported_grant_type");
    app.send(
        app.client
            .post(app.url("/api/v1/oauth/token"))
            .json(&json!({ "grant_type": "client_credentials" })),
    )
    .await
    .expect_problem(415, "unsupported_media_type");

    // A client's token is no user: /me works, user-only routes refuse it.
    let token = client_token(&app, &id, &secret).await;
    app.get("/api/v1/me", &token).await.expect(200);
    app.get("/api/v1/clients", &token)
        .await
        .expect_problem(403, "insufficient_scope");
    // Its service user cannot sign in.
    let email = format!("client-{id}@api-clients.invalid");
    app.login(&email, "!").await.expect(401);

    // Rotation: the old secret stops working at once, and so do the
    // tokens issued with it.
    let r = app
        .post_empty(&format!("/api/v1/clients/{id}/rotate"), &w.staff1.token)
        .await;
    let new_secret = r.expect(200)["client_secret"]
        .as_str()
        .expect("secret")
        .to_string();
    assert_ne!(new_secret, secret);
    token_reply(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
        ],
    )
    .await
    .expect_problem(401, "invalid_client");
    app.get("/api/v1/me", &token)
        .await
        .expect_problem(401, "invalid_token");
    let token = client_token(&app, &id, &new_secret).await;
    app.get("/api/v1/me", &token).await.expect(200);

    // Revocation: for good, and idempotent.
    let r = app
        .post_empty(&format!("/api/v1/clients/{id}/revoke"), &w.admin.token)
        .await;
    assert_eq!(r.expect(200)["status"], "revoked");
    app.post_empty(&format!("/api/v1/clients/{id}/revoke"), &w.staff1.token)
        .await
        .expect(200);
    app.get("/api/v1/me", &token)
        .await
        .expect_problem(401, "invalid_token");
    token_reply(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &new_secret),
        ],
    )
    .await
    .expect_problem(401, "invalid_client");
    app.post_empty(&format!("/api/v1/clients/{id}/rotate"), &w.staff1.token)
        .await
        .expect_problem(409, "client_revoked");
}

fn concrete(path: &str) -> String {
    path.replace("{id}", &uuid::Uuid::now_v7().to_string())
}

/// The status and code a client's call gets (the event stream is only
/// opened: its body never ends).
async fn call(app: &TestApp, method: &str, path: &str, token: &str) -> (u16, String) {
    let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
    let mut req = app
        .client
        .request(m, app.url(&concrete(path)))
        .bearer_auth(token);
    if method != "get" {
        req = req.json(&json!({}));
    }
    let resp = req.send().await.expect("request sent");
    let status = resp.status().as_u16();
    if path == "/api/v1/events" && status == 200 {
        return (status, String::new());
    }
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    (status, body["code"].as_str().unwrap_or("").to_string())
}

#[tokio::test]
async fn every_route_enforces_its_scope_on_clients() {
    let app = spawn_app().await;
    let w = app.world().await;
    let all: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
    let (id, secret) = create_client(&app, &w.staff1, json!({ "firm_id": w.a.id }), &all).await;
    let full = client_token(&app, &id, &secret).await;

    for scope in Scope::ALL {
        // A token with every scope but this one, and one with only this one.
        let others: Vec<&str> = all
            .iter()
            .copied()
            .filter(|s| *s != scope.as_str())
            .collect();
        let without = {
            let r = token_reply(
                &app,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &id),
                    ("client_secret", &secret),
                    ("scope", &others.join(" ")),
                ],
            )
            .await;
            r.expect(200)["access_token"]
                .as_str()
                .expect("token")
                .to_string()
        };
        let only = {
            let r = token_reply(
                &app,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &id),
                    ("client_secret", &secret),
                    ("scope", scope.as_str()),
                ],
            )
            .await;
            r.expect(200)["access_token"]
                .as_str()
                .expect("token")
                .to_string()
        };
        for (method, path, access) in zhiqilian::http::routes::ROUTE_ACCESS {
            if *access != ClientAccess::Needs(*scope) {
                continue;
            }
            let (status, code) = call(&app, method, path, &without).await;
            assert_eq!(
                (status, code.as_str()),
                (403, "insufficient_scope"),
                "{method} {path} without {scope}"
            );
            let (status, code) = call(&app, method, path, &only).await;
            assert!(
                status < 500 && code != "insufficient_scope",
                "{method} {path} with {scope}: {status} {code}"
            );
        }
    }
    // Routes for users only refuse even a client with every scope.
    for (method, path, access) in zhiqilian::http::routes::ROUTE_ACCESS {
        if *access == ClientAccess::Users {
            let (status, code) = call(&app, method, path, &full).await;
            assert_eq!(
                (status, code.as_str()),
                (403, "insufficient_scope"),
                "{method} {path}"
            );
        }
    }
    // A stream ticket carries the client's scopes.
    let r = app.post_empty("/api/v1/events/ticket", &full).await;
    let ticket = r.expect(200)["ticket"]
        .as_str()
        .expect("ticket")
        .to_string();
    let resp = app
        .client
        .get(app.url(&format!("/api/v1/events?ticket={ticket}")))
        .send()
        .await
        .expect("stream");
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test]
async fn a_client_acts_only_within_its_firm_or_community() {
    let app = spawn_app().await;
    let w = app.world().await;
    // b (same community) and c (another) post community-only listings.
    let b_listing = app
        .create_listing(
            &w.b.admin,
            &listing("offer", "space", "B 厂房 社区内", "community"),
        )
        .await;
    let c_listing = app
        .create_listing(
            &w.c.admin,
            &listing("offer", "space", "C 厂房 社区内", "community"),
        )
        .await;
    let b_id = id_of(&b_listing);
    let c_id = id_of(&c_listing);

    let (id, secret) = create_client(
        &app,
        &w.staff1,
        json!({ "firm_id": w.a.id }),
        &[
            "listings:read",
            "listings:write",
            "threads:read",
            "firms:read",
        ],
    )
    .await;
    let token = client_token(&app, &id, &secret).await;

    // It writes as firm a, and only a's listings.
    let mine = app
        .create_listing(
            &Session {
                login: String::new(),
                token: token.clone(),
                refresh: String::new(),
            },
            &space_offer("A 厂房 客户端发布"),
        )
        .await;
    assert_eq!(mine["firm"]["id"], w.a.id.as_str());
    let r = app
        .patch(
            &format!("/api/v1/listings/{b_id}"),
            &token,
            &json!({ "title": "改了" }),
        )
        .await;
    // b's listing is visible to a's members, so the refusal is 403 (not a
    // 404 that would deny it exists), and nothing changed.
    r.expect_problem(403, "forbidden");
    app.post_empty(&format!("/api/v1/listings/{b_id}/close"), &token)
        .await
        .expect_problem(403, "forbidden");
    let unchanged = app
        .get(&format!("/api/v1/listings/{b_id}"), &w.b.admin.token)
        .await;
    assert_eq!(unchanged.expect(200)["title"], "B 厂房 社区内");
    assert_eq!(unchanged.body["status"], "open");
    assert_eq!(unchanged.body["version"], b_listing["version"]);
    // It sees what a's members see: b's community listing, not c's.
    app.get(&format!("/api/v1/listings/{b_id}"), &token)
        .await
        .expect(200);
    app.get(&format!("/api/v1/listings/{c_id}"), &token)
        .await
        .expect_problem(404, "not_found");
    let listed = app.all_pages("/api/v1/listings?status=open", &token).await;
    assert!(!ids(&listed).contains(&c_id), "{listed:?}");
    // Firm management stays with a's users.
    app.post(
        &format!("/api/v1/firms/{}/members", w.a.id),
        &token,
        &json!({ "login": new_phone(), "password": PASSWORD, "display_name": "x" }),
    )
    .await
    .expect_problem(403, "insufficient_scope");

    // A community client is that community's staff, within its scopes.
    let (cid, csecret) = create_client(
        &app,
        &w.admin,
        json!({ "community_id": w.c2 }),
        &["listings:read"],
    )
    .await;
    let ctoken = client_token(&app, &cid, &csecret).await;
    app.get(&format!("/api/v1/listings/{c_id}"), &ctoken)
        .await
        .expect(200);
    app.get(&format!("/api/v1/listings/{b_id}"), &ctoken)
        .await
        .expect_problem(404, "not_found");
    app.post_empty(&format!("/api/v1/firms/{}/verify", w.c.id), &ctoken)
        .await
        .expect_problem(403, "insufficient_scope");
}
