//! A policy [`Evaluation`] rendered in one of three [`PolicyFormat`]s:
//!
//! * `anchore-table`: what `anchore-cli evaluate check <image> --detail`
//!   prints (anchore-cli's `format_output`, `evaluate_check`), so results
//!   can be compared with Anchore's line by line;
//! * `junit`: JUnit XML, one test case per decision;
//! * `sarif`: SARIF 2.1.0 for GitHub code scanning, one result per decision
//!   that is not allowlisted.

use std::fmt;
use std::str::FromStr;

use comfy_table::{Table, presets::NOTHING};
use portcullis_policy::evaluate::{Decision, Evaluation, FinalActionReason, ImageIdentity, Problem, Status};
use portcullis_policy::model::Action;
use serde_json::{Value, json};

use crate::junit::{Case, Outcome, Suite};
use crate::{ReportError, sarif};

/// A policy evaluation report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyFormat {
    /// Anchore's `evaluate check --detail` text (`anchore-table`).
    AnchoreTable,
    /// JUnit XML, one test case per decision (`junit`).
    Junit,
    /// SARIF 2.1.0 for GitHub code scanning (`sarif`).
    Sarif,
}

impl PolicyFormat {
    /// Every format, in the order shown by `--help`.
    pub const ALL: [PolicyFormat; 3] = [PolicyFormat::AnchoreTable, PolicyFormat::Junit, PolicyFormat::Sarif];

    /// The name accepted by [`FromStr`] and printed by [`fmt::Display`].
    pub fn name(self) -> &'static str {
        match self {
            PolicyFormat::AnchoreTable => "anchore-table",
            PolicyFormat::Junit => "junit",
            PolicyFormat::Sarif => "sarif",
        }
    }
}

impl fmt::Display for PolicyFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PolicyFormat {
    type Err = ReportError;

    /// A format by its [`PolicyFormat::name`], ignoring case and surrounding blanks.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        PolicyFormat::ALL.into_iter().find(|format| format.name().eq_ignore_ascii_case(wanted)).ok_or_else(|| {
            ReportError::UnknownPolicyFormat {
                name: s.to_owned(),
                known: PolicyFormat::ALL.map(PolicyFormat::name).join(", "),
            }
        })
    }
}

/// Renders `evaluation` in `format`; the text ends with a line break.
pub fn render_policy(evaluation: &Evaluation, format: PolicyFormat) -> Result<String, ReportError> {
    match format {
        PolicyFormat::AnchoreTable => Ok(anchore_table(evaluation)),
        PolicyFormat::Junit => junit(evaluation),
        PolicyFormat::Sarif => sarif(evaluation),
    }
}

/// `registry/repository:tag`, or `@digest` when there is no tag.
fn image_reference(image: &ImageIdentity) -> String {
    let name = format!("{}/{}", image.registry, image.repository);
    match (&image.tag, &image.digest) {
        (Some(tag), _) => format!("{name}:{tag}"),
        (None, Some(digest)) => format!("{name}@{digest}"),
        (None, None) => name,
    }
}

/// `STOP`, `WARN`, `GO` as Anchore's API and CLI print them.
fn lower_case(action: Action) -> String {
    action.as_str().to_ascii_lowercase()
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::Fail => "fail",
    }
}

/// Anchore's `final_action_reason`; it has no reason for an unmapped image
/// nor for evaluation problems (it fails the whole request on those).
fn anchore_reason(reason: FinalActionReason) -> &'static str {
    match reason {
        FinalActionReason::Denylisted => "blacklisted",
        FinalActionReason::Allowlisted => "whitelisted",
        FinalActionReason::PolicyEvaluation | FinalActionReason::EvaluationProblems | FinalActionReason::Unmapped => {
            "policy_evaluation"
        }
    }
}

fn bundle_label(evaluation: &Evaluation) -> &str {
    evaluation.bundle_name.as_deref().unwrap_or(&evaluation.bundle_id)
}

/// `policy P rule R: message`, naming what is known of where the problem is.
fn problem_text(problem: &Problem) -> String {
    let place: Vec<String> = [("policy", &problem.policy_id), ("rule", &problem.rule_id)]
        .into_iter()
        .filter_map(|(what, id)| id.as_ref().map(|id| format!("{what} {id}")))
        .collect();
    if place.is_empty() { problem.message.clone() } else { format!("{}: {}", place.join(" "), problem.message) }
}

/// anchore-cli's header lines (`Key: value`, in its order), a blank line and
/// the decisions in prettytable's `PLAIN_COLUMNS` style: no borders, cells
/// left-aligned with 8 spaces after each, trailing ones included. Values
/// the image lacks print as anchore-cli prints a null: `None`. Evaluation
/// problems, which Anchore has no place for, follow the table.
fn anchore_table(evaluation: &Evaluation) -> String {
    let image = &evaluation.image;
    let or_none = |value: Option<&str>| value.unwrap_or("None").to_owned();
    // Anchore's image ids are the config digest's bare hex.
    let image_id = image.image_id.as_deref().map(|id| id.strip_prefix("sha256:").unwrap_or(id));
    let header = [
        ("Image Digest", or_none(image.digest.as_deref())),
        ("Full Tag", image_reference(image)),
        ("Image ID", or_none(image_id)),
        ("Status", status_name(evaluation.status).to_owned()),
        ("Last Eval", portcullis_vulndb::store::now_rfc3339()),
        ("Policy ID", evaluation.bundle_id.clone()),
        ("Final Action", lower_case(evaluation.final_action)),
        ("Final Action Reason", anchore_reason(evaluation.final_action_reason).to_owned()),
    ];
    let mut out = String::new();
    for (key, value) in header {
        out.push_str(&format!("{key}: {value}\n"));
    }
    let mut table = Table::new();
    table.load_style(NOTHING);
    table.set_header(["Gate", "Trigger", "Detail", "Status"]);
    for decision in &evaluation.decisions {
        table.add_row([
            decision.gate.clone(),
            decision.trigger.clone(),
            decision.message.clone(),
            anchore_status(decision),
        ]);
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 8));
    }
    out.push('\n');
    out.push_str(&table.to_string());
    out.push('\n');
    for problem in &evaluation.problems {
        out.push_str(&format!("Evaluation Problem: {}\n", problem_text(problem)));
    }
    out
}

/// The action, or `whitelisted(<allowlist>)` as anchore-cli shows an
/// allowlisted decision (Anchore prints the allowlist's name, which the
/// evaluation does not carry: its id stands in).
fn anchore_status(decision: &Decision) -> String {
    match &decision.allowlisted {
        Some(by) => format!("whitelisted({})", by.allowlist_id),
        None => lower_case(decision.action),
    }
}

/// One suite; STOP decisions fail, WARN and GO ones pass with their message
/// as output, allowlisted ones are skipped with the allowlist item and its
/// reason, problems are errors. On an image the bundle allowlists, STOP
/// decisions are skipped too, saying so: the evaluation passes, so must the
/// suite. An image failed by the denylist or by the bundle's unmapped
/// action, which no decision shows, gets a failing `final action` case so
/// the suite fails as the evaluation does.
fn junit(evaluation: &Evaluation) -> Result<String, ReportError> {
    let image_allowlisted = evaluation.final_action_reason == FinalActionReason::Allowlisted;
    let mut cases: Vec<Case> =
        evaluation.decisions.iter().map(|decision| decision_case(decision, image_allowlisted)).collect();
    cases.extend(evaluation.problems.iter().map(|problem| Case {
        classname: "evaluation problem".to_owned(),
        name: problem_location(problem),
        outcome: Outcome::Error {
            message: problem.message.clone(),
            kind: "evaluation_problem",
            details: problem_text(problem),
        },
    }));
    let unexplained_stop = match evaluation.final_action_reason {
        FinalActionReason::Denylisted => Some("the image is on the bundle's denylisted images"),
        FinalActionReason::Unmapped if evaluation.final_action == Action::Stop => {
            Some("no mapping of the bundle selects the image, and the bundle stops unmapped images")
        }
        _ => None,
    };
    if let Some(reason) = unexplained_stop {
        cases.push(Case {
            classname: "policy".to_owned(),
            name: "final action".to_owned(),
            outcome: Outcome::Failure { message: reason.to_owned(), kind: "STOP", details: reason.to_owned() },
        });
    }
    if evaluation.decisions.is_empty() && evaluation.problems.is_empty() {
        cases.push(Case {
            classname: "policy".to_owned(),
            name: "no policy decisions".to_owned(),
            outcome: Outcome::Passed { output: "no rule of the bundle fired on the image".to_owned() },
        });
    }
    let final_action = format!(
        "{} ({})",
        evaluation.final_action.as_str(),
        serde_json::to_value(evaluation.final_action_reason)
            .ok()
            .and_then(|reason| reason.as_str().map(str::to_owned))
            .unwrap_or_default()
    );
    let mut properties = vec![
        ("portcullis.policy.bundle", format!("{} ({})", evaluation.bundle_id, evaluation.bundle_digest)),
        ("portcullis.policy.final_action", final_action),
        ("portcullis.policy.status", status_name(evaluation.status).to_owned()),
    ];
    if let Some(mapping) = &evaluation.mapping {
        let label = mapping.name.as_deref().or(mapping.id.as_deref()).unwrap_or("(unnamed)");
        properties.push(("portcullis.policy.mapping", label.to_owned()));
    }
    let name = format!("portcullis policy {} on {}", bundle_label(evaluation), image_reference(&evaluation.image));
    crate::junit::write_suite(&Suite { name, properties, cases })
}

fn decision_case(decision: &Decision, image_allowlisted: bool) -> Case {
    let outcome = match (&decision.allowlisted, decision.action) {
        (Some(by), _) => {
            let reason = by.reason.as_deref().map(|reason| format!(": {reason}")).unwrap_or_default();
            Outcome::Skipped { reason: format!("allowlisted by {}/{}{reason}", by.allowlist_id, by.item_id) }
        }
        (None, Action::Stop) if image_allowlisted => {
            Outcome::Skipped { reason: format!("{IMAGE_ALLOWLISTED}; the rule would STOP: {}", decision.message) }
        }
        (None, Action::Stop) => Outcome::Failure {
            message: decision.message.clone(),
            kind: "STOP",
            details: format!(
                "{}\npolicy {} rule {}, trigger id {}",
                decision.message, decision.policy_id, decision.rule_id, decision.trigger_id
            ),
        },
        (None, action @ (Action::Warn | Action::Go)) => {
            Outcome::Passed { output: format!("{}: {}", action.as_str(), decision.message) }
        }
    };
    Case {
        classname: format!("{}.{}", decision.gate, decision.trigger),
        name: format!("{}/{} {}", decision.policy_id, decision.rule_id, decision.trigger_id),
        outcome,
    }
}

/// `policy/rule`, `policy`, or `bundle` for a problem with the bundle's structure.
fn problem_location(problem: &Problem) -> String {
    match (&problem.policy_id, &problem.rule_id) {
        (Some(policy), Some(rule)) => format!("{policy}/{rule}"),
        (Some(policy), None) => policy.clone(),
        (None, Some(rule)) => rule.clone(),
        (None, None) => "bundle".to_owned(),
    }
}

/// Name of the fingerprint; the `/v1` changes if what is hashed ever changes.
const DECISION_FINGERPRINT: &str = "portcullisPolicyDecision/v1";

/// Why the decisions on an image of the bundle's allowlisted images do not count.
const IMAGE_ALLOWLISTED: &str = "the image is on the bundle's allowlisted images, so its final action is GO";

/// One rule per gate and trigger (in order of first result), one result per
/// decision that is not allowlisted (an allowlisted one would still be an
/// alert to GitHub). On an image the bundle allowlists, every result is a
/// `note` with the property `imageAllowlisted`, as none of them gates it.
/// SARIF needs no location, but GitHub does: a dockerfile gate decision
/// points at `Dockerfile`, any other at the image reference (as a relative
/// URI), with the image as the logical location. Problems are tool
/// execution notifications, and make the invocation unsuccessful.
fn sarif(evaluation: &Evaluation) -> Result<String, ReportError> {
    let image = image_reference(&evaluation.image);
    let image_allowlisted = evaluation.final_action_reason == FinalActionReason::Allowlisted;
    let mut rule_ids: Vec<String> = Vec::new();
    let mut rules = Vec::new();
    let mut results = Vec::new();
    for decision in evaluation.decisions.iter().filter(|decision| decision.allowlisted.is_none()) {
        let rule_id = format!("{}/{}", decision.gate, decision.trigger);
        let rule_index = match rule_ids.iter().position(|id| *id == rule_id) {
            Some(index) => index,
            None => {
                rules.push(json!({
                    "id": rule_id,
                    "name": rule_id,
                    "shortDescription": {"text": format!("Policy gate {}, trigger {}", decision.gate, decision.trigger)},
                    "properties": {"tags": ["policy", decision.gate]},
                }));
                rule_ids.push(rule_id.clone());
                rule_ids.len() - 1
            }
        };
        let level = match decision.action {
            _ if image_allowlisted => "note",
            Action::Stop => "error",
            Action::Warn => "warning",
            Action::Go => "note",
        };
        let path = if decision.gate == "dockerfile" { "Dockerfile" } else { image.as_str() };
        let mut properties = json!({
            "policyId": decision.policy_id,
            "ruleId": decision.rule_id,
            "triggerId": decision.trigger_id,
            "action": decision.action,
        });
        if let Some(origin) = decision.origin {
            properties["origin"] = json!(origin);
        }
        if image_allowlisted {
            properties["imageAllowlisted"] = json!(true);
        }
        results.push(json!({
            "ruleId": rule_id,
            "ruleIndex": rule_index,
            "level": level,
            "message": {"text": decision.message},
            "locations": [sarif::location(path, &image, "resource")],
            "partialFingerprints": {
                DECISION_FINGERPRINT:
                    sarif::sha256_hex(&format!("{} {} {}", decision.gate, decision.trigger, decision.trigger_id)),
            },
            "properties": properties,
        }));
    }
    let notifications: Vec<Value> = evaluation
        .problems
        .iter()
        .map(|problem| json!({"level": "error", "message": {"text": problem_text(problem)}}))
        .collect();
    let run = json!({
        "tool": {"driver": sarif::driver("portcullis-policy", rules)},
        "invocations": [{
            "executionSuccessful": evaluation.problems.is_empty(),
            "toolExecutionNotifications": notifications,
        }],
        "results": results,
        "properties": {
            "image": image,
            "bundleId": evaluation.bundle_id,
            "bundleDigest": evaluation.bundle_digest,
            "finalAction": evaluation.final_action,
            "finalActionReason": evaluation.final_action_reason,
            "status": evaluation.status,
        },
    });
    crate::to_pretty_json(&sarif::log(run), "policy sarif")
}
