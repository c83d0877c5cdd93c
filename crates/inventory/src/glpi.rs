//! GLPI-agent native JSON inventories (`{"deviceid": …, "action": "inventory", "content": {…}}`; the
//! schema is `inventory.schema.json` of glpi-project/inventory_format, copied in `tests/samples/`).
//!
//! Read with serde_json into typed structs that keep only what unyo uses; unknown members are skipped.
//! The members unyo reads follow the schema's types: a section the schema calls an object must be an
//! object (an array is not read by position), a string must be a string and a boolean a boolean. A
//! wrong type is refused as [`ParseError::WrongType`] naming the member's path
//! (`content.hardware`, `content.antivirus[0].enabled`). `null` counts as absent.
//!
//! Hostile input: the size is checked first; the bytes must be UTF-8; nesting deeper than
//! [`MAX_DEPTH`](crate::limits::MAX_DEPTH) is refused by a byte scan before parsing (serde_json
//! skips unknown members without its recursion limit, iteratively, so this scan is what bounds depth
//! there; serde_json's own limit of [`MAX_JSON_DEPTH`] stays as a second line and is mapped to the same
//! error); arrays are cut off while parsing once over their cap; kept values are capped in length.

use crate::assemble::{check_len, clean, push_ip, push_mac};
use crate::error::{ParseError, cut, line_of};
use crate::limits::{
    MAX_ANTIVIRUS, MAX_BYTES, MAX_DEPTH, MAX_JSON_DEPTH, MAX_NETWORKS, MAX_SOFTWARE,
};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;
use unyo_domain::inventory::{
    Antivirus, InventoryFormat, InventorySnapshot, Software, parse_collected_at,
};

/// A scalar read as text: strings as they are, numbers and booleans as written, null as nothing.
#[derive(Debug, Default)]
pub(crate) struct Text(pub(crate) Option<String>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, a number, a boolean or null")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text(Some(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(Some(if v { "1" } else { "0" }.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Text, D::Error> {
                Text::deserialize(d)
            }
        }
        d.deserialize_any(V)
    }
}

impl Text {
    pub(crate) fn get(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// Marker in a custom serde error meaning "array over its cap"; turned into
/// [`ParseError::TooManyEntries`].
const TOO_MANY: &str = "unyo-too-many-entries:";

/// An array that refuses more than `N` elements while it is being parsed (no huge allocation first).
#[derive(Debug)]
pub(crate) struct Capped<T, const N: usize>(pub(crate) Vec<T>);

impl<T, const N: usize> Default for Capped<T, N> {
    fn default() -> Self {
        Capped(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for Capped<T, N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T, const N: usize>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>, const N: usize> Visitor<'de> for V<T, N> {
            type Value = Capped<T, N>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = seq.next_element()? {
                    if v.len() >= N {
                        return Err(de::Error::custom(format!("{TOO_MANY}{N}")));
                    }
                    v.push(x);
                }
                Ok(Capped(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Capped(Vec::new()))
            }
        }
        d.deserialize_any(V::<T, N>(PhantomData))
    }
}

/// A string member (schema `"type": "string"`); `null` is absent, anything else is refused.
#[derive(Debug, Default)]
struct Str(Option<String>);

impl<'de> Deserialize<'de> for Str {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<String>::deserialize(d).map(Str)
    }
}

/// A boolean member (schema `"type": "boolean"`); `null` is absent, anything else is refused.
#[derive(Debug, Default)]
struct Bool(Option<bool>);

impl<'de> Deserialize<'de> for Bool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<bool>::deserialize(d).map(Bool)
    }
}

/// A section the schema calls an object. serde's derived structs would also take an array and fill
/// the fields by position; this refuses anything but a JSON object (or `null`, read as absent).
#[derive(Debug, Default)]
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Object)
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Doc {
    deviceid: Str,
    partial: Bool,
    content: Option<Object<Content>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Content {
    hardware: Option<Object<Hardware>>,
    bios: Option<Object<Bios>>,
    operatingsystem: Option<Object<Os>>,
    softwares: Option<Capped<Object<Soft>, MAX_SOFTWARE>>,
    antivirus: Option<Capped<Object<Av>, MAX_ANTIVIRUS>>,
    networks: Option<Capped<Object<Net>, MAX_NETWORKS>>,
    accesslog: Option<Object<AccessLog>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Hardware {
    name: Str,
    uuid: Str,
    workgroup: Str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Bios {
    ssn: Str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Os {
    name: Str,
    version: Str,
    full_name: Str,
    kernel_version: Str,
    arch: Str,
    service_pack: Str,
    dns_domain: Str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Soft {
    name: Str,
    version: Str,
    publisher: Str,
    install_date: Str,
    arch: Str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Av {
    name: Str,
    company: Str,
    version: Str,
    base_version: Str,
    base_creation: Str,
    enabled: Bool,
    uptodate: Bool,
    expiration: Str,
    guid: Str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Net {
    ipaddress: Str,
    ipaddress6: Str,
    mac: Str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AccessLog {
    logdate: Str,
}

/// Deepest `[`/`{` nesting of a JSON text (strings skipped), stopping early past `limit`.
pub(crate) fn json_depth_exceeds(bytes: &[u8], limit: usize) -> bool {
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_str {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

pub(crate) fn map_json_error(e: &serde_json::Error) -> ParseError {
    let msg = e.to_string();
    if let Some(rest) = msg.strip_prefix(TOO_MANY) {
        let limit: usize = rest
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let section = match limit {
            MAX_SOFTWARE => "softwares",
            MAX_ANTIVIRUS => "antivirus",
            _ => "networks",
        };
        return ParseError::TooManyEntries { section, limit };
    }
    if msg.starts_with("recursion limit exceeded") {
        return ParseError::TooDeep {
            limit: MAX_JSON_DEPTH,
        };
    }
    // serde_json appends " at line L column C"; the position is reported separately.
    let message = msg
        .rsplit_once(" at line ")
        .map_or(msg.as_str(), |(m, _)| m);
    ParseError::Json {
        line: e.line().max(1),
        column: e.column().max(1),
        message: cut(message),
    }
}

/// Parses with serde_json only (no depth pre-scan): serde_json's recursion limit applies.
pub(crate) fn parse_json_unscanned(text: &str) -> Result<InventorySnapshot, ParseError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let doc: Object<Doc> =
        serde_path_to_error::deserialize(&mut de).map_err(|e| map_path_error(&e))?;
    de.end().map_err(|e| map_json_error(&e))?;
    build(doc.0)
}

/// A type error becomes [`ParseError::WrongType`] with the member's path; the rest as
/// [`map_json_error`].
fn map_path_error(e: &serde_path_to_error::Error<serde_json::Error>) -> ParseError {
    let inner = e.inner();
    match map_json_error(inner) {
        ParseError::Json {
            line,
            column,
            message,
        } if inner.classify() == serde_json::error::Category::Data => ParseError::WrongType {
            path: cut(&e.path().to_string()),
            line,
            column,
            message,
        },
        other => other,
    }
}

/// Parses a GLPI-agent native JSON inventory (plain UTF-8 bytes, not compressed).
///
/// Requires an object with a `content` object. A partial inventory (`"partial": true`, e.g. software
/// only) is accepted and marked [`InventorySnapshot::partial`]. Never panics; every refusal is a
/// [`ParseError`].
pub fn parse_glpi_json(bytes: &[u8]) -> Result<InventorySnapshot, ParseError> {
    if bytes.len() > MAX_BYTES {
        return Err(ParseError::TooLarge);
    }
    let bytes = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| ParseError::InvalidUtf8 {
        line: line_of(bytes, e.valid_up_to()),
    })?;
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    if json_depth_exceeds(bytes, MAX_DEPTH) {
        return Err(ParseError::TooDeep { limit: MAX_DEPTH });
    }
    parse_json_unscanned(text)
}

fn kept(field: &'static str, t: &Str) -> Result<Option<String>, ParseError> {
    if let Some(v) = t.0.as_deref() {
        check_len(|| field.to_string(), v)?;
    }
    Ok(clean(t.0.as_deref()))
}

fn build(doc: Doc) -> Result<InventorySnapshot, ParseError> {
    let content = doc.content.ok_or(ParseError::MissingContent)?.0;
    let mut s = InventorySnapshot::empty(InventoryFormat::Glpi);
    s.device_id = kept("deviceid", &doc.deviceid)?;
    s.partial = doc.partial.0.unwrap_or(false);
    let mut dns_domain = None;
    if let Some(Object(h)) = &content.hardware {
        s.hostname = kept("content.hardware.name", &h.name)?;
        s.uuid = kept("content.hardware.uuid", &h.uuid)?;
        s.domain = kept("content.hardware.workgroup", &h.workgroup)?;
    }
    if let Some(Object(b)) = &content.bios {
        s.serial = kept("content.bios.ssn", &b.ssn)?;
    }
    if let Some(Object(o)) = &content.operatingsystem {
        s.os.name = kept("content.operatingsystem.name", &o.name)?;
        s.os.version = kept("content.operatingsystem.version", &o.version)?;
        s.os.full_name = kept("content.operatingsystem.full_name", &o.full_name)?;
        s.os.build = kept("content.operatingsystem.kernel_version", &o.kernel_version)?;
        s.os.arch = kept("content.operatingsystem.arch", &o.arch)?;
        s.os.service_pack = kept("content.operatingsystem.service_pack", &o.service_pack)?;
        dns_domain = kept("content.operatingsystem.dns_domain", &o.dns_domain)?;
    }
    if s.domain.is_none() {
        s.domain = dns_domain;
    }
    for Object(sw) in content.softwares.map(|c| c.0).unwrap_or_default() {
        let Some(name) = kept("content.softwares[].name", &sw.name)? else {
            continue;
        };
        s.software.push(Software {
            name,
            version: kept("content.softwares[].version", &sw.version)?,
            publisher: kept("content.softwares[].publisher", &sw.publisher)?,
            install_date: kept("content.softwares[].install_date", &sw.install_date)?,
            arch: kept("content.softwares[].arch", &sw.arch)?,
        });
    }
    for Object(av) in content.antivirus.map(|c| c.0).unwrap_or_default() {
        let Some(name) = kept("content.antivirus[].name", &av.name)? else {
            continue;
        };
        s.antivirus.push(Antivirus {
            name,
            company: kept("content.antivirus[].company", &av.company)?,
            version: kept("content.antivirus[].version", &av.version)?,
            base_version: kept("content.antivirus[].base_version", &av.base_version)?,
            base_date: kept("content.antivirus[].base_creation", &av.base_creation)?,
            enabled: av.enabled.0,
            up_to_date: av.uptodate.0,
            expiration: kept("content.antivirus[].expiration", &av.expiration)?,
            guid: kept("content.antivirus[].guid", &av.guid)?,
        });
    }
    for Object(n) in content.networks.map(|c| c.0).unwrap_or_default() {
        for ip in [&n.ipaddress, &n.ipaddress6] {
            if let Some(ip) = kept("content.networks[].ipaddress", ip)? {
                push_ip(&mut s.ip_addresses, &ip);
            }
        }
        if let Some(mac) = kept("content.networks[].mac", &n.mac)? {
            push_mac(&mut s.mac_addresses, &mac);
        }
    }
    if let Some(Object(a)) = &content.accesslog {
        s.collected_at = kept("content.accesslog.logdate", &a.logdate)?
            .as_deref()
            .and_then(parse_collected_at);
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_follow_the_schema() {
        let j = br#"{"deviceid":"d","partial":false,"content":{"hardware":{"name":"pc-01"},
            "antivirus":[{"name":"Windows Defender","enabled":true,"uptodate":false,"version":"4.18"}],
            "softwares":[{"name":"a","version":null},{"version":"nameless"}]}}"#;
        let s = parse_glpi_json(j).unwrap();
        assert_eq!(s.hostname.as_deref(), Some("pc-01"));
        assert_eq!(s.antivirus[0].enabled, Some(true));
        assert_eq!(s.antivirus[0].up_to_date, Some(false));
        assert_eq!(s.antivirus[0].version.as_deref(), Some("4.18"));
        assert_eq!(s.software.len(), 1);
        assert_eq!(s.software[0].version, None);
    }

    fn wrong_type(json: &str) -> (String, usize) {
        match parse_glpi_json(json.as_bytes()) {
            Err(ParseError::WrongType { path, line, .. }) => (path, line),
            other => panic!("{json}: {other:?}"),
        }
    }

    #[test]
    fn a_wrong_type_is_refused_naming_its_path() {
        // An array where the schema says object is not read by position.
        let (path, _) = wrong_type(r#"{"content":{"hardware":["host","uuid"]}}"#);
        assert_eq!(path, "content.hardware");
        assert_eq!(wrong_type(r#"["d",false,{}]"#).0, ".");
        assert_eq!(wrong_type(r#"{"content":["x"]}"#).0, "content");
        assert_eq!(
            wrong_type(r#"{"content":{"softwares":[{"name":"a"},["b"]]}}"#).0,
            "content.softwares[1]"
        );
        assert_eq!(
            wrong_type(r#"{"content":{"softwares":{"name":"a"}}}"#).0,
            "content.softwares"
        );
        // Scalars of the wrong type.
        assert_eq!(
            wrong_type(r#"{"content":{"hardware":{"name":12345}}}"#).0,
            "content.hardware.name"
        );
        let (path, line) =
            wrong_type("{\"content\":{\"antivirus\":[{\"name\":\"x\"},\n{\"enabled\":\"1\"}]}}");
        assert_eq!((path.as_str(), line), ("content.antivirus[1].enabled", 2));
        assert_eq!(wrong_type(r#"{"partial":"yes","content":{}}"#).0, "partial");
        assert_eq!(wrong_type(r#"{"deviceid":7,"content":{}}"#).0, "deviceid");
        // The message says where, in Japanese.
        let e = parse_glpi_json(br#"{"content":{"hardware":["host"]}}"#).unwrap_err();
        assert!(
            e.to_string()
                .contains("項目「content.hardware」の型がスキーマと違います"),
            "{e}"
        );
        assert_eq!(e.code(), "wrong_type");
        // Members unyo does not read may have any type.
        assert!(parse_glpi_json(br#"{"content":{"hardware":{"memory":7909},"x":[1]}}"#).is_ok());
    }

    #[test]
    fn refusals() {
        assert_eq!(
            parse_glpi_json(br#"{"deviceid":"x"}"#).unwrap_err(),
            ParseError::MissingContent
        );
        let e = parse_glpi_json(b"{\n\"content\": {\"hardware\": \"x\"}}").unwrap_err();
        assert!(matches!(e, ParseError::WrongType { line: 2, .. }), "{e:?}");
        let e = parse_glpi_json(b"{\"content\": {}").unwrap_err();
        assert!(matches!(e, ParseError::Json { .. }), "{e:?}");
        let e = parse_glpi_json(b"{\"content\":{},\"x\":\"\xff\"}").unwrap_err();
        assert_eq!(e, ParseError::InvalidUtf8 { line: 1 });
    }

    #[test]
    fn serde_json_recursion_limit_is_mapped() {
        // serde_json's own limit triggers on deep nesting it recurses into, and maps to TooDeep.
        let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
        let e = serde_json::from_str::<serde_json::Value>(&deep).unwrap_err();
        assert_eq!(
            map_json_error(&e),
            ParseError::TooDeep {
                limit: MAX_JSON_DEPTH
            }
        );
        // The typed model never recurses that far: a deep value where a scalar or a section is
        // expected is a type error at once, not a recursion.
        let typed = format!(
            "{{\"content\":{{\"softwares\":{}{}}}}}",
            "[".repeat(5000),
            "]".repeat(5000)
        );
        assert!(matches!(
            parse_json_unscanned(&typed),
            Err(ParseError::WrongType { .. })
        ));
        // The public entry point refuses it before parsing, with the same limit as XML.
        assert_eq!(
            parse_glpi_json(typed.as_bytes()).unwrap_err(),
            ParseError::TooDeep { limit: MAX_DEPTH }
        );
        // Depth in a skipped member: serde_json skips it iteratively (no limit, no recursion); the
        // pre-scan is what refuses it.
        let skipped = format!(
            "{{\"content\":{{}},\"junk\":{}{}}}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        assert!(parse_json_unscanned(&skipped).is_ok());
        assert!(matches!(
            parse_glpi_json(skipped.as_bytes()),
            Err(ParseError::TooDeep { .. })
        ));
        // Brackets inside strings do not count.
        let in_string = format!(
            "{{\"content\":{{\"hardware\":{{\"name\":\"{}\\\"[\"}}}}}}",
            "[".repeat(100)
        );
        let s = parse_glpi_json(in_string.as_bytes()).unwrap();
        assert_eq!(s.hostname.unwrap().len(), 102);
    }

    #[test]
    fn arrays_are_capped_while_parsing() {
        let mut j = String::from("{\"content\":{\"antivirus\":[");
        for i in 0..=MAX_ANTIVIRUS {
            if i > 0 {
                j.push(',');
            }
            j.push_str("{\"name\":\"x\"}");
        }
        j.push_str("]}}");
        assert_eq!(
            parse_glpi_json(j.as_bytes()).unwrap_err(),
            ParseError::TooManyEntries {
                section: "antivirus",
                limit: MAX_ANTIVIRUS
            }
        );
    }
}
