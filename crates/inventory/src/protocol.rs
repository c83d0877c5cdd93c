//! The OCS / FusionInventory agent protocol, server side: decode what `fusioninventory-agent
//! --server http://HOST:PORT/ocsinventory` POSTs, and encode the replies it accepts.
//!
//! # What the agent does (read in the Debian package `fusioninventory-agent` 1:2.6-3, under
//! `/usr/share/fusioninventory/lib/FusionInventory/`, and checked against a capture of a real run)
//!
//! 1. **Device id.** `Agent.pm` 392–400: on first run the agent makes
//!    `DEVICEID = "<hostname>-YYYY-MM-DD-hh-mm-ss"` (local time) and keeps it in its state file;
//!    every message carries it.
//! 2. **PROLOG.** `Agent.pm` 192–239 (`runTarget`): for a server target it creates an
//!    `HTTP::Client::OCS` (206) and sends `XML::Query::Prolog` (220–228). `XML/Query/Prolog.pm` 13–17
//!    sets `QUERY=PROLOG` and a fixed `TOKEN=12345678`. `XML/Query.pm` 16–28 upper-cases the keys and
//!    writes `{REQUEST => {...}}` with XML::TreePP (`indent => 2`), which sorts keys
//!    (`/usr/share/perl5/XML/TreePP.pm` 997) and writes the declaration
//!    `<?xml version="1.0" encoding="UTF-8" ?>` (TreePP.pm 517). The captured body
//!    (`tests/samples/agent-2.6-prolog.zlib`) is exactly:
//!    ```text
//!    <?xml version="1.0" encoding="UTF-8" ?>
//!    <REQUEST>
//!      <DEVICEID>vm-2026-11-27-20-08-22</DEVICEID>
//!      <QUERY>PROLOG</QUERY>
//!      <TOKEN>12345678</TOKEN>
//!    </REQUEST>
//!    ```
//!    With no usable answer the agent logs "No answer from server" and stops (229–233). Otherwise, if
//!    the reply has `PROLOG_FREQ`, the next contact is planned within `PROLOG_FREQ * 3600` seconds
//!    (237–238), then each planned task runs with the reply (242).
//! 3. **Inventory only on SEND.** `Task/Inventory.pm` 22–40 (`isEnabled`): unless the reply's
//!    `RESPONSE` is exactly `SEND`, the inventory task is skipped ("Inventory task execution not
//!    requested") unless the agent runs with `--force`. `OPTION` elements named `REGISTRY` are read
//!    as extra registry keys to collect (38); none are sent here.
//! 4. **INVENTORY.** `Task/Inventory.pm` 142–172: a new OCS client POSTs `XML::Query::Inventory`
//!    (`XML/Query/Inventory.pm` 13–16: `QUERY=INVENTORY`, `DEVICEID`, `CONTENT`); sorted keys put
//!    `<CONTENT>` first, then `<DEVICEID>`, `<QUERY>`. The whole inventory is always sent (the
//!    `HARDWARE/CHECKSUM` bit mask of changed sections, `Inventory.pm` 446–506, is informative only).
//!    The reply only has to be a successful, parseable `<REPLY>` (171: `return unless $response`);
//!    then the agent saves its last state (172). OCS servers answer `no_account_update`.
//! 5. **Transport.** `HTTP/Client/OCS.pm`:
//!    - 26–49: with Compress::Zlib (a dependency of the Debian package) the body is zlib (RFC 1950,
//!      `Compress::Zlib::compress`, 143) and the header is `Content-Type: application/x-compress-zlib`
//!      (29); without it, gzip and `application/x-compress-gzip` (37); with `--no-compression`, plain
//!      and `application/xml` (44). (Older OCS agents sent `application/x-compress`.) Line 23 adds
//!      `Pragma: no-cache`; the User-Agent is `FusionInventory-Agent_v2.6-3` (`Agent.pm` 25).
//!    - 65: the XML is UTF-8 encoded before compression.
//!    - 78–84: a non-2xx status or an empty body is a failure.
//!    - 122–138 (`_uncompress`): the **reply's Content-Type is ignored**; the body is taken as zlib if
//!      it contains the bytes `78 9C` (zlib at the default level — flate2's default level writes
//!      exactly that header), as gzip if it contains `1F 8B 08`, else as plain text if it matches
//!      `^(<html></html>|)[^<]*(<.*>)\s*$`.
//!    - 97–108: the text is parsed with XML::TreePP (`XML/Response.pm` 11–21), which dies unless the
//!      root is `<REPLY>`.
//! 6. **Authentication.** `HTTP/Client.pm` 101–132: the agent sends no credentials up front. On a
//!    `401` it reads the realm from `WWW-Authenticate: Basic realm="…"` (the regex requires that exact
//!    form), registers `--user`/`--password` for `host:port` + realm with LWP and replays the request;
//!    LWP sends once more without and then with `Authorization: Basic …`. So every POST costs up to
//!    three requests (the capture shows 401, 401, 200) and the server must answer 401 with a `Basic
//!    realm="…"` challenge — answering 403 outright would never get credentials.
//!
//! The server side therefore: decode with [`decode_agent_request`]; answer a PROLOG with
//! [`encode_prolog_reply`] (RESPONSE=SEND, PROLOG_FREQ=24) and an INVENTORY with
//! [`encode_inventory_reply`], both zlib. [`encode_reply`] can mirror the request's
//! [`BodyEncoding`] (an agent without Compress::Zlib could not inflate a zlib reply).
//! [`encode_prolog_request`], [`encode_inventory_request`] and [`decode_server_reply`] do the agent's
//! side the same way, for tests.

use crate::error::{ParseError, cut};
use crate::fusion::parse_request;
use crate::limits::{BodyEncoding, decode_body};
use flate2::Compression;
use flate2::write::{GzEncoder, ZlibEncoder};
use std::io::Write;
use unyo_domain::inventory::InventorySnapshot;

/// `Content-Type` of a zlib body as the FusionInventory agent sends it.
pub const CONTENT_TYPE_ZLIB: &str = "application/x-compress-zlib";
/// `Content-Type` of a gzip body as the FusionInventory agent sends it.
pub const CONTENT_TYPE_GZIP: &str = "application/x-compress-gzip";
/// `Content-Type` of an uncompressed body (`--no-compression`).
pub const CONTENT_TYPE_XML: &str = "application/xml";
/// `Content-Type` of compressed replies as OCS servers send them (the agent does not look at it).
pub const CONTENT_TYPE_OCS_REPLY: &str = "application/x-compress";
/// How often the agent should contact the server, in hours (`PROLOG_FREQ`).
pub const DEFAULT_PROLOG_FREQ_HOURS: u32 = 24;
/// The token the agent sends in every PROLOG (`XML/Query/Prolog.pm` 15).
pub const AGENT_PROLOG_TOKEN: &str = "12345678";

/// A decoded agent request.
// One value per HTTP request, moved once into the handler: boxing the snapshot would only add
// noise for callers.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentMessage {
    /// `QUERY=PROLOG`: the agent asks what to do.
    Prolog {
        /// The agent's `DEVICEID`.
        device_id: String,
    },
    /// `QUERY=INVENTORY`: the agent sends its inventory (`device_id` is the `DEVICEID`).
    Inventory(InventorySnapshot),
}

impl AgentMessage {
    /// The agent's `DEVICEID`, if any.
    pub fn device_id(&self) -> Option<&str> {
        match self {
            AgentMessage::Prolog { device_id } => Some(device_id),
            AgentMessage::Inventory(s) => s.device_id.as_deref(),
        }
    }
}

/// Decodes a body POSTed by the agent: zlib, gzip or plain XML (recognised from the bytes;
/// `content_type` is only a hint: agents and proxies are not consistent about it), within the size
/// limits, into a PROLOG or an INVENTORY. Other `QUERY` values are refused
/// ([`ParseError::UnsupportedQuery`]); a JSON body is [`ParseError::NotAnAgentXmlRequest`].
pub fn decode_agent_request(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<AgentMessage, ParseError> {
    decode_agent_request_with_encoding(content_type, body).map(|(m, _)| m)
}

/// [`decode_agent_request`], also telling how the body was encoded (to answer the same way).
pub fn decode_agent_request_with_encoding(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(AgentMessage, BodyEncoding), ParseError> {
    let claims_compressed =
        content_type.is_some_and(|ct| ct.to_ascii_lowercase().contains("compress"));
    let (plain, enc) = decode_body(body)?;
    let first = plain
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace() && !matches!(b, 0xef | 0xbb | 0xbf));
    match first {
        Some(b'<') => {}
        Some(b'{' | b'[') => return Err(ParseError::NotAnAgentXmlRequest),
        Some(_) if claims_compressed => {
            return Err(ParseError::Decompress(
                "Content-Typeは圧縮データを示していますが、zlib/gzipのデータではありません".into(),
            ));
        }
        Some(_) => return Err(ParseError::UnknownFormat),
        None => return Err(ParseError::Empty),
    }
    let req = parse_request(&plain)?;
    let query = req.query.ok_or(ParseError::MissingQuery)?;
    let msg = match query.to_ascii_uppercase().as_str() {
        "PROLOG" => AgentMessage::Prolog {
            device_id: req.device_id.ok_or(ParseError::MissingDeviceId)?,
        },
        "INVENTORY" => {
            if !req.has_content {
                return Err(ParseError::MissingContent);
            }
            let mut snap = req.snapshot;
            snap.device_id = Some(req.device_id.ok_or(ParseError::MissingDeviceId)?);
            AgentMessage::Inventory(snap)
        }
        _ => return Err(ParseError::UnsupportedQuery(cut(&query))),
    };
    Ok((msg, enc))
}

/// What the server tells the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerReply {
    /// Answer to PROLOG: send an inventory now, and contact again within `prolog_freq_hours`.
    Send {
        /// `PROLOG_FREQ`, in hours.
        prolog_freq_hours: u32,
    },
    /// Answer to INVENTORY: received (`no_account_update`, as OCS servers answer).
    InventoryAccepted,
}

impl ServerReply {
    /// The reply document.
    pub fn to_xml(&self) -> String {
        let body = match self {
            ServerReply::Send { prolog_freq_hours } => {
                format!("<RESPONSE>SEND</RESPONSE><PROLOG_FREQ>{prolog_freq_hours}</PROLOG_FREQ>")
            }
            ServerReply::InventoryAccepted => "<RESPONSE>no_account_update</RESPONSE>".to_string(),
        };
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<REPLY>{body}</REPLY>\n")
    }
}

/// An encoded reply: the HTTP body and its `Content-Type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedReply {
    /// `Content-Type` header value.
    pub content_type: &'static str,
    /// HTTP body.
    pub body: Vec<u8>,
}

fn compress(data: &[u8], enc: BodyEncoding) -> Vec<u8> {
    // Writing into a Vec cannot fail; an error here would be a bug in flate2, and a reply-less
    // agent just retries later, so fall back to the plain document rather than panic.
    match enc {
        BodyEncoding::Zlib => {
            let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
            z.write_all(data)
                .and_then(|_| z.finish())
                .unwrap_or_else(|_| data.to_vec())
        }
        BodyEncoding::Gzip => {
            let mut z = GzEncoder::new(Vec::new(), Compression::default());
            z.write_all(data)
                .and_then(|_| z.finish())
                .unwrap_or_else(|_| data.to_vec())
        }
        BodyEncoding::Plain => data.to_vec(),
    }
}

/// Encodes a reply in the given encoding (zlib at the default level, whose header `78 9C` is what
/// the agent looks for; gzip; or plain XML).
pub fn encode_reply(reply: &ServerReply, encoding: BodyEncoding) -> EncodedReply {
    let xml = reply.to_xml();
    let content_type = match encoding {
        BodyEncoding::Zlib | BodyEncoding::Gzip => CONTENT_TYPE_OCS_REPLY,
        BodyEncoding::Plain => CONTENT_TYPE_XML,
    };
    EncodedReply {
        content_type,
        body: compress(xml.as_bytes(), encoding),
    }
}

/// The answer to a PROLOG: zlib-compressed
/// `<REPLY><RESPONSE>SEND</RESPONSE><PROLOG_FREQ>24</PROLOG_FREQ></REPLY>`.
pub fn encode_prolog_reply() -> EncodedReply {
    encode_reply(
        &ServerReply::Send {
            prolog_freq_hours: DEFAULT_PROLOG_FREQ_HOURS,
        },
        BodyEncoding::Zlib,
    )
}

/// The answer to an INVENTORY: zlib-compressed `<REPLY><RESPONSE>no_account_update</RESPONSE></REPLY>`.
pub fn encode_inventory_reply() -> EncodedReply {
    encode_reply(&ServerReply::InventoryAccepted, BodyEncoding::Zlib)
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

fn content_type_of(enc: BodyEncoding) -> &'static str {
    match enc {
        BodyEncoding::Zlib => CONTENT_TYPE_ZLIB,
        BodyEncoding::Gzip => CONTENT_TYPE_GZIP,
        BodyEncoding::Plain => CONTENT_TYPE_XML,
    }
}

/// Agent side, for tests: the PROLOG request exactly as `fusioninventory-agent` 2.6 writes it
/// (byte for byte for the zlib case), with the `Content-Type` it sends.
pub fn encode_prolog_request(device_id: &str, encoding: BodyEncoding) -> (&'static str, Vec<u8>) {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<REQUEST>\n  <DEVICEID>{}</DEVICEID>\n  <QUERY>PROLOG</QUERY>\n  <TOKEN>{AGENT_PROLOG_TOKEN}</TOKEN>\n</REQUEST>\n",
        xml_escape(device_id)
    );
    (
        content_type_of(encoding),
        compress(xml.as_bytes(), encoding),
    )
}

/// Agent side, for tests: an INVENTORY request around `content_xml` (the inner XML of `<CONTENT>`,
/// already escaped), keys in the agent's (sorted) order.
pub fn encode_inventory_request(
    device_id: &str,
    content_xml: &str,
    encoding: BodyEncoding,
) -> (&'static str, Vec<u8>) {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<REQUEST>\n  <CONTENT>{content_xml}</CONTENT>\n  <DEVICEID>{}</DEVICEID>\n  <QUERY>INVENTORY</QUERY>\n</REQUEST>\n",
        xml_escape(device_id)
    );
    (
        content_type_of(encoding),
        compress(xml.as_bytes(), encoding),
    )
}

/// Agent side, for tests: reads a server reply the way `HTTP/Client/OCS.pm` does (the bytes decide,
/// not the Content-Type: zlib if `78 9C` occurs, gzip if `1F 8B 08` occurs, else plain text) and
/// returns what the agent would act on. Fails where the agent would log an error.
pub fn decode_server_reply(body: &[u8]) -> Result<ServerReply, ParseError> {
    let find = |pat: &[u8]| body.windows(pat.len()).position(|w| w == pat);
    let text: Vec<u8> = if let Some(i) = find(&[0x78, 0x9c]) {
        decode_body(&body[i..])?.0.into_owned()
    } else if let Some(i) = find(&[0x1f, 0x8b, 0x08]) {
        decode_body(&body[i..])?.0.into_owned()
    } else {
        body.to_vec()
    };
    let text = String::from_utf8(text)
        .map_err(|_| ParseError::InvalidReply("UTF-8ではありません".into()))?;
    let tag = |name: &str| -> Option<String> {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let start = text.find(&open)? + open.len();
        let end = start + text[start..].find(&close)?;
        Some(text[start..end].trim().to_string())
    };
    if !text.contains("<REPLY>") || !text.contains("</REPLY>") {
        return Err(ParseError::InvalidReply("REPLYがありません".into()));
    }
    match tag("RESPONSE").as_deref() {
        Some("SEND") => Ok(ServerReply::Send {
            prolog_freq_hours: tag("PROLOG_FREQ").and_then(|f| f.parse().ok()).unwrap_or(0),
        }),
        Some(_) => Ok(ServerReply::InventoryAccepted),
        None => Err(ParseError::InvalidReply("RESPONSEがありません".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_start_with_the_zlib_header_the_agent_looks_for() {
        let r = encode_prolog_reply();
        assert_eq!(&r.body[..2], &[0x78, 0x9c]);
        assert_eq!(r.content_type, CONTENT_TYPE_OCS_REPLY);
        assert_eq!(
            decode_server_reply(&r.body).unwrap(),
            ServerReply::Send {
                prolog_freq_hours: 24
            }
        );
        let r = encode_inventory_reply();
        assert_eq!(
            decode_server_reply(&r.body).unwrap(),
            ServerReply::InventoryAccepted
        );
        let plain = encode_reply(&ServerReply::InventoryAccepted, BodyEncoding::Plain);
        assert_eq!(plain.content_type, CONTENT_TYPE_XML);
        assert!(
            String::from_utf8(plain.body)
                .unwrap()
                .contains("<RESPONSE>no_account_update</RESPONSE>")
        );
    }

    #[test]
    fn other_queries_are_refused() {
        let xml = b"<REQUEST><DEVICEID>d</DEVICEID><QUERY>SNMPQUERY</QUERY></REQUEST>";
        assert_eq!(
            decode_agent_request(None, xml).unwrap_err(),
            ParseError::UnsupportedQuery("SNMPQUERY".into())
        );
        let xml = b"<REQUEST><QUERY>PROLOG</QUERY></REQUEST>";
        assert_eq!(
            decode_agent_request(None, xml).unwrap_err(),
            ParseError::MissingDeviceId
        );
        let xml = b"<REQUEST><DEVICEID>d</DEVICEID></REQUEST>";
        assert_eq!(
            decode_agent_request(None, xml).unwrap_err(),
            ParseError::MissingQuery
        );
        let xml = b"<REQUEST><DEVICEID>d</DEVICEID><QUERY>INVENTORY</QUERY></REQUEST>";
        assert_eq!(
            decode_agent_request(None, xml).unwrap_err(),
            ParseError::MissingContent
        );
        assert_eq!(
            decode_agent_request(Some("application/json"), br#"{"action":"contact"}"#).unwrap_err(),
            ParseError::NotAnAgentXmlRequest
        );
    }
}
