//! The real `anchore-cli` 0.9.3 (from PyPI), to check that `portcullis serve`
//! speaks the Anchore API well enough for Anchore's own client.
//!
//! The venv comes from `scripts/anchore-cli-venv.sh` (scripts/test.sh runs
//! it): `PORTCULLIS_ANCHORE_CLI_VENV`, else `<workspace>/target/anchore-cli-venv`.
//! A missing venv fails the test with the command that creates it.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::schema::workspace_root;

/// What one `anchore-cli` run printed and how it exited.
#[derive(Debug, Clone)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    /// The exit code; `None` if a signal ended the process.
    pub code: Option<i32>,
}

/// `anchore-cli` pointed at one server as one user.
#[derive(Debug, Clone)]
pub struct AnchoreCli {
    binary: PathBuf,
    url: String,
    user: String,
    password: String,
    account: Option<String>,
}

impl AnchoreCli {
    /// `url` is the API base, `http://127.0.0.1:PORT/v1`.
    pub fn new(url: impl Into<String>, user: impl Into<String>, password: impl Into<String>) -> AnchoreCli {
        let venv = std::env::var_os("PORTCULLIS_ANCHORE_CLI_VENV")
            .map_or_else(|| workspace_root().join("target/anchore-cli-venv"), PathBuf::from);
        let binary = venv.join("bin/anchore-cli");
        assert!(
            binary.is_file(),
            "anchore-cli is not installed: {} is missing. Run scripts/anchore-cli-venv.sh (scripts/test.sh does) to create the venv",
            binary.display()
        );
        AnchoreCli { binary, url: url.into(), user: user.into(), password: password.into(), account: None }
    }

    /// Runs every command as `--as-account NAME` (the `x-anchore-account` header).
    pub fn as_account(mut self, account: impl Into<String>) -> AnchoreCli {
        self.account = Some(account.into());
        self
    }

    /// Runs `anchore-cli ARGS...` and returns what it printed.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_input(args, "")
    }

    /// Runs `anchore-cli ARGS...` with `input` on its standard input (the
    /// answer to a confirmation prompt, e.g. `system feeds sync`).
    pub fn run_with_input(&self, args: &[&str], input: &str) -> Output {
        let mut command = Command::new(&self.binary);
        if let Some(account) = &self.account {
            command.args(["--as-account", account]);
        }
        command.args(args);
        // Only what this harness sets: no credentials file, no stray ANCHORE_CLI_* from the caller.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("ANCHORE_CLI_") {
                command.env_remove(name);
            }
        }
        command
            .env("ANCHORE_CLI_URL", &self.url)
            .env("ANCHORE_CLI_USER", &self.user)
            .env("ANCHORE_CLI_PASS", &self.password)
            .env("ANCHORE_CLI_CONFIG", workspace_root().join("target/anchore-cli-no-credentials.yaml"))
            // Keeps stdout open after the command, so a Python error trace is not lost.
            .env("ANCHORE_CLI_NO_FDS_CLEANUP", "1");
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().unwrap_or_else(|e| panic!("cannot run {}: {e}", self.binary.display()));
        if let Some(mut stdin) = child.stdin.take() {
            // A client that exits without reading its input closes the pipe: not an error here.
            let _ = stdin.write_all(input.as_bytes());
        }
        let output = child.wait_with_output().unwrap_or_else(|e| panic!("cannot run {}: {e}", self.binary.display()));
        Output {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            code: output.status.code(),
        }
    }

    /// Runs `anchore-cli --json ARGS...`, which must exit 0, and parses its output.
    pub fn run_json(&self, args: &[&str]) -> serde_json::Value {
        let mut with_json = vec!["--json"];
        with_json.extend_from_slice(args);
        let output = self.run(&with_json);
        assert_eq!(
            output.code,
            Some(0),
            "anchore-cli {} failed\nstdout:\n{}\nstderr:\n{}",
            args.join(" "),
            output.stdout,
            output.stderr
        );
        serde_json::from_str(&output.stdout)
            .unwrap_or_else(|e| panic!("anchore-cli {} printed no JSON ({e}):\n{}", args.join(" "), output.stdout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{HttpServer, Response};

    /// Against a loopback server playing a one-service engine: the harness
    /// passes the URL and credentials, and both output modes come back.
    #[test]
    fn drives_the_real_client() {
        let status = serde_json::json!({"service_states": [{"servicename": "apiext", "hostid": "h1",
            "base_url": "http://h1", "status": true, "status_message": "available", "version": "v",
            "service_detail": {"version": "0.1.0", "db_version": "1", "available": true, "busy": false, "up": true,
                "message": "", "detail": {}}}]});
        let server = HttpServer::start(move |request| match request.path() {
            "/v1" | "/v1/" => Response::json(200, &serde_json::json!("v1")),
            "/v1/system" => Response::json(200, &status),
            _ => Response::json(404, &serde_json::json!({"message": "no such route", "httpcode": 404})),
        });
        let cli = AnchoreCli::new(format!("{}/v1", server.url()), "admin", "foobar");

        let json = cli.run_json(&["system", "status"]);
        assert_eq!(json["service_states"][0]["servicename"], "apiext");
        let output = cli.run(&["system", "status"]);
        assert_eq!(output.code, Some(0), "{output:?}");
        assert!(output.stdout.contains("Service apiext (h1, http://h1): up"), "{output:?}");
        assert!(output.stdout.contains("Engine Code Version: 0.1.0"), "{output:?}");
        // base64("admin:foobar")
        let requests = server.requests();
        assert!(requests.iter().all(|r| r.header("authorization") == Some("Basic YWRtaW46Zm9vYmFy")), "{requests:?}");

        let output = cli.as_account("team").run(&["event", "list"]);
        assert_ne!(output.code, Some(0), "{output:?}");
        assert!(output.stdout.contains("no such route"), "{output:?}");
        assert!(server.requests().iter().any(|r| r.header("x-anchore-account") == Some("team")));
    }
}
