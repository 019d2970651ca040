//! The API-client console pages in headless Chromium: staff create a
//! client for their community and see its secret once (it works for a
//! token, and is gone from the page afterwards), subscribe a local
//! receiver on the client's behalf, send a test push and see it delivered
//! in the delivery log, and the receiver got the signed ping.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use fantoccini::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Shots, click, fill, js, park, run, sign_in, text_of, wait_for, wait_gone};
use crate::helpers::TestApp;

/// A local receiver answering 200: (its URL, the requests' heads and bodies).
async fn receiver() -> Result<(String, Arc<Mutex<Vec<String>>>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hooks/console", listener.local_addr()?);
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let g = g.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let deadline = Instant::now() + Duration::from_secs(5);
                // Reads until the body announced by content-length arrived.
                loop {
                    let Ok(Ok(n)) =
                        tokio::time::timeout_at(deadline.into(), sock.read(&mut chunk)).await
                    else {
                        break;
                    };
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let len = head
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if body.len() >= len {
                            break;
                        }
                    }
                }
                g.lock()
                    .expect("got")
                    .push(String::from_utf8_lossy(&buf).to_string());
                let _ = sock
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    Ok((url, got))
}

async fn scenario(app: &TestApp, b: &Client, shots: &mut Shots) -> Result<()> {
    let p = park(app).await?;
    let (url, got) = receiver().await?;
    sign_in(app, b, &p.staff).await?;

    // 1. A client for the community; the secret is shown once.
    click(b, "a[data-nav=clients]").await?;
    wait_for(b, "#clients").await?;
    click(b, "#client-new").await?;
    fill(b, "#client-form input[name=name]", "园区能耗平台").await?;
    click(b, "#client-form input[value='listings:read']").await?;
    ensure!(
        js(
            b,
            "return document.querySelector(\"#client-form input[value='listings:read']\").checked;"
        )
        .await?
            == serde_json::Value::Bool(false),
        "the default scope should have been unticked"
    );
    click(b, "#client-form input[value='listings:read']").await?;
    shots.take(b, "clients-create").await?;
    click(b, "#client-create").await?;
    wait_for(b, "#secret-value").await?;
    let secret = text_of(b, "#secret-value").await?;
    ensure!(secret.starts_with("zqs_"), "secret shown: {secret}");
    click(b, "#copy-secret").await?;
    shots.take(b, "clients-secret-once").await?;
    click(b, "#secret-done").await?;
    wait_gone(b, "#secret-value").await?;
    wait_for(b, "#client-id").await?;
    let client_id = text_of(b, "#client-id").await?;
    let page = text_of(b, "body").await?;
    ensure!(!page.contains(&secret), "the secret is still on the page");

    // The secret shown is the client's: it buys a token.
    let r = app
        .send(
            app.client
                .post(app.url("/api/v1/oauth/token"))
                .basic_auth(&client_id, Some(&secret))
                .form(&[("grant_type", "client_credentials")]),
        )
        .await;
    r.expect(200);

    // 2. A webhook for the client, to the local receiver.
    click(b, "#webhook-new").await?;
    fill(b, "#webhook-form input[name=url]", &url).await?;
    click(b, "#webhook-form input[value='listing.created']").await?;
    shots.take(b, "clients-webhook-form").await?;
    click(b, "#webhook-create").await?;
    wait_for(b, "#secret-value").await?;
    let signing = text_of(b, "#secret-value").await?;
    ensure!(signing.starts_with("whsec_"), "signing secret: {signing}");
    click(b, "#secret-done").await?;
    wait_gone(b, "#secret-value").await?;
    wait_for(b, "#webhooks tr[data-webhook-id]").await?;

    // 3. A test push, delivered, in the log.
    click(b, "#webhooks tr[data-webhook-id] button[data-action=ping]").await?;
    wait_for(b, "#deliveries").await?;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let n = js(
            b,
            "return document.querySelectorAll('#deliveries tr[data-status=delivered]').length;",
        )
        .await?;
        if n.as_u64() == Some(1) {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "the ping was not shown delivered"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        click(b, "#log-refresh").await?;
    }
    let row = text_of(b, "#deliveries tr[data-status=delivered]").await?;
    ensure!(
        row.contains("测试推送") && row.contains("200"),
        "log row: {row}"
    );
    shots.take(b, "clients-delivery-log").await?;

    let received = got.lock().expect("got").clone();
    ensure!(
        received.len() == 1,
        "the receiver got {} requests",
        received.len()
    );
    let req = received[0].to_lowercase();
    ensure!(req.contains("zhiqilian-event: ping"), "{req}");
    ensure!(req.contains("zhiqilian-signature: t="), "{req}");
    ensure!(req.contains("\"type\":\"ping\""), "{req}");

    // The usage card shows the token the check above bought.
    click(b, "a.back").await?;
    click(b, &format!("#clients tr[data-client-id='{client_id}'] a")).await?;
    wait_for(b, "#usage-totals").await?;
    let totals = text_of(b, "#usage-totals").await?;
    ensure!(
        totals.contains("签发令牌\n1") || totals.contains("签发令牌 1"),
        "usage: {totals:?}"
    );
    shots.take(b, "clients-usage").await?;
    ensure!(
        js(b, "return document.body.dataset.errors || null;").await? == serde_json::Value::Null,
        "the console reported script errors"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromium-driver; .ci/run runs it with --ignored"]
async fn staff_create_a_client_and_test_its_webhook_in_the_console() {
    run(
        "clients",
        &[("ZQL_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")],
        scenario,
    )
    .await;
}
