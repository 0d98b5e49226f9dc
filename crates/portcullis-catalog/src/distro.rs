//! Distribution detection from the release files an image carries.
//!
//! [`detect`] walks [`DISTRO_FILES`] in priority order and returns the first
//! identification it can make. os-release is authoritative when it names an
//! `ID`; the older one-line files only fill in for images that predate it
//! (CentOS 5/6, RHEL 6, Debian before 7, distroless images stripped of it).
//!
//! The module also renders the purls of OS packages ([`os_package_purl`]),
//! because every OS cataloger qualifies its purls with the distro found here
//! and they must all agree on the encoding.

use std::borrow::Cow;
use std::collections::BTreeMap;

use packageurl::PackageUrl;
use portcullis_sbom::Distro;

/// Files [`detect`] may read, in the order it consults them.
///
/// Vendor-specific `*-release` files come before `/etc/redhat-release`
/// because on Oracle Linux the latter claims to be "Red Hat Enterprise
/// Linux", and `/etc/lsb-release` comes before `/etc/debian_version` because
/// Ubuntu ships a `debian_version` naming the Debian testing release it
/// forked from (`bookworm/sid`). `/bin/busybox` is last: every busybox-based
/// distribution carries it, so it only identifies images with nothing else.
pub const DISTRO_FILES: &[&str] = &[
    OS_RELEASE,
    USR_LIB_OS_RELEASE,
    LSB_RELEASE,
    ALPINE_RELEASE,
    "/etc/centos-release",
    "/etc/almalinux-release",
    "/etc/rocky-release",
    "/etc/oracle-release",
    "/etc/fedora-release",
    REDHAT_RELEASE,
    SYSTEM_RELEASE_CPE,
    SYSTEM_RELEASE,
    DEBIAN_VERSION,
    BUSYBOX,
];

const OS_RELEASE: &str = "/etc/os-release";
const USR_LIB_OS_RELEASE: &str = "/usr/lib/os-release";
const LSB_RELEASE: &str = "/etc/lsb-release";
const ALPINE_RELEASE: &str = "/etc/alpine-release";
const REDHAT_RELEASE: &str = "/etc/redhat-release";
const SYSTEM_RELEASE_CPE: &str = "/etc/system-release-cpe";
const SYSTEM_RELEASE: &str = "/etc/system-release";
const DEBIAN_VERSION: &str = "/etc/debian_version";
const BUSYBOX: &str = "/bin/busybox";

/// Identifies the distribution from the image's release files.
///
/// `read` returns a file's content (symlinks resolved) or `None` when absent;
/// `has_file` answers existence without reading, which matters for the
/// multi-megabyte `/bin/busybox` check. Returns `None` when nothing names
/// the distribution: `scratch` images, or an os-release without `ID` and no
/// fallback file (a display `NAME` is not trusted to derive an id, because a
/// wrong id silently mismatches every vulnerability; trivy also refuses it).
pub fn detect(read: &dyn Fn(&str) -> Option<Vec<u8>>, has_file: &dyn Fn(&str) -> bool) -> Option<Distro> {
    for path in DISTRO_FILES {
        let found = match *path {
            BUSYBOX => {
                if has_file(BUSYBOX) {
                    Some(busybox(read(BUSYBOX).as_deref()))
                } else {
                    None
                }
            }
            _ => read(path).and_then(|bytes| parse_release_file(path, &bytes)),
        };
        if let Some(mut distro) = found {
            supplement(&mut distro, read);
            return Some(distro);
        }
    }
    None
}

/// Parses one release file, dispatching on its path.
fn parse_release_file(path: &str, bytes: &[u8]) -> Option<Distro> {
    let text = String::from_utf8_lossy(bytes);
    let mut distro = match path {
        OS_RELEASE | USR_LIB_OS_RELEASE => from_os_release(&parse_os_release(&text)),
        LSB_RELEASE => from_lsb_release(&parse_os_release(&text)),
        ALPINE_RELEASE => from_alpine_release(&text),
        DEBIAN_VERSION => from_debian_version(&text),
        SYSTEM_RELEASE_CPE => from_system_release_cpe(&text),
        _ => from_release_line(&text),
    }?;
    distro.source_file = path.to_owned();
    Some(distro)
}

/// Fills gaps in an os-release identification from the distro's own
/// version file, which some minimal images keep when they drop VERSION_ID
/// (distroless Debian 10 ships `debian_version` = `10.8` and no VERSION_ID).
///
/// An existing VERSION_ID is never replaced by the point release: purl
/// `distro=` qualifiers and vulnerability feeds key Debian on the major
/// release (`debian-12`), which recent syft changed and we deliberately don't.
fn supplement(distro: &mut Distro, read: &dyn Fn(&str) -> Option<Vec<u8>>) {
    if distro.version_id.is_some() {
        return;
    }
    let version_file = match distro.id.as_str() {
        "debian" => DEBIAN_VERSION,
        "alpine" => ALPINE_RELEASE,
        _ => return,
    };
    if distro.source_file == version_file {
        return;
    }
    let Some(bytes) = read(version_file) else { return };
    let text = String::from_utf8_lossy(&bytes);
    let version = text.trim();
    if is_numeric_version(version) {
        distro.version_id = Some(version.to_owned());
    }
}

/// Parses os-release / lsb-release style `KEY=value` assignments.
///
/// Values follow the shell quoting the os-release(5) format allows:
/// single quotes are literal, double quotes honour `\"`, `\\`, `` \` `` and
/// `\$`, unquoted backslashes escape the next character, and an unquoted `#`
/// at the start of a word begins a comment. Lines that are not assignments
/// are ignored rather than rejected: the file is advisory and a single odd
/// line must not lose the whole identification.
pub fn parse_os_release(text: &str) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    for raw in text.lines() {
        let line = raw.trim_end_matches('\r').trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map(str::trim_start).unwrap_or(line);
        let Some((key, rest)) = line.split_once('=') else { continue };
        if !is_shell_name(key) {
            continue;
        }
        values.insert(key.to_owned(), shell_word(rest));
    }
    values
}

fn is_shell_name(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Reads one shell word; whatever follows unquoted whitespace is ignored.
/// An unterminated quote runs to the end of the line instead of failing,
/// since a truncated PRETTY_NAME is no reason to lose the ID beside it.
fn shell_word(input: &str) -> String {
    let mut out = String::new();
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    out.push(q);
                }
            }
            '"' => {
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => match chars.peek() {
                            Some(&next @ ('"' | '\\' | '`' | '$')) => {
                                out.push(next);
                                chars.next();
                            }
                            _ => out.push('\\'),
                        },
                        _ => out.push(q),
                    }
                }
            }
            '\\' => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            c if c.is_whitespace() => break,
            '#' if out.is_empty() => break,
            _ => out.push(c),
        }
    }
    out
}

fn non_empty(values: &BTreeMap<String, String>, key: &str) -> Option<String> {
    values.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()).map(str::to_owned)
}

fn from_os_release(values: &BTreeMap<String, String>) -> Option<Distro> {
    let id = non_empty(values, "ID")?.to_lowercase();
    Some(Distro {
        id,
        version_id: non_empty(values, "VERSION_ID"),
        version_codename: non_empty(values, "VERSION_CODENAME"),
        id_like: values
            .get("ID_LIKE")
            .map(|v| v.split_whitespace().map(str::to_lowercase).collect())
            .unwrap_or_default(),
        name: non_empty(values, "NAME"),
        pretty_name: non_empty(values, "PRETTY_NAME"),
        cpe_name: non_empty(values, "CPE_NAME"),
        source_file: String::new(),
    })
}

fn from_lsb_release(values: &BTreeMap<String, String>) -> Option<Distro> {
    let name = non_empty(values, "DISTRIB_ID")?;
    Some(Distro {
        id: name.to_lowercase(),
        version_id: non_empty(values, "DISTRIB_RELEASE"),
        version_codename: non_empty(values, "DISTRIB_CODENAME"),
        id_like: Vec::new(),
        name: Some(name),
        pretty_name: non_empty(values, "DISTRIB_DESCRIPTION"),
        cpe_name: None,
        source_file: String::new(),
    })
}

fn from_alpine_release(text: &str) -> Option<Distro> {
    let version = text.lines().next()?.trim();
    if !is_plausible_version(version) {
        return None;
    }
    Some(Distro {
        id: "alpine".to_owned(),
        version_id: Some(version.to_owned()),
        name: Some("Alpine Linux".to_owned()),
        ..Distro::default()
    })
}

/// `debian_version` holds either a release number (`9.8`, `12.5`) or, on
/// testing/unstable, `<codename>/sid`, which names no version at all.
/// Anything else is not taken as evidence of Debian.
fn from_debian_version(text: &str) -> Option<Distro> {
    let content = text.lines().next()?.trim();
    let mut distro = Distro { id: "debian".to_owned(), ..Distro::default() };
    if is_numeric_version(content) {
        distro.version_id = Some(content.to_owned());
    } else {
        let (codename, suite) = content.split_once('/')?;
        if codename.is_empty() || !codename.bytes().all(|b| b.is_ascii_lowercase()) || suite != "sid" {
            return None;
        }
        distro.version_codename = Some(codename.to_owned());
    }
    Some(distro)
}

/// Guards the one-line fallbacks, which have no syntax of their own to
/// reject a corrupt or unrelated file with: a version is a short run of
/// letters, digits and `._-~+` that starts with a digit.
fn is_plausible_version(text: &str) -> bool {
    text.len() <= 64
        && text.starts_with(|c: char| c.is_ascii_digit())
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'~' | b'+'))
}

fn is_numeric_version(text: &str) -> bool {
    !text.is_empty() && text.split('.').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
}

/// Parses `/etc/system-release-cpe`, e.g. `cpe:/o:centos:linux:6:GA` or
/// `cpe:2.3:o:amazon:amazon_linux:2`.
fn from_system_release_cpe(text: &str) -> Option<Distro> {
    let cpe = text.lines().next()?.trim();
    let parts: Vec<&str> = if let Some(rest) = cpe.strip_prefix("cpe:2.3:o:") {
        rest.split(':').collect()
    } else {
        cpe.strip_prefix("cpe:/o:")?.split(':').collect()
    };
    let vendor = parts.first().filter(|v| !v.is_empty())?.to_lowercase();
    let product = parts.get(1).map(|p| p.to_lowercase()).unwrap_or_default();
    let version = parts.get(2).filter(|v| is_plausible_version(v));
    // The CPE vendor is not the os-release ID (`redhat` vs `rhel`,
    // `amazon` vs `amzn`); map the ones whose ID differs so an old image
    // gets the same id as its successors.
    let id = match (vendor.as_str(), product.as_str()) {
        ("redhat", _) => "rhel".to_owned(),
        ("oracle", _) => "ol".to_owned(),
        ("amazon", _) => "amzn".to_owned(),
        ("fedoraproject", _) => "fedora".to_owned(),
        (vendor, _) => vendor.to_owned(),
    };
    Some(Distro {
        id,
        version_id: version.map(|v| (*v).to_owned()),
        cpe_name: Some(cpe.to_owned()),
        ..Distro::default()
    })
}

/// Parses a one-line `*-release` file such as
/// `CentOS Linux release 7.6.1810 (Core)`.
///
/// The id is the os-release `ID` the same vendor uses in its later releases
/// (`centos`, `rhel`, `ol`, `almalinux`, `rocky`, `scientific`, `fedora`,
/// `amzn`), so an old image is matched against the same vulnerability feed
/// as a new one. syft instead lower-cases the whole name (`centos linux`,
/// `rocky linux`), which no feed uses; trivy maps to its own family names.
/// Red Hat Linux 6.2 (2000) and RHEL share `rhel`: both are Red Hat's and no
/// feed distinguishes them. Unknown vendors get their first word lower-cased
/// (`CloudLinux release 7.9` → `cloudlinux`), which matches their os-release
/// ID for the derivatives we know of.
fn from_release_line(text: &str) -> Option<Distro> {
    let line = text.lines().find(|l| !l.trim().is_empty())?.trim();
    let lower = line.to_ascii_lowercase();
    let at = lower.find(" release ")?;
    let name = line.get(..at)?.trim();
    let rest = line.get(at + " release ".len()..)?.trim();
    let version = rest.split_whitespace().next().filter(|v| is_plausible_version(v))?;
    let lower_name = name.to_ascii_lowercase();
    let id = [
        ("red hat", "rhel"),
        ("centos", "centos"),
        ("oracle", "ol"),
        ("almalinux", "almalinux"),
        ("rocky", "rocky"),
        ("scientific", "scientific"),
        ("fedora", "fedora"),
        ("amazon", "amzn"),
    ]
    .iter()
    .find(|(prefix, _)| lower_name.starts_with(prefix))
    .map(|(_, id)| (*id).to_owned())
    .or_else(|| lower_name.split_whitespace().next().map(str::to_owned))?;
    Some(Distro {
        id,
        version_id: Some(version.to_owned()),
        name: Some(name.to_owned()),
        pretty_name: Some(line.to_owned()),
        ..Distro::default()
    })
}

/// The busybox binary embeds its banner, `BusyBox v1.36.1 (...)`; the
/// version is a bonus, the id stands without it.
fn busybox(content: Option<&[u8]>) -> Distro {
    let version = content.and_then(|bytes| {
        let marker = b"BusyBox v";
        let start = bytes.windows(marker.len()).position(|w| w == marker)? + marker.len();
        let tail = bytes.get(start..)?;
        let len = tail.iter().take_while(|b| b.is_ascii_digit() || **b == b'.').count();
        let version = std::str::from_utf8(tail.get(..len)?).ok()?.trim_end_matches('.');
        Some(version.to_owned()).filter(|v| !v.is_empty())
    });
    Distro {
        id: "busybox".to_owned(),
        version_id: version,
        name: Some("BusyBox".to_owned()),
        source_file: BUSYBOX.to_owned(),
        ..Distro::default()
    }
}

/// Renders the purl of an OS package: `pkg:<ty>/<namespace>/<name>@<version>?<qualifiers>`.
///
/// Qualifiers with empty values are dropped and the rest sorted by key, as
/// the purl spec's canonical form (and current syft) has them. The
/// `packageurl` crate applies the per-type rules (lower-cased `deb` names and
/// namespaces); the text is then encoded by [`purl_encode`], because the
/// crate leaves `+` and `@` unencoded and a `+` read back by a form decoder
/// becomes a space (`1.0-1+deb12u1` → `1.0-1 deb12u1`).
pub fn os_package_purl(ty: &str, namespace: &str, name: &str, version: &str, qualifiers: &[(&str, &str)]) -> String {
    let qualifiers: Vec<(&str, &str)> = qualifiers.iter().copied().filter(|(_, v)| !v.is_empty()).collect();
    match normalised_purl(ty, namespace, name, version, &qualifiers) {
        Some(purl) => render_purl(
            purl.ty(),
            purl.namespace().unwrap_or_default(),
            purl.name(),
            purl.version().unwrap_or_default(),
            purl.qualifiers().iter().map(|(k, v)| (k.as_ref(), v.as_ref())).collect(),
        ),
        // Only an empty name or a non-ASCII qualifier key get here; the
        // callers never pass either, and a best-effort purl beats none.
        None => render_purl(ty, namespace, name, version, qualifiers),
    }
}

fn normalised_purl<'a>(
    ty: &'a str,
    namespace: &'a str,
    name: &'a str,
    version: &'a str,
    qualifiers: &[(&'a str, &'a str)],
) -> Option<PackageUrl<'a>> {
    let mut purl = PackageUrl::new(ty, name).ok()?;
    if !namespace.is_empty() {
        purl.with_namespace(namespace).ok()?;
    }
    if !version.is_empty() {
        purl.with_version(version).ok()?;
    }
    for (key, value) in qualifiers {
        purl.add_qualifier(*key, *value).ok()?;
    }
    Some(purl)
}

fn render_purl(ty: &str, namespace: &str, name: &str, version: &str, mut qualifiers: Vec<(&str, &str)>) -> String {
    let mut out = format!("pkg:{ty}/");
    for segment in namespace.split('/').filter(|s| !s.is_empty()) {
        out.push_str(&purl_encode(segment));
        out.push('/');
    }
    out.push_str(&purl_encode(name));
    if !version.is_empty() {
        out.push('@');
        out.push_str(&purl_encode(version));
    }
    qualifiers.sort_unstable();
    for (i, (key, value)) in qualifiers.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(key);
        out.push('=');
        out.push_str(&purl_encode(value));
    }
    out
}

/// Percent-encodes everything but the characters the purl specification
/// says must stay literal: ASCII letters and digits, `.-_~`, and `:` (so
/// Debian epochs read `1:2.36`, as the spec and syft's Debian purls write them).
pub fn purl_encode(text: &str) -> Cow<'_, str> {
    let keep = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b':');
    if text.bytes().all(keep) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for b in text.bytes() {
        if keep(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting() {
        let values = parse_os_release(
            "# comment\nA=plain\nB=\"double \\\"q\\\" \\$x \\n\"\nC='single \\ \"x\"'\nD=con\"cat\"'ed'\n\
             E=unquoted\\ space trailing words\nF=\"unterminated\n  G=indented # comment\nH=#notcomment\n\
             export I=exported\nbad line\n1X=no\nJ=\r\n",
        );
        assert_eq!(values["A"], "plain");
        assert_eq!(values["B"], "double \"q\" $x \\n");
        assert_eq!(values["C"], "single \\ \"x\"");
        assert_eq!(values["D"], "concated");
        assert_eq!(values["E"], "unquoted space");
        assert_eq!(values["F"], "unterminated");
        assert_eq!(values["G"], "indented");
        assert_eq!(values["H"], "");
        assert_eq!(values["I"], "exported");
        assert_eq!(values["J"], "");
        assert!(!values.contains_key("1X"));
    }

    #[test]
    fn release_lines() {
        let cases = [
            ("CentOS Linux release 7.6.1810 (Core) \n", "centos", "7.6.1810", "CentOS Linux"),
            ("Red Hat Enterprise Linux Server release 7.2 (Maipo)", "rhel", "7.2", "Red Hat Enterprise Linux Server"),
            ("Oracle Linux Server release 7.6", "ol", "7.6", "Oracle Linux Server"),
            ("Amazon Linux release 2 (Karoo)", "amzn", "2", "Amazon Linux"),
            ("Amazon Linux AMI release 2018.03", "amzn", "2018.03", "Amazon Linux AMI"),
            ("Fedora release 36 (Thirty Six)", "fedora", "36", "Fedora"),
            ("CloudLinux release 7.9 (Boris Yegorov)", "cloudlinux", "7.9", "CloudLinux"),
        ];
        for (line, id, version, name) in cases {
            let d = from_release_line(line).unwrap_or_default();
            assert_eq!((d.id.as_str(), d.version_id.as_deref(), d.name.as_deref()), (id, Some(version), Some(name)));
        }
        assert_eq!(from_release_line("no release keyword"), None);
        assert_eq!(from_release_line("Foo release (nothing numeric)"), None);
        assert_eq!(from_release_line(""), None);
    }

    #[test]
    fn system_release_cpe() {
        let d = from_system_release_cpe("cpe:/o:amazon:amazon_linux:2\n").unwrap_or_default();
        assert_eq!((d.id.as_str(), d.version_id.as_deref()), ("amzn", Some("2")));
        let d = from_system_release_cpe("cpe:/o:centos:linux:6:GA").unwrap_or_default();
        assert_eq!((d.id.as_str(), d.version_id.as_deref()), ("centos", Some("6")));
        let d = from_system_release_cpe("cpe:2.3:o:redhat:enterprise_linux:8:*:*:*:*:*:*:*").unwrap_or_default();
        assert_eq!((d.id.as_str(), d.version_id.as_deref()), ("rhel", Some("8")));
        assert_eq!(from_system_release_cpe("not a cpe"), None);
        assert_eq!(from_system_release_cpe("cpe:/o:"), None);
    }

    #[test]
    fn debian_version_forms() {
        assert_eq!(from_debian_version("12.5\n").and_then(|d| d.version_id), Some("12.5".to_owned()));
        let sid = from_debian_version("bookworm/sid\n").unwrap_or_default();
        assert_eq!((sid.version_id, sid.version_codename.as_deref()), (None, Some("bookworm")));
        assert_eq!(from_debian_version("\n"), None);
        assert_eq!(from_debian_version("garbage/x\n"), None);
        assert_eq!(from_debian_version("not a version"), None);
    }

    #[test]
    fn busybox_banner() {
        let read = |p: &str| (p == BUSYBOX).then(|| b"\x7fELF\0\0BusyBox v1.36.1 (2023-06-02)\0".to_vec());
        let has = |p: &str| p == BUSYBOX;
        let d = detect(&read, &has).unwrap_or_default();
        assert_eq!(
            (d.id.as_str(), d.version_id.as_deref(), d.source_file.as_str()),
            ("busybox", Some("1.36.1"), BUSYBOX)
        );
        let d = detect(&|_: &str| None, &has).unwrap_or_default();
        assert_eq!((d.id.as_str(), d.version_id), ("busybox", None));
    }

    #[test]
    fn os_release_wins_over_busybox_and_garbage_never_panics() {
        let read = |p: &str| match p {
            OS_RELEASE => Some(b"ID=alpine\nVERSION_ID=3.19.1\n".to_vec()),
            BUSYBOX => Some(b"BusyBox v1.36.1".to_vec()),
            _ => None,
        };
        let d = detect(&read, &|p: &str| p == BUSYBOX).unwrap_or_default();
        assert_eq!((d.id.as_str(), d.version_id.as_deref()), ("alpine", Some("3.19.1")));
        let garbage = |_: &str| Some(vec![0xff, 0xfe, b'=', 0, b'\n', b'"', 0x80]);
        assert_eq!(detect(&garbage, &|_: &str| false), None);
        assert_eq!(detect(&|_: &str| None, &|_: &str| false), None);
    }

    #[test]
    fn purl_encoding() {
        assert_eq!(
            os_package_purl(
                "deb",
                "debian",
                "bsdutils",
                "1:2.38.1-5+deb12u3",
                &[("arch", "amd64"), ("upstream", "util-linux@2.38.1-5+deb12u3"), ("distro", "debian-12")]
            ),
            "pkg:deb/debian/bsdutils@1:2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12&upstream=util-linux%402.38.1-5%2Bdeb12u3"
        );
        assert_eq!(
            os_package_purl("deb", "Debian", "LibStdc++6", "12.2.0-14", &[("arch", ""), ("distro", "debian-12")]),
            "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14?distro=debian-12"
        );
        assert_eq!(os_package_purl("apk", "alpine", "musl", "1.2.4-r2", &[]), "pkg:apk/alpine/musl@1.2.4-r2");
        assert_eq!(purl_encode("a b/c?d#e%f&g=h"), "a%20b%2Fc%3Fd%23e%25f%26g%3Dh");
        assert_eq!(purl_encode("é"), "%C3%A9");
    }
}
