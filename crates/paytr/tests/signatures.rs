//! Known-answer vectors (tests/fixtures/test-vectors.json) and single-character mutations.

mod common;

use paytr::types::{Currency, Email, InstallmentCount, Money, PaymentType, UserIp};
use paytr::types::{MerchantOid, ReferenceNo};
use paytr::{
    CardSource, MerchantCredentials, Notification, PaymentRequest, Token, capi_delete_token,
    capi_list_token, notification_hash, refund_form, sign, status_form, verify,
};
use serde_json::Value;
use std::collections::BTreeMap;

struct Vectors {
    creds: MerchantCredentials,
    key: String,
    vectors: Vec<Value>,
}

fn vectors() -> Vectors {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/test-vectors.json"
    ))
    .expect("fixture exists");
    let json: Value = serde_json::from_str(&text).expect("fixture is JSON");
    let s = |k: &str| json[k].as_str().expect("string field").to_owned();
    Vectors {
        creds: MerchantCredentials::new(&s("merchant_id"), &s("merchant_key"), &s("merchant_salt")),
        key: s("merchant_key"),
        vectors: json["vectors"].as_array().expect("vectors").clone(),
    }
}

fn fields(v: &Value) -> BTreeMap<String, String> {
    v["fields"]
        .as_object()
        .expect("fields")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("string").to_owned()))
        .collect()
}

fn of_kind<'a>(all: &'a Vectors, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    all.vectors.iter().filter(move |v| v["kind"] == kind)
}

/// A payment request whose signed fields come from a vector.
fn payment_request(f: &BTreeMap<String, String>) -> PaymentRequest {
    let amount = Money::parse_decimal(&f["payment_amount"]).expect("amount");
    PaymentRequest {
        user_ip: UserIp::parse(&f["user_ip"]).expect("ip"),
        email: Email::parse(&f["email"]).expect("email"),
        currency: Currency::parse(&f["currency"]).expect("currency"),
        installment_count: InstallmentCount::parse(&f["installment_count"]).expect("installments"),
        payment_type: PaymentType::parse(&f["payment_type"]).expect("type"),
        test_mode: f["test_mode"] == "1",
        non_3d: f["non_3d"] == "1",
        debug_on: false,
        ..common::sample_request(&f["merchant_oid"], amount.kurus())
    }
}

/// Every way of changing one character of `value`: replace the first, append one.
fn mutations(value: &str) -> Vec<String> {
    let mut first = value.chars();
    let head = first
        .next()
        .map(|c| if c == 'X' { 'Y' } else { 'X' })
        .unwrap_or('X');
    vec![format!("{head}{}", first.as_str()), format!("{value}0")]
}

#[test]
fn every_vector_message_signs_to_its_token() {
    let all = vectors();
    assert_eq!(all.vectors.len(), 15);
    for v in &all.vectors {
        let expected = v
            .get("paytr_token")
            .or_else(|| v.get("hash"))
            .and_then(Value::as_str)
            .expect("answer");
        let message = v["message"].as_str().expect("message");
        assert_eq!(sign(&all.key, message), expected, "{}", v["name"]);
        assert!(verify(&all.key, message, expected));
    }
}

#[test]
fn payment_forms_carry_the_vector_tokens() {
    let all = vectors();
    let mut seen = 0;
    for v in of_kind(&all, "direct_payment") {
        let f = fields(v);
        let request = payment_request(&f);
        let token = v["paytr_token"].as_str().expect("token");
        let form = if f["non_3d"] == "1" && f["merchant_oid"].starts_with("SUB") {
            request.recurring_form(
                &all.creds,
                &Token::new("UT3f9a0c1d2e"),
                &Token::new("CTa1b2c3d4"),
            )
        } else {
            request.form(
                &all.creds,
                &CardSource::NewCard {
                    store_card: false,
                    utoken: None,
                },
            )
        }
        .expect("valid request");
        assert_eq!(form.get("paytr_token"), Some(token), "{}", v["name"]);
        for (name, value) in &f {
            assert_eq!(
                form.get(name),
                Some(value.as_str()),
                "{} posts {name} as signed",
                v["name"]
            );
        }
        seen += 1;
    }
    assert_eq!(seen, 3);
}

#[test]
fn recurring_form_sends_both_flags_and_the_saved_card() {
    let all = vectors();
    let v = of_kind(&all, "direct_payment")
        .find(|v| v["name"].as_str().is_some_and(|n| n.starts_with("V3")))
        .expect("V3");
    let request = payment_request(&fields(v));
    let form = request
        .recurring_form(
            &all.creds,
            &Token::new("UT3f9a0c1d2e"),
            &Token::new("CTa1b2c3d4"),
        )
        .expect("valid");
    for (name, value) in [
        ("non_3d", "1"),
        ("recurring_payment", "1"),
        ("recurring", "1"),
        ("utoken", "UT3f9a0c1d2e"),
        ("ctoken", "CTa1b2c3d4"),
        ("user_basket", r#"[["Abonelik","34.50",1]]"#),
    ] {
        assert_eq!(form.get(name), Some(value), "{name}");
    }
    assert!(
        form.browser_fields().is_empty(),
        "a recurring charge asks the shopper for nothing"
    );
    assert_eq!(form.get("card_number"), None);
}

#[test]
fn new_card_and_saved_card_forms_follow_the_card_storage_rules() {
    let all = vectors();
    let v = of_kind(&all, "direct_payment").next().expect("V1");
    let request = payment_request(&fields(v));
    let utoken = Token::new("UT3f9a0c1d2e");

    let first = request
        .form(
            &all.creds,
            &CardSource::NewCard {
                store_card: true,
                utoken: None,
            },
        )
        .expect("valid");
    assert_eq!(
        (first.get("store_card"), first.get("utoken")),
        (Some("1"), None)
    );
    assert_eq!(
        first.browser_fields(),
        [
            "cc_owner",
            "card_number",
            "expiry_month",
            "expiry_year",
            "cvv"
        ]
    );

    let another = request
        .form(
            &all.creds,
            &CardSource::NewCard {
                store_card: true,
                utoken: Some(utoken.clone()),
            },
        )
        .expect("valid");
    assert_eq!(
        (another.get("store_card"), another.get("utoken")),
        (Some("1"), Some("UT3f9a0c1d2e"))
    );

    let unsaved = request
        .form(
            &all.creds,
            &CardSource::NewCard {
                store_card: false,
                utoken: Some(utoken.clone()),
            },
        )
        .expect("valid");
    assert_eq!(
        (unsaved.get("store_card"), unsaved.get("utoken")),
        (None, None)
    );

    for (require_cvv, browser) in [(true, vec!["cvv"]), (false, vec![])] {
        let saved = request
            .form(
                &all.creds,
                &CardSource::SavedCard {
                    utoken: utoken.clone(),
                    ctoken: Token::new("CTa1b2c3d4"),
                    require_cvv,
                },
            )
            .expect("valid");
        assert_eq!(saved.get("ctoken"), Some("CTa1b2c3d4"));
        assert_eq!(saved.get("store_card"), None);
        assert_eq!(saved.browser_fields(), browser.as_slice());
        assert_eq!(
            saved.get("paytr_token"),
            first.get("paytr_token"),
            "card fields are not signed"
        );
    }
}

#[test]
fn changing_any_signed_payment_field_changes_the_token() {
    let all = vectors();
    for v in of_kind(&all, "direct_payment") {
        let message = v["message"].as_str().expect("message");
        let token = v["paytr_token"].as_str().expect("token");
        let f = fields(v);
        let order = [
            "merchant_id",
            "user_ip",
            "merchant_oid",
            "email",
            "payment_amount",
            "payment_type",
            "installment_count",
            "currency",
            "test_mode",
            "non_3d",
        ];
        let signed: String = order.iter().map(|k| f[*k].as_str()).collect();
        assert_eq!(
            format!("{signed}QrStUvWxYz012345"),
            message,
            "field order of {}",
            v["name"]
        );
        for (i, name) in order.iter().enumerate() {
            for changed in mutations(&f[*name]) {
                let mutated: String = order
                    .iter()
                    .enumerate()
                    .map(|(j, k)| {
                        if i == j {
                            changed.as_str()
                        } else {
                            f[*k].as_str()
                        }
                    })
                    .collect();
                assert!(
                    !verify(&all.key, &format!("{mutated}QrStUvWxYz012345"), token),
                    "{}: changing {name} to {changed:?} must break the token",
                    v["name"]
                );
            }
        }
    }
}

#[test]
fn capi_tokens_match_vectors_and_break_on_any_change() {
    let all = vectors();
    for v in of_kind(&all, "capi_list") {
        let utoken = &fields(v)["utoken"];
        let token = v["paytr_token"].as_str().expect("token");
        assert_eq!(capi_list_token(&all.creds, utoken), token);
        for changed in mutations(utoken) {
            assert_ne!(capi_list_token(&all.creds, &changed), token);
        }
    }
    for v in of_kind(&all, "capi_delete") {
        let f = fields(v);
        let token = v["paytr_token"].as_str().expect("token");
        assert_eq!(
            capi_delete_token(&all.creds, &f["ctoken"], &f["utoken"]),
            token
        );
        assert_ne!(
            capi_delete_token(&all.creds, &f["utoken"], &f["ctoken"]),
            token,
            "ctoken comes first"
        );
        for changed in mutations(&f["ctoken"]) {
            assert_ne!(capi_delete_token(&all.creds, &changed, &f["utoken"]), token);
        }
        for changed in mutations(&f["utoken"]) {
            assert_ne!(capi_delete_token(&all.creds, &f["ctoken"], &changed), token);
        }
    }
}

/// The whole form, as posted, equals the vector's fields plus its token.
fn posted(form: &paytr::FormFields) -> BTreeMap<String, String> {
    form.iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn refund_and_status_forms_match_the_third_party_vectors() {
    let all = vectors();
    let expected = |v: &Value| {
        let mut f = fields(v);
        f.insert(
            "paytr_token".into(),
            v["paytr_token"].as_str().expect("token").into(),
        );
        f
    };
    let mut seen = 0;
    for v in of_kind(&all, "refund") {
        let f = fields(v);
        let oid = MerchantOid::parse(&f["merchant_oid"]).expect("oid");
        let amount = Money::parse_decimal(&f["return_amount"]).expect("amount");
        let reference = ReferenceNo::parse(&f["reference_no"]).expect("reference");
        let form = refund_form(&all.creds, &oid, amount, Some(&reference));
        assert_eq!(posted(&form), expected(v), "{}", v["name"]);
        // reference_no is not signed: the token is the same without it.
        let bare = refund_form(&all.creds, &oid, amount, None);
        assert_eq!(bare.get("paytr_token"), form.get("paytr_token"));
        let more = Money::from_kurus(amount.kurus() + 1).expect("amount");
        let changed = refund_form(&all.creds, &oid, more, None);
        assert_ne!(changed.get("paytr_token"), form.get("paytr_token"));
        seen += 1;
    }
    for v in of_kind(&all, "status") {
        let oid = MerchantOid::parse(&fields(v)["merchant_oid"]).expect("oid");
        assert_eq!(
            posted(&status_form(&all.creds, &oid)),
            expected(v),
            "{}",
            v["name"]
        );
        let other = MerchantOid::parse(&format!("{oid}0")).expect("oid");
        assert_ne!(
            status_form(&all.creds, &other).get("paytr_token"),
            v["paytr_token"].as_str()
        );
        seen += 1;
    }
    assert_eq!(seen, 4);
}

#[test]
fn bin_lookup_and_installment_rates_match_the_third_party_vectors() {
    let all = vectors();
    let expected = |v: &Value| {
        let mut f = fields(v);
        f.insert(
            "paytr_token".into(),
            v["paytr_token"].as_str().expect("token").into(),
        );
        f
    };
    let mut seen = 0;
    for v in of_kind(&all, "bin_detail") {
        let bin = paytr::Bin::parse(&fields(v)["bin_number"]).expect("bin");
        let form = paytr::bin_detail_form(&all.creds, &bin);
        assert_eq!(posted(&form), expected(v), "{}", v["name"]);
        // The BIN comes first in the signed text (merchant_id first would be another token).
        let message = v["message"].as_str().expect("message");
        assert!(message.starts_with(&format!("{}{}", bin.as_str(), all.creds.merchant_id)));
        seen += 1;
    }
    for v in of_kind(&all, "installment_rates") {
        let id = paytr::RequestId::parse(&fields(v)["request_id"]).expect("request id");
        let form = paytr::installment_rates_form(&all.creds, &id);
        assert_eq!(posted(&form), expected(v), "{}", v["name"]);
        seen += 1;
    }
    assert_eq!(seen, 4);
}

#[test]
fn notification_vectors_verify_and_any_change_is_refused() {
    let all = vectors();
    let mut seen = 0;
    for v in of_kind(&all, "callback") {
        let f = fields(v);
        let hash = v["hash"].as_str().expect("hash");
        assert_eq!(
            notification_hash(
                &all.creds,
                &f["merchant_oid"],
                &f["status"],
                &f["total_amount"]
            ),
            hash
        );
        let posted = Notification {
            merchant_oid: f["merchant_oid"].clone(),
            status: f["status"].clone(),
            total_amount: f["total_amount"].clone(),
            hash: hash.to_owned(),
            ..Default::default()
        };
        assert!(posted.verify(&all.creds), "{}", v["name"]);
        for field in ["merchant_oid", "status", "total_amount", "hash"] {
            let original = match field {
                "merchant_oid" => &posted.merchant_oid,
                "status" => &posted.status,
                "total_amount" => &posted.total_amount,
                _ => &posted.hash,
            };
            for changed in mutations(original) {
                let mut forged = posted.clone();
                match field {
                    "merchant_oid" => forged.merchant_oid = changed.clone(),
                    "status" => forged.status = changed.clone(),
                    "total_amount" => forged.total_amount = changed.clone(),
                    _ => forged.hash = changed.clone(),
                }
                assert!(
                    !forged.verify(&all.creds),
                    "{}: {field} changed to {changed:?}",
                    v["name"]
                );
            }
        }
        let wrong_key = MerchantCredentials::new("123456", "AbCdEfGhIjKlMnOq", "QrStUvWxYz012345");
        let wrong_salt = MerchantCredentials::new("123456", "AbCdEfGhIjKlMnOp", "QrStUvWxYz012346");
        assert!(!posted.verify(&wrong_key) && !posted.verify(&wrong_salt));
        seen += 1;
    }
    assert_eq!(seen, 2);
}
