//! FusionInventory / OCS Inventory XML (`<REQUEST><CONTENT>…</CONTENT><DEVICEID>…</DEVICEID>
//! <QUERY>INVENTORY</QUERY></REQUEST>`), read as a stream of events with quick-xml (no DOM).
//!
//! The format is flat: `REQUEST` (level 1) holds `CONTENT`, `DEVICEID`, `QUERY`, `TOKEN` (level 2);
//! `CONTENT` holds one element per entry of each section (`HARDWARE`, `SOFTWARES`, `ANTIVIRUS`, …,
//! level 3), and each entry holds plain text fields (level 4). Field names are those of
//! `FusionInventory::Agent::Inventory` (`%fields`), e.g. `ANTIVIRUS` = COMPANY ENABLED GUID NAME
//! UPTODATE VERSION EXPIRATION BASE_CREATION BASE_VERSION.
//!
//! Hostile input: the size is checked before reading; the bytes must be UTF-8 (a declaration naming
//! another encoding is refused); `<!DOCTYPE` is refused, so no entity can be declared, and a reference
//! to anything but the five predefined entities or a character reference is refused; nesting deeper
//! than [`MAX_DEPTH`] is refused (the reader is iterative, so depth never touches the stack);
//! kept values are capped at [`MAX_FIELD_CHARS`] characters and sections at a number of entries.

use crate::assemble::{check_len, clean, flag, push_ip, push_mac};
use crate::error::{ParseError, cut, line_of};
use crate::limits::{MAX_ANTIVIRUS, MAX_BYTES, MAX_DEPTH, MAX_NETWORKS, MAX_SOFTWARE};
use quick_xml::events::Event;
use quick_xml::reader::Reader;
use unyo_domain::inventory::{
    Antivirus, InventoryFormat, InventorySnapshot, Software, parse_collected_at,
};

/// The sections read; everything else is skipped without keeping anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Hardware,
    Bios,
    Os,
    Software,
    Antivirus,
    Network,
    AccessLog,
    Other,
}

impl Section {
    fn of(name: &str) -> Self {
        match name {
            "HARDWARE" => Section::Hardware,
            "BIOS" => Section::Bios,
            "OPERATINGSYSTEM" => Section::Os,
            "SOFTWARES" => Section::Software,
            "ANTIVIRUS" => Section::Antivirus,
            "NETWORKS" => Section::Network,
            "ACCESSLOG" => Section::AccessLog,
            _ => Section::Other,
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Section::Hardware => "HARDWARE",
            Section::Bios => "BIOS",
            Section::Os => "OPERATINGSYSTEM",
            Section::Software => "SOFTWARES",
            Section::Antivirus => "ANTIVIRUS",
            Section::Network => "NETWORKS",
            Section::AccessLog => "ACCESSLOG",
            Section::Other => "",
        }
    }

    /// The fields kept from this section (as `'static` names).
    fn wanted(self, field: &str) -> Option<&'static str> {
        let list: &[&'static str] = match self {
            Section::Hardware => &["NAME", "UUID", "WORKGROUP", "OSNAME", "OSVERSION"],
            Section::Bios => &["SSN"],
            Section::Os => &[
                "NAME",
                "VERSION",
                "FULL_NAME",
                "KERNEL_VERSION",
                "ARCH",
                "SERVICE_PACK",
                "DNS_DOMAIN",
            ],
            Section::Software => &["NAME", "VERSION", "PUBLISHER", "INSTALLDATE", "ARCH"],
            Section::Antivirus => &[
                "NAME",
                "COMPANY",
                "VERSION",
                "BASE_VERSION",
                "BASE_CREATION",
                "ENABLED",
                "UPTODATE",
                "EXPIRATION",
                "GUID",
            ],
            Section::Network => &["IPADDRESS", "IPADDRESS6", "MACADDR"],
            Section::AccessLog => &["LOGDATE"],
            Section::Other => &[],
        };
        list.iter().copied().find(|f| *f == field)
    }
}

/// One entry of a section: its kept fields in document order.
#[derive(Debug, Default)]
struct Record {
    fields: Vec<(&'static str, String)>,
}

impl Record {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A whole `<REQUEST>` as read: the envelope fields and the inventory built from `CONTENT`.
#[derive(Debug)]
pub(crate) struct XmlRequest {
    pub query: Option<String>,
    pub device_id: Option<String>,
    pub has_content: bool,
    pub snapshot: InventorySnapshot,
}

/// Values from `HARDWARE` and `OPERATINGSYSTEM` kept apart until the end, for the fallbacks
/// (the OS section wins; `HARDWARE/OSNAME` / `OSVERSION` fill what it lacks).
#[derive(Default)]
struct Fallbacks {
    hw_osname: Option<String>,
    hw_osversion: Option<String>,
    hw_workgroup: Option<String>,
    os_dns_domain: Option<String>,
}

/// Field being collected: its name, the level its text lives at, the text and its length in chars.
struct Collecting {
    name: &'static str,
    level: usize,
    text: String,
    chars: usize,
}

fn check_utf8_and_declaration(bytes: &[u8]) -> Result<&str, ParseError> {
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return Err(ParseError::UnsupportedEncoding("UTF-16".into()));
    }
    let bytes = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => {
            // A declared legacy encoding gives the clearer message.
            if let Some(enc) = declared_encoding(bytes)
                && !is_utf8_label(&enc)
            {
                return Err(ParseError::UnsupportedEncoding(cut(&enc)));
            }
            Err(ParseError::InvalidUtf8 {
                line: line_of(bytes, e.valid_up_to()),
            })
        }
    }
}

/// The `encoding="…"` of an XML declaration at the very start, read from raw bytes.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(256)];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = String::from_utf8_lossy(&head[..end]);
    let rest = &decl[decl.find("encoding")? + "encoding".len()..];
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = &rest[1..];
    Some(rest[..rest.find(quote)?].to_string())
}

fn is_utf8_label(enc: &str) -> bool {
    let e = enc.trim().to_ascii_lowercase();
    matches!(e.as_str(), "utf-8" | "utf8" | "us-ascii" | "ascii")
}

fn resolve_entity(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    }
}

/// Reads a FusionInventory/OCS `<REQUEST>` document (plain bytes, not compressed).
pub(crate) fn parse_request(bytes: &[u8]) -> Result<XmlRequest, ParseError> {
    if bytes.len() > MAX_BYTES {
        return Err(ParseError::TooLarge);
    }
    let text = check_utf8_and_declaration(bytes)?;
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    let src = text.as_bytes();
    let mut reader = Reader::from_str(text);
    // Defaults already check end tag names; keep text untrimmed (values are trimmed when kept).
    reader.config_mut().check_end_names = true;

    let pos_line = |pos: u64| line_of(src, usize::try_from(pos).unwrap_or(usize::MAX));
    let xml_err = |pos: u64, message: String| ParseError::Xml {
        line: pos_line(pos),
        message: cut(&message),
    };

    let mut out = XmlRequest {
        query: None,
        device_id: None,
        has_content: false,
        snapshot: InventorySnapshot::empty(InventoryFormat::Fusion),
    };
    let mut fb = Fallbacks::default();
    let mut depth = 0usize;
    let mut root_seen = false;
    let mut in_content = false;
    let mut section = Section::Other;
    let mut record = Record::default();
    let mut collecting: Option<Collecting> = None;

    loop {
        let ev = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) => return Err(xml_err(reader.error_position(), e.to_string())),
        };
        match ev {
            Event::Start(e) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(ParseError::TooDeep { limit: MAX_DEPTH });
                }
                let name = e.name();
                let name = name.as_ref();
                match depth {
                    1 => {
                        if root_seen {
                            return Err(xml_err(
                                reader.buffer_position(),
                                "ルート要素が複数あります".into(),
                            ));
                        }
                        root_seen = true;
                        if name != "REQUEST" {
                            return Err(ParseError::UnexpectedRoot(cut(name)));
                        }
                    }
                    2 => {
                        in_content = name == "CONTENT";
                        out.has_content |= in_content;
                        let field = match name {
                            "DEVICEID" => Some("DEVICEID"),
                            "QUERY" => Some("QUERY"),
                            _ => None,
                        };
                        collecting = field.map(|name| Collecting {
                            name,
                            level: 2,
                            text: String::new(),
                            chars: 0,
                        });
                    }
                    3 if in_content => {
                        section = Section::of(name);
                        record = Record::default();
                    }
                    4 if in_content => {
                        collecting = section.wanted(name).map(|name| Collecting {
                            name,
                            level: 4,
                            text: String::new(),
                            chars: 0,
                        });
                    }
                    _ => {}
                }
            }
            Event::Empty(e) => {
                if depth == 0 {
                    let name = e.name();
                    if root_seen {
                        return Err(xml_err(
                            reader.buffer_position(),
                            "ルート要素が複数あります".into(),
                        ));
                    }
                    if name.as_ref() != "REQUEST" {
                        return Err(ParseError::UnexpectedRoot(cut(name.as_ref())));
                    }
                    root_seen = true;
                } else if depth == 1 && e.name().as_ref() == "CONTENT" {
                    out.has_content = true;
                }
                // An empty section entry or field carries nothing to keep.
            }
            Event::End(_) => {
                if let Some(c) = collecting.take_if(|c| c.level == depth) {
                    let field_path = || {
                        if c.level == 2 {
                            c.name.to_string()
                        } else {
                            format!("{}/{}", section.tag(), c.name)
                        }
                    };
                    check_len(field_path, &c.text)?;
                    if c.level == 2 {
                        let v = clean(Some(&c.text));
                        match c.name {
                            "DEVICEID" => out.device_id = v,
                            _ => out.query = v,
                        }
                    } else {
                        record.fields.push((c.name, c.text));
                    }
                }
                if depth == 3 && in_content {
                    finish_record(
                        section,
                        std::mem::take(&mut record),
                        &mut out.snapshot,
                        &mut fb,
                    )?;
                    section = Section::Other;
                }
                if depth == 2 {
                    in_content = false;
                }
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) => {
                if let Some(c) = collecting.as_mut().filter(|c| c.level == depth) {
                    append(c, &t.xml10_content())?;
                }
            }
            Event::CData(t) => {
                if let Some(c) = collecting.as_mut().filter(|c| c.level == depth) {
                    append(c, &t.into_inner())?;
                }
            }
            Event::GeneralRef(r) => {
                let ch = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(ch)) => ch,
                        _ => {
                            return Err(xml_err(
                                reader.buffer_position(),
                                format!("不正な文字参照 &{};", cut(&r)),
                            ));
                        }
                    }
                } else {
                    match resolve_entity(&r) {
                        Some(ch) => ch,
                        None => {
                            return Err(ParseError::UnknownEntity {
                                name: cut(&r),
                                line: pos_line(reader.buffer_position()),
                            });
                        }
                    }
                };
                if let Some(c) = collecting.as_mut().filter(|c| c.level == depth) {
                    let mut buf = [0u8; 4];
                    append(c, ch.encode_utf8(&mut buf))?;
                }
            }
            Event::Decl(d) => {
                if let Some(Ok(enc)) = d.encoding()
                    && !is_utf8_label(&enc)
                {
                    return Err(ParseError::UnsupportedEncoding(cut(&enc)));
                }
            }
            Event::DocType(_) => return Err(ParseError::DocType),
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if depth != 0 {
        return Err(xml_err(
            src.len() as u64,
            "XMLが途中で終わっています（閉じていない要素があります）".into(),
        ));
    }
    if !root_seen {
        return Err(xml_err(0, "要素がありません".into()));
    }
    apply_fallbacks(&mut out.snapshot, fb);
    Ok(out)
}

fn append(c: &mut Collecting, s: &str) -> Result<(), ParseError> {
    c.chars += s.chars().count();
    if c.chars > crate::limits::MAX_FIELD_CHARS {
        return Err(ParseError::FieldTooLong {
            field: c.name.to_string(),
        });
    }
    c.text.push_str(s);
    Ok(())
}

fn finish_record(
    section: Section,
    r: Record,
    s: &mut InventorySnapshot,
    fb: &mut Fallbacks,
) -> Result<(), ParseError> {
    match section {
        Section::Hardware => {
            s.hostname = clean(r.get("NAME"));
            s.uuid = clean(r.get("UUID"));
            fb.hw_workgroup = clean(r.get("WORKGROUP"));
            fb.hw_osname = clean(r.get("OSNAME"));
            fb.hw_osversion = clean(r.get("OSVERSION"));
        }
        Section::Bios => s.serial = clean(r.get("SSN")),
        Section::Os => {
            s.os.name = clean(r.get("NAME"));
            s.os.version = clean(r.get("VERSION"));
            s.os.full_name = clean(r.get("FULL_NAME"));
            s.os.build = clean(r.get("KERNEL_VERSION"));
            s.os.arch = clean(r.get("ARCH"));
            s.os.service_pack = clean(r.get("SERVICE_PACK"));
            fb.os_dns_domain = clean(r.get("DNS_DOMAIN"));
        }
        Section::Software => {
            let Some(name) = clean(r.get("NAME")) else {
                return Ok(());
            };
            if s.software.len() >= MAX_SOFTWARE {
                return Err(ParseError::TooManyEntries {
                    section: "SOFTWARES",
                    limit: MAX_SOFTWARE,
                });
            }
            s.software.push(Software {
                name,
                version: clean(r.get("VERSION")),
                publisher: clean(r.get("PUBLISHER")),
                install_date: clean(r.get("INSTALLDATE")),
                arch: clean(r.get("ARCH")),
            });
        }
        Section::Antivirus => {
            let Some(name) = clean(r.get("NAME")) else {
                return Ok(());
            };
            if s.antivirus.len() >= MAX_ANTIVIRUS {
                return Err(ParseError::TooManyEntries {
                    section: "ANTIVIRUS",
                    limit: MAX_ANTIVIRUS,
                });
            }
            s.antivirus.push(Antivirus {
                name,
                company: clean(r.get("COMPANY")),
                version: clean(r.get("VERSION")),
                base_version: clean(r.get("BASE_VERSION")),
                base_date: clean(r.get("BASE_CREATION")),
                enabled: flag(r.get("ENABLED")),
                up_to_date: flag(r.get("UPTODATE")),
                expiration: clean(r.get("EXPIRATION")),
                guid: clean(r.get("GUID")),
            });
        }
        Section::Network => {
            if s.ip_addresses.len() + s.mac_addresses.len() >= 2 * MAX_NETWORKS {
                return Err(ParseError::TooManyEntries {
                    section: "NETWORKS",
                    limit: MAX_NETWORKS,
                });
            }
            for ip in r.all("IPADDRESS").chain(r.all("IPADDRESS6")) {
                push_ip(&mut s.ip_addresses, ip);
            }
            for mac in r.all("MACADDR") {
                push_mac(&mut s.mac_addresses, mac);
            }
        }
        Section::AccessLog => {
            s.collected_at = r.get("LOGDATE").and_then(parse_collected_at);
        }
        Section::Other => {}
    }
    Ok(())
}

fn apply_fallbacks(s: &mut InventorySnapshot, fb: Fallbacks) {
    if s.os.full_name.is_none() {
        s.os.full_name = fb.hw_osname.clone();
    }
    if s.os.name.is_none() {
        s.os.name = fb.hw_osname;
    }
    if s.os.version.is_none() {
        s.os.version = fb.hw_osversion;
    }
    s.domain = fb.hw_workgroup.or(fb.os_dns_domain);
}

/// Parses a FusionInventory / OCS Inventory XML inventory (what `fusioninventory-inventory` prints and
/// what the agent POSTs as `QUERY=INVENTORY`), plain UTF-8 bytes.
///
/// The document must be a `<REQUEST>` with a `<CONTENT>`; its `<QUERY>` is not checked (files written
/// by `fusioninventory-inventory` say INVENTORY; use [`crate::decode_agent_request`] for the agent
/// protocol). Never panics; every refusal is a [`ParseError`].
pub fn parse_fusion_xml(bytes: &[u8]) -> Result<InventorySnapshot, ParseError> {
    let req = parse_request(bytes)?;
    if !req.has_content {
        return Err(ParseError::MissingContent);
    }
    let mut snap = req.snapshot;
    snap.device_id = req.device_id;
    Ok(snap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_inventory() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8" ?>
<REQUEST>
  <CONTENT>
    <HARDWARE><NAME>jk-term-01</NAME><UUID>ABC</UUID><OSNAME>Microsoft Windows 10 Pro</OSNAME><OSVERSION>10.0.19045</OSVERSION></HARDWARE>
    <SOFTWARES><NAME>A &amp; B &#x4F4F;&#22522;</NAME><VERSION><![CDATA[1.<2>]]></VERSION></SOFTWARES>
    <SOFTWARES><VERSION>nameless</VERSION></SOFTWARES>
    <SOFTWARES/>
    <ENVS><KEY>X</KEY><VAL>ignored</VAL></ENVS>
  </CONTENT>
  <DEVICEID>jk-term-01-2026-01-01-00-00-00</DEVICEID>
  <QUERY>INVENTORY</QUERY>
</REQUEST>"#;
        let s = parse_fusion_xml(xml.as_bytes()).unwrap();
        assert_eq!(s.hostname.as_deref(), Some("jk-term-01"));
        assert_eq!(
            s.device_id.as_deref(),
            Some("jk-term-01-2026-01-01-00-00-00")
        );
        assert_eq!(s.os.name.as_deref(), Some("Microsoft Windows 10 Pro"));
        assert_eq!(s.os.version.as_deref(), Some("10.0.19045"));
        assert_eq!(s.software.len(), 1);
        assert_eq!(s.software[0].name, "A & B 住基");
        assert_eq!(s.software[0].version.as_deref(), Some("1.<2>"));
    }

    #[test]
    fn refusals() {
        let e = parse_fusion_xml(b"<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><REQUEST/>")
            .unwrap_err();
        assert_eq!(e, ParseError::UnsupportedEncoding("Shift_JIS".into()));
        let e = parse_fusion_xml(
            b"<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><REQUEST>\x82\xa0</REQUEST>",
        )
        .unwrap_err();
        assert_eq!(e, ParseError::UnsupportedEncoding("Shift_JIS".into()));
        let e = parse_fusion_xml(b"<REQUEST>\n\n\xff</REQUEST>").unwrap_err();
        assert_eq!(e, ParseError::InvalidUtf8 { line: 3 });
        let e = parse_fusion_xml(b"<REPLY/>").unwrap_err();
        assert_eq!(e, ParseError::UnexpectedRoot("REPLY".into()));
        let e = parse_fusion_xml(b"<REQUEST><QUERY>INVENTORY</QUERY></REQUEST>").unwrap_err();
        assert_eq!(e, ParseError::MissingContent);
        let e =
            parse_fusion_xml(b"<REQUEST><CONTENT><X>&foo;</X></CONTENT></REQUEST>").unwrap_err();
        assert!(matches!(e, ParseError::UnknownEntity { .. }), "{e:?}");
        let e = parse_fusion_xml(b"<REQUEST>\n<CONTENT>\n</WRONG></REQUEST>").unwrap_err();
        assert!(matches!(e, ParseError::Xml { line: 3, .. }), "{e:?}");
        let e = parse_fusion_xml(b"<REQUEST><CONTENT>").unwrap_err();
        assert!(matches!(e, ParseError::Xml { .. }), "{e:?}");
        let e = parse_fusion_xml(b"<REQUEST></REQUEST><REQUEST></REQUEST>").unwrap_err();
        assert!(matches!(e, ParseError::Xml { .. }), "{e:?}");
        assert_eq!(parse_fusion_xml(b"  ").unwrap_err(), ParseError::Empty);
    }
}
