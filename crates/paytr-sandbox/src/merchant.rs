//! The merchant's calls about past payments: refund (`/odeme/iade`) and status inquiry
//! (`/odeme/durum-sorgu`), with PayTR's error numbers. The sandbox keeps what was refunded on
//! each payment, so over-refunds, partial refunds and `returns[]` behave as PayTR's do.

use super::Sandbox;
use super::capi::answer;
use super::payment::{field, parse_form};
use super::rules;
use super::state::{PaymentRecord, RefundRecord, State};
use crate::unix_now;
use actix_web::{HttpResponse, web};
use paytr::verify_token;
use serde_json::{Value, json};

const YEAR: i64 = 365 * 24 * 3600;

fn error(err_no: &str, err_msg: &str) -> Value {
    json!({"status": "error", "err_no": err_no, "err_msg": err_msg})
}

fn decimal(kurus: i64) -> String {
    format!("{}.{:02}", kurus / 100, kurus % 100)
}

/// PayTR's refund error texts, by number.
fn refund_error(err_no: &str) -> Value {
    let msg = match err_no {
        "000" => "Su anda iade islemi yapilamiyor, daha sonra tekrar deneyin",
        "005" => "Bu siparis icin basarili odeme bulunamadi",
        "007" => "Odeme bildirimi henuz tamamlanmadi",
        "008" => "Bu odeme yontemi icin iade yapilamaz",
        "009" => "Iade tutari, islem tutarindan kalan tutari asiyor",
        "010" => "Magaza bakiyesi iade icin yetersiz",
        "011" => "Bir yildan eski islemler iade edilemez",
        _ => "Iade islemi yapilamadi",
    };
    error(err_no, msg)
}

/// The sandbox's own reading of `return_amount`: digits, a dot, at most two decimals.
fn return_amount(value: &str) -> Option<i64> {
    rules::payment_amount(value).ok()
}

/// `POST /odeme/iade`.
pub async fn refund(sandbox: web::Data<Sandbox>, body: web::Bytes) -> HttpResponse {
    let form = parse_form(&body);
    let knobs = sandbox.knobs();
    answer(&knobs, knobs.refund_fault, || {
        let (oid, amount, reference) = (
            field(&form, "merchant_oid"),
            field(&form, "return_amount"),
            field(&form, "reference_no"),
        );
        if field(&form, "merchant_id") != sandbox.credentials().merchant_id {
            return error("001", "Gecersiz istek veya magaza aktif degil");
        }
        if oid.is_empty() {
            return error("002", "merchant_oid gonderilmedi");
        }
        let Some(kurus) = return_amount(amount) else {
            return error("003", "return_amount gonderilmedi veya gecersiz");
        };
        let message = format!("{}{oid}{amount}", sandbox.credentials().merchant_id);
        if !verify_token(sandbox.credentials(), &message, field(&form, "paytr_token")) {
            return error("004", "paytr_token hatali");
        }
        if !reference.is_empty() && rules::merchant_oid(reference).is_err() {
            return error("001", "reference_no en fazla 64 harf ve rakam olmali");
        }
        if let Some(err_no) = &knobs.refund_error {
            return refund_error(err_no);
        }
        sandbox.write(|s| apply_refund(s, oid, kurus, reference))
    })
    .await
}

fn apply_refund(s: &mut State, oid: &str, kurus: i64, reference: &str) -> Value {
    let notified = !s
        .notifications
        .iter()
        .filter(|j| j.merchant_oid == oid && j.duplicate_of.is_none())
        .any(|j| !j.delivered && j.attempts.last().is_some_and(|a| !a.ok));
    let Some(payment) = s.payment_mut(oid).filter(|p| p.status == "success") else {
        return refund_error("005");
    };
    if !notified {
        return refund_error("007");
    }
    if unix_now() - payment.created_at > YEAR {
        return refund_error("011");
    }
    if kurus > payment.amount_kurus - payment.refunded_kurus() {
        return refund_error("009");
    }
    payment.refunds.push(RefundRecord {
        amount_kurus: kurus,
        reference_no: reference.to_owned(),
        at: unix_now(),
    });
    json!({
        "status": "success",
        "is_test": if payment.test_mode { "1" } else { "0" },
        "merchant_oid": oid,
        "return_amount": decimal(kurus),
        "reference_no": reference,
    })
}

/// `POST /odeme/durum-sorgu`.
pub async fn status(sandbox: web::Data<Sandbox>, body: web::Bytes) -> HttpResponse {
    let form = parse_form(&body);
    let knobs = sandbox.knobs();
    answer(&knobs, knobs.status_fault, || {
        let oid = field(&form, "merchant_oid");
        if field(&form, "merchant_id") != sandbox.credentials().merchant_id {
            return error("001", "Gecersiz istek veya magaza aktif degil");
        }
        if oid.is_empty() {
            return error("002", "merchant_oid gonderilmedi");
        }
        let message = format!("{}{oid}", sandbox.credentials().merchant_id);
        if !verify_token(sandbox.credentials(), &message, field(&form, "paytr_token")) {
            return error("003", "paytr_token hatali");
        }
        let found = sandbox.read(|s| s.payment(oid).filter(|p| p.status == "success").map(paid));
        match found {
            Some(answer) if !knobs.status_not_found => answer,
            _ => error(
                "004",
                "Bu merchant_oid ile islem veya basarili odeme bulunamadi",
            ),
        }
    })
    .await
}

fn paid(p: &PaymentRecord) -> Value {
    let returns: Vec<Value> = p
        .refunds
        .iter()
        .map(|r| {
            json!({
                "return_amount": decimal(r.amount_kurus),
                "reference_no": r.reference_no,
                "return_date": paytr::types::date_string(r.at),
            })
        })
        .collect();
    let amount = decimal(p.amount_kurus);
    // PayTR's fee: 2.49% of the payment (the sandbox's own figure).
    let fee = p.amount_kurus * 249 / 10_000;
    json!({
        "status": "success",
        "payment_amount": amount,
        "payment_total": amount,
        "payment_date": paytr::types::date_string(p.created_at),
        "currency": p.currency,
        "taksit": p.installment_count.to_string(),
        "kart_marka": p.card_schema,
        "masked_pan": format!("******{}", p.last_4),
        "odeme_tipi": "KART",
        "test_mode": if p.test_mode { "1" } else { "0" },
        "net_tutar": decimal(p.amount_kurus - fee),
        "kesinti_tutari": decimal(fee),
        "returns": returns,
        "reference_no": "",
    })
}
