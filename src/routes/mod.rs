//! Thin actix handlers and their page structs; [`configure`] lists every URL.

mod account;
mod admin;
pub mod cards;
pub mod checkout;
pub mod ctx;
pub mod errors;
pub mod filters;
mod health;
mod hosted;
pub mod i18n;
mod installments;
mod legal;
mod notify;
pub use notify::NOTIFY_GET_BODY;
mod pages;
mod password;
mod receipt;
mod shop;
mod subscriptions;

use actix_web::web;

/// Every route of the storefront.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // Routes are tried in order, and each pattern with a `{segment}` is a regular expression:
    // the two busiest routes come first (the router's regexes were 5% of the payment page).
    cfg.route("/orders/{id}/pay", web::get().to(checkout::pay_page))
        .service(
            // PayTR's notification is a few hundred bytes; nothing larger is read.
            web::resource("/paytr/notify")
                .app_data(web::PayloadConfig::new(16 * 1024))
                .route(web::post().to(notify::paytr_notify))
                .route(web::get().to(notify::notify_get)),
        )
        .route("/healthz", web::get().to(health::healthz));
    admin::configure(cfg);
    crate::api::configure(cfg);
    cfg.route("/c/{id}", web::get().to(hosted::hosted_form))
        .route("/c/{id}", web::post().to(hosted::submit_hosted));
    cfg.route("/readyz", web::get().to(health::readyz))
        .route("/static/app.css", web::get().to(pages::stylesheet))
        .route("/", web::get().to(shop::home_page))
        .route("/legal/{slug}", web::get().to(legal::legal_page))
        .route("/products/{slug}", web::get().to(shop::product_page))
        .route("/cart", web::get().to(shop::cart_page))
        .route("/cart/add", web::post().to(shop::add_to_cart))
        .route("/cart/update", web::post().to(shop::update_cart))
        .route("/register", web::get().to(account::register_form))
        .route("/register", web::post().to(account::register))
        .route(
            "/register/confirm/{token}",
            web::get().to(account::confirm_email),
        )
        .route("/sandbox/mail", web::get().to(account::mailbox))
        .route(
            "/dev/mailbox",
            web::get().to(|| async { pages::redirect("/sandbox/mail") }),
        )
        .route("/login", web::get().to(account::login_form))
        .route("/password/forgot", web::get().to(password::forgot_form))
        .route("/password/forgot", web::post().to(password::forgot))
        .route(
            "/password/reset/{token}",
            web::get().to(password::reset_form),
        )
        .route("/password/reset/{token}", web::post().to(password::reset))
        .route("/login", web::post().to(account::login))
        .route("/logout", web::post().to(account::logout))
        .route("/account", web::get().to(account::account_page))
        .route("/account/cards", web::get().to(cards::cards_page))
        .route(
            "/account/cards/{reference}/delete",
            web::get().to(cards::confirm_delete),
        )
        .route(
            "/account/cards/{reference}/delete",
            web::post().to(cards::delete_card),
        )
        .route("/static/app.js", web::get().to(pages::script))
        .route(
            "/subscribe/{slug}",
            web::get().to(subscriptions::subscribe_form),
        )
        .route(
            "/subscribe/{slug}",
            web::post().to(subscriptions::subscribe),
        )
        .route(
            "/account/subscriptions/{id}/pay",
            web::post().to(subscriptions::pay_now),
        )
        .route(
            "/account/subscriptions/{id}/cancel",
            web::post().to(subscriptions::cancel),
        )
        .route(
            "/account/subscriptions/{id}/cancel",
            web::get().to(subscriptions::cancel_form),
        )
        .route(
            "/account/subscriptions/{id}/resume",
            web::post().to(subscriptions::resume),
        )
        .route(
            "/account/subscriptions/{id}/card",
            web::post().to(subscriptions::change_card),
        )
        .route("/checkout", web::get().to(checkout::checkout_form))
        .route("/checkout", web::post().to(checkout::submit_checkout))
        .route("/orders/{id}", web::get().to(checkout::order_page))
        .route(
            "/orders/{id}/installments",
            web::post().to(installments::installments),
        )
        .route("/orders/{id}/receipt", web::get().to(receipt::receipt_page))
        .route(
            "/orders/{id}/terms",
            web::get().to(receipt::accepted_terms_page),
        )
        .route("/orders/{id}/retry", web::post().to(checkout::retry))
        .route("/orders/{id}/saved", web::post().to(cards::pay_with_saved))
        .service(
            web::resource("/orders/{id}/ok")
                .route(web::get().to(checkout::returned_ok))
                .route(web::route().to(checkout::back_to_get)),
        )
        .service(
            web::resource("/orders/{id}/fail")
                .route(web::get().to(checkout::returned_fail))
                .route(web::route().to(checkout::back_to_get)),
        )
        .default_service(web::to(pages::not_found));
}
