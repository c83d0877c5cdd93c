//! The parse error, with Japanese messages for the person who uploaded the file or reads the agent log.

use crate::limits::{MAX_BYTES, MAX_FIELD_CHARS};
#[cfg(doc)]
use crate::limits::{MAX_DEPTH, MAX_JSON_DEPTH};

/// Why an inventory or an agent request was refused. Nothing was stored when this is returned.
///
/// `Display` gives a Japanese message meant for people (an upload form, the audit log). Details that
/// come from the input (a tag name, a parser's message) are cut to [`DETAIL_MAX_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Nothing to read.
    #[error("データが空です")]
    Empty,
    /// The body or the decompressed data is over [`MAX_BYTES`].
    #[error("ファイルが大きすぎます（上限{}MB）", MAX_BYTES / (1024 * 1024))]
    TooLarge,
    /// zlib / gzip data that does not decompress.
    #[error("圧縮データを展開できません: {0}")]
    Decompress(String),
    /// Neither XML nor JSON.
    #[error(
        "インベントリの形式を判別できません（FusionInventoryのXMLかGLPI-agentのJSONを受け付けます）"
    )]
    UnknownFormat,
    /// Bytes that are not UTF-8.
    #[error("UTF-8として読めないバイト列があります（{line}行目）")]
    InvalidUtf8 {
        /// 1-based line of the first bad byte.
        line: usize,
    },
    /// An XML declaration with an encoding other than UTF-8 (or a UTF-16 byte order mark).
    #[error("文字コード「{0}」のXMLには対応していません（UTF-8のみ受け付けます）")]
    UnsupportedEncoding(String),
    /// A `<!DOCTYPE …>` declaration (the door to entity expansion): refused outright.
    #[error("DOCTYPE宣言を含むXMLは受け付けません")]
    DocType,
    /// An entity reference other than the five predefined ones and character references.
    #[error("未定義の実体参照 &{name}; は受け付けません（{line}行目）")]
    UnknownEntity {
        /// The entity name as written (cut).
        name: String,
        /// 1-based line.
        line: usize,
    },
    /// XML that is not well-formed.
    #[error("インベントリのXMLが不正です（{line}行目）: {message}")]
    Xml {
        /// 1-based line.
        line: usize,
        /// What is wrong (cut).
        message: String,
    },
    /// JSON that is not well-formed or has a value of the wrong type.
    #[error("インベントリのJSONが不正です（{line}行目{column}文字目）: {message}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong (cut).
        message: String,
    },
    /// Nesting deeper than [`MAX_DEPTH`] levels (XML elements, JSON arrays/objects), or serde_json's own
    /// recursion limit [`MAX_JSON_DEPTH`] (a second line behind the pre-scan).
    /// A member whose JSON type is not the schema's (an array where an object is expected, a number
    /// where a string is).
    #[error("項目「{path}」の型がスキーマと違います（{line}行目{column}文字目）: {message}")]
    WrongType {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("入れ子が深すぎます（上限{limit}階層）")]
    TooDeep {
        /// The limit that was hit.
        limit: usize,
    },
    /// One value longer than [`MAX_FIELD_CHARS`] characters.
    #[error("項目「{field}」が長すぎます（上限{}文字）", MAX_FIELD_CHARS)]
    FieldTooLong {
        /// Where (`SOFTWARES/NAME`, `content.softwares[].name`).
        field: String,
    },
    /// More entries in a section than allowed.
    #[error("「{section}」の件数が多すぎます（上限{limit}件）")]
    TooManyEntries {
        /// The section (`SOFTWARES`).
        section: &'static str,
        /// The limit.
        limit: usize,
    },
    /// The root element is not `<REQUEST>`.
    #[error("ルート要素が「{0}」です（FusionInventoryのXMLはREQUESTで始まります）")]
    UnexpectedRoot(String),
    /// No `<CONTENT>` (XML) / `content` (JSON) section.
    #[error("インベントリ本体（CONTENT）がありません")]
    MissingContent,
    /// An agent message without `<QUERY>`.
    #[error("エージェントの要求にQUERYがありません")]
    MissingQuery,
    /// An agent PROLOG without `<DEVICEID>`.
    #[error("エージェントの要求にDEVICEIDがありません")]
    MissingDeviceId,
    /// A `<QUERY>` this server does not handle (only PROLOG and INVENTORY are).
    #[error("未対応の要求です（QUERY={0}）")]
    UnsupportedQuery(String),
    /// A JSON body sent to the OCS/FusionInventory XML endpoint.
    #[error("このエンドポイントはFusionInventory/OCS形式（XML）の要求のみ受け付けます")]
    NotAnAgentXmlRequest,
    /// A server reply the agent would not accept (used by the agent-side helpers).
    #[error("サーバーの応答が不正です: {0}")]
    InvalidReply(String),
    /// A GLPI Agent JSON message without `action`.
    #[error("エージェントの要求にactionがありません")]
    MissingAction,
    /// A GLPI Agent `action` this server does not handle (only `contact` and `inventory` are).
    #[error("未対応の要求です（action={0}）")]
    UnsupportedAction(String),
}

impl ParseError {
    /// A short English statement of the reason, for agents' logs read by people without Japanese
    /// (the GLPI Agent logs the server's message as it is); details from the input are left out.
    pub fn english(&self) -> &'static str {
        match self {
            ParseError::Empty => "the data is empty",
            ParseError::TooLarge => "the data is too large (16 MiB at most)",
            ParseError::Decompress(_) => "the compressed data cannot be decompressed",
            ParseError::UnknownFormat => "neither FusionInventory XML nor GLPI Agent JSON",
            ParseError::InvalidUtf8 { .. } => "bytes that are not UTF-8",
            ParseError::UnsupportedEncoding(_) => "only UTF-8 is accepted",
            ParseError::DocType => "XML with a DOCTYPE declaration is refused",
            ParseError::UnknownEntity { .. } => "an undefined XML entity",
            ParseError::Xml { .. } => "malformed XML",
            ParseError::Json { .. } => "malformed JSON or a value of the wrong type",
            ParseError::WrongType { .. } => "a member's type differs from the inventory schema",
            ParseError::TooDeep { .. } => "nested too deeply",
            ParseError::FieldTooLong { .. } => "a value is too long",
            ParseError::TooManyEntries { .. } => "a section has too many entries",
            ParseError::UnexpectedRoot(_) => "the XML root is not REQUEST",
            ParseError::MissingContent => "no inventory content",
            ParseError::MissingQuery => "no QUERY in the request",
            ParseError::MissingDeviceId => "no device id in the request",
            ParseError::UnsupportedQuery(_) => "a QUERY this server does not handle",
            ParseError::NotAnAgentXmlRequest => "not an agent XML request",
            ParseError::InvalidReply(_) => "an invalid server reply",
            ParseError::MissingAction => "no action in the request",
            ParseError::UnsupportedAction(_) => "an action this server does not handle",
        }
    }

    /// A stable machine code for logs, the audit trail and API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::Empty => "empty",
            ParseError::TooLarge => "too_large",
            ParseError::Decompress(_) => "decompress",
            ParseError::UnknownFormat => "unknown_format",
            ParseError::InvalidUtf8 { .. } => "invalid_utf8",
            ParseError::UnsupportedEncoding(_) => "unsupported_encoding",
            ParseError::DocType => "doctype",
            ParseError::UnknownEntity { .. } => "unknown_entity",
            ParseError::Xml { .. } => "xml",
            ParseError::Json { .. } => "json",
            ParseError::WrongType { .. } => "wrong_type",
            ParseError::TooDeep { .. } => "too_deep",
            ParseError::FieldTooLong { .. } => "field_too_long",
            ParseError::TooManyEntries { .. } => "too_many_entries",
            ParseError::UnexpectedRoot(_) => "unexpected_root",
            ParseError::MissingContent => "missing_content",
            ParseError::MissingQuery => "missing_query",
            ParseError::MissingDeviceId => "missing_device_id",
            ParseError::UnsupportedQuery(_) => "unsupported_query",
            ParseError::NotAnAgentXmlRequest => "not_agent_xml",
            ParseError::InvalidReply(_) => "invalid_reply",
            ParseError::MissingAction => "missing_action",
            ParseError::UnsupportedAction(_) => "unsupported_action",
        }
    }
}

/// Details copied from the input into a message are cut to this many characters.
pub const DETAIL_MAX_CHARS: usize = 200;

/// Cuts a detail string to [`DETAIL_MAX_CHARS`] characters (adding `…`) and drops control characters.
pub(crate) fn cut(s: &str) -> String {
    let mut out: String = s
        .chars()
        .filter(|c| !c.is_control() || *c == ' ')
        .take(DETAIL_MAX_CHARS)
        .collect();
    if s.chars().count() > DETAIL_MAX_CHARS {
        out.push('…');
    }
    out
}

/// 1-based line number of byte offset `pos` in `bytes`.
pub(crate) fn line_of(bytes: &[u8], pos: usize) -> usize {
    let end = pos.min(bytes.len());
    bytes[..end].iter().filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{MAX_DEPTH, MAX_JSON_DEPTH};

    #[test]
    fn messages_are_japanese() {
        assert_eq!(
            ParseError::TooLarge.to_string(),
            "ファイルが大きすぎます（上限16MB）"
        );
        assert_eq!(
            ParseError::DocType.to_string(),
            "DOCTYPE宣言を含むXMLは受け付けません"
        );
        assert_eq!(
            ParseError::Xml {
                line: 3,
                message: "x".into()
            }
            .to_string(),
            "インベントリのXMLが不正です（3行目）: x"
        );
        assert_eq!(
            ParseError::TooDeep { limit: MAX_DEPTH }.to_string(),
            "入れ子が深すぎます（上限64階層）"
        );
        assert_eq!(
            ParseError::FieldTooLong {
                field: "SOFTWARES/NAME".into()
            }
            .to_string(),
            "項目「SOFTWARES/NAME」が長すぎます（上限4096文字）"
        );
        assert_eq!(MAX_JSON_DEPTH, 128);
    }

    #[test]
    fn cut_limits_details() {
        let long = "あ".repeat(500);
        let c = cut(&long);
        assert_eq!(c.chars().count(), DETAIL_MAX_CHARS + 1);
        assert_eq!(cut("a\nb\u{0}c"), "abc");
        assert_eq!(line_of(b"a\nb\nc", 4), 3);
        assert_eq!(line_of(b"a", 99), 1);
    }
}
