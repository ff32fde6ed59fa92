#![doc = include_str!("../README.md")]

mod answers;
mod basket;
#[cfg(feature = "client")]
mod client;
mod installments;
mod merchant;
mod notification;
mod requests;
mod sign;
mod token;
pub mod types;

pub use answers::{AnswerError, CardListAnswer, ChargeAnswer, DeleteAnswer, StoredCard};
pub use basket::{Basket, BasketItem};
#[cfg(feature = "client")]
pub use client::{ClientConfig, PaytrClient, PaytrError};
pub use installments::{
    BasisPoints, Bin, BinAnswer, BinInfo, FAMILIES, InstallmentRates, RatesAnswer, RequestId,
    bin_detail_form, installment_rates_form, with_interest,
};
pub use merchant::{
    MerchantError, PaymentStatus, RefundAnswer, ReturnEntry, StatusAnswer, refund_form, status_form,
};
pub use notification::{Notification, NotificationStatus};
pub use requests::{
    CardSource, FormFields, NEW_CARD_FIELDS, PaymentRequest, capi_delete_form, capi_list_form,
};
pub use sign::{
    MerchantCredentials, bin_token, capi_delete_token, capi_list_token, notification_hash,
    payment_token, rates_token, refund_token, sign, status_token, verify, verify_token,
};
pub use token::{Token, hex};

/// PayTR's production base URL.
pub const PAYTR_BASE_URL: &str = "https://www.paytr.com";
/// Path of the Direct API payment endpoint (also used for recurring charges).
pub const PAYMENT_PATH: &str = "/odeme";
/// Path of CAPI LIST.
pub const CAPI_LIST_PATH: &str = "/odeme/capi/list";
/// Path of CAPI DELETE.
pub const CAPI_DELETE_PATH: &str = "/odeme/capi/delete";
/// Path of the refund call.
pub const REFUND_PATH: &str = "/odeme/iade";
/// Path of the status inquiry.
pub const STATUS_PATH: &str = "/odeme/durum-sorgu";
/// Path of the BIN lookup.
pub const BIN_DETAIL_PATH: &str = "/odeme/api/bin-detail";
/// Path of the installment rates.
pub const INSTALLMENT_RATES_PATH: &str = "/odeme/taksit-oranlari";
