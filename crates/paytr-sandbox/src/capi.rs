//! CAPI LIST and CAPI DELETE.

use super::Sandbox;
use super::knobs::{Fault, Knobs};
use super::payment::parse_form;
use super::state::CardRecord;
use actix_web::{HttpResponse, web};
use paytr::verify_token;
use serde_json::{Value, json};

fn card_json(c: &CardRecord) -> Value {
    json!({
        "ctoken": c.ctoken,
        "last_4": c.last_4,
        "require_cvv": if c.require_cvv { "1" } else { "0" },
        "month": c.month,
        "year": c.year,
        "c_bank": c.bank,
        "c_name": c.holder_name,
        "c_brand": c.brand,
        "c_type": c.card_type,
        "businessCard": if c.business { "y" } else { "n" },
        "initial": c.initial,
        "schema": c.schema,
    })
}

fn error(msg: &str) -> Value {
    json!({"status": "error", "err_msg": msg})
}

/// Applies the latency and a fault knob around a JSON answer: `http500` does no work, the
/// others do the work and then spoil or hold the answer.
pub(super) async fn answer(
    knobs: &Knobs,
    fault: Fault,
    work: impl FnOnce() -> Value,
) -> HttpResponse {
    tokio::time::sleep(knobs.latency).await;
    if fault == Fault::Http500 {
        return HttpResponse::InternalServerError().body("Internal Server Error");
    }
    let body = work().to_string();
    match fault {
        Fault::Timeout | Fault::Lost => {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await
        }
        Fault::Malformed => {
            let cut: String = body.chars().take(body.len() / 2).collect();
            return HttpResponse::Ok()
                .content_type("application/json")
                .body(format!("{cut}<!--"));
        }
        _ => {}
    }
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body)
}

/// Checks merchant, permission and token; `Err` is PayTR's error answer.
fn authorise(
    sandbox: &Sandbox,
    merchant_id: &str,
    message: &str,
    token: &str,
) -> Result<(), Value> {
    if merchant_id != sandbox.credentials().merchant_id {
        return Err(error("merchant_id hatali veya magaza bulunamadi"));
    }
    if !sandbox.knobs().permissions.store_card {
        return Err(error("Bu islem icin magazanin yetkisi yok (kart saklama)"));
    }
    if message.is_empty() || !verify_token(sandbox.credentials(), message, token) {
        return Err(error("paytr_token gecersiz"));
    }
    Ok(())
}

/// `POST /odeme/capi/list`: the user's cards, `[]` for an unknown utoken.
pub async fn list(sandbox: web::Data<Sandbox>, body: web::Bytes) -> HttpResponse {
    let form = parse_form(&body);
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let knobs = sandbox.knobs();
    answer(&knobs, knobs.capi_fault, || {
        let utoken = get("utoken");
        if let Err(e) = authorise(&sandbox, get("merchant_id"), utoken, get("paytr_token")) {
            return e;
        }
        sandbox.read(|s| {
            Value::Array(
                s.cards
                    .iter()
                    .filter(|c| c.utoken == utoken)
                    .map(card_json)
                    .collect(),
            )
        })
    })
    .await
}

/// `POST /odeme/capi/delete`.
pub async fn delete(sandbox: web::Data<Sandbox>, body: web::Bytes) -> HttpResponse {
    let form = parse_form(&body);
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let knobs = sandbox.knobs();
    answer(&knobs, knobs.capi_fault, || {
        let (utoken, ctoken) = (get("utoken"), get("ctoken"));
        let message = if utoken.is_empty() || ctoken.is_empty() {
            String::new()
        } else {
            format!("{ctoken}{utoken}")
        };
        if let Err(e) = authorise(&sandbox, get("merchant_id"), &message, get("paytr_token")) {
            return e;
        }
        let removed = sandbox.write(|s| {
            let before = s.cards.len();
            s.cards
                .retain(|c| !(c.utoken == utoken && c.ctoken == ctoken));
            s.cards.len() < before
        });
        if removed {
            json!({"status": "success"})
        } else {
            error("Kart yok veya daha önce silinmiş")
        }
    })
    .await
}
