//! `portcullis evaluate SOURCE --policy BUNDLE`, and the policy step of `scan --policy`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use comfy_table::{Table, presets::NOTHING};
use portcullis_match::{BaseImage, ScanResult};
use portcullis_policy::evaluate::{Evaluation, ImageIdentity, Status};
use portcullis_policy::gates::EvalContext;
use portcullis_policy::model::Bundle;
use portcullis_report::policy::PolicyFormat;
use portcullis_sbom::{BASE_NAME_LABEL, Sbom};

use crate::{EXIT_GATE_FAILED, ImageArgs};

/// The bundle used when `--policy` is not given: Anchore's default rules.
pub const DEFAULT_BUNDLE: &str = include_str!("../../portcullis-policy/bundles/default.json");

#[derive(Args)]
pub struct EvaluateArgs {
    #[command(flatten)]
    image: ImageArgs,
    #[command(flatten)]
    policy: PolicyArgs,
    /// Output format, optionally written to a file: FORMAT or FORMAT=FILE;
    /// repeatable. Formats: table, json, anchore-table (as `anchore-cli
    /// evaluate check --detail`), junit, sarif.
    #[arg(short, long = "output", value_name = "FORMAT[=FILE]", default_value = "table")]
    outputs: Vec<String>,
    /// On an empty vulnerability database, evaluate without vulnerability
    /// data instead of syncing the feeds first.
    #[arg(long)]
    no_auto_sync: bool,
}

/// Options shared by `evaluate` and `scan --policy`.
#[derive(Args)]
pub struct PolicyArgs {
    /// The policy bundle: Anchore JSON or YAML, v1 (`policies`, `whitelists`)
    /// or v2 (`rule_sets`, `allowlists`) naming. Default for `evaluate`: the
    /// built-in bundle (Anchore's default rules).
    #[arg(long, value_name = "FILE", env = "PORTCULLIS_POLICY")]
    pub policy: Option<PathBuf>,
    /// The image reference mappings are matched against (default: the
    /// reference the image was read by, e.g. docker.io/library/debian:12).
    #[arg(long, value_name = "REF")]
    pub tag: Option<String>,
    /// The number of leading layers that come from the base image: findings
    /// in packages those layers installed are marked as the base image's.
    #[arg(long, value_name = "COUNT", conflicts_with = "base_image")]
    pub base_image_layers: Option<usize>,
    /// The base image the image was built FROM (any source; only its
    /// manifest and config are read): the layers the two share are the base.
    /// Without this or --base-image-layers, the image's
    /// org.opencontainers.image.base.name label is tried.
    #[arg(long, value_name = "SOURCE")]
    pub base_image: Option<String>,
}

#[derive(Clone, Copy)]
enum EvaluationFormat {
    Table,
    Json,
    Report(PolicyFormat),
}

fn format(name: &str) -> Result<EvaluationFormat> {
    Ok(match name {
        "table" => EvaluationFormat::Table,
        "json" => EvaluationFormat::Json,
        other => EvaluationFormat::Report(other.parse().map_err(|_| {
            anyhow::anyhow!(
                "unknown output format {other:?} for evaluate: use table, json, anchore-table, junit or sarif"
            )
        })?),
    })
}

/// Reads a bundle file, or the built-in default.
pub fn load_bundle(path: Option<&Path>) -> Result<Bundle> {
    match path {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("reading the policy bundle {}", path.display()))?;
            portcullis_policy::bundle::load(&bytes).with_context(|| format!("invalid policy bundle {}", path.display()))
        }
        None => portcullis_policy::bundle::load(DEFAULT_BUNDLE.as_bytes()).context("the built-in default bundle"),
    }
}

pub fn run(args: EvaluateArgs, db: &str, quiet: bool) -> Result<ExitCode> {
    let outputs = crate::output::parse_targets(&args.outputs, format)?;
    let bundle = load_bundle(args.policy.policy.as_deref())?;
    let mut sboms = crate::analyze_image(&args.image, quiet)?;
    let sbom = match sboms.len() {
        1 => sboms.remove(0),
        n => bail!("{} holds {n} SBOMs; evaluate one platform at a time (--platform)", args.image.source),
    };
    let base = base_image(&args.policy, &args.image, &sbom)?;
    let mut scan = crate::scan::match_image(&sbom, db, args.no_auto_sync, quiet)?;
    if let (Some(scan), Some(base)) = (&mut scan, &base) {
        scan.set_base_image(base.clone());
    }
    let base_layers = base.map(|base| base.layers);
    let evaluation = evaluate(&bundle, args.policy.tag.as_deref(), base_layers, &sbom, scan.as_ref())?;
    for (format, file) in &outputs {
        let text = match format {
            EvaluationFormat::Table => render_table(&evaluation),
            EvaluationFormat::Json => serde_json::to_string_pretty(&evaluation)? + "\n",
            EvaluationFormat::Report(format) => portcullis_report::policy::render_policy(&evaluation, *format)?,
        };
        crate::output::emit_text(file.as_deref(), &text)?;
    }
    Ok(exit_code(&evaluation))
}

/// Exit 0 for GO and WARN (Anchore's `pass`), 1 for STOP.
pub fn exit_code(evaluation: &Evaluation) -> ExitCode {
    match evaluation.status {
        Status::Pass => ExitCode::SUCCESS,
        Status::Fail => ExitCode::from(EXIT_GATE_FAILED),
    }
}

/// The base image and how many leading layers are its: `--base-image-layers`,
/// or the layers `--base-image` shares with the image (by diff id, in order),
/// or else those shared with the image the `org.opencontainers.image.base.name`
/// label names (best effort: a base that cannot be read is a warning).
pub fn base_image(args: &PolicyArgs, image_args: &ImageArgs, sbom: &Sbom) -> Result<Option<BaseImage>> {
    if let Some(layers) = args.base_image_layers {
        return Ok(Some(BaseImage { layers, reference: None }));
    }
    if let Some(base) = &args.base_image {
        let layers = shared_layers(base, image_args, sbom)?;
        return Ok(Some(BaseImage { layers, reference: Some(base.clone()) }));
    }
    let Some(base) = sbom.image_label(BASE_NAME_LABEL) else { return Ok(None) };
    match shared_layers(base, image_args, sbom) {
        Ok(layers) => Ok(Some(BaseImage { layers, reference: Some(base.to_owned()) })),
        Err(error) => {
            eprintln!("warning: the base image {base} named by the {BASE_NAME_LABEL} label cannot be read: {error:#}");
            Ok(None)
        }
    }
}

/// The number of leading layers `sbom`'s image shares with `base`.
fn shared_layers(base: &str, image_args: &ImageArgs, sbom: &Sbom) -> Result<usize> {
    let mut options = crate::source_options(image_args)?;
    options.platform = portcullis_image::source::PlatformChoice::One(portcullis_image::source::Platform::parse(
        sbom.source.image.as_ref().and_then(|i| i.platform.as_deref()).unwrap_or(&image_args.platform),
    )?);
    let sources =
        portcullis_image::source::open(base, &options).with_context(|| format!("cannot open the base image {base}"))?;
    let Some(base) = sources.first() else { bail!("the base image {base} has no image for this platform") };
    let base_layers = &base.descriptor().layers;
    let shared = sbom.shared_leading_layers(base_layers.iter().map(|layer| layer.diff_id.as_deref()));
    if shared < base_layers.len() {
        eprintln!(
            "warning: the image shares {shared} of the base image's {} layers: was it built from another version of it?",
            base_layers.len()
        );
    }
    Ok(shared)
}

/// Evaluates `bundle` on an analysed image and its (optional) vulnerability
/// match, as `tag` when given.
pub fn evaluate(
    bundle: &Bundle,
    tag: Option<&str>,
    base_layers: Option<usize>,
    sbom: &Sbom,
    scan: Option<&ScanResult>,
) -> Result<Evaluation> {
    let image = identity(tag, sbom)?;
    let ctx = EvalContext { sbom, scan, now: chrono::Utc::now(), base_layers };
    let started = std::time::Instant::now();
    let evaluation = portcullis_policy::evaluate::evaluate(bundle, &image, &ctx);
    // bench/policy.sh reads this line for the evaluation time.
    tracing::info!(
        rules = bundle.policies.iter().map(|p| p.rules.len()).sum::<usize>(),
        decisions = evaluation.decisions.len(),
        elapsed_us = started.elapsed().as_micros() as u64,
        "evaluated"
    );
    Ok(evaluation)
}

/// The identity mappings see: `--tag`, else the reference the image was read
/// by, with the manifest digest and image id from the SBOM.
fn identity(tag: Option<&str>, sbom: &Sbom) -> Result<ImageIdentity> {
    let image = sbom.source.image.as_ref();
    let reference = tag.map(str::to_owned).or_else(|| {
        // A layout's bare tag ("latest") names no repository: only full references count.
        image.and_then(|i| {
            i.references
                .iter()
                .filter(|r| r.contains(['/', ':', '@']))
                .find(|r| ImageIdentity::from_reference(r).is_ok())
                .cloned()
        })
    });
    let mut identity = match reference {
        Some(reference) => ImageIdentity::from_reference(&reference)
            .with_context(|| format!("--tag {reference:?} is not an image reference"))?,
        // Layouts and archives without a name: mappings see the file as a local repository.
        None => ImageIdentity {
            registry: "localhost".to_owned(),
            repository: sbom.source.input.clone(),
            tag: Some("latest".to_owned()),
            digest: None,
            image_id: None,
        },
    };
    if let Some(image) = image {
        identity.digest = identity.digest.or_else(|| image.manifest_digest.clone());
        identity.image_id = Some(image.config_digest.clone());
    }
    Ok(identity)
}

/// A readable table of the decisions, then the verdict. When the base image
/// is known, an ORIGIN column says whether each package decision is about
/// the base image (`base`) or what this image added (`own`).
pub fn render_table(evaluation: &Evaluation) -> String {
    let with_origin = evaluation.decisions.iter().any(|decision| decision.origin.is_some());
    let mut table = Table::new();
    table.load_style(NOTHING);
    let mut header = vec!["GATE", "TRIGGER", "ACTION", "TRIGGER ID"];
    if with_origin {
        header.push("ORIGIN");
    }
    header.push("MESSAGE");
    table.set_header(header);
    for decision in &evaluation.decisions {
        let action = match &decision.allowlisted {
            Some(by) => format!(
                "GO (allowlisted by {}/{}{})",
                by.allowlist_id,
                by.item_id,
                by.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
            ),
            None => decision.action.as_str().to_owned(),
        };
        let mut row = vec![decision.gate.clone(), decision.trigger.clone(), action, decision.trigger_id.clone()];
        if with_origin {
            row.push(decision.origin.map_or("-", |origin| origin.as_str()).to_owned());
        }
        row.push(decision.message.clone());
        table.add_row(row);
    }
    let mut out = String::new();
    if !evaluation.decisions.is_empty() {
        for line in table.to_string().lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line).trim_end());
            out.push('\n');
        }
    }
    for problem in &evaluation.problems {
        out.push_str(&format!(
            "problem: {}{}{}\n",
            problem.policy_id.as_deref().map(|p| format!("policy {p} ")).unwrap_or_default(),
            problem.rule_id.as_deref().map(|r| format!("rule {r}: ")).unwrap_or_default(),
            problem.message
        ));
    }
    let image = &evaluation.image;
    let mapping = evaluation
        .mapping
        .as_ref()
        .map(|m| m.name.clone().or_else(|| m.id.clone()).unwrap_or_else(|| "(unnamed)".to_owned()))
        .unwrap_or_else(|| "none".to_owned());
    out.push_str(&format!(
        "image {}/{}:{}, bundle {} ({}), mapping {mapping}\n",
        image.registry,
        image.repository,
        image.tag.as_deref().unwrap_or("-"),
        evaluation.bundle_name.as_deref().unwrap_or(&evaluation.bundle_id),
        evaluation.bundle_digest
    ));
    out.push_str(&format!(
        "final action: {} ({}), status: {}\n",
        evaluation.final_action.as_str(),
        serde_json::to_value(evaluation.final_action_reason)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        if evaluation.status == Status::Pass { "pass" } else { "fail" }
    ));
    out
}
