//! The dashboard and the audit log.

use super::{AdminLayout, Staff};
use crate::app_state::AppState;
use crate::db::backoffice::{self, Figures};
use crate::domain::{Currency, Money};
use crate::routes::errors::PageError;
use crate::routes::filters::{self, Price};
use crate::routes::pages::render;
use crate::staff::audit::{self, AuditEntry};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    layout: AdminLayout,
    figures: Figures,
    today: Price,
    month: Price,
    /// (PayTR's reason code, our words, how many).
    failures: Vec<(String, &'static str, i64)>,
}

fn tl(kurus: i64) -> Price {
    Price::new(
        Money::from_kurus(kurus.max(0)).unwrap_or_default(),
        Currency::Tl,
    )
}

/// `GET /admin`.
pub async fn page(staff: Staff, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let now = crate::db::unix_now();
    let figures = state
        .db
        .run(move |conn| backoffice::figures(conn, now))
        .await?;
    let lang = staff.0.lang;
    let page = DashboardPage {
        layout: AdminLayout::new(&staff, "adm_dashboard", "dashboard"),
        today: tl(figures.today_kurus),
        month: tl(figures.month_kurus),
        failures: figures
            .failure_codes
            .iter()
            .map(|(code, n)| {
                let words = crate::routes::i18n::failure_reason(lang, Some(code.as_str()), None);
                (code.clone(), words, *n)
            })
            .collect(),
        figures,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    layout: AdminLayout,
    entries: Vec<AuditEntry>,
    next: Option<i64>,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    before: Option<i64>,
}

const AUDIT_PAGE: i64 = 100;

/// `GET /admin/audit`: newest first, a hundred a page.
pub async fn audit_page(
    staff: Staff,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, PageError> {
    let before = query.before;
    let mut entries = state
        .db
        .run(move |conn| audit::page(conn, None, before, AUDIT_PAGE + 1))
        .await?;
    let next = (entries.len() as i64 > AUDIT_PAGE).then(|| {
        entries.truncate(AUDIT_PAGE as usize);
        entries.last().map(|e| e.id)
    });
    let page = AuditPage {
        layout: AdminLayout::new(&staff, "adm_audit", "audit"),
        entries,
        next: next.flatten(),
    };
    Ok(render(StatusCode::OK, &page))
}
