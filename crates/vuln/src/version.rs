//! Version order per ecosystem: dotted numeric for Windows software and CPEs (`10.0.19044.2846`, `24.003.20112`,
//! `1.8.0`), semantic versions for crates.

use std::cmp::Ordering;

/// How a family of versions is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Segments split at `.`, `-`, `_`, `+` and spaces; digits compared as numbers, letters as text; a missing
    /// segment counts as 0, so `24.003` equals `24.003.0`.
    Dotted,
    /// Semantic versions (crates.io); `0.1` is read as `0.1.0`; what is not a semantic version falls back to dotted.
    Semver,
}

impl Scheme {
    /// The scheme of an OSV ecosystem name.
    pub fn for_ecosystem(ecosystem: &str) -> Scheme {
        match ecosystem.to_ascii_lowercase().as_str() {
            "crates.io" | "npm" | "go" | "hex" | "pub" => Scheme::Semver,
            _ => Scheme::Dotted,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Tok<'a> {
    Num(&'a str),
    Alpha(&'a str),
}

fn tokens(v: &str) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    for seg in v.split(['.', '-', '_', '+', ' ', ',', '/']) {
        let mut start = 0;
        let bytes = seg.as_bytes();
        while start < bytes.len() {
            let digit = bytes[start].is_ascii_digit();
            let mut end = start;
            while end < bytes.len() && bytes[end].is_ascii_digit() == digit {
                end += 1;
            }
            let t = &seg[start..end];
            out.push(if digit { Tok::Num(t) } else { Tok::Alpha(t) });
            start = end;
        }
    }
    out
}

fn cmp_num(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn cmp_dotted(a: &str, b: &str) -> Ordering {
    let ta = tokens(a);
    let tb = tokens(b);
    let n = ta.len().max(tb.len());
    for i in 0..n {
        let o = match (ta.get(i), tb.get(i)) {
            (Some(Tok::Num(x)), Some(Tok::Num(y))) => cmp_num(x, y),
            (Some(Tok::Alpha(x)), Some(Tok::Alpha(y))) => {
                x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase())
            }
            // A number sorts after letters (`1.0.1` > `1.0.rc1`).
            (Some(Tok::Num(_)), Some(Tok::Alpha(_))) => Ordering::Greater,
            (Some(Tok::Alpha(_)), Some(Tok::Num(_))) => Ordering::Less,
            (Some(Tok::Num(x)), None) => cmp_num(x, "0"),
            (None, Some(Tok::Num(y))) => cmp_num("0", y),
            // A trailing letter part is a pre-release (`1.0rc1` < `1.0`).
            (Some(Tok::Alpha(_)), None) => Ordering::Less,
            (None, Some(Tok::Alpha(_))) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// A semantic version, read leniently (`0.1` → `0.1.0`, `0` → `0.0.0`).
pub fn semver(v: &str) -> Option<semver::Version> {
    let v = v.trim();
    if let Ok(p) = semver::Version::parse(v) {
        return Some(p);
    }
    let dots = v
        .split(['-', '+'])
        .next()
        .unwrap_or("")
        .matches('.')
        .count();
    let padded = match dots {
        0 => {
            let (head, tail) = v.split_at(v.find(['-', '+']).unwrap_or(v.len()));
            format!("{head}.0.0{tail}")
        }
        1 => {
            let (head, tail) = v.split_at(v.find(['-', '+']).unwrap_or(v.len()));
            format!("{head}.0{tail}")
        }
        _ => return None,
    };
    semver::Version::parse(&padded).ok()
}

/// Orders two versions in a scheme.
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Ordering {
    if scheme == Scheme::Semver
        && let (Some(x), Some(y)) = (semver(a), semver(b))
    {
        return x.cmp_precedence(&y);
    }
    cmp_dotted(a, b)
}

/// Whether two versions are the same version in a scheme (`24.003` and `24.003.0` are).
pub fn equal(scheme: Scheme, a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b) || compare(scheme, a, b) == Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn dotted_order() {
        for (a, b, o) in [
            ("15.14", "16.00", Less),
            ("10.0.19044.2728", "10.0.19044.2846", Less),
            ("24.003.0", "24.003.20054", Less),
            ("24.002.21005", "24.003.0", Less),
            ("112.0.5615.121", "112.0.5615.49", Greater),
            ("97.0.2", "97.0.2.0", Equal),
            ("1.0rc1", "1.0", Less),
            ("21.07", "21.7", Equal),
        ] {
            assert_eq!(compare(Scheme::Dotted, a, b), o, "{a} vs {b}");
        }
    }

    #[test]
    fn semver_order() {
        assert_eq!(compare(Scheme::Semver, "0.0.0-0", "0.1.0"), Less);
        assert_eq!(compare(Scheme::Semver, "0.1", "0.1.44"), Less);
        assert_eq!(compare(Scheme::Semver, "0", "0.0.1"), Less);
        assert_eq!(compare(Scheme::Semver, "1.44.1", "1.44.2"), Less);
        assert_eq!(compare(Scheme::Semver, "1.0.0-alpha", "1.0.0"), Less);
    }
}
