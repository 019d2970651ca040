//! Unified social credit code (统一社会信用代码, GB 32100-2015) as a checked newtype.
//!
//! Layout of the 18 characters (1-based positions):
//! 1 registration authority, 2 organisation type, 3–8 administrative region
//! (digits), 9–17 organisation code, 18 check character. Every character comes
//! from a 31-character alphabet without I, O, Z, S and V, which are too easily
//! confused with 1, 0, 2, 5 and U.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::errors::{FieldError, codes};

/// The code alphabet; a character's index is its numeric value.
const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights of positions 1..=17 (3^(i-1) mod 31).
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

const LEN: usize = 18;

/// Why a text is not a valid unified social credit code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    #[error("统一社会信用代码应为 18 位，实际为 {found} 位")]
    WrongLength { found: usize },
    #[error("统一社会信用代码第 {position} 位含无效字符“{ch}”")]
    InvalidCharacter { position: usize, ch: char },
    #[error("统一社会信用代码第 3–8 位（行政区划码）应为数字，实际为“{region}”")]
    InvalidRegionCode { region: String },
    #[error("统一社会信用代码校验位不符：应为“{expected}”，实际为“{found}”")]
    CheckCharacterMismatch { expected: char, found: char },
}

impl UsccError {
    /// The stable machine code for API responses.
    pub fn code(&self) -> &'static str {
        match self {
            Self::CheckCharacterMismatch { .. } => codes::INVALID_CHECK_CHARACTER,
            Self::WrongLength { .. }
            | Self::InvalidCharacter { .. }
            | Self::InvalidRegionCode { .. } => codes::INVALID_FORMAT,
        }
    }

    /// This error as a [`FieldError`] on `field` (e.g. `firm.uscc`).
    pub fn to_field_error(&self, field: impl Into<String>) -> FieldError {
        FieldError::new(field, self.code(), self.to_string())
    }
}

/// A unified social credit code whose format and check character were verified.
///
/// Stored trimmed and in upper case, so two spellings of one code compare equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uscc(String);

fn value_of(ch: char) -> Option<u32> {
    // Non-ASCII chars can never match; the cast is only reached for ASCII.
    if !ch.is_ascii() {
        return None;
    }
    CHARSET
        .iter()
        .position(|&c| c == ch as u8)
        .and_then(|i| u32::try_from(i).ok())
}

/// The check character for the first 17 characters of a code, or `None` if
/// `body` is not 17 characters of the code alphabet (upper case).
///
/// Exposed so tests and fixtures can build valid codes.
pub fn compute_check_character(body: &str) -> Option<char> {
    let mut sum = 0u32;
    let mut count = 0usize;
    for (ch, weight) in body.chars().zip(WEIGHTS) {
        sum += value_of(ch)? * weight;
        count += 1;
    }
    if count != WEIGHTS.len() || body.chars().count() != WEIGHTS.len() {
        return None;
    }
    // 31 - (sum mod 31) is in 1..=31; 31 wraps to 0.
    let check = (31 - sum % 31) % 31;
    CHARSET.get(check as usize).map(|&b| char::from(b))
}

impl Uscc {
    /// Parses a code, accepting surrounding whitespace and lower-case letters.
    pub fn parse(input: &str) -> Result<Self, UsccError> {
        let code = input.trim().to_ascii_uppercase();
        let chars: Vec<char> = code.chars().collect();
        if chars.len() != LEN {
            return Err(UsccError::WrongLength { found: chars.len() });
        }
        // Check the alphabet first so the errors point at the exact position.
        if let Some((i, &ch)) = chars
            .iter()
            .enumerate()
            .find(|&(_, &ch)| value_of(ch).is_none())
        {
            return Err(UsccError::InvalidCharacter {
                position: i + 1,
                ch,
            });
        }
        let region = &chars[2..8];
        if !region.iter().all(char::is_ascii_digit) {
            return Err(UsccError::InvalidRegionCode {
                region: region.iter().collect(),
            });
        }
        let body: String = chars[..17].iter().collect();
        let found = chars[17];
        match compute_check_character(&body) {
            Some(expected) if expected == found => Ok(Self(code)),
            Some(expected) => Err(UsccError::CheckCharacterMismatch { expected, found }),
            // Unreachable after the alphabet check, but an error beats a panic.
            None => Err(UsccError::InvalidCharacter {
                position: 1,
                ch: chars[0],
            }),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Position 1: who registered the entity (9 = market regulator, 5 = civil affairs, …).
    pub fn registration_authority(&self) -> char {
        // Parse guarantees 18 ASCII characters, so byte slicing is safe here.
        char::from(self.0.as_bytes()[0])
    }

    /// Positions 3–8: the six-digit administrative region code (330206 = 北仑区).
    pub fn region_code(&self) -> &str {
        &self.0[2..8]
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Uscc {
    type Err = UsccError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for Uscc {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for Uscc {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Uscc {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Codes copied from the dev listings (fictional firms).
    const VALID: &[&str] = &[
        "91330206625496915B",
        "91330206MA2LTKJ895",
        "91330206603660411L",
        "91330206MA2K7UM33J",
    ];

    const DEV_LISTINGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../eval/dev/listings.jsonl");

    #[test]
    fn accepts_known_valid_codes() {
        for code in VALID {
            let uscc = Uscc::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
            assert_eq!(uscc.as_str(), *code);
            assert_eq!(uscc.region_code(), "330206");
            assert_eq!(uscc.registration_authority(), '9');
        }
    }

    #[test]
    fn every_firm_in_dev_listings_parses() {
        let text = std::fs::read_to_string(DEV_LISTINGS)
            .unwrap_or_else(|e| panic!("{DEV_LISTINGS}: {e} (the labelled set ships in eval/dev)"));
        let mut checked = 0;
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let listing: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
            let code = listing["firm"]["uscc"]
                .as_str()
                .unwrap_or_else(|| panic!("line {}: no firm.uscc", n + 1));
            if let Err(e) = Uscc::parse(code) {
                panic!("line {}: {code}: {e}", n + 1);
            }
            checked += 1;
        }
        assert!(checked > 100, "only {checked} listings read");
    }

    #[test]
    fn normalises_case_and_whitespace() {
        let uscc = Uscc::parse("  91330206ma2ltkj895\n").expect("lower case is accepted");
        assert_eq!(uscc.as_str(), "91330206MA2LTKJ895");
        assert_eq!(uscc, Uscc::parse("91330206MA2LTKJ895").expect("valid"));
    }

    #[test]
    fn rejects_one_changed_character() {
        assert_eq!(
            Uscc::parse("91330206625496916B"),
            Err(UsccError::CheckCharacterMismatch {
                expected: compute_check_character("91330206625496916").expect("body"),
                found: 'B',
            })
        );
        let err = Uscc::parse("91330206625496915C").expect_err("wrong check char");
        assert_eq!(
            err,
            UsccError::CheckCharacterMismatch {
                expected: 'B',
                found: 'C'
            }
        );
        assert_eq!(err.code(), codes::INVALID_CHECK_CHARACTER);
    }

    #[test]
    fn rejects_wrong_length() {
        assert_eq!(Uscc::parse(""), Err(UsccError::WrongLength { found: 0 }));
        assert_eq!(
            Uscc::parse("91330206625496915"),
            Err(UsccError::WrongLength { found: 17 })
        );
        assert_eq!(
            Uscc::parse("91330206625496915BB"),
            Err(UsccError::WrongLength { found: 19 })
        );
        // Inner whitespace is not trimmed away.
        assert_eq!(
            Uscc::parse("913302066254 96915B"),
            Err(UsccError::WrongLength { found: 19 })
        );
    }

    #[test]
    fn rejects_letters_outside_the_alphabet() {
        for (code, position, ch) in [
            ("91330206MA2LTKJ8I5", 17, 'I'),
            ("91330206MO2LTKJ895", 10, 'O'),
            ("91330206MA2LTKJ89o", 18, 'O'),
            ("Z1330206MA2LTKJ895", 1, 'Z'),
            ("9S330206MA2LTKJ895", 2, 'S'),
            ("91330206MA2LTKJ89V", 18, 'V'),
            ("91330206MA2LTKJ89-", 18, '-'),
        ] {
            let err = Uscc::parse(code).expect_err(code);
            assert_eq!(err, UsccError::InvalidCharacter { position, ch }, "{code}");
            assert_eq!(err.code(), codes::INVALID_FORMAT);
        }
    }

    #[test]
    fn rejects_full_width_characters_by_position() {
        // 18 chars, one of them full-width: a character error, not a length error.
        let err = Uscc::parse("９1330206MA2LTKJ895").expect_err("full-width digit");
        assert_eq!(
            err,
            UsccError::InvalidCharacter {
                position: 1,
                ch: '９'
            }
        );
    }

    #[test]
    fn rejects_letters_in_region_code() {
        let body = "9133A206MA2LTKJ89";
        let check = compute_check_character(body).expect("alphabet");
        let code = format!("{body}{check}");
        assert_eq!(
            Uscc::parse(&code),
            Err(UsccError::InvalidRegionCode {
                region: "33A206".into()
            })
        );
    }

    #[test]
    fn weights_are_powers_of_three_mod_31() {
        // The standard defines W_i = 3^(i-1) mod 31; every dev code has a 0 at
        // position 5, so the data alone would not catch a typo in the table.
        let mut w = 1;
        for (i, &weight) in WEIGHTS.iter().enumerate() {
            assert_eq!(weight, w, "weight of position {}", i + 1);
            w = w * 3 % 31;
        }
    }

    #[test]
    fn accepts_codes_from_other_regions_and_authorities() {
        // 91350100M000100Y43 is the worked example circulated with the standard;
        // 92… is an individual business (个体工商户) from the dev data.
        for code in [
            "91350100M000100Y43",
            "92330206516019917L",
            "91330482MA2N4NL0X3",
        ] {
            assert!(Uscc::parse(code).is_ok(), "{code}");
        }
    }

    /// GB 32100-2015 §4.3, written out independently of the parser: the
    /// alphabet spelled as the standard's table lists it, each weight
    /// computed as 3^(i-1) mod 31, and C18 = 31 - (Σ Ci·Wi mod 31), where 31
    /// stands for 0.
    fn reference_check_character(body: &str) -> char {
        let table = "0123456789ABCDEFGHJKLMNPQRTUWXY";
        assert_eq!(body.chars().count(), 17, "{body}");
        let mut sum = 0u64;
        for (i, c) in body.chars().enumerate() {
            let value = table
                .find(c)
                .unwrap_or_else(|| panic!("{c} not in the table")) as u64;
            let weight = (0..i).fold(1u64, |w, _| w * 3 % 31);
            sum += value * weight;
        }
        let check = (31 - sum % 31) % 31;
        table.chars().nth(check as usize).expect("0..31")
    }

    /// Codes of real firms as their registrations publish them, and the
    /// standard's worked example.
    const PUBLISHED: &[(&str, &str)] = &[
        ("914403001922038216", "华为技术有限公司"),
        ("91440300708461136T", "深圳市腾讯计算机系统有限公司"),
        ("91330100799655058B", "阿里巴巴（中国）有限公司"),
        ("91110108558521630L", "小米通讯技术有限公司"),
        ("91110000802100433B", "北京百度网讯科技有限公司"),
        ("9144030071526726XG", "比亚迪股份有限公司"),
        ("91350100M000100Y43", "GB 32100-2015 worked example"),
    ];

    #[test]
    fn published_codes_parse_and_their_check_characters_are_recomputed() {
        for (code, firm) in PUBLISHED {
            assert_eq!(
                Uscc::parse(code).map(|u| u.0),
                Ok(code.to_string()),
                "{firm}"
            );
            let (body, check) = code.split_at(17);
            let expected = check.chars().next().expect("18th character");
            assert_eq!(reference_check_character(body), expected, "{firm}");
            assert_eq!(compute_check_character(body), Some(expected), "{firm}");
            // Any other last character is refused as a check mismatch.
            for other in CHARSET.iter().map(|&b| char::from(b)) {
                if other == expected {
                    continue;
                }
                assert_eq!(
                    Uscc::parse(&format!("{body}{other}")),
                    Err(UsccError::CheckCharacterMismatch {
                        expected,
                        found: other
                    }),
                    "{firm}"
                );
            }
        }
    }

    #[test]
    fn check_character_wraps_31_to_zero() {
        // Find a body whose weighted sum is a multiple of 31 by varying position 17.
        let found = CHARSET.iter().find_map(|&c| {
            let body = format!("9133020600000000{}", char::from(c));
            (compute_check_character(&body) == Some('0')).then_some(body)
        });
        let body = found.expect("some last character makes the sum ≡ 0 (mod 31)");
        assert!(Uscc::parse(&format!("{body}0")).is_ok());
    }

    #[test]
    fn compute_check_character_rejects_bad_bodies() {
        assert_eq!(compute_check_character("9133020662549691"), None);
        assert_eq!(compute_check_character("913302066254969155"), None);
        assert_eq!(compute_check_character("9133020662549691i"), None);
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let uscc = Uscc::parse(VALID[0]).expect("valid");
        let json = serde_json::to_string(&uscc).expect("serialise");
        assert_eq!(json, format!("\"{}\"", VALID[0]));
        let back: Uscc = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, uscc);
        let lower: Uscc =
            serde_json::from_str("\"91330206ma2ltkj895\"").expect("lower case accepted");
        assert_eq!(lower.as_str(), "91330206MA2LTKJ895");
        let err = serde_json::from_str::<Uscc>("\"91330206625496915C\"").expect_err("bad check");
        assert!(err.to_string().contains("校验位"), "{err}");
    }

    #[test]
    fn field_error_carries_path_and_code() {
        let err = Uscc::parse("123").expect_err("short");
        let fe = err.to_field_error("firm.uscc");
        assert_eq!(fe.field, "firm.uscc");
        assert_eq!(fe.code, "invalid_format");
        assert!(fe.message.contains("18"), "{}", fe.message);
    }

    fn charset_char() -> impl Strategy<Value = char> {
        (0..CHARSET.len()).prop_map(|i| char::from(CHARSET[i]))
    }

    fn body() -> impl Strategy<Value = String> {
        (
            proptest::collection::vec(charset_char(), 2),
            proptest::collection::vec(0u8..10, 6),
            proptest::collection::vec(charset_char(), 9),
        )
            .prop_map(|(head, region, org)| {
                head.into_iter()
                    .chain(region.into_iter().map(|d| char::from(b'0' + d)))
                    .chain(org)
                    .collect()
            })
    }

    proptest! {
        /// Codes completed with a check character computed by
        /// [`reference_check_character`] (not the parser's own function)
        /// parse, and the parser's function agrees with it.
        #[test]
        fn generated_codes_parse(body in body()) {
            let check = reference_check_character(&body);
            prop_assert_eq!(compute_check_character(&body), Some(check));
            let code = format!("{body}{check}");
            let parsed = Uscc::parse(&code.to_ascii_lowercase());
            prop_assert_eq!(parsed.map(|u| u.0), Ok(code));
        }

        /// Weights are non-zero mod the prime 31, so any single substitution
        /// must change the check character.
        #[test]
        fn any_single_substitution_is_detected(
            body in body(),
            position in 0usize..18,
            replacement in charset_char(),
        ) {
            let check = compute_check_character(&body).expect("alphabet only");
            let mut chars: Vec<char> = format!("{body}{check}").chars().collect();
            prop_assume!(chars[position] != replacement);
            prop_assume!(!(2..8).contains(&position) || replacement.is_ascii_digit());
            chars[position] = replacement;
            let mutated: String = chars.into_iter().collect();
            let is_mismatch = matches!(
                Uscc::parse(&mutated),
                Err(UsccError::CheckCharacterMismatch { .. })
            );
            prop_assert!(is_mismatch, "{} accepted", mutated);
        }
    }
}
