//! CycloneDX 1.5 JSON: writing one from a Cargo.lock (the binary embeds unyo's own, made at build time) and reading
//! its components back as packages to match. [`OWN`] is unyo's own, written by the build script from the workspace's
//! Cargo.lock.

use serde::Deserialize;
use serde_json::json;

use crate::matching::PackageRef;

/// unyo's own SBOM: CycloneDX 1.5 JSON of the crates in the workspace's Cargo.lock, written at build time.
pub const OWN: &str = include_str!(concat!(env!("OUT_DIR"), "/sbom.cdx.json"));

/// The crates of unyo's own SBOM.
pub fn own_packages() -> Vec<PackageRef> {
    packages(OWN).unwrap_or_default()
}

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<LockPackage>,
}

#[derive(Deserialize)]
struct LockPackage {
    name: String,
    version: String,
    source: Option<String>,
    checksum: Option<String>,
}

/// A CycloneDX 1.5 JSON document of the packages of a Cargo.lock. `root` names the application (its own crates,
/// those without a registry source, are left out of the components). No timestamp or serial number: the same
/// lock gives the same bytes.
pub fn cyclonedx_from_lock(lock: &str, root: &str, version: &str) -> Result<String, String> {
    let lock: Lock = toml::from_str(lock).map_err(|e| e.to_string())?;
    let components: Vec<serde_json::Value> = lock
        .package
        .iter()
        .filter(|p| {
            p.source
                .as_deref()
                .is_some_and(|s| s.starts_with("registry+"))
        })
        .map(|p| {
            let mut c = json!({
                "type": "library",
                "bom-ref": format!("pkg:cargo/{}@{}", p.name, p.version),
                "name": p.name,
                "version": p.version,
                "purl": format!("pkg:cargo/{}@{}", p.name, p.version),
            });
            if let Some(sum) = &p.checksum {
                c["hashes"] = json!([{ "alg": "SHA-256", "content": sum }]);
            }
            c
        })
        .collect();
    let doc = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {
            "component": {
                "type": "application",
                "bom-ref": format!("pkg:cargo/{root}@{version}"),
                "name": root,
                "version": version,
            }
        },
        "components": components,
    });
    serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())
}

#[derive(Deserialize)]
struct Bom {
    #[serde(default)]
    components: Vec<Component>,
}

#[derive(Deserialize)]
struct Component {
    name: String,
    version: Option<String>,
    purl: Option<String>,
}

/// The crates of a CycloneDX document (components whose purl is `pkg:cargo/…`).
pub fn packages(bom_json: &str) -> Result<Vec<PackageRef>, String> {
    let bom: Bom = serde_json::from_str(bom_json).map_err(|e| e.to_string())?;
    Ok(bom
        .components
        .into_iter()
        .filter(|c| {
            c.purl
                .as_deref()
                .is_some_and(|p| p.starts_with("pkg:cargo/"))
        })
        .filter_map(|c| {
            Some(PackageRef {
                ecosystem: "crates.io".into(),
                name: c.name,
                version: c.version?,
            })
        })
        .collect())
}
