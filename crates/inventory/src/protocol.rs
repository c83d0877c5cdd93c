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
//! # The GLPI Agent (1.x, the FusionInventory agent's maintained successor)
//!
//! Read in its public source (`lib/GLPI/Agent.pm`, `HTTP/Client/OCS.pm`, `HTTP/Client/GLPI.pm`,
//! `Protocol/*.pm`) and checked against recorded exchanges of version 1.12 (`tests/samples/
//! glpi-agent-exchanges/`):
//!
//! - It starts as above with the XML PROLOG, but adds a `GLPI-Agent-ID` header (a UUID). A server that
//!   answers it with a JSON protocol message — `{"status": "ok", "expiration": 24}` — is taken for a GLPI
//!   server: the agent runs its inventory and POSTs it as JSON (`{"action": "inventory", "deviceid": …,
//!   "itemtype": "Computer", "content": {…}}`, possibly `"partial": true`), answered
//!   `{"status": "ok", "expiration": 24}`. On later runs it starts with a JSON `contact` (device id,
//!   installed and enabled tasks), answered with status, `expiration` (hours), `tasks.inventory` and the
//!   tasks to leave `disabled`. A `status: error` answer is logged with its `message`.
//! - It decodes an answer by its `Content-Type`: zlib only under `application/x-compress-zlib`, gzip
//!   only under `application/x-compress-gzip`, JSON under `application/json`. Zlib under
//!   `application/x-compress` is "can't uncompress content". Hence [`ReplyEncoding::for_request`].
//!
//! The server side therefore: decode with [`decode_agent_request`]; answer a PROLOG with
//! [`encode_prolog_reply`] (RESPONSE=SEND, PROLOG_FREQ=24) and an INVENTORY with
//! [`encode_inventory_reply`], both zlib. [`encode_reply`] can mirror the request's
//! [`BodyEncoding`] (an agent without Compress::Zlib could not inflate a zlib reply).
//! [`encode_prolog_request`], [`encode_inventory_request`] and [`decode_server_reply`] do the agent's
//! side the same way, for tests.

use crate::assemble::{check_len, clean};
use crate::error::{ParseError, cut, line_of};
use crate::fusion::parse_request;
use crate::glpi::{Capped, Text, json_depth_exceeds, map_json_error, parse_json_unscanned};
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
    let (plain, enc, first) = open_body(content_type, body)?;
    match first {
        b'<' => Ok((decode_xml(&plain)?, enc)),
        _ => Err(ParseError::NotAnAgentXmlRequest),
    }
}

/// Decodes a body POSTed by either agent: the FusionInventory/OCS XML messages (PROLOG, INVENTORY) or
/// the GLPI Agent's JSON messages (`contact`, `inventory`), zlib, gzip or plain (recognised from the
/// bytes; `content_type` only tells a compressed claim from a plain one), within the size limits.
pub fn decode_request(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(AgentRequest, BodyEncoding), ParseError> {
    let (plain, enc, first) = open_body(content_type, body)?;
    let request = match first {
        b'<' => AgentRequest::Xml(decode_xml(&plain)?),
        _ => AgentRequest::Json(decode_glpi_message(&plain)?),
    };
    Ok((request, enc))
}

/// Undoes the body's compression and finds its first significant byte: `<` (XML) or `{`/`[` (JSON).
fn open_body<'a>(
    content_type: Option<&str>,
    body: &'a [u8],
) -> Result<(std::borrow::Cow<'a, [u8]>, BodyEncoding, u8), ParseError> {
    let claims_compressed =
        content_type.is_some_and(|ct| ct.to_ascii_lowercase().contains("compress"));
    let (plain, enc) = decode_body(body)?;
    let first = plain
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace() && !matches!(b, 0xef | 0xbb | 0xbf));
    match first {
        Some(b @ (b'<' | b'{' | b'[')) => Ok((plain, enc, b)),
        Some(_) if claims_compressed => Err(ParseError::Decompress(
            "Content-Typeは圧縮データを示していますが、zlib/gzipのデータではありません".into(),
        )),
        Some(_) => Err(ParseError::UnknownFormat),
        None => Err(ParseError::Empty),
    }
}

fn decode_xml(plain: &[u8]) -> Result<AgentMessage, ParseError> {
    let req = parse_request(plain)?;
    let query = req.query.ok_or(ParseError::MissingQuery)?;
    Ok(match query.to_ascii_uppercase().as_str() {
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
    })
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

/// Encodes a reply the way the request's `Content-Type` asks (see [`ReplyEncoding`]).
pub fn encode_reply_as(reply: &ServerReply, encoding: ReplyEncoding) -> EncodedReply {
    encoding.encode(reply.to_xml().as_bytes(), CONTENT_TYPE_XML)
}

/// How a reply goes on the wire, decided by the request's `Content-Type`.
///
/// The GLPI Agent decodes an answer by its `Content-Type` (`HTTP/Client/GLPI.pm` `_uncompress`):
/// zlib only under `application/x-compress-zlib`, gzip only under `application/x-compress-gzip`,
/// and it logs "can't uncompress content" for zlib sent as `application/x-compress`. So each request is
/// answered in its own encoding and under its own type. The FusionInventory agent reads the bytes and
/// ignores the type, so the same rule serves it; a request typed `application/x-compress` (older OCS
/// agents) or untyped is answered compressed like its body under `application/x-compress`, as OCS
/// servers do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyEncoding {
    /// zlib under `application/x-compress-zlib`.
    Zlib,
    /// gzip under `application/x-compress-gzip`.
    Gzip,
    /// Compressed like the request body, under `application/x-compress`.
    Ocs(BodyEncoding),
    /// Not compressed, under `application/xml` or `application/json` (whichever the document is).
    Plain,
}

impl ReplyEncoding {
    /// The encoding that answers a request of `content_type` whose body was `body` (as decoded).
    pub fn for_request(content_type: Option<&str>, body: BodyEncoding) -> Self {
        let mime = content_type.map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
        match mime.as_deref() {
            Some(CONTENT_TYPE_ZLIB) => ReplyEncoding::Zlib,
            Some(CONTENT_TYPE_GZIP) => ReplyEncoding::Gzip,
            Some(CONTENT_TYPE_XML | CONTENT_TYPE_JSON | "text/xml" | "text/plain") => {
                ReplyEncoding::Plain
            }
            _ => match body {
                BodyEncoding::Plain => ReplyEncoding::Plain,
                compressed => ReplyEncoding::Ocs(compressed),
            },
        }
    }

    /// Encodes `document`, whose own type (sent when not compressed) is `plain_type`.
    pub fn encode(self, document: &[u8], plain_type: &'static str) -> EncodedReply {
        let (content_type, enc) = match self {
            ReplyEncoding::Zlib => (CONTENT_TYPE_ZLIB, BodyEncoding::Zlib),
            ReplyEncoding::Gzip => (CONTENT_TYPE_GZIP, BodyEncoding::Gzip),
            ReplyEncoding::Ocs(BodyEncoding::Plain) | ReplyEncoding::Plain => {
                (plain_type, BodyEncoding::Plain)
            }
            ReplyEncoding::Ocs(enc) => (CONTENT_TYPE_OCS_REPLY, enc),
        };
        EncodedReply {
            content_type,
            body: compress(document, enc),
        }
    }
}

// ------------------------------------------------------------------------------ GLPI Agent protocol

/// `Content-Type` of an uncompressed GLPI Agent JSON message.
pub const CONTENT_TYPE_JSON: &str = "application/json";

/// The GLPI version unyo announces for the inventory task in a `contact` answer: the GLPI Agent keeps it
/// as the server's task support and compares it for some features, so unyo gives the GLPI 10 version
/// whose answers the recorded agent exchanges were accepted with.
pub const GLPI_SERVER_VERSION: &str = "10.0.18";

/// The tasks unyo runs for GLPI Agents: inventory only. Every other task the agent has is answered as
/// `disabled`.
pub const GLPI_TASKS_RUN: &[&str] = &["inventory"];

/// Most task names read from one `contact` message.
const MAX_TASKS: usize = 64;

/// What a GLPI Agent says in its `contact` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlpiContact {
    /// `deviceid`.
    pub device_id: String,
    /// `name` (`GLPI-Agent`).
    pub agent_name: Option<String>,
    /// `version` (`1.12`).
    pub agent_version: Option<String>,
    /// `installed-tasks`, lower case.
    pub installed_tasks: Vec<String>,
    /// `enabled-tasks`, lower case.
    pub enabled_tasks: Vec<String>,
}

/// A GLPI Agent JSON message.
// One value per HTTP request, moved once into the handler (as [`AgentMessage`]).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlpiMessage {
    /// `"action": "contact"`: the agent asks what to do.
    Contact(GlpiContact),
    /// `"action": "inventory"`: an inventory (`partial` when only some sections were sent).
    Inventory(InventorySnapshot),
}

impl GlpiMessage {
    /// The agent's `deviceid`.
    pub fn device_id(&self) -> Option<&str> {
        match self {
            GlpiMessage::Contact(c) => Some(&c.device_id),
            GlpiMessage::Inventory(s) => s.device_id.as_deref(),
        }
    }
}

/// A decoded request of either agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentRequest {
    /// FusionInventory / OCS XML (also the GLPI Agent's first PROLOG).
    Xml(AgentMessage),
    /// GLPI Agent JSON.
    Json(GlpiMessage),
}

impl AgentRequest {
    /// The agent's device id.
    pub fn device_id(&self) -> Option<&str> {
        match self {
            AgentRequest::Xml(m) => m.device_id(),
            AgentRequest::Json(m) => m.device_id(),
        }
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct GlpiHead {
    action: Text,
    deviceid: Text,
    name: Text,
    version: Text,
    content: Option<serde::de::IgnoredAny>,
    #[serde(rename = "installed-tasks")]
    installed_tasks: Option<Capped<Text, MAX_TASKS>>,
    #[serde(rename = "enabled-tasks")]
    enabled_tasks: Option<Capped<Text, MAX_TASKS>>,
}

fn kept_text(field: &'static str, t: &Text) -> Result<Option<String>, ParseError> {
    if let Some(v) = t.get() {
        check_len(|| field.to_string(), v)?;
    }
    Ok(clean(t.get()))
}

fn task_names(list: Option<Capped<Text, MAX_TASKS>>) -> Result<Vec<String>, ParseError> {
    let mut out = Vec::new();
    for t in list.map(|c| c.0).unwrap_or_default() {
        if let Some(name) = kept_text("enabled-tasks[]", &t)? {
            let name = name.to_lowercase();
            if !out.contains(&name) {
                out.push(name);
            }
        }
    }
    Ok(out)
}

/// Decodes a GLPI Agent JSON message (plain bytes): `contact` or `inventory` (a message without
/// `action` but with `content` is an inventory, as GLPI reads it). Other actions are
/// [`ParseError::UnsupportedAction`].
pub fn decode_glpi_message(plain: &[u8]) -> Result<GlpiMessage, ParseError> {
    if plain.len() > crate::limits::MAX_BYTES {
        return Err(ParseError::TooLarge);
    }
    let bytes = plain.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(plain);
    let text = std::str::from_utf8(bytes).map_err(|e| ParseError::InvalidUtf8 {
        line: line_of(bytes, e.valid_up_to()),
    })?;
    if json_depth_exceeds(bytes, crate::limits::MAX_DEPTH) {
        return Err(ParseError::TooDeep {
            limit: crate::limits::MAX_DEPTH,
        });
    }
    let head: GlpiHead = serde_json::from_str(text).map_err(|e| map_json_error(&e))?;
    let action = match head.action.get().map(|a| a.trim().to_ascii_lowercase()) {
        Some(a) => a,
        None if head.content.is_some() => "inventory".into(),
        None => return Err(ParseError::MissingAction),
    };
    let device_id = kept_text("deviceid", &head.deviceid)?;
    match action.as_str() {
        "contact" => Ok(GlpiMessage::Contact(GlpiContact {
            device_id: device_id.ok_or(ParseError::MissingDeviceId)?,
            agent_name: kept_text("name", &head.name)?,
            agent_version: kept_text("version", &head.version)?,
            installed_tasks: task_names(head.installed_tasks)?,
            enabled_tasks: task_names(head.enabled_tasks)?,
        })),
        "inventory" => {
            if device_id.is_none() {
                return Err(ParseError::MissingDeviceId);
            }
            Ok(GlpiMessage::Inventory(parse_json_unscanned(text)?))
        }
        other => Err(ParseError::UnsupportedAction(cut(other))),
    }
}

/// What unyo answers a GLPI Agent, in the GLPI Agent protocol (JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlpiReply {
    /// `{"status": "ok", "expiration": H}`: the answer to the XML PROLOG of an agent that announced the
    /// GLPI protocol (it switches to JSON and runs its inventory), and to an accepted inventory.
    Ok {
        /// Hours until the next contact.
        expiration_hours: u32,
    },
    /// The answer to `contact`: status, expiration, the inventory task handled here, the other tasks
    /// `disabled`.
    Contact {
        /// Hours until the next contact.
        expiration_hours: u32,
        /// Tasks the agent has that unyo does not run.
        disabled: Vec<String>,
    },
    /// `{"status": "error", "message": …}`: a refused message; the agent logs the message.
    Error {
        /// Japanese, then English.
        message: String,
    },
}

impl GlpiReply {
    /// The answer to a `contact`: inventory runs here; every other task the agent named is disabled.
    pub fn contact(c: &GlpiContact) -> Self {
        let mut disabled: Vec<String> = c
            .installed_tasks
            .iter()
            .chain(&c.enabled_tasks)
            .filter(|t| !GLPI_TASKS_RUN.contains(&t.as_str()))
            .cloned()
            .collect();
        disabled.sort();
        disabled.dedup();
        GlpiReply::Contact {
            expiration_hours: DEFAULT_PROLOG_FREQ_HOURS,
            disabled,
        }
    }

    /// Accepted (also the answer to a GLPI Agent's PROLOG).
    pub fn ok() -> Self {
        GlpiReply::Ok {
            expiration_hours: DEFAULT_PROLOG_FREQ_HOURS,
        }
    }

    /// A refused message, with the reason in Japanese and in English.
    pub fn refused(e: &ParseError) -> Self {
        GlpiReply::Error {
            message: format!(
                "unyoは送信データを受け付けませんでした: {e} / unyo refused the data: {}",
                e.english()
            ),
        }
    }

    /// The JSON document.
    pub fn to_json(&self) -> String {
        let v = match self {
            GlpiReply::Ok { expiration_hours } => {
                serde_json::json!({"status": "ok", "expiration": expiration_hours})
            }
            GlpiReply::Contact {
                expiration_hours,
                disabled,
            } => {
                let mut v = serde_json::json!({
                    "status": "ok",
                    "expiration": expiration_hours,
                    "tasks": {"inventory": {"server": "glpi", "version": GLPI_SERVER_VERSION}},
                });
                if !disabled.is_empty() {
                    v["disabled"] = serde_json::json!(disabled);
                }
                v
            }
            GlpiReply::Error { message } => {
                serde_json::json!({"status": "error", "message": message})
            }
        };
        v.to_string()
    }
}

/// Encodes a GLPI Agent reply the way the request's `Content-Type` asks.
pub fn encode_glpi_reply(reply: &GlpiReply, encoding: ReplyEncoding) -> EncodedReply {
    encoding.encode(reply.to_json().as_bytes(), CONTENT_TYPE_JSON)
}

/// Which agent software sent a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentKind {
    /// `fusioninventory-agent` (User-Agent `FusionInventory-Agent_v2.6-3`).
    FusionInventory,
    /// The GLPI Agent (User-Agent `GLPI-Agent_v1.12`).
    Glpi,
    /// Something else (an OCS agent, a script).
    Other,
}

impl AgentKind {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            AgentKind::FusionInventory => "fusioninventory",
            AgentKind::Glpi => "glpi",
            AgentKind::Other => "other",
        }
    }
}

/// The agent's kind and version from its `User-Agent` (`GLPI-Agent_v1.12-dev`); the version is cut to
/// 64 printable characters.
pub fn agent_software(user_agent: Option<&str>) -> (AgentKind, Option<String>) {
    let Some(ua) = user_agent.map(str::trim).filter(|u| !u.is_empty()) else {
        return (AgentKind::Other, None);
    };
    let (name, version) = match ua.split_once("_v") {
        Some((n, v)) => (n, Some(v)),
        None => (ua, None),
    };
    let kind = match name.to_ascii_lowercase().as_str() {
        "fusioninventory-agent" => AgentKind::FusionInventory,
        "glpi-agent" => AgentKind::Glpi,
        _ => AgentKind::Other,
    };
    let version = version
        .map(|v| {
            v.chars()
                .filter(|c| c.is_ascii_graphic())
                .take(64)
                .collect::<String>()
        })
        .filter(|v| !v.is_empty());
    (kind, version)
}

/// Agent side, for tests: a GLPI Agent JSON message compressed and typed as the agent sends it.
pub fn encode_glpi_request(json: &[u8], encoding: BodyEncoding) -> (&'static str, Vec<u8>) {
    let content_type = match encoding {
        BodyEncoding::Zlib => CONTENT_TYPE_ZLIB,
        BodyEncoding::Gzip => CONTENT_TYPE_GZIP,
        BodyEncoding::Plain => CONTENT_TYPE_JSON,
    };
    (content_type, compress(json, encoding))
}

/// Agent side, for tests: reads a JSON answer the way the GLPI Agent does (`HTTP/Client/GLPI.pm`):
/// under an `application/x-…` type the body is decoded by that type (zlib, gzip or `json`, anything
/// else is refused), otherwise taken as it is; it must then be a JSON object with a `status`.
pub fn decode_glpi_reply(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<serde_json::Value, ParseError> {
    let ty = content_type
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let text: Vec<u8> = if let Some(sub) = ty.strip_prefix("application/x-") {
        let (plain, enc) = decode_body(body)?;
        match (sub, enc) {
            ("compress-zlib", BodyEncoding::Zlib) | ("compress-gzip", BodyEncoding::Gzip) => {
                plain.into_owned()
            }
            _ => {
                return Err(ParseError::InvalidReply(format!(
                    "Content-Type {ty} では展開できません"
                )));
            }
        }
    } else {
        body.to_vec()
    };
    let v: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| ParseError::InvalidReply(cut(&e.to_string())))?;
    if !v.get("status").is_some_and(|s| s.is_string()) {
        return Err(ParseError::InvalidReply("statusがありません".into()));
    }
    Ok(v)
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
