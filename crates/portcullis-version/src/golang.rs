//! Go module versions and Go toolchain (standard library) versions.
//!
//! Module versions follow golang.org/x/mod/semver: `v1.2.3`, the shorthands
//! `v1` and `v1.2` (`v1.0.0`, `v1.2.0`), build metadata such as `+incompatible`
//! ignored, and pseudo-versions (`v0.0.0-20191109021931-daa7c04131f5`,
//! `v1.2.4-0.20191109021931-daa7c04131f5`), which are ordinary pre-releases and
//! order by their timestamps. The `v` is optional because OSV's Go data (and
//! its `introduced: "0"`) writes versions without it. Numbers may be of any
//! length, as in Go.
//!
//! Toolchain versions as SBOMs report the standard library (`go1.21.3`,
//! `go1.21rc2`, `go1.20`) are read as the SemVer that OSV's Go feed uses for
//! it: `go1.21rc2` is `1.21.0-rc.2`, `go1.20` is `1.20.0`.
//!
//! Requirements are operator lists (`>= v1.2.0, < v1.3.0`), see [`crate::constraint`].

use std::cmp::Ordering;

use crate::{Scheme, VersionError, constraint};

pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(GoVersion::parse(a)?.cmp(&GoVersion::parse(b)?))
}

pub fn satisfies(version: &str, requirement: &str) -> Result<bool, VersionError> {
    constraint::satisfies_with(version, requirement, Scheme::Go, compare)
}

/// A parsed version; every part borrows from the input or is a literal.
#[derive(Debug, PartialEq, Eq)]
struct GoVersion<'a> {
    /// Major, minor, patch: ASCII digits without leading zeros, of any length.
    core: [&'a str; 3],
    /// Dot-separated pre-release identifiers; empty for a release.
    prerelease: Vec<&'a str>,
}

impl<'a> GoVersion<'a> {
    fn parse(text: &'a str) -> Result<Self, VersionError> {
        let trimmed = text.trim();
        let parsed = match trimmed.strip_prefix("go") {
            Some(toolchain) => parse_toolchain(toolchain),
            None => {
                let bare = trimmed.strip_prefix('v').unwrap_or(trimmed);
                // `1.21rc2` is a toolchain version written without `go`.
                parse_module(bare).or_else(|reason| parse_toolchain(bare).map_err(|_| reason))
            }
        };
        parsed.map_err(|reason| VersionError::version(Scheme::Go, text, reason))
    }
}

impl Ord for GoVersion<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        let core = self.core.iter().zip(other.core).map(|(a, b)| compare_numbers(a, b));
        core.fold(Ordering::Equal, Ordering::then)
            .then_with(|| compare_prereleases(&self.prerelease, &other.prerelease))
    }
}

impl PartialOrd for GoVersion<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// `MAJOR[.MINOR[.PATCH[-PRERELEASE][+BUILD]]]`, golang.org/x/mod/semver's grammar without the `v`.
fn parse_module(text: &str) -> Result<GoVersion<'_>, String> {
    let (core_text, build) = match text.split_once('+') {
        Some((core, build)) => (core, Some(build)),
        None => (text, None),
    };
    let (numbers, prerelease_text) = match core_text.split_once('-') {
        Some((numbers, prerelease)) => (numbers, Some(prerelease)),
        None => (core_text, None),
    };
    let mut parts = numbers.split('.');
    let major = parse_number(parts.next().unwrap_or_default(), "major")?;
    let minor = parts.next().map(|minor| parse_number(minor, "minor")).transpose()?;
    let patch = parts.next().map(|patch| parse_number(patch, "patch")).transpose()?;
    if parts.next().is_some() {
        return Err("more than three version numbers".into());
    }
    if patch.is_none() && (prerelease_text.is_some() || build.is_some()) {
        return Err("the shorthands vMAJOR and vMAJOR.MINOR take no pre-release or build suffix".into());
    }
    let prerelease = match prerelease_text {
        Some(prerelease) => identifiers(prerelease, "pre-release")?,
        None => Vec::new(),
    };
    for identifier in &prerelease {
        if is_numeric(identifier) && identifier.len() > 1 && identifier.starts_with('0') {
            return Err(format!("numeric pre-release identifier {identifier:?} has a leading zero"));
        }
    }
    if let Some(build) = build {
        identifiers(build, "build")?;
    }
    Ok(GoVersion { core: [major, minor.unwrap_or("0"), patch.unwrap_or("0")], prerelease })
}

/// `MAJOR[.MINOR[.PATCH]]` or `MAJOR.MINOR<kind>[N]` (`1.21rc2`), the grammar of Go's own
/// toolchain versions (go/version); the kind is lower-case letters.
fn parse_toolchain(text: &str) -> Result<GoVersion<'_>, String> {
    let mut parts = text.splitn(3, '.');
    let major = parse_number(parts.next().unwrap_or_default(), "major")?;
    let Some(minor_text) = parts.next() else {
        return Ok(GoVersion { core: [major, "0", "0"], prerelease: Vec::new() });
    };
    if let Some(patch) = parts.next() {
        let patch = parse_number(patch, "patch")?;
        return Ok(GoVersion { core: [major, parse_number(minor_text, "minor")?, patch], prerelease: Vec::new() });
    }
    let kind_start = minor_text.find(|c: char| !c.is_ascii_digit()).unwrap_or(minor_text.len());
    let (minor, suffix) = minor_text.split_at(kind_start);
    let minor = parse_number(minor, "minor")?;
    let kind_end = suffix.find(|c: char| !c.is_ascii_lowercase()).unwrap_or(suffix.len());
    let (kind, number) = suffix.split_at(kind_end);
    let prerelease = match (kind, number) {
        ("", "") => Vec::new(),
        ("", _) => return Err(format!("unexpected {suffix:?} after the minor version")),
        (kind, "") => vec![kind],
        (kind, number) => vec![kind, parse_number(number, "pre-release")?],
    };
    Ok(GoVersion { core: [major, minor, "0"], prerelease })
}

fn parse_number<'a>(text: &'a str, what: &str) -> Result<&'a str, String> {
    if text.is_empty() || !is_numeric(text) {
        return Err(format!("{what} version {text:?} is not a number"));
    }
    if text.len() > 1 && text.starts_with('0') {
        return Err(format!("{what} version {text:?} has a leading zero"));
    }
    Ok(text)
}

/// Dot-separated, non-empty identifiers of ASCII letters, digits and hyphens.
fn identifiers<'a>(text: &'a str, what: &str) -> Result<Vec<&'a str>, String> {
    text.split('.')
        .map(|identifier| {
            if identifier.is_empty() {
                Err(format!("empty {what} identifier in {text:?}"))
            } else if !identifier.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                Err(format!("{what} identifier {identifier:?} has a character other than [0-9A-Za-z-]"))
            } else {
                Ok(identifier)
            }
        })
        .collect()
}

fn is_numeric(text: &str) -> bool {
    text.bytes().all(|byte| byte.is_ascii_digit())
}

/// Digit strings without leading zeros: the longer is the larger, then digit by digit.
fn compare_numbers(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// SemVer 2.0 precedence: a release is above its pre-releases; identifiers
/// compare numerically when both are numbers, numbers sort below words, and a
/// longer list wins when one is a prefix of the other.
fn compare_prereleases(a: &[&str], b: &[&str]) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        (false, false) => {}
    }
    for (x, y) in a.iter().zip(b) {
        let ordering = match (is_numeric(x), is_numeric(y)) {
            (true, true) => compare_numbers(x, y),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => x.cmp(y),
        };
        if ordering.is_ne() {
            return ordering;
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_module_versions_like_x_mod_semver() {
        let ascending = [
            "v0.0.0-20191109021931-daa7c04131f5",
            "v0.0.0-20200101000000-0123456789ab",
            "v0.0.0",
            "v1.0.0-alpha",
            "v1.0.0-alpha.1",
            "v1.0.0-alpha.beta",
            "v1.0.0-beta.2",
            "v1.0.0-beta.11",
            "v1.0.0-rc.1",
            "v1.0.0",
            "v1.2.3",
            "v1.2.4-0.20191109021931-daa7c04131f5",
            "v1.2.4",
            "v1.10.0",
            "v2.0.0+incompatible",
            "v2.0.1",
            "v123456789012345678901234567890.0.0",
        ];
        for pair in ascending.windows(2) {
            assert_eq!(compare(pair[0], pair[1]), Ok(Ordering::Less), "{pair:?}");
            assert_eq!(compare(pair[1], pair[0]), Ok(Ordering::Greater), "{pair:?}");
        }
        for (a, b) in [
            ("v1", "v1.0.0"),
            ("v1.2", "1.2.0"),
            ("0", "v0.0.0"),
            ("v2.0.0+incompatible", "v2.0.0"),
            ("v1.0.0+build.1", "v1.0.0+other"),
        ] {
            assert_eq!(compare(a, b), Ok(Ordering::Equal), "{a} {b}");
        }
    }

    #[test]
    fn reads_toolchain_versions_as_osv_semver() {
        for (toolchain, semver) in [
            ("go1.21rc2", "1.21.0-rc.2"),
            ("1.21rc2", "v1.21.0-rc.2"),
            ("go1.20", "1.20.0"),
            ("go1.21.3", "v1.21.3"),
            ("go1.9beta1", "1.9.0-beta.1"),
            ("go1", "1.0.0"),
        ] {
            assert_eq!(compare(toolchain, semver), Ok(Ordering::Equal), "{toolchain} {semver}");
        }
        let ascending = ["go1.20.14", "go1.21beta1", "go1.21rc2", "go1.21rc10", "go1.21.0", "go1.21.3", "go1.22"];
        for pair in ascending.windows(2) {
            assert_eq!(compare(pair[0], pair[1]), Ok(Ordering::Less), "{pair:?}");
        }
    }

    #[test]
    fn rejects_what_go_rejects() {
        for invalid in [
            "",
            "v",
            "go",
            "vx.y.z",
            "v01.2.3",
            "v1.02.3",
            "v1.2.3.4",
            "v1.2-pre",
            "v1+build",
            "v1.2.3-",
            "v1.2.3-01",
            "v1.2.3-a..b",
            "v1.2.3-a_b",
            "v1.2.3+",
            "v1.2.3+a+b",
            "go1.21RC2",
            "go1.21.3rc1",
            "go1.21rc02",
            "1.21-rc2x",
        ] {
            assert!(matches!(compare(invalid, "v1.0.0"), Err(VersionError::InvalidVersion { .. })), "{invalid:?}");
        }
    }

    #[test]
    fn satisfies_operator_lists() {
        let cases = [
            ("v1.2.5", ">= v1.2.0, < v1.3.0", true),
            ("1.3.0", ">= v1.2.0, < v1.3.0", false),
            ("v1.3.0-0.20200101000000-0123456789ab", "< v1.3.0", true),
            ("v2.0.0+incompatible", "= 2.0.0", true),
            ("v2.0.0+incompatible", "!= v2.0.0", false),
            ("go1.21rc2", ">=1.21.0-0 <1.21.1", true),
            ("go1.20.14", ">=1.21.0-0 <1.21.1", false),
            ("v0.1.0", ">=0", true),
        ];
        for (version, requirement, expected) in cases {
            assert_eq!(satisfies(version, requirement), Ok(expected), "{version} {requirement}");
        }
        assert!(matches!(satisfies("v1.0.0", ">= v1.x"), Err(VersionError::InvalidVersion { .. })));
        assert!(satisfies("v1.x", ">= v1.0.0").is_err());
    }
}
