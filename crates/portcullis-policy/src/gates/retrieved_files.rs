//! The `retrieved_files` gate: files whose content the analysis kept
//! (`--retrieve-file`; `/etc/passwd` by default).

use super::metadata::match_at_start;
use super::{EvalContext, GateError, TriggerMatch, unknown_trigger};
use crate::params::Params;

const GATE: &str = "retrieved_files";

pub fn evaluate(trigger: &str, params: &Params, ctx: &EvalContext<'_>) -> Result<Vec<TriggerMatch>, GateError> {
    if !matches!(trigger, "content_not_available" | "content_regex") {
        return Err(unknown_trigger(GATE, trigger));
    }
    let path = params.required("path")?;
    let file = ctx.sbom.retrieved_files.iter().rev().find(|f| f.path == path);
    match trigger {
        "content_not_available" => Ok(match file {
            Some(_) => Vec::new(),
            None => {
                let message = format!("Cannot locate file in the image analysis: {path}");
                vec![TriggerMatch::new(GATE, trigger, message)]
            }
        }),
        _ => {
            let regex = params.required("regex")?;
            let wanted = match params.required("check")? {
                "match" => true,
                "no_match" => false,
                other => return Err(GateError::Invalid(format!("check {other:?} is neither match nor no_match"))),
            };
            let pattern = match_at_start(regex)?;
            let Some(file) = file else { return Ok(Vec::new()) };
            // Anchore applies the regex to each whitespace-separated word.
            let matched = file.content.split_whitespace().any(|word| pattern.is_match(word));
            if matched != wanted {
                return Ok(Vec::new());
            }
            let check = if wanted { "match" } else { "no_match" };
            Ok(vec![TriggerMatch {
                // Anchore's id is `<rule id>+file://<path>`; the gate does not
                // see the rule id, so the regex stands in for it.
                trigger_id: format!("{regex}+file://{path}"),
                message: format!("Content regex '{regex}' check '{check}' found in retrieved file '{path}'"),
                package: None,
            }])
        }
    }
}
