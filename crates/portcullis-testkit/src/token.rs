//! A bearer-token server for `auth: token` registries (distribution's token
//! auth spec): it checks Basic credentials, then signs an RS256 JWT whose
//! `x5c` header carries a self-signed certificate that the registry trusts
//! through its `rootcertbundle`.
//!
//! Keys, certificates and signatures come from the `openssl` CLI, which is on
//! every Debian machine, rather than an RSA crate: the kit stays free of
//! crypto dependencies and this is test code.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;

use crate::http::{HttpServer, Request, Response};

pub const ISSUER: &str = "portcullis-testkit";
pub const SERVICE: &str = "portcullis-test-registry";

pub struct TokenServer {
    server: HttpServer,
    cert_path: PathBuf,
    issued: Arc<AtomicUsize>,
}

struct Policy {
    user: String,
    password: String,
    anonymous_pull: bool,
    key_path: PathBuf,
    cert_der_b64: String,
    issued: Arc<AtomicUsize>,
}

impl TokenServer {
    /// Generates a key and certificate in `dir` and starts serving `/token`.
    pub fn start(dir: &Path, user: &str, password: &str, anonymous_pull: bool) -> TokenServer {
        let key_path = dir.join("token.key");
        let cert_path = dir.join("token.crt");
        let output = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=portcullis-testkit-token",
            ])
            .arg("-keyout")
            .arg(&key_path)
            .arg("-out")
            .arg(&cert_path)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                panic!("running openssl to make the token signing key (apt-get install -y openssl): {e}")
            });
        assert!(output.status.success(), "openssl req failed: {}", String::from_utf8_lossy(&output.stderr));
        let pem = std::fs::read_to_string(&cert_path).expect("reading the token certificate");
        // A PEM body is the base64 of the DER certificate, which is what x5c wants.
        let cert_der_b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let issued = Arc::new(AtomicUsize::new(0));
        let policy = Policy {
            user: user.to_owned(),
            password: password.to_owned(),
            anonymous_pull,
            key_path,
            cert_der_b64,
            issued: Arc::clone(&issued),
        };
        let server = HttpServer::start(move |request| policy.answer(request));
        TokenServer { server, cert_path, issued }
    }

    pub fn realm(&self) -> String {
        format!("{}/token", self.server.url())
    }

    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// Tokens handed out so far.
    pub fn issued(&self) -> usize {
        self.issued.load(Ordering::SeqCst)
    }

    /// Every request the token server received.
    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }
}

impl Policy {
    fn answer(&self, request: &Request) -> Response {
        if request.path() != "/token" {
            return Response::new(404);
        }
        let authenticated = match request.header("authorization").and_then(|h| h.strip_prefix("Basic ")) {
            Some(encoded) => {
                let decoded = STANDARD.decode(encoded.trim()).ok().and_then(|d| String::from_utf8(d).ok());
                if decoded.as_deref() != Some(&format!("{}:{}", self.user, self.password)) {
                    return Response::json(
                        401,
                        &json!({"errors": [{"code": "UNAUTHORIZED", "message": "wrong user name or password"}]}),
                    );
                }
                true
            }
            None => false,
        };
        if !authenticated && !self.anonymous_pull {
            return Response::json(
                401,
                &json!({"errors": [{"code": "UNAUTHORIZED", "message": "credentials required"}]}),
            )
            .header("WWW-Authenticate", "Basic realm=\"token\"");
        }
        let access: Vec<serde_json::Value> = request
            .query("scope")
            .iter()
            .flat_map(|scope| scope.split(' ').map(str::to_owned).collect::<Vec<_>>())
            .filter_map(|scope| {
                // type:name:actions, where the name may itself hold a ':' (host:port).
                let (kind, rest) = scope.split_once(':')?;
                let (name, actions) = rest.rsplit_once(':')?;
                let actions: Vec<&str> =
                    actions.split(',').filter(|a| authenticated || *a == "pull").filter(|a| !a.is_empty()).collect();
                Some(json!({"type": kind, "name": name, "actions": actions}))
            })
            .collect();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let service = request.query("service").into_iter().next().unwrap_or_default();
        let claims = json!({
            "iss": ISSUER,
            "sub": if authenticated { self.user.as_str() } else { "" },
            "aud": service,
            "exp": now + 300,
            "nbf": now.saturating_sub(10),
            "iat": now,
            "jti": format!("{now}-{}", self.issued.load(Ordering::SeqCst)),
            "access": access,
        });
        let header = json!({"typ": "JWT", "alg": "RS256", "x5c": [self.cert_der_b64]});
        let signing_input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature = match sign(&self.key_path, signing_input.as_bytes()) {
            Ok(signature) => signature,
            Err(e) => return Response::new(500).body(e),
        };
        let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature));
        self.issued.fetch_add(1, Ordering::SeqCst);
        Response::json(200, &json!({"token": token, "access_token": token, "expires_in": 300}))
    }
}

/// RSASSA-PKCS1-v1_5 with SHA-256, i.e. JWS `RS256`.
fn sign(key: &Path, data: &[u8]) -> Result<Vec<u8>, String> {
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running openssl dgst: {e}"))?;
    child
        .stdin
        .take()
        .ok_or_else(|| "openssl dgst: no stdin".to_owned())?
        .write_all(data)
        .map_err(|e| e.to_string())?;
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!("openssl dgst failed: {}", String::from_utf8_lossy(&output.stderr)));
    }
    Ok(output.stdout)
}
