//! When a soft-failed renewal may be tried again.

/// Retry gaps and caps. Defaults: +1, +3, +5, +7 days (the last gap repeats), at most 8 attempts
/// within 14 days of a period's first attempt, and never more than the card schemes allow:
/// 15 attempts on one card in 30 days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    pub gaps_days: Vec<i64>,
    pub max_attempts: i32,
    pub window_days: i64,
    pub card_cap: i64,
    pub card_window_days: i64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            gaps_days: vec![1, 3, 5, 7],
            max_attempts: 8,
            window_days: 14,
            card_cap: 15,
            card_window_days: 30,
        }
    }
}

/// What to do after a soft failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    At(i64),
    /// No more tries: the subscription is past due.
    GiveUp,
}

const DAY: i64 = 86_400;

impl RetryPolicy {
    /// After attempt `attempt_no` (1-based) of a period whose first attempt was at
    /// `first_at` failed softly at `now`, with `card_attempts` made on the card in the card
    /// window.
    pub fn after_soft_failure(
        &self,
        attempt_no: i32,
        first_at: i64,
        now: i64,
        card_attempts: i64,
    ) -> Retry {
        let index = usize::try_from(attempt_no - 1)
            .unwrap_or_default()
            .min(self.gaps_days.len().saturating_sub(1));
        let gap = self.gaps_days.get(index).copied().unwrap_or(1) * DAY;
        let at = now + gap;
        if attempt_no >= self.max_attempts
            || at > first_at + self.window_days * DAY
            || card_attempts >= self.card_cap
        {
            Retry::GiveUp
        } else {
            Retry::At(at)
        }
    }

    /// Whether one more attempt on a card that has had `card_attempts` in the window is allowed.
    pub fn card_allows(&self, card_attempts: i64) -> bool {
        card_attempts < self.card_cap
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_grow_then_repeat_within_fourteen_days() {
        let p = RetryPolicy::default();
        let start = 1_000_000;
        assert_eq!(
            p.after_soft_failure(1, start, start, 1),
            Retry::At(start + DAY)
        );
        assert_eq!(
            p.after_soft_failure(2, start, start + DAY, 2),
            Retry::At(start + 4 * DAY)
        );
        assert_eq!(
            p.after_soft_failure(3, start, start + 4 * DAY, 3),
            Retry::At(start + 9 * DAY)
        );
        assert_eq!(
            p.after_soft_failure(4, start, start + 9 * DAY, 4),
            Retry::GiveUp,
            "+7 days would pass day 14"
        );
        let tight = RetryPolicy {
            gaps_days: vec![1],
            ..RetryPolicy::default()
        };
        assert_eq!(
            tight.after_soft_failure(7, start, start + 7 * DAY, 7),
            Retry::At(start + 8 * DAY)
        );
        assert_eq!(
            tight.after_soft_failure(8, start, start + 8 * DAY, 8),
            Retry::GiveUp,
            "at most 8 attempts"
        );
    }

    #[test]
    fn the_card_scheme_cap_stops_retries() {
        let p = RetryPolicy {
            gaps_days: vec![1],
            ..RetryPolicy::default()
        };
        assert_eq!(p.after_soft_failure(1, 0, 0, 15), Retry::GiveUp);
        assert!(p.card_allows(14) && !p.card_allows(15));
    }
}
