//! Accounts and users (`/accounts...`, `/account`, `/user...`).
//!
//! Managing accounts and users needs an admin account, as in Anchore. Any
//! user may read its own account and user, and read or set its own
//! password, through `/account`, `/user`, `/user/credentials`, or the
//! `/accounts/{account}/users/{username}[/credentials]` routes naming itself
//! (which is what `anchore-cli account user setpassword` calls).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use portcullis_api::{
    AccessCredential, Account, AccountCreationRequest, AccountStatus, AccountsQuery, User, UserCreationRequest,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{json_body, query};
use crate::accounts;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_accounts, create_account))
        .routes(routes!(get_account, delete_account))
        .routes(routes!(set_account_state))
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, delete_user))
        .routes(routes!(list_credentials, add_credential, delete_credential))
        .routes(routes!(my_account))
        .routes(routes!(my_user))
        .routes(routes!(my_credentials, set_my_password))
}

/// Admins may act on any user; other users only on themselves.
fn require_self_or_admin(caller: &Caller, account: &str, username: &str) -> ApiResult<()> {
    if caller.is_admin || (caller.user_account == account && caller.username == username) {
        Ok(())
    } else {
        Err(ApiError::forbidden("only an admin may manage other users; a user may read and set its own password"))
    }
}

/// Lists accounts, optionally in one state.
#[utoipa::path(get, path = "/accounts", tag = "accounts", params(AccountsQuery, portcullis_api::Page),
    responses((status = 200, body = Vec<Account>), (status = 401), (status = 403, description = "not an admin")))]
async fn list_accounts(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<AccountsQuery>, QueryRejection>,
    page: super::PageQuery,
) -> ApiResult<super::Paged<Account>> {
    caller.require_admin()?;
    let params = query(params)?;
    super::paginate(accounts::list_accounts(&state, params.state).await?, page)
}

/// Creates an account (type `user`, enabled, with no user yet).
#[utoipa::path(post, path = "/accounts", tag = "accounts", request_body = AccountCreationRequest,
    responses((status = 200, body = Account), (status = 400, description = "invalid name or email"),
        (status = 403), (status = 409, description = "the account exists")))]
async fn create_account(State(state): State<AppState>, caller: Caller, body: Bytes) -> ApiResult<Json<Account>> {
    caller.require_admin()?;
    let request: AccountCreationRequest = json_body(&body)?;
    Ok(Json(accounts::create_account(&state, &request).await?))
}

#[utoipa::path(get, path = "/accounts/{account}", tag = "accounts", params(("account" = String, Path)),
    responses((status = 200, body = Account), (status = 403), (status = 404)))]
async fn get_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(account): Path<String>,
) -> ApiResult<Json<Account>> {
    caller.require_admin()?;
    Ok(Json(accounts::existing_account(&state, &account).await?))
}

/// Deletes a disabled account: it turns `deleting` at once, and its users,
/// images, documents and every other resource are removed in the background.
#[utoipa::path(delete, path = "/accounts/{account}", tag = "accounts", params(("account" = String, Path)),
    responses((status = 204), (status = 400, description = "enabled, or the admin account"), (status = 403), (status = 404)))]
async fn delete_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(account): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    accounts::delete_account(&state, &account).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enables or disables an account; the users of a disabled account cannot log in.
#[utoipa::path(put, path = "/accounts/{account}/state", tag = "accounts", params(("account" = String, Path)),
    request_body = AccountStatus,
    responses((status = 200, body = AccountStatus), (status = 400), (status = 403), (status = 404)))]
async fn set_account_state(
    State(state): State<AppState>,
    caller: Caller,
    Path(account): Path<String>,
    body: Bytes,
) -> ApiResult<Json<AccountStatus>> {
    caller.require_admin()?;
    let request: AccountStatus = json_body(&body)?;
    let state = accounts::set_account_state(&state, &account, request.state).await?;
    Ok(Json(AccountStatus { state }))
}

#[utoipa::path(get, path = "/accounts/{account}/users", tag = "accounts", params(("account" = String, Path), portcullis_api::Page),
    responses((status = 200, body = Vec<User>), (status = 403), (status = 404)))]
async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    Path(account): Path<String>,
    page: super::PageQuery,
) -> ApiResult<super::Paged<User>> {
    caller.require_admin()?;
    accounts::existing_account(&state, &account).await?;
    super::paginate(accounts::list_users(&state, &account).await?, page)
}

/// Adds a user with a password (6 to 128 characters); usernames are unique across accounts.
#[utoipa::path(post, path = "/accounts/{account}/users", tag = "accounts", params(("account" = String, Path)),
    request_body = UserCreationRequest,
    responses((status = 200, body = User), (status = 400), (status = 403), (status = 404), (status = 409)))]
async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(account): Path<String>,
    body: Bytes,
) -> ApiResult<Json<User>> {
    caller.require_admin()?;
    let request: UserCreationRequest = json_body(&body)?;
    Ok(Json(accounts::create_user(&state, &account, &request.username, &request.password).await?))
}

#[utoipa::path(get, path = "/accounts/{account}/users/{username}", tag = "accounts",
    params(("account" = String, Path), ("username" = String, Path)),
    responses((status = 200, body = User), (status = 403), (status = 404)))]
async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, username)): Path<(String, String)>,
) -> ApiResult<Json<User>> {
    require_self_or_admin(&caller, &account, &username)?;
    Ok(Json(accounts::existing_user(&state, &account, &username).await?))
}

/// Deletes a user and revokes its tokens (not the caller itself).
#[utoipa::path(delete, path = "/accounts/{account}/users/{username}", tag = "accounts",
    params(("account" = String, Path), ("username" = String, Path)),
    responses((status = 204), (status = 400, description = "deleting oneself"), (status = 403), (status = 404)))]
async fn delete_user(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, username)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    accounts::delete_user(&state, &account, &username, &caller.username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The user's credentials, the password redacted.
#[utoipa::path(get, path = "/accounts/{account}/users/{username}/credentials", tag = "accounts",
    params(("account" = String, Path), ("username" = String, Path)),
    responses((status = 200, body = Vec<AccessCredential>), (status = 403), (status = 404)))]
async fn list_credentials(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, username)): Path<(String, String)>,
) -> ApiResult<Json<Vec<AccessCredential>>> {
    require_self_or_admin(&caller, &account, &username)?;
    Ok(Json(accounts::credentials(&state, &account, &username).await?))
}

/// Sets the user's password (`{"type": "password", "value": ...}`); the old
/// password and the user's bearer tokens stop working at once.
#[utoipa::path(post, path = "/accounts/{account}/users/{username}/credentials", tag = "accounts",
    params(("account" = String, Path), ("username" = String, Path)), request_body = AccessCredential,
    responses((status = 200, body = User), (status = 400), (status = 403), (status = 404)))]
async fn add_credential(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, username)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<User>> {
    require_self_or_admin(&caller, &account, &username)?;
    let credential: AccessCredential = json_body(&body)?;
    Ok(Json(accounts::set_password(&state, &account, &username, &credential).await?))
}

/// Query string of `DELETE .../credentials`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct CredentialQuery {
    /// Only `password`, the default.
    #[serde(default)]
    credential_type: Option<String>,
}

/// Removes the user's password: it cannot log in until given a new one.
#[utoipa::path(delete, path = "/accounts/{account}/users/{username}/credentials", tag = "accounts",
    params(("account" = String, Path), ("username" = String, Path), CredentialQuery),
    responses((status = 204), (status = 400), (status = 403), (status = 404)))]
async fn delete_credential(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, username)): Path<(String, String)>,
    params: Result<Query<CredentialQuery>, QueryRejection>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    let params = query(params)?;
    if let Some(kind) = params.credential_type.filter(|kind| kind != "password") {
        return Err(ApiError::bad_request(format!(
            "credential type {kind:?} is not supported: the only type is \"password\""
        )));
    }
    accounts::remove_password(&state, &account, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The account the request acts in (the caller's, or the one an admin names
/// with `x-anchore-account`).
#[utoipa::path(get, path = "/account", tag = "accounts", responses((status = 200, body = Account), (status = 401)))]
async fn my_account(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Account>> {
    Ok(Json(accounts::existing_account(&state, &caller.account).await?))
}

/// The calling user.
#[utoipa::path(get, path = "/user", tag = "accounts", responses((status = 200, body = User), (status = 401)))]
async fn my_user(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<User>> {
    Ok(Json(accounts::existing_user(&state, &caller.user_account, &caller.username).await?))
}

#[utoipa::path(get, path = "/user/credentials", tag = "accounts",
    responses((status = 200, body = Vec<AccessCredential>), (status = 401)))]
async fn my_credentials(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<AccessCredential>>> {
    Ok(Json(accounts::credentials(&state, &caller.user_account, &caller.username).await?))
}

/// Sets the caller's own password.
#[utoipa::path(post, path = "/user/credentials", tag = "accounts", request_body = AccessCredential,
    responses((status = 200, body = User), (status = 400), (status = 401)))]
async fn set_my_password(State(state): State<AppState>, caller: Caller, body: Bytes) -> ApiResult<Json<User>> {
    let credential: AccessCredential = json_body(&body)?;
    Ok(Json(accounts::set_password(&state, &caller.user_account, &caller.username, &credential).await?))
}
