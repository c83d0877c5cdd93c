//! GLPI-agent JSON parser (and the format detection in front of it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use unyo_domain::inventory::{InventoryFormat, InventorySnapshot, diff};

fuzz_target!(|data: &[u8]| {
    if let Ok(snap) = unyo_inventory::parse_glpi_json(data) {
        let empty = InventorySnapshot::empty(InventoryFormat::Glpi);
        let _ = diff(&empty, &snap);
        assert!(diff(&snap, &snap).is_empty());
    }
    let _ = unyo_inventory::parse_any(data);
});
