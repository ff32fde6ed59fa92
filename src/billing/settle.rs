//! Settling renewal attempts, from PayTR's answer or its notification, exactly once.

use crate::catalog::Interval;
use crate::db::states::{ChargeStatus, SubscriptionStatus};
use crate::db::subscriptions::{ChargeAttempt, Subscription};
use crate::db::{DbConnection, DbError};
use crate::paytr::{Notification, NotificationStatus};

/// Marks the attempt succeeded and counts its period, once (answer and notification may race).
pub(super) fn succeed(
    conn: &mut DbConnection,
    oid: &str,
    sub_id: i64,
    period: i32,
    interval: Interval,
    now: i64,
    mail: &crate::mail::MailCtx,
) -> Result<bool, DbError> {
    use diesel::Connection;
    conn.transaction(|conn| {
        if !ChargeAttempt::transition(
            conn,
            oid,
            &ChargeStatus::SETTLEABLE,
            ChargeStatus::Succeeded,
            None,
            None,
            now,
        )? {
            return Ok(false);
        }
        let Some(sub) = Subscription::find(conn, sub_id)? else {
            return Ok(false);
        };
        let start = sub.next_charge_at;
        Subscription::advance(conn, sub_id, period, start, interval.after(start), now)?;
        if sub.status == SubscriptionStatus::PastDue {
            Subscription::set_status(conn, sub_id, SubscriptionStatus::Active, None, now)?;
        }
        crate::api::subscriptions::tell(conn, sub_id, "subscription.renewed")?;
        let amount = ChargeAttempt::find_by_merchant_oid(conn, oid)?.map(|a| a.amount_kurus);
        super::mails::renewal_paid(conn, mail, &sub, amount, interval.after(start))?;
        Ok(true)
    })
}

/// What a notification did to a renewal charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenewalSettled {
    Paid,
    /// Failed after all: retried on the policy's schedule.
    Failed,
    /// Settled already: nothing changed.
    Duplicate,
    Underpaid,
    UnknownStatus,
    /// The charge's subscription is gone.
    NoSubscription,
}

/// Settles a renewal attempt from PayTR's notification (inside the notification's transaction).
/// `None` when `n` is not about a renewal.
pub fn settle_from_notification(
    conn: &mut DbConnection,
    n: &Notification,
    now: i64,
    mail: &crate::mail::MailCtx,
) -> Result<Option<RenewalSettled>, DbError> {
    let Some(attempt) = ChargeAttempt::find_by_merchant_oid(conn, &n.merchant_oid)? else {
        return Ok(None);
    };
    let Some(sub) = Subscription::find(conn, attempt.subscription_id)? else {
        return Ok(Some(RenewalSettled::NoSubscription));
    };
    let interval = Interval::parse(&sub.interval_unit).unwrap_or(Interval::Monthly);
    match n.status() {
        Some(NotificationStatus::Success) => {
            let paid_enough = n
                .total_amount()
                .is_some_and(|t| t.kurus() >= attempt.amount_kurus);
            if !paid_enough {
                return Ok(Some(RenewalSettled::Underpaid));
            }
            let period = attempt.period;
            let done = succeed(conn, &n.merchant_oid, sub.id, period, interval, now, mail)?;
            Ok(Some(if done {
                RenewalSettled::Paid
            } else {
                RenewalSettled::Duplicate
            }))
        }
        Some(NotificationStatus::Failed) => {
            let changed = ChargeAttempt::transition(
                conn,
                &n.merchant_oid,
                &[
                    ChargeStatus::Submitted,
                    ChargeStatus::Pending,
                    ChargeStatus::Unknown,
                ],
                ChargeStatus::FailedSoft,
                n.failed_reason_msg.as_deref(),
                // A day after the attempt; the engine's own answer, if it comes, decides.
                Some(attempt.created_at + 86_400),
                now,
            )?;
            Ok(Some(if changed {
                RenewalSettled::Failed
            } else {
                RenewalSettled::Duplicate
            }))
        }
        None => Ok(Some(RenewalSettled::UnknownStatus)),
    }
}
