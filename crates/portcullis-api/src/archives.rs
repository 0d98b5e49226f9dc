//! The analysis archive (`/archives`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use chrono::{DateTime, Utc};

use crate::Annotations;

/// Anchore's `ArchiveSummary` (`GET /archives`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ArchiveSummary {
    pub images: AnalysisArchiveSummary,
    pub rules: AnalysisArchiveRulesSummary,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AnalysisArchiveSummary {
    pub total_image_count: u64,
    pub total_tag_count: u64,
    /// Bytes stored, after compression.
    pub total_data_bytes: u64,
    /// When the newest image was archived; `null` for an empty archive.
    #[serde(default)]
    pub last_updated: Option<DateTime<Utc>>,
    /// Extension: images and bytes per archive status.
    #[serde(default)]
    pub by_status: BTreeMap<ArchiveStatus, ArchiveStatusSummary>,
}

/// Images and stored bytes of one archive status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ArchiveStatusSummary {
    pub image_count: u64,
    pub data_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AnalysisArchiveRulesSummary {
    pub count: u64,
    #[serde(default)]
    pub last_updated: Option<DateTime<Utc>>,
}

/// Anchore's `ArchivedAnalysis`: one archived image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ArchivedAnalysis {
    #[serde(rename = "imageDigest")]
    pub image_digest: String,
    #[serde(rename = "parentDigest", default)]
    pub parent_digest: Option<String>,
    #[serde(default)]
    pub annotations: Annotations,
    pub status: ArchiveStatus,
    /// The image's tags.
    pub image_detail: Vec<TagEntry>,
    #[serde(default)]
    pub analyzed_at: Option<DateTime<Utc>>,
    /// When it was archived.
    pub created_at: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
    pub archive_size_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArchiveStatus {
    Archiving,
    Archived,
    Deleting,
    Deleted,
}

impl ArchiveStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ArchiveStatus::Archiving => "archiving",
            ArchiveStatus::Archived => "archived",
            ArchiveStatus::Deleting => "deleting",
            ArchiveStatus::Deleted => "deleted",
        }
    }
}

/// Anchore's `TagEntry`: a tag and its parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TagEntry {
    /// `docker.io/library/node:latest`.
    pub pullstring: String,
    pub registry: String,
    pub repository: String,
    pub tag: String,
    /// When the tag was first seen pointing at the image.
    #[serde(default)]
    pub detected_at: Option<DateTime<Utc>>,
}

/// Anchore's `AnalysisArchiveAddResult` (`POST /archives/images` returns a list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AnalysisArchiveAddResult {
    pub digest: String,
    /// `archived`, `archiving` or `error`.
    pub status: String,
    #[serde(default)]
    pub detail: Option<String>,
}

/// Anchore's `AnalysisArchiveTransitionRule`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AnalysisArchiveTransitionRule {
    /// Set by the server; ignored in a `POST` body.
    #[serde(default)]
    pub rule_id: Option<String>,
    pub transition: ArchiveTransition,
    /// Applies to every account (admins only).
    #[serde(default)]
    pub system_global: bool,
    /// Matches images analyzed more than this many days ago; -1 disables the check.
    #[serde(default)]
    pub analysis_age_days: i64,
    /// Matches when at least this many newer images have had the tag; -1 disables.
    #[serde(default)]
    pub tag_versions_newer: i64,
    #[serde(default)]
    pub selector: ImageSelector,
    #[serde(default)]
    pub exclude: ArchiveRuleExclude,
    /// Keep at most this many analyzed images per account (global rules only).
    #[serde(default)]
    pub max_images_per_account: Option<u64>,
    /// Extension: count `tag_versions_newer` over every version of a tag,
    /// not only those older than `analysis_age_days` as Anchore does.
    #[serde(default)]
    pub count_all_tag_versions: bool,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_updated: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArchiveTransition {
    /// Move analyzed images into the archive.
    Archive,
    /// Delete archived images.
    Delete,
}

impl ArchiveTransition {
    pub fn as_str(self) -> &'static str {
        match self {
            ArchiveTransition::Archive => "archive",
            ArchiveTransition::Delete => "delete",
        }
    }
}

/// Anchore's `ImageSelector`: registry, repository and tag patterns (`*` wildcards).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImageSelector {
    pub registry: String,
    pub repository: String,
    pub tag: String,
}

impl Default for ImageSelector {
    /// Everything.
    fn default() -> Self {
        ImageSelector { registry: "*".to_owned(), repository: "*".to_owned(), tag: "*".to_owned() }
    }
}

/// Images a rule never selects, for `expiration_days` (-1 = forever).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ArchiveRuleExclude {
    pub selector: ImageSelector,
    pub expiration_days: i64,
}

impl Default for ArchiveRuleExclude {
    /// Excludes nothing.
    fn default() -> Self {
        ArchiveRuleExclude {
            selector: ImageSelector { registry: String::new(), repository: String::new(), tag: String::new() },
            expiration_days: -1,
        }
    }
}

/// Query string of `GET /archives/rules`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArchiveRulesQuery {
    /// Include global rules (default true).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::query_bool::option")]
    pub system_global: Option<bool>,
}

/// Query string of `DELETE /archives/images/{digest}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteArchivedImageQuery {
    /// Delete whatever the status (also while `archiving`).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::query_bool::option")]
    pub force: Option<bool>,
}

/// Extension: what the archive rules would transition now (`GET /archives/rules/{rule_id}/preview`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ArchiveRulePreview {
    pub rule_id: String,
    pub transition: ArchiveTransition,
    /// The account the preview was computed for.
    pub account: String,
    /// Digests the rule alone would move now (each of their tags is matched).
    pub digests: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn minimal_rule_gets_anchore_defaults() {
        let rule: AnalysisArchiveTransitionRule = serde_json::from_value(json!({"transition":"archive"})).unwrap();
        assert_eq!(rule.selector, ImageSelector::default());
        assert_eq!(rule.exclude.expiration_days, -1);
        assert!(!rule.system_global);
    }
}
