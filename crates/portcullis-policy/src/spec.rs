//! Every gate, trigger and parameter, as data.
//!
//! The table follows Anchore Engine's policy engine (gate and parameter
//! names, types, aliases and the defaults its triggers apply when a parameter
//! is absent), plus Portcullis extensions marked as such. Bundles are
//! validated against it at load; gates read the [`Params`] it produces.

use portcullis_catalog::content::dockerfile;
use serde::Serialize;
use thiserror::Error;

use crate::params::Params;

/// How a parameter value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "values", rename_all = "snake_case")]
pub enum ParamType {
    Str,
    /// A regular expression; must compile.
    Regex,
    /// One of these values, case-insensitive; stored in the spelling given here.
    Enum(&'static [&'static str]),
    /// Comma-separated strings.
    Csv,
    /// Comma-separated integers.
    CsvInt,
    /// `true` or `false`, case-insensitive.
    Bool,
    Int,
    Float,
    /// A comparison operator: `=`, `!=`, `<`, `>`, `<=`, `>=`.
    Cmp,
    /// An octal file mode such as `00644`.
    Mode,
}

const COMPARISONS: &[&str] = &["=", "!=", "<", ">", "<=", ">="];

/// Severities in Anchore's order, lowest first.
pub const SEVERITIES: &[&str] = &["unknown", "negligible", "low", "medium", "high", "critical"];

#[derive(Debug, Clone, Copy, Serialize)]
pub struct ParamSpec {
    /// Canonical lower-case name.
    pub name: &'static str,
    /// Older names accepted in bundles and rewritten to `name`.
    pub aliases: &'static [&'static str],
    pub kind: ParamType,
    pub required: bool,
    /// The value the trigger uses when the parameter is absent.
    pub default: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct TriggerSpec {
    pub name: &'static str,
    /// Older names accepted in bundles (besides the v2 `deny`/`allow` spellings).
    pub aliases: &'static [&'static str],
    pub description: &'static str,
    pub params: &'static [ParamSpec],
    /// Checks that involve several parameters (run once each one is valid alone).
    #[serde(skip)]
    cross_check: Option<fn(&Params) -> Vec<ParamProblem>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum GateState {
    Active,
    /// Rejected at load; `replacement` is the gate to use instead, if any.
    EndOfLife {
        replacement: Option<&'static str>,
    },
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct GateSpec {
    pub name: &'static str,
    pub description: &'static str,
    #[serde(flatten)]
    pub state: GateState,
    pub triggers: &'static [TriggerSpec],
}

/// Why a gate or trigger name, or a rule's parameters, are not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SpecError {
    #[error("unknown gate {0:?}")]
    UnknownGate(String),
    #[error("gate {gate:?} has reached end of life; {}", replacement_advice(*.replacement))]
    EndOfLife { gate: String, replacement: Option<&'static str> },
    #[error("gate {gate:?} has no trigger {trigger:?} (triggers: {known})")]
    UnknownTrigger { gate: String, trigger: String, known: String },
    #[error("{}", join_problems(.0))]
    Params(Vec<ParamProblem>),
}

fn replacement_advice(replacement: Option<&str>) -> String {
    match replacement {
        Some(gate) => format!("use {gate:?}"),
        None => "it has no replacement".to_owned(),
    }
}

fn join_problems(problems: &[ParamProblem]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// One problem with one parameter of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParamProblem {
    #[error("unknown parameter {name:?} (parameters: {known})")]
    Unknown { name: String, known: String },
    #[error("parameter {0:?} is given more than once")]
    Duplicate(String),
    #[error("required parameter {0:?} is missing")]
    Missing(String),
    #[error("parameter {name:?}: {value:?} {reason}")]
    Invalid { name: String, value: String, reason: String },
}

/// Every gate, active and end-of-life.
pub fn all_gates() -> &'static [GateSpec] {
    GATES
}

/// A gate by name (case-insensitive), whatever its state.
pub fn gate(name: &str) -> Option<&'static GateSpec> {
    let name = name.trim().to_ascii_lowercase();
    GATES.iter().find(|gate| gate.name == name)
}

/// An active gate's trigger; accepts aliases and the v2 `deny`/`allow`
/// spellings of `black`/`white` trigger names.
pub fn trigger(gate_name: &str, trigger_name: &str) -> Result<(&'static GateSpec, &'static TriggerSpec), SpecError> {
    let gate = gate(gate_name).ok_or_else(|| SpecError::UnknownGate(gate_name.to_owned()))?;
    if let GateState::EndOfLife { replacement } = gate.state {
        return Err(SpecError::EndOfLife { gate: gate.name.to_owned(), replacement });
    }
    let trigger = gate.trigger(trigger_name).ok_or_else(|| SpecError::UnknownTrigger {
        gate: gate.name.to_owned(),
        trigger: trigger_name.to_owned(),
        known: gate.triggers.iter().map(|t| t.name).collect::<Vec<_>>().join(", "),
    })?;
    Ok((gate, trigger))
}

/// Validates one rule's parameters: names are matched case-insensitively
/// and through aliases; unknown, duplicate and missing parameters and bad
/// values are errors (all of them are reported); defaults are filled in and
/// enum values take their canonical spelling.
pub fn validate_params(gate: &str, trigger_name: &str, given: &[(String, String)]) -> Result<Params, SpecError> {
    let (_, trigger) = trigger(gate, trigger_name)?;
    trigger.validate(given).map_err(SpecError::Params)
}

impl GateSpec {
    pub fn trigger(&self, name: &str) -> Option<&'static TriggerSpec> {
        let name = name.trim().to_ascii_lowercase();
        let v1_name = v1_spelling(&name);
        self.triggers.iter().find(|t| {
            [name.as_str(), v1_name.as_str()]
                .iter()
                .any(|candidate| t.name == *candidate || t.aliases.contains(candidate))
        })
    }
}

/// The v2 naming replaced "black"/"white" by "deny"/"allow" in trigger names
/// and list types; the table keeps Anchore's v1 names.
fn v1_spelling(name: &str) -> String {
    name.replace("deny", "black").replace("allow", "white")
}

impl TriggerSpec {
    /// The parameter a bundle's name refers to (case-insensitive, aliases resolved).
    pub fn param(&self, name: &str) -> Option<&'static ParamSpec> {
        let name = name.trim().to_ascii_lowercase();
        self.params.iter().find(|p| p.name == name || p.aliases.contains(&name.as_str()))
    }

    /// See [`validate_params`].
    pub fn validate(&self, given: &[(String, String)]) -> Result<Params, Vec<ParamProblem>> {
        let mut problems = Vec::new();
        let mut params = Params::default();
        // Names seen so far, valid or not, so a repeated bad value still counts as a repeat.
        let mut seen = std::collections::BTreeSet::new();
        for (name, value) in given {
            let Some(spec) = self.param(name) else {
                let known = self.params.iter().map(|p| p.name).collect::<Vec<_>>();
                let known = if known.is_empty() { "none".to_owned() } else { known.join(", ") };
                problems.push(ParamProblem::Unknown { name: name.clone(), known });
                continue;
            };
            if !seen.insert(spec.name) {
                problems.push(ParamProblem::Duplicate(spec.name.to_owned()));
                continue;
            }
            match spec.kind.check(value) {
                Ok(canonical) => {
                    params.0.insert(spec.name.to_owned(), canonical);
                }
                Err(reason) => {
                    problems.push(ParamProblem::Invalid { name: spec.name.to_owned(), value: value.clone(), reason })
                }
            }
        }
        for spec in self.params.iter().filter(|spec| !seen.contains(spec.name)) {
            if spec.required {
                problems.push(ParamProblem::Missing(spec.name.to_owned()));
            } else if let Some(default) = spec.default {
                params.0.insert(spec.name.to_owned(), default.to_owned());
            }
        }
        if problems.is_empty()
            && let Some(cross_check) = self.cross_check
        {
            problems.extend(cross_check(&params));
        }
        if problems.is_empty() { Ok(params) } else { Err(problems) }
    }
}

impl ParamType {
    /// The value in canonical form, or why it is not acceptable (phrased to
    /// follow the quoted value: `"x" is not ...`).
    fn check(self, value: &str) -> Result<String, String> {
        match self {
            ParamType::Str => Ok(value.to_owned()),
            ParamType::Regex => regex_problem(value).map_or_else(|| Ok(value.to_owned()), Err),
            ParamType::Enum(values) => canonical_enum_value(values, value)
                .map(str::to_owned)
                .ok_or_else(|| format!("is not one of {}", values.join(", "))),
            ParamType::Cmp => canonical_enum_value(COMPARISONS, value)
                .map(str::to_owned)
                .ok_or_else(|| format!("is not one of {}", COMPARISONS.join(" "))),
            ParamType::Csv => Ok(value.to_owned()),
            ParamType::CsvInt => match csv_entries(value).find(|entry| entry.parse::<i64>().is_err()) {
                Some(bad) => Err(format!("is not a comma-separated list of integers ({bad:?} is not an integer)")),
                None => Ok(value.to_owned()),
            },
            ParamType::Bool => {
                if value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false") {
                    Ok(value.to_ascii_lowercase())
                } else {
                    Err("is not true or false".to_owned())
                }
            }
            ParamType::Int => {
                value.trim().parse::<i64>().map(|_| value.to_owned()).map_err(|_| "is not an integer".to_owned())
            }
            ParamType::Float => match value.trim().parse::<f64>() {
                Ok(number) if number.is_finite() => Ok(value.to_owned()),
                _ => Err("is not a number".to_owned()),
            },
            ParamType::Mode => {
                let octal = value.trim();
                if !octal.is_empty() && octal.len() <= 6 && octal.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                    Ok(value.to_owned())
                } else {
                    Err("is not an octal file mode such as 00644".to_owned())
                }
            }
        }
    }
}

fn canonical_enum_value(values: &'static [&'static str], value: &str) -> Option<&'static str> {
    let wanted = value.to_ascii_lowercase();
    let v1_wanted = v1_spelling(&wanted);
    values.iter().copied().find(|v| v.eq_ignore_ascii_case(&wanted) || v.eq_ignore_ascii_case(&v1_wanted))
}

fn csv_entries(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|entry| !entry.is_empty())
}

/// Why `pattern` does not compile as a regular expression, in one line.
pub(crate) fn regex_problem(pattern: &str) -> Option<String> {
    let error = regex::Regex::new(pattern).err()?;
    // The crate's message spans several lines (pattern, caret, "error: ...");
    // the last line says what is wrong.
    let text = error.to_string();
    let reason = text.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or(&text);
    Some(format!("is not a valid regular expression: {}", reason.trim().trim_start_matches("error: ")))
}

const fn opt(name: &'static str, kind: ParamType) -> ParamSpec {
    ParamSpec { name, aliases: &[], kind, required: false, default: None }
}

const fn req(name: &'static str, kind: ParamType) -> ParamSpec {
    ParamSpec { name, aliases: &[], kind, required: true, default: None }
}

impl ParamSpec {
    const fn with_default(mut self, default: &'static str) -> Self {
        self.default = Some(default);
        self
    }

    const fn with_aliases(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }
}

const fn trig(name: &'static str, description: &'static str, params: &'static [ParamSpec]) -> TriggerSpec {
    TriggerSpec { name, aliases: &[], description, params, cross_check: None }
}

impl TriggerSpec {
    const fn with_aliases(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }

    const fn with_cross_check(mut self, check: fn(&Params) -> Vec<ParamProblem>) -> Self {
        self.cross_check = Some(check);
        self
    }
}

const fn active(name: &'static str, description: &'static str, triggers: &'static [TriggerSpec]) -> GateSpec {
    GateSpec { name, description, state: GateState::Active, triggers }
}

const fn eol(name: &'static str, replacement: Option<&'static str>) -> GateSpec {
    GateSpec {
        name,
        description: "End of life: rejected in bundles",
        state: GateState::EndOfLife { replacement },
        triggers: &[],
    }
}

const DOCKERFILE_CHECKS: &[&str] = &["=", "!=", "exists", "not_exists", "like", "not_like", "in", "not_in"];
const METADATA_ATTRIBUTES: &[&str] =
    &["size", "architecture", "os_type", "distro", "distro_version", "like_distro", "layer_count"];
const METADATA_CHECKS: &[&str] =
    &["=", "!=", "<", ">", "<=", ">=", "exists", "not_exists", "like", "not_like", "in", "not_in"];
const LIST_TYPES: &[&str] = &["whitelist", "blacklist"];

const NAME_VERSION: &[ParamSpec] = &[req("name", ParamType::Str), opt("version", ParamType::Str)];
const LICENSES: &[ParamSpec] = &[req("licenses", ParamType::Csv)];
const CVSS_COMPARISON_DEFAULT: &str = ">=";

static GATES: &[GateSpec] = &[
    active(
        "always",
        "Fires unconditionally (useful for testing and for blocking everything a mapping selects)",
        &[trig("always", "Fires once for every image", &[])],
    ),
    active(
        "dockerfile",
        "Checks the image's Dockerfile: the one given at analysis, or one guessed from the history",
        &[
            trig(
                "instruction",
                "An instruction of the Dockerfile meets the check",
                &[
                    req("instruction", ParamType::Enum(dockerfile::KEYWORDS)),
                    req("check", ParamType::Enum(DOCKERFILE_CHECKS)),
                    opt("value", ParamType::Str),
                    opt("actual_dockerfile_only", ParamType::Bool).with_default("false"),
                ],
            )
            .with_cross_check(check_dockerfile_instruction),
            trig(
                "effective_user",
                "The last USER (root when none) is denied, or not allowed",
                &[req("users", ParamType::Csv), req("type", ParamType::Enum(LIST_TYPES))],
            ),
            trig(
                "exposed_ports",
                "An EXPOSEd port is denied, or not allowed",
                &[
                    req("ports", ParamType::CsvInt),
                    req("type", ParamType::Enum(LIST_TYPES)),
                    opt("actual_dockerfile_only", ParamType::Bool).with_default("false"),
                ],
            ),
            trig("no_dockerfile_provided", "The image was analysed without its actual Dockerfile", &[]),
        ],
    ),
    active(
        "files",
        "Checks the files of the image",
        &[
            trig(
                "content_regex_match",
                "A file's content matches a named content search pattern",
                &[opt("regex_name", ParamType::Str)],
            ),
            trig("name_match", "A file path matches the regex", &[req("regex", ParamType::Regex)]),
            trig(
                "attribute_match",
                "A file's checksum or mode meets the checks",
                &[
                    req("filename", ParamType::Str),
                    opt("checksum_algorithm", ParamType::Enum(&["sha256"])),
                    opt("checksum", ParamType::Str),
                    opt("checksum_match", ParamType::Enum(&["equals", "not_equals"])),
                    opt("mode", ParamType::Mode),
                    opt("mode_op", ParamType::Enum(&["equals", "not_equals"])),
                    opt("skip_missing", ParamType::Bool),
                ],
            ),
            trig("suid_or_guid_set", "A file has the setuid or setgid bit", &[]),
        ],
    ),
    active(
        "passwd_file",
        "Checks /etc/passwd",
        &[
            trig("content_not_available", "/etc/passwd was not retrieved", &[]),
            trig(
                "blacklist_usernames",
                "A denied user name is in /etc/passwd",
                &[req("user_names", ParamType::Csv).with_aliases(&["usernameblacklist"])],
            ),
            trig(
                "blacklist_userids",
                "A denied user id is in /etc/passwd",
                &[req("user_ids", ParamType::CsvInt).with_aliases(&["useridblacklist"])],
            ),
            trig("blacklist_groupids", "A denied group id is in /etc/passwd", &[req("group_ids", ParamType::CsvInt)]),
            trig("blacklist_shells", "A denied login shell is in /etc/passwd", &[req("shells", ParamType::Csv)])
                .with_aliases(&["shellmatch"]),
            trig("blacklist_full_entry", "A denied entry is in /etc/passwd", &[req("entry", ParamType::Str)]),
        ],
    ),
    active(
        "packages",
        "Checks the installed packages",
        &[
            trig(
                "required_package",
                "A required package is missing (or older than required)",
                &[
                    req("name", ParamType::Str),
                    opt("version", ParamType::Str),
                    opt("version_match_type", ParamType::Enum(&["exact", "minimum"])).with_default("exact"),
                ],
            ),
            trig(
                "verify",
                "Package files changed or went missing since installation",
                &[
                    opt("only_packages", ParamType::Csv),
                    opt("only_directories", ParamType::Csv),
                    opt("check", ParamType::Enum(&["changed", "missing"])),
                ],
            ),
            trig("blacklist", "A denied package (and version) is installed", NAME_VERSION),
        ],
    ),
    active(
        "vulnerabilities",
        "Checks known vulnerabilities of the packages",
        &[
            trig(
                "package",
                "A vulnerability meets the severity, CVSS, fix and age criteria",
                &[
                    req("package_type", ParamType::Enum(&["all", "os", "non-os"])),
                    opt("severity_comparison", ParamType::Cmp).with_default(">"),
                    opt("severity", ParamType::Enum(SEVERITIES)).with_default("unknown"),
                    opt("cvss_v3_base_score_comparison", ParamType::Cmp).with_default(CVSS_COMPARISON_DEFAULT),
                    opt("cvss_v3_base_score", ParamType::Float),
                    opt("cvss_v3_exploitability_score_comparison", ParamType::Cmp)
                        .with_default(CVSS_COMPARISON_DEFAULT),
                    opt("cvss_v3_exploitability_score", ParamType::Float),
                    opt("cvss_v3_impact_score_comparison", ParamType::Cmp).with_default(CVSS_COMPARISON_DEFAULT),
                    opt("cvss_v3_impact_score", ParamType::Float),
                    opt("fix_available", ParamType::Bool),
                    opt("vendor_only", ParamType::Bool).with_default("true"),
                    opt("max_days_since_creation", ParamType::Int),
                    opt("max_days_since_fix", ParamType::Int),
                    opt("vendor_cvss_v3_base_score_comparison", ParamType::Cmp).with_default(CVSS_COMPARISON_DEFAULT),
                    opt("vendor_cvss_v3_base_score", ParamType::Float),
                    opt("vendor_cvss_v3_exploitability_score_comparison", ParamType::Cmp)
                        .with_default(CVSS_COMPARISON_DEFAULT),
                    opt("vendor_cvss_v3_exploitability_score", ParamType::Float),
                    opt("vendor_cvss_v3_impact_score_comparison", ParamType::Cmp).with_default(CVSS_COMPARISON_DEFAULT),
                    opt("vendor_cvss_v3_impact_score", ParamType::Float),
                    opt("package_path_exclude", ParamType::Regex),
                    // Portcullis extension: skip findings in packages the base image brought.
                    opt("ignore_base_image_findings", ParamType::Bool).with_default("false"),
                ],
            ),
            trig(
                "stale_feed_data",
                "The vulnerability data is older than allowed",
                &[req("max_days_since_sync", ParamType::Int)],
            ),
            trig("vulnerability_data_unavailable", "There is no vulnerability data for the image's distro", &[]),
            trig(
                "blacklist",
                "A denied vulnerability is present",
                &[req("vulnerability_ids", ParamType::Csv), opt("vendor_only", ParamType::Bool).with_default("true")],
            ),
        ],
    ),
    active(
        "licenses",
        "Checks the licenses of the packages",
        &[
            trig("blacklist_exact_match", "A package has a denied license (exact name)", LICENSES),
            trig("blacklist_partial_match", "A package has a license containing a denied text", LICENSES),
        ],
    ),
    active(
        "ruby_gems",
        "Checks Ruby gems (the feed triggers need a packages feed)",
        &[
            trig("newer_version_found_in_feed", "A newer version of the gem is in the feed", &[]),
            trig("not_found_in_feed", "The gem is not in the feed", &[]),
            trig("version_not_found_in_feed", "The gem's version is not in the feed", &[]),
            trig("feed_data_unavailable", "There is no gem feed data", &[]),
            trig("blacklist", "A denied gem (and version) is installed", NAME_VERSION),
        ],
    ),
    active(
        "npms",
        "Checks npm packages (the feed triggers need a packages feed)",
        &[
            trig("newer_version_in_feed", "A newer version of the package is in the feed", &[]),
            trig("unknown_in_feeds", "The package is not in the feed", &[]),
            trig("version_not_in_feeds", "The package's version is not in the feed", &[]),
            trig("feed_data_unavailable", "There is no npm feed data", &[]),
            trig("blacklisted_name_version", "A denied package (and version) is installed", NAME_VERSION),
        ],
    ),
    active(
        "secret_scans",
        "Checks the secret search results",
        &[trig(
            "content_regex_checks",
            "A secret pattern was found (or, with match_type notfound, was not)",
            &[
                opt("content_regex_name", ParamType::Str),
                opt("filename_regex", ParamType::Regex),
                opt("match_type", ParamType::Enum(&["found", "notfound"])).with_default("found"),
            ],
        )],
    ),
    active(
        "metadata",
        "Checks image metadata",
        &[trig(
            "attribute",
            "An image attribute meets the check",
            &[
                req("attribute", ParamType::Enum(METADATA_ATTRIBUTES)),
                req("check", ParamType::Enum(METADATA_CHECKS)),
                opt("value", ParamType::Str),
            ],
        )
        .with_cross_check(check_metadata_attribute)],
    ),
    active(
        "retrieved_files",
        "Checks the content of files retrieved at analysis",
        &[
            trig("content_not_available", "The file was not retrieved", &[req("path", ParamType::Str)]),
            trig(
                "content_regex",
                "The file's content matches (or does not match) the regex",
                &[
                    req("path", ParamType::Str),
                    req("regex", ParamType::Regex),
                    req("check", ParamType::Enum(&["match", "no_match"])),
                ],
            ),
        ],
    ),
    active(
        "malware",
        "Checks malware scan results",
        &[trig("scans", "The malware scan found something", &[]), trig("scan_not_run", "No malware scan was run", &[])],
    ),
    eol("anchoresec", Some("vulnerabilities")),
    eol("dockerfilecheck", Some("dockerfile")),
    eol("filecheck", Some("files")),
    eol("fileparse_passwd", Some("passwd_file")),
    // Anchore's message says "gems"; the gate is named ruby_gems.
    eol("gemcheck", Some("ruby_gems")),
    eol("npmcheck", Some("npms")),
    eol("pkgcheck", Some("packages")),
    eol("pkgblacklist", Some("packages")),
    eol("licblacklist", Some("licenses")),
    eol("metadatacheck", Some("metadata")),
    eol("secretcheck", Some("secret_scans")),
    eol("suiddiff", None),
    eol("imagecheck", None),
    eol("pkgdiff", None),
];

/// `like`/`not_like` compare against a regex.
fn check_dockerfile_instruction(params: &Params) -> Vec<ParamProblem> {
    match (params.get("check"), params.get("value")) {
        (Some("like" | "not_like"), Some(value)) => invalid_value("value", value, regex_problem(value)),
        _ => Vec::new(),
    }
}

/// The value's form depends on the attribute: sizes are bytes with an
/// optional kb/mb/gb/tb suffix, layer counts are integers; `in`/`not_in`
/// take a comma-separated list of such values; `like` takes a regex.
fn check_metadata_attribute(params: &Params) -> Vec<ParamProblem> {
    let (Some(attribute), Some(check), Some(value)) =
        (params.get("attribute"), params.get("check"), params.get("value"))
    else {
        return Vec::new();
    };
    let value_problem = |candidate: &str| match attribute {
        "size" if !is_size(candidate) => Some(format!(
            "is not a size for attribute \"size\" (bytes, optionally with kb, mb, gb or tb: {candidate:?})"
        )),
        "layer_count" if candidate.trim().parse::<u64>().is_err() => {
            Some(format!("is not a layer count for attribute \"layer_count\" ({candidate:?} is not an integer)"))
        }
        _ => None,
    };
    let problem = match check {
        "exists" | "not_exists" => None,
        "like" | "not_like" => regex_problem(value),
        "in" | "not_in" => csv_entries(value).find_map(value_problem),
        _ => value_problem(value),
    };
    invalid_value("value", value, problem)
}

fn is_size(text: &str) -> bool {
    let digits_end = text.bytes().take_while(u8::is_ascii_digit).count();
    let (digits, suffix) = text.split_at(digits_end);
    !digits.is_empty() && matches!(suffix, "" | "kb" | "mb" | "gb" | "tb")
}

fn invalid_value(name: &str, value: &str, reason: Option<String>) -> Vec<ParamProblem> {
    reason
        .map(|reason| ParamProblem::Invalid { name: name.to_owned(), value: value.to_owned(), reason })
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn every_active_trigger_name_is_unique_and_lower_case() {
        for gate in all_gates() {
            assert_eq!(gate.name, gate.name.to_ascii_lowercase());
            for (i, trigger) in gate.triggers.iter().enumerate() {
                assert!(gate.triggers.iter().skip(i + 1).all(|other| other.name != trigger.name), "{}", trigger.name);
                for param in trigger.params {
                    assert_eq!(param.name, param.name.to_ascii_lowercase());
                    if let Some(default) = param.default {
                        assert!(param.kind.check(default).is_ok(), "{}/{}: default {default}", gate.name, param.name);
                    }
                }
            }
        }
    }

    #[test]
    fn defaults_are_anchores() {
        let params = validate_params("vulnerabilities", "package", &given(&[("package_type", "all")])).unwrap();
        assert_eq!(params.get("severity_comparison"), Some(">"));
        assert_eq!(params.get("severity"), Some("unknown"));
        assert_eq!(params.get("cvss_v3_base_score_comparison"), Some(">="));
        assert_eq!(params.get("vendor_cvss_v3_impact_score_comparison"), Some(">="));
        assert_eq!(params.get("vendor_only"), Some("true"));
        assert_eq!(params.get("ignore_base_image_findings"), Some("false"));
        assert_eq!(params.get("fix_available"), None, "absent means: do not filter on fixes");
        let params = validate_params("secret_scans", "content_regex_checks", &[]).unwrap();
        assert_eq!(params.get("match_type"), Some("found"));
    }

    #[test]
    fn enums_are_case_insensitive_and_canonicalised() {
        let params = validate_params(
            "dockerfile",
            "instruction",
            &given(&[("Instruction", "healthcheck"), ("CHECK", "Not_Exists")]),
        )
        .unwrap();
        assert_eq!(params.get("instruction"), Some("HEALTHCHECK"));
        assert_eq!(params.get("check"), Some("not_exists"));
        let params =
            validate_params("dockerfile", "exposed_ports", &given(&[("ports", "22"), ("type", "denylist")])).unwrap();
        assert_eq!(params.get("type"), Some("blacklist"));
    }

    #[test]
    fn v2_trigger_names_and_trigger_aliases_resolve() {
        assert_eq!(trigger("packages", "denylist").unwrap().1.name, "blacklist");
        assert_eq!(trigger("passwd_file", "denylist_usernames").unwrap().1.name, "blacklist_usernames");
        assert_eq!(trigger("npms", "denylisted_name_version").unwrap().1.name, "blacklisted_name_version");
        assert_eq!(trigger("passwd_file", "shellmatch").unwrap().1.name, "blacklist_shells");
        assert_eq!(trigger("Vulnerabilities", "Package").unwrap().1.name, "package");
    }

    #[test]
    fn param_problems_are_all_reported() {
        let err = validate_params(
            "vulnerabilities",
            "package",
            &given(&[("severity", "hgh"), ("bogus", "1"), ("fix_available", "yes"), ("SEVERITY", "high")]),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "parameter \"severity\": \"hgh\" is not one of unknown, negligible, low, medium, high, critical; \
             unknown parameter \"bogus\" (parameters: package_type, severity_comparison, severity, \
             cvss_v3_base_score_comparison, cvss_v3_base_score, cvss_v3_exploitability_score_comparison, \
             cvss_v3_exploitability_score, cvss_v3_impact_score_comparison, cvss_v3_impact_score, fix_available, \
             vendor_only, max_days_since_creation, max_days_since_fix, vendor_cvss_v3_base_score_comparison, \
             vendor_cvss_v3_base_score, vendor_cvss_v3_exploitability_score_comparison, \
             vendor_cvss_v3_exploitability_score, vendor_cvss_v3_impact_score_comparison, \
             vendor_cvss_v3_impact_score, package_path_exclude, ignore_base_image_findings); \
             parameter \"fix_available\": \"yes\" is not true or false; \
             parameter \"severity\" is given more than once; \
             required parameter \"package_type\" is missing"
        );
    }

    /// gate, trigger, parameters, expected error.
    type Case = (&'static str, &'static str, &'static [(&'static str, &'static str)], Option<&'static str>);

    #[test]
    fn value_types() {
        let cases: &[Case] = &[
            ("dockerfile", "exposed_ports", &[("ports", "22, 80"), ("type", "blacklist")], None),
            (
                "dockerfile",
                "exposed_ports",
                &[("ports", "22,ssh"), ("type", "blacklist")],
                Some(
                    "parameter \"ports\": \"22,ssh\" is not a comma-separated list of integers (\"ssh\" is not an integer)",
                ),
            ),
            (
                "files",
                "name_match",
                &[("regex", "(")],
                Some("parameter \"regex\": \"(\" is not a valid regular expression: unclosed group"),
            ),
            ("files", "attribute_match", &[("filename", "/etc/passwd"), ("mode", "00644")], None),
            (
                "files",
                "attribute_match",
                &[("filename", "/etc/passwd"), ("mode", "0o644")],
                Some("parameter \"mode\": \"0o644\" is not an octal file mode such as 00644"),
            ),
            (
                "vulnerabilities",
                "stale_feed_data",
                &[("max_days_since_sync", "two")],
                Some("parameter \"max_days_since_sync\": \"two\" is not an integer"),
            ),
            (
                "vulnerabilities",
                "package",
                &[("package_type", "all"), ("cvss_v3_base_score", "high")],
                Some("parameter \"cvss_v3_base_score\": \"high\" is not a number"),
            ),
            (
                "vulnerabilities",
                "package",
                &[("package_type", "all"), ("severity_comparison", "=>")],
                Some("parameter \"severity_comparison\": \"=>\" is not one of = != < > <= >="),
            ),
            ("metadata", "attribute", &[("attribute", "size"), ("check", ">"), ("value", "10mb")], None),
            ("metadata", "attribute", &[("attribute", "size"), ("check", "in"), ("value", "1, 2kb")], None),
            (
                "metadata",
                "attribute",
                &[("attribute", "size"), ("check", ">"), ("value", "10 MB")],
                Some(
                    "parameter \"value\": \"10 MB\" is not a size for attribute \"size\" (bytes, optionally with kb, mb, gb or tb: \"10 MB\")",
                ),
            ),
            (
                "metadata",
                "attribute",
                &[("attribute", "layer_count"), ("check", "not_in"), ("value", "1,x")],
                Some(
                    "parameter \"value\": \"1,x\" is not a layer count for attribute \"layer_count\" (\"x\" is not an integer)",
                ),
            ),
            ("metadata", "attribute", &[("attribute", "distro"), ("check", "="), ("value", "debian")], None),
            (
                "dockerfile",
                "instruction",
                &[("instruction", "ENV"), ("check", "like"), ("value", ".*PASS[")],
                Some("parameter \"value\": \".*PASS[\" is not a valid regular expression: unclosed character class"),
            ),
            ("passwd_file", "blacklist_usernames", &[("usernameblacklist", "ftp")], None),
            ("always", "always", &[("x", "1")], Some("unknown parameter \"x\" (parameters: none)")),
        ];
        for (gate, trigger, params, expected) in cases {
            let result = validate_params(gate, trigger, &given(params));
            assert_eq!(
                result.as_ref().err().map(ToString::to_string).as_deref(),
                *expected,
                "{gate}/{trigger} {params:?}"
            );
        }
    }

    #[test]
    fn gate_errors() {
        assert_eq!(
            validate_params("anchoresec", "unsupported_distro", &[]).unwrap_err().to_string(),
            "gate \"anchoresec\" has reached end of life; use \"vulnerabilities\""
        );
        assert_eq!(
            validate_params("pkgdiff", "x", &[]).unwrap_err().to_string(),
            "gate \"pkgdiff\" has reached end of life; it has no replacement"
        );
        assert_eq!(validate_params("nope", "x", &[]).unwrap_err().to_string(), "unknown gate \"nope\"");
        assert_eq!(
            validate_params("malware", "x", &[]).unwrap_err().to_string(),
            "gate \"malware\" has no trigger \"x\" (triggers: scans, scan_not_run)"
        );
    }
}
