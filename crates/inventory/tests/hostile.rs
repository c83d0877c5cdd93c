//! Hostile input: every refusal is a clear error, quickly, without a panic or a stack overflow.

use std::io::Write;
use std::time::{Duration, Instant};
use unyo_inventory::limits::{MAX_BYTES, MAX_DEPTH, MAX_FIELD_CHARS, MAX_SOFTWARE};
use unyo_inventory::{
    ParseError, decode_agent_request, parse_any, parse_fusion_xml, parse_glpi_json,
};

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(data).unwrap();
    z.finish().unwrap()
}

#[test]
fn billion_laughs_is_refused() {
    let xml = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<REQUEST><CONTENT><HARDWARE><NAME>&lol9;</NAME></HARDWARE></CONTENT></REQUEST>"#;
    let e = parse_fusion_xml(xml.as_bytes()).unwrap_err();
    assert_eq!(e, ParseError::DocType);
    assert_eq!(e.to_string(), "DOCTYPE宣言を含むXMLは受け付けません");
    assert_eq!(
        parse_any(&zlib(xml.as_bytes())).unwrap_err(),
        ParseError::DocType
    );
    // Without the DOCTYPE the undeclared entity is refused by name.
    let xml = "<REQUEST>\n<CONTENT><HARDWARE><NAME>&lol9;</NAME></HARDWARE></CONTENT></REQUEST>";
    let e = parse_fusion_xml(xml.as_bytes()).unwrap_err();
    assert_eq!(
        e,
        ParseError::UnknownEntity {
            name: "lol9".into(),
            line: 2
        }
    );
    // External entities (XXE) go the same way.
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><REQUEST>&x;</REQUEST>"#;
    assert_eq!(
        parse_fusion_xml(xxe.as_bytes()).unwrap_err(),
        ParseError::DocType
    );
}

#[test]
fn deep_nesting_is_refused_without_stack_overflow() {
    let n = 10_000;
    let xml = format!("<REQUEST>{}{}</REQUEST>", "<a>".repeat(n), "</a>".repeat(n));
    let e = parse_fusion_xml(xml.as_bytes()).unwrap_err();
    assert_eq!(e, ParseError::TooDeep { limit: MAX_DEPTH });
    assert_eq!(e.to_string(), "入れ子が深すぎます（上限64階層）");
    // Unclosed, too.
    let xml = "<REQUEST>".to_string() + &"<a>".repeat(n);
    assert!(matches!(
        parse_fusion_xml(xml.as_bytes()),
        Err(ParseError::TooDeep { .. })
    ));
    // JSON: in a member the parser skips, and in one it reads.
    let json = format!(
        "{{\"content\":{{}},\"x\":{}{}}}",
        "[".repeat(n),
        "]".repeat(n)
    );
    assert!(matches!(
        parse_glpi_json(json.as_bytes()),
        Err(ParseError::TooDeep { .. })
    ));
    let json = format!("{{\"content\":{{\"softwares\":{}", "[{\"a\":".repeat(n));
    assert!(matches!(
        parse_glpi_json(json.as_bytes()),
        Err(ParseError::TooDeep { .. })
    ));
    // Within the limit is fine.
    let ok = format!(
        "<REQUEST><CONTENT><X>{}{}</X></CONTENT></REQUEST>",
        "<a>".repeat(MAX_DEPTH - 3),
        "</a>".repeat(MAX_DEPTH - 3)
    );
    assert!(parse_fusion_xml(ok.as_bytes()).is_ok());
    // Deep nesting inside an agent request.
    let req = format!("<REQUEST><QUERY>PROLOG</QUERY>{}", "<a>".repeat(n));
    assert!(matches!(
        decode_agent_request(None, &zlib(req.as_bytes())),
        Err(ParseError::TooDeep { .. })
    ));
}

#[test]
fn zlib_bomb_is_refused() {
    // 128 MiB of spaces inflate from ~128 KB; reading stops right after 16 MiB.
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..128 {
        z.write_all(&chunk).unwrap();
    }
    let bomb = z.finish().unwrap();
    assert!(bomb.len() < 256 << 10, "{}", bomb.len());
    let t = Instant::now();
    let e = parse_any(&bomb).unwrap_err();
    assert_eq!(e, ParseError::TooLarge);
    assert_eq!(e.to_string(), "ファイルが大きすぎます（上限16MB）");
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert_eq!(
        decode_agent_request(Some("application/x-compress-zlib"), &bomb).unwrap_err(),
        ParseError::TooLarge
    );
    // Exactly at the limit is accepted as far as size goes (then refused as not an inventory).
    let at_limit = zlib(&vec![b' '; MAX_BYTES]);
    assert_eq!(parse_any(&at_limit).unwrap_err(), ParseError::Empty);
}

#[test]
fn hundred_megabytes_of_a_is_refused_quickly() {
    let big = vec![b'a'; 100 * 1024 * 1024];
    let t = Instant::now();
    assert_eq!(parse_any(&big).unwrap_err(), ParseError::TooLarge);
    assert_eq!(parse_fusion_xml(&big).unwrap_err(), ParseError::TooLarge);
    assert_eq!(parse_glpi_json(&big).unwrap_err(), ParseError::TooLarge);
    assert_eq!(
        decode_agent_request(None, &big).unwrap_err(),
        ParseError::TooLarge
    );
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
    // Under the limit but not an inventory.
    assert_eq!(
        parse_any(&big[..1024]).unwrap_err(),
        ParseError::UnknownFormat
    );
}

#[test]
fn huge_fields_and_too_many_entries_are_refused() {
    let name = "x".repeat(MAX_FIELD_CHARS + 1);
    let xml =
        format!("<REQUEST><CONTENT><SOFTWARES><NAME>{name}</NAME></SOFTWARES></CONTENT></REQUEST>");
    let e = parse_fusion_xml(xml.as_bytes()).unwrap_err();
    assert_eq!(
        e,
        ParseError::FieldTooLong {
            field: "NAME".into()
        }
    );
    assert_eq!(e.to_string(), "項目「NAME」が長すぎます（上限4096文字）");
    // A long value in a field that is not kept is fine (bounded by the body size).
    let xml = format!(
        "<REQUEST><CONTENT><SOFTWARES><NAME>a</NAME><COMMENTS>{name}</COMMENTS></SOFTWARES></CONTENT></REQUEST>"
    );
    assert_eq!(parse_fusion_xml(xml.as_bytes()).unwrap().software.len(), 1);
    // Built from character references, too.
    let xml = format!(
        "<REQUEST><DEVICEID>{}</DEVICEID><CONTENT/></REQUEST>",
        "&#x41;".repeat(MAX_FIELD_CHARS + 1)
    );
    assert!(matches!(
        parse_fusion_xml(xml.as_bytes()),
        Err(ParseError::FieldTooLong { .. })
    ));
    let json = format!("{{\"content\":{{\"softwares\":[{{\"name\":\"{name}\"}}]}}}}");
    assert_eq!(
        parse_glpi_json(json.as_bytes()).unwrap_err(),
        ParseError::FieldTooLong {
            field: "content.softwares[].name".into()
        }
    );

    let mut xml = String::from("<REQUEST><CONTENT>");
    for i in 0..=MAX_SOFTWARE {
        xml.push_str(&format!("<SOFTWARES><NAME>p{i}</NAME></SOFTWARES>"));
    }
    xml.push_str("</CONTENT></REQUEST>");
    let e = parse_fusion_xml(xml.as_bytes()).unwrap_err();
    assert_eq!(
        e,
        ParseError::TooManyEntries {
            section: "SOFTWARES",
            limit: MAX_SOFTWARE
        }
    );
    assert_eq!(
        e.to_string(),
        "「SOFTWARES」の件数が多すぎます（上限20000件）"
    );
    let mut json = String::from("{\"content\":{\"softwares\":[");
    for i in 0..=MAX_SOFTWARE {
        json.push_str(&format!(
            "{}{{\"name\":\"p{i}\"}}",
            if i > 0 { "," } else { "" }
        ));
    }
    json.push_str("]}}");
    assert_eq!(
        parse_glpi_json(json.as_bytes()).unwrap_err(),
        ParseError::TooManyEntries {
            section: "softwares",
            limit: MAX_SOFTWARE
        }
    );
}

#[test]
fn encodings() {
    let e = parse_fusion_xml(
        b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<REQUEST>caf\xe9</REQUEST>",
    )
    .unwrap_err();
    assert_eq!(e, ParseError::UnsupportedEncoding("ISO-8859-1".into()));
    assert_eq!(
        e.to_string(),
        "文字コード「ISO-8859-1」のXMLには対応していません（UTF-8のみ受け付けます）"
    );
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain("<REQUEST/>".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    assert_eq!(
        parse_any(&utf16).unwrap_err(),
        ParseError::UnsupportedEncoding("UTF-16".into())
    );
    let e = parse_any(b"{\"content\":{},\n\n\"x\":\"\xc3\x28\"}").unwrap_err();
    assert_eq!(e, ParseError::InvalidUtf8 { line: 3 });
    // A UTF-8 BOM is fine.
    let bom = b"\xef\xbb\xbf<REQUEST><CONTENT><HARDWARE><NAME>\xe7\xab\xaf\xe6\x9c\xab</NAME></HARDWARE></CONTENT></REQUEST>";
    assert_eq!(parse_any(bom).unwrap().hostname.as_deref(), Some("端末"));
}

#[test]
fn xml_error_messages_carry_the_line() {
    let e = parse_fusion_xml(b"<REQUEST>\n<CONTENT>\n<HARDWARE></BIOS>\n</CONTENT></REQUEST>")
        .unwrap_err();
    match &e {
        ParseError::Xml { line, .. } => assert_eq!(*line, 3),
        other => panic!("{other:?}"),
    }
    assert!(
        e.to_string()
            .starts_with("インベントリのXMLが不正です（3行目）: "),
        "{e}"
    );
}

/// A tiny LCG (no extra dependency) for reproducible pseudo-random input.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn all_entry_points(input: &[u8]) {
    let _ = parse_any(input);
    let _ = parse_fusion_xml(input);
    let _ = parse_glpi_json(input);
    let _ = decode_agent_request(None, input);
    let _ = decode_agent_request(Some("application/x-compress-zlib"), input);
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Lcg(0x756e_796f);
    for _ in 0..3000 {
        let len = rng.below(512);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        all_entry_points(&bytes);
        all_entry_points(&zlib(&bytes));
    }
}

#[test]
fn mutated_real_inventories_never_panic() {
    // Random bytes rarely get past the first check; flipping bytes in real documents exercises the
    // parsers' inner paths.
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/samples");
    let seeds: Vec<Vec<u8>> = [
        "fusioninventory-2.xml",
        "fusioninventory-3.xml",
        "glpi-computer_1.json",
    ]
    .iter()
    .map(|f| std::fs::read(dir.join(f)).unwrap())
    .chain([
        b"<REQUEST><DEVICEID>d</DEVICEID><QUERY>PROLOG</QUERY><TOKEN>12345678</TOKEN></REQUEST>"
            .to_vec(),
    ])
    .collect();
    let tokens: &[&[u8]] = &[
        b"<",
        b">",
        b"&",
        b"&#",
        b";",
        b"]]>",
        b"<![CDATA[",
        b"<!DOCTYPE",
        b"<?xml",
        b"\"",
        b"{",
        b"}",
        b"[",
        b"]",
        b"\\u",
        b"\xff",
        b"\xe3\x81",
        b"</",
        b"/>",
        b"<CONTENT>",
        b"<SOFTWARES>",
        b"null",
        b"\x00",
    ];
    let mut rng = Lcg(42);
    for i in 0..2000 {
        let mut doc = seeds[i % seeds.len()].clone();
        for _ in 0..1 + rng.below(8) {
            let at = rng.below(doc.len() + 1);
            match rng.below(3) {
                0 if at < doc.len() => doc[at] = rng.next() as u8,
                1 => {
                    let t = tokens[rng.below(tokens.len())];
                    doc.splice(at..at, t.iter().copied());
                }
                _ => {
                    let end = (at + rng.below(64)).min(doc.len());
                    doc.drain(at..end);
                }
            }
        }
        all_entry_points(&doc);
        if i % 10 == 0 {
            all_entry_points(&zlib(&doc));
        }
    }
}
