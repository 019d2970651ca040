//! Chinese-aware full-text index of listings (tantivy): tokenizers, synonyms, schema, the
//! single writer and the query builder. The database stays the source of truth; this index is
//! a cache that can always be rebuilt from an iterator of [`ListingDoc`]s.
//!
//! ```no_run
//! use std::path::Path;
//! use zhiqilian_search_index::{ListingIndex, SearchRequest, Vocabulary};
//!
//! # fn main() -> Result<(), zhiqilian_search_index::IndexError> {
//! let vocab = Vocabulary::shared_builtin();
//! let outcome = ListingIndex::open_or_create(Path::new("data/index"), vocab)?;
//! if outcome.needs_rebuild {
//!     // feed every listing from the database, then the change-log sequence it reflects
//!     outcome.index.rebuild(Vec::new(), 0, |_done| {})?;
//! }
//! let results = outcome.index.search(&SearchRequest::text("铲车出租"))?;
//! println!("{} hits", results.total);
//! # Ok(()) }
//! ```

mod error;
pub mod index;
pub mod query;
pub mod schema;
pub mod synonyms;
pub mod tokenizer;
pub mod vocab;

pub use error::{IndexError, VocabError};
pub use index::{ListingIndex, OpenOutcome, RebuildReason, WriterLock};
pub use query::{
    FacetCount, Facets, GeoFilter, Hit, MAX_LIMIT, SearchRequest, SearchResults, Snippets,
    SortOrder, VisibilityRule, haversine_km,
};
pub use schema::{ListingDoc, SCHEMA_VERSION};
pub use tokenizer::{CHAR_TOKENIZER, WORD_TOKENIZER, ZhCharTokenizer, ZhTokenizer};
pub use vocab::{VocabSources, Vocabulary};
