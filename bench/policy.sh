#!/usr/bin/env bash
# bench/policy.sh — time to evaluate one image against a 200-rule bundle.
#
#   bench/policy.sh            # after cargo build --release; RUNS=5 by default
#
# The bundle: every rule of crates/portcullis-policy/tests/data/anchore_v1_every_trigger.json
# (Anchore's default bundle plus one rule per trigger), repeated with fresh ids
# up to 200 rules in one policy. The image: the lab's deb-mixed (its SBOM is made
# once; `evaluate sbom:FILE` then skips the analysis), matched against the
# database of bench/scan.sh (target/bench-scan/vulndb.sqlite; run that first).
# The figure is the `evaluated` log line of `portcullis -v evaluate`: policy
# evaluation alone (mapping, 200 triggers, allowlists), median of RUNS.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RUNS=${RUNS:-5}
LAB=${LAB:-target/lab}
OUT=${OUT:-target/bench-policy}
PORTCULLIS=$ROOT/target/release/portcullis
export PORTCULLIS_DB=${PORTCULLIS_DB:-$ROOT/target/bench-scan/vulndb.sqlite}
[ -f "$PORTCULLIS_DB" ] || { echo "no database at $PORTCULLIS_DB: run bench/scan.sh first" >&2; exit 1; }
mkdir -p "$OUT"
"$PORTCULLIS" -q sbom "oci-dir:$LAB/oci/deb-mixed" -o json > "$OUT/deb-mixed.sbom.json"
python3 - "$OUT/bundle-200.json" <<'PY'
import copy, json, sys
src = json.load(open("crates/portcullis-policy/tests/data/anchore_v1_every_trigger.json"))
rules = [r for p in src["policies"] for r in p["rules"]]
out, i = [], 0
while len(out) < 200:
    rule = copy.deepcopy(rules[i % len(rules)]); rule["id"] = f"rule-{len(out)}"; out.append(rule); i += 1
bundle = copy.deepcopy(src)
bundle["policies"] = [{"id": "p200", "name": "200 rules", "version": "1_0", "rules": out}]
for m in bundle["mappings"]:
    m.pop("policy_id", None); m["policy_ids"] = ["p200"]
json.dump(bundle, open(sys.argv[1], "w"))
PY
for _ in $(seq "$RUNS"); do
  # A STOP verdict exits 1; only the log line matters here.
  { "$PORTCULLIS" -v evaluate "sbom:$OUT/deb-mixed.sbom.json" --policy "$OUT/bundle-200.json" -o json --no-auto-sync 2>&1 >/dev/null || true; } \
    | sed 's/\x1b\[[0-9;]*m//g' | sed -n 's/.*rules=\([0-9]*\) decisions=\([0-9]*\) elapsed_us=\([0-9]*\).*/\1 \2 \3/p'
done > "$OUT/times"
rules=$(head -1 "$OUT/times" | cut -d' ' -f1); decisions=$(head -1 "$OUT/times" | cut -d' ' -f2)
median=$(cut -d' ' -f3 "$OUT/times" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')
echo "deb-mixed against $rules rules: $decisions decisions, evaluation $(awk -v u="$median" 'BEGIN {printf "%.1f ms", u/1000}') (median of $RUNS)"
