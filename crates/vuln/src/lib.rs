//! Offline vulnerability feeds for unyo (R15, R16).
//!
//! The closed network receives feeds as files on removable media. This crate reads them — NVD CVE API 2.0 JSON
//! ([`nvd`], streamed record by record, plain or gzip), JVN iPedia XML ([`jvn`]: MyJVN VULDEF and JVNRSS/JVNDBRSS),
//! OSV JSON ([`osv`], one record or a zip of many) and RustSec advisories ([`rustsec`]) — into one model,
//! [`Vulnerability`], and decides whether installed products are affected ([`matching`]): NVD configurations over
//! CPE 2.3 names ([`cpe`]) and OSV ranges, with versions ordered per ecosystem ([`version`]). [`sbom`] reads a
//! CycloneDX SBOM into packages. Pure: it reads only what it is handed and never the clock.

#![forbid(unsafe_code)]

pub mod cpe;
pub mod cvss;
pub mod jvn;
pub mod mapping;
pub mod matching;
pub mod nvd;
pub mod osv;
pub mod rustsec;
pub mod sbom;
pub mod version;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

pub use cpe::Cpe;

/// Which feed a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedKind {
    /// NVD CVE API 2.0 JSON.
    Nvd,
    /// JVN iPedia (MyJVN) XML.
    Jvn,
    /// OSV JSON.
    Osv,
    /// The RustSec advisory database.
    Rustsec,
}

impl FeedKind {
    /// The name stored and shown in lists.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Nvd => "nvd",
            FeedKind::Jvn => "jvn",
            FeedKind::Osv => "osv",
            FeedKind::Rustsec => "rustsec",
        }
    }

    /// Parses [`FeedKind::as_str`].
    pub fn parse(s: &str) -> Option<FeedKind> {
        Some(match s {
            "nvd" => FeedKind::Nvd,
            "jvn" => FeedKind::Jvn,
            "osv" => FeedKind::Osv,
            "rustsec" => FeedKind::Rustsec,
            _ => return None,
        })
    }

    /// The label on screen.
    pub fn label(self) -> &'static str {
        match self {
            FeedKind::Nvd => "NVD",
            FeedKind::Jvn => "JVN iPedia",
            FeedKind::Osv => "OSV",
            FeedKind::Rustsec => "RustSec",
        }
    }
}

/// Qualitative severity, as CVSS ranks scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Not rated (no score, or score 0).
    None,
    /// 0.1–3.9.
    Low,
    /// 4.0–6.9.
    Medium,
    /// 7.0–8.9.
    High,
    /// 9.0–10.0.
    Critical,
}

impl Severity {
    /// The rank of a CVSS (v3/v4) base score; v2 has no Critical, see [`Severity::from_v2_score`].
    pub fn from_score(score: f32) -> Severity {
        match score {
            s if s >= 9.0 => Severity::Critical,
            s if s >= 7.0 => Severity::High,
            s if s >= 4.0 => Severity::Medium,
            s if s > 0.0 => Severity::Low,
            _ => Severity::None,
        }
    }

    /// The rank of a CVSS v2 base score (Low < 4, Medium < 7, High).
    pub fn from_v2_score(score: f32) -> Severity {
        match score {
            s if s >= 7.0 => Severity::High,
            s if s >= 4.0 => Severity::Medium,
            s if s > 0.0 => Severity::Low,
            _ => Severity::None,
        }
    }

    /// Reads a feed's word for a severity (`HIGH`, `Critical`, `MODERATE`, …).
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "critical" => Severity::Critical,
            "high" | "important" => Severity::High,
            "medium" | "moderate" => Severity::Medium,
            "low" => Severity::Low,
            "none" => Severity::None,
            _ => return None,
        })
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Days from a finding's discovery to its due date: 緊急 14, 重要 30, 警告 90, 注意 and unrated 180.
    pub fn due_days(self) -> i64 {
        match self {
            Severity::Critical => 14,
            Severity::High => 30,
            Severity::Medium => 90,
            Severity::Low | Severity::None => 180,
        }
    }

    /// The Japanese label (JVN's words).
    pub fn label_ja(self) -> &'static str {
        match self {
            Severity::None => "なし",
            Severity::Low => "注意",
            Severity::Medium => "警告",
            Severity::High => "重要",
            Severity::Critical => "緊急",
        }
    }
}

/// CVSS version of a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CvssVersion {
    /// CVSS v2.0.
    V2,
    /// CVSS v3.0.
    V30,
    /// CVSS v3.1.
    V31,
    /// CVSS v4.0.
    V40,
}

impl CvssVersion {
    /// The version as written in vectors and on screen.
    pub fn as_str(self) -> &'static str {
        match self {
            CvssVersion::V2 => "2.0",
            CvssVersion::V30 => "3.0",
            CvssVersion::V31 => "3.1",
            CvssVersion::V40 => "4.0",
        }
    }

    /// Reads `2.0`, `3.0`, `3.1`, `4.0` (or the prefix of a vector, `CVSS:3.1/…`).
    pub fn parse(s: &str) -> Option<CvssVersion> {
        let s = s.trim().trim_start_matches("CVSS:");
        Some(match s.get(..3)? {
            "2.0" => CvssVersion::V2,
            "3.0" => CvssVersion::V30,
            "3.1" => CvssVersion::V31,
            "4.0" => CvssVersion::V40,
            _ => return None,
        })
    }
}

/// One CVSS rating of a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cvss {
    /// Its CVSS version.
    pub version: CvssVersion,
    /// The base score, when the feed gives it.
    pub score: Option<f32>,
    /// The severity, given by the feed or ranked from the score.
    pub severity: Severity,
    /// The vector string, when the feed gives it.
    pub vector: Option<String>,
}

/// A product a JVN record names: a CPE 2.2 URI without version, the versions in words (often Japanese).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedProduct {
    /// The CPE as published.
    pub cpe: Option<Cpe>,
    /// Vendor name as published (e.g. 「トレンドマイクロ」).
    pub vendor: String,
    /// Product name as published.
    pub product: String,
    /// Affected versions in words (「3.4.6 より前のバージョン」).
    pub versions: Vec<String>,
}

/// One vulnerability record, normalized from any feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vulnerability {
    /// The feed's id (`CVE-2024-0519`, `JVNDB-2021-002774`, `GHSA-…`, `RUSTSEC-…`).
    pub id: String,
    /// The feed it came from.
    pub feed: FeedKind,
    /// Other ids of the same vulnerability (CVE ids of a JVN or OSV record, GHSA ids of RustSec ones).
    pub aliases: Vec<String>,
    /// English (or untranslated) title.
    pub title: Option<String>,
    /// Japanese title, when the record has one.
    pub title_ja: Option<String>,
    /// English (or untranslated) description.
    pub description: Option<String>,
    /// Japanese description, when the record has one.
    pub description_ja: Option<String>,
    /// When it was first published.
    pub published: Option<DateTime<Utc>>,
    /// When it was last modified (NVD `lastModified`, JVN `DateLastUpdated`, OSV `modified`).
    pub last_modified: Option<DateTime<Utc>>,
    /// Rejected (NVD) or withdrawn (OSV, RustSec): its findings are withdrawn.
    pub rejected: bool,
    /// The record says it is disputed (NVD `cveTags`).
    pub disputed: bool,
    /// NVD status (`Analyzed`, `Modified`, `Deferred`, …) or RustSec's informational kind (`unmaintained`).
    pub status: Option<String>,
    /// CVSS ratings as the record has them.
    pub cvss: Vec<Cvss>,
    /// A severity without a score (GHSA's `database_specific.severity`).
    pub severity_hint: Option<Severity>,
    /// NVD configurations over CPE names.
    pub configurations: Vec<nvd::Configuration>,
    /// Affected packages (OSV, RustSec).
    pub packages: Vec<osv::Package>,
    /// Products named by JVN (no machine-readable versions).
    pub products: Vec<NamedProduct>,
}

impl Vulnerability {
    /// An empty record with an id.
    pub fn new(id: impl Into<String>, feed: FeedKind) -> Vulnerability {
        Vulnerability {
            id: id.into(),
            feed,
            aliases: Vec::new(),
            title: None,
            title_ja: None,
            description: None,
            description_ja: None,
            published: None,
            last_modified: None,
            rejected: false,
            disputed: false,
            status: None,
            cvss: Vec::new(),
            severity_hint: None,
            configurations: Vec::new(),
            packages: Vec::new(),
            products: Vec::new(),
        }
    }

    /// The rating due dates are set by: the newest CVSS version the record has (v4.0, v3.1, v3.0, then v2).
    pub fn main_cvss(&self) -> Option<&Cvss> {
        self.cvss.iter().max_by_key(|c| c.version)
    }

    /// The severity of [`Vulnerability::main_cvss`], else the feed's unscored severity, else `None`.
    pub fn severity(&self) -> Severity {
        self.main_cvss()
            .map(|c| c.severity)
            .or(self.severity_hint)
            .unwrap_or(Severity::None)
    }

    /// The title to show: Japanese when present, else the English one, else the start of the description.
    pub fn display_title(&self) -> String {
        if let Some(t) = self.title_ja.as_ref().or(self.title.as_ref()) {
            return t.clone();
        }
        let d = self
            .description_ja
            .as_ref()
            .or(self.description.as_ref())
            .map(String::as_str)
            .unwrap_or("");
        d.chars().take(80).collect()
    }

    /// Every id this record is known by (its own first).
    pub fn all_ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// Why a feed file could not be read. Messages are Japanese, for the person importing; callers add the file name.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The bytes are not well-formed in their format.
    #[error("{format} として読めません: {reason}")]
    Malformed {
        /// The format expected (`JSON`, `XML`, `TOML`, `ZIP`).
        format: &'static str,
        /// What the parser said, with its position.
        reason: String,
    },
    /// Well-formed, but not a feed unyo knows.
    #[error("脆弱性情報のファイルとして認識できません: {0}")]
    Unrecognized(String),
    /// Reading failed.
    #[error("読み込みに失敗しました: {0}")]
    Io(#[from] std::io::Error),
    /// The consumer of the records stopped the import.
    #[error("{0}")]
    Sink(String),
}

/// Counts of one file's reading.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadSummary {
    /// Records handed to the sink.
    pub records: u64,
    /// The newest record date (`lastModified`, `DateLastUpdated`, `modified`) in the file.
    pub newest: Option<DateTime<Utc>>,
}

impl ReadSummary {
    pub(crate) fn saw(&mut self, v: &Vulnerability) {
        self.records += 1;
        let d = v.last_modified.or(v.published);
        if d > self.newest {
            self.newest = d;
        }
    }
}

/// Reads a date as feeds write them: RFC 3339, with or without seconds, NVD's zone-less UTC, or a plain date.
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M%:z", "%Y-%m-%dT%H:%M:%S%.f%:z"] {
        if let Ok(d) = DateTime::parse_from_str(s, f) {
            return Some(d.with_timezone(&Utc));
        }
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, f) {
            return Some(d.and_utc());
        }
    }
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

/// What a file holds, told from its first bytes and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// NVD JSON (envelope or one `cve` object), maybe gzip-compressed.
    Nvd,
    /// OSV JSON record.
    Osv,
    /// A zip of OSV records.
    OsvZip,
    /// JVN XML.
    Jvn,
    /// A RustSec advisory (Markdown with TOML front matter, or TOML).
    Rustsec,
}

/// Tells a feed file's kind from its name and first bytes (at least 4 KiB of them when the file has that many).
/// Gzip is taken for NVD (the form NVD's files are distributed in).
pub fn detect(name: &str, head: &[u8]) -> Option<FileKind> {
    if head.starts_with(&[0x1f, 0x8b]) {
        return Some(FileKind::Nvd);
    }
    if head.starts_with(b"PK\x03\x04") {
        return Some(FileKind::OsvZip);
    }
    let lower = name.to_ascii_lowercase();
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('<') {
        return Some(FileKind::Jvn);
    }
    if t.starts_with("```toml") || t.starts_with("[advisory]") || lower.ends_with(".md") {
        return Some(FileKind::Rustsec);
    }
    if t.starts_with('{') {
        // NVD records carry `sourceIdentifier`/`vulnStatus`, the envelope `vulnerabilities`; OSV has neither.
        if t.contains("\"vulnerabilities\"")
            || t.contains("\"vulnStatus\"")
            || t.contains("\"sourceIdentifier\"")
            || t.contains("\"resultsPerPage\"")
        {
            return Some(FileKind::Nvd);
        }
        return Some(FileKind::Osv);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            parse_date("2016-12-13T22:59:00.167").map(|d| d.to_rfc3339()),
            Some("2016-12-13T22:59:00.167+00:00".into())
        );
        assert_eq!(
            parse_date("2025-04-11T23:52+09:00").map(|d| d.to_rfc3339()),
            Some("2025-04-11T14:52:00+00:00".into())
        );
        assert!(parse_date("2025-04-07").is_some());
        assert!(parse_date("").is_none());
    }
}
