//! Core metadata (`METADATA`, `PKG-INFO`, the `*.egg-info` file): RFC 822
//! headers, then an optional body holding the long description.
//!
//! The header block is read the way `email.parser` (which `pip`,
//! `importlib.metadata` and `packaging` all use) reads it, because the
//! files are written by many generations of tools and only that reading is
//! authoritative: the headers end at the first empty line or at the first
//! line that is neither a header nor a continuation. Old distutils files
//! put an empty line inside an indented `Description`, so their later
//! fields (`Classifier`, `Platform`) are body text for Python too, and are
//! not read here either.

use super::PythonError;

/// What a core-metadata file says about a distribution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PythonMetadata {
    /// `Name`, as written (not normalised; see [`super::normalize_name`]).
    pub name: String,
    /// `Version`, as written.
    pub version: String,
    /// `Metadata-Version`.
    pub metadata_version: Option<String>,
    pub summary: Option<String>,
    /// `Home-page`.
    pub home_page: Option<String>,
    /// `Download-URL`.
    pub download_url: Option<String>,
    /// `Project-URL` values: `label, url`.
    pub project_urls: Vec<String>,
    pub author: Option<String>,
    pub author_email: Option<String>,
    pub maintainer: Option<String>,
    pub maintainer_email: Option<String>,
    /// `License`, raw: a licence name, or in some packages the whole licence text.
    pub license: Option<String>,
    /// `License-Expression` (PEP 639): an SPDX expression.
    pub license_expression: Option<String>,
    /// `License-File` (PEP 639), or the older setuptools `LicenseFile`.
    pub license_files: Vec<String>,
    /// Every `Classifier`, in file order.
    pub classifiers: Vec<String>,
    /// `Requires-Dist`, as written (`name (>=1.0) ; extra == 'x'`).
    pub requires_dist: Vec<String>,
    pub requires_python: Option<String>,
    pub provides_extra: Vec<String>,
    pub platforms: Vec<String>,
    /// Import names from `top_level.txt`; filled by the caller, or by
    /// [`super::parse_egg`] from the archive.
    pub top_level: Vec<String>,
    /// From `direct_url.json` (PEP 610); filled by the caller.
    pub direct_url: Option<super::DirectUrl>,
}

impl PythonMetadata {
    /// The `License ::` classifiers, full text.
    pub fn license_classifier_lines(&self) -> impl Iterator<Item = &str> {
        self.classifiers.iter().map(String::as_str).filter(|c| c.trim_start().starts_with("License ::"))
    }

    /// The last segment of each `License ::` classifier
    /// (`License :: OSI Approved :: MIT License` → `MIT License`).
    pub fn license_classifiers(&self) -> Vec<&str> {
        self.license_classifier_lines().filter_map(|c| c.rsplit("::").next().map(str::trim)).collect()
    }
}

/// Headers larger than this are not metadata: the header block of the
/// largest real `METADATA` files (hundreds of classifiers and extras) is
/// well under 100 KiB; the body, which may be much larger, is not read.
const MAX_HEADER_BYTES: usize = 4 << 20;

/// Parses a core-metadata file. `Name` and `Version` are required; every
/// other field is optional and unknown fields are ignored.
///
/// UTF-8 is expected (PEP 566); files that are not valid UTF-8 are read as
/// Latin-1, which is what Python 2 era distutils wrote for non-ASCII
/// author names. A NUL byte in the headers means this is not a text file.
pub fn parse_metadata(bytes: &[u8]) -> Result<PythonMetadata, PythonError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = decode(bytes);
    let headers = read_headers(&text)?;
    if headers.is_empty() {
        return Err(PythonError::NoHeaders);
    }
    let first = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    let all = |name: &str| -> Vec<String> {
        headers
            .iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.trim().to_owned())
            .filter(|value| !value.is_empty())
            .collect()
    };
    let name = first("Name").ok_or(PythonError::MissingField { field: "Name" })?;
    let version = first("Version").ok_or(PythonError::MissingField { field: "Version" })?;
    let mut license_files = all("License-File");
    license_files.extend(all("LicenseFile"));
    Ok(PythonMetadata {
        name,
        version,
        metadata_version: first("Metadata-Version"),
        summary: first("Summary"),
        home_page: first("Home-page"),
        download_url: first("Download-URL"),
        project_urls: all("Project-URL"),
        author: first("Author"),
        author_email: first("Author-email"),
        maintainer: first("Maintainer"),
        maintainer_email: first("Maintainer-email"),
        license: first("License"),
        license_expression: first("License-Expression"),
        license_files,
        classifiers: all("Classifier"),
        requires_dist: all("Requires-Dist"),
        requires_python: first("Requires-Python"),
        provides_extra: all("Provides-Extra"),
        platforms: all("Platform"),
        top_level: Vec::new(),
        direct_url: None,
    })
}

fn decode(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => std::borrow::Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

/// The header block as `(name, value)` pairs in file order. A value keeps
/// its continuation lines after `\n`, indentation included, as
/// `email.parser` does (a multi-line `License` stays recognisable as
/// licence text rather than a name).
fn read_headers(text: &str) -> Result<Vec<(&str, String)>, PythonError> {
    let mut headers: Vec<(&str, String)> = Vec::new();
    let mut next_line = 0usize;
    for raw in text.split('\n') {
        let line_start = next_line;
        next_line += raw.len() + 1;
        if next_line > MAX_HEADER_BYTES {
            return Err(PythonError::HeadersTooLarge { limit: MAX_HEADER_BYTES });
        }
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(offset) = line.find('\0') {
            return Err(PythonError::Binary { offset: line_start + offset });
        }
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            // A continuation before any header is a defect Python drops too.
            if let Some((_, value)) = headers.last_mut() {
                value.push('\n');
                value.push_str(line);
            }
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) if is_header_name(name) => headers.push((name, value.to_owned())),
            // Python ends the headers here and reads the rest as body.
            _ => break,
        }
    }
    Ok(headers)
}

/// RFC 822 field names: printable ASCII but space and colon. Empty names
/// are refused, though `email` accepts them, since no field is called that.
fn is_header_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_lines_and_body() {
        let meta = parse_metadata(
            b"Metadata-Version: 1.1\r\nName: x\r\nVersion: 1.0\r\nLicense: line one\r\n        line two\r\n\
              Classifier: License :: OSI Approved :: MIT License\r\n\r\nClassifier: License :: Public Domain\r\n",
        )
        .unwrap_or_default();
        assert_eq!(meta.name, "x");
        assert_eq!(meta.license.as_deref(), Some("line one\n        line two"));
        assert_eq!(meta.license_classifiers(), ["MIT License"]);
    }

    #[test]
    fn a_non_header_line_ends_the_headers() {
        let meta = parse_metadata(b"Name: x\nVersion: 2\nnot a header\nClassifier: License :: X\n").unwrap_or_default();
        assert_eq!((meta.name.as_str(), meta.version.as_str()), ("x", "2"));
        assert!(meta.classifiers.is_empty());
    }

    #[test]
    fn errors() {
        assert_eq!(parse_metadata(b""), Err(PythonError::NoHeaders));
        assert_eq!(parse_metadata(b"\n\nName: x\n"), Err(PythonError::NoHeaders));
        assert_eq!(parse_metadata(b"Name: x\n"), Err(PythonError::MissingField { field: "Version" }));
        assert_eq!(parse_metadata(b"Version: 1\nName:  \n"), Err(PythonError::MissingField { field: "Name" }));
        assert_eq!(parse_metadata(b"Name: a\0b\nVersion: 1\n"), Err(PythonError::Binary { offset: 7 }));
        let huge = format!("Name: x\nVersion: 1\nSummary: {}\n", " ".repeat(MAX_HEADER_BYTES));
        assert!(matches!(parse_metadata(huge.as_bytes()), Err(PythonError::HeadersTooLarge { .. })));
    }

    #[test]
    fn latin1_and_bom() {
        let meta = parse_metadata(b"\xEF\xBB\xBFName: x\nVersion: 1\nAuthor: Ren\xE9\n").unwrap_or_default();
        assert_eq!(meta.name, "x");
        let meta = parse_metadata(b"Name: x\nVersion: 1\nAuthor: Ren\xE9\n").unwrap_or_default();
        assert_eq!(meta.author.as_deref(), Some("Ren\u{e9}"));
    }
}
