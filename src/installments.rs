//! Installments (taksit): PayTR's rates kept in the database (fetched at start and daily, used
//! stale when PayTR is down, never waited for by a page), the options an order's total allows
//! on a card family, and the offers a payment page was given a signed form for, which a
//! notification's `installment_count` and `total_amount` must match.

use crate::config::{InstallmentSettings, InterestPayer};
use crate::db::schema::{app_meta, installment_offers, installment_rates};
use crate::db::{Db, DbConnection, DbError, unix_now};
use crate::domain::Money;
use crate::paytr::{PaytrClient, RatesAnswer, RequestId, with_interest};
use diesel::prelude::*;
use std::time::Duration;

const MAX_NON_BUSINESS: &str = "installments_max_non_bus";
/// A fresh random value written with every refresh of the rates: the rates a process holds in
/// memory are used only while the database still names their version, so every instance sees
/// a refresh at its next page.
pub const RATES_VERSION: &str = "installments_rates_version";

/// The stored rates, by family: (count, basis points) in ascending count.
struct RatesTable {
    version: String,
    /// `MAX_NON_BUSINESS` as written with this version.
    max_non_business: u8,
    by_family: std::collections::HashMap<String, Vec<(i32, i32)>>,
}

/// The last rates table read, under its version (one per process; a page checks the version).
static RATES: std::sync::RwLock<Option<std::sync::Arc<RatesTable>>> = std::sync::RwLock::new(None);

/// One installment option for an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub count: u8,
    pub rate_bp: u32,
    /// What the shopper pays in all, and each month (the last month takes the rounding).
    pub total: Money,
    pub monthly: Money,
}

/// Asks PayTR for its rates and replaces the stored ones; on any failure the stored rates stay
/// in use (logged). Returns how many rates were stored.
pub async fn refresh_rates(db: &Db, paytr: &PaytrClient, now: i64) -> Result<usize, DbError> {
    let Ok(request_id) = RequestId::parse(&format!("rates{now}")) else {
        return Ok(0);
    };
    let rates = match paytr.installment_rates(&request_id).await {
        Ok(RatesAnswer::Rates(rates)) => rates,
        Ok(RatesAnswer::Refused(e)) => {
            tracing::warn!(err_no = %e.err_no, err_msg = %e.err_msg, "installment rates refused by PayTR; the stored rates stay in use");
            return Ok(0);
        }
        Err(e) => {
            tracing::warn!(error = %e, "installment rates not fetched; the stored rates stay in use");
            return Ok(0);
        }
    };
    let rows: Vec<(String, i32, i32)> = rates
        .rates
        .iter()
        .flat_map(|(family, counts)| {
            counts.iter().map(move |(count, bp)| {
                (
                    family.clone(),
                    i32::from(*count),
                    i32::try_from(*bp).unwrap_or(i32::MAX),
                )
            })
        })
        .collect();
    let max = rates.max_inst_non_bus.to_string();
    let stored = rows.len();
    db.write(move |conn| {
        conn.transaction(|conn| {
            // Every instance refreshes: one after the other, or the second one's inserts
            // would meet the first one's rows.
            crate::db::take_turns(conn, 0x7261_7465_7300)?;
            diesel::delete(installment_rates::table).execute(conn)?;
            for (family, count, bp) in &rows {
                diesel::insert_into(installment_rates::table)
                    .values((
                        installment_rates::family.eq(family),
                        installment_rates::installments.eq(count),
                        installment_rates::rate_bp.eq(bp),
                        installment_rates::fetched_at.eq(now),
                    ))
                    .execute(conn)?;
            }
            let version = crate::accounts::random_string(24);
            for (name, value) in [(MAX_NON_BUSINESS, &max), (RATES_VERSION, &version)] {
                diesel::delete(app_meta::table.filter(app_meta::name.eq(name))).execute(conn)?;
                diesel::insert_into(app_meta::table)
                    .values((app_meta::name.eq(name), app_meta::value.eq(value)))
                    .execute(conn)?;
            }
            Ok::<_, DbError>(())
        })
    })
    .await?;
    tracing::info!(rates = stored, "installment rates refreshed");
    Ok(stored)
}

/// Refreshes the rates right after start, then every `every`; after a failure, again after 5 s,
/// doubling up to 10 minutes (the stored rates serve meanwhile).
pub fn spawn_refresher(db: Db, paytr: PaytrClient, every: Duration) {
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut after_failure = Duration::from_secs(5);
        loop {
            let stored = refresh_rates(&db, &paytr, unix_now())
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "installment rates not stored");
                    0
                });
            let wait = if stored > 0 {
                after_failure = Duration::from_secs(5);
                every
            } else {
                let wait = after_failure;
                after_failure = (after_failure * 2).min(Duration::from_secs(600));
                wait
            };
            tokio::time::sleep(wait).await;
        }
    });
}

/// The options for `total` on a card of `family` (none for a business or debit card —
/// `one_go` —, below the minimum, or without stored rates), by count.
pub fn options(
    conn: &mut DbConnection,
    settings: &InstallmentSettings,
    family: &str,
    one_go: bool,
    total: Money,
) -> Result<Vec<Offer>, DbError> {
    Ok(
        options_for_cards(conn, settings, &[(family, one_go)], total, None)?
            .pop()
            .unwrap_or_default(),
    )
}

/// [`options`] for several cards (family, one go) at once, in one indexed read whatever their
/// number (the rates' version; the rates themselves when it changed): the payment page asks for
/// every saved card. `version`: the rates' version if the caller read it already (the payment
/// page, with the order's rows), `""` for none stored.
pub fn options_for_cards(
    conn: &mut DbConnection,
    settings: &InstallmentSettings,
    cards: &[(&str, bool)],
    total: Money,
    version: Option<&str>,
) -> Result<Vec<Vec<Offer>>, DbError> {
    let wanted =
        |one_go: bool| settings.enabled && !one_go && total.kurus() >= settings.min_kurus.max(1);
    if !cards.iter().any(|(_, one_go)| wanted(*one_go)) {
        return Ok(vec![Vec::new(); cards.len()]);
    }
    let (max_non_business, table) = rates_table(conn, version)?;
    let max = i32::from(settings.max.min(max_non_business));
    let mut by_family: Vec<(&str, Vec<Offer>)> = Vec::new();
    let mut result = Vec::with_capacity(cards.len());
    for &(family, one_go) in cards {
        if !wanted(one_go) {
            result.push(Vec::new());
            continue;
        }
        if let Some((_, offers)) = by_family.iter().find(|(f, _)| *f == family) {
            result.push(offers.clone());
            continue;
        }
        let offers: Vec<Offer> = table
            .by_family
            .get(family)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|(count, _)| (2..=max).contains(count))
            .filter_map(|&(count, bp)| offer(settings, total, count, bp))
            .collect();
        by_family.push((family, offers.clone()));
        result.push(offers);
    }
    Ok(result)
}

/// One `app_meta` value.
fn meta_value(conn: &mut DbConnection, name: &'static str) -> Result<Option<String>, DbError> {
    Ok(crate::native!(conn, |c| app_meta::table
        .filter(app_meta::name.eq(name))
        .select(app_meta::value)
        .get_result::<String>(c)
        .optional())?)
}

/// PayTR's limit on installments for non-business cards, and the stored rates: from memory
/// while the database names the version held, else read whole (a few hundred narrow rows).
/// The limit is written with every version, in the same transaction ([`refresh_rates`]), so it
/// is held with the table: a page reads one value, the version.
fn rates_table(
    conn: &mut DbConnection,
    version: Option<&str>,
) -> Result<(u8, std::sync::Arc<RatesTable>), DbError> {
    let read;
    let version = match version {
        Some(version) => version,
        None => {
            read = meta_value(conn, RATES_VERSION)?.unwrap_or_default();
            read.as_str()
        }
    };
    if !version.is_empty()
        && let Some(held) = RATES
            .read()
            .ok()
            .and_then(|held| held.clone())
            .filter(|t| t.version == version)
    {
        return Ok((held.max_non_business, held));
    }
    let max = meta_value(conn, MAX_NON_BUSINESS)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let rows: Vec<(String, i32, i32)> = crate::native!(conn, |c| installment_rates::table
        .order((installment_rates::family, installment_rates::installments))
        .select((
            installment_rates::family,
            installment_rates::installments,
            installment_rates::rate_bp,
        ))
        .load(c))?;
    let mut by_family: std::collections::HashMap<String, Vec<(i32, i32)>> = Default::default();
    for (family, count, bp) in rows {
        by_family.entry(family).or_default().push((count, bp));
    }
    let table = std::sync::Arc::new(RatesTable {
        version: version.to_owned(),
        max_non_business: max,
        by_family,
    });
    // Rates stored before versions existed are read each time until the next refresh.
    if !version.is_empty()
        && let Ok(mut held) = RATES.write()
    {
        *held = Some(table.clone());
    }
    Ok((max, table))
}

/// The offer of `count` installments at `bp` basis points, if the numbers fit.
fn offer(settings: &InstallmentSettings, total: Money, count: i32, bp: i32) -> Option<Offer> {
    let count = u8::try_from(count).ok()?;
    let rate_bp = u32::try_from(bp).ok()?;
    let total = match settings.interest {
        InterestPayer::Shopper => with_interest(total, rate_bp)?,
        InterestPayer::Merchant => total,
    };
    let monthly = Money::from_kurus(total.kurus() / i64::from(count)).ok()?;
    Some(Offer {
        count,
        rate_bp,
        total,
        monthly,
    })
}

/// Records that a signed form for `count` installments of `family` at `total` was handed out.
pub fn record_offer(
    conn: &mut DbConnection,
    attempt_id: i64,
    family: &str,
    offer: &Offer,
) -> Result<(), DbError> {
    let exists = installment_offers::table
        .filter(installment_offers::attempt_id.eq(attempt_id))
        .filter(installment_offers::installments.eq(i32::from(offer.count)))
        .filter(installment_offers::family.eq(family))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if exists {
        diesel::update(
            installment_offers::table
                .filter(installment_offers::attempt_id.eq(attempt_id))
                .filter(installment_offers::installments.eq(i32::from(offer.count)))
                .filter(installment_offers::family.eq(family)),
        )
        .set(installment_offers::total_kurus.eq(offer.total.kurus()))
        .execute(conn)?;
    } else {
        diesel::insert_into(installment_offers::table)
            .values((
                installment_offers::attempt_id.eq(attempt_id),
                installment_offers::installments.eq(i32::from(offer.count)),
                installment_offers::family.eq(family),
                installment_offers::total_kurus.eq(offer.total.kurus()),
                installment_offers::created_at.eq(unix_now()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The least total a notification with `count` installments must carry for this attempt:
/// the attempt's amount for a single payment, the smallest offer of that count otherwise;
/// `None` when no form for that count was ever handed out.
pub fn expected_total(
    conn: &mut DbConnection,
    attempt_id: i64,
    single: Money,
    count: u8,
) -> Result<Option<i64>, DbError> {
    if count == 0 {
        return Ok(Some(single.kurus()));
    }
    let least: Option<i64> = installment_offers::table
        .filter(installment_offers::attempt_id.eq(attempt_id))
        .filter(installment_offers::installments.eq(i32::from(count)))
        .select(diesel::dsl::min(installment_offers::total_kurus))
        .first(conn)?;
    Ok(least)
}
