//! Cursor pagination, as the use cases page their lists.

pub use crate::service::pagination::*;
