//! Rust crate versions (SemVer 2.0) and Cargo version requirements (`^1.2`,
//! `~1.2`, `>=0.2.23`, `=0.2.0`, `1.2.*`, comma-separated clauses that must all
//! hold), through the semver crate that Cargo itself uses. RustSec advisories
//! write their `patched`/`unaffected` entries in this syntax (`>= 0.2.23`).

use std::cmp::Ordering;

use semver::{Version, VersionReq};

use crate::{Scheme, VersionError};

/// SemVer precedence: build metadata is ignored (semver's `Ord` would use it as a tie-break).
pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(parse_version(a)?.cmp_precedence(&parse_version(b)?))
}

/// Cargo's matching: a pre-release only meets a requirement with a comparator
/// naming a pre-release of the same `major.minor.patch`.
pub fn satisfies(version: &str, requirement: &str) -> Result<bool, VersionError> {
    let requirement_text = requirement.trim();
    let parsed = VersionReq::parse(requirement_text)
        .map_err(|error| VersionError::requirement(Scheme::Cargo, requirement, error.to_string()))?;
    Ok(parsed.matches(&parse_version(version)?))
}

fn parse_version(text: &str) -> Result<Version, VersionError> {
    Version::parse(text.trim()).map_err(|error| VersionError::version(Scheme::Cargo, text, error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_semver_precedence() {
        let ascending = [
            "0.2.22",
            "0.2.23-alpha",
            "0.2.23-alpha.1",
            "0.2.23-alpha.beta",
            "0.2.23-beta.2",
            "0.2.23-beta.11",
            "0.2.23-rc.1",
            "0.2.23",
            "0.10.0",
            "1.0.0",
        ];
        for pair in ascending.windows(2) {
            assert_eq!(compare(pair[0], pair[1]), Ok(Ordering::Less), "{pair:?}");
            assert_eq!(compare(pair[1], pair[0]), Ok(Ordering::Greater), "{pair:?}");
        }
        assert_eq!(compare("1.0.0+build.1", "1.0.0+build.2"), Ok(Ordering::Equal));
        assert_eq!(compare(" 1.0.0", "1.0.0"), Ok(Ordering::Equal));
    }

    #[test]
    fn matches_cargo_requirements() {
        let cases = [
            ("1.2.9", "^1.2", true),
            ("2.0.0", "^1.2", false),
            ("0.2.9", "^0.2.3", true),
            ("0.3.0", "^0.2.3", false),
            ("0.0.4", "^0.0.3", false),
            ("1.2.9", "~1.2", true),
            ("1.3.0", "~1.2", false),
            ("0.2.23", ">= 0.2.23", true),
            ("0.2.22", ">= 0.2.23", false),
            ("0.2.0", "=0.2.0", true),
            ("0.2.1", "=0.2.0", false),
            ("1.2.7", "1.2.*", true),
            ("1.3.0", "1.2.*", false),
            ("1.5.0", ">= 1.2.3, < 1.6", true),
            ("1.6.0", ">= 1.2.3, < 1.6", false),
            ("1.2.3", "1.2.3", true),
            ("1.9.0", "1.2.3", true),
            ("1.0.0", "*", true),
            // Pre-releases only match requirements naming one on the same major.minor.patch.
            ("0.2.23-rc.1", ">= 0.2.22", false),
            ("0.2.23-rc.1", ">= 0.2.23-alpha", true),
            ("0.2.23-rc.1", "< 0.2.23", false),
        ];
        for (version, requirement, expected) in cases {
            assert_eq!(satisfies(version, requirement), Ok(expected), "{version} {requirement}");
        }
    }

    #[test]
    fn rejects_invalid_input() {
        for version in ["", "1.2", "v1.2.3", "01.2.3", "1.2.3-", "1.2.3-01", "1.2.3.4"] {
            assert!(matches!(compare(version, "1.0.0"), Err(VersionError::InvalidVersion { .. })), "{version:?}");
        }
        for requirement in ["", ">= 1.2.3 < 2", ">=> 1", "1.2.3 || 2", "^1.2.3-"] {
            assert!(
                matches!(satisfies("1.0.0", requirement), Err(VersionError::InvalidRequirement { .. })),
                "{requirement:?}"
            );
        }
    }
}
