//! Spreadsheets over HTTP: staff import firms and listings from CSV and
//! .xlsx (dry run, then a job with progress, idempotent on the key column),
//! errors by row and Chinese column, limits, templates, and exports of the
//! staff member's own community read back with calamine.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use serde_json::{Value, json};

use crate::helpers::*;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// An .xlsx with one sheet of text cells (numbers as numbers when asked).
fn xlsx(rows: &[Vec<&str>], numeric_cols: &[usize]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if v.is_empty() {
                continue;
            }
            match v.parse::<f64>() {
                Ok(n) if r > 0 && numeric_cols.contains(&c) => {
                    ws.write_number(r as u32, c as u16, n).expect("number");
                }
                _ => {
                    ws.write_string(r as u32, c as u16, *v).expect("string");
                }
            }
        }
    }
    book.save_to_buffer().expect("xlsx")
}

fn csv(rows: &[Vec<&str>]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(r).expect("record");
    }
    w.into_inner().expect("csv")
}

/// The first sheet of an .xlsx as text rows.
fn read_xlsx(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec()))
        .expect("calamine opens the export");
    let names = book.sheet_names();
    let range = book.worksheet_range(&names[0]).expect("first sheet");
    let mut rows = range.rows().map(|r| {
        r.iter()
            .map(|d| match d {
                Data::Empty => String::new(),
                Data::Float(f) => f.to_string(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
    });
    let header = rows.next().expect("header row");
    (header, rows.collect())
}

impl TestApp {
    async fn upload(&self, path: &str, token: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let req = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body);
        self.send(req).await
    }

    async fn download(&self, path: &str, token: &str) -> (u16, String, Vec<u8>) {
        let resp = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent");
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        (status, ct, resp.bytes().await.expect("body").to_vec())
    }

    /// Starts an import and follows its job until it ends.
    async fn import(&self, kind: &str, token: &str, ct: &str, body: Vec<u8>, skip: bool) -> Value {
        let q = if skip {
            "?skip_invalid=true&file_name=x.xlsx"
        } else {
            "?file_name=x.xlsx"
        };
        let r = self
            .upload(&format!("/api/v1/staff/imports/{kind}{q}"), token, ct, body)
            .await;
        let job = r.expect(202).clone();
        let location = r.header("location").expect("Location").to_string();
        assert_eq!(
            location,
            format!("/api/v1/staff/import-jobs/{}", job["id"].as_str().unwrap())
        );
        for _ in 0..600 {
            let j = self.get(&location, token).await;
            let j = j.expect(200).clone();
            if j["status"] != "running" {
                return j;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the import job did not end");
    }
}

fn row_errors(run: &Value, row: u64) -> Vec<(String, String)> {
    run["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["row"] == row)
        .unwrap_or_else(|| panic!("no row {row}: {run:#}"))["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["column"].as_str().unwrap_or("").to_string(),
                e["code"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn action(run: &Value, row: u64) -> String {
    run["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["row"] == row)
        .map(|r| r["action"].as_str().unwrap_or("").to_string())
        .unwrap_or_default()
}

async fn firm_count(app: &TestApp, token: &str, community: &str) -> usize {
    app.all_pages(&format!("/api/v1/firms?community={community}"), token)
        .await
        .len()
}

#[tokio::test]
async fn firms_dry_run_shows_every_error_then_import_is_idempotent() {
    let app = spawn_app().await;
    let w = app.world().await;
    let staff = &w.staff1.token;
    let fresh = valid_uscc();
    let before = firm_count(&app, staff, &w.c1).await;
    let header = vec![
        "企业名称*",
        "统一社会信用代码",
        "联系人",
        "电话（手机）",
        "地址",
        "备注",
    ];
    let rows = vec![
        header.clone(),
        vec![
            "宁波新材料有限公司",
            &fresh,
            "李经理",
            "13800001111",
            "大港五路1号",
            "新入驻",
        ],
        vec!["坏代码公司", "91330206ABCDEFGHIJ", "", "", "", ""],
        vec!["短", "", "", "电话号码", "", ""],
        vec!["他社区公司", &w.c.uscc, "", "", "", ""],
        vec!["重复公司", &fresh, "", "", "", ""],
        vec![
            "宁波甬港模塑科技有限公司",
            &w.a.uscc,
            "赵经理",
            "0574-86880000",
            "",
            "",
        ],
    ];
    let run = app
        .upload(
            "/api/v1/staff/imports/firms/dry-run",
            staff,
            "text/csv",
            csv(&rows),
        )
        .await;
    let run = run.expect(200).clone();
    assert_eq!(run["kind"], "firms");
    assert_eq!(run["format"], "csv");
    assert_eq!(run["total_rows"], 6);
    assert_eq!(run["ignored_columns"], json!(["备注"]));
    assert_eq!(
        run["counts"],
        json!({"create": 1, "update": 1, "unchanged": 0, "error": 4})
    );
    assert_eq!(action(&run, 2), "create");
    assert_eq!(action(&run, 7), "update");
    assert!(row_errors(&run, 3).contains(&("统一社会信用代码".into(), "invalid_uscc".into())));
    let r4 = row_errors(&run, 4);
    for (col, code) in [
        ("企业名称", "too_short"),
        ("统一社会信用代码", "required"),
        ("电话", "invalid_format"),
    ] {
        assert!(r4.contains(&(col.into(), code.into())), "{r4:?}");
    }
    assert_eq!(
        row_errors(&run, 5),
        [("统一社会信用代码".to_string(), "taken".to_string())]
    );
    assert_eq!(
        row_errors(&run, 6),
        [("统一社会信用代码".to_string(), "duplicate_key".to_string())]
    );
    assert_eq!(
        firm_count(&app, staff, &w.c1).await,
        before,
        "a dry run writes nothing"
    );

    // A file with errors is refused whole unless asked to skip them.
    let r = app
        .upload("/api/v1/staff/imports/firms", staff, "text/csv", csv(&rows))
        .await;
    r.expect_problem(422, "import_has_errors");
    assert!(
        r.fields().contains(&"rows.3.统一社会信用代码".to_string()),
        "{:?}",
        r.fields()
    );
    assert_eq!(firm_count(&app, staff, &w.c1).await, before);

    // Fixed, as an .xlsx: the two good rows.
    let fixed = vec![header.clone(), rows[1].clone(), rows[6].clone()];
    let job = app
        .import("firms", staff, XLSX, xlsx(&fixed, &[]), false)
        .await;
    assert_eq!(job["status"], "done", "{job:#}");
    assert_eq!(
        (job["created"].clone(), job["updated"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(job["processed_rows"], 2);
    assert_eq!(job["progress"], 1.0);
    assert_eq!(firm_count(&app, staff, &w.c1).await, before + 1);
    let listed = app
        .all_pages(&format!("/api/v1/firms?community={}", w.c1), staff)
        .await;
    let new = listed
        .iter()
        .find(|f| f["uscc"] == fresh.as_str())
        .expect("imported firm");
    assert_eq!(new["verified"], true);
    assert_eq!(new["contact_phone"], "13800001111");
    let a = app.get(&format!("/api/v1/firms/{}", w.a.id), staff).await;
    assert_eq!(a.expect(200)["contact_name"], "赵经理");

    // The same file again changes nothing.
    let again = app
        .import("firms", staff, XLSX, xlsx(&fixed, &[]), false)
        .await;
    assert_eq!(again["status"], "done");
    assert_eq!(
        (
            again["created"].clone(),
            again["updated"].clone(),
            again["unchanged"].clone()
        ),
        (json!(0), json!(0), json!(2))
    );
    assert_eq!(firm_count(&app, staff, &w.c1).await, before + 1);

    // The import is audited.
    let audit = app
        .get("/api/v1/staff/audit?action=import.firms", staff)
        .await;
    assert_eq!(
        audit.expect(200)["items"].as_array().expect("items").len(),
        2
    );
}

fn listing_header() -> Vec<&'static str> {
    vec![
        "编号",
        "统一社会信用代码",
        "供需",
        "类别",
        "标题",
        "描述",
        "数量",
        "单位",
        "紧急程度",
        "开始日期",
    ]
}

#[tokio::test]
async fn listings_import_by_key_with_progress_errors_and_take_over() {
    let app = spawn_app().await;
    let w = app.world().await;
    let staff = &w.staff1.token;
    let (a, b, c) = (w.a.uscc.as_str(), w.b.uscc.as_str(), w.c.uscc.as_str());
    let mut rows = vec![
        listing_header(),
        vec![
            "L-001",
            a,
            "供给",
            "设备",
            "380T注塑机夜班机时",
            "海天两台\n夜班空闲",
            "2",
            "台",
            "",
            "2026/12/1",
        ],
        vec![
            "L-002",
            b,
            "需求",
            "厂房",
            "求租厂房 1000 平方米",
            "",
            "1000",
            "平方米",
            "加急",
            "",
        ],
        vec![
            "L-003",
            a,
            "供应",
            "飞机",
            "坏类别",
            "",
            "5",
            "",
            "",
            "2026-13-40",
        ],
        vec!["L-004", c, "需求", "物料", "他社区企业", "", "", "", "", ""],
        vec!["L-001", a, "供给", "设备", "重复编号", "", "", "", "", ""],
    ];
    let run = app
        .upload(
            "/api/v1/staff/imports/listings/dry-run",
            staff,
            XLSX,
            xlsx(&rows, &[6]),
        )
        .await;
    let run = run.expect(200).clone();
    assert_eq!(run["format"], "xlsx");
    assert_eq!(
        run["counts"],
        json!({"create": 2, "update": 0, "unchanged": 0, "error": 3})
    );
    let r4 = row_errors(&run, 4);
    for (col, code) in [
        ("类别", "invalid_value"),
        ("单位", "required"),
        ("开始日期", "invalid_format"),
    ] {
        assert!(r4.contains(&(col.into(), code.into())), "{r4:?}");
    }
    assert_eq!(
        row_errors(&run, 5),
        [("统一社会信用代码".to_string(), "unknown_firm".to_string())]
    );
    assert_eq!(
        row_errors(&run, 6),
        [("编号".to_string(), "duplicate_key".to_string())]
    );
    let head = app.change_head().await;

    // Importing only the good rows; then a long file in several batches.
    let job = app
        .import("listings", staff, XLSX, xlsx(&rows, &[6]), true)
        .await;
    assert_eq!(job["status"], "done", "{job:#}");
    assert_eq!(
        (job["created"].clone(), job["failed"].clone()),
        (json!(2), json!(3))
    );
    assert_eq!(job["errors"].as_array().expect("errors").len(), 5);
    assert_eq!(app.change_head().await, head + 2);
    let mine = app
        .all_pages(&format!("/api/v1/listings?community={}", w.c1), staff)
        .await;
    let l1 = mine
        .iter()
        .find(|l| l["key"] == format!("{}:L-001", w.c1))
        .expect("imported listing")
        .clone();
    assert_eq!(l1["firm"]["id"], w.a.id.as_str());
    assert_eq!(l1["description"], "海天两台\n夜班空闲");
    assert_eq!(l1["quantity"], json!({"amount": 2.0, "unit": "台"}));
    assert_eq!(l1["available_from"], "2026-12-01");
    assert!(l1["posted_by_staff"].is_string());
    let l2 = mine
        .iter()
        .find(|l| l["key"] == format!("{}:L-002", w.c1))
        .expect("L-002");
    assert_eq!(l2["urgency"], "urgent");
    // The urgent request opened a case, as posting does.
    let queue = app.get("/api/v1/staff/queue", staff).await;
    assert!(
        queue.expect(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["listing"]["id"] == l2["id"])
    );

    // Re-import: one title changed, L-001 taken over by its firm.
    rows.truncate(3);
    rows[2][4] = "求租厂房 1200 平方米";
    let took = app
        .post_empty(
            &format!("/api/v1/listings/{}/take-over", l1["id"].as_str().unwrap()),
            &w.a.admin.token,
        )
        .await;
    took.expect(200);
    let run = app
        .upload(
            "/api/v1/staff/imports/listings/dry-run",
            staff,
            "text/csv",
            csv(&rows),
        )
        .await;
    let run = run.expect(200).clone();
    assert_eq!(
        row_errors(&run, 2),
        [("编号".to_string(), "not_editable".to_string())]
    );
    assert_eq!(action(&run, 3), "update");
    let no_take = vec![rows[0].clone(), rows[2].clone()];
    let job = app
        .import("listings", staff, "text/csv", csv(&no_take), false)
        .await;
    assert_eq!(
        (job["updated"].clone(), job["created"].clone()),
        (json!(1), json!(0))
    );
    let job = app
        .import("listings", staff, "text/csv", csv(&no_take), false)
        .await;
    assert_eq!(
        (job["unchanged"].clone(), job["updated"].clone()),
        (json!(1), json!(0))
    );

    // 450 rows: three batches, every row accounted for.
    let keys: Vec<String> = (0..450).map(|i| format!("B-{i:03}")).collect();
    let titles: Vec<String> = (0..450).map(|i| format!("共享叉车第{i}台")).collect();
    let mut long = vec![listing_header()];
    for (k, t) in keys.iter().zip(&titles) {
        long.push(vec![k, b, "供给", "设备", t, "", "1", "台", "", ""]);
    }
    let job = app
        .import("listings", staff, "text/csv", csv(&long), false)
        .await;
    assert_eq!(job["status"], "done");
    assert_eq!(
        (
            job["total_rows"].clone(),
            job["processed_rows"].clone(),
            job["created"].clone()
        ),
        (json!(450), json!(450), json!(450))
    );

    // Another community's staff cannot read the job; firms cannot import.
    let other = app
        .get(
            &format!("/api/v1/staff/import-jobs/{}", job["id"].as_str().unwrap()),
            &w.staff2.token,
        )
        .await;
    other.expect_problem(404, "not_found");
    let r = app
        .upload(
            "/api/v1/staff/imports/listings/dry-run",
            &w.a.admin.token,
            "text/csv",
            csv(&rows),
        )
        .await;
    r.expect_problem(403, "forbidden");
    // The same 编号 in another community is another listing.
    let c_rows = vec![
        listing_header(),
        vec![
            "L-002",
            c,
            "需求",
            "物料",
            "求购塑料粒子",
            "",
            "5",
            "吨",
            "",
            "",
        ],
    ];
    let job = app
        .import("listings", &w.staff2.token, "text/csv", csv(&c_rows), false)
        .await;
    assert_eq!(job["created"], 1, "{job:#}");
}

#[tokio::test]
async fn exports_are_scoped_readable_and_import_back_unchanged() {
    let app = spawn_app().await;
    let w = app.world().await;
    let staff = &w.staff1.token;
    let rows = vec![
        listing_header(),
        vec![
            "E-1",
            w.a.uscc.as_str(),
            "供给",
            "设备",
            "数控车床机时共享",
            "",
            "3",
            "台",
            "",
            "2026-12-01",
        ],
        vec![
            "E-2",
            w.b.uscc.as_str(),
            "需求",
            "物料",
            "急需 ABS 粒子",
            "",
            "10",
            "吨",
            "紧急",
            "",
        ],
    ];
    let job = app
        .import("listings", staff, "text/csv", csv(&rows), false)
        .await;
    assert_eq!(job["created"], 2, "{job:#}");
    // A listing of the other community, which must not be exported.
    app.create_listing(&w.c.admin, &space_offer("灵峰社区厂房出租"))
        .await;

    let (status, ct, bytes) = app
        .download("/api/v1/staff/exports/listings?format=xlsx", staff)
        .await;
    assert_eq!((status, ct.as_str()), (200, XLSX));
    let (header, data) = read_xlsx(&bytes);
    assert_eq!(
        &header[..5],
        ["编号", "统一社会信用代码", "企业名称", "供需", "类别"]
    );
    assert_eq!(data.len(), 2, "{data:?}");
    let e2 = data.iter().find(|r| r[0] == "E-2").expect("E-2 exported");
    assert_eq!(
        (e2[3].as_str(), e2[4].as_str(), e2[5].as_str()),
        ("需求", "物料", "急需 ABS 粒子")
    );
    assert!(!data.iter().any(|r| r.iter().any(|c| c.contains("灵峰"))));

    // The export, as it is, imports back with nothing to change.
    let run = app
        .upload("/api/v1/staff/imports/listings/dry-run", staff, XLSX, bytes)
        .await;
    let run = run.expect(200).clone();
    assert_eq!(
        run["counts"],
        json!({"create": 0, "update": 0, "unchanged": 2, "error": 0}),
        "{run:#}"
    );
    assert_eq!(
        run["ignored_columns"],
        json!(["状态", "系统编号", "发布时间"])
    );

    let (status, ct, bytes) = app
        .download("/api/v1/staff/exports/listings?format=csv", staff)
        .await;
    assert_eq!((status, ct.as_str()), (200, "text/csv; charset=utf-8"));
    let text = String::from_utf8(bytes.clone()).expect("utf-8");
    assert!(text.starts_with("\u{feff}编号,"));
    let run = app
        .upload(
            "/api/v1/staff/imports/listings/dry-run",
            staff,
            "text/csv",
            bytes,
        )
        .await;
    assert_eq!(run.expect(200)["counts"]["unchanged"], 2);

    let (_, _, bytes) = app.download("/api/v1/staff/exports/firms", staff).await;
    let (header, data) = read_xlsx(&bytes);
    assert_eq!(header[..2], ["企业名称", "统一社会信用代码"]);
    let usccs: Vec<&str> = data.iter().map(|r| r[1].as_str()).collect();
    assert!(usccs.contains(&w.a.uscc.as_str()) && usccs.contains(&w.b.uscc.as_str()));
    assert!(!usccs.contains(&w.c.uscc.as_str()));

    let (_, _, bytes) = app.download("/api/v1/staff/exports/cases", staff).await;
    let (header, data) = read_xlsx(&bytes);
    assert_eq!(header[0], "工单编号");
    assert_eq!(data.len(), 1, "the emergency request's case");
    assert_eq!(data[0][3], "急需 ABS 粒子");

    let (status, _, bytes) = app
        .download("/api/v1/staff/exports/stats?format=xlsx", staff)
        .await;
    assert_eq!(status, 200);
    let book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).expect("stats xlsx");
    assert_eq!(book.sheet_names(), ["概览", "分类", "每日"]);
    let (status, _, bytes) = app
        .download("/api/v1/staff/exports/stats?format=csv", staff)
        .await;
    assert_eq!(status, 200);
    assert!(
        String::from_utf8(bytes)
            .expect("utf-8")
            .contains("metric,kind,side,value")
    );

    // The other community's staff see their own; nobody reaches across.
    let (_, _, bytes) = app
        .download("/api/v1/staff/exports/listings", &w.staff2.token)
        .await;
    let (_, data) = read_xlsx(&bytes);
    assert_eq!(data.len(), 1);
    assert_eq!(data[0][5], "灵峰社区厂房出租");
    let r = app
        .get(
            &format!("/api/v1/staff/exports/listings?community_id={}", w.c2),
            staff,
        )
        .await;
    r.expect_problem(403, "forbidden");
    let r = app
        .get("/api/v1/staff/exports/firms", &w.a.admin.token)
        .await;
    r.expect_problem(403, "forbidden");
    let r = app.get("/api/v1/staff/exports/firms", &w.admin.token).await;
    assert_eq!(r.expect_invalid(), ["community_id"]);
    let r = app
        .get(
            &format!("/api/v1/staff/exports/firms?community_id={}", w.c2),
            &w.admin.token,
        )
        .await;
    r.expect(200);
    let r = app.get("/api/v1/staff/exports/matches", staff).await;
    r.expect_problem(404, "not_found");
    let r = app
        .get("/api/v1/staff/exports/firms?format=pdf", staff)
        .await;
    assert_eq!(r.expect_invalid(), ["format"]);
}

#[tokio::test]
async fn templates_limits_and_bad_files_are_clear_4xx() {
    let app = spawn_app().await;
    let w = app.world().await;
    let staff = &w.staff1.token;

    for kind in ["firms", "listings"] {
        let (status, ct, bytes) = app
            .download(&format!("/api/v1/staff/imports/{kind}/template"), staff)
            .await;
        assert_eq!((status, ct.as_str()), (200, XLSX));
        let (header, data) = read_xlsx(&bytes);
        assert!(data.is_empty());
        assert!(
            header
                .iter()
                .any(|h| h == "统一社会信用代码" || h == "统一社会信用代码*")
        );
        // The template, filled in as it is, passes the header check.
        let (status, ct, bytes) = app
            .download(
                &format!("/api/v1/staff/imports/{kind}/template?format=csv"),
                staff,
            )
            .await;
        assert_eq!((status, ct.as_str()), (200, "text/csv; charset=utf-8"));
        let run = app
            .upload(
                &format!("/api/v1/staff/imports/{kind}/dry-run"),
                staff,
                "text/csv",
                bytes,
            )
            .await;
        assert_eq!(run.expect(200)["total_rows"], 0);
    }
    let path = "/api/v1/staff/imports/listings/dry-run";
    let big = vec![b'a'; 5 * 1024 * 1024 + 1];
    app.upload(path, staff, "text/csv", big)
        .await
        .expect_problem(413, "payload_too_large");
    app.upload(path, staff, XLSX, b"PK\x03\x04 not a workbook".to_vec())
        .await
        .expect_problem(422, "sheet_unreadable");
    app.upload(path, staff, "image/png", b"\x89PNG".to_vec())
        .await
        .expect_problem(415, "unsupported_media_type");
    let r = app
        .upload(
            path,
            staff,
            "text/csv",
            "编号,供需,类别\nX,供给,设备\n".as_bytes().to_vec(),
        )
        .await;
    r.expect_problem(422, "sheet_invalid");
    assert_fields(&r.fields(), &["columns.标题", "columns.统一社会信用代码"]);
    let r = app.upload(path, staff, "text/csv", Vec::new()).await;
    r.expect_problem(422, "sheet_invalid");
    let mut many = String::from("编号,企业名称,供需,类别,标题\n");
    for i in 0..5001 {
        many.push_str(&format!("K{i},某公司,供给,设备,叉车出租\n"));
    }
    let r = app.upload(path, staff, "text/csv", many.into_bytes()).await;
    r.expect_problem(422, "sheet_invalid");
    assert_eq!(r.field_code("file").as_deref(), Some("too_many_rows"));
    app.upload(
        "/api/v1/staff/imports/cases/dry-run",
        staff,
        "text/csv",
        b"a\n".to_vec(),
    )
    .await
    .expect_problem(404, "not_found");
    let r = app
        .upload(
            "/api/v1/staff/imports/firms?file_name=a%0Ab",
            staff,
            "text/csv",
            b"a\n".to_vec(),
        )
        .await;
    r.expect_problem(422, "validation_failed");
    app.get("/api/v1/staff/import-jobs/nope", staff)
        .await
        .expect_problem(404, "not_found");
    // A platform admin names the community.
    let r = app
        .upload(
            "/api/v1/staff/imports/firms/dry-run",
            &w.admin.token,
            "text/csv",
            b"a\n".to_vec(),
        )
        .await;
    assert_eq!(r.expect_invalid(), ["community_id"]);
    let r = app
        .upload(
            &format!("/api/v1/staff/imports/firms/dry-run?community_id={}", w.c2),
            &w.admin.token,
            "text/csv",
            format!("企业名称,统一社会信用代码\n新公司,{}\n", valid_uscc()).into_bytes(),
        )
        .await;
    assert_eq!(r.expect(200)["counts"]["create"], 1);
}
