//! The commands that talk to a Portcullis (or Anchore Engine) server over its
//! v1 API, mirroring `anchore-cli`: `image`, `evaluate check`, `policy`,
//! `subscription`, `repo`, `registry`, `system`, `event`, `account` and
//! `analysis-archive`.
//!
//! Exit codes follow `anchore-cli`: 0 on success; 1 when the server refused
//! the request; 2 when it could not be reached, answered 401 or 500, or
//! answered something unreadable. `evaluate check` exits 0 on pass, 1 on
//! fail; `image vuln` exits 100 while the image is analyzing and 101 when it
//! has not been analyzed.

mod archive;
mod images;
mod manage;
mod render;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, Subcommand};
use portcullis_client::{Auth, Client, ClientConfig, ClientError};
use serde::Serialize;

pub use images::EvaluateCommand;

/// Where the API is when neither `--url` nor the environment says.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8228/v1";

/// The remote command groups, flattened into the top-level commands.
#[derive(Subcommand)]
pub enum RemoteCommand {
    /// Images on a server: add, wait, list, get, vuln, content, metadata, delete.
    Image(Group<images::ImageCommand>),
    /// Policy bundles on a server: add, get, list, activate, del.
    Policy(Group<manage::PolicyCommand>),
    /// Subscriptions on a server: list, activate, deactivate, del.
    Subscription(Group<manage::SubscriptionCommand>),
    /// Repository watches on a server: add, list, watch, unwatch, del.
    Repo(Group<manage::RepoCommand>),
    /// Registry credentials on a server: add, update, del, list, get.
    Registry(Group<manage::RegistryCommand>),
    /// Server status and feeds: status, feeds list, feeds sync, wait.
    System(Group<manage::SystemCommand>),
    /// The server's event log: list, get, delete.
    Event(Group<manage::EventCommand>),
    /// Accounts and users on a server: add, get, list, del, enable, disable, whoami, user.
    Account(Group<manage::AccountCommand>),
    /// The analysis archive on a server: images add, get, list, del, restore; rules add, get, list, del, preview.
    AnalysisArchive(Group<archive::ArchiveCommand>),
}

/// A command group with the connection options.
#[derive(Args)]
pub struct Group<C: Subcommand> {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: C,
}

/// How to reach the server; every option can come from the environment.
#[derive(Args, Clone, Debug, Default)]
pub struct Connection {
    /// The API URL [env: PORTCULLIS_URL, then ANCHORE_CLI_URL] [default: http://127.0.0.1:8228/v1].
    #[arg(long, global = true, value_name = "URL")]
    url: Option<String>,
    /// User name [env: PORTCULLIS_USER, then ANCHORE_CLI_USER].
    #[arg(long, short = 'u', global = true)]
    user: Option<String>,
    /// Password [env: PORTCULLIS_PASSWORD, then ANCHORE_CLI_PASS].
    #[arg(long, short = 'p', global = true)]
    password: Option<String>,
    /// Act on this account's resources (admins; sent as x-anchore-account).
    #[arg(long, global = true, env = "PORTCULLIS_ACCOUNT", value_name = "NAME")]
    account: Option<String>,
    /// Print the server's JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    /// Seconds to wait for each answer.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 300)]
    request_timeout: u64,
}

impl Connection {
    /// The first of the option, the Portcullis variable, the Anchore variable.
    fn setting(option: &Option<String>, env: &str, anchore_env: &str) -> Option<String> {
        option
            .clone()
            .or_else(|| std::env::var(env).ok())
            .or_else(|| std::env::var(anchore_env).ok())
            .filter(|value| !value.is_empty())
    }

    pub fn client_config(&self) -> ClientConfig {
        let url =
            Self::setting(&self.url, "PORTCULLIS_URL", "ANCHORE_CLI_URL").unwrap_or_else(|| DEFAULT_URL.to_owned());
        let user = Self::setting(&self.user, "PORTCULLIS_USER", "ANCHORE_CLI_USER");
        let password = Self::setting(&self.password, "PORTCULLIS_PASSWORD", "ANCHORE_CLI_PASS");
        let auth = match user {
            Some(user) => Auth::basic(user, password.unwrap_or_default()),
            None => Auth::None,
        };
        let mut config = ClientConfig::new(url, auth);
        config.account = self.account.clone().filter(|account| !account.is_empty());
        config.timeout = Duration::from_secs(self.request_timeout.max(1));
        config
    }
}

/// What a remote command needs: the client and the output mode.
pub struct Session {
    pub client: Client,
    pub json: bool,
}

impl Session {
    /// Prints `value` as JSON with `--json`, else as `human` renders it.
    pub fn show<T: Serialize>(&self, value: &T, human: impl FnOnce(&T) -> String) -> Result<()> {
        if self.json {
            println!("{}", serde_json::to_string_pretty(value)?);
        } else {
            let text = human(value);
            print!("{text}");
            if !text.ends_with('\n') {
                println!();
            }
        }
        Ok(())
    }

    /// Prints "Success" (or `{}` with `--json`), as `anchore-cli` does after a change.
    pub fn success(&self) -> Result<()> {
        self.show(&serde_json::json!({}), |_| "Success".to_owned())
    }
}

/// Runs a remote command and turns its outcome into `anchore-cli`'s exit code.
pub fn run(command: RemoteCommand, quiet: bool) -> ExitCode {
    let result = match command {
        RemoteCommand::Image(group) => with_session(&group.connection, |s| images::run(s, group.command, quiet)),
        RemoteCommand::Policy(group) => with_session(&group.connection, |s| manage::policy(s, group.command)),
        RemoteCommand::Subscription(group) => {
            with_session(&group.connection, |s| manage::subscription(s, group.command))
        }
        RemoteCommand::Repo(group) => with_session(&group.connection, |s| manage::repo(s, group.command)),
        RemoteCommand::Registry(group) => with_session(&group.connection, |s| manage::registry(s, group.command)),
        RemoteCommand::System(group) => with_session(&group.connection, |s| manage::system(s, group.command, quiet)),
        RemoteCommand::Event(group) => with_session(&group.connection, |s| manage::event(s, group.command)),
        RemoteCommand::Account(group) => with_session(&group.connection, |s| manage::account(s, group.command)),
        RemoteCommand::AnalysisArchive(group) => with_session(&group.connection, |s| archive::run(s, group.command)),
    };
    finish(result)
}

pub(crate) fn with_session(connection: &Connection, body: impl FnOnce(&Session) -> Result<u8>) -> Result<u8> {
    let client = Client::new(connection.client_config())?;
    body(&Session { client, json: connection.json })
}

/// Prints an error and picks the exit code.
pub(crate) fn finish(result: Result<u8>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(error_code(&error))
        }
    }
}

/// Something the server does not have, found out from a listing (a tag no
/// image has, a subscription not listed): exits 1, as the server's own 404
/// does and as `anchore-cli` does for the same lookups.
#[derive(Debug)]
pub(crate) struct NotFound(pub String);

impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotFound {}

/// `anchore-cli`'s `get_ecode`: 401 and 500 are errors (2), any other
/// refusal is 1; no usable answer at all is 2.
pub(crate) fn error_code(error: &anyhow::Error) -> u8 {
    if error.downcast_ref::<NotFound>().is_some() {
        return 1;
    }
    match error.downcast_ref::<ClientError>().and_then(ClientError::status) {
        Some(401 | 500) | None => crate::EXIT_ERROR,
        Some(_) => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_anchore_cli() {
        let http = |status| {
            anyhow::Error::new(ClientError::Http {
                method: "GET".into(),
                url: "u".into(),
                status,
                body: Box::new(portcullis_api::ApiErrorResponse::new(status, "e", "m")),
            })
        };
        assert_eq!(error_code(&http(404)), 1);
        assert_eq!(error_code(&http(409)), 1);
        assert_eq!(error_code(&http(401)), 2);
        assert_eq!(error_code(&http(500)), 2);
        let unreachable = ClientError::Unreachable { method: "GET".into(), url: "u".into(), reason: "refused".into() };
        assert_eq!(error_code(&anyhow::Error::new(unreachable)), 2);
        assert_eq!(error_code(&anyhow::anyhow!("usage")), 2);
        assert_eq!(error_code(&anyhow::Error::new(NotFound("no image x".into()))), 1);
    }

    #[test]
    fn connection_options_win_over_defaults() {
        let connection = Connection {
            url: Some("http://server:9000/v1".into()),
            user: Some("admin".into()),
            password: Some("pw".into()),
            account: Some("team".into()),
            json: false,
            request_timeout: 5,
        };
        let config = connection.client_config();
        assert_eq!(config.url, "http://server:9000/v1");
        assert_eq!(config.auth, Auth::basic("admin", "pw"));
        assert_eq!(config.account.as_deref(), Some("team"));
        assert_eq!(config.timeout, Duration::from_secs(5));
    }
}
