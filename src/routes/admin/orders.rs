//! Orders: the list (search, filters, keyset pages), the CSV export (streamed), an order's
//! timeline and refunds from it.

use super::{AdminLayout, Staff, audit_action, cross_site, forbidden};
use crate::app_state::AppState;
use crate::db::backoffice::{self, NotificationRow, OrderFilter};
use crate::db::models::Order;
use crate::db::refunds::{Refund, Refundable};
use crate::db::states::{AttemptStatus, OrderStatus, RefundStatus, StoredText};
use crate::domain::{Lang, MerchantOid, Money};
use crate::refunds::{RefundRefused, RefundRequest};
use crate::routes::errors::PageError;
use crate::routes::filters::{self, Price};
use crate::routes::i18n::t;
use crate::routes::pages::{redirect, render};
use crate::staff::{audit, spend_totp};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use std::collections::HashMap;

/// Orders per page.
const PAGE: i64 = 50;

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    min: String,
    #[serde(default)]
    max: String,
    before: Option<i64>,
}

impl ListQuery {
    /// The filter, or the fields that could not be read (field → message key).
    fn filter(&self) -> Result<OrderFilter, HashMap<&'static str, &'static str>> {
        let mut errors = HashMap::new();
        let date = |value: &str, field: &'static str, errors: &mut HashMap<_, _>| {
            let value = value.trim();
            if value.is_empty() {
                return None;
            }
            let parsed = (value.len() == 10)
                .then(|| crate::cli::parse_time(value).ok())
                .flatten();
            if parsed.is_none() {
                errors.insert(field, "adm_bad_date");
            }
            // Turkish midnight.
            parsed.map(|t| t - 3 * 3600)
        };
        let amount = |value: &str, field: &'static str, errors: &mut HashMap<_, _>| {
            let value = value.trim().replace(',', ".");
            if value.is_empty() {
                return None;
            }
            let parsed = Money::parse_decimal(&value).ok().map(Money::kurus);
            if parsed.is_none() {
                errors.insert(field, "adm_bad_amount");
            }
            parsed
        };
        let status = match self.status.as_str() {
            "" => None,
            code => {
                let parsed = OrderStatus::parse(code);
                if parsed.is_none() {
                    errors.insert("status", "adm_bad_status");
                }
                parsed
            }
        };
        let filter = OrderFilter {
            query: Some(self.q.trim().to_owned()).filter(|q| !q.is_empty()),
            status,
            from: date(&self.from, "from", &mut errors),
            until: date(&self.to, "to", &mut errors).map(|t| t + 86_400),
            min_kurus: amount(&self.min, "min", &mut errors),
            max_kurus: amount(&self.max, "max", &mut errors),
        };
        if errors.is_empty() {
            Ok(filter)
        } else {
            Err(errors)
        }
    }

    /// The query string of these filters (without `before`), for links.
    fn filters_query(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &self.q)
            .append_pair("status", &self.status)
            .append_pair("from", &self.from)
            .append_pair("to", &self.to)
            .append_pair("min", &self.min)
            .append_pair("max", &self.max)
            .finish()
    }
}

pub struct OrderLine {
    pub public_id: String,
    pub created_at: i64,
    pub email: String,
    pub full_name: String,
    pub status: &'static str,
    pub total: Price,
}

impl OrderLine {
    pub(super) fn of(o: &Order) -> Self {
        Self {
            public_id: o.public_id.clone(),
            created_at: o.created_at,
            email: o.email.clone(),
            full_name: o.full_name.clone(),
            status: o.status.page_key(),
            total: Price::new(o.total, o.currency),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/orders.html")]
struct ListPage {
    layout: AdminLayout,
    query: ListQuery,
    errors: HashMap<&'static str, &'static str>,
    orders: Vec<OrderLine>,
    next: Option<String>,
    filters: String,
    statuses: Vec<(&'static str, &'static str)>,
}

impl ListPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(|k| t(self.layout.lang, k))
    }
}

/// `GET /admin/orders`.
pub async fn list(
    staff: Staff,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let query = query.into_inner();
    let (orders, errors, next) = match query.filter() {
        Ok(filter) => {
            let before = query.before;
            let mut rows = state
                .db
                .read(move |conn| backoffice::orders_page(conn, &filter, before, PAGE + 1))
                .await?;
            let more = rows.len() as i64 > PAGE;
            rows.truncate(PAGE as usize);
            let next = more
                .then(|| {
                    rows.last()
                        .map(|o| format!("{}&before={}", query.filters_query(), o.id))
                })
                .flatten();
            (
                rows.iter().map(OrderLine::of).collect(),
                HashMap::new(),
                next,
            )
        }
        Err(errors) => (Vec::new(), errors, None),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = ListPage {
        layout: AdminLayout::new(&staff, "adm_orders", "orders"),
        filters: query.filters_query(),
        statuses: OrderStatus::ALL
            .iter()
            .map(|s| (s.code(), s.page_key()))
            .collect(),
        query,
        errors,
        orders,
        next,
    };
    Ok(render(status, &page))
}

/// A CSV field: quoted when needed, and never read as a formula by a spreadsheet.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

fn csv_rows(orders: &[Order]) -> String {
    let mut out = String::new();
    for o in orders {
        let line = [
            csv_field(&o.public_id),
            paytr::types::date_string(o.created_at),
            o.status.code().to_owned(),
            o.total.to_paytr_decimal(),
            o.currency.code().to_owned(),
            csv_field(&o.email),
            csv_field(&o.full_name),
        ]
        .join(",");
        out.push_str(&line);
        out.push_str("\r\n");
    }
    out
}

/// Rows fetched per step of the export: memory stays flat whatever the number of orders.
const EXPORT_CHUNK: i64 = 1000;

/// `GET /admin/orders.csv`: every order the filters select, streamed page by page.
pub async fn export(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> HttpResponse {
    let Ok(filter) = query.filter() else {
        return HttpResponse::BadRequest().body("invalid filters");
    };
    audit_action(
        &state,
        &req,
        &staff,
        "orders_export",
        String::new(),
        query.filters_query(),
    )
    .await;
    let header = Bytes::from_static(b"order,created,status,total,currency,email,name\r\n");
    let db = state.db.clone();
    let rows = futures_util::stream::unfold(Some(None), move |cursor: Option<Option<i64>>| {
        let (db, filter) = (db.clone(), filter.clone());
        async move {
            let before = cursor?;
            let page = db
                .run(move |conn| backoffice::orders_page(conn, &filter, before, EXPORT_CHUNK))
                .await;
            match page {
                Ok(orders) if orders.is_empty() => None,
                Ok(orders) => {
                    let next =
                        (orders.len() as i64 == EXPORT_CHUNK).then(|| orders.last().map(|o| o.id));
                    let chunk = Bytes::from(csv_rows(&orders));
                    Some((Ok::<_, actix_web::Error>(chunk), next))
                }
                Err(e) => {
                    tracing::error!(error = %e, "order export stopped");
                    None
                }
            }
        }
    });
    let body = futures_util::stream::StreamExt::chain(
        futures_util::stream::once(async move { Ok::<_, actix_web::Error>(header) }),
        rows,
    );
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"orders.csv\""))
        .insert_header(("Cache-Control", "no-store"))
        .streaming(body)
}

/// One line of an order's timeline.
pub struct Event {
    pub at: i64,
    pub what: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "admin/order.html")]
struct OrderPage {
    layout: AdminLayout,
    order: OrderLine,
    paid: bool,
    phone: String,
    address: String,
    /// `2026-000123`.
    number: String,
    /// The paid payment: its card, its installments (0: single) and what was collected.
    payment: Option<(String, i32, Option<Price>)>,
    events: Vec<Event>,
    /// What can still be refunded, when a payment can be.
    refundable: Option<Price>,
    result: Option<String>,
    error: Option<&'static str>,
    amount: String,
    reason: String,
}

fn timeline(
    lang: Lang,
    order: &Order,
    h: backoffice::OrderHistory,
    staff: Vec<audit::AuditEntry>,
) -> Vec<Event> {
    let mut events = vec![Event {
        at: order.created_at,
        what: t(lang, "adm_ev_created").to_owned(),
        detail: String::new(),
    }];
    for a in &h.attempts {
        let reason = a.failed_reason_msg.clone().unwrap_or_default();
        events.push(Event {
            at: a.created_at,
            what: format!("{} {}", t(lang, "adm_ev_attempt"), a.merchant_oid),
            detail: format!("{} {}", t(lang, a.status.page_key()), reason),
        });
    }
    for n in &h.notifications {
        events.push(notification_event(lang, n));
    }
    for r in &h.refunds {
        events.push(Event {
            at: r.created_at,
            what: format!(
                "{} {}.{:02} {}",
                t(lang, "adm_ev_refund"),
                r.amount_kurus / 100,
                r.amount_kurus % 100,
                r.currency
            ),
            detail: format!(
                "{} · {} · {}{}",
                t(lang, &r.status.page_key()),
                r.reference_no,
                r.requested_by,
                refund_words(lang, r)
                    .map(|w| format!(" · {w}"))
                    .unwrap_or_default()
            ),
        });
    }
    for e in staff {
        events.push(Event {
            at: e.created_at,
            what: format!("{} {}", t(lang, "adm_ev_staff"), e.staff_email),
            detail: format!("{} {} ({})", e.action, e.detail, e.ip),
        });
    }
    events.sort_by_key(|e| e.at);
    events
}

fn notification_event(lang: Lang, n: &NotificationRow) -> Event {
    let source = if n.fields_json.contains("status_inquiry") {
        t(lang, "adm_ev_inquiry")
    } else {
        t(lang, "adm_ev_notification")
    };
    Event {
        at: n.received_at,
        what: format!("{source} {}", n.merchant_oid),
        detail: format!(
            "{} · {} · {}",
            n.outcome,
            if n.hash_valid {
                t(lang, "adm_hash_ok")
            } else {
                t(lang, "adm_hash_bad")
            },
            n.fields_json
        ),
    }
}

/// PayTR's refusal of a refund, in words.
fn refund_words(lang: Lang, r: &Refund) -> Option<&'static str> {
    match (r.status, r.err_no.as_deref()) {
        (RefundStatus::Failed, Some(code)) => Some(match code {
            "000" => t(lang, "adm_refund_err_000"),
            "005" => t(lang, "adm_refund_err_005"),
            "007" => t(lang, "adm_refund_err_007"),
            "008" => t(lang, "adm_refund_err_008"),
            "009" => t(lang, "adm_refund_err_009"),
            "010" => t(lang, "adm_refund_err_010"),
            "011" => t(lang, "adm_refund_err_011"),
            _ => t(lang, "adm_refund_err_other"),
        }),
        (RefundStatus::Failed, None) => Some(t(lang, "adm_refund_err_other")),
        (RefundStatus::Unknown, _) => Some(t(lang, "adm_refund_unknown")),
        _ => None,
    }
}

/// The order, its paid payment's merchant_oid and what is left to refund of it.
struct Loaded {
    order: Order,
    paid: Option<(String, Refundable)>,
    history: backoffice::OrderHistory,
    staff: Vec<audit::AuditEntry>,
}

async fn load(state: &AppState, public_id: String) -> Result<Option<Loaded>, PageError> {
    Ok(state
        .db
        .run(move |conn| {
            let Some(order) = Order::find_by_public_id(conn, &public_id)? else {
                return Ok(None);
            };
            let history = backoffice::order_history(conn, order.id)?;
            let paid_oid = history
                .attempts
                .iter()
                .find(|a| a.status == AttemptStatus::Paid)
                .map(|a| a.merchant_oid.clone());
            let paid = match paid_oid {
                Some(oid) => Refundable::find(conn, &oid)?.map(|r| (oid, r)),
                None => None,
            };
            let staff = audit::page(conn, Some(&format!("order:{public_id}")), None, 200)?;
            Ok(Some(Loaded {
                order,
                paid,
                history,
                staff,
            }))
        })
        .await?)
}

#[derive(Deserialize)]
pub struct PageQuery {
    refund: Option<String>,
    receipt: Option<String>,
}

/// `GET /admin/orders/{id}`.
pub async fn page(
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let Some(loaded) = load(&state, id.into_inner()).await? else {
        return Ok(super::message(
            staff.0.lang,
            StatusCode::NOT_FOUND,
            "adm_not_found",
            "adm_not_found_text",
        ));
    };
    let lang = staff.0.lang;
    let result = query.refund.as_deref().and_then(|reference| {
        let r = loaded
            .history
            .refunds
            .iter()
            .find(|r| r.reference_no == reference)?;
        let words = refund_words(lang, r).unwrap_or_else(|| t(lang, "adm_refund_done"));
        Some(format!("{}: {words}", t(lang, &r.status.page_key())))
    });
    let result = result.or_else(|| {
        query
            .receipt
            .as_ref()
            .map(|_| t(lang, "adm_receipt_queued").to_owned())
    });
    Ok(render(
        StatusCode::OK,
        &order_page(&staff, loaded, result, None, String::new(), String::new()),
    ))
}

fn order_page(
    staff: &Staff,
    loaded: Loaded,
    result: Option<String>,
    error: Option<&'static str>,
    amount: String,
    reason: String,
) -> OrderPage {
    let lang = staff.0.lang;
    let order = &loaded.order;
    let refundable = loaded
        .paid
        .as_ref()
        .filter(|(_, r)| r.left_kurus() > 0)
        .map(|(_, r)| {
            Price::new(
                Money::from_kurus(r.left_kurus()).unwrap_or_default(),
                order.currency,
            )
        });
    OrderPage {
        layout: AdminLayout::new(staff, "adm_order", "orders"),
        order: OrderLine::of(order),
        paid: order.status == OrderStatus::Paid,
        phone: order.phone.clone(),
        address: order.address.clone(),
        number: order.number(),
        payment: loaded
            .history
            .attempts
            .iter()
            .find(|a| a.status == AttemptStatus::Paid)
            .map(|a| {
                let collected = a.collected().map(|m| Price::new(m, order.currency));
                (
                    a.card_label.clone().unwrap_or_default(),
                    a.installment_count,
                    collected,
                )
            }),
        refundable,
        result,
        error,
        amount,
        reason,
        events: timeline(lang, order, loaded.history, loaded.staff),
    }
}

#[derive(Deserialize)]
pub struct ReceiptForm {
    csrf_token: String,
}

/// `POST /admin/orders/{id}/receipt`: sends the paid order's receipt to its e-mail again (any
/// staff member).
pub async fn send_receipt(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: web::Form<ReceiptForm>,
) -> Result<HttpResponse, PageError> {
    if cross_site(&req) || !staff.csrf_ok(&form.csrf_token) {
        return Ok(forbidden(&staff));
    }
    let public_id = id.into_inner();
    let found = {
        let public_id = public_id.clone();
        let mail = state.mail.clone();
        state
            .db
            .write(move |conn| {
                let Some(order) = Order::find_by_public_id(conn, &public_id)? else {
                    return Ok(false);
                };
                if order.status != OrderStatus::Paid {
                    return Ok(false);
                }
                let receipt = crate::receipts::receipt_mail(conn, &mail, &order)?;
                crate::mail::enqueue(conn, &receipt)?;
                Ok(true)
            })
            .await?
    };
    if !found {
        return Ok(super::message(
            staff.0.lang,
            StatusCode::NOT_FOUND,
            "adm_not_found",
            "adm_receipt_unpaid",
        ));
    }
    audit_action(
        &state,
        &req,
        &staff,
        "receipt_sent",
        format!("order:{public_id}"),
        String::new(),
    )
    .await;
    Ok(redirect(&format!("/admin/orders/{public_id}?receipt=1")))
}

#[derive(Deserialize)]
pub struct RefundForm {
    csrf_token: String,
    amount: String,
    #[serde(default)]
    reason: String,
    code: String,
}

/// `POST /admin/orders/{id}/refunds`: owners only, with a fresh TOTP code.
pub async fn refund(
    req: HttpRequest,
    staff: Staff,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: web::Form<RefundForm>,
) -> Result<HttpResponse, PageError> {
    if !staff.role().may_refund() || cross_site(&req) || !staff.csrf_ok(&form.csrf_token) {
        return Ok(forbidden(&staff));
    }
    let public_id = id.into_inner();
    let Some(loaded) = load(&state, public_id.clone()).await? else {
        return Ok(super::message(
            staff.0.lang,
            StatusCode::NOT_FOUND,
            "adm_not_found",
            "adm_not_found_text",
        ));
    };
    let form = form.into_inner();
    let reason: String = form.reason.trim().chars().take(200).collect();
    let again = |loaded, error| {
        let page = order_page(
            &staff,
            loaded,
            None,
            Some(error),
            form.amount.clone(),
            reason.clone(),
        );
        Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
    };
    let Some((oid, payment)) = loaded.paid.clone() else {
        return again(loaded, "adm_refund_nothing");
    };
    let Ok(amount) = Money::parse_decimal(&form.amount.trim().replace(',', ".")) else {
        return again(loaded, "adm_bad_amount");
    };
    // A typo in the amount does not spend the code; the reservation below is the real guard.
    if amount.kurus() > payment.left_kurus() {
        return again(loaded, "adm_refund_too_much");
    }
    let (sealer, who, code) = (
        state.sealer.clone(),
        staff.0.staff.clone(),
        form.code.clone(),
    );
    let now = crate::db::unix_now();
    let fresh = state
        .db
        .write(move |conn| spend_totp(conn, &sealer, &who, &code, now))
        .await?;
    if !fresh {
        audit_action(
            &state,
            &req,
            &staff,
            "refund_totp_refused",
            format!("order:{public_id}"),
            String::new(),
        )
        .await;
        return again(loaded, "adm_totp_refused");
    }
    let Ok(merchant_oid) = MerchantOid::parse(&oid) else {
        return again(loaded, "adm_refund_nothing");
    };
    let request = RefundRequest {
        merchant_oid: &merchant_oid,
        amount,
        reason: &reason,
        requested_by: &staff.0.staff.email,
    };
    let outcome = crate::refunds::refund(&state.db, &state.paytr, request).await;
    let target = format!("order:{public_id}");
    match outcome {
        Ok(r) => {
            let detail = format!(
                "{} {} {} {}",
                amount.to_paytr_decimal(),
                r.status.code(),
                r.reference_no,
                reason
            );
            audit_action(&state, &req, &staff, "refund", target, detail).await;
            Ok(redirect(&format!(
                "/admin/orders/{public_id}?refund={}",
                r.reference_no
            )))
        }
        Err(RefundRefused::Db(e)) => Err(e.into()),
        Err(refused) => {
            let error = match refused {
                RefundRefused::TooMuch { .. } => "adm_refund_too_much",
                RefundRefused::Zero => "adm_bad_amount",
                _ => "adm_refund_nothing",
            };
            let detail = format!("{} refused: {refused}", amount.to_paytr_decimal());
            audit_action(&state, &req, &staff, "refund_refused", target, detail).await;
            let loaded = load(&state, public_id).await?.ok_or(PageError::NotFound)?;
            again(loaded, error)
        }
    }
}
