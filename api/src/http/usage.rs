//! Counts the requests of API clients (`service::usage`): the `Caller`
//! extractor marks a request made with a client's token, and this
//! middleware counts it, as an error when answered with a 4xx or 5xx, in
//! memory; the counts are written in batches.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, web};

use crate::http::state::AppState;

/// The API client whose token a request carries.
#[derive(Debug, Clone)]
struct ClientCall(String);

/// Marks `req` as made with a token of client `client_id`.
pub fn mark(req: &HttpRequest, client_id: &str) {
    req.extensions_mut()
        .insert(ClientCall(client_id.to_string()));
}

pub async fn count(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let res = next.call(req).await?;
    let call = res.request().extensions().get::<ClientCall>().cloned();
    if let Some(ClientCall(id)) = call
        && let Some(state) = res.request().app_data::<web::Data<AppState>>()
    {
        let s = res.status();
        state
            .usage
            .request(&id, s.is_client_error() || s.is_server_error());
    }
    Ok(res)
}
