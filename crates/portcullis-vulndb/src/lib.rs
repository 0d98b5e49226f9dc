//! Normalised vulnerability records and the store that holds them.
//!
//! Every upstream feed (OSV, the Debian tracker, Alpine secdb, NVD, ...) is
//! parsed into the same [`model`] types, so the matcher and the store never
//! know which format a record came from.

pub mod model;

pub use model::*;
