//! Evaluating a bundle on one image, with Anchore's semantics
//! (`policy/bundles.py`, `util/matcher.py`): the first matching mapping
//! picks the policies and allowlists; every rule's trigger matches become
//! decisions; allowlist items turn decisions into GO; the image lists
//! override the policy result (the denylist first).

use chrono::{DateTime, Utc};
use portcullis_match::Origin;
use regex::Regex;
use serde::Serialize;
use thiserror::Error;

use crate::gates::{EvalContext, MatchedPackage, evaluate_trigger};
use crate::model::{Action, AllowlistItem, Bundle, ImageMatch, ImageSelector, Mapping, Policy};

/// The image being evaluated, as mappings and image lists see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageIdentity {
    /// `docker.io`, `ghcr.io`, `localhost:5000`...
    pub registry: String,
    /// `library/debian`, `org/app`...
    pub repository: String,
    pub tag: Option<String>,
    /// The manifest digest, `sha256:...`.
    pub digest: Option<String>,
    /// The image id: the config digest (`sha256:...` or bare hex).
    pub image_id: Option<String>,
}

/// A reference string that does not name an image.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("image reference {reference:?}: {reason}")]
pub struct ReferenceError {
    pub reference: String,
    pub reason: String,
}

impl ImageIdentity {
    /// Reads `[registry/]repository[:tag][@digest]` the way Anchore
    /// normalises it: `dockerhub/` means `docker.io/`, a name without a
    /// registry is on `docker.io`, a single-name Docker Hub repository is
    /// under `library/`, and a reference with neither tag nor digest means `latest`.
    pub fn from_reference(reference: &str) -> Result<ImageIdentity, ReferenceError> {
        let invalid = |reason: &str| ReferenceError { reference: reference.to_owned(), reason: reason.to_owned() };
        let text = reference.trim();
        let text = match text.strip_prefix("dockerhub/") {
            Some(rest) => format!("docker.io/{rest}"),
            None => text.to_owned(),
        };
        let (name_and_tag, digest) = match text.split_once('@') {
            Some((name, digest)) if digest.contains(':') => (name, Some(digest.to_owned())),
            Some(_) => return Err(invalid("the part after '@' is not an algorithm:hex digest")),
            None => (text.as_str(), None),
        };
        // A ':' after the last '/' starts the tag; an earlier one is a port.
        let last_slash = name_and_tag.rfind('/');
        let (name, tag) = match name_and_tag.rfind(':') {
            Some(colon) if last_slash.is_none_or(|slash| colon > slash) => {
                (name_and_tag.get(..colon).unwrap_or_default(), name_and_tag.get(colon + 1..))
            }
            _ => (name_and_tag, None),
        };
        if name.is_empty() || name.split('/').any(str::is_empty) {
            return Err(invalid("the repository name is empty or has an empty path component"));
        }
        if tag.is_some_and(str::is_empty) {
            return Err(invalid("the tag after ':' is empty"));
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                (first.to_ascii_lowercase(), rest.to_owned())
            }
            _ => ("docker.io".to_owned(), name.to_owned()),
        };
        let repository = if registry == "docker.io" && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        let tag = match (tag, &digest) {
            (Some(tag), _) => Some(tag.to_owned()),
            (None, None) => Some("latest".to_owned()),
            (None, Some(_)) => None,
        };
        Ok(ImageIdentity { registry, repository, tag, digest, image_id: None })
    }
}

/// The outcome of evaluating a bundle on an image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub bundle_id: String,
    pub bundle_name: Option<String>,
    pub bundle_digest: String,
    pub image: ImageIdentity,
    /// The mapping that selected the policies, `None` when none matched.
    pub mapping: Option<MatchedMapping>,
    pub decisions: Vec<Decision>,
    /// Rules that could not be evaluated; any makes the final action STOP.
    pub problems: Vec<Problem>,
    pub final_action: Action,
    pub final_action_reason: FinalActionReason,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchedMapping {
    pub id: Option<String>,
    pub name: Option<String>,
}

/// One trigger match and what the policy does with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub policy_id: String,
    pub rule_id: String,
    pub gate: String,
    pub trigger: String,
    pub trigger_id: String,
    pub message: String,
    /// The rule's action (the decision counts as GO when allowlisted).
    pub action: Action,
    pub allowlisted: Option<AllowlistedBy>,
    /// For a decision about a package: whether the base image brought it in
    /// or this image added it; absent when the base image is not known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllowlistedBy {
    pub allowlist_id: String,
    pub item_id: String,
    pub reason: Option<String>,
}

/// A rule or reference that could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub policy_id: Option<String>,
    pub rule_id: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinalActionReason {
    /// The image matched `denylisted_images` (Anchore: `blacklisted`).
    Denylisted,
    /// The image matched `allowlisted_images` (Anchore: `whitelisted`).
    Allowlisted,
    PolicyEvaluation,
    /// Some rules could not be evaluated.
    EvaluationProblems,
    /// No mapping selected the image.
    Unmapped,
}

/// Anchore's API status: `pass` iff the final action is GO or WARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
}

impl Status {
    fn of(action: Action) -> Status {
        if action == Action::Stop { Status::Fail } else { Status::Pass }
    }
}

/// Evaluates `bundle` on the image `image` whose analysis is in `ctx`.
pub fn evaluate(bundle: &Bundle, image: &ImageIdentity, ctx: &EvalContext<'_>) -> Evaluation {
    let mapping = bundle.mappings.iter().find(|mapping| selects(&mapping.selector, image));
    let mut decisions = Vec::new();
    let mut problems = Vec::new();
    let policy_action = match mapping {
        Some(mapping) => {
            let allowlist_items = mapping_allowlist_items(bundle, mapping, &mut problems);
            let mut bundle_action = Action::Go;
            for policy_id in &mapping.policy_ids {
                let Some(policy) = bundle.policies.iter().find(|policy| &policy.id == policy_id) else {
                    problems.push(Problem {
                        policy_id: Some(policy_id.clone()),
                        rule_id: None,
                        message: format!("mapping names policy {policy_id:?}, which the bundle does not define"),
                    });
                    continue;
                };
                let policy_decisions = evaluate_policy(policy, &allowlist_items, ctx, &mut problems);
                bundle_action = bundle_action.min(policy_result(&policy_decisions));
                decisions.extend(policy_decisions);
            }
            bundle_action
        }
        None => bundle.unmapped_action,
    };
    let (final_action, final_action_reason) =
        if bundle.denylisted_images.iter().any(|selector| selects(selector, image)) {
            (Action::Stop, FinalActionReason::Denylisted)
        } else if !problems.is_empty() {
            // As Anchore aborts a failed evaluation before the image lists: a
            // broken bundle never lets an image through, even an allowlisted one.
            (Action::Stop, FinalActionReason::EvaluationProblems)
        } else if bundle.allowlisted_images.iter().any(|selector| selects(selector, image)) {
            (Action::Go, FinalActionReason::Allowlisted)
        } else if mapping.is_none() {
            (policy_action, FinalActionReason::Unmapped)
        } else {
            (policy_action, FinalActionReason::PolicyEvaluation)
        };
    Evaluation {
        bundle_id: bundle.id.clone(),
        bundle_name: bundle.name.clone(),
        bundle_digest: bundle.digest.clone(),
        image: image.clone(),
        mapping: mapping.map(|mapping| MatchedMapping { id: mapping.id.clone(), name: mapping.name.clone() }),
        decisions,
        problems,
        final_action,
        final_action_reason,
        status: Status::of(final_action),
    }
}

/// Min over the decisions not allowlisted; GO when there are none.
fn policy_result(decisions: &[Decision]) -> Action {
    decisions
        .iter()
        .filter(|decision| decision.allowlisted.is_none())
        .map(|decision| decision.action)
        .min()
        .unwrap_or(Action::Go)
}

/// An allowlist item with the id of the allowlist it belongs to.
struct ScopedItem<'a> {
    allowlist_id: &'a str,
    item: &'a AllowlistItem,
}

fn mapping_allowlist_items<'a>(
    bundle: &'a Bundle,
    mapping: &Mapping,
    problems: &mut Vec<Problem>,
) -> Vec<ScopedItem<'a>> {
    let mut items = Vec::new();
    for allowlist_id in &mapping.allowlist_ids {
        match bundle.allowlists.iter().find(|allowlist| &allowlist.id == allowlist_id) {
            Some(allowlist) => {
                items.extend(allowlist.items.iter().map(|item| ScopedItem { allowlist_id: &allowlist.id, item }))
            }
            None => problems.push(Problem {
                policy_id: None,
                rule_id: None,
                message: format!("mapping names allowlist {allowlist_id:?}, which the bundle does not define"),
            }),
        }
    }
    items
}

fn evaluate_policy(
    policy: &Policy,
    allowlist_items: &[ScopedItem<'_>],
    ctx: &EvalContext<'_>,
    problems: &mut Vec<Problem>,
) -> Vec<Decision> {
    let mut decisions = Vec::new();
    for rule in &policy.rules {
        let params = crate::spec::validate_params(&rule.gate, &rule.trigger, &rule.params).map_err(|e| e.to_string());
        let evaluated = params
            .and_then(|params| evaluate_trigger(&rule.gate, &rule.trigger, &params, ctx).map_err(|e| e.to_string()));
        let matches = match evaluated {
            Ok(matches) => matches,
            Err(message) => {
                problems.push(Problem {
                    policy_id: Some(policy.id.clone()),
                    rule_id: Some(rule.id.clone()),
                    message: format!("rule {:?} ({}/{}): {message}", rule.id, rule.gate, rule.trigger),
                });
                continue;
            }
        };
        for found in matches {
            let allowlisted = allowlist_items
                .iter()
                .find(|scoped| {
                    item_matches(scoped.item, &rule.gate, &found.trigger_id, found.package.as_ref(), ctx.now)
                })
                .map(|scoped| AllowlistedBy {
                    allowlist_id: scoped.allowlist_id.to_owned(),
                    item_id: scoped.item.id.clone(),
                    reason: scoped.item.reason.clone(),
                });
            decisions.push(Decision {
                policy_id: policy.id.clone(),
                rule_id: rule.id.clone(),
                gate: rule.gate.clone(),
                trigger: rule.trigger.clone(),
                trigger_id: found.trigger_id,
                message: found.message,
                action: rule.action,
                allowlisted,
                origin: found.package.and_then(|package| package.origin),
            });
        }
    }
    decisions
}

/// Anchore's item match (gate case-insensitively, trigger id exactly or by
/// wildcard, not expired) plus Portcullis' optional package scoping: an
/// item scoped to a package, version or path never matches a decision that
/// is not about a package.
fn item_matches(
    item: &AllowlistItem,
    gate: &str,
    trigger_id: &str,
    package: Option<&MatchedPackage>,
    now: DateTime<Utc>,
) -> bool {
    if !item.gate.eq_ignore_ascii_case(gate)
        || !(item.trigger_id == trigger_id || pattern_matches(&item.trigger_id, trigger_id))
    {
        return false;
    }
    if is_expired(item, now) {
        return false;
    }
    let scoped = item.package.is_some() || item.version.is_some() || item.path.is_some();
    if !scoped {
        return true;
    }
    let Some(package) = package else { return false };
    item.package.as_ref().is_none_or(|name| name == &package.name)
        && item.version.as_ref().is_none_or(|version| version == &package.version)
        && item
            .path
            .as_ref()
            .is_none_or(|pattern| package.path.as_deref().is_some_and(|path| pattern_matches(pattern, path)))
}

/// `now >= expires_on` ignores the item. An unreadable date (which bundle
/// validation rejects) counts as expired, so it can never silence a finding.
fn is_expired(item: &AllowlistItem, now: DateTime<Utc>) -> bool {
    item.expires_on.as_deref().is_some_and(|expires| {
        DateTime::parse_from_rfc3339(expires).map_or(true, |expires| now >= expires.with_timezone(&Utc))
    })
}

fn selects(selector: &ImageSelector, image: &ImageIdentity) -> bool {
    if !pattern_matches(&selector.registry, &image.registry)
        || !pattern_matches(&selector.repository, &image.repository)
    {
        return false;
    }
    let id_is = |wanted: &str| image.image_id.as_deref().is_some_and(|id| same_image_id(wanted, id));
    let digest_is = |wanted: &str| image.digest.as_deref() == Some(wanted);
    match &selector.image {
        ImageMatch::Tag(pattern) => {
            image.tag.as_deref().is_some_and(|tag| pattern_matches(pattern, tag))
                || id_is(pattern)
                || digest_is(pattern)
        }
        ImageMatch::Digest(digest) => digest_is(digest),
        ImageMatch::Id(id) => id_is(id),
    }
}

/// Anchore's image ids are bare hex; Portcullis' config digests carry `sha256:`.
fn same_image_id(wanted: &str, id: &str) -> bool {
    let bare = |text: &str| text.strip_prefix("sha256:").unwrap_or(text).to_owned();
    bare(wanted) == bare(id)
}

/// Anchore's matcher: `regexp:` followed by a regular expression that must
/// match at the start of the value (Python's `re.match`); otherwise `*`
/// matches any run of characters and the pattern must match the whole value.
/// An invalid `regexp:` (rejected at bundle load) matches nothing.
pub fn pattern_matches(pattern: &str, value: &str) -> bool {
    match pattern.trim_start().strip_prefix("regexp:") {
        Some(raw) => Regex::new(&format!("^(?:{raw})")).is_ok_and(|regex| regex.is_match(value)),
        None => wildcard_matches(pattern, value),
    }
}

/// `*` wildcards without a regex (allowlists are matched against every
/// decision): the first piece is a prefix, the last a suffix, and the ones
/// between occur in order; taking the leftmost occurrence of each is enough.
fn wildcard_matches(pattern: &str, value: &str) -> bool {
    let mut pieces = pattern.split('*');
    let first = pieces.next().unwrap_or_default();
    let Some(mut rest) = value.strip_prefix(first) else { return false };
    let mut middle: Vec<&str> = pieces.collect();
    let Some(last) = middle.pop() else { return rest.is_empty() };
    for piece in middle {
        match rest.find(piece) {
            Some(at) => rest = rest.get(at + piece.len()..).unwrap_or_default(),
            None => return false,
        }
    }
    rest.ends_with(last)
}
