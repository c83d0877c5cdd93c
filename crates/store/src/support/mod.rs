//! Support work (R2–R8, R18): contracts and their staff, support requests (支援要請) with their timeline,
//! work entries (作業記録), the workload views built from them, and consultations (協議記録).
//!
//! Rules that need stored facts run inside the write transaction that saves the record: the request
//! number of a fiscal year, the work-entry checks (contract term, terminals at the chosen site, no overlap
//! for the same worker, workers assigned to the contract) and the request's status transition. SQLite's
//! single `BEGIN IMMEDIATE` writer orders them; on PostgreSQL a transaction advisory lock (numbering, work
//! entries) or an optimistic `UPDATE … WHERE status = $old` (transitions) does, so two concurrent saves can
//! never both pass.
//!
//! Request targets: when a request names sites, every terminal it names must be at one of them (refused
//! otherwise); when it names terminals but no sites, the terminals' sites are added automatically.
//!
//! One module per aggregate: [`contracts`](self::contracts) (contracts and their staff),
//! [`requests`](self::requests) (support requests and their timeline), [`work`](self::work) (work
//! entries and the workload views) and [`consultations`](self::consultations) (協議記録). Their public items
//! are re-exported here, so `unyo_store::support::X` names each of them.

mod consultations;
mod contracts;
mod requests;
mod work;

pub use crate::numbering::STALE_MESSAGE;
pub use consultations::{Consultation, RequestLink};
pub use contracts::{Contract, StaffMember};
pub use requests::{
    RequestDetail, RequestEvent, RequestQuery, RequestRow, SiteRef, TerminalRef, request_number,
};
pub use work::{CalendarItem, MonthMinutes, WorkQuery, WorkRow};

use crate::kit::{date_text, given};
use chrono::NaiveDate;
use unyo_domain::support::parse_date;

/// Today's date in JST: the default filing day and the usual `today` for overdue flags.
pub fn jst_today() -> NaiveDate {
    unyo_domain::time::to_jst(chrono::Utc::now()).date()
}

/// A query's date (ISO or 和暦) in storage form; `None` when blank or not a date.
fn query_date(s: &Option<String>) -> Option<String> {
    given(s).as_deref().and_then(parse_date).map(date_text)
}
