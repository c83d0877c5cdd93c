//! OSV JSON records (one per file, or a zip of a directory of them) and the package ranges they and RustSec
//! advisories describe.

use std::io::{Read, Seek};

use serde::{Deserialize, Serialize};

use crate::version::{self, Scheme};
use crate::{CvssVersion, FeedError, FeedKind, ReadSummary, Severity, Vulnerability};

/// One event of an OSV range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// Affected from this version on (`0`: from the first).
    Introduced(String),
    /// Not affected from this version on.
    Fixed(String),
    /// Affected up to and including this version.
    LastAffected(String),
    /// Range end for git ranges; ignored for versions.
    Limit(String),
}

/// The kind of an OSV range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RangeKind {
    /// Semantic versions.
    Semver,
    /// The ecosystem's own order.
    Ecosystem,
    /// Commits; not evaluated against versions.
    Git,
}

/// One OSV range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Range {
    /// Its kind.
    #[serde(rename = "type")]
    pub kind: RangeKind,
    /// Its events, in order.
    pub events: Vec<Event>,
}

/// An affected package: OSV ranges and versions, or RustSec's patched/unaffected requirements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Package {
    /// Ecosystem (`crates.io`, …).
    pub ecosystem: String,
    /// Package name.
    pub name: String,
    /// OSV ranges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    /// Versions listed one by one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// GHSA's bound for a range left open (`< 0.2`), from `database_specific.last_known_affected_version_range`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_known_affected: Option<String>,
    /// RustSec: semver requirements of patched versions. When `rustsec` is set, a version is affected unless it
    /// meets one of these or of `unaffected`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patched: Vec<String>,
    /// RustSec: semver requirements of versions never affected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unaffected: Vec<String>,
    /// The package is described the RustSec way (patched/unaffected).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rustsec: bool,
}

fn req_matches(req: &str, v: &semver::Version) -> bool {
    semver::VersionReq::parse(req).is_ok_and(|r| r.matches(v))
}

fn bound_ok(hint: &str, scheme: Scheme, v: &str) -> bool {
    let h = hint.trim();
    if let Some(b) = h.strip_prefix("<=") {
        version::compare(scheme, v, b.trim()).is_le()
    } else if let Some(b) = h.strip_prefix('<') {
        version::compare(scheme, v, b.trim()).is_lt()
    } else {
        true
    }
}

impl Range {
    /// Whether `v` falls in this range (OSV's evaluation: walk the events in version order).
    pub fn affects(&self, scheme: Scheme, v: &str, open_bound: Option<&str>) -> bool {
        if self.kind == RangeKind::Git {
            return false;
        }
        let key = |e: &Event| -> String {
            match e {
                Event::Introduced(x)
                | Event::Fixed(x)
                | Event::LastAffected(x)
                | Event::Limit(x) => x.clone(),
            }
        };
        let mut events: Vec<&Event> = self.events.iter().collect();
        events.sort_by(|a, b| {
            let (ka, kb) = (key(a), key(b));
            if ka == "0" || kb == "0" {
                return (kb == "0").cmp(&(ka == "0"));
            }
            version::compare(scheme, &ka, &kb)
        });
        let mut affected = false;
        let mut closed = false;
        for e in events {
            match e {
                Event::Introduced(x) => {
                    if x == "0" || version::compare(scheme, v, x).is_ge() {
                        affected = true;
                        closed = false;
                    }
                }
                Event::Fixed(x) => {
                    if version::compare(scheme, v, x).is_ge() {
                        affected = false;
                    } else if affected {
                        closed = true;
                    }
                }
                Event::LastAffected(x) => {
                    if version::compare(scheme, v, x).is_gt() {
                        affected = false;
                    } else if affected {
                        closed = true;
                    }
                }
                Event::Limit(_) => {}
            }
        }
        if affected
            && !closed
            && let Some(b) = open_bound
        {
            return bound_ok(b, scheme, v);
        }
        affected
    }

    /// The first fixed version above `v`, the target of an update.
    pub fn fixed_after(&self, scheme: Scheme, v: &str) -> Option<String> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Fixed(x) if version::compare(scheme, x, v).is_gt() => Some(x.clone()),
                _ => None,
            })
            .min_by(|a, b| version::compare(scheme, a, b))
    }
}

impl Package {
    /// Whether version `v` of this package is affected.
    pub fn affects(&self, v: &str) -> bool {
        let scheme = Scheme::for_ecosystem(&self.ecosystem);
        if self.rustsec {
            let Some(sv) = version::semver(v) else {
                return false;
            };
            return !self
                .patched
                .iter()
                .chain(&self.unaffected)
                .any(|r| req_matches(r, &sv));
        }
        if self.versions.iter().any(|x| version::equal(scheme, x, v)) {
            return true;
        }
        self.ranges
            .iter()
            .any(|r| r.affects(scheme, v, self.last_known_affected.as_deref()))
    }

    /// The version to update to from `v`, when the record says.
    pub fn fixed_after(&self, v: &str) -> Option<String> {
        let scheme = Scheme::for_ecosystem(&self.ecosystem);
        if self.rustsec {
            // The lowest bound of a patched requirement above v (`>= 1.44.2`).
            return self
                .patched
                .iter()
                .flat_map(|r| r.split(','))
                .filter_map(|c| c.trim().strip_prefix(">=").map(|x| x.trim().to_owned()))
                .filter(|x| version::compare(scheme, x, v).is_gt())
                .min_by(|a, b| version::compare(scheme, a, b));
        }
        self.ranges
            .iter()
            .filter_map(|r| r.fixed_after(scheme, v))
            .min_by(|a, b| version::compare(scheme, a, b))
    }
}

#[derive(Deserialize)]
struct RawOsv {
    id: String,
    modified: Option<String>,
    published: Option<String>,
    withdrawn: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    summary: Option<String>,
    details: Option<String>,
    #[serde(default)]
    severity: Vec<RawSeverity>,
    #[serde(default)]
    affected: Vec<RawAffected>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct RawAffected {
    package: Option<RawPackage>,
    #[serde(default)]
    ranges: Vec<RawRange>,
    #[serde(default)]
    versions: Vec<String>,
    database_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawPackage {
    ecosystem: String,
    name: String,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    events: Vec<serde_json::Map<String, serde_json::Value>>,
}

fn convert(raw: RawOsv, feed: FeedKind) -> Vulnerability {
    let mut v = Vulnerability::new(raw.id, feed);
    v.aliases = raw.aliases;
    v.title = raw.summary.filter(|s| !s.trim().is_empty());
    v.description = raw.details;
    v.published = raw.published.as_deref().and_then(crate::parse_date);
    v.last_modified = raw.modified.as_deref().and_then(crate::parse_date);
    v.rejected = raw.withdrawn.is_some();
    for s in raw.severity {
        let version = match s.kind.as_str() {
            "CVSS_V4" => CvssVersion::V40,
            "CVSS_V3" => CvssVersion::parse(&s.score).unwrap_or(CvssVersion::V31),
            "CVSS_V2" => CvssVersion::V2,
            _ => continue,
        };
        v.cvss.push(crate::cvss::rate(version, &s.score));
    }
    v.severity_hint = raw
        .database_specific
        .as_ref()
        .and_then(|d| d.get("severity"))
        .and_then(|s| s.as_str())
        .and_then(Severity::parse);
    for a in raw.affected {
        let Some(p) = a.package else { continue };
        let ranges = a
            .ranges
            .into_iter()
            .filter_map(|r| {
                let kind = match r.kind.as_str() {
                    "SEMVER" => RangeKind::Semver,
                    "ECOSYSTEM" => RangeKind::Ecosystem,
                    "GIT" => RangeKind::Git,
                    _ => return None,
                };
                let events = r
                    .events
                    .into_iter()
                    .filter_map(|m| {
                        let (k, val) = m.into_iter().next()?;
                        let val = val.as_str()?.to_owned();
                        Some(match k.as_str() {
                            "introduced" => Event::Introduced(val),
                            "fixed" => Event::Fixed(val),
                            "last_affected" => Event::LastAffected(val),
                            "limit" => Event::Limit(val),
                            _ => return None,
                        })
                    })
                    .collect();
                Some(Range { kind, events })
            })
            .collect();
        v.packages.push(Package {
            ecosystem: p.ecosystem,
            name: p.name,
            ranges,
            versions: a.versions,
            last_known_affected: a
                .database_specific
                .as_ref()
                .and_then(|d| d.get("last_known_affected_version_range"))
                .and_then(|s| s.as_str())
                .map(str::to_owned),
            patched: Vec::new(),
            unaffected: Vec::new(),
            rustsec: false,
        });
    }
    v
}

fn parse_one(bytes: &[u8]) -> Result<Vulnerability, FeedError> {
    let raw: RawOsv = serde_json::from_slice(bytes).map_err(|e| FeedError::Malformed {
        format: "JSON",
        reason: e.to_string(),
    })?;
    if raw.affected.is_empty() && raw.summary.is_none() && raw.details.is_none() {
        return Err(FeedError::Unrecognized(
            "OSV レコードに affected も summary もありません".into(),
        ));
    }
    let feed = if raw.id.starts_with("RUSTSEC-") {
        FeedKind::Rustsec
    } else {
        FeedKind::Osv
    };
    Ok(convert(raw, feed))
}

/// Reads one OSV JSON record.
pub fn read(bytes: &[u8], sink: &mut crate::nvd::Sink<'_>) -> Result<ReadSummary, FeedError> {
    let v = parse_one(bytes)?;
    let mut s = ReadSummary::default();
    s.saw(&v);
    sink(v).map_err(FeedError::Sink)?;
    Ok(s)
}

/// One member of a zip that could not be read; the others still are.
#[derive(Debug)]
pub struct MemberError {
    /// The member's path in the zip.
    pub name: String,
    /// Why.
    pub error: FeedError,
}

/// Reads every `.json` member of a zip of OSV records (the form OSV distributes an ecosystem in). A member that
/// cannot be read is reported and skipped.
pub fn read_zip<R: Read + Seek>(
    r: R,
    sink: &mut crate::nvd::Sink<'_>,
) -> Result<(ReadSummary, Vec<MemberError>), FeedError> {
    const MAX_MEMBER: u64 = 16 * 1024 * 1024;
    let mut zip = zip::ZipArchive::new(r).map_err(|e| FeedError::Malformed {
        format: "ZIP",
        reason: e.to_string(),
    })?;
    let mut summary = ReadSummary::default();
    let mut errors = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).map_err(|e| FeedError::Malformed {
            format: "ZIP",
            reason: e.to_string(),
        })?;
        let name = f
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| format!("#{i}"));
        if !f.is_file() || !name.to_ascii_lowercase().ends_with(".json") {
            continue;
        }
        let mut bytes = Vec::new();
        // A member's stated size may lie; read at most the limit and one byte more.
        (&mut f).take(MAX_MEMBER + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_MEMBER {
            errors.push(MemberError {
                name,
                error: FeedError::Unrecognized("16 MiB を超えるレコードです".into()),
            });
            continue;
        }
        match parse_one(&bytes) {
            Ok(v) => {
                summary.saw(&v);
                sink(v).map_err(FeedError::Sink)?;
            }
            Err(error) => errors.push(MemberError { name, error }),
        }
    }
    Ok((summary, errors))
}
