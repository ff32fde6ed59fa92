//! The HTTP client for PayTR's server-to-server calls: CAPI LIST, CAPI DELETE and recurring
//! charges. One pooled `reqwest` client; base URL and timeouts come from configuration so the
//! sandbox or a test server can stand in for `https://www.paytr.com`.

use super::answers::{AnswerError, CardListAnswer, ChargeAnswer, DeleteAnswer, StoredCard};
use super::merchant::{RefundAnswer, StatusAnswer, refund_form, status_form};
use super::requests::{FormFields, PaymentRequest, capi_delete_form, capi_list_form};
use super::sign::MerchantCredentials;
use super::{
    BIN_DETAIL_PATH, Bin, BinAnswer, CAPI_DELETE_PATH, CAPI_LIST_PATH, INSTALLMENT_RATES_PATH,
    PAYMENT_PATH, REFUND_PATH, RatesAnswer, RequestId, STATUS_PATH, Token, bin_detail_form,
    installment_rates_form,
};
use crate::types::{MerchantOid, Money, ReferenceNo, ValidationError};
use std::time::Duration;

/// Where and how to reach PayTR.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `https://www.paytr.com`, or the sandbox's base URL.
    pub base_url: String,
    pub credentials: MerchantCredentials,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

/// Why a call to PayTR did not give an answer we can act on.
#[derive(Debug, thiserror::Error)]
pub enum PaytrError {
    #[error("PayTR did not answer in time")]
    Timeout,
    /// The connection was never made, so nothing was sent.
    #[error("PayTR could not be reached")]
    Unreachable,
    /// The connection failed after it was made: the request may have arrived.
    #[error("the connection to PayTR failed: {0}")]
    Transport(String),
    #[error("PayTR answered HTTP {0}")]
    Status(u16),
    #[error(transparent)]
    Answer(#[from] AnswerError),
    /// PayTR understood the request and refused it, with its own message.
    #[error("PayTR refused the request: {0}")]
    Refused(String),
    #[error("the request is invalid: {0}")]
    Invalid(#[from] ValidationError),
}

impl PaytrError {
    /// True when the request may or may not have reached PayTR (a charge's outcome is unknown).
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            Self::Timeout | Self::Transport(_) | Self::Status(_) | Self::Answer(_)
        )
    }
}

/// PayTR's API, as one cheap-to-clone pooled client.
#[derive(Debug, Clone)]
pub struct PaytrClient {
    http: reqwest::Client,
    config: ClientConfig,
}

impl PaytrClient {
    pub fn new(config: ClientConfig) -> Result<Self, PaytrError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(concat!("paytr-checkout/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PaytrError::Transport(e.to_string()))?;
        Ok(Self { http, config })
    }

    pub fn credentials(&self) -> &MerchantCredentials {
        &self.config.credentials
    }

    /// Full URL of a PayTR path under the configured base (e.g. the browser form's `action`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.base_url.trim_end_matches('/'))
    }

    /// CAPI LIST: the shopper's saved cards (none for an unknown `utoken`).
    #[tracing::instrument(skip_all, fields(utoken = %utoken.hint()))]
    pub async fn list_cards(&self, utoken: &Token) -> Result<Vec<StoredCard>, PaytrError> {
        let body = self
            .post(CAPI_LIST_PATH, &capi_list_form(self.credentials(), utoken))
            .await?;
        match CardListAnswer::parse(&body)? {
            CardListAnswer::Cards(cards) => Ok(cards),
            CardListAnswer::Error(msg) => Err(PaytrError::Refused(msg)),
        }
    }

    /// CAPI DELETE: removes one saved card.
    #[tracing::instrument(skip_all, fields(utoken = %utoken.hint(), ctoken = %ctoken.hint()))]
    pub async fn delete_card(&self, utoken: &Token, ctoken: &Token) -> Result<(), PaytrError> {
        let form = capi_delete_form(self.credentials(), utoken, ctoken);
        match DeleteAnswer::parse(&self.post(CAPI_DELETE_PATH, &form).await?)? {
            DeleteAnswer::Deleted => Ok(()),
            DeleteAnswer::Error(msg) => Err(PaytrError::Refused(msg)),
        }
    }

    /// A merchant-initiated Non-3D charge of a saved card. PayTR answers JSON at once and sends
    /// the notification as well.
    #[tracing::instrument(skip_all, fields(merchant_oid = %request.merchant_oid))]
    pub async fn recurring_charge(
        &self,
        request: &PaymentRequest,
        utoken: &Token,
        ctoken: &Token,
    ) -> Result<ChargeAnswer, PaytrError> {
        let form = request.recurring_form(self.credentials(), utoken, ctoken)?;
        Ok(ChargeAnswer::parse(&self.post(PAYMENT_PATH, &form).await?)?)
    }

    /// Refund (part of) a paid order. PayTR does not deduplicate refunds: after a lost answer,
    /// look for `reference_no` in a status inquiry's `returns` instead of sending it again.
    #[tracing::instrument(skip_all, fields(merchant_oid = %merchant_oid, reference_no = %reference_no.as_str()))]
    pub async fn refund(
        &self,
        merchant_oid: &MerchantOid,
        amount: Money,
        reference_no: &ReferenceNo,
    ) -> Result<RefundAnswer, PaytrError> {
        let form = refund_form(self.credentials(), merchant_oid, amount, Some(reference_no));
        Ok(RefundAnswer::parse(&self.post(REFUND_PATH, &form).await?)?)
    }

    /// Status inquiry: what PayTR knows of a payment (and its refunds).
    #[tracing::instrument(skip_all, fields(merchant_oid = %merchant_oid))]
    pub async fn payment_status(
        &self,
        merchant_oid: &MerchantOid,
    ) -> Result<StatusAnswer, PaytrError> {
        let form = status_form(self.credentials(), merchant_oid);
        Ok(StatusAnswer::parse(&self.post(STATUS_PATH, &form).await?)?)
    }

    /// BIN lookup: the card's bank, scheme and installment family, from its first 6–8 digits.
    pub async fn bin_detail(&self, bin: &Bin) -> Result<BinAnswer, PaytrError> {
        let form = bin_detail_form(self.credentials(), bin);
        Ok(BinAnswer::parse(&self.post(BIN_DETAIL_PATH, &form).await?)?)
    }

    /// The store's installment rates (they may change daily).
    pub async fn installment_rates(
        &self,
        request_id: &RequestId,
    ) -> Result<RatesAnswer, PaytrError> {
        let form = installment_rates_form(self.credentials(), request_id);
        Ok(RatesAnswer::parse(
            &self.post(INSTALLMENT_RATES_PATH, &form).await?,
        )?)
    }

    /// Posts `form` to `path`; every call is counted (`paytr_calls_total` by endpoint and
    /// result) and timed (`paytr_call_duration_seconds`) for the metrics.
    async fn post(&self, path: &'static str, form: &FormFields<'_>) -> Result<String, PaytrError> {
        let started = std::time::Instant::now();
        let answer = self.post_unmeasured(path, form).await;
        let result = match &answer {
            Ok(_) => "ok",
            Err(PaytrError::Timeout) => "timeout",
            Err(PaytrError::Unreachable) => "unreachable",
            Err(PaytrError::Status(_)) => "http_error",
            Err(_) => "error",
        };
        metrics::counter!("paytr_calls_total", "endpoint" => path, "result" => result).increment(1);
        metrics::histogram!("paytr_call_duration_seconds", "endpoint" => path)
            .record(started.elapsed().as_secs_f64());
        answer
    }

    async fn post_unmeasured(
        &self,
        path: &str,
        form: &FormFields<'_>,
    ) -> Result<String, PaytrError> {
        let response = self
            .http
            .post(self.url(path))
            .form(&form.pairs())
            .send()
            .await
            .map_err(classify)?;
        let status = response.status();
        if !status.is_success() {
            return Err(PaytrError::Status(status.as_u16()));
        }
        response.text().await.map_err(classify)
    }
}

fn classify(err: reqwest::Error) -> PaytrError {
    if err.is_timeout() {
        PaytrError::Timeout
    } else if err.is_connect() {
        PaytrError::Unreachable
    } else {
        // The error's Display never includes the request body, so no token leaks here.
        PaytrError::Transport(err.without_url().to_string())
    }
}
