//! npm package versions (SemVer 2.0) and node-semver ranges (`^1.2`, `~1.2.3`,
//! `1.x`, `1.2.3 - 2.3.4`, `>=1.0.0 <2.0.0 || ^3`, `*`).
//!
//! Ranges are evaluated as `semver.satisfies(version, range)` does (strict, no
//! `includePrerelease`), which is also how npm advisories are matched. Parsing
//! ports node-semver's own pipeline: hyphen ranges, operator/tilde/caret
//! trimming, then each comparator desugared (`^1.2` to `>=1.2.0 <2.0.0-0`) and
//! parsed. The nodejs-semver crate is not used: it accepts versions node-semver
//! rejects (`01.2.3`, `1.2.3-beta..1`), and its ranges OR comparators that
//! must all hold (`<1.1.2 =1.1.2` matches 1.1.2) and reject inverted hyphen
//! ranges that node-semver evaluates.
//!
//! Versions are the semver crate's strict SemVer 2.0, ordered by precedence
//! (build metadata ignored), with node-semver's limits on length and numbers.

use std::cmp::Ordering;

use semver::Version;

use crate::{Scheme, VersionError};

/// node-semver rejects longer version strings.
const MAX_LENGTH: usize = 256;
/// node-semver holds numbers as JavaScript numbers and rejects what they cannot represent exactly.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(parse_version(a)?.cmp_precedence(&parse_version(b)?))
}

pub fn satisfies(version: &str, requirement: &str) -> Result<bool, VersionError> {
    let range =
        parse_range(requirement).map_err(|reason| VersionError::requirement(Scheme::Npm, requirement, reason))?;
    Ok(range.contains(&parse_version(version)?))
}

/// A version as package.json and lockfiles write it: node-semver's strict form
/// (an optional `v`), and also a leading `=`, which npm's loose mode tolerates.
/// `1` and `1.2` are read as `1.0.0` and `1.2.0`, which node-semver rejects but
/// GitHub's npm advisories write (`introduced: "1.0"`).
fn parse_version(text: &str) -> Result<Version, VersionError> {
    let bare = text.trim();
    let bare = bare.strip_prefix('=').unwrap_or(bare).trim_start();
    let bare = bare.strip_prefix('v').unwrap_or(bare);
    let dots = bare.matches('.').count();
    let padded = if dots < 2 && bare.bytes().all(|byte| byte.is_ascii_digit() || byte == b'.') {
        format!("{bare}{}", ".0".repeat(2 - dots))
    } else {
        bare.to_owned()
    };
    parse_semver(&padded).map_err(|reason| VersionError::version(Scheme::Npm, text, reason))
}

fn parse_semver(text: &str) -> Result<Version, String> {
    if text.len() > MAX_LENGTH {
        return Err(format!("longer than {MAX_LENGTH} characters"));
    }
    let version = Version::parse(text).map_err(|error| format!("not SemVer 2.0: {error}"))?;
    if [version.major, version.minor, version.patch].iter().any(|number| *number > MAX_SAFE_INTEGER) {
        return Err(format!("a version number exceeds {MAX_SAFE_INTEGER}"));
    }
    Ok(version)
}

/// Alternatives separated by `||`; the range holds when one of them does.
#[derive(Debug)]
struct Range {
    sets: Vec<Vec<Comparator>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Comparator {
    /// `*`, `x`, `>=0.0.0`: every version, yet no pre-release opt-in.
    Any,
    Bound(Operator, Version),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Equal,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Operator {
    /// node-semver's GTLT: `<`, `>`, `<=`, `>=`, `=` or nothing (equal), the longest that prefixes `text`.
    fn split(text: &str) -> (Option<Self>, &str) {
        let operators = [
            ("<=", Self::LessOrEqual),
            (">=", Self::GreaterOrEqual),
            ("<", Self::Less),
            (">", Self::Greater),
            ("=", Self::Equal),
        ];
        for (symbol, operator) in operators {
            if let Some(rest) = text.strip_prefix(symbol) {
                return (Some(operator), rest);
            }
        }
        (None, text)
    }
}

impl Comparator {
    fn test(&self, version: &Version) -> bool {
        match self {
            Comparator::Any => true,
            Comparator::Bound(operator, bound) => {
                let ordering = version.cmp_precedence(bound);
                match operator {
                    Operator::Equal => ordering.is_eq(),
                    Operator::Less => ordering.is_lt(),
                    Operator::LessOrEqual => ordering.is_le(),
                    Operator::Greater => ordering.is_gt(),
                    Operator::GreaterOrEqual => ordering.is_ge(),
                }
            }
        }
    }
}

impl Range {
    fn contains(&self, version: &Version) -> bool {
        // node-semver collapses a range with an any-version alternative (`*`, or
        // empty) to that alternative alone, so `* || 1.0.0-beta` does not match 1.0.0-beta.
        if self.sets.iter().any(|set| set.iter().all(|comparator| *comparator == Comparator::Any)) {
            return version.pre.is_empty();
        }
        self.sets.iter().any(|set| set_contains(set, version))
    }
}

/// Every comparator holds, and a pre-release is only let in by a comparator naming
/// a pre-release of the same `major.minor.patch` (`>=1.2.3-beta.1` admits 1.2.3-beta.2, not 1.2.4-alpha).
fn set_contains(set: &[Comparator], version: &Version) -> bool {
    set.iter().all(|comparator| comparator.test(version))
        && (version.pre.is_empty()
            || set.iter().any(|comparator| match comparator {
                Comparator::Bound(_, bound) => {
                    !bound.pre.is_empty()
                        && (bound.major, bound.minor, bound.patch) == (version.major, version.minor, version.patch)
                }
                Comparator::Any => false,
            }))
}

fn parse_range(text: &str) -> Result<Range, String> {
    // node-semver collapses whitespace first: every later step splits on single spaces.
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let sets = collapsed.split("||").map(|set| parse_set(set.trim())).collect::<Result<Vec<_>, _>>()?;
    Ok(Range { sets })
}

/// One `||` alternative; an empty one (`""`) has no comparator and so admits every release, like `*`.
fn parse_set(set: &str) -> Result<Vec<Comparator>, String> {
    let desugared = match hyphen_range(set)? {
        Some(bounds) => bounds,
        None => set.to_owned(),
    };
    let mut comparators = Vec::new();
    for token in trim_operators(&desugared) {
        for piece in desugar(&token)?.split_whitespace() {
            // `>=0.0.0` is `*`.
            comparators.push(if piece == ">=0.0.0" { Comparator::Any } else { parse_comparator(piece)? });
        }
    }
    Ok(comparators)
}

/// node-semver's COMPARATORTRIM, TILDETRIM and CARETTRIM, in that order, on the
/// space-separated tokens: `> 1.2`, `~ 1.2`, `~> 1.2` and `^ 1.2` become one token.
fn trim_operators(set: &str) -> Vec<String> {
    let tokens: Vec<String> = set.split(' ').filter(|token| !token.is_empty()).map(str::to_owned).collect();
    let tokens = join_operator(tokens, |token, next| {
        let is_operator = matches!(token, "<" | ">" | "<=" | ">=" | "=");
        let starts_version =
            next.trim_start_matches(['v', '=']).starts_with(|c: char| c.is_ascii_digit() || "xX*".contains(c));
        (is_operator && starts_version).then(|| token.to_owned())
    });
    let tokens = join_operator(tokens, |token, _| matches!(token, "~" | "~>").then(|| "~".to_owned()));
    join_operator(tokens, |token, _| (token == "^").then(|| "^".to_owned()))
}

/// Glues a token to the next one when `prefix` gives what it becomes in front of it.
fn join_operator(tokens: Vec<String>, prefix: impl Fn(&str, &str) -> Option<String>) -> Vec<String> {
    let mut joined: Vec<String> = Vec::with_capacity(tokens.len());
    let mut pending: Option<String> = None;
    for (index, token) in tokens.iter().enumerate() {
        let token = match pending.take() {
            Some(prefix) => format!("{prefix}{token}"),
            None => token.clone(),
        };
        match tokens.get(index + 1).and_then(|next| prefix(&token, next)) {
            Some(prefix) => pending = Some(prefix),
            None => joined.push(token),
        }
    }
    joined
}

/// One part of an x-range: a number, or `x`/`X`/`*`/absent (any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Number(u64),
    Any,
}

impl Part {
    fn number(self) -> u64 {
        match self {
            Part::Number(number) => number,
            Part::Any => 0,
        }
    }
}

/// node-semver's XRANGEPLAIN: `[v=]*M[.m[.p[-pre][+build]]]`, each of M, m, p a number or `x`/`X`/`*`.
#[derive(Debug)]
struct XRange<'a> {
    /// The text as written, prefix included (`=1.2.3`), which some desugarings reuse.
    text: &'a str,
    major: Part,
    minor: Part,
    patch: Part,
    prerelease: Option<&'a str>,
}

impl<'a> XRange<'a> {
    fn parse(text: &'a str) -> Option<Self> {
        let bare = text.trim_start_matches(['v', '=']);
        let (main, build) = match bare.split_once('+') {
            Some((main, build)) => (main, Some(build)),
            None => (bare, None),
        };
        let (numbers, prerelease) = match main.split_once('-') {
            Some((numbers, prerelease)) => (numbers, Some(prerelease)),
            None => (main, None),
        };
        let (major, minor, patch) = match numbers.split('.').collect::<Vec<_>>()[..] {
            [major] => (major, None, None),
            [major, minor] => (major, Some(minor), None),
            [major, minor, patch] => (major, Some(minor), Some(patch)),
            _ => return None,
        };
        // A pre-release or build needs all three parts.
        if patch.is_none() && (prerelease.is_some() || build.is_some()) {
            return None;
        }
        let valid_identifiers = |identifiers: &str, prerelease: bool| {
            identifiers.split('.').all(|identifier| {
                !identifier.is_empty()
                    && identifier.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !(prerelease
                        && identifier.len() > 1
                        && identifier.starts_with('0')
                        && identifier.bytes().all(|b| b.is_ascii_digit()))
            })
        };
        if !prerelease.is_none_or(|prerelease| valid_identifiers(prerelease, true))
            || !build.is_none_or(|build| valid_identifiers(build, false))
        {
            return None;
        }
        let optional_part = |part: Option<&str>| part.map_or(Some(Part::Any), parse_part);
        Some(XRange {
            text,
            major: parse_part(major)?,
            minor: optional_part(minor)?,
            patch: optional_part(patch)?,
            prerelease,
        })
    }

    /// As node-semver's `isX`, an `x` also makes every later part `x`.
    fn wildcards(&self) -> (bool, bool, bool) {
        let major = self.major == Part::Any;
        let minor = major || self.minor == Part::Any;
        (major, minor, minor || self.patch == Part::Any)
    }
}

/// NUMERICIDENTIFIER (`0|[1-9]\d*`) or `x`, `X`, `*`.
fn parse_part(text: &str) -> Option<Part> {
    match text {
        "x" | "X" | "*" => Some(Part::Any),
        "0" => Some(Part::Number(0)),
        _ if !text.starts_with('0') && !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            text.parse().ok().map(Part::Number)
        }
        _ => None,
    }
}

fn increment(number: u64) -> Result<u64, String> {
    number.checked_add(1).ok_or_else(|| format!("{number} cannot be incremented"))
}

/// `A - B` as `>=A <=B`, partial versions widened (`1.2 - 2.3` is `>=1.2.0 <2.4.0-0`).
fn hyphen_range(set: &str) -> Result<Option<String>, String> {
    let [from_text, "-", to_text] = set.split(' ').collect::<Vec<_>>()[..] else {
        return Ok(None);
    };
    let (Some(from), Some(to)) = (XRange::parse(from_text), XRange::parse(to_text)) else {
        return Ok(None);
    };
    let (from_major_any, from_minor_any, from_patch_any) = from.wildcards();
    let lower = if from_major_any {
        String::new()
    } else if from_minor_any {
        format!(">={}.0.0", from.major.number())
    } else if from_patch_any {
        format!(">={}.{}.0", from.major.number(), from.minor.number())
    } else {
        format!(">={}", from.text)
    };
    let (to_major_any, to_minor_any, to_patch_any) = to.wildcards();
    let upper = if to_major_any {
        String::new()
    } else if to_minor_any {
        format!("<{}.0.0-0", increment(to.major.number())?)
    } else if to_patch_any {
        format!("<{}.{}.0-0", to.major.number(), increment(to.minor.number())?)
    } else if let Some(prerelease) = to.prerelease {
        format!("<={}.{}.{}-{prerelease}", to.major.number(), to.minor.number(), to.patch.number())
    } else {
        format!("<={}", to.text)
    };
    Ok(Some(format!("{lower} {upper}").trim().to_owned()))
}

/// One token to plain comparators, as node-semver's `parseComparator`: caret,
/// tilde and x-range desugaring, then `*` removed.
fn desugar(token: &str) -> Result<String, String> {
    if let Some(range) = token.strip_prefix('^').and_then(XRange::parse) {
        return caret(&range);
    }
    if let Some(range) = token.strip_prefix("~>").or_else(|| token.strip_prefix('~')).and_then(XRange::parse) {
        return tilde(&range);
    }
    let (operator, rest) = Operator::split(token);
    if let Some(range) = XRange::parse(rest) {
        return x_range(token, operator, &range);
    }
    Ok(remove_first_star(token))
}

/// `^1.2.3` is `>=1.2.3 <2.0.0-0`; below 1.0.0 the first non-zero part is the one that may not change.
fn caret(range: &XRange) -> Result<String, String> {
    let (major_any, minor_any, patch_any) = range.wildcards();
    let (major, minor, patch) = (range.major.number(), range.minor.number(), range.patch.number());
    let lower = match range.prerelease {
        Some(prerelease) if !patch_any => format!("{major}.{minor}.{patch}-{prerelease}"),
        _ => format!("{major}.{minor}.{patch}"),
    };
    Ok(if major_any {
        String::new()
    } else if minor_any {
        format!(">={major}.0.0 <{}.0.0-0", increment(major)?)
    } else if major != 0 {
        format!(">={lower} <{}.0.0-0", increment(major)?)
    } else if patch_any || minor != 0 {
        format!(">={lower} <0.{}.0-0", increment(minor)?)
    } else {
        format!(">={lower} <0.0.{}-0", increment(patch)?)
    })
}

/// `~1.2.3` is `>=1.2.3 <1.3.0-0`: patch-level changes.
fn tilde(range: &XRange) -> Result<String, String> {
    let (major_any, minor_any, patch_any) = range.wildcards();
    let (major, minor, patch) = (range.major.number(), range.minor.number(), range.patch.number());
    Ok(if major_any {
        String::new()
    } else if minor_any {
        format!(">={major}.0.0 <{}.0.0-0", increment(major)?)
    } else {
        let lower = match range.prerelease {
            Some(prerelease) if !patch_any => format!("{major}.{minor}.{patch}-{prerelease}"),
            _ => format!("{major}.{minor}.{patch}"),
        };
        format!(">={lower} <{major}.{}.0-0", increment(minor)?)
    })
}

/// `1.2.x` is `>=1.2.0 <1.3.0-0`; `>1.2` is `>=1.3.0`; `<=1.2` is `<1.3.0-0`; a full version is left as written.
fn x_range(token: &str, operator: Option<Operator>, range: &XRange) -> Result<String, String> {
    let (major_any, minor_any, patch_any) = range.wildcards();
    let (major, minor) = (range.major.number(), range.minor.number());
    if !patch_any {
        return Ok(token.to_owned());
    }
    Ok(match operator {
        _ if major_any => match operator {
            Some(Operator::Greater | Operator::Less) => "<0.0.0-0".to_owned(),
            _ => String::new(),
        },
        Some(Operator::Greater) if minor_any => format!(">={}.0.0", increment(major)?),
        Some(Operator::Greater) => format!(">={major}.{}.0", increment(minor)?),
        Some(Operator::LessOrEqual) if minor_any => format!("<{}.0.0-0", increment(major)?),
        Some(Operator::LessOrEqual) => format!("<{major}.{}.0-0", increment(minor)?),
        Some(Operator::Less) => format!("<{major}.{}.0-0", if minor_any { 0 } else { minor }),
        Some(Operator::GreaterOrEqual) => format!(">={major}.{}.0", if minor_any { 0 } else { minor }),
        None | Some(Operator::Equal) if minor_any => format!(">={major}.0.0 <{}.0.0-0", increment(major)?),
        None | Some(Operator::Equal) => format!(">={major}.{minor}.0 <{major}.{}.0-0", increment(minor)?),
    })
}

/// node-semver's STAR replacement: the first `*` goes, with a `<`/`>` and `=` just before it.
fn remove_first_star(token: &str) -> String {
    let Some((before, after)) = token.split_once('*') else {
        return token.to_owned();
    };
    let before = before.strip_suffix('=').unwrap_or(before);
    let before = before.strip_suffix(['<', '>']).unwrap_or(before);
    format!("{before}{after}")
}

/// node-semver's COMPARATOR: an operator and a full version (an optional `v`).
fn parse_comparator(text: &str) -> Result<Comparator, String> {
    let (operator, version) = Operator::split(text);
    let version = version.strip_prefix('v').unwrap_or(version);
    let version = parse_semver(version).map_err(|reason| format!("invalid comparator `{text}`: {reason}"))?;
    Ok(Comparator::Bound(operator.unwrap_or(Operator::Equal), version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn desugars_like_node_semver() {
        // The expansions documented in node-semver's range.js.
        let cases = [
            ("^1.2.3", ">=1.2.3 <2.0.0-0"),
            ("^0.2.3", ">=0.2.3 <0.3.0-0"),
            ("^0.0.3", ">=0.0.3 <0.0.4-0"),
            ("^1.2.3-beta.2", ">=1.2.3-beta.2 <2.0.0-0"),
            ("^0.0.x", ">=0.0.0 <0.1.0-0"),
            ("^1.x", ">=1.0.0 <2.0.0-0"),
            ("~1.2.3", ">=1.2.3 <1.3.0-0"),
            ("~>1.2", ">=1.2.0 <1.3.0-0"),
            ("~1", ">=1.0.0 <2.0.0-0"),
            ("~0.0.1", ">=0.0.1 <0.1.0-0"),
            ("1.2.x", ">=1.2.0 <1.3.0-0"),
            ("1.*", ">=1.0.0 <2.0.0-0"),
            (">1.2", ">=1.3.0"),
            ("<=1.2", "<1.3.0-0"),
            ("<1", "<1.0.0-0"),
            (">*", "<0.0.0-0"),
            ("*", ""),
            ("=1.2.3", "=1.2.3"),
        ];
        for (token, expected) in cases {
            assert_eq!(desugar(token).as_deref(), Ok(expected), "{token}");
        }
        assert_eq!(hyphen_range("1.2 - 3.4"), Ok(Some(">=1.2.0 <3.5.0-0".to_owned())));
        assert_eq!(hyphen_range("1.2.3 - 2.3.4"), Ok(Some(">=1.2.3 <=2.3.4".to_owned())));
        assert_eq!(trim_operators("> 1.2.3 ~ 1.2 ~> 2 ^ 3"), [">1.2.3", "~1.2", "~2", "^3"]);
    }

    #[test]
    fn satisfies_node_semver_ranges() {
        let cases = [
            ("1.2.3", "^1.2", true),
            ("2.0.0", "^1.2", false),
            ("1.2.9", "~1.2.3", true),
            ("1.3.0", "~1.2.3", false),
            ("1.5.0", "1.2.3 - 2.3.4", true),
            ("2.3.4", "1.2.3 - 2.3.4", true),
            ("2.3.5", "1.2.3 - 2.3.4", false),
            ("2.3.9", "1.2 - 2.3", true),
            ("1.1.2", "<1.1.2 =1.1.2", false),
            ("3.0.0", ">=1.0.0 <2.0.0 || ^3", true),
            ("1.0.0", "*", true),
            ("1.0.0", "", true),
            ("v1.0.0", "=1.0.0", true),
            ("=1.0.0", "1.0.0", true),
            ("1.0.0+build", "1.0.0", true),
            // Pre-releases need a comparator naming one on the same major.minor.patch.
            ("1.2.3-beta.2", "^1.2.3-beta.1", true),
            ("1.2.4-alpha", "^1.2.3-beta.1", false),
            ("1.2.3-alpha", "<1.2.3-beta", true),
            ("1.2.3-alpha", "<1.2.3", false),
            ("1.2.3-alpha", "*", false),
            ("1.2.3-alpha", "1.2.3-alpha || *", false),
            ("1.2.3-alpha", "1.2.3-alpha || 2", true),
            ("2.1.0", "2.2.0 - 2.0.0", false),
        ];
        for (version, range, expected) in cases {
            assert_eq!(satisfies(version, range), Ok(expected), "{version} {range:?}");
        }
    }

    #[test]
    fn orders_by_semver_precedence() {
        let ascending = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0"];
        for pair in ascending.windows(2) {
            assert_eq!(compare(pair[0], pair[1]), Ok(Ordering::Less), "{pair:?}");
        }
        assert_eq!(compare("v1.0.0+a", "=1.0.0+b"), Ok(Ordering::Equal));
        assert_eq!(compare("1.0", "1.0.0"), Ok(Ordering::Equal));
        assert_eq!(compare("2", "2.0.0"), Ok(Ordering::Equal));
    }

    #[test]
    fn rejects_what_node_semver_rejects() {
        for version in ["", "1.", "1.2-beta", "01.2.3", "1.2.3-beta..1", "1.2.3-01", "9007199254740992.0.0", "v 1.2.3x"]
        {
            assert!(matches!(compare(version, "1.0.0"), Err(VersionError::InvalidVersion { .. })), "{version}");
        }
        for range in [">=1.2.3-", "^1.2.3.4", "foo >= 1.2.3", "1.2-beta", "~> ^1"] {
            assert!(matches!(satisfies("1.0.0", range), Err(VersionError::InvalidRequirement { .. })), "{range}");
        }
    }
}
