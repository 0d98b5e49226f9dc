//! Go modules compiled into executables: the build information the Go
//! linker embeds (what `go version -m` prints).
//!
//! The data starts with a 32-byte header: the magic `\xff Go buildinf:`,
//! the pointer size, a flags byte, then either
//! - (Go 1.18 and later, flag bit 2) the Go version and the module
//!   information inline after the header, each as a varint length and bytes; or
//! - (Go 1.13 to 1.17) two pointers to Go string headers (`runtime.buildVersion`
//!   and `runtime.modinfo`) that must be resolved through the program's
//!   segments, in the byte order flag bit 1 gives.
//!
//! The module information is text framed by two 16-byte sentinels: `path`,
//! `mod` (main module), `dep` and `=>` (replacement of the line before) lines
//! with tab-separated path, version and `h1:` sum, and since Go 1.18 `build`
//! lines with the build settings (`-ldflags`, `GOARCH`, `vcs.revision`...).
//! The header is looked for where the Go tool looks (`.go.buildinfo` in
//! ELF, `__go_buildinfo`/`__data` in Mach-O, `.data` in PE), then anywhere
//! in the file at 16-byte alignment for binaries with stripped section headers.

use crate::binary::executable_images;
use std::sync::LazyLock;

use memchr::memmem;
use object::{Object, ObjectSection, ObjectSegment};
use regex::Regex;

use portcullis_sbom::{Package, PackageType};

use crate::distro::purl_encode;

/// Go binaries are not found by name: the caller hands every executable to
/// [`parse_buildinfo`], which returns `None` quickly for the rest.
pub const PATTERNS: &[&str] = &[];

const MAGIC: &[u8] = b"\xff Go buildinf:";
const HEADER_SIZE: usize = 32;
/// The Go tool searches this much from the start of the data section.
const SEARCH_WINDOW: usize = 64 * 1024;
/// Module information of a real binary is a few hundred KiB at most; a
/// larger length in a header is corruption, not data to allocate for.
const MAX_STRING: u64 = 16 << 20;
const FLAG_BIG_ENDIAN: u8 = 1;
const FLAG_INLINE: u8 = 2;

/// The version the Go tool gives a main module built from a source tree
/// rather than fetched as a module at a version.
pub const DEVEL: &str = "(devel)";

/// A module as the build information records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoModule {
    pub path: String,
    pub version: String,
    /// `h1:` hash of the module's go.sum entry; absent for the main module
    /// and local replacements.
    pub sum: Option<String>,
    /// The `=>` replacement the build used instead.
    pub replace: Option<Box<GoModule>>,
}

/// Everything `go version -m` prints about a binary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoBuildInfo {
    /// The toolchain, e.g. `go1.19.8` (experiments, if any, follow after a space).
    pub go_version: String,
    /// The `path` line: the main package's import path.
    pub path: Option<String>,
    /// The `mod` line. Absent for binaries built outside module mode.
    pub main: Option<GoModule>,
    pub deps: Vec<GoModule>,
    /// `build` lines in order, values unquoted.
    pub settings: Vec<(String, String)>,
    /// GOARCH: from the build settings, else from the executable's header.
    pub arch: Option<String>,
}

impl GoBuildInfo {
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GoError {
    #[error("Go build info at offset {offset}: {reason}")]
    Header { offset: usize, reason: &'static str },
    #[error("Go build info at offset {offset}: {what} runs past the end of the file")]
    Truncated { offset: usize, what: &'static str },
    #[error("Go build info: address {address:#x} is not in the file ({what})")]
    Unmapped { address: u64, what: &'static str },
    #[error("Go build info: {what} length {length} is implausible")]
    Length { what: &'static str, length: u64 },
    #[error("Go build info has an empty Go version")]
    EmptyVersion,
}

/// Reads the Go build information of an executable (ELF, PE, Mach-O, or
/// the first architecture of a universal Mach-O that has it).
///
/// `Ok(None)` when the file is not a Go binary (or a Go binary too old to
/// carry build information, before Go 1.13). A header found where the Go
/// tool looks for it must be valid, or it is an error; a magic string found
/// elsewhere (the constant inside programs that read build info
/// themselves) is skipped when it does not decode.
pub fn parse_buildinfo(binary: &[u8]) -> Result<Option<GoBuildInfo>, GoError> {
    let images = executable_images(binary);
    let parsed: Vec<(&[u8], Option<object::File<'_>>)> =
        images.iter().map(|image| (*image, object::File::parse(*image).ok())).collect();
    for (image, file) in &parsed {
        if let Some(offset) = file.as_ref().and_then(|f| preferred_header(image, f)) {
            let mut info = decode(image, offset, file.as_ref())?;
            fill_arch(&mut info, file.as_ref());
            return Ok(Some(info));
        }
    }
    for (image, file) in &parsed {
        let finder = memmem::find_iter(image, MAGIC);
        for offset in finder.filter(|offset| offset % 16 == 0) {
            if let Ok(mut info) = decode(image, offset, file.as_ref()) {
                fill_arch(&mut info, file.as_ref());
                return Ok(Some(info));
            }
        }
    }
    Ok(None)
}

fn fill_arch(info: &mut GoBuildInfo, file: Option<&object::File<'_>>) {
    info.arch = info
        .setting("GOARCH")
        .map(str::to_owned)
        .or_else(|| file.and_then(|f| goarch(f.architecture())).map(str::to_owned));
}

/// GOARCH names for the architectures Go targets.
fn goarch(architecture: object::Architecture) -> Option<&'static str> {
    use object::Architecture as A;
    Some(match architecture {
        A::X86_64 => "amd64",
        A::I386 => "386",
        A::Aarch64 => "arm64",
        A::Arm => "arm",
        A::PowerPc64 => "ppc64",
        A::S390x => "s390x",
        A::Riscv64 => "riscv64",
        A::Mips => "mips",
        A::Mips64 => "mips64",
        A::LoongArch64 => "loong64",
        A::Wasm32 => "wasm",
        _ => return None,
    })
}

/// File offset of the header in the section the Go tool reads it from,
/// searched at 16-byte alignment within [`SEARCH_WINDOW`] as the Go tool does.
fn preferred_header(image: &[u8], file: &object::File<'_>) -> Option<usize> {
    let names: &[&str] = match file.format() {
        object::BinaryFormat::Elf => &[".go.buildinfo"],
        object::BinaryFormat::MachO => &["__go_buildinfo", "__data"],
        object::BinaryFormat::Pe => &[".data"],
        _ => &[],
    };
    for name in names {
        let Some(section) = file.section_by_name(name) else { continue };
        let Some((start, _)) = section.file_range() else { continue };
        let start = usize::try_from(start).ok()?;
        let window = image.get(start..)?;
        let window = window.get(..SEARCH_WINDOW.min(window.len()))?;
        let mut hits = memmem::find_iter(window, MAGIC);
        if let Some(found) = hits.find(|offset| offset % 16 == 0) {
            return Some(start + found);
        }
    }
    None
}

/// Decodes the build information whose header starts at `offset`.
fn decode(image: &[u8], offset: usize, file: Option<&object::File<'_>>) -> Result<GoBuildInfo, GoError> {
    let header =
        image.get(offset..offset.saturating_add(HEADER_SIZE)).ok_or(GoError::Truncated { offset, what: "header" })?;
    let pointer_size = header.get(14).copied().unwrap_or_default();
    let flags = header.get(15).copied().unwrap_or_default();
    let (version, modinfo) = if flags & FLAG_INLINE != 0 {
        let mut cursor = offset + HEADER_SIZE;
        let version = inline_string(image, &mut cursor, "version")?;
        let modinfo = inline_string(image, &mut cursor, "module information")?;
        (version, modinfo)
    } else {
        if pointer_size != 4 && pointer_size != 8 {
            return Err(GoError::Header { offset, reason: "pointer size is neither 4 nor 8" });
        }
        let Some(file) = file else {
            return Err(GoError::Header { offset, reason: "pointer form in a file whose segments cannot be read" });
        };
        let big_endian = flags & FLAG_BIG_ENDIAN != 0;
        let word = |bytes: &[u8]| read_word(bytes, pointer_size, big_endian);
        let size = usize::from(pointer_size);
        let version_address = word(header.get(16..16 + size).unwrap_or_default());
        let modinfo_address = word(header.get(16 + size..16 + 2 * size).unwrap_or_default());
        let version = pointed_string(file, version_address, pointer_size, big_endian, "version")?;
        let modinfo = pointed_string(file, modinfo_address, pointer_size, big_endian, "module information")?;
        (version, modinfo)
    };
    if version.is_empty() {
        return Err(GoError::EmptyVersion);
    }
    let mut info = parse_modinfo(&String::from_utf8_lossy(strip_sentinels(modinfo)));
    info.go_version = String::from_utf8_lossy(version).into_owned();
    Ok(info)
}

fn read_word(bytes: &[u8], pointer_size: u8, big_endian: bool) -> u64 {
    let mut buffer = [0u8; 8];
    let size = usize::from(pointer_size).min(8).min(bytes.len());
    if big_endian {
        buffer[8 - size..].copy_from_slice(&bytes[..size]);
        u64::from_be_bytes(buffer)
    } else {
        buffer[..size].copy_from_slice(&bytes[..size]);
        u64::from_le_bytes(buffer)
    }
}

fn inline_string<'a>(image: &'a [u8], cursor: &mut usize, what: &'static str) -> Result<&'a [u8], GoError> {
    let start = *cursor;
    let mut length: u64 = 0;
    let mut shift = 0;
    loop {
        let byte = *image.get(*cursor).ok_or(GoError::Truncated { offset: start, what })?;
        *cursor += 1;
        if shift >= 64 {
            return Err(GoError::Length { what, length: u64::MAX });
        }
        length |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    if length > MAX_STRING {
        return Err(GoError::Length { what, length });
    }
    let end = cursor.checked_add(length as usize).ok_or(GoError::Length { what, length })?;
    let bytes = image.get(*cursor..end).ok_or(GoError::Truncated { offset: start, what })?;
    *cursor = end;
    Ok(bytes)
}

/// Follows a pointer to a Go string header `{data pointer, length}`.
fn pointed_string<'a>(
    file: &object::File<'a>,
    address: u64,
    pointer_size: u8,
    big_endian: bool,
    what: &'static str,
) -> Result<&'a [u8], GoError> {
    let size = u64::from(pointer_size);
    let header = read_memory(file, address, 2 * size).ok_or(GoError::Unmapped { address, what })?;
    let data = read_word(header, pointer_size, big_endian);
    let length = read_word(header.get(pointer_size as usize..).unwrap_or_default(), pointer_size, big_endian);
    if length > MAX_STRING {
        return Err(GoError::Length { what, length });
    }
    if length == 0 {
        return Ok(&[]);
    }
    read_memory(file, data, length).ok_or(GoError::Unmapped { address: data, what })
}

/// Bytes at a virtual address, from the segment (or section) mapping it.
fn read_memory<'a>(file: &object::File<'a>, address: u64, size: u64) -> Option<&'a [u8]> {
    let from_segments = file.segments().find_map(|segment| segment.data_range(address, size).ok().flatten());
    from_segments.or_else(|| file.sections().find_map(|section| section.data_range(address, size).ok().flatten()))
}

/// Removes the 16-byte sentinels around the module text, as Go's reader does.
fn strip_sentinels(modinfo: &[u8]) -> &[u8] {
    if modinfo.len() >= 33 && modinfo.get(modinfo.len() - 17) == Some(&b'\n') {
        &modinfo[16..modinfo.len() - 16]
    } else {
        modinfo
    }
}

/// Parses the module text. Malformed lines are skipped: the rest of the
/// text is still trustworthy, and one odd line should not hide every module.
fn parse_modinfo(text: &str) -> GoBuildInfo {
    let mut info = GoBuildInfo::default();
    // Which module a `=>` line replaces: the main module or the last dep.
    #[derive(Clone, Copy)]
    enum Last {
        None,
        Main,
        Dep,
    }
    let mut last = Last::None;
    for line in text.lines() {
        let Some((kind, rest)) = line.split_once('\t') else { continue };
        match kind {
            "go" => info.go_version = rest.to_owned(),
            "path" => info.path = Some(rest.to_owned()),
            "mod" | "dep" | "=>" => {
                let mut fields = rest.split('\t');
                let module = GoModule {
                    path: fields.next().unwrap_or_default().to_owned(),
                    version: fields.next().unwrap_or_default().to_owned(),
                    sum: fields.next().filter(|s| !s.is_empty()).map(str::to_owned),
                    replace: None,
                };
                if module.path.is_empty() {
                    tracing::debug!(line, "Go build info line without a module path ignored");
                    continue;
                }
                match (kind, last) {
                    ("mod", _) => {
                        info.main = Some(module);
                        last = Last::Main;
                    }
                    ("dep", _) => {
                        info.deps.push(module);
                        last = Last::Dep;
                    }
                    (_, Last::Main) => {
                        if let Some(main) = info.main.as_mut() {
                            main.replace = Some(Box::new(module));
                        }
                        last = Last::None;
                    }
                    (_, Last::Dep) => {
                        if let Some(dep) = info.deps.last_mut() {
                            dep.replace = Some(Box::new(module));
                        }
                        last = Last::None;
                    }
                    (_, Last::None) => tracing::debug!(line, "Go build info replacement without a module ignored"),
                }
            }
            "build" => match build_setting(rest) {
                Some(setting) => info.settings.push(setting),
                None => tracing::debug!(line, "malformed Go build setting ignored"),
            },
            _ => {}
        }
    }
    info
}

/// `key=value`, either side possibly quoted Go-style (values with spaces,
/// such as `-ldflags="-s -w"`, are written with `strconv.Quote`).
fn build_setting(text: &str) -> Option<(String, String)> {
    let (key, raw_value) = if text.starts_with(['"', '`']) {
        let (key, rest) = go_unquote_prefix(text)?;
        (key, rest.strip_prefix('=')?)
    } else {
        let (key, value) = text.split_once('=')?;
        (key.to_owned(), value)
    };
    if key.is_empty() {
        return None;
    }
    let value = if raw_value.starts_with(['"', '`']) {
        let (value, rest) = go_unquote_prefix(raw_value)?;
        if !rest.is_empty() {
            return None;
        }
        value
    } else {
        raw_value.to_owned()
    };
    Some((key, value))
}

/// Unquotes the Go string literal at the start of `text` (`strconv.QuotedPrefix`
/// then `strconv.Unquote`), returning it and what follows.
fn go_unquote_prefix(text: &str) -> Option<(String, &str)> {
    let mut chars = text.char_indices();
    let (_, quote) = chars.next()?;
    if quote == '`' {
        let end = text.get(1..)?.find('`')? + 1;
        return Some((text.get(1..end)?.to_owned(), text.get(end + 1..)?));
    }
    let mut bytes = Vec::new();
    while let Some((index, c)) = chars.next() {
        match c {
            '"' => return Some((String::from_utf8_lossy(&bytes).into_owned(), text.get(index + 1..)?)),
            '\n' => return None,
            '\\' => {
                let (_, escaped) = chars.next()?;
                let mut hex = |digits: usize| -> Option<u32> {
                    let mut value = 0;
                    for _ in 0..digits {
                        value = value * 16 + chars.next()?.1.to_digit(16)?;
                    }
                    Some(value)
                };
                match escaped {
                    'a' => bytes.push(0x07),
                    'b' => bytes.push(0x08),
                    'f' => bytes.push(0x0c),
                    'n' => bytes.push(b'\n'),
                    'r' => bytes.push(b'\r'),
                    't' => bytes.push(b'\t'),
                    'v' => bytes.push(0x0b),
                    '\\' | '"' | '\'' => bytes.push(escaped as u8),
                    'x' => bytes.push(u8::try_from(hex(2)?).ok()?),
                    'u' | 'U' => {
                        let c = char::from_u32(hex(if escaped == 'u' { 4 } else { 8 })?)?;
                        bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                    }
                    '0'..='7' => {
                        let mut value = escaped.to_digit(8)?;
                        for _ in 0..2 {
                            value = value * 8 + chars.next()?.1.to_digit(8)?;
                        }
                        bytes.push(u8::try_from(value).ok()?);
                    }
                    _ => return None,
                }
            }
            other => bytes.extend_from_slice(other.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    None
}

/// syft's patterns for a version passed with `-X` in `-ldflags`: a variable
/// named `version`, `Version`, `ver`, `gitVersion`, `buildVersion`... or
/// `tag`, set to something shaped like a semantic version (path prefixes
/// such as `refs/tags/` dropped).
static LDFLAGS_VERSION: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"(?m)\.([gG]it)?([bB]uild)?[vV]er(sion)?=(\S+/)*(?P<version>v?\d+.\d+.\d+[-\w]*)",
        r"(?m)\.([tT]ag)=(\S+/)*(?P<version>v?\d+.\d+.\d+[-\w]*)",
    ]
    .iter()
    .filter_map(|pattern| Regex::new(pattern).ok())
    .collect()
});

/// The version given with `-X ...version=` in the recorded `-ldflags`,
/// `v`-prefixed. Go records `-ldflags` only for builds without `-trimpath`.
pub fn version_from_ldflags(ldflags: &str) -> Option<String> {
    LDFLAGS_VERSION.iter().find_map(|pattern| {
        let version = pattern.captures(ldflags)?.name("version")?.as_str();
        Some(if version.starts_with('v') { version.to_owned() } else { format!("v{version}") })
    })
}

/// The version to report for the main module, the way syft chooses it: the
/// recorded one unless it is `(devel)`; then a version set through
/// `-ldflags -X`; then a pseudo-version `v0.0.0-<commit time>-<12 hex of
/// the commit>` from the `vcs.revision`/`vcs.time` settings; else `(devel)`.
/// syft can also guess from version-like strings in the binary's data; that
/// is off by default there and not done here.
pub fn main_module_version(info: &GoBuildInfo) -> String {
    let recorded = info.main.as_ref().map(|m| m.version.as_str()).filter(|v| !v.is_empty()).unwrap_or(DEVEL);
    if recorded != DEVEL {
        return recorded.to_owned();
    }
    if let Some(version) = info.setting("-ldflags").and_then(version_from_ldflags) {
        return version;
    }
    if let (Some(revision), Some(time)) = (info.setting("vcs.revision"), info.setting("vcs.time")) {
        let short: String = revision.chars().take(12).collect();
        return format!("v0.0.0-{}-{short}", pseudo_version_time(time));
    }
    DEVEL.to_owned()
}

/// `2023-05-01T10:20:30Z` → `20230501102030`. Go writes `vcs.time` in UTC;
/// anything else gives the zero time, as syft's pseudo-version does when
/// the time does not parse.
fn pseudo_version_time(rfc3339: &str) -> String {
    let zero = "00010101000000".to_owned();
    let Some(utc) = rfc3339.strip_suffix('Z') else { return zero };
    let utc = utc.split('.').next().unwrap_or_default();
    let digits: String = utc.chars().filter(char::is_ascii_digit).collect();
    let shaped = utc.len() == 19 && utc.as_bytes().get(10) == Some(&b'T');
    if shaped && digits.len() == 14 { digits } else { zero }
}

/// `go1.19.8 X:boringcrypto` → `go1.19.8`.
fn toolchain_version(go_version: &str) -> &str {
    go_version.split_whitespace().next().unwrap_or_default()
}

/// `pkg:golang/<module path>@<version>`: everything up to the last `/` is
/// the namespace; case is kept (module paths are case-sensitive).
pub fn purl(module_path: &str, version: &str) -> String {
    let mut out = "pkg:golang/".to_owned();
    let segments: Vec<&str> = module_path.split('/').filter(|s| !s.is_empty()).collect();
    for (i, segment) in segments.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(&purl_encode(segment));
    }
    if !version.is_empty() {
        out.push('@');
        out.push_str(&purl_encode(version));
    }
    out
}

/// A replacement pointing at a directory (`../greeting`, `/src/x`) rather
/// than at another module.
fn is_local_path(path: &str) -> bool {
    path.starts_with("./") || path.starts_with("../") || path.starts_with('/') || path == "." || path == ".."
}

/// The packages of a Go binary, as syft reports them: the main module, every
/// dependency, and the toolchain as `stdlib` at `go1.x.y`
/// (`pkg:golang/stdlib@1.x.y`, licence BSD-3-Clause).
///
/// A dependency replaced by another module is reported as the replacement
/// (that is the code compiled in). One replaced by a local directory keeps
/// its own path and version, with the directory in metadata: syft reports
/// the directory as the name, which no advisory can ever match.
pub fn to_packages(info: &GoBuildInfo) -> Vec<Package> {
    let mut packages = Vec::with_capacity(info.deps.len() + 2);
    let main_path = info.main.as_ref().map(|m| m.path.clone()).or_else(|| info.path.clone());
    if let Some(main_path) = &main_path {
        let version = main_module_version(info);
        let mut package = module_package(info, main_path, &version, None, main_path);
        if !info.settings.is_empty() {
            let settings: serde_json::Map<String, serde_json::Value> =
                info.settings.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect();
            package.metadata.insert("build_settings".to_owned(), settings.into());
        }
        if let Some(replace) = info.main.as_ref().and_then(|m| m.replace.as_deref()) {
            package.metadata.insert("replaced_by".to_owned(), replacement_json(replace));
        }
        packages.push(package);
    }
    let main_path = main_path.unwrap_or_default();
    for dep in &info.deps {
        let (module, replaced_by) = match dep.replace.as_deref() {
            Some(replace) if !is_local_path(&replace.path) => (replace, Some(dep)),
            _ => (dep, None),
        };
        let mut package = module_package(info, &module.path, &module.version, module.sum.as_deref(), &main_path);
        if let Some(original) = replaced_by {
            package.metadata.insert("replaces".to_owned(), replacement_json(original));
        } else if let Some(local) = dep.replace.as_deref() {
            package.metadata.insert("replaced_by".to_owned(), replacement_json(local));
        }
        packages.push(package);
    }
    let toolchain = toolchain_version(&info.go_version);
    if let Some(number) = toolchain.strip_prefix("go").filter(|n| !n.is_empty()) {
        let mut package = Package::new(PackageType::GoModule, "stdlib", toolchain, None, purl("stdlib", number));
        package.licenses = vec!["BSD-3-Clause".to_owned()];
        package.found_by = Some("go-module-binary".to_owned());
        package.metadata.insert("go_version".to_owned(), info.go_version.clone().into());
        if let Some(arch) = &info.arch {
            package.metadata.insert("architecture".to_owned(), arch.clone().into());
        }
        packages.push(package);
    }
    packages
}

fn module_package(info: &GoBuildInfo, path: &str, version: &str, sum: Option<&str>, main_path: &str) -> Package {
    let mut package = Package::new(PackageType::GoModule, path, version, None, purl(path, version));
    package.found_by = Some("go-module-binary".to_owned());
    let metadata = &mut package.metadata;
    metadata.insert("go_version".to_owned(), info.go_version.clone().into());
    metadata.insert("main_module".to_owned(), main_path.into());
    if let Some(sum) = sum {
        metadata.insert("h1_digest".to_owned(), sum.into());
    }
    if let Some(arch) = &info.arch {
        metadata.insert("architecture".to_owned(), arch.clone().into());
    }
    package
}

fn replacement_json(module: &GoModule) -> serde_json::Value {
    serde_json::json!({ "path": module.path, "version": module.version, "sum": module.sum })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_settings() {
        assert_eq!(
            build_setting(r#"-ldflags="-s -w -X main.version=v1.2.3""#),
            Some(("-ldflags".to_owned(), "-s -w -X main.version=v1.2.3".to_owned()))
        );
        assert_eq!(build_setting("GOARCH=amd64"), Some(("GOARCH".to_owned(), "amd64".to_owned())));
        assert_eq!(build_setting("\"odd key\"=`raw`"), Some(("odd key".to_owned(), "raw".to_owned())));
        assert_eq!(build_setting(r#"k="\x41\u00e9\101\t""#), Some(("k".to_owned(), "AéA\t".to_owned())));
        assert_eq!(build_setting("=x"), None);
        assert_eq!(build_setting("novalue"), None);
        assert_eq!(build_setting(r#"k="unterminated"#), None);
        assert_eq!(build_setting(r#"k="a"b"#), None);
    }

    #[test]
    fn ldflags_versions() {
        let v = |flags: &str| version_from_ldflags(flags);
        assert_eq!(v("-s -w -X main.version=v1.2.3").as_deref(), Some("v1.2.3"));
        assert_eq!(v("-X github.com/x/y/internal/version.Version=1.2.3-rc.1").as_deref(), Some("v1.2.3-rc"));
        assert_eq!(v("-X main.gitVersion=refs/tags/v0.9.1").as_deref(), Some("v0.9.1"));
        assert_eq!(v("-X main.tag=2.0.0").as_deref(), Some("v2.0.0"));
        assert_eq!(v("-X main.commit=abc -X main.date=2020"), None);
        assert_eq!(v("-X main.appVersion=1.2.3"), None);
    }

    #[test]
    fn main_version_fallbacks() {
        let mut info = GoBuildInfo {
            main: Some(GoModule { path: "x".into(), version: DEVEL.into(), ..GoModule::default() }),
            ..GoBuildInfo::default()
        };
        assert_eq!(main_module_version(&info), DEVEL);
        info.settings = vec![
            ("vcs.revision".into(), "4f62349c13ab97a865870cc753028af2c68ee98a".into()),
            ("vcs.time".into(), "2023-01-02T03:04:05Z".into()),
        ];
        assert_eq!(main_module_version(&info), "v0.0.0-20230102030405-4f62349c13ab");
        info.settings.push(("-ldflags".into(), "-X main.version=v1.2.3".into()));
        assert_eq!(main_module_version(&info), "v1.2.3");
        info.main = Some(GoModule { path: "x".into(), version: "v2.0.0".into(), ..GoModule::default() });
        assert_eq!(main_module_version(&info), "v2.0.0");
        assert_eq!(pseudo_version_time("2023-01-02T03:04:05.123Z"), "20230102030405");
        assert_eq!(pseudo_version_time("2023-01-02T03:04:05+02:00"), "00010101000000");
    }

    #[test]
    fn purls() {
        assert_eq!(purl("github.com/BurntSushi/toml", "v1.2.1"), "pkg:golang/github.com/BurntSushi/toml@v1.2.1");
        assert_eq!(
            purl("github.com/docker/docker", "v20.10.24+incompatible"),
            "pkg:golang/github.com/docker/docker@v20.10.24%2Bincompatible"
        );
        assert_eq!(purl("stdlib", "1.19.8"), "pkg:golang/stdlib@1.19.8");
        assert_eq!(purl("x", DEVEL), "pkg:golang/x@%28devel%29");
    }

    #[test]
    fn modinfo_lines() {
        let text = "path\tp\nmod\tp\t(devel)\t\ndep\ta\tv1\th1:x\n=>\tb\tv2\th1:y\ndep\tc\tv3\n=>\t../c\t\t\n\
                    =>\tstray\tv\t\nbogus\nbuild\tGOOS=linux\nbuild\tbad\n";
        let info = parse_modinfo(text);
        assert_eq!(info.path.as_deref(), Some("p"));
        assert_eq!(info.deps.len(), 2);
        assert_eq!(info.deps[0].replace.as_ref().map(|r| r.path.as_str()), Some("b"));
        assert_eq!(info.deps[1].replace.as_ref().map(|r| r.path.as_str()), Some("../c"));
        assert_eq!(info.settings, [("GOOS".to_owned(), "linux".to_owned())]);
    }

    #[test]
    fn not_go() {
        assert_eq!(parse_buildinfo(b"hello"), Ok(None));
        assert_eq!(parse_buildinfo(&[]), Ok(None));
    }
}
