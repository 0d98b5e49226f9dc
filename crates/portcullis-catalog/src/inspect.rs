//! The per-file pass: while layers stream by, every regular file is hashed,
//! its executable format noted, text files searched for secrets and user
//! patterns, and binaries and archives handed to the catalogers that read
//! self-contained files (Go and Rust build data, Java archives, classifiers).
//!
//! Results are kept per (layer, path), so the squashed view and the
//! all-layers view are both answered from the same pass, and no file content
//! outlives its own inspection.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::Mutex;

use portcullis_image::tree::{Entry, FileInspector};
use portcullis_sbom::Package;
use serde::{Deserialize, Serialize};

use crate::binary::classifiers;
use crate::content::files::{DigestOptions, FORMAT_PROBE_LEN, FileDigester, executable_format};
use crate::content::secrets::ContentScanner;
use crate::lang::{golang, java, rust};

/// What the per-file pass learnt about one file of one layer. Serialised
/// only into the per-layer result cache (`layer_cache.rs`).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct FileFindings {
    pub sha256: Option<String>,
    pub sha1: Option<String>,
    pub md5: Option<String>,
    pub executable_format: Option<String>,
    /// `(rule, line)` of secret rules.
    pub secrets: Vec<(String, u64)>,
    /// `(rule, line)` of user content-search rules.
    pub content_matches: Vec<(String, u64)>,
    /// Packages found inside this file (binaries, archives), without locations.
    #[serde(with = "crate::layer_cache::packages_as_json")]
    pub packages: Vec<Package>,
}

/// Settings of the per-file pass.
#[derive(Debug, Clone)]
pub struct InspectOptions {
    pub digests: DigestOptions,
    /// Secret rules; `None` turns secret search off.
    pub secrets: Option<ContentScanner>,
    /// User content-search rules; `None` when there are none.
    pub content_search: Option<ContentScanner>,
    /// Largest binary or archive whose content is held for cataloguing.
    pub max_binary_size: u64,
    pub java: java::JavaLimits,
}

impl Default for InspectOptions {
    fn default() -> Self {
        InspectOptions {
            digests: DigestOptions::default(),
            secrets: Some(ContentScanner::default()),
            content_search: None,
            max_binary_size: 256 << 20,
            java: java::JavaLimits::default(),
        }
    }
}

pub(crate) struct Inspector<'a> {
    options: &'a InspectOptions,
    results: Mutex<HashMap<(usize, Box<str>), FileFindings>>,
}

const CHUNK: usize = 64 * 1024;

thread_local! {
    /// One content buffer per worker thread, reused file after file.
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl<'a> Inspector<'a> {
    pub fn new(options: &'a InspectOptions) -> Self {
        Inspector { options, results: Mutex::new(HashMap::new()) }
    }

    pub fn into_results(self) -> HashMap<(usize, Box<str>), FileFindings> {
        self.results.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How many bytes of this file are worth holding, decided before reading.
    fn text_budget(&self, entry: &Entry) -> u64 {
        let scanners = [&self.options.secrets, &self.options.content_search];
        if scanners.iter().flat_map(|s| s.as_ref()).any(|s| s.accepts_size(entry.size)) { entry.size } else { 0 }
    }

    fn binary_wanted(&self, path: &str, entry: &Entry) -> bool {
        entry.size <= self.options.max_binary_size && (java::is_java_archive(path) || classifiers::wants(path))
    }
}

impl FileInspector for Inspector<'_> {
    fn wants(&self, _path: &str, _entry: &Entry) -> bool {
        true
    }

    fn inspect(&self, layer: usize, path: &str, entry: &Entry, reader: &mut dyn Read) -> io::Result<()> {
        BUFFER.with_borrow_mut(|buffer| {
            buffer.clear();
            let mut digester = FileDigester::new(self.options.digests);
            let mut keep = self.text_budget(entry).max(if self.binary_wanted(path, entry) { entry.size } else { 0 });
            let mut format = None;
            let mut chunk = [0u8; CHUNK];
            loop {
                let n = match reader.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                let bytes = &chunk[..n];
                if digester.is_empty() {
                    format = executable_format(&bytes[..n.min(FORMAT_PROBE_LEN)]);
                    if format.is_some() && entry.size <= self.options.max_binary_size {
                        keep = entry.size;
                    }
                }
                digester.update(bytes);
                if buffer.len() as u64 + n as u64 <= keep {
                    buffer.extend_from_slice(bytes);
                }
            }
            let digests = digester.finish();
            let complete = buffer.len() as u64 == entry.size && keep > 0;
            let mut findings = FileFindings {
                sha256: Some(digests.sha256),
                sha1: digests.sha1,
                md5: digests.md5,
                executable_format: format.map(str::to_owned),
                ..FileFindings::default()
            };
            if complete {
                self.analyse(path, format, buffer, &mut findings);
            }
            if let Ok(mut results) = self.results.lock() {
                results.insert((layer, path.into()), findings);
            }
            Ok(())
        })
    }
}

impl Inspector<'_> {
    fn analyse(&self, path: &str, format: Option<&'static str>, data: &[u8], findings: &mut FileFindings) {
        if format.is_none() {
            if let Some(scanner) = &self.options.secrets {
                findings.secrets = scanner.scan(data);
            }
            if let Some(scanner) = &self.options.content_search {
                findings.content_matches = scanner.scan(data);
            }
        }
        if java::is_java_archive(path) {
            match java::parse_archive(path, data, &self.options.java) {
                Ok(packages) => findings.packages.extend(packages),
                Err(error) => tracing::warn!(path, %error, "unreadable Java archive"),
            }
        }
        if format.is_some() {
            let mut from_build_data = false;
            match golang::parse_buildinfo(data) {
                Ok(Some(info)) => {
                    findings.packages.extend(golang::to_packages(&info));
                    from_build_data = true;
                }
                Ok(None) => {}
                Err(error) => tracing::debug!(path, %error, "unreadable Go build info"),
            }
            match rust::parse_auditable(data) {
                Ok(Some(packages)) => {
                    findings.packages.extend(packages);
                    from_build_data = true;
                }
                Ok(None) => {}
                Err(error) => tracing::debug!(path, %error, "unreadable cargo-auditable data"),
            }
            // Build data says what a binary is made of; a classifier only guesses.
            if !from_build_data && classifiers::wants(path) {
                findings.packages.extend(classifiers::classify(path, data));
            }
        }
    }
}
