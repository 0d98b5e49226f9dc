//! PEP 440 ordering and specifiers checked against pypa/packaging (the library
//! pip vendors) on a few thousand generated cases. `scripts/version-reference.sh`
//! installs packaging in a venv.

mod lang1_support;

use lang1_support::{Evaluation, Rng, assert_agreement, compare_outcome, count, run_packaging};
use portcullis_version::pep440;

const NOT_PEP440: [&str; 10] =
    ["1.0-SNAPSHOT", "2004d", "1.0.x", "1..0", "dev", "1.0+", "1.0+-x", "banana", "1.0 .1", "0.9.8-r1-gentoo"];

/// What a generated version is, apart from how it is spelled: the same shape
/// rendered twice gives two spellings of one version (`1.0RC1` and `v1.0-rc.1`).
/// Numbers stay within 0..=2 and releases within three parts, so bases collide
/// often and the pre/post/dev/local rules of each operator are reached.
#[derive(Clone)]
enum Shape {
    NotPep440(&'static str),
    Version(Parts),
}

#[derive(Clone)]
struct Parts {
    epoch: Option<u64>,
    release: Vec<u64>,
    pre: Option<Suffix>,
    post: Option<Suffix>,
    dev: Option<Suffix>,
    local: Option<Vec<&'static str>>,
}

#[derive(Clone)]
struct Suffix {
    /// Index into the spellings of one kind (`a`/`alpha`/`A`), all equivalent.
    kind: usize,
    number: Option<u64>,
}

fn suffix(rng: &mut Rng, kinds: usize) -> Suffix {
    Suffix { kind: rng.index(kinds), number: rng.chance(80).then(|| rng.below(3)) }
}

fn release(rng: &mut Rng) -> Vec<u64> {
    (0..1 + rng.below(3)).map(|_| rng.below(3)).collect()
}

fn shape(rng: &mut Rng) -> Shape {
    if rng.chance(3) {
        return Shape::NotPep440(rng.pick(&NOT_PEP440));
    }
    Shape::Version(Parts {
        epoch: rng.chance(10).then(|| rng.below(3)),
        release: release(rng),
        pre: rng.chance(30).then(|| suffix(rng, PRE_KINDS.len())),
        post: rng.chance(25).then(|| suffix(rng, POST_KINDS.len())),
        dev: rng.chance(20).then(|| suffix(rng, 1)),
        local: rng
            .chance(15)
            .then(|| (0..1 + rng.below(2)).map(|_| rng.pick(&["ubuntu", "1", "abc", "0", "2a", "B"])).collect()),
    })
}

/// Pre-release spellings; `kind % 3` is the normalised kind (a, b, rc), so a shape keeps its meaning.
const PRE_KINDS: [&str; 9] = ["a", "b", "rc", "alpha", "beta", "c", "A", "B", "RC"];
const POST_KINDS: [&str; 3] = ["post", "rev", "r"];

fn render_release(rng: &mut Rng, release: &[u64]) -> String {
    let parts: Vec<String> =
        release.iter().map(|number| if rng.chance(4) { format!("0{number}") } else { number.to_string() }).collect();
    parts.join(".")
}

fn render_suffix(rng: &mut Rng, spellings: &[&str], suffix: &Suffix) -> String {
    let separator = rng.pick(&["", ".", "-", "_"]);
    let number = suffix.number.map(|number| number.to_string()).unwrap_or_default();
    format!("{separator}{}{number}", spellings[suffix.kind])
}

fn render(rng: &mut Rng, shape: &Shape) -> String {
    let Parts { epoch, release, pre, post, dev, local } = match shape {
        Shape::NotPep440(text) => return (*text).to_owned(),
        Shape::Version(parts) => parts,
    };
    let mut text = String::new();
    if rng.chance(3) {
        text.push_str(rng.pick(&["v", "V"]));
    }
    if let Some(epoch) = epoch {
        text.push_str(&format!("{epoch}!"));
    }
    text.push_str(&render_release(rng, release));
    if let Some(pre) = pre {
        text.push_str(&render_suffix(rng, &PRE_KINDS, pre));
    }
    if let Some(post) = post {
        match post.number {
            // The implicit post-release spelling `1.0-1`.
            Some(number) if rng.chance(20) => text.push_str(&format!("-{number}")),
            _ => text.push_str(&render_suffix(rng, &POST_KINDS, post)),
        }
    }
    if let Some(dev) = dev {
        text.push_str(&render_suffix(rng, &["dev"], dev));
    }
    if let Some(local) = local {
        text.push('+');
        text.push_str(&local.join(rng.pick(&[".", ".", "-", "_"])));
    }
    text
}

/// The version a specifier names: half the time a near relative of the
/// candidate (same release, some suffixes dropped), which is where the
/// operators' special rules for pre-, post- and local releases apply; local
/// labels mostly dropped, since only `==`/`!=` accept them.
fn bound(rng: &mut Rng, pool: &[Shape], candidate: &Shape) -> Shape {
    let source = if rng.chance(50) { candidate.clone() } else { rng.pick(pool) };
    match source {
        Shape::NotPep440(_) => source,
        Shape::Version(mut parts) => {
            let mut keep = |suffix: &mut Option<Suffix>| {
                if rng.chance(40) {
                    *suffix = None;
                }
            };
            keep(&mut parts.pre);
            keep(&mut parts.post);
            keep(&mut parts.dev);
            if rng.chance(80) {
                parts.local = None;
            }
            Shape::Version(parts)
        }
    }
}

fn clause(rng: &mut Rng, pool: &[Shape], candidate: &Shape) -> String {
    let space = if rng.chance(30) { " " } else { "" };
    let operator = rng.pick(&["==", "!=", "<=", ">=", "<", ">", "~=", "===", "==*", "!=*"]);
    let bound = bound(rng, pool, candidate);
    match operator.strip_suffix('*') {
        Some(operator) => {
            // Mostly valid prefixes (epoch and release only), sometimes a full version, which packaging refuses.
            let prefix = match bound {
                Shape::Version(parts) if rng.chance(85) => {
                    let epoch = parts.epoch.map(|epoch| format!("{epoch}!")).unwrap_or_default();
                    let release = parts.release.get(..1 + rng.index(parts.release.len())).unwrap();
                    format!("{epoch}{}", render_release(rng, release))
                }
                _ => render(rng, &bound),
            };
            format!("{operator}{space}{prefix}.*")
        }
        None => format!("{operator}{space}{}", render(rng, &bound)),
    }
}

#[test]
fn pep440_agrees_with_packaging() {
    let mut rng = Rng::new(0x5045_5034_3430);
    let pool: Vec<Shape> = (0..250).map(|_| shape(&mut rng)).collect();

    let compare_cases: Vec<(String, String)> = (0..3000)
        .map(|_| {
            let left = rng.pick(&pool);
            // A quarter of the pairs are two spellings of one version.
            let right = if rng.chance(25) { left.clone() } else { rng.pick(&pool) };
            (render(&mut rng, &left), render(&mut rng, &right))
        })
        .collect();
    let satisfies_cases: Vec<(String, String)> = (0..1200)
        .map(|_| {
            let candidate = rng.pick(&pool);
            let clauses = rng.pick(&[1, 1, 1, 2, 2, 3]);
            let clauses: Vec<String> = (0..clauses).map(|_| clause(&mut rng, &pool, &candidate)).collect();
            (render(&mut rng, &candidate), clauses.join(rng.pick(&[",", ", "])))
        })
        .collect();

    let ours_compare: Vec<String> = compare_cases.iter().map(|(a, b)| compare_outcome(pep440::compare(a, b))).collect();
    let ours_satisfies: Vec<String> = satisfies_cases
        .iter()
        .map(|(version, requirement)| lang1_support::satisfies_outcome(pep440::satisfies(version, requirement)))
        .collect();
    let (reference_compare, reference_satisfies) = run_packaging(&compare_cases, &satisfies_cases);

    assert_agreement(&[
        Evaluation {
            what: "PEP 440 compare",
            cases: &compare_cases,
            ours: &ours_compare,
            reference: &reference_compare,
        },
        Evaluation {
            what: "PEP 440 specifiers",
            cases: &satisfies_cases,
            ours: &ours_satisfies,
            reference: &reference_satisfies,
        },
    ]);

    // The generator must reach every outcome, or agreement would prove little.
    for outcome in ["-1", "0", "1", "error"] {
        assert!(count(&reference_compare, outcome) >= 50, "compare outcome {outcome} too rare");
    }
    for outcome in ["true", "false", "error"] {
        assert!(count(&reference_satisfies, outcome) >= 100, "satisfies outcome {outcome} too rare");
    }
}
