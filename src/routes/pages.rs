//! What every page shares: the layout data, rendering, the stylesheet and the 404 page.

use crate::config::Mode;
use crate::startup::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

/// Data the base layout needs on every page.
pub struct Layout {
    pub title: String,
    pub sandbox: bool,
    pub lang: &'static str,
}

impl Layout {
    pub fn new(state: &AppState, title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            sandbox: state.mode() == Mode::Sandbox,
            lang: "tr",
        }
    }
}

/// Renders a page; a template error is logged and shown as a plain apology, never as detail.
pub fn render(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("Bir hata oluştu. / Something went wrong.")
        }
    }
}

const STYLESHEET: &str = include_str!("../../static/app.css");

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(STYLESHEET)
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage {
    layout: Layout,
}

pub async fn not_found(state: web::Data<AppState>) -> HttpResponse {
    let page = NotFoundPage {
        layout: Layout::new(&state, "Sayfa bulunamadı"),
    };
    render(StatusCode::NOT_FOUND, &page)
}
