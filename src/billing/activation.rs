//! Tying a subscription to the card its on-session payment saved.

use super::Billing;
use crate::cards::{card_ref, saved_cards};
use crate::catalog::Interval;
use crate::db::models::Order;
use crate::db::states::{ChargeStatus, OrderStatus, SubscriptionReason, SubscriptionStatus};
use crate::db::subscriptions::{ChargeAttempt, NewChargeAttempt, Subscription};
use crate::db::{DbConnection, DbError};

impl Billing {
    /// Ties subscriptions whose on-session payment has been confirmed to the card it saved.
    pub async fn activate_pending(&self, now: i64) {
        let pending = self
            .db
            .run(|conn| {
                use crate::db::schema::subscriptions::dsl as s;
                use diesel::prelude::*;
                Ok(s::subscriptions
                    .filter(s::status.eq_any([
                        SubscriptionStatus::PendingPayment,
                        SubscriptionStatus::PastDue,
                        SubscriptionStatus::NeedsCard,
                    ]))
                    .select(s::id)
                    .load::<i64>(conn)?)
            })
            .await
            .unwrap_or_default();
        for id in pending {
            if let Err(e) = self.activate(id, now).await {
                tracing::warn!(subscription = id, error = %e, "could not activate the subscription yet");
            }
        }
    }

    /// If the subscription's on-session order is paid: find the card it saved (CAPI LIST, the
    /// card not on file before), tie the subscription to it and count the period as paid.
    pub async fn activate(&self, id: i64, now: i64) -> anyhow::Result<bool> {
        let found = self
            .db
            .run(move |conn| {
                let Some(sub) = Subscription::find(conn, id)? else {
                    return Ok(None);
                };
                let order = match sub.first_order_id {
                    Some(order_id) => Order::find(conn, order_id)?,
                    None => None,
                };
                Ok(Some((sub, order)))
            })
            .await?;
        let Some((sub, Some(order))) = found else {
            return Ok(false);
        };
        if order.status != OrderStatus::Paid {
            return Ok(false);
        }
        let order_id = order.id;
        let already_counted = self
            .db
            .run(move |conn| order_counted(conn, id, order_id))
            .await?;
        if already_counted {
            return Ok(false);
        }
        let utoken = self.utoken_of(sub.user_id).await?;
        // Always PayTR's current list (not kept: the shopper's version is not known here).
        let cards =
            saved_cards(&self.capi, &self.cards, sub.user_id, None, utoken.as_ref()).await?;
        let known: Vec<&str> = sub
            .known_cards
            .split(',')
            .filter(|s| !s.is_empty())
            .collect();
        // When the cards on file could not be listed at subscribe time, the new one can't be
        // told apart: the shopper chooses the card for the renewals instead.
        let card = (sub.known_cards != CARDS_UNKNOWN)
            .then(|| {
                cards
                    .iter()
                    .rev()
                    .find(|c| !known.contains(&card_ref(c).as_str()))
            })
            .flatten();
        let interval = Interval::parse(&sub.interval_unit).unwrap_or(Interval::Monthly);
        // The paid period always counts, card or not: the shopper paid for it. Without a card
        // that can be charged unattended, only a card for the next renewal is asked for.
        let chargeable = card.filter(|c| !c.require_cvv).map(|c| {
            (
                self.sealer.seal(c.ctoken.expose()),
                c.last_4.clone(),
                format!("{}/{}", c.month, c.year),
            )
        });
        let reason = match card {
            None if sub.known_cards == CARDS_UNKNOWN => SubscriptionReason::ChooseCard,
            None => SubscriptionReason::CardNotSaved,
            Some(_) => SubscriptionReason::CardNeedsCvv,
        };
        let period = sub.periods_paid + 1;
        self.db
            .write(move |conn| {
                use diesel::Connection;
                conn.transaction(|conn| {
                    mark_order_counted(conn, id, period, order_id, now)?;
                    Subscription::advance(conn, id, period, now, interval.after(now), now)?;
                    match &chargeable {
                        Some((sealed, last4, expiry)) => {
                            Subscription::activate_with_card(conn, id, sealed, last4, expiry, now)
                        }
                        None => Subscription::set_status(
                            conn,
                            id,
                            SubscriptionStatus::NeedsCard,
                            Some(reason),
                            now,
                        ),
                    }
                })
            })
            .await?;
        Ok(true)
    }
}

/// `known_cards` when PayTR's card list could not be read at subscribe time.
pub const CARDS_UNKNOWN: &str = "?";

fn on_session_oid(sub_id: i64, order_id: i64) -> String {
    format!("SUB{sub_id}ORDER{order_id}")
}

/// Whether the on-session order `order_id` was already counted for the subscription: it is
/// recorded as a succeeded attempt row named after the order, so it counts once.
pub fn order_counted(conn: &mut DbConnection, sub_id: i64, order_id: i64) -> Result<bool, DbError> {
    Ok(ChargeAttempt::find_by_merchant_oid(conn, &on_session_oid(sub_id, order_id))?.is_some())
}

fn mark_order_counted(
    conn: &mut DbConnection,
    sub_id: i64,
    period: i32,
    order_id: i64,
    now: i64,
) -> Result<(), DbError> {
    NewChargeAttempt {
        subscription_id: sub_id,
        period,
        attempt_no: 0,
        merchant_oid: &on_session_oid(sub_id, order_id),
        amount_kurus: 0,
        card_ref: "on-session",
        status: ChargeStatus::Succeeded,
        created_at: now,
        updated_at: now,
    }
    .insert(conn)
}
