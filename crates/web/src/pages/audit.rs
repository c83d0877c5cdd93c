//! The audit log screen (R12, R13): filter, page through, check the hash chain, export as CSV or Excel.
//! Reading needs [`Action::ViewAudit`], exporting [`Action::ExportAudit`]; every export is itself audited.

use crate::i18n::Tr;
use crate::page::{Ctx, PageMeta, render};
use crate::view::Opt;
use crate::{AppState, WebError};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use unyo_domain::Action;
use unyo_store::audit::{AuditEntry, AuditQuery, ChainReport, ExportKind};

/// Rows per page on the screen.
const PER_PAGE: i64 = 50;

/// Common action prefixes offered in the filter, with their labels.
const PREFIXES: &[(&str, &str, &str)] = &[
    ("login", "ログイン", "Login"),
    ("logout", "ログアウト", "Logout"),
    ("user", "利用者", "Users"),
    ("totp", "二要素認証", "Two-factor"),
    ("token", "APIトークン", "API tokens"),
    ("site", "拠点", "Sites"),
    ("terminal", "端末", "Terminals"),
    ("node", "ネットワーク機器", "Network nodes"),
    ("import", "取込", "Import"),
    ("export", "出力", "Export"),
];

/// `GET /audit`, `GET /audit/export.csv`, `GET /audit/export.xlsx`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit", get(audit_page))
        .route("/audit/export.csv", get(export_csv))
        .route("/audit/export.xlsx", get(export_xlsx))
}

/// The filter as it arrives in the query string. Everything is text so that a malformed value never
/// turns into a bare 400; bad dates are reported on the page and ignored.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AuditFilter {
    actor: String,
    action: String,
    action_text: String,
    from: String,
    to: String,
    q: String,
    entity: String,
    entity_id: String,
    page: String,
    /// Present when the person asked for a full chain check.
    verify: Option<String>,
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn valid_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").is_ok()
}

impl AuditFilter {
    /// The action prefix in effect: the free text wins over the select.
    fn action_prefix(&self) -> Option<String> {
        non_empty(&self.action_text).or_else(|| non_empty(&self.action))
    }

    fn page_no(&self) -> i64 {
        self.page.trim().parse::<i64>().unwrap_or(1).max(1)
    }

    /// Whether a date field holds something that is not a date.
    fn bad_dates(&self) -> bool {
        [&self.from, &self.to]
            .iter()
            .any(|d| !d.trim().is_empty() && !valid_date(d))
    }

    /// The store query (without paging when `page` is `None`).
    fn query(&self, page: Option<i64>) -> AuditQuery {
        AuditQuery {
            actor: non_empty(&self.actor),
            action: self.action_prefix(),
            entity: non_empty(&self.entity),
            entity_id: non_empty(&self.entity_id),
            from: non_empty(&self.from).filter(|d| valid_date(d)),
            to: non_empty(&self.to).filter(|d| valid_date(d)),
            q: non_empty(&self.q),
            page,
            per_page: page.map(|_| PER_PAGE),
        }
    }

    /// The filter's fields that are set, in order, without the page.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        [
            ("actor", &self.actor),
            ("action", &self.action),
            ("action_text", &self.action_text),
            ("from", &self.from),
            ("to", &self.to),
            ("q", &self.q),
            ("entity", &self.entity),
            ("entity_id", &self.entity_id),
        ]
        .into_iter()
        .filter_map(|(k, v)| non_empty(v).map(|v| (k, v)))
        .collect()
    }

    /// The filter as a query string (without the page), for paging and export links.
    fn query_string(&self) -> String {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.pairs() {
            ser.append_pair(k, &v);
        }
        ser.finish()
    }

    /// The filter as recorded in the export's audit entry. A search term that looks like a 個人番号 or
    /// 住民票コード is not copied into the log (R17).
    fn as_json(&self) -> Value {
        Value::Object(
            self.pairs()
                .into_iter()
                .map(|(k, v)| {
                    let v = if unyo_domain::pii::find_personal_identifier(&v).is_some() {
                        "[redacted]".to_string()
                    } else {
                        v
                    };
                    (k.to_string(), Value::String(v))
                })
                .collect(),
        )
    }
}

/// Up to this many entries the chain is checked on every view of the audit page (well under a second).
const AUTO_VERIFY_LIMIT: i64 = 100_000;

/// The chain check as shown.
struct ChainView {
    /// False when the log is too long to walk on every page view and no check was asked for.
    checked: bool,
    ok: bool,
    entries: i64,
    head_prefix: String,
    broken_id: i64,
    reason: String,
}

impl ChainView {
    fn new(tr: Tr, report: ChainReport) -> ChainView {
        match report {
            ChainReport::Intact { entries, head } => ChainView {
                checked: true,
                ok: true,
                entries,
                head_prefix: head.chars().take(16).collect(),
                broken_id: 0,
                reason: String::new(),
            },
            ChainReport::Broken { id, reason } => ChainView {
                checked: true,
                ok: false,
                entries: 0,
                head_prefix: String::new(),
                broken_id: id,
                reason: broken_reason(tr, &reason),
            },
        }
    }
}

/// The store's reason (English, technical) in the page's language.
fn broken_reason(tr: Tr, reason: &str) -> String {
    let (ja, en) = if reason.contains("missing") {
        (
            "記録が欠落しています（削除された可能性があります）。",
            "Entries are missing (possibly removed).",
        )
    } else if reason.contains("prev_hash") {
        (
            "直前の記録のハッシュと一致しません（それ以前の記録が変更または削除されています）。",
            "Does not match the previous entry's hash (an earlier entry was changed or removed).",
        )
    } else if reason.contains("contents") {
        (
            "記録の内容がハッシュと一致しません（記録が変更されています）。",
            "The entry's contents do not match its hash (the entry was changed).",
        )
    } else {
        return reason.to_string();
    };
    tr.pick(ja, en).to_string()
}

/// One entry as shown.
struct Row {
    id: i64,
    at: String,
    actor: String,
    action: String,
    action_label: String,
    target: String,
    target_href: Option<String>,
    details_short: String,
    details_full: String,
    source: String,
}

/// Words for the kinds of records named in audit entries.
fn entity_label(tr: Tr, entity: &str) -> Option<&'static str> {
    let (ja, en) = match entity {
        "site" | "sites" => ("拠点", "site"),
        "terminal" | "terminals" => ("端末", "terminal"),
        "node" | "nodes" => ("ネットワーク機器", "network node"),
        "user" | "users" => ("利用者", "user"),
        "api_token" => ("APIトークン", "API token"),
        "audit" => ("監査ログ", "audit log"),
        "registry" => ("台帳", "registry"),
        _ => return None,
    };
    Some(tr.pick(ja, en))
}

/// A Japanese (or English) description of a dotted action name; empty when unknown.
pub fn describe_action(tr: Tr, action: &str) -> String {
    let exact = match action {
        "login.success" => Some(("ログイン", "Login")),
        "login.failure" => Some(("ログイン失敗", "Login failure")),
        "login.lockout" => Some(("アカウントロック", "Account locked")),
        "logout" => Some(("ログアウト", "Logout")),
        "user.create" => Some(("利用者の登録", "User created")),
        "user.disable" => Some(("利用者の無効化", "User disabled")),
        "user.unlock" => Some(("ロック解除", "User unlocked")),
        "user.password" => Some(("パスワード変更", "Password changed")),
        "totp.enrol_start" => Some(("二要素認証の設定開始", "Two-factor set-up started")),
        "totp.enable" => Some(("二要素認証の有効化", "Two-factor turned on")),
        "totp.disable" => Some(("二要素認証の無効化", "Two-factor turned off")),
        "totp.recovery_code_used" => Some(("回復コードの使用", "Recovery code used")),
        "token.create" => Some(("APIトークンの発行", "API token created")),
        _ => None,
    };
    if let Some((ja, en)) = exact {
        return tr.pick(ja, en).to_string();
    }
    let (head, tail) = action.split_once('.').unwrap_or((action, ""));
    let verb = |ja: &str, en: &str, subject: Option<&str>| match subject {
        Some(s) if tr.is_ja() => format!("{s}の{ja}"),
        Some(s) => format!("{en} ({s})"),
        None => tr.pick(ja, en).to_string(),
    };
    match (head, tail) {
        ("export", sub) => verb("出力", "Export", entity_label(tr, sub)),
        ("import", sub) => verb("取込", "Import", entity_label(tr, sub)),
        (e, "create") => verb("登録", "Create", entity_label(tr, e)),
        (e, "update") => verb("変更", "Update", entity_label(tr, e)),
        (e, "retire") => verb("廃止", "Retire", entity_label(tr, e)),
        (e, "import_create") => verb("取込（登録）", "Import (create)", entity_label(tr, e)),
        (e, "import_update") => verb("取込（変更）", "Import (update)", entity_label(tr, e)),
        _ => String::new(),
    }
}

/// One JSON value in a few words.
fn compact_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        Value::Array(items) if items.len() == 2 => {
            format!(
                "{} → {}",
                compact_value(&items[0]),
                compact_value(&items[1])
            )
        }
        Value::Array(items) => items
            .iter()
            .map(compact_value)
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}: {}", compact_value(v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// Longest details shown in full in the table; longer ones are cut and folded into a `<details>`.
const SHORT_DETAILS: usize = 120;

/// (short, full) readable forms of an entry's details; `full` is empty when `short` says it all.
fn readable_details(details: &str) -> (String, String) {
    let text = match serde_json::from_str::<Value>(details) {
        Ok(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| (k, compact_value(v)))
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(" / "),
        Ok(other) => compact_value(&other),
        Err(_) => details.to_string(),
    };
    if text.chars().count() <= SHORT_DETAILS {
        (text, String::new())
    } else {
        let short: String = text.chars().take(SHORT_DETAILS).collect();
        (format!("{short}…"), text)
    }
}

fn row(tr: Tr, page: &PageMeta, e: &AuditEntry, usernames: &HashMap<String, String>) -> Row {
    let (details_short, details_full) = readable_details(&e.details);
    let is_id = !e.entity_id.is_empty() && e.entity_id.chars().all(|c| c.is_ascii_digit());
    let target_href = match e.entity.as_str() {
        "site" | "terminal" | "node" if is_id => Some(format!("/{}s/{}", e.entity, e.entity_id)),
        _ => None,
    };
    let target = if e.entity.is_empty() && e.entity_id.is_empty() {
        String::new()
    } else {
        let label = entity_label(tr, &e.entity).unwrap_or(&e.entity);
        match usernames.get(&e.entity_id).filter(|_| e.entity == "user") {
            Some(name) => format!("{label} {name}（#{}）", e.entity_id),
            None if e.entity_id.is_empty() => label.to_string(),
            None => format!("{label} #{}", e.entity_id),
        }
    };
    Row {
        id: e.id,
        at: page.datetime(&e.at),
        actor: e.actor.clone(),
        action: e.action.clone(),
        action_label: describe_action(tr, &e.action),
        target,
        target_href,
        details_short,
        details_full,
        source: e.source.clone(),
    }
}

#[derive(askama::Template)]
#[template(path = "audit.html")]
struct AuditPage {
    page: PageMeta,
    chain: ChainView,
    f: AuditFilter,
    prefixes: Vec<Opt>,
    date_error: bool,
    rows: Vec<Row>,
    total: i64,
    first: i64,
    last: i64,
    page_no: i64,
    pages: i64,
    prev_href: String,
    next_href: String,
    qs: String,
    can_export: bool,
}

async fn audit_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(f): Query<AuditFilter>,
) -> Result<Html<String>, WebError> {
    ctx.require(Action::ViewAudit)?;
    let tr = ctx.tr;
    let page = ctx.page(tr.t("audit.title"), "audit");
    // Walking the chain reads every entry: automatic for a log of ordinary size, on request beyond that.
    let entries = state.store.audit_len().await?;
    let chain = if entries <= AUTO_VERIFY_LIMIT || f.verify.is_some() {
        ChainView::new(tr, state.store.verify_and_record_audit_chain().await?)
    } else {
        ChainView {
            checked: false,
            ok: false,
            entries,
            head_prefix: String::new(),
            broken_id: 0,
            reason: String::new(),
        }
    };
    let result = state.store.audit_log(&f.query(Some(f.page_no()))).await?;
    let usernames: HashMap<String, String> = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| (u.id.to_string(), u.username))
        .collect();
    let rows: Vec<Row> = result
        .items
        .iter()
        .map(|e| row(tr, &page, e, &usernames))
        .collect();
    let qs = f.query_string();
    let href = |n: i64| {
        if qs.is_empty() {
            format!("/audit?page={n}")
        } else {
            format!("/audit?{qs}&page={n}")
        }
    };
    let pages = result.pages();
    let page_no = result.page;
    let first = if rows.is_empty() {
        0
    } else {
        (page_no - 1) * result.per_page + 1
    };
    render(&AuditPage {
        chain,
        prefixes: PREFIXES
            .iter()
            .map(|(code, ja, en)| Opt {
                value: code.to_string(),
                label: format!("{code} — {}", tr.pick(ja, en)),
                selected: f.action.trim() == *code,
            })
            .collect(),
        date_error: f.bad_dates(),
        total: result.total,
        first,
        last: first + rows.len() as i64 - 1,
        rows,
        page_no,
        pages,
        prev_href: if page_no > 1 {
            href(page_no - 1)
        } else {
            String::new()
        },
        next_href: if page_no < pages {
            href(page_no + 1)
        } else {
            String::new()
        },
        can_export: ctx.user.role().allows(Action::ExportAudit),
        qs,
        f,
        page,
    })
}

/// `filename*=` needs RFC 5987 percent-encoding of everything but a few ASCII characters.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `attachment` with a Japanese file name and an ASCII fallback for old clients.
pub fn content_disposition(ja_name: &str, ascii_name: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{}",
        percent_encode(ja_name)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

async fn export(
    state: &AppState,
    ctx: &Ctx,
    f: &AuditFilter,
    format: &str,
) -> Result<Response, WebError> {
    ctx.require(Action::ExportAudit)?;
    let entries = state.store.audit_export(&f.query(None)).await?;
    let (bytes, content_type) = match format {
        "xlsx" => (
            unyo_exchange::audit_xlsx(&entries).map_err(|e| WebError::Refused(e.to_string()))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        _ => (
            unyo_exchange::audit_csv(&entries),
            "text/csv; charset=utf-8",
        ),
    };
    // The export is recorded before anything leaves the server.
    state
        .store
        .record_export(
            &ctx.actor(),
            ExportKind::Audit,
            "",
            "",
            json!({
                "format": format,
                "rows": entries.len(),
                "filter": f.as_json(),
            }),
        )
        .await?;
    let stamp = unyo_domain::time::to_jst(chrono::Utc::now()).format("%Y%m%d-%H%M");
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(
            &format!("監査ログ_{stamp}.{format}"),
            &format!("audit-log_{stamp}.{format}"),
        ),
    );
    Ok(res)
}

async fn export_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(f): Query<AuditFilter>,
) -> Result<Response, WebError> {
    export(&state, &ctx, &f, "csv").await
}

async fn export_xlsx(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(f): Query<AuditFilter>,
) -> Result<Response, WebError> {
    export(&state, &ctx, &f, "xlsx").await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn known_actions_are_described() {
        let ja = Tr { lang: Lang::Ja };
        assert_eq!(describe_action(ja, "login.failure"), "ログイン失敗");
        assert_eq!(describe_action(ja, "login.lockout"), "アカウントロック");
        assert_eq!(describe_action(ja, "export.audit"), "監査ログの出力");
        assert_eq!(describe_action(ja, "export.something"), "出力");
        assert_eq!(describe_action(ja, "terminal.create"), "端末の登録");
        assert_eq!(describe_action(ja, "site.update"), "拠点の変更");
        assert_eq!(describe_action(ja, "node.retire"), "ネットワーク機器の廃止");
        assert_eq!(describe_action(ja, "widget.create"), "登録");
        assert_eq!(describe_action(ja, "mystery"), "");
        let en = Tr { lang: Lang::En };
        assert_eq!(describe_action(en, "terminal.retire"), "Retire (terminal)");
    }

    #[test]
    fn details_are_readable() {
        let (short, full) = readable_details(r#"{"filter":{},"hostname":["a","b"],"reason":"x"}"#);
        assert_eq!(short, "hostname: a → b / reason: x");
        assert!(full.is_empty());
        let long = format!(r#"{{"note":"{}"}}"#, "あ".repeat(300));
        let (short, full) = readable_details(&long);
        assert!(short.ends_with('…') && short.chars().count() == SHORT_DETAILS + 1);
        assert!(full.chars().count() > SHORT_DETAILS);
        assert_eq!(readable_details("{}").0, "");
    }

    #[test]
    fn disposition_has_both_names() {
        let v = content_disposition("監査ログ_1.csv", "audit-log_1.csv");
        let s = v.to_str().expect("ascii");
        assert!(
            s.starts_with("attachment; filename=\"audit-log_1.csv\""),
            "{s}"
        );
        assert!(s.contains("filename*=UTF-8''%E7%9B%A3%E6%9F%BB"), "{s}");
    }

    /// A broken chain is shown with text, an icon and the first bad entry, not by colour alone.
    #[test]
    fn broken_chain_is_spelled_out() {
        let tr = Tr { lang: Lang::Ja };
        let chain = ChainView::new(
            tr,
            ChainReport::Broken {
                id: 7,
                reason: "hash does not match the entry's contents (the entry was changed)".into(),
            },
        );
        assert!(!chain.ok);
        let html = askama::Template::render(&AuditPage {
            page: PageMeta::public(tr, "監査ログ", "x".into()),
            chain,
            f: AuditFilter::default(),
            prefixes: Vec::new(),
            date_error: false,
            rows: Vec::new(),
            total: 0,
            first: 0,
            last: 0,
            page_no: 1,
            pages: 1,
            prev_href: String::new(),
            next_href: String::new(),
            qs: String::new(),
            can_export: false,
        })
        .expect("render");
        assert!(html.contains("不整合") && html.contains("⚠") && html.contains("番号 7"));
        assert!(html.contains("記録が変更されています") && html.contains("role=\"alert\""));
        assert!(!html.contains("正常"));
    }

    #[test]
    fn free_text_action_wins() {
        let f = AuditFilter {
            action: "login".into(),
            action_text: " user.cr ".into(),
            from: "2026-13-01".into(),
            ..Default::default()
        };
        let q = f.query(Some(1));
        assert_eq!(q.action.as_deref(), Some("user.cr"));
        assert!(q.from.is_none() && f.bad_dates());
        assert_eq!(
            f.query_string(),
            "action=login&action_text=user.cr&from=2026-13-01"
        );
    }
}
