//! Cursor pagination lives in the service layer; the route files name it
//! from here.

pub use crate::service::pagination::*;
