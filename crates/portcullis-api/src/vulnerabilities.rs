//! An image's vulnerability listing (`GET /images/{digest}/vuln/{type}`).

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The string Anchore writes for every missing value in the listing.
pub const NONE: &str = "None";

/// Which packages a vulnerability listing covers (the `{type}` path segment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum VulnerabilityType {
    /// Distribution packages.
    #[serde(rename = "os")]
    Os,
    /// Language packages and binaries.
    #[serde(rename = "non-os")]
    NonOs,
    /// Both.
    #[serde(rename = "all")]
    All,
}

impl VulnerabilityType {
    /// Every type, in the order `GET /images/{digest}/vuln` lists them.
    pub const ALL: [VulnerabilityType; 3] = [VulnerabilityType::Os, VulnerabilityType::NonOs, VulnerabilityType::All];

    /// The path segment (`os`, `non-os`, `all`).
    pub fn as_str(self) -> &'static str {
        match self {
            VulnerabilityType::Os => "os",
            VulnerabilityType::NonOs => "non-os",
            VulnerabilityType::All => "all",
        }
    }

    /// Parses a path segment.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// Anchore's `VulnerabilityResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VulnerabilityResponse {
    #[serde(rename = "imageDigest")]
    pub image_digest: String,
    pub vulnerability_type: VulnerabilityType,
    pub vulnerabilities: Vec<Vulnerability>,
}

/// One (vulnerability, package) match. Every field is present; a missing
/// value is the string `"None"` ([`NONE`]), as Anchore writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Vulnerability {
    /// `CVE-2023-1234`, `GHSA-...`, `DSA-...`.
    pub vuln: String,
    /// `Unknown`, `Negligible`, `Low`, `Medium`, `High` or `Critical`.
    pub severity: String,
    pub url: String,
    /// The fixed version, or `"None"`.
    pub fix: String,
    /// The vendor has said it will not fix this.
    #[serde(default)]
    pub will_not_fix: bool,
    /// `name-version`.
    pub package: String,
    pub package_name: String,
    pub package_version: String,
    /// `dpkg`, `apk`, `rpm`, `python`, `npm`, `java-archive`, ...
    pub package_type: String,
    /// Where the package was found in the image.
    pub package_path: String,
    pub package_cpe: String,
    #[serde(default = "none_string")]
    pub package_cpe23: String,
    /// Always `vulnerabilities`.
    pub feed: String,
    /// The namespace the match was made in (`debian:12`, `github:python`).
    pub feed_group: String,
    /// NVD's scores for the CVEs this vulnerability refers to.
    #[serde(default)]
    pub nvd_data: Vec<CvssData>,
    /// The vendor's scores.
    #[serde(default)]
    pub vendor_data: Vec<CvssData>,
}

fn none_string() -> String {
    NONE.to_owned()
}

/// Anchore's `NvdDataObject` / `VendorDataObject`: the scores one source gives one id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CvssData {
    pub id: String,
    #[serde(default)]
    pub cvss_v2: CvssScores,
    #[serde(default)]
    pub cvss_v3: CvssScores,
}

/// A CVSS base, exploitability and impact score; -1.0 means unknown, as in Anchore.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CvssScores {
    #[serde(deserialize_with = "score_or_unknown")]
    pub base_score: f64,
    #[serde(deserialize_with = "score_or_unknown")]
    pub exploitability_score: f64,
    #[serde(deserialize_with = "score_or_unknown")]
    pub impact_score: f64,
}

impl CvssScores {
    /// The value of a score nobody published.
    pub const UNKNOWN_SCORE: f64 = -1.0;

    /// All three scores unknown.
    pub const UNKNOWN: CvssScores = CvssScores {
        base_score: Self::UNKNOWN_SCORE,
        exploitability_score: Self::UNKNOWN_SCORE,
        impact_score: Self::UNKNOWN_SCORE,
    };

    /// Only the base score known (what most feeds publish).
    pub fn base(score: f64) -> Self {
        CvssScores { base_score: score, ..Self::UNKNOWN }
    }
}

impl Default for CvssScores {
    fn default() -> Self {
        Self::UNKNOWN
    }
}

/// The swagger allows `null` scores; they mean the same as -1.0.
fn score_or_unknown<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(CvssScores::UNKNOWN_SCORE))
}

/// Query string of the vulnerability routes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VulnerabilityQuery {
    /// Drop matches the distribution vendor disputes (`will_not_fix`); default true.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::query_bool::option")]
    pub vendor_only: Option<bool>,
    /// Recompute instead of using a cached report.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::query_bool::option")]
    pub force_refresh: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn type_segments() {
        assert_eq!(serde_json::to_value(VulnerabilityType::NonOs).unwrap(), json!("non-os"));
        assert_eq!(VulnerabilityType::parse("all"), Some(VulnerabilityType::All));
        assert_eq!(VulnerabilityType::parse("windows"), None);
    }

    #[test]
    fn null_scores_are_unknown() {
        let scores: CvssScores =
            serde_json::from_value(json!({"base_score": 7.5, "exploitability_score": null, "impact_score": -1.0}))
                .unwrap();
        assert_eq!(scores, CvssScores::base(7.5));
    }

    #[test]
    fn missing_cpe23_is_none_string() {
        let item: Vulnerability = serde_json::from_value(json!({
            "vuln":"CVE-1","severity":"High","url":"u","fix":"None","package":"a-1","package_name":"a",
            "package_version":"1","package_type":"dpkg","package_path":"/p","package_cpe":"None",
            "feed":"vulnerabilities","feed_group":"debian:12"}))
        .unwrap();
        assert_eq!(item.package_cpe23, NONE);
        assert!(item.nvd_data.is_empty());
    }
}
