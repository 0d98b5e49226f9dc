//! Binary classifiers against real binaries: this machine's (Debian 12), with
//! the expected version asked from the program itself (`python3.11
//! --version`, `openssl version`...) or from dpkg, and the lab images'
//! root filesystems, where every file is classified and the whole result is
//! compared with the image's own dpkg database.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use portcullis_catalog::binary::classifiers::{FOUND_BY, classifiers, classify, wants};
use portcullis_sbom::{Package, PackageType};
use portcullis_testkit::data::{lab_rootfs, read_bytes, regular_files};
use regex::Regex;

/// stdout and stderr of a command (several tools print versions on stderr).
fn run(program: &str, args: &[&str]) -> String {
    let out =
        Command::new(program).args(args).output().unwrap_or_else(|e| panic!("cannot run {program} {args:?}: {e}"));
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The first capture of `pattern` in `text`.
fn capture(text: &str, pattern: &str) -> String {
    let re = Regex::new(pattern).unwrap();
    match re.captures(text) {
        Some(c) => c[1].to_owned(),
        None => panic!("no {pattern:?} in {text:?}"),
    }
}

/// A Debian version's upstream part: `1:2.6.12-1+deb12u4` → `2.6.12`.
fn upstream(version: &str) -> &str {
    let no_epoch = version.split_once(':').map_or(version, |(_, v)| v);
    no_epoch.rsplit_once('-').map_or(no_epoch, |(u, _)| u)
}

fn dpkg_version(package: &str) -> String {
    let out = run("dpkg-query", &["-W", "-f", "${Version}", package]);
    assert!(!out.contains("no packages found"), "{package} is not installed: {out}");
    out.trim().to_owned()
}

fn classify_file(path: &Path) -> Vec<Package> {
    let bytes = read_bytes(path);
    let name = path.to_string_lossy();
    assert!(wants(&name), "no classifier wants {name}");
    classify(&name, &bytes)
}

struct Case {
    /// A path, or a glob resolved with the shell's rules (`/usr/lib/postgresql/*/bin/postgres`).
    path: &'static str,
    /// Debian package to install when the file is missing.
    apt: &'static str,
    package: &'static str,
    classifier: &'static str,
    /// The version the real program (or dpkg) reports.
    expected: fn(&Path) -> String,
}

fn resolve(path: &str) -> Option<PathBuf> {
    if !path.contains('*') {
        let p = PathBuf::from(path);
        return p.is_file().then_some(p);
    }
    let out = run("sh", &["-c", &format!("ls -d {path} 2>/dev/null | sort -V | tail -1")]);
    let found = out.trim();
    (!found.is_empty()).then(|| PathBuf::from(found)).filter(|p| p.is_file())
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            path: "/usr/bin/python3.11",
            apt: "python3.11-minimal",
            package: "python",
            classifier: "python-binary",
            expected: |p| capture(&run(&p.to_string_lossy(), &["--version"]), r"Python (\S+)"),
        },
        Case {
            path: "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0",
            apt: "libpython3.11",
            package: "python",
            classifier: "python-binary-lib",
            expected: |_| upstream(&dpkg_version("libpython3.11")).to_owned(),
        },
        Case {
            path: "/usr/lib/go-*/bin/go",
            apt: "golang-go",
            package: "go",
            classifier: "go-binary",
            expected: |p| capture(&run(&p.to_string_lossy(), &["version"]), r"go version go(\S+)"),
        },
        Case {
            path: "/usr/bin/node",
            apt: "nodejs",
            package: "node",
            classifier: "nodejs-binary",
            expected: |p| capture(&run(&p.to_string_lossy(), &["--version"]), r"v(\S+)"),
        },
        Case {
            path: "/usr/lib/jvm/java-*-openjdk-amd64/bin/java",
            apt: "default-jre-headless",
            package: "openjdk",
            classifier: "java-binary-openjdk",
            expected: |p| {
                let out = run(&p.to_string_lossy(), &["-XshowSettings:properties", "-version"]);
                capture(&out, r"java\.runtime\.version = (\S+)")
            },
        },
        Case {
            path: "/usr/bin/openssl",
            apt: "openssl",
            package: "openssl",
            classifier: "openssl-binary",
            expected: |p| capture(&run(&p.to_string_lossy(), &["version"]), r"^OpenSSL (\S+)"),
        },
        Case {
            path: "/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
            apt: "libssl3",
            package: "openssl",
            classifier: "openssl-binary",
            expected: |_| capture(&run("openssl", &["version"]), r"Library: OpenSSL (\S+)"),
        },
        Case {
            path: "/bin/busybox",
            apt: "busybox",
            package: "busybox",
            classifier: "busybox-binary",
            expected: |p| capture(&run(&p.to_string_lossy(), &[]), r"BusyBox v(\S+)"),
        },
        Case {
            path: "/usr/sbin/nginx",
            apt: "nginx-light",
            package: "nginx",
            classifier: "nginx-binary",
            expected: |p| capture(&run(&p.to_string_lossy(), &["-v"]), r"nginx/(\S+)"),
        },
        Case {
            // Debian: redis-server is a symlink to this file.
            path: "/usr/bin/redis-check-rdb",
            apt: "redis-server",
            package: "redis",
            classifier: "redis-binary",
            expected: |_| capture(&run("redis-server", &["--version"]), r"v=(\S+)"),
        },
        Case {
            path: "/usr/lib/postgresql/*/bin/postgres",
            apt: "postgresql",
            package: "postgresql",
            classifier: "postgresql-binary",
            expected: |p| capture(&run(&p.to_string_lossy(), &["--version"]), r"\(PostgreSQL\) (\S+)"),
        },
        Case {
            path: "/usr/bin/curl",
            apt: "curl",
            package: "curl",
            classifier: "curl-binary",
            expected: |p| capture(&run(&p.to_string_lossy(), &["--version"]), r"^curl (\S+)"),
        },
        Case {
            path: "/usr/lib/x86_64-linux-gnu/libcurl.so.4",
            apt: "libcurl4",
            package: "curl",
            classifier: "curl-library",
            expected: |_| capture(&run("curl", &["--version"]), r"libcurl/(\S+)"),
        },
        Case {
            path: "/usr/sbin/haproxy",
            apt: "haproxy",
            package: "haproxy",
            classifier: "haproxy-binary",
            expected: |p| upstream(&capture(&run(&p.to_string_lossy(), &["-v"]), r"HAProxy version (\S+)")).to_owned(),
        },
        Case {
            path: "/usr/sbin/apache2",
            apt: "apache2-bin",
            package: "httpd",
            classifier: "httpd-binary",
            expected: |p| capture(&run(&p.to_string_lossy(), &["-v"]), r"Apache/(\S+)"),
        },
        Case {
            path: "/usr/bin/memcached",
            apt: "memcached",
            package: "memcached",
            classifier: "memcached-binary",
            expected: |p| capture(&run(&p.to_string_lossy(), &["-V"]), r"memcached (\S+)"),
        },
        Case {
            path: "/usr/bin/perl",
            apt: "perl-base",
            package: "perl",
            classifier: "perl-binary",
            expected: |p| run(&p.to_string_lossy(), &["-e", r#"printf "%vd", $^V"#]).trim().to_owned(),
        },
        Case {
            path: "/usr/bin/php8.*",
            apt: "php-cli",
            package: "php-cli",
            classifier: "php-cli-binary",
            expected: |p| run(&p.to_string_lossy(), &["-r", "echo PHP_VERSION;"]).trim().to_owned(),
        },
        Case {
            path: "/usr/lib/x86_64-linux-gnu/libruby-*.so.*.*.*",
            apt: "ruby",
            package: "ruby",
            classifier: "ruby-binary",
            expected: |_| run("ruby", &["-e", r#"print RUBY_VERSION, "p", RUBY_PATCHLEVEL"#]).trim().to_owned(),
        },
    ]
}

#[test]
fn classifies_this_machines_binaries_like_the_programs_report_themselves() {
    let mut missing = Vec::new();
    let mut checked = 0;
    let mut total_bytes = 0;
    let started = Instant::now();
    for case in cases() {
        let Some(path) = resolve(case.path) else {
            missing.push(case.apt);
            continue;
        };
        // Symlinks (libcurl.so.4) are read through, as the image driver does.
        let real = fs::canonicalize(&path).unwrap();
        total_bytes += fs::metadata(&real).unwrap().len();
        let expected = (case.expected)(&path);
        let found = classify_file(&real);
        assert_eq!(found.len(), 1, "{}: {found:?}", real.display());
        let p = &found[0];
        assert_eq!(p.name, case.package, "{}", real.display());
        assert_eq!(p.version, expected, "{}: classifier vs the program's own report", real.display());
        assert_eq!(p.package_type, PackageType::Binary);
        assert_eq!(p.metadata["classifier"], case.classifier, "{}", real.display());
        assert_eq!(p.found_by.as_deref(), Some(FOUND_BY));
        assert_eq!(p.locations.len(), 1);
        assert_eq!(p.locations[0].path, real.to_string_lossy());
        assert!(p.purl.starts_with("pkg:generic/"), "{}", p.purl);
        let cpes = p.metadata["cpes"].as_array().unwrap();
        assert!(!cpes.is_empty());
        for cpe in cpes {
            let cpe = cpe.as_str().unwrap();
            assert!(cpe.starts_with("cpe:2.3:a:"), "{cpe}");
            assert_eq!(cpe.split(':').count(), 13, "{cpe}");
            assert!(!cpe.contains('{'), "unfilled template: {cpe}");
        }
        checked += 1;
    }
    eprintln!("classified {checked} binaries ({} MB) in {:?}", total_bytes / 1_000_000, started.elapsed());
    assert!(
        missing.is_empty(),
        "binaries missing on this machine; install them with: apt-get install -y --no-install-recommends {}",
        missing.join(" ")
    );
}

#[test]
fn versions_in_cpes_and_purls_are_escaped() {
    let Some(java) = resolve("/usr/lib/jvm/java-*-openjdk-amd64/bin/java") else {
        panic!("no OpenJDK: apt-get install -y --no-install-recommends default-jre-headless");
    };
    let found = classify_file(&fs::canonicalize(java).unwrap());
    let p = &found[0];
    // `17.0.15+6-Debian-1deb12u1`: `+` is percent-encoded in the purl, and the
    // CPE carries the plain release number (`java.version`), not the build.
    assert!(p.version.contains('+'), "{}", p.version);
    assert_eq!(p.purl, format!("pkg:generic/oracle/openjdk@{}", p.version.replace('+', "%2B")));
    let out = run("java", &["-XshowSettings:properties", "-version"]);
    let release = capture(&out, r"java\.version = (\S+)");
    assert_eq!(p.metadata["cpes"][0], format!("cpe:2.3:a:oracle:openjdk:{release}:*:*:*:*:*:*:*"));
}

#[test]
fn libssl_has_no_version_text_and_is_not_wanted() {
    // libssl.so.3 only carries `OPENSSL_3.0.0` symbol versions; the version
    // text lives in libcrypto (see the case above).
    let path = "/usr/lib/x86_64-linux-gnu/libssl.so.3";
    assert!(!wants(path));
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("{path}: {e} (apt-get install libssl3)"));
    assert!(classify("/opt/x/libcrypto.so.3", &bytes).is_empty());
}

#[test]
fn wrong_file_names_and_foreign_binaries_yield_nothing() {
    let bash = fs::read("/usr/bin/bash").unwrap();
    // Every classifier's file name, with bash's bytes: no version pattern of
    // another program may match it.
    for c in classifiers() {
        for glob in c.file_globs {
            let name = glob.replace("[0-9]", "8").replace('*', "3.11").replace('?', "x");
            let found = classify(&format!("/usr/bin/{name}"), &bash);
            assert!(found.is_empty(), "{} on bash: {found:?}", c.name);
        }
    }
    // A real python binary under a name no classifier wants.
    let python = fs::read("/usr/bin/python3.11").unwrap();
    assert!(classify("/usr/bin/not-python", &python).is_empty());
    // A python binary whose name promises another minor version.
    assert!(classify("/usr/bin/python3.9", &python).is_empty());
}

/// Every regular file of a lab image, classified as the layer stream would.
fn classify_rootfs(root: &Path) -> (BTreeSet<(String, String, String)>, usize) {
    let mut found = BTreeSet::new();
    let mut wanted = 0;
    for file in regular_files(root) {
        let image_path = format!("/{}", file.strip_prefix(root).unwrap().display());
        if !wants(&image_path) {
            continue;
        }
        wanted += 1;
        let bytes = fs::read(&file).unwrap();
        for p in classify(&image_path, &bytes) {
            found.insert((image_path.clone(), p.name.clone(), p.version.clone()));
        }
    }
    (found, wanted)
}

/// Upstream version of an installed package in a lab image's dpkg database.
fn lab_dpkg_version(root: &Path, package: &str) -> Option<String> {
    let status = fs::read_to_string(root.join("var/lib/dpkg/status")).unwrap();
    status.split("\n\n").find(|stanza| stanza.lines().any(|l| l == format!("Package: {package}"))).map(|stanza| {
        let version = stanza.lines().find_map(|l| l.strip_prefix("Version: ")).unwrap();
        upstream(version).split('+').next().unwrap().to_owned()
    })
}

#[test]
fn lab_images_whole_rootfs() {
    for image in ["deb-base", "deb-python", "deb-node", "deb-mixed"] {
        let root = lab_rootfs(image);
        let started = Instant::now();
        let (found, wanted) = classify_rootfs(&root);
        eprintln!("{image}: {wanted} files wanted, {} packages, {:?}", found.len(), started.elapsed());
        // Each file the classifiers should recognise, with the Debian package
        // that installs it: the expected version is that package's.
        let owners = [
            ("/usr/bin/perl", "perl", "perl-base"),
            ("/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "openssl", "libssl3"),
            ("/usr/bin/openssl", "openssl", "openssl"),
            ("/usr/bin/python3.11", "python", "python3.11-minimal"),
            ("/usr/lib/x86_64-linux-gnu/libnode.so.108", "node", "libnode108"),
        ];
        let expected: BTreeSet<(String, String, String)> = owners
            .iter()
            .filter_map(|(path, name, deb)| {
                lab_dpkg_version(&root, deb).map(|v| (path.to_string(), name.to_string(), v))
            })
            .collect();
        // What each image was built with (lab README), so a missing package
        // cannot quietly shrink the check.
        let must = match image {
            "deb-base" => vec!["perl"],
            "deb-node" => vec!["perl", "openssl", "node"],
            _ => vec!["perl", "openssl", "python"],
        };
        for name in must {
            assert!(expected.iter().any(|(_, n, _)| n == name), "{image}: no {name} expected");
        }
        assert_eq!(found, expected, "{image}");
    }
}
