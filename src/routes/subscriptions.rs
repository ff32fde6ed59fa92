//! Subscribing to a plan, and managing subscriptions on the account page.

use super::cards::cards_of;
use super::ctx::keys;
use super::ctx::{Ctx, PostForm, client_ip};
use super::pages::{Layout, message, redirect, render, server_error};
use crate::app_state::AppState;
use crate::billing::{self, OnSession, Started, period_payable_now};
use crate::cards::{card_ref, find};
use crate::checkout::Billing as BillingDetails;
use crate::db::states::{SubscriptionReason, SubscriptionStatus};
use crate::db::subscriptions::{ChargeAttempt, Subscription};
use crate::db::unix_now;
use crate::domain::{Lang, Money, date_string};
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use std::collections::HashMap;

/// A subscription as the account page shows it.
pub struct SubscriptionView {
    pub id: i64,
    pub plan: String,
    pub price: String,
    pub interval: String,
    pub card: Option<String>,
    pub next_charge: String,
    /// The key of the status's words.
    pub status: &'static str,
    pub active: bool,
    pub live: bool,
    pub takes_card: bool,
    pub reason: Option<String>,
    pub cancel_at_period_end: bool,
    pub can_pay_now: bool,
    pub charges: Vec<String>,
}

pub fn view(
    state: &AppState,
    lang: Lang,
    sub: &Subscription,
    attempts: &[ChargeAttempt],
) -> SubscriptionView {
    let plan = state.catalog.plan(&sub.plan_slug);
    SubscriptionView {
        id: sub.id,
        plan: plan.map_or_else(|| sub.plan_slug.clone(), |p| p.name.get(lang).to_owned()),
        price: format!(
            "{} {}",
            Money::from_kurus(sub.amount_kurus).unwrap_or_default(),
            sub.currency
        ),
        interval: format!("interval_{}", sub.interval_unit),
        card: sub.card_last4.clone(),
        next_charge: date_string(sub.next_charge_at),
        status: sub.status.page_key(),
        active: sub.status == SubscriptionStatus::Active,
        live: sub.status.is_live(),
        takes_card: sub.status.takes_a_card(),
        reason: sub.status_reason.map(SubscriptionReason::page_key),
        cancel_at_period_end: sub.cancel_at_period_end,
        can_pay_now: period_payable_now(sub, unix_now()),
        charges: attempts
            .iter()
            .filter(|a| a.attempt_no > 0)
            .map(|a| {
                format!(
                    "{} · {} · {}",
                    date_string(a.created_at),
                    super::i18n::t(lang, &a.status.page_key()),
                    a.message.as_deref().unwrap_or("")
                )
            })
            .collect(),
    }
}

#[derive(Deserialize)]
pub struct SubscriptionPath {
    id: i64,
}

/// The shopper's subscription `id`, or `None` if it is not theirs.
async fn own_subscription(
    state: &AppState,
    user_id: i64,
    id: i64,
) -> Result<Option<Subscription>, crate::db::DbError> {
    let sub = state
        .db
        .run(move |conn| Subscription::find(conn, id))
        .await?;
    Ok(sub.filter(|s| s.user_id == user_id))
}

#[derive(Template)]
#[template(path = "subscribe.html")]
struct SubscribePage {
    layout: Layout,
    slug: String,
    plan: String,
    description: String,
    price: String,
    interval: String,
    values: super::checkout::BillingValues,
    errors: HashMap<&'static str, &'static str>,
}

fn subscribe_page(
    ctx: &Ctx,
    plan: &crate::catalog::Plan,
    currency: &str,
    values: super::checkout::BillingValues,
    errors: HashMap<&'static str, &'static str>,
) -> HttpResponse {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = SubscribePage {
        layout: Layout::new(ctx, "subscribe"),
        slug: plan.slug.clone(),
        plan: plan.name.get(ctx.lang).to_owned(),
        description: plan.description.get(ctx.lang).to_owned(),
        price: format!("{} {currency}", plan.amount),
        interval: format!("interval_{}", plan.interval.code()),
        values,
        errors,
    };
    render(status, &page)
}

/// `GET /subscribe/{slug}`: the plan and the billing details for its first payment.
pub async fn subscribe_form(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session).await;
    let Some(user) = ctx.user.clone() else {
        return redirect("/login");
    };
    let Some(plan) = state.catalog.plan(&slug) else {
        return message(&ctx, StatusCode::NOT_FOUND, "not_found", "not_found");
    };
    let values = super::checkout::BillingValues::remembered(&session, Some(&user));
    subscribe_page(
        &ctx,
        plan,
        state.catalog.currency.code(),
        values,
        HashMap::new(),
    )
}

/// `POST /subscribe/{slug}`: the first period is an on-session order paid with 3-D Secure that
/// saves the card; the subscription goes active once that payment is confirmed.
pub async fn subscribe(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    form: PostForm,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session).await;
    let Some(user) = ctx.user.clone() else {
        return redirect("/login");
    };
    let Some(plan) = state.catalog.plan(&slug).cloned() else {
        return message(&ctx, StatusCode::NOT_FOUND, "not_found", "not_found");
    };
    let values = super::checkout::BillingValues::from_form(&form);
    let billing = match values.parse() {
        Ok(billing) => billing,
        Err(errors) => {
            let errors = errors
                .iter()
                .map(|e| (e.field, super::i18n::field_error(ctx.lang, e.field)))
                .collect();
            return subscribe_page(&ctx, &plan, state.catalog.currency.code(), values, errors);
        }
    };
    let _ = session.insert(keys::BILLING, &values);
    start_on_session_payment(&ctx, &req, &state, user.id, &plan, billing, None).await
}

async fn start_on_session_payment(
    ctx: &Ctx,
    req: &HttpRequest,
    state: &AppState,
    user_id: i64,
    plan: &crate::catalog::Plan,
    billing: BillingDetails,
    existing: Option<i64>,
) -> HttpResponse {
    let ip = match client_ip(req, &state.settings.trusted_proxies) {
        Ok(ip) => ip,
        Err(e) => return server_error(ctx, &e),
    };
    // Starting a payment is limited as for checkout, whichever page starts it.
    if !state.payment_limiter.check(&[&super::ctx::ip_bucket(&ip)]) {
        return message(
            ctx,
            StatusCode::TOO_MANY_REQUESTS,
            "payment_failed",
            "too_many",
        );
    }
    let user = match super::cards::require_user(ctx, state).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    // The cards on file now, so the one this payment saves can be told apart.
    let known = match cards_of(state, &user).await {
        Ok(cards) => cards.iter().map(card_ref).collect::<Vec<_>>().join(","),
        Err(_) => {
            return message(
                ctx,
                StatusCode::SERVICE_UNAVAILABLE,
                "subscriptions",
                "cards_unavailable",
            );
        }
    };
    let (plan, currency) = (plan.clone(), state.catalog.currency);
    let placed = state
        .db
        .write(move |conn| {
            let start = OnSession {
                user_id,
                plan: &plan,
                currency,
                billing: &billing,
                ip,
                known_cards: &known,
            };
            Ok(match existing {
                Some(id) => billing::pay_now(conn, id, &start),
                None => billing::subscribe(conn, &start).map(Started::Order),
            })
        })
        .await;
    match placed {
        Ok(Ok(Started::Order(public_id))) => redirect(&format!("/orders/{public_id}/pay")),
        Ok(Ok(Started::NothingDue)) => redirect("/account"),
        Ok(Err(e)) => server_error(ctx, &e),
        Err(e) => server_error(ctx, &e),
    }
}

/// `POST /account/subscriptions/{id}/pay`: pay a past-due period on-session with a new card.
pub async fn pay_now(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<SubscriptionPath>,
    _form: PostForm,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session).await;
    let Some(user) = ctx.user.clone() else {
        return redirect("/login");
    };
    let sub = match own_subscription(&state, user.id, path.id).await {
        Ok(Some(sub)) if period_payable_now(&sub, unix_now()) => sub,
        Ok(_) => return redirect("/account"),
        Err(e) => return server_error(&ctx, &e),
    };
    let Some(plan) = state.catalog.plan(&sub.plan_slug).cloned() else {
        return message(&ctx, StatusCode::NOT_FOUND, "not_found", "not_found");
    };
    let first_order = sub.first_order_id;
    let order = match state
        .db
        .run(move |conn| {
            Ok(match first_order {
                Some(id) => crate::db::models::Order::find(conn, id)?,
                None => None,
            })
        })
        .await
    {
        Ok(order) => order,
        Err(e) => return server_error(&ctx, &e),
    };
    let Some(billing) = order
        .and_then(|o| BillingDetails::parse(&o.full_name, &o.email, &o.phone, &o.address).ok())
    else {
        return redirect(&format!("/subscribe/{}", plan.slug));
    };
    start_on_session_payment(&ctx, &req, &state, user.id, &plan, billing, Some(sub.id)).await
}

/// `POST /account/subscriptions/{id}/cancel`: ends it at the end of the paid period.
pub async fn cancel(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<SubscriptionPath>,
    _form: PostForm,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session).await;
    let Some(user) = ctx.user.clone() else {
        return redirect("/login");
    };
    let (id, uid) = (path.id, user.id);
    match state
        .db
        .write(move |conn| Subscription::set_cancel_at_period_end(conn, id, uid, unix_now()))
        .await
    {
        Ok(_) => redirect("/account"),
        Err(e) => server_error(&ctx, &e),
    }
}

/// `POST /account/subscriptions/{id}/card`: renewals go to another of the shopper's saved cards.
pub async fn change_card(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<SubscriptionPath>,
    form: PostForm,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session).await;
    let user = match super::cards::require_user(&ctx, &state).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    // Only a subscription whose first period is paid has renewals to put on a card.
    match own_subscription(&state, user.id, path.id).await {
        Ok(Some(sub)) if sub.status.takes_a_card() => {}
        Ok(_) => return redirect("/account"),
        Err(e) => return server_error(&ctx, &e),
    }
    let cards = match cards_of(&state, &user).await {
        Ok(cards) => cards,
        Err(_) => {
            return message(
                &ctx,
                StatusCode::SERVICE_UNAVAILABLE,
                "subscriptions",
                "cards_unavailable",
            );
        }
    };
    let Some(card) = find(&cards, form.get("card")).cloned() else {
        return message(
            &ctx,
            StatusCode::FORBIDDEN,
            "subscriptions",
            "not_your_card",
        );
    };
    if card.require_cvv {
        return message(
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            "subscriptions",
            "reason_card_needs_cvv",
        );
    }
    let sealed = state.sealer.seal(card.ctoken.expose());
    let expiry = format!("{}/{}", card.month, card.year);
    let id = path.id;
    match state
        .db
        .write(move |conn| {
            Subscription::set_card(conn, id, &sealed, &card.last_4, &expiry, unix_now())
        })
        .await
    {
        Ok(_) => redirect("/account"),
        Err(e) => server_error(&ctx, &e),
    }
}

/// The reference of the card that pays for each live subscription of the shopper.
pub async fn cards_backing_subscriptions(
    state: &AppState,
    user_id: i64,
) -> Result<Vec<String>, crate::db::DbError> {
    let subs = state
        .db
        .run(move |conn| Subscription::list_for_user(conn, user_id))
        .await?;
    Ok(subs
        .iter()
        .filter(|s| s.status.is_live())
        .filter_map(|s| {
            s.ctoken_sealed
                .as_deref()
                .and_then(|c| state.sealer.open(c))
        })
        .map(|c| crate::paytr::Token::new(c).hint())
        .collect())
}
