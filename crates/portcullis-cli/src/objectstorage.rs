//! `portcullis objectstorage migrate|check|list-drivers`: the service's
//! document store, as Anchore's `anchore-manager objectstorage` has it.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use portcullis_objstore::{DRIVERS, DocumentStore, MigrateOptions, ObjectStoreConfig};
use portcullis_sql::Database;

use crate::EXIT_ERROR;

#[derive(Subcommand)]
pub enum ObjectStorageCommand {
    /// Move every document (or those of the --bucket buckets) from the
    /// driver FROM configures to the one TO configures. Stop the service
    /// first. Safe to run again: it finishes what an interrupted run left.
    Migrate {
        /// YAML file with the current object_store section (bare, or a whole
        /// configuration with services.catalog.object_store).
        from: PathBuf,
        /// YAML file with the new object_store section.
        to: PathBuf,
        /// Keep each source copy after the document has moved.
        #[arg(long)]
        nodelete: bool,
        /// Only the documents of this bucket; repeatable.
        #[arg(long = "bucket", value_name = "BUCKET")]
        buckets: Vec<String>,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Check a configuration: build its driver and put, read back and delete
    /// a probe object, as the service does at start-up.
    Check {
        /// YAML file with the object_store section.
        config: PathBuf,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// List the storage drivers.
    ListDrivers,
}

#[derive(Args)]
pub struct DatabaseArg {
    /// The service database holding the documents' metadata: a file path
    /// (SQLite) or postgres://... URL.
    /// Default: $XDG_DATA_HOME/portcullis/service/portcullis.sqlite (~/.local/share/...).
    #[arg(long, env = "PORTCULLIS_DATABASE_URL", value_name = "PATH|URL")]
    database_url: Option<String>,
}

impl DatabaseArg {
    fn location(&self) -> Result<String> {
        if let Some(url) = self.database_url.as_deref().filter(|url| !url.is_empty()) {
            return Ok(url.to_owned());
        }
        let data = dirs::data_dir()
            .context("no per-user data directory is known here: give --database-url or PORTCULLIS_DATABASE_URL")?;
        Ok(data.join("portcullis").join("service").join("portcullis.sqlite").display().to_string())
    }

    async fn open(&self) -> Result<Database> {
        let location = self.location()?;
        Database::open(&location).await.with_context(|| format!("opening the service database {location}"))
    }
}

pub fn run(command: ObjectStorageCommand, quiet: bool) -> Result<ExitCode> {
    match command {
        ObjectStorageCommand::ListDrivers => {
            for (name, description) in DRIVERS {
                println!("{name:<8} {description}");
            }
            Ok(ExitCode::SUCCESS)
        }
        ObjectStorageCommand::Check { config, database } => {
            let config = ObjectStoreConfig::from_yaml_file(&config)?;
            crate::scan::runtime()?.block_on(async {
                let db = database.open().await?;
                let store = DocumentStore::open(&config, &db).await?;
                println!("ok: the {} driver passed the start-up check (put, get, delete)", store.driver_name());
                db.close().await;
                Ok(ExitCode::SUCCESS)
            })
        }
        ObjectStorageCommand::Migrate { from, to, nodelete, buckets, database } => {
            let from_config = ObjectStoreConfig::from_yaml_file(&from)?;
            let to_config = ObjectStoreConfig::from_yaml_file(&to)?;
            let options = MigrateOptions { delete_source: !nodelete, buckets };
            crate::scan::runtime()?.block_on(async {
                let db = database.open().await?;
                let bar = progress_bar(!quiet && std::io::stderr().is_terminal());
                let report = portcullis_objstore::migrate(&db, &from_config, &to_config, &options, &mut |p| {
                    if let Some(bar) = &bar {
                        bar.set_length(p.total as u64);
                        bar.set_position(p.done as u64);
                        bar.set_message(format!("{}/{}/{}", p.account, p.bucket, p.key));
                    }
                })
                .await;
                if let Some(bar) = &bar {
                    bar.finish_and_clear();
                }
                db.close().await;
                let report = report?;
                println!(
                    "{} document(s): {} migrated ({} bytes), {} already there, {} held by neither driver, \
                     {} changed meanwhile, {} failed",
                    report.total,
                    report.migrated,
                    report.bytes,
                    report.already_migrated,
                    report.skipped,
                    report.changed_meanwhile,
                    report.failures.len()
                );
                for failure in &report.failures {
                    eprintln!("error: {}/{}/{}: {}", failure.account, failure.bucket, failure.key, failure.error);
                }
                Ok(if report.failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_ERROR) })
            })
        }
    }
}

fn progress_bar(enabled: bool) -> Option<ProgressBar> {
    enabled.then(|| {
        let style = ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        ProgressBar::new(0).with_style(style)
    })
}
