//! Validated trigger parameters with typed access.
//!
//! Values are strings in bundles; [`crate::spec`] checks them at load, so a
//! gate reading them here only meets well-formed values (an error here means
//! a spec/gate mismatch, reported as an evaluation problem, never a panic).

use std::collections::BTreeMap;

/// A parameter value a gate could not use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parameter {name}: {reason}")]
pub struct ParamError {
    pub name: String,
    pub reason: String,
}

/// One rule's parameters: canonical lower-case names to values, with the
/// spec's defaults filled in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(pub BTreeMap<String, String>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// A required string (the spec guarantees presence; absence is a spec bug).
    pub fn required(&self, name: &str) -> Result<&str, ParamError> {
        self.str(name).ok_or_else(|| ParamError { name: name.to_owned(), reason: "missing".to_owned() })
    }

    pub fn bool(&self, name: &str) -> Result<Option<bool>, ParamError> {
        match self.str(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(ParamError { name: name.to_owned(), reason: format!("{v:?} is not true or false") }),
        }
    }

    pub fn int(&self, name: &str) -> Result<Option<i64>, ParamError> {
        self.str(name)
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| ParamError { name: name.to_owned(), reason: format!("{v:?} is not an integer") })
            })
            .transpose()
    }

    pub fn float(&self, name: &str) -> Result<Option<f64>, ParamError> {
        self.str(name)
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| ParamError { name: name.to_owned(), reason: format!("{v:?} is not a number") })
            })
            .transpose()
    }

    /// A comma-separated list, entries trimmed, empty entries dropped.
    pub fn csv(&self, name: &str) -> Vec<String> {
        self.str(name)
            .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default()
    }
}
