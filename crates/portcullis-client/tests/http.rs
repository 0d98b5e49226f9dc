//! The client against a real loopback HTTP server: what it sends, and how it
//! reports each way a request can fail.

use portcullis_api::{ListImagesQuery, RegistryConfigurationRequest, VulnerabilityQuery, VulnerabilityType};
use portcullis_client::{Auth, Client, ClientConfig, ClientError};
use portcullis_testkit::http::{HttpServer, Response};
use serde_json::json;

fn client(server: &HttpServer, auth: Auth, account: Option<&str>) -> Client {
    let mut config = ClientConfig::new(format!("{}/v1", server.url()), auth);
    config.account = account.map(str::to_owned);
    Client::new(config).unwrap()
}

#[test]
fn sends_auth_account_header_encoded_paths_and_queries() {
    let server = HttpServer::start(|_| Response::json(200, &json!([])));
    let client = client(&server, Auth::basic("admin", "foobar"), Some("team-a"));
    client
        .list_images(&ListImagesQuery { fulltag: Some("docker.io/library/nginx:1.25".into()), ..Default::default() })
        .unwrap();
    client.get_registry("localhost:5000/team/*").unwrap();
    client.list_registries().unwrap();

    let requests = server.requests();
    assert_eq!(requests[0].path(), "/v1/images");
    assert_eq!(requests[0].query("fulltag"), ["docker.io/library/nginx:1.25"]);
    // base64("admin:foobar")
    assert_eq!(requests[0].header("authorization"), Some("Basic YWRtaW46Zm9vYmFy"));
    assert_eq!(requests[0].header("x-anchore-account"), Some("team-a"));
    assert_eq!(requests[1].path(), "/v1/registries/localhost:5000%2Fteam%2F*");
    assert_eq!(requests[2].target, "/v1/registries");
}

#[test]
fn bearer_token_and_no_account_header() {
    let server = HttpServer::start(|_| {
        Response::json(200, &json!({"imageDigest":"sha256:ab","vulnerability_type":"os","vulnerabilities":[]}))
    });
    let client = client(&server, Auth::Bearer("t0ken".into()), None);
    let report = client
        .vulnerabilities(
            "sha256:ab",
            VulnerabilityType::Os,
            &VulnerabilityQuery { vendor_only: Some(false), ..Default::default() },
        )
        .unwrap();
    assert!(report.vulnerabilities.is_empty());
    let request = &server.requests()[0];
    assert_eq!(request.path(), "/v1/images/sha256:ab/vuln/os");
    assert_eq!(request.query("vendor_only"), ["false"]);
    assert_eq!(request.header("authorization"), Some("Bearer t0ken"));
    assert_eq!(request.header("x-anchore-account"), None);
}

#[test]
fn anchore_error_body_is_kept() {
    let server = HttpServer::start(|_| {
        Response::json(
            404,
            &json!({"code":404,"error_type":"not_found","message":"image not found","detail":{"digest":"sha256:ab"}}),
        )
    });
    let err = client(&server, Auth::basic("admin", "foobar"), None).get_image("sha256:ab").unwrap_err();
    let ClientError::Http { status, body, url, .. } = &err else { panic!("{err:?}") };
    assert_eq!(*status, 404);
    assert_eq!(body.message, "image not found");
    assert_eq!(body.httpcode, 404, "filled in from the status");
    assert!(url.ends_with("/v1/images/sha256:ab"), "{url}");
    let text = err.to_string();
    assert!(
        text.contains("GET http://127.0.0.1:") && text.contains("the server answered 404: image not found"),
        "{text}"
    );
    assert!(text.contains(r#"{"digest":"sha256:ab"}"#), "{text}");
}

#[test]
fn non_json_error_body_becomes_the_message() {
    let server = HttpServer::start(|_| Response::new(502).body("<html>bad gateway</html>"));
    let err = client(&server, Auth::None, None).system_status().unwrap_err();
    assert_eq!(err.status(), Some(502));
    let ClientError::Http { body, .. } = &err else { panic!("{err:?}") };
    assert_eq!(body.message, "<html>bad gateway</html>");
    assert_eq!(body.code, 502);
}

#[test]
fn empty_401_says_to_check_credentials() {
    let server = HttpServer::start(|_| Response::new(401));
    let err = client(&server, Auth::basic("admin", "wrong"), None).ping().unwrap_err();
    assert!(err.to_string().contains("Unauthorized - please check your username/password"), "{err}");
}

#[test]
fn unexpected_success_body_is_a_decode_error() {
    let server = HttpServer::start(|_| Response::json(200, &json!({"not": "a list"})));
    let err = client(&server, Auth::None, None).list_policies(false).unwrap_err();
    let ClientError::Decode { url, reason, .. } = &err else { panic!("{err:?}") };
    assert!(url.ends_with("/v1/policies?detail=false"), "{url}");
    assert!(reason.contains(r#"{"not": "a list"}"#) || reason.contains(r#"{"not":"a list"}"#), "{reason}");
}

#[test]
fn closed_port_is_unreachable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/v1");
    let client = Client::new(ClientConfig::new(url.clone(), Auth::None)).unwrap();
    let err = client.ping().unwrap_err();
    assert!(matches!(err, ClientError::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains(&format!("GET {url}")), "{err}");
    assert!(err.to_string().contains("cannot reach the server"), "{err}");
}

#[test]
fn invalid_base_urls() {
    for (url, reason) in [
        ("127.0.0.1:8228/v1", "expected a URL like http://host:8228/v1"),
        ("not a url", "relative URL"),
        ("ftp://host/v1", "http or https"),
        ("http://host/v1?x=1", "without a query"),
    ] {
        let err = Client::new(ClientConfig::new(url, Auth::None)).unwrap_err();
        assert!(matches!(err, ClientError::InvalidUrl { .. }), "{url}: {err:?}");
        assert!(err.to_string().contains(reason), "{url}: {err}");
    }
}

#[test]
fn update_registry_puts_to_the_quoted_name() {
    let server = HttpServer::start(|_| Response::json(200, &json!([])));
    let request = RegistryConfigurationRequest {
        registry: "localhost:5000/team".into(),
        registry_name: None,
        registry_user: "u".into(),
        registry_pass: "p".into(),
        registry_type: Some("docker_v2".into()),
        registry_verify: false,
    };
    client(&server, Auth::None, None).update_registry(&request, false).unwrap();
    let sent = &server.requests()[0];
    assert_eq!(sent.method, "PUT");
    assert_eq!(sent.target, "/v1/registries/localhost:5000%2Fteam?validate=false");
    assert_eq!(sent.header("content-type"), Some("application/json"));
}
