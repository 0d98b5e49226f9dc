//! Dotted versions of anything without a scheme of its own: the version field
//! of a CPE from NVD, a version read from a binary.
//!
//! No upstream implementation defines these, so the rules are ours, chosen to
//! order the usual shapes as their authors mean them while staying a total
//! order (so sorting and range checks are consistent):
//!
//! * A version is cut into tokens: runs of ASCII digits (numbers) and runs of
//!   ASCII letters (words). `.`, `-`, `_` and `+` only separate tokens, and so
//!   does a change between digits and letters: `2.4.52a` is `2 4 52 a`,
//!   `1.0.0-RC1` is `1 0 0 rc 1`. A leading `v` before a digit is dropped.
//! * Tokens are compared position by position. At one position a
//!   pre-release word (`dev` < `alpha` < `beta` < `pre` < `preview` < `rc`)
//!   sorts lowest, then numbers by value (any length, leading zeros ignored),
//!   then every other word (ASCII case-insensitive, lexically). A position
//!   past the end of the shorter version counts as the number 0.
//!
//! Hence `1.2.9 < 1.2.10`, `1.0.0 == 1.0`, `1.0rc1 < 1.0 < 1.0.1` and
//! `2.4.52 < 2.4.52a` (a letter after a release is a patch level, as in
//! OpenSSL's `1.1.1k`). The price of the last rule: a word outranks any
//! number at the same position, so `1.0a > 1.0.1`.
//!
//! `*` and `-` (CPE's ANY and NA) are not versions, and neither is anything
//! with characters other than letters, digits and the four separators.
//! Requirements use the operator-list syntax of [`crate::constraint`].

use std::cmp::Ordering;

use crate::{Scheme, VersionError, constraint};

const SEPARATORS: [char; 4] = ['.', '-', '_', '+'];

/// Ordered lowest first.
const PRE_RELEASE_WORDS: [&str; 6] = ["dev", "alpha", "beta", "pre", "preview", "rc"];

pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let (a, b) = (tokens(a)?, tokens(b)?);
    let positions = a.len().max(b.len());
    Ok((0..positions)
        .map(|i| compare_tokens(a.get(i), b.get(i)))
        .find(|order| order.is_ne())
        .unwrap_or(Ordering::Equal))
}

pub fn satisfies(version: &str, requirement: &str) -> Result<bool, VersionError> {
    constraint::satisfies_with(version, requirement, Scheme::Generic, compare)
}

/// Orders two runs of ASCII digits by value, whatever their length.
///
/// Shared by every scheme here that compares digit runs numerically: parsing
/// them into an integer would overflow on long date-like runs
/// (`0.0~git20230321123456`), and leading zeros must not count.
pub(crate) fn compare_digit_runs(a: &[u8], b: &[u8]) -> Ordering {
    let (a, b) = (trim_leading_zeros(a), trim_leading_zeros(b));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn trim_leading_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&digit| digit == b'0').count();
    digits.get(zeros..).unwrap_or_default()
}

/// Splits off the longest prefix whose bytes all satisfy `belongs`.
pub(crate) fn split_run(bytes: &[u8], belongs: impl Fn(u8) -> bool) -> (&[u8], &[u8]) {
    bytes.split_at(bytes.iter().take_while(|&&byte| belongs(byte)).count())
}

enum Token<'a> {
    Number(&'a [u8]),
    Word(&'a [u8]),
}

fn tokens(version: &str) -> Result<Vec<Token<'_>>, VersionError> {
    let invalid = |reason: String| VersionError::version(Scheme::Generic, version, reason);
    if version.is_empty() {
        return Err(invalid("empty".to_owned()));
    }
    if version == "*" || version == "-" {
        return Err(invalid("`*` and `-` are CPE's ANY and NA, not versions".to_owned()));
    }
    if let Some(bad) = version.chars().find(|&c| !c.is_ascii_alphanumeric() && !SEPARATORS.contains(&c)) {
        return Err(invalid(format!("character {bad:?} is not a letter, a digit or one of `. - _ +`")));
    }
    let mut rest = version.as_bytes();
    if let [b'v' | b'V', digit, ..] = rest
        && digit.is_ascii_digit()
    {
        rest = rest.get(1..).unwrap_or_default();
    }
    let mut tokens = Vec::new();
    while let [first, ..] = rest {
        let (run, tail) = if first.is_ascii_digit() {
            let (digits, tail) = split_run(rest, |byte| byte.is_ascii_digit());
            (Some(Token::Number(digits)), tail)
        } else if first.is_ascii_alphabetic() {
            let (letters, tail) = split_run(rest, |byte| byte.is_ascii_alphabetic());
            (Some(Token::Word(letters)), tail)
        } else {
            (None, rest.get(1..).unwrap_or_default())
        };
        tokens.extend(run);
        rest = tail;
    }
    if tokens.is_empty() {
        return Err(invalid("no digits or letters".to_owned()));
    }
    Ok(tokens)
}

/// `None` is a position past the end of a version, which counts as 0.
fn compare_tokens(a: Option<&Token<'_>>, b: Option<&Token<'_>>) -> Ordering {
    let (a, b) = (a.unwrap_or(&Token::Number(b"")), b.unwrap_or(&Token::Number(b"")));
    match (a, b) {
        (Token::Number(a), Token::Number(b)) => compare_digit_runs(a, b),
        (Token::Word(a), Token::Word(b)) => match (pre_release_rank(a), pre_release_rank(b)) {
            (Some(a), Some(b)) => a.cmp(&b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => a.to_ascii_lowercase().cmp(&b.to_ascii_lowercase()),
        },
        (Token::Number(_), Token::Word(word)) => {
            if pre_release_rank(word).is_some() {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        (Token::Word(_), Token::Number(_)) => compare_tokens(Some(b), Some(a)).reverse(),
    }
}

fn pre_release_rank(word: &[u8]) -> Option<usize> {
    PRE_RELEASE_WORDS.iter().position(|known| known.as_bytes().eq_ignore_ascii_case(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap()
    }

    #[test]
    fn numbers_compare_by_value_and_trailing_zeros_do_not_count() {
        assert_eq!(order("1.2.10", "1.2.9"), Ordering::Greater);
        assert_eq!(order("1.0.0", "1.0"), Ordering::Equal);
        assert_eq!(order("1", "1.0.0.0"), Ordering::Equal);
        assert_eq!(order("1.01", "1.1"), Ordering::Equal);
        assert_eq!(order("1.0.1", "1.0"), Ordering::Greater);
        assert_eq!(order("20230321123456789012345", "20230321123456789012344"), Ordering::Greater);
    }

    #[test]
    fn pre_release_words_sort_before_the_release_and_other_words_after() {
        assert_eq!(order("1.0rc1", "1.0"), Ordering::Less);
        assert_eq!(order("1.0.0-RC1", "1.0.0"), Ordering::Less);
        assert_eq!(order("1.0-beta2", "1.0-rc1"), Ordering::Less);
        assert_eq!(order("1.0.dev1", "1.0alpha"), Ordering::Less);
        assert_eq!(order("1.0rc1", "1.0rc2"), Ordering::Less);
        assert_eq!(order("2.4.52", "2.4.52a"), Ordering::Less);
        assert_eq!(order("1.1.1k", "1.1.1j"), Ordering::Greater);
        assert_eq!(order("1.1.1K", "1.1.1k"), Ordering::Equal);
        assert_eq!(order("1.0rc1", "0.9"), Ordering::Greater);
        // The documented price of ranking words above numbers.
        assert_eq!(order("1.0a", "1.0.1"), Ordering::Greater);
    }

    #[test]
    fn separators_and_a_leading_v_do_not_matter() {
        assert_eq!(order("1.2-3_4+5", "1.2.3.4.5"), Ordering::Equal);
        assert_eq!(order("v1.2", "1.2"), Ordering::Equal);
        assert_eq!(order("V2", "1.9"), Ordering::Greater);
        // Only a `v` before a digit is a prefix; `vim` is a word.
        assert_eq!(order("vim", "1"), Ordering::Greater);
    }

    #[test]
    fn cpe_wildcards_and_foreign_characters_are_errors() {
        for (version, reason) in [
            ("", "empty"),
            ("*", "`*` and `-` are CPE's ANY and NA, not versions"),
            ("-", "`*` and `-` are CPE's ANY and NA, not versions"),
            ("1.0*", "character '*' is not a letter, a digit or one of `. - _ +`"),
            ("1.0 2", "character ' ' is not a letter, a digit or one of `. - _ +`"),
            ("1:2", "character ':' is not a letter, a digit or one of `. - _ +`"),
            ("1.0é", "character 'é' is not a letter, a digit or one of `. - _ +`"),
            ("..", "no digits or letters"),
        ] {
            assert_eq!(
                compare(version, "1.0"),
                Err(VersionError::version(Scheme::Generic, version, reason)),
                "{version:?}"
            );
            assert_eq!(compare("1.0", version), Err(VersionError::version(Scheme::Generic, version, reason)));
        }
    }

    #[test]
    fn requirements_use_the_operator_list() {
        assert!(satisfies("2.4.52", ">= 2.4.0, < 2.4.53").unwrap());
        assert!(!satisfies("2.4.53", ">= 2.4.0, < 2.4.53").unwrap());
        assert!(satisfies("1.0", "= 1.0.0").unwrap());
        assert_eq!(
            satisfies("1.0", "< *"),
            Err(VersionError::version(Scheme::Generic, "*", "`*` and `-` are CPE's ANY and NA, not versions"))
        );
    }
}
