//! The storefront's words in Turkish (default) and English: one table per language, looked
//! up by key. A test checks that both tables have the same keys and that every key a template
//! or a state asks for exists.

use crate::domain::Lang;
use std::collections::HashMap;
use std::sync::LazyLock;

/// Turkish.
const TR: &[(&str, &str)] = &[
    ("shop", "Mağaza"),
    ("cart", "Sepet"),
    ("login", "Giriş yap"),
    ("logout", "Çıkış yap"),
    ("register", "Üye ol"),
    ("account", "Hesabım"),
    ("sandbox_banner", "Sandbox — gerçek para çekilmez"),
    ("footer", "Ödemeler PayTR ile alınır"),
    ("add_to_cart", "Sepete ekle"),
    ("quantity", "Adet"),
    ("update", "Güncelle"),
    ("remove", "Kaldır"),
    ("total", "Toplam"),
    ("checkout", "Ödemeye geç"),
    ("cart_empty", "Sepetiniz boş."),
    ("continue_shopping", "Alışverişe devam et"),
    ("billing", "Fatura bilgileri"),
    ("hosted_cancel", "Vazgeç ve mağazaya dön"),
    (
        "hosted_return_heading",
        "Ödemeniz alındı, mağazaya dönülüyor…",
    ),
    ("hosted_return_link", "Mağazaya dön"),
    (
        "session_expired_heading",
        "Bu ödeme bağlantısının süresi doldu",
    ),
    (
        "session_expired_text",
        "Lütfen alışveriş yaptığınız mağazaya dönüp yeniden ödeme başlatın.",
    ),
    ("full_name", "Ad soyad"),
    ("email", "E-posta"),
    ("phone", "Telefon"),
    ("address", "Adres"),
    ("password", "Şifre"),
    ("password_hint", "En az 10 karakter"),
    ("continue_to_payment", "Ödemeye devam et"),
    ("payment", "Ödeme"),
    ("card_owner", "Kart üzerindeki isim"),
    ("card_number", "Kart numarası"),
    ("err_card_owner", "Kart üzerindeki adı yazın."),
    (
        "err_card_number",
        "Kart numarası hatalı görünüyor: rakamları kontrol edin.",
    ),
    ("err_card_month", "Ay 01 ile 12 arasında olmalı."),
    (
        "err_card_year",
        "Yılı 2 ya da 4 haneyle yazın (ör. 30 veya 2030).",
    ),
    (
        "err_card_expired",
        "Bu kartın süresi dolmuş: başka bir kart deneyin.",
    ),
    (
        "err_card_cvv",
        "Güvenlik kodu kartın arkasındaki 3 hane (American Express'te öndeki 4 hane).",
    ),
    ("expiry_month", "Son kullanma ayı"),
    ("expiry_year", "Son kullanma yılı"),
    ("cvv", "Güvenlik kodu (CVV)"),
    ("save_card", "Kartımı kaydet"),
    (
        "save_card_hint",
        "Kartınız PayTR'da saklanır; bilgileri bizde tutulmaz.",
    ),
    ("pay", "Öde"),
    ("amount_due", "Ödenecek tutar:"),
    ("pay_note", "Kart bilgileriniz doğrudan PayTR'a gönderilir."),
    ("order", "Sipariş"),
    ("adm_send_receipt", "Ödeme makbuzunu e-postayla gönder"),
    (
        "adm_receipt_queued",
        "Makbuz müşterinin e-posta adresine gönderilmek üzere sıraya alındı.",
    ),
    (
        "adm_receipt_unpaid",
        "Makbuz yalnızca ödenmiş siparişler için gönderilir.",
    ),
    ("adm_staff", "Personel"),
    ("adm_api", "API ve webhook'lar"),
    ("adm_api_keys", "API anahtarları"),
    ("adm_api_key", "Anahtar"),
    ("adm_api_key_name", "Ad"),
    ("adm_api_origins", "İzinli adresler (origin)"),
    (
        "adm_api_origins_hint",
        "success_url ve cancel_url'in gösterebileceği adresler, boşlukla ayrılmış: https://magaza.example",
    ),
    ("adm_api_new_key", "Yeni anahtar"),
    ("adm_api_create", "Anahtar oluştur"),
    ("adm_api_revoke", "İptal et"),
    ("adm_api_revoked", "İptal edildi"),
    (
        "adm_api_key_once",
        "Anahtar yalnızca şimdi gösteriliyor: mağazanızın sunucusundaki gizli ayarlara kaydedin.",
    ),
    (
        "adm_api_key_invalid",
        "Bir ad ve https://magaza.example biçiminde adresler girin.",
    ),
    ("adm_api_deliveries", "Webhook gönderimleri"),
    ("adm_api_event", "Olay"),
    ("adm_api_object", "Nesne"),
    ("adm_api_attempts", "Deneme"),
    ("adm_api_delivered", "Teslim edildi"),
    ("adm_api_waiting", "Bekliyor"),
    ("adm_api_replay", "Yeniden gönder"),
    ("adm_role", "Rol"),
    ("adm_disabled", "Devre dışı"),
    ("adm_disable", "Devre dışı bırak"),
    ("adm_enable", "Yeniden etkinleştir"),
    ("adm_not_yourself", "Kendi hesabınızı değiştiremezsiniz."),
    (
        "adm_add_staff_hint",
        "Yeni personel komut satırından eklenir: paytr-checkout admin add-user --email E --role owner|support",
    ),
    ("adm_subscriptions", "Abonelikler"),
    ("adm_subscription", "Abonelik"),
    ("adm_customers", "Müşteriler"),
    ("adm_customer", "Müşteri"),
    ("adm_notifications", "Bildirimler"),
    ("adm_filter", "Süz"),
    ("adm_bad_filter", "Bilinmeyen süzgeç."),
    ("adm_f_active", "Etkin"),
    ("adm_f_past_due", "Ödemesi gecikmiş"),
    ("adm_f_cancelled", "İptal edilmiş"),
    ("adm_f_card_expiring", "Kartı 30 gün içinde dolacak"),
    ("adm_f_contact", "Aranacak"),
    ("adm_plan", "Plan"),
    ("adm_card", "Kart"),
    ("adm_next_charge", "Sonraki ödeme"),
    ("adm_ends", "dönem sonunda bitecek"),
    ("adm_periods_paid", "Ödenen dönem"),
    ("adm_contact", "Müşteriyle görüşme"),
    ("adm_contact_flagged", "işaretlendi:"),
    ("adm_contact_flag", "Müşteri aranacak olarak işaretle"),
    ("adm_contact_done", "Görüşüldü, işareti kaldır"),
    ("adm_retry", "Bir sonraki turda yeniden dene"),
    ("adm_cancel_at_end", "Dönem sonunda iptal et"),
    ("adm_cancel_now", "Hemen iptal et"),
    ("adm_attempts", "Ödeme denemeleri"),
    ("adm_period", "Dönem"),
    ("adm_answer", "Yanıt"),
    ("adm_next_retry", "Sonraki deneme"),
    ("adm_since", "Kayıt tarihi"),
    ("adm_saved_cards", "Kayıtlı kartlar"),
    ("adm_show_cards", "Kartları PayTR'dan getir"),
    (
        "adm_cards_unavailable",
        "PayTR kart listesini şu anda veremedi.",
    ),
    ("adm_check_with_paytr", "PayTR'a sor"),
    ("adm_ours", "Bizim kaydımız"),
    ("adm_outcome", "Sonuç"),
    ("adm_hash", "İmza"),
    (
        "adm_bad_oid",
        "merchant_oid yalnızca harf ve rakamdan oluşur.",
    ),
    ("adm_not_ours", "Bu merchant_oid bizde yok."),
    ("adm_paytr_paid", "Ödendi:"),
    (
        "adm_paytr_not_paid",
        "PayTR'da bu numarayla başarılı ödeme yok (004).",
    ),
    ("adm_paytr_refused", "PayTR sorguyu reddetti"),
    ("adm_paytr_unreachable", "PayTR'a ulaşılamadı"),
    ("adm_back_office", "Yönetim paneli"),
    ("adm_dashboard", "Özet"),
    ("adm_orders", "Siparişler"),
    ("adm_order", "Sipariş"),
    ("adm_audit", "İşlem kaydı"),
    ("adm_login", "Personel girişi"),
    ("adm_totp_code", "Doğrulama kodu"),
    ("adm_totp_hint", "Doğrulayıcı uygulamanızdaki 6 haneli kod."),
    (
        "adm_login_refused",
        "E-posta, parola veya doğrulama kodu hatalı.",
    ),
    (
        "adm_login_wait",
        "Çok fazla deneme yapıldı. Biraz sonra yeniden deneyin.",
    ),
    ("adm_forbidden", "Yetkiniz yok"),
    ("adm_forbidden_text", "Bu işlem için yetkiniz yok."),
    ("adm_not_found", "Bulunamadı"),
    ("adm_not_found_text", "Aradığınız kayıt bulunamadı."),
    ("adm_unavailable", "Şu anda kullanılamıyor"),
    (
        "adm_unavailable_text",
        "Lütfen biraz sonra yeniden deneyin.",
    ),
    ("adm_today", "Bugün"),
    ("adm_this_month", "Bu ay"),
    ("adm_orders_n", "sipariş"),
    ("adm_success_rate", "Ödeme başarı oranı"),
    ("adm_last_30_days", "son 30 gün"),
    ("adm_renewals_7d", "7 gün içinde yenilenecek abonelik"),
    ("adm_past_due", "Ödemesi gecikmiş abonelik"),
    ("adm_unknown", "PayTR'a sorulacak işlem"),
    ("adm_refused_24h", "Reddedilen bildirim (24 saat)"),
    ("adm_top_failures", "En sık başarısızlık nedenleri"),
    ("adm_none", "Yok."),
    ("adm_code", "Kod"),
    ("adm_reason", "Neden"),
    ("adm_count", "Adet"),
    ("adm_when", "Zaman"),
    ("adm_who", "Kim"),
    ("adm_action", "İşlem"),
    ("adm_target", "Kayıt"),
    ("adm_detail", "Ayrıntı"),
    ("adm_older", "Daha eski →"),
    ("adm_newest", "← En yeni"),
    ("adm_search", "Ara"),
    ("adm_search_hint", "Sipariş no, merchant_oid veya e-posta"),
    ("adm_status", "Durum"),
    ("adm_all", "Tümü"),
    ("adm_from", "Başlangıç"),
    ("adm_to", "Bitiş"),
    ("adm_min", "En az tutar"),
    ("adm_max", "En çok tutar"),
    ("adm_bad_date", "Tarih YYYY-AA-GG biçiminde olmalı."),
    ("adm_bad_amount", "Tutar 11.97 gibi bir sayı olmalı."),
    ("adm_bad_status", "Bilinmeyen durum."),
    ("adm_export_csv", "CSV olarak indir"),
    ("adm_no_orders", "Bu ölçütlere uyan sipariş yok."),
    ("adm_refund", "İade et"),
    ("adm_refundable", "İade edilebilir"),
    ("adm_amount", "Tutar"),
    ("adm_owner_only", "İadeyi yalnızca mağaza sahibi yapabilir."),
    ("adm_timeline", "Geçmiş"),
    ("adm_ev_created", "Sipariş oluşturuldu"),
    ("adm_ev_attempt", "Ödeme denemesi"),
    ("adm_ev_notification", "PayTR bildirimi"),
    ("adm_ev_inquiry", "PayTR durum sorgusu"),
    ("adm_ev_refund", "İade"),
    ("adm_ev_staff", "Personel:"),
    ("adm_hash_ok", "imza geçerli"),
    ("adm_hash_bad", "imza geçersiz"),
    (
        "adm_totp_refused",
        "Doğrulama kodu hatalı veya daha önce kullanıldı.",
    ),
    (
        "adm_refund_nothing",
        "Bu siparişte iade edilecek ödeme yok.",
    ),
    (
        "adm_refund_too_much",
        "Tutar, iade edilebilecek tutardan fazla.",
    ),
    ("adm_refund_done", "PayTR iadeyi onayladı."),
    (
        "adm_refund_unknown",
        "PayTR'ın yanıtı alınamadı; durum sorgusuyla kesinleşecek, yeniden gönderilmeyecek.",
    ),
    (
        "adm_refund_err_000",
        "PayTR şu anda iade yapamıyor; biraz sonra yeniden deneyin.",
    ),
    (
        "adm_refund_err_005",
        "PayTR'da bu sipariş için başarılı ödeme yok.",
    ),
    ("adm_refund_err_007", "Ödeme bildirimi henüz tamamlanmadı."),
    ("adm_refund_err_008", "Bu ödeme yöntemi iade edilemez."),
    ("adm_refund_err_009", "Tutar, ödemeden kalan tutarı aşıyor."),
    ("adm_refund_err_010", "PayTR bakiyeniz iade için yetersiz."),
    (
        "adm_refund_err_011",
        "Bir yıldan eski ödemeler iade edilemez.",
    ),
    ("adm_refund_err_other", "PayTR iadeyi yapmadı."),
    ("refund_requested", "İade istendi"),
    ("refund_submitted", "İade gönderildi"),
    ("refund_failed", "İade yapılamadı"),
    ("refund_unknown", "İade sonucu bilinmiyor"),
    (
        "confirming_slow",
        "Onay beklenenden uzun sürüyor. Ödemeniz alındıysa sipariş sayfanızda görünecek; bu sayfayı kapatabilir, daha sonra yeniden bakabilirsiniz.",
    ),
    ("check_again", "Yeniden bak"),
    (
        "recurring_terms",
        "{plan}: {amount} / {per}. Bu ödemeden sonra kartınızdan her {per} {amount}, iptal edene kadar otomatik olarak çekilir; bir sonraki ödeme {next}.",
    ),
    (
        "consent_recurring",
        "Kartımdan her dönem otomatik ödeme alınmasını, iptal edene kadar, kabul ediyorum.",
    ),
    (
        "consent_required",
        "Devam etmek için otomatik ödemeyi onaylayın.",
    ),
    ("refunds", "İadeler"),
    ("refund_succeeded", "İade edildi"),
    ("refund_in_progress", "İade işleniyor"),
    ("refunded_in_full", "Bu siparişin tamamı iade edildi."),
    (
        "refund_card_hint",
        "İade, ödemede kullandığınız karta yapılır; bankanıza göre hesabınıza yansıması birkaç gün sürebilir.",
    ),
    ("orders", "Siparişlerim"),
    ("no_orders", "Henüz siparişiniz yok."),
    ("status_pending", "Ödeme bekleniyor"),
    ("status_paid", "Ödendi"),
    ("status_failed", "Ödeme başarısız"),
    ("confirming", "Ödemeniz alındı, onaylanıyor…"),
    ("confirming_hint", "Bu sayfa kendiliğinden yenilenir."),
    ("paid_thanks", "Teşekkürler! Ödemeniz onaylandı."),
    ("payment_failed", "Ödeme tamamlanamadı"),
    ("try_again", "Tekrar dene"),
    ("view_order", "Siparişi görüntüle"),
    ("have_account", "Hesabınız var mı?"),
    ("no_account", "Hesabınız yok mu?"),
    ("login_failed", "E-posta veya şifre hatalı."),
    (
        "too_many",
        "Çok fazla deneme. Lütfen birkaç dakika sonra tekrar deneyin.",
    ),
    ("form_expired", "Form süresi doldu. Lütfen tekrar deneyin."),
    ("server_error", "Bir sorun oluştu, lütfen tekrar deneyin."),
    ("not_found", "Sayfa bulunamadı"),
    ("guest_note", "Kartınızı kaydetmek için giriş yapın."),
    ("fix_errors", "Lütfen işaretli alanları düzeltin."),
    ("welcome", "Hoş geldiniz"),
    (
        "lead",
        "Kartla güvenli ödeme, kayıtlı kartlarla tek adımda alışveriş.",
    ),
    ("new_attempt", "Yeni ödeme denemesi başlat"),
    ("saved_cards", "Kayıtlı kartlarım"),
    ("my_cards", "Kayıtlı kartlarım"),
    ("pay_with_saved", "Seçili kartla öde"),
    ("pay_with_new", "Yeni kartla öde"),
    (
        "cards_unavailable",
        "Kayıtlı kartlarınıza şu an ulaşılamıyor; yeni bir kartla ödeyebilirsiniz.",
    ),
    ("no_cards", "Kayıtlı kartınız yok."),
    ("expired", "Süresi dolmuş"),
    ("expires_soon", "Süresi yakında doluyor"),
    ("credit", "Kredi kartı"),
    ("debit", "Banka kartı"),
    ("business", "Şirket kartı"),
    ("duplicate", "Aynı kartın kopyası"),
    ("remove_copy", "Fazla kopyayı sil"),
    ("delete", "Sil"),
    ("delete_card", "Kartı sil"),
    (
        "delete_confirm",
        "Bu kart PayTR'dan silinecek. Emin misiniz?",
    ),
    ("cancel", "Vazgeç"),
    ("card_deleted", "Kart silindi."),
    ("card_gone", "Kart bulunamadı veya daha önce silinmiş."),
    ("paytr_refused", "PayTR kartı silemedi:"),
    (
        "not_your_card",
        "Bu kart kayıtlı kartlarınız arasında değil.",
    ),
    ("cvv_required", "Bu kart için güvenlik kodu (CVV) gerekli."),
    ("continue_to_paytr", "PayTR'a devam et"),
    ("cvv_card", "CVV gerekir"),
    ("subscriptions", "Abonelikler"),
    ("subscribe", "Abone ol"),
    (
        "subscribe_note",
        "İlk dönem şimdi 3-D Secure ile ödenir ve kartınız yenilemeler için kaydedilir.",
    ),
    (
        "subscription_card_note",
        "Bu kart sonraki dönemler için kaydedilecek.",
    ),
    ("interval_weekly", "hafta"),
    ("interval_monthly", "ay"),
    ("interval_yearly", "yıl"),
    ("sub_pending_payment", "İlk ödeme bekleniyor"),
    ("sub_needs_card", "Kart gerekli"),
    ("sub_active", "Etkin"),
    ("sub_past_due", "Ödeme gecikti"),
    ("sub_cancelled", "İptal edildi"),
    (
        "reason_card_declined",
        "Kartınız banka tarafından reddedildi; lütfen başka bir kart seçin veya yeni kartla ödeyin.",
    ),
    (
        "reason_card_expired",
        "Kartınızın süresi dolmuş; lütfen kartınızı güncelleyin.",
    ),
    (
        "reason_retries_exhausted",
        "Yenileme ödemesi alınamadı; lütfen yeni kartla ödeyin.",
    ),
    (
        "reason_card_needs_cvv",
        "Bu kart her ödemede CVV istediği için abonelikte kullanılamaz; lütfen başka bir kart seçin.",
    ),
    (
        "reason_card_not_saved",
        "Kart kaydedilemedi; lütfen yeni kartla ödeyin.",
    ),
    (
        "reason_choose_card",
        "Yenilemelerin hangi kartla ödeneceğini seçin.",
    ),
    (
        "reason_no_card",
        "Kayıtlı kart yok; lütfen yeni kartla ödeyin.",
    ),
    ("reason_no_billing_details", "Fatura bilgileri eksik."),
    ("card", "Kart"),
    ("next_charge", "Sonraki ödeme"),
    ("past_charges", "Geçmiş ödemeler"),
    (
        "terms_title",
        "Ön Bilgilendirme Formu ve Mesafeli Satış Sözleşmesi",
    ),
    (
        "terms_accept",
        "Ön Bilgilendirme Formu'nu ve Mesafeli Satış Sözleşmesi'ni okudum, kabul ediyorum.",
    ),
    (
        "terms_required",
        "Devam etmek için Ön Bilgilendirme Formu'nu ve Mesafeli Satış Sözleşmesi'ni kabul etmeniz gerekiyor.",
    ),
    ("seller_info", "Satıcı bilgileri"),
    ("privacy_notice", "KVKK aydınlatma metni"),
    ("distance_sales", "Mesafeli satış sözleşmesi"),
    ("pre_information", "Ön bilgilendirme formu"),
    ("seller_name", "Unvan"),
    ("single_payment_option", "Tek çekim · {total}"),
    (
        "installment_option",
        "{count} taksit × {monthly} · toplam {total}",
    ),
    ("installments_title", "Taksit seçenekleri"),
    ("installments_word", "taksit"),
    (
        "installment_unavailable",
        "Bu kartla bu taksit seçeneği kullanılamıyor. Lütfen sayfaya dönüp başka bir seçenek seçin.",
    ),
    ("adm_collected", "tahsil edilen"),
    ("total_with_interest", "vade farkıyla toplam"),
    ("mersis", "MERSİS numarası"),
    (
        "secure_line",
        "3-D Secure ile korunan ödeme · PayTR altyapısı",
    ),
    ("placeholder_month", "AA"),
    ("placeholder_year", "YY"),
    ("pay_amount_with", "{amount} öde · •••• {last4}"),
    (
        "cancel_explain",
        "İptal ederseniz kartınızdan bir daha ödeme alınmaz; aboneliğiniz ödenmiş dönemin sonuna kadar sürer:",
    ),
    (
        "cancel_undo_hint",
        "Bu tarihe kadar fikrinizi değiştirip aboneliğe devam edebilirsiniz.",
    ),
    ("cancel_confirm", "Evet, iptal et"),
    ("keep_subscription", "Aboneliğe devam et"),
    ("ends_on", "bitiş tarihi:"),
    (
        "cancelled_notice",
        "Aboneliğiniz iptal edildi; dönem sonuna kadar sürecek. Fikrinizi değiştirirseniz “Aboneliğe devam et”e basın.",
    ),
    ("forgot_password", "Şifremi unuttum"),
    (
        "forgot_hint",
        "Hesabınızın e-posta adresini yazın; şifrenizi yenilemeniz için bir bağlantı gönderelim.",
    ),
    (
        "reset_sent",
        "Bu adrese ait bir hesap varsa, şifre yenileme bağlantısı birkaç dakika içinde e-postanızda olacak. Bağlantı bir saat geçerlidir.",
    ),
    ("send_reset_link", "Bağlantı gönder"),
    ("new_password", "Yeni şifre"),
    ("save_password", "Şifreyi kaydet"),
    (
        "password_reset_done",
        "Şifreniz değişti. Yeni şifrenizle giriş yapın; diğer cihazlardaki oturumlarınız kapatıldı.",
    ),
    (
        "email_invalid",
        "Geçerli bir e-posta adresi girin (ör. ad@ornek.com).",
    ),
    (
        "mailbox_note",
        "Sandbox modunda e-postalar gönderilmez: burada, gönderilecekleri haliyle görünür.",
    ),
    ("mail_sent", "gönderildi"),
    ("view_receipt", "Makbuzu görüntüle"),
    ("receipt", "Makbuz"),
    ("print", "Yazdır"),
    ("order_number", "Sipariş numarası"),
    ("paid_on", "Ödeme tarihi"),
    ("paid_with", "Ödeme"),
    ("card_payment", "Kartla ödendi"),
    ("single_payment", "tek çekim"),
    ("billing_details", "Fatura ve teslimat bilgileri"),
    ("unit_price", "Birim fiyat"),
    ("amount", "Tutar"),
    ("product", "Ürün"),
    ("seller", "Satıcı"),
    ("terms_accepted_on", "Kabul edilen sözleşme"),
    (
        "paytr_secured",
        "Ödeme PayTR altyapısıyla alındı; kart bilgileriniz bize ulaşmadı.",
    ),
    ("tax_id", "Vergi dairesi / numarası"),
    ("first_payment", "ilk ödeme"),
    ("pay_now_new_card", "Şimdi yeni kartla öde"),
    ("change_card", "Kartı değiştir"),
    ("cancel_subscription", "Aboneliği iptal et"),
    (
        "card_backs_subscription",
        "Bu kart bir aboneliğinizin ödemesini yapıyor. Önce aboneliğin kartını değiştirin veya aboneliği iptal edin.",
    ),
    ("check_email", "E-postanızı kontrol edin"),
    (
        "check_email_text",
        "Bu adrese bir e-posta gönderdik. Üyeliğinizi tamamlamak için içindeki bağlantıyı açın. Gelmediyse istenmeyen klasörüne bakın.",
    ),
    (
        "sandbox_mailbox",
        "Sandbox: e-posta gönderilmez; iletiler posta kutusunda görünür.",
    ),
    ("mailbox", "Posta kutusu (sandbox)"),
    (
        "link_invalid",
        "Bu bağlantı geçersiz, kullanılmış veya süresi dolmuş. Yeniden üye olarak yeni bir bağlantı isteyebilirsiniz.",
    ),
    ("charge_planned", "İşleniyor"),
    ("charge_submitted", "İşleniyor"),
    ("charge_pending", "İşleniyor"),
    ("charge_unknown", "İşleniyor"),
    ("charge_succeeded", "Ödendi"),
    ("charge_failed_soft", "Alınamadı, yeniden denenecek"),
    ("charge_failed_hard", "Alınamadı"),
    (
        "payment_not_completed",
        "Ödeme tamamlanmadı. Kartınızdan para çekilmedi; tekrar deneyebilirsiniz.",
    ),
];

/// English.
const EN: &[(&str, &str)] = &[
    ("shop", "Shop"),
    ("cart", "Cart"),
    ("login", "Log in"),
    ("logout", "Log out"),
    ("register", "Sign up"),
    ("account", "My account"),
    ("sandbox_banner", "Sandbox — no real money"),
    ("footer", "Payments by PayTR"),
    ("add_to_cart", "Add to cart"),
    ("quantity", "Quantity"),
    ("update", "Update"),
    ("remove", "Remove"),
    ("total", "Total"),
    ("checkout", "Checkout"),
    ("cart_empty", "Your cart is empty."),
    ("continue_shopping", "Continue shopping"),
    ("billing", "Billing details"),
    ("hosted_cancel", "Cancel and return to the shop"),
    (
        "hosted_return_heading",
        "Payment received, taking you back to the shop…",
    ),
    ("hosted_return_link", "Back to the shop"),
    ("session_expired_heading", "This payment link has expired"),
    (
        "session_expired_text",
        "Please go back to the shop you were buying from and start the payment again.",
    ),
    ("full_name", "Full name"),
    ("email", "E-mail"),
    ("phone", "Phone"),
    ("address", "Address"),
    ("password", "Password"),
    ("password_hint", "At least 10 characters"),
    ("continue_to_payment", "Continue to payment"),
    ("payment", "Payment"),
    ("card_owner", "Name on card"),
    ("card_number", "Card number"),
    ("err_card_owner", "Type the name on the card."),
    (
        "err_card_number",
        "The card number looks wrong: check the digits.",
    ),
    ("err_card_month", "The month is 01 to 12."),
    (
        "err_card_year",
        "Type the year with 2 or 4 digits (e.g. 30 or 2030).",
    ),
    (
        "err_card_expired",
        "This card has expired: try another card.",
    ),
    (
        "err_card_cvv",
        "The security code is the 3 digits on the back (4 on the front for American Express).",
    ),
    ("expiry_month", "Expiry month"),
    ("expiry_year", "Expiry year"),
    ("cvv", "Security code (CVV)"),
    ("save_card", "Save my card"),
    (
        "save_card_hint",
        "Your card is kept by PayTR; we never store its details.",
    ),
    ("pay", "Pay"),
    ("amount_due", "Amount due:"),
    ("pay_note", "Your card details go straight to PayTR."),
    ("order", "Order"),
    ("adm_send_receipt", "E-mail the payment receipt"),
    (
        "adm_receipt_queued",
        "The receipt is queued for the customer's e-mail address.",
    ),
    (
        "adm_receipt_unpaid",
        "Receipts are only sent for paid orders.",
    ),
    ("adm_staff", "Staff"),
    ("adm_api", "API and webhooks"),
    ("adm_api_keys", "API keys"),
    ("adm_api_key", "Key"),
    ("adm_api_key_name", "Name"),
    ("adm_api_origins", "Allowed origins"),
    (
        "adm_api_origins_hint",
        "Where success_url and cancel_url may point, separated by spaces: https://shop.example",
    ),
    ("adm_api_new_key", "New key"),
    ("adm_api_create", "Create key"),
    ("adm_api_revoke", "Revoke"),
    ("adm_api_revoked", "Revoked"),
    (
        "adm_api_key_once",
        "The key is shown only now: put it in your shop server's secrets.",
    ),
    (
        "adm_api_key_invalid",
        "Give a name and origins such as https://shop.example.",
    ),
    ("adm_api_deliveries", "Webhook deliveries"),
    ("adm_api_event", "Event"),
    ("adm_api_object", "Object"),
    ("adm_api_attempts", "Attempts"),
    ("adm_api_delivered", "Delivered"),
    ("adm_api_waiting", "Waiting"),
    ("adm_api_replay", "Send again"),
    ("adm_role", "Role"),
    ("adm_disabled", "Disabled"),
    ("adm_disable", "Disable"),
    ("adm_enable", "Enable again"),
    ("adm_not_yourself", "You cannot change your own account."),
    (
        "adm_add_staff_hint",
        "New staff are added from the command line: paytr-checkout admin add-user --email E --role owner|support",
    ),
    ("adm_subscriptions", "Subscriptions"),
    ("adm_subscription", "Subscription"),
    ("adm_customers", "Customers"),
    ("adm_customer", "Customer"),
    ("adm_notifications", "Notifications"),
    ("adm_filter", "Filter"),
    ("adm_bad_filter", "Unknown filter."),
    ("adm_f_active", "Active"),
    ("adm_f_past_due", "Past due"),
    ("adm_f_cancelled", "Cancelled"),
    ("adm_f_card_expiring", "Card expiring within 30 days"),
    ("adm_f_contact", "To contact"),
    ("adm_plan", "Plan"),
    ("adm_card", "Card"),
    ("adm_next_charge", "Next charge"),
    ("adm_ends", "ends at period end"),
    ("adm_periods_paid", "Periods paid"),
    ("adm_contact", "Contact customer"),
    ("adm_contact_flagged", "flagged"),
    ("adm_contact_flag", "Flag: contact customer"),
    ("adm_contact_done", "Contacted, clear the flag"),
    ("adm_retry", "Retry at the next billing pass"),
    ("adm_cancel_at_end", "Cancel at period end"),
    ("adm_cancel_now", "Cancel now"),
    ("adm_attempts", "Charge attempts"),
    ("adm_period", "Period"),
    ("adm_answer", "Answer"),
    ("adm_next_retry", "Next retry"),
    ("adm_since", "Customer since"),
    ("adm_saved_cards", "Saved cards"),
    ("adm_show_cards", "Fetch the cards from PayTR"),
    (
        "adm_cards_unavailable",
        "PayTR could not list the cards right now.",
    ),
    ("adm_check_with_paytr", "Check with PayTR"),
    ("adm_ours", "Our record"),
    ("adm_outcome", "Outcome"),
    ("adm_hash", "Hash"),
    ("adm_bad_oid", "A merchant_oid is letters and digits only."),
    ("adm_not_ours", "We have no such merchant_oid."),
    ("adm_paytr_paid", "Paid:"),
    (
        "adm_paytr_not_paid",
        "PayTR has no successful payment under this id (004).",
    ),
    ("adm_paytr_refused", "PayTR refused the inquiry"),
    ("adm_paytr_unreachable", "PayTR could not be reached"),
    ("adm_back_office", "Back office"),
    ("adm_dashboard", "Dashboard"),
    ("adm_orders", "Orders"),
    ("adm_order", "Order"),
    ("adm_audit", "Audit log"),
    ("adm_login", "Staff log-in"),
    ("adm_totp_code", "Verification code"),
    (
        "adm_totp_hint",
        "The 6-digit code from your authenticator app.",
    ),
    (
        "adm_login_refused",
        "The e-mail, password or verification code is wrong.",
    ),
    (
        "adm_login_wait",
        "Too many tries. Please try again a little later.",
    ),
    ("adm_forbidden", "Not allowed"),
    ("adm_forbidden_text", "You are not allowed to do this."),
    ("adm_not_found", "Not found"),
    ("adm_not_found_text", "There is no such record."),
    ("adm_unavailable", "Not available right now"),
    ("adm_unavailable_text", "Please try again a little later."),
    ("adm_today", "Today"),
    ("adm_this_month", "This month"),
    ("adm_orders_n", "orders"),
    ("adm_success_rate", "Payment success rate"),
    ("adm_last_30_days", "last 30 days"),
    ("adm_renewals_7d", "Renewals in the next 7 days"),
    ("adm_past_due", "Past-due subscriptions"),
    ("adm_unknown", "Waiting for PayTR's status inquiry"),
    ("adm_refused_24h", "Refused notifications (24 h)"),
    ("adm_top_failures", "Top failure reasons"),
    ("adm_none", "None."),
    ("adm_code", "Code"),
    ("adm_reason", "Reason"),
    ("adm_count", "Count"),
    ("adm_when", "When"),
    ("adm_who", "Who"),
    ("adm_action", "Action"),
    ("adm_target", "Record"),
    ("adm_detail", "Detail"),
    ("adm_older", "Older →"),
    ("adm_newest", "← Newest"),
    ("adm_search", "Search"),
    ("adm_search_hint", "Order id, merchant_oid or e-mail"),
    ("adm_status", "Status"),
    ("adm_all", "All"),
    ("adm_from", "From"),
    ("adm_to", "To"),
    ("adm_min", "Minimum amount"),
    ("adm_max", "Maximum amount"),
    ("adm_bad_date", "A date is YYYY-MM-DD."),
    ("adm_bad_amount", "An amount is a number like 11.97."),
    ("adm_bad_status", "Unknown status."),
    ("adm_export_csv", "Download as CSV"),
    ("adm_no_orders", "No order matches."),
    ("adm_refund", "Refund"),
    ("adm_refundable", "Can be refunded"),
    ("adm_amount", "Amount"),
    ("adm_owner_only", "Only the shop's owner can refund."),
    ("adm_timeline", "History"),
    ("adm_ev_created", "Order created"),
    ("adm_ev_attempt", "Payment attempt"),
    ("adm_ev_notification", "PayTR notification"),
    ("adm_ev_inquiry", "PayTR status inquiry"),
    ("adm_ev_refund", "Refund"),
    ("adm_ev_staff", "Staff:"),
    ("adm_hash_ok", "hash valid"),
    ("adm_hash_bad", "hash invalid"),
    (
        "adm_totp_refused",
        "The verification code is wrong or was used already.",
    ),
    ("adm_refund_nothing", "This order has no payment to refund."),
    (
        "adm_refund_too_much",
        "The amount is more than can be refunded.",
    ),
    ("adm_refund_done", "PayTR confirmed the refund."),
    (
        "adm_refund_unknown",
        "PayTR's answer was lost; a status inquiry will settle it, it is never sent again.",
    ),
    (
        "adm_refund_err_000",
        "PayTR cannot refund right now; try again a little later.",
    ),
    (
        "adm_refund_err_005",
        "PayTR has no successful payment for this order.",
    ),
    (
        "adm_refund_err_007",
        "The payment's notification has not completed yet.",
    ),
    (
        "adm_refund_err_008",
        "This payment method cannot be refunded.",
    ),
    (
        "adm_refund_err_009",
        "The amount is more than what is left of the payment.",
    ),
    (
        "adm_refund_err_010",
        "Your PayTR balance is too low for this refund.",
    ),
    (
        "adm_refund_err_011",
        "Payments older than a year cannot be refunded.",
    ),
    ("adm_refund_err_other", "PayTR did not refund."),
    ("refund_requested", "Refund requested"),
    ("refund_submitted", "Refund sent"),
    ("refund_failed", "Refund not made"),
    ("refund_unknown", "Refund outcome unknown"),
    (
        "confirming_slow",
        "Confirmation is taking longer than usual. If your payment went through it will show on your order page; you can close this page and look again later.",
    ),
    ("check_again", "Check again"),
    (
        "recurring_terms",
        "{plan}: {amount} / {per}. After this payment your card is charged {amount} every {per} automatically until you cancel; the next charge is on {next}.",
    ),
    (
        "consent_recurring",
        "I agree that my card is charged automatically every period until I cancel.",
    ),
    (
        "consent_required",
        "Tick the box to agree to the automatic charges.",
    ),
    ("refunds", "Refunds"),
    ("refund_succeeded", "Refunded"),
    ("refund_in_progress", "Refund in progress"),
    ("refunded_in_full", "This order has been refunded in full."),
    (
        "refund_card_hint",
        "Refunds go back to the card you paid with; your bank may take a few days to show them.",
    ),
    ("orders", "My orders"),
    ("no_orders", "No orders yet."),
    ("status_pending", "Awaiting payment"),
    ("status_paid", "Paid"),
    ("status_failed", "Payment failed"),
    ("confirming", "Payment received, confirming…"),
    ("confirming_hint", "This page refreshes by itself."),
    ("paid_thanks", "Thank you! Your payment is confirmed."),
    ("payment_failed", "The payment did not go through"),
    ("try_again", "Try again"),
    ("view_order", "View order"),
    ("have_account", "Have an account?"),
    ("no_account", "No account yet?"),
    ("login_failed", "Wrong e-mail or password."),
    (
        "too_many",
        "Too many attempts. Please try again in a few minutes.",
    ),
    ("form_expired", "The form expired. Please try again."),
    ("server_error", "Something went wrong, please try again."),
    ("not_found", "Page not found"),
    ("guest_note", "Log in to save your card for next time."),
    ("fix_errors", "Please correct the marked fields."),
    ("welcome", "Welcome"),
    (
        "lead",
        "Secure card payments, one-step checkout with saved cards.",
    ),
    ("new_attempt", "Start a new payment attempt"),
    ("saved_cards", "My saved cards"),
    ("my_cards", "My saved cards"),
    ("pay_with_saved", "Pay with the selected card"),
    ("pay_with_new", "Pay with a new card"),
    (
        "cards_unavailable",
        "Your saved cards are unavailable right now; you can pay with a new card.",
    ),
    ("no_cards", "You have no saved cards."),
    ("expired", "Expired"),
    ("expires_soon", "Expires soon"),
    ("credit", "Credit card"),
    ("debit", "Debit card"),
    ("business", "Business card"),
    ("duplicate", "A copy of another card"),
    ("remove_copy", "Remove the extra copy"),
    ("delete", "Delete"),
    ("delete_card", "Delete card"),
    (
        "delete_confirm",
        "This card will be deleted from PayTR. Are you sure?",
    ),
    ("cancel", "Cancel"),
    ("card_deleted", "The card was deleted."),
    ("card_gone", "Card not found or already deleted."),
    ("paytr_refused", "PayTR could not delete the card:"),
    ("not_your_card", "This card is not among your saved cards."),
    ("cvv_required", "This card needs its security code (CVV)."),
    ("continue_to_paytr", "Continue to PayTR"),
    ("cvv_card", "CVV required"),
    ("subscriptions", "Subscriptions"),
    ("subscribe", "Subscribe"),
    (
        "subscribe_note",
        "The first period is paid now with 3-D Secure and your card is saved for renewals.",
    ),
    (
        "subscription_card_note",
        "This card will be saved for the next periods.",
    ),
    ("interval_weekly", "week"),
    ("interval_monthly", "month"),
    ("interval_yearly", "year"),
    ("sub_pending_payment", "Awaiting the first payment"),
    ("sub_needs_card", "A card is needed"),
    ("sub_active", "Active"),
    ("sub_past_due", "Past due"),
    ("sub_cancelled", "Cancelled"),
    (
        "reason_card_declined",
        "Your bank declined the card; please pick another card or pay with a new one.",
    ),
    (
        "reason_card_expired",
        "Your card has expired; please update it.",
    ),
    (
        "reason_retries_exhausted",
        "The renewal could not be charged; please pay with a new card.",
    ),
    (
        "reason_card_needs_cvv",
        "This card asks for its CVV on every payment, so it cannot pay for a subscription; please pick another card.",
    ),
    (
        "reason_card_not_saved",
        "The card was not saved; please pay with a new card.",
    ),
    (
        "reason_choose_card",
        "Choose the card that pays for the renewals.",
    ),
    (
        "reason_no_card",
        "No saved card; please pay with a new card.",
    ),
    ("reason_no_billing_details", "Billing details are missing."),
    ("card", "Card"),
    ("next_charge", "Next charge"),
    ("past_charges", "Past charges"),
    (
        "terms_title",
        "Pre-information form and distance sales contract",
    ),
    (
        "terms_accept",
        "I have read and accept the pre-information form and the distance sales contract.",
    ),
    (
        "terms_required",
        "To continue, please accept the pre-information form and the distance sales contract.",
    ),
    ("seller_info", "Seller details"),
    ("privacy_notice", "Privacy notice (KVKK)"),
    ("distance_sales", "Distance sales contract"),
    ("pre_information", "Pre-information form"),
    ("seller_name", "Company name"),
    ("single_payment_option", "Single payment · {total}"),
    (
        "installment_option",
        "{count} installments × {monthly} · total {total}",
    ),
    ("installments_title", "Installment options"),
    ("installments_word", "installments"),
    (
        "installment_unavailable",
        "This installment option is not available for this card. Please go back and choose another.",
    ),
    ("adm_collected", "collected"),
    ("total_with_interest", "total with interest"),
    ("mersis", "MERSIS number"),
    ("secure_line", "Protected by 3-D Secure · powered by PayTR"),
    ("placeholder_month", "MM"),
    ("placeholder_year", "YY"),
    ("pay_amount_with", "Pay {amount} with •••• {last4}"),
    (
        "cancel_explain",
        "If you cancel, your card will not be charged again; the subscription runs until the end of the paid period:",
    ),
    (
        "cancel_undo_hint",
        "Until then you can change your mind and keep the subscription.",
    ),
    ("cancel_confirm", "Yes, cancel"),
    ("keep_subscription", "Keep the subscription"),
    ("ends_on", "ends on"),
    (
        "cancelled_notice",
        "Your subscription is cancelled and runs until the end of the period. Changed your mind? Press “Keep the subscription”.",
    ),
    ("forgot_password", "Forgot your password?"),
    (
        "forgot_hint",
        "Type your account's e-mail address and we'll send a link to choose a new password.",
    ),
    (
        "reset_sent",
        "If an account exists for this address, a link to reset the password will be in your inbox in a few minutes. It works for one hour.",
    ),
    ("send_reset_link", "Send the link"),
    ("new_password", "New password"),
    ("save_password", "Save the password"),
    (
        "password_reset_done",
        "Your password was changed. Log in with the new one; your sessions on other devices were ended.",
    ),
    (
        "email_invalid",
        "Enter a valid e-mail address (e.g. name@example.com).",
    ),
    (
        "mailbox_note",
        "In sandbox mode no e-mail is sent: they are shown here as they would be sent.",
    ),
    ("mail_sent", "sent"),
    ("view_receipt", "View receipt"),
    ("receipt", "Receipt"),
    ("print", "Print"),
    ("order_number", "Order number"),
    ("paid_on", "Paid on"),
    ("paid_with", "Payment"),
    ("card_payment", "Paid by card"),
    ("single_payment", "single payment"),
    ("billing_details", "Billing and delivery details"),
    ("unit_price", "Unit price"),
    ("amount", "Amount"),
    ("product", "Item"),
    ("seller", "Seller"),
    ("terms_accepted_on", "Contract accepted"),
    (
        "paytr_secured",
        "Paid through PayTR; your card details never reached us.",
    ),
    ("tax_id", "Tax office / number"),
    ("first_payment", "first payment"),
    ("pay_now_new_card", "Pay now with a new card"),
    ("change_card", "Change card"),
    ("cancel_subscription", "Cancel subscription"),
    (
        "card_backs_subscription",
        "This card pays for one of your subscriptions. Change that subscription's card or cancel it first.",
    ),
    ("check_email", "Check your e-mail"),
    (
        "check_email_text",
        "We sent an e-mail to this address. Open the link in it to finish signing up. If it hasn't arrived, look in your spam folder.",
    ),
    (
        "sandbox_mailbox",
        "Sandbox: no e-mail is sent; the messages are in the mailbox.",
    ),
    ("mailbox", "Mailbox (sandbox)"),
    (
        "link_invalid",
        "This link is invalid, used or expired. Sign up again to get a new one.",
    ),
    ("charge_planned", "Processing"),
    ("charge_submitted", "Processing"),
    ("charge_pending", "Processing"),
    ("charge_unknown", "Processing"),
    ("charge_succeeded", "Paid"),
    ("charge_failed_soft", "Failed, will be retried"),
    ("charge_failed_hard", "Failed"),
    (
        "payment_not_completed",
        "The payment was not completed. Your card was not charged; you can try again.",
    ),
];

/// FNV-1a, for the word tables: their keys are our own short literals (no caller picks them,
/// so no flooding to defend against), and a page looks up some fifty of them; SipHash was
/// most of each lookup (callgrind, bench/README.md).
#[derive(Default, Clone, Copy)]
pub struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            hash = (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }
}

type Words = HashMap<&'static str, &'static str, std::hash::BuildHasherDefault<Fnv>>;

fn index(table: &'static [(&'static str, &'static str)]) -> Words {
    table.iter().copied().collect()
}

static TR_WORDS: LazyLock<Words> = LazyLock::new(|| index(TR));
static EN_WORDS: LazyLock<Words> = LazyLock::new(|| index(EN));

/// The tables escaped for HTML once, with askama's own escaper (so a page reads exactly as
/// when askama escaped each text as it wrote it; that was a third of the escaping a payment
/// page did, see bench/README.md).
type HtmlWords = HashMap<&'static str, String, std::hash::BuildHasherDefault<Fnv>>;

fn index_html(table: &'static [(&'static str, &'static str)]) -> HtmlWords {
    table
        .iter()
        .map(|&(key, text)| (key, escape_html(text)))
        .collect()
}

static TR_HTML: LazyLock<HtmlWords> = LazyLock::new(|| index_html(TR));
static EN_HTML: LazyLock<HtmlWords> = LazyLock::new(|| index_html(EN));

/// `text` escaped for HTML as askama escapes it (`"&'<>` as numeric references).
pub fn escape_html(text: &str) -> String {
    use askama::filters::Escaper;
    let mut out = String::with_capacity(text.len() + 8);
    // Writing to a String cannot fail.
    let _ = askama::filters::Html.write_escaped_str(&mut out, text);
    out
}

/// A text for a page, already escaped for HTML: askama writes it as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageText<'a> {
    /// A table's text, escaped when the table was built.
    Escaped(&'static str),
    /// An unknown key, shown as itself (a gap is visible): escaped as it is written, since a
    /// key may come from a value.
    Unknown(&'a str),
}

impl std::fmt::Display for PageText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use askama::filters::Escaper;
        match self {
            Self::Escaped(text) => f.write_str(text),
            Self::Unknown(key) => askama::filters::Html.write_escaped_str(f, key),
        }
    }
}

impl askama::filters::HtmlSafe for PageText<'_> {}

/// [`t`] for a template: the text escaped for HTML.
pub fn html(lang: Lang, key: &str) -> PageText<'_> {
    let words = match lang {
        Lang::Tr => &*TR_HTML,
        Lang::En => &*EN_HTML,
    };
    match words.get(key) {
        Some(text) => PageText::Escaped(text),
        None => PageText::Unknown(key),
    }
}

/// Text escaped for HTML when it is made (built only by [`EscapedText::new`]), for texts a
/// page keeps and writes many times (the installment options' words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscapedText(String);

impl EscapedText {
    pub fn new(text: &str) -> Self {
        Self(escape_html(text))
    }
}

impl std::fmt::Display for EscapedText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for EscapedText {}

/// The text for `key` in `lang`; an unknown key shows itself, so a gap is visible, not fatal.
pub fn t(lang: Lang, key: &str) -> &str {
    let words = match lang {
        Lang::Tr => &*TR_WORDS,
        Lang::En => &*EN_WORDS,
    };
    words.get(key).copied().unwrap_or(key)
}

/// Replaces each `{name}` with its value in one pass (a value is never read as a placeholder).
pub fn fill<V: AsRef<str>>(template: &str, values: &[(&str, V)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}').map(|close| (&after[..close], close)) {
            Some((name, close)) if !name.is_empty() => {
                match values.iter().find(|(n, _)| *n == name) {
                    Some((_, value)) => out.push_str(value.as_ref()),
                    None => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// "Too many attempts: try again in 12 minutes", with the wait rounded up.
pub fn try_again_in(lang: Lang, wait: std::time::Duration) -> String {
    let secs = wait.as_secs().max(1);
    let (n, tr_unit, en_unit) = if secs < 60 {
        (secs, "saniye", if secs == 1 { "second" } else { "seconds" })
    } else {
        let m = secs.div_ceil(60);
        (m, "dakika", if m == 1 { "minute" } else { "minutes" })
    };
    match lang {
        Lang::Tr => format!("Çok fazla deneme. Lütfen {n} {tr_unit} sonra tekrar deneyin."),
        Lang::En => format!("Too many attempts. Please try again in {n} {en_unit}."),
    }
}

/// Each invalid field's message, by field name, for a form re-rendered with its errors.
pub fn field_errors(
    lang: Lang,
    errors: &[crate::domain::ValidationError],
) -> std::collections::HashMap<&'static str, &'static str> {
    errors
        .iter()
        .map(|e| {
            let too_long = e.message.starts_with("must be at most");
            let text = match too_long.then(|| too_long_error(lang, e.field)).flatten() {
                Some(text) => text,
                None => field_error(lang, e.field),
            };
            (e.field, text)
        })
        .collect()
}

/// A field typed longer than its one limit (the same in every form).
fn too_long_error(lang: Lang, field: &str) -> Option<&'static str> {
    Some(match (lang, field) {
        (Lang::Tr, "user_name") => "Ad soyad en fazla 60 karakter olabilir.",
        (Lang::En, "user_name") => "Your full name can be 60 characters at most.",
        (Lang::Tr, "email") => "E-posta adresi en fazla 100 karakter olabilir.",
        (Lang::En, "email") => "The e-mail address can be 100 characters at most.",
        (Lang::Tr, "user_phone") => "Telefon numarası en fazla 20 karakter olabilir.",
        (Lang::En, "user_phone") => "The phone number can be 20 characters at most.",
        (Lang::Tr, "user_address") => "Adres en fazla 400 karakter olabilir.",
        (Lang::En, "user_address") => "The address can be 400 characters at most.",
        _ => return None,
    })
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
/// browser's `fail_message` are never shown back: the page says only what we wrote), each
/// with what to do next. For code 0 ("the bank's reason is in the message") the recorded
/// message is only *read* to pick one of our sentences (insufficient limit, expired, CVV, card
/// number, card closed or not open to online payments); its text is never shown.
pub fn failure_reason(lang: Lang, code: Option<&str>, bank_msg: Option<&str>) -> &'static str {
    let (tr, en) = match code.unwrap_or_default() {
        "0" => bank_reason(bank_msg.unwrap_or_default()),
        "1" | "2" => (
            "3-D Secure doğrulaması tamamlanamadı: bankanızın gönderdiği SMS şifresini kontrol edip tekrar deneyin.",
            "3-D Secure verification was not completed: check the SMS code your bank sent and try again.",
        ),
        "3" | "11" => (
            "Ödeme güvenlik kontrolünden geçemedi. Başka bir kartla deneyin.",
            "The payment did not pass the security check. Try another card.",
        ),
        "6" => (
            "Ödeme yarıda kaldı veya süresi doldu; kartınızdan para çekilmedi. Tekrar deneyebilirsiniz.",
            "The payment was abandoned or timed out; your card was not charged. You can try again.",
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
            "Bu kartla ödeme 3-D Secure doğrulaması gerektiriyor. Kartınızı yeniden girerek deneyin.",
            "This card needs 3-D Secure verification. Enter your card again to pay.",
        ),
        "99" => (
            "Kart bilgileri işlenemedi; kartınızdan para çekilmedi. Kart numarasını, son kullanma tarihini ve güvenlik kodunu kontrol edip tekrar deneyin.",
            "The card details could not be processed; your card was not charged. Check the card number, expiry date and security code and try again.",
        ),
        _ => (
            "Ödeme tamamlanamadı; kartınızdan para çekilmedi. Lütfen tekrar deneyin.",
            "The payment could not be completed; your card was not charged. Please try again.",
        ),
    };
    match lang {
        Lang::Tr => tr,
        Lang::En => en,
    }
}

/// One of our sentences for a bank's own refusal text (code 0), chosen by what it mentions.
fn bank_reason(msg: &str) -> (&'static str, &'static str) {
    let m = msg.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| m.contains(w));
    if has(&["limit", "bakiye", "insufficient", "funds"]) {
        (
            "Kartınızın limiti bu ödeme için yeterli değil. Başka bir kart deneyin veya bankanızla görüşün.",
            "Your card's limit is not enough for this payment. Try another card or contact your bank.",
        )
    } else if has(&["cvv", "cvc", "güvenlik kod", "security code"]) {
        (
            "Kartın güvenlik kodu (CVV) doğrulanamadı. Kartın arkasındaki 3 haneli kodu kontrol edip tekrar deneyin.",
            "The card's security code (CVV) could not be verified. Check the code on the back of the card and try again.",
        )
    } else if has(&["son kullanma", "süresi dol", "expir"]) {
        (
            "Kartın son kullanma tarihi geçmiş veya hatalı. Tarihi kontrol edin ya da başka bir kart deneyin.",
            "The card has expired or its expiry date is wrong. Check the date or try another card.",
        )
    } else if has(&["internet", "e-ticaret", "online", "sanal"]) {
        (
            "Kartınız internet alışverişine kapalı. Bankanızın uygulamasından açıp tekrar deneyin.",
            "Your card is not open to online payments. Turn them on in your bank's app and try again.",
        )
    } else if has(&[
        "kapat",
        "kapalı",
        "blok",
        "çalıntı",
        "kayıp",
        "closed",
        "blocked",
        "stolen",
        "lost",
    ]) {
        (
            "Bankanız bu kartı ödemelere kapatmış. Başka bir kart deneyin veya bankanızla görüşün.",
            "Your bank has closed this card to payments. Try another card or contact your bank.",
        )
    } else if has(&[
        "kart numara",
        "geçersiz kart",
        "invalid card",
        "card number",
    ]) {
        (
            "Kart numarası bankada bulunamadı. Numarayı kontrol edip tekrar deneyin.",
            "The bank did not recognise the card number. Check it and try again.",
        )
    } else if has(&["devam eden", "in progress"]) {
        (
            "Bu kartla süren bir işlem var. Birkaç dakika sonra tekrar deneyin.",
            "A payment with this card is still in progress. Try again in a few minutes.",
        )
    } else {
        (
            "Bankanız ödemeyi onaylamadı. Başka bir kartla deneyin veya bankanızla görüşün.",
            "Your bank declined the payment. Try another card or contact your bank.",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bank_refusal_is_told_in_our_words_never_its_own() {
        let cases = [
            ("Kart limiti yetersiz.", "limiti"),
            ("Yetersiz bakiye", "limiti"),
            ("CVV hatalı", "güvenlik kodu"),
            ("Son kullanma tarihi hatalı (54)", "son kullanma"),
            ("Kart banka tarafından kapatılmış.", "kapatmış"),
            ("Kart internet alışverişine kapalı", "internet alışverişine"),
            ("Geçersiz kart numarası", "Kart numarası"),
            ("<script>alert(1)</script>", "onaylamadı"),
        ];
        for (msg, ours) in cases {
            let text = failure_reason(Lang::Tr, Some("0"), Some(msg));
            assert!(text.contains(ours), "{msg:?} -> {text:?}");
            assert!(
                !text.contains(msg),
                "the bank's text is not echoed: {text:?}"
            );
        }
        let en = failure_reason(Lang::En, Some("0"), Some("Kart limiti yetersiz."));
        assert!(en.contains("limit is not enough"), "{en}");
        for code in [
            "0", "1", "2", "3", "6", "8", "9", "10", "11", "99", "42", "",
        ] {
            let (tr, en) = (
                failure_reason(Lang::Tr, Some(code), None),
                failure_reason(Lang::En, Some(code), None),
            );
            assert!(tr != en && !tr.is_empty() && !en.is_empty(), "{code}");
        }
        assert!(failure_reason(Lang::Tr, Some("99"), None).contains("para çekilmedi"));
        assert!(!failure_reason(Lang::Tr, Some("99"), None).contains("entegrasyon"));
    }
    use crate::db::states::{
        ChargeStatus, OrderStatus, RefundStatus, StoredText, SubscriptionReason, SubscriptionStatus,
    };
    use std::collections::BTreeSet;

    fn keys(table: &[(&'static str, &str)]) -> BTreeSet<&'static str> {
        table.iter().map(|(k, _)| *k).collect()
    }

    #[test]
    fn both_languages_have_the_same_keys_once() {
        assert_eq!(keys(TR).len(), TR.len(), "a key twice in TR");
        assert_eq!(keys(EN).len(), EN.len(), "a key twice in EN");
        let (tr, en) = (keys(TR), keys(EN));
        assert!(
            tr.difference(&en).next().is_none(),
            "only in TR: {:?}",
            tr.difference(&en)
        );
        assert!(
            en.difference(&tr).next().is_none(),
            "only in EN: {:?}",
            en.difference(&tr)
        );
        assert!(TR.iter().chain(EN).all(|(_, text)| !text.is_empty()));
    }

    /// Every `"key"` that `pattern` finds in the files of `dir` with `extension`.
    fn used_keys(dir: &str, extension: &str, patterns: &[&str]) -> BTreeSet<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut found = BTreeSet::new();
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if path.extension().and_then(|e| e.to_str()) != Some(extension) || name == "i18n.rs" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for pattern in patterns {
                for piece in text.split(pattern).skip(1) {
                    let key: String = piece
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                        .collect();
                    let is_key = key.starts_with(|c: char| c.is_ascii_lowercase());
                    if is_key && piece[key.len()..].starts_with('"') {
                        found.insert(key);
                    }
                }
            }
        }
        found
    }

    #[test]
    fn page_texts_read_as_askama_escaping_them_and_an_unknown_key_is_escaped_too() {
        use askama::Template;
        #[derive(Template)]
        #[template(source = "{{ text }}", ext = "html")]
        struct Escaping<'a> {
            text: &'a str,
        }
        #[derive(Template)]
        #[template(source = "{{ text }}", ext = "html")]
        struct Escaped<'a> {
            text: PageText<'a>,
        }
        let mut quoted = 0;
        for (lang, table) in [(Lang::Tr, TR), (Lang::En, EN)] {
            for (key, text) in table {
                let by_askama = Escaping { text }.render().expect("renders");
                let ours = Escaped {
                    text: html(lang, key),
                }
                .render()
                .expect("renders");
                assert_eq!(ours, by_askama, "{key}");
                quoted += usize::from(by_askama != *text);
            }
        }
        assert!(
            quoted > 0,
            "some texts need escaping (an apostrophe, a quote)"
        );
        let unknown = Escaped {
            text: html(Lang::En, "<script>alert('x')</script>"),
        }
        .render()
        .expect("renders");
        assert_eq!(
            unknown,
            "&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;"
        );
        assert_eq!(
            EscapedText::new("3 × 10,00 TL <b>").to_string(),
            "3 × 10,00 TL &#60;b&#62;"
        );
    }

    #[test]
    fn the_word_tables_hash_is_fnv_1a() {
        use std::hash::Hasher;
        // Known answers of 64-bit FNV-1a (the reference's test suite).
        for (text, hash) in [
            ("", 0xcbf2_9ce4_8422_2325_u64),
            ("a", 0xaf63_dc4c_8601_ec8c),
        ] {
            let mut fnv = Fnv::default();
            fnv.write(text.as_bytes());
            assert_eq!(fnv.finish(), hash, "{text:?}");
        }
        assert_eq!(t(Lang::En, "charge_succeeded"), "Paid");
    }

    #[test]
    fn every_key_a_page_asks_for_exists_in_both_languages() {
        let mut wanted = used_keys("templates", "html", &[".t(\""]);
        wanted.extend(used_keys("templates/admin", "html", &[".t(\"", "{{ t(\""]));
        wanted.extend(used_keys("src/routes/admin", "rs", &["t(lang, \""]));
        for key in used_keys("src/routes/admin", "rs", &["\"adm_"]) {
            wanted.insert(format!("adm_{key}"));
        }
        for state in RefundStatus::ALL {
            wanted.insert(state.page_key());
        }
        wanted.extend(used_keys(
            "src/routes",
            "rs",
            &[
                "Layout::new(&ctx, \"",
                "Layout::new(ctx, \"",
                "Some(\"",
                // message(ctx, StatusCode::…, "heading", "text"), on one line or several
                "StatusCode::NOT_FOUND, \"",
                "StatusCode::TOO_MANY_REQUESTS, \"",
                "\",\n            \"",
                "\",\n                \"",
            ],
        ));
        for state in OrderStatus::ALL {
            wanted.insert(state.page_key().to_owned());
        }
        for state in SubscriptionStatus::ALL {
            wanted.insert(state.page_key().to_owned());
        }
        for reason in SubscriptionReason::ALL {
            wanted.insert(reason.page_key());
        }
        for state in ChargeStatus::ALL {
            wanted.insert(state.page_key());
        }
        for interval in ["weekly", "monthly", "yearly"] {
            wanted.insert(format!("interval_{interval}"));
        }
        assert!(wanted.len() > 60, "the scan found the keys: {wanted:?}");
        let known = keys(TR);
        let missing: Vec<_> = wanted
            .iter()
            .filter(|k| !known.contains(k.as_str()))
            .collect();
        assert!(missing.is_empty(), "no words for {missing:?}");
    }
}
