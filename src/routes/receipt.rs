//! A paid order's receipt (`/orders/{id}/receipt`, printable) and the contract its shopper
//! accepted (`/orders/{id}/terms`), both only for the order's owner.

use super::checkout::{LineView, RefundView, Viewer, line_views, load_order, refund_views};
use super::ctx::Ctx;
use super::errors::PageError;
use super::filters::{self, Price};
use super::pages::{Layout, redirect, render};
use crate::app_state::AppState;
use crate::db::models::{Order, PaymentAttempt};
use crate::db::refunds::Refund;
use crate::db::schema::orders;
use crate::db::states::OrderStatus;
use crate::legal::Seller;
use crate::sessions::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use diesel::prelude::*;

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage {
    layout: Layout,
    seller: Seller,
    order_id: String,
    number: String,
    paid_at: i64,
    lines: Vec<LineView>,
    total: Price,
    refunds: Vec<RefundView>,
    /// "VISA •••• 4358" once PayTR's status inquiry named the card.
    card: Option<String>,
    /// Installments and what was collected with their interest (0: a single payment).
    installments: i32,
    collected: Option<Price>,
    full_name: String,
    email: String,
    phone: String,
    address: String,
    terms_accepted_at: Option<i64>,
}

/// `GET /orders/{id}/receipt`: only a paid order has one; anything else goes to its page.
pub async fn receipt_page(
    ctx: Ctx,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let found = load_order(&state, id.into_inner(), Viewer::of(&ctx, &session)).await?;
    let Some((order, attempt, _, _)) = found else {
        return Err(PageError::NotFound);
    };
    if order.status != OrderStatus::Paid {
        return Ok(redirect(&format!("/orders/{}", order.public_id)));
    }
    let order_key = order.id;
    let refunds = state
        .db
        .run(move |conn| Refund::for_order(conn, order_key))
        .await?;
    let (refunds, _) = refund_views(&order, refunds);
    let paid_at = attempt.as_ref().map_or(order.updated_at, |a| a.updated_at);
    let page = ReceiptPage {
        layout: Layout::new(&ctx, "receipt"),
        seller: state.legal.seller.clone(),
        number: order.number(),
        paid_at,
        lines: line_views(&state.catalog, ctx.lang, &order),
        total: Price::new(order.total, order.currency),
        refunds,
        installments: attempt.as_ref().map_or(0, |a| a.installment_count),
        collected: attempt
            .as_ref()
            .and_then(PaymentAttempt::collected)
            .map(|m| Price::new(m, order.currency)),
        card: attempt.and_then(|a| a.card_label),
        terms_accepted_at: order.terms_accepted_at,
        order_id: order.public_id,
        full_name: order.full_name,
        email: order.email,
        phone: order.phone,
        address: order.address,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "legal.html")]
struct AcceptedTermsPage {
    layout: Layout,
    seller: Option<Seller>,
    text: Option<String>,
}

/// `GET /orders/{id}/terms`: the pre-information form and contract exactly as accepted.
pub async fn accepted_terms_page(
    ctx: Ctx,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let found = load_order(&state, id.into_inner(), Viewer::of(&ctx, &session)).await?;
    let Some((order, ..)) = found else {
        return Err(PageError::NotFound);
    };
    let text = accepted_text(&state, &order)
        .await?
        .ok_or(PageError::NotFound)?;
    let page = AcceptedTermsPage {
        layout: Layout::new(&ctx, "terms_title"),
        seller: None,
        text: Some(text),
    };
    Ok(render(StatusCode::OK, &page))
}

/// The contract text kept with `order` (not loaded with every order: it is a few KB).
pub async fn accepted_text(
    state: &AppState,
    order: &Order,
) -> Result<Option<String>, crate::db::DbError> {
    let id = order.id;
    state
        .db
        .run(move |conn| {
            Ok(orders::table
                .find(id)
                .select(orders::terms_text)
                .first::<Option<String>>(conn)
                .optional()?
                .flatten())
        })
        .await
}
