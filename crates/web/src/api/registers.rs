//! A contract's registers through the API (R9, R10, R12): `/subcontracts` (再委託の承認), `/materials`
//! (提供資料, with copy requests, the prefecture's decisions, the return and its acknowledgement) and
//! `/staff` (従事者名簿). Lists are filtered by `contract_id` and paged; reads need
//! [`Action::ViewContractRegisters`]; reading one material's entry is audited by the store; writes go to
//! the store with the token owner's actor, which checks the permission and audits in the same transaction.

use super::auth::ApiUser;
use super::common::created;
use super::error::ApiResult;
use super::extract::{ApiId, ApiInput, ApiJson, ApiQuery};
use super::handlers::PageOut;
use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use unyo_domain::Action;
use unyo_domain::contract_registers::{
    Classification, CopyRequestInput, DecisionInput, Disposition, MaterialInput, MaterialKind,
    Medium, ReturnMaterialInput, StaffInput, SubcontractInput,
};
use unyo_domain::support::{Category, Clause};
use unyo_store::contract_registers::{Material, StaffEntry, Subcontract};

/// `?contract_id=N&page=P&per_page=N`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RegisterQuery {
    contract_id: Option<i64>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// A page of a whole list (the registers of a contract are short; they are read whole and cut here).
fn paged<T>(items: Vec<T>, q: &RegisterQuery) -> PageOut<T> {
    let per_page = q.per_page.unwrap_or(50).clamp(1, 500);
    let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
    let pages = ((total + per_page - 1) / per_page).max(1);
    let page = q.page.unwrap_or(1).clamp(1, pages);
    let skip = usize::try_from((page - 1) * per_page).unwrap_or(0);
    let take = usize::try_from(per_page).unwrap_or(50);
    PageOut {
        items: items.into_iter().skip(skip).take(take).collect(),
        total,
        page,
        per_page,
        pages,
    }
}

/// A new register entry: the contract it belongs to and the entry's fields.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct New<T: Default> {
    contract_id: i64,
    #[serde(flatten)]
    input: T,
}

impl<T: ApiInput> ApiInput for New<T> {
    // `contract_id` is an input here, so nothing of the record is ignored.
    const READ_ONLY: &'static [&'static str] = &[];
}

impl ApiInput for SubcontractInput {
    const READ_ONLY: &'static [&'static str] = &[
        "id",
        "contract_id",
        "created_at",
        "updated_at",
        "approval_attachment_id",
    ];
}

impl ApiInput for MaterialInput {
    const READ_ONLY: &'static [&'static str] = &[
        "id",
        "contract_id",
        "created_at",
        "updated_at",
        "disposition",
        "disposed_on",
        "disposal_method",
        "ack_on",
        "ack_by",
        "ack_note",
        "copies",
    ];
}

impl ApiInput for StaffInput {
    const READ_ONLY: &'static [&'static str] = &[
        "id",
        "contract_id",
        "created_at",
        "updated_at",
        "username",
        "subcontractor",
        "pledge_attachment_id",
        "access_ended_at",
    ];
}

impl ApiInput for CopyRequestInput {}
impl ApiInput for DecisionInput {}
impl ApiInput for ReturnMaterialInput {}

// ------------------------------------------------------------------------------------------------ subcontracts

/// `GET /subcontracts`.
pub(super) async fn list_subcontracts(
    user: ApiUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RegisterQuery>,
) -> ApiResult<Json<PageOut<Subcontract>>> {
    user.require(Action::ViewContractRegisters)?;
    Ok(Json(paged(
        state.store.subcontracts(q.contract_id).await?,
        &q,
    )))
}

/// `POST /subcontracts`.
pub(super) async fn create_subcontract(
    user: ApiUser,
    State(state): State<AppState>,
    ApiJson(new): ApiJson<New<SubcontractInput>>,
) -> ApiResult<Response> {
    let row = state
        .store
        .create_subcontract(&user.actor(), new.contract_id, &new.input)
        .await?;
    Ok(created("subcontracts", row.id, row))
}

/// `GET /subcontracts/{id}`.
pub(super) async fn show_subcontract(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
) -> ApiResult<Json<Subcontract>> {
    user.require(Action::ViewContractRegisters)?;
    Ok(Json(state.store.subcontract(id).await?))
}

/// `PUT /subcontracts/{id}`.
pub(super) async fn update_subcontract(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<SubcontractInput>,
) -> ApiResult<Json<Subcontract>> {
    Ok(Json(
        state
            .store
            .update_subcontract(&user.actor(), id, &input)
            .await?,
    ))
}

// ------------------------------------------------------------------------------------------------ materials

/// `GET /materials`.
pub(super) async fn list_materials(
    user: ApiUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RegisterQuery>,
) -> ApiResult<Json<PageOut<Material>>> {
    user.require(Action::ViewContractRegisters)?;
    Ok(Json(paged(state.store.materials(q.contract_id).await?, &q)))
}

/// `POST /materials`.
pub(super) async fn create_material(
    user: ApiUser,
    State(state): State<AppState>,
    ApiJson(new): ApiJson<New<MaterialInput>>,
) -> ApiResult<Response> {
    let row = state
        .store
        .create_material(&user.actor(), new.contract_id, &new.input)
        .await?;
    Ok(created("materials", row.id, row))
}

/// `GET /materials/{id}` (audited as `material.read`).
pub(super) async fn show_material(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
) -> ApiResult<Json<Material>> {
    Ok(Json(state.store.material(&user.actor(), id).await?))
}

/// `PUT /materials/{id}`.
pub(super) async fn update_material(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<MaterialInput>,
) -> ApiResult<Json<Material>> {
    Ok(Json(
        state
            .store
            .update_material(&user.actor(), id, &input)
            .await?,
    ))
}

/// `POST /materials/{id}/copies`: asks to copy.
pub(super) async fn request_copy(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<CopyRequestInput>,
) -> ApiResult<Json<Material>> {
    Ok(Json(
        state
            .store
            .request_material_copy(&user.actor(), id, &input)
            .await?,
    ))
}

/// `POST /material-copies/{id}/decision`: the prefecture permits or refuses.
pub(super) async fn decide_copy(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<DecisionInput>,
) -> ApiResult<Json<Material>> {
    Ok(Json(
        state
            .store
            .decide_material_copy(&user.actor(), id, &input)
            .await?,
    ))
}

/// `POST /materials/{id}/return`: returned or erased.
pub(super) async fn return_material(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<ReturnMaterialInput>,
) -> ApiResult<Json<Material>> {
    Ok(Json(
        state
            .store
            .return_material(&user.actor(), id, &input)
            .await?,
    ))
}

/// `POST /materials/{id}/acknowledgement`: the prefecture acknowledges the return.
pub(super) async fn acknowledge(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<DecisionInput>,
) -> ApiResult<Json<Material>> {
    Ok(Json(
        state
            .store
            .acknowledge_material_return(&user.actor(), id, &input)
            .await?,
    ))
}

// ------------------------------------------------------------------------------------------------ roster

/// `GET /staff`.
pub(super) async fn list_staff(
    user: ApiUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RegisterQuery>,
) -> ApiResult<Json<PageOut<StaffEntry>>> {
    user.require(Action::ViewContractRegisters)?;
    Ok(Json(paged(state.store.roster(q.contract_id).await?, &q)))
}

/// `POST /staff`.
pub(super) async fn create_staff(
    user: ApiUser,
    State(state): State<AppState>,
    ApiJson(new): ApiJson<New<StaffInput>>,
) -> ApiResult<Response> {
    let row = state
        .store
        .create_staff(&user.actor(), new.contract_id, &new.input)
        .await?;
    Ok(created("staff", row.id, row))
}

/// `GET /staff/{id}`.
pub(super) async fn show_staff(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
) -> ApiResult<Json<StaffEntry>> {
    user.require(Action::ViewContractRegisters)?;
    Ok(Json(state.store.staff_entry(id).await?))
}

/// `PUT /staff/{id}`: an end of assignment in the past ends the tied account's access at once.
pub(super) async fn update_staff(
    user: ApiUser,
    State(state): State<AppState>,
    ApiId(id): ApiId,
    ApiJson(input): ApiJson<StaffInput>,
) -> ApiResult<Json<StaffEntry>> {
    Ok(Json(
        state.store.update_staff(&user.actor(), id, &input).await?,
    ))
}

// ------------------------------------------------------------------------------------------------ openapi

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn resp(name: &str) -> Value {
    json!({"$ref": format!("#/components/responses/{name}")})
}

fn s(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

fn opt(t: &str, description: &str) -> Value {
    json!({"type": [t, "null"], "description": description})
}

fn int() -> Value {
    json!({"type": "integer"})
}

fn en<T: Copy>(all: &[T], code: fn(T) -> &'static str, description: &str) -> Value {
    json!({"type": "string", "enum": all.iter().map(|c| code(*c)).collect::<Vec<_>>(), "description": description})
}

fn ok(description: &str, schema: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": r(schema)}}})
}

fn body(schema: &str) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": r(schema)}}})
}

fn errs(codes: &[&str], success: &[(&str, Value)]) -> Value {
    let mut m = Map::new();
    m.insert("401".into(), resp("Unauthorized"));
    for c in codes {
        let name = match *c {
            "400" => "BadRequest",
            "403" => "Forbidden",
            "404" => "NotFound",
            "409" => "Conflict",
            "413" => "PayloadTooLarge",
            "415" => "UnsupportedMediaType",
            _ => "Validation",
        };
        m.insert((*c).into(), resp(name));
    }
    m.insert("500".into(), resp("Internal"));
    for (c, v) in success {
        m.insert((*c).into(), v.clone());
    }
    Value::Object(m)
}

const WRITE: [&str; 7] = ["400", "403", "404", "409", "413", "415", "422"];

fn list_params() -> Value {
    json!([
        {"name": "contract_id", "in": "query", "required": false, "description": "契約ID", "schema": {"type": "integer"}},
        {"$ref": "#/components/parameters/page"},
        {"$ref": "#/components/parameters/per_page"},
    ])
}

/// One register's list, create, get and update paths.
fn crud(
    paths: &mut Map<String, Value>,
    path: &str,
    tag: &str,
    schema: &str,
    input: &str,
    ja: &str,
    write: &str,
) {
    let view = "再委託・提供資料・従事者名簿の閲覧権限（全ロール）が必要です。";
    paths.insert(
        format!("/{path}"),
        json!({
            "get": {
                "tags": [tag], "operationId": format!("list_{path}"),
                "summary": format!("{ja}の一覧（契約で絞り込み、ページ単位）"),
                "description": view,
                "parameters": list_params(),
                "responses": errs(&["400", "403"], &[("200", ok(&format!("{ja}の1ページ"), &format!("{schema}Page")))]),
            },
            "post": {
                "tags": [tag], "operationId": format!("create_{path}"),
                "summary": format!("{ja}を登録"),
                "description": format!("{write} 本文に contract_id（契約ID）を含めます。監査ログに記録されます。"),
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "allOf": [r(input), {"type": "object", "required": ["contract_id"], "properties": {"contract_id": int()}}],
                }}}},
                "responses": errs(&WRITE, &[("201", ok("登録しました。", schema))]),
            },
        }),
    );
    paths.insert(
        format!("/{path}/{{id}}"),
        json!({
            "parameters": [{"$ref": "#/components/parameters/id"}],
            "get": {
                "tags": [tag], "operationId": format!("get_{path}"),
                "summary": format!("{ja}を1件取得"),
                "description": if path == "materials" { format!("{view} 閲覧は監査ログ（material.read）に記録されます。") } else { view.to_string() },
                "responses": errs(&["403", "404"], &[("200", ok(ja, schema))]),
            },
            "put": {
                "tags": [tag], "operationId": format!("update_{path}"),
                "summary": format!("{ja}を変更"),
                "description": format!("{write} 変更前後の差分が監査ログに記録されます。"),
                "requestBody": body(input),
                "responses": errs(&WRITE, &[("200", ok("変更後の内容", schema))]),
            },
        }),
    );
}

/// The paths, for `openapi.json`.
pub(super) fn paths(paths: &mut Map<String, Value>) {
    crud(
        paths,
        "subcontracts",
        "subcontracts",
        "Subcontract",
        "SubcontractInput",
        "再委託の承認",
        "再委託承認の登録権限（県管理者）が必要です。",
    );
    crud(
        paths,
        "materials",
        "materials",
        "Material",
        "MaterialInput",
        "提供資料",
        "提供資料の記録権限（県管理者・SE）が必要です。",
    );
    crud(
        paths,
        "staff",
        "staff",
        "StaffEntry",
        "StaffInput",
        "従事者名簿",
        "従事者名簿の管理権限（県管理者）が必要です。アカウントに紐付いた従事者は、従事期間内で誓約書が提出済みのときだけログインでき、従事期間が終わるとセッションとAPIトークンが終了します（監査ログ staff.access_ended）。",
    );
    let action = |op: &str, summary: &str, description: &str, input: &str| {
        json!({"parameters": [{"$ref": "#/components/parameters/id"}], "post": {
            "tags": ["materials"], "operationId": op, "summary": summary, "description": description,
            "requestBody": body(input),
            "responses": errs(&WRITE, &[("200", ok("変更後の提供資料", "Material"))]),
        }})
    };
    paths.insert(
        "/materials/{id}/copies".into(),
        action(
            "request_material_copy",
            "複製を申請",
            "提供資料の記録権限（県管理者・SE）が必要です。県の許可なく複製はできません。",
            "CopyRequestInput",
        ),
    );
    paths.insert("/material-copies/{id}/decision".into(), action("decide_material_copy", "複製申請を許可・不許可",
        "提供資料の複製許可権限（県管理者・県職員）が必要です。判断は1回だけです（2回目は 409）。", "DecisionInput"));
    paths.insert("/materials/{id}/return".into(), action("return_material", "返却・消去を記録",
        "提供資料の記録権限（県管理者・SE）が必要です。県の判断待ちの複製申請があるときは 409 です。", "ReturnMaterialInput"));
    paths.insert("/materials/{id}/acknowledgement".into(), action("acknowledge_material_return", "返却・消去を確認",
        "提供資料の返却確認権限（県管理者・県職員）が必要です。確認で提供資料の記録は完了し、契約の未完了事項から外れます。", "DecisionInput"));
}

/// The schemas, for `openapi.json`.
pub(super) fn schemas() -> Map<String, Value> {
    let date = "YYYY-MM-DD（日本時間）";
    let instant = "UTC、RFC 3339";
    let page = |item: &str| {
        json!({"type": "object", "required": ["items", "total", "page", "per_page", "pages"], "properties": {
            "items": {"type": "array", "items": r(item)}, "total": int(), "page": int(), "per_page": int(), "pages": int(),
        }})
    };
    let obj = |props: Value| {
        let required: Vec<String> = props
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        json!({"type": "object", "required": required, "properties": props})
    };
    let input = |required: &[&str], props: Value| json!({"type": "object", "required": required, "properties": props});
    let mut m = Map::new();
    m.insert("Subcontract".into(), obj(json!({
        "id": int(), "contract_id": int(), "subcontractor": s("再委託先"), "work_part": s("再委託する業務の内容"),
        "clauses": s("業務の区分（1〜5）をカンマ区切り"), "categories": s("作業の種類のコードをカンマ区切り"),
        "approval_number": s("承認番号"), "approved_on": s(&format!("承認日 {date}")),
        "period_start": s(&format!("再委託期間の初日 {date}")), "period_end": s(&format!("再委託期間の末日 {date}")),
        "note": s("備考"), "approval_attachment_id": opt("integer", "承認書の添付ファイル"),
        "created_at": s(instant), "updated_at": s(instant),
    })));
    m.insert("SubcontractPage".into(), page("Subcontract"));
    m.insert("SubcontractInput".into(), input(&["subcontractor", "work_part", "approval_number", "approved_on", "period_start", "period_end"], json!({
        "subcontractor": s("再委託先"), "work_part": s("再委託する業務の内容"),
        "clauses": {"type": "array", "items": en(Clause::ALL, Clause::code, "業務の区分①〜⑤")},
        "categories": {"type": "array", "items": en(Category::ALL, Category::code, "作業の種類")},
        "approval_number": s("承認番号"), "approved_on": s("承認日（ISO または 和暦）。再委託期間の開始日以前"),
        "period_start": s("再委託期間の開始日"), "period_end": s("再委託期間の終了日"), "note": s("備考"),
    })));
    let copy = obj(json!({
        "id": int(), "material_id": int(), "requested_on": s(date), "copies": int(), "purpose": s("目的"),
        "requested_by": s("申請した利用者ID"), "status": {"type": "string", "enum": ["requested", "permitted", "refused"]},
        "decided_on": opt("string", date), "decided_by": s("県の確認者"), "decision_note": s("備考"), "created_at": s(instant),
    }));
    m.insert("MaterialCopy".into(), copy);
    m.insert("Material".into(), obj(json!({
        "id": int(), "contract_id": int(), "name": s("資料名"),
        "kind": en(MaterialKind::ALL, MaterialKind::code, "種類"), "provided_by": s("提供元"),
        "received_on": s(&format!("受領日 {date}")), "medium": en(Medium::ALL, Medium::code, "媒体"),
        "classification": en(Classification::ALL, Classification::code, "機密性"), "storage": s("保管場所"),
        "quantity": s("数量・内容"), "note": s("備考"),
        "disposition": {"type": ["string", "null"], "enum": [Disposition::Returned.code(), Disposition::Erased.code(), null], "description": "返却・消去の別"},
        "disposed_on": opt("string", "返却・消去日"), "disposal_method": s("返却・消去の方法"),
        "ack_on": opt("string", "県の確認日（これで完了）"), "ack_by": s("県の確認者"), "ack_note": s("備考"),
        "created_at": s(instant), "updated_at": s(instant),
        "copies": {"type": "array", "items": r("MaterialCopy")},
    })));
    m.insert("MaterialPage".into(), page("Material"));
    m.insert("MaterialInput".into(), input(&["name", "kind", "provided_by", "received_on", "medium", "classification", "storage"], json!({
        "name": s("資料名"), "kind": en(MaterialKind::ALL, MaterialKind::code, "種類"), "provided_by": s("提供元"),
        "received_on": s("受領日"), "medium": en(Medium::ALL, Medium::code, "媒体"),
        "classification": en(Classification::ALL, Classification::code, "機密性"), "storage": s("保管場所"),
        "quantity": s("数量・内容"), "note": s("備考"),
    })));
    m.insert("CopyRequestInput".into(), input(&["requested_on", "copies", "purpose"], json!({
        "requested_on": s("申請日"), "copies": {"type": "integer", "minimum": 1, "maximum": 100}, "purpose": s("複製の目的"),
    })));
    m.insert("DecisionInput".into(), input(&["decided_on", "decided_by"], json!({
        "granted": {"type": "boolean", "description": "許可（true）・不許可（false）。返却の確認では無視されます。"},
        "decided_on": s("確認日"), "decided_by": s("県の確認者"), "note": s("備考"),
    })));
    m.insert("ReturnMaterialInput".into(), input(&["disposition", "done_on", "method"], json!({
        "disposition": en(&[Disposition::Returned, Disposition::Erased], Disposition::code, "返却・消去の別"),
        "done_on": s("返却・消去日"), "method": s("方法（複製物の扱いを含む）"),
    })));
    m.insert("StaffEntry".into(), obj(json!({
        "id": int(), "contract_id": int(), "name": s("氏名"), "employer": s("所属"), "role_on_contract": s("契約上の役割"),
        "user_id": opt("integer", "紐付いたアカウント"), "username": opt("string", "そのログイン名"),
        "subcontract_id": opt("integer", "再委託先の従事者の場合、その承認"), "subcontractor": opt("string", "再委託先"),
        "start_on": s(&format!("従事開始日 {date}")), "end_on": opt("string", "従事終了日（null は未定）"),
        "pledge_on": opt("string", "誓約書の日付"), "pledge_attachment_id": opt("integer", "誓約書の添付ファイル"),
        "training_dates": s("研修受講日（カンマ区切り）"), "note": s("備考"),
        "access_ended_at": opt("string", "この従事の終了でアクセスを止めた日時"),
        "created_at": s(instant), "updated_at": s(instant),
    })));
    m.insert("StaffEntryPage".into(), page("StaffEntry"));
    m.insert("StaffInput".into(), input(&["name", "employer", "role_on_contract", "start_on"], json!({
        "name": s("氏名"), "employer": s("所属"), "role_on_contract": s("契約上の役割"),
        "user_id": opt("integer", "紐付けるアカウント"), "subcontract_id": opt("integer", "再委託の承認（再委託先の従事者のみ）"),
        "start_on": s("従事開始日"), "end_on": s("従事終了日（空は未定）"), "pledge_on": s("誓約書の日付（空は未提出）"),
        "training_dates": s("研修受講日（カンマ・読点・改行区切り）"), "note": s("備考"),
    })));
    m
}
