//! The one integration-test binary: every module starts the real server on an
//! ephemeral port with its own database and talks to it over HTTP.

mod auth;
mod background;
mod backup;
mod clients;
mod communities;
mod console;
mod contract;
mod crash;
mod events;
mod fault;
mod firms;
mod helpers;
mod http_basics;
mod import;
mod listings;
mod matches;
mod process;
mod protection;
mod retention;
mod search;
mod staff;
mod threads;
mod webhooks;
mod wechat;
