//! Knobs for rehearsing trouble: latency, faults, missing permissions, duplicate notifications.

use std::time::Duration;

/// A fault injected into CAPI or recurring answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Fault {
    #[default]
    None,
    /// Answer HTTP 500 without doing anything.
    Http500,
    /// Do the work, then hold the answer for a minute (the caller times out; for a charge the
    /// outcome is unknown to it, and the notification still follows).
    Timeout,
    /// Do the work, then answer with broken JSON.
    Malformed,
    /// Do the work, never answer (the caller times out) and send no notification either: only
    /// a status inquiry (or the panel's re-send) tells what happened.
    Lost,
}

impl Fault {
    pub const ALL: [Self; 5] = [
        Self::None,
        Self::Http500,
        Self::Timeout,
        Self::Malformed,
        Self::Lost,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Http500 => "http500",
            Self::Timeout => "timeout",
            Self::Malformed => "malformed",
            Self::Lost => "lost",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.code() == value)
    }
}

/// What the merchant's store is allowed to do (PayTR grants each on request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permissions {
    pub direct_api: bool,
    pub non_3d: bool,
    pub recurring: bool,
    pub store_card: bool,
}

impl Default for Permissions {
    fn default() -> Self {
        Self {
            direct_api: true,
            non_3d: true,
            recurring: true,
            store_card: true,
        }
    }
}

/// A permission that can be switched off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Permission {
    DirectApi,
    Non3d,
    Recurring,
    StoreCard,
}

impl Permissions {
    pub fn deny(&mut self, permission: Permission) {
        match permission {
            Permission::DirectApi => self.direct_api = false,
            Permission::Non3d => self.non_3d = false,
            Permission::Recurring => self.recurring = false,
            Permission::StoreCard => self.store_card = false,
        }
    }
}

/// Every knob, changeable at run time from the sandbox page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Knobs {
    /// Added before answering CAPI LIST, CAPI DELETE and recurring charges.
    pub latency: Duration,
    pub capi_fault: Fault,
    pub recurring_fault: Fault,
    pub permissions: Permissions,
    /// Deliver every notification a second time after the first `OK`.
    pub notify_twice: bool,
    pub notify_interval: Duration,
    pub notify_max_attempts: u32,
    /// How long a slow card's recurring charge stays in flight before it settles.
    pub wait_callback: Duration,
    /// Leave `try_again` out of failed recurring answers (PayTR's pages show it, but not every
    /// answer carries it).
    pub omit_try_again: bool,
    /// Fault injected into refund answers (`timeout`/`lost`: refunded, answer never comes).
    pub refund_fault: Fault,
    /// Fault injected into status-inquiry answers.
    pub status_fault: Fault,
    /// Refuse every refund with this PayTR `err_no` (`000`, `008`, `010`, `011`, …).
    pub refund_error: Option<String>,
    /// Answer every status inquiry with `err_no` 004 (PayTR has no such payment).
    pub status_not_found: bool,
    /// Where the simulated bank lives: when set (e.g. `http://127.0.0.2:8080`), a 3-D card post
    /// is answered with a redirect to the bank page on that origin, as a real bank's ACS is.
    pub bank_origin: Option<String>,
    /// Fault injected into BIN lookup answers.
    pub bin_fault: Fault,
    /// Fault injected into installment-rates answers.
    pub rates_fault: Fault,
    /// Basis points added to every installment rate answered (the rates changed).
    pub rates_raise_bp: u32,
}

impl Knobs {
    /// A failed recurring answer, with `try_again` unless the knob leaves it out.
    pub fn recurring_failure(&self, msg: &str, try_again: bool) -> serde_json::Value {
        let mut answer = serde_json::json!({"status": "failed", "msg": msg, "reason": msg});
        if !self.omit_try_again {
            answer["try_again"] = serde_json::Value::Bool(try_again);
        }
        answer
    }
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            capi_fault: Fault::None,
            recurring_fault: Fault::None,
            permissions: Permissions::default(),
            notify_twice: false,
            notify_interval: Duration::from_secs(60),
            notify_max_attempts: 10,
            wait_callback: Duration::from_secs(5),
            omit_try_again: false,
            refund_fault: Fault::None,
            status_fault: Fault::None,
            refund_error: None,
            status_not_found: false,
            bank_origin: None,
            bin_fault: Fault::None,
            rates_fault: Fault::None,
            rates_raise_bp: 0,
        }
    }
}
