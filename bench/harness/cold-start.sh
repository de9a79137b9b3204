#!/usr/bin/env bash
# Cold start, JVM launch -> first Cedar decision (ColdStart, repository policies) and JVM launch ->
# first response through the local server (serve, then POST /v1/messages polled every 5 ms against the
# offline echo model), RUNS times each, medians, in three set-ups:
#   default   cedar-java extracts its native library to a temp folder on every start
#   fixedlib  CEDAR_JAVA_FFI_LIB points at a copy extracted once (cedar-java reads this variable)
#   cds       fixedlib + an AppCDS archive made once with -XX:ArchiveClassesAtExit
# Needs bench/target/benchmarks.jar and functions/target/policygate-all.jar (override BENCH_JAR / JAR).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BENCH_JAR=${BENCH_JAR:-$ROOT/bench/target/benchmarks.jar}
JAR=${JAR:-$ROOT/functions/target/policygate-all.jar}
RUNS=${RUNS:-5}
WORK=${WORK:-/tmp/policygate-coldstart}
mkdir -p "$WORK"
cd "$ROOT"
now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

LIB=$WORK/libcedar_java_ffi.so
if [ ! -f "$LIB" ]; then
  unzip -p "$JAR" jne/linux/$(uname -m | sed 's/arm64/aarch64/')/libcedar_java_ffi.so > "$LIB"
fi
# AppCDS archives, one per classpath, made once by a training run.
[ -f "$WORK/decide.jsa" ] || CEDAR_JAVA_FFI_LIB=$LIB java -XX:ArchiveClassesAtExit="$WORK/decide.jsa" \
  -cp "$BENCH_JAR" dev.policygate.bench.ColdStart >/dev/null 2>&1

decide_once() { # $1 = extra JVM options, env passed by caller
  local start end
  start=$(now_ms)
  # shellcheck disable=SC2086
  end=$(java -XX:TieredStopAtLevel=1 $1 -cp "$BENCH_JAR" dev.policygate.bench.ColdStart | sed -n 's/.* at \([0-9]*\);.*/\1/p')
  echo $((end - start))
}

serve_once() { # $1 = extra JVM options
  local port data start pid key code=000
  port=$(free_port); data=$(mktemp -d "$WORK/data.XXXXXX")
  start=$(now_ms)
  # shellcheck disable=SC2086
  java -XX:TieredStopAtLevel=1 $1 -jar "$JAR" serve --bind 127.0.0.1 --port "$port" --data-dir "$data" >"$data/out" 2>&1 &
  pid=$!
  for _ in $(seq 1 2000); do
    key=$(grep -o 'pgk_[A-Za-z0-9_-]*' "$data/out" 2>/dev/null | head -1 || true)
    if [ -n "$key" ]; then
      code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/messages" -H "x-api-key: $key" \
        -H 'anthropic-version: 2023-06-01' -H 'content-type: application/json' \
        -d '{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}' || true)
      [ "$code" = 200 ] && break
    fi
    sleep 0.005
  done
  local end; end=$(now_ms)
  kill "$pid"; wait "$pid" 2>/dev/null || true; rm -rf "$data"
  [ "$code" = 200 ] || { echo "no 200 from serve" >&2; return 1; }
  echo $((end - start))
}

[ -f "$WORK/serve.jsa" ] || {
  port=$(free_port); data=$(mktemp -d "$WORK/data.XXXXXX")
  CEDAR_JAVA_FFI_LIB=$LIB java -XX:ArchiveClassesAtExit="$WORK/serve.jsa" -jar "$JAR" serve --bind 127.0.0.1 --port "$port" --data-dir "$data" >"$data/out" 2>&1 &
  pid=$!; sleep 4
  key=$(grep -o 'pgk_[A-Za-z0-9_-]*' "$data/out" | head -1)
  curl -s -o /dev/null "http://127.0.0.1:$port/v1/messages" -H "x-api-key: $key" -H 'anthropic-version: 2023-06-01' \
    -H 'content-type: application/json' -d '{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}'
  kill "$pid"; wait "$pid" 2>/dev/null || true; rm -rf "$data"
}

for setup in default fixedlib cds; do
  case $setup in
    default)  env_lib=""; opts="-Xshare:auto" ;;
    fixedlib) env_lib=$LIB; opts="-Xshare:auto" ;;
    cds)      env_lib=$LIB; opts="-XX:SharedArchiveFile=$WORK/decide.jsa" ;;
  esac
  d=(); s=()
  for _ in $(seq 1 "$RUNS"); do d+=("$(CEDAR_JAVA_FFI_LIB=$env_lib decide_once "$opts")"); done
  [ "$setup" = cds ] && opts="-XX:SharedArchiveFile=$WORK/serve.jsa"
  for _ in $(seq 1 "$RUNS"); do s+=("$(CEDAR_JAVA_FFI_LIB=$env_lib serve_once "$opts")"); done
  printf '%-9s first decision median %4s ms (runs: %s) | first response via serve median %4s ms (runs: %s)\n' "$setup" \
    "$(printf '%s\n' "${d[@]}" | median)" "${d[*]}" "$(printf '%s\n' "${s[@]}" | median)" "${s[*]}"
done
