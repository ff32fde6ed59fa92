//! Recurring billing: subscriptions charged on saved cards with Non-3D recurring requests,
//! never twice for one period.
//!
//! Every attempt is a row with a deterministic merchant_oid (`SUB{id}P{period}A{attempt}`),
//! committed as `planned` and then `submitted` before PayTR is called. `success` → succeeded;
//! `wait_callback` → pending; `failed` + `try_again` → failed_soft (retried on the policy's
//! schedule); `failed` alone → failed_hard (past due). A time-out or broken answer after
//! `submitted` leaves the attempt `unknown`: it is never sent again; its notification settles
//! it. Due subscriptions are claimed with one atomic update, so engines running side by side
//! charge each one once.

mod activation;
mod mails;
mod on_session;
mod policy;
mod reconcile;
mod settle;

pub use activation::{CARDS_UNKNOWN, order_counted};
pub use on_session::{OnSession, Started, pay_now, period_payable_now, subscribe};
pub use policy::{Retry, RetryPolicy};
use settle::succeed;
pub use settle::{RenewalSettled, settle_from_notification};

use crate::cards::CardCache;
use crate::catalog::{Catalog, Interval, Plan};
use crate::db::models::Order;
use crate::db::states::{ChargeStatus, SubscriptionReason, SubscriptionStatus};
use crate::db::subscriptions::{ChargeAttempt, NewChargeAttempt, Subscription};
use crate::db::{Db, DbError};
use crate::domain::{Lang, year_month};
use crate::paytr::{
    Basket, BasketItem, ChargeAnswer, PaymentRequest, PaytrClient, PaytrError, Token,
};
use crate::seal::Sealer;
use std::time::Duration;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub charged: u32,
    pub pending: u32,
    pub soft_failed: u32,
    pub hard_failed: u32,
    pub unknown: u32,
    /// Attempts whose outcome is still unknown past the reporting window (for the merchant).
    pub unknown_overdue: u32,
    pub cancelled: u32,
    /// Payments and charges settled from PayTR's status inquiry.
    pub reconciled: u32,
    /// Refunds settled from PayTR's status inquiry (or failed, never sent).
    pub refunds_settled: u32,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "charged {}, pending {}, soft-failed {}, hard-failed {}, unknown {} ({} past the reporting window), cancelled {}, reconciled {}, refunds settled {}",
            self.charged,
            self.pending,
            self.soft_failed,
            self.hard_failed,
            self.unknown,
            self.unknown_overdue,
            self.cancelled,
            self.reconciled,
            self.refunds_settled
        )
    }
}

/// Everything the engine needs; cheap to clone.
#[derive(Clone)]
pub struct Billing {
    pub db: Db,
    pub paytr: PaytrClient,
    pub capi: PaytrClient,
    pub cards: std::sync::Arc<CardCache>,
    pub sealer: Sealer,
    pub catalog: Catalog,
    pub public_url: String,
    /// E-mails about renewals are queued with the change they tell about.
    pub mail: std::sync::Arc<crate::mail::MailCtx>,
    pub test_mode: bool,
    /// `PAYTR_DEBUG_ON`, sent with renewals as with every other request.
    pub debug_on: bool,
    pub policy: RetryPolicy,
    /// How long an attempt may stay unknown before it is reported.
    pub unknown_after: Duration,
    /// How long a payment, charge or refund may stay unsettled before PayTR is asked.
    pub reconcile_after: Duration,
    /// How long an unpaid checkout payment stays open before it is failed.
    pub abandon_after: Duration,
}

/// Whether a refused renewal is final for this card. PayTR says so with `try_again=false`;
/// when its answer leaves `try_again` out, only the decline its documentation calls final (the
/// bank closed the card: "Kart banka tarafından kapatılmış … tekrar işlem göndermeyin") is
/// final, and anything else is retried on the soft schedule.
pub fn final_decline(msg: &str, try_again: Option<bool>) -> bool {
    match try_again {
        Some(again) => !again,
        None => {
            let msg = msg.to_lowercase();
            ["kapatılmış", "kapatilmis", "tekrar işlem göndermeyin"]
                .iter()
                .any(|words| msg.contains(words))
        }
    }
}

/// The deterministic merchant_oid of an attempt.
pub fn attempt_oid(subscription_id: i64, period: i32, attempt_no: i32) -> String {
    format!("SUB{subscription_id}P{period}A{attempt_no}")
}

/// A card's `MM/YY` has passed by `now`.
pub fn card_expired(expiry: Option<&str>, now: i64) -> bool {
    let Some((m, y)) = expiry.and_then(|e| e.split_once('/')) else {
        return false;
    };
    let (Ok(m), Ok(y)) = (m.parse::<u32>(), y.parse::<u32>()) else {
        return false;
    };
    (2000 + y, m) < year_month(now)
}

impl Billing {
    /// Charges every due subscription once. `now` is the clock (tests and the sandbox move it).
    pub async fn run_due(&self, now: i64) -> Result<Summary, DbError> {
        let mut summary = Summary::default();
        self.reconcile(now, &mut summary).await;
        if let Err(e) = self.warn_expiring_cards(now).await {
            tracing::error!(error = %e, "expiring cards not warned about");
        }
        self.activate_pending(now).await;
        let token = crate::accounts::random_string(24);
        let claimed = self
            .db
            .write({
                let token = token.clone();
                move |conn| Subscription::claim_due(conn, now, now + 600, &token)
            })
            .await?;
        for sub in claimed {
            let id = sub.id;
            if let Err(e) = self.charge(sub, now, &mut summary).await {
                tracing::error!(subscription = id, error = %e, "renewal not processed");
            }
            let token = token.clone();
            self.db
                .write(move |conn| Subscription::release(conn, id, &token))
                .await?;
        }
        let before = now - i64::try_from(self.unknown_after.as_secs()).unwrap_or(i64::MAX);
        let overdue = self
            .db
            .run(move |conn| ChargeAttempt::unknown_before(conn, before))
            .await?;
        for a in &overdue {
            tracing::warn!(merchant_oid = %a.merchant_oid, status = a.status.code(), "renewal outcome still unknown: check it in PayTR's panel");
        }
        summary.unknown_overdue = u32::try_from(overdue.len()).unwrap_or(u32::MAX);
        Ok(summary)
    }

    #[tracing::instrument(skip_all, fields(subscription = sub.id, period = sub.periods_paid + 1))]
    async fn charge(
        &self,
        sub: Subscription,
        now: i64,
        summary: &mut Summary,
    ) -> Result<(), DbError> {
        let period = sub.periods_paid + 1;
        if sub.cancel_at_period_end {
            self.db
                .write(move |conn| {
                    Subscription::set_status(conn, sub.id, SubscriptionStatus::Cancelled, None, now)
                })
                .await?;
            summary.cancelled += 1;
            return Ok(());
        }
        let attempts = self
            .db
            .run(move |conn| ChargeAttempt::for_period(conn, sub.id, period))
            .await?;
        if let Some(last) = attempts.last() {
            match last.status {
                status if status.is_in_flight() => {
                    // Sent, or maybe sent: never again blindly. The notification settles it.
                    summary.unknown += 1;
                    return Ok(());
                }
                ChargeStatus::Succeeded => return Ok(()),
                _ if last.next_retry_at.is_some_and(|at| at > now) => return Ok(()),
                _ => {}
            }
        }
        let Some(ctoken) = sub
            .ctoken_sealed
            .as_deref()
            .and_then(|s| self.sealer.open(s))
            .map(Token::new)
        else {
            self.past_due(sub.id, SubscriptionReason::NoCard, now)
                .await?;
            return Ok(());
        };
        if card_expired(sub.card_expiry.as_deref(), now) {
            self.past_due(sub.id, SubscriptionReason::CardExpired, now)
                .await?;
            summary.hard_failed += 1;
            return Ok(());
        }
        let card = ctoken.hint();
        if attempts
            .last()
            .is_some_and(|a| a.status == ChargeStatus::FailedHard && a.card_ref == card)
        {
            // Refused for good on this card: only another card may try again.
            return Ok(());
        }
        let since = now - self.policy.card_window_days * 86_400;
        let card_attempts = self
            .db
            .run({
                let card = card.clone();
                move |conn| ChargeAttempt::count_for_card_since(conn, &card, since)
            })
            .await?;
        let attempt_no = i32::try_from(attempts.len()).unwrap_or(i32::MAX) + 1;
        if attempt_no > self.policy.max_attempts || !self.policy.card_allows(card_attempts) {
            self.past_due(sub.id, SubscriptionReason::RetriesExhausted, now)
                .await?;
            summary.hard_failed += 1;
            return Ok(());
        }
        let Some(request) = self.recurring_request(&sub, period, attempt_no).await? else {
            self.past_due(sub.id, SubscriptionReason::NoBillingDetails, now)
                .await?;
            return Ok(());
        };
        let oid = attempt_oid(sub.id, period, attempt_no);
        // Planned, then submitted: both committed before PayTR hears of it.
        let planned = self
            .db
            .write({
                let (oid, card) = (oid.clone(), card.clone());
                let amount = sub.amount.kurus();
                move |conn| {
                    use diesel::Connection;
                    conn.transaction(|conn| {
                        // Cancelled since it was claimed (the API, the back office, the shopper):
                        // nothing is planned. The guard also holds the row until the attempt is
                        // committed, so a cancellation either comes first or finds it under way.
                        if !Subscription::still_renewing(conn, sub.id, now)? {
                            return Ok(false);
                        }
                        NewChargeAttempt {
                            subscription_id: sub.id,
                            period,
                            attempt_no,
                            merchant_oid: &oid,
                            amount_kurus: amount,
                            card_ref: &card,
                            status: ChargeStatus::Planned,
                            created_at: now,
                            updated_at: now,
                        }
                        .insert(conn)?;
                        ChargeAttempt::transition(
                            conn,
                            &oid,
                            &[ChargeStatus::Planned],
                            ChargeStatus::Submitted,
                            None,
                            None,
                            now,
                        )
                    })
                }
            })
            .await;
        if !matches!(planned, Ok(true)) {
            // Another engine planned this very attempt: it is theirs.
            return Ok(());
        }
        let Some(utoken) = self.utoken_of(sub.user_id).await? else {
            self.settle_attempt(&oid, ChargeStatus::FailedHard, Some("no utoken"), None, now)
                .await?;
            self.past_due(sub.id, SubscriptionReason::NoCard, now)
                .await?;
            return Ok(());
        };
        tracing::info!(merchant_oid = %oid, "renewal submitted");
        let answer = self
            .paytr
            .recurring_charge(&request, &utoken, &ctoken)
            .await;
        self.record_answer(
            &sub,
            period,
            attempt_no,
            &oid,
            answer,
            card_attempts + 1,
            now,
            summary,
        )
        .await
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the answer and everything it settles"
    )]
    async fn record_answer(
        &self,
        sub: &Subscription,
        period: i32,
        attempt_no: i32,
        oid: &str,
        answer: Result<ChargeAnswer, PaytrError>,
        card_attempts: i64,
        now: i64,
        summary: &mut Summary,
    ) -> Result<(), DbError> {
        match answer {
            Ok(ChargeAnswer::Success { .. }) => {
                let id = sub.id;
                let oid = oid.to_owned();
                let interval = Interval::parse(&sub.interval_unit).unwrap_or(Interval::Monthly);
                let mail = self.mail.clone();
                self.db
                    .write(move |conn| succeed(conn, &oid, id, period, interval, now, &mail))
                    .await?;
                summary.charged += 1;
            }
            Ok(ChargeAnswer::WaitCallback { .. }) => {
                self.settle_attempt(oid, ChargeStatus::Pending, None, None, now)
                    .await?;
                summary.pending += 1;
            }
            Ok(ChargeAnswer::Failed { msg, try_again }) if !final_decline(&msg, try_again) => {
                let first_at = self
                    .db
                    .run({
                        let id = sub.id;
                        move |conn| {
                            Ok(ChargeAttempt::for_period(conn, id, period)?
                                .first()
                                .map_or(now, |a| a.created_at))
                        }
                    })
                    .await?;
                match self
                    .policy
                    .after_soft_failure(attempt_no, first_at, now, card_attempts)
                {
                    Retry::At(at) => {
                        self.settle_attempt(
                            oid,
                            ChargeStatus::FailedSoft,
                            Some(&msg),
                            Some(at),
                            now,
                        )
                        .await?
                    }
                    Retry::GiveUp => {
                        self.settle_attempt(oid, ChargeStatus::FailedSoft, Some(&msg), None, now)
                            .await?;
                        self.past_due(sub.id, SubscriptionReason::RetriesExhausted, now)
                            .await?;
                    }
                }
                summary.soft_failed += 1;
            }
            Ok(ChargeAnswer::Failed { msg, .. }) => {
                self.settle_attempt(oid, ChargeStatus::FailedHard, Some(&msg), None, now)
                    .await?;
                self.past_due(sub.id, SubscriptionReason::CardDeclined, now)
                    .await?;
                summary.hard_failed += 1;
            }
            Err(e) if !e.outcome_unknown() => {
                // Nothing reached PayTR: safe to try again later.
                let retry = now + self.policy.gaps_days.first().copied().unwrap_or(1) * 86_400;
                self.settle_attempt(
                    oid,
                    ChargeStatus::FailedSoft,
                    Some(&e.to_string()),
                    Some(retry),
                    now,
                )
                .await?;
                summary.soft_failed += 1;
            }
            Err(e) => {
                tracing::warn!(merchant_oid = %oid, error = %e, "renewal outcome unknown; waiting for the notification");
                self.settle_attempt(oid, ChargeStatus::Unknown, Some(&e.to_string()), None, now)
                    .await?;
                summary.unknown += 1;
            }
        }
        Ok(())
    }

    async fn settle_attempt(
        &self,
        oid: &str,
        to: ChargeStatus,
        msg: Option<&str>,
        retry: Option<i64>,
        now: i64,
    ) -> Result<(), DbError> {
        metrics::counter!("billing_attempts_total", "outcome" => crate::db::states::StoredText::code(to))
            .increment(1);
        let (oid, msg) = (oid.to_owned(), msg.map(str::to_owned));
        self.db
            .write(move |conn| {
                // A failed notification can land before the answer and write a soft failure;
                // the answer, which says whether to try again, then decides.
                let from: &[ChargeStatus] = match to {
                    ChargeStatus::FailedSoft | ChargeStatus::FailedHard => {
                        &[ChargeStatus::Submitted, ChargeStatus::FailedSoft]
                    }
                    _ => &[ChargeStatus::Submitted],
                };
                ChargeAttempt::transition(conn, &oid, from, to, msg.as_deref(), retry, now)?;
                Ok(())
            })
            .await
    }

    /// The subscription waits for its shopper, who is told by e-mail (once, in the same
    /// transaction) with a link to fix it.
    async fn past_due(&self, id: i64, reason: SubscriptionReason, now: i64) -> Result<(), DbError> {
        let mail = self.mail.clone();
        self.db
            .write(move |conn| {
                let before = Subscription::find(conn, id)?;
                Subscription::set_status(conn, id, SubscriptionStatus::PastDue, Some(reason), now)?;
                match before {
                    Some(sub) if sub.status != SubscriptionStatus::PastDue => {
                        crate::api::subscriptions::tell(conn, id, "subscription.past_due")?;
                        mails::renewal_failed(conn, &mail, &sub, reason)
                    }
                    _ => Ok(()),
                }
            })
            .await
    }

    async fn utoken_of(&self, user_id: i64) -> Result<Option<Token>, DbError> {
        let user = self
            .db
            .run(move |conn| crate::accounts::find_user(conn, user_id))
            .await?;
        Ok(user
            .and_then(|u| u.utoken_sealed)
            .and_then(|s| self.sealer.open(&s))
            .map(Token::new))
    }

    async fn recurring_request(
        &self,
        sub: &Subscription,
        period: i32,
        attempt_no: i32,
    ) -> Result<Option<PaymentRequest>, DbError> {
        let Some(order_id) = sub.first_order_id else {
            return Ok(None);
        };
        let Some(order) = self.db.run(move |conn| Order::find(conn, order_id)).await? else {
            return Ok(None);
        };
        let name = self
            .catalog
            .plan(&sub.plan_slug)
            .map_or_else(|| sub.plan_slug.clone(), |p| p.name.tr.clone());
        let Ok(public_url) = crate::domain::AbsoluteUrl::parse("PUBLIC_URL", &self.public_url)
        else {
            return Ok(None);
        };
        let ctx = crate::checkout::RequestContext {
            public_url: &public_url,
            lang: Lang::Tr,
            test_mode: self.test_mode,
            debug_on: self.debug_on,
        };
        let oid = attempt_oid(sub.id, period, attempt_no);
        Ok(build_request(sub, &order, &name, &ctx, &oid).ok())
    }
}

/// The recurring request for a subscription, with the shopper's details from its order.
fn build_request(
    sub: &Subscription,
    order: &Order,
    plan_name: &str,
    ctx: &crate::checkout::RequestContext<'_>,
    oid: &str,
) -> Result<PaymentRequest, crate::domain::ValidationError> {
    let public_url = ctx.public_url;
    let basket = Basket::new(vec![BasketItem {
        name: plan_name.to_owned(),
        unit_price: sub.amount,
        quantity: 1,
    }])?;
    crate::checkout::request_for(
        order,
        crate::checkout::ChargeOf {
            merchant_oid: oid,
            user_ip: &sub.user_ip,
            amount: sub.amount,
            currency: sub.currency,
            basket,
            ok_url: public_url.join_path("merchant_ok_url", "/account")?,
            fail_url: public_url.join_path("merchant_fail_url", "/account")?,
            lang: ctx.lang,
            test_mode: ctx.test_mode,
            debug_on: ctx.debug_on,
            non_3d: true,
        },
    )
}

/// A plan's price line for its on-session order.
pub fn plan_line(plan: &Plan) -> crate::checkout::PricedLine {
    crate::checkout::PricedLine {
        product: crate::catalog::Product {
            slug: plan.slug.clone(),
            name: plan.name.clone(),
            description: plan.description.clone(),
            price: plan.amount,
        },
        quantity: 1,
        total: plan.amount,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_documented_decline_is_final_when_try_again_is_left_out() {
        let closed = "Kart banka tarafından kapatılmış. Bu kart ile tekrar işlem göndermeyin.";
        assert!(final_decline("anything", Some(false)));
        assert!(!final_decline(closed, Some(true)), "PayTR's word wins");
        assert!(final_decline(closed, None));
        assert!(!final_decline(
            "Henüz devam eden bir işleminiz bulunmaktadır",
            None
        ));
        assert!(!final_decline("Bu islem icin magazanin yetkisi yok", None));
    }
}
