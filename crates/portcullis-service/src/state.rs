//! What every request handler and background task shares.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use metrics_exporter_prometheus::PrometheusHandle;
use portcullis_objstore::DocumentStore;
use portcullis_sql::Database;
use portcullis_vulndb::VulnStore;

use crate::auth::CachedLogin;
use crate::config::ServiceConfig;
use crate::crypto::Cipher;
use crate::queue::Queue;

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub config: ServiceConfig,
    /// The catalog database (accounts, images, queue, ...).
    pub db: Database,
    /// Bulky documents, addressed by (account, bucket, key).
    pub docs: DocumentStore,
    pub vulndb: VulnStore,
    pub queue: Queue,
    pub cipher: Cipher,
    /// Names this process in leases and events: `<hostname>-<pid>-<random>`.
    pub host_id: String,
    pub started: Instant,
    pub metrics: Option<PrometheusHandle>,
    /// Verified basic-auth logins, so a password hash is not recomputed on
    /// every request (argon2 is deliberately slow). Cleared whenever a user,
    /// credential or account changes.
    pub login_cache: Mutex<HashMap<[u8; 32], CachedLogin>>,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }

    pub fn forget_logins(&self) {
        if let Ok(mut cache) = self.login_cache.lock() {
            cache.clear();
        }
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Object-store buckets, as Anchore names them.
pub mod bucket {
    pub const MANIFEST: &str = "manifest_data";
    pub const PARENT_MANIFEST: &str = "parent_manifest_data";
    /// The native SBOM document (portcullis JSON).
    pub const SBOM: &str = "syft_sbom";
    pub const ANALYSIS: &str = "analysis_data";
    pub const IMAGE_CONTENT: &str = "image_content_data";
    pub const VULNERABILITY_SCAN: &str = "vulnerability_scan";
    pub const POLICY_BUNDLES: &str = "policy_bundles";
    pub const POLICY_EVALUATIONS: &str = "policy_evaluations";
    pub const ANALYSIS_ARCHIVE: &str = "analysis_archive";
}
