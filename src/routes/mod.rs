//! Thin actix handlers and their page structs; [`configure`] lists every URL.

mod health;
mod home;
mod pages;

use actix_web::web;

/// Every route of the storefront.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/", web::get().to(home::home_page))
        .route("/static/app.css", web::get().to(pages::stylesheet))
        .default_service(web::to(pages::not_found));
}
