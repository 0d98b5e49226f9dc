//! `s3`: an S3 or S3-compatible bucket through the `object_store` crate.
//! URLs are `s3://{bucket}/{object path}`.

use std::error::Error as _;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder, AwsAuthorizer};
use object_store::client::{HttpError, HttpErrorKind, HttpRequest, HttpRequestBody};
use object_store::path::{Path, PathPart};
use object_store::signer::Method;
use object_store::{BackoffConfig, ClientOptions, ObjectStoreExt, PutPayload, RetryConfig};
use serde::Deserialize;

use super::{DocName, versioned_object_name};
use crate::error::{ObjectStoreError, Result, error_chain};

const DRIVER: &str = "s3";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct S3Config {
    access_key: Option<String>,
    secret_key: Option<String>,
    /// Take credentials from the environment, the instance or the task role.
    #[serde(default)]
    iamauto: bool,
    /// A custom endpoint (MinIO, Ceph, moto...); path-style requests.
    url: Option<String>,
    region: Option<String>,
    bucket: String,
    #[serde(default)]
    create_bucket: bool,
    #[serde(default)]
    prefix: String,
}

pub(crate) struct S3Driver {
    store: AmazonS3,
    bucket: String,
    prefix: String,
    endpoint: String,
}

impl S3Driver {
    pub(crate) async fn new(config: S3Config) -> Result<Self> {
        if config.bucket.is_empty() {
            return Err(ObjectStoreError::Config("the s3 driver needs a bucket".into()));
        }
        let region = config.region.clone().unwrap_or_else(|| "us-east-1".to_owned());
        let mut builder = if config.iamauto { AmazonS3Builder::from_env() } else { AmazonS3Builder::new() };
        match (&config.access_key, &config.secret_key) {
            (Some(access_key), Some(secret_key)) => {
                builder = builder.with_access_key_id(access_key).with_secret_access_key(secret_key);
            }
            (None, None) if config.iamauto => {}
            _ => {
                return Err(ObjectStoreError::Config(
                    "the s3 driver needs access_key and secret_key (or iamauto: true)".into(),
                ));
            }
        }
        // object_store's default is ten retries over three minutes: a wrong
        // endpoint would stall start-up that long. (Set before the endpoint:
        // `with_allow_http` is one of these client options.)
        let retry =
            RetryConfig { backoff: BackoffConfig::default(), max_retries: 3, retry_timeout: Duration::from_secs(30) };
        builder = builder
            .with_retry(retry)
            .with_client_options(ClientOptions::new().with_connect_timeout(Duration::from_secs(10)))
            .with_bucket_name(&config.bucket)
            .with_region(&region);
        let endpoint = match &config.url {
            Some(url) => {
                builder = builder
                    .with_endpoint(url.trim_end_matches('/'))
                    .with_allow_http(true)
                    .with_virtual_hosted_style_request(false);
                url.trim_end_matches('/').to_owned()
            }
            None => format!("https://s3.{region}.amazonaws.com"),
        };
        let store = builder.build().map_err(|e| ObjectStoreError::Config(format!("s3 driver: {e}")))?;
        let driver = Self { store, bucket: config.bucket, prefix: config.prefix, endpoint };
        if config.create_bucket {
            driver.create_bucket(&region).await?;
        }
        Ok(driver)
    }

    /// object_store cannot create buckets: this signs a `PUT /{bucket}`
    /// (CreateBucket) with its SigV4 authorizer and credential chain, rather
    /// than carrying a second signing implementation.
    async fn create_bucket(&self, region: &str) -> Result<()> {
        let signing = |detail: String| ObjectStoreError::Backend {
            driver: DRIVER,
            operation: "sign a CreateBucket request for",
            location: self.bucket.clone(),
            detail,
        };
        let credential = self.store.credentials().get_credential().await.map_err(|e| signing(error_chain(&e)))?;
        // Outside us-east-1 the region must be named in the body.
        let body = if region == "us-east-1" {
            String::new()
        } else {
            format!(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                 <LocationConstraint>{region}</LocationConstraint></CreateBucketConfiguration>"
            )
        };
        let url = format!("{}/{}", self.endpoint, self.bucket);
        let mut request = HttpRequest::new(HttpRequestBody::from(body));
        *request.method_mut() = Method::PUT;
        *request.uri_mut() = url.parse().map_err(|e| signing(format!("{url}: {e}")))?;
        AwsAuthorizer::new(&credential, "s3", region)
            .try_authorize(&mut request, None)
            .map_err(|e| signing(error_chain(&e)))?;
        let body = request.body().as_bytes().map(|b| b.to_vec()).unwrap_or_default();
        let response = reqwest::Client::new()
            .request(Method::PUT, url.as_str())
            .headers(request.headers().clone())
            // S3 wants a Content-Length even for an empty body; reqwest leaves it out.
            .header(reqwest::header::CONTENT_LENGTH, body.len())
            .body(body)
            .send()
            .await
            .map_err(|e| ObjectStoreError::Unreachable {
                driver: DRIVER,
                endpoint: self.endpoint.clone(),
                detail: error_chain(&e),
            })?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        match status.as_u16() {
            200..=299 => {
                tracing::info!(bucket = %self.bucket, endpoint = %self.endpoint, "created the S3 bucket");
                Ok(())
            }
            409 if body.contains("BucketAlreadyOwnedByYou") => Ok(()),
            401 | 403 => Err(ObjectStoreError::Unauthorized {
                driver: DRIVER,
                endpoint: self.endpoint.clone(),
                detail: format!("CreateBucket {}: {status}: {body}", self.bucket),
            }),
            _ => Err(ObjectStoreError::Backend {
                driver: DRIVER,
                operation: "create the bucket",
                location: self.bucket.clone(),
                detail: format!("{status}: {body}"),
            }),
        }
    }

    pub(crate) fn owns(&self, url: &str) -> bool {
        url.strip_prefix("s3://").and_then(|rest| rest.strip_prefix(self.bucket.as_str())).is_some_and(|rest| {
            rest.strip_prefix('/').is_some_and(|path| path.starts_with(self.prefix.trim_start_matches('/')))
        })
    }

    fn path_of(&self, url: &str) -> Result<Path> {
        let path = url
            .strip_prefix("s3://")
            .and_then(|rest| rest.strip_prefix(self.bucket.as_str()))
            .and_then(|rest| rest.strip_prefix('/'));
        let invalid = |detail: String| ObjectStoreError::Backend {
            driver: DRIVER,
            operation: "read",
            location: url.to_owned(),
            detail,
        };
        let path = path.ok_or_else(|| invalid(format!("not an object of the bucket {}", self.bucket)))?;
        Path::parse(path).map_err(|e| invalid(e.to_string()))
    }

    /// Maps an object_store error to the kinds a user can act on.
    fn error(&self, operation: &'static str, location: &str, error: object_store::Error) -> ObjectStoreError {
        let detail = error_chain(&error);
        match &error {
            object_store::Error::Unauthenticated { .. } | object_store::Error::PermissionDenied { .. } => {
                ObjectStoreError::Unauthorized { driver: DRIVER, endpoint: self.endpoint.clone(), detail }
            }
            _ if detail.contains("NoSuchBucket") => ObjectStoreError::MissingContainer {
                driver: DRIVER,
                what: "bucket",
                name: self.bucket.clone(),
                endpoint: self.endpoint.clone(),
                option: "create_bucket",
            },
            _ if is_connect_error(&error) => {
                ObjectStoreError::Unreachable { driver: DRIVER, endpoint: self.endpoint.clone(), detail }
            }
            _ => ObjectStoreError::Backend { driver: DRIVER, operation, location: location.to_owned(), detail },
        }
    }

    pub(crate) async fn put(&self, name: &DocName<'_>, data: &[u8]) -> Result<String> {
        let object = versioned_object_name(&self.prefix, name);
        // Splitting on `/` keeps the hierarchy; each part is encoded on its own.
        let path: Path = object.split('/').map(PathPart::from).collect();
        self.store
            .put(&path, PutPayload::from(data.to_vec()))
            .await
            .map_err(|e| self.error("store", path.as_ref(), e))?;
        Ok(format!("s3://{}/{path}", self.bucket))
    }

    pub(crate) async fn get(&self, url: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path_of(url)?;
        match self.store.get(&path).await {
            Ok(result) => {
                let bytes = result.bytes().await.map_err(|e| self.error("read", url, e))?;
                Ok(Some(bytes.to_vec()))
            }
            Err(object_store::Error::NotFound { source, .. }) if !source.to_string().contains("NoSuchBucket") => {
                Ok(None)
            }
            Err(e) => Err(self.error("read", url, e)),
        }
    }

    pub(crate) async fn delete(&self, url: &str) -> Result<()> {
        let path = self.path_of(url)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.error("delete", url, e)),
        }
    }
}

fn is_connect_error(error: &object_store::Error) -> bool {
    let mut source = error.source();
    while let Some(error) = source {
        if let Some(http) = error.downcast_ref::<HttpError>() {
            return matches!(http.kind(), HttpErrorKind::Connect | HttpErrorKind::Timeout);
        }
        source = error.source();
    }
    false
}
