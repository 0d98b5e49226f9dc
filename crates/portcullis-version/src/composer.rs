//! PHP Composer packages: version normalisation, order and constraints.
//!
//! Mirrors composer/semver (`VersionParser::normalize`,
//! `VersionParser::parseConstraints`, `Constraint::matchSpecific`,
//! `Semver::satisfies`), which orders normalised versions with PHP's
//! `version_compare` (`ext/standard/versioning.c`), ported here as well.
//!
//! Normalisation:
//!
//! * Blanks around, an alias (`1.0 as 2.0`), a stability flag (`@dev`) and
//!   build metadata (`+foo`) are dropped; a leading `v` too.
//! * A classical version has one to five digits, up to three more dot-parts,
//!   and is padded to four: `1.2` is `1.2.0.0`. A date version (`20100102`,
//!   `2010-01-02`, at least six digits) keeps its parts, dot-separated.
//! * A suffix names a stability: `alpha`/`a`, `beta`/`b`, `RC`, `stable`, or a
//!   patch level `patch`/`pl`/`p`, optionally numbered (`-beta.2` is `-beta2`),
//!   optionally followed by `dev`: `1.0.0RC1dev` is `1.0.0.0-RC1-dev`.
//! * `1.x-dev` and the like are numbered branches (`1.9999999.9999999.9999999-dev`);
//!   `dev-name` (and `master`, `trunk`, `default`) are named branches.
//!
//! Order (`version_compare` of normalised versions): parts compare as
//! numbers, and at one position `dev` < `alpha` < `beta` < `RC` < a number or
//! the end < `patch`; so `1.0.0-dev < 1.0.0-alpha < 1.0.0-beta2 < 1.0.0-RC1 <
//! 1.0.0 < 1.0.0-patch1`, and `1.0 == 1.0.0.0`. Named branches have no place
//! in this order: [`compare`] rejects them, except `dev-master`, `dev-trunk`
//! and `dev-default`, which sort as `9999999-dev` as in `Semver::sort`.
//! Numbers beyond `i64::MAX` compare as `i64::MAX`, as `strtol` does.
//!
//! Constraints: alternatives separated by `|` or `||`; inside one, clauses
//! separated by a comma or a space, all of which must hold. A clause is an
//! operator (`=`, `==`, `!=`, `<>`, `<`, `<=`, `>`, `>=`; none means `=`) and a
//! version, or a range: `^1.2.3` (up to the next change of the first non-zero
//! part), `~1.2` (up to the next change of the last-but-one part given),
//! `1.0.*` or `1.0.x` (wildcards), `1.0 - 2.0` (hyphen range, inclusive), `*`.
//! `<` and `>=` against a version without a stability mean its `-dev`, so no
//! prerelease of `1.0` is `< 1.0`. A named branch meets only `==` (and `!=`)
//! constraints naming it. One deviation: a requirement containing a line
//! break is an error (PHP's regexes would silently drop what follows it).

use std::cmp::Ordering;

use crate::rubygems::{increment_decimal, is_regex_space};
use crate::{Scheme, VersionError};

pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(version_compare(&orderable(a)?, &orderable(b)?))
}

pub fn satisfies(version: &str, requirement: &str) -> Result<bool, VersionError> {
    let version = normalize(version).map_err(|reason| invalid_version(version, reason))?;
    let alternatives = parse_constraints(requirement)
        .map_err(|reason| VersionError::requirement(Scheme::Composer, requirement, reason))?;
    Ok(alternatives.iter().any(|clauses| clauses.iter().all(|clause| clause.matches(&version))))
}

fn invalid_version(version: &str, reason: String) -> VersionError {
    VersionError::version(Scheme::Composer, version, reason)
}

/// A normalised version that has a place in the order.
fn orderable(version: &str) -> Result<String, VersionError> {
    let normalized = normalize(version).map_err(|reason| invalid_version(version, reason))?;
    if matches!(normalized.as_str(), "dev-master" | "dev-trunk" | "dev-default") {
        return Ok("9999999-dev".to_owned());
    }
    if normalized.starts_with("dev-") {
        return Err(invalid_version(version, format!("branch {normalized:?} has no place in the version order")));
    }
    Ok(normalized)
}

/// PHP's `trim`.
fn php_trim(text: &str) -> &str {
    text.trim_matches([' ', '\t', '\n', '\r', '\0', '\u{b}'])
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    if starts_with_ignore_case(text, prefix) { text.get(prefix.len()..) } else { None }
}

fn is_digit(byte: u8) -> bool {
    byte.is_ascii_digit()
}

/// Splits off the leading ASCII digits.
fn digit_run(text: &str) -> (&str, &str) {
    text.split_at(text.bytes().take_while(|&byte| is_digit(byte)).count())
}

/// `^([^,\s]++) ++as ++([^,\s]++)$`: the aliased version of `1.0 as 2.0`.
fn alias_source(text: &str) -> Option<&str> {
    let is_word = |c: char| c != ',' && !is_regex_space(c);
    let source_end = text.find(|c| !is_word(c))?;
    let (source, rest) = text.split_at(source_end);
    let rest = rest.strip_prefix(' ')?.trim_start_matches(' ').strip_prefix("as ")?.trim_start_matches(' ');
    (!source.is_empty() && !rest.is_empty() && rest.chars().all(is_word)).then_some(source)
}

const STABILITY_FLAGS: [&str; 5] = ["stable", "RC", "beta", "alpha", "dev"];

/// A stability flag (`@dev`) at the end: the text before it and the flag.
fn split_stability_flag(text: &str) -> Option<(&str, &str)> {
    let (before, flag) = text.rsplit_once('@')?;
    STABILITY_FLAGS.iter().any(|known| known.eq_ignore_ascii_case(flag)).then_some((before, flag))
}

/// What follows the numbers of a version: `[._-]?(?:(stability)((?:[.-]?\d+)*+)?)?([.-]?dev)?`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Modifier<'a> {
    /// As written: `b`, `Beta`, `pl`...
    stability: Option<&'a str>,
    /// Its number as written, separators included: `.2`, `-2.1-3`.
    number: &'a str,
    dev: bool,
}

/// In the order of the regex alternation, which decides between `b` and `beta`.
const STABILITIES: [&str; 9] = ["stable", "beta", "b", "RC", "alpha", "a", "patch", "pl", "p"];

/// The modifier regex, anchored at both ends of `text`, with the first
/// alternative the regex would take. `ignore_case` is the `/i` flag.
fn match_modifier(text: &str, ignore_case: bool) -> Option<Modifier<'_>> {
    let strip = |text: &'_ str, word: &str| -> Option<usize> {
        let head = text.get(..word.len())?;
        let equal = if ignore_case { head.eq_ignore_ascii_case(word) } else { head == word };
        equal.then_some(word.len())
    };
    let separator_lengths: &[usize] = if text.starts_with(['.', '_', '-']) { &[1, 0] } else { &[0] };
    for &separator in separator_lengths {
        let after_separator = text.get(separator..).unwrap_or_default();
        let stabilities = STABILITIES.iter().map(Some).chain([None]);
        for stability in stabilities {
            let (stability, rest) = match stability {
                Some(word) => match strip(after_separator, word) {
                    Some(length) => after_separator.split_at(length),
                    None => continue,
                },
                None => ("", after_separator),
            };
            let (number, rest) = if stability.is_empty() { ("", rest) } else { stability_number(rest) };
            let stability = (!stability.is_empty()).then_some(stability);
            if rest.is_empty() {
                return Some(Modifier { stability, number, dev: false });
            }
            let dev_separators: &[usize] = if rest.starts_with(['.', '-']) { &[1, 0] } else { &[0] };
            for &dev_separator in dev_separators {
                if rest.get(dev_separator..).is_some_and(|dev| strip(dev, "dev") == Some(dev.len())) {
                    return Some(Modifier { stability, number, dev: true });
                }
            }
        }
    }
    None
}

/// `(?:[.-]?\d+)*+`: as many optionally separated digit runs as there are.
fn stability_number(text: &str) -> (&str, &str) {
    let mut length = 0;
    loop {
        let rest = text.get(length..).unwrap_or_default();
        let separator = usize::from(rest.starts_with(['.', '-']));
        let digits = rest.bytes().skip(separator).take_while(|&byte| is_digit(byte)).count();
        if digits == 0 {
            return text.split_at(length);
        }
        length += separator + digits;
    }
}

/// `VersionParser::expandStability`.
fn expand_stability(stability: &str) -> String {
    match stability.to_ascii_lowercase().as_str() {
        "a" => "alpha".to_owned(),
        "b" => "beta".to_owned(),
        "p" | "pl" => "patch".to_owned(),
        "rc" => "RC".to_owned(),
        other => other.to_owned(),
    }
}

/// `VersionParser::normalize`.
fn normalize(version: &str) -> Result<String, String> {
    let mut text = php_trim(version);
    if let Some(source) = alias_source(text) {
        text = source;
    }
    if let Some((before, _)) = split_stability_flag(text) {
        text = before;
    }
    if matches!(text, "master" | "trunk" | "default") {
        return Ok(format!("dev-{text}"));
    }
    if let Some(branch) = strip_prefix_ignore_case(text, "dev-") {
        return Ok(format!("dev-{branch}"));
    }
    if let Some((before, metadata)) = text.split_once('+')
        && !before.is_empty()
        && !before.contains(|c| c == ',' || is_regex_space(c))
        && !metadata.is_empty()
        && !metadata.contains(is_regex_space)
    {
        text = before;
    }
    if let Some(normalized) = normalize_classical(text).or_else(|| normalize_date(text)) {
        return Ok(normalized);
    }
    if let Some(name) = strip_dev_suffix(text) {
        let normalized = normalize_branch(name);
        // A name ending in `-dev` is a version only when it is a numbered branch.
        if !normalized.contains("dev-") {
            return Ok(normalized);
        }
    }
    Err("not a version, a `dev-` branch or a numbered `-dev` branch".to_owned())
}

/// Appends the stability suffix of `modifier` to a normalised number.
fn with_modifier(mut version: String, modifier: Modifier<'_>) -> String {
    if let Some(stability) = modifier.stability {
        if stability == "stable" {
            return version;
        }
        version.push('-');
        version.push_str(&expand_stability(stability));
        version.push_str(modifier.number.trim_start_matches(['.', '-']));
    }
    if modifier.dev {
        version.push_str("-dev");
    }
    version
}

fn strip_v(text: &str) -> &str {
    text.strip_prefix(['v', 'V']).unwrap_or(text)
}

/// `^v?(\d{1,5})(\.\d++)?(\.\d++)?(\.\d++)?{modifier}$`, padded to four parts.
fn normalize_classical(text: &str) -> Option<String> {
    let (major, mut rest) = digit_run(strip_v(text));
    if major.is_empty() || major.len() > 5 {
        return None;
    }
    let mut version = major.to_owned();
    for _ in 0..3 {
        match dot_number(rest) {
            Some((part, after)) => {
                version.push_str(part);
                rest = after;
            }
            None => version.push_str(".0"),
        }
    }
    Some(with_modifier(version, match_modifier(rest, true)?))
}

/// A `.` followed by digits at the start: the part with its dot, and the rest.
fn dot_number(text: &str) -> Option<(&str, &str)> {
    let digits = digit_run(text.strip_prefix('.')?).0.len();
    (digits > 0).then(|| text.split_at(1 + digits))
}

/// `^v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3})?){modifier}$`, its
/// separators made dots.
fn normalize_date(text: &str) -> Option<String> {
    let text = strip_v(text);
    let is_date_byte = |byte: u8| is_digit(byte) || matches!(byte, b'.' | b':' | b'-');
    let run = text.bytes().take_while(|&byte| is_date_byte(byte)).count();
    // The modifier cannot hold a digit before its stability word, so the date
    // runs up to the last digit of the run.
    let date_length = text.bytes().take(run).rposition(is_digit).map_or(0, |last| last + 1);
    let (date, rest) = text.split_at(date_length);
    if !is_date(date.as_bytes()) {
        return None;
    }
    let dotted = date.chars().map(|c| if c.is_ascii_digit() { c } else { '.' }).collect();
    Some(with_modifier(dotted, match_modifier(rest, true)?))
}

/// `\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3})?`, anchored at both ends.
fn is_date(date: &[u8]) -> bool {
    fn digits(text: &[u8], count: usize) -> Option<&[u8]> {
        let (head, tail) = text.split_at_checked(count)?;
        head.iter().all(|&byte| is_digit(byte)).then_some(tail)
    }
    fn without_separator(text: &[u8]) -> [&[u8]; 2] {
        match text {
            [b'.' | b':' | b'-', rest @ ..] => [rest, text],
            _ => [text, text],
        }
    }
    fn pairs(text: &[u8], count: usize) -> bool {
        let another_pair = count < 6
            && without_separator(text).iter().any(|text| digits(text, 2).is_some_and(|rest| pairs(rest, count + 1)));
        another_pair || (count >= 1 && tail(text))
    }
    fn tail(text: &[u8]) -> bool {
        text.is_empty()
            || without_separator(text).iter().any(|text| (1..=3).any(|count| digits(text, count) == Some(&[][..])))
    }
    digits(date, 4).is_some_and(|rest| pairs(rest, 0))
}

/// `(.*?)[.-]?dev$` (case-insensitive): the name before a `dev` suffix.
fn strip_dev_suffix(text: &str) -> Option<&str> {
    let suffix_start = text.len().checked_sub(3)?;
    if !text.get(suffix_start..).is_some_and(|suffix| suffix.eq_ignore_ascii_case("dev")) {
        return None;
    }
    let name = text.get(..suffix_start)?;
    Some(name.strip_suffix(['.', '-']).unwrap_or(name))
}

/// `VersionParser::normalizeBranch`: `1.x` is `1.9999999.9999999.9999999-dev`,
/// anything else `dev-` and the name.
fn normalize_branch(name: &str) -> String {
    let name = php_trim(name);
    match numbered_branch(name) {
        Some(parts) => {
            let mut version = parts.concat();
            for _ in parts.len()..4 {
                version.push_str(".x");
            }
            format!("{}-dev", version.replace(['*', 'X'], "x").replace('x', "9999999"))
        }
        None => format!("dev-{name}"),
    }
}

/// `^v?(\d++)(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?$`
/// (case-insensitive): the parts, each after the first with its dot.
fn numbered_branch(name: &str) -> Option<Vec<&str>> {
    let (first, mut rest) = digit_run(strip_v(name));
    if first.is_empty() {
        return None;
    }
    let mut parts = vec![first];
    while parts.len() < 4 && !rest.is_empty() {
        let after_dot = rest.strip_prefix('.')?;
        let length = match digit_run(after_dot).0.len() {
            0 if after_dot.starts_with(['x', 'X', '*']) => 1,
            0 => return None,
            digits => digits,
        };
        let (part, tail) = rest.split_at(1 + length);
        parts.push(part);
        rest = tail;
    }
    rest.is_empty().then_some(parts)
}

/// `php_version_compare` of `ext/standard/versioning.c`.
fn version_compare(a: &str, b: &str) -> Ordering {
    php_version_compare(a.as_bytes(), b.as_bytes())
}

/// The internal marker PHP compares a lone part against.
const NUMBER_MARK: &[u8] = b"#N#";

fn php_version_compare(a: &[u8], b: &[u8]) -> Ordering {
    if a.is_empty() || b.is_empty() {
        return (!a.is_empty()).cmp(&!b.is_empty());
    }
    let canonical = |version: &[u8]| {
        if version.first() == Some(&b'#') { version.to_vec() } else { canonicalize(version) }
    };
    let (a, b) = (canonical(a), canonical(b));
    // Positions of the current parts, and of the dots ending them (`None` once
    // a part was the last one), as the C loop keeps them.
    let (mut p1, mut p2) = (0, 0);
    let (mut n1, mut n2) = (Some(0), Some(0));
    let mut order = Ordering::Equal;
    while p1 < a.len() && p2 < b.len() && n1.is_some() && n2.is_some() {
        n1 = find_dot(&a, p1);
        n2 = find_dot(&b, p2);
        let part1 = a.get(p1..n1.unwrap_or(a.len())).unwrap_or_default();
        let part2 = b.get(p2..n2.unwrap_or(b.len())).unwrap_or_default();
        let (digit1, digit2) =
            (part1.first().is_some_and(|&c| is_digit(c)), part2.first().is_some_and(|&c| is_digit(c)));
        order = match (digit1, digit2) {
            (true, true) => strtol(part1).cmp(&strtol(part2)),
            (false, false) => compare_special_forms(part1, part2),
            (true, false) => compare_special_forms(NUMBER_MARK, part2),
            (false, true) => compare_special_forms(part1, NUMBER_MARK),
        };
        if order.is_ne() {
            break;
        }
        if let Some(dot) = n1 {
            p1 = dot + 1;
        }
        if let Some(dot) = n2 {
            p2 = dot + 1;
        }
    }
    if order.is_eq() {
        if n1.is_some() {
            let rest = a.get(p1..).unwrap_or_default();
            order = if rest.first().is_some_and(|&c| is_digit(c)) {
                Ordering::Greater
            } else {
                php_version_compare(rest, NUMBER_MARK)
            };
        } else if n2.is_some() {
            let rest = b.get(p2..).unwrap_or_default();
            order = if rest.first().is_some_and(|&c| is_digit(c)) {
                Ordering::Less
            } else {
                php_version_compare(NUMBER_MARK, rest)
            };
        }
    }
    order
}

fn find_dot(text: &[u8], from: usize) -> Option<usize> {
    text.get(from..)?.iter().position(|&c| c == b'.').map(|offset| from + offset)
}

/// `strtol` of a run starting with digits: saturates at `i64::MAX`.
fn strtol(part: &[u8]) -> i64 {
    part.iter()
        .take_while(|&&c| is_digit(c))
        .try_fold(0_i64, |value, &digit| value.checked_mul(10)?.checked_add(i64::from(digit - b'0')))
        .unwrap_or(i64::MAX)
}

/// `php_canonicalize_version`: `-`, `_` and `+` become dots, so does any
/// other character that is not a letter or digit, and a dot goes between
/// digits and non-digits; runs of dots collapse. The first byte stays as is.
fn canonicalize(version: &[u8]) -> Vec<u8> {
    let Some((&first, rest)) = version.split_first() else {
        return Vec::new();
    };
    let is_other_part = |c: u8| !is_digit(c) && c != b'.';
    let mut canonical = Vec::with_capacity(version.len() * 2);
    canonical.push(first);
    let mut previous = first;
    for &c in rest {
        let after_dot = canonical.last() == Some(&b'.');
        if matches!(c, b'-' | b'_' | b'+') {
            if !after_dot {
                canonical.push(b'.');
            }
        } else if (is_other_part(previous) && is_digit(c)) || (is_digit(previous) && is_other_part(c)) {
            if !after_dot {
                canonical.push(b'.');
            }
            canonical.push(c);
        } else if !c.is_ascii_alphanumeric() {
            if !after_dot {
                canonical.push(b'.');
            }
        } else {
            canonical.push(c);
        }
        previous = c;
    }
    canonical
}

/// `compare_special_version_forms`: words by the first special form they
/// start with; any other word ranks lowest.
fn compare_special_forms(a: &[u8], b: &[u8]) -> Ordering {
    const FORMS: [(&[u8], i8); 10] = [
        (b"dev", 0),
        (b"alpha", 1),
        (b"a", 1),
        (b"beta", 2),
        (b"b", 2),
        (b"RC", 3),
        (b"rc", 3),
        (b"#", 4),
        (b"pl", 5),
        (b"p", 5),
    ];
    let rank = |part: &[u8]| FORMS.iter().find(|(form, _)| part.starts_with(form)).map_or(-1, |&(_, rank)| rank);
    rank(a).cmp(&rank(b))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// One clause after parsing, against a normalised version.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Clause {
    Any,
    Compare(Operator, String),
}

impl Clause {
    /// `Constraint::matchSpecific` against `== version`: branches only meet
    /// `==`/`!=` clauses naming them.
    fn matches(&self, version: &str) -> bool {
        let Clause::Compare(operator, bound) = self else {
            return true;
        };
        let (version_is_branch, bound_is_branch) = (version.starts_with("dev-"), bound.starts_with("dev-"));
        if *operator == Operator::NotEqual && (version_is_branch || bound_is_branch) {
            return version != bound;
        }
        if version_is_branch || bound_is_branch {
            return version_is_branch && bound_is_branch && *operator == Operator::Equal && version == bound;
        }
        let order = version_compare(version, bound);
        match operator {
            Operator::Equal => order.is_eq(),
            Operator::NotEqual => order.is_ne(),
            Operator::Less => order.is_lt(),
            Operator::LessOrEqual => order.is_le(),
            Operator::Greater => order.is_gt(),
            Operator::GreaterOrEqual => order.is_ge(),
        }
    }
}

/// `VersionParser::parseConstraints`: alternatives of clauses.
fn parse_constraints(requirement: &str) -> Result<Vec<Vec<Clause>>, String> {
    if requirement.contains('\n') {
        return Err("line break inside the requirement".to_owned());
    }
    split_alternatives(php_trim(requirement))
        .into_iter()
        .map(|alternative| {
            split_clauses(alternative).into_iter().try_fold(Vec::new(), |mut clauses, clause| {
                clauses.extend(parse_constraint(clause)?);
                Ok(clauses)
            })
        })
        .collect()
}

/// `preg_split('{\s*\|\|?\s*}')`.
fn split_alternatives(text: &str) -> Vec<&str> {
    let mut alternatives = Vec::new();
    let mut rest = text;
    while let Some(bar) = rest.find('|') {
        let (alternative, after) = rest.split_at(bar);
        alternatives.push(alternative.trim_end_matches(is_regex_space));
        let after = after.strip_prefix('|').unwrap_or(after);
        rest = after.strip_prefix('|').unwrap_or(after).trim_start_matches(is_regex_space);
    }
    alternatives.push(rest);
    alternatives
}

/// `preg_split('{(?<!^|as|[=>< ,]) *(?<!-)[, ](?!-) *(?!,|as|$)}')`: commas
/// or spaces between clauses, but not after an operator, around the `-` of a
/// hyphen range, or around the `as` of an alias.
fn split_clauses(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut clauses = Vec::new();
    let (mut clause_start, mut position) = (0, 0);
    while position < bytes.len() {
        match clause_separator_at(bytes, position) {
            Some(end) => {
                clauses.push(text.get(clause_start..position).unwrap_or_default());
                clause_start = end;
                position = end;
            }
            None => position += 1,
        }
    }
    clauses.push(text.get(clause_start..).unwrap_or_default());
    clauses
}

/// Where a clause separator starting at `start` ends, if one does, trying the
/// space runs longest first as the regex does.
fn clause_separator_at(bytes: &[u8], start: usize) -> Option<usize> {
    let before = bytes.get(..start)?;
    if before.is_empty() || before.ends_with(b"as") || matches!(before.last(), Some(b'=' | b'>' | b'<' | b' ' | b',')) {
        return None;
    }
    let spaces_from = |from: usize| bytes.get(from..).unwrap_or_default().iter().take_while(|&&c| c == b' ').count();
    (0..=spaces_from(start)).rev().find_map(|leading| {
        let separator = start + leading;
        let before_separator = bytes.get(separator.checked_sub(1)?)?;
        if *before_separator == b'-' || !matches!(bytes.get(separator), Some(b',' | b' ')) {
            return None;
        }
        let after = separator + 1;
        if bytes.get(after) == Some(&b'-') {
            return None;
        }
        (0..=spaces_from(after)).rev().map(|trailing| after + trailing).find(|&end| {
            let rest = bytes.get(end..).unwrap_or_default();
            !rest.is_empty() && !rest.starts_with(b",") && !rest.starts_with(b"as")
        })
    })
}

/// `^(dev-[^,\s@]+?|[^,\s@]+?\.x-dev)#.+$` (case-insensitive): a branch with
/// a `#ref`, without it.
fn strip_reference(text: &str) -> Option<&str> {
    text.match_indices('#').map(|(hash, _)| hash).find_map(|hash| {
        let (branch, reference) = text.split_at(hash);
        let plain = !branch.contains(|c: char| c == ',' || c == '@' || is_regex_space(c));
        let is_branch = strip_prefix_ignore_case(branch, "dev-").is_some_and(|name| !name.is_empty())
            || branch.len() > ".x-dev".len() && branch.to_ascii_lowercase().ends_with(".x-dev");
        (plain && is_branch && reference.len() > 1).then_some(branch)
    })
}

/// `^(v)?[xX*](\.[xX*])*$` (case-insensitive): whether it is a bare `*`
/// (`Some(true)`), or a wildcard with a `v` or more than one part.
fn match_all_wildcard(text: &str) -> Option<bool> {
    let (has_v, rest) = match text.strip_prefix(['v', 'V']) {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let parts: Vec<&str> = rest.split('.').collect();
    parts.iter().all(|part| matches!(*part, "x" | "X" | "*")).then_some(!has_v && parts.len() == 1)
}

/// A match of the version regex of `parseConstraint`:
/// `v?(\d++)(?:\.(\d++))?(?:\.(\d++))?(?:\.(\d++))?(?:{modifier}|\.([xX*][.-]?dev))(?:\+[^\s]+)?`.
struct VersionMatch<'a> {
    numbers: Vec<&'a str>,
    modifier: Modifier<'a>,
    /// The `.x-dev` alternative matched.
    x_dev: bool,
}

impl VersionMatch<'_> {
    /// Whether the version names a stability or `dev`; without one, a lower
    /// bound takes in the `-dev` of its version.
    fn has_stability(&self) -> bool {
        self.modifier.stability.is_some() || self.modifier.dev || self.x_dev
    }

    /// `manipulateVersionString`: parts after `position` (1-based) become 0
    /// and, with `increment`, the part at `position` goes up by one.
    fn manipulated(&self, position: usize, increment: bool) -> String {
        let parts: Vec<String> = (1..=4)
            .map(|index| {
                let part = self.numbers.get(index - 1).copied().unwrap_or_default();
                if index > position {
                    "0".to_owned()
                } else if index == position && increment {
                    increment_decimal(part.trim_start_matches('0'))
                } else {
                    part.to_owned()
                }
            })
            .collect();
        parts.join(".")
    }
}

fn match_version(text: &str) -> Option<VersionMatch<'_>> {
    let (first, mut rest) = digit_run(strip_v(text));
    if first.is_empty() {
        return None;
    }
    let mut numbers = vec![first];
    while numbers.len() < 4
        && let Some((part, after)) = dot_number(rest)
    {
        numbers.push(part.get(1..).unwrap_or_default());
        rest = after;
    }
    let head = match rest.split_once('+') {
        Some((head, metadata)) if !metadata.is_empty() && !metadata.contains(is_regex_space) => head,
        Some(_) => return None,
        None => rest,
    };
    if let Some(modifier) = match_modifier(head, true) {
        return Some(VersionMatch { numbers, modifier, x_dev: false });
    }
    let x_dev = head.strip_prefix('.').and_then(|wildcard| wildcard.strip_prefix(['x', 'X', '*'])).is_some_and(|dev| {
        let dev = dev.strip_prefix(['.', '-']).unwrap_or(dev);
        dev.eq_ignore_ascii_case("dev")
    });
    x_dev.then(|| VersionMatch { numbers, modifier: Modifier::default(), x_dev })
}

/// `VersionParser::parseConstraint`: one clause, which a range makes two.
fn parse_constraint(clause: &str) -> Result<Vec<Clause>, String> {
    let mut text = clause;
    if let Some(source) = alias_source(text) {
        text = source;
    }
    let mut stability_modifier = None;
    if let Some((before, flag)) = split_stability_flag(text)
        && !before.contains(|c: char| c == ',' || is_regex_space(c))
    {
        text = if before.is_empty() { "*" } else { before };
        if flag != "stable" {
            stability_modifier = Some(flag);
        }
    }
    if let Some(branch) = strip_reference(text) {
        text = branch;
    }
    if let Some(bare) = match_all_wildcard(text) {
        return Ok(vec![if bare { Clause::Any } else { at_least("0.0.0.0-dev") }]);
    }
    if let Some(range) = text.strip_prefix('~') {
        let (pessimistic, range) = match range.strip_prefix('>') {
            Some(range) => (true, range),
            None => (false, range),
        };
        if let Some(version) = match_version(range) {
            if pessimistic {
                return Err(format!("invalid operator \"~>\" in {clause:?}, the tilde operator is \"~\""));
            }
            return tilde_range(range, &version);
        }
    }
    if let Some(range) = text.strip_prefix('^')
        && let Some(version) = match_version(range)
    {
        return caret_range(range, &version);
    }
    if let Some(clauses) = wildcard_range(text) {
        return Ok(clauses);
    }
    if let Some((from, to)) = split_hyphen_range(text)
        && let (Some(low), Some(high)) = (match_version(from), match_version(to))
    {
        return hyphen_range(from, &low, to, &high);
    }
    comparison(text, stability_modifier).map(|clause| vec![clause])
}

fn at_least(version: &str) -> Clause {
    Clause::Compare(Operator::GreaterOrEqual, version.to_owned())
}

fn below(version: String) -> Clause {
    Clause::Compare(Operator::Less, version)
}

/// The lower bound of `~` and `^`: the version, with `-dev` unless it names a stability.
fn range_start(version_text: &str, version: &VersionMatch<'_>) -> Result<Clause, String> {
    let suffix = if version.has_stability() { "" } else { "-dev" };
    Ok(Clause::Compare(Operator::GreaterOrEqual, normalize(&format!("{version_text}{suffix}"))?))
}

/// `~1.2` is `>= 1.2.0.0-dev, < 2.0.0.0-dev`; `~1.2.3` is `< 1.3.0.0-dev`.
fn tilde_range(text: &str, version: &VersionMatch<'_>) -> Result<Vec<Clause>, String> {
    let position = version.numbers.len() + usize::from(version.x_dev);
    let end = version.manipulated(position.saturating_sub(1).max(1), true);
    Ok(vec![range_start(text, version)?, below(format!("{end}-dev"))])
}

/// `^1.2.3` is `>= 1.2.3.0-dev, < 2.0.0.0-dev`; `^0.2.3` is `< 0.3.0.0-dev`;
/// `^0.0.3` is `< 0.0.4.0-dev`.
fn caret_range(text: &str, version: &VersionMatch<'_>) -> Result<Vec<Clause>, String> {
    let part = |index: usize| version.numbers.get(index).copied();
    let position = if part(0) != Some("0") || part(1).is_none() {
        1
    } else if part(1) != Some("0") || part(2).is_none() {
        2
    } else {
        3
    };
    let end = version.manipulated(position, true);
    Ok(vec![range_start(text, version)?, below(format!("{end}-dev"))])
}

/// `^v?(\d++)(?:\.(\d++))?(?:\.(\d++))?(?:\.[xX*])++$`: `1.0.*` is
/// `>= 1.0.0.0-dev, < 1.1.0.0-dev`.
fn wildcard_range(text: &str) -> Option<Vec<Clause>> {
    let (first, mut rest) = digit_run(text.strip_prefix('v').unwrap_or(text));
    if first.is_empty() {
        return None;
    }
    let mut numbers = vec![first];
    while numbers.len() < 3
        && let Some((part, after)) = dot_number(rest)
    {
        numbers.push(part.get(1..).unwrap_or_default());
        rest = after;
    }
    let wildcards = rest.strip_prefix('.')?.split('.');
    if !wildcards.into_iter().all(|part| matches!(part, "x" | "X" | "*")) {
        return None;
    }
    let position = numbers.len();
    let version = VersionMatch { numbers, modifier: Modifier::default(), x_dev: false };
    let (start, end) = (version.manipulated(position, false), version.manipulated(position, true));
    let end = below(format!("{end}-dev"));
    Some(if start == "0.0.0.0" { vec![end] } else { vec![at_least(&format!("{start}-dev")), end] })
}

/// `^(?P<from>{version}) +- +(?P<to>{version})$`: the two versions.
fn split_hyphen_range(text: &str) -> Option<(&str, &str)> {
    let (from, rest) = text.split_once(' ')?;
    let rest = rest.trim_start_matches(' ').strip_prefix('-')?;
    let to = rest.strip_prefix(' ')?.trim_start_matches(' ');
    Some((from, to))
}

/// `1.0 - 2.0` is `>= 1.0.0.0-dev, < 2.1.0.0-dev`; a complete or stability
/// upper version is inclusive: `1.0 - 2.0.0` is `<= 2.0.0.0`.
fn hyphen_range(from: &str, low: &VersionMatch<'_>, to: &str, high: &VersionMatch<'_>) -> Result<Vec<Clause>, String> {
    let suffix = if low.has_stability() { "" } else { "-dev" };
    let start = at_least(&format!("{}{suffix}", normalize(from)?));
    let end_version = normalize(to)?;
    let end = if high.numbers.len() >= 3 || high.has_stability() {
        Clause::Compare(Operator::LessOrEqual, end_version)
    } else {
        let position = if high.numbers.len() >= 2 { 2 } else { 1 };
        below(format!("{}-dev", high.manipulated(position, true)))
    };
    Ok(vec![start, end])
}

const COMPARISON_OPERATORS: [(&str, Operator); 8] = [
    ("<>", Operator::NotEqual),
    ("!=", Operator::NotEqual),
    (">=", Operator::GreaterOrEqual),
    (">", Operator::Greater),
    ("<=", Operator::LessOrEqual),
    ("<", Operator::Less),
    ("==", Operator::Equal),
    ("=", Operator::Equal),
];

/// `^(<>|!=|>=?|<=?|==?)?\s*(.*)`: an operator and a version.
fn comparison(text: &str, stability_modifier: Option<&str>) -> Result<Clause, String> {
    let (symbol, operator, version_text) = COMPARISON_OPERATORS
        .iter()
        .find_map(|&(symbol, operator)| text.strip_prefix(symbol).map(|rest| (symbol, operator, rest)))
        .unwrap_or(("", Operator::Equal, text));
    let version_text = version_text.trim_start_matches(is_regex_space);
    let mut version = match normalize(version_text) {
        Ok(version) => version,
        // `foo-dev` is read as the branch `dev-foo`, unless it was never a branch name.
        Err(_) if is_misplaced_branch(version_text) => {
            format!("dev-{}", version_text.get(..version_text.len() - "-dev".len()).unwrap_or_default())
        }
        Err(reason) => return Err(format!("could not parse {text:?}: {reason}")),
    };
    let is_equality = matches!(symbol, "" | "=" | "==");
    match stability_modifier {
        Some(flag) if !is_equality && is_stable(&version) => {
            version.push('-');
            version.push_str(flag);
        }
        _ if matches!(operator, Operator::Less | Operator::GreaterOrEqual)
            && !ends_with_modifier(&version_text.to_ascii_lowercase())
            && !version_text.starts_with("dev-") =>
        {
            version.push_str("-dev");
        }
        _ => {}
    }
    Ok(Clause::Compare(operator, version))
}

/// `substr($v, -4) === '-dev' && preg_match('{^[0-9a-zA-Z-./]+$}', $v)`.
fn is_misplaced_branch(text: &str) -> bool {
    text.ends_with("-dev") && text.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'/'))
}

/// `preg_match('/-{modifier}$/', $lowercased)`: a `-` followed by a modifier
/// up to the end. The regex is case-sensitive, so `RC` never matches here.
fn ends_with_modifier(lowercased: &str) -> bool {
    lowercased
        .match_indices('-')
        .any(|(dash, _)| match_modifier(lowercased.get(dash + 1..).unwrap_or_default(), false).is_some())
}

/// `VersionParser::parseStability($v) === 'stable'` for a normalised version,
/// whose stability suffix (if any) follows its first `-`.
fn is_stable(normalized: &str) -> bool {
    if normalized.starts_with("dev-") || normalized.ends_with("-dev") {
        return false;
    }
    normalized
        .split_once('-')
        .is_none_or(|(_, suffix)| !["alpha", "beta", "RC"].iter().any(|unstable| suffix.starts_with(unstable)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `VersionParserTest::successfulNormalizedVersions` of composer/semver.
    #[test]
    fn upstream_normalized_versions() {
        for (version, expected) in [
            ("1.0.0", "1.0.0.0"),
            ("1.2.3.4", "1.2.3.4"),
            ("1.0.0RC1dev", "1.0.0.0-RC1-dev"),
            ("1.0.0-rC15-dev", "1.0.0.0-RC15-dev"),
            ("1.0.0.RC.15-dev", "1.0.0.0-RC15-dev"),
            ("1.0.0-rc1", "1.0.0.0-RC1"),
            ("1.0.0.pl3-dev", "1.0.0.0-patch3-dev"),
            ("1.0-dev", "1.0.0.0-dev"),
            ("0", "0.0.0.0"),
            ("10.4.13-beta", "10.4.13.0-beta"),
            ("10.4.13beta2", "10.4.13.0-beta2"),
            ("10.4.13-beta.2", "10.4.13.0-beta2"),
            ("v1.13.11-beta.0", "1.13.11.0-beta0"),
            ("1.13.11.0-beta0", "1.13.11.0-beta0"),
            ("10.4.13-b", "10.4.13.0-beta"),
            ("10.4.13-b5", "10.4.13.0-beta5"),
            ("v1.0.0", "1.0.0.0"),
            ("2010.01", "2010.01.0.0"),
            ("2010.01.02", "2010.01.02.0"),
            ("2010.1.555", "2010.1.555.0"),
            ("2010.10.200", "2010.10.200.0"),
            ("v20100102", "20100102"),
            ("2010-01-02", "2010.01.02"),
            ("2010-01-02.5", "2010.01.02.5"),
            ("20100102-203040", "20100102.203040"),
            ("20100102203040-10", "20100102203040.10"),
            ("20100102-203040-p1", "20100102.203040-patch1"),
            ("201903.0", "201903.0"),
            ("201903.0-p2", "201903.0-patch2"),
            ("dev-master", "dev-master"),
            ("master", "dev-master"),
            ("dev-trunk", "dev-trunk"),
            ("1.x-dev", "1.9999999.9999999.9999999-dev"),
            ("dev-feature-foo", "dev-feature-foo"),
            ("DEV-FOOBAR", "dev-FOOBAR"),
            ("dev-feature/foo", "dev-feature/foo"),
            ("dev-feature+issue-1", "dev-feature+issue-1"),
            ("dev-master as 1.0.0", "dev-master"),
            ("dev-load-varnish-only-when-used as ^2.0", "dev-load-varnish-only-when-used"),
            ("dev-load-varnish-only-when-used@dev as ^2.0@dev", "dev-load-varnish-only-when-used"),
            ("1.0.0+foo@dev", "1.0.0.0"),
            ("dev-load-varnish-only-when-used@stable", "dev-load-varnish-only-when-used"),
            ("1.0.0-beta.5+foo", "1.0.0.0-beta5"),
            ("1.0.0+foo", "1.0.0.0"),
            ("1.0.0-alpha.3.1+foo", "1.0.0.0-alpha3.1"),
            ("1.0.0-alpha2.1+foo", "1.0.0.0-alpha2.1"),
            ("1.0.0-alpha-2.1-3+foo", "1.0.0.0-alpha2.1-3"),
            ("1.0.0+foo as 2.0", "1.0.0.0"),
            ("00.01.03.04", "00.01.03.04"),
            ("000.001.003.004", "000.001.003.004"),
            ("0.000.103.204", "0.000.103.204"),
            ("0700", "0700.0.0.0"),
            ("041.x-dev", "041.9999999.9999999.9999999-dev"),
            ("dev-041.003", "dev-041.003"),
            ("dev-1.0.0-dev<1.0.5-dev", "dev-1.0.0-dev<1.0.5-dev"),
            ("dev-foo bar", "dev-foo bar"),
            (" 1.0.0", "1.0.0.0"),
            ("1.0.0 ", "1.0.0.0"),
        ] {
            assert_eq!(normalize(version).as_deref(), Ok(expected), "{version:?}");
        }
    }

    /// `VersionParserTest::failingNormalizedVersions`, and stray separators.
    #[test]
    fn upstream_invalid_versions() {
        for version in [
            "",
            "a",
            "1.0.0-meh",
            "1.0.0.0.0",
            "feature-foo",
            "1.0.0+foo bar",
            "1.0.1-SNAPSHOT",
            "1.0.0<1.0.5-dev",
            "1.0.0-dev<1.0.5-dev",
            "foo bar-dev",
            "1.0 .2",
            "20100102.203040.0.1",
            "1.0.0-beta.2-dev-",
            "20100102-203040-p1-dev-",
        ] {
            assert!(normalize(version).is_err(), "{version:?} normalized to {:?}", normalize(version));
        }
    }

    fn compare(operator: Operator, version: &str) -> Clause {
        Clause::Compare(operator, version.to_owned())
    }

    fn parsed(constraints: &str) -> Vec<Vec<Clause>> {
        parse_constraints(constraints).unwrap_or_else(|reason| panic!("{constraints:?}: {reason}"))
    }

    /// `VersionParserTest::simpleConstraints`.
    #[test]
    fn upstream_simple_constraints() {
        use Operator::*;
        for (constraint, expected) in [
            ("*", Clause::Any),
            ("*.*", compare(GreaterOrEqual, "0.0.0.0-dev")),
            ("v*.*", compare(GreaterOrEqual, "0.0.0.0-dev")),
            ("*.x.*", compare(GreaterOrEqual, "0.0.0.0-dev")),
            ("x.X.x.*", compare(GreaterOrEqual, "0.0.0.0-dev")),
            ("<>1.0.0", compare(NotEqual, "1.0.0.0")),
            ("!=1.0.0", compare(NotEqual, "1.0.0.0")),
            (">1.0.0", compare(Greater, "1.0.0.0")),
            ("<1.2.3.4", compare(Less, "1.2.3.4-dev")),
            ("<=1.2.3", compare(LessOrEqual, "1.2.3.0")),
            (">=1.2.3", compare(GreaterOrEqual, "1.2.3.0-dev")),
            ("=1.2.3", compare(Equal, "1.2.3.0")),
            ("==1.2.3", compare(Equal, "1.2.3.0")),
            ("1.2.3", compare(Equal, "1.2.3.0")),
            ("=1.0", compare(Equal, "1.0.0.0")),
            ("1.2.3b5", compare(Equal, "1.2.3.0-beta5")),
            ("1.2.3a1", compare(Equal, "1.2.3.0-alpha1")),
            ("1.2.3p1234", compare(Equal, "1.2.3.0-patch1234")),
            ("1.2.3pl1234", compare(Equal, "1.2.3.0-patch1234")),
            (">= 1.2.3", compare(GreaterOrEqual, "1.2.3.0-dev")),
            ("< 1.2.3", compare(Less, "1.2.3.0-dev")),
            ("> 1.2.3", compare(Greater, "1.2.3.0")),
            (">=dev-master", compare(GreaterOrEqual, "dev-master")),
            ("dev-master", compare(Equal, "dev-master")),
            ("dev-feature-a", compare(Equal, "dev-feature-a")),
            ("dev-some-fix", compare(Equal, "dev-some-fix")),
            ("dev-CAPS", compare(Equal, "dev-CAPS")),
            ("dev-master as 1.0.0", compare(Equal, "dev-master")),
            ("<1.2.3.4-stable", compare(Less, "1.2.3.4")),
            ("<=3.0@dev", compare(LessOrEqual, "3.0.0.0-dev")),
            ("1.0.0-alpha@dev", compare(Equal, "1.0.0.0-alpha")),
            ("foobar-dev", compare(Equal, "dev-foobar")),
            ("dev-master#abcdef", compare(Equal, "dev-master")),
            ("1.0.x-dev#trunk/12345", compare(Equal, "1.0.9999999.9999999-dev")),
        ] {
            assert_eq!(parsed(constraint), vec![vec![expected]], "{constraint:?}");
        }
    }

    /// `VersionParserTest::wildcardConstraints`, `tildeConstraints`,
    /// `caretConstraints` and `hyphenConstraints`: a lower and an upper bound.
    #[test]
    fn upstream_range_constraints() {
        for (constraint, lower, upper) in [
            ("2.*", Some(">= 2.0.0.0-dev"), "< 3.0.0.0-dev"),
            ("2.*.*", Some(">= 2.0.0.0-dev"), "< 3.0.0.0-dev"),
            ("20.*", Some(">= 20.0.0.0-dev"), "< 21.0.0.0-dev"),
            ("2.0.*", Some(">= 2.0.0.0-dev"), "< 2.1.0.0-dev"),
            ("2.x", Some(">= 2.0.0.0-dev"), "< 3.0.0.0-dev"),
            ("2.2.x", Some(">= 2.2.0.0-dev"), "< 2.3.0.0-dev"),
            ("2.10.X", Some(">= 2.10.0.0-dev"), "< 2.11.0.0-dev"),
            ("2.1.3.*", Some(">= 2.1.3.0-dev"), "< 2.1.4.0-dev"),
            ("0.*", None, "< 1.0.0.0-dev"),
            ("0.x.x", None, "< 1.0.0.0-dev"),
            ("~1", Some(">= 1.0.0.0-dev"), "< 2.0.0.0-dev"),
            ("~1.0", Some(">= 1.0.0.0-dev"), "< 2.0.0.0-dev"),
            ("~1.0.0", Some(">= 1.0.0.0-dev"), "< 1.1.0.0-dev"),
            ("~1.2", Some(">= 1.2.0.0-dev"), "< 2.0.0.0-dev"),
            ("~1.2.3", Some(">= 1.2.3.0-dev"), "< 1.3.0.0-dev"),
            ("~1.2.3.4", Some(">= 1.2.3.4-dev"), "< 1.2.4.0-dev"),
            ("~1.2-beta", Some(">= 1.2.0.0-beta"), "< 2.0.0.0-dev"),
            ("~1.2-b2", Some(">= 1.2.0.0-beta2"), "< 2.0.0.0-dev"),
            ("~1.2-BETA2", Some(">= 1.2.0.0-beta2"), "< 2.0.0.0-dev"),
            ("~1.2.2-dev", Some(">= 1.2.2.0-dev"), "< 1.3.0.0-dev"),
            ("~1.2.2-stable", Some(">= 1.2.2.0"), "< 1.3.0.0-dev"),
            ("^1", Some(">= 1.0.0.0-dev"), "< 2.0.0.0-dev"),
            ("^0", Some(">= 0.0.0.0-dev"), "< 1.0.0.0-dev"),
            ("^0.0", Some(">= 0.0.0.0-dev"), "< 0.1.0.0-dev"),
            ("^1.2", Some(">= 1.2.0.0-dev"), "< 2.0.0.0-dev"),
            ("^1.2.3-beta.2", Some(">= 1.2.3.0-beta2"), "< 2.0.0.0-dev"),
            ("^1.2.3.4", Some(">= 1.2.3.4-dev"), "< 2.0.0.0-dev"),
            ("^1.2.3", Some(">= 1.2.3.0-dev"), "< 2.0.0.0-dev"),
            ("^0.2.3", Some(">= 0.2.3.0-dev"), "< 0.3.0.0-dev"),
            ("^0.2", Some(">= 0.2.0.0-dev"), "< 0.3.0.0-dev"),
            ("^0.2.0", Some(">= 0.2.0.0-dev"), "< 0.3.0.0-dev"),
            ("^0.0.3", Some(">= 0.0.3.0-dev"), "< 0.0.4.0-dev"),
            ("^0.0.3-alpha", Some(">= 0.0.3.0-alpha"), "< 0.0.4.0-dev"),
            ("^0.0.3-dev", Some(">= 0.0.3.0-dev"), "< 0.0.4.0-dev"),
            ("1 - 2", Some(">= 1.0.0.0-dev"), "< 3.0.0.0-dev"),
            ("1.2.3 - 2.3.4.5", Some(">= 1.2.3.0-dev"), "<= 2.3.4.5"),
            ("1.2-beta - 2.3", Some(">= 1.2.0.0-beta"), "< 2.4.0.0-dev"),
            ("1.2-beta - 2.3-dev", Some(">= 1.2.0.0-beta"), "<= 2.3.0.0-dev"),
            ("1.2-RC - 2.3.1", Some(">= 1.2.0.0-RC"), "<= 2.3.1.0"),
            ("1.2.3-alpha - 2.3-RC", Some(">= 1.2.3.0-alpha"), "<= 2.3.0.0-RC"),
            ("1 - 2.0", Some(">= 1.0.0.0-dev"), "< 2.1.0.0-dev"),
            ("1 - 2.1", Some(">= 1.0.0.0-dev"), "< 2.2.0.0-dev"),
            ("1.2 - 2.1.0", Some(">= 1.2.0.0-dev"), "<= 2.1.0.0"),
            ("1.3 - 2.1.3", Some(">= 1.3.0.0-dev"), "<= 2.1.3.0"),
        ] {
            let bound = |text: &str| {
                let (symbol, version) = text.split_once(' ').unwrap();
                let operator = match symbol {
                    ">=" => Operator::GreaterOrEqual,
                    "<" => Operator::Less,
                    "<=" => Operator::LessOrEqual,
                    _ => unreachable!("{symbol}"),
                };
                compare(operator, version)
            };
            let expected: Vec<Clause> = lower.into_iter().chain([upper]).map(bound).collect();
            assert_eq!(parsed(constraint), vec![expected], "{constraint:?}");
        }
    }

    /// `VersionParserTest::multiConstraintProvider`: how clauses and alternatives split.
    #[test]
    fn upstream_multi_constraints() {
        let and = vec![vec![compare(Operator::Greater, "2.0.0.0"), compare(Operator::LessOrEqual, "3.0.0.0")]];
        for constraint in
            [">2.0,<=3.0", ">2.0 <=3.0", ">2.0  <=3.0", ">2.0, <=3.0", ">2.0 ,<=3.0", ">2.0 , <=3.0", ">2.0   , <=3.0"]
        {
            assert_eq!(parsed(constraint), and, "{constraint:?}");
        }
        for constraint in ["> 2.0   <=  3.0", "> 2.0  ,  <=  3.0", "  > 2.0  ,  <=  3.0 "] {
            assert_eq!(parsed(constraint), and, "{constraint:?}");
        }
        // testParseConstraintsMultiWithStabilitySuffix
        assert_eq!(
            parsed(">=1.1.0-alpha4,<1.2.x-dev"),
            vec![vec![
                compare(Operator::GreaterOrEqual, "1.1.0.0-alpha4"),
                compare(Operator::Less, "1.2.9999999.9999999-dev")
            ]]
        );
        assert_eq!(
            parsed(">=1.1.0-alpha4,<1.2-beta2"),
            vec![vec![compare(Operator::GreaterOrEqual, "1.1.0.0-alpha4"), compare(Operator::Less, "1.2.0.0-beta2")]]
        );
        // A flag after a blank stays on the version, which drops it: no `-dev` for `<= 3.0@dev` here.
        assert_eq!(
            parsed(">2.0@stable <= 3.0@dev"),
            vec![vec![compare(Operator::Greater, "2.0.0.0"), compare(Operator::LessOrEqual, "3.0.0.0")]]
        );
        assert_eq!(parsed("1.0@dev"), vec![vec![compare(Operator::Equal, "1.0.0.0")]]);
        // testParseConstraintsMultiDisjunctiveHasPrioOverConjuctive
        assert_eq!(
            parsed(">2.0,<2.0.5 | >2.0.6"),
            vec![
                vec![compare(Operator::Greater, "2.0.0.0"), compare(Operator::Less, "2.0.5.0-dev")],
                vec![compare(Operator::Greater, "2.0.6.0")]
            ]
        );
        let or = vec![vec![compare(Operator::Less, "1.1.0.0-dev")], vec![compare(Operator::Greater, "1.3.0.0")]];
        for constraint in ["<1.1 || >1.3", "<1.1 | >1.3", "<1.1||>1.3", "<1.1|>1.3"] {
            assert_eq!(parsed(constraint), or, "{constraint:?}");
        }
        assert_eq!(
            parsed("1.0.0 - 2.0.0 || >=3"),
            vec![
                vec![compare(Operator::GreaterOrEqual, "1.0.0.0-dev"), compare(Operator::LessOrEqual, "2.0.0.0")],
                vec![compare(Operator::GreaterOrEqual, "3.0.0.0-dev")],
            ]
        );
        assert_eq!(
            parsed("dev-master as 1.0 || 2.0"),
            vec![vec![compare(Operator::Equal, "dev-master")], vec![compare(Operator::Equal, "2.0.0.0")]]
        );
    }

    /// `VersionParserTest::failingConstraints`.
    #[test]
    fn upstream_failing_constraints() {
        for constraint in [
            "",
            "1.0.0-meh",
            ">2.0,,<=3.0",
            ">2.0 ,, <=3.0",
            ">2.0 ||| <=3.0",
            "~>1.0",
            "~>1",
            "^",
            "^*",
            "^~1",
            "foo bar",
            "1.0.0 - 2.0.0 - 3.0.0",
        ] {
            assert!(
                parse_constraints(constraint).is_err(),
                "{constraint:?} parsed as {:?}",
                parse_constraints(constraint)
            );
        }
    }

    /// `php_version_compare` on what it meets outside normalised versions.
    #[test]
    fn php_version_compare_edge_cases() {
        let order = |a: &str, b: &str| version_compare(a, b);
        assert_eq!(order("1.0", "1.0.0"), Ordering::Less);
        assert_eq!(order("1.0rc1", "1.0"), Ordering::Less);
        assert_eq!(order("1.0pl1", "1.0"), Ordering::Greater);
        assert_eq!(order("1.0-foo", "1.0-dev"), Ordering::Less);
        assert_eq!(order("1.0-foo", "1.0-xyz"), Ordering::Equal);
        // Special forms match as prefixes: `bar` reads as `b`, a beta.
        assert_eq!(order("1.0-foo", "1.0-bar"), Ordering::Less);
        assert_eq!(order("", "1"), Ordering::Less);
        assert_eq!(order("99999999999999999999", "99999999999999999998"), Ordering::Equal);
        assert_eq!(canonicalize(b"1.0-beta2"), b"1.0.beta.2");
        assert_eq!(canonicalize(b"1~a"), b"1.~a");
        assert_eq!(canonicalize(b"1__2"), b"1.2");
    }
}
