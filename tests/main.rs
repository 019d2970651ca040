//! The one integration-test binary: every module starts the real server on an
//! ephemeral port with its own database and talks to it over HTTP.

mod attachments;
mod auth;
mod background;
mod backup;
mod clients;
mod communities;
mod console;
mod contract;
mod crash;
mod deal_followups;
mod deals;
mod eval;
mod events;
mod fault;
mod firm_app;
mod firms;
mod frontdesk;
mod helpers;
mod hostile_input;
mod http_basics;
mod import;
mod layers;
mod listings;
mod matches;
mod process;
mod protection;
mod retention;
mod search;
mod security;
mod sheets;
mod staff;
mod threads;
mod trust_rules;
mod webhooks;
mod wechat;
