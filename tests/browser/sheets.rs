//! The spreadsheet page in headless Chromium: staff upload a listings file
//! with mistakes, see each error by row and column in the dry run, fix the
//! file (as .xlsx) and import it with progress; the listings are then the
//! firms', posted by staff, and exports download.

use anyhow::{Context, Result, ensure};
use fantoccini::{Client, Locator};

use super::{Shots, click, park, run, sign_in, text_of, texts, wait_for};
use crate::helpers::TestApp;

const HEADER: [&str; 9] = [
    "编号",
    "统一社会信用代码",
    "供需",
    "类别",
    "标题",
    "描述",
    "数量",
    "单位",
    "紧急程度",
];

fn rows(requester: &str, offerer: &str, fixed: bool) -> Vec<Vec<String>> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        s(&HEADER),
        s(&[
            "DG-001",
            offerer,
            "供给",
            "设备",
            "空压机 37kW 出租",
            "夜班空闲",
            "1",
            "台",
            "常规",
        ]),
        s(&[
            "DG-002",
            requester,
            "需求",
            if fixed { "物料" } else { "飞机" },
            "求购 ABS 粒子 5 吨",
            "",
            "5",
            if fixed { "吨" } else { "" },
            "加急",
        ]),
        s(&[
            "DG-003",
            if fixed {
                requester
            } else {
                "91330206ABCDEFGHIJ"
            },
            "需求",
            "物流运力",
            "求 9.6 米厢车两趟",
            "",
            "",
            "",
            "",
        ]),
    ]
}

async fn upload(b: &Client, path: &std::path::Path) -> Result<()> {
    let input = wait_for(b, "#sheet-file").await?;
    input
        .send_keys(path.to_str().context("utf-8 path")?)
        .await
        .context("choose the file")?;
    Ok(())
}

async fn scenario(app: &TestApp, b: &Client, shots: &mut Shots) -> Result<()> {
    let p = park(app).await?;
    sign_in(app, b, &p.staff).await?;
    let dir = tempfile::tempdir()?;

    // 1. A CSV with mistakes: the dry run shows each by row and column.
    let bad = dir.path().join("listings.csv");
    let mut w = csv::Writer::from_path(&bad)?;
    for r in rows(&p.requester.uscc, &p.offerer.uscc, false) {
        w.write_record(&r)?;
    }
    w.flush()?;
    click(b, "a[data-nav=sheets]").await?;
    click(b, "#sheet-kind option[value=listings]").await?;
    upload(b, &bad).await?;
    click(b, "#sheet-check").await?;
    wait_for(b, "#sheet-rows tr[data-row='4']").await?;
    let errors = texts(b, "#sheet-rows tr.row-error").await?;
    ensure!(errors.len() == 2, "rows with errors: {errors:?}");
    ensure!(
        errors[0].contains("类别") && errors[0].contains("单位"),
        "row 3: {}",
        errors[0]
    );
    ensure!(
        errors[1].contains("统一社会信用代码"),
        "row 4: {}",
        errors[1]
    );
    let count = text_of(b, "#sheet-error-count").await?;
    ensure!(count.contains('2'), "error count: {count}");
    let offer = text_of(b, "#sheet-import").await?;
    ensure!(
        offer.contains("仅导入无误的 1 行"),
        "import button: {offer}"
    );
    shots.take(b, "dry-run-errors").await?;
    let mine = app
        .get("/api/v1/listings?mine=true", &p.offerer.admin.token)
        .await;
    ensure!(
        !mine.expect(200)["items"]
            .as_array()
            .is_some_and(|v| v.iter().any(|l| l["title"] == "空压机 37kW 出租")),
        "the dry run wrote a listing"
    );

    // 2. The fixed file, as .xlsx: no errors; import with progress.
    let good = dir.path().join("listings.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (r, row) in rows(&p.requester.uscc, &p.offerer.uscc, true)
        .iter()
        .enumerate()
    {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32, c as u16, v)?;
        }
    }
    book.save(&good)?;
    upload(b, &good).await?;
    click(b, "#sheet-check").await?;
    wait_for(b, "#sheet-rows tr[data-row='4'][data-action=create]").await?;
    ensure!(
        b.find_all(Locator::Css("#sheet-rows tr.row-error"))
            .await?
            .is_empty(),
        "the fixed file still shows errors"
    );
    let offer = text_of(b, "#sheet-import").await?;
    ensure!(offer.contains("导入 3 行"), "import button: {offer}");
    shots.take(b, "dry-run-clean").await?;
    click(b, "#sheet-import").await?;
    wait_for(b, "#sheet-job-card[data-status=done]").await?;
    let done = text_of(b, "#sheet-job-counts").await?;
    ensure!(
        done.contains("3 / 3") && done.contains("新增 3"),
        "job: {done}"
    );
    shots.take(b, "imported").await?;

    // The listings are the firms', posted by staff.
    let mine = app
        .get("/api/v1/listings?mine=true", &p.requester.admin.token)
        .await;
    let mine = mine.expect(200)["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let l = mine
        .iter()
        .find(|l| l["title"] == "求购 ABS 粒子 5 吨")
        .context("the requesting firm does not see its imported listing")?;
    ensure!(
        l["posted_by_staff"].is_string() && l["urgency"] == "urgent",
        "{l:#}"
    );

    // 3. Importing the same file again changes nothing.
    click(b, "#sheet-check").await?;
    wait_for(b, "#sheet-rows tr[data-row='2'][data-action=unchanged]").await?;
    ensure!(
        b.find_all(Locator::Css("#sheet-import:not([hidden])"))
            .await?
            .is_empty(),
        "nothing to import, yet the import button is offered"
    );
    shots.take(b, "re-check-unchanged").await?;
    ensure!(
        super::js(b, "return document.body.dataset.errors || null;").await?
            == serde_json::Value::Null,
        "the console reported script errors"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromium-driver; .ci/run runs it with --ignored"]
async fn staff_fix_a_spreadsheet_with_errors_and_import_it_in_the_console() {
    run("sheets", &[], scenario).await;
}
