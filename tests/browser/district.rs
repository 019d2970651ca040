//! The district pages in headless Chromium: a district administrator signs
//! in, sees only the entries they may use, compares their two communities
//! side by side (the figures are the API's), follows one into its queue,
//! and disables a staff member, whose session ends at once.

use anyhow::{Context, Result, ensure};
use fantoccini::Client;
use serde_json::json;

use super::{Shots, click, emergency_body, fill, offer_body, text_of, texts, wait_for};
use crate::helpers::{PASSWORD, Session, TestApp, new_email};

async fn scenario(app: &TestApp, b: &Client, shots: &mut Shots) -> Result<()> {
    let admin = app.admin().await;
    let dagang = app.create_community(&admin, "大港工业社区").await;
    let lingfeng = app.create_community(&admin, "灵峰工业社区").await;
    let a = app.verified_firm(&dagang, &admin).await;
    let b_firm = app.verified_firm(&dagang, &admin).await;
    let c = app.verified_firm(&lingfeng, &admin).await;
    let staff1 = app.create_staff(&admin, &dagang).await;
    let staff2 = app.create_staff(&admin, &lingfeng).await;
    let offer = app.create_listing(&b_firm.admin, &offer_body()).await;
    let request = app.create_listing(&a.admin, &emergency_body()).await;
    let far_request = app.create_listing(&c.admin, &emergency_body()).await;
    app.create_listing(&c.admin, &offer_body()).await;
    // 大港 brokers a deal inside the park, 灵峰 one with a firm of 大港.
    for (staff, req, firm) in [(&staff1, &request, &a), (&staff2, &far_request, &c)] {
        let q = app.get("/api/v1/staff/queue", &staff.token).await;
        let case = q.expect(200)["items"]
            .as_array()
            .and_then(|k| k.iter().find(|k| k["listing"]["id"] == req["id"]))
            .and_then(|k| k["id"].as_str())
            .context("the case")?
            .to_string();
        let r = app
            .post(
                &format!("/api/v1/staff/cases/{case}/broker"),
                &staff.token,
                &json!({"offer_ids": [offer["id"]]}),
            )
            .await;
        let m = r.expect(200)["contacts"][0]["match_id"]
            .as_str()
            .context("match")?
            .to_string();
        app.agree(&m, &firm.admin, &b_firm.admin).await;
    }

    // The district and its administrator (invited, password set with the code).
    let d = app
        .post(
            "/api/v1/districts",
            &admin.token,
            &json!({"name": "北仑区"}),
        )
        .await;
    let district = d.expect(201)["id"].as_str().context("id")?.to_string();
    for cm in [&dagang, &lingfeng] {
        app.request(
            reqwest::Method::PUT,
            &format!("/api/v1/districts/{district}/communities/{cm}"),
            Some(&admin.token),
            None,
        )
        .await
        .expect(200);
    }
    let login = new_email("district");
    let added = app
        .post(
            &format!("/api/v1/districts/{district}/admins"),
            &admin.token,
            &json!({"login": login, "display_name": "王科长"}),
        )
        .await;
    let code = added.expect(200)["invite"]["code"]
        .as_str()
        .context("code")?
        .to_string();
    app.post_anon(
        "/api/v1/auth/reset-password",
        &json!({"login": login, "code": code, "new_password": PASSWORD}),
    )
    .await
    .expect(204);
    let head = app.session(&login).await;

    // Sign in: the district comparison is the first page; the staff desk's
    // entries are not shown.
    b.goto(&app.url("/console")).await?;
    fill(b, "#login-form input[name=login]", &head.login).await?;
    fill(b, "#login-form input[name=password]", PASSWORD).await?;
    click(b, "#login-form button[type=submit]").await?;
    wait_for(b, "#district[data-loaded]").await?;
    let nav = texts(b, "nav.nav a").await?;
    ensure!(
        nav.iter().any(|t| t.contains("区域")) && nav.iter().any(|t| t.contains("工作人员")),
        "nav: {nav:?}"
    );
    for hidden in ["工单队列", "前台代办", "企业认证", "社区"] {
        ensure!(
            !nav.iter().any(|t| t.trim() == hidden),
            "{hidden} shown in {nav:?}"
        );
    }
    shots.take(b, "district-compare").await?;

    // The rows are the API's figures for each community.
    let api = app.get("/api/v1/district/stats", &head.token).await;
    let api = api.expect(200).clone();
    for (cm, listings, open) in [(&dagang, 2, 1), (&lingfeng, 2, 1)] {
        let row = api["items"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["community"]["id"] == cm.as_str()))
            .context("a row")?;
        ensure!(
            row["listings"] == listings && row["open_cases"] == open && row["agreed_matches"] == 1,
            "{row:#}"
        );
        let cells = texts(b, &format!("#district-table tr[data-community='{cm}'] td")).await?;
        ensure!(cells[0] == listings.to_string(), "listings cell {cells:?}");
        ensure!(
            cells[6].starts_with(&open.to_string()),
            "open cases cell {cells:?}"
        );
        // 内循环率 by count: 100% in 大港, 0% in 灵峰, as the API says.
        let rate = (row["in_park_rate"].as_f64().context("rate")? * 100.0).round();
        ensure!(
            cells[3].contains(&format!("{rate}%")),
            "in-park cell {cells:?}"
        );
    }
    let names = texts(b, "#district-table tbody th").await?;
    ensure!(names.len() == 2, "{names:?}");

    // Into 大港's queue: its emergency case is there.
    click(
        b,
        &format!("#district-table tr[data-community='{dagang}'] a[data-action=queue]"),
    )
    .await?;
    wait_for(b, "#queue[data-loaded]").await?;
    let title = text_of(b, "#queue a[data-case-id] .case-title").await?;
    ensure!(
        title == request["title"].as_str().unwrap_or_default(),
        "{title}"
    );
    shots.take(b, "district-queue").await?;
    // The case reads, its log included (of the community holding it).
    click(b, "#queue a[data-case-id]").await?;
    wait_for(b, "#case .audit-mini li").await?;
    let log = text_of(b, "#case .audit-mini").await?;
    ensure!(log.contains("撮合对接"), "case log: {log}");
    shots.take(b, "district-case").await?;

    // Disable 大港's staff member.
    let staff1_id = user_id(app, &staff1).await?;
    b.goto(&app.url(&format!("/console/#/staff/{dagang}")))
        .await?;
    let row = format!("#staff-table tr[data-user-id='{staff1_id}']");
    wait_for(b, &format!("{row}[data-status=active]")).await?;
    shots.take(b, "district-staff").await?;
    click(b, &format!("{row} button[data-action=disable]")).await?;
    fill(b, "dialog input[name=reason]", "调岗").await?;
    shots.take(b, "district-staff-disable").await?;
    click(b, "dialog button[data-action=confirm-disable]").await?;
    wait_for(b, &format!("{row}[data-status=disabled]")).await?;
    shots.take(b, "district-staff-disabled").await?;
    app.get("/api/v1/staff/queue", &staff1.token)
        .await
        .expect_problem(403, "account_disabled");
    ensure!(
        super::js(b, "return document.body.dataset.errors || null;").await?
            == serde_json::Value::Null,
        "the console reported script errors"
    );
    Ok(())
}

/// A platform admin creates a district on the 社区 page, assigns a
/// community and names a new administrator, whose one-time code is shown.
async fn platform_scenario(app: &TestApp, b: &Client, shots: &mut Shots) -> Result<()> {
    let admin = app.admin().await;
    let dagang = app.create_community(&admin, "大港工业社区").await;
    app.create_community(&admin, "灵峰工业社区").await;
    b.goto(&app.url("/console")).await?;
    fill(b, "#login-form input[name=login]", &admin.login).await?;
    fill(b, "#login-form input[name=password]", PASSWORD).await?;
    click(b, "#login-form button[type=submit]").await?;
    wait_for(b, "#queue[data-loaded]").await?;
    click(b, "a[data-nav=communities]").await?;
    fill(b, "#district-form input[name=name]", "镇海区").await?;
    click(b, "#district-form button[type=submit]").await?;
    let card = "#district-list [data-district]";
    wait_for(b, card).await?;
    click(
        b,
        &format!("{card} select[name=community] option[value='{dagang}']"),
    )
    .await?;
    click(b, &format!("{card} button[data-action=assign]")).await?;
    wait_for(b, &format!("{card} .chip")).await?;
    let login = new_email("head");
    fill(b, &format!("{card} input[name=login]"), &login).await?;
    fill(b, &format!("{card} input[name=display_name]"), "李主任").await?;
    click(b, &format!("{card} form button[type=submit]")).await?;
    let code = text_of(b, &format!("{card} .alert-info .code")).await;
    let code = match code {
        Ok(c) => c,
        Err(_) => {
            wait_for(b, &format!("{card} .alert-info .code")).await?;
            text_of(b, &format!("{card} .alert-info .code")).await?
        }
    };
    shots.take(b, "communities-page").await?;
    // The district is as the page shows it; the code sets the password.
    let ds = app.get("/api/v1/districts", &admin.token).await;
    let ds = ds.expect(200).clone();
    let d = &ds["items"][0];
    ensure!(
        d["name"] == "镇海区" && d["communities"][0]["id"] == dagang.as_str(),
        "{ds:#}"
    );
    ensure!(d["admins"][0]["display_name"] == "李主任", "{ds:#}");
    app.post_anon(
        "/api/v1/auth/reset-password",
        &json!({"login": login, "code": code, "new_password": PASSWORD}),
    )
    .await
    .expect(204);
    let head = app.session(&login).await;
    let me = app.get("/api/v1/me", &head.token).await;
    ensure!(me.expect(200)["districts"][0]["name"] == "镇海区");
    ensure!(
        super::js(b, "return document.body.dataset.errors || null;").await?
            == serde_json::Value::Null,
        "the console reported script errors"
    );
    Ok(())
}

async fn user_id(app: &TestApp, who: &Session) -> Result<String> {
    let me = app.get("/api/v1/me", &who.token).await;
    Ok(me.expect(200)["user"]["id"]
        .as_str()
        .context("user id")?
        .to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromium-driver; .ci/run runs it with --ignored"]
async fn a_district_admin_compares_communities_and_disables_a_staff_member() {
    super::run("district", &[], scenario).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromium-driver; .ci/run runs it with --ignored"]
async fn a_platform_admin_creates_a_district_and_names_its_administrator() {
    super::run("communities", &[], platform_scenario).await;
}
