//! Inventories reported by endpoint agents (FusionInventory/OCS XML, GLPI-agent JSON), reduced to the
//! values unyo works with: identity (device id, UUID, serial, hostname), OS and build, installed software,
//! antivirus products, addresses and the collection time. Also the change between two snapshots of the
//! same machine ([`diff`]) and the version ordering used everywhere a version is compared
//! ([`compare_versions`]).
//!
//! No I/O, no clock: the parsers live in the `unyo-inventory` crate and produce these values.

use chrono::{DateTime, NaiveDateTime};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// Which agent format a snapshot was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InventoryFormat {
    /// FusionInventory / OCS Inventory XML (`<REQUEST><CONTENT>…`).
    Fusion,
    /// GLPI-agent native JSON (`{"deviceid":…,"content":{…}}`).
    Glpi,
}

impl InventoryFormat {
    /// The stored/API code.
    pub fn code(self) -> &'static str {
        match self {
            InventoryFormat::Fusion => "fusion",
            InventoryFormat::Glpi => "glpi",
        }
    }

    /// The Japanese label.
    pub fn label_ja(self) -> &'static str {
        match self {
            InventoryFormat::Fusion => "FusionInventory（XML）",
            InventoryFormat::Glpi => "GLPI-agent（JSON）",
        }
    }
}

/// The operating system as the agent reported it. Every field is optional: agents leave out what they
/// cannot read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsInfo {
    /// Short name (`Windows`, `Fedora`, `MacOSX`); FusionInventory `OPERATINGSYSTEM/NAME`.
    pub name: Option<String>,
    /// Version (`25`, `22H2` on Windows 10/11 where the agent reads the release id, otherwise the
    /// kernel version); `OPERATINGSYSTEM/VERSION`, else `HARDWARE/OSVERSION`.
    pub version: Option<String>,
    /// Full product name (`Microsoft Windows 8.1 Professionnel`); `OPERATINGSYSTEM/FULL_NAME`, else
    /// `HARDWARE/OSNAME`.
    pub full_name: Option<String>,
    /// The build / kernel version (`6.3.9600`, `10.0.19045`, `4.11.3-200.fc25.x86_64`):
    /// `OPERATINGSYSTEM/KERNEL_VERSION` (on Windows, WMI `Win32_OperatingSystem.Version`).
    pub build: Option<String>,
    /// Architecture (`64-bit`, `x86_64`, `i386`).
    pub arch: Option<String>,
    /// Service pack (`Service Pack 1`), Windows only.
    pub service_pack: Option<String>,
}

impl OsInfo {
    /// True when the agent reported nothing about the OS (e.g. a partial inventory).
    pub fn is_empty(&self) -> bool {
        self == &OsInfo::default()
    }
}

/// One installed software package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Software {
    /// Display name (Windows `DisplayName`, package name on Linux). Never empty.
    pub name: String,
    /// Version as reported (`5.09`, `2.11.0-24.fc24`).
    pub version: Option<String>,
    /// Publisher / vendor.
    pub publisher: Option<String>,
    /// Install date as the agent wrote it; formats vary by agent and platform (`18/04/2017`,
    /// `2019-12-19`), so it is kept as text.
    pub install_date: Option<String>,
    /// Architecture (`x86_64`, `i686`, `noarch`), when reported.
    pub arch: Option<String>,
}

/// One antivirus product (Windows Security Center entries, enriched by the agent from the registry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Antivirus {
    /// Product name (`Windows Defender`). Never empty.
    pub name: String,
    /// Vendor (`Microsoft Corporation`).
    pub company: Option<String>,
    /// Engine / product version (`4.18.2205.7`).
    pub version: Option<String>,
    /// Definition (signature) version (`1.367.1234.0`); FusionInventory `BASE_VERSION`.
    pub base_version: Option<String>,
    /// Definition date, when the agent reports it (`BASE_CREATION`), as written.
    pub base_date: Option<String>,
    /// Real-time protection on (`ENABLED`).
    pub enabled: Option<bool>,
    /// Definitions up to date according to Windows (`UPTODATE`).
    pub up_to_date: Option<bool>,
    /// Licence expiration date, as written.
    pub expiration: Option<String>,
    /// The Security Center GUID.
    pub guid: Option<String>,
}

/// Everything unyo keeps from one inventory of one machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventorySnapshot {
    /// The format it was read from.
    pub format: InventoryFormat,
    /// The agent's own id (FusionInventory `DEVICEID`, GLPI `deviceid`): `hostname-YYYY-MM-DD-hh-mm-ss`
    /// fixed at the agent's first run.
    pub device_id: Option<String>,
    /// SMBIOS system UUID (`HARDWARE/UUID`, GLPI `hardware.uuid`), as reported (case varies).
    pub uuid: Option<String>,
    /// System serial number (`BIOS/SSN`, GLPI `bios.ssn`).
    pub serial: Option<String>,
    /// Host name (`HARDWARE/NAME`, GLPI `hardware.name`).
    pub hostname: Option<String>,
    /// Windows domain or workgroup (`HARDWARE/WORKGROUP`), else the DNS domain.
    pub domain: Option<String>,
    /// Operating system.
    pub os: OsInfo,
    /// Installed software, in the agent's order.
    pub software: Vec<Software>,
    /// Antivirus products, in the agent's order.
    pub antivirus: Vec<Antivirus>,
    /// IP addresses of the interfaces (IPv4 and IPv6), loopback excluded, duplicates removed.
    pub ip_addresses: Vec<String>,
    /// MAC addresses, lower case `aa:bb:cc:dd:ee:ff`, all-zero and duplicates removed.
    pub mac_addresses: Vec<String>,
    /// When the agent collected it (`ACCESSLOG/LOGDATE`, GLPI `accesslog.logdate`): the agent
    /// machine's local wall-clock time, no zone.
    pub collected_at: Option<NaiveDateTime>,
    /// A partial inventory (GLPI `"partial": true`): sections that are absent were not reported,
    /// rather than being empty. [`diff`] does not read an absent section as "everything removed".
    pub partial: bool,
}

/// UUIDs that firmware vendors ship unset; useless for telling machines apart.
const PLACEHOLDER_UUIDS: &[&str] = &[
    "00000000-0000-0000-0000-000000000000",
    "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
    "03000200-0400-0500-0006-000700080009",
];

/// Serial numbers that firmware vendors ship unset.
const PLACEHOLDER_SERIALS: &[&str] = &[
    "to be filled by o.e.m.",
    "default string",
    "system serial number",
    "not specified",
    "not applicable",
    "none",
    "n/a",
    "0",
    "0000000000",
    "123456789",
    "chassis serial number",
];

impl InventorySnapshot {
    /// An empty snapshot of the given format (the parsers fill it in).
    pub fn empty(format: InventoryFormat) -> Self {
        Self {
            format,
            device_id: None,
            uuid: None,
            serial: None,
            hostname: None,
            domain: None,
            os: OsInfo::default(),
            software: Vec::new(),
            antivirus: Vec::new(),
            ip_addresses: Vec::new(),
            mac_addresses: Vec::new(),
            collected_at: None,
            partial: false,
        }
    }

    /// The UUID in upper case, or `None` when absent or a well-known placeholder (all zeros etc.).
    pub fn usable_uuid(&self) -> Option<String> {
        let u = self.uuid.as_deref()?.trim().to_ascii_uppercase();
        if u.is_empty() || PLACEHOLDER_UUIDS.contains(&u.as_str()) {
            None
        } else {
            Some(u)
        }
    }

    /// The serial number, or `None` when absent or a well-known placeholder ("To be filled by O.E.M.").
    pub fn usable_serial(&self) -> Option<String> {
        let s = self.serial.as_deref()?.trim();
        if s.is_empty() || PLACEHOLDER_SERIALS.contains(&s.to_lowercase().as_str()) {
            None
        } else {
            Some(s.to_string())
        }
    }
}

/// Parses the agents' collection time: `2017-05-15 18:38:07` (both agents), also ISO 8601 with `T`
/// and RFC 3339 with an offset (the local wall-clock time is kept). Anything else gives `None`.
pub fn parse_collected_at(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    for fmt in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t);
        }
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.naive_local())
}

// ---------------------------------------------------------------------------------------------------
// Version ordering
// ---------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg<'a> {
    /// `~`: sorts before everything, even the end (Debian/RPM pre-release marker).
    Tilde,
    /// A run of letters (compared case-insensitively).
    Alpha(&'a str),
    /// Digits with leading zeros stripped (empty for zero).
    Num(Cow<'a, str>),
}

impl Seg<'_> {
    /// Kind rank with the end of the version in between: `~` < end < letters < digits.
    fn rank(s: Option<&Self>) -> u8 {
        match s {
            Some(Seg::Tilde) => 0,
            None => 1,
            Some(Seg::Alpha(_)) => 2,
            Some(Seg::Num(_)) => 3,
        }
    }
}

/// Splits one part of a version into segments; zero segments before the end or a `~` are dropped
/// so that `1.0` and `1.0.0` have the same key.
fn segments(s: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '~' {
            out.push(Seg::Tilde);
        } else if c.is_ascii_digit() {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if !d.is_ascii_digit() {
                    break;
                }
                end = j + d.len_utf8();
                chars.next();
            }
            out.push(Seg::Num(Cow::Borrowed(s[i..end].trim_start_matches('0'))));
        } else if c.is_alphanumeric() {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if d.is_ascii_digit() || !d.is_alphanumeric() {
                    break;
                }
                end = j + d.len_utf8();
                chars.next();
            }
            out.push(Seg::Alpha(&s[i..end]));
        }
        // Anything else ('.', '-', '_', '+', ':', spaces, punctuation) only separates segments.
    }
    // Zero segments right before the end or a `~` carry no information (`1.0.0~rc1` = `1~rc1`).
    let is_zero = |s: &Seg<'_>| matches!(s, Seg::Num(n) if n.is_empty());
    let mut keep = vec![true; out.len()];
    let mut k = out.len();
    let mut dropping = true;
    while k > 0 {
        k -= 1;
        match &out[k] {
            Seg::Tilde => dropping = true,
            s if is_zero(s) => keep[k] = !dropping,
            _ => dropping = false,
        }
    }
    let mut flags = keep.into_iter();
    out.retain(|_| flags.next().unwrap_or(true));
    out
}

/// Lexicographic comparison of two segment lists, the end of a list ranking between `~` and
/// letters. A plain lexicographic order on keys, hence a total order.
fn cmp_segments(a: &[Seg<'_>], b: &[Seg<'_>]) -> Ordering {
    let mut i = 0;
    loop {
        let (x, y) = (a.get(i), b.get(i));
        if x.is_none() && y.is_none() {
            return Ordering::Equal;
        }
        let o = Seg::rank(x).cmp(&Seg::rank(y)).then_with(|| match (x, y) {
            (Some(Seg::Num(p)), Some(Seg::Num(q))) => p.len().cmp(&q.len()).then_with(|| p.cmp(q)),
            (Some(Seg::Alpha(p)), Some(Seg::Alpha(q))) => p
                .chars()
                .flat_map(char::to_lowercase)
                .cmp(q.chars().flat_map(char::to_lowercase)),
            _ => Ordering::Equal,
        });
        if o != Ordering::Equal {
            return o;
        }
        i += 1;
    }
}

/// Windows 10/11 half-year release ids as a YYMM number, so that they sort among the older
/// four-digit ids: `20H1` → 2004, `20H2` → 2010, `23H2` → 2310 (and `2004` stays 2004).
fn windows_release(s: &str) -> Option<String> {
    match s.as_bytes() {
        [y1, y2, b'H' | b'h', n @ (b'1' | b'2')] if y1.is_ascii_digit() && y2.is_ascii_digit() => {
            let month = if *n == b'1' { "04" } else { "10" };
            Some(
                format!("{}{}{month}", char::from(*y1), char::from(*y2))
                    .trim_start_matches('0')
                    .to_string(),
            )
        }
        _ => None,
    }
}

/// The comparison key of one version string: (version segments, release segments).
fn version_key(s: &str) -> (Vec<Seg<'_>>, Vec<Seg<'_>>) {
    let s = s.trim();
    if let Some(n) = windows_release(s) {
        return (vec![Seg::Num(Cow::Owned(n))], Vec::new());
    }
    let (v, r) = s.rsplit_once('-').unwrap_or((s, ""));
    (segments(v), segments(r))
}

/// Orders two version strings the way a person reading them would.
///
/// - Dotted numbers compare numerically, segment by segment: `10.0.19041.1` < `10.0.19041.10`;
///   trailing zero segments do not count (`1.0` = `1.0.0`), nor do leading zeros (`1.05` = `1.5`).
/// - Any other non-alphanumeric character also separates segments, so dates written the same way
///   compare as dates (`2026-04-30` < `2026-05-01`).
/// - Letters compare case-insensitively; a number is newer than letters (`1.0.1` > `1.0.beta`);
///   a letter suffix is newer than none (`1.0a` > `1.0`); `~` marks a pre-release (`1.0~rc1` < `1.0`).
/// - A release part after the last `-` is compared after the version (RPM/Debian
///   `version-release`: `4.13.0.1-1.fc25` > `4.13.0-6.fc25`).
/// - Windows release ids: `20H2` > `2004`, `23H2` > `22H2`.
/// - Anything else falls back to the same segment rules; an empty string is older than any version.
///
/// Each string is turned into a key on its own and keys compare lexicographically, so this is a
/// total order (safe for sorting); strings differing only in separators, case or leading zeros
/// compare [`Ordering::Equal`].
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let (av, ar) = version_key(a);
    let (bv, br) = version_key(b);
    cmp_segments(&av, &bv).then_with(|| cmp_segments(&ar, &br))
}

// ---------------------------------------------------------------------------------------------------
// Diff
// ---------------------------------------------------------------------------------------------------

/// A software whose version changed between two snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoftwareVersionChange {
    /// Software name.
    pub name: String,
    /// Architecture in the new snapshot (else the old one).
    pub arch: Option<String>,
    /// Version before.
    pub old_version: Option<String>,
    /// Version after.
    pub new_version: Option<String>,
}

/// Which OS field changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OsField {
    /// OS name.
    Name,
    /// OS version.
    Version,
    /// Full product name.
    FullName,
    /// Build / kernel version.
    Build,
    /// Architecture.
    Arch,
    /// Service pack.
    ServicePack,
}

impl OsField {
    /// The Japanese label.
    pub fn label_ja(self) -> &'static str {
        match self {
            OsField::Name => "OS名",
            OsField::Version => "OSバージョン",
            OsField::FullName => "OS製品名",
            OsField::Build => "OSビルド",
            OsField::Arch => "アーキテクチャ",
            OsField::ServicePack => "サービスパック",
        }
    }
}

/// A value before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueChange<T> {
    /// Before.
    pub old: Option<T>,
    /// After.
    pub new: Option<T>,
}

impl ValueChange<String> {
    /// For version-like values: `Greater` when the new one is newer (per [`compare_versions`]);
    /// `None` when either side is missing.
    pub fn direction(&self) -> Option<Ordering> {
        Some(compare_versions(self.new.as_deref()?, self.old.as_deref()?))
    }
}

/// One changed OS field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsFieldChange {
    /// The field.
    pub field: OsField,
    /// Before and after.
    pub change: ValueChange<String>,
}

/// What changed in one antivirus product present in both snapshots (matched by name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AntivirusChange {
    /// Product name.
    pub name: String,
    /// Engine / product version change.
    pub engine_version: Option<ValueChange<String>>,
    /// Definition version change.
    pub definition_version: Option<ValueChange<String>>,
    /// Definition date change.
    pub definition_date: Option<ValueChange<String>>,
    /// Real-time protection flipped.
    pub enabled: Option<ValueChange<bool>>,
    /// Up-to-date flag flipped.
    pub up_to_date: Option<ValueChange<bool>>,
    /// Licence expiration changed.
    pub expiration: Option<ValueChange<String>>,
}

/// The change from one snapshot of a machine to the next. Lists are sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryDiff {
    /// Software present only in the new snapshot.
    pub software_added: Vec<Software>,
    /// Software present only in the old snapshot.
    pub software_removed: Vec<Software>,
    /// Same software, newer version.
    pub software_upgraded: Vec<SoftwareVersionChange>,
    /// Same software, older version.
    pub software_downgraded: Vec<SoftwareVersionChange>,
    /// Same software, a different version string that is neither newer nor older (`1.0` → `1.0.0`,
    /// a version that appeared or disappeared, or only the architecture changed).
    pub software_changed: Vec<SoftwareVersionChange>,
    /// Changed OS fields (build, version, …).
    pub os_changes: Vec<OsFieldChange>,
    /// Antivirus products present only in the new snapshot.
    pub antivirus_added: Vec<Antivirus>,
    /// Antivirus products present only in the old snapshot.
    pub antivirus_removed: Vec<Antivirus>,
    /// Antivirus products whose versions, dates or flags changed.
    pub antivirus_changed: Vec<AntivirusChange>,
}

impl InventoryDiff {
    /// True when nothing tracked changed.
    pub fn is_empty(&self) -> bool {
        self == &InventoryDiff::default()
    }
}

fn change<T: Clone + PartialEq>(old: &Option<T>, new: &Option<T>) -> Option<ValueChange<T>> {
    (old != new).then(|| ValueChange {
        old: old.clone(),
        new: new.clone(),
    })
}

/// Sorts software of one name by (arch, version) so that equal-count groups pair up in order.
fn sort_group(v: &mut [&Software]) {
    v.sort_by(|a, b| {
        a.arch.cmp(&b.arch).then_with(|| {
            compare_versions(
                a.version.as_deref().unwrap_or(""),
                b.version.as_deref().unwrap_or(""),
            )
        })
    });
}

/// What makes two installs of one name the same install: version and architecture.
type InstallKey<'a> = (Option<&'a str>, Option<&'a str>);

fn install_key(s: &Software) -> InstallKey<'_> {
    (s.version.as_deref(), s.arch.as_deref())
}

fn diff_software(old: &[Software], new: &[Software], d: &mut InventoryDiff) {
    let mut groups: BTreeMap<&str, (Vec<&Software>, Vec<&Software>)> = BTreeMap::new();
    for s in old {
        groups.entry(s.name.as_str()).or_default().0.push(s);
    }
    for s in new {
        groups.entry(s.name.as_str()).or_default().1.push(s);
    }
    for (name, (mut o, mut n)) in groups {
        // Cancel the installs present on both sides (same version and arch): multi-version packages
        // such as kernels or gpg keys keep their unchanged members out of the report. Multiset
        // counting keeps this linear-logarithmic however many installs share a name.
        let mut in_new: BTreeMap<InstallKey<'_>, usize> = BTreeMap::new();
        for x in &n {
            *in_new.entry(install_key(x)).or_default() += 1;
        }
        let mut cancelled: BTreeMap<InstallKey<'_>, usize> = BTreeMap::new();
        o.retain(|x| match in_new.get_mut(&install_key(x)) {
            Some(c) if *c > 0 => {
                *c -= 1;
                *cancelled.entry(install_key(x)).or_default() += 1;
                false
            }
            _ => true,
        });
        n.retain(|x| match cancelled.get_mut(&install_key(x)) {
            Some(c) if *c > 0 => {
                *c -= 1;
                false
            }
            _ => true,
        });
        if o.len() == n.len() {
            sort_group(&mut o);
            sort_group(&mut n);
            for (a, b) in o.into_iter().zip(n) {
                let ch = SoftwareVersionChange {
                    name: name.to_string(),
                    arch: b.arch.clone().or_else(|| a.arch.clone()),
                    old_version: a.version.clone(),
                    new_version: b.version.clone(),
                };
                let ord = match (&a.version, &b.version) {
                    (Some(x), Some(y)) => compare_versions(y, x),
                    _ => Ordering::Equal,
                };
                match ord {
                    Ordering::Greater => d.software_upgraded.push(ch),
                    Ordering::Less => d.software_downgraded.push(ch),
                    Ordering::Equal => d.software_changed.push(ch),
                }
            }
        } else {
            // Several installs of one name changed in number: no reliable pairing, report them as such.
            d.software_removed.extend(o.into_iter().cloned());
            d.software_added.extend(n.into_iter().cloned());
        }
    }
}

fn diff_os(old: &OsInfo, new: &OsInfo, d: &mut InventoryDiff) {
    let fields = [
        (OsField::Name, &old.name, &new.name),
        (OsField::Version, &old.version, &new.version),
        (OsField::FullName, &old.full_name, &new.full_name),
        (OsField::Build, &old.build, &new.build),
        (OsField::Arch, &old.arch, &new.arch),
        (OsField::ServicePack, &old.service_pack, &new.service_pack),
    ];
    for (field, o, n) in fields {
        if let Some(change) = change(o, n) {
            d.os_changes.push(OsFieldChange { field, change });
        }
    }
}

fn diff_antivirus(old: &[Antivirus], new: &[Antivirus], d: &mut InventoryDiff) {
    let old_names: BTreeSet<&str> = old.iter().map(|a| a.name.as_str()).collect();
    let new_names: BTreeSet<&str> = new.iter().map(|a| a.name.as_str()).collect();
    for a in new.iter().filter(|a| !old_names.contains(a.name.as_str())) {
        d.antivirus_added.push(a.clone());
    }
    for a in old.iter().filter(|a| !new_names.contains(a.name.as_str())) {
        d.antivirus_removed.push(a.clone());
    }
    for name in old_names.intersection(&new_names) {
        // Agents de-duplicate by name and version; when one name appears twice, the first one counts.
        let (Some(o), Some(n)) = (
            old.iter().find(|a| a.name == *name),
            new.iter().find(|a| a.name == *name),
        ) else {
            continue;
        };
        let c = AntivirusChange {
            name: name.to_string(),
            engine_version: change(&o.version, &n.version),
            definition_version: change(&o.base_version, &n.base_version),
            definition_date: change(&o.base_date, &n.base_date),
            enabled: change(&o.enabled, &n.enabled),
            up_to_date: change(&o.up_to_date, &n.up_to_date),
            expiration: change(&o.expiration, &n.expiration),
        };
        let any = c.engine_version.is_some()
            || c.definition_version.is_some()
            || c.definition_date.is_some()
            || c.enabled.is_some()
            || c.up_to_date.is_some()
            || c.expiration.is_some();
        if any {
            d.antivirus_changed.push(c);
        }
    }
    d.antivirus_added.sort_by(|a, b| a.name.cmp(&b.name));
    d.antivirus_removed.sort_by(|a, b| a.name.cmp(&b.name));
}

/// What changed from `old` to `new` (two snapshots of the same machine, older first).
///
/// Software is matched by name; installs present on both sides with the same version and architecture
/// cancel out; what remains of one name is paired in version order when both sides have as many,
/// giving upgrades / downgrades / changes, and reported as added / removed otherwise. Antivirus
/// products are matched by name. When `new` is partial, a section it left out (no software, no
/// antivirus, no OS) is not compared.
pub fn diff(old: &InventorySnapshot, new: &InventorySnapshot) -> InventoryDiff {
    let mut d = InventoryDiff::default();
    if !(new.partial && new.software.is_empty()) {
        diff_software(&old.software, &new.software, &mut d);
    }
    if !(new.partial && new.os.is_empty()) {
        diff_os(&old.os, &new.os, &mut d);
    }
    if !(new.partial && new.antivirus.is_empty()) {
        diff_antivirus(&old.antivirus, &new.antivirus, &mut d);
    }
    d.software_added
        .sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.version.cmp(&b.version)));
    d.software_removed
        .sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.version.cmp(&b.version)));
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    #[test]
    fn version_table() {
        let table: &[(&str, &str, Ordering)] = &[
            ("10.0.19041.1", "10.0.19041.10", Less),
            ("10.0.19041.10", "10.0.19041.9", Greater),
            ("10.0.19045.3803", "10.0.19045.3803", Equal),
            ("10.0.22631", "10.0.19045", Greater),
            ("6.3.9600", "10.0.10240", Less),
            ("1.347.1234.0", "1.347.1234.0", Equal),
            ("1.347.1234.0", "1.347.999.0", Greater),
            ("1.381.12.0", "1.347.1234.0", Greater),
            ("4.18.2205.7", "4.18.23110.3", Less),
            ("2026-05-01", "2026-04-30", Greater),
            ("2026-05-01", "2026-05-01", Equal),
            ("2026.05.01", "2026.5.1", Equal),
            ("2025-12-31", "2026-01-01", Less),
            ("23H2", "22H2", Greater),
            ("22H2", "21H1", Greater),
            ("24H2", "23H2", Greater),
            ("20H2", "2004", Greater),
            ("20H1", "2004", Equal),
            ("19H2", "1903", Greater),
            ("1909", "20H2", Less),
            ("2009", "21H2", Less),
            ("1.0", "1.0.0", Equal),
            ("1.0", "1.0.1", Less),
            ("1.05", "1.5", Equal),
            ("1.0a", "1.0", Greater),
            ("1.0.1", "1.0.beta", Greater),
            ("1.0~rc1", "1.0", Less),
            ("1.0~rc1", "1.0~rc2", Less),
            ("1.0", "1.0-1", Less),
            ("1.0.0", "1.0-0", Equal),
            ("2.11.0-24.fc24", "2.11.0-24.fc25", Less),
            ("4.13.0.1-1.fc25", "4.13.0-6.fc25", Greater),
            ("5.2.7.2-3.fc25", "5.2.5.1-6.fc25", Greater),
            ("4.11.3-200.fc25", "4.9.9-200.fc25", Greater),
            ("7.0.20-1.fc25.remi", "7.0.16-1.fc25.remi", Greater),
            ("Version 3.70", "version 3.71", Less),
            ("", "1.0", Less),
            ("", "", Equal),
            ("N/A", "1.0", Less),
            ("abc", "abd", Less),
            ("  5.09 ", "5.09", Equal),
            ("18446744073709551616999", "18446744073709551617", Greater),
            ("版2", "版10", Less),
        ];
        for &(a, b, want) in table {
            assert_eq!(
                compare_versions(a, b),
                want,
                "compare_versions({a:?}, {b:?})"
            );
            assert_eq!(
                compare_versions(b, a),
                want.reverse(),
                "compare_versions({b:?}, {a:?})"
            );
        }
    }

    #[test]
    fn version_order_is_a_total_order_on_a_sample() {
        let v = [
            "",
            "0",
            "1",
            "1.0",
            "1.0.1",
            "1.0a",
            "1.0~rc1",
            "1.0-1",
            "1.0-2",
            "2004",
            "20H2",
            "21H1",
            "a",
            "b",
            "2026-05-01",
            "10.0.19041.10",
            "10.0.19041.9",
            "x.1",
            "1..2",
            "~",
            "-",
        ];
        for a in v {
            for b in v {
                for c in v {
                    let ab = compare_versions(a, b);
                    let bc = compare_versions(b, c);
                    if ab != Greater && bc != Greater {
                        assert_ne!(compare_versions(a, c), Greater, "{a:?} <= {b:?} <= {c:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn sorting_pseudo_random_versions_never_panics() {
        // Rust's sort may panic on a comparator that is not a total order: make sure this one is.
        let alphabet: Vec<char> = "0123456789.-~aHhZ_ 版".chars().collect();
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize
        };
        for _ in 0..50 {
            let mut v: Vec<String> = (0..300)
                .map(|_| {
                    (0..next() % 9)
                        .map(|_| alphabet[next() % alphabet.len()])
                        .collect()
                })
                .collect();
            v.sort_by(|a, b| compare_versions(a, b));
            for w in v.windows(2) {
                assert_ne!(
                    compare_versions(&w[0], &w[1]),
                    Greater,
                    "{:?} {:?}",
                    w[0],
                    w[1]
                );
            }
        }
    }

    fn sw(name: &str, version: &str) -> Software {
        Software {
            name: name.into(),
            version: Some(version.into()),
            publisher: None,
            install_date: None,
            arch: None,
        }
    }

    fn av(name: &str, version: &str, base: &str, enabled: bool, up: bool) -> Antivirus {
        Antivirus {
            name: name.into(),
            company: Some("Microsoft Corporation".into()),
            version: Some(version.into()),
            base_version: Some(base.into()),
            base_date: None,
            enabled: Some(enabled),
            up_to_date: Some(up),
            expiration: None,
            guid: None,
        }
    }

    #[test]
    fn diff_reports_software_os_and_antivirus() {
        let mut old = InventorySnapshot::empty(InventoryFormat::Fusion);
        old.software = vec![
            sw("住基アプリ", "3.1"),
            sw("Adobe Reader", "11.0.23"),
            sw("Old Tool", "1.0"),
            sw("Rollback", "2.0"),
            sw("kernel", "4.9.8"),
            sw("kernel", "4.9.9"),
        ];
        old.os.build = Some("10.0.19045.3803".into());
        old.antivirus = vec![av(
            "Windows Defender",
            "4.18.2205.7",
            "1.347.1234.0",
            true,
            true,
        )];
        let mut new = old.clone();
        new.software = vec![
            sw("住基アプリ", "3.2"),
            sw("Adobe Reader", "11.0.23"),
            sw("Rollback", "1.9"),
            sw("New Tool", "0.1"),
            sw("kernel", "4.9.9"),
            sw("kernel", "4.10.1"),
        ];
        new.os.build = Some("10.0.19045.4046".into());
        new.antivirus = vec![av(
            "Windows Defender",
            "4.18.2205.7",
            "1.381.12.0",
            true,
            false,
        )];

        let d = diff(&old, &new);
        assert_eq!(d.software_added, vec![sw("New Tool", "0.1")]);
        assert_eq!(d.software_removed, vec![sw("Old Tool", "1.0")]);
        let up: Vec<_> = d
            .software_upgraded
            .iter()
            .map(|c| {
                (
                    c.name.as_str(),
                    c.old_version.as_deref(),
                    c.new_version.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            up,
            vec![
                ("kernel", Some("4.9.8"), Some("4.10.1")),
                ("住基アプリ", Some("3.1"), Some("3.2"))
            ]
        );
        assert_eq!(d.software_downgraded.len(), 1);
        assert_eq!(d.software_downgraded[0].name, "Rollback");
        assert!(d.software_changed.is_empty());
        assert_eq!(d.os_changes.len(), 1);
        assert_eq!(d.os_changes[0].field, OsField::Build);
        assert_eq!(d.os_changes[0].change.direction(), Some(Greater));
        assert_eq!(d.antivirus_changed.len(), 1);
        let c = &d.antivirus_changed[0];
        assert_eq!(c.engine_version, None);
        let defs = c.definition_version.as_ref().unwrap();
        assert_eq!(defs.new.as_deref(), Some("1.381.12.0"));
        assert_eq!(defs.direction(), Some(Greater));
        assert_eq!(
            c.up_to_date,
            Some(ValueChange {
                old: Some(true),
                new: Some(false)
            })
        );
        assert_eq!(c.enabled, None);

        assert!(diff(&old, &old).is_empty());
    }

    #[test]
    fn diff_of_many_installs_of_one_name_stays_fast() {
        // A hostile agent may send the 20,000 allowed entries under one name; pairing must not be
        // quadratic.
        let mut old = InventorySnapshot::empty(InventoryFormat::Glpi);
        let mut new = InventorySnapshot::empty(InventoryFormat::Glpi);
        old.software = (0..20_000).map(|i| sw("x", &format!("1.{i}"))).collect();
        new.software = (0..20_000)
            .map(|i| sw("x", &format!("1.{}", i + 1)))
            .collect();
        let t = std::time::Instant::now();
        let d = diff(&old, &new);
        assert!(
            t.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            t.elapsed()
        );
        // 1.1 … 1.19999 cancel out; 1.0 → 1.20000 is the one change left.
        assert_eq!(d.software_upgraded.len(), 1);
        assert_eq!(d.software_upgraded[0].old_version.as_deref(), Some("1.0"));
        assert_eq!(
            d.software_upgraded[0].new_version.as_deref(),
            Some("1.20000")
        );
    }

    #[test]
    fn partial_inventory_does_not_remove_absent_sections() {
        let mut old = InventorySnapshot::empty(InventoryFormat::Glpi);
        old.software = vec![sw("a", "1")];
        old.antivirus = vec![av("Windows Defender", "1", "1", true, true)];
        old.os.name = Some("Windows".into());
        let mut new = InventorySnapshot::empty(InventoryFormat::Glpi);
        new.partial = true;
        new.software = vec![sw("a", "2")];
        let d = diff(&old, &new);
        assert_eq!(d.software_upgraded.len(), 1);
        assert!(d.antivirus_removed.is_empty());
        assert!(d.os_changes.is_empty());
        new.partial = false;
        let d = diff(&old, &new);
        assert_eq!(d.antivirus_removed.len(), 1);
        assert_eq!(d.os_changes.len(), 1);
    }

    #[test]
    fn placeholders_are_not_identities() {
        let mut s = InventorySnapshot::empty(InventoryFormat::Fusion);
        s.uuid = Some("00000000-0000-0000-0000-000000000000".into());
        s.serial = Some("To be filled by O.E.M.".into());
        assert_eq!(s.usable_uuid(), None);
        assert_eq!(s.usable_serial(), None);
        s.uuid = Some("4c4c4544-0034-3010-8048-b6c04f503732".into());
        s.serial = Some(" 640HP72 ".into());
        assert_eq!(
            s.usable_uuid().as_deref(),
            Some("4C4C4544-0034-3010-8048-B6C04F503732")
        );
        assert_eq!(s.usable_serial().as_deref(), Some("640HP72"));
    }

    #[test]
    fn collected_at_formats() {
        let t = parse_collected_at("2017-05-15 18:38:07").unwrap();
        assert_eq!(t.to_string(), "2017-05-15 18:38:07");
        assert!(parse_collected_at("2017-05-15T18:38:07").is_some());
        assert_eq!(
            parse_collected_at("2017-05-15T18:38:07+09:00")
                .unwrap()
                .to_string(),
            "2017-05-15 18:38:07"
        );
        assert_eq!(parse_collected_at("yesterday"), None);
    }
}
