//! The words of vulnerability monitoring: (key, 日本語, English).

/// UI words of this area: (key, 日本語, English).
pub const TEXT: &[(&str, &str, &str)] = &[("nav.vulns", "脆弱性", "Vulnerabilities")];
