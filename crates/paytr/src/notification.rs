//! PayTR's notification (callback) to the merchant's "Bildirim URL" (see "The notification" in this crate's PROTOCOL.md).

use super::Token;
use super::sign::{MerchantCredentials, notification_hash, verify_notification};
use crate::types::{Money, ValidationError};

/// The outcome a notification reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationStatus {
    Success,
    Failed,
}

impl NotificationStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failed => "failed",
        }
    }
}

/// A notification's fields as posted. The three signed fields are kept as raw strings, since
/// the hash covers exactly what was posted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notification {
    pub merchant_oid: String,
    pub status: String,
    /// Kuruş actually collected, as an integer string (`"10099"`); `"0"` on failure.
    pub total_amount: String,
    pub hash: String,
    pub failed_reason_code: Option<String>,
    pub failed_reason_msg: Option<String>,
    pub test_mode: Option<String>,
    pub payment_type: Option<String>,
    pub currency: Option<String>,
    /// The order amount ×100 (kuruş).
    pub payment_amount: Option<String>,
    pub installment_count: Option<String>,
    /// Present when a card was stored during the payment.
    pub utoken: Option<Token>,
}

impl Notification {
    /// Reads the posted fields. Missing signed fields are an error; unknown fields are ignored.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ValidationError> {
        let mut n = Self::default();
        for (name, value) in pairs {
            let value = value.to_owned();
            match name {
                "merchant_oid" => n.merchant_oid = value,
                "status" => n.status = value,
                "total_amount" => n.total_amount = value,
                "hash" => n.hash = value,
                "failed_reason_code" => n.failed_reason_code = Some(value),
                "failed_reason_msg" => n.failed_reason_msg = Some(value),
                "test_mode" => n.test_mode = Some(value),
                "payment_type" => n.payment_type = Some(value),
                "currency" => n.currency = Some(value),
                "payment_amount" => n.payment_amount = Some(value),
                "installment_count" => n.installment_count = Some(value),
                "utoken" if !value.is_empty() => n.utoken = Some(Token::new(value)),
                _ => {}
            }
        }
        for (field, value) in [
            ("merchant_oid", &n.merchant_oid),
            ("status", &n.status),
            ("total_amount", &n.total_amount),
            ("hash", &n.hash),
        ] {
            if value.is_empty() {
                return Err(ValidationError::new(
                    field,
                    "is missing from the notification",
                ));
            }
        }
        Ok(n)
    }

    /// True when `hash` is PayTR's signature of `merchant_oid`, `status` and `total_amount`.
    pub fn verify(&self, creds: &MerchantCredentials) -> bool {
        verify_notification(
            creds,
            &self.merchant_oid,
            &self.status,
            &self.total_amount,
            &self.hash,
        )
    }

    pub fn status(&self) -> Option<NotificationStatus> {
        match self.status.as_str() {
            "success" => Some(NotificationStatus::Success),
            "failed" => Some(NotificationStatus::Failed),
            _ => None,
        }
    }

    /// `total_amount` read as kuruş, if it is a plain non-negative integer.
    pub fn total_amount(&self) -> Option<Money> {
        if !self.total_amount.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.total_amount
            .parse()
            .ok()
            .and_then(|k| Money::from_kurus(k).ok())
    }

    /// Sets `hash` to the signature of the current signed fields (used by the sandbox).
    pub fn sign(&mut self, creds: &MerchantCredentials) {
        self.hash = notification_hash(creds, &self.merchant_oid, &self.status, &self.total_amount);
    }

    /// The fields to post, in PayTR's order; absent optional fields are left out.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            ("merchant_oid", self.merchant_oid.clone()),
            ("status", self.status.clone()),
            ("total_amount", self.total_amount.clone()),
            ("hash", self.hash.clone()),
        ];
        let optional = [
            ("failed_reason_code", &self.failed_reason_code),
            ("failed_reason_msg", &self.failed_reason_msg),
            ("test_mode", &self.test_mode),
            ("payment_type", &self.payment_type),
            ("currency", &self.currency),
            ("payment_amount", &self.payment_amount),
            ("installment_count", &self.installment_count),
        ];
        pairs.extend(
            optional
                .into_iter()
                .filter_map(|(k, v)| v.clone().map(|v| (k, v))),
        );
        if let Some(utoken) = &self.utoken {
            pairs.push(("utoken", utoken.expose().to_owned()));
        }
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> MerchantCredentials {
        MerchantCredentials::new("123456", "AbCdEfGhIjKlMnOp", "QrStUvWxYz012345")
    }

    #[test]
    fn a_signed_notification_round_trips_and_verifies() {
        let mut n = Notification {
            merchant_oid: "ORD1".into(),
            status: "success".into(),
            total_amount: "10099".into(),
            utoken: Some(Token::new("UT1")),
            currency: Some("TL".into()),
            ..Default::default()
        };
        n.sign(&creds());
        let pairs = n.to_pairs();
        let read = Notification::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
        assert_eq!(read.as_ref(), Ok(&n));
        assert!(n.verify(&creds()));
        assert_eq!(n.status(), Some(NotificationStatus::Success));
        assert_eq!(n.total_amount().map(Money::kurus), Some(10099));
    }

    #[test]
    fn missing_signed_fields_are_refused() {
        let err = Notification::from_pairs([("merchant_oid", "ORD1"), ("status", "success")]);
        assert_eq!(err.map_err(|e| e.field), Err("total_amount"));
    }

    #[test]
    fn odd_amounts_are_not_read_as_money() {
        for bad in ["-1", "10.99", "1e3", ""] {
            let n = Notification {
                total_amount: bad.into(),
                ..Default::default()
            };
            assert_eq!(n.total_amount(), None, "{bad}");
        }
    }
}
