//! Crash safety, shared by the integration test (`tests/crash.rs`, a few
//! cycles in CI) and `crash-bench` (`bench/crash.sh`, many trials on both
//! backends): mixed write traffic against a server that is killed while it
//! runs, a record of every write the server acknowledged, and the checks
//! that all of it survived the restart with its content.
//!
//! Traffic: three firms create listings (firm b's requests, some of them
//! emergencies that open staff cases; firms a and c offers), two post chat
//! messages in one thread, firm b moves its match suggestions to
//! `contacted` and then `declined`, and the community's staff claim and
//! resolve the cases. An answer counts as acknowledged once it arrived
//! whole with a 2xx status.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::api::{Api, Res};

/// The word every listing of the traffic carries, to find them by search.
pub const MARK: &str = "zqcrash";

/// Who writes: access tokens and the thread the firms chat in.
#[derive(Debug, Clone)]
pub struct Actors {
    /// A platform admin (reads everything).
    pub admin: String,
    /// Admins of firms a and b (community 1) and c (community 2).
    pub firms: [String; 3],
    /// Staff of community 1 (firm b's, where its emergencies open cases).
    pub staff: String,
    /// A thread between firms a and b.
    pub thread: String,
}

/// An acknowledged listing.
#[derive(Debug, Clone)]
pub struct AckedListing {
    pub title: String,
    pub side: &'static str,
    /// 0, 1, 2: firm a, b, c.
    pub firm: usize,
    pub sent: Instant,
    pub acked: Instant,
}

/// What the server acknowledged, and what it did not.
#[derive(Debug, Default, Clone)]
pub struct Acked {
    pub listings: BTreeMap<String, AckedListing>,
    /// Message id → (client_msg_id, text).
    pub messages: BTreeMap<String, (String, String)>,
    /// Match record id → the last status acknowledged.
    pub matches: BTreeMap<String, String>,
    /// Case id → the last status acknowledged.
    pub cases: BTreeMap<String, String>,
    /// Acknowledged match status changes and case actions.
    pub status_changes: usize,
    /// Answers that were neither 2xx, 429 nor a cut connection.
    pub refused: Vec<String>,
    /// 429 answers (retried later; not an error).
    pub throttled: usize,
    /// Requests whose connection broke after it was made: cut in flight.
    pub cut: usize,
    /// Connections refused (the server was down).
    pub unreachable: usize,
}

impl Acked {
    /// Acknowledged writes: listings, messages and status changes.
    pub fn writes(&self) -> usize {
        self.listings.len() + self.messages.len() + self.status_changes
    }
}

/// How one request ended.
enum Outcome {
    Ok(Value),
    Refused(String),
    Throttled,
    Cut,
    Unreachable,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("http client")
}

async fn send(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<&Value>,
) -> Outcome {
    let mut req = http.request(method.clone(), &url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(b);
    }
    let r = match req.send().await {
        Ok(r) => r,
        Err(e) if e.is_connect() => return Outcome::Unreachable,
        Err(_) => return Outcome::Cut,
    };
    let status = r.status();
    // An answer counts once its body arrived whole.
    let Ok(answer) = r.json::<Value>().await else {
        return Outcome::Cut;
    };
    if status.is_success() {
        Outcome::Ok(answer)
    } else if status.as_u16() == 429 {
        Outcome::Throttled
    } else {
        Outcome::Refused(format!("{method} {url} → {status}: {answer}"))
    }
}

/// Records the failures of `o` and returns its answer if acknowledged.
fn note(acked: &Mutex<Acked>, o: Outcome) -> Option<Value> {
    let mut a = acked.lock().expect("acked");
    match o {
        Outcome::Ok(v) => return Some(v),
        Outcome::Refused(s) => a.refused.push(s),
        Outcome::Throttled => a.throttled += 1,
        Outcome::Cut => a.cut += 1,
        Outcome::Unreachable => a.unreachable += 1,
    }
    None
}

/// Running traffic; `stop` ends it.
pub struct Traffic {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

fn pause_after(failed: bool) -> Duration {
    if failed {
        Duration::from_millis(20)
    } else {
        Duration::ZERO
    }
}

/// Starts the traffic against `base`; `trial` makes titles and message ids
/// unique across runs.
pub fn start(base: &str, who: &Actors, trial: usize, acked: &Arc<Mutex<Acked>>) -> Traffic {
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    let base = base.trim_end_matches('/').to_string();
    for n in 0..3 {
        let (base, token, stop, acked) = (
            base.clone(),
            who.firms[n].clone(),
            stop.clone(),
            acked.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let http = client();
            let side = if n == 1 { "request" } else { "offer" };
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                let title = format!("叉车 {MARK} t{trial}w{n}n{i}");
                // Every fourth request of firm b is an emergency: a case.
                let urgency = if n == 1 && i % 4 == 0 {
                    "emergency"
                } else {
                    "normal"
                };
                let body = json!({
                    "side": side, "kind": "equipment", "title": title,
                    "description": "五吨叉车，夜班可用。", "visibility": "public",
                    "urgency": urgency,
                });
                let sent = Instant::now();
                let o = send(
                    &http,
                    reqwest::Method::POST,
                    format!("{base}/api/v1/listings"),
                    &token,
                    Some(&body),
                )
                .await;
                let answer = note(&acked, o);
                if let Some(v) = &answer {
                    let id = v["id"].as_str().unwrap_or_default().to_string();
                    let l = AckedListing {
                        title,
                        side,
                        firm: n,
                        sent,
                        acked: Instant::now(),
                    };
                    acked.lock().expect("acked").listings.insert(id, l);
                }
                tokio::time::sleep(pause_after(answer.is_none())).await;
            }
        }));
    }
    for n in 0..2 {
        let (base, token, stop, acked, thread) = (
            base.clone(),
            who.firms[n].clone(),
            stop.clone(),
            acked.clone(),
            who.thread.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let http = client();
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                let cmid = format!("t{trial}w{n}n{i}");
                let text = format!("第{trial}轮 {n} 号 第{i}条：叉车明早八点到");
                let body = json!({ "client_msg_id": cmid, "text": text });
                let o = send(
                    &http,
                    reqwest::Method::POST,
                    format!("{base}/api/v1/threads/{thread}/messages"),
                    &token,
                    Some(&body),
                )
                .await;
                let answer = note(&acked, o);
                if let Some(v) = &answer {
                    let id = v["id"].as_str().unwrap_or_default().to_string();
                    acked
                        .lock()
                        .expect("acked")
                        .messages
                        .insert(id, (cmid, text));
                }
                tokio::time::sleep(pause_after(answer.is_none())).await;
            }
        }));
    }
    // Firm b answers its suggestions: contacted, then declined.
    {
        let (base, token, stop, acked) = (
            base.clone(),
            who.firms[1].clone(),
            stop.clone(),
            acked.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let http = client();
            let steps = ["contacted", "declined"];
            step_loop(&http, &stop, &token, |http, token| {
                let base = base.clone();
                let acked = acked.clone();
                async move {
                    let http = &http;
                    let list = send(
                        http,
                        reqwest::Method::GET,
                        format!("{base}/api/v1/matches?status=suggested&limit=5"),
                        &token,
                        None,
                    )
                    .await;
                    let Some(page) = note(&acked, list) else {
                        return false;
                    };
                    let Some(id) = page["items"][0]["id"].as_str().map(String::from) else {
                        return false;
                    };
                    for to in steps {
                        let o = send(
                            http,
                            reqwest::Method::PATCH,
                            format!("{base}/api/v1/matches/{id}"),
                            &token,
                            Some(&json!({ "status": to })),
                        )
                        .await;
                        if note(&acked, o).is_none() {
                            return false;
                        }
                        let mut a = acked.lock().expect("acked");
                        a.matches.insert(id.clone(), to.to_string());
                        a.status_changes += 1;
                    }
                    true
                }
            })
            .await;
        }));
    }
    // Staff claim the open cases and resolve them.
    {
        let (base, token, stop, acked) = (base, who.staff.clone(), stop.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            let http = client();
            step_loop(&http, &stop, &token, |http, token| {
                let base = base.clone();
                let acked = acked.clone();
                async move {
                    let http = &http;
                    let list = send(
                        http,
                        reqwest::Method::GET,
                        format!("{base}/api/v1/staff/queue?status=open&limit=5"),
                        &token,
                        None,
                    )
                    .await;
                    let Some(page) = note(&acked, list) else {
                        return false;
                    };
                    let Some(id) = page["items"][0]["id"].as_str().map(String::from) else {
                        return false;
                    };
                    let steps = [
                        ("claim", "claimed", json!({})),
                        (
                            "resolve",
                            "resolved",
                            json!({ "outcome": "solved", "note": "已协调叉车" }),
                        ),
                    ];
                    for (action, status, body) in steps {
                        let o = send(
                            http,
                            reqwest::Method::POST,
                            format!("{base}/api/v1/staff/cases/{id}/{action}"),
                            &token,
                            Some(&body),
                        )
                        .await;
                        if note(&acked, o).is_none() {
                            return false;
                        }
                        let mut a = acked.lock().expect("acked");
                        a.cases.insert(id.clone(), status.to_string());
                        a.status_changes += 1;
                    }
                    true
                }
            })
            .await;
        }));
    }
    Traffic { stop, tasks }
}

/// Runs `step` until stopped, pausing a little when it found nothing to do.
async fn step_loop<F, Fut>(http: &reqwest::Client, stop: &AtomicBool, token: &str, step: F)
where
    F: Fn(reqwest::Client, String) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    while !stop.load(Ordering::SeqCst) {
        if !step(http.clone(), token.to_string()).await {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Traffic {
    pub async fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.tasks {
            t.await.expect("client task");
        }
    }
}

/// Waits until at least `listings` listings and `messages` messages more
/// than `before` have been acknowledged (false after `within`).
pub async fn wait_acked(
    acked: &Mutex<Acked>,
    before: (usize, usize),
    want: (usize, usize),
    within: Duration,
) -> bool {
    let deadline = Instant::now() + within;
    loop {
        let (l, m) = {
            let a = acked.lock().expect("acked");
            (a.listings.len(), a.messages.len())
        };
        if l >= before.0 + want.0 && m >= before.1 + want.1 {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ---------------------------------------------------------------- checks

/// What a check after a restart found. Every list names the lost or
/// altered items; all empty means nothing acknowledged was lost.
#[derive(Debug, Default, Clone)]
pub struct Check {
    pub lost_listings: Vec<String>,
    pub altered_listings: Vec<String>,
    pub lost_messages: Vec<String>,
    pub altered_messages: Vec<String>,
    /// The thread's seqs when they are not 1..=n.
    pub seq_gaps: Option<String>,
    pub lost_match_status: Vec<String>,
    pub lost_case_actions: Vec<String>,
    /// Acknowledged listings search did not find within the catch-up time.
    pub not_searchable: Vec<String>,
    /// Acknowledged listings with a counterpart but no match record within
    /// the catch-up time.
    pub unmatched: Vec<String>,
    /// Seconds until search and matching had caught up.
    pub caught_up_secs: f64,
    /// Listings the platform admin can list, in all.
    pub listings_total: usize,
}

impl Check {
    /// Acknowledged writes lost or altered (search and matching lag aside).
    pub fn lost(&self) -> usize {
        self.lost_listings.len()
            + self.altered_listings.len()
            + self.lost_messages.len()
            + self.altered_messages.len()
            + self.lost_match_status.len()
            + self.lost_case_actions.len()
    }

    pub fn is_clean(&self) -> bool {
        self.lost() == 0
            && self.seq_gaps.is_none()
            && self.not_searchable.is_empty()
            && self.unmatched.is_empty()
    }

    /// A readable account of every problem found (empty when clean).
    pub fn problems(&self) -> String {
        let mut out = Vec::new();
        let mut list = |what: &str, v: &[String]| {
            if !v.is_empty() {
                let shown: Vec<&str> = v.iter().take(20).map(String::as_str).collect();
                out.push(format!("{} {what}: {}", v.len(), shown.join(", ")));
            }
        };
        list("acknowledged listings lost", &self.lost_listings);
        list("listings stored with other content", &self.altered_listings);
        list("acknowledged messages lost", &self.lost_messages);
        list("messages stored with other content", &self.altered_messages);
        list("acknowledged match statuses lost", &self.lost_match_status);
        list("acknowledged case actions lost", &self.lost_case_actions);
        list("listings not searchable", &self.not_searchable);
        list(
            "listings with a counterpart but no match record",
            &self.unmatched,
        );
        if let Some(g) = &self.seq_gaps {
            out.push(format!("message seqs not gapless: {g}"));
        }
        out.join("\n")
    }
}

/// Every item of a cursor-paged list.
pub async fn all_pages(api: &Api, path: &str, token: &str) -> Res<Vec<Value>> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}{sep}cursor={c}"),
            None => path.to_string(),
        };
        let page = api
            .call(reqwest::Method::GET, &url, Some(token), None)
            .await?;
        if let Some(a) = page["items"].as_array() {
            items.extend(a.iter().cloned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return Ok(items),
        }
    }
}

fn rank(status: &str) -> i32 {
    match status {
        "open" | "suggested" => 0,
        "claimed" | "contacted" => 1,
        "brokered" => 2,
        "resolved" | "declined" | "agreed" => 3,
        _ => -1,
    }
}

/// Checks the store against `acked`: content at once, then search and
/// (with `matching`) match records, polled until they caught up or
/// `catch_up` passed. (A restarted node matches only once the killed one's
/// matching lease has lapsed, up to 30 s.)
pub async fn check(
    api: &Api,
    who: &Actors,
    acked: &Acked,
    catch_up: Duration,
    matching: bool,
) -> Res<Check> {
    let started = Instant::now();
    let mut c = Check::default();

    let listed = all_pages(api, "/api/v1/listings?limit=100", &who.admin).await?;
    c.listings_total = listed.len();
    let titles: HashMap<&str, &str> = listed
        .iter()
        .filter_map(|l| Some((l["id"].as_str()?, l["title"].as_str()?)))
        .collect();
    for (id, l) in &acked.listings {
        match titles.get(id.as_str()) {
            None => c.lost_listings.push(format!("{id} ({})", l.title)),
            Some(t) if *t != l.title => c
                .altered_listings
                .push(format!("{id}: acknowledged “{}”, stored “{t}”", l.title)),
            _ => {}
        }
    }

    let msgs = all_messages(api, &who.firms[0], &who.thread).await?;
    let stored: HashMap<&str, &Value> = msgs
        .iter()
        .filter_map(|m| Some((m["id"].as_str()?, m)))
        .collect();
    for (id, (cmid, text)) in &acked.messages {
        match stored.get(id.as_str()) {
            None => c.lost_messages.push(format!("{id} ({cmid})")),
            Some(m) if m["client_msg_id"] != *cmid || m["text"] != *text => {
                c.altered_messages.push(format!(
                    "{id}: acknowledged ({cmid}, “{text}”), stored ({}, {})",
                    m["client_msg_id"], m["text"]
                ))
            }
            _ => {}
        }
    }
    let seqs: Vec<i64> = msgs.iter().filter_map(|m| m["seq"].as_i64()).collect();
    if seqs.iter().enumerate().any(|(i, s)| *s != i as i64 + 1) {
        let first = seqs
            .iter()
            .enumerate()
            .find(|(i, s)| **s != *i as i64 + 1)
            .map(|(i, s)| format!("position {} holds seq {s}", i + 1))
            .unwrap_or_default();
        c.seq_gaps = Some(format!("{} messages, {first}", seqs.len()));
    }

    let cases: HashMap<String, String> = {
        let mut m = HashMap::new();
        for status in ["active", "resolved"] {
            for k in all_pages(
                api,
                &format!("/api/v1/staff/queue?status={status}&limit=100"),
                &who.staff,
            )
            .await?
            {
                if let (Some(id), Some(s)) = (k["id"].as_str(), k["status"].as_str()) {
                    m.insert(id.to_string(), s.to_string());
                }
            }
        }
        m
    };
    for (id, want) in &acked.cases {
        let got = cases.get(id).map(String::as_str).unwrap_or("missing");
        if rank(got) < rank(want) {
            c.lost_case_actions
                .push(format!("case {id}: acknowledged {want}, stored {got}"));
        }
    }

    // Search and matching, until they caught up.
    let deadline = started + catch_up;
    loop {
        let records = all_pages(api, "/api/v1/matches?limit=100", &who.admin).await?;
        let statuses: HashMap<&str, &str> = records
            .iter()
            .filter_map(|r| Some((r["id"].as_str()?, r["status"].as_str()?)))
            .collect();
        let in_records: HashSet<&str> = records
            .iter()
            .flat_map(|r| [r["request"]["id"].as_str(), r["offer"]["id"].as_str()])
            .flatten()
            .collect();
        c.lost_match_status.clear();
        for (id, want) in &acked.matches {
            let got = statuses.get(id.as_str()).copied().unwrap_or("missing");
            let kept = if rank(want) == 3 {
                got == want
            } else {
                rank(got) >= rank(want)
            };
            if !kept {
                c.lost_match_status
                    .push(format!("match {id}: acknowledged {want}, stored {got}"));
            }
        }
        c.unmatched = acked
            .listings
            .iter()
            .filter(|(id, l)| {
                matching && !in_records.contains(id.as_str()) && has_counterpart(acked, l)
            })
            .map(|(id, l)| format!("{id} ({})", l.title))
            .collect();
        let found: HashSet<String> = all_pages(
            api,
            &format!("/api/v1/listings/search?q={MARK}&limit=100"),
            &who.admin,
        )
        .await?
        .iter()
        .filter_map(|h| h["listing"]["id"].as_str().map(String::from))
        .collect();
        c.not_searchable = acked
            .listings
            .iter()
            .filter(|(id, _)| !found.contains(*id))
            .map(|(id, l)| format!("{id} ({})", l.title))
            .collect();
        if (c.unmatched.is_empty() && c.not_searchable.is_empty()) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    c.caught_up_secs = started.elapsed().as_secs_f64();
    Ok(c)
}

/// A listing has a counterpart when a listing of the other side, by
/// another firm, was acknowledged before it was sent: that one was
/// committed and indexed before this one's change, so matching this one
/// finds it and stores a record.
fn has_counterpart(acked: &Acked, l: &AckedListing) -> bool {
    acked
        .listings
        .values()
        .any(|o| o.side != l.side && o.firm != l.firm && o.acked < l.sent)
}

/// Every message of a thread, in seq order.
pub async fn all_messages(api: &Api, token: &str, thread: &str) -> Res<Vec<Value>> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = api
            .call(
                reqwest::Method::GET,
                &format!("/api/v1/threads/{thread}/messages?after_seq={after}&limit=200"),
                Some(token),
                None,
            )
            .await?;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        for m in &items {
            after = m["seq"].as_i64().ok_or("message without seq")?;
        }
        out.extend(items.iter().cloned());
        if !page["has_more"].as_bool().unwrap_or(false) || items.is_empty() {
            return Ok(out);
        }
    }
}

// ----------------------------------------------------------------- setup

/// Passwords of the actors, to sign in again (tokens last 15 minutes).
#[derive(Debug, Clone)]
pub struct Logins {
    pub admin: (String, String),
    pub firms: [String; 3],
    pub staff: String,
    pub password: String,
    pub thread: String,
}

impl Logins {
    pub async fn sign_in(&self, api: &Api) -> Res<Actors> {
        let mut firms = Vec::new();
        for l in &self.firms {
            firms.push(api.login(l, &self.password).await?);
        }
        Ok(Actors {
            admin: api.login(&self.admin.0, &self.admin.1).await?,
            firms: firms.try_into().map_err(|_| "three firms")?,
            staff: api.login(&self.staff, &self.password).await?,
            thread: self.thread.clone(),
        })
    }
}

/// Sets up through the API what the traffic needs, as the platform admin:
/// two communities, three verified firms (a and b in the first, c in the
/// second), a staff user of the first, and a thread of a and b.
pub async fn setup(api: &Api, admin_login: &str, admin_password: &str) -> Res<Logins> {
    let post = reqwest::Method::POST;
    let admin = api.login(admin_login, admin_password).await?;
    let password = "crash-Passw0rd".to_string();
    let tag = std::process::id() as u64 * 1000 + (chrono::Utc::now().timestamp() as u64 % 1000);
    let mut communities = Vec::new();
    for name in ["大港工业社区", "灵峰工业社区"] {
        let v = api
            .call(
                post.clone(),
                "/api/v1/communities",
                Some(&admin),
                Some(json!({ "name": name, "district": "北仑区", "lat": 29.93, "lon": 121.87 })),
            )
            .await?;
        communities.push(v["id"].as_str().ok_or("community id")?.to_string());
    }
    let mut firms = Vec::new();
    let mut firm_ids = Vec::new();
    for (n, community) in [&communities[0], &communities[0], &communities[1]]
        .into_iter()
        .enumerate()
    {
        let mut rng = crate::rng::Rng::new(tag * 10 + n as u64);
        let uscc = crate::firms::make_uscc(&mut rng, "330206", false);
        let login = format!("139{:08}", (tag * 10 + n as u64) % 100_000_000);
        let v = api
            .call(
                post.clone(),
                "/api/v1/firms/register",
                None,
                Some(json!({
                    "name": format!("甬港叉车服务{n}有限公司"), "uscc": uscc,
                    "community_id": community, "address": "宁波市北仑区新碶街道",
                    "lat": 29.9321, "lon": 121.8683,
                    "contact_name": "王经理", "contact_phone": "0574-86881234",
                    "admin": { "login": login, "password": password, "display_name": "王经理" }
                })),
            )
            .await?;
        let id = v["firm"]["id"].as_str().ok_or("firm id")?.to_string();
        api.call(
            post.clone(),
            &format!("/api/v1/firms/{id}/verify"),
            Some(&admin),
            None,
        )
        .await?;
        firms.push(login);
        firm_ids.push(id);
    }
    let staff = format!("crash-staff-{tag}@park.example");
    api.call(
        post.clone(),
        &format!("/api/v1/communities/{}/staff", communities[0]),
        Some(&admin),
        Some(json!({ "login": staff, "password": password, "display_name": "社区工作人员" })),
    )
    .await?;
    let b = api.login(&firms[1], &password).await?;
    let a = api.login(&firms[0], &password).await?;
    let offer = api
        .call(
            post.clone(),
            "/api/v1/listings",
            Some(&b),
            Some(json!({
                "side": "offer", "kind": "space", "title": "1000㎡ 仓库出租",
                "description": "单层钢结构厂房，层高 9 米。", "visibility": "public",
            })),
        )
        .await?;
    let thread = api
        .call(
            post,
            "/api/v1/threads",
            Some(&a),
            Some(json!({ "listing_id": offer["id"] })),
        )
        .await?;
    Ok(Logins {
        admin: (admin_login.to_string(), admin_password.to_string()),
        firms: firms.try_into().map_err(|_| "three firms")?,
        staff,
        password,
        thread: thread["id"].as_str().ok_or("thread id")?.to_string(),
    })
}
