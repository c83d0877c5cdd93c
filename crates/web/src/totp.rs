//! TOTP (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), the second factor of R13, with base32 secrets
//! as authenticator apps expect them.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// Step length in seconds.
pub const STEP: u64 = 30;
const DIGITS: u32 = 6;
const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(B32[((buffer >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(B32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// RFC 4648 base32 decoding (case-insensitive, padding and spaces ignored).
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = B32
            .iter()
            .position(|&b| b as char == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push((buffer >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    Some(out)
}

/// The code for a secret at a given Unix time.
pub fn code_at(secret: &[u8], unix_time: u64) -> String {
    let counter = unix_time / STEP;
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = (hash[hash.len() - 1] & 0x0f) as usize;
    let bin = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    format!(
        "{:0width$}",
        bin % 10u32.pow(DIGITS),
        width = DIGITS as usize
    )
}

/// Whether `code` is right for `secret` at `unix_time`, allowing one step of clock drift either way.
pub fn verify(secret_b32: &str, code: &str, unix_time: u64) -> bool {
    verify_step(secret_b32, code, unix_time).is_some()
}

/// The time step (`unix_time / STEP`) whose code `code` is, if it is right for `secret` at `unix_time`
/// allowing one step of clock drift either way. A code must not be accepted twice: the caller stores the
/// step and refuses it and every earlier one afterwards (`Store::accept_totp_step`).
pub fn verify_step(secret_b32: &str, code: &str, unix_time: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| c.is_ascii_digit()).collect();
    let secret = base32_decode(secret_b32)?;
    if code.len() != DIGITS as usize || secret.is_empty() {
        return None;
    }
    // Every candidate is compared (no early exit), the latest matching step wins.
    [unix_time.saturating_sub(STEP), unix_time, unix_time + STEP]
        .iter()
        .filter(|&&t| constant_time_eq(code_at(&secret, t).as_bytes(), code.as_bytes()))
        .map(|&t| t / STEP)
        .fold(None, |_, step| Some(step))
}

/// The `otpauth://` URI an authenticator app scans.
pub fn provisioning_uri(secret_b32: &str, username: &str, issuer: &str) -> String {
    let enc = |s: &str| {
        url::form_urlencoded::byte_serialize(s.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret_b32}&issuer={}&algorithm=SHA1&digits=6&period=30",
        enc(issuer),
        enc(username),
        enc(issuer)
    )
}

/// Compares without an early exit, so timing does not reveal how many leading characters matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 column (8 digits there; the last 6 are ours).
    #[test]
    fn rfc6238_vectors() {
        let secret = b"12345678901234567890";
        for (t, full) in [
            (59u64, "94287082"),
            (1111111109, "07081804"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
        ] {
            assert_eq!(code_at(secret, t), full[2..], "t={t}");
        }
    }

    #[test]
    fn base32_round_trip_and_verify() {
        let secret = b"12345678901234567890";
        let b32 = base32_encode(secret);
        assert_eq!(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            base32_decode(&b32.to_lowercase()).as_deref(),
            Some(&secret[..])
        );
        assert!(verify(&b32, "287 082", 59));
        assert!(verify(&b32, "287082", 59 + 30), "one step of drift");
        assert!(!verify(&b32, "287082", 59 + 90));
        assert!(!verify(&b32, "28708", 59));
        assert_eq!(verify_step(&b32, "287082", 59), Some(1));
        assert_eq!(
            verify_step(&b32, "287082", 59 + 30),
            Some(1),
            "the code's own step"
        );
        assert_eq!(verify_step(&b32, "287082", 59 + 90), None);
    }
}
