//! What a handler can fail with, and how the shopper sees it. Handlers return
//! `Result<HttpResponse, PageError>` and use `?`; [`PageError`] implements `ResponseError`
//! with a bare response that carries the failure, and [`render_failures`] (inside the session
//! middleware, so it knows the shopper's language) turns it into a page in their words. A 5xx
//! is logged once, with its cause; the page never shows the cause.

use super::ctx::Ctx;
use super::pages::{message, redirect};
use crate::sessions::SessionExt;
use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

/// A failure a handler answers with.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PageError {
    /// Unknown, or somebody else's: the same answer either way.
    #[error("not found")]
    NotFound,
    /// The page needs a signed-in shopper.
    #[error("sign-in required")]
    LogIn,
    /// A 4xx with our words: `heading` and `text` are keys of [`super::i18n`].
    #[error("refused: {text}")]
    Refused {
        status: StatusCode,
        heading: &'static str,
        text: &'static str,
    },
    /// Something of ours failed; `cause` goes to the log only.
    #[error("{cause}")]
    Internal { cause: String },
}

impl PageError {
    pub fn refused(status: StatusCode, heading: &'static str, text: &'static str) -> Self {
        Self::Refused {
            status,
            heading,
            text,
        }
    }

    /// A dependency (PayTR's card list) is unavailable: 503 with our words.
    pub fn unavailable(heading: &'static str, text: &'static str) -> Self {
        Self::refused(StatusCode::SERVICE_UNAVAILABLE, heading, text)
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal {
            cause: cause.to_string(),
        }
    }
}

impl From<crate::db::DbError> for PageError {
    fn from(e: crate::db::DbError) -> Self {
        Self::internal(e)
    }
}

impl From<crate::checkout::CheckoutError> for PageError {
    fn from(e: crate::checkout::CheckoutError) -> Self {
        Self::internal(e)
    }
}

impl From<crate::domain::ValidationError> for PageError {
    fn from(e: crate::domain::ValidationError) -> Self {
        Self::internal(e)
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::LogIn => StatusCode::SEE_OTHER,
            Self::Refused { status, .. } => *status,
            Self::Internal { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal { cause } = self {
            tracing::error!(error = %cause, "request failed");
        }
        let mut response = HttpResponse::new(self.status_code());
        response.extensions_mut().insert(self.clone());
        response
    }
}

impl PageError {
    fn page(&self, ctx: &Ctx) -> HttpResponse {
        match self {
            Self::NotFound => message(ctx, StatusCode::NOT_FOUND, "not_found", "not_found"),
            Self::LogIn => redirect("/login"),
            Self::Refused {
                status,
                heading,
                text,
            } => message(ctx, *status, heading, text),
            Self::Internal { .. } => message(
                ctx,
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "server_error",
            ),
        }
    }
}

/// Renders a [`PageError`]'s response as a page in the shopper's language.
pub async fn render_failures<B: MessageBody + 'static>(
    response: ServiceResponse<B>,
) -> ServiceResponse<actix_web::body::BoxBody> {
    let failure = response.response().extensions().get::<PageError>().cloned();
    let Some(failure) = failure else {
        return response.map_into_boxed_body();
    };
    let (req, _) = response.into_parts();
    let session = req.get_session();
    let ctx = Ctx::load(&req, &session);
    let page = failure.page(&ctx);
    ServiceResponse::new(req, page)
}
