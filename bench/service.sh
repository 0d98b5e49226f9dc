#!/usr/bin/env bash
# bench/service.sh — service figures for docs/benchmarks.md:
#
#   1. images analysed per minute: the lab images pushed to a real local
#      registry (each twice: OCI manifest and Docker schema 2, so 2 digests
#      per image), added through the API to a service on PostgreSQL with 1
#      and then 2 analyzer processes (1 worker each) beside an api+scheduler
#      process; time from the first add until every image is `analyzed`.
#   2. API latency under a loopback load (wrk, 2 threads, 8 connections,
#      DURATION seconds each) of GET /images, GET /images/{digest} and
#      GET /images/{digest}/check?tag=..., as p50/p99 and requests/s.
#
#   bench/service.sh             # about 5 min on 2 vCPUs + the release build
#
# Env: IMAGES ["deb-base deb-python deb-node deb-mixed deb-bins"], LAB
# [target/lab], OUT [target/bench-service], DURATION [10], SKIP_BUILD=1,
# PGURL [postgres://postgres@127.0.0.1:5432] (a server where we may create a
# database), REG_PORT [5055], CACHES [on] (off: no layer blob or layer result
# cache, so every image is downloaded and read in full).
# Needs: docker-registry, skopeo, wrk, psql, curl, jq (Debian packages).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
IMAGES=${IMAGES:-"deb-base deb-python deb-node deb-mixed deb-bins"}
LAB=${LAB:-target/lab}
OUT=${OUT:-target/bench-service}
DURATION=${DURATION:-10}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
REG_PORT=${REG_PORT:-5055}
SHARED=${PORTCULLIS_SHARED:-$ROOT/../shared}
PORTCULLIS=$ROOT/target/release/portcullis
PASSWORD=bench-password
AUTH="admin:$PASSWORD"
for tool in docker-registry skopeo wrk psql curl jq; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (apt-get install $tool)" >&2; exit 1; }
done
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release -q -p portcullis-cli

rm -rf "$OUT"; mkdir -p "$OUT"
pids=()
databases=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for db in "${databases[@]}"; do psql -q "$PGURL/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true; done
}
trap cleanup EXIT

# A registry holding the lab images.
cat > "$OUT/registry.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $ROOT/$OUT/registry
http:
  addr: 127.0.0.1:$REG_PORT
EOF
docker-registry serve "$OUT/registry.yml" >"$OUT/registry.log" 2>&1 &
pids+=($!)
until curl -fs "http://127.0.0.1:$REG_PORT/v2/" >/dev/null; do sleep 0.1; done
refs=()
for image in $IMAGES; do
  skopeo copy -q --dest-tls-verify=false "oci:$LAB/oci/$image:latest" "docker://127.0.0.1:$REG_PORT/bench/$image:latest"
  skopeo copy -q --dest-tls-verify=false --format v2s2 "oci:$LAB/oci/$image:latest" "docker://127.0.0.1:$REG_PORT/bench/$image:v2s2"
  refs+=("127.0.0.1:$REG_PORT/bench/$image:latest" "127.0.0.1:$REG_PORT/bench/$image:v2s2")
done

cache_mb=
[ "${CACHES:-on}" = on ] || cache_mb="
  layer_cache_mb: 0
  layer_results_cache_mb: 0"
cat > "$OUT/config.yaml" <<EOF
feeds:
  enabled: false
analyzer:
  insecure_registries: ["127.0.0.1:$REG_PORT"]$cache_mb
EOF

wait_http() { until curl -fs "$1/health" >/dev/null 2>&1; do sleep 0.2; done; }

echo "## machine: $(nproc) vCPU, load $(cut -d' ' -f1 /proc/loadavg), $(date -u +%F)"
echo "## portcullis $($PORTCULLIS --version | cut -d' ' -f2); ${#refs[@]} images ($IMAGES, OCI + schema 2 each); caches ${CACHES:-on}"
echo
for analyzers in 1 2; do
  db=portcullis_bench_${analyzers}_$$
  databases+=("$db")
  psql -q "$PGURL/postgres" -c "CREATE DATABASE $db"
  url=$PGURL/$db
  "$PORTCULLIS" -q --db "$url" feeds sync --from "$SHARED/feeds" >/dev/null
  port=$((18300 + analyzers))
  api=http://127.0.0.1:$port/v1
  data=$OUT/data-$analyzers
  PORTCULLIS_ADMIN_PASSWORD=$PASSWORD "$PORTCULLIS" serve -c "$OUT/config.yaml" --data-dir "$data" \
    --database-url "$url" --listen "127.0.0.1:$port" --roles api,scheduler >"$OUT/api-$analyzers.log" 2>&1 &
  pids+=($!)
  wait_http "$api"
  for i in $(seq "$analyzers"); do
    "$PORTCULLIS" serve -c "$OUT/config.yaml" --data-dir "$data" --database-url "$url" \
      --roles analyzer --workers 1 >"$OUT/analyzer-$analyzers-$i.log" 2>&1 &
    pids+=($!)
  done
  start=$(date +%s.%N)
  for ref in "${refs[@]}"; do
    curl -fs -u "$AUTH" -H 'Content-Type: application/json' -d "{\"tag\": \"$ref\"}" "$api/images" >/dev/null
  done
  while true; do
    states=$(curl -fs -u "$AUTH" "$api/images" | jq -r '.[].analysis_status')
    done_count=$(grep -c '^analyzed$' <<<"$states" || true)
    failed=$(grep -c '^analysis_failed$' <<<"$states" || true)
    [ "$failed" = 0 ] || { echo "an analysis failed; see $OUT/analyzer-*.log" >&2; exit 1; }
    [ "$done_count" -lt "${#refs[@]}" ] || break
    sleep 0.2
  done
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" -v n="${#refs[@]}" -v a="$analyzers" \
    'BEGIN { printf "%d analyzer process(es): %d images in %.1f s = %.1f images/min\n", a, n, e - s, n * 60 / (e - s) }'
done
echo

# API latency, on the last service (2 analyzers, all images analysed).
header="Authorization: Basic $(printf %s "$AUTH" | base64 -w0)"
digest=$(curl -fs -u "$AUTH" "$api/images" | jq -r '.[0].imageDigest')
tag=$(curl -fs -u "$AUTH" "$api/images/$digest" | jq -r '.[0].image_detail[0].fulltag')
echo "| route | requests/s | p50 | p99 |"
echo "|---|---|---|---|"
for route in "/images" "/images/$digest" "/images/$digest/check?tag=$tag"; do
  wrk -t2 -c8 -d"${DURATION}s" --latency -H "$header" "$api$route" >"$OUT/wrk.txt"
  grep -q 'Non-2xx' "$OUT/wrk.txt" && { cat "$OUT/wrk.txt" >&2; echo "errors under load on $route" >&2; exit 1; }
  rps=$(awk '/^Requests\/sec/ {print $2}' "$OUT/wrk.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$OUT/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$OUT/wrk.txt")
  echo "| GET ${route//$digest/{digest\}} | $rps | $p50 | $p99 |" | sed "s|$tag|TAG|"
done
