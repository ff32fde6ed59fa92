//! The sandbox's memory: stored cards, payments, 3-D sessions waiting for the shopper and
//! notification deliveries. Kept in one JSON file in the data folder, rewritten atomically
//! after every change, so it survives a restart.

use super::cards::Behaviour;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A card PayTR would have stored. No card number, no CVV: only what CAPI LIST returns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CardRecord {
    pub utoken: String,
    pub ctoken: String,
    pub last_4: String,
    pub month: String,
    pub year: String,
    pub bank: String,
    pub holder_name: String,
    pub brand: String,
    pub card_type: String,
    pub business: bool,
    pub initial: String,
    pub schema: String,
    pub require_cvv: bool,
    pub behaviour: Behaviour,
    pub created_at: i64,
}

/// How a payment reached the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Channel {
    /// A shopper's browser posting the form (3-D page unless non_3d=1).
    Browser,
    /// `sync_mode=1`: JSON answer.
    Sync,
    /// A recurring charge: JSON answer with try_again.
    Recurring,
}

/// One payment attempt, as the sandbox's panel shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentRecord {
    pub merchant_oid: String,
    pub amount_kurus: i64,
    pub currency: String,
    pub installment_count: u8,
    pub test_mode: bool,
    pub channel: Channel,
    pub non_3d: bool,
    /// `pending` (3-D page or in flight), `success` or `failed`.
    pub status: String,
    pub failed_reason_code: Option<String>,
    pub failed_reason_msg: Option<String>,
    pub last_4: String,
    /// The card's scheme (VISA, MASTERCARD, TROY), answered as `kart_marka`.
    #[serde(default)]
    pub card_schema: String,
    /// The installment family posted as `card_type` (empty for a single payment).
    #[serde(default)]
    pub card_type: String,
    pub stored_card: bool,
    pub created_at: i64,
    /// Refunds made on this payment, oldest first.
    #[serde(default)]
    pub refunds: Vec<RefundRecord>,
}

/// One accepted refund.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefundRecord {
    pub amount_kurus: i64,
    pub reference_no: String,
    pub at: i64,
}

impl PaymentRecord {
    pub fn refunded_kurus(&self) -> i64 {
        self.refunds.iter().map(|r| r.amount_kurus).sum()
    }
}

/// A payment waiting on the simulated bank page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending3d {
    pub id: String,
    pub charge: super::payment::Charge,
    pub created_at: i64,
}

/// One try at delivering a notification.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    pub attempt: u32,
    pub at: i64,
    /// HTTP status, or `None` when the connection failed or timed out.
    pub http_status: Option<u16>,
    /// The first 200 characters of the answer (or the connection error).
    pub answer: String,
    pub ok: bool,
}

/// A notification to deliver, with every attempt made so far.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotificationJob {
    pub id: u64,
    pub merchant_oid: String,
    pub fields: Vec<(String, String)>,
    pub attempts: Vec<DeliveryAttempt>,
    /// Answered exactly `OK`.
    pub delivered: bool,
    /// Stopped after the maximum number of attempts, or no notification URL.
    pub gave_up: bool,
    /// Set on the second copy sent by the "notify twice" knob or the re-send button.
    pub duplicate_of: Option<u64>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    pub cards: Vec<CardRecord>,
    pub payments: Vec<PaymentRecord>,
    pub pending_3d: Vec<Pending3d>,
    pub notifications: Vec<NotificationJob>,
    pub next_id: u64,
}

impl State {
    pub fn load(path: &Path) -> std::io::Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(std::io::Error::other),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e),
        }
    }

    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        // Owner-only: it holds stored cards' utokens and ctokens.
        crate::files::replace_private(
            path,
            &serde_json::to_vec(self).map_err(std::io::Error::other)?,
        )
    }

    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn oid_used(&self, oid: &str) -> bool {
        self.payments.iter().any(|p| p.merchant_oid == oid)
    }

    pub fn payment(&self, oid: &str) -> Option<&PaymentRecord> {
        self.payments.iter().find(|p| p.merchant_oid == oid)
    }

    pub fn payment_mut(&mut self, oid: &str) -> Option<&mut PaymentRecord> {
        self.payments.iter_mut().find(|p| p.merchant_oid == oid)
    }

    pub fn card(&self, utoken: &str, ctoken: &str) -> Option<&CardRecord> {
        self.cards
            .iter()
            .find(|c| c.utoken == utoken && c.ctoken == ctoken)
    }

    pub fn has_user(&self, utoken: &str) -> bool {
        self.cards.iter().any(|c| c.utoken == utoken)
    }
}

/// A random token of 32 hex digits (the shape of PayTR's utoken and ctoken).
pub fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    paytr::hex(&bytes)
}

pub use paytr::types::year_month;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn year_month_of_known_dates() {
        assert_eq!(year_month(0), (1970, 1));
        assert_eq!(year_month(1_795_651_200), (2026, 11)); // 2026-11-26
        assert_eq!(year_month(1_709_164_800), (2024, 2)); // 2024-02-29
    }

    #[test]
    fn state_survives_a_save_and_load() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        let mut state = State::default();
        state.next_id();
        state.save(&path).expect("save");
        assert_eq!(State::load(&path).expect("load").next_id, 1);
        assert_eq!(
            State::load(&dir.path().join("none.json"))
                .expect("empty")
                .next_id,
            0
        );
    }
}
