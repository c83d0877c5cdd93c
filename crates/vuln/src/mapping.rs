//! From installed software (as inventories report it) to CPE names: the key a reviewed mapping is remembered by,
//! suggestions from names and publishers, the installed CPE a confirmed template gives, and the OS's CPE from its
//! full build (`10.0.19044.2846`, as NVD's Windows entries compare it).

use crate::Cpe;
use crate::cpe::{Comp, attr};

/// The key a mapping is remembered by: the name without versions, architecture and parenthesised notes
/// (「7-Zip 19.00 (x64)」 and 「7-Zip 24.08 (x64)」 share `7-zip`), lower-cased; Java's `Update N` is a version too.
pub fn name_key(name: &str) -> String {
    let mut s = String::with_capacity(name.len());
    let mut depth = 0u32;
    for c in name.chars() {
        match c {
            '(' | '（' | '[' => depth += 1,
            ')' | '）' | ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => s.push(c),
            _ => {}
        }
    }
    let words: Vec<String> = s.split_whitespace().map(str::to_lowercase).collect();
    let mut out: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        let versionish = w.contains('.') && w.chars().any(|c| c.is_ascii_digit())
            || (w.starts_with('v') && w[1..].chars().next().is_some_and(|c| c.is_ascii_digit()))
            || matches!(w, "x64" | "x86" | "64-bit" | "32-bit" | "-");
        if w == "update"
            && words
                .get(i + 1)
                .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
        {
            i += 2;
            continue;
        }
        if !versionish {
            out.push(w);
        }
        i += 1;
    }
    out.join(" ")
}

/// The key of a publisher: lower-cased, trimmed.
pub fn publisher_key(publisher: &str) -> String {
    publisher
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// How a suggestion was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuggestedBy {
    /// From unyo's table of well-known Windows software.
    Known,
    /// Guessed from the publisher and name; to be checked.
    Guess,
}

impl SuggestedBy {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SuggestedBy::Known => "known",
            SuggestedBy::Guess => "guess",
        }
    }
}

fn t(s: &str) -> Cpe {
    // The table below is written by us; a typo is a bug caught by the test that walks it.
    Cpe::parse23(s).unwrap_or_else(|_| Cpe::product("a", "invalid", "invalid"))
}

/// (name key starts with, publisher contains, templates).
const KNOWN: &[(&str, &str, &[&str])] = &[
    ("7-zip", "igor pavlov", &["cpe:2.3:a:7-zip:7-zip"]),
    ("google chrome", "google", &["cpe:2.3:a:google:chrome"]),
    (
        "microsoft edge",
        "microsoft",
        &[
            "cpe:2.3:a:microsoft:edge",
            "cpe:2.3:a:microsoft:edge_chromium",
        ],
    ),
    (
        "mozilla firefox esr",
        "mozilla",
        &["cpe:2.3:a:mozilla:firefox_esr"],
    ),
    ("mozilla firefox", "mozilla", &["cpe:2.3:a:mozilla:firefox"]),
    (
        "adobe acrobat reader",
        "adobe",
        &["cpe:2.3:a:adobe:acrobat_reader_dc:*:*:*:*:continuous"],
    ),
    (
        "notepad++",
        "notepad++",
        &[r"cpe:2.3:a:notepad-plus-plus:notepad\+\+"],
    ),
    ("java 8", "oracle", &["cpe:2.3:a:oracle:jre"]),
    (
        "microsoft office professional plus 2010",
        "microsoft",
        &["cpe:2.3:a:microsoft:office:2010"],
    ),
    (
        "microsoft office professional plus 2013",
        "microsoft",
        &["cpe:2.3:a:microsoft:office:2013"],
    ),
    (
        "microsoft office professional plus 2016",
        "microsoft",
        &[
            "cpe:2.3:a:microsoft:office:2016",
            "cpe:2.3:a:microsoft:office_2016:-",
        ],
    ),
    (
        "microsoft office professional plus 2019",
        "microsoft",
        &["cpe:2.3:a:microsoft:office:2019"],
    ),
    (
        "microsoft office ltsc professional plus 2021",
        "microsoft",
        &["cpe:2.3:a:microsoft:office_long_term_servicing_channel:2021"],
    ),
    (
        "microsoft office standard 2019",
        "microsoft",
        &["cpe:2.3:a:microsoft:office:2019"],
    ),
    (
        "microsoft office standard 2016",
        "microsoft",
        &[
            "cpe:2.3:a:microsoft:office:2016",
            "cpe:2.3:a:microsoft:office_2016:-",
        ],
    ),
    (
        "trend micro apex one",
        "trend micro",
        &["cpe:2.3:a:trendmicro:apex_one"],
    ),
    (
        "vlc media player",
        "videolan",
        &["cpe:2.3:a:videolan:vlc_media_player"],
    ),
    ("winscp", "martin prikryl", &["cpe:2.3:a:winscp:winscp"]),
    ("teraterm", "", &["cpe:2.3:a:teraterm_project:teraterm"]),
    ("tera term", "", &["cpe:2.3:a:teraterm_project:teraterm"]),
    ("lhaplus", "", &["cpe:2.3:a:schezo:lhaplus"]),
];

fn ident(s: &str) -> String {
    let mut out = String::new();
    for w in s.split(|c: char| !(c.is_alphanumeric() || c == '+' || c == '-')) {
        if w.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('_');
        }
        out.push_str(w);
    }
    out
}

/// CPE templates suggested for a piece of software, with how they were found; `None` when nothing sensible can
/// be guessed (no publisher).
pub fn suggest(name: &str, publisher: &str) -> Option<(Vec<Cpe>, SuggestedBy)> {
    let key = name_key(name);
    let pk = publisher_key(publisher);
    for (n, p, cpes) in KNOWN {
        if key.starts_with(n) && pk.contains(p) {
            return Some((cpes.iter().map(|c| t(c)).collect(), SuggestedBy::Known));
        }
    }
    // A guess: the publisher's first word as vendor, the name key as product.
    const SUFFIXES: &[&str] = &[
        "inc",
        "inc.",
        "corporation",
        "corp",
        "corp.",
        "ltd",
        "ltd.",
        "co.,",
        "llc",
        "gmbh",
        "株式会社",
    ];
    let vendor_words: Vec<&str> = pk
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty() && !SUFFIXES.contains(w))
        .collect();
    let vendor = ident(vendor_words.first()?);
    let mut product = key.clone();
    if let Some(rest) = product.strip_prefix(vendor_words.join(" ").as_str()) {
        product = rest.trim().to_owned();
    } else if let Some(rest) = product.strip_prefix(vendor_words[0]) {
        product = rest.trim().to_owned();
    }
    let product = ident(if product.is_empty() { &key } else { &product });
    if vendor.is_empty() || product.is_empty() {
        return None;
    }
    Some((
        vec![Cpe::product("a", &vendor, &product)],
        SuggestedBy::Guess,
    ))
}

/// The CPE name of an installed piece of software from a confirmed template: the version `*` becomes the
/// installed version (Java: `1.8.0` with `updateN` from 「Java 8 Update N」), target_sw is the OS family and
/// target_hw the architecture when known. `None` when the template needs a version the inventory lacks.
pub fn installed(
    template: &Cpe,
    name: &str,
    version: Option<&str>,
    arch: Option<&str>,
    target_sw: Option<&str>,
) -> Option<Cpe> {
    let mut c = template.clone();
    if c.attrs[attr::VERSION] == Comp::Any {
        if c.key() == ("oracle", "jre") || c.key() == ("oracle", "jdk") {
            let words: Vec<&str> = name.split_whitespace().collect();
            let pos = words
                .iter()
                .position(|w| w.eq_ignore_ascii_case("update"))?;
            let major = words.get(pos.checked_sub(1)?)?;
            let upd = words.get(pos + 1)?;
            c.attrs[attr::VERSION] = Comp::Val(format!("1.{major}.0"));
            c.attrs[attr::UPDATE] = Comp::Val(format!("update{upd}"));
        } else {
            let v = version?.trim();
            if v.is_empty() {
                return None;
            }
            c.attrs[attr::VERSION] = Comp::Val(v.to_lowercase());
        }
    }
    if c.attrs[attr::TARGET_SW] == Comp::Any
        && let Some(sw) = target_sw
    {
        c.attrs[attr::TARGET_SW] = Comp::Val(sw.to_owned());
    }
    if c.attrs[attr::TARGET_HW] == Comp::Any {
        let a = arch.unwrap_or("").to_ascii_lowercase();
        let hw = if a.contains("64") || name.contains("x64") || name.contains("64-bit") {
            Some("x64")
        } else if a.contains("86")
            || a.contains("32")
            || name.contains("x86")
            || name.contains("32-bit")
        {
            Some("x86")
        } else {
            None
        };
        if let Some(hw) = hw {
            c.attrs[attr::TARGET_HW] = Comp::Val(hw.into());
        }
    }
    Some(c)
}

/// The CPE of a Windows OS from its product name and full build (`10.0.19044.2846`): NVD names Windows 10/11
/// by release (`windows_10_21h2`) and compares the full build. `None` for other systems, or when the build
/// lacks its last part (the update revision), which the release entries need.
pub fn os_cpe(full_name: &str, build: &str) -> Option<Cpe> {
    let parts: Vec<&str> = build.trim().split('.').collect();
    if parts.len() != 4
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    let server = full_name.to_lowercase().contains("server");
    let b: u32 = parts[2].parse().ok()?;
    let product = match (server, b) {
        (false, 10240) => "windows_10_1507",
        (false, 14393) => "windows_10_1607",
        (false, 17763) => "windows_10_1809",
        (false, 19041) => "windows_10_2004",
        (false, 19042) => "windows_10_20h2",
        (false, 19043) => "windows_10_21h1",
        (false, 19044) => "windows_10_21h2",
        (false, 19045) => "windows_10_22h2",
        (false, 22000) => "windows_11_21h2",
        (false, 22621) => "windows_11_22h2",
        (false, 22631) => "windows_11_23h2",
        (false, 26100) => "windows_11_24h2",
        (true, 14393) => "windows_server_2016",
        (true, 17763) => "windows_server_2019",
        (true, 20348) => "windows_server_2022",
        (true, 26100) => "windows_server_2025",
        _ => return None,
    };
    let mut c = Cpe::product("o", "microsoft", product);
    c.attrs[attr::VERSION] = Comp::Val(build.trim().to_owned());
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(name_key("7-Zip 19.00 (x64)"), "7-zip");
        assert_eq!(name_key("7-Zip 24.08 (x64 edition)"), "7-zip");
        assert_eq!(name_key("Java 8 Update 391 (64-bit)"), "java 8");
        assert_eq!(
            name_key("Microsoft Office Professional Plus 2019 - ja-jp"),
            "microsoft office professional plus 2019 ja-jp"
        );
        assert_eq!(publisher_key("  Igor  Pavlov "), "igor pavlov");
    }

    #[test]
    fn known_table_parses() {
        for (_, _, cpes) in KNOWN {
            for c in *cpes {
                assert!(Cpe::parse23(c).is_ok(), "{c}");
            }
        }
    }

    #[test]
    fn suggestions() {
        let (c, by) = suggest("7-Zip 19.00 (x64)", "Igor Pavlov").unwrap();
        assert_eq!(by, SuggestedBy::Known);
        let i = installed(
            &c[0],
            "7-Zip 19.00 (x64)",
            Some("19.00"),
            None,
            Some("windows"),
        )
        .unwrap();
        assert_eq!(
            i.to_string(),
            "cpe:2.3:a:7-zip:7-zip:19.00:*:*:*:*:windows:x64:*"
        );
        let (c, _) = suggest("Java 8 Update 391 (64-bit)", "Oracle Corporation").unwrap();
        let i = installed(
            &c[0],
            "Java 8 Update 391 (64-bit)",
            Some("8.0.3910.13"),
            None,
            None,
        )
        .unwrap();
        assert_eq!(
            i.to_string(),
            "cpe:2.3:a:oracle:jre:1.8.0:update391:*:*:*:*:x64:*"
        );
        let (c, by) = suggest("Sakura Editor", "Sakura Editor Project").unwrap();
        assert_eq!(by, SuggestedBy::Guess);
        assert_eq!(c[0].key(), ("sakura", "editor"));
        assert!(suggest("Something", "").is_none());
    }

    #[test]
    fn os() {
        let c = os_cpe("Microsoft Windows 10 Enterprise LTSC", "10.0.19044.2846").unwrap();
        assert_eq!(
            c.to_string(),
            "cpe:2.3:o:microsoft:windows_10_21h2:10.0.19044.2846:*:*:*:*:*:*:*"
        );
        assert!(os_cpe("Microsoft Windows 10 Enterprise LTSC", "10.0.19044").is_none());
        assert_eq!(
            os_cpe("Microsoft Windows Server 2019 Standard", "10.0.17763.5329")
                .unwrap()
                .key()
                .1,
            "windows_server_2019"
        );
    }
}
