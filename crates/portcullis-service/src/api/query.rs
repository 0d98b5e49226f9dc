//! Cross-image queries (`/query/...`), paginated as Anchore does it.
//!
//! The image routes read the per-image index tables written with each
//! analysis and report (`image_packages`, `image_vulns`), so a query is one
//! indexed lookup, not a pass over every stored document.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use portcullis_api::{
    ImageReference, ImageWithPackages, ImagesByPackageQuery, ImagesByVulnerabilityQuery, PackageReference, Page,
    PaginatedImageList, PaginatedVulnerabilityList, PaginatedVulnerableImageList, PaginationProperties,
    StandaloneVulnerability, VulnerabilitiesQuery, VulnerableImage, VulnerablePackageReference,
};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::images::query;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::images;
use crate::state::AppState;
use crate::vulns;

/// Items per page when `limit` is absent.
const DEFAULT_LIMIT: u32 = 100;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(images_by_vulnerability))
        .routes(routes!(images_by_package))
        .routes(routes!(vulnerabilities))
}

/// The items of page `page` of `all`, and whether another page follows.
fn paginate<T>(all: Vec<T>, page: Page) -> (Vec<T>, PaginationProperties) {
    let size = page.size(DEFAULT_LIMIT) as usize;
    let offset = usize::try_from(page.offset(DEFAULT_LIMIT)).unwrap_or(usize::MAX);
    let has_next = all.len() > offset.saturating_add(size);
    let items: Vec<T> = all.into_iter().skip(offset).take(size).collect();
    let properties = PaginationProperties::new(page.number(), has_next, items.len() as u64);
    (items, properties)
}

/// The reference (digest, id, tags) of each of `digests`, in order.
/// The reference of each image of `digests`; `None` for a digest whose image
/// is gone (an index row may outlive a delete in progress).
async fn references(state: &AppState, account: &str, digests: &[String]) -> ApiResult<Vec<Option<ImageReference>>> {
    let mut out = Vec::new();
    let tags = images::tags_of(state, account, digests).await?;
    for digest in digests {
        let Some(row) = images::image_row(state, account, digest).await? else {
            out.push(None);
            continue;
        };
        let record = images::to_record(&row, &tags)?;
        out.push(Some(ImageReference {
            image_digest: record.image_digest,
            image_id: row.image_id.clone(),
            analyzed_at: record.analyzed_at,
            tag_history: record.image_detail,
        }));
    }
    Ok(out)
}

/// The distinct packages per image digest that `sql` selects from a per-image
/// index table: `sql` ends in its fixed conditions (bound to `binds`), and
/// each filter that has a value adds `AND column = value`.
async fn packages_by_image<T: PartialEq, const N: usize>(
    state: &AppState,
    mut sql: String,
    mut binds: Vec<String>,
    filters: [(&str, Option<String>); N],
    order_by: &str,
    package: impl Fn(&AnyRow) -> Result<T, sqlx::Error>,
) -> ApiResult<BTreeMap<String, Vec<T>>> {
    for (column, value) in filters {
        if let Some(value) = value {
            binds.push(value);
            sql.push_str(&format!(" AND {column} = ${}", binds.len()));
        }
    }
    sql.push_str(&format!(" ORDER BY {order_by}"));
    let mut statement = sqlx::query(AssertSqlSafe(sql));
    for bind in &binds {
        statement = statement.bind(bind);
    }
    let mut by_image: BTreeMap<String, Vec<T>> = BTreeMap::new();
    for row in statement.fetch_all(state.db.pool()).await? {
        let package = package(&row)?;
        let packages = by_image.entry(row.try_get("digest")?).or_default();
        if !packages.contains(&package) {
            packages.push(package);
        }
    }
    Ok(by_image)
}

/// Page `page` of the images in `by_image`, each with its packages, as `item` builds it.
async fn page_of_images<T, I>(
    state: &AppState,
    account: &str,
    by_image: BTreeMap<String, Vec<T>>,
    page: Page,
    item: impl Fn(ImageReference, Vec<T>) -> I,
) -> ApiResult<(Vec<I>, PaginationProperties)> {
    let (page, pagination) = paginate(by_image.into_iter().collect(), page);
    let digests: Vec<String> = page.iter().map(|(digest, _)| digest.clone()).collect();
    let refs = references(state, account, &digests).await?;
    // Paired one to one with the page's digests, so a vanished image drops only its own entry.
    let items = refs
        .into_iter()
        .zip(page)
        .filter_map(|(image, (_, packages))| image.map(|image| item(image, packages)))
        .collect();
    Ok((items, pagination))
}

/// Images with a vulnerability, and which of their packages carry it.
/// `vendor_only` (default true) leaves out what the vendor will not fix.
#[utoipa::path(get, path = "/query/images/by_vulnerability", tag = "query", params(ImagesByVulnerabilityQuery),
    responses((status = 200, body = PaginatedVulnerableImageList), (status = 400, description = "missing vulnerability_id")))]
async fn images_by_vulnerability(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<ImagesByVulnerabilityQuery>, QueryRejection>,
) -> ApiResult<Json<PaginatedVulnerableImageList>> {
    let params = query(params)?;
    if params.vulnerability_id.trim().is_empty() {
        return Err(ApiError::bad_request("vulnerability_id is required"));
    }
    let filters = [
        ("namespace", params.namespace.clone()),
        ("package_name", params.affected_package.clone()),
        ("severity", params.severity.as_deref().map(capitalised)),
    ];
    let will_not_fix = if params.vendor_only.unwrap_or(true) { " AND will_not_fix = 0" } else { "" };
    let by_image = packages_by_image(
        &state,
        format!(
            "SELECT digest, namespace, severity, package_name, package_version, package_type FROM image_vulns
             WHERE account = $1 AND vuln_id = $2{will_not_fix}"
        ),
        vec![caller.account.clone(), params.vulnerability_id.trim().to_owned()],
        filters,
        "digest, package_name, package_version",
        |row| {
            Ok(VulnerablePackageReference {
                name: row.try_get("package_name")?,
                version: Some(row.try_get("package_version")?),
                kind: row.try_get("package_type")?,
                severity: row.try_get("severity")?,
                namespace: row.try_get("namespace")?,
            })
        },
    )
    .await?;
    let page = Page { page: params.page, limit: params.limit };
    let (images, pagination) = page_of_images(&state, &caller.account, by_image, page, |image, vulnerable_packages| {
        VulnerableImage { image, vulnerable_packages }
    })
    .await?;
    Ok(Json(PaginatedVulnerableImageList { pagination, images }))
}

fn capitalised(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut chars = lower.chars();
    chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// Images containing a package (by name, optionally version and type).
#[utoipa::path(get, path = "/query/images/by_package", tag = "query", params(ImagesByPackageQuery),
    responses((status = 200, body = PaginatedImageList), (status = 400, description = "missing name")))]
async fn images_by_package(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<ImagesByPackageQuery>, QueryRejection>,
) -> ApiResult<Json<PaginatedImageList>> {
    let params = query(params)?;
    if params.name.trim().is_empty() {
        return Err(ApiError::bad_request("name is required"));
    }
    let by_image = packages_by_image(
        &state,
        "SELECT digest, name, version, package_type FROM image_packages WHERE account = $1 AND name = $2".to_owned(),
        vec![caller.account.clone(), params.name.trim().to_owned()],
        [("version", params.version.clone()), ("package_type", params.package_type.clone())],
        "digest, version",
        |row| {
            Ok(PackageReference {
                name: row.try_get("name")?,
                version: Some(row.try_get("version")?),
                kind: row.try_get("package_type")?,
                will_not_fix: None,
            })
        },
    )
    .await?;
    let page = Page { page: params.page, limit: params.limit };
    let (images, pagination) = page_of_images(&state, &caller.account, by_image, page, |image, packages| {
        ImageWithPackages { image, packages }
    })
    .await?;
    Ok(Json(PaginatedImageList { pagination, images }))
}

/// Vulnerability records by id (comma-separated or repeated), one per
/// namespace they affect, from the vulnerability data (not per image).
#[utoipa::path(get, path = "/query/vulnerabilities", tag = "query", params(VulnerabilitiesQuery),
    responses((status = 200, body = PaginatedVulnerabilityList), (status = 400, description = "missing id")))]
async fn vulnerabilities(
    State(state): State<AppState>,
    _caller: Caller,
    params: Result<Query<VulnerabilitiesQuery>, QueryRejection>,
) -> ApiResult<Json<PaginatedVulnerabilityList>> {
    let params = query(params)?;
    let ids: Vec<String> = params.id.split(',').map(str::trim).filter(|id| !id.is_empty()).map(str::to_owned).collect();
    if ids.is_empty() {
        return Err(ApiError::bad_request("id is required"));
    }
    let stored = state.vulndb.advisories(&ids).await.map_err(crate::error::ServiceError::from)?;
    let mut records = Vec::new();
    for copy in stored.iter().filter(|c| c.advisory.withdrawn.is_none()) {
        let advisory = &copy.advisory;
        let mut namespaces: BTreeMap<&str, Vec<PackageReference>> = BTreeMap::new();
        for affected in &advisory.affected {
            if params.namespace.as_deref().is_some_and(|n| n != affected.namespace) {
                continue;
            }
            if params.affected_package.as_deref().is_some_and(|p| !p.eq_ignore_ascii_case(&affected.package)) {
                continue;
            }
            let versions: Vec<Option<String>> = if affected.versions.is_empty() {
                vec![None]
            } else {
                affected.versions.iter().cloned().map(Some).collect()
            };
            let references = namespaces.entry(affected.namespace.as_str()).or_default();
            for version in versions {
                if params.affected_package_version.is_some()
                    && version.is_some()
                    && version != params.affected_package_version
                {
                    continue;
                }
                references.push(PackageReference {
                    name: affected.package.clone(),
                    version,
                    kind: affected.scheme.to_string(),
                    will_not_fix: Some(affected.state == portcullis_vulndb::FixState::WontFix),
                });
            }
        }
        for (namespace, affected_packages) in namespaces {
            let severity = advisory
                .affected
                .iter()
                .find(|a| a.namespace == namespace)
                .and_then(|a| a.severity)
                .or(advisory.severity)
                .map_or_else(|| "Unknown".to_owned(), |s| capitalised(s.as_str()));
            let (nvd, vendor) = vulns::split_by_scorer(&advisory.cvss);
            records.push(StandaloneVulnerability {
                id: advisory.id.clone(),
                namespace: namespace.to_owned(),
                severity,
                link: advisory.references.first().cloned().unwrap_or_else(|| "None".to_owned()),
                description: advisory.description.clone().or_else(|| advisory.summary.clone()),
                affected_packages,
                nvd_data: vulns::cvss_data(&advisory.id, &nvd),
                vendor_data: vulns::cvss_data(&advisory.id, &vendor),
                references: advisory
                    .references
                    .iter()
                    .map(|url| portcullis_api::VulnerabilityReference {
                        url: url.clone(),
                        source: copy.source.clone(),
                        tags: Vec::new(),
                    })
                    .collect(),
            });
        }
    }
    let (vulnerabilities, pagination) = paginate(records, Page { page: params.page, limit: params.limit });
    Ok(Json(PaginatedVulnerabilityList { pagination, vulnerabilities }))
}
