//! `WWW-Authenticate` challenges and the bearer-token response, as registries
//! send them (distribution's token auth spec; RFC 7235 syntax).

use std::collections::BTreeMap;

use serde::Deserialize;

/// One challenge from a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic {
        realm: Option<String>,
    },
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    /// A scheme we do not speak (kept for the error message).
    Other {
        scheme: String,
    },
}

/// Parses every challenge in a header value, e.g.
/// `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"`.
/// Malformed parts are skipped rather than failing: the caller reports "no
/// usable challenge" with the raw header instead.
pub fn parse_challenges(header: &str) -> Vec<Challenge> {
    let mut challenges = Vec::new();
    let mut parser = Parser { s: header.as_bytes(), pos: 0 };
    loop {
        parser.skip_separators();
        let Some(scheme) = parser.token() else { break };
        let mut params = BTreeMap::new();
        loop {
            parser.skip_whitespace();
            // A parameter is `token = value`; a token not followed by '=' starts the next challenge.
            let save = parser.pos;
            let Some(key) = parser.token() else { break };
            parser.skip_whitespace();
            if !parser.eat(b'=') {
                parser.pos = save;
                break;
            }
            parser.skip_whitespace();
            let value = if parser.peek() == Some(b'"') { parser.quoted() } else { parser.token() };
            params.insert(key.to_ascii_lowercase(), value.unwrap_or_default());
            parser.skip_whitespace();
            if !parser.eat(b',') {
                break;
            }
        }
        challenges.push(match scheme.to_ascii_lowercase().as_str() {
            "basic" => Challenge::Basic { realm: params.remove("realm") },
            "bearer" => match params.remove("realm") {
                Some(realm) if !realm.is_empty() => {
                    Challenge::Bearer { realm, service: params.remove("service"), scope: params.remove("scope") }
                }
                _ => Challenge::Other { scheme: "Bearer without realm".to_owned() },
            },
            _ => Challenge::Other { scheme },
        });
    }
    challenges
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.pos += 1;
        }
    }

    /// RFC 7230 token characters (plus '/' so that unquoted URLs survive).
    fn token(&mut self) -> Option<String> {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/:".contains(&b) {
                self.pos += 1;
            } else {
                break;
            }
        }
        (self.pos > start).then(|| String::from_utf8_lossy(&self.s[start..self.pos]).into_owned())
    }

    fn quoted(&mut self) -> Option<String> {
        if !self.eat(b'"') {
            return None;
        }
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'"' => return Some(String::from_utf8_lossy(&out).into_owned()),
                b'\\' => {
                    if let Some(next) = self.peek() {
                        out.push(next);
                        self.pos += 1;
                    }
                }
                _ => out.push(b),
            }
        }
        // Unterminated: take what we have.
        Some(String::from_utf8_lossy(&out).into_owned())
    }
}

/// The token endpoint's answer. Docker's spec says `token`; OAuth2-style
/// servers send `access_token`; some send both.
#[derive(Debug, Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

pub fn parse_token_response(body: &[u8]) -> Result<String, String> {
    let response: TokenResponse =
        serde_json::from_slice(body).map_err(|e| format!("token endpoint answered with invalid JSON: {e}"))?;
    response
        .token
        .filter(|t| !t.is_empty())
        .or(response.access_token.filter(|t| !t.is_empty()))
        .ok_or_else(|| "token endpoint answered without a token or access_token".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_bearer() {
        let header = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#;
        assert_eq!(
            parse_challenges(header),
            vec![Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/alpine:pull".into()),
            }]
        );
    }

    #[test]
    fn basic_and_odd_spacing() {
        assert_eq!(
            parse_challenges(r#"Basic realm="lab-registry""#),
            vec![Challenge::Basic { realm: Some("lab-registry".into()) }]
        );
        assert_eq!(parse_challenges("basic"), vec![Challenge::Basic { realm: None }]);
        assert_eq!(
            parse_challenges(r#"  BEARER   realm = "http://127.0.0.1:1/token" ,  scope="a:b:pull,push", service=svc"#),
            vec![Challenge::Bearer {
                realm: "http://127.0.0.1:1/token".into(),
                service: Some("svc".into()),
                scope: Some("a:b:pull,push".into()),
            }]
        );
    }

    #[test]
    fn several_challenges_and_escapes() {
        let header = r#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple", Bearer realm=https://x/token"#;
        assert_eq!(
            parse_challenges(header),
            vec![
                Challenge::Other { scheme: "Newauth".into() },
                Challenge::Basic { realm: Some("simple".into()) },
                Challenge::Bearer { realm: "https://x/token".into(), service: None, scope: None },
            ]
        );
        assert_eq!(
            parse_challenges(r#"Bearer service="x""#),
            vec![Challenge::Other { scheme: "Bearer without realm".into() }]
        );
        assert_eq!(parse_challenges(""), vec![]);
        assert_eq!(
            parse_challenges(r#"Basic realm="unterminated"#),
            vec![Challenge::Basic { realm: Some("unterminated".into()) }]
        );
    }

    #[test]
    fn token_responses() {
        assert_eq!(parse_token_response(br#"{"token":"a","access_token":"b"}"#).unwrap(), "a");
        assert_eq!(parse_token_response(br#"{"access_token":"b","expires_in":300}"#).unwrap(), "b");
        assert_eq!(parse_token_response(br#"{"token":"","access_token":"b"}"#).unwrap(), "b");
        assert!(parse_token_response(br#"{"expires_in":300}"#).unwrap_err().contains("without a token"));
        assert!(parse_token_response(b"<html>").unwrap_err().contains("invalid JSON"));
    }
}
