//! Listing model, units and scoring: pure domain logic, no I/O.

pub mod attributes;
pub mod errors;
pub mod model;
pub mod units;
pub mod uscc;

pub use attributes::{attribute_keys, validate_attributes};
pub use errors::{FieldError, codes};
pub use model::{Kind, ListingStatus, Side, UnknownVariant, Urgency, Visibility};
pub use units::{
    BaseUnit, Dimension, NormalPrice, NormalUnit, Period, Price, PriceUnit, Quantity, find_amounts,
    parse_amount_with_unit, parse_price_unit, parse_quantity_unit,
};
pub use uscc::{Uscc, UsccError, compute_check_character};
