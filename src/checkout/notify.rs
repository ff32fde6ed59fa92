//! PayTR's notification: the only truth about a payment.
//!
//! Every notification is recorded (a `utoken` only as a short hash). A valid one moves its
//! attempt and order at most once; duplicates change nothing. The caller answers `OK` only
//! after [`apply`] committed.

use crate::accounts::{Binding, bind_utoken};
use crate::db::models::{NewNotification, Order, PaymentAttempt};
use crate::db::states::AttemptStatus;
use crate::db::{DbConnection, DbError, unix_now};
use crate::domain::Currency;
use crate::paytr::{Notification, NotificationStatus};
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
    /// `total_amount` below the attempt's amount: not paid.
    Underpaid,
    CurrencyMismatch,
    UnknownStatus,
    BadHash,
    Malformed,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Self::Paid => "paid",
            Self::Failed => "failed",
            Self::RenewalPaid => "renewal_paid",
            Self::RenewalFailed => "renewal_failed",
            Self::Duplicate => "duplicate",
            Self::UnknownOrder => "unknown_order",
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
) -> Result<Applied, DbError> {
    conn.transaction(|conn| {
        let applied = apply_inner(conn, n, sealer)?;
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

fn apply_inner(
    conn: &mut DbConnection,
    n: &Notification,
    sealer: &Sealer,
) -> Result<Applied, DbError> {
    let outcome = |outcome| {
        Ok(Applied {
            outcome,
            card_saved_for: None,
        })
    };
    let Some(attempt) = PaymentAttempt::find_by_merchant_oid(conn, &n.merchant_oid)? else {
        let renewal = crate::billing::settle_from_notification(conn, n, unix_now())?;
        return outcome(renewal.unwrap_or(Outcome::UnknownOrder));
    };
    let now = unix_now();
    match n.status() {
        Some(NotificationStatus::Success) => {
            if attempt.status != AttemptStatus::Pending {
                return outcome(Outcome::Duplicate);
            }
            let currency_ok = n
                .currency
                .as_deref()
                .is_none_or(|c| Currency::parse(c).is_ok_and(|c| c.code() == attempt.currency));
            if !currency_ok {
                return outcome(Outcome::CurrencyMismatch);
            }
            if n.total_amount()
                .is_none_or(|paid| paid.kurus() < attempt.amount_kurus)
            {
                return outcome(Outcome::Underpaid);
            }
            if !PaymentAttempt::update_status_if_pending(
                conn,
                &n.merchant_oid,
                AttemptStatus::Paid,
                now,
            )? {
                return outcome(Outcome::Duplicate);
            }
            Order::mark_paid(conn, attempt.order_id, now)?;
            let mut card_saved_for = None;
            if let Some(utoken) = &n.utoken {
                let owner = Order::find(conn, attempt.order_id)?.and_then(|o| o.user_id);
                let binding = match owner {
                    Some(user_id) => bind_utoken(
                        conn,
                        user_id,
                        attempt.store_card,
                        utoken,
                        &sealer.seal(utoken.expose()),
                    )?,
                    None => Binding::Refused("guest_order"),
                };
                match binding {
                    Binding::Bound | Binding::AlreadyTheirs => card_saved_for = owner,
                    Binding::Refused(reason) => {
                        // The payment stands; the utoken is nobody's. Recorded for the merchant.
                        security::record(
                            conn,
                            EventKind::UtokenRefused,
                            owner,
                            Some(&n.merchant_oid),
                            &format!("{reason}; utoken #{}", utoken.hint()),
                        )?;
                    }
                }
            }
            Ok(Applied {
                outcome: Outcome::Paid,
                card_saved_for,
            })
        }
        Some(NotificationStatus::Failed) => {
            if !PaymentAttempt::update_status_if_pending(
                conn,
                &n.merchant_oid,
                AttemptStatus::Failed,
                now,
            )? {
                return outcome(Outcome::Duplicate);
            }
            PaymentAttempt::set_failure(
                conn,
                &n.merchant_oid,
                n.failed_reason_code.as_deref(),
                n.failed_reason_msg.as_deref(),
            )?;
            let latest = PaymentAttempt::latest_for_order(conn, attempt.order_id)?;
            if latest.is_some_and(|l| l.id == attempt.id) {
                Order::mark_failed(conn, attempt.order_id, now)?;
            }
            outcome(Outcome::Failed)
        }
        None => outcome(Outcome::UnknownStatus),
    }
}
