//! The e-mails of subscriptions, each queued in the transaction of what it tells: a renewal
//! paid, a subscription waiting for its shopper (with a link to fix it), and a card that
//! expires before the next renewal (once per card).

use super::{Billing, card_expired};
use crate::db::schema::subscriptions;
use crate::db::states::{SubscriptionReason, SubscriptionStatus};
use crate::db::subscriptions::Subscription;
use crate::db::{DbConnection, DbError};
use crate::domain::{Lang, Money};
use crate::mail::{MailCtx, PlanMail};
use crate::routes::filters::{format_day, format_money};
use diesel::prelude::*;

/// The subscriber's address and language, and the plan's words in it: `amount` (the plan's
/// price when `None`) and the charge on `next_charge_at`.
fn plan_words(
    conn: &mut DbConnection,
    mail: &MailCtx,
    sub: &Subscription,
    amount_kurus: Option<i64>,
    next_charge_at: i64,
) -> Result<Option<(String, Lang, PlanMail)>, DbError> {
    // An API customer's merchant is told by webhook instead.
    let Some(user) = crate::accounts::find_user(conn, sub.user_id)?
        .filter(|u| !crate::accounts::is_api_customer(&u.email))
    else {
        return Ok(None);
    };
    let lang = crate::mail::lang_of(&user.lang);
    let plan = mail
        .catalog
        .plan(&sub.plan_slug)
        .map_or_else(|| sub.plan_slug.clone(), |p| p.name.get(lang).to_owned());
    let amount = amount_kurus
        .and_then(|k| Money::from_kurus(k).ok())
        .unwrap_or(sub.amount);
    let words = PlanMail {
        plan,
        amount: format_money(amount, sub.currency, lang),
        next_charge: format_day(next_charge_at, lang),
        card: sub
            .card_last4
            .as_deref()
            .map_or_else(|| "••••".to_owned(), |l| format!("•••• {l}")),
    };
    Ok(Some((user.email, lang, words)))
}

/// "Your renewal was charged", with the amount and the next charge date.
pub(super) fn renewal_paid(
    conn: &mut DbConnection,
    mail: &MailCtx,
    sub: &Subscription,
    amount_kurus: Option<i64>,
    next_charge_at: i64,
) -> Result<(), DbError> {
    let Some((to, lang, words)) = plan_words(conn, mail, sub, amount_kurus, next_charge_at)? else {
        return Ok(());
    };
    crate::mail::enqueue(conn, &crate::mail::renewal_receipt(mail, lang, &to, &words))
}

/// "We could not charge your subscription", why, and the link to fix it.
pub(super) fn renewal_failed(
    conn: &mut DbConnection,
    mail: &MailCtx,
    sub: &Subscription,
    reason: SubscriptionReason,
) -> Result<(), DbError> {
    let Some((to, lang, words)) = plan_words(conn, mail, sub, None, sub.next_charge_at)? else {
        return Ok(());
    };
    let why = crate::routes::i18n::t(lang, &reason.page_key()).to_owned();
    let out = crate::mail::renewal_failed(mail, lang, &to, &words, &why, sub.id);
    crate::mail::enqueue(conn, &out)
}

/// How far ahead a card expiring before the next renewal is warned about.
const EXPIRY_NOTICE_SECS: i64 = 30 * 86_400;

impl Billing {
    /// Active subscriptions whose card will have expired at their next charge, within the
    /// next 30 days: the shopper is told once per card (`expiry_warned_for` holds its expiry).
    pub(super) async fn warn_expiring_cards(&self, now: i64) -> Result<usize, DbError> {
        let mail = self.mail.clone();
        self.db
            .write(move |conn| {
                let due: Vec<Subscription> = subscriptions::table
                    .filter(subscriptions::status.eq(SubscriptionStatus::Active))
                    .filter(subscriptions::cancel_at_period_end.eq(false))
                    .filter(subscriptions::card_expiry.is_not_null())
                    .filter(subscriptions::next_charge_at.le(now + EXPIRY_NOTICE_SECS))
                    .filter(
                        subscriptions::expiry_warned_for.is_null().or(
                            subscriptions::expiry_warned_for
                                .nullable()
                                .ne(subscriptions::card_expiry.nullable()),
                        ),
                    )
                    .select(Subscription::as_select())
                    .limit(500)
                    .load(conn)?;
                let mut warned = 0;
                for sub in due {
                    let expiry = sub.card_expiry.clone().unwrap_or_default();
                    if !card_expired(Some(&expiry), sub.next_charge_at) {
                        continue;
                    }
                    conn.transaction(|conn| {
                        // Claimed first: one warning even with two engines.
                        let claimed = diesel::update(
                            subscriptions::table.find(sub.id).filter(
                                subscriptions::expiry_warned_for
                                    .is_null()
                                    .or(subscriptions::expiry_warned_for.ne(&expiry)),
                            ),
                        )
                        .set(subscriptions::expiry_warned_for.eq(Some(&expiry)))
                        .execute(conn)?;
                        if claimed == 1 {
                            expiring_mail(conn, &mail, &sub, &expiry)?;
                            warned += 1;
                        }
                        Ok::<_, DbError>(())
                    })?;
                }
                Ok(warned)
            })
            .await
    }
}

fn expiring_mail(
    conn: &mut DbConnection,
    mail: &MailCtx,
    sub: &Subscription,
    expiry: &str,
) -> Result<(), DbError> {
    let Some((to, lang, words)) = plan_words(conn, mail, sub, None, sub.next_charge_at)? else {
        return Ok(());
    };
    let out = crate::mail::card_expiring(mail, lang, &to, &words, expiry, sub.id);
    crate::mail::enqueue(conn, &out)
}
