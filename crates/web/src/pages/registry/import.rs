//! 台帳の取込: a CSV upload (UTF-8 with or without BOM, or Shift_JIS/CP932) of terminals, sites or nodes.
//! All or nothing: any bad row refuses the file, and the page lists every problem by line and column.

use super::Opt;
use crate::page::{Ctx, PageMeta, render};
use crate::{AppState, WebError};
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use unyo_domain::Action;
use unyo_store::registry::{ImportSummary, RowError};

/// One column of an import file, as its header is written.
#[derive(Debug, Clone, Copy)]
pub(super) struct Col {
    pub code: &'static str,
    pub label: &'static str,
    pub required: bool,
}

const fn col(code: &'static str, label: &'static str, required: bool) -> Col {
    Col {
        code,
        label,
        required,
    }
}

/// The columns people may use (the same headers as the exports; see `unyo_exchange`).
const TERMINAL_COLS: &[Col] = &[
    col("hostname", "ホスト名", true),
    col("site_code", "拠点コード", true),
    col("kind", "種別", true),
    col("ip_address", "IPアドレス", false),
    col("os_name", "OS", false),
    col("os_version", "OSバージョン", false),
    col("serial_number", "製造番号", false),
    col("asset_number", "備品番号", false),
    col("note", "備考", false),
];

const SITE_COLS: &[Col] = &[
    col("code", "拠点コード", true),
    col("name", "拠点名", true),
    col("kind", "種別", true),
    col("address", "所在地", false),
    col("phone", "電話番号", false),
    col("uplink_node", "接続機器", false),
    col("note", "備考", false),
];

const NODE_COLS: &[Col] = &[
    col("name", "機器名", true),
    col("kind", "種別", true),
    col("site_code", "拠点コード", false),
    col("ip_address", "IPアドレス", false),
    col("upstream", "上位機器", false),
    col("note", "備考", false),
];

/// What is being imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Terminals,
    Sites,
    Nodes,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Nodes, Kind::Sites, Kind::Terminals];

    fn parse(s: &str) -> Option<Kind> {
        match s.trim() {
            "terminals" => Some(Kind::Terminals),
            "sites" => Some(Kind::Sites),
            "nodes" => Some(Kind::Nodes),
            _ => None,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Kind::Terminals => "terminals",
            Kind::Sites => "sites",
            Kind::Nodes => "nodes",
        }
    }

    fn label_key(self) -> &'static str {
        match self {
            Kind::Terminals => "registry.import_kind_terminals",
            Kind::Sites => "registry.import_kind_sites",
            Kind::Nodes => "registry.import_kind_nodes",
        }
    }

    fn columns(self) -> &'static [Col] {
        match self {
            Kind::Terminals => TERMINAL_COLS,
            Kind::Sites => SITE_COLS,
            Kind::Nodes => NODE_COLS,
        }
    }

    /// The header label of a column an error names (by code, or as typed in the file).
    fn column_label(self, column: &str) -> Option<&'static str> {
        let code = match column {
            "site_id" => "site_code",
            "uplink_node_id" => "uplink_node",
            "upstream_id" => "upstream",
            other => other,
        };
        self.columns()
            .iter()
            .find(|c| c.code == code)
            .map(|c| c.label)
    }
}

/// The column list of one kind, for the help section.
pub(super) struct ColumnHelp {
    pub title: String,
    pub columns: &'static [Col],
}

/// One refused row as shown.
pub(super) struct ShownError {
    pub line: String,
    pub column: String,
    pub code: String,
    pub message: String,
}

#[derive(askama::Template)]
#[template(path = "registry_import.html")]
struct ImportPage {
    page: PageMeta,
    kinds: Vec<Opt>,
    help: Vec<ColumnHelp>,
    /// A problem with the upload as a whole (no file, unknown encoding).
    general_error: String,
    errors: Vec<ShownError>,
    summary: Option<ImportSummary>,
    kind_label: String,
    file_name: String,
}

fn page_of(ctx: &Ctx, kind: Option<Kind>) -> ImportPage {
    let tr = ctx.tr;
    let current = kind.map(Kind::code).unwrap_or("");
    ImportPage {
        page: ctx.page(tr.t("import.title"), "import"),
        kinds: Kind::ALL
            .iter()
            .map(|k| Opt::matching(k.code(), tr.t(k.label_key()), current))
            .collect(),
        help: Kind::ALL
            .iter()
            .map(|k| ColumnHelp {
                title: tr.t(k.label_key()).to_string(),
                columns: k.columns(),
            })
            .collect(),
        general_error: String::new(),
        errors: Vec::new(),
        summary: None,
        kind_label: kind
            .map(|k| tr.t(k.label_key()).to_string())
            .unwrap_or_default(),
        file_name: String::new(),
    }
}

fn respond(status: StatusCode, p: &ImportPage) -> Result<Response, WebError> {
    Ok((status, render(p)?).into_response())
}

/// `GET /import`.
pub(super) async fn form(ctx: Ctx) -> Result<Response, WebError> {
    ctx.require(Action::ImportRegistry)?;
    respond(StatusCode::OK, &page_of(&ctx, None))
}

fn shown(ctx: &Ctx, kind: Kind, errors: Vec<RowError>) -> Vec<ShownError> {
    let tr = ctx.tr;
    errors
        .into_iter()
        .map(|e| {
            let (column, code) = if e.column.is_empty() {
                (tr.t("registry.whole_row").to_string(), String::new())
            } else {
                match kind.column_label(&e.column) {
                    Some(label) => (label.to_string(), e.column),
                    None => (e.column, String::new()),
                }
            };
            ShownError {
                line: if e.line == 0 {
                    "—".into()
                } else {
                    e.line.to_string()
                },
                column,
                code,
                message: e.message,
            }
        })
        .collect()
}

/// `POST /import` (multipart: `kind`, `file`; `_csrf` was checked by the guard).
pub(super) async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    ctx.require(Action::ImportRegistry)?;
    let tr = ctx.tr;
    let bad = |e: axum::extract::multipart::MultipartError| {
        WebError::BadRequest(format!("アップロードを読み取れませんでした: {e}"))
    };
    let mut kind_raw = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        match field.name() {
            Some("kind") => kind_raw = field.text().await.map_err(bad)?,
            Some("file") => {
                let name = field.file_name().unwrap_or_default().to_string();
                let bytes = field.bytes().await.map_err(bad)?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    let kind = Kind::parse(&kind_raw);
    let mut p = page_of(&ctx, kind);
    let Some(kind) = kind else {
        p.general_error = tr.t("registry.import_bad_kind").into();
        return respond(StatusCode::UNPROCESSABLE_ENTITY, &p);
    };
    let Some((name, bytes)) = file.filter(|(n, b)| !(n.is_empty() && b.is_empty())) else {
        p.general_error = tr.t("registry.import_no_file").into();
        return respond(StatusCode::UNPROCESSABLE_ENTITY, &p);
    };
    p.file_name = name;
    let text = match unyo_exchange::decode_text(&bytes) {
        Ok(t) => t,
        Err(e) => {
            p.general_error = e.to_string();
            return respond(StatusCode::UNPROCESSABLE_ENTITY, &p);
        }
    };
    let actor = ctx.actor();
    let outcome = match kind {
        Kind::Terminals => match unyo_exchange::parse_terminals(&text) {
            Ok(rows) => state.store.import_terminals(&actor, &rows).await?,
            Err(e) => Err(e),
        },
        Kind::Sites => match unyo_exchange::parse_sites(&text) {
            Ok(rows) => state.store.import_sites(&actor, &rows).await?,
            Err(e) => Err(e),
        },
        Kind::Nodes => match unyo_exchange::parse_nodes(&text) {
            Ok(rows) => state.store.import_nodes(&actor, &rows).await?,
            Err(e) => Err(e),
        },
    };
    match outcome {
        Ok(summary) => {
            p.summary = Some(summary);
            p.page = p.page.with_flash(Some("imported"));
            respond(StatusCode::OK, &p)
        }
        Err(errors) => {
            p.errors = shown(&ctx, kind, errors);
            respond(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
    }
}
