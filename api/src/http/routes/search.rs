//! Full-text search over listings, with filters, distance and facets. The
//! query rules are in `service::search`.

use actix_web::{HttpResponse, web};

use crate::http::auth::Caller;
use crate::http::state::AppState;
use crate::service::error::ApiError;
use crate::service::search::{self, SearchQuery};

pub async fn search(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let index = state.search.index.clone();
    let page = search::search(&state.db, index, &caller, q.into_inner()).await?;
    Ok(HttpResponse::Ok().json(page))
}
