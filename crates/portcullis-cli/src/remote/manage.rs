//! `policy`, `subscription`, `repo`, `registry`, `system`, `event` and `account`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use portcullis_api::*;

use super::{NotFound, Session, render};

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Upload a policy bundle (JSON).
    Add { file: PathBuf },
    /// Show a bundle's record; with --detail, the bundle document.
    Get {
        id: String,
        #[arg(long)]
        detail: bool,
    },
    /// List the bundles.
    List,
    /// Make a bundle the one evaluations use.
    Activate { id: String },
    /// Delete a bundle (not the active one).
    #[command(alias = "delete")]
    Del { id: String },
}

pub fn policy(session: &Session, command: PolicyCommand) -> Result<u8> {
    match command {
        PolicyCommand::Add { file } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let bundle: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a JSON policy bundle", file.display()))?;
            let record = session.client.add_policy(&bundle)?;
            session.show(&record, |record| policy_records(std::slice::from_ref(record)))?;
        }
        PolicyCommand::Get { id, detail } => {
            let records = session.client.get_policy(&id, detail)?;
            session.show(&records, |records| match records.first().and_then(|r| r.policybundle.as_ref()) {
                Some(bundle) if detail => serde_json::to_string_pretty(bundle).unwrap_or_default(),
                _ => policy_records(records),
            })?;
        }
        PolicyCommand::List => {
            let mut records = session.client.list_policies(false)?;
            records.sort_by_key(|record| !record.active);
            session.show(&records, |records| {
                let rows = records.iter().map(|record| {
                    vec![
                        record.policy_id.clone(),
                        python_bool(record.active),
                        record.created_at.to_rfc3339(),
                        record.last_updated.to_rfc3339(),
                    ]
                });
                render::table(&["Policy ID", "Active", "Created", "Updated"], rows.collect::<Vec<_>>())
            })?;
        }
        PolicyCommand::Activate { id } => {
            let mut record = session
                .client
                .get_policy(&id, true)?
                .into_iter()
                .next()
                .ok_or_else(|| NotFound(format!("the server has no policy {id}")))?;
            record.active = true;
            let records = session.client.update_policy(&id, &record)?;
            session.show(&records, |_| format!("Success: {id} activated"))?;
        }
        PolicyCommand::Del { id } => {
            session.client.delete_policy(&id)?;
            session.success()?;
        }
    }
    Ok(0)
}

fn policy_records(records: &[PolicyBundleRecord]) -> String {
    records
        .iter()
        .map(|record| {
            render::block(&[
                ("Policy ID", record.policy_id.clone()),
                ("Active", python_bool(record.active)),
                ("Source", record.policy_source.clone()),
                ("Created", record.created_at.to_rfc3339()),
                ("Updated", record.last_updated.to_rfc3339()),
            ])
        })
        .collect()
}

/// Python's `str(bool)`, which `anchore-cli` prints.
pub(super) fn python_bool(value: bool) -> String {
    if value { "True" } else { "False" }.to_owned()
}

#[derive(Subcommand)]
pub enum SubscriptionCommand {
    /// List subscriptions.
    List {
        /// Also show the subscription ids.
        #[arg(long)]
        full: bool,
    },
    /// Activate the TYPE subscription of KEY (a full tag; `registry/repo` for repo_update).
    Activate {
        #[arg(value_parser = subscription_type)]
        kind: SubscriptionType,
        key: String,
    },
    /// Deactivate the TYPE subscription of KEY.
    Deactivate {
        #[arg(value_parser = subscription_type)]
        kind: SubscriptionType,
        key: String,
    },
    /// Delete the TYPE subscription of KEY.
    #[command(alias = "delete")]
    Del {
        #[arg(value_parser = subscription_type)]
        kind: SubscriptionType,
        key: String,
    },
}

/// Parses a subscription type argument (`tag_update`, ...).
fn subscription_type(text: &str) -> Result<SubscriptionType, String> {
    SubscriptionType::parse(text).ok_or_else(|| {
        let names: Vec<&str> = SubscriptionType::ALL.iter().map(|kind| kind.as_str()).collect();
        format!("unknown subscription type {text:?}; use one of {}", names.join(", "))
    })
}

/// The one subscription of `kind` on `key`.
fn find_subscription(session: &Session, kind: SubscriptionType, key: &str) -> Result<Subscription> {
    let query = SubscriptionQuery { subscription_key: Some(key.to_owned()), subscription_type: Some(kind) };
    session
        .client
        .list_subscriptions(&query)?
        .into_iter()
        .find(|subscription| subscription.subscription_type == kind && subscription.subscription_key == key)
        .ok_or_else(|| NotFound(format!("no {kind} subscription for {key}")).into())
}

fn set_active(session: &Session, kind: SubscriptionType, key: &str, active: bool) -> Result<Vec<Subscription>> {
    let subscription = find_subscription(session, kind, key)?;
    let update = SubscriptionUpdate {
        active: Some(active),
        subscription_value: None,
        subscription_key: Some(key.to_owned()),
        subscription_type: Some(kind),
    };
    Ok(session.client.update_subscription(&subscription.subscription_id, &update)?)
}

pub fn subscription(session: &Session, command: SubscriptionCommand) -> Result<u8> {
    match command {
        SubscriptionCommand::List { full } => {
            let subscriptions = session.client.list_subscriptions(&SubscriptionQuery::default())?;
            session.show(&subscriptions, |subscriptions| subscriptions_table(subscriptions, full))?;
        }
        SubscriptionCommand::Activate { kind, key } => {
            let updated = set_active(session, kind, &key, true)?;
            session.show(&updated, |_| "Success".to_owned())?;
        }
        SubscriptionCommand::Deactivate { kind, key } => {
            let updated = set_active(session, kind, &key, false)?;
            session.show(&updated, |_| "Success".to_owned())?;
        }
        SubscriptionCommand::Del { kind, key } => {
            let subscription = find_subscription(session, kind, &key)?;
            session.client.delete_subscription(&subscription.subscription_id)?;
            session.success()?;
        }
    }
    Ok(0)
}

pub fn subscriptions_table(subscriptions: &[Subscription], full: bool) -> String {
    let mut header = vec!["Tag", "Subscription Type", "Active"];
    if full {
        header.push("Subscription ID");
    }
    let mut rows: Vec<Vec<String>> = subscriptions
        .iter()
        .map(|s| {
            let mut row = vec![s.subscription_key.clone(), s.subscription_type.to_string(), python_bool(s.active)];
            if full {
                row.push(s.subscription_id.clone());
            }
            row
        })
        .collect();
    rows.sort();
    render::table(&header, rows)
}

#[derive(Subcommand)]
pub enum RepoCommand {
    /// Watch a repository (`registry/repo`): analyze every tag, now and as they appear.
    Add {
        repo: String,
        /// Do not watch the added tags for new digests.
        #[arg(long)]
        noautosubscribe: bool,
        /// List what would be added without adding it.
        #[arg(long)]
        dryrun: bool,
    },
    /// List watched repositories.
    List,
    /// Resume watching a repository.
    Watch { repo: String },
    /// Stop watching a repository.
    Unwatch { repo: String },
    /// Forget a repository (its images stay).
    #[command(alias = "delete")]
    Del { repo: String },
}

pub fn repo(session: &Session, command: RepoCommand) -> Result<u8> {
    let kind = SubscriptionType::RepoUpdate;
    let records = match command {
        RepoCommand::Add { repo, noautosubscribe, dryrun } => {
            let query = RepositoryQuery {
                repository: repo,
                autosubscribe: Some(!noautosubscribe),
                dryrun: Some(dryrun),
                lookuptag: None,
            };
            session.client.add_repository(&query)?
        }
        RepoCommand::List => session
            .client
            .list_subscriptions(&SubscriptionQuery { subscription_key: None, subscription_type: Some(kind) })?,
        RepoCommand::Watch { repo } => set_active(session, kind, &repo, true)?,
        RepoCommand::Unwatch { repo } => set_active(session, kind, &repo, false)?,
        RepoCommand::Del { repo } => {
            let subscription = find_subscription(session, kind, &repo)?;
            session.client.delete_subscription(&subscription.subscription_id)?;
            session.success()?;
            return Ok(0);
        }
    };
    session.show(&records, |records| repos_table(records))?;
    Ok(0)
}

pub fn repos_table(records: &[Subscription]) -> String {
    let mut rows: Vec<Vec<String>> = records
        .iter()
        .map(|record| {
            let tags = record
                .subscription_value
                .as_deref()
                .and_then(|value| serde_json::from_str::<RepoSubscriptionValue>(value).ok())
                .map_or_else(|| "N/A".to_owned(), |value| value.tagcount.to_string());
            vec![record.subscription_key.clone(), python_bool(record.active), tags]
        })
        .collect();
    rows.sort();
    render::table(&["Repository", "Watched", "TagCount"], rows)
}

#[derive(Subcommand)]
pub enum RegistryCommand {
    /// Store credentials for a registry (`host[:port][/repo][*]`).
    Add(RegistryArgs),
    /// Replace a registry's credentials.
    Update(RegistryArgs),
    /// Delete a registry's credentials.
    #[command(alias = "delete")]
    Del { registry: String },
    /// List registries.
    List,
    /// Show a registry.
    Get { registry: String },
}

#[derive(clap::Args)]
pub struct RegistryArgs {
    pub registry: String,
    // Ids of their own: `user` and `password` are the global connection options.
    #[arg(id = "registry_user", value_name = "USER")]
    pub user: String,
    #[arg(id = "registry_pass", value_name = "PASS")]
    pub pass: String,
    /// docker_v2 or awsecr.
    #[arg(long, default_value = "docker_v2")]
    pub registry_type: String,
    /// A name to show for the registry.
    #[arg(long)]
    pub registry_name: Option<String>,
    /// Do not verify the registry's TLS certificate.
    #[arg(long)]
    pub insecure: bool,
    /// Save without logging in to the registry first.
    #[arg(long)]
    pub skip_validate: bool,
}

impl RegistryArgs {
    pub fn request(&self) -> RegistryConfigurationRequest {
        RegistryConfigurationRequest {
            registry: self.registry.clone(),
            registry_name: self.registry_name.clone(),
            registry_user: self.user.clone(),
            registry_pass: self.pass.clone(),
            registry_type: Some(self.registry_type.clone()),
            registry_verify: !self.insecure,
        }
    }
}

pub fn registry(session: &Session, command: RegistryCommand) -> Result<u8> {
    let records = match command {
        RegistryCommand::Add(args) => session.client.add_registry(&args.request(), !args.skip_validate)?,
        RegistryCommand::Update(args) => session.client.update_registry(&args.request(), !args.skip_validate)?,
        RegistryCommand::Del { registry } => {
            session.client.delete_registry(&registry)?;
            session.success()?;
            return Ok(0);
        }
        RegistryCommand::List => {
            let records = session.client.list_registries()?;
            session.show(&records, |records| {
                let mut rows: Vec<Vec<String>> = records
                    .iter()
                    .map(|r| {
                        let name = r.registry_name.clone().unwrap_or_else(|| "N/A".to_owned());
                        vec![r.registry.clone(), name, r.registry_type.clone(), r.registry_user.clone()]
                    })
                    .collect();
                rows.sort();
                render::table(&["Registry", "Name", "Type", "User"], rows)
            })?;
            return Ok(0);
        }
        RegistryCommand::Get { registry } => session.client.get_registry(&registry)?,
    };
    session.show(&records, |records| {
        records
            .iter()
            .map(|r| {
                render::block(&[
                    ("Registry", r.registry.clone()),
                    ("Name", render::or_none(r.registry_name.clone())),
                    ("User", r.registry_user.clone()),
                    ("Type", r.registry_type.clone()),
                    ("Verify TLS", python_bool(r.registry_verify)),
                    ("Created", r.created_at.to_rfc3339()),
                    ("Updated", r.last_updated.to_rfc3339()),
                ])
            })
            .collect()
    })?;
    Ok(0)
}

#[derive(Subcommand)]
pub enum SystemCommand {
    /// Show the services and their state.
    Status,
    /// Vulnerability feeds: list, sync.
    #[command(subcommand)]
    Feeds(FeedsCommand),
    /// Wait until every service is up and (unless --no-feeds) every feed group has synced.
    Wait {
        /// Give up after this many seconds (0 = wait forever).
        #[arg(long, value_name = "SECONDS", default_value_t = 0)]
        timeout: u64,
        /// Seconds between polls.
        #[arg(long, value_name = "SECONDS", default_value_t = 5)]
        interval: u64,
        /// Do not wait for the feeds.
        #[arg(long)]
        no_feeds: bool,
    },
}

#[derive(Subcommand)]
pub enum FeedsCommand {
    /// List feeds and groups with their last sync and record count.
    List,
    /// Sync now and wait for the result.
    Sync {
        /// Drop the stored data first.
        #[arg(long)]
        flush: bool,
    },
}

pub fn system(session: &Session, command: SystemCommand, quiet: bool) -> Result<u8> {
    match command {
        SystemCommand::Status => {
            let status = session.client.system_status()?;
            session.show(&status, system_status)?;
        }
        SystemCommand::Feeds(FeedsCommand::List) => {
            let feeds = session.client.list_feeds()?;
            session.show(&feeds, |feeds| feeds_table(feeds))?;
        }
        SystemCommand::Feeds(FeedsCommand::Sync { flush }) => {
            let results = session.client.sync_feeds(flush)?;
            session.show(&results, |results| {
                let rows = results.iter().flat_map(|feed| {
                    feed.groups.iter().map(move |group| {
                        vec![
                            feed.feed.clone(),
                            group.group.clone(),
                            format!("{:?}", group.status).to_lowercase(),
                            group.updated_record_count.to_string(),
                            format!("{:.2}s", group.total_time_seconds),
                        ]
                    })
                });
                render::table(
                    &["Feed", "Group", "Status", "Records Updated", "Sync Duration"],
                    rows.collect::<Vec<_>>(),
                )
            })?;
            let failed = results.iter().any(|feed| feed.status == SyncStatus::Failure);
            return Ok(u8::from(failed));
        }
        SystemCommand::Wait { timeout, interval, no_feeds } => {
            let started = Instant::now();
            let show_progress = !quiet && !session.json && std::io::stderr().is_terminal();
            let spinner = crate::progress::spinner(show_progress, "waiting for the server");
            loop {
                let waiting_for = match session.client.system_status() {
                    Ok(status) => match status.service_states.iter().find(|service| !service.status) {
                        Some(service) => format!("service {} ({})", service.servicename, service.status_message),
                        None if no_feeds => break,
                        None => match unsynced_feed(&session.client.list_feeds()?) {
                            Some(what) => what,
                            None => break,
                        },
                    },
                    Err(error @ portcullis_client::ClientError::Unreachable { .. }) => error.to_string(),
                    Err(error) => return Err(error.into()),
                };
                spinner.set_message(&format!("waiting for {waiting_for}"));
                if timeout > 0 && started.elapsed() >= Duration::from_secs(timeout) {
                    bail!("still waiting for {waiting_for} after {timeout} s");
                }
                std::thread::sleep(Duration::from_secs(interval.max(1)));
            }
            drop(spinner);
            session.show(&serde_json::json!({"ready": true}), |_| "Server is ready".to_owned())?;
        }
    }
    Ok(0)
}

/// What is not synced yet: the first enabled feed group never synced, or a
/// feed never synced at all (which has no groups yet).
fn unsynced_feed(feeds: &[FeedMetadata]) -> Option<String> {
    feeds.iter().filter(|feed| feed.enabled).find_map(|feed| {
        if feed.groups.is_empty() {
            return feed.last_full_sync.is_none().then(|| format!("feed {}", feed.name));
        }
        let group = feed.groups.iter().find(|group| group.enabled && group.last_sync.is_none())?;
        Some(format!("feed group {}/{}", feed.name, group.name))
    })
}

pub fn system_status(status: &SystemStatus) -> String {
    let mut text = String::new();
    for service in &status.service_states {
        let state = if service.status { "up".to_owned() } else { format!("down ({})", service.status_message) };
        text.push_str(&format!(
            "Service {} ({}, {}): {state}\n",
            service.servicename, service.hostid, service.base_url
        ));
    }
    let api = status.service_states.iter().find(|s| s.servicename == "apiext" && s.status);
    let detail = api.or(status.service_states.first()).map(|service| &service.service_detail);
    let db = detail.map(|detail| detail.db_version.clone()).unwrap_or_else(|| "Not Found".to_owned());
    let code = detail.map(|detail| detail.version.clone()).unwrap_or_else(|| "Not Found".to_owned());
    text.push_str(&format!("\nEngine DB Version: {db}\nEngine Code Version: {code}\n"));
    text
}

pub fn feeds_table(feeds: &[FeedMetadata]) -> String {
    let mut rows = Vec::new();
    for feed in feeds {
        let name = if feed.enabled { feed.name.clone() } else { format!("{}(disabled)", feed.name) };
        // A feed never synced has no groups yet; it still gets a row, or a
        // fresh server would list nothing.
        if feed.groups.is_empty() {
            let last_sync = match feed.last_full_sync {
                Some(at) => at.to_rfc3339(),
                None if feed.enabled => "pending".to_owned(),
                None => "-".to_owned(),
            };
            rows.push(vec![name.clone(), "-".to_owned(), last_sync, "0".to_owned()]);
        }
        for group in &feed.groups {
            let last_sync = match group.last_sync {
                Some(at) => at.to_rfc3339(),
                None if feed.enabled && group.enabled => "pending".to_owned(),
                None => "-".to_owned(),
            };
            let group_name = if group.enabled { group.name.clone() } else { format!("{}(disabled)", group.name) };
            rows.push(vec![name.clone(), group_name, last_sync, group.record_count.to_string()]);
        }
    }
    rows.sort();
    render::table(&["Feed", "Group", "LastSync", "RecordCount"], rows)
}

#[derive(Subcommand)]
pub enum EventCommand {
    /// List events, newest first.
    List {
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        before: Option<String>,
        /// info or error.
        #[arg(long)]
        level: Option<String>,
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        host: Option<String>,
        #[arg(long)]
        resource: Option<String>,
        #[arg(long = "type", value_name = "EVENT_TYPE")]
        event_type: Option<String>,
        /// Fetch every page.
        #[arg(long)]
        all: bool,
        /// Also show the resource type, service and host.
        #[arg(long)]
        full: bool,
    },
    /// Show one event.
    Get { id: String },
    /// Delete one event, or every event in a time range.
    #[command(alias = "del")]
    Delete {
        id: Option<String>,
        #[arg(long, conflicts_with = "id")]
        since: Option<String>,
        #[arg(long, conflicts_with = "id")]
        before: Option<String>,
    },
}

pub fn event(session: &Session, command: EventCommand) -> Result<u8> {
    match command {
        EventCommand::List { since, before, level, service, host, resource, event_type, all, full } => {
            let mut query = EventsQuery {
                event_type,
                resource_id: resource,
                source_servicename: service,
                source_hostid: host,
                level,
                since,
                before,
                ..EventsQuery::default()
            };
            let mut list = session.client.list_events(&query)?;
            while all && list.next_page {
                query.page = Some(list.page + 1);
                let next = session.client.list_events(&query)?;
                list.results.extend(next.results);
                list.item_count = list.results.len() as u64;
                list.page = next.page;
                list.next_page = next.next_page;
            }
            session.show(&list, |list| events_table(list, full))?;
        }
        EventCommand::Get { id } => {
            let event = session.client.get_event(&id)?;
            session.show(&event, |event| serde_json::to_string_pretty(&event.event).unwrap_or_default())?;
        }
        EventCommand::Delete { id: Some(id), .. } => {
            session.client.delete_event(&id)?;
            session.success()?;
        }
        EventCommand::Delete { id: None, since, before } => {
            let deleted = session.client.delete_events(&EventsQuery { since, before, ..EventsQuery::default() })?;
            session.show(&deleted, |deleted| match deleted.len() {
                0 => "No matching events found".to_owned(),
                n => format!("Deleted {n} events"),
            })?;
        }
    }
    Ok(0)
}

pub fn events_table(list: &EventsList, full: bool) -> String {
    let rows = list.results.iter().map(|item| {
        let event = &item.event;
        let mut row = vec![event.timestamp.to_rfc3339(), event.level.clone(), event.kind.clone()];
        if full {
            row.push(event.resource.kind.clone());
        }
        row.push(event.resource.id.clone());
        if full {
            row.push(event.source.servicename.clone());
            row.push(event.source.hostid.clone());
        }
        row.push(item.generated_uuid.clone());
        row
    });
    let header: &[&str] = if full {
        &["Timestamp", "Level", "Event", "ResourceType", "Resource", "Service", "Host", "ID"]
    } else {
        &["Timestamp", "Level", "Event", "Resource", "ID"]
    };
    render::table(header, rows.collect::<Vec<_>>())
}

#[derive(Subcommand)]
pub enum AccountCommand {
    /// Create an account.
    Add {
        name: String,
        #[arg(long)]
        email: Option<String>,
    },
    /// Show an account.
    Get { name: String },
    /// List accounts.
    List,
    /// Delete a disabled account and everything it owns.
    #[command(alias = "delete")]
    Del { name: String },
    /// Enable an account.
    Enable { name: String },
    /// Disable an account (its users can no longer log in).
    Disable { name: String },
    /// Show the caller's user and account.
    Whoami,
    /// Users of an account.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user with a password.
    Add(UserPassword),
    /// Show a user.
    Get(UserName),
    /// List users.
    List {
        /// The account (default: the caller's).
        #[arg(long = "in-account", value_name = "ACCOUNT")]
        in_account: Option<String>,
    },
    /// Delete a user.
    #[command(alias = "delete")]
    Del(UserName),
    /// Set a user's password.
    Setpassword(UserPassword),
}

// The positional USER and PASSWORD have ids of their own: `user` and
// `password` are the ids of the global connection options.
#[derive(clap::Args)]
pub struct UserName {
    #[arg(id = "username", value_name = "USER")]
    user: String,
    /// The account (default: the caller's).
    #[arg(long = "in-account", value_name = "ACCOUNT")]
    in_account: Option<String>,
}

#[derive(clap::Args)]
pub struct UserPassword {
    #[command(flatten)]
    name: UserName,
    #[arg(id = "new_password", value_name = "PASSWORD")]
    password: String,
}

pub fn account(session: &Session, command: AccountCommand) -> Result<u8> {
    let client = &session.client;
    match command {
        AccountCommand::Add { name, email } => {
            let account = client.add_account(&AccountCreationRequest { name, email })?;
            session.show(&account, account_block)?;
        }
        AccountCommand::Get { name } => session.show(&client.get_account(&name)?, account_block)?,
        AccountCommand::List => session.show(&client.list_accounts()?, |accounts| {
            let mut rows: Vec<Vec<String>> = accounts
                .iter()
                .map(|a| {
                    vec![
                        a.name.clone(),
                        render::or_none(a.email.clone()),
                        serde_plain(&a.kind),
                        a.state.as_str().to_owned(),
                        a.created_at.to_rfc3339(),
                    ]
                })
                .collect();
            rows.sort_by(|a, b| a[4].cmp(&b[4]));
            render::table(&["Name", "Email", "Type", "State", "Created"], rows)
        })?,
        AccountCommand::Del { name } => {
            client.delete_account(&name)?;
            session.success()?;
        }
        AccountCommand::Enable { name } => {
            session.show(&client.set_account_state(&name, AccountState::Enabled)?, |_| "Success".to_owned())?
        }
        AccountCommand::Disable { name } => {
            session.show(&client.set_account_state(&name, AccountState::Disabled)?, |_| "Success".to_owned())?
        }
        AccountCommand::Whoami => {
            let whoami = serde_json::json!({"user": client.me()?, "account": client.my_account()?});
            session.show(&whoami, |whoami| {
                let text = |value: &serde_json::Value| value.as_str().unwrap_or("N/A").to_owned();
                render::block(&[
                    ("Username", text(&whoami["user"]["username"])),
                    ("AccountName", text(&whoami["account"]["name"])),
                    ("AccountEmail", text(&whoami["account"]["email"])),
                    ("AccountType", text(&whoami["account"]["type"])),
                ])
            })?;
        }
        AccountCommand::User(command) => return user(session, command),
    }
    Ok(0)
}

fn user(session: &Session, command: UserCommand) -> Result<u8> {
    let client = &session.client;
    let account_of = |in_account: Option<String>| -> Result<String> {
        match in_account {
            Some(account) => Ok(account),
            None => Ok(client.my_account()?.name),
        }
    };
    match command {
        UserCommand::Add(UserPassword { name: UserName { user, in_account }, password }) => {
            let created =
                client.add_user(&account_of(in_account)?, &UserCreationRequest { username: user, password })?;
            session.show(&created, user_block)?;
        }
        UserCommand::Get(UserName { user, in_account }) => {
            session.show(&client.get_user(&account_of(in_account)?, &user)?, user_block)?
        }
        UserCommand::List { in_account } => session.show(&client.list_users(&account_of(in_account)?)?, |users| {
            let rows = users.iter().map(|u| {
                vec![
                    u.username.clone(),
                    serde_plain(&u.kind),
                    render::or_none(u.source.clone()),
                    u.created_at.to_rfc3339(),
                ]
            });
            render::table(&["Name", "Type", "Source", "Created"], rows.collect::<Vec<_>>())
        })?,
        UserCommand::Del(UserName { user, in_account }) => {
            client.delete_user(&account_of(in_account)?, &user)?;
            session.success()?;
        }
        UserCommand::Setpassword(UserPassword { name: UserName { user, in_account }, password }) => {
            let updated = client.set_password(&account_of(in_account)?, &user, &password)?;
            session.show(&updated, |_| "Password (re)set success".to_owned())?;
        }
    }
    Ok(0)
}

/// A unit enum's serde name (`admin`, `native`).
fn serde_plain<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|value| value.as_str().map(str::to_owned)).unwrap_or_default()
}

fn account_block(account: &Account) -> String {
    render::block(&[
        ("Name", account.name.clone()),
        ("Email", render::or_none(account.email.clone())),
        ("Type", serde_plain(&account.kind)),
        ("State", account.state.as_str().to_owned()),
        ("Created", account.created_at.to_rfc3339()),
    ])
}

fn user_block(user: &User) -> String {
    render::block(&[
        ("Name", user.username.clone()),
        ("Type", serde_plain(&user.kind)),
        ("Source", render::or_none(user.source.clone())),
        ("Created", user.created_at.to_rfc3339()),
    ])
}
