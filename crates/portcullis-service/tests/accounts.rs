//! Accounts, users and credentials through the API, on both engines: who
//! may do what, validation, logins that follow every change at once, the
//! background removal of a deleted account, and the real anchore-cli.

mod common;

use common::{ADMIN_PASSWORD, Engine, TestServer};
use portcullis_service::events::{self, NewEvent};
use portcullis_testkit::anchore_cli::AnchoreCli;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Row;

async fn body(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn admin(server: &TestServer, method: Method, path: &str, json: Option<Value>) -> (StatusCode, Value) {
    let mut request = server.admin(method, path);
    if let Some(json) = json {
        request = request.json(&json);
    }
    body(request.send().await.unwrap()).await
}

async fn user(
    server: &TestServer,
    who: (&str, &str),
    method: Method,
    path: &str,
    json: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = server.as_user(who.0, who.1, method, path);
    if let Some(json) = json {
        request = request.json(&json);
    }
    body(request.send().await.unwrap()).await
}

fn message(body: &Value) -> &str {
    body["message"].as_str().unwrap_or_default()
}

async fn create_account_with_user(server: &TestServer, account: &str, username: &str, password: &str) {
    let (status, created) = admin(server, Method::POST, "/accounts", Some(json!({"name": account}))).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let path = format!("/accounts/{account}/users");
    let (status, created) =
        admin(server, Method::POST, &path, Some(json!({"username": username, "password": password}))).await;
    assert_eq!(status, StatusCode::OK, "{created}");
}

async fn accounts_and_users(engine: Engine) {
    let server = TestServer::start(engine).await;
    let alice = ("alice", "alice-pass-1");

    // Only an authenticated admin manages accounts.
    let anonymous = server.client.get(server.url("/accounts")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let (status, list) = admin(&server, Method::GET, "/accounts", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!((list[0]["name"].as_str(), list[0]["type"].as_str()), (Some("admin"), Some("admin")));

    let (status, account) =
        admin(&server, Method::POST, "/accounts", Some(json!({"name": "team-a", "email": "a@example.com"}))).await;
    assert_eq!(status, StatusCode::OK, "{account}");
    assert_eq!(account["type"], "user");
    assert_eq!(account["state"], "enabled");
    assert_eq!(account["email"], "a@example.com");
    assert!(account["created_at"].as_str().unwrap().ends_with('Z'));

    // Precise 400s and 409s.
    let (status, err) = admin(&server, Method::POST, "/accounts", Some(json!({"name": "team-a"}))).await;
    assert_eq!((status, message(&err)), (StatusCode::CONFLICT, "account \"team-a\" already exists"));
    let (status, err) = admin(&server, Method::POST, "/accounts", Some(json!({"name": "ab"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&err).contains("3 to 128 characters long, not 2"), "{err}");
    assert_eq!(err["error_type"], "ValidationError");
    let (status, err) = admin(&server, Method::POST, "/accounts", Some(json!({"name": "team/x"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&err).contains("'/' is not allowed"), "{err}");
    let (status, err) =
        admin(&server, Method::POST, "/accounts", Some(json!({"name": "team-x", "email": "nope"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&err).contains("invalid email"), "{err}");
    let (status, err) = admin(&server, Method::POST, "/accounts", Some(json!({"email": "x@example.com"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&err).contains("missing field `name`"), "{err}");
    let garbled = server.admin(Method::POST, "/accounts").body("{not json").send().await.unwrap();
    assert_eq!(garbled.status(), StatusCode::BAD_REQUEST);

    let (status, _) = admin(&server, Method::GET, "/accounts/team-a", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, err) = admin(&server, Method::GET, "/accounts/ghost", None).await;
    assert_eq!((status, message(&err)), (StatusCode::NOT_FOUND, "account \"ghost\" does not exist"));
    let (status, filtered) = admin(&server, Method::GET, "/accounts?state=disabled", None).await;
    assert_eq!((status, filtered), (StatusCode::OK, json!([])));
    let (status, _) = admin(&server, Method::GET, "/accounts?state=asleep", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Users: native, a null source, no password in any answer.
    let (status, created) =
        admin(&server, Method::POST, "/accounts/team-a/users", Some(json!({"username": alice.0, "password": alice.1})))
            .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!((created["username"].as_str(), created["type"].as_str()), (Some("alice"), Some("native")));
    assert!(created["source"].is_null());
    assert!(!created.to_string().contains(alice.1));
    // Usernames are unique across accounts.
    let (status, err) = admin(
        &server,
        Method::POST,
        "/accounts/admin/users",
        Some(json!({"username": "alice", "password": "another-pass"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message(&err).contains("unique across all accounts"), "{err}");
    let (status, err) =
        admin(&server, Method::POST, "/accounts/team-a/users", Some(json!({"username": "bobby", "password": "short"})))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&err).contains("6 to 128 characters long, not 5"), "{err}");
    let (status, _) = admin(
        &server,
        Method::POST,
        "/accounts/team-a/users",
        Some(json!({"username": "b:b", "password": "long-enough"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = admin(
        &server,
        Method::POST,
        "/accounts/ghost/users",
        Some(json!({"username": "ghosty", "password": "long-enough"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, users) = admin(&server, Method::GET, "/accounts/team-a/users", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(users.as_array().unwrap().len(), 1);
    let (status, _) = admin(&server, Method::GET, "/accounts/ghost/users", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = admin(&server, Method::GET, "/accounts/team-a/users/nobody", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // What a plain user sees and may do.
    let (status, mine) = user(&server, alice, Method::GET, "/account", None).await;
    assert_eq!((status, mine["name"].as_str()), (StatusCode::OK, Some("team-a")));
    let (status, me) = user(&server, alice, Method::GET, "/user", None).await;
    assert_eq!((status, me["username"].as_str()), (StatusCode::OK, Some("alice")));
    let (status, _) = user(&server, alice, Method::GET, "/accounts/team-a/users/alice", None).await;
    assert_eq!(status, StatusCode::OK);
    for (method, path) in [
        (Method::GET, "/accounts"),
        (Method::POST, "/accounts"),
        (Method::GET, "/accounts/team-a"),
        (Method::GET, "/accounts/team-a/users"),
        (Method::GET, "/accounts/admin/users/admin"),
        (Method::POST, "/accounts/admin/users/admin/credentials"),
        (Method::DELETE, "/accounts/team-a/users/alice"),
        (Method::DELETE, "/accounts/team-a/users/alice/credentials"),
        (Method::PUT, "/accounts/team-a/state"),
        (Method::DELETE, "/accounts/team-a"),
    ] {
        let body = Some(json!({"name": "x", "state": "disabled", "type": "password", "value": "hijacked!"}));
        let (status, err) = user(&server, alice, method.clone(), path, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {err}");
    }
    let response = server
        .as_user(alice.0, alice.1, Method::GET, "/account")
        .header("x-anchore-account", "admin")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // An admin acting for team-a reads team-a as its account, itself as its user.
    let acting = server.admin(Method::GET, "/account").header("x-anchore-account", "team-a").send().await.unwrap();
    assert_eq!(body(acting).await.1["name"], "team-a");

    // A second account's user sees nothing of the first.
    create_account_with_user(&server, "team-b", "bob", "bob-pass-1").await;
    let bob = ("bob", "bob-pass-1");
    let (status, _) = user(&server, bob, Method::GET, "/accounts/team-a/users/alice", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = user(&server, bob, Method::GET, "/accounts/team-a/users/alice/credentials", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, mine) = user(&server, bob, Method::GET, "/account", None).await;
    assert_eq!((status, mine["name"].as_str()), (StatusCode::OK, Some("team-b")));

    // A password change takes effect at once, though the old login is cached,
    // and revokes the user's tokens.
    let token = server
        .client
        .post(server.url("/oauth/token"))
        .form(&[("grant_type", "password"), ("username", alice.0), ("password", alice.1)])
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let with_token = server.client.get(server.url("/user")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(with_token.status(), StatusCode::OK);
    let (status, credentials) =
        user(&server, alice, Method::GET, "/accounts/team-a/users/alice/credentials", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(credentials[0]["type"], "password");
    assert_eq!(credentials[0]["value"], "********");
    let (status, err) = user(
        &server,
        alice,
        Method::POST,
        "/accounts/team-a/users/alice/credentials",
        Some(json!({"type": "token", "value": "whatever-1"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&err).contains("the only type is \"password\""), "{err}");
    let (status, err) = user(
        &server,
        alice,
        Method::POST,
        "/accounts/team-a/users/alice/credentials",
        Some(json!({"type": "password", "value": "tiny"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    let (status, changed) = user(
        &server,
        alice,
        Method::POST,
        "/accounts/team-a/users/alice/credentials",
        Some(json!({"type": "password", "value": "alice-pass-2"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["username"], "alice");
    assert!(!changed.to_string().contains("alice-pass-2"));
    let (status, _) = user(&server, alice, Method::GET, "/user", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old password still works");
    let with_token = server.client.get(server.url("/user")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(with_token.status(), StatusCode::UNAUTHORIZED, "the token survived the password change");
    let alice = ("alice", "alice-pass-2");
    let (status, _) = user(&server, alice, Method::GET, "/user", None).await;
    assert_eq!(status, StatusCode::OK);
    // Through /user/credentials as well.
    let (status, _) = user(
        &server,
        alice,
        Method::POST,
        "/user/credentials",
        Some(json!({"type": "password", "value": "alice-pass-3"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = user(&server, alice, Method::GET, "/user/credentials", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let alice = ("alice", "alice-pass-3");
    let (status, credentials) = user(&server, alice, Method::GET, "/user/credentials", None).await;
    assert_eq!((status, credentials.as_array().map(Vec::len)), (StatusCode::OK, Some(1)));
    let (status, _) = user(&server, alice, Method::POST, "/user/credentials", Some(json!({"value": 1}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A disabled account's users cannot log in; enabling lets them back.
    let (status, state) =
        admin(&server, Method::PUT, "/accounts/team-a/state", Some(json!({"state": "disabled"}))).await;
    assert_eq!((status, state), (StatusCode::OK, json!({"state": "disabled"})));
    let (status, _) = user(&server, alice, Method::GET, "/user", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = admin(&server, Method::PUT, "/accounts/team-a/state", Some(json!({"state": "enabled"}))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = user(&server, alice, Method::GET, "/user", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, err) = admin(&server, Method::PUT, "/accounts/team-a/state", Some(json!({"state": "deleting"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&err).contains("DELETE /accounts/team-a"), "{err}");
    let (status, _) = admin(&server, Method::PUT, "/accounts/team-a/state", Some(json!({"state": "asleep"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = admin(&server, Method::PUT, "/accounts/ghost/state", Some(json!({"state": "disabled"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, err) = admin(&server, Method::PUT, "/accounts/admin/state", Some(json!({"state": "disabled"}))).await;
    assert_eq!((status, message(&err)), (StatusCode::BAD_REQUEST, "the admin account \"admin\" cannot be disabled"));

    // Deleting: never the admin account, only a disabled one.
    let (status, err) = admin(&server, Method::DELETE, "/accounts/admin", None).await;
    assert_eq!((status, message(&err)), (StatusCode::BAD_REQUEST, "the admin account \"admin\" cannot be deleted"));
    let (status, err) = admin(&server, Method::DELETE, "/accounts/team-a", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&err).starts_with("Invalid account state change requested"), "{err}");
    let (status, _) = admin(&server, Method::DELETE, "/accounts/ghost", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Users: deleting one (and its login), never oneself; removing a password.
    let (status, _) = admin(&server, Method::DELETE, "/accounts/team-b/users/bob", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = user(&server, bob, Method::GET, "/user", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = admin(&server, Method::DELETE, "/accounts/team-b/users/bob", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, err) = admin(&server, Method::DELETE, "/accounts/admin/users/admin", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message(&err).contains("cannot delete itself"), "{err}");
    let (status, _) =
        admin(&server, Method::DELETE, "/accounts/team-a/users/alice/credentials?credential_type=token", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = admin(&server, Method::DELETE, "/accounts/team-a/users/alice/credentials", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = user(&server, alice, Method::GET, "/user", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, credentials) = admin(&server, Method::GET, "/accounts/team-a/users/alice/credentials", None).await;
    assert_eq!((status, credentials), (StatusCode::OK, json!([])));
    server.stop().await;
}

#[tokio::test]
async fn accounts_and_users_on_sqlite() {
    accounts_and_users(Engine::Sqlite).await;
}

#[tokio::test]
async fn accounts_and_users_on_postgres() {
    accounts_and_users(Engine::Postgres).await;
}

async fn count(server: &TestServer, sql: &str) -> i64 {
    let state = server.service.as_ref().unwrap().state();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind("team-d")
        .fetch_one(state.db.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

/// A deleted account turns `deleting`, its users are locked out at once, and
/// the cleanup removes its documents and rows (waiting for a running job).
async fn account_deletion(engine: Engine) {
    let server = TestServer::start(engine).await;
    create_account_with_user(&server, "team-d", "dora", "dora-pass-1").await;
    create_account_with_user(&server, "team-e", "eve", "eve-pass-1").await;
    let state = server.service.as_ref().unwrap().state().clone();
    for account in ["team-d", "team-e"] {
        state.docs.put(account, "analysis_data", "sha256:abc", b"{\"kept\": true}").await.unwrap();
        events::record(
            &state,
            NewEvent {
                account,
                event_type: "user.image.analysis.completed",
                level: "info",
                resource_type: "image_digest",
                resource_id: "sha256:abc",
                message: "done".into(),
                details: json!({}),
            },
        )
        .await;
    }
    // A job of team-d still running (its lease is live) holds the cleanup back.
    state.queue.enqueue("test_jobs", "team-d", "running", &json!({}), 3).await.unwrap();
    state.queue.claim("test_jobs", "worker-1", 3600).await.unwrap().unwrap();
    state.queue.enqueue("test_jobs", "team-d", "waiting", &json!({}), 3).await.unwrap();

    let (status, _) = admin(&server, Method::PUT, "/accounts/team-d/state", Some(json!({"state": "disabled"}))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = admin(&server, Method::DELETE, "/accounts/team-d", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // Deleting again is harmless; the name stays taken until the account is gone.
    let (status, _) = admin(&server, Method::DELETE, "/accounts/team-d", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, account) = admin(&server, Method::GET, "/accounts/team-d", None).await;
    assert_eq!((status, account["state"].as_str()), (StatusCode::OK, Some("deleting")));
    let (status, err) = admin(&server, Method::POST, "/accounts", Some(json!({"name": "team-d"}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message(&err).contains("is being deleted"), "{err}");
    let (status, _) = admin(&server, Method::PUT, "/accounts/team-d/state", Some(json!({"state": "enabled"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = admin(
        &server,
        Method::POST,
        "/accounts/team-d/users",
        Some(json!({"username": "dan", "password": "dan-pass-1"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = user(&server, ("dora", "dora-pass-1"), Method::GET, "/user", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    portcullis_service::accounts::cleanup(&state).await.unwrap();
    assert_eq!(count(&server, "SELECT COUNT(*) FROM accounts WHERE name = $1").await, 1, "removed under a running job");
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM work_queue WHERE account = $1 AND state = 'cancelled'").await,
        1,
        "the waiting job is cancelled"
    );
    // The worker dies: once its lease has run out, the scheduled cleanup goes ahead.
    sqlx::query("UPDATE work_queue SET lease_expires = 0 WHERE account = 'team-d'")
        .execute(state.db.pool())
        .await
        .unwrap();
    portcullis_service::scheduler::trigger(&state, portcullis_service::accounts::CLEANUP_WATCHER).await.unwrap();
    let mut gone = false;
    for _ in 0..600 {
        let (status, _) = admin(&server, Method::GET, "/accounts/team-d", None).await;
        if status == StatusCode::NOT_FOUND {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(gone, "the scheduled cleanup did not remove the account");
    for table in ["users", "events", "work_queue", "objstore_documents"] {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE account = $1");
        assert_eq!(count(&server, &sql).await, 0, "{table}");
    }
    assert!(state.docs.list(Some("team-d"), None).await.unwrap().is_empty());
    // The other account keeps everything.
    assert_eq!(state.docs.get("team-e", "analysis_data", "sha256:abc").await.unwrap().unwrap(), b"{\"kept\": true}");
    let (status, _) = user(&server, ("eve", "eve-pass-1"), Method::GET, "/user", None).await;
    assert_eq!(status, StatusCode::OK);
    // The name is free again.
    let (status, _) = admin(&server, Method::POST, "/accounts", Some(json!({"name": "team-d"}))).await;
    assert_eq!(status, StatusCode::OK);
    server.stop().await;
}

#[tokio::test]
async fn account_deletion_on_sqlite() {
    account_deletion(Engine::Sqlite).await;
}

#[tokio::test]
async fn account_deletion_on_postgres() {
    account_deletion(Engine::Postgres).await;
}

/// anchore-cli's `account` commands, run for real.
async fn anchore_cli_accounts(engine: Engine) {
    let server = TestServer::start(engine).await;
    let base = server.base.clone();
    tokio::task::spawn_blocking(move || {
        let cli = AnchoreCli::new(&base, "admin", ADMIN_PASSWORD);
        let output = cli.run(&["account", "add", "team-c", "--email", "c@example.com"]);
        assert_eq!(output.code, Some(0), "{output:?}");
        assert!(output.stdout.contains("Name: team-c") && output.stdout.contains("Email: c@example.com"), "{output:?}");
        let account = cli.run_json(&["account", "get", "team-c"]);
        assert_eq!((account["name"].as_str(), account["state"].as_str()), (Some("team-c"), Some("enabled")));
        let output = cli.run(&["account", "list"]);
        assert!(output.stdout.contains("team-c") && output.stdout.contains("admin"), "{output:?}");
        let output = cli.run(&["account", "user", "add", "carol", "carol-pass-1", "--account", "team-c"]);
        assert_eq!(output.code, Some(0), "{output:?}");
        assert!(output.stdout.contains("Name: carol") && output.stdout.contains("Type: native"), "{output:?}");
        let user = cli.run_json(&["account", "user", "get", "carol", "--account", "team-c"]);
        assert_eq!(user["username"], "carol");
        let users = cli.run_json(&["account", "user", "list", "--account", "team-c"]);
        assert_eq!(users.as_array().map(Vec::len), Some(1));
        let output = cli.run(&["account", "whoami"]);
        assert!(
            output.stdout.contains("Username: admin") && output.stdout.contains("AccountType: admin"),
            "{output:?}"
        );

        // carol changes her own password with the account and user anchore-cli looks up itself.
        let carol = AnchoreCli::new(&base, "carol", "carol-pass-1");
        let output = carol.run(&["account", "whoami"]);
        assert!(
            output.stdout.contains("Username: carol") && output.stdout.contains("AccountName: team-c"),
            "{output:?}"
        );
        let output = carol.run(&["account", "user", "setpassword", "carol-pass-2"]);
        assert!(output.stdout.contains("Password (re)set success"), "{output:?}");
        assert_ne!(carol.run(&["account", "whoami"]).code, Some(0));
        let carol = AnchoreCli::new(&base, "carol", "carol-pass-2");
        assert_eq!(carol.run(&["account", "whoami"]).code, Some(0));
        // Not an admin: no account listing.
        let output = carol.run(&["account", "list"]);
        assert_ne!(output.code, Some(0), "{output:?}");
        assert!(output.stdout.contains("403"), "{output:?}");

        let output = cli.run(&["account", "disable", "team-c"]);
        assert_eq!((output.code, output.stdout.trim()), (Some(0), "Success"), "{output:?}");
        assert_ne!(carol.run(&["account", "whoami"]).code, Some(0));
        let output = cli.run(&["account", "enable", "team-c"]);
        assert_eq!(output.code, Some(0), "{output:?}");
        assert_eq!(carol.run(&["account", "whoami"]).code, Some(0));
        let output = cli.run(&["account", "del", "team-c", "--dontask"]);
        assert_ne!(output.code, Some(0), "{output:?}");
        assert!(output.stdout.contains("accounts must be disabled"), "{output:?}");
        let output = cli.run(&["account", "user", "del", "carol", "--account", "team-c"]);
        assert_eq!(output.code, Some(0), "{output:?}");
        assert_eq!(cli.run(&["account", "disable", "team-c"]).code, Some(0));
        let output = cli.run(&["account", "del", "team-c", "--dontask"]);
        assert_eq!((output.code, output.stdout.trim()), (Some(0), "Success"), "{output:?}");
    })
    .await
    .unwrap();
    server.stop().await;
}

#[tokio::test]
async fn anchore_cli_accounts_on_sqlite() {
    anchore_cli_accounts(Engine::Sqlite).await;
}

#[tokio::test]
async fn anchore_cli_accounts_on_postgres() {
    anchore_cli_accounts(Engine::Postgres).await;
}
