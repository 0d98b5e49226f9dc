//! Archive rules: Anchore's transition rules (stored in `archive_rules`) and
//! the choice of the images a set of rules moves.
//!
//! The choice is a pure function of the rules, the (tag, image) pairs of an
//! account and the time, as Anchore's archiver makes it: per rule, the pairs
//! whose registry, repository and tag match the selector, ordered by tag and
//! then newest detection first; an age filter (`analysis_age_days`, -1 off);
//! the exclude selector until it expires; and a per-tag depth that makes a
//! pair a candidate once `tag_versions_newer` newer versions of the tag were
//! seen. An image moves only when every tag it has was matched by some rule
//! of the set, so an image still current under one tag is kept.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, Utc};
use portcullis_api::{AnalysisArchiveTransitionRule as Rule, ArchiveRuleExclude, ArchiveTransition, ImageSelector};
use portcullis_sql::now_rfc3339;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{ApiError, ServiceError};
use crate::schema::stored_time;
use crate::state::AppState;

/// A tag as (registry, repository, tag).
pub type TagKey = (String, String, String);

/// One (tag, image) pair the rules look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedImage {
    pub digest: String,
    pub registry: String,
    pub repository: String,
    pub tag: String,
    /// When the tag was seen pointing at the image.
    pub detected_at: DateTime<Utc>,
    /// What the age filters compare: `analyzed_at` of a working image,
    /// `created_at` (when it was archived) of an archived one.
    pub reference_time: Option<DateTime<Utc>>,
}

impl TaggedImage {
    fn tag_key(&self) -> TagKey {
        (self.registry.clone(), self.repository.clone(), self.tag.clone())
    }
}

/// fnmatch without character classes: `*` is any run of characters, `?` one
/// character, everything else itself.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was, and the text position it currently covers up to.
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, covered)) => {
                    p = star + 1;
                    t = covered + 1;
                    backtrack = Some((star, covered + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

fn selects(selector: &ImageSelector, image: &TaggedImage) -> bool {
    glob_matches(&selector.registry, &image.registry)
        && glob_matches(&selector.repository, &image.repository)
        && glob_matches(&selector.tag, &image.tag)
}

/// True when the image's reference time is more than `days` days before
/// `now`; always true for a negative `days` (the check is off).
fn older_than(days: i64, image: &TaggedImage, now: DateTime<Utc>) -> bool {
    if days < 0 {
        return true;
    }
    let cutoff = now - TimeDelta::try_days(days).unwrap_or(TimeDelta::MAX);
    image.reference_time.is_some_and(|time| time < cutoff)
}

/// Whether the exclude selector keeps the image out. An empty field matches
/// anything, but an exclude whose three fields are empty (the default)
/// excludes nothing; the exclusion lapses once the image is older than
/// `expiration_days` (-1: never).
fn excluded(exclude: &ArchiveRuleExclude, image: &TaggedImage, now: DateTime<Utc>) -> bool {
    let selector = &exclude.selector;
    if selector.registry.is_empty() && selector.repository.is_empty() && selector.tag.is_empty() {
        return false;
    }
    let field = |pattern: &str, text: &str| pattern.is_empty() || glob_matches(pattern, text);
    let matches = field(&selector.registry, &image.registry)
        && field(&selector.repository, &image.repository)
        && field(&selector.tag, &image.tag);
    matches && (exclude.expiration_days < 0 || !older_than(exclude.expiration_days, image, now))
}

/// The (digest, tag) pairs `rule` matches among `images` at `now`.
pub fn rule_matches(rule: &Rule, images: &[TaggedImage], now: DateTime<Utc>) -> BTreeSet<(String, TagKey)> {
    let mut pairs: Vec<&TaggedImage> = images.iter().filter(|image| selects(&rule.selector, image)).collect();
    pairs.sort_by(|a, b| {
        (&a.registry, &a.repository, &a.tag)
            .cmp(&(&b.registry, &b.repository, &b.tag))
            .then(b.detected_at.cmp(&a.detected_at))
            .then(a.digest.cmp(&b.digest))
    });
    // Anchore counts the depth only over the pairs old enough: "keep the N
    // newest" then means the N newest of the old ones. The extension counts
    // every version of the tag, so the N newest are kept whatever their age.
    if !rule.count_all_tag_versions {
        pairs.retain(|image| older_than(rule.analysis_age_days, image, now));
    }
    let mut matched = BTreeSet::new();
    let mut current: Option<TagKey> = None;
    let mut depth = 0i64;
    for image in pairs {
        let key = image.tag_key();
        if current.as_ref() != Some(&key) {
            current = Some(key.clone());
            depth = 0;
        }
        if excluded(&rule.exclude, image, now) {
            continue;
        }
        let deep_enough = rule.tag_versions_newer < 0 || depth >= rule.tag_versions_newer;
        depth += 1;
        if deep_enough && older_than(rule.analysis_age_days, image, now) {
            matched.insert((image.digest.clone(), key));
        }
    }
    matched
}

/// The digests one rule set moves: those of `images` each of whose tags a
/// selector rule of the set matched. `max_images_per_account` rules are
/// applied by [`over_limit`] instead.
pub fn select(rules: &[Rule], images: &[TaggedImage], now: DateTime<Utc>) -> Vec<String> {
    let matched: BTreeSet<(String, TagKey)> = rules
        .iter()
        .filter(|rule| rule.max_images_per_account.is_none())
        .flat_map(|rule| rule_matches(rule, images, now))
        .collect();
    let mut tags: BTreeMap<&str, BTreeSet<TagKey>> = BTreeMap::new();
    for image in images {
        tags.entry(image.digest.as_str()).or_default().insert(image.tag_key());
    }
    tags.into_iter()
        .filter(|(digest, keys)| keys.iter().all(|key| matched.contains(&((*digest).to_owned(), key.clone()))))
        .map(|(digest, _)| digest.to_owned())
        .collect()
}

/// The oldest analysed images beyond `max`: `images` are (digest, analyzed_at).
pub fn over_limit(max: u64, images: &[(String, Option<DateTime<Utc>>)]) -> Vec<String> {
    let excess = (images.len() as u64).saturating_sub(max) as usize;
    let mut oldest: Vec<&(String, Option<DateTime<Utc>>)> = images.iter().collect();
    oldest.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    oldest.into_iter().take(excess).map(|(digest, _)| digest.clone()).collect()
}

// ---- storage -------------------------------------------------------------

/// Why a rule cannot be stored, read or deleted.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("{0}")]
    Forbidden(String),
    #[error("archive rule {0} not found")]
    NotFound(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<sqlx::Error> for RuleError {
    fn from(error: sqlx::Error) -> Self {
        RuleError::Service(error.into())
    }
}

impl From<RuleError> for ApiError {
    fn from(error: RuleError) -> Self {
        match error {
            RuleError::Invalid { field, .. } => {
                ApiError::bad_request(error.to_string()).with_detail(serde_json::json!({ "field": field }))
            }
            RuleError::Forbidden(message) => ApiError::forbidden(message),
            RuleError::NotFound(_) => ApiError::not_found(error.to_string()),
            RuleError::Service(inner) => inner.into(),
        }
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> RuleError {
    RuleError::Invalid { field, message: message.into() }
}

/// The checks that need nothing but the rule and who asks.
pub fn validate(rule: &Rule, is_admin: bool) -> Result<(), RuleError> {
    if rule.system_global && !is_admin {
        return Err(RuleError::Forbidden("only users of an admin account may create system_global rules".into()));
    }
    for (field, value) in [
        ("analysis_age_days", rule.analysis_age_days),
        ("tag_versions_newer", rule.tag_versions_newer),
        ("exclude.expiration_days", rule.exclude.expiration_days),
    ] {
        if value < -1 {
            return Err(invalid(field, format!("must be -1 (off) or at least 0, not {value}")));
        }
    }
    for (field, value) in [
        ("selector.registry", &rule.selector.registry),
        ("selector.repository", &rule.selector.repository),
        ("selector.tag", &rule.selector.tag),
    ] {
        if value.is_empty() {
            return Err(invalid(field, "must not be empty; * matches anything"));
        }
    }
    if let Some(max) = rule.max_images_per_account {
        let plain = rule.selector == ImageSelector::default() && rule.exclude == ArchiveRuleExclude::default();
        if !rule.system_global || !plain || rule.transition != ArchiveTransition::Archive {
            return Err(invalid(
                "max_images_per_account",
                "allowed only on a system_global archive rule without selector or exclude",
            ));
        }
        if max == 0 || i64::try_from(max).is_err() {
            return Err(invalid("max_images_per_account", format!("must be a positive count, not {max}")));
        }
    }
    Ok(())
}

const RULE_COLUMNS: &str = "rule_id, account, transition, system_global, analysis_age_days, tag_versions_newer, \
    count_all_tag_versions, selector_registry, selector_repository, selector_tag, exclude_registry, \
    exclude_repository, exclude_tag, exclude_expiration_days, max_images_per_account, created_at, last_updated";

fn rule_from_row(row: &AnyRow) -> Result<Rule, ServiceError> {
    let transition: String = row.try_get("transition")?;
    let transition = match transition.as_str() {
        "archive" => ArchiveTransition::Archive,
        "delete" => ArchiveTransition::Delete,
        other => return Err(ServiceError::Other(format!("stored archive rule transition {other:?}"))),
    };
    let created_at: String = row.try_get("created_at")?;
    let last_updated: String = row.try_get("last_updated")?;
    let max: Option<i64> = row.try_get("max_images_per_account")?;
    Ok(Rule {
        rule_id: Some(row.try_get("rule_id")?),
        transition,
        system_global: row.try_get::<i64, _>("system_global")? != 0,
        analysis_age_days: row.try_get("analysis_age_days")?,
        tag_versions_newer: row.try_get("tag_versions_newer")?,
        selector: ImageSelector {
            registry: row.try_get("selector_registry")?,
            repository: row.try_get("selector_repository")?,
            tag: row.try_get("selector_tag")?,
        },
        exclude: ArchiveRuleExclude {
            selector: ImageSelector {
                registry: row.try_get("exclude_registry")?,
                repository: row.try_get("exclude_repository")?,
                tag: row.try_get("exclude_tag")?,
            },
            expiration_days: row.try_get("exclude_expiration_days")?,
        },
        max_images_per_account: max.and_then(|max| u64::try_from(max).ok()),
        count_all_tag_versions: row.try_get::<i64, _>("count_all_tag_versions")? != 0,
        created_at: Some(stored_time(&created_at)?),
        last_updated: Some(stored_time(&last_updated)?),
    })
}

/// Stores a new rule of `account` (server-set id and times) and returns it.
pub async fn create(state: &AppState, account: &str, is_admin: bool, rule: &Rule) -> Result<Rule, RuleError> {
    validate(rule, is_admin)?;
    if rule.max_images_per_account.is_some() {
        let existing = sqlx::query("SELECT rule_id FROM archive_rules WHERE max_images_per_account IS NOT NULL")
            .fetch_optional(state.db.pool())
            .await?;
        if let Some(existing) = existing {
            let id: String = existing.try_get("rule_id")?;
            return Err(invalid("max_images_per_account", format!("only one such rule may exist; {id} is one")));
        }
    }
    let rule_id = uuid::Uuid::new_v4().simple().to_string();
    let now = now_rfc3339();
    sqlx::query(
        "INSERT INTO archive_rules (rule_id, account, transition, system_global, analysis_age_days, tag_versions_newer,
                                    count_all_tag_versions, selector_registry, selector_repository, selector_tag,
                                    exclude_registry, exclude_repository, exclude_tag, exclude_expiration_days,
                                    max_images_per_account, created_at, created_seq, last_updated)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $16)",
    )
    .bind(&rule_id)
    .bind(account)
    .bind(rule.transition.as_str())
    .bind(i64::from(rule.system_global))
    .bind(rule.analysis_age_days)
    .bind(rule.tag_versions_newer)
    .bind(i64::from(rule.count_all_tag_versions))
    .bind(&rule.selector.registry)
    .bind(&rule.selector.repository)
    .bind(&rule.selector.tag)
    .bind(&rule.exclude.selector.registry)
    .bind(&rule.exclude.selector.repository)
    .bind(&rule.exclude.selector.tag)
    .bind(rule.exclude.expiration_days)
    .bind(rule.max_images_per_account.and_then(|max| i64::try_from(max).ok()))
    .bind(&now)
    .bind(Utc::now().timestamp_micros())
    .execute(state.db.pool())
    .await?;
    tracing::info!(account, rule_id, transition = rule.transition.as_str(), "archive rule created");
    get(state, account, &rule_id).await?.ok_or(RuleError::NotFound(rule_id))
}

/// The account's rules, and every account's `system_global` ones when
/// `include_global`, oldest first.
pub async fn list(state: &AppState, account: &str, include_global: bool) -> Result<Vec<Rule>, ServiceError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {RULE_COLUMNS} FROM archive_rules
         WHERE (account = $1 AND system_global = 0) OR (system_global = 1 AND ($1 = account OR $2 = 1))
         ORDER BY created_seq, rule_id"
    )))
    .bind(account)
    .bind(i64::from(include_global))
    .fetch_all(state.db.pool())
    .await?;
    rows.iter().map(rule_from_row).collect()
}

/// A rule the account may see: its own, or a global one.
pub async fn get(state: &AppState, account: &str, rule_id: &str) -> Result<Option<Rule>, ServiceError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {RULE_COLUMNS} FROM archive_rules WHERE rule_id = $1 AND (account = $2 OR system_global = 1)"
    )))
    .bind(rule_id)
    .bind(account)
    .fetch_optional(state.db.pool())
    .await?;
    row.as_ref().map(rule_from_row).transpose()
}

/// Deletes a rule of the account; another account's global rule is 403.
pub async fn delete(state: &AppState, account: &str, rule_id: &str) -> Result<(), RuleError> {
    let done = sqlx::query("DELETE FROM archive_rules WHERE rule_id = $1 AND account = $2")
        .bind(rule_id)
        .bind(account)
        .execute(state.db.pool())
        .await?;
    if done.rows_affected() == 1 {
        tracing::info!(account, rule_id, "archive rule deleted");
        return Ok(());
    }
    match get(state, account, rule_id).await? {
        Some(_) => Err(RuleError::Forbidden(format!(
            "archive rule {rule_id} is a system_global rule of another account; only that account may delete it"
        ))),
        None => Err(RuleError::NotFound(rule_id.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(value: serde_json::Value) -> Rule {
        serde_json::from_value(value).unwrap()
    }

    fn now() -> DateTime<Utc> {
        "2024-06-01T00:00:00Z".parse().unwrap()
    }

    fn days_ago(days: i64) -> DateTime<Utc> {
        now() - TimeDelta::days(days)
    }

    /// `digest` tagged `fulltag` (`registry/repository:tag`), seen and analysed `age` days ago.
    fn tagged(digest: &str, fulltag: &str, age: i64) -> TaggedImage {
        let (name, tag) = fulltag.rsplit_once(':').unwrap();
        let (registry, repository) = name.split_once('/').unwrap();
        TaggedImage {
            digest: digest.into(),
            registry: registry.into(),
            repository: repository.into(),
            tag: tag.into(),
            detected_at: days_ago(age),
            reference_time: Some(days_ago(age)),
        }
    }

    fn digests(set: BTreeSet<(String, TagKey)>) -> Vec<String> {
        let mut out: Vec<String> = set.into_iter().map(|(digest, _)| digest).collect();
        out.dedup();
        out
    }

    #[test]
    fn globs() {
        let cases = [
            ("*", "", true),
            ("*", "docker.io", true),
            ("docker.io", "docker.io", true),
            ("docker.io", "docker.iox", false),
            ("*-release", "1.0-release", true),
            ("*-release", "1.0-release-2", false),
            ("library/*", "library/nginx", true),
            ("library/*", "team/nginx", false),
            ("1.?", "1.2", true),
            ("1.?", "1.20", false),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("", "", true),
            ("", "x", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(glob_matches(pattern, text), expected, "{pattern:?} on {text:?}");
        }
    }

    #[test]
    fn one_rule_table() {
        let images = vec![
            tagged("sha256:a3", "r.io/app:1", 1),
            tagged("sha256:a2", "r.io/app:1", 10),
            tagged("sha256:a1", "r.io/app:1", 20),
            tagged("sha256:b1", "r.io/app:2-release", 30),
            tagged("sha256:c1", "other.io/lib:1", 40),
        ];
        let cases: Vec<(&str, serde_json::Value, Vec<&str>)> = vec![
            (
                "everything, any age",
                json!({"transition": "archive"}),
                vec!["sha256:a1", "sha256:a2", "sha256:a3", "sha256:b1", "sha256:c1"],
            ),
            (
                "age -1 disables the age check",
                json!({"transition": "archive", "analysis_age_days": -1}),
                vec!["sha256:a1", "sha256:a2", "sha256:a3", "sha256:b1", "sha256:c1"],
            ),
            (
                "older than 15 days",
                json!({"transition": "archive", "analysis_age_days": 15}),
                vec!["sha256:a1", "sha256:b1", "sha256:c1"],
            ),
            (
                "registry selector",
                json!({"transition": "archive", "selector": {"registry": "other.*", "repository": "*", "tag": "*"}}),
                vec!["sha256:c1"],
            ),
            (
                "tag selector",
                json!({"transition": "archive", "selector": {"registry": "*", "repository": "app", "tag": "*-release"}}),
                vec!["sha256:b1"],
            ),
            (
                "keep the newest of each tag",
                json!({"transition": "archive", "tag_versions_newer": 1}),
                vec!["sha256:a1", "sha256:a2"],
            ),
            (
                "keep the two newest of each tag",
                json!({"transition": "archive", "tag_versions_newer": 2}),
                vec!["sha256:a1"],
            ),
            // Anchore's caveat: the depth counts only the old ones, so the newest old one is kept.
            (
                "depth over the old ones only",
                json!({"transition": "archive", "tag_versions_newer": 1, "analysis_age_days": 5}),
                vec!["sha256:a1"],
            ),
            (
                "depth over every version",
                json!({"transition": "archive", "tag_versions_newer": 1, "analysis_age_days": 5, "count_all_tag_versions": true}),
                vec!["sha256:a1", "sha256:a2"],
            ),
            (
                "exclude forever",
                json!({"transition": "archive", "exclude": {"selector": {"registry": "", "repository": "", "tag": "*-release"}, "expiration_days": -1}}),
                vec!["sha256:a1", "sha256:a2", "sha256:a3", "sha256:c1"],
            ),
            (
                "exclude lapsed after 25 days",
                json!({"transition": "archive", "exclude": {"selector": {"registry": "", "repository": "", "tag": "*-release"}, "expiration_days": 25}}),
                vec!["sha256:a1", "sha256:a2", "sha256:a3", "sha256:b1", "sha256:c1"],
            ),
            (
                "exclude not yet lapsed",
                json!({"transition": "archive", "exclude": {"selector": {"registry": "", "repository": "", "tag": "*-release"}, "expiration_days": 35}}),
                vec!["sha256:a1", "sha256:a2", "sha256:a3", "sha256:c1"],
            ),
            (
                "excluded versions do not count toward the depth",
                json!({"transition": "archive", "tag_versions_newer": 1, "exclude": {"selector": {"registry": "r.io", "repository": "app", "tag": "1"}, "expiration_days": 5}}),
                vec!["sha256:a1"],
            ),
        ];
        for (name, value, expected) in cases {
            let found = digests(rule_matches(&rule(value), &images, now()));
            assert_eq!(found, expected, "{name}");
        }
    }

    #[test]
    fn an_image_moves_only_when_each_of_its_tags_is_matched() {
        // sha256:x has two tags; only one is old enough for the depth rule.
        let images = vec![
            tagged("sha256:new", "r.io/app:1", 1),
            tagged("sha256:x", "r.io/app:1", 10),
            tagged("sha256:x", "r.io/app:stable", 10),
            tagged("sha256:y", "r.io/app:1", 20),
        ];
        // x is old under tag 1 but still the newest under stable.
        let depth = rule(json!({"transition": "archive", "tag_versions_newer": 1}));
        assert_eq!(select(std::slice::from_ref(&depth), &images, now()), ["sha256:y"]);
        // A second rule of the set matching the other tag completes it.
        let stable = rule(json!({"transition": "archive",
            "selector": {"registry": "*", "repository": "*", "tag": "stable"}}));
        assert_eq!(select(&[depth, stable.clone()], &images, now()), ["sha256:x", "sha256:y"]);
        // The stable rule alone leaves x: its tag 1 is matched by no rule.
        assert!(select(&[stable], &images, now()).is_empty());
        // A max_images_per_account rule selects nothing here.
        let max = rule(json!({"transition": "archive", "system_global": true, "max_images_per_account": 1}));
        assert!(select(&[max], &images, now()).is_empty());
    }

    #[test]
    fn max_images_per_account_picks_the_oldest() {
        let images = vec![
            ("sha256:b".to_owned(), Some(days_ago(3))),
            ("sha256:a".to_owned(), Some(days_ago(1))),
            ("sha256:c".to_owned(), Some(days_ago(2))),
        ];
        assert_eq!(over_limit(1, &images), ["sha256:b", "sha256:c"]);
        assert_eq!(over_limit(2, &images), ["sha256:b"]);
        assert!(over_limit(3, &images).is_empty());
        assert!(over_limit(10, &images).is_empty());
    }

    #[test]
    fn validation() {
        let ok = |value: serde_json::Value, admin: bool| validate(&rule(value), admin);
        assert!(ok(json!({"transition": "archive"}), false).is_ok());
        assert!(ok(json!({"transition": "archive", "system_global": true}), true).is_ok());
        assert!(matches!(
            ok(json!({"transition": "archive", "system_global": true}), false),
            Err(RuleError::Forbidden(_))
        ));
        let field = |value: serde_json::Value| match ok(value, true) {
            Err(RuleError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(json!({"transition": "archive", "analysis_age_days": -2})), "analysis_age_days");
        assert_eq!(field(json!({"transition": "archive", "tag_versions_newer": -5})), "tag_versions_newer");
        assert_eq!(
            field(json!({"transition": "archive", "selector": {"registry": "", "repository": "*", "tag": "*"}})),
            "selector.registry"
        );
        assert_eq!(field(json!({"transition": "archive", "max_images_per_account": 5})), "max_images_per_account");
        assert_eq!(
            field(json!({"transition": "archive", "system_global": true, "max_images_per_account": 5,
                "selector": {"registry": "*", "repository": "app", "tag": "*"}})),
            "max_images_per_account"
        );
        assert_eq!(
            field(json!({"transition": "delete", "system_global": true, "max_images_per_account": 5})),
            "max_images_per_account"
        );
        assert!(ok(json!({"transition": "archive", "system_global": true, "max_images_per_account": 5}), true).is_ok());
    }
}
