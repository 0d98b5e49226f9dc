//! The event log (`/events`, `/event_types`): what happened to the
//! account's images, tags, repositories and notifications, newest first.
//! Rows are written by [`crate::events::record`].

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use portcullis_api::{EventCategory, EventDescription, EventResponse, EventSubcategory, EventsList, EventsQuery};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::query;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ServiceError};
use crate::events::{NewEvent, SERVICE_NAME};
use crate::state::AppState;

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_events, delete_events))
        .routes(routes!(get_event, delete_event))
        .routes(routes!(event_types))
}

/// A time filter: RFC 3339, or ISO 8601 without an offset (taken as UTC),
/// or a bare date; as epoch micros.
fn parse_time(name: &str, text: &str) -> ApiResult<i64> {
    let text = text.trim();
    let parsed = DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|t| t.and_utc()))
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc())
        });
    parsed
        .map(|t| t.timestamp_micros())
        .ok_or_else(|| ApiError::bad_request(format!("{name}={text:?} is not an ISO 8601 / RFC 3339 timestamp")))
}

/// `LIKE` pattern for an `event_type` filter: `*` is a wildcard; without
/// one, the type matches itself and every type under it (a category).
fn type_pattern(event_type: &str) -> String {
    let escaped = event_type.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    if escaped.contains('*') { escaped.replace('*', "%") } else { format!("{escaped}.%") }
}

/// The filters shared by listing and bulk deletion, as SQL bind values.
struct Filter {
    event_type: Option<String>,
    pattern: Option<String>,
    resource_type: Option<String>,
    resource_id: Option<String>,
    level: Option<String>,
    since: Option<i64>,
    before: Option<i64>,
    host: Option<String>,
    /// A `source_servicename` other than ours matches nothing.
    other_service: bool,
}

const FILTER_SQL: &str = "account = $1 AND ($2 IS NULL OR event_type = $2 OR event_type LIKE $3 ESCAPE '\\')
    AND ($4 IS NULL OR resource_type = $4) AND ($5 IS NULL OR resource_id = $5) AND ($6 IS NULL OR level = $6)
    AND ($7 IS NULL OR created_seq >= $7) AND ($8 IS NULL OR created_seq < $8) AND ($9 IS NULL OR host_id = $9)
    AND $10 = 0";

impl Filter {
    fn from_query(params: &EventsQuery) -> ApiResult<Filter> {
        let level = params.level.as_deref().map(str::to_ascii_lowercase);
        if let Some(level) = &level
            && level != "info"
            && level != "error"
        {
            return Err(ApiError::bad_request(format!("level={level:?}: the levels are info and error")));
        }
        let non_empty = |value: &Option<String>| value.clone().filter(|v| !v.trim().is_empty());
        let event_type = non_empty(&params.event_type);
        Ok(Filter {
            pattern: event_type.as_deref().map(type_pattern),
            event_type,
            resource_type: non_empty(&params.resource_type),
            resource_id: non_empty(&params.resource_id),
            level,
            since: params.since.as_deref().map(|t| parse_time("since", t)).transpose()?,
            before: params.before.as_deref().map(|t| parse_time("before", t)).transpose()?,
            host: non_empty(&params.source_hostid),
            other_service: non_empty(&params.source_servicename).is_some_and(|name| name != SERVICE_NAME),
        })
    }

    fn bind<'q>(
        &'q self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
        account: &'q str,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        query
            .bind(account)
            .bind(self.event_type.as_deref())
            .bind(self.pattern.as_deref())
            .bind(self.resource_type.as_deref())
            .bind(self.resource_id.as_deref())
            .bind(self.level.as_deref())
            .bind(self.since)
            .bind(self.before)
            .bind(self.host.as_deref())
            .bind(i64::from(self.other_service))
    }
}

fn event_from_row(row: &AnyRow) -> Result<EventResponse, ServiceError> {
    let created_at = crate::schema::stored_time(&row.try_get::<String, _>("created_at")?)?;
    let (account, event_type, level): (String, String, String) =
        (row.try_get("account")?, row.try_get("event_type")?, row.try_get("level")?);
    let resource_type = row.try_get::<Option<String>, _>("resource_type")?.unwrap_or_default();
    let resource_id = row.try_get::<Option<String>, _>("resource_id")?.unwrap_or_default();
    let event = NewEvent {
        account: &account,
        event_type: &event_type,
        level: &level,
        resource_type: &resource_type,
        resource_id: &resource_id,
        message: row.try_get("message")?,
        details: crate::schema::stored_json(row, "details", "event details")?,
    };
    Ok(event.response(row.try_get("id")?, &row.try_get::<String, _>("host_id")?, created_at))
}

const EVENT_COLUMNS: &str =
    "id, account, event_type, level, resource_type, resource_id, message, details, host_id, created_at, created_seq";

/// One page of the account's events, newest first, filtered.
#[utoipa::path(get, path = "/events", tag = "events", params(EventsQuery),
    responses((status = 200, body = EventsList), (status = 400, description = "bad level or timestamp"),
        (status = 401, description = "not authenticated")))]
async fn list_events(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<EventsQuery>, QueryRejection>,
) -> ApiResult<Json<EventsList>> {
    let params = query(params)?;
    let filter = Filter::from_query(&params)?;
    let page = params.page.unwrap_or(1).max(1);
    let limit = params.limit.filter(|&l| l > 0).unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE {FILTER_SQL} ORDER BY created_seq DESC, id DESC LIMIT $11 OFFSET $12"
    );
    // One more than the page holds tells whether another page follows.
    let rows = filter
        .bind(sqlx::query(AssertSqlSafe(sql)), &caller.account)
        .bind(i64::from(limit) + 1)
        .bind(i64::from(page - 1) * i64::from(limit))
        .fetch_all(state.db.pool())
        .await?;
    let next_page = rows.len() > limit as usize;
    let results = rows.iter().take(limit as usize).map(event_from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(EventsList { item_count: results.len() as u64, results, next_page, page }))
}

/// Deletes the account's events matching `since`, `before` and `level`
/// (every event when none is given); returns the deleted ids.
#[utoipa::path(delete, path = "/events", tag = "events", params(EventsQuery),
    responses((status = 200, body = Vec<String>), (status = 400, description = "bad level or timestamp")))]
async fn delete_events(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<EventsQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<String>>> {
    let params = query(params)?;
    let only = EventsQuery { since: params.since, before: params.before, level: params.level, ..Default::default() };
    let filter = Filter::from_query(&only)?;
    let sql = format!("DELETE FROM events WHERE {FILTER_SQL} RETURNING id");
    let rows = filter.bind(sqlx::query(AssertSqlSafe(sql)), &caller.account).fetch_all(state.db.pool()).await?;
    let mut ids = rows.iter().map(|row| row.try_get("id")).collect::<Result<Vec<String>, _>>()?;
    ids.sort();
    Ok(Json(ids))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("event {id} not found"))
}

/// One event of the account.
#[utoipa::path(get, path = "/events/{event_id}", tag = "events", params(("event_id" = String, Path)),
    responses((status = 200, body = EventResponse), (status = 404, description = "no such event in the account")))]
async fn get_event(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<EventResponse>> {
    let row = sqlx::query(AssertSqlSafe(format!("SELECT {EVENT_COLUMNS} FROM events WHERE account = $1 AND id = $2")))
        .bind(&caller.account)
        .bind(&id)
        .fetch_optional(state.db.pool())
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(event_from_row(&row)?))
}

/// Deletes one event of the account.
#[utoipa::path(delete, path = "/events/{event_id}", tag = "events", params(("event_id" = String, Path)),
    responses((status = 200, description = "deleted"), (status = 404, description = "no such event in the account")))]
async fn delete_event(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<()> {
    let done = sqlx::query("DELETE FROM events WHERE account = $1 AND id = $2")
        .bind(&caller.account)
        .bind(&id)
        .execute(state.db.pool())
        .await?;
    if done.rows_affected() == 1 { Ok(()) } else { Err(not_found(&id)) }
}

/// Every event type the service records: (type, resource type, what it means).
const EVENT_TYPES: &[(&str, &str, &str)] = &[
    ("system.feeds.sync.started", "feeds", "A vulnerability data sync started"),
    ("system.feeds.sync.completed", "feeds", "A vulnerability data sync completed"),
    ("system.feeds.sync.failed", "feeds", "A vulnerability data sync failed"),
    ("user.checks.tag.policy_evaluation.update", "image_tag", "The policy evaluation of a subscribed tag changed"),
    ("user.checks.tag.vulnerabilities.update", "image_tag", "The vulnerabilities of a subscribed tag changed"),
    ("user.image.analysis.completed", "image_digest", "An image analysis completed"),
    ("user.image.analysis.failed", "image_digest", "An image analysis failed"),
    ("user.image.archive.failed", "image_digest", "An image could not be archived; nothing was kept of the attempt"),
    ("user.image.registry_lookup_failed", "image_tag", "A watched tag could not be looked up in its registry"),
    ("user.image.tag.updated", "image_tag", "A watched tag points at a new digest"),
    ("user.notification.dead_lettered", "notification", "A webhook notification was given up after its retry window"),
    ("user.repo.image.add_failed", "image_tag", "A tag found in a watched repository could not be added"),
    ("user.repo.tag.removed", "image_tag", "A tag vanished from a watched repository"),
    ("user.repo.tags.list_failed", "repository", "The tags of a watched repository could not be listed"),
];

/// The catalog of event types, by category (`user`, `system`) and subcategory.
pub fn event_catalog() -> Vec<EventCategory> {
    let mut categories: Vec<EventCategory> = Vec::new();
    for &(kind, resource_type, message) in EVENT_TYPES {
        let mut parts = kind.split('.');
        let (Some(category), Some(subcategory), Some(name)) = (parts.next(), parts.next(), kind.rsplit('.').next())
        else {
            continue;
        };
        let position = categories.iter().position(|c| c.category == category).unwrap_or_else(|| {
            categories.push(EventCategory {
                category: category.to_owned(),
                description: match category {
                    "system" => "Events about the service itself".to_owned(),
                    _ => "Events about an account's resources".to_owned(),
                },
                subcategories: Vec::new(),
            });
            categories.len() - 1
        });
        let subcategories = &mut categories[position].subcategories;
        let index = subcategories.iter().position(|s| s.name == subcategory).unwrap_or_else(|| {
            subcategories.push(EventSubcategory {
                name: subcategory.to_owned(),
                description: format!("{category}.{subcategory} events"),
                events: Vec::new(),
            });
            subcategories.len() - 1
        });
        subcategories[index].events.push(EventDescription {
            name: name.to_owned(),
            kind: kind.to_owned(),
            message: message.to_owned(),
            resource_type: resource_type.to_owned(),
        });
    }
    categories
}

/// The event types the service records.
#[utoipa::path(get, path = "/event_types", tag = "events", responses((status = 200, body = Vec<EventCategory>)))]
async fn event_types(_caller: Caller) -> Json<Vec<EventCategory>> {
    Json(event_catalog())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_patterns() {
        assert_eq!(type_pattern("system.*"), "system.%");
        assert_eq!(type_pattern("user.image"), "user.image.%");
        assert_eq!(type_pattern("user.repo_x"), "user.repo\\_x.%");
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_time("since", "1970-01-01T00:00:01Z").unwrap(), 1_000_000);
        assert_eq!(parse_time("since", "1970-01-01T00:00:01.5").unwrap(), 1_500_000);
        assert_eq!(parse_time("since", "1970-01-02").unwrap(), 86_400_000_000);
        assert!(parse_time("since", "yesterday").is_err());
    }

    #[test]
    fn catalog_groups_types() {
        let catalog = event_catalog();
        let user = catalog.iter().find(|c| c.category == "user").unwrap();
        let repo = user.subcategories.iter().find(|s| s.name == "repo").unwrap();
        assert!(repo.events.iter().any(|e| e.kind == "user.repo.tag.removed" && e.name == "removed"));
    }
}
