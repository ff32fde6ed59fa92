//! Test cards and the small BIN table: what each card number does in the sandbox.
//!
//! The sandbox never keeps a card number: a stored card holds its last 4 digits, BIN facts and
//! the [`Behaviour`] read from the number when it was stored.

use serde::{Deserialize, Serialize};

/// What a card does when charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Behaviour {
    Approve,
    /// Declined by the bank for insufficient limit (failed_reason_code 0).
    InsufficientFunds,
    /// The 3-D Secure step always fails (code 2).
    ThreeDFails,
    /// Non-3D charges are refused: 3-D Secure required (code 10).
    Requires3d,
    /// Installments refused for this card (code 8).
    NoInstallments,
    /// Stores fine, then the bank closes it: later charges fail, recurring with try_again=false.
    ClosedByBank,
    /// Recurring charges answer wait_callback and stay in flight for a while.
    SlowRecurring,
}

/// One entry of the test-card table (documented in the README).
pub struct TestCard {
    pub number: &'static str,
    pub behaviour: Behaviour,
    pub require_cvv: bool,
    pub what: &'static str,
}

pub const TEST_CARDS: &[TestCard] = &[
    TestCard {
        number: "4355084355084358",
        behaviour: Behaviour::Approve,
        require_cvv: false,
        what: "PayTR test Visa: approved",
    },
    TestCard {
        number: "5406675406675403",
        behaviour: Behaviour::Approve,
        require_cvv: false,
        what: "PayTR test MasterCard: approved",
    },
    TestCard {
        number: "9792030394440796",
        behaviour: Behaviour::Approve,
        require_cvv: false,
        what: "PayTR test Troy: approved",
    },
    TestCard {
        number: "4355080000000013",
        behaviour: Behaviour::InsufficientFunds,
        require_cvv: false,
        what: "declined: insufficient limit (code 0)",
    },
    TestCard {
        number: "4355080000000021",
        behaviour: Behaviour::ThreeDFails,
        require_cvv: false,
        what: "3-D authentication fails (code 2)",
    },
    TestCard {
        number: "4355080000000039",
        behaviour: Behaviour::Requires3d,
        require_cvv: false,
        what: "Non-3D refused: 3-D Secure required (code 10)",
    },
    TestCard {
        number: "4355080000000047",
        behaviour: Behaviour::NoInstallments,
        require_cvv: false,
        what: "installments refused (code 8)",
    },
    TestCard {
        number: "4355080000000054",
        behaviour: Behaviour::ClosedByBank,
        require_cvv: false,
        what: "stores fine; later charges: card closed by the bank (recurring try_again=false)",
    },
    TestCard {
        number: "4355080000000062",
        behaviour: Behaviour::SlowRecurring,
        require_cvv: false,
        what: "recurring answers wait_callback; a second charge meanwhile gets try_again=true",
    },
    TestCard {
        number: "5406670000000074",
        behaviour: Behaviour::Approve,
        require_cvv: true,
        what: "approved; stored with require_cvv=1",
    },
    TestCard {
        number: "5526080000000006",
        behaviour: Behaviour::Approve,
        require_cvv: false,
        what: "business card (İş Bankası, maximum): approved as a single payment; installments refused (code 8)",
    },
    TestCard {
        number: "4111111111111111",
        behaviour: Behaviour::Approve,
        require_cvv: false,
        what: "foreign card: approved, stored with an empty c_bank",
    },
];

/// Facts the BIN table knows about a card's first six digits.
pub struct BinInfo {
    pub bank: &'static str,
    /// The installment family; empty: none.
    pub brand: &'static str,
    pub card_type: &'static str,
    pub business: bool,
    pub bank_code: &'static str,
}

const BINS: &[(&str, BinInfo)] = &[
    (
        "435508",
        BinInfo {
            bank: "Akbank",
            brand: "axess",
            card_type: "credit",
            business: false,
            bank_code: "0046",
        },
    ),
    (
        "540667",
        BinInfo {
            bank: "Yapı Kredi",
            brand: "world",
            card_type: "credit",
            business: false,
            bank_code: "0067",
        },
    ),
    (
        "979203",
        BinInfo {
            bank: "Garanti BBVA",
            brand: "bonus",
            card_type: "debit",
            business: false,
            bank_code: "0062",
        },
    ),
    (
        "552608",
        BinInfo {
            bank: "Türkiye İş Bankası",
            brand: "maximum",
            card_type: "credit",
            business: true,
            bank_code: "0064",
        },
    ),
];

/// Domestic bank facts, or `None` for an unknown or foreign BIN (PayTR sends an empty c_bank).
pub fn bin_info(number: &str) -> Option<&'static BinInfo> {
    BINS.iter()
        .find(|(bin, _)| number.starts_with(bin))
        .map(|(_, info)| info)
}

/// What a number does: its test-card behaviour, or approval for any other valid number.
pub fn lookup(number: &str) -> (Behaviour, bool) {
    TEST_CARDS
        .iter()
        .find(|c| c.number == number)
        .map_or((Behaviour::Approve, false), |c| {
            (c.behaviour, c.require_cvv)
        })
}

/// The scheme from the first digit, as CAPI LIST's `schema` and `initial`.
pub fn scheme(number: &str) -> (&'static str, &'static str) {
    match number.as_bytes().first() {
        Some(b'4') => ("VISA", "4"),
        Some(b'2') => ("MASTERCARD", "2"),
        Some(b'5') => ("MASTERCARD", "5"),
        Some(b'3') => ("AMEX", "3"),
        Some(b'9') => ("TROY", "9"),
        _ => ("OTHER", ""),
    }
}

/// Luhn checksum over the digits of `number`.
pub fn luhn_valid(number: &str) -> bool {
    if !(12..=19).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = number
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Checks `month` (1–12) and two-digit `year` against today's (year, month).
pub fn expiry_valid(
    month: &str,
    year: &str,
    today: (u32, u32),
) -> Result<(u32, u32), &'static str> {
    let month: u32 = month.trim().parse().map_err(|_| "expiry_month gecersiz")?;
    let year: u32 = year.trim().parse().map_err(|_| "expiry_year gecersiz")?;
    if !(1..=12).contains(&month) {
        return Err("expiry_month gecersiz");
    }
    let year = match year {
        0..=99 => 2000 + year,
        2000..=2099 => year,
        _ => return Err("expiry_year gecersiz"),
    };
    if (year, month) < today {
        return Err("Kartın son kullanma tarihi geçmiş");
    }
    Ok((month, year % 100))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_test_card_passes_luhn() {
        for card in TEST_CARDS {
            assert!(luhn_valid(card.number), "{}", card.number);
        }
        assert!(!luhn_valid("4355084355084359"));
        assert!(!luhn_valid("4355 0843 5508 4358"));
    }

    #[test]
    fn bins_and_schemes() {
        assert_eq!(bin_info("4355084355084358").map(|b| b.bank), Some("Akbank"));
        assert!(
            bin_info("4111111111111111").is_none(),
            "foreign card has no bank"
        );
        assert_eq!(scheme("9792030394440796"), ("TROY", "9"));
        assert_eq!(scheme("6011000000000004"), ("OTHER", ""));
    }

    #[test]
    fn expiry_rules() {
        assert_eq!(expiry_valid("12", "30", (2026, 11)), Ok((12, 30)));
        assert_eq!(expiry_valid("11", "26", (2026, 11)), Ok((11, 26)));
        assert!(expiry_valid("10", "26", (2026, 11)).is_err());
        assert!(expiry_valid("13", "30", (2026, 11)).is_err());
        assert!(expiry_valid("x", "30", (2026, 11)).is_err());
    }
}
