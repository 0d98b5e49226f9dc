//! Fetching URL sources into the download cache with conditional requests.
//!
//! Each URL is kept as one file under the source's cache directory; its ETag
//! and Last-Modified are remembered, so an unchanged upstream answers 304 and
//! nothing is transferred. A download goes to a temporary file first and
//! replaces the cached copy only when complete, so an interrupted download
//! never leaves a truncated feed behind.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use thiserror::Error;

/// No byte for this long fails the download.
const STALL_TIMEOUT: Duration = Duration::from_secs(120);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Error)]
pub enum DownloadError {
    #[error("cannot download {url}: {source}")]
    Http { url: String, source: reqwest::Error },
    #[error("cannot download {url}: the server answered {status}")]
    Status { url: String, status: StatusCode },
    #[error("cannot download {url}: {path}: {source}")]
    Io { url: String, path: PathBuf, source: std::io::Error },
    #[error("cannot download {url}: the body ended after {got} of {expected} bytes")]
    Truncated { url: String, got: u64, expected: u64 },
}

/// A URL fetched into the cache.
#[derive(Debug, Clone)]
pub struct Downloaded {
    /// The cached file (fresh, or kept when the server said 304).
    pub path: PathBuf,
    /// `etag` / `last-modified` of the cached copy.
    pub validators: BTreeMap<String, String>,
    pub not_modified: bool,
}

/// The cache file name of a URL: its path, flattened (`v3.19/main.json` gives `v3.19_main.json`).
pub fn file_name(url: &str) -> String {
    let without_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = without_scheme.split(['?', '#']).next().unwrap_or(without_scheme);
    let path = path.split_once('/').map_or("", |(_, path)| path);
    let name: String = path
        .trim_matches('/')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') { c } else { '_' })
        .collect();
    if name.is_empty() { "index".to_owned() } else { name }
}

/// Fetches `url` into `dir`, sending the previous validators when the cached
/// copy still exists.
pub fn fetch(
    url: &str,
    dir: &Path,
    previous: &BTreeMap<String, String>,
    on_progress: &dyn Fn(u64, Option<u64>),
) -> Result<Downloaded, DownloadError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| DownloadError::Io { url: url.to_owned(), path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let target = dir.join(file_name(url));
    let client = reqwest::blocking::Client::builder()
        .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(CONNECT_TIMEOUT)
        // The blocking client applies this to each wait (headers, then each
        // read), not to the whole transfer: a slow but moving download of a
        // large feed is fine, a stalled one fails.
        .timeout(STALL_TIMEOUT)
        .build()
        .map_err(|source| DownloadError::Http { url: url.to_owned(), source })?;
    let mut request = client.get(url);
    if target.is_file() {
        if let Some(etag) = previous.get("etag") {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(modified) = previous.get("last-modified") {
            request = request.header(IF_MODIFIED_SINCE, modified);
        }
    }
    let mut response = request.send().map_err(|source| DownloadError::Http { url: url.to_owned(), source })?;
    if response.status() == StatusCode::NOT_MODIFIED {
        return Ok(Downloaded { path: target, validators: previous.clone(), not_modified: true });
    }
    if !response.status().is_success() {
        return Err(DownloadError::Status { url: url.to_owned(), status: response.status() });
    }
    let mut validators = BTreeMap::new();
    for (key, header) in [("etag", ETAG), ("last-modified", LAST_MODIFIED)] {
        if let Some(value) = response.headers().get(header).and_then(|v| v.to_str().ok()) {
            validators.insert(key.to_owned(), value.to_owned());
        }
    }
    let total = response.content_length();
    let partial = dir.join(format!("{}.partial", file_name(url)));
    let mut out = File::create(&partial).map_err(io(&partial))?;
    let mut buffer = vec![0u8; 256 * 1024];
    let mut written = 0u64;
    loop {
        let n = response.read(&mut buffer).map_err(|source| DownloadError::Io {
            url: url.to_owned(),
            path: partial.clone(),
            source,
        })?;
        if n == 0 {
            break;
        }
        out.write_all(&buffer[..n]).map_err(io(&partial))?;
        written += n as u64;
        on_progress(written, total);
    }
    out.sync_all().map_err(io(&partial))?;
    if let Some(expected) = total.filter(|&expected| expected != written) {
        let _ = std::fs::remove_file(&partial);
        return Err(DownloadError::Truncated { url: url.to_owned(), got: written, expected });
    }
    std::fs::rename(&partial, &target).map_err(io(&target))?;
    Ok(Downloaded { path: target, validators, not_modified: false })
}

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn cache_names_keep_urls_apart() {
        assert_eq!(file_name("https://secdb.alpinelinux.org/v3.19/main.json"), "v3.19_main.json");
        assert_eq!(file_name("https://secdb.alpinelinux.org/v3.20/main.json"), "v3.20_main.json");
        assert_eq!(file_name("https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"), "PyPI_all.zip");
        assert_eq!(file_name("http://127.0.0.1:8080/"), "index");
    }
}
