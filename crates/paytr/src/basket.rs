//! `user_basket`: plain JSON text `[[name, "unit price", quantity], ...]`.

use crate::types::{Money, ValidationError};
use serde_json::Value;

/// One line of the basket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasketItem {
    pub name: String,
    pub unit_price: Money,
    pub quantity: u32,
}

/// A non-empty list of basket lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basket(Vec<BasketItem>);

impl Basket {
    pub fn new(items: Vec<BasketItem>) -> Result<Self, ValidationError> {
        if items.is_empty() {
            return Err(ValidationError::new(
                "user_basket",
                "must contain at least one item",
            ));
        }
        for item in &items {
            if item.name.trim().is_empty() || item.name.chars().count() > 255 {
                return Err(ValidationError::new(
                    "user_basket",
                    "each item needs a name of 1 to 255 characters",
                ));
            }
            if item.quantity == 0 {
                return Err(ValidationError::new(
                    "user_basket",
                    "each quantity must be at least 1",
                ));
            }
        }
        Ok(Self(items))
    }

    pub fn items(&self) -> &[BasketItem] {
        &self.0
    }

    /// Sum of unit price × quantity, or `None` if it overflows the largest amount.
    pub fn total(&self) -> Option<Money> {
        self.0.iter().try_fold(Money::default(), |sum, item| {
            item.unit_price
                .checked_mul(item.quantity)
                .and_then(|line| sum.checked_add(line))
        })
    }

    /// The JSON text PayTR expects: `[["Ürün adı","18.00",1]]`.
    pub fn to_json(&self) -> String {
        // Typed rows serialize to the same text as `serde_json::Value` arrays would, without
        // building a tree of values first (a test compares the two).
        let rows: Vec<(&str, String, u32)> = self
            .0
            .iter()
            .map(|i| (i.name.as_str(), i.unit_price.to_paytr_decimal(), i.quantity))
            .collect();
        serde_json::to_string(&rows).unwrap_or_default()
    }

    /// Reads a basket as PayTR would: prices as strings or numbers, quantities as integers or
    /// digit strings.
    pub fn parse(json: &str) -> Result<Self, ValidationError> {
        // The form `to_json` writes (and an order keeps) is read as typed rows; any other form
        // through `serde_json::Value`, which says precisely what is wrong.
        if let Ok(rows) = serde_json::from_str::<Vec<(String, String, u32)>>(json)
            && let Ok(items) = rows
                .into_iter()
                .map(|(name, price, quantity)| {
                    Money::parse_decimal(&price).map(|unit_price| BasketItem {
                        name,
                        unit_price,
                        quantity,
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        {
            return Self::new(items);
        }
        let bad = |why: &str| ValidationError::new("user_basket", why.to_owned());
        let rows: Vec<Value> = serde_json::from_str(json)
            .map_err(|_| bad("must be JSON like [[\"Ürün\",\"18.00\",1]]"))?;
        let items = rows
            .iter()
            .map(|row| {
                let [name, price, qty] = row.as_array().map(Vec::as_slice).unwrap_or_default()
                else {
                    return Err(bad("each item must be [name, price, quantity]"));
                };
                let price = match price {
                    Value::String(s) => Money::parse_decimal(s),
                    Value::Number(n) => Money::parse_decimal(&n.to_string()),
                    _ => Err(bad("item price must be a decimal such as \"18.00\"")),
                }?;
                let quantity = match qty {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.parse().ok(),
                    _ => None,
                }
                .and_then(|q| u32::try_from(q).ok())
                .ok_or_else(|| bad("item quantity must be a whole number"))?;
                Ok(BasketItem {
                    name: name.as_str().unwrap_or_default().to_owned(),
                    unit_price: price,
                    quantity,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str, kurus: i64, quantity: u32) -> BasketItem {
        BasketItem {
            name: name.into(),
            unit_price: Money::from_kurus(kurus).expect("valid amount"),
            quantity,
        }
    }

    #[test]
    fn basket_json_matches_paytr_example() {
        let basket = Basket::new(vec![item("Ürün adı", 1800, 1), item("Ürün 2", 3325, 2)])
            .expect("valid basket");
        assert_eq!(
            basket.to_json(),
            r#"[["Ürün adı","18.00",1],["Ürün 2","33.25",2]]"#
        );
        assert_eq!(basket.total().map(Money::kurus), Some(1800 + 2 * 3325));
        assert_eq!(Basket::parse(&basket.to_json()), Ok(basket));
    }

    #[test]
    fn the_typed_json_is_the_text_a_value_tree_made_and_reads_back() {
        let as_values = |basket: &Basket| {
            Value::Array(
                basket
                    .items()
                    .iter()
                    .map(|i| {
                        Value::Array(vec![
                            Value::from(i.name.as_str()),
                            Value::from(i.unit_price.to_paytr_decimal()),
                            Value::from(i.quantity),
                        ])
                    })
                    .collect(),
            )
            .to_string()
        };
        let basket = Basket::new(vec![
            item("Güllü lokum \"500 g\" \\ <b>&", 9990, 3),
            item("Çay\ttab\nline \u{1}", 1, 4_000_000_000),
            item("x", 1_000_000_000, 1),
        ])
        .expect("valid basket");
        assert_eq!(basket.to_json(), as_values(&basket));
        assert_eq!(Basket::parse(&basket.to_json()), Ok(basket));
        // Other forms still go through the value tree, with its messages.
        assert_eq!(
            Basket::parse(r#"[["a","1.5",2]]"#).map(|b| b.to_json()),
            Ok(r#"[["a","1.50",2]]"#.to_owned())
        );
        let empty_name = Basket::parse(r#"[["","1.00",1]]"#).expect_err("empty name");
        assert!(format!("{empty_name:?}").contains("name"), "{empty_name:?}");
        let no_quantity = Basket::parse(r#"[["a","1.00",0]]"#).expect_err("zero quantity");
        assert!(
            format!("{no_quantity:?}").contains("quantity"),
            "{no_quantity:?}"
        );
    }

    #[test]
    fn basket_rules() {
        assert!(Basket::new(vec![]).is_err());
        assert!(Basket::new(vec![item("", 100, 1)]).is_err());
        assert!(Basket::new(vec![item("x", 100, 0)]).is_err());
        assert!(Basket::parse("[[\"a\", 18, \"2\"]]").is_ok());
        assert!(Basket::parse("[[\"a\", \"18.00\"]]").is_err());
        assert!(Basket::parse("not json").is_err());
    }
}
