//! Writes unyo's own SBOM (CycloneDX 1.5 JSON) from the workspace's Cargo.lock into OUT_DIR, where
//! `sbom::OWN` embeds it. The lock is read line by line (its format is simple and stable), so the build needs no
//! dependencies of its own; registry packages only, sorted as the lock is.

use std::fmt::Write as _;

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o
}

fn value(line: &str, key: &str) -> Option<String> {
    let rest = line
        .strip_prefix(key)?
        .trim_start()
        .strip_prefix('=')?
        .trim();
    Some(rest.strip_prefix('"')?.strip_suffix('"')?.to_owned())
}

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let lock_path = std::path::Path::new(&manifest).join("../../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock_path.display());
    let lock = std::fs::read_to_string(&lock_path).unwrap_or_default();
    let mut packages: Vec<(String, String, Option<String>, Option<String>)> = Vec::new();
    for block in lock.split("[[package]]").skip(1) {
        let (mut name, mut version, mut source, mut checksum) = (None, None, None, None);
        for line in block.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                break;
            }
            name = name.or_else(|| value(line, "name"));
            version = version.or_else(|| value(line, "version"));
            source = source.or_else(|| value(line, "source"));
            checksum = checksum.or_else(|| value(line, "checksum"));
        }
        if let (Some(n), Some(v)) = (name, version) {
            packages.push((n, v, source, checksum));
        }
    }
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let mut out = String::new();
    out.push_str(
        "{\n  \"bomFormat\": \"CycloneDX\",\n  \"specVersion\": \"1.5\",\n  \"version\": 1,\n",
    );
    let _ = write!(
        out,
        "  \"metadata\": {{\n    \"component\": {{\n      \"type\": \"application\",\n      \"bom-ref\": \"pkg:cargo/unyo@{v}\",\n      \"name\": \"unyo\",\n      \"version\": \"{v}\"\n    }}\n  }},\n  \"components\": [",
        v = esc(&version)
    );
    let mut first = true;
    for (n, v, source, checksum) in &packages {
        if !source
            .as_deref()
            .is_some_and(|s| s.starts_with("registry+"))
        {
            continue;
        }
        out.push_str(if first { "\n" } else { ",\n" });
        first = false;
        let purl = format!("pkg:cargo/{}@{}", esc(n), esc(v));
        let _ = write!(
            out,
            "    {{\n      \"type\": \"library\",\n      \"bom-ref\": \"{purl}\",\n      \"name\": \"{}\",\n      \"version\": \"{}\",\n      \"purl\": \"{purl}\"",
            esc(n),
            esc(v)
        );
        if let Some(c) = checksum {
            let _ = write!(
                out,
                ",\n      \"hashes\": [{{ \"alg\": \"SHA-256\", \"content\": \"{}\" }}]",
                esc(c)
            );
        }
        out.push_str("\n    }");
    }
    out.push_str("\n  ]\n}\n");
    let dest =
        std::path::Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("sbom.cdx.json");
    if let Err(e) = std::fs::write(&dest, out) {
        panic!("writing {}: {e}", dest.display());
    }
}
