//! PLACEHOLDER: being written.

use portcullis_vulndb::Record;

use super::FormatError;

pub fn parse(path: &str, _bytes: &[u8]) -> Result<Vec<Record>, FormatError> {
    Err(FormatError::invalid(path, "not implemented yet"))
}
