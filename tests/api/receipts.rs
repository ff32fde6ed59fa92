//! The contract accepted before paying, the order page's money, and the receipt.

use crate::helpers::{TestApp, spawn_app};
use crate::sandbox_harness::VISA;
use crate::shopper::{Shopper, order_id};
use diesel::prelude::*;
use paytr_checkout::db::models::Order;
use paytr_checkout::db::schema::orders;

async fn order_row(app: &TestApp, public_id: &str) -> (Order, Option<String>) {
    let id = public_id.to_owned();
    app.db_run(move |conn| {
        let order = Order::find_by_public_id(conn, &id)?.expect("order");
        let text = orders::table
            .find(order.id)
            .select(orders::terms_text)
            .first::<Option<String>>(conn)?;
        Ok((order, text))
    })
    .await
}

async fn order_count(app: &TestApp) -> i64 {
    app.db_run(|conn| Ok(orders::table.count().get_result::<i64>(conn)?))
        .await
}

const BILLING: [(&str, &str); 4] = [
    ("full_name", "Ayşe Yılmaz"),
    ("email", "ayse@example.com"),
    ("phone", "0555 111 22 33"),
    ("address", "Moda Cad. 1\r\nKadıköy\r\n\r\nİstanbul"),
];

#[tokio::test]
async fn paying_needs_the_contract_accepted_and_the_accepted_text_is_kept_with_the_order() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.add_to_cart("seramik-kupa").await;
    shopper.add_to_cart("seramik-kupa").await;
    let form = shopper.get("/checkout").await;
    assert!(
        form.html.contains("MESAFELİ SATIŞ SÖZLEŞMESİ")
            && form.html.contains("ÖN BİLGİLENDİRME FORMU")
            && form.html.contains("Seramik kupa × 2: 360,00 TL"),
        "the texts are shown with the cart's lines before paying: {}",
        form.html
    );

    let refused = shopper.post("/checkout", &BILLING).await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.html.contains("id=\"accept_terms-error\"")
            && refused
                .html
                .contains("aria-describedby=\"accept_terms-error\""),
        "{}",
        refused.html
    );
    assert!(
        refused.html.contains("value=\"Ayşe Yılmaz\""),
        "typed values kept"
    );
    assert_eq!(order_count(&app).await, 0, "no order without the contract");

    let mut accepted = BILLING.to_vec();
    accepted.push(("accept_terms", "1"));
    let pay = shopper.post("/checkout", &accepted).await;
    assert_eq!(pay.status, 200, "{}", pay.html);
    let (order, text) = order_row(&app, &order_id(&pay.url)).await;
    assert_eq!(
        order.address, "Moda Cad. 1, Kadıköy, İstanbul",
        "a three-line address is one line for PayTR"
    );
    let text = text.expect("the accepted text is stored");
    for part in [
        "MESAFELİ SATIŞ SÖZLEŞMESİ",
        "Ayşe Yılmaz",
        "Moda Cad. 1, Kadıköy, İstanbul",
        "- Seramik kupa × 2: 360,00 TL",
        "Toplam: 360,00 TL",
        "Örnek Mağazacılık",
    ] {
        assert!(text.contains(part), "{part:?} in {text}");
    }
    assert!(
        order
            .terms_version
            .as_deref()
            .is_some_and(|v| v.starts_with("tr-"))
    );
    assert!(order.terms_accepted_at.is_some());

    // The shopper can read what they accepted; nobody else can.
    let mine = shopper
        .get(&format!("/orders/{}/terms", order.public_id))
        .await;
    assert!(mine.status == 200 && mine.html.contains("360,00 TL"));
    let mut stranger = Shopper::new(&app.address);
    let theirs = stranger
        .get(&format!("/orders/{}/terms", order.public_id))
        .await;
    assert_eq!(theirs.status, 404);
    assert!(!theirs.html.contains("Ayşe"));
}

#[tokio::test]
async fn a_paid_order_has_a_receipt_with_its_lines_card_and_billing_only_for_its_owner() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.add_to_cart("seramik-kupa").await;
    shopper.add_to_cart("seramik-kupa").await;
    shopper.add_to_cart("lokum").await;
    let pay = shopper.checkout().await;
    let id = order_id(&pay.url);
    let early = shopper.get(&format!("/orders/{id}/receipt")).await;
    assert!(
        early.url.ends_with(&format!("/orders/{id}")),
        "no receipt before the payment: {}",
        early.url
    );

    let three_d = shopper.pay(&pay.html, VISA, false).await;
    shopper.answer_3d(&three_d, true).await;
    let paid = shopper
        .wait_for_order_status(&format!("/orders/{id}"), "status_paid")
        .await;
    let (order, _) = order_row(&app, &id).await;
    let number = order.number();
    assert!(
        number.len() == 11 && number[..4].parse::<u32>().is_ok(),
        "{number}"
    );
    assert!(paid.html.contains(&number) && paid.html.contains("id=\"receipt-link\""));
    // The order page shows line totals that add up to the total (unit price beside).
    assert!(
        paid.html.contains("360,00 TL") && paid.html.contains("180,00 TL × 2"),
        "{}",
        paid.html
    );

    // The card is named once PayTR's status inquiry answered (in the background).
    let mut receipt = shopper.get(&format!("/orders/{id}/receipt")).await;
    for _ in 0..200 {
        if receipt.html.contains("VISA •••• 4358") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        receipt = shopper.get(&format!("/orders/{id}/receipt")).await;
    }
    assert!(receipt.html.contains("VISA •••• 4358"), "{}", receipt.html);
    assert_eq!(receipt.status, 200);
    for part in [
        number.as_str(),
        "Örnek Mağazacılık",
        "Seramik kupa",
        "360,00 TL",
        "Ayşe Yılmaz",
        "0555 111 22 33",
        "Moda Cad. 1, Kadıköy, İstanbul",
        "id=\"accepted-terms\"",
        "tek çekim",
    ] {
        assert!(receipt.html.contains(part), "{part:?} in {}", receipt.html);
    }
    let total = order.total.kurus();
    assert!(
        receipt
            .html
            .contains(&format!("id=\"receipt-total\">{},", total / 100)),
        "{}",
        receipt.html
    );
    assert!(!receipt.html.contains("4355084355084358"));

    let english = shopper.get(&format!("/orders/{id}?lang=en")).await;
    assert!(
        english.html.contains("Ceramic mug") && !english.html.contains("Seramik kupa"),
        "item lines in the page's language: {}",
        english.html
    );
    shopper.get("/?lang=tr").await;

    let mut stranger = Shopper::new(&app.address);
    let theirs = stranger.get(&format!("/orders/{id}/receipt")).await;
    assert_eq!(theirs.status, 404);
    assert!(!theirs.html.contains("Ayşe"));
}

#[tokio::test]
async fn the_seller_and_the_legal_texts_are_linked_from_every_page() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    for path in ["/", "/cart", "/login", "/register", "/products/lokum"] {
        let page = shopper.get(path).await;
        for link in ["/legal/seller", "/legal/privacy", "/legal/distance-sales"] {
            assert!(
                page.html.contains(&format!("href=\"{link}\"")),
                "{link} on {path}"
            );
        }
    }
    let seller = shopper.get("/legal/seller").await;
    assert!(seller.status == 200 && seller.html.contains("Örnek Mağazacılık"));
    let privacy = shopper.get("/legal/privacy").await;
    assert!(privacy.html.contains("KVKK") && privacy.html.contains("Örnek Mağazacılık"));
    let english = shopper.get("/legal/privacy?lang=en").await;
    assert!(english.html.contains("PRIVACY NOTICE"), "{}", english.html);
    assert_eq!(shopper.get("/legal/nothing").await.status, 404);
}

#[tokio::test]
async fn a_signed_in_shopper_s_billing_details_are_offered_at_the_next_purchase() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.register("again@example.com").await;
    shopper.add_to_cart("lokum").await;
    let pay = shopper.checkout().await;
    assert_eq!(pay.status, 200);

    // Another device, another session: the form starts filled in.
    let mut phone = Shopper::new(&app.address);
    phone.get("/login").await;
    phone
        .post(
            "/login",
            &[
                ("email", "again@example.com"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    phone.add_to_cart("lokum").await;
    let form = phone.get("/checkout").await;
    assert!(
        form.html.contains("value=\"0555 111 22 33\"")
            && form
                .html
                .contains("Moda Cad. 1, Kadıköy, İstanbul</textarea>"),
        "{}",
        form.html
    );
    // A guest gets nothing of anyone's.
    let mut guest = Shopper::new(&app.address);
    guest.add_to_cart("lokum").await;
    assert!(!guest.get("/checkout").await.html.contains("0555 111 22 33"));
}

/// The visible text of a page: tags, attribute values and the shopper's own typed values
/// (inputs, textareas) left out.
fn visible_text(html: &str) -> String {
    // Scripts, styles and what the shopper typed are not our words.
    let mut rest = html.to_owned();
    for tag in ["textarea", "script", "style"] {
        while let Some(start) = rest.find(&format!("<{tag}")) {
            let close = format!("</{tag}>");
            let Some(len) = rest[start..].find(&close) else {
                break;
            };
            rest.replace_range(start..start + len + close.len(), " ");
        }
    }
    let mut text = String::new();
    let mut in_tag = false;
    for ch in rest.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

#[tokio::test]
async fn english_pages_are_english_from_the_shop_to_the_receipt() {
    let app = spawn_app().await;
    let mut shopper = Shopper::new(&app.address);
    shopper.get("/?lang=en").await;
    shopper.add_to_cart("seramik-kupa").await;
    let pay = shopper.checkout().await;
    let id = order_id(&pay.url);
    let three_d = shopper.pay(&pay.html, VISA, false).await;
    shopper.answer_3d(&three_d, true).await;
    shopper
        .wait_for_order_status(&format!("/orders/{id}"), "status_paid")
        .await;
    let (order, _) = order_row(&app, &id).await;
    assert_eq!(order.lang, "en");
    // What the shopper typed and the seller's own name are theirs, not ours.
    let theirs = [
        "Ayşe Yılmaz",
        "Moda Cad. 1, Kadıköy, İstanbul",
        "Örnek Mağazacılık Ltd. Şti. (ÖRNEK — kendi bilgilerinizle değiştirin)",
        "Örnek Mah. Deneme Cad. No: 1, 34710 Kadıköy / İstanbul",
        "Kadıköy",
        "TR · EN",
        "PayTR Ödeme ve Elektronik Para Kuruluşu A.Ş.",
    ];
    let turkish = |c: char| "çğışöüÇĞİŞÖÜ".contains(c);
    let mut found = Vec::new();
    for path in [
        "/".to_owned(),
        "/products/seramik-kupa".to_owned(),
        "/cart".to_owned(),
        "/login".to_owned(),
        "/register".to_owned(),
        "/password/forgot".to_owned(),
        "/legal/seller".to_owned(),
        "/legal/privacy".to_owned(),
        "/legal/distance-sales".to_owned(),
        format!("/orders/{id}"),
        format!("/orders/{id}/receipt"),
        format!("/orders/{id}/terms"),
    ] {
        let page = shopper.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.html.contains("<html lang=\"en\">"), "{path}");
        let mut text = visible_text(&page.html);
        for t in theirs {
            text = text.replace(t, "");
        }
        let words: Vec<&str> = text
            .split_whitespace()
            .filter(|w| w.chars().any(turkish))
            .collect();
        if !words.is_empty() {
            found.push(format!("{path}: {words:?}"));
        }
    }
    assert!(
        found.is_empty(),
        "Turkish words on English pages: {found:#?}"
    );
}
