//! The seller's details and the texts Turkish law asks a shop to show: the pre-information
//! form and distance-sales contract (accepted before paying, stored with the order as shown),
//! and the KVKK privacy notice. The merchant edits them as plain-text templates in `LEGAL_DIR`
//! (`seller.json`, `{pre-information,distance-sales,privacy}.{tr,en}.txt`); a file missing there
//! is the built-in example from `legal/`. Placeholders are `{name}`; values are inserted as
//! text and the pages escape them.

use crate::domain::Lang;
use crate::paytr::hex;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::Path;

/// Who sells: shown on every legal text, the receipt and the seller page.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Seller {
    pub name: String,
    pub address: String,
    pub phone: String,
    pub email: String,
    pub tax_office: String,
    pub tax_number: String,
    #[serde(default)]
    pub mersis: String,
}

/// One of the legal texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doc {
    PreInformation,
    DistanceSales,
    Privacy,
}

impl Doc {
    pub const ALL: [Self; 3] = [Self::PreInformation, Self::DistanceSales, Self::Privacy];

    /// Its file name stem and URL segment.
    pub fn slug(self) -> &'static str {
        match self {
            Self::PreInformation => "pre-information",
            Self::DistanceSales => "distance-sales",
            Self::Privacy => "privacy",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.slug() == slug)
    }

    fn builtin(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Self::PreInformation, Lang::Tr) => include_str!("../legal/pre-information.tr.txt"),
            (Self::PreInformation, Lang::En) => include_str!("../legal/pre-information.en.txt"),
            (Self::DistanceSales, Lang::Tr) => include_str!("../legal/distance-sales.tr.txt"),
            (Self::DistanceSales, Lang::En) => include_str!("../legal/distance-sales.en.txt"),
            (Self::Privacy, Lang::Tr) => include_str!("../legal/privacy.tr.txt"),
            (Self::Privacy, Lang::En) => include_str!("../legal/privacy.en.txt"),
        }
    }
}

/// The built-in example seller: a live shop must replace it (`doctor` says so).
const BUILTIN_SELLER: &str = include_str!("../legal/seller.json");

/// What a contract is filled with for one order.
#[derive(Debug, Clone, Default)]
pub struct Party {
    pub name: String,
    pub address: String,
    pub phone: String,
    pub email: String,
}

/// The order's part of a contract: its lines ("Seramik kupa × 2: 360,00 TL"), total and date.
#[derive(Debug, Clone, Default)]
pub struct Deal {
    pub lines: Vec<String>,
    pub total: String,
    pub date: String,
}

/// The seller and the six templates, loaded once at start.
#[derive(Debug, Clone)]
pub struct Legal {
    pub seller: Seller,
    texts: Vec<((Doc, Lang), String)>,
    /// Whether the seller is still the built-in example.
    pub example_seller: bool,
}

impl Legal {
    /// The built-in texts, overridden by the files present in `dir`.
    pub fn load(dir: Option<&Path>) -> anyhow::Result<Self> {
        let read = |name: &str| -> anyhow::Result<Option<String>> {
            let Some(dir) = dir else { return Ok(None) };
            let path = dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(text) => Ok(Some(text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(anyhow::anyhow!("LEGAL_DIR: {}: {e}", path.display())),
            }
        };
        let seller_json = read("seller.json")?;
        let example_seller = seller_json.is_none();
        let seller: Seller = serde_json::from_str(seller_json.as_deref().unwrap_or(BUILTIN_SELLER))
            .map_err(|e| anyhow::anyhow!("LEGAL_DIR: seller.json: {e}"))?;
        let mut texts = Vec::new();
        for doc in Doc::ALL {
            for lang in [Lang::Tr, Lang::En] {
                let name = format!("{}.{}.txt", doc.slug(), lang.code());
                let text = read(&name)?.unwrap_or_else(|| doc.builtin(lang).to_owned());
                texts.push(((doc, lang), text));
            }
        }
        Ok(Self {
            seller,
            texts,
            example_seller,
        })
    }

    fn template(&self, doc: Doc, lang: Lang) -> &str {
        self.texts
            .iter()
            .find(|(key, _)| *key == (doc, lang))
            .map_or("", |(_, text)| text.as_str())
    }

    /// A short fingerprint of the contract texts a shopper accepts in `lang` (the seller's
    /// details included), stored with the order.
    pub fn terms_version(&self, lang: Lang) -> String {
        let mut hash = Sha256::new();
        for doc in [Doc::PreInformation, Doc::DistanceSales] {
            hash.update(self.template(doc, lang).as_bytes());
            hash.update([0]);
        }
        hash.update(format!("{:?}", self.seller).as_bytes());
        let digest = hash.finalize();
        format!("{}-{}", lang.code(), hex(&digest[..6]))
    }

    /// `doc` in `lang`, filled with the seller, and the buyer and order when known ("—" where
    /// not).
    pub fn render(&self, doc: Doc, lang: Lang, buyer: &Party, deal: &Deal) -> String {
        let dash = |s: &str| {
            if s.trim().is_empty() {
                "—".to_owned()
            } else {
                s.trim().to_owned()
            }
        };
        let s = &self.seller;
        let lines = if deal.lines.is_empty() {
            "—".to_owned()
        } else {
            deal.lines
                .iter()
                .map(|l| format!("- {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let values: [(&str, String); 14] = [
            ("seller_name", dash(&s.name)),
            ("seller_address", dash(&s.address)),
            ("seller_phone", dash(&s.phone)),
            ("seller_email", dash(&s.email)),
            ("seller_tax_office", dash(&s.tax_office)),
            ("seller_tax_number", dash(&s.tax_number)),
            ("seller_mersis", dash(&s.mersis)),
            ("buyer_name", dash(&buyer.name)),
            ("buyer_address", dash(&buyer.address)),
            ("buyer_phone", dash(&buyer.phone)),
            ("buyer_email", dash(&buyer.email)),
            ("lines", lines),
            ("total", dash(&deal.total)),
            ("date", dash(&deal.date)),
        ];
        crate::routes::i18n::fill(self.template(doc, lang), &values)
    }

    /// What the shopper accepts before paying: the pre-information form, then the contract.
    pub fn terms(&self, lang: Lang, buyer: &Party, deal: &Deal) -> String {
        format!(
            "{}\n\n{}",
            self.render(Doc::PreInformation, lang, buyer, deal)
                .trim_end(),
            self.render(Doc::DistanceSales, lang, buyer, deal)
                .trim_end()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contract_is_filled_with_the_order_and_the_seller() {
        let legal = Legal::load(None).expect("built-in texts");
        assert!(legal.example_seller);
        let buyer = Party {
            name: "Ayşe {seller_name} Yılmaz".into(),
            address: "Moda Cad. 1".into(),
            phone: "0555 111 22 33".into(),
            email: "ayse@example.com".into(),
        };
        let deal = Deal {
            lines: vec!["Seramik kupa × 2: 360,00 TL".into()],
            total: "360,00 TL".into(),
            date: "27 Kasım 2026".into(),
        };
        let text = legal.terms(Lang::Tr, &buyer, &deal);
        assert!(text.starts_with("ÖN BİLGİLENDİRME FORMU"), "{text}");
        assert!(text.contains("MESAFELİ SATIŞ SÖZLEŞMESİ"));
        assert!(text.contains("- Seramik kupa × 2: 360,00 TL"));
        assert!(text.contains(&legal.seller.name));
        assert!(
            text.contains("Ayşe {seller_name} Yılmaz"),
            "a typed value is never read as a placeholder"
        );
        assert!(!text.contains("{buyer_"), "every placeholder filled");
        let en = legal.terms(Lang::En, &Party::default(), &Deal::default());
        assert!(en.contains("DISTANCE SALES CONTRACT") && en.contains("Full name: —"));
        assert_ne!(legal.terms_version(Lang::Tr), legal.terms_version(Lang::En));
    }

    #[test]
    fn the_merchant_s_files_replace_the_examples() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(
            dir.path().join("seller.json"),
            r#"{"name":"Gerçek Ltd.","address":"A","phone":"1","email":"e@x.tr","tax_office":"T","tax_number":"9"}"#,
        )
        .expect("write");
        std::fs::write(
            dir.path().join("privacy.tr.txt"),
            "Gizlilik: {seller_name} {x}",
        )
        .expect("write");
        let legal = Legal::load(Some(dir.path())).expect("load");
        assert!(!legal.example_seller);
        let text = legal.render(Doc::Privacy, Lang::Tr, &Party::default(), &Deal::default());
        assert_eq!(text, "Gizlilik: Gerçek Ltd. {x}");
        let before = Legal::load(None).expect("built-in").terms_version(Lang::Tr);
        assert_ne!(
            legal.terms_version(Lang::Tr),
            before,
            "the seller is part of the version"
        );
    }
}
