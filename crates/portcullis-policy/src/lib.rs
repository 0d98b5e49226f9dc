//! Anchore-compatible policy bundles.
//!
//! * [`bundle`]: reading and validating bundles (v1 `policies`/`whitelists`
//!   naming and the later `rule_sets`/`allowlists` naming) into [`model`].
//! * [`spec`]: every gate, trigger and parameter, as data.
//! * [`params`]: validated parameter values with typed access.
//! * [`gates`]: one module per gate; each trigger turns the analysis into
//!   trigger matches.
//! * [`evaluate`]: mappings, allowlists, image lists and the final action.

pub mod bundle;
pub mod evaluate;
pub mod gates;
pub mod model;
pub mod params;
pub mod spec;
