//! The sandbox's own pages: the bank's 3-D page, the hand-back to the shop, the panel.

use super::Sandbox;
use super::knobs::{Fault, Knobs};
use super::payment::Charge;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use paytr::Token;
use std::collections::HashMap;
use std::time::Duration;

fn html(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header(("Cache-Control", "no-store"))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "sandbox template failed");
            HttpResponse::InternalServerError().body("sandbox page error")
        }
    }
}

fn amount(kurus: i64, currency: &str) -> String {
    format!("{}.{:02} {currency}", kurus / 100, kurus % 100)
}

#[derive(Template)]
#[template(path = "sandbox/three_d.html")]
struct ThreeDPage<'a> {
    prefix: &'a str,
    action: String,
    merchant_id: &'a str,
    amount: String,
    last_4: &'a str,
    merchant_oid: &'a str,
}

/// The simulated bank page: approve ("Gönder") or reject.
pub fn three_d_page(sandbox: &Sandbox, id: &str, charge: &Charge) -> HttpResponse {
    let card = charge.card.record();
    html(
        StatusCode::OK,
        &ThreeDPage {
            prefix: sandbox.prefix(),
            action: sandbox.url(&format!("/odeme/3d/{id}")),
            merchant_id: &sandbox.credentials().merchant_id,
            amount: amount(charge.amount_kurus, &charge.currency),
            last_4: &card.last_4,
            merchant_oid: &charge.merchant_oid,
        },
    )
}

#[derive(Template)]
#[template(path = "sandbox/redirect.html")]
struct RedirectPage<'a> {
    prefix: &'a str,
    url: &'a str,
    fail_message: Option<&'a str>,
}

/// Sends the browser back to the shop with a POST (and `fail_message` on failure), as PayTR
/// does; a small script submits it, and a button does without JavaScript.
pub fn send_browser(sandbox: &Sandbox, url: &str, fail_message: Option<&str>) -> HttpResponse {
    html(
        StatusCode::OK,
        &RedirectPage {
            prefix: sandbox.prefix(),
            url,
            fail_message,
        },
    )
}

#[derive(Template)]
#[template(path = "sandbox/failure.html")]
struct FailurePage<'a> {
    prefix: &'a str,
    message: &'a str,
}

pub fn failure_page(sandbox: &Sandbox, message: &str) -> HttpResponse {
    html(
        StatusCode::OK,
        &FailurePage {
            prefix: sandbox.prefix(),
            message,
        },
    )
}

struct CardRow {
    user: String,
    last_4: String,
    expiry: String,
    schema: String,
    bank: String,
    require_cvv: bool,
}

struct PaymentRow {
    merchant_oid: String,
    amount: String,
    /// "6 (world)", or "single".
    installments: String,
    channel: String,
    status: String,
    reason: String,
    refunded: String,
}

struct DeliveryRow {
    id: u64,
    merchant_oid: String,
    status: String,
    state: &'static str,
    attempts: Vec<String>,
    copy: bool,
}

#[derive(Template)]
#[template(path = "sandbox/dashboard.html")]
struct Dashboard<'a> {
    prefix: &'a str,
    merchant_id: &'a str,
    notify_url: &'a str,
    knobs: Knobs,
    faults: Vec<&'static str>,
    cards: Vec<CardRow>,
    payments: Vec<PaymentRow>,
    deliveries: Vec<DeliveryRow>,
}

/// The panel: merchant, knobs, stored cards (last 4 only), payments and deliveries.
pub async fn dashboard(sandbox: web::Data<Sandbox>) -> HttpResponse {
    let (cards, payments, deliveries) = sandbox.read(|s| {
        let cards = s
            .cards
            .iter()
            .map(|c| CardRow {
                user: Token::new(c.utoken.clone()).hint(),
                last_4: c.last_4.clone(),
                expiry: format!("{}/{}", c.month, c.year),
                schema: c.schema.clone(),
                bank: c.bank.clone(),
                require_cvv: c.require_cvv,
            })
            .collect();
        let payments = s
            .payments
            .iter()
            .rev()
            .map(|p| PaymentRow {
                merchant_oid: p.merchant_oid.clone(),
                amount: amount(p.amount_kurus, &p.currency),
                installments: match p.installment_count {
                    0 => "single".to_owned(),
                    n => format!("{n} ({})", p.card_type),
                },
                channel: format!("{:?}{}", p.channel, if p.non_3d { " non-3D" } else { "" }),
                status: p.status.clone(),
                reason: match (&p.failed_reason_code, &p.failed_reason_msg) {
                    (Some(code), Some(msg)) => format!("{code}: {msg}"),
                    _ => String::new(),
                },
                refunded: match p.refunded_kurus() {
                    0 => String::new(),
                    kurus => amount(kurus, &p.currency),
                },
            })
            .collect();
        let deliveries = s
            .notifications
            .iter()
            .rev()
            .map(|j| DeliveryRow {
                id: j.id,
                merchant_oid: j.merchant_oid.clone(),
                status: j
                    .fields
                    .iter()
                    .find(|(k, _)| k == "status")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
                state: if j.delivered {
                    "OK"
                } else if j.gave_up {
                    "gave up"
                } else {
                    "retrying"
                },
                attempts: j
                    .attempts
                    .iter()
                    .map(|a| {
                        let status = a
                            .http_status
                            .map_or("no answer".to_owned(), |s| format!("HTTP {s}"));
                        format!("#{} {status}: {:?}", a.attempt, a.answer)
                    })
                    .collect(),
                copy: j.duplicate_of.is_some(),
            })
            .collect();
        (cards, payments, deliveries)
    });
    html(
        StatusCode::OK,
        &Dashboard {
            prefix: sandbox.prefix(),
            merchant_id: &sandbox.credentials().merchant_id,
            notify_url: sandbox
                .inner
                .config
                .notify_url
                .as_deref()
                .unwrap_or("(none)"),
            knobs: sandbox.knobs(),
            faults: Fault::ALL.iter().map(|f| f.code()).collect(),
            cards,
            payments,
            deliveries,
        },
    )
}

fn back_to_panel(sandbox: &Sandbox) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", sandbox.url("/")))
        .finish()
}

/// `POST /notifications/{id}/resend`.
pub async fn resend(
    req: HttpRequest,
    sandbox: web::Data<Sandbox>,
    id: web::Path<u64>,
) -> HttpResponse {
    if cross_site(&req) {
        return HttpResponse::Forbidden().body("the sandbox panel only takes its own forms");
    }
    if sandbox.resend(*id) {
        back_to_panel(&sandbox)
    } else {
        HttpResponse::NotFound().body("no such notification")
    }
}

/// `POST /knobs`: fields that are present change their knob; absent fields keep theirs.
pub async fn update_knobs(
    req: HttpRequest,
    sandbox: web::Data<Sandbox>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    if cross_site(&req) {
        return HttpResponse::Forbidden().body("the sandbox panel only takes its own forms");
    }
    match apply_knobs(sandbox.knobs(), &form) {
        Ok(knobs) => {
            sandbox.set_knobs(knobs);
            back_to_panel(&sandbox)
        }
        Err(field) => HttpResponse::BadRequest().body(format!("invalid value for {field}")),
    }
}

/// The panel's forms carry no token (it is a test tool), so another site's page must not be
/// able to post them: browsers say where a form came from in `Origin` / `Sec-Fetch-Site`.
fn cross_site(req: &HttpRequest) -> bool {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site").is_some_and(|site| site == "cross-site") {
        return true;
    }
    match (header("origin"), header("host")) {
        (Some(origin), Some(host)) => origin.split("://").nth(1) != Some(host),
        _ => false,
    }
}

fn apply_knobs(mut k: Knobs, form: &HashMap<String, String>) -> Result<Knobs, &'static str> {
    let ms = |name: &'static str| -> Result<Option<Duration>, &'static str> {
        form.get(name)
            .map(|v| v.parse().map(Duration::from_millis).map_err(|_| name))
            .transpose()
    };
    let on = |name: &'static str| -> Result<Option<bool>, &'static str> {
        form.get(name)
            .map(|v| match v.as_str() {
                "on" | "1" | "true" | "allowed" => Ok(true),
                "off" | "0" | "false" | "denied" => Ok(false),
                _ => Err(name),
            })
            .transpose()
    };
    let fault = |name: &'static str| -> Result<Option<Fault>, &'static str> {
        form.get(name)
            .map(|v| Fault::parse(v).ok_or(name))
            .transpose()
    };
    k.latency = ms("latency_ms")?.unwrap_or(k.latency);
    k.notify_interval = ms("notify_interval_ms")?.unwrap_or(k.notify_interval);
    k.wait_callback = ms("wait_callback_ms")?.unwrap_or(k.wait_callback);
    k.omit_try_again = on("omit_try_again")?.unwrap_or(k.omit_try_again);
    k.capi_fault = fault("capi_fault")?.unwrap_or(k.capi_fault);
    k.recurring_fault = fault("recurring_fault")?.unwrap_or(k.recurring_fault);
    k.refund_fault = fault("refund_fault")?.unwrap_or(k.refund_fault);
    k.status_fault = fault("status_fault")?.unwrap_or(k.status_fault);
    k.bin_fault = fault("bin_fault")?.unwrap_or(k.bin_fault);
    k.rates_fault = fault("rates_fault")?.unwrap_or(k.rates_fault);
    k.status_not_found = on("status_not_found")?.unwrap_or(k.status_not_found);
    if let Some(err_no) = form.get("refund_error") {
        k.refund_error = match err_no.trim() {
            "" | "none" => None,
            code if code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) => {
                Some(code.to_owned())
            }
            _ => return Err("refund_error"),
        };
    }
    k.notify_twice = on("notify_twice")?.unwrap_or(k.notify_twice);
    k.permissions.direct_api = on("direct_api")?.unwrap_or(k.permissions.direct_api);
    k.permissions.non_3d = on("non_3d")?.unwrap_or(k.permissions.non_3d);
    k.permissions.recurring = on("recurring")?.unwrap_or(k.permissions.recurring);
    k.permissions.store_card = on("store_card")?.unwrap_or(k.permissions.store_card);
    if let Some(v) = form.get("notify_max_attempts") {
        k.notify_max_attempts = v
            .parse()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or("notify_max_attempts")?;
    }
    Ok(k)
}

const SCRIPT: &str =
    "document.querySelectorAll('form[data-autosubmit]').forEach(function (f) { f.submit(); });\n";
const STYLESHEET: &str = include_str!("../static/sandbox.css");

pub async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .body(SCRIPT)
}

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .body(STYLESHEET)
}
