//! Ruby gems: `Gem::Version` ordering and `Gem::Requirement` syntax.
//!
//! Mirrors `lib/rubygems/version.rb` and `lib/rubygems/requirement.rb` of
//! RubyGems 3 (the `canonical_segments` comparison):
//!
//! * A version is digits, then dot-separated runs of ASCII letters and digits,
//!   optionally followed by `-` and dot-separated runs of letters, digits and
//!   `-` (`Gem::Version::VERSION_PATTERN`), with blanks around it ignored. A
//!   blank version is `0`. Every `-` reads as `.pre.`, so `1.0.0-rc1` is
//!   `1.0.0.pre.rc1`.
//! * Its segments are the runs of digits (numbers, any length) and of letters
//!   (words): `2.1.0pre1` is `2 1 0 pre 1`. A version with a letter is a
//!   prerelease.
//! * Trailing zero segments do not count, neither those of the release part
//!   (before the first word) nor those at the very end: `1.0 == 1`,
//!   `1.0.a.0 == 1.a`.
//! * Segments compare position by position, a missing one counting as 0; a
//!   word sorts below a number (`1.0.a < 1.0 < 1.0.1`) and words compare
//!   byte-wise, so case matters.
//!
//! A requirement is a comma-separated list of clauses that must all hold, the
//! way ruby-advisory-db writes `patched_versions` (`"~> 2.1.4, >= 2.1.4.1"`)
//! and bundler-audit splits them. A clause is an operator (`=`, `!=`, `>`,
//! `<`, `>=`, `<=`, `~>`; none means `=`) and a version. `~> 2.1.4` holds
//! from 2.1.4 up to, not including, 2.2 (the version with its words dropped,
//! its last number dropped unless it is the only one, and the new last number
//! incremented); the upper test uses the version's release, so `2.2.0.rc1`
//! does not satisfy `~> 2.1`.

use std::cmp::Ordering;

use crate::generic::{compare_digit_runs, split_run};
use crate::{Scheme, VersionError};

pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(GemVersion::parse(a)?.cmp_canonical(&GemVersion::parse(b)?))
}

pub fn satisfies(version: &str, requirement: &str) -> Result<bool, VersionError> {
    let version = GemVersion::parse(version)?;
    let mut all_hold = true;
    for clause in requirement.split(',') {
        all_hold &= Clause::parse(clause).map_err(|reason| invalid_requirement(requirement, reason))?.holds(&version);
    }
    Ok(all_hold)
}

fn invalid_requirement(requirement: &str, reason: String) -> VersionError {
    VersionError::requirement(Scheme::RubyGems, requirement, reason)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// ASCII digits, leading zeros included.
    Number(String),
    Word(String),
}

impl Segment {
    fn is_zero(&self) -> bool {
        matches!(self, Segment::Number(digits) if digits.bytes().all(|digit| digit == b'0'))
    }

    fn compare(&self, other: &Segment) -> Ordering {
        match (self, other) {
            (Segment::Number(a), Segment::Number(b)) => compare_digit_runs(a.as_bytes(), b.as_bytes()),
            (Segment::Word(a), Segment::Word(b)) => a.cmp(b),
            (Segment::Word(_), Segment::Number(_)) => Ordering::Less,
            (Segment::Number(_), Segment::Word(_)) => Ordering::Greater,
        }
    }
}

static ZERO: Segment = Segment::Number(String::new());

#[derive(Debug)]
struct GemVersion {
    segments: Vec<Segment>,
}

/// `\s` in Ruby's and in PHP's (PCRE2) regular expressions; shared with
/// [`crate::composer`].
pub(crate) fn is_regex_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r')
}

impl GemVersion {
    fn parse(version: &str) -> Result<Self, VersionError> {
        let text = version.trim_matches(is_regex_space);
        if text.is_empty() {
            return Ok(Self { segments: vec![ZERO.clone()] });
        }
        check_pattern(text).map_err(|reason| VersionError::version(Scheme::RubyGems, version, reason))?;
        Ok(Self { segments: segments(&text.replace('-', ".pre.")) })
    }

    /// The segments that count: the release part and the rest, each without
    /// its trailing zeros (`canonical_segments`).
    fn canonical(&self) -> Vec<&Segment> {
        let first_word =
            self.segments.iter().position(|segment| matches!(segment, Segment::Word(_))).unwrap_or(self.segments.len());
        let (release, rest) = self.segments.split_at(first_word);
        without_trailing_zeros(release).iter().chain(without_trailing_zeros(rest)).collect()
    }

    /// `Gem::Version#<=>`.
    fn cmp_canonical(&self, other: &GemVersion) -> Ordering {
        let (a, b) = (self.canonical(), other.canonical());
        (0..a.len().max(b.len()))
            .map(|index| {
                let (a, b) = (a.get(index).copied().unwrap_or(&ZERO), b.get(index).copied().unwrap_or(&ZERO));
                a.compare(b)
            })
            .find(|order| order.is_ne())
            .unwrap_or(Ordering::Equal)
    }

    /// The numbers before the first word (`Gem::Version#release`).
    fn release(&self) -> GemVersion {
        let numbers = self.segments.iter().take_while(|segment| matches!(segment, Segment::Number(_)));
        GemVersion { segments: numbers.cloned().collect() }
    }

    /// The exclusive upper end of `~>` (`Gem::Version#bump`): words dropped,
    /// the last number dropped unless it is the only one, then the new last
    /// number incremented.
    fn bump(&self) -> GemVersion {
        let mut numbers = self.release().segments;
        if numbers.len() > 1 {
            numbers.pop();
        }
        if let Some(Segment::Number(last)) = numbers.last_mut() {
            *last = increment_decimal(last);
        }
        GemVersion { segments: numbers }
    }
}

fn without_trailing_zeros(segments: &[Segment]) -> &[Segment] {
    let kept = segments.len() - segments.iter().rev().take_while(|segment| segment.is_zero()).count();
    segments.get(..kept).unwrap_or_default()
}

/// `Gem::Version::VERSION_PATTERN` on a version without blanks around it:
/// `[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?`.
fn check_pattern(text: &str) -> Result<(), String> {
    let (digits, mut rest) = split_run(text.as_bytes(), |byte| byte.is_ascii_digit());
    if digits.is_empty() {
        return Err("does not start with a digit".to_owned());
    }
    while let [b'.', after @ ..] = rest {
        let (run, tail) = split_run(after, |byte| byte.is_ascii_alphanumeric());
        if run.is_empty() {
            break;
        }
        rest = tail;
    }
    if let [b'-', after @ ..] = rest {
        let is_label_byte = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'-';
        let (run, mut tail) = split_run(after, is_label_byte);
        if run.is_empty() {
            return Err("nothing after `-`".to_owned());
        }
        while let [b'.', after_dot @ ..] = tail {
            let (run, after_run) = split_run(after_dot, is_label_byte);
            if run.is_empty() {
                break;
            }
            tail = after_run;
        }
        rest = tail;
    }
    match rest.first() {
        None => Ok(()),
        Some(_) => Err(format!("unexpected {:?}", String::from_utf8_lossy(rest))),
    }
}

/// The runs of digits and of letters (`scan(/[0-9]+|[a-z]+/i)`).
fn segments(version: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut rest = version.as_bytes();
    while let [first, ..] = rest {
        let (segment, tail) = if first.is_ascii_digit() {
            let (run, tail) = split_run(rest, |byte| byte.is_ascii_digit());
            (Some(Segment::Number(String::from_utf8_lossy(run).into_owned())), tail)
        } else if first.is_ascii_alphabetic() {
            let (run, tail) = split_run(rest, |byte| byte.is_ascii_alphabetic());
            (Some(Segment::Word(String::from_utf8_lossy(run).into_owned())), tail)
        } else {
            (None, rest.get(1..).unwrap_or_default())
        };
        segments.extend(segment);
        rest = tail;
    }
    segments
}

/// Adds one to a run of ASCII digits, however long (`""` counts as 0); shared
/// with [`crate::composer`].
pub(crate) fn increment_decimal(digits: &str) -> String {
    let mut bytes = digits.as_bytes().to_vec();
    for byte in bytes.iter_mut().rev() {
        if *byte == b'9' {
            *byte = b'0';
        } else {
            *byte += 1;
            return String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    format!("1{}", String::from_utf8_lossy(&bytes))
}

#[derive(Debug, Clone, Copy)]
enum Operator {
    Equal,
    NotEqual,
    Greater,
    Less,
    GreaterOrEqual,
    LessOrEqual,
    Pessimistic,
}

/// Longest symbols first, so that `>=` is not read as `>`.
const OPERATORS: [(&str, Operator); 7] = [
    ("!=", Operator::NotEqual),
    (">=", Operator::GreaterOrEqual),
    ("<=", Operator::LessOrEqual),
    ("~>", Operator::Pessimistic),
    ("=", Operator::Equal),
    (">", Operator::Greater),
    ("<", Operator::Less),
];

struct Clause {
    operator: Operator,
    version: GemVersion,
}

impl Clause {
    /// `Gem::Requirement.parse`: `\s*(op)?\s*(version)\s*`.
    fn parse(clause: &str) -> Result<Self, String> {
        let text = clause.trim_matches(is_regex_space);
        let (operator, version) = OPERATORS
            .iter()
            .find_map(|(symbol, operator)| text.strip_prefix(symbol).map(|rest| (*operator, rest)))
            .unwrap_or((Operator::Equal, text));
        let version = version.trim_start_matches(is_regex_space);
        // Unlike a version, a clause must name one: `>=` alone is no requirement.
        if version.is_empty() {
            return Err(format!("clause {text:?} has no version"));
        }
        let version = GemVersion::parse(version).map_err(|error| format!("clause {text:?}: {error}"))?;
        Ok(Self { operator, version })
    }

    fn holds(&self, version: &GemVersion) -> bool {
        let order = version.cmp_canonical(&self.version);
        match self.operator {
            Operator::Equal => order.is_eq(),
            Operator::NotEqual => order.is_ne(),
            Operator::Greater => order.is_gt(),
            Operator::Less => order.is_lt(),
            Operator::GreaterOrEqual => order.is_ge(),
            Operator::LessOrEqual => order.is_le(),
            Operator::Pessimistic => order.is_ge() && version.release().cmp_canonical(&self.version.bump()).is_lt(),
        }
    }
}
