//! Configuration: `ZQL_*` environment variables over an optional TOML file
//! over defaults. A bad value stops start-up with a message naming the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The background sweeps a node can run (`background_jobs`).
pub const BACKGROUND_JOBS: [&str; 6] = [
    "matching",
    "expiry",
    "sla",
    crate::store::retention::JOB,
    "ratings",
    "attachments",
];

use serde::Deserialize;

/// Resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub db_pool_size: u32,
    pub workers: usize,
    /// Explicit HS256 secret; when absent a key file in the data dir is used.
    pub jwt_secret: Option<String>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_days: u64,
    pub body_limit_bytes: usize,
    pub log_format: LogFormat,
    /// Folder with userdict.txt / synonyms.txt / stopwords.txt overriding the
    /// shipped vocabulary; default `<data_dir>/vocab` when it exists.
    pub vocab_dir: Option<PathBuf>,
    /// TOML file of matcher weights overriding the defaults.
    pub matcher_weights: Option<PathBuf>,
    pub login_max_failures: u32,
    pub login_window_secs: u64,
    pub login_lock_secs: u64,
    /// Seconds between heartbeat comments on an idle event stream.
    pub events_heartbeat_secs: u64,
    /// Seconds between reads of the event log that nothing asked for: the
    /// safety net behind in-process wake-ups and PostgreSQL `LISTEN`.
    pub events_poll_secs: u64,
    /// The longest chat message, in characters.
    pub message_max_chars: usize,
    /// Requests per minute from one IP address (callers without an API
    /// client token), per node.
    pub rate_limit_ip_per_minute: u32,
    /// Requests per minute of one API client, per node.
    pub rate_limit_client_per_minute: u32,
    /// Sign-in, token and registration requests per minute from one IP.
    pub rate_limit_auth_per_minute: u32,
    /// The header a trusted reverse proxy puts the client's address in
    /// (`X-Forwarded-For`: its last entry); unset: the peer address.
    pub trusted_proxy_header: Option<String>,
    /// Origins allowed to call the API from a browser (CORS); empty: none.
    pub cors_allowed_origins: Vec<String>,
    /// Let webhooks reach loopback, link-local and private addresses
    /// (an operator's choice for an in-park network; off by default: SSRF).
    pub webhook_allow_private_targets: bool,
    /// First retry delay of a failed delivery; doubles per attempt.
    pub webhook_retry_base_ms: u64,
    /// The longest retry delay.
    pub webhook_retry_max_secs: u64,
    /// Attempts before a delivery gives up and its subscription is disabled.
    pub webhook_max_attempts: u32,
    /// Time limit of one delivery attempt.
    pub webhook_timeout_secs: u64,
    /// WeChat's API (`code2session`); a stub in tests.
    pub wechat_api_base: String,
    /// The mini-program's app id and secret; without both, WeChat sign-in
    /// answers 404 `wechat_not_configured`.
    pub wechat_app_id: Option<String>,
    pub wechat_app_secret: Option<String>,
    /// Subscribe-message templates by topic (`wechat_template_match`,
    /// `_message`, `_brokered`, `_case`: `"<template id>|thing1=title,…"`);
    /// a topic without one is never sent.
    pub wechat_templates: crate::service::wechat_templates::Templates,
    /// Which version of the mini-program a subscribe message opens
    /// (`formal`, `trial` or `developer`).
    pub wechat_miniprogram_state: String,
    /// Seconds a stopping server waits for in-flight requests.
    pub shutdown_timeout_secs: u64,
    /// Seconds between the expiry and SLA sweeps.
    pub sweep_interval_secs: u64,
    /// Requests served at once; more are answered 503 `overloaded` at once.
    pub max_in_flight: usize,
    /// Bearer token a Prometheus scraper presents to `/metrics`; without
    /// it only loopback callers may scrape.
    pub metrics_token: Option<String>,
    /// Background jobs this node takes part in (`matching`, `expiry`,
    /// `sla`; comma-separated, empty for none).
    pub background_jobs: Vec<String>,
    /// Staff case targets per urgency (`sla_emergency`, `sla_urgent`,
    /// `sla_normal`: claim/contact/resolve minutes).
    pub sla: crate::service::sla::SlaConfig,
    /// Longest wait for a database connection (and, on SQLite, for the
    /// write lock) before a request fails with 503.
    pub db_timeout_secs: u64,
    /// The firm app's H5 build (`miniprogram/dist/h5`), served at `/app`;
    /// unset, `/app` answers a page saying how to build it.
    pub app_dir: Option<PathBuf>,
    /// The address firms reach the service at (`https://zql.example.cn`),
    /// used in the short links of a digest; unset, the address the request
    /// came in on.
    pub public_url: Option<String>,
    /// New listings per firm and per user (per hour, per node).
    pub listing_limit_per_firm_per_hour: u32,
    pub listing_limit_per_user_per_hour: u32,
    /// Urgent and emergency requests (each opens a staff case) per firm
    /// and per user (per day, per node).
    pub emergency_limit_per_firm_per_day: u32,
    pub emergency_limit_per_user_per_day: u32,
    /// Chat messages per firm and per user (per minute, per node).
    pub message_limit_per_firm_per_minute: u32,
    pub message_limit_per_user_per_minute: u32,
    /// Event streams one user holds open at once (per node).
    pub events_max_streams_per_user: usize,
    /// Webhook subscriptions of one API client.
    pub webhook_max_per_client: usize,
    /// How long old rows are kept (`retention_*_days`,
    /// `retention_idempotency_hours`; 0: for ever).
    pub retention: crate::store::retention::Retention,
    /// Where attachments are kept and how large one may be.
    pub attachments: AttachmentsConfig,
}

/// The object store of attachments (`attachments_*` keys).
#[derive(Debug, Clone, PartialEq)]
pub struct AttachmentsConfig {
    /// The largest file accepted, in bytes (`attachments_max_bytes`).
    pub max_bytes: usize,
    pub store: AttachmentStore,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AttachmentStore {
    /// A folder on this node (`attachments_dir`, default
    /// `<data_dir>/objects`): one node, or a shared mount.
    Local { dir: PathBuf },
    /// An S3-compatible store (AWS S3, Aliyun OSS, MinIO): what several
    /// nodes share.
    S3(S3Config),
}

#[derive(Clone, PartialEq)]
pub struct S3Config {
    /// Base URL of the service; unset: AWS for the region.
    pub endpoint: Option<String>,
    pub bucket: String,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// `https://<bucket>.<endpoint>/key` instead of `<endpoint>/<bucket>/key`
    /// (Aliyun OSS wants the former).
    pub virtual_hosted_style: bool,
    /// Allow a plain-HTTP endpoint (a store on the same host or network).
    pub allow_http: bool,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "***"),
            )
            .field("virtual_hosted_style", &self.virtual_hosted_style)
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err("expected \"text\" or \"json\"".into()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("configuration key `{key}`{source_hint}: {message}")]
pub struct ConfigError {
    pub key: String,
    pub source_hint: String,
    pub message: String,
}

impl ConfigError {
    fn new(key: &str, origin: Origin, message: impl Into<String>) -> ConfigError {
        let source_hint = match origin {
            Origin::Env => format!(" (env ZQL_{})", key.to_uppercase()),
            Origin::File => " (config file)".to_string(),
            Origin::Default => String::new(),
        };
        ConfigError {
            key: key.to_string(),
            source_hint,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Origin {
    Env,
    File,
    Default,
}

macro_rules! config_keys {
    ($( $key:ident : $ty:ty ),* $(,)?) => {
        /// The TOML file's shape: every key optional, unknown keys rejected.
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct FileConfig { $( $key: Option<$ty>, )* }

        /// Every key that can be set, for docs and `--help`.
        pub const KEYS: &[&str] = &[$( stringify!($key) ),*];

        /// Raw layered values: env over file; `None` means use the default.
        #[derive(Debug, Default)]
        struct Layered { $( $key: Option<($ty, Origin)>, )* }

        impl Layered {
            fn build(file: FileConfig, env: &dyn Fn(&str) -> Option<String>) -> Result<Layered, ConfigError> {
                let mut out = Layered::default();
                $(
                    out.$key = file.$key.map(|v| (v, Origin::File));
                    let name = concat!("ZQL_", stringify!($key)).to_uppercase();
                    if let Some(raw) = env(&name) {
                        let v = <$ty as FromStr>::from_str(raw.trim()).map_err(|e| {
                            ConfigError::new(stringify!($key), Origin::Env, format!("cannot parse {raw:?}: {e}"))
                        })?;
                        out.$key = Some((v, Origin::Env));
                    }
                )*
                Ok(out)
            }
        }
    };
}

config_keys! {
    bind: String,
    data_dir: String,
    database_url: String,
    db_pool_size: u32,
    workers: usize,
    jwt_secret: String,
    jwt_issuer: String,
    jwt_audience: String,
    access_token_ttl_secs: u64,
    refresh_token_ttl_days: u64,
    body_limit_bytes: usize,
    log_format: String,
    vocab_dir: String,
    matcher_weights: String,
    login_max_failures: u32,
    login_window_secs: u64,
    login_lock_secs: u64,
    events_heartbeat_secs: u64,
    events_poll_secs: u64,
    message_max_chars: usize,
    rate_limit_ip_per_minute: u32,
    rate_limit_client_per_minute: u32,
    rate_limit_auth_per_minute: u32,
    trusted_proxy_header: String,
    cors_allowed_origins: String,
    webhook_allow_private_targets: bool,
    webhook_retry_base_ms: u64,
    webhook_retry_max_secs: u64,
    webhook_max_attempts: u32,
    webhook_timeout_secs: u64,
    wechat_api_base: String,
    wechat_app_id: String,
    wechat_app_secret: String,
    wechat_template_match: String,
    wechat_template_message: String,
    wechat_template_brokered: String,
    wechat_template_case: String,
    wechat_miniprogram_state: String,
    sla_emergency: String,
    sla_urgent: String,
    sla_normal: String,
    shutdown_timeout_secs: u64,
    sweep_interval_secs: u64,
    background_jobs: String,
    metrics_token: String,
    max_in_flight: usize,
    db_timeout_secs: u64,
    app_dir: String,
    public_url: String,
    listing_limit_per_firm_per_hour: u32,
    listing_limit_per_user_per_hour: u32,
    emergency_limit_per_firm_per_day: u32,
    emergency_limit_per_user_per_day: u32,
    message_limit_per_firm_per_minute: u32,
    message_limit_per_user_per_minute: u32,
    events_max_streams_per_user: usize,
    webhook_max_per_client: usize,
    retention_events_days: u32,
    retention_notifications_days: u32,
    retention_login_throttle_days: u32,
    retention_webhook_deliveries_days: u32,
    retention_outcomes_days: u32,
    retention_import_jobs_days: u32,
    retention_idempotency_hours: u32,
    attachments_max_bytes: usize,
    attachments_store: String,
    attachments_dir: String,
    attachments_s3_endpoint: String,
    attachments_s3_bucket: String,
    attachments_s3_region: String,
    attachments_s3_access_key_id: String,
    attachments_s3_secret_access_key: String,
    attachments_s3_virtual_hosted_style: bool,
    attachments_s3_allow_http: bool,
}

/// The key on the line a TOML error points into: type errors name only
/// the value (`invalid type: string "two"`), not its key.
fn key_at(text: &str, span: Option<std::ops::Range<usize>>) -> Option<String> {
    let before = text.get(..span?.start)?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text.get(line_start..)?.lines().next()?;
    let key = line.split_once('=')?.0.trim().trim_matches('"');
    (!key.is_empty()).then(|| key.to_string())
}

fn pick<T: Clone>(v: &Option<(T, Origin)>, default: T) -> (T, Origin) {
    v.clone().unwrap_or((default, Origin::Default))
}

fn range<T: PartialOrd + std::fmt::Display + Copy>(
    key: &str,
    (v, o): (T, Origin),
    lo: T,
    hi: T,
) -> Result<T, ConfigError> {
    if v < lo || v > hi {
        return Err(ConfigError::new(
            key,
            o,
            format!("{v} is outside {lo}..={hi}"),
        ));
    }
    Ok(v)
}

impl Config {
    /// Loads from the process environment and the file named by `path`
    /// (or by `ZQL_CONFIG`).
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let env_path = std::env::var("ZQL_CONFIG").ok().map(PathBuf::from);
        let path = path.map(Path::to_path_buf).or(env_path);
        Config::load_from(path.as_deref(), &|k| std::env::var(k).ok())
    }

    /// Loads from an explicit environment lookup (tests use this).
    pub fn load_from(
        path: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let file = match path {
            None => FileConfig::default(),
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    ConfigError::new(
                        "config",
                        Origin::File,
                        format!("cannot read {}: {e}", p.display()),
                    )
                })?;
                toml::from_str::<FileConfig>(&text).map_err(|e| ConfigError {
                    key: e
                        .message()
                        .split('`')
                        .nth(1)
                        .map(str::to_string)
                        .or_else(|| key_at(&text, e.span()))
                        .unwrap_or_else(|| "config".to_string()),
                    source_hint: format!(" ({})", p.display()),
                    message: e.message().to_string(),
                })?
            }
        };
        let l = Layered::build(file, env)?;

        let (bind_s, o) = pick(&l.bind, "127.0.0.1:8080".into());
        let bind = bind_s.parse::<SocketAddr>().map_err(|e| {
            ConfigError::new("bind", o, format!("{bind_s:?} is not HOST:PORT ({e})"))
        })?;

        let (data_dir_s, o) = pick(&l.data_dir, "./data".into());
        if data_dir_s.trim().is_empty() {
            return Err(ConfigError::new("data_dir", o, "must not be empty"));
        }
        let data_dir = PathBuf::from(data_dir_s.trim());

        let default_db = format!("sqlite://{}/zhiqilian.db", data_dir.display());
        let (database_url, o) = pick(&l.database_url, default_db);
        let backend = crate::store::Backend::from_url(&database_url)
            .map_err(|e| ConfigError::new("database_url", o, e))?;
        let pool_default = match backend {
            crate::store::Backend::Sqlite { .. } => 8,
            crate::store::Backend::Postgres { .. } => 16,
        };

        let jwt_secret = match &l.jwt_secret {
            Some((s, o)) if s.len() < 32 => {
                return Err(ConfigError::new(
                    "jwt_secret",
                    *o,
                    "must be at least 32 bytes (use a long random string)",
                ));
            }
            Some((s, _)) => Some(s.clone()),
            None => None,
        };

        let (log_format_s, o) = pick(&l.log_format, "text".into());
        let log_format = log_format_s
            .parse::<LogFormat>()
            .map_err(|e| ConfigError::new("log_format", o, e))?;

        let mut sla = crate::service::sla::SlaConfig::default();
        for (key, v, slot) in [
            ("sla_emergency", &l.sla_emergency, &mut sla.emergency),
            ("sla_urgent", &l.sla_urgent, &mut sla.urgent),
            ("sla_normal", &l.sla_normal, &mut sla.normal),
        ] {
            if let Some((raw, o)) = v {
                *slot = raw.parse().map_err(|e| ConfigError::new(key, *o, e))?;
            }
        }

        let mut wechat_templates = crate::service::wechat_templates::Templates::default();
        for (topic, key, v) in [
            ("match", "wechat_template_match", &l.wechat_template_match),
            (
                "message",
                "wechat_template_message",
                &l.wechat_template_message,
            ),
            (
                "brokered",
                "wechat_template_brokered",
                &l.wechat_template_brokered,
            ),
            ("case", "wechat_template_case", &l.wechat_template_case),
        ] {
            if let Some((raw, o)) = v.as_ref().filter(|(raw, _)| !raw.trim().is_empty()) {
                let t = crate::service::wechat_templates::Template::parse(raw)
                    .map_err(|e| ConfigError::new(key, *o, e))?;
                wechat_templates.insert(topic, t);
            }
        }
        let (wechat_miniprogram_state, o) = pick(&l.wechat_miniprogram_state, "formal".into());
        if !["formal", "trial", "developer"].contains(&wechat_miniprogram_state.as_str()) {
            return Err(ConfigError::new(
                "wechat_miniprogram_state",
                o,
                "expected formal, trial or developer",
            ));
        }

        let (jobs_s, o) = pick(&l.background_jobs, BACKGROUND_JOBS.join(","));
        let mut background_jobs = Vec::new();
        for j in jobs_s.split(',').map(str::trim).filter(|j| !j.is_empty()) {
            if !BACKGROUND_JOBS.contains(&j) {
                return Err(ConfigError::new(
                    "background_jobs",
                    o,
                    format!(
                        "unknown job {j:?}; expected some of {}",
                        BACKGROUND_JOBS.join(", ")
                    ),
                ));
            }
            background_jobs.push(j.to_string());
        }

        let attachments = attachments_config(&l, &data_dir)?;

        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Config {
            bind,
            data_dir,
            database_url,
            db_pool_size: range("db_pool_size", pick(&l.db_pool_size, pool_default), 1, 512)?,
            workers: range("workers", pick(&l.workers, cpus), 1, 256)?,
            jwt_secret,
            jwt_issuer: pick(&l.jwt_issuer, "zhiqilian".into()).0,
            jwt_audience: pick(&l.jwt_audience, "zhiqilian-api".into()).0,
            access_token_ttl_secs: range(
                "access_token_ttl_secs",
                pick(&l.access_token_ttl_secs, 900),
                30,
                900,
            )?,
            refresh_token_ttl_days: range(
                "refresh_token_ttl_days",
                pick(&l.refresh_token_ttl_days, 30),
                1,
                365,
            )?,
            body_limit_bytes: range(
                "body_limit_bytes",
                pick(&l.body_limit_bytes, 256 * 1024),
                1024,
                64 * 1024 * 1024,
            )?,
            log_format,
            vocab_dir: l
                .vocab_dir
                .as_ref()
                .map(|(v, _)| PathBuf::from(v.trim()))
                .filter(|p| !p.as_os_str().is_empty()),
            matcher_weights: l
                .matcher_weights
                .as_ref()
                .map(|(v, _)| PathBuf::from(v.trim()))
                .filter(|p| !p.as_os_str().is_empty()),
            login_max_failures: range(
                "login_max_failures",
                pick(&l.login_max_failures, 5),
                1,
                1000,
            )?,
            login_window_secs: range(
                "login_window_secs",
                pick(&l.login_window_secs, 900),
                1,
                86_400,
            )?,
            login_lock_secs: range("login_lock_secs", pick(&l.login_lock_secs, 60), 1, 86_400)?,
            events_heartbeat_secs: range(
                "events_heartbeat_secs",
                pick(&l.events_heartbeat_secs, 15),
                1,
                300,
            )?,
            events_poll_secs: range("events_poll_secs", pick(&l.events_poll_secs, 1), 1, 3600)?,
            message_max_chars: range(
                "message_max_chars",
                pick(&l.message_max_chars, 4000),
                1,
                100_000,
            )?,
            rate_limit_ip_per_minute: range(
                "rate_limit_ip_per_minute",
                pick(&l.rate_limit_ip_per_minute, 1200),
                1,
                10_000_000,
            )?,
            rate_limit_client_per_minute: range(
                "rate_limit_client_per_minute",
                pick(&l.rate_limit_client_per_minute, 600),
                1,
                10_000_000,
            )?,
            rate_limit_auth_per_minute: range(
                "rate_limit_auth_per_minute",
                pick(&l.rate_limit_auth_per_minute, 30),
                1,
                10_000_000,
            )?,
            trusted_proxy_header: match &l.trusted_proxy_header {
                Some((h, o)) if !h.trim().is_empty() => Some(
                    actix_web::http::header::HeaderName::from_bytes(h.trim().as_bytes())
                        .map_err(|_| {
                            ConfigError::new("trusted_proxy_header", *o, "not a header name")
                        })?
                        .to_string(),
                ),
                _ => None,
            },
            cors_allowed_origins: match &l.cors_allowed_origins {
                Some((list, o)) => {
                    let origins: Vec<String> = list
                        .split(',')
                        .map(|s| s.trim().trim_end_matches('/').to_string())
                        .filter(|s| !s.is_empty())
                        .collect();
                    if let Some(bad) = origins
                        .iter()
                        .find(|s| !(s.starts_with("https://") || s.starts_with("http://")))
                    {
                        return Err(ConfigError::new(
                            "cors_allowed_origins",
                            *o,
                            format!("{bad:?} is not an origin (scheme://host[:port])"),
                        ));
                    }
                    origins
                }
                None => Vec::new(),
            },
            webhook_allow_private_targets: pick(&l.webhook_allow_private_targets, false).0,
            webhook_retry_base_ms: range(
                "webhook_retry_base_ms",
                pick(&l.webhook_retry_base_ms, 10_000),
                10,
                3_600_000,
            )?,
            webhook_retry_max_secs: range(
                "webhook_retry_max_secs",
                pick(&l.webhook_retry_max_secs, 3600),
                1,
                86_400,
            )?,
            webhook_max_attempts: range(
                "webhook_max_attempts",
                pick(&l.webhook_max_attempts, 12),
                1,
                100,
            )?,
            webhook_timeout_secs: range(
                "webhook_timeout_secs",
                pick(&l.webhook_timeout_secs, 10),
                1,
                120,
            )?,
            wechat_api_base: {
                let (v, o) = pick(&l.wechat_api_base, "https://api.weixin.qq.com".into());
                if !(v.starts_with("https://") || v.starts_with("http://")) {
                    return Err(ConfigError::new("wechat_api_base", o, "须为 http(s) URL"));
                }
                v
            },
            wechat_app_id: l
                .wechat_app_id
                .as_ref()
                .map(|(v, _)| v.trim().to_string())
                .filter(|v| !v.is_empty()),
            wechat_app_secret: l
                .wechat_app_secret
                .as_ref()
                .map(|(v, _)| v.trim().to_string())
                .filter(|v| !v.is_empty()),
            wechat_templates,
            wechat_miniprogram_state,
            sla,
            shutdown_timeout_secs: range(
                "shutdown_timeout_secs",
                pick(&l.shutdown_timeout_secs, 10),
                0,
                3600,
            )?,
            background_jobs,
            max_in_flight: range(
                "max_in_flight",
                pick(&l.max_in_flight, 8 * cpus),
                1,
                100_000,
            )?,
            metrics_token: match &l.metrics_token {
                Some((t, o)) if t.trim().len() < 16 => {
                    return Err(ConfigError::new(
                        "metrics_token",
                        *o,
                        "must be at least 16 characters",
                    ));
                }
                Some((t, _)) => Some(t.trim().to_string()),
                None => None,
            },
            sweep_interval_secs: range(
                "sweep_interval_secs",
                pick(&l.sweep_interval_secs, 15),
                1,
                3600,
            )?,
            db_timeout_secs: range("db_timeout_secs", pick(&l.db_timeout_secs, 5), 1, 300)?,
            app_dir: l
                .app_dir
                .as_ref()
                .map(|(v, _)| PathBuf::from(v.trim()))
                .filter(|p| !p.as_os_str().is_empty()),
            public_url: match &l.public_url {
                Some((v, o)) => {
                    let v = v.trim().trim_end_matches('/');
                    if v.is_empty() {
                        None
                    } else if (v.starts_with("https://") || v.starts_with("http://"))
                        && !v.contains(char::is_whitespace)
                        && v.split("://").nth(1).is_some_and(|h| !h.is_empty())
                    {
                        Some(v.to_string())
                    } else {
                        return Err(ConfigError::new(
                            "public_url",
                            *o,
                            "must be an http(s) address such as https://zql.example.cn",
                        ));
                    }
                }
                None => None,
            },
            listing_limit_per_firm_per_hour: range(
                "listing_limit_per_firm_per_hour",
                pick(&l.listing_limit_per_firm_per_hour, 60),
                1,
                10_000_000,
            )?,
            listing_limit_per_user_per_hour: range(
                "listing_limit_per_user_per_hour",
                pick(&l.listing_limit_per_user_per_hour, 30),
                1,
                10_000_000,
            )?,
            emergency_limit_per_firm_per_day: range(
                "emergency_limit_per_firm_per_day",
                pick(&l.emergency_limit_per_firm_per_day, 10),
                1,
                10_000_000,
            )?,
            emergency_limit_per_user_per_day: range(
                "emergency_limit_per_user_per_day",
                pick(&l.emergency_limit_per_user_per_day, 5),
                1,
                10_000_000,
            )?,
            message_limit_per_firm_per_minute: range(
                "message_limit_per_firm_per_minute",
                pick(&l.message_limit_per_firm_per_minute, 120),
                1,
                10_000_000,
            )?,
            message_limit_per_user_per_minute: range(
                "message_limit_per_user_per_minute",
                pick(&l.message_limit_per_user_per_minute, 30),
                1,
                10_000_000,
            )?,
            events_max_streams_per_user: range(
                "events_max_streams_per_user",
                pick(&l.events_max_streams_per_user, 10),
                1,
                100_000,
            )?,
            webhook_max_per_client: range(
                "webhook_max_per_client",
                pick(&l.webhook_max_per_client, 20),
                1,
                10_000,
            )?,
            retention: {
                let d = crate::store::retention::Retention::default();
                crate::store::retention::Retention {
                    events_days: range(
                        "retention_events_days",
                        pick(&l.retention_events_days, d.events_days),
                        0,
                        36_500,
                    )?,
                    notifications_days: range(
                        "retention_notifications_days",
                        pick(&l.retention_notifications_days, d.notifications_days),
                        0,
                        36_500,
                    )?,
                    login_throttle_days: range(
                        "retention_login_throttle_days",
                        pick(&l.retention_login_throttle_days, d.login_throttle_days),
                        0,
                        36_500,
                    )?,
                    webhook_deliveries_days: range(
                        "retention_webhook_deliveries_days",
                        pick(
                            &l.retention_webhook_deliveries_days,
                            d.webhook_deliveries_days,
                        ),
                        0,
                        36_500,
                    )?,
                    outcomes_days: range(
                        "retention_outcomes_days",
                        pick(&l.retention_outcomes_days, d.outcomes_days),
                        0,
                        36_500,
                    )?,
                    import_jobs_days: range(
                        "retention_import_jobs_days",
                        pick(&l.retention_import_jobs_days, d.import_jobs_days),
                        0,
                        36_500,
                    )?,
                    idempotency_hours: range(
                        "retention_idempotency_hours",
                        pick(&l.retention_idempotency_hours, d.idempotency_hours),
                        0,
                        876_000,
                    )?,
                }
            },
            attachments,
        })
    }
}

fn text_key(v: &Option<(String, Origin)>) -> Option<String> {
    v.as_ref()
        .map(|(s, _)| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn attachments_config(l: &Layered, data_dir: &Path) -> Result<AttachmentsConfig, ConfigError> {
    let max_bytes = range(
        "attachments_max_bytes",
        pick(&l.attachments_max_bytes, 10 * 1024 * 1024),
        1024,
        512 * 1024 * 1024,
    )?;
    let (kind, o) = pick(&l.attachments_store, "local".into());
    let store = match kind.trim() {
        "local" => AttachmentStore::Local {
            dir: text_key(&l.attachments_dir)
                .map(PathBuf::from)
                .unwrap_or_else(|| data_dir.join("objects")),
        },
        "s3" => {
            let bucket = text_key(&l.attachments_s3_bucket).ok_or_else(|| {
                ConfigError::new(
                    "attachments_s3_bucket",
                    o,
                    "required when attachments_store is s3",
                )
            })?;
            let endpoint = text_key(&l.attachments_s3_endpoint);
            if let (Some(e), Some((_, eo))) = (&endpoint, &l.attachments_s3_endpoint)
                && !(e.starts_with("https://") || e.starts_with("http://"))
            {
                return Err(ConfigError::new(
                    "attachments_s3_endpoint",
                    *eo,
                    format!("{e:?} is not a URL (https://host[:port])"),
                ));
            }
            let keys = (
                text_key(&l.attachments_s3_access_key_id),
                text_key(&l.attachments_s3_secret_access_key),
            );
            if keys.0.is_some() != keys.1.is_some() {
                return Err(ConfigError::new(
                    "attachments_s3_secret_access_key",
                    o,
                    "set both attachments_s3_access_key_id and attachments_s3_secret_access_key, or neither",
                ));
            }
            AttachmentStore::S3(S3Config {
                endpoint,
                bucket,
                region: text_key(&l.attachments_s3_region).unwrap_or_else(|| "us-east-1".into()),
                access_key_id: keys.0,
                secret_access_key: keys.1,
                virtual_hosted_style: pick(&l.attachments_s3_virtual_hosted_style, false).0,
                allow_http: pick(&l.attachments_s3_allow_http, false).0,
            })
        }
        other => {
            return Err(ConfigError::new(
                "attachments_store",
                o,
                format!("{other:?}: expected \"local\" or \"s3\""),
            ));
        }
    };
    Ok(AttachmentsConfig { max_bytes, store })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(env: &[(&str, &str)], file: Option<&str>) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let dir = tempfile::tempdir().expect("tempdir");
        let path = file.map(|text| {
            let p = dir.path().join("zql.toml");
            std::fs::write(&p, text).expect("write config");
            p
        });
        Config::load_from(path.as_deref(), &|k| map.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = load(&[], None).expect("defaults load");
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert_eq!(c.database_url, "sqlite://./data/zhiqilian.db");
        assert_eq!(c.access_token_ttl_secs, 900);
        assert_eq!(c.events_poll_secs, 1);
        assert_eq!(c.retention.idempotency_hours, 24);
    }

    #[test]
    fn env_overrides_file_overrides_default() {
        let c = load(
            &[("ZQL_BIND", "0.0.0.0:9000")],
            Some("bind = \"127.0.0.1:7000\"\ndata_dir = \"/tmp/zql\"\n"),
        )
        .expect("load");
        assert_eq!(c.bind.to_string(), "0.0.0.0:9000");
        assert_eq!(c.database_url, "sqlite:///tmp/zql/zhiqilian.db");
    }

    #[test]
    fn bad_values_name_the_key() {
        let e = load(&[("ZQL_BIND", "nonsense")], None).unwrap_err();
        assert_eq!(e.key, "bind");
        assert!(e.to_string().contains("ZQL_BIND"), "{e}");
        let e = load(&[("ZQL_DB_POOL_SIZE", "many")], None).unwrap_err();
        assert_eq!(e.key, "db_pool_size");
        let e = load(&[("ZQL_ACCESS_TOKEN_TTL_SECS", "3600")], None).unwrap_err();
        assert_eq!(e.key, "access_token_ttl_secs");
        let e = load(&[("ZQL_DATABASE_URL", "mysql://x")], None).unwrap_err();
        assert_eq!(e.key, "database_url");
        let e = load(&[("ZQL_JWT_SECRET", "short")], None).unwrap_err();
        assert_eq!(e.key, "jwt_secret");
        let e = load(&[], Some("bnid = \"x\"\n")).unwrap_err();
        assert_eq!(e.key, "bnid", "{e}");
        let e = load(&[("ZQL_EVENTS_HEARTBEAT_SECS", "0")], None).unwrap_err();
        assert_eq!(e.key, "events_heartbeat_secs");
        let e = load(&[("ZQL_EVENTS_POLL_SECS", "0")], None).unwrap_err();
        assert_eq!(e.key, "events_poll_secs");
        let e = load(&[("ZQL_RETENTION_IDEMPOTENCY_HOURS", "-1")], None).unwrap_err();
        assert_eq!(e.key, "retention_idempotency_hours");
        let e = load(&[], Some("message_max_chars = 0\n")).unwrap_err();
        assert_eq!(e.key, "message_max_chars");
        let e = load(&[], Some("workers = \"two\"\n")).unwrap_err();
        assert!(e.to_string().contains("workers"), "{e}");
    }
}
