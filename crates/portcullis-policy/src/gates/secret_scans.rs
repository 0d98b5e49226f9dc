//! The `secret_scans` gate: matches of the secret rules run at analysis.

use std::collections::BTreeSet;

use super::metadata::match_at_start;
use super::{EvalContext, GateError, TriggerMatch, unknown_trigger};
use crate::params::Params;

const GATE: &str = "secret_scans";

pub fn evaluate(trigger: &str, params: &Params, ctx: &EvalContext<'_>) -> Result<Vec<TriggerMatch>, GateError> {
    if trigger != "content_regex_checks" {
        return Err(unknown_trigger(GATE, trigger));
    }
    let rule_name = params.str("content_regex_name");
    let filename_regex = params.str("filename_regex");
    let filename_pattern = filename_regex.map(match_at_start).transpose()?;
    let found = match params.str("match_type").unwrap_or("found") {
        "found" => true,
        "notfound" => false,
        other => return Err(GateError::Invalid(format!("match_type {other:?} is neither found nor notfound"))),
    };
    // Anchore records matches per file and rule, not per line.
    let matches: BTreeSet<(&str, &str)> = ctx
        .sbom
        .secrets
        .iter()
        .filter(|m| rule_name.is_none_or(|name| m.rule == name))
        .filter(|m| filename_pattern.as_ref().is_none_or(|pattern| pattern.is_match(&m.path)))
        .map(|m| (m.path.as_str(), m.rule.as_str()))
        .collect();
    let messages: Vec<String> = if found {
        matches
            .into_iter()
            .map(|(path, rule)| {
                format!("Secret content search analyzer found regexp match in container: file={path} regexp={rule}")
            })
            .collect()
    } else if matches.is_empty() {
        vec![format!(
            "Secret content search analyzer did not find regexp match in container: filename_regex={} \
             content_regex_name={}",
            filename_regex.unwrap_or("*"),
            rule_name.unwrap_or("all")
        )]
    } else {
        Vec::new()
    };
    Ok(messages.into_iter().map(|message| TriggerMatch::new(GATE, trigger, message)).collect())
}
