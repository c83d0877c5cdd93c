//! The agent protocol decoder (zlib / gzip / plain XML bodies), with the first byte choosing the
//! Content-Type header; also checks that version comparison is antisymmetric on two strings taken
//! from the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unyo_domain::inventory::compare_versions;

const CONTENT_TYPES: [Option<&str>; 5] = [
    None,
    Some("application/x-compress-zlib"),
    Some("application/x-compress-gzip"),
    Some("application/xml"),
    Some("application/x-compress"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let ct = CONTENT_TYPES[usize::from(first) % CONTENT_TYPES.len()];
    if let Ok(msg) = unyo_inventory::decode_agent_request(ct, body) {
        assert!(msg.device_id().is_some());
    }
    let _ = unyo_inventory::protocol::decode_server_reply(body);

    if let Ok(text) = std::str::from_utf8(body) {
        let (a, b) = text.split_once('\n').unwrap_or((text, ""));
        assert_eq!(compare_versions(a, b), compare_versions(b, a).reverse());
        assert_eq!(compare_versions(a, a), std::cmp::Ordering::Equal);
    }
});
