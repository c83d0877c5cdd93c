//! Helpers shared by both parsers: cleaning values and collecting addresses.

use crate::error::ParseError;
use crate::limits::MAX_FIELD_CHARS;

/// Trims a value; empty and the agents' "N/A" become `None`.
pub(crate) fn clean(v: Option<&str>) -> Option<String> {
    let v = v?.trim();
    if v.is_empty() || v.eq_ignore_ascii_case("n/a") {
        None
    } else {
        Some(v.to_string())
    }
}

/// Refuses a value longer than [`MAX_FIELD_CHARS`] characters.
pub(crate) fn check_len(field: impl FnOnce() -> String, v: &str) -> Result<(), ParseError> {
    // Cheap byte test first: a UTF-8 character is at least one byte.
    if v.len() > MAX_FIELD_CHARS && v.chars().count() > MAX_FIELD_CHARS {
        return Err(ParseError::FieldTooLong { field: field() });
    }
    Ok(())
}

/// `1`/`true`/`yes` → true, `0`/`false`/`no` → false, anything else → unknown.
pub(crate) fn flag(v: Option<&str>) -> Option<bool> {
    match v?.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Some(true),
        "0" | "false" | "no" => Some(false),
        _ => None,
    }
}

/// Adds an IP address unless empty, loopback, unspecified or already there.
pub(crate) fn push_ip(list: &mut Vec<String>, ip: &str) {
    let ip = ip.trim();
    if ip.is_empty()
        || ip.starts_with("127.")
        || ip == "::1"
        || ip == "0.0.0.0"
        || ip == "::"
        || list.iter().any(|x| x == ip)
    {
        return;
    }
    list.push(ip.to_string());
}

/// Adds a MAC address in lower case with colons, unless empty, all zeros or already there.
pub(crate) fn push_mac(list: &mut Vec<String>, mac: &str) {
    let mac = mac.trim().to_ascii_lowercase().replace('-', ":");
    if mac.is_empty() || mac.chars().all(|c| c == '0' || c == ':') || list.contains(&mac) {
        return;
    }
    list.push(mac);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning() {
        assert_eq!(clean(Some("  x ")), Some("x".into()));
        assert_eq!(clean(Some("N/A")), None);
        assert_eq!(clean(Some(" ")), None);
        assert_eq!(flag(Some("1")), Some(true));
        assert_eq!(flag(Some("FALSE")), Some(false));
        assert_eq!(flag(Some("maybe")), None);
        let mut ips = Vec::new();
        for ip in ["127.0.0.1", "10.0.0.1", "::1", "10.0.0.1", "fe80::1"] {
            push_ip(&mut ips, ip);
        }
        assert_eq!(ips, vec!["10.0.0.1", "fe80::1"]);
        let mut macs = Vec::new();
        for m in [
            "00:00:00:00:00:00",
            "68:B5:99:E6:84:EB",
            "68-b5-99-e6-84-eb",
            "",
        ] {
            push_mac(&mut macs, m);
        }
        assert_eq!(macs, vec!["68:b5:99:e6:84:eb"]);
        assert!(check_len(|| "f".into(), &"あ".repeat(MAX_FIELD_CHARS)).is_ok());
        assert!(check_len(|| "f".into(), &"a".repeat(MAX_FIELD_CHARS + 1)).is_err());
    }
}
