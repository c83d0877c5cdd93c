//! Extractors whose refusals are API errors (JSON, Japanese, per field) instead of axum's plain text.

use super::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri, header};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use unyo_domain::FieldError;
use unyo_domain::registry::{NodeInput, SiteInput, TerminalInput};
use unyo_domain::support::{
    ConsultationInput, ContractInput, RequestInput, TransitionInput, WorkInput,
};

/// A JSON request body the API accepts.
///
/// The type's fields are learnt from its serialised [`Default`], so every field can be checked on its own
/// and reported by name. Keys in [`ApiInput::READ_ONLY`] (fields of the record as the API returns it) are
/// ignored, so a client may send back what it read; any other unknown key is refused, so that a typo is
/// not silently dropped.
pub trait ApiInput: DeserializeOwned + Serialize + Default {
    /// Keys of the returned record that are not part of the input.
    const READ_ONLY: &'static [&'static str] = &[];

    /// The refusal of a value of the wrong shape for `key`, for a field that is neither text, a flag nor
    /// an id (an object such as a time rule): what the field is and how to write it, in Japanese.
    fn shape_error(_key: &str) -> Option<String> {
        None
    }
}

impl ApiInput for SiteInput {
    const READ_ONLY: &'static [&'static str] = &[
        "id",
        "created_at",
        "updated_at",
        "retired_at",
        "uplink_node_name",
        "terminal_count",
    ];
}

impl ApiInput for TerminalInput {
    const READ_ONLY: &'static [&'static str] = &[
        "id",
        "created_at",
        "updated_at",
        "retired_at",
        "site_code",
        "site_name",
    ];
}

impl ApiInput for NodeInput {
    const READ_ONLY: &'static [&'static str] = &[
        "id",
        "created_at",
        "updated_at",
        "retired_at",
        "site_name",
        "upstream_name",
    ];
}

impl ApiInput for RequestInput {
    const READ_ONLY: &'static [&'static str] = &[
        "id",
        "number",
        "fiscal_year",
        "status",
        "filed_on",
        "requester_id",
        "requester",
        "requester_name",
        "assignee_id",
        "assignee_name",
        "planned_date",
        "result",
        "created_at",
        "updated_at",
        "accepted_at",
        "started_at",
        "completed_at",
        "confirmed_at",
        "closed_at",
        "sites",
        "overdue",
    ];
}

impl ApiInput for TransitionInput {}

impl ApiInput for WorkInput {
    const READ_ONLY: &'static [&'static str] = &[
        "id",
        "contract_number",
        "minutes",
        "site_name",
        // The API leaves the clause to the suggestion (a record read and sent back would otherwise turn
        // a suggested clause into a set one); the SE sets it on the form.
        "clause",
        "clause_set",
        "request_number",
        "created_by",
        "created_at",
        "updated_at",
        "workers",
        "terminals",
        "hours",
    ];
}

impl ApiInput for ContractInput {
    const READ_ONLY: &'static [&'static str] = &["id", "created_at", "updated_at", "staff"];
}

impl ApiInput for ConsultationInput {
    const READ_ONLY: &'static [&'static str] = &[
        "id",
        "contract_number",
        "recorded_by",
        "created_at",
        "requests",
    ];
}

/// The body of `POST …/{id}/retire`.
#[derive(Debug, Clone, Default, serde::Deserialize, Serialize)]
#[serde(default)]
pub struct RetireInput {
    /// Why the record is retired (required, free text, checked for personal identifiers by the store).
    pub reason: String,
}

impl ApiInput for RetireInput {}

/// A JSON body of type `T`; refusals: 415 (not JSON), 413 (too large), 400 (not a JSON object),
/// 422 (a field of the wrong type or an unknown field, with the field named).
pub struct ApiJson<T>(pub T);

impl<T: ApiInput, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers().get(header::CONTENT_TYPE)) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest("リクエスト本文を読み取れませんでした。".into(), Vec::new())
            }
        })?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|_| {
            ApiError::BadRequest(
                "リクエスト本文が正しいJSONではありません。".into(),
                Vec::new(),
            )
        })?;
        let Value::Object(body) = value else {
            return Err(ApiError::BadRequest(
                "リクエスト本文はJSONオブジェクト（{ … }）で送信してください。".into(),
                Vec::new(),
            ));
        };
        parse_object::<T>(body).map(ApiJson)
    }
}

/// Whether a `Content-Type` names JSON (`application/json` or `application/…+json`).
fn is_json(value: Option<&header::HeaderValue>) -> bool {
    let Some(mime) = value
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
    else {
        return false;
    };
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// Deserialises an object into `T`, reporting every unknown or mistyped field. `null` means "not given".
fn parse_object<T: ApiInput>(mut body: Map<String, Value>) -> Result<T, ApiError> {
    let Ok(Value::Object(known)) = serde_json::to_value(T::default()) else {
        return Err(ApiError::Internal("API input is not a JSON object".into()));
    };
    body.retain(|k, v| !v.is_null() && !T::READ_ONLY.contains(&k.as_str()));
    let mut fields = Vec::new();
    for (key, value) in &body {
        let Some(default) = known.get(key) else {
            fields.push(FieldError::new(
                key.chars().take(64).collect::<String>(),
                format!(
                    "「{}」という項目はありません。",
                    key.chars().take(64).collect::<String>()
                ),
            ));
            continue;
        };
        let mut one = Map::new();
        one.insert(key.clone(), value.clone());
        if serde_json::from_value::<T>(Value::Object(one)).is_err() {
            let message = T::shape_error(key).unwrap_or_else(|| {
                let expected = match default {
                    Value::String(_) => "文字列",
                    Value::Bool(_) => "真偽値（true/false）",
                    Value::Array(_) => "数値（ID）の配列",
                    Value::Null if !key.ends_with("_id") => {
                        return format!("「{key}」の値の形式が正しくありません。");
                    }
                    // `Option<i64>` ids serialise as null by default.
                    _ => "数値（ID）",
                };
                format!("「{key}」は{expected}で指定してください。")
            });
            fields.push(FieldError::new(key.clone(), message));
        }
    }
    if !fields.is_empty() {
        return Err(ApiError::Validation(fields));
    }
    serde_json::from_value(Value::Object(body))
        .map_err(|e| ApiError::Internal(format!("API input after field checks: {e}")))
}

/// The largest `page` a list accepts (a larger one would only be empty, and its offset could overflow).
pub const MAX_PAGE: i64 = 100_000;
/// The largest `per_page` of a list (the audit log allows [`MAX_AUDIT_PER_PAGE`]).
pub const MAX_PER_PAGE: i64 = 500;
/// The largest `per_page` of `GET /audit`.
pub const MAX_AUDIT_PER_PAGE: i64 = 1000;
/// The largest `limit` of the lists that take one (events, notification attempts).
pub const MAX_LIMIT: i64 = 10_000;

/// The bounds of the paging parameters of a request to `path`: `(name, minimum, maximum)`. The OpenAPI
/// document states the same bounds.
pub fn paging_bounds(path: &str) -> [(&'static str, i64, i64); 3] {
    let per_page = if path.ends_with("/audit") {
        MAX_AUDIT_PER_PAGE
    } else {
        MAX_PER_PAGE
    };
    [
        ("page", 1, MAX_PAGE),
        ("per_page", 1, per_page),
        ("limit", 1, MAX_LIMIT),
    ]
}

/// Query parameters of type `T`. A parameter that does not parse is refused with 400 and named, and so
/// are the ones the OpenAPI document forbids: an empty value (omit the parameter instead) and a `page`,
/// `per_page` or `limit` outside [`paging_bounds`] (refused rather than silently clamped).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        // The name is echoed (shortened), the value never: it may be anything the client typed.
        let short = |k: &str| -> String { k.chars().take(64).collect() };
        let mut fields = Vec::new();
        for (k, v) in &pairs {
            if v.trim().is_empty() {
                let k = short(k);
                fields.push(FieldError::new(
                    k.clone(),
                    format!("「{k}」が空です。指定しない場合はパラメータごと省略してください。"),
                ));
            }
        }
        for (name, min, max) in paging_bounds(parts.uri.path()) {
            for (_, v) in pairs
                .iter()
                .filter(|(k, v)| k == name && !v.trim().is_empty())
            {
                if !v
                    .trim()
                    .parse::<i64>()
                    .is_ok_and(|n| (min..=max).contains(&n))
                {
                    fields.push(FieldError::new(
                        name,
                        format!("「{name}」は{min}〜{max}の整数で指定してください。"),
                    ));
                }
            }
        }
        let parse = |pairs: &[(String, String)]| -> Option<T> {
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            ser.extend_pairs(pairs);
            let uri: Uri = format!("/?{}", ser.finish()).parse().ok()?;
            Query::<T>::try_from_uri(&uri).ok().map(|q| q.0)
        };
        if fields.is_empty()
            && let Some(q) = parse(&pairs)
        {
            return Ok(ApiQuery(q));
        }
        // Name every refused parameter, each once.
        for pair in &pairs {
            let k = short(&pair.0);
            if !fields.iter().any(|f| f.field == k) && parse(std::slice::from_ref(pair)).is_none() {
                fields.push(FieldError::new(
                    k.clone(),
                    format!("「{k}」の値が正しくありません。"),
                ));
            }
        }
        Err(ApiError::BadRequest(
            "検索条件（クエリパラメータ）に誤りがあります。".into(),
            fields,
        ))
    }
}

/// The numeric `{id}` of a path; anything else names no record (404).
pub struct ApiId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for ApiId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<i64>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(ApiId(id)),
            Err(_) => Err(ApiError::NotFound(
                "見つかりません: IDは数値で指定してください。".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        let h = |s: &'static str| Some(header::HeaderValue::from_static(s));
        assert!(is_json(h("application/json").as_ref()));
        assert!(is_json(h("Application/JSON; charset=utf-8").as_ref()));
        assert!(is_json(h("application/merge-patch+json").as_ref()));
        assert!(!is_json(h("text/plain").as_ref()));
        assert!(!is_json(h("application/x-www-form-urlencoded").as_ref()));
        assert!(!is_json(None));
    }

    #[test]
    fn fields_are_checked_one_by_one() {
        let body = serde_json::json!({
            "site_id": "three", "hostname": 5, "hostnme": "x", "id": 9, "note": null,
        });
        let Value::Object(body) = body else {
            unreachable!()
        };
        let Err(ApiError::Validation(fields)) = parse_object::<TerminalInput>(body) else {
            panic!("must fail");
        };
        let mut names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
        names.sort();
        assert_eq!(names, ["hostname", "hostnme", "site_id"]);
    }

    #[test]
    fn read_only_and_null_fields_are_ignored() {
        let body = serde_json::json!({
            "site_id": 3, "hostname": "pc-1", "id": 9, "site_name": "県庁", "note": null,
        });
        let Value::Object(body) = body else {
            unreachable!()
        };
        let Ok(t) = parse_object::<TerminalInput>(body) else {
            panic!("must parse");
        };
        assert_eq!(t.site_id, Some(3));
        assert_eq!(t.note, "");
    }
}
