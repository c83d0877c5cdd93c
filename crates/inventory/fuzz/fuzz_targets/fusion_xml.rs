//! FusionInventory / OCS XML parser, plus what consumers do with a parsed snapshot (sorting software by
//! version, diffing), which must not panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unyo_domain::inventory::{InventoryFormat, InventorySnapshot, compare_versions, diff};

fuzz_target!(|data: &[u8]| {
    if let Ok(snap) = unyo_inventory::parse_fusion_xml(data) {
        let mut versions: Vec<&str> = snap
            .software
            .iter()
            .filter_map(|s| s.version.as_deref())
            .collect();
        versions.sort_by(|a, b| compare_versions(a, b));
        let empty = InventorySnapshot::empty(InventoryFormat::Fusion);
        let _ = diff(&empty, &snap);
        let _ = diff(&snap, &empty);
        assert!(diff(&snap, &snap).is_empty());
    }
    let _ = unyo_inventory::parse_any(data);
});
