//! PayTR's answers, read leniently: PayTR's own pages disagree on shapes and key names
//! (see PROTOCOL.md in this crate), so every known variant is accepted and anything else is a
//! clear error, never a panic.

use super::Token;
use serde_json::{Map, Value};

/// An answer that could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("PayTR answered with something that is not JSON")]
    NotJson,
    #[error("PayTR answered JSON of an unexpected shape")]
    UnexpectedShape,
}

fn parse_json(body: &str) -> Result<Option<Value>, AnswerError> {
    let body = body.trim();
    if body.is_empty() {
        return Ok(None);
    }
    serde_json::from_str(body)
        .map(Some)
        .map_err(|_| AnswerError::NotJson)
}

/// The body as a JSON object, or why it is not one.
pub(crate) fn object(body: &str) -> Result<Map<String, Value>, AnswerError> {
    match parse_json(body)? {
        Some(Value::Object(obj)) => Ok(obj),
        _ => Err(AnswerError::UnexpectedShape),
    }
}

/// A field as text, whether PayTR sent it as a string, a number or a boolean.
pub(crate) fn text(obj: &Map<String, Value>, key: &str) -> String {
    match obj.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

pub(crate) fn truthy(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|n| n != 0.0),
        Some(Value::String(s)) => matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "true" | "1" | "yes" | "y"
        ),
        _ => false,
    }
}

/// The human message of an answer, under whichever key PayTR used.
pub(crate) fn message(obj: &Map<String, Value>) -> String {
    ["msg", "reason", "err_msg"]
        .iter()
        .map(|k| text(obj, k))
        .find(|m| !m.trim().is_empty())
        .unwrap_or_default()
}

/// One card from CAPI LIST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCard {
    pub ctoken: Token,
    pub last_4: String,
    pub require_cvv: bool,
    pub month: String,
    pub year: String,
    pub bank: String,
    pub holder_name: String,
    pub brand: String,
    /// `credit` or `debit`.
    pub card_type: String,
    pub business_card: bool,
    pub initial: String,
    /// `VISA`, `MASTERCARD`, `AMEX`, `TROY`, … or `OTHER`.
    pub schema: String,
}

impl StoredCard {
    fn from_json(obj: &Map<String, Value>) -> Self {
        Self {
            ctoken: Token::new(text(obj, "ctoken")),
            last_4: text(obj, "last_4"),
            require_cvv: truthy(obj.get("require_cvv")),
            month: text(obj, "month"),
            year: text(obj, "year"),
            bank: text(obj, "c_bank"),
            holder_name: text(obj, "c_name"),
            brand: text(obj, "c_brand"),
            card_type: text(obj, "c_type"),
            business_card: truthy(obj.get("businessCard")),
            initial: text(obj, "initial"),
            schema: text(obj, "schema"),
        }
    }
}

/// CAPI LIST: the cards, or PayTR's refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardListAnswer {
    Cards(Vec<StoredCard>),
    Error(String),
}

impl CardListAnswer {
    /// Reads an array of cards, `[]`, `{}`, an empty body (all "no cards"), the same list as
    /// an object keyed by position (`{"0":{…},"1":{…}}`, as PHP encodes a list with gaps), a
    /// single card object, or `{"status":"error","err_msg":…}`.
    pub fn parse(body: &str) -> Result<Self, AnswerError> {
        let cards = |items: Vec<&Value>| {
            items
                .into_iter()
                .map(|item| {
                    item.as_object()
                        .map(StoredCard::from_json)
                        .ok_or(AnswerError::UnexpectedShape)
                })
                .collect::<Result<_, _>>()
                .map(Self::Cards)
        };
        match parse_json(body)? {
            None => Ok(Self::Cards(Vec::new())),
            Some(Value::Array(items)) => cards(items.iter().collect()),
            Some(Value::Object(obj)) if obj.is_empty() => Ok(Self::Cards(Vec::new())),
            Some(Value::Object(obj)) if obj.contains_key("ctoken") => {
                Ok(Self::Cards(vec![StoredCard::from_json(&obj)]))
            }
            Some(Value::Object(obj)) if obj.values().all(|v| v.get("ctoken").is_some()) => {
                cards(obj.values().collect())
            }
            Some(Value::Object(obj)) if obj.contains_key("status") => {
                let msg = message(&obj);
                Ok(Self::Error(if msg.is_empty() {
                    "unknown error".into()
                } else {
                    msg
                }))
            }
            Some(_) => Err(AnswerError::UnexpectedShape),
        }
    }
}

/// CAPI DELETE: done, or PayTR's refusal (e.g. "Kart yok veya daha önce silinmiş").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteAnswer {
    Deleted,
    Error(String),
}

impl DeleteAnswer {
    pub fn parse(body: &str) -> Result<Self, AnswerError> {
        let obj = object(body)?;
        match text(&obj, "status").as_str() {
            "success" => Ok(Self::Deleted),
            "" => Err(AnswerError::UnexpectedShape),
            _ => Ok(Self::Error(message(&obj))),
        }
    }
}

/// The JSON answer of a `sync_mode` payment or a recurring charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeAnswer {
    /// Charged ("Ödeme Başarılı."); the notification confirms it.
    Success {
        msg: String,
        utoken: Option<Token>,
        ctoken: Option<Token>,
    },
    /// Being checked ("Ödeme Kontrol Ediliyor, Bildirimi Bekleyin."): wait for the notification.
    WaitCallback {
        msg: String,
        utoken: Option<Token>,
        ctoken: Option<Token>,
    },
    /// Not charged. `try_again` says whether a later attempt (with a new merchant_oid) may
    /// work; `None` when PayTR's answer did not say (its documentation shows it on recurring
    /// answers only, and not always).
    Failed {
        msg: String,
        try_again: Option<bool>,
    },
}

impl ChargeAnswer {
    /// Any `status` other than `success` or `wait_callback` (including `error`) is a failure.
    pub fn parse(body: &str) -> Result<Self, AnswerError> {
        let obj = object(body)?;
        let msg = message(&obj);
        let token = |key| {
            Some(text(&obj, key))
                .filter(|t| !t.is_empty())
                .map(Token::new)
        };
        Ok(match text(&obj, "status").as_str() {
            "success" => Self::Success {
                msg,
                utoken: token("utoken"),
                ctoken: token("ctoken"),
            },
            "wait_callback" => Self::WaitCallback {
                msg,
                utoken: token("utoken"),
                ctoken: token("ctoken"),
            },
            "" => return Err(AnswerError::UnexpectedShape),
            _ => Self::Failed {
                msg,
                try_again: obj.get("try_again").map(|v| truthy(Some(v))),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_lists_in_every_documented_shape() {
        let card = r#"{"ctoken":"C1","last_4":"4358","require_cvv":"0","month":"12","year":"30"}"#;
        let count = |body: &str| match CardListAnswer::parse(body) {
            Ok(CardListAnswer::Cards(cards)) => Some(cards.len()),
            _ => None,
        };
        assert_eq!(count(&format!("[{card}]")), Some(1));
        assert_eq!(count(&format!(r#"{{"0":{card},"2":{card}}}"#)), Some(2));
        assert_eq!(count(card), Some(1));
        assert_eq!(count("{}"), Some(0));
        assert_eq!(count(""), Some(0));
        assert_eq!(count(r#"{"status":"error","err_msg":"x"}"#), None);
        assert_eq!(count(r#"{"weird":1}"#), None);
    }

    #[test]
    fn card_list_reads_every_known_shape() {
        let cards = CardListAnswer::parse(
            r#"[{"ctoken":"CT1","last_4":"4358","require_cvv":"1","month":"12","year":"30",
                "c_bank":"Yapı Kredi","c_name":"AYSE","c_brand":"world","c_type":"credit",
                "businessCard":"n","initial":"4","schema":"VISA"}]"#,
        );
        let Ok(CardListAnswer::Cards(cards)) = cards else {
            panic!("cards expected: {cards:?}")
        };
        assert_eq!(cards.len(), 1);
        assert_eq!(cards[0].ctoken.expose(), "CT1");
        assert!(cards[0].require_cvv && !cards[0].business_card);
        assert_eq!(
            (cards[0].bank.as_str(), cards[0].schema.as_str()),
            ("Yapı Kredi", "VISA")
        );
        for empty in ["", "  ", "[]", "{}"] {
            assert_eq!(
                CardListAnswer::parse(empty),
                Ok(CardListAnswer::Cards(vec![])),
                "{empty:?}"
            );
        }
        assert_eq!(
            CardListAnswer::parse(r#"{"status":"error","err_msg":"Bağlantı hatası oluştu"}"#),
            Ok(CardListAnswer::Error("Bağlantı hatası oluştu".into()))
        );
        assert_eq!(
            CardListAnswer::parse("<html>502</html>"),
            Err(AnswerError::NotJson)
        );
        assert_eq!(
            CardListAnswer::parse("42"),
            Err(AnswerError::UnexpectedShape)
        );
    }

    #[test]
    fn charge_answer_reads_msg_reason_or_err_msg_and_try_again_variants() {
        let failed = |body| ChargeAnswer::parse(body);
        assert_eq!(
            failed(r#"{"status":"failed","reason":"r","try_again":true}"#),
            Ok(ChargeAnswer::Failed {
                msg: "r".into(),
                try_again: Some(true)
            })
        );
        for body in [
            r#"{"status":"failed","msg":"m","try_again":"true"}"#,
            r#"{"status":"failed","msg":"m","try_again":"1"}"#,
            r#"{"status":"failed","msg":"m","try_again":1}"#,
        ] {
            assert_eq!(
                failed(body),
                Ok(ChargeAnswer::Failed {
                    msg: "m".into(),
                    try_again: Some(true)
                }),
                "{body}"
            );
        }
        assert_eq!(
            failed(r#"{"status":"error","err_msg":"e"}"#),
            Ok(ChargeAnswer::Failed {
                msg: "e".into(),
                try_again: None
            })
        );
        assert!(matches!(
            failed(r#"{"status":"wait_callback","msg":"w"}"#),
            Ok(ChargeAnswer::WaitCallback { .. })
        ));
        let Ok(ChargeAnswer::Success { utoken, ctoken, .. }) =
            failed(r#"{"status":"success","msg":"Ödeme Başarılı.","utoken":"U","ctoken":"C"}"#)
        else {
            panic!("success expected")
        };
        assert_eq!(utoken.map(|t| t.expose().to_owned()).as_deref(), Some("U"));
        assert_eq!(ctoken.map(|t| t.expose().to_owned()).as_deref(), Some("C"));
        assert_eq!(failed("Internal Server Error"), Err(AnswerError::NotJson));
        assert_eq!(
            failed(r#"{"msg":"no status"}"#),
            Err(AnswerError::UnexpectedShape)
        );
    }

    #[test]
    fn delete_answer_shapes() {
        assert_eq!(
            DeleteAnswer::parse(r#"{"status":"success"}"#),
            Ok(DeleteAnswer::Deleted)
        );
        assert_eq!(
            DeleteAnswer::parse(
                r#"{"status":"error","err_msg":"Kart yok veya daha önce silinmiş"}"#
            ),
            Ok(DeleteAnswer::Error(
                "Kart yok veya daha önce silinmiş".into()
            ))
        );
        assert_eq!(DeleteAnswer::parse(""), Err(AnswerError::UnexpectedShape));
        assert_eq!(DeleteAnswer::parse("<html>"), Err(AnswerError::NotJson));
    }
}
