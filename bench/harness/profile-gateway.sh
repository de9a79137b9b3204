#!/usr/bin/env bash
# Profiles Policygate under load: the gateway runs with Java Flight Recorder while wrk sends the
# harness's 1 KB non-streaming POST /v1/messages at concurrency CONC through it to the mock
# upstream; then prints the hottest frames (top of stack, and the dev.policygate / Jetty / JDK
# HTTP frames anywhere on the stack) and where threads wait. Everything binds to 127.0.0.1 and
# is stopped by PID.
#
# Environment: JAR [functions/target/policygate-all.jar], SHARED_BENCH [<repo>/../shared/bench],
#   JAVA_OPTS ["-Xms256m -Xmx512m -XX:+UseParallelGC"], THREADS [32], CONC [16], DURATION [15],
#   OUT_DIR [/tmp/peerbench/results/profile-<timestamp>], TOP [25], JFR_SETTINGS [profile] (a .jfc path,
#   e.g. a copy of profile.jfc with jdk.ExecutionSample every 1 ms)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
JAR=${JAR:-$ROOT/functions/target/policygate-all.jar}
SHARED_BENCH=${SHARED_BENCH:-$ROOT/../shared/bench}
JAVA_OPTS=${JAVA_OPTS:-"-Xms256m -Xmx512m -XX:+UseParallelGC"}
THREADS=${THREADS:-32}; CONC=${CONC:-16}; DURATION=${DURATION:-15}; TOP=${TOP:-25}
OUT_DIR=${OUT_DIR:-/tmp/peerbench/results/profile-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT_DIR"
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

MOCK_PORT=$(free_port); GW_PORT=$(free_port); DATA=$(mktemp -d /tmp/policygate-prof-data.XXXXXX)
PORT=$MOCK_PORT QUIET=1 node "$SHARED_BENCH/mock-anthropic.mjs" >"$OUT_DIR/mock.out" 2>&1 &
PIDS+=("$!")
# shellcheck disable=SC2086
java $JAVA_OPTS -XX:StartFlightRecording=filename="$OUT_DIR/gw.jfr",settings=${JFR_SETTINGS:-profile},delay=3s \
  -jar "$JAR" serve --bind 127.0.0.1 --port "$GW_PORT" --data-dir "$DATA" --policies "$ROOT/cedar-policies" \
  --upstream-url "http://127.0.0.1:$MOCK_PORT" --threads "$THREADS" >"$OUT_DIR/gateway.out" 2>"$OUT_DIR/gateway.err" &
GW_PID=$!; PIDS+=("$GW_PID")
for _ in $(seq 1 200); do grep -q 'listening on' "$OUT_DIR/gateway.out" 2>/dev/null && break; sleep 0.05; done
KEY=$(grep -o 'pgk_[A-Za-z0-9_-]*' "$OUT_DIR/gateway.out" | head -1)
node -e '
const p = Number(process.argv[1]); const filler = "lorem ipsum dolor sit amet ";
let t = "Please write to alice@example.com and bob@example.org about this. ";
while (t.length < p) t += filler; t = t.slice(0, p);
process.stdout.write(JSON.stringify({model: "claude-sonnet-4-5", max_tokens: 64, messages: [{role: "user", content: t}]}));
' 1024 >"$OUT_DIR/body.json"
printf 'x-api-key: %s\n' "$KEY" >"$OUT_DIR/headers.txt"
WRK_BODY_FILE="$OUT_DIR/body.json" WRK_HEADERS_FILE="$OUT_DIR/headers.txt" \
  wrk -t1 -c"$CONC" -d3s -s "$SHARED_BENCH/post.lua" "http://127.0.0.1:$GW_PORT/v1/messages" >/dev/null
WRK_BODY_FILE="$OUT_DIR/body.json" WRK_HEADERS_FILE="$OUT_DIR/headers.txt" \
  wrk -t1 -c"$CONC" -d"${DURATION}s" -s "$SHARED_BENCH/post.lua" "http://127.0.0.1:$GW_PORT/v1/messages" \
  | tee "$OUT_DIR/wrk.txt" | grep -E 'Requests/sec|Non-2xx|RESULT' || true
jcmd "$GW_PID" JFR.dump name=1 filename="$OUT_DIR/gw.jfr" >/dev/null
jfr print --events jdk.ExecutionSample --stack-depth 64 "$OUT_DIR/gw.jfr" >"$OUT_DIR/samples.txt"
python3 - "$OUT_DIR/samples.txt" "$TOP" <<'PY'
import re, sys, collections
text = open(sys.argv[1]).read(); top = int(sys.argv[2])
events = text.split("jdk.ExecutionSample")
self_c, incl = collections.Counter(), collections.Counter()
n = 0
for e in events:
    frames = re.findall(r"^\s+([\w$.<>/]+)\(", e, re.M)
    frames = [f for f in frames if f not in ("startTime", "sampledThread", "state", "stackTrace")]
    if not frames: continue
    n += 1
    self_c[frames[0]] += 1
    for f in set(frames):
        if f.startswith(("dev.policygate", "org.eclipse.jetty.server", "jdk.internal.net.http", "com.cedarpolicy", "com.fasterxml")):
            incl[f] += 1
print(f"{n} CPU samples")
print("-- self (top of stack) --")
for f, c in self_c.most_common(top): print(f"{100*c/n:5.1f}%  {f}")
print("-- inclusive (policygate, jetty server, JDK HTTP client, cedar, jackson) --")
for f, c in incl.most_common(top): print(f"{100*c/n:5.1f}%  {f}")
PY
jcmd "$GW_PID" Thread.print >"$OUT_DIR/threads.txt" 2>/dev/null || true
rm -rf "$DATA"
echo "raw: $OUT_DIR (gw.jfr, samples.txt)"
