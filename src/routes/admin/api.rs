//! The hosted checkout API in the back office (owners): keys created (shown once) and revoked,
//! each with a fresh TOTP code, and the webhook deliveries with their attempts, replayable.

use super::{AdminLayout, Staff, audit_action, cross_site, forbidden};
use crate::api::keys::{self, ApiKey};
use crate::app_state::AppState;
use crate::db::schema::{webhook_deliveries as wd, webhook_endpoints as we};
use crate::db::unix_now;
use crate::routes::errors::PageError;
use crate::routes::filters;

use crate::routes::pages::{redirect, render};
use crate::staff::spend_totp;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

/// One delivery as the back office shows it (fields in the query's order).
#[derive(Queryable)]
pub struct DeliveryRow {
    pub id: i64,
    pub message_id: String,
    pub event_type: String,
    pub url: String,
    pub object_id: String,
    pub attempts: i32,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/api.html")]
struct ApiPage {
    layout: AdminLayout,
    keys: Vec<ApiKey>,
    deliveries: Vec<DeliveryRow>,
    mode: &'static str,
    /// A key just created: shown this once.
    created: Option<String>,
    error: Option<&'static str>,
}

async fn api_page(
    staff: &Staff,
    state: &AppState,
    status: StatusCode,
    created: Option<String>,
    error: Option<&'static str>,
) -> Result<HttpResponse, PageError> {
    let (keys, deliveries) = state
        .db
        .run(|conn| {
            let keys = keys::list(conn)?;
            let deliveries: Vec<DeliveryRow> = wd::table
                .inner_join(we::table)
                .order(wd::id.desc())
                .limit(100)
                .select((
                    wd::id,
                    wd::message_id,
                    wd::event_type,
                    we::url,
                    wd::object_id,
                    wd::attempts,
                    wd::created_at,
                    wd::delivered_at,
                    wd::last_status,
                    wd::last_error,
                ))
                .load(conn)?;
            Ok((keys, deliveries))
        })
        .await?;
    let page = ApiPage {
        layout: AdminLayout::new(staff, "adm_api", "api"),
        keys,
        deliveries,
        mode: keys::mode_of(state.test_mode),
        created,
        error,
    };
    Ok(render(status, &page))
}

/// `GET /admin/api` (owners).
pub async fn page(staff: Staff, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    if !staff.role().may_refund() {
        return Ok(forbidden(&staff));
    }
    api_page(&staff, &state, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
pub struct KeyForm {
    csrf_token: String,
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    origins: String,
    /// `create`, or `revoke` with `key`.
    action: String,
    #[serde(default)]
    key: String,
}

/// `POST /admin/api/keys`: create (the key is shown once) or revoke a key, with a fresh TOTP
/// code; audited.
pub async fn change_key(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    form: web::Form<KeyForm>,
) -> Result<HttpResponse, PageError> {
    if !staff.role().may_refund() || cross_site(&req) || !staff.csrf_ok(&form.csrf_token) {
        return Ok(forbidden(&staff));
    }
    let again = |error| {
        api_page(
            &staff,
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(error),
        )
    };
    let origins: Result<Vec<String>, String> =
        form.origins.split_whitespace().map(keys::origin).collect();
    let name: String = form.name.trim().chars().take(60).collect();
    if form.action == "create" && (name.is_empty() || origins.is_err()) {
        return again("adm_api_key_invalid").await;
    }
    if !matches!(form.action.as_str(), "create" | "revoke") {
        return Ok(forbidden(&staff));
    }
    let (sealer, me, code, now) = (
        state.sealer.clone(),
        staff.0.staff.clone(),
        form.code.clone(),
        unix_now(),
    );
    let fresh = state
        .db
        .write(move |conn| spend_totp(conn, &sealer, &me, &code, now))
        .await?;
    if !fresh {
        audit_action(
            &state,
            &req,
            &staff,
            "api_key_totp_refused",
            String::new(),
            String::new(),
        )
        .await;
        return again("adm_totp_refused").await;
    }
    if form.action == "revoke" {
        let id = form.key.clone();
        let target = format!("api_key:{id}");
        let done = state.db.write(move |conn| keys::revoke(conn, &id)).await?;
        let detail = if done {
            "revoked"
        } else {
            "no such active key"
        };
        audit_action(
            &state,
            &req,
            &staff,
            "api_key_revoke",
            target,
            detail.into(),
        )
        .await;
        return Ok(redirect("/admin/api"));
    }
    let mode = keys::mode_of(state.test_mode);
    let origins = origins.unwrap_or_default();
    let (row, key) = state
        .db
        .write(move |conn| keys::create(conn, &name, mode, &origins))
        .await?;
    audit_action(
        &state,
        &req,
        &staff,
        "api_key_create",
        format!("api_key:{}", row.public_id),
        row.prefix.clone(),
    )
    .await;
    api_page(&staff, &state, StatusCode::OK, Some(key), None).await
}

#[derive(Deserialize)]
pub struct ReplayForm {
    csrf_token: String,
}

/// `POST /admin/api/deliveries/{id}/replay`: sends the message again (same `webhook-id`, so a
/// receiver that keeps ids acts on it once), with a fresh 3-day window.
pub async fn replay(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<ReplayForm>,
) -> Result<HttpResponse, PageError> {
    if !staff.role().may_refund() || cross_site(&req) || !staff.csrf_ok(&form.csrf_token) {
        return Ok(forbidden(&staff));
    }
    let id = id.into_inner();
    let now = unix_now();
    let replayed = state
        .db
        .write(move |conn| {
            Ok(diesel::update(wd::table.find(id))
                .set((
                    wd::delivered_at.eq(None::<i64>),
                    wd::next_attempt_at.eq(now),
                    wd::created_at.eq(now),
                    wd::attempts.eq(0),
                ))
                .execute(conn)?)
        })
        .await?;
    let detail = if replayed == 1 {
        "queued"
    } else {
        "no such delivery"
    };
    audit_action(
        &state,
        &req,
        &staff,
        "webhook_replay",
        format!("delivery:{id}"),
        detail.into(),
    )
    .await;
    Ok(redirect("/admin/api"))
}
