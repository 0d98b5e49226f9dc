//! Cross-image queries (`/query/...`), paginated with [`PaginationProperties`].
//!
//! The swagger names some fields differently from what the engine sends and
//! `anchore-cli` reads (`vulnerable_packages`, `image.imageDigest`,
//! `tag_history[].fulltag`); the engine's names are written here and the
//! swagger's accepted as aliases.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use chrono::{DateTime, Utc};

use crate::{CvssData, ImageDetail, PaginationProperties};

/// Response of `GET /query/images/by_vulnerability`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PaginatedVulnerableImageList {
    #[serde(flatten)]
    pub pagination: PaginationProperties,
    pub images: Vec<VulnerableImage>,
}

/// An image with the packages that carry the queried vulnerability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VulnerableImage {
    pub image: ImageReference,
    #[serde(alias = "affected_packages")]
    pub vulnerable_packages: Vec<VulnerablePackageReference>,
}

/// Response of `GET /query/images/by_package`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PaginatedImageList {
    #[serde(flatten)]
    pub pagination: PaginationProperties,
    pub images: Vec<ImageWithPackages>,
}

/// An image with the packages that matched the query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImageWithPackages {
    pub image: ImageReference,
    pub packages: Vec<PackageReference>,
}

/// An image and every tag ever seen for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImageReference {
    #[serde(rename = "imageDigest", alias = "digest")]
    pub image_digest: String,
    /// Docker's image id.
    #[serde(rename = "imageId", alias = "id", default)]
    pub image_id: Option<String>,
    #[serde(default)]
    pub analyzed_at: Option<DateTime<Utc>>,
    pub tag_history: Vec<ImageDetail>,
}

/// A package (name, version, type) in a query result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PackageReference {
    pub name: String,
    /// `null` means every version.
    #[serde(default)]
    pub version: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub will_not_fix: Option<bool>,
}

/// A vulnerable package in a by-vulnerability result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VulnerablePackageReference {
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub severity: String,
    /// The namespace the vulnerability was matched in.
    pub namespace: String,
}

/// Response of `GET /query/vulnerabilities`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PaginatedVulnerabilityList {
    #[serde(flatten)]
    pub pagination: PaginationProperties,
    pub vulnerabilities: Vec<StandaloneVulnerability>,
}

/// One vulnerability record in one namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StandaloneVulnerability {
    pub id: String,
    pub namespace: String,
    /// `Unknown`, `Negligible`, `Low`, `Medium`, `High` or `Critical`.
    pub severity: String,
    pub link: String,
    #[serde(default)]
    pub description: Option<String>,
    pub affected_packages: Vec<PackageReference>,
    #[serde(default)]
    pub nvd_data: Vec<CvssData>,
    #[serde(default)]
    pub vendor_data: Vec<CvssData>,
    #[serde(default)]
    pub references: Vec<VulnerabilityReference>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VulnerabilityReference {
    pub url: String,
    pub source: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Query string of `GET /query/images/by_vulnerability`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImagesByVulnerabilityQuery {
    pub vulnerability_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affected_package: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::query_bool::option")]
    pub vendor_only: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// Query string of `GET /query/images/by_package`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImagesByPackageQuery {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// Query string of `GET /query/vulnerabilities`; `id` may repeat or be comma separated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VulnerabilitiesQuery {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affected_package: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affected_package_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn swagger_names_are_aliases() {
        let list: PaginatedVulnerableImageList = serde_json::from_value(json!({
            "page":"1","next_page":"false","returned_count":1,
            "images":[{"image":{"digest":"sha256:ab","tag_history":[]},
                "affected_packages":[{"name":"openssl","version":"3.0.9","type":"dpkg","severity":"High","namespace":"debian:12"}]}]}))
        .unwrap();
        let value = serde_json::to_value(&list).unwrap();
        assert_eq!(value["images"][0]["image"]["imageDigest"], "sha256:ab");
        assert_eq!(value["images"][0]["vulnerable_packages"][0]["namespace"], "debian:12");
        assert_eq!(value["page"], "1");
    }
}
