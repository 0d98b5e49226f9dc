//! One module per gate. Each exposes
//! `evaluate(trigger, params, ctx) -> Result<Vec<TriggerMatch>, GateError>`:
//! the matches of one trigger on one image. [`evaluate_trigger`] dispatches.

use chrono::{DateTime, Utc};
use portcullis_match::{Origin, ScanResult};
use portcullis_sbom::Sbom;
use thiserror::Error;

use crate::params::{ParamError, Params};

pub mod always;
pub mod dockerfile;
pub mod files;
pub mod licenses;
pub mod malware;
pub mod metadata;
pub mod npms;
pub mod packages;
pub mod passwd_file;
pub mod retrieved_files;
pub mod ruby_gems;
pub mod secret_scans;
pub mod vulnerabilities;

/// What the triggers look at.
#[derive(Debug, Clone)]
pub struct EvalContext<'a> {
    pub sbom: &'a Sbom,
    /// The vulnerability match of the image; `None` when no vulnerability
    /// data was consulted (the vulnerabilities gate then reports data unavailable).
    pub scan: Option<&'a ScanResult>,
    /// "Now" for expiry and age checks (fixed in tests).
    pub now: DateTime<Utc>,
    /// Number of leading layers that belong to the base image, when known
    /// (`--base-image`, `--base-image-layers` or the image's
    /// `org.opencontainers.image.base.name` label): packages introduced by
    /// those layers have [`Origin::Base`].
    pub base_layers: Option<usize>,
}

/// One firing of a trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerMatch {
    /// The id allowlist items match against (Anchore's form, so existing
    /// allowlists keep matching).
    pub trigger_id: String,
    pub message: String,
    /// The package (name, version, first location) the match is about, for
    /// allowlist items scoped to a package, version or path, and its origin.
    pub package: Option<MatchedPackage>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedPackage {
    pub name: String,
    pub version: String,
    pub path: Option<String>,
    /// Base image or own layers, when [`EvalContext::base_layers`] and the
    /// package's layer are known.
    pub origin: Option<Origin>,
}

impl TriggerMatch {
    /// A match with Anchore's default trigger id: md5(gate + trigger + message), hex.
    pub fn new(gate: &str, trigger: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let trigger_id = default_trigger_id(gate, trigger, &message);
        Self { trigger_id, message, package: None }
    }
}

/// md5 of gate, trigger and message concatenated, as Anchore computes it.
pub fn default_trigger_id(gate: &str, trigger: &str, message: &str) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(format!("{gate}{trigger}{message}").as_bytes()))
}

/// Why a trigger could not be evaluated (reported as an evaluation problem).
#[derive(Debug, Error)]
pub enum GateError {
    #[error("unknown gate {0:?}")]
    UnknownGate(String),
    #[error("gate {gate}: unknown trigger {trigger:?}")]
    UnknownTrigger { gate: String, trigger: String },
    #[error(transparent)]
    Param(#[from] ParamError),
    #[error("{0}")]
    Invalid(String),
}

/// Evaluates one trigger of one gate.
pub fn evaluate_trigger(
    gate: &str,
    trigger: &str,
    params: &Params,
    ctx: &EvalContext<'_>,
) -> Result<Vec<TriggerMatch>, GateError> {
    match gate {
        "always" => always::evaluate(trigger, params, ctx),
        "dockerfile" => dockerfile::evaluate(trigger, params, ctx),
        "files" => files::evaluate(trigger, params, ctx),
        "licenses" => licenses::evaluate(trigger, params, ctx),
        "malware" => malware::evaluate(trigger, params, ctx),
        "metadata" => metadata::evaluate(trigger, params, ctx),
        "npms" => npms::evaluate(trigger, params, ctx),
        "packages" => packages::evaluate(trigger, params, ctx),
        "passwd_file" => passwd_file::evaluate(trigger, params, ctx),
        "retrieved_files" => retrieved_files::evaluate(trigger, params, ctx),
        "ruby_gems" => ruby_gems::evaluate(trigger, params, ctx),
        "secret_scans" => secret_scans::evaluate(trigger, params, ctx),
        "vulnerabilities" => vulnerabilities::evaluate(trigger, params, ctx),
        other => Err(GateError::UnknownGate(other.to_owned())),
    }
}

/// The error for a trigger a gate does not have.
pub(crate) fn unknown_trigger(gate: &str, trigger: &str) -> GateError {
    GateError::UnknownTrigger { gate: gate.to_owned(), trigger: trigger.to_owned() }
}
