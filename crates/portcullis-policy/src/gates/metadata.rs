//! The `metadata` gate: one image attribute against a condition.
//!
//! Also home of the conditions Anchore's gates share (`gates/util.py`
//! `CheckOperation`): the `dockerfile` gate's `instruction` trigger uses the
//! same operators on text.

use portcullis_sbom::Sbom;
use regex::Regex;

use super::{EvalContext, GateError, TriggerMatch, unknown_trigger};
use crate::params::Params;

const GATE: &str = "metadata";

pub fn evaluate(trigger: &str, params: &Params, ctx: &EvalContext<'_>) -> Result<Vec<TriggerMatch>, GateError> {
    match trigger {
        "attribute" => attribute(params, ctx.sbom),
        other => Err(unknown_trigger(GATE, other)),
    }
}

fn attribute(params: &Params, sbom: &Sbom) -> Result<Vec<TriggerMatch>, GateError> {
    let name = params.required("attribute")?;
    let value = params.str("value");
    let Some(condition) = Condition::new(params.required("check")?, value)? else {
        return Ok(Vec::new());
    };
    let image_value = attribute_value(name, sbom)?;
    let holds = match &image_value {
        AttributeValue::Number(number) => condition.number_holds(*number, |text| parse_number(name, text))?,
        AttributeValue::Text(text) => condition.text_holds(text),
        AttributeValue::Missing => condition.missing_holds(),
    };
    if !holds {
        return Ok(Vec::new());
    }
    let message = format!(
        "Attribute check for attribute: '{name}' check: '{}' check_value: '{}' matched image value: '{image_value}'",
        condition.check.as_str(),
        value.unwrap_or_default(),
    );
    Ok(vec![TriggerMatch::new(GATE, "attribute", message)])
}

enum AttributeValue {
    Number(u64),
    Text(String),
    Missing,
}

impl std::fmt::Display for AttributeValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttributeValue::Number(number) => write!(f, "{number}"),
            AttributeValue::Text(text) => f.write_str(text),
            // Anchore formats a Python None.
            AttributeValue::Missing => f.write_str("None"),
        }
    }
}

fn attribute_value(name: &str, sbom: &Sbom) -> Result<AttributeValue, GateError> {
    let text = |value: Option<&str>| match value {
        Some(value) => AttributeValue::Text(value.to_owned()),
        None => AttributeValue::Missing,
    };
    // `os/arch[/variant]`, as the image config records them.
    let platform = sbom.source.image.as_ref().and_then(|image| image.platform.as_deref());
    let distro = sbom.distro.as_ref();
    Ok(match name {
        // Docker's image size: the unpacked layers.
        "size" => AttributeValue::Number(sbom.layers.iter().map(|layer| layer.uncompressed_size).sum()),
        "architecture" => text(platform.and_then(|p| p.split('/').nth(1))),
        "os_type" => text(platform.and_then(|p| p.split('/').next())),
        "distro" => text(distro.map(|d| d.id.as_str())),
        "distro_version" => text(distro.and_then(|d| d.version_id.as_deref())),
        // Anchore's analyzer records ID_LIKE, or the ID itself when there is none.
        "like_distro" => match distro {
            Some(d) if !d.id_like.is_empty() => AttributeValue::Text(d.id_like.join(",")),
            Some(d) => AttributeValue::Text(d.id.clone()),
            None => AttributeValue::Missing,
        },
        "layer_count" => AttributeValue::Number(sbom.layers.len() as u64),
        other => return Err(GateError::Invalid(format!("metadata attribute {other:?} is not known"))),
    })
}

/// A size (`10`, `512kb`, `10gb`: binary multiples) or a layer count.
fn parse_number(attribute: &str, text: &str) -> Result<u64, GateError> {
    let lower = text.trim().to_ascii_lowercase();
    let (digits, multiplier) = match lower.strip_suffix('b').and_then(|rest| rest.char_indices().last()) {
        Some((index, unit)) if attribute == "size" && "kmgt".contains(unit) => {
            let power = "kmgt".find(unit).map_or(0, |p| p as u32 + 1);
            (&lower[..index], 1024u64.pow(power))
        }
        _ => (lower.as_str(), 1),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|number| number.checked_mul(multiplier))
        .ok_or_else(|| GateError::Invalid(format!("metadata {attribute}: {text:?} is not a number")))
}

/// The operators of Anchore's checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    Equal,
    NotEqual,
    Less,
    Greater,
    LessOrEqual,
    GreaterOrEqual,
    Exists,
    NotExists,
    Like,
    NotLike,
    In,
    NotIn,
}

impl Check {
    const ALL: [Check; 12] = [
        Check::Equal,
        Check::NotEqual,
        Check::Less,
        Check::Greater,
        Check::LessOrEqual,
        Check::GreaterOrEqual,
        Check::Exists,
        Check::NotExists,
        Check::Like,
        Check::NotLike,
        Check::In,
        Check::NotIn,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Check::Equal => "=",
            Check::NotEqual => "!=",
            Check::Less => "<",
            Check::Greater => ">",
            Check::LessOrEqual => "<=",
            Check::GreaterOrEqual => ">=",
            Check::Exists => "exists",
            Check::NotExists => "not_exists",
            Check::Like => "like",
            Check::NotLike => "not_like",
            Check::In => "in",
            Check::NotIn => "not_in",
        }
    }

    fn parse(text: &str) -> Result<Check, GateError> {
        Check::ALL
            .into_iter()
            .find(|check| check.as_str() == text)
            .ok_or_else(|| GateError::Invalid(format!("check {text:?} is not a known operator")))
    }

    fn needs_value(self) -> bool {
        !matches!(self, Check::Exists | Check::NotExists)
    }

    fn ordering_holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self {
            Check::Equal => ordering == Equal,
            Check::NotEqual => ordering != Equal,
            Check::Less => ordering == Less,
            Check::Greater => ordering == Greater,
            Check::LessOrEqual => ordering != Greater,
            Check::GreaterOrEqual => ordering != Less,
            _ => false,
        }
    }
}

/// A check with its right-hand value, the `like` regex compiled once.
#[derive(Debug)]
pub(crate) struct Condition {
    pub(crate) check: Check,
    value: String,
    pattern: Option<Regex>,
}

impl Condition {
    /// `None` when the check needs a value and none was given: Anchore then
    /// evaluates nothing.
    pub(crate) fn new(check: &str, value: Option<&str>) -> Result<Option<Condition>, GateError> {
        let check = Check::parse(check)?;
        let value = match value {
            Some(value) => value.to_owned(),
            None if check.needs_value() => return Ok(None),
            None => String::new(),
        };
        let pattern = match check {
            Check::Like | Check::NotLike => Some(match_at_start(&value)?),
            _ => None,
        };
        Ok(Some(Condition { check, value, pattern }))
    }

    fn listed(&self, text: &str) -> bool {
        self.value.split(',').any(|entry| entry.trim() == text)
    }

    fn like(&self, text: &str) -> bool {
        self.pattern.as_ref().is_some_and(|pattern| pattern.is_match(text))
    }

    /// The check on a text value (`exists` means non-empty, as Python's truthiness).
    pub(crate) fn text_holds(&self, text: &str) -> bool {
        match self.check {
            Check::Exists => !text.is_empty(),
            Check::NotExists => text.is_empty(),
            Check::Like => self.like(text),
            Check::NotLike => !self.like(text),
            Check::In => self.listed(text),
            Check::NotIn => !self.listed(text),
            ordered => ordered.ordering_holds(text.cmp(self.value.as_str())),
        }
    }

    /// The check on a number: the value (and each `in` entry) is parsed by `parse`.
    fn number_holds(&self, number: u64, parse: impl Fn(&str) -> Result<u64, GateError>) -> Result<bool, GateError> {
        let listed = || -> Result<bool, GateError> {
            for entry in self.value.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
                if parse(entry)? == number {
                    return Ok(true);
                }
            }
            Ok(false)
        };
        Ok(match self.check {
            Check::Exists => number != 0,
            Check::NotExists => number == 0,
            Check::Like => self.like(&number.to_string()),
            Check::NotLike => !self.like(&number.to_string()),
            Check::In => listed()?,
            Check::NotIn => !listed()?,
            ordered => ordered.ordering_holds(number.cmp(&parse(&self.value)?)),
        })
    }

    /// The check on an attribute the image does not have (Python's `None`).
    fn missing_holds(&self) -> bool {
        matches!(self.check, Check::NotEqual | Check::NotExists | Check::NotIn)
    }
}

/// A regex that, like Python's `re.match`, must match at the start of the
/// text (and may stop before its end).
pub(crate) fn match_at_start(pattern: &str) -> Result<Regex, GateError> {
    Regex::new(&format!("^(?:{pattern})")).map_err(|e| GateError::Invalid(format!("regex {pattern:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_number("size", "10").unwrap(), 10);
        assert_eq!(parse_number("size", "2kb").unwrap(), 2048);
        assert_eq!(parse_number("size", "10GB").unwrap(), 10 << 30);
        assert_eq!(parse_number("size", "1tb").unwrap(), 1 << 40);
        assert!(parse_number("layer_count", "2kb").is_err());
        assert!(parse_number("size", "kb").is_err());
        assert!(parse_number("size", "ten").is_err());
    }

    #[test]
    fn conditions_follow_python_semantics() {
        let like = Condition::new("like", Some("deb")).unwrap().unwrap();
        assert!(like.text_holds("debian"));
        assert!(!like.text_holds("ubuntu-debian"), "re.match anchors at the start only");
        let within = Condition::new("in", Some("alpine, debian")).unwrap().unwrap();
        assert!(within.text_holds("debian"));
        assert!(!within.text_holds("deb"));
        assert!(Condition::new("=", None).unwrap().is_none(), "a check without its value evaluates nothing");
        assert!(Condition::new("exists", None).unwrap().is_some());
        assert!(Condition::new("like", Some("(")).is_err());
        assert!(Condition::new("~", Some("x")).is_err());
        let less = Condition::new("<", Some("1kb")).unwrap().unwrap();
        assert!(less.number_holds(1023, |t| parse_number("size", t)).unwrap());
        assert!(!less.number_holds(1024, |t| parse_number("size", t)).unwrap());
    }
}
