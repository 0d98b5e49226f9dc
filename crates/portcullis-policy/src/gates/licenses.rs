//! The `licenses` gate: licences the packages declare.

use portcullis_sbom::Sbom;

use super::{EvalContext, GateError, TriggerMatch, unknown_trigger};
use crate::params::Params;

const GATE: &str = "licenses";

pub fn evaluate(trigger: &str, params: &Params, ctx: &EvalContext<'_>) -> Result<Vec<TriggerMatch>, GateError> {
    let (prefix, matches): (&str, fn(&str, &str) -> bool) = match trigger {
        "blacklist_exact_match" => ("LICFULLMATCH", |license, listed| license == listed),
        "blacklist_partial_match" => ("LICSUBMATCH", |license, listed| license.contains(listed)),
        other => return Err(unknown_trigger(GATE, other)),
    };
    let listed = params.csv("licenses");
    // One match per package licence and listed value, as Anchore lists them.
    let found: Vec<String> = package_licenses(ctx.sbom)
        .into_iter()
        .flat_map(|(package, license)| {
            listed.iter().filter(move |l| matches(license, l)).map(move |_| format!("{package}({license})"))
        })
        .collect();
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let message = format!("{prefix} Packages are installed that have blacklisted licenses: {}", found.join(", "));
    Ok(vec![TriggerMatch::new(GATE, trigger, message)])
}

/// Every (package name, licence) pair. Anchore splits a package's licence
/// text on whitespace; SPDX expressions are split the same way, their
/// operators and parentheses dropped, so `MIT OR Apache-2.0` lists both.
fn package_licenses(sbom: &Sbom) -> Vec<(&str, &str)> {
    let mut pairs = Vec::new();
    for package in &sbom.packages {
        let first = pairs.len();
        for license in package
            .licenses
            .iter()
            .flat_map(|text| text.split_whitespace())
            .map(|token| token.trim_matches(|c| c == '(' || c == ')'))
            .filter(|token| !token.is_empty() && !matches!(*token, "AND" | "OR" | "WITH"))
        {
            if !pairs[first..].contains(&(package.name.as_str(), license)) {
                pairs.push((package.name.as_str(), license));
            }
        }
    }
    pairs
}
