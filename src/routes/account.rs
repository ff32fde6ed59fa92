//! Registration, log in, log out and the account page.

use super::ctx::keys;
use super::ctx::{Ctx, PostForm, client_ip, ip_bucket};
use super::i18n::field_error;
use super::pages::{Layout, message, redirect, render, server_error};
use crate::accounts::{self, Registration, SignUp, dummy_hash, verify_password};
use crate::app_state::AppState;
use crate::db::models::{Order, User};
use crate::db::subscriptions::{ChargeAttempt, Subscription};
use crate::domain::Lang;
use crate::domain::Money;
use actix_session::Session;
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
}

pub async fn register_form(req: HttpRequest, session: Session) -> HttpResponse {
    let ctx = Ctx::load(&req, &session).await;
    let page = RegisterPage {
        layout: Layout::new(&ctx, "register"),
        email: String::new(),
        full_name: String::new(),
        errors: Errors::new(),
        notice: None,
    };
    render(StatusCode::OK, &page)
}

/// The limiter's bucket for the client's address (IPv6 by /64).
fn client_bucket(state: &AppState, req: &HttpRequest) -> String {
    client_ip(req, &state.settings.trusted_proxies)
        .map(|ip| ip_bucket(&ip))
        .unwrap_or_default()
}

fn limited(
    state: &AppState,
    limiter: &accounts::RateLimiter,
    req: &HttpRequest,
    email: &str,
) -> bool {
    !limiter.check(&[
        &client_bucket(state, req),
        &format!("account:{}", email.trim().to_lowercase()),
    ])
}

pub async fn register(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: PostForm,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session).await;
    let (email, name, password) = (
        form.get("email"),
        form.get("full_name"),
        form.get("password"),
    );
    let rerender = |errors: Errors, notice: Option<&'static str>, status| {
        let page = RegisterPage {
            layout: Layout::new(&ctx, "register"),
            email: email.to_owned(),
            full_name: name.to_owned(),
            errors,
            notice,
        };
        render(status, &page)
    };
    if limited(&state, &state.register_limiter, &req, email) {
        return rerender(
            Errors::new(),
            Some("too_many"),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let registration = match Registration::parse(email, name, password) {
        Ok(r) => r,
        Err(errors) => {
            let errors = errors
                .iter()
                .map(|e| (e.field, field_error(ctx.lang, e.field)))
                .collect();
            return rerender(errors, Some("fix_errors"), StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let hash = match web::block({
        let password = registration.password.clone();
        move || accounts::hash_password(&password)
    })
    .await
    {
        Ok(hash) => hash,
        Err(e) => return server_error(&ctx, &e),
    };
    // The same page whether or not the address has an account; its owner is told by e-mail.
    let (lang, base) = (ctx.lang, state.public_url.clone());
    let sent = state
        .db
        .write(move |conn| {
            let to = registration.email.as_str().to_owned();
            let (subject, body) = match accounts::register(conn, &registration, &hash)? {
                SignUp::Confirm { token } => {
                    confirmation_mail(lang, &format!("{base}/register/confirm/{token}"))
                }
                SignUp::AlreadyRegistered => {
                    already_registered_mail(lang, &format!("{base}/login"))
                }
            };
            crate::mail::enqueue(conn, &to, subject, &body)
        })
        .await;
    match sent {
        Ok(()) => render(
            StatusCode::OK,
            &CheckEmailPage {
                layout: Layout::new(&ctx, "check_email"),
                email: email.trim().to_lowercase(),
            },
        ),
        Err(e) => server_error(&ctx, &e),
    }
}

#[derive(Template)]
#[template(path = "check_email.html")]
struct CheckEmailPage {
    layout: Layout,
    email: String,
}

fn confirmation_mail(lang: Lang, link: &str) -> (&'static str, String) {
    match lang {
        Lang::Tr => (
            "Üyeliğinizi onaylayın",
            format!(
                "Merhaba,\n\nÜyeliğinizi tamamlamak için bu bağlantıyı açın (24 saat geçerlidir):\n{link}\n\nBu isteği siz yapmadıysanız bu e-postayı yok sayın.\n"
            ),
        ),
        Lang::En => (
            "Confirm your account",
            format!(
                "Hello,\n\nOpen this link to finish signing up (it works for 24 hours):\n{link}\n\nIf you did not ask for this, ignore this e-mail.\n"
            ),
        ),
    }
}

fn already_registered_mail(lang: Lang, login: &str) -> (&'static str, String) {
    match lang {
        Lang::Tr => (
            "Bu adresle zaten bir hesabınız var",
            format!(
                "Merhaba,\n\nBu e-posta adresiyle yeniden üye olunmak istendi, ancak bu adresle zaten bir hesabınız var. Siz iseniz giriş yapın: {login}\n\nSiz değilseniz bu e-postayı yok sayabilirsiniz: hesabınızda hiçbir şey değişmedi.\n"
            ),
        ),
        Lang::En => (
            "You already have an account",
            format!(
                "Hello,\n\nSomeone tried to sign up with this e-mail address, which already has an account. If it was you, log in: {login}\n\nIf it wasn't, you can ignore this e-mail: nothing about your account changed.\n"
            ),
        ),
    }
}

/// `GET /register/confirm/{token}`: the link from the e-mail confirms the account, once, and
/// signs the shopper in.
pub async fn confirm_email(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session).await;
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

/// `GET /dev/mailbox`, in sandbox mode only: the e-mails that would have been sent, newest
/// first, so sign-up works with no mail service.
pub async fn mailbox(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session).await;
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
    redirect("/account")
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    email: String,
    notice: Option<&'static str>,
}

pub async fn login_form(req: HttpRequest, session: Session) -> HttpResponse {
    let ctx = Ctx::load(&req, &session).await;
    render(
        StatusCode::OK,
        &LoginPage {
            layout: Layout::new(&ctx, "login"),
            email: String::new(),
            notice: None,
        },
    )
}

pub async fn login(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: PostForm,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session).await;
    let email = form.get("email").trim().to_lowercase();
    let refuse = |notice, status| {
        render(
            status,
            &LoginPage {
                layout: Layout::new(&ctx, "login"),
                email: email.clone(),
                notice: Some(notice),
            },
        )
    };
    // Per address, all tries (password spraying); per account and address, failures with
    // backoff: someone failing elsewhere never locks the owner out.
    let bucket = client_bucket(&state, &req);
    let throttle_key = format!("{email}|{bucket}");
    if !state.login_limiter.check(&[&bucket]) || !state.login_throttle.wait(&throttle_key).is_zero()
    {
        return refuse("too_many", StatusCode::TOO_MANY_REQUESTS);
    }
    let user = match state
        .db
        .run({
            let email = email.clone();
            move |conn| User::find_by_email(conn, &email)
        })
        .await
    {
        Ok(user) => user,
        Err(e) => return server_error(&ctx, &e),
    };
    let password = form.get("password").to_owned();
    let hash = user
        .as_ref()
        .map_or_else(|| dummy_hash().to_owned(), |u| u.password_hash.clone());
    let matches = web::block(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    match user {
        // An account never confirmed can't log in (else signing up someone else's address and
        // logging in would tell whether it was taken).
        Some(user) if matches && user.email_verified_at.is_some() => {
            state.login_throttle.succeeded(&throttle_key);
            sign_in(&session, &user)
        }
        _ => {
            state.login_throttle.failed(&throttle_key);
            refuse("login_failed", StatusCode::UNAUTHORIZED)
        }
    }
}

pub async fn logout(session: Session, _form: PostForm) -> HttpResponse {
    session.purge();
    redirect("/")
}

pub struct OrderRow {
    pub public_id: String,
    pub total: String,
    /// The key of the status's words.
    pub status: &'static str,
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
}

pub async fn account_page(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> HttpResponse {
    let ctx = Ctx::load(&req, &session).await;
    let Some(session_user) = ctx.user.clone() else {
        return redirect("/login");
    };
    let uid = session_user.id;
    let rows = state
        .db
        .run(move |conn| {
            let orders = Order::list_for_user(conn, uid)?;
            let subs = Subscription::list_for_user(conn, uid)?;
            let subs = subs
                .into_iter()
                .map(|s| ChargeAttempt::for_subscription(conn, s.id).map(|a| (s, a)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((orders, subs, crate::accounts::find_user(conn, uid)?))
        })
        .await;
    let (orders, subs, user) = match rows {
        Ok(rows) => rows,
        Err(e) => return server_error(&ctx, &e),
    };
    let live = subs.iter().any(|(s, _)| s.status.is_live());
    let card_choices = match user.as_ref() {
        Some(user) if live => super::cards::card_views(&state, user)
            .await
            .0
            .into_iter()
            .filter(|c| !c.require_cvv && !c.expired)
            .collect(),
        _ => Vec::new(),
    };
    let orders = orders
        .into_iter()
        .map(|o| OrderRow {
            total: format!(
                "{} {}",
                Money::from_kurus(o.total_kurus).unwrap_or_default(),
                o.currency
            ),
            status: o.status.page_key(),
            public_id: o.public_id,
        })
        .collect();
    let subscriptions = subs
        .iter()
        .map(|(s, a)| super::subscriptions::view(&state, ctx.lang, s, a))
        .collect();
    let page = AccountPage {
        layout: Layout::new(&ctx, "account"),
        email: session_user.email,
        orders,
        subscriptions,
        card_choices,
    };
    render(StatusCode::OK, &page)
}
