//! The `always` gate: fires unconditionally (to test mappings and
//! allowlists, or to deny every image a mapping selects).

use super::{EvalContext, GateError, TriggerMatch, unknown_trigger};
use crate::params::Params;

pub fn evaluate(trigger: &str, _params: &Params, _ctx: &EvalContext<'_>) -> Result<Vec<TriggerMatch>, GateError> {
    match trigger {
        // Anchore gives this trigger the fixed id `always` instead of the md5 default.
        "always" => Ok(vec![TriggerMatch {
            trigger_id: "always".to_owned(),
            message: "Unconditional trigger match".to_owned(),
            package: None,
        }]),
        other => Err(unknown_trigger("always", other)),
    }
}
