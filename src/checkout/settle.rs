//! Settling a checkout payment attempt from PayTR's notification (verified by
//! [`crate::notifications`], inside its transaction): the attempt and its order move at most
//! once, and a returned `utoken` is bound only under [`bind_utoken`]'s rule.

use crate::accounts::{Binding, bind_utoken};
use crate::db::models::{Order, PaymentAttempt};
use crate::db::states::AttemptStatus;
use crate::db::{DbConnection, DbError};
use crate::domain::Currency;
use crate::paytr::{Notification, NotificationStatus};
use crate::seal::Sealer;
use crate::security::{self, EventKind};

/// What a notification did to a payment attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentSettled {
    /// Paid; `card_saved_for` is the shopper whose card list changed.
    Paid {
        card_saved_for: Option<i64>,
    },
    Failed,
    /// Settled already: nothing changed.
    Duplicate,
    /// `total_amount` below the attempt's amount: not paid.
    Underpaid,
    CurrencyMismatch,
    UnknownStatus,
}

pub fn settle_payment(
    conn: &mut DbConnection,
    attempt: &PaymentAttempt,
    n: &Notification,
    sealer: &Sealer,
    now: i64,
) -> Result<PaymentSettled, DbError> {
    match n.status() {
        Some(NotificationStatus::Success) => {
            if attempt.status != AttemptStatus::Pending {
                return Ok(PaymentSettled::Duplicate);
            }
            let currency_ok = n
                .currency
                .as_deref()
                .is_none_or(|c| Currency::parse(c).is_ok_and(|c| c == attempt.currency));
            if !currency_ok {
                return Ok(PaymentSettled::CurrencyMismatch);
            }
            // The count and the total must be those of a form we signed for this attempt: the
            // single payment, or an installment offer (whose total includes the interest).
            let count = n
                .installment_count
                .as_deref()
                .map_or(Some(0), |c| c.trim().parse::<u8>().ok());
            let expected = match count {
                Some(count) => {
                    crate::installments::expected_total(conn, attempt.id, attempt.amount, count)?
                }
                None => None,
            };
            let paid = n.total_amount();
            match (expected, paid) {
                (Some(least), Some(paid)) if paid.kurus() >= least => {}
                (None, _) => {
                    security::record(
                        conn,
                        EventKind::InstallmentMismatch,
                        None,
                        Some(&n.merchant_oid),
                        "installment_count of no form we signed",
                    )?;
                    return Ok(PaymentSettled::Underpaid);
                }
                _ => return Ok(PaymentSettled::Underpaid),
            }
            if !PaymentAttempt::update_status_if_pending(
                conn,
                &n.merchant_oid,
                AttemptStatus::Paid,
                now,
            )? {
                return Ok(PaymentSettled::Duplicate);
            }
            PaymentAttempt::record_collected(
                conn,
                attempt.id,
                count.unwrap_or(0),
                paid.map(|p| p.kurus()),
            )?;
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
            Ok(PaymentSettled::Paid { card_saved_for })
        }
        Some(NotificationStatus::Failed) => {
            if !PaymentAttempt::update_status_if_pending(
                conn,
                &n.merchant_oid,
                AttemptStatus::Failed,
                now,
            )? {
                return Ok(PaymentSettled::Duplicate);
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
            Ok(PaymentSettled::Failed)
        }
        None => Ok(PaymentSettled::UnknownStatus),
    }
}
