//! Reading and validating policy bundles.
//!
//! Both namings load into one [`Bundle`]: Anchore's v1 (`version: "1_0"`,
//! `policies`, `whitelists`, `whitelisted_images`, `blacklisted_images`,
//! mapping `policy_id`/`policy_ids` and `whitelist_ids`) and the later v2
//! (`version: "V2"`, `rule_sets`, `allowlists`, `allowlisted_images`,
//! `denylisted_images`, mapping `rule_set_ids` and `allowlist_ids`,
//! `description` for the comment). JSON, or YAML when the document does not
//! start with `{`. Every problem is collected and reported with its location.

use std::collections::BTreeSet;
use std::fmt;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::model::{
    Action, Allowlist, AllowlistItem, Bundle, ImageMatch, ImageSelector, Mapping, Naming, Policy, Rule,
};
use crate::spec;

/// One problem in a bundle, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleIssue {
    /// E.g. `policy "p1" rule "r3" (vulnerabilities/package)`.
    pub location: String,
    pub reason: String,
}

impl fmt::Display for BundleIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.reason)
    }
}

#[derive(Debug, Error)]
pub enum BundleError {
    #[error("policy bundle is not valid JSON: {0}")]
    Json(#[source] serde_json::Error),
    #[error("policy bundle is not valid YAML: {0}")]
    Yaml(#[source] serde_norway::Error),
    #[error("invalid policy bundle ({} problem{}):\n{}", .0.len(), if .0.len() == 1 { "" } else { "s" }, list(.0))]
    Invalid(Vec<BundleIssue>),
}

impl BundleError {
    /// The validation problems (empty when the document did not parse).
    pub fn issues(&self) -> &[BundleIssue] {
        match self {
            BundleError::Invalid(issues) => issues,
            BundleError::Json(_) | BundleError::Yaml(_) => &[],
        }
    }
}

fn list(issues: &[BundleIssue]) -> String {
    issues.iter().map(|issue| format!("  {issue}")).collect::<Vec<_>>().join("\n")
}

/// Reads and validates a bundle; `digest` is the sha256 of `bytes` as given.
pub fn load(bytes: &[u8]) -> Result<Bundle, BundleError> {
    let raw = parse(bytes)?;
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
    let mut checker = Checker { naming: Naming::V1, issues: Vec::new() };
    let bundle = checker.bundle(raw, digest);
    if checker.issues.is_empty() { Ok(bundle) } else { Err(BundleError::Invalid(checker.issues)) }
}

fn parse(bytes: &[u8]) -> Result<RawBundle, BundleError> {
    let text_start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    if text_start.and_then(|i| bytes.get(i)) == Some(&b'{') {
        serde_json::from_slice(bytes).map_err(BundleError::Json)
    } else {
        serde_norway::from_slice(bytes).map_err(BundleError::Yaml)
    }
}

/// A scalar written as a string in JSON bundles, possibly unquoted in YAML.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Text(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Text(text) => text.clone(),
            Scalar::Integer(number) => number.to_string(),
            Scalar::Float(number) => number.to_string(),
            Scalar::Bool(flag) => flag.to_string(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct RawBundle {
    id: Option<String>,
    name: Option<String>,
    comment: Option<String>,
    description: Option<String>,
    version: Option<Scalar>,
    policies: Option<Vec<RawPolicy>>,
    rule_sets: Option<Vec<RawPolicy>>,
    whitelists: Option<Vec<RawAllowlist>>,
    allowlists: Option<Vec<RawAllowlist>>,
    #[serde(default)]
    mappings: Vec<RawMapping>,
    whitelisted_images: Option<Vec<RawSelector>>,
    allowlisted_images: Option<Vec<RawSelector>>,
    blacklisted_images: Option<Vec<RawSelector>>,
    denylisted_images: Option<Vec<RawSelector>>,
    /// Portcullis extension: `pass` (Anchore's behaviour) or `fail`.
    unmapped: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawPolicy {
    id: Option<String>,
    name: Option<String>,
    comment: Option<String>,
    description: Option<String>,
    version: Option<Scalar>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
struct RawRule {
    id: Option<String>,
    gate: Option<String>,
    trigger: Option<String>,
    action: Option<String>,
    #[serde(default)]
    params: Vec<RawParam>,
}

#[derive(Debug, Deserialize)]
struct RawParam {
    name: Option<String>,
    value: Option<Scalar>,
}

#[derive(Debug, Deserialize)]
struct RawAllowlist {
    id: Option<String>,
    name: Option<String>,
    comment: Option<String>,
    description: Option<String>,
    version: Option<Scalar>,
    #[serde(default)]
    items: Vec<RawItem>,
}

#[derive(Debug, Deserialize)]
struct RawItem {
    id: Option<String>,
    gate: Option<String>,
    trigger_id: Option<String>,
    expires_on: Option<String>,
    reason: Option<String>,
    package: Option<String>,
    version: Option<Scalar>,
    path: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawSelector {
    id: Option<String>,
    name: Option<String>,
    registry: Option<String>,
    repository: Option<String>,
    image: Option<RawImage>,
}

#[derive(Debug, Deserialize)]
struct RawImage {
    #[serde(rename = "type")]
    kind: Option<String>,
    value: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawMapping {
    #[serde(flatten)]
    selector: RawSelector,
    policy_id: Option<String>,
    policy_ids: Option<Vec<String>>,
    whitelist_ids: Option<Vec<String>>,
    rule_set_ids: Option<Vec<String>>,
    allowlist_ids: Option<Vec<String>>,
}

const V1_VERSION: &str = "1_0";
const V2_VERSION: &str = "V2";

fn naming_of_version(version: &str) -> Option<Naming> {
    match version.trim() {
        V1_VERSION => Some(Naming::V1),
        v if v.eq_ignore_ascii_case(V2_VERSION) || v == "2" => Some(Naming::V2),
        _ => None,
    }
}

fn version_text(naming: Naming) -> &'static str {
    match naming {
        Naming::V1 => V1_VERSION,
        Naming::V2 => V2_VERSION,
    }
}

/// A non-blank string, trimmed.
fn present(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// `kind "id"`, or `kind #n` (1-based) when the entry has no id.
fn located(kind: &str, id: Option<&str>, index: usize) -> String {
    match id {
        Some(id) => format!("{kind} {id:?}"),
        None => format!("{kind} #{}", index + 1),
    }
}

/// Reports, in one place, ids that appear more than once.
fn report_duplicates<'a>(ids: impl Iterator<Item = &'a str>, mut report: impl FnMut(&str)) {
    let mut seen = BTreeSet::new();
    let mut reported = BTreeSet::new();
    for id in ids {
        if !seen.insert(id) && reported.insert(id) {
            report(id);
        }
    }
}

struct Checker {
    naming: Naming,
    issues: Vec<BundleIssue>,
}

impl Checker {
    fn report(&mut self, location: &str, reason: impl Into<String>) {
        self.issues.push(BundleIssue { location: location.to_owned(), reason: reason.into() });
    }

    fn policy_word(&self) -> &'static str {
        match self.naming {
            Naming::V1 => "policy",
            Naming::V2 => "rule set",
        }
    }

    fn allowlist_word(&self) -> &'static str {
        match self.naming {
            Naming::V1 => "whitelist",
            Naming::V2 => "allowlist",
        }
    }

    fn bundle(&mut self, raw: RawBundle, digest: String) -> Bundle {
        self.naming = self.bundle_naming(&raw);
        let id = present(raw.id);
        if id.is_none() {
            self.report("bundle", "\"id\" is missing");
        }
        let raw_policies = self.field_of_naming(("policies", raw.policies), ("rule_sets", raw.rule_sets), "bundle");
        let raw_allowlists =
            self.field_of_naming(("whitelists", raw.whitelists), ("allowlists", raw.allowlists), "bundle");
        let raw_allowed_images = self.field_of_naming(
            ("whitelisted_images", raw.whitelisted_images),
            ("allowlisted_images", raw.allowlisted_images),
            "bundle",
        );
        let raw_denied_images = self.field_of_naming(
            ("blacklisted_images", raw.blacklisted_images),
            ("denylisted_images", raw.denylisted_images),
            "bundle",
        );

        let policies: Vec<Policy> =
            raw_policies.into_iter().enumerate().map(|(index, policy)| self.policy(policy, index)).collect();
        let policy_word = self.policy_word();
        report_duplicates(policies.iter().map(|p| p.id.as_str()).filter(|id| !id.is_empty()), |id| {
            self.report(&format!("{policy_word} {id:?}"), "the id is used by more than one")
        });
        let allowlists: Vec<Allowlist> =
            raw_allowlists.into_iter().enumerate().map(|(index, list)| self.allowlist(list, index)).collect();
        let allowlist_word = self.allowlist_word();
        report_duplicates(allowlists.iter().map(|a| a.id.as_str()).filter(|id| !id.is_empty()), |id| {
            self.report(&format!("{allowlist_word} {id:?}"), "the id is used by more than one")
        });

        let known_policies: BTreeSet<&str> = policies.iter().map(|p| p.id.as_str()).collect();
        let known_allowlists: BTreeSet<&str> = allowlists.iter().map(|a| a.id.as_str()).collect();
        let mappings = raw
            .mappings
            .into_iter()
            .enumerate()
            .map(|(index, mapping)| self.mapping(mapping, index, &known_policies, &known_allowlists))
            .collect();
        let (allowed_key, denied_key) = match self.naming {
            Naming::V1 => ("whitelisted_images", "blacklisted_images"),
            Naming::V2 => ("allowlisted_images", "denylisted_images"),
        };
        let allowlisted_images = self.image_list(raw_allowed_images, allowed_key);
        let denylisted_images = self.image_list(raw_denied_images, denied_key);

        Bundle {
            id: id.unwrap_or_default(),
            name: present(raw.name),
            comment: present(raw.comment.or(raw.description)),
            naming: self.naming,
            policies,
            allowlists,
            mappings,
            allowlisted_images,
            denylisted_images,
            unmapped_action: self.unmapped_action(raw.unmapped),
            digest,
        }
    }

    /// The naming the bundle's version says; without a usable version, the
    /// one its keys suggest, so the rest can still be checked.
    fn bundle_naming(&mut self, raw: &RawBundle) -> Naming {
        let uses_v2_keys = raw.rule_sets.is_some() || raw.allowlists.is_some();
        let guessed = if uses_v2_keys { Naming::V2 } else { Naming::V1 };
        match raw.version.as_ref().map(Scalar::text) {
            None => {
                self.report("bundle", format!("\"version\" is missing (use {V1_VERSION:?} or {V2_VERSION:?})"));
                guessed
            }
            Some(version) => naming_of_version(&version).unwrap_or_else(|| {
                self.report("bundle", format!("version {version:?} is not {V1_VERSION:?} or {V2_VERSION:?}"));
                guessed
            }),
        }
    }

    /// The field of the bundle's naming; the other naming's field is an error
    /// (mixing them would silently drop half the bundle).
    fn field_of_naming<T>(&mut self, v1: (&str, Option<Vec<T>>), v2: (&str, Option<Vec<T>>), location: &str) -> Vec<T> {
        let ((own_key, own), (foreign_key, foreign)) = match self.naming {
            Naming::V1 => (v1, v2),
            Naming::V2 => (v2, v1),
        };
        if foreign.is_some() {
            let version = version_text(self.naming);
            self.report(
                location,
                format!("{foreign_key:?} does not belong in a version {version:?} bundle; use {own_key:?}"),
            );
        }
        own.unwrap_or_default()
    }

    /// A policy's or allowlist's own `version`, when given, must be the bundle's.
    fn check_member_version(&mut self, location: &str, version: Option<&Scalar>) {
        let Some(version) = version.map(Scalar::text) else { return };
        if naming_of_version(&version) != Some(self.naming) {
            let expected = version_text(self.naming);
            self.report(location, format!("version {version:?} does not match the bundle's {expected:?}"));
        }
    }

    fn policy(&mut self, raw: RawPolicy, index: usize) -> Policy {
        let id = present(raw.id);
        let location = located(self.policy_word(), id.as_deref(), index);
        if id.is_none() {
            self.report(&location, "\"id\" is missing");
        }
        self.check_member_version(&location, raw.version.as_ref());
        let rules: Vec<Rule> =
            raw.rules.into_iter().enumerate().map(|(index, rule)| self.rule(rule, index, &location)).collect();
        report_duplicates(rules.iter().map(|r| r.id.as_str()).filter(|id| !id.is_empty()), |id| {
            self.report(&format!("{location} rule {id:?}"), "the id is used by more than one rule of this policy")
        });
        Policy {
            id: id.unwrap_or_default(),
            name: present(raw.name),
            comment: present(raw.comment.or(raw.description)),
            rules,
        }
    }

    fn rule(&mut self, raw: RawRule, index: usize, policy_location: &str) -> Rule {
        let id = present(raw.id);
        let rule_location = format!("{policy_location} {}", located("rule", id.as_deref(), index));
        if id.is_none() {
            self.report(&rule_location, "\"id\" is missing");
        }
        let gate = present(raw.gate).map(|g| g.to_ascii_lowercase());
        let trigger = present(raw.trigger).map(|t| t.to_ascii_lowercase());
        if gate.is_none() {
            self.report(&rule_location, "\"gate\" is missing");
        }
        if trigger.is_none() {
            self.report(&rule_location, "\"trigger\" is missing");
        }
        let action = match present(raw.action) {
            None => {
                self.report(&rule_location, "\"action\" is missing");
                Action::Stop
            }
            Some(text) => Action::parse(&text).unwrap_or_else(|| {
                self.report(&rule_location, format!("action {text:?} is not one of STOP, WARN, GO"));
                Action::Stop
            }),
        };

        let mut given = Vec::with_capacity(raw.params.len());
        for (param_index, param) in raw.params.into_iter().enumerate() {
            match present(param.name) {
                Some(name) => given.push((name, param.value.as_ref().map(Scalar::text).unwrap_or_default())),
                None => self.report(&rule_location, format!("parameter #{} has no name", param_index + 1)),
            }
        }

        let (Some(gate), Some(trigger)) = (gate, trigger) else {
            return Rule {
                id: id.unwrap_or_default(),
                gate: String::new(),
                trigger: String::new(),
                action,
                params: given,
            };
        };
        match spec::trigger(&gate, &trigger) {
            Err(problem) => {
                self.report(&rule_location, problem.to_string());
                Rule { id: id.unwrap_or_default(), gate, trigger, action, params: given }
            }
            Ok((gate_spec, trigger_spec)) => {
                let location = format!("{rule_location} ({}/{})", gate_spec.name, trigger_spec.name);
                if let Err(problems) = trigger_spec.validate(&given) {
                    for problem in problems {
                        self.report(&location, problem.to_string());
                    }
                }
                let params = given
                    .into_iter()
                    .map(|(name, value)| {
                        let canonical =
                            trigger_spec.param(&name).map_or_else(|| name.to_ascii_lowercase(), |p| p.name.to_owned());
                        (canonical, value)
                    })
                    .collect();
                Rule {
                    id: id.unwrap_or_default(),
                    gate: gate_spec.name.to_owned(),
                    trigger: trigger_spec.name.to_owned(),
                    action,
                    params,
                }
            }
        }
    }

    fn allowlist(&mut self, raw: RawAllowlist, index: usize) -> Allowlist {
        let id = present(raw.id);
        let location = located(self.allowlist_word(), id.as_deref(), index);
        if id.is_none() {
            self.report(&location, "\"id\" is missing");
        }
        self.check_member_version(&location, raw.version.as_ref());
        let items: Vec<AllowlistItem> = raw
            .items
            .into_iter()
            .enumerate()
            .map(|(index, item)| self.allowlist_item(item, index, &location))
            .collect();
        report_duplicates(items.iter().map(|i| i.id.as_str()).filter(|id| !id.is_empty()), |id| {
            self.report(&format!("{location} item {id:?}"), "the id is used by more than one item of this list")
        });
        Allowlist {
            id: id.unwrap_or_default(),
            name: present(raw.name),
            comment: present(raw.comment.or(raw.description)),
            items,
        }
    }

    fn allowlist_item(&mut self, raw: RawItem, index: usize, list_location: &str) -> AllowlistItem {
        let id = present(raw.id);
        let location = format!("{list_location} {}", located("item", id.as_deref(), index));
        if id.is_none() {
            self.report(&location, "\"id\" is missing");
        }
        let gate = present(raw.gate).map(|g| g.to_ascii_lowercase());
        match gate.as_deref() {
            None => self.report(&location, "\"gate\" is missing"),
            Some(name) if spec::gate(name).is_none() => self.report(&location, format!("unknown gate {name:?}")),
            Some(_) => {}
        }
        let trigger_id = present(raw.trigger_id);
        if trigger_id.is_none() {
            self.report(&location, "\"trigger_id\" is missing");
        }
        let expires_on = present(raw.expires_on);
        if let Some(expiry) = &expires_on
            && let Err(error) = chrono::DateTime::parse_from_rfc3339(expiry)
        {
            self.report(
                &location,
                format!("expires_on {expiry:?} is not an RFC 3339 time such as 2024-01-31T00:00:00Z ({error})"),
            );
        }
        let path = present(raw.path);
        if let Some(path) = &path {
            self.check_pattern(&location, "path", path);
        }
        AllowlistItem {
            id: id.unwrap_or_default(),
            gate: gate.unwrap_or_default(),
            trigger_id: trigger_id.unwrap_or_default(),
            expires_on,
            reason: present(raw.reason),
            package: present(raw.package),
            version: present(raw.version.as_ref().map(Scalar::text)),
            path,
        }
    }

    /// Wildcards (`*`) always compile; a `regexp:` pattern must be a valid regex.
    fn check_pattern(&mut self, location: &str, field: &str, pattern: &str) {
        if let Some(regex) = pattern.strip_prefix("regexp:")
            && let Some(problem) = spec::regex_problem(regex)
        {
            self.report(location, format!("{field} {pattern:?} {problem}"));
        }
    }

    fn selector(&mut self, raw: RawSelector, location: &str) -> ImageSelector {
        let registry = match present(raw.registry) {
            Some(registry) => docker_hub_as_docker_io(registry),
            None => {
                self.report(location, "\"registry\" is missing");
                String::new()
            }
        };
        let repository = present(raw.repository).unwrap_or_else(|| {
            self.report(location, "\"repository\" is missing");
            String::new()
        });
        self.check_pattern(location, "registry", &registry);
        self.check_pattern(location, "repository", &repository);
        let image = match raw.image {
            None => {
                self.report(location, "\"image\" is missing");
                ImageMatch::Tag(String::new())
            }
            Some(image) => self.image_match(image, location),
        };
        ImageSelector { id: present(raw.id), name: present(raw.name), registry, repository, image }
    }

    fn image_match(&mut self, raw: RawImage, location: &str) -> ImageMatch {
        let value = present(raw.value).unwrap_or_else(|| {
            self.report(location, "\"image\" has no \"value\"");
            String::new()
        });
        match present(raw.kind).map(|k| k.to_ascii_lowercase()).as_deref() {
            Some("tag") => {
                self.check_pattern(location, "image tag", &value);
                ImageMatch::Tag(value)
            }
            Some("digest") => ImageMatch::Digest(value),
            Some("id") => ImageMatch::Id(value),
            Some(other) => {
                self.report(location, format!("image type {other:?} is not one of tag, digest, id"));
                ImageMatch::Tag(value)
            }
            None => {
                self.report(location, "\"image\" has no \"type\"");
                ImageMatch::Tag(value)
            }
        }
    }

    fn mapping(
        &mut self,
        raw: RawMapping,
        index: usize,
        known_policies: &BTreeSet<&str>,
        known_allowlists: &BTreeSet<&str>,
    ) -> Mapping {
        let RawMapping { selector, policy_id, policy_ids, whitelist_ids, rule_set_ids, allowlist_ids } = raw;
        let label = selector.id.as_deref().or(selector.name.as_deref()).map(str::trim).filter(|l| !l.is_empty());
        let location = located("mapping", label, index);
        let policy_ids = self.mapping_policy_ids(policy_id, policy_ids, rule_set_ids, &location);
        let allowlist_ids =
            self.field_of_naming(("whitelist_ids", whitelist_ids), ("allowlist_ids", allowlist_ids), &location);
        let policy_word = self.policy_word();
        for missing in policy_ids.iter().filter(|id| !known_policies.contains(id.as_str())) {
            self.report(&location, format!("{policy_word} {missing:?} does not exist"));
        }
        let allowlist_word = self.allowlist_word();
        for missing in allowlist_ids.iter().filter(|id| !known_allowlists.contains(id.as_str())) {
            self.report(&location, format!("{allowlist_word} {missing:?} does not exist"));
        }
        let selector = self.selector(selector, &location);
        Mapping { id: selector.id.clone(), name: selector.name.clone(), selector, policy_ids, allowlist_ids }
    }

    /// v1: `policy_id` or `policy_ids`, not both; v2: `rule_set_ids`. At least one id.
    fn mapping_policy_ids(
        &mut self,
        policy_id: Option<String>,
        policy_ids: Option<Vec<String>>,
        rule_set_ids: Option<Vec<String>>,
        location: &str,
    ) -> Vec<String> {
        if policy_id.is_some() && policy_ids.is_some() {
            self.report(location, "has both \"policy_id\" and \"policy_ids\"; use one");
            return Vec::new();
        }
        let v1_ids = match (policy_id, policy_ids) {
            (Some(id), _) => Some(vec![id]),
            (None, ids) => ids,
        };
        let ids = self.field_of_naming(("policy_ids", v1_ids), ("rule_set_ids", rule_set_ids), location);
        if ids.is_empty() {
            let word = self.policy_word();
            self.report(location, format!("names no {word}"));
        }
        ids
    }

    fn image_list(&mut self, raw: Vec<RawSelector>, key: &str) -> Vec<ImageSelector> {
        raw.into_iter()
            .enumerate()
            .map(|(index, entry)| {
                let label = entry.id.as_deref().or(entry.name.as_deref()).map(str::trim).filter(|l| !l.is_empty());
                let location = format!("{key} {}", located("entry", label, index));
                self.selector(entry, &location)
            })
            .collect()
    }

    fn unmapped_action(&mut self, unmapped: Option<String>) -> Action {
        match present(unmapped).map(|u| u.to_ascii_lowercase()).as_deref() {
            None | Some("pass") => Action::Go,
            Some("fail") => Action::Stop,
            Some(other) => {
                self.report("bundle", format!("unmapped {other:?} is not pass or fail"));
                Action::Go
            }
        }
    }
}

/// Anchore rewrites Docker Hub's old name: `dockerhub` (alone or as a
/// prefix) means `docker.io`.
fn docker_hub_as_docker_io(registry: String) -> String {
    if registry == "dockerhub" {
        "docker.io".to_owned()
    } else if let Some(rest) = registry.strip_prefix("dockerhub/") {
        format!("docker.io/{rest}")
    } else {
        registry
    }
}
