//! Account administration (R12, R13), for [`Action::ManageUsers`] only: the list of accounts with their
//! second factor and lock state, adding an account, lifting a lock, disabling an account (which ends its
//! sessions and tokens at once), resetting the second factor of someone who lost the device, resetting a
//! password (which ends every session of the account), and every account's API tokens, to revoke.

use crate::page::{Ctx, FormErrors, PageMeta, render, role_options};
use crate::pages::account::{TokenRow, token_rows};
use crate::view::{OkQuery, Opt};
use crate::{AppState, WebError};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use unyo_domain::{Action, DomainError, FieldError, Role};
use unyo_store::StoreError;
use unyo_store::users::User;

/// Longest display name accepted.
const MAX_DISPLAY_NAME: usize = 100;

/// `/users` and the per-account actions.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users", get(users_page).post(create_user))
        .route("/users/{id}/unlock", post(unlock))
        .route("/users/{id}/disable", post(disable))
        .route("/users/{id}/reset-totp", post(reset_totp))
        .route("/users/{id}/password", post(reset_password))
        .route("/users/tokens/{id}/revoke", post(revoke_token))
}

/// The add-user form as typed (the password is never sent back).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct NewUserForm {
    username: String,
    display_name: String,
    role: String,
    password: String,
}

/// One account as listed.
struct Row {
    id: i64,
    username: String,
    display_name: String,
    role_label: String,
    totp_enabled: bool,
    /// `active`, `locked` or `disabled`.
    state: &'static str,
    /// When the lock ends, or when the account was disabled.
    state_at: String,
    failed_logins: i64,
    is_self: bool,
}

#[derive(askama::Template)]
#[template(path = "users.html")]
struct UsersPage {
    page: PageMeta,
    rows: Vec<Row>,
    roles: Vec<Opt>,
    form: NewUserForm,
    errors: FormErrors,
    action_error: String,
    tokens: Vec<TokenRow>,
}

fn row(ctx: &Ctx, page: &PageMeta, u: User, now: &str) -> Row {
    let role = u.role();
    let locked = u.locked_until.as_deref().filter(|t| *t > now);
    let (state, state_at) = if u.disabled_at.is_some() {
        ("disabled", page.datetime_opt(&u.disabled_at))
    } else if let Some(until) = locked {
        let at = page.datetime(until);
        let text = if ctx.tr.is_ja() {
            format!("{at}まで")
        } else {
            format!("until {at}")
        };
        ("locked", text)
    } else {
        ("active", String::new())
    };
    Row {
        id: u.id,
        role_label: ctx.tr.pick(role.label_ja(), role.label_en()).to_string(),
        totp_enabled: u.totp_enabled,
        state,
        state_at,
        failed_logins: u.failed_logins,
        is_self: u.id == ctx.user.id,
        username: u.username,
        display_name: u.display_name,
    }
}

fn flash(ctx: &Ctx, page: PageMeta, ok: Option<&str>) -> PageMeta {
    let special = match ok {
        Some("created") => Some(ctx.tr.t("user.created_done")),
        Some("unlocked") => Some(ctx.tr.t("user.unlocked_done")),
        Some("disabled") => Some(ctx.tr.t("user.disabled_done")),
        Some("totp_reset") => Some(ctx.tr.t("user.totp_reset_done")),
        Some("password_reset") => Some(ctx.tr.t("user.password_reset_done")),
        Some("token_revoked") => Some(ctx.tr.t("account.token_revoked_done")),
        _ => None,
    };
    let mut page = page.with_flash(ok);
    if special.is_some() {
        page.flash = special;
    }
    page
}

/// The list and the add form; 422 when `errors` or `action_error` say something went wrong.
async fn show(
    state: &AppState,
    ctx: &Ctx,
    ok: Option<&str>,
    form: NewUserForm,
    errors: Vec<FieldError>,
    action_error: String,
) -> Result<Response, WebError> {
    let page = flash(ctx, ctx.page(ctx.tr.t("user.title"), "users"), ok);
    let now = unyo_domain::time::to_storage(chrono::Utc::now());
    let rows = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| row(ctx, &page, u, &now))
        .collect();
    let roles = role_options(ctx.tr)
        .into_iter()
        .map(|(value, label)| Opt::new(value, label, form.role == value))
        .collect();
    let tokens = state.store.all_api_tokens(&ctx.actor()).await?;
    let tokens = token_rows(ctx, &page, tokens);
    let status = if errors.is_empty() && action_error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let html = render(&UsersPage {
        page,
        rows,
        roles,
        form: NewUserForm {
            password: String::new(),
            ..form
        },
        errors: FormErrors(errors),
        action_error,
        tokens,
    })?;
    Ok((status, html).into_response())
}

async fn users_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<OkQuery>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageUsers)?;
    show(
        &state,
        &ctx,
        q.get(),
        NewUserForm::default(),
        Vec::new(),
        String::new(),
    )
    .await
}

/// `POST /users`: adds an account; refusals are shown on the form with status 422.
async fn create_user(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(mut form): Form<NewUserForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageUsers)?;
    let tr = ctx.tr;
    form.username = form.username.trim().to_string();
    form.display_name = form.display_name.trim().to_string();
    let mut errors = Vec::new();
    if form.display_name.is_empty() {
        errors.push(FieldError::new(
            "display_name",
            tr.t("user.display_name_required"),
        ));
    } else if form.display_name.chars().count() > MAX_DISPLAY_NAME {
        errors.push(FieldError::new(
            "display_name",
            tr.t("user.display_name_long"),
        ));
    }
    let role = Role::parse(form.role.trim());
    if role.is_none() {
        errors.push(FieldError::new("role", tr.t("user.role_required")));
    }
    if let (Some(role), true) = (role, errors.is_empty()) {
        match state
            .store
            .create_user(
                &ctx.actor(),
                &form.username,
                &form.display_name,
                role,
                &form.password,
            )
            .await
        {
            Ok(_) => return Ok(Redirect::to("/users?ok=created").into_response()),
            Err(StoreError::Domain(DomainError::Validation(fields))) => errors.extend(fields),
            // A duplicate login name is the only conflict creating an account can meet.
            Err(StoreError::Domain(DomainError::Conflict(message))) => {
                errors.push(FieldError::new("username", message));
            }
            Err(other) => return Err(other.into()),
        }
    }
    show(&state, &ctx, None, form, errors, String::new()).await
}

/// The account named in the path, or 404.
async fn target(state: &AppState, ctx: &Ctx, id: i64) -> Result<User, WebError> {
    ctx.require(Action::ManageUsers)?;
    state.store.user(id).await?.ok_or(WebError::NotFound)
}

/// Shows a refused per-account action above the list (422), or passes other errors on.
async fn refused(state: &AppState, ctx: &Ctx, e: StoreError) -> Result<Response, WebError> {
    let message = match e {
        StoreError::Domain(DomainError::Conflict(m)) => m,
        StoreError::Domain(DomainError::Validation(fields)) => fields
            .into_iter()
            .map(|f| f.message)
            .collect::<Vec<_>>()
            .join(" "),
        other => return Err(other.into()),
    };
    show(
        state,
        ctx,
        None,
        NewUserForm::default(),
        Vec::new(),
        message,
    )
    .await
}

/// `POST /users/{id}/unlock`.
async fn unlock(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let user = target(&state, &ctx, id).await?;
    match state.store.unlock_user(&ctx.actor(), user.id).await {
        Ok(()) => Ok(Redirect::to("/users?ok=unlocked").into_response()),
        Err(e) => refused(&state, &ctx, e).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DisableForm {
    confirm: String,
}

/// `POST /users/{id}/disable`: needs the confirmation box ticked.
async fn disable(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<DisableForm>,
) -> Result<Response, WebError> {
    let user = target(&state, &ctx, id).await?;
    if form.confirm != "yes" {
        let message = ctx.tr.t("user.confirm_missing").to_string();
        return show(
            &state,
            &ctx,
            None,
            NewUserForm::default(),
            Vec::new(),
            message,
        )
        .await;
    }
    match state.store.disable_user(&ctx.actor(), user.id).await {
        Ok(()) => Ok(Redirect::to("/users?ok=disabled").into_response()),
        Err(e) => refused(&state, &ctx, e).await,
    }
}

/// `POST /users/{id}/reset-totp`: for someone who lost the device.
async fn reset_totp(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let user = target(&state, &ctx, id).await?;
    match state.store.disable_totp(&ctx.actor(), user.id).await {
        Ok(()) => Ok(Redirect::to("/users?ok=totp_reset").into_response()),
        Err(e) => refused(&state, &ctx, e).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordForm {
    password: String,
}

/// `POST /users/{id}/password`: a new password set by an administrator; every session of the account ends.
async fn reset_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    let user = target(&state, &ctx, id).await?;
    match state
        .store
        .set_password(&ctx.actor(), user.id, &form.password)
        .await
    {
        Ok(_) if user.id == ctx.user.id => {
            // One's own password through this form: the session ended with the others; log in again.
            Ok(Redirect::to("/login").into_response())
        }
        Ok(_) => Ok(Redirect::to("/users?ok=password_reset").into_response()),
        Err(e) => refused(&state, &ctx, e).await,
    }
}

/// `POST /users/tokens/{id}/revoke`: any account's token.
async fn revoke_token(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    ctx.require(Action::ManageUsers)?;
    state.store.revoke_api_token(&ctx.actor(), id).await?;
    Ok(Redirect::to("/users?ok=token_revoked").into_response())
}
