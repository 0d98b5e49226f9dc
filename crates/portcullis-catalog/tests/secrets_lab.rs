//! Secret search against the lab images: the fake secrets planted in
//! deb-mixed (ground truth in `shared/lab/README.md`) are each found by the
//! right rule on the right line, and every other file of every lab image
//! yields nothing, which is how false positives in Debian's own files are
//! caught. Plus the error and skip paths.

use std::collections::BTreeSet;
use std::fs;
use std::time::Instant;

use portcullis_catalog::content::secrets::{
    BINARY_PROBE_LEN, ContentError, ContentScanner, DEFAULT_MAX_FILE_SIZE, ScanOutcome, SecretRule, default_rules,
};
use portcullis_testkit::data::{lab_root, lab_rootfs, regular_files};

/// 1-based number of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> u64 {
    let index = text.lines().position(|l| l.contains(needle));
    index.unwrap_or_else(|| panic!("{needle:?} not in {text:?}")) as u64 + 1
}

#[test]
fn deb_mixed_ground_truth() {
    let config = lab_rootfs("deb-mixed").join("app/config");
    let scanner = ContentScanner::default();
    let read = |name: &str| fs::read_to_string(config.join(name)).unwrap();
    let credentials = read("credentials");
    let settings = read("settings.py");
    let docker = read("docker-config.json");
    // Expected lines come from the files, so the test checks the scanner's
    // line counting rather than copying it.
    let expected: Vec<(&str, Vec<(&str, u64)>)> = vec![
        (
            "credentials",
            vec![
                ("AWS_ACCESS_KEY", line_of(&credentials, "aws_access_key_id")),
                ("AWS_SECRET_KEY", line_of(&credentials, "aws_secret_access_key")),
            ],
        ),
        ("settings.py", vec![("API_KEY", line_of(&settings, "API_KEY"))]),
        // Anchore's PRIV_KEY (`-+BEGIN(.*)PRIVATE KEY-+`) matches both keys; the
        // RSA one is told apart by RSA_PRIV_KEY.
        ("tls.key", vec![("PRIV_KEY", 1)]),
        ("server.key", vec![("PRIV_KEY", 1), ("RSA_PRIV_KEY", 1)]),
        ("docker-config.json", vec![("DOCKER_AUTH", line_of(&docker, "\"auth\":"))]),
    ];
    let mut names: Vec<String> =
        fs::read_dir(&config).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names.len(), expected.len(), "files in {}: {names:?}", config.display());
    for (name, want) in expected {
        let bytes = fs::read(config.join(name)).unwrap();
        let found = scanner.scan(&bytes);
        let found: Vec<(&str, u64)> = found.iter().map(|(r, l)| (r.as_str(), *l)).collect();
        assert_eq!(found, want, "{name}");
        // Whatever a finding holds, it is not the secret: no word of the
        // file from 8 characters up appears in the findings' text.
        let shown = format!("{:?} {:?}", scanner.scan(&bytes), scanner.scan_file(&bytes));
        for word in String::from_utf8_lossy(&bytes).split(|c: char| c.is_whitespace() || "\"=:,{}".contains(c)) {
            if word.len() >= 8 && !word.starts_with("-----") {
                assert!(!shown.contains(word), "{name}: finding output contains {word:?}");
            }
        }
    }
}

#[test]
fn anchore_rule_names_come_first() {
    let names: Vec<String> = default_rules().into_iter().map(|r| r.name).collect();
    assert_eq!(names[..5], ["AWS_ACCESS_KEY", "AWS_SECRET_KEY", "PRIV_KEY", "DOCKER_AUTH", "API_KEY"]);
    let unique: BTreeSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), names.len());
}

/// Every regular file of every lab image, scanned with the default rules.
/// The only findings are deb-mixed's planted ones: anything else found in
/// Debian's files, Python's standard library, the PyPI packages, npm's
/// node_modules or Debian's nodejs modules is a false positive.
#[test]
fn whole_lab_rootfs_findings() {
    let scanner = ContentScanner::default();
    let mut images: Vec<String> = fs::read_dir(lab_root().join("rootfs"))
        .unwrap_or_else(|e| panic!("no lab rootfs ({e}): run ./scripts/test.sh"))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    images.sort();
    for must in ["deb-base", "deb-python", "deb-node", "deb-mixed"] {
        assert!(images.iter().any(|i| i == must), "lab image {must} missing: {images:?}");
    }
    for image in images {
        let root = lab_rootfs(&image);
        let contents: Vec<(String, Vec<u8>)> = regular_files(&root)
            .iter()
            .map(|f| (format!("/{}", f.strip_prefix(&root).unwrap().display()), fs::read(f).unwrap()))
            .collect();
        let started = Instant::now();
        let mut found = BTreeSet::new();
        let (mut scanned, mut binary, mut large, mut bytes) = (0, 0, 0, 0);
        for (path, content) in &contents {
            match scanner.scan_file(content) {
                ScanOutcome::Scanned(matches) => {
                    scanned += 1;
                    bytes += content.len();
                    for (rule, line) in matches {
                        found.insert(format!("{path}:{line} {rule}"));
                    }
                }
                ScanOutcome::SkippedBinary => binary += 1,
                ScanOutcome::SkippedTooLarge { size, max } => {
                    assert!(size > max);
                    large += 1;
                }
            }
        }
        eprintln!(
            "{image}: {} files, {scanned} scanned ({} MB), {binary} binary, {large} too large, in {:?}",
            contents.len(),
            bytes / 1_000_000,
            started.elapsed()
        );
        let expected: BTreeSet<String> = if image == "deb-mixed" {
            [
                "/app/config/credentials:2 AWS_ACCESS_KEY",
                "/app/config/credentials:3 AWS_SECRET_KEY",
                "/app/config/docker-config.json:4 DOCKER_AUTH",
                "/app/config/server.key:1 PRIV_KEY",
                "/app/config/server.key:1 RSA_PRIV_KEY",
                "/app/config/settings.py:4 API_KEY",
                "/app/config/tls.key:1 PRIV_KEY",
            ]
            .into_iter()
            .map(String::from)
            .collect()
        } else {
            BTreeSet::new()
        };
        assert_eq!(found, expected, "{image}");
    }
}

#[test]
fn invalid_user_rules_are_refused_with_a_clear_error() {
    match SecretRule::new("BROKEN", "(unclosed") {
        Err(e @ ContentError::InvalidRegex { .. }) => {
            let text = e.to_string();
            assert!(text.contains("BROKEN") && text.contains("unclosed"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    // Anchore's own default, with look-behind: the `regex` crate refuses it
    // and says why.
    let anchore = r"AWS_ACCESS_KEY=(?i).*aws_access_key_id( *=+ *).*(?<![A-Z0-9])[A-Z0-9]{20}(?![A-Z0-9]).*";
    let error = SecretRule::parse(anchore).unwrap_err().to_string();
    assert!(error.contains("AWS_ACCESS_KEY") && error.contains("look-around"), "{error}");
    assert!(matches!(SecretRule::new("", "x"), Err(ContentError::InvalidName { .. })));
    assert!(matches!(SecretRule::new("has space", "x"), Err(ContentError::InvalidName { .. })));
    assert!(matches!(SecretRule::parse("no-equals-sign"), Err(ContentError::MissingName { .. })));
    assert!(matches!(SecretRule::parse("=x"), Err(ContentError::MissingName { .. })));
    // A pattern too large to compile is an error, not a slow scan.
    assert!(matches!(SecretRule::new("HUGE", r"\w{1000}\w{1000}\w{1000}"), Err(ContentError::InvalidRegex { .. })));
}

#[test]
fn user_rules_alone_and_with_the_defaults() {
    let todo = SecretRule::parse("TODO=TODO|FIXME").unwrap().with_description("work left");
    assert_eq!(todo.description, "work left");
    let block = SecretRule::new("BLOCK", r"(?s)BEGIN.{0,20}END").unwrap();
    let text = b"a\nTODO one\nb\nBEGIN\nx\nEND FIXME\n";
    let only_user = ContentScanner::new(vec![todo.clone(), block]);
    let found = only_user.scan(text);
    assert_eq!(found, vec![("TODO".into(), 2), ("BLOCK".into(), 4), ("TODO".into(), 6)]);
    // User rules next to the anchored defaults.
    let mut rules = default_rules();
    rules.push(todo);
    let mixed = ContentScanner::new(rules);
    let text = b"TODO\naws_access_key_id = AKIAZ7X2LAB3FAKE4KEY\n";
    assert_eq!(
        mixed.scan(text),
        vec![("TODO".into(), 1), ("AWS_ACCESS_KEY".into(), 2), ("AWS_ACCESS_KEY_ID".into(), 2)]
    );
    assert!(ContentScanner::new(Vec::new()).scan(text).is_empty());
}

#[test]
fn binary_files_are_skipped() {
    let scanner = ContentScanner::default();
    let bash = fs::read(lab_rootfs("deb-base").join("usr/bin/bash")).unwrap();
    assert_eq!(scanner.scan_file(&bash), ScanOutcome::SkippedBinary);
    assert!(scanner.scan(&bash).is_empty());
    // A secret inside a binary is found once binaries are searched.
    let mut blob = vec![0u8; 64];
    blob.extend_from_slice(b"\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n");
    assert_eq!(scanner.scan_file(&blob), ScanOutcome::SkippedBinary);
    let mut all = ContentScanner::default();
    all.skip_binary = false;
    assert_eq!(all.scan(&blob), vec![("AWS_SECRET_KEY".into(), 2)]);
    // Only the start is probed: a NUL past it does not make a text file binary.
    let mut late_nul = vec![b'x'; BINARY_PROBE_LEN];
    late_nul.extend_from_slice(b"\n\0\n-----BEGIN PRIVATE KEY-----\n");
    assert_eq!(scanner.scan(&late_nul), vec![("PRIV_KEY".into(), 3)]);
}

#[test]
fn oversized_files_are_skipped_and_say_so() {
    let secret = b"-----BEGIN PRIVATE KEY-----\n".to_vec();
    let mut small = ContentScanner::default();
    small.max_file_size = secret.len() as u64 - 1;
    assert_eq!(
        small.scan_file(&secret),
        ScanOutcome::SkippedTooLarge { size: secret.len() as u64, max: small.max_file_size }
    );
    assert!(small.scan(&secret).is_empty());
    assert!(!small.accepts_size(secret.len() as u64));
    let mut exact = ContentScanner::default();
    exact.max_file_size = secret.len() as u64;
    assert_eq!(exact.scan(&secret), vec![("PRIV_KEY".into(), 1)]);
    assert_eq!(ContentScanner::default().max_file_size, DEFAULT_MAX_FILE_SIZE);
    assert!(ContentScanner::default().accepts_size(DEFAULT_MAX_FILE_SIZE));
}

#[test]
fn invalid_utf8_does_not_disturb_lines() {
    let mut text = Vec::new();
    text.extend_from_slice(b"caf\xe9 latin-1\n");
    text.extend_from_slice(b"\xff\xfe\xfd broken\r\n");
    text.extend_from_slice(b"# \xc3\x28 api_key = \xe9\xe9 LABFAKEAPIKEY0123456789ABCDEFGHIJ\n");
    text.extend_from_slice(b"\x80\n");
    text.extend_from_slice(b"aws_access_key_id = \xff AKIAZ7X2LAB3FAKE4KEY\r\n");
    let found = ContentScanner::default().scan(&text);
    assert_eq!(found, vec![("API_KEY".into(), 3), ("AWS_ACCESS_KEY".into(), 5), ("AWS_ACCESS_KEY_ID".into(), 5)]);
    // A user rule (Unicode mode) on the same bytes counts lines the same way.
    let user = ContentScanner::new(vec![SecretRule::new("KEYID", r"AKIA[0-9A-Z]{16}").unwrap()]);
    assert_eq!(user.scan(&text), vec![("KEYID".into(), 5)]);
}

#[test]
fn long_minified_lines_are_scanned_once_per_rule() {
    // One 4 MB line with anchors everywhere: verification is per line, not
    // per anchor, so this stays linear.
    let mut line = b"x".repeat(16);
    for _ in 0..100_000 {
        line.extend_from_slice(b" msg.npm_Asia api_key ghp_ ");
    }
    line.extend_from_slice(b" sk_live_0123456789abcdefghijABCD\n");
    let started = Instant::now();
    let found = ContentScanner::default().scan(&line);
    assert_eq!(found, vec![("STRIPE_KEY".into(), 1)]);
    eprintln!("{} MB line in {:?}", line.len() / 1_000_000, started.elapsed());
}
