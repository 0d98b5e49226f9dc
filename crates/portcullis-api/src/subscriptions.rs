//! Subscriptions (`/subscriptions`) and repository watches (`/repositories`).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// What a subscription watches. The key is a full tag for every type but
/// `repo_update`, whose key is `registry/repo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionType {
    /// Notify when the tag's policy evaluation result changes.
    PolicyEval,
    /// Re-analyze when the tag points at a new digest.
    TagUpdate,
    /// Notify when the tag's vulnerabilities change.
    VulnUpdate,
    /// Add every new tag of the repository.
    RepoUpdate,
    /// Notify when an analysis of the tag completes.
    AnalysisUpdate,
}

impl SubscriptionType {
    pub const ALL: [SubscriptionType; 5] = [
        SubscriptionType::PolicyEval,
        SubscriptionType::TagUpdate,
        SubscriptionType::VulnUpdate,
        SubscriptionType::RepoUpdate,
        SubscriptionType::AnalysisUpdate,
    ];

    /// Anchore's name (`tag_update`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionType::PolicyEval => "policy_eval",
            SubscriptionType::TagUpdate => "tag_update",
            SubscriptionType::VulnUpdate => "vuln_update",
            SubscriptionType::RepoUpdate => "repo_update",
            SubscriptionType::AnalysisUpdate => "analysis_update",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

impl std::fmt::Display for SubscriptionType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Anchore's `Subscription`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Subscription {
    pub subscription_id: String,
    #[serde(rename = "userId")]
    pub user_id: String,
    pub subscription_type: SubscriptionType,
    pub subscription_key: String,
    /// A JSON document as a string (see [`RepoSubscriptionValue`]), or `null`.
    #[serde(default)]
    pub subscription_value: Option<String>,
    pub active: bool,
}

/// Body of `POST /subscriptions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubscriptionRequest {
    pub subscription_type: SubscriptionType,
    pub subscription_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_value: Option<String>,
    /// Anchore creates subscriptions active unless told otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// Body of `PUT /subscriptions/{id}`. `anchore-cli` also sends the key and
/// type, which must match the stored ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubscriptionUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_type: Option<SubscriptionType>,
}

/// Query string of `GET /subscriptions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubscriptionQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_type: Option<SubscriptionType>,
}

/// The `subscription_value` of a `repo_update` subscription, as JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RepoSubscriptionValue {
    /// Whether tags added from the repository get an active `tag_update`.
    pub autosubscribe: bool,
    /// Always `latest` (Anchore ignores the client's choice).
    pub lookuptag: String,
    /// How many tags the repository had at the last scan.
    pub tagcount: u64,
    /// The tags seen at the last scan (Anchore keeps them in the value too);
    /// the watcher adds the tags not in this list.
    #[serde(default)]
    pub repotags: Vec<String>,
}

/// Query string of `POST /repositories`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RepositoryQuery {
    /// `registry/repo`.
    pub repository: String,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::query_bool::option")]
    pub autosubscribe: Option<bool>,
    /// List the tags without adding anything.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::query_bool::option")]
    pub dryrun: Option<bool>,
    /// Ignored, as in Anchore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookuptag: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn type_names() {
        for kind in SubscriptionType::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
            assert_eq!(SubscriptionType::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn repository_query_reads_python_booleans() {
        let query: RepositoryQuery = serde_json::from_value(
            json!({"repository":"docker.io/library/alpine","autosubscribe":"False","dryrun":"True"}),
        )
        .unwrap();
        assert_eq!((query.autosubscribe, query.dryrun), (Some(false), Some(true)));
    }
}
