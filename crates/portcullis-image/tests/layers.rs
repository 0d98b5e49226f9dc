//! Layer reading on real tar streams: compression kinds, whiteouts, links, and
//! every rejected input with its error.

use std::io::Write;
use std::path::Path;

use portcullis_image::source::{self, SourceOptions};
use portcullis_image::tree::{ContentSelector, EntryKind, FileTree, NoProgress};
use portcullis_image::{ImageError, Limits};
use portcullis_testkit::layout::{Compression, Image, Layer, OciLayout};
use portcullis_testkit::rawtar::{Member, tar};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// A layer blob and its uncompressed tar.
type RawLayer = (Vec<u8>, Vec<u8>);

/// Writes an OCI layout holding one image made of the given layer blobs;
/// returns the layer digests.
fn write_layout(dir: &Path, layers: &[RawLayer]) -> Vec<String> {
    let mut image = Image::new().user("app").env("PATH=/bin").port("8080/tcp");
    for (blob, tar) in layers {
        let compression = match blob.get(..2) {
            Some([0x1f, 0x8b]) => Compression::Gzip,
            Some([0x28, 0xb5]) => Compression::Zstd,
            _ => Compression::None,
        };
        image = image.layer(Layer::from_blob(compression, blob.clone(), tar.clone()));
    }
    OciLayout::create(dir).add_image("latest", &image).layers.into_iter().map(|l| l.digest).collect()
}

fn build(layers: &[RawLayer], limits: Limits, patterns: &[&str]) -> Result<FileTree, ImageError> {
    let dir = tempfile::tempdir().unwrap();
    write_layout(dir.path(), layers);
    let options = SourceOptions { limits, ..SourceOptions::default() };
    let mut sources = source::open(&format!("oci-dir:{}", dir.path().display()), &options)?;
    assert_eq!(sources.len(), 1);
    let image = sources.remove(0);
    FileTree::build(image.as_ref(), &ContentSelector::new(patterns).unwrap(), &limits, &NoProgress)
}

fn plain(members: &[Member]) -> (Vec<u8>, Vec<u8>) {
    let t = tar(members);
    (t.clone(), t)
}

fn gz(members: &[Member]) -> (Vec<u8>, Vec<u8>) {
    let t = tar(members);
    (gzip(&t), t)
}

fn zst(members: &[Member]) -> (Vec<u8>, Vec<u8>) {
    let t = tar(members);
    (zstd::encode_all(&t[..], 3).unwrap(), t)
}

fn text(tree: &FileTree, path: &str) -> Option<String> {
    tree.read(path).unwrap().map(|c| String::from_utf8_lossy(&c.data).into_owned())
}

#[test]
fn reads_gzip_zstd_and_plain_layers_with_whiteouts() {
    let base = gz(&[
        Member::Dir("etc/"),
        Member::File("etc/os-release", b"ID=debian\n"),
        Member::Dir("app/"),
        Member::File("app/secret.pem", b"old key"),
        Member::Dir("app/static/"),
        Member::File("app/static/old.js", b"old"),
    ]);
    let middle =
        zst(&[Member::Dir("app/"), Member::File("app/.wh.secret.pem", b""), Member::File("app/main.py", b"print()")]);
    let top = plain(&[
        Member::Dir("app/static/"),
        Member::File("app/static/.wh..wh..opq", b""),
        Member::File("app/static/new.js", b"new"),
        Member::Symlink("app/current", "main.py"),
        Member::Hardlink("app/main-copy.py", "app/main.py"),
    ]);
    let tree = build(&[base, middle, top], Limits::default(), &["/app/**", "/etc/os-release"]).unwrap();
    assert_eq!(text(&tree, "/etc/os-release").as_deref(), Some("ID=debian\n"));
    assert_eq!(text(&tree, "/app/secret.pem"), None, "whited out in layer 1");
    assert_eq!(text(&tree, "/app/static/old.js"), None, "hidden by the opaque dir in layer 2");
    assert_eq!(text(&tree, "/app/static/new.js").as_deref(), Some("new"));
    assert_eq!(text(&tree, "/app/current").as_deref(), Some("print()"));
    assert_eq!(tree.entry("/app/main.py").map(|(_, layer)| layer), Some(1));
    assert_eq!(
        tree.entry("/app/main-copy.py").map(|(e, _)| e.kind.clone()),
        Some(EntryKind::Hardlink("/app/main.py".into()))
    );
    // The hard link's own layer does not hold the data; it is found in layer 1.
    assert_eq!(text(&tree, "/app/main-copy.py").as_deref(), Some("print()"));
    // All-layers view keeps what was deleted.
    let copies = tree.layer_copies("/app/secret.pem");
    assert_eq!(copies.len(), 1);
    assert_eq!(copies[0].1.as_deref(), Some(&b"old key"[..]));
    assert_eq!(tree.layers()[1].whiteouts().collect::<Vec<_>>(), vec!["/app/secret.pem"]);
    assert_eq!(tree.layers()[2].opaque_dirs().collect::<Vec<_>>(), vec!["/app/static"]);
}

#[test]
fn symlinked_file_outside_the_selection_is_fetched_in_a_second_pass() {
    let layer = gz(&[
        // No entry for /usr itself: tars need not list parent directories.
        Member::Dir("usr/lib/"),
        Member::File("usr/lib/os-release", b"ID=alpine\n"),
        Member::Dir("etc/"),
        Member::Symlink("etc/os-release", "../usr/lib/os-release"),
    ]);
    let tree = build(&[layer], Limits::default(), &["/etc/os-release"]).unwrap();
    assert_eq!(text(&tree, "/etc/os-release").as_deref(), Some("ID=alpine\n"));
}

#[test]
fn symlinks_cannot_leave_the_image() {
    let layer = gz(&[Member::Dir("etc/"), Member::Symlink("etc/passwd", "../../../../../../etc/passwd")]);
    let tree = build(&[layer], Limits::default(), &["/etc/passwd"]).unwrap();
    // Resolved inside the image (it points at itself, a loop), never at the host's file.
    assert!(matches!(tree.read("/etc/passwd"), Err(ImageError::SymlinkLoop { .. })));
}

fn expect_error(layers: &[(Vec<u8>, Vec<u8>)], limits: Limits) -> ImageError {
    match build(layers, limits, &["/**"]) {
        Ok(_) => panic!("hostile layer was accepted"),
        Err(error) => error,
    }
}

#[test]
fn rejects_parent_directory_traversal() {
    let error = expect_error(&[gz(&[Member::File("../../etc/cron.d/evil", b"x")])], Limits::default());
    assert!(
        matches!(&error, ImageError::PathTraversal { layer: 0, path } if path == "../../etc/cron.d/evil"),
        "{error}"
    );
    assert!(error.to_string().contains("escapes the image root"));
}

#[test]
fn rejects_absolute_member_names() {
    let error = expect_error(&[plain(&[Member::File("/etc/evil", b"x")])], Limits::default());
    assert!(matches!(error, ImageError::PathTraversal { .. }), "{error}");
}

#[test]
fn rejects_hard_links_that_escape() {
    let error = expect_error(&[gz(&[Member::Hardlink("etc/shadow-copy", "../../../etc/shadow")])], Limits::default());
    assert!(matches!(&error, ImageError::LinkEscape { target, .. } if target == "../../../etc/shadow"), "{error}");
}

#[test]
fn rejects_absurd_declared_sizes() {
    let error = expect_error(&[plain(&[Member::Declared("big", 1 << 50)])], Limits::default());
    assert!(matches!(error, ImageError::EntryTooLarge { size, .. } if size == 1 << 50), "{error}");
    assert!(error.to_string().contains("limits.max_file_size"));
}

#[test]
fn rejects_decompression_bombs() {
    let zeros = vec![0u8; 8 << 20];
    let layer = gz(&[Member::File("zeros", &zeros)]);
    let limits = Limits { ratio_check_after: 1 << 20, max_compression_ratio: 50, ..Limits::default() };
    let error = expect_error(std::slice::from_ref(&layer), limits);
    assert!(matches!(error, ImageError::DecompressionBomb { layer: 0, ratio: 50 }), "{error}");
    // The same layer passes under the default limits: small layers are not ratio-checked.
    assert!(build(&[layer], Limits::default(), &[]).is_ok());
}

#[test]
fn rejects_oversized_layers_and_entry_counts() {
    let layer = gz(&[Member::File("a", &[1u8; 4096]), Member::File("b", &[2u8; 4096])]);
    let error = expect_error(std::slice::from_ref(&layer), Limits { max_layer_size: 4096, ..Limits::default() });
    assert!(matches!(error, ImageError::LayerTooLarge { limit: 4096, .. }), "{error}");
    let error = expect_error(&[layer], Limits { max_entries: 1, ..Limits::default() });
    assert!(matches!(error, ImageError::TooManyEntries { limit: 1, .. }), "{error}");
}

#[test]
fn rejects_overlong_paths() {
    let long = format!("{}/f", "d".repeat(90));
    let error = expect_error(&[gz(&[Member::File(&long, b"x")])], Limits { max_path_length: 64, ..Limits::default() });
    assert!(matches!(error, ImageError::PathTooLong { limit: 64, .. }), "{error}");
}

#[test]
fn rejects_a_layer_that_is_not_a_tar() {
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let error = expect_error(&[(gzip(&garbage), garbage)], Limits::default());
    assert!(matches!(error, ImageError::BadTar { layer: 0, .. }), "{error}");
}

#[test]
fn rejects_a_truncated_compressed_layer() {
    let (blob, uncompressed) = gz(&[Member::File("a", &[7u8; 100_000])]);
    let truncated = blob[..blob.len() / 2].to_vec();
    let error = expect_error(&[(truncated, uncompressed)], Limits::default());
    assert!(matches!(error, ImageError::BadTar { .. } | ImageError::Io { .. }), "{error}");
}

#[test]
fn rejects_a_layer_that_does_not_match_its_digest() {
    let dir = tempfile::tempdir().unwrap();
    let layer = gz(&[Member::File("a", b"genuine")]);
    let digest = write_layout(dir.path(), &[layer]).remove(0);
    let blob = dir.path().join("blobs/sha256").join(digest.trim_start_matches("sha256:"));
    std::fs::write(&blob, gzip(&tar(&[Member::File("a", b"tampered")]))).unwrap();
    let sources = source::open(&format!("oci-dir:{}", dir.path().display()), &SourceOptions::default()).unwrap();
    let error =
        FileTree::build(sources[0].as_ref(), &ContentSelector::none(), &Limits::default(), &NoProgress).unwrap_err();
    assert!(matches!(&error, ImageError::DigestMismatch { expected, .. } if *expected == digest), "{error}");
}

#[test]
fn reads_image_metadata_from_the_layout() {
    let dir = tempfile::tempdir().unwrap();
    write_layout(dir.path(), &[gz(&[Member::File("a", b"x")])]);
    let sources = source::open(dir.path().to_str().unwrap(), &SourceOptions::default()).unwrap();
    let descriptor = sources[0].descriptor();
    assert_eq!(descriptor.scheme, source::Scheme::OciDir, "a directory with oci-layout is detected as a layout");
    let image = descriptor.image.as_ref().unwrap();
    assert_eq!(image.config.user.as_deref(), Some("app"));
    assert_eq!(image.config.exposed_ports, vec!["8080/tcp"]);
    assert_eq!(image.references, vec!["latest"]);
    assert_eq!(descriptor.layers.len(), 1);
    // A tag that is not in the layout is an error that lists what is there.
    let error = source::open(&format!("oci-dir:{}:v2", dir.path().display()), &SourceOptions::default()).err().unwrap();
    assert!(error.to_string().contains("no image tagged \"v2\"") && error.to_string().contains("latest"), "{error}");
}

#[test]
fn missing_and_unknown_sources_are_clear_errors() {
    let error = source::open("oci-dir:/nonexistent/layout", &SourceOptions::default()).err().unwrap();
    assert!(matches!(error, ImageError::NotFound { .. }), "{error}");
    let error = source::open("./no/such/thing", &SourceOptions::default()).err().unwrap();
    assert!(matches!(error, ImageError::UnknownSource { .. }), "{error}");
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("x.tar");
    std::fs::write(&bogus, tar(&[Member::File("hello.txt", b"hi")])).unwrap();
    let error = source::open(bogus.to_str().unwrap(), &SourceOptions::default()).err().unwrap();
    assert!(error.to_string().contains("neither an OCI archive"), "{error}");
}

/// Records what it was shown.
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<(usize, String, Vec<u8>)>>);

impl portcullis_image::tree::FileInspector for Recorder {
    fn wants(&self, path: &str, _entry: &portcullis_image::tree::Entry) -> bool {
        !path.ends_with(".skip")
    }

    fn inspect(
        &self,
        layer: usize,
        path: &str,
        _entry: &portcullis_image::tree::Entry,
        reader: &mut dyn std::io::Read,
    ) -> std::io::Result<()> {
        // Read only a prefix: the tree must skip the rest itself.
        let mut head = vec![0u8; 4];
        let n = reader.read(&mut head)?;
        head.truncate(n);
        self.0.lock().unwrap().push((layer, path.to_owned(), head));
        Ok(())
    }
}

#[test]
fn inspector_sees_every_wanted_file_of_every_layer_once() {
    let dir = tempfile::tempdir().unwrap();
    write_layout(
        dir.path(),
        &[
            gz(&[Member::Dir("etc/"), Member::File("etc/os-release", b"ID=x\n"), Member::File("a.skip", b"zzz")]),
            zst(&[Member::File("etc/os-release", b"ID=y\n"), Member::File("bin/tool", b"\x7fELF rest")]),
        ],
    );
    let sources = source::open(&format!("oci-dir:{}", dir.path().display()), &SourceOptions::default()).unwrap();
    let recorder = Recorder::default();
    let selector = ContentSelector::new(&["/etc/os-release"]).unwrap();
    let tree =
        FileTree::build_inspected(sources[0].as_ref(), &selector, &recorder, &Limits::default(), &NoProgress).unwrap();
    let mut seen = recorder.0.into_inner().unwrap();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            (0, "/etc/os-release".to_owned(), b"ID=x".to_vec()),
            (1, "/bin/tool".to_owned(), b"\x7fELF".to_vec()),
            (1, "/etc/os-release".to_owned(), b"ID=y".to_vec()),
        ]
    );
    // Capturing and inspecting the same file both work.
    assert_eq!(text(&tree, "/etc/os-release").as_deref(), Some("ID=y\n"));
    // A partly read file did not desynchronise the stream.
    assert!(tree.entry("/bin/tool").is_some());
}

/// Opens the single image of an OCI layout in `dir`.
fn open_layout(dir: &Path) -> Box<dyn portcullis_image::ImageSource> {
    source::open(&format!("oci-dir:{}", dir.display()), &SourceOptions::default()).unwrap().remove(0)
}

fn build_reusing(
    image: &dyn portcullis_image::ImageSource,
    known: Vec<portcullis_image::tree::LayerFiles>,
    patterns: &[&str],
) -> Result<FileTree, ImageError> {
    let selector = ContentSelector::new(patterns).unwrap();
    let inspector = portcullis_image::tree::NoInspector;
    FileTree::build_reusing(image, known, &selector, &inspector, &Limits::default(), &NoProgress)
}

#[test]
fn reuse_computes_each_layers_diff_id_from_its_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let layers =
        [gz(&[Member::File("a", b"gzip")]), zst(&[Member::File("b", b"zstd")]), plain(&[Member::File("c", b"plain")])];
    write_layout(dir.path(), &layers);
    let image = open_layout(dir.path());
    let tree = build_reusing(image.as_ref(), Vec::new(), &[]).unwrap();
    for ((_, tar), layer) in layers.iter().zip(tree.layers()) {
        let expected = portcullis_image::digest::Digest::sha256_of(tar).to_string();
        assert_eq!(layer.diff_id.as_deref(), Some(expected.as_str()), "layer {}", layer.index);
        assert_eq!(image.descriptor().layers[layer.index].diff_id.as_deref(), Some(expected.as_str()));
    }
    // Without reuse nothing is hashed twice.
    let plain_build = FileTree::build(image.as_ref(), &ContentSelector::none(), &Limits::default(), &NoProgress);
    assert!(plain_build.unwrap().layers().iter().all(|l| l.diff_id.is_none()));
}

#[test]
fn data_after_a_compressed_tar_only_costs_the_diff_id() {
    let (mut blob, tar) = gz(&[Member::File("a", b"content")]);
    blob.extend_from_slice(b"this is not a gzip member");
    let dir = tempfile::tempdir().unwrap();
    write_layout(dir.path(), &[(blob, tar)]);
    let image = open_layout(dir.path());
    let tree = build_reusing(image.as_ref(), Vec::new(), &["/a"]).unwrap();
    assert_eq!(text(&tree, "/a").as_deref(), Some("content"));
    assert_eq!(tree.layers()[0].diff_id, None);
}

#[test]
fn known_layers_are_not_opened_and_links_into_them_are_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let base = gz(&[Member::Dir("usr/lib/"), Member::File("usr/lib/os-release", b"ID=debian\n")]);
    let top = gz(&[Member::Dir("etc/"), Member::Symlink("etc/os-release", "../usr/lib/os-release")]);
    let digests = write_layout(dir.path(), &[base, top]);
    let image = open_layout(dir.path());
    let patterns = ["/etc/os-release"];
    let tree = build_reusing(image.as_ref(), Vec::new(), &patterns).unwrap();
    assert_eq!(text(&tree, "/etc/os-release").as_deref(), Some("ID=debian\n"));

    // The base's own result does not hold the file the top layer's link
    // needed: which links point into a layer is not the layer's business.
    let stored = serde_json::to_string(&tree.layers()[0]).unwrap();
    let restored = || {
        let mut layer: portcullis_image::tree::LayerFiles = serde_json::from_str(&stored).unwrap();
        layer.index = 0;
        layer
    };
    assert!(restored().content("/usr/lib/os-release").is_none());
    assert_eq!(restored().diff_id, tree.layers()[0].diff_id);
    assert_eq!(restored().entries().count(), tree.layers()[0].entries().count());

    // So with the base known, its blob is opened only for that file.
    let tree = build_reusing(image.as_ref(), vec![restored()], &patterns).unwrap();
    assert_eq!(text(&tree, "/etc/os-release").as_deref(), Some("ID=debian\n"));
    assert_eq!(tree.layers()[0].diff_id, restored().diff_id, "the known layer is used as given");
    std::fs::remove_file(dir.path().join("blobs/sha256").join(digests[0].trim_start_matches("sha256:"))).unwrap();
    let error = build_reusing(image.as_ref(), vec![restored()], &patterns).unwrap_err();
    assert!(error.to_string().contains("not found"), "{error}");
    // A selector that needs nothing from the base does not touch it at all.
    let tree = build_reusing(image.as_ref(), vec![restored()], &["/etc/hostname"]).unwrap();
    assert_eq!(tree.entry("/usr/lib/os-release").map(|(_, layer)| layer), Some(0));
}
