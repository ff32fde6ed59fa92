//! Log output: human-readable lines on standard error, in which no value can forge a line.
//!
//! Every field value is written with its control characters escaped (`\n`, `\u{1b}`, …), so
//! text from outside (a posted `merchant_oid`, an e-mail) can neither start a new line nor
//! send terminal escapes. Handlers also log such values as Debug fields (`?value`), quoted, so
//! they can't pass for other fields either.

use std::borrow::Cow;
use std::fmt::Write as _;
use tracing_subscriber::field::MakeExt;

/// `text` with every control character escaped; unchanged (and not copied) when it has none.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Installs the global subscriber: `LOG` as the filter (default `info`); `LOG_FORMAT=json`
/// writes one JSON object per line (with the request's span fields, e.g. `request_id`), for
/// log shippers; JSON escapes control characters itself.
pub fn init() {
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_env("LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
    };
    if std::env::var("LOG_FORMAT").is_ok_and(|f| f.trim().eq_ignore_ascii_case("json")) {
        tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .init();
        return;
    }
    let fields = tracing_subscriber::fmt::format::debug_fn(|writer, field, value| {
        let text = format!("{value:?}");
        if field.name() == "message" {
            write!(writer, "{}", escape_controls(&text))
        } else {
            write!(writer, "{}={}", field, escape_controls(&text))
        }
    })
    .delimited(" ");
    tracing_subscriber::fmt()
        .fmt_fields(fields)
        .with_env_filter(filter())
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_controls("PC123"), "PC123");
        let forged = "x\n2026-11-26 INFO notification applied outcome=paid\u{1b}[2J";
        let shown = escape_controls(forged);
        assert!(
            !shown.contains('\n') && !shown.contains('\u{1b}'),
            "{shown}"
        );
        assert!(
            shown.contains("\\n") && shown.contains("\\u{1b}"),
            "{shown}"
        );
    }
}
