//! The HTTP layer: actix-web only. Handlers parse a request, call one
//! service function and map its result; the problem+json error format,
//! authentication extractors and the middleware (request protection,
//! admission, input screening, metrics) live here too.

pub mod admission;
pub mod app;
pub mod auth;
pub mod console;
pub mod error;
pub mod firm_app;
pub mod input;
pub mod limits;
pub mod metrics;
pub mod protect;
pub mod routes;
pub mod state;
pub mod upload;
pub mod usage;
