//! Accounts and the credentials people name: a person's display name, an API token's 用途 and an
//! inventory agent's credential name, each validated into a [`Line`] (one line, a maximum length, no
//! control character, no 個人番号 or 住民票コード) with the field named as its form labels it.

use crate::error::DomainError;
use crate::text::Line;

/// A person's name as shown on pages and documents (氏名), at most 100 characters.
pub type DisplayName = Line<100>;

/// What an API token is for (用途), at most 100 characters.
pub type TokenName = Line<100>;

/// An inventory agent credential's name (名前: its use, its site), at most 100 characters.
pub type AgentName = Line<100>;

/// Validates an account's display name (氏名, required).
pub fn validate_display_name(raw: &str) -> Result<DisplayName, DomainError> {
    Line::required("display_name", "氏名", raw).map_err(|e| DomainError::Validation(vec![e]))
}

/// Validates an API token's 用途 (required).
pub fn validate_token_name(raw: &str) -> Result<TokenName, DomainError> {
    Line::required("name", "用途", raw).map_err(|e| DomainError::Validation(vec![e]))
}

/// Validates an inventory agent credential's name (名前, required).
pub fn validate_agent_name(raw: &str) -> Result<AgentName, DomainError> {
    Line::required("name", "名前", raw).map_err(|e| DomainError::Validation(vec![e]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_line_of_at_most_100_characters_without_identifiers() {
        assert_eq!(
            validate_display_name("  佐賀 花子 ").unwrap().as_str(),
            "佐賀 花子"
        );
        let message = |r: Result<Line<100>, DomainError>| match r {
            Err(DomainError::Validation(e)) => (e[0].field.clone(), e[0].message.clone()),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            message(validate_display_name(" ")),
            ("display_name".into(), "氏名を入力してください。".into())
        );
        assert_eq!(
            message(validate_token_name(&"長".repeat(101))),
            (
                "name".into(),
                "用途は100文字以内で入力してください。".into()
            )
        );
        assert!(
            message(validate_agent_name("唐津\r\nX-Injected: 1"))
                .1
                .contains("1行")
        );
        assert!(
            message(validate_token_name("監視 123456789018"))
                .1
                .contains("個人番号")
        );
    }
}
