#!/usr/bin/env bash
# Builds the project and runs the storage engine benchmark; arguments go to the benchmark
# (--total-mb 256 --partitions 64 --producers 64 --in-flight 5 --records-per-batch 16 --readers 4).
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/select-jdk.sh
./mvnw -B -q -ntp install -DskipTests -Dspotless.check.skip=true
cp=$(./mvnw -B -q -ntp -pl e2e dependency:build-classpath -Dmdep.outputFile=/dev/stdout -Dmdep.includeScope=runtime)
exec java -Xmx4g -Dlogback.configurationFile=e2e/src/main/resources/logback.xml -cp "e2e/target/classes:$cp" \
  dev.diskless.e2e.bench.StorageEngineBenchmark "$@"
