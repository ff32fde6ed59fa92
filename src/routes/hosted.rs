//! The hosted checkout page of an API checkout session (`/c/{id}`): billing details prefilled
//! from the session, the contract, then our payment page with the customer's saved cards; back
//! to the merchant's `success_url` once paid. The session's URL is the shopper's proof: this
//! browser is remembered as the owner of the order it places.

use super::checkout::{BillingValues, terms_for};
use super::ctx::{Ctx, PostForm, ip_bucket, keys};
use super::errors::PageError;
use super::filters::{self, Price};
use super::pages::{Layout, redirect, render};
use super::shop::CartRow;
use crate::api::checkout_sessions::{CheckoutSession, LineItem};
use crate::app_state::AppState;
use crate::catalog::{Product, Text};
use crate::checkout::{PricedLine, place_order};
use crate::db::models::Order;
use crate::db::schema::{checkout_sessions, orders};
use crate::db::unix_now;
use crate::domain::Money;
use crate::sessions::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use std::collections::HashMap;

#[derive(Template)]
#[template(path = "hosted.html")]
struct HostedPage {
    layout: Layout,
    session_id: String,
    rows: Vec<CartRow>,
    total: Price,
    values: BillingValues,
    errors: HashMap<&'static str, &'static str>,
    notice: Option<&'static str>,
    terms: String,
    accepted: bool,
    cancel_url: String,
    /// A subscription's period (the key of its words): the total is charged every period.
    interval: Option<String>,
}

/// How many hosted orders a browser session remembers.
const HOSTED_ORDERS_KEPT: usize = 20;

pub fn hosted_orders(session: &Session) -> Vec<String> {
    session
        .get(keys::HOSTED_ORDERS)
        .ok()
        .flatten()
        .unwrap_or_default()
}

fn remember_hosted_order(session: &Session, public_id: &str) {
    let mut orders = hosted_orders(session);
    orders.retain(|o| o != public_id);
    orders.push(public_id.to_owned());
    let excess = orders.len().saturating_sub(HOSTED_ORDERS_KEPT);
    orders.drain(..excess);
    let _ = session.insert(keys::HOSTED_ORDERS, orders);
}

fn plausible_session_id(id: &str) -> bool {
    id.len() == 27 && id.starts_with("cs_") && id[3..].bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The session and its order's public id and status, if it has one.
async fn load(
    state: &AppState,
    id: String,
) -> Result<(CheckoutSession, Option<(String, String)>), PageError> {
    if !plausible_session_id(&id) {
        return Err(PageError::NotFound);
    }
    let mode = crate::api::keys::mode_of(state.test_mode);
    state
        .db
        .read(move |conn| {
            let Some(s) = CheckoutSession::find(conn, &id)? else {
                return Ok(None);
            };
            let order = match s.order_id {
                Some(oid) => orders::table
                    .find(oid)
                    .select((orders::public_id, orders::status))
                    .get_result(conn)
                    .optional()?,
                None => None,
            };
            Ok(Some((s, order)))
        })
        .await?
        .filter(|(s, _)| s.mode == mode)
        .ok_or(PageError::NotFound)
}

fn priced(items: &[LineItem]) -> Vec<PricedLine> {
    items
        .iter()
        .filter_map(|i| {
            let price = Money::from_kurus(i.unit_amount).ok()?;
            Some(PricedLine {
                product: Product {
                    slug: String::new(),
                    name: Text {
                        tr: i.name.clone(),
                        en: i.name.clone(),
                    },
                    description: Text {
                        tr: String::new(),
                        en: String::new(),
                    },
                    price,
                },
                quantity: i.quantity,
                total: price.checked_mul(i.quantity)?,
            })
        })
        .collect()
}

fn rows_of(s: &CheckoutSession) -> Vec<CartRow> {
    let currency = s.currency();
    priced(&s.line_items())
        .into_iter()
        .map(|l| CartRow {
            slug: String::new(),
            name: l.product.name.tr.clone(),
            quantity: l.quantity,
            total: Price::new(l.total, currency),
        })
        .collect()
}

fn page(
    ctx: &Ctx,
    state: &AppState,
    s: &CheckoutSession,
    values: BillingValues,
    errors: HashMap<&'static str, &'static str>,
    notice: Option<&'static str>,
    accepted: bool,
) -> HttpResponse {
    let rows = rows_of(s);
    let terms = terms_of(state, ctx.lang, s, &values).text;
    let status = if errors.is_empty() && notice.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &HostedPage {
            layout: Layout::new(ctx, "billing"),
            session_id: s.public_id.clone(),
            rows,
            total: total_of(s),
            values,
            errors,
            notice,
            terms,
            accepted,
            cancel_url: s.cancel_url.clone(),
            interval: interval_key(s),
        },
    )
}

fn total_of(s: &CheckoutSession) -> Price {
    Price::new(
        Money::from_kurus(s.amount_kurus).unwrap_or_default(),
        s.currency(),
    )
}

fn interval_key(s: &CheckoutSession) -> Option<String> {
    s.plan().map(|p| format!("interval_{}", p.interval.code()))
}

/// The contract for the session's lines ("Kahve × 2: 91,00 TL", with "/ ay" for a
/// subscription), as the shopper accepts it.
fn terms_of(
    state: &AppState,
    lang: crate::domain::Lang,
    s: &CheckoutSession,
    values: &BillingValues,
) -> crate::checkout::AcceptedTerms {
    let every = interval_key(s)
        .map(|key| format!(" / {}", super::i18n::t(lang, &key)))
        .unwrap_or_default();
    let lines = rows_of(s)
        .iter()
        .map(|r| {
            let amount = super::filters::format_money(r.total.amount, r.total.currency, lang);
            format!("{} × {}: {amount}{every}", r.name, r.quantity)
        })
        .collect();
    terms_for(state, lang, values, lines, total_of(s))
}

/// Where a session that can't take a new order sends the shopper: paid → `success_url`; an
/// order placed already → its payment page (this browser now holds the session's URL);
/// expired → a page saying so.
fn settled(
    session: &Session,
    s: &CheckoutSession,
    order: &Option<(String, String)>,
) -> Result<Option<HttpResponse>, PageError> {
    match order {
        Some((_, status)) if status == "paid" => Ok(Some(redirect(&s.success_url))),
        _ if s.expired(unix_now()) => Err(PageError::Refused {
            status: StatusCode::GONE,
            heading: "session_expired_heading",
            text: "session_expired_text",
        }),
        Some((public_id, _)) => {
            remember_hosted_order(session, public_id);
            Ok(Some(redirect(&format!("/orders/{public_id}/pay"))))
        }
        None => Ok(None),
    }
}

/// `GET /c/{id}`.
pub async fn hosted_form(
    ctx: Ctx,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let (s, order) = load(&state, id.into_inner()).await?;
    if let Some(answer) = settled(&session, &s, &order)? {
        return Ok(answer);
    }
    let values = BillingValues {
        full_name: s.full_name.clone(),
        email: s.email.clone(),
        phone: s.phone.clone(),
        address: s.address.clone(),
    };
    Ok(page(&ctx, &state, &s, values, HashMap::new(), None, false))
}

/// `POST /c/{id}`: places the session's order (once) and opens its payment page.
pub async fn submit_hosted(
    req: HttpRequest,
    ctx: Ctx,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: PostForm,
) -> Result<HttpResponse, PageError> {
    let (s, order) = load(&state, id.into_inner()).await?;
    if let Some(answer) = settled(&session, &s, &order)? {
        return Ok(answer);
    }
    let (values, accepted, parsed) = super::checkout::posted_billing(ctx.lang, &form);
    let subscription = s.plan();
    let consented = subscription.is_none() || form.get("consent") == "1";
    let parsed = match parsed {
        Ok(_) if !consented => Err(HashMap::new()),
        parsed => parsed,
    };
    let billing = match parsed {
        Ok(billing) => billing,
        Err(mut errors) => {
            if !consented {
                errors.insert("consent", super::i18n::t(ctx.lang, "consent_required"));
            }
            return Ok(page(
                &ctx,
                &state,
                &s,
                values,
                errors,
                Some("fix_errors"),
                accepted,
            ));
        }
    };
    let ip = super::ctx::payment_ip(&req, &state)?;
    if !state.payment_limiter.check(&[&ip_bucket(&ip)]).await {
        return Ok(page(
            &ctx,
            &state,
            &s,
            values,
            HashMap::new(),
            Some("too_many"),
            accepted,
        ));
    }
    let terms = terms_of(&state, ctx.lang, &s, &values);
    // A subscription's first payment must tell the card it saves from those on file already.
    let known_cards = match (&subscription, s.customer_id) {
        (Some(_), Some(_)) => {
            let s = s.clone();
            let user = state
                .db
                .read(move |conn| match s.customer_user(conn)? {
                    Some(id) => crate::accounts::find_user(conn, id),
                    None => Ok(None),
                })
                .await?;
            match user {
                Some(user) => Some(super::subscriptions::known_cards(&state, &user).await),
                None => None,
            }
        }
        _ => None,
    };
    let placed: Option<Order> = state
        .db
        .write(move |conn| {
            conn.transaction(|conn| {
                let user = s.customer_user(conn)?;
                let started = match (&subscription, user, &known_cards) {
                    (Some(plan), Some(user_id), Some(known)) => {
                        subscribe(conn, &s, plan, user_id, &billing, ip, known, &terms)
                    }
                    (Some(_), _, _) => {
                        tracing::warn!("hosted subscription without its customer");
                        return Ok(None);
                    }
                    (None, ..) => place_order(
                        conn,
                        user,
                        &billing,
                        &priced(&s.line_items()),
                        s.currency(),
                        ip,
                        Some(&terms),
                    )
                    .map(|(order, _)| (order, None)),
                };
                let (order, sub) = match started {
                    Ok(started) => started,
                    Err(crate::checkout::CheckoutError::Db(e)) => return Err(e),
                    Err(crate::checkout::CheckoutError::Invalid(e)) => {
                        tracing::warn!(error = %e, "hosted order refused");
                        return Ok(None);
                    }
                };
                // One order per session: a second browser that got here first wins.
                let linked = diesel::update(
                    checkout_sessions::table
                        .find(s.id)
                        .filter(checkout_sessions::order_id.is_null()),
                )
                .set((
                    checkout_sessions::order_id.eq(order.id),
                    checkout_sessions::subscription_id.eq(sub),
                    checkout_sessions::subscription_public_id
                        .eq(sub.map(|_| format!("sub_{}", crate::accounts::random_string(24)))),
                ))
                .execute(conn)?;
                if linked == 0 {
                    return Err(crate::db::DbError::Query(
                        diesel::result::Error::RollbackTransaction,
                    ));
                }
                Ok(Some(order))
            })
        })
        .await
        .or_else(|e| match e {
            crate::db::DbError::Query(diesel::result::Error::RollbackTransaction) => Ok(None),
            e => Err(e),
        })?;
    let Some(order) = placed else {
        // Raced by another browser, or refused: start again from the session.
        return Ok(redirect(req.path()));
    };
    tracing::info!(order = %order.public_id, "hosted order placed");
    remember_hosted_order(&session, &order.public_id);
    Ok(redirect(&format!("/orders/{}/pay", order.public_id)))
}

/// A subscription session's first payment: the subscription waiting for it and its order.
#[expect(clippy::too_many_arguments, reason = "what a subscription starts from")]
fn subscribe(
    conn: &mut crate::db::DbConnection,
    s: &CheckoutSession,
    plan: &crate::catalog::Plan,
    user_id: i64,
    billing: &crate::checkout::Billing,
    ip: crate::domain::UserIp,
    known_cards: &str,
    terms: &crate::checkout::AcceptedTerms,
) -> Result<(Order, Option<i64>), crate::checkout::CheckoutError> {
    let public_id = crate::billing::subscribe(
        conn,
        &crate::billing::OnSession {
            user_id,
            plan,
            currency: s.currency(),
            billing,
            ip,
            known_cards,
            terms: Some(terms),
        },
    )?;
    let order = Order::find_by_public_id(conn, &public_id)?
        .ok_or(crate::db::DbError::Query(diesel::result::Error::NotFound))?;
    let sub =
        crate::db::subscriptions::Subscription::for_first_order(conn, order.id)?.map(|sub| sub.id);
    Ok((order, sub))
}

#[derive(Template)]
#[template(path = "hosted_return.html")]
struct ReturnPage {
    layout: Layout,
    url: String,
}

/// Back to the merchant's `success_url`: a page that goes there at once (a refresh, not a
/// redirect, so the form PayTR's page posted to us is not redirected to a third origin, which
/// that page's `form-action` may forbid), with a link.
pub fn back_to_merchant(ctx: &Ctx, url: String) -> HttpResponse {
    render(
        StatusCode::OK,
        &ReturnPage {
            layout: Layout::new(ctx, "payment"),
            url,
        },
    )
}

/// The `success_url` and `cancel_url` of the session that `order` belongs to.
pub async fn return_urls(state: &AppState, order: i64) -> Option<(String, String)> {
    state
        .db
        .read(move |conn| {
            Ok(checkout_sessions::table
                .filter(checkout_sessions::order_id.eq(order))
                .select((
                    checkout_sessions::success_url,
                    checkout_sessions::cancel_url,
                ))
                .get_result::<(String, String)>(conn)
                .optional()?)
        })
        .await
        .ok()
        .flatten()
}
