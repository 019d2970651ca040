//! Zhiqilian (智企连): supply-and-demand matching for industrial parks.
//!
//! The REST service: configuration, the store, authentication, routes and
//! the command-line tools around them.

pub mod admission;
pub mod app;
pub mod auth;
pub mod background;
pub mod backup;
pub mod cli;
pub mod config;
pub mod console;
pub mod error;
pub mod eval;
pub mod events;
pub mod firm_app;
pub mod import;
pub mod indexer;
pub mod input;
pub mod listing_form;
pub mod matching;
pub mod metrics;
pub mod protect;
pub mod quota;
pub mod routes;
pub mod sla;
pub mod ssrf;
pub mod state;
pub mod stats;
pub mod store;
pub mod telemetry;
pub mod validate;
pub mod vocab_suggest;
pub mod webhooks;
