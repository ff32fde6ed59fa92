//! Refund rows and the reservation that keeps their sum within what was paid.

use super::schema::{charge_attempts, payment_attempts, refunds, subscriptions};
use super::states::{AttemptStatus, ChargeStatus, RefundStatus};
use super::{DbConnection, DbError};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refunds)]
pub struct Refund {
    pub id: i64,
    pub merchant_oid: String,
    pub order_id: Option<i64>,
    pub subscription_id: Option<i64>,
    pub amount_kurus: i64,
    pub currency: String,
    pub reference_no: String,
    pub status: RefundStatus,
    pub reason: String,
    pub err_no: Option<String>,
    pub message: Option<String>,
    pub requested_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = refunds)]
pub struct NewRefund<'a> {
    pub merchant_oid: &'a str,
    pub order_id: Option<i64>,
    pub subscription_id: Option<i64>,
    pub amount_kurus: i64,
    pub currency: &'a str,
    pub reference_no: &'a str,
    pub status: RefundStatus,
    pub reason: &'a str,
    pub requested_by: &'a str,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The paid payment a merchant_oid names: a checkout payment or a subscription charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refundable {
    pub order_id: Option<i64>,
    pub subscription_id: Option<i64>,
    pub paid_kurus: i64,
    pub refunded_kurus: i64,
    pub currency: String,
}

impl Refundable {
    pub fn left_kurus(&self) -> i64 {
        self.paid_kurus - self.refunded_kurus
    }

    /// The paid payment `oid` names, if any (a checkout payment first, then a renewal).
    pub fn find(conn: &mut DbConnection, oid: &str) -> Result<Option<Self>, DbError> {
        let payment = payment_attempts::table
            .filter(payment_attempts::merchant_oid.eq(oid))
            .filter(payment_attempts::status.eq(AttemptStatus::Paid))
            .select((
                payment_attempts::order_id,
                payment_attempts::amount_kurus,
                payment_attempts::refunded_kurus,
                payment_attempts::currency,
            ))
            .first::<(i64, i64, i64, String)>(conn)
            .optional()?;
        if let Some((order_id, paid_kurus, refunded_kurus, currency)) = payment {
            return Ok(Some(Self {
                order_id: Some(order_id),
                subscription_id: None,
                paid_kurus,
                refunded_kurus,
                currency,
            }));
        }
        let charge = charge_attempts::table
            .inner_join(subscriptions::table)
            .filter(charge_attempts::merchant_oid.eq(oid))
            .filter(charge_attempts::status.eq(ChargeStatus::Succeeded))
            .select((
                charge_attempts::subscription_id,
                charge_attempts::amount_kurus,
                charge_attempts::refunded_kurus,
                subscriptions::currency,
            ))
            .first::<(i64, i64, i64, String)>(conn)
            .optional()?;
        Ok(charge.map(
            |(subscription_id, paid_kurus, refunded_kurus, currency)| Self {
                order_id: None,
                subscription_id: Some(subscription_id),
                paid_kurus,
                refunded_kurus,
                currency,
            },
        ))
    }

    /// Adds `amount` to what is refunded of `oid`'s payment if the total stays within what was
    /// paid: one conditional UPDATE, atomic on both databases. False when it would not fit.
    pub fn reserve(
        conn: &mut DbConnection,
        oid: &str,
        from_order: bool,
        amount: i64,
    ) -> Result<bool, DbError> {
        let changed = if from_order {
            diesel::update(
                payment_attempts::table
                    .filter(payment_attempts::merchant_oid.eq(oid))
                    .filter(payment_attempts::status.eq(AttemptStatus::Paid))
                    .filter(
                        (payment_attempts::refunded_kurus + amount)
                            .le(payment_attempts::amount_kurus),
                    ),
            )
            .set(payment_attempts::refunded_kurus.eq(payment_attempts::refunded_kurus + amount))
            .execute(conn)?
        } else {
            diesel::update(
                charge_attempts::table
                    .filter(charge_attempts::merchant_oid.eq(oid))
                    .filter(charge_attempts::status.eq(ChargeStatus::Succeeded))
                    .filter(
                        (charge_attempts::refunded_kurus + amount)
                            .le(charge_attempts::amount_kurus),
                    ),
            )
            .set(charge_attempts::refunded_kurus.eq(charge_attempts::refunded_kurus + amount))
            .execute(conn)?
        };
        Ok(changed == 1)
    }
}

impl NewRefund<'_> {
    pub fn insert(&self, conn: &mut DbConnection) -> Result<Refund, DbError> {
        diesel::insert_into(refunds::table)
            .values(self)
            .execute(conn)?;
        Refund::find_by_reference(conn, self.reference_no)?
            .ok_or(DbError::Query(diesel::result::Error::NotFound))
    }
}

impl Refund {
    pub fn find_by_reference(
        conn: &mut DbConnection,
        reference_no: &str,
    ) -> Result<Option<Refund>, DbError> {
        Ok(refunds::table
            .filter(refunds::reference_no.eq(reference_no))
            .select(Refund::as_select())
            .first(conn)
            .optional()?)
    }

    /// An order's refunds, oldest first.
    pub fn for_order(conn: &mut DbConnection, order_id: i64) -> Result<Vec<Refund>, DbError> {
        Ok(refunds::table
            .filter(refunds::order_id.eq(order_id))
            .order(refunds::id.asc())
            .select(Refund::as_select())
            .load(conn)?)
    }

    /// Refunds in one of `statuses` last changed before `before`.
    pub fn in_status_before(
        conn: &mut DbConnection,
        statuses: &[RefundStatus],
        before: i64,
    ) -> Result<Vec<Refund>, DbError> {
        Ok(refunds::table
            .filter(refunds::status.eq_any(statuses))
            .filter(refunds::updated_at.lt(before))
            .order(refunds::id.asc())
            .select(Refund::as_select())
            .load(conn)?)
    }

    /// Moves the refund from one of `from` to `to`, recording PayTR's code and words; a move
    /// to `failed` gives its amount back to what can be refunded. False if it was elsewhere.
    pub fn transition(
        conn: &mut DbConnection,
        reference_no: &str,
        from: &[RefundStatus],
        to: RefundStatus,
        err_no: Option<&str>,
        message: Option<&str>,
        now: i64,
    ) -> Result<bool, DbError> {
        conn.transaction(|conn| {
            let Some(refund) = Self::find_by_reference(conn, reference_no)? else {
                return Ok(false);
            };
            let changed = diesel::update(
                refunds::table
                    .filter(refunds::reference_no.eq(reference_no))
                    .filter(refunds::status.eq_any(from)),
            )
            .set((
                refunds::status.eq(to),
                refunds::err_no.eq(err_no),
                refunds::message.eq(message),
                refunds::updated_at.eq(now),
            ))
            .execute(conn)?;
            if changed == 1 && to == RefundStatus::Failed {
                refund.release(conn)?;
            }
            Ok(changed == 1)
        })
    }

    /// Gives the refund's amount back to its payment (a checkout payment first, as
    /// [`Refundable::find`] looks).
    fn release(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        let amount = self.amount_kurus;
        let oid = self.merchant_oid.as_str();
        let released = diesel::update(
            payment_attempts::table
                .filter(payment_attempts::merchant_oid.eq(oid))
                .filter(payment_attempts::status.eq(AttemptStatus::Paid)),
        )
        .set(payment_attempts::refunded_kurus.eq(payment_attempts::refunded_kurus - amount))
        .execute(conn)?;
        if released == 0 {
            diesel::update(charge_attempts::table.filter(charge_attempts::merchant_oid.eq(oid)))
                .set(charge_attempts::refunded_kurus.eq(charge_attempts::refunded_kurus - amount))
                .execute(conn)?;
        }
        Ok(())
    }
}
