//! `POST /repositories`: watch every tag of a repository. The watch is an
//! active `repo_update` subscription; `anchore-cli repo list|watch|unwatch|del`
//! work on it through `/subscriptions`.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use portcullis_api::{RepoSubscriptionValue, RepositoryQuery, Subscription, SubscriptionType};

use super::query;
use crate::auth::Caller;
use crate::error::{ApiResult, ServiceError};
use crate::state::AppState;
use crate::subscriptions;
use crate::watchers::{self, RepositoryName};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(add_repository))
}

/// Lists the repository's tags and watches it: creates (or re-activates) its
/// `repo_update` subscription and adds an image for every tag not added
/// yet, with the tag subscriptions (`tag_update` active with
/// `autosubscribe`). With `dryrun` only the tag count is reported.
#[utoipa::path(post, path = "/repositories", tag = "repositories", params(RepositoryQuery),
    responses((status = 200, body = Vec<Subscription>, description = "the repository's repo_update subscription"),
        (status = 400, description = "invalid repository, or the registry refused the listing"),
        (status = 404, description = "no such repository in the registry")))]
async fn add_repository(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<RepositoryQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<Subscription>>> {
    let params = query(params)?;
    let name = RepositoryName::parse(&params.repository)?;
    let key = name.key();
    let autosubscribe = params.autosubscribe.unwrap_or(false);
    let tags = watchers::list_tags(&state, &caller.account, &name).await?;
    if params.dryrun.unwrap_or(false) {
        let value = RepoSubscriptionValue {
            autosubscribe,
            lookuptag: "latest".to_owned(),
            tagcount: tags.len() as u64,
            repotags: tags,
        };
        return Ok(Json(vec![Subscription {
            subscription_id: String::new(),
            user_id: caller.account,
            subscription_type: SubscriptionType::RepoUpdate,
            subscription_key: key,
            subscription_value: Some(watchers::repo_value_text(&value)?),
            active: false,
        }]));
    }
    let subscription = match subscriptions::find(&state, &caller.account, SubscriptionType::RepoUpdate, &key).await? {
        Some(existing) => {
            let mut value = subscriptions::repo_value(&existing);
            value.autosubscribe = autosubscribe;
            let text = watchers::repo_value_text(&value)?;
            subscriptions::update(&state, &caller.account, &existing.subscription_id, Some(true), Some(&text)).await?
        }
        None => {
            let value = RepoSubscriptionValue {
                autosubscribe,
                lookuptag: "latest".to_owned(),
                tagcount: 0,
                repotags: Vec::new(),
            };
            let text = watchers::repo_value_text(&value)?;
            Some(
                subscriptions::create(&state, &caller.account, SubscriptionType::RepoUpdate, &key, Some(&text), true)
                    .await?,
            )
        }
    };
    let subscription = subscription.ok_or_else(|| ServiceError::Other(format!("the watch of {key} vanished")))?;
    watchers::apply_repo_tags(&state, &subscription, &tags).await?;
    let updated = subscriptions::get(&state, &caller.account, &subscription.subscription_id)
        .await?
        .ok_or_else(|| ServiceError::Other(format!("the watch of {key} was deleted while scanning")))?;
    Ok(Json(vec![updated]))
}
