//! Billing, the payment page (whose form posts straight to PayTR), coming back from PayTR,
//! and the order page.

use super::ctx::{Ctx, PostForm, client_ip, parse_form_refusing_card_data};
use super::i18n::field_error;
use super::pages::{Layout, message, redirect, render, server_error};
use super::shop::{CartRow, cart_rows, session_cart};
use crate::checkout::{
    Billing, RequestContext, payment_request, place_order, price_cart, retry_order,
};
use crate::db::models::{Order, PaymentAttempt};
use crate::domain::Money;
use crate::paytr::{Basket, CardSource, PAYMENT_PATH};
use crate::startup::AppState;
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The billing form's values as typed (kept in the session to prefill the next form).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BillingValues {
    pub full_name: String,
    pub email: String,
    pub phone: String,
    pub address: String,
}

impl BillingValues {
    pub fn from_form(form: &PostForm) -> Self {
        Self {
            full_name: form.get("full_name").to_owned(),
            email: form.get("email").to_owned(),
            phone: form.get("phone").to_owned(),
            address: form.get("address").to_owned(),
        }
    }

    /// The last values from the session, with the shopper's name and e-mail filled in.
    pub fn remembered(session: &Session, user: Option<&super::ctx::SessionUser>) -> Self {
        let mut values: Self = session.get("billing").ok().flatten().unwrap_or_default();
        if let Some(user) = user {
            if values.email.is_empty() {
                values.email = user.email.clone();
            }
            if values.full_name.is_empty() {
                values.full_name = user.full_name.clone();
            }
        }
        values
    }

    pub fn parse(&self) -> Result<Billing, Vec<crate::domain::ValidationError>> {
        Billing::parse(&self.full_name, &self.email, &self.phone, &self.address)
    }
}

#[derive(Template)]
#[template(path = "checkout.html")]
struct CheckoutPage {
    layout: Layout,
    rows: Vec<CartRow>,
    total: String,
    values: BillingValues,
    errors: HashMap<&'static str, &'static str>,
    notice: Option<&'static str>,
    guest: bool,
}

fn checkout_page(
    ctx: &Ctx,
    state: &AppState,
    session: &Session,
    values: BillingValues,
    errors: HashMap<&'static str, &'static str>,
    notice: Option<&'static str>,
) -> HttpResponse {
    let (lines, total) = price_cart(&state.catalog, &session_cart(session));
    if lines.is_empty() {
        return redirect("/cart");
    }
    let currency = state.catalog.currency.code();
    let status = if errors.is_empty() && notice.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = CheckoutPage {
        layout: Layout::new(ctx, "billing"),
        rows: cart_rows(&lines, ctx.lang, currency),
        total: format!("{total} {currency}"),
        values,
        errors,
        notice,
        guest: ctx.user.is_none(),
    };
    render(status, &page)
}

pub async fn checkout_form(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session).await;
    let values = BillingValues::remembered(&session, ctx.user.as_ref());
    checkout_page(&ctx, &state, &session, values, HashMap::new(), None)
}

pub async fn submit_checkout(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: PostForm,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session).await;
    let values = BillingValues::from_form(&form);
    let billing = match values.parse() {
        Ok(billing) => billing,
        Err(errors) => {
            let errors = errors
                .iter()
                .map(|e| (e.field, field_error(ctx.lang, e.field)))
                .collect();
            return checkout_page(&ctx, &state, &session, values, errors, Some("fix_errors"));
        }
    };
    let ip = match client_ip(&req, &state.settings.trusted_proxies) {
        Ok(ip) => ip,
        Err(e) => return server_error(&ctx, &e),
    };
    if !state.payment_limiter.check(&[&format!("ip:{ip}")]) {
        return checkout_page(
            &ctx,
            &state,
            &session,
            values,
            HashMap::new(),
            Some("too_many"),
        );
    }
    let (lines, _) = price_cart(&state.catalog, &session_cart(&session));
    if lines.is_empty() {
        return redirect("/cart");
    }
    let (user_id, currency) = (ctx.user.as_ref().map(|u| u.id), state.catalog.currency);
    match state
        .db
        .write(move |conn| Ok(place_order(conn, user_id, &billing, &lines, currency, ip)))
        .await
    {
        Ok(Ok((order, attempt))) => {
            tracing::info!(order = %order.public_id, merchant_oid = %attempt.merchant_oid, "order placed");
            let _ = session.insert("billing", &values);
            session.remove("cart");
            redirect(&format!("/orders/{}/pay", order.public_id))
        }
        Ok(Err(e)) => server_error(&ctx, &e),
        Err(e) => server_error(&ctx, &e),
    }
}

/// The order, its latest attempt, the owner's row, and whether it starts a subscription.
type OrderRows = (
    Order,
    Option<PaymentAttempt>,
    Option<crate::db::models::User>,
    bool,
);

/// The order, its latest attempt and (if `user_id` owns it) the shopper's row, in one trip.
async fn load_order(
    state: &AppState,
    public_id: String,
    user_id: Option<i64>,
) -> Result<Option<OrderRows>, crate::db::DbError> {
    state
        .db
        .run(move |conn| {
            let Some(order) = Order::find_by_public_id(conn, &public_id)? else {
                return Ok(None);
            };
            let attempt = PaymentAttempt::latest_for_order(conn, order.id)?;
            let user = match user_id.filter(|id| Some(*id) == order.user_id) {
                Some(id) => crate::accounts::find_user(conn, id)?,
                None => None,
            };
            let subscription =
                crate::db::subscriptions::Subscription::exists_for_first_order(conn, order.id)?;
            Ok(Some((order, attempt, user, subscription)))
        })
        .await
}

#[derive(Template)]
#[template(path = "pay.html")]
struct PayPage {
    layout: Layout,
    order_id: String,
    total: String,
    action: String,
    hidden: Vec<(&'static str, String)>,
    offer_save: bool,
    /// A subscription's first payment: the card is always saved, with a new card.
    subscription: bool,
    saved: Vec<crate::cards::CardView>,
    cards_unavailable: bool,
}

pub async fn pay_page(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session).await;
    let user_id = ctx.user.as_ref().map(|u| u.id);
    let (order, attempt, owner, subscription) =
        match load_order(&state, id.into_inner(), user_id).await {
            Ok(Some((order, Some(attempt), owner, subscription))) => {
                (order, attempt, owner, subscription)
            }
            Ok(_) => return message(&ctx, StatusCode::NOT_FOUND, "not_found", "not_found"),
            Err(e) => return server_error(&ctx, &e),
        };
    if order.status == "paid" || attempt.status != "pending" {
        return redirect(&format!("/orders/{}", order.public_id));
    }
    let request_ctx = RequestContext {
        public_url: &state.public_url,
        lang: ctx.lang,
        test_mode: state.test_mode,
        debug_on: state.settings.paytr.debug_on,
    };
    let request = match payment_request(&order, &attempt, &request_ctx) {
        Ok(request) => request,
        Err(e) => return server_error(&ctx, &e),
    };
    // Only the order's own signed-in shopper may save a card; their utoken groups the cards.
    let owner = owner.as_ref();
    let utoken = owner.and_then(|u| super::cards::utoken_of(&state, u));
    let (saved, cards_unavailable) = match owner {
        Some(user) if utoken.is_some() && !subscription => {
            super::cards::card_views(&state, user).await
        }
        _ => (Vec::new(), false),
    };
    let card = CardSource::NewCard {
        store_card: owner.is_some(),
        utoken,
    };
    let form = match request.form(state.paytr.credentials(), &card) {
        Ok(form) => form,
        Err(e) => return server_error(&ctx, &e),
    };
    let page = PayPage {
        layout: Layout::new(&ctx, "payment"),
        total: format!(
            "{} {}",
            Money::from_kurus(order.total_kurus).unwrap_or_default(),
            order.currency
        ),
        order_id: order.public_id,
        action: state.paytr.url(PAYMENT_PATH),
        hidden: form
            .iter()
            .filter(|(name, _)| *name != "store_card")
            .map(|(n, v)| (n, v.to_owned()))
            .collect(),
        offer_save: owner.is_some(),
        subscription,
        saved,
        cards_unavailable,
    };
    render(StatusCode::OK, &page)
}

pub async fn retry(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
    _form: PostForm,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session).await;
    let ip = match client_ip(&req, &state.settings.trusted_proxies) {
        Ok(ip) => ip,
        Err(e) => return server_error(&ctx, &e),
    };
    if !state.payment_limiter.check(&[&format!("ip:{ip}")]) {
        return message(
            &ctx,
            StatusCode::TOO_MANY_REQUESTS,
            "payment_failed",
            "too_many",
        );
    }
    let public_id = id.into_inner();
    let result = state
        .db
        .write({
            let public_id = public_id.clone();
            move |conn| match Order::find_by_public_id(conn, &public_id)? {
                Some(order) => retry_order(conn, &order, ip).map(|a| a.is_some()),
                None => Ok(false),
            }
        })
        .await;
    match result {
        Ok(true) => redirect(&format!("/orders/{public_id}/pay")),
        Ok(false) => redirect(&format!("/orders/{public_id}")),
        Err(e) => server_error(&ctx, &e),
    }
}

struct LineView {
    name: String,
    quantity: u32,
    price: String,
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    layout: Layout,
    order_id: String,
    status: String,
    total: String,
    lines: Vec<LineView>,
    confirming: bool,
    fail_message: Option<String>,
}

async fn order_view(
    req: &HttpRequest,
    session: &Session,
    state: &AppState,
    public_id: String,
    returning: Return,
) -> HttpResponse {
    let ctx = Ctx::load(req, session).await;
    let (order, attempt) = match load_order(state, public_id, None)
        .await
        .map(|o| o.map(|(o, a, _, _)| (o, a)))
    {
        Ok(Some(found)) => found,
        Ok(None) => return message(&ctx, StatusCode::NOT_FOUND, "not_found", "not_found"),
        Err(e) => return server_error(&ctx, &e),
    };
    let lines = Basket::parse(&order.basket_json)
        .map(|b| {
            b.items()
                .iter()
                .map(|i| LineView {
                    name: i.name.clone(),
                    quantity: i.quantity,
                    price: format!("{} {}", i.unit_price, order.currency),
                })
                .collect()
        })
        .unwrap_or_default();
    let pending = order.status == "pending";
    let fail_message = match &returning {
        Return::Failed(msg) => Some(msg.clone()).filter(|m| !m.is_empty()),
        _ => None,
    }
    .or_else(|| {
        attempt
            .as_ref()
            .filter(|a| a.status == "failed")
            .and_then(|a| a.failed_reason_msg.clone())
    });
    let page = OrderPage {
        layout: Layout::new(&ctx, "order"),
        status: format!("status_{}", order.status),
        total: format!(
            "{} {}",
            Money::from_kurus(order.total_kurus).unwrap_or_default(),
            order.currency
        ),
        order_id: order.public_id,
        lines,
        // After PayTR's OK redirect the page waits for the notification: it never marks the
        // order paid itself.
        confirming: pending && matches!(returning, Return::Ok),
        fail_message: if order.status == "paid" {
            None
        } else {
            fail_message
        },
    };
    render(StatusCode::OK, &page)
}

enum Return {
    None,
    Ok,
    Failed(String),
}

pub async fn order_page(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    order_view(&req, &session, &state, id.into_inner(), Return::None).await
}

/// `merchant_ok_url` (GET or POST, no data): "received, confirming…" until the notification.
pub async fn returned_ok(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    if let Err(e) = parse_form_refusing_card_data(&body) {
        return e.error_response();
    }
    order_view(&req, &session, &state, id.into_inner(), Return::Ok).await
}

/// `merchant_fail_url` (GET or POST with `fail_message`): PayTR's reason, escaped, and a retry.
pub async fn returned_fail(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let form = match parse_form_refusing_card_data(&body) {
        Ok(form) => form,
        Err(e) => return e.error_response(),
    };
    let query = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default();
    let msg = form
        .get("fail_message")
        .or_else(|| query.get("fail_message"))
        .cloned()
        .unwrap_or_default();
    let msg: String = msg.chars().take(300).collect();
    order_view(&req, &session, &state, id.into_inner(), Return::Failed(msg)).await
}
