//! The rpm scheme against rpm itself: `rpm.vercmp` of rpm's embedded Lua
//! (rpm 4.18, Debian's `rpm` package) decides thousands of EVR pairs, and
//! `portcullis_version::rpm::compare` must agree with every one.
//!
//! `rpm.vercmp` parses both strings as full `[epoch:]version[-release]` and
//! compares them with `rpmverCmp`, rpm's total order (a missing release sorts
//! first), returning -1, 0 or 1. The pairs are generated deterministically,
//! biased towards near-misses, plus hand-picked tricky cases; they are written
//! to a file and decided by one `rpm --eval` running a Lua loop over it.

// Only the reference harness of `os_support` is used here, not its data locators.
#[allow(dead_code, unused_imports)]
mod os_support;

use std::cmp::Ordering;
use std::process::Command;

use os_support::reference::{self, Alphabet};
use portcullis_version::rpm;

const GENERATED_PAIRS: usize = 3000;

/// rpm's `rpmvercmp.at` is checked in `os_upstream_vectors.rs`; these are
/// about the EVR around it and the places where `~`, `^` and the end meet.
const TRICKY_PAIRS: [(&str, &str); 34] = [
    ("1.0~rc1", "1.0"),
    ("1.0~rc1~1", "1.0~rc1"),
    ("1.0~~", "1.0~"),
    ("1.0^git1", "1.0"),
    ("1.0^git1", "1.0.1"),
    ("1.0^git1", "1.0a"),
    ("1.0^", "1.0"),
    ("1.0^^", "1.0^"),
    ("1.0~rc1^git1", "1.0~rc1"),
    ("1.0~rc1^git1", "1.0"),
    ("1.0^git1~1", "1.0^git1"),
    ("1.0^~", "1.0"),
    ("1:1.0", "2.0"),
    ("0:1.0", "1.0"),
    ("00:1.0", "0:1.0"),
    ("01:1.0", "1:1.0"),
    ("18446744073709551616:1", "18446744073709551615:1"),
    ("1.0", "1.0-1"),
    ("1.0", "1.0-~1"),
    ("1.0-1", "1.0-1.el8"),
    ("1.0-1.el8_4", "1.0-1.el8"),
    ("1.0-1^1", "1.0-1"),
    ("1.0~rc1-9", "1.0-0"),
    ("1.01", "1.1"),
    ("007", "7"),
    ("1.0", "1.0."),
    ("1.0", "1_0"),
    ("1.0+git", "1.0"),
    ("1.0.1", "1.0.a"),
    ("1.0a", "1.0.a"),
    ("1b.fc17", "1.fc17"),
    ("A", "a"),
    ("a", "1"),
    ("99999999999999999999", "100000000000000000000"),
];

/// What rpm accepts in a spec file's Version and Release: letters, digits and `. _ + ~ ^`.
const ALPHABET: Alphabet = Alphabet {
    epochs: &["0", "1", "2", "10", "01", "00"],
    first: &["0", "1", "2", "9", "10", "01", "00", "007", "a", "A", "~", "^", "_"],
    upstream: &[
        "0", "1", "2", "9", "10", "01", "00", "007", "a", "b", "z", "A", "Z", "rc", "git", "p", "pre", ".", ".", "_",
        "+", "~", "~~", "^", "^^", "~^", "^~",
    ],
    release: &["0", "1", "2", "10", "00", "a", "el8", "el8_4", "fc36", "cm2", ".", "_", "+", "~", "^", "~rc", "^git"],
    markers: &["~", "^"],
    tails: &["0", "1", "a", ".", "_", "^", "~"],
};

/// For each `a b` line of the file named by `$PORTCULLIS_RPM_PAIRS`, one line with `rpm.vercmp(a, b)`.
/// (rpm's Lua `print` adds no newline, hence one `print` of all answers.)
const VERCMP_LOOP: &str = r#"%{lua:
local answers = {}
for line in io.lines(os.getenv("PORTCULLIS_RPM_PAIRS")) do
    local a, b = line:match("^(%S+) (%S+)$")
    answers[#answers + 1] = rpm.vercmp(a, b)
end
print(table.concat(answers, "\n"))
}"#;

fn rpm_order(answer: &str) -> Ordering {
    match answer {
        "-1" => Ordering::Less,
        "0" => Ordering::Equal,
        "1" => Ordering::Greater,
        other => panic!("unexpected answer {other:?} from rpm.vercmp"),
    }
}

#[test]
fn agrees_with_rpm_vercmp() {
    let mut pairs: Vec<(String, String)> =
        TRICKY_PAIRS.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
    pairs.extend(reference::generated_pairs(&ALPHABET, 0x5250_4D45_5652, GENERATED_PAIRS));
    let path = reference::write_lines("rpm-reference-pairs.txt", &reference::pair_lines(&pairs));
    let mut rpm = Command::new("rpm");
    rpm.env("PORTCULLIS_RPM_PAIRS", path).arg("--eval").arg(VERCMP_LOOP);
    let (answers, _) = reference::run_tool(rpm, "rpm", pairs.len());
    let rpm_orders: Vec<Ordering> = answers.iter().map(|answer| rpm_order(answer)).collect();
    reference::assert_agreement("rpm", &pairs, &rpm_orders, rpm::compare);
}
