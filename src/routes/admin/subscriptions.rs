//! Subscriptions: the list (filters), a subscription's periods and attempts, and actions.

use super::{AdminLayout, Staff, audit_action, cross_site, forbidden};
use crate::app_state::AppState;
use crate::db::backoffice::{self, SubscriptionFilter};
use crate::db::subscriptions::{ChargeAttempt, Subscription};
use crate::routes::errors::PageError;
use crate::routes::filters::{self, Price};
use crate::routes::pages::{redirect, render};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

const PAGE: i64 = 50;

pub struct SubscriptionLine {
    pub id: i64,
    pub plan: String,
    pub amount: Price,
    pub status: &'static str,
    pub reason: Option<String>,
    pub card: String,
    pub next_charge_at: i64,
    pub cancel_at_period_end: bool,
}

impl SubscriptionLine {
    pub(super) fn of(s: &Subscription) -> Self {
        Self {
            id: s.id,
            plan: s.plan_slug.clone(),
            amount: Price::new(s.amount, s.currency),
            status: s.status.page_key(),
            reason: s.status_reason.map(|r| r.page_key()),
            card: match (&s.card_last4, &s.card_expiry) {
                (Some(last4), Some(expiry)) => format!("•••• {last4} · {expiry}"),
                (Some(last4), None) => format!("•••• {last4}"),
                _ => String::new(),
            },
            next_charge_at: s.next_charge_at,
            cancel_at_period_end: s.cancel_at_period_end,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/subscriptions.html")]
struct ListPage {
    layout: AdminLayout,
    filter: &'static str,
    filters: Vec<&'static str>,
    subscriptions: Vec<SubscriptionLine>,
    next: Option<i64>,
}

impl ListPage {
    fn filter_key(&self, code: &str) -> &'static str {
        match code {
            "active" => "adm_f_active",
            "past_due" => "adm_f_past_due",
            "cancelled" => "adm_f_cancelled",
            "card_expiring" => "adm_f_card_expiring",
            _ => "adm_f_contact",
        }
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    filter: String,
    before: Option<i64>,
}

/// `GET /admin/subscriptions`.
pub async fn list(
    staff: Staff,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let Some(filter) = SubscriptionFilter::parse(&query.filter) else {
        return Ok(super::message(
            staff.0.lang,
            StatusCode::BAD_REQUEST,
            "adm_not_found",
            "adm_bad_filter",
        ));
    };
    let code = SubscriptionFilter::ALL
        .iter()
        .find(|(f, _)| *f == filter)
        .map_or("", |(_, c)| *c);
    let (before, now) = (query.before, crate::db::unix_now());
    let mut rows = state
        .db
        .run(move |conn| backoffice::subscriptions_page(conn, filter, now, before, PAGE + 1))
        .await?;
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    let page = ListPage {
        layout: AdminLayout::new(&staff, "adm_subscriptions", "subscriptions"),
        filter: code,
        filters: SubscriptionFilter::ALL.iter().map(|(_, c)| *c).collect(),
        next: more.then(|| rows.last().map(|s| s.id)).flatten(),
        subscriptions: rows.iter().map(SubscriptionLine::of).collect(),
    };
    Ok(render(StatusCode::OK, &page))
}

pub struct AttemptLine {
    pub at: i64,
    pub period: i32,
    pub merchant_oid: String,
    pub status: String,
    pub message: String,
    pub next_retry_at: Option<i64>,
}

#[derive(Template)]
#[template(path = "admin/subscription.html")]
struct SubscriptionPage {
    layout: AdminLayout,
    sub: SubscriptionLine,
    customer: Option<(i64, String)>,
    periods_paid: i32,
    contact: Option<i64>,
    attempts: Vec<AttemptLine>,
    live: bool,
}

/// `GET /admin/subscriptions/{id}`.
pub async fn page(
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let found = state
        .db
        .run(move |conn| {
            let Some(sub) = Subscription::find(conn, id)? else {
                return Ok(None);
            };
            let attempts = ChargeAttempt::for_subscription(conn, id)?;
            let customer = crate::accounts::find_user(conn, sub.user_id)?.map(|u| (u.id, u.email));
            let contact = backoffice::contact_customer_at(conn, id)?;
            Ok(Some((sub, attempts, customer, contact)))
        })
        .await?;
    let Some((sub, attempts, customer, contact)) = found else {
        return Ok(super::message(
            staff.0.lang,
            StatusCode::NOT_FOUND,
            "adm_not_found",
            "adm_not_found_text",
        ));
    };
    let page = SubscriptionPage {
        layout: AdminLayout::new(&staff, "adm_subscription", "subscriptions"),
        live: sub.status.is_live(),
        periods_paid: sub.periods_paid,
        sub: SubscriptionLine::of(&sub),
        customer,
        contact,
        attempts: attempts
            .iter()
            .map(|a| AttemptLine {
                at: a.created_at,
                period: a.period,
                merchant_oid: a.merchant_oid.clone(),
                status: a.status.page_key(),
                message: a.message.clone().unwrap_or_default(),
                next_retry_at: a.next_retry_at,
            })
            .collect(),
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct ActionForm {
    csrf_token: String,
    action: String,
}

/// `POST /admin/subscriptions/{id}`: `cancel_now`, `cancel_at_period_end`, `retry` (owners);
/// `contact` / `contact_done` (any staff).
pub async fn act(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PageError> {
    if cross_site(&req) || !staff.csrf_ok(&form.csrf_token) {
        return Ok(forbidden(&staff));
    }
    let owner_only = matches!(
        form.action.as_str(),
        "cancel_now" | "cancel_at_period_end" | "retry"
    );
    if owner_only && !staff.role().may_refund() {
        return Ok(forbidden(&staff));
    }
    let (id, now) = (id.into_inner(), crate::db::unix_now());
    let action = form.action.clone();
    let done = state
        .db
        .write(move |conn| match action.as_str() {
            "cancel_now" => backoffice::cancel_now(conn, id, now),
            "cancel_at_period_end" => backoffice::cancel_at_period_end(conn, id, now),
            "retry" => backoffice::retry_soon(conn, id, now),
            "contact" => backoffice::set_contact_customer(conn, id, Some(now)),
            "contact_done" => backoffice::set_contact_customer(conn, id, None),
            _ => Ok(false),
        })
        .await?;
    let detail = if done { "done" } else { "nothing to do" };
    let action: &'static str = match form.action.as_str() {
        "cancel_now" => "subscription_cancel_now",
        "cancel_at_period_end" => "subscription_cancel_at_period_end",
        "retry" => "subscription_retry",
        "contact" => "subscription_contact",
        "contact_done" => "subscription_contact_done",
        _ => return Ok(forbidden(&staff)),
    };
    audit_action(
        &state,
        &req,
        &staff,
        action,
        format!("subscription:{id}"),
        detail.to_owned(),
    )
    .await;
    Ok(redirect(&format!("/admin/subscriptions/{id}")))
}
