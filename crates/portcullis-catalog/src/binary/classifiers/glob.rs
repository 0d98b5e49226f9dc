//! File-name globs for [`super::Classifier::file_globs`].
//!
//! Classifiers only look at the last path component, and [`super::wants`]
//! runs on every file of an image, so this is a small allocation-free matcher
//! rather than a compiled glob set: `*` (any run), `?` (one byte) and `[...]`
//! (a set of bytes or ranges, `[!...]` negated).

/// The last component of `path` (`/usr/bin/python3.11` → `python3.11`).
pub fn file_name(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(slash) => &trimmed[slash + 1..],
        None => trimmed,
    }
}

/// Whether `name` matches `glob` as a whole.
pub fn matches(glob: &str, name: &str) -> bool {
    let (glob, name) = (glob.as_bytes(), name.as_bytes());
    let (mut g, mut n) = (0, 0);
    // Position after the last `*` and the name position it is retried from:
    // the classic linear-time backtracking for a single wildcard kind.
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if g < glob.len() {
            match glob[g] {
                b'*' => {
                    star = Some((g + 1, n));
                    g += 1;
                    continue;
                }
                b'?' => {
                    g += 1;
                    n += 1;
                    continue;
                }
                b'[' => {
                    if let Some((hit, next)) = class(&glob[g..], name[n]) {
                        if hit {
                            g += next;
                            n += 1;
                            continue;
                        }
                    } else if name[n] == b'[' {
                        // An unterminated `[` is a literal, as in fnmatch.
                        g += 1;
                        n += 1;
                        continue;
                    }
                }
                literal if literal == name[n] => {
                    g += 1;
                    n += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((after_star, from)) => {
                g = after_star;
                n = from + 1;
                star = Some((after_star, from + 1));
            }
            None => return false,
        }
    }
    glob[g..].iter().all(|&b| b == b'*')
}

/// Matches `byte` against the class opening `glob`; returns the verdict and
/// the class's length, or `None` when the class is not terminated.
fn class(glob: &[u8], byte: u8) -> Option<(bool, usize)> {
    let mut i = 1;
    let negated = matches!(glob.get(i), Some(b'!' | b'^'));
    if negated {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    while i < glob.len() {
        let c = glob[i];
        if c == b']' && !first {
            return Some((hit != negated, i + 1));
        }
        first = false;
        if glob.get(i + 1) == Some(&b'-') && glob.get(i + 2).is_some_and(|&end| end != b']') {
            let end = glob[i + 2];
            hit |= (c..=end).contains(&byte);
            i += 3;
        } else {
            hit |= c == byte;
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(matches("python*", "python3.11"));
        assert!(matches("libpython*.so*", "libpython3.11.so.1.0"));
        assert!(!matches("libpython*.so*", "libpython3.11.a"));
        assert!(matches("php[0-9]*", "php8.2"));
        assert!(!matches("php[0-9]*", "php-fpm8.2"));
        assert!(matches("php", "php"));
        assert!(!matches("php", "phpize"));
        assert!(matches("go", "go"));
        assert!(!matches("go", "gofmt"));
        assert!(matches("a?c", "abc"));
        assert!(matches("[!a]x", "bx"));
        assert!(!matches("[!a]x", "ax"));
        assert!(matches("*", ""));
        assert!(matches("a*b*c", "axxbyyc"));
        assert!(!matches("a*b*c", "axxbyy"));
        assert!(matches("[x", "[x"));
    }

    #[test]
    fn names() {
        assert_eq!(file_name("/usr/bin/python3.11"), "python3.11");
        assert_eq!(file_name("node"), "node");
        assert_eq!(file_name("/usr/bin/"), "bin");
    }
}
