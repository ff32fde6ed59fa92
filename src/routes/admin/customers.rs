//! Customers: the list, and a customer's page with orders, subscriptions and (on demand, from
//! CAPI LIST) their saved cards' brand, last 4 digits and expiry. Never a utoken or ctoken.

use super::orders::OrderLine;
use super::subscriptions::SubscriptionLine;
use super::{AdminLayout, Staff, audit_action};
use crate::app_state::AppState;
use crate::db::backoffice;
use crate::db::models::User;
use crate::db::subscriptions::Subscription;
use crate::routes::errors::PageError;
use crate::routes::filters;
use crate::routes::pages::render;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

const PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "admin/customers.html")]
struct ListPage {
    layout: AdminLayout,
    q: String,
    customers: Vec<User>,
    next: Option<i64>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    before: Option<i64>,
}

/// `GET /admin/customers`.
pub async fn list(
    staff: Staff,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let q = query.q.trim().to_owned();
    let (email, before) = (Some(q.clone()).filter(|q| !q.is_empty()), query.before);
    let mut rows = state
        .db
        .run(move |conn| backoffice::customers_page(conn, email.as_deref(), before, PAGE + 1))
        .await?;
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    let page = ListPage {
        layout: AdminLayout::new(&staff, "adm_customers", "customers"),
        q,
        next: more.then(|| rows.last().map(|u| u.id)).flatten(),
        customers: rows,
    };
    Ok(render(StatusCode::OK, &page))
}

/// A saved card as staff see it: what the shopper sees, nothing more.
pub struct CardLine {
    pub schema: String,
    pub last_4: String,
    pub expiry: String,
}

#[derive(Template)]
#[template(path = "admin/customer.html")]
struct CustomerPage {
    layout: AdminLayout,
    customer: User,
    orders: Vec<OrderLine>,
    subscriptions: Vec<SubscriptionLine>,
    /// `None` until asked for; `Some(Err(()))` when PayTR could not answer.
    cards: Option<Result<Vec<CardLine>, ()>>,
    has_cards: bool,
}

#[derive(Deserialize)]
pub struct PageQuery {
    cards: Option<String>,
}

/// `GET /admin/customers/{id}` (`?cards=1` asks PayTR for the saved cards).
pub async fn page(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let found = state
        .db
        .run(move |conn| {
            let Some(user) = crate::accounts::find_user(conn, id)? else {
                return Ok(None);
            };
            let orders = backoffice::orders_of(conn, id)?;
            let subscriptions = Subscription::list_for_user(conn, id)?;
            Ok(Some((user, orders, subscriptions)))
        })
        .await?;
    let Some((customer, orders, subscriptions)) = found else {
        return Ok(super::message(
            staff.0.lang,
            StatusCode::NOT_FOUND,
            "adm_not_found",
            "adm_not_found_text",
        ));
    };
    let cards = match (&query.cards, &customer.utoken_sealed) {
        (Some(_), Some(sealed)) => {
            audit_action(
                &state,
                &req,
                &staff,
                "customer_cards",
                format!("customer:{id}"),
                String::new(),
            )
            .await;
            Some(saved_cards(&state, sealed).await)
        }
        (Some(_), None) => Some(Ok(Vec::new())),
        _ => None,
    };
    let page = CustomerPage {
        layout: AdminLayout::new(&staff, "adm_customer", "customers"),
        has_cards: customer.utoken_sealed.is_some(),
        orders: orders.iter().map(OrderLine::of).collect(),
        subscriptions: subscriptions.iter().map(SubscriptionLine::of).collect(),
        customer,
        cards,
    };
    Ok(render(StatusCode::OK, &page))
}

async fn saved_cards(state: &AppState, sealed: &str) -> Result<Vec<CardLine>, ()> {
    let utoken = state.sealer.open(sealed).ok_or(())?;
    let cards = state
        .capi
        .list_cards(&crate::paytr::Token::new(utoken))
        .await
        .map_err(|e| tracing::warn!(error = %e, "CAPI LIST for the back office failed"))?;
    Ok(cards
        .into_iter()
        .map(|c| CardLine {
            schema: c.schema,
            last_4: c.last_4,
            expiry: format!("{}/{}", c.month, c.year),
        })
        .collect())
}
