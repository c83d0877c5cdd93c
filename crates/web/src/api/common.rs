//! Pieces the support-work and incident handlers share: the `201 Created` reply, the checks of a list's
//! query parameters (codes and dates, refused with `400` and one error per field), a page with counts per
//! status, and the `fiscal_year` parameter.

use super::error::{ApiError, ApiResult};
use super::handlers::{PREFIX, PageOut};
use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;
use unyo_domain::FieldError;
use unyo_domain::support::parse_date;
use unyo_domain::wareki::{FiscalYear, WarekiError};
use unyo_store::Page;

/// The message of a `400` for query parameters.
const BAD_QUERY_MESSAGE: &str = "検索条件（クエリパラメータ）に誤りがあります。";

/// `201 Created` with the record and the `Location` of `{PREFIX}/{path}/{id}`.
pub(super) fn created<T: Serialize>(path: &str, id: i64, row: T) -> Response {
    (
        StatusCode::CREATED,
        [(header::LOCATION, format!("{PREFIX}/{path}/{id}"))],
        Json(row),
    )
        .into_response()
}

/// The checks of a list's query parameters: every refused parameter is collected, then [`QueryCheck::done`]
/// answers `400` naming them all.
#[derive(Debug, Default)]
pub(super) struct QueryCheck {
    errors: Vec<FieldError>,
}

impl QueryCheck {
    /// A parameter naming a code (a Japanese label is accepted as well): refused when it names no known
    /// code, instead of silently matching nothing. Returns the code the store filters by.
    pub(super) fn code<C>(
        &mut self,
        field: &str,
        value: &Option<String>,
        parse: impl Fn(&str) -> Option<C>,
        code: impl Fn(C) -> &'static str,
    ) -> Option<String> {
        if value
            .as_deref()
            .map(str::trim)
            .is_some_and(|v| !v.is_empty() && parse(v).is_none())
        {
            self.errors.push(FieldError::new(
                field,
                format!("「{field}」の値が正しくありません。"),
            ));
        }
        value
            .as_deref()
            .and_then(parse)
            .map(|c| code(c).to_string())
    }

    /// A date parameter (ISO or 和暦); a value that is not a date is refused.
    pub(super) fn date(&mut self, field: &str, value: &Option<String>) -> Option<NaiveDate> {
        let v = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
        let d = parse_date(v);
        if d.is_none() {
            // The parser's reason when the date does not exist (2026-02-30, 13月, a day outside its era).
            let message = match unyo_domain::wareki::parse_wareki(v) {
                Err(
                    e @ (WarekiError::NonexistentDate(_)
                    | WarekiError::NonexistentGregorianDate { .. }
                    | WarekiError::OutsideEra(_)
                    | WarekiError::MonthOutOfRange(_)),
                ) => format!("「{field}」: {e}"),
                _ => format!(
                    "「{field}」は日付（例: 2026-05-12 または 令和8年5月12日）で指定してください。"
                ),
            };
            self.errors.push(FieldError::new(field, message));
        }
        d
    }

    /// `400` naming every refused parameter, if any.
    pub(super) fn done(self) -> ApiResult<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::BadRequest(BAD_QUERY_MESSAGE.into(), self.errors))
        }
    }
}

/// A page of a list plus the number of records per status (stage) code.
#[derive(Debug, Serialize)]
pub(super) struct CountedList<T> {
    #[serde(flatten)]
    page: PageOut<T>,
    /// Records per status code for the same filter without its status and `open_only` parts.
    counts: BTreeMap<String, i64>,
}

impl<T> CountedList<T> {
    pub(super) fn new(page: Page<T>, counts: Vec<(String, i64)>) -> Self {
        CountedList {
            page: page.into(),
            counts: counts.into_iter().collect(),
        }
    }
}

/// The `fiscal_year` parameter by its starting calendar year (2026 = 令和8年度); default: the one containing
/// `today`. A year outside 1989–9998 is refused with `400`.
pub(super) fn fiscal_year_param(value: Option<i32>, today: NaiveDate) -> ApiResult<FiscalYear> {
    match value {
        None => Ok(FiscalYear::containing(today)),
        Some(y) if (1989..=9998).contains(&y) => Ok(FiscalYear(y)),
        Some(_) => Err(ApiError::BadRequest(
            BAD_QUERY_MESSAGE.into(),
            vec![FieldError::new(
                "fiscal_year",
                "「fiscal_year」は年度の開始年（例: 2026）で指定してください。",
            )],
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unyo_domain::support::RequestStatus;

    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn codes_and_labels_become_codes_and_unknown_ones_are_refused() {
        let mut check = QueryCheck::default();
        let status =
            |c: &mut QueryCheck, v| c.code("status", &v, RequestStatus::parse, RequestStatus::code);
        assert_eq!(status(&mut check, some("accepted")), some("accepted"));
        assert_eq!(status(&mut check, None), None);
        assert_eq!(status(&mut check, some("  ")), None);
        assert!(check.errors.is_empty());
        assert_eq!(status(&mut check, some("nonsense")), None);
        assert_eq!(
            check.date("from", &some("令和8年5月12日")),
            NaiveDate::from_ymd_opt(2026, 5, 12)
        );
        assert_eq!(check.date("to", &some("5月")), None);
        assert_eq!(check.date("to", &None), None);
        let Err(ApiError::BadRequest(message, fields)) = check.done() else {
            panic!("must be refused");
        };
        assert_eq!(message, BAD_QUERY_MESSAGE);
        let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["status", "to"]);
        assert!(QueryCheck::default().done().is_ok());
    }

    /// Finding 12 of issue 13: a date parameter that does not exist says why.
    #[test]
    fn a_date_that_does_not_exist_says_why() {
        let mut check = QueryCheck::default();
        assert_eq!(check.date("from", &some("2026-02-30")), None);
        assert_eq!(check.date("to", &some("平成31年5月1日")), None);
        assert_eq!(check.date("to", &some("あした")), None);
        let messages: Vec<&str> = check.errors.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(messages[0], "「from」: 2026年2月30日は存在しない日付です。");
        assert!(messages[1].starts_with("「to」: 平成31年5月1日は存在しない日付です（平成は"));
        assert!(messages[2].contains("は日付（例: 2026-05-12"));
    }

    #[test]
    fn fiscal_years_default_to_today_and_are_bounded() {
        let today = NaiveDate::from_ymd_opt(2027, 3, 31).expect("date");
        assert_eq!(fiscal_year_param(None, today).ok(), Some(FiscalYear(2026)));
        assert_eq!(
            fiscal_year_param(Some(1989), today).ok(),
            Some(FiscalYear(1989))
        );
        assert!(matches!(
            fiscal_year_param(Some(1988), today),
            Err(ApiError::BadRequest(_, ref f)) if f[0].field == "fiscal_year"
        ));
    }
}
