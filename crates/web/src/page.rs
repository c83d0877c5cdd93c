//! What every page needs: who is logged in, their language, the CSRF token, the navigation, and
//! small helpers for dates and errors in templates.

use crate::AppState;
use crate::error::WebError;
use crate::i18n::Tr;
use crate::security::{ClientAddr, CurrentSession};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::Html;
use unyo_domain::{Action, FieldError, Role};
use unyo_store::Actor;
use unyo_store::sessions::Session;
use unyo_store::users::User;

/// The logged-in person on a page request. Extracting it requires a full session (password and, when
/// enrolled, the second factor); otherwise the request is sent to the login page.
pub struct Ctx {
    /// The account.
    pub user: User,
    /// The session (for the CSRF token).
    pub session: Session,
    /// The language.
    pub tr: Tr,
    /// Client address for the audit log.
    pub source: String,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let next = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let session = match parts.extensions.get::<CurrentSession>() {
            Some(CurrentSession(Some(s))) if !s.second_factor_pending => s.clone(),
            _ => return Err(WebError::LoginRequired { next }),
        };
        let tr = parts.extensions.get::<Tr>().copied().unwrap_or_default();
        let source = parts
            .extensions
            .get::<ClientAddr>()
            .map(|c| c.0.clone())
            .unwrap_or_default();
        Ok(Ctx {
            user: session.user.clone(),
            session,
            tr,
            source,
        })
    }
}

impl Ctx {
    /// The actor for store calls.
    pub fn actor(&self) -> Actor {
        self.user.actor(&self.source)
    }

    /// Refuses unless the role allows `action`.
    pub fn require(&self, action: Action) -> Result<(), WebError> {
        if self.user.role().allows(action) {
            Ok(())
        } else {
            Err(WebError::Forbidden)
        }
    }

    /// Whether the role allows `action` (to show or hide what it would do).
    pub fn can(&self, action: Action) -> bool {
        self.user.role().allows(action)
    }

    /// The common page data.
    pub fn page(&self, title: impl Into<String>, nav: &'static str) -> PageMeta {
        let role = self.user.role();
        PageMeta {
            tr: self.tr,
            title: title.into(),
            nav,
            csrf: self.session.csrf_token.clone(),
            user: Some(UserView {
                username: self.user.username.clone(),
                display_name: self.user.display_name.clone(),
                role_label: self.tr.pick(role.label_ja(), role.label_en()).to_string(),
            }),
            can_edit: role.allows(Action::EditRegistry),
            can_import: role.allows(Action::ImportRegistry),
            can_audit: role.allows(Action::ViewAudit),
            can_users: role.allows(Action::ManageUsers),
            flash: None,
        }
    }
}

/// Who may see a menu entry.
#[derive(Debug, Clone, Copy)]
enum Need {
    Any,
    Import,
    Audit,
    Users,
}

/// A page of the menu: its `nav` name, path, label key and who sees it.
type NavPage = (&'static str, &'static str, &'static str, Need);

/// The main menu's areas (label key) and their pages (`nav` name, path, label key, who sees it), grouped by
/// what people do rather than by table.
const NAV_AREAS: &[(&str, &[NavPage])] = &[
    ("nav.home", &[("home", "/", "nav.home", Need::Any)]),
    (
        "nav.g.work",
        &[
            ("requests", "/requests", "nav.requests", Need::Any),
            ("work", "/work", "nav.work", Need::Any),
            ("calendar", "/calendar", "nav.calendar", Need::Any),
            ("workload", "/workload", "nav.workload", Need::Any),
            (
                "consultations",
                "/consultations",
                "nav.consultations",
                Need::Any,
            ),
        ],
    ),
    (
        "nav.g.incidents",
        &[
            ("incidents", "/incidents", "nav.incidents", Need::Any),
            (
                "known_errors",
                "/known-errors",
                "nav.known_errors",
                Need::Any,
            ),
        ],
    ),
    (
        "nav.g.terminals",
        &[
            ("inventory", "/inventory", "nav.inventory", Need::Any),
            ("campaigns", "/campaigns", "nav.campaigns", Need::Any),
            ("compliance", "/compliance", "nav.compliance", Need::Any),
            ("vulns", "/vulnerabilities", "nav.vulns", Need::Any),
        ],
    ),
    (
        "nav.g.connectivity",
        &[(
            "connectivity",
            "/connectivity",
            "nav.connectivity",
            Need::Any,
        )],
    ),
    (
        "nav.g.documents",
        &[("records", "/records", "nav.records", Need::Any)],
    ),
    (
        "nav.g.registers",
        &[
            ("sites", "/sites", "nav.sites", Need::Any),
            ("terminals", "/terminals", "nav.terminals", Need::Any),
            ("nodes", "/nodes", "nav.nodes", Need::Any),
            ("network", "/network", "nav.network", Need::Any),
            ("import", "/import", "nav.import", Need::Import),
            ("contracts", "/contracts", "nav.contracts", Need::Any),
            ("erasures", "/erasures", "nav.erasures", Need::Any),
        ],
    ),
    (
        "nav.g.admin",
        &[
            ("audit", "/audit", "nav.audit", Need::Audit),
            ("users", "/users", "nav.users", Need::Users),
        ],
    ),
];

/// A page of the main menu.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
    pub current: bool,
}

/// An area of the main menu.
#[derive(Debug, Clone)]
pub struct NavGroup {
    pub label: &'static str,
    /// Its first page (where the area's entry leads).
    pub href: &'static str,
    /// The page shown is in this area.
    pub current: bool,
    pub items: Vec<NavItem>,
}

/// The person shown in the header.
#[derive(Debug, Clone)]
pub struct UserView {
    pub username: String,
    pub display_name: String,
    pub role_label: String,
}

/// Data every page template uses (through `base.html`).
#[derive(Debug, Clone)]
pub struct PageMeta {
    pub tr: Tr,
    pub title: String,
    /// Which navigation entry is current (`aria-current`).
    pub nav: &'static str,
    pub csrf: String,
    pub user: Option<UserView>,
    pub can_edit: bool,
    pub can_import: bool,
    pub can_audit: bool,
    pub can_users: bool,
    /// A one-line confirmation ("保存しました。") after a redirect.
    pub flash: Option<&'static str>,
}

impl PageMeta {
    /// A page for someone not logged in (login, second factor).
    pub fn public(tr: Tr, title: impl Into<String>, csrf: String) -> PageMeta {
        PageMeta {
            tr,
            title: title.into(),
            nav: "",
            csrf,
            user: None,
            can_edit: false,
            can_import: false,
            can_audit: false,
            can_users: false,
            flash: None,
        }
    }

    /// Sets the flash message from an `ok=` query key.
    pub fn with_flash(mut self, ok: Option<&str>) -> PageMeta {
        self.flash = match ok {
            Some("saved") => Some(self.tr.t("common.saved")),
            Some("retired") => Some(self.tr.t("common.retired_done")),
            Some("imported") => Some(self.tr.t("import.done")),
            _ => None,
        };
        self
    }

    /// `aria-current="page"` for the current navigation entry.
    pub fn current(&self, nav: &str) -> &'static str {
        if self.nav == nav { "page" } else { "false" }
    }

    /// The main menu: areas by what people do there, each with its pages, filtered by the role; the area
    /// and page shown are marked current.
    pub fn nav_groups(&self) -> Vec<NavGroup> {
        let allowed = |need: Need| match need {
            Need::Any => true,
            Need::Import => self.can_import,
            Need::Audit => self.can_audit,
            Need::Users => self.can_users,
        };
        NAV_AREAS
            .iter()
            .filter_map(|(label, pages)| {
                let items: Vec<NavItem> = pages
                    .iter()
                    .filter(|(_, _, _, need)| allowed(*need))
                    .map(|(nav, href, key, _)| NavItem {
                        label: self.tr.t(key),
                        href,
                        current: self.nav == *nav,
                    })
                    .collect();
                let first = items.first()?.href;
                Some(NavGroup {
                    label: self.tr.t(label),
                    href: first,
                    current: items.iter().any(|i| i.current),
                    items,
                })
            })
            .collect()
    }

    /// A stored UTC instant shown in JST in the page's style (和暦 in Japanese).
    pub fn datetime(&self, stored: &str) -> String {
        show_datetime(self.tr, stored)
    }

    /// An optional stored instant.
    pub fn datetime_opt(&self, stored: &Option<String>) -> String {
        stored
            .as_deref()
            .map(|s| self.datetime(s))
            .unwrap_or_default()
    }
}

/// A stored UTC instant in JST: 和暦 for Japanese ("令和8年5月1日 09:05"), ISO-like for English.
pub fn show_datetime(tr: Tr, stored: &str) -> String {
    match unyo_domain::time::from_storage(stored) {
        Some(at) => {
            let local = unyo_domain::time::to_jst(at);
            if tr.is_ja() {
                unyo_domain::wareki::format_datetime_long(local)
            } else {
                local.format("%Y-%m-%d %H:%M").to_string()
            }
        }
        None => stored.to_string(),
    }
}

/// An instant given in Unix seconds, to the second, in JST: 和暦 for Japanese ("令和8年5月1日 09:05:07"),
/// ISO-like for English; `-` when there is none (a check not yet run).
pub fn show_timestamp(tr: Tr, ts: Option<i64>) -> String {
    match ts.and_then(|t| chrono::DateTime::from_timestamp(t, 0)) {
        Some(at) => {
            let local = unyo_domain::time::to_jst(at);
            if tr.is_ja() {
                unyo_domain::wareki::format_datetime_seconds(local)
            } else {
                local.format("%Y-%m-%d %H:%M:%S").to_string()
            }
        }
        None => "-".into(),
    }
}

/// Field errors of a form, looked up by field in templates.
#[derive(Debug, Clone, Default)]
pub struct FormErrors(pub Vec<FieldError>);

impl FormErrors {
    /// The message for `field`, empty when none.
    pub fn get(&self, field: &str) -> String {
        self.0
            .iter()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Whether `field` has an error.
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }

    /// Whether there is any error.
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }
}

/// An entry of the error summary at the top of a form.
#[derive(Debug, Clone)]
pub struct ErrorItem {
    /// `#field` when the error belongs to a control on the page, else empty.
    pub href: String,
    pub message: String,
}

/// The summary of field errors at the top of a form whose controls have ids of their own; `anchors` maps a
/// field name to the id of its control (a field without one is listed without a link). Pages whose control
/// ids are the field names with a prefix use [`LinkedErrors`] instead; both give the same [`ErrorItem`]s.
pub fn error_summary(errors: &[FieldError], anchors: &[(&str, &str)]) -> Vec<ErrorItem> {
    errors
        .iter()
        .map(|e| ErrorItem {
            href: anchors
                .iter()
                .find(|(f, _)| *f == e.field)
                .map(|(_, id)| format!("#{id}"))
                .unwrap_or_default(),
            message: e.message.clone(),
        })
        .collect()
}

/// The errors of a form: the summary at the top (each linked to its control when the page has it), and
/// the messages by field for the controls.
#[derive(Debug, Clone, Default)]
pub struct LinkedErrors {
    pub items: Vec<ErrorItem>,
    fields: FormErrors,
}

impl LinkedErrors {
    /// Errors of a form whose controls are `known`, their ids starting with `prefix` (others are listed
    /// without a link).
    pub fn new(errors: Vec<FieldError>, known: &[&str], prefix: &str) -> LinkedErrors {
        let items = errors
            .iter()
            .map(|e| ErrorItem {
                href: if known.contains(&e.field.as_str()) {
                    format!("#{prefix}{}", e.field)
                } else {
                    String::new()
                },
                message: e.message.clone(),
            })
            .collect();
        LinkedErrors {
            items,
            fields: FormErrors(errors),
        }
    }

    /// The message(s) for `field`, empty when none.
    pub fn get(&self, field: &str) -> String {
        self.fields.get(field)
    }

    /// Whether `field` has an error.
    pub fn has(&self, field: &str) -> bool {
        self.fields.has(field)
    }

    /// Whether there is any error.
    pub fn any(&self) -> bool {
        !self.items.is_empty()
    }

    /// `aria-describedby` for a control: its hint (when it has one) and its error.
    pub fn described(&self, field: &str, hint: bool) -> String {
        let mut ids = Vec::new();
        if hint {
            ids.push(format!("hint-{field}"));
        }
        if self.has(field) {
            ids.push(format!("err-{field}"));
        }
        ids.join(" ")
    }
}

/// Renders a template into an HTML response.
pub fn render<T: askama::Template>(t: &T) -> Result<Html<String>, WebError> {
    Ok(Html(t.render()?))
}

/// Role labels for selects.
pub fn role_options(tr: Tr) -> Vec<(&'static str, &'static str)> {
    Role::ALL
        .iter()
        .map(|r| (r.as_str(), tr.pick(r.label_ja(), r.label_en())))
        .collect()
}
