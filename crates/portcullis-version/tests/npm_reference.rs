//! npm SemVer ordering and ranges checked against node-semver itself (the
//! `semver` package npm uses) on a few thousand generated cases.
//! `scripts/version-reference.sh` installs it.

mod lang1_support;

use lang1_support::{Evaluation, Rng, assert_agreement, compare_outcome, count, run_node_semver, satisfies_outcome};
use portcullis_version::npm;

/// Partial versions (`1.2`), which node-semver rejects, are left out: we read them as `1.2.0`.
const NOT_SEMVER: [&str; 10] = [
    "1.2-beta",
    "01.2.3",
    "1.2.3-",
    "1.2.3-01",
    "a.b.c",
    "1.2.3+",
    "1.2.3.4",
    "1.2.3-beta..1",
    "1.2.3-be_ta",
    "v 1.2.3",
];

const PRERELEASES: [&str; 12] =
    ["alpha", "beta", "rc", "0", "1", "2", "10", "alpha.1", "alpha.10", "beta.2", "rc.1", "x-y.z"];

/// A version apart from its spelling (a `v`, build metadata), which does not change its precedence.
#[derive(Clone)]
enum Shape {
    NotSemver(&'static str),
    Version { core: [u64; 3], pre: Option<&'static str> },
}

fn number(rng: &mut Rng) -> u64 {
    // Mostly tiny so that versions collide; sometimes two digits, to catch string ordering.
    if rng.chance(5) { 10 + rng.below(3) } else { rng.below(3) }
}

fn shape(rng: &mut Rng) -> Shape {
    if rng.chance(3) {
        return Shape::NotSemver(rng.pick(&NOT_SEMVER));
    }
    Shape::Version {
        core: [number(rng), number(rng), number(rng)],
        pre: rng.chance(35).then(|| rng.pick(&PRERELEASES)),
    }
}

fn render(rng: &mut Rng, shape: &Shape) -> String {
    match shape {
        Shape::NotSemver(text) => (*text).to_owned(),
        Shape::Version { core: [major, minor, patch], pre } => {
            let prefix = if rng.chance(5) { "v" } else { "" };
            let pre = pre.map(|pre| format!("-{pre}")).unwrap_or_default();
            let build = if rng.chance(15) { rng.pick(&["+build.1", "+001", "+sha.5114f85"]) } else { "" };
            format!("{prefix}{major}.{minor}.{patch}{pre}{build}")
        }
    }
}

/// A version as ranges write it: possibly partial (`1.2`, `1`), possibly with
/// `x`/`*` wildcards, a pre-release only on a full version.
fn partial(rng: &mut Rng, shape: &Shape) -> String {
    let Shape::Version { core: [major, minor, patch], pre } = shape else {
        return render(rng, shape);
    };
    let wildcard = |rng: &mut Rng| rng.pick(&["x", "X", "*"]).to_owned();
    match rng.below(10) {
        0 => format!("{major}"),
        1 => format!("{major}.{minor}"),
        2 => format!("{major}.{}", wildcard(rng)),
        3 => format!("{major}.{minor}.{}", wildcard(rng)),
        _ => {
            let pre = pre.map(|pre| format!("-{pre}")).unwrap_or_default();
            format!("{major}.{minor}.{patch}{pre}")
        }
    }
}

/// One comparator set: a single hyphen range, or one to three comparators that must all hold.
fn comparator_set(rng: &mut Rng, pool: &[Shape], candidate: &Shape) -> String {
    // Half the bounds are the candidate itself, where the pre-release rule and the x-range edges matter.
    let bound = |rng: &mut Rng| {
        let shape = if rng.chance(50) { candidate.clone() } else { rng.pick(pool) };
        partial(rng, &shape)
    };
    if rng.chance(12) {
        return format!("{} - {}", bound(rng), bound(rng));
    }
    let comparators = rng.pick(&[1, 1, 2, 2, 3]);
    let comparators: Vec<String> = (0..comparators)
        .map(|_| {
            let operator = rng.pick(&["", "=", "v", ">", ">=", "<", "<=", "^", "~", "~>", "> ", "^ "]);
            match rng.below(25) {
                0 => "*".to_owned(),
                1 => "x".to_owned(),
                _ => format!("{operator}{}", bound(rng)),
            }
        })
        .collect();
    comparators.join(" ")
}

#[test]
fn npm_agrees_with_node_semver() {
    let mut rng = Rng::new(0x4E50_4D53_454D);
    let pool: Vec<Shape> = (0..200).map(|_| shape(&mut rng)).collect();

    let compare_cases: Vec<(String, String)> = (0..3000)
        .map(|_| {
            let left = rng.pick(&pool);
            // A fifth of the pairs differ at most by `v` and build metadata.
            let right = if rng.chance(20) { left.clone() } else { rng.pick(&pool) };
            (render(&mut rng, &left), render(&mut rng, &right))
        })
        .collect();
    let satisfies_cases: Vec<(String, String)> = (0..1500)
        .map(|_| {
            let candidate = rng.pick(&pool);
            let sets = rng.pick(&[1, 1, 1, 2, 3]);
            let sets: Vec<String> = (0..sets).map(|_| comparator_set(&mut rng, &pool, &candidate)).collect();
            (render(&mut rng, &candidate), sets.join(rng.pick(&[" || ", "||"])))
        })
        .collect();

    let ours_compare: Vec<String> = compare_cases.iter().map(|(a, b)| compare_outcome(npm::compare(a, b))).collect();
    let ours_satisfies: Vec<String> =
        satisfies_cases.iter().map(|(version, range)| satisfies_outcome(npm::satisfies(version, range))).collect();
    let (reference_compare, reference_satisfies) = run_node_semver(&compare_cases, &satisfies_cases);

    assert_agreement(&[
        Evaluation { what: "npm compare", cases: &compare_cases, ours: &ours_compare, reference: &reference_compare },
        Evaluation {
            what: "npm ranges",
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
        assert!(count(&reference_satisfies, outcome) >= 50, "satisfies outcome {outcome} too rare");
    }
}
