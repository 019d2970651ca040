//! The outcome log: every contact, decline, agreement and completion of a
//! match is recorded with the factor values it showed, in the transaction
//! of the move; and `zhiqilian tune` on a recorded log writes weights only
//! when they are better.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};
use zhiqilian::store::matches::MatchRecord;
use zhiqilian::store::models::MatchOutcomeRow;
use zhiqilian_matcher::{MatchOutcome, MatchStatus, Urgency, Weights, factor_keys};

use crate::helpers::*;

async fn post(app: &TestApp, by: &Session, body: Value) -> String {
    let r = app
        .post("/api/v1/listings?wait=indexed", &by.token, &body)
        .await;
    id_of(r.expect(201))
}

fn compressor(side: &str, title: &str) -> Value {
    let mut v = json!({"side": side, "kind": "equipment", "title": title,
                       "attributes": {"equipment_type": "空压机", "mode": "出租"}});
    if side == "request" {
        v["urgency"] = json!("emergency");
    }
    v
}

async fn log_of(app: &TestApp, match_id: &str) -> Vec<MatchOutcomeRow> {
    let id = match_id.to_string();
    app.db()
        .run(move |c| zhiqilian::store::outcomes::of_match(c, &id))
        .await
        .expect("read the outcome log")
}

fn outcomes(rows: &[MatchOutcomeRow]) -> Vec<MatchOutcome> {
    rows.iter().map(|r| r.outcome).collect()
}

/// The factor values a match record shows, as the log keeps them.
fn shown_values(record: &Value) -> BTreeMap<String, f64> {
    record["factors"]
        .as_array()
        .expect("factors")
        .iter()
        .map(|f| {
            (
                f["key"].as_str().expect("key").to_string(),
                f["value"].as_f64().expect("value"),
            )
        })
        .collect()
}

#[tokio::test]
async fn contact_decline_agreement_and_completion_are_recorded_with_their_factors() {
    let app = spawn_app().await;
    let w = app.world().await;
    let d = app.verified_firm(&w.c1, &w.admin).await;
    let o1 = post(
        &app,
        &w.b.admin,
        compressor("offer", "空压机出租 37kW 螺杆式"),
    )
    .await;
    let o2 = post(
        &app,
        &w.c.admin,
        compressor("offer", "螺杆空压机 22kW 出租"),
    )
    .await;
    let o3 = post(&app, &d.admin, compressor("offer", "空压机 45kW 可短租")).await;
    let request = post(
        &app,
        &w.a.admin,
        compressor("request", "急租空压机 产线停了"),
    )
    .await;

    let mut records = Vec::new();
    for _ in 0..100 {
        records = app
            .all_pages(
                &format!("/api/v1/matches?listing={request}"),
                &w.a.admin.token,
            )
            .await;
        if records.len() >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(records.len(), 3, "{records:#?}");
    let of = |offer: &str| {
        id_of(
            records
                .iter()
                .find(|r| r["offer"]["id"] == offer)
                .unwrap_or_else(|| panic!("no record of {offer}")),
        )
    };
    let (m1, m2, m3) = (of(&o1), of(&o2), of(&o3));
    for m in [&m1, &m2, &m3] {
        assert!(
            log_of(&app, m).await.is_empty(),
            "a suggestion is no outcome"
        );
    }
    let patch = |s: &str| json!({ "status": s });

    // The requesting firm contacts one match; asking again changes nothing.
    let path1 = format!("/api/v1/matches/{m1}");
    app.patch(&path1, &w.a.admin.token, &patch("contacted"))
        .await
        .expect(200);
    app.patch(&path1, &w.a.admin.token, &patch("contacted"))
        .await
        .expect(200);
    assert_eq!(
        outcomes(&log_of(&app, &m1).await),
        [MatchOutcome::Contacted]
    );

    // The offering firm of another declines it; a refused move records nothing.
    let path2 = format!("/api/v1/matches/{m2}");
    app.patch(&path2, &w.c.admin.token, &patch("declined"))
        .await
        .expect(200);
    app.patch(&path2, &w.c.admin.token, &patch("contacted"))
        .await
        .expect_problem(409, "invalid_transition");
    assert_eq!(outcomes(&log_of(&app, &m2).await), [MatchOutcome::Declined]);

    // An agreement confirmed, then delivered.
    let agreement = app.agree(&m1, &w.a.admin, &w.b.admin).await;
    assert_eq!(
        outcomes(&log_of(&app, &m1).await),
        [MatchOutcome::Contacted, MatchOutcome::Agreed]
    );
    let aid = id_of(&agreement);
    app.post_empty(
        &format!("/api/v1/agreements/{aid}/complete"),
        &w.a.admin.token,
    )
    .await
    .expect(200);
    app.post_empty(
        &format!("/api/v1/agreements/{aid}/complete"),
        &w.b.admin.token,
    )
    .await
    .expect_problem(409, "invalid_transition");
    assert_eq!(
        outcomes(&log_of(&app, &m1).await),
        [
            MatchOutcome::Contacted,
            MatchOutcome::Agreed,
            MatchOutcome::Completed
        ]
    );

    // Staff brokering the third offer for the emergency is a contact too.
    let queue = app
        .get(
            "/api/v1/staff/queue?status=active&limit=100",
            &w.staff1.token,
        )
        .await;
    let case = queue.expect(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|k| k["listing"]["id"] == request.as_str())
        .cloned()
        .expect("the request's case");
    let kid = id_of(&case);
    app.post_empty(&format!("/api/v1/staff/cases/{kid}/claim"), &w.staff1.token)
        .await
        .expect(200);
    app.post(
        &format!("/api/v1/staff/cases/{kid}/broker"),
        &w.staff1.token,
        &json!({"offer_ids": [o3]}),
    )
    .await
    .expect(200);
    assert_eq!(
        outcomes(&log_of(&app, &m3).await),
        [MatchOutcome::Contacted]
    );

    // Each entry holds the match, its listings, the request's urgency, the
    // score and the factor values the match shows — and nobody's name or firm.
    let firm_ids = [&w.a.id, &w.b.id, &w.c.id, &d.id];
    for (m, offer) in [(&m1, &o1), (&m2, &o2), (&m3, &o3)] {
        let shown = app
            .get(&format!("/api/v1/matches/{m}"), &w.a.admin.token)
            .await
            .expect(200)
            .clone();
        assert_ne!(shown["status"], "suggested");
        let values = shown_values(&shown);
        assert!(
            values.contains_key(factor_keys::TEXT_RELEVANCE),
            "{values:?}"
        );
        for e in log_of(&app, m).await {
            assert_eq!(
                (&e.match_id, &e.request_id, &e.offer_id),
                (m, &request, offer)
            );
            assert_eq!(e.urgency, Urgency::Emergency);
            // (JSON parsing may differ from the stored number in the last bit.)
            let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
            assert!(close(e.score, shown["score"].as_f64().expect("score")));
            let logged: BTreeMap<String, f64> =
                serde_json::from_str(&e.factors).expect("factor values");
            assert_eq!(
                logged.keys().collect::<Vec<_>>(),
                values.keys().collect::<Vec<_>>()
            );
            for (k, v) in &logged {
                assert!(close(*v, values[k]), "{k}: {v} against {}", values[k]);
            }
            for f in firm_ids {
                assert!(!format!("{e:?}").contains(f.as_str()), "{e:?}");
            }
        }
    }

    // Three recorded matches of one request are far too few to tune on:
    // the command says so and writes nothing.
    let out = app.data_dir().join("weights.toml");
    let (code, stdout, stderr) = tune(
        &app,
        &["--out", out.to_str().expect("path"), "--eval-data", DEV],
    );
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stderr.contains("too few outcomes"), "{stderr}");
    assert!(!out.exists());
}

// ----------------------------------------------------------- zhiqilian tune

const DEV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../eval/dev");

/// Runs `zhiqilian tune` on the app's database: (exit code, stdout, stderr).
fn tune(app: &TestApp, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zhiqilian"))
        .arg("tune")
        .args(args)
        .env("ZQL_DATA_DIR", app.data_dir())
        .env("ZQL_DATABASE_URL", &app.database_url)
        .env_remove("ZQL_CONFIG")
        .env_remove("ZQL_MATCHER_WEIGHTS")
        .env_remove("ZQL_VOCAB_DIR")
        .current_dir(app.data_dir())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run zhiqilian tune");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A deterministic random stream in [0, 1).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

const SHOWN: [&str; 5] = [
    factor_keys::TEXT_RELEVANCE,
    factor_keys::SPEC_FIT,
    factor_keys::QUANTITY,
    factor_keys::DISTANCE,
    factor_keys::VERIFIED,
];

/// Records a simulated log through the service's own writer: `requests`
/// requests, each with five matches; the firm contacts the two it likes
/// best by `prefer` (the weighted mean of the factor values shown) and
/// declines the two it likes least, agreeing on the best one now and then.
/// With `prefer` `None` it acts at random.
async fn record_log(app: &TestApp, requests: usize, seed: u64, prefer: Option<Weights>) {
    app.db()
        .run(move |c| {
            let mut rng = Lcg(seed);
            let weight = |w: &Weights, k: &str| {
                serde_json::to_value(w).expect("weights")[k]
                    .as_f64()
                    .expect("weight")
            };
            for r in 0..requests {
                let shown: Vec<Vec<(&str, f64)>> = (0..5)
                    .map(|_| SHOWN.iter().map(|k| (*k, rng.next())).collect())
                    .collect();
                let utility: Vec<f64> = shown
                    .iter()
                    .map(|f| match &prefer {
                        Some(w) => {
                            let num: f64 = f.iter().map(|(k, v)| weight(w, k) * v).sum();
                            let den: f64 = f.iter().map(|(k, _)| weight(w, k)).sum();
                            num / den + 0.01 * (rng.next() - 0.5)
                        }
                        None => rng.next(),
                    })
                    .collect();
                let mut order: Vec<usize> = (0..5).collect();
                order.sort_by(|a, b| utility[*b].total_cmp(&utility[*a]));
                let agree = rng.next() < 0.4;
                let record = |i: usize| {
                    let factors: Vec<Value> = shown[i]
                        .iter()
                        .map(
                            |(k, v)| json!({"key": k, "value": v, "weight": 1.0, "reason_zh": "…"}),
                        )
                        .collect();
                    MatchRecord {
                        id: format!("m{r}-{i}"),
                        request_id: format!("r{r}"),
                        offer_id: format!("o{r}-{i}"),
                        request_firm_id: "f".into(),
                        offer_firm_id: "g".into(),
                        request_community_id: "c".into(),
                        offer_community_id: "c".into(),
                        score: 0.5,
                        partial: false,
                        factors: Value::from(factors).to_string(),
                        status: MatchStatus::Contacted,
                        created_at: zhiqilian::store::now(),
                        updated_at: zhiqilian::store::now(),
                        agreed_at: None,
                        request_agreed_at: None,
                        request_agreed_by: None,
                        offer_agreed_at: None,
                        offer_agreed_by: None,
                    }
                };
                let mut moves = vec![
                    (order[0], MatchOutcome::Contacted),
                    (order[1], MatchOutcome::Contacted),
                    (order[4], MatchOutcome::Declined),
                    (order[3], MatchOutcome::Declined),
                ];
                if agree {
                    moves.push((order[0], MatchOutcome::Agreed));
                }
                for (i, outcome) in moves {
                    zhiqilian::service::outcomes::record_in(c, &record(i), outcome)?;
                }
            }
            Ok(())
        })
        .await
        .expect("record the log");
}

fn read_weights(path: &Path) -> Weights {
    toml::from_str(&std::fs::read_to_string(path).expect("weights file")).expect("weights")
}

#[tokio::test]
async fn tune_writes_weights_that_follow_the_firms_only_when_they_are_better() {
    let app = database_only().await;
    let current = Weights::default();
    let hidden = Weights {
        distance: 2.0 * current.distance,
        ..Weights::default()
    };
    record_log(&app, 300, 42, Some(hidden.clone())).await;
    let out = app.data_dir().join("tuned").join("weights.toml");
    let out_arg = out.to_str().expect("path");

    // Better on held-out outcomes, but firms that weigh distance this much
    // pull away from what the labelled set calls a good match: its
    // figures drop beyond the default tolerance, so nothing is written.
    let (code, stdout, stderr) = tune(&app, &["--out", out_arg, "--eval-data", DEV]);
    println!("{stdout}\n{stderr}");
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("not written: the tuned weights lower"),
        "{stdout}"
    );
    assert!(stdout.contains("(tolerance 0.01)"), "{stdout}");
    assert!(!out.exists());

    // Past a tolerance that lets them through, a dry run fits and checks,
    // and writes nothing.
    let (code, stdout, stderr) = tune(
        &app,
        &[
            "--out",
            out_arg,
            "--eval-data",
            DEV,
            "--tolerance",
            "1",
            "--dry-run",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stderr.contains("reading the outcome log: 1"), "{stderr}");
    assert!(
        stderr.contains("comparable pairs in 300 listings"),
        "{stderr}"
    );
    assert!(stdout.contains("dry run: would write"), "{stdout}");
    assert!(!out.exists());

    // Written: distance gains on the factors the firms weighed less.
    let (code, stdout, stderr) = tune(
        &app,
        &["--out", out_arg, "--eval-data", DEV, "--tolerance", "1"],
    );
    println!("{stdout}\n{stderr}");
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("written"), "{stdout}");
    assert!(stdout.contains("nDCG@5"), "{stdout}");
    let tuned = read_weights(&out);
    let ratio = |w: &Weights| w.distance / (w.text_relevance + w.spec_fit + w.quantity);
    assert!(
        ratio(&tuned) > ratio(&current) + 0.4 * (ratio(&hidden) - ratio(&current)),
        "{tuned:?}"
    );
    assert_eq!(tuned.distance_scale_km, current.distance_scale_km);
    let text = std::fs::read_to_string(&out).expect("file");
    assert!(
        text.starts_with("# Matcher weights fitted by `zhiqilian tune`"),
        "{text}"
    );

    // With the tuned weights in force the same log has nothing more to
    // give: kept, exit status 3, the file untouched and no backup made.
    let before = std::fs::read_to_string(&out).expect("file");
    let (code, stdout, stderr) = {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_zhiqilian"));
        let o = c
            .args(["tune", "--eval-data", DEV])
            .env("ZQL_DATA_DIR", app.data_dir())
            .env("ZQL_DATABASE_URL", &app.database_url)
            .env("ZQL_MATCHER_WEIGHTS", &out)
            .env_remove("ZQL_CONFIG")
            .output()
            .expect("run");
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    println!("{stdout}\n{stderr}");
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("current weights: {}", out.display())),
        "{stderr}"
    );
    assert!(stdout.contains("not written"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&out).expect("file"), before);
}

#[tokio::test]
async fn tune_on_a_log_of_noise_writes_nothing() {
    let app = database_only().await;
    record_log(&app, 200, 7, None).await;
    let out = app.data_dir().join("weights.toml");
    let (code, stdout, stderr) = tune(
        &app,
        &["--out", out.to_str().expect("path"), "--eval-data", DEV],
    );
    println!("{stdout}\n{stderr}");
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("not written: the tuned weights are not clearly better"),
        "{stdout}"
    );
    assert!(!out.exists());

    // Without a file to write to, or with a set that is not there, it
    // stops before reading anything.
    let (code, _, stderr) = tune(&app, &["--eval-data", DEV]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("no file to write the weights to"),
        "{stderr}"
    );
    let (code, _, stderr) = tune(
        &app,
        &[
            "--out",
            out.to_str().expect("path"),
            "--eval-data",
            "/nonexistent/set",
        ],
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("/nonexistent/set"), "{stderr}");
    let (code, _, stderr) = tune(
        &app,
        &["--out", out.to_str().expect("path"), "--tolerance", "2"],
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("--tolerance"), "{stderr}");
}
