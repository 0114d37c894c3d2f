#!/usr/bin/env bash
# The chaos harness: a cluster of real processes (PostgreSQL, S3Proxy behind a fault proxy, brokers
# each in its own network namespace when run as root), a workload of Kafka clients, a nemesis per
# fault class and a checker of the whole history (../shared/RELIABILITY.md, docs/reliability.md).
#   e2e/chaos.sh [--faults all|kill-one,s3-errors,...] [--seconds-per-fault 60] [--seed N]
#                [--repeat 1]   (rounds of every class; round r, from 0, uses seed N+r)
#                [--brokers 3] [--partitions 6] [--rate 200] [--out DIR] [--broker-jar JAR]
#                [--set name=value,...]   (broker settings over the harness's; name= drops one)
# Prints one table row per fault class and the command line that replays the run; exits 1 on any
# anomaly, keeping the history and broker logs in --out (target/chaos-SEED by default).
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/select-jdk.sh
./mvnw -B -q -ntp install -DskipTests -Dspotless.check.skip=true -pl storage-engine,broker-config,broker-image,kube-control-plane,e2e -am
cp=$(./mvnw -B -q -ntp -pl e2e dependency:build-classpath -Dmdep.outputFile=/dev/stdout -Dmdep.includeScope=runtime)
exec java -Xmx2g -Djdk.httpclient.allowRestrictedHeaders=host \
  -Dlogback.configurationFile=e2e/src/main/resources/logback-chaos.xml -cp "e2e/target/classes:$cp" \
  dev.diskless.e2e.chaos.Chaos "$@"
