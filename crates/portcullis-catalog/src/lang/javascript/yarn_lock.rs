//! `yarn.lock`: yarn 1's own line format, or Yarn Berry's (2+) YAML.
//!
//! Yarn 1 writes one block per resolved version: a header listing every
//! descriptor that resolved to it, then indented fields.
//!
//! ```text
//! "@babel/core@^7.0.0", "@babel/core@^7.1.0":
//!   version "7.1.2"
//!   resolved "https://registry.yarnpkg.com/@babel/core/-/core-7.1.2.tgz#…"
//!   integrity sha512-…
//!   dependencies:
//!     debug "^4.1.0"
//! ```
//!
//! Berry writes YAML with a `__metadata` block and `resolution: "name@npm:1.2.3"`.

use serde_norway::Value as Yaml;

use super::{JsError, NpmPackage, NpmSource, split_name};

const FILE: &str = "yarn.lock";

/// Parses either kind of `yarn.lock`; Berry is told by its `__metadata`
/// key, which yarn 1 never writes. Workspace entries of Berry (the
/// project itself and its members, `name@workspace:…`) are not dependencies
/// and are left out.
pub fn parse_yarn_lock(bytes: &[u8]) -> Result<Vec<NpmPackage>, JsError> {
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(JsError::Malformed { file: FILE, reason: format!("NUL byte at offset {offset}: not a text file") });
    }
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if text.lines().any(|line| line.trim_end() == "__metadata:") { parse_berry(text) } else { parse_v1(text) }
}

#[derive(Default)]
struct Entry {
    line: usize,
    descriptors: Vec<String>,
    version: Option<String>,
    resolved: Option<String>,
    integrity: Option<String>,
    dependencies: std::collections::BTreeMap<String, String>,
}

fn syntax(line: usize, reason: &'static str) -> JsError {
    JsError::YarnSyntax { line, reason }
}

fn parse_v1(text: &str) -> Result<Vec<NpmPackage>, JsError> {
    let mut out = Vec::new();
    let mut current: Option<Entry> = None;
    let mut block: Option<String> = None;
    for (index, raw) in text.split('\n').enumerate() {
        let number = index + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let content = line.trim_start_matches(' ');
        if content.trim().is_empty() || content.starts_with('#') {
            continue;
        }
        if content.starts_with('\t') {
            return Err(syntax(number, "tab indentation"));
        }
        let indent = line.len() - content.len();
        match indent {
            0 => {
                if let Some(done) = current.take() {
                    out.push(finish(done)?);
                }
                let header =
                    content.trim_end().strip_suffix(':').ok_or(syntax(number, "entry header does not end with `:`"))?;
                let descriptors = tokens(header, number)?;
                if descriptors.is_empty() {
                    return Err(syntax(number, "entry header names no package"));
                }
                current = Some(Entry { line: number, descriptors, ..Entry::default() });
                block = None;
            }
            2 => {
                let entry = current.as_mut().ok_or(syntax(number, "indented field outside an entry"))?;
                let fields = tokens(content, number)?;
                match fields.as_slice() {
                    [key] if content.trim_end().ends_with(':') => block = Some(key.clone()),
                    [key, value, ..] => {
                        block = None;
                        let value = Some(value.clone());
                        match key.as_str() {
                            "version" => entry.version = value,
                            "resolved" => entry.resolved = value,
                            "integrity" => entry.integrity = value,
                            _ => {}
                        }
                    }
                    _ => return Err(syntax(number, "field without a value")),
                }
            }
            4.. if indent % 2 == 0 => {
                let entry = current.as_mut().ok_or(syntax(number, "indented field outside an entry"))?;
                let block = block.as_deref().ok_or(syntax(number, "nested field outside a block"))?;
                let fields = tokens(content, number)?;
                if let ([name, range, ..], "dependencies" | "optionalDependencies") = (fields.as_slice(), block) {
                    entry.dependencies.insert(name.clone(), range.clone());
                }
            }
            _ => return Err(syntax(number, "odd indentation")),
        }
    }
    if let Some(done) = current.take() {
        out.push(finish(done)?);
    }
    Ok(out)
}

fn finish(entry: Entry) -> Result<NpmPackage, JsError> {
    let version = entry.version.ok_or(syntax(entry.line, "entry has no version (file cut short?)"))?;
    let first = entry.descriptors.first().map(String::as_str).unwrap_or_default();
    let (installed, range) = split_name(first).ok_or(syntax(entry.line, "descriptor without `@range`"))?;
    // `alias@npm:real@range` installs `real` under the name `alias`.
    let real = range.strip_prefix("npm:").map(|target| split_name(target).map_or(target, |(name, _)| name));
    let name = real.unwrap_or(installed).to_owned();
    Ok(NpmPackage {
        alias: (name != installed).then(|| installed.to_owned()),
        name,
        version,
        resolved: entry.resolved,
        integrity: entry.integrity,
        lock_key: Some(entry.descriptors.join(", ")),
        dependencies: entry.dependencies,
        source: NpmSource::YarnLock,
        ..NpmPackage::default()
    })
}

/// Splits a yarn 1 line into its values: double-quoted strings (JSON
/// escapes) or bare words, separated by spaces or commas; one trailing `:`
/// of a bare word or of the line is punctuation.
fn tokens(text: &str, line: usize) -> Result<Vec<String>, JsError> {
    let text = text.trim_end();
    let text = text.strip_suffix(':').unwrap_or(text);
    let mut out = Vec::new();
    let mut rest = text.trim_start_matches([' ', ',']);
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut escaped = false;
            let end = quoted.char_indices().find_map(|(i, c)| {
                let closes = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                closes.then_some(i)
            });
            let end = end.ok_or(syntax(line, "unterminated quoted string"))?;
            let literal = rest.get(..end + 2).unwrap_or_default();
            let value: String =
                serde_json::from_str(literal).map_err(|_| syntax(line, "invalid escape in quoted string"))?;
            out.push(value);
            rest = rest.get(end + 2..).unwrap_or_default();
        } else {
            let end = rest.find([' ', ',']).unwrap_or(rest.len());
            let word = rest.get(..end).unwrap_or_default();
            out.push(word.strip_suffix(':').unwrap_or(word).to_owned());
            rest = rest.get(end..).unwrap_or_default();
        }
        rest = rest.trim_start_matches([' ', ',']);
    }
    Ok(out)
}

/// A YAML scalar as text: Berry and pnpm write versions unquoted, which a
/// YAML reader may type as a number or boolean.
pub(crate) fn scalar(value: Option<&Yaml>) -> Option<String> {
    match value? {
        Yaml::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) fn yaml_string_map(value: Option<&Yaml>) -> std::collections::BTreeMap<String, String> {
    value
        .and_then(Yaml::as_mapping)
        .map(|m| m.iter().filter_map(|(k, v)| Some((scalar(Some(k))?, scalar(Some(v))?))).collect())
        .unwrap_or_default()
}

fn parse_berry(text: &str) -> Result<Vec<NpmPackage>, JsError> {
    let doc: Yaml = serde_norway::from_str(text).map_err(|e| JsError::Yaml { file: FILE, message: e.to_string() })?;
    let entries = doc.as_mapping().ok_or(JsError::Malformed { file: FILE, reason: "not a YAML mapping".into() })?;
    let mut out = Vec::new();
    for (key, entry) in entries {
        let Some(key) = scalar(Some(key)) else { continue };
        if key == "__metadata" {
            continue;
        }
        let Some(fields) = entry.as_mapping() else { continue };
        let Some(resolution) = scalar(fields.get("resolution")) else { continue };
        let Some((name, reference)) = split_name(&resolution) else { continue };
        if reference.starts_with("workspace:") {
            continue;
        }
        let Some(version) = scalar(fields.get("version")) else { continue };
        let installed = key.split(',').next().and_then(|d| split_name(d.trim())).map(|(n, _)| n);
        out.push(NpmPackage {
            alias: installed.filter(|i| *i != name).map(str::to_owned),
            name: name.to_owned(),
            version,
            resolved: Some(resolution.clone()),
            checksum: scalar(fields.get("checksum")),
            lock_key: Some(key.clone()),
            dependencies: yaml_string_map(fields.get("dependencies")),
            source: NpmSource::YarnLock,
            ..NpmPackage::default()
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_tokens() {
        let t = |s: &str| tokens(s, 1).unwrap_or_default();
        assert_eq!(t(r#""@a/b@^1", "@a/b@~1.2""#), ["@a/b@^1", "@a/b@~1.2"]);
        assert_eq!(t("lodash@^4.17.4, lodash@^4.17.5"), ["lodash@^4.17.4", "lodash@^4.17.5"]);
        assert_eq!(t(r#"version "1.0.0""#), ["version", "1.0.0"]);
        assert_eq!(t("integrity sha512-abc=="), ["integrity", "sha512-abc=="]);
        assert_eq!(t(r#""quo\"ted" x"#), ["quo\"ted", "x"]);
        assert_eq!(t("dependencies:"), ["dependencies"]);
        assert_eq!(tokens(r#"resolved "https://regis"#, 7), Err(syntax(7, "unterminated quoted string")));
    }

    #[test]
    fn v1_errors() {
        let parse = |s: &str| parse_yarn_lock(s.as_bytes());
        assert_eq!(parse("lodash@4:\n  version \"4\"\n").map(|p| p.len()), Ok(1));
        assert_eq!(parse("lodash@4:\n  resolved \"x\"\n"), Err(syntax(1, "entry has no version (file cut short?)")));
        assert_eq!(parse("lodash@4.1"), Err(syntax(1, "entry header does not end with `:`")));
        assert_eq!(parse("  version \"1\"\n"), Err(syntax(1, "indented field outside an entry")));
        assert_eq!(parse("a@1:\n   version \"1\"\n"), Err(syntax(2, "odd indentation")));
        assert_eq!(parse("a@1:\n\tversion \"1\"\n"), Err(syntax(2, "tab indentation")));
        assert_eq!(parse("a@1:\n  version\n"), Err(syntax(2, "field without a value")));
        assert_eq!(parse("a@1:\n    b \"1\"\n"), Err(syntax(2, "nested field outside a block")));
        assert_eq!(parse("a:\n  version \"1\"\n"), Err(syntax(1, "descriptor without `@range`")));
        assert_eq!(parse("# only a comment\n\n"), Ok(Vec::new()));
        assert!(matches!(parse("a\0"), Err(JsError::Malformed { .. })));
    }

    #[test]
    fn berry_yaml_errors() {
        let broken = "__metadata:\n  version: 8\n\"a@npm:1\":\n  version: [1\n";
        assert!(matches!(parse_yarn_lock(broken.as_bytes()), Err(JsError::Yaml { .. })));
        let list = "- __metadata:\n";
        assert!(parse_yarn_lock(list.as_bytes()).is_err());
    }
}
