//! `POST /paytr/notify`: PayTR's notification. Exempt from CSRF: its hash authenticates it.

use crate::checkout::notify::{Outcome, apply, bounded_oid, record_refused, refused_summary};
use crate::paytr::{Notification, Token};
use crate::startup::AppState;
use actix_web::{HttpResponse, web};
use std::sync::atomic::Ordering;

fn answer(status: u16, body: &'static str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
        .content_type("text/plain")
        .body(body)
}

/// Answers exactly `OK` only after the notification is committed; a bad or missing hash is
/// refused (400) and recorded; a storage failure answers non-`OK` so PayTR tries again.
#[tracing::instrument(skip_all, fields(merchant_oid = tracing::field::Empty))]
pub async fn paytr_notify(state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let parsed = Notification::from_pairs(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let refused = match &parsed {
        Err(_) => Some(Outcome::Malformed),
        Ok(n) if !n.verify(state.paytr.credentials()) => Some(Outcome::BadHash),
        Ok(_) => None,
    };
    let oid = parsed
        .as_ref()
        .map(|n| bounded_oid(&n.merchant_oid))
        .unwrap_or_default();
    tracing::Span::current().record("merchant_oid", tracing::field::debug(&oid));
    if let Some(outcome) = refused {
        // Anyone can post here: what is kept of a refusal is bounded, and so are its log lines
        // and rows per minute (the rest is counted and reported with the next one recorded).
        if state.refused_notifications.check(&["refused"]) {
            let unrecorded = state.unrecorded_refusals.swap(0, Ordering::Relaxed);
            tracing::warn!(merchant_oid = ?oid, outcome = outcome.code(), body_bytes = body.len(), unrecorded, "notification refused");
            let summary = refused_summary(&fields, body.len(), unrecorded);
            if let Err(e) = state
                .db
                .write(move |conn| record_refused(conn, &oid, outcome, &summary))
                .await
            {
                tracing::error!(error = %e, "could not record a refused notification");
            }
        } else {
            state.unrecorded_refusals.fetch_add(1, Ordering::Relaxed);
        }
        return answer(400, "PAYTR notification failed: bad hash");
    }
    let Ok(notification) = parsed else {
        return answer(400, "PAYTR notification failed");
    };
    let sealer = state.sealer.clone();
    let utoken_hint = notification.utoken.as_ref().map(Token::hint);
    match state
        .db
        .write(move |conn| apply(conn, &notification, &fields, &sealer))
        .await
    {
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
            }
            tracing::info!(merchant_oid = ?oid, outcome = applied.outcome.code(), utoken = ?utoken_hint, "notification applied");
            answer(200, "OK")
        }
        Err(e) => {
            tracing::error!(merchant_oid = ?oid, error = %e, "notification not stored; PayTR will retry");
            answer(500, "ERROR")
        }
    }
}
