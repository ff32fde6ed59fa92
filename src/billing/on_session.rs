//! On-session payments of a subscription: the first period when subscribing, and "pay now" for
//! an unpaid period. Both are an order paid with 3-D Secure that saves the card; activation
//! counts the period once the notification has confirmed it.

use crate::catalog::Plan;
use crate::checkout::{Billing as BillingDetails, CheckoutError, place_order};
use crate::db::models::Order;
use crate::db::states::{OrderStatus, SubscriptionStatus};
use crate::db::subscriptions::{NewSubscription, Subscription};
use crate::db::{DbConnection, unix_now};
use crate::domain::{Currency, UserIp};
use diesel::Connection;

/// Whether the shopper may pay the subscription's next period on-session now: when a renewal
/// failed (past due), or when it waits for a card and its paid period is over. Never while the
/// current period is paid: that would charge the same period twice.
pub fn period_payable_now(sub: &Subscription, now: i64) -> bool {
    match sub.status {
        SubscriptionStatus::PastDue => true,
        SubscriptionStatus::NeedsCard => sub.periods_paid == 0 || sub.next_charge_at <= now,
        _ => false,
    }
}

/// What to pay on-session.
pub struct OnSession<'a> {
    pub user_id: i64,
    pub plan: &'a Plan,
    pub currency: Currency,
    pub billing: &'a BillingDetails,
    pub ip: UserIp,
    /// References of the shopper's cards now, to recognise the card this payment saves.
    pub known_cards: &'a str,
    /// What the shopper accepted on the subscribe page (none for "pay now").
    pub terms: Option<&'a crate::checkout::AcceptedTerms>,
}

/// What starting an on-session payment gave.
#[derive(Debug)]
pub enum Started {
    /// The order to pay (new, or the one already waiting for payment).
    Order(String),
    /// Nothing to pay now (the period is paid, or a paid order is still being counted).
    NothingDue,
}

#[derive(Debug, thiserror::Error)]
enum Attempt {
    /// Another request replaced the subscription's order meanwhile: roll back.
    #[error("lost the race to another payment start")]
    LostRace,
    #[error(transparent)]
    Checkout(#[from] CheckoutError),
}

impl From<diesel::result::Error> for Attempt {
    fn from(e: diesel::result::Error) -> Self {
        Self::Checkout(e.into())
    }
}

impl From<crate::db::DbError> for Attempt {
    fn from(e: crate::db::DbError) -> Self {
        Self::Checkout(e.into())
    }
}

/// The on-session order for one period of the plan, with its first payment attempt.
fn plan_order(conn: &mut DbConnection, start: &OnSession<'_>) -> Result<Order, CheckoutError> {
    let line = super::plan_line(start.plan);
    let (order, _) = place_order(
        conn,
        Some(start.user_id),
        start.billing,
        &[line],
        start.currency,
        start.ip,
        start.terms,
    )?;
    Ok(order)
}

/// Subscribes: a new subscription waiting for its first payment, and that payment's order.
pub fn subscribe(conn: &mut DbConnection, start: &OnSession<'_>) -> Result<String, CheckoutError> {
    conn.transaction(|conn| {
        let now = unix_now();
        let order = plan_order(conn, start)?;
        NewSubscription {
            user_id: start.user_id,
            plan_slug: &start.plan.slug,
            amount_kurus: order.total.kurus(),
            currency: start.currency.code(),
            interval_unit: start.plan.interval.code(),
            status: SubscriptionStatus::PendingPayment,
            known_cards: start.known_cards,
            first_order_id: Some(order.id),
            period_start: now,
            next_charge_at: now,
            user_ip: &start.ip.to_string(),
            created_at: now,
            updated_at: now,
        }
        .insert(conn)?;
        Ok(order.public_id)
    })
}

/// "Pay now" for subscription `id`: the order already waiting for payment if there is one
/// (pressed twice, or in two tabs at once: one order), else a new one, only while a period is
/// unpaid.
pub fn pay_now(
    conn: &mut DbConnection,
    id: i64,
    start: &OnSession<'_>,
) -> Result<Started, CheckoutError> {
    let result = conn.transaction(|conn| {
        let now = unix_now();
        let Some(sub) = Subscription::find(conn, id)?.filter(|s| s.user_id == start.user_id) else {
            return Ok(Started::NothingDue);
        };
        if !period_payable_now(&sub, now) {
            return Ok(Started::NothingDue);
        }
        if let Some(order) = match sub.first_order_id {
            Some(order_id) => Order::find(conn, order_id)?,
            None => None,
        } {
            match order.status {
                OrderStatus::Pending => return Ok(Started::Order(order.public_id)),
                OrderStatus::Paid if !super::order_counted(conn, id, order.id)? => {
                    return Ok(Started::NothingDue);
                }
                _ => {}
            }
        }
        let order = plan_order(conn, start)?;
        // Compare and swap on the previous order: of two requests at once, one wins.
        if !Subscription::set_on_session_order(
            conn,
            id,
            sub.first_order_id,
            order.id,
            start.known_cards,
            &start.ip.to_string(),
            now,
        )? {
            return Err(Attempt::LostRace);
        }
        Ok(Started::Order(order.public_id))
    });
    match result {
        Ok(started) => Ok(started),
        // Another request placed the order at the same moment: that one is the one to pay.
        Err(Attempt::LostRace) => {
            let waiting = match Subscription::find(conn, id)?.and_then(|s| s.first_order_id) {
                Some(order_id) => {
                    Order::find(conn, order_id)?.filter(|o| o.status == OrderStatus::Pending)
                }
                None => None,
            };
            Ok(waiting.map_or(Started::NothingDue, |o| Started::Order(o.public_id)))
        }
        Err(Attempt::Checkout(e)) => Err(e),
    }
}
