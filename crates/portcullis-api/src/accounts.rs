//! Accounts, users and credentials (`/accounts`, `/account`, `/user`, `/oauth/token`).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use chrono::{DateTime, Utc};

/// Anchore's `Account`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Account {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: AccountType,
    pub state: AccountState,
    #[serde(default)]
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountType {
    User,
    Admin,
    Service,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountState {
    Enabled,
    Disabled,
    /// Disabled and waiting for its resources to be removed.
    Deleting,
}

impl AccountState {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountState::Enabled => "enabled",
            AccountState::Disabled => "disabled",
            AccountState::Deleting => "deleting",
        }
    }
}

/// Body of `POST /accounts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountCreationRequest {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Body and response of `PUT /accounts/{name}/state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccountStatus {
    pub state: AccountState,
}

/// Query string of `GET /accounts`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountsQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<AccountState>,
}

/// Anchore's `User`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub username: String,
    #[serde(rename = "type")]
    pub kind: UserType,
    /// Where an external user came from; `null` for the others.
    #[serde(default)]
    pub source: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserType {
    /// Logs in with a password.
    Native,
    /// Service-to-service.
    Internal,
    /// Authenticated elsewhere.
    External,
}

/// Body of `POST /accounts/{name}/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserCreationRequest {
    pub username: String,
    /// 6 to 128 characters.
    pub password: String,
}

/// Anchore's `AccessCredential` (body of the credential routes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccessCredential {
    /// Always `password`.
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
}

impl AccessCredential {
    /// A password credential.
    pub fn password(value: impl Into<String>) -> Self {
        AccessCredential { kind: "password".to_owned(), value: value.into(), created_at: None }
    }
}

/// Response of `POST /oauth/token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// Sent back as `Authorization: Bearer <token>`.
    pub token: String,
    /// Anchore's OAuth extras; omitted when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn account_type_is_named_type() {
        let account: Account = serde_json::from_value(json!({
            "name":"admin","type":"admin","state":"enabled","email":null,
            "created_at":"2024-01-02T03:04:05Z","last_updated":"2024-01-02T03:04:05Z"}))
        .unwrap();
        assert_eq!((account.kind, account.state), (AccountType::Admin, AccountState::Enabled));
        assert_eq!(
            serde_json::to_value(AccessCredential::password("s3cret!")).unwrap(),
            json!({"type":"password","value":"s3cret!"})
        );
    }
}
