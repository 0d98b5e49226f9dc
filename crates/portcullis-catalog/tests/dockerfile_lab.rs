//! Dockerfile reconstruction from the lab images' real config blobs
//! (`oci/<image>/index.json` → manifest → config), read with the image
//! crate's own config parser: deb-base has the classic builder's history,
//! deb-python and deb-mixed BuildKit's. The expected lines were written by
//! hand from what `shared/lab/README.md` says each image's build did.

use std::path::Path;

use portcullis_catalog::content::dockerfile::{DockerfileError, from_user, guessed, instructions, reconstruct};
use portcullis_image::source::oci::{ManifestOrigin, image_info, parse_config};
use portcullis_sbom::{DockerfileKind, ImageInfo};
use portcullis_testkit::data::{lab_image, read_bytes, read_json};
use regex::Regex;
use serde_json::Value;

fn blob(layout: &Path, digest: &str) -> Vec<u8> {
    let hex = digest.strip_prefix("sha256:").unwrap_or_else(|| panic!("unexpected digest {digest}"));
    read_bytes(&layout.join("blobs/sha256").join(hex))
}

fn image(name: &str) -> ImageInfo {
    let layout = lab_image(name);
    let index = read_json(&layout.join("index.json"));
    let manifest_digest = index["manifests"][0]["digest"].as_str().unwrap();
    let manifest: Value = serde_json::from_slice(&blob(&layout, manifest_digest)).unwrap();
    let config_digest = manifest["config"]["digest"].as_str().unwrap();
    let config = parse_config(&blob(&layout, config_digest), "config").unwrap();
    image_info(ManifestOrigin::default(), config_digest, &config)
}

/// Compares line by line; `ADD file:<hash> /` lines match any 64-hex hash
/// (digests change with every lab build).
fn assert_lines(name: &str, text: &str, expected: &[&str]) {
    let add = Regex::new(r"^ADD file:[0-9a-f]{64} /$").unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for (n, (got, want)) in lines.iter().zip(expected).enumerate() {
        let ok = if *want == "ADD file:<hash> /" { add.is_match(got) } else { got == want };
        assert!(ok, "{name} line {}:\n  got  {got:?}\n  want {want:?}\n{text}", n + 1);
    }
    assert_eq!(lines.len(), expected.len(), "{name}:\n{text}");
    assert!(text.ends_with('\n'));
}

const DEB_BASE: &[&str] = &["FROM scratch", "ADD file:<hash> /", "CMD [\"bash\"]"];

const DEB_PYTHON: &[&str] = &[
    "FROM scratch",
    "ADD file:<hash> /",
    "CMD [\"bash\"]",
    "ENV LANG=C.UTF-8 PYTHONPATH=/usr/local/lib/python3.11/site-packages",
    "WORKDIR /app",
    "RUN apt-get update && apt-get install -y --no-install-recommends python3 ca-certificates && apt-get clean && rm -rf /var/lib/apt/lists/*",
    "RUN groupadd --gid 1000 app && useradd --uid 1000 --gid app --create-home --shell /bin/bash app",
    "COPY requirements.txt app.py /app/",
    "RUN pip install --no-cache-dir --no-deps --target /usr/local/lib/python3.11/site-packages -r /app/requirements.txt",
    "USER app",
    "EXPOSE 8000/tcp",
    "CMD [\"python3\",\"/app/app.py\"]",
    "LABEL org.opencontainers.image.title=deb-python org.opencontainers.image.description=\"Debian bookworm + CPython 3.11 + old PyPI packages\"",
];

#[test]
fn deb_base_classic_builder() {
    let info = image("deb-base");
    let text = reconstruct(&info.history, &info.config);
    assert_lines("deb-base", &text, DEB_BASE);
}

#[test]
fn deb_python_buildkit() {
    let info = image("deb-python");
    let text = reconstruct(&info.history, &info.config);
    assert_lines("deb-python", &text, DEB_PYTHON);
}

#[test]
fn deb_mixed_buildkit() {
    let info = image("deb-mixed");
    let text = reconstruct(&info.history, &info.config);
    let mut expected: Vec<&str> = DEB_PYTHON.to_vec();
    expected.extend([
        "ENV DJANGO_SETTINGS_MODULE=config.settings AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
        "USER root",
        "COPY . /app/",
        "RUN cp /bin/bash /usr/local/bin/rootbash && chmod 4755 /usr/local/bin/rootbash && cp /usr/bin/find /usr/local/bin/find-sgid && chmod 2755 /usr/local/bin/find-sgid && chmod 0666 /app/config/settings.py",
        "RUN rm -f /app/config/old-deploy-key.pem && pip uninstall -y --break-system-packages PyYAML",
        "RUN rm -rf /app/static && mkdir /app/static && cp -r /tmp/static-v2/. /app/static/",
        "EXPOSE 22/tcp 8000/tcp",
        "LABEL org.opencontainers.image.title=deb-mixed org.opencontainers.image.description=\"deb-python + fake secrets, setuid files, whiteouts\"",
    ]);
    assert_lines("deb-mixed", &text, &expected);
}

/// The guessed Dockerfiles read back as one instruction per history step,
/// pass the user-Dockerfile checks, and agree with the final configuration
/// (last USER, EXPOSE, CMD) as the policy engine's dockerfile gate will read
/// them.
#[test]
fn reconstructed_dockerfiles_parse_back() {
    for name in ["deb-base", "deb-python", "deb-mixed"] {
        let info = image(name);
        let guess = guessed(&info.history, &info.config);
        assert_eq!(guess.kind, DockerfileKind::Guessed);
        let parsed = instructions(&guess.text);
        let steps = info.history.iter().filter(|h| h.created_by.is_some()).count();
        assert_eq!(parsed.len(), steps + 1, "{name}");
        assert_eq!(parsed[0].keyword, "FROM");
        for (n, instruction) in parsed.iter().enumerate() {
            assert_eq!(instruction.line, n as u64 + 1, "{name}: one line per instruction");
        }
        let last = |keyword: &str| parsed.iter().rev().find(|i| i.keyword == keyword).map(|i| i.args.clone());
        assert_eq!(last("USER"), info.config.user.clone(), "{name}");
        let cmd = parsed.iter().rev().find(|i| i.keyword == "CMD").and_then(|i| i.exec_form.clone());
        assert_eq!(cmd.as_ref(), Some(&info.config.cmd), "{name}");
        let exposed: Vec<String> =
            last("EXPOSE").map(|e| e.split_whitespace().map(str::to_owned).collect()).unwrap_or_default();
        let mut config_ports = info.config.exposed_ports.clone();
        config_ports.sort();
        assert_eq!(exposed, config_ports, "{name}");
        let actual = from_user(&guess.text).unwrap_or_else(|e| panic!("{name}: {e}\n{}", guess.text));
        assert_eq!(actual.kind, DockerfileKind::Actual);
    }
}

#[test]
fn user_dockerfile_for_the_lab_image() {
    // What deb-python's build amounts to, as a user would write it.
    let text = "# syntax=docker/dockerfile:1\n\
                FROM lab/deb-base:latest\n\
                ENV LANG=C.UTF-8 \\\n    PYTHONPATH=/usr/local/lib/python3.11/site-packages\n\
                WORKDIR /app\n\
                # system packages\n\
                RUN apt-get update \\\n    && apt-get install -y --no-install-recommends python3 ca-certificates \\\n    && apt-get clean\n\
                COPY requirements.txt app.py /app/\n\
                USER app\n\
                EXPOSE 8000\n\
                CMD [\"python3\", \"/app/app.py\"]\n";
    let dockerfile = from_user(text).unwrap();
    assert_eq!(dockerfile.text, text);
    let parsed = instructions(text);
    let summary: Vec<(&str, u64)> = parsed.iter().map(|i| (i.keyword.as_str(), i.line)).collect();
    assert_eq!(
        summary,
        vec![
            ("FROM", 2),
            ("ENV", 3),
            ("WORKDIR", 5),
            ("RUN", 7),
            ("COPY", 10),
            ("USER", 11),
            ("EXPOSE", 12),
            ("CMD", 13)
        ]
    );
    assert_eq!(parsed[1].args, "LANG=C.UTF-8     PYTHONPATH=/usr/local/lib/python3.11/site-packages");
    assert_eq!(parsed[7].exec_form.as_deref(), Some(&["python3".to_owned(), "/app/app.py".to_owned()][..]));
    // Broken variants are refused with the line at fault.
    assert!(matches!(
        from_user(&text.replace("WORKDIR", "WORKDIRR")),
        Err(DockerfileError::UnknownInstruction { line: 5, .. })
    ));
    assert!(matches!(from_user(""), Err(DockerfileError::Empty)));
}
