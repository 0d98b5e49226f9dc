//! The deb822 paragraph format shared by the dpkg status database and
//! machine-readable copyright files.

/// One paragraph: fields in file order, names as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Stanza {
    /// 1-based line number of the paragraph's first field, for diagnostics.
    pub line: usize,
    pub fields: Vec<(String, String)>,
}

impl Stanza {
    /// The first field of that name; deb822 field names are case-insensitive.
    /// A repeated field is a broken database, and the first occurrence is
    /// what dpkg itself would have read before rejecting it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }
}

#[derive(Debug, Default)]
pub(crate) struct Document {
    pub stanzas: Vec<Stanza>,
    /// Lines that were neither a field, a continuation nor a separator.
    pub malformed_lines: usize,
    /// Whether any line at all held something other than whitespace.
    pub has_content: bool,
}

/// Splits text into paragraphs.
///
/// A field's first line keeps its value trimmed; continuation lines are
/// appended after a `\n`, trimmed too, so multi-line fields (Conffiles,
/// Description, License texts) read one item per line. Lines that fit no
/// rule are counted and skipped rather than failing the file: one corrupt
/// line must not hide every other package from a security scan.
pub(crate) fn parse(text: &str) -> Document {
    let mut doc = Document::default();
    let mut current = Stanza::default();
    for (index, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            if !current.fields.is_empty() {
                doc.stanzas.push(std::mem::take(&mut current));
            }
            continue;
        }
        doc.has_content = true;
        if line.starts_with([' ', '\t']) {
            match current.fields.last_mut() {
                Some((_, value)) => {
                    value.push('\n');
                    value.push_str(line.trim());
                }
                None => doc.malformed_lines += 1,
            }
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) if is_field_name(name) => {
                if current.fields.is_empty() {
                    current.line = index + 1;
                }
                current.fields.push((name.to_owned(), value.trim().to_owned()));
            }
            _ => doc.malformed_lines += 1,
        }
    }
    if !current.fields.is_empty() {
        doc.stanzas.push(current);
    }
    doc
}

/// deb822 field names are printable ASCII without spaces or colons, and may
/// not start with `#` or `-`.
fn is_field_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with(['#', '-']) && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_and_continuations() {
        let doc = parse("A: 1\r\nB:  two\n more\n\tlines\n \t\nC: 3\n# junk\n stray?\n\n\n D: cont-first\nE:x");
        assert_eq!(doc.stanzas.len(), 3);
        assert_eq!(doc.stanzas[0].get("b"), Some("two\nmore\nlines"));
        assert_eq!(doc.stanzas[1].get("C"), Some("3\nstray?"));
        assert_eq!(doc.stanzas[1].line, 6);
        assert_eq!(doc.stanzas[2].get("E"), Some("x"));
        // `# junk` and the continuation with nothing to continue.
        assert_eq!(doc.malformed_lines, 2);
    }
}
