//! Subscriptions started by subscription checkout sessions: read and cancelled through the API,
//! and `subscription.renewed` / `subscription.past_due` told to the merchant in the transaction
//! of the change. Only subscriptions of a session of the key's mode are reachable, by the id
//! the API gave (`sub_…`), never by our numeric id.

use super::checkout_sessions::{CheckoutSession, iso_currency};
use super::{ApiKey, Problem, json};
use crate::app_state::AppState;
use crate::db::states::{StoredText, SubscriptionStatus};
use crate::db::subscriptions::Subscription;
use crate::db::{DbConnection, DbError, unix_now};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::Connection;
use serde::{Deserialize, Serialize};

/// The saved card a subscription renews on.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubscriptionCard {
    pub last4: String,
    /// `MM/YY`.
    pub expiry: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubscriptionView {
    pub id: String,
    #[schema(value_type = String)]
    pub object: &'static str,
    /// `pending_payment` (the first payment is not confirmed yet), `active`, `needs_card` (the
    /// saved card can't be charged unattended), `past_due` (a renewal failed for good) or
    /// `cancelled`.
    #[schema(value_type = String)]
    pub status: &'static str,
    /// Why it waits, when `past_due` or `needs_card` (`card_declined`, `card_expired`, …).
    #[schema(value_type = Option<String>)]
    pub status_reason: Option<&'static str>,
    pub customer_ref: Option<String>,
    pub description: String,
    /// In kuruş, per period.
    pub amount: i64,
    #[schema(value_type = String)]
    pub currency: &'static str,
    pub interval: String,
    /// Periods paid so far (the first payment counts as one).
    pub periods_paid: i32,
    /// When the next renewal is due (unix seconds): the end of the paid period.
    pub current_period_end: i64,
    /// Ends when the paid period ends, without another charge.
    pub cancel_at_period_end: bool,
    pub card: Option<SubscriptionCard>,
    pub checkout_session: String,
    pub created: i64,
}

fn view(
    conn: &mut DbConnection,
    session: &CheckoutSession,
    sub: &Subscription,
) -> Result<SubscriptionView, DbError> {
    let customer_ref = session.customer_ref(conn)?;
    Ok(SubscriptionView {
        id: session.subscription_public_id.clone().unwrap_or_default(),
        object: "subscription",
        status: sub.status.code(),
        status_reason: sub.status_reason.map(StoredText::code),
        customer_ref,
        description: sub.plan_slug.clone(),
        amount: sub.amount.kurus(),
        currency: iso_currency(sub.currency),
        interval: sub.interval_unit.clone(),
        periods_paid: sub.periods_paid,
        current_period_end: sub.next_charge_at,
        cancel_at_period_end: sub.cancel_at_period_end,
        card: sub.card_last4.clone().map(|last4| SubscriptionCard {
            last4,
            expiry: sub.card_expiry.clone(),
        }),
        checkout_session: session.public_id.clone(),
        created: sub.created_at,
    })
}

/// The subscription `public_id` with its session, if a session of `mode` started it.
fn find(
    conn: &mut DbConnection,
    mode: &str,
    public_id: &str,
) -> Result<Option<(CheckoutSession, Subscription)>, DbError> {
    let Some(session) =
        CheckoutSession::by_subscription_public_id(conn, public_id)?.filter(|s| s.mode == mode)
    else {
        return Ok(None);
    };
    let Some(sub) = session
        .subscription_id
        .map(|id| Subscription::find(conn, id))
        .transpose()?
        .flatten()
    else {
        return Ok(None);
    };
    Ok(Some((session, sub)))
}

/// `GET /api/v1/subscriptions/{id}`.
#[utoipa::path(get, path = "/api/v1/subscriptions/{id}", operation_id = "getSubscription", tag = "subscriptions",
    params(("id" = String, Path, description = "sub_… (the session's subscription_id)")),
    responses((status = 200, description = "The subscription", body = SubscriptionView), (status = 401, description = "Missing, unknown, revoked or other-mode key", content_type = "application/problem+json", body = super::ProblemBody), (status = 404, description = "Unknown", content_type = "application/problem+json", body = super::ProblemBody), (status = 429, description = "Rate limited", content_type = "application/problem+json", body = super::ProblemBody), (status = 503, description = "Try again", content_type = "application/problem+json", body = super::ProblemBody)),
    security(("api_key" = [])))]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let key = super::authenticate(&req, &state).await?;
    let id = id.into_inner();
    let found = state
        .db
        .read(move |conn| match find(conn, &key.mode, &id)? {
            Some((session, sub)) => view(conn, &session, &sub).map(Some),
            None => Ok(None),
        })
        .await?
        .ok_or_else(|| Problem::not_found("subscription"))?;
    Ok(json(StatusCode::OK, &found))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// `true`: renew no more but keep the paid period; `false` (the default): end it now. Neither
    /// refunds the period paid (refund its order for that).
    #[serde(default)]
    pub at_period_end: bool,
}

/// `POST /api/v1/subscriptions/{id}/cancel`: no renewal is charged after this answer (a
/// renewal already sent to PayTR settles as it will). Cancelling twice answers the same.
#[utoipa::path(post, path = "/api/v1/subscriptions/{id}/cancel", operation_id = "cancelSubscription", tag = "subscriptions",
    request_body(content = Option<CancelRequest>, description = "optional"),
    params(("id" = String, Path, description = "sub_…")),
    responses((status = 200, description = "Cancelled (now, or at the period's end)", body = SubscriptionView), (status = 400, description = "Bad JSON", content_type = "application/problem+json", body = super::ProblemBody), (status = 401, description = "Missing, unknown, revoked or other-mode key", content_type = "application/problem+json", body = super::ProblemBody), (status = 404, description = "Unknown", content_type = "application/problem+json", body = super::ProblemBody), (status = 413, description = "Body over 64 KB", content_type = "application/problem+json", body = super::ProblemBody), (status = 429, description = "Rate limited", content_type = "application/problem+json", body = super::ProblemBody), (status = 503, description = "Try again", content_type = "application/problem+json", body = super::ProblemBody)),
    security(("api_key" = [])))]
pub async fn cancel(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let key: ApiKey = super::authenticate(&req, &state).await?;
    let (body, _): (CancelRequest, _) = super::read_json_or_default(payload).await?;
    let id = id.into_inner();
    let answer = state
        .db
        .write(move |conn| {
            conn.transaction(|conn| {
                let Some((session, sub)) = find(conn, &key.mode, &id)? else {
                    return Ok(None);
                };
                let now = unix_now();
                // Only an active subscription has a paid period to keep: one past due or
                // waiting for its first payment or a card ends now.
                let keeps_period = body.at_period_end && sub.status == SubscriptionStatus::Active;
                if keeps_period {
                    crate::db::backoffice::cancel_at_period_end(conn, sub.id, now)?;
                } else {
                    crate::db::backoffice::cancel_now(conn, sub.id, now)?;
                }
                let sub = Subscription::find(conn, sub.id)?.unwrap_or(sub);
                view(conn, &session, &sub).map(Some)
            })
        })
        .await?
        .ok_or_else(|| Problem::not_found("subscription"))?;
    tracing::info!(
        at_period_end = answer.cancel_at_period_end,
        "subscription cancelled through the API"
    );
    Ok(json(StatusCode::OK, &answer))
}

/// Tells the merchant about subscription `id` (`subscription.renewed`, `subscription.past_due`),
/// in the caller's transaction; nothing when no session started it.
pub fn tell(conn: &mut DbConnection, id: i64, event: &str) -> Result<(), DbError> {
    let Some(session) = CheckoutSession::for_subscription(conn, id)? else {
        return Ok(());
    };
    let Some(sub) = Subscription::find(conn, id)? else {
        return Ok(());
    };
    let data = serde_json::to_value(view(conn, &session, &sub)?).unwrap_or_default();
    let object = session.subscription_public_id.clone().unwrap_or_default();
    super::webhooks::enqueue(conn, &session.mode, event, &object, &data)
}
