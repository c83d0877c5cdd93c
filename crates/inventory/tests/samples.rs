//! The real sample inventories (glpi-project/inventory_format, MIT; see tests/samples/README.md) parse
//! with the values that are in the files. Expected values were read from the files themselves.

use std::path::PathBuf;
use unyo_domain::inventory::{Antivirus, InventoryFormat, InventorySnapshot, OsField, diff};
use unyo_inventory::{parse_any, parse_fusion_xml, parse_glpi_json};

fn sample(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/samples")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn fusion(name: &str) -> InventorySnapshot {
    let bytes = sample(name);
    let s = parse_fusion_xml(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(parse_any(&bytes).unwrap(), s, "parse_any agrees for {name}");
    assert_eq!(s.format, InventoryFormat::Fusion);
    s
}

fn glpi(name: &str) -> InventorySnapshot {
    let bytes = sample(name);
    let s = parse_glpi_json(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(parse_any(&bytes).unwrap(), s, "parse_any agrees for {name}");
    assert_eq!(s.format, InventoryFormat::Glpi);
    s
}

fn o(s: &str) -> Option<String> {
    Some(s.to_string())
}

#[test]
fn fusioninventory_1_fedora() {
    let s = fusion("fusioninventory-1.xml");
    assert_eq!(s.hostname, o("LF014"));
    assert_eq!(s.device_id, o("LF014-2016-06-13-14-03-53"));
    assert_eq!(s.uuid, o("0055ADC9-1D3A-E411-8043-B05D95113232"));
    assert_eq!(s.serial, o("9E113232I"));
    assert_eq!(s.domain, o("ad.crosoft.com"));
    assert_eq!(s.os.name, o("Fedora"));
    assert_eq!(s.os.version, o("25"));
    assert_eq!(s.os.full_name, o("Fedora release 25 (Twenty Five)"));
    assert_eq!(s.os.build, o("4.11.3-200.fc25.x86_64"));
    assert_eq!(s.os.arch, o("x86_64"));
    assert_eq!(s.os.service_pack, None);
    assert_eq!(s.software.len(), 42);
    let first = &s.software[0];
    assert_eq!(first.name, "xerces-j2");
    assert_eq!(first.version, o("2.11.0-24.fc24"));
    assert_eq!(first.publisher, o("Fedora Project"));
    assert_eq!(first.install_date, None, "INSTALLDATE N/A");
    assert_eq!(first.arch, o("noarch"));
    assert_eq!(s.software[1].install_date, o("08/06/2017"));
    assert!(s.antivirus.is_empty());
    assert_eq!(
        s.ip_addresses,
        vec![
            "192.168.1.103",
            "fe80::dd76:c250:1435:8e89",
            "192.168.124.1",
            "192.168.11.96",
            "fe80::3d05:f5d:a260:423b"
        ]
    );
    assert_eq!(
        s.mac_addresses,
        vec![
            "b8:6b:23:e0:5c:91",
            "b8:6b:23:e0:5c:81",
            "ae:ed:e7:56:9d:a0",
            "52:54:0b:74:5e:f1",
            "52:54:c0:74:5e:f1"
        ]
    );
    assert_eq!(s.collected_at.unwrap().to_string(), "2017-06-09 09:00:49");
    assert!(!s.partial);
}

fn windows_81_antivirus() -> Vec<Antivirus> {
    vec![
        Antivirus {
            name: "Windows Defender".into(),
            company: None,
            version: None,
            base_version: None,
            base_date: None,
            enabled: Some(true),
            up_to_date: Some(true),
            expiration: None,
            guid: o("{D68DDC3A-831F-4fae-9E44-DA132C1ACF46}"),
        },
        Antivirus {
            name: "Kaspersky Endpoint Security 10 for Windows".into(),
            company: None,
            version: None,
            base_version: None,
            base_date: None,
            enabled: Some(true),
            up_to_date: Some(true),
            expiration: None,
            guid: o("{B41C7598-35F6-4D89-7D0E-7ADE69B4047B}"),
        },
    ]
}

fn assert_windows_81(s: &InventorySnapshot) {
    assert_eq!(s.hostname, o("pc-arg-23"));
    assert_eq!(s.device_id, o("pc-arg-23.cedre.local-2017-04-18-09-26-44"));
    assert_eq!(s.uuid, o("33E737A8-F827-11DF-9297-47C0A301005A"));
    assert_eq!(s.serial, o("CZC0479792"));
    assert_eq!(s.domain, o("cedre.local"));
    assert_eq!(s.os.name, o("Windows"));
    // OPERATINGSYSTEM has no VERSION on this Windows 8.1: HARDWARE/OSVERSION fills it.
    assert_eq!(s.os.version, o("6.3.9600"));
    assert_eq!(s.os.full_name, o("Microsoft Windows 8.1 Professionnel"));
    assert_eq!(s.os.build, o("6.3.9600"));
    assert_eq!(s.os.arch, o("64-bit"));
    assert_eq!(s.os.service_pack, None, "<SERVICE_PACK /> is empty");
    assert_eq!(s.software.len(), 8);
    assert_eq!(s.software[0].name, "CCleaner");
    assert_eq!(s.software[0].version, o("5.09"));
    assert_eq!(s.software[0].publisher, o("Piriform"));
    assert_eq!(s.software[0].install_date, o("11/09/2015"));
    assert_eq!(
        s.software[1].name,
        "FusionInventory Agent 2.3.19 (x64 edition)"
    );
    assert_eq!(s.software[1].version, o("2.3.19"));
    // The files have ANTIVIRUS with ENABLED, GUID, NAME, UPTODATE only: no COMPANY, no VERSION.
    assert_eq!(s.antivirus, windows_81_antivirus());
    assert_eq!(
        s.ip_addresses,
        vec!["10.253.6.55", "fe80::855e:72a5:247e:b3d8"]
    );
    assert_eq!(s.mac_addresses.len(), 6);
    assert_eq!(s.mac_addresses[0], "68:b5:99:e6:84:eb");
    assert_eq!(s.collected_at.unwrap().to_string(), "2017-05-15 18:38:07");
}

#[test]
fn fusioninventory_2_windows_with_antivirus() {
    assert_windows_81(&fusion("fusioninventory-2.xml"));
}

#[test]
fn fusioninventory_12_windows_with_antivirus() {
    // Same machine as -2, plus a POWERSUPPLIES section, which is skipped.
    let s = fusion("fusioninventory-12.xml");
    assert_windows_81(&s);
    assert!(diff(&fusion("fusioninventory-2.xml"), &s).is_empty());
}

#[test]
fn fusioninventory_3_mac() {
    let s = fusion("fusioninventory-3.xml");
    assert_eq!(s.hostname, o("MacBook-de-teclib"));
    assert_eq!(
        s.device_id,
        o("MacBook-de-teclib.local-2016-09-07-09-27-48")
    );
    assert_eq!(s.uuid, o("00000000-0000-1000-8000-0017F2D11432"));
    assert_eq!(s.serial, o("W87051UGVUV"));
    assert_eq!(s.domain, o("local"));
    assert_eq!(s.os.name, o("MacOSX"));
    assert_eq!(s.os.version, o("10.6.8 (10K549)"));
    assert_eq!(s.os.full_name, o("Mac OS X"));
    assert_eq!(s.os.build, o("10.8.0"));
    assert_eq!(s.os.arch, o("i386"));
    assert_eq!(s.software.len(), 40);
    assert_eq!(s.software[0].name, "ContentIndexing");
    assert_eq!(s.software[0].version, o("1.2.1"));
    assert_eq!(s.software[0].install_date, o("2006-08-20 12:06"));
    assert!(s.antivirus.is_empty());
    assert_eq!(
        s.ip_addresses,
        vec!["fe80::1", "172.28.220.124", "fe80::219:e3ff:fedb:64d2"]
    );
    assert_eq!(s.collected_at.unwrap().to_string(), "2016-09-07 09:28:29");
}

#[test]
fn glpi_computer_1() {
    let s = glpi("glpi-computer_1.json");
    assert_eq!(s.hostname, o("glpixps"));
    assert_eq!(s.device_id, o("glpixps-2018-07-09-09-07-13"));
    assert_eq!(s.uuid, o("4c4c4544-0034-3010-8048-b6c04f503732"));
    assert_eq!(s.serial, o("640HP72"));
    assert_eq!(s.os.name, o("Fedora"));
    assert_eq!(s.os.version, o("31 (Workstation Edition)"));
    assert_eq!(s.os.full_name, o("Fedora 31 (Workstation Edition)"));
    assert_eq!(s.os.build, o("5.6.15-200.fc31.x86_64"));
    assert_eq!(s.os.arch, o("x86_64"));
    assert_eq!(s.software.len(), 6);
    assert_eq!(s.software[0].name, "gitg");
    assert_eq!(s.software[0].version, o("3.32.1-1.fc31"));
    assert_eq!(s.software[0].install_date, o("2019-12-19"));
    assert!(s.antivirus.is_empty());
    assert!(s.ip_addresses.contains(&"192.168.1.142".to_string()));
    assert!(!s.ip_addresses.contains(&"127.0.0.1".to_string()));
    assert_eq!(s.mac_addresses[0], "00:e0:4c:68:01:db");
    assert_eq!(s.collected_at.unwrap().to_string(), "2020-06-12 14:19:54");
    assert!(!s.partial);
}

#[test]
fn glpi_computer_1_partial_softs() {
    let s = glpi("glpi-computer_1_partial_softs.json");
    assert!(s.partial);
    assert_eq!(s.hostname, o("glpixps"));
    assert_eq!(s.software.len(), 6);
    assert_eq!(s.software[0].version, o("3.33.0-1.fc31"));
    assert!(s.antivirus.is_empty());
    assert!(
        s.ip_addresses.is_empty(),
        "no networks section in the partial file"
    );
    assert_eq!(s.collected_at, None, "no accesslog in the partial file");
    // Against the full inventory of the same machine: only gitg moved.
    let d = diff(&glpi("glpi-computer_1.json"), &s);
    assert!(d.software_added.is_empty() && d.software_removed.is_empty());
    assert_eq!(d.software_upgraded.len(), 1);
    assert_eq!(d.software_upgraded[0].name, "gitg");
    assert_eq!(d.software_upgraded[0].old_version, o("3.32.1-1.fc31"));
    assert_eq!(d.software_upgraded[0].new_version, o("3.33.0-1.fc31"));
    assert!(d.os_changes.is_empty());
}

#[test]
fn glpi_computer_2() {
    let s = glpi("glpi-computer_2.json");
    assert_eq!(s.hostname, o("COMP1"));
    assert_eq!(s.device_id, o("acomputer-2021-01-26-14-32-36"));
    assert_eq!(s.uuid, o("4BDRGGFE-0046-4710-8047-B2C04F503732"));
    assert_eq!(s.serial, o("2FAGP34"));
    assert!(s.os.is_empty(), "no operatingsystem section");
    assert_eq!(s.software.len(), 0);
}

#[test]
fn glpi_computer_3_and_its_update() {
    let old = glpi("glpi-computer_3.json");
    let new = glpi("glpi-computer_3_updated.json");
    for s in [&old, &new] {
        assert_eq!(s.hostname, o("LF014"));
        assert_eq!(s.device_id, o("LF014-2017-02-20-12-19-56"));
        assert_eq!(s.uuid, o("0055ADC9-1D3A-E411-8043-B05D95113232"));
        assert_eq!(s.serial, o("8C554721F"));
        assert_eq!(s.domain, o("glpi-project.infra"));
        assert_eq!(s.os.name, o("Fedora"));
        assert_eq!(s.os.version, o("25"));
        assert_eq!(s.os.full_name, o("Fedora release 25 (Twenty Five)"));
    }
    assert_eq!(old.software.len(), 3033);
    assert_eq!(new.software.len(), 3184);
    assert_eq!(old.os.build, o("4.9.9-200.fc25.x86_64"));
    assert_eq!(new.os.build, o("4.11.3-200.fc25.x86_64"));
    assert_eq!(old.collected_at.unwrap().to_string(), "2017-02-20 13:23:05");
    assert_eq!(new.collected_at.unwrap().to_string(), "2017-06-09 09:00:49");

    let d = diff(&old, &new);
    // Removed: exactly these five packages.
    let removed: Vec<(&str, Option<&str>)> = d
        .software_removed
        .iter()
        .map(|s| (s.name.as_str(), s.version.as_deref()))
        .collect();
    assert_eq!(
        removed,
        vec![
            ("libebitdo", Some("0.7.5-1.fc25")),
            ("pyrpkg", Some("1.48-2.fc25")),
            ("python-idna", Some("2.0-4.fc25")),
            ("python-pycurl", Some("7.43.0-4.fc25")),
            ("python-pygments", Some("2.1.3-2.fc25")),
        ]
    );
    assert_eq!(d.software_added.len(), 156);
    let added = |name: &str| {
        d.software_added
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.version.clone())
    };
    assert_eq!(added("filezilla"), Some(o("3.24.1-1.fc25")));
    assert_eq!(added("ImageMagick-libs"), Some(o("6.9.3.0-6.fc25")));
    assert_eq!(added("python2-pycurl"), Some(o("7.43.0-6.fc25")));
    // 860 packages present in both with another version (three kernels each for kernel,
    // kernel-core and kernel-modules among them).
    assert_eq!(
        d.software_upgraded.len() + d.software_downgraded.len() + d.software_changed.len(),
        860
    );
    let up = |name: &str| -> Vec<(String, String)> {
        d.software_upgraded
            .iter()
            .filter(|c| c.name == name)
            .map(|c| {
                (
                    c.old_version.clone().unwrap(),
                    c.new_version.clone().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        up("kernel"),
        vec![
            ("4.9.7-201.fc25".into(), "4.10.15-200.fc25".into()),
            ("4.9.8-201.fc25".into(), "4.10.17-200.fc25".into()),
            ("4.9.9-200.fc25".into(), "4.11.3-200.fc25".into()),
        ]
    );
    assert_eq!(
        up("GeoIP"),
        vec![("1.6.9-2.fc24".into(), "1.6.10-1.fc25".into())]
    );
    assert_eq!(
        up("python2-rpm"),
        vec![("4.13.0-6.fc25".into(), "4.13.0.1-1.fc25".into())]
    );
    assert_eq!(
        up("libreoffice-gtk2"),
        vec![("5.2.5.1-6.fc25".into(), "5.2.7.2-3.fc25".into())]
    );
    // The arch change noarch → x86_64 of adwaita-qt-common is paired, not reported as remove + add.
    assert!(
        d.software_upgraded
            .iter()
            .chain(&d.software_downgraded)
            .chain(&d.software_changed)
            .any(|c| c.name == "adwaita-qt-common" && c.arch.as_deref() == Some("x86_64"))
    );
    // All 860 are upgrades (the machine was updated with dnf): no downgrade, no unordered change.
    assert_eq!(d.software_upgraded.len(), 860);
    assert!(
        d.software_downgraded.is_empty(),
        "{:?}",
        d.software_downgraded
    );
    assert_eq!(d.software_changed.len(), 0);
    // The OS build moved with the kernel.
    let build = d
        .os_changes
        .iter()
        .find(|c| c.field == OsField::Build)
        .unwrap();
    assert_eq!(build.change.old, o("4.9.9-200.fc25.x86_64"));
    assert_eq!(build.change.new, o("4.11.3-200.fc25.x86_64"));
    assert_eq!(build.change.direction(), Some(std::cmp::Ordering::Greater));
    assert_eq!(d.os_changes.len(), 1);
    assert!(d.antivirus_added.is_empty() && d.antivirus_changed.is_empty());
}
