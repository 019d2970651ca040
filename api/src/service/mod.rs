//! The use cases: every rule of the product, each use case one function
//! (one transaction), typed errors, no actix. The HTTP layer, the workers and
//! the command line call these; a rule lives here once and is tested here
//! against a real SQLite database, without HTTP.

pub mod access;
pub mod accounts;
pub mod agreements;
pub mod attachments;
pub mod cases;
pub mod clients;
pub mod communities;
pub mod deal_terms;
pub mod digest;
pub mod districts;
pub mod error;
pub mod events;
pub mod file_type;
pub mod firms;
pub mod frontdesk;
pub mod lifecycle;
pub mod listing_form;
pub mod listings;
pub mod matches;
pub mod matching;
pub mod moderation;
pub mod multipart;
pub mod notifications;
pub mod ops;
pub mod outcomes;
pub mod pagination;
pub mod password;
pub mod pdf_scan;
pub mod quota;
pub mod quotes;
pub mod reputation;
pub mod search;
pub mod sessions;
pub mod sheets;
pub mod sla;
pub mod ssrf;
pub mod staff;
pub mod stats;
#[cfg(test)]
pub mod testkit;
pub mod threads;
pub mod tokens;
pub mod usage;
pub mod validate;
pub mod views;
pub mod vocabulary;
pub mod webhooks;
pub mod wechat;
pub mod wechat_subscribe;
pub mod wechat_templates;
