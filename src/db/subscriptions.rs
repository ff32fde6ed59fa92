//! Subscription and charge-attempt rows, with the guarded updates the billing engine relies on.

use super::schema::{charge_attempts, subscriptions};
use super::states::{ChargeStatus, SubscriptionReason, SubscriptionStatus};
use super::{DbConnection, DbError};
use crate::domain::{Currency, Money};
use diesel::prelude::*;

/// What a subscription's first payment page states: the plan, the amount per interval.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = subscriptions)]
pub struct SubscriptionTerms {
    pub plan_slug: String,
    #[diesel(column_name = amount_kurus, deserialize_as = i64)]
    pub amount: Money,
    #[diesel(deserialize_as = String)]
    pub currency: Currency,
    pub interval_unit: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = subscriptions)]
pub struct Subscription {
    pub id: i64,
    pub user_id: i64,
    pub plan_slug: String,
    #[diesel(column_name = amount_kurus, deserialize_as = i64)]
    pub amount: Money,
    #[diesel(deserialize_as = String)]
    pub currency: Currency,
    pub interval_unit: String,
    pub status: SubscriptionStatus,
    pub status_reason: Option<SubscriptionReason>,
    pub ctoken_sealed: Option<String>,
    pub card_last4: Option<String>,
    /// `MM/YY` of the card, so an expired card is not charged.
    pub card_expiry: Option<String>,
    pub known_cards: String,
    pub first_order_id: Option<i64>,
    pub periods_paid: i32,
    pub period_start: i64,
    pub next_charge_at: i64,
    pub cancel_at_period_end: bool,
    pub user_ip: String,
    pub claimed_until: Option<i64>,
    pub claim_token: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = subscriptions)]
pub struct NewSubscription<'a> {
    pub user_id: i64,
    pub plan_slug: &'a str,
    pub amount_kurus: i64,
    pub currency: &'a str,
    pub interval_unit: &'a str,
    pub status: SubscriptionStatus,
    pub known_cards: &'a str,
    pub first_order_id: Option<i64>,
    pub period_start: i64,
    pub next_charge_at: i64,
    pub user_ip: &'a str,
    pub created_at: i64,
    pub updated_at: i64,
}

impl NewSubscription<'_> {
    pub fn insert(&self, conn: &mut DbConnection) -> Result<Subscription, DbError> {
        diesel::insert_into(subscriptions::table)
            .values(self)
            .execute(conn)?;
        Ok(subscriptions::table
            .filter(subscriptions::user_id.eq(self.user_id))
            .order(subscriptions::id.desc())
            .select(Subscription::as_select())
            .first(conn)?)
    }
}

impl Subscription {
    pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<Subscription>, DbError> {
        Ok(subscriptions::table
            .find(id)
            .select(Subscription::as_select())
            .first(conn)
            .optional()?)
    }

    pub fn list_for_user(
        conn: &mut DbConnection,
        user_id: i64,
    ) -> Result<Vec<Subscription>, DbError> {
        Ok(subscriptions::table
            .filter(subscriptions::user_id.eq(user_id))
            .order(subscriptions::id.desc())
            .select(Subscription::as_select())
            .load(conn)?)
    }

    /// The subscription an on-session order starts (or restarts), if any.
    pub fn for_first_order(
        conn: &mut DbConnection,
        order_id: i64,
    ) -> Result<Option<Subscription>, DbError> {
        Ok(crate::native!(conn, |c| subscriptions::table
            .filter(subscriptions::first_order_id.eq(order_id))
            .select(Subscription::as_select())
            .first(c)
            .optional())?)
    }

    /// Claims every due subscription not claimed by another engine, in one atomic update, and
    /// returns the ones this claim got. A claim lapses at `lease_until` (a crashed engine's
    /// subscriptions come back).
    pub fn claim_due(
        conn: &mut DbConnection,
        now: i64,
        lease_until: i64,
        token: &str,
    ) -> Result<Vec<Subscription>, DbError> {
        diesel::update(
            subscriptions::table
                .filter(subscriptions::status.eq(SubscriptionStatus::Active))
                .filter(subscriptions::next_charge_at.le(now))
                .filter(
                    subscriptions::claimed_until
                        .is_null()
                        .or(subscriptions::claimed_until.lt(now)),
                ),
        )
        .set((
            subscriptions::claimed_until.eq(lease_until),
            subscriptions::claim_token.eq(token),
        ))
        .execute(conn)?;
        Ok(subscriptions::table
            .filter(subscriptions::claim_token.eq(token))
            .filter(subscriptions::claimed_until.eq(lease_until))
            .select(Subscription::as_select())
            .load(conn)?)
    }

    /// Gives a claim back.
    pub fn release(conn: &mut DbConnection, id: i64, token: &str) -> Result<(), DbError> {
        diesel::update(
            subscriptions::table
                .find(id)
                .filter(subscriptions::claim_token.eq(token)),
        )
        .set((
            subscriptions::claimed_until.eq(None::<i64>),
            subscriptions::claim_token.eq(None::<String>),
        ))
        .execute(conn)?;
        Ok(())
    }

    pub fn set_status(
        conn: &mut DbConnection,
        id: i64,
        status: SubscriptionStatus,
        reason: Option<SubscriptionReason>,
        now: i64,
    ) -> Result<(), DbError> {
        diesel::update(subscriptions::table.find(id))
            .set((
                subscriptions::status.eq(status),
                subscriptions::status_reason.eq(reason),
                subscriptions::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Writes the card columns unless the subscription's status is one of `unless`.
    fn write_card(
        conn: &mut DbConnection,
        id: i64,
        unless: &[SubscriptionStatus],
        card: (&str, &str, &str),
        now: i64,
    ) -> Result<bool, DbError> {
        let (sealed, last4, expiry) = card;
        let changed = diesel::update(
            subscriptions::table
                .find(id)
                .filter(subscriptions::status.ne_all(unless)),
        )
        .set((
            subscriptions::ctoken_sealed.eq(sealed),
            subscriptions::card_last4.eq(last4),
            subscriptions::card_expiry.eq(expiry),
            subscriptions::updated_at.eq(now),
        ))
        .execute(conn)?;
        Ok(changed == 1)
    }

    /// `active` from one of `from`, only once a period has been paid.
    fn reactivate(
        conn: &mut DbConnection,
        id: i64,
        from: &[SubscriptionStatus],
    ) -> Result<(), DbError> {
        diesel::update(
            subscriptions::table
                .find(id)
                .filter(subscriptions::status.eq_any(from))
                .filter(subscriptions::periods_paid.ge(1)),
        )
        .set((
            subscriptions::status.eq(SubscriptionStatus::Active),
            subscriptions::status_reason.eq(None::<SubscriptionReason>),
        ))
        .execute(conn)?;
        Ok(())
    }

    /// Renewals go to another card (the shopper's choice). This never makes an unpaid
    /// subscription active: only a paid period does ([`Subscription::activate_with_card`]). A
    /// subscription whose first period is paid and that waited for a card (or a past-due one,
    /// retried on the new card) becomes active again.
    pub fn set_card(
        conn: &mut DbConnection,
        id: i64,
        sealed: &str,
        last4: &str,
        expiry: &str,
        now: i64,
    ) -> Result<bool, DbError> {
        let card = (sealed, last4, expiry);
        let unless = [
            SubscriptionStatus::Cancelled,
            SubscriptionStatus::PendingPayment,
        ];
        let changed = Self::write_card(conn, id, &unless, card, now)?;
        Self::reactivate(
            conn,
            id,
            &[SubscriptionStatus::NeedsCard, SubscriptionStatus::PastDue],
        )?;
        Ok(changed)
    }

    /// After a paid on-session period (the notification, counted by activation): the card it
    /// saved backs the renewals and the subscription is active.
    pub fn activate_with_card(
        conn: &mut DbConnection,
        id: i64,
        sealed: &str,
        last4: &str,
        expiry: &str,
        now: i64,
    ) -> Result<(), DbError> {
        let card = (sealed, last4, expiry);
        Self::write_card(conn, id, &[SubscriptionStatus::Cancelled], card, now)?;
        Self::reactivate(
            conn,
            id,
            &[
                SubscriptionStatus::PendingPayment,
                SubscriptionStatus::NeedsCard,
                SubscriptionStatus::PastDue,
            ],
        )
    }

    /// Records period `period` as paid: moves `periods_paid` and the next charge date, once.
    pub fn advance(
        conn: &mut DbConnection,
        id: i64,
        period: i32,
        next_start: i64,
        next_charge_at: i64,
        now: i64,
    ) -> Result<bool, DbError> {
        let changed = diesel::update(
            subscriptions::table
                .find(id)
                .filter(subscriptions::periods_paid.eq(period - 1)),
        )
        .set((
            subscriptions::periods_paid.eq(period),
            subscriptions::period_start.eq(next_start),
            subscriptions::next_charge_at.eq(next_charge_at),
            subscriptions::updated_at.eq(now),
        ))
        .execute(conn)?;
        Ok(changed == 1)
    }

    /// Points the subscription at a new on-session order (paying a past-due period), with the
    /// cards on file before it, so the card that order saves can be recognised. Compare and
    /// swap on the previous order: of two requests racing, one wins (false for the other).
    pub fn set_on_session_order(
        conn: &mut DbConnection,
        id: i64,
        previous_order: Option<i64>,
        order_id: i64,
        known_cards: &str,
        user_ip: &str,
        now: i64,
    ) -> Result<bool, DbError> {
        let target = subscriptions::table.find(id);
        let values = (
            subscriptions::first_order_id.eq(order_id),
            subscriptions::known_cards.eq(known_cards),
            subscriptions::user_ip.eq(user_ip),
            subscriptions::updated_at.eq(now),
        );
        let changed = match previous_order {
            Some(previous) => {
                diesel::update(target.filter(subscriptions::first_order_id.eq(previous)))
                    .set(values)
                    .execute(conn)?
            }
            None => diesel::update(target.filter(subscriptions::first_order_id.is_null()))
                .set(values)
                .execute(conn)?,
        };
        Ok(changed == 1)
    }

    /// Whether subscription `id` still renews (active, not cancelling at the period's end),
    /// touching its row so that a cancellation waits for the caller's transaction.
    pub fn still_renewing(conn: &mut DbConnection, id: i64, now: i64) -> Result<bool, DbError> {
        Ok(diesel::update(
            subscriptions::table
                .find(id)
                .filter(subscriptions::status.eq(SubscriptionStatus::Active))
                .filter(subscriptions::cancel_at_period_end.eq(false)),
        )
        .set(subscriptions::updated_at.eq(now))
        .execute(conn)?
            == 1)
    }

    /// Cancels at the period's end (`true`), or takes that back (`false`) while the
    /// subscription still runs; only for its own shopper.
    pub fn set_cancel_at_period_end(
        conn: &mut DbConnection,
        id: i64,
        user_id: i64,
        cancel: bool,
        now: i64,
    ) -> Result<bool, DbError> {
        let changed = diesel::update(
            subscriptions::table
                .find(id)
                .filter(subscriptions::user_id.eq(user_id))
                .filter(subscriptions::status.ne(SubscriptionStatus::Cancelled)),
        )
        .set((
            subscriptions::cancel_at_period_end.eq(cancel),
            subscriptions::updated_at.eq(now),
        ))
        .execute(conn)?;
        Ok(changed == 1)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = charge_attempts)]
pub struct ChargeAttempt {
    pub id: i64,
    pub subscription_id: i64,
    pub period: i32,
    pub attempt_no: i32,
    pub merchant_oid: String,
    pub amount_kurus: i64,
    pub card_ref: String,
    pub status: ChargeStatus,
    pub message: Option<String>,
    pub next_retry_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = charge_attempts)]
pub struct NewChargeAttempt<'a> {
    pub subscription_id: i64,
    pub period: i32,
    pub attempt_no: i32,
    pub merchant_oid: &'a str,
    pub amount_kurus: i64,
    pub card_ref: &'a str,
    pub status: ChargeStatus,
    pub created_at: i64,
    pub updated_at: i64,
}

impl NewChargeAttempt<'_> {
    pub fn insert(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        diesel::insert_into(charge_attempts::table)
            .values(self)
            .execute(conn)?;
        Ok(())
    }
}

impl ChargeAttempt {
    pub fn for_period(
        conn: &mut DbConnection,
        subscription_id: i64,
        period: i32,
    ) -> Result<Vec<ChargeAttempt>, DbError> {
        Ok(charge_attempts::table
            .filter(charge_attempts::subscription_id.eq(subscription_id))
            .filter(charge_attempts::period.eq(period))
            .order(charge_attempts::attempt_no.asc())
            .select(ChargeAttempt::as_select())
            .load(conn)?)
    }

    pub fn for_subscription(
        conn: &mut DbConnection,
        subscription_id: i64,
    ) -> Result<Vec<ChargeAttempt>, DbError> {
        Ok(charge_attempts::table
            .filter(charge_attempts::subscription_id.eq(subscription_id))
            .order(charge_attempts::id.desc())
            .select(ChargeAttempt::as_select())
            .load(conn)?)
    }

    pub fn find_by_merchant_oid(
        conn: &mut DbConnection,
        oid: &str,
    ) -> Result<Option<ChargeAttempt>, DbError> {
        Ok(charge_attempts::table
            .filter(charge_attempts::merchant_oid.eq(oid))
            .select(ChargeAttempt::as_select())
            .first(conn)
            .optional()?)
    }

    /// Attempts on a card since `since` (for the card schemes' retry caps).
    pub fn count_for_card_since(
        conn: &mut DbConnection,
        card_ref: &str,
        since: i64,
    ) -> Result<i64, DbError> {
        Ok(charge_attempts::table
            .filter(charge_attempts::card_ref.eq(card_ref))
            .filter(charge_attempts::created_at.ge(since))
            .count()
            .get_result(conn)?)
    }

    /// Moves the attempt from one of `from` to `to`; false if it was elsewhere already.
    pub fn transition(
        conn: &mut DbConnection,
        oid: &str,
        from: &[ChargeStatus],
        to: ChargeStatus,
        message: Option<&str>,
        next_retry_at: Option<i64>,
        now: i64,
    ) -> Result<bool, DbError> {
        let changed = diesel::update(
            charge_attempts::table
                .filter(charge_attempts::merchant_oid.eq(oid))
                .filter(charge_attempts::status.eq_any(from)),
        )
        .set((
            charge_attempts::status.eq(to),
            charge_attempts::message.eq(message),
            charge_attempts::next_retry_at.eq(next_retry_at),
            charge_attempts::updated_at.eq(now),
        ))
        .execute(conn)?;
        Ok(changed == 1)
    }

    /// Attempts whose outcome is still unknown and older than `before`.
    pub fn unknown_before(
        conn: &mut DbConnection,
        before: i64,
    ) -> Result<Vec<ChargeAttempt>, DbError> {
        Ok(charge_attempts::table
            .filter(charge_attempts::status.eq_any(ChargeStatus::IN_FLIGHT))
            .filter(charge_attempts::updated_at.lt(before))
            .select(ChargeAttempt::as_select())
            .load(conn)?)
    }
}
