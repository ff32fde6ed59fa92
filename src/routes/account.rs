//! Registration, log in, log out and the account page.

use super::ctx::{Ctx, PostForm, SignedIn, client_ip, ip_bucket, keys};
use super::errors::PageError;
use super::filters::{self, Price};
use super::i18n::field_errors;
use super::pages::{Layout, message, redirect, render, server_error};
use crate::accounts::{self, Registration, dummy_hash, verify_password};
use crate::app_state::AppState;
use crate::db::models::{Order, User};
use crate::db::subscriptions::{ChargeAttempt, Subscription};
use crate::sessions::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use std::collections::HashMap;

type Errors = HashMap<&'static str, &'static str>;

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    layout: Layout,
    email: String,
    full_name: String,
    errors: Errors,
    notice: Option<&'static str>,
    /// How long to wait, when refused for too many tries.
    wait: Option<String>,
}

impl RegisterPage {
    fn new(
        ctx: &Ctx,
        email: &str,
        full_name: &str,
        errors: Errors,
        notice: Option<&'static str>,
    ) -> Self {
        Self {
            layout: Layout::new(ctx, "register"),
            email: email.to_owned(),
            full_name: full_name.to_owned(),
            errors,
            notice,
            wait: None,
        }
    }
}

pub async fn register_form(req: HttpRequest, session: Session, ctx: Ctx) -> HttpResponse {
    remember_next(&req, &session);
    render(
        StatusCode::OK,
        &RegisterPage::new(&ctx, "", "", Errors::new(), None),
    )
}

/// The limiter's bucket for the client's address (IPv6 by /64).
pub fn client_bucket(state: &AppState, req: &HttpRequest) -> String {
    client_ip(req, &state.settings.trusted_proxies)
        .map(|ip| ip_bucket(&ip))
        .unwrap_or_default()
}

/// The registration a form asks for, or the form again saying why not.
async fn parse_registration(
    ctx: &Ctx,
    state: &AppState,
    req: &HttpRequest,
    form: &PostForm,
) -> Result<Registration, Box<HttpResponse>> {
    let (email, name) = (form.get("email"), form.get("full_name"));
    let rerender = |errors: Errors, notice: Option<&'static str>, status| {
        render(status, &RegisterPage::new(ctx, email, name, errors, notice))
    };
    // A form refused for its own mistakes costs nothing; each sign-up it would start counts.
    let keys = [
        client_bucket(state, req),
        format!("account:{}", email.trim().to_lowercase()),
    ];
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let too_many = |wait| {
        let mut page = RegisterPage::new(ctx, email, name, Errors::new(), Some("too_many"));
        page.wait = Some(super::i18n::try_again_in(ctx.lang, wait));
        Box::new(render(StatusCode::TOO_MANY_REQUESTS, &page))
    };
    if state.register_limiter.exhausted(&keys).await {
        return Err(too_many(state.register_limiter.retry_after(&keys).await));
    }
    let registration =
        Registration::parse(email, name, form.get("password")).map_err(|errors| {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            Box::new(rerender(
                field_errors(ctx.lang, &errors),
                Some("fix_errors"),
                status,
            ))
        })?;
    if !state.register_limiter.check(&keys).await {
        return Err(too_many(state.register_limiter.retry_after(&keys).await));
    }
    Ok(registration)
}

pub async fn register(
    req: HttpRequest,
    ctx: Ctx,
    state: web::Data<AppState>,
    form: PostForm,
) -> Result<HttpResponse, PageError> {
    let registration = match parse_registration(&ctx, &state, &req, &form).await {
        Ok(registration) => registration,
        Err(page) => return Ok(*page),
    };
    let password = registration.password.clone();
    let hash = web::block(move || accounts::hash_password(&password))
        .await
        .map_err(PageError::internal)?;
    // The same page whether or not the address has an account; its owner is told by e-mail.
    let (lang, mail) = (ctx.lang, state.mail.clone());
    state
        .db
        .write(move |conn| accounts::sign_up(conn, &registration, &hash, lang, &mail))
        .await?;
    let page = CheckEmailPage {
        layout: Layout::new(&ctx, "check_email"),
        email: form.get("email").trim().to_lowercase(),
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "check_email.html")]
struct CheckEmailPage {
    layout: Layout,
    email: String,
}

/// `GET /register/confirm/{token}`: the link from the e-mail confirms the account, once, and
/// signs the shopper in.
pub async fn confirm_email(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session);
    let token = token.into_inner();
    if token.len() > 64 || !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return message(&ctx, StatusCode::NOT_FOUND, "register", "link_invalid");
    }
    match state
        .db
        .write(move |conn| accounts::confirm_email(conn, &token))
        .await
    {
        Ok(Some(user)) => sign_in(&session, &user),
        Ok(None) => message(&ctx, StatusCode::NOT_FOUND, "register", "link_invalid"),
        Err(e) => server_error(&ctx, &e),
    }
}

#[derive(Template)]
#[template(path = "mailbox.html")]
struct MailboxPage {
    layout: Layout,
    mails: Vec<crate::mail::Mail>,
}

/// `GET /sandbox/mail`, in sandbox mode only: the e-mails that would have been sent, newest
/// first, so sign-up works with no mail service.
pub async fn mailbox(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session);
    if !ctx.sandbox {
        return message(&ctx, StatusCode::NOT_FOUND, "not_found", "not_found");
    }
    match state.db.run(|conn| crate::mail::recent(conn, 50)).await {
        Ok(mails) => render(
            StatusCode::OK,
            &MailboxPage {
                layout: Layout::new(&ctx, "mailbox"),
                mails,
            },
        ),
        Err(e) => server_error(&ctx, &e),
    }
}

/// A new session id on every log in, then the shopper's id in it.
fn sign_in(session: &Session, user: &User) -> HttpResponse {
    let cart = super::shop::session_cart(session);
    let lang = session.get::<String>(keys::LANG).ok().flatten();
    let return_to = session.get::<String>(keys::RETURN_TO).ok().flatten();
    let guest_orders = super::checkout::guest_orders(session);
    session.renew();
    let _ = session.insert(keys::USER_ID, user.id);
    let _ = session.insert(keys::USER, super::ctx::SessionUser::of(user));
    let _ = session.insert(keys::CART, cart);
    // Guest orders placed before signing in stay visible to this browser.
    for order in guest_orders {
        super::checkout::remember_guest_order(session, &order);
    }
    if let Some(lang) = lang {
        let _ = session.insert(keys::LANG, lang);
    }
    let _ = session.insert(keys::CSRF, accounts::random_string(32));
    let back = return_to.filter(|p| super::ctx::safe_return_path(p));
    redirect(back.as_deref().unwrap_or("/account"))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    email: String,
    notice: Option<&'static str>,
    /// How long to wait, when refused for too many tries.
    wait: Option<String>,
    /// After a password reset.
    reset_done: bool,
}

/// `?next=/cart`: where to come back to after logging in (or signing up), if it is ours.
fn remember_next(req: &HttpRequest, session: &Session) {
    let query =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string());
    if let Some(next) = query.ok().and_then(|q| q.get("next").cloned()) {
        super::ctx::remember_return_to(session, &next);
    }
}

pub async fn login_form(req: HttpRequest, session: Session) -> HttpResponse {
    remember_next(&req, &session);
    let ctx = Ctx::load(&req, &session);
    render(
        StatusCode::OK,
        &LoginPage {
            layout: Layout::new(&ctx, "login"),
            email: String::new(),
            notice: None,
            wait: None,
            reset_done: req.query_string() == "reset=1",
        },
    )
}

pub async fn login(
    req: HttpRequest,
    ctx: Ctx,
    session: Session,
    state: web::Data<AppState>,
    form: PostForm,
) -> Result<HttpResponse, PageError> {
    let email = form.get("email").trim().to_lowercase();
    let refuse = |notice, status, wait: Option<std::time::Duration>| {
        let page = LoginPage {
            layout: Layout::new(&ctx, "login"),
            email: email.clone(),
            notice: Some(notice),
            wait: wait.map(|w| super::i18n::try_again_in(ctx.lang, w)),
            reset_done: false,
        };
        Ok(render(status, &page))
    };
    // Per address, failed tries (password spraying); per account and address, failures with
    // backoff: someone failing elsewhere never locks the owner out. A successful log-in
    // counts against nothing.
    let bucket = client_bucket(&state, &req);
    let throttle_key = format!("{email}|{bucket}");
    let wait = state
        .login_limiter
        .retry_after(&[&bucket])
        .await
        .max(state.login_throttle.wait(&throttle_key));
    if !wait.is_zero() {
        return refuse("too_many", StatusCode::TOO_MANY_REQUESTS, Some(wait));
    }
    match check_password(&state, &email, form.get("password")).await? {
        Some(user) => {
            state.login_throttle.succeeded(&throttle_key);
            Ok(sign_in(&session, &user))
        }
        None => {
            state.login_limiter.check(&[&bucket]).await;
            state.login_throttle.failed(&throttle_key);
            refuse("login_failed", StatusCode::UNAUTHORIZED, None)
        }
    }
}

/// The confirmed account whose password this is; the same work (and time) for an unknown
/// address. An account never confirmed can't log in (else signing up someone else's address
/// and logging in would tell whether it was taken).
async fn check_password(
    state: &AppState,
    email: &str,
    password: &str,
) -> Result<Option<User>, PageError> {
    let user = state
        .db
        .run({
            let email = email.to_owned();
            move |conn| User::find_by_email(conn, &email)
        })
        .await?;
    let hash = user
        .as_ref()
        .map_or_else(|| dummy_hash().to_owned(), |u| u.password_hash.clone());
    let password = password.to_owned();
    let matches = web::block(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    Ok(user.filter(|u| matches && u.email_verified_at.is_some()))
}

pub async fn logout(session: Session, _form: PostForm) -> HttpResponse {
    session.purge();
    redirect("/")
}

pub struct OrderRow {
    pub public_id: String,
    pub total: Price,
    /// The key of the status's words.
    pub status: &'static str,
}

impl OrderRow {
    fn of(order: &Order) -> Self {
        Self {
            public_id: order.public_id.clone(),
            total: super::checkout::order_price(order),
            status: order.status.page_key(),
        }
    }
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    email: String,
    orders: Vec<OrderRow>,
    subscriptions: Vec<super::subscriptions::SubscriptionView>,
    /// Saved cards a subscription may switch to (not those that need their CVV).
    card_choices: Vec<crate::cards::CardView>,
    /// Just after a cancellation: it is done, and can be undone.
    cancelled: bool,
}

/// The shopper's orders, and subscriptions with their renewal charges.
type AccountRows = (Vec<Order>, Vec<(Subscription, Vec<ChargeAttempt>)>);

async fn account_rows(state: &AppState, uid: i64) -> Result<AccountRows, crate::db::DbError> {
    state
        .db
        .run(move |conn| {
            let orders = Order::list_for_user(conn, uid)?;
            let subs = Subscription::list_for_user(conn, uid)?
                .into_iter()
                .map(|s| ChargeAttempt::for_subscription(conn, s.id).map(|a| (s, a)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((orders, subs))
        })
        .await
}

pub async fn account_page(
    req: HttpRequest,
    ctx: Ctx,
    SignedIn(user): SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let (orders, subs) = account_rows(&state, user.id).await?;
    // Cards a subscription may switch to (not those that need their CVV, nor expired ones).
    let card_choices = if subs.iter().any(|(s, _)| s.status.is_live()) {
        let (cards, _) = super::cards::card_views(&state, &user).await;
        cards
            .into_iter()
            .filter(|c| !c.require_cvv && !c.expired)
            .collect()
    } else {
        Vec::new()
    };
    let page = AccountPage {
        layout: Layout::new(&ctx, "account"),
        email: user.email,
        orders: orders.iter().map(OrderRow::of).collect(),
        subscriptions: subs
            .iter()
            .map(|(s, a)| super::subscriptions::view(&state, ctx.lang, s, a))
            .collect(),
        card_choices,
        cancelled: req.query_string().starts_with("cancelled="),
    };
    Ok(render(StatusCode::OK, &page))
}
