//! What the crate's integration tests share.

use paytr::PaymentRequest;
use paytr::types::{
    AbsoluteUrl, Currency, Email, InstallmentCount, Lang, MerchantOid, Money, PaymentType,
    UserAddress, UserIp, UserName, UserPhone,
};
use paytr::{Basket, BasketItem};

/// A valid payment request for `oid` of `kurus`, with the shopper fields filled in.
pub fn sample_request(oid: &str, kurus: i64) -> PaymentRequest {
    let amount = Money::from_kurus(kurus).expect("amount");
    PaymentRequest {
        merchant_oid: MerchantOid::parse(oid).expect("oid"),
        user_ip: UserIp::parse("85.34.78.112").expect("ip"),
        email: Email::parse("buyer@example.com").expect("email"),
        amount,
        currency: Currency::Tl,
        installment_count: InstallmentCount::SINGLE,
        payment_type: PaymentType::Card,
        test_mode: true,
        non_3d: false,
        lang: Lang::Tr,
        user_name: UserName::parse("Ayse Yilmaz").expect("name"),
        user_address: UserAddress::parse("Istanbul").expect("address"),
        user_phone: UserPhone::parse("05551112233").expect("phone"),
        basket: Basket::new(vec![BasketItem {
            name: "Abonelik".into(),
            unit_price: amount,
            quantity: 1,
        }])
        .expect("basket"),
        ok_url: AbsoluteUrl::parse("merchant_ok_url", "https://shop.example/ok").expect("url"),
        fail_url: AbsoluteUrl::parse("merchant_fail_url", "https://shop.example/fail")
            .expect("url"),
        debug_on: true,
        sync_mode: false,
        non3d_test_failed: false,
    }
}
