#!/usr/bin/env bash
# Policygate end to end on loopback, against the team's mock Anthropic upstream and wrk harness
# (../shared/bench, see its README): the same 1 KB non-streaming POST /v1/messages load sent
# directly to the mock and through Policygate (policies, masking and recording on), REPS
# interleaved repetitions, medians; then streaming time-to-first-event (ttfe.mjs), and the heap
# after a full GC under that load (jcmd). Everything binds to 127.0.0.1 and is stopped by PID.
#
# Environment (defaults in brackets):
#   JAR [functions/target/policygate-all.jar]   the runnable jar (build: mvn -B -q -pl functions -am -DskipTests package)
#   SHARED_BENCH [<repo>/../shared/bench]        the harness folder (run-peer-bench.sh, mock-anthropic.mjs)
#   JAVA_OPTS ["-Xms256m -Xmx512m -XX:+UseParallelGC"]  gateway JVM options
#   THREADS [32]      gateway request threads (serve --threads)
#   POLICIES [cedar-policies]   policy folder
#   REPS [3] TPUT_DURATION [15] LAT_DURATION [10] WARMUP [5] TTFE_N [300]   (passed on to the harness)
#   SKIP_PORTKEY [1]  0 also measures Portkey's open-source gateway (and with its redaction) in the same run
#   OUT_DIR [/tmp/peerbench/results/policygate-<timestamp>]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
JAR=${JAR:-$ROOT/functions/target/policygate-all.jar}
SHARED_BENCH=${SHARED_BENCH:-$ROOT/../shared/bench}
JAVA_OPTS=${JAVA_OPTS:-"-Xms256m -Xmx512m -XX:+UseParallelGC"}
THREADS=${THREADS:-32}
POLICIES=${POLICIES:-$ROOT/cedar-policies}
TTFE_N=${TTFE_N:-300}
OUT_DIR=${OUT_DIR:-/tmp/peerbench/results/policygate-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT_DIR"
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

[ -f "$JAR" ] || { echo "no $JAR: build it first (mvn -B -q -pl functions -am -DskipTests package)" >&2; exit 2; }
[ -f "$SHARED_BENCH/run-peer-bench.sh" ] || { echo "no harness at $SHARED_BENCH" >&2; exit 2; }

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

MOCK_PORT=${MOCK_PORT:-$(free_port)}
GW_PORT=$(free_port)
DATA=$(mktemp -d /tmp/policygate-bench-data.XXXXXX)
log "gateway on 127.0.0.1:$GW_PORT, upstream mock on 127.0.0.1:$MOCK_PORT, data in $DATA"
# shellcheck disable=SC2086
java $JAVA_OPTS -jar "$JAR" serve --bind 127.0.0.1 --port "$GW_PORT" --data-dir "$DATA" --policies "$POLICIES" \
  --upstream-url "http://127.0.0.1:$MOCK_PORT" --threads "$THREADS" >"$OUT_DIR/gateway.out" 2>"$OUT_DIR/gateway.err" &
GW_PID=$!
PIDS+=("$GW_PID")
for _ in $(seq 1 200); do grep -q 'listening on' "$OUT_DIR/gateway.out" 2>/dev/null && break; sleep 0.05; done
grep -q 'listening on' "$OUT_DIR/gateway.out" || { cat "$OUT_DIR/gateway.err" >&2; exit 1; }
KEY=$(grep -o 'pgk_[A-Za-z0-9_-]*' "$OUT_DIR/gateway.out" | head -1)
[ -n "$KEY" ] || { echo "no demo key in the gateway output" >&2; exit 1; }

log "load: direct vs policygate (wrk, $SHARED_BENCH/run-peer-bench.sh)"
MOCK_PORT=$MOCK_PORT SKIP_PORTKEY=${SKIP_PORTKEY:-1} TARGET_NAME=policygate LAT_CONCS=${LAT_CONCS:-1} \
  TARGET_URL="http://127.0.0.1:$GW_PORT/v1/messages" TARGET_HEADERS="{\"x-api-key\":\"$KEY\"}" \
  OUT_DIR="$OUT_DIR/load" bash "$SHARED_BENCH/run-peer-bench.sh" 2>&1 | tee "$OUT_DIR/load.txt"

log "heap after a full GC, right after the load"
jcmd "$GW_PID" GC.run >/dev/null
jcmd "$GW_PID" GC.heap_info | tee "$OUT_DIR/heap.txt"
ps -o rss= -p "$GW_PID" | awk '{printf "gateway RSS %.0f MB\n", $1/1024}' | tee -a "$OUT_DIR/heap.txt"

log "streaming time to first event (mock restarted on the same port)"
PORT=$MOCK_PORT QUIET=1 node "$SHARED_BENCH/mock-anthropic.mjs" >"$OUT_DIR/mock2.out" 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 100); do grep -q '^listening ' "$OUT_DIR/mock2.out" 2>/dev/null && break; sleep 0.05; done
# The gateway's pooled connections still point at the mock that run-peer-bench.sh stopped. The local
# upstream client checks a pooled connection only once it has been idle for 2 s (a check costs up to
# 1 ms, so not on every request), and never retries a POST that failed on one: wait until every
# pooled connection is due for that check, so the first streams are not 502s.
sleep 2.5
for rep in $(seq 1 "${REPS:-3}"); do
  node "$HERE/ttfe.mjs" "$TTFE_N" "direct=http://127.0.0.1:$MOCK_PORT/v1/messages" \
    "policygate=http://127.0.0.1:$GW_PORT/v1/messages|x-api-key:$KEY" | tee -a "$OUT_DIR/ttfe.jsonl"
done
node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const by = (t, k) => med(rows.filter((r) => r.target === t).map((r) => r[k]));
for (const k of ["ttfe_p50_ms", "ttfe_p90_ms", "ttfe_p99_ms"]) {
  console.log(`${k}: direct ${by("direct", k).toFixed(3)}  policygate ${by("policygate", k).toFixed(3)}  added ${(by("policygate", k) - by("direct", k)).toFixed(3)}`);
}' "$OUT_DIR/ttfe.jsonl" | tee "$OUT_DIR/ttfe.txt"

log "clean shutdown of the gateway (SIGTERM), then the recordings on disk"
kill -TERM "$GW_PID"; wait "$GW_PID" 2>/dev/null || true
# one recording per line of the day files (sessions/yyyy/mm/dd/recordings.jsonl)
echo "index lines: $(wc -l < "$DATA/index.jsonl"), recordings: $(find "$DATA/sessions" -name recordings.jsonl -exec cat {} + | wc -l)" | tee "$OUT_DIR/recordings.txt"
rm -rf "$DATA"
log "results in $OUT_DIR"
