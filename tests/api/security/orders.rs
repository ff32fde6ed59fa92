//! Orders belong to someone: a stranger gets the same 404 as for an unknown id.

use super::signed_up;
use crate::helpers::spawn_app;
use crate::shopper::{Shopper, order_id};

const PAGES: [&str; 5] = ["", "/pay", "/ok", "/fail", "/pay?lang=en"];

#[tokio::test]
async fn another_shoppers_order_pages_answer_404_and_show_nothing_of_theirs() {
    let app = spawn_app().await;
    let mut victim = signed_up(&app, "victim@example.com").await;
    victim.add_to_cart("lokum").await;
    let pay = victim.checkout().await;
    let id = order_id(&pay.url);
    let mut attacker = signed_up(&app, "attacker@example.com").await;
    let mut stranger = Shopper::new(&app.address);

    for who in [&mut attacker, &mut stranger] {
        for page in PAGES {
            let seen = who.get(&format!("/orders/{id}{page}")).await;
            assert_eq!(seen.status, 404, "/orders/{id}{page}");
            assert!(
                !seen.html.contains("ayse@example.com")
                    && !seen.html.contains("Moda Cad.")
                    && !seen.html.contains("paytr_token"),
                "nothing of the victim's order: {}",
                seen.html
            );
        }
        who.get("/").await;
        let retry = who.post(&format!("/orders/{id}/retry"), &[]).await;
        who.get("/").await;
        let saved = who
            .post(&format!("/orders/{id}/saved"), &[("card", "x")])
            .await;
        assert_eq!(retry.status, 404);
        assert!(!saved.html.contains("paytr_token"), "{}", saved.html);
    }
    attacker.get("/").await;
    let saved = attacker
        .post(&format!("/orders/{id}/saved"), &[("card", "x")])
        .await;
    assert_eq!(saved.status, 404);
    let unknown = attacker.get("/orders/NoSuchOrder000000000000/pay").await;
    assert_eq!(unknown.status, 404, "the same answer as for an unknown id");

    for page in PAGES {
        let own = victim.get(&format!("/orders/{id}{page}")).await;
        assert_eq!(own.status, 200, "the owner sees {page}");
    }
}

#[tokio::test]
async fn a_guest_order_belongs_to_the_guest_session_only() {
    let app = spawn_app().await;
    let mut guest = Shopper::new(&app.address);
    guest.add_to_cart("lokum").await;
    let pay = guest.checkout().await;
    let id = order_id(&pay.url);
    let mut other_guest = Shopper::new(&app.address);
    other_guest.add_to_cart("lokum").await;

    let theirs = other_guest.get(&format!("/orders/{id}/pay")).await;
    let own = guest.get(&format!("/orders/{id}/pay")).await;

    assert_eq!((theirs.status, own.status), (404, 200));
    assert!(own.html.contains("paytr_token"));

    // Signing up keeps the guest's orders visible to the same browser.
    guest.register("guest-then-member@example.com").await;
    assert_eq!(guest.get(&format!("/orders/{id}")).await.status, 200);
}

#[tokio::test]
async fn paytr_returning_the_browser_with_a_cross_site_post_lands_on_the_owners_page() {
    let app = spawn_app().await;
    let mut shopper = signed_up(&app, "returns@example.com").await;
    shopper.add_to_cart("lokum").await;
    let pay = shopper.checkout().await;
    let id = order_id(&pay.url);
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    // As PayTR's page posts it: a form POST, and (cross-site) no cookie.
    let answer = no_redirects
        .post(format!("{}/orders/{id}/ok", app.address))
        .form(&[("merchant_oid", "x")])
        .send()
        .await
        .expect("answer");

    assert_eq!(answer.status().as_u16(), 303);
    // A browser keeps cookies set by a cross-site answer: a new (empty) session cookie here
    // would replace the shopper's, and the GET would find the order not theirs (seen in
    // Chromium with PayTR's page on another origin).
    assert!(
        answer.headers().get("set-cookie").is_none(),
        "the cookieless return must not set a cookie: {:?}",
        answer.headers().get("set-cookie")
    );
    assert_eq!(
        answer
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok()),
        Some(format!("/orders/{id}/ok").as_str())
    );
    let page = shopper.get(&format!("/orders/{id}/ok")).await;
    assert_eq!(page.status, 200, "the GET carries the owner's cookie");
}
