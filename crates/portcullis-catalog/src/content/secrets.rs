//! Secret and content search: named regex rules run over file contents,
//! reporting which rule matched on which line, never the matched text.
//!
//! The default rules keep the names and intent of Anchore Engine's
//! `secret_search` defaults (`AWS_ACCESS_KEY`, `AWS_SECRET_KEY`, `PRIV_KEY`,
//! `DOCKER_AUTH`, `API_KEY`) so policies written against it keep working, and
//! add rules that tell key types and well-known token formats apart.
//!
//! Differences from Anchore worth knowing:
//! - Line numbers are 1-based (Anchore's analyzer reports 0-based ones).
//! - Rules are searched anywhere in a line, not only from its start
//!   (Anchore uses Python's `re.match`); Anchore's patterns begin with `.*`
//!   except `PRIV_KEY`, which here also accepts an indented header (a key in
//!   a YAML block) and an escaped one inside a JSON string (`"-----BEGIN
//!   PRIVATE KEY-----\nMII…"`, as in cloud service-account files).
//! - `=` or `:` separate a name from its value (Anchore: `=` only), and a
//!   value right after `=` counts (Anchore's look-behind misses
//!   `aws_secret_access_key=…` without a space).
//! - `DOCKER_AUTH` only fires when the value decodes as base64 to
//!   `user:password`, as Docker writes it, not on any `"auth": "…"`.
//! - Files up to [`DEFAULT_MAX_FILE_SIZE`] are searched (Anchore: 10 000 bytes).
//! - `(?i)` rules find names spelled lower, UPPER, Title_Case or Capitalised
//!   (the spellings the prefilter looks for); Anchore would also find
//!   `aWs_AcCeSs_KeY_iD`.
//!
//! Speed: every text file of an image goes through [`ContentScanner::scan`].
//! Built-in rules carry literal anchors (text every match contains); one
//! Aho-Corasick pass over the file finds them, and a rule's regex only runs on
//! the lines around its anchors, once per line. A file without any anchor
//! costs that single pass. User rules without anchors are screened together
//! by one [`RegexSet`] pass before each is searched.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use base64::Engine as _;
use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

/// Files larger than this are not searched by default.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// How much of the start of a file is checked for a NUL byte to call it binary.
pub const BINARY_PROBE_LEN: usize = 8 * 1024;

/// Limit on a compiled user rule, so a pathological pattern is refused when
/// it is defined rather than slowing every file down.
const MAX_COMPILED_SIZE: usize = 4 * 1024 * 1024;

/// A named pattern.
#[derive(Debug, Clone)]
pub struct SecretRule {
    /// Reported with each match, e.g. `AWS_ACCESS_KEY`.
    pub name: String,
    /// Searched in the file's bytes. Built with multi-line mode on, so `^` and
    /// `$` match at line boundaries; a match may span lines and is reported
    /// on the line where it starts.
    pub pattern: Regex,
    pub description: String,
    /// Literals of which every match contains one, on the line where the
    /// match starts; empty when unknown.
    anchors: Vec<&'static str>,
    /// Whether the anchors are also looked for in other letter cases (for
    /// `(?i)` rules): lower, UPPER, Title_Case and Capitalised spellings.
    anchors_any_case: bool,
    /// How many lines after the anchor's a match may need (0: one line).
    span_lines: usize,
    /// A check on the matched bytes that a regex cannot express.
    validate: Option<fn(&[u8]) -> bool>,
}

/// Errors in user-supplied rules.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("content rule {name:?}: invalid regular expression: {source}")]
    InvalidRegex {
        name: String,
        #[source]
        source: regex::Error,
    },
    #[error("invalid content rule name {name:?}: use letters, digits, '_', '-' or '.'")]
    InvalidName { name: String },
    #[error("content rule {spec:?} is not of the form NAME=REGEX")]
    MissingName { spec: String },
}

impl SecretRule {
    /// A user rule; `pattern` uses the `regex` crate's syntax (no
    /// look-around or back-references), with multi-line mode on.
    pub fn new(name: &str, pattern: &str) -> Result<Self, ContentError> {
        let valid_name =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !valid_name {
            return Err(ContentError::InvalidName { name: name.to_owned() });
        }
        let pattern = RegexBuilder::new(pattern)
            .multi_line(true)
            .size_limit(MAX_COMPILED_SIZE)
            .build()
            .map_err(|source| ContentError::InvalidRegex { name: name.to_owned(), source })?;
        Ok(Self {
            name: name.to_owned(),
            pattern,
            description: String::new(),
            anchors: Vec::new(),
            anchors_any_case: false,
            span_lines: 0,
            validate: None,
        })
    }

    /// Parses Anchore's configuration form, `NAME=REGEX`.
    pub fn parse(spec: &str) -> Result<Self, ContentError> {
        match spec.split_once('=') {
            Some((name, pattern)) if !name.is_empty() => Self::new(name, pattern),
            _ => Err(ContentError::MissingName { spec: spec.to_owned() }),
        }
    }

    pub fn with_description(mut self, description: &str) -> Self {
        self.description = description.to_owned();
        self
    }

    fn builtin(
        name: &str,
        description: &str,
        pattern: &str,
        anchors: &[&'static str],
        span_lines: usize,
        validate: Option<fn(&[u8]) -> bool>,
    ) -> Self {
        let anchors_any_case = pattern.starts_with("(?i)");
        // Byte-wise matching: a stray invalid UTF-8 byte on a line must not stop
        // `[^\n]*` from crossing it.
        let pattern = RegexBuilder::new(pattern).multi_line(true).unicode(false).build();
        Self {
            name: name.to_owned(),
            // The built-in patterns are checked by a unit test; an empty-set
            // regex keeps a mistake from panicking in production.
            pattern: pattern.unwrap_or_else(|_| never()),
            description: description.to_owned(),
            anchors: anchors.to_vec(),
            anchors_any_case,
            span_lines,
            validate,
        }
    }
}

fn never() -> Regex {
    // `[^\x00-\xff]` in byte mode is the empty class: it matches nothing.
    RegexBuilder::new(r"[^\x00-\xff]").unicode(false).build().unwrap_or_else(|_| unreachable!())
}

/// Body of a PEM block right after its header: a newline (or the two
/// characters `\n`, inside a JSON or shell string), then base64 or the
/// `Proc-Type:` header of an encrypted legacy key. Requiring it keeps code
/// that merely names the header (parsers, docs) from matching.
const PEM_BODY: &str = r"(?:\r?\n|(?:\\r)?\\n)(?:[A-Za-z0-9+/=]{16}|Proc-Type:)";

/// The built-in rules, Anchore's five first.
pub fn default_rules() -> Vec<SecretRule> {
    let pem = |name: &str, kind: &str, label: &str| {
        SecretRule::builtin(
            name,
            &format!("{kind} private key (PEM `-----BEGIN {label}-----` with a key body)"),
            &format!("-----BEGIN {label}-----{PEM_BODY}"),
            &["PRIVATE KEY"],
            1,
            None,
        )
    };
    vec![
        SecretRule::builtin(
            "AWS_ACCESS_KEY",
            "AWS access key id assigned to aws_access_key_id (Anchore AWS_ACCESS_KEY)",
            r#"(?i)aws_access_key_id["']?[ \t]*[=:]+[ \t]*(?:[^\n]*[^A-Z0-9\n])?[A-Z0-9]{20}(?:[^A-Z0-9]|$)"#,
            &["aws_access_key_id"],
            0,
            None,
        ),
        SecretRule::builtin(
            "AWS_SECRET_KEY",
            "AWS secret access key assigned to aws_secret_access_key (Anchore AWS_SECRET_KEY)",
            r#"(?i)aws_secret_access_key["']?[ \t]*[=:]+[ \t]*(?:[^\n]*[^A-Z0-9/+=\n])?[A-Z0-9/+=]{40}(?:[^A-Z0-9/+=]|$)"#,
            &["aws_secret_access_key"],
            0,
            None,
        ),
        SecretRule::builtin(
            "PRIV_KEY",
            "PEM private key header of any type: a line starting with -----BEGIN ...PRIVATE KEY----- \
             (Anchore PRIV_KEY), an indented header alone on its line (a key in a YAML block), or an \
             escaped one followed by its body inside a string",
            // The indented form must be alone on its line: documentation
            // quoting `-----BEGIN RSA PRIVATE KEY----- -----END ...` is not a key.
            r"(?i)^-+BEGIN[^\n]*PRIVATE KEY-+|^[ \t]+-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[ \t]*\r?$|-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:\\r)?\\n[A-Za-z0-9+/=]{16}",
            &["PRIVATE KEY"],
            0,
            None,
        ),
        SecretRule::builtin(
            "DOCKER_AUTH",
            "registry credentials in a Docker config.json: \"auth\" holding base64 user:password (Anchore DOCKER_AUTH)",
            r#"(?i)"auth"[ \t]*:[ \t]*"[A-Za-z0-9+/=]{4,}""#,
            &["\"auth\""],
            0,
            Some(is_basic_auth),
        ),
        SecretRule::builtin(
            "API_KEY",
            "a 20-60 character token assigned to api_key / api-key (Anchore API_KEY)",
            r#"(?i)api[-_]key["']?[ \t]*[=:]+[ \t]*(?:[^\n]*[^A-Z0-9\n])?[A-Z0-9]{20,60}(?:[^A-Z0-9]|$)"#,
            &["api_key", "api-key"],
            0,
            None,
        ),
        SecretRule::builtin(
            "AWS_ACCESS_KEY_ID",
            "AWS access key id anywhere (AKIA… long-term, ASIA… temporary), except AWS's documentation \
             examples (ids containing EXAMPLE)",
            // `<code>` and `/` are matched only to be rejected: AWS's API
            // documentation (botocore's service models) quotes key ids that way
            // and inside example ARNs (`…:key/AKIA…`).
            r"(?:<code>|/)?\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
            &["AKIA", "ASIA"],
            0,
            Some(is_real_key_id),
        ),
        pem("RSA_PRIV_KEY", "RSA", "RSA PRIVATE KEY"),
        pem("EC_PRIV_KEY", "EC", "EC PRIVATE KEY"),
        pem("DSA_PRIV_KEY", "DSA", "DSA PRIVATE KEY"),
        pem("OPENSSH_PRIV_KEY", "OpenSSH", "OPENSSH PRIVATE KEY"),
        pem("ENCRYPTED_PRIV_KEY", "Encrypted PKCS#8", "ENCRYPTED PRIVATE KEY"),
        SecretRule::builtin(
            "PGP_PRIV_KEY",
            "PGP private key block (armor header, optional armor headers, base64)",
            r"-----BEGIN PGP PRIVATE KEY BLOCK-----\r?\n(?:[A-Za-z][A-Za-z-]*: [^\n]*\n){0,4}\r?\n?[A-Za-z0-9+/=]{16}",
            &["PRIVATE KEY"],
            6,
            None,
        ),
        SecretRule::builtin(
            "GITHUB_TOKEN",
            "GitHub token (ghp_/gho_/ghu_/ghs_/ghr_ classic, github_pat_ fine-grained)",
            r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b",
            &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
            0,
            None,
        ),
        SecretRule::builtin(
            "GITLAB_TOKEN",
            "GitLab personal access token (glpat-…)",
            r"\bglpat-[A-Za-z0-9_-]{20,}",
            &["glpat-"],
            0,
            None,
        ),
        SecretRule::builtin(
            "SLACK_TOKEN",
            "Slack token (xoxb-/xoxa-/xoxp-/xoxr-/xoxs-…)",
            r"\bxox[baprs]-[0-9]{10,13}-[0-9A-Za-z-]{10,}",
            &["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"],
            0,
            None,
        ),
        SecretRule::builtin(
            "STRIPE_KEY",
            "Stripe live secret or restricted key (sk_live_/rk_live_…)",
            r"\b[sr]k_live_[0-9A-Za-z]{24,}\b",
            &["k_live_"],
            0,
            None,
        ),
        SecretRule::builtin(
            "GOOGLE_API_KEY",
            "Google API key (AIza…)",
            r"\bAIza[0-9A-Za-z_-]{35}(?:[^0-9A-Za-z_-]|$)",
            &["AIza"],
            0,
            None,
        ),
        SecretRule::builtin("NPM_TOKEN", "npm access token (npm_…)", r"\bnpm_[A-Za-z0-9]{36}\b", &["npm_"], 0, None),
        SecretRule::builtin(
            "SENDGRID_KEY",
            "SendGrid API key (SG.<22>.<43>)",
            r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?:[^A-Za-z0-9_-]|$)",
            &["SG."],
            0,
            None,
        ),
    ]
}

/// Key ids outside documentation. AWS's documented example ids say so
/// (`AKIAIOSFODNN7EXAMPLE`, `AKIAEXAMPLE123456789`); awscli and botocore ship
/// hundreds of them. The `aws_access_key_id = …` context of `AWS_ACCESS_KEY`
/// still reports an example id put in a credentials file, as Anchore does.
fn is_real_key_id(matched: &[u8]) -> bool {
    let documentation = matched.starts_with(b"<code>") || matched.starts_with(b"/");
    !documentation && memchr::memmem::find(matched, b"EXAMPLE").is_none()
}

/// `"auth": "<base64>"` whose value decodes to `user:password`.
fn is_basic_auth(matched: &[u8]) -> bool {
    // The value is the last quoted string of the match.
    let Some(close) = matched.iter().rposition(|&b| b == b'"') else { return false };
    let Some(open) = matched[..close].iter().rposition(|&b| b == b'"') else { return false };
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    match engine.decode(&matched[open + 1..close]) {
        Ok(decoded) => {
            let colon = decoded.iter().position(|&b| b == b':');
            colon.is_some_and(|i| i > 0) && decoded.iter().all(|&b| b >= 0x20 && b != 0x7f)
        }
        Err(_) => false,
    }
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanOutcome {
    /// Searched; `(rule, 1-based line)` pairs, ordered by line then rule name.
    Scanned(Vec<(String, u64)>),
    /// A NUL byte in the first [`BINARY_PROBE_LEN`] bytes, with `skip_binary` on.
    SkippedBinary,
    SkippedTooLarge {
        size: u64,
        max: u64,
    },
}

/// Runs a set of rules over file contents.
#[derive(Debug, Clone)]
pub struct ContentScanner {
    rules: Vec<SecretRule>,
    /// Larger files are not searched.
    pub max_file_size: u64,
    /// Leave out files with a NUL byte in their first 8 KiB.
    pub skip_binary: bool,
    anchors: Option<AhoCorasick>,
    /// Rule indexes per anchor pattern id.
    anchor_rules: Vec<Vec<usize>>,
    /// Rules without anchors, screened together.
    unanchored: Option<RegexSet>,
    unanchored_rules: Vec<usize>,
}

impl Default for ContentScanner {
    fn default() -> Self {
        Self::new(default_rules())
    }
}

impl ContentScanner {
    pub fn new(rules: Vec<SecretRule>) -> Self {
        let mut patterns: Vec<String> = Vec::new();
        let mut anchor_rules: Vec<Vec<usize>> = Vec::new();
        let mut unanchored_rules = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            if rule.anchors.is_empty() {
                unanchored_rules.push(index);
            }
            for &anchor in &rule.anchors {
                let spellings = if rule.anchors_any_case { case_variants(anchor) } else { vec![anchor.to_owned()] };
                for spelling in spellings {
                    match patterns.iter().position(|p| *p == spelling) {
                        Some(id) if !anchor_rules[id].contains(&index) => anchor_rules[id].push(index),
                        Some(_) => {}
                        None => {
                            patterns.push(spelling);
                            anchor_rules.push(vec![index]);
                        }
                    }
                }
            }
        }
        // Case-sensitive, leftmost-first: the form in which aho-corasick can
        // use its SIMD (Teddy) prefilter. An ASCII-case-insensitive automaton
        // runs about ten times slower on typical image text, so `(?i)` rules
        // list their anchors in the spellings that occur instead.
        let anchors = if patterns.is_empty() {
            None
        } else {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostFirst)
                .build(&patterns)
                .map_err(|error| tracing::error!(%error, "content-search anchors rejected"))
                .ok()
        };
        // Built from already-compiled patterns, so this only fails on the
        // combined size limit; then every unanchored rule is simply searched.
        let unanchored = (!unanchored_rules.is_empty())
            .then(|| {
                // Same flags as SecretRule::new, so the set screens exactly
                // what the rules match.
                RegexSetBuilder::new(unanchored_rules.iter().map(|&i| rules[i].pattern.as_str()))
                    .multi_line(true)
                    .size_limit(MAX_COMPILED_SIZE * unanchored_rules.len())
                    .build()
                    .ok()
            })
            .flatten();
        Self {
            rules,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            skip_binary: true,
            anchors,
            anchor_rules,
            unanchored,
            unanchored_rules,
        }
    }

    pub fn rules(&self) -> &[SecretRule] {
        &self.rules
    }

    /// Whether a file of `size` bytes would be searched, so a caller can avoid
    /// keeping the contents of larger ones.
    pub fn accepts_size(&self, size: u64) -> bool {
        size <= self.max_file_size
    }

    /// `(rule, 1-based line)` for every line where a rule matches; empty for
    /// skipped files (see [`ContentScanner::scan_file`] for why).
    pub fn scan(&self, bytes: &[u8]) -> Vec<(String, u64)> {
        match self.scan_file(bytes) {
            ScanOutcome::Scanned(found) => found,
            ScanOutcome::SkippedBinary | ScanOutcome::SkippedTooLarge { .. } => Vec::new(),
        }
    }

    pub fn scan_file(&self, bytes: &[u8]) -> ScanOutcome {
        let size = bytes.len() as u64;
        if size > self.max_file_size {
            return ScanOutcome::SkippedTooLarge { size, max: self.max_file_size };
        }
        if self.skip_binary && memchr::memchr(0, &bytes[..bytes.len().min(BINARY_PROBE_LEN)]).is_some() {
            return ScanOutcome::SkippedBinary;
        }
        // (offset of the match start, rule index)
        let mut hits: Vec<(usize, usize)> = Vec::new();
        self.anchored_hits(bytes, &mut hits);
        self.unanchored_hits(bytes, &mut hits);
        ScanOutcome::Scanned(self.to_lines(bytes, hits))
    }

    fn anchored_hits(&self, bytes: &[u8], hits: &mut Vec<(usize, usize)>) {
        let Some(anchors) = &self.anchors else { return };
        // Anchor matches come in ascending order, so remembering the last line
        // each rule was tried on is enough to try it once per line. Sized on
        // the first anchor: most files have none and allocate nothing.
        let mut tried: Vec<Option<usize>> = Vec::new();
        let mut line = (0usize, 0usize); // [start, end) of the current line
        let mut have_line = false;
        for anchor in anchors.find_iter(bytes) {
            if tried.is_empty() {
                tried.resize(self.rules.len(), None);
            }
            let at = anchor.start();
            if !have_line || at >= line.1 {
                let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
                let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
                line = (start, end);
                have_line = true;
            }
            for &index in &self.anchor_rules[anchor.pattern().as_usize()] {
                if tried[index] == Some(line.0) {
                    continue;
                }
                tried[index] = Some(line.0);
                let rule = &self.rules[index];
                let window_end = extend_lines(bytes, line.1, rule.span_lines);
                let window = &bytes[line.0..window_end];
                let first_line_len = line.1 - line.0;
                let found = rule
                    .pattern
                    .find_iter(window)
                    .take_while(|m| m.start() <= first_line_len)
                    .find(|m| rule.validate.is_none_or(|check| check(m.as_bytes())));
                if let Some(m) = found {
                    hits.push((line.0 + m.start(), index));
                }
            }
        }
    }

    fn unanchored_hits(&self, bytes: &[u8], hits: &mut Vec<(usize, usize)>) {
        if self.unanchored_rules.is_empty() {
            return;
        }
        let candidates: Vec<usize> = match &self.unanchored {
            Some(set) => set.matches(bytes).iter().map(|i| self.unanchored_rules[i]).collect(),
            None => self.unanchored_rules.clone(),
        };
        for index in candidates {
            let rule = &self.rules[index];
            for m in rule.pattern.find_iter(bytes) {
                if rule.validate.is_none_or(|check| check(m.as_bytes())) {
                    hits.push((m.start(), index));
                }
            }
        }
    }

    fn to_lines(&self, bytes: &[u8], mut hits: Vec<(usize, usize)>) -> Vec<(String, u64)> {
        if hits.is_empty() {
            return Vec::new();
        }
        hits.sort_unstable();
        let mut counted_to = 0usize;
        let mut line = 1u64;
        let mut out: Vec<(String, u64)> = Vec::with_capacity(hits.len());
        for (offset, index) in hits {
            line += memchr::memchr_iter(b'\n', &bytes[counted_to..offset]).count() as u64;
            counted_to = offset;
            out.push((self.rules[index].name.clone(), line));
        }
        out.sort_unstable_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        out.dedup();
        out
    }
}

/// The spellings of an anchor a case-insensitive rule is looked for in:
/// `api_key`, `API_KEY`, `Api_Key`, `Api_key`. Other mixtures (`aPi_KeY`) are
/// not: text that spells names that way is not worth a slower prefilter.
fn case_variants(anchor: &str) -> Vec<String> {
    let lower = anchor.to_ascii_lowercase();
    let mut title = String::with_capacity(lower.len());
    let mut capitalised = String::with_capacity(lower.len());
    let mut word_start = true;
    let mut first_letter = true;
    for c in lower.chars() {
        title.push(if word_start { c.to_ascii_uppercase() } else { c });
        capitalised.push(if first_letter && c.is_ascii_alphabetic() { c.to_ascii_uppercase() } else { c });
        first_letter &= !c.is_ascii_alphabetic();
        word_start = !c.is_ascii_alphanumeric();
    }
    let mut out = vec![lower, anchor.to_ascii_uppercase(), title, capitalised, anchor.to_owned()];
    let mut seen = Vec::new();
    out.retain(|v| {
        let new = !seen.contains(v);
        seen.push(v.clone());
        new
    });
    out
}

/// The end of the line `lines` lines after the one ending at `end`.
fn extend_lines(bytes: &[u8], mut end: usize, lines: usize) -> usize {
    for _ in 0..lines {
        if end >= bytes.len() {
            break;
        }
        end = memchr::memchr(b'\n', &bytes[end + 1..]).map_or(bytes.len(), |i| end + 1 + i);
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(found: &[(String, u64)]) -> Vec<(&str, u64)> {
        found.iter().map(|(r, l)| (r.as_str(), *l)).collect()
    }

    #[test]
    fn builtin_rules_compile_with_anchors() {
        for rule in default_rules() {
            assert_ne!(rule.pattern.as_str(), never().as_str(), "{}", rule.name);
            assert!(!rule.anchors.is_empty(), "{}", rule.name);
            assert!(!rule.description.is_empty(), "{}", rule.name);
        }
    }

    #[test]
    fn anchors_are_required_by_each_rule() {
        // Every sample must contain an anchor of the rule that matches it,
        // otherwise the prefilter would hide real matches.
        let samples: &[(&str, &str)] = &[
            ("AWS_ACCESS_KEY", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE"),
            ("AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID: \"AKIAIOSFODNN7EXAMPLE\""),
            ("AWS_SECRET_KEY", "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            ("PRIV_KEY", "-----BEGIN PRIVATE KEY-----"),
            ("PRIV_KEY", "    -----BEGIN RSA PRIVATE KEY-----"),
            ("PRIV_KEY", "    -----BEGIN EC PRIVATE KEY-----\r\n    MHcCAQEEIIrYSSNQFaA2Hwf1"),
            ("PRIV_KEY", r#"  "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC","#),
            ("DOCKER_AUTH", r#"      "auth": "bGFiOm5vdC1hLXJlYWwtcGFzc3dvcmQ=""#),
            ("API_KEY", r#"API_KEY = "LABFAKEAPIKEY0123456789ABCDEFGHIJ""#),
            ("API_KEY", "x-api-key: 0123456789abcdefABCDEF0123"),
            ("AWS_ACCESS_KEY_ID", "ENV AWS_ACCESS_KEY_ID=AKIAZ7X2LAB3FAKE4KEY"),
            ("AWS_ACCESS_KEY_ID", "\"AccessKeyId\": \"ASIAZ7X2LAB3FAKE4KEY\","),
            ("RSA_PRIV_KEY", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAtestbody"),
            ("RSA_PRIV_KEY", "-----BEGIN RSA PRIVATE KEY-----\r\nProc-Type: 4,ENCRYPTED"),
            ("EC_PRIV_KEY", "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIrYSSNQFaA2Hwf1"),
            ("OPENSSH_PRIV_KEY", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU"),
            ("ENCRYPTED_PRIV_KEY", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHzBJBgkqhkiG9w0BBQ0w"),
            ("PGP_PRIV_KEY", "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\nlQOYBF0AAAABCAC0xyzxyzxyz"),
            ("GITHUB_TOKEN", "token: ghp_0123456789abcdefghijABCDEFGHIJ012345"),
            ("GITLAB_TOKEN", "GITLAB=glpat-0123456789abcdefghij"),
            ("SLACK_TOKEN", "xoxb-1234567890-1234567890123-abcdefghijABCDEFGHIJ1234"),
            ("STRIPE_KEY", "sk_live_0123456789abcdefghijABCD"),
            ("GOOGLE_API_KEY", "key=AIzaSyA0123456789abcdefghijklmnopqrstuv"),
            ("NPM_TOKEN", "//registry.npmjs.org/:_authToken=npm_0123456789abcdefghijABCDEFGHIJ012345"),
            ("SENDGRID_KEY", "SG.0123456789abcdefghijkl.0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"),
        ];
        let rules = default_rules();
        let scanner = ContentScanner::default();
        for (name, sample) in samples {
            let rule = rules.iter().find(|r| r.name == *name).unwrap();
            assert!(rule.pattern.is_match(sample.as_bytes()), "{name} does not match {sample:?}");
            let lower = sample.to_ascii_lowercase();
            assert!(
                rule.anchors.iter().any(|a| lower.contains(&a.to_ascii_lowercase())),
                "{name}: no anchor in {sample:?}"
            );
            let found = scanner.scan(sample.as_bytes());
            assert!(found.iter().any(|(r, l)| r == name && *l == 1), "{name} not reported for {sample:?}: {found:?}");
        }
    }

    #[test]
    fn near_misses_are_not_secrets() {
        let scanner = ContentScanner::default();
        for text in [
            // Code and documentation that name a header without a key.
            "      -----BEGIN RSA PRIVATE KEY----- -----END RSA PRIVATE KEY----- @InputOnly\n",
            "an access key ID (for example, <code>AKIAZ7X2LAB3FAKE4KEY</code>)\n",
            "<code>arn:aws:kms:us-east-1:123456789012:key/AKIAZ7X2LAB3FAKE4KEY</code>\n",
            "{\"AccessKeyId\": \"AKIAIOSFODNN7EXAMPLE\"}\n",
            "X-Amz-Credential=AKIAEXAMPLE123456789%2F20210621%2Fus-west-2\n",
            "if line.startswith(\"-----BEGIN RSA PRIVATE KEY-----\"):\n    pass\n",
            "PEM_HEADER = b'-----BEGIN OPENSSH PRIVATE KEY-----'\n",
            // Non-credential "auth" values.
            "{\"auth\": \"none\"}\n{\"auth\": \"basic\"}\n{\"auth\": \"bm9jb2xvbg==\"}\n",
            "        \"auth\":         LOG_AUTH,\n",
            // Too short, too long, or not a token.
            "api_key = None\napi_key = get_api_key_from_the_environment()\n",
            "API_KEY = \"0123456789012345678901234567890123456789012345678901234567890123456789\"\n",
            "AKIAIOSFODNN7EXAMPLEX is longer; xAKIAIOSFODNN7EXAMPLE is embedded\n",
            "msg.send(); npm_config_cache=/tmp; Asia/Tokyo\n",
        ] {
            assert_eq!(scanner.scan(text.as_bytes()), Vec::new(), "{text:?}");
        }
    }

    #[test]
    fn reports_lines_once_and_in_order() {
        let text = "x\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAtestbodytestbody\n-----END RSA PRIVATE KEY-----\n\
                    aws_access_key_id = AKIAZ7X2LAB3FAKE4KEY AKIAZ7X2LAB3FAKE4KEY\n";
        let found = ContentScanner::default().scan(text.as_bytes());
        assert_eq!(
            names(&found),
            vec![("PRIV_KEY", 2), ("RSA_PRIV_KEY", 2), ("AWS_ACCESS_KEY", 5), ("AWS_ACCESS_KEY_ID", 5)]
        );
    }

    #[test]
    fn anchor_spellings() {
        assert_eq!(case_variants("api_key"), vec!["api_key", "API_KEY", "Api_Key", "Api_key"]);
        assert_eq!(case_variants("\"auth\""), vec!["\"auth\"", "\"AUTH\"", "\"Auth\""]);
        assert_eq!(case_variants("PRIVATE KEY"), vec!["private key", "PRIVATE KEY", "Private Key", "Private key"]);
        let text = "Aws_Access_Key_Id = AKIAZ7X2LAB3FAKE4KEY\nAPI_KEY: 0123456789abcdefABCDEF0123\n";
        assert_eq!(
            names(&ContentScanner::default().scan(text.as_bytes())),
            vec![("AWS_ACCESS_KEY", 1), ("AWS_ACCESS_KEY_ID", 1), ("API_KEY", 2)]
        );
    }

    #[test]
    fn basic_auth_values() {
        assert!(is_basic_auth(br#""auth": "dXNlcjpwYXNz""#));
        assert!(is_basic_auth(br#""auth": "dXNlcjpwYXNz==""#) || is_basic_auth(br#""auth": "dXNlcjpwYXNz""#));
        assert!(!is_basic_auth(br#""auth": "bm9jb2xvbg==""#)); // "nocolon"
        assert!(!is_basic_auth(br#""auth": "OnBhc3M=""#)); // ":pass", no user
        assert!(!is_basic_auth(b"no quotes"));
    }
}
