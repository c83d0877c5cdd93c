//! 集約ネットワーク構成: the network as a nested list — top nodes, the nodes below them, and the sites
//! connected to each node — plus the sites without an uplink.

use super::{node_kind_label, site_kind_label};
use crate::i18n::Tr;
use crate::page::{Ctx, PageMeta, render};
use crate::{AppState, WebError};
use axum::extract::State;
use axum::response::Html;
use std::collections::{HashMap, HashSet};
use unyo_domain::Action;
use unyo_store::registry::{NetworkNode, Site};

/// One piece of the nested list, in document order. Askama templates cannot recurse, so the tree is
/// flattened into open/close tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Tok {
    /// `open` (`<ul>`), `close` (`</ul>`), `node` / `site` (`<li>` with content), `end` (`</li>`).
    pub tok: &'static str,
    pub label: String,
    pub href: String,
    pub detail: String,
}

impl Tok {
    fn bare(tok: &'static str) -> Tok {
        Tok {
            tok,
            label: String::new(),
            href: String::new(),
            detail: String::new(),
        }
    }
}

#[derive(askama::Template)]
#[template(path = "registry_network.html")]
struct NetworkPage {
    page: PageMeta,
    tree: Vec<Tok>,
    has_nodes: bool,
    unconnected: Vec<Tok>,
}

fn site_tok(tr: Tr, s: &Site) -> Tok {
    Tok {
        tok: "site",
        label: s.name.clone(),
        href: format!("/sites/{}", s.id),
        detail: format!(
            "{}・{} {} {}",
            site_kind_label(tr, &s.kind),
            tr.t("site.terminals"),
            s.terminal_count,
            tr.t("registry.units")
        ),
    }
}

/// The tree as tokens. Nodes whose upstream is missing are treated as tops; nodes caught in a cycle
/// (which the store refuses) would be skipped rather than loop.
pub(super) fn tree(tr: Tr, nodes: &[NetworkNode], sites: &[Site]) -> Vec<Tok> {
    let ids: HashSet<i64> = nodes.iter().map(|n| n.id).collect();
    let mut children: HashMap<i64, Vec<&NetworkNode>> = HashMap::new();
    let mut roots = Vec::new();
    for n in nodes {
        match n.upstream_id.filter(|u| ids.contains(u)) {
            Some(up) => children.entry(up).or_default().push(n),
            None => roots.push(n),
        }
    }
    let mut site_map: HashMap<i64, Vec<&Site>> = HashMap::new();
    for s in sites {
        if let Some(up) = s.uplink_node_id {
            site_map.entry(up).or_default().push(s);
        }
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    if roots.is_empty() {
        return out;
    }
    out.push(Tok::bare("open"));
    for r in roots {
        walk(tr, r, &children, &site_map, &mut seen, &mut out);
    }
    out.push(Tok::bare("close"));
    out
}

fn walk(
    tr: Tr,
    n: &NetworkNode,
    children: &HashMap<i64, Vec<&NetworkNode>>,
    sites: &HashMap<i64, Vec<&Site>>,
    seen: &mut HashSet<i64>,
    out: &mut Vec<Tok>,
) {
    if !seen.insert(n.id) {
        return;
    }
    let mut detail = node_kind_label(tr, &n.kind);
    if let Some(ip) = &n.ip_address {
        detail.push(' ');
        detail.push_str(ip);
    }
    out.push(Tok {
        tok: "node",
        label: n.name.clone(),
        href: format!("/nodes/{}", n.id),
        detail,
    });
    let kids = children.get(&n.id).map(Vec::as_slice).unwrap_or_default();
    let here = sites.get(&n.id).map(Vec::as_slice).unwrap_or_default();
    if !kids.is_empty() || !here.is_empty() {
        out.push(Tok::bare("open"));
        for c in kids {
            walk(tr, c, children, sites, seen, out);
        }
        for s in here {
            out.push(site_tok(tr, s));
            out.push(Tok::bare("end"));
        }
        out.push(Tok::bare("close"));
    }
    out.push(Tok::bare("end"));
}

/// `GET /network`.
pub(super) async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Html<String>, WebError> {
    ctx.require(Action::ViewRegistry)?;
    let tr = ctx.tr;
    let nodes = state.store.all_nodes().await?;
    let sites = state.store.all_sites().await?;
    let unconnected = sites
        .iter()
        .filter(|s| {
            s.uplink_node_id
                .is_none_or(|u| !nodes.iter().any(|n| n.id == u))
        })
        .map(|s| site_tok(tr, s))
        .collect();
    render(&NetworkPage {
        page: ctx.page(tr.t("network.title"), "network"),
        tree: tree(tr, &nodes, &sites),
        has_nodes: !nodes.is_empty(),
        unconnected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: i64, up: Option<i64>) -> NetworkNode {
        NetworkNode {
            id,
            name: format!("n{id}"),
            kind: "router".into(),
            site_id: None,
            site_name: None,
            ip_address: None,
            upstream_id: up,
            upstream_name: None,
            note: String::new(),
            created_at: String::new(),
            updated_at: String::new(),
            retired_at: None,
        }
    }

    #[test]
    fn tokens_are_balanced_and_nested() {
        let nodes = vec![node(1, None), node(2, Some(1))];
        let site = Site {
            id: 9,
            code: "S".into(),
            name: "拠点".into(),
            kind: "other".into(),
            address: String::new(),
            phone: String::new(),
            uplink_node_id: Some(2),
            uplink_node_name: Some("n2".into()),
            note: String::new(),
            terminal_count: 2,
            created_at: String::new(),
            updated_at: String::new(),
            retired_at: None,
        };
        let toks: Vec<&str> = tree(Tr::default(), &nodes, &[site])
            .iter()
            .map(|t| t.tok)
            .collect();
        assert_eq!(
            toks,
            [
                "open", "node", "open", "node", "open", "site", "end", "close", "end", "close",
                "end", "close"
            ]
        );
    }
}
