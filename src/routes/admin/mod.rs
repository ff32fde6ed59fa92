//! The back office under `/admin`: staff log-in (password and TOTP), the dashboard, orders
//! (search, keyset pages, CSV export, timeline, refunds) and the audit log. Staff sessions are
//! their own (cookie `admin_sid`, `Path=/admin`); a shopper's session gives nothing here.

mod api;
mod auth;
mod customers;
mod dashboard;
mod notifications;
mod orders;
mod staff;
mod subscriptions;

use super::ctx::{client_ip, ip_bucket};
use super::i18n;
use super::pages::{redirect, render};
use crate::app_state::AppState;
use crate::domain::Lang;
use crate::staff::Role;
use crate::staff::audit::{self, Actor};
use crate::staff::session::{self, StaffSession};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use askama::Template;
use std::future::Future;
use std::pin::Pin;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .route("", web::get().to(dashboard::page))
            .route("/", web::get().to(dashboard::page))
            .route("/login", web::get().to(auth::login_form))
            .route("/login", web::post().to(auth::login))
            .route("/logout", web::post().to(auth::logout))
            .route("/orders", web::get().to(orders::list))
            .route("/orders.csv", web::get().to(orders::export))
            .route("/orders/{id}", web::get().to(orders::page))
            .route("/orders/{id}/refunds", web::post().to(orders::refund))
            .route("/orders/{id}/receipt", web::post().to(orders::send_receipt))
            .route("/audit", web::get().to(dashboard::audit_page))
            .route("/subscriptions", web::get().to(subscriptions::list))
            .route("/subscriptions/{id}", web::get().to(subscriptions::page))
            .route("/subscriptions/{id}", web::post().to(subscriptions::act))
            .route("/customers", web::get().to(customers::list))
            .route("/customers/{id}", web::get().to(customers::page))
            .route("/notifications", web::get().to(notifications::list))
            .route(
                "/notifications/inquiry",
                web::post().to(notifications::inquiry),
            )
            .route("/api", web::get().to(api::page))
            .route("/api/keys", web::post().to(api::change_key))
            .route("/api/deliveries/{id}/replay", web::post().to(api::replay))
            .route("/staff", web::get().to(staff::list))
            .route("/staff/{id}", web::post().to(staff::change))
            .default_service(web::to(not_found)),
    );
}

/// The staff cookie's name: `__Secure-` prefixed over https.
fn cookie_name(state: &AppState) -> String {
    if state.settings.secure_cookies(&state.public_url) {
        format!("__Secure-{}", session::COOKIE)
    } else {
        session::COOKIE.to_owned()
    }
}

/// A signed-in staff member, as an extractor: anyone else is sent to the log-in page.
pub struct Staff(pub StaffSession);

impl FromRequest for Staff {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let to_login = || {
                actix_web::error::InternalError::from_response(
                    "staff log-in required",
                    redirect("/admin/login"),
                )
            };
            let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
                return Err(to_login().into());
            };
            let Some(cookie) = req.cookie(&cookie_name(&state)) else {
                return Err(to_login().into());
            };
            let value = cookie.value().to_owned();
            let now = crate::db::unix_now();
            let loaded = state
                .db
                .run(move |conn| session::load(conn, &value, now))
                .await;
            match loaded {
                Ok(Some(mut s)) => {
                    if s.stale {
                        let id = s.id_hash.clone();
                        let _ = state.db.write(move |c| session::touch(c, &id, now)).await;
                    }
                    if let Some(lang) = query_lang(&req) {
                        let id = s.id_hash.clone();
                        let _ = state
                            .db
                            .write(move |c| session::set_lang(c, &id, lang))
                            .await;
                        s.lang = lang;
                    }
                    Ok(Staff(s))
                }
                Ok(None) => Err(to_login().into()),
                Err(e) => {
                    tracing::error!(error = %e, "staff session not loaded");
                    Err(actix_web::error::InternalError::from_response(
                        "database",
                        HttpResponse::ServiceUnavailable().body("Service unavailable"),
                    )
                    .into())
                }
            }
        })
    }
}

fn query_lang(req: &HttpRequest) -> Option<Lang> {
    req.query_string()
        .split('&')
        .find_map(|p| p.strip_prefix("lang="))
        .and_then(|l| Lang::parse(l).ok())
}

impl Staff {
    pub fn role(&self) -> Role {
        self.0.staff.role()
    }

    /// The form's token is this session's (constant time).
    pub fn csrf_ok(&self, token: &str) -> bool {
        let mine = self.0.csrf.as_bytes();
        mine.len() == token.len()
            && mine
                .iter()
                .zip(token.as_bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// The frame of every back-office page.
pub struct AdminLayout {
    pub title: &'static str,
    pub lang: Lang,
    pub csrf: String,
    pub email: String,
    pub role: &'static str,
    pub owner: bool,
    /// Which menu entry is current.
    pub section: &'static str,
}

impl AdminLayout {
    pub fn new(staff: &Staff, title: &'static str, section: &'static str) -> Self {
        Self {
            title,
            lang: staff.0.lang,
            csrf: staff.0.csrf.clone(),
            email: staff.0.staff.email.clone(),
            role: staff.role().code(),
            owner: staff.role() == Role::Owner,
            section,
        }
    }

    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        i18n::t(self.lang, key)
    }

    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }
}

/// The address a staff action came from, for the audit log.
fn actor_ip(req: &HttpRequest, state: &AppState) -> String {
    client_ip(req, &state.settings.trusted_proxies)
        .map(|ip| ip.to_string())
        .unwrap_or_default()
}

/// Writes an audit entry for `staff`; a failure is logged, never shown.
async fn audit_action(
    state: &AppState,
    req: &HttpRequest,
    staff: &Staff,
    action: &'static str,
    target: String,
    detail: String,
) {
    let ip = actor_ip(req, state);
    let (id, email) = (staff.0.staff.id, staff.0.staff.email.clone());
    let now = crate::db::unix_now();
    let written = state
        .db
        .write(move |conn| {
            let actor = Actor {
                staff_id: Some(id),
                email: &email,
                ip: &ip,
            };
            audit::record(conn, &actor, action, &target, &detail, now)
        })
        .await;
    if let Err(e) = written {
        tracing::error!(error = %e, action, "audit entry not written");
    }
}

/// Browsers say where a form came from: a POST from another site is refused.
fn cross_site(req: &HttpRequest) -> bool {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site").is_some_and(|site| site == "cross-site" || site == "same-site") {
        return true;
    }
    match (header("origin"), header("host")) {
        (Some(origin), Some(host)) => origin.split("://").nth(1) != Some(host),
        _ => false,
    }
}

#[derive(Template)]
#[template(path = "admin/message.html")]
struct MessagePage {
    lang: Lang,
    heading: &'static str,
    text: &'static str,
}

impl MessagePage {
    fn t<'a>(&self, key: &'a str) -> &'a str {
        i18n::t(self.lang, key)
    }
}

fn message(
    lang: Lang,
    status: StatusCode,
    heading: &'static str,
    text: &'static str,
) -> HttpResponse {
    render(
        status,
        &MessagePage {
            lang,
            heading,
            text,
        },
    )
}

async fn not_found() -> HttpResponse {
    message(
        Lang::default(),
        StatusCode::NOT_FOUND,
        "adm_not_found",
        "adm_not_found_text",
    )
}

/// What a staff member may not do.
fn forbidden(staff: &Staff) -> HttpResponse {
    message(
        staff.0.lang,
        StatusCode::FORBIDDEN,
        "adm_forbidden",
        "adm_forbidden_text",
    )
}

fn rate_key(req: &HttpRequest, state: &AppState) -> String {
    client_ip(req, &state.settings.trusted_proxies)
        .map(|ip| format!("staff:{}", ip_bucket(&ip)))
        .unwrap_or_else(|_| "staff:unknown".into())
}
