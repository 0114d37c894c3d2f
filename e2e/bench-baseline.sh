#!/usr/bin/env bash
# The baseline benchmark: Apache Kafka's own perf tools against a single-node Apache Kafka (KRaft, from the Maven
# Central jars) and against our playground with one broker, in the same run, on the same machine; prints a table
# with our/Kafka ratios. Usage:
#   e2e/bench-baseline.sh [--records 300000] [--latency-records 1000] [--record-size 1024] [--partitions 16]
#                         [--no-build]
# --records is for ProducerPerformance and ConsumerPerformance; --latency-records for EndToEndLatency, which sends
# one record at a time and waits for it, so it takes records x round trip (about 70 ms on the playground). Logs of every process stay in
# e2e/target/bench-baseline/; the brokers' data lives in a temporary directory removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/select-jdk.sh

records=300000
latency_records=1000
record_size=1024
partitions=16
build=true
while [ $# -gt 0 ]; do
  case "$1" in
    --records) records=$2; shift 2 ;;
    --latency-records) latency_records=$2; shift 2 ;;
    --record-size) record_size=$2; shift 2 ;;
    --partitions) partitions=$2; shift 2 ;;
    --no-build) build=false; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

log4j="-Dlog4j2.configurationFile=$PWD/e2e/baseline/log4j2.xml"
source e2e/baseline/lib.sh
bench_dirs bench-baseline

# Runs one Kafka tool: run_tool SYSTEM NAME CLASS ARGS...; its output goes to $logs/SYSTEM-NAME.log.
run_tool() {
  local system=$1 name=$2 class=$3
  shift 3
  local log="$logs/$system-$name.log"
  # The tools give up by themselves (delivery and poll timeouts); the timeout is a last resort against a stall.
  timeout 900 java -cp "$tools_cp" "$log4j" "org.apache.kafka.tools.$class" "$@" >"$log" 2>&1 \
    || die_with_log "$system: $class failed (exit $?)" "$log"
}

# Produce, consume and end-to-end latency against one system; results go to the associative array named $2.
run_suite() {
  local system=$1 bootstrap=$3
  local -n result=$2
  run_tool "$system" topics TopicCommand --bootstrap-server "$bootstrap" --create --topic perf \
    --partitions "$partitions" --replication-factor 1
  run_tool "$system" topics-latency TopicCommand --bootstrap-server "$bootstrap" --create --topic latency \
    --partitions 1 --replication-factor 1

  say "$system: ProducerPerformance, $records records of $record_size B, acks=all"
  run_tool "$system" produce ProducerPerformance --bootstrap-server "$bootstrap" --topic perf \
    --num-records "$records" --record-size "$record_size" --throughput -1 --command-property acks=all
  # The last line: "N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency,
  # P ms 50th, P ms 95th, P ms 99th, P ms 99.9th."
  local line
  line=$(grep ' ms 50th' "$logs/$system-produce.log" | tail -1)
  [[ $line =~ ([0-9.]+)\ records/sec\ \(([0-9.]+)\ MB/sec\).*\ ([0-9]+)\ ms\ 50th,\ [0-9]+\ ms\ 95th,\ ([0-9]+)\ ms\ 99th ]] \
    || die_with_log "$system: no summary from ProducerPerformance" "$logs/$system-produce.log"
  result[produce_mbs]=${BASH_REMATCH[2]}
  result[produce_rps]=${BASH_REMATCH[1]}
  result[produce_p50]=${BASH_REMATCH[3]}
  result[produce_p99]=${BASH_REMATCH[4]}

  # The same with the larger batches object-storage WALs reward (fewer, bigger requests per round trip).
  say "$system: ProducerPerformance with batch.size=1 MiB, linger.ms=50"
  run_tool "$system" produce-batched ProducerPerformance --bootstrap-server "$bootstrap" --topic perf \
    --num-records "$records" --record-size "$record_size" --throughput -1 \
    --command-property acks=all batch.size=1048576 linger.ms=50 max.request.size=16777216
  line=$(grep ' ms 50th' "$logs/$system-produce-batched.log" | tail -1)
  [[ $line =~ ([0-9.]+)\ records/sec\ \(([0-9.]+)\ MB/sec\).*\ ([0-9]+)\ ms\ 50th,\ [0-9]+\ ms\ 95th,\ ([0-9]+)\ ms\ 99th ]] \
    || die_with_log "$system: no summary from ProducerPerformance" "$logs/$system-produce-batched.log"
  result[batched_mbs]=${BASH_REMATCH[2]}
  result[batched_p99]=${BASH_REMATCH[4]}

  # Transactions (issue 13): a transaction every 100 ms, committed; the markers and coordinator round trips
  # are the cost over plain idempotent produce.
  say "$system: ProducerPerformance, transactional, 100 ms transactions"
  run_tool "$system" produce-txn ProducerPerformance --bootstrap-server "$bootstrap" --topic perf \
    --num-records "$records" --record-size "$record_size" --throughput -1 \
    --transactional-id "bench-$system" --transaction-duration-ms 100 --command-property acks=all
  line=$(grep ' ms 50th' "$logs/$system-produce-txn.log" | tail -1)
  [[ $line =~ ([0-9.]+)\ records/sec\ \(([0-9.]+)\ MB/sec\).*\ ([0-9]+)\ ms\ 50th,\ [0-9]+\ ms\ 95th,\ ([0-9]+)\ ms\ 99th ]] \
    || die_with_log "$system: no summary from transactional ProducerPerformance" "$logs/$system-produce-txn.log"
  result[txn_mbs]=${BASH_REMATCH[2]}
  result[txn_p99]=${BASH_REMATCH[4]}

  say "$system: ConsumerPerformance, $records records"
  run_tool "$system" consume ConsumerPerformance --bootstrap-server "$bootstrap" --topic perf \
    --num-records "$records" --group "bench-$system"
  # One data line under the header "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg,
  # nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec".
  local fields
  IFS=',' read -ra fields <<<"$(grep -E '^[0-9]{4}-' "$logs/$system-consume.log" | tail -1 | tr -d ' ')"
  [ "${#fields[@]}" -eq 10 ] || die_with_log "$system: no summary from ConsumerPerformance" "$logs/$system-consume.log"
  # It gives up after 10 s without new records and still prints a summary: a short read is a failure.
  [ "${fields[4]}" -ge "$records" ] \
    || die_with_log "$system: ConsumerPerformance read ${fields[4]} of $records records" "$logs/$system-consume.log"
  result[consume_mbs]=${fields[8]}
  result[consume_rps]=${fields[9]}
  result[consume_join]=${fields[6]}

  say "$system: EndToEndLatency, $latency_records records, acks=all"
  run_tool "$system" latency EndToEndLatency --bootstrap-server "$bootstrap" --topic latency \
    --num-records "$latency_records" --producer-acks all --record-size "$record_size"
  line=$(grep '^Percentiles:' "$logs/$system-latency.log" | tail -1)
  [[ $line =~ 50th\ =\ ([0-9]+),\ 99th\ =\ ([0-9]+) ]] \
    || die_with_log "$system: no percentiles from EndToEndLatency" "$logs/$system-latency.log"
  result[latency_p50]=${BASH_REMATCH[1]}
  result[latency_p99]=${BASH_REMATCH[2]}
}

prepare_jars "$build"

# --- Apache Kafka: one combined broker and controller.
start_kafka
declare -A kafka
run_suite kafka kafka "$bootstrap"
say "stopping Apache Kafka"
stop_server 30

# --- Ours: the playground with one broker (embedded PostgreSQL, S3Proxy on local disk, the broker).
start_playground
declare -A diskless
run_suite diskless diskless "$bootstrap"
say "stopping the playground"
# Its data is thrown away; a clean stop (hand-overs, then PostgreSQL) takes a few seconds.
stop_server 30

# --- The table: the tools' numbers as printed; the ratio is ours divided by Kafka's.
rows=(
  "produce|MB/s|produce_mbs|%.2f"
  "produce|records/s|produce_rps|%.0f"
  "produce|p50 latency ms|produce_p50|%.0f"
  "produce|p99 latency ms|produce_p99|%.0f"
  "produce, 1 MiB batches|MB/s|batched_mbs|%.2f"
  "produce, 1 MiB batches|p99 latency ms|batched_p99|%.0f"
  "produce, 100 ms transactions|MB/s|txn_mbs|%.2f"
  "produce, 100 ms transactions|p99 latency ms|txn_p99|%.0f"
  "consume|MB/s (fetch phase)|consume_mbs|%.2f"
  "consume|records/s (fetch phase)|consume_rps|%.0f"
  "consume|group join ms (classic)|consume_join|%.0f"
  "end-to-end|p50 latency ms|latency_p50|%.0f"
  "end-to-end|p99 latency ms|latency_p99|%.0f"
)
echo
echo "Baseline: $records records of $record_size B on $partitions partitions (acks=all), $latency_records for" \
  "end-to-end latency; Apache Kafka 4.4.0 vs the playground with 1 broker; $(nproc) cores, $(java -version 2>&1 | head -1)"
echo
echo "| test | metric | Kafka | Diskless | ratio (ours/Kafka) |"
echo "|---|---|---:|---:|---:|"
for row in "${rows[@]}"; do
  IFS='|' read -r test metric key format <<<"$row"
  awk -v t="$test" -v m="$metric" -v k="${kafka[$key]}" -v d="${diskless[$key]}" -v f="$format" 'BEGIN {
    ratio = k > 0 ? sprintf("%.2f", d / k) : "n/a"
    printf "| %s | %s | " f " | " f " | %s |\n", t, m, k, d, ratio
  }'
done
echo
echo "Throughput: higher is better; latency: lower is better. The produce latency is measured at full speed, so it is" \
  "mostly time queued in the producer. Consume rates exclude the group join, shown on its own row. Logs: $logs"
