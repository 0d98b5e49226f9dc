//! Normalised vulnerability records and the store that holds them.
//!
//! Every upstream feed (OSV, the Debian tracker, Alpine secdb, NVD, ...) is
//! parsed into the same [`model`] types, so the matcher and the store never
//! know which format a record came from. The [`store`] keeps them in SQLite
//! (the embedded default) or PostgreSQL.

pub mod model;
pub mod store;

pub use model::*;
pub use store::{
    AffectedRow, Backend, FeedSummary, FileSummary, SourceInfo, StoreCounts, StoreError, StoredAdvisory,
    SyncTransaction, VulnStore,
};
