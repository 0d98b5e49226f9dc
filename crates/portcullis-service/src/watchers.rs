//! The subscription watchers (Anchore's catalog monitors), run by the
//! scheduler: repository scans (`repo_watcher`), tag re-resolution
//! (`image_watcher`), re-evaluation (`policy_eval`), vulnerability changes
//! (`vuln_update`), and webhook delivery (`notifications`).
//!
//! Each handles every account's active subscriptions of its type; a failure
//! on one subscription is logged (and recorded as an event where the user
//! can act on it) and the run goes on with the next.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;
use portcullis_api::{
    AnalysisStatus, ImageAnalysisRequest, RepoSubscriptionValue, Subscription, SubscriptionType, Vulnerability,
    VulnerabilityType,
};
use portcullis_image::ImageError;
use portcullis_image::source::registry::{self, Reference};
use portcullis_sql::now_rfc3339;
use sqlx::Row;

use crate::error::{ApiError, ServiceError};
use crate::evaluations::{self, EvaluationError};
use crate::events::{self, NewEvent};
use crate::notifications;
use crate::scheduler::{Watcher, WatcherFuture};
use crate::state::AppState;
use crate::subscriptions;
use crate::{images, registries, vulns};

pub const REPO_WATCHER: &str = "repo_watcher";
pub const IMAGE_WATCHER: &str = "image_watcher";
pub const POLICY_EVAL: &str = "policy_eval";
pub const VULN_UPDATE: &str = "vuln_update";
pub const NOTIFICATIONS: &str = "notifications";

/// A run longer than this is presumed dead and another scheduler may start one.
const MAX_RUNTIME_SECONDS: u64 = 3600;

/// The watchers of this module, for [`crate::scheduler::watchers`].
pub fn all() -> Vec<Watcher> {
    fn watcher(
        name: &'static str,
        interval: fn(&crate::config::CycleTimers) -> u64,
        run: fn(AppState) -> WatcherFuture,
    ) -> Watcher {
        Watcher { name, interval, max_runtime_seconds: MAX_RUNTIME_SECONDS, run }
    }
    vec![
        watcher(REPO_WATCHER, |t| t.repo_watcher, |state| Box::pin(repo_watcher(state))),
        watcher(IMAGE_WATCHER, |t| t.image_watcher, |state| Box::pin(image_watcher(state))),
        watcher(POLICY_EVAL, |t| t.policy_eval, |state| Box::pin(policy_eval_watcher(state))),
        watcher(VULN_UPDATE, |t| t.vulnerability_scan, |state| Box::pin(vuln_update_watcher(state))),
        watcher(NOTIFICATIONS, |t| t.notifications, |state| Box::pin(notifications::deliver_due(state))),
    ]
}

// ---- repositories ---------------------------------------------------------

/// Why a repository cannot be watched or listed.
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    #[error("invalid repository {input:?}: {reason}")]
    Invalid { input: String, reason: String },
    #[error("cannot list the tags of {repository}: {source}")]
    Registry { repository: String, source: ImageError },
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<sqlx::Error> for RepositoryError {
    fn from(error: sqlx::Error) -> Self {
        RepositoryError::Service(error.into())
    }
}

impl From<RepositoryError> for ApiError {
    fn from(error: RepositoryError) -> Self {
        let message = error.to_string();
        match error {
            RepositoryError::Invalid { .. } => ApiError::bad_request(message),
            RepositoryError::Registry { source, repository } => {
                let (status, code) = match &source {
                    ImageError::Unreachable { .. } => (StatusCode::BAD_REQUEST, "registry_unreachable"),
                    ImageError::Unauthorized { .. } => (StatusCode::BAD_REQUEST, "registry_unauthorized"),
                    ImageError::Registry { message, .. } if message.contains("not found") => {
                        (StatusCode::NOT_FOUND, "repository_not_found")
                    }
                    _ => (StatusCode::BAD_REQUEST, "registry_lookup_failed"),
                };
                ApiError::new(status, message)
                    .with_detail(serde_json::json!({"error_code": code, "repository": repository}))
            }
            RepositoryError::Service(inner) => inner.into(),
        }
    }
}

/// A repository as named in `repo_update` keys: `registry/repository`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryName {
    pub registry: String,
    pub repository: String,
}

impl RepositoryName {
    /// Parses `registry/repo` with Docker's normalisation (`alpine` →
    /// `docker.io/library/alpine`); a tag or digest is refused.
    pub fn parse(input: &str) -> Result<RepositoryName, RepositoryError> {
        let invalid = |reason: String| RepositoryError::Invalid { input: input.to_owned(), reason };
        let last = input.rsplit('/').next().unwrap_or(input);
        if input.contains('@') || last.contains(':') {
            return Err(invalid("expected registry/repository, without a tag or digest".to_owned()));
        }
        let reference = Reference::parse(input).map_err(|e| invalid(e.to_string()))?;
        Ok(RepositoryName { registry: reference.registry, repository: reference.repository })
    }

    pub fn key(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }
}

/// The repository's tags, sorted, with the account's registry credentials.
pub async fn list_tags(state: &AppState, account: &str, name: &RepositoryName) -> Result<Vec<String>, RepositoryError> {
    let access = registries::credentials_for(state, account, &name.key()).await?;
    let options = registries::registry_options(state, &name.registry, access.as_ref());
    let (registry_host, repository) = (name.registry.clone(), name.repository.clone());
    // The registry client is blocking reqwest: never on a runtime thread.
    let listed = tokio::task::spawn_blocking(move || registry::list_tags(&registry_host, &repository, &options))
        .await
        .map_err(|e| ServiceError::Other(format!("tag listing task failed: {e}")))?;
    let mut tags = listed.map_err(|source| RepositoryError::Registry { repository: name.key(), source })?;
    tags.sort();
    tags.dedup();
    Ok(tags)
}

/// The value a `repo_update` subscription gets.
pub fn repo_value_text(value: &RepoSubscriptionValue) -> Result<String, ServiceError> {
    serde_json::to_string(value).map_err(|e| ServiceError::Other(format!("cannot encode a subscription value: {e}")))
}

/// What one scan of a watched repository did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepoScan {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub failed: Vec<String>,
}

/// Reconciles a `repo_update` subscription with the repository's current
/// `tags`: adds an image (and the tag subscriptions) for each tag not seen
/// before, records an event for each tag that vanished from the registry,
/// and stores the tags now known in the subscription's value. A tag whose
/// image cannot be added is left out, so the next scan tries it again.
pub async fn apply_repo_tags(
    state: &AppState,
    subscription: &Subscription,
    tags: &[String],
) -> Result<RepoScan, ServiceError> {
    let account = subscription.user_id.as_str();
    let key = subscription.subscription_key.as_str();
    let mut value = subscriptions::repo_value(subscription);
    let current: BTreeSet<&String> = tags.iter().collect();
    let stored: BTreeSet<&String> = value.repotags.iter().collect();
    let mut scan = RepoScan::default();
    let mut known: Vec<String> = stored.intersection(&current).map(|t| (*t).clone()).collect();
    for tag in current.difference(&stored) {
        // The user may unwatch the repository while a long scan runs.
        if !subscriptions::get(state, account, &subscription.subscription_id).await?.is_some_and(|s| s.active) {
            tracing::info!(account, repository = key, "repository unwatched during the scan; stopping");
            break;
        }
        let fulltag = format!("{key}:{tag}");
        let request = ImageAnalysisRequest { tag: Some(fulltag.clone()), ..Default::default() };
        match images::add_image(state, account, &request, false).await {
            Ok(_) => {
                subscriptions::create_tag_subscriptions(state, account, &fulltag, value.autosubscribe).await?;
                known.push((*tag).clone());
                scan.added.push(fulltag);
            }
            Err(error) => {
                tracing::warn!(
                    account,
                    tag = fulltag,
                    error = error.message,
                    "cannot add a tag found in a watched repository"
                );
                events::record(
                    state,
                    NewEvent {
                        account,
                        event_type: "user.repo.image.add_failed",
                        level: "error",
                        resource_type: "image_tag",
                        resource_id: &fulltag,
                        message: format!("cannot add {fulltag} found in the watched repository {key}: {}", error.message),
                        details: serde_json::json!({"repository": key, "httpcode": error.status.as_u16(), "detail": error.detail}),
                    },
                )
                .await;
                scan.failed.push(fulltag);
            }
        }
    }
    for tag in stored.difference(&current) {
        let fulltag = format!("{key}:{tag}");
        events::record(
            state,
            NewEvent {
                account,
                event_type: "user.repo.tag.removed",
                level: "info",
                resource_type: "image_tag",
                resource_id: &fulltag,
                message: format!("tag {tag} is no longer in the watched repository {key}"),
                details: serde_json::json!({"repository": key, "tag": tag}),
            },
        )
        .await;
        scan.removed.push(fulltag);
    }
    known.sort();
    value.tagcount = known.len() as u64;
    value.repotags = known;
    subscriptions::update(state, account, &subscription.subscription_id, None, Some(&repo_value_text(&value)?)).await?;
    if !scan.added.is_empty() || !scan.removed.is_empty() {
        tracing::info!(
            account,
            repository = key,
            added = scan.added.len(),
            removed = scan.removed.len(),
            "repository scanned"
        );
    }
    Ok(scan)
}

async fn repo_watcher(state: AppState) -> Result<(), ServiceError> {
    for subscription in subscriptions::active_of_type(&state, SubscriptionType::RepoUpdate).await? {
        let account = subscription.user_id.as_str();
        let key = subscription.subscription_key.as_str();
        let tags = match RepositoryName::parse(key) {
            Ok(name) => list_tags(&state, account, &name).await,
            Err(error) => Err(error),
        };
        match tags {
            Ok(tags) => {
                apply_repo_tags(&state, &subscription, &tags).await?;
            }
            Err(RepositoryError::Service(error)) => return Err(error),
            Err(error) => {
                tracing::warn!(account, repository = key, %error, "cannot scan a watched repository");
                events::record(
                    &state,
                    NewEvent {
                        account,
                        event_type: "user.repo.tags.list_failed",
                        level: "error",
                        resource_type: "repository",
                        resource_id: key,
                        message: error.to_string(),
                        details: serde_json::json!({}),
                    },
                )
                .await;
            }
        }
    }
    Ok(())
}

// ---- tags -------------------------------------------------------------------

/// Re-resolves each actively watched tag; a new digest is added (with the
/// previous image's annotations, which queues its analysis) and announced
/// with a `tag_update` notification.
async fn image_watcher(state: AppState) -> Result<(), ServiceError> {
    for subscription in subscriptions::active_of_type(&state, SubscriptionType::TagUpdate).await? {
        let account = subscription.user_id.as_str();
        let fulltag = subscription.subscription_key.as_str();
        let before = images::latest_digest_for_tag(&state, account, fulltag).await?;
        let annotations = match &before {
            Some(digest) => images::image_row(&state, account, digest).await?.map(|row| row.annotations),
            None => None,
        };
        let request = ImageAnalysisRequest {
            tag: Some(fulltag.to_owned()),
            annotations: annotations.clone(),
            ..Default::default()
        };
        let image = match images::add_image(&state, account, &request, false).await {
            Ok(image) => image,
            Err(error) => {
                tracing::warn!(account, tag = fulltag, error = error.message, "cannot check a watched tag");
                events::record(
                    &state,
                    NewEvent {
                        account,
                        event_type: "user.image.registry_lookup_failed",
                        level: "error",
                        resource_type: "image_tag",
                        resource_id: fulltag,
                        message: error.message.clone(),
                        details: serde_json::json!({"httpcode": error.status.as_u16(), "detail": error.detail}),
                    },
                )
                .await;
                continue;
            }
        };
        if before.as_deref() == Some(image.image_digest.as_str()) {
            continue;
        }
        tracing::info!(account, tag = fulltag, from = ?before, to = image.image_digest, "watched tag moved");
        events::record(
            &state,
            NewEvent {
                account,
                event_type: "user.image.tag.updated",
                level: "info",
                resource_type: "image_tag",
                resource_id: fulltag,
                message: format!("{fulltag} now points at {}", image.image_digest),
                details: serde_json::json!({"previous_digest": before, "digest": image.image_digest}),
            },
        )
        .await;
        let payload = serde_json::json!({
            "last_eval": before.iter().collect::<Vec<_>>(),
            "curr_eval": [image.image_digest],
            "annotations": image.annotations,
        });
        notifications::notify(&state, account, SubscriptionType::TagUpdate, fulltag, payload).await?;
    }
    Ok(())
}

/// To be called when the analysis of `digest` ends (`analyzed` or
/// `analysis_failed`): sends `analysis_update` for each of the image's tags
/// whose subscription is active. As in Anchore a failure produces no
/// notification (the analyzer records the failure event).
pub async fn on_analysis_complete(
    state: &AppState,
    account: &str,
    digest: &str,
    status: AnalysisStatus,
) -> Result<(), ServiceError> {
    if status != AnalysisStatus::Analyzed {
        return Ok(());
    }
    let annotations = images::image_row(state, account, digest).await?.map(|row| row.annotations).unwrap_or_default();
    let eval = |status: &str| serde_json::json!({"imageDigest": digest, "analysis_status": status, "annotations": annotations});
    for tag in images::tags_of(state, account, &[digest.to_owned()]).await? {
        let payload = serde_json::json!({
            "last_eval": eval(AnalysisStatus::Analyzing.as_str()),
            "curr_eval": eval(status.as_str()),
            "annotations": annotations,
        });
        notifications::notify(state, account, SubscriptionType::AnalysisUpdate, &tag.fulltag(), payload).await?;
    }
    Ok(())
}

// ---- evaluations ------------------------------------------------------------

/// Re-evaluates each tag with an active `policy_eval` subscription (its
/// current image, when analysed) and notifies when the final action differs
/// from the previous stored evaluation. The first evaluation only sets the baseline.
async fn policy_eval_watcher(state: AppState) -> Result<(), ServiceError> {
    for tag in subscribed_images(&state, SubscriptionType::PolicyEval).await? {
        let (account, fulltag, digest) = (tag.account.as_str(), tag.fulltag.as_str(), tag.digest);
        let last = evaluations::last_evaluation(&state, account, &digest, fulltag).await?;
        let current = match evaluations::evaluate_and_store(&state, account, &digest, fulltag).await {
            Ok(current) => current,
            Err(EvaluationError::Service(error)) => return Err(error),
            Err(error @ (EvaluationError::NotAnalyzed { .. } | EvaluationError::ImageNotFound(_))) => {
                tracing::debug!(account, tag = fulltag, %error, "not evaluated");
                continue;
            }
            Err(error) => {
                tracing::warn!(account, tag = fulltag, %error, "cannot evaluate a subscribed tag");
                continue;
            }
        };
        let Some(last) = last.filter(|last| last.final_action != current.final_action) else { continue };
        let change = TagChange {
            kind: SubscriptionType::PolicyEval,
            event_type: "user.checks.tag.policy_evaluation.update",
            message: format!(
                "the policy evaluation of {fulltag} changed from {} to {}",
                last.final_action.as_str(),
                current.final_action.as_str()
            ),
            details: serde_json::json!({"subscription_type": "policy_eval", "last_eval": last, "curr_eval": current}),
            payload: serde_json::json!({"last_eval": last, "curr_eval": current}),
        };
        report_tag_change(&state, account, fulltag, &digest, change).await?;
    }
    Ok(())
}

/// Each tag with an active subscription of `kind`, with the image it points at now.
async fn subscribed_images(state: &AppState, kind: SubscriptionType) -> Result<Vec<SubscribedImage>, ServiceError> {
    let mut out = Vec::new();
    for subscription in subscriptions::active_of_type(state, kind).await? {
        let account = subscription.user_id;
        let fulltag = subscription.subscription_key;
        let Some(digest) = images::latest_digest_for_tag(state, &account, &fulltag).await? else { continue };
        out.push(SubscribedImage { account, fulltag, digest });
    }
    Ok(out)
}

struct SubscribedImage {
    account: String,
    fulltag: String,
    digest: String,
}

/// What a watcher found changed on a subscribed tag.
struct TagChange {
    kind: SubscriptionType,
    event_type: &'static str,
    message: String,
    details: serde_json::Value,
    /// The notification's type-specific object; the image's annotations are added.
    payload: serde_json::Value,
}

/// Records `change` as an event about the tag and notifies its subscribers.
async fn report_tag_change(
    state: &AppState,
    account: &str,
    fulltag: &str,
    digest: &str,
    change: TagChange,
) -> Result<(), ServiceError> {
    let annotations = images::image_row(state, account, digest).await?.map(|row| row.annotations).unwrap_or_default();
    let event = NewEvent {
        account,
        event_type: change.event_type,
        level: "info",
        resource_type: "image_tag",
        resource_id: fulltag,
        message: change.message,
        details: change.details,
    };
    events::record(state, event).await;
    let mut payload = change.payload;
    if let serde_json::Value::Object(fields) = &mut payload {
        fields.insert("annotations".into(), serde_json::json!(annotations));
    }
    notifications::notify(state, account, change.kind, fulltag, payload).await?;
    Ok(())
}

// ---- vulnerabilities --------------------------------------------------------

/// A vulnerability row's identity in a diff: the same vulnerability in the
/// same package at the same place.
fn vuln_key(v: &Vulnerability) -> (String, String, String, String) {
    (v.vuln.clone(), v.package.clone(), v.package_type.clone(), v.package_path.clone())
}

/// Anchore's `diff_vulnerability_result`: rows only in `after`, rows in both
/// whose severity, fix or won't-fix changed (as they are now), and rows only
/// in `before`.
pub fn diff_vulnerabilities(before: &[Vulnerability], after: &[Vulnerability]) -> serde_json::Value {
    let old: BTreeMap<_, &Vulnerability> = before.iter().map(|v| (vuln_key(v), v)).collect();
    let new: BTreeMap<_, &Vulnerability> = after.iter().map(|v| (vuln_key(v), v)).collect();
    let added: Vec<&Vulnerability> = new.iter().filter(|(k, _)| !old.contains_key(*k)).map(|(_, v)| *v).collect();
    let removed: Vec<&Vulnerability> = old.iter().filter(|(k, _)| !new.contains_key(*k)).map(|(_, v)| *v).collect();
    let updated: Vec<&Vulnerability> = new
        .iter()
        .filter(|(k, v)| {
            old.get(*k).is_some_and(|o| (&o.severity, &o.fix, o.will_not_fix) != (&v.severity, &v.fix, v.will_not_fix))
        })
        .map(|(_, v)| *v)
        .collect();
    serde_json::json!({"added": added, "updated": updated, "removed": removed})
}

async fn baseline(state: &AppState, account: &str, key: &str) -> Result<Option<Vec<Vulnerability>>, ServiceError> {
    let row =
        sqlx::query("SELECT vulnerabilities FROM vuln_update_baselines WHERE account = $1 AND subscription_key = $2")
            .bind(account)
            .bind(key)
            .fetch_optional(state.db.pool())
            .await?;
    let Some(row) = row else { return Ok(None) };
    let text: String = row.try_get("vulnerabilities")?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|source| ServiceError::Corrupt { what: format!("vulnerability baseline of {key}"), source })
}

async fn save_baseline(
    state: &AppState,
    account: &str,
    key: &str,
    digest: &str,
    listing: &[Vulnerability],
) -> Result<(), ServiceError> {
    let text =
        serde_json::to_string(listing).map_err(|e| ServiceError::Other(format!("cannot encode a listing: {e}")))?;
    sqlx::query(
        "INSERT INTO vuln_update_baselines (account, subscription_key, digest, vulnerabilities, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (account, subscription_key) DO UPDATE SET digest = $3, vulnerabilities = $4, updated_at = $5",
    )
    .bind(account)
    .bind(key)
    .bind(digest)
    .bind(text)
    .bind(now_rfc3339())
    .execute(state.db.pool())
    .await?;
    Ok(())
}

/// Compares each subscribed tag's current vulnerability listing with the one
/// it was last compared with, and notifies the difference. The first run
/// for a tag only records the baseline.
async fn vuln_update_watcher(state: AppState) -> Result<(), ServiceError> {
    for tag in subscribed_images(&state, SubscriptionType::VulnUpdate).await? {
        let (account, fulltag, digest) = (tag.account.as_str(), tag.fulltag.as_str(), tag.digest);
        let result = match vulns::scan_result(&state, account, &digest).await {
            Ok(Some(result)) => result,
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!(account, tag = fulltag, %error, "no vulnerability report for a subscribed tag");
                continue;
            }
        };
        let listing = vulns::anchore_listing(&result, VulnerabilityType::All, false);
        let previous = baseline(&state, account, fulltag).await?;
        save_baseline(&state, account, fulltag, &digest, &listing).await?;
        let Some(previous) = previous else { continue };
        let diff = diff_vulnerabilities(&previous, &listing);
        let unchanged = ["added", "updated", "removed"].iter().all(|k| diff[k].as_array().is_none_or(Vec::is_empty));
        if unchanged {
            continue;
        }
        let change = TagChange {
            kind: SubscriptionType::VulnUpdate,
            event_type: "user.checks.tag.vulnerabilities.update",
            message: format!("the vulnerabilities of {fulltag} changed"),
            details: serde_json::json!({"subscription_type": "vuln_update", "imageDigest": digest,
                "added": diff["added"].as_array().map_or(0, Vec::len),
                "updated": diff["updated"].as_array().map_or(0, Vec::len),
                "removed": diff["removed"].as_array().map_or(0, Vec::len)}),
            payload: serde_json::json!({"imageDigest": digest, "diff_vulnerability_result": diff}),
        };
        report_tag_change(&state, account, fulltag, &digest, change).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vuln(id: &str, package: &str, severity: &str, fix: &str) -> Vulnerability {
        serde_json::from_value(serde_json::json!({
            "vuln": id, "severity": severity, "url": "u", "fix": fix, "package": package,
            "package_name": package, "package_version": "1", "package_type": "dpkg", "package_path": "/p",
            "package_cpe": "None", "feed": "vulnerabilities", "feed_group": "debian:12"}))
        .unwrap()
    }

    #[test]
    fn vulnerability_diff() {
        let before =
            [vuln("CVE-1", "a", "High", "None"), vuln("CVE-2", "b", "Low", "None"), vuln("CVE-3", "c", "Low", "None")];
        let after = [
            vuln("CVE-1", "a", "High", "None"),
            vuln("CVE-2", "b", "Low", "2.0"),
            vuln("CVE-4", "d", "Critical", "None"),
        ];
        let diff = diff_vulnerabilities(&before, &after);
        let ids = |k: &str| {
            diff[k].as_array().unwrap().iter().map(|v| v["vuln"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        };
        assert_eq!(ids("added"), ["CVE-4"]);
        assert_eq!(ids("updated"), ["CVE-2"]);
        assert_eq!(diff["updated"][0]["fix"], "2.0");
        assert_eq!(ids("removed"), ["CVE-3"]);
    }

    #[test]
    fn repository_names() {
        let name = RepositoryName::parse("127.0.0.1:5000/team/app").unwrap();
        assert_eq!(name.key(), "127.0.0.1:5000/team/app");
        assert_eq!(RepositoryName::parse("alpine").unwrap().key(), "docker.io/library/alpine");
        for bad in ["127.0.0.1:5000/app:1.0", "docker.io/library/alpine@sha256:abc", ""] {
            assert!(matches!(RepositoryName::parse(bad), Err(RepositoryError::Invalid { .. })), "{bad}");
        }
    }
}
