//! `portcullis scan`: SBOM, vulnerability findings, triage and the CI gate.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use portcullis_match::{Gate, IgnoreFile, ScanResult, VexDocument};
use portcullis_report::{ScanFormat, ScanReport};
use portcullis_vulndb::{Severity, VulnStore};

use crate::{EXIT_GATE_FAILED, ImageArgs};

#[derive(Args)]
pub struct ScanArgs {
    #[command(flatten)]
    image: ImageArgs,
    /// Output format, optionally written to a file: FORMAT or FORMAT=FILE;
    /// repeat for several. Formats: table, json, sarif, cyclonedx-json, junit.
    #[arg(short, long = "output", value_name = "FORMAT[=FILE]", default_value = "table")]
    outputs: Vec<String>,
    /// Exit with 1 when a finding has this severity or more.
    #[arg(long, value_enum, value_name = "SEVERITY", env = "PORTCULLIS_FAIL_ON")]
    fail_on: Option<SeverityArg>,
    /// Report (and gate on) only findings that have a fix.
    #[arg(long)]
    only_fixed: bool,
    /// An ignore file (YAML): rules with a reason and an expiry date; repeatable.
    #[arg(long = "ignore-file", value_name = "FILE", env = "PORTCULLIS_IGNORE_FILE", value_delimiter = ',')]
    ignore_files: Vec<PathBuf>,
    /// An OpenVEX document; `not_affected` and `fixed` statements set findings aside. Repeatable.
    #[arg(long = "vex", value_name = "FILE")]
    vex: Vec<PathBuf>,
    #[command(flatten)]
    policy: crate::evaluate::PolicyArgs,
    /// Fail on an empty database instead of syncing the feeds first (from
    /// PORTCULLIS_FEEDS_FROM when set, else upstream).
    #[arg(long)]
    no_auto_sync: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum SeverityArg {
    Negligible,
    Low,
    Medium,
    High,
    Critical,
}

impl From<SeverityArg> for Severity {
    fn from(value: SeverityArg) -> Self {
        match value {
            SeverityArg::Negligible => Severity::Negligible,
            SeverityArg::Low => Severity::Low,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::High => Severity::High,
            SeverityArg::Critical => Severity::Critical,
        }
    }
}

/// The runtime the database commands use; image analysis runs outside it.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

pub fn run(args: ScanArgs, db: &str, quiet: bool) -> Result<ExitCode> {
    let outputs = crate::output::parse_targets(&args.outputs, |name| Ok(name.parse::<ScanFormat>()?))?;
    // Read triage inputs before the slow analysis, so a typo fails fast.
    let ignore_files = args.ignore_files.iter().map(|path| IgnoreFile::load(path)).collect::<Result<Vec<_>, _>>()?;
    let vex = args.vex.iter().map(|path| VexDocument::load(path)).collect::<Result<Vec<_>, _>>()?;
    if args.image.all_platforms {
        bail!("scan looks at one platform at a time: pick it with --platform");
    }
    let policy = args.policy.policy.as_deref().map(|path| crate::evaluate::load_bundle(Some(path))).transpose()?;
    let runtime = runtime()?;
    // Open the database first: a broken one is reported before the image is pulled.
    let store = open_store(&runtime, db, args.no_auto_sync, quiet)?;

    let mut sboms = crate::analyze_image(&args.image, quiet)?;
    let sbom = match sboms.len() {
        1 => sboms.remove(0),
        n => bail!("{} holds {n} SBOMs; scan one at a time", args.image.source),
    };

    // Before matching: a --base-image that cannot be read is an error, reported early.
    let base = crate::evaluate::base_image(&args.policy, &args.image, &sbom)?;

    let started = Instant::now();
    let mut result = runtime
        .block_on(portcullis_match::match_sbom(&store, &sbom))
        .with_context(|| format!("matching against {db}"))?;
    // bench/scan.sh reads this line for the matching time.
    tracing::info!(
        packages = sbom.packages.len(),
        findings = result.findings.len(),
        elapsed_us = started.elapsed().as_micros() as u64,
        "matched"
    );
    runtime.block_on(store.close());
    if let Some(base) = &base {
        result.set_base_image(base.clone());
    }

    if args.only_fixed {
        result.findings.retain(|f| f.state == portcullis_vulndb::FixState::Fixed);
        result.refresh_summary();
    }
    let today = chrono::Utc::now().date_naive();
    for file in &ignore_files {
        file.apply(&mut result, today);
    }
    let image_ids = image_ids(&sbom);
    for document in &vex {
        document.apply(&mut result, &image_ids);
    }
    for rule in &result.expired_rules {
        eprintln!(
            "warning: ignore rule for {} expired on {}; it no longer applies",
            rule.vulnerability.as_deref().or(rule.package.as_deref()).unwrap_or("?"),
            rule.expires
        );
    }

    let gate = args.fail_on.map(|fail_on| Gate { fail_on: fail_on.into(), only_fixed: args.only_fixed });
    let gate_result = gate.map(|g| g.evaluate(&result.findings));
    let report = ScanReport { sbom: &sbom, result: &result, gate: gate_result.as_ref() };
    for (format, file) in &outputs {
        crate::output::emit_text(file.as_deref(), &portcullis_report::render(&report, *format)?)?;
    }
    // The policy sees the findings left after ignore rules and VEX.
    let evaluation = match &policy {
        Some(bundle) => {
            let base_layers = base.map(|base| base.layers);
            Some(crate::evaluate::evaluate(bundle, args.policy.tag.as_deref(), base_layers, &sbom, Some(&result))?)
        }
        None => None,
    };
    if let Some(evaluation) = &evaluation {
        eprint!("{}", crate::evaluate::render_table(evaluation));
    }
    let mut failed = false;
    if let Some(gate) = gate_result.filter(|gate| !gate.passed) {
        eprintln!("gate failed: {}", gate.reason);
        failed = true;
    }
    if let Some(evaluation) = evaluation.filter(|e| e.status == portcullis_policy::evaluate::Status::Fail) {
        eprintln!("policy failed: final action {}", evaluation.final_action.as_str());
        failed = true;
    }
    Ok(if failed { ExitCode::from(EXIT_GATE_FAILED) } else { ExitCode::SUCCESS })
}

/// Opens the database; on first use (no source yet) syncs the feeds into it
/// unless `no_auto_sync`.
pub fn open_store(runtime: &tokio::runtime::Runtime, db: &str, no_auto_sync: bool, quiet: bool) -> Result<VulnStore> {
    let store =
        runtime.block_on(VulnStore::open(db)).with_context(|| format!("opening the vulnerability database {db}"))?;
    if !no_auto_sync && runtime.block_on(store.sources())?.is_empty() {
        // First use: fill the database rather than fail, as the README's first command promises.
        let from: Vec<String> = std::env::var(crate::feeds::FEEDS_FROM_ENV)
            .map(|v| v.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        eprintln!("the vulnerability database {db} is empty: syncing the feeds first (portcullis feeds sync)");
        let cache_dir = std::env::var_os("PORTCULLIS_CACHE_DIR").map(PathBuf::from);
        let mut log = std::io::stderr();
        let synced =
            runtime.block_on(crate::feeds::sync_and_report(&store, &from, false, cache_dir, quiet, &mut log))?;
        if !synced {
            eprintln!("warning: some feeds failed to sync; matching with what was loaded");
        }
    }
    Ok(store)
}

/// The vulnerability match of `sbom`, or `None` when the database holds no
/// data (the policy's `vulnerability_data_unavailable` then fires).
pub fn match_image(
    sbom: &portcullis_sbom::Sbom,
    db: &str,
    no_auto_sync: bool,
    quiet: bool,
) -> Result<Option<ScanResult>> {
    let runtime = runtime()?;
    let store = open_store(&runtime, db, no_auto_sync, quiet)?;
    let result = match runtime.block_on(portcullis_match::match_sbom(&store, sbom)) {
        Ok(result) => Some(result),
        Err(portcullis_match::MatchError::EmptyDatabase(_)) => None,
        Err(error) => return Err(error).with_context(|| format!("matching against {db}")),
    };
    runtime.block_on(store.close());
    Ok(result)
}

/// The names a VEX document may use for the scanned image.
fn image_ids(sbom: &portcullis_sbom::Sbom) -> Vec<String> {
    let Some(image) = &sbom.source.image else { return Vec::new() };
    let mut ids: Vec<String> = image.references.clone();
    ids.extend(image.manifest_digest.clone());
    ids.extend(image.index_digest.clone());
    ids.push(image.config_digest.clone());
    ids
}
