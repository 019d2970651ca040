//! Chinese-aware full-text index of listings (tantivy).
