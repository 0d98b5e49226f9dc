//! The Anchore Engine v1 REST API as Rust types.
//!
//! Every request and response body that `portcullis serve` accepts or returns,
//! and that `portcullis-client` sends or decodes, lives here, so the server and
//! the client cannot drift apart. Field names are Anchore's (API version
//! 0.1.20, `anchore_engine/services/apiext/swagger/swagger.yaml`), camelCase
//! where Anchore uses it (`imageDigest`, `userId`, `policyId`), because the
//! point of the API is that existing clients such as `anchore-cli` 0.9.3 work
//! unchanged. Where the swagger and what `anchore-cli` reads disagree,
//! `anchore-cli` wins and the swagger name is accepted as an alias.
//!
//! Optional fields are `Option<T>`. They are left out of the JSON only where
//! Anchore leaves them out; elsewhere they are written as `null`, because
//! `anchore-cli` indexes some keys directly and fails on a missing one.
//!
//! Every type derives [`utoipa::ToSchema`] (query-string types derive
//! [`utoipa::IntoParams`]) so the service can publish an OpenAPI document.
//!
//! Query strings: `anchore-cli` writes booleans the Python way (`True`,
//! `False`), so every boolean query parameter is read with [`query_bool`].

pub mod accounts;
pub mod archives;
pub mod content;
pub mod error;
pub mod events;
pub mod images;
pub mod page;
pub mod policies;
pub mod query;
pub mod query_bool;
pub mod registries;
pub mod subscriptions;
pub mod system;
pub mod vulnerabilities;

pub use accounts::*;
pub use archives::*;
pub use content::*;
pub use error::*;
pub use events::*;
pub use images::*;
pub use page::*;
pub use policies::*;
pub use query::*;
pub use registries::*;
pub use subscriptions::*;
pub use system::*;
pub use vulnerabilities::*;

/// A point in time as Anchore writes it: RFC 3339 in UTC (`2024-01-02T03:04:05Z`).
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// The base path every route of the API lives under.
pub const BASE_PATH: &str = "/v1";

/// The API version this crate describes, as `GET /v1/swagger.json` reports it
/// (`anchore-cli` reads `info.version` to pick its request shapes).
pub const API_VERSION: &str = "0.1.20";

/// Header an admin sends to act on another account's resources.
pub const ACCOUNT_HEADER: &str = "x-anchore-account";

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    use super::*;

    #[derive(OpenApi)]
    #[openapi(components(schemas(
        AccessCredential, Account, AccountCreationRequest, AccountStatus, AnalysisArchiveAddResult,
        AnalysisArchiveTransitionRule, AnchoreErrorCode, AnchoreImage, AnchoreImageTagSummary, ApiErrorResponse,
        ArchiveSummary, ArchivedAnalysis, ContentResponse<Vec<PackageContent>>, ContentResponse<Vec<FileContent>>,
        ContentResponse<Vec<JavaPackageContent>>, ContentResponse<Vec<MalwareScan>>, ContentResponse<String>,
        DeleteImageResponse, EventCategory, EventsList, FeedMetadata, FeedSyncResult, GateSpec, ImageAnalysisRequest,
        MetadataResponse, Page, PaginatedImageList, PaginatedVulnerabilityList, PaginatedVulnerableImageList,
        PolicyBundleRecord, PolicyCheckResult, RegistryConfiguration, RegistryConfigurationRequest,
        RepoSubscriptionValue, ServiceVersion, StatusResponse, Subscription, SubscriptionRequest, SubscriptionUpdate,
        SystemStatus, TokenResponse, User, UserCreationRequest, VulnerabilityResponse,
    )))]
    struct Everything;

    #[test]
    fn every_type_has_a_schema() {
        let document = serde_json::to_value(Everything::openapi()).unwrap();
        let schemas = &document["components"]["schemas"];
        let image = &schemas["AnchoreImage"]["properties"];
        assert!(image.get("imageDigest").is_some(), "{image}");
        assert_eq!(image["created_at"]["format"], "date-time");
        let record = &schemas["PolicyBundleRecord"]["properties"];
        assert!(record.get("policyId").is_some() && record.get("userId").is_some(), "{record}");
        let vuln = &schemas["Vulnerability"]["properties"];
        for field in ["vuln", "package_cpe23", "nvd_data", "vendor_data", "will_not_fix"] {
            assert!(vuln.get(field).is_some(), "{field} missing from {vuln}");
        }
    }
}
