//! The `npms` gate. As for `ruby_gems`, the feed-based triggers need
//! Anchore's `packages` feed: `feed_data_unavailable` says it is missing and
//! the others never fire.

use portcullis_sbom::PackageType;

use super::ruby_gems::Language;
use super::{EvalContext, GateError, TriggerMatch, unknown_trigger};
use crate::params::Params;

const GATE: &str = "npms";

pub fn evaluate(trigger: &str, params: &Params, ctx: &EvalContext<'_>) -> Result<Vec<TriggerMatch>, GateError> {
    let language = Language {
        gate: GATE,
        package_type: PackageType::Npm,
        blacklisted: "NPM Package is blacklisted",
        no_feed: "NPM packages are present but the anchore npm feed is not available - will be unable to perform \
                  checks that require feed data",
    };
    match trigger {
        "blacklisted_name_version" => language.blacklist(trigger, params, ctx),
        "feed_data_unavailable" => Ok(language.feed_data_unavailable(trigger, ctx)),
        "newer_version_in_feed" | "unknown_in_feeds" | "version_not_in_feeds" => Ok(Vec::new()),
        other => Err(unknown_trigger(GATE, other)),
    }
}
