//! Registry credentials (`/registries`): stored per account with the
//! password encrypted by [`crate::crypto::Cipher`], and chosen for an image
//! by Anchore's longest-match rule.

use portcullis_api::RegistryConfiguration;
use portcullis_image::source::{Credentials, RegistryOptions};
use portcullis_sql::now_rfc3339;
use sqlx::Row;

use crate::error::ServiceError;
use crate::state::AppState;

/// The registry types Anchore knows; only `docker_v2` is supported here.
pub const DOCKER_V2: &str = "docker_v2";

/// Credentials chosen for one image pull.
#[derive(Clone)]
pub struct RegistryAccess {
    /// The stored record's key (`host[:port]`, `host/repo`, `host/prefix*`).
    pub registry: String,
    pub username: String,
    pub password: String,
    /// `false` (`anchore-cli registry add --insecure`): plain HTTP is allowed.
    pub verify: bool,
}

impl std::fmt::Debug for RegistryAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryAccess")
            .field("registry", &self.registry)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("verify", &self.verify)
            .finish()
    }
}

/// A registry record as stored, the password still encrypted.
#[derive(Debug, Clone)]
pub struct StoredRegistry {
    pub account: String,
    pub registry: String,
    pub registry_name: Option<String>,
    pub registry_user: String,
    pub registry_pass: String,
    pub registry_type: String,
    pub registry_verify: bool,
    pub created_at: String,
    pub last_updated: String,
}

impl StoredRegistry {
    pub fn to_api(&self) -> Result<RegistryConfiguration, ServiceError> {
        Ok(RegistryConfiguration {
            registry: self.registry.clone(),
            registry_name: self.registry_name.clone(),
            registry_user: self.registry_user.clone(),
            registry_type: self.registry_type.clone(),
            registry_verify: self.registry_verify,
            user_id: self.account.clone(),
            created_at: crate::schema::stored_time(&self.created_at)?,
            last_updated: crate::schema::stored_time(&self.last_updated)?,
        })
    }
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<StoredRegistry, ServiceError> {
    Ok(StoredRegistry {
        account: row.try_get("account")?,
        registry: row.try_get("registry")?,
        registry_name: row.try_get("registry_name")?,
        registry_user: row.try_get("registry_user")?,
        registry_pass: row.try_get("registry_pass")?,
        registry_type: row.try_get("registry_type")?,
        registry_verify: row.try_get::<i64, _>("registry_verify")? != 0,
        created_at: row.try_get("created_at")?,
        last_updated: row.try_get("last_updated")?,
    })
}

const COLUMNS: &str = "account, registry, registry_name, registry_user, registry_pass, registry_type, registry_verify, \
                       created_at, last_updated";

pub async fn list(state: &AppState, account: &str) -> Result<Vec<StoredRegistry>, ServiceError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM registries WHERE account = $1 ORDER BY registry"
    )))
    .bind(account)
    .fetch_all(state.db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn get(state: &AppState, account: &str, registry: &str) -> Result<Option<StoredRegistry>, ServiceError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM registries WHERE account = $1 AND registry = $2"
    )))
    .bind(account)
    .bind(registry)
    .fetch_optional(state.db.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// What a caller asks to store.
#[derive(Debug, Clone)]
pub struct NewRegistry<'a> {
    pub registry: &'a str,
    pub registry_name: Option<&'a str>,
    pub user: &'a str,
    pub password: &'a str,
    pub registry_type: &'a str,
    pub verify: bool,
}

/// Inserts (`replace = false`, `false` when the record exists) or replaces
/// (`replace = true`, `false` when it does not exist) a record.
pub async fn save(state: &AppState, account: &str, new: &NewRegistry<'_>, replace: bool) -> Result<bool, ServiceError> {
    let encrypted = state.cipher.encrypt(new.password)?;
    // Both statements take the record's columns in one order, so one bind list serves.
    let sql = if replace {
        "UPDATE registries SET registry_name = $3, registry_user = $4, registry_pass = $5, registry_type = $6,
                registry_verify = $7, last_updated = $8
         WHERE account = $1 AND registry = $2"
    } else {
        "INSERT INTO registries (account, registry, registry_name, registry_user, registry_pass, registry_type,
                                 registry_verify, created_at, last_updated)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT DO NOTHING"
    };
    let done = sqlx::query(sql)
        .bind(account)
        .bind(new.registry)
        .bind(new.registry_name)
        .bind(new.user)
        .bind(&encrypted)
        .bind(new.registry_type)
        .bind(i64::from(new.verify))
        .bind(now_rfc3339())
        .execute(state.db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(state: &AppState, account: &str, registry: &str) -> Result<bool, ServiceError> {
    let done = sqlx::query("DELETE FROM registries WHERE account = $1 AND registry = $2")
        .bind(account)
        .bind(registry)
        .execute(state.db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether a stored `pattern` covers `host_and_repo` (`host[:port]/repo`):
/// the exact registry, the exact `registry/repo`, or a prefix ending in `*`.
fn covers(pattern: &str, host_and_repo: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix('*') {
        return host_and_repo.starts_with(prefix);
    }
    let host = host_and_repo.split('/').next().unwrap_or(host_and_repo);
    pattern == host || pattern == host_and_repo
}

/// The credentials for `registry_host_and_repo` (`host[:port]/repo`): of the
/// account's records that cover it, the longest `registry` string wins, as
/// in Anchore.
pub async fn credentials_for(
    state: &AppState,
    account: &str,
    registry_host_and_repo: &str,
) -> Result<Option<RegistryAccess>, ServiceError> {
    let records = list(state, account).await?;
    let Some(best) = records
        .iter()
        .filter(|record| covers(&record.registry, registry_host_and_repo))
        .max_by_key(|record| record.registry.len())
    else {
        return Ok(None);
    };
    Ok(Some(RegistryAccess {
        registry: best.registry.clone(),
        username: best.registry_user.clone(),
        password: state.cipher.decrypt(&best.registry_pass)?,
        verify: best.registry_verify,
    }))
}

/// Pull options for `host` with `access` (if any): plain HTTP when the
/// record says `registry_verify: false` or the host is configured insecure.
pub fn registry_options(state: &AppState, host: &str, access: Option<&RegistryAccess>) -> RegistryOptions {
    let mut insecure_registries = state.config.analyzer.insecure_registries.clone();
    if access.is_some_and(|a| !a.verify) {
        insecure_registries.push(host.to_owned());
    }
    RegistryOptions {
        insecure_registries,
        credentials: access.map(|a| Credentials { username: a.username.clone(), password: a.password.clone() }),
        docker_config: None,
    }
}

/// The `host[:port]` part of a registry record key.
pub fn record_host(registry: &str) -> &str {
    registry.trim_end_matches('*').split('/').next().unwrap_or(registry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_rules() {
        assert!(covers("reg:5000", "reg:5000/team/app"));
        assert!(covers("reg:5000/team/app", "reg:5000/team/app"));
        assert!(!covers("reg:5000/team", "reg:5000/team/app"));
        assert!(covers("reg:5000/team/*", "reg:5000/team/app"));
        assert!(covers("reg:5000/te*", "reg:5000/team/app"));
        assert!(!covers("reg:5001", "reg:5000/team/app"));
        assert!(!covers("reg:50", "reg:5000/team/app"));
        assert_eq!(record_host("reg:5000/team/*"), "reg:5000");
    }
}
