//! What every page shares: the layout, rendering, error pages, the stylesheet.

use super::ctx::Ctx;
use super::i18n;
use crate::domain::Lang;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

/// Data the base layout needs on every page.
pub struct Layout {
    pub title: String,
    pub sandbox: bool,
    pub lang: Lang,
    pub user_name: Option<String>,
    pub csrf: String,
    pub cart_count: u32,
    /// The current path, for the language links.
    pub path: String,
}

impl Layout {
    pub fn new(ctx: &Ctx, title: &str) -> Self {
        Self {
            title: i18n::t(ctx.lang, title).to_owned(),
            sandbox: ctx.sandbox,
            lang: ctx.lang,
            user_name: ctx.user.as_ref().map(|u| u.full_name.clone()),
            csrf: ctx.csrf.clone(),
            cart_count: ctx.cart_count,
            path: ctx.path.clone(),
        }
    }

    /// The text for `key` in the page's language, escaped for HTML once per process (not on
    /// every page).
    pub fn t<'a>(&self, key: &'a str) -> i18n::PageText<'a> {
        i18n::html(self.lang, key)
    }

    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }
}

/// Renders a page, never cached (pages may carry a CSRF token or a shopper's data). A template
/// error is logged and shown as a plain apology, never as detail.
pub fn render<T: Template>(status: StatusCode, page: &T) -> HttpResponse {
    match render_html(page) {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header(("Cache-Control", "no-store"))
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Bir hata oluştu. / Something went wrong.",
            )
        }
    }
}

/// The page's text, in one allocation of the size this template's last page had: askama's own
/// estimate (the template's literal text) was about half a payment page, so every page grew
/// its buffer once, copying what was written (a second allocation of kilobytes).
fn render_html<T: Template>(page: &T) -> askama::Result<String> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    /// The last page's size by template (slots shared by a hash of the type's name: a
    /// collision only makes a buffer the wrong size).
    static LAST_SIZES: [AtomicUsize; 64] = [const { AtomicUsize::new(0) }; 64];
    /// The most kept (a page bigger than this grows its buffer, as before).
    const MAX_KEPT: usize = 256 * 1024;
    let slot = &LAST_SIZES[(std::any::type_name::<T>().as_ptr() as usize >> 3) % 64];
    let mut html = String::with_capacity(T::SIZE_HINT.max(slot.load(Ordering::Relaxed)));
    page.render_into(&mut html)?;
    // A little more than this page, so a slightly longer one does not grow the buffer.
    slot.store(
        (html.len() + html.len() / 8).min(MAX_KEPT),
        Ordering::Relaxed,
    );
    Ok(html)
}

pub fn plain(status: StatusCode, text: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .body(text.to_owned())
}

pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", to))
        .finish()
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub layout: Layout,
    pub heading: String,
    pub text: String,
}

/// A page with a heading and a sentence, in the shopper's language.
pub fn message(ctx: &Ctx, status: StatusCode, heading: &str, text: &str) -> HttpResponse {
    let page = MessagePage {
        layout: Layout::new(ctx, heading),
        heading: i18n::t(ctx.lang, heading).to_owned(),
        text: i18n::t(ctx.lang, text).to_owned(),
    };
    render(status, &page)
}

/// The shopper-facing page for an internal failure; the cause goes to the log.
pub fn server_error(ctx: &Ctx, cause: &dyn std::fmt::Display) -> HttpResponse {
    tracing::error!(error = %cause, "request failed");
    message(
        ctx,
        StatusCode::SERVICE_UNAVAILABLE,
        "server_error",
        "server_error",
    )
}

const STYLESHEET: &str = include_str!("../../static/app.css");

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(STYLESHEET)
}

/// Submits forms marked `data-autosubmit` (the hand-off to PayTR), and keeps inputs marked
/// `data-digits` (the card number) to digits as the shopper types, since PayTR takes digits
/// only. Pages work without it: the input's pattern then refuses spaces with the browser's
/// own message.
const SCRIPT: &str = include_str!("../../static/app.js");

pub async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(SCRIPT)
}

pub async fn not_found(req: HttpRequest, session: crate::sessions::Session) -> HttpResponse {
    let ctx = Ctx::load(&req, &session);
    message(&ctx, StatusCode::NOT_FOUND, "not_found", "not_found")
}
