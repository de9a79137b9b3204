#!/usr/bin/env bash
# Runs the gateway locally on its embedded default: builds the runnable jar when it is missing
# or older than the sources, then `serve` on 127.0.0.1:8787 with ./cedar-policies and ./.policygate.
# Extra arguments go to `serve` (try --help).
set -euo pipefail
cd "$(dirname "$0")"
JAR=functions/target/policygate-all.jar
if [ ! -f "$JAR" ] || [ -n "$(find functions/src functions/pom.xml pom.xml -newer "$JAR" -print -quit)" ]; then
  mvn -B -q -pl functions -am -DskipTests package
fi
exec java -jar "$JAR" serve "$@"
