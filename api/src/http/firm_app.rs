//! The firm app's H5 build (`miniprogram/`, `npm run build:h5`) served at
//! `/app` from the folder named by `app_dir`, on the API's own origin.
//!
//! Unlike the console, the app is built by npm, not embedded: a park builds
//! it beside the binary and points `app_dir` at `dist/h5`. Files whose names
//! carry a content hash (`app.3f2a9c1b.js`) never change under that name, so
//! they are cached for a year; everything else (`index.html`) is
//! `no-cache` with an ETag. A path that names no file and has no extension
//! is a client-side route and gets `index.html` (SPA fallback). Without
//! `app_dir`, or with a folder that holds no `index.html`, `/app` answers a
//! page that says how to build and configure it.

use std::path::{Component, Path, PathBuf};

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};

use crate::http::console::{content_type, method_not_allowed, not_found};
use crate::http::state::AppState;
use crate::service::error::ApiError;

/// What the app's pages may load and talk to: this origin only. Taro's H5
/// components add their styles at run time, hence inline styles.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; \
    object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A year: hashed file names change whenever their content does.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Registers `/app`, `/app/` and `/app/{path}` (GET and HEAD), gzipped for
/// clients that accept it (the build's JavaScript shrinks to about a third).
pub fn configure(cfg: &mut web::ServiceConfig) {
    for path in ["/app", "/app/", "/app/{path:.*}"] {
        cfg.service(
            web::resource(path)
                .wrap(actix_web::middleware::Compress::default())
                .route(web::get().to(serve))
                .route(web::head().to(serve))
                .default_service(web::to(method_not_allowed)),
        );
    }
}

async fn serve(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    // `/app` → `/app/`, so the build's relative asset URLs resolve under it.
    if req.path() == "/app" {
        return Ok(HttpResponse::PermanentRedirect()
            .insert_header((header::LOCATION, "/app/"))
            .finish());
    }
    let Some(dir) = state.config.app_dir.clone() else {
        return Ok(not_built(None));
    };
    let path = req.match_info().get("path").unwrap_or("").to_string();
    let Some(rel) = safe_relative(&path) else {
        return Err(not_found(&req));
    };
    let found = web::block(move || locate(&dir, &rel))
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("app file read: {e}")))?;
    match found {
        Located::File { name, bytes } => Ok(respond(&req, &name, bytes)),
        Located::NotFound => Err(not_found(&req)),
        Located::NoBuild(dir) => Ok(not_built(Some(&dir))),
    }
}

enum Located {
    File { name: String, bytes: Vec<u8> },
    NotFound,
    NoBuild(PathBuf),
}

/// The file for a request path: the file itself, or for a client-side route
/// (no extension) `index.html`.
fn locate(dir: &Path, rel: &Path) -> Located {
    let index = dir.join("index.html");
    if !index.is_file() {
        return Located::NoBuild(dir.to_path_buf());
    }
    let wanted = dir.join(rel);
    let target = if rel.as_os_str().is_empty() || wanted.is_dir() {
        index
    } else if wanted.is_file() {
        wanted
    } else if rel.extension().is_none() {
        index
    } else {
        return Located::NotFound;
    };
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("index.html")
        .to_string();
    match std::fs::read(&target) {
        Ok(bytes) => Located::File { name, bytes },
        Err(_) => Located::NotFound,
    }
}

/// The request path as a path inside the folder: plain segments only (no
/// `..`, no dot files, no backslashes), so nothing outside it is served.
fn safe_relative(path: &str) -> Option<PathBuf> {
    if path.contains('\\') || path.contains('\0') {
        return None;
    }
    let mut out = PathBuf::new();
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        if seg.starts_with('.') {
            return None;
        }
        let p = Path::new(seg);
        if !matches!(p.components().next(), Some(Component::Normal(_))) {
            return None;
        }
        out.push(seg);
    }
    Some(out)
}

/// A file name with a content hash: a dot-separated part of at least eight
/// hex digits before the extension (`app.3f2a9c1b.js`, `12.0a1b2c3d.css`).
fn is_hashed(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() >= 3
        && parts[1..parts.len() - 1]
            .iter()
            .any(|p| p.len() >= 8 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn respond(req: &HttpRequest, name: &str, bytes: Vec<u8>) -> HttpResponse {
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&bytes)[..16]));
    let fresh = req
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*");
    let mut resp = if fresh {
        HttpResponse::build(StatusCode::NOT_MODIFIED)
    } else {
        HttpResponse::Ok()
    };
    let cache = if is_hashed(name) {
        IMMUTABLE
    } else {
        "no-cache"
    };
    resp.insert_header((header::CONTENT_TYPE, content_type(name)))
        .insert_header((header::ETAG, etag.as_str()))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    if name.ends_with(".html") {
        resp.insert_header((header::CONTENT_SECURITY_POLICY, CSP))
            .insert_header((header::X_FRAME_OPTIONS, "DENY"));
    }
    if fresh {
        return resp.finish();
    }
    resp.body(bytes)
}

/// The page shown while no H5 build is configured (or the folder is empty):
/// how to build the app and point the server at it, in Chinese and English.
fn not_built(dir: Option<&Path>) -> HttpResponse {
    let state = match dir {
        None => "尚未设置 <code>app_dir</code>。<br>The <code>app_dir</code> key is not set."
            .to_string(),
        Some(d) => {
            let d = html_escape(&d.display().to_string());
            format!(
                "<code>app_dir</code> = <code>{d}</code>，但其中没有 <code>index.html</code>。<br>\
                 <code>app_dir</code> is <code>{d}</code>, but it holds no <code>index.html</code>."
            )
        }
    };
    let body = format!(
        r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>智企连 · 企业端未构建 / Firm app not built</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.6;color:#1f2933}}
pre{{background:#f1f5f9;padding:.75rem;overflow-x:auto;border-radius:6px}}code{{font-family:ui-monospace,monospace}}</style>
</head><body>
<h1>企业端（H5）尚未构建</h1>
<p>{state}</p>
<p>在仓库的 <code>miniprogram/</code> 目录中构建，然后让服务器指向构建结果并重启：</p>
<pre>cd miniprogram
npm ci
npm run build        # dist/weapp（微信小程序）与 dist/h5（本页面）

ZQL_APP_DIR=miniprogram/dist/h5 zhiqilian serve</pre>
<p>也可以在配置文件中写 <code>app_dir = "…/miniprogram/dist/h5"</code>。详见 <code>miniprogram/README.md</code> 与 <code>docs/OPERATIONS.md</code>。</p>
<hr>
<h2 lang="en">The firm app (H5) is not built</h2>
<p lang="en">Build it in the repository's <code>miniprogram/</code> folder
(<code>npm ci</code>, then <code>npm run build</code>), then set <code>app_dir</code>
(env <code>ZQL_APP_DIR</code>) to <code>miniprogram/dist/h5</code> and restart the server.</p>
</body></html>"#
    );
    HttpResponse::NotFound()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed("app.3f2a9c1b.js"));
        assert!(is_hashed("12.0a1b2c3d.chunk.css"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("app.js"));
        assert!(!is_hashed("vendors.js.map"));
        assert!(!is_hashed("logo.png"));
    }

    #[test]
    fn paths_outside_the_folder_are_refused() {
        assert_eq!(safe_relative("js/app.js"), Some(PathBuf::from("js/app.js")));
        assert_eq!(safe_relative(""), Some(PathBuf::new()));
        assert_eq!(safe_relative("../secret"), None);
        assert_eq!(safe_relative("js/../../x"), None);
        assert_eq!(safe_relative(".env"), None);
        assert_eq!(safe_relative("a\\..\\b"), None);
    }
}
