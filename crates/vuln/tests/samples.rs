//! Every sample feed file (copied with its provenance into `tests/data/`, see `FEEDS.md`) is read, and for every
//! NVD and OSV record of the table in `FEEDS.md` the affected version matches and the unaffected one does not.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use unyo_vuln::matching::{self, PackageRef, Subject, Target};
use unyo_vuln::{
    Cpe, FeedError, FeedKind, FileKind, Vulnerability, detect, jvn, nvd, osv, rustsec,
};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn read_any(path: &Path) -> Result<Vec<Vulnerability>, FeedError> {
    let bytes = std::fs::read(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy();
    let mut out = Vec::new();
    let mut sink = |v: Vulnerability| -> Result<(), String> {
        out.push(v);
        Ok(())
    };
    match detect(&name, &bytes[..bytes.len().min(4096)]) {
        Some(FileKind::Nvd) => nvd::read(&bytes[..], &mut sink).map(|_| ()),
        Some(FileKind::Osv) => osv::read(&bytes, &mut sink).map(|_| ()),
        Some(FileKind::OsvZip) => {
            osv::read_zip(std::io::Cursor::new(&bytes), &mut sink).map(|_| ())
        }
        Some(FileKind::Jvn) => jvn::read(&bytes, &mut sink).map(|_| ()),
        Some(FileKind::Rustsec) => rustsec::read(&bytes, &mut sink).map(|_| ()),
        None => Err(FeedError::Unrecognized(name.into_owned())),
    }?;
    Ok(out)
}

fn nvd_records() -> HashMap<String, Vulnerability> {
    let mut out = HashMap::new();
    nvd::read(
        std::fs::File::open(data().join("nvd/nvdcve-2.0-sample.json")).unwrap(),
        &mut |v| {
            out.insert(v.id.clone(), v);
            Ok(())
        },
    )
    .unwrap();
    out
}

fn windows_subject(cpes: &[&str]) -> Subject {
    let os =
        Cpe::parse23("cpe:2.3:o:microsoft:windows_10_21h2:10.0.19044.9999:*:*:*:*:*:*:*").unwrap();
    Subject {
        cpes: cpes.iter().map(|c| Cpe::parse23(c).unwrap()).collect(),
        platforms: matching::platforms_of(&os),
        packages: Vec::new(),
    }
}

/// (CVE, installed name that is affected, installed name that is not) from `FEEDS.md` section A.
const NVD_TABLE: &[(&str, &str, &str)] = &[
    (
        "CVE-2016-2334",
        "cpe:2.3:a:7-zip:7-zip:15.14",
        "cpe:2.3:a:7-zip:7-zip:16.00",
    ),
    (
        "CVE-2017-0199",
        "cpe:2.3:a:microsoft:office:2010:sp2",
        "cpe:2.3:a:microsoft:office:2010:sp1",
    ),
    (
        "CVE-2017-11882",
        "cpe:2.3:a:microsoft:office:2010:sp2",
        "cpe:2.3:a:microsoft:office:2019",
    ),
    (
        "CVE-2022-26485",
        "cpe:2.3:a:mozilla:firefox:97.0.1:*:*:*:*:windows",
        "cpe:2.3:a:mozilla:firefox:97.0.2:*:*:*:*:windows",
    ),
    (
        "CVE-2022-29072",
        "cpe:2.3:a:7-zip:7-zip:21.07",
        "cpe:2.3:a:7-zip:7-zip:22.00",
    ),
    (
        "CVE-2023-2033",
        "cpe:2.3:a:google:chrome:112.0.5615.49",
        "cpe:2.3:a:google:chrome:112.0.5615.121",
    ),
    (
        "CVE-2023-4863",
        "cpe:2.3:a:google:chrome:116.0.5845.141",
        "cpe:2.3:a:google:chrome:116.0.5845.187",
    ),
    (
        "CVE-2023-4863",
        "cpe:2.3:a:microsoft:edge:116.0.1938.81",
        "cpe:2.3:a:microsoft:edge:117.0.2045.31",
    ),
    (
        "CVE-2023-23397",
        "cpe:2.3:a:microsoft:office:2019",
        "cpe:2.3:a:microsoft:office:2010",
    ),
    (
        "CVE-2023-26369",
        "cpe:2.3:a:adobe:acrobat_reader_dc:23.003.20284:*:*:*:continuous",
        "cpe:2.3:a:adobe:acrobat_reader_dc:23.006.20320:*:*:*:continuous",
    ),
    (
        "CVE-2023-28252",
        "cpe:2.3:o:microsoft:windows_10_21h2:10.0.19044.2728",
        "cpe:2.3:o:microsoft:windows_10_21h2:10.0.19044.2846",
    ),
    (
        "CVE-2023-36787",
        "cpe:2.3:a:microsoft:edge_chromium:115.0.1901.203",
        "cpe:2.3:a:microsoft:edge_chromium:116.0.1938.54",
    ),
    (
        "CVE-2023-40031",
        r"cpe:2.3:a:notepad-plus-plus:notepad\+\+:8.5.6",
        r"cpe:2.3:a:notepad-plus-plus:notepad\+\+:8.5.7",
    ),
    (
        "CVE-2024-0519",
        "cpe:2.3:a:google:chrome:120.0.6099.217",
        "cpe:2.3:a:google:chrome:120.0.6099.224",
    ),
    (
        "CVE-2024-11477",
        "cpe:2.3:a:7-zip:7-zip:24.06",
        "cpe:2.3:a:7-zip:7-zip:24.07",
    ),
    (
        "CVE-2024-20918",
        "cpe:2.3:a:oracle:jre:1.8.0:update391",
        "cpe:2.3:a:oracle:jre:1.8.0:update401",
    ),
    (
        "CVE-2024-21412",
        "cpe:2.3:o:microsoft:windows_10_21h2:10.0.19044.3930",
        "cpe:2.3:o:microsoft:windows_10_21h2:10.0.19044.4046",
    ),
    (
        "CVE-2024-21413",
        "cpe:2.3:a:microsoft:office_2016:-:*:*:*:*:*:x64",
        "cpe:2.3:a:microsoft:office_2013:-:*:*:*:*:*:x64",
    ),
    (
        "CVE-2024-21413",
        "cpe:2.3:a:microsoft:office_2016:-:*:*:*:*:*:x86",
        "cpe:2.3:a:microsoft:office_2016:16.0.5435.1001:*:*:*:*:*:x64",
    ),
    (
        "CVE-2024-30051",
        "cpe:2.3:o:microsoft:windows_10_21h2:10.0.19044.4355",
        "cpe:2.3:o:microsoft:windows_10_21h2:10.0.19044.4412",
    ),
    (
        "CVE-2024-41869",
        "cpe:2.3:a:adobe:acrobat_reader_dc:24.003.20054:*:*:*:continuous",
        "cpe:2.3:a:adobe:acrobat_reader_dc:24.003.20112:*:*:*:continuous",
    ),
    (
        "CVE-2024-41869",
        "cpe:2.3:a:adobe:acrobat_reader_dc:24.003.20054:*:*:*:continuous",
        "cpe:2.3:a:adobe:acrobat_reader_dc:24.002.21005:*:*:*:continuous",
    ),
    (
        "CVE-2025-0411",
        "cpe:2.3:a:7-zip:7-zip:24.08",
        "cpe:2.3:a:7-zip:7-zip:24.09",
    ),
];

#[test]
fn every_nvd_record_matches_its_affected_version_and_not_its_unaffected_one() {
    let records = nvd_records();
    assert_eq!(records.len(), 20);
    let mut seen = std::collections::BTreeSet::new();
    for (cve, yes, no) in NVD_TABLE {
        seen.insert(*cve);
        let v = records
            .get(*cve)
            .unwrap_or_else(|| panic!("{cve} not read"));
        let s = windows_subject(&[yes]);
        let hits = matching::affected(v, &s);
        assert_eq!(hits.len(), 1, "{cve}: {yes} should be affected");
        assert_eq!(hits[0].target, Target::Cpe(0));
        let s = windows_subject(&[no]);
        assert!(
            matching::affected(v, &s).is_empty(),
            "{cve}: {no} should not be affected"
        );
    }
    assert_eq!(seen.len(), 20, "every NVD sample record is in the table");
}

#[test]
fn firefox_for_android_entry_does_not_match_a_windows_install() {
    let v = &nvd_records()["CVE-2022-26485"];
    // 97.0.2 is below the Android entry's 97.3.0, but the install is the Windows one.
    let s = windows_subject(&["cpe:2.3:a:mozilla:firefox:97.0.2:*:*:*:*:windows"]);
    assert!(matching::affected(v, &s).is_empty());
    let s = windows_subject(&["cpe:2.3:a:mozilla:firefox:97.0.2:*:*:*:*:android"]);
    assert_eq!(matching::affected(v, &s).len(), 1);
}

#[test]
fn a_platform_condition_needs_the_platform() {
    let v = &nvd_records()["CVE-2022-29072"];
    // 7-Zip 21.07 affected only on Windows (AND with a non-vulnerable o:microsoft:windows:- entry).
    let on_linux = Subject {
        cpes: vec![Cpe::parse23("cpe:2.3:a:7-zip:7-zip:21.07").unwrap()],
        ..Subject::default()
    };
    assert!(matching::affected(v, &on_linux).is_empty());
    assert!(v.disputed);
    // The platform itself is never a finding.
    let s = windows_subject(&["cpe:2.3:a:7-zip:7-zip:21.07"]);
    assert_eq!(matching::affected(v, &s)[0].fixed, None);
}

#[test]
fn a_range_gives_the_fixed_version() {
    let v = &nvd_records()["CVE-2025-0411"];
    let s = windows_subject(&["cpe:2.3:a:7-zip:7-zip:24.08"]);
    assert_eq!(matching::affected(v, &s)[0].fixed.as_deref(), Some("24.09"));
}

#[test]
fn the_envelope_the_single_files_and_gzip_give_the_same_records() {
    let env = nvd_records();
    for p in files(&data().join("nvd/records")) {
        let one = read_any(&p).unwrap();
        assert_eq!(one.len(), 1, "{}", p.display());
        assert_eq!(&one[0], &env[&one[0].id], "{}", p.display());
    }
    let plain = std::fs::read(data().join("nvd/nvdcve-2.0-sample.json")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&plain).unwrap();
    let gz = gz.finish().unwrap();
    assert_eq!(
        detect("nvdcve-2.0-modified.json.gz", &gz[..16]),
        Some(FileKind::Nvd)
    );
    let mut n = 0;
    let summary = nvd::read(&gz[..], &mut |v| {
        assert_eq!(v, env[&v.id]);
        n += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(n, 20);
    assert_eq!(summary.records, 20);
    assert_eq!(
        summary.newest.map(|d| d.to_rfc3339()),
        Some("2026-06-17T00:43:50.523+00:00".into())
    );
}

#[test]
fn nvd_fields_are_read() {
    let r = nvd_records();
    let v = &r["CVE-2016-2334"];
    assert_eq!(v.main_cvss().unwrap().version, unyo_vuln::CvssVersion::V30);
    assert_eq!(v.cvss.len(), 2);
    assert_eq!(r["CVE-2017-0199"].status.as_deref(), Some("Deferred"));
    assert!(
        r["CVE-2024-0519"]
            .description
            .as_deref()
            .unwrap()
            .contains("Chrome")
    );
    assert_eq!(r["CVE-2024-0519"].severity(), unyo_vuln::Severity::High);
}

#[test]
fn a_rejected_record_affects_nothing() {
    let mut v = nvd_records()["CVE-2025-0411"].clone();
    v.rejected = true;
    let s = windows_subject(&["cpe:2.3:a:7-zip:7-zip:24.08"]);
    assert!(matching::affected(&v, &s).is_empty());
    let text = r#"{"id":"CVE-2099-0001","vulnStatus":"Rejected","descriptions":[{"lang":"en","value":"Rejected reason: x"}]}"#;
    let mut got = Vec::new();
    nvd::read(text.as_bytes(), &mut |v| {
        got.push(v);
        Ok(())
    })
    .unwrap();
    assert!(got[0].rejected);
}

#[test]
fn a_truncated_nvd_file_is_refused_saying_where() {
    let plain = std::fs::read(data().join("nvd/nvdcve-2.0-sample.json")).unwrap();
    let err = nvd::read(&plain[..plain.len() / 2], &mut |_| Ok(())).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("JSON として読めません"), "{msg}");
    assert!(msg.contains("line"), "{msg}");
}

/// (file, package, affected versions, unaffected versions) from `FEEDS.md` section B.
const OSV_TABLE: &[(&str, &str, &[&str], &[&str])] = &[
    (
        "GHSA-6g7w-8wpp-frhj.json",
        "rustls",
        &["0.23.4", "0.20"],
        &["0.23.5"],
    ),
    (
        "GHSA-7rrj-xr53-82p7.json",
        "tokio",
        &["1.23.0"],
        &["1.23.1", "1.6.0"],
    ),
    (
        "GHSA-8r5v-vm4m-4g25.json",
        "h2",
        &["0.3.23", "0.4.1"],
        &["0.3.24", "0.4.2"],
    ),
    (
        "GHSA-f3pg-qwvg-p99c.json",
        "hyper",
        &["0.14.9"],
        &["0.14.10"],
    ),
    (
        "GHSA-f8vr-r385-rh5r.json",
        "hyper",
        &["0.14.25"],
        &["0.14.26"],
    ),
    ("GHSA-f8vr-r385-rh5r.json", "h2", &["0.3.16"], &["0.3.17"]),
    ("GHSA-m5pq-gvj9-9vr8.json", "regex", &["1.5.4"], &["1.5.5"]),
    (
        "GHSA-wcg3-cvx6-7396.json",
        "time",
        &["0.1.44", "0.2.22"],
        &["0.2.6", "0.2.23"],
    ),
    ("GHSA-xmrp-424f-vfpx.json", "sqlx", &["0.8.0"], &["0.8.1"]),
    (
        "rustsec/RUSTSEC-2024-0421.json",
        "idna",
        &["0.5.0"],
        &["1.0.0"],
    ),
    (
        "rustsec/RUSTSEC-2025-0004.json",
        "openssl",
        &["0.10.69"],
        &["0.10.70"],
    ),
    (
        "rustsec/RUSTSEC-2025-0009.json",
        "ring",
        &["0.17.11"],
        &["0.17.12"],
    ),
    (
        "rustsec/RUSTSEC-2025-0023.json",
        "tokio",
        &["1.44.1"],
        &["1.44.2", "1.38.2"],
    ),
];

fn crate_subject(name: &str, version: &str) -> Subject {
    Subject {
        packages: vec![PackageRef {
            ecosystem: "crates.io".into(),
            name: name.into(),
            version: version.into(),
        }],
        ..Subject::default()
    }
}

#[test]
fn every_osv_record_matches_its_affected_versions_and_not_its_unaffected_ones() {
    let mut seen = std::collections::BTreeSet::new();
    for (file, pkg, yes, no) in OSV_TABLE {
        seen.insert(*file);
        let recs = read_any(&data().join("osv").join(file)).unwrap();
        assert_eq!(recs.len(), 1);
        for v in *yes {
            assert_eq!(
                matching::affected(&recs[0], &crate_subject(pkg, v)).len(),
                1,
                "{file}: {pkg} {v} affected"
            );
        }
        for v in *no {
            assert!(
                matching::affected(&recs[0], &crate_subject(pkg, v)).is_empty(),
                "{file}: {pkg} {v} not affected"
            );
        }
    }
    assert_eq!(
        seen.len(),
        files(&data().join("osv")).len(),
        "every OSV sample is in the table"
    );
}

#[test]
fn osv_records_from_a_zip() {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for p in files(&data().join("osv")) {
            let name = p
                .strip_prefix(data())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            z.start_file(name, opts).unwrap();
            z.write_all(&std::fs::read(&p).unwrap()).unwrap();
        }
        z.start_file("osv/broken.json", opts).unwrap();
        z.write_all(b"{\"id\": ").unwrap();
        z.finish().unwrap();
    }
    let bytes = buf.into_inner();
    assert_eq!(detect("crates.io.zip", &bytes[..8]), Some(FileKind::OsvZip));
    let mut ids = Vec::new();
    let (summary, errors) = osv::read_zip(std::io::Cursor::new(bytes), &mut |v| {
        ids.push(v.id);
        Ok(())
    })
    .unwrap();
    assert_eq!(summary.records, 12);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].name, "osv/broken.json");
}

#[test]
fn osv_severity_and_fixed_versions() {
    let v = &read_any(&data().join("osv/GHSA-6g7w-8wpp-frhj.json")).unwrap()[0];
    assert_eq!(v.main_cvss().unwrap().score, Some(7.5));
    assert_eq!(v.aliases, vec!["CVE-2024-32650".to_string()]);
    let s = crate_subject("rustls", "0.23.4");
    assert_eq!(
        matching::affected(v, &s)[0].fixed.as_deref(),
        Some("0.23.5")
    );
    let v = &read_any(&data().join("osv/rustsec/RUSTSEC-2025-0023.json")).unwrap()[0];
    assert_eq!(v.feed, FeedKind::Rustsec);
}

#[test]
fn every_jvn_file_is_read_but_the_malformed_one_is_refused_saying_where() {
    let mut ok = 0;
    let mut ids = Vec::new();
    for p in files(&data().join("jvn")) {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        match read_any(&p) {
            Ok(recs) => {
                assert!(!recs.is_empty(), "{name}");
                for r in &recs {
                    assert!(
                        r.title_ja.is_some(),
                        "{name}: {} has a Japanese title",
                        r.id
                    );
                    assert!(r.last_modified.is_some(), "{name}: {}", r.id);
                }
                ids.extend(recs.into_iter().map(|r| r.id));
                ok += 1;
            }
            Err(e) => {
                assert_eq!(name, "dataFeed_jvndb_rss_hnd.xml");
                let msg = e.to_string();
                assert!(
                    msg.starts_with("XML として読めません: 整形式ではありません（116行"),
                    "{msg}"
                );
            }
        }
    }
    assert_eq!(ok, 8);
    for id in [
        "JVNDB-2021-002774",
        "JVNDB-2025-002953",
        "JVNDB-2018-000022",
        "JVNDB-2025-000001",
    ] {
        assert!(ids.iter().any(|i| i == id), "{id}");
    }
}

#[test]
fn jvn_detail_fields() {
    let v = &read_any(&data().join("jvn/getVulnDetailInfo_hnd_JVNDB-2021-002774.xml")).unwrap()[0];
    assert_eq!(
        v.title_ja.as_deref(),
        Some("トレンドマイクロ製 ServerProtect における認証回避の脆弱性")
    );
    assert_eq!(v.aliases, vec!["CVE-2021-36745".to_string()]);
    assert_eq!(
        v.products[0].cpe.as_ref().unwrap().key(),
        ("trendmicro", "serverprotect")
    );
    assert_eq!(v.products[0].versions.len(), 4);
    assert!(v.display_title().contains("ServerProtect"));
    let v = &read_any(&data().join("jvn/getVulnOverviewList_hnd.xml")).unwrap()[0];
    assert_eq!(v.severity(), unyo_vuln::Severity::Critical);
    assert!(v.aliases.contains(&"CVE-2025-31084".to_string()));
}

#[test]
fn every_rustsec_advisory_is_read() {
    let mut n = 0;
    let mut withdrawn = 0;
    for p in files(&data().join("rustsec/crates")) {
        let v = &read_any(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))[0];
        assert!(v.id.starts_with("RUSTSEC-"));
        assert!(v.title.is_some(), "{}", v.id);
        assert_eq!(v.packages.len(), 1);
        n += 1;
        withdrawn += usize::from(v.rejected);
    }
    assert!(n >= 30, "{n}");
    assert!(withdrawn >= 1);
    // RUSTSEC-2025-0023 (tokio): the same answers as its OSV form.
    let v = &read_any(&data().join("rustsec/crates/tokio/RUSTSEC-2025-0023.md")).unwrap()[0];
    for (ver, yes) in [
        ("1.44.1", true),
        ("1.44.2", false),
        ("1.38.2", false),
        ("0.2.4", false),
        ("1.39.0", true),
    ] {
        assert_eq!(
            !matching::affected(v, &crate_subject("tokio", ver)).is_empty(),
            yes,
            "{ver}"
        );
    }
    assert_eq!(
        matching::affected(v, &crate_subject("tokio", "1.44.1"))[0]
            .fixed
            .as_deref(),
        Some("1.44.2")
    );
}

#[test]
fn the_index_finds_the_records_of_a_subject() {
    let records: Vec<Vulnerability> = nvd_records().into_values().collect();
    let ix = matching::Index::build(&records);
    let s = windows_subject(&["cpe:2.3:a:7-zip:7-zip:24.08"]);
    let ids: Vec<&str> = ix
        .candidates(&s)
        .iter()
        .map(|i| records[*i as usize].id.as_str())
        .collect();
    assert_eq!(ids.len(), 4, "{ids:?}");
}

#[test]
fn sbom_round_trip() {
    let lock = r#"
version = 4
[[package]]
name = "tokio"
version = "1.44.1"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "abcd"
[[package]]
name = "unyo"
version = "0.1.0"
"#;
    let bom = unyo_vuln::sbom::cyclonedx_from_lock(lock, "unyo", "0.1.0").unwrap();
    let pk = unyo_vuln::sbom::packages(&bom).unwrap();
    assert_eq!(pk.len(), 1);
    assert_eq!(pk[0].name, "tokio");
    let v = &read_any(&data().join("osv/rustsec/RUSTSEC-2025-0023.json")).unwrap()[0];
    let s = Subject {
        packages: pk,
        ..Subject::default()
    };
    assert_eq!(matching::affected(v, &s).len(), 1);
}

#[test]
fn unyo_own_sbom_lists_the_locked_crates() {
    let doc: serde_json::Value = serde_json::from_str(unyo_vuln::sbom::OWN).unwrap();
    assert_eq!(doc["bomFormat"], "CycloneDX");
    assert_eq!(doc["specVersion"], "1.5");
    let own = unyo_vuln::sbom::own_packages();
    assert!(own.len() > 100, "{}", own.len());
    assert!(own.iter().any(|p| p.name == "tokio"));
    assert!(own.iter().all(|p| !p.name.starts_with("unyo")));
}
