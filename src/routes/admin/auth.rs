//! Staff log-in: e-mail, password and a TOTP code, all three every time.

use super::{Staff, audit_action, cookie_name, cross_site, message, rate_key};
use crate::app_state::AppState;
use crate::domain::Lang;
use crate::routes::pages::{redirect, render};
use crate::staff::audit::{self, Actor};
use crate::staff::session::{self, ABSOLUTE_SECS};
use crate::staff::{StaffUser, spend_totp};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage {
    lang: Lang,
    email: String,
    error: Option<&'static str>,
}

impl LoginPage {
    fn t<'a>(&self, key: &'a str) -> &'a str {
        crate::routes::i18n::t(self.lang, key)
    }
}

fn lang_of(req: &HttpRequest) -> Lang {
    super::query_lang(req).unwrap_or_default()
}

/// `GET /admin/login`.
pub async fn login_form(req: HttpRequest) -> HttpResponse {
    render(
        StatusCode::OK,
        &LoginPage {
            lang: lang_of(&req),
            email: String::new(),
            error: None,
        },
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    code: String,
}

/// `POST /admin/login`: password and TOTP code checked together, one answer for any mistake.
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    let lang = lang_of(&req);
    if cross_site(&req) {
        return message(
            lang,
            StatusCode::FORBIDDEN,
            "adm_forbidden",
            "adm_forbidden_text",
        );
    }
    let address_key = rate_key(&req, &state);
    let email = form.email.trim().to_lowercase();
    let account_key = format!("{address_key}|{email}");
    if !state.login_limiter.check(&[&address_key]).await
        || !state.login_throttle.wait(&account_key).is_zero()
    {
        let page = LoginPage {
            lang,
            email,
            error: Some("adm_login_wait"),
        };
        return render(StatusCode::TOO_MANY_REQUESTS, &page);
    }
    let ip = super::actor_ip(&req, &state);
    let (password, code) = (form.password.clone(), form.code.clone());
    let (sealer, now) = (state.sealer.clone(), crate::db::unix_now());
    let checked = {
        let email = email.clone();
        state
            .db
            .write(move |conn| {
                let staff = StaffUser::find_by_email(conn, &email)?;
                let hash = staff
                    .as_ref()
                    .map_or(crate::accounts::dummy_hash(), |s| s.password_hash.as_str());
                let password_ok = crate::accounts::verify_password(&password, hash);
                let staff = staff.filter(|s| s.disabled_at.is_none());
                let ok = match &staff {
                    Some(s) if password_ok => spend_totp(conn, &sealer, s, &code, now)?,
                    _ => false,
                };
                let actor = Actor {
                    staff_id: staff.as_ref().map(|s| s.id),
                    email: &email,
                    ip: &ip,
                };
                let action = if ok { "login" } else { "login_failed" };
                audit::record(conn, &actor, action, "", "", now)?;
                match staff {
                    Some(s) if ok => Ok(Some(session::create(conn, s.id, lang, now)?)),
                    _ => Ok(None),
                }
            })
            .await
    };
    match checked {
        Ok(Some(value)) => {
            state.login_throttle.succeeded(&account_key);
            let cookie = Cookie::build(cookie_name(&state), value)
                .path("/admin")
                .http_only(true)
                .secure(state.settings.secure_cookies(&state.public_url))
                .same_site(SameSite::Strict)
                .max_age(actix_web::cookie::time::Duration::seconds(ABSOLUTE_SECS))
                .finish();
            let mut response = redirect("/admin");
            let _ = response.add_cookie(&cookie);
            response
        }
        Ok(None) => {
            state.login_throttle.failed(&account_key);
            let page = LoginPage {
                lang,
                email,
                error: Some("adm_login_refused"),
            };
            render(StatusCode::UNAUTHORIZED, &page)
        }
        Err(e) => {
            tracing::error!(error = %e, "staff log-in failed");
            message(
                lang,
                StatusCode::SERVICE_UNAVAILABLE,
                "adm_unavailable",
                "adm_unavailable_text",
            )
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf_token: String,
}

/// `POST /admin/logout`.
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    if !staff.csrf_ok(&form.csrf_token) {
        return super::forbidden(&staff);
    }
    audit_action(&state, &req, &staff, "logout", String::new(), String::new()).await;
    if let Some(cookie) = req.cookie(&cookie_name(&state)) {
        let value = cookie.value().to_owned();
        let _ = state.db.write(move |conn| session::end(conn, &value)).await;
    }
    let mut gone = Cookie::build(cookie_name(&state), "")
        .path("/admin")
        .finish();
    gone.make_removal();
    let mut response = redirect("/admin/login");
    let _ = response.add_cookie(&gone);
    response
}
