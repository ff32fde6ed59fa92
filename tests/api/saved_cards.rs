//! Saved cards: paying with one, CVV when required, the account page, deletion, and who may
//! use which card.

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::sandbox_harness::VISA;
use crate::shopper::{Shopper, hidden_fields, order_id, saved_card_refs};
use paytr_checkout::sandbox::knobs::{Fault, Knobs};

const CVV_CARD: &str = "5406670000000074";

async fn returning_shopper(app: &TestApp, email: &str, card: &str) -> Shopper {
    let mut shopper = Shopper::new(&app.address);
    shopper.register(email).await;
    shopper.buy_and_save("lokum", card).await;
    shopper
}

fn sandbox_payments(app: &TestApp) -> usize {
    app.sandbox
        .as_ref()
        .expect("sandbox")
        .read(|s| s.payments.len())
}

#[tokio::test]
async fn a_returning_shopper_pays_with_the_saved_card_and_no_token_reaches_the_page() {
    let app = spawn_app().await;
    let mut shopper = returning_shopper(&app, "again@example.com", VISA).await;
    shopper.add_to_cart("turk-kahvesi").await;
    let pay = shopper.checkout().await;
    let ctoken = app
        .sandbox
        .as_ref()
        .expect("sandbox")
        .read(|s| s.cards[0].ctoken.clone());

    let refs = saved_card_refs(&pay.html);
    assert_eq!(refs.len(), 1);
    assert!(
        pay.html.contains("•••• <strong>4358</strong>") && pay.html.contains("Akbank"),
        "{}",
        pay.html
    );
    assert!(
        !pay.html.contains(&ctoken),
        "the ctoken is not in the payment page"
    );
    let hand_off = shopper.choose_saved(&pay, &refs[0]).await;
    assert_eq!(hand_off.status, 200, "{}", hand_off.html);
    assert!(
        hand_off.html.contains("data-autosubmit"),
        "no CVV needed: it goes on by itself"
    );
    assert!(!hand_off.html.contains("name=\"cvv\""));
    let fields: std::collections::HashMap<_, _> =
        crate::shopper::form_inputs(&hand_off.html, "id=\"saved-card-form\"")
            .1
            .into_iter()
            .collect();
    assert_eq!(fields["ctoken"], ctoken);
    assert!(!fields.contains_key("card_number"));
    let three_d = shopper.hand_off(&hand_off.html, None).await;
    shopper.answer_3d(&three_d, true).await;

    shopper
        .wait_for_order_status(&format!("/orders/{}", order_id(&pay.url)), "status_paid")
        .await;
}

#[tokio::test]
async fn a_card_that_requires_cvv_asks_for_it_and_fails_at_paytr_without_it() {
    let app = spawn_app().await;
    let mut shopper = returning_shopper(&app, "cvv@example.com", CVV_CARD).await;
    shopper.add_to_cart("lokum").await;
    let pay = shopper.checkout().await;
    assert!(
        pay.html.contains("CVV gerekir"),
        "the card is marked as needing its CVV"
    );
    let hand_off = shopper
        .choose_saved(&pay, &saved_card_refs(&pay.html)[0])
        .await;
    assert!(hand_off.html.contains("name=\"cvv\"") && !hand_off.html.contains("data-autosubmit"));

    let three_d = shopper.hand_off(&hand_off.html, None).await;
    shopper.answer_3d(&three_d, true).await;

    let failed = shopper
        .wait_for_order_status(&format!("/orders/{}", order_id(&pay.url)), "status_failed")
        .await;
    assert!(
        failed.html.contains("CVV"),
        "the shopper sees why: {}",
        failed.html
    );
    let again = shopper
        .post(&format!("/orders/{}/retry", order_id(&pay.url)), &[])
        .await;
    let hand_off = shopper
        .choose_saved(&again, &saved_card_refs(&again.html)[0])
        .await;
    let three_d = shopper.hand_off(&hand_off.html, Some("000")).await;
    shopper.answer_3d(&three_d, true).await;
    shopper
        .wait_for_order_status(&format!("/orders/{}", order_id(&pay.url)), "status_paid")
        .await;
}

#[tokio::test]
async fn the_account_page_lists_cards_and_deletes_one_after_confirmation() {
    let app = spawn_app().await;
    let mut shopper = returning_shopper(&app, "delete@example.com", VISA).await;

    let list = shopper.get("/account/cards").await;
    let reference = crate::shopper::first_card_reference(&list.html);
    let confirm = shopper
        .get(&format!("/account/cards/{reference}/delete"))
        .await;
    assert!(confirm.html.contains("id=\"confirm-delete\""));
    let done = shopper
        .post(&format!("/account/cards/{reference}/delete"), &[])
        .await;

    assert!(done.url.contains("deleted=1"), "{}", done.url);
    assert!(
        done.html.contains("id=\"no-cards\""),
        "the list is empty right away: {}",
        done.html
    );
    assert_eq!(
        app.sandbox
            .as_ref()
            .expect("sandbox")
            .read(|s| s.cards.len()),
        0,
        "deleted at PayTR"
    );
    shopper.get("/account/cards").await;
    let again = shopper
        .post(&format!("/account/cards/{reference}/delete"), &[])
        .await;
    assert_eq!(
        again.status, 403,
        "a card no longer in the list cannot be deleted"
    );
    // Saving and deleting the card were both told by e-mail (the card by its last 4 only).
    let mailbox = shopper.get("/sandbox/mail").await.html;
    assert!(
        mailbox.contains("data-to=\"delete@example.com\" data-subject=\"Kartınız kaydedildi\"")
            && mailbox.contains("data-to=\"delete@example.com\" data-subject=\"Kartınız silindi\"")
            && mailbox.contains("VISA •••• 4358 kartınız"),
        "{mailbox}"
    );
    assert!(!mailbox.contains("4355084355084358"));
}

#[tokio::test]
async fn paytr_deletion_errors_are_shown_in_plain_words() {
    let app = spawn_app().await;
    let mut shopper = returning_shopper(&app, "gone@example.com", VISA).await;
    let list = shopper.get("/account/cards").await;
    let reference = crate::shopper::first_card_reference(&list.html);
    shopper
        .get(&format!("/account/cards/{reference}/delete"))
        .await;
    // Delete behind the shop's back (e.g. from another device), while its list is cached.
    let sandbox = app.sandbox.clone().expect("sandbox");
    let (utoken, ctoken) = sandbox.read(|s| (s.cards[0].utoken.clone(), s.cards[0].ctoken.clone()));
    let client = paytr_checkout::paytr::PaytrClient::new(paytr_checkout::paytr::ClientConfig {
        base_url: format!("{}/sandbox", app.address),
        credentials: sandbox.credentials().clone(),
        connect_timeout: std::time::Duration::from_secs(2),
        request_timeout: std::time::Duration::from_secs(2),
    })
    .expect("client");
    client
        .delete_card(
            &paytr_checkout::paytr::Token::new(utoken),
            &paytr_checkout::paytr::Token::new(ctoken),
        )
        .await
        .expect("deleted elsewhere");

    let page = shopper
        .post(&format!("/account/cards/{reference}/delete"), &[])
        .await;

    assert!(
        page.html
            .contains("Kart bulunamadı veya daha önce silinmiş."),
        "{}",
        page.html
    );
}

#[tokio::test]
async fn duplicate_cards_are_marked_with_an_offer_to_remove_the_copy() {
    let app = spawn_app().await;
    let mut shopper = returning_shopper(&app, "twice@example.com", VISA).await;
    shopper.buy_and_save("lokum", VISA).await;

    let list = shopper.get("/account/cards").await;

    assert_eq!(list.html.matches("class=\"saved-card\"").count(), 2);
    assert_eq!(list.html.matches("Aynı kartın kopyası").count(), 1);
    assert!(list.html.contains("Fazla kopyayı sil"));
}

#[tokio::test]
async fn another_shoppers_card_can_be_neither_used_nor_deleted_and_nothing_reaches_paytr() {
    let app = spawn_app().await;
    let mut alice = returning_shopper(&app, "alice@example.com", VISA).await;
    let alice_pay = {
        alice.add_to_cart("lokum").await;
        alice.checkout().await
    };
    let alice_ref = saved_card_refs(&alice_pay.html)[0].clone();
    let alice_ctoken = app
        .sandbox
        .as_ref()
        .expect("sandbox")
        .read(|s| s.cards[0].ctoken.clone());
    let mut bob = returning_shopper(&app, "bob@example.com", "5406675406675403").await;
    bob.add_to_cart("lokum").await;
    let bob_pay = bob.checkout().await;
    let payments_before = sandbox_payments(&app);
    let cards_before = app
        .sandbox
        .as_ref()
        .expect("sandbox")
        .read(|s| s.cards.len());

    let by_ref = bob.choose_saved(&bob_pay, &alice_ref).await;
    let by_ctoken = bob.choose_saved(&bob_pay, &alice_ctoken).await;
    bob.get("/account/cards").await;
    let delete = bob
        .post(&format!("/account/cards/{alice_ref}/delete"), &[])
        .await;
    let on_alices_order = bob
        .post(
            &format!("/orders/{}/saved", order_id(&alice_pay.url)),
            &[("card", alice_ref.as_str())],
        )
        .await;

    assert_eq!(
        (by_ref.status, by_ctoken.status, delete.status),
        (403, 403, 403)
    );
    assert_eq!(on_alices_order.status, 404, "nor on someone else's order");
    assert!(
        !by_ref.html.contains(&alice_ctoken) && !by_ctoken.html.contains("id=\"saved-card-form\"")
    );
    assert_eq!(
        sandbox_payments(&app),
        payments_before,
        "nothing was sent to PayTR"
    );
    assert_eq!(
        app.sandbox
            .as_ref()
            .expect("sandbox")
            .read(|s| s.cards.len()),
        cards_before
    );
}

#[tokio::test]
async fn checkout_stays_usable_when_capi_list_fails_or_is_slow() {
    let app = spawn_app_with(&[("PAYTR_CAPI_TIMEOUT_MS", "300")]).await;
    let mut shopper = returning_shopper(&app, "slow@example.com", VISA).await;
    let sandbox = app.sandbox.clone().expect("sandbox");

    for (fault, latency) in [
        (Fault::Http500, 0),
        (Fault::Malformed, 0),
        (Fault::None, 800),
        (Fault::Timeout, 0),
    ] {
        sandbox.set_knobs(Knobs {
            capi_fault: fault,
            latency: std::time::Duration::from_millis(latency),
            ..sandbox.knobs()
        });
        shopper.add_to_cart("lokum").await;
        let pay = shopper.checkout().await;
        assert_eq!(pay.status, 200, "{fault:?}");
        assert!(
            pay.html.contains("id=\"cards-unavailable\""),
            "{fault:?}: {}",
            pay.html
        );
        assert!(
            pay.html.contains("id=\"payment-form\""),
            "a new card still works"
        );
        assert!(hidden_fields(&pay.html).contains_key("paytr_token"));
        let account = shopper.get("/account/cards").await;
        assert_eq!(account.status, 200);
        assert!(
            account.html.contains("id=\"cards-unavailable\""),
            "{fault:?}"
        );
    }
}

#[tokio::test]
async fn repeated_checkout_views_use_the_cached_card_list() {
    let app = spawn_app_with(&[("PAYTR_CAPI_TIMEOUT_MS", "2000")]).await;
    let mut shopper = returning_shopper(&app, "cache@example.com", VISA).await;
    let sandbox = app.sandbox.clone().expect("sandbox");
    shopper.add_to_cart("lokum").await;
    let first = shopper.checkout().await;
    assert_eq!(saved_card_refs(&first.html).len(), 1);

    sandbox.set_knobs(Knobs {
        capi_fault: Fault::Http500,
        ..sandbox.knobs()
    });
    let second = shopper.get(&first.url).await;

    assert_eq!(
        saved_card_refs(&second.html).len(),
        1,
        "served from the cache, PayTR not asked"
    );
}
