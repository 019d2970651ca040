//! Field-level validation errors shared by every validator in this crate.
//!
//! Error policy: validators never stop at the first problem; they return every
//! [`FieldError`] they find so a form can mark all bad fields at once. Each
//! error carries a dotted `field` path (`attributes.area_m2`,
//! `attributes.skills[2]`), a stable snake_case `code` that clients may branch
//! on (see [`codes`]; never rename one), and a short Chinese `message` meant
//! for people, which may be reworded at any time. Parse failures of single
//! values (a USCC, a unit) have their own typed errors and are turned into a
//! `FieldError` only at the boundary that knows the field name.

use std::fmt;

use serde::Serialize;

/// The stable machine codes used in [`FieldError::code`].
pub mod codes {
    /// A required value is missing, or a text is blank after trimming.
    pub const REQUIRED: &str = "required";
    /// A text or list is longer than allowed.
    pub const TOO_LONG: &str = "too_long";
    /// A number (or date) lies outside its allowed range.
    pub const OUT_OF_RANGE: &str = "out_of_range";
    /// A key that this kind of object does not define.
    pub const UNKNOWN_KEY: &str = "unknown_key";
    /// The JSON type is wrong (a string where a number belongs, a fraction where an integer belongs, null).
    pub const INVALID_TYPE: &str = "invalid_type";
    /// The text does not follow the required format (a date, a code).
    pub const INVALID_FORMAT: &str = "invalid_format";
    /// The text is well-formed but not one of the allowed values.
    pub const INVALID_CHOICE: &str = "invalid_choice";
    /// A code's check character does not match the rest of the code.
    pub const INVALID_CHECK_CHARACTER: &str = "invalid_check_character";
}

/// One problem with one input field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    /// Dotted path of the offending field, e.g. `attributes.area_m2`.
    pub field: String,
    /// Stable machine code from [`codes`].
    pub code: &'static str,
    /// Short explanation in Chinese for the user.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.field, self.message, self.code)
    }
}

impl std::error::Error for FieldError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_with_stable_field_names() {
        let e = FieldError::new("attributes.area_m2", codes::OUT_OF_RANGE, "面积应大于 0");
        let v = serde_json::to_value(&e).expect("serialise");
        assert_eq!(
            v,
            serde_json::json!({
                "field": "attributes.area_m2",
                "code": "out_of_range",
                "message": "面积应大于 0",
            })
        );
    }

    #[test]
    fn display_names_field_and_code() {
        let e = FieldError::new(
            String::from("uscc"),
            codes::INVALID_CHECK_CHARACTER,
            "校验码不符",
        );
        assert_eq!(e.to_string(), "uscc: 校验码不符 (invalid_check_character)");
    }

    #[test]
    fn codes_are_snake_case_ascii() {
        for code in [
            codes::REQUIRED,
            codes::TOO_LONG,
            codes::OUT_OF_RANGE,
            codes::UNKNOWN_KEY,
            codes::INVALID_TYPE,
            codes::INVALID_FORMAT,
            codes::INVALID_CHOICE,
            codes::INVALID_CHECK_CHARACTER,
        ] {
            assert!(
                !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code}"
            );
        }
    }
}
