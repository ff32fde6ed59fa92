//! Subscribing to a plan, and managing subscriptions on the account page.

use super::cards::cards_of;
use super::ctx::{Ctx, PostForm, client_ip};
use super::pages::{Layout, message, redirect, render, server_error};
use crate::billing::plan_line;
use crate::cards::{card_ref, find};
use crate::checkout::{Billing as BillingDetails, CheckoutError, place_order};
use crate::db::subscriptions::{ChargeAttempt, NewSubscription, Subscription};
use crate::db::unix_now;
use crate::domain::{Lang, Money, date_string};
use crate::startup::AppState;
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
    pub status: String,
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
        status: format!("sub_{}", sub.status),
        reason: sub.status_reason.as_ref().map(|r| format!("reason_{r}")),
        cancel_at_period_end: sub.cancel_at_period_end,
        can_pay_now: period_payable_now(sub, unix_now()),
        charges: attempts
            .iter()
            .filter(|a| a.attempt_no > 0)
            .map(|a| {
                format!(
                    "{} · {} · {}",
                    date_string(a.created_at),
                    a.status,
                    a.message.as_deref().unwrap_or("")
                )
            })
            .collect(),
    }
}

/// Whether the shopper may pay the subscription's next period on-session now: when a renewal
/// failed (past due), or when it waits for a card and its paid period is over. Never while the
/// current period is paid: that would charge the same period twice.
pub fn period_payable_now(sub: &Subscription, now: i64) -> bool {
    match sub.status.as_str() {
        "past_due" => true,
        "needs_card" => sub.periods_paid == 0 || sub.next_charge_at <= now,
        _ => false,
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
    let _ = session.insert("billing", &values);
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
    let (line, currency, slug, interval) = (
        plan_line(plan),
        state.catalog.currency,
        plan.slug.clone(),
        plan.interval,
    );
    let placed = state
        .db
        .write(move |conn| {
            use diesel::Connection;
            Ok(conn.transaction::<_, CheckoutError, _>(|conn| {
                let now = unix_now();
                if let Some(id) = existing {
                    // "Pay now" pressed again (or in two tabs): the order already waiting for
                    // payment is the one to pay; a second order would charge the period twice.
                    let Some(sub) = Subscription::find(conn, id)? else {
                        return Ok(None);
                    };
                    if !period_payable_now(&sub, now) {
                        return Ok(None);
                    }
                    if let Some(order) = sub
                        .first_order_id
                        .map(|o| crate::db::models::Order::find(conn, o))
                        .transpose()?
                        .flatten()
                    {
                        match order.status.as_str() {
                            "pending" => return Ok(Some(order.public_id)),
                            // Paid, not yet counted: activation will count it.
                            "paid" if !crate::billing::order_counted(conn, id, order.id)? => {
                                return Ok(None);
                            }
                            _ => {}
                        }
                    }
                    let (order, _) =
                        place_order(conn, Some(user_id), &billing, &[line], currency, ip)?;
                    if !Subscription::set_on_session_order(
                        conn,
                        id,
                        sub.first_order_id,
                        order.id,
                        &known,
                        &ip.to_string(),
                        now,
                    )? {
                        return Err(CheckoutError::Db(crate::db::DbError::Query(
                            diesel::result::Error::RollbackTransaction,
                        )));
                    }
                    return Ok(Some(order.public_id));
                }
                let (order, _) = place_order(conn, Some(user_id), &billing, &[line], currency, ip)?;
                NewSubscription {
                    user_id,
                    plan_slug: &slug,
                    amount_kurus: order.total_kurus,
                    currency: currency.code(),
                    interval_unit: interval.code(),
                    status: "pending_payment",
                    known_cards: &known,
                    first_order_id: Some(order.id),
                    period_start: now,
                    next_charge_at: now,
                    user_ip: &ip.to_string(),
                    created_at: now,
                    updated_at: now,
                }
                .insert(conn)?;
                Ok(Some(order.public_id))
            }))
        })
        .await;
    match placed {
        Ok(Ok(Some(public_id))) => redirect(&format!("/orders/{public_id}/pay")),
        Ok(Ok(None)) => redirect("/account"),
        // Lost a race with another "pay now": that one's order is the one to pay.
        Ok(Err(CheckoutError::Db(crate::db::DbError::Query(
            diesel::result::Error::RollbackTransaction,
        )))) => redirect("/account"),
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
        Ok(Some(sub)) if matches!(sub.status.as_str(), "active" | "needs_card" | "past_due") => {}
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
        .filter(|s| s.status != "cancelled")
        .filter_map(|s| {
            s.ctoken_sealed
                .as_deref()
                .and_then(|c| state.sealer.open(c))
        })
        .map(|c| crate::paytr::Token::new(c).hint())
        .collect())
}
