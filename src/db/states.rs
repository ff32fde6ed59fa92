//! The states of orders, payment attempts, subscriptions and renewal charges, as enums. The
//! database keeps each as text (the same on SQLite and PostgreSQL); this file is the only place
//! that spells those texts, and the questions the code asks of a state are methods here.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

/// Text-backed enums: `code()` is the stored text; `parse` reads it back.
pub trait StoredText: Sized + Copy + 'static {
    const ALL: &'static [Self];
    fn code(self) -> &'static str;
    fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.code() == text)
    }
}

/// Diesel's `Text` mapping for a [`StoredText`] enum, on any backend (and so through
/// `MultiConnection`).
macro_rules! stored_as_text {
    ($($ty:ty),+) => {$(
        impl $ty {
            /// The text the database keeps.
            pub fn code(self) -> &'static str {
                <Self as StoredText>::code(self)
            }
        }

        impl<DB: Backend> ToSql<Text, DB> for $ty
        where
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.code().to_sql(out)
            }
        }

        impl<DB: Backend> FromSql<Text, DB> for $ty
        where
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let text = String::from_sql(bytes)?;
                <$ty as StoredText>::parse(&text)
                    .ok_or_else(|| format!("unknown {} {text:?}", stringify!($ty)).into())
            }
        }
    )+};
}

/// An order: `pending → paid | failed`; a failed one reopens for a new attempt; paid is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum OrderStatus {
    Pending,
    Paid,
    Failed,
}

impl StoredText for OrderStatus {
    const ALL: &'static [Self] = &[Self::Pending, Self::Paid, Self::Failed];
    fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Failed => "failed",
        }
    }
}

impl OrderStatus {
    /// The key of its words on pages.
    pub fn page_key(self) -> &'static str {
        match self {
            Self::Pending => "status_pending",
            Self::Paid => "status_paid",
            Self::Failed => "status_failed",
        }
    }
}

/// One attempt to pay an order (its own merchant_oid): `pending → paid | failed`, once. The
/// same three states as an order's, so the same type.
pub type AttemptStatus = OrderStatus;

/// A subscription's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum SubscriptionStatus {
    /// The first period is not paid yet.
    PendingPayment,
    /// A period is paid, but no card can be charged unattended for the next one.
    NeedsCard,
    Active,
    /// A renewal failed for good: the current period is unpaid.
    PastDue,
    Cancelled,
}

impl StoredText for SubscriptionStatus {
    const ALL: &'static [Self] = &[
        Self::PendingPayment,
        Self::NeedsCard,
        Self::Active,
        Self::PastDue,
        Self::Cancelled,
    ];
    fn code(self) -> &'static str {
        match self {
            Self::PendingPayment => "pending_payment",
            Self::NeedsCard => "needs_card",
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Cancelled => "cancelled",
        }
    }
}

impl SubscriptionStatus {
    /// Not cancelled: it has (or will have) renewals.
    pub fn is_live(self) -> bool {
        self != Self::Cancelled
    }

    /// A period has been paid and renewals can be put on a card the shopper chooses.
    pub fn takes_a_card(self) -> bool {
        matches!(self, Self::Active | Self::NeedsCard | Self::PastDue)
    }

    /// The key of its words on pages.
    pub fn page_key(self) -> &'static str {
        match self {
            Self::PendingPayment => "sub_pending_payment",
            Self::NeedsCard => "sub_needs_card",
            Self::Active => "sub_active",
            Self::PastDue => "sub_past_due",
            Self::Cancelled => "sub_cancelled",
        }
    }
}

/// Why a subscription needs the shopper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum SubscriptionReason {
    CardNeedsCvv,
    CardNotSaved,
    NoCard,
    CardExpired,
    CardDeclined,
    RetriesExhausted,
    NoBillingDetails,
    /// The card the first payment saved could not be told apart: the shopper picks one.
    ChooseCard,
}

impl StoredText for SubscriptionReason {
    const ALL: &'static [Self] = &[
        Self::CardNeedsCvv,
        Self::CardNotSaved,
        Self::NoCard,
        Self::CardExpired,
        Self::CardDeclined,
        Self::RetriesExhausted,
        Self::NoBillingDetails,
        Self::ChooseCard,
    ];
    fn code(self) -> &'static str {
        match self {
            Self::CardNeedsCvv => "card_needs_cvv",
            Self::CardNotSaved => "card_not_saved",
            Self::NoCard => "no_card",
            Self::CardExpired => "card_expired",
            Self::CardDeclined => "card_declined",
            Self::RetriesExhausted => "retries_exhausted",
            Self::NoBillingDetails => "no_billing_details",
            Self::ChooseCard => "choose_card",
        }
    }
}

impl SubscriptionReason {
    /// The key of its words on pages.
    pub fn page_key(self) -> String {
        format!("reason_{}", self.code())
    }
}

/// A renewal charge attempt: `planned → submitted → succeeded | pending | failed_soft |
/// failed_hard | unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum ChargeStatus {
    /// Row committed, nothing sent yet.
    Planned,
    /// Committed before the call to PayTR: it may have reached PayTR.
    Submitted,
    /// PayTR said `wait_callback`: the notification settles it.
    Pending,
    Succeeded,
    /// Failed, may be retried on the policy's schedule.
    FailedSoft,
    /// Failed for good on this card.
    FailedHard,
    /// No readable answer: never sent again; the notification settles it.
    Unknown,
}

impl StoredText for ChargeStatus {
    const ALL: &'static [Self] = &[
        Self::Planned,
        Self::Submitted,
        Self::Pending,
        Self::Succeeded,
        Self::FailedSoft,
        Self::FailedHard,
        Self::Unknown,
    ];
    fn code(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Submitted => "submitted",
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::FailedSoft => "failed_soft",
            Self::FailedHard => "failed_hard",
            Self::Unknown => "unknown",
        }
    }
}

impl ChargeStatus {
    /// Sent, or maybe sent, and not settled: never send this period again blindly.
    pub const IN_FLIGHT: [Self; 4] = [Self::Planned, Self::Submitted, Self::Pending, Self::Unknown];

    /// What a success (answer or notification) may settle.
    pub const SETTLEABLE: [Self; 4] = [
        Self::Submitted,
        Self::Pending,
        Self::Unknown,
        Self::FailedSoft,
    ];

    pub fn is_in_flight(self) -> bool {
        Self::IN_FLIGHT.contains(&self)
    }

    /// The key of its words on pages.
    pub fn page_key(self) -> String {
        format!("charge_{}", self.code())
    }
}

/// A refund: `requested → submitted → succeeded | failed | unknown`; `unknown` is settled by a
/// status inquiry (PayTR lists the refund's reference_no in `returns`, or not), never re-sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum RefundStatus {
    /// Row committed and the amount reserved; nothing sent yet.
    Requested,
    /// Committed before the call to PayTR: it may have reached PayTR.
    Submitted,
    Succeeded,
    /// PayTR refused it (or it was never sent): the amount is free again.
    Failed,
    /// No readable answer: the reconciler asks PayTR.
    Unknown,
}

impl StoredText for RefundStatus {
    const ALL: &'static [Self] = &[
        Self::Requested,
        Self::Submitted,
        Self::Succeeded,
        Self::Failed,
        Self::Unknown,
    ];
    fn code(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Submitted => "submitted",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
        }
    }
}

impl RefundStatus {
    /// Not settled yet: its amount stays reserved.
    pub const OPEN: [Self; 3] = [Self::Requested, Self::Submitted, Self::Unknown];

    /// The key of its words on pages.
    pub fn page_key(self) -> String {
        format!("refund_{}", self.code())
    }
}

stored_as_text!(
    OrderStatus,
    SubscriptionStatus,
    SubscriptionReason,
    ChargeStatus,
    RefundStatus
);

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T: StoredText + PartialEq + std::fmt::Debug>() {
        for state in T::ALL {
            assert_eq!(T::parse(state.code()), Some(*state));
        }
        assert_eq!(T::parse("nonsense"), None);
    }

    #[test]
    fn every_state_reads_back_from_its_text() {
        round_trips::<OrderStatus>();
        round_trips::<SubscriptionStatus>();
        round_trips::<SubscriptionReason>();
        round_trips::<ChargeStatus>();
    }
}
