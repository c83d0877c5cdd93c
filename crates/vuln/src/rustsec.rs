//! RustSec advisories: the `crates/<name>/RUSTSEC-*.md` files of the advisory database (TOML front matter in a
//! ```` ```toml ```` block, then the Markdown title and text), or plain TOML advisories.

use serde::Deserialize;

use crate::osv::Package;
use crate::{CvssVersion, FeedError, FeedKind, ReadSummary, Vulnerability};

#[derive(Deserialize)]
struct RawFile {
    advisory: RawAdvisory,
    #[serde(default)]
    versions: RawVersions,
}

#[derive(Deserialize)]
struct RawAdvisory {
    id: String,
    package: String,
    date: Option<toml::Value>,
    withdrawn: Option<toml::Value>,
    #[serde(default)]
    aliases: Vec<String>,
    cvss: Option<String>,
    informational: Option<String>,
    title: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawVersions {
    #[serde(default)]
    patched: Vec<String>,
    #[serde(default)]
    unaffected: Vec<String>,
}

fn date_of(v: Option<&toml::Value>) -> Option<chrono::DateTime<chrono::Utc>> {
    match v? {
        toml::Value::String(s) => crate::parse_date(s),
        toml::Value::Datetime(d) => crate::parse_date(&d.to_string()),
        _ => None,
    }
}

/// Parses one advisory file's text.
pub fn parse(text: &str) -> Result<Vulnerability, FeedError> {
    let text = text.trim_start_matches('\u{feff}');
    let (front, body) = match text.trim_start().strip_prefix("```toml") {
        Some(rest) => match rest.find("\n```") {
            Some(end) => (&rest[..end], &rest[end + 4..]),
            None => {
                return Err(FeedError::Malformed {
                    format: "TOML",
                    reason: "```toml のブロックが閉じていません".into(),
                });
            }
        },
        None => (text, ""),
    };
    let raw: RawFile = toml::from_str(front).map_err(|e| FeedError::Malformed {
        format: "TOML",
        reason: e.to_string(),
    })?;
    let a = raw.advisory;
    let mut v = Vulnerability::new(a.id, FeedKind::Rustsec);
    v.aliases = a.aliases;
    // The Markdown's first heading is the title, the rest the description.
    let body = body.trim();
    let (heading, rest) = match body.strip_prefix("# ") {
        Some(b) => b.split_once('\n').unwrap_or((b, "")),
        None => ("", body),
    };
    v.title = a
        .title
        .or_else(|| (!heading.trim().is_empty()).then(|| heading.trim().to_owned()));
    v.description = a
        .description
        .or_else(|| (!rest.trim().is_empty()).then(|| rest.trim().to_owned()));
    v.published = date_of(a.date.as_ref());
    v.last_modified = v.published;
    if let Some(w) = a.withdrawn.as_ref() {
        v.rejected = true;
        v.last_modified = date_of(Some(w)).or(v.last_modified);
    }
    v.status = a.informational;
    if let Some(vector) = a.cvss
        && let Some(ver) = CvssVersion::parse(&vector)
    {
        v.cvss.push(crate::cvss::rate(ver, &vector));
    }
    v.packages.push(Package {
        ecosystem: "crates.io".into(),
        name: a.package,
        ranges: Vec::new(),
        versions: Vec::new(),
        last_known_affected: None,
        patched: raw.versions.patched,
        unaffected: raw.versions.unaffected,
        rustsec: true,
    });
    Ok(v)
}

/// Reads one advisory file and hands it to `sink`.
pub fn read(bytes: &[u8], sink: &mut crate::nvd::Sink<'_>) -> Result<ReadSummary, FeedError> {
    let text = std::str::from_utf8(bytes).map_err(|e| FeedError::Malformed {
        format: "TOML",
        reason: format!("UTF-8 ではありません（{} バイト目）", e.valid_up_to()),
    })?;
    let v = parse(text)?;
    let mut s = ReadSummary::default();
    s.saw(&v);
    sink(v).map_err(FeedError::Sink)?;
    Ok(s)
}
