//! Closed vocabularies of a listing (side, kind, urgency, visibility, status) as enums.
//!
//! The wire form of every variant is its lowercase English name (`"offer"`,
//! `"space"`, …), identical in JSON, query strings and the database, so one
//! `as_str`/`FromStr` pair serves all three.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A string that names none of an enum's variants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("无法识别的取值“{value}”，可选值：{expected}")]
pub struct UnknownVariant {
    /// The text as received (untrimmed, so the caller can echo it back).
    pub value: String,
    /// The allowed wire values, separated by ` | `.
    pub expected: &'static str,
}

/// Generates `ALL`, `as_str`, `label_zh`, `Display` and `FromStr` for a
/// fieldless enum; one definition keeps the wire names and `ALL` from drifting.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(#[$fmeta:meta])* $first:ident => ($first_wire:literal, $first_zh:literal),
            $( $(#[$vmeta:meta])* $variant:ident => ($wire:literal, $zh:literal), )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "diesel", derive(diesel::AsExpression, diesel::FromSqlRow))]
        #[cfg_attr(feature = "diesel", diesel(sql_type = diesel::sql_types::Text))]
        #[serde(rename_all = "lowercase")]
        pub enum $name {
            $(#[$fmeta])* $first,
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &[Self] = &[Self::$first, $(Self::$variant,)*];

            /// The allowed wire values, for error messages and API docs.
            pub const EXPECTED: &'static str = concat!($first_wire $(, " | ", $wire)*);

            /// The wire name (same as the serde form).
            pub fn as_str(&self) -> &'static str {
                match self {
                    Self::$first => $first_wire,
                    $( Self::$variant => $wire, )*
                }
            }

            /// The label shown to users.
            pub fn label_zh(&self) -> &'static str {
                match self {
                    Self::$first => $first_zh,
                    $( Self::$variant => $zh, )*
                }
            }
        }

        /// Stored as its wire name in a text column, on every backend.
        #[cfg(feature = "diesel")]
        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        /// Read back from its wire name; a value this build does not know
        /// is an error, never a default.
        #[cfg(feature = "diesel")]
        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let s = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    DB,
                >>::from_sql(bytes)?;
                Ok(s.parse::<$name>()?)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownVariant;

            /// Accepts the wire name, ignoring surrounding whitespace and ASCII
            /// case, because query strings are typed by hand (`?side=Offer`).
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim();
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(wanted))
                    .ok_or_else(|| UnknownVariant {
                        value: s.to_owned(),
                        expected: Self::EXPECTED,
                    })
            }
        }
    };
}

vocabulary! {
    /// Whether a listing supplies something or asks for it.
    pub enum Side {
        /// Something a firm has spare: space, machines, stock, trucks, people.
        Offer => ("offer", "供给"),
        /// Something a firm needs; its price is a budget.
        Request => ("request", "需求"),
    }
}

impl Side {
    /// The side a listing is matched against.
    pub fn opposite(&self) -> Self {
        match self {
            Self::Offer => Self::Request,
            Self::Request => Self::Offer,
        }
    }
}

vocabulary! {
    /// What a listing is about; decides which attribute keys apply.
    pub enum Kind {
        /// Factory floor, warehouse or cold store.
        Space => ("space", "厂房仓储"),
        /// Machines for rent, sale, shared machine hours or contract work.
        Equipment => ("equipment", "设备"),
        /// Raw material, surplus stock, packaging.
        Material => ("material", "物料"),
        /// Trucks and transport capacity.
        Logistics => ("logistics", "物流运力"),
        /// Workers lent or wanted for a period.
        Workforce => ("workforce", "用工"),
        /// Testing, repair, training and other services.
        Service => ("service", "服务"),
    }
}

vocabulary! {
    /// How soon a request must be met.
    ///
    /// Ordered from least to most pressing so callers can compare levels.
    #[derive(PartialOrd, Ord)]
    pub enum Urgency {
        Normal => ("normal", "常规"),
        Urgent => ("urgent", "加急"),
        /// Production stopped or public-health need (e.g. masks, testing).
        Emergency => ("emergency", "紧急"),
    }
}

vocabulary! {
    /// Who may see a listing.
    pub enum Visibility {
        /// Everyone, including anonymous visitors.
        Public => ("public", "公开"),
        /// Only members of the listing's industrial community.
        Community => ("community", "仅本社区"),
    }
}

vocabulary! {
    /// Whether a listing still takes part in matching.
    pub enum ListingStatus {
        Open => ("open", "开放"),
        Closed => ("closed", "已关闭"),
    }
}

vocabulary! {
    /// Where a stored match record (a request paired with an offer) stands:
    /// suggested → contacted → agreed | declined; `expired` when a listing
    /// closed first.
    pub enum MatchStatus {
        Suggested => ("suggested", "推荐"),
        Contacted => ("contacted", "已联系"),
        Agreed => ("agreed", "已达成"),
        Declined => ("declined", "已婉拒"),
        Expired => ("expired", "已失效"),
    }
}

impl MatchStatus {
    /// Still open to a move by the firms (not agreed, declined or expired).
    pub fn is_open(self) -> bool {
        matches!(self, MatchStatus::Suggested | MatchStatus::Contacted)
    }
}

vocabulary! {
    /// What the firms did with a match, as the outcome log records it
    /// (`match_outcomes`), from worst to best: declined, contacted,
    /// agreed (an agreement on it confirmed), completed (that agreement
    /// delivered).
    #[derive(PartialOrd, Ord)]
    pub enum MatchOutcome {
        Declined => ("declined", "已婉拒"),
        Contacted => ("contacted", "已联系"),
        Agreed => ("agreed", "已达成"),
        Completed => ("completed", "已完成"),
    }
}

impl MatchOutcome {
    /// The outcome a move of a match record to `status` records, if any
    /// (`suggested` and `expired` say nothing about the firms' judgement).
    pub fn of_status(status: MatchStatus) -> Option<Self> {
        match status {
            MatchStatus::Contacted => Some(Self::Contacted),
            MatchStatus::Agreed => Some(Self::Agreed),
            MatchStatus::Declined => Some(Self::Declined),
            MatchStatus::Suggested | MatchStatus::Expired => None,
        }
    }
}

vocabulary! {
    /// Where a staff case stands: open → claimed → brokered → resolved.
    pub enum CaseStatus {
        Open => ("open", "待处理"),
        Claimed => ("claimed", "已认领"),
        Brokered => ("brokered", "已牵线"),
        Resolved => ("resolved", "已办结"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks the invariants every vocabulary must keep: wire name round-trips
    /// through `FromStr`, `Display` and serde, and names are unique.
    fn check_vocabulary<T>(all: &[T])
    where
        T: Copy
            + PartialEq
            + fmt::Debug
            + fmt::Display
            + FromStr<Err = UnknownVariant>
            + Serialize
            + for<'de> Deserialize<'de>,
    {
        let mut seen = std::collections::HashSet::new();
        for &v in all {
            let wire = v.to_string();
            assert!(seen.insert(wire.clone()), "duplicate wire name {wire}");
            assert_eq!(wire, wire.to_lowercase());
            assert_eq!(wire.parse::<T>(), Ok(v));
            assert_eq!(wire.to_uppercase().parse::<T>(), Ok(v));
            assert_eq!(format!("  {wire}\n").parse::<T>(), Ok(v));
            let json = serde_json::to_string(&v).expect("serialise");
            assert_eq!(json, format!("\"{wire}\""));
            let back: T = serde_json::from_str(&json).expect("deserialise");
            assert_eq!(back, v);
        }
    }

    #[test]
    fn all_vocabularies_round_trip() {
        check_vocabulary(Side::ALL);
        check_vocabulary(Kind::ALL);
        check_vocabulary(Urgency::ALL);
        check_vocabulary(Visibility::ALL);
        check_vocabulary(ListingStatus::ALL);
        check_vocabulary(MatchStatus::ALL);
        check_vocabulary(CaseStatus::ALL);
        check_vocabulary(MatchOutcome::ALL);
    }

    #[test]
    fn all_lists_every_variant() {
        assert_eq!(Side::ALL, &[Side::Offer, Side::Request]);
        assert_eq!(Kind::ALL.len(), 6);
        assert_eq!(Urgency::ALL.len(), 3);
        assert_eq!(Visibility::ALL.len(), 2);
        assert_eq!(ListingStatus::ALL.len(), 2);
    }

    #[test]
    fn unknown_value_lists_allowed_values() {
        let err = "supply".parse::<Side>().expect_err("not a side");
        assert_eq!(err.value, "supply");
        assert_eq!(err.expected, "offer | request");
        let msg = err.to_string();
        assert!(
            msg.contains("supply") && msg.contains("offer | request"),
            "{msg}"
        );

        let err = "".parse::<Kind>().expect_err("empty is not a kind");
        assert_eq!(
            err.expected,
            "space | equipment | material | logistics | workforce | service"
        );
    }

    #[test]
    fn serde_is_strict_about_case() {
        // FromStr is lenient for hand-typed queries; JSON from our own clients is not.
        assert!(serde_json::from_str::<Kind>("\"Space\"").is_err());
        assert_eq!(
            serde_json::from_str::<Kind>("\"space\"").expect("lowercase"),
            Kind::Space
        );
    }

    #[test]
    fn opposite_side_is_an_involution() {
        assert_eq!(Side::Offer.opposite(), Side::Request);
        assert_eq!(Side::Request.opposite(), Side::Offer);
        for &s in Side::ALL {
            assert_ne!(s.opposite(), s);
            assert_eq!(s.opposite().opposite(), s);
        }
    }

    #[test]
    fn outcomes_are_ordered_from_worst_to_best() {
        assert!(MatchOutcome::Declined < MatchOutcome::Contacted);
        assert!(MatchOutcome::Contacted < MatchOutcome::Agreed);
        assert!(MatchOutcome::Agreed < MatchOutcome::Completed);
        assert_eq!(
            MatchOutcome::of_status(MatchStatus::Agreed),
            Some(MatchOutcome::Agreed)
        );
        assert_eq!(MatchOutcome::of_status(MatchStatus::Expired), None);
        assert_eq!(MatchOutcome::of_status(MatchStatus::Suggested), None);
    }

    #[test]
    fn urgency_is_ordered_by_pressure() {
        assert!(Urgency::Normal < Urgency::Urgent);
        assert!(Urgency::Urgent < Urgency::Emergency);
    }

    #[test]
    fn kind_labels_are_chinese_and_distinct() {
        let labels: std::collections::HashSet<_> = Kind::ALL.iter().map(Kind::label_zh).collect();
        assert_eq!(labels.len(), Kind::ALL.len());
        assert_eq!(Kind::Space.label_zh(), "厂房仓储");
        assert_eq!(Kind::Logistics.label_zh(), "物流运力");
        assert!(labels.iter().all(|l| !l.is_ascii()));
    }
}
