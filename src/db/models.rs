//! Rows and the queries on them: `insert`, `find_by_*`, guarded `update_*`.

use super::schema::{notifications, orders, payment_attempts, users};
use super::states::{AttemptStatus, OrderStatus};
use super::{DbConnection, DbError};
use crate::domain::{Currency, Money};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub full_name: String,
    pub phone: String,
    pub address: String,
    pub utoken_sealed: Option<String>,
    pub created_at: i64,
    /// SHA-256 of the utoken: unique, so one utoken belongs to one shopper at most.
    pub utoken_hash: Option<String>,
    /// When the shopper opened the confirmation link; `None`: not confirmed, can't log in.
    pub email_verified_at: Option<i64>,
    /// The language of the shopper's last order: their e-mails are written in it.
    pub lang: String,
    /// Bumped whenever a card is saved or deleted: the card cache of every instance holds a
    /// list only for the version it was fetched under.
    pub cards_version: i64,
}

/// What a payment page needs of an order's shopper: whose cards, under which sealed utoken,
/// at which card-list version (the page never reads the password hash, address or e-mail).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct CardOwner {
    pub id: i64,
    pub utoken_sealed: Option<String>,
    pub cards_version: i64,
}

/// A shopper's card-storage identity, as a [`User`] or a narrower [`CardOwner`] row.
pub trait CardHolder {
    fn id(&self) -> i64;
    fn utoken_sealed(&self) -> Option<&str>;
    fn cards_version(&self) -> i64;
}

/// Both rows carry the same three columns under the same names.
macro_rules! card_holder {
    ($($row:ty),+) => {$(
        impl CardHolder for $row {
            fn id(&self) -> i64 {
                self.id
            }
            fn utoken_sealed(&self) -> Option<&str> {
                self.utoken_sealed.as_deref()
            }
            fn cards_version(&self) -> i64 {
                self.cards_version
            }
        }
    )+};
}

card_holder!(User, CardOwner);

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub full_name: &'a str,
    pub created_at: i64,
}

impl NewUser<'_> {
    pub fn insert(&self, conn: &mut DbConnection) -> Result<User, DbError> {
        diesel::insert_into(users::table)
            .values(self)
            .execute(conn)?;
        User::find_by_email(conn, self.email)?
            .ok_or(DbError::Query(diesel::result::Error::NotFound))
    }
}

impl User {
    pub fn find_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<User>, DbError> {
        Ok(users::table
            .filter(users::email.eq(email))
            .select(User::as_select())
            .first(conn)
            .optional()?)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = orders)]
pub struct Order {
    pub id: i64,
    pub public_id: String,
    pub user_id: Option<i64>,
    pub email: String,
    pub full_name: String,
    pub phone: String,
    pub address: String,
    #[diesel(column_name = total_kurus, deserialize_as = i64)]
    pub total: Money,
    #[diesel(deserialize_as = String)]
    pub currency: Currency,
    pub basket_json: String,
    pub status: OrderStatus,
    pub created_at: i64,
    pub updated_at: i64,
    pub terms_version: Option<String>,
    pub terms_accepted_at: Option<i64>,
    /// The language the order was placed in (`tr`, `en`).
    pub lang: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = orders)]
pub struct NewOrder<'a> {
    pub public_id: &'a str,
    pub user_id: Option<i64>,
    pub email: &'a str,
    pub full_name: &'a str,
    pub phone: &'a str,
    pub address: &'a str,
    pub total_kurus: i64,
    pub currency: &'a str,
    pub basket_json: &'a str,
    pub created_at: i64,
    pub updated_at: i64,
    /// The pre-information form and contract the shopper accepted, as shown.
    pub terms_version: Option<&'a str>,
    pub terms_text: Option<&'a str>,
    pub terms_accepted_at: Option<i64>,
    pub lang: &'a str,
}

impl NewOrder<'_> {
    pub fn insert(&self, conn: &mut DbConnection) -> Result<Order, DbError> {
        diesel::insert_into(orders::table)
            .values(self)
            .execute(conn)?;
        Order::find_by_public_id(conn, self.public_id)?
            .ok_or(DbError::Query(diesel::result::Error::NotFound))
    }
}

impl Order {
    /// The order number shoppers and staff read and say: `2026-000123` (the year it was placed,
    /// in Turkish time, and its row id). The URL keeps the random `public_id`, so order pages
    /// can't be walked through by number.
    pub fn number(&self) -> String {
        let year = crate::domain::date_string(self.created_at + 3 * 3600);
        format!("{}-{:06}", &year[..4], self.id)
    }

    /// The row id in an order number (`2026-000123` → 123), for searches.
    pub fn id_of_number(number: &str) -> Option<i64> {
        let (year, id) = number.trim().split_once('-')?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        (year.len() == 4 && digits(year) && digits(id) && id.len() <= 18)
            .then(|| id.parse().ok())
            .flatten()
    }

    pub fn find_by_public_id(
        conn: &mut DbConnection,
        public_id: &str,
    ) -> Result<Option<Order>, DbError> {
        // `public_id` is unique: no LIMIT to bind.
        Ok(crate::native!(conn, |c| orders::table
            .filter(orders::public_id.eq(public_id))
            .select(Order::as_select())
            .get_result(c)
            .optional())?)
    }

    /// The order with `public_id`, its latest attempt, its shopper's card identity, the
    /// terms of the subscription it started (the first by id) and the installment rates'
    /// version (`app_meta`, for the saved cards' options), in one statement: a payment
    /// page's reads, only the columns it shows (65 → 38 columns decoded). On PostgreSQL each
    /// statement is a round trip (half of the page's CPU went to them); on SQLite one
    /// statement costs about what the four did.
    #[allow(clippy::type_complexity)]
    pub fn with_rows(
        conn: &mut DbConnection,
        public_id: &str,
    ) -> Result<
        Option<(
            Order,
            Option<PaymentAttempt>,
            Option<CardOwner>,
            Option<super::subscriptions::SubscriptionTerms>,
            Option<String>,
        )>,
        DbError,
    > {
        use super::schema::{app_meta, subscriptions};
        Ok(crate::native!(conn, |c| orders::table
            .left_join(payment_attempts::table.on(payment_attempts::order_id.eq(orders::id)))
            .left_join(users::table.on(orders::user_id.eq(users::id.nullable())))
            .left_join(
                subscriptions::table.on(subscriptions::first_order_id.eq(orders::id.nullable())),
            )
            .filter(orders::public_id.eq(public_id))
            .order((payment_attempts::id.desc(), subscriptions::id.asc()))
            .select((
                Order::as_select(),
                Option::<PaymentAttempt>::as_select(),
                Option::<CardOwner>::as_select(),
                Option::<super::subscriptions::SubscriptionTerms>::as_select(),
                // The installment rates' version, so a page needs no statement of its own.
                app_meta::table
                    .filter(app_meta::name.eq(crate::installments::RATES_VERSION))
                    .select(app_meta::value)
                    .single_value(),
            ))
            .first(c)
            .optional())?)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = payment_attempts)]
pub struct PaymentAttempt {
    pub id: i64,
    pub order_id: i64,
    pub merchant_oid: String,
    #[diesel(column_name = amount_kurus, deserialize_as = i64)]
    pub amount: Money,
    #[diesel(deserialize_as = String)]
    pub currency: Currency,
    pub user_ip: String,
    pub store_card: bool,
    pub status: AttemptStatus,
    pub failed_reason_code: Option<String>,
    pub failed_reason_msg: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// "VISA •••• 4358": the card PayTR's status inquiry named after the payment.
    pub card_label: Option<String>,
    /// Installments and the total collected, from the paid notification.
    pub installment_count: i32,
    pub paid_total_kurus: Option<i64>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = payment_attempts)]
pub struct NewPaymentAttempt<'a> {
    pub order_id: i64,
    pub merchant_oid: &'a str,
    pub amount_kurus: i64,
    pub currency: &'a str,
    pub user_ip: &'a str,
    pub store_card: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl NewPaymentAttempt<'_> {
    pub fn insert(&self, conn: &mut DbConnection) -> Result<PaymentAttempt, DbError> {
        diesel::insert_into(payment_attempts::table)
            .values(self)
            .execute(conn)?;
        PaymentAttempt::find_by_merchant_oid(conn, self.merchant_oid)?
            .ok_or(DbError::Query(diesel::result::Error::NotFound))
    }
}

impl PaymentAttempt {
    pub fn find_by_merchant_oid(
        conn: &mut DbConnection,
        oid: &str,
    ) -> Result<Option<PaymentAttempt>, DbError> {
        Ok(payment_attempts::table
            .filter(payment_attempts::merchant_oid.eq(oid))
            .select(PaymentAttempt::as_select())
            .first(conn)
            .optional()?)
    }

    /// Attempts still waiting for their notification, created before `before` and not asked
    /// about since `asked_before`.
    pub fn pending_before(
        conn: &mut DbConnection,
        before: i64,
        asked_before: i64,
    ) -> Result<Vec<PaymentAttempt>, DbError> {
        Ok(payment_attempts::table
            .filter(payment_attempts::status.eq(AttemptStatus::Pending))
            .filter(payment_attempts::created_at.lt(before))
            .filter(
                payment_attempts::last_inquiry_at
                    .is_null()
                    .or(payment_attempts::last_inquiry_at.lt(asked_before)),
            )
            .order(payment_attempts::id.asc())
            .limit(500)
            .select(PaymentAttempt::as_select())
            .load(conn)?)
    }

    /// What PayTR collected (with any installment interest), once the payment is notified.
    pub fn collected(&self) -> Option<Money> {
        Money::from_kurus(self.paid_total_kurus?).ok()
    }

    /// What the paid notification said was collected: the installment count and the total.
    pub fn record_collected(
        conn: &mut DbConnection,
        id: i64,
        installments: u8,
        total_kurus: Option<i64>,
    ) -> Result<(), DbError> {
        diesel::update(payment_attempts::table.find(id))
            .set((
                payment_attempts::installment_count.eq(i32::from(installments)),
                payment_attempts::paid_total_kurus.eq(total_kurus),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Records that PayTR's status inquiry was asked about the attempt.
    pub fn mark_inquired(conn: &mut DbConnection, oid: &str, now: i64) -> Result<(), DbError> {
        diesel::update(payment_attempts::table.filter(payment_attempts::merchant_oid.eq(oid)))
            .set(payment_attempts::last_inquiry_at.eq(Some(now)))
            .execute(conn)?;
        Ok(())
    }

    /// Moves a pending attempt to `status`; returns false if it had already left `pending`.
    pub fn update_status_if_pending(
        conn: &mut DbConnection,
        oid: &str,
        status: AttemptStatus,
        now: i64,
    ) -> Result<bool, DbError> {
        let changed = diesel::update(
            payment_attempts::table
                .filter(payment_attempts::merchant_oid.eq(oid))
                .filter(payment_attempts::status.eq(AttemptStatus::Pending)),
        )
        .set((
            payment_attempts::status.eq(status),
            payment_attempts::updated_at.eq(now),
        ))
        .execute(conn)?;
        Ok(changed == 1)
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = notifications)]
pub struct NewNotification<'a> {
    pub merchant_oid: &'a str,
    pub hash_valid: bool,
    pub outcome: &'a str,
    pub fields_json: &'a str,
    pub received_at: i64,
}

impl NewNotification<'_> {
    pub fn insert(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        diesel::insert_into(notifications::table)
            .values(self)
            .execute(conn)?;
        Ok(())
    }
}

impl Order {
    /// The shopper's orders, newest first.
    pub fn list_for_user(conn: &mut DbConnection, user_id: i64) -> Result<Vec<Order>, DbError> {
        Ok(orders::table
            .filter(orders::user_id.eq(user_id))
            .order(orders::id.desc())
            .select(Order::as_select())
            .load(conn)?)
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<Order>, DbError> {
        Ok(orders::table
            .find(id)
            .select(Order::as_select())
            .first(conn)
            .optional()?)
    }

    /// `paid` from any other state; returns false if it was already paid.
    pub fn mark_paid(conn: &mut DbConnection, id: i64, now: i64) -> Result<bool, DbError> {
        let changed = diesel::update(
            orders::table
                .find(id)
                .filter(orders::status.ne(OrderStatus::Paid)),
        )
        .set((
            orders::status.eq(OrderStatus::Paid),
            orders::updated_at.eq(now),
        ))
        .execute(conn)?;
        Ok(changed == 1)
    }

    /// `failed` only from `pending`: a failure never overwrites `paid`.
    pub fn mark_failed(conn: &mut DbConnection, id: i64, now: i64) -> Result<bool, DbError> {
        let changed = diesel::update(
            orders::table
                .find(id)
                .filter(orders::status.eq(OrderStatus::Pending)),
        )
        .set((
            orders::status.eq(OrderStatus::Failed),
            orders::updated_at.eq(now),
        ))
        .execute(conn)?;
        Ok(changed == 1)
    }

    /// Back to `pending` for a new attempt, unless it is paid.
    pub fn reopen(conn: &mut DbConnection, id: i64, now: i64) -> Result<bool, DbError> {
        let changed = diesel::update(
            orders::table
                .find(id)
                .filter(orders::status.eq(OrderStatus::Failed)),
        )
        .set((
            orders::status.eq(OrderStatus::Pending),
            orders::updated_at.eq(now),
        ))
        .execute(conn)?;
        Ok(changed == 1)
    }
}

impl PaymentAttempt {
    /// The order's newest attempt.
    pub fn latest_for_order(
        conn: &mut DbConnection,
        order_id: i64,
    ) -> Result<Option<PaymentAttempt>, DbError> {
        Ok(crate::native!(conn, |c| payment_attempts::table
            .filter(payment_attempts::order_id.eq(order_id))
            .order(payment_attempts::id.desc())
            .select(PaymentAttempt::as_select())
            .first(c)
            .optional())?)
    }

    /// Records PayTR's failure reason on a failed attempt.
    pub fn set_failure(
        conn: &mut DbConnection,
        oid: &str,
        code: Option<&str>,
        msg: Option<&str>,
    ) -> Result<(), DbError> {
        diesel::update(payment_attempts::table.filter(payment_attempts::merchant_oid.eq(oid)))
            .set((
                payment_attempts::failed_reason_code.eq(code),
                payment_attempts::failed_reason_msg.eq(msg),
            ))
            .execute(conn)?;
        Ok(())
    }
}
