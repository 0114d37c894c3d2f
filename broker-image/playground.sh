#!/usr/bin/env bash
# Builds the broker and starts a local cluster (embedded PostgreSQL + S3Proxy + brokers); arguments go to the
# playground: [--brokers 3] [--dir ./playground-data] [--wal object|volume] [--secure]. Prints bootstrap.servers=...
# (with --secure also client.properties=PATH: SASL_SSL as admin) and runs until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/select-jdk.sh
./mvnw -q -B -ntp package -DskipTests
exec java -jar broker-image/target/diskless-broker.jar playground "$@"
