//! Saved cards: paying with one (after checking it is the shopper's own), and the account
//! page that lists and deletes them.

use super::ctx::{Ctx, PostForm, SignedIn};
use super::errors::PageError;
use super::filters::{self, Price};
use super::pages::{Layout, redirect, render};
use crate::app_state::AppState;
use crate::cards::{CardView, find, saved_cards, views};
use crate::checkout::payment_request;
use crate::db::models::{CardHolder, Order, PaymentAttempt, User};
use crate::db::states::{AttemptStatus, OrderStatus};
use crate::db::unix_now;
use crate::domain::year_month;
use crate::paytr::{CardSource, PAYMENT_PATH, PaytrError, StoredCard, Token};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

/// The shopper's utoken, opened from its sealed form.
pub fn utoken_of(state: &AppState, user: &impl CardHolder) -> Option<Token> {
    let sealed = user.utoken_sealed()?;
    state.card_cache.utoken(sealed, |s| state.sealer.open(s))
}

/// The signed-in shopper's cards; `Err` when PayTR could not be asked (shown as "unavailable").
pub async fn cards_of(
    state: &AppState,
    user: &impl CardHolder,
) -> Result<Vec<StoredCard>, PaytrError> {
    let utoken = utoken_of(state, user);
    let result = saved_cards(
        &state.capi,
        &state.card_cache,
        user.id(),
        Some(user.cards_version()),
        utoken.as_ref(),
    )
    .await;
    if let Err(e) = &result {
        tracing::warn!(error = %e, "saved cards unavailable");
    }
    result
}

/// The shopper's card views if the card cache holds a fresh list (no PayTR call; for a read
/// that wants them inside its transaction).
pub fn cached_card_views(
    state: &AppState,
    user: &impl CardHolder,
) -> Option<crate::cards::SharedViews> {
    // Whether there is a utoken at all (the caller opens it when it needs it).
    user.utoken_sealed()?;
    state
        .card_cache
        .views(user.id(), user.cards_version(), year_month(unix_now()))
}

/// Card views for a page, and whether the list could not be fetched.
pub async fn card_views(state: &AppState, user: &impl CardHolder) -> (Vec<CardView>, bool) {
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
    total: Price,
}

/// The signed-in shopper's cards, or the page saying PayTR's list is unavailable.
async fn own_cards(
    state: &AppState,
    user: &User,
    heading: &'static str,
) -> Result<Vec<StoredCard>, PageError> {
    cards_of(state, user)
        .await
        .map_err(|_| PageError::unavailable(heading, "cards_unavailable"))
}

/// The shopper's own order `public_id` with its latest attempt; a stranger's is not found.
async fn own_order(
    state: &AppState,
    user: &User,
    public_id: String,
) -> Result<(Order, PaymentAttempt), PageError> {
    if !super::checkout::plausible_order_id(&public_id) {
        return Err(PageError::NotFound);
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
        .await?;
    found
        .filter(|(order, _)| order.user_id == Some(user.id))
        .ok_or(PageError::NotFound)
}

/// `POST /orders/{id}/saved`: `card` must name one of the signed-in owner's current cards;
/// otherwise nothing is sent to PayTR. The answer is the form for PayTR (with a CVV field only
/// when the card requires one; without, it submits itself).
pub async fn pay_with_saved(
    ctx: Ctx,
    SignedIn(user): SignedIn,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: PostForm,
) -> Result<HttpResponse, PageError> {
    let (order, attempt) = own_order(&state, &user, id.into_inner()).await?;
    if attempt.status != AttemptStatus::Pending || order.status == OrderStatus::Paid {
        return Ok(redirect(&format!("/orders/{}", order.public_id)));
    }
    let cards = own_cards(&state, &user, "saved_cards").await?;
    let (Some(card), Some(utoken)) = (find(&cards, form.get("card")), utoken_of(&state, &user))
    else {
        tracing::warn!(
            user = user.id,
            "a card outside the shopper's list was refused"
        );
        let status = StatusCode::FORBIDDEN;
        return Err(PageError::refused(status, "saved_cards", "not_your_card"));
    };
    let source = CardSource::SavedCard {
        utoken,
        ctoken: card.ctoken.clone(),
        require_cvv: card.require_cvv,
    };
    let view = views(std::slice::from_ref(card), year_month(unix_now())).remove(0);
    // Installments chosen for this card: recomputed here from the order, the card's family (from
    // PayTR's own card list) and the stored rates; anything else is refused.
    let count: u8 = form
        .get(&format!("installments_{}", view.reference))
        .parse()
        .unwrap_or(0);
    let mut request = payment_request(&order, &attempt, &state.request_context(ctx.lang))?;
    let mut card_type = None;
    if count > 0 {
        let (settings, family, business, total, attempt_id) = (
            state.settings.installments.clone(),
            view.family.clone(),
            // Business and debit cards are paid in one go.
            view.business || view.debit,
            order.total,
            attempt.id,
        );
        let offer = state
            .db
            .write(move |conn| {
                let offers =
                    crate::installments::options(conn, &settings, &family, business, total)?;
                let offer = offers.into_iter().find(|o| o.count == count);
                if let Some(offer) = &offer {
                    crate::installments::record_offer(conn, attempt_id, &family, offer)?;
                }
                Ok(offer)
            })
            .await?;
        let Some(offer) = offer else {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return Err(PageError::refused(
                status,
                "payment",
                "installment_unavailable",
            ));
        };
        request.amount = offer.total;
        request.installment_count = crate::paytr::types::InstallmentCount::new(count)?;
        card_type = Some(view.family.clone());
    }
    let total = super::filters::Price::new(request.amount, order.currency);
    let fields = request.form(state.paytr.credentials(), &source)?;
    let mut hidden: Vec<(&str, String)> = fields.iter().map(|(n, v)| (n, v.to_owned())).collect();
    if let Some(family) = card_type {
        hidden.push(("card_type", family));
    }
    let page = HandOffPage {
        layout: Layout::new(&ctx, "payment"),
        action: state.paytr.url(PAYMENT_PATH),
        hidden,
        card: view,
        total,
    };
    Ok(state.payment_page(render(StatusCode::OK, &page)))
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
    ctx: Ctx,
    SignedIn(user): SignedIn,
    state: web::Data<AppState>,
) -> HttpResponse {
    let notice = req
        .query_string()
        .contains("deleted=1")
        .then_some("card_deleted");
    let (cards, unavailable) = card_views(&state, &user).await;
    let page = CardsPage {
        layout: Layout::new(&ctx, "my_cards"),
        cards,
        unavailable,
        notice,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "card_delete.html")]
struct DeletePage {
    layout: Layout,
    card: CardView,
    notice: Option<String>,
}

/// The shopper's card `reference`, if it may be deleted: theirs, and not paying for a live
/// subscription.
async fn deletable_card(
    state: &AppState,
    user: &User,
    reference: &str,
    not_yours: StatusCode,
) -> Result<(StoredCard, CardView), PageError> {
    let (uid, sealer, wanted) = (user.id, state.sealer.clone(), reference.to_owned());
    let backs = state
        .db
        .run(move |conn| crate::cards::backs_a_subscription(conn, &sealer, uid, &wanted))
        .await?;
    if backs {
        return Err(PageError::refused(
            StatusCode::CONFLICT,
            "delete_card",
            "card_backs_subscription",
        ));
    }
    let cards = own_cards(state, user, "my_cards").await?;
    let views = views(&cards, year_month(unix_now()));
    cards
        .into_iter()
        .zip(views)
        .find(|(_, v)| v.reference == reference)
        .ok_or_else(|| PageError::refused(not_yours, "my_cards", "not_your_card"))
}

/// `GET /account/cards/{ref}/delete`: the confirmation step.
pub async fn confirm_delete(
    ctx: Ctx,
    SignedIn(user): SignedIn,
    state: web::Data<AppState>,
    reference: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let (_, card) = deletable_card(&state, &user, &reference, StatusCode::NOT_FOUND).await?;
    let page = DeletePage {
        layout: Layout::new(&ctx, "delete_card"),
        card,
        notice: None,
    };
    Ok(render(StatusCode::OK, &page))
}

/// `POST /account/cards/{ref}/delete`: CAPI DELETE for one of the shopper's own cards.
pub async fn delete_card(
    ctx: Ctx,
    SignedIn(user): SignedIn,
    state: web::Data<AppState>,
    reference: web::Path<String>,
    _form: PostForm,
) -> Result<HttpResponse, PageError> {
    if !state
        .delete_limiter
        .check(&[&format!("user:{}", user.id)])
        .await
    {
        return Err(PageError::refused(
            StatusCode::TOO_MANY_REQUESTS,
            "my_cards",
            "too_many",
        ));
    }
    let (card, view) = deletable_card(&state, &user, &reference, StatusCode::FORBIDDEN).await?;
    let Some(utoken) = utoken_of(&state, &user) else {
        return Err(PageError::refused(
            StatusCode::FORBIDDEN,
            "my_cards",
            "not_your_card",
        ));
    };
    let result = state.paytr.delete_card(&utoken, &card.ctoken).await;
    // Stale on every instance at once (also when the answer was lost: the list is asked again).
    state.card_cache.invalidate(user.id);
    let uid = user.id;
    if let Err(e) = state
        .db
        .write(move |conn| crate::cards::bump_version(conn, uid))
        .await
    {
        tracing::warn!(error = %e, "could not mark the card list changed");
    }
    let notice = match result {
        Ok(()) => {
            // The shopper is told, in their language (a deletion they did not make is news).
            let label = format!("{} •••• {}", view.scheme, view.last_4);
            let (mail, to, lang) = (
                state.mail.clone(),
                user.email.clone(),
                crate::mail::lang_of(&user.lang),
            );
            let queued = state
                .db
                .write(move |conn| {
                    crate::mail::enqueue(conn, &crate::mail::card_deleted(&mail, lang, &to, &label))
                })
                .await;
            if let Err(e) = queued {
                tracing::error!(error = %e, "the card-deleted e-mail was not queued");
            }
            return Ok(redirect("/account/cards?deleted=1"));
        }
        Err(e) => deletion_failure(ctx.lang, e),
    };
    let page = DeletePage {
        layout: Layout::new(&ctx, "delete_card"),
        card: view,
        notice: Some(notice),
    };
    Ok(render(StatusCode::BAD_GATEWAY, &page))
}

/// PayTR's answer to a deletion, in plain words.
fn deletion_failure(lang: crate::domain::Lang, error: PaytrError) -> String {
    match error {
        PaytrError::Refused(msg) if msg.contains("Kart yok") => {
            super::i18n::t(lang, "card_gone").to_owned()
        }
        PaytrError::Refused(msg) => format!("{} {msg}", super::i18n::t(lang, "paytr_refused")),
        e => {
            tracing::warn!(error = %e, "card deletion failed");
            super::i18n::t(lang, "cards_unavailable").to_owned()
        }
    }
}
