//! Phrases and facts that several formats show the same way.

use portcullis_match::Finding;
use portcullis_sbom::Sbom;
use portcullis_vulndb::{FixState, Severity};

/// Severities from the most to the least severe, for summaries.
pub(crate) const SEVERITIES_DESCENDING: [Severity; 6] =
    [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Negligible, Severity::Unknown];

/// What was scanned, as a user would name it: the image reference it was
/// pulled by, else the input as given.
pub(crate) fn source_name(sbom: &Sbom) -> String {
    sbom.source
        .image
        .as_ref()
        .and_then(|image| image.references.first())
        .cloned()
        .unwrap_or_else(|| sbom.source.input.clone())
}

/// `fixed in 1.2, 1.3`, `no fix yet`, ...
pub(crate) fn fix_phrase(finding: &Finding) -> String {
    match finding.state {
        FixState::Fixed if !finding.fixed_in.is_empty() => format!("fixed in {}", finding.fixed_in.join(", ")),
        FixState::Fixed => "a fix exists".to_owned(),
        FixState::NotFixed => "no fix yet".to_owned(),
        FixState::WontFix => "the publisher will not fix it".to_owned(),
        FixState::NotAffected => "the publisher says it is not affected".to_owned(),
        FixState::Unknown => "fix state unknown".to_owned(),
    }
}

/// `CVE-2024-0727 in openssl 3.0.9-1 (deb)`.
pub(crate) fn finding_title(finding: &Finding) -> String {
    format!("{} in {} {} ({})", finding.id, finding.package.name, finding.package.version, finding.package.package_type)
}

/// `CVE-2024-0727 in openssl 3.0.9-1 (deb), fixed in 3.0.13-1~deb12u1; found at /var/lib/dpkg/status`.
pub(crate) fn finding_sentence(finding: &Finding) -> String {
    let mut sentence = format!("{}, {}", finding_title(finding), fix_phrase(finding));
    if let Some(location) = finding.package.locations.first() {
        sentence.push_str("; found at ");
        sentence.push_str(location);
    }
    sentence
}

/// The highest CVSS base score any scorer gave.
pub(crate) fn best_base_score(finding: &Finding) -> Option<f64> {
    finding.cvss.iter().filter_map(|c| c.base_score).filter(|s| s.is_finite()).reduce(f64::max)
}

/// `KEV` for a CVE in CISA's catalogue, else `epss 0.42`, else nothing.
pub(crate) fn exploitation(finding: &Finding) -> Option<String> {
    if finding.kev.is_some() {
        return Some("KEV".to_owned());
    }
    let score = finding.epss.as_ref()?.score;
    // Two decimals would show a 0.3% probability as a misleading `0.00`.
    Some(if score < 0.005 { "epss <0.01".to_owned() } else { format!("epss {score:.2}") })
}

/// Whether `text` is an absolute http(s) URL that URI validators accept:
/// ASCII only, no blanks or characters that must be escaped, `%` followed by
/// two hex digits. Feeds carry the odd malformed reference; such links are
/// left out rather than making a document invalid.
pub(crate) fn is_web_url(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://")) else {
        return false;
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if rest.get(..host_end).is_none_or(str::is_empty) {
        return false;
    }
    let bytes = rest.as_bytes();
    bytes.iter().enumerate().all(|(i, &b)| match b {
        b'%' => bytes.get(i + 1..i + 3).is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)),
        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => true,
        _ => b"-._~:/?#@!$&'()*+,;=".contains(&b),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_urls_are_checked_strictly() {
        assert!(is_web_url("https://nvd.nist.gov/vuln/detail/CVE-2023-4911"));
        assert!(is_web_url("http://lists.opensuse.org/opensuse-security-announce/2020-04/msg00017.html"));
        assert!(is_web_url("https://sourceware.org/git/?p=glibc.git;a=commit;h=1056e5b4"));
        assert!(is_web_url("https://example.com/a%20b"));
        assert!(!is_web_url("https://example.com/a b"), "a blank");
        assert!(!is_web_url("https://example.com/%zz"), "a bad escape");
        assert!(!is_web_url("https://example.com/ä"), "not ASCII");
        assert!(!is_web_url("https:///path"), "no host");
        assert!(!is_web_url("ftp://example.com/"));
        assert!(!is_web_url("www.example.com"));
    }
}
