//! The account lifecycle over HTTP: password change and reset, firm
//! invitations and members, the firm profile, and a user's own data
//! (export, deletion). The rules are `service::lifecycle`'s.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::error::ApiError;
use crate::service::lifecycle::{self, ProfilePatch};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

/// `POST /api/v1/me/password`
pub async fn change_password(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ChangePassword>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    lifecycle::change_password(&state.db, &caller, b.current_password, b.new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueReset {
    pub user_id: String,
}

/// `POST /api/v1/staff/password-resets`
pub async fn issue_reset(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<IssueReset>,
) -> Result<HttpResponse, ApiError> {
    let issued = lifecycle::issue_reset_code(&state.db, &caller, body.into_inner().user_id).await?;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(issued))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    pub login: String,
    pub code: String,
    pub new_password: String,
}

/// `POST /api/v1/auth/reset-password`
pub async fn reset_password(
    state: web::Data<AppState>,
    body: web::Json<ResetPassword>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    lifecycle::reset_password(&state.db, b.login, b.code, b.new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/v1/firms/{id}/invites`
pub async fn invite(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let out = lifecycle::invite(&state.db, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(out))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Join {
    pub code: String,
    pub login: String,
    pub password: String,
    pub display_name: String,
}

/// `POST /api/v1/firms/join`
pub async fn join(
    state: web::Data<AppState>,
    body: web::Json<Join>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let m = lifecycle::join(&state.db, b.code, b.login, b.display_name, b.password).await?;
    Ok(HttpResponse::Created().json(serde_json::json!({
        "user_id": m.user_id, "firm_id": m.firm_id, "role": m.role,
    })))
}

/// `DELETE /api/v1/firms/{id}/members/{user_id}`
pub async fn remove_member(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (firm, user) = path.into_inner();
    lifecycle::remove_member(&state.db, &caller, firm, user).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandOver {
    pub user_id: String,
}

/// `POST /api/v1/firms/{id}/admin`
pub async fn hand_over(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<HandOver>,
) -> Result<HttpResponse, ApiError> {
    lifecycle::hand_over_admin(
        &state.db,
        &caller,
        id.into_inner(),
        body.into_inner().user_id,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `PATCH /api/v1/firms/{id}`
pub async fn edit_profile(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<ProfilePatch>,
) -> Result<HttpResponse, ApiError> {
    let out =
        lifecycle::edit_profile(&state.db, &caller, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `GET /api/v1/me/export`
pub async fn export(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let v = lifecycle::export(&state.db, &caller).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            "attachment; filename=\"zhiqilian-my-data.json\"",
        ))
        .json(v))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccount {
    pub password: String,
}

/// `POST /api/v1/me/delete`
pub async fn delete_account(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<DeleteAccount>,
) -> Result<HttpResponse, ApiError> {
    lifecycle::delete_account(&state.db, &caller, body.into_inner().password).await?;
    Ok(HttpResponse::NoContent().finish())
}
