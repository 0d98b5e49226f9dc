//! Image content (`GET /images/{digest}/content/{type}`) and metadata
//! (`GET /images/{digest}/metadata/{type}`).
//!
//! Without a type both routes return the list of available types as strings.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Anchore's `ContentResponse`: one content type of one image. `T` is
/// `Vec<`[`PackageContent`]`>` for package types, `Vec<`[`FileContent`]`>` for
/// `files`, `Vec<`[`JavaPackageContent`]`>` for `java`, `Vec<`[`MalwareScan`]`>`
/// for `malware`, and a base64 `String` for `manifest`, `dockerfile` and
/// `docker_history`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContentResponse<T> {
    #[serde(rename = "imageDigest")]
    pub image_digest: String,
    pub content_type: String,
    pub content: T,
}

/// One package of a package content type (`os`, `python`, `npm`, `gem`,
/// `go`, `binary`, ...). `anchore-cli` reads `package`, `version` and, for
/// non-OS types, `location` directly, so they are always present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PackageContent {
    pub package: String,
    pub version: String,
    /// The package type (`dpkg`, `python`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Installed size in bytes, as a string; `"N/A"` when unknown.
    pub size: String,
    /// The source package or upstream, `"N/A"` when unknown.
    pub origin: String,
    /// Deprecated: the licenses joined with spaces.
    pub license: String,
    pub licenses: Vec<String>,
    /// Where the package was found.
    pub location: String,
    #[serde(default)]
    pub cpes: Vec<String>,
}

/// One entry of the `files` content type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FileContent {
    pub filename: String,
    /// `file`, `dir`, `slink`, `hlink`, ...
    #[serde(rename = "type")]
    pub kind: String,
    pub size: u64,
    /// Octal permission bits, `00755`.
    pub mode: String,
    pub uid: u64,
    pub gid: u64,
    #[serde(default)]
    pub linkdest: Option<String>,
    #[serde(default)]
    pub sha256: Option<String>,
}

/// One archive of the `java` content type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JavaPackageContent {
    pub package: String,
    #[serde(rename = "specification-version")]
    pub specification_version: String,
    #[serde(rename = "implementation-version")]
    pub implementation_version: String,
    #[serde(rename = "maven-version")]
    pub maven_version: String,
    pub location: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub origin: String,
    #[serde(default)]
    pub cpes: Vec<String>,
}

/// One scanner's result in the `malware` content type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MalwareScan {
    pub scanner: String,
    pub enabled: bool,
    pub findings: Vec<MalwareFinding>,
    #[serde(default)]
    pub metadata: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MalwareFinding {
    pub path: String,
    pub signature: String,
}

/// Anchore's `MetadataResponse`: `metadata` is the base64-encoded document
/// (`manifest`, `dockerfile` or `docker_history`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MetadataResponse {
    #[serde(rename = "imageDigest")]
    pub image_digest: String,
    pub metadata_type: String,
    pub metadata: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn java_names_have_dashes() {
        let item = JavaPackageContent {
            package: "log4j-core".into(),
            specification_version: "2.14".into(),
            implementation_version: "2.14.1".into(),
            maven_version: "2.14.1".into(),
            location: "/app.jar:log4j-core-2.14.1.jar".into(),
            kind: "java-archive".into(),
            origin: "org.apache.logging.log4j".into(),
            cpes: vec![],
        };
        let value = serde_json::to_value(&item).unwrap();
        assert_eq!(value["implementation-version"], "2.14.1");
        assert_eq!(value["type"], "java-archive");
    }

    #[test]
    fn content_response_shapes() {
        let text: ContentResponse<String> =
            serde_json::from_value(json!({"imageDigest":"sha256:a","content_type":"dockerfile","content":"RlJPTQ=="}))
                .unwrap();
        assert_eq!(text.content, "RlJPTQ==");
        let files: ContentResponse<Vec<FileContent>> = serde_json::from_value(json!({
            "imageDigest":"sha256:a","content_type":"files","content":[
            {"filename":"/etc","type":"dir","size":0,"mode":"00755","uid":0,"gid":0,"linkdest":null,"sha256":null}]}))
        .unwrap();
        assert_eq!(files.content[0].kind, "dir");
    }
}
