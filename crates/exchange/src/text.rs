//! Turning uploaded bytes into text.

use crate::ExchangeError;

/// The largest file [`decode_text`] accepts: far above any real registry, small enough to keep a bad
/// upload from exhausting memory.
pub const MAX_INPUT_BYTES: usize = 50 * 1024 * 1024;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Decodes an uploaded text file: a UTF-8 BOM is stripped, valid UTF-8 is taken as is, anything else is
/// decoded as Shift_JIS (`encoding_rs::SHIFT_JIS` follows the WHATWG definition, which is Windows-31J/CP932
/// with the NEC and IBM extensions such as ① and 髙). Fails when the file is larger than
/// [`MAX_INPUT_BYTES`] or is not valid in either encoding.
pub fn decode_text(bytes: &[u8]) -> Result<String, ExchangeError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(ExchangeError::TooLarge {
            limit_mb: MAX_INPUT_BYTES / (1024 * 1024),
        });
    }
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    // Excel's 「Unicode テキスト」 is UTF-16 with a BOM; its mostly-ASCII bytes would otherwise decode
    // "successfully" as Shift_JIS into garbage with NULs.
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(ExchangeError::UnknownEncoding);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_owned());
    }
    encoding_rs::SHIFT_JIS
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|text| text.into_owned())
        .ok_or(ExchangeError::UnknownEncoding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(decode_text(b"\xEF\xBB\xBFabc").ok().as_deref(), Some("abc"));
        assert_eq!(decode_text("端末".as_bytes()).ok().as_deref(), Some("端末"));
        assert_eq!(decode_text(b"").ok().as_deref(), Some(""));
    }

    #[test]
    fn cp932_including_vendor_extensions() {
        let (bytes, _, had_errors) = encoding_rs::SHIFT_JIS.encode("髙橋①㈱ 代表端末");
        assert!(!had_errors);
        assert_eq!(
            decode_text(&bytes).ok().as_deref(),
            Some("髙橋①㈱ 代表端末")
        );
    }

    #[test]
    fn undecodable_bytes_are_refused_in_japanese() {
        // 0x82 0xFF is not a Shift_JIS character and not UTF-8.
        let err = decode_text(b"abc\x82\xFF").err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("文字コードを判別できません。UTF-8 または Shift_JIS(CP932) で保存してください。")
        );
        assert!(matches!(
            decode_text(b"\xFF\xFEa\x00"),
            Err(ExchangeError::UnknownEncoding)
        ));
    }

    #[test]
    fn oversized_input_is_refused() {
        let big = vec![b'a'; MAX_INPUT_BYTES + 1];
        assert!(matches!(
            decode_text(&big),
            Err(ExchangeError::TooLarge { limit_mb: 50 })
        ));
    }
}
