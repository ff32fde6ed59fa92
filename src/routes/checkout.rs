//! Billing, the payment page (whose form posts straight to PayTR), coming back from PayTR,
//! and the order page.

use super::ctx::keys;
use super::ctx::{Ctx, PostForm, ip_bucket, parse_form_refusing_card_data};
use super::errors::PageError;
use super::filters::{self, Price};
use super::i18n::field_errors;
use super::pages::{Layout, redirect, render};
use super::shop::{CartRow, cart_rows, session_cart};
use crate::app_state::AppState;
use crate::checkout::{
    AcceptedTerms, Billing, payment_request, place_order, price_cart, retry_order,
};
use crate::db::models::{Order, PaymentAttempt};
use crate::db::refunds::Refund;
use crate::db::states::{AttemptStatus, OrderStatus, RefundStatus};
use crate::domain::Money;
use crate::paytr::{Basket, CardSource, PAYMENT_PATH};
use crate::sessions::Session;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The billing form's values as typed (kept in the session to prefill the next form).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BillingValues {
    pub full_name: String,
    pub email: String,
    pub phone: String,
    pub address: String,
}

impl BillingValues {
    pub fn from_form(form: &PostForm) -> Self {
        Self {
            full_name: form.get("full_name").to_owned(),
            email: form.get("email").to_owned(),
            phone: form.get("phone").to_owned(),
            address: form.get("address").to_owned(),
        }
    }

    /// The last values from the session, with the shopper's name and e-mail filled in.
    pub fn remembered(session: &Session, user: Option<&super::ctx::SessionUser>) -> Self {
        let mut values: Self = session
            .get(keys::BILLING)
            .ok()
            .flatten()
            .unwrap_or_default();
        if let Some(user) = user {
            if values.email.is_empty() {
                values.email = user.email.clone();
            }
            if values.full_name.is_empty() {
                values.full_name = user.full_name.clone();
            }
        }
        values
    }

    /// The phone and address the shopper's account kept from their last order, where the
    /// form has none yet.
    pub fn with_saved(mut self, user: &crate::db::models::User) -> Self {
        if self.phone.is_empty() {
            self.phone = user.phone.clone();
        }
        if self.address.is_empty() {
            self.address = user.address.clone();
        }
        self
    }

    pub fn parse(&self) -> Result<Billing, Vec<crate::domain::ValidationError>> {
        Billing::parse(&self.full_name, &self.email, &self.phone, &self.address)
    }
}

#[derive(Template)]
#[template(path = "checkout.html")]
struct CheckoutPage {
    layout: Layout,
    rows: Vec<CartRow>,
    total: Price,
    values: BillingValues,
    errors: HashMap<&'static str, &'static str>,
    notice: Option<&'static str>,
    guest: bool,
    /// The pre-information form and contract, filled with the cart and the typed details.
    terms: String,
    accepted: bool,
}

/// The pre-information form and contract for `lines` ("Seramik kupa × 2: 360,00 TL") bought by
/// the shopper of `values`, as shown and as stored with the order once accepted.
pub fn terms_for(
    state: &AppState,
    lang: crate::domain::Lang,
    values: &BillingValues,
    lines: Vec<String>,
    total: Price,
) -> AcceptedTerms {
    let buyer = crate::legal::Party {
        name: values.full_name.clone(),
        address: crate::checkout::one_line(&values.address),
        phone: values.phone.clone(),
        email: values.email.clone(),
    };
    let deal = crate::legal::Deal {
        lines,
        total: filters::format_money(total.amount, total.currency, lang),
        date: filters::format_day(crate::db::unix_now(), lang),
    };
    AcceptedTerms {
        version: state.legal.terms_version(lang),
        text: state.legal.terms(lang, &buyer, &deal),
        lang,
    }
}

fn cart_terms(
    state: &AppState,
    lang: crate::domain::Lang,
    values: &BillingValues,
    rows: &[CartRow],
    total: Price,
) -> AcceptedTerms {
    let lines = rows
        .iter()
        .map(|r| {
            let amount = filters::format_money(r.total.amount, r.total.currency, lang);
            format!("{} × {}: {amount}", r.name, r.quantity)
        })
        .collect();
    terms_for(state, lang, values, lines, total)
}

/// Whether the shopper ticked "I accept the pre-information form and the contract".
pub fn terms_accepted(form: &PostForm) -> bool {
    form.get("accept_terms") == "1"
}

/// A posted billing form: its values, whether the terms box was ticked, and the parsed details
/// or the errors to show beside their fields.
pub fn posted_billing(
    lang: crate::domain::Lang,
    form: &PostForm,
) -> (
    BillingValues,
    bool,
    Result<Billing, HashMap<&'static str, &'static str>>,
) {
    let values = BillingValues::from_form(form);
    let accepted = terms_accepted(form);
    let parsed = match values.parse() {
        Ok(billing) if accepted => Ok(billing),
        parsed => {
            let mut errors = match parsed {
                Err(errors) => field_errors(lang, &errors),
                Ok(_) => HashMap::new(),
            };
            if !accepted {
                errors.insert("accept_terms", super::i18n::t(lang, "terms_required"));
            }
            Err(errors)
        }
    };
    (values, accepted, parsed)
}

/// A billing form as typed: its values, their errors, and whether the terms box was ticked.
struct Typed {
    values: BillingValues,
    errors: HashMap<&'static str, &'static str>,
    accepted: bool,
}

fn checkout_page(
    ctx: &Ctx,
    state: &AppState,
    session: &Session,
    form: Typed,
    notice: Option<&'static str>,
) -> HttpResponse {
    let (lines, total) = price_cart(&state.catalog, &session_cart(session));
    if lines.is_empty() {
        return redirect("/cart");
    }
    let currency = state.catalog.currency;
    let Typed { values, errors, .. } = &form;
    let status = if errors.is_empty() && notice.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let rows = cart_rows(&lines, ctx.lang, currency);
    let total = Price::new(total, currency);
    let terms = cart_terms(state, ctx.lang, values, &rows, total).text;
    let page = CheckoutPage {
        layout: Layout::new(ctx, "billing"),
        rows,
        total,
        accepted: form.accepted,
        values: form.values,
        errors: form.errors,
        notice,
        guest: ctx.user.is_none(),
        terms,
    };
    render(status, &page)
}

pub async fn checkout_form(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session);
    let mut values = BillingValues::remembered(&session, ctx.user.as_ref());
    if let Some(user) = &ctx.user
        && let Ok(Some(user)) = user.load(&state).await
    {
        values = values.with_saved(&user);
    }
    let form = Typed {
        values,
        errors: HashMap::new(),
        accepted: false,
    };
    checkout_page(&ctx, &state, &session, form, None)
}

pub async fn submit_checkout(
    req: HttpRequest,
    ctx: Ctx,
    session: Session,
    state: web::Data<AppState>,
    form: PostForm,
) -> Result<HttpResponse, PageError> {
    let (values, accepted, parsed) = posted_billing(ctx.lang, &form);
    let billing = match parsed {
        Ok(billing) => billing,
        Err(errors) => {
            let form = Typed {
                values,
                errors,
                accepted,
            };
            return Ok(checkout_page(
                &ctx,
                &state,
                &session,
                form,
                Some("fix_errors"),
            ));
        }
    };
    let ip = super::ctx::payment_ip(&req, &state)?;
    if !state.payment_limiter.check(&[&ip_bucket(&ip)]).await {
        let form = Typed {
            values,
            errors: HashMap::new(),
            accepted,
        };
        return Ok(checkout_page(
            &ctx,
            &state,
            &session,
            form,
            Some("too_many"),
        ));
    }
    let (lines, total) = price_cart(&state.catalog, &session_cart(&session));
    if lines.is_empty() {
        return Ok(redirect("/cart"));
    }
    let (user_id, currency) = (ctx.user.as_ref().map(|u| u.id), state.catalog.currency);
    let rows = cart_rows(&lines, ctx.lang, currency);
    let terms = cart_terms(
        &state,
        ctx.lang,
        &values,
        &rows,
        Price::new(total, currency),
    );
    let (order, attempt) = state
        .db
        .write(move |conn| {
            let placed = place_order(conn, user_id, &billing, &lines, currency, ip, Some(&terms));
            Ok(placed)
        })
        .await??;
    tracing::info!(order = %order.public_id, merchant_oid = %attempt.merchant_oid, "order placed");
    Ok(after_order_placed(&session, &values, &order))
}

/// The session after an order is placed: billing values kept, a guest's order remembered as
/// theirs, the cart kept until that order is paid (so "back" and a failed payment find it);
/// the answer is the payment page.
fn after_order_placed(session: &Session, values: &BillingValues, order: &Order) -> HttpResponse {
    let _ = session.insert(keys::BILLING, values);
    if order.user_id.is_none() {
        remember_guest_order(session, &order.public_id);
    }
    let _ = session.insert(keys::CART_ORDER, &order.public_id);
    redirect(&format!("/orders/{}/pay", order.public_id))
}

/// The order, its latest attempt, the owner's row, and the subscription it starts, if any.
type OrderRows = (
    Order,
    Option<PaymentAttempt>,
    Option<crate::db::models::CardOwner>,
    Option<crate::db::subscriptions::SubscriptionTerms>,
);

/// How many guest orders a session remembers (the most recent ones).
const GUEST_ORDERS_KEPT: usize = 20;

/// Remembers that this session placed the guest order `public_id`: it is the guest's proof of
/// ownership.
pub fn remember_guest_order(session: &Session, public_id: &str) {
    let mut orders = guest_orders(session);
    orders.retain(|o| o != public_id);
    orders.push(public_id.to_owned());
    let excess = orders.len().saturating_sub(GUEST_ORDERS_KEPT);
    orders.drain(..excess);
    let _ = session.insert(super::ctx::keys::GUEST_ORDERS, orders);
}

/// The guest orders this session placed.
pub fn guest_orders(session: &Session) -> Vec<String> {
    session
        .get(super::ctx::keys::GUEST_ORDERS)
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Who is asking for an order: the signed-in shopper, and the guest orders of this session.
pub struct Viewer {
    user_id: Option<i64>,
    guest_orders: Vec<String>,
    /// Orders of API checkout sessions whose URL this browser opened.
    hosted_orders: Vec<String>,
}

impl Viewer {
    pub fn of(ctx: &Ctx, session: &Session) -> Self {
        Self {
            user_id: ctx.user.as_ref().map(|u| u.id),
            guest_orders: guest_orders(session),
            hosted_orders: super::hosted::hosted_orders(session),
        }
    }

    /// Whether this browser holds `public_id` as a hosted checkout's order.
    pub fn hosted(&self, public_id: &str) -> bool {
        self.hosted_orders.iter().any(|o| o == public_id)
    }

    /// A shopper's order belongs to that shopper's account; a guest order to the session that
    /// placed it; a hosted checkout's order to the browser that opened the session's URL.
    /// Anyone else is answered as for an unknown id.
    pub fn owns(&self, order: &Order) -> bool {
        let hosted = self.hosted_orders.contains(&order.public_id);
        match order.user_id {
            Some(owner) => self.user_id == Some(owner) || hosted,
            None => self.guest_orders.contains(&order.public_id) || hosted,
        }
    }
}

/// Whether `id` can be one of our order ids (letters and digits); anything else is a 404
/// without a database trip (and never reaches a header).
pub fn plausible_order_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The order, its latest attempt and the owner's row, in one trip; `None` unless `viewer` owns
/// the order.
pub async fn load_order(
    state: &AppState,
    public_id: String,
    viewer: Viewer,
) -> Result<Option<OrderRows>, crate::db::DbError> {
    if !plausible_order_id(&public_id) {
        return Ok(None);
    }
    let found = state
        .db
        .read(move |conn| order_rows(conn, &public_id, &viewer))
        .await?;
    Ok(found.map(|(rows, _)| rows))
}

/// [`load_order`]'s reads, for a caller that reads more in the same transaction.
/// With the installment rates' version (read in the same statement).
fn order_rows(
    conn: &mut crate::db::DbConnection,
    public_id: &str,
    viewer: &Viewer,
) -> Result<Option<(OrderRows, Option<String>)>, crate::db::DbError> {
    let Some((order, attempt, owner, starts, rates_version)) = Order::with_rows(conn, public_id)?
    else {
        return Ok(None);
    };
    if !viewer.owns(&order) {
        return Ok(None);
    }
    Ok(Some(((order, attempt, owner, starts), rates_version)))
}

/// Installment options of each saved card that may have some (by card reference).
type SavedOffers = Vec<(String, Vec<crate::installments::Offer>)>;

/// `rates_version`: the installment rates' version if the caller read it already.
fn saved_offers(
    conn: &mut crate::db::DbConnection,
    settings: &crate::config::InstallmentSettings,
    saved: &[crate::cards::CardView],
    total: crate::domain::Money,
    rates_version: Option<&str>,
) -> Result<SavedOffers, crate::db::DbError> {
    let cards: Vec<(&crate::cards::CardView, (&str, bool))> = saved
        .iter()
        .filter(|c| !c.expired && !c.family.is_empty())
        // Business and debit cards are paid in one go.
        .map(|c| (c, (c.family.as_str(), c.business || c.debit)))
        .collect();
    if !settings.enabled || cards.is_empty() {
        return Ok(Vec::new());
    }
    let wanted: Vec<(&str, bool)> = cards.iter().map(|(_, w)| *w).collect();
    let offers =
        crate::installments::options_for_cards(conn, settings, &wanted, total, rates_version)?;
    Ok(cards
        .into_iter()
        .map(|(c, _)| c.reference.clone())
        .zip(offers)
        .collect())
}

#[derive(Template)]
#[template(path = "pay.html")]
struct PayPage<'a> {
    layout: Layout,
    order_id: String,
    total: Price,
    action: String,
    hidden: Vec<(&'static str, std::borrow::Cow<'a, str>)>,
    offer_save: bool,
    /// A subscription's first payment: the card is always saved, with a new card.
    subscription: bool,
    /// What the shopper agrees to: plan, amount per interval, next charge date.
    recurring_terms: Option<String>,
    saved: crate::cards::SharedViews,
    cards_unavailable: bool,
    /// A hosted checkout's way back to the merchant.
    cancel_url: Option<String>,
    number: String,
    lines: Vec<LineView>,
    /// "305,50 TL öde · •••• 4358": the primary action, for the card selected first.
    saved_button: String,
    /// Whether the script may offer installments (a plain order, the setting on).
    installments: bool,
    /// Installment choices per saved card (by reference), for its family: count and words.
    saved_installments: HashMap<String, std::sync::Arc<Vec<(u8, super::i18n::EscapedText)>>>,
}

/// The payment page's rows: the order's, its latest attempt's, the owner's and a
/// subscription's terms, and, when the owner's card list is cached, every saved card's
/// installment options. Not yet checked against the viewer: the caller does that.
type PayReads = Option<(
    OrderRows,
    Option<crate::cards::SharedViews>,
    Option<SavedOffers>,
)>;

/// The owner's saved cards as cached now, for a plain order (a subscription's first payment
/// always takes a new card).
fn owner_card_views(
    state: &AppState,
    owner: &Option<crate::db::models::CardOwner>,
    starts: &Option<crate::db::subscriptions::SubscriptionTerms>,
) -> Option<crate::cards::SharedViews> {
    match (owner, starts) {
        (Some(user), None) => super::cards::cached_card_views(state, user),
        _ => None,
    }
}

fn pay_reads(
    conn: &mut crate::db::DbConnection,
    state: &AppState,
    public_id: &str,
) -> Result<PayReads, crate::db::DbError> {
    let Some((order, attempt, owner, starts, rates_version)) = Order::with_rows(conn, public_id)?
    else {
        return Ok(None);
    };
    let cached = owner_card_views(state, &owner, &starts);
    let offers = match &cached {
        Some(saved) => Some(saved_offers(
            conn,
            &state.settings.installments,
            saved,
            order.total,
            // None (no row) reads as "no version", as a read of its own would.
            Some(rates_version.as_deref().unwrap_or_default()),
        )?),
        None => None,
    };
    Ok(Some(((order, attempt, owner, starts), cached, offers)))
}

thread_local! {
    /// Payment pages' rows this worker read recently (`db::recent`), by the order's public id.
    static RECENT_PAY_READS: std::cell::RefCell<crate::db::recent::Recent<PayReads>> =
        const { std::cell::RefCell::new(crate::db::recent::Recent::new()) };
}

/// On SQLite, [`pay_reads`] as a request made them a moment ago, if nothing was written since
/// and the owner's card list is still the one they were made with; else the stamp to keep the
/// next read's rows under. The rows are checked against the viewer as rows just read.
fn recent_pay_reads(
    state: &AppState,
    public_id: &str,
) -> Result<PayReads, Option<crate::db::recent::Stamp>> {
    let Some(now) = state.db.read_stamp() else {
        return Err(None);
    };
    let kept = RECENT_PAY_READS.with_borrow(|kept| kept.get(public_id, &now));
    let same_cards = |found: &PayReads| match found {
        Some(((_, _, owner, starts), kept_views, _)) => {
            match (&owner_card_views(state, owner, starts), kept_views) {
                (None, None) => true,
                (Some(a), Some(b)) => std::sync::Arc::ptr_eq(a, b),
                _ => false,
            }
        }
        None => true,
    };
    match kept {
        Some(found) if same_cards(&found) => {
            crate::db::recent::count("payment_page", true);
            Ok(found)
        }
        _ => Err(Some(now)),
    }
}

/// Keeps an order's rows just read under the stamp taken before reading them.
fn keep_pay_reads(
    public_id: &str,
    stamp: Option<crate::db::recent::Stamp>,
    found: PayReads,
) -> PayReads {
    // An unknown order is not kept (a stranger's guesses would push out the shoppers' rows).
    if let (Some(stamp), Some(_)) = (stamp, &found) {
        crate::db::recent::count("payment_page", false);
        RECENT_PAY_READS.with_borrow_mut(|kept| kept.put(public_id, stamp, found.clone()));
    }
    found
}

/// [`pay_reads`] made early, for one order.
struct PrefetchedPay {
    public_id: String,
    found: PayReads,
}

/// On PostgreSQL, a payment page's reads made on the blocking thread that loads the session's
/// row, right after it: one hand-off to a blocking thread (and one pool checkout) for the page
/// instead of two. Nothing is decided from them before the handler checks who is asking. On
/// SQLite reads need no hand-off: `None`.
pub fn prefetch_pay_page(
    state: web::Data<AppState>,
) -> impl Fn(&actix_web::dev::ServiceRequest) -> Option<crate::sessions::Prefetch> {
    move |req| {
        if state.db.is_sqlite() || !matches!(*req.method(), Method::GET | Method::HEAD) {
            return None;
        }
        let public_id = req.path().strip_prefix("/orders/")?.strip_suffix("/pay")?;
        if !plausible_order_id(public_id) {
            return None;
        }
        let (state, public_id) = (state.clone(), public_id.to_owned());
        Some(Box::new(move |conn| {
            let found = pay_reads(conn, &state, &public_id)?;
            Ok(Box::new(PrefetchedPay { public_id, found }) as Box<dyn std::any::Any + Send>)
        }))
    }
}

/// What [`prefetch_pay_page`] read for `public_id`, if it did.
fn take_prefetched(req: &HttpRequest, public_id: &str) -> Option<PayReads> {
    let prefetched = crate::sessions::Prefetched::take(req)?;
    let prefetched = prefetched.downcast::<PrefetchedPay>().ok()?;
    (prefetched.public_id == public_id).then_some(prefetched.found)
}

/// What [`pay_page`] answers with: at once, or after a wait.
type PayAnswer = futures_util::future::Either<
    std::future::Ready<Result<HttpResponse, PageError>>,
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<HttpResponse, PageError>>>>,
>;

/// `GET /orders/{id}/pay`. Built at once when nothing needs a wait (the rows read on this
/// thread or with the session's, the card list cached, not a hosted checkout), else by a
/// boxed future that waits. The handler's future, allocated on every request, then holds an
/// answer, not a page's rows: as an `async fn` it was 2 184 bytes, served by glibc from its
/// large bins, consolidating its fast bins on every page.
pub fn pay_page(
    req: HttpRequest,
    ctx: Ctx,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> PayAnswer {
    use futures_util::future::Either;
    let at_once = |answer| Either::Left(std::future::ready(answer));
    let public_id = id.into_inner();
    if !plausible_order_id(&public_id) {
        return at_once(Err(PageError::NotFound));
    }
    // One read: the order's rows and, when the shopper's card list is cached, every saved
    // card's installment options (the page's reads share one transaction). On PostgreSQL it
    // was made with the session's row, on the same blocking thread ([`prefetch_pay_page`]).
    let viewer = Viewer::of(&ctx, &session);
    let found = match take_prefetched(&req, &public_id) {
        Some(found) => found,
        None => match recent_pay_reads(&state, &public_id) {
            Ok(found) => found,
            Err(stamp) => {
                let (shared, id) = (state.clone(), public_id.clone());
                match state.db.read_now(move |conn| pay_reads(conn, &shared, &id)) {
                    Ok(Ok(found)) => keep_pay_reads(&public_id, stamp, found),
                    Ok(Err(e)) => return at_once(Err(e.into())),
                    Err(_) => {
                        return Either::Right(Box::pin(pay_page_waiting(
                            ctx, state, viewer, public_id,
                        )));
                    }
                }
            }
        },
    };
    let hosted = viewer.hosted(&public_id);
    let rows = match PayRows::checked(found, &viewer, &state) {
        Ok(rows) => rows,
        Err(answer) => return at_once(answer),
    };
    match rows.with_extras_at_hand(hosted) {
        Ok((rows, extras)) => at_once(pay_page_of(&ctx, &state, rows, extras)),
        Err(rows) => Either::Right(Box::pin(async move {
            let (rows, extras) = pay_extras(state.clone(), rows, hosted).await?;
            pay_page_of(&ctx, &state, rows, extras)
        })),
    }
}

/// [`pay_page`] when its rows can't be read at once (PostgreSQL without the session's
/// prefetch, or every SQLite connection busy).
async fn pay_page_waiting(
    ctx: Ctx,
    state: web::Data<AppState>,
    viewer: Viewer,
    public_id: String,
) -> Result<HttpResponse, PageError> {
    let hosted = viewer.hosted(&public_id);
    let shared = state.clone();
    let found = state
        .db
        .read(move |conn| pay_reads(conn, &shared, &public_id))
        .await?;
    let rows = match PayRows::checked(found, &viewer, &state) {
        Ok(rows) => rows,
        Err(answer) => return answer,
    };
    let (rows, extras) = pay_extras(state.clone(), rows, hosted).await?;
    pay_page_of(&ctx, &state, rows, extras)
}

/// The payment page of rows checked against their viewer.
fn pay_page_of(
    ctx: &Ctx,
    state: &AppState,
    rows: PayRows,
    extras: PayExtras,
) -> Result<HttpResponse, PageError> {
    let PayRows {
        order,
        attempt,
        owner,
        starts,
        utoken,
        ..
    } = rows;
    let PayExtras {
        saved,
        cards_unavailable,
        offers,
        cancel_url,
    } = extras;
    let subscription = starts.is_some();
    let owner = owner.as_ref();
    let recurring_terms = starts.as_ref().map(|s| recurring_terms(ctx, state, s));
    let request = payment_request(&order, &attempt, &state.request_context(ctx.lang))?;
    let store_card = owner.is_some();
    let card = CardSource::NewCard { store_card, utoken };
    let form = request.form(state.paytr.credentials(), &card)?;
    let total = order_price(&order);
    let amount = filters::format_money(total.amount, total.currency, ctx.lang);
    let saved_button = match saved.iter().find(|c| !c.expired) {
        Some(card) => super::i18n::t(ctx.lang, "pay_amount_with")
            .replace("{amount}", &amount)
            .replace("{last4}", &card.last_4),
        None => format!("{} · {amount}", super::i18n::t(ctx.lang, "pay_with_saved")),
    };
    let mut saved_installments = HashMap::new();
    if state.settings.installments.enabled && !subscription {
        for (reference, offers) in offers {
            if !offers.is_empty() {
                saved_installments
                    .insert(reference, offer_words(ctx.lang, &offers, order.currency));
            }
        }
    }
    let page = PayPage {
        cancel_url,
        layout: Layout::new(ctx, "payment"),
        saved_installments,
        number: order.number(),
        lines: line_views(&state.catalog, ctx.lang, &order),
        saved_button,
        installments: state.settings.installments.enabled && !subscription,
        total,
        order_id: order.public_id,
        action: state.paytr.url(PAYMENT_PATH),
        hidden: hidden_fields(form),
        offer_save: store_card,
        subscription,
        recurring_terms,
        saved,
        cards_unavailable,
    };
    Ok(state.payment_page(render(StatusCode::OK, &page)))
}

/// A payment page's rows, checked against its viewer.
struct PayRows {
    order: Order,
    attempt: PaymentAttempt,
    owner: Option<crate::db::models::CardOwner>,
    starts: Option<crate::db::subscriptions::SubscriptionTerms>,
    utoken: Option<crate::paytr::Token>,
    /// The owner's saved cards and their installment options, when read with the rows.
    cached: Option<crate::cards::SharedViews>,
    offers: Option<SavedOffers>,
}

impl PayRows {
    /// The rows read for a payment page, if `viewer` may see them (anyone else is answered
    /// as for an unknown id) and the order still waits for its payment (else to its page).
    #[expect(
        clippy::result_large_err,
        reason = "a page's answer is moved once; a box would be one more allocation a page"
    )]
    fn checked(
        found: PayReads,
        viewer: &Viewer,
        state: &AppState,
    ) -> Result<Self, Result<HttpResponse, PageError>> {
        let found = found.filter(|((order, ..), ..)| viewer.owns(order));
        let Some(((order, Some(attempt), owner, starts), cached, offers)) = found else {
            return Err(Err(PageError::NotFound));
        };
        if order.status == OrderStatus::Paid || attempt.status != AttemptStatus::Pending {
            return Err(Ok(redirect(&format!("/orders/{}", order.public_id))));
        }
        // Only the order's own signed-in shopper may save a card; their utoken groups them.
        let utoken = owner
            .as_ref()
            .and_then(|u| super::cards::utoken_of(state, u));
        Ok(Self {
            order,
            attempt,
            owner,
            starts,
            utoken,
            cached,
            offers,
        })
    }

    /// Saved cards are offered for a plain order of a signed-in shopper who has some.
    fn offers_cards(&self) -> bool {
        self.owner.is_some() && self.utoken.is_some() && self.starts.is_none()
    }

    /// With what [`pay_extras`] finds, when that needs no wait: the saved cards and their
    /// offers came with the rows (or the page offers none), and no hosted checkout's way
    /// back. Else the rows, untouched.
    #[expect(
        clippy::result_large_err,
        reason = "the rows are moved once; a box would be one more allocation a page"
    )]
    fn with_extras_at_hand(mut self, hosted: bool) -> Result<(Self, PayExtras), Self> {
        let (saved, offers) = match (self.offers_cards(), self.cached.take(), self.offers.take()) {
            _ if hosted => return Err(self),
            (false, ..) => (std::sync::Arc::from([]), Vec::new()),
            (true, Some(saved), Some(offers)) => (saved, offers),
            (true, cached, offers) => {
                (self.cached, self.offers) = (cached, offers);
                return Err(self);
            }
        };
        let extras = PayExtras {
            saved,
            cards_unavailable: false,
            offers,
            cancel_url: None,
        };
        Ok((self, extras))
    }
}

/// What a payment page shows beyond its rows.
struct PayExtras {
    saved: crate::cards::SharedViews,
    cards_unavailable: bool,
    offers: SavedOffers,
    cancel_url: Option<String>,
}

/// The saved cards a payment page offers, their installment options and a hosted checkout's
/// way back: from the rows when they came with them, else read (each wait boxed: rare).
async fn pay_extras(
    state: web::Data<AppState>,
    mut rows: PayRows,
    hosted: bool,
) -> Result<(PayRows, PayExtras), PageError> {
    let subscription = rows.starts.is_some();
    let (saved, cards_unavailable) = match (rows.offers_cards(), &rows.owner, rows.cached.take()) {
        (true, _, Some(saved)) => (saved, false),
        (true, Some(user), None) => {
            let (views, unavailable) = Box::pin(super::cards::card_views(&state, user)).await;
            (views.into(), unavailable)
        }
        _ => (std::sync::Arc::from([]), false),
    };
    let offers = match rows.offers.take() {
        Some(offers) => offers,
        None if state.settings.installments.enabled && !subscription && !saved.is_empty() => {
            let (settings, views, total) = (
                state.settings.installments.clone(),
                saved.clone(),
                rows.order.total,
            );
            Box::pin(
                state
                    .db
                    .read(move |conn| saved_offers(conn, &settings, &views, total, None)),
            )
            .await?
        }
        None => Vec::new(),
    };
    // A hosted checkout's shopper may go back to the merchant (one more read, for those only).
    let cancel_url = if hosted {
        Box::pin(super::hosted::return_urls(&state, rows.order.id))
            .await
            .map(|(_, cancel)| cancel)
    } else {
        None
    };
    let extras = PayExtras {
        saved,
        cards_unavailable,
        offers,
        cancel_url,
    };
    Ok((rows, extras))
}

/// The words of a card's installment options, by count. They depend only on the language, the
/// currency and the offers (the same for every shopper paying that total on that family), so
/// the last few hundred lists are kept; a full memo starts again empty.
fn offer_words(
    lang: crate::domain::Lang,
    offers: &[crate::installments::Offer],
    currency: crate::domain::Currency,
) -> std::sync::Arc<Vec<(u8, super::i18n::EscapedText)>> {
    type Key = (&'static str, &'static str, Vec<(u8, i64, i64)>);
    // FNV-1a, not SipHash: hashing the key was 1.7% of the page's instructions (callgrind).
    // A shopper steers a total, not the hash; colliding totals would only slow a memo that
    // is emptied at KEPT entries anyway.
    type Memo = HashMap<
        Key,
        std::sync::Arc<Vec<(u8, super::i18n::EscapedText)>>,
        std::hash::BuildHasherDefault<super::i18n::Fnv>,
    >;
    static WORDS: std::sync::Mutex<Option<Memo>> = std::sync::Mutex::new(None);
    const KEPT: usize = 512;
    let key: Key = (
        lang.code(),
        currency.code(),
        offers
            .iter()
            .map(|o| (o.count, o.monthly.kurus(), o.total.kurus()))
            .collect(),
    );
    if let Some(words) = WORDS
        .lock()
        .ok()
        .and_then(|memo| memo.as_ref()?.get(&key).cloned())
    {
        return words;
    }
    let words: std::sync::Arc<Vec<(u8, super::i18n::EscapedText)>> = std::sync::Arc::new(
        offers
            .iter()
            .map(|o| {
                let words = installment_words(lang, o, currency);
                (o.count, super::i18n::EscapedText::new(&words))
            })
            .collect(),
    );
    if let Ok(mut memo) = WORDS.lock() {
        let memo = memo.get_or_insert_with(Memo::default);
        if memo.len() >= KEPT {
            memo.clear();
        }
        memo.insert(key, words.clone());
    }
    words
}

/// "3 taksit × 61,80 TL · toplam 185,40 TL".
pub fn installment_words(
    lang: crate::domain::Lang,
    offer: &crate::installments::Offer,
    currency: crate::domain::Currency,
) -> String {
    super::i18n::fill(
        super::i18n::t(lang, "installment_option"),
        &[
            ("count", offer.count.to_string()),
            (
                "monthly",
                filters::format_money(offer.monthly, currency, lang),
            ),
            ("total", filters::format_money(offer.total, currency, lang)),
        ],
    )
}

/// "Kahve Kulübü: 149,00 TL / ay, charged automatically from 26.12.2026 until you cancel."
pub fn recurring_terms(
    ctx: &Ctx,
    state: &AppState,
    sub: &crate::db::subscriptions::SubscriptionTerms,
) -> String {
    let plan = state.catalog.plan(&sub.plan_slug).map_or_else(
        || sub.plan_slug.clone(),
        |p| p.name.get(ctx.lang).to_owned(),
    );
    let interval = crate::catalog::Interval::parse(&sub.interval_unit)
        .unwrap_or(crate::catalog::Interval::Monthly);
    let per = super::i18n::t(ctx.lang, &format!("interval_{}", interval.code())).to_owned();
    let next = crate::domain::date_string(interval.after(crate::db::unix_now()));
    let amount = filters::format_money(sub.amount, sub.currency, ctx.lang);
    super::i18n::t(ctx.lang, "recurring_terms")
        .replace("{plan}", &plan)
        .replace("{amount}", &amount)
        .replace("{per}", &per)
        .replace("{next}", &next)
}

/// The payment form's hidden fields: all but `store_card`, which is the shopper's checkbox.
fn hidden_fields(
    form: crate::paytr::FormFields<'_>,
) -> Vec<(&'static str, std::borrow::Cow<'_, str>)> {
    let mut fields = form.into_pairs();
    fields.retain(|(name, _)| *name != "store_card");
    fields
}

/// An order's total in its currency, for a page.
pub fn order_price(order: &Order) -> Price {
    Price::new(order.total, order.currency)
}

pub async fn retry(
    req: HttpRequest,
    ctx: Ctx,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
    _form: PostForm,
) -> Result<HttpResponse, PageError> {
    let ip = super::ctx::payment_ip(&req, &state)?;
    if !state.payment_limiter.check(&[&ip_bucket(&ip)]).await {
        return Err(PageError::refused(
            StatusCode::TOO_MANY_REQUESTS,
            "payment_failed",
            "too_many",
        ));
    }
    let public_id = id.into_inner();
    if !plausible_order_id(&public_id) {
        return Err(PageError::NotFound);
    }
    let viewer = Viewer::of(&ctx, &session);
    let found = {
        let public_id = public_id.clone();
        move |conn: &mut crate::db::DbConnection| match Order::find_by_public_id(conn, &public_id)?
        {
            Some(order) if viewer.owns(&order) => retry_order(conn, &order, ip).map(Some),
            _ => Ok(None),
        }
    };
    match state.db.write(found).await? {
        Some(Some(_)) => Ok(redirect(&format!("/orders/{public_id}/pay"))),
        Some(None) => Ok(redirect(&format!("/orders/{public_id}"))),
        None => Err(PageError::NotFound),
    }
}

pub struct LineView {
    pub name: String,
    pub quantity: u32,
    /// The unit price, and the line's total (unit × quantity), as checkout showed it.
    pub unit: Price,
    pub total: Price,
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    layout: Layout,
    order_id: String,
    /// `2026-000123`, and when the order was placed.
    number: String,
    placed_at: i64,
    /// Paid in installments: how many, and the total with interest.
    installments: Option<(i32, Price)>,
    /// The key of the status's words.
    status: &'static str,
    paid: bool,
    failed: bool,
    total: Price,
    lines: Vec<LineView>,
    confirming: bool,
    awaiting_reason: bool,
    fail_message: Option<String>,
    refunds: Vec<RefundView>,
    refunded_in_full: bool,
}

/// A refund as the shopper sees it: done or in progress (a refused one is the merchant's).
pub struct RefundView {
    pub status_key: &'static str,
    pub amount: Price,
    pub date: i64,
}

pub fn refund_views(order: &Order, refunds: Vec<Refund>) -> (Vec<RefundView>, bool) {
    let shown: Vec<RefundView> = refunds
        .iter()
        .filter(|r| r.status != RefundStatus::Failed)
        .map(|r| RefundView {
            status_key: if r.status == RefundStatus::Succeeded {
                "refund_succeeded"
            } else {
                "refund_in_progress"
            },
            amount: Price::new(
                Money::from_kurus(r.amount_kurus).unwrap_or_default(),
                order.currency,
            ),
            date: r.created_at,
        })
        .collect();
    let refunded: i64 = refunds
        .iter()
        .filter(|r| r.status == RefundStatus::Succeeded)
        .map(|r| r.amount_kurus)
        .sum();
    (shown, refunded > 0 && refunded >= order.total.kurus())
}

async fn order_view(
    ctx: &Ctx,
    session: &Session,
    state: &AppState,
    public_id: String,
    returning: Return,
) -> Result<HttpResponse, PageError> {
    let found = load_order(state, public_id, Viewer::of(ctx, session)).await?;
    let Some((order, attempt, _, _)) = found else {
        return Err(PageError::NotFound);
    };
    let pending = order.status == OrderStatus::Pending;
    let paid = order.status == OrderStatus::Paid;
    if paid
        && session
            .get::<String>(keys::CART_ORDER)
            .ok()
            .flatten()
            .as_deref()
            == Some(order.public_id.as_str())
    {
        session.remove(keys::CART);
        session.remove(keys::CART_ORDER);
    }
    let fail_message = fail_message(ctx.lang, attempt.as_ref(), &returning, paid);
    let order_key = order.id;
    let refunds = if paid {
        state
            .db
            .run(move |conn| Refund::for_order(conn, order_key))
            .await?
    } else {
        Vec::new()
    };
    let (refunds, refunded_in_full) = refund_views(&order, refunds);
    let page = OrderPage {
        layout: Layout::new(ctx, "order"),
        status: order.status.page_key(),
        paid,
        failed: order.status == OrderStatus::Failed,
        total: order_price(&order),
        lines: line_views(&state.catalog, ctx.lang, &order),
        number: order.number(),
        placed_at: order.created_at,
        installments: attempt
            .as_ref()
            .filter(|a| paid && a.installment_count > 0)
            .and_then(|a| {
                let total = a.collected()?;
                Some((a.installment_count, Price::new(total, order.currency)))
            }),
        order_id: order.public_id,
        // After PayTR's OK redirect the page waits for the notification: it never marks the
        // order paid itself.
        confirming: pending && matches!(returning, Return::Ok),
        // After the fail redirect it refreshes until the notification brings the reason.
        awaiting_reason: pending && matches!(returning, Return::Failed),
        fail_message,
        refunds,
        refunded_in_full,
    };
    Ok(render(StatusCode::OK, &page))
}

pub fn line_views(
    catalog: &crate::catalog::Catalog,
    lang: crate::domain::Lang,
    order: &Order,
) -> Vec<LineView> {
    Basket::parse(&order.basket_json)
        .map(|b| {
            b.items()
                .iter()
                .map(|i| {
                    let total = Money::from_kurus(
                        i.unit_price.kurus().saturating_mul(i64::from(i.quantity)),
                    )
                    .unwrap_or(i.unit_price);
                    LineView {
                        name: catalog.name_in(&i.name, lang),
                        quantity: i.quantity,
                        unit: Price::new(i.unit_price, order.currency),
                        total: Price::new(total, order.currency),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What the order page says went wrong, in our own words for PayTR's reason code: nothing
/// from the browser is shown back.
fn fail_message(
    lang: crate::domain::Lang,
    attempt: Option<&PaymentAttempt>,
    returning: &Return,
    paid: bool,
) -> Option<String> {
    if paid {
        return None;
    }
    match (
        attempt.filter(|a| a.status == AttemptStatus::Failed),
        returning,
    ) {
        (Some(a), _) => Some(failure_text(lang, a)),
        (None, Return::Failed) => Some(super::i18n::t(lang, "payment_not_completed").to_owned()),
        _ => None,
    }
}

/// Why an attempt failed, in our words for PayTR's reason code (and, for code 0, for the kind
/// of refusal the bank's recorded message names): nothing PayTR or the browser wrote is shown.
fn failure_text(lang: crate::domain::Lang, attempt: &PaymentAttempt) -> String {
    super::i18n::failure_reason(
        lang,
        attempt.failed_reason_code.as_deref(),
        attempt.failed_reason_msg.as_deref(),
    )
    .to_owned()
}

enum Return {
    None,
    Ok,
    Failed,
}

pub async fn order_page(
    ctx: Ctx,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    order_view(&ctx, &session, &state, id.into_inner(), Return::None).await
}

/// PayTR hands the browser back to `merchant_ok_url` / `merchant_fail_url` with a cross-site
/// POST, which carries no `SameSite=Lax` cookie: it is answered with a 303 to the same page,
/// whose GET (a top-level navigation) does carry the cookie, so the owner check sees the
/// shopper. Nothing posted is read, and no session is touched: a cookie set on this answer
/// would replace the shopper's own.
pub async fn back_to_get(req: HttpRequest, body: web::Bytes) -> HttpResponse {
    if let Err(e) = parse_form_refusing_card_data(&body) {
        return e.error_response();
    }
    redirect(req.path())
}

/// `merchant_ok_url`: "received, confirming…" until the notification.
pub async fn returned_ok(
    ctx: Ctx,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let public_id = id.into_inner();
    // A hosted checkout's shopper goes back to the merchant, who learns the outcome by webhook.
    if let Some((order, ..)) =
        load_order(&state, public_id.clone(), Viewer::of(&ctx, &session)).await?
        && let Some((url, _)) = super::hosted::return_urls(&state, order.id).await
    {
        return Ok(super::hosted::back_to_merchant(&ctx, url));
    }
    order_view(&ctx, &session, &state, public_id, Return::Ok).await
}

/// `merchant_fail_url`: the payment did not complete. PayTR's `fail_message` is not shown (it
/// would let anyone put their text on our page); the reason comes from the notification's
/// code, in our own words.
pub async fn returned_fail(
    ctx: Ctx,
    session: Session,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    order_view(&ctx, &session, &state, id.into_inner(), Return::Failed).await
}
