//! The reconciler: what PayTR's status inquiry says about payments, renewal charges and refunds
//! left unsettled (a lost answer, a notification that never came), applied through the same
//! code path as a notification, so it is idempotent and a later notification changes nothing.

use super::{Billing, Summary};
use crate::db::DbError;
use crate::db::models::PaymentAttempt;
use crate::db::states::ChargeStatus;
use crate::db::subscriptions::ChargeAttempt;
use crate::domain::{MerchantOid, Money};
use crate::notifications::{self, Outcome};
use crate::paytr::{Notification, StatusAnswer};

/// What to do with one unsettled payment, from PayTR's answer.
enum Verdict {
    Paid {
        total: Money,
        test_mode: bool,
    },
    NotPaid,
    /// PayTR could not be asked, or would not say.
    Unknown,
}

impl Billing {
    /// Settles what has waited longer than `reconcile_after`: refunds, checkout payments and
    /// renewal charges. Failures are logged; the next pass tries again.
    pub(super) async fn reconcile(&self, now: i64, summary: &mut Summary) {
        let after = secs(self.reconcile_after);
        match crate::refunds::reconcile(&self.db, &self.paytr, now, after).await {
            Ok(done) => summary.refunds_settled += done.succeeded + done.failed,
            Err(e) => tracing::error!(error = %e, "refunds not reconciled"),
        }
        if let Err(e) = self.reconcile_payments(now, after, summary).await {
            tracing::error!(error = %e, "payments not reconciled");
        }
        if let Err(e) = crate::receipts::learn_missing_cards(&self.db, &self.paytr, now).await {
            tracing::error!(error = %e, "cards of paid orders not asked about");
        }
    }

    async fn reconcile_payments(
        &self,
        now: i64,
        after: i64,
        summary: &mut Summary,
    ) -> Result<(), DbError> {
        let before = now - after;
        let payments = self
            .db
            .run(move |conn| PaymentAttempt::pending_before(conn, before, now - 3600))
            .await?;
        let abandon_before = now - secs(self.abandon_after);
        for attempt in payments {
            let verdict = self.ask(&attempt.merchant_oid).await;
            let fail = attempt.created_at < abandon_before;
            if self.apply(&attempt.merchant_oid, verdict, fail).await? {
                summary.reconciled += 1;
            } else {
                let oid = attempt.merchant_oid.clone();
                self.db
                    .write(move |conn| PaymentAttempt::mark_inquired(conn, &oid, now))
                    .await?;
            }
        }
        let charges = self
            .db
            .run(move |conn| ChargeAttempt::unknown_before(conn, before))
            .await?;
        for charge in charges {
            if charge.status == ChargeStatus::Planned {
                continue; // never sent: the engine handles it
            }
            let verdict = self.ask(&charge.merchant_oid).await;
            // A `pending` charge (wait_callback) is PayTR's to finish: only its success is taken.
            let fail = charge.status != ChargeStatus::Pending;
            if self.apply(&charge.merchant_oid, verdict, fail).await? {
                summary.reconciled += 1;
            }
        }
        Ok(())
    }

    async fn ask(&self, oid: &str) -> Verdict {
        let Ok(oid) = MerchantOid::parse(oid) else {
            return Verdict::Unknown;
        };
        match self.paytr.payment_status(&oid).await {
            Ok(StatusAnswer::Paid(status)) => {
                match Money::parse_decimal(status.payment_total.trim())
                    .or_else(|_| Money::parse_decimal(status.payment_amount.trim()))
                {
                    Ok(total) => Verdict::Paid {
                        total,
                        test_mode: status.test_mode,
                    },
                    Err(_) => {
                        tracing::warn!(%oid, "status inquiry gave no readable amount");
                        Verdict::Unknown
                    }
                }
            }
            Ok(StatusAnswer::NotPaid(_)) => Verdict::NotPaid,
            Ok(StatusAnswer::Refused(e)) => {
                tracing::warn!(%oid, err_no = %e.err_no, err_msg = %e.err_msg, "status inquiry refused");
                Verdict::Unknown
            }
            Err(e) => {
                tracing::warn!(%oid, error = %e, "status inquiry failed");
                Verdict::Unknown
            }
        }
    }

    /// Applies PayTR's verdict as the notification it stands for. `fail`: a "not paid" verdict
    /// may fail the payment. True when something changed.
    async fn apply(&self, oid: &str, verdict: Verdict, fail: bool) -> Result<bool, DbError> {
        let n = match verdict {
            Verdict::Paid { total, test_mode } => Notification {
                merchant_oid: oid.to_owned(),
                status: "success".into(),
                total_amount: total.kurus().to_string(),
                test_mode: Some(if test_mode { "1" } else { "0" }.into()),
                ..Notification::default()
            },
            Verdict::NotPaid if fail => Notification {
                merchant_oid: oid.to_owned(),
                status: "failed".into(),
                total_amount: "0".into(),
                failed_reason_code: Some("6".into()),
                failed_reason_msg: Some("PayTR has no successful payment for this order".into()),
                ..Notification::default()
            },
            Verdict::NotPaid | Verdict::Unknown => return Ok(false),
        };
        let fields = vec![
            ("source".to_owned(), "status_inquiry".to_owned()),
            ("merchant_oid".to_owned(), n.merchant_oid.clone()),
            ("status".to_owned(), n.status.clone()),
            ("total_amount".to_owned(), n.total_amount.clone()),
        ];
        let (sealer, test_mode, mail) = (self.sealer.clone(), self.test_mode, self.mail.clone());
        let applied = self
            .db
            .write(move |conn| notifications::apply(conn, &n, &fields, &sealer, test_mode, &mail))
            .await?;
        tracing::info!(merchant_oid = %oid, outcome = applied.outcome.code(), "reconciled by status inquiry");
        Ok(!matches!(
            applied.outcome,
            Outcome::Duplicate | Outcome::UnknownOrder | Outcome::UnknownStatus
        ))
    }
}

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}
