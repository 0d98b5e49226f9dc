//! `META-INF/MANIFEST.MF`: `Key: value` lines in sections separated by
//! blank lines; a line starting with one space continues the previous
//! value (writers wrap at 72 bytes, even inside words).

/// A parsed manifest. Keys keep their case; lookups ignore it, as the JAR
/// specification says header names are case-insensitive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The main section's attributes, in file order.
    pub main: Vec<(String, String)>,
    /// Per-entry sections (`Name: org/foo/`), in file order.
    pub sections: Vec<Vec<(String, String)>>,
}

impl Manifest {
    /// A main-section attribute.
    pub fn main(&self, key: &str) -> Option<&str> {
        lookup(&self.main, key)
    }

    /// A main-section attribute, else the first per-entry section's that
    /// has it (where some builds put `Implementation-Version`), as syft reads it.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.main(key).or_else(|| self.sections.iter().find_map(|s| lookup(s, key)))
    }
}

fn lookup<'a>(attributes: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attributes.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

/// Parses a manifest leniently: lines without a colon and continuations
/// with nothing to continue are ignored (syft gives up on the whole
/// manifest instead), and a repeated key keeps its first value.
pub fn parse_manifest(bytes: &[u8]) -> Manifest {
    let text = String::from_utf8_lossy(bytes);
    let mut manifest = Manifest::default();
    let mut current: Vec<(String, String)> = Vec::new();
    let mut in_main = true;
    let finish = |current: &mut Vec<(String, String)>, in_main: &mut bool, manifest: &mut Manifest| {
        if *in_main {
            manifest.main = std::mem::take(current);
            *in_main = false;
        } else if !current.is_empty() {
            manifest.sections.push(std::mem::take(current));
        }
    };
    let mut continuable = false;
    for line in text.split(['\n']).map(|l| l.strip_suffix('\r').unwrap_or(l)) {
        if line.trim().is_empty() {
            // The main section ends at its first blank line even if it is
            // empty; later blank lines only separate entry sections.
            finish(&mut current, &mut in_main, &mut manifest);
            continuable = false;
            continue;
        }
        if let Some(continuation) = line.strip_prefix(' ') {
            if continuable && let Some((_, value)) = current.last_mut() {
                value.push_str(continuation);
            }
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continuable = false;
            continue;
        };
        let key = key.trim();
        if key.is_empty() || current.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
            continuable = false;
            continue;
        }
        current.push((key.to_owned(), value.trim_start().to_owned()));
        continuable = true;
    }
    if !current.is_empty() || in_main {
        finish(&mut current, &mut in_main, &mut manifest);
    }
    for (_, value) in manifest.main.iter_mut().chain(manifest.sections.iter_mut().flatten()) {
        let trimmed = value.trim_end().len();
        value.truncate(trimmed);
    }
    manifest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_and_sections() {
        let text = b"Manifest-Version: 1.0\r\nImplementation-URL: https://www.apache.org/hadoop-sh\r\n aded-guava/\r\n\
                     Bundle-License: Apache-2.0\r\nno colon here\r\n  two spaces keep one\r\n\r\n\
                     Name: org/foo/\r\nImplementation-Version: 2.0\r\n\r\n\r\nName: b\r\n";
        let m = parse_manifest(text);
        assert_eq!(m.main("implementation-url"), Some("https://www.apache.org/hadoop-shaded-guava/"));
        assert_eq!(m.main("Bundle-License"), Some("Apache-2.0"));
        assert_eq!(m.main("Implementation-Version"), None);
        assert_eq!(m.field("Implementation-Version"), Some("2.0"));
        assert_eq!(m.sections.len(), 2);
        let m = parse_manifest(b"\n\nName: x\nImplementation-Version: 3\n");
        assert!(m.main.is_empty());
        assert_eq!(m.field("Implementation-Version"), Some("3"));
        assert_eq!(parse_manifest(b" orphan continuation\nA: 1\nA: 2\n").main("a"), Some("1"));
        assert_eq!(parse_manifest(b""), Manifest::default());
    }
}
