//! Images: the add request, the image record and the image query strings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use chrono::{DateTime, Utc};

/// Free-form key/value labels attached to an image.
pub type Annotations = BTreeMap<String, String>;

/// Body of `POST /images`. Exactly one of `source.tag|digest|archive|import`,
/// or the legacy top-level `tag` (optionally with `digest`), must be set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImageAnalysisRequest {
    /// Where to get the image from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ImageSource>,
    /// Legacy: a full pullable tag, `docker.io/nginx:latest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Legacy: a digest (`sha256:...`) or digest pull string, with the same
    /// registry and repository as `tag`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Legacy: the base64-encoded Dockerfile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
    /// Legacy: creation-time override, honoured only with both tag and digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// Always `docker` when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_type: Option<String>,
    /// Labels to attach to the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Annotations>,
}

/// Anchore's `ImageSource`: one of four ways to name what to analyze.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImageSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<RegistryTagSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<RegistryDigestSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<AnalysisArchiveSource>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "import")]
    pub import: Option<ImageImportManifest>,
}

/// An image in a registry named by tag (the common case).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RegistryTagSource {
    /// A pull string, `docker.io/nginx:latest` or `docker.io/nginx@sha256:...`.
    pub pullstring: String,
    /// The base64-encoded Dockerfile the image was built from, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
}

/// An image in a registry named by digest, with the tag to record for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RegistryDigestSource {
    /// A digest pull string, `docker.io/nginx@sha256:...`.
    pub pullstring: String,
    /// The tag to associate with the image (not used to pull it).
    pub tag: String,
    /// Overrides the image creation time, to rebuild tag history in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp_override: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
}

/// Restore an analysis from the analysis archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AnalysisArchiveSource {
    /// `sha256:` and 64 hex digits.
    pub digest: String,
}

/// Import an analysis uploaded through `/imports/images` instead of pulling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImageImportManifest {
    pub contents: ImportContentDigests,
    /// Full tags to record for the image.
    pub tags: Vec<String>,
    /// The image (manifest) digest.
    pub digest: String,
    /// The manifest-list digest, when the tag pointed at a list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_digest: Option<String>,
    /// Docker's image id, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_image_id: Option<String>,
    /// The import operation the contents were uploaded under.
    pub operation_uuid: String,
}

/// Digests of the uploaded documents an import is made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportContentDigests {
    pub packages: String,
    pub manifest: String,
    pub image_config: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_manifest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
}

/// Where an image is in its analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnalysisStatus {
    NotAnalyzed,
    Analyzing,
    Analyzed,
    AnalysisFailed,
}

impl AnalysisStatus {
    /// Anchore's spelling (`not_analyzed`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            AnalysisStatus::NotAnalyzed => "not_analyzed",
            AnalysisStatus::Analyzing => "analyzing",
            AnalysisStatus::Analyzed => "analyzed",
            AnalysisStatus::AnalysisFailed => "analysis_failed",
        }
    }

    /// Whether analysis has finished, successfully or not.
    pub fn is_final(self) -> bool {
        matches!(self, AnalysisStatus::Analyzed | AnalysisStatus::AnalysisFailed)
    }
}

impl std::fmt::Display for AnalysisStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether an image record is live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImageStatus {
    Active,
    Inactive,
    Deleting,
}

/// Anchore's `AnchoreImage`: one image (manifest digest) and every tag that
/// has pointed at it. `POST /images` and `GET /images[/{digest}]` return lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AnchoreImage {
    #[serde(rename = "imageDigest")]
    pub image_digest: String,
    /// The manifest-list digest the image was reached through, if any.
    #[serde(rename = "parentDigest", default)]
    pub parent_digest: Option<String>,
    /// The owning account.
    #[serde(rename = "userId")]
    pub user_id: String,
    pub analysis_status: AnalysisStatus,
    pub image_status: ImageStatus,
    /// Always `docker`.
    pub image_type: String,
    pub created_at: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
    /// When analysis finished; `null` before (`anchore-cli` prints "None").
    #[serde(default)]
    pub analyzed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub record_version: Option<String>,
    #[serde(default)]
    pub annotations: Annotations,
    /// Summary of the analysis; empty metadata until analyzed.
    #[serde(default)]
    pub image_content: ImageContent,
    /// One entry per tag (newest detection first).
    #[serde(default)]
    pub image_detail: Vec<ImageDetail>,
    /// Portcullis extension: why the analysis failed, for `analysis_failed` images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis_error: Option<String>,
}

/// Anchore's `image_content`: only its `metadata` is defined.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImageContent {
    /// `null` until the image is analyzed.
    #[serde(default)]
    pub metadata: Option<ImageContentMetadata>,
}

/// The image summary `anchore-cli image get` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImageContentMetadata {
    pub arch: String,
    pub distro: String,
    pub distro_version: String,
    /// `Actual` when the Dockerfile was supplied, `Guessed` when rebuilt from history.
    pub dockerfile_mode: String,
    /// Total size in bytes.
    pub image_size: u64,
    pub layer_count: u64,
}

/// Anchore's `ImageDetail`: one tag (registry/repo:tag) of an image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImageDetail {
    pub registry: String,
    pub repo: String,
    pub tag: String,
    /// `registry/repo:tag`.
    pub fulltag: String,
    /// `registry/repo@digest`.
    pub fulldigest: String,
    /// The image (manifest) digest.
    pub digest: String,
    #[serde(rename = "imageDigest")]
    pub image_digest: String,
    /// The config digest without `sha256:` (Docker's image id).
    #[serde(rename = "imageId", default)]
    pub image_id: Option<String>,
    #[serde(rename = "userId")]
    pub user_id: String,
    /// The base64 Dockerfile, when one was supplied.
    #[serde(default)]
    pub dockerfile: Option<String>,
    /// When the tag was first seen pointing at this digest.
    pub tag_detected_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
}

/// Anchore's `AnchoreImageTagSummary` (`GET /summaries/imagetags`); times in
/// seconds since the epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AnchoreImageTagSummary {
    #[serde(rename = "imageDigest")]
    pub image_digest: String,
    #[serde(rename = "parentDigest", default)]
    pub parent_digest: Option<String>,
    #[serde(rename = "imageId", default)]
    pub image_id: Option<String>,
    pub analysis_status: AnalysisStatus,
    pub image_status: ImageStatus,
    pub fulltag: String,
    pub created_at: i64,
    #[serde(default)]
    pub analyzed_at: Option<i64>,
    pub tag_detected_at: i64,
}

/// Outcome of deleting one image (`DELETE /images[/{digest}]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeleteImageResponse {
    pub digest: String,
    pub status: DeleteImageStatus,
    #[serde(default)]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeleteImageStatus {
    NotFound,
    Deleting,
    DeleteFailed,
}

/// Query string of `POST /images`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AddImageQuery {
    /// Re-analyze even if the image is already known.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::query_bool::option")]
    pub force: Option<bool>,
    /// Also watch the tag for new digests (the API default is false).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::query_bool::option")]
    pub autosubscribe: Option<bool>,
}

/// Query string of `GET /images`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListImagesQuery {
    /// Only images tagged with this full tag (`docker.io/library/nginx:latest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulltag: Option<String>,
    /// Include every digest a tag has had, not just the latest.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::query_bool::option")]
    pub history: Option<bool>,
    /// `active` (default), `inactive`, `deleting` or `all`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_status: Option<String>,
    /// Only images in this analysis status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis_status: Option<AnalysisStatus>,
    /// Portcullis extension: the 1-based page (every image when neither `page` nor `limit` is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// Portcullis extension: images per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// Query string of the image delete routes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteImageQuery {
    /// Delete even while analyzing or watched (deactivates the subscriptions).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::query_bool::option")]
    pub force: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn add_request_leaves_out_unset_sources() {
        let request = ImageAnalysisRequest {
            source: Some(ImageSource {
                tag: Some(RegistryTagSource { pullstring: "docker.io/library/nginx:1.25".into(), dockerfile: None }),
                ..ImageSource::default()
            }),
            annotations: Some(Annotations::from([("team".to_owned(), "web".to_owned())])),
            ..ImageAnalysisRequest::default()
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({"source":{"tag":{"pullstring":"docker.io/library/nginx:1.25"}},"annotations":{"team":"web"}})
        );
    }

    #[test]
    fn legacy_add_request_and_import_source() {
        let request: ImageAnalysisRequest =
            serde_json::from_value(json!({"tag":"docker.io/alpine:3.19","dockerfile":"RlJPTQ=="})).unwrap();
        assert_eq!(request.tag.as_deref(), Some("docker.io/alpine:3.19"));
        let request: ImageAnalysisRequest = serde_json::from_value(json!({"source":{"import":{
            "contents":{"packages":"p","manifest":"m","image_config":"c"},
            "tags":["docker.io/a:1"],"digest":"sha256:00","operation_uuid":"u"}}}))
        .unwrap();
        let import = request.source.unwrap().import.unwrap();
        assert_eq!(import.contents.image_config, "c");
    }

    #[test]
    fn image_record_keeps_null_fields_anchore_cli_reads() {
        let now: DateTime<Utc> = "2024-01-02T03:04:05Z".parse().unwrap();
        let image = AnchoreImage {
            image_digest: "sha256:ab".into(),
            parent_digest: None,
            user_id: "admin".into(),
            analysis_status: AnalysisStatus::NotAnalyzed,
            image_status: ImageStatus::Active,
            image_type: "docker".into(),
            created_at: now,
            last_updated: now,
            analyzed_at: None,
            record_version: None,
            annotations: Annotations::new(),
            image_content: ImageContent::default(),
            image_detail: vec![],
            analysis_error: None,
        };
        let value = serde_json::to_value(&image).unwrap();
        assert_eq!(value["analyzed_at"], serde_json::Value::Null);
        assert_eq!(value["imageDigest"], "sha256:ab");
        assert_eq!(value["analysis_status"], "not_analyzed");
        assert_eq!(value["created_at"], "2024-01-02T03:04:05Z");
        assert_eq!(value["image_content"], json!({"metadata": null}));
    }

    #[test]
    fn list_query_reads_python_booleans() {
        let query: ListImagesQuery =
            serde_json::from_value(json!({"fulltag":"docker.io/a:1","history":"False"})).unwrap();
        assert_eq!(query.history, Some(false));
    }
}
