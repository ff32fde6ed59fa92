//! A hosted checkout's orders through the API, and their refunds. Only orders placed through
//! a checkout session of the key's mode are reachable.

use super::{ApiKey, FieldError, Problem, Replay, json};
use crate::app_state::AppState;
use crate::db::models::{Order, PaymentAttempt};
use crate::db::refunds::Refund;
use crate::db::states::{AttemptStatus, RefundStatus};
use crate::db::{DbConnection, DbError};
use crate::domain::{Currency, MerchantOid, Money};
use crate::refunds::{RefundRefused, RefundRequest};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RefundView {
    pub id: String,
    #[schema(value_type = String)]
    pub object: &'static str,
    pub amount: i64,
    #[schema(value_type = String)]
    pub currency: &'static str,
    /// `requested`, `submitted`, `succeeded`, `failed` or `unknown` (settled later).
    #[schema(value_type = String)]
    pub status: &'static str,
    pub reason: String,
    pub created: i64,
}

pub fn refund_view(r: &Refund) -> RefundView {
    RefundView {
        id: r.reference_no.clone(),
        object: "refund",
        amount: r.amount_kurus,
        currency: super::checkout_sessions::iso_currency(
            Currency::parse(&r.currency).unwrap_or(Currency::Tl),
        ),
        status: r.status.code(),
        reason: r.reason.clone(),
        created: r.created_at,
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderView {
    pub id: String,
    #[schema(value_type = String)]
    pub object: &'static str,
    /// `pending`, `paid` or `failed`.
    pub status: String,
    pub amount_total: i64,
    #[schema(value_type = String)]
    pub currency: &'static str,
    pub checkout_session: String,
    pub amount_refunded: i64,
    pub refunds: Vec<RefundView>,
    pub created: i64,
}

/// The order `public_id` with its session's id, if a session of `mode` placed it.
fn session_order(
    conn: &mut DbConnection,
    mode: &str,
    public_id: &str,
) -> Result<Option<(Order, String)>, DbError> {
    let Some(order) = Order::find_by_public_id(conn, public_id)? else {
        return Ok(None);
    };
    Ok(
        super::checkout_sessions::CheckoutSession::for_order(conn, order.id)?
            .filter(|s| s.mode == mode)
            .map(|s| (order, s.public_id)),
    )
}

fn view(conn: &mut DbConnection, order: Order, session: String) -> Result<OrderView, DbError> {
    let refunds = Refund::for_order(conn, order.id)?;
    let amount_refunded = refunds
        .iter()
        .filter(|r| r.status == RefundStatus::Succeeded)
        .map(|r| r.amount_kurus)
        .sum();
    Ok(OrderView {
        id: order.public_id,
        object: "order",
        status: order.status.code().to_owned(),
        amount_total: order.total.kurus(),
        currency: super::checkout_sessions::iso_currency(order.currency),
        checkout_session: session,
        amount_refunded,
        refunds: refunds.iter().map(refund_view).collect(),
        created: order.created_at,
    })
}

async fn find(state: &AppState, key: &ApiKey, id: String) -> Result<OrderView, Problem> {
    let mode = key.mode.clone();
    state
        .db
        .read(move |conn| match session_order(conn, &mode, &id)? {
            Some((order, session)) => view(conn, order, session).map(Some),
            None => Ok(None),
        })
        .await?
        .ok_or_else(|| Problem::not_found("order"))
}

/// `GET /api/v1/orders/{id}`.
#[utoipa::path(get, path = "/api/v1/orders/{id}", operation_id = "getOrder", tag = "orders",
    params(("id" = String, Path, description = "the session's order_id")),
    responses((status = 200, description = "The order", body = OrderView), (status = 401, description = "Missing, unknown, revoked or other-mode key", content_type = "application/problem+json", body = super::ProblemBody), (status = 404, description = "Unknown", content_type = "application/problem+json", body = super::ProblemBody), (status = 429, description = "Rate limited", content_type = "application/problem+json", body = super::ProblemBody), (status = 503, description = "Try again", content_type = "application/problem+json", body = super::ProblemBody)),
    security(("api_key" = [])))]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let key = super::authenticate(&req, &state).await?;
    Ok(json(
        StatusCode::OK,
        &find(&state, &key, id.into_inner()).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRefund {
    /// In kuruş; the whole amount left when absent.
    pub amount: Option<i64>,
    #[serde(default)]
    pub reason: String,
}

/// `POST /api/v1/orders/{id}/refunds`: refunds (part of) the order's payment through PayTR.
/// With an `Idempotency-Key`, a repeated request never refunds twice.
#[utoipa::path(post, path = "/api/v1/orders/{id}/refunds", operation_id = "createRefund", tag = "orders",
    request_body = CreateRefund,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "a retry gets the first answer, never a second refund")),
    responses((status = 201, description = "Refunded (or unknown, settled later)", body = RefundView), (status = 400, description = "Bad JSON or header", content_type = "application/problem+json", body = super::ProblemBody), (status = 401, description = "Missing, unknown, revoked or other-mode key", content_type = "application/problem+json", body = super::ProblemBody), (status = 404, description = "Unknown", content_type = "application/problem+json", body = super::ProblemBody), (status = 409, description = "Conflict", content_type = "application/problem+json", body = super::ProblemBody), (status = 413, description = "Body over 64 KB", content_type = "application/problem+json", body = super::ProblemBody), (status = 422, description = "Invalid fields", content_type = "application/problem+json", body = super::ProblemBody), (status = 429, description = "Rate limited", content_type = "application/problem+json", body = super::ProblemBody), (status = 502, description = "PayTR refused or did not answer", content_type = "application/problem+json", body = super::ProblemBody), (status = 503, description = "Try again", content_type = "application/problem+json", body = super::ProblemBody)),
    security(("api_key" = [])))]
pub async fn create_refund(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let key = super::authenticate(&req, &state).await?;
    let idem = super::idempotency_key(&req)?;
    let (body, raw): (CreateRefund, Vec<u8>) = super::read_json(payload).await?;
    if let Some(k) = idem.clone() {
        let (key_id, raw) = (key.id, raw.clone());
        let replay = state
            .db
            .write(move |conn| {
                diesel::Connection::transaction(conn, |conn| super::claim(conn, key_id, &k, &raw))
            })
            .await?;
        if let Some(replay @ (Replay::Answer(..) | Replay::Conflict)) = replay {
            return super::replay_answer(replay);
        }
    }
    let answer = refund(&state, &key, id.into_inner(), body).await;
    if let Some(k) = idem {
        let (status, text) = match &answer {
            Ok(view) => (201, serde_json::to_string(view).unwrap_or_default()),
            Err(p) => (p.status, serde_json::to_string(&**p).unwrap_or_default()),
        };
        let key_id = key.id;
        state
            .db
            .write(move |conn| super::settle_claim(conn, key_id, &k, status, &text))
            .await?;
    }
    Ok(json(StatusCode::CREATED, &answer?))
}

async fn refund(
    state: &AppState,
    key: &ApiKey,
    id: String,
    body: CreateRefund,
) -> Result<RefundView, Problem> {
    let order = find(state, key, id.clone()).await?;
    if order.status != "paid" {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "not_paid",
            "only a paid order can be refunded",
        ));
    }
    let mode = key.mode.clone();
    let oid = state
        .db
        .read(move |conn| {
            let Some((order, _)) = session_order(conn, &mode, &id)? else {
                return Ok(None);
            };
            Ok(PaymentAttempt::latest_for_order(conn, order.id)?
                .filter(|a| a.status == AttemptStatus::Paid)
                .map(|a| a.merchant_oid))
        })
        .await?
        .and_then(|oid| MerchantOid::parse(&oid).ok())
        .ok_or_else(|| Problem::not_found("order"))?;
    let left = order.amount_total - order.amount_refunded;
    let amount = body.amount.unwrap_or(left);
    let Some(amount) = Money::from_kurus(amount).ok().filter(|m| m.kurus() > 0) else {
        return Err(Problem::invalid(vec![FieldError {
            field: "amount".into(),
            detail: "an amount in kuruş, more than 0".into(),
        }]));
    };
    let reason: String = body.reason.chars().take(200).collect();
    let request = RefundRequest {
        merchant_oid: &oid,
        amount,
        reason: &reason,
        requested_by: &format!("api:{}", key.public_id),
    };
    match crate::refunds::refund(&state.db, &state.paytr, request).await {
        Ok(r) if r.status == RefundStatus::Failed => Err(Problem::new(
            StatusCode::BAD_GATEWAY,
            "paytr_refused",
            format!(
                "PayTR refused the refund: {}",
                r.message.unwrap_or_default()
            ),
        )),
        Ok(r) => Ok(refund_view(&r)),
        Err(RefundRefused::TooMuch { left }) => Err(Problem::new(
            StatusCode::CONFLICT,
            "refund_too_much",
            format!("only {left} can still be refunded"),
        )),
        Err(RefundRefused::Zero) | Err(RefundRefused::NotPaid(_)) => {
            Err(Problem::not_found("paid payment"))
        }
        Err(RefundRefused::Db(e)) => Err(e.into()),
    }
}
