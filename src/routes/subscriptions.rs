//! Subscribing to a plan, and managing subscriptions on the account page.

use super::cards::cards_of;
use super::ctx::{Ctx, PostForm, SessionUser, SignedIn, keys};
use super::errors::PageError;
use super::filters::{self, Price};
use super::pages::{Layout, redirect, render};
use crate::app_state::AppState;
use crate::billing::{self, OnSession, Started, period_payable_now};
use crate::cards::{card_ref, find};
use crate::checkout::Billing as BillingDetails;
use crate::db::models::User;
use crate::db::states::{ChargeStatus, SubscriptionReason, SubscriptionStatus};
use crate::db::subscriptions::{ChargeAttempt, Subscription};
use crate::db::unix_now;
use crate::domain::Lang;
use crate::sessions::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use std::collections::HashMap;

/// A renewal charge on the account page.
pub struct ChargeView {
    pub at: i64,
    pub amount: Price,
    /// The key of its status's words.
    pub status: String,
    /// Why it failed, in our words (never PayTR's note, which is written for the merchant).
    pub reason: Option<&'static str>,
    /// The first payment, made on the payment page.
    pub first: bool,
}

/// A subscription as the account page shows it.
pub struct SubscriptionView {
    pub id: i64,
    pub plan: String,
    pub price: Price,
    pub interval: String,
    pub card: Option<String>,
    /// `MM/YY` of the card, to start the change-card control on it.
    pub card_expiry: Option<String>,
    pub next_charge: i64,
    /// The key of the status's words.
    pub status: &'static str,
    pub active: bool,
    pub live: bool,
    pub takes_card: bool,
    pub reason: Option<String>,
    pub cancel_at_period_end: bool,
    pub can_pay_now: bool,
    pub charges: Vec<ChargeView>,
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
        price: Price::new(sub.amount, sub.currency),
        interval: format!("interval_{}", sub.interval_unit),
        card: sub.card_last4.clone(),
        card_expiry: sub.card_expiry.clone(),
        next_charge: sub.next_charge_at,
        status: sub.status.page_key(),
        active: sub.status == SubscriptionStatus::Active,
        live: sub.status.is_live(),
        takes_card: sub.status.takes_a_card(),
        reason: sub.status_reason.map(SubscriptionReason::page_key),
        cancel_at_period_end: sub.cancel_at_period_end,
        can_pay_now: period_payable_now(sub, unix_now()),
        charges: attempts
            .iter()
            .map(|a| {
                let failed = matches!(
                    a.status,
                    ChargeStatus::FailedSoft | ChargeStatus::FailedHard
                );
                ChargeView {
                    at: a.created_at,
                    // The first payment's marker row holds no amount: it was the plan's price.
                    amount: Price::new(
                        if a.attempt_no == 0 {
                            sub.amount
                        } else {
                            crate::domain::Money::from_kurus(a.amount_kurus).unwrap_or(sub.amount)
                        },
                        sub.currency,
                    ),
                    status: a.status.page_key(),
                    reason: failed.then(|| {
                        super::i18n::failure_reason(lang, Some("0"), a.message.as_deref())
                    }),
                    first: a.attempt_no == 0,
                }
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
    price: Price,
    interval: String,
    values: super::checkout::BillingValues,
    errors: HashMap<&'static str, &'static str>,
    /// The pre-information form and contract for the plan, and whether it was ticked.
    terms: String,
    accepted: bool,
}

/// The legal texts for subscribing to `plan` ("Kahve kulübü · 149,00 TL / ay").
fn plan_terms(
    state: &AppState,
    lang: Lang,
    plan: &crate::catalog::Plan,
    currency: crate::domain::Currency,
    values: &super::checkout::BillingValues,
) -> crate::checkout::AcceptedTerms {
    let price = Price::new(plan.amount, currency);
    let interval = super::i18n::t(lang, &format!("interval_{}", plan.interval.code())).to_owned();
    let amount = filters::format_money(plan.amount, currency, lang);
    let line = format!("{} × 1: {amount} / {interval}", plan.name.get(lang));
    super::checkout::terms_for(state, lang, values, vec![line], price)
}

fn subscribe_page(
    ctx: &Ctx,
    state: &AppState,
    plan: &crate::catalog::Plan,
    values: super::checkout::BillingValues,
    errors: HashMap<&'static str, &'static str>,
    accepted: bool,
) -> HttpResponse {
    let currency = state.catalog.currency;
    let terms = plan_terms(state, ctx.lang, plan, currency, &values).text;
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
        price: Price::new(plan.amount, currency),
        interval: format!("interval_{}", plan.interval.code()),
        values,
        errors,
        terms,
        accepted,
    };
    render(status, &page)
}

/// `GET /subscribe/{slug}`: the plan and the billing details for its first payment.
pub async fn subscribe_form(
    ctx: Ctx,
    SignedIn(user): SignedIn,
    session: Session,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let plan = state.catalog.plan(&slug).ok_or(PageError::NotFound)?;
    let values =
        super::checkout::BillingValues::remembered(&session, Some(&SessionUser::of(&user)))
            .with_saved(&user);
    Ok(subscribe_page(
        &ctx,
        &state,
        plan,
        values,
        HashMap::new(),
        false,
    ))
}

/// `POST /subscribe/{slug}`: the first period is an on-session order paid with 3-D Secure that
/// saves the card; the subscription goes active once that payment is confirmed.
pub async fn subscribe(
    req: HttpRequest,
    ctx: Ctx,
    SignedIn(user): SignedIn,
    session: Session,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    form: PostForm,
) -> Result<HttpResponse, PageError> {
    let plan = state
        .catalog
        .plan(&slug)
        .cloned()
        .ok_or(PageError::NotFound)?;
    let values = super::checkout::BillingValues::from_form(&form);
    let consented = form.get("consent") == "1";
    let accepted = super::checkout::terms_accepted(&form);
    let billing = match values.parse() {
        Ok(billing) if consented && accepted => billing,
        parsed => {
            let mut errors = match parsed {
                Err(errors) => super::i18n::field_errors(ctx.lang, &errors),
                Ok(_) => HashMap::new(),
            };
            if !consented {
                errors.insert("consent", super::i18n::t(ctx.lang, "consent_required"));
            }
            if !accepted {
                errors.insert("accept_terms", super::i18n::t(ctx.lang, "terms_required"));
            }
            return Ok(subscribe_page(
                &ctx, &state, &plan, values, errors, accepted,
            ));
        }
    };
    let _ = session.insert(keys::BILLING, &values);
    let terms = plan_terms(&state, ctx.lang, &plan, state.catalog.currency, &values);
    start_on_session_payment(&req, &state, &user, &plan, billing, Some(terms), None).await
}

/// References of the shopper's cards on file now, so the one a payment saves can be told
/// apart.
/// PayTR's list being unavailable never blocks paying with a new card: the shopper then picks
/// the card for the renewals after the payment.
pub(super) async fn known_cards(state: &AppState, user: &User) -> String {
    match cards_of(state, user).await {
        Ok(cards) => cards.iter().map(card_ref).collect::<Vec<_>>().join(","),
        Err(_) => billing::CARDS_UNKNOWN.to_owned(),
    }
}

/// Starts the on-session payment of a subscription (its first period, or "pay now").
async fn start_on_session_payment(
    req: &HttpRequest,
    state: &AppState,
    user: &User,
    plan: &crate::catalog::Plan,
    billing: BillingDetails,
    terms: Option<crate::checkout::AcceptedTerms>,
    existing: Option<i64>,
) -> Result<HttpResponse, PageError> {
    let ip = super::ctx::payment_ip(req, state)?;
    // Starting a payment is limited as for checkout, whichever page starts it.
    if !state
        .payment_limiter
        .check(&[&super::ctx::ip_bucket(&ip)])
        .await
    {
        let status = StatusCode::TOO_MANY_REQUESTS;
        return Err(PageError::refused(status, "payment_failed", "too_many"));
    }
    let known = known_cards(state, user).await;
    let (plan, currency, user_id) = (plan.clone(), state.catalog.currency, user.id);
    let started = state
        .db
        .write(move |conn| {
            let start = OnSession {
                user_id,
                plan: &plan,
                currency,
                billing: &billing,
                ip,
                known_cards: &known,
                terms: terms.as_ref(),
            };
            Ok(match existing {
                Some(id) => billing::pay_now(conn, id, &start),
                None => billing::subscribe(conn, &start).map(Started::Order),
            })
        })
        .await??;
    Ok(match started {
        Started::Order(public_id) => redirect(&format!("/orders/{public_id}/pay")),
        Started::NothingDue => redirect("/account"),
    })
}

/// `POST /account/subscriptions/{id}/pay`: pay an unpaid period on-session with a new card.
pub async fn pay_now(
    req: HttpRequest,
    SignedIn(user): SignedIn,
    state: web::Data<AppState>,
    path: web::Path<SubscriptionPath>,
    _form: PostForm,
) -> Result<HttpResponse, PageError> {
    let Some(sub) = own_subscription(&state, user.id, path.id)
        .await?
        .filter(|s| period_payable_now(s, unix_now()))
    else {
        return Ok(redirect("/account"));
    };
    let plan = state
        .catalog
        .plan(&sub.plan_slug)
        .cloned()
        .ok_or(PageError::NotFound)?;
    // The billing details of the subscription's last on-session order.
    let first_order = sub.first_order_id;
    let order = state
        .db
        .run(move |conn| match first_order {
            Some(id) => crate::db::models::Order::find(conn, id),
            None => Ok(None),
        })
        .await?;
    let Some(billing) = order
        .and_then(|o| BillingDetails::parse(&o.full_name, &o.email, &o.phone, &o.address).ok())
    else {
        return Ok(redirect(&format!("/subscribe/{}", plan.slug)));
    };
    start_on_session_payment(&req, &state, &user, &plan, billing, None, Some(sub.id)).await
}

/// `POST /account/subscriptions/{id}/cancel`: ends it at the end of the paid period.
pub async fn cancel(
    SignedIn(user): SignedIn,
    state: web::Data<AppState>,
    path: web::Path<SubscriptionPath>,
    _form: PostForm,
) -> Result<HttpResponse, PageError> {
    let (id, uid) = (path.id, user.id);
    let changed = state
        .db
        .write(move |conn| Subscription::set_cancel_at_period_end(conn, id, uid, true, unix_now()))
        .await?;
    Ok(redirect(&if changed {
        format!("/account?cancelled={id}#subscription-{id}")
    } else {
        "/account".to_owned()
    }))
}

/// `POST /account/subscriptions/{id}/resume`: undoes a cancellation until the period ends.
pub async fn resume(
    SignedIn(user): SignedIn,
    state: web::Data<AppState>,
    path: web::Path<SubscriptionPath>,
    _form: PostForm,
) -> Result<HttpResponse, PageError> {
    let (id, uid) = (path.id, user.id);
    state
        .db
        .write(move |conn| Subscription::set_cancel_at_period_end(conn, id, uid, false, unix_now()))
        .await?;
    Ok(redirect(&format!("/account#subscription-{id}")))
}

#[derive(Template)]
#[template(path = "cancel_subscription.html")]
struct CancelPage {
    layout: Layout,
    sub: SubscriptionView,
}

/// `GET /account/subscriptions/{id}/cancel`: what cancelling means (the date it ends, no more
/// charges), before the shopper confirms.
pub async fn cancel_form(
    ctx: Ctx,
    SignedIn(user): SignedIn,
    state: web::Data<AppState>,
    path: web::Path<SubscriptionPath>,
) -> Result<HttpResponse, PageError> {
    let Some(sub) = own_subscription(&state, user.id, path.id).await? else {
        return Err(PageError::NotFound);
    };
    if !sub.status.is_live() || sub.cancel_at_period_end {
        return Ok(redirect("/account"));
    }
    let page = CancelPage {
        layout: Layout::new(&ctx, "cancel_subscription"),
        sub: view(&state, ctx.lang, &sub, &[]),
    };
    Ok(render(StatusCode::OK, &page))
}

/// `POST /account/subscriptions/{id}/card`: renewals go to another of the shopper's saved cards.
pub async fn change_card(
    SignedIn(user): SignedIn,
    state: web::Data<AppState>,
    path: web::Path<SubscriptionPath>,
    form: PostForm,
) -> Result<HttpResponse, PageError> {
    // Only a subscription whose first period is paid has renewals to put on a card.
    let sub = own_subscription(&state, user.id, path.id).await?;
    if !sub.is_some_and(|s| s.status.takes_a_card()) {
        return Ok(redirect("/account"));
    }
    let cards = cards_of(&state, &user)
        .await
        .map_err(|_| PageError::unavailable("subscriptions", "cards_unavailable"))?;
    let Some(card) = find(&cards, form.get("card")).cloned() else {
        let status = StatusCode::FORBIDDEN;
        return Err(PageError::refused(status, "subscriptions", "not_your_card"));
    };
    if card.require_cvv {
        let (status, text) = (StatusCode::UNPROCESSABLE_ENTITY, "reason_card_needs_cvv");
        return Err(PageError::refused(status, "subscriptions", text));
    }
    let sealed = state.sealer.seal(card.ctoken.expose());
    let expiry = format!("{}/{}", card.month, card.year);
    let id = path.id;
    state
        .db
        .write(move |conn| {
            Subscription::set_card(conn, id, &sealed, &card.last_4, &expiry, unix_now())
        })
        .await?;
    Ok(redirect("/account"))
}
