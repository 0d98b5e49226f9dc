//! Accounts, users and their password credentials, and the background
//! removal of deleted accounts.
//!
//! As in Anchore: an account is `enabled`, `disabled` or `deleting`; only a
//! disabled account may be deleted, which marks it `deleting` and leaves the
//! removal of its rows and documents to the [`CLEANUP_WATCHER`]. Usernames are
//! unique across accounts (a login names the user, not the account). The
//! admin account can be neither disabled nor deleted. Every change that can
//! affect a login clears the login cache, so it takes effect on the next
//! request.

use portcullis_api::{AccessCredential, Account, AccountCreationRequest, AccountState, AccountType, User, UserType};
use portcullis_sql::{Backend, now_rfc3339};
use sqlx::{AssertSqlSafe, Row};

use crate::auth::hash_password;
use crate::error::{ApiError, ApiResult, ServiceError};
use crate::queue::epoch_seconds;
use crate::scheduler::{Watcher, WatcherFuture};
use crate::schema::stored_time;
use crate::state::AppState;

/// The watcher that removes the rows and documents of `deleting` accounts
/// (Anchore's `account_resource_cleanup`).
pub const CLEANUP_WATCHER: &str = "account_resource_cleanup";
/// Seconds between cleanup runs; a delete also makes it due at once.
const CLEANUP_INTERVAL_SECONDS: u64 = 30;
/// Names of accounts and users: Anchore's rule, minus the `:` its character
/// range let through (a colon cannot be part of a basic-auth username).
const NAME_MIDDLE_CHARS: &str = "@.!#$+-=^_`~;";
const NAME_MIN: usize = 3;
const NAME_MAX: usize = 128;
const PASSWORD_MIN: usize = 6;
const PASSWORD_MAX: usize = 128;
const EMAIL_MAX: usize = 254;
/// What `GET .../credentials` shows instead of a password (only its hash is stored).
pub const REDACTED: &str = "********";

/// Checks an account name or username (`what` names it in the message).
pub fn validate_name(what: &str, name: &str) -> ApiResult<()> {
    let length = name.chars().count();
    if !(NAME_MIN..=NAME_MAX).contains(&length) {
        return Err(ApiError::bad_request(format!(
            "invalid {what} {name:?}: it must be {NAME_MIN} to {NAME_MAX} characters long, not {length}"
        )));
    }
    let is_end = |c: char| c.is_ascii_alphanumeric();
    let first_last_ok = name.chars().next().is_some_and(is_end) && name.chars().last().is_some_and(is_end);
    if !first_last_ok {
        return Err(ApiError::bad_request(format!(
            "invalid {what} {name:?}: it must start and end with a letter or digit"
        )));
    }
    if let Some(bad) = name.chars().find(|&c| !c.is_ascii_alphanumeric() && !NAME_MIDDLE_CHARS.contains(c)) {
        return Err(ApiError::bad_request(format!(
            "invalid {what} {name:?}: {bad:?} is not allowed; use letters, digits and {NAME_MIDDLE_CHARS}"
        )));
    }
    Ok(())
}

pub fn validate_password(password: &str) -> ApiResult<()> {
    let length = password.chars().count();
    if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&length) {
        return Err(ApiError::bad_request(format!(
            "invalid password: it must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long, not {length}"
        )));
    }
    Ok(())
}

fn validate_email(email: &str) -> ApiResult<()> {
    let well_formed = email.len() <= EMAIL_MAX
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
    if well_formed {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "invalid email {email:?}: expected an address like name@example.com (at most {EMAIL_MAX} characters)"
        )))
    }
}

fn account_state(text: &str) -> Result<AccountState, ServiceError> {
    match text {
        "enabled" => Ok(AccountState::Enabled),
        "disabled" => Ok(AccountState::Disabled),
        "deleting" => Ok(AccountState::Deleting),
        other => Err(ServiceError::Other(format!("stored account state {other:?} is unknown"))),
    }
}

fn account_from_row(row: &sqlx::any::AnyRow) -> Result<Account, ServiceError> {
    let kind: String = row.try_get("account_type")?;
    let kind = match kind.as_str() {
        "admin" => AccountType::Admin,
        "user" => AccountType::User,
        "service" => AccountType::Service,
        other => return Err(ServiceError::Other(format!("stored account type {other:?} is unknown"))),
    };
    let state: String = row.try_get("state")?;
    Ok(Account {
        name: row.try_get("name")?,
        kind,
        state: account_state(&state)?,
        email: row.try_get("email")?,
        created_at: stored_time(&row.try_get::<String, _>("created_at")?)?,
        last_updated: stored_time(&row.try_get::<String, _>("last_updated")?)?,
    })
}

fn user_from_row(row: &sqlx::any::AnyRow) -> Result<User, ServiceError> {
    let source: String = row.try_get("source")?;
    // Anchore reports native users with a null source.
    let (kind, source) = match source.as_str() {
        "native" => (UserType::Native, None),
        "internal" => (UserType::Internal, None),
        _ => (UserType::External, Some(source)),
    };
    Ok(User {
        username: row.try_get("username")?,
        kind,
        source,
        created_at: stored_time(&row.try_get::<String, _>("created_at")?)?,
        last_updated: stored_time(&row.try_get::<String, _>("last_updated")?)?,
    })
}

const ACCOUNT_COLUMNS: &str = "name, email, account_type, state, created_at, last_updated";
const USER_COLUMNS: &str = "username, source, created_at, last_updated";

pub async fn list_accounts(state: &AppState, filter: Option<AccountState>) -> Result<Vec<Account>, ServiceError> {
    let rows = match filter {
        Some(wanted) => {
            sqlx::query(AssertSqlSafe(format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE state = $1 ORDER BY name")))
                .bind(wanted.as_str())
                .fetch_all(state.db.pool())
                .await?
        }
        None => {
            sqlx::query(AssertSqlSafe(format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY name")))
                .fetch_all(state.db.pool())
                .await?
        }
    };
    rows.iter().map(account_from_row).collect()
}

pub async fn get_account(state: &AppState, name: &str) -> Result<Option<Account>, ServiceError> {
    let row = sqlx::query(AssertSqlSafe(format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE name = $1")))
        .bind(name)
        .fetch_optional(state.db.pool())
        .await?;
    row.as_ref().map(account_from_row).transpose()
}

/// The account, or a 404 naming it.
pub async fn existing_account(state: &AppState, name: &str) -> ApiResult<Account> {
    get_account(state, name).await?.ok_or_else(|| ApiError::not_found(format!("account {name:?} does not exist")))
}

/// Creates a `user` account (Anchore creates no other type through the API).
pub async fn create_account(state: &AppState, request: &AccountCreationRequest) -> ApiResult<Account> {
    validate_name("account name", &request.name)?;
    if let Some(email) = &request.email {
        validate_email(email)?;
    }
    let now = now_rfc3339();
    let inserted = sqlx::query(
        "INSERT INTO accounts (name, email, account_type, state, created_at, last_updated)
         VALUES ($1, $2, 'user', 'enabled', $3, $3) ON CONFLICT DO NOTHING",
    )
    .bind(&request.name)
    .bind(request.email.as_deref())
    .bind(&now)
    .execute(state.db.pool())
    .await?;
    let account = existing_account(state, &request.name).await?;
    if inserted.rows_affected() == 0 {
        let why = match account.state {
            AccountState::Deleting => "is being deleted; try again once it is gone",
            _ => "already exists",
        };
        return Err(ApiError::conflict(format!("account {:?} {why}", request.name)));
    }
    tracing::info!(account = %account.name, "account created");
    Ok(account)
}

fn invalid_state_change(from: AccountState, to: AccountState) -> ApiError {
    // anchore-cli recognises this wording and adds a hint about disabling first.
    ApiError::bad_request(format!(
        "Invalid account state change requested. Cannot go from state {} to state {}",
        from.as_str(),
        to.as_str()
    ))
}

/// Enables or disables an account; `deleting` is reached only through [`delete_account`].
pub async fn set_account_state(state: &AppState, name: &str, wanted: AccountState) -> ApiResult<AccountState> {
    let account = existing_account(state, name).await?;
    if wanted == AccountState::Deleting {
        return Err(ApiError::bad_request(format!(
            "an account is deleted with DELETE /accounts/{name}, not by setting its state to deleting"
        )));
    }
    if account.kind == AccountType::Admin && wanted != AccountState::Enabled {
        return Err(ApiError::bad_request(format!("the admin account {name:?} cannot be disabled")));
    }
    if account.state == wanted {
        return Ok(wanted);
    }
    if account.state == AccountState::Deleting {
        return Err(invalid_state_change(account.state, wanted));
    }
    let updated = sqlx::query("UPDATE accounts SET state = $1, last_updated = $2 WHERE name = $3 AND state = $4")
        .bind(wanted.as_str())
        .bind(now_rfc3339())
        .bind(name)
        .bind(account.state.as_str())
        .execute(state.db.pool())
        .await?;
    if updated.rows_affected() == 0 {
        return Err(ApiError::conflict(format!("account {name:?} changed meanwhile; read it again")));
    }
    state.forget_logins();
    tracing::info!(account = %name, state = wanted.as_str(), "account state changed");
    Ok(wanted)
}

/// Marks a disabled account `deleting` and makes the cleanup watcher due.
pub async fn delete_account(state: &AppState, name: &str) -> ApiResult<()> {
    let account = existing_account(state, name).await?;
    if account.kind == AccountType::Admin {
        return Err(ApiError::bad_request(format!("the admin account {name:?} cannot be deleted")));
    }
    match account.state {
        AccountState::Deleting => return Ok(()),
        AccountState::Enabled => return Err(invalid_state_change(AccountState::Enabled, AccountState::Deleting)),
        AccountState::Disabled => {}
    }
    let updated =
        sqlx::query("UPDATE accounts SET state = 'deleting', last_updated = $1 WHERE name = $2 AND state = 'disabled'")
            .bind(now_rfc3339())
            .bind(name)
            .execute(state.db.pool())
            .await?;
    if updated.rows_affected() == 0 {
        return Err(ApiError::conflict(format!("account {name:?} changed meanwhile; read it again")));
    }
    state.forget_logins();
    crate::scheduler::trigger(state, CLEANUP_WATCHER).await?;
    tracing::info!(account = %name, "account marked for deletion");
    Ok(())
}

pub async fn list_users(state: &AppState, account: &str) -> Result<Vec<User>, ServiceError> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM users WHERE account = $1 ORDER BY created_at, username"
    )))
    .bind(account)
    .fetch_all(state.db.pool())
    .await?;
    rows.iter().map(user_from_row).collect()
}

pub async fn get_user(state: &AppState, account: &str, username: &str) -> Result<Option<User>, ServiceError> {
    let row =
        sqlx::query(AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE account = $1 AND username = $2")))
            .bind(account)
            .bind(username)
            .fetch_optional(state.db.pool())
            .await?;
    row.as_ref().map(user_from_row).transpose()
}

/// The user of `account`, or a 404 naming both.
pub async fn existing_user(state: &AppState, account: &str, username: &str) -> ApiResult<User> {
    get_user(state, account, username)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("user {username:?} does not exist in account {account:?}")))
}

/// Adds a native user with a password to an existing, not deleting, account.
pub async fn create_user(state: &AppState, account: &str, username: &str, password: &str) -> ApiResult<User> {
    let owner = existing_account(state, account).await?;
    if owner.state == AccountState::Deleting {
        return Err(ApiError::conflict(format!("account {account:?} is being deleted")));
    }
    validate_name("username", username)?;
    validate_password(password)?;
    let hash = hash_password(password)?;
    let now = now_rfc3339();
    let inserted = sqlx::query(
        "INSERT INTO users (username, account, password_hash, source, created_at, last_updated)
         VALUES ($1, $2, $3, 'native', $4, $4) ON CONFLICT DO NOTHING",
    )
    .bind(username)
    .bind(account)
    .bind(hash)
    .bind(&now)
    .execute(state.db.pool())
    .await?;
    if inserted.rows_affected() == 0 {
        // Names are global, so say so without naming the other account.
        return Err(ApiError::conflict(format!(
            "username {username:?} is taken (usernames are unique across all accounts)"
        )));
    }
    state.forget_logins();
    tracing::info!(%account, user = %username, "user created");
    existing_user(state, account, username).await
}

/// Deletes a user and its tokens. A caller cannot delete itself (that
/// would leave it logged out mid-request and, for the last admin, locked out).
pub async fn delete_user(state: &AppState, account: &str, username: &str, caller: &str) -> ApiResult<()> {
    existing_user(state, account, username).await?;
    if username == caller {
        return Err(ApiError::bad_request(format!("user {username:?} cannot delete itself; ask another admin")));
    }
    let mut tx = state.db.pool().begin().await?;
    sqlx::query("DELETE FROM api_tokens WHERE username = $1").bind(username).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM users WHERE account = $1 AND username = $2")
        .bind(account)
        .bind(username)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    state.forget_logins();
    tracing::info!(%account, user = %username, "user deleted");
    Ok(())
}

/// Replaces a user's password and revokes its bearer tokens, so the old
/// password and anything obtained with it stop working at once.
pub async fn set_password(
    state: &AppState,
    account: &str,
    username: &str,
    credential: &AccessCredential,
) -> ApiResult<User> {
    if credential.kind != "password" {
        return Err(ApiError::bad_request(format!(
            "credential type {:?} is not supported: the only type is \"password\"",
            credential.kind
        )));
    }
    validate_password(&credential.value)?;
    existing_user(state, account, username).await?;
    let hash = hash_password(&credential.value)?;
    store_password(state, account, username, Some(hash)).await?;
    tracing::info!(%account, user = %username, "password changed");
    existing_user(state, account, username).await
}

/// Removes a user's password: it can no longer log in until given a new one.
pub async fn remove_password(state: &AppState, account: &str, username: &str) -> ApiResult<()> {
    existing_user(state, account, username).await?;
    store_password(state, account, username, None).await?;
    tracing::info!(%account, user = %username, "password removed");
    Ok(())
}

async fn store_password(state: &AppState, account: &str, username: &str, hash: Option<String>) -> ApiResult<()> {
    let mut tx = state.db.pool().begin().await?;
    sqlx::query("UPDATE users SET password_hash = $1, last_updated = $2 WHERE account = $3 AND username = $4")
        .bind(hash)
        .bind(now_rfc3339())
        .bind(account)
        .bind(username)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM api_tokens WHERE username = $1").bind(username).execute(&mut *tx).await?;
    tx.commit().await?;
    state.forget_logins();
    Ok(())
}

/// A user's credentials as Anchore lists them, the value redacted: only a
/// hash is stored, and a password is never sent back.
pub async fn credentials(state: &AppState, account: &str, username: &str) -> ApiResult<Vec<AccessCredential>> {
    existing_user(state, account, username).await?;
    let row = sqlx::query("SELECT password_hash, last_updated FROM users WHERE account = $1 AND username = $2")
        .bind(account)
        .bind(username)
        .fetch_one(state.db.pool())
        .await?;
    let hash: Option<String> = row.try_get("password_hash")?;
    let set_at: String = row.try_get("last_updated")?;
    Ok(match hash {
        Some(_) => {
            vec![AccessCredential { created_at: Some(stored_time(&set_at)?), ..AccessCredential::password(REDACTED) }]
        }
        None => Vec::new(),
    })
}

/// The account cleanup, run by the scheduler.
pub fn cleanup_watcher() -> Watcher {
    Watcher {
        name: CLEANUP_WATCHER,
        interval: |_| CLEANUP_INTERVAL_SECONDS,
        max_runtime_seconds: 600,
        run: |state| -> WatcherFuture { Box::pin(async move { cleanup(&state).await }) },
    }
}

/// Removes everything of each `deleting` account: documents first (their
/// rows say where the bytes are), then its users' tokens and the rows of
/// every table with an `account` column (users, images, queue, events...),
/// and last the account itself, so an interrupted run is simply resumed by
/// the next one.
pub async fn cleanup(state: &AppState) -> Result<(), ServiceError> {
    let deleting: Vec<String> = sqlx::query("SELECT name FROM accounts WHERE state = 'deleting' ORDER BY name")
        .fetch_all(state.db.pool())
        .await?
        .iter()
        .map(|row| row.try_get("name"))
        .collect::<Result<_, _>>()?;
    if deleting.is_empty() {
        return Ok(());
    }
    let tables = account_tables(state).await?;
    for account in deleting {
        remove_account(state, &account, &tables).await?;
    }
    Ok(())
}

/// Tables whose rows belong to an account, found in the database catalog
/// rather than listed, so a table added later is covered too. `accounts`
/// holds the account itself, and `objstore_documents` is emptied through
/// the document store, which also deletes the bytes.
async fn account_tables(state: &AppState) -> Result<Vec<String>, ServiceError> {
    let sql = match state.db.backend() {
        Backend::Sqlite => {
            "SELECT m.name AS table_name FROM sqlite_master m, pragma_table_info(m.name) c
             WHERE m.type = 'table' AND c.name = 'account'"
        }
        Backend::Postgres => {
            "SELECT CAST(c.table_name AS TEXT) AS table_name FROM information_schema.columns c
             JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
             WHERE c.table_schema = current_schema() AND c.column_name = 'account' AND t.table_type = 'BASE TABLE'"
        }
    };
    let mut tables: Vec<String> = sqlx::query(sql)
        .fetch_all(state.db.pool())
        .await?
        .iter()
        .map(|row| row.try_get("table_name"))
        .collect::<Result<_, _>>()?;
    tables.retain(|table| !matches!(table.as_str(), "accounts" | "objstore_documents"));
    tables.sort();
    Ok(tables)
}

async fn remove_account(state: &AppState, account: &str, tables: &[String]) -> Result<(), ServiceError> {
    // An analysis still running would write documents after they are
    // removed: cancel what has not started and wait for the rest.
    sqlx::query(
        "UPDATE work_queue SET state = 'cancelled', lease_owner = NULL, lease_expires = NULL, updated_at = $1
         WHERE account = $2 AND state = 'queued'",
    )
    .bind(now_rfc3339())
    .bind(account)
    .execute(state.db.pool())
    .await?;
    let running: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM work_queue WHERE account = $1 AND state = 'leased' AND lease_expires >= $2",
    )
    .bind(account)
    .bind(epoch_seconds())
    .fetch_one(state.db.pool())
    .await?
    .try_get("n")?;
    if running > 0 {
        tracing::info!(%account, running, "account deletion waits for its running jobs");
        return Ok(());
    }
    let documents = state.docs.list(Some(account), None).await?;
    for document in &documents {
        state.docs.delete(account, &document.bucket, &document.key).await?;
    }
    let mut tx = state.db.pool().begin().await?;
    // Tokens name users, not accounts: remove them while the users are still there.
    sqlx::query("DELETE FROM api_tokens WHERE username IN (SELECT username FROM users WHERE account = $1)")
        .bind(account)
        .execute(&mut *tx)
        .await?;
    for table in tables {
        let quoted = format!("\"{}\"", table.replace('"', "\"\""));
        sqlx::query(AssertSqlSafe(format!("DELETE FROM {quoted} WHERE account = $1")))
            .bind(account)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM accounts WHERE name = $1 AND state = 'deleting'").bind(account).execute(&mut *tx).await?;
    tx.commit().await?;
    state.forget_logins();
    tracing::info!(%account, documents = documents.len(), tables = tables.len(), "account deleted");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_anchores_rule() {
        for good in ["abc", "team-a", "dev.ops@corp", "a1_b2", "x".repeat(128).as_str()] {
            assert!(validate_name("account name", good).is_ok(), "{good}");
        }
        let cases = [
            ("ab", "3 to 128 characters long, not 2"),
            ("-abc", "start and end with a letter or digit"),
            ("abc.", "start and end with a letter or digit"),
            ("a b c", "' ' is not allowed"),
            ("us:er", "':' is not allowed"),
            ("a/b/c", "'/' is not allowed"),
        ];
        for (bad, why) in cases {
            let err = validate_name("username", bad).unwrap_err();
            assert_eq!(err.status, axum::http::StatusCode::BAD_REQUEST);
            assert!(err.message.contains(why), "{bad}: {}", err.message);
        }
        assert!(validate_name("x", &"y".repeat(129)).unwrap_err().message.contains("not 129"));
    }

    #[test]
    fn passwords_and_emails() {
        assert!(validate_password("secret").is_ok());
        assert!(validate_password("short").unwrap_err().message.contains("not 5"));
        assert!(validate_password(&"p".repeat(129)).is_err());
        assert!(validate_email("ops@example.com").is_ok());
        for bad in ["ops", "@example.com", "ops@", "o ps@example.com"] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
    }
}
