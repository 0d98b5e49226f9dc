//! `image ...` and `evaluate check`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand};
use portcullis_api::*;
use serde_json::Value;

use super::{Connection, NotFound, Session, render};

/// Exit code of `image vuln` while the image is being analyzed.
pub const EXIT_ANALYZING: u8 = 100;
/// Exit code of `image vuln` for an image not analyzed (yet, or after a failure).
pub const EXIT_NOT_ANALYZED: u8 = 101;

#[derive(Subcommand)]
pub enum ImageCommand {
    /// Add an image (by tag or digest pull string) for analysis.
    Add(AddArgs),
    /// Wait until an image is analyzed (or its analysis failed).
    Wait(WaitArgs),
    /// List images.
    List {
        /// Also show the image id.
        #[arg(long)]
        full: bool,
        /// Show every digest a tag has had, not only the newest.
        #[arg(long)]
        show_all: bool,
    },
    /// Show an image.
    Get { image: String },
    /// Show an image's vulnerabilities: TYPE os, non-os or all; without TYPE, the types.
    Vuln {
        image: String,
        #[arg(value_parser = ["os", "non-os", "all"])]
        kind: Option<String>,
        /// Only what the distribution vendor considers a vulnerability.
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        vendor_only: bool,
    },
    /// Show an image's content of TYPE (os, files, python, java, ...); without TYPE, the types.
    Content { image: String, kind: Option<String> },
    /// Show an image's metadata of TYPE (manifest, dockerfile, docker_history); without TYPE, the types.
    Metadata { image: String, kind: Option<String> },
    /// Delete an image.
    #[command(alias = "del")]
    Delete {
        image: String,
        /// Delete even while analyzing or watched.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Args)]
pub struct AddArgs {
    /// A tag (`docker.io/library/nginx:1.25`) or digest pull string (`repo@sha256:...`).
    pub image: String,
    /// Re-analyze an image already analyzed.
    #[arg(long)]
    pub force: bool,
    /// The Dockerfile the image was built from.
    #[arg(long, value_name = "FILE")]
    pub dockerfile: Option<PathBuf>,
    /// Do not watch the tag for new digests.
    #[arg(long)]
    pub noautosubscribe: bool,
    /// Attach a KEY=VALUE annotation; repeatable.
    #[arg(long = "annotation", value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,
    /// With a digest pull string: the tag to record for it.
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
}

#[derive(Args)]
pub struct WaitArgs {
    pub image: String,
    /// Give up after this many seconds (0 = wait forever).
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub timeout: u64,
    /// Seconds between polls.
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    pub interval: u64,
}

/// `evaluate`: either a local evaluation (`evaluate SOURCE --policy FILE`)
/// or, with `check`, a server's evaluation of an image it has analyzed.
/// Exactly one of the two is set.
pub struct EvaluateCommand {
    pub remote: Option<EvaluateRemote>,
    pub local: Option<crate::evaluate::EvaluateArgs>,
}

// Written by hand because the derive cannot skip the local arguments' required
// SOURCE when the `check` subcommand is given (it fills every flattened field).
impl clap::FromArgMatches for EvaluateCommand {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Self::from_arg_matches_mut(&mut matches.clone())
    }

    fn from_arg_matches_mut(matches: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
        if matches.subcommand_name().is_some() {
            Ok(EvaluateCommand { remote: Some(EvaluateRemote::from_arg_matches_mut(matches)?), local: None })
        } else {
            Ok(EvaluateCommand {
                remote: None,
                local: Some(crate::evaluate::EvaluateArgs::from_arg_matches_mut(matches)?),
            })
        }
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for EvaluateCommand {
    fn augment_args(command: clap::Command) -> clap::Command {
        let command = crate::evaluate::EvaluateArgs::augment_args(command);
        EvaluateRemote::augment_subcommands(command).args_conflicts_with_subcommands(true).subcommand_negates_reqs(true)
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        Self::augment_args(command)
    }
}

#[derive(Subcommand)]
pub enum EvaluateRemote {
    /// Ask a server for an image's policy evaluation; exit 0 pass, 1 fail, 2 error.
    Check(Box<CheckArgs>),
}

#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    connection: Connection,
    /// The image: tag, digest or digest pull string.
    pub image: String,
    /// Evaluate as this tag (default: the tag given, or the image's first tag).
    #[arg(long)]
    pub tag: Option<String>,
    /// Show the gate results.
    #[arg(long)]
    pub detail: bool,
    /// Evaluate with this policy bundle id instead of the active one.
    #[arg(long, value_name = "ID")]
    pub policy: Option<String>,
    /// The image this one was built from (tag or digest of an analysed image
    /// on the server): its layers count as base-image layers. By default the
    /// server follows the image's `org.opencontainers.image.base.*` labels.
    #[arg(long, value_name = "IMAGE")]
    pub base_image: Option<String>,
}

impl EvaluateRemote {
    pub fn run(self) -> ExitCode {
        let EvaluateRemote::Check(args) = self;
        super::finish(super::with_session(&args.connection, |session| check(session, &args)))
    }
}

/// The request `image add` sends.
pub fn add_request(args: &AddArgs) -> Result<ImageAnalysisRequest> {
    use base64::Engine;
    let dockerfile = match &args.dockerfile {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("reading the Dockerfile {}", path.display()))?;
            Some(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
        None => None,
    };
    let mut annotations = Annotations::new();
    for spec in &args.annotations {
        let (key, value) = spec
            .split_once('=')
            .filter(|(key, _)| !key.is_empty())
            .ok_or_else(|| anyhow!("annotation {spec:?} is not KEY=VALUE"))?;
        annotations.insert(key.to_owned(), value.to_owned());
    }
    let source = match (args.image.contains("@sha256:"), &args.tag) {
        (true, Some(tag)) => ImageSource {
            digest: Some(RegistryDigestSource {
                pullstring: args.image.clone(),
                tag: tag.clone(),
                creation_timestamp_override: None,
                dockerfile,
            }),
            ..ImageSource::default()
        },
        (false, Some(_)) => bail!("--tag goes with a digest pull string (REPO@sha256:...), not with {}", args.image),
        _ => ImageSource {
            tag: Some(RegistryTagSource { pullstring: args.image.clone(), dockerfile }),
            ..ImageSource::default()
        },
    };
    Ok(ImageAnalysisRequest {
        source: Some(source),
        annotations: (!annotations.is_empty()).then_some(annotations),
        ..ImageAnalysisRequest::default()
    })
}

/// The image digest named by `image`: a digest, a digest pull string, or a
/// tag looked up on the server.
fn resolve(session: &Session, image: &str) -> Result<AnchoreImage> {
    let found = match digest_of(image) {
        Some(digest) => session.client.get_image(digest)?,
        None => session
            .client
            .list_images(&ListImagesQuery { fulltag: Some(image.to_owned()), ..ListImagesQuery::default() })?,
    };
    found.into_iter().next().ok_or_else(|| NotFound(format!("the server has no image {image}")).into())
}

/// `sha256:...` or the digest of `repo@sha256:...`.
pub fn digest_of(image: &str) -> Option<&str> {
    let digest = image.rsplit_once('@').map_or(image, |(_, digest)| digest);
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(digest)
}

pub fn run(session: &Session, command: ImageCommand, quiet: bool) -> Result<u8> {
    match command {
        ImageCommand::Add(args) => {
            let request = add_request(&args)?;
            let query = AddImageQuery { force: args.force.then_some(true), autosubscribe: Some(!args.noautosubscribe) };
            let images = session.client.add_image(&request, &query)?;
            session.show(&images, |images| render::images_detail(images))?;
        }
        ImageCommand::Wait(args) => return wait(session, &args, quiet),
        ImageCommand::List { full, show_all } => {
            let images = session.client.list_images(&ListImagesQuery::default())?;
            session.show(&images, |images| render::images_list(images, full, show_all))?;
        }
        ImageCommand::Get { image } => {
            let image = resolve(session, &image)?;
            session.show(&vec![image], |images| render::images_detail(images))?;
        }
        ImageCommand::Vuln { image, kind, vendor_only } => {
            let image = resolve(session, &image)?;
            match image.analysis_status {
                AnalysisStatus::Analyzing => {
                    eprintln!("image {} is being analyzed", image.image_digest);
                    return Ok(EXIT_ANALYZING);
                }
                AnalysisStatus::NotAnalyzed | AnalysisStatus::AnalysisFailed => {
                    eprintln!("image {} is not analyzed ({})", image.image_digest, image.analysis_status);
                    return Ok(EXIT_NOT_ANALYZED);
                }
                AnalysisStatus::Analyzed => {}
            }
            match kind.as_deref().and_then(VulnerabilityType::parse) {
                Some(kind) => {
                    let query = VulnerabilityQuery { vendor_only: Some(vendor_only), force_refresh: None };
                    let report = session.client.vulnerabilities(&image.image_digest, kind, &query)?;
                    session.show(&report, render::vulnerabilities)?;
                }
                None => {
                    let types = session.client.vulnerability_types(&image.image_digest)?;
                    session.show(&types, |types| render::available(types))?;
                }
            }
        }
        ImageCommand::Content { image, kind } => {
            let image = resolve(session, &image)?;
            match kind {
                Some(kind) => {
                    let response = session.client.content::<Value>(&image.image_digest, &kind)?;
                    session.show(&response, |response| render::content(&kind, &response.content))?;
                }
                None => {
                    let types = session.client.content_types(&image.image_digest)?;
                    session.show(&types, |types| render::available(types))?;
                }
            }
        }
        ImageCommand::Metadata { image, kind } => {
            let image = resolve(session, &image)?;
            match kind {
                Some(kind) => {
                    let response = session.client.metadata(&image.image_digest, &kind)?;
                    session.show(&response, render::metadata)?;
                }
                None => {
                    let types = session.client.metadata_types(&image.image_digest)?;
                    session.show(&types, |types| render::available(types))?;
                }
            }
        }
        ImageCommand::Delete { image, force } => {
            let image = resolve(session, &image)?;
            session.client.delete_image(&image.image_digest, force)?;
            session.success()?;
        }
    }
    Ok(0)
}

/// Polls until the analysis is final; a spinner shows the status on a terminal.
fn wait(session: &Session, args: &WaitArgs, quiet: bool) -> Result<u8> {
    let started = Instant::now();
    let show_progress = !quiet && !session.json && std::io::stderr().is_terminal();
    let spinner = crate::progress::spinner(show_progress, &format!("waiting for {}", args.image));
    let image = loop {
        let image = resolve(session, &args.image)?;
        if image.analysis_status.is_final() {
            break image;
        }
        spinner.set_message(&format!("{}: {}", args.image, image.analysis_status));
        if args.timeout > 0 && started.elapsed() >= Duration::from_secs(args.timeout) {
            bail!("{} is still {} after {} s", args.image, image.analysis_status, args.timeout);
        }
        std::thread::sleep(Duration::from_secs(args.interval.max(1)));
    };
    drop(spinner);
    let failed = image.analysis_status == AnalysisStatus::AnalysisFailed;
    session.show(&vec![image], |images| render::images_detail(images))?;
    Ok(u8::from(failed))
}

fn check(session: &Session, args: &CheckArgs) -> Result<u8> {
    let image = resolve(session, &args.image)?;
    let tag = match (&args.tag, digest_of(&args.image)) {
        (Some(tag), _) => tag.clone(),
        (None, None) => args.image.clone(),
        (None, Some(_)) => image
            .image_detail
            .first()
            .map(|detail| detail.fulltag.clone())
            .ok_or_else(|| anyhow!("image {} has no tag; give --tag", image.image_digest))?,
    };
    let base_digest = match &args.base_image {
        Some(base) => Some(resolve(session, base)?.image_digest),
        None => None,
    };
    let query = PolicyCheckQuery {
        tag,
        policy_id: args.policy.clone(),
        detail: Some(args.detail),
        history: None,
        interactive: None,
        base_digest,
    };
    let results = session.client.check(&image.image_digest, &query)?;
    session.show(&results, |results| render::check(results, args.detail))?;
    Ok(check_exit_code(&results))
}

/// 0 for pass, 1 for fail, 2 for anything else (as `anchore-cli`).
pub fn check_exit_code(results: &[PolicyCheckResult]) -> u8 {
    match results.first().and_then(PolicyCheckResult::first).map(|record| record.status.to_ascii_lowercase()) {
        Some(status) if status == "pass" => 0,
        Some(status) if status == "fail" => 1,
        _ => crate::EXIT_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::{Cli, Command};

    fn add_args(extra: &[&str]) -> AddArgs {
        let mut argv = vec!["portcullis", "image", "add"];
        argv.extend_from_slice(extra);
        let Command::Remote(super::super::RemoteCommand::Image(group)) = Cli::try_parse_from(argv).unwrap().command
        else {
            panic!("not an image command")
        };
        let ImageCommand::Add(args) = group.command else { panic!("not image add") };
        args
    }

    #[test]
    fn add_by_tag_with_annotations_and_dockerfile() {
        let dir = tempfile::tempdir().unwrap();
        let dockerfile = dir.path().join("Dockerfile");
        std::fs::write(&dockerfile, "FROM scratch\n").unwrap();
        let args = add_args(&[
            "docker.io/library/nginx:1.25",
            "--annotation",
            "team=web",
            "--annotation",
            "tier=a=b",
            "--dockerfile",
            dockerfile.to_str().unwrap(),
        ]);
        let request = serde_json::to_value(add_request(&args).unwrap()).unwrap();
        assert_eq!(
            request,
            serde_json::json!({"source": {"tag": {"pullstring": "docker.io/library/nginx:1.25",
                "dockerfile": "RlJPTSBzY3JhdGNoCg=="}}, "annotations": {"team": "web", "tier": "a=b"}})
        );
    }

    #[test]
    fn add_by_digest_needs_a_tag_only_with_a_digest() {
        let digest = format!("docker.io/library/nginx@sha256:{}", "a".repeat(64));
        let request = add_request(&add_args(&[&digest, "--tag", "docker.io/library/nginx:1.25"])).unwrap();
        let source = request.source.unwrap().digest.unwrap();
        assert_eq!(
            (source.pullstring.as_str(), source.tag.as_str()),
            (digest.as_str(), "docker.io/library/nginx:1.25")
        );

        let err = add_request(&add_args(&["docker.io/library/nginx:1.25", "--tag", "x:1"])).unwrap_err();
        assert!(err.to_string().contains("--tag goes with a digest pull string"), "{err}");
        let err = add_request(&add_args(&["alpine", "--annotation", "novalue"])).unwrap_err();
        assert!(err.to_string().contains(r#"annotation "novalue" is not KEY=VALUE"#), "{err}");
        let err = add_request(&add_args(&["alpine", "--dockerfile", "/nonexistent/Dockerfile"])).unwrap_err();
        assert!(format!("{err:#}").contains("reading the Dockerfile /nonexistent/Dockerfile"), "{err:#}");
    }

    #[test]
    fn digests_are_recognised() {
        let hex = "0123456789abcdef".repeat(4);
        assert_eq!(digest_of(&format!("sha256:{hex}")), Some(format!("sha256:{hex}").as_str()));
        assert_eq!(digest_of(&format!("reg:5000/a/b@sha256:{hex}")), Some(format!("sha256:{hex}").as_str()));
        assert_eq!(digest_of("docker.io/library/alpine:3.19"), None);
        assert_eq!(digest_of("sha256:abc"), None);
    }

    #[test]
    fn evaluate_check_coexists_with_local_evaluate() {
        let cli = Cli::try_parse_from(["portcullis", "evaluate", "check", "alpine:3.19", "--detail", "--policy", "p1"])
            .unwrap();
        let Command::Evaluate(command) = cli.command else { panic!("not evaluate") };
        let Some(EvaluateRemote::Check(args)) = command.remote else { panic!("not check") };
        assert_eq!((args.image.as_str(), args.detail, args.policy.as_deref()), ("alpine:3.19", true, Some("p1")));
        assert!(command.local.is_none());

        let cli = Cli::try_parse_from(["portcullis", "evaluate", "oci-dir:/tmp/x", "--policy", "b.json"]).unwrap();
        let Command::Evaluate(command) = cli.command else { panic!("not evaluate") };
        assert!(command.remote.is_none() && command.local.is_some());
    }

    fn check_result(status: &str) -> Vec<PolicyCheckResult> {
        serde_json::from_value(serde_json::json!([{"sha256:ab": {"docker.io/a:1": [
            {"status": status, "policyId": "p1", "last_evaluation": "2024-01-02T03:04:05Z"}]}}]))
        .unwrap()
    }

    #[test]
    fn check_exit_codes() {
        assert_eq!(check_exit_code(&check_result("pass")), 0);
        assert_eq!(check_exit_code(&check_result("fail")), 1);
        assert_eq!(check_exit_code(&check_result("weird")), 2);
        assert_eq!(check_exit_code(&[]), 2);
    }
}
