//! A policy bundle after loading: one shape for both namings.

use serde::{Deserialize, Serialize};

/// Policy actions, ordered from most to least severe: STOP < WARN < GO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Action {
    Stop,
    Warn,
    Go,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Stop => "STOP",
            Action::Warn => "WARN",
            Action::Go => "GO",
        }
    }

    /// Reads `STOP`/`WARN`/`GO`, case-insensitively.
    pub fn parse(text: &str) -> Option<Action> {
        match text.trim().to_ascii_uppercase().as_str() {
            "STOP" => Some(Action::Stop),
            "WARN" => Some(Action::Warn),
            "GO" => Some(Action::Go),
            _ => None,
        }
    }
}

/// Which naming the bundle was written in (kept so it can be written back alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Naming {
    /// `policies`, `whitelists`, `whitelisted_images`, `blacklisted_images`, version `1_0`.
    V1,
    /// `rule_sets`, `allowlists`, `allowlisted_images`, `denylisted_images`, version `V2`.
    V2,
}

/// A validated bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    pub id: String,
    pub name: Option<String>,
    pub comment: Option<String>,
    pub naming: Naming,
    pub policies: Vec<Policy>,
    pub allowlists: Vec<Allowlist>,
    pub mappings: Vec<Mapping>,
    pub allowlisted_images: Vec<ImageSelector>,
    pub denylisted_images: Vec<ImageSelector>,
    /// Beyond Anchore: what an image no mapping matches gets (`GO`, as in
    /// Anchore, unless the bundle sets `"unmapped": "fail"` → `STOP`).
    pub unmapped_action: Action,
    /// `sha256:` of the bundle document as given.
    pub digest: String,
}

/// A policy (v2: rule set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub id: String,
    pub name: Option<String>,
    pub comment: Option<String>,
    pub rules: Vec<Rule>,
}

/// One rule: a gate's trigger with parameters and the action when it fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub id: String,
    /// Lower case, as in the gate table.
    pub gate: String,
    /// Lower case, as in the gate table.
    pub trigger: String,
    pub action: Action,
    /// Parameters as written (names lower-cased, aliases resolved to the
    /// canonical name); validated against [`crate::spec`] at load.
    pub params: Vec<(String, String)>,
}

/// An allowlist (v1: whitelist).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Allowlist {
    pub id: String,
    pub name: Option<String>,
    pub comment: Option<String>,
    pub items: Vec<AllowlistItem>,
}

/// One allowlist item: a gate and a trigger id (wildcards allowed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllowlistItem {
    pub id: String,
    pub gate: String,
    pub trigger_id: String,
    /// RFC 3339; the item is ignored from that instant on.
    pub expires_on: Option<String>,
    /// Beyond Anchore: why the item exists, shown in results.
    pub reason: Option<String>,
    /// Beyond Anchore: only for this package name (vulnerability gate decisions).
    pub package: Option<String>,
    /// Beyond Anchore: only for this package version.
    pub version: Option<String>,
    /// Beyond Anchore: only for packages at a path matching this wildcard.
    pub path: Option<String>,
}

/// Which images a mapping or image list entry selects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageSelector {
    pub id: Option<String>,
    pub name: Option<String>,
    /// Wildcard (`*`) or `regexp:` pattern.
    pub registry: String,
    pub repository: String,
    pub image: ImageMatch,
}

/// How the image part of a selector matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
pub enum ImageMatch {
    /// Tag wildcard; also matches an exact image id or digest.
    Tag(String),
    Digest(String),
    Id(String),
}

/// A mapping: images it selects, and the policies and allowlists they get.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    pub id: Option<String>,
    pub name: Option<String>,
    pub selector: ImageSelector,
    pub policy_ids: Vec<String>,
    pub allowlist_ids: Vec<String>,
}
