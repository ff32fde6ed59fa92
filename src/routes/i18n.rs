//! The storefront's words in Turkish (default) and English.

use crate::domain::Lang;

/// The text for `key` in `lang`; an unknown key shows itself, so a gap is visible, not fatal.
pub fn t(lang: Lang, key: &str) -> &str {
    let (tr, en) = match key {
        "shop" => ("Mağaza", "Shop"),
        "cart" => ("Sepet", "Cart"),
        "login" => ("Giriş yap", "Log in"),
        "logout" => ("Çıkış yap", "Log out"),
        "register" => ("Üye ol", "Sign up"),
        "account" => ("Hesabım", "My account"),
        "sandbox_banner" => ("Sandbox — gerçek para çekilmez", "Sandbox — no real money"),
        "footer" => ("Ödemeler PayTR ile alınır", "Payments by PayTR"),
        "add_to_cart" => ("Sepete ekle", "Add to cart"),
        "quantity" => ("Adet", "Quantity"),
        "update" => ("Güncelle", "Update"),
        "remove" => ("Kaldır", "Remove"),
        "total" => ("Toplam", "Total"),
        "checkout" => ("Ödemeye geç", "Checkout"),
        "cart_empty" => ("Sepetiniz boş.", "Your cart is empty."),
        "continue_shopping" => ("Alışverişe devam et", "Continue shopping"),
        "billing" => ("Fatura bilgileri", "Billing details"),
        "full_name" => ("Ad soyad", "Full name"),
        "email" => ("E-posta", "E-mail"),
        "phone" => ("Telefon", "Phone"),
        "address" => ("Adres", "Address"),
        "password" => ("Şifre", "Password"),
        "password_hint" => ("En az 10 karakter", "At least 10 characters"),
        "continue_to_payment" => ("Ödemeye devam et", "Continue to payment"),
        "payment" => ("Ödeme", "Payment"),
        "card_owner" => ("Kart üzerindeki isim", "Name on card"),
        "card_number" => ("Kart numarası", "Card number"),
        "expiry_month" => ("Son kullanma ayı", "Expiry month"),
        "expiry_year" => ("Son kullanma yılı", "Expiry year"),
        "cvv" => ("Güvenlik kodu (CVV)", "Security code (CVV)"),
        "save_card" => ("Kartımı kaydet", "Save my card"),
        "save_card_hint" => (
            "Kartınız PayTR'da saklanır; bilgileri bizde tutulmaz.",
            "Your card is kept by PayTR; we never store its details.",
        ),
        "pay" => ("Öde", "Pay"),
        "pay_note" => (
            "Kart bilgileriniz doğrudan PayTR'a gönderilir.",
            "Your card details go straight to PayTR.",
        ),
        "order" => ("Sipariş", "Order"),
        "orders" => ("Siparişlerim", "My orders"),
        "no_orders" => ("Henüz siparişiniz yok.", "No orders yet."),
        "status_pending" => ("Ödeme bekleniyor", "Awaiting payment"),
        "status_paid" => ("Ödendi", "Paid"),
        "status_failed" => ("Ödeme başarısız", "Payment failed"),
        "confirming" => (
            "Ödemeniz alındı, onaylanıyor…",
            "Payment received, confirming…",
        ),
        "confirming_hint" => (
            "Bu sayfa kendiliğinden yenilenir.",
            "This page refreshes by itself.",
        ),
        "paid_thanks" => (
            "Teşekkürler! Ödemeniz onaylandı.",
            "Thank you! Your payment is confirmed.",
        ),
        "payment_failed" => ("Ödeme tamamlanamadı", "The payment did not go through"),
        "try_again" => ("Tekrar dene", "Try again"),
        "view_order" => ("Siparişi görüntüle", "View order"),
        "have_account" => ("Hesabınız var mı?", "Have an account?"),
        "no_account" => ("Hesabınız yok mu?", "No account yet?"),
        "login_failed" => ("E-posta veya şifre hatalı.", "Wrong e-mail or password."),
        "too_many" => (
            "Çok fazla deneme. Lütfen birkaç dakika sonra tekrar deneyin.",
            "Too many attempts. Please try again in a few minutes.",
        ),
        "form_expired" => (
            "Form süresi doldu. Lütfen tekrar deneyin.",
            "The form expired. Please try again.",
        ),
        "server_error" => (
            "Bir sorun oluştu, lütfen tekrar deneyin.",
            "Something went wrong, please try again.",
        ),
        "not_found" => ("Sayfa bulunamadı", "Page not found"),
        "guest_note" => (
            "Kartınızı kaydetmek için giriş yapın.",
            "Log in to save your card for next time.",
        ),
        "fix_errors" => (
            "Lütfen işaretli alanları düzeltin.",
            "Please correct the marked fields.",
        ),
        "welcome" => ("Hoş geldiniz", "Welcome"),
        "lead" => (
            "Kartla güvenli ödeme, kayıtlı kartlarla tek adımda alışveriş.",
            "Secure card payments, one-step checkout with saved cards.",
        ),
        "new_attempt" => ("Yeni ödeme denemesi başlat", "Start a new payment attempt"),
        "saved_cards" => ("Kayıtlı kartlarım", "My saved cards"),
        "my_cards" => ("Kayıtlı kartlarım", "My saved cards"),
        "pay_with_saved" => ("Seçili kartla öde", "Pay with the selected card"),
        "pay_with_new" => ("Yeni kartla öde", "Pay with a new card"),
        "cards_unavailable" => (
            "Kayıtlı kartlarınıza şu an ulaşılamıyor; yeni bir kartla ödeyebilirsiniz.",
            "Your saved cards are unavailable right now; you can pay with a new card.",
        ),
        "no_cards" => ("Kayıtlı kartınız yok.", "You have no saved cards."),
        "expired" => ("Süresi dolmuş", "Expired"),
        "expires_soon" => ("Süresi yakında doluyor", "Expires soon"),
        "credit" => ("Kredi kartı", "Credit card"),
        "debit" => ("Banka kartı", "Debit card"),
        "business" => ("Şirket kartı", "Business card"),
        "duplicate" => ("Aynı kartın kopyası", "A copy of another card"),
        "remove_copy" => ("Fazla kopyayı sil", "Remove the extra copy"),
        "delete" => ("Sil", "Delete"),
        "delete_card" => ("Kartı sil", "Delete card"),
        "delete_confirm" => (
            "Bu kart PayTR'dan silinecek. Emin misiniz?",
            "This card will be deleted from PayTR. Are you sure?",
        ),
        "cancel" => ("Vazgeç", "Cancel"),
        "card_deleted" => ("Kart silindi.", "The card was deleted."),
        "card_gone" => (
            "Kart bulunamadı veya daha önce silinmiş.",
            "Card not found or already deleted.",
        ),
        "paytr_refused" => ("PayTR kartı silemedi:", "PayTR could not delete the card:"),
        "not_your_card" => (
            "Bu kart kayıtlı kartlarınız arasında değil.",
            "This card is not among your saved cards.",
        ),
        "cvv_required" => (
            "Bu kart için güvenlik kodu (CVV) gerekli.",
            "This card needs its security code (CVV).",
        ),
        "continue_to_paytr" => ("PayTR'a devam et", "Continue to PayTR"),
        "cvv_card" => ("CVV gerekir", "CVV required"),
        "subscriptions" => ("Abonelikler", "Subscriptions"),
        "subscribe" => ("Abone ol", "Subscribe"),
        "subscribe_note" => (
            "İlk dönem şimdi 3-D Secure ile ödenir ve kartınız yenilemeler için kaydedilir.",
            "The first period is paid now with 3-D Secure and your card is saved for renewals.",
        ),
        "subscription_card_note" => (
            "Bu kart sonraki dönemler için kaydedilecek.",
            "This card will be saved for the next periods.",
        ),
        "interval_weekly" => ("hafta", "week"),
        "interval_monthly" => ("ay", "month"),
        "interval_yearly" => ("yıl", "year"),
        "sub_pending_payment" => ("İlk ödeme bekleniyor", "Awaiting the first payment"),
        "sub_needs_card" => ("Kart gerekli", "A card is needed"),
        "sub_active" => ("Etkin", "Active"),
        "sub_past_due" => ("Ödeme gecikti", "Past due"),
        "sub_cancelled" => ("İptal edildi", "Cancelled"),
        "reason_card_declined" => (
            "Kartınız banka tarafından reddedildi; lütfen başka bir kart seçin veya yeni kartla ödeyin.",
            "Your bank declined the card; please pick another card or pay with a new one.",
        ),
        "reason_card_expired" => (
            "Kartınızın süresi dolmuş; lütfen kartınızı güncelleyin.",
            "Your card has expired; please update it.",
        ),
        "reason_retries_exhausted" => (
            "Yenileme ödemesi alınamadı; lütfen yeni kartla ödeyin.",
            "The renewal could not be charged; please pay with a new card.",
        ),
        "reason_card_needs_cvv" => (
            "Bu kart her ödemede CVV istediği için abonelikte kullanılamaz; lütfen başka bir kart seçin.",
            "This card asks for its CVV on every payment, so it cannot pay for a subscription; please pick another card.",
        ),
        "reason_card_not_saved" => (
            "Kart kaydedilemedi; lütfen yeni kartla ödeyin.",
            "The card was not saved; please pay with a new card.",
        ),
        "reason_no_card" => (
            "Kayıtlı kart yok; lütfen yeni kartla ödeyin.",
            "No saved card; please pay with a new card.",
        ),
        "reason_no_billing_details" => ("Fatura bilgileri eksik.", "Billing details are missing."),
        "cancels_at_period_end" => ("dönem sonunda bitecek", "ends at the end of the period"),
        "card" => ("Kart", "Card"),
        "next_charge" => ("Sonraki ödeme", "Next charge"),
        "past_charges" => ("Geçmiş ödemeler", "Past charges"),
        "pay_now_new_card" => ("Şimdi yeni kartla öde", "Pay now with a new card"),
        "change_card" => ("Kartı değiştir", "Change card"),
        "cancel_subscription" => ("Aboneliği iptal et", "Cancel subscription"),
        "card_backs_subscription" => (
            "Bu kart bir aboneliğinizin ödemesini yapıyor. Önce aboneliğin kartını değiştirin veya aboneliği iptal edin.",
            "This card pays for one of your subscriptions. Change that subscription's card or cancel it first.",
        ),
        "check_email" => ("E-postanızı kontrol edin", "Check your e-mail"),
        "check_email_text" => (
            "Bu adrese bir e-posta gönderdik. Üyeliğinizi tamamlamak için içindeki bağlantıyı açın. Gelmediyse istenmeyen klasörüne bakın.",
            "We sent an e-mail to this address. Open the link in it to finish signing up. If it hasn't arrived, look in your spam folder.",
        ),
        "sandbox_mailbox" => (
            "Sandbox: e-posta gönderilmez; iletiler posta kutusunda görünür.",
            "Sandbox: no e-mail is sent; the messages are in the mailbox.",
        ),
        "mailbox" => ("Posta kutusu (sandbox)", "Mailbox (sandbox)"),
        "link_invalid" => (
            "Bu bağlantı geçersiz, kullanılmış veya süresi dolmuş. Yeniden üye olarak yeni bir bağlantı isteyebilirsiniz.",
            "This link is invalid, used or expired. Sign up again to get a new one.",
        ),
        "charge_planned" | "charge_submitted" | "charge_pending" | "charge_unknown" => {
            ("İşleniyor", "Processing")
        }
        "charge_succeeded" => ("Ödendi", "Paid"),
        "charge_failed_soft" => ("Alınamadı, yeniden denenecek", "Failed, will be retried"),
        "charge_failed_hard" => ("Alınamadı", "Failed"),
        "bank_declined_advice" => (
            "Başka bir kartla deneyin veya bankanızla görüşün.",
            "Try another card or contact your bank.",
        ),
        "payment_not_completed" => (
            "Ödeme tamamlanmadı. Kartınızdan para çekilmedi; tekrar deneyebilirsiniz.",
            "The payment was not completed. Your card was not charged; you can try again.",
        ),
        _ => (key, key),
    };
    match lang {
        Lang::Tr => tr,
        Lang::En => en,
    }
}

/// A validation message in the shopper's language.
pub fn field_error(lang: Lang, field: &str) -> &'static str {
    match (lang, field) {
        (Lang::Tr, "email") => "Geçerli bir e-posta adresi girin (ör. ad@ornek.com).",
        (Lang::En, "email") => "Enter a valid e-mail address (e.g. name@example.com).",
        (Lang::Tr, "user_name") => "Ad soyad gerekli (en fazla 60 karakter).",
        (Lang::En, "user_name") => "Your full name is required (60 characters at most).",
        (Lang::Tr, "user_phone") => "Geçerli bir telefon numarası girin (ör. 0555 111 22 33).",
        (Lang::En, "user_phone") => "Enter a valid phone number (e.g. 0555 111 22 33).",
        (Lang::Tr, "user_address") => "Adres gerekli (en fazla 400 karakter).",
        (Lang::En, "user_address") => "Your address is required (400 characters at most).",
        (Lang::Tr, "password") => "Şifre 10 ile 128 karakter arasında olmalı.",
        (Lang::En, "password") => "The password must be 10 to 128 characters long.",
        (Lang::Tr, _) => "Bu alanı kontrol edin.",
        (Lang::En, _) => "Please check this field.",
    }
}

/// Our own words for PayTR's `failed_reason_code` (PayTR's `failed_reason_msg` and the
/// browser's `fail_message` are never shown back: the page says only what we wrote).
pub fn failure_reason(lang: Lang, code: Option<&str>) -> &'static str {
    let (tr, en) = match code.unwrap_or_default() {
        "0" => (
            "Bankanız ödemeyi onaylamadı.",
            "Your bank declined the payment.",
        ),
        "1" | "2" => (
            "3-D Secure doğrulaması tamamlanamadı. Lütfen tekrar deneyin.",
            "3-D Secure verification was not completed. Please try again.",
        ),
        "3" | "11" => (
            "Ödeme güvenlik kontrolünden geçemedi. Başka bir kartla deneyin.",
            "The payment did not pass the security check. Try another card.",
        ),
        "6" => (
            "Ödeme yarıda kaldı veya süresi doldu.",
            "The payment was abandoned or timed out.",
        ),
        "8" => (
            "Bu karta taksit yapılamıyor; tek çekim deneyin.",
            "This card does not allow installments; try a single payment.",
        ),
        "9" => (
            "Bu kartla bu mağazada ödeme yapılamıyor. Başka bir kart deneyin.",
            "This card can't be used at this shop. Try another card.",
        ),
        "10" => (
            "Bu ödeme 3-D Secure ile yapılmalı.",
            "This payment needs 3-D Secure.",
        ),
        _ => (
            "Ödeme tamamlanamadı. Lütfen tekrar deneyin.",
            "The payment could not be completed. Please try again.",
        ),
    };
    match lang {
        Lang::Tr => tr,
        Lang::En => en,
    }
}
