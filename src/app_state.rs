//! What every handler can reach: built by [`crate::startup`], read by [`crate::routes`].

use crate::accounts::{LoginThrottle, RateLimiter};
use crate::billing::Billing;
use crate::cards::CardCache;
use crate::catalog::Catalog;
use crate::config::{Mode, Settings};
use crate::db::Db;
use crate::paytr::PaytrClient;
use crate::seal::Sealer;
use std::sync::Arc;

/// What every handler can reach.
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    /// The absolute base URL, with the real port when bound to port 0.
    pub public_url: String,
    /// [`AppState::public_url`], checked as an absolute URL once, for PayTR's return URLs.
    pub public_base: crate::domain::AbsoluteUrl,
    /// PayTR, or the embedded sandbox in sandbox mode.
    pub paytr: PaytrClient,
    /// `test_mode` sent to PayTR (always on in sandbox mode).
    pub test_mode: bool,
    pub catalog: Catalog,
    /// The seller's details and the legal texts.
    pub legal: Arc<crate::legal::Legal>,
    /// What e-mails need: links, the shop's name, product names.
    pub mail: Arc<crate::mail::MailCtx>,
    pub sealer: Sealer,
    /// All log-in tries per address (IPv6 by /64).
    pub login_limiter: RateLimiter,
    /// Failed log-ins per account and address, with backoff.
    pub login_throttle: LoginThrottle,
    pub register_limiter: RateLimiter,
    /// BIN lookups for installment options, per address.
    pub bin_limiter: RateLimiter,
    /// Password reset e-mails per address and per account.
    pub reset_limiter: RateLimiter,
    pub payment_limiter: RateLimiter,
    pub delete_limiter: RateLimiter,
    /// API calls per key.
    pub api_limiter: RateLimiter,
    /// Refused notifications recorded and logged per minute (the rest are only counted).
    pub refused_notifications: crate::notifications::RefusalBudget,
    /// Whether the private-shopper-address warning was logged (once per process).
    pub private_ip_warned: std::sync::atomic::AtomicBool,
    /// PayTR with the short CAPI timeout, for card lists on pages.
    pub capi: PaytrClient,
    pub card_cache: Arc<CardCache>,
    pub billing: Billing,
    /// The CSP of pages whose form posts a payment to PayTR (see `startup::payment_page_csp`),
    /// made a header once (`None` if it could not be one: the default CSP applies).
    pub payment_csp: Option<actix_web::http::header::HeaderValue>,
}

impl AppState {
    /// A payment page: its form may be redirected to a bank's 3-D Secure page.
    pub fn payment_page(&self, mut response: actix_web::HttpResponse) -> actix_web::HttpResponse {
        if let Some(value) = self.payment_csp.clone() {
            response
                .headers_mut()
                .insert(actix_web::http::header::CONTENT_SECURITY_POLICY, value);
        }
        response
    }
}

impl AppState {
    /// What a PayTR request needs besides the order and the attempt.
    pub fn request_context(
        &self,
        lang: crate::domain::Lang,
    ) -> crate::checkout::RequestContext<'_> {
        crate::checkout::RequestContext {
            public_url: &self.public_base,
            lang,
            test_mode: self.test_mode,
            debug_on: self.settings.paytr.debug_on,
        }
    }

    pub fn mode(&self) -> Mode {
        self.settings.mode()
    }
}
