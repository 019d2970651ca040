//! Listing model, units and scoring: pure domain logic, no I/O.

pub mod attributes;
pub mod constraints;
pub mod errors;
mod extract;
pub mod limits;
pub mod listing;
pub mod model;
pub mod places;
pub mod score;
mod spec;
mod text;
pub mod tune;
pub mod units;
pub mod uscc;
pub mod vocab;

pub use attributes::{attribute_keys, validate_attributes};
pub use constraints::{
    CROSS_KIND_RULES, CrossKindRule, KindRelation, Violation, first_violation, kind_relation,
    order_roles, violations,
};
pub use errors::{FieldError, codes};
pub use extract::{fire_class_strictness, normalise_place, same_place};
pub use listing::{MatchListing, Reliability};
pub use model::{
    CaseStatus, Kind, ListingStatus, MatchOutcome, MatchStatus, Side, UnknownVariant, Urgency,
    Visibility,
};
pub use score::{Factor, Scored, Weights, factor_keys, haversine_km, rank, score};
pub use units::{
    BaseUnit, Dimension, NormalPrice, NormalUnit, Period, Price, PriceUnit, Quantity, find_amounts,
    parse_amount_with_unit, parse_price_unit, parse_quantity_unit,
};
pub use uscc::{Uscc, UsccError, compute_check_character};
