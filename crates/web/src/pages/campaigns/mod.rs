//! 展開 (rollout campaigns) and 準拠状況 (the compliance view) (issue 4).
//!
//! - `GET /campaigns`: the list with progress (「12/17 実施済」 and a text bar).
//! - `GET /campaigns/new`, `POST /campaigns`: the form (goal type and its fields; targets: all, by kind,
//!   by site, hand-picked; representative first; witness wanted).
//! - `GET /campaigns/{id}`: looks at the inventories first (targets an inventory proves become 実施済 with
//!   「エージェント確認」), then the targets by stage with status, evidence (「エージェント確認」 and
//!   「SE申告」 are distinct badges), observed value and what the latest inventory says; links to the
//!   terminal's inventory and the work entry; forms to attest, exclude, confirm a witness and close.
//! - `GET /compliance`: terminals × key items, lagging cells marked 「遅れ」 with an icon and the reason in a
//!   `<details>` one click away; filters by site and kind; the OS-build baseline; CSV/XLSX exports (audited).
//!
//! Everything works without JavaScript; every write goes through a store method with the person's actor.

mod compliance;
mod detail;
mod form;
mod list;

use crate::AppState;
use crate::i18n::Tr;
use crate::view::{Badge, Opt, parse_id};
use axum::Router;
use axum::routing::{get, post};
use unyo_domain::campaign::{CellState, Evidence, TargetStatus};
use unyo_domain::registry::TerminalKind;

/// Routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaigns", get(list::list).post(form::create))
        .route("/campaigns/new", get(form::new_form))
        .route("/campaigns/{id}", get(detail::detail))
        .route("/campaigns/{id}/attest", post(detail::attest))
        .route("/campaigns/{id}/exclude", post(detail::exclude))
        .route("/campaigns/{id}/witness", post(detail::witness))
        .route("/campaigns/{id}/close", post(detail::close))
        .route("/compliance", get(compliance::page))
        .route("/compliance/baseline", post(compliance::baseline))
        .route("/compliance/export.csv", get(compliance::csv))
        .route("/compliance/export.xlsx", get(compliance::xlsx))
}

// ------------------------------------------------------------------ shared view pieces

/// A target status as a badge.
fn status_badge(tr: Tr, status: TargetStatus) -> Badge {
    let (class, icon) = match status {
        TargetStatus::Done => ("badge badge-active", "✔"),
        TargetStatus::Failed => ("badge badge-warn", "✖"),
        TargetStatus::Excluded => ("badge badge-retired", "－"),
        TargetStatus::Pending => ("badge", "…"),
    };
    Badge {
        class,
        icon,
        text: tr.pick(status.label_ja(), status.label_en()).to_string(),
    }
}

/// An evidence kind as a badge: 「エージェント確認」 and 「SE申告」 never look alike.
fn evidence_badge(tr: Tr, evidence: Evidence) -> Badge {
    let (class, icon) = match evidence {
        Evidence::Agent => ("badge badge-active evidence-agent", "◉"),
        Evidence::Attested => ("badge badge-rep evidence-attested", "✎"),
    };
    Badge {
        class,
        icon,
        text: tr
            .pick(evidence.label_ja(), evidence.label_en())
            .to_string(),
    }
}

/// A compliance cell state as a badge.
fn cell_badge(tr: Tr, state: CellState) -> Badge {
    let (class, icon) = match state {
        CellState::Ok => ("badge badge-active", "✔"),
        CellState::Lagging => ("badge badge-warn", "⚠"),
        CellState::Unknown => ("badge badge-retired", "？"),
        CellState::NoTarget => ("badge", "・"),
    };
    Badge {
        class,
        icon,
        text: tr.pick(state.label_ja(), state.label_en()).to_string(),
    }
}

/// The label of a terminal kind code.
fn kind_label(tr: Tr, code: &str) -> String {
    TerminalKind::parse(code)
        .map(|k| tr.pick(k.label_ja(), k.label_en()).to_string())
        .unwrap_or_else(|| code.to_string())
}

pub(super) use crate::page::LinkedErrors as Errors;

/// An optional id from a select or query (`""` = none).
fn opt_id(raw: &str) -> Option<i64> {
    raw.trim().parse::<i64>().ok().filter(|id| *id > 0)
}

/// A submitted form as its pairs in order (checkbox groups repeat a name).
pub(super) struct Fields(pub Vec<(String, String)>);

impl Fields {
    fn get(&self, key: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    fn ids(&self, key: &str) -> Vec<i64> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .filter_map(|(_, v)| opt_id(v))
            .collect()
    }

    fn flag(&self, key: &str) -> bool {
        matches!(self.get(key).as_str(), "1" | "on" | "true")
    }
}

/// `base?k=v…` for non-empty pairs.
fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if !v.is_empty() {
            ser.append_pair(k, v);
        }
    }
    let qs = ser.finish();
    if qs.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{qs}")
    }
}

/// Renders a page with `status`.
fn respond<T: askama::Template>(
    status: axum::http::StatusCode,
    t: &T,
) -> Result<axum::response::Response, crate::WebError> {
    use axum::response::IntoResponse;
    Ok((status, crate::page::render(t)?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn evidence_badges_never_look_alike() {
        let tr = Tr { lang: Lang::Ja };
        let a = evidence_badge(tr, Evidence::Agent);
        let b = evidence_badge(tr, Evidence::Attested);
        assert_eq!(a.text, "エージェント確認");
        assert_eq!(b.text, "SE申告");
        assert_ne!(a.class, b.class);
        assert_ne!(a.icon, b.icon);
        assert_eq!(cell_badge(tr, CellState::Lagging).text, "遅れ");
        assert_eq!(with_query("/c", &[("a", ""), ("b", "1")]), "/c?b=1");
    }
}
