//! Policy evaluations of analysed images: evaluating an image as a tag with
//! the account's active bundle (or a named one), Anchore's stored
//! evaluation document, and the evaluation history.
//!
//! Each stored evaluation is a row in `policy_evaluations` (what lists and
//! comparisons need) and its full document in the `policy_evaluations`
//! bucket, keyed by `evalId`. The `policy_eval` watcher re-evaluates
//! subscribed tags through [`evaluate_and_store`] and compares the result
//! with [`last_evaluation`].

use chrono::{DateTime, Utc};
use portcullis_api::{GateTable, ImageGateResult, PolicyEvaluation, PolicyEvaluationResults};
use portcullis_policy::evaluate::{Evaluation, FinalActionReason, ImageIdentity, Status};
use portcullis_policy::gates::EvalContext;
use portcullis_policy::model::{Action, Bundle, ImageSelector};
use portcullis_sbom::{BASE_DIGEST_LABEL, BASE_NAME_LABEL, Sbom};
use portcullis_sql::now_rfc3339;
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::{ApiError, ServiceError};
use crate::policies::{self, PolicyError, ValidBundle};
use crate::state::{AppState, bucket};

/// One stored evaluation, as Anchore's catalog records it (the `last_eval`
/// and `curr_eval` of `policy_eval` notifications).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredEvaluation {
    #[serde(rename = "evalId")]
    pub eval_id: String,
    #[serde(rename = "userId")]
    pub account: String,
    #[serde(rename = "imageDigest")]
    pub digest: String,
    pub tag: String,
    #[serde(rename = "policyId")]
    pub policy_id: String,
    /// `sha256:` of the bundle document evaluated, so a changed bundle with
    /// the same id can be told apart.
    pub bundle_digest: String,
    #[serde(serialize_with = "lower_case_action")]
    pub final_action: Action,
    pub status: Status,
    pub created_at: DateTime<Utc>,
}

fn lower_case_action<S: serde::Serializer>(action: &Action, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&action.as_str().to_ascii_lowercase())
}

#[derive(Debug, thiserror::Error)]
pub enum EvaluationError {
    #[error("image {0} not found")]
    ImageNotFound(String),
    #[error("image {digest} is not analyzed yet (analysis status: {status}); it can be evaluated once analyzed")]
    NotAnalyzed { digest: String, status: &'static str },
    #[error("tag {tag:?} is not an image reference: {reason}")]
    BadTag { tag: String, reason: String },
    #[error("base image {digest} cannot be used: {reason}")]
    BadBase { digest: String, reason: String },
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<sqlx::Error> for EvaluationError {
    fn from(error: sqlx::Error) -> Self {
        EvaluationError::Service(error.into())
    }
}

impl From<portcullis_objstore::ObjectStoreError> for EvaluationError {
    fn from(error: portcullis_objstore::ObjectStoreError) -> Self {
        EvaluationError::Service(error.into())
    }
}

impl From<EvaluationError> for ApiError {
    fn from(error: EvaluationError) -> Self {
        match error {
            EvaluationError::ImageNotFound(_) => ApiError::not_found(error.to_string()),
            EvaluationError::NotAnalyzed { status, .. } => {
                ApiError::not_found(error.to_string()).with_detail(json!({ "analysis_status": status }))
            }
            EvaluationError::BadTag { .. } | EvaluationError::BadBase { .. } => {
                ApiError::bad_request(error.to_string())
            }
            EvaluationError::Policy(error) => error.into(),
            EvaluationError::Service(error) => error.into(),
        }
    }
}

/// Evaluates the image as `tag` with the account's active bundle and stores the result.
pub async fn evaluate_and_store(
    state: &AppState,
    account: &str,
    digest: &str,
    tag: &str,
) -> Result<StoredEvaluation, EvaluationError> {
    evaluate(state, account, digest, tag, Choices { policy_id: None, base_digest: None, store: true })
        .await
        .map(|(stored, _)| stored)
}

/// What an evaluation uses and whether it is kept.
#[derive(Debug, Clone, Copy)]
pub struct Choices<'a> {
    /// The bundle to evaluate with; the account's active one when `None`.
    pub policy_id: Option<&'a str>,
    /// The analysed image `digest` was built from; found through the
    /// image's base labels when `None` (see [`base_layers`]).
    pub base_digest: Option<&'a str>,
    /// Store the evaluation (Anchore's check does unless `interactive`).
    pub store: bool,
}

/// Evaluates the image `digest` as `tag` as `choices` say. Returns the
/// record and Anchore's evaluation document.
pub async fn evaluate(
    state: &AppState,
    account: &str,
    digest: &str,
    tag: &str,
    choices: Choices<'_>,
) -> Result<(StoredEvaluation, PolicyEvaluation), EvaluationError> {
    let Choices { policy_id, base_digest, store } = choices;
    let mut identity = ImageIdentity::from_reference(tag)
        .map_err(|error| EvaluationError::BadTag { tag: tag.to_owned(), reason: error.reason })?;
    let image = crate::images::get_image(state, account, digest)
        .await?
        .ok_or_else(|| EvaluationError::ImageNotFound(digest.to_owned()))?;
    if image.analysis_status != portcullis_api::AnalysisStatus::Analyzed {
        return Err(EvaluationError::NotAnalyzed { digest: digest.to_owned(), status: image.analysis_status.as_str() });
    }
    let bundle = policies::for_evaluation(state, account, policy_id).await?;
    let sbom = crate::images::load_sbom(state, account, digest)
        .await?
        .ok_or_else(|| ServiceError::Other(format!("image {digest} is analyzed but its SBOM document is missing")))?;
    // Before the first feed sync there is nothing to match against: the
    // vulnerability gates then report the data as unavailable.
    let scan = match crate::vulns::data_stamp(state).await? {
        Some(_) => crate::vulns::scan_result(state, account, digest).await?,
        None => None,
    };
    let base_layers = base_layers(state, account, &sbom, base_digest).await?;
    identity.digest = Some(digest.to_owned());
    identity.image_id = sbom.source.image.as_ref().map(|image| image.config_digest.clone());
    let image_id = bare_image_id(identity.image_id.as_deref().unwrap_or_default()).to_owned();
    let now = Utc::now();
    let (evaluation, image_lists) = {
        let bundle = bundle.bundle.clone();
        tokio::task::spawn_blocking(move || {
            let ctx = EvalContext { sbom: &sbom, scan: scan.as_ref(), now, base_layers };
            let evaluation = portcullis_policy::evaluate::evaluate(&bundle, &identity, &ctx);
            let image_lists = MatchedImageLists {
                allowlisted: matching_selector(&bundle, &bundle.allowlisted_images, &identity, &ctx, |probe, list| {
                    probe.allowlisted_images = list
                }),
                denylisted: matching_selector(&bundle, &bundle.denylisted_images, &identity, &ctx, |probe, list| {
                    probe.denylisted_images = list
                }),
            };
            (evaluation, image_lists)
        })
        .await
        .map_err(|error| ServiceError::Other(format!("the policy evaluation task failed: {error}")))?
    };
    let created_at = now_rfc3339();
    let created = crate::schema::stored_time(&created_at)?;
    let stored = StoredEvaluation {
        eval_id: uuid::Uuid::new_v4().simple().to_string(),
        account: account.to_owned(),
        digest: digest.to_owned(),
        tag: tag.to_owned(),
        policy_id: bundle.bundle.id.clone(),
        bundle_digest: bundle.bundle.digest.clone(),
        final_action: evaluation.final_action,
        status: evaluation.status,
        created_at: created,
    };
    let document = anchore_document(&stored, &image_id, &bundle, &evaluation, &image_lists);
    tracing::info!(
        account,
        digest,
        tag,
        policy_id = %stored.policy_id,
        final_action = evaluation.final_action.as_str(),
        decisions = evaluation.decisions.len(),
        "evaluated"
    );
    if store {
        save(state, &stored, &created_at, &document).await?;
    }
    Ok((stored, document))
}

/// How many leading layers of the image (`sbom`) are its base image's: the
/// image `base_digest` names, which must be analysed in the account, or else
/// the one the image's `org.opencontainers.image.base.digest` label, or else
/// its `.base.name` label (as that tag's newest digest), names, when that
/// image is analysed in the account's catalog. A base found through a label that
/// cannot be used leaves the findings unsplit, as an image without labels.
async fn base_layers(
    state: &AppState,
    account: &str,
    sbom: &Sbom,
    base_digest: Option<&str>,
) -> Result<Option<usize>, EvaluationError> {
    if let Some(digest) = base_digest {
        let base = analysed_layers(state, account, digest)
            .await?
            .map_err(|reason| EvaluationError::BadBase { digest: digest.to_owned(), reason })?;
        return Ok(Some(shared_layers(sbom, &base)));
    }
    // The digest label may name a multi-platform index, which the catalog
    // does not hold by that digest: the name label is the second chance.
    let mut candidates: Vec<String> = sbom.image_label(BASE_DIGEST_LABEL).map(str::to_owned).into_iter().collect();
    if let Some(name) = sbom.image_label(BASE_NAME_LABEL)
        && let Some(digest) = crate::images::latest_digest_for_tag(state, account, name).await?
    {
        candidates.push(digest);
    }
    for digest in candidates {
        match analysed_layers(state, account, &digest).await? {
            Ok(base) => return Ok(Some(shared_layers(sbom, &base))),
            Err(reason) => tracing::debug!(account, base = digest, reason, "the labelled base image is not used"),
        }
    }
    Ok(None)
}

fn shared_layers(image: &Sbom, base: &BaseLayers) -> usize {
    image.shared_leading_layers(base.layers.iter().map(|layer| layer.diff_id.as_deref()))
}

/// The layer list of a stored SBOM: all a base image is needed for. Read
/// without the rest of the document (its packages and files are most of it)
/// on every check of an image with a base.
#[derive(serde::Deserialize)]
struct BaseLayers {
    layers: Vec<BaseLayer>,
}

#[derive(serde::Deserialize)]
struct BaseLayer {
    diff_id: Option<String>,
}

/// The layers of an analysed image of the account, or why there are none.
async fn analysed_layers(
    state: &AppState,
    account: &str,
    digest: &str,
) -> Result<Result<BaseLayers, String>, ServiceError> {
    let Some(image) = crate::images::get_image(state, account, digest).await? else {
        return Ok(Err("it is not in this account's catalog".to_owned()));
    };
    if image.analysis_status != portcullis_api::AnalysisStatus::Analyzed {
        return Ok(Err(format!("it is not analyzed (analysis status: {})", image.analysis_status.as_str())));
    }
    let Some(bytes) = state.docs.get(account, bucket::SBOM, digest).await? else {
        return Ok(Err("its SBOM document is missing".to_owned()));
    };
    serde_json::from_slice(&bytes)
        .map(Ok)
        .map_err(|error| ServiceError::Other(format!("stored SBOM of {digest} is unreadable: {error}")))
}

/// Writes the document first, so a row always has its document.
async fn save(
    state: &AppState,
    stored: &StoredEvaluation,
    created_at: &str,
    document: &PolicyEvaluation,
) -> Result<(), EvaluationError> {
    state.docs.put_json(&stored.account, bucket::POLICY_EVALUATIONS, &stored.eval_id, document).await?;
    sqlx::query(
        "INSERT INTO policy_evaluations (eval_id, account, digest, tag, policy_id, bundle_digest, final_action, status,
                                         created_at, created_seq)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&stored.eval_id)
    .bind(&stored.account)
    .bind(&stored.digest)
    .bind(&stored.tag)
    .bind(&stored.policy_id)
    .bind(&stored.bundle_digest)
    .bind(stored.final_action.as_str())
    .bind(status_name(stored.status))
    .bind(created_at)
    .bind(Utc::now().timestamp_micros())
    .execute(state.db.pool())
    .await?;
    Ok(())
}

/// Removes every stored evaluation of an image (its rows, then documents).
pub async fn delete_for_image(state: &AppState, account: &str, digest: &str) -> Result<(), ServiceError> {
    let rows = sqlx::query("SELECT eval_id FROM policy_evaluations WHERE account = $1 AND digest = $2")
        .bind(account)
        .bind(digest)
        .fetch_all(state.db.pool())
        .await?;
    sqlx::query("DELETE FROM policy_evaluations WHERE account = $1 AND digest = $2")
        .bind(account)
        .bind(digest)
        .execute(state.db.pool())
        .await?;
    for row in rows {
        let eval_id: String = row.try_get("eval_id")?;
        if let Err(error) = state.docs.delete(account, bucket::POLICY_EVALUATIONS, &eval_id).await {
            tracing::warn!(%error, account, digest, eval_id, "cannot delete an evaluation document");
        }
    }
    Ok(())
}

/// The newest stored evaluation of the image as `tag`.
pub async fn last_evaluation(
    state: &AppState,
    account: &str,
    digest: &str,
    tag: &str,
) -> Result<Option<StoredEvaluation>, ServiceError> {
    let row = sqlx::query(
        "SELECT * FROM policy_evaluations WHERE account = $1 AND digest = $2 AND tag = $3
         ORDER BY created_seq DESC, eval_id DESC LIMIT 1",
    )
    .bind(account)
    .bind(digest)
    .bind(tag)
    .fetch_optional(state.db.pool())
    .await?;
    row.as_ref().map(stored_from_row).transpose()
}

/// Every stored evaluation of the image as `tag`, newest first.
pub async fn history(
    state: &AppState,
    account: &str,
    digest: &str,
    tag: &str,
) -> Result<Vec<StoredEvaluation>, ServiceError> {
    let rows = sqlx::query(
        "SELECT * FROM policy_evaluations WHERE account = $1 AND digest = $2 AND tag = $3
         ORDER BY created_seq DESC, eval_id DESC",
    )
    .bind(account)
    .bind(digest)
    .bind(tag)
    .fetch_all(state.db.pool())
    .await?;
    rows.iter().map(stored_from_row).collect()
}

/// The stored document of an evaluation.
pub async fn document(state: &AppState, stored: &StoredEvaluation) -> Result<PolicyEvaluation, ServiceError> {
    state
        .docs
        .get_json(&stored.account, bucket::POLICY_EVALUATIONS, &stored.eval_id)
        .await?
        .ok_or_else(|| ServiceError::Other(format!("the document of policy evaluation {} is missing", stored.eval_id)))
}

fn stored_from_row(row: &AnyRow) -> Result<StoredEvaluation, ServiceError> {
    let action: String = row.try_get("final_action")?;
    let status: String = row.try_get("status")?;
    let created_at: String = row.try_get("created_at")?;
    Ok(StoredEvaluation {
        eval_id: row.try_get("eval_id")?,
        account: row.try_get("account")?,
        digest: row.try_get("digest")?,
        tag: row.try_get("tag")?,
        policy_id: row.try_get("policy_id")?,
        bundle_digest: row.try_get("bundle_digest")?,
        final_action: Action::parse(&action)
            .ok_or_else(|| ServiceError::Other(format!("stored final action {action:?} is not STOP, WARN or GO")))?,
        status: match status.as_str() {
            "pass" => Status::Pass,
            "fail" => Status::Fail,
            other => {
                return Err(ServiceError::Other(format!("stored evaluation status {other:?} is not pass or fail")));
            }
        },
        created_at: crate::schema::stored_time(&created_at)?,
    })
}

pub fn status_name(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::Fail => "fail",
    }
}

/// Anchore's image ids are the config digest's bare hex.
fn bare_image_id(id: &str) -> &str {
    id.strip_prefix("sha256:").unwrap_or(id)
}

fn lower(action: Action) -> String {
    action.as_str().to_ascii_lowercase()
}

/// Anchore's stored `PolicyEvaluation`: the verdict, the rules that chose
/// it (as they are written in the bundle document) and the positional gate
/// table `anchore-cli evaluate check --detail` prints.
fn anchore_document(
    stored: &StoredEvaluation,
    image_id: &str,
    bundle: &ValidBundle,
    evaluation: &Evaluation,
    image_lists: &MatchedImageLists,
) -> PolicyEvaluation {
    let model = &bundle.bundle;
    let document = &bundle.document;
    let rows: Vec<Vec<Value>> = evaluation
        .decisions
        .iter()
        .map(|decision| {
            let allowlisted = match &decision.allowlisted {
                Some(by) => json!({
                    "whitelist_name": allowlist_name(model, &by.allowlist_id),
                    "whitelist_id": by.allowlist_id,
                    "matched_rule_id": by.item_id,
                }),
                None => Value::Bool(false),
            };
            // An allowlisted decision counts as GO, as in Anchore's table.
            let action = if decision.allowlisted.is_some() { Action::Go } else { decision.action };
            vec![
                json!(image_id),
                json!(stored.tag),
                json!(decision.trigger_id),
                json!(decision.gate),
                json!(decision.trigger),
                json!(decision.message),
                json!(lower(action)),
                allowlisted,
                json!(decision.policy_id),
            ]
        })
        .collect();
    let table = GateTable {
        header: GateTable::HEADER.iter().map(|column| (*column).to_owned()).collect(),
        row_count: rows.len() as u64,
        rows,
        final_action: lower(policy_only_action(evaluation)),
    };
    let mapping_index = evaluation.mapping.as_ref().and_then(|matched| {
        model.mappings.iter().position(|mapping| mapping.id == matched.id && mapping.name == matched.name)
    });
    let whitelist_names = mapping_index
        .and_then(|index| model.mappings.get(index))
        .map(|mapping| mapping.allowlist_ids.iter().map(|id| allowlist_name(model, id)).collect())
        .unwrap_or_default();
    let created = stored.created_at.timestamp();
    PolicyEvaluation {
        user_id: stored.account.clone(),
        image_id: image_id.to_owned(),
        image_digest: stored.digest.clone(),
        tag: stored.tag.clone(),
        bundle: document.clone(),
        matched_mapping_rule: raw_entry(document, &["mappings"], mapping_index),
        matched_whitelisted_images_rule: raw_entry(
            document,
            &["whitelisted_images", "allowlisted_images"],
            image_lists.allowlisted,
        ),
        matched_blacklisted_images_rule: raw_entry(
            document,
            &["blacklisted_images", "denylisted_images"],
            image_lists.denylisted,
        ),
        final_action: lower(evaluation.final_action),
        final_action_reason: anchore_reason(evaluation.final_action_reason).to_owned(),
        evaluation_problems: evaluation
            .problems
            .iter()
            .map(|problem| {
                json!({
                    "problem_type": "EvaluationProblem",
                    "severity": "error",
                    "policy_id": problem.policy_id,
                    "rule_id": problem.rule_id,
                    "details": problem.message,
                })
            })
            .collect(),
        status: status_name(stored.status).to_owned(),
        created_at: created,
        last_modified: created,
        result: PolicyEvaluationResults {
            images: [(image_id.to_owned(), ImageGateResult { result: table })].into_iter().collect(),
            policy_data: Vec::new(),
            whitelist_data: Vec::new(),
            policy_name: model.name.clone().unwrap_or_default(),
            whitelist_names,
        },
    }
}

/// The table's `final_action`: the policies' verdict alone, before the
/// image allow- and denylists (Anchore keeps both).
fn policy_only_action(evaluation: &Evaluation) -> Action {
    if evaluation.final_action_reason == FinalActionReason::Unmapped {
        return evaluation.final_action;
    }
    evaluation
        .decisions
        .iter()
        .filter(|decision| decision.allowlisted.is_none())
        .map(|decision| decision.action)
        .min()
        .unwrap_or(Action::Go)
}

/// Anchore's reasons; it has none for unmapped images or evaluation problems.
fn anchore_reason(reason: FinalActionReason) -> &'static str {
    match reason {
        FinalActionReason::Denylisted => "blacklisted",
        FinalActionReason::Allowlisted => "whitelisted",
        FinalActionReason::PolicyEvaluation | FinalActionReason::EvaluationProblems | FinalActionReason::Unmapped => {
            "policy_evaluation"
        }
    }
}

fn allowlist_name(bundle: &Bundle, id: &str) -> String {
    bundle
        .allowlists
        .iter()
        .find(|allowlist| allowlist.id == id)
        .and_then(|allowlist| allowlist.name.clone())
        .unwrap_or_else(|| id.to_owned())
}

/// Which entry of each image list selected the image, by index.
struct MatchedImageLists {
    allowlisted: Option<usize>,
    denylisted: Option<usize>,
}

/// The index of the first entry of an image list (`selectors`) that selects
/// the image. The evaluator says only whether some entry matched; asking it
/// again about a bundle holding nothing but that one entry (`set` puts the
/// list in place) keeps the matching rules in one place.
fn matching_selector(
    bundle: &Bundle,
    selectors: &[ImageSelector],
    image: &ImageIdentity,
    ctx: &EvalContext<'_>,
    set: fn(&mut Bundle, Vec<ImageSelector>),
) -> Option<usize> {
    selectors.iter().position(|selector| {
        let mut probe = Bundle {
            policies: Vec::new(),
            allowlists: Vec::new(),
            mappings: Vec::new(),
            allowlisted_images: Vec::new(),
            denylisted_images: Vec::new(),
            ..bundle.clone()
        };
        set(&mut probe, vec![selector.clone()]);
        let outcome = portcullis_policy::evaluate::evaluate(&probe, image, ctx);
        matches!(outcome.final_action_reason, FinalActionReason::Denylisted | FinalActionReason::Allowlisted)
    })
}

/// Entry `index` of the first of `keys` (the v1 and v2 names of one list)
/// in the bundle document, or `false` as Anchore writes "none".
fn raw_entry(document: &Value, keys: &[&str], index: Option<usize>) -> Value {
    index
        .and_then(|index| keys.iter().find_map(|key| document.get(*key)?.get(index)))
        .cloned()
        .unwrap_or(Value::Bool(false))
}
