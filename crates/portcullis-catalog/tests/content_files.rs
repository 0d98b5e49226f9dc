//! File facts against real files: executable formats compared with
//! `file(1)` over whole lab images, digests compared with coreutils'
//! `sha256sum`/`sha1sum`/`md5sum` and with dpkg's own md5sums, and retrieved
//! files from the lab's `/etc/passwd`.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use portcullis_catalog::content::files::{DigestOptions, FORMAT_PROBE_LEN, FileDigester, digest, executable_format};
use portcullis_catalog::content::retrieve::{DEFAULT_RETRIEVE_MAX, DEFAULT_RETRIEVE_PATHS, retrieve};
use portcullis_testkit::data::{lab_rootfs, regular_files};

/// `file -b` for many files at once, keyed by path.
fn file_descriptions(files: &[PathBuf]) -> BTreeMap<PathBuf, String> {
    let mut child = Command::new("file")
        .args(["-b", "-N", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run file(1) ({e}): apt-get install -y file"));
    let mut stdin = child.stdin.take().unwrap();
    let list: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
    let writer = std::thread::spawn(move || stdin.write_all(list.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), files.len(), "file(1) answered {} lines for {} files", lines.len(), files.len());
    files.iter().cloned().zip(lines.into_iter().map(str::to_owned)).collect()
}

fn format_per_file_tool(description: &str) -> Option<&'static str> {
    // file(1) puts the mode first: `setuid ELF 64-bit ...`.
    let mut description = description;
    for mode in ["setuid ", "setgid ", "sticky "] {
        description = description.strip_prefix(mode).unwrap_or(description);
    }
    if description.starts_with("ELF ") {
        Some("elf")
    } else if description.starts_with("PE32") {
        Some("pe")
    } else if description.starts_with("Mach-O") {
        Some("macho")
    } else {
        None
    }
}

fn head(path: &Path) -> Vec<u8> {
    let bytes = fs::read(path).unwrap();
    bytes[..bytes.len().min(FORMAT_PROBE_LEN)].to_vec()
}

#[test]
fn executable_formats_agree_with_file_1() {
    // deb-python holds deb-base's files and more.
    let mut files = regular_files(&lab_rootfs("deb-python"));
    // A Java class file, the one magic Mach-O shares, where Debian has one.
    let class = PathBuf::from("/usr/share/gettext/javaversion.class");
    if class.is_file() {
        files.push(class);
    }
    let described = file_descriptions(&files);
    let mut elf = 0;
    let mut disagreements = Vec::new();
    for (path, description) in &described {
        let ours = executable_format(&head(path));
        if ours != format_per_file_tool(description) {
            disagreements.push(format!("{}: ours {ours:?}, file(1) {description:?}", path.display()));
        }
        elf += usize::from(ours == Some("elf"));
    }
    eprintln!("{} files, {elf} ELF", described.len());
    assert!(elf > 500, "only {elf} ELF files: is the lab rootfs complete?");
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

fn tool_digest(tool: &str, path: &Path) -> String {
    let out = Command::new(tool).arg(path).output().unwrap_or_else(|e| panic!("cannot run {tool}: {e}"));
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_owned()
}

#[test]
fn digests_agree_with_coreutils() {
    let root = lab_rootfs("deb-python");
    let empty = std::env::temp_dir().join(format!("portcullis-empty-{}", std::process::id()));
    fs::write(&empty, b"").unwrap();
    let files = [
        root.join("usr/bin/python3.11"),
        root.join("etc/passwd"),
        root.join("usr/lib/x86_64-linux-gnu/libcrypto.so.3"),
        empty.clone(),
    ];
    let all = DigestOptions { sha1: true, md5: true };
    for path in &files {
        let bytes = fs::read(path).unwrap();
        // Odd chunk sizes, as tar blocks and decompressor buffers deliver them.
        for chunk in [1usize, 511, 7919, 65536] {
            if chunk == 1 && bytes.len() > 100_000 {
                continue;
            }
            let mut d = FileDigester::new(all);
            for piece in bytes.chunks(chunk) {
                d.update(piece);
            }
            assert_eq!(d.len(), bytes.len() as u64);
            let got = d.finish();
            assert_eq!(got.sha256, format!("sha256:{}", tool_digest("sha256sum", path)), "{}", path.display());
            assert_eq!(got.sha1, Some(format!("sha1:{}", tool_digest("sha1sum", path))), "{}", path.display());
            assert_eq!(got.md5, Some(format!("md5:{}", tool_digest("md5sum", path))), "{}", path.display());
        }
        let sha256_only = digest(&bytes, DigestOptions::default());
        assert_eq!((sha256_only.sha1, sha256_only.md5), (None, None));
    }
    fs::remove_file(empty).unwrap();
}

/// Every file dpkg recorded an md5 for in the lab's deb-base image.
#[test]
fn md5_agrees_with_dpkg_md5sums() {
    let root = lab_rootfs("deb-base");
    let mut checked = 0;
    for entry in fs::read_dir(root.join("var/lib/dpkg/info")).unwrap().flatten() {
        if entry.path().extension().is_none_or(|e| e != "md5sums") {
            continue;
        }
        for line in fs::read_to_string(entry.path()).unwrap().lines() {
            let Some((md5, path)) = line.split_once("  ") else { continue };
            let file = root.join(path);
            // Files later removed from the image (docs trimmed by the build) are skipped.
            let Ok(meta) = fs::symlink_metadata(&file) else { continue };
            if !meta.is_file() {
                continue;
            }
            let got = digest(&fs::read(&file).unwrap(), DigestOptions { sha1: false, md5: true });
            assert_eq!(got.md5.as_deref(), Some(format!("md5:{md5}").as_str()), "{path}");
            checked += 1;
        }
    }
    assert!(checked > 1000, "only {checked} files checked");
}

#[test]
fn retrieved_passwd() {
    assert_eq!(DEFAULT_RETRIEVE_PATHS, ["/etc/passwd"]);
    let bytes = fs::read(lab_rootfs("deb-python").join("etc/passwd")).unwrap();
    let whole = retrieve("/etc/passwd", &bytes, DEFAULT_RETRIEVE_MAX);
    assert_eq!(whole.content.as_bytes(), bytes.as_slice());
    assert!(!whole.truncated);
    // The lab added the `app` user.
    assert!(whole.content.lines().any(|l| l.starts_with("app:x:1000:1000:")), "{}", whole.content);
    let cut = retrieve("/etc/passwd", &bytes, 40);
    assert!(cut.truncated);
    assert_eq!(cut.content.as_bytes(), &bytes[..40]);
    assert_eq!((cut.path.as_str(), cut.layer_index), ("/etc/passwd", None));
}
