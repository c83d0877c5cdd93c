//! The month calendar (予定・実績): accepted requests on their planned date (予定) and work entries (実績),
//! per day, filterable by worker and site.

use super::entries::time_range;
use super::{Opt, date_with_weekday, opt_id, respond, with_query};
use crate::i18n::Tr;
use crate::page::{Ctx, PageMeta};
use crate::{AppState, WebError};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Datelike, Days, Months, NaiveDate};
use serde::Deserialize;
use unyo_domain::Action;
use unyo_store::support::{CalendarItem, jst_today};

/// The query string.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct CalendarParams {
    /// `YYYY-MM`.
    pub month: String,
    pub worker_id: String,
    pub site_id: String,
}

/// One entry in a day.
pub(super) struct Item {
    pub href: String,
    /// 予定 / 実績.
    pub kind: String,
    pub class: &'static str,
    pub time: String,
    pub who_where: String,
    pub title: String,
}

/// One day of the grid (or a blank outside the month).
pub(super) struct Day {
    pub in_month: bool,
    pub day: u32,
    pub iso: String,
    pub label: String,
    pub today: bool,
    pub items: Vec<Item>,
}

#[derive(askama::Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    page: PageMeta,
    caption: String,
    month: String,
    weekdays: Vec<&'static str>,
    weeks: Vec<Vec<Day>>,
    prev_href: String,
    next_href: String,
    this_href: String,
    workers: Vec<Opt>,
    sites: Vec<Opt>,
    planned: usize,
    done: usize,
}

/// The first day of the month named by `YYYY-MM`, or of this month.
fn month_start(raw: &str, today: NaiveDate) -> NaiveDate {
    NaiveDate::parse_from_str(&format!("{}-01", raw.trim()), "%Y-%m-%d")
        .ok()
        .unwrap_or_else(|| today.with_day(1).unwrap_or(today))
}

/// The month's days as weeks of seven, Sunday first, padded with blanks.
fn grid(first: NaiveDate) -> Vec<Vec<NaiveDate>> {
    let start = first - Days::new(u64::from(first.weekday().num_days_from_sunday()));
    let next = first + Months::new(1);
    let mut weeks = Vec::new();
    let mut d = start;
    while d < next {
        let week: Vec<NaiveDate> = (0..7).map(|i| d + Days::new(i)).collect();
        d = d + Days::new(7);
        weeks.push(week);
    }
    weeks
}

/// The caption: 令和8年5月 / May 2026.
fn caption(tr: Tr, first: NaiveDate) -> String {
    if tr.is_ja() {
        unyo_domain::wareki::format_year_month(first.year(), first.month())
    } else {
        first.format("%B %Y").to_string()
    }
}

fn item_view(tr: Tr, i: &CalendarItem) -> Item {
    let planned = i.kind == "planned";
    let href = if i.link_kind == "request" {
        format!("/requests/{}", i.link_id)
    } else {
        format!("/work/{}", i.link_id)
    };
    let time = match (&i.start_time, &i.end_time) {
        (Some(s), Some(e)) => time_range(s, e),
        _ => String::new(),
    };
    let who_where = [i.worker.as_str(), i.site.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("・");
    Item {
        href,
        kind: tr
            .t(if planned {
                "calendar.planned"
            } else {
                "calendar.done"
            })
            .to_string(),
        class: if planned {
            "badge badge-warn"
        } else {
            "badge badge-active"
        },
        time,
        who_where,
        title: headline(&i.title, 30),
    }
}

/// At most `max` characters of `s`.
fn headline(s: &str, max: usize) -> String {
    if s.chars().count() > max {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    } else {
        s.to_string()
    }
}

/// Whether `list` (names joined with 、) names `name`.
fn names(list: &str, name: &str) -> bool {
    list.split('、').any(|n| n.trim() == name)
}

/// `GET /calendar?month=2026-05&worker_id=&site_id=`.
pub(super) async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<CalendarParams>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewWork)?;
    let tr = ctx.tr;
    let today = jst_today();
    let first = month_start(&p.month, today);
    let last = first + Months::new(1) - Days::new(1);
    let users = state.store.users().await?;
    let sites = state.store.all_sites().await?;
    let worker = opt_id(&p.worker_id).and_then(|id| users.iter().find(|u| u.id == id));
    let site = opt_id(&p.site_id).and_then(|id| sites.iter().find(|s| s.id == id));
    let items: Vec<CalendarItem> = state
        .store
        .work_calendar(first, last)
        .await?
        .into_iter()
        .filter(|i| worker.is_none_or(|u| names(&i.worker, &u.display_name)))
        .filter(|i| site.is_none_or(|s| names(&i.site, &s.name)))
        .collect();
    let planned = items.iter().filter(|i| i.kind == "planned").count();
    let done = items.len() - planned;
    let weeks = grid(first)
        .into_iter()
        .map(|week| {
            week.into_iter()
                .map(|d| {
                    let iso = d.format("%Y-%m-%d").to_string();
                    let in_month = d.month() == first.month();
                    Day {
                        in_month,
                        day: d.day(),
                        label: date_with_weekday(tr, &iso),
                        today: d == today,
                        items: if in_month {
                            items
                                .iter()
                                .filter(|i| i.date == iso)
                                .map(|i| item_view(tr, i))
                                .collect()
                        } else {
                            Vec::new()
                        },
                        iso,
                    }
                })
                .collect()
        })
        .collect();
    let month_of = |d: NaiveDate| d.format("%Y-%m").to_string();
    let link = |d: NaiveDate| {
        with_query(
            "/calendar",
            &[
                ("month", &month_of(d)),
                ("worker_id", p.worker_id.trim()),
                ("site_id", p.site_id.trim()),
            ],
        )
    };
    let weekdays = if tr.is_ja() {
        vec!["日", "月", "火", "水", "木", "金", "土"]
    } else {
        vec!["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    };
    let view = CalendarPage {
        page: ctx.page(tr.t("calendar.title"), "calendar"),
        caption: caption(tr, first),
        month: month_of(first),
        weekdays,
        weeks,
        prev_href: link(first - Months::new(1)),
        next_href: link(first + Months::new(1)),
        this_href: link(today),
        workers: users
            .iter()
            .filter(|u| u.role != "auditor")
            .map(|u| {
                Opt::new(
                    u.id.to_string(),
                    &u.display_name,
                    worker.is_some_and(|w| w.id == u.id),
                )
            })
            .collect(),
        sites: sites
            .iter()
            .map(|s| {
                Opt::new(
                    s.id.to_string(),
                    &s.name,
                    site.is_some_and(|x| x.id == s.id),
                )
            })
            .collect(),
        planned,
        done,
    };
    respond(StatusCode::OK, &view)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn months_are_sunday_first_weeks() {
        // May 2026 starts on a Friday and has 31 days: 6 rows.
        let g = grid(d("2026-05-01"));
        assert_eq!(g.len(), 6);
        assert_eq!(g[0][0], d("2026-04-26"));
        assert_eq!(g[0][5], d("2026-05-01"));
        assert_eq!(g[5][0], d("2026-05-31"));
        // February 2026 starts on a Sunday: exactly 4 rows.
        assert_eq!(grid(d("2026-02-01")).len(), 4);
    }

    #[test]
    fn month_parameter_and_caption() {
        let today = d("2026-11-27");
        assert_eq!(month_start("2026-05", today), d("2026-05-01"));
        assert_eq!(month_start("junk", today), d("2026-11-01"));
        let ja = Tr {
            lang: crate::i18n::Lang::Ja,
        };
        assert_eq!(caption(ja, d("2026-05-01")), "令和8年5月");
        assert!(names("保守 技郎、運用 花子", "運用 花子"));
        assert!(!names("保守 技郎", "保守"));
    }
}
