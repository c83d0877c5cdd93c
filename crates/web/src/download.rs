//! Naming a downloaded file: the `Content-Disposition` header every export and document download sends.

use axum::http::HeaderValue;

/// The `Content-Disposition` value of a download (RFC 6266): `attachment`, `filename="…"` with an ASCII
/// name for old clients, and the real name, usually Japanese, as `filename*=UTF-8''…` with everything but
/// unreserved ASCII percent-encoded (RFC 8187, formerly RFC 5987). Browsers that read `filename*` use it.
///
/// Characters of `ascii` that cannot stand inside the quoted name (non-ASCII, control characters, `"` and
/// `\`) are replaced by `_`, so the value is always a valid header.
///
/// ```text
/// content_disposition("work_20260512.csv", "作業記録_20260512.csv")
///   → attachment; filename="work_20260512.csv"; filename*=UTF-8''%E4%BD%9C%E6%A5%AD%E8%A8%98%E9%8C%B2_20260512.csv
/// ```
pub(crate) fn content_disposition(ascii: &str, name: &str) -> HeaderValue {
    let ascii: String = ascii
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() || c == ' ') && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let value = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        percent_encode(name)
    );
    // Only visible ASCII and spaces remain, which a header value always accepts.
    HeaderValue::try_from(value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// `filename*` encoding: every byte of the UTF-8 name but ASCII letters, digits and `-._~` as `%XX`.
fn percent_encode(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_names_are_percent_encoded_next_to_the_ascii_name() {
        assert_eq!(
            content_disposition("work_20260512.csv", "作業記録_20260512.csv"),
            "attachment; filename=\"work_20260512.csv\"; \
             filename*=UTF-8''%E4%BD%9C%E6%A5%AD%E8%A8%98%E9%8C%B2_20260512.csv"
        );
        assert_eq!(percent_encode("障害_1.xlsx"), "%E9%9A%9C%E5%AE%B3_1.xlsx");
        assert_eq!(percent_encode("a b\"c"), "a%20b%22c");
    }

    #[test]
    fn the_ascii_name_cannot_break_the_header() {
        assert_eq!(
            content_disposition("a\"b\\c\r\n端末.csv", "x.csv"),
            "attachment; filename=\"a_b_c____.csv\"; filename*=UTF-8''x.csv"
        );
    }
}
