//! The year's 業務実績簿 (issue 14): each past month's record submitted by the contractor and confirmed
//! along the prefecture's route 担当 → 係長 → 課長, each step on its own office day, so that the months
//! before last are 確認済, last month is on its way, and this month is a draft.
//!
//! Rendering a record is the documents crate's job, which depends on this crate's data for its tests;
//! so the story is told here and the rendering is handed in as a [`RecordDesk`] (the binary gives the
//! documents crate's submit and confirm).

use crate::calendar::{add_office_days, on_or_after};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use std::future::Future;
use unyo_domain::records::{Month, RouteStep};
use unyo_domain::wareki::FiscalYear;
use unyo_store::{Actor, Result, Store, StoreError};

/// Renders, submits and confirms monthly records, as the 業務実績簿 page does.
pub trait RecordDesk {
    /// Whether records are made at all ([`NoRecords`] says no).
    fn enabled(&self) -> bool {
        true
    }

    /// Submits `month`'s record of the contract as `actor` on `on` (the next version, frozen); returns
    /// the record's id.
    fn submit(
        &self,
        store: &Store,
        actor: &Actor,
        contract_id: i64,
        month: Month,
        on: NaiveDate,
    ) -> impl Future<Output = Result<i64>> + Send;

    /// Confirms the next step of the route of a submitted record as `actor` on `on`.
    fn confirm(
        &self,
        store: &Store,
        actor: &Actor,
        record_id: i64,
        on: NaiveDate,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// A desk that makes no records: for tests and tools that load the demo without the 業務実績簿 (the
/// route is still set).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRecords;

impl RecordDesk for NoRecords {
    fn enabled(&self) -> bool {
        false
    }

    async fn submit(&self, _: &Store, _: &Actor, _: i64, _: Month, _: NaiveDate) -> Result<i64> {
        Err(StoreError::Internal("NoRecords submits nothing".into()))
    }

    async fn confirm(&self, _: &Store, _: &Actor, _: i64, _: NaiveDate) -> Result<()> {
        Err(StoreError::Internal("NoRecords confirms nothing".into()))
    }
}

/// What [`crate::load_records`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordSummary {
    /// Months submitted.
    pub submitted: usize,
    /// Months confirmed at every step.
    pub confirmed: usize,
    /// Confirmations given (steps).
    pub steps: usize,
}

/// The route's columns and the demo account that holds each.
pub const ROUTE: [(&str, &str); 3] = [("担当", "staff"), ("係長", "chief"), ("課長", "admin")];

fn jst(day: NaiveDate, h: u32) -> DateTime<Utc> {
    let local = day.and_time(NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default());
    local
        .and_local_timezone(unyo_domain::time::jst())
        .single()
        .map_or_else(|| local.and_utc(), |at| at.with_timezone(&Utc))
}

/// Sets the contract's route and submits and confirms every month before `today`'s (see the module
/// documentation); a step happens only on a day before `today`.
pub(crate) async fn load(
    store: &Store,
    today: NaiveDate,
    contract_id: i64,
    desk: &impl RecordDesk,
) -> Result<RecordSummary> {
    let fy = FiscalYear::containing(today);
    let mut holders = Vec::new();
    for (label, username) in ROUTE {
        let user = store
            .user_by_name(username)
            .await?
            .ok_or_else(|| StoreError::Internal(format!("demo account {username} is missing")))?;
        holders.push((label, user));
    }
    let route: Vec<RouteStep> = holders
        .iter()
        .map(|(label, u)| RouteStep {
            label: (*label).to_string(),
            user_id: Some(u.id),
        })
        .collect();
    let admin = holders[2].1.actor("demo");
    let se = store
        .user_by_name("se")
        .await?
        .ok_or_else(|| StoreError::Internal("demo account se is missing".into()))?
        .actor("demo");
    store
        .as_of(jst(on_or_after(fy.start()), 9))
        .set_approval_route(&admin, contract_id, &route)
        .await?;
    let mut summary = RecordSummary::default();
    if !desk.enabled() {
        return Ok(summary);
    }
    let current = Month::new(
        chrono::Datelike::year(&today),
        chrono::Datelike::month(&today),
    )
    .ok_or_else(|| StoreError::Internal(format!("no month for {today}")))?;
    let mut month = Month::new(fy.0, 4).ok_or_else(|| StoreError::Internal("April".into()))?;
    while month < current {
        // Submitted on the third office day of the next month, each step confirmed a day later.
        let submitted_on = add_office_days(on_or_after(month.next().first_day()), 2);
        if submitted_on >= today {
            break;
        }
        let id = desk
            .submit(
                &store.as_of(jst(submitted_on, 16)),
                &se,
                contract_id,
                month,
                submitted_on,
            )
            .await?;
        summary.submitted += 1;
        let mut all = true;
        for (k, (_, user)) in holders.iter().enumerate() {
            let on = add_office_days(submitted_on, i32::try_from(k + 1).unwrap_or(i32::MAX));
            if on >= today {
                all = false;
                break;
            }
            desk.confirm(&store.as_of(jst(on, 11)), &user.actor("demo"), id, on)
                .await?;
            summary.steps += 1;
        }
        if all {
            summary.confirmed += 1;
        }
        month = month.next();
    }
    Ok(summary)
}
