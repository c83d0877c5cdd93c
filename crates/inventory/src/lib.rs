//! unyo's inventory intake, pure (no I/O, no clock): parsers for the two open formats real endpoint
//! agents produce, and the agent protocol codec.
//!
//! - [`parse_fusion_xml`]: FusionInventory / OCS Inventory XML (`fusioninventory-inventory`, the
//!   agent's `QUERY=INVENTORY`), read with quick-xml's event reader.
//! - [`parse_glpi_json`]: GLPI-agent native JSON, read with serde_json.
//! - [`parse_any`]: either of them, recognised from the bytes, also zlib- or gzip-compressed.
//! - [`protocol`]: what `fusioninventory-agent --server …` speaks (PROLOG, then INVENTORY, zlib XML
//!   over HTTP POST): [`decode_agent_request`], [`encode_prolog_reply`], [`encode_inventory_reply`].
//!   The module documentation records what the agent's code does, with file and line references.
//!   The same module speaks the GLPI Agent's JSON protocol (`contact`, `inventory`) and answers each
//!   request in its own encoding ([`ReplyEncoding`]).
//!
//! All of them produce [`unyo_domain::inventory::InventorySnapshot`]; the change between two
//! snapshots is [`unyo_domain::inventory::diff`].
//!
//! # Hostile input
//! Every entry point takes arbitrary bytes and either returns a value or a [`ParseError`] with a
//! Japanese message; none panics (fuzzed: `fuzz/`, see `fuzz/run-briefly.sh`). Limits
//! ([`limits`]): 16 MiB per body and after decompression (a zlib bomb stops at the limit), 64 levels
//! of nesting, 4096 characters per kept value, 20,000 software / 256 antivirus / 4096 network
//! entries. XML: UTF-8 only, `<!DOCTYPE` refused (so no entity can be declared, let alone
//! expanded), only the five predefined entities and character references.

mod assemble;
pub mod error;
mod fusion;
mod glpi;
pub mod limits;
pub mod protocol;

pub use error::ParseError;
pub use fusion::parse_fusion_xml;
pub use glpi::parse_glpi_json;
pub use limits::{BodyEncoding, detect_body_encoding};
pub use protocol::{
    AgentMessage, AgentRequest, EncodedReply, GlpiMessage, GlpiReply, ReplyEncoding, ServerReply,
    decode_agent_request, decode_request, encode_inventory_reply, encode_prolog_reply,
    encode_reply,
};
pub use unyo_domain::inventory::{InventoryFormat, InventorySnapshot};

/// Parses an inventory file or body in either format: FusionInventory XML (first non-blank
/// character `<`) or GLPI-agent JSON (`{`), plain or zlib/gzip-compressed (one level; the size limit
/// applies to the decompressed data too).
pub fn parse_any(bytes: &[u8]) -> Result<InventorySnapshot, ParseError> {
    let (plain, _) = limits::decode_body(bytes)?;
    let first = plain
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace() && !matches!(b, 0xef | 0xbb | 0xbf));
    match first {
        Some(b'<') => parse_fusion_xml(&plain),
        Some(b'{') => parse_glpi_json(&plain),
        Some(0xff | 0xfe) => Err(ParseError::UnsupportedEncoding("UTF-16".into())),
        Some(_) => Err(ParseError::UnknownFormat),
        None => Err(ParseError::Empty),
    }
}
