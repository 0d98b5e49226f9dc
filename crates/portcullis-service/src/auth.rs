//! Who is calling: accounts, users, password hashes, bearer tokens, and the
//! [`Caller`] extractor every scoped route takes.
//!
//! Each user belongs to one account; every route acts within the caller's
//! account. A user of an `admin` account may act for another account with the
//! `x-anchore-account` header, as in Anchore.

use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use portcullis_sql::{Database, now_rfc3339};
use sqlx::Row;

use crate::error::{ApiError, ServiceError};
use crate::state::AppState;

/// The account created on first start, and the name of its first user.
pub const ADMIN: &str = "admin";
/// How long a basic-auth login is trusted without re-hashing.
const LOGIN_CACHE_TTL: Duration = Duration::from_secs(60);
/// Lifetime of tokens from `POST /oauth/token`.
pub const TOKEN_TTL_SECONDS: i64 = 3600;

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub username: String,
    /// The account the user belongs to.
    pub user_account: String,
    /// The account the request acts in (differs when an admin sends `x-anchore-account`).
    pub account: String,
    /// Whether the user belongs to an admin account.
    pub is_admin: bool,
}

impl Caller {
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin { Ok(()) } else { Err(ApiError::forbidden("this operation needs a user of an admin account")) }
    }
}

#[derive(Debug, Clone)]
pub struct CachedLogin {
    identity: Identity,
    at: Instant,
}

#[derive(Debug, Clone)]
struct Identity {
    username: String,
    account: String,
    is_admin: bool,
}

pub fn hash_password(password: &str) -> Result<String, ServiceError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| ServiceError::Other(format!("cannot hash the password: {e}")))
}

fn verify_password(stored: &str, password: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, data).as_ref());
    out
}

/// A random secret of `bytes` bytes, URL-safe base64.
pub fn random_secret(bytes: usize) -> Result<String, ServiceError> {
    let mut buf = vec![0u8; bytes];
    SystemRandom::new().fill(&mut buf).map_err(|_| ServiceError::Other("the system random generator failed".into()))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// Creates the `admin` account and user when the catalog has no account yet.
/// Returns the password when it was generated (to be shown once).
pub async fn bootstrap_admin(db: &Database, password: Option<String>) -> Result<Option<String>, ServiceError> {
    let existing: i64 = sqlx::query("SELECT COUNT(*) AS n FROM accounts").fetch_one(db.pool()).await?.try_get("n")?;
    if existing > 0 {
        return Ok(None);
    }
    let (password, generated) = match password.filter(|p| !p.is_empty()) {
        Some(password) => (password, false),
        None => (random_secret(18)?, true),
    };
    let now = now_rfc3339();
    let mut tx = db.pool().begin().await?;
    sqlx::query(
        "INSERT INTO accounts (name, email, account_type, state, created_at, last_updated)
         VALUES ($1, NULL, 'admin', 'enabled', $2, $2) ON CONFLICT DO NOTHING",
    )
    .bind(ADMIN)
    .bind(&now)
    .execute(&mut *tx)
    .await?;
    let inserted = sqlx::query(
        "INSERT INTO users (username, account, password_hash, source, created_at, last_updated)
         VALUES ($1, $1, $2, 'native', $3, $3) ON CONFLICT DO NOTHING",
    )
    .bind(ADMIN)
    .bind(hash_password(&password)?)
    .bind(&now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    // Another process starting at the same time may have won the race.
    Ok((generated && inserted.rows_affected() == 1).then_some(password))
}

/// Checks a username and password; `None` when they do not match an
/// enabled user.
async fn login(state: &AppState, username: &str, password: &str) -> Result<Option<Identity>, ServiceError> {
    let key = sha256(format!("{username}\0{password}").as_bytes());
    if let Ok(cache) = state.login_cache.lock()
        && let Some(hit) = cache.get(&key)
        && hit.at.elapsed() < LOGIN_CACHE_TTL
    {
        return Ok(Some(hit.identity.clone()));
    }
    let row = sqlx::query(
        "SELECT u.password_hash, u.account, a.account_type, a.state FROM users u JOIN accounts a ON a.name = u.account
         WHERE u.username = $1",
    )
    .bind(username)
    .fetch_optional(state.db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let hash: Option<String> = row.try_get("password_hash")?;
    let account_state: String = row.try_get("state")?;
    if account_state != "enabled" || !hash.is_some_and(|hash| verify_password(&hash, password)) {
        return Ok(None);
    }
    let account_type: String = row.try_get("account_type")?;
    let identity =
        Identity { username: username.to_owned(), account: row.try_get("account")?, is_admin: account_type == "admin" };
    if let Ok(mut cache) = state.login_cache.lock() {
        cache.insert(key, CachedLogin { identity: identity.clone(), at: Instant::now() });
    }
    Ok(Some(identity))
}

/// Issues a bearer token for a verified user.
pub async fn issue_token(state: &AppState, username: &str, password: &str) -> Result<Option<String>, ApiError> {
    if login(state, username, password).await?.is_none() {
        return Ok(None);
    }
    let token = random_secret(32)?;
    sqlx::query("INSERT INTO api_tokens (token_hash, username, expires_at, created_at) VALUES ($1, $2, $3, $4)")
        .bind(hex::encode(sha256(token.as_bytes())))
        .bind(username)
        .bind(chrono::Utc::now().timestamp() + TOKEN_TTL_SECONDS)
        .bind(now_rfc3339())
        .execute(state.db.pool())
        .await?;
    Ok(Some(token))
}

async fn token_identity(state: &AppState, token: &str) -> Result<Option<Identity>, ServiceError> {
    let row = sqlx::query(
        "SELECT u.username, u.account, a.account_type, a.state FROM api_tokens t
         JOIN users u ON u.username = t.username JOIN accounts a ON a.name = u.account
         WHERE t.token_hash = $1 AND t.expires_at > $2",
    )
    .bind(hex::encode(sha256(token.as_bytes())))
    .bind(chrono::Utc::now().timestamp())
    .fetch_optional(state.db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let account_state: String = row.try_get("state")?;
    if account_state != "enabled" {
        return Ok(None);
    }
    let account_type: String = row.try_get("account_type")?;
    Ok(Some(Identity {
        username: row.try_get("username")?,
        account: row.try_get("account")?,
        is_admin: account_type == "admin",
    }))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(ApiError::unauthorized)?;
        let (scheme, value) = header.split_once(' ').ok_or_else(ApiError::unauthorized)?;
        let identity = match scheme.to_ascii_lowercase().as_str() {
            "basic" => {
                let decoded = STANDARD.decode(value.trim()).map_err(|_| ApiError::unauthorized())?;
                let text = String::from_utf8(decoded).map_err(|_| ApiError::unauthorized())?;
                let (username, password) = text.split_once(':').ok_or_else(ApiError::unauthorized)?;
                login(state, username, password).await?
            }
            "bearer" | "jwt" => token_identity(state, value.trim()).await?,
            _ => None,
        };
        let identity = identity.ok_or_else(|| {
            ApiError::new(axum::http::StatusCode::UNAUTHORIZED, "invalid credentials, or the account is disabled")
        })?;
        let mut account = identity.account.clone();
        if let Some(other) = parts.headers.get("x-anchore-account").and_then(|v| v.to_str().ok())
            && other != identity.account
        {
            if !identity.is_admin {
                return Err(ApiError::forbidden("only users of an admin account may act for another account"));
            }
            let exists = sqlx::query("SELECT name FROM accounts WHERE name = $1")
                .bind(other)
                .fetch_optional(state.db.pool())
                .await?;
            if exists.is_none() {
                return Err(ApiError::not_found(format!("account {other:?} does not exist")));
            }
            account = other.to_owned();
        }
        Ok(Caller { username: identity.username, user_account: identity.account, account, is_admin: identity.is_admin })
    }
}
