//! Maven artifact versions: the `ComparableVersion` order and Maven's version
//! ranges.
//!
//! The order mirrors `org.apache.maven.artifact.versioning.ComparableVersion`
//! of Apache Maven 4 (`compat/maven-artifact`, which also fixes the
//! transitivity bugs of the 3.9 line around `ga1`/`final1` and `1-0-x`):
//!
//! * A version is lower-cased and cut into items: numbers, qualifiers (words)
//!   and sub-lists. `.` separates items; `-` separates too and opens a
//!   sub-list; a change between digits and letters separates like `-`, so
//!   `1.0alpha1` is `[1, [alpha1]]`. An empty item (`1..2`, `-1`) is a 0.
//! * A word directly followed by digits (`alpha1`, `rc-2`, as `X-1` is read as
//!   `X1`) is one "combination" item: a qualifier and a number.
//! * Qualifiers order `alpha` < `beta` < `milestone` < `rc` = `cr` <
//!   `snapshot` < `` = `ga` = `final` = `release` < `sp` < any other word
//!   (other words lexically among themselves). `a`, `b` and `m` directly
//!   followed by digits mean `alpha`, `beta` and `milestone`.
//! * Numbers compare by value (any length, leading zeros ignored) and sort
//!   above lists, which sort above qualifiers: `1-sp < 1-1 < 1.1`.
//! * Trailing zeros and release qualifiers are dropped (`1.0.0` = `1` =
//!   `1-ga`); a missing item compares as "nothing", so `1-rc < 1 < 1-sp`.
//!
//! Deviations, all on input no artifact uses: only ASCII digits are digits
//! (Maven's `-` look-ahead also takes other Unicode decimal digits); other
//! words compare by code point rather than by UTF-16 unit; the empty string is
//! an error rather than a version equal to `0`. Versions longer than 256 UTF-16
//! units are rejected, as Maven 4 does.
//!
//! Requirements take three forms:
//!
//! * Maven version ranges (`VersionRange.createFromVersionSpec`), as pom files,
//!   GHSA and OSV write them: `[1.0,2.0)`, `(,1.0]`, `[1.2]`, `[1.0,)`, and
//!   comma-joined sets `(,1.0],[1.2,)` that hold when any set does. Sets must
//!   be in ascending order and must not overlap, as Maven requires.
//! * An operator list (`>= 2.13.0, < 2.13.2.1`, the GHSA text form), see
//!   [`crate::constraint`].
//! * A bare version. To Maven it is a soft "recommended" version that any
//!   version satisfies; for vulnerability matching it means exactly that
//!   version (equal in this order, so `1.0` matches `1.0.0`).

use std::cmp::Ordering;

use crate::generic::compare_digit_runs;
use crate::{Scheme, VersionError, constraint};

/// Maven 4 refuses longer versions, which would otherwise nest that deep.
const MAX_VERSION_LENGTH: usize = 256;

pub fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(compare_lists(&parse(a)?, &parse(b)?))
}

pub fn satisfies(version: &str, requirement: &str) -> Result<bool, VersionError> {
    let spec = trim_java(requirement);
    if spec.starts_with(['[', '(']) {
        let version = parse(version)?;
        let restrictions =
            parse_range(spec).map_err(|reason| VersionError::requirement(Scheme::Maven, requirement, reason))?;
        Ok(restrictions.iter().any(|restriction| restriction.contains(&version)))
    } else {
        constraint::satisfies_with(version, requirement, Scheme::Maven, compare)
    }
}

/// A parsed version: the top-level item list.
type Items = Vec<Item>;

#[derive(Debug, Clone)]
enum Item {
    /// ASCII digits without leading zeros (`""` is 0).
    Number(String),
    Qualifier(Qualifier),
    /// A qualifier directly followed by a number: `alpha1`, `rc-2`.
    Combination(Qualifier, String),
    List(Items),
}

/// A word item, with Maven's aliases applied (`cr` is `rc`).
#[derive(Debug, Clone)]
struct Qualifier(String);

/// Where a qualifier sorts: known ones by rank, then every other word lexically.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum QualifierRank<'a> {
    Known(usize),
    Other(&'a str),
}

/// Known qualifiers, lowest first; the empty qualifier is a release.
const KNOWN_QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE_QUALIFIERS: [&str; 3] = ["ga", "final", "release"];
const RELEASE_RANK: QualifierRank<'static> = QualifierRank::Known(5);

impl Qualifier {
    fn new(word: &str, followed_by_digit: bool) -> Self {
        let word = match (followed_by_digit, word) {
            (true, "a") => "alpha",
            (true, "b") => "beta",
            (true, "m") => "milestone",
            (_, "cr") => "rc",
            (_, word) => word,
        };
        Self(word.to_owned())
    }

    fn rank(&self) -> QualifierRank<'_> {
        if RELEASE_QUALIFIERS.contains(&self.0.as_str()) {
            return RELEASE_RANK;
        }
        match KNOWN_QUALIFIERS.iter().position(|known| *known == self.0) {
            Some(index) => QualifierRank::Known(index),
            None => QualifierRank::Other(&self.0),
        }
    }

    fn compare(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank())
    }

    fn compare_to_nothing(&self) -> Ordering {
        self.rank().cmp(&RELEASE_RANK)
    }
}

fn number_compare_to_nothing(digits: &str) -> Ordering {
    if digits.is_empty() { Ordering::Equal } else { Ordering::Greater }
}

impl Item {
    /// Whether normalisation may drop the item: 0, the empty word, an empty list.
    fn is_null(&self) -> bool {
        match self {
            Item::Number(digits) => digits.is_empty(),
            Item::Qualifier(word) => word.0.is_empty(),
            Item::Combination(..) => false,
            Item::List(items) => items.is_empty(),
        }
    }

    /// How the item compares to a missing item in the other version.
    fn compare_to_nothing(&self) -> Ordering {
        match self {
            Item::Number(digits) => number_compare_to_nothing(digits),
            Item::Qualifier(word) => word.compare_to_nothing(),
            Item::Combination(word, digits) => {
                word.compare_to_nothing().then_with(|| number_compare_to_nothing(digits))
            }
            Item::List(items) => {
                items.iter().map(Item::compare_to_nothing).find(|order| order.is_ne()).unwrap_or(Ordering::Equal)
            }
        }
    }

    fn compare(&self, other: &Item) -> Ordering {
        match (self, other) {
            (Item::Number(a), Item::Number(b)) => compare_digit_runs(a.as_bytes(), b.as_bytes()),
            (Item::Number(_), _) => Ordering::Greater,
            (_, Item::Number(_)) => Ordering::Less,
            (Item::Qualifier(a), Item::Qualifier(b)) => a.compare(b),
            (Item::Qualifier(_), Item::Combination(..)) => other.compare(self).reverse(),
            (Item::Combination(word, digits), Item::Qualifier(other_word)) => {
                word.compare(other_word).then_with(|| {
                    // `rc1 > rc`, but the number only counts past a release word: `ga0 == ga`.
                    if word.compare_to_nothing().is_eq() {
                        number_compare_to_nothing(digits)
                    } else {
                        Ordering::Greater
                    }
                })
            }
            (Item::Combination(a, a_digits), Item::Combination(b, b_digits)) => {
                a.compare(b).then_with(|| compare_digit_runs(a_digits.as_bytes(), b_digits.as_bytes()))
            }
            (Item::List(a), Item::List(b)) => compare_lists(a, b),
            (Item::List(items), _) => compare_list_to_word(items, other),
            (_, Item::List(items)) => compare_list_to_word(items, self).reverse(),
        }
    }
}

/// Item by item; where one list is shorter its missing items compare as nothing.
fn compare_lists(a: &[Item], b: &[Item]) -> Ordering {
    (0..a.len().max(b.len()))
        .map(|index| match (a.get(index), b.get(index)) {
            (Some(a), Some(b)) => a.compare(b),
            (Some(a), None) => a.compare_to_nothing(),
            (None, Some(b)) => b.compare_to_nothing().reverse(),
            (None, None) => Ordering::Equal,
        })
        .find(|order| order.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// A sub-list against a qualifier or combination: its first item decides, and
/// on a tie the rest of the list against nothing.
fn compare_list_to_word(items: &[Item], word: &Item) -> Ordering {
    let first = match items.first() {
        Some(first) => first.compare(word),
        None => word.compare_to_nothing().reverse(),
    };
    first.then_with(|| compare_lists(items.get(1..).unwrap_or_default(), &[]))
}

/// Java's `String.trim`: every character up to U+0020.
fn trim_java(text: &str) -> &str {
    text.trim_matches(|c| c <= ' ')
}

fn parse(version: &str) -> Result<Items, VersionError> {
    let invalid = |reason: String| VersionError::version(Scheme::Maven, version, reason);
    if version.is_empty() {
        return Err(invalid("empty".to_owned()));
    }
    let length = version.encode_utf16().count();
    if length > MAX_VERSION_LENGTH {
        return Err(invalid(format!("{length} UTF-16 units long, Maven accepts at most {MAX_VERSION_LENGTH}")));
    }
    Ok(Parser::default().run(&version.to_lowercase().chars().collect::<Vec<_>>()))
}

/// `ComparableVersion.parseVersion`, with the stack of open lists kept as a
/// stack of vectors: a new list is always the last item of the list that was
/// open, and nothing is added to that one afterwards, so a list can be
/// attached to its parent when it is closed at the end.
#[derive(Default)]
struct Parser {
    /// The open lists, outermost first; never empty while running.
    open: Vec<Items>,
    /// Whether the last character seen was a digit.
    in_digits: bool,
    /// Whether the current token is a word followed by digits.
    in_combination: bool,
    /// Where the current token starts.
    start: usize,
}

impl Parser {
    fn run(mut self, chars: &[char]) -> Items {
        self.open.push(Items::new());
        for (index, &c) in chars.iter().enumerate() {
            match c {
                '.' => {
                    self.end_token(chars, index);
                    self.in_combination = false;
                    self.start = index + 1;
                }
                '-' => {
                    if index > self.start
                        && !self.in_digits
                        && chars.get(index + 1).is_some_and(|next| next.is_ascii_digit())
                    {
                        // `X-1` is read as `X1`: the `-` stays inside the token.
                        self.in_combination = true;
                        continue;
                    }
                    self.end_token(chars, index);
                    self.start = index + 1;
                    self.open_list_unless_empty();
                    self.in_combination = false;
                }
                '0'..='9' => {
                    if !self.in_digits && index > self.start {
                        self.in_combination = true;
                        self.open_list_unless_empty();
                    }
                    self.in_digits = true;
                }
                _ => {
                    if self.in_digits && index > self.start {
                        let token = token(chars, self.start, index);
                        self.push(parse_item(self.in_combination, true, &token));
                        self.start = index;
                        self.open.push(Items::new());
                        self.in_combination = false;
                    }
                    self.in_digits = false;
                }
            }
        }
        if chars.len() > self.start {
            // `.X` at the end is read as `-X`: `1.0.0.x1 < 1.0.0-x2`.
            if !self.in_digits {
                self.open_list_unless_empty();
            }
            let token = token(chars, self.start, chars.len());
            self.push(parse_item(self.in_combination, self.in_digits, &token));
        }
        let mut items = self.open.pop().unwrap_or_default();
        normalize(&mut items);
        while let Some(mut parent) = self.open.pop() {
            parent.push(Item::List(items));
            normalize(&mut parent);
            items = parent;
        }
        items
    }

    /// Ends the token before a separator at `index`; an empty one is a 0.
    fn end_token(&mut self, chars: &[char], index: usize) {
        let item = if index == self.start {
            Item::Number(String::new())
        } else {
            parse_item(self.in_combination, self.in_digits, &token(chars, self.start, index))
        };
        self.push(item);
    }

    fn push(&mut self, item: Item) {
        if let Some(list) = self.open.last_mut() {
            list.push(item);
        }
    }

    fn open_list_unless_empty(&mut self) {
        if self.open.last().is_some_and(|list| !list.is_empty()) {
            self.open.push(Items::new());
        }
    }
}

fn token(chars: &[char], from: usize, to: usize) -> String {
    chars.get(from..to).unwrap_or_default().iter().collect()
}

fn parse_item(in_combination: bool, in_digits: bool, token: &str) -> Item {
    if in_combination {
        let token = token.replace('-', "");
        let (word, digits) = token.split_at(token.find(|c: char| c.is_ascii_digit()).unwrap_or(token.len()));
        Item::Combination(Qualifier::new(word, true), strip_leading_zeros(digits))
    } else if in_digits {
        Item::Number(strip_leading_zeros(token))
    } else {
        Item::Qualifier(Qualifier::new(token, false))
    }
}

fn strip_leading_zeros(digits: &str) -> String {
    digits.trim_start_matches('0').to_owned()
}

/// `ListItem.normalize`: drops null items at the end, and null items followed
/// by a word or by a list starting with one (`1.0.x` is `1.x`); then a list
/// holding only a list is that list.
fn normalize(items: &mut Items) {
    for index in (0..items.len()).rev() {
        if !items.get(index).is_some_and(Item::is_null) {
            continue;
        }
        let droppable = match items.get(index + 1) {
            None | Some(Item::Qualifier(_)) => true,
            Some(Item::List(next)) => matches!(next.first(), Some(Item::Qualifier(_) | Item::Combination(..))),
            Some(Item::Number(_) | Item::Combination(..)) => false,
        };
        if droppable {
            items.remove(index);
        }
    }
    if let [Item::List(_)] = items.as_slice()
        && let Some(Item::List(only)) = items.pop()
    {
        *items = only;
    }
}

/// One set of a range: bounds absent are unbounded.
struct Restriction {
    lower: Option<Items>,
    lower_inclusive: bool,
    upper: Option<Items>,
    upper_inclusive: bool,
}

impl Restriction {
    fn contains(&self, version: &[Item]) -> bool {
        let above_lower = self.lower.as_ref().is_none_or(|lower| match compare_lists(lower, version) {
            Ordering::Less => true,
            Ordering::Equal => self.lower_inclusive,
            Ordering::Greater => false,
        });
        let below_upper = self.upper.as_ref().is_none_or(|upper| match compare_lists(upper, version) {
            Ordering::Greater => true,
            Ordering::Equal => self.upper_inclusive,
            Ordering::Less => false,
        });
        above_lower && below_upper
    }
}

/// `VersionRange.createFromVersionSpec` for a spec starting with a bracket.
fn parse_range(spec: &str) -> Result<Vec<Restriction>, String> {
    let mut restrictions: Vec<Restriction> = Vec::new();
    let mut rest = spec;
    while rest.starts_with(['[', '(']) {
        let close = rest.find([']', ')']).ok_or_else(|| format!("unbounded range {rest:?}"))?;
        let (set, tail) = rest.split_at(close + 1);
        let restriction = parse_restriction(set)?;
        if let Some(previous_upper) = restrictions.last().and_then(|previous| previous.upper.as_ref()) {
            let in_order = restriction.lower.as_ref().is_some_and(|lower| compare_lists(lower, previous_upper).is_ge());
            if !in_order {
                return Err(format!("set {set:?} overlaps the set before it"));
            }
        }
        restrictions.push(restriction);
        rest = trim_java(tail);
        if let Some(after_comma) = rest.strip_prefix(',') {
            rest = trim_java(after_comma);
        }
    }
    if rest.is_empty() {
        Ok(restrictions)
    } else {
        Err(format!("{rest:?} after the sets: only bracketed sets may be joined"))
    }
}

fn parse_restriction(set: &str) -> Result<Restriction, String> {
    let lower_inclusive = set.starts_with('[');
    let upper_inclusive = set.ends_with(']');
    let inner = trim_java(set.get(1..set.len().saturating_sub(1)).unwrap_or_default());
    let bound = |text: &str| -> Result<Option<Items>, String> {
        let text = trim_java(text);
        if text.is_empty() { Ok(None) } else { parse(text).map(Some).map_err(|error| error.to_string()) }
    };
    let Some((lower, upper)) = inner.split_once(',') else {
        if !(lower_inclusive && upper_inclusive) {
            return Err(format!("single version in {set:?} must be in [ ]"));
        }
        let exact = bound(inner)?.ok_or_else(|| format!("no version in {set:?}"))?;
        return Ok(Restriction { lower: Some(exact.clone()), lower_inclusive, upper: Some(exact), upper_inclusive });
    };
    if upper.contains(',') {
        return Err(format!("more than two bounds in {set:?}"));
    }
    let (lower, upper) = (bound(lower)?, bound(upper)?);
    if let (Some(low), Some(high)) = (&lower, &upper) {
        let order = compare_lists(high, low);
        if order.is_lt() || (order.is_eq() && !(lower_inclusive && upper_inclusive)) {
            return Err(format!("bounds of {set:?} are out of order"));
        }
    }
    Ok(Restriction { lower, lower_inclusive, upper, upper_inclusive })
}
