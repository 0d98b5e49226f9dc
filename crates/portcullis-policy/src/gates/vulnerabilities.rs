//! PLACEHOLDER: being written.

use super::{EvalContext, GateError, TriggerMatch, unknown_trigger};
use crate::params::Params;

pub fn evaluate(trigger: &str, _params: &Params, _ctx: &EvalContext<'_>) -> Result<Vec<TriggerMatch>, GateError> {
    Err(unknown_trigger("vulnerabilities", trigger))
}
