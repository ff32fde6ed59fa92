//! "Forgot your password": a single-use, one-hour link by e-mail (only its hash kept), the same
//! answer whether or not the address has an account, and a reset that ends every session.

use super::account::client_bucket;
use super::ctx::{Ctx, PostForm};
use super::errors::PageError;
use super::pages::{Layout, message, redirect, render};
use crate::accounts;
use crate::app_state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

#[derive(Template)]
#[template(path = "password_forgot.html")]
struct ForgotPage {
    layout: Layout,
    email: String,
    sent: bool,
    notice: Option<&'static str>,
    wait: Option<String>,
}

/// `GET /password/forgot`.
pub async fn forgot_form(ctx: Ctx) -> HttpResponse {
    let page = ForgotPage {
        layout: Layout::new(&ctx, "forgot_password"),
        email: String::new(),
        sent: false,
        notice: None,
        wait: None,
    };
    render(StatusCode::OK, &page)
}

/// `POST /password/forgot`: "if an account exists, a link is on its way", for any address.
pub async fn forgot(
    req: HttpRequest,
    ctx: Ctx,
    state: web::Data<AppState>,
    form: PostForm,
) -> Result<HttpResponse, PageError> {
    let email = form.get("email").trim().to_lowercase();
    let page = |sent, notice, status| {
        let page = ForgotPage {
            layout: Layout::new(&ctx, "forgot_password"),
            email: email.clone(),
            sent,
            notice,
            wait: None,
        };
        Ok(render(status, &page))
    };
    if crate::domain::Email::parse(&email).is_err() {
        return page(
            false,
            Some("email_invalid"),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    // Per address and per account: nobody fills someone's mailbox from one place.
    let keys = [client_bucket(&state, &req), format!("reset:{email}")];
    let keys = [keys[0].as_str(), keys[1].as_str()];
    if !state.reset_limiter.check(&keys).await {
        let wait = state.reset_limiter.retry_after(&keys).await;
        let refused = ForgotPage {
            layout: Layout::new(&ctx, "forgot_password"),
            email: email.clone(),
            sent: false,
            notice: Some("too_many"),
            wait: Some(super::i18n::try_again_in(ctx.lang, wait)),
        };
        return Ok(render(StatusCode::TOO_MANY_REQUESTS, &refused));
    }
    let (lang, mail, address) = (ctx.lang, state.mail.clone(), email.clone());
    state
        .db
        .write(move |conn| accounts::request_password_reset(conn, &address, lang, &mail))
        .await?;
    page(true, None, StatusCode::OK)
}

#[derive(Template)]
#[template(path = "password_reset.html")]
struct ResetPage {
    layout: Layout,
    token: String,
    error: Option<&'static str>,
}

fn plausible_token(token: &str) -> bool {
    token.len() <= 64 && token.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `GET /password/reset/{token}`: the new-password form, for a link still valid.
pub async fn reset_form(
    ctx: Ctx,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let token = token.into_inner();
    let valid = plausible_token(&token) && {
        let token = token.clone();
        state
            .db
            .run(move |conn| accounts::reset_link_valid(conn, &token))
            .await?
    };
    if !valid {
        return Ok(message(
            &ctx,
            StatusCode::NOT_FOUND,
            "forgot_password",
            "link_invalid",
        ));
    }
    let page = ResetPage {
        layout: Layout::new(&ctx, "new_password"),
        token,
        error: None,
    };
    Ok(render(StatusCode::OK, &page))
}

/// `POST /password/reset/{token}`: sets the password once, then to the log-in page.
pub async fn reset(
    ctx: Ctx,
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: PostForm,
) -> Result<HttpResponse, PageError> {
    let token = token.into_inner();
    if !plausible_token(&token) {
        return Ok(message(
            &ctx,
            StatusCode::NOT_FOUND,
            "forgot_password",
            "link_invalid",
        ));
    }
    let password = form.get("password").to_owned();
    if !accounts::password_ok(&password) {
        let page = ResetPage {
            layout: Layout::new(&ctx, "new_password"),
            token,
            error: Some(super::i18n::field_error(ctx.lang, "password")),
        };
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let hash = web::block(move || accounts::hash_password(&password))
        .await
        .map_err(PageError::internal)?;
    let done = state
        .db
        .write(move |conn| accounts::reset_password(conn, &token, &hash))
        .await?;
    Ok(match done {
        Some(_) => redirect("/login?reset=1"),
        None => message(
            &ctx,
            StatusCode::NOT_FOUND,
            "forgot_password",
            "link_invalid",
        ),
    })
}
