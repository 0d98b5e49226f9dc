//! The `ruby_gems` gate. The feed-based triggers need Anchore's `packages`
//! feed (latest and known versions per gem), which Portcullis does not
//! have: `feed_data_unavailable` says so and the others never fire.

use portcullis_sbom::PackageType;

use super::packages::matched_package;
use super::{EvalContext, GateError, TriggerMatch, unknown_trigger};
use crate::params::Params;

const GATE: &str = "ruby_gems";

pub fn evaluate(trigger: &str, params: &Params, ctx: &EvalContext<'_>) -> Result<Vec<TriggerMatch>, GateError> {
    let language = Language {
        gate: GATE,
        package_type: PackageType::Gem,
        blacklisted: "Gem Package is blacklisted",
        no_feed: "Gem packages are present but the anchore gem feed is not available - will be unable to perform \
                  checks that require feed data",
    };
    match trigger {
        "blacklist" => language.blacklist(trigger, params, ctx),
        "feed_data_unavailable" => Ok(language.feed_data_unavailable(trigger, ctx)),
        "newer_version_found_in_feed" | "not_found_in_feed" | "version_not_found_in_feed" => Ok(Vec::new()),
        other => Err(unknown_trigger(GATE, other)),
    }
}

/// What the `ruby_gems` and `npms` gates share: a name(+version) blacklist
/// and the missing-feed notice.
pub(crate) struct Language {
    pub(crate) gate: &'static str,
    pub(crate) package_type: PackageType,
    /// Message prefix of a blacklisted package.
    pub(crate) blacklisted: &'static str,
    pub(crate) no_feed: &'static str,
}

impl Language {
    /// One match per blacklisted name (Anchore groups the versions of a name).
    pub(crate) fn blacklist(
        &self,
        trigger: &str,
        params: &Params,
        ctx: &EvalContext<'_>,
    ) -> Result<Vec<TriggerMatch>, GateError> {
        let name = params.required("name")?;
        let version = params.str("version");
        let Some(package) =
            ctx.sbom.packages.iter().find(|p| {
                p.package_type == self.package_type && p.name == name && version.is_none_or(|v| p.version == v)
            })
        else {
            return Ok(Vec::new());
        };
        let message = match version {
            Some(version) => format!("{}: {name}-{version}", self.blacklisted),
            None => format!("{}: {name}", self.blacklisted),
        };
        let mut found = TriggerMatch::new(self.gate, trigger, message);
        found.package = Some(matched_package(package, ctx));
        Ok(vec![found])
    }

    /// Once, when the image has any package of the type: without the feed
    /// the other checks cannot run.
    pub(crate) fn feed_data_unavailable(&self, trigger: &str, ctx: &EvalContext<'_>) -> Vec<TriggerMatch> {
        if ctx.sbom.packages.iter().any(|p| p.package_type == self.package_type) {
            vec![TriggerMatch::new(self.gate, trigger, self.no_feed)]
        } else {
            Vec::new()
        }
    }
}
