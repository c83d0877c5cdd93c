//! Free text: the one way a person's words enter a validated value.
//!
//! Every free-text field of every input (names, titles, addresses, notes, descriptions, comments,
//! reasons) becomes a [`Line`] (one line) or a [`Text`] (may span lines) while it is validated, and the
//! validated drafts hold those types, not `String`. Their only constructors check, in this order:
//!
//! - trimmed of surrounding whitespace (a [`Text`]'s line breaks become `\n`);
//! - required fields are not empty;
//! - at most `MAX` characters (the limit is part of the type: `Line<200>`);
//! - no control characters: a [`Line`] holds none at all, a [`Text`] only line breaks and tabs; neither
//!   holds line/paragraph separators or bidirectional overrides, which would make the audit log read
//!   differently from what is stored;
//! - no 個人番号 or 住民票コード ([`crate::pii`]).
//!
//! Each refusal names the field by its form label. `domain::input_walk` (a test) feeds every input type
//! a 個人番号, a 住民票コード, a control character and an over-long text in each of its text fields and
//! checks that each is refused with the field named, so a new field cannot skip the guard.

use crate::error::FieldError;
use crate::pii;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::ops::Deref;

/// Text on one line: no line breaks, tabs or other control characters, at most `MAX` characters, no
/// personal identifier. Built only by [`Line::new`] / [`Line::required`] (or deserialising, which
/// validates the same way).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Line<const MAX: usize>(String);

/// Text that may span lines (line breaks as `\n`, tabs allowed), at most `MAX` characters, no other
/// control characters, no personal identifier. Built only by [`Text::new`] / [`Text::required`] (or
/// deserialising, which validates the same way).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Text<const MAX: usize>(String);

/// Whether `c` may never appear in stored text: C0/C1 controls (line breaks and tabs are judged by the
/// caller), the line and paragraph separators, and the bidirectional embeddings, overrides and isolates.
fn forbidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The shared check; `multi_line` allows `\n` and `\t`. Returns the normalised text.
fn check(
    field: &str,
    label: &str,
    raw: &str,
    required: bool,
    max: usize,
    multi_line: bool,
) -> Result<String, FieldError> {
    let text = if multi_line {
        raw.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        raw.to_string()
    };
    let text = text.trim();
    let fail = |message: String| Err(FieldError::new(field, message));
    if text.is_empty() {
        return if required {
            fail(format!("{label}を入力してください。"))
        } else {
            Ok(String::new())
        };
    }
    if text.chars().count() > max {
        return fail(format!("{label}は{max}文字以内で入力してください。"));
    }
    if multi_line {
        if text.chars().any(|c| forbidden(c) && c != '\n' && c != '\t') {
            return fail(format!("{label}に使用できない制御文字が含まれています。"));
        }
    } else if text.chars().any(forbidden) {
        return fail(format!(
            "{label}は1行で入力してください（改行・タブなどの制御文字は使えません）。"
        ));
    }
    if let Err(e) = pii::guard_free_text("", text) {
        return fail(format!("{label}: {}", e.message()));
    }
    Ok(text.to_string())
}

macro_rules! free_text_type {
    ($name:ident, $multi:expr) => {
        impl<const MAX: usize> $name<MAX> {
            /// The most characters the text may have.
            pub const MAX: usize = MAX;

            /// Validates optional text (empty is fine). `field` is the form's field name, `label` its
            /// Japanese label, used in the message.
            pub fn new(field: &str, label: &str, raw: &str) -> Result<Self, FieldError> {
                check(field, label, raw, false, MAX, $multi).map($name)
            }

            /// Validates text that must not be empty.
            pub fn required(field: &str, label: &str, raw: &str) -> Result<Self, FieldError> {
                check(field, label, raw, true, MAX, $multi).map($name)
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The text, owned.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl<const MAX: usize> Deref for $name<MAX> {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl<const MAX: usize> AsRef<str> for $name<MAX> {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl<const MAX: usize> fmt::Display for $name<MAX> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<const MAX: usize> PartialEq<str> for $name<MAX> {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl<const MAX: usize> PartialEq<&str> for $name<MAX> {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl<const MAX: usize> From<$name<MAX>> for String {
            fn from(t: $name<MAX>) -> String {
                t.0
            }
        }

        impl<const MAX: usize> Serialize for $name<MAX> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de, const MAX: usize> Deserialize<'de> for $name<MAX> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                $name::new("text", "テキスト", &raw)
                    .map_err(|e| serde::de::Error::custom(e.message))
            }
        }
    };
}

free_text_type!(Line, false);
free_text_type!(Text, true);

/// [`Line::new`] / [`Line::required`] for validators that collect every problem: the refusal goes to
/// `errors` and an empty line stands in.
pub(crate) fn line<const MAX: usize>(
    errors: &mut Vec<FieldError>,
    field: &str,
    label: &str,
    raw: &str,
    required: bool,
) -> Line<MAX> {
    let checked = if required {
        Line::required(field, label, raw)
    } else {
        Line::new(field, label, raw)
    };
    checked.unwrap_or_else(|e| {
        errors.push(e);
        Line::default()
    })
}

/// [`Text::new`] / [`Text::required`] for validators that collect every problem.
pub(crate) fn text<const MAX: usize>(
    errors: &mut Vec<FieldError>,
    field: &str,
    label: &str,
    raw: &str,
    required: bool,
) -> Text<MAX> {
    let checked = if required {
        Text::required(field, label, raw)
    } else {
        Text::new(field, label, raw)
    };
    checked.unwrap_or_else(|e| {
        errors.push(e);
        Text::default()
    })
}

/// Refuses a personal identifier in a value whose own syntax is checked elsewhere (a host name, a code):
/// a 12-digit host name is still a 個人番号.
pub(crate) fn guard(errors: &mut Vec<FieldError>, field: &str, label: &str, value: &str) {
    if let Err(e) = pii::guard_free_text("", value) {
        errors.push(FieldError::new(field, format!("{label}: {}", e.message())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 個人番号 with a valid check digit (see `pii.rs`).
    const MY_NUMBER: &str = "123456789018";

    #[test]
    fn a_line_is_trimmed_and_checked() {
        let l = Line::<10>::new("name", "名称", "  県庁 ").expect("valid");
        assert_eq!(l.as_str(), "県庁");
        assert_eq!(
            Line::<10>::new("name", "名称", "   ")
                .expect("empty")
                .as_str(),
            ""
        );
        let e = Line::<10>::required("name", "名称", " ").unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("name", "名称を入力してください。")
        );
        let e = Line::<3>::new("name", "名称", "あいうえ").unwrap_err();
        assert_eq!(e.message, "名称は3文字以内で入力してください。");
        for bad in ["a\nb", "a\tb", "a\u{7}b", "a\u{202E}b", "a\u{2028}b"] {
            let e = Line::<10>::new("name", "名称", bad).unwrap_err();
            assert!(e.message.starts_with("名称は1行で"), "{bad:?}: {e:?}");
        }
        let e = Line::<100>::new("name", "名称", &format!("利用者 {MY_NUMBER}")).unwrap_err();
        assert!(e.message.starts_with("名称: 個人番号と思われる"), "{e:?}");
        let e = Line::<100>::new("name", "名称", "住民票 12345678903").unwrap_err();
        assert!(e.message.contains("住民票コード"), "{e:?}");
    }

    #[test]
    fn a_text_keeps_lines_and_tabs() {
        let t = Text::<100>::new("note", "備考", "一行目\r\n\t二行目\r三行目\n").expect("valid");
        assert_eq!(t.as_str(), "一行目\n\t二行目\n三行目");
        let e = Text::<100>::new("note", "備考", "a\u{0}b").unwrap_err();
        assert_eq!(e.message, "備考に使用できない制御文字が含まれています。");
        let e = Text::<100>::new("note", "備考", &format!("1行目\n{MY_NUMBER}")).unwrap_err();
        assert!(e.message.contains("個人番号"));
    }

    #[test]
    fn deserialising_validates() {
        let ok: Line<10> = serde_json::from_str("\" 県庁 \"").expect("valid");
        assert_eq!(ok, "県庁");
        assert!(serde_json::from_str::<Line<10>>(&format!("\"{MY_NUMBER}\"")).is_err());
        assert!(serde_json::from_str::<Line<10>>("\"a\\nb\"").is_err());
        assert_eq!(serde_json::to_string(&ok).expect("json"), "\"県庁\"");
    }
}
