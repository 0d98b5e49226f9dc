//! `-o FORMAT[=FILE]`: which documents to write, and where.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use portcullis_sbom::Sbom;
use portcullis_sbom::format::{self, Format, WriteOptions};

/// One requested output.
pub struct Output {
    pub format: Format,
    /// `None` is stdout.
    pub file: Option<PathBuf>,
}

/// Parses every `-o` value; at most one may go to stdout.
pub fn parse(specs: &[String]) -> Result<Vec<Output>> {
    Ok(parse_targets(specs, |name| Ok(Format::parse(name)?))?
        .into_iter()
        .map(|(format, file)| Output { format, file })
        .collect())
}

/// Splits `FORMAT[=FILE]` values with `format` reading the names; at most
/// one may go to stdout. Shared by every command that writes documents.
pub fn parse_targets<F>(specs: &[String], format: impl Fn(&str) -> Result<F>) -> Result<Vec<(F, Option<PathBuf>)>> {
    let targets = specs
        .iter()
        .map(|spec| {
            let (name, file) = match spec.split_once('=') {
                Some((name, file)) => (name, Some(PathBuf::from(file))),
                None => (spec.as_str(), None),
            };
            Ok((format(name)?, file))
        })
        .collect::<Result<Vec<_>>>()?;
    if targets.iter().filter(|(_, file)| file.is_none()).count() > 1 {
        bail!("only one output can go to stdout; give the others a file: -o FORMAT=FILE");
    }
    Ok(targets)
}

/// Writes `sboms` (one per platform) in every requested output.
///
/// Several platforms go to one native JSON array or one table per platform;
/// the standard formats describe one image per document, so they need a file
/// name with `{platform}` in it, replaced by e.g. `linux-arm64-v8`.
pub fn write(outputs: &[Output], sboms: &[Sbom]) -> Result<()> {
    for output in outputs {
        match (output.format, sboms) {
            (Format::Json, [one]) => {
                let file = output.file.as_ref().map(|f| PathBuf::from(with_platform(f, one)));
                emit_json(output, file, one)?
            }
            (_, [one]) => {
                let file = output.file.as_ref().map(|f| PathBuf::from(with_platform(f, one)));
                emit(output, file, &format::write(one, output.format, &WriteOptions::default())?)?
            }
            (Format::Json, many) => emit(output, None, &(serde_json::to_string_pretty(many)? + "\n"))?,
            (Format::Table, many) => {
                let tables: Vec<String> = many
                    .iter()
                    .map(|sbom| format!("== platform {}\n{}", platform(sbom), portcullis_sbom::render_table(sbom)))
                    .collect();
                emit(output, None, &tables.join("\n"))?
            }
            (other, many) => {
                let Some(file) = output.file.as_ref().filter(|f| f.to_string_lossy().contains("{platform}")) else {
                    bail!(
                        "{} documents describe one image each and this image has {} platforms: write them to files \
                         named with {{platform}}, e.g. -o {}=sbom-{{platform}}.json, or pick one with --platform",
                        other.name(),
                        many.len(),
                        other.name()
                    );
                };
                for sbom in many {
                    let name = with_platform(file, sbom);
                    let text = format::write(sbom, other, &WriteOptions::default())?;
                    emit(output, Some(PathBuf::from(name)), &text)?;
                }
            }
        }
    }
    Ok(())
}

/// `file` with `{platform}` replaced by the SBOM's platform, e.g. `linux-arm64-v8`.
fn with_platform(file: &std::path::Path, sbom: &Sbom) -> String {
    file.to_string_lossy().replace("{platform}", &platform(sbom).replace('/', "-"))
}

fn platform(sbom: &Sbom) -> String {
    sbom.source.image.as_ref().and_then(|i| i.platform.clone()).unwrap_or_else(|| "unknown".into())
}

/// Native JSON streamed to its destination: a document with hundreds of
/// thousands of file records is never held twice in memory.
fn emit_json(output: &Output, file: Option<PathBuf>, sbom: &Sbom) -> Result<()> {
    let write = |writer: &mut dyn Write| -> std::io::Result<()> {
        let mut writer = std::io::BufWriter::with_capacity(1 << 16, writer);
        serde_json::to_writer_pretty(&mut writer, sbom)?;
        writer.write_all(b"\n")?;
        writer.flush()
    };
    match file.as_ref().or(output.file.as_ref()) {
        Some(path) => {
            let mut handle = std::fs::File::create(path).with_context(|| format!("writing {}", path.display()))?;
            write(&mut handle).with_context(|| format!("writing {}", path.display()))
        }
        None => {
            // A closed pipe (e.g. `| head`) is not an error worth reporting.
            let _ = write(&mut std::io::stdout().lock());
            Ok(())
        }
    }
}

fn emit(output: &Output, file: Option<PathBuf>, text: &str) -> Result<()> {
    match file.as_ref().or(output.file.as_ref()) {
        Some(path) => std::fs::write(path, text).with_context(|| format!("writing {}", path.display())),
        None => {
            // A closed pipe (e.g. `| head`) is not an error worth reporting.
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            Ok(())
        }
    }
}

/// Writes `text` to `file`, or to stdout when there is none.
pub fn emit_text(file: Option<&std::path::Path>, text: &str) -> Result<()> {
    match file {
        Some(path) => std::fs::write(path, text).with_context(|| format!("writing {}", path.display())),
        None => {
            // A closed pipe (e.g. `| head`) is not an error worth reporting.
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            Ok(())
        }
    }
}
