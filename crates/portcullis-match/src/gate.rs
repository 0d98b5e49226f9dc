//! The CI gate: does a scan pass?

use portcullis_vulndb::{FixState, Severity};
use serde::{Deserialize, Serialize};

use crate::Finding;

/// What makes a scan fail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gate {
    /// Fail when a finding has at least this severity.
    pub fail_on: Severity,
    /// Count only findings that have a fix.
    pub only_fixed: bool,
}

/// The gate's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateResult {
    pub fail_on: Severity,
    pub only_fixed: bool,
    pub passed: bool,
    /// Ids of the findings that failed it (at most the first 20 listed in `reason`).
    pub failing: Vec<String>,
    pub reason: String,
}

impl Gate {
    pub fn evaluate(&self, findings: &[Finding]) -> GateResult {
        let failing: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.severity >= self.fail_on && f.severity != Severity::Unknown)
            .filter(|f| !self.only_fixed || f.state == FixState::Fixed)
            .collect();
        let scope = if self.only_fixed { " with a fix" } else { "" };
        let reason = if failing.is_empty() {
            format!("no finding{scope} at or above {}", self.fail_on.as_str())
        } else {
            let shown: Vec<String> = failing
                .iter()
                .take(20)
                .map(|f| format!("{} ({} in {})", f.id, f.severity.as_str(), f.package.name))
                .collect();
            let more = if failing.len() > 20 { format!(" and {} more", failing.len() - 20) } else { String::new() };
            format!(
                "{} finding(s){scope} at or above {}: {}{more}",
                failing.len(),
                self.fail_on.as_str(),
                shown.join(", ")
            )
        };
        GateResult {
            fail_on: self.fail_on,
            only_fixed: self.only_fixed,
            passed: failing.is_empty(),
            failing: failing.iter().map(|f| format!("{} {}", f.id, f.package.id)).collect(),
            reason,
        }
    }
}
