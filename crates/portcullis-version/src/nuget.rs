//! .NET NuGet packages: `NuGetVersion` ordering and version ranges.
//!
//! Mirrors NuGet.Versioning of NuGet/NuGet.Client (`NuGetVersion.TryParse`,
//! `VersionComparer.Default`, `VersionRange.TryParse` and `Satisfies`):
//!
//! * A version is two to four dot-separated numbers (`1`, with one, is read as
//!   `1.0`), each 0 to 2147483647, leading zeros allowed (`1.01` is `1.1`),
//!   then optionally `-` and dot-separated release labels, then optionally `+`
//!   and build metadata. Labels and metadata parts are ASCII letters, digits
//!   and `-`; a numeric label must not have leading zeros. Blanks around it are
//!   ignored.
//! * Order (SemVer 2.0 with a fourth number): the four numbers, a missing one
//!   being 0; then a version without labels above one with labels; then labels
//!   position by position, numeric ones by value and below the others, the
//!   others ASCII case-insensitively; more labels above fewer. Metadata does
//!   not count: `1.0.0+a == 1.0.0 == 1.0.0.0`, `1.0.0-BETA == 1.0.0-beta`.
//!
//! A requirement is a NuGet range: `[1.0,2.0)`, `(,1.0]`, `[1.0]`, `(1.0,)`,
//! or a bare version, which NuGet reads as a minimum (`1.0` is `>= 1.0`), not
//! as an exact version; or an operator list (`>= 1.2.0, < 3.5.0`, the GHSA
//! text form), see [`crate::constraint`]. Floating ranges (`1.*`) choose a
//! version to restore rather than describe a set and are rejected.

use std::cmp::Ordering;

use crate::{Scheme, VersionError, constraint};

pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(NuGetVersion::parse(a)?.compare(&NuGetVersion::parse(b)?))
}

pub fn satisfies(version: &str, requirement: &str) -> Result<bool, VersionError> {
    if requirement.trim_start().starts_with(['<', '>', '=', '!']) {
        return constraint::satisfies_with(version, requirement, Scheme::NuGet, compare);
    }
    let version = NuGetVersion::parse(version)?;
    let range =
        Range::parse(requirement).map_err(|reason| VersionError::requirement(Scheme::NuGet, requirement, reason))?;
    Ok(range.contains(&version))
}

#[derive(Debug)]
struct NuGetVersion {
    /// Major, minor, patch, revision.
    numbers: [u32; 4],
    /// Empty for a release.
    labels: Vec<String>,
}

impl NuGetVersion {
    fn parse(version: &str) -> Result<Self, VersionError> {
        Self::parse_reason(version).map_err(|reason| VersionError::version(Scheme::NuGet, version, reason))
    }

    fn parse_reason(version: &str) -> Result<Self, String> {
        let version = version.trim();
        if let Some(last) = version.chars().last().filter(|last| matches!(last, '-' | '+')) {
            return Err(format!("nothing after the final {last:?}"));
        }
        let sections = Sections::split(version);
        let numbers = match sections.version {
            Some(numbers) if !numbers.is_empty() => parse_numbers(numbers)?,
            _ => return Err("no version numbers".to_owned()),
        };
        let labels = sections.labels.map(|labels| labels.split('.').collect::<Vec<_>>()).unwrap_or_default();
        if let Some(label) = labels.iter().find(|label| !is_valid_part(label, false)) {
            return Err(format!("invalid release label {label:?}"));
        }
        if let Some(metadata) = sections.metadata
            && let Some(part) = metadata.split('.').find(|part| !is_valid_part(part, true))
        {
            return Err(format!("invalid build metadata part {part:?}"));
        }
        Ok(Self { numbers, labels: labels.into_iter().map(str::to_owned).collect() })
    }

    /// `VersionComparer.Compare` in the default mode.
    fn compare(&self, other: &Self) -> Ordering {
        self.numbers.cmp(&other.numbers).then_with(|| match (self.labels.is_empty(), other.labels.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => compare_labels(&self.labels, &other.labels),
        })
    }
}

/// The three parts of a version as `ParseSections` cuts them: the numbers up
/// to the first `-` or `+`, the labels up to the next `+`, the metadata after.
#[derive(Debug, Default)]
struct Sections<'a> {
    version: Option<&'a str>,
    labels: Option<&'a str>,
    metadata: Option<&'a str>,
}

impl<'a> Sections<'a> {
    fn split(value: &'a str) -> Self {
        let mut sections = Sections::default();
        let (mut dash, mut plus) = (None, None);
        for (index, c) in value.char_indices() {
            let end = index + c.len_utf8() == value.len();
            // At the last character, a section runs to the end, the character included.
            let section_end = if end { value.len() } else { index };
            if dash.is_none() {
                if end || c == '-' || c == '+' {
                    sections.version = value.get(..section_end);
                    dash = Some(index);
                    if c == '+' {
                        plus = Some(index);
                    }
                }
            } else if plus.is_none() {
                if end || c == '+' {
                    sections.labels = dash.and_then(|dash| value.get(dash + 1..section_end));
                    plus = Some(index);
                }
            } else if end {
                sections.metadata = plus.and_then(|plus| value.get(plus + 1..));
            }
        }
        sections
    }
}

/// `System.Version.TryParse` after NuGet's padding of a lone number.
fn parse_numbers(text: &str) -> Result<[u32; 4], String> {
    let parts: Vec<&str> = text.split('.').collect();
    let parts = if parts.len() == 1 { vec![text, "0"] } else { parts };
    if parts.len() > 4 {
        return Err(format!("{} version numbers, at most 4 are allowed", parts.len()));
    }
    let mut numbers = [0; 4];
    for (number, part) in numbers.iter_mut().zip(&parts) {
        // `int.TryParse` with `NumberStyles.Integer` allows blanks around the digits.
        let digits = part.trim_matches([' ', '\t', '\n', '\u{b}', '\u{c}', '\r']);
        *number = digits
            .bytes()
            .all(|byte| byte.is_ascii_digit())
            .then(|| digits.parse::<u32>().ok())
            .flatten()
            .filter(|&value| i32::try_from(value).is_ok())
            .ok_or_else(|| format!("version number {part:?} is not an integer from 0 to 2147483647"))?;
    }
    Ok(numbers)
}

/// `IsValidPart`: letters, digits and `-`, and not a number with a leading zero
/// unless `allow_leading_zeros`.
fn is_valid_part(part: &str, allow_leading_zeros: bool) -> bool {
    let leading_zero_number =
        part.len() > 1 && part.starts_with('0') && part.bytes().skip(1).all(|byte| byte.is_ascii_digit());
    !part.is_empty()
        && (allow_leading_zeros || !leading_zero_number)
        && part.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
}

fn compare_labels(a: &[String], b: &[String]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(a, b)| compare_label(a, b))
        .find(|order| order.is_ne())
        .unwrap_or_else(|| a.len().cmp(&b.len()))
}

/// `CompareRelease`: numbers (as `int.TryParse` reads them) by value and
/// below words; words ordinally, ignoring ASCII case.
fn compare_label(a: &str, b: &str) -> Ordering {
    match (a.parse::<i32>().ok(), b.parse::<i32>().ok()) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => {
            a.bytes().map(|byte| byte.to_ascii_uppercase()).cmp(b.bytes().map(|byte| byte.to_ascii_uppercase()))
        }
    }
}

/// A NuGet range; bounds absent are unbounded.
struct Range {
    min: Option<NuGetVersion>,
    min_inclusive: bool,
    max: Option<NuGetVersion>,
    max_inclusive: bool,
}

impl Range {
    /// `VersionRange.TryParse` without floating versions.
    fn parse(requirement: &str) -> Result<Self, String> {
        let text = requirement.trim();
        if text.is_empty() {
            return Err("empty".to_owned());
        }
        if text.contains('*') {
            return Err("floating versions (`*`) pick a version to restore, they are not a range to match".to_owned());
        }
        let (min_text, max_text, min_inclusive, max_inclusive) = if let Some(inner) = text.strip_prefix(['[', '(']) {
            let min_inclusive = text.starts_with('[');
            let (inner, max_inclusive) = if let Some(inner) = inner.strip_suffix(']') {
                (inner, true)
            } else if let Some(inner) = inner.strip_suffix(')') {
                (inner, false)
            } else {
                return Err("a range must end with `]` or `)`".to_owned());
            };
            let parts: Vec<&str> = inner.split(',').collect();
            match parts.as_slice() {
                [min, max] if !(min.is_empty() && max.is_empty()) => (*min, Some(*max), min_inclusive, max_inclusive),
                [exact] if !exact.is_empty() && min_inclusive && max_inclusive => {
                    (*exact, Some(*exact), min_inclusive, max_inclusive)
                }
                [exact] if !exact.is_empty() => return Err("a single version must be in `[ ]`".to_owned()),
                [_] | [_, _] => return Err("a range needs at least one bound".to_owned()),
                _ => return Err("a range has at most two bounds".to_owned()),
            }
        } else {
            (text, None, true, false)
        };
        let bound = |text: Option<&str>| -> Result<Option<NuGetVersion>, String> {
            match text.map(str::trim) {
                Some(text) if !text.is_empty() => {
                    NuGetVersion::parse(text).map(Some).map_err(|error| error.to_string())
                }
                _ => Ok(None),
            }
        };
        let (min, max) = (bound(Some(min_text))?, bound(max_text)?);
        if let (Some(min), Some(max)) = (&min, &max) {
            match min.compare(max) {
                Ordering::Greater => return Err("the minimum is above the maximum".to_owned()),
                Ordering::Equal if min_inclusive != max_inclusive => {
                    return Err("equal bounds must both be inclusive or both exclusive".to_owned());
                }
                _ => {}
            }
        }
        Ok(Self { min, min_inclusive, max, max_inclusive })
    }

    /// `VersionRangeBase.Satisfies`.
    fn contains(&self, version: &NuGetVersion) -> bool {
        let above_min = self.min.as_ref().is_none_or(|min| match min.compare(version) {
            Ordering::Less => true,
            Ordering::Equal => self.min_inclusive,
            Ordering::Greater => false,
        });
        let below_max = self.max.as_ref().is_none_or(|max| match max.compare(version) {
            Ordering::Greater => true,
            Ordering::Equal => self.max_inclusive,
            Ordering::Less => false,
        });
        above_min && below_max
    }
}
