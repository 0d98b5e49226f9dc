//! Standard SBOM formats, written from and read into the native model:
//! CycloneDX 1.6 (JSON and XML) and SPDX 2.3 (JSON and tag-value), beside the
//! native JSON document and the text table. `docs/formats.md` says what maps
//! to what and what each conversion loses.
//!
//! ```
//! use portcullis_sbom::format::{self, Format, WriteOptions};
//! # let sbom: portcullis_sbom::Sbom = serde_json::from_str(r#"{"schema":{"version":"1.0","url":"u"},
//! #   "tool":{"name":"portcullis","version":"0"},"source":{"scheme":"dir","input":"/r","scope":"squashed","image":null},
//! #   "distro":null,"layers":[],"packages":[]}"#).unwrap();
//! let text = format::write(&sbom, Format::parse("cyclonedx-json")?, &WriteOptions::default())?;
//! let back = format::read(text.as_bytes())?;
//! assert_eq!(back.packages, sbom.packages);
//! # Ok::<(), format::FormatError>(())
//! ```
//!
//! # Why hand-written serde structs, not `cyclonedx-bom` / `serde-cyclonedx` / `serde-spdx` / `spdx-rs`
//!
//! * `cyclonedx-bom` 0.8.1 (the newest release) implements specs 1.3 to 1.5
//!   only (`src/specs/v1_3..v1_5`): it cannot write the required 1.6.
//! * `serde-cyclonedx` 0.10 and `serde-spdx` 0.10 are types generated from the
//!   JSON schemas: JSON only (no CycloneDX XML, no SPDX tag-value, which we
//!   would have to write by hand anyway), every field of the spec behind
//!   builders, and strict enums that refuse documents a newer tool writes.
//!   `spdx-rs` 0.5 has not been released since 2023.
//! * What we emit and read is small: about twenty fields per standard. Our
//!   own structs declare exactly those, ignore everything else, and a bad
//!   value comes back as an error naming its JSON path (`serde_path_to_error`)
//!   or line. One intermediate model per standard serves both of its
//!   encodings: XML and tag-value are parsed into the same structs as JSON.
//! * Conformance does not rest on a library: the tests validate every emitted
//!   document with the official schemas and validators
//!   (`cyclonedx-python-lib`, `spdx-tools`).
//!
//! The `spdx` crate classifies licence strings (identifier, expression, free
//! text); `quick-xml` (events only) reads XML.

mod common;
mod cyclonedx;
mod cyclonedx_xml;
mod props;
mod spdx;
mod spdx_tagvalue;
mod xml;

use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};

use crate::{SCHEMA_VERSION, Sbom, render_table};

pub use uuid::Uuid;

/// Version of Portcullis written into the documents' tool information.
pub(crate) const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Documents larger than this are refused by [`read`] (256 MiB).
pub const DEFAULT_MAX_DOCUMENT_SIZE: usize = 256 << 20;

/// An SBOM format Portcullis can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// The human-readable package table ([`render_table`]); write only.
    Table,
    /// The native JSON document (`docs/sbom-json.md`).
    Json,
    /// CycloneDX 1.6, JSON encoding.
    CycloneDxJson,
    /// CycloneDX 1.6, XML encoding.
    CycloneDxXml,
    /// SPDX 2.3, JSON encoding.
    SpdxJson,
    /// SPDX 2.3, tag-value encoding.
    SpdxTagValue,
}

impl Format {
    /// Every format, in the order of [`Format::names`].
    pub const ALL: [Format; 6] = [
        Format::Table,
        Format::Json,
        Format::CycloneDxJson,
        Format::CycloneDxXml,
        Format::SpdxJson,
        Format::SpdxTagValue,
    ];

    /// The canonical names, for help text: `table`, `json`, `cyclonedx-json`,
    /// `cyclonedx-xml`, `spdx-json`, `spdx-tag-value` (syft's names).
    pub fn names() -> &'static [&'static str] {
        &["table", "json", "cyclonedx-json", "cyclonedx-xml", "spdx-json", "spdx-tag-value"]
    }

    /// Aliases accepted by [`Format::parse`], as syft 1.18 accepts them:
    /// `cyclonedx`, `cyclone` and `cdx` mean CycloneDX XML, `spdx` and
    /// `spdx-tv` mean SPDX tag-value.
    pub fn aliases() -> &'static [(&'static str, Format)] {
        &[
            ("cyclonedx", Format::CycloneDxXml),
            ("cyclone", Format::CycloneDxXml),
            ("cdx", Format::CycloneDxXml),
            ("spdx", Format::SpdxTagValue),
            ("spdx-tv", Format::SpdxTagValue),
        ]
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::CycloneDxJson => "cyclonedx-json",
            Format::CycloneDxXml => "cyclonedx-xml",
            Format::SpdxJson => "spdx-json",
            Format::SpdxTagValue => "spdx-tag-value",
        }
    }

    /// The IANA media type of the format's documents.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Table => "text/plain",
            Format::Json => "application/json",
            Format::CycloneDxJson => "application/vnd.cyclonedx+json; version=1.6",
            Format::CycloneDxXml => "application/vnd.cyclonedx+xml; version=1.6",
            Format::SpdxJson => "application/spdx+json",
            Format::SpdxTagValue => "text/spdx",
        }
    }

    /// Parses a format name like syft does: case-insensitive, `-` and `_`
    /// ignored (`CycloneDX_JSON` works), the [`Format::aliases`], and an
    /// optional spec version that must be the one written (`cyclonedx-json@1.6`,
    /// `spdx-json@2.3`).
    pub fn parse(name: &str) -> Result<Format, FormatError> {
        let unknown = || FormatError::UnknownFormat { name: name.to_owned(), known: Format::names().join(", ") };
        let trimmed = name.trim();
        let (base, version) = match trimmed.split_once('@') {
            Some((base, version)) => (base, Some(version.trim())),
            None => (trimmed, None),
        };
        let key: String = base.chars().filter(|c| *c != '-' && *c != '_').map(|c| c.to_ascii_lowercase()).collect();
        let format = match key.as_str() {
            "table" => Format::Table,
            "json" => Format::Json,
            "cyclonedxjson" => Format::CycloneDxJson,
            "cyclonedxxml" | "cyclonedx" | "cyclone" | "cdx" => Format::CycloneDxXml,
            "spdxjson" => Format::SpdxJson,
            "spdxtagvalue" | "spdx" | "spdxtv" => Format::SpdxTagValue,
            _ => return Err(unknown()),
        };
        if let Some(version) = version {
            let (spec, supported) = match format {
                Format::CycloneDxJson | Format::CycloneDxXml => ("CycloneDX", "1.6"),
                Format::SpdxJson | Format::SpdxTagValue => ("SPDX", "2.3"),
                Format::Table | Format::Json => return Err(unknown()),
            };
            if version != supported {
                return Err(FormatError::UnsupportedVersion {
                    format: spec,
                    version: version.to_owned(),
                    supported: if spec == "SPDX" {
                        "only SPDX 2.3 is written"
                    } else {
                        "only CycloneDX 1.6 is written"
                    },
                });
            }
        }
        Ok(format)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::parse(s)
    }
}

/// What varies between two writes of the same SBOM; fix it for reproducible output.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// Creation time written into the document (CycloneDX `metadata.timestamp`,
    /// SPDX `created`); `None` means now.
    pub timestamp: Option<SystemTime>,
    /// The document's UUID: CycloneDX `serialNumber` (`urn:uuid:...`) and the
    /// end of the SPDX `documentNamespace`; `None` means a random (v4) one.
    pub document_uuid: Option<Uuid>,
    /// SPDX: also list the image's files (`Sbom::files`) that have a SHA-1
    /// (which SPDX 2.3 requires of every file) as `files`, each contained by its
    /// owning packages or else by the image. Off by default: documents get huge.
    pub spdx_files: bool,
    /// Write Portcullis-specific facts (`portcullis:*`: ids, layers, cataloger,
    /// locations with layers, metadata, image details) as CycloneDX properties
    /// and SPDX annotations, so that [`read`] restores them. On by default.
    pub portcullis_properties: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self { timestamp: None, document_uuid: None, spdx_files: false, portcullis_properties: true }
    }
}

impl WriteOptions {
    pub(crate) fn timestamp(&self) -> String {
        common::rfc3339(self.timestamp.unwrap_or_else(SystemTime::now))
    }

    pub(crate) fn uuid(&self) -> Uuid {
        self.document_uuid.unwrap_or_else(Uuid::new_v4)
    }
}

/// Limits applied by [`read_with`].
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Documents over this many bytes are refused.
    pub max_size: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self { max_size: DEFAULT_MAX_DOCUMENT_SIZE }
    }
}

/// Why a format name or a document was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    #[error("unknown SBOM format `{name}` (known formats: {known})")]
    UnknownFormat { name: String, known: String },
    #[error("unsupported {format} version `{version}`: {supported}")]
    UnsupportedVersion { format: &'static str, version: String, supported: &'static str },
    #[error("document is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("not a recognised SBOM document: {0}")]
    Unrecognized(String),
    /// Malformed JSON, or a JSON value of the wrong type; `path` is the JSON
    /// path of the value (e.g. `components[3].licenses`).
    #[error("{format}: invalid document at `{path}` (line {line}, column {column}): {message}")]
    Json { format: &'static str, path: String, line: usize, column: usize, message: String },
    /// Malformed XML or tag-value text.
    #[error("{format}: line {line}: {message}")]
    Syntax { format: &'static str, line: usize, message: String },
    /// Well-formed, but not a valid document of the format; `location` is a
    /// JSON path, an XML element path or a line.
    #[error("{format}: {location}: {message}")]
    Invalid { format: &'static str, location: String, message: String },
}

/// Writes `sbom` in `format`. Table and native JSON are exactly
/// [`render_table`] and [`Sbom::to_json`].
pub fn write(sbom: &Sbom, format: Format, options: &WriteOptions) -> Result<String, FormatError> {
    Ok(match format {
        Format::Table => render_table(sbom),
        Format::Json => sbom.to_json(),
        Format::CycloneDxJson => cyclonedx::write_json(sbom, options),
        Format::CycloneDxXml => cyclonedx_xml::write(sbom, options),
        Format::SpdxJson => spdx::write_json(sbom, options),
        Format::SpdxTagValue => spdx_tagvalue::write(sbom, options),
    })
}

/// Reads a document in any supported format ([`detect`]) into the native
/// model, with the default [`ReadOptions`].
pub fn read(bytes: &[u8]) -> Result<Sbom, FormatError> {
    read_with(bytes, &ReadOptions::default())
}

/// [`read`] with explicit limits. A native JSON array of documents (written
/// for `--all-platforms`) is accepted only if it holds exactly one; see
/// [`read_all`].
pub fn read_with(bytes: &[u8], options: &ReadOptions) -> Result<Sbom, FormatError> {
    let mut all = read_all_with(bytes, options)?;
    if all.len() != 1 {
        return Err(FormatError::Invalid {
            format: "native JSON",
            location: "document".to_owned(),
            message: format!("an array of {} SBOMs (one per platform), expected one", all.len()),
        });
    }
    Ok(all.remove(0))
}

/// Reads a document; native JSON arrays (`--all-platforms`) give all their
/// SBOMs, every other document gives one. Default [`ReadOptions`].
pub fn read_all(bytes: &[u8]) -> Result<Vec<Sbom>, FormatError> {
    read_all_with(bytes, &ReadOptions::default())
}

/// [`read_all`] with explicit limits.
pub fn read_all_with(bytes: &[u8], options: &ReadOptions) -> Result<Vec<Sbom>, FormatError> {
    if bytes.len() > options.max_size {
        return Err(FormatError::TooLarge { size: bytes.len(), limit: options.max_size });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match sniff(bytes)? {
        Sniffed::NativeJson => read_native(bytes),
        Sniffed::Format(Format::CycloneDxJson) => cyclonedx::read_json(bytes).map(|s| vec![s]),
        Sniffed::Format(Format::CycloneDxXml) => cyclonedx_xml::read(bytes).map(|s| vec![s]),
        Sniffed::Format(Format::SpdxJson) => spdx::read_json(bytes).map(|s| vec![s]),
        Sniffed::Format(Format::SpdxTagValue) => spdx_tagvalue::read(bytes).map(|s| vec![s]),
        Sniffed::Format(other) => Err(FormatError::Unrecognized(format!("{other} documents cannot be read"))),
    }
}

/// Tells the format of a document: native JSON by `schema.version`/`schema.url`,
/// CycloneDX JSON by `bomFormat`, CycloneDX XML by its `bom` element in a
/// `http://cyclonedx.org/schema/bom/1.x` namespace, SPDX JSON by `spdxVersion`,
/// SPDX tag-value by a leading `SPDXVersion:` line.
/// Documents over [`DEFAULT_MAX_DOCUMENT_SIZE`] are refused.
pub fn detect(bytes: &[u8]) -> Result<Format, FormatError> {
    if bytes.len() > DEFAULT_MAX_DOCUMENT_SIZE {
        return Err(FormatError::TooLarge { size: bytes.len(), limit: DEFAULT_MAX_DOCUMENT_SIZE });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    Ok(match sniff(bytes)? {
        Sniffed::NativeJson => Format::Json,
        Sniffed::Format(format) => format,
    })
}

enum Sniffed {
    NativeJson,
    Format(Format),
}

#[derive(Deserialize)]
struct Probe {
    schema: Option<serde_json::Value>,
    #[serde(rename = "bomFormat")]
    bom_format: Option<serde_json::Value>,
    #[serde(rename = "spdxVersion")]
    spdx_version: Option<serde_json::Value>,
    artifacts: Option<IgnoredAny>,
    descriptor: Option<IgnoredAny>,
    #[serde(rename = "@context")]
    context: Option<IgnoredAny>,
}

fn sniff(bytes: &[u8]) -> Result<Sniffed, FormatError> {
    let first = bytes.iter().position(|b| !b.is_ascii_whitespace()).map(|i| bytes[i]);
    match first {
        None => Err(FormatError::Unrecognized("the document is empty".to_owned())),
        Some(b'[') => {
            let probes: Vec<Probe> = json_from_slice(bytes, "JSON")?;
            if probes.iter().all(|p| p.schema.is_some()) {
                Ok(Sniffed::NativeJson)
            } else {
                Err(FormatError::Unrecognized(
                    "a JSON array that is not a list of native Portcullis SBOMs (each with `schema`)".to_owned(),
                ))
            }
        }
        Some(b'{') => {
            let probe: Probe = json_from_slice(bytes, "JSON")?;
            if probe.spdx_version.is_some() {
                return Ok(Sniffed::Format(Format::SpdxJson));
            }
            if let Some(bom_format) = &probe.bom_format {
                return if bom_format.as_str() == Some("CycloneDX") {
                    Ok(Sniffed::Format(Format::CycloneDxJson))
                } else {
                    Err(FormatError::Unrecognized(format!("`bomFormat` is {bom_format}, expected \"CycloneDX\"")))
                };
            }
            if probe.artifacts.is_some() && probe.descriptor.is_some() {
                return Err(FormatError::Unrecognized(
                    "this is syft's own JSON format, which is not read; have syft write cyclonedx-json or spdx-json"
                        .to_owned(),
                ));
            }
            if let Some(schema) = &probe.schema
                && (schema.get("version").is_some() || schema.get("url").is_some())
            {
                return Ok(Sniffed::NativeJson);
            }
            if probe.context.is_some() {
                return Err(FormatError::Unrecognized(
                    "a JSON-LD document (SPDX 3?); only SPDX 2.x and CycloneDX 1.x are read".to_owned(),
                ));
            }
            Err(FormatError::Unrecognized(
                "a JSON object without `schema.version` (native), `bomFormat` (CycloneDX) or `spdxVersion` (SPDX)"
                    .to_owned(),
            ))
        }
        Some(b'<') => {
            cyclonedx_xml::sniff(bytes)?;
            Ok(Sniffed::Format(Format::CycloneDxXml))
        }
        Some(_) => {
            if spdx_tagvalue::sniff(bytes) {
                Ok(Sniffed::Format(Format::SpdxTagValue))
            } else {
                Err(FormatError::Unrecognized(
                    "neither JSON, XML, nor SPDX tag-value (no `SPDXVersion:` line among the first tags)".to_owned(),
                ))
            }
        }
    }
}

fn read_native(bytes: &[u8]) -> Result<Vec<Sbom>, FormatError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let versions: Vec<Probe> =
        if first == Some(&b'[') { json_from_slice(bytes, "JSON")? } else { vec![json_from_slice(bytes, "JSON")?] };
    let major = |v: &str| v.split('.').next().map(str::to_owned);
    for probe in &versions {
        let version = probe.schema.as_ref().and_then(|s| s.get("version")).and_then(|v| v.as_str()).unwrap_or("");
        if major(version) != major(SCHEMA_VERSION) {
            return Err(FormatError::UnsupportedVersion {
                format: "native JSON",
                version: version.to_owned(),
                supported: "this build reads schema 1.x",
            });
        }
    }
    if first == Some(&b'[') {
        json_from_slice(bytes, "native JSON")
    } else {
        Ok(vec![json_from_slice(bytes, "native JSON")?])
    }
}

/// Deserialises JSON, reporting errors with their JSON path, line and column.
pub(crate) fn json_from_slice<T: DeserializeOwned>(bytes: &[u8], format: &'static str) -> Result<T, FormatError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        json_error(format, path, e.inner())
    })?;
    deserializer.end().map_err(|e| json_error(format, ".".to_owned(), &e))?;
    Ok(value)
}

fn json_error(format: &'static str, path: String, error: &serde_json::Error) -> FormatError {
    let text = error.to_string();
    let message = match text.rsplit_once(" at line ") {
        Some((message, _)) => message.to_owned(),
        None => text,
    };
    FormatError::Json { format, path, line: error.line(), column: error.column(), message }
}

/// 1-based line number of byte `offset` in `bytes`.
pub(crate) fn line_of(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())].iter().filter(|b| **b == b'\n').count() + 1
}
