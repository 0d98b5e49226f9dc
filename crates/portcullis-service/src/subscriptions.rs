//! Subscriptions: what an account watches (Anchore's `subscription` records).
//!
//! A subscription is unique per (account, type, key). Tag types are keyed by
//! a full tag (`registry/repo:tag`), `repo_update` by `registry/repo`. The
//! watchers in [`crate::watchers`] act on the active ones; notifications are
//! sent only for an active subscription of the notification's type and key.

use portcullis_api::{RepoSubscriptionValue, Subscription, SubscriptionType};
use portcullis_sql::now_rfc3339;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::ServiceError;
use crate::state::AppState;

/// The subscriptions Anchore creates for every tag added: only
/// `analysis_update` starts active (and `tag_update` with autosubscribe).
const TAG_TYPES: [SubscriptionType; 4] = [
    SubscriptionType::AnalysisUpdate,
    SubscriptionType::TagUpdate,
    SubscriptionType::PolicyEval,
    SubscriptionType::VulnUpdate,
];

/// Why a subscription could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum SubscriptionError {
    #[error("a {kind} subscription for {key:?} already exists")]
    Duplicate { kind: SubscriptionType, key: String },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<sqlx::Error> for SubscriptionError {
    fn from(error: sqlx::Error) -> Self {
        SubscriptionError::Service(error.into())
    }
}

/// Creates the four per-tag subscriptions of an added image, keeping the
/// ones that exist. With `autosubscribe` an existing inactive `tag_update`
/// is switched on (asking to watch a tag again means watching it); nothing
/// is ever switched off here.
pub async fn create_tag_subscriptions(
    state: &AppState,
    account: &str,
    fulltag: &str,
    autosubscribe: bool,
) -> Result<(), ServiceError> {
    let now = now_rfc3339();
    for kind in TAG_TYPES {
        let active = kind == SubscriptionType::AnalysisUpdate || (autosubscribe && kind == SubscriptionType::TagUpdate);
        insert_ignoring_duplicate(state, account, kind, fulltag, None, active, &now).await?;
        if active && kind == SubscriptionType::TagUpdate {
            sqlx::query(
                "UPDATE subscriptions SET active = 1, last_updated = $1
                 WHERE account = $2 AND subscription_type = $3 AND subscription_key = $4 AND active = 0",
            )
            .bind(&now)
            .bind(account)
            .bind(kind.as_str())
            .bind(fulltag)
            .execute(state.db.pool())
            .await?;
        }
    }
    Ok(())
}

async fn insert_ignoring_duplicate(
    state: &AppState,
    account: &str,
    kind: SubscriptionType,
    key: &str,
    value: Option<&str>,
    active: bool,
    now: &str,
) -> Result<bool, ServiceError> {
    let done = sqlx::query(
        "INSERT INTO subscriptions (id, account, subscription_type, subscription_key, subscription_value, active,
                                    created_at, last_updated)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT DO NOTHING",
    )
    .bind(new_id())
    .bind(account)
    .bind(kind.as_str())
    .bind(key)
    .bind(value)
    .bind(i64::from(active))
    .bind(now)
    .execute(state.db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Checks a key against its type: a full tag for tag types, `registry/repo`
/// (no tag, no digest) for `repo_update`.
pub fn validate_key(kind: SubscriptionType, key: &str) -> Result<(), SubscriptionError> {
    let invalid =
        |why: &str| Err(SubscriptionError::Invalid(format!("invalid subscription_key {key:?} for {kind}: {why}")));
    if key.is_empty() || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid("it must be non-empty and contain no whitespace");
    }
    let last = key.rsplit('/').next().unwrap_or(key);
    match kind {
        SubscriptionType::RepoUpdate if key.contains('@') || last.contains(':') => {
            invalid("expected registry/repository without a tag or digest")
        }
        SubscriptionType::RepoUpdate if !key.contains('/') => invalid("expected registry/repository"),
        SubscriptionType::RepoUpdate => Ok(()),
        _ if !key.contains('/') || !last.contains(':') || key.contains('@') => {
            invalid("expected a full tag, registry/repository:tag")
        }
        _ => Ok(()),
    }
}

/// Adds one subscription; a second one of the same type and key is refused.
pub async fn create(
    state: &AppState,
    account: &str,
    kind: SubscriptionType,
    key: &str,
    value: Option<&str>,
    active: bool,
) -> Result<Subscription, SubscriptionError> {
    validate_key(kind, key)?;
    if !insert_ignoring_duplicate(state, account, kind, key, value, active, &now_rfc3339()).await? {
        return Err(SubscriptionError::Duplicate { kind, key: key.to_owned() });
    }
    find(state, account, kind, key)
        .await?
        .ok_or_else(|| ServiceError::Other(format!("the {kind} subscription for {key} vanished after insert")).into())
}

/// The account's subscriptions, optionally of one key and/or type, ordered by key then type.
pub async fn list(
    state: &AppState,
    account: &str,
    key: Option<&str>,
    kind: Option<SubscriptionType>,
) -> Result<Vec<Subscription>, ServiceError> {
    let rows = sqlx::query(
        "SELECT id, account, subscription_type, subscription_key, subscription_value, active FROM subscriptions
         WHERE account = $1 AND ($2 IS NULL OR subscription_key = $2) AND ($3 IS NULL OR subscription_type = $3)
         ORDER BY subscription_key, subscription_type",
    )
    .bind(account)
    .bind(key)
    .bind(kind.map(SubscriptionType::as_str))
    .fetch_all(state.db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn get(state: &AppState, account: &str, id: &str) -> Result<Option<Subscription>, ServiceError> {
    let row = sqlx::query(
        "SELECT id, account, subscription_type, subscription_key, subscription_value, active FROM subscriptions
         WHERE account = $1 AND id = $2",
    )
    .bind(account)
    .bind(id)
    .fetch_optional(state.db.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The subscription of one type and key, if any.
pub async fn find(
    state: &AppState,
    account: &str,
    kind: SubscriptionType,
    key: &str,
) -> Result<Option<Subscription>, ServiceError> {
    Ok(list(state, account, Some(key), Some(kind)).await?.into_iter().next())
}

/// Whether a notification of this type and key may be sent.
pub async fn is_active(
    state: &AppState,
    account: &str,
    kind: SubscriptionType,
    key: &str,
) -> Result<bool, ServiceError> {
    Ok(find(state, account, kind, key).await?.is_some_and(|s| s.active))
}

/// Changes the active flag and/or the value; `None` leaves a field as it is.
/// Returns the updated record, `None` when there is no such subscription.
pub async fn update(
    state: &AppState,
    account: &str,
    id: &str,
    active: Option<bool>,
    value: Option<&str>,
) -> Result<Option<Subscription>, ServiceError> {
    sqlx::query(
        "UPDATE subscriptions SET active = COALESCE($1, active), subscription_value = COALESCE($2, subscription_value),
                                  last_updated = $3
         WHERE account = $4 AND id = $5",
    )
    .bind(active.map(i64::from))
    .bind(value)
    .bind(now_rfc3339())
    .bind(account)
    .bind(id)
    .execute(state.db.pool())
    .await?;
    get(state, account, id).await
}

/// Deletes one subscription; `false` when there was none.
pub async fn delete(state: &AppState, account: &str, id: &str) -> Result<bool, ServiceError> {
    let done = sqlx::query("DELETE FROM subscriptions WHERE account = $1 AND id = $2")
        .bind(account)
        .bind(id)
        .execute(state.db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Every active subscription of one type, across accounts (for the watchers),
/// ordered by account then key.
pub async fn active_of_type(state: &AppState, kind: SubscriptionType) -> Result<Vec<Subscription>, ServiceError> {
    let rows = sqlx::query(
        "SELECT s.id, s.account, s.subscription_type, s.subscription_key, s.subscription_value, s.active
         FROM subscriptions s JOIN accounts a ON a.name = s.account
         WHERE s.subscription_type = $1 AND s.active = 1 AND a.state = 'enabled'
         ORDER BY s.account, s.subscription_key",
    )
    .bind(kind.as_str())
    .fetch_all(state.db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

/// The value of a `repo_update` subscription, with Anchore's defaults for
/// missing or unreadable values.
pub fn repo_value(subscription: &Subscription) -> RepoSubscriptionValue {
    subscription.subscription_value.as_deref().and_then(|text| serde_json::from_str(text).ok()).unwrap_or_else(|| {
        RepoSubscriptionValue {
            autosubscribe: false,
            lookuptag: "latest".to_owned(),
            tagcount: 0,
            repotags: Vec::new(),
        }
    })
}

fn from_row(row: &AnyRow) -> Result<Subscription, ServiceError> {
    let kind: String = row.try_get("subscription_type")?;
    let subscription_type = SubscriptionType::parse(&kind)
        .ok_or_else(|| ServiceError::Other(format!("stored subscription has an unknown type {kind:?}")))?;
    Ok(Subscription {
        subscription_id: row.try_get("id")?,
        user_id: row.try_get("account")?,
        subscription_type,
        subscription_key: row.try_get("subscription_key")?,
        subscription_value: row.try_get("subscription_value")?,
        active: row.try_get::<i64, _>("active")? != 0,
    })
}
