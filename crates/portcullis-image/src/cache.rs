//! Local caches of things derived from images, kept between analyses.
//!
//! [`CacheDir`] is a directory of files, one per name, filled by writing a
//! temporary file and renaming it (readers, other threads or processes, see a
//! whole file or none) and held under a size by removing the least recently
//! used files. [`DiskCache`] stores values by key in one, zstd-compressed with
//! a checksum. Nothing a cache does is an error for its user: a file that is
//! missing, unreadable or corrupt is a miss, a failed write is logged.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// Temporary files start with this; they do not count as entries.
const PARTIAL_PREFIX: &str = ".partial-";

/// A temporary file not written to for this long was left by a process that
/// died, and is removed on the next eviction.
const STALE_PARTIAL: Duration = Duration::from_secs(3600);

/// A directory of cache files with a size cap.
#[derive(Debug, Clone)]
pub struct CacheDir {
    dir: PathBuf,
    max_bytes: u64,
}

/// A file being written into a [`CacheDir`]; removed when dropped before
/// [`CacheDir::commit`].
pub struct PendingFile {
    file: Option<File>,
    temp: PathBuf,
    name: String,
}

impl PendingFile {
    pub fn file(&mut self) -> io::Result<&mut File> {
        self.file.as_mut().ok_or_else(|| io::Error::other("cache file already committed"))
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

impl CacheDir {
    /// Files are kept in `dir` (created on the first write) while they add up
    /// to at most `max_bytes`.
    pub fn new(dir: PathBuf, max_bytes: u64) -> Self {
        Self { dir, max_bytes }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the entry `name` lives. Names come from digests and fingerprints,
    /// never from input, but are checked anyway: they must stay file names.
    fn path(&self, name: &str) -> io::Result<PathBuf> {
        let valid = !name.is_empty()
            && name.len() <= 200
            && !name.starts_with('.')
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !valid {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("invalid cache entry name {name:?}")));
        }
        Ok(self.dir.join(name))
    }

    /// The entry `name` when present, marked as just used.
    pub fn open(&self, name: &str) -> Option<File> {
        let file = File::open(self.path(name).ok()?).ok()?;
        // The modification time orders eviction: what was read recently stays.
        let _ = file.set_modified(SystemTime::now());
        Some(file)
    }

    /// Starts writing the entry `name`; it appears on [`CacheDir::commit`].
    pub fn create(&self, name: &str) -> io::Result<PendingFile> {
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        self.path(name)?;
        std::fs::create_dir_all(&self.dir)?;
        let unique = format!("{}-{}", std::process::id(), SEQUENCE.fetch_add(1, Ordering::Relaxed));
        let temp = self.dir.join(format!("{PARTIAL_PREFIX}{name}-{unique}"));
        let file = File::create(&temp)?;
        Ok(PendingFile { file: Some(file), temp, name: name.to_owned() })
    }

    /// Publishes a written entry under its name, then evicts down to the cap.
    pub fn commit(&self, mut pending: PendingFile) -> io::Result<()> {
        let target = self.path(&pending.name)?;
        let file = pending.file()?;
        file.sync_all()?;
        std::fs::rename(&pending.temp, &target)?;
        pending.file = None;
        self.evict();
        Ok(())
    }

    /// Removes the least recently used entries until the rest fit, and
    /// temporary files abandoned by a process that died.
    pub fn evict(&self) {
        let Ok(listing) = std::fs::read_dir(&self.dir) else { return };
        let now = SystemTime::now();
        let mut entries: Vec<(SystemTime, u64, PathBuf)> = Vec::new();
        for item in listing.filter_map(Result::ok) {
            let Ok(meta) = item.metadata() else { continue };
            let Ok(modified) = meta.modified() else { continue };
            if item.file_name().to_string_lossy().starts_with(PARTIAL_PREFIX) {
                if now.duration_since(modified).is_ok_and(|age| age > STALE_PARTIAL) {
                    let _ = std::fs::remove_file(item.path());
                }
                continue;
            }
            if meta.is_file() {
                entries.push((modified, meta.len(), item.path()));
            }
        }
        let mut total: u64 = entries.iter().map(|(_, size, _)| size).sum();
        entries.sort();
        for (_, size, path) in entries {
            if total <= self.max_bytes {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                tracing::debug!(path = %path.display(), "evicted from the cache");
                total = total.saturating_sub(size);
            }
        }
    }
}

/// Which build of the program is running: its executable's size and
/// modification time. Results derived by code belong in a cache key with this,
/// so an upgrade that fixes a parser without changing the version number
/// cannot be answered with the old build's results.
pub fn build_identity() -> &'static str {
    static IDENTITY: OnceLock<String> = OnceLock::new();
    IDENTITY.get_or_init(|| {
        let meta = std::env::current_exe().and_then(std::fs::metadata);
        match meta.and_then(|m| {
            Ok((m.len(), m.modified()?.duration_since(SystemTime::UNIX_EPOCH).map_err(io::Error::other)?))
        }) {
            Ok((size, modified)) => format!("{size}-{}", modified.as_nanos()),
            Err(error) => {
                // Without it a cache key still names the version and settings.
                tracing::warn!(%error, "cannot identify the running executable");
                "unknown".to_owned()
            }
        }
    })
}

/// Values by key, kept between analyses. Implementations never fail their
/// caller: a value they cannot return is a miss.
pub trait ResultCache: Send + Sync {
    /// The value stored under `key`, exactly as it was put.
    fn get(&self, key: &str) -> Option<Vec<u8>>;
    /// Stores `value` under `key`, replacing what was there.
    fn put(&self, key: &str, value: &[u8]);
}

/// A [`ResultCache`] in a [`CacheDir`]: one zstd frame per key, with the
/// frame checksum on, holding the key and the value. A file that does not
/// decompress, fails its checksum or names another key is a miss.
#[derive(Debug, Clone)]
pub struct DiskCache {
    dir: CacheDir,
}

/// Fast levels compress captured text (package databases, file lists) well
/// enough; higher ones cost more time than they save in reads.
const ZSTD_LEVEL: i32 = 3;

impl DiskCache {
    pub fn new(dir: PathBuf, max_bytes: u64) -> Self {
        Self { dir: CacheDir::new(dir, max_bytes) }
    }

    pub fn dir(&self) -> &Path {
        self.dir.dir()
    }

    fn read(&self, key: &str) -> io::Result<Option<Vec<u8>>> {
        let Some(file) = self.dir.open(key) else { return Ok(None) };
        let mut decoder = zstd::stream::read::Decoder::new(file)?;
        let mut data = Vec::new();
        decoder.read_to_end(&mut data)?;
        match data.strip_prefix(key.as_bytes()).and_then(|rest| rest.strip_prefix(b"\n")) {
            Some(value) => Ok(Some(value.to_vec())),
            None => Err(io::Error::new(io::ErrorKind::InvalidData, "the file holds another key")),
        }
    }

    fn write(&self, key: &str, value: &[u8]) -> io::Result<()> {
        let mut pending = self.dir.create(key)?;
        let mut encoder = zstd::stream::write::Encoder::new(pending.file()?, ZSTD_LEVEL)?;
        encoder.include_checksum(true)?;
        encoder.write_all(key.as_bytes())?;
        encoder.write_all(b"\n")?;
        encoder.write_all(value)?;
        encoder.finish()?;
        self.dir.commit(pending)
    }
}

impl ResultCache for DiskCache {
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        match self.read(key) {
            Ok(value) => value,
            Err(error) => {
                tracing::warn!(key, dir = %self.dir().display(), %error, "unreadable cache entry; ignored");
                None
            }
        }
    }

    fn put(&self, key: &str, value: &[u8]) {
        if let Err(error) = self.write(key, value) {
            tracing::warn!(key, dir = %self.dir().display(), %error, "cannot write to the cache");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(dir: &Path, max_bytes: u64) -> DiskCache {
        DiskCache::new(dir.join("cache"), max_bytes)
    }

    fn entry_path(cache: &DiskCache, key: &str) -> PathBuf {
        cache.dir().join(key)
    }

    #[test]
    fn values_round_trip_and_are_replaced() {
        let temp = tempfile::tempdir().unwrap();
        let cache = cache(temp.path(), 1 << 20);
        assert_eq!(cache.get("k1"), None);
        cache.put("k1", b"first");
        assert_eq!(cache.get("k1").as_deref(), Some(&b"first"[..]));
        cache.put("k1", b"");
        assert_eq!(cache.get("k1").as_deref(), Some(&b""[..]));
        // No temporary file is left behind.
        let names: Vec<String> =
            std::fs::read_dir(cache.dir()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        assert_eq!(names, vec!["k1".to_owned()]);
    }

    #[test]
    fn corrupt_truncated_and_misplaced_files_are_misses() {
        let temp = tempfile::tempdir().unwrap();
        let cache = cache(temp.path(), 1 << 20);
        let value: Vec<u8> = (0..20_000u32).flat_map(|i| i.to_le_bytes()).collect();
        cache.put("good", &value);
        let good = std::fs::read(entry_path(&cache, "good")).unwrap();

        std::fs::write(entry_path(&cache, "garbage"), b"not zstd at all").unwrap();
        assert_eq!(cache.get("garbage"), None);

        std::fs::write(entry_path(&cache, "truncated"), &good[..good.len() / 2]).unwrap();
        assert_eq!(cache.get("truncated"), None);

        // A flipped bit inside the compressed data: the frame checksum catches
        // what still decompresses.
        for position in [good.len() / 3, good.len() / 2, good.len() - 5] {
            let mut flipped = good.clone();
            flipped[position] ^= 0x10;
            std::fs::write(entry_path(&cache, "flipped"), &flipped).unwrap();
            assert_eq!(cache.get("flipped"), None, "bit flipped at {position}");
        }

        // A whole, valid file under another name.
        std::fs::write(entry_path(&cache, "renamed"), &good).unwrap();
        assert_eq!(cache.get("renamed"), None);

        assert_eq!(cache.get("good"), Some(value));
    }

    #[test]
    fn names_must_be_plain_file_names() {
        let temp = tempfile::tempdir().unwrap();
        let cache = cache(temp.path(), 1 << 20);
        for key in ["", "../escape", "a/b", ".hidden", &"x".repeat(201)] {
            cache.put(key, b"value");
            assert_eq!(cache.get(key), None, "{key:?}");
        }
        assert!(!temp.path().join("escape").exists());
        assert_eq!(std::fs::read_dir(cache.dir()).map(|d| d.count()).unwrap_or(0), 0);
    }

    #[test]
    fn an_unwritable_directory_only_loses_the_value() {
        let temp = tempfile::tempdir().unwrap();
        // A file where the directory should be.
        std::fs::write(temp.path().join("cache"), b"").unwrap();
        let cache = cache(temp.path(), 1 << 20);
        cache.put("key", b"value");
        assert_eq!(cache.get("key"), None);
    }

    #[test]
    fn least_recently_used_entries_are_evicted() {
        let temp = tempfile::tempdir().unwrap();
        let dir = CacheDir::new(temp.path().join("lru"), 250);
        let write = |name: &str, age_seconds: u64| {
            let mut pending = dir.create(name).unwrap();
            pending.file().unwrap().write_all(&[0u8; 100]).unwrap();
            dir.commit(pending).unwrap();
            let file = File::options().write(true).open(dir.dir().join(name)).unwrap();
            file.set_modified(SystemTime::now() - Duration::from_secs(age_seconds)).unwrap();
        };
        write("old", 300);
        write("older", 400);
        // Reading `older` makes it the most recently used.
        assert!(dir.open("older").is_some());
        write("new", 0);
        let mut names: Vec<String> =
            std::fs::read_dir(dir.dir()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names, vec!["new".to_owned(), "older".to_owned()]);
    }

    #[test]
    fn abandoned_temporary_files_are_removed_and_live_ones_kept() {
        let temp = tempfile::tempdir().unwrap();
        let dir = CacheDir::new(temp.path().join("partials"), 1 << 20);
        let live = dir.create("live").unwrap();
        let stale = dir.dir().join(format!("{PARTIAL_PREFIX}dead-1-1"));
        std::fs::write(&stale, b"half").unwrap();
        File::options()
            .write(true)
            .open(&stale)
            .unwrap()
            .set_modified(SystemTime::now() - STALE_PARTIAL - Duration::from_secs(60))
            .unwrap();
        dir.evict();
        assert!(!stale.exists());
        assert!(live.temp.exists());
        let temp_path = live.temp.clone();
        drop(live);
        assert!(!temp_path.exists(), "a dropped pending file is removed");
    }
}
