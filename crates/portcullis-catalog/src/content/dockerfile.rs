//! Dockerfiles: the one a user supplies ([`from_user`]), the one guessed from
//! an image's history ([`reconstruct`]), and the instruction list the policy
//! engine's `dockerfile` gate reads from either ([`instructions`]).
//!
//! History strings come in two dialects. The classic builder records
//! `/bin/sh -c #(nop) <INSTRUCTION>` for metadata steps and
//! `/bin/sh -c <command>` for `RUN`, with Go's `%v` formatting leaking into
//! some (`ADD file:<hash> in /`, `VOLUME [/data]`, `HEALTHCHECK &{[...] ...}`).
//! BuildKit records the instruction itself (`RUN /bin/sh -c apt-get ... #
//! buildkit`, `EXPOSE map[8000/tcp:{}]`, `LABEL k=v with spaces`). Both are
//! turned back into Dockerfile syntax that [`instructions`] parses one
//! instruction per history step.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use portcullis_sbom::{Dockerfile, DockerfileKind, Healthcheck, HistoryEntry, ImageConfig};
use regex::Regex;

/// The instructions a Dockerfile may use; also the values the policy gate
/// `dockerfile/instruction` accepts.
pub const KEYWORDS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// One instruction of a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// Upper-cased, e.g. `RUN`.
    pub keyword: String,
    /// The arguments as written, continuation lines joined (the escape
    /// character and newline removed, as Docker does) and trimmed; heredoc
    /// bodies kept with their newlines.
    pub args: String,
    /// 1-based line of the keyword.
    pub line: u64,
    /// The arguments as a list when written in JSON-array (exec) form.
    pub exec_form: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DockerfileError {
    #[error("the Dockerfile has no instructions")]
    Empty,
    #[error("line {line}: unknown instruction {keyword:?}")]
    UnknownInstruction { keyword: String, line: u64 },
    #[error("line {line}: {keyword} needs an argument")]
    MissingArguments { keyword: String, line: u64 },
    #[error("line {line}: the first instruction must be FROM (or ARG before it), not {keyword}")]
    FromNotFirst { keyword: String, line: u64 },
    #[error("line {line}: heredoc <<{terminator} is not terminated")]
    UnterminatedHeredoc { terminator: String, line: u64 },
}

/// Checks a user-supplied Dockerfile and keeps its text as the `actual` one.
pub fn from_user(text: &str) -> Result<Dockerfile, DockerfileError> {
    let parsed = parse(text);
    if let Some((terminator, line)) = parsed.open_heredoc {
        return Err(DockerfileError::UnterminatedHeredoc { terminator, line });
    }
    if parsed.instructions.is_empty() {
        return Err(DockerfileError::Empty);
    }
    for instruction in &parsed.instructions {
        if !KEYWORDS.contains(&instruction.keyword.as_str()) {
            return Err(DockerfileError::UnknownInstruction {
                keyword: instruction.keyword.clone(),
                line: instruction.line,
            });
        }
        if instruction.args.is_empty() {
            return Err(DockerfileError::MissingArguments {
                keyword: instruction.keyword.clone(),
                line: instruction.line,
            });
        }
    }
    if let Some(first) = parsed.instructions.iter().find(|i| i.keyword != "ARG")
        && first.keyword != "FROM"
    {
        return Err(DockerfileError::FromNotFirst { keyword: first.keyword.clone(), line: first.line });
    }
    Ok(Dockerfile { kind: DockerfileKind::Actual, text: text.to_owned() })
}

/// The instructions of a Dockerfile, leniently: unknown keywords are kept
/// (upper-cased) and nothing is rejected; see [`from_user`] for validation.
///
/// Handles parser directives (`# escape=\``), comments (also between
/// continuation lines), line continuations, heredocs (`RUN <<EOF`) and
/// CRLF line ends.
pub fn instructions(text: &str) -> Vec<Instruction> {
    parse(text).instructions
}

struct Parsed {
    instructions: Vec<Instruction>,
    /// A heredoc still open at the end: terminator and the line it began.
    open_heredoc: Option<(String, u64)>,
}

struct Pending {
    keyword: String,
    args: String,
    line: u64,
    /// Heredoc terminators still expected, with whether `<<-` strips tabs.
    heredocs: Vec<(String, bool)>,
}

fn parse(text: &str) -> Parsed {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut escape = '\\';
    let mut directives_allowed = true;
    let mut out = Vec::new();
    let mut pending: Option<Pending> = None;
    for (index, raw) in text.split('\n').enumerate() {
        let number = index as u64 + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(p) = pending.as_mut()
            && !p.heredocs.is_empty()
        {
            p.args.push('\n');
            p.args.push_str(line);
            let (terminator, strip_tabs) = &p.heredocs[0];
            let candidate = if *strip_tabs { line.trim_start_matches('\t') } else { line };
            if candidate == terminator {
                p.heredocs.remove(0);
                if p.heredocs.is_empty() {
                    out.extend(pending.take().map(finish));
                }
            }
            continue;
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') {
            if directives_allowed && pending.is_none() {
                match directive(trimmed) {
                    Some((name, value)) => {
                        if name == "escape" && (value == "`" || value == "\\") {
                            escape = value.chars().next().unwrap_or('\\');
                        }
                        continue;
                    }
                    None => directives_allowed = false,
                }
            }
            continue;
        }
        if trimmed.is_empty() {
            directives_allowed = false;
            continue;
        }
        directives_allowed = false;
        match pending.as_mut() {
            Some(p) => p.args.push_str(line),
            None => {
                let split = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
                pending = Some(Pending {
                    keyword: trimmed[..split].to_ascii_uppercase(),
                    args: trimmed[split..].trim_start().to_owned(),
                    line: number,
                    heredocs: Vec::new(),
                });
            }
        }
        let Some(body) = pending.as_mut() else { continue };
        let end = body.args.trim_end();
        if end.ends_with(escape) {
            let cut = end.len() - escape.len_utf8();
            body.args.truncate(cut);
            continue;
        }
        if matches!(body.keyword.as_str(), "RUN" | "COPY" | "ADD") {
            body.heredocs = heredoc_terminators(&body.args);
        }
        if body.heredocs.is_empty() {
            out.extend(pending.take().map(finish));
        }
    }
    let open_heredoc = pending.as_ref().and_then(|p| p.heredocs.first().map(|(t, _)| (t.clone(), p.line)));
    out.extend(pending.take().map(finish));
    Parsed { instructions: out, open_heredoc }
}

fn finish(p: Pending) -> Instruction {
    let args = p.args.trim().to_owned();
    let exec_form = args.starts_with('[').then(|| serde_json::from_str::<Vec<String>>(&args).ok()).flatten();
    Instruction { keyword: p.keyword, args, line: p.line, exec_form }
}

/// `# name=value` at the top of the file.
fn directive(comment: &str) -> Option<(String, String)> {
    let body = comment.strip_prefix('#')?.trim();
    let (name, value) = body.split_once('=')?;
    let name = name.trim();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    Some((name.to_ascii_lowercase(), value.trim().to_owned()))
}

fn heredoc_terminators(args: &str) -> Vec<(String, bool)> {
    static HEREDOC: OnceLock<Option<Regex>> = OnceLock::new();
    let Some(re) = HEREDOC.get_or_init(|| Regex::new(r#"<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)(["']?)"#).ok()) else {
        return Vec::new();
    };
    re.captures_iter(args)
        .filter(|c| c.get(2).map(|m| m.as_str()) == c.get(4).map(|m| m.as_str()))
        .filter_map(|c| Some((c.get(3)?.as_str().to_owned(), c.get(1).is_some_and(|m| !m.as_str().is_empty()))))
        .collect()
}

/// Rebuilds a Dockerfile from the image history, as the `guessed` one.
///
/// The result starts with `FROM scratch` (the base image's steps are part of
/// the history) and has one instruction per history entry with a
/// `created_by`. The configuration helps where history text is ambiguous: its
/// label and environment names split `LABEL`/`ENV` lines whose values hold
/// spaces. An image without any history gets its configuration written out as
/// instructions instead.
pub fn reconstruct(history: &[HistoryEntry], config: &ImageConfig) -> String {
    let mut lines = vec!["FROM scratch".to_owned()];
    let known = KnownKeys::from(config);
    let mut any = false;
    for created_by in history.iter().filter_map(|h| h.created_by.as_deref()) {
        if created_by.trim().is_empty() {
            continue;
        }
        any = true;
        lines.push(from_history(created_by, &known));
    }
    if !any {
        lines.extend(from_config(config));
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// Reconstructs and wraps as a [`Dockerfile`] of kind `guessed`.
pub fn guessed(history: &[HistoryEntry], config: &ImageConfig) -> Dockerfile {
    Dockerfile { kind: DockerfileKind::Guessed, text: reconstruct(history, config) }
}

struct KnownKeys {
    labels: Vec<String>,
    env: Vec<String>,
}

impl KnownKeys {
    fn from(config: &ImageConfig) -> Self {
        Self {
            labels: config.labels.keys().cloned().collect(),
            env: config.env.iter().filter_map(|e| e.split_once('=').map(|(k, _)| k.to_owned())).collect(),
        }
    }
}

const SHELL_PREFIXES: &[&str] = &["/bin/sh -c ", "cmd /S /C "];

fn from_history(created_by: &str, known: &KnownKeys) -> String {
    let text = created_by.trim();
    for shell in SHELL_PREFIXES {
        if let Some(rest) = text.strip_prefix(shell) {
            let rest = rest.trim_start();
            return match rest.strip_prefix("#(nop)") {
                Some(instruction) => instruction_line(instruction.trim(), true, known),
                None => run_line(rest),
            };
        }
    }
    // `|2 A=1 B=2 /bin/sh -c make`: a classic RUN that used build args.
    if let Some(command) = strip_build_args(text) {
        return run_line(command);
    }
    let keyword = text.split(char::is_whitespace).next().unwrap_or_default();
    if KEYWORDS.contains(&keyword) {
        let instruction = text.strip_suffix("# buildkit").map_or(text, str::trim_end);
        return instruction_line(instruction, false, known);
    }
    run_line(text)
}

/// `|N k=v ... <shell> -c command` → `command`.
fn strip_build_args(text: &str) -> Option<&str> {
    let rest = text.strip_prefix('|')?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    SHELL_PREFIXES.iter().filter_map(|shell| rest.find(shell).map(|at| &rest[at + shell.len()..])).next()
}

fn run_line(command: &str) -> String {
    let command = command.trim();
    let command = strip_build_args(command).unwrap_or(command);
    let command = SHELL_PREFIXES.iter().find_map(|s| command.strip_prefix(s)).unwrap_or(command);
    format!("RUN {}", multiline(command.trim()))
}

/// Keeps a multi-line command one instruction: heredocs stay as they are
/// (the parser reads them), other newlines become continuations.
fn multiline(command: &str) -> String {
    if !command.contains('\n') || !heredoc_terminators(command).is_empty() {
        return command.to_owned();
    }
    command.lines().collect::<Vec<_>>().join(" \\\n    ")
}

fn instruction_line(instruction: &str, classic: bool, known: &KnownKeys) -> String {
    let (keyword, rest) = match instruction.split_once(char::is_whitespace) {
        Some((k, r)) => (k, r.trim()),
        None => (instruction, ""),
    };
    let keyword_upper = keyword.to_ascii_uppercase();
    let rest = match keyword_upper.as_str() {
        "RUN" => return run_line(rest),
        "ADD" | "COPY" if classic => classic_copy(rest),
        "EXPOSE" => expose(rest),
        "CMD" | "ENTRYPOINT" | "VOLUME" | "SHELL" => list_form(rest),
        "ENV" => pairs(rest, &known.env),
        "LABEL" => pairs(rest, &known.labels),
        "HEALTHCHECK" => match healthcheck_history(rest) {
            Some(line) => return line,
            None => rest.to_owned(),
        },
        _ => rest.to_owned(),
    };
    if rest.is_empty() { keyword_upper } else { format!("{keyword_upper} {rest}") }
}

/// Classic `ADD file:<hash> in /dest` → `file:<hash> /dest`.
fn classic_copy(rest: &str) -> String {
    match rest.rsplit_once(" in ") {
        Some((sources, dest)) if !dest.trim().is_empty() => format!("{} {}", sources.trim(), dest.trim()),
        _ => rest.to_owned(),
    }
}

/// `map[22/tcp:{} 8000/tcp:{}]` → `22/tcp 8000/tcp`.
fn expose(rest: &str) -> String {
    match rest.strip_prefix("map[").and_then(|r| r.strip_suffix(']')) {
        Some(inner) => inner
            .split_whitespace()
            .map(|entry| entry.strip_suffix(":{}").unwrap_or(entry))
            .collect::<Vec<_>>()
            .join(" "),
        None => rest.to_owned(),
    }
}

/// JSON arrays stay JSON; Go's `["a" "b"]` and `[/data /logs]` become JSON.
fn list_form(rest: &str) -> String {
    if !rest.starts_with('[') || serde_json::from_str::<Vec<String>>(rest).is_ok() {
        return rest.to_owned();
    }
    match go_list(rest) {
        Some((items, "")) => serde_json::to_string(&items).unwrap_or_else(|_| rest.to_owned()),
        _ => rest.to_owned(),
    }
}

/// Go's `%v` of a string slice at the start of `text`: `["a" "b c"]` (quoted
/// items, `%q` escapes) or `[/data /logs]` (bare words). Returns the items
/// and what follows the closing bracket, trimmed.
fn go_list(text: &str) -> Option<(Vec<String>, &str)> {
    let body = text.strip_prefix('[')?;
    let mut items = Vec::new();
    let mut chars = body.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            ']' => return Some((items, body[at + 1..].trim())),
            '"' => {
                let mut item = String::new();
                loop {
                    match chars.next()?.1 {
                        '"' => break,
                        '\\' => match chars.next()?.1 {
                            'n' => item.push('\n'),
                            't' => item.push('\t'),
                            'r' => item.push('\r'),
                            other => item.push(other),
                        },
                        other => item.push(other),
                    }
                }
                items.push(item);
            }
            first => {
                let mut item = String::from(first);
                while let Some(&(_, next)) = chars.peek() {
                    if next.is_whitespace() || next == ']' {
                        break;
                    }
                    item.push(next);
                    chars.next();
                }
                items.push(item);
            }
        }
    }
    None
}

/// `ENV`/`LABEL` arguments with values quoted where they need it.
///
/// History writes `k=v k2=v w` without quotes, so a value's extent is
/// ambiguous; a pair starts at a word `name=` whose name the configuration
/// knows (or, without such knowledge, at any `name=` word). The old
/// `ENV name value` form is left alone.
fn pairs(rest: &str, known: &[String]) -> String {
    let first_space = rest.find(char::is_whitespace).unwrap_or(rest.len());
    if !rest[..first_space].contains('=') {
        return rest.to_owned();
    }
    let starts_pair = |i: usize| -> bool {
        if i != 0 && !rest[..i].ends_with(char::is_whitespace) {
            return false;
        }
        let word = &rest[i..];
        let Some(eq) = word.find('=') else { return false };
        let name = &word[..eq];
        if name.is_empty() || name.contains(char::is_whitespace) {
            return false;
        }
        if known.is_empty() {
            name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'/'))
        } else {
            i == 0 || known.iter().any(|k| k == name)
        }
    };
    let starts: Vec<usize> = (0..rest.len()).filter(|&i| rest.is_char_boundary(i) && starts_pair(i)).collect();
    let mut out = Vec::new();
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(rest.len());
        let pair = rest[start..end].trim();
        let Some((name, value)) = pair.split_once('=') else { continue };
        out.push(format!("{name}={}", quote(value)));
    }
    out.join(" ")
}

fn quote(value: &str) -> String {
    let already = value.len() >= 2
        && ((value.starts_with('"') && value.ends_with('"')) || (value.starts_with('\'') && value.ends_with('\'')));
    let needs = value.is_empty() || value.chars().any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '\\'));
    if already || !needs {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// `&{["CMD-SHELL" "curl -f http://x/ || exit 1"] "30s" "3s" "0s" '\x03'}`
/// (Go's `%v` of the healthcheck config; BuildKit adds a start interval).
fn healthcheck_history(rest: &str) -> Option<String> {
    let inner = rest.strip_prefix("&{")?.strip_suffix('}')?;
    let (test, after) = go_list(inner)?;
    let mut fields = after.split_whitespace();
    let mut durations = Vec::new();
    let mut retries = None;
    for field in fields.by_ref() {
        if let Some(d) = field.strip_prefix('"').and_then(|f| f.strip_suffix('"')) {
            durations.push(d.to_owned());
        } else {
            retries = Some(parse_go_int(field)?);
            break;
        }
    }
    let names = ["interval", "timeout", "start-period", "start-interval"];
    let options: Vec<(&str, String)> = names.iter().copied().zip(durations).collect();
    Some(healthcheck_line(&test, &options, retries))
}

/// A Go `%v` int: `3`, or a rune literal such as `'\x03'` or `'\n'`.
fn parse_go_int(text: &str) -> Option<i64> {
    if let Ok(n) = text.parse() {
        return Some(n);
    }
    let body = text.strip_prefix('\'')?.strip_suffix('\'')?;
    if let Some(hex) = body.strip_prefix("\\x").or_else(|| body.strip_prefix("\\u")) {
        return i64::from_str_radix(hex, 16).ok();
    }
    match body {
        "\\a" => Some(7),
        "\\b" => Some(8),
        "\\t" => Some(9),
        "\\n" => Some(10),
        "\\v" => Some(11),
        "\\f" => Some(12),
        "\\r" => Some(13),
        _ => {
            let mut chars = body.chars();
            let c = chars.next()?;
            chars.next().is_none().then_some(c as i64)
        }
    }
}

fn healthcheck_line(test: &[String], options: &[(&str, String)], retries: Option<i64>) -> String {
    if matches!(test.first().map(String::as_str), Some("NONE") | None) {
        return "HEALTHCHECK NONE".to_owned();
    }
    let mut line = String::from("HEALTHCHECK");
    for (name, value) in options {
        if !value.is_empty() && value != "0s" && value != "0" {
            line.push_str(&format!(" --{name}={value}"));
        }
    }
    if let Some(retries) = retries.filter(|&r| r > 0) {
        line.push_str(&format!(" --retries={retries}"));
    }
    match test.first().map(String::as_str) {
        Some("CMD-SHELL") => line.push_str(&format!(" CMD {}", test[1..].join(" "))),
        Some("CMD") => line.push_str(&format!(" CMD {}", serde_json::to_string(&test[1..]).unwrap_or_default())),
        _ => line.push_str(&format!(" CMD {}", serde_json::to_string(test).unwrap_or_default())),
    }
    line
}

/// Go-style duration text for nanoseconds, in units Docker's parser accepts.
fn duration(nanos: i64) -> String {
    match nanos {
        n if n % 1_000_000_000 == 0 => format!("{}s", n / 1_000_000_000),
        n if n % 1_000_000 == 0 => format!("{}ms", n / 1_000_000),
        n => format!("{n}ns"),
    }
}

fn from_config(config: &ImageConfig) -> Vec<String> {
    let mut lines = Vec::new();
    for entry in &config.env {
        match entry.split_once('=') {
            Some((name, value)) => lines.push(format!("ENV {name}={}", quote(value))),
            None => lines.push(format!("ENV {entry}=")),
        }
    }
    if !config.labels.is_empty() {
        let labels: Vec<String> = config.labels.iter().map(|(k, v)| format!("{}={}", quote(k), quote(v))).collect();
        lines.push(format!("LABEL {}", labels.join(" ")));
    }
    if !config.exposed_ports.is_empty() {
        let ports: BTreeSet<&str> = config.exposed_ports.iter().map(String::as_str).collect();
        lines.push(format!("EXPOSE {}", ports.into_iter().collect::<Vec<_>>().join(" ")));
    }
    if !config.volumes.is_empty() {
        lines.push(format!("VOLUME {}", serde_json::to_string(&config.volumes).unwrap_or_default()));
    }
    if let Some(dir) = config.working_dir.as_deref().filter(|d| !d.is_empty()) {
        lines.push(format!("WORKDIR {dir}"));
    }
    if let Some(user) = config.user.as_deref().filter(|u| !u.is_empty()) {
        lines.push(format!("USER {user}"));
    }
    if let Some(h) = &config.healthcheck {
        lines.push(config_healthcheck(h));
    }
    if let Some(signal) = config.stop_signal.as_deref().filter(|s| !s.is_empty()) {
        lines.push(format!("STOPSIGNAL {signal}"));
    }
    if !config.entrypoint.is_empty() {
        lines.push(format!("ENTRYPOINT {}", serde_json::to_string(&config.entrypoint).unwrap_or_default()));
    }
    if !config.cmd.is_empty() {
        lines.push(format!("CMD {}", serde_json::to_string(&config.cmd).unwrap_or_default()));
    }
    lines
}

fn config_healthcheck(h: &Healthcheck) -> String {
    let options: Vec<(&str, String)> =
        [("interval", h.interval), ("timeout", h.timeout), ("start-period", h.start_period)]
            .into_iter()
            .filter_map(|(name, value)| value.filter(|&v| v > 0).map(|v| (name, duration(v))))
            .collect();
    healthcheck_line(&h.test, &options, h.retries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keywords(text: &str) -> Vec<(String, u64)> {
        instructions(text).into_iter().map(|i| (i.keyword, i.line)).collect()
    }

    #[test]
    fn parses_continuations_comments_and_json() {
        let text = "# syntax=docker/dockerfile:1\n\
                    FROM debian:12 AS build\n\
                    # a comment\n\
                    RUN apt-get update && \\\n\
                    # comment inside\n\
                    \x20   apt-get install -y curl  \\  \n\
                    \n\
                    \x20   && rm -rf /var/lib/apt/lists/*\n\
                    cmd [\"python3\", \"/app/app.py\"]\r\n\
                    ENTRYPOINT [\"broken\"\n";
        let found = instructions(text);
        assert_eq!(
            found.iter().map(|i| (i.keyword.as_str(), i.line)).collect::<Vec<_>>(),
            vec![("FROM", 2), ("RUN", 4), ("CMD", 9), ("ENTRYPOINT", 10)]
        );
        assert_eq!(found[0].args, "debian:12 AS build");
        assert_eq!(found[1].args, "apt-get update &&     apt-get install -y curl      && rm -rf /var/lib/apt/lists/*");
        assert_eq!(found[2].exec_form, Some(vec!["python3".to_owned(), "/app/app.py".to_owned()]));
        assert_eq!(found[3].exec_form, None);
    }

    #[test]
    fn escape_directive_and_heredocs() {
        let text =
            "# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir `\n  c:\\\nCOPY <<-EOF /x\n\thello\n\tEOF\nUSER app\n";
        let found = instructions(text);
        assert_eq!(keywords(text), vec![("FROM".into(), 2), ("RUN".into(), 3), ("COPY".into(), 5), ("USER".into(), 8)]);
        assert_eq!(found[1].args, "dir   c:\\");
        assert_eq!(found[2].args, "<<-EOF /x\n\thello\n\tEOF");
        // A directive after the first instruction is a comment.
        assert_eq!(keywords("FROM a\n# escape=`\nRUN x `\nUSER b\n").len(), 3);
    }

    #[test]
    fn user_dockerfile_validation() {
        assert!(from_user("ARG V=1\nFROM debian:$V\nRUN true\n").is_ok());
        assert_eq!(from_user("# only a comment\n\n"), Err(DockerfileError::Empty));
        assert_eq!(
            from_user("FROM a\nRUNN x\n"),
            Err(DockerfileError::UnknownInstruction { keyword: "RUNN".into(), line: 2 })
        );
        assert_eq!(
            from_user("FROM a\nRUN\n"),
            Err(DockerfileError::MissingArguments { keyword: "RUN".into(), line: 2 })
        );
        assert_eq!(from_user("RUN x\nFROM a\n"), Err(DockerfileError::FromNotFirst { keyword: "RUN".into(), line: 1 }));
        assert_eq!(
            from_user("FROM a\nRUN <<EOF\necho\n"),
            Err(DockerfileError::UnterminatedHeredoc { terminator: "EOF".into(), line: 2 })
        );
        let ok = from_user("FROM a\n").unwrap();
        assert_eq!((ok.kind, ok.text.as_str()), (DockerfileKind::Actual, "FROM a\n"));
    }

    fn entry(created_by: &str) -> HistoryEntry {
        HistoryEntry { created_by: Some(created_by.to_owned()), ..HistoryEntry::default() }
    }

    #[test]
    fn classic_history_forms() {
        let history = [
            entry("/bin/sh -c #(nop) ADD file:abc123 in / "),
            entry("/bin/sh -c #(nop)  CMD [\"bash\"]"),
            entry("/bin/sh -c #(nop) COPY dir:def456 in /app "),
            entry("/bin/sh -c apt-get update"),
            entry("|2 A=1 B=two /bin/sh -c make install"),
            entry("/bin/sh -c #(nop)  VOLUME [/data /logs]"),
            entry("/bin/sh -c #(nop)  CMD [\"nginx\" \"-g\" \"daemon off;\"]"),
            entry("/bin/sh -c #(nop)  EXPOSE 80/tcp"),
            entry(
                "/bin/sh -c #(nop)  HEALTHCHECK &{[\"CMD-SHELL\" \"curl -f http://localhost/ || exit 1\"] \"30s\" \"3s\" \"0s\" '\\x03'}",
            ),
            entry("/bin/sh -c #(nop)  HEALTHCHECK &{[\"NONE\"] \"0s\" \"0s\" \"0s\" '\\x00'}"),
            entry("/bin/sh -c #(nop)  SHELL [/bin/bash -o pipefail -c]"),
            HistoryEntry { comment: Some("no created_by".into()), ..HistoryEntry::default() },
        ];
        let text = reconstruct(&history, &ImageConfig::default());
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            vec![
                "FROM scratch",
                "ADD file:abc123 /",
                "CMD [\"bash\"]",
                "COPY dir:def456 /app",
                "RUN apt-get update",
                "RUN make install",
                "VOLUME [\"/data\",\"/logs\"]",
                "CMD [\"nginx\",\"-g\",\"daemon off;\"]",
                "EXPOSE 80/tcp",
                "HEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD curl -f http://localhost/ || exit 1",
                "HEALTHCHECK NONE",
                "SHELL [\"/bin/bash\",\"-o\",\"pipefail\",\"-c\"]",
            ]
        );
        assert!(from_user(&text).is_ok(), "{text}");
    }

    #[test]
    fn buildkit_history_forms() {
        let mut config = ImageConfig::default();
        config.labels.insert("a.title".into(), "x".into());
        config.labels.insert("a.description".into(), "two words = three".into());
        config.env = vec!["MSG=hello world".into(), "B=1".into()];
        let history = [
            entry("RUN /bin/sh -c echo hi # buildkit"),
            entry("RUN |1 V=2 /bin/sh -c echo $V # buildkit"),
            entry("COPY --from=build /out /app/ # buildkit"),
            entry("ENV MSG=hello world B=1"),
            entry("LABEL a.title=x a.description=two words = three"),
            entry("EXPOSE map[22/tcp:{} 8000/tcp:{}]"),
            entry("HEALTHCHECK &{[\"CMD\" \"/bin/check\" \"-q\"] \"1m0s\" \"0s\" \"0s\" \"0s\" '\\x05'}"),
            entry("RUN /bin/sh -c set -e\nmake\nmake install # buildkit"),
            entry("ENTRYPOINT [\"/entrypoint.sh\"]"),
        ];
        let text = reconstruct(&history, &config);
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            vec![
                "FROM scratch",
                "RUN echo hi",
                "RUN echo $V",
                "COPY --from=build /out /app/",
                "ENV MSG=\"hello world\" B=1",
                "LABEL a.title=x a.description=\"two words = three\"",
                "EXPOSE 22/tcp 8000/tcp",
                "HEALTHCHECK --interval=1m0s --retries=5 CMD [\"/bin/check\",\"-q\"]",
                "RUN set -e \\",
                "    make \\",
                "    make install",
                "ENTRYPOINT [\"/entrypoint.sh\"]",
            ]
        );
        let parsed = instructions(&text);
        assert_eq!(parsed.len(), history.len() + 1);
        assert_eq!(parsed[8].args, "set -e     make     make install");
    }

    #[test]
    fn config_only_images() {
        let config = ImageConfig {
            user: Some("app".into()),
            env: vec!["PATH=/usr/bin".into()],
            cmd: vec!["/app".into()],
            exposed_ports: vec!["8080/tcp".into()],
            healthcheck: Some(Healthcheck {
                test: vec!["CMD-SHELL".into(), "true".into()],
                interval: Some(30_000_000_000),
                timeout: Some(500_000_000),
                start_period: None,
                retries: Some(2),
            }),
            ..ImageConfig::default()
        };
        let text = reconstruct(&[], &config);
        assert_eq!(
            text,
            "FROM scratch\nENV PATH=/usr/bin\nEXPOSE 8080/tcp\nUSER app\n\
             HEALTHCHECK --interval=30s --timeout=500ms --retries=2 CMD true\nCMD [\"/app\"]\n"
        );
        assert_eq!(guessed(&[], &config).kind, DockerfileKind::Guessed);
    }

    #[test]
    fn go_ints() {
        assert_eq!(parse_go_int("'\\x03'"), Some(3));
        assert_eq!(parse_go_int("'\\n'"), Some(10));
        assert_eq!(parse_go_int("'a'"), Some(97));
        assert_eq!(parse_go_int("4"), Some(4));
        assert_eq!(parse_go_int("x"), None);
    }
}
