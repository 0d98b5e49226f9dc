//! JUnit XML in the dialect Jenkins and GitLab read: one test suite named
//! after the scanned image, one test case per finding.
//!
//! With a gate, the findings that fail it are failures (their severity as the
//! failure type) and the others pass with their details as `system-out`;
//! without one, every finding is a failure. Ignored findings are skipped
//! with the reason; a scan without findings is one passing test case.
//!
//! [`write_suite`] is shared with the policy evaluation's JUnit report.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write as _;

use portcullis_match::Finding;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use crate::text::{finding_sentence, finding_title, fix_phrase, source_name};
use crate::{ReportError, ScanReport, TOOL_VERSION};

pub(crate) enum Outcome {
    /// `<failure>`: the test ran and found something that fails the build.
    Failure {
        message: String,
        kind: &'static str,
        details: String,
    },
    /// `<error>`: the test could not run.
    Error {
        message: String,
        kind: &'static str,
        details: String,
    },
    Passed {
        output: String,
    },
    Skipped {
        reason: String,
    },
}

pub(crate) struct Case {
    pub classname: String,
    pub name: String,
    pub outcome: Outcome,
}

/// One test suite, inside the `testsuites` element every reader accepts.
pub(crate) struct Suite {
    pub name: String,
    /// `<property>`s after `portcullis.version`.
    pub properties: Vec<(&'static str, String)>,
    pub cases: Vec<Case>,
}

pub(crate) fn render(report: &ScanReport<'_>) -> Result<String, ReportError> {
    let suite = source_name(report.sbom);
    let failing: Option<HashSet<&str>> = report.gate.map(|gate| gate.failing.iter().map(String::as_str).collect());
    let mut cases = Vec::new();
    for finding in &report.result.findings {
        let key = format!("{} {}", finding.id, finding.package.id);
        let fails = failing.as_ref().is_none_or(|failing| failing.contains(key.as_str()));
        let outcome = if fails {
            Outcome::Failure {
                message: finding_sentence(finding),
                kind: finding.severity.as_str(),
                details: details(finding),
            }
        } else {
            Outcome::Passed { output: details(finding) }
        };
        cases.push(case(finding, outcome));
    }
    for ignored in &report.result.ignored {
        let reason = format!("ignored ({}): {}", ignored.by, ignored.reason);
        cases.push(case(&ignored.finding, Outcome::Skipped { reason }));
    }
    if report.result.findings.is_empty() {
        let packages = report.result.summary.packages;
        cases.push(Case {
            classname: suite.clone(),
            name: "no vulnerabilities found".to_owned(),
            outcome: Outcome::Passed { output: format!("no vulnerabilities found in {packages} packages") },
        });
    }
    let mut properties = Vec::new();
    if let Some(gate) = report.gate {
        let verdict = if gate.passed { "passed" } else { "FAILED" };
        properties.push(("portcullis.gate", format!("{verdict}: {}", gate.reason)));
    }
    write_suite(&Suite { name: suite, properties, cases })
}

/// The JUnit document of `suite`, ending with a line break.
pub(crate) fn write_suite(suite: &Suite) -> Result<String, ReportError> {
    let count = |counted: fn(&Outcome) -> bool| suite.cases.iter().filter(|c| counted(&c.outcome)).count().to_string();
    let failures = count(|o| matches!(o, Outcome::Failure { .. }));
    let errors = count(|o| matches!(o, Outcome::Error { .. }));
    let skipped = count(|o| matches!(o, Outcome::Skipped { .. }));
    let tests = suite.cases.len().to_string();
    let counts = [
        ("tests", tests.as_str()),
        ("failures", failures.as_str()),
        ("errors", errors.as_str()),
        ("skipped", skipped.as_str()),
    ];

    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None))).map_err(ReportError::Xml)?;
    writer
        .create_element("testsuites")
        .with_attribute(("name", "portcullis"))
        .with_attributes(counts)
        .with_attribute(("time", "0"))
        .write_inner_content(|w| {
            w.create_element("testsuite")
                .with_attribute(("name", xml_safe(&suite.name).as_ref()))
                .with_attributes(counts)
                .with_attribute(("time", "0"))
                .write_inner_content(|w| {
                    write_properties(w, &suite.properties)?;
                    for case in &suite.cases {
                        write_case(w, case)?;
                    }
                    Ok(())
                })?;
            Ok(())
        })
        .map_err(ReportError::Xml)?;
    let mut xml = String::from_utf8_lossy(&writer.into_inner()).into_owned();
    xml.push('\n');
    Ok(xml)
}

fn case(finding: &Finding, outcome: Outcome) -> Case {
    let package = &finding.package;
    Case {
        classname: if package.purl.is_empty() { package.id.clone() } else { package.purl.clone() },
        name: format!("{} in {}@{}", finding.id, package.name, package.version),
        outcome,
    }
}

fn write_properties(writer: &mut Writer<Vec<u8>>, extra: &[(&'static str, String)]) -> std::io::Result<()> {
    writer.create_element("properties").write_inner_content(|w| {
        let version = ("portcullis.version", TOOL_VERSION.to_owned());
        for (name, value) in std::iter::once(&version).chain(extra) {
            w.create_element("property")
                .with_attribute(("name", *name))
                .with_attribute(("value", xml_safe(value).as_ref()))
                .write_empty()?;
        }
        Ok(())
    })?;
    Ok(())
}

fn write_case(writer: &mut Writer<Vec<u8>>, case: &Case) -> std::io::Result<()> {
    writer
        .create_element("testcase")
        .with_attribute(("classname", xml_safe(&case.classname).as_ref()))
        .with_attribute(("name", xml_safe(&case.name).as_ref()))
        .with_attribute(("time", "0"))
        .write_inner_content(|w| {
            match &case.outcome {
                Outcome::Failure { message, kind, details } => write_problem(w, "failure", message, kind, details)?,
                Outcome::Error { message, kind, details } => write_problem(w, "error", message, kind, details)?,
                Outcome::Passed { output } => {
                    w.create_element("system-out").write_text_content(BytesText::new(&xml_safe(output)))?;
                }
                Outcome::Skipped { reason } => {
                    w.create_element("skipped").with_attribute(("message", xml_safe(reason).as_ref())).write_empty()?;
                }
            }
            Ok(())
        })?;
    Ok(())
}

/// A `<failure>` or `<error>` element.
fn write_problem(
    writer: &mut Writer<Vec<u8>>,
    element: &str,
    message: &str,
    kind: &str,
    details: &str,
) -> std::io::Result<()> {
    writer
        .create_element(element)
        .with_attribute(("message", xml_safe(message).as_ref()))
        .with_attribute(("type", kind))
        .write_text_content(BytesText::new(&xml_safe(details)))?;
    Ok(())
}

/// Everything a CI user needs to act on one finding, one fact per line.
fn details(finding: &Finding) -> String {
    let mut text = finding_title(finding);
    let _ = write!(
        text,
        "\nseverity: {} ({}), risk {:.1}\nfix: {}",
        finding.severity.as_str(),
        finding.severity_source,
        finding.risk,
        fix_phrase(finding)
    );
    let mut exploitation = Vec::new();
    if let Some(kev) = &finding.kev {
        exploitation.push(format!("in CISA KEV since {}", kev.date_added));
    }
    if let Some(epss) = &finding.epss {
        exploitation.push(format!("EPSS {:.4} (percentile {:.4})", epss.score, epss.percentile));
    }
    if !exploitation.is_empty() {
        let _ = write!(text, "\nexploitation: {}", exploitation.join("; "));
    }
    if let Some(summary) = finding.summary.as_ref().or(finding.description.as_ref()) {
        let _ = write!(text, "\nsummary: {summary}");
    }
    if !finding.package.locations.is_empty() {
        let _ = write!(text, "\nfound at: {}", finding.package.locations.join(", "));
    }
    for evidence in &finding.evidence {
        let _ = write!(text, "\nmatched: {} ({}): {}", evidence.record, evidence.source, evidence.comparison);
    }
    for url in &finding.urls {
        let _ = write!(text, "\nsee: {url}");
    }
    text
}

/// XML 1.0 cannot carry most control characters, even escaped: they become U+FFFD.
fn xml_safe(text: &str) -> Cow<'_, str> {
    let allowed =
        |c: char| !matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}');
    if text.chars().all(allowed) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().map(|c| if allowed(c) { c } else { '\u{FFFD}' }).collect())
    }
}
