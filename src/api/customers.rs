//! A customer's saved cards through the API: listed (brand, last 4, expiry only) and deleted
//! with CAPI DELETE. A `customer_ref` reaches only the cards of the shopper it maps to.

use super::{ApiKey, Problem, json};
use crate::app_state::AppState;
use crate::db::models::User;
use crate::db::schema::api_customers;
use crate::db::unix_now;
use crate::domain::year_month;
use crate::paytr::PaytrError;
use crate::routes::cards::{cards_of, utoken_of};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CardItem {
    /// Stable for the card while it is saved; what DELETE takes.
    pub id: String,
    #[schema(value_type = String)]
    pub object: &'static str,
    pub brand: String,
    pub last4: String,
    /// `MM/YY`.
    pub expiry: String,
    pub expired: bool,
}

/// The shopper behind `customer_ref` in the key's mode.
async fn customer(state: &AppState, key: &ApiKey, customer_ref: String) -> Result<User, Problem> {
    let mode = key.mode.clone();
    state
        .db
        .read(move |conn| {
            let user_id: Option<i64> = api_customers::table
                .filter(api_customers::mode.eq(&mode))
                .filter(api_customers::customer_ref.eq(&customer_ref))
                .select(api_customers::user_id)
                .get_result(conn)
                .optional()?;
            match user_id {
                Some(id) => crate::accounts::find_user(conn, id),
                None => Ok(None),
            }
        })
        .await?
        .ok_or_else(|| Problem::not_found("customer"))
}

fn unavailable(e: &PaytrError) -> Problem {
    tracing::warn!(error = %e, "card storage unavailable for an API call");
    Problem::new(
        StatusCode::BAD_GATEWAY,
        "paytr_unavailable",
        "PayTR's card storage did not answer; try again",
    )
}

/// `GET /api/v1/customers/{ref}/cards`.
#[utoipa::path(get, path = "/api/v1/customers/{customer_ref}/cards", operation_id = "listCustomerCards", tag = "customers",
    params(("customer_ref" = String, Path), super::ListQuery),
    responses((status = 200, description = "A page of the customer's cards", body = super::List<CardItem>), (status = 422, description = "Invalid fields", content_type = "application/problem+json", body = super::ProblemBody), (status = 401, description = "Missing, unknown, revoked or other-mode key", content_type = "application/problem+json", body = super::ProblemBody), (status = 404, description = "Unknown", content_type = "application/problem+json", body = super::ProblemBody), (status = 429, description = "Rate limited", content_type = "application/problem+json", body = super::ProblemBody), (status = 502, description = "PayTR refused or did not answer", content_type = "application/problem+json", body = super::ProblemBody), (status = 503, description = "Try again", content_type = "application/problem+json", body = super::ProblemBody)),
    security(("api_key" = [])))]
pub async fn list_cards(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<super::ListQuery>,
) -> Result<HttpResponse, Problem> {
    let key = super::authenticate(&req, &state).await?;
    query.limit()?;
    let user = customer(&state, &key, path.into_inner()).await?;
    let cards = if user.utoken_sealed.is_some() {
        cards_of(&state, &user).await.map_err(|e| unavailable(&e))?
    } else {
        Vec::new()
    };
    let data: Vec<CardItem> = crate::cards::views(&cards, year_month(unix_now()))
        .into_iter()
        .map(|v| CardItem {
            id: v.reference,
            object: "card",
            brand: v.scheme,
            last4: v.last_4,
            expiry: v.expiry,
            expired: v.expired,
        })
        .collect();
    let page = query.page_of(data, |c| &c.id, "card")?;
    Ok(json(StatusCode::OK, &page))
}

/// `DELETE /api/v1/customers/{ref}/cards/{id}`: deleted at PayTR; `card.deleted` is sent.
#[utoipa::path(delete, path = "/api/v1/customers/{customer_ref}/cards/{card}", operation_id = "deleteCustomerCard", tag = "customers",
    params(("customer_ref" = String, Path), ("card" = String, Path, description = "a card's id from the list")),
    responses((status = 204, description = "Deleted at PayTR"), (status = 401, description = "Missing, unknown, revoked or other-mode key", content_type = "application/problem+json", body = super::ProblemBody), (status = 404, description = "Unknown", content_type = "application/problem+json", body = super::ProblemBody), (status = 409, description = "Conflict", content_type = "application/problem+json", body = super::ProblemBody), (status = 429, description = "Rate limited", content_type = "application/problem+json", body = super::ProblemBody), (status = 502, description = "PayTR refused or did not answer", content_type = "application/problem+json", body = super::ProblemBody), (status = 503, description = "Try again", content_type = "application/problem+json", body = super::ProblemBody)),
    security(("api_key" = [])))]
pub async fn delete_card(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let key = super::authenticate(&req, &state).await?;
    let (customer_ref, reference) = path.into_inner();
    let user = customer(&state, &key, customer_ref.clone()).await?;
    let (uid, sealer, wanted) = (user.id, state.sealer.clone(), reference.clone());
    let backs = state
        .db
        .run(move |conn| crate::cards::backs_a_subscription(conn, &sealer, uid, &wanted))
        .await?;
    if backs {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "card_backs_subscription",
            "this card pays for a live subscription; cancel it or change its card first",
        ));
    }
    let (Some(utoken), true) = (utoken_of(&state, &user), user.utoken_sealed.is_some()) else {
        return Err(Problem::not_found("card"));
    };
    let cards = cards_of(&state, &user).await.map_err(|e| unavailable(&e))?;
    let Some(card) = crate::cards::find(&cards, &reference) else {
        return Err(Problem::not_found("card"));
    };
    let result = state.paytr.delete_card(&utoken, &card.ctoken).await;
    state.card_cache.invalidate(user.id);
    let mode = key.mode.clone();
    let deleted = result.is_ok();
    state
        .db
        .write(move |conn| {
            crate::cards::bump_version(conn, uid)?;
            if deleted {
                let data = serde_json::json!({ "customer_ref": customer_ref, "card": reference });
                super::webhooks::enqueue(conn, &mode, "card.deleted", &customer_ref, &data)?;
            }
            Ok(())
        })
        .await?;
    match result {
        Ok(()) => Ok(HttpResponse::NoContent().finish()),
        Err(PaytrError::Refused(msg)) if msg.contains("Kart yok") => {
            Err(Problem::not_found("card"))
        }
        Err(PaytrError::Refused(msg)) => Err(Problem::new(
            StatusCode::BAD_GATEWAY,
            "paytr_refused",
            format!("PayTR refused the deletion: {msg}"),
        )),
        Err(e) => Err(unavailable(&e)),
    }
}
