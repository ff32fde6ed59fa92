//! The notifications log (refused ones too) and "check with PayTR": a status inquiry for one
//! merchant_oid shown beside what we recorded.

use super::{AdminLayout, Staff, audit_action, cross_site, forbidden};
use crate::app_state::AppState;
use crate::db::backoffice::{self, NotificationRow};
use crate::domain::MerchantOid;
use crate::paytr::StatusAnswer;
use crate::routes::errors::PageError;
use crate::routes::filters;
use crate::routes::pages::render;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

const PAGE: i64 = 100;

#[derive(Template)]
#[template(path = "admin/notifications.html")]
struct ListPage {
    layout: AdminLayout,
    outcome: String,
    outcomes: Vec<&'static str>,
    rows: Vec<NotificationRow>,
    next: Option<i64>,
    /// The inquiry asked for on this page: (merchant_oid, ours, PayTR's).
    inquiry: Option<(String, String, String)>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    outcome: String,
    before: Option<i64>,
}

async fn list_page(
    staff: &Staff,
    state: &AppState,
    outcome: String,
    before: Option<i64>,
    inquiry: Option<(String, String, String)>,
) -> Result<HttpResponse, PageError> {
    let filter = Some(outcome.clone()).filter(|o| !o.is_empty());
    let mut rows = state
        .db
        .run(move |conn| {
            backoffice::notifications_page(conn, filter.as_deref(), None, before, PAGE + 1)
        })
        .await?;
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    let next = more.then(|| rows.last().map(|(id, _)| *id)).flatten();
    let page = ListPage {
        layout: AdminLayout::new(staff, "adm_notifications", "notifications"),
        outcome,
        outcomes: crate::notifications::Outcome::ALL
            .iter()
            .map(|o| o.code())
            .collect(),
        rows: rows.into_iter().map(|(_, r)| r).collect(),
        next,
        inquiry,
    };
    Ok(render(StatusCode::OK, &page))
}

/// `GET /admin/notifications`.
pub async fn list(
    staff: Staff,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let query = query.into_inner();
    list_page(&staff, &state, query.outcome, query.before, None).await
}

#[derive(Deserialize)]
pub struct InquiryForm {
    csrf_token: String,
    merchant_oid: String,
}

/// `POST /admin/notifications/inquiry`: asks PayTR about one merchant_oid (nothing changes).
pub async fn inquiry(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    form: web::Form<InquiryForm>,
) -> Result<HttpResponse, PageError> {
    if cross_site(&req) || !staff.csrf_ok(&form.csrf_token) {
        return Ok(forbidden(&staff));
    }
    let lang = staff.0.lang;
    let t = |key| crate::routes::i18n::t(lang, key);
    let Ok(oid) = MerchantOid::parse(form.merchant_oid.trim()) else {
        let shown = (
            form.merchant_oid.chars().take(64).collect(),
            String::new(),
            t("adm_bad_oid").to_owned(),
        );
        return list_page(&staff, &state, String::new(), None, Some(shown)).await;
    };
    let ours = {
        let oid = oid.as_str().to_owned();
        state
            .db
            .run(move |conn| backoffice::our_status(conn, &oid))
            .await?
    };
    let ours = match ours {
        Some(key) => crate::routes::i18n::t(lang, &key).to_owned(),
        None => t("adm_not_ours").to_owned(),
    };
    let theirs = match state.paytr.payment_status(&oid).await {
        Ok(StatusAnswer::Paid(s)) => {
            let refunds: Vec<String> = s
                .returns
                .iter()
                .map(|r| format!("{} ({})", r.return_amount, r.reference_no))
                .collect();
            format!(
                "{} {} {} · {}{}",
                t("adm_paytr_paid"),
                s.payment_total,
                s.currency,
                s.payment_date,
                if refunds.is_empty() {
                    String::new()
                } else {
                    format!(" · {}: {}", t("refunds"), refunds.join(", "))
                }
            )
        }
        Ok(StatusAnswer::NotPaid(_)) => t("adm_paytr_not_paid").to_owned(),
        Ok(StatusAnswer::Refused(e)) => {
            format!("{} ({} {})", t("adm_paytr_refused"), e.err_no, e.err_msg)
        }
        Err(e) => format!("{} ({e})", t("adm_paytr_unreachable")),
    };
    audit_action(
        &state,
        &req,
        &staff,
        "status_inquiry",
        format!("oid:{oid}"),
        theirs.clone(),
    )
    .await;
    list_page(
        &staff,
        &state,
        String::new(),
        None,
        Some((oid.to_string(), ours, theirs)),
    )
    .await
}
