//! `portcullis serve`: runs the service (API, analyzer, scheduler) in this process.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use portcullis_service::Service;
use portcullis_service::config::{Role, ServiceConfig};

#[derive(Args)]
pub struct ServeArgs {
    /// YAML configuration file (see docs/service.md); flags and PORTCULLIS_* variables override it.
    #[arg(short, long, env = "PORTCULLIS_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8228].
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Where the embedded databases and local files live
    /// [default: ~/.local/share/portcullis/service].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The catalog database: a SQLite path or postgres:// URL [default: DATA_DIR/portcullis.sqlite].
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Roles of this process, comma-separated: api, analyzer, scheduler [default: all].
    #[arg(long, value_name = "ROLES")]
    roles: Option<String>,
    /// Analyses run at once by this process.
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
}

pub fn run(args: ServeArgs) -> Result<ExitCode> {
    let mut config = ServiceConfig::load(args.config.as_deref())?;
    if let Some(listen) = &args.listen {
        config.listen =
            listen.parse().with_context(|| format!("--listen {listen:?} is not an address like 127.0.0.1:8228"))?;
    }
    if let Some(dir) = args.data_dir {
        config.data_dir = dir;
    }
    if let Some(url) = args.database_url {
        config.database_url = Some(url);
    }
    if let Some(roles) = &args.roles {
        config.roles = Role::parse_list(roles)?;
    }
    if let Some(workers) = args.workers {
        config.analyzer.workers = workers;
    }
    let admin_password = std::env::var("PORTCULLIS_ADMIN_PASSWORD").ok();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let service = Service::start(config, admin_password).await.context("starting the service")?;
        if let Some(password) = &service.generated_admin_password {
            // Shown once: only its hash is stored.
            eprintln!("created the admin account; user `admin`, password `{password}` (shown only now)");
        }
        let roles: Vec<String> = service.state().config.roles.iter().map(|r| format!("{r:?}").to_lowercase()).collect();
        match service.local_addr() {
            Some(addr) => eprintln!("portcullis serve: started ({}); listening on http://{addr}/v1", roles.join(", ")),
            None => eprintln!("portcullis serve: started ({})", roles.join(", ")),
        }
        service.run_until_signal().await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
