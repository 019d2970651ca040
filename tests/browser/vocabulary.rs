//! The park's vocabulary (词库) in headless Chromium: staff add a synonym
//! group for the park's local trade name, watch the background re-index
//! finish, after which search finds the listing by its common name; then
//! they accept a suggestion from the park's own listings.

use anyhow::{Context, Result, ensure};
use fantoccini::Client;

use super::{Shots, click, fill, park, run, sign_in, text_of, texts, wait_for};
use crate::helpers::TestApp;

/// Whether a search for `q` finds listing `id`.
async fn finds(app: &TestApp, token: &str, q: &str, id: &str) -> Result<bool> {
    let q: String = q.bytes().map(|b| format!("%{b:02X}")).collect();
    let r = app
        .get(&format!("/api/v1/listings/search?q={q}"), token)
        .await;
    r.expect(200)["items"]
        .as_array()
        .map(|v| v.iter().any(|h| h["listing"]["id"] == id))
        .context("items")
}

async fn scenario(app: &TestApp, b: &Client, shots: &mut Shots) -> Result<()> {
    let p = park(app).await?;
    // 炮头 is what the park calls a hydraulic breaker (破碎锤); 辊道窑 is a
    // word the shipped dictionary cuts apart.
    let post = |title: &'static str, by: &'static str| {
        let token = if by == "o" {
            p.offerer.admin.token.clone()
        } else {
            p.requester.admin.token.clone()
        };
        async move {
            app.post(
                "/api/v1/listings?wait=indexed",
                &token,
                &serde_json::json!({"side": "offer", "kind": "equipment", "title": title}),
            )
            .await
            .expect(201)["id"]
                .as_str()
                .map(str::to_string)
                .context("listing id")
        }
    };
    let breaker = post("炮头出租 带操作手", "o").await?;
    for (t, by) in [
        ("辊道窑出租 长期合作", "o"),
        ("求购二手辊道窑一条", "r"),
        ("转让辊道窑 九成新", "o"),
        ("专业维修辊道窑 上门服务", "r"),
    ] {
        post(t, by).await?;
    }
    ensure!(
        !finds(app, &p.staff.token, "破碎锤", &breaker).await?,
        "found before the group exists"
    );

    sign_in(app, b, &p.staff).await?;
    click(b, "a[data-nav=vocabulary]").await?;
    wait_for(b, "#vocab-progress-text[data-state=done]").await?;
    shots.take(b, "empty").await?;

    // 1. A synonym group: the re-index runs in the background and finishes.
    click(b, "#vocab-kind option[value=synonyms]").await?;
    fill(b, "#vocab-terms", "炮头 破碎锤").await?;
    click(b, "#vocab-add").await?;
    wait_for(b, "#vocab-entries tr[data-entry-id]").await?;
    let rows = texts(b, "#vocab-entries tr[data-entry-id]").await?;
    ensure!(
        rows.len() == 1 && rows[0].contains("炮头 / 破碎锤"),
        "entries: {rows:?}"
    );
    wait_for(b, "#vocab-progress-text[data-state=done]").await?;
    let done = text_of(b, "#vocab-progress-text").await?;
    ensure!(done.contains("索引已是最新"), "progress: {done}");
    shots.take(b, "group-added-reindexed").await?;
    ensure!(
        finds(app, &p.staff.token, "破碎锤", &breaker).await?,
        "the group did not take effect"
    );

    // 2. Suggestions from the park's listings; accept one.
    click(b, "#vocab-suggest").await?;
    let accept = "#vocab-suggestions button[data-accept='辊道窑']";
    wait_for(b, accept).await?;
    shots.take(b, "suggestions").await?;
    click(b, accept).await?;
    wait_for(b, "#vocab-suggestions li.accepted").await?;
    wait_for(b, "#vocab-progress-text[data-state=done]").await?;
    let rows = texts(b, "#vocab-entries tr[data-entry-id]").await?;
    ensure!(
        rows.len() == 2 && rows.iter().any(|r| r.contains("辊道窑")),
        "entries: {rows:?}"
    );
    shots.take(b, "suggestion-accepted").await?;
    let v = app.get("/api/v1/staff/vocabulary", &p.staff.token).await;
    let terms: Vec<String> = v.expect(200)["entries"]
        .as_array()
        .context("entries")?
        .iter()
        .map(|e| e["terms"].to_string())
        .collect();
    ensure!(terms.len() == 2, "{terms:?}");
    ensure!(
        super::js(b, "return document.body.dataset.errors || null;").await?
            == serde_json::Value::Null,
        "the console reported script errors"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromium-driver; .ci/run runs it with --ignored"]
async fn staff_add_a_synonym_group_watch_the_reindex_and_accept_a_suggestion() {
    run("vocabulary", &[], scenario).await;
}
