#!/usr/bin/env bash
# Runs the gateway locally on its embedded default: builds the runnable jar when it is missing
# or older than the sources, then `serve` on 127.0.0.1:8787 with ./cedar-policies and ./.policygate.
# Extra arguments go to `serve` (try --help).
#
# Start-up speed: the Cedar native library is extracted from the jar once to
# functions/target/native/ and loaded from there (cedar-java reads CEDAR_JAVA_FFI_LIB), instead of
# being extracted to a temp folder on every start; and an AppCDS archive of the loaded classes is
# written when the first run after a build exits cleanly, and used by the runs after it.
# POLICYGATE_NO_CDS=1 turns the archive off. JAVA_OPTS adds JVM options.
set -euo pipefail
cd "$(dirname "$0")"
JAR=functions/target/policygate-all.jar
if [ ! -f "$JAR" ] || [ -n "$(find functions/src functions/pom.xml pom.xml -newer "$JAR" -print -quit)" ]; then
  mvn -B -q -pl functions -am -DskipTests package
fi
NATIVE=functions/target/native
ARCH=$(uname -m | sed 's/arm64/aarch64/')
LIB=$NATIVE/libcedar_java_ffi.so
JAVA_OPTS=${JAVA_OPTS:-}
# The parallel collector, unless JAVA_OPTS names one: with its short young pauses the gateway's added
# p99 at c=1 was +0.4-0.6 ms, against +3.5 ms with G1, the JVM's default here (bench/README.md).
case "$JAVA_OPTS" in
  *-XX:+Use*GC*) ;;
  *) JAVA_OPTS="-XX:+UseParallelGC $JAVA_OPTS" ;;
esac
if [ "$(uname -s)" = Linux ] && command -v unzip >/dev/null; then
  mkdir -p "$NATIVE"
  if [ ! -f "$LIB" ] || [ "$JAR" -nt "$LIB" ]; then
    unzip -p "$JAR" "jne/linux/$ARCH/libcedar_java_ffi.so" > "$LIB.tmp" && mv "$LIB.tmp" "$LIB"
  fi
  export CEDAR_JAVA_FFI_LIB=${CEDAR_JAVA_FFI_LIB:-$PWD/$LIB}
fi
if [ "${POLICYGATE_NO_CDS:-0}" != 1 ]; then
  CDS=functions/target/policygate-all.jsa
  if [ -f "$CDS" ] && [ "$CDS" -nt "$JAR" ]; then
    JAVA_OPTS="-XX:SharedArchiveFile=$CDS -Xshare:auto $JAVA_OPTS"
  else
    rm -f "$CDS"
    JAVA_OPTS="-XX:ArchiveClassesAtExit=$CDS $JAVA_OPTS"
  fi
fi
# shellcheck disable=SC2086
exec java $JAVA_OPTS -jar "$JAR" serve "$@"
