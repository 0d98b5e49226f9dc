//! `portcullis feeds sync|list`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Subcommand;
use comfy_table::{Table, presets::NOTHING};
use indicatif::{ProgressBar, ProgressStyle};
use portcullis_feeds::sync::{SyncOptions, SyncProgress};
use portcullis_feeds::{SourceOutcome, SourceSpec, default_sources};
use portcullis_vulndb::VulnStore;

use crate::EXIT_ERROR;

/// Where `feeds sync` (and the first `scan` on an empty database) read from
/// when no `--from` is given; unset means the upstream defaults.
pub const FEEDS_FROM_ENV: &str = "PORTCULLIS_FEEDS_FROM";

#[derive(Subcommand)]
pub enum FeedsCommand {
    /// Fill the database from upstream (default) or from local copies.
    Sync {
        /// Read this source instead of the upstream defaults: a directory
        /// (walked recursively; a mirror laid out like upstream), a zip
        /// archive, a single file, or an http(s) URL. `NAME=...` names the
        /// source. Repeatable.
        #[arg(long = "from", value_name = "[NAME=]PATH|URL", env = FEEDS_FROM_ENV, value_delimiter = ',')]
        from: Vec<String>,
        /// Parse every file again, even unchanged ones.
        #[arg(long)]
        force: bool,
        /// Where downloaded feeds are kept between syncs.
        /// Default: $XDG_CACHE_HOME/portcullis/feeds (~/.cache/...).
        #[arg(long, env = "PORTCULLIS_CACHE_DIR", value_name = "DIR")]
        cache_dir: Option<PathBuf>,
    },
    /// Show what is in the database: each source, where it came from, its
    /// upstream date, record counts and when it was synced.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: FeedsCommand, db: &str, quiet: bool) -> Result<ExitCode> {
    let runtime = crate::scan::runtime()?;
    runtime.block_on(async {
        let store = VulnStore::open(db).await.with_context(|| format!("opening the vulnerability database {db}"))?;
        let code = match command {
            FeedsCommand::Sync { from, force, cache_dir } => sync(&store, from, force, cache_dir, quiet).await?,
            FeedsCommand::List { json } => list(&store, json).await?,
        };
        store.close().await;
        Ok(code)
    })
}

async fn sync(
    store: &VulnStore,
    from: Vec<String>,
    force: bool,
    cache_dir: Option<PathBuf>,
    quiet: bool,
) -> Result<ExitCode> {
    let synced = sync_and_report(store, &from, force, cache_dir, quiet, &mut std::io::stdout()).await?;
    Ok(if synced { ExitCode::SUCCESS } else { ExitCode::from(EXIT_ERROR) })
}

/// Syncs the `--from` sources (the upstream defaults when there are none),
/// writes the per-source table to `out` and the failures to stderr. True
/// when every source synced.
pub async fn sync_and_report(
    store: &VulnStore,
    from: &[String],
    force: bool,
    cache_dir: Option<PathBuf>,
    quiet: bool,
    out: &mut dyn std::io::Write,
) -> Result<bool> {
    let specs: Vec<SourceSpec> =
        if from.is_empty() { default_sources() } else { from.iter().map(|arg| SourceSpec::parse(arg)).collect() };
    let cache_dir = match cache_dir {
        Some(dir) => dir,
        None => dirs::cache_dir()
            .context("no per-user cache directory is known here: give --cache-dir or PORTCULLIS_CACHE_DIR")?
            .join("portcullis")
            .join("feeds"),
    };
    let mut options = SyncOptions::new(cache_dir);
    options.force = force;
    let progress = SyncBars::new(!quiet && std::io::stderr().is_terminal());
    let report = portcullis_feeds::sync(store, &specs, &options, &progress).await;
    progress.clear();

    let mut table = Table::new();
    table.load_style(NOTHING);
    table.set_header(["SOURCE", "FILES", "PARSED", "UNCHANGED", "REMOVED", "ADVISORIES", "STATUS"]);
    for outcome in &report.sources {
        table.add_row([
            outcome.name.clone(),
            outcome.files.to_string(),
            outcome.parsed.to_string(),
            outcome.unchanged.to_string(),
            outcome.removed.to_string(),
            outcome.advisories.to_string(),
            status(outcome),
        ]);
    }
    writeln!(out, "{table}")?;
    writeln!(
        out,
        "synced {} source(s) in {:.1} s into {}",
        report.sources.len(),
        report.elapsed.as_secs_f64(),
        store.location()
    )?;
    let failed: Vec<&SourceOutcome> = report.failed().collect();
    for outcome in &failed {
        eprintln!(
            "error: {}: {} (its previous data is kept)",
            outcome.name,
            outcome.error.as_deref().unwrap_or("failed")
        );
    }
    Ok(failed.is_empty())
}

fn status(outcome: &SourceOutcome) -> String {
    match &outcome.error {
        Some(_) => "FAILED".to_owned(),
        None if outcome.parsed == 0 && outcome.removed == 0 => "unchanged".to_owned(),
        None if outcome.unrecognized > 0 => format!("updated ({} files not feed data)", outcome.unrecognized),
        None => "updated".to_owned(),
    }
}

async fn list(store: &VulnStore, json: bool) -> Result<ExitCode> {
    let sources = store.sources().await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&sources)?);
        return Ok(ExitCode::SUCCESS);
    }
    if sources.is_empty() {
        println!("the database {} is empty: run `portcullis feeds sync`", store.location());
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = Table::new();
    table.load_style(NOTHING);
    table.set_header(["SOURCE / FEED", "FORMATS", "UPSTREAM DATE", "SYNCED", "FILES", "ADVISORIES", "KEV", "EPSS"]);
    let date =
        |d: &Option<String>| d.as_deref().map(|d| d.chars().take(10).collect()).unwrap_or_else(|| "-".to_owned());
    for source in &sources {
        table.add_row([
            source.name.clone(),
            source.formats.join(","),
            date(&source.upstream_date),
            source.synced_at.clone(),
            source.files.to_string(),
            source.advisories.to_string(),
            source.kev.to_string(),
            source.epss.to_string(),
        ]);
        if source.feeds.len() > 1 {
            for (feed, summary) in &source.feeds {
                table.add_row([
                    format!("  {feed}"),
                    summary.formats.join(","),
                    date(&summary.upstream_date),
                    String::new(),
                    summary.files.to_string(),
                    summary.advisories.to_string(),
                    summary.kev.to_string(),
                    summary.epss.to_string(),
                ]);
            }
        }
    }
    println!("{table}");
    for source in &sources {
        println!("{}: {} ({})", source.name, source.location, source.digest);
    }
    Ok(ExitCode::SUCCESS)
}

/// One bar per source on a terminal; nothing otherwise.
struct SyncBars {
    enabled: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl SyncBars {
    fn new(enabled: bool) -> Self {
        Self { enabled, bar: Mutex::new(None) }
    }

    fn with_bar(&self, f: impl FnOnce(&ProgressBar)) {
        if let Ok(bar) = self.bar.lock()
            && let Some(bar) = bar.as_ref()
        {
            f(bar);
        }
    }

    fn replace(&self, bar: Option<ProgressBar>) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(old) = slot.take() {
                old.finish_and_clear();
            }
            *slot = bar;
        }
    }

    fn clear(&self) {
        self.replace(None);
    }
}

impl SyncProgress for SyncBars {
    fn source_started(&self, source: &str, files: u64) {
        if !self.enabled {
            return;
        }
        let bar = ProgressBar::new(files).with_message(source.to_owned());
        if let Ok(style) = ProgressStyle::with_template("{msg:>24} [{bar:30}] {pos}/{len} files {elapsed}") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        self.replace(Some(bar));
    }

    fn files_done(&self, count: u64) {
        self.with_bar(|bar| bar.inc(count));
    }

    fn source_finished(&self, _outcome: &SourceOutcome) {
        self.clear();
    }

    fn downloading(&self, url: &str, bytes: u64, total: Option<u64>) {
        if !self.enabled {
            return;
        }
        let needs_bar = self.bar.lock().map(|b| b.is_none()).unwrap_or(false);
        if needs_bar {
            let bar = ProgressBar::new(total.unwrap_or(0)).with_message(url.to_owned());
            if let Ok(style) = ProgressStyle::with_template("{msg} {bytes}/{total_bytes} {bytes_per_sec}") {
                bar.set_style(style);
            }
            self.replace(Some(bar));
        }
        self.with_bar(|bar| bar.set_position(bytes));
    }
}
