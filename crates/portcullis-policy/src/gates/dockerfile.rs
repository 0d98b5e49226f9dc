//! The `dockerfile` gate: the instructions of the Dockerfile the image was
//! built from, as supplied by the user (`actual`) or rebuilt from the image
//! history (`guessed`).

use portcullis_sbom::{Dockerfile, DockerfileKind};

use super::metadata::{Check, Condition};
use super::{EvalContext, GateError, TriggerMatch, unknown_trigger};
use crate::params::Params;

const GATE: &str = "dockerfile";

pub fn evaluate(trigger: &str, params: &Params, ctx: &EvalContext<'_>) -> Result<Vec<TriggerMatch>, GateError> {
    let dockerfile = ctx.sbom.dockerfile.as_ref();
    if trigger == "no_dockerfile_provided" {
        let actual = dockerfile.is_some_and(|d| d.kind == DockerfileKind::Actual);
        let message = "Image was not analyzed with an actual Dockerfile";
        return Ok(if actual { Vec::new() } else { vec![TriggerMatch::new(GATE, trigger, message)] });
    }
    if !matches!(trigger, "instruction" | "effective_user" | "exposed_ports") {
        return Err(unknown_trigger(GATE, trigger));
    }
    // Without any Dockerfile Anchore evaluates none of the content triggers.
    let Some(dockerfile) = dockerfile else { return Ok(Vec::new()) };
    let actual_only = trigger != "effective_user" && params.bool("actual_dockerfile_only")?.unwrap_or(false);
    if actual_only && dockerfile.kind != DockerfileKind::Actual {
        return Ok(Vec::new());
    }
    let instructions = parse(dockerfile);
    let messages = match trigger {
        "instruction" => instruction(params, &instructions)?,
        "effective_user" => effective_user(params, &instructions)?,
        _ => exposed_ports(params, &instructions)?,
    };
    Ok(messages.into_iter().map(|message| TriggerMatch::new(GATE, trigger, message)).collect())
}

/// One logical Dockerfile line: its instruction in upper case and its
/// argument text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Instruction {
    name: String,
    argument: String,
}

/// Splits the text into instructions: comments and blank lines dropped,
/// lines ending in `\` joined to the next.
fn parse(dockerfile: &Dockerfile) -> Vec<Instruction> {
    let mut instructions = Vec::new();
    let mut pending = String::new();
    for line in dockerfile.text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(continued) = line.strip_suffix('\\') {
            pending.push_str(continued.trim_end());
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        let logical = std::mem::take(&mut pending);
        let (name, argument) = logical.split_once(char::is_whitespace).unwrap_or((logical.as_str(), ""));
        instructions.push(Instruction { name: name.to_ascii_uppercase(), argument: argument.trim().to_owned() });
    }
    instructions
}

fn instruction(params: &Params, instructions: &[Instruction]) -> Result<Vec<String>, GateError> {
    let name = params.required("instruction")?.to_ascii_uppercase();
    let value = params.str("value");
    let Some(condition) = Condition::new(params.required("check")?, value)? else {
        return Ok(Vec::new());
    };
    let check = condition.check.as_str();
    let mut messages = Vec::new();
    let mut found = false;
    for found_instruction in instructions.iter().filter(|i| i.name == name) {
        found = true;
        // Anchore treats every present line as existing, whatever its argument.
        let holds = match condition.check {
            Check::Exists => true,
            Check::NotExists => false,
            _ => condition.text_holds(&found_instruction.argument),
        };
        if holds {
            messages.push(format!(
                "Dockerfile directive '{name}' check '{check}' matched against '{}' for line '{}'",
                value.unwrap_or_default(),
                found_instruction.argument
            ));
        }
    }
    if condition.check == Check::NotExists && !found {
        messages.push(format!("Dockerfile directive '{name}' not found, matching condition '{check}' check"));
    }
    Ok(messages)
}

/// Whether the listed values are the allowed ones or the denied ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListType {
    Whitelist,
    Blacklist,
}

fn list_type(params: &Params) -> Result<ListType, GateError> {
    let value = params.required("type")?;
    match value.to_ascii_lowercase().as_str() {
        "whitelist" => Ok(ListType::Whitelist),
        "blacklist" => Ok(ListType::Blacklist),
        _ => Err(GateError::Invalid(format!("type {value:?} is neither whitelist nor blacklist"))),
    }
}

fn effective_user(params: &Params, instructions: &[Instruction]) -> Result<Vec<String>, GateError> {
    let users = params.csv("users");
    let list = list_type(params)?;
    let last = instructions.iter().rev().find(|i| i.name == "USER");
    // Anchore takes `USER [name]` brackets off; the user stays `name[:group]`.
    let user = last.map_or("root", |i| i.argument.trim_start_matches('[').trim_end_matches(']').trim());
    let listed = users.iter().any(|u| u == user);
    Ok(match list {
        ListType::Whitelist if !listed => {
            vec![format!("User {user} found as effective user, which is not on the allowed list")]
        }
        // Anchore's wording, typo included: the message is part of the trigger id.
        ListType::Blacklist if listed => {
            vec![format!("User {user} found as effective user, which is explicity not allowed list")]
        }
        _ => Vec::new(),
    })
}

fn exposed_ports(params: &Params, instructions: &[Instruction]) -> Result<Vec<String>, GateError> {
    let ports = params.csv("ports");
    let list = list_type(params)?;
    let mut messages = Vec::new();
    for expose in instructions.iter().filter(|i| i.name == "EXPOSE") {
        let exposed: Vec<&str> = expose.argument.split_whitespace().collect();
        let is_port = |token: &str, port: &str| {
            token == port || token.strip_prefix(port).is_some_and(|proto| matches!(proto, "/tcp" | "/udp"))
        };
        match list {
            ListType::Blacklist => {
                for port in &ports {
                    // As Anchore: the bare form first, then /tcp, then /udp; one message per port.
                    let hit = [port.clone(), format!("{port}/tcp"), format!("{port}/udp")]
                        .into_iter()
                        .find(|form| exposed.contains(&form.as_str()));
                    if let Some(form) = hit {
                        messages
                            .push(format!("Dockerfile exposes port ({form}) which is in policy file DENIEDPORTS list"));
                    }
                }
            }
            ListType::Whitelist => {
                for token in exposed.iter().filter(|token| !ports.iter().any(|port| is_port(token, port))) {
                    messages.push(format!(
                        "Dockerfile exposes port ({token}) which is not in policy file ALLOWEDPORTS list"
                    ));
                }
            }
        }
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dockerfile(text: &str) -> Dockerfile {
        Dockerfile { kind: DockerfileKind::Actual, text: text.to_owned() }
    }

    #[test]
    fn parses_continuations_comments_and_case() {
        let parsed = parse(&dockerfile(
            "# syntax=docker/dockerfile:1\nfrom debian:12\n\nRUN apt-get update \\\n    && apt-get install -y curl\n  expose 80\nHEALTHCHECK\n",
        ));
        let names: Vec<&str> = parsed.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["FROM", "RUN", "EXPOSE", "HEALTHCHECK"]);
        assert_eq!(parsed[0].argument, "debian:12");
        assert_eq!(parsed[1].argument, "apt-get update && apt-get install -y curl");
        assert_eq!(parsed[2].argument, "80");
        assert_eq!(parsed[3].argument, "");
    }

    #[test]
    fn bracketed_user_and_default_root() {
        let params = |list: &str, users: &str| {
            Params([("type", list), ("users", users)].into_iter().map(|(k, v)| (k.into(), v.into())).collect())
        };
        let bracketed = parse(&dockerfile("FROM x\nUSER nobody\nUSER [app]\n"));
        assert!(effective_user(&params("whitelist", "app"), &bracketed).unwrap().is_empty());
        let none = parse(&dockerfile("FROM x\n"));
        assert_eq!(
            effective_user(&params("blacklist", "root"), &none).unwrap(),
            ["User root found as effective user, which is explicity not allowed list"]
        );
    }
}
