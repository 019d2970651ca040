//! Output shapes of the HTTP layer that the routes share and no use case
//! builds.

pub mod audit;
