//! Debian and Ubuntu package versions, ordered exactly as dpkg orders them:
//! `dpkg_version_compare` and `verrevcmp` in dpkg's `lib/dpkg/version.c`,
//! after parsing as `parseversion` in `lib/dpkg/parsehelp.c` does.
//!
//! A version is `[epoch:]upstream[-revision]`:
//!
//! * the epoch is everything before the first `:`, a decimal number (missing
//!   = 0), compared numerically first;
//! * the revision is everything after the last `-` (missing = empty, so
//!   `1.0` equals `1.0-0`); upstream, then revision, are compared by
//!   verrevcmp: alternately a run of non-digits, compared character by
//!   character where `~` sorts before everything, even the end of the run,
//!   then the end, then letters, then every other character (each group in
//!   ASCII order); and a run of digits, compared by value (missing = 0).
//!
//! So `1.0~rc1 < 1.0 < 1.0a < 1.0+b1`, `1:1.0 > 2.0` and `1.0-1 < 1.0-1+deb12u1`.
//!
//! Validation follows dpkg: what dpkg refuses is an error (an empty version, an
//! empty, non-numeric or too big epoch, nothing after the epoch, an empty
//! upstream or revision, embedded blanks); leading and trailing blanks are
//! ignored. One refusal is ours: an epoch with a sign (`+1:`), which dpkg's
//! `strtol` lets through. dpkg only warns about an upstream that does not
//! start with a digit and still compares it, and so does this module. dpkg
//! also only warns about characters outside policy (letters, digits and
//! `. + ~ - :` in upstream, `. + ~` in the revision); this module rejects them,
//! because no real package has them and they would make requirements ambiguous.
//! Requirements use the operator-list syntax of [`crate::constraint`].

use std::cmp::Ordering;

use crate::generic::{compare_digit_runs, split_run};
use crate::{Scheme, VersionError, constraint};

const UPSTREAM_PUNCTUATION: &str = ".+~-:";
const REVISION_PUNCTUATION: &str = ".+~";

pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let (a, b) = (DebianVersion::parse(a)?, DebianVersion::parse(b)?);
    Ok(a.epoch
        .cmp(&b.epoch)
        .then_with(|| verrevcmp(a.upstream, b.upstream))
        .then_with(|| verrevcmp(a.revision, b.revision)))
}

pub fn satisfies(version: &str, requirement: &str) -> Result<bool, VersionError> {
    constraint::satisfies_with(version, requirement, Scheme::Dpkg, compare)
}

struct DebianVersion<'a> {
    epoch: i32,
    upstream: &'a str,
    revision: &'a str,
}

impl<'a> DebianVersion<'a> {
    fn parse(version: &'a str) -> Result<Self, VersionError> {
        let invalid = |reason: String| VersionError::version(Scheme::Dpkg, version, reason);
        let blank = [' ', '\t'];
        let trimmed = version.trim_matches(blank);
        if trimmed.is_empty() {
            return Err(invalid("empty".to_owned()));
        }
        if trimmed.contains(blank) {
            return Err(invalid("embedded blanks".to_owned()));
        }
        let (epoch, rest) = match trimmed.split_once(':') {
            Some((epoch, rest)) => (parse_epoch(epoch).map_err(invalid)?, rest),
            None => (0, trimmed),
        };
        if rest.is_empty() {
            return Err(invalid("nothing after the epoch's ':'".to_owned()));
        }
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((_, "")) => return Err(invalid("empty revision after the last '-'".to_owned())),
            Some(split) => split,
            None => (rest, ""),
        };
        if upstream.is_empty() {
            return Err(invalid("empty upstream version".to_owned()));
        }
        check_characters(upstream, "upstream version", UPSTREAM_PUNCTUATION).map_err(invalid)?;
        check_characters(revision, "revision", REVISION_PUNCTUATION).map_err(invalid)?;
        Ok(Self { epoch, upstream, revision })
    }
}

fn parse_epoch(epoch: &str) -> Result<i32, String> {
    if epoch.is_empty() {
        return Err("empty epoch before ':'".to_owned());
    }
    if !epoch.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(format!("epoch {epoch:?} is not a number"));
    }
    // dpkg keeps the epoch in an int; only digits are left, so failing means too big.
    epoch.parse().map_err(|_| format!("epoch {epoch} is too big (dpkg's limit is {})", i32::MAX))
}

fn check_characters(part: &str, name: &str, punctuation: &str) -> Result<(), String> {
    match part.chars().find(|&c| !c.is_ascii_alphanumeric() && !punctuation.contains(c)) {
        Some(bad) => {
            Err(format!("character {bad:?} is not allowed in the {name} (letters, digits and {punctuation:?})"))
        }
        None => Ok(()),
    }
}

fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    while !a.is_empty() || !b.is_empty() {
        let (a_text, a_rest) = split_run(a, |byte| !byte.is_ascii_digit());
        let (b_text, b_rest) = split_run(b, |byte| !byte.is_ascii_digit());
        let (a_digits, a_rest) = split_run(a_rest, |byte| byte.is_ascii_digit());
        let (b_digits, b_rest) = split_run(b_rest, |byte| byte.is_ascii_digit());
        let order = compare_text(a_text, b_text).then_with(|| compare_digit_runs(a_digits, b_digits));
        if order.is_ne() {
            return order;
        }
        (a, b) = (a_rest, b_rest);
    }
    Ordering::Equal
}

fn compare_text(a: &[u8], b: &[u8]) -> Ordering {
    (0..a.len().max(b.len()))
        .map(|i| character_weight(a.get(i).copied()).cmp(&character_weight(b.get(i).copied())))
        .find(|order| order.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// dpkg's `order()`: `None` is the end of a run of non-digits.
fn character_weight(character: Option<u8>) -> i32 {
    match character {
        None => 0,
        Some(b'~') => -1,
        Some(letter) if letter.is_ascii_alphabetic() => i32::from(letter),
        Some(other) => i32::from(other) + 256,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap()
    }

    /// Each checked by hand against dpkg's rules (and by `tests/dpkg_reference.rs` against dpkg itself).
    #[test]
    fn orders_like_dpkg() {
        for (a, expected, b) in [
            ("1.0~rc1", Ordering::Less, "1.0"),
            ("1.0~~", Ordering::Less, "1.0~"),
            ("1.0~", Ordering::Less, "1.0"),
            ("1:1.0", Ordering::Greater, "2.0"),
            ("0:1.0", Ordering::Equal, "1.0"),
            ("1.0-1", Ordering::Less, "1.0-1+deb12u1"),
            ("1.0", Ordering::Less, "1.0+b1"),
            ("1.0a", Ordering::Less, "1.0+b1"),
            ("1.0a", Ordering::Less, "1.0+"),
            ("1.0.", Ordering::Greater, "1.0a"),
            ("2.30~rc1-1", Ordering::Less, "2.30-1ubuntu1"),
            ("1:2.30-1ubuntu1", Ordering::Greater, "1:2.30~rc1-1"),
            ("1.01", Ordering::Equal, "1.1"),
            ("1.0", Ordering::Equal, "1.0-0"),
            ("1.0", Ordering::Less, "1.0.0"),
            ("1.2.10", Ordering::Greater, "1.2.9"),
            ("3.0.13-1~deb12u1", Ordering::Greater, "3.0.9-1"),
            ("3.0.13-1~deb12u1", Ordering::Less, "3.0.13-1"),
            ("1.0-a", Ordering::Greater, "1.0-B"),
            ("9:1", Ordering::Greater, "10"),
            ("10:1", Ordering::Greater, "9:1"),
            ("0.0~git20230321123456789", Ordering::Greater, "0.0~git20230321123456788"),
            ("1:2:3-4", Ordering::Greater, "1:2:2-4"),
            ("1-2-3", Ordering::Equal, "1-2-3"),
            ("1-2-3", Ordering::Less, "1-3-1"),
        ] {
            assert_eq!(order(a, b), expected, "{a} vs {b}");
            assert_eq!(order(b, a), expected.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn is_as_lenient_as_dpkg_about_blanks_and_a_non_digit_start() {
        assert_eq!(order(" 1.0\t", "1.0"), Ordering::Equal);
        assert_eq!(order("a1.0", "1.0"), Ordering::Greater);
        assert_eq!(order("~1", "0"), Ordering::Less);
    }

    #[test]
    fn invalid_versions_are_errors() {
        for (version, reason) in [
            ("", "empty"),
            (" \t", "empty"),
            ("1.0 1", "embedded blanks"),
            (":1.0", "empty epoch before ':'"),
            ("a:1.0", "epoch \"a\" is not a number"),
            ("+1:1.0", "epoch \"+1\" is not a number"),
            ("-1:1.0", "epoch \"-1\" is not a number"),
            ("1.0:2", "epoch \"1.0\" is not a number"),
            ("2147483648:1", "epoch 2147483648 is too big (dpkg's limit is 2147483647)"),
            ("1:", "nothing after the epoch's ':'"),
            ("1.0-", "empty revision after the last '-'"),
            ("-1", "empty upstream version"),
            ("1:-1", "empty upstream version"),
            ("1.0_1", "character '_' is not allowed in the upstream version (letters, digits and \".+~-:\")"),
            ("1.0>1", "character '>' is not allowed in the upstream version (letters, digits and \".+~-:\")"),
            ("1.0é", "character 'é' is not allowed in the upstream version (letters, digits and \".+~-:\")"),
            ("1.0-1:2", "epoch \"1.0-1\" is not a number"),
            ("1:1.0-1:2", "character ':' is not allowed in the revision (letters, digits and \".+~\")"),
            ("1.0-1_2", "character '_' is not allowed in the revision (letters, digits and \".+~\")"),
        ] {
            let expected = Err(VersionError::version(Scheme::Dpkg, version, reason));
            assert_eq!(compare(version, "1.0"), expected, "{version:?}");
            assert_eq!(compare("1.0", version), expected, "{version:?}");
        }
        assert_eq!(order("2147483647:1", "1"), Ordering::Greater);
    }

    #[test]
    fn requirements_use_dpkg_order() {
        assert!(satisfies("1.0-1", "<< 1.0-1+deb12u1").unwrap());
        assert!(satisfies("1:4.13+dfsg1-1", ">= 1:4.13+dfsg1-1, << 1:4.13+dfsg1-1+deb12u1").unwrap());
        assert!(!satisfies("4.13+dfsg1-1", ">= 1:4.0").unwrap());
        assert!(satisfies("1.0", "= 1.0-0").unwrap());
        assert_eq!(
            satisfies("1.0", ">= 1.0-"),
            Err(VersionError::version(Scheme::Dpkg, "1.0-", "empty revision after the last '-'"))
        );
    }
}
