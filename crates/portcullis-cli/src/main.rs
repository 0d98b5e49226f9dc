//! The `portcullis` command: wires the library crates to a command line.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use portcullis_catalog::content::dockerfile;
use portcullis_catalog::content::secrets::{ContentScanner, SecretRule, default_rules};
use portcullis_catalog::{AnalyzeOptions, InspectOptions, Scope};
use portcullis_image::Limits;
use portcullis_image::cache::{DiskCache, ResultCache};
use portcullis_image::source::{self, Credentials, Platform, PlatformChoice, RegistryOptions, SourceOptions};
use portcullis_sbom::Sbom;

mod evaluate;
mod feeds;
mod objectstorage;
mod output;
mod progress;
mod remote;
mod scan;
mod serve;

/// Container image analysis: SBOMs from registries, OCI layouts, archives and directories.
#[derive(Parser)]
#[command(name = "portcullis", version, about, long_about = None)]
struct Cli {
    /// Show no progress display.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// More log output on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// The vulnerability database: a file path (SQLite) or postgres://... URL.
    /// Default: $XDG_DATA_HOME/portcullis/vulndb.sqlite (~/.local/share/...).
    #[arg(long, global = true, env = "PORTCULLIS_DB", value_name = "PATH|URL")]
    db: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Catalogue the packages of an image and print its SBOM.
    Sbom(Box<SbomArgs>),
    /// Find the vulnerabilities of an image (or SBOM) and gate on them.
    Scan(Box<scan::ScanArgs>),
    /// Evaluate an image against a policy bundle (Anchore-compatible); exit 1 on STOP.
    /// `evaluate check IMAGE` asks a server instead.
    Evaluate(Box<remote::EvaluateCommand>),
    /// Manage the vulnerability database: sync feeds, list what is loaded.
    #[command(subcommand)]
    Feeds(feeds::FeedsCommand),
    /// Convert an SBOM document between formats.
    Convert(ConvertArgs),
    /// List the files each cataloger reads.
    Catalogers,
    /// The service's document store: migrate between drivers, check a configuration.
    #[command(subcommand)]
    Objectstorage(objectstorage::ObjectStorageCommand),
    /// Run the service: the Anchore-compatible API, analyzers and watchers.
    Serve(Box<serve::ServeArgs>),
    #[command(flatten)]
    Remote(remote::RemoteCommand),
}

#[derive(Args)]
struct ConvertArgs {
    /// The document to read, in any supported format (detected), or `-` for stdin.
    input: String,
    /// Output format, optionally written to a file: FORMAT or FORMAT=FILE; repeatable.
    #[arg(short, long = "output", value_name = "FORMAT[=FILE]", default_value = "json")]
    outputs: Vec<String>,
}

#[derive(Args)]
struct SbomArgs {
    #[command(flatten)]
    image: ImageArgs,
    /// Output format, optionally written to a file: FORMAT or FORMAT=FILE;
    /// repeat for several. Formats: table, json, cyclonedx-json,
    /// cyclonedx-xml, spdx-json, spdx-tag-value.
    #[arg(short, long = "output", value_name = "FORMAT[=FILE]", default_value = "table")]
    outputs: Vec<String>,
}

/// Which image to analyse and how.
#[derive(Args)]
pub struct ImageArgs {
    /// The image: registry:REF, oci-dir:PATH[:TAG], oci-archive:PATH[:TAG],
    /// docker-archive:PATH[:REPO:TAG], dir:PATH, or any of these without the
    /// scheme (auto-detected); or sbom:FILE, an SBOM made elsewhere.
    source: String,
    /// Which files to catalogue.
    #[arg(long, value_enum, default_value_t = ScopeArg::Squashed)]
    scope: ScopeArg,
    /// Platform to pick from a multi-platform image (os/arch[/variant]).
    #[arg(long, default_value = "linux/amd64", conflicts_with = "all_platforms")]
    platform: String,
    /// Analyse every platform of a multi-platform image.
    #[arg(long)]
    all_platforms: bool,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    content: ContentArgs,
    #[command(flatten)]
    limits: LimitArgs,
    /// Keep each layer's analysis in DIR and reuse it for images sharing the
    /// layer (at most 1 GiB; the least recently used go first). Off by default.
    #[arg(long, value_name = "DIR", env = "PORTCULLIS_LAYER_CACHE")]
    layer_cache: Option<PathBuf>,
}

/// Size cap of `--layer-cache`.
const LAYER_CACHE_BYTES: u64 = 1 << 30;

#[derive(Args)]
struct ContentArgs {
    /// Extra digests for every file besides sha256: sha1, md5 (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "ALGORITHMS")]
    file_digests: Vec<DigestArg>,
    /// Do not search file contents for secrets.
    #[arg(long, conflicts_with = "secret_rules")]
    no_secrets: bool,
    /// Add a secret rule, NAME=REGEX; repeatable.
    #[arg(long = "secret-rule", value_name = "NAME=REGEX")]
    secret_rules: Vec<String>,
    /// Search file contents for NAME=REGEX (reported as content matches); repeatable.
    #[arg(long = "content-search", value_name = "NAME=REGEX")]
    content_search: Vec<String>,
    /// Largest file searched for secrets and content, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 10 << 20)]
    max_search_size: u64,
    /// Keep the text of this file in the SBOM (for policies); repeatable. Default: /etc/passwd.
    #[arg(long = "retrieve-file", value_name = "PATH")]
    retrieve_files: Vec<String>,
    /// Bytes kept per retrieved file.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 10)]
    retrieve_max: usize,
    /// The Dockerfile the image was built from (otherwise one is rebuilt from the history).
    #[arg(long, value_name = "FILE")]
    dockerfile: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum DigestArg {
    Sha1,
    Md5,
}

impl ContentArgs {
    fn inspect_options(&self) -> Result<InspectOptions> {
        let mut options = InspectOptions::default();
        options.digests.sha1 = self.file_digests.iter().any(|d| matches!(d, DigestArg::Sha1));
        options.digests.md5 = self.file_digests.iter().any(|d| matches!(d, DigestArg::Md5));
        let rules = |specs: &[String]| {
            specs
                .iter()
                .map(|spec| SecretRule::parse(spec).with_context(|| format!("rule {spec:?}")))
                .collect::<Result<Vec<_>>>()
        };
        let scanner = |rules: Vec<SecretRule>| {
            let mut scanner = ContentScanner::new(rules);
            scanner.max_file_size = self.max_search_size;
            scanner
        };
        options.secrets = if self.no_secrets {
            None
        } else {
            let mut all = default_rules();
            all.extend(rules(&self.secret_rules)?);
            Some(scanner(all))
        };
        let user = rules(&self.content_search)?;
        options.content_search = (!user.is_empty()).then(|| scanner(user));
        Ok(options)
    }

    fn dockerfile(&self) -> Result<Option<portcullis_sbom::Dockerfile>> {
        let Some(path) = &self.dockerfile else { return Ok(None) };
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let parsed = dockerfile::from_user(&text).with_context(|| format!("invalid Dockerfile {}", path.display()))?;
        Ok(Some(parsed))
    }
}

#[derive(Args)]
struct RegistryArgs {
    /// Registry host[:port] to reach over plain HTTP; repeatable.
    #[arg(
        long = "insecure-registry",
        value_name = "HOST[:PORT]",
        env = "PORTCULLIS_INSECURE_REGISTRIES",
        value_delimiter = ','
    )]
    insecure_registries: Vec<String>,
    /// Registry user name (overrides the Docker config).
    #[arg(long, env = "PORTCULLIS_REGISTRY_USERNAME", requires = "password")]
    username: Option<String>,
    /// Registry password or token.
    #[arg(long, env = "PORTCULLIS_REGISTRY_PASSWORD", requires = "username", hide_env_values = true)]
    password: Option<String>,
    /// Docker config file with `auths`/`credHelpers` (default: $DOCKER_CONFIG/config.json or ~/.docker/config.json).
    #[arg(long, env = "PORTCULLIS_DOCKER_CONFIG", value_name = "FILE")]
    docker_config: Option<PathBuf>,
}

#[derive(Args)]
struct LimitArgs {
    /// Largest size one file in a layer may declare, in bytes.
    #[arg(long, env = "PORTCULLIS_MAX_FILE_SIZE", value_name = "BYTES")]
    max_file_size: Option<u64>,
    /// Largest uncompressed size of one layer, in bytes.
    #[arg(long, env = "PORTCULLIS_MAX_LAYER_SIZE", value_name = "BYTES")]
    max_layer_size: Option<u64>,
    /// Largest uncompressed-to-stored ratio of a layer (decompression-bomb guard).
    #[arg(long, env = "PORTCULLIS_MAX_COMPRESSION_RATIO", value_name = "RATIO")]
    max_compression_ratio: Option<u64>,
    /// Largest number of entries in one layer.
    #[arg(long, env = "PORTCULLIS_MAX_ENTRIES", value_name = "COUNT")]
    max_entries: Option<u64>,
}

impl LimitArgs {
    fn limits(&self) -> Limits {
        let mut limits = Limits::default();
        if let Some(v) = self.max_file_size {
            limits.max_file_size = v;
        }
        if let Some(v) = self.max_layer_size {
            limits.max_layer_size = v;
        }
        if let Some(v) = self.max_compression_ratio {
            limits.max_compression_ratio = v;
        }
        if let Some(v) = self.max_entries {
            limits.max_entries = v;
        }
        limits
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum ScopeArg {
    Squashed,
    AllLayers,
}

/// Exit codes, documented in docs/cli.md: 0 success (gate passed), 1 gate
/// failed, 2 error.
pub const EXIT_GATE_FAILED: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A service logs what it does by default; one-shot commands only warn.
    let serving = matches!(cli.command, Command::Serve(_));
    init_logging(cli.verbose + u8::from(serving));
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn run(cli: Cli) -> Result<ExitCode> {
    let success = |()| ExitCode::SUCCESS;
    let db = cli.db.clone();
    match cli.command {
        Command::Sbom(args) => sbom(*args, cli.quiet).map(success),
        Command::Scan(args) => scan::run(*args, &database_location(db)?, cli.quiet),
        Command::Evaluate(command) => match (command.remote, command.local) {
            (Some(remote), _) => Ok(remote.run()),
            (None, Some(local)) => evaluate::run(local, &database_location(db)?, cli.quiet),
            (None, None) => anyhow::bail!("evaluate needs an image source, or `check IMAGE`"),
        },
        Command::Feeds(command) => feeds::run(command, &database_location(db)?, cli.quiet),
        Command::Convert(args) => convert(args).map(success),
        Command::Objectstorage(command) => objectstorage::run(command, cli.quiet),
        Command::Remote(command) => Ok(remote::run(command, cli.quiet)),
        Command::Serve(args) => serve::run(*args),
        Command::Catalogers => {
            for (name, files) in portcullis_catalog::cataloger_files() {
                println!("{name}");
                for file in files {
                    println!("  {file}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `--db` / `PORTCULLIS_DB`, else the per-user data directory.
fn database_location(db: Option<String>) -> Result<String> {
    if let Some(db) = db.filter(|db| !db.is_empty()) {
        return Ok(db);
    }
    let data = dirs::data_dir().context("no per-user data directory is known here: give --db or PORTCULLIS_DB")?;
    Ok(data.join("portcullis").join("vulndb.sqlite").display().to_string())
}

fn sbom(args: SbomArgs, quiet: bool) -> Result<()> {
    let outputs = output::parse(&args.outputs)?;
    let sboms = analyze_image(&args.image, quiet)?;
    output::write(&outputs, &sboms)
}

/// How to open the image of `args` (platform, registry access, limits).
pub fn source_options(args: &ImageArgs) -> Result<SourceOptions> {
    let platform =
        if args.all_platforms { PlatformChoice::All } else { PlatformChoice::One(Platform::parse(&args.platform)?) };
    Ok(SourceOptions {
        platform,
        registry: RegistryOptions {
            insecure_registries: args.registry.insecure_registries.clone(),
            credentials: match (&args.registry.username, &args.registry.password) {
                (Some(username), Some(password)) => {
                    Some(Credentials { username: username.clone(), password: password.clone() })
                }
                _ => None,
            },
            docker_config: args.registry.docker_config.clone(),
        },
        limits: args.limits.limits(),
    })
}

/// Opens and analyses an image (every platform asked for), or reads `sbom:FILE`.
pub fn analyze_image(args: &ImageArgs, quiet: bool) -> Result<Vec<Sbom>> {
    if let Some(path) = args.source.strip_prefix("sbom:") {
        return read_documents(path);
    }
    let options = source_options(args)?;
    let defaults = AnalyzeOptions::default();
    let analyze_options = AnalyzeOptions {
        scope: match args.scope {
            ScopeArg::Squashed => Scope::Squashed,
            ScopeArg::AllLayers => Scope::AllLayers,
        },
        limits: options.limits,
        inspect: args.content.inspect_options()?,
        retrieve_files: if args.content.retrieve_files.is_empty() {
            defaults.retrieve_files
        } else {
            args.content.retrieve_files.clone()
        },
        retrieve_max: args.content.retrieve_max,
        dockerfile: args.content.dockerfile()?,
    };
    let show_progress = !quiet && std::io::stderr().is_terminal();
    let sources = {
        let _spinner = progress::spinner(show_progress, &format!("resolving {}", args.source));
        source::open(&args.source, &options).with_context(|| format!("cannot open {}", args.source))?
    };
    let cache = args.layer_cache.as_ref().map(|dir| DiskCache::new(dir.clone(), LAYER_CACHE_BYTES));
    let mut sboms = Vec::with_capacity(sources.len());
    for image in &sources {
        let display = progress::LayerProgress::new(show_progress, image.descriptor());
        let cache = cache.as_ref().map(|cache| cache as &dyn ResultCache);
        let sbom = portcullis_catalog::analyze_with_cache(image.as_ref(), &analyze_options, cache, &display)
            .with_context(|| format!("cannot analyse {}", args.source))?;
        display.finish();
        sboms.push(sbom);
    }
    Ok(sboms)
}

/// Reads an SBOM document in any supported format (`-` is stdin).
fn read_documents(path: &str) -> Result<Vec<Sbom>> {
    let bytes = if path == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).context("reading stdin")?;
        bytes
    } else {
        std::fs::read(path).with_context(|| format!("reading {path}"))?
    };
    portcullis_sbom::format::read_all(&bytes).with_context(|| format!("cannot read the SBOM in {path}"))
}

fn convert(args: ConvertArgs) -> Result<()> {
    let outputs = output::parse(&args.outputs)?;
    output::write(&outputs, &read_documents(&args.input)?)
}
