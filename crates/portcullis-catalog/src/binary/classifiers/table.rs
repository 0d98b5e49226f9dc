//! The classifier table.
//!
//! Class names, package names, purls and CPE vendor/product pairs follow
//! syft's `DefaultClassifiers` so SBOMs and later CPE matching agree with
//! it. Patterns start from syft's and were checked against Debian 12's own
//! binaries; where Debian's builds differ from upstream's (redis, haproxy,
//! perl, node's `libnode`, the Go build-info header) a pattern was added, noted
//! next to it. Order matters: the first classifier whose globs match the file
//! name and whose patterns find a version wins.

use super::Classifier;

/// CPython's `PY_VERSION` (`3.11.2`, `3.13.0rc1`, `3.11.2+`), which must start
/// with the `X.Y` of the file name. It is a string of its own (`\0X.Y.Z\0`) in
/// most builds; when the configured prefix ends with the version (pyenv's
/// `/root/.pyenv/versions/3.11.7`), the linker merges it into the tail of that
/// path, hence the second pattern.
const PYTHON_PATTERNS: &[&str] = &[
    r"\x00(?P<version>{name_version}\.[0-9]+[a-z0-9+]*)\x00",
    r"[/-](?P<version>{name_version}\.[0-9]+[a-z0-9+]*)\x00",
];
const PYTHON_CPES: &[&str] = &[
    "cpe:2.3:a:python_software_foundation:python:{version}:*:*:*:*:*:*:*",
    "cpe:2.3:a:python:python:{version}:*:*:*:*:*:*:*",
];
const CURL_PATTERNS: &[&str] = &[r"curl/(?P<version>[0-9]+\.[0-9]+\.[0-9]+)"];
const PHP_PATTERNS: &[&str] =
    &[r"X-Powered-By: PHP/(?P<version>[0-9]+\.[0-9]+\.[0-9]+(?:beta[0-9]+|alpha[0-9]+|RC[0-9]+)?)"];

pub(super) const CLASSIFIERS: &[Classifier] = &[
    Classifier {
        name: "python-binary",
        package: "python",
        purl_type: "generic",
        purl_namespace: None,
        file_globs: &["python*"],
        name_version: Some(r"^python(?P<version>[0-9]+\.[0-9]+)[a-z]?$"),
        patterns: PYTHON_PATTERNS,
        cpe_templates: PYTHON_CPES,
    },
    Classifier {
        name: "python-binary-lib",
        package: "python",
        purl_type: "generic",
        purl_namespace: None,
        file_globs: &["libpython*.so*"],
        name_version: Some(r"^libpython(?P<version>[0-9]+\.[0-9]+)[a-z]?\.so"),
        patterns: PYTHON_PATTERNS,
        cpe_templates: PYTHON_CPES,
    },
    Classifier {
        name: "go-binary",
        package: "go",
        purl_type: "generic",
        purl_namespace: None,
        file_globs: &["go", "go.exe"],
        name_version: None,
        patterns: &[
            // Go ≥ 1.18 build info: 14-byte magic, pointer size, flags, padding
            // to 32 bytes, then the toolchain version as a varint-prefixed
            // string. Precise where syft's pattern below can hit any `goX.Y\0`.
            r"(?s)\xff Go buildinf:.{18}[\x01-\x7f]go(?P<version>[0-9]+\.[0-9]+(?:\.[0-9]+|beta[0-9]+|alpha[0-9]+|rc[0-9]+)?)",
            r"go(?P<version>[0-9]+\.[0-9]+(?:\.[0-9]+|beta[0-9]+|alpha[0-9]+|rc[0-9]+)?)\x00",
        ],
        cpe_templates: &["cpe:2.3:a:golang:go:{version}:*:*:*:*:*:*:*"],
    },
    Classifier {
        name: "nodejs-binary",
        package: "node",
        purl_type: "generic",
        purl_namespace: None,
        // Debian's /usr/bin/node is a 26 KB launcher; the runtime and its
        // version string live in libnode.so.N.
        file_globs: &["node", "nodejs", "libnode.so*"],
        name_version: None,
        patterns: &[
            r"node\.js/v(?P<version>[0-9]+\.[0-9]+\.[0-9]+)",
            r"\x00(?:node )?v(?P<version>(?:0|4|5|6)\.[0-9]+\.[0-9]+)\x00",
        ],
        cpe_templates: &["cpe:2.3:a:nodejs:node.js:{version}:*:*:*:*:*:*:*"],
    },
    Classifier {
        name: "java-binary-openjdk",
        package: "openjdk",
        purl_type: "generic",
        purl_namespace: Some("oracle"),
        file_globs: &["java"],
        name_version: None,
        patterns: &[
            // `\0openjdk\0java\0<release>\0<full version>\0`, e.g.
            // `17.0.15+6-Debian-1deb12u1` or `1.8.0_352-b08`. The CPE takes the
            // plain release number and, for Java 8, the update as `updateNNN`.
            r"\x00openjdk\x00java\x00(?P<release>[0-9]+[.0-9]*)\x00(?P<version>(?P<cpe_version>[0-9]+(?:\.[0-9]+)*)(?:_(?P<cpe_update>[0-9]+))?[^\x00]*)\x00",
            // arm64 builds lay the same strings out in the other order.
            r"\x00(?P<release>[0-9]+[.0-9]*)\x00+(?P<version>(?P<cpe_version>[0-9]+(?:\.[0-9]+)*)(?:_(?P<cpe_update>[0-9]+))?[^\x00]*)\x00+openjdk\x00java",
        ],
        cpe_templates: &["cpe:2.3:a:oracle:openjdk:{version}:{update}:*:*:*:*:*:*"],
    },
    Classifier {
        name: "openssl-binary",
        package: "openssl",
        purl_type: "generic",
        purl_namespace: None,
        // The version text is in libcrypto (OpenSSL_version); libssl.so.3
        // holds no version string at all, only `OPENSSL_3.0.0` symbol versions.
        file_globs: &["openssl", "libcrypto.so*"],
        name_version: None,
        // The release date after the version rules out `OpenSSL 1.1.1
        // (compatible; AWS-LC ...)` and other forks quoting an API level.
        patterns: &[
            r"\x00OpenSSL (?P<version>[0-9]+\.[0-9]+\.[0-9]+(?:[a-z]+|-alpha[0-9]+|-beta[0-9]+|-rc[0-9]+)?) +[0-9]{1,2} [A-Z][a-z]{2} [0-9]{4}",
        ],
        cpe_templates: &["cpe:2.3:a:openssl:openssl:{version}:*:*:*:*:*:*:*"],
    },
    Classifier {
        name: "busybox-binary",
        package: "busybox",
        purl_type: "generic",
        purl_namespace: None,
        file_globs: &["busybox"],
        name_version: None,
        patterns: &[r"BusyBox\s+v(?P<version>[0-9]+\.[0-9]+\.[0-9]+)"],
        cpe_templates: &["cpe:2.3:a:busybox:busybox:{version}:*:*:*:*:*:*:*"],
    },
    Classifier {
        name: "nginx-binary",
        package: "nginx",
        purl_type: "generic",
        purl_namespace: None,
        file_globs: &["nginx"],
        name_version: None,
        // `nginx version: openresty/1.21.4.1` yields the nginx part, 1.21.4.
        patterns: &[
            r"(?:\x00|\?)nginx version: [^/\x00]+/(?P<version>[0-9]+\.[0-9]+\.[0-9]+(?:\+[0-9]+)?(?:-[0-9]+)?)",
        ],
        cpe_templates: &["cpe:2.3:a:f5:nginx:{version}:*:*:*:*:*:*:*", "cpe:2.3:a:nginx:nginx:{version}:*:*:*:*:*:*:*"],
    },
    Classifier {
        name: "redis-binary",
        package: "redis",
        purl_type: "generic",
        purl_namespace: None,
        // Debian ships the server as redis-check-rdb, with redis-server a
        // symlink to it (the binary dispatches on argv[0]).
        file_globs: &["redis-server", "redis-check-rdb"],
        name_version: None,
        // All match redisBuildIdString(): version, build id (`host-epoch`),
        // git-dirty digit, 8-hex git sha.
        patterns: &[
            r"[^0-9](?P<version>[0-9]+\.[0-9]+\.[0-9]+)buildkitsandbox-[0-9]+",
            r"[^0-9](?P<version>[0-9]+\.[0-9]+\.[0-9]+)\w{12}-[0-9]+",
            // Debian: no host name, so the epoch follows the version directly
            // (`7.0.15` `1790282056` `0` `00000000`); the fixed widths after the
            // version are what split it from the digits that follow.
            r"[^0-9.](?P<version>[0-9]+\.[0-9]+\.[0-9]+?)[0-9]{10}[0-9][0-9a-f]{8}\x00",
            r"Redis version (?P<version>[0-9]+\.[0-9]+\.[0-9]+)",
        ],
        cpe_templates: &[
            "cpe:2.3:a:redislabs:redis:{version}:*:*:*:*:*:*:*",
            "cpe:2.3:a:redis:redis:{version}:*:*:*:*:*:*:*",
        ],
    },
    Classifier {
        name: "postgresql-binary",
        package: "postgresql",
        purl_type: "generic",
        purl_namespace: None,
        file_globs: &["postgres"],
        name_version: None,
        patterns: &[
            r"(?:\x00|\?)PostgreSQL (?P<version>[0-9]+(?:\.[0-9]+)?(?:\.[0-9]+)?(?:alpha[0-9]|beta[0-9]|rc[0-9])?)",
        ],
        cpe_templates: &["cpe:2.3:a:postgresql:postgresql:{version}:*:*:*:*:*:*:*"],
    },
    Classifier {
        name: "curl-binary",
        package: "curl",
        purl_type: "generic",
        purl_namespace: None,
        file_globs: &["curl"],
        name_version: None,
        patterns: CURL_PATTERNS,
        cpe_templates: &["cpe:2.3:a:haxx:curl:{version}:*:*:*:*:*:*:*"],
    },
    Classifier {
        name: "curl-library",
        package: "curl",
        purl_type: "generic",
        purl_namespace: None,
        // NVD files curl CVEs under both products.
        file_globs: &["libcurl*.so*"],
        name_version: None,
        patterns: CURL_PATTERNS,
        cpe_templates: &[
            "cpe:2.3:a:haxx:curl:{version}:*:*:*:*:*:*:*",
            "cpe:2.3:a:haxx:libcurl:{version}:*:*:*:*:*:*:*",
        ],
    },
    Classifier {
        name: "haproxy-binary",
        package: "haproxy",
        purl_type: "generic",
        purl_namespace: None,
        file_globs: &["haproxy"],
        name_version: None,
        patterns: &[
            // Debian appends its revision: `version 2.6.12-1+deb12u4, released`.
            r"version (?P<version>[0-9]+\.[0-9]+(?:\.|-dev|-rc)[0-9]+)(?:-[a-z0-9]{7})?(?:-[0-9][^,\x00 ]*)?, released 20",
            r"HA-Proxy version (?P<version>[0-9]+\.[0-9]+(?:\.|-dev)[0-9]+)",
            r"(?P<version>[0-9]+\.[0-9]+(?:\.|-dev)[0-9]+)-[0-9a-zA-Z]{7}.+HAProxy version",
        ],
        cpe_templates: &["cpe:2.3:a:haproxy:haproxy:{version}:*:*:*:*:*:*:*"],
    },
    Classifier {
        name: "httpd-binary",
        package: "httpd",
        purl_type: "generic",
        purl_namespace: None,
        // Debian and Ubuntu name the executable apache2.
        file_globs: &["httpd", "apache2"],
        name_version: None,
        patterns: &[r"Apache/(?P<version>[0-9]+\.[0-9]+\.[0-9]+)"],
        cpe_templates: &["cpe:2.3:a:apache:http_server:{version}:*:*:*:*:*:*:*"],
    },
    Classifier {
        name: "memcached-binary",
        package: "memcached",
        purl_type: "generic",
        purl_namespace: None,
        file_globs: &["memcached"],
        name_version: None,
        patterns: &[r"memcached\s(?P<version>[0-9]+\.[0-9]+\.[0-9]+)"],
        cpe_templates: &["cpe:2.3:a:memcached:memcached:{version}:*:*:*:*:*:*:*"],
    },
    Classifier {
        name: "perl-binary",
        package: "perl",
        purl_type: "generic",
        purl_namespace: None,
        file_globs: &["perl"],
        name_version: None,
        patterns: &[
            r"/usr/local/lib/perl[0-9]/(?P<version>[0-9]+\.[0-9]+\.[0-9]+)",
            // Debian: the compiled-in @INC, `/usr/local/share/perl/5.36.0`.
            r"/perl5?/(?P<version>5\.[0-9]+\.[0-9]+)(?:/|\x00)",
        ],
        cpe_templates: &["cpe:2.3:a:perl:perl:{version}:*:*:*:*:*:*:*"],
    },
    Classifier {
        name: "php-fpm-binary",
        package: "php-fpm",
        purl_type: "generic",
        purl_namespace: None,
        file_globs: &["php-fpm*"],
        name_version: None,
        patterns: PHP_PATTERNS,
        cpe_templates: &["cpe:2.3:a:php:php:{version}:*:*:*:*:*:*:*"],
    },
    Classifier {
        name: "php-cli-binary",
        package: "php-cli",
        purl_type: "generic",
        purl_namespace: None,
        file_globs: &["php", "php[0-9]*"],
        name_version: None,
        patterns: PHP_PATTERNS,
        cpe_templates: &["cpe:2.3:a:php:php:{version}:*:*:*:*:*:*:*"],
    },
    Classifier {
        name: "ruby-binary",
        package: "ruby",
        purl_type: "generic",
        purl_namespace: None,
        // A shared-library build (Debian's) leaves the text in libruby only.
        file_globs: &["ruby", "ruby[0-9]*", "libruby*.so*"],
        name_version: None,
        // `ruby 3.1.2p20 (2022-04-12 revision 4491bb740a) [x86_64-linux-gnu]`;
        // NVD's CPEs carry the version without the patch level.
        patterns: &[r"ruby (?P<version>(?P<cpe_version>[0-9]+\.[0-9]+\.[0-9]+)(?:(?:p|preview|rc|dev)[0-9]*)?) \("],
        cpe_templates: &["cpe:2.3:a:ruby-lang:ruby:{version}:*:*:*:*:*:*:*"],
    },
];
