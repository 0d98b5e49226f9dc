//! Maven metadata packed into archives by maven-archiver:
//! `META-INF/maven/<groupId>/<artifactId>/pom.properties` and the `pom.xml`
//! beside it.
//!
//! Only a handful of `pom.xml` elements matter here (the project's
//! coordinates, name, description, URL, parent and licences), so the XML is
//! read by a small scanner rather than a full parser: it follows element
//! nesting, skips comments, processing instructions, DOCTYPEs and
//! attributes, and decodes character references and the predefined entities.

/// `pom.properties`: what Maven recorded about the artifact it built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PomProperties {
    /// Path of the file inside its archive.
    pub path: String,
    pub group_id: String,
    pub artifact_id: String,
    pub version: String,
}

/// Parses `key=value` (or `key: value`) lines; `#` and `!` start comments.
/// Java's escape sequences are not decoded: Maven never writes them in
/// these three values.
pub fn parse_pom_properties(bytes: &[u8]) -> PomProperties {
    let text = String::from_utf8_lossy(bytes);
    let mut props = PomProperties::default();
    for line in text.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with(['#', '!']) {
            continue;
        }
        let Some(split) = line.find(['=', ':']) else { continue };
        let (key, value) = (line[..split].trim(), line[split + 1..].trim());
        match key {
            "groupId" => props.group_id = value.to_owned(),
            "artifactId" => props.artifact_id = value.to_owned(),
            "version" => props.version = value.to_owned(),
            _ => {}
        }
    }
    props
}

/// The parts of a `pom.xml` this cataloger uses. Values are as written:
/// `${...}` property references are not resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PomProject {
    pub group_id: Option<String>,
    pub artifact_id: Option<String>,
    pub version: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    pub parent_group_id: Option<String>,
    pub parent_artifact_id: Option<String>,
    pub parent_version: Option<String>,
    /// Each `<license>`'s `<name>`, or its `<url>` when it has no name.
    pub licenses: Vec<String>,
}

/// Nesting deeper than any real POM is treated as hostile.
const MAX_DEPTH: usize = 256;

/// Reads a `pom.xml`; `None` when the root element is not `<project>` or the
/// markup is broken (unterminated tags, comments or CDATA, absurd nesting).
pub fn parse_pom_xml(text: &str) -> Option<PomProject> {
    let mut project = PomProject::default();
    let mut stack: Vec<&str> = Vec::new();
    let mut text_buffer = String::new();
    let mut license_name: Option<String> = None;
    let mut license_url: Option<String> = None;
    let mut rest = text;
    let mut saw_root = false;
    while !rest.is_empty() {
        let Some(open) = rest.find('<') else {
            decode_into(rest, &mut text_buffer);
            break;
        };
        decode_into(&rest[..open], &mut text_buffer);
        rest = &rest[open..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = &after[after.find("-->")? + 3..];
        } else if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let end = after.find("]]>")?;
            text_buffer.push_str(&after[..end]);
            rest = &after[end + 3..];
        } else if let Some(after) = rest.strip_prefix("<?") {
            rest = &after[after.find("?>")? + 2..];
        } else if rest.starts_with("<!") {
            rest = skip_declaration(rest)?;
        } else if let Some(after) = rest.strip_prefix("</") {
            let end = after.find('>')?;
            let name = local_name(after[..end].trim());
            // Tolerate a mismatched close by unwinding to the element it names.
            let position = stack.iter().rposition(|open| *open == name)?;
            if position + 1 == stack.len() {
                let value = std::mem::take(&mut text_buffer);
                let value = value.trim();
                record(&stack, value, &mut project, &mut license_name, &mut license_url);
            }
            if stack.as_slice() == ["project", "licenses", "license"] && position == 2 {
                if let Some(license) = license_name.take().or(license_url.take()) {
                    project.licenses.push(license);
                }
                license_url = None;
            }
            stack.truncate(position);
            text_buffer.clear();
            rest = &after[end + 1..];
        } else {
            let end = tag_end(rest)?;
            let tag = &rest[1..end];
            let self_closing = tag.ends_with('/');
            let name = local_name(tag.trim_end_matches('/').split_whitespace().next().unwrap_or_default());
            if stack.is_empty() {
                if saw_root || name != "project" {
                    return None;
                }
                saw_root = true;
            }
            if !self_closing {
                if stack.len() >= MAX_DEPTH {
                    return None;
                }
                stack.push(name);
            }
            text_buffer.clear();
            rest = &rest[end + 1..];
        }
    }
    saw_root.then_some(project)
}

/// Stores the text of the element that just closed, if it is one we keep.
fn record(
    stack: &[&str],
    value: &str,
    project: &mut PomProject,
    license_name: &mut Option<String>,
    license_url: &mut Option<String>,
) {
    if value.is_empty() {
        return;
    }
    let value = Some(value.to_owned());
    match stack {
        ["project", "groupId"] => project.group_id = value,
        ["project", "artifactId"] => project.artifact_id = value,
        ["project", "version"] => project.version = value,
        ["project", "name"] => project.name = value,
        ["project", "description"] => project.description = value,
        ["project", "url"] => project.url = value,
        ["project", "parent", "groupId"] => project.parent_group_id = value,
        ["project", "parent", "artifactId"] => project.parent_artifact_id = value,
        ["project", "parent", "version"] => project.parent_version = value,
        ["project", "licenses", "license", "name"] => *license_name = value,
        ["project", "licenses", "license", "url"] => *license_url = value,
        _ => {}
    }
}

/// `mvn:project` → `project`.
fn local_name(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// Index of the `>` closing the tag at the start of `text`, skipping
/// quoted attribute values (which may contain `>`).
fn tag_end(text: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (index, c) in text.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(index),
            _ => {}
        }
    }
    None
}

/// Skips `<!DOCTYPE ...>`, including an internal subset in brackets.
fn skip_declaration(text: &str) -> Option<&str> {
    let mut depth = 0usize;
    for (index, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '>' if depth == 0 => return text.get(index + 1..),
            _ => {}
        }
    }
    None
}

/// Appends character data, decoding `&lt;`-style entities and `&#...;`
/// references; an unknown entity is kept as written.
fn decode_into(text: &str, out: &mut String) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|end| *end <= 12).and_then(|end| {
            let entity = &rest[1..end];
            let c = match entity {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let code = match entity.strip_prefix("#x").or_else(|| entity.strip_prefix("#X")) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => entity.strip_prefix('#')?.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties() {
        let p =
            parse_pom_properties(b"#Generated by Maven\n! bang\nversion=2.12.3\ngroupId = g\nartifactId: a\njunk\n");
        assert_eq!((p.group_id.as_str(), p.artifact_id.as_str(), p.version.as_str()), ("g", "a", "2.12.3"));
    }

    #[test]
    fn pom_xml() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE project [ <!ENTITY x "y"> ]>
<!-- a <comment> -->
<project xmlns="http://maven.apache.org/POM/4.0.0" attr='a>b'>
  <parent><groupId>org.apache.commons</groupId><artifactId>commons-parent</artifactId><version>52</version></parent>
  <artifactId>commons-lang3</artifactId>
  <version>3.12.0</version>
  <name>Apache Commons &amp; Lang &#x41;&#66; &unknown;</name>
  <description><![CDATA[<b>bold</b>]]></description>
  <dependencies><dependency><groupId>junit</groupId><version>4</version></dependency></dependencies>
  <licenses>
    <license><name>Apache License, Version 2.0</name><url>https://www.apache.org/licenses/LICENSE-2.0.txt</url></license>
    <license><url>https://example.com/l</url></license>
    <license><comments>none</comments></license>
  </licenses>
  <empty/>
</project>"#;
        let p = parse_pom_xml(xml).unwrap_or_default();
        assert_eq!(p.group_id, None);
        assert_eq!(p.parent_group_id.as_deref(), Some("org.apache.commons"));
        assert_eq!(p.artifact_id.as_deref(), Some("commons-lang3"));
        assert_eq!(p.version.as_deref(), Some("3.12.0"));
        assert_eq!(p.name.as_deref(), Some("Apache Commons & Lang AB &unknown;"));
        assert_eq!(p.description.as_deref(), Some("<b>bold</b>"));
        assert_eq!(p.licenses, ["Apache License, Version 2.0", "https://example.com/l"]);
    }

    #[test]
    fn broken_xml() {
        assert_eq!(
            parse_pom_xml("<project><name>x</name>"),
            Some(PomProject { name: Some("x".into()), ..PomProject::default() })
        );
        assert_eq!(parse_pom_xml("<settings/>"), None);
        assert_eq!(parse_pom_xml("<project><!-- unterminated"), None);
        assert_eq!(parse_pom_xml("<project><![CDATA[x"), None);
        assert_eq!(parse_pom_xml("<project></nothing>"), None);
        assert_eq!(parse_pom_xml("<project/><project/>"), None);
        assert_eq!(parse_pom_xml(""), None);
        assert_eq!(parse_pom_xml(&"<project>".to_owned().repeat(300)), None);
        assert_eq!(parse_pom_xml("<project attr=\"unterminated>"), None);
    }
}
