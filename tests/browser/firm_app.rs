//! The firm app's H5 build (`miniprogram/dist/h5`, served at `/app`) in
//! headless Chromium at a phone's 390 × 844: two firms in two browser
//! sessions and the staff console in a third. Firm A posts a request through
//! the form; firm B's offer appears among its matches with reasons; A
//! contacts B; B sees the thread arrive live and answers; A sees the answer
//! live. Then A asks the community for help in three taps, the case appears
//! live in the console, and when staff broker it A's help page moves on live.
//! The deal: A proposes terms on B's match (a server 422 shown on its field),
//! B confirms them from the thread, both see the match agreed and each
//! other's contact; A marks it in progress and completed, both rate. A call
//! for quotes: B quotes through the form, a third firm through the API, A
//! compares both side by side and accepts B's (an agreement proposed).
//!
//! The H5 must be built first (`npm ci && npm run build:h5` in
//! `miniprogram/`; `.ci/run` does); `ZQL_APP_DIR` names another build.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use super::{
    Driver, Shots, UI_WAIT, attr_of, click, fill, js, open_browser, sign_in, start_driver, text_of,
    texts, wait_for,
};
use crate::helpers::{PASSWORD, Session, TestApp, spawn_app_with, valid_uscc};

/// The H5 build this test serves.
fn h5_dir() -> Result<PathBuf> {
    let dir = match std::env::var_os("ZQL_APP_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../miniprogram/dist/h5"),
    };
    ensure!(
        dir.join("index.html").is_file(),
        "no H5 build in {}: run `npm ci && npm run build:h5` in miniprogram/",
        dir.display()
    );
    Ok(dir)
}

/// Chromium as a phone: 390 × 844 CSS pixels at 2× (an iPhone 12–14).
async fn open_phone(driver: &Driver, profile: &std::path::Path) -> Result<Client> {
    let binary = std::env::var("ZQL_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": binary,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--lang=zh-CN",
                format!("--user-data-dir={}", profile.display()),
            ],
            "mobileEmulation": {
                "deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2.0, "touch": false},
                "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50 zhiqilian-e2e",
            },
        }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .context("cannot open a phone-sized Chromium session")
}

/// Waits until some element matching `css` shows `want` in its text.
async fn wait_text(b: &Client, css: &str, want: &str) -> Result<()> {
    let deadline = Instant::now() + UI_WAIT;
    loop {
        let shown = texts(b, css).await?;
        if shown.iter().any(|t| t.contains(want)) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("`{css}` never showed {want:?}; shown: {shown:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn phone_sign_in(app: &TestApp, b: &Client, who: &Session) -> Result<()> {
    b.goto(&app.url("/app/")).await?;
    fill(b, "#login-form .field-login input", &who.login).await?;
    fill(b, "#login-form .field-password input", PASSWORD).await?;
    click(b, "#login-submit").await?;
    wait_for(b, "#home .hero-firm").await?;
    Ok(())
}

/// No error banner on the page, and no uncaught script error.
async fn no_errors(b: &Client, page: &str) -> Result<()> {
    let shown = texts(b, ".banner-error").await?;
    ensure!(shown.is_empty(), "{page}: error shown: {shown:?}");
    Ok(())
}

async fn scenario(app: &TestApp, driver: &Driver) -> Result<()> {
    let super::Park {
        requester: a,
        offerer: b_firm,
        staff,
        offer_id,
        ..
    } = super::park(app).await?;

    let dir_a = tempfile::tempdir()?;
    let dir_b = tempfile::tempdir()?;
    let dir_s = tempfile::tempdir()?;
    let pa = open_phone(driver, dir_a.path()).await?;
    let pb = open_phone(driver, dir_b.path()).await?;
    let console = open_browser(driver, dir_s.path()).await?;
    let mut shots = Shots::new("app")?;
    let outcome = flows(
        app,
        &pa,
        &pb,
        &console,
        &mut shots,
        &a.admin,
        &b_firm.admin,
        &staff,
        &offer_id,
    )
    .await;
    if outcome.is_err() {
        for (name, b) in [
            ("failure-a", &pa),
            ("failure-b", &pb),
            ("failure-console", &console),
        ] {
            let _ = shots.take(b, name).await;
            if let Ok(Value::String(text)) = js(b, "return document.body.innerText;").await {
                eprintln!("--- {name}: page text ---\n{text}\n---");
            }
        }
    }
    for b in [pa, pb, console] {
        let _ = b.close().await;
    }
    outcome
}

#[allow(clippy::too_many_arguments)]
async fn flows(
    app: &TestApp,
    pa: &Client,
    pb: &Client,
    console: &Client,
    shots: &mut Shots,
    a: &Session,
    b: &Session,
    staff: &Session,
    offer_id: &str,
) -> Result<()> {
    // Signed out, the app opens on the sign-in page; registration is one tap away.
    pa.goto(&app.url("/app/")).await?;
    wait_for(pa, "#login-form").await?;
    shots.take(pa, "login").await?;
    click(pa, "#go-register").await?;
    wait_for(pa, "#register-form").await?;
    // The USCC is checked as it is typed, with the server's wording.
    fill(pa, "#register-form .field-uscc input", "91330206625496915C").await?;
    wait_text(pa, "#register-form .field-uscc .field-error", "校验位不符").await?;
    shots.take(pa, "register").await?;
    // What only the server checks comes back as a 422 and lands on its field.
    fill(pa, "#register-form .field-uscc input", &valid_uscc()).await?;
    fill(
        pa,
        "#register-form .field-name input",
        "宁波北仑测试机械有限公司",
    )
    .await?;
    fill(
        pa,
        "#register-form .field-address input",
        "宁波市北仑区大港五路88号",
    )
    .await?;
    fill(pa, "#register-form .field-contact_name input", "李工").await?;
    fill(
        pa,
        "#register-form .field-contact_phone input",
        "057486880001",
    )
    .await?;
    fill(pa, "#register-form .field-admin-display_name input", "李工").await?;
    fill(pa, "#register-form .field-admin-login input", "13700000077").await?;
    fill(pa, "#register-form .field-admin-password input", "123").await?;
    click(pa, "#register-submit").await?;
    wait_for(pa, "#register-form .field-admin-password .field-error").await?;
    let said = text_of(pa, "#register-form .field-admin-password .field-error").await?;
    ensure!(!said.trim().is_empty(), "no message on the password field");
    ensure!(
        texts(pa, "#register-form .field-uscc .field-error")
            .await?
            .is_empty(),
        "the valid USCC is still marked"
    );
    shots.take(pa, "register-server-error").await?;

    // Firm A signs in and posts a request through the guided form.
    phone_sign_in(app, pa, a).await?;
    shots.take(pa, "a-home-empty").await?;
    click(pa, "#post-request").await?;
    wait_for(pa, "#post-form").await?;
    click(pa, "#post-submit").await?;
    wait_for(pa, "#post-form .field-title .field-error").await?;
    // The form scrolls to the first field in error (the title, at the top).
    let deadline = Instant::now() + UI_WAIT;
    while js(
        pa,
        "const r = document.querySelector('#post-form .field-title').getBoundingClientRect(); \
         return r.top >= 0 && r.bottom <= window.innerHeight;",
    )
    .await?
        != json!(true)
    {
        ensure!(
            Instant::now() < deadline,
            "the title in error was not scrolled into view"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shots.take(pa, "a-post-errors").await?;
    let title = "急需300吨以上注塑机 夜班外协";
    fill(pa, "#post-form .field-title input", title).await?;
    fill(
        pa,
        "#post-form .field-description textarea",
        "一台注塑机液压故障，订单下周交货，需要夜班可用的注塑机。",
    )
    .await?;
    click(pa, "#post-form .chips-kind .chip[data-value=equipment]").await?;
    fill(
        pa,
        "#post-form .field-attributes-equipment_type input",
        "注塑机",
    )
    .await?;
    click(pa, "#post-form .chips-mode .chip[data-value=共享机时]").await?;
    fill(
        pa,
        "#post-form .field-attributes-clamping_force_t input",
        "300",
    )
    .await?;
    fill(pa, "#post-form .field-quantity-amount input", "1").await?;
    click(pa, "#post-form .chips-quantity-unit .chip[data-value=台]").await?;
    shots.take(pa, "a-post").await?;
    click(pa, "#post-submit").await?;

    // B's offer is among the request's matches, with a reason per factor.
    let card = format!(".match[data-listing-id='{offer_id}']");
    wait_for(pa, &format!("#listing {card}")).await?;
    let request_id = attr_of(pa, "#listing", "data-listing-id").await?;
    let reasons = texts(pa, &format!("{card} .reason-text")).await?;
    ensure!(
        reasons.len() >= 2 && reasons.iter().all(|r| !r.trim().is_empty()),
        "the match lacks its reasons: {reasons:?}"
    );
    let score = text_of(pa, &format!("{card} .score-num")).await?;
    ensure!(score.ends_with('分'), "score shown as {score:?}");
    shots.take(pa, "a-matches").await?;
    no_errors(pa, "matches").await?;

    // Home lists the stored match (best first) with its two main reasons.
    pa.goto(&app.url("/app/#/pages/home/index")).await?;
    wait_for(pa, "#home .match-card[data-match-id]").await?;
    let top = texts(pa, "#home .match-card .reason-text").await?;
    ensure!(top.len() == 2, "home shows the top two reasons: {top:?}");
    wait_text(pa, "#home .match-card .card-title", "380T注塑机").await?;
    shots.take(pa, "a-home-new-match").await?;
    pa.goto(&app.url(&format!("/app/#/pages/listing/index?id={request_id}")))
        .await?;
    wait_for(pa, &format!("#listing {card} .btn-decline")).await?;

    // Firm B waits on its message list.
    phone_sign_in(app, pb, b).await?;
    click(pb, "#go-chat").await?;
    wait_for(pb, "#threads[data-loaded]").await?;
    shots.take(pb, "b-threads-empty").await?;
    js(pb, "window.__sameDocument = true; return true;").await?;

    // A contacts B and writes.
    click(pa, &format!("{card} .btn-contact")).await?;
    wait_for(pa, "#thread[data-loaded]").await?;
    let thread_id = attr_of(pa, "#thread", "data-thread-id").await?;
    let hello = "您好，贵司的380T注塑机今晚能否安排上机？";
    fill(pa, "#thread .composer-input textarea", hello).await?;
    click(pa, "#send").await?;
    wait_text(pa, "#thread .msg-mine[data-seq] .msg-text", hello).await?;

    // B sees the thread arrive live, opens it and answers.
    let row = format!(".thread-row[data-thread-id='{thread_id}']");
    wait_for(pb, &row).await?;
    ensure!(
        js(pb, "return window.__sameDocument === true;").await? == json!(true),
        "B's page was reloaded; the thread must arrive live"
    );
    wait_text(pb, &format!("{row} .thread-preview"), "380T").await?;
    shots.take(pb, "b-threads-live").await?;
    click(pb, &row).await?;
    wait_text(pb, "#thread .msg-theirs .msg-text", hello).await?;
    let answer = "可以，今晚八点后两台都空，请派人过来对接。";
    js(pa, "window.__sameDocument = true; return true;").await?;
    fill(pb, "#thread .composer-input textarea", answer).await?;
    click(pb, "#send").await?;
    wait_text(pb, "#thread .msg-mine[data-seq] .msg-text", answer).await?;
    shots.take(pb, "b-thread").await?;

    // A sees the answer live.
    wait_text(pa, "#thread .msg-theirs .msg-text", answer).await?;
    ensure!(
        js(pa, "return window.__sameDocument === true;").await? == json!(true),
        "A's page was reloaded; the answer must arrive live"
    );
    shots.take(pa, "a-thread-live").await?;
    // Reading it moved A's read marker on the server.
    let deadline = Instant::now() + UI_WAIT;
    loop {
        let t = app
            .get(&format!("/api/v1/threads/{thread_id}"), &a.token)
            .await;
        if t.expect(200)["unread"] == 0 {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "A's read marker did not move: {:#}",
            t.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let msgs = app
        .get(&format!("/api/v1/threads/{thread_id}/messages"), &a.token)
        .await;
    let items = msgs.expect(200)["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    ensure!(
        items.iter().filter(|m| m["text"] == hello).count() == 1
            && items
                .iter()
                .all(|m| m["kind"] != "text" || m["client_msg_id"].is_string()),
        "each message once, with its client_msg_id: {items:#?}"
    );

    // The other pages of A: the chat list, home with its match and listing,
    // search with highlights, notifications, me.
    pa.goto(&app.url("/app/#/pages/chat/index")).await?;
    wait_for(pa, &format!(".thread-row[data-thread-id='{thread_id}']")).await?;
    shots.take(pa, "a-threads").await?;
    pa.goto(&app.url("/app/#/pages/home/index")).await?;
    wait_for(
        pa,
        &format!("#home .listing-card[data-listing-id='{request_id}']"),
    )
    .await?;
    shots.take(pa, "a-home").await?;
    pa.goto(&app.url("/app/#/pages/search/index")).await?;
    fill(pa, "#search .search-form input", "注塑机").await?;
    click(pa, "#search-submit").await?;
    wait_for(pa, &format!("#hits .hit[data-listing-id='{offer_id}'] .hl")).await?;
    shots.take(pa, "a-search").await?;
    pa.goto(&app.url("/app/#/pages/notifications/index"))
        .await?;
    wait_for(pa, "#notifications").await?;
    shots.take(pa, "a-notifications").await?;
    pa.goto(&app.url("/app/#/pages/me/index")).await?;
    wait_for(pa, "#me #my-firm").await?;
    shots.take(pa, "a-me").await?;

    // The staff console (a desktop) watches the queue.
    sign_in(app, console, staff).await?;
    js(console, "window.__sameDocument = true; return true;").await?;

    // A asks the community for help: three taps from home.
    pa.goto(&app.url("/app/#/pages/home/index")).await?;
    click(pa, "#go-help").await?;
    click(pa, "#help .need[data-need=machine]").await?;
    shots.take(pa, "a-help").await?;
    click(pa, "#help-send").await?;
    wait_for(pa, "#help-status[data-step='1']").await?;
    let help_id = attr_of(pa, "#help-status", "data-listing-id").await?;
    shots.take(pa, "a-help-sent").await?;

    // The case appears live in the console.
    wait_for(console, ".case-row[data-case-id]").await?;
    let case_id = attr_of(console, ".case-row[data-case-id]", "data-case-id").await?;
    let row_text = text_of(console, &format!(".case-row[data-case-id='{case_id}']")).await?;
    ensure!(row_text.contains("设备故障停产"), "queue row: {row_text}");
    ensure!(
        js(console, "return window.__sameDocument === true;").await? == json!(true),
        "the console was reloaded; the case must arrive live"
    );
    shots.take(console, "staff-queue-live").await?;

    // Staff put A in touch with B's offer: A's help page moves on live.
    let case = app
        .get(&format!("/api/v1/staff/cases/{case_id}"), &staff.token)
        .await;
    ensure!(
        case.expect(200)["listing"]["id"] == help_id.as_str(),
        "the case is not A's help request: {:#}",
        case.body
    );
    js(pa, "window.__sameDocument = true; return true;").await?;
    app.post(
        &format!("/api/v1/staff/cases/{case_id}/broker"),
        &staff.token,
        &json!({"offer_ids": [offer_id], "message": "两家都在大港社区，请直接沟通。"}),
    )
    .await
    .expect(200);
    wait_for(pa, "#help-status[data-step='2'] .thread-link").await?;
    ensure!(
        js(pa, "return window.__sameDocument === true;").await? == json!(true),
        "A's help page was reloaded; the case must move live"
    );
    shots.take(pa, "a-help-brokered").await?;
    no_errors(pa, "help").await?;

    // A edits the request: the form opens with its values, the change is saved.
    pa.goto(&app.url(&format!("/app/#/pages/post/index?id={request_id}")))
        .await?;
    wait_for(pa, "#post-form[data-version='1']").await?;
    let shown = js(
        pa,
        "return document.querySelector('#post-form .field-title input').value;",
    )
    .await?;
    ensure!(shown == json!(title), "the edit form shows {shown}");
    fill(
        pa,
        "#post-form .field-title input",
        "急需300吨以上注塑机 夜班外协（两晚）",
    )
    .await?;
    shots.take(pa, "a-edit").await?;
    click(pa, "#post-submit").await?;
    let deadline = Instant::now() + UI_WAIT;
    loop {
        let l = app
            .get(&format!("/api/v1/listings/{request_id}"), &a.token)
            .await;
        let l = l.expect(200);
        if l["title"] == "急需300吨以上注塑机 夜班外协（两晚）" {
            ensure!(
                l["attributes"]["clamping_force_t"] == 300 && l["quantity"]["unit"] == "台",
                "the edit lost fields: {l:#}"
            );
            break;
        }
        ensure!(Instant::now() < deadline, "the edit was not saved: {l:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    no_errors(pb, "thread").await?;

    deal(app, pa, pb, shots, a, b, &request_id).await?;
    quotes(app, pa, pb, shots, a, b).await?;
    Ok(())
}

/// A call for quotes: B quotes through the form, a third firm through the
/// API; A compares both side by side and accepts B's, which proposes its
/// terms as an agreement.
async fn quotes(
    app: &TestApp,
    pa: &Client,
    pb: &Client,
    shots: &mut Shots,
    a: &Session,
    b: &Session,
) -> Result<()> {
    let me = app.get("/api/v1/me", &a.token).await;
    let community = me.expect(200)["firm"]["community_id"]
        .as_str()
        .context("community")?
        .to_string();
    let req = app
        .post(
            "/api/v1/listings?wait=indexed",
            &a.token,
            &json!({
                "side": "request", "kind": "equipment",
                "title": "询价：300吨以上注塑机 夜班机时",
                "description": "下周一到周五夜班，请报每小时单价。",
                "quantity": {"amount": 1, "unit": "台"},
                "attributes": {"equipment_type": "注塑机", "mode": "共享机时", "clamping_force_t": 300},
                "call_for_quotes": {}
            }),
        )
        .await;
    let req_id = req.expect(201)["id"]
        .as_str()
        .context("request id")?
        .to_string();
    // A third firm quotes through the API.
    let admin = app.admin().await;
    let c = app.verified_firm(&community, &admin).await;
    let offer = app
        .post(
            "/api/v1/listings?wait=indexed",
            &c.admin.token,
            &json!({
                "side": "offer", "kind": "equipment",
                "title": "320T注塑机 夜班出租",
                "description": "震雄320吨一台，夜班空闲。",
                "quantity": {"amount": 1, "unit": "台"},
                "price": {"amount": 200, "unit": "元/小时"},
                "attributes": {"equipment_type": "注塑机", "mode": "共享机时", "clamping_force_t": 320}
            }),
        )
        .await;
    let c_offer = offer.expect(201)["id"]
        .as_str()
        .context("offer")?
        .to_string();
    let c_quote = app
        .post(
            &format!("/api/v1/listings/{req_id}/quotes"),
            &c.admin.token,
            &json!({"offer_id": c_offer, "quantity": {"amount": 1, "unit": "台"},
                    "price": {"amount": 200, "unit": "元/小时"}, "place": "甲方车间"}),
        )
        .await;
    let c_quote = c_quote.expect(201)["id"]
        .as_str()
        .context("C's quote")?
        .to_string();

    // B quotes through the form, from its open offer.
    pb.goto(&app.url(&format!("/app/#/pages/quotes/index?listing={req_id}")))
        .await?;
    wait_for(pb, "#quotes #quote-form .chips-offer .chip-on").await?;
    fill(pb, "#quote-form .field-price-amount input", "170").await?;
    click(
        pb,
        "#quote-form .chips-price-unit .chip[data-value='元/小时']",
    )
    .await?;
    fill(
        pb,
        "#quote-form .field-terms textarea",
        "含操作工，电费另计。",
    )
    .await?;
    to_top(pb).await?;
    shots.take(pb, "b-quote-form").await?;
    click(pb, "#quote-submit").await?;
    wait_for(
        pb,
        "#quotes .quote[data-status='submitted'] .quote-withdraw",
    )
    .await?;
    to_top(pb).await?;
    shots.take(pb, "b-quote-sent").await?;
    no_errors(pb, "quote sent").await?;

    // A sees both quotes side by side and accepts B's.
    let mine = app
        .get(&format!("/api/v1/listings/{req_id}/quotes"), &b.token)
        .await;
    let b_quote = mine.expect(200)["items"][0]["id"]
        .as_str()
        .context("B's quote")?
        .to_string();
    pa.goto(&app.url(&format!("/app/#/pages/quotes/index?listing={req_id}")))
        .await?;
    wait_for(pa, "#quotes[data-count='2']").await?;
    let cover = texts(pa, "#quotes .quote .quote-coverage").await?;
    ensure!(cover == ["100%", "100%"], "coverage shown: {cover:?}");
    to_top(pa).await?;
    shots.take(pa, "a-quotes").await?;
    // A asks C to revise its quote; C sees the request on its quote.
    let c_card = format!("#quotes .quote[data-quote-id='{c_quote}']");
    click(pa, &format!("{c_card} .quote-ask-revision")).await?;
    fill(
        pa,
        &format!("{c_card} .quote-revision-form input"),
        "单价能否降到 180 元/小时？",
    )
    .await?;
    click(pa, &format!("{c_card} .quote-ask-send")).await?;
    wait_text(
        pa,
        &format!("{c_card} .quote-revision-request"),
        "已请对方修改：单价能否降到 180 元/小时？",
    )
    .await?;
    shots.take(pa, "a-asks-revision").await?;
    let seen = app
        .get(&format!("/api/v1/quotes/{c_quote}"), &c.admin.token)
        .await;
    ensure!(
        seen.expect(200)["revision_request"]["message"] == "单价能否降到 180 元/小时？",
        "C sees the revision request"
    );
    click(
        pa,
        &format!("#quotes .quote[data-quote-id='{b_quote}'] .quote-accept"),
    )
    .await?;
    wait_for(
        pa,
        "#deal #agreement[data-status='proposed'][data-step='awaiting_them']",
    )
    .await?;
    wait_text(pa, "#agreement .term-price", "170 元/小时").await?;
    to_top(pa).await?;
    shots.take(pa, "a-quote-accepted").await?;
    no_errors(pa, "quote accepted").await?;
    Ok(())
}

/// The deal: A proposes terms on B's match (a 422 lands on its field), B
/// confirms them from the thread, both see the match `agreed` and each
/// other's contact; then A marks it in progress and completed and both rate.
#[allow(clippy::too_many_arguments)]
async fn deal(
    app: &TestApp,
    pa: &Client,
    pb: &Client,
    shots: &mut Shots,
    a: &Session,
    b: &Session,
    request_id: &str,
) -> Result<()> {
    let (firm_a, firm_b) = (firm_of(app, a).await?, firm_of(app, b).await?);
    // A opens the match from its request and proposes terms.
    pa.goto(&app.url(&format!("/app/#/pages/listing/index?id={request_id}")))
        .await?;
    wait_for(pa, "#listing .match .btn-deal").await?;
    click(pa, "#listing .match .btn-deal").await?;
    wait_for(pa, "#deal[data-loaded] #terms-form").await?;
    let match_id = attr_of(pa, "#deal", "data-match-id").await?;
    // The form starts from the request's quantity and the offer's price.
    let q = js(
        pa,
        "return document.querySelector('#terms-form .field-quantity-amount input').value;",
    )
    .await?;
    ensure!(q == json!("1"), "the quantity starts as {q}");
    // What only the server checks (a price out of range) comes back on its field.
    fill(
        pa,
        "#terms-form .field-price-amount input",
        "99999999999999",
    )
    .await?;
    click(pa, "#terms-submit").await?;
    wait_for(pa, "#terms-form .field-price-amount .field-error").await?;
    shots.take(pa, "a-deal-error").await?;
    fill(pa, "#terms-form .field-price-amount input", "180").await?;
    click(
        pa,
        "#terms-form .chips-price-unit .chip[data-value='元/小时']",
    )
    .await?;
    fill(
        pa,
        "#terms-form .field-place input",
        "宁波市北仑区大港五路88号 2号车间",
    )
    .await?;
    shots.take(pa, "a-deal-propose").await?;
    click(pa, "#terms-submit").await?;
    wait_for(
        pa,
        "#agreement[data-status='proposed'][data-version='1'][data-step='awaiting_them']",
    )
    .await?;
    ensure!(
        texts(pa, "#contacts").await?.is_empty(),
        "contacts shown before the other firm confirmed"
    );
    shots.take(pa, "a-deal-proposed").await?;
    no_errors(pa, "deal proposed").await?;
    js(pa, "window.__sameDocument = true; return true;").await?;

    // B, in the thread, opens the terms and confirms them.
    wait_for(pb, "#thread #thread-deal").await?;
    click(pb, "#thread #thread-deal").await?;
    wait_for(pb, "#deal #agreement[data-step='awaiting_me']").await?;
    wait_text(pb, "#agreement .term-price", "180 元/小时").await?;
    shots.take(pb, "b-deal-to-confirm").await?;
    click(pb, "#agreement-confirm").await?;
    wait_for(pb, "#agreement[data-status='confirmed']").await?;
    wait_for(pb, "#deal [data-match-status='agreed']").await?;

    // Both see each other's contact, as the server reveals it.
    let ag = app
        .get(&format!("/api/v1/agreements?match={match_id}"), &b.token)
        .await;
    let ag = ag.expect(200)["items"][0].clone();
    ensure!(
        ag["status"] == "confirmed" && ag["reveal"]["reason"] == "agreement_confirmed",
        "agreement: {ag:#}"
    );
    let contact_of =
        |side: &str, key: &str| ag["contacts"][side][key].as_str().unwrap_or("").to_string();
    ensure!(
        ag["contacts"]["request_firm"]["firm_id"] == firm_a.as_str(),
        "contacts: {ag:#}"
    );
    wait_for(pb, &format!("#contacts[data-firm-id='{firm_a}']")).await?;
    wait_text(
        pb,
        "#contacts .contact-name",
        &contact_of("request_firm", "contact_name"),
    )
    .await?;
    wait_text(
        pb,
        "#contacts .contact-phone",
        &contact_of("request_firm", "contact_phone"),
    )
    .await?;
    shots.take(pb, "b-deal-agreed").await?;
    no_errors(pb, "deal confirmed").await?;

    // A's page moves on live: confirmed, the match agreed, B's contact.
    wait_for(pa, "#agreement[data-status='confirmed']").await?;
    wait_for(pa, "#deal [data-match-status='agreed']").await?;
    wait_for(pa, &format!("#contacts[data-firm-id='{firm_b}']")).await?;
    wait_text(
        pa,
        "#contacts .contact-name",
        &contact_of("offer_firm", "contact_name"),
    )
    .await?;
    wait_text(
        pa,
        "#contacts .contact-phone",
        &contact_of("offer_firm", "contact_phone"),
    )
    .await?;
    ensure!(
        js(pa, "return window.__sameDocument === true;").await? == json!(true),
        "A's page was reloaded; the confirmation must arrive live"
    );
    shots.take(pa, "a-deal-agreed").await?;
    let m = app
        .get(&format!("/api/v1/matches/{match_id}"), &a.token)
        .await;
    ensure!(m.expect(200)["status"] == "agreed", "match: {:#}", m.body);

    // A's request shows the match as agreed.
    pa.goto(&app.url(&format!("/app/#/pages/listing/index?id={request_id}")))
        .await?;
    wait_text(
        pa,
        "#listing .match[data-status='agreed'] .match-status",
        "已成交",
    )
    .await?;
    // Opened by address in the same document: from the top, as a tap would.
    to_top(pa).await?;
    shots.take(pa, "a-listing-agreed").await?;

    // In progress, completed, rated by both.
    click(pa, "#listing .match[data-status='agreed'] .btn-deal").await?;
    wait_for(pa, "#agreement-start").await?;
    click(pa, "#agreement-start").await?;
    wait_for(pa, "#agreement[data-status='in_progress']").await?;
    click(pa, "#agreement-complete").await?;
    wait_for(
        pa,
        "#agreement[data-status='completed'] ~ .section #rating-form",
    )
    .await?;
    click(pa, "#rating-form .chips-score .chip[data-value='5']").await?;
    click(pa, "#rating-form .chips-tags .chip[data-value='准时']").await?;
    click(pa, "#rating-form .chips-tags .chip[data-value='沟通']").await?;
    fill(
        pa,
        "#rating-form .field-comment textarea",
        "当晚就安排上机，沟通顺畅。",
    )
    .await?;
    shots.take(pa, "a-deal-rate").await?;
    click(pa, "#rating-submit").await?;
    wait_for(pa, &format!("#deal .rating[data-rater='{firm_a}']")).await?;
    no_errors(pa, "rated").await?;
    wait_for(
        pb,
        "#agreement[data-status='completed'] ~ .section #rating-form",
    )
    .await?;
    click(pb, "#rating-form .chips-score .chip[data-value='4']").await?;
    click(pb, "#rating-form .chips-tags .chip[data-value='质量']").await?;
    click(pb, "#rating-submit").await?;
    // Both ratings are shown once both firms rated.
    let deadline = Instant::now() + UI_WAIT;
    while texts(pb, "#deal .rating").await?.len() < 2 {
        ensure!(Instant::now() < deadline, "B does not see both ratings");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shots.take(pb, "b-deal-rated").await?;
    no_errors(pb, "rated").await?;
    Ok(())
}

/// Scrolls the page back to its top (an address opened in the same document
/// keeps the scroll of the page before it), for a screenshot of its head.
async fn to_top(b: &Client) -> Result<()> {
    js(
        b,
        "window.scrollTo(0, 0); \
         document.querySelectorAll('*').forEach((e) => { if (e.scrollTop > 0) e.scrollTop = 0; }); \
         return true;",
    )
    .await?;
    Ok(())
}

async fn firm_of(app: &TestApp, who: &Session) -> Result<String> {
    let me = app.get("/api/v1/me", &who.token).await;
    Ok(me.expect(200)["firm"]["id"]
        .as_str()
        .context("firm id")?
        .to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium, chromium-driver and the H5 build; .ci/run runs it with --ignored"]
async fn firm_app_two_firms_chat_live_and_ask_for_help() {
    let started = Instant::now();
    let dir = h5_dir().expect("H5 build");
    let dir = dir.display().to_string();
    let app = spawn_app_with(&[("ZQL_APP_DIR", &dir)]).await;
    let driver = start_driver().expect("chromedriver");
    if let Err(e) = scenario(&app, &driver).await {
        panic!("firm app: failed after {:?}: {e:#}", started.elapsed());
    }
    eprintln!("firm app: passed in {:?}", started.elapsed());
}
