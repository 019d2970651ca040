//! Builds the HTTP application and server from a configuration.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::{Server, Service};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{App, HttpMessage, HttpServer, web};
use anyhow::Context;
use futures_util::FutureExt;
use tracing_actix_web::{RequestId, TracingLogger};

use crate::config::Config;
use crate::http::console;
use crate::http::error;
use crate::http::firm_app;
use crate::http::routes;
use crate::http::state::AppState;
use crate::service::error::{Code, Status};
use crate::service::{password, tokens};
use crate::store::Db;

/// Opens the store (applying migrations) and loads the signing key.
pub async fn prepare_state(config: Config) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data dir {}", config.data_dir.display()))?;
    let db = Db::connect_with(
        &config.database_url,
        config.db_pool_size,
        std::time::Duration::from_secs(config.db_timeout_secs),
    )?;
    let db2 = db.clone();
    let applied = tokio::task::spawn_blocking(move || db2.migrate()).await??;
    for v in &applied {
        tracing::info!(version = %v, "applied migration");
    }

    let secret = match &config.jwt_secret {
        Some(s) => s.as_bytes().to_vec(),
        None => {
            let path = config.data_dir.join("jwt.key");
            let (key, created) = tokens::load_or_create_secret(&path)
                .with_context(|| format!("JWT key file {}", path.display()))?;
            if created {
                tracing::info!(path = %path.display(), "generated a new JWT signing key (set ZQL_JWT_SECRET to share one across nodes)");
            }
            key
        }
    };
    let jwt = tokens::JwtKeys::new(
        &secret,
        &config.jwt_issuer,
        &config.jwt_audience,
        config.access_token_ttl_secs as i64,
    );
    let mut random = [0u8; 24];
    rand::fill(&mut random);
    let dummy_hash = password::hash(hex::encode(random))
        .await
        .map_err(|e| anyhow::anyhow!("cannot prepare dummy hash: {e}"))?;
    let vocab_dir = config
        .vocab_dir
        .clone()
        .unwrap_or_else(|| config.data_dir.join("vocab"));
    let vocab =
        tokio::task::spawn_blocking(move || crate::worker::indexer::load_vocab_state(&vocab_dir))
            .await??;
    let weights = Arc::new(load_weights(config.matcher_weights.as_deref())?);
    let search = crate::worker::indexer::start(db.clone(), &config.data_dir, vocab).await?;
    let events = crate::worker::events::Hub::start(
        db.clone(),
        std::time::Duration::from_secs(config.events_poll_secs),
    )
    .await?;
    let limits = crate::http::limits::Limits::new(&config);
    let quotas = crate::service::quota::Quotas::new(&config);
    let webhooks = crate::worker::webhooks::start(db.clone(), &config)?;
    let attachments = Arc::new(crate::service::attachments::Attachments::open(
        &config.attachments,
    )?);
    let wechat_push = crate::worker::wechat_push::start(db.clone(), &config)?;
    let background = Arc::new(crate::worker::background::Background::start(
        db.clone(),
        search.index.clone(),
        search.applied_watch(),
        weights.clone(),
        crate::worker::background::Sweeps {
            sla: config.sla,
            retention: config.retention,
            every: std::time::Duration::from_secs(config.sweep_interval_secs),
            attachments: attachments.clone(),
        },
        config.background_jobs.clone(),
    ));
    let admission = crate::http::admission::Admission::new(config.max_in_flight);
    Ok(AppState {
        config: Arc::new(config),
        db,
        jwt,
        dummy_hash,
        search,
        weights,
        events,
        limits,
        quotas,
        attachments,
        webhooks,
        wechat_push,
        wechat: crate::service::wechat::http_client()?,
        background,
        usage: Arc::new(crate::service::usage::Meter::default()),
        admission,
    })
}

/// Matcher weights: defaults, or a TOML file overriding some of them.
pub fn load_weights(path: Option<&std::path::Path>) -> anyhow::Result<zhiqilian_matcher::Weights> {
    let Some(path) = path else {
        return Ok(zhiqilian_matcher::Weights::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("matcher_weights: cannot read {}", path.display()))?;
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("matcher_weights ({}): {e}", path.display()))
}

/// Registers routes, extractor error handlers and middleware.
pub fn configure_app(cfg: &mut web::ServiceConfig, state: web::Data<AppState>) {
    let limit = state.config.body_limit_bytes;
    cfg.app_data(state)
        .app_data(
            web::JsonConfig::default()
                .limit(limit)
                .error_handler(|e, _| error::json_error(e).into()),
        )
        .app_data(web::PayloadConfig::new(limit))
        .app_data(web::QueryConfig::default().error_handler(|e, _| error::query_error(e).into()))
        .app_data(
            web::FormConfig::default()
                .limit(limit)
                .error_handler(|e, _| error::form_error(e).into()),
        )
        .app_data(web::PathConfig::default().error_handler(|e, _| error::path_error(e).into()))
        .configure(routes::configure)
        .configure(console::configure)
        .configure(firm_app::configure)
        .default_service(web::to(routes::not_found));
}

/// CORS for the configured origins only; with none, browsers on other
/// origins get no CORS headers (and so no access).
fn cors(origins: &[String]) -> actix_cors::Cors {
    let mut c = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PATCH", "DELETE"])
        .allowed_headers([
            actix_web::http::header::AUTHORIZATION,
            actix_web::http::header::CONTENT_TYPE,
            actix_web::http::header::IF_NONE_MATCH,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([
            actix_web::http::header::ETAG,
            actix_web::http::header::RETRY_AFTER,
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("idempotent-replayed"),
        ])
        .max_age(3600);
    for o in origins {
        c = c.allowed_origin(o);
    }
    c
}

/// actix-cors answers the preflights it refuses in plain text; this gives
/// them the one error format (403 for an origin, method or header that is
/// not allowed, 400 for a malformed preflight), keeping its headers.
async fn cors_problems(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    use actix_cors::CorsError;
    use actix_web::ResponseError;
    use actix_web::http::header;
    let res = next.call(req).await?;
    let refusal = res
        .response()
        .error()
        .and_then(|e| e.as_error::<CorsError>())
        .cloned();
    let Some(refusal) = refusal else {
        return Ok(res.map_into_boxed_body());
    };
    let problem = match refusal {
        CorsError::OriginNotAllowed => error::ApiError::new(
            Status::FORBIDDEN,
            Code::CorsOriginNotAllowed,
            "该来源（Origin）不允许跨域调用本接口",
        ),
        CorsError::MethodNotAllowed | CorsError::HeadersNotAllowed => error::ApiError::new(
            Status::FORBIDDEN,
            Code::CorsRequestNotAllowed,
            "跨域预检请求的方法或请求头不被允许",
        ),
        other => error::ApiError::bad_request(
            Code::CorsPreflightInvalid,
            format!("跨域预检请求无效：{other}"),
        ),
    };
    let (req, old) = res.into_parts();
    let mut new = problem.error_response();
    let own: Vec<header::HeaderName> = new.headers().keys().cloned().collect();
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH && !own.contains(name) {
            new.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(actix_web::dev::ServiceResponse::new(req, new))
}

/// A built server (not yet awaited), the address it serves and its state.
pub type Built = (Server, SocketAddr, web::Data<AppState>);

/// After the server stopped: background work stops and releases its leases,
/// webhook deliveries stop, the indexer finishes its batch.
pub async fn wind_down(state: &AppState) {
    if let Err(e) = state.usage.flush(&state.db).await {
        tracing::warn!(error = %e, "cannot write API client usage");
    }
    state.background.shutdown().await;
    state.webhooks.shutdown().await;
    if let Some(p) = &state.wechat_push {
        p.shutdown().await;
    }
    state.search.shutdown().await;
}

/// Binds and returns the server (not yet awaited) and the address it serves.
pub async fn build_server(config: Config) -> anyhow::Result<Built> {
    let listener =
        TcpListener::bind(config.bind).with_context(|| format!("cannot bind {}", config.bind))?;
    build_server_on(config, listener).await
}

pub async fn build_server_on(config: Config, listener: TcpListener) -> anyhow::Result<Built> {
    let workers = config.workers;
    let shutdown_secs = config.shutdown_timeout_secs;
    let state = web::Data::new(prepare_state(config).await?);
    let handle = state.clone();
    let addr = listener.local_addr()?;
    // Forgets idle rate-limit keys; ends with the server's state.
    let pruning = Arc::downgrade(&state.clone().into_inner());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            match pruning.upgrade() {
                Some(s) => {
                    s.limits.prune();
                    s.quotas.prune();
                }
                None => break,
            }
        }
    });
    // Adds the API clients' usage counted on this node to the database in
    // batches; ends with the server's state.
    let metering = Arc::downgrade(&state.clone().into_inner());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(crate::service::usage::FLUSH_EVERY);
        loop {
            tick.tick().await;
            let Some(s) = metering.upgrade() else { break };
            if let Err(e) = s.usage.flush(&s.db).await {
                tracing::warn!(error = %e, "cannot write API client usage");
            }
        }
    });
    let request_id = HeaderName::from_static("x-request-id");
    let server = HttpServer::new(move || {
        let state = state.clone();
        let request_id = request_id.clone();
        let cors = cors(&state.config.cors_allowed_origins);
        App::new()
            .app_data(state.admission.clone())
            .configure(|cfg| configure_app(cfg, state))
            .wrap(actix_web::middleware::from_fn(crate::http::usage::count))
            .wrap(actix_web::middleware::from_fn(crate::http::input::screen))
            .wrap(actix_web::middleware::from_fn(crate::http::protect::guard))
            .wrap(cors)
            .wrap(actix_web::middleware::from_fn(cors_problems))
            .wrap(actix_web::middleware::from_fn(
                crate::http::admission::admit,
            ))
            .wrap_fn(move |req, srv| {
                let id = req.extensions().get::<RequestId>().map(|r| r.to_string());
                let header = request_id.clone();
                srv.call(req).map(move |res| {
                    res.map(|mut r| {
                        if let Some(v) = id.and_then(|id| HeaderValue::from_str(&id).ok()) {
                            r.headers_mut().insert(header, v);
                        }
                        r
                    })
                })
            })
            .wrap_fn(|req, srv| {
                let started = std::time::Instant::now();
                let method = req.method().to_string();
                let route = req
                    .match_pattern()
                    .unwrap_or_else(|| "unmatched".to_string());
                srv.call(req).map(move |res| {
                    if let Ok(r) = &res {
                        crate::http::metrics::record(
                            &method,
                            &route,
                            r.status().as_u16(),
                            started.elapsed(),
                        );
                    }
                    res
                })
            })
            .wrap(TracingLogger::<crate::telemetry::RequestSpan>::new())
    })
    .workers(workers)
    .shutdown_timeout(shutdown_secs)
    .listen(listener)?
    .run();
    Ok((server, addr, handle))
}
