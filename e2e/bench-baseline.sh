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

logs=e2e/target/bench-baseline
rm -rf "$logs"
mkdir -p "$logs"
logs=$(cd "$logs" && pwd)
work=$(mktemp -d -t bench-baseline.XXXXXX)
log4j="-Dlog4j2.configurationFile=$PWD/e2e/baseline/log4j2.xml"
server_pid=""

say() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# Stops the running server: SIGTERM, then SIGKILL after $2 seconds.
stop_server() {
  local grace=$1
  [ -n "$server_pid" ] || return 0
  kill "$server_pid" 2>/dev/null || true
  for ((i = 0; i < grace * 5; i++)); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$server_pid" 2>/dev/null; then
    say "pid $server_pid did not stop within ${grace}s; killing it"
    kill -9 "$server_pid" 2>/dev/null || true
  fi
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  # A killed playground may leave its embedded PostgreSQL running; its postmaster.pid names it (checked against
  # the data directory in its command line, in case the file is stale and the pid reused).
  local pg_pid_file="$work/diskless/postgres/postmaster.pid" pg_pid
  if [ -f "$pg_pid_file" ]; then
    pg_pid=$(head -1 "$pg_pid_file")
    if tr '\0' ' ' 2>/dev/null <"/proc/$pg_pid/cmdline" | grep -qF "$work/diskless/postgres"; then
      kill "$pg_pid" 2>/dev/null || true
    fi
  fi
}

cleanup() {
  stop_server 5
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port nobody listens on; the brokers bind it moments later, so a collision is unlikely, not impossible.
free_port() {
  local port
  while true; do
    port=$((20000 + RANDOM % 10000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

# Fails with the end of a log.
die_with_log() {
  say "$1; last lines of $2:"
  tail -20 "$2" >&2
  exit 1
}

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

# Maven reports build errors on stdout; its stderr has only JVM warnings (sun.misc.Unsafe on JDK 24+).
if $build; then
  say "building the broker"
  ./mvnw -q -B -ntp package -pl broker-image -am -DskipTests -Dspotless.check.skip=true 2>>"$logs/maven.log"
fi
say "resolving Apache Kafka's jars (e2e/baseline/pom.xml)"
for profile in broker tools; do
  ./mvnw -q -B -ntp -f e2e/baseline/pom.xml -P "$profile" dependency:build-classpath \
    -Dmdep.outputFile="$work/$profile.cp" 2>>"$logs/maven.log"
done
kafka_cp=$(cat "$work/broker.cp")
tools_cp=$(cat "$work/tools.cp")

# --- Apache Kafka: one combined broker and controller, formatted like kafka-storage.sh format --standalone.
port=$(free_port)
controller_port=$(free_port)
while [ "$controller_port" = "$port" ]; do controller_port=$(free_port); done
mkdir -p "$work/kafka"
cat >"$work/kafka/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=localhost:$controller_port
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
log.dirs=$work/kafka/data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
cluster_id=$(java -cp "$kafka_cp" "$log4j" kafka.tools.StorageTool random-uuid)
java -cp "$kafka_cp" "$log4j" kafka.tools.StorageTool format -t "$cluster_id" \
  -c "$work/kafka/server.properties" --standalone >"$logs/kafka-format.log" 2>&1 \
  || die_with_log "formatting Kafka's log dir failed" "$logs/kafka-format.log"
say "starting Apache Kafka on 127.0.0.1:$port"
# The JVM options of kafka-server-start.sh (KAFKA_HEAP_OPTS and KAFKA_JVM_PERFORMANCE_OPTS).
java -Xmx1G -Xms1G -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
  -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true "$log4j" -cp "$kafka_cp" \
  kafka.Kafka "$work/kafka/server.properties" >"$logs/kafka-server.log" 2>&1 &
server_pid=$!
for ((i = 0; ; i++)); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || die_with_log "Kafka exited" "$logs/kafka-server.log"
  [ "$i" -lt 600 ] || die_with_log "Kafka did not listen within 60 s" "$logs/kafka-server.log"
  sleep 0.1
done
declare -A kafka
run_suite kafka kafka "127.0.0.1:$port"
say "stopping Apache Kafka"
stop_server 30

# --- Ours: the playground with one broker (embedded PostgreSQL, S3Proxy on local disk, the broker).
say "starting the playground with 1 broker"
java -jar broker-image/target/diskless-broker.jar playground --brokers 1 --dir "$work/diskless" \
  >"$logs/diskless-server.log" 2>&1 &
server_pid=$!
for ((i = 0; ; i++)); do
  bootstrap=$(sed -n 's/^bootstrap\.servers=//p' "$logs/diskless-server.log")
  [ -z "$bootstrap" ] || break
  kill -0 "$server_pid" 2>/dev/null || die_with_log "the playground exited" "$logs/diskless-server.log"
  [ "$i" -lt 1200 ] || die_with_log "the playground did not start within 120 s" "$logs/diskless-server.log"
  sleep 0.1
done
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
