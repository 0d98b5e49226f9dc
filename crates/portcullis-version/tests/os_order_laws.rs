//! The orderings of the OS schemes and of the generic scheme are total orders
//! on generated versions (reflexive, antisymmetric, transitive), and their
//! operator-list requirements agree with them.
//!
//! The generators use small alphabets so that equal prefixes, separators,
//! `~`/`^`, suffixes and leading zeros meet often.

use std::cmp::Ordering;

use portcullis_version::Scheme;
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;

fn versions(scheme: Scheme) -> BoxedStrategy<String> {
    let pattern = match scheme {
        Scheme::Dpkg => "([0-2]:)?[0-2][0-2ab.+~]{0,5}(-[0-2ab.+~]{1,3})?",
        Scheme::Rpm => "([0-2]:)?[0-2ab._+~^]{1,6}(-[0-2ab._+~^]{1,3})?",
        Scheme::Apk => "[0-2]{1,2}(\\.0?[0-2]){0,3}[ab]?(_(alpha|rc|p|git)[0-2]?){0,2}(~[0-9a-f]{1,2})?(-r[0-2])?",
        Scheme::Generic => "v?[0-2]{1,2}([._+-]?([0-2]{1,2}|[ab]|rc|beta|dev|k)){0,4}",
        other => unreachable!("no generator for {other}"),
    };
    proptest::string::string_regex(pattern).expect("a valid pattern").boxed()
}

fn order(scheme: Scheme, a: &str, b: &str) -> Ordering {
    scheme.compare(a, b).unwrap_or_else(|error| panic!("generated version rejected: {error}"))
}

const SCHEMES: [Scheme; 4] = [Scheme::Dpkg, Scheme::Rpm, Scheme::Apk, Scheme::Generic];

fn scheme_and_versions(count: usize) -> impl Strategy<Value = (Scheme, Vec<String>)> {
    proptest::sample::select(SCHEMES.to_vec())
        .prop_flat_map(move |scheme| (Just(scheme), proptest::collection::vec(versions(scheme), count)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn reflexive_and_antisymmetric((scheme, versions) in scheme_and_versions(2)) {
        let (a, b) = (&versions[0], &versions[1]);
        prop_assert_eq!(order(scheme, a, a), Ordering::Equal, "{} {}", scheme, a);
        prop_assert_eq!(order(scheme, a, b), order(scheme, b, a).reverse(), "{} {} {}", scheme, a, b);
    }

    #[test]
    fn transitive((scheme, versions) in scheme_and_versions(3)) {
        let (a, b, c) = (&versions[0], &versions[1], &versions[2]);
        let (ab, bc, ac) = (order(scheme, a, b), order(scheme, b, c), order(scheme, a, c));
        if ab == bc {
            prop_assert_eq!(ac, ab, "{}: {} {:?} {} {:?} {}", scheme, a, ab, b, bc, c);
        }
        if ab.is_le() && bc.is_le() {
            prop_assert!(ac.is_le(), "{}: {} <= {} <= {} but {:?}", scheme, a, b, c, ac);
        }
    }

    #[test]
    fn requirements_agree_with_the_order((scheme, versions) in scheme_and_versions(3)) {
        let (v, low, high) = (&versions[0], &versions[1], &versions[2]);
        let holds = |requirement: String| scheme.satisfies(v, &requirement).unwrap();
        let (to_low, to_high) = (order(scheme, v, low), order(scheme, v, high));
        // The rpm rule for a missing release makes `satisfies` coarser than `compare`.
        if scheme != Scheme::Rpm {
            prop_assert_eq!(holds(format!("= {low}")), to_low.is_eq());
            prop_assert_eq!(holds(format!("!={low}")), to_low.is_ne());
            prop_assert_eq!(holds(format!("<< {low}")), to_low.is_lt());
            prop_assert_eq!(holds(format!("<={low}")), to_low.is_le());
            prop_assert_eq!(holds(format!(">{low}")), to_low.is_gt());
            prop_assert_eq!(holds(format!(">= {low}")), to_low.is_ge());
            prop_assert_eq!(holds(format!(">= {low}, < {high}")), to_low.is_ge() && to_high.is_lt());
            prop_assert_eq!(holds(format!("< {low} || >= {high}")), to_low.is_lt() || to_high.is_ge());
        }
        let between_itself = format!(">= {v}, <= {v}");
        prop_assert!(holds(between_itself));
        let below_itself = format!("< {v}");
        prop_assert!(!holds(below_itself));
    }
}

#[test]
fn rpm_requirements_ignore_a_release_missing_on_either_side() {
    for (version, requirement, expected) in [
        ("1.0-1", "= 1.0", true),
        ("1.0", "= 1.0-1", true),
        ("1.0-1", "< 1.0", false),
        ("1.0-1", "< 1.0-2", true),
        ("1.0-1", "> 1.0", false),
        ("1:1.0", ">= 1.0-5", true),
        ("1.0^post1", "> 1.0", true),
    ] {
        assert_eq!(Scheme::Rpm.satisfies(version, requirement), Ok(expected), "{version} {requirement}");
    }
}
