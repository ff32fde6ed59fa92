//! Refunds: a row with its own `reference_no`, committed (and its amount reserved) before
//! PayTR is asked, so the sum of refunds never exceeds what was paid, whatever runs at once.
//! `requested → submitted → succeeded | failed | unknown`; an `unknown` refund is never sent
//! again: the reconciler asks PayTR's status inquiry whether its reference_no was refunded.

use crate::db::refunds::{NewRefund, Refund, Refundable};
use crate::db::states::RefundStatus;
use crate::db::{Db, DbError, unix_now};
use crate::domain::{MerchantOid, Money, ReferenceNo};
use crate::paytr::{PaytrClient, RefundAnswer, StatusAnswer};

/// Why a refund was not even requested.
#[derive(Debug, thiserror::Error)]
pub enum RefundRefused {
    #[error("no paid payment has the merchant_oid {0}")]
    NotPaid(String),
    #[error("the amount must be more than 0.00")]
    Zero,
    #[error("only {left} can still be refunded")]
    TooMuch { left: String },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Who asked, for the record ("cli", a staff e-mail, …).
pub struct RefundRequest<'a> {
    pub merchant_oid: &'a MerchantOid,
    pub amount: Money,
    pub reason: &'a str,
    pub requested_by: &'a str,
}

/// Reserves the amount, records the refund, sends it once and records PayTR's answer.
#[tracing::instrument(skip_all, fields(merchant_oid = %request.merchant_oid))]
pub async fn refund(
    db: &Db,
    paytr: &PaytrClient,
    request: RefundRequest<'_>,
) -> Result<Refund, RefundRefused> {
    if request.amount.kurus() == 0 {
        return Err(RefundRefused::Zero);
    }
    let reference = ReferenceNo::parse(&format!("RF{}", crate::accounts::random_string(30)))
        .map_err(|_| RefundRefused::Zero)?;
    let row = reserve(db, &request, &reference).await?;
    let reference_no = row.reference_no.clone();
    let moved = {
        let reference_no = reference_no.clone();
        db.write(move |conn| {
            Refund::transition(
                conn,
                &reference_no,
                &[RefundStatus::Requested],
                RefundStatus::Submitted,
                None,
                None,
                unix_now(),
            )
        })
        .await?
    };
    if !moved {
        return Ok(row);
    }
    let answer = paytr
        .refund(request.merchant_oid, request.amount, &reference)
        .await;
    let (to, err_no, message) = match answer {
        Ok(RefundAnswer::Refunded { return_amount, .. }) => {
            if Money::parse_decimal(&return_amount).ok() != Some(request.amount) {
                tracing::warn!(%return_amount, "PayTR confirmed a refund of another amount");
            }
            (RefundStatus::Succeeded, None, None)
        }
        Ok(RefundAnswer::Refused(e)) => (RefundStatus::Failed, Some(e.err_no), Some(e.err_msg)),
        Err(e) if e.outcome_unknown() => (RefundStatus::Unknown, None, Some(e.to_string())),
        // Never sent (no connection, or a request we could not build).
        Err(e) => (RefundStatus::Failed, None, Some(e.to_string())),
    };
    tracing::info!(reference_no = %reference_no, status = to.code(), err_no = ?err_no, "refund answered");
    metrics::counter!("refunds_total", "outcome" => to.code()).increment(1);
    settle(
        db,
        &reference_no,
        &[RefundStatus::Submitted],
        to,
        err_no,
        message,
    )
    .await
}

async fn reserve(
    db: &Db,
    request: &RefundRequest<'_>,
    reference: &ReferenceNo,
) -> Result<Refund, RefundRefused> {
    let oid = request.merchant_oid.as_str().to_owned();
    let amount = request.amount.kurus();
    let (reason, by, reference_no) = (
        request.reason.to_owned(),
        request.requested_by.to_owned(),
        reference.as_str().to_owned(),
    );
    db.write(move |conn| {
        use diesel::Connection;
        conn.transaction(|conn| {
            let Some(payment) = Refundable::find(conn, &oid)? else {
                return Ok(Err(RefundRefused::NotPaid(oid.clone())));
            };
            if !Refundable::reserve(conn, &oid, payment.order_id.is_some(), amount)? {
                let left = Refundable::find(conn, &oid)?.map_or(0, |p| p.left_kurus());
                let left = Money::from_kurus(left.max(0)).unwrap_or_default();
                return Ok(Err(RefundRefused::TooMuch {
                    left: left.to_paytr_decimal(),
                }));
            }
            let now = unix_now();
            NewRefund {
                merchant_oid: &oid,
                order_id: payment.order_id,
                subscription_id: payment.subscription_id,
                amount_kurus: amount,
                currency: &payment.currency,
                reference_no: &reference_no,
                status: RefundStatus::Requested,
                reason: &reason,
                requested_by: &by,
                created_at: now,
                updated_at: now,
            }
            .insert(conn)
            .map(Ok)
        })
    })
    .await?
}

async fn settle(
    db: &Db,
    reference_no: &str,
    from: &'static [RefundStatus],
    to: RefundStatus,
    err_no: Option<String>,
    message: Option<String>,
) -> Result<Refund, RefundRefused> {
    let reference_no = reference_no.to_owned();
    Ok(db
        .write(move |conn| {
            use diesel::Connection;
            conn.transaction(|conn| {
                let moved = Refund::transition(
                    conn,
                    &reference_no,
                    from,
                    to,
                    err_no.as_deref(),
                    message.as_deref(),
                    unix_now(),
                )?;
                let refund = Refund::find_by_reference(conn, &reference_no)?
                    .ok_or(DbError::Query(diesel::result::Error::NotFound))?;
                if moved && to == RefundStatus::Succeeded {
                    // A hosted checkout's merchant is told in the same transaction.
                    crate::api::checkout_sessions::on_refund_succeeded(conn, &refund)?;
                }
                Ok(refund)
            })
        })
        .await?)
}

/// What a reconciling pass did to refunds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RefundsReconciled {
    pub succeeded: u32,
    pub failed: u32,
    /// Still open: PayTR could not be asked, or refused to answer.
    pub open: u32,
}

/// Settles refunds left open for longer than `grace_secs`: one never sent (`requested`) is
/// failed; one that may have reached PayTR is looked up by its reference_no in the status
/// inquiry's `returns`.
pub async fn reconcile(
    db: &Db,
    paytr: &PaytrClient,
    now: i64,
    grace_secs: i64,
) -> Result<RefundsReconciled, DbError> {
    let mut done = RefundsReconciled::default();
    let open = db
        .run(move |conn| Refund::in_status_before(conn, &RefundStatus::OPEN, now - grace_secs))
        .await?;
    for refund in open {
        let to = match refund.status {
            RefundStatus::Requested => Some((RefundStatus::Failed, "never sent to PayTR")),
            _ => lookup(paytr, &refund).await,
        };
        let Some((to, why)) = to else {
            done.open += 1;
            continue;
        };
        let from: &'static [RefundStatus] = &RefundStatus::OPEN;
        let settled = settle(
            db,
            &refund.reference_no,
            from,
            to,
            None,
            Some(why.to_owned()),
        )
        .await;
        match settled {
            Ok(r) if r.status == RefundStatus::Succeeded => done.succeeded += 1,
            Ok(_) => done.failed += 1,
            Err(e) => tracing::error!(error = %e, "refund not reconciled"),
        }
    }
    Ok(done)
}

async fn lookup(paytr: &PaytrClient, refund: &Refund) -> Option<(RefundStatus, &'static str)> {
    let oid = MerchantOid::parse(&refund.merchant_oid).ok()?;
    match paytr.payment_status(&oid).await {
        Ok(StatusAnswer::Paid(status)) if status.refund(&refund.reference_no).is_some() => Some((
            RefundStatus::Succeeded,
            "confirmed by PayTR's status inquiry",
        )),
        Ok(StatusAnswer::Paid(_)) => Some((
            RefundStatus::Failed,
            "PayTR's status inquiry lists no such refund",
        )),
        Ok(StatusAnswer::NotPaid(_)) => Some((
            RefundStatus::Failed,
            "PayTR's status inquiry has no payment to refund",
        )),
        Ok(StatusAnswer::Refused(e)) => {
            tracing::warn!(err_no = %e.err_no, err_msg = %e.err_msg, "status inquiry refused");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "status inquiry failed");
            None
        }
    }
}
