//! PayTR's field rules as the sandbox applies them, written from PayTR's Direct API page (its
//! field table) and not shared with the client crate's parsers: a misreading in the client
//! can't hide in the sandbox too. Each refusal is worded as PayTR words it ("… gecersiz: …").

use std::net::IpAddr;

type Rule<T> = Result<T, String>;

fn invalid<T>(field: &str, why: &str) -> Rule<T> {
    Err(format!("{field} gecersiz: {why}"))
}

/// Text of at most `max` characters, not blank.
fn text(field: &str, value: &str, max: usize) -> Rule<()> {
    if value.trim().is_empty() {
        return invalid(field, "bos olamaz");
    }
    if value.chars().count() > max {
        return invalid(field, &format!("en fazla {max} karakter"));
    }
    Ok(())
}

/// Letters and digits only, at most 64: PayTR refuses anything else.
pub fn merchant_oid(value: &str) -> Rule<String> {
    if value.is_empty() || value.len() > 64 || !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return invalid(
            "merchant_oid",
            "yalnizca harf ve rakam, en fazla 64 karakter",
        );
    }
    Ok(value.to_owned())
}

/// The shopper's public address: IPv4 or IPv6, at most 39 characters.
pub fn user_ip(value: &str) -> Rule<()> {
    if value.len() > 39 || value.parse::<IpAddr>().is_err() {
        return invalid(
            "user_ip",
            "gecerli bir IP adresi olmali (en fazla 39 karakter)",
        );
    }
    Ok(())
}

/// At most 100 characters, one `@`, a dotted domain, no spaces.
pub fn email(value: &str) -> Rule<()> {
    let shape = value.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.contains('@') && !domain.ends_with('.')
    });
    if value.len() > 100 || !shape || value.chars().any(char::is_whitespace) {
        return invalid(
            "email",
            "gecerli bir e-posta adresi olmali (en fazla 100 karakter)",
        );
    }
    Ok(())
}

pub fn user_name(value: &str) -> Rule<()> {
    text("user_name", value, 60)
}

pub fn user_address(value: &str) -> Rule<()> {
    text("user_address", value, 400)
}

pub fn user_phone(value: &str) -> Rule<()> {
    text("user_phone", value, 20)
}

/// `tr` or `en`; empty means Turkish.
pub fn client_lang(value: &str) -> Rule<()> {
    match value {
        "" | "tr" | "en" => Ok(()),
        _ => invalid("client_lang", "tr veya en olmali"),
    }
}

/// A decimal with a dot and at most two decimals ("100.99", "150"), above zero; in kuruş.
pub fn payment_amount(value: &str) -> Rule<i64> {
    let (whole, cents) = value.split_once('.').unwrap_or((value, ""));
    let digits = |s: &str| !s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit());
    let well_formed = digits(whole) && (cents.is_empty() || digits(cents)) && cents.len() <= 2;
    let well_formed = well_formed && !value.ends_with('.');
    let kurus = well_formed
        .then(|| {
            let cents = format!("{cents:0<2}");
            Some(whole.parse::<i64>().ok()? * 100 + cents.parse::<i64>().ok()?)
        })
        .flatten();
    match kurus {
        Some(0) => invalid("payment_amount", "0 olamaz"),
        Some(kurus) => Ok(kurus),
        None => invalid(
            "payment_amount",
            "nokta ile ayrilmis ondalik sayi olmali, or. 100.99",
        ),
    }
}

/// TL (or TRY), USD, EUR, GBP, RUB; empty means TL. Answers the code PayTR reports back.
pub fn currency(value: &str) -> Rule<&'static str> {
    match value {
        "" | "TL" | "TRY" => Ok("TL"),
        "USD" => Ok("USD"),
        "EUR" => Ok("EUR"),
        "GBP" => Ok("GBP"),
        "RUB" => Ok("RUB"),
        _ => invalid("currency", "TL, USD, EUR, GBP veya RUB olmali"),
    }
}

/// `0` (single payment) or 2 to 12; PayTR's own sample posts it empty, which counts as 0.
pub fn installment_count(value: &str) -> Rule<u8> {
    match value {
        "" => Ok(0),
        _ => match value.parse::<u8>() {
            Ok(n @ (0 | 2..=12)) => Ok(n),
            _ => invalid("installment_count", "0 veya 2 ile 12 arasi olmali"),
        },
    }
}

/// `card` or `card_points`.
pub fn payment_type(value: &str) -> Rule<&'static str> {
    match value {
        "card" => Ok("card"),
        "card_points" => Ok("card_points"),
        _ => invalid("payment_type", "card olmali"),
    }
}

/// A JSON array of `[name, unit price, quantity]` rows, at least one.
pub fn user_basket(value: &str) -> Rule<()> {
    let rows: Vec<serde_json::Value> = match serde_json::from_str(value) {
        Ok(rows) => rows,
        Err(_) => {
            return invalid(
                "user_basket",
                "JSON dizisi olmali, or. [[\"Urun\",\"18.00\",1]]",
            );
        }
    };
    let row_ok = |row: &serde_json::Value| {
        let Some([name, price, quantity]) = row.as_array().map(Vec::as_slice) else {
            return false;
        };
        let price = match price {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => return false,
        };
        let quantity_ok = quantity.as_u64().is_some()
            || quantity.as_str().is_some_and(|q| q.parse::<u32>().is_ok());
        name.as_str().is_some_and(|n| !n.is_empty())
            && payment_amount(&price).is_ok()
            && quantity_ok
    };
    if rows.is_empty() || !rows.iter().all(row_ok) {
        return invalid("user_basket", "her satir [ad, birim fiyat, adet] olmali");
    }
    Ok(())
}

/// A full http(s) URL of at most 400 characters.
pub fn url(field: &str, value: &str) -> Rule<String> {
    let absolute = url::Url::parse(value)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if !absolute || value.len() > 400 {
        return invalid(
            field,
            "tam bir URL olmali (https://…, en fazla 400 karakter)",
        );
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_as_payt_r_writes_them() {
        assert_eq!(payment_amount("100.99"), Ok(10_099));
        assert_eq!(payment_amount("150"), Ok(15_000));
        assert_eq!(payment_amount("1500.3"), Ok(150_030));
        for bad in ["", "0", "1,50", "1.999", "-5", "1.", ".5", "abc"] {
            assert!(payment_amount(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn identifiers_and_customer_fields() {
        assert!(merchant_oid("PC123abc").is_ok());
        assert!(merchant_oid("PC-123").is_err());
        assert!(merchant_oid(&"a".repeat(65)).is_err());
        assert!(user_ip("85.34.78.112").is_ok());
        assert!(user_ip("2001:0db8:85a3:0000:0000:8a2e:0370:7334").is_ok());
        assert!(user_ip("localhost").is_err());
        assert!(email("buyer@example.com").is_ok());
        assert!(email("buyer@example").is_err());
        assert!(email("a b@example.com").is_err());
        assert!(user_name(&"a".repeat(61)).is_err());
        assert_eq!(currency(""), Ok("TL"));
        assert_eq!(installment_count(""), Ok(0));
        assert!(installment_count("1").is_err());
        assert!(user_basket("[[\"Lokum\",\"99.90\",1]]").is_ok());
        assert!(user_basket("[]").is_err());
        assert!(url("merchant_ok_url", "https://shop.example/ok").is_ok());
        assert!(url("merchant_ok_url", "/ok").is_err());
    }
}
