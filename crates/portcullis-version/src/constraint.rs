//! The operator-list requirement syntax of the OS schemes (dpkg, rpm, apk) and
//! of the generic scheme, as vulnerability feeds write affected ranges:
//! `>= 1.0-1, < 2.0` or `< 1.2 || >= 2.0, < 2.3`.
//!
//! * `||` separates alternatives; the requirement holds when one of them does.
//! * Inside an alternative, clauses are separated by commas and/or whitespace,
//!   and every clause must hold. An operator may stand apart from its version
//!   (`>= 1.0` and `>=1.0` are the same clause), but not across a comma.
//! * Operators: `=` and `==` (equal), `!=`, `<`, `<=`, `>`, `>=`, and Debian's
//!   `<<` and `>>` (strictly less, strictly greater). A version with no
//!   operator must be equal. `<` and `>` are strict, as in every feed, not
//!   the obsolete dpkg meaning of `<=` and `>=`.
//! * Equal, less and greater are decided by the scheme's own ordering, passed
//!   in as `compare`, so `= 1.0` matches every version equal to `1.0` in that
//!   scheme (`1.0-0` in dpkg, `1.0.0` in the generic scheme).
//!
//! Every clause is evaluated, even once the answer is known, so that an invalid
//! requirement is an error whatever the version tested against it.

use std::cmp::Ordering;

use crate::{Scheme, VersionError};

const OPERATOR_CHARACTERS: [char; 4] = ['<', '>', '=', '!'];

/// Whether `version` meets `requirement`, both of `scheme`, ordered by `compare`.
pub fn satisfies_with(
    version: &str,
    requirement: &str,
    scheme: Scheme,
    compare: impl Fn(&str, &str) -> Result<Ordering, VersionError>,
) -> Result<bool, VersionError> {
    let alternatives = parse(requirement).map_err(|reason| VersionError::requirement(scheme, requirement, reason))?;
    let mut satisfied = false;
    for clauses in &alternatives {
        let mut all_hold = true;
        for clause in clauses {
            all_hold &= clause.operator.holds(compare(version, clause.version)?);
        }
        satisfied |= all_hold;
    }
    Ok(satisfied)
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

impl Operator {
    fn parse(symbol: &str) -> Option<Self> {
        Some(match symbol {
            "=" | "==" => Self::Equal,
            "!=" => Self::NotEqual,
            "<" | "<<" => Self::Less,
            "<=" => Self::LessOrEqual,
            ">" | ">>" => Self::Greater,
            ">=" => Self::GreaterOrEqual,
            _ => return None,
        })
    }

    /// Whether a version that compares `ordering` to the clause's version meets the clause.
    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Self::Equal => ordering.is_eq(),
            Self::NotEqual => ordering.is_ne(),
            Self::Less => ordering.is_lt(),
            Self::LessOrEqual => ordering.is_le(),
            Self::Greater => ordering.is_gt(),
            Self::GreaterOrEqual => ordering.is_ge(),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Clause<'a> {
    operator: Operator,
    version: &'a str,
}

fn parse(requirement: &str) -> Result<Vec<Vec<Clause<'_>>>, String> {
    if requirement.trim().is_empty() {
        return Err("empty requirement".to_owned());
    }
    requirement.split("||").map(parse_alternative).collect()
}

fn parse_alternative(alternative: &str) -> Result<Vec<Clause<'_>>, String> {
    if alternative.trim().is_empty() {
        return Err("empty alternative beside `||`".to_owned());
    }
    let mut clauses = Vec::new();
    for group in alternative.split(',') {
        if group.trim().is_empty() {
            return Err(format!("empty clause between commas in {:?}", alternative.trim()));
        }
        // An operator written apart from its version, waiting for it.
        let mut pending: Option<(Operator, &str)> = None;
        for word in group.split_whitespace() {
            let (symbol, version) =
                word.split_at(word.find(|c| !OPERATOR_CHARACTERS.contains(&c)).unwrap_or(word.len()));
            let operator = match (pending.take(), symbol) {
                (Some((_, waiting)), symbol) if !symbol.is_empty() => {
                    return Err(format!(
                        "operator {waiting:?} is followed by operator {symbol:?} instead of a version"
                    ));
                }
                (Some((operator, _)), _) => operator,
                (None, "") => Operator::Equal,
                (None, symbol) => Operator::parse(symbol).ok_or_else(|| format!("unknown operator {symbol:?}"))?,
            };
            if version.is_empty() {
                pending = Some((operator, symbol));
                continue;
            }
            if let Some(stray) = version.chars().find(|c| OPERATOR_CHARACTERS.contains(c) || *c == '|') {
                return Err(format!(
                    "{stray:?} inside version {version:?}: clauses are separated by commas or spaces, alternatives by `||`"
                ));
            }
            clauses.push(Clause { operator, version });
        }
        if let Some((_, symbol)) = pending {
            return Err(format!("operator {symbol:?} has no version"));
        }
    }
    Ok(clauses)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clause(operator: Operator, version: &str) -> Clause<'_> {
        Clause { operator, version }
    }

    #[test]
    fn parses_every_operator_with_and_without_spaces() {
        assert_eq!(
            parse(">= 1.0-1, < 2.0").unwrap(),
            vec![vec![clause(Operator::GreaterOrEqual, "1.0-1"), clause(Operator::Less, "2.0")]]
        );
        assert_eq!(
            parse(">=1.0 <<2.0 >>0.5 <=3 >4 =1 ==2 !=3 5").unwrap(),
            vec![vec![
                clause(Operator::GreaterOrEqual, "1.0"),
                clause(Operator::Less, "2.0"),
                clause(Operator::Greater, "0.5"),
                clause(Operator::LessOrEqual, "3"),
                clause(Operator::Greater, "4"),
                clause(Operator::Equal, "1"),
                clause(Operator::Equal, "2"),
                clause(Operator::NotEqual, "3"),
                clause(Operator::Equal, "5"),
            ]]
        );
        assert_eq!(
            parse("  <1.2||>= 2.0 ,< 2.3 ").unwrap(),
            vec![
                vec![clause(Operator::Less, "1.2")],
                vec![clause(Operator::GreaterOrEqual, "2.0"), clause(Operator::Less, "2.3")]
            ]
        );
        assert_eq!(parse("1:2.30-1ubuntu1").unwrap(), vec![vec![clause(Operator::Equal, "1:2.30-1ubuntu1")]]);
    }

    #[test]
    fn malformed_requirements_say_what_is_wrong() {
        for (requirement, reason) in [
            ("", "empty requirement"),
            ("  ", "empty requirement"),
            ("< 1.0 ||", "empty alternative beside `||`"),
            ("|| 1.0", "empty alternative beside `||`"),
            (">= 1.0,", "empty clause between commas in \">= 1.0,\""),
            (">= 1.0,, < 2", "empty clause between commas in \">= 1.0,, < 2\""),
            (">=", "operator \">=\" has no version"),
            (">=, 1.0", "operator \">=\" has no version"),
            (">= < 1.0", "operator \">=\" is followed by operator \"<\" instead of a version"),
            ("=> 1.0", "unknown operator \"=>\""),
            ("<> 1.0", "unknown operator \"<>\""),
            ("! 1.0", "unknown operator \"!\""),
            (
                ">=1.0<2.0",
                "'<' inside version \"1.0<2.0\": clauses are separated by commas or spaces, alternatives by `||`",
            ),
            (
                "1.0|2.0",
                "'|' inside version \"1.0|2.0\": clauses are separated by commas or spaces, alternatives by `||`",
            ),
        ] {
            assert_eq!(parse(requirement), Err(reason.to_owned()), "{requirement:?}");
        }
    }

    /// Orders plain integers, enough to test the evaluation on its own.
    fn integers(a: &str, b: &str) -> Result<Ordering, VersionError> {
        let parse = |v: &str| v.parse::<u32>().map_err(|_| VersionError::version(Scheme::Generic, v, "not an integer"));
        Ok(parse(a)?.cmp(&parse(b)?))
    }

    #[test]
    fn all_clauses_of_one_alternative_must_hold() {
        let check = |version, requirement| satisfies_with(version, requirement, Scheme::Generic, integers).unwrap();
        assert!(check("5", ">= 1, < 10"));
        assert!(!check("10", ">= 1, < 10"));
        assert!(check("10", ">= 1, <= 10"));
        assert!(check("7", "!= 6 > 5"));
        assert!(!check("6", "!= 6 > 5"));
        assert!(check("3", "3"));
        assert!(check("12", "< 5 || >= 10, < 20"));
        assert!(!check("7", "< 5 || >= 10, < 20"));
        assert!(check("4", "< 5 || >= 10, < 20"));
    }

    #[test]
    fn errors_name_the_scheme_and_invalid_clause_versions_fail_whatever_the_answer() {
        assert_eq!(
            satisfies_with("1", "", Scheme::Rpm, integers),
            Err(VersionError::requirement(Scheme::Rpm, "", "empty requirement"))
        );
        // The first alternative already holds; the broken second one is still an error.
        assert_eq!(
            satisfies_with("1", "< 5 || < x", Scheme::Generic, integers),
            Err(VersionError::version(Scheme::Generic, "x", "not an integer"))
        );
        assert_eq!(
            satisfies_with("y", "< 5", Scheme::Generic, integers),
            Err(VersionError::version(Scheme::Generic, "y", "not an integer"))
        );
    }
}
