//! Saved cards: the shopper's list from CAPI LIST (briefly cached), how each card is shown,
//! and the rule that a card named by a browser must be in the shopper's own current list.

use crate::paytr::{PaytrClient, PaytrError, StoredCard, Token};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most shoppers whose card lists are cached at once.
const MAX_CACHED_SHOPPERS: usize = 10_000;

/// A short per-shopper cache of CAPI LIST answers, so repeated checkout views don't call PayTR
/// each time. Each list is kept under the shopper's `users.cards_version` it was fetched for:
/// saving or deleting a card bumps that version in the database, so on every instance the
/// next page (which reads the shopper's row anyway) finds its copy stale at once.
pub struct CardCache {
    ttl: Duration,
    entries: Mutex<HashMap<i64, Entry>>,
    /// Utokens opened from their sealed form, by that form. Opening one (an XChaCha20-Poly1305
    /// decryption) was 2% of every payment page; a sealed text opens to the same utoken for as
    /// long as this process's data key is the one it was sealed with, so what is kept is never
    /// stale, on any instance. Held as the card lists' ctokens are: in memory only, never logged.
    opened: Mutex<HashMap<String, Token>>,
}

/// A list's views, shared by the pages that show them.
pub type SharedViews = std::sync::Arc<[CardView]>;

/// A shopper's cached list.
struct Entry {
    fetched_at: Instant,
    /// The shopper's `cards_version` the list was fetched under.
    version: i64,
    cards: Vec<StoredCard>,
    /// The list's views for a page, as of a (year, month) (they say which cards expired).
    views: Option<((u32, u32), SharedViews)>,
}

impl Entry {
    fn fresh(&self, version: i64, ttl: Duration) -> bool {
        self.version == version && self.fetched_at.elapsed() < ttl
    }
}

impl CardCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
            opened: Mutex::new(HashMap::new()),
        }
    }

    /// The utoken `sealed` opens to (by `open`, once per sealed text), or `None`.
    pub fn utoken(&self, sealed: &str, open: impl FnOnce(&str) -> Option<String>) -> Option<Token> {
        let lock = || self.opened.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(token) = lock().get(sealed) {
            return Some(token.clone());
        }
        let token = Token::new(open(sealed)?);
        let mut opened = lock();
        // Bounded: it starts over when full (only a memo).
        if opened.len() >= MAX_CACHED_SHOPPERS {
            opened.clear();
        }
        opened.insert(sealed.to_owned(), token.clone());
        Some(token)
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The list fetched for `version` of the shopper's cards, if still fresh.
    pub fn get(&self, user_id: i64, version: i64) -> Option<Vec<StoredCard>> {
        let entries = self.entries();
        let entry = entries.get(&user_id)?;
        entry.fresh(version, self.ttl).then(|| entry.cards.clone())
    }

    /// [`views`] of the list fetched for `version`, if still fresh, as of `today` (year,
    /// month). They are kept with the list: a payment page shows them on every view, and
    /// building them (a SHA-256 per card for its reference) was 4% of the page, and copying
    /// them (six strings a card) 18 of the page's 230 allocations: they are shared.
    pub fn views(&self, user_id: i64, version: i64, today: (u32, u32)) -> Option<SharedViews> {
        let mut entries = self.entries();
        let entry = entries.get_mut(&user_id)?;
        if !entry.fresh(version, self.ttl) {
            return None;
        }
        match &entry.views {
            Some((of, views)) if *of == today => Some(views.clone()),
            _ => {
                let built: SharedViews = views(&entry.cards, today).into();
                entry.views = Some((today, built.clone()));
                Some(built)
            }
        }
    }

    fn put(&self, user_id: i64, version: i64, cards: Vec<StoredCard>) {
        let mut entries = self.entries();
        // Bounded: stale entries go first; if all are fresh, the cache starts over (it is
        // only a cache).
        if entries.len() >= MAX_CACHED_SHOPPERS {
            entries.retain(|_, e| e.fetched_at.elapsed() < self.ttl);
            if entries.len() >= MAX_CACHED_SHOPPERS {
                entries.clear();
            }
        }
        let entry = Entry {
            fetched_at: Instant::now(),
            version,
            cards,
            views: None,
        };
        entries.insert(user_id, entry);
    }

    pub fn invalidate(&self, user_id: i64) {
        self.entries().remove(&user_id);
    }
}

/// The shopper's saved cards: from the cache (for `version`, the shopper's `cards_version`),
/// or CAPI LIST with its short timeout; `None`: always asked, and not kept.
pub async fn saved_cards(
    client: &PaytrClient,
    cache: &CardCache,
    user_id: i64,
    version: Option<i64>,
    utoken: Option<&Token>,
) -> Result<Vec<StoredCard>, PaytrError> {
    let Some(utoken) = utoken else {
        return Ok(Vec::new());
    };
    if let Some(cards) = version.and_then(|v| cache.get(user_id, v)) {
        return Ok(cards);
    }
    let cards = client.list_cards(utoken).await?;
    if let Some(version) = version {
        cache.put(user_id, version, cards.clone());
    }
    Ok(cards)
}

/// Marks the shopper's card list changed (a card saved or deleted), for every instance.
pub fn bump_version(
    conn: &mut crate::db::DbConnection,
    user_id: i64,
) -> Result<(), crate::db::DbError> {
    use crate::db::schema::users;
    use diesel::prelude::*;
    diesel::update(users::table.find(user_id))
        .set(users::cards_version.eq(users::cards_version + 1))
        .execute(conn)?;
    Ok(())
}

/// How a page refers to a card: a short hash of its ctoken, so ctokens stay out of our pages
/// and URLs. Only a card in the shopper's own list can be found by it.
pub fn card_ref(card: &StoredCard) -> String {
    card.ctoken.hint()
}

/// The card `reference` names in `cards`, if any.
pub fn find<'a>(cards: &'a [StoredCard], reference: &str) -> Option<&'a StoredCard> {
    cards
        .iter()
        .find(|c| !reference.is_empty() && card_ref(c) == reference)
}

/// A card as pages show it.
#[derive(Debug, Clone)]
pub struct CardView {
    pub reference: String,
    pub scheme: String,
    pub last_4: String,
    pub expiry: String,
    pub bank: String,
    pub debit: bool,
    pub business: bool,
    pub expired: bool,
    pub expires_soon: bool,
    pub require_cvv: bool,
    /// Same last 4, expiry, scheme and bank as an earlier card in the list.
    pub duplicate: bool,
    /// The installment family CAPI LIST names (`c_brand`, lower case; empty: none).
    pub family: String,
}

fn expiry(card: &StoredCard) -> Option<(u32, u32)> {
    let month: u32 = card
        .month
        .trim()
        .parse()
        .ok()
        .filter(|m| (1..=12).contains(m))?;
    let year: u32 = card.year.trim().parse().ok()?;
    Some((if year < 100 { 2000 + year } else { year }, month))
}

/// Views of `cards`, with expiry badges relative to `today` (year, month).
pub fn views(cards: &[StoredCard], today: (u32, u32)) -> Vec<CardView> {
    let next_month = if today.1 == 12 {
        (today.0 + 1, 1)
    } else {
        (today.0, today.1 + 1)
    };
    cards
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let exp = expiry(c);
            let same = |o: &StoredCard| {
                o.last_4 == c.last_4
                    && o.month == c.month
                    && o.year == c.year
                    && o.schema == c.schema
                    && o.bank == c.bank
            };
            CardView {
                reference: card_ref(c),
                scheme: match c.schema.as_str() {
                    "" | "OTHER" => "Kart".to_owned(),
                    s => s.to_owned(),
                },
                last_4: c.last_4.clone(),
                expiry: format!("{}/{}", c.month, c.year),
                bank: c.bank.clone(),
                debit: c.card_type == "debit",
                business: c.business_card,
                expired: exp.is_some_and(|e| e < today),
                expires_soon: exp.is_some_and(|e| e >= today && e <= next_month),
                require_cvv: c.require_cvv,
                duplicate: cards[..i].iter().any(same),
                family: c.brand.trim().to_ascii_lowercase(),
            }
        })
        .collect()
}

/// Whether the card `reference` pays for one of the shopper's live subscriptions: such a card
/// is not deleted from under it (the shopper changes the subscription's card or cancels first).
pub fn backs_a_subscription(
    conn: &mut crate::db::DbConnection,
    sealer: &crate::seal::Sealer,
    user_id: i64,
    reference: &str,
) -> Result<bool, crate::db::DbError> {
    let subs = crate::db::subscriptions::Subscription::list_for_user(conn, user_id)?;
    Ok(subs
        .iter()
        .filter(|s| s.status.is_live())
        .filter_map(|s| s.ctoken_sealed.as_deref().and_then(|c| sealer.open(c)))
        .any(|ctoken| Token::new(ctoken).hint() == reference))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(ctoken: &str, last_4: &str, month: &str, year: &str) -> StoredCard {
        StoredCard {
            ctoken: Token::new(ctoken),
            last_4: last_4.into(),
            require_cvv: false,
            month: month.into(),
            year: year.into(),
            bank: "Akbank".into(),
            holder_name: String::new(),
            brand: "axess".into(),
            card_type: "credit".into(),
            business_card: false,
            initial: "4".into(),
            schema: "VISA".into(),
        }
    }

    #[test]
    fn badges_and_duplicates() {
        let cards = [
            card("a", "4358", "12", "30"),
            card("b", "4358", "12", "30"),
            card("c", "1111", "10", "26"),
            card("d", "2222", "12", "26"),
        ];
        let v = views(&cards, (2026, 11));
        assert!(
            !v[0].duplicate && v[1].duplicate,
            "the second copy is marked"
        );
        assert!(v[2].expired && !v[2].expires_soon);
        assert!(v[3].expires_soon && !v[3].expired);
        assert!(!v[0].expired && !v[0].expires_soon);
        assert!(!v[0].expiry.is_empty() && v[0].reference != v[1].reference);
    }

    #[test]
    fn a_sealed_utoken_is_opened_once_and_a_refused_one_is_never_kept() {
        let cache = CardCache::new(Duration::from_secs(60));
        let opened = std::cell::Cell::new(0);
        let open = |sealed: &str| {
            opened.set(opened.get() + 1);
            sealed.strip_prefix("v1.").map(|s| format!("UT{s}"))
        };
        let first = cache.utoken("v1.aaaa", open).expect("opens");
        assert_eq!(first.expose(), "UTaaaa");
        assert_eq!(cache.utoken("v1.aaaa", open), Some(first));
        assert_eq!(opened.get(), 1, "the second time from memory");
        assert_eq!(
            cache.utoken("v1.bbbb", open).expect("opens").expose(),
            "UTbbbb"
        );
        assert_eq!(opened.get(), 2, "another sealed text is opened");
        // One that does not open (another key, tampered with) is tried each time, never kept.
        assert_eq!(cache.utoken("garbage", open), None);
        assert_eq!(cache.utoken("garbage", open), None);
        assert_eq!(opened.get(), 4);
    }

    #[test]
    fn cached_views_follow_the_month_and_the_version() {
        let cache = CardCache::new(Duration::from_secs(60));
        let cards = vec![card("a", "4358", "12", "26"), card("b", "1111", "11", "26")];
        cache.put(7, 3, cards.clone());
        let november = cache.views(7, 3, (2026, 11)).expect("fresh");
        assert_eq!(november.len(), 2);
        assert!(!november[1].expired && november[0].expires_soon);
        // Kept: the same views again.
        let again = cache.views(7, 3, (2026, 11)).expect("fresh");
        assert_eq!(again[0].reference, november[0].reference);
        // A new month builds them again (the November card has expired).
        let december = cache.views(7, 3, (2026, 12)).expect("fresh");
        assert!(december[1].expired && !december[0].expired);
        assert_eq!(
            december.iter().map(|v| &v.reference).collect::<Vec<_>>(),
            views(&cards, (2026, 12))
                .iter()
                .map(|v| &v.reference)
                .collect::<Vec<_>>()
        );
        // Another version (a card saved or deleted anywhere) or another shopper: nothing.
        assert!(cache.views(7, 4, (2026, 12)).is_none());
        assert!(cache.views(8, 3, (2026, 12)).is_none());
        cache.invalidate(7);
        assert!(cache.views(7, 3, (2026, 12)).is_none());
    }

    #[test]
    fn a_card_is_found_only_by_its_own_reference() {
        let cards = [card("CT-A", "4358", "12", "30")];
        assert!(find(&cards, &card_ref(&cards[0])).is_some());
        assert!(
            find(&cards, "CT-A").is_none(),
            "the raw ctoken is not a reference"
        );
        assert!(find(&cards, "").is_none());
        assert!(find(&cards, &Token::new("CT-B").hint()).is_none());
    }
}
