//! PayTR's BIN lookup (`/odeme/api/bin-detail`) and installment rates (`/odeme/taksit-oranlari`),
//! from the sandbox's own BIN table (the one its test cards and CAPI LIST use) and a fixed rate
//! table. Tokens are checked with PayTR's documented order, not the client's code.

use super::Sandbox;
use super::capi::answer;
use super::cards;
use super::payment::{field, parse_form};
use actix_web::{HttpResponse, web};
use paytr::verify_token;
use serde_json::{Value, json};

fn error(err_msg: &str) -> Value {
    json!({"status": "error", "err_msg": err_msg})
}

/// The sandbox's rates, in percent with two decimals: per family, for 2…12 installments.
/// Families start from a base rate and add a step per extra installment.
/// `raise_bp` basis points are added (the knob for a day whose rates changed).
pub fn rate_percent(family: &str, count: u8, raise_bp: u32) -> Option<String> {
    let (base, step) = match family {
        "axess" => (215, 105),
        "bonus" => (225, 110),
        "world" => (199, 101),
        "maximum" => (230, 112),
        "cardfinans" => (240, 115),
        "paraf" => (235, 110),
        "advantage" => (245, 118),
        "combo" => (250, 120),
        "saglamkart" => (260, 125),
        _ => return None,
    };
    if !(2..=12).contains(&count) {
        return None;
    }
    let bp: u32 = base + step * u32::from(count - 2) + raise_bp;
    Some(format!("{}.{:02}", bp / 100, bp % 100))
}

/// The largest count for a non-business card.
pub const MAX_INST_NON_BUS: u8 = 12;

/// `POST /odeme/api/bin-detail`.
pub async fn bin_detail(sandbox: web::Data<Sandbox>, body: web::Bytes) -> HttpResponse {
    let form = parse_form(&body);
    let knobs = sandbox.knobs();
    answer(&knobs, knobs.bin_fault, || {
        let creds = sandbox.credentials();
        let bin = field(&form, "bin_number");
        if field(&form, "merchant_id") != creds.merchant_id {
            return error("Gecersiz istek veya magaza aktif degil");
        }
        if !(6..=8).contains(&bin.len()) || !bin.bytes().all(|b| b.is_ascii_digit()) {
            return error("bin_number 6 veya 8 haneli olmali");
        }
        // PayTR's order: bin_number + merchant_id (+ salt).
        let message = format!("{bin}{}", creds.merchant_id);
        if !verify_token(creds, &message, field(&form, "paytr_token")) {
            return error("paytr_token hatali");
        }
        match cards::bin_info(bin) {
            Some(info) => {
                let (schema, _) = cards::scheme(bin);
                json!({
                    "status": "success",
                    "cardType": info.card_type,
                    "businessCard": if info.business { "y" } else { "n" },
                    "bank": info.bank,
                    "brand": if info.brand.is_empty() { "none" } else { info.brand },
                    "schema": schema,
                    "bankCode": info.bank_code,
                    "allow_non3d": "Y",
                })
            }
            None => json!({"status": "failed"}),
        }
    })
    .await
}

/// `POST /odeme/taksit-oranlari`.
pub async fn rates(sandbox: web::Data<Sandbox>, body: web::Bytes) -> HttpResponse {
    let form = parse_form(&body);
    let knobs = sandbox.knobs();
    answer(&knobs, knobs.rates_fault, || {
        let creds = sandbox.credentials();
        let request_id = field(&form, "request_id");
        if field(&form, "merchant_id") != creds.merchant_id {
            return error("Gecersiz istek veya magaza aktif degil");
        }
        if request_id.is_empty() || request_id.len() > 32 {
            return error("request_id en fazla 32 karakter olmali");
        }
        // PayTR's order: merchant_id + request_id (+ salt).
        let message = format!("{}{request_id}", creds.merchant_id);
        if !verify_token(creds, &message, field(&form, "paytr_token")) {
            return error("paytr_token hatali");
        }
        let mut oranlar = serde_json::Map::new();
        for family in paytr::FAMILIES {
            let counts: serde_json::Map<String, Value> = (2..=12)
                .filter_map(|n| {
                    let rate = rate_percent(family, n, knobs.rates_raise_bp)?;
                    Some((format!("taksit_{n}"), json!(rate)))
                })
                .collect();
            oranlar.insert(family.to_owned(), Value::Object(counts));
        }
        json!({
            "status": "success",
            "request_id": request_id,
            "max_inst_non_bus": MAX_INST_NON_BUS.to_string(),
            "oranlar": oranlar,
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_has_a_rate_for_every_count_and_none_outside() {
        for family in paytr::FAMILIES {
            for n in 2..=12 {
                assert!(rate_percent(family, n, 0).is_some(), "{family} {n}");
            }
            assert!(rate_percent(family, 1, 0).is_none() && rate_percent(family, 13, 0).is_none());
        }
        assert_eq!(rate_percent("world", 3, 0).as_deref(), Some("3.00"));
        assert_eq!(rate_percent("none", 3, 0), None);
    }
}
