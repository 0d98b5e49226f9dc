//! The `files` gate: file names, attributes and content-search matches.

use std::collections::{BTreeMap, BTreeSet};

use portcullis_sbom::{FileRecord, Sbom};

use super::metadata::match_at_start;
use super::{EvalContext, GateError, TriggerMatch, unknown_trigger};
use crate::params::Params;

const GATE: &str = "files";

pub fn evaluate(trigger: &str, params: &Params, ctx: &EvalContext<'_>) -> Result<Vec<TriggerMatch>, GateError> {
    let messages = match trigger {
        "content_regex_match" => content_regex_match(params, ctx.sbom),
        "name_match" => name_match(params, ctx.sbom)?,
        "attribute_match" => attribute_match(params, ctx.sbom)?,
        "suid_or_guid_set" => suid_or_guid_set(ctx.sbom),
        other => return Err(unknown_trigger(GATE, other)),
    };
    Ok(messages.into_iter().map(|message| TriggerMatch::new(GATE, trigger, message)).collect())
}

/// The image's files by path, each the copy of the topmost layer that has
/// it (an `all-layers` SBOM lists one record per layer).
///
/// Built from a sorted list rather than by inserting: SBOM file lists come
/// sorted by path, so the sort is one linear pass and the map is built in
/// bulk. Inserting one by one cost most of a 200-rule evaluation (these
/// gates call it once per rule on tens of thousands of files).
pub(crate) fn files_by_path(sbom: &Sbom) -> BTreeMap<&str, &FileRecord> {
    let mut files: Vec<(&str, &FileRecord)> = sbom.files.iter().map(|f| (f.path.as_str(), f)).collect();
    // Stable: among copies of one path, the later (upper) layer's record stays last.
    files.sort_by(|a, b| a.0.cmp(b.0).then(a.1.layer_index.cmp(&b.1.layer_index)));
    let mut topmost: Vec<(&str, &FileRecord)> = Vec::with_capacity(files.len());
    for (path, file) in files {
        match topmost.last_mut() {
            Some(last) if last.0 == path => *last = (path, file),
            _ => topmost.push((path, file)),
        }
    }
    topmost.into_iter().collect()
}

/// Anchore reports content matches per file and rule, not per line.
fn content_regex_match(params: &Params, sbom: &Sbom) -> Vec<String> {
    let wanted = params.str("regex_name");
    let matches: BTreeSet<(&str, &str)> = sbom
        .content_matches
        .iter()
        .filter(|m| wanted.is_none_or(|name| m.rule == name))
        .map(|m| (m.path.as_str(), m.rule.as_str()))
        .collect();
    matches
        .into_iter()
        .map(|(path, rule)| format!("File content analyzer found regexp match in container: file={path} regexp={rule}"))
        .collect()
}

fn name_match(params: &Params, sbom: &Sbom) -> Result<Vec<String>, GateError> {
    let regex = params.required("regex")?;
    let pattern = match_at_start(regex)?;
    Ok(files_by_path(sbom)
        .into_keys()
        .filter(|path| pattern.is_match(path))
        .map(|path| format!("Application of regex matched file found in container: file={path} regexp={regex}"))
        .collect())
}

/// Whether an attribute must equal the given value or differ from it.
fn equals_op(params: &Params, name: &str) -> Result<bool, GateError> {
    match params.str(name).unwrap_or("equals") {
        "equals" => Ok(true),
        "not_equals" => Ok(false),
        other => Err(GateError::Invalid(format!("{name} {other:?} is neither equals nor not_equals"))),
    }
}

/// Python's `oct()`.
fn python_octal(mode: u32) -> String {
    format!("0o{mode:o}")
}

fn attribute_match(params: &Params, sbom: &Sbom) -> Result<Vec<String>, GateError> {
    let filename = params.required("filename")?;
    let files = files_by_path(sbom);
    // Anchore lists each failed-or-met condition after the file name.
    let mut conditions = Vec::new();
    match files.get(filename) {
        Some(file) => {
            if let Some(wanted) = params.str("checksum") {
                let algorithm = params.str("checksum_algorithm").unwrap_or("sha256");
                if algorithm != "sha256" {
                    return Err(GateError::Invalid(format!("checksum_algorithm {algorithm:?} is not sha256")));
                }
                let equals = equals_op(params, "checksum_match")?;
                // Anchore's digests are bare hex; accept the `sha256:` form too.
                let actual = file.sha256.as_deref().map_or("", |d| d.strip_prefix("sha256:").unwrap_or(d));
                let wanted_hex = wanted.strip_prefix("sha256:").unwrap_or(wanted);
                if (actual.eq_ignore_ascii_case(wanted_hex)) != equals {
                    return Ok(Vec::new());
                }
                let op = if equals { "equals" } else { "not_equals" };
                conditions.push(format!("checksum={actual} op={op} specified_checksum={wanted}"));
            }
            if let Some(wanted) = params.str("mode") {
                let equals = equals_op(params, "mode_op")?;
                let wanted = u32::from_str_radix(wanted, 8)
                    .map_err(|_| GateError::Invalid(format!("mode {wanted:?} is not an octal file mode")))?;
                let actual = file.mode & 0o7777;
                if (actual == wanted) != equals {
                    return Ok(Vec::new());
                }
                let op = if equals { "equals" } else { "not_equals" };
                conditions.push(format!(
                    "mode={} op={op} specified_mode={}",
                    python_octal(actual),
                    python_octal(wanted)
                ));
            }
        }
        None if params.bool("skip_missing")?.unwrap_or(true) => {}
        None => conditions.push("skip_missing=False".to_owned()),
    }
    if conditions.is_empty() {
        return Ok(Vec::new());
    }
    let mut message = format!("filename={filename}");
    for condition in conditions {
        message.push_str(" and ");
        message.push_str(&condition);
    }
    Ok(vec![message])
}

/// The `st_mode` Anchore reads with `lstat`: the file-type bits, then the
/// permission bits.
fn st_mode(file: &FileRecord) -> u32 {
    let file_type = match file.kind.as_str() {
        "dir" => 0o040000,
        "symlink" => 0o120000,
        "char-device" => 0o020000,
        "block-device" => 0o060000,
        "fifo" => 0o010000,
        _ => 0o100000,
    };
    file_type | file.mode
}

fn suid_or_guid_set(sbom: &Sbom) -> Vec<String> {
    files_by_path(sbom)
        .into_values()
        .filter(|file| file.is_setuid() || file.is_setgid())
        .map(|file| format!("SUID or SGID found set on file {}. Mode: {}", file.path, python_octal(st_mode(file))))
        .collect()
}
