//! `feeds sync`: read sources (directories, zip archives, URLs), parse what
//! changed, and swap it into the store.
//!
//! * A source is identified by its name (the last path component, or the
//!   name of a default upstream feed); syncing another location with the
//!   same name replaces it.
//! * Incremental: every file's digest is kept (sha256 of a plain file, the
//!   CRC-32 and size of an archive member); only new and changed files are
//!   parsed, files that disappeared are removed. A sync with no change
//!   rewrites nothing.
//! * Atomic per source: each source is written in one transaction. A file
//!   that fails to parse (truncated, garbled) aborts that source's
//!   transaction, so the store keeps the source's previous data, and the sync
//!   reports the error naming the file; other sources are still synced.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_lc_rs::digest::{Context, SHA256};
use portcullis_vulndb::store::now_rfc3339;
use portcullis_vulndb::{FeedSummary, FileSummary, Record, SourceInfo, StoreError, VulnStore};
use thiserror::Error;

use crate::download::{self, DownloadError, Downloaded};
use crate::formats::{self, FormatError};

/// A feed file larger than this is refused (the Debian tracker JSON, the
/// largest upstream single file, is about 80 MB).
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// Where a source comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// A directory (walked recursively), a zip archive, or a single file.
    Path { name: String, path: PathBuf },
    /// One or more URLs, each a single file or a zip archive, fetched with
    /// conditional requests into the download cache.
    Urls { name: String, urls: Vec<String> },
}

impl SourceSpec {
    /// Reads a `--from` argument: `[NAME=]PATH_OR_URL`.
    pub fn parse(arg: &str) -> SourceSpec {
        let (name, location) = match arg.split_once('=') {
            Some((name, rest))
                if !name.is_empty()
                    && !name.contains(['/', ':'])
                    && (rest.contains("://") || !Path::new(arg).exists()) =>
            {
                (Some(name.to_owned()), rest)
            }
            _ => (None, arg),
        };
        if location.starts_with("http://") || location.starts_with("https://") {
            let name = name.unwrap_or_else(|| name_from_url(location));
            SourceSpec::Urls { name, urls: vec![location.to_owned()] }
        } else {
            let path = PathBuf::from(location);
            let name = name.unwrap_or_else(|| {
                let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
                let stem = canonical.file_stem().or(canonical.file_name()).map(|n| n.to_string_lossy().into_owned());
                stem.filter(|n| !n.is_empty()).unwrap_or_else(|| "feeds".to_owned())
            });
            SourceSpec::Path { name, path }
        }
    }

    pub fn name(&self) -> &str {
        match self {
            SourceSpec::Path { name, .. } | SourceSpec::Urls { name, .. } => name,
        }
    }

    pub fn location(&self) -> String {
        match self {
            SourceSpec::Path { path, .. } => path.display().to_string(),
            SourceSpec::Urls { urls, .. } => urls.join(" "),
        }
    }
}

/// A name for a URL source: the default feed it is, else its last path segment
/// without extension (`.../PyPI/all.zip` gives `PyPI-all`).
fn name_from_url(url: &str) -> String {
    if let Some(spec) = default_sources()
        .into_iter()
        .find(|spec| matches!(spec, SourceSpec::Urls { urls, .. } if urls.iter().any(|u| u == url)))
    {
        return spec.name().to_owned();
    }
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty() && !s.contains(':')).collect();
    let last = segments.last().copied().unwrap_or("feed");
    let stem = last.split('.').next().unwrap_or(last);
    match segments.len() {
        n if n >= 2 && (stem == "all" || stem == "data" || stem == "json") => format!("{}-{stem}", segments[n - 2]),
        _ => stem.to_owned(),
    }
}

/// The ecosystems whose OSV `all.zip` the default sync fetches. OSV's
/// exports include the GitHub advisories (GHSA) of each ecosystem.
pub const OSV_ECOSYSTEMS: [&str; 8] = ["PyPI", "npm", "Go", "crates.io", "Maven", "RubyGems", "Packagist", "NuGet"];

/// Alpine releases whose secdb the default sync fetches.
pub const ALPINE_RELEASES: [&str; 11] =
    ["3.12", "3.13", "3.14", "3.15", "3.16", "3.17", "3.18", "3.19", "3.20", "3.21", "3.22"];

/// The upstream feeds `portcullis feeds sync` reads when no `--from` is given
/// (documented in docs/feeds.md).
pub fn default_sources() -> Vec<SourceSpec> {
    let mut sources: Vec<SourceSpec> = OSV_ECOSYSTEMS
        .iter()
        .map(|ecosystem| SourceSpec::Urls {
            name: format!("osv-{}", ecosystem.to_ascii_lowercase()),
            urls: vec![format!("https://osv-vulnerabilities.storage.googleapis.com/{ecosystem}/all.zip")],
        })
        .collect();
    sources.push(SourceSpec::Urls {
        name: "debian-tracker".to_owned(),
        urls: vec!["https://security-tracker.debian.org/tracker/data/json".to_owned()],
    });
    sources.push(SourceSpec::Urls {
        name: "alpine-secdb".to_owned(),
        urls: ALPINE_RELEASES
            .iter()
            .flat_map(|release| {
                ["main", "community"].map(|repo| format!("https://secdb.alpinelinux.org/v{release}/{repo}.json"))
            })
            .collect(),
    });
    sources.push(SourceSpec::Urls {
        name: "kev".to_owned(),
        urls: vec!["https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json".to_owned()],
    });
    sources.push(SourceSpec::Urls {
        name: "epss".to_owned(),
        urls: vec!["https://epss.empiricalsecurity.com/epss_scores-current.csv.gz".to_owned()],
    });
    sources
}

/// How a sync runs.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Where URL sources are downloaded to and kept between syncs.
    pub cache_dir: PathBuf,
    /// Parse even unchanged files (after a parser fix, say).
    pub force: bool,
    /// Parser threads.
    pub threads: usize,
}

impl SyncOptions {
    pub fn new(cache_dir: PathBuf) -> Self {
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Self { cache_dir, force: false, threads }
    }
}

/// Receives progress; the CLI draws bars, the service logs.
pub trait SyncProgress: Send + Sync {
    /// A source starts; `files` is how many files it has.
    fn source_started(&self, _source: &str, _files: u64) {}
    /// Files were examined (parsed, or found unchanged).
    fn files_done(&self, _count: u64) {}
    /// A source is finished (written or failed).
    fn source_finished(&self, _outcome: &SourceOutcome) {}
    /// A download is in progress: bytes so far and the total when known.
    fn downloading(&self, _url: &str, _bytes: u64, _total: Option<u64>) {}
}

/// Progress that goes nowhere.
pub struct NoProgress;
impl SyncProgress for NoProgress {}

/// What a sync did to one source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceOutcome {
    pub name: String,
    pub location: String,
    pub files: u64,
    pub parsed: u64,
    pub unchanged: u64,
    pub removed: u64,
    /// Files no parser recognised (kept as known, with no records).
    pub unrecognized: u64,
    pub advisories: u64,
    /// Why the source failed; its previous data stays in the store.
    pub error: Option<String>,
}

/// The result of a whole sync.
#[derive(Debug, Clone, Default)]
pub struct SyncReport {
    pub sources: Vec<SourceOutcome>,
    pub elapsed: Duration,
}

impl SyncReport {
    pub fn failed(&self) -> impl Iterator<Item = &SourceOutcome> {
        self.sources.iter().filter(|s| s.error.is_some())
    }
}

/// Why a source could not be synced.
#[derive(Debug, Error)]
pub enum SyncError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a file, directory or zip archive")]
    NotFound { path: PathBuf },
    #[error("{path}: invalid zip archive: {source}")]
    Zip { path: PathBuf, source: zip::result::ZipError },
    #[error("{path}: {member} is {size} bytes, over the {limit}-byte limit for one feed file")]
    TooLarge { path: String, member: String, size: u64, limit: u64 },
    #[error("{path}: {member} inflates past its declared size; refusing a possible decompression bomb")]
    Bomb { path: PathBuf, member: String },
    #[error(transparent)]
    Format(#[from] FormatError),
    #[error(transparent)]
    Download(#[from] DownloadError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("sync of {0} was interrupted")]
    Interrupted(String),
}

/// Syncs every source in turn; one failing source does not stop the others.
pub async fn sync(
    store: &VulnStore,
    specs: &[SourceSpec],
    options: &SyncOptions,
    progress: &dyn SyncProgress,
) -> SyncReport {
    let started = Instant::now();
    let mut report = SyncReport::default();
    for spec in specs {
        let mut outcome =
            SourceOutcome { name: spec.name().to_owned(), location: spec.location(), ..Default::default() };
        if let Err(error) = sync_source(store, spec, options, progress, &mut outcome).await {
            tracing::warn!(source = spec.name(), %error, "feed source failed; its previous data is kept");
            outcome.error = Some(error.to_string());
        }
        progress.source_finished(&outcome);
        report.sources.push(outcome);
    }
    report.elapsed = started.elapsed();
    report
}

/// One file of a source, not yet read.
#[derive(Debug, Clone)]
struct FeedFile {
    path: String,
    digest: String,
    origin: Origin,
}

#[derive(Debug, Clone)]
enum Origin {
    File(PathBuf),
    ZipMember { archive: Arc<PathBuf>, index: usize, size: u64 },
}

async fn sync_source(
    store: &VulnStore,
    spec: &SourceSpec,
    options: &SyncOptions,
    progress: &dyn SyncProgress,
    outcome: &mut SourceOutcome,
) -> Result<(), SyncError> {
    let name = spec.name().to_owned();
    let previous_info = store.sources().await?.into_iter().find(|s| s.name == name);
    let mut validators = previous_info.as_ref().map(|info| info.validators.clone()).unwrap_or_default();

    let (files, location) = match spec {
        SourceSpec::Path { path, .. } => {
            let path = path.clone();
            let files = tokio::task::spawn_blocking(move || list_path(&path))
                .await
                .map_err(|_| SyncError::Interrupted(name.clone()))??;
            (files, spec.location())
        }
        SourceSpec::Urls { urls, .. } => {
            let mut files = Vec::new();
            for url in urls {
                let downloaded = download_blocking(url, &options.cache_dir, &name, &validators, progress).await?;
                let Downloaded { path, validators: fresh, .. } = downloaded;
                for (key, value) in fresh {
                    validators.insert(format!("{url} {key}"), value);
                }
                let member_prefix = download::file_name(url);
                let listed = tokio::task::spawn_blocking(move || list_path(&path))
                    .await
                    .map_err(|_| SyncError::Interrupted(name.clone()))??;
                // A single downloaded file lists as its own name; prefix members
                // of a zip with the URL's file name so two URLs never collide.
                files.extend(listed.into_iter().map(|mut file| {
                    if file.path != member_prefix {
                        file.path = format!("{member_prefix}/{}", file.path);
                    }
                    file
                }));
            }
            (files, spec.location())
        }
    };
    outcome.files = files.len() as u64;
    progress.source_started(&name, outcome.files);

    let stored: HashMap<String, FileSummary> =
        store.files(&name).await?.into_iter().map(|file| (file.path.clone(), file)).collect();
    let present: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let removed: Vec<String> = stored.keys().filter(|p| !present.contains(p.as_str())).cloned().collect();
    let (changed, unchanged): (Vec<FeedFile>, Vec<FeedFile>) = files
        .into_iter()
        .partition(|file| options.force || stored.get(&file.path).is_none_or(|s| s.digest != file.digest));
    outcome.unchanged = unchanged.len() as u64;
    outcome.removed = removed.len() as u64;
    progress.files_done(outcome.unchanged);

    let mut summaries: BTreeMap<String, FileSummary> =
        unchanged.iter().filter_map(|f| stored.get(&f.path).map(|s| (f.path.clone(), s.clone()))).collect();

    if changed.is_empty() && removed.is_empty() {
        // Nothing to rewrite; still record that the source was checked.
        if let Some(mut info) = previous_info {
            info.synced_at = now_rfc3339();
            info.location = location;
            info.validators = validators;
            let mut tx = store.begin_sync().await?;
            tx.set_source(&info).await?;
            tx.commit().await?;
        }
        outcome.advisories = summaries.values().map(|s| s.advisories).sum();
        return Ok(());
    }

    let mut tx = store.begin_sync().await?;
    for path in &removed {
        tx.remove_file(&name, path).await?;
    }
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Result<(FileSummary, Vec<Record>), SyncError>>(64);
    let cancelled = Arc::new(AtomicBool::new(false));
    let parser = spawn_parsers(changed, options.threads, sender, cancelled.clone());
    let mut failure = None;
    while let Some(parsed) = receiver.recv().await {
        match parsed {
            Ok((summary, records)) => {
                if summary.format.is_none() {
                    outcome.unrecognized += 1;
                }
                outcome.parsed += 1;
                progress.files_done(1);
                if let Err(error) = tx.replace_file(&name, &summary, &records).await {
                    failure = Some(SyncError::Store(error));
                    break;
                }
                summaries.insert(summary.path.clone(), summary);
            }
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    cancelled.store(true, Ordering::Relaxed);
    drop(receiver);
    let _ = parser.await;
    if let Some(error) = failure {
        // Dropping the transaction rolls back everything this source wrote.
        drop(tx);
        return Err(error);
    }

    let info = source_info(&name, location, summaries.values(), validators);
    outcome.advisories = info.advisories;
    tx.set_source(&info).await?;
    tx.commit().await?;
    Ok(())
}

async fn download_blocking(
    url: &str,
    cache_dir: &Path,
    source: &str,
    validators: &BTreeMap<String, String>,
    progress: &dyn SyncProgress,
) -> Result<Downloaded, SyncError> {
    let previous: BTreeMap<String, String> = validators
        .iter()
        .filter_map(|(key, value)| key.strip_prefix(&format!("{url} ")).map(|k| (k.to_owned(), value.clone())))
        .collect();
    let (url, cache_dir, source) = (url.to_owned(), cache_dir.to_owned(), source.to_owned());
    let (tick_sender, mut ticks) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::task::spawn_blocking({
        let url = url.clone();
        move || {
            download::fetch(&url, &cache_dir.join(&source), &previous, &|bytes, total| {
                let _ = tick_sender.send((bytes, total));
            })
        }
    });
    while let Some((bytes, total)) = ticks.recv().await {
        progress.downloading(&url, bytes, total);
    }
    Ok(task.await.map_err(|_| SyncError::Interrupted(url.clone()))??)
}

fn spawn_parsers(
    files: Vec<FeedFile>,
    threads: usize,
    sender: tokio::sync::mpsc::Sender<Result<(FileSummary, Vec<Record>), SyncError>>,
    cancelled: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    tokio::task::spawn_blocking(move || {
        let queue = std::sync::Mutex::new(files.into_iter());
        std::thread::scope(|scope| {
            for _ in 0..threads.max(1) {
                scope.spawn(|| {
                    loop {
                        if cancelled.load(Ordering::Relaxed) {
                            return;
                        }
                        let next = match queue.lock() {
                            Ok(mut queue) => queue.next(),
                            Err(_) => return,
                        };
                        let Some(file) = next else { return };
                        let result = parse_file(&file);
                        let failed = result.is_err();
                        if sender.blocking_send(result).is_err() || failed {
                            return;
                        }
                    }
                });
            }
        });
    })
}

fn parse_file(file: &FeedFile) -> Result<(FileSummary, Vec<Record>), SyncError> {
    let bytes = read_origin(file)?;
    let head = &bytes[..bytes.len().min(formats::SNIFF_BYTES)];
    let mut summary = FileSummary { path: file.path.clone(), digest: file.digest.clone(), ..Default::default() };
    let Some(format) = formats::recognize(&file.path, head) else {
        return Ok((summary, Vec::new()));
    };
    let records = (format.parse)(&file.path, &bytes)?;
    summary.format = Some(format.name.to_owned());
    for record in &records {
        let date = match record {
            Record::Advisory(advisory) => {
                summary.advisories += 1;
                advisory.modified.as_deref().or(advisory.published.as_deref())
            }
            Record::Kev(entry) => {
                summary.kev += 1;
                Some(entry.date_added.as_str())
            }
            Record::Epss(entry) => {
                summary.epss += 1;
                entry.date.as_deref()
            }
        };
        // Go's vulndb writes 0001-01-01 for unpublished dates; ignore such placeholders.
        if let Some(date) = date.filter(|d| d.len() >= 10 && !d.starts_with("0001-"))
            && summary.upstream_date.as_deref().is_none_or(|current| date > current)
        {
            summary.upstream_date = Some(date.to_owned());
        }
    }
    Ok((summary, records))
}

fn read_origin(file: &FeedFile) -> Result<Vec<u8>, SyncError> {
    match &file.origin {
        Origin::File(path) => {
            let io = |source| SyncError::Io { path: path.clone(), source };
            let size = std::fs::metadata(path).map_err(io)?.len();
            if size > MAX_FILE_BYTES {
                return Err(SyncError::TooLarge {
                    path: path.display().to_string(),
                    member: file.path.clone(),
                    size,
                    limit: MAX_FILE_BYTES,
                });
            }
            std::fs::read(path).map_err(io)
        }
        Origin::ZipMember { archive, index, size } => {
            let io = |source| SyncError::Io { path: archive.to_path_buf(), source };
            let zip_error = |source| SyncError::Zip { path: archive.to_path_buf(), source };
            let mut zip = zip::ZipArchive::new(File::open(archive.as_path()).map_err(io)?).map_err(zip_error)?;
            let member = zip.by_index(*index).map_err(zip_error)?;
            let mut bytes = Vec::with_capacity(usize::try_from(*size).unwrap_or(0));
            // Read one byte past the declared size to catch members that lie about it.
            member.take(size + 1).read_to_end(&mut bytes).map_err(io)?;
            if bytes.len() as u64 > *size {
                return Err(SyncError::Bomb { path: archive.to_path_buf(), member: file.path.clone() });
            }
            Ok(bytes)
        }
    }
}

/// Lists the files of a path source with their digests.
fn list_path(path: &Path) -> Result<Vec<FeedFile>, SyncError> {
    let io = |source| SyncError::Io { path: path.to_owned(), source };
    let metadata = std::fs::metadata(path).map_err(|_| SyncError::NotFound { path: path.to_owned() })?;
    if metadata.is_dir() {
        let mut files = Vec::new();
        walk(path, path, &mut files)?;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        return Ok(files);
    }
    let mut magic = [0u8; 4];
    let read = File::open(path).and_then(|mut f| f.read(&mut magic)).map_err(io)?;
    if read == 4 && magic == *b"PK\x03\x04" {
        return list_zip(path);
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(vec![FeedFile { path: name, digest: sha256_file(path)?, origin: Origin::File(path.to_owned()) }])
}

fn walk(root: &Path, dir: &Path, files: &mut Vec<FeedFile>) -> Result<(), SyncError> {
    let io = |source| SyncError::Io { path: dir.to_owned(), source };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let file_name = entry.file_name();
        // Version-control and other hidden directories are never feed data.
        if file_name.to_string_lossy().starts_with('.') {
            continue;
        }
        let file_type = entry.file_type().map_err(io)?;
        if file_type.is_dir() {
            walk(root, &path, files)?;
        } else if file_type.is_file() || (file_type.is_symlink() && path.is_file()) {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let relative = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            files.push(FeedFile { path: relative, digest: sha256_file(&path)?, origin: Origin::File(path) });
        }
    }
    Ok(())
}

fn list_zip(path: &Path) -> Result<Vec<FeedFile>, SyncError> {
    let io = |source| SyncError::Io { path: path.to_owned(), source };
    let zip_error = |source| SyncError::Zip { path: path.to_owned(), source };
    let mut zip = zip::ZipArchive::new(File::open(path).map_err(io)?).map_err(zip_error)?;
    let archive = Arc::new(path.to_owned());
    let mut files = Vec::new();
    for index in 0..zip.len() {
        let member = zip.by_index_raw(index).map_err(zip_error)?;
        if !member.is_file() {
            continue;
        }
        let name = member.name().map_err(zip_error)?.into_owned();
        if member.size() > MAX_FILE_BYTES {
            return Err(SyncError::TooLarge {
                path: path.display().to_string(),
                member: name,
                size: member.size(),
                limit: MAX_FILE_BYTES,
            });
        }
        // Member names are only used as keys, never as paths on disk.
        files.push(FeedFile {
            path: name,
            digest: format!("crc32:{:08x}:{}", member.crc32(), member.size()),
            origin: Origin::ZipMember { archive: archive.clone(), index, size: member.size() },
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

fn sha256_file(path: &Path) -> Result<String, SyncError> {
    let io = |source| SyncError::Io { path: path.to_owned(), source };
    let mut file = File::open(path).map_err(io)?;
    let mut hasher = Context::new(&SHA256);
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buffer).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(format!("sha256:{}", hex::encode(hasher.finish())))
}

/// Provenance of a source from its files' summaries.
fn source_info<'a>(
    name: &str,
    location: String,
    files: impl Iterator<Item = &'a FileSummary>,
    validators: BTreeMap<String, String>,
) -> SourceInfo {
    let mut info = SourceInfo { name: name.to_owned(), location, validators, ..Default::default() };
    let mut digest = Context::new(&SHA256);
    let mut formats = BTreeSet::new();
    for file in files {
        digest.update(file.path.as_bytes());
        digest.update(&[0]);
        digest.update(file.digest.as_bytes());
        digest.update(&[0]);
        let feed = match file.path.split_once('/') {
            Some((first, _)) => first.to_owned(),
            None => ".".to_owned(),
        };
        let summary: &mut FeedSummary = info.feeds.entry(feed).or_default();
        summary.files += 1;
        summary.advisories += file.advisories;
        summary.kev += file.kev;
        summary.epss += file.epss;
        if let Some(format) = &file.format {
            if !summary.formats.contains(format) {
                summary.formats.push(format.clone());
            }
            formats.insert(format.clone());
        }
        if file.upstream_date > summary.upstream_date {
            summary.upstream_date.clone_from(&file.upstream_date);
        }
        info.files += 1;
        info.advisories += file.advisories;
        info.kev += file.kev;
        info.epss += file.epss;
        if file.upstream_date > info.upstream_date {
            info.upstream_date.clone_from(&file.upstream_date);
        }
    }
    for summary in info.feeds.values_mut() {
        summary.formats.sort();
    }
    info.formats = formats.into_iter().collect();
    info.digest = format!("sha256:{}", hex::encode(digest.finish()));
    info.synced_at = now_rfc3339();
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_arguments_name_their_source() {
        assert_eq!(
            SourceSpec::parse("https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"),
            SourceSpec::Urls {
                name: "osv-pypi".to_owned(),
                urls: vec!["https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip".to_owned()]
            }
        );
        assert_eq!(SourceSpec::parse("http://mirror.local/x/Go/all.zip").name(), "Go-all");
        assert_eq!(SourceSpec::parse("mine=http://mirror.local/kev.json").name(), "mine");
        assert_eq!(SourceSpec::parse("/srv/feeds/osv-go").name(), "osv-go");
        assert_eq!(SourceSpec::parse("/srv/mirror/PyPI.zip").name(), "PyPI");
        assert_eq!(
            SourceSpec::parse("pypi=/srv/x"),
            SourceSpec::Path { name: "pypi".to_owned(), path: PathBuf::from("/srv/x") }
        );
    }
}
