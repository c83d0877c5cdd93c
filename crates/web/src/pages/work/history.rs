//! A work entry's or contract's change history from the audit log, as people read it:
//! "作業者: 保守 技郎 → 保守 技郎、運用 花子".

use super::{category_label, clause_mark, hours_text, mode_label, stored_date_text};
use crate::error::WebError;
use crate::i18n::Tr;
use crate::page::PageMeta;
use serde_json::Value;
use std::collections::HashMap;
use unyo_store::Store;

/// A row of the change history.
#[derive(Debug, Clone)]
pub(super) struct HistoryRow {
    pub when: String,
    pub who: String,
    pub action: String,
    pub lines: Vec<String>,
}

/// Fields in display order with their catalogue keys.
fn fields(entity: &str) -> &'static [(&'static str, &'static str)] {
    match entity {
        "work" => &[
            ("contract_id", "work.contract"),
            ("work_date", "work.date"),
            ("start_time", "work.start"),
            ("end_time", "work.end"),
            ("minutes", "work.hours"),
            ("worker_ids", "work.workers"),
            ("mode", "work.mode"),
            ("site_id", "common.site"),
            ("terminal_ids", "work.terminals"),
            ("category", "work.category"),
            ("clause", "work.clause"),
            ("description", "work.description"),
            ("result", "work.result"),
            ("follow_up", "work.follow_up"),
            ("request_id", "work.request"),
        ],
        _ => &[
            ("name", "contract.name"),
            ("number", "contract.number"),
            ("term_start", "contract.term_start"),
            ("term_end", "contract.term_end"),
            ("contractor", "contract.contractor"),
            ("manager", "contract.manager"),
            ("staff_ids", "contract.staff"),
        ],
    }
}

/// Names for ids that appear in histories, looked up once each.
struct Names<'a> {
    store: &'a Store,
    users: Option<HashMap<i64, String>>,
    sites: HashMap<i64, String>,
    terminals: HashMap<i64, String>,
    contracts: HashMap<i64, String>,
    requests: HashMap<i64, String>,
}

impl Names<'_> {
    async fn user(&mut self, id: i64) -> String {
        if self.users.is_none() {
            let all = self.store.users().await.unwrap_or_default();
            self.users = Some(all.into_iter().map(|u| (u.id, u.display_name)).collect());
        }
        self.users
            .as_ref()
            .and_then(|m| m.get(&id).cloned())
            .unwrap_or_else(|| format!("#{id}"))
    }

    async fn site(&mut self, id: i64) -> String {
        if let Some(n) = self.sites.get(&id) {
            return n.clone();
        }
        let name = match self.store.site(id).await {
            Ok(s) => s.name,
            Err(_) => format!("#{id}"),
        };
        self.sites.insert(id, name.clone());
        name
    }

    async fn terminal(&mut self, id: i64) -> String {
        if let Some(n) = self.terminals.get(&id) {
            return n.clone();
        }
        let name = match self.store.terminal(id).await {
            Ok(t) => t.hostname,
            Err(_) => format!("#{id}"),
        };
        self.terminals.insert(id, name.clone());
        name
    }

    async fn contract(&mut self, id: i64) -> String {
        if let Some(n) = self.contracts.get(&id) {
            return n.clone();
        }
        let name = match self.store.contract(id).await {
            Ok(c) => c.number,
            Err(_) => format!("#{id}"),
        };
        self.contracts.insert(id, name.clone());
        name
    }

    async fn request(&mut self, id: i64) -> String {
        if let Some(n) = self.requests.get(&id) {
            return n.clone();
        }
        let today = unyo_store::support::jst_today();
        let name = match self.store.request(id, today).await {
            Ok(r) => r.request.number,
            Err(_) => format!("#{id}"),
        };
        self.requests.insert(id, name.clone());
        name
    }
}

/// The history of one work entry (`"work"`) or contract (`"contract"`), newest first.
pub(super) async fn history(
    store: &Store,
    page: &PageMeta,
    entity: &'static str,
    id: i64,
) -> Result<Vec<HistoryRow>, WebError> {
    let tr = page.tr;
    let entries = store.history(entity, id).await?;
    let mut names = Names {
        store,
        users: None,
        sites: HashMap::new(),
        terminals: HashMap::new(),
        contracts: HashMap::new(),
        requests: HashMap::new(),
    };
    let known = fields(entity);
    let mut rows = Vec::with_capacity(entries.len());
    for e in entries {
        let verb = e.action.rsplit('.').next().unwrap_or("");
        let is_create = verb == "create";
        let action = match verb {
            "create" => tr.t("work.act_create").to_string(),
            "update" => tr.t("work.act_update").to_string(),
            "route" => tr
                .pick("業務実績簿の確認ルートの変更", "Approval route changed")
                .to_string(),
            _ => e.action.clone(),
        };
        let details: Value = serde_json::from_str(&e.details).unwrap_or(Value::Null);
        let mut lines = Vec::new();
        // `contract.route`: {"route": [before, after]}, each a list of {label, user_id}.
        if verb == "route"
            && let Some([before, after]) = details
                .get("route")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
        {
            let mut text = Vec::new();
            for steps in [before, after] {
                let mut cols = Vec::new();
                for s in steps.as_array().into_iter().flatten() {
                    let label = s.get("label").and_then(Value::as_str).unwrap_or("");
                    match s.get("user_id").and_then(Value::as_i64) {
                        Some(uid) => cols.push(format!("{label}（{}）", names.user(uid).await)),
                        None => cols.push(label.to_string()),
                    }
                }
                text.push(cols.join("・"));
            }
            lines.push(format!("{} → {}", text[0], text[1]));
        }
        if let Some(map) = details.as_object() {
            for (field, key) in known {
                let Some(v) = map.get(*field) else { continue };
                let label = tr.t(key);
                match v.as_array() {
                    Some(pair) if pair.len() == 2 && !is_create => {
                        let old = show(&mut names, tr, field, &pair[0]).await;
                        let new = show(&mut names, tr, field, &pair[1]).await;
                        lines.push(format!("{label}: {old} → {new}"));
                    }
                    _ => {
                        let empty = v.is_null()
                            || v.as_str() == Some("")
                            || v.as_array().is_some_and(|a| a.is_empty());
                        if is_create && empty {
                            continue;
                        }
                        let value = show(&mut names, tr, field, v).await;
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

/// One value as text: codes by label, ids by name, dates in the page's style.
async fn show(names: &mut Names<'_>, tr: Tr, field: &str, v: &Value) -> String {
    match v {
        Value::Null => tr.t("work.none_selected").to_string(),
        Value::String(s) if s.is_empty() => tr.t("work.none_selected").to_string(),
        Value::String(s) => match field {
            "category" => category_label(tr, s),
            "mode" => mode_label(tr, s),
            "clause" => clause_mark(s).to_string(),
            "work_date" | "term_start" | "term_end" => stored_date_text(tr, s),
            _ => s.clone(),
        },
        Value::Number(n) => match (field, n.as_i64()) {
            ("site_id", Some(id)) => names.site(id).await,
            ("contract_id", Some(id)) => names.contract(id).await,
            ("request_id", Some(id)) => names.request(id).await,
            ("minutes", Some(m)) => hours_text(tr, m),
            _ => n.to_string(),
        },
        Value::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                let Some(id) = item.as_i64() else {
                    out.push(item.to_string());
                    continue;
                };
                out.push(match field {
                    "worker_ids" | "staff_ids" => names.user(id).await,
                    "terminal_ids" => names.terminal(id).await,
                    _ => id.to_string(),
                });
            }
            if out.is_empty() {
                tr.t("work.none_selected").to_string()
            } else {
                out.join("、")
            }
        }
        other => other.to_string(),
    }
}
