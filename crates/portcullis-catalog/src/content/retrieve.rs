//! Retrieved files: the text of a few named files, kept in the SBOM so
//! policies can inspect them (Anchore's `retrieve_files`, whose default list
//! is `/etc/passwd`).

use portcullis_sbom::RetrievedFile;

/// Files retrieved unless the user names others.
pub const DEFAULT_RETRIEVE_PATHS: &[&str] = &["/etc/passwd"];

/// Default cap on the bytes kept per file.
pub const DEFAULT_RETRIEVE_MAX: usize = 64 * 1024;

/// The first `max` bytes of `bytes` as text, invalid UTF-8 replaced by
/// U+FFFD. A cut never splits a character: the partial one is dropped rather
/// than turned into a replacement character. `layer_index` is left for the
/// caller.
pub fn retrieve(path: &str, bytes: &[u8], max: usize) -> RetrievedFile {
    let truncated = bytes.len() > max;
    let kept = if truncated { &bytes[..char_boundary(bytes, max)] } else { bytes };
    RetrievedFile {
        path: path.to_owned(),
        layer_index: None,
        content: String::from_utf8_lossy(kept).into_owned(),
        truncated,
    }
}

/// The largest cut at or below `max` that does not fall inside a UTF-8
/// sequence (at most 3 bytes back; invalid input is cut at `max`).
fn char_boundary(bytes: &[u8], max: usize) -> usize {
    let is_continuation = |i: usize| bytes.get(i).is_some_and(|&b| b & 0xc0 == 0x80);
    if !is_continuation(max) {
        return max;
    }
    let lowest = max.saturating_sub(3);
    let mut cut = max;
    while cut > lowest && is_continuation(cut) {
        cut -= 1;
    }
    // `cut` is now the lead byte of the character straddling `max`; drop it
    // only if it really starts a sequence that long.
    let lead = bytes[cut];
    let needed = match lead {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return max,
    };
    if cut + needed > max { cut } else { max }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_file_is_kept_whole() {
        let r = retrieve("/etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n", DEFAULT_RETRIEVE_MAX);
        assert_eq!(r.content, "root:x:0:0:root:/root:/bin/bash\n");
        assert!(!r.truncated);
        assert_eq!((r.path.as_str(), r.layer_index), ("/etc/passwd", None));
    }

    #[test]
    fn cut_at_the_cap_without_splitting_a_character() {
        let text = "aé€😀".as_bytes(); // 1 + 2 + 3 + 4 bytes
        for (max, expected) in [(0, ""), (1, "a"), (2, "a"), (3, "aé"), (4, "aé"), (5, "aé"), (6, "aé€"), (9, "aé€")]
        {
            let r = retrieve("/f", text, max);
            assert_eq!(r.content, expected, "max {max}");
            assert!(r.truncated);
        }
        assert!(!retrieve("/f", text, 10).truncated);
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let r = retrieve("/f", b"ok\xff\xfeok", 100);
        assert_eq!(r.content, "ok\u{fffd}\u{fffd}ok");
        // Stray continuation bytes at the cap are invalid anyway: cut at the cap.
        let r = retrieve("/f", b"abcd\x80\x80\x80\x80", 6);
        assert_eq!(r.content, "abcd\u{fffd}\u{fffd}");
    }
}
