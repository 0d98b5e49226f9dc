//! Policy bundles (`/policies`) and policy evaluation (`GET /images/{digest}/check`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use chrono::{DateTime, Utc};

/// Anchore's `PolicyBundleRecord`: a stored bundle and its bookkeeping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PolicyBundleRecord {
    /// The bundle's `id`.
    #[serde(rename = "policyId")]
    pub policy_id: String,
    /// The one bundle evaluations use by default (one per account).
    pub active: bool,
    /// The owning account.
    #[serde(rename = "userId")]
    pub user_id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    /// Where the bundle came from: `local` (uploaded) or a hub name.
    pub policy_source: String,
    /// The bundle document; only with `?detail=true`, and in `PUT` bodies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policybundle: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
}

/// Query string of the policy routes (`detail`) and of `PUT /policies/{id}` (`active`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PolicyQuery {
    /// Include the bundle document.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::query_bool::option")]
    pub detail: Option<bool>,
    /// Mark the bundle active (`PUT` only).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::query_bool::option")]
    pub active: Option<bool>,
}

/// Query string of `GET /images/{digest}/check`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PolicyCheckQuery {
    /// The full tag to evaluate the image as (required).
    pub tag: String,
    /// Evaluate with this bundle instead of the active one.
    #[serde(rename = "policyId", default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    /// Include the evaluation document and the bundle.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::query_bool::option")]
    pub detail: Option<bool>,
    /// Return earlier stored evaluations as well.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::query_bool::option")]
    pub history: Option<bool>,
    /// Evaluate without storing the result.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::query_bool::option")]
    pub interactive: Option<bool>,
    /// The analysed image this one was built from (a Portcullis extension):
    /// the leading layers the two share are the base image's, which the
    /// `vulnerabilities` and `packages` gates can tell apart. Without it,
    /// the image's `org.opencontainers.image.base.digest` or
    /// `.base.name` label names the base when that image is in the catalog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_digest: Option<String>,
}

/// One element of the check response list: image digest → full tag →
/// evaluations, newest first. The route returns `Vec<PolicyCheckResult>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct PolicyCheckResult(pub BTreeMap<String, BTreeMap<String, Vec<PolicyEvaluationRecord>>>);

impl PolicyCheckResult {
    /// The newest evaluation of the first (digest, tag) pair, which is what
    /// `anchore-cli` bases its exit code on.
    pub fn first(&self) -> Option<&PolicyEvaluationRecord> {
        self.0.values().next()?.values().next()?.first()
    }
}

/// One evaluation of an image as a tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PolicyEvaluationRecord {
    /// `pass` or `fail`.
    pub status: String,
    /// The bundle evaluated.
    #[serde(rename = "policyId")]
    pub policy_id: String,
    pub last_evaluation: DateTime<Utc>,
    /// Only with `?detail=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<PolicyEvaluationDetail>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PolicyEvaluationDetail {
    pub result: PolicyEvaluation,
    /// The bundle document evaluated.
    pub policy: serde_json::Value,
}

/// Anchore's stored evaluation document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PolicyEvaluation {
    pub user_id: String,
    /// Docker's image id (the config digest's hex).
    pub image_id: String,
    pub image_digest: String,
    pub tag: String,
    pub bundle: serde_json::Value,
    /// The mapping rule that applied, or `false`.
    pub matched_mapping_rule: serde_json::Value,
    /// The allowlisted-image rule that matched, or `false`.
    pub matched_whitelisted_images_rule: serde_json::Value,
    /// The denylisted-image rule that matched, or `false`.
    pub matched_blacklisted_images_rule: serde_json::Value,
    /// `stop`, `warn` or `go`, after image allow- and denylists.
    pub final_action: String,
    /// `policy_evaluation`, `whitelisted` or `blacklisted`.
    pub final_action_reason: String,
    #[serde(default)]
    pub evaluation_problems: Vec<serde_json::Value>,
    /// `pass` or `fail`.
    pub status: String,
    /// Seconds since the epoch.
    pub created_at: i64,
    pub last_modified: i64,
    pub result: PolicyEvaluationResults,
}

/// The `result` of an evaluation: one [`ImageGateResult`] keyed by image id,
/// beside the bookkeeping lists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PolicyEvaluationResults {
    #[serde(flatten)]
    #[schema(value_type = BTreeMap<String, ImageGateResult>)]
    pub images: BTreeMap<String, ImageGateResult>,
    #[serde(default)]
    pub policy_data: Vec<serde_json::Value>,
    #[serde(default)]
    pub whitelist_data: Vec<serde_json::Value>,
    #[serde(default)]
    pub policy_name: String,
    #[serde(default)]
    pub whitelist_names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImageGateResult {
    pub result: GateTable,
}

/// The gate results as a table. `header` is [`GateTable::HEADER`]; each row
/// has one cell per column; `Whitelisted` is `false` or the matching
/// allowlist item (`{whitelist_name, whitelist_id, matched_rule_id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GateTable {
    pub header: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
    pub row_count: u64,
    /// The policy-only action, before image allow- and denylists.
    pub final_action: String,
}

impl GateTable {
    /// Anchore's column names, in order.
    pub const HEADER: [&'static str; 9] = [
        "Image_Id",
        "Repo_Tag",
        "Trigger_Id",
        "Gate",
        "Trigger",
        "Check_Output",
        "Gate_Action",
        "Whitelisted",
        "Policy_Id",
    ];
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check_json() -> serde_json::Value {
        json!([{"sha256:ab": {"docker.io/library/nginx:1.25": [{
            "status": "fail", "policyId": "p1", "last_evaluation": "2024-01-02T03:04:05Z",
            "detail": {"policy": {"id": "p1"}, "result": {
                "user_id": "admin", "image_id": "c0ffee", "image_digest": "sha256:ab",
                "tag": "docker.io/library/nginx:1.25", "bundle": {"id": "p1"},
                "matched_mapping_rule": {"name": "default"}, "matched_whitelisted_images_rule": false,
                "matched_blacklisted_images_rule": false, "final_action": "stop",
                "final_action_reason": "policy_evaluation", "evaluation_problems": [], "status": "fail",
                "created_at": 1700000000, "last_modified": 1700000000,
                "result": {"c0ffee": {"result": {"header": GateTable::HEADER, "rows": [[
                    "c0ffee", "docker.io/library/nginx:1.25", "CVE-1+openssl", "vulnerabilities", "package",
                    "HIGH Vulnerability found", "stop", false, "p1"]], "row_count": 1, "final_action": "stop"}},
                    "policy_data": [], "whitelist_data": [], "policy_name": "", "whitelist_names": []}}}}]}}])
    }

    #[test]
    fn check_response_round_trips() {
        let parsed: Vec<PolicyCheckResult> = serde_json::from_value(check_json()).unwrap();
        let record = parsed[0].first().unwrap();
        assert_eq!(record.status, "fail");
        let detail = record.detail.as_ref().unwrap();
        assert_eq!(detail.result.result.images["c0ffee"].result.rows[0][3], "vulnerabilities");
        assert_eq!(serde_json::to_value(&parsed).unwrap(), check_json());
    }

    #[test]
    fn record_without_detail_leaves_out_the_bundle() {
        let record = PolicyBundleRecord {
            policy_id: "p1".into(),
            active: true,
            user_id: "admin".into(),
            name: None,
            comment: None,
            policy_source: "local".into(),
            policybundle: None,
            created_at: "2024-01-02T03:04:05Z".parse().unwrap(),
            last_updated: "2024-01-02T03:04:05Z".parse().unwrap(),
        };
        let value = serde_json::to_value(&record).unwrap();
        assert!(value.get("policybundle").is_none());
        assert_eq!(value["policyId"], "p1");
        assert_eq!(value["name"], serde_json::Value::Null);
    }
}
