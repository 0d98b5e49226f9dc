//! Alpine package versions, parsed and ordered as apk-tools 2.14 / 3 does
//! (`src/version.c`: `token_first`, `token_next`, `token_cmp` and
//! `apk_version_compare_fuzzy` without the fuzzy part).
//!
//! Grammar: `number{.number}...{letter}{_suffix{number}}...{~hash}{-rnumber}`,
//! where a suffix is one of `alpha`, `beta`, `pre`, `rc` (pre-releases) or
//! `cvs`, `svn`, `git`, `hg`, `p` (post-releases), the letter is one lowercase
//! ASCII letter and the hash is lowercase hexadecimal. Anything else is an
//! error, as `apk version --check` says; that includes versions older apk
//! accepted, such as a number right after the letter (`6.6.2p1`).
//!
//! Versions are compared token by token, in order:
//!
//! * tokens of the same kind: numbers by value, except that a number after
//!   a `.` is compared as a string when either side starts with `0`
//!   (`1.02 < 1.1`, `1.0 < 1.00`); letters, suffixes (in the order listed
//!   above) and hashes in ASCII order;
//! * at the first place the kinds differ, a pre-release suffix is lower than
//!   anything; otherwise the kind that comes later in the grammar is lower,
//!   and the end of the version comes after all of them. So `1.2.3_rc1-r0 <
//!   1.2.3 < 1.2.3-r4 < 1.2.3_p1 < 1.2.3a < 1.2.3.1`.
//!
//! Numbers are compared by value whatever their length; apk's own `uint64_t`
//! would wrap past 20 digits, which no real version has.
//! Requirements use the operator-list syntax of [`crate::constraint`].

use std::cmp::Ordering;

use crate::generic::{compare_digit_runs, split_run};
use crate::{Scheme, VersionError, constraint};

pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let (a, b) = (tokens(a)?, tokens(b)?);
    let positions = a.len().max(b.len());
    Ok((0..positions).map(|i| compare_at(a.get(i), b.get(i))).find(|order| order.is_ne()).unwrap_or(Ordering::Equal))
}

pub fn satisfies(version: &str, requirement: &str) -> Result<bool, VersionError> {
    constraint::satisfies_with(version, requirement, Scheme::Apk, compare)
}

/// In apk's grammar order, which is also its tie-break order (later is lower).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    InitialNumber,
    Number,
    Letter,
    Suffix,
    SuffixNumber,
    CommitHash,
    Revision,
    End,
}

/// In apk's order; the first four are pre-releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Suffix {
    Alpha,
    Beta,
    Pre,
    Rc,
    Cvs,
    Svn,
    Git,
    Hg,
    P,
}

impl Suffix {
    fn parse(name: &[u8]) -> Option<Self> {
        Some(match name {
            b"alpha" => Self::Alpha,
            b"beta" => Self::Beta,
            b"pre" => Self::Pre,
            b"rc" => Self::Rc,
            b"cvs" => Self::Cvs,
            b"svn" => Self::Svn,
            b"git" => Self::Git,
            b"hg" => Self::Hg,
            b"p" => Self::P,
            _ => return None,
        })
    }

    fn is_pre_release(self) -> bool {
        self <= Self::Rc
    }
}

#[derive(Debug)]
enum Token<'a> {
    InitialNumber(&'a [u8]),
    Number(&'a [u8]),
    Letter(u8),
    Suffix(Suffix),
    SuffixNumber(&'a [u8]),
    CommitHash(&'a [u8]),
    Revision(&'a [u8]),
}

impl Token<'_> {
    fn kind(&self) -> Kind {
        match self {
            Token::InitialNumber(_) => Kind::InitialNumber,
            Token::Number(_) => Kind::Number,
            Token::Letter(_) => Kind::Letter,
            Token::Suffix(_) => Kind::Suffix,
            Token::SuffixNumber(_) => Kind::SuffixNumber,
            Token::CommitHash(_) => Kind::CommitHash,
            Token::Revision(_) => Kind::Revision,
        }
    }
}

fn tokens(version: &str) -> Result<Vec<Token<'_>>, VersionError> {
    let invalid = |reason: String| VersionError::version(Scheme::Apk, version, reason);
    let is_digit = |byte: u8| byte.is_ascii_digit();
    let (first, mut rest) = split_run(version.as_bytes(), is_digit);
    if first.is_empty() {
        return Err(invalid("does not start with a digit".to_owned()));
    }
    let mut tokens = vec![Token::InitialNumber(first)];
    let mut previous = Kind::InitialNumber;
    while let [next, tail @ ..] = rest {
        let at = String::from_utf8_lossy(rest);
        let (token, tail) = match next {
            b'a'..=b'z' if previous <= Kind::Number => (Token::Letter(*next), tail),
            b'.' if previous <= Kind::Number => match split_run(tail, is_digit) {
                ([], _) => return Err(invalid(format!("'.' is not followed by a number at {at:?}"))),
                (digits, tail) => (Token::Number(digits), tail),
            },
            b'0'..=b'9' if previous == Kind::Suffix => {
                let (digits, tail) = split_run(rest, is_digit);
                (Token::SuffixNumber(digits), tail)
            }
            b'_' if previous <= Kind::SuffixNumber => {
                let (name, tail) = split_run(tail, |byte| byte.is_ascii_lowercase());
                let suffix = Suffix::parse(name).ok_or_else(|| invalid(format!("unknown suffix at {at:?}")))?;
                (Token::Suffix(suffix), tail)
            }
            b'~' if previous < Kind::CommitHash => {
                match split_run(tail, |byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte)) {
                    ([], _) => return Err(invalid(format!("'~' is not followed by a lowercase hex hash at {at:?}"))),
                    (hash, tail) => (Token::CommitHash(hash), tail),
                }
            }
            b'-' if previous < Kind::Revision => match tail {
                [b'r', tail @ ..] => match split_run(tail, is_digit) {
                    ([], _) => return Err(invalid(format!("'-r' is not followed by a number at {at:?}"))),
                    (digits, tail) => (Token::Revision(digits), tail),
                },
                _ => return Err(invalid(format!("'-' is not followed by 'r' and a revision number at {at:?}"))),
            },
            _ => return Err(invalid(format!("unexpected at {at:?} (the form is {GRAMMAR})"))),
        };
        previous = token.kind();
        tokens.push(token);
        rest = tail;
    }
    Ok(tokens)
}

const GRAMMAR: &str = "number{.number}...{letter}{_suffix{number}}...{~hash}{-rnumber}";

/// One position of two versions; `None` is past the end.
fn compare_at(a: Option<&Token<'_>>, b: Option<&Token<'_>>) -> Ordering {
    match (a, b) {
        (Some(Token::Number(a)), Some(Token::Number(b))) if a.starts_with(b"0") || b.starts_with(b"0") => a.cmp(b),
        (Some(Token::InitialNumber(a)), Some(Token::InitialNumber(b)))
        | (Some(Token::Number(a)), Some(Token::Number(b)))
        | (Some(Token::SuffixNumber(a)), Some(Token::SuffixNumber(b)))
        | (Some(Token::Revision(a)), Some(Token::Revision(b))) => compare_digit_runs(a, b),
        (Some(Token::Letter(a)), Some(Token::Letter(b))) => a.cmp(b),
        (Some(Token::Suffix(a)), Some(Token::Suffix(b))) => a.cmp(b),
        (Some(Token::CommitHash(a)), Some(Token::CommitHash(b))) => a.cmp(b),
        (Some(Token::Suffix(suffix)), _) if suffix.is_pre_release() => Ordering::Less,
        (_, Some(Token::Suffix(suffix))) if suffix.is_pre_release() => Ordering::Greater,
        _ => {
            let kind = |token: Option<&Token<'_>>| token.map_or(Kind::End, Token::kind);
            kind(b).cmp(&kind(a))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap()
    }

    #[test]
    fn pre_release_suffixes_sort_below_the_release_whatever_follows() {
        // The case the `versions` crate gets wrong.
        assert_eq!(order("1.2.3_rc1-r0", "1.2.3-r4"), Ordering::Less);
        assert_eq!(order("1.2.3-r4", "1.2.3_rc1-r0"), Ordering::Greater);
        assert_eq!(order("1.0_alpha", "1.0"), Ordering::Less);
        assert_eq!(order("1.0_alpha_pre2", "1.0_alpha"), Ordering::Less);
        assert_eq!(order("1.0_rc", "1.0_rc1"), Ordering::Less);
        assert_eq!(order("1.0_beta9", "1.0_rc1"), Ordering::Less);
    }

    #[test]
    fn the_documented_chain_holds() {
        let chain = ["1.2.3_rc1-r0", "1.2.3", "1.2.3-r4", "1.2.3_p1", "1.2.3a", "1.2.3.1"];
        for pair in chain.windows(2) {
            assert_eq!(order(pair[0], pair[1]), Ordering::Less, "{pair:?}");
        }
    }

    #[test]
    fn leading_zeros_after_a_dot_compare_as_strings() {
        assert_eq!(order("1.02", "1.1"), Ordering::Less);
        assert_eq!(order("1.0", "1.00"), Ordering::Less);
        assert_eq!(order("1.010", "1.09"), Ordering::Less);
        assert_eq!(order("1.10", "1.9"), Ordering::Greater);
        // The first number, suffix numbers and revisions are always values.
        assert_eq!(order("01.0", "1.0"), Ordering::Equal);
        assert_eq!(order("1_p01", "1_p1"), Ordering::Equal);
        assert_eq!(order("1-r01", "1-r1"), Ordering::Equal);
    }

    #[test]
    fn commit_hashes_sort_after_the_revision_kind_and_among_themselves_as_text() {
        assert_eq!(order("1.0~abc", "1.0"), Ordering::Greater);
        assert_eq!(order("1.0~abc", "1.0-r1"), Ordering::Greater);
        assert_eq!(order("1.0~abc-r0", "1.0~abd-r0"), Ordering::Less);
        assert_eq!(order("1.0~abc-r1", "1.0~abc-r0"), Ordering::Greater);
        assert_eq!(order("1.0_git20240101~abc", "1.0_git20240101"), Ordering::Greater);
    }

    #[test]
    fn invalid_versions_are_errors() {
        for (version, reason) in [
            ("", "does not start with a digit"),
            ("a1", "does not start with a digit"),
            ("1.", "'.' is not followed by a number at \".\""),
            ("0.8.21.r2", "'.' is not followed by a number at \".r2\""),
            (
                "1.0bc",
                "unexpected at \"c\" (the form is number{.number}...{letter}{_suffix{number}}...{~hash}{-rnumber})",
            ),
            (
                "6.6.2p1-r0",
                "unexpected at \"1-r0\" (the form is number{.number}...{letter}{_suffix{number}}...{~hash}{-rnumber})",
            ),
            (
                "1.0a.1",
                "unexpected at \".1\" (the form is number{.number}...{letter}{_suffix{number}}...{~hash}{-rnumber})",
            ),
            ("1.0_foo", "unknown suffix at \"_foo\""),
            ("1.0_", "unknown suffix at \"_\""),
            ("1.0_RC1", "unknown suffix at \"_RC1\""),
            ("1.0~", "'~' is not followed by a lowercase hex hash at \"~\""),
            ("1.0~ABC", "'~' is not followed by a lowercase hex hash at \"~ABC\""),
            (
                "1.0~ab~cd",
                "unexpected at \"~cd\" (the form is number{.number}...{letter}{_suffix{number}}...{~hash}{-rnumber})",
            ),
            ("1.0-r", "'-r' is not followed by a number at \"-r\""),
            ("2.7.16-33", "'-' is not followed by 'r' and a revision number at \"-33\""),
            (
                "1.0-r1-r2",
                "unexpected at \"-r2\" (the form is number{.number}...{letter}{_suffix{number}}...{~hash}{-rnumber})",
            ),
            (
                "1.0-r1_p1",
                "unexpected at \"_p1\" (the form is number{.number}...{letter}{_suffix{number}}...{~hash}{-rnumber})",
            ),
            (
                "1.0-r1a",
                "unexpected at \"a\" (the form is number{.number}...{letter}{_suffix{number}}...{~hash}{-rnumber})",
            ),
            (
                "1.0A",
                "unexpected at \"A\" (the form is number{.number}...{letter}{_suffix{number}}...{~hash}{-rnumber})",
            ),
            (
                "1.0 ",
                "unexpected at \" \" (the form is number{.number}...{letter}{_suffix{number}}...{~hash}{-rnumber})",
            ),
            (
                "1.0é",
                "unexpected at \"é\" (the form is number{.number}...{letter}{_suffix{number}}...{~hash}{-rnumber})",
            ),
        ] {
            let expected = Err(VersionError::version(Scheme::Apk, version, reason));
            assert_eq!(compare(version, "1.0"), expected, "{version:?}");
            assert_eq!(compare("1.0", version), expected, "{version:?}");
        }
    }

    #[test]
    fn requirements_use_apk_order() {
        assert!(satisfies("1.2.3_rc1-r0", "< 1.2.3-r0").unwrap());
        assert!(satisfies("1.1.1d-r0", ">= 1.1.1a-r0, < 1.1.1g-r0").unwrap());
        assert!(!satisfies("1.1.1g-r0", ">= 1.1.1a-r0, < 1.1.1g-r0").unwrap());
    }
}
