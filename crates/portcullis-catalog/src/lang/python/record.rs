//! The files a distribution says it installed: `*.dist-info/RECORD` (PEP
//! 376/627, written by pip and every wheel installer) and the older
//! `*.egg-info/installed-files.txt` (setuptools / `pip install` of an sdist),
//! plus the small companion files `top_level.txt` and `direct_url.json`.

use portcullis_sbom::OwnedFile;

use super::PythonError;

/// One row of a `RECORD` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordEntry {
    /// As written: relative to the site-packages directory (the parent of
    /// the `.dist-info` directory), possibly climbing out of it with `..`
    /// (scripts in `bin/`), or absolute.
    pub path: String,
    /// `algorithm:hex` (`sha256:…`), from the urlsafe-base64 `sha256=…`
    /// column; `None` when the column is empty (RECORD lists itself and
    /// `.pyc` files without one) or not a digest this reader knows.
    pub digest: Option<String>,
    pub size: Option<u64>,
}

/// Parses a `RECORD` file: CSV rows of path, hash, size.
///
/// Follows Python's `csv` module (the writer pip uses): fields may be
/// double-quoted, `""` inside quotes is a quote, and a quoted field may span
/// lines. Rows with an empty path are skipped. The only errors are a NUL
/// byte and a quote left open at the end of the file, which mean the file
/// is not a RECORD (or was cut short) rather than one bad row.
pub fn parse_record(bytes: &[u8]) -> Result<Vec<RecordEntry>, PythonError> {
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(PythonError::Binary { offset });
    }
    let text = String::from_utf8_lossy(bytes);
    let rows = csv_rows(&text)?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let mut fields = row.into_iter();
            let path = fields.next().filter(|p| !p.is_empty())?;
            let digest = fields.next().and_then(|h| decode_record_hash(&h));
            let size = fields.next().and_then(|s| s.trim().parse().ok());
            Some(RecordEntry { path, digest, size })
        })
        .collect())
}

fn csv_rows(text: &str) -> Result<Vec<Vec<String>>, PythonError> {
    let mut rows = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut quote_line = 0;
    let mut line = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                _ => {
                    if c == '\n' {
                        line += 1;
                    }
                    field.push(c);
                }
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                in_quotes = true;
                quote_line = line;
            }
            ',' => row.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                line += 1;
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err(PythonError::Record { line: quote_line, reason: "quoted field not closed" });
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

/// `sha256=<urlsafe base64, unpadded>` → `sha256:<hex>`. Padding is
/// tolerated (some hand-written RECORDs have it); the decoded length must
/// fit the algorithm, so a truncated value is dropped rather than kept as
/// a wrong digest.
pub fn decode_record_hash(text: &str) -> Option<String> {
    let (algorithm, value) = text.trim().split_once('=')?;
    let algorithm = algorithm.to_ascii_lowercase();
    let expected = match algorithm.as_str() {
        "md5" => 16,
        "sha1" => 20,
        "sha224" => 28,
        "sha256" => 32,
        "sha384" => 48,
        "sha512" => 64,
        _ => return None,
    };
    let bytes = base64_decode(value)?;
    if bytes.len() != expected {
        return None;
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Some(format!("{algorithm}:{hex}"))
}

/// Base64 in either alphabet (`-_` or `+/`), padding optional: RECORD
/// files are specified as URL-safe without padding, and tools vary.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let config = GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    GeneralPurpose::new(&base64::alphabet::URL_SAFE, config)
        .decode(text)
        .or_else(|_| GeneralPurpose::new(&base64::alphabet::STANDARD, config).decode(text))
        .ok()
}

/// Owned files of a RECORD, as absolute image paths: each entry joined to
/// `site_packages` (the directory holding the `.dist-info` directory) and
/// normalised, `..` stopping at the root.
pub fn record_files(entries: &[RecordEntry], site_packages: &str) -> Vec<OwnedFile> {
    entries
        .iter()
        .map(|entry| OwnedFile { path: join_normalized(site_packages, &entry.path), digest: entry.digest.clone() })
        .collect()
}

/// [`record_files`], correcting the paths `pip install --target` gets wrong.
///
/// pip installs a `--target` into a temporary home scheme (libraries in
/// `<tmp>/lib/python`, scripts in `<tmp>/bin`), writes RECORD there, then
/// moves both into the target directory. The RECORD keeps
/// `../../bin/django-admin`, which from the final site-packages names a
/// file that does not exist, while the script sits at
/// `<site-packages>/bin/django-admin`. When `exists` says the lexical path
/// is absent and that corrected one is present, the corrected one is used.
pub fn record_files_checked(
    entries: &[RecordEntry],
    site_packages: &str,
    exists: impl Fn(&str) -> bool,
) -> Vec<OwnedFile> {
    entries
        .iter()
        .map(|entry| {
            let mut path = join_normalized(site_packages, &entry.path);
            if let Some(rest) = entry.path.strip_prefix("../../")
                && !rest.starts_with("../")
                && !exists(&path)
            {
                let moved = join_normalized(site_packages, rest);
                if exists(&moved) {
                    path = moved;
                }
            }
            OwnedFile { path, digest: entry.digest.clone() }
        })
        .collect()
}

/// Parses `installed-files.txt`: one path per line, relative to the
/// `.egg-info` directory (so usually starting with `../`).
pub fn parse_installed_files(bytes: &[u8]) -> Result<Vec<String>, PythonError> {
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(PythonError::Binary { offset });
    }
    Ok(String::from_utf8_lossy(bytes)
        .lines()
        .map(|line| line.trim_end_matches('\r'))
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect())
}

/// Owned files of an `installed-files.txt`, relative to `egg_info_dir`.
/// No digests: the format has none. pip lists the `.egg-info` directory
/// itself as `./`; directories are not owned files and are left out.
pub fn installed_files(lines: &[String], egg_info_dir: &str) -> Vec<OwnedFile> {
    lines
        .iter()
        .filter(|line| !line.ends_with('/') && line.as_str() != ".")
        .map(|line| OwnedFile { path: join_normalized(egg_info_dir, line), digest: None })
        .collect()
}

/// Parses `top_level.txt`: the importable top-level names, one per line.
pub fn parse_top_level(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes).lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

/// Where a distribution was installed from when it was not an index
/// (PEP 610 `direct_url.json`): a VCS checkout, a local directory, an
/// archive URL. A VCS commit identifies the code better than the version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectUrl {
    pub url: String,
    /// `vcs_info.vcs`: `git`, `hg`, `bzr`, `svn`.
    pub vcs: Option<String>,
    pub commit_id: Option<String>,
    pub requested_revision: Option<String>,
    /// `dir_info.editable`: `pip install -e`.
    pub editable: bool,
    /// `archive_info.hashes` / legacy `archive_info.hash`, as `algorithm:hex`.
    pub archive_hash: Option<String>,
}

/// Parses `direct_url.json`; `url` is the only required key.
pub fn parse_direct_url(bytes: &[u8]) -> Result<DirectUrl, PythonError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| PythonError::DirectUrl(e.to_string()))?;
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    let url = value.get("url").and_then(text).ok_or_else(|| PythonError::DirectUrl("no `url` string".to_owned()))?;
    let vcs_info = value.get("vcs_info");
    let archive_hash = value.get("archive_info").and_then(|info| {
        let from_hashes = info.get("hashes").and_then(|h| h.as_object()).and_then(|hashes| {
            let pick = hashes
                .get("sha256")
                .map(|v| ("sha256", v))
                .or_else(|| hashes.iter().next().map(|(k, v)| (k.as_str(), v)));
            pick.and_then(|(alg, v)| v.as_str().map(|hex| format!("{alg}:{hex}")))
        });
        from_hashes.or_else(|| info.get("hash").and_then(|h| h.as_str()).map(|h| h.replacen('=', ":", 1)))
    });
    Ok(DirectUrl {
        url,
        vcs: vcs_info.and_then(|v| v.get("vcs")).and_then(text),
        commit_id: vcs_info.and_then(|v| v.get("commit_id")).and_then(text),
        requested_revision: vcs_info.and_then(|v| v.get("requested_revision")).and_then(text),
        editable: value.get("dir_info").and_then(|d| d.get("editable")).and_then(|e| e.as_bool()).unwrap_or(false),
        archive_hash,
    })
}

/// `base` joined with `relative` (or `relative` alone when absolute),
/// with `.` and `..` resolved lexically; `..` at the root stays there, as
/// in a chroot, so a hostile RECORD cannot name paths outside the image.
pub fn join_normalized(base: &str, relative: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let start = if relative.starts_with('/') { "" } else { base };
    for component in start.split('/').chain(relative.split('/')) {
        match component {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting() {
        let rows = csv_rows("a,b,c\r\n\"x,y\",\"q\"\"q\",1\n\"multi\nline\",,\nlast").unwrap_or_default();
        assert_eq!(rows, [vec!["a", "b", "c"], vec!["x,y", "q\"q", "1"], vec!["multi\nline", "", ""], vec!["last"],]);
        assert_eq!(csv_rows("a,\"open\nb"), Err(PythonError::Record { line: 1, reason: "quoted field not closed" }));
    }

    #[test]
    fn hashes() {
        assert_eq!(
            decode_record_hash("sha256=dDhv_U2jiCpmFQwIRHpFRLAHUO4R1jIJPEvT_QYTFp8").as_deref(),
            Some("sha256:74386ffd4da3882a66150c08447a4544b00750ee11d632093c4bd3fd0613169f")
        );
        assert_eq!(decode_record_hash("sha256=short"), None);
        assert_eq!(decode_record_hash("crc32=AAAA"), None);
        assert_eq!(decode_record_hash(""), None);
        assert_eq!(decode_record_hash("sha256=!!!"), None);
    }

    #[test]
    fn paths() {
        assert_eq!(join_normalized("/usr/lib/python3/site-packages", "../../../bin/x"), "/usr/bin/x");
        assert_eq!(join_normalized("/a", "../../../../etc/passwd"), "/etc/passwd");
        assert_eq!(join_normalized("/a/b", "/opt/./c"), "/opt/c");
        assert_eq!(join_normalized("/a/b", "c/./d"), "/a/b/c/d");
    }

    #[test]
    fn installed_files_txt() {
        let lines =
            parse_installed_files(b"../__pycache__/dicttoxml.cpython-36.pyc\r\n../dicttoxml.py\n./\nPKG-INFO\n\n")
                .unwrap_or_default();
        let files: Vec<String> =
            installed_files(&lines, "/usr/lib/python3/site-packages/dicttoxml-1.7.4-py3.6.egg-info")
                .into_iter()
                .map(|f| f.path)
                .collect();
        assert_eq!(
            files,
            [
                "/usr/lib/python3/site-packages/__pycache__/dicttoxml.cpython-36.pyc",
                "/usr/lib/python3/site-packages/dicttoxml.py",
                "/usr/lib/python3/site-packages/dicttoxml-1.7.4-py3.6.egg-info/PKG-INFO",
            ]
        );
        assert_eq!(parse_installed_files(b"a\0"), Err(PythonError::Binary { offset: 1 }));
    }

    #[test]
    fn pip_target_scripts() {
        let entries =
            parse_record(b"../../bin/tool,sha256=dDhv_U2jiCpmFQwIRHpFRLAHUO4R1jIJPEvT_QYTFp8,220\npkg/a.py,,\n")
                .unwrap_or_default();
        let moved = record_files_checked(&entries, "/t", |p| p == "/t/bin/tool" || p == "/t/pkg/a.py");
        let paths: Vec<&str> = moved.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["/t/bin/tool", "/t/pkg/a.py"]);
        let kept = record_files_checked(&entries, "/usr/lib/python3/site-packages", |_| false);
        assert_eq!(kept.first().map(|f| f.path.as_str()), Some("/usr/lib/bin/tool"));
    }

    #[test]
    fn direct_url() {
        let d = parse_direct_url(
            br#"{"url": "https://x/y.git", "vcs_info": {"vcs": "git", "commit_id": "abc", "requested_revision": "v1"}}"#,
        )
        .unwrap_or_default();
        assert_eq!((d.vcs.as_deref(), d.commit_id.as_deref()), (Some("git"), Some("abc")));
        let d = parse_direct_url(br#"{"url": "file:///src", "dir_info": {"editable": true}}"#).unwrap_or_default();
        assert!(d.editable);
        let d = parse_direct_url(br#"{"url": "https://x/a.tgz", "archive_info": {"hash": "sha256=ff"}}"#)
            .unwrap_or_default();
        assert_eq!(d.archive_hash.as_deref(), Some("sha256:ff"));
        assert!(parse_direct_url(b"[1]").is_err());
        assert!(parse_direct_url(b"{").is_err());
    }
}
