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
        "email_taken" => (
            "Bu e-posta ile bir hesap zaten var.",
            "An account with this e-mail already exists.",
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
