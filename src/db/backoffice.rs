//! The back office's reads: the dashboard's figures, the order list (filters, keyset pages)
//! and an order's timeline.

use super::models::{Order, PaymentAttempt};
use super::refunds::Refund;
use super::schema::{
    charge_attempts, notifications, orders, payment_attempts, refunds, subscriptions,
};
use super::states::{AttemptStatus, ChargeStatus, OrderStatus, RefundStatus, SubscriptionStatus};
use super::{DbConnection, DbError};
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

diesel::define_sql_function!(fn lower(x: Text) -> Text);

/// Turkey's offset from UTC (no daylight saving since 2016).
const TURKEY: i64 = 3 * 3600;

/// Start of the day and of the month of `now`, in Turkish time, as Unix seconds.
pub fn day_and_month_start(now: i64) -> (i64, i64) {
    let local = now + TURKEY;
    let day = local - local.rem_euclid(86_400) - TURKEY;
    let (y, m) = crate::domain::year_month(local);
    let first = crate::cli::parse_time(&format!("{y:04}-{m:02}-01")).unwrap_or(day + TURKEY);
    (day, first - TURKEY)
}

#[derive(Debug, Default, Clone)]
pub struct Figures {
    pub today_kurus: i64,
    pub today_orders: i64,
    pub month_kurus: i64,
    pub month_orders: i64,
    /// Paid attempts per 100 settled attempts in the last 30 days.
    pub success_percent: Option<i64>,
    /// PayTR's reason codes of failed attempts in the last 30 days, most frequent first.
    pub failure_codes: Vec<(String, i64)>,
    pub renewals_next_7_days: i64,
    pub past_due: i64,
    pub unknown_charges: i64,
    pub open_refunds: i64,
    pub refused_notifications_24h: i64,
}

fn paid_since(conn: &mut DbConnection, since: i64) -> Result<(i64, i64), DbError> {
    Ok(orders::table
        .filter(orders::status.eq(OrderStatus::Paid))
        .filter(orders::updated_at.ge(since))
        .select((
            sql::<BigInt>("CAST(COALESCE(SUM(total_kurus), 0) AS BIGINT)"),
            sql::<BigInt>("CAST(COUNT(*) AS BIGINT)"),
        ))
        .first(conn)?)
}

pub fn figures(conn: &mut DbConnection, now: i64) -> Result<Figures, DbError> {
    let (day, month) = day_and_month_start(now);
    let (today_kurus, today_orders) = paid_since(conn, day)?;
    let (month_kurus, month_orders) = paid_since(conn, month)?;
    let since = now - 30 * 86_400;
    let settled = |conn: &mut DbConnection, status: AttemptStatus| -> Result<i64, DbError> {
        Ok(payment_attempts::table
            .filter(payment_attempts::status.eq(status))
            .filter(payment_attempts::updated_at.ge(since))
            .count()
            .get_result(conn)?)
    };
    let (paid, failed) = (
        settled(conn, AttemptStatus::Paid)?,
        settled(conn, AttemptStatus::Failed)?,
    );
    let failure_codes = payment_attempts::table
        .filter(payment_attempts::status.eq(AttemptStatus::Failed))
        .filter(payment_attempts::updated_at.ge(since))
        .group_by(payment_attempts::failed_reason_code)
        .select((payment_attempts::failed_reason_code, count_star()))
        .load::<(Option<String>, i64)>(conn)?;
    let mut failure_codes: Vec<(String, i64)> = failure_codes
        .into_iter()
        .map(|(code, n)| (code.unwrap_or_default(), n))
        .collect();
    failure_codes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    failure_codes.truncate(5);
    Ok(Figures {
        today_kurus,
        today_orders,
        month_kurus,
        month_orders,
        success_percent: (paid + failed > 0).then(|| paid * 100 / (paid + failed)),
        failure_codes,
        renewals_next_7_days: subscriptions::table
            .filter(subscriptions::status.eq(SubscriptionStatus::Active))
            .filter(subscriptions::next_charge_at.lt(now + 7 * 86_400))
            .count()
            .get_result(conn)?,
        past_due: subscriptions::table
            .filter(subscriptions::status.eq(SubscriptionStatus::PastDue))
            .count()
            .get_result(conn)?,
        unknown_charges: charge_attempts::table
            .filter(
                charge_attempts::status.eq_any([ChargeStatus::Submitted, ChargeStatus::Unknown]),
            )
            .count()
            .get_result(conn)?,
        open_refunds: refunds::table
            .filter(refunds::status.eq_any(RefundStatus::OPEN))
            .count()
            .get_result(conn)?,
        refused_notifications_24h: notifications::table
            .filter(notifications::hash_valid.eq(false))
            .filter(notifications::received_at.ge(now - 86_400))
            .count()
            .get_result(conn)?,
    })
}

/// What the order list is narrowed to.
#[derive(Debug, Default, Clone)]
pub struct OrderFilter {
    /// An order id, a merchant_oid or an e-mail address (any case).
    pub query: Option<String>,
    pub status: Option<OrderStatus>,
    pub from: Option<i64>,
    pub until: Option<i64>,
    pub min_kurus: Option<i64>,
    pub max_kurus: Option<i64>,
}

/// One page of orders, newest first, with ids below `before`; `limit + 1` rows are asked for
/// so the caller knows whether a next page exists.
pub fn orders_page(
    conn: &mut DbConnection,
    filter: &OrderFilter,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Order>, DbError> {
    let mut query = orders::table.into_boxed();
    if let Some(q) = filter
        .query
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
    {
        // The order id and merchant_oid are looked up first (unique indexes), so the list's
        // query is an OR of two indexed conditions, which both databases plan well (an IN
        // sub-select inside the OR made PostgreSQL scan every order).
        let mut ids: Vec<i64> = orders::table
            .filter(orders::public_id.eq(q))
            .select(orders::id)
            .load(conn)?;
        // An order number (2026-000123) names its row.
        ids.extend(Order::id_of_number(q));
        ids.extend(
            payment_attempts::table
                .filter(payment_attempts::merchant_oid.eq(q))
                .select(payment_attempts::order_id)
                .load::<i64>(conn)?,
        );
        query = query.filter(
            lower(orders::email)
                .eq(q.to_lowercase())
                .or(orders::id.eq_any(ids)),
        );
    }
    if let Some(status) = filter.status {
        query = query.filter(orders::status.eq(status));
    }
    if let Some(from) = filter.from {
        query = query.filter(orders::created_at.ge(from));
    }
    if let Some(until) = filter.until {
        query = query.filter(orders::created_at.lt(until));
    }
    if let Some(min) = filter.min_kurus {
        query = query.filter(orders::total_kurus.ge(min));
    }
    if let Some(max) = filter.max_kurus {
        query = query.filter(orders::total_kurus.le(max));
    }
    if let Some(before) = before {
        query = query.filter(orders::id.lt(before));
    }
    Ok(query
        .order(orders::id.desc())
        .limit(limit)
        .select(Order::as_select())
        .load(conn)?)
}

/// A notification as the timeline shows it (its fields were redacted when stored).
#[derive(Debug, Clone, Queryable)]
pub struct NotificationRow {
    pub merchant_oid: String,
    pub hash_valid: bool,
    pub outcome: String,
    pub fields_json: String,
    pub received_at: i64,
}

/// Everything that happened to an order: its attempts, their notifications, its refunds.
pub struct OrderHistory {
    pub attempts: Vec<PaymentAttempt>,
    pub notifications: Vec<NotificationRow>,
    pub refunds: Vec<Refund>,
}

pub fn order_history(conn: &mut DbConnection, order_id: i64) -> Result<OrderHistory, DbError> {
    let attempts = payment_attempts::table
        .filter(payment_attempts::order_id.eq(order_id))
        .order(payment_attempts::id.asc())
        .select(PaymentAttempt::as_select())
        .load(conn)?;
    let oids: Vec<String> = attempts.iter().map(|a| a.merchant_oid.clone()).collect();
    let notifications = notifications::table
        .filter(notifications::merchant_oid.eq_any(oids))
        .order(notifications::id.asc())
        .select((
            notifications::merchant_oid,
            notifications::hash_valid,
            notifications::outcome,
            notifications::fields_json,
            notifications::received_at,
        ))
        .load(conn)?;
    Ok(OrderHistory {
        attempts,
        notifications,
        refunds: Refund::for_order(conn, order_id)?,
    })
}

/// Which subscriptions the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionFilter {
    All,
    Active,
    PastDue,
    Cancelled,
    /// Live, with a card whose `MM/YY` ends within 30 days.
    CardExpiring,
    /// Flagged "contact customer".
    Contact,
}

impl SubscriptionFilter {
    pub const ALL: [(Self, &'static str); 6] = [
        (Self::All, ""),
        (Self::Active, "active"),
        (Self::PastDue, "past_due"),
        (Self::Cancelled, "cancelled"),
        (Self::CardExpiring, "card_expiring"),
        (Self::Contact, "contact"),
    ];

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, c)| *c == value).map(|(f, _)| *f)
    }
}

/// The `MM/YY` texts of cards that expire within 30 days of `now` (this month and next).
fn expiring_soon(now: i64) -> Vec<String> {
    let (y, m) = crate::domain::year_month(now);
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    vec![
        format!("{m:02}/{:02}", y % 100),
        format!("{nm:02}/{:02}", ny % 100),
    ]
}

/// A page of subscriptions, newest first, ids below `before`.
pub fn subscriptions_page(
    conn: &mut DbConnection,
    filter: SubscriptionFilter,
    now: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<super::subscriptions::Subscription>, DbError> {
    use super::subscriptions::Subscription;
    let mut query = subscriptions::table.into_boxed();
    query = match filter {
        SubscriptionFilter::All => query,
        SubscriptionFilter::Active => {
            query.filter(subscriptions::status.eq(SubscriptionStatus::Active))
        }
        SubscriptionFilter::PastDue => {
            query.filter(subscriptions::status.eq(SubscriptionStatus::PastDue))
        }
        SubscriptionFilter::Cancelled => {
            query.filter(subscriptions::status.eq(SubscriptionStatus::Cancelled))
        }
        SubscriptionFilter::CardExpiring => query
            .filter(subscriptions::status.ne(SubscriptionStatus::Cancelled))
            .filter(subscriptions::card_expiry.eq_any(expiring_soon(now))),
        SubscriptionFilter::Contact => {
            query.filter(subscriptions::contact_customer_at.is_not_null())
        }
    };
    if let Some(before) = before {
        query = query.filter(subscriptions::id.lt(before));
    }
    Ok(query
        .order(subscriptions::id.desc())
        .limit(limit)
        .select(Subscription::as_select())
        .load(conn)?)
}

/// Flags (or unflags) a subscription for a call to its customer.
pub fn set_contact_customer(
    conn: &mut DbConnection,
    id: i64,
    at: Option<i64>,
) -> Result<bool, DbError> {
    Ok(diesel::update(subscriptions::table.find(id))
        .set(subscriptions::contact_customer_at.eq(at))
        .execute(conn)?
        == 1)
}

pub fn contact_customer_at(conn: &mut DbConnection, id: i64) -> Result<Option<i64>, DbError> {
    Ok(subscriptions::table
        .find(id)
        .select(subscriptions::contact_customer_at)
        .first::<Option<i64>>(conn)
        .optional()?
        .flatten())
}

/// Retries the period's last soft-failed attempt at the next billing pass (the policy's caps
/// still apply there). False when there is nothing to retry.
pub fn retry_soon(conn: &mut DbConnection, id: i64, now: i64) -> Result<bool, DbError> {
    let last = charge_attempts::table
        .filter(charge_attempts::subscription_id.eq(id))
        .order(charge_attempts::id.desc())
        .select((charge_attempts::id, charge_attempts::status))
        .first::<(i64, ChargeStatus)>(conn)
        .optional()?;
    let Some((attempt, ChargeStatus::FailedSoft)) = last else {
        return Ok(false);
    };
    Ok(diesel::update(charge_attempts::table.find(attempt))
        .set(charge_attempts::next_retry_at.eq(Some(now)))
        .execute(conn)?
        == 1)
}

/// Ends a subscription now (no further renewal).
pub fn cancel_now(conn: &mut DbConnection, id: i64, now: i64) -> Result<bool, DbError> {
    Ok(diesel::update(
        subscriptions::table
            .find(id)
            .filter(subscriptions::status.ne(SubscriptionStatus::Cancelled)),
    )
    .set((
        subscriptions::status.eq(SubscriptionStatus::Cancelled),
        subscriptions::updated_at.eq(now),
    ))
    .execute(conn)?
        == 1)
}

/// Ends it when the paid period ends.
pub fn cancel_at_period_end(conn: &mut DbConnection, id: i64, now: i64) -> Result<bool, DbError> {
    Ok(diesel::update(
        subscriptions::table
            .find(id)
            .filter(subscriptions::status.ne(SubscriptionStatus::Cancelled)),
    )
    .set((
        subscriptions::cancel_at_period_end.eq(true),
        subscriptions::updated_at.eq(now),
    ))
    .execute(conn)?
        == 1)
}

/// A page of shoppers, newest first: all, or the one with this e-mail (any case).
pub fn customers_page(
    conn: &mut DbConnection,
    email: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<super::models::User>, DbError> {
    use super::schema::users;
    let mut query = users::table.into_boxed();
    if let Some(email) = email {
        query = query.filter(lower(users::email).eq(email.trim().to_lowercase()));
    }
    if let Some(before) = before {
        query = query.filter(users::id.lt(before));
    }
    Ok(query
        .order(users::id.desc())
        .limit(limit)
        .select(super::models::User::as_select())
        .load(conn)?)
}

/// A shopper's orders, newest first (at most 200).
pub fn orders_of(conn: &mut DbConnection, user_id: i64) -> Result<Vec<Order>, DbError> {
    Ok(orders::table
        .filter(orders::user_id.eq(user_id))
        .order(orders::id.desc())
        .limit(200)
        .select(Order::as_select())
        .load(conn)?)
}

/// Notifications received, newest first, optionally of one outcome or one merchant_oid.
pub fn notifications_page(
    conn: &mut DbConnection,
    outcome: Option<&str>,
    merchant_oid: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<(i64, NotificationRow)>, DbError> {
    let mut query = notifications::table.into_boxed();
    if let Some(outcome) = outcome {
        query = query.filter(notifications::outcome.eq(outcome.to_owned()));
    }
    if let Some(oid) = merchant_oid {
        query = query.filter(notifications::merchant_oid.eq(oid.to_owned()));
    }
    if let Some(before) = before {
        query = query.filter(notifications::id.lt(before));
    }
    let rows = query
        .order(notifications::id.desc())
        .limit(limit)
        .select((
            notifications::id,
            (
                notifications::merchant_oid,
                notifications::hash_valid,
                notifications::outcome,
                notifications::fields_json,
                notifications::received_at,
            ),
        ))
        .load::<(i64, NotificationRow)>(conn)?;
    Ok(rows)
}

/// What we recorded of a merchant_oid: a checkout attempt's status or a renewal's.
pub fn our_status(conn: &mut DbConnection, oid: &str) -> Result<Option<String>, DbError> {
    if let Some(a) = PaymentAttempt::find_by_merchant_oid(conn, oid)? {
        return Ok(Some(a.status.page_key().to_owned()));
    }
    Ok(
        super::subscriptions::ChargeAttempt::find_by_merchant_oid(conn, oid)?
            .map(|a| a.status.page_key()),
    )
}
