//! CPE 2.3 formatted strings (with their backslash escapes) and CPE 2.2 URIs, and NVD's attribute matching.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One attribute of a CPE name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Comp {
    /// `*`: any value (in criteria), or unknown (in an installed product).
    Any,
    /// `-`: not applicable.
    Na,
    /// A concrete value, unescaped and lower-cased.
    Val(String),
}

impl Comp {
    /// The value when it is a concrete one.
    pub fn value(&self) -> Option<&str> {
        match self {
            Comp::Val(v) => Some(v),
            _ => None,
        }
    }

    fn parse_fs(raw: &str) -> Comp {
        match raw {
            "*" | "" => Comp::Any,
            "-" => Comp::Na,
            _ => {
                let mut out = String::with_capacity(raw.len());
                let mut chars = raw.chars();
                while let Some(c) = chars.next() {
                    if c == '\\' {
                        if let Some(n) = chars.next() {
                            out.push(n);
                        }
                    } else {
                        out.push(c);
                    }
                }
                Comp::Val(out.to_lowercase())
            }
        }
    }

    fn write_fs(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Comp::Any => f.write_str("*"),
            Comp::Na => f.write_str("-"),
            Comp::Val(v) => {
                for c in v.chars() {
                    if !(c.is_alphanumeric() || c == '_' || c == '.' || c == '-') {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                Ok(())
            }
        }
    }
}

/// Index of each attribute in [`Cpe::attrs`], in the order of the formatted string.
pub mod attr {
    pub const PART: usize = 0;
    pub const VENDOR: usize = 1;
    pub const PRODUCT: usize = 2;
    pub const VERSION: usize = 3;
    pub const UPDATE: usize = 4;
    pub const EDITION: usize = 5;
    pub const LANGUAGE: usize = 6;
    pub const SW_EDITION: usize = 7;
    pub const TARGET_SW: usize = 8;
    pub const TARGET_HW: usize = 9;
    pub const OTHER: usize = 10;
}

/// A CPE 2.3 name: part, vendor, product, version, update, edition, language, sw_edition, target_sw, target_hw, other.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cpe {
    /// The eleven attributes; see [`attr`] for their indices.
    pub attrs: [Comp; 11],
}

/// A string that is not a CPE name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("CPE 名として読めません: {0}")]
pub struct CpeError(pub String);

impl Cpe {
    /// A product with the given part (`a`, `o`, `h`), vendor and product, every other attribute `*`.
    pub fn product(part: &str, vendor: &str, product: &str) -> Cpe {
        let mut attrs: [Comp; 11] = std::array::from_fn(|_| Comp::Any);
        attrs[attr::PART] = Comp::parse_fs(part);
        attrs[attr::VENDOR] = Comp::parse_fs(vendor);
        attrs[attr::PRODUCT] = Comp::parse_fs(product);
        Cpe { attrs }
    }

    /// Parses a CPE 2.3 formatted string (`cpe:2.3:a:notepad-plus-plus:notepad\+\+:*:…`); missing trailing
    /// attributes are `*`.
    pub fn parse23(s: &str) -> Result<Cpe, CpeError> {
        let rest = s
            .trim()
            .strip_prefix("cpe:2.3:")
            .ok_or_else(|| CpeError(s.to_owned()))?;
        let mut parts = Vec::with_capacity(11);
        let mut cur = String::new();
        let mut escaped = false;
        for c in rest.chars() {
            if escaped {
                cur.push(c);
                escaped = false;
            } else if c == '\\' {
                cur.push(c);
                escaped = true;
            } else if c == ':' {
                parts.push(std::mem::take(&mut cur));
            } else {
                cur.push(c);
            }
        }
        parts.push(cur);
        if parts.len() > 11 || parts.len() < 3 || parts[0].len() != 1 {
            return Err(CpeError(s.to_owned()));
        }
        let mut attrs: [Comp; 11] = std::array::from_fn(|_| Comp::Any);
        for (i, p) in parts.iter().enumerate() {
            attrs[i] = Comp::parse_fs(p);
        }
        Ok(Cpe { attrs })
    }

    /// Parses a CPE 2.2 URI (`cpe:/a:vendor:product:version`), as JVN publishes them.
    pub fn parse22(s: &str) -> Result<Cpe, CpeError> {
        let rest = s
            .trim()
            .strip_prefix("cpe:/")
            .ok_or_else(|| CpeError(s.to_owned()))?;
        let parts: Vec<&str> = rest.split(':').collect();
        if parts.len() > 7 || parts.is_empty() || parts[0].len() != 1 {
            return Err(CpeError(s.to_owned()));
        }
        let mut attrs: [Comp; 11] = std::array::from_fn(|_| Comp::Any);
        for (i, p) in parts.iter().enumerate() {
            attrs[i] = match *p {
                "" => Comp::Any,
                "-" => Comp::Na,
                v => Comp::Val(percent_decode(v).to_lowercase()),
            };
        }
        Ok(Cpe { attrs })
    }

    /// The attribute at `i` (see [`attr`]).
    pub fn get(&self, i: usize) -> &Comp {
        &self.attrs[i]
    }

    /// Vendor and product, the key feeds are indexed by.
    pub fn key(&self) -> (&str, &str) {
        (
            self.attrs[attr::VENDOR].value().unwrap_or(""),
            self.attrs[attr::PRODUCT].value().unwrap_or(""),
        )
    }

    /// Whether this criteria name matches an installed product's name, versions aside (the version attribute is
    /// compared here only when the criteria fixes it and `version_checked` is false).
    ///
    /// An attribute the installed product leaves unknown (`*`) may be anything, so it matches a concrete criteria
    /// value — except part, vendor, product and version, which must be known.
    pub fn matches_attrs(&self, installed: &Cpe, version_checked: bool) -> bool {
        for i in 0..11 {
            if i == attr::VERSION && version_checked {
                continue;
            }
            let ok = match (&self.attrs[i], &installed.attrs[i]) {
                (Comp::Any, _) => true,
                (Comp::Na, Comp::Na) => true,
                (Comp::Na, Comp::Any) => i > attr::VERSION,
                (Comp::Na, Comp::Val(_)) => false,
                (Comp::Val(c), Comp::Val(t)) => {
                    if i == attr::VERSION {
                        crate::version::equal(crate::version::Scheme::Dotted, c, t)
                    } else {
                        c == t
                    }
                }
                (Comp::Val(_), Comp::Any) => i > attr::VERSION,
                (Comp::Val(_), Comp::Na) => false,
            };
            if !ok {
                return false;
            }
        }
        true
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl fmt::Display for Cpe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cpe:2.3")?;
        for a in &self.attrs {
            f.write_str(":")?;
            a.write_fs(f)?;
        }
        Ok(())
    }
}

impl FromStr for Cpe {
    type Err = CpeError;
    fn from_str(s: &str) -> Result<Cpe, CpeError> {
        if s.starts_with("cpe:/") {
            Cpe::parse22(s)
        } else {
            Cpe::parse23(s)
        }
    }
}

impl Serialize for Cpe {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cpe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Cpe, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_round_trip() {
        let c = Cpe::parse23(r"cpe:2.3:a:notepad-plus-plus:notepad\+\+:*:*:*:*:*:*:*:*").unwrap();
        assert_eq!(c.key(), ("notepad-plus-plus", "notepad++"));
        assert_eq!(
            c.to_string(),
            r"cpe:2.3:a:notepad-plus-plus:notepad\+\+:*:*:*:*:*:*:*:*"
        );
        let c = Cpe::parse23("cpe:2.3:a:microsoft:office_2016:-:*:*:*:-:*:x64:*").unwrap();
        assert_eq!(c.get(attr::VERSION), &Comp::Na);
        assert_eq!(c.get(attr::TARGET_HW), &Comp::Val("x64".into()));
        let j = Cpe::parse22("cpe:/a:trendmicro:serverprotect").unwrap();
        assert_eq!(j.key(), ("trendmicro", "serverprotect"));
        assert!(Cpe::parse23("cpe:/a:x").is_err());
        assert!(Cpe::parse23("nonsense").is_err());
    }
}
