//! Every gate but `vulnerabilities`, on SBOMs the real cataloguer produces
//! from the lab images (`deb-mixed`: planted secrets, setuid files, a
//! world-writable settings file, ports 22 and 8000; `deb-node`: npm packages).
//! Expected values were read off the lab image's files and its SBOM by hand.

use std::sync::OnceLock;

use chrono::{TimeZone, Utc};
use portcullis_catalog::content::files::DigestOptions;
use portcullis_catalog::content::secrets::{ContentScanner, SecretRule};
use portcullis_catalog::{AnalyzeOptions, InspectOptions, analyze};
use portcullis_image::source::{self, SourceOptions};
use portcullis_image::tree::NoProgress;
use portcullis_policy::gates::{EvalContext, TriggerMatch, default_trigger_id, evaluate_trigger};
use portcullis_policy::params::Params;
use portcullis_sbom::{DockerfileKind, Package, PackageType, Sbom};
use portcullis_testkit::data::lab_image;

fn analyze_lab(image: &str, options: &AnalyzeOptions) -> Sbom {
    let input = format!("oci-dir:{}", lab_image(image).display());
    let sources = source::open(&input, &SourceOptions::default()).unwrap();
    analyze(sources[0].as_ref(), options, &NoProgress).unwrap()
}

/// deb-mixed with md5 digests (dpkg records md5) and one content-search rule.
fn mixed() -> &'static Sbom {
    static SBOM: OnceLock<Sbom> = OnceLock::new();
    SBOM.get_or_init(|| {
        let options = AnalyzeOptions {
            inspect: InspectOptions {
                digests: DigestOptions { sha1: false, md5: true },
                content_search: Some(ContentScanner::new(vec![
                    SecretRule::new("LAB_API_KEY", "LABFAKEAPIKEY").unwrap(),
                ])),
                ..InspectOptions::default()
            },
            ..AnalyzeOptions::default()
        };
        analyze_lab("deb-mixed", &options)
    })
}

fn node() -> &'static Sbom {
    static SBOM: OnceLock<Sbom> = OnceLock::new();
    SBOM.get_or_init(|| analyze_lab("deb-node", &AnalyzeOptions::default()))
}

fn params(pairs: &[(&str, &str)]) -> Params {
    Params(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
}

fn run(sbom: &Sbom, gate: &str, trigger: &str, pairs: &[(&str, &str)]) -> Vec<TriggerMatch> {
    let ctx =
        EvalContext { sbom, scan: None, now: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(), base_layers: None };
    evaluate_trigger(gate, trigger, &params(pairs), &ctx).unwrap()
}

fn messages(sbom: &Sbom, gate: &str, trigger: &str, pairs: &[(&str, &str)]) -> Vec<String> {
    run(sbom, gate, trigger, pairs).into_iter().map(|m| m.message).collect()
}

#[test]
fn always_fires_once_with_anchores_fixed_id() {
    let matches = run(mixed(), "always", "always", &[]);
    assert_eq!(matches.len(), 1);
    assert_eq!(matches[0].trigger_id, "always");
    assert_eq!(matches[0].message, "Unconditional trigger match");
}

#[test]
fn malware_scan_never_ran() {
    let matches = run(mixed(), "malware", "scan_not_run", &[]);
    assert_eq!(matches.len(), 1);
    assert_eq!(matches[0].message, "No malware scans found for image");
    assert_eq!(
        matches[0].trigger_id,
        default_trigger_id("malware", "scan_not_run", "No malware scans found for image")
    );
    assert!(run(mixed(), "malware", "scans", &[]).is_empty());
}

#[test]
fn dockerfile_provided_or_not() {
    let fired = messages(mixed(), "dockerfile", "no_dockerfile_provided", &[]);
    assert_eq!(fired, ["Image was not analyzed with an actual Dockerfile"]);
    let mut actual = mixed().clone();
    actual.dockerfile.as_mut().unwrap().kind = DockerfileKind::Actual;
    assert!(run(&actual, "dockerfile", "no_dockerfile_provided", &[]).is_empty());
}

#[test]
fn dockerfile_instruction_checks() {
    let sbom = mixed();
    // The default bundle's rule: the lab images have no HEALTHCHECK.
    let missing = run(sbom, "dockerfile", "instruction", &[("instruction", "HEALTHCHECK"), ("check", "not_exists")]);
    assert_eq!(missing.len(), 1);
    assert_eq!(
        missing[0].message,
        "Dockerfile directive 'HEALTHCHECK' not found, matching condition 'not_exists' check"
    );
    assert_eq!(
        missing[0].trigger_id,
        default_trigger_id("dockerfile", "instruction", &missing[0].message),
        "md5 of gate + trigger + message"
    );
    assert!(run(sbom, "dockerfile", "instruction", &[("instruction", "USER"), ("check", "not_exists")]).is_empty());
    // Both USER lines of the history: `USER app` (deb-python) then `USER root` (deb-mixed).
    assert_eq!(
        messages(sbom, "dockerfile", "instruction", &[("instruction", "USER"), ("check", "exists")]),
        [
            "Dockerfile directive 'USER' check 'exists' matched against '' for line 'app'",
            "Dockerfile directive 'USER' check 'exists' matched against '' for line 'root'",
        ]
    );
    assert_eq!(
        messages(sbom, "dockerfile", "instruction", &[("instruction", "FROM"), ("check", "="), ("value", "scratch")]),
        ["Dockerfile directive 'FROM' check '=' matched against 'scratch' for line 'scratch'"]
    );
    assert!(
        run(sbom, "dockerfile", "instruction", &[("instruction", "FROM"), ("check", "="), ("value", "debian")])
            .is_empty()
    );
    assert_eq!(
        run(sbom, "dockerfile", "instruction", &[("instruction", "WORKDIR"), ("check", "like"), ("value", "/ap")])
            .len(),
        1
    );
    assert!(
        run(
            sbom,
            "dockerfile",
            "instruction",
            &[("instruction", "WORKDIR"), ("check", "not_in"), ("value", "/srv, /app")]
        )
        .is_empty()
    );
    // The Dockerfile is rebuilt from the history, not supplied.
    let only_actual = [("instruction", "HEALTHCHECK"), ("check", "not_exists"), ("actual_dockerfile_only", "true")];
    assert!(run(sbom, "dockerfile", "instruction", &only_actual).is_empty());
}

#[test]
fn dockerfile_effective_user() {
    let sbom = mixed();
    assert_eq!(
        messages(sbom, "dockerfile", "effective_user", &[("users", "root"), ("type", "blacklist")]),
        ["User root found as effective user, which is explicity not allowed list"]
    );
    assert!(run(sbom, "dockerfile", "effective_user", &[("users", "nobody,app"), ("type", "blacklist")]).is_empty());
    assert_eq!(
        messages(sbom, "dockerfile", "effective_user", &[("users", "app"), ("type", "whitelist")]),
        ["User root found as effective user, which is not on the allowed list"]
    );
    assert!(run(sbom, "dockerfile", "effective_user", &[("users", "app,root"), ("type", "whitelist")]).is_empty());
}

#[test]
fn dockerfile_exposed_ports() {
    let sbom = mixed();
    // The default bundle's rule: `EXPOSE 22/tcp 8000/tcp` in the last build stage.
    assert_eq!(
        messages(sbom, "dockerfile", "exposed_ports", &[("ports", "22"), ("type", "blacklist")]),
        ["Dockerfile exposes port (22/tcp) which is in policy file DENIEDPORTS list"]
    );
    assert!(run(sbom, "dockerfile", "exposed_ports", &[("ports", "443,2222"), ("type", "blacklist")]).is_empty());
    assert_eq!(
        messages(sbom, "dockerfile", "exposed_ports", &[("ports", "8000"), ("type", "whitelist")]),
        ["Dockerfile exposes port (22/tcp) which is not in policy file ALLOWEDPORTS list"]
    );
    assert!(run(sbom, "dockerfile", "exposed_ports", &[("ports", "22,8000"), ("type", "whitelist")]).is_empty());
}

#[test]
fn dockerfile_triggers_need_a_dockerfile() {
    let mut none = mixed().clone();
    none.dockerfile = None;
    assert!(
        run(&none, "dockerfile", "instruction", &[("instruction", "HEALTHCHECK"), ("check", "not_exists")]).is_empty()
    );
    assert!(run(&none, "dockerfile", "effective_user", &[("users", "root"), ("type", "blacklist")]).is_empty());
    assert_eq!(run(&none, "dockerfile", "no_dockerfile_provided", &[]).len(), 1);
}

#[test]
fn files_content_regex_match() {
    let sbom = mixed();
    let expected =
        ["File content analyzer found regexp match in container: file=/app/config/settings.py regexp=LAB_API_KEY"];
    assert_eq!(messages(sbom, "files", "content_regex_match", &[]), expected);
    assert_eq!(messages(sbom, "files", "content_regex_match", &[("regex_name", "LAB_API_KEY")]), expected);
    assert!(run(sbom, "files", "content_regex_match", &[("regex_name", "OTHER")]).is_empty());
}

#[test]
fn files_name_match() {
    let sbom = mixed();
    assert_eq!(
        messages(sbom, "files", "name_match", &[("regex", r"/app/config/.*\.key")]),
        [
            r"Application of regex matched file found in container: file=/app/config/server.key regexp=/app/config/.*\.key",
            r"Application of regex matched file found in container: file=/app/config/tls.key regexp=/app/config/.*\.key",
        ]
    );
    // Deleted in a later layer.
    assert!(run(sbom, "files", "name_match", &[("regex", "/app/config/old-deploy-key")]).is_empty());
    // `re.match` anchors at the start of the path.
    assert!(run(sbom, "files", "name_match", &[("regex", r"config/.*\.key")]).is_empty());
}

#[test]
fn files_attribute_match() {
    let sbom = mixed();
    let passwd_sha256 = "a2057f04f947e8f9b03bc52ce2f41ec536eb2dd4a5bafff6458b96dd4d28041f";
    let checksum = |op: &str| {
        messages(
            sbom,
            "files",
            "attribute_match",
            &[
                ("filename", "/etc/passwd"),
                ("checksum_algorithm", "sha256"),
                ("checksum", passwd_sha256),
                ("checksum_match", op),
            ],
        )
    };
    assert_eq!(
        checksum("equals"),
        [format!("filename=/etc/passwd and checksum={passwd_sha256} op=equals specified_checksum={passwd_sha256}")]
    );
    assert!(checksum("not_equals").is_empty());
    // The lab chmods settings.py to 0666.
    let mode = |mode: &str| {
        messages(
            sbom,
            "files",
            "attribute_match",
            &[("filename", "/app/config/settings.py"), ("mode", mode), ("mode_op", "equals")],
        )
    };
    assert_eq!(mode("00666"), ["filename=/app/config/settings.py and mode=0o666 op=equals specified_mode=0o666"]);
    assert!(mode("00644").is_empty());
    assert_eq!(
        messages(sbom, "files", "attribute_match", &[("filename", "/etc/nope"), ("skip_missing", "false")]),
        ["filename=/etc/nope and skip_missing=False"]
    );
    assert!(
        run(sbom, "files", "attribute_match", &[("filename", "/etc/nope")]).is_empty(),
        "skip_missing defaults to true"
    );
}

#[test]
fn files_suid_or_guid_set() {
    let found = messages(mixed(), "files", "suid_or_guid_set", &[]);
    // From the lab image: Debian's setuid/setgid programs, the two the lab
    // plants, and two setgid directories; modes as Python's oct(st_mode).
    let expected = [
        ("/usr/bin/chage", "0o102755"),
        ("/usr/bin/chfn", "0o104755"),
        ("/usr/bin/chsh", "0o104755"),
        ("/usr/bin/expiry", "0o102755"),
        ("/usr/bin/gpasswd", "0o104755"),
        ("/usr/bin/mount", "0o104755"),
        ("/usr/bin/newgrp", "0o104755"),
        ("/usr/bin/passwd", "0o104755"),
        ("/usr/bin/su", "0o104755"),
        ("/usr/bin/umount", "0o104755"),
        ("/usr/local/bin/find-sgid", "0o102755"),
        ("/usr/local/bin/rootbash", "0o104755"),
        ("/usr/sbin/unix_chkpwd", "0o102755"),
        ("/var/local", "0o42775"),
        ("/var/mail", "0o42775"),
    ]
    .map(|(path, mode)| format!("SUID or SGID found set on file {path}. Mode: {mode}"));
    assert_eq!(found, expected);
    let mut plain = mixed().clone();
    plain.files.retain(|f| !f.is_setuid() && !f.is_setgid());
    assert!(run(&plain, "files", "suid_or_guid_set", &[]).is_empty());
}

#[test]
fn passwd_file_blacklists() {
    let sbom = mixed();
    let root = "root:x:0:0:root:/root:/bin/bash";
    let app = "app:x:1000:1000::/home/app:/bin/bash";
    assert!(run(sbom, "passwd_file", "content_not_available", &[]).is_empty());
    assert_eq!(
        messages(sbom, "passwd_file", "blacklist_usernames", &[("user_names", "app, nosuchuser")]),
        [format!("Blacklisted user 'app' found in image's /etc/passwd: pentry={app}")]
    );
    assert!(run(sbom, "passwd_file", "blacklist_usernames", &[("user_names", "ftp")]).is_empty());
    assert_eq!(
        messages(sbom, "passwd_file", "blacklist_userids", &[("user_ids", "0")]),
        [format!("Blacklisted uid '0' found in image's /etc/passwd: pentry={root}")]
    );
    assert!(run(sbom, "passwd_file", "blacklist_userids", &[("user_ids", "4242")]).is_empty());
    assert_eq!(
        messages(sbom, "passwd_file", "blacklist_groupids", &[("group_ids", "1000")]),
        [format!("Blacklisted gid '1000' found in image's /etc/passwd: pentry={app}")]
    );
    assert!(run(sbom, "passwd_file", "blacklist_groupids", &[("group_ids", "4242")]).is_empty());
    assert_eq!(
        messages(sbom, "passwd_file", "blacklist_shells", &[("shells", "/bin/bash,/bin/zsh")]),
        [
            format!("Blacklisted shell '/bin/bash' found in image's /etc/passwd: pentry={root}"),
            format!("Blacklisted shell '/bin/bash' found in image's /etc/passwd: pentry={app}"),
        ]
    );
    assert!(run(sbom, "passwd_file", "blacklist_shells", &[("shells", "/bin/zsh")]).is_empty());
    assert_eq!(
        messages(sbom, "passwd_file", "blacklist_full_entry", &[("entry", root)]),
        [format!("Blacklisted pentry '{root}' found in image's /etc/passwd: pentry={root}")]
    );
    assert!(run(sbom, "passwd_file", "blacklist_full_entry", &[("entry", "root:x:0:0::/root:/bin/sh")]).is_empty());

    let mut without = sbom.clone();
    without.retrieved_files.clear();
    assert_eq!(
        messages(&without, "passwd_file", "content_not_available", &[]),
        ["Cannot locate /etc/passwd in image stored files archive: check analyzer settings."]
    );
    assert!(run(&without, "passwd_file", "blacklist_userids", &[("user_ids", "0")]).is_empty());
}

#[test]
fn packages_required_package() {
    let sbom = mixed();
    let required = |pairs: &[(&str, &str)]| messages(sbom, "packages", "required_package", pairs);
    assert!(required(&[("name", "bash")]).is_empty());
    assert_eq!(required(&[("name", "nginx")]), ["Required input package (nginx) is not present in container image"]);
    assert_eq!(
        required(&[("name", "nginx"), ("version", "1.0")]),
        ["Required input package (nginx,1.0) is not present in container image"]
    );
    assert!(
        required(&[("name", "passwd"), ("version", "1:4.13+dfsg1-1+deb12u2"), ("version_match_type", "exact")])
            .is_empty()
    );
    assert_eq!(
        required(&[("name", "passwd"), ("version", "1:4.13+dfsg1-1"), ("version_match_type", "exact")]),
        [
            "Required input package (passwd) is present (1:4.13+dfsg1-1+deb12u2), but not at the version specified in policy (1:4.13+dfsg1-1)"
        ]
    );
    // dpkg order: 1:4.13+dfsg1-1 < 1:4.13+dfsg1-1+deb12u2 < 1:4.14; no epoch sorts below epoch 1.
    assert!(
        required(&[("name", "passwd"), ("version", "1:4.13+dfsg1-1"), ("version_match_type", "minimum")]).is_empty()
    );
    assert!(required(&[("name", "passwd"), ("version", "9.9"), ("version_match_type", "minimum")]).is_empty());
    assert_eq!(
        required(&[("name", "passwd"), ("version", "1:4.14"), ("version_match_type", "minimum")]),
        [
            "Required min-version input package (passwd) is present (1:4.13+dfsg1-1+deb12u2), but is lower version than what is specified in policy (1:4.14)"
        ]
    );
}

#[test]
fn packages_blacklist() {
    let sbom = mixed();
    let found = run(sbom, "packages", "blacklist", &[("name", "passwd")]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].message, "Package is blacklisted: passwd");
    let package = found[0].package.as_ref().unwrap();
    assert_eq!((package.name.as_str(), package.version.as_str()), ("passwd", "1:4.13+dfsg1-1+deb12u2"));
    assert_eq!(
        messages(sbom, "packages", "blacklist", &[("name", "passwd"), ("version", "1:4.13+dfsg1-1+deb12u2")]),
        ["Package is blacklisted: passwd-1:4.13+dfsg1-1+deb12u2"]
    );
    assert!(run(sbom, "packages", "blacklist", &[("name", "passwd"), ("version", "4.13")]).is_empty());
    // Language packages have their own gates.
    assert!(run(sbom, "packages", "blacklist", &[("name", "django")]).is_empty());
}

#[test]
fn packages_verify() {
    let sbom = mixed();
    // Every dpkg-owned file is intact, including those under the usrmerge
    // links (/bin, /lib and /sbin point into /usr), except the directory the
    // lab's `rm -rf /var/lib/apt/lists/*` removes.
    assert_eq!(
        messages(sbom, "packages", "verify", &[]),
        [
            "VERIFY check against package db for package 'apt' failed on entry '/var/lib/apt/lists/partial' with status: 'missing'"
        ]
    );
    assert!(run(sbom, "packages", "verify", &[("check", "changed")]).is_empty());

    let mut tampered = sbom.clone();
    let passwd = tampered.files.iter_mut().find(|f| f.path == "/usr/bin/passwd").unwrap();
    passwd.md5 = Some("md5:00000000000000000000000000000000".to_owned());
    tampered.files.retain(|f| f.path != "/usr/sbin/chpasswd");
    let changed =
        "VERIFY check against package db for package 'passwd' failed on entry '/usr/bin/passwd' with status: 'changed'";
    let missing = "VERIFY check against package db for package 'passwd' failed on entry '/usr/sbin/chpasswd' with status: 'missing'";
    let only_passwd = ("only_packages", "passwd");
    assert_eq!(messages(&tampered, "packages", "verify", &[only_passwd]), [changed, missing]);
    assert_eq!(messages(&tampered, "packages", "verify", &[only_passwd, ("check", "missing")]), [missing]);
    assert_eq!(messages(&tampered, "packages", "verify", &[("only_directories", "/usr/bin")]), [changed]);
    assert!(run(&tampered, "packages", "verify", &[("only_packages", "bash,login")]).is_empty());
}

#[test]
fn licenses_blacklists() {
    let sbom = mixed();
    assert_eq!(
        messages(sbom, "licenses", "blacklist_exact_match", &[("licenses", "MPL-2.0,WTFPL")]),
        [
            "LICFULLMATCH Packages are installed that have blacklisted licenses: ca-certificates(MPL-2.0), certifi(MPL-2.0)"
        ]
    );
    assert!(run(sbom, "licenses", "blacklist_exact_match", &[("licenses", "MPL")]).is_empty());
    assert_eq!(
        messages(sbom, "licenses", "blacklist_partial_match", &[("licenses", "Beer")]),
        [
            "LICSUBMATCH Packages are installed that have blacklisted licenses: libmd0(Beerware), libpam-modules(Beerware), \
             libpam-modules-bin(Beerware), libpam-runtime(Beerware), libpam0g(Beerware)"
        ]
    );
    assert!(run(sbom, "licenses", "blacklist_partial_match", &[("licenses", "SSPL")]).is_empty());
}

#[test]
fn npms_blacklist_and_feed() {
    let sbom = node();
    // deb-node has depd 1.1.1 and 1.1.2: one match per name, as Anchore groups versions.
    assert_eq!(
        messages(sbom, "npms", "blacklisted_name_version", &[("name", "depd")]),
        ["NPM Package is blacklisted: depd"]
    );
    assert_eq!(
        messages(sbom, "npms", "blacklisted_name_version", &[("name", "depd"), ("version", "1.1.1")]),
        ["NPM Package is blacklisted: depd-1.1.1"]
    );
    assert!(run(sbom, "npms", "blacklisted_name_version", &[("name", "depd"), ("version", "2.0.0")]).is_empty());
    assert_eq!(
        messages(sbom, "npms", "feed_data_unavailable", &[]),
        [
            "NPM packages are present but the anchore npm feed is not available - will be unable to perform checks that require feed data"
        ]
    );
    assert!(run(mixed(), "npms", "feed_data_unavailable", &[]).is_empty(), "no npm package in deb-mixed");
    for trigger in ["newer_version_in_feed", "unknown_in_feeds", "version_not_in_feeds"] {
        assert!(run(sbom, "npms", trigger, &[]).is_empty());
    }
}

#[test]
fn ruby_gems_blacklist_and_feed() {
    // No lab image has gems: one is added to the real SBOM.
    let mut sbom = mixed().clone();
    assert!(run(&sbom, "ruby_gems", "feed_data_unavailable", &[]).is_empty());
    sbom.packages.push(Package::new(PackageType::Gem, "rails", "7.0.4", None, "pkg:gem/rails@7.0.4".to_owned()));
    assert_eq!(messages(&sbom, "ruby_gems", "blacklist", &[("name", "rails")]), ["Gem Package is blacklisted: rails"]);
    assert_eq!(
        messages(&sbom, "ruby_gems", "blacklist", &[("name", "rails"), ("version", "7.0.4")]),
        ["Gem Package is blacklisted: rails-7.0.4"]
    );
    assert!(run(&sbom, "ruby_gems", "blacklist", &[("name", "rails"), ("version", "6.1.0")]).is_empty());
    assert!(run(&sbom, "ruby_gems", "blacklist", &[("name", "django")]).is_empty(), "a PyPI package is not a gem");
    assert_eq!(
        messages(&sbom, "ruby_gems", "feed_data_unavailable", &[]),
        [
            "Gem packages are present but the anchore gem feed is not available - will be unable to perform checks that require feed data"
        ]
    );
    for trigger in ["newer_version_found_in_feed", "not_found_in_feed", "version_not_found_in_feed"] {
        assert!(run(&sbom, "ruby_gems", trigger, &[]).is_empty());
    }
}

#[test]
fn secret_scans_content_regex_checks() {
    let sbom = mixed();
    let found = |file: &str, rule: &str| {
        format!("Secret content search analyzer found regexp match in container: file={file} regexp={rule}")
    };
    // The lab plants seven secrets in /app/config.
    assert_eq!(
        messages(sbom, "secret_scans", "content_regex_checks", &[]),
        [
            found("/app/config/credentials", "AWS_ACCESS_KEY"),
            found("/app/config/credentials", "AWS_SECRET_KEY"),
            found("/app/config/docker-config.json", "DOCKER_AUTH"),
            found("/app/config/server.key", "PRIV_KEY"),
            found("/app/config/server.key", "RSA_PRIV_KEY"),
            found("/app/config/settings.py", "API_KEY"),
            found("/app/config/tls.key", "PRIV_KEY"),
        ]
    );
    assert_eq!(
        messages(
            sbom,
            "secret_scans",
            "content_regex_checks",
            &[("content_regex_name", "PRIV_KEY"), ("match_type", "found")]
        ),
        [found("/app/config/server.key", "PRIV_KEY"), found("/app/config/tls.key", "PRIV_KEY")]
    );
    assert_eq!(
        messages(sbom, "secret_scans", "content_regex_checks", &[("filename_regex", r"/app/config/tls\.key")]),
        [found("/app/config/tls.key", "PRIV_KEY")]
    );
    assert!(run(sbom, "secret_scans", "content_regex_checks", &[("filename_regex", "/etc/.*")]).is_empty());
    assert!(
        run(
            sbom,
            "secret_scans",
            "content_regex_checks",
            &[("content_regex_name", "API_KEY"), ("match_type", "notfound")]
        )
        .is_empty()
    );
    assert_eq!(
        messages(
            sbom,
            "secret_scans",
            "content_regex_checks",
            &[("filename_regex", "/etc/.*"), ("match_type", "notfound")]
        ),
        [
            "Secret content search analyzer did not find regexp match in container: filename_regex=/etc/.* content_regex_name=all"
        ]
    );
}

#[test]
fn metadata_attributes() {
    let sbom = mixed();
    let check = |attribute: &str, check: &str, value: &str| {
        let mut pairs = vec![("attribute", attribute), ("check", check)];
        if !value.is_empty() {
            pairs.push(("value", value));
        }
        messages(sbom, "metadata", "attribute", &pairs)
    };
    // The nine layers of deb-mixed unpack to 211342848 bytes (about 201.6 MiB).
    assert_eq!(
        check("size", ">", "200mb"),
        ["Attribute check for attribute: 'size' check: '>' check_value: '200mb' matched image value: '211342848'"]
    );
    assert!(check("size", ">", "202mb").is_empty());
    assert_eq!(check("size", "<=", "1gb").len(), 1);
    assert_eq!(check("layer_count", "=", "9").len(), 1);
    assert!(check("layer_count", "<", "9").is_empty());
    assert_eq!(
        check("architecture", "=", "amd64"),
        ["Attribute check for attribute: 'architecture' check: '=' check_value: 'amd64' matched image value: 'amd64'"]
    );
    assert!(check("architecture", "=", "arm64").is_empty());
    assert_eq!(check("os_type", "in", "windows, linux").len(), 1);
    assert!(check("os_type", "not_in", "windows, linux").is_empty());
    assert_eq!(check("distro", "like", "deb").len(), 1);
    assert!(check("distro", "not_like", "deb").is_empty());
    assert_eq!(check("distro_version", "=", "12").len(), 1);
    assert!(check("distro_version", "!=", "12").is_empty());
    // Debian's os-release has no ID_LIKE: Anchore records the ID.
    assert_eq!(check("like_distro", "=", "debian").len(), 1);
    assert_eq!(check("distro", "exists", "").len(), 1);
    assert!(check("distro", "not_exists", "").is_empty());
    assert!(check("distro", "=", "").is_empty(), "a check without its value evaluates nothing");

    let mut scratch = sbom.clone();
    scratch.distro = None;
    assert_eq!(
        messages(&scratch, "metadata", "attribute", &[("attribute", "distro"), ("check", "not_exists")]),
        ["Attribute check for attribute: 'distro' check: 'not_exists' check_value: '' matched image value: 'None'"]
    );
}

#[test]
fn retrieved_files_checks() {
    let sbom = mixed();
    assert!(run(sbom, "retrieved_files", "content_not_available", &[("path", "/etc/passwd")]).is_empty());
    assert_eq!(
        messages(sbom, "retrieved_files", "content_not_available", &[("path", "/etc/shadow")]),
        ["Cannot locate file in the image analysis: /etc/shadow"]
    );
    let regex = |regex: &str, check: &str| {
        run(sbom, "retrieved_files", "content_regex", &[("path", "/etc/passwd"), ("regex", regex), ("check", check)])
    };
    let found = regex("app:x:1000:", "match");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].message, "Content regex 'app:x:1000:' check 'match' found in retrieved file '/etc/passwd'");
    assert_eq!(found[0].trigger_id, "app:x:1000:+file:///etc/passwd");
    assert!(regex("app:x:1000:", "no_match").is_empty());
    assert_eq!(regex("mallory:", "no_match").len(), 1);
    assert!(regex("mallory:", "match").is_empty());
    assert!(
        run(
            sbom,
            "retrieved_files",
            "content_regex",
            &[("path", "/etc/shadow"), ("regex", ".*"), ("check", "no_match")]
        )
        .is_empty(),
        "nothing to check in a file that was not retrieved"
    );
}

#[test]
fn unknown_triggers_and_bad_regexes_are_errors() {
    let ctx = EvalContext { sbom: mixed(), scan: None, now: Utc::now(), base_layers: None };
    for gate in [
        "always",
        "dockerfile",
        "files",
        "licenses",
        "malware",
        "metadata",
        "npms",
        "packages",
        "passwd_file",
        "retrieved_files",
        "ruby_gems",
        "secret_scans",
    ] {
        let error = evaluate_trigger(gate, "nope", &Params::default(), &ctx).unwrap_err();
        assert_eq!(error.to_string(), format!("gate {gate}: unknown trigger \"nope\""));
    }
    let error = evaluate_trigger("files", "name_match", &params(&[("regex", "(")]), &ctx).unwrap_err();
    assert!(error.to_string().starts_with("regex \"(\""), "{error}");
}
