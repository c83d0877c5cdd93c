//! Whether installed products are affected: NVD configurations (AND/OR nodes, `negate`, platforms that are not
//! vulnerable themselves, version ranges, exact versions with their update fields) over CPE names, and OSV /
//! RustSec package ranges. [`Index`] finds the few records that can concern a subject among many.

use std::collections::HashMap;

use crate::cpe::{Comp, attr};
use crate::nvd::{Configuration, CpeMatch, Node, Operator};
use crate::version::{self, Scheme};
use crate::{Cpe, Vulnerability};

/// A package installed in an ecosystem (a crate of unyo's own SBOM).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PackageRef {
    /// The ecosystem (`crates.io`).
    pub ecosystem: String,
    /// Package name.
    pub name: String,
    /// Installed version.
    pub version: String,
}

/// What is installed on one subject (a terminal, or unyo itself).
#[derive(Debug, Clone, Default)]
pub struct Subject {
    /// Installed products as CPE names with their versions (software and the OS).
    pub cpes: Vec<Cpe>,
    /// Platforms the subject runs on, for configurations' non-vulnerable entries (`o:microsoft:windows:-`); they
    /// are never findings themselves.
    pub platforms: Vec<Cpe>,
    /// Installed packages.
    pub packages: Vec<PackageRef>,
}

/// Where a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// Index into [`Subject::cpes`].
    Cpe(usize),
    /// Index into [`Subject::packages`].
    Package(usize),
}

/// One affected item of a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// What is affected.
    pub target: Target,
    /// The version to update to, when the record says (NVD `versionEndExcluding`, OSV `fixed`).
    pub fixed: Option<String>,
}

/// The platform names a Windows OS name stands for besides itself: NVD writes "runs on Windows" as
/// `cpe:2.3:o:microsoft:windows:-:…`.
pub fn platforms_of(os: &Cpe) -> Vec<Cpe> {
    let mut out = vec![os.clone()];
    if let (Some("microsoft"), Some(p)) =
        (os.get(attr::VENDOR).value(), os.get(attr::PRODUCT).value())
        && p.starts_with("windows")
    {
        let mut w = Cpe::product("o", "microsoft", "windows");
        w.attrs[attr::VERSION] = Comp::Na;
        out.push(w);
    }
    out
}

/// Whether one CPE match entry matches an installed name, version range included.
pub fn entry_matches(m: &CpeMatch, installed: &Cpe) -> bool {
    if m.criteria.key() != installed.key() {
        return false;
    }
    if !m.has_range() {
        return m.criteria.matches_attrs(installed, false);
    }
    if !m.criteria.matches_attrs(installed, true) {
        return false;
    }
    // A range needs a version to compare: `-` or unknown is not in any range.
    let Some(v) = installed.get(attr::VERSION).value() else {
        return false;
    };
    let s = Scheme::Dotted;
    if let Some(b) = &m.version_start_including
        && version::compare(s, v, b).is_lt()
    {
        return false;
    }
    if let Some(b) = &m.version_start_excluding
        && version::compare(s, v, b).is_le()
    {
        return false;
    }
    if let Some(b) = &m.version_end_including
        && version::compare(s, v, b).is_gt()
    {
        return false;
    }
    if let Some(b) = &m.version_end_excluding
        && version::compare(s, v, b).is_ge()
    {
        return false;
    }
    true
}

fn eval_node(node: &Node, subject: &Subject, hits: &mut Vec<Hit>) -> bool {
    let mut local = Vec::new();
    let mut any = false;
    let mut all = true;
    for m in &node.cpe_match {
        let mut matched = false;
        for (i, c) in subject.cpes.iter().enumerate() {
            if entry_matches(m, c) {
                matched = true;
                if m.vulnerable {
                    local.push(Hit {
                        target: Target::Cpe(i),
                        fixed: m.version_end_excluding.clone(),
                    });
                }
            }
        }
        if !matched && !m.vulnerable {
            matched = subject.platforms.iter().any(|p| entry_matches(m, p));
        }
        any |= matched;
        all &= matched;
    }
    let result = match node.operator {
        Operator::Or => any,
        Operator::And => all && !node.cpe_match.is_empty(),
    };
    if node.negate {
        return !result;
    }
    if result {
        hits.extend(local);
    }
    result
}

fn eval_config(cfg: &Configuration, subject: &Subject) -> Vec<Hit> {
    let mut hits = Vec::new();
    let results: Vec<bool> = cfg
        .nodes
        .iter()
        .map(|n| eval_node(n, subject, &mut hits))
        .collect();
    let ok = match cfg.operator {
        Operator::Or => results.iter().any(|r| *r),
        Operator::And => !results.is_empty() && results.iter().all(|r| *r),
    };
    if ok != cfg.negate { hits } else { Vec::new() }
}

/// The affected items of a subject under one record (none for a rejected record).
pub fn affected(v: &Vulnerability, subject: &Subject) -> Vec<Hit> {
    if v.rejected {
        return Vec::new();
    }
    let mut hits: Vec<Hit> = Vec::new();
    for cfg in &v.configurations {
        for h in eval_config(cfg, subject) {
            if !hits.iter().any(|x| x.target == h.target) {
                hits.push(h);
            }
        }
    }
    for p in &v.packages {
        for (i, installed) in subject.packages.iter().enumerate() {
            if p.ecosystem.eq_ignore_ascii_case(&installed.ecosystem)
                && p.name == installed.name
                && p.affects(&installed.version)
                && !hits.iter().any(|x| x.target == Target::Package(i))
            {
                hits.push(Hit {
                    target: Target::Package(i),
                    fixed: p.fixed_after(&installed.version),
                });
            }
        }
    }
    hits
}

/// The records that can concern a subject, found by vendor/product and package name, so matching a fleet does not
/// walk every record for every terminal.
#[derive(Debug, Default)]
pub struct Index {
    by_product: HashMap<(String, String), Vec<u32>>,
    by_package: HashMap<(String, String), Vec<u32>>,
}

impl Index {
    /// Indexes records by position in `records`.
    pub fn build(records: &[Vulnerability]) -> Index {
        let mut ix = Index::default();
        for (i, v) in records.iter().enumerate() {
            ix.add(i as u32, v);
        }
        ix
    }

    /// Adds one record at position `i`.
    pub fn add(&mut self, i: u32, v: &Vulnerability) {
        if v.rejected {
            return;
        }
        for cfg in &v.configurations {
            for node in &cfg.nodes {
                for m in node.cpe_match.iter().filter(|m| m.vulnerable) {
                    let (vendor, product) = m.criteria.key();
                    let e = self
                        .by_product
                        .entry((vendor.to_owned(), product.to_owned()))
                        .or_default();
                    if e.last() != Some(&i) {
                        e.push(i);
                    }
                }
            }
        }
        for p in &v.packages {
            let e = self
                .by_package
                .entry((p.ecosystem.to_ascii_lowercase(), p.name.clone()))
                .or_default();
            if e.last() != Some(&i) {
                e.push(i);
            }
        }
    }

    /// Positions of the records that name something the subject has, sorted, without repeats.
    pub fn candidates(&self, subject: &Subject) -> Vec<u32> {
        let mut out = Vec::new();
        for c in &subject.cpes {
            let (vendor, product) = c.key();
            if let Some(v) = self
                .by_product
                .get(&(vendor.to_owned(), product.to_owned()))
            {
                out.extend_from_slice(v);
            }
        }
        for p in &subject.packages {
            if let Some(v) = self
                .by_package
                .get(&(p.ecosystem.to_ascii_lowercase(), p.name.clone()))
            {
                out.extend_from_slice(v);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}
