//! A small XML element tree over `quick-xml` events, and an escaping writer.
//!
//! DOCTYPE declarations are refused (no entity expansion of any kind), only
//! the five predefined entities and character references are resolved, and
//! nesting is capped, so hostile input ends in an error, never a panic.

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// Nesting depth beyond which a document is refused.
pub(crate) const MAX_DEPTH: usize = 128;

#[derive(Debug, Default)]
pub(crate) struct Element {
    /// Namespace URI, if the element is in one.
    pub namespace: Option<String>,
    /// Local name (without prefix).
    pub name: String,
    /// Attributes by local name, values unescaped.
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// Text content directly inside the element (not its children's).
    pub text: String,
}

impl Element {
    pub(crate) fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub(crate) fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Trimmed text of the named child, if present and not empty.
    pub(crate) fn child_text(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text.trim().to_owned()).filter(|t| !t.is_empty())
    }
}

/// A parse failure at a byte offset.
#[derive(Debug)]
pub(crate) struct XmlError {
    pub offset: usize,
    pub message: String,
}

fn error(offset: u64, message: impl Into<String>) -> XmlError {
    XmlError { offset: usize::try_from(offset).unwrap_or(usize::MAX), message: message.into() }
}

/// Parses a whole document into its root element.
pub(crate) fn parse(text: &str) -> Result<Element, XmlError> {
    parse_inner(text, false)
}

/// Parses only up to the root's start tag (name, namespace and attributes; no children).
pub(crate) fn parse_root(text: &str) -> Result<Element, XmlError> {
    parse_inner(text, true)
}

fn parse_inner(text: &str, root_only: bool) -> Result<Element, XmlError> {
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let position = reader.buffer_position();
        let (resolved, event) = match reader.read_resolved_event() {
            Ok(resolved) => resolved,
            Err(e) => {
                let message = e.to_string();
                return Err(error(reader.error_position(), message));
            }
        };
        let namespace = match resolved {
            ResolveResult::Bound(ns) => Some(AsRef::<str>::as_ref(&ns).to_owned()),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(prefix) => {
                return Err(error(position, format!("undeclared namespace prefix `{prefix}`")));
            }
        };
        match event {
            Event::Start(start) => {
                let element = open_element(&start, namespace, position, &stack, root.is_some())?;
                if root_only && stack.is_empty() {
                    return Ok(element);
                }
                stack.push(element);
            }
            Event::Empty(start) => {
                let element = open_element(&start, namespace, position, &stack, root.is_some())?;
                if root_only && stack.is_empty() {
                    return Ok(element);
                }
                stack.push(element);
                close(&mut stack, &mut root);
            }
            Event::End(_) => close(&mut stack, &mut root),
            Event::Text(content) => {
                let content = content.xml10_content();
                match stack.last_mut() {
                    Some(current) => current.text.push_str(&content),
                    None if content.trim().is_empty() => {}
                    None => return Err(error(position, "text outside the root element")),
                }
            }
            Event::CData(content) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&content.xml10_content());
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = if reference.is_char_ref() {
                    match reference.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => return Err(error(position, format!("invalid character reference &{};", &*reference))),
                    }
                } else {
                    match &*reference {
                        "amp" => "&".to_owned(),
                        "lt" => "<".to_owned(),
                        "gt" => ">".to_owned(),
                        "quot" => "\"".to_owned(),
                        "apos" => "'".to_owned(),
                        other => return Err(error(position, format!("undefined entity &{other};"))),
                    }
                };
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&resolved);
                }
            }
            Event::DocType(_) => return Err(error(position, "DOCTYPE declarations are not allowed")),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(error(position, format!("document ends inside <{}>", open.name)));
                }
                return root.ok_or_else(|| error(position, "no root element"));
            }
        }
    }
}

fn open_element(
    start: &BytesStart<'_>,
    namespace: Option<String>,
    position: u64,
    stack: &[Element],
    have_root: bool,
) -> Result<Element, XmlError> {
    let name = start.local_name().as_ref().to_owned();
    if have_root && stack.is_empty() {
        return Err(error(position, format!("a second root element <{name}>")));
    }
    if stack.len() >= MAX_DEPTH {
        return Err(error(position, format!("elements nested more than {MAX_DEPTH} deep")));
    }
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| error(position, format!("in <{name}>: {e}")))?;
        let key = attribute.key;
        if key.as_ref() == "xmlns" || key.prefix().is_some_and(|p| p.as_ref() == "xmlns") {
            continue;
        }
        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| error(position, format!("in <{name}> attribute: {e}")))?
            .into_owned();
        attributes.push((key.local_name().as_ref().to_owned(), value));
    }
    Ok(Element { namespace, name, attributes, children: Vec::new(), text: String::new() })
}

fn close(stack: &mut Vec<Element>, root: &mut Option<Element>) {
    // quick-xml checks that end tags match their start tags.
    if let Some(element) = stack.pop() {
        match stack.last_mut() {
            Some(parent) => parent.children.push(element),
            None => *root = Some(element),
        }
    }
}

/// Builds an indented XML document, escaping text and attribute values and
/// replacing characters XML 1.0 cannot carry (most C0 controls) with U+FFFD.
pub(crate) struct Writer {
    out: String,
    depth: usize,
}

impl Writer {
    pub(crate) fn new() -> Self {
        Self { out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"), depth: 0 }
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn open_tag(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attributes {
            self.out.push(' ');
            self.out.push_str(key);
            self.out.push_str("=\"");
            escape_into(&mut self.out, value, true);
            self.out.push('"');
        }
    }

    /// `<name attr="...">` followed by children, closed by [`Writer::end`].
    pub(crate) fn start(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.open_tag(name, attributes);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    pub(crate) fn end(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    /// `<name attr="...">text</name>`.
    pub(crate) fn text_element(&mut self, name: &str, attributes: &[(&str, &str)], text: &str) {
        self.open_tag(name, attributes);
        self.out.push('>');
        escape_into(&mut self.out, text, false);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    /// `<name attr="..."/>`.
    pub(crate) fn empty(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.open_tag(name, attributes);
        self.out.push_str("/>\n");
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }
}

/// Attribute values keep tabs and line breaks as character references (a
/// parser would normalise literal ones to spaces).
fn escape_into(out: &mut String, text: &str, attribute: bool) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' | '\n' => out.push(c),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_namespaces_entities_and_rejects_doctype() {
        let root = parse(r#"<?xml version="1.0"?><b:bom xmlns:b="urn:x" v="1 &amp; 2"><b:a>x &lt; y&#65;<![CDATA[<z>]]></b:a><c/></b:bom>"#)
            .unwrap();
        assert_eq!((root.namespace.as_deref(), root.name.as_str()), (Some("urn:x"), "bom"));
        assert_eq!(root.attribute("v"), Some("1 & 2"));
        assert_eq!(root.child_text("a").as_deref(), Some("x < yA<z>"));
        assert_eq!(root.children.len(), 2);
        assert!(parse(r#"<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>"#).unwrap_err().message.contains("DOCTYPE"));
        assert!(parse("<x>&nope;</x>").unwrap_err().message.contains("undefined entity"));
        assert!(parse("<x><y></x>").is_err());
        assert!(parse("<x>").unwrap_err().message.contains("ends inside"));
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).unwrap_err().message.contains("nested"));
    }

    #[test]
    fn writer_escapes() {
        let mut w = Writer::new();
        w.text_element("n", &[("a", "\"<&>\n")], "x\u{1}y & \"z\"");
        let text = w.finish();
        assert!(text.contains("<n a=\"&quot;&lt;&amp;&gt;&#10;\">x\u{FFFD}y &amp; \"z\"</n>"), "{text}");
        let parsed = parse(&text).unwrap();
        assert_eq!(parsed.text, "x\u{FFFD}y & \"z\"");
        assert_eq!(parsed.attribute("a"), Some("\"<&>\n"));
    }
}
