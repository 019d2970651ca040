//! Error types of the crate.
//!
//! Policy: one enum per concern. [`IndexError`] is what index and search calls return; the
//! variants a caller can act on are distinct (a foreign directory, a bad request, a bad
//! document), everything tantivy reports is wrapped as is. [`VocabError`] only comes from
//! loading vocabulary files, which happens once at start-up.

use std::path::PathBuf;

/// Errors of opening, writing or searching the listing index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// tantivy failed (I/O, lock held by another writer, …).
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// A file-system operation on the index directory failed.
    #[error("index directory {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The directory holds files that are not ours: we refuse to wipe it.
    #[error("{0} is not empty and does not look like a listing index; refusing to overwrite it")]
    ForeignDirectory(PathBuf),
    /// A document cannot be indexed (e.g. an empty id).
    #[error("invalid listing document: {0}")]
    InvalidDocument(String),
    /// A search request is malformed (e.g. a non-finite coordinate).
    #[error("invalid search request: {0}")]
    InvalidRequest(String),
}

/// Errors of loading vocabulary files.
#[derive(Debug, thiserror::Error)]
pub enum VocabError {
    #[error("vocabulary file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("vocabulary directory {0} does not exist")]
    MissingDirectory(PathBuf),
}
