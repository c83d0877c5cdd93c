//! The demo's vulnerability monitoring (issue 18): the sample feeds a prefecture would carry in on
//! removable media — an NVD CVE API 2.0 file, OSV advisories for crates.io and RustSec's — imported
//! the day the demo starts, the SE's confirmed CPE mappings for the standard image's software, and the
//! matching over every terminal's latest inventory and unyo's own SBOM.
//!
//! The feeds are public records kept with the vuln crate's tests (with their provenance); their newest
//! records are older than the staleness limit, so the pages say the feeds are old rather than that
//! nothing is vulnerable.

use std::io::Cursor;
use unyo_store::{Result, Store, StoreError};

/// The feed files, as named on the medium.
const FEEDS: &[(&str, &[u8])] = &[
    (
        "nvdcve-2.0-sample.json",
        include_bytes!("../../vuln/tests/data/nvd/nvdcve-2.0-sample.json"),
    ),
    (
        "GHSA-6g7w-8wpp-frhj.json",
        include_bytes!("../../vuln/tests/data/osv/GHSA-6g7w-8wpp-frhj.json"),
    ),
    (
        "GHSA-7rrj-xr53-82p7.json",
        include_bytes!("../../vuln/tests/data/osv/GHSA-7rrj-xr53-82p7.json"),
    ),
    (
        "GHSA-8r5v-vm4m-4g25.json",
        include_bytes!("../../vuln/tests/data/osv/GHSA-8r5v-vm4m-4g25.json"),
    ),
    (
        "GHSA-f3pg-qwvg-p99c.json",
        include_bytes!("../../vuln/tests/data/osv/GHSA-f3pg-qwvg-p99c.json"),
    ),
    (
        "GHSA-f8vr-r385-rh5r.json",
        include_bytes!("../../vuln/tests/data/osv/GHSA-f8vr-r385-rh5r.json"),
    ),
    (
        "GHSA-m5pq-gvj9-9vr8.json",
        include_bytes!("../../vuln/tests/data/osv/GHSA-m5pq-gvj9-9vr8.json"),
    ),
    (
        "GHSA-wcg3-cvx6-7396.json",
        include_bytes!("../../vuln/tests/data/osv/GHSA-wcg3-cvx6-7396.json"),
    ),
    (
        "GHSA-xmrp-424f-vfpx.json",
        include_bytes!("../../vuln/tests/data/osv/GHSA-xmrp-424f-vfpx.json"),
    ),
];

/// The SE's confirmed mappings of the standard image's software (name, publisher, CPEs).
const MAPPINGS: &[(&str, &str, &str)] = &[
    (
        "7-Zip 19.00 (x64)",
        "Igor Pavlov",
        "cpe:2.3:a:7-zip:7-zip:19.00:*:*:*:*:*:*:*",
    ),
    (
        "Adobe Acrobat Reader DC MUI",
        "Adobe Inc.",
        "cpe:2.3:a:adobe:acrobat_reader_dc:23.003.20284:*:*:*:continuous:*:*:*",
    ),
    (
        "Java 8 Update 391",
        "Oracle Corporation",
        "cpe:2.3:a:oracle:jre:1.8.0:update391:*:*:*:*:*:*",
    ),
];

/// What [`crate::load_vulnerabilities`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VulnSummary {
    /// Feed files imported.
    pub files: usize,
    /// Findings opened.
    pub findings: u64,
}

pub(crate) async fn load(store: &Store) -> Result<VulnSummary> {
    let se = store
        .user_by_name("se")
        .await?
        .ok_or_else(|| StoreError::Internal("demo account se is missing".into()))?
        .actor("demo");
    let mut summary = VulnSummary::default();
    for (name, bytes) in FEEDS {
        let outcome = store
            .import_feed_reader(&se, name, Cursor::new(*bytes))
            .await?;
        if !outcome.ok {
            return Err(StoreError::Internal(outcome.message));
        }
        summary.files += 1;
    }
    for (name, publisher, cpe) in MAPPINGS {
        store
            .set_cpe_mapping(&se, name, publisher, &[(*cpe).to_string()])
            .await?;
    }
    summary.findings = store.rematch_vulnerabilities(&se).await?.opened;
    Ok(summary)
}
