//! Licences from `/usr/share/doc/<pkg>/copyright`.

use super::deb822;

/// The licence texts Debian's base-files ships in `/usr/share/common-licenses/`
/// (bookworm). Free-form copyright files point at these by path.
const COMMON_LICENSES: &[&str] = &[
    "Apache-2.0",
    "Artistic",
    "BSD",
    "CC0-1.0",
    "GFDL",
    "GFDL-1.2",
    "GFDL-1.3",
    "GPL",
    "GPL-1",
    "GPL-2",
    "GPL-3",
    "LGPL",
    "LGPL-2",
    "LGPL-2.1",
    "LGPL-3",
    "MPL-1.1",
    "MPL-2.0",
];

const COMMON_LICENSES_DIR: &str = "/usr/share/common-licenses/";

/// Lists the licences a package's copyright file declares, deduplicated, in
/// order of first appearance.
///
/// Machine-readable (DEP-5) files give them in `License:` fields. Each
/// field's first line is a short name or an expression such as
/// `GPL-2+ or Artistic-2.0, and BSD-3-clause`; it is split at `or`, `and`
/// and commas into names, because a list of names is what the SBOM holds and
/// the per-paragraph expressions cannot be combined into one for the whole
/// package anyway. `X with Y exception` stays one name. syft instead keeps
/// only the first word of each field (`GPL-2+` for `GPL-2+ or Artistic`),
/// dropping the alternative.
///
/// Free-form files (about a third of Debian's, base-files and libc6 among
/// them) get a conservative heuristic: names of `/usr/share/common-licenses/`
/// files the text refers to by path, limited to the files base-files ships
/// so that prose after a path is never taken for a licence name. syft also
/// reads those references (without the allow-list) plus free-text headings;
/// the headings are left out here as too noisy.
pub fn copyright_licenses(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut found = Vec::new();
    if is_machine_readable(&text) {
        for stanza in deb822::parse(&text).stanzas {
            let Some(license) = stanza.get("License") else { continue };
            let synopsis = license.lines().next().unwrap_or_default();
            for name in split_synopsis(synopsis) {
                push_unique(&mut found, name);
            }
        }
    }
    if found.is_empty() {
        for name in common_license_references(&text) {
            push_unique(&mut found, name.to_owned());
        }
    }
    found
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// A DEP-5 file declares itself in the `Format` field of its first
/// paragraph. The URL has changed over the years (dep5 drafts, http/https,
/// with and without trailing slash), so the recognisable part is matched.
pub fn is_machine_readable(text: &str) -> bool {
    // Only the header paragraph matters, and the body of a free-form file
    // may well contain the word "Format:" further down.
    let text = text.trim_start();
    let header_end = text.find("\n\n").unwrap_or(text.len());
    let header = text.get(..header_end).unwrap_or(text);
    let doc = deb822::parse(header);
    let format = doc.stanzas.first().and_then(|s| s.get("Format").or_else(|| s.get("Format-Specification")));
    format.is_some_and(|url| {
        let url = url.to_ascii_lowercase();
        url.contains("copyright-format") || url.contains("dep5") || url.contains("dep-5")
    })
}

fn split_synopsis(synopsis: &str) -> Vec<String> {
    let mut names = Vec::new();
    for clause in synopsis.split(',') {
        let mut words: Vec<&str> = Vec::new();
        for word in clause.split_whitespace() {
            if word.eq_ignore_ascii_case("or") || word.eq_ignore_ascii_case("and") {
                if !words.is_empty() {
                    names.push(words.join(" "));
                }
                words.clear();
            } else {
                words.push(word);
            }
        }
        if !words.is_empty() {
            names.push(words.join(" "));
        }
    }
    names
}

fn common_license_references(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    for (start, _) in text.match_indices(COMMON_LICENSES_DIR) {
        let tail = text.get(start + COMMON_LICENSES_DIR.len()..).unwrap_or_default();
        let len =
            tail.bytes().take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+')).count();
        let name = tail.get(..len).unwrap_or_default().trim_end_matches('.');
        if let Some(known) = COMMON_LICENSES.iter().find(|known| **known == name) {
            names.push(*known);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dep5_fields_split_and_deduplicated() {
        let text = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: x\n\n\
                    Files: *\nCopyright: me\nLicense: GPL-2+ or Artistic-2.0, and BSD-3-clause\n\n\
                    Files: a/*\nLicense: GPL-3+ with Bison exception\n\n\
                    Files: b/*\nLicense:\n\n\
                    License: GPL-2+\n On Debian systems see /usr/share/common-licenses/GPL-2.\n";
        assert_eq!(
            copyright_licenses(text.as_bytes()),
            ["GPL-2+", "Artistic-2.0", "BSD-3-clause", "GPL-3+ with Bison exception"]
        );
    }

    #[test]
    fn old_format_urls() {
        for url in [
            "http://dep.debian.net/deps/dep5",
            "http://svn.debian.org/wsvn/dep/web/deps/dep5.mdwn?rev=174",
            "http://www.debian.org/doc/packaging-manuals/copyright-format/1.0",
        ] {
            assert!(is_machine_readable(&format!("Format: {url}\n\nFiles: *\nLicense: MIT\n")), "{url}");
        }
        assert!(!is_machine_readable("This is the Debian package.\n\nFormat: https://x/copyright-format/1.0/\n"));
    }

    #[test]
    fn free_form_references() {
        let text = "Licensed under the GPL; see `/usr/share/common-licenses/GPL'.\n\
                    The LGPL is in /usr/share/common-licenses/LGPL-2.1. Again /usr/share/common-licenses/GPL.\n\
                    Unknown: /usr/share/common-licenses/Made-Up and the directory /usr/share/common-licenses/ itself.\n";
        assert_eq!(copyright_licenses(text.as_bytes()), ["GPL", "LGPL-2.1"]);
        assert!(copyright_licenses(b"").is_empty());
        assert!(copyright_licenses(&[0xff, 0xfe, 0x00]).is_empty());
    }
}
