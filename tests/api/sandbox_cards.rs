//! Card storage in the sandbox: store, list, pay with a saved card, delete; permissions.

use crate::helpers::sample_request;
use crate::sandbox_harness::{VISA, card_fields, start_sandbox};
use paytr_checkout::paytr::{CardSource, PaymentRequest, PaytrError, Token};

#[tokio::test]
async fn a_stored_card_is_listed_with_capi_facts_and_the_notification_carries_the_utoken() {
    let sb = start_sandbox().await;

    let (utoken, ctoken) = sb.store_card("ORDSTORE1", VISA, None).await;
    let cards = sb.client.list_cards(&utoken).await.expect("list");

    assert_eq!(cards.len(), 1);
    let card = &cards[0];
    assert_eq!(card.ctoken, ctoken);
    assert_eq!(
        (
            card.last_4.as_str(),
            card.month.as_str(),
            card.year.as_str(),
            card.schema.as_str(),
            card.initial.as_str()
        ),
        ("4358", "12", "30", "VISA", "4")
    );
    assert_eq!(
        (
            card.bank.as_str(),
            card.brand.as_str(),
            card.card_type.as_str()
        ),
        ("Akbank", "axess", "credit")
    );
    assert!(!card.require_cvv && !card.business_card);
    assert_eq!(card.holder_name, "AYSE YILMAZ");
    assert_eq!(
        sb.notification_for("ORDSTORE1").await["utoken"],
        utoken.expose()
    );
}

#[tokio::test]
async fn a_second_card_with_the_utoken_joins_the_same_user_and_a_foreign_card_has_no_bank() {
    let sb = start_sandbox().await;
    let (utoken, _) = sb.store_card("ORDSTORE2", VISA, None).await;

    let (same_user, _) = sb
        .store_card("ORDSTORE3", "4111111111111111", Some(&utoken))
        .await;
    let cards = sb.client.list_cards(&utoken).await.expect("list");

    assert_eq!(same_user, utoken);
    assert_eq!(cards.len(), 2);
    let foreign = cards
        .iter()
        .find(|c| c.last_4 == "1111")
        .expect("foreign card");
    assert_eq!(foreign.bank, "");
    assert!(
        sb.client
            .list_cards(&Token::new("unknownutoken"))
            .await
            .expect("empty")
            .is_empty()
    );
}

#[tokio::test]
async fn paying_with_a_saved_card_needs_the_matching_pair_and_cvv_when_required() {
    let sb = start_sandbox().await;
    let (utoken, ctoken) = sb.store_card("ORDCVV0", "5406670000000074", None).await;
    let (other_user, other_card) = sb.store_card("ORDCVV1", VISA, None).await;
    let cards = sb.client.list_cards(&utoken).await.expect("list");
    assert!(
        cards[0].require_cvv,
        "this test card is stored with require_cvv=1"
    );
    let saved = |u: &Token, c: &Token| CardSource::SavedCard {
        utoken: u.clone(),
        ctoken: c.clone(),
        require_cvv: true,
    };

    let no_cvv = sb
        .pay_sync(
            sample_request("ORDCVV2", 500),
            saved(&utoken, &ctoken),
            vec![],
        )
        .await;
    let with_cvv = sb
        .pay_sync(
            sample_request("ORDCVV3", 500),
            saved(&utoken, &ctoken),
            vec![("cvv", "000".into())],
        )
        .await;
    let crossed = sb
        .pay_sync(
            sample_request("ORDCVV4", 500),
            saved(&utoken, &other_card),
            vec![("cvv", "000".into())],
        )
        .await;
    let plain = sb
        .pay_sync(
            sample_request("ORDCVV5", 500),
            CardSource::SavedCard {
                utoken: other_user,
                ctoken: other_card,
                require_cvv: false,
            },
            vec![],
        )
        .await;

    assert_eq!(no_cvv["status"], "failed", "{no_cvv}");
    assert!(
        no_cvv["msg"].as_str().unwrap_or_default().contains("CVV"),
        "the bank says why: {no_cvv}"
    );
    assert_eq!(with_cvv["status"], "success", "{with_cvv}");
    assert!(
        crossed["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("bulunamadi"),
        "{crossed}"
    );
    assert_eq!(plain["status"], "success", "{plain}");
}

#[tokio::test]
async fn delete_removes_the_card_once_and_then_says_it_is_gone() {
    let sb = start_sandbox().await;
    let (utoken, ctoken) = sb.store_card("ORDDEL1", VISA, None).await;

    sb.client
        .delete_card(&utoken, &ctoken)
        .await
        .expect("deleted");
    let again = sb.client.delete_card(&utoken, &ctoken).await;

    assert!(
        sb.client
            .list_cards(&utoken)
            .await
            .expect("list")
            .is_empty()
    );
    assert!(
        matches!(&again, Err(PaytrError::Refused(m)) if m == "Kart yok veya daha önce silinmiş"),
        "{again:?}"
    );
}

#[tokio::test]
async fn capi_calls_with_a_bad_token_get_paytr_error_answers() {
    let sb = start_sandbox().await;
    let (utoken, ctoken) = sb.store_card("ORDBADTOK", VISA, None).await;
    async fn post(
        sb: &crate::sandbox_harness::SandboxUnderTest,
        path: &str,
        form: Vec<(&str, String)>,
    ) -> String {
        let response = sb
            .http
            .post(format!("{}{path}", sb.url))
            .form(&form)
            .send()
            .await
            .expect("answer");
        response.text().await.expect("body")
    }

    let list = post(
        &sb,
        "/odeme/capi/list",
        vec![
            ("merchant_id", "123456".into()),
            ("utoken", utoken.expose().into()),
            ("paytr_token", "AAAA".into()),
        ],
    )
    .await;
    let delete = post(
        &sb,
        "/odeme/capi/delete",
        vec![
            ("merchant_id", "123456".into()),
            ("utoken", utoken.expose().into()),
            ("ctoken", ctoken.expose().into()),
            (
                "paytr_token",
                paytr_checkout::paytr::capi_delete_token(
                    &sb.creds,
                    utoken.expose(),
                    ctoken.expose(),
                ),
            ),
        ],
    )
    .await;

    assert!(
        list.contains("\"status\":\"error\"") && list.contains("err_msg"),
        "{list}"
    );
    assert!(
        delete.contains("\"status\":\"error\""),
        "utoken-first signature is refused: {delete}"
    );
    assert_eq!(
        sb.client
            .list_cards(&utoken)
            .await
            .expect("still there")
            .len(),
        1
    );
}

#[tokio::test]
async fn permissions_switched_off_are_refused_in_paytr_words() {
    let sb = start_sandbox().await;
    let (utoken, _) = sb.store_card("ORDPERM0", VISA, None).await;
    let mut knobs = sb.sandbox.knobs();
    knobs.permissions.non_3d = false;
    knobs.permissions.store_card = false;
    sb.sandbox.set_knobs(knobs.clone());

    let non_3d = sb
        .pay_sync(
            sample_request("ORDPERM1", 500),
            CardSource::NewCard {
                store_card: false,
                utoken: None,
            },
            card_fields(VISA),
        )
        .await;
    let store = sb
        .post_odeme(&sb.form(
            &sample_request("ORDPERM2", 500),
            &CardSource::NewCard {
                store_card: true,
                utoken: None,
            },
            card_fields(VISA),
        ))
        .await;
    let list = sb.client.list_cards(&utoken).await;
    knobs.permissions.direct_api = false;
    sb.sandbox.set_knobs(knobs);
    let direct = sb
        .post_odeme(&sb.form(
            &PaymentRequest {
                ..sample_request("ORDPERM3", 500)
            },
            &CardSource::NewCard {
                store_card: false,
                utoken: None,
            },
            card_fields(VISA),
        ))
        .await;

    assert!(
        non_3d["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("yetkisi yok (non_3d)"),
        "{non_3d}"
    );
    assert!(
        store
            .text()
            .await
            .expect("body")
            .contains("yetkisi yok (store_card)")
    );
    assert!(
        matches!(&list, Err(PaytrError::Refused(m)) if m.contains("yetkisi yok")),
        "{list:?}"
    );
    assert!(direct.text().await.expect("body").contains("yetkisi yok"));
}
