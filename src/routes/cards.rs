//! Saved cards: paying with one (after checking it is the shopper's own), and the account
//! page that lists and deletes them.

use super::ctx::{Ctx, PostForm};
use super::pages::{Layout, message, redirect, render, server_error};
use crate::app_state::AppState;
use crate::cards::{CardView, find, saved_cards, views};
use crate::checkout::{RequestContext, payment_request};
use crate::db::models::{Order, PaymentAttempt, User};
use crate::db::states::{AttemptStatus, OrderStatus};
use crate::db::unix_now;
use crate::domain::year_month;
use crate::paytr::{CardSource, PAYMENT_PATH, PaytrError, StoredCard, Token};
use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

/// The signed-in shopper's full row; otherwise the response to send (log in, or an error).
pub async fn require_user(ctx: &Ctx, state: &AppState) -> Result<User, HttpResponse> {
    let Some(user) = &ctx.user else {
        return Err(redirect("/login"));
    };
    match user.load(state).await {
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(redirect("/login")),
        Err(e) => Err(server_error(ctx, &e)),
    }
}

/// The shopper's utoken, opened from its sealed form.
pub fn utoken_of(state: &AppState, user: &User) -> Option<Token> {
    user.utoken_sealed
        .as_deref()
        .and_then(|s| state.sealer.open(s))
        .map(Token::new)
}

/// The signed-in shopper's cards; `Err` when PayTR could not be asked (shown as "unavailable").
pub async fn cards_of(state: &AppState, user: &User) -> Result<Vec<StoredCard>, PaytrError> {
    let utoken = utoken_of(state, user);
    let result = saved_cards(&state.capi, &state.card_cache, user.id, utoken.as_ref()).await;
    if let Err(e) = &result {
        tracing::warn!(error = %e, "saved cards unavailable");
    }
    result
}

/// Card views for a page, and whether the list could not be fetched.
pub async fn card_views(state: &AppState, user: &User) -> (Vec<CardView>, bool) {
    match cards_of(state, user).await {
        Ok(cards) => (views(&cards, year_month(unix_now())), false),
        Err(_) => (Vec::new(), true),
    }
}

#[derive(Template)]
#[template(path = "pay_saved.html")]
struct HandOffPage {
    layout: Layout,
    action: String,
    hidden: Vec<(&'static str, String)>,
    card: CardView,
    total: String,
}

/// `POST /orders/{id}/saved`: `card` must name one of the signed-in owner's current cards;
/// otherwise nothing is sent to PayTR. The answer is the form for PayTR (with a CVV field only
/// when the card requires one; without, it submits itself).
pub async fn pay_with_saved(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: PostForm,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session).await;
    let user = match require_user(&ctx, &state).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let public_id = id.into_inner();
    if !super::checkout::plausible_order_id(&public_id) {
        return message(&ctx, StatusCode::NOT_FOUND, "not_found", "not_found");
    }
    let found = state
        .db
        .run(move |conn| {
            let Some(order) = Order::find_by_public_id(conn, &public_id)? else {
                return Ok(None);
            };
            let attempt = PaymentAttempt::latest_for_order(conn, order.id)?;
            Ok(attempt.map(|a| (order, a)))
        })
        .await;
    let (order, attempt) = match found {
        Ok(Some(found)) if found.0.user_id == Some(user.id) => found,
        Ok(_) => return message(&ctx, StatusCode::NOT_FOUND, "not_found", "not_found"),
        Err(e) => return server_error(&ctx, &e),
    };
    if attempt.status != AttemptStatus::Pending || order.status == OrderStatus::Paid {
        return redirect(&format!("/orders/{}", order.public_id));
    }
    let cards = match cards_of(&state, &user).await {
        Ok(cards) => cards,
        Err(_) => {
            return message(
                &ctx,
                StatusCode::SERVICE_UNAVAILABLE,
                "saved_cards",
                "cards_unavailable",
            );
        }
    };
    let (Some(card), Some(utoken)) = (find(&cards, form.get("card")), utoken_of(&state, &user))
    else {
        tracing::warn!(
            user = user.id,
            "a card outside the shopper's list was refused"
        );
        return message(&ctx, StatusCode::FORBIDDEN, "saved_cards", "not_your_card");
    };
    let request_ctx = RequestContext {
        public_url: &state.public_url,
        lang: ctx.lang,
        test_mode: state.test_mode,
        debug_on: state.settings.paytr.debug_on,
    };
    let source = CardSource::SavedCard {
        utoken,
        ctoken: card.ctoken.clone(),
        require_cvv: card.require_cvv,
    };
    let fields = match payment_request(&order, &attempt, &request_ctx)
        .and_then(|r| r.form(state.paytr.credentials(), &source))
    {
        Ok(fields) => fields,
        Err(e) => return server_error(&ctx, &e),
    };
    let view = views(std::slice::from_ref(card), year_month(unix_now())).remove(0);
    let page = HandOffPage {
        layout: Layout::new(&ctx, "payment"),
        action: state.paytr.url(PAYMENT_PATH),
        hidden: fields.iter().map(|(n, v)| (n, v.to_owned())).collect(),
        card: view,
        total: format!(
            "{} {}",
            crate::domain::Money::from_kurus(order.total_kurus).unwrap_or_default(),
            order.currency
        ),
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "cards.html")]
struct CardsPage {
    layout: Layout,
    cards: Vec<CardView>,
    unavailable: bool,
    notice: Option<&'static str>,
}

/// `GET /account/cards`.
pub async fn cards_page(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session).await;
    let user = match require_user(&ctx, &state).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let notice = match req.query_string() {
        q if q.contains("deleted=1") => Some("card_deleted"),
        _ => None,
    };
    let (cards, unavailable) = card_views(&state, &user).await;
    render(
        StatusCode::OK,
        &CardsPage {
            layout: Layout::new(&ctx, "my_cards"),
            cards,
            unavailable,
            notice,
        },
    )
}

#[derive(Template)]
#[template(path = "card_delete.html")]
struct DeletePage {
    layout: Layout,
    card: CardView,
    notice: Option<String>,
}

/// A card that pays for a live subscription is not deleted from under it.
async fn backs_subscription(state: &AppState, user_id: i64, reference: &str) -> bool {
    super::subscriptions::cards_backing_subscriptions(state, user_id)
        .await
        .map_or(true, |refs| refs.iter().any(|r| r == reference))
}

async fn own_card(
    state: &AppState,
    user: &User,
    reference: &str,
) -> Result<Option<(StoredCard, CardView)>, PaytrError> {
    let cards = cards_of(state, user).await?;
    let views = views(&cards, year_month(unix_now()));
    Ok(cards
        .iter()
        .zip(views)
        .find(|(_, v)| v.reference == reference)
        .map(|(c, v)| (c.clone(), v)))
}

/// `GET /account/cards/{ref}/delete`: the confirmation step.
pub async fn confirm_delete(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    reference: web::Path<String>,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session).await;
    let user = match require_user(&ctx, &state).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    if backs_subscription(&state, user.id, &reference).await {
        return message(
            &ctx,
            StatusCode::CONFLICT,
            "delete_card",
            "card_backs_subscription",
        );
    }
    match own_card(&state, &user, &reference).await {
        Ok(Some((_, card))) => render(
            StatusCode::OK,
            &DeletePage {
                layout: Layout::new(&ctx, "delete_card"),
                card,
                notice: None,
            },
        ),
        Ok(None) => message(&ctx, StatusCode::NOT_FOUND, "my_cards", "not_your_card"),
        Err(_) => message(
            &ctx,
            StatusCode::SERVICE_UNAVAILABLE,
            "my_cards",
            "cards_unavailable",
        ),
    }
}

/// `POST /account/cards/{ref}/delete`: CAPI DELETE for one of the shopper's own cards.
pub async fn delete_card(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    reference: web::Path<String>,
    _form: PostForm,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session).await;
    let user = match require_user(&ctx, &state).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    if !state.delete_limiter.check(&[&format!("user:{}", user.id)]) {
        return message(&ctx, StatusCode::TOO_MANY_REQUESTS, "my_cards", "too_many");
    }
    if backs_subscription(&state, user.id, &reference).await {
        return message(
            &ctx,
            StatusCode::CONFLICT,
            "delete_card",
            "card_backs_subscription",
        );
    }
    let (card, view) = match own_card(&state, &user, &reference).await {
        Ok(Some(found)) => found,
        Ok(None) => return message(&ctx, StatusCode::FORBIDDEN, "my_cards", "not_your_card"),
        Err(_) => {
            return message(
                &ctx,
                StatusCode::SERVICE_UNAVAILABLE,
                "my_cards",
                "cards_unavailable",
            );
        }
    };
    let Some(utoken) = utoken_of(&state, &user) else {
        return message(&ctx, StatusCode::FORBIDDEN, "my_cards", "not_your_card");
    };
    let result = state.paytr.delete_card(&utoken, &card.ctoken).await;
    state.card_cache.invalidate(user.id);
    let notice = match result {
        Ok(()) => return redirect("/account/cards?deleted=1"),
        Err(PaytrError::Refused(msg)) if msg.contains("Kart yok") => {
            super::i18n::t(ctx.lang, "card_gone").to_owned()
        }
        Err(PaytrError::Refused(msg)) => {
            format!("{} {msg}", super::i18n::t(ctx.lang, "paytr_refused"))
        }
        Err(e) => {
            tracing::warn!(error = %e, "card deletion failed");
            super::i18n::t(ctx.lang, "cards_unavailable").to_owned()
        }
    };
    render(
        StatusCode::BAD_GATEWAY,
        &DeletePage {
            layout: Layout::new(&ctx, "delete_card"),
            card: view,
            notice: Some(notice),
        },
    )
}
