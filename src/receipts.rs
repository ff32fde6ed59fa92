//! What a receipt needs beyond the order: the card it was paid with. PayTR's notification does
//! not name the card (and the card form posts straight to PayTR), so after a payment PayTR's
//! status inquiry is asked once, in the background, for its scheme and masked number; only
//! the scheme and the last 4 digits are kept.

use crate::db::schema::payment_attempts;
use crate::db::states::AttemptStatus;
use crate::db::{Db, DbConnection, DbError};
use crate::domain::MerchantOid;
use crate::paytr::{PaytrClient, StatusAnswer};
use diesel::prelude::*;

/// "VISA •••• 4358" from PayTR's `kart_marka` and `masked_pan`; `None` without 4 final digits.
pub fn card_label(brand: &str, masked_pan: &str) -> Option<String> {
    let digits: Vec<char> = masked_pan.chars().filter(char::is_ascii_digit).collect();
    let last4: String = digits.get(digits.len().checked_sub(4)?..)?.iter().collect();
    let brand: String = brand
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ')
        .take(20)
        .collect::<String>()
        .trim()
        .to_uppercase();
    Some(match brand.as_str() {
        "" => format!("•••• {last4}"),
        brand => format!("{brand} •••• {last4}"),
    })
}

fn mark_asked(
    conn: &mut DbConnection,
    oid: &str,
    label: Option<&str>,
    now: i64,
) -> Result<(), DbError> {
    diesel::update(payment_attempts::table.filter(payment_attempts::merchant_oid.eq(oid)))
        .set((
            payment_attempts::card_label.eq(label),
            payment_attempts::card_asked_at.eq(Some(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Asks PayTR which card paid `oid` and keeps its label. An answer without a card, or a
/// refusal, is recorded as asked (not asked again); PayTR unreachable leaves it for the next
/// billing pass.
pub async fn learn_card(db: &Db, paytr: &PaytrClient, oid: &str, now: i64) -> Result<(), DbError> {
    let Ok(parsed) = MerchantOid::parse(oid) else {
        return Ok(());
    };
    let label = match paytr.payment_status(&parsed).await {
        Ok(StatusAnswer::Paid(status)) => card_label(&status.card_brand, &status.masked_pan),
        Ok(StatusAnswer::NotPaid(_) | StatusAnswer::Refused(_)) => None,
        Err(e) => {
            tracing::warn!(%oid, error = %e, "card of a paid order not known yet");
            return Ok(());
        }
    };
    let oid = oid.to_owned();
    db.write(move |conn| mark_asked(conn, &oid, label.as_deref(), now))
        .await
}

/// Paid attempts of the last week whose card PayTR was not asked about yet (the notification's
/// background question was lost): asked again by the billing pass.
pub async fn learn_missing_cards(db: &Db, paytr: &PaytrClient, now: i64) -> Result<usize, DbError> {
    let oids: Vec<String> = db
        .run(move |conn| {
            Ok(payment_attempts::table
                .filter(payment_attempts::status.eq(AttemptStatus::Paid))
                .filter(payment_attempts::card_asked_at.is_null())
                .filter(payment_attempts::updated_at.gt(now - 7 * 86_400))
                .order(payment_attempts::id.asc())
                .limit(50)
                .select(payment_attempts::merchant_oid)
                .load(conn)?)
        })
        .await?;
    for oid in &oids {
        learn_card(db, paytr, oid, now).await?;
    }
    Ok(oids.len())
}

/// The receipt e-mail of a paid order, in the order's language, with the contract it accepted.
pub fn receipt_mail(
    conn: &mut DbConnection,
    mail: &crate::mail::MailCtx,
    order: &crate::db::models::Order,
) -> Result<crate::mail::Outgoing, DbError> {
    use crate::db::schema::orders;
    use crate::routes::filters::format_money;
    let lang = crate::mail::lang_of(&order.lang);
    let lines = crate::paytr::Basket::parse(&order.basket_json)
        .map(|b| {
            b.items()
                .iter()
                .map(|i| {
                    let total = i.unit_price.checked_mul(i.quantity).unwrap_or(i.unit_price);
                    (
                        format!("{} × {}", mail.catalog.name_in(&i.name, lang), i.quantity),
                        format_money(total, order.currency, lang),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let terms: Option<String> = orders::table
        .find(order.id)
        .select(orders::terms_text)
        .first(conn)?;
    let number = order.number();
    let total = format_money(order.total, order.currency, lang);
    Ok(crate::mail::receipt(
        mail,
        lang,
        &order.email,
        crate::mail::ReceiptMail {
            number: &number,
            lines,
            total: &total,
            receipt_link: format!("{}/orders/{}/receipt", mail.base_url, order.public_id),
            terms,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_scheme_and_the_last_four_digits_are_kept() {
        assert_eq!(
            card_label("VISA", "435508******4358").as_deref(),
            Some("VISA •••• 4358")
        );
        assert_eq!(card_label("", "******5403").as_deref(), Some("•••• 5403"));
        assert_eq!(
            card_label("<b>World</b>", "5406 67** **** 5403").as_deref(),
            Some("BWORLDB •••• 5403")
        );
        assert_eq!(card_label("VISA", "****"), None);
        assert_eq!(card_label("VISA", ""), None);
    }
}
