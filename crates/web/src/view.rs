//! The small view pieces every page shares: the id in a path, the `?ok=` notice after a redirect, a
//! select's option and a text badge. One definition each, so that every page reads its path the same way
//! and every template sees the same field names.

use crate::WebError;

/// A record id from the path; anything else (not a number, zero, negative) is "not found", never a 400 with
/// a parser message: no record has such an id, and a refusal must not tell more than a missing record.
pub fn parse_id(raw: &str) -> Result<i64, WebError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(WebError::NotFound)
}

/// `?ok=saved` (or another word) after a redirect: which notice the page shows once. Empty when absent, so a
/// page without a notice needs no `Option` handling.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct OkQuery {
    pub ok: String,
}

impl OkQuery {
    /// The word, when there is one.
    pub fn get(&self) -> Option<&str> {
        Some(self.ok.as_str()).filter(|s| !s.is_empty())
    }
}

/// One `<option>`, radio button or checkbox, as every template reads it (`value`, `label`, `selected`).
#[derive(Debug, Clone)]
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Opt {
    /// An option, selected or not.
    pub fn new(value: impl Into<String>, label: impl Into<String>, selected: bool) -> Opt {
        Opt {
            value: value.into(),
            label: label.into(),
            selected,
        }
    }

    /// An option selected when its value is `current` (the value a list or form holds now).
    pub fn matching(value: impl Into<String>, label: impl Into<String>, current: &str) -> Opt {
        let value = value.into();
        let selected = value == current;
        Opt {
            value,
            label: label.into(),
            selected,
        }
    }
}

/// A text badge: a state is never shown by colour alone, so the text always says what the class colours,
/// and pages that show an icon too put it in `icon` (empty when the page shows none).
#[derive(Debug, Clone)]
pub struct Badge {
    pub class: &'static str,
    pub icon: &'static str,
    pub text: String,
}

impl Badge {
    /// A badge without an icon.
    pub fn new(class: &'static str, text: impl Into<String>) -> Badge {
        Badge {
            class,
            icon: "",
            text: text.into(),
        }
    }
}

/// Hours as the pages write them (`1.5` for 90 minutes, `3` for 180), from a value in hours such as a
/// chart's: the same text as the tables beside the chart, which write minutes through the same function.
pub fn hours_text(hours: f64) -> String {
    unyo_domain::support::hours_label((hours * 60.0).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_positive_numbers_are_ids() {
        assert_eq!(parse_id("42").ok(), Some(42));
        for raw in ["0", "-3", "abc", "", "4.5", "99999999999999999999"] {
            assert!(matches!(parse_id(raw), Err(WebError::NotFound)), "{raw}");
        }
    }

    #[test]
    fn an_empty_ok_is_no_notice() {
        assert_eq!(OkQuery::default().get(), None);
        let q = OkQuery { ok: "saved".into() };
        assert_eq!(q.get(), Some("saved"));
    }
}
