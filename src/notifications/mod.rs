//! PayTR's notification, end to end: the only truth about a payment. This module verifies and
//! records it, finds what its merchant_oid names (a checkout payment attempt or a renewal
//! charge), lets that owner settle it, and says what happened ([`Outcome`]).
//!
//! Every notification is recorded (a `utoken` only as a short hash). A valid one moves its
//! attempt and order at most once; duplicates change nothing. The caller answers `OK` only
//! after [`apply`] committed.

use crate::billing::RenewalSettled;
use crate::checkout::settle::PaymentSettled;
use crate::db::models::{NewNotification, PaymentAttempt};
use crate::db::{DbConnection, DbError, unix_now};
use crate::paytr::Notification;
use crate::seal::Sealer;
use crate::security::{self, EventKind};
use diesel::Connection;

/// What a notification did, as recorded in the `notifications` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Paid,
    Failed,
    /// A subscription renewal confirmed.
    RenewalPaid,
    /// A subscription renewal that failed after all (retried on the policy's schedule).
    RenewalFailed,
    /// Already processed: nothing changed.
    Duplicate,
    /// Valid, but for a merchant_oid we never issued.
    UnknownOrder,
    /// A test transaction's notification (`test_mode=1`) while the shop sends live payments:
    /// it never fulfils an order.
    TestInLive,
    /// `total_amount` below the attempt's amount: not paid.
    Underpaid,
    CurrencyMismatch,
    UnknownStatus,
    BadHash,
    Malformed,
}

impl Outcome {
    pub const ALL: [Self; 12] = [
        Self::Paid,
        Self::Failed,
        Self::RenewalPaid,
        Self::RenewalFailed,
        Self::Duplicate,
        Self::UnknownOrder,
        Self::TestInLive,
        Self::Underpaid,
        Self::CurrencyMismatch,
        Self::UnknownStatus,
        Self::BadHash,
        Self::Malformed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Paid => "paid",
            Self::Failed => "failed",
            Self::RenewalPaid => "renewal_paid",
            Self::RenewalFailed => "renewal_failed",
            Self::Duplicate => "duplicate",
            Self::UnknownOrder => "unknown_order",
            Self::TestInLive => "test_in_live",
            Self::Underpaid => "underpaid",
            Self::CurrencyMismatch => "currency_mismatch",
            Self::UnknownStatus => "unknown_status",
            Self::BadHash => "bad_hash",
            Self::Malformed => "malformed",
        }
    }
}

/// The posted fields as JSON, with any `utoken` replaced by its short hash; bounded (at most
/// 40 fields, names of 32 and values of 256 characters), since PayTR's hash signs only a few of
/// them and a replayed notification could carry anything besides.
pub fn redacted_json(fields: &[(String, String)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .take(40)
        .map(|(k, v)| {
            let v = if k == "utoken" {
                format!("#{}", crate::paytr::Token::new(v.clone()).hint())
            } else {
                v.chars().take(256).collect()
            };
            (k.chars().take(32).collect(), serde_json::Value::from(v))
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// A posted notification, checked.
pub enum Received {
    /// The hash checked out.
    Valid {
        notification: Box<Notification>,
        fields: Vec<(String, String)>,
    },
    /// Malformed or a bad hash: nothing in it is believed.
    Refused {
        outcome: Outcome,
        /// The posted merchant_oid, bounded (for the record only).
        oid: String,
        fields: Vec<(String, String)>,
    },
}

/// Parses a posted body and verifies its hash (in constant time) with the merchant's key.
pub fn receive(body: &[u8], creds: &crate::paytr::MerchantCredentials) -> Received {
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let parsed = Notification::from_pairs(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    match parsed {
        Ok(notification) if notification.verify(creds) => Received::Valid {
            notification: Box::new(notification),
            fields,
        },
        Ok(notification) => Received::Refused {
            outcome: Outcome::BadHash,
            oid: bounded_oid(&notification.merchant_oid),
            fields,
        },
        Err(_) => Received::Refused {
            outcome: Outcome::Malformed,
            oid: String::new(),
            fields,
        },
    }
}

/// How many refusals are recorded and logged per minute; the rest are counted, and the count
/// goes with the next one recorded. Anyone can post to the notification URL.
pub struct RefusalBudget {
    per_minute: crate::accounts::RateLimiter,
    unrecorded: std::sync::atomic::AtomicU64,
}

impl RefusalBudget {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: crate::accounts::RateLimiter::new(
                per_minute,
                std::time::Duration::from_secs(60),
            ),
            unrecorded: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// `Some(refusals not recorded since the last one)` if this one may be recorded.
    pub fn admit(&self) -> Option<u64> {
        use std::sync::atomic::Ordering;
        if self.per_minute.check_here(&["refused"]) {
            Some(self.unrecorded.swap(0, Ordering::Relaxed))
        } else {
            self.unrecorded.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

/// Most field names a refused notification's summary keeps, and their length.
const SUMMARY_FIELDS: usize = 24;
const SUMMARY_NAME_LEN: usize = 32;

/// A refused notification as we keep it: constant size whatever was posted (the outcome, the
/// merchant_oid cut to 64 characters, at most 24 field names of 32 characters, the body's
/// size, and how many refusals before it went unrecorded). Never the values: a refused body is
/// anyone's text.
pub fn refused_summary(fields: &[(String, String)], body_len: usize, unrecorded: u64) -> String {
    let names: Vec<String> = fields
        .iter()
        .take(SUMMARY_FIELDS)
        .map(|(k, _)| k.chars().take(SUMMARY_NAME_LEN).collect())
        .collect();
    serde_json::json!({
        "fields": names,
        "field_count": fields.len(),
        "body_bytes": body_len,
        "unrecorded_before": unrecorded,
    })
    .to_string()
}

/// A merchant_oid from outside, cut to PayTR's 64 characters, without control characters.
pub fn bounded_oid(oid: &str) -> String {
    oid.chars().filter(|c| !c.is_control()).take(64).collect()
}

/// Records a notification that was refused before it could be applied, as a bounded summary.
pub fn record_refused(
    conn: &mut DbConnection,
    oid: &str,
    outcome: Outcome,
    summary: &str,
) -> Result<(), DbError> {
    NewNotification {
        merchant_oid: &bounded_oid(oid),
        hash_valid: false,
        outcome: outcome.code(),
        fields_json: summary,
        received_at: unix_now(),
    }
    .insert(conn)
}

/// What applying a notification did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub outcome: Outcome,
    /// The shopper a card was saved for (their card list changed).
    pub card_saved_for: Option<i64>,
}

/// Records and applies a notification whose hash checked out, in one transaction.
pub fn apply(
    conn: &mut DbConnection,
    n: &Notification,
    fields: &[(String, String)],
    sealer: &Sealer,
    test_mode: bool,
    mail: &crate::mail::MailCtx,
) -> Result<Applied, DbError> {
    conn.transaction(|conn| {
        let applied = if n.test_mode.as_deref() == Some("1") && !test_mode {
            // Not signed, but PayTR sets it for test transactions: a live shop never takes one
            // as payment. Recorded for the merchant; answered OK so PayTR stops sending it.
            security::record(
                conn,
                EventKind::TestNotificationInLive,
                None,
                Some(&n.merchant_oid),
                "test_mode=1 notification while the shop is live",
            )?;
            Applied {
                outcome: Outcome::TestInLive,
                card_saved_for: None,
            }
        } else {
            apply_inner(conn, n, sealer, mail)?
        };
        NewNotification {
            merchant_oid: &n.merchant_oid,
            hash_valid: true,
            outcome: applied.outcome.code(),
            fields_json: &redacted_json(fields),
            received_at: unix_now(),
        }
        .insert(conn)?;
        Ok(applied)
    })
}

/// The e-mails of a paid order, queued in the notification's transaction: the receipt, and
/// "your card was saved" when the payment stored one.
fn paid_mails(
    conn: &mut DbConnection,
    mail: &crate::mail::MailCtx,
    order_id: i64,
    card_saved_for: Option<i64>,
) -> Result<(), DbError> {
    use crate::db::models::Order;
    use crate::db::schema::orders;
    use diesel::prelude::*;
    let order: Order = orders::table
        .find(order_id)
        .select(Order::as_select())
        .first(conn)?;
    let receipt = crate::receipts::receipt_mail(conn, mail, &order)?;
    crate::mail::enqueue(conn, &receipt)?;
    if let Some(user) = card_saved_for
        .map(|id| crate::accounts::find_user(conn, id))
        .transpose()?
        .flatten()
        .filter(|u| !crate::accounts::is_api_customer(&u.email))
    {
        let lang = crate::mail::lang_of(&user.lang);
        crate::mail::enqueue(conn, &crate::mail::card_saved(mail, lang, &user.email))?;
    }
    Ok(())
}

/// Finds what the notification is about by its merchant_oid and lets its owner settle it.
fn apply_inner(
    conn: &mut DbConnection,
    n: &Notification,
    sealer: &Sealer,
    mail: &crate::mail::MailCtx,
) -> Result<Applied, DbError> {
    let now = unix_now();
    if let Some(attempt) = PaymentAttempt::find_by_merchant_oid(conn, &n.merchant_oid)? {
        let settled = crate::checkout::settle::settle_payment(conn, &attempt, n, sealer, now)?;
        if let PaymentSettled::Paid { card_saved_for } = settled {
            if let Some(user_id) = card_saved_for {
                crate::cards::bump_version(conn, user_id)?;
            }
            paid_mails(conn, mail, attempt.order_id, card_saved_for)?;
            crate::api::checkout_sessions::on_order_paid(
                conn,
                &mail.base_url,
                attempt.order_id,
                card_saved_for.is_some(),
            )?;
        }
        if let PaymentSettled::Failed = settled {
            crate::api::checkout_sessions::on_payment_failed(
                conn,
                &mail.base_url,
                attempt.order_id,
            )?;
        }
        return Ok(Applied {
            outcome: match settled {
                PaymentSettled::Paid { .. } => Outcome::Paid,
                PaymentSettled::Failed => Outcome::Failed,
                PaymentSettled::Duplicate => Outcome::Duplicate,
                PaymentSettled::Underpaid => Outcome::Underpaid,
                PaymentSettled::CurrencyMismatch => Outcome::CurrencyMismatch,
                PaymentSettled::UnknownStatus => Outcome::UnknownStatus,
            },
            card_saved_for: match settled {
                PaymentSettled::Paid { card_saved_for } => card_saved_for,
                _ => None,
            },
        });
    }
    let outcome = match crate::billing::settle_from_notification(conn, n, now, mail)? {
        None => Outcome::UnknownOrder,
        Some(RenewalSettled::Paid) => Outcome::RenewalPaid,
        Some(RenewalSettled::Failed) => Outcome::RenewalFailed,
        Some(RenewalSettled::Duplicate) => Outcome::Duplicate,
        Some(RenewalSettled::Underpaid) => Outcome::Underpaid,
        Some(RenewalSettled::UnknownStatus) => Outcome::UnknownStatus,
        Some(RenewalSettled::NoSubscription) => Outcome::UnknownOrder,
    };
    Ok(Applied {
        outcome,
        card_saved_for: None,
    })
}
