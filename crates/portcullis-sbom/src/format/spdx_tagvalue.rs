//! SPDX 2.3 tag-value: written from and parsed into the same model as SPDX JSON.

use std::fmt::Write as _;

use crate::Sbom;

use super::spdx::{
    self, Annotation, Checksum, Document, ExternalRef, ExtractedLicense, File, Relationship, SpdxPackage,
};
use super::{FormatError, WriteOptions, line_of};

const FORMAT: &str = "SPDX tag-value";

/// Tags (other than `SPDXVersion`) looked at when sniffing.
const SNIFF_LINES: usize = 50;

pub(crate) fn write(sbom: &Sbom, options: &WriteOptions) -> String {
    let doc = spdx::build(sbom, options);
    let mut out = String::with_capacity(256 * (doc.packages.len() + doc.files.len() + 8));
    tag(&mut out, "SPDXVersion", &doc.spdx_version);
    tag(&mut out, "DataLicense", &doc.data_license);
    tag(&mut out, "SPDXID", &doc.spdx_id);
    tag(&mut out, "DocumentName", &doc.name);
    tag(&mut out, "DocumentNamespace", &doc.document_namespace);
    if let Some(version) = &doc.creation_info.license_list_version {
        tag(&mut out, "LicenseListVersion", version);
    }
    for creator in &doc.creation_info.creators {
        tag(&mut out, "Creator", creator);
    }
    tag(&mut out, "Created", &doc.creation_info.created);

    // Files first: a file listed after a package would be taken as part of it.
    if !doc.files.is_empty() {
        out.push_str("\n##### Files\n");
    }
    for file in &doc.files {
        out.push('\n');
        tag(&mut out, "FileName", &file.file_name);
        tag(&mut out, "SPDXID", &file.spdx_id);
        for checksum in &file.checksums {
            tag(&mut out, "FileChecksum", &format!("{}: {}", checksum.algorithm, checksum.checksum_value));
        }
    }

    for package in &doc.packages {
        let _ = write!(out, "\n##### Package: {}\n\n", one_line(&package.name));
        tag(&mut out, "PackageName", &package.name);
        tag(&mut out, "SPDXID", &package.spdx_id);
        opt_tag(&mut out, "PackageVersion", &package.version_info);
        opt_tag(&mut out, "PackageSupplier", &package.supplier);
        opt_tag(&mut out, "PackageOriginator", &package.originator);
        tag(&mut out, "PackageDownloadLocation", &package.download_location);
        tag(&mut out, "FilesAnalyzed", if package.files_analyzed { "true" } else { "false" });
        for checksum in &package.checksums {
            tag(&mut out, "PackageChecksum", &format!("{}: {}", checksum.algorithm, checksum.checksum_value));
        }
        if let Some(info) = &package.source_info {
            text_tag(&mut out, "PackageSourceInfo", info);
        }
        opt_tag(&mut out, "PackageLicenseConcluded", &package.license_concluded);
        opt_tag(&mut out, "PackageLicenseDeclared", &package.license_declared);
        opt_tag(&mut out, "PackageCopyrightText", &package.copyright_text);
        if let Some(description) = &package.description {
            text_tag(&mut out, "PackageDescription", description);
        }
        for reference in &package.external_refs {
            tag(
                &mut out,
                "ExternalRef",
                &format!(
                    "{} {} {}",
                    reference.reference_category, reference.reference_type, reference.reference_locator
                ),
            );
        }
        opt_tag(&mut out, "PrimaryPackagePurpose", &package.primary_package_purpose);
    }

    if !doc.has_extracted_licensing_infos.is_empty() {
        out.push_str("\n##### Other Licenses\n");
    }
    for license in &doc.has_extracted_licensing_infos {
        out.push('\n');
        tag(&mut out, "LicenseID", &license.license_id);
        text_tag(&mut out, "ExtractedText", &license.extracted_text);
        opt_tag(&mut out, "LicenseName", &license.name);
    }

    out.push_str("\n##### Relationships\n\n");
    for r in &doc.relationships {
        tag(
            &mut out,
            "Relationship",
            &format!("{} {} {}", r.spdx_element_id, r.relationship_type, r.related_spdx_element),
        );
    }

    let annotated: Vec<(&str, &Annotation)> =
        doc.packages.iter().flat_map(|p| p.annotations.iter().map(move |a| (p.spdx_id.as_str(), a))).collect();
    if !annotated.is_empty() {
        out.push_str("\n##### Annotations\n");
    }
    for (element, annotation) in annotated {
        out.push('\n');
        tag(&mut out, "Annotator", &annotation.annotator);
        tag(&mut out, "AnnotationDate", &annotation.annotation_date);
        tag(&mut out, "AnnotationType", &annotation.annotation_type);
        tag(&mut out, "SPDXREF", element);
        text_tag(&mut out, "AnnotationComment", &annotation.comment);
    }
    out
}

/// Single-line values cannot hold line breaks: they become spaces.
fn one_line(value: &str) -> String {
    value.replace(['\r', '\n'], " ")
}

fn tag(out: &mut String, name: &str, value: &str) {
    let _ = writeln!(out, "{name}: {}", one_line(value));
}

fn opt_tag(out: &mut String, name: &str, value: &Option<String>) {
    if let Some(value) = value {
        tag(out, name, value);
    }
}

/// A free-form value, wrapped in `<text>...</text>` (which cannot itself hold `</text>`).
fn text_tag(out: &mut String, name: &str, value: &str) {
    let _ = writeln!(out, "{name}: <text>{}</text>", value.replace("</text>", "</ text>"));
}

/// Whether the text looks like SPDX tag-value: an `SPDXVersion:` line among
/// the first tag lines.
pub(crate) fn sniff(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    String::from_utf8_lossy(head)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .take(SNIFF_LINES)
        .any(|l| l.starts_with("SPDXVersion:"))
}

pub(crate) fn read(bytes: &[u8]) -> Result<Sbom, FormatError> {
    let text = std::str::from_utf8(bytes).map_err(|e| FormatError::Syntax {
        format: FORMAT,
        line: line_of(bytes, e.valid_up_to()),
        message: "the document is not UTF-8".to_owned(),
    })?;
    let document = parse(text)?;
    spdx::to_sbom(document, FORMAT)
}

#[derive(Clone, Copy)]
enum Context {
    Document,
    Package(usize),
    File(usize),
    License(usize),
    Annotation(usize),
    /// Snippets and other sections whose fields are not read.
    Other,
}

fn syntax(line: usize, message: impl Into<String>) -> FormatError {
    FormatError::Syntax { format: FORMAT, line, message: message.into() }
}

fn shorten(text: &str) -> String {
    let mut short: String = text.chars().take(60).collect();
    if short.len() < text.len() {
        short.push_str("...");
    }
    short
}

/// Parses tag-value text: `Tag: value` lines, `<text>...</text>` values
/// spanning lines, `#` comments. Unknown tags are skipped; a line that is not
/// a tag, a field outside its section or a malformed value is an error
/// naming its line.
pub(crate) fn parse(text: &str) -> Result<Document, FormatError> {
    let mut doc = Document::default();
    let mut annotations: Vec<(String, Annotation)> = Vec::new();
    let mut context = Context::Document;
    let lines: Vec<&str> = text.split('\n').collect();
    let mut i = 0;
    while i < lines.len() {
        let line_no = i + 1;
        let line = lines[i].trim_end_matches('\r');
        i += 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let Some((name, rest)) = trimmed.split_once(':') else {
            return Err(syntax(line_no, format!("expected `Tag: value`, found `{}`", shorten(trimmed))));
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err(syntax(line_no, format!("expected `Tag: value`, found `{}`", shorten(trimmed))));
        }
        let mut value = rest.trim().to_owned();
        if let Some(after) = rest.trim_start().strip_prefix("<text>") {
            value = match after.find("</text>") {
                Some(end) => after[..end].to_owned(),
                None => {
                    let mut collected = after.to_owned();
                    loop {
                        let Some(next) = lines.get(i) else {
                            return Err(syntax(line_no, format!("`{name}`: <text> is never closed by </text>")));
                        };
                        i += 1;
                        let next = next.trim_end_matches('\r');
                        collected.push('\n');
                        if let Some(end) = next.find("</text>") {
                            collected.push_str(&next[..end]);
                            break;
                        }
                        collected.push_str(next);
                    }
                    collected
                }
            };
        }
        let outside = |section: &str, starter: &str| {
            syntax(line_no, format!("`{name}` outside a {section} (no `{starter}` before it)"))
        };
        macro_rules! package {
            () => {
                match context {
                    Context::Package(index) => &mut doc.packages[index],
                    _ => return Err(outside("package", "PackageName")),
                }
            };
        }
        macro_rules! annotation {
            () => {
                match context {
                    Context::Annotation(index) => &mut annotations[index].1,
                    _ => return Err(outside("annotation", "Annotator")),
                }
            };
        }
        match name {
            "SPDXVersion" => doc.spdx_version = value,
            "DataLicense" => doc.data_license = value,
            "DocumentName" => doc.name = value,
            "DocumentNamespace" => doc.document_namespace = value,
            "Creator" => doc.creation_info.creators.push(value),
            "Created" => doc.creation_info.created = value,
            "LicenseListVersion" => doc.creation_info.license_list_version = Some(value),
            "SPDXID" => match context {
                Context::Document => doc.spdx_id = value,
                Context::Package(index) => doc.packages[index].spdx_id = value,
                Context::File(index) => doc.files[index].spdx_id = value,
                _ => {}
            },
            "PackageName" => {
                doc.packages.push(SpdxPackage { name: value, ..SpdxPackage::default() });
                context = Context::Package(doc.packages.len() - 1);
            }
            "PackageVersion" => package!().version_info = Some(value),
            "PackageSupplier" => package!().supplier = Some(value),
            "PackageOriginator" => package!().originator = Some(value),
            "PackageDownloadLocation" => package!().download_location = value,
            "FilesAnalyzed" => {
                package!().files_analyzed = match value.to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(syntax(line_no, format!("`FilesAnalyzed` must be true or false, not `{value}`"))),
                }
            }
            "PackageChecksum" => {
                let checksum = checksum(&value).ok_or_else(|| {
                    syntax(line_no, format!("`PackageChecksum` must be `ALGORITHM: value`, not `{}`", shorten(&value)))
                })?;
                package!().checksums.push(checksum);
            }
            "PackageSourceInfo" => package!().source_info = Some(value),
            "PackageLicenseConcluded" => package!().license_concluded = Some(value),
            "PackageLicenseDeclared" => package!().license_declared = Some(value),
            "PackageCopyrightText" => package!().copyright_text = Some(value),
            "PackageDescription" => package!().description = Some(value),
            "PrimaryPackagePurpose" => package!().primary_package_purpose = Some(value),
            "ExternalRef" => {
                let mut parts = value.split_whitespace();
                let (Some(category), Some(kind), Some(locator)) = (parts.next(), parts.next(), parts.next()) else {
                    return Err(syntax(
                        line_no,
                        format!("`ExternalRef` must be `CATEGORY TYPE LOCATOR`, not `{}`", shorten(&value)),
                    ));
                };
                let reference = ExternalRef {
                    reference_category: category.to_owned(),
                    reference_type: kind.to_owned(),
                    reference_locator: locator.to_owned(),
                };
                package!().external_refs.push(reference);
            }
            "FileName" => {
                doc.files.push(File { file_name: value, ..File::default() });
                context = Context::File(doc.files.len() - 1);
            }
            "FileChecksum" => {
                let Context::File(index) = context else { return Err(outside("file", "FileName")) };
                let checksum = checksum(&value).ok_or_else(|| {
                    syntax(line_no, format!("`FileChecksum` must be `ALGORITHM: value`, not `{}`", shorten(&value)))
                })?;
                doc.files[index].checksums.push(checksum);
            }
            "LicenseID" => {
                doc.has_extracted_licensing_infos.push(ExtractedLicense { license_id: value, ..Default::default() });
                context = Context::License(doc.has_extracted_licensing_infos.len() - 1);
            }
            "ExtractedText" | "LicenseName" => {
                let Context::License(index) = context else { return Err(outside("licence", "LicenseID")) };
                let license = &mut doc.has_extracted_licensing_infos[index];
                if name == "ExtractedText" {
                    license.extracted_text = value;
                } else {
                    license.name = Some(value);
                }
            }
            "Annotator" => {
                annotations.push((String::new(), Annotation { annotator: value, ..Annotation::default() }));
                context = Context::Annotation(annotations.len() - 1);
            }
            "AnnotationDate" => annotation!().annotation_date = value,
            "AnnotationType" => annotation!().annotation_type = value,
            "AnnotationComment" => annotation!().comment = value,
            "SPDXREF" => match context {
                Context::Annotation(index) => annotations[index].0 = value,
                _ => return Err(outside("annotation", "Annotator")),
            },
            "Relationship" => {
                let parts: Vec<&str> = value.split_whitespace().collect();
                let [from, kind, to] = parts.as_slice() else {
                    return Err(syntax(
                        line_no,
                        format!("`Relationship` must be `ELEMENT TYPE ELEMENT`, not `{}`", shorten(&value)),
                    ));
                };
                doc.relationships.push(Relationship {
                    spdx_element_id: (*from).to_owned(),
                    related_spdx_element: (*to).to_owned(),
                    relationship_type: (*kind).to_owned(),
                });
            }
            "SnippetSPDXID" => context = Context::Other,
            _ => {}
        }
    }
    if doc.spdx_version.is_empty() {
        return Err(syntax(1, "no `SPDXVersion` tag"));
    }
    for (element, annotation) in annotations {
        if let Some(package) = doc.packages.iter_mut().find(|p| p.spdx_id == element) {
            package.annotations.push(annotation);
        }
    }
    Ok(doc)
}

/// `SHA256: hex` (the value of a checksum tag).
fn checksum(value: &str) -> Option<Checksum> {
    let (algorithm, hex) = value.split_once(':')?;
    let (algorithm, hex) = (algorithm.trim(), hex.trim());
    (!algorithm.is_empty() && !hex.is_empty() && !hex.contains(char::is_whitespace))
        .then(|| Checksum { algorithm: algorithm.to_owned(), checksum_value: hex.to_owned() })
}
