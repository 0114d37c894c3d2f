#!/usr/bin/env bash
# The baseline benchmark: Apache Kafka's own perf tools against a single-node Apache Kafka (KRaft, from the Maven
# Central jars) and against our playground with one broker, in the same run, on the same machine; prints a table
# with our/Kafka ratios. Usage:
#   e2e/bench-baseline.sh [--records 300000] [--tail-records 100000] [--latency-records 1000] [--record-size 1024]
#                         [--partitions 16] [--warmup-records 100000] [--no-build]
# --records is for ProducerPerformance and ConsumerPerformance (read again after a restart of the server, for ours with
# empty caches); --tail-records for a topic written and read at once, small enough to stay in our 256 MiB cache;
# --latency-records for EndToEndLatency, which sends one record at a time and waits for it, so it takes records x round
# trip (about 20 ms on the playground). Logs of every process stay in e2e/target/bench-baseline/; the brokers' data
# lives in a temporary directory removed on exit. Besides throughput and latency it reports the server's CPU-seconds
# per GB (from /proc; for ours the broker and PostgreSQL, with the S3Proxy standing in for S3 run as a process of its
# own and reported apart), the aggregate rate of 4 consumer groups reading the tail topic at once, produce and end-to-end
# latency of ours with the volume WAL (against Kafka's same rows) and, for ours,
# object-store requests per GB and their cost at S3 list prices and the PostgreSQL transactions per second of the
# idle cluster (with psql on the PATH). With
# DISKLESS_BENCH_PROFILE=DIR each produce and consume phase of both servers is recorded with JDK Flight Recorder into
# DIR (see profile_start in e2e/baseline/lib.sh).
# Every server, once started (or restarted), is warmed up before anything is measured, as the OpenMessaging Benchmark
# warms up before it measures: --warmup-records records are produced to a topic of their own and read back, unmeasured,
# so that both JVMs have compiled their hot paths (in a cold JVM the JIT compiler took about half of our first
# produce phase's CPU); ours also reads them back once from object storage, after a restart, as its catch-up reads
# take that path. --warmup-records 0 measures cold JVMs. Our broker starts from a JVM AOT cache trained as the
# broker image's build trains it (DISKLESS_BENCH_AOT=0: without); Kafka starts as kafka-server-start.sh starts it.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/select-jdk.sh

records=300000
tail_records=100000
latency_records=1000
record_size=1024
partitions=16
warmup_records=100000
build=true
while [ $# -gt 0 ]; do
  case "$1" in
    --records) records=$2; shift 2 ;;
    --tail-records) tail_records=$2; shift 2 ;;
    --latency-records) latency_records=$2; shift 2 ;;
    --record-size) record_size=$2; shift 2 ;;
    --partitions) partitions=$2; shift 2 ;;
    --warmup-records) warmup_records=$2; shift 2 ;;
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
  local log="$logs/$system-$name.log" before
  before=$(children_cpu_ticks)
  # The tools give up by themselves (delivery and poll timeouts); the timeout is a last resort against a stall.
  timeout 900 java -cp "$tools_cp" "$log4j" "org.apache.kafka.tools.$class" "$@" >"$log" 2>&1 \
    || die_with_log "$system: $class failed (exit $?)" "$log"
  # The tool's CPU, JVM start and compilation included: on a machine of two cores the clients, the server and our
  # object store share the cores, so a phase's rate is bounded by what all of them spend per GB.
  tool_ticks=$(($(children_cpu_ticks) - before))
}

# consume_phase SYSTEM NAME TOPIC COUNT PREFIX RESULT: ConsumerPerformance of the first COUNT records of TOPIC with a
# new group; sets PREFIX_mbs, _rps, _join, _cpu, _client_cpu and, for ours, _store_cpu, _gets (GETs per GB), _get_kib
# (average GET size) and _put_mb (MB PUT meanwhile) in the array RESULT.
consume_phase() {
  local system=$1 name=$2 topic=$3 count=$4 prefix=$5
  local -n out=$6
  local bytes=$((count * record_size)) ticks store_ticks requests after fields
  ticks=$(server_cpu_ticks)
  store_ticks=$(store_cpu_ticks)
  requests=$(object_requests)
  say "$system: ConsumerPerformance, $count records of $topic ($name)"
  profile_start "$system-$name"
  run_tool "$system" "$name" ConsumerPerformance --bootstrap-server "$bootstrap" --topic "$topic" \
    --num-records "$count" --group "bench-$system-$name"
  out[${prefix}_client_cpu]=$(ticks_per_gb "$tool_ticks" "$bytes")
  profile_stop
  # One data line under the header "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg,
  # nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec".
  IFS=',' read -ra fields <<<"$(grep -E '^[0-9]{4}-' "$logs/$system-$name.log" | tail -1 | tr -d ' ')"
  [ "${#fields[@]}" -eq 10 ] || die_with_log "$system: no summary from ConsumerPerformance" "$logs/$system-$name.log"
  # It gives up after 10 s without new records and still prints a summary: a short read is a failure.
  [ "${fields[4]}" -ge "$count" ] \
    || die_with_log "$system: ConsumerPerformance read ${fields[4]} of $count records" "$logs/$system-$name.log"
  out[${prefix}_mbs]=${fields[8]}
  out[${prefix}_rps]=${fields[9]}
  out[${prefix}_join]=${fields[6]}
  out[${prefix}_cpu]=$(cpu_per_gb "$ticks" "$bytes")
  if [ -n "$requests" ]; then
    out[${prefix}_store_cpu]=$(cpu_per_gb "$store_ticks" "$bytes" store_cpu_ticks)
    local -a a b
    read -r -a a <<<"$requests"
    after=$(object_requests)
    read -r -a b <<<"$after"
    out[${prefix}_gets]=$(per_gb "${a[1]}" "${b[1]}" "$bytes")
    out[${prefix}_get_kib]=$(awk -v n=$((b[1] - a[1])) -v s=$((b[2] - a[2])) 'BEGIN { printf "%.0f", (n > 0 ? s / n / 1024 : 0) }')
    # Bytes PUT while it read: merges of earlier writes, which take the cores the read would use.
    out[${prefix}_put_mb]=$(awk -v w=$((b[3] - a[3])) 'BEGIN { printf "%.0f", w / 1e6 }')
  fi
}

# fanout_phase SYSTEM TOPIC COUNT GROUPS RESULT: GROUPS ConsumerPerformance processes, each with its own group, read the
# first COUNT records of TOPIC at the same time; sets fanout_mbs (the sum of their fetch-phase rates) in RESULT.
fanout_phase() {
  local system=$1 topic=$2 count=$3 groups=$4
  local -n out=$5
  local g pids=() total=0 fields
  say "$system: $groups consumer groups reading $count records of $topic at once"
  for ((g = 0; g < groups; g++)); do
    timeout 900 java -cp "$tools_cp" "$log4j" org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "$bootstrap" \
      --topic "$topic" --num-records "$count" --group "bench-$system-fanout-$g" >"$logs/$system-fanout-$g.log" 2>&1 &
    pids+=($!)
  done
  for ((g = 0; g < groups; g++)); do
    wait "${pids[$g]}" || die_with_log "$system: fan-out consumer $g failed" "$logs/$system-fanout-$g.log"
    IFS=',' read -ra fields <<<"$(grep -E '^[0-9]{4}-' "$logs/$system-fanout-$g.log" | tail -1 | tr -d ' ')"
    [ "${#fields[@]}" -eq 10 ] && [ "${fields[4]}" -ge "$count" ] \
      || die_with_log "$system: fan-out consumer $g read too little" "$logs/$system-fanout-$g.log"
    total=$(awk -v a="$total" -v b="${fields[8]}" 'BEGIN { print a + b }')
  done
  out[fanout_mbs]=$total
}

# idle_metadata_rate RESULT: transactions per second the playground's PostgreSQL served while the cluster sat idle for
# 30 s (minus the two of the measurement), into RESULT[idle_pg_tps].
idle_metadata_rate() {
  local -n out=$1
  local port before after
  port=$(sed -n 4p "$work/diskless/postgres/postmaster.pid")
  say "diskless: measuring PostgreSQL transactions of the idle cluster for 30 s, after 10 s to settle"
  sleep 10
  before=$(psql -h localhost -p "$port" -U postgres -d postgres -Atc \
    "SELECT sum(xact_commit + xact_rollback) FROM pg_stat_database") || return 0
  sleep 30
  after=$(psql -h localhost -p "$port" -U postgres -d postgres -Atc \
    "SELECT sum(xact_commit + xact_rollback) FROM pg_stat_database") || return 0
  out[idle_pg_tps]=$(awk -v a="$before" -v b="$after" 'BEGIN { printf "%.2f", (b - a - 1) / 30 }')
}


# Warms a server up, unmeasured: $warmup_records records produced to a topic of their own ($2) and read back.
warm_up() {
  local system=$1 topic=$2
  [ "$warmup_records" -gt 0 ] || return 0
  say "$system: warming up with $warmup_records records (not measured)"
  run_tool "$system" "$topic-topic" TopicCommand --bootstrap-server "$bootstrap" --create --topic "$topic" \
    --partitions "$partitions" --replication-factor 1
  run_tool "$system" "$topic-produce" ProducerPerformance --bootstrap-server "$bootstrap" --topic "$topic" \
    --num-records "$warmup_records" --record-size "$record_size" --throughput -1 --command-property acks=all
  run_tool "$system" "$topic-consume" ConsumerPerformance --bootstrap-server "$bootstrap" --topic "$topic" \
    --num-records "$warmup_records" --group "bench-$system-$topic"
}
# Produce, consume and end-to-end latency against one system; results go to the associative array named $2.
run_suite() {
  local system=$1 bootstrap=$3
  local -n result=$2
  run_tool "$system" topics TopicCommand --bootstrap-server "$bootstrap" --create --topic perf \
    --partitions "$partitions" --replication-factor 1
  run_tool "$system" topics-latency TopicCommand --bootstrap-server "$bootstrap" --create --topic latency \
    --partitions 1 --replication-factor 1

  local bytes=$((records * record_size)) ticks store_ticks requests jit
  ticks=$(server_cpu_ticks)
  store_ticks=$(store_cpu_ticks)
  requests=$(object_requests)
  jit=$(jit_cpu_ticks)
  say "$system: ProducerPerformance, $records records of $record_size B, acks=all"
  profile_start "$system-produce"
  run_tool "$system" produce ProducerPerformance --bootstrap-server "$bootstrap" --topic perf \
    --num-records "$records" --record-size "$record_size" --throughput -1 --command-property acks=all
  result[produce_client_cpu]=$(ticks_per_gb "$tool_ticks" "$bytes")
  profile_stop
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
  result[produce_cpu]=$(cpu_per_gb "$ticks" "$bytes")
  result[produce_jit]=$(cpu_per_gb "$jit" "$bytes" jit_cpu_ticks)
  if [ -n "$requests" ]; then
    result[produce_store_cpu]=$(cpu_per_gb "$store_ticks" "$bytes" store_cpu_ticks)
    local after
    after=$(object_requests)
    result[produce_puts]=$(per_gb "${requests%% *}" "${after%% *}" "$bytes")
    result[produce_put_ratio]=$(put_ratio "$requests" "$after" "$bytes")
  fi

  # The same with the larger batches object-storage WALs reward (fewer, bigger requests per round trip).
  ticks=$(server_cpu_ticks)
  store_ticks=$(store_cpu_ticks)
  requests=$(object_requests)
  say "$system: ProducerPerformance with batch.size=1 MiB, linger.ms=50"
  profile_start "$system-produce-batched"
  run_tool "$system" produce-batched ProducerPerformance --bootstrap-server "$bootstrap" --topic perf \
    --num-records "$records" --record-size "$record_size" --throughput -1 \
    --command-property acks=all batch.size=1048576 linger.ms=50 max.request.size=16777216
  result[batched_client_cpu]=$(ticks_per_gb "$tool_ticks" "$bytes")
  profile_stop
  result[batched_cpu]=$(cpu_per_gb "$ticks" "$bytes")
  if [ -n "$requests" ]; then
    result[batched_store_cpu]=$(cpu_per_gb "$store_ticks" "$bytes" store_cpu_ticks)
    result[batched_put_ratio]=$(put_ratio "$requests" "$(object_requests)" "$bytes")
  fi
  result[batched_all_cpu]=$(awk -v a="${result[batched_cpu]}" -v b="${result[batched_store_cpu]:-0}" \
    -v c="${result[batched_client_cpu]}" 'BEGIN { printf "%.1f", a + b + c }')
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

  consume_phase "$system" consume perf "$records" consume result

  # The tail: a topic small enough to stay in our cache (and Kafka's page cache), read right after it was written.
  run_tool "$system" topics-tail TopicCommand --bootstrap-server "$bootstrap" --create --topic tail \
    --partitions "$partitions" --replication-factor 1
  say "$system: ProducerPerformance, $tail_records records for the tail read"
  run_tool "$system" produce-tail ProducerPerformance --bootstrap-server "$bootstrap" --topic tail \
    --num-records "$tail_records" --record-size "$record_size" --throughput -1 \
    --command-property acks=all batch.size=1048576 linger.ms=50 max.request.size=16777216
  consume_phase "$system" consume-tail tail "$tail_records" tail result
  fanout_phase "$system" tail "$tail_records" 4 result
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
train_aot_cache

# --- Apache Kafka: one combined broker and controller.
start_kafka
warm_up kafka warmup
declare -A kafka
run_suite kafka kafka "$bootstrap"
say "restarting Apache Kafka"
stop_server 30
launch_kafka kafka-server-2
warm_up kafka warmup-2
consume_phase kafka consume-restarted perf "$records" cold kafka
say "stopping Apache Kafka"
stop_server 30

# --- Ours: the playground with one broker (embedded PostgreSQL, S3Proxy on local disk, the broker).
if [ "$warmup_records" -gt 0 ]; then
  # Kafka's warm-up read goes through the same page-cache path as its catch-up read; ours comes from the tail cache,
  # and would leave the path from object storage (the broker's ranged GETs and block cache, the store's GETs) cold
  # until the first measured catch-up read. So ours also reads its warm-up topic back from object storage: written,
  # the playground restarted (empty caches), read back, then warmed up again as Kafka was.
  start_playground diskless-server-0
  warm_up diskless warmup
  say "diskless: restarting and reading the warm-up topic back from object storage (not measured)"
  stop_server 30
  start_playground
  run_tool diskless warmup-stored-consume ConsumerPerformance --bootstrap-server "$bootstrap" --topic warmup \
    --num-records "$warmup_records" --group bench-diskless-warmup-stored
  warm_up diskless warmup-b
else
  start_playground
fi
declare -A diskless
run_suite diskless diskless "$bootstrap"
if command -v psql >/dev/null 2>&1; then
  idle_metadata_rate diskless
fi
# Catch-up: a restarted playground has empty caches, so every record comes from object storage.
say "restarting the playground"
stop_server 30
start_playground diskless-server-2
warm_up diskless warmup-2
consume_phase diskless consume-restarted perf "$records" cold diskless
say "stopping the playground"
# Its data is thrown away; a clean stop (hand-overs, then PostgreSQL) takes a few seconds.
stop_server 30
stop_store

# --- Ours with the volume WAL: appends are acknowledged from a local directory standing in for the shared volume.
start_playground diskless-volume-server diskless-volume --wal volume
warm_up diskless volume-warmup
run_tool diskless volume-topics TopicCommand --bootstrap-server "$bootstrap" --create --topic perf \
  --partitions "$partitions" --replication-factor 1
run_tool diskless volume-topics-latency TopicCommand --bootstrap-server "$bootstrap" --create --topic latency \
  --partitions 1 --replication-factor 1
say "diskless, volume WAL: ProducerPerformance, $records records of $record_size B, acks=all"
run_tool diskless volume-produce ProducerPerformance --bootstrap-server "$bootstrap" --topic perf \
  --num-records "$records" --record-size "$record_size" --throughput -1 --command-property acks=all
line=$(grep ' ms 50th' "$logs/diskless-volume-produce.log" | tail -1)
[[ $line =~ ([0-9.]+)\ records/sec\ \(([0-9.]+)\ MB/sec\) ]] \
  || die_with_log "diskless, volume WAL: no summary from ProducerPerformance" "$logs/diskless-volume-produce.log"
diskless[volume_produce_mbs]=${BASH_REMATCH[2]}
say "diskless, volume WAL: EndToEndLatency, $latency_records records, acks=all"
run_tool diskless volume-latency EndToEndLatency --bootstrap-server "$bootstrap" --topic latency \
  --num-records "$latency_records" --producer-acks all --record-size "$record_size"
line=$(grep '^Percentiles:' "$logs/diskless-volume-latency.log" | tail -1)
[[ $line =~ 50th\ =\ ([0-9]+),\ 99th\ =\ ([0-9]+) ]] \
  || die_with_log "diskless, volume WAL: no percentiles from EndToEndLatency" "$logs/diskless-volume-latency.log"
diskless[volume_latency_p50]=${BASH_REMATCH[1]}
diskless[volume_latency_p99]=${BASH_REMATCH[2]}
say "stopping the volume-WAL playground"
stop_server 30
stop_store
# The volume rows compare with Kafka's own produce and latency figures.
kafka[volume_produce_mbs]=${kafka[produce_mbs]}
kafka[volume_latency_p50]=${kafka[latency_p50]}
kafka[volume_latency_p99]=${kafka[latency_p99]}

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
  "consume, tail (just written)|MB/s (fetch phase)|tail_mbs|%.2f"
  "consume, tail, 4 groups at once|MB/s (sum of the 4)|fanout_mbs|%.2f"
  "consume, after a restart (caches cold)|MB/s (fetch phase)|cold_mbs|%.2f"
  "end-to-end|p50 latency ms|latency_p50|%.0f"
  "end-to-end|p99 latency ms|latency_p99|%.0f"
  "produce, volume WAL (client defaults)|MB/s|volume_produce_mbs|%.2f"
  "end-to-end, volume WAL|p50 latency ms|volume_latency_p50|%.0f"
  "end-to-end, volume WAL|p99 latency ms|volume_latency_p99|%.0f"
  "produce (client defaults)|CPU-seconds per GB, server|produce_cpu|%.1f"
  "produce (client defaults)|CPU-seconds per GB, object store|produce_store_cpu|%.1f"
  "produce (client defaults)|CPU-seconds per GB, server's JIT compiler threads|produce_jit|%.1f"
  "consume|CPU-seconds per GB, server|consume_cpu|%.1f"
  "consume|CPU-seconds per GB, object store|consume_store_cpu|%.1f"
  "produce (client defaults)|object-store PUTs per GB|produce_puts|%.0f"
  "produce (client defaults)|object-store bytes written per byte produced|produce_put_ratio|%.2f"
  "produce (client defaults)|CPU-seconds per GB, producer (client JVM)|produce_client_cpu|%.1f"
  "produce, 1 MiB batches|CPU-seconds per GB, server|batched_cpu|%.1f"
  "produce, 1 MiB batches|CPU-seconds per GB, object store|batched_store_cpu|%.1f"
  "produce, 1 MiB batches|CPU-seconds per GB, producer (client JVM)|batched_client_cpu|%.1f"
  "produce, 1 MiB batches|CPU-seconds per GB, all three|batched_all_cpu|%.1f"
  "produce, 1 MiB batches|object-store bytes written per byte produced|batched_put_ratio|%.2f"
  "consume|CPU-seconds per GB, consumer (client JVM)|consume_client_cpu|%.1f"
  "consume|object-store GETs per GB|consume_gets|%.0f"
  "consume, tail (just written)|CPU-seconds per GB, server|tail_cpu|%.1f"
  "consume, tail (just written)|CPU-seconds per GB, object store|tail_store_cpu|%.1f"
  "consume, tail (just written)|CPU-seconds per GB, consumer (client JVM)|tail_client_cpu|%.1f"
  "consume, tail (just written)|MB written to the object store during the read|tail_put_mb|%.0f"
  "consume, after a restart (caches cold)|CPU-seconds per GB, server|cold_cpu|%.1f"
  "consume, after a restart (caches cold)|CPU-seconds per GB, object store|cold_store_cpu|%.1f"
  "consume, after a restart (caches cold)|object-store GETs per GB|cold_gets|%.0f"
  "consume, after a restart (caches cold)|average GET KiB|cold_get_kib|%.0f"
  "idle, 1 broker|PostgreSQL transactions/s|idle_pg_tps|%.2f"
)
echo
echo "Baseline: $records records of $record_size B on $partitions partitions (acks=all), $latency_records for" \
  "end-to-end latency; Apache Kafka 4.4.0 vs the playground with 1 broker; $(nproc) cores, $(java -version 2>&1 | head -1)"
echo
echo "| test | metric | Kafka | Diskless | ratio (ours/Kafka) |"
echo "|---|---|---:|---:|---:|"
for row in "${rows[@]}"; do
  IFS='|' read -r test metric key format <<<"$row"
  awk -v t="$test" -v m="$metric" -v k="${kafka[$key]:-}" -v d="${diskless[$key]:-}" -v f="$format" 'BEGIN {
    ratio = k > 0 ? sprintf("%.2f", d / k) : "n/a"
    ks = k == "" ? "n/a" : sprintf(f, k)
    printf "| %s | %s | %s | " f " | %s |\n", t, m, ks, d, ratio
  }'
done
# S3 Standard list prices (us-east-1): $0.005 per 1,000 PUTs, $0.0004 per 1,000 GETs.
awk -v p="${diskless[produce_puts]:-0}" -v g="${diskless[consume_gets]:-0}" 'BEGIN {
  printf "\nObject-store requests at S3 list prices: $%.4f per GB produced (PUTs), $%.5f per GB consumed (GETs).\n", \
    p * 0.005 / 1000, g * 0.0004 / 1000
}'

echo
echo "CPU: over the phase, per GB the tool moved; server: Kafka's process, or our playground JVM (the broker) plus its" \
  "PostgreSQL; object store: our S3Proxy process, which stands in for S3 (whose work runs on AWS's machines; Kafka" \
  "keeps its own log files and its server row includes that work); client JVM: the tool's process from start to exit," \
  "its JVM start and compilation included. On a machine with few cores all of them share the cores: a produce phase" \
  "that keeps them busy runs at about cores / (all three per GB) GB/s. Bytes written: WAL objects and the merges that" \
  "ran during the phase, per byte the producer sent."
echo "Throughput: higher is better; latency: lower is better. The produce latency is measured at full speed, so it is" \
  "mostly time queued in the producer. Consume rates exclude the group join, shown on its own row. Logs: $logs"
