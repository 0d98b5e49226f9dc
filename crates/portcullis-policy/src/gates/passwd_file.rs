//! The `passwd_file` gate: the image's `/etc/passwd`, as retrieved at analysis.

use portcullis_sbom::Sbom;

use super::{EvalContext, GateError, TriggerMatch, unknown_trigger};
use crate::params::Params;

const GATE: &str = "passwd_file";
const PASSWD: &str = "/etc/passwd";

/// Which part of an entry a blacklist names.
#[derive(Debug, Clone, Copy)]
enum Field {
    UserName,
    /// Index among the fields after the user name (`x:uid:gid:gecos:home:shell`).
    After(usize),
    Entry,
}

pub fn evaluate(trigger: &str, params: &Params, ctx: &EvalContext<'_>) -> Result<Vec<TriggerMatch>, GateError> {
    let entries = entries(ctx.sbom);
    let (field, label, listed) = match trigger {
        "content_not_available" => {
            let message = "Cannot locate /etc/passwd in image stored files archive: check analyzer settings.";
            return Ok(if entries.is_empty() { vec![TriggerMatch::new(GATE, trigger, message)] } else { Vec::new() });
        }
        "blacklist_usernames" => (Field::UserName, "user", params.csv("user_names")),
        "blacklist_userids" => (Field::After(1), "uid", numbers(params, "user_ids")?),
        "blacklist_groupids" => (Field::After(2), "gid", numbers(params, "group_ids")?),
        "blacklist_shells" => (Field::After(5), "shell", params.csv("shells")),
        "blacklist_full_entry" => (Field::Entry, "pentry", vec![params.required("entry")?.trim().to_owned()]),
        other => return Err(unknown_trigger(GATE, other)),
    };
    let mut matches = Vec::new();
    for (user, fields) in &entries {
        let entry = std::iter::once(*user).chain(fields.iter().copied()).collect::<Vec<_>>().join(":");
        let candidate = match field {
            Field::UserName => Some(*user),
            Field::After(index) => fields.get(index).copied(),
            Field::Entry => Some(entry.as_str()),
        };
        if let Some(candidate) = candidate.filter(|c| listed.iter().any(|l| l == c)) {
            let message = format!("Blacklisted {label} '{candidate}' found in image's /etc/passwd: pentry={entry}");
            matches.push(TriggerMatch::new(GATE, trigger, message));
        }
    }
    Ok(matches)
}

/// A `csv#` list, each number written as Python's `str(int)` writes it.
fn numbers(params: &Params, name: &str) -> Result<Vec<String>, GateError> {
    params
        .csv(name)
        .iter()
        .map(|n| {
            n.parse::<i64>()
                .map(|n| n.to_string())
                .map_err(|_| GateError::Invalid(format!("{name}: {n:?} is not a number")))
        })
        .collect()
}

/// The entries by user name, in file order; a repeated name keeps its first
/// place and its last fields (Anchore reads them into a dict).
fn entries(sbom: &Sbom) -> Vec<(&str, Vec<&str>)> {
    let Some(file) = sbom.retrieved_files.iter().rev().find(|f| f.path == PASSWD) else {
        return Vec::new();
    };
    let mut entries: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in file.content.lines().map(str::trim).filter(|line| !line.is_empty()) {
        let mut fields = line.split(':');
        let user = fields.next().unwrap_or_default();
        let rest: Vec<&str> = fields.collect();
        match entries.iter_mut().find(|(name, _)| *name == user) {
            Some(existing) => existing.1 = rest,
            None => entries.push((user, rest)),
        }
    }
    entries
}
