//! The analyzer role: workers that take images from the analysis queue,
//! analyse them and store the results.
//!
//! A worker claims a job with a lease and renews it every third of the
//! lease while the analysis runs; a worker that dies stops renewing, so
//! another takes the job over once the lease expires. Image intake and
//! cataloging are blocking (the registry client is blocking reqwest), so
//! they run on the blocking pool, never on a runtime thread. Results are
//! stored only while the lease is still ours: a job taken over (or
//! cancelled by a delete or a forced re-add) writes nothing.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use portcullis_api::AnalysisStatus;
use portcullis_catalog::{AnalyzeOptions, analyze_with_cache};
use portcullis_image::cache::{CacheDir, DiskCache, PendingFile, ResultCache};
use portcullis_image::digest::{Digest, VerifyingReader};
use portcullis_image::source::registry::Reference;
use portcullis_image::source::{self as image_source, ImageDescriptor, ImageSource, LayerStream, SourceOptions};
use portcullis_sbom::{Dockerfile, DockerfileKind};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::error::ServiceError;
use crate::events::{self, NewEvent};
use crate::images::{self, Analysis};
use crate::queue::{self, FailOutcome, Job};
use crate::registries;
use crate::state::AppState;

/// The analyzer's local caches, shared by its workers.
#[derive(Clone)]
struct Caches {
    /// Layer blobs, so shared layers are downloaded once.
    blobs: Option<Arc<LayerCache>>,
    /// Per-layer analysis results, so shared layers are not read at all.
    results: Option<Arc<DiskCache>>,
}

/// Starts `config.analyzer.workers` workers and the reaper of abandoned jobs.
pub fn spawn(state: &AppState, stop: watch::Receiver<bool>, tasks: &mut JoinSet<()>) {
    let config = &state.config.analyzer;
    let data_dir = &state.config.data_dir;
    let caches = Caches {
        blobs: (config.layer_cache_mb > 0)
            .then(|| Arc::new(LayerCache::new(cache_dir(data_dir), config.layer_cache_mb.saturating_mul(1 << 20)))),
        results: (config.layer_results_cache_mb > 0).then(|| {
            Arc::new(DiskCache::new(results_dir(data_dir), config.layer_results_cache_mb.saturating_mul(1 << 20)))
        }),
    };
    for worker in 0..config.workers {
        let owner = format!("{}/analyzer-{worker}", state.host_id);
        tasks.spawn(run_worker(state.clone(), owner, caches.clone(), stop.clone()));
    }
    tasks.spawn(run_reaper(state.clone(), stop));
}

async fn run_worker(state: AppState, owner: String, caches: Caches, mut stop: watch::Receiver<bool>) {
    let lease = state.config.analyzer.lease_seconds;
    let poll = Duration::from_millis(state.config.analyzer.poll_millis.max(10));
    tracing::info!(owner, "analyzer worker started");
    loop {
        if *stop.borrow() {
            return;
        }
        let wait = match state.queue.claim(queue::ANALYZE, &owner, lease).await {
            Ok(Some(job)) => {
                process(&state, &job, &owner, caches.clone()).await;
                continue;
            }
            Ok(None) => poll,
            Err(error) => {
                tracing::warn!(%error, "cannot claim from the analysis queue");
                poll.max(Duration::from_secs(1))
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Marks failed the images whose last attempt's worker died.
async fn run_reaper(state: AppState, mut stop: watch::Receiver<bool>) {
    let every = Duration::from_secs((state.config.analyzer.lease_seconds / 2).max(5));
    loop {
        match state.queue.reap_abandoned(queue::ANALYZE).await {
            Ok(jobs) => {
                for job in jobs {
                    let reason = "the analyzer working on it stopped responding (lease expired) on the last attempt";
                    if let Some(digest) = job_digest(&job) {
                        finish_failed(&state, &job.account, &digest, reason).await;
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "cannot reap abandoned analyses"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            return;
        }
    }
}

fn job_digest(job: &Job) -> Option<String> {
    job.payload.get("digest").and_then(|d| d.as_str()).map(str::to_owned)
}

async fn process(state: &AppState, job: &Job, owner: &str, caches: Caches) {
    let Some(digest) = job_digest(job) else {
        tracing::warn!(job = job.id, "analysis job without a digest; dropped");
        let _ = state.queue.fail(job, owner, "the job names no image digest").await;
        return;
    };
    let account = job.account.as_str();
    let outcome = analyse_job(state, job, owner, account, &digest, caches).await;
    let result = match outcome {
        Ok(Stored::Done) => state.queue.complete(job, owner).await.map(|_| ()),
        Ok(Stored::Gone) => state.queue.complete(job, owner).await.map(|_| ()),
        Ok(Stored::LeaseLost) => {
            tracing::warn!(account, digest, "lost the lease while analysing; the result is discarded");
            Ok(())
        }
        Err(reason) => record_failure(state, job, owner, account, &digest, &reason).await,
    };
    if let Err(error) = result {
        tracing::warn!(%error, account, digest, "cannot record the end of an analysis");
    }
}

enum Stored {
    Done,
    /// The image was deleted meanwhile.
    Gone,
    LeaseLost,
}

async fn analyse_job(
    state: &AppState,
    job: &Job,
    owner: &str,
    account: &str,
    digest: &str,
    caches: Caches,
) -> Result<Stored, String> {
    let row = images::image_row(state, account, digest).await.map_err(|e| e.to_string())?;
    let Some(row) = row else { return Ok(Stored::Gone) };
    images::set_status(state, account, digest, AnalysisStatus::Analyzing).await.map_err(|e| e.to_string())?;
    tracing::info!(account, digest, attempt = job.attempts, "analysing");
    let reference = Reference::parse(&row.pull_reference).map_err(|e| e.to_string())?;
    let access =
        registries::credentials_for(state, account, &format!("{}/{}", reference.registry, reference.repository))
            .await
            .map_err(|e| e.to_string())?;
    let options = SourceOptions {
        registry: registries::registry_options(state, &reference.registry, access.as_ref()),
        ..SourceOptions::default()
    };
    let dockerfile = match &row.dockerfile {
        Some(text) => Some(Dockerfile {
            kind: DockerfileKind::Actual,
            text: String::from_utf8_lossy(
                &STANDARD.decode(text.trim()).map_err(|e| format!("stored dockerfile: {e}"))?,
            )
            .into_owned(),
        }),
        None => None,
    };
    let pull = format!("registry:{}", row.pull_reference);

    let lost = Arc::new(AtomicBool::new(false));
    let heartbeat = tokio::spawn(keep_lease(state.clone(), job.clone(), owner.to_owned(), lost.clone()));
    let analysed = tokio::task::spawn_blocking(move || analyse_blocking(&pull, &options, dockerfile, caches)).await;
    heartbeat.abort();
    let analysis = analysed.map_err(|e| format!("the analysis task failed: {e}"))??;

    let lease = state.config.analyzer.lease_seconds;
    let still_ours =
        !lost.load(Ordering::SeqCst) && state.queue.heartbeat(job, owner, lease).await.map_err(|e| e.to_string())?;
    if !still_ours {
        return Ok(Stored::LeaseLost);
    }
    match images::store_analysis(state, account, digest, &analysis).await.map_err(|e| e.to_string())? {
        true => {
            events::record(
                state,
                NewEvent {
                    account,
                    event_type: "user.image.analysis.completed",
                    level: "info",
                    resource_type: "image_digest",
                    resource_id: digest,
                    message: format!("analysis of {digest} completed ({} packages)", analysis.sbom.packages.len()),
                    details: serde_json::json!({"attempt": job.attempts}),
                },
            )
            .await;
            tracing::info!(account, digest, packages = analysis.sbom.packages.len(), "analysed");
            if let Err(error) =
                crate::watchers::on_analysis_complete(state, account, digest, AnalysisStatus::Analyzed).await
            {
                tracing::warn!(%error, account, digest, "cannot queue the analysis_update notification");
            }
            Ok(Stored::Done)
        }
        false => Ok(Stored::Gone),
    }
}

/// Renews the lease every third of its length until aborted; sets `lost`
/// when another worker has taken the job over.
async fn keep_lease(state: AppState, job: Job, owner: String, lost: Arc<AtomicBool>) {
    let lease = state.config.analyzer.lease_seconds;
    let every = Duration::from_secs((lease / 3).max(1));
    loop {
        tokio::time::sleep(every).await;
        match state.queue.heartbeat(&job, &owner, lease).await {
            Ok(true) => {}
            Ok(false) => {
                lost.store(true, Ordering::SeqCst);
                return;
            }
            Err(error) => tracing::warn!(%error, job = job.id, "cannot renew an analysis lease"),
        }
    }
}

async fn record_failure(
    state: &AppState,
    job: &Job,
    owner: &str,
    account: &str,
    digest: &str,
    reason: &str,
) -> Result<(), ServiceError> {
    tracing::warn!(account, digest, attempt = job.attempts, reason, "analysis failed");
    match state.queue.fail(job, owner, reason).await? {
        FailOutcome::Retry => images::set_status(state, account, digest, AnalysisStatus::NotAnalyzed).await,
        FailOutcome::GaveUp => {
            finish_failed(state, account, digest, reason).await;
            Ok(())
        }
    }
}

async fn finish_failed(state: &AppState, account: &str, digest: &str, reason: &str) {
    if let Err(error) = images::mark_failed(state, account, digest, reason).await {
        tracing::warn!(%error, account, digest, "cannot mark an image failed");
    }
    events::record(
        state,
        NewEvent {
            account,
            event_type: "user.image.analysis.failed",
            level: "error",
            resource_type: "image_digest",
            resource_id: digest,
            message: format!("analysis of {digest} failed: {reason}"),
            details: serde_json::json!({"reason": reason}),
        },
    )
    .await;
}

/// Opens, reads and catalogs the image: blocking work.
fn analyse_blocking(
    pull: &str,
    options: &SourceOptions,
    dockerfile: Option<Dockerfile>,
    caches: Caches,
) -> Result<Analysis, String> {
    let sources = image_source::open(pull, options).map_err(|e| e.to_string())?;
    let source = sources.into_iter().next().ok_or_else(|| format!("{pull}: no image for linux/amd64"))?;
    let manifest = manifest_document(source.descriptor());
    let source: Box<dyn ImageSource> = match caches.blobs {
        Some(cache) => Box::new(CachedSource { inner: source, cache }),
        None => source,
    };
    let analyze_options = AnalyzeOptions { dockerfile, ..AnalyzeOptions::default() };
    let results = caches.results.as_deref().map(|cache| cache as &dyn ResultCache);
    let sbom = analyze_with_cache(source.as_ref(), &analyze_options, results, &portcullis_image::tree::NoProgress)
        .map_err(|e| e.to_string())?;
    Ok(Analysis { sbom, manifest })
}

/// The image manifest as a document, rebuilt from the verified descriptor
/// (the image crate keeps the parsed manifest, not its bytes).
fn manifest_document(descriptor: &ImageDescriptor) -> serde_json::Value {
    let info = descriptor.image.as_ref();
    serde_json::json!({
        "schemaVersion": 2,
        "mediaType": info.and_then(|i| i.manifest_media_type.clone()),
        "config": {"digest": info.map(|i| i.config_digest.clone())},
        "layers": descriptor.layers.iter().map(|layer| serde_json::json!({
            "mediaType": layer.media_type,
            "digest": layer.digest,
            "size": layer.size,
        })).collect::<Vec<_>>(),
    })
}

/// A local store of verified layer blobs by digest. Blobs enter it only
/// once their digest was verified (the source's reader fails at EOF on a
/// mismatch, before the copy is kept); reads verify again. When over its
/// size, the least recently used blobs are removed.
pub struct LayerCache {
    dir: CacheDir,
}

impl LayerCache {
    pub fn new(dir: PathBuf, max_bytes: u64) -> Self {
        Self { dir: CacheDir::new(dir, max_bytes) }
    }

    fn name(digest: &Digest) -> String {
        format!("{}-{}", digest.algorithm(), digest.hex())
    }

    fn open(&self, digest: &Digest) -> Option<std::fs::File> {
        self.dir.open(&LayerCache::name(digest))
    }
}

/// An image source whose layer blobs come from the [`LayerCache`] when
/// there, and are copied into it while streamed otherwise.
struct CachedSource {
    inner: Box<dyn ImageSource>,
    cache: Arc<LayerCache>,
}

impl ImageSource for CachedSource {
    fn descriptor(&self) -> &ImageDescriptor {
        self.inner.descriptor()
    }

    fn open_layer(&self, index: usize) -> portcullis_image::Result<LayerStream> {
        let layer = self.descriptor().layer(index)?;
        let Some(digest) = layer.digest.as_deref().and_then(|d| Digest::parse(d).ok()) else {
            return self.inner.open_layer(index);
        };
        if let Some(file) = self.cache.open(&digest) {
            tracing::debug!(%digest, "layer from the local cache");
            let what = format!("cached layer {index} ({digest})");
            return Ok(LayerStream::Tar(Box::new(VerifyingReader::new(file, digest, what))));
        }
        match self.inner.open_layer(index)? {
            LayerStream::Tar(reader) => match Tee::create(reader, &self.cache, &digest) {
                Ok(tee) => Ok(LayerStream::Tar(Box::new(tee))),
                Err((reader, error)) => {
                    tracing::warn!(%error, "cannot write to the layer cache; streaming without it");
                    Ok(LayerStream::Tar(reader))
                }
            },
            other => Ok(other),
        }
    }
}

/// Copies a verified stream into the cache: written to a temporary file,
/// published at EOF, dropped if the stream stops early or fails.
struct Tee {
    inner: Box<dyn Read + Send>,
    pending: Option<PendingFile>,
    cache: Arc<LayerCache>,
}

impl Tee {
    fn create(
        inner: Box<dyn Read + Send>,
        cache: &Arc<LayerCache>,
        digest: &Digest,
    ) -> Result<Tee, (Box<dyn Read + Send>, io::Error)> {
        match cache.dir.create(&LayerCache::name(digest)) {
            Ok(pending) => Ok(Tee { inner, pending: Some(pending), cache: cache.clone() }),
            Err(error) => Err((inner, error)),
        }
    }
}

impl Read for Tee {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(error) => {
                self.pending = None;
                return Err(error);
            }
        };
        if n == 0 {
            // EOF: the inner reader has verified the digest.
            if let Some(pending) = self.pending.take()
                && let Err(error) = self.cache.dir.commit(pending)
            {
                tracing::warn!(%error, "cannot keep a layer in the cache");
            }
        } else if let Some(pending) = &mut self.pending
            && let Err(error) = pending.file().and_then(|file| file.write_all(&buf[..n]))
        {
            tracing::warn!(%error, "cannot write to the layer cache; continuing without it");
            self.pending = None;
        }
        Ok(n)
    }
}

/// Where the layer cache of a service with `data_dir` lives.
pub fn cache_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("layer-cache")
}

/// Where the per-layer result cache of a service with `data_dir` lives.
pub fn results_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("layer-results")
}
