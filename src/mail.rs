//! E-mails to shoppers. Each is composed from one askama template pair (a text part and an
//! HTML part, in the shopper's language) and written to the `outbox` table *inside the
//! transaction of the event it tells about* (a payment, a renewal, a saved card), so a mail is
//! never sent for something that was rolled back and never lost for something that was
//! committed. A background worker delivers the outbox over SMTP (`SMTP_URL`, `MAIL_FROM`; or
//! as JSON to `MAIL_WEBHOOK_URL`), retrying with a growing delay while the mail server is down.
//! With neither, mails stay in the outbox; sandbox mode shows them at `/sandbox/mail`.
//!
//! Delivery is at least once: a mail is claimed (a lease in `next_attempt_at`) before it is
//! sent, so two workers never send it at the same time, and marked sent right after the server
//! accepted it. Only a crash between the two can send it again; its `Message-ID` is the same
//! then, so mail software can tell.

use crate::db::schema::outbox;
use crate::db::{Db, DbConnection, DbError, unix_now};
use crate::domain::Lang;
use askama::Template;
use diesel::prelude::*;
use std::time::Duration;

/// An e-mail as kept in the outbox.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct Mail {
    pub id: i64,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub html_body: Option<String>,
    pub attachment_name: Option<String>,
    pub attachment_body: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
}

/// An e-mail ready to be queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// A text attachment: its file name and content (the accepted contract of an order).
    pub attachment: Option<(String, String)>,
}

/// What every e-mail needs from the shop: where its links point and whose name it carries.
#[derive(Debug, Clone)]
pub struct MailCtx {
    pub base_url: String,
    pub shop: String,
    /// To name a basket's products in the mail's language.
    pub catalog: crate::catalog::Catalog,
}

/// A stored language code (`tr`, `en`) as a [`Lang`]; Turkish for anything else.
pub fn lang_of(code: &str) -> Lang {
    Lang::parse(code).unwrap_or(Lang::Tr)
}

/// The body of an e-mail, rendered by `templates/mail/message.{txt,html}`.
struct Content {
    greeting: &'static str,
    paragraphs: Vec<String>,
    /// Rows of a small table: label and amount.
    rows: Vec<(String, String)>,
    action: Option<(&'static str, String)>,
    after: Vec<String>,
}

#[derive(Template)]
#[template(path = "mail/message.txt")]
struct TextPart<'a> {
    c: &'a Content,
    shop: &'a str,
}

#[derive(Template)]
#[template(path = "mail/message.html")]
struct HtmlPart<'a> {
    c: &'a Content,
    subject: &'a str,
    shop: &'a str,
    lang: &'a str,
}

fn compose(ctx: &MailCtx, lang: Lang, to: &str, subject: String, content: Content) -> Outgoing {
    let text = TextPart {
        c: &content,
        shop: &ctx.shop,
    }
    .render()
    .unwrap_or_default();
    let html = HtmlPart {
        c: &content,
        subject: &subject,
        shop: &ctx.shop,
        lang: lang.code(),
    }
    .render()
    .unwrap_or_default();
    Outgoing {
        to: to.to_owned(),
        subject,
        text,
        html,
        attachment: None,
    }
}

fn tr_en(lang: Lang, tr: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Tr => tr,
        Lang::En => en,
    }
}

fn hello(lang: Lang) -> &'static str {
    tr_en(lang, "Merhaba,", "Hello,")
}

/// The link that confirms a sign-up.
pub fn confirmation(ctx: &MailCtx, lang: Lang, to: &str, link: &str) -> Outgoing {
    let content = Content {
        greeting: hello(lang),
        paragraphs: vec![
            tr_en(
                lang,
                "Üyeliğinizi tamamlamak için bu bağlantıyı açın (24 saat geçerlidir):",
                "Open this link to finish signing up (it works for 24 hours):",
            )
            .into(),
        ],
        rows: Vec::new(),
        action: Some((
            tr_en(lang, "Üyeliğimi onayla", "Confirm my account"),
            link.into(),
        )),
        after: vec![
            tr_en(
                lang,
                "Bu isteği siz yapmadıysanız bu e-postayı yok sayın.",
                "If you did not ask for this, ignore this e-mail.",
            )
            .into(),
        ],
    };
    let subject = tr_en(lang, "Üyeliğinizi onaylayın", "Confirm your account");
    compose(ctx, lang, to, subject.into(), content)
}

/// To an address that has an account already (sign-up answers the same either way).
pub fn already_registered(ctx: &MailCtx, lang: Lang, to: &str, login: &str) -> Outgoing {
    let content = Content {
        greeting: hello(lang),
        paragraphs: vec![
            tr_en(
                lang,
                "Bu e-posta adresiyle yeniden üye olunmak istendi, ancak bu adresle zaten bir hesabınız var. Siz iseniz giriş yapın; şifrenizi hatırlamıyorsanız giriş sayfasından yenileyebilirsiniz.",
                "Someone tried to sign up with this e-mail address, which already has an account. If it was you, log in; if you forgot your password, you can reset it from the log-in page.",
            )
            .into(),
        ],
        rows: Vec::new(),
        action: Some((tr_en(lang, "Giriş yap", "Log in"), login.into())),
        after: vec![
            tr_en(
                lang,
                "Siz değilseniz bu e-postayı yok sayabilirsiniz: hesabınızda hiçbir şey değişmedi.",
                "If it wasn't you, you can ignore this e-mail: nothing about your account changed.",
            )
            .into(),
        ],
    };
    let subject = tr_en(
        lang,
        "Bu adresle zaten bir hesabınız var",
        "You already have an account",
    );
    compose(ctx, lang, to, subject.into(), content)
}

/// A password reset link (single use, one hour).
pub fn password_reset(ctx: &MailCtx, lang: Lang, to: &str, link: &str) -> Outgoing {
    let content = Content {
        greeting: hello(lang),
        paragraphs: vec![
            tr_en(
                lang,
                "Şifrenizi yenilemek için bu bağlantıyı açın. Bağlantı bir saat geçerlidir ve bir kez kullanılabilir.",
                "Open this link to choose a new password. It works once, for one hour.",
            )
            .into(),
        ],
        rows: Vec::new(),
        action: Some((tr_en(lang, "Yeni şifre belirle", "Choose a new password"), link.into())),
        after: vec![
            tr_en(
                lang,
                "Bu isteği siz yapmadıysanız bu e-postayı yok sayın: şifreniz değişmedi.",
                "If you did not ask for this, ignore this e-mail: your password has not changed.",
            )
            .into(),
        ],
    };
    let subject = tr_en(lang, "Şifre yenileme", "Reset your password");
    compose(ctx, lang, to, subject.into(), content)
}

/// What a paid order's receipt says.
pub struct ReceiptMail<'a> {
    pub number: &'a str,
    /// "Seramik kupa × 2" and its line total.
    pub lines: Vec<(String, String)>,
    pub total: &'a str,
    pub receipt_link: String,
    /// The pre-information form and contract the shopper accepted, attached as text.
    pub terms: Option<String>,
}

/// A paid order's receipt, with the accepted contract attached.
pub fn receipt(ctx: &MailCtx, lang: Lang, to: &str, r: ReceiptMail<'_>) -> Outgoing {
    let mut rows = r.lines;
    rows.push((tr_en(lang, "Toplam", "Total").into(), r.total.into()));
    let content = Content {
        greeting: hello(lang),
        paragraphs: vec![match lang {
            Lang::Tr => format!("{} numaralı siparişinizin ödemesi alındı. Teşekkür ederiz!", r.number),
            Lang::En => format!("We received the payment for your order {}. Thank you!", r.number),
        }],
        rows,
        action: Some((tr_en(lang, "Makbuzu görüntüle", "View the receipt"), r.receipt_link)),
        after: vec![
            tr_en(
                lang,
                "Kabul ettiğiniz ön bilgilendirme formu ve mesafeli satış sözleşmesi ektedir. Kart bilgileriniz bize ulaşmadı: ödeme PayTR altyapısıyla alındı.",
                "The pre-information form and distance sales contract you accepted are attached. Your card details never reached us: the payment was taken through PayTR.",
            )
            .into(),
        ],
    };
    let subject = match lang {
        Lang::Tr => format!("Ödemeniz alındı · sipariş {}", r.number),
        Lang::En => format!("Payment received · order {}", r.number),
    };
    let mut mail = compose(ctx, lang, to, subject, content);
    mail.attachment = r.terms.map(|text| {
        let name = tr_en(
            lang,
            "mesafeli-satis-sozlesmesi.txt",
            "distance-sales-contract.txt",
        );
        (name.to_owned(), text)
    });
    mail
}

/// The button to the shopper's saved cards.
fn saved_cards_link(ctx: &MailCtx, lang: Lang) -> (&'static str, String) {
    (
        tr_en(lang, "Kayıtlı kartlarım", "My saved cards"),
        format!("{}/account/cards", ctx.base_url),
    )
}

/// A card was saved with PayTR during a payment.
pub fn card_saved(ctx: &MailCtx, lang: Lang, to: &str) -> Outgoing {
    let content = Content {
        greeting: hello(lang),
        paragraphs: vec![
            tr_en(
                lang,
                "Son ödemenizde kullandığınız kart, isteğiniz üzerine PayTR'nin kart saklama hizmetinde kaydedildi. Kart numaranız bizde tutulmaz; bir sonraki alışverişinizde kartı tek tıkla seçebilirsiniz.",
                "As you asked, the card you just paid with was saved with PayTR's card storage. We never keep your card number; next time you can pick the card in one click.",
            )
            .into(),
        ],
        rows: Vec::new(),
        action: Some(saved_cards_link(ctx, lang)),
        after: vec![
            tr_en(
                lang,
                "Bunu siz yapmadıysanız kartı bu sayfadan silin ve bize yazın.",
                "If this wasn't you, delete the card on that page and write to us.",
            )
            .into(),
        ],
    };
    let subject = tr_en(lang, "Kartınız kaydedildi", "Your card was saved");
    compose(ctx, lang, to, subject.into(), content)
}

/// A saved card was deleted.
pub fn card_deleted(ctx: &MailCtx, lang: Lang, to: &str, card: &str) -> Outgoing {
    let content = Content {
        greeting: hello(lang),
        paragraphs: vec![match lang {
            Lang::Tr => format!("{card} kartınız kayıtlı kartlarınızdan silindi."),
            Lang::En => format!("Your card {card} was deleted from your saved cards."),
        }],
        rows: Vec::new(),
        action: Some(saved_cards_link(ctx, lang)),
        after: vec![
            tr_en(
                lang,
                "Bunu siz yapmadıysanız şifrenizi değiştirin ve bize yazın.",
                "If this wasn't you, change your password and write to us.",
            )
            .into(),
        ],
    };
    let subject = tr_en(lang, "Kartınız silindi", "Your card was deleted");
    compose(ctx, lang, to, subject.into(), content)
}

/// What a subscription mail says about its plan.
pub struct PlanMail {
    pub plan: String,
    pub amount: String,
    /// "5 Ocak 2027": the next charge (receipt, expiring card).
    pub next_charge: String,
    pub card: String,
}

/// A renewal was charged.
pub fn renewal_receipt(ctx: &MailCtx, lang: Lang, to: &str, p: &PlanMail) -> Outgoing {
    let content = Content {
        greeting: hello(lang),
        paragraphs: vec![match lang {
            Lang::Tr => format!(
                "{} aboneliğinizin yeni dönem ödemesi {} kartınızdan alındı.",
                p.plan, p.card
            ),
            Lang::En => format!(
                "The new period of your {} subscription was charged to your card {}.",
                p.plan, p.card
            ),
        }],
        rows: vec![
            (p.plan.clone(), p.amount.clone()),
            (
                tr_en(lang, "Sonraki ödeme", "Next charge").into(),
                p.next_charge.clone(),
            ),
        ],
        action: Some((
            tr_en(lang, "Aboneliğim", "My subscription"),
            format!("{}/account", ctx.base_url),
        )),
        after: vec![
            tr_en(
                lang,
                "Aboneliğinizi hesabınızdan dilediğiniz zaman iptal edebilirsiniz.",
                "You can cancel the subscription from your account at any time.",
            )
            .into(),
        ],
    };
    let subject = match lang {
        Lang::Tr => format!("{} · ödeme alındı", p.plan),
        Lang::En => format!("{} · payment received", p.plan),
    };
    compose(ctx, lang, to, subject, content)
}

/// A renewal could not be charged and the subscription waits for the shopper.
pub fn renewal_failed(
    ctx: &MailCtx,
    lang: Lang,
    to: &str,
    p: &PlanMail,
    why: &str,
    sub_id: i64,
) -> Outgoing {
    let content = Content {
        greeting: hello(lang),
        paragraphs: vec![
            match lang {
                Lang::Tr => format!("{} aboneliğinizin {} tutarındaki ödemesi alınamadı.", p.plan, p.amount),
                Lang::En => format!("We could not charge {} for your {} subscription.", p.amount, p.plan),
            },
            why.to_owned(),
            tr_en(
                lang,
                "Aboneliğinizin devam etmesi için hesabınızdan başka bir kartla ödeyin veya kartınızı değiştirin.",
                "To keep the subscription, pay with another card or change the card on your account.",
            )
            .into(),
        ],
        rows: Vec::new(),
        action: Some((
            tr_en(lang, "Kartımı güncelle", "Update my card"),
            format!("{}/account#subscription-{sub_id}", ctx.base_url),
        )),
        after: Vec::new(),
    };
    let subject = match lang {
        Lang::Tr => format!("{} · ödeme alınamadı", p.plan),
        Lang::En => format!("{} · payment failed", p.plan),
    };
    compose(ctx, lang, to, subject, content)
}

/// The subscription's card expires before its next renewal.
pub fn card_expiring(
    ctx: &MailCtx,
    lang: Lang,
    to: &str,
    p: &PlanMail,
    expiry: &str,
    sub_id: i64,
) -> Outgoing {
    let content = Content {
        greeting: hello(lang),
        paragraphs: vec![match lang {
            Lang::Tr => format!(
                "{} aboneliğinizin ödendiği {} kartının son kullanma tarihi {}; bir sonraki ödeme {} tarihinde. Ödemenin aksamaması için kartınızı güncelleyin.",
                p.plan, p.card, expiry, p.next_charge
            ),
            Lang::En => format!(
                "The card {} that pays for your {} subscription expires {}, before the next charge on {}. Update your card so the renewal goes through.",
                p.card, p.plan, expiry, p.next_charge
            ),
        }],
        rows: Vec::new(),
        action: Some((
            tr_en(lang, "Kartımı güncelle", "Update my card"),
            format!("{}/account#subscription-{sub_id}", ctx.base_url),
        )),
        after: Vec::new(),
    };
    let subject = tr_en(
        lang,
        "Kartınızın süresi bir sonraki ödemeden önce doluyor",
        "Your card expires before the next renewal",
    );
    compose(ctx, lang, to, subject.into(), content)
}

/// Queues an e-mail (in the caller's transaction).
pub fn enqueue(conn: &mut DbConnection, mail: &Outgoing) -> Result<(), DbError> {
    let (name, body) = match &mail.attachment {
        Some((name, body)) => (Some(name.as_str()), Some(body.as_str())),
        None => (None, None),
    };
    diesel::insert_into(outbox::table)
        .values((
            outbox::to_address.eq(&mail.to),
            outbox::subject.eq(&mail.subject),
            outbox::body.eq(&mail.text),
            outbox::html_body.eq(Some(&mail.html)),
            outbox::attachment_name.eq(name),
            outbox::attachment_body.eq(body),
            outbox::created_at.eq(unix_now()),
            outbox::next_attempt_at.eq(0),
        ))
        .execute(conn)?;
    Ok(())
}

/// The newest e-mails, newest first.
pub fn recent(conn: &mut DbConnection, limit: i64) -> Result<Vec<Mail>, DbError> {
    Ok(outbox::table
        .order(outbox::id.desc())
        .limit(limit)
        .select(Mail::as_select())
        .load(conn)?)
}

/// How long an e-mail is tried before it is given up (three days, however often it failed).
const GIVE_UP_AFTER_SECS: i64 = 3 * 86_400;
/// `next_attempt_at` of a mail that will never be tried again (an undeliverable address).
const NEVER: i64 = 253_402_300_799;
/// How long a claimed mail is left to its worker before another may try it.
const LEASE_SECS: i64 = 300;

/// The delay before attempt `attempts + 1`: `base` seconds (30 by default), doubling, at most
/// 6 hours.
pub fn retry_delay(base: i64, attempts: i32) -> i64 {
    let doublings = u32::try_from(attempts.clamp(0, 20)).unwrap_or(0);
    (base.max(0) << doublings.min(10)).min(6 * 3600)
}

/// Claims the next due mail: one conditional UPDATE, so two workers never take the same one.
fn claim(conn: &mut DbConnection, now: i64) -> Result<Option<Mail>, DbError> {
    let due: Vec<Mail> = outbox::table
        .filter(outbox::sent_at.is_null())
        .filter(outbox::created_at.gt(now - GIVE_UP_AFTER_SECS))
        .filter(outbox::next_attempt_at.le(now))
        .order(outbox::id.asc())
        .limit(5)
        .select(Mail::as_select())
        .load(conn)?;
    for mail in due {
        let taken = diesel::update(
            outbox::table
                .find(mail.id)
                .filter(outbox::sent_at.is_null())
                .filter(outbox::next_attempt_at.eq(mail.next_attempt_at)),
        )
        .set(outbox::next_attempt_at.eq(now + LEASE_SECS))
        .execute(conn)?;
        if taken == 1 {
            return Ok(Some(mail));
        }
    }
    Ok(None)
}

fn settle(
    conn: &mut DbConnection,
    mail: &Mail,
    result: &Result<(), String>,
    retry_base: i64,
) -> Result<(), DbError> {
    let now = unix_now();
    let row = outbox::table.find(mail.id);
    match result {
        Ok(()) => diesel::update(row)
            .set((
                outbox::sent_at.eq(Some(now)),
                outbox::last_error.eq(None::<String>),
            ))
            .execute(conn)?,
        Err(e) => diesel::update(row)
            .set((
                outbox::attempts.eq(mail.attempts + 1),
                outbox::next_attempt_at.eq(now + retry_delay(retry_base, mail.attempts)),
                outbox::last_error.eq(Some(e.chars().take(300).collect::<String>())),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// How the outbox leaves the shop.
#[derive(Clone)]
pub enum Transport {
    Smtp {
        mailer: Box<lettre::AsyncSmtpTransport<lettre::Tokio1Executor>>,
        from: lettre::message::Mailbox,
    },
    /// Posted as JSON `{"to","subject","text","html"}` to a mail service or bridge.
    Webhook { url: String, http: reqwest::Client },
}

impl Transport {
    /// SMTP from `SMTP_URL` (`smtp://host:25`, `smtp://user:pass@host:587?tls=required`,
    /// `smtps://user:pass@host:465`) sending as `MAIL_FROM`.
    pub fn smtp(url: &str, from: &str) -> anyhow::Result<Self> {
        let mailer = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("SMTP_URL: {e}"))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from = from
            .parse()
            .map_err(|e| anyhow::anyhow!("MAIL_FROM: {e}"))?;
        Ok(Self::Smtp {
            mailer: Box::new(mailer),
            from,
        })
    }

    pub fn webhook(url: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Self::Webhook {
            url: url.to_owned(),
            http,
        }
    }

    async fn send(&self, mail: &Mail) -> Result<(), String> {
        match self {
            Self::Smtp { mailer, from } => {
                use lettre::AsyncTransport;
                let message = build_message(mail, from)?;
                mailer
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("SMTP: {e}"))
            }
            Self::Webhook { url, http } => {
                let body = serde_json::json!({
                    "to": mail.to_address,
                    "subject": mail.subject,
                    "text": mail.body,
                    "html": mail.html_body,
                });
                match http
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await
                {
                    Ok(r) if r.status().is_success() => Ok(()),
                    Ok(r) => Err(format!("webhook answered {}", r.status())),
                    Err(e) => Err(format!("webhook: {e}")),
                }
            }
        }
    }
}

/// The MIME message of an outbox row: text and HTML alternatives, the attachment beside them,
/// and a `Message-ID` fixed by the row (a re-sent mail is recognisably the same).
fn build_message(mail: &Mail, from: &lettre::message::Mailbox) -> Result<lettre::Message, String> {
    use lettre::message::{Attachment, MultiPart, SinglePart, header::ContentType};
    let to: lettre::message::Mailbox = mail
        .to_address
        .parse()
        .map_err(|e| format!("recipient: {e}"))?;
    let domain = from.email.domain().to_owned();
    let text = SinglePart::plain(mail.body.clone());
    let body = match &mail.html_body {
        Some(html) => MultiPart::alternative()
            .singlepart(text)
            .singlepart(SinglePart::html(html.clone())),
        None => MultiPart::mixed().singlepart(text),
    };
    let body = match (&mail.attachment_name, &mail.attachment_body) {
        (Some(name), Some(content)) => {
            MultiPart::mixed()
                .multipart(body)
                .singlepart(Attachment::new(name.clone()).body(
                    content.clone(),
                    ContentType::parse("text/plain; charset=utf-8").map_err(|e| e.to_string())?,
                ))
        }
        _ => body,
    };
    lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(format!(
            "<outbox-{}-{}@{domain}>",
            mail.id, mail.created_at
        )))
        .multipart(body)
        .map_err(|e| e.to_string())
}

/// Whether an address can never be delivered to (so it is not retried).
fn undeliverable(error: &str) -> bool {
    error.starts_with("recipient:")
}

/// Delivers what is due in the outbox, once; returns how many were accepted.
pub async fn deliver_due(
    db: &Db,
    transport: &Transport,
    retry_base: i64,
) -> Result<usize, DbError> {
    let mut delivered = 0;
    // A bounded pass: the next tick takes the rest.
    for _ in 0..50 {
        let Some(mail) = db.write(|conn| claim(conn, unix_now())).await? else {
            break;
        };
        let result = transport.send(&mail).await;
        match &result {
            Ok(()) => delivered += 1,
            Err(e) => {
                tracing::warn!(mail = mail.id, attempt = mail.attempts + 1, error = %e, "e-mail not delivered; it will be tried again")
            }
        }
        let give_up = result.as_ref().is_err_and(|e| undeliverable(e));
        db.write(move |conn| {
            settle(conn, &mail, &result, retry_base)?;
            if give_up {
                diesel::update(outbox::table.find(mail.id))
                    .set(outbox::next_attempt_at.eq(NEVER))
                    .execute(conn)?;
            }
            Ok(())
        })
        .await?;
    }
    Ok(delivered)
}

/// Delivers the outbox every `every` in the background; a failed mail waits
/// [`retry_delay`]`(retry_base, attempts)` seconds.
pub fn spawn_delivery(db: Db, transport: Transport, every: Duration, retry_base: i64) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = deliver_due(&db, &transport, retry_base).await {
                tracing::warn!(error = %e, "e-mail delivery pass failed");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> MailCtx {
        MailCtx {
            base_url: "https://shop.example".into(),
            shop: "Örnek <Mağaza>".into(),
            catalog: crate::catalog::Catalog::load(std::path::Path::new("/no/such/catalog.json"))
                .expect("built-in catalogue"),
        }
    }

    #[test]
    fn every_mail_has_a_text_and_an_escaped_html_part_in_its_language() {
        let plan = PlanMail {
            plan: "Kahve kulübü".into(),
            amount: "149,00 TL".into(),
            next_charge: "5 Ocak 2027".into(),
            card: "VISA •••• 4358".into(),
        };
        let mails = [
            confirmation(&ctx(), Lang::Tr, "a@x.tr", "https://shop.example/c/1"),
            renewal_failed(&ctx(), Lang::Tr, "a@x.tr", &plan, "Kart <kapalı>", 7),
            card_expiring(&ctx(), Lang::En, "a@x.tr", &plan, "12/26", 7),
        ];
        for m in &mails {
            assert!(
                !m.text.is_empty() && m.html.starts_with("<!doctype html>"),
                "{m:?}"
            );
            assert!(!m.html.contains("<Mağaza>") && m.html.contains("Örnek &#60;Mağaza&#62;"));
            assert!(
                m.text.contains("Örnek <Mağaza>"),
                "the text part is not escaped"
            );
        }
        assert!(
            mails[1]
                .text
                .contains("https://shop.example/account#subscription-7")
        );
        assert!(mails[1].html.contains("Kart &#60;kapalı&#62;"));
        assert!(mails[2].subject.contains("expires") && mails[2].html.contains("lang=\"en\""));
    }

    #[test]
    fn retries_wait_longer_each_time_up_to_six_hours() {
        assert_eq!(retry_delay(30, 0), 30);
        assert_eq!(retry_delay(30, 1), 60);
        assert_eq!(retry_delay(30, 5), 960);
        assert_eq!(retry_delay(30, 19), 6 * 3600);
        assert_eq!(retry_delay(0, 7), 0);
    }

    #[test]
    fn the_message_has_both_parts_the_attachment_and_a_stable_id() {
        let mut out = receipt(
            &ctx(),
            Lang::Tr,
            "ayse@example.com",
            ReceiptMail {
                number: "2026-000001",
                lines: vec![("Seramik kupa × 2".into(), "360,00 TL".into())],
                total: "360,00 TL",
                receipt_link: "https://shop.example/orders/x/receipt".into(),
                terms: Some("MESAFELİ SATIŞ SÖZLEŞMESİ".into()),
            },
        );
        out.to = "ayse@example.com".into();
        let mail = Mail {
            id: 9,
            to_address: out.to.clone(),
            subject: out.subject.clone(),
            body: out.text.clone(),
            html_body: Some(out.html.clone()),
            attachment_name: out.attachment.as_ref().map(|a| a.0.clone()),
            attachment_body: out.attachment.as_ref().map(|a| a.1.clone()),
            created_at: 1,
            sent_at: None,
            attempts: 0,
            next_attempt_at: 0,
            last_error: None,
        };
        let from = "Shop <shop@shop.example>".parse().expect("from");
        let raw = String::from_utf8(build_message(&mail, &from).expect("message").formatted())
            .expect("utf-8");
        assert!(
            raw.contains("Message-ID: <outbox-9-1@shop.example>"),
            "{raw}"
        );
        assert!(raw.contains("multipart/alternative") && raw.contains("text/html"));
        assert!(raw.contains("mesafeli-satis-sozlesmesi.txt"));
        let mut bad = mail;
        bad.to_address = "not an address".into();
        assert!(build_message(&bad, &from).is_err_and(|e| undeliverable(&e)));
    }
}
