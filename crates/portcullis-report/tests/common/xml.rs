//! A small XML reader for the JUnit reports: elements with their
//! attributes, children and text, entities resolved.

use std::collections::BTreeMap;

use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};

/// An element of a parsed XML document.
#[derive(Debug, Default)]
pub struct Element {
    pub name: String,
    pub attributes: BTreeMap<String, String>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn attr(&self, name: &str) -> &str {
        self.attributes.get(name).map(String::as_str).unwrap_or_else(|| panic!("no {name} on {}", self.name))
    }

    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }
}

pub fn parse_xml(text: &str) -> Element {
    let mut reader = Reader::from_str(text);
    let mut stack = vec![Element::default()];
    let element = |start: &quick_xml::events::BytesStart<'_>| Element {
        name: start.name().as_ref().to_owned(),
        attributes: start
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                (a.key.as_ref().to_owned(), a.normalized_value(XmlVersion::Implicit1_0).unwrap().into_owned())
            })
            .collect(),
        ..Element::default()
    };
    loop {
        match reader.read_event().unwrap() {
            Event::Start(start) => stack.push(element(&start)),
            Event::Empty(start) => stack.last_mut().unwrap().children.push(element(&start)),
            Event::Text(t) => stack.last_mut().unwrap().text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_xml_entity(&r).unwrap().to_owned(),
                };
                stack.last_mut().unwrap().text.push_str(&resolved);
            }
            Event::End(_) => {
                let done = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(done);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "every element closed");
    stack.pop().unwrap().children.pop().unwrap()
}
