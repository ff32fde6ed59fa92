//! Askama filters: pages receive values (a [`Price`], a Unix time) and the templates format
//! them here, in one way for every page.

use crate::domain::Lang;
use crate::domain::{Currency, Money};

/// An amount in its currency, for a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    pub amount: Money,
    pub currency: Currency,
}

impl Price {
    pub fn new(amount: Money, currency: Currency) -> Self {
        Self { amount, currency }
    }
}

/// `{{ price|money }}`: "100.99 TL".
pub fn money(price: &Price, _: &dyn askama::Values, lang: &Lang) -> askama::Result<String> {
    Ok(format_money(price.amount, price.currency, *lang))
}

/// An amount as the page's language writes it: `1.234,50 TL` in Turkish, `TRY 1,234.50` in
/// English (ISO code first, as English-language Turkish shops write it).
pub fn format_money(amount: Money, currency: Currency, lang: Lang) -> String {
    // Written into one buffer: a page formats dozens of amounts (installment options).
    let kurus = amount.kurus();
    let (group, decimal) = match lang {
        Lang::Tr => (b'.', b','),
        Lang::En => (b',', b'.'),
    };
    let mut out = String::with_capacity(24);
    match (lang, currency) {
        (Lang::Tr, _) => {}
        (Lang::En, Currency::Tl) => out.push_str("TRY "),
        (Lang::En, c) => {
            out.push_str(c.code());
            out.push(' ');
        }
    }
    if kurus < 0 {
        out.push('-');
    }
    let (whole, cents) = (kurus.unsigned_abs() / 100, kurus.unsigned_abs() % 100);
    let mut digits = [0u8; 20];
    let mut n = digits.len();
    let mut rest = whole;
    loop {
        n -= 1;
        digits[n] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let digits = &digits[n..];
    for (i, d) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(char::from(group));
        }
        out.push(char::from(*d));
    }
    out.push(char::from(decimal));
    out.push(char::from(b'0' + (cents / 10) as u8));
    out.push(char::from(b'0' + (cents % 10) as u8));
    if lang == Lang::Tr {
        out.push(' ');
        out.push_str(currency.code());
    }
    out
}

/// `{{ unix_time|date }}`: "2027-01-05" (UTC).
pub fn date(unix: &i64, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(crate::domain::date_string(*unix))
}

/// `{{ unix_time|day(layout.lang) }}`: "5 Ocak 2027" / "5 January 2027", the day in Turkish
/// time (UTC+3), as shoppers read dates.
pub fn day(unix: &i64, _: &dyn askama::Values, lang: &Lang) -> askama::Result<String> {
    Ok(format_day(*unix, *lang))
}

pub fn format_day(unix: i64, lang: Lang) -> String {
    const TR: [&str; 12] = [
        "Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos", "Eylül", "Ekim",
        "Kasım", "Aralık",
    ];
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let iso = crate::domain::date_string(unix + 3 * 3600);
    let mut parts = iso.split('-');
    let (y, m, d) = (
        parts.next().unwrap_or_default(),
        parts
            .next()
            .and_then(|m| m.parse::<usize>().ok())
            .unwrap_or(1),
        parts
            .next()
            .and_then(|d| d.parse::<u32>().ok())
            .unwrap_or(1),
    );
    let names = match lang {
        Lang::Tr => &TR,
        Lang::En => &EN,
    };
    format!("{d} {} {y}", names[(m - 1).min(11)])
}

/// `YYYY-MM-DD HH:MM` in Turkish time (UTC+3), for the back office.
pub fn datetime(unix: &i64, _: &dyn askama::Values) -> askama::Result<String> {
    let local = *unix + 3 * 3600;
    let minutes = local.rem_euclid(86_400) / 60;
    Ok(format!(
        "{} {:02}:{:02}",
        crate::domain::date_string(local),
        minutes / 60,
        minutes % 60
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_written_as_shoppers_read_them() {
        // 2027-01-04 22:30 UTC is already 5 January in Türkiye.
        let t = 1_799_107_200 - 90 * 60;
        assert_eq!(crate::domain::date_string(t), "2027-01-04");
        assert_eq!(format_day(t, Lang::Tr), "5 Ocak 2027");
        assert_eq!(format_day(t, Lang::En), "5 January 2027");
    }

    #[test]
    fn money_is_written_as_each_language_writes_it() {
        let m = |k| Money::from_kurus(k).expect("amount");
        assert_eq!(
            format_money(m(123_450), Currency::Tl, Lang::Tr),
            "1.234,50 TL"
        );
        assert_eq!(
            format_money(m(123_450), Currency::Tl, Lang::En),
            "TRY 1,234.50"
        );
        assert_eq!(format_money(m(30_550), Currency::Tl, Lang::Tr), "305,50 TL");
        assert_eq!(format_money(m(5), Currency::Tl, Lang::Tr), "0,05 TL");
        assert_eq!(
            format_money(m(100_000_000), Currency::Usd, Lang::En),
            "USD 1,000,000.00"
        );
        assert_eq!(
            format_money(m(99_999), Currency::Eur, Lang::Tr),
            "999,99 EUR"
        );
    }
}
