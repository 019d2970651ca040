//! Chat threads about a listing or a match record, and their messages.
//! The rules (who takes part, who may look, what a message must be) are
//! the use cases of `service::threads`.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};

use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::error::ApiError;
use crate::service::threads::{
    self, CreateThread, ListThreadsQuery, MarkRead, MessagesQuery, PostMessage,
};

/// `POST /api/v1/threads`: the thread about a listing (between its firm and
/// the caller's) or about a match record (between its two firms), created
/// on first use; asking again returns the same thread (200, not 201).
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateThread>,
) -> Result<HttpResponse, ApiError> {
    let (t, created) = threads::open_on(&state.db, &caller, body.into_inner()).await?;
    if created {
        let at = format!("/api/v1/threads/{}", t.id);
        return Ok(HttpResponse::Created()
            .insert_header((LOCATION, at))
            .json(t));
    }
    Ok(HttpResponse::Ok().json(t))
}

/// `GET /api/v1/threads`: my threads, most recent activity first.
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ListThreadsQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = threads::list_on(&state.db, &caller, q.into_inner()).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `GET /api/v1/threads/{id}`.
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let t = threads::get_on(&state.db, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(t))
}

/// `POST /api/v1/threads/{id}/close`: no new messages until reopened.
pub async fn close(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let t = threads::set_open_on(&state.db, &caller, id.into_inner(), false).await?;
    Ok(HttpResponse::Ok().json(t))
}

/// `POST /api/v1/threads/{id}/reopen`.
pub async fn reopen(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let t = threads::set_open_on(&state.db, &caller, id.into_inner(), true).await?;
    Ok(HttpResponse::Ok().json(t))
}

/// `POST /api/v1/threads/{id}/join`: community staff join a thread of
/// their community (shown to everyone as staff).
pub async fn join(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let t = threads::join_on(&state.db, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(t))
}

/// `POST /api/v1/threads/{id}/messages`: 201 with the new message, or 200
/// with the stored one when this `client_msg_id` was already posted.
pub async fn post_message(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<PostMessage>,
) -> Result<HttpResponse, ApiError> {
    let max_chars = state.config.message_max_chars;
    let (id, body) = (id.into_inner(), body.into_inner());
    let (m, created) =
        threads::post_on(&state.db, &state.quotas, &caller, id, body, max_chars).await?;
    if created {
        return Ok(HttpResponse::Created().json(m));
    }
    Ok(HttpResponse::Ok().json(m))
}

/// `GET /api/v1/threads/{id}/messages`: by per-thread seq, always in seq
/// order: after `after_seq`, before `before_seq`, or the newest.
pub async fn messages(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<MessagesQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = threads::messages_on(&state.db, &caller, id.into_inner(), q.into_inner()).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `POST /api/v1/threads/{id}/read`: I have read up to `seq` (markers only
/// move forward).
pub async fn mark_read(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<MarkRead>,
) -> Result<HttpResponse, ApiError> {
    let seq = body.into_inner().seq;
    let read = threads::mark_read_on(&state.db, &caller, id.into_inner(), seq).await?;
    Ok(HttpResponse::Ok().json(read))
}
