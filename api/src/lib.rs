//! Zhiqilian (智企连): supply-and-demand matching for industrial parks.
//!
//! The REST service, in layers whose dependencies point one way
//! (docs/ARCHITECTURE.md):
//!
//! - [`http`]: actix only — the app, its state, extractors, middleware and
//!   routes; parses a request, calls the service, maps the answer.
//! - [`service`]: the use cases — rules, permissions, validation, one
//!   transaction each; no actix.
//! - [`worker`]: what runs beside the requests — the search indexer, the
//!   background sweeps, webhook deliveries and the live event hub.
//! - [`cli`]: the commands (`serve`, `migrate`, `import`, `eval`, …) that
//!   wire the layers together.
//!
//! The store (`zhiqilian-store`, re-exported as [`store`]) sits below them
//! all; [`config`] and [`telemetry`] are read by every layer.

pub mod cli;
pub mod config;
pub mod http;
pub mod service;
pub mod telemetry;
pub mod worker;

/// The store crate, under the name the service uses for it.
pub use zhiqilian_store as store;
