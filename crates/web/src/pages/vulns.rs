//! 脆弱性 (issue 18, R16): findings with filters, paging and CSV/XLSX export, the freshness of every feed (a stale
//! feed is said to be stale, never shown as "no vulnerabilities"), one vulnerability with the Japanese text of the
//! JVN records that name it, the software→CPE mapping table the SE reviews, and feed files uploaded from
//! removable media.
//!
//! Routes (behind the session and CSRF guards):
//! * `GET /vulnerabilities` — findings; `GET /vulnerabilities/findings.csv|.xlsx` — the same, exported (audited).
//! * `GET /vulnerabilities/records/{id}` — one vulnerability.
//! * `GET /vulnerabilities/mappings`, `POST /vulnerabilities/mappings/{id}` — review the CPE mapping table.
//! * `GET|POST /vulnerabilities/feeds` — freshness, imports, upload (then matching).

use crate::page::{Ctx, PageMeta, render, show_datetime};
use crate::{AppState, WebError};
use axum::Router;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use unyo_domain::Action;
use unyo_store::audit::ExportKind;
use unyo_store::vulns::{
    CpeMapping, DEFAULT_STALE_DAYS, FeedImport, FeedStatus, Finding, FindingQuery, FindingStatus,
};

/// The routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/vulnerabilities", get(list))
        .route("/vulnerabilities/findings.csv", get(export_csv))
        .route("/vulnerabilities/findings.xlsx", get(export_xlsx))
        .route("/vulnerabilities/records/{id}", get(record))
        .route("/vulnerabilities/mappings", get(mappings))
        .route("/vulnerabilities/mappings/{id}", post(review_mapping))
        .route("/vulnerabilities/feeds", get(feeds).post(upload))
}

fn severity_ja(tr: crate::i18n::Tr, code: &str) -> String {
    let (ja, en) = match code {
        "critical" => ("緊急", "Critical"),
        "high" => ("重要", "High"),
        "medium" => ("警告", "Medium"),
        "low" => ("注意", "Low"),
        _ => ("なし", "None"),
    };
    tr.pick(ja, en).to_string()
}

fn date_ja(tr: crate::i18n::Tr, d: &Option<String>) -> String {
    match d
        .as_deref()
        .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
    {
        Some(date) if tr.is_ja() => unyo_domain::wareki::format_long(date),
        Some(date) => date.format("%Y-%m-%d").to_string(),
        None => "—".into(),
    }
}

/// The stale feeds' names, for the banner.
async fn stale_feeds(state: &AppState) -> Result<Vec<FeedStatus>, WebError> {
    Ok(state
        .store
        .feed_status(chrono::Utc::now(), DEFAULT_STALE_DAYS)
        .await?
        .into_iter()
        .filter(|f| f.stale)
        .collect())
}

/// A finding as a table row.
struct Row {
    f: Finding,
    status: &'static str,
    severity: String,
    due: String,
    overdue: bool,
}

#[derive(askama::Template)]
#[template(path = "vulns_list.html")]
struct ListPage {
    page: PageMeta,
    stale: Vec<FeedStatus>,
    stale_days: i64,
    rows: Vec<Row>,
    total: i64,
    page_no: i64,
    pages: i64,
    q: Params,
    query: String,
    statuses: Vec<(&'static str, &'static str)>,
}

/// Query of the findings list.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Params {
    status: String,
    severity: String,
    subject: String,
    cve: String,
    software: String,
    terminal_id: String,
    page: String,
}

impl Params {
    fn query(&self, per_page: i64) -> FindingQuery {
        let s = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_owned());
        FindingQuery {
            terminal_id: self.terminal_id.trim().parse().ok(),
            status: Some(if self.status.is_empty() {
                "active".into()
            } else if self.status == "all" {
                String::new()
            } else {
                self.status.clone()
            }),
            cve: s(&self.cve),
            subject: s(&self.subject),
            severity: s(&self.severity),
            software: s(&self.software),
            page: self.page.trim().parse().ok(),
            per_page: Some(per_page),
        }
    }

    /// The filter as a query string without the page (for paging and export links).
    fn encoded(&self) -> String {
        let mut u = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("status", &self.status),
            ("severity", &self.severity),
            ("subject", &self.subject),
            ("cve", &self.cve),
            ("software", &self.software),
            ("terminal_id", &self.terminal_id),
        ] {
            if !v.is_empty() {
                u.append_pair(k, v);
            }
        }
        u.finish()
    }
}

async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<Params>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewVulnerabilities)?;
    let tr = ctx.tr;
    let found = state.store.findings(&p.query(50)).await?;
    let today = unyo_store::support::jst_today();
    let pages = found.pages();
    let rows = found
        .items
        .into_iter()
        .map(|f| Row {
            status: f.status().label_ja(),
            severity: severity_ja(tr, &f.severity),
            due: date_ja(tr, &f.due_date),
            overdue: f.overdue(today),
            f,
        })
        .collect();
    let mut statuses = vec![("", "未対応・対応中"), ("all", "すべて")];
    statuses.extend(FindingStatus::ALL.iter().map(|s| (s.code(), s.label_ja())));
    let p2 = ListPage {
        page: ctx.page(tr.t("nav.vulns"), "vulns"),
        stale: stale_feeds(&state).await?,
        stale_days: DEFAULT_STALE_DAYS,
        rows,
        total: found.total,
        page_no: found.page,
        pages,
        query: p.encoded(),
        q: p,
        statuses,
    };
    Ok(render(&p2)?.into_response())
}

async fn export(
    state: &AppState,
    ctx: &Ctx,
    p: &Params,
    format: &str,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewVulnerabilities)?;
    let found = state.store.findings(&p.query(1000)).await?;
    let (body, ct) = if format == "csv" {
        (
            unyo_exchange::findings_csv(&found.items),
            "text/csv; charset=utf-8",
        )
    } else {
        (
            unyo_exchange::findings_xlsx(&found.items)
                .map_err(|e| WebError::Internal(e.to_string()))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    };
    state
        .store
        .record_export(
            &ctx.actor(),
            ExportKind::Findings,
            "",
            "",
            json!({ "format": format, "rows": found.items.len(), "filter": p.encoded() }),
        )
        .await?;
    let date = unyo_store::support::jst_today().format("%Y%m%d");
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    h.insert(
        header::CONTENT_DISPOSITION,
        crate::download::content_disposition(
            &format!("findings_{date}.{format}"),
            &format!("脆弱性検出結果_{date}.{format}"),
        ),
    );
    Ok(res)
}

async fn export_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<Params>,
) -> Result<Response, WebError> {
    export(&state, &ctx, &p, "csv").await
}

async fn export_xlsx(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<Params>,
) -> Result<Response, WebError> {
    export(&state, &ctx, &p, "xlsx").await
}

#[derive(askama::Template)]
#[template(path = "vulns_record.html")]
struct RecordPage {
    page: PageMeta,
    id: String,
    feed: String,
    severity: String,
    score: String,
    aliases: String,
    title_ja: String,
    description_ja: String,
    title_en: String,
    description_en: String,
    published: String,
    modified: String,
    rejected: bool,
    disputed: bool,
    /// (related id, feed, Japanese title or title)
    related: Vec<(String, String, String)>,
    history: Vec<String>,
    findings: Vec<Row>,
}

async fn record(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewVulnerabilities)?;
    let tr = ctx.tr;
    let d = match state.store.vulnerability(&id).await {
        Err(unyo_store::StoreError::Domain(unyo_domain::DomainError::NotFound(_))) => {
            return Err(WebError::NotFound);
        }
        other => other?,
    };
    // Japanese text: the record's own, else a JVN record naming it.
    let ja = std::iter::once(&d.record)
        .chain(d.related.iter())
        .find(|r| r.title_ja.is_some());
    let today = unyo_store::support::jst_today();
    let findings = state
        .store
        .findings(&FindingQuery {
            cve: Some(id.clone()),
            status: Some(String::new()),
            per_page: Some(500),
            ..FindingQuery::default()
        })
        .await?
        .items
        .into_iter()
        .map(|f| Row {
            status: f.status().label_ja(),
            severity: severity_ja(tr, &f.severity),
            due: date_ja(tr, &f.due_date),
            overdue: f.overdue(today),
            f,
        })
        .collect();
    let p = RecordPage {
        page: ctx.page(id.clone(), "vulns"),
        feed: d.record.feed.label().into(),
        severity: severity_ja(tr, &d.row.severity),
        score: match (&d.row.cvss_version, d.row.cvss_score) {
            (Some(v), Some(s)) => format!("CVSS v{v} {s:.1}"),
            _ => "—".into(),
        },
        aliases: d.record.aliases.join(" "),
        title_ja: ja.and_then(|r| r.title_ja.clone()).unwrap_or_default(),
        description_ja: ja
            .and_then(|r| r.description_ja.clone())
            .unwrap_or_default(),
        title_en: d.record.title.clone().unwrap_or_default(),
        description_en: d.record.description.clone().unwrap_or_default(),
        published: d
            .row
            .published
            .as_deref()
            .map(|s| show_datetime(tr, s))
            .unwrap_or_default(),
        modified: d
            .row
            .last_modified
            .as_deref()
            .map(|s| show_datetime(tr, s))
            .unwrap_or_default(),
        rejected: d.row.rejected,
        disputed: d.record.disputed,
        related: d
            .related
            .iter()
            .map(|r| (r.id.clone(), r.feed.label().to_string(), r.display_title()))
            .collect(),
        history: d
            .history
            .iter()
            .map(|(lm, rej, at)| {
                format!(
                    "{}{}（{}）",
                    lm.as_deref()
                        .map(|s| show_datetime(tr, s))
                        .unwrap_or_default(),
                    if *rej { " Rejected" } else { "" },
                    show_datetime(tr, at)
                )
            })
            .collect(),
        findings,
        id,
    };
    Ok(render(&p)?.into_response())
}

#[derive(askama::Template)]
#[template(path = "vulns_mappings.html")]
struct MappingsPage {
    page: PageMeta,
    rows: Vec<(CpeMapping, String)>,
    can_review: bool,
    error: String,
}

async fn mappings_page(state: &AppState, ctx: &Ctx, error: String) -> Result<Response, WebError> {
    let rows = state
        .store
        .cpe_mappings(None)
        .await?
        .into_iter()
        .map(|m| {
            let text = m.cpes.join("\n");
            (m, text)
        })
        .collect();
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let p = MappingsPage {
        page: ctx.page(
            ctx.tr
                .pick("ソフトウェアとCPEの対応表", "Software to CPE mapping"),
            "vulns",
        ),
        rows,
        can_review: ctx.user.role().allows(Action::ReviewCpeMappings),
        error,
    };
    Ok((status, render(&p)?).into_response())
}

async fn mappings(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    ctx.require(Action::ViewVulnerabilities)?;
    mappings_page(&state, &ctx, String::new()).await
}

/// The review form: `cpes` (one CPE 2.3 name a line) and `action` = `confirm` (as suggested) or `correct`.
#[derive(Deserialize)]
struct ReviewForm {
    #[serde(default)]
    cpes: String,
    #[serde(default)]
    action: String,
}

async fn review_mapping(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<ReviewForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::ReviewCpeMappings)?;
    let list: Vec<String> = f
        .cpes
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let cpes = (f.action == "correct").then_some(list.as_slice());
    match state
        .store
        .confirm_cpe_mapping(&ctx.actor(), id, cpes)
        .await
    {
        Ok(_) => Ok(Redirect::to("/vulnerabilities/mappings").into_response()),
        Err(unyo_store::StoreError::Domain(unyo_domain::DomainError::Validation(fields))) => {
            let msg = fields
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join(" ");
            mappings_page(&state, &ctx, msg).await
        }
        Err(e) => Err(e.into()),
    }
}

/// One uploaded file's outcome.
struct FileResult {
    name: String,
    ok: bool,
    text: String,
}

#[derive(askama::Template)]
#[template(path = "vulns_feeds.html")]
struct FeedsPage {
    page: PageMeta,
    feeds: Vec<FeedStatus>,
    stale_days: i64,
    imports: Vec<FeedImport>,
    results: Vec<FileResult>,
    matched: String,
    can_import: bool,
}

async fn feeds_page(
    state: &AppState,
    ctx: &Ctx,
    results: Vec<FileResult>,
    matched: String,
    status: StatusCode,
) -> Result<Response, WebError> {
    let p = FeedsPage {
        page: ctx.page(
            ctx.tr.pick("脆弱性情報の取込", "Vulnerability feeds"),
            "vulns",
        ),
        feeds: state
            .store
            .feed_status(chrono::Utc::now(), DEFAULT_STALE_DAYS)
            .await?,
        stale_days: DEFAULT_STALE_DAYS,
        imports: state.store.feed_imports(50).await?,
        results,
        matched,
        can_import: ctx.user.role().allows(Action::ImportFeeds),
    };
    Ok((status, render(&p)?).into_response())
}

async fn feeds(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    ctx.require(Action::ViewVulnerabilities)?;
    feeds_page(&state, &ctx, Vec::new(), String::new(), StatusCode::OK).await
}

/// `POST /vulnerabilities/feeds` (multipart: one or more `file` fields).
async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    ctx.require(Action::ImportFeeds)?;
    let bad = |e: axum::extract::multipart::MultipartError| {
        WebError::BadRequest(format!("アップロードを読み取れませんでした: {e}"))
    };
    let actor = ctx.actor();
    let mut results = Vec::new();
    let mut all_ok = true;
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or_default().to_string();
        let bytes = field.bytes().await.map_err(bad)?;
        if name.is_empty() && bytes.is_empty() {
            continue;
        }
        let o = state
            .store
            .import_feed_reader(&actor, &name, std::io::Cursor::new(bytes.to_vec()))
            .await?;
        all_ok &= o.ok;
        results.push(FileResult {
            name,
            ok: o.ok,
            text: if o.ok {
                format!(
                    "{} {} 件（追加 {}・更新 {}・変更なし {}）{}",
                    o.feed.map(|f| f.label()).unwrap_or("-"),
                    o.records,
                    o.added,
                    o.updated,
                    o.unchanged,
                    o.message
                )
            } else {
                o.message
            },
        });
    }
    if results.is_empty() {
        return Err(WebError::BadRequest("ファイルを選んでください。".into()));
    }
    let m = state.store.rematch_vulnerabilities(&actor).await?;
    let matched = format!(
        "照合しました: 対象 {}・新規 {}・対応済 {}・取下げ {}・再検出 {}",
        m.subjects, m.opened, m.resolved, m.withdrawn, m.reopened
    );
    let status = if all_ok {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    feeds_page(&state, &ctx, results, matched, status).await
}
