//! E-mails to shoppers: written to the `outbox` table inside the use case that sends them, then
//! delivered by a background loop that posts each one as JSON to `MAIL_WEBHOOK_URL` (any mail
//! service or a small bridge of the merchant's). In sandbox mode nothing is delivered: the
//! messages are shown at `/dev/mailbox`.

use crate::db::schema::outbox;
use crate::db::{Db, DbConnection, DbError, unix_now};
use crate::domain::Lang;
use diesel::prelude::*;
use std::time::Duration;

/// An e-mail as kept in the outbox.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = outbox)]
pub struct Mail {
    pub id: i64,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub attempts: i32,
}

/// The e-mail with the link that confirms a sign-up.
pub fn confirmation(lang: Lang, link: &str) -> (&'static str, String) {
    match lang {
        Lang::Tr => (
            "Üyeliğinizi onaylayın",
            format!(
                "Merhaba,\n\nÜyeliğinizi tamamlamak için bu bağlantıyı açın (24 saat geçerlidir):\n{link}\n\nBu isteği siz yapmadıysanız bu e-postayı yok sayın.\n"
            ),
        ),
        Lang::En => (
            "Confirm your account",
            format!(
                "Hello,\n\nOpen this link to finish signing up (it works for 24 hours):\n{link}\n\nIf you did not ask for this, ignore this e-mail.\n"
            ),
        ),
    }
}

/// The e-mail to an address that has an account already.
pub fn already_registered(lang: Lang, login: &str) -> (&'static str, String) {
    match lang {
        Lang::Tr => (
            "Bu adresle zaten bir hesabınız var",
            format!(
                "Merhaba,\n\nBu e-posta adresiyle yeniden üye olunmak istendi, ancak bu adresle zaten bir hesabınız var. Siz iseniz giriş yapın: {login}\n\nSiz değilseniz bu e-postayı yok sayabilirsiniz: hesabınızda hiçbir şey değişmedi.\n"
            ),
        ),
        Lang::En => (
            "You already have an account",
            format!(
                "Hello,\n\nSomeone tried to sign up with this e-mail address, which already has an account. If it was you, log in: {login}\n\nIf it wasn't, you can ignore this e-mail: nothing about your account changed.\n"
            ),
        ),
    }
}

/// A paid order's receipt: its lines, total and where to see it (no card data).
pub fn receipt(
    lang: Lang,
    order_id: &str,
    lines: &[(String, u32, String)],
    total: &str,
    link: &str,
) -> (&'static str, String) {
    let lines: String = lines
        .iter()
        .map(|(name, quantity, amount)| format!("  {name} × {quantity}: {amount}\n"))
        .collect();
    match lang {
        Lang::Tr => (
            "Ödemeniz alındı",
            format!(
                "Merhaba,\n\n{order_id} numaralı siparişinizin ödemesi alındı.\n\n{lines}  Toplam: {total}\n\nSiparişiniz: {link}\n"
            ),
        ),
        Lang::En => (
            "Your payment was received",
            format!(
                "Hello,\n\nThe payment of your order {order_id} was received.\n\n{lines}  Total: {total}\n\nYour order: {link}\n"
            ),
        ),
    }
}

/// Queues an e-mail (in the caller's transaction).
pub fn enqueue(
    conn: &mut DbConnection,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<(), DbError> {
    diesel::insert_into(outbox::table)
        .values((
            outbox::to_address.eq(to),
            outbox::subject.eq(subject),
            outbox::body.eq(body),
            outbox::created_at.eq(unix_now()),
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

/// Most delivery attempts for one e-mail.
const MAX_ATTEMPTS: i32 = 20;

fn unsent(conn: &mut DbConnection) -> Result<Vec<Mail>, DbError> {
    Ok(outbox::table
        .filter(outbox::sent_at.is_null())
        .filter(outbox::attempts.lt(MAX_ATTEMPTS))
        .order(outbox::id.asc())
        .limit(50)
        .select(Mail::as_select())
        .load(conn)?)
}

/// Delivers what waits in the outbox, once; returns how many were accepted.
pub async fn deliver(db: &Db, http: &reqwest::Client, webhook: &str) -> Result<usize, DbError> {
    let mails = db.run(unsent).await?;
    let mut delivered = 0;
    for mail in mails {
        let accepted = http
            .post(webhook)
            .header("content-type", "application/json")
            .body(
                serde_json::json!({
                    "to": mail.to_address,
                    "subject": mail.subject,
                    "text": mail.body,
                })
                .to_string(),
            )
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        let id = mail.id;
        db.write(move |conn| {
            let row = outbox::table.find(id);
            if accepted {
                diesel::update(row)
                    .set(outbox::sent_at.eq(unix_now()))
                    .execute(conn)?;
            } else {
                diesel::update(row)
                    .set(outbox::attempts.eq(outbox::attempts + 1))
                    .execute(conn)?;
            }
            Ok(())
        })
        .await?;
        if accepted {
            delivered += 1;
        } else {
            tracing::warn!(mail = id, "e-mail not delivered; it will be tried again");
        }
    }
    Ok(delivered)
}

/// Delivers the outbox every `every` in the background.
pub fn spawn_delivery(db: Db, webhook: String, every: Duration) {
    tokio::spawn(async move {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = deliver(&db, &http, &webhook).await {
                tracing::warn!(error = %e, "e-mail delivery pass failed");
            }
        }
    });
}
