//! Boolean query parameters as Anchore's clients write them.
//!
//! `anchore-cli` formats booleans with Python's `str()` (`True`, `False`),
//! other clients send `true`/`false` or `1`/`0`. Use with
//! `#[serde(default, deserialize_with = "query_bool::option")]`.

use serde::{Deserialize, Deserializer, de};

/// Parses one boolean query value, ignoring ASCII case.
pub fn parse(value: &str) -> Option<bool> {
    if value.eq_ignore_ascii_case("true") || value == "1" {
        Some(true)
    } else if value.eq_ignore_ascii_case("false") || value == "0" {
        Some(false)
    } else {
        None
    }
}

/// Deserializes an optional boolean query parameter (absent = `None`).
pub fn option<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bool(bool),
        Text(String),
    }
    match Option::<Raw>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Raw::Bool(value)) => Ok(Some(value)),
        Some(Raw::Text(text)) => {
            parse(&text).map(Some).ok_or_else(|| de::Error::custom(format!("expected true or false, found {text:?}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Query {
        #[serde(default, deserialize_with = "super::option")]
        force: Option<bool>,
    }

    fn force(json: &str) -> Result<Option<bool>, serde_json::Error> {
        serde_json::from_str::<Query>(json).map(|query| query.force)
    }

    #[test]
    fn python_and_json_spellings() {
        assert_eq!(force(r#"{"force":"True"}"#).unwrap(), Some(true));
        assert_eq!(force(r#"{"force":"False"}"#).unwrap(), Some(false));
        assert_eq!(force(r#"{"force":"true"}"#).unwrap(), Some(true));
        assert_eq!(force(r#"{"force":"0"}"#).unwrap(), Some(false));
        assert_eq!(force(r#"{"force":true}"#).unwrap(), Some(true));
        assert_eq!(force("{}").unwrap(), None);
    }

    #[test]
    fn rejects_other_words() {
        let err = force(r#"{"force":"maybe"}"#).unwrap_err();
        assert!(err.to_string().contains("expected true or false, found \"maybe\""), "{err}");
    }
}
