//! Checkout sessions: what a merchant's backend asks the shopper to pay, with its return URLs;
//! the shopper pays it on `/c/{id}` and the session is completed by PayTR's notification.

use super::{ApiKey, FieldError, List, ListQuery, Problem, Replay, json};
use crate::accounts::random_string;
use crate::app_state::AppState;
use crate::catalog::{Interval, Plan, Text};
use crate::db::schema::{api_customers, checkout_sessions, orders, users};
use crate::db::{DbConnection, DbError, unix_now};
use crate::domain::{Currency, Email, Money, UserAddress, UserName, UserPhone};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

pub const OPEN: &str = "open";
pub const COMPLETE: &str = "complete";
pub const PAYMENT: &str = "payment";
pub const SUBSCRIPTION: &str = "subscription";
const DEFAULT_EXPIRY_SECS: i64 = 24 * 60 * 60;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    /// A single amount instead of line items, with `description` as its line.
    pub amount: Option<i64>,
    pub description: Option<String>,
    pub currency: Option<String>,
    pub customer_ref: Option<String>,
    pub customer: Option<CustomerDetails>,
    /// `payment` (the default) or `subscription`: the amount is then charged every `interval`
    /// on the card the first payment saves (`customer_ref` required).
    pub mode: Option<String>,
    /// A subscription's period: `weekly`, `monthly` or `yearly`.
    pub interval: Option<String>,
    pub success_url: String,
    pub cancel_url: String,
    /// String values only: at most 20 keys.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// Seconds until the session expires: 1800 to 86400 (24 h, the default).
    pub expires_in: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineItem {
    pub name: String,
    pub quantity: u32,
    /// In kuruş (cents).
    pub unit_amount: i64,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerDetails {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub address: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = checkout_sessions)]
pub struct CheckoutSession {
    pub id: i64,
    pub public_id: String,
    pub api_key_id: i64,
    pub mode: String,
    pub customer_id: Option<i64>,
    pub status: String,
    pub currency: String,
    pub amount_kurus: i64,
    pub line_items_json: String,
    pub email: String,
    pub full_name: String,
    pub phone: String,
    pub address: String,
    pub success_url: String,
    pub cancel_url: String,
    pub metadata_json: String,
    pub order_id: Option<i64>,
    pub expires_at: i64,
    pub created_at: i64,
    pub completed_at: Option<i64>,
    /// [`PAYMENT`] or [`SUBSCRIPTION`].
    pub kind: String,
    pub interval_unit: Option<String>,
    pub subscription_id: Option<i64>,
    pub subscription_public_id: Option<String>,
}

impl CheckoutSession {
    /// A subscription session's plan: its one line, charged every interval.
    pub fn plan(&self) -> Option<Plan> {
        if self.kind != SUBSCRIPTION {
            return None;
        }
        let interval = Interval::parse(self.interval_unit.as_deref()?)?;
        let line = self.line_items().into_iter().next()?;
        let name = Text {
            tr: line.name.clone(),
            en: line.name.clone(),
        };
        Some(Plan {
            slug: line.name,
            name,
            description: Text {
                tr: String::new(),
                en: String::new(),
            },
            amount: Money::from_kurus(self.amount_kurus).ok()?,
            interval,
        })
    }

    pub fn for_subscription(
        conn: &mut DbConnection,
        subscription_id: i64,
    ) -> Result<Option<Self>, DbError> {
        Ok(checkout_sessions::table
            .filter(checkout_sessions::subscription_id.eq(subscription_id))
            .select(Self::as_select())
            .get_result(conn)
            .optional()?)
    }

    pub fn by_subscription_public_id(
        conn: &mut DbConnection,
        public_id: &str,
    ) -> Result<Option<Self>, DbError> {
        Ok(checkout_sessions::table
            .filter(checkout_sessions::subscription_public_id.eq(public_id))
            .select(Self::as_select())
            .get_result(conn)
            .optional()?)
    }

    pub fn line_items(&self) -> Vec<LineItem> {
        serde_json::from_str(&self.line_items_json).unwrap_or_default()
    }

    pub fn currency(&self) -> Currency {
        Currency::parse(&self.currency).unwrap_or(Currency::Tl)
    }

    pub fn expired(&self, now: i64) -> bool {
        self.status == OPEN && now >= self.expires_at
    }

    pub fn find(conn: &mut DbConnection, public_id: &str) -> Result<Option<Self>, DbError> {
        Ok(checkout_sessions::table
            .filter(checkout_sessions::public_id.eq(public_id))
            .select(Self::as_select())
            .get_result(conn)
            .optional()?)
    }

    pub fn for_order(conn: &mut DbConnection, order_id: i64) -> Result<Option<Self>, DbError> {
        Ok(checkout_sessions::table
            .filter(checkout_sessions::order_id.eq(order_id))
            .select(Self::as_select())
            .get_result(conn)
            .optional()?)
    }

    /// The merchant's `customer_ref` of the session's customer, if it names one.
    pub fn customer_ref(&self, conn: &mut DbConnection) -> Result<Option<String>, DbError> {
        let Some(customer) = self.customer_id else {
            return Ok(None);
        };
        Ok(api_customers::table
            .find(customer)
            .select(api_customers::customer_ref)
            .get_result(conn)
            .optional()?)
    }

    /// The shopper an API customer maps to, if the session names one.
    pub fn customer_user(&self, conn: &mut DbConnection) -> Result<Option<i64>, DbError> {
        let Some(customer) = self.customer_id else {
            return Ok(None);
        };
        Ok(api_customers::table
            .find(customer)
            .select(api_customers::user_id)
            .get_result(conn)
            .optional()?)
    }
}

/// The API's view of a session.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub id: String,
    #[schema(value_type = String)]
    pub object: &'static str,
    pub url: String,
    pub status: String,
    #[schema(value_type = String)]
    pub payment_status: &'static str,
    /// `payment` or `subscription`.
    pub mode: String,
    /// A subscription's period (`weekly`, `monthly`, `yearly`).
    pub interval: Option<String>,
    /// The subscription the payment started (`sub_…`), once the shopper has continued.
    pub subscription_id: Option<String>,
    /// Per period for a subscription.
    pub amount_total: i64,
    #[schema(value_type = String)]
    pub currency: &'static str,
    pub customer_ref: Option<String>,
    pub line_items: Vec<LineItem>,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    pub success_url: String,
    pub cancel_url: String,
    pub order_id: Option<String>,
    pub expires_at: i64,
    pub created: i64,
}

/// ISO 4217 for the API (`TRY`), where PayTR says `TL`.
pub fn iso_currency(currency: Currency) -> &'static str {
    match currency {
        Currency::Tl => "TRY",
        other => other.code(),
    }
}

pub fn view(
    conn: &mut DbConnection,
    public_url: &str,
    s: &CheckoutSession,
) -> Result<SessionView, DbError> {
    let customer_ref = s.customer_ref(conn)?;
    let order: Option<(String, String)> = match s.order_id {
        Some(id) => orders::table
            .find(id)
            .select((orders::public_id, orders::status))
            .get_result(conn)
            .optional()?,
        None => None,
    };
    let paid = order.as_ref().is_some_and(|(_, status)| status == "paid");
    let status = if s.expired(unix_now()) && !paid {
        "expired".to_owned()
    } else {
        s.status.clone()
    };
    Ok(SessionView {
        id: s.public_id.clone(),
        object: "checkout.session",
        url: format!("{public_url}/c/{}", s.public_id),
        status,
        payment_status: if paid { "paid" } else { "unpaid" },
        mode: s.kind.clone(),
        interval: s.interval_unit.clone(),
        subscription_id: s.subscription_public_id.clone(),
        amount_total: s.amount_kurus,
        currency: iso_currency(s.currency()),
        customer_ref,
        line_items: s.line_items(),
        metadata: serde_json::from_str(&s.metadata_json).unwrap_or_default(),
        success_url: s.success_url.clone(),
        cancel_url: s.cancel_url.clone(),
        order_id: order.map(|(id, _)| id),
        expires_at: s.expires_at,
        created: s.created_at,
    })
}

/// A request that passed validation.
struct Valid {
    kind: &'static str,
    interval: Option<Interval>,
    items: Vec<LineItem>,
    total: Money,
    currency: Currency,
    customer_ref: Option<String>,
    details: CustomerDetails,
    success_url: String,
    cancel_url: String,
    metadata: String,
    expires_in: i64,
}

fn field(errors: &mut Vec<FieldError>, name: &str, detail: impl Into<String>) {
    errors.push(FieldError {
        field: name.to_owned(),
        detail: detail.into(),
    });
}

fn plausible_ref(r: &str) -> bool {
    (1..=100).contains(&r.len())
        && r.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:@".contains(&b))
}

fn validate(req: CreateRequest, key: &ApiKey) -> Result<Valid, Problem> {
    let mut errors = Vec::new();
    let kind = match req.mode.as_deref() {
        None | Some(PAYMENT) => PAYMENT,
        Some(SUBSCRIPTION) => SUBSCRIPTION,
        Some(_) => {
            field(&mut errors, "mode", "must be payment or subscription");
            PAYMENT
        }
    };
    let interval = match (kind, req.interval.as_deref()) {
        (SUBSCRIPTION, Some(i)) => {
            let parsed = Interval::parse(i);
            if parsed.is_none() {
                field(&mut errors, "interval", "must be weekly, monthly or yearly");
            }
            parsed
        }
        (SUBSCRIPTION, None) => {
            field(
                &mut errors,
                "interval",
                "a subscription needs weekly, monthly or yearly",
            );
            None
        }
        (_, Some(_)) => {
            field(&mut errors, "interval", "only for mode=subscription");
            None
        }
        (_, None) => None,
    };
    if kind == SUBSCRIPTION && req.customer_ref.is_none() {
        field(
            &mut errors,
            "customer_ref",
            "a subscription needs the customer it charges",
        );
    }
    let mut items = req.line_items;
    match (items.is_empty(), req.amount) {
        (true, Some(amount)) => items.push(LineItem {
            name: req
                .description
                .clone()
                .filter(|d| !d.trim().is_empty())
                .unwrap_or_else(|| "Payment".to_owned()),
            quantity: 1,
            unit_amount: amount,
        }),
        (true, None) => field(&mut errors, "line_items", "give line_items or amount"),
        (false, Some(_)) => field(&mut errors, "amount", "give line_items or amount, not both"),
        (false, None) => {}
    }
    if items.len() > 100 {
        field(&mut errors, "line_items", "at most 100 lines");
    }
    if kind == SUBSCRIPTION && (items.len() > 1 || items.iter().any(|i| i.quantity != 1)) {
        field(
            &mut errors,
            "line_items",
            "a subscription is one line of quantity 1 (or amount and description)",
        );
    }
    let mut total = Some(Money::default());
    for (i, item) in items.iter_mut().enumerate() {
        item.name = item.name.trim().to_owned();
        if item.name.is_empty() || item.name.chars().count() > 100 {
            field(
                &mut errors,
                &format!("line_items[{i}].name"),
                "1 to 100 characters",
            );
        }
        if !(1..=999).contains(&item.quantity) {
            field(
                &mut errors,
                &format!("line_items[{i}].quantity"),
                "1 to 999",
            );
        }
        let unit = Money::from_kurus(item.unit_amount)
            .ok()
            .filter(|m| m.kurus() > 0 && m.kurus() <= 1_000_000_000);
        match unit {
            Some(unit) => {
                total = total
                    .zip(unit.checked_mul(item.quantity))
                    .and_then(|(t, line)| t.checked_add(line));
            }
            None => field(
                &mut errors,
                &format!("line_items[{i}].unit_amount"),
                "an amount in kuruş, 1 to 1000000000",
            ),
        }
    }
    let total = total.filter(|t| t.kurus() > 0 && t.kurus() <= 1_000_000_000);
    if total.is_none() && errors.is_empty() {
        field(
            &mut errors,
            "line_items",
            "the total must be 0.01 to 10000000.00",
        );
    }
    let currency = match Currency::parse(req.currency.as_deref().unwrap_or("TRY")) {
        Ok(c) => Some(c),
        Err(_) => {
            field(&mut errors, "currency", "must be TRY, EUR or USD");
            None
        }
    };
    if let Some(r) = &req.customer_ref
        && !plausible_ref(r)
    {
        field(
            &mut errors,
            "customer_ref",
            "1 to 100 of A-Z a-z 0-9 - _ . : @",
        );
    }
    let details = req.customer.unwrap_or_default();
    type Check<'a> = (&'a str, &'a str, fn(&str) -> bool);
    let checks: [Check; 4] = [
        ("customer.email", &details.email, |v| {
            Email::parse(v).is_ok()
        }),
        ("customer.name", &details.name, |v| {
            UserName::parse(v).is_ok()
        }),
        ("customer.phone", &details.phone, |v| {
            UserPhone::parse(v).is_ok()
        }),
        ("customer.address", &details.address, |v| {
            UserAddress::parse(v).is_ok()
        }),
    ];
    for (name, value, ok) in checks {
        if !value.is_empty() && !ok(value) {
            field(&mut errors, name, "is not valid");
        }
    }
    for (name, url) in [
        ("success_url", &req.success_url),
        ("cancel_url", &req.cancel_url),
    ] {
        if url.len() > 2000 || !key.allows_url(url) {
            field(
                &mut errors,
                name,
                "must be an absolute URL on an origin configured for this API key",
            );
        }
    }
    let metadata = req.metadata.unwrap_or_default();
    let metadata_ok = metadata.len() <= 20
        && metadata
            .iter()
            .all(|(k, v)| k.len() <= 40 && v.as_str().is_some_and(|s| s.len() <= 500));
    if !metadata_ok {
        field(
            &mut errors,
            "metadata",
            "at most 20 keys of at most 40 characters, string values of at most 500",
        );
    }
    let expires_in = req.expires_in.unwrap_or(DEFAULT_EXPIRY_SECS);
    if !(1800..=DEFAULT_EXPIRY_SECS).contains(&expires_in) {
        field(&mut errors, "expires_in", "1800 to 86400 seconds");
    }
    match (total, currency) {
        (Some(total), Some(currency)) if errors.is_empty() => Ok(Valid {
            kind,
            interval,
            items,
            total,
            currency,
            customer_ref: req.customer_ref,
            details,
            success_url: req.success_url,
            cancel_url: req.cancel_url,
            metadata: serde_json::Value::Object(metadata).to_string(),
            expires_in,
        }),
        _ => Err(Problem::invalid(errors)),
    }
}

/// The shopper `customer_ref` maps to in `mode`, created on first use: an account nobody can
/// sign in to, whose saved cards only this customer's sessions offer.
pub fn customer_for(
    conn: &mut DbConnection,
    mode: &str,
    customer_ref: &str,
) -> Result<i64, DbError> {
    let find = |conn: &mut DbConnection| {
        api_customers::table
            .filter(api_customers::mode.eq(mode))
            .filter(api_customers::customer_ref.eq(customer_ref))
            .select(api_customers::id)
            .get_result::<i64>(conn)
            .optional()
    };
    if let Some(id) = find(conn)? {
        return Ok(id);
    }
    // In a savepoint: when another request creates the same customer at the same moment, the
    // unique (mode, customer_ref) refuses this one, which then uses theirs (READ COMMITTED
    // sees it once their transaction committed, which the unique index waited for).
    match conn.transaction(|conn| create_customer(conn, mode, customer_ref)) {
        Ok(()) => {}
        Err(DbError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ))) => {}
        Err(e) => return Err(e),
    }
    find(conn)?.ok_or(DbError::Query(diesel::result::Error::NotFound))
}

fn create_customer(conn: &mut DbConnection, mode: &str, customer_ref: &str) -> Result<(), DbError> {
    let now = unix_now();
    let email = format!(
        "{}{}",
        random_string(24).to_lowercase(),
        crate::accounts::API_CUSTOMER_DOMAIN
    );
    diesel::insert_into(users::table)
        .values((
            users::email.eq(&email),
            users::password_hash.eq("!"),
            users::full_name.eq(""),
            users::phone.eq(""),
            users::address.eq(""),
            users::created_at.eq(now),
        ))
        .execute(conn)?;
    let user_id: i64 = users::table
        .filter(users::email.eq(&email))
        .select(users::id)
        .get_result(conn)?;
    diesel::insert_into(api_customers::table)
        .values((
            api_customers::mode.eq(mode),
            api_customers::customer_ref.eq(customer_ref),
            api_customers::user_id.eq(user_id),
            api_customers::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// `POST /api/v1/checkout-sessions`.
#[utoipa::path(post, path = "/api/v1/checkout-sessions", operation_id = "createCheckoutSession", tag = "checkout sessions",
    request_body = CreateRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for 24 h")),
    responses((status = 201, description = "Created (or replayed)", body = SessionView), (status = 400, description = "Bad JSON or header", content_type = "application/problem+json", body = super::ProblemBody), (status = 401, description = "Missing, unknown, revoked or other-mode key", content_type = "application/problem+json", body = super::ProblemBody), (status = 413, description = "Body over 64 KB", content_type = "application/problem+json", body = super::ProblemBody), (status = 422, description = "Invalid fields", content_type = "application/problem+json", body = super::ProblemBody), (status = 429, description = "Rate limited", content_type = "application/problem+json", body = super::ProblemBody), (status = 503, description = "Try again", content_type = "application/problem+json", body = super::ProblemBody)),
    security(("api_key" = [])))]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let key = super::authenticate(&req, &state).await?;
    let idem = super::idempotency_key(&req)?;
    let (request, raw): (CreateRequest, Vec<u8>) = super::read_json(payload).await?;
    let valid = validate(request, &key)?;
    let public_url = state.public_url.clone();
    let answer = state
        .db
        .write(move |conn| {
            conn.transaction(|conn| {
                if let Some(k) = &idem
                    && let Some(replay) = super::replayed(conn, key.id, k, &raw)?
                {
                    return Ok(Err(replay));
                }
                let now = unix_now();
                let customer = valid
                    .customer_ref
                    .as_deref()
                    .map(|r| customer_for(conn, &key.mode, r))
                    .transpose()?;
                let public_id = format!("cs_{}", random_string(24));
                diesel::insert_into(checkout_sessions::table)
                    .values((
                        checkout_sessions::public_id.eq(&public_id),
                        checkout_sessions::api_key_id.eq(key.id),
                        checkout_sessions::mode.eq(&key.mode),
                        checkout_sessions::customer_id.eq(customer),
                        checkout_sessions::status.eq(OPEN),
                        checkout_sessions::currency.eq(valid.currency.code()),
                        checkout_sessions::amount_kurus.eq(valid.total.kurus()),
                        checkout_sessions::line_items_json
                            .eq(serde_json::to_string(&valid.items).unwrap_or_default()),
                        checkout_sessions::email.eq(&valid.details.email),
                        checkout_sessions::full_name.eq(&valid.details.name),
                        checkout_sessions::phone.eq(&valid.details.phone),
                        checkout_sessions::address.eq(&valid.details.address),
                        checkout_sessions::success_url.eq(&valid.success_url),
                        checkout_sessions::cancel_url.eq(&valid.cancel_url),
                        checkout_sessions::metadata_json.eq(&valid.metadata),
                        checkout_sessions::expires_at.eq(now + valid.expires_in),
                        checkout_sessions::created_at.eq(now),
                        checkout_sessions::kind.eq(valid.kind),
                        checkout_sessions::interval_unit.eq(valid.interval.map(Interval::code)),
                    ))
                    .execute(conn)?;
                let session = CheckoutSession::find(conn, &public_id)?
                    .ok_or(DbError::Query(diesel::result::Error::NotFound))?;
                let body =
                    serde_json::to_string(&view(conn, &public_url, &session)?).unwrap_or_default();
                if let Some(k) = &idem {
                    super::remember_answer(conn, key.id, k, &raw, 201, &body)?;
                }
                Ok::<_, DbError>(Ok(body))
            })
        })
        .await?;
    match answer {
        Ok(body) => {
            tracing::info!("checkout session created");
            Ok(HttpResponse::Created()
                .content_type("application/json")
                .body(body))
        }
        Err(replay @ (Replay::Answer(..) | Replay::Conflict)) => super::replay_answer(replay),
    }
}

/// `GET /api/v1/checkout-sessions/{id}`: a session of this key's mode.
#[utoipa::path(get, path = "/api/v1/checkout-sessions/{id}", operation_id = "getCheckoutSession", tag = "checkout sessions",
    params(("id" = String, Path, description = "cs_…")),
    responses((status = 200, description = "The session", body = SessionView), (status = 401, description = "Missing, unknown, revoked or other-mode key", content_type = "application/problem+json", body = super::ProblemBody), (status = 404, description = "Unknown", content_type = "application/problem+json", body = super::ProblemBody), (status = 429, description = "Rate limited", content_type = "application/problem+json", body = super::ProblemBody), (status = 503, description = "Try again", content_type = "application/problem+json", body = super::ProblemBody)),
    security(("api_key" = [])))]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let key = super::authenticate(&req, &state).await?;
    let public_url = state.public_url.clone();
    let id = id.into_inner();
    let found = state
        .db
        .read(
            move |conn| match CheckoutSession::find(conn, &id)?.filter(|s| s.mode == key.mode) {
                Some(s) => view(conn, &public_url, &s).map(Some),
                None => Ok(None),
            },
        )
        .await?
        .ok_or_else(|| Problem::not_found("checkout session"))?;
    Ok(json(StatusCode::OK, &found))
}

/// In the notification's transaction: a paid order of a session completes it and tells the
/// merchant (`checkout.completed`, and `card.saved` when the payment saved a card).
pub fn on_order_paid(
    conn: &mut DbConnection,
    public_url: &str,
    order_id: i64,
    card_saved: bool,
) -> Result<(), DbError> {
    let Some(session) = CheckoutSession::for_order(conn, order_id)? else {
        return Ok(());
    };
    if session.status == COMPLETE {
        return Ok(());
    }
    let now = unix_now();
    diesel::update(checkout_sessions::table.find(session.id))
        .set((
            checkout_sessions::status.eq(COMPLETE),
            checkout_sessions::completed_at.eq(now),
        ))
        .execute(conn)?;
    let session = CheckoutSession::find(conn, &session.public_id)?.unwrap_or(session);
    let data = view(conn, public_url, &session)?;
    let data = serde_json::to_value(&data).unwrap_or_default();
    super::webhooks::enqueue(
        conn,
        &session.mode,
        "checkout.completed",
        &session.public_id,
        &data,
    )?;
    if card_saved && let Some(customer_ref) = data.get("customer_ref").and_then(|v| v.as_str()) {
        let card = serde_json::json!({ "customer_ref": customer_ref });
        super::webhooks::enqueue(conn, &session.mode, "card.saved", customer_ref, &card)?;
    }
    Ok(())
}

/// In the notification's transaction: a failed payment of a session's order.
pub fn on_payment_failed(
    conn: &mut DbConnection,
    public_url: &str,
    order_id: i64,
) -> Result<(), DbError> {
    let Some(session) = CheckoutSession::for_order(conn, order_id)? else {
        return Ok(());
    };
    let data = serde_json::to_value(view(conn, public_url, &session)?).unwrap_or_default();
    super::webhooks::enqueue(
        conn,
        &session.mode,
        "payment.failed",
        &session.public_id,
        &data,
    )
}

/// In the transaction that marks `refund` succeeded: `refund.succeeded` for a session's order
/// (ordered after the session's `checkout.completed`).
pub fn on_refund_succeeded(
    conn: &mut DbConnection,
    refund: &crate::db::refunds::Refund,
) -> Result<(), DbError> {
    let Some(order_id) = refund.order_id else {
        return Ok(());
    };
    let Some(session) = CheckoutSession::for_order(conn, order_id)? else {
        return Ok(());
    };
    let data = serde_json::to_value(super::orders::refund_view(refund)).unwrap_or_default();
    let mut data = data;
    data["checkout_session"] = serde_json::Value::String(session.public_id.clone());
    super::webhooks::enqueue(
        conn,
        &session.mode,
        "refund.succeeded",
        &session.public_id,
        &data,
    )
}

/// `GET /api/v1/checkout-sessions`: the key's mode's sessions, newest first, by cursor.
#[utoipa::path(get, path = "/api/v1/checkout-sessions", operation_id = "listCheckoutSessions", tag = "checkout sessions",
    params(ListQuery),
    responses((status = 200, description = "A page of sessions", body = List<SessionView>),
        (status = 401, description = "Missing, unknown, revoked or other-mode key", content_type = "application/problem+json", body = super::ProblemBody),
        (status = 422, description = "Invalid fields", content_type = "application/problem+json", body = super::ProblemBody),
        (status = 429, description = "Rate limited", content_type = "application/problem+json", body = super::ProblemBody)),
    security(("api_key" = [])))]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, Problem> {
    let key = super::authenticate(&req, &state).await?;
    let limit = query.limit()?;
    let (after, public_url) = (query.starting_after.clone(), state.public_url.clone());
    let page = state
        .db
        .read(move |conn| {
            let mut rows = checkout_sessions::table
                .filter(checkout_sessions::mode.eq(&key.mode))
                .order(checkout_sessions::id.desc())
                .limit(i64::try_from(limit).unwrap_or(100) + 1)
                .select(CheckoutSession::as_select())
                .into_boxed();
            if let Some(after) = &after {
                let Some(cursor) =
                    CheckoutSession::find(conn, after)?.filter(|s| s.mode == key.mode)
                else {
                    return Ok(None);
                };
                rows = rows.filter(checkout_sessions::id.lt(cursor.id));
            }
            let mut found: Vec<CheckoutSession> = rows.load(conn)?;
            let has_more = found.len() > limit;
            found.truncate(limit);
            let data = found
                .iter()
                .map(|s| view(conn, &public_url, s))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some(List::new(data, has_more, |s| &s.id)))
        })
        .await?
        .ok_or_else(|| super::unknown_cursor("checkout session"))?;
    Ok(json(StatusCode::OK, &page))
}
