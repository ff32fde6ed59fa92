//! The catalogue: products and prices from a JSON file the merchant edits (`catalog.json`).
//! Prices always come from here, never from the browser.

use crate::domain::{Currency, Lang, Money};
use anyhow::Context;
use serde::Deserialize;
use std::path::Path;

/// The catalogue shipped with the binary, used when no file is found.
const DEFAULT_CATALOG: &str = include_str!("../catalog.json");

#[derive(Debug, Clone, Deserialize)]
pub struct Text {
    pub tr: String,
    pub en: String,
}

impl Text {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Tr => &self.tr,
            Lang::En => &self.en,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
struct ProductFile {
    slug: String,
    name: Text,
    description: Text,
    price_kurus: i64,
}

#[derive(Debug, Deserialize)]
struct CatalogFile {
    currency: String,
    products: Vec<ProductFile>,
    #[serde(default)]
    plans: Vec<PlanFile>,
}

#[derive(Debug, Clone, Deserialize)]
struct PlanFile {
    slug: String,
    name: Text,
    description: Text,
    amount_kurus: i64,
    interval: String,
}

/// How often a subscription renews.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Weekly,
    Monthly,
    Yearly,
}

impl Interval {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "weekly" => Some(Self::Weekly),
            "monthly" => Some(Self::Monthly),
            "yearly" => Some(Self::Yearly),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
            Self::Yearly => "yearly",
        }
    }

    /// The start of the period after one starting at `unix`.
    pub fn after(self, unix: i64) -> i64 {
        match self {
            Self::Weekly => unix + 7 * 86_400,
            Self::Monthly => crate::domain::add_months(unix, 1),
            Self::Yearly => crate::domain::add_months(unix, 12),
        }
    }
}

/// A subscription plan the merchant sells.
#[derive(Debug, Clone)]
pub struct Plan {
    pub slug: String,
    pub name: Text,
    pub description: Text,
    pub amount: Money,
    pub interval: Interval,
}

#[derive(Debug, Clone)]
pub struct Product {
    pub slug: String,
    pub name: Text,
    pub description: Text,
    pub price: Money,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    pub currency: Currency,
    products: Vec<Product>,
    plans: Vec<Plan>,
}

impl Catalog {
    /// Reads `path` if it exists, else the built-in catalogue.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text).with_context(|| format!("catalogue {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::parse(DEFAULT_CATALOG),
            Err(e) => Err(e).with_context(|| format!("could not read {}", path.display())),
        }
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let file: CatalogFile = serde_json::from_str(text).context("not valid catalogue JSON")?;
        let currency = Currency::parse(&file.currency)?;
        let mut products = Vec::new();
        for p in file.products {
            anyhow::ensure!(
                !p.slug.is_empty()
                    && p.slug
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-'),
                "product slug {:?} must be letters, digits and dashes",
                p.slug
            );
            anyhow::ensure!(
                p.price_kurus > 0,
                "product {} needs a price above 0",
                p.slug
            );
            anyhow::ensure!(
                products.iter().all(|q: &Product| q.slug != p.slug),
                "product {} is listed twice",
                p.slug
            );
            products.push(Product {
                price: Money::from_kurus(p.price_kurus)?,
                slug: p.slug,
                name: p.name,
                description: p.description,
            });
        }
        let mut plans = Vec::new();
        for p in file.plans {
            let interval = Interval::parse(&p.interval).with_context(|| {
                format!(
                    "plan {}: interval must be weekly, monthly or yearly",
                    p.slug
                )
            })?;
            anyhow::ensure!(
                p.amount_kurus > 0,
                "plan {} needs an amount above 0",
                p.slug
            );
            anyhow::ensure!(
                !p.slug.is_empty()
                    && p.slug
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-'),
                "plan slug {:?} must be letters, digits and dashes",
                p.slug
            );
            plans.push(Plan {
                amount: Money::from_kurus(p.amount_kurus)?,
                slug: p.slug,
                name: p.name,
                description: p.description,
                interval,
            });
        }
        Ok(Self {
            currency,
            products,
            plans,
        })
    }

    pub fn plans(&self) -> &[Plan] {
        &self.plans
    }

    pub fn plan(&self, slug: &str) -> Option<&Plan> {
        self.plans.iter().find(|p| p.slug == slug)
    }

    pub fn products(&self) -> &[Product] {
        &self.products
    }

    pub fn find(&self, slug: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.slug == slug)
    }

    /// A basket line's name in `lang`: the basket PayTR receives (and the order keeps) names
    /// products in Turkish; a product or plan still in the catalogue is named in the page's
    /// language, anything else as stored.
    pub fn name_in(&self, stored: &str, lang: crate::domain::Lang) -> String {
        let products = self.products.iter().map(|p| &p.name);
        let plans = self.plans.iter().map(|p| &p.name);
        products
            .chain(plans)
            .find(|name| name.get(crate::domain::Lang::Tr) == stored)
            .map_or_else(|| stored.to_owned(), |name| name.get(lang).to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalogue_is_valid() {
        let catalog = Catalog::parse(DEFAULT_CATALOG).expect("valid");
        assert!(catalog.products().len() >= 3);
        assert_eq!(
            catalog.find("seramik-kupa").map(|p| p.price.kurus()),
            Some(18000)
        );
    }

    #[test]
    fn bad_catalogues_are_refused_with_a_reason() {
        let bad = r#"{"currency":"TL","products":[{"slug":"a b","name":{"tr":"x","en":"x"},"description":{"tr":"","en":""},"price_kurus":1}]}"#;
        assert!(Catalog::parse(bad).is_err());
        assert!(Catalog::parse("{").is_err());
    }
}
