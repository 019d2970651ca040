//! The terms of a quote or an agreement (quantity, price, dates, place),
//! checked the same way for both, and the unit-aware arithmetic of deals:
//! a quantity in another listing's unit (2吨 = 2000公斤), the total price of
//! a quantity (元/吨 × 吨, 元/车 × 车, 元/平方米/月 × 面积 × 月数).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use zhiqilian_matcher::{parse_price_unit, parse_quantity_unit};

use crate::service::error::ApiError;
use crate::service::listing_form::Amount;
use crate::service::validate::Errors;

/// Terms as a client sends them; every field optional so that a revision
/// may change only some (the rest come from the version it revises).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermsIn {
    pub quantity: Option<Amount>,
    pub price: Option<Amount>,
    pub available_from: Option<String>,
    pub available_until: Option<String>,
    pub place: Option<String>,
}

/// Checked terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Terms {
    pub quantity: Amount,
    pub price: Amount,
    pub available_from: Option<String>,
    pub available_until: Option<String>,
    pub place: String,
}

impl Terms {
    fn dates(&self) -> (Option<NaiveDate>, Option<NaiveDate>) {
        (date(&self.available_from), date(&self.available_until))
    }

    /// The total price in yuan, when the units allow it.
    pub fn total_yuan(&self) -> Option<f64> {
        let (from, until) = self.dates();
        total_yuan(&self.price, &self.quantity, from, until)
    }
}

fn date(s: &Option<String>) -> Option<NaiveDate> {
    s.as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

/// Checks terms; fields missing from `input` come from `base` (the version
/// revised, or a quote's terms), and quantity and price are required.
/// Unknown units are refused (`unknown_unit`), as are amounts out of range
/// and a window that ends before it starts.
pub fn check(input: &TermsIn, base: Option<&Terms>, errors: &mut Errors) -> Option<Terms> {
    let quantity = input
        .quantity
        .clone()
        .or_else(|| base.map(|b| b.quantity.clone()));
    let price = input
        .price
        .clone()
        .or_else(|| base.map(|b| b.price.clone()));
    let from = input
        .available_from
        .clone()
        .or_else(|| base.and_then(|b| b.available_from.clone()));
    let until = input
        .available_until
        .clone()
        .or_else(|| base.and_then(|b| b.available_until.clone()));
    let place = input
        .place
        .clone()
        .or_else(|| base.map(|b| b.place.clone()))
        .unwrap_or_default();
    let quantity = match quantity {
        None => {
            errors.push("quantity", "required", "须给出数量和单位");
            None
        }
        Some(q) => {
            if !(q.amount.is_finite() && q.amount > 0.0 && q.amount <= 1e12) {
                errors.push(
                    "quantity.amount",
                    "out_of_range",
                    "须为大于 0 且不超过 1e12 的数",
                );
            }
            if parse_quantity_unit(&q.unit).is_none() {
                errors.push(
                    "quantity.unit",
                    "unknown_unit",
                    format!(
                        "无法识别的数量单位“{}”，如 吨、公斤、平方米、台、车、人",
                        q.unit
                    ),
                );
            }
            Some(Amount {
                amount: q.amount,
                unit: q.unit.trim().to_string(),
            })
        }
    };
    let price = match price {
        None => {
            errors.push("price", "required", "须给出价格和单位");
            None
        }
        Some(p) => {
            if !(p.amount.is_finite() && p.amount >= 0.0 && p.amount <= 1e12) {
                errors.push("price.amount", "out_of_range", "须为 0 到 1e12 之间的数");
            }
            if parse_price_unit(&p.unit).is_none() {
                errors.push(
                    "price.unit",
                    "unknown_unit",
                    format!(
                        "无法识别的价格单位“{}”，如 元/吨、元/车、元/平方米/月",
                        p.unit
                    ),
                );
            }
            Some(Amount {
                amount: p.amount,
                unit: p.unit.trim().to_string(),
            })
        }
    };
    let parse = |errors: &mut Errors, field: &str, v: &Option<String>| -> Option<NaiveDate> {
        let s = v.as_deref()?.trim();
        match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) if s.len() == 10 => Some(d),
            _ => {
                errors.push(field, "invalid_format", "日期格式须为 YYYY-MM-DD");
                None
            }
        }
    };
    let f = parse(errors, "available_from", &from);
    let u = parse(errors, "available_until", &until);
    if let (Some(f), Some(u)) = (f, u)
        && u < f
    {
        errors.push(
            "available_until",
            "out_of_range",
            "结束日期不能早于开始日期",
        );
    }
    let place = errors.text("place", &place, 0, 200);
    Some(Terms {
        quantity: quantity?,
        price: price?,
        available_from: f.map(|d| d.to_string()),
        available_until: u.map(|d| d.to_string()),
        place,
    })
}

/// `amount` of `unit` expressed in `target` (2 吨 in 公斤 → 2000); `None`
/// when either unit is unknown or they measure different things.
pub fn convert(amount: f64, unit: &str, target: &str) -> Option<f64> {
    let (from, to) = (parse_quantity_unit(unit)?, parse_quantity_unit(target)?);
    from.is_comparable(&to)
        .then(|| amount * from.factor / to.factor)
}

/// The total price in yuan of `quantity` at `price`: a price per quantity
/// unit is multiplied by the quantity (in that unit), a periodic price by
/// the number of periods the dates span (inclusive; a month is 30 days).
/// `None` when the units do not compare, or a periodic price has no dates.
pub fn total_yuan(
    price: &Amount,
    quantity: &Amount,
    from: Option<NaiveDate>,
    until: Option<NaiveDate>,
) -> Option<f64> {
    let unit = parse_price_unit(&price.unit)?;
    let mut total = price.amount * unit.money_factor;
    if let Some(per) = unit.per {
        let q = parse_quantity_unit(&quantity.unit)?;
        if !q.is_comparable(&per) {
            return None;
        }
        total *= quantity.amount * q.factor / per.factor;
    }
    if let Some(period) = unit.period {
        let days = (until? - from?).num_days() as f64 + 1.0;
        total *= days / period.days();
    }
    total.is_finite().then_some(total)
}

/// A 422 naming the quantity's unit that does not compare with a listing's.
pub fn incomparable(unit: &str, listing_unit: &str) -> ApiError {
    ApiError::field(
        "quantity.unit",
        "incomparable_unit",
        format!("数量单位“{unit}”与信息的单位“{listing_unit}”不可比较"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(amount: f64, unit: &str) -> Amount {
        Amount {
            amount,
            unit: unit.into(),
        }
    }

    fn d(s: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
    }

    #[test]
    fn quantities_convert_between_units_of_one_kind_only() {
        assert_eq!(convert(2.0, "吨", "公斤"), Some(2000.0));
        assert_eq!(convert(1500.0, "平米", "㎡"), Some(1500.0));
        assert_eq!(convert(500.0, "kg", "t"), Some(0.5));
        assert_eq!(convert(2.0, "吨", "台"), None);
        assert_eq!(convert(2.0, "吨", "斗"), None);
    }

    #[test]
    fn totals_follow_the_price_unit() {
        // 元/吨 × 吨, whatever unit the quantity is written in.
        assert_eq!(
            total_yuan(&a(8100.0, "元/吨"), &a(2000.0, "公斤"), None, None),
            Some(16200.0)
        );
        // 元/车 × 车.
        assert_eq!(
            total_yuan(&a(800.0, "元/车"), &a(3.0, "车"), None, None),
            Some(2400.0)
        );
        // 元/平方米/月 × area × months (90 days = 3 months).
        let t = total_yuan(
            &a(20.0, "元/平方米/月"),
            &a(1500.0, "平米"),
            d("2026-12-01"),
            d("2027-02-28"),
        )
        .expect("a total");
        assert!((t - 90_000.0).abs() < 1e-6, "{t}");
        // A periodic price without dates has no total; nor do units that
        // do not compare; a lump sum is itself.
        assert_eq!(
            total_yuan(&a(20.0, "元/平方米/月"), &a(1500.0, "平米"), None, None),
            None
        );
        assert_eq!(
            total_yuan(&a(8100.0, "元/吨"), &a(3.0, "台"), None, None),
            None
        );
        assert_eq!(
            total_yuan(&a(9.0, "万元"), &a(10.0, "吨"), None, None),
            Some(90_000.0)
        );
    }

    #[test]
    fn terms_need_known_units_and_fill_from_their_base() {
        let mut e = Errors::default();
        let t = check(
            &TermsIn {
                quantity: Some(a(3.0, "斗")),
                price: Some(a(1.0, "元/斗")),
                ..Default::default()
            },
            None,
            &mut e,
        );
        assert!(t.is_some());
        let codes: Vec<(String, &str)> = e.0.iter().map(|f| (f.field.clone(), f.code)).collect();
        assert!(
            codes.contains(&("quantity.unit".into(), "unknown_unit")),
            "{codes:?}"
        );
        assert!(
            codes.contains(&("price.unit".into(), "unknown_unit")),
            "{codes:?}"
        );

        let mut e = Errors::default();
        let base = check(
            &TermsIn {
                quantity: Some(a(3.0, "吨")),
                price: Some(a(8000.0, "元/吨")),
                place: Some("北仑".into()),
                ..Default::default()
            },
            None,
            &mut e,
        )
        .expect("base");
        assert!(e.is_empty());
        let revised = check(
            &TermsIn {
                quantity: Some(a(2.0, "吨")),
                ..Default::default()
            },
            Some(&base),
            &mut e,
        )
        .expect("revised");
        assert!(e.is_empty());
        assert_eq!(
            (revised.quantity.amount, revised.place.as_str()),
            (2.0, "北仑")
        );
    }
}
