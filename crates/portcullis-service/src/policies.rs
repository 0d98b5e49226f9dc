//! Policy bundles per account (Anchore's `/policies`): metadata rows in
//! `policy_bundles`, the bundle documents in the `policy_bundles` bucket
//! keyed by policy id.
//!
//! Every account has exactly one active bundle once it has any. An account
//! that has none gets Portcullis' default bundle, active, the first time one
//! is needed ([`ensure_default`]), so new accounts need no set-up step and
//! no account can be left without a bundle to evaluate with.

use chrono::{DateTime, Utc};
use portcullis_api::PolicyBundleRecord;
use portcullis_policy::bundle::BundleError;
use portcullis_policy::model::Bundle;
use portcullis_policy::spec::{GateState, ParamSpec, ParamType};
use portcullis_sql::now_rfc3339;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{ApiError, ServiceError};
use crate::state::{AppState, bucket};

/// The bundle every account starts with: Anchore's default rules.
pub const DEFAULT_BUNDLE: &str = include_str!("../../portcullis-policy/bundles/default.json");

/// `policy_source` of bundles uploaded through the API (and of the default).
const LOCAL_SOURCE: &str = "local";

/// Longest bundle id accepted; ids are path segments and object keys.
const MAX_ID_LENGTH: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("policy bundle {0:?} not found")]
    NotFound(String),
    /// The document is not a valid bundle; `issues` are the located problems.
    #[error("{message}")]
    Invalid { message: String, issues: Vec<String> },
    #[error("policy bundle {0:?} is the active bundle and cannot be deactivated: activate another bundle instead")]
    DeactivateActive(String),
    #[error("policy bundle {0:?} is the active bundle and cannot be deleted: activate another bundle first")]
    DeleteActive(String),
    #[error("stored policy bundle {id:?} no longer loads: {reason}")]
    Stored { id: String, reason: String },
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<sqlx::Error> for PolicyError {
    fn from(error: sqlx::Error) -> Self {
        PolicyError::Service(error.into())
    }
}

impl From<portcullis_objstore::ObjectStoreError> for PolicyError {
    fn from(error: portcullis_objstore::ObjectStoreError) -> Self {
        PolicyError::Service(error.into())
    }
}

impl From<PolicyError> for ApiError {
    fn from(error: PolicyError) -> Self {
        match error {
            PolicyError::NotFound(_) => ApiError::not_found(error.to_string()),
            PolicyError::Invalid { ref issues, .. } => {
                let detail = json!({ "validation_details": issues });
                ApiError::bad_request(error.to_string()).with_detail(detail)
            }
            PolicyError::DeactivateActive(_) | PolicyError::DeleteActive(_) => ApiError::conflict(error.to_string()),
            PolicyError::Stored { .. } => ServiceError::Other(error.to_string()).into(),
            PolicyError::Service(error) => error.into(),
        }
    }
}

/// A bundle document accepted for storage: as JSON, and loaded.
#[derive(Debug, Clone)]
pub struct ValidBundle {
    pub document: serde_json::Value,
    pub bundle: Bundle,
}

/// Validates a bundle document (JSON or YAML, either naming) as `POST
/// /policies` receives it; end-of-life gates are rejected.
pub fn validate(bytes: &[u8]) -> Result<ValidBundle, PolicyError> {
    let bundle = portcullis_policy::bundle::load(bytes).map_err(invalid)?;
    check_id(&bundle.id)?;
    // The document is stored and served as JSON whatever it was written in.
    let document = match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(document) => document,
        Err(_) => serde_norway::from_slice::<serde_json::Value>(bytes).map_err(|error| PolicyError::Invalid {
            message: format!("the policy bundle cannot be represented as JSON: {error}"),
            issues: Vec::new(),
        })?,
    };
    Ok(ValidBundle { document, bundle })
}

fn invalid(error: BundleError) -> PolicyError {
    let issues = error.issues().iter().map(ToString::to_string).collect();
    PolicyError::Invalid { message: error.to_string(), issues }
}

fn check_id(id: &str) -> Result<(), PolicyError> {
    let reason = if id.is_empty() {
        Some("is empty")
    } else if id.len() > MAX_ID_LENGTH {
        Some("is longer than 256 bytes")
    } else if id.contains('/') || id.chars().any(char::is_control) {
        Some("contains '/' or a control character (bundle ids are URL path segments)")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(PolicyError::Invalid {
            message: format!("the bundle id {id:?} {reason}"),
            issues: vec![format!("bundle: id {reason}")],
        }),
        None => Ok(()),
    }
}

/// Installs the default bundle, active, when the account has no bundle at all.
pub async fn ensure_default(state: &AppState, account: &str) -> Result<(), PolicyError> {
    let any = sqlx::query("SELECT policy_id FROM policy_bundles WHERE account = $1 LIMIT 1")
        .bind(account)
        .fetch_optional(state.db.pool())
        .await?;
    if any.is_some() {
        return Ok(());
    }
    let default = validate(DEFAULT_BUNDLE.as_bytes())
        .map_err(|error| PolicyError::Stored { id: "(built-in default)".into(), reason: error.to_string() })?;
    state.docs.put_json(account, bucket::POLICY_BUNDLES, &default.bundle.id, &default.document).await?;
    // Two first requests may race: the primary key and the one-active index
    // make the loser's insert a no-op.
    let now = now_rfc3339();
    sqlx::query(
        "INSERT INTO policy_bundles (account, policy_id, name, comment, active, policy_source, created_at, created_seq,
                                     last_updated)
         VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $6) ON CONFLICT DO NOTHING",
    )
    .bind(account)
    .bind(&default.bundle.id)
    .bind(&default.bundle.name)
    .bind(&default.bundle.comment)
    .bind(LOCAL_SOURCE)
    .bind(&now)
    .bind(Utc::now().timestamp_micros())
    .execute(state.db.pool())
    .await?;
    tracing::info!(account, policy_id = %default.bundle.id, "installed the default policy bundle");
    Ok(())
}

/// Stores a validated bundle. A new id is added inactive; an existing id
/// has its document replaced and keeps its active flag (re-adding an edited
/// bundle is how Anchore users update one).
pub async fn add(state: &AppState, account: &str, bundle: &ValidBundle) -> Result<PolicyBundleRecord, PolicyError> {
    ensure_default(state, account).await?;
    let id = &bundle.bundle.id;
    state.docs.put_json(account, bucket::POLICY_BUNDLES, id, &bundle.document).await?;
    let now = now_rfc3339();
    sqlx::query(
        "INSERT INTO policy_bundles (account, policy_id, name, comment, active, policy_source, created_at, created_seq,
                                     last_updated)
         VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $6)
         ON CONFLICT (account, policy_id) DO UPDATE SET name = $3, comment = $4, last_updated = $6",
    )
    .bind(account)
    .bind(id)
    .bind(&bundle.bundle.name)
    .bind(&bundle.bundle.comment)
    .bind(LOCAL_SOURCE)
    .bind(&now)
    .bind(Utc::now().timestamp_micros())
    .execute(state.db.pool())
    .await?;
    tracing::info!(account, policy_id = %id, "stored a policy bundle");
    get(state, account, id).await
}

/// Every bundle of the account, the active one first, then oldest first.
pub async fn list(state: &AppState, account: &str) -> Result<Vec<PolicyBundleRecord>, PolicyError> {
    ensure_default(state, account).await?;
    let rows =
        sqlx::query("SELECT * FROM policy_bundles WHERE account = $1 ORDER BY active DESC, created_seq, policy_id")
            .bind(account)
            .fetch_all(state.db.pool())
            .await?;
    rows.iter().map(record).collect()
}

pub async fn get(state: &AppState, account: &str, id: &str) -> Result<PolicyBundleRecord, PolicyError> {
    ensure_default(state, account).await?;
    let row = sqlx::query("SELECT * FROM policy_bundles WHERE account = $1 AND policy_id = $2")
        .bind(account)
        .bind(id)
        .fetch_optional(state.db.pool())
        .await?
        .ok_or_else(|| PolicyError::NotFound(id.to_owned()))?;
    record(&row)
}

/// The bundle document of a record (for `?detail=true`).
pub async fn with_document(
    state: &AppState,
    mut record: PolicyBundleRecord,
) -> Result<PolicyBundleRecord, PolicyError> {
    record.policybundle = Some(document(state, &record.user_id, &record.policy_id).await?);
    Ok(record)
}

/// The stored bundle document.
pub async fn document(state: &AppState, account: &str, id: &str) -> Result<serde_json::Value, PolicyError> {
    state
        .docs
        .get_json(account, bucket::POLICY_BUNDLES, id)
        .await?
        .ok_or_else(|| PolicyError::Stored { id: id.to_owned(), reason: "its document is missing".into() })
}

/// The bundle an evaluation uses: `policy_id`, or the active one.
pub async fn for_evaluation(
    state: &AppState,
    account: &str,
    policy_id: Option<&str>,
) -> Result<ValidBundle, PolicyError> {
    ensure_default(state, account).await?;
    let id = match policy_id {
        Some(id) => get(state, account, id).await?.policy_id,
        None => sqlx::query("SELECT policy_id FROM policy_bundles WHERE account = $1 AND active = 1")
            .bind(account)
            .fetch_optional(state.db.pool())
            .await?
            .map(|row| row.try_get::<String, _>("policy_id"))
            .transpose()?
            .ok_or_else(|| PolicyError::NotFound("(the active bundle)".into()))?,
    };
    let document = document(state, account, &id).await?;
    let bytes = serde_json::to_vec(&document)
        .map_err(|source| ServiceError::Corrupt { what: format!("policy bundle {id}"), source })?;
    // Validated when stored; loading again can only fail if the gate table
    // changed since (e.g. a gate reached end of life in this version).
    let bundle = portcullis_policy::bundle::load(&bytes)
        .map_err(|error| PolicyError::Stored { id: id.clone(), reason: error.to_string() })?;
    Ok(ValidBundle { document, bundle })
}

/// What `PUT /policies/{id}` may change.
#[derive(Debug, Clone, Default)]
pub struct Update {
    /// `Some(true)` activates the bundle (deactivating the account's other
    /// bundles); `Some(false)` is refused for the active bundle.
    pub active: Option<bool>,
    /// A replacement document (its id must be the bundle's).
    pub bundle: Option<ValidBundle>,
}

pub async fn update(
    state: &AppState,
    account: &str,
    id: &str,
    update: Update,
) -> Result<PolicyBundleRecord, PolicyError> {
    let current = get(state, account, id).await?;
    if update.active == Some(false) && current.active {
        return Err(PolicyError::DeactivateActive(id.to_owned()));
    }
    if let Some(bundle) = &update.bundle {
        if bundle.bundle.id != id {
            return Err(PolicyError::Invalid {
                message: format!(
                    "the bundle's id {:?} differs from the policy id {id:?} in the path",
                    bundle.bundle.id
                ),
                issues: vec![format!("bundle: id {:?} is not {id:?}", bundle.bundle.id)],
            });
        }
        state.docs.put_json(account, bucket::POLICY_BUNDLES, id, &bundle.document).await?;
    }
    let now = now_rfc3339();
    let mut tx = state.db.pool().begin().await?;
    if let Some(bundle) = &update.bundle {
        sqlx::query(
            "UPDATE policy_bundles SET name = $1, comment = $2, last_updated = $3 WHERE account = $4 AND policy_id = $5",
        )
        .bind(&bundle.bundle.name)
        .bind(&bundle.bundle.comment)
        .bind(&now)
        .bind(account)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    if update.active == Some(true) && !current.active {
        // Deactivate first: the one-active index is checked per statement.
        sqlx::query("UPDATE policy_bundles SET active = 0, last_updated = $1 WHERE account = $2 AND active = 1")
            .bind(&now)
            .bind(account)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE policy_bundles SET active = 1, last_updated = $1 WHERE account = $2 AND policy_id = $3")
            .bind(&now)
            .bind(account)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tracing::info!(account, policy_id = id, "activated a policy bundle");
    }
    tx.commit().await?;
    get(state, account, id).await
}

/// Deletes an inactive bundle and its document.
pub async fn delete(state: &AppState, account: &str, id: &str) -> Result<(), PolicyError> {
    let current = get(state, account, id).await?;
    if current.active {
        return Err(PolicyError::DeleteActive(id.to_owned()));
    }
    // The condition on `active` closes the race with a concurrent activation.
    let deleted = sqlx::query("DELETE FROM policy_bundles WHERE account = $1 AND policy_id = $2 AND active = 0")
        .bind(account)
        .bind(id)
        .execute(state.db.pool())
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(PolicyError::DeleteActive(id.to_owned()));
    }
    state.docs.delete(account, bucket::POLICY_BUNDLES, id).await?;
    tracing::info!(account, policy_id = id, "deleted a policy bundle");
    Ok(())
}

fn record(row: &AnyRow) -> Result<PolicyBundleRecord, PolicyError> {
    let active: i64 = row.try_get("active")?;
    Ok(PolicyBundleRecord {
        policy_id: row.try_get("policy_id")?,
        active: active == 1,
        user_id: row.try_get("account")?,
        name: row.try_get("name")?,
        comment: row.try_get("comment")?,
        policy_source: row.try_get("policy_source")?,
        policybundle: None,
        created_at: timestamp(row, "created_at")?,
        last_updated: timestamp(row, "last_updated")?,
    })
}

fn timestamp(row: &AnyRow, column: &str) -> Result<DateTime<Utc>, PolicyError> {
    let text: String = row.try_get(column)?;
    Ok(crate::schema::stored_time(&text)?)
}

/// The gate table in Anchore's `GET /system/policy_spec` shape. Portcullis'
/// table has no prose per parameter: descriptions and validators are
/// derived from each parameter's type, aliases and default.
pub fn spec() -> Vec<portcullis_api::GateSpec> {
    portcullis_policy::spec::all_gates()
        .iter()
        .map(|gate| {
            let (state, superceded_by) = match gate.state {
                GateState::Active => ("active", None),
                GateState::EndOfLife { replacement } => ("eol", replacement.map(str::to_owned)),
            };
            portcullis_api::GateSpec {
                name: gate.name.to_owned(),
                description: gate.description.to_owned(),
                state: state.to_owned(),
                superceded_by,
                triggers: gate
                    .triggers
                    .iter()
                    .map(|trigger| portcullis_api::TriggerSpec {
                        name: trigger.name.to_owned(),
                        description: trigger.description.to_owned(),
                        state: "active".to_owned(),
                        superceded_by: None,
                        parameters: trigger.params.iter().map(param_spec).collect(),
                    })
                    .collect(),
            }
        })
        .collect()
}

const COMPARISONS: [&str; 6] = ["=", "!=", "<", ">", "<=", ">="];

fn param_spec(param: &ParamSpec) -> portcullis_api::TriggerParamSpec {
    let (what, validator) = match param.kind {
        ParamType::Str => ("A string".to_owned(), json!({"type": "string"})),
        ParamType::Regex => ("A regular expression".to_owned(), json!({"type": "string", "format": "regex"})),
        ParamType::Enum(values) => {
            (format!("One of: {}", values.join(", ")), json!({"type": "string", "enum": values}))
        }
        ParamType::Csv => ("A comma-separated list".to_owned(), json!({"type": "string"})),
        ParamType::CsvInt => (
            "A comma-separated list of integers".to_owned(),
            json!({"type": "string", "pattern": "^\\s*-?\\d+(\\s*,\\s*-?\\d+)*\\s*$"}),
        ),
        ParamType::Bool => ("true or false".to_owned(), json!({"type": "string", "enum": ["true", "false"]})),
        ParamType::Int => ("An integer".to_owned(), json!({"type": "string", "pattern": "^\\s*-?\\d+\\s*$"})),
        ParamType::Float => {
            ("A number".to_owned(), json!({"type": "string", "pattern": "^\\s*-?(\\d+(\\.\\d*)?|\\.\\d+)\\s*$"}))
        }
        ParamType::Cmp => (
            format!("A comparison operator: {}", COMPARISONS.join(" ")),
            json!({"type": "string", "enum": COMPARISONS}),
        ),
        ParamType::Mode => {
            ("An octal file mode such as 00644".to_owned(), json!({"type": "string", "pattern": "^[0-7]{1,6}$"}))
        }
    };
    let mut description = what;
    if !param.aliases.is_empty() {
        description.push_str(&format!(" (also accepted as {})", param.aliases.join(", ")));
    }
    if let Some(default) = param.default {
        description.push_str(&format!(". Default: {default}"));
    }
    portcullis_api::TriggerParamSpec {
        name: param.name.to_owned(),
        description,
        required: param.required,
        example: param.default.map(str::to_owned),
        state: "active".to_owned(),
        superceded_by: None,
        validator,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_bundle_validates() {
        let default = validate(DEFAULT_BUNDLE.as_bytes()).unwrap();
        assert_eq!(default.bundle.id, default.document["id"]);
    }

    #[test]
    fn yaml_is_stored_as_json() {
        let yaml = b"id: y1\nversion: V2\nname: yaml bundle\nrule_sets: []\nallowlists: []\nmappings: []\n";
        let valid = validate(yaml).unwrap();
        assert_eq!(valid.document["id"], "y1");
        assert_eq!(valid.document["version"], "V2");
    }

    #[test]
    fn ids_that_cannot_be_path_segments_are_refused() {
        let bundle = br#"{"id":"a/b","version":"1_0","policies":[],"whitelists":[],"mappings":[]}"#;
        let error = validate(bundle).unwrap_err();
        assert!(error.to_string().contains("contains '/'"), "{error}");
    }
}
