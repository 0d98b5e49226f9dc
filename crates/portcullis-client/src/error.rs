use portcullis_api::ApiErrorResponse;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with a non-2xx status.
    #[error("{method} {url}: the server answered {status}: {body}")]
    Http { method: String, url: String, status: u16, body: Box<ApiErrorResponse> },
    /// No answer: connection refused, DNS, TLS or a timeout.
    #[error("{method} {url}: cannot reach the server: {reason}")]
    Unreachable { method: String, url: String, reason: String },
    /// A 2xx answer whose body is not what the route returns.
    #[error("{method} {url}: unexpected response body: {reason}")]
    Decode { method: String, url: String, reason: String },
    /// The configured base URL cannot be used.
    #[error("invalid server URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
}

impl ClientError {
    /// The HTTP status, for [`ClientError::Http`].
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Describes an error with its causes, which reqwest keeps in the source chain.
pub(crate) fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
