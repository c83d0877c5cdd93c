//! A record's change history from the audit log, as people read it: "拠点: 県庁 → 唐津土木事務所".

use super::{HistoryRow, node_kind_label, site_kind_label, terminal_kind_label};
use crate::error::WebError;
use crate::i18n::Tr;
use crate::page::PageMeta;
use serde_json::Value;
use std::collections::HashMap;
use unyo_store::Store;

/// Which registry table a history belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Entity {
    Site,
    Terminal,
    Node,
}

impl Entity {
    fn code(self) -> &'static str {
        match self {
            Entity::Site => "site",
            Entity::Terminal => "terminal",
            Entity::Node => "node",
        }
    }

    /// Fields in display order with their catalog keys.
    fn fields(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Entity::Site => &[
                ("code", "site.code"),
                ("name", "site.name"),
                ("kind", "common.kind"),
                ("address", "site.address"),
                ("phone", "site.phone"),
                ("uplink_node_id", "site.uplink"),
                ("note", "common.note"),
                ("reason", "common.retire_reason"),
            ],
            Entity::Terminal => &[
                ("hostname", "terminal.hostname"),
                ("site_id", "common.site"),
                ("kind", "common.kind"),
                ("ip_address", "common.ip"),
                ("os_name", "terminal.os"),
                ("os_version", "terminal.os_version"),
                ("serial_number", "terminal.serial"),
                ("asset_number", "terminal.asset"),
                ("note", "common.note"),
                ("reason", "common.retire_reason"),
            ],
            Entity::Node => &[
                ("name", "node.name"),
                ("kind", "common.kind"),
                ("site_id", "registry.site_of_node"),
                ("ip_address", "common.ip"),
                ("upstream_id", "node.upstream"),
                ("note", "common.note"),
                ("reason", "common.retire_reason"),
            ],
        }
    }

    fn label(self, tr: Tr, field: &str) -> String {
        self.fields()
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, key)| tr.t(key).to_string())
            .unwrap_or_else(|| field.to_string())
    }
}

/// Names for ids that appear in histories, looked up once each.
struct Names<'a> {
    store: &'a Store,
    sites: HashMap<i64, String>,
    nodes: HashMap<i64, String>,
}

impl Names<'_> {
    async fn site(&mut self, id: i64) -> String {
        if let Some(n) = self.sites.get(&id) {
            return n.clone();
        }
        let name = match self.store.site(id).await {
            Ok(s) => format!("{}（{}）", s.name, s.code),
            Err(_) => format!("#{id}"),
        };
        self.sites.insert(id, name.clone());
        name
    }

    async fn node(&mut self, id: i64) -> String {
        if let Some(n) = self.nodes.get(&id) {
            return n.clone();
        }
        let name = match self.store.node(id).await {
            Ok(n) => n.name,
            Err(_) => format!("#{id}"),
        };
        self.nodes.insert(id, name.clone());
        name
    }
}

/// The history of one record, newest first.
pub(super) async fn history(
    store: &Store,
    page: &PageMeta,
    entity: Entity,
    id: i64,
) -> Result<Vec<HistoryRow>, WebError> {
    let tr = page.tr;
    let entries = store.history(entity.code(), id).await?;
    let mut names = Names {
        store,
        sites: HashMap::new(),
        nodes: HashMap::new(),
    };
    let mut rows = Vec::with_capacity(entries.len());
    for e in entries {
        let verb = e.action.rsplit('.').next().unwrap_or("");
        let action = match verb {
            "create" => tr.t("registry.act_create").to_string(),
            "update" => tr.t("registry.act_update").to_string(),
            "retire" => tr.t("registry.act_retire").to_string(),
            "import_create" => tr.t("registry.act_import_create").to_string(),
            "import_update" => tr.t("registry.act_import_update").to_string(),
            _ => e.action.clone(),
        };
        let details: Value = serde_json::from_str(&e.details).unwrap_or(Value::Null);
        let mut lines = Vec::new();
        if let Some(map) = details.as_object() {
            // Known fields in display order, then anything else.
            let mut keys: Vec<&String> = Vec::new();
            for (f, _) in entity.fields() {
                if let Some((k, _)) = map.get_key_value(*f) {
                    keys.push(k);
                }
            }
            for k in map.keys() {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
            let is_create = verb.ends_with("create");
            for k in keys {
                let v = &map[k];
                let label = entity.label(tr, k);
                match v.as_array() {
                    Some(pair) if pair.len() == 2 && !is_create => {
                        let old = show(&mut names, tr, entity, k, &pair[0]).await;
                        let new = show(&mut names, tr, entity, k, &pair[1]).await;
                        lines.push(format!("{label}: {old} → {new}"));
                    }
                    _ => {
                        if is_create && (v.is_null() || v.as_str() == Some("")) {
                            continue;
                        }
                        let value = show(&mut names, tr, entity, k, v).await;
                        lines.push(format!("{label}: {value}"));
                    }
                }
            }
        }
        rows.push(HistoryRow {
            when: page.datetime(&e.at),
            who: e.actor,
            action,
            lines,
        });
    }
    Ok(rows)
}

/// One value as text: kinds by label, ids by name, empty values in words.
async fn show(names: &mut Names<'_>, tr: Tr, entity: Entity, field: &str, v: &Value) -> String {
    match v {
        Value::Null => tr.t("registry.none").to_string(),
        Value::String(s) if s.is_empty() => tr.t("registry.blank").to_string(),
        Value::String(s) if field == "kind" => match entity {
            Entity::Site => site_kind_label(tr, s),
            Entity::Terminal => terminal_kind_label(tr, s),
            Entity::Node => node_kind_label(tr, s),
        },
        Value::String(s) => s.clone(),
        Value::Number(n) => match (field, n.as_i64()) {
            ("site_id", Some(id)) => names.site(id).await,
            ("uplink_node_id" | "upstream_id", Some(id)) => names.node(id).await,
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}
