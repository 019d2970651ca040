//! Integration tests of the search index through its public API (one test binary).

mod fixtures;
mod lifecycle;
mod search;
mod snippet_regression;
