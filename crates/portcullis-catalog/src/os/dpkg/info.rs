//! The per-package files under `/var/lib/dpkg/info/`: `*.list` and `*.md5sums`.

use std::collections::{BTreeMap, BTreeSet};

use portcullis_sbom::OwnedFile;

use super::status::{DpkgEntry, is_md5};

/// Reads `info/<pkg>[:arch].list`: one absolute path per line, directories
/// included, starting with dpkg's `/.` for the root.
///
/// Paths are taken byte-for-byte up to the newline; a name that is not
/// UTF-8 gets U+FFFD replacements (the SBOM model stores paths as strings).
pub fn parse_file_list(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .split('\n')
        .filter(|line| !line.is_empty() && *line != "/." && *line != "/")
        .map(absolute)
        .collect()
}

/// Reads `info/<pkg>[:arch].md5sums` (also `status.d/<pkg>.md5sums` in
/// distroless images): `<md5>  <path relative to />` per line.
///
/// Returns `(absolute path, lower-case hex md5)`. Lines that do not start
/// with 32 hex digits followed by a separator are skipped.
pub fn parse_md5sums(bytes: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(bytes)
        .split('\n')
        .filter_map(|line| {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let hash = line.get(..32).filter(|h| is_md5(h))?;
            let rest = line.get(32..)?;
            // md5sum writes two spaces, or ` *` in binary mode; nothing else
            // may be stripped since a path can start with a space.
            let path =
                rest.strip_prefix("  ").or_else(|| rest.strip_prefix(" *")).or_else(|| rest.strip_prefix(' '))?;
            if path.is_empty() {
                return None;
            }
            Some((absolute(path), hash.to_ascii_lowercase()))
        })
        .collect()
}

fn absolute(path: &str) -> String {
    if path.starts_with('/') { path.to_owned() } else { format!("/{path}") }
}

/// Combines a package's `.list`, `.md5sums` and `Conffiles` into the files
/// it owns, sorted by path.
///
/// The list is the only record of symlinks and of files dpkg does not
/// checksum, but it also names every directory on the way; an entry is
/// taken for a directory when another entry lies beneath it, which drops all
/// but empty directories. md5sums and conffiles supply digests (`md5:<hex>`)
/// and cover packages whose `.list` is missing, as in distroless images.
/// Obsolete conffiles are left out: the package no longer ships them.
pub fn owned_files(entry: &DpkgEntry, list: &[String], md5sums: &[(String, String)]) -> Vec<OwnedFile> {
    let listed: BTreeSet<&str> = list.iter().map(String::as_str).collect();
    let mut files: BTreeMap<String, Option<String>> = BTreeMap::new();
    for path in &listed {
        let prefix = format!("{path}/");
        let is_parent = listed.range(prefix.as_str()..).next().is_some_and(|next| next.starts_with(&prefix));
        if !is_parent {
            files.insert((*path).to_owned(), None);
        }
    }
    for (path, md5) in md5sums {
        files.insert(path.clone(), Some(format!("md5:{md5}")));
    }
    for conffile in entry.conffiles.iter().filter(|c| !c.obsolete) {
        let digest = conffile.md5.as_ref().map(|md5| format!("md5:{md5}"));
        let slot = files.entry(conffile.path.clone()).or_default();
        if slot.is_none() {
            *slot = digest;
        }
    }
    files.into_iter().map(|(path, digest)| OwnedFile { path, digest }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::dpkg::Conffile;

    #[test]
    fn list_and_md5sums() {
        assert_eq!(
            parse_file_list(b"/.\n/usr\n/usr/bin\n/usr/bin/x\n\nrel\n"),
            ["/usr", "/usr/bin", "/usr/bin/x", "/rel"]
        );
        let sums = parse_md5sums(
            b"c7c774d91213e966a04b2e51c787be23  lib/libz.so\r\nC7C774D91213E966A04B2E51C787BE23 */abs path\nshort  x\n\
              c7c774d91213e966a04b2e51c787be23  \nc7c774d91213e966a04b2e51c787be23",
        );
        assert_eq!(
            sums,
            [
                ("/lib/libz.so".to_owned(), "c7c774d91213e966a04b2e51c787be23".to_owned()),
                ("/abs path".to_owned(), "c7c774d91213e966a04b2e51c787be23".to_owned()),
            ]
        );
        assert!(parse_md5sums(&[0xff, 0x00, 0x80]).is_empty());
    }

    #[test]
    fn owned_files_merge() {
        let entry = DpkgEntry {
            name: "p".into(),
            version: "1".into(),
            architecture: None,
            source_name: "p".into(),
            source_version: "1".into(),
            maintainer: None,
            installed_size_kib: None,
            status: None,
            installed: true,
            conffiles: vec![
                Conffile { path: "/etc/p.conf".into(), md5: Some("0".repeat(32)), obsolete: false },
                Conffile { path: "/etc/old.conf".into(), md5: Some("1".repeat(32)), obsolete: true },
            ],
        };
        let list: Vec<String> = [
            "/etc",
            "/etc/p.conf",
            "/usr",
            "/usr/lib",
            "/usr/lib-extra",
            "/usr/lib/libp.so",
            "/usr/lib/libp.so.1",
            "/var/empty",
        ]
        .map(str::to_owned)
        .to_vec();
        let md5sums = vec![
            ("/usr/lib/libp.so.1".to_owned(), "a".repeat(32)),
            ("/usr/share/doc/p/copyright".to_owned(), "b".repeat(32)),
        ];
        let files = owned_files(&entry, &list, &md5sums);
        let got: Vec<(&str, Option<&str>)> = files.iter().map(|f| (f.path.as_str(), f.digest.as_deref())).collect();
        let a = format!("md5:{}", "a".repeat(32));
        let b = format!("md5:{}", "b".repeat(32));
        let zero = format!("md5:{}", "0".repeat(32));
        assert_eq!(
            got,
            [
                ("/etc/p.conf", Some(zero.as_str())),
                ("/usr/lib-extra", None),
                ("/usr/lib/libp.so", None),
                ("/usr/lib/libp.so.1", Some(a.as_str())),
                ("/usr/share/doc/p/copyright", Some(b.as_str())),
                ("/var/empty", None),
            ]
        );
    }
}
