//! The front-desk console pages in headless Chromium: a staff member posts
//! a listing for a firm of the community (the firm sees it as its own,
//! marked as posted by staff), finds it in the digest of open needs whose
//! short link leads to it in the firm app, then works a report in the
//! moderation queue: the reported listing is hidden with a reason the firm
//! sees.

use anyhow::{Context, Result, ensure};
use fantoccini::Client;
use serde_json::json;

use super::{Shots, click, fill, park, run, sign_in, text_of, wait_for, wait_gone};
use crate::helpers::TestApp;

fn id_of_listing(l: &serde_json::Value) -> &str {
    l["id"].as_str().unwrap_or_default()
}

async fn scenario(app: &TestApp, b: &Client, shots: &mut Shots) -> Result<()> {
    let p = park(app).await?;
    sign_in(app, b, &p.staff).await?;

    // 1. Post for the requesting firm through the front-desk page.
    click(b, "a[data-nav=frontdesk]").await?;
    let option = format!("#fd-firm option[value='{}']", p.requester.id);
    wait_for(b, &option).await?;
    click(b, &option).await?;
    click(b, "#fd-side option[value=request]").await?;
    click(b, "#fd-kind option[value=equipment]").await?;
    fill(b, "#fd-title", "电话代发：急租空压机 37kW 一周").await?;
    fill(
        b,
        "#fd-description",
        "张工来电，产线空压机检修，需临时租用一周。",
    )
    .await?;
    shots.take(b, "frontdesk-form").await?;
    click(b, "#fd-submit").await?;
    wait_for(b, "#fd-posted article[data-listing-id]").await?;
    let marker = text_of(b, "#fd-posted .posted-by-staff").await?;
    ensure!(marker.contains("代发"), "posted card: {marker}");
    shots.take(b, "frontdesk-posted").await?;

    // The firm sees it as its own, marked as posted by staff, and was told.
    let mine = app
        .get("/api/v1/listings?mine=true", &p.requester.admin.token)
        .await;
    let mine = mine.expect(200)["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let posted = mine
        .iter()
        .find(|l| l["title"] == "电话代发：急租空压机 37kW 一周")
        .context("the firm does not see the listing staff posted")?;
    ensure!(posted["posted_by_staff"].is_string(), "{posted:#}");
    let told = app
        .get("/api/v1/notifications", &p.requester.admin.token)
        .await;
    ensure!(
        told.expect(200)["items"]
            .as_array()
            .is_some_and(|n| n.iter().any(|n| n["type"] == "listing.staff_action")),
        "the firm's admin was not notified"
    );

    // 2. The digest of open needs lists it, with a short link that leads to
    //    the listing in the firm app.
    click(b, "a[data-nav=digest]").await?;
    let row = format!(
        "#digest-sheet tr[data-listing-id='{}']",
        id_of_listing(posted)
    );
    wait_for(b, &row).await?;
    let pasted = super::js(b, "return document.getElementById('digest-text').value;").await?;
    let pasted = pasted.as_str().unwrap_or_default().to_string();
    ensure!(
        pasted.contains("电话代发：急租空压机 37kW 一周") && pasted.contains("/s/"),
        "digest text: {pasted}"
    );
    shots.take(b, "digest").await?;
    let link = text_of(b, &format!("{row} a")).await?;
    b.goto(&link).await?;
    let at = b.current_url().await?;
    ensure!(
        at.as_str().ends_with(&format!(
            "/app/#/pages/listing/index?id={}",
            id_of_listing(posted)
        )),
        "the short link led to {at}"
    );
    b.back().await?;
    wait_for(b, "a[data-nav=moderation]").await?;

    // 3. The requesting firm reports the offer; staff hide it in the queue.
    let r = app
        .post(
            "/api/v1/reports",
            &p.requester.admin.token,
            &json!({"subject_type": "listing", "subject_id": p.offer_id,
                    "reason": "wrong_info", "text": "设备早已售出，信息不实"}),
        )
        .await;
    let report_id = r.expect(201)["id"]
        .as_str()
        .context("report id")?
        .to_string();
    click(b, "a[data-nav=moderation]").await?;
    let card = format!("#moderation article[data-report-id='{report_id}']");
    wait_for(b, &card).await?;
    let shown = text_of(b, &card).await?;
    ensure!(shown.contains("设备早已售出"), "report card: {shown}");
    shots.take(b, "moderation-queue").await?;
    click(b, &format!("{card} button[data-action=hide_listing]")).await?;
    fill(b, "#moderation-reason", "设备已售出，信息不实").await?;
    shots.take(b, "moderation-dialog").await?;
    click(b, "#moderation-confirm").await?;
    wait_gone(b, &card).await?;
    shots.take(b, "moderation-done").await?;

    // The offer is hidden from others; its firm sees why.
    app.get(
        &format!("/api/v1/listings/{}", p.offer_id),
        &p.requester.admin.token,
    )
    .await
    .expect(404);
    let own = app
        .get(
            &format!("/api/v1/listings/{}", p.offer_id),
            &p.offerer.admin.token,
        )
        .await;
    ensure!(
        own.expect(200)["hidden"]["reason"] == "设备已售出，信息不实",
        "{:#}",
        own.body
    );
    ensure!(
        super::js(b, "return document.body.dataset.errors || null;").await?
            == serde_json::Value::Null,
        "the console reported script errors"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromium-driver; .ci/run runs it with --ignored"]
async fn staff_post_for_a_firm_and_hide_a_reported_listing_in_the_console() {
    run("frontdesk", &[], scenario).await;
}
