//! `POST /paytr/notify`: PayTR's notification. Exempt from CSRF: its hash authenticates it.

use crate::app_state::AppState;
use crate::notifications::{Outcome, Received, apply, receive, record_refused, refused_summary};
use crate::paytr::{Notification, Token};
use actix_web::{HttpResponse, web};

fn answer(status: u16, body: &'static str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
        .content_type("text/plain")
        .body(body)
}

/// Answers exactly `OK` only after the notification is committed; a bad or missing hash is
/// refused (400) and recorded; a storage failure answers non-`OK` so PayTR tries again.
#[tracing::instrument(skip_all, fields(merchant_oid = tracing::field::Empty))]
pub async fn paytr_notify(state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    match receive(&body, state.paytr.credentials()) {
        Received::Refused {
            outcome,
            oid,
            fields,
        } => {
            tracing::Span::current().record("merchant_oid", tracing::field::debug(&oid));
            record_refusal(&state, outcome, oid, &fields, body.len()).await;
            answer(400, "PAYTR notification failed: bad hash")
        }
        Received::Valid {
            notification,
            fields,
        } => {
            let oid = notification.merchant_oid.clone();
            tracing::Span::current().record("merchant_oid", tracing::field::debug(&oid));
            accept(&state, *notification, fields).await
        }
    }
}

/// Records a refusal as a bounded summary, within the per-minute budget.
async fn record_refusal(
    state: &AppState,
    outcome: Outcome,
    oid: String,
    fields: &[(String, String)],
    body_bytes: usize,
) {
    let Some(unrecorded) = state.refused_notifications.admit() else {
        return;
    };
    tracing::warn!(merchant_oid = ?oid, outcome = outcome.code(), body_bytes, unrecorded, "notification refused");
    metrics::counter!("paytr_notifications_total", "outcome" => outcome.code()).increment(1);
    let summary = refused_summary(fields, body_bytes, unrecorded);
    if let Err(e) = state
        .db
        .write(move |conn| record_refused(conn, &oid, outcome, &summary))
        .await
    {
        tracing::error!(error = %e, "could not record a refused notification");
    }
}

/// Applies a verified notification, then answers `OK` (after the commit) or `ERROR`.
async fn accept(
    state: &AppState,
    notification: Notification,
    fields: Vec<(String, String)>,
) -> HttpResponse {
    let (sealer, test_mode, mail) = (state.sealer.clone(), state.test_mode, state.mail.clone());
    let oid = notification.merchant_oid.clone();
    let utoken_hint = notification.utoken.as_ref().map(Token::hint);
    let applied = state
        .db
        .write(move |conn| apply(conn, &notification, &fields, &sealer, test_mode, &mail))
        .await;
    match applied {
        Ok(applied) => {
            if let Some(user_id) = applied.card_saved_for {
                state.card_cache.invalidate(user_id);
            }
            if applied.outcome == Outcome::Paid {
                // A paid order may be a subscription's on-session payment: tie it to its card.
                let billing = state.billing.clone();
                actix_web::rt::spawn(async move {
                    billing.activate_pending(crate::db::unix_now()).await
                });
                // The receipt names the card: PayTR is asked which one, after the answer.
                let (db, paytr) = (state.db.clone(), state.paytr.clone());
                actix_web::rt::spawn(async move {
                    let now = crate::db::unix_now();
                    if let Err(e) = crate::receipts::learn_card(&db, &paytr, &oid, now).await {
                        tracing::warn!(error = %e, "the paid card's label was not stored");
                    }
                });
            }
            tracing::info!(outcome = applied.outcome.code(), utoken_hint = ?utoken_hint, "notification applied");
            metrics::counter!("paytr_notifications_total", "outcome" => applied.outcome.code())
                .increment(1);
            answer(200, "OK")
        }
        Err(e) => {
            tracing::error!(error = %e, "notification not stored; PayTR will retry");
            metrics::counter!("paytr_notifications_total", "outcome" => "not_stored").increment(1);
            answer(500, "ERROR")
        }
    }
}

/// What a browser (or `paytr-checkout doctor`) sees at the notification URL: PayTR POSTs here.
pub async fn notify_get() -> actix_web::HttpResponse {
    actix_web::HttpResponse::MethodNotAllowed()
        .insert_header(("allow", "POST"))
        .content_type("text/plain; charset=utf-8")
        .body(NOTIFY_GET_BODY)
}

/// The first words of [`notify_get`]'s answer, by which `doctor` knows the URL reaches us.
pub const NOTIFY_GET_BODY: &str = "paytr-checkout: PayTR posts its notifications to this URL.";
