//! The checkout use cases: pricing a cart from the catalogue, placing an order with its first
//! payment attempt, new attempts after a failure, and the PayTR request for an attempt.

pub mod settle;

use crate::accounts::random_string;
use crate::catalog::{Catalog, Product};
use crate::db::models::{NewOrder, NewPaymentAttempt, Order, PaymentAttempt};
use crate::db::states::{AttemptStatus, OrderStatus};
use crate::db::{DbConnection, DbError, unix_now};
use crate::domain::{
    AbsoluteUrl, Currency, Email, InstallmentCount, Lang, MerchantOid, Money, PaymentType,
    UserAddress, UserIp, UserName, UserPhone, ValidationError,
};
use crate::paytr::{Basket, BasketItem, PaymentRequest};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

/// One cart line as kept in the session: a product and a quantity (never a price).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub slug: String,
    pub quantity: u32,
}

pub const MAX_QUANTITY: u32 = 99;

/// A cart line priced from the catalogue.
#[derive(Debug, Clone)]
pub struct PricedLine {
    pub product: Product,
    pub quantity: u32,
    pub total: Money,
}

/// Prices the cart from the catalogue, dropping lines whose product no longer exists.
pub fn price_cart(catalog: &Catalog, cart: &[CartLine]) -> (Vec<PricedLine>, Money) {
    let lines: Vec<PricedLine> = cart
        .iter()
        .filter_map(|line| {
            let product = catalog.find(&line.slug)?.clone();
            let quantity = line.quantity.clamp(1, MAX_QUANTITY);
            let total = product.price.checked_mul(quantity)?;
            Some(PricedLine {
                product,
                quantity,
                total,
            })
        })
        .collect();
    let total = lines
        .iter()
        .try_fold(Money::default(), |sum, l| sum.checked_add(l.total))
        .unwrap_or_default();
    (lines, total)
}

/// The billing step's fields, validated.
#[derive(Debug, Clone)]
pub struct Billing {
    pub name: UserName,
    pub email: Email,
    pub phone: UserPhone,
    pub address: UserAddress,
}

impl Billing {
    pub fn parse(
        name: &str,
        email: &str,
        phone: &str,
        address: &str,
    ) -> Result<Self, Vec<ValidationError>> {
        let mut errors = Vec::new();
        let name = UserName::parse(name).map_err(|e| errors.push(e)).ok();
        let email = Email::parse(email).map_err(|e| errors.push(e)).ok();
        let phone = UserPhone::parse(phone).map_err(|e| errors.push(e)).ok();
        let address = UserAddress::parse(&one_line(address))
            .map_err(|e| errors.push(e))
            .ok();
        match (name, email, phone, address) {
            (Some(name), Some(email), Some(phone), Some(address)) => Ok(Self {
                name,
                email,
                phone,
                address,
            }),
            _ => Err(errors),
        }
    }
}

/// The pre-information form and distance-sales contract a shopper accepted before paying: the
/// text exactly as shown (filled with the order and the seller) and its template's version.
#[derive(Debug, Clone)]
pub struct AcceptedTerms {
    pub version: String,
    pub text: String,
    /// The language the shopper read it in: the order's (and its e-mails').
    pub lang: Lang,
}

/// An address typed on several lines, as one line for PayTR: lines trimmed, empty ones
/// dropped, joined with ", ".
pub fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A fresh merchant_oid: `PC` and 30 letters and digits, unique per payment attempt.
pub fn new_merchant_oid() -> String {
    format!("PC{}", random_string(30))
}

fn basket_json(lines: &[PricedLine], lang: Lang) -> Result<String, ValidationError> {
    let items = lines
        .iter()
        .map(|l| BasketItem {
            name: l.product.name.get(lang).to_owned(),
            unit_price: l.product.price,
            quantity: l.quantity,
        })
        .collect();
    Ok(Basket::new(items)?.to_json())
}

/// Creates the order and its first payment attempt in one transaction.
pub fn place_order(
    conn: &mut DbConnection,
    user_id: Option<i64>,
    billing: &Billing,
    lines: &[PricedLine],
    currency: Currency,
    user_ip: UserIp,
    terms: Option<&AcceptedTerms>,
) -> Result<(Order, PaymentAttempt), CheckoutError> {
    let total = lines
        .iter()
        .try_fold(Money::default(), |s, l| s.checked_add(l.total));
    let total = total
        .filter(|t| t.kurus() > 0)
        .ok_or_else(|| ValidationError::new("cart", "is empty"))?;
    let basket = basket_json(lines, Lang::Tr)?;
    conn.transaction::<_, DbError, _>(|conn| {
        let now = unix_now();
        let public_id = random_string(24);
        let order = NewOrder {
            public_id: &public_id,
            user_id,
            email: billing.email.as_str(),
            full_name: billing.name.as_str(),
            phone: billing.phone.as_str(),
            address: billing.address.as_str(),
            total_kurus: total.kurus(),
            currency: currency.code(),
            basket_json: &basket,
            created_at: now,
            updated_at: now,
            terms_version: terms.map(|t| t.version.as_str()),
            terms_text: terms.map(|t| t.text.as_str()),
            terms_accepted_at: terms.map(|_| now),
            lang: terms.map_or(Lang::Tr, |t| t.lang).code(),
        }
        .insert(conn)?;
        if let Some(user_id) = user_id {
            // The account keeps the last billing details, offered at the next purchase.
            use crate::db::schema::users;
            diesel::update(users::table.find(user_id))
                .set((
                    users::phone.eq(billing.phone.as_str()),
                    users::address.eq(billing.address.as_str()),
                ))
                .execute(conn)?;
            if let Some(terms) = terms {
                diesel::update(users::table.find(user_id))
                    .set(users::lang.eq(terms.lang.code()))
                    .execute(conn)?;
            }
        }
        let attempt = new_attempt_row(conn, &order, user_ip, user_id.is_some())?;
        Ok((order, attempt))
    })
    .map_err(CheckoutError::from)
}

/// Why an order could not be placed.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for CheckoutError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(DbError::Query(e))
    }
}

fn new_attempt_row(
    conn: &mut DbConnection,
    order: &Order,
    user_ip: UserIp,
    store_card: bool,
) -> Result<PaymentAttempt, DbError> {
    let now = unix_now();
    NewPaymentAttempt {
        order_id: order.id,
        merchant_oid: &new_merchant_oid(),
        amount_kurus: order.total.kurus(),
        currency: order.currency.code(),
        user_ip: &user_ip.to_string(),
        store_card,
        created_at: now,
        updated_at: now,
    }
    .insert(conn)
}

/// A new attempt (new merchant_oid) for an order whose last attempt failed.
pub fn retry_order(
    conn: &mut DbConnection,
    order: &Order,
    user_ip: UserIp,
) -> Result<Option<PaymentAttempt>, DbError> {
    conn.transaction(|conn| {
        if order.status == OrderStatus::Paid {
            return Ok(None);
        }
        if let Some(latest) = PaymentAttempt::latest_for_order(conn, order.id)?
            && latest.status == AttemptStatus::Pending
        {
            return Ok(Some(latest));
        }
        Order::reopen(conn, order.id, unix_now())?;
        new_attempt_row(conn, order, user_ip, order.user_id.is_some()).map(Some)
    })
}

/// Everything a PayTR request needs besides the order and attempt.
pub struct RequestContext<'a> {
    /// The shop's public URL, checked once at startup; return URLs are joined to it.
    pub public_url: &'a AbsoluteUrl,
    pub lang: Lang,
    pub test_mode: bool,
    pub debug_on: bool,
}

/// The PayTR payment request for `attempt` of `order`.
pub fn payment_request(
    order: &Order,
    attempt: &PaymentAttempt,
    ctx: &RequestContext<'_>,
) -> Result<PaymentRequest, ValidationError> {
    let url = |field, path: &str| {
        ctx.public_url
            .join_path(field, &format!("/orders/{}/{path}", order.public_id))
    };
    request_for(
        order,
        ChargeOf {
            merchant_oid: &attempt.merchant_oid,
            user_ip: &attempt.user_ip,
            amount: attempt.amount,
            currency: attempt.currency,
            basket: Basket::parse(&order.basket_json)?,
            ok_url: url("merchant_ok_url", "ok")?,
            fail_url: url("merchant_fail_url", "fail")?,
            lang: ctx.lang,
            test_mode: ctx.test_mode,
            debug_on: ctx.debug_on,
            non_3d: false,
        },
    )
}

/// What differs between the PayTR requests made from an order's billing details (a checkout
/// attempt, a renewal).
pub struct ChargeOf<'a> {
    pub merchant_oid: &'a str,
    pub user_ip: &'a str,
    pub amount: Money,
    pub currency: Currency,
    pub basket: Basket,
    pub ok_url: AbsoluteUrl,
    pub fail_url: AbsoluteUrl,
    pub lang: Lang,
    pub test_mode: bool,
    pub debug_on: bool,
    pub non_3d: bool,
}

/// The PayTR request for `charge`, with the shopper's details from `order`: the one place a
/// `PaymentRequest` is built from our records.
pub fn request_for(order: &Order, charge: ChargeOf<'_>) -> Result<PaymentRequest, ValidationError> {
    Ok(PaymentRequest {
        merchant_oid: MerchantOid::parse(charge.merchant_oid)?,
        user_ip: UserIp::parse(charge.user_ip)?,
        email: Email::parse(&order.email)?,
        amount: charge.amount,
        currency: charge.currency,
        installment_count: InstallmentCount::SINGLE,
        payment_type: PaymentType::Card,
        test_mode: charge.test_mode,
        non_3d: charge.non_3d,
        lang: charge.lang,
        user_name: UserName::parse(&order.full_name)?,
        user_address: UserAddress::parse(&order.address)?,
        user_phone: UserPhone::parse(&order.phone)?,
        basket: charge.basket,
        ok_url: charge.ok_url,
        fail_url: charge.fail_url,
        debug_on: charge.debug_on,
        sync_mode: false,
        non3d_test_failed: false,
    })
}
