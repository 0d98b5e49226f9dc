//! PLACEHOLDER: being written.

use std::cmp::Ordering;

use crate::{Scheme, VersionError};

pub fn compare(a: &str, _b: &str) -> Result<Ordering, VersionError> {
    Err(VersionError::version(Scheme::Generic, a, "not implemented yet"))
}

pub fn satisfies(version: &str, _requirement: &str) -> Result<bool, VersionError> {
    Err(VersionError::version(Scheme::Generic, version, "not implemented yet"))
}
