//! Staff management (owners): the list, and disabling or enabling a member, each with a fresh
//! TOTP code. New members are added from the command line (`admin add-user`), which prints
//! their TOTP secret to them alone.

use super::{AdminLayout, Staff, audit_action, cross_site, forbidden};
use crate::app_state::AppState;
use crate::routes::errors::PageError;
use crate::routes::filters;
use crate::routes::pages::{redirect, render};
use crate::staff::{self as members, StaffUser, spend_totp};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "admin/staff.html")]
struct StaffPage {
    layout: AdminLayout,
    members: Vec<StaffUser>,
    me: i64,
    error: Option<&'static str>,
}

async fn staff_page(
    staff: &Staff,
    state: &AppState,
    status: StatusCode,
    error: Option<&'static str>,
) -> Result<HttpResponse, PageError> {
    let list = state.db.run(members::all).await?;
    let page = StaffPage {
        layout: AdminLayout::new(staff, "adm_staff", "staff"),
        members: list,
        me: staff.0.staff.id,
        error,
    };
    Ok(render(status, &page))
}

/// `GET /admin/staff` (owners).
pub async fn list(staff: Staff, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    if !staff.role().may_refund() {
        return Ok(forbidden(&staff));
    }
    staff_page(&staff, &state, StatusCode::OK, None).await
}

#[derive(Deserialize)]
pub struct ChangeForm {
    csrf_token: String,
    code: String,
    /// `disable` or `enable`.
    action: String,
}

/// `POST /admin/staff/{id}`: disable or enable a member (owners; never oneself).
pub async fn change(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<ChangeForm>,
) -> Result<HttpResponse, PageError> {
    if !staff.role().may_refund() || cross_site(&req) || !staff.csrf_ok(&form.csrf_token) {
        return Ok(forbidden(&staff));
    }
    let (id, now) = (id.into_inner(), crate::db::unix_now());
    let disable = match form.action.as_str() {
        "disable" => true,
        "enable" => false,
        _ => return Ok(forbidden(&staff)),
    };
    if id == staff.0.staff.id {
        return staff_page(
            &staff,
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("adm_not_yourself"),
        )
        .await;
    }
    let (sealer, me, code) = (
        state.sealer.clone(),
        staff.0.staff.clone(),
        form.code.clone(),
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
            "staff_change_totp_refused",
            format!("staff:{id}"),
            String::new(),
        )
        .await;
        return staff_page(
            &staff,
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("adm_totp_refused"),
        )
        .await;
    }
    let changed = state
        .db
        .write(move |conn| members::set_disabled(conn, id, disable.then_some(now)))
        .await?;
    let action = if disable {
        "staff_disable"
    } else {
        "staff_enable"
    };
    let detail = if changed { "done" } else { "no such member" };
    audit_action(
        &state,
        &req,
        &staff,
        action,
        format!("staff:{id}"),
        detail.to_owned(),
    )
    .await;
    Ok(redirect("/admin/staff"))
}
