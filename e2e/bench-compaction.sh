#!/usr/bin/env bash
# The key-compaction benchmark: one partition of a compacted topic with --keys keys written --versions times each
# (version by version, so 1 in --versions records survives), compacted once by Apache Kafka 4.4's log cleaner
# (KRaft, from the Maven Central jars) and once by our storage engine's KeyCompactor (the playground with one broker,
# S3Proxy on local disk), in the same run on the same machine; prints a table with our/Kafka ratios. Usage:
#   e2e/bench-compaction.sh [--keys 1000000] [--versions 10] [--value-size 90] [--segment-mb 64] [--no-build]
# Both are loaded with Kafka's console producer while min.compaction.lag.ms holds compaction back, then the lag is
# set to 0 and the first cleaning of the whole log is timed from each system's own log line. Logs stay in
# e2e/target/bench-compaction/.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/select-jdk.sh

keys=1000000
versions=10
value_size=90
segment_mb=64
build=true
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) keys=$2; shift 2 ;;
    --versions) versions=$2; shift 2 ;;
    --value-size) value_size=$2; shift 2 ;;
    --segment-mb) segment_mb=$2; shift 2 ;;
    --no-build) build=false; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

log4j="-Dlog4j2.configurationFile=$PWD/e2e/baseline/log4j2-cleaner.xml"
source e2e/baseline/lib.sh
bench_dirs bench-compaction

tool() {
  local log=$1 class=$2
  shift 2
  timeout 1800 java -cp "$tools_cp" "$log4j" "org.apache.kafka.tools.$class" "$@" >>"$logs/$log" 2>&1 \
    || die_with_log "$class failed (exit $?)" "$logs/$log"
}

# Loads the data into a new compacted topic "table" on $bootstrap and then lets compaction run.
load() {
  local system=$1
  tool "$system-tools.log" TopicCommand --bootstrap-server "$bootstrap" --create --topic table --partitions 1 \
    --replication-factor 1 --config cleanup.policy=compact --config segment.bytes=$((segment_mb * 1048576)) \
    --config min.cleanable.dirty.ratio=0.01 --config min.compaction.lag.ms=86400000
  say "$system: loading $((keys * versions)) records"
  local start=$SECONDS
  tool "$system-tools.log" ConsoleProducer --bootstrap-server "$bootstrap" --topic table \
    --property parse.key=true --property "key.separator=	" \
    --command-property acks=1 --command-property linger.ms=50 --command-property batch.size=1048576 \
    --command-property max.request.size=16777216 <"$work/data.tsv"
  say "$system: loaded in $((SECONDS - start)) s; letting compaction run"
  tool "$system-tools.log" ConfigCommand --bootstrap-server "$bootstrap" --alter --entity-type topics \
    --entity-name table --add-config min.compaction.lag.ms=0
}

# Waits until the line matching $2 appears in log $1 (up to 30 minutes).
await_line() {
  for ((i = 0; i < 3600; i++)); do
    grep -qE "$2" "$1" && return 0
    kill -0 "$server_pid" 2>/dev/null || die_with_log "the server exited" "$1"
    sleep 0.5
  done
  die_with_log "no compaction within 30 minutes" "$1"
}

say "writing $keys keys x $versions versions of $value_size-byte values"
python3 - "$keys" "$versions" "$value_size" >"$work/data.tsv" <<'PY'
import sys
keys, versions, size = map(int, sys.argv[1:4])
pad = "x" * size
out = sys.stdout
for v in range(versions):
    out.writelines(f"k{k:09d}\tv{v}-{pad}\n" for k in range(keys))
PY
data_mb=$(( $(stat -c %s "$work/data.tsv") / 1048576 ))

prepare_jars "$build"

# --- Apache Kafka: one log cleaner thread with its default 128 MiB dedupe buffer, checking every second.
start_kafka log.cleaner.backoff.ms=1000
load kafka
await_line "$logs/kafka-server.log" "Log cleaner thread [0-9]+ cleaned log table-0"
sleep 1
stats=$(sed -n '/cleaned log table-0/,/size reduction/p' "$logs/kafka-server.log")
echo "$stats" >"$logs/kafka-cleaner-stats.log"
[[ $stats =~ ([0-9.,]+)\ MB\ of\ log\ processed\ in\ ([0-9.,]+)\ seconds ]] || die_with_log "no cleaner stats" "$logs/kafka-server.log"
k_processed=${BASH_REMATCH[1]//,/}
k_seconds=${BASH_REMATCH[2]//,/}
[[ $stats =~ Indexed\ ([0-9.,]+)\ MB ]] && k_indexed=${BASH_REMATCH[1]//,/}
[[ $stats =~ Start\ size:\ ([0-9.,]+)\ MB\ \(([0-9,]+)\ messages\) ]] && k_start=${BASH_REMATCH[1]//,/} && k_start_n=${BASH_REMATCH[2]//,/}
[[ $stats =~ End\ size:\ ([0-9.,]+)\ MB\ \(([0-9,]+)\ messages\) ]] && k_end=${BASH_REMATCH[1]//,/} && k_end_n=${BASH_REMATCH[2]//,/}
[[ $stats =~ Buffer\ utilization:\ ([0-9.]+)% ]] && k_buffer=${BASH_REMATCH[1]}
say "stopping Apache Kafka"
stop_server 30

# --- Ours: the playground; its maintenance pass (every 30 s) runs the compaction.
start_playground
load diskless
await_line "$logs/diskless-server.log" "topic=table .*key compaction cleaned"
line=$(grep -E "topic=table .*key compaction cleaned" "$logs/diskless-server.log" | head -1)
echo "$line" >"$logs/diskless-compaction.log"
[[ $line =~ :\ ([0-9]+)\ records\ in\ [0-9]+\ entries,\ ([0-9]+)\ bytes\ -\>\ ([0-9]+)\ records,\ ([0-9]+)\ bytes ]] \
  || die_with_log "no compaction line" "$logs/diskless-server.log"
d_start_n=${BASH_REMATCH[1]}
d_read=${BASH_REMATCH[2]}
d_end_n=${BASH_REMATCH[3]}
d_written=${BASH_REMATCH[4]}
[[ $line =~ ([0-9]+)\ keys\ mapped\ in\ ([0-9]+)\ bytes\ from\ ([0-9]+)\ bytes\ read\;\ ([0-9]+)\ ms ]] \
  || die_with_log "no key map figures" "$logs/diskless-server.log"
d_map_bytes=${BASH_REMATCH[2]}
d_mapped_read=${BASH_REMATCH[3]}
d_ms=${BASH_REMATCH[4]}
say "stopping the playground"
stop_server 30

mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
ratio() { awk -v d="$1" -v k="$2" 'BEGIN { if (k > 0) printf "%.2f", d / k; else printf "n/a" }'; }
d_seconds=$(awk -v ms="$d_ms" 'BEGIN { printf "%.1f", ms / 1000 }')
echo
echo "Key compaction: $keys keys x $versions versions, $value_size-byte values ($data_mb MB of input), one partition;" \
  "Apache Kafka 4.4.0's log cleaner vs the playground's KeyCompactor; $(nproc) cores, $(java -version 2>&1 | head -1)"
echo
echo "| metric | Kafka | Diskless | ratio (ours/Kafka) |"
echo "|---|---:|---:|---:|"
echo "| first cleaning, seconds | $k_seconds | $d_seconds | $(ratio "$d_seconds" "$k_seconds") |"
echo "| MB read to build the key map | ${k_indexed:-?} | $(mb "$d_mapped_read") | $(ratio "$(mb "$d_mapped_read")" "${k_indexed:-0}") |"
echo "| MB read to rewrite | $k_processed | $(mb "$d_read") | $(ratio "$(mb "$d_read")" "$k_processed") |"
echo "| MB written | ${k_end:-?} | $(mb "$d_written") | $(ratio "$(mb "$d_written")" "${k_end:-0}") |"
echo "| records before / after | ${k_start_n:-?} / ${k_end_n:-?} | $d_start_n / $d_end_n | |"
echo "| key map memory | 128 MiB buffer, ${k_buffer:-?} % used | $(mb "$d_map_bytes") MB | |"
echo
echo "Kafka reads and writes its local disk; ours reads and writes object storage (S3Proxy on this machine's disk)." \
  "Both leave the newest $segment_mb MiB (segment.bytes) uncleaned. Logs: $logs"
