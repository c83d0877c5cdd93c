//! Limits applied to every input, and the bounded decompression that enforces the size limit on
//! compressed bodies (a zlib bomb stops at the limit instead of filling memory).

use crate::error::ParseError;
use flate2::read::{GzDecoder, ZlibDecoder};
use std::io::Read;

/// Largest body accepted, compressed or not, and largest decompressed size: 16 MiB. A real Windows
/// inventory is 50–500 KB of XML; a Linux one with thousands of packages stays under 2 MB of JSON.
pub const MAX_BYTES: usize = 16 * 1024 * 1024;
/// Deepest nesting accepted: XML elements, or JSON arrays and objects (checked by a byte scan before
/// parsing). The FusionInventory format is 4–6 levels deep, GLPI JSON about as much.
pub const MAX_DEPTH: usize = 64;
/// serde_json's own recursion limit (it refuses deeper JSON before the stack is at risk).
pub const MAX_JSON_DEPTH: usize = 128;
/// Longest value kept, in characters (names, versions, identifiers).
pub const MAX_FIELD_CHARS: usize = 4096;
/// Most software entries in one inventory.
pub const MAX_SOFTWARE: usize = 20_000;
/// Most antivirus entries in one inventory.
pub const MAX_ANTIVIRUS: usize = 256;
/// Most network interface entries in one inventory.
pub const MAX_NETWORKS: usize = 4096;

/// How a body is encoded on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyEncoding {
    /// RFC 1950 zlib (`Compress::Zlib::compress`): what the agent sends when Compress::Zlib is
    /// installed, which the Debian package depends on. Starts with `0x78`.
    Zlib,
    /// RFC 1952 gzip (agent fallback when Compress::Zlib is missing). Starts with `1f 8b 08`.
    Gzip,
    /// Not compressed (`--no-compression`).
    Plain,
}

/// Recognises the body's encoding by its first bytes (the same sniffing the agent applies to replies).
pub fn detect_body_encoding(body: &[u8]) -> BodyEncoding {
    match body {
        // CMF 0x78 = deflate with a 32K window; the header check (CMF*256+FLG) % 31 == 0 rules out
        // plain text that happens to start with 'x'.
        [0x78, flg, ..] if (0x7800u16 | u16::from(*flg)).is_multiple_of(31) => BodyEncoding::Zlib,
        [0x1f, 0x8b, 0x08, ..] => BodyEncoding::Gzip,
        _ => BodyEncoding::Plain,
    }
}

/// Reads at most [`MAX_BYTES`] from a decoder; more is [`ParseError::TooLarge`].
fn read_bounded(mut r: impl Read) -> Result<Vec<u8>, ParseError> {
    let mut out = Vec::new();
    (&mut r)
        .take(MAX_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| ParseError::Decompress(crate::error::cut(&e.to_string())))?;
    if out.len() > MAX_BYTES {
        return Err(ParseError::TooLarge);
    }
    Ok(out)
}

/// Checks the size of `body` and undoes its compression (one level only) within the limits.
/// Returns the plain bytes and the encoding found.
pub fn decode_body(body: &[u8]) -> Result<(std::borrow::Cow<'_, [u8]>, BodyEncoding), ParseError> {
    if body.len() > MAX_BYTES {
        return Err(ParseError::TooLarge);
    }
    if body.is_empty() {
        return Err(ParseError::Empty);
    }
    let enc = detect_body_encoding(body);
    let plain = match enc {
        BodyEncoding::Zlib => std::borrow::Cow::Owned(read_bounded(ZlibDecoder::new(body))?),
        BodyEncoding::Gzip => std::borrow::Cow::Owned(read_bounded(GzDecoder::new(body))?),
        BodyEncoding::Plain => std::borrow::Cow::Borrowed(body),
    };
    if plain.is_empty() {
        return Err(ParseError::Empty);
    }
    Ok((plain, enc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::ZlibEncoder;
    use std::io::Write;

    #[test]
    fn detects_encodings() {
        let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(b"<REQUEST/>").unwrap();
        let z = z.finish().unwrap();
        assert_eq!(&z[..2], &[0x78, 0x9c]);
        assert_eq!(detect_body_encoding(&z), BodyEncoding::Zlib);
        assert_eq!(detect_body_encoding(b"<?xml"), BodyEncoding::Plain);
        assert_eq!(detect_body_encoding(b"xml"), BodyEncoding::Plain);
        assert_eq!(
            detect_body_encoding(&[0x1f, 0x8b, 0x08, 0]),
            BodyEncoding::Gzip
        );
        let (plain, enc) = decode_body(&z).unwrap();
        assert_eq!(&*plain, b"<REQUEST/>");
        assert_eq!(enc, BodyEncoding::Zlib);
    }

    #[test]
    fn corrupt_zlib_is_a_decompress_error() {
        let e = decode_body(&[0x78, 0x9c, 0xff, 0xff, 0xff]).unwrap_err();
        assert!(matches!(e, ParseError::Decompress(_)), "{e:?}");
    }
}
