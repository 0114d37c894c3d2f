# Shared by the benchmark scripts (bench-baseline.sh, bench-compaction.sh): their working directories, and starting and
# stopping Apache Kafka (KRaft, from the Maven Central jars) and our playground on this machine. Call bench_dirs first;
# expects $log4j; sets $server_pid, $bootstrap, $kafka_cp and $tools_cp.

server_pid=""

# Sets $logs to a fresh e2e/target/NAME (absolute) and $work to a new temporary directory, and on exit stops the server
# and removes $work: bench_dirs NAME.
bench_dirs() {
  logs=e2e/target/$1
  rm -rf "$logs"
  mkdir -p "$logs"
  logs=$(cd "$logs" && pwd)
  work=$(mktemp -d -t "$1.XXXXXX")
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_cleanup() {
  stop_server 5
  rm -rf "$work"
}

say() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# Fails with the end of a log.
die_with_log() {
  say "$1; last lines of $2:"
  tail -20 "$2" >&2
  exit 1
}

# Stops the running server: SIGTERM, then SIGKILL after $1 seconds.
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

# A port nobody listens on; the brokers bind it moments later, so a collision is unlikely, not impossible.
free_port() {
  local port
  while true; do
    port=$((20000 + RANDOM % 10000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

# Builds the broker jar (unless $1 is false) and resolves Apache Kafka's classpaths into $kafka_cp and $tools_cp.
prepare_jars() {
  if [ "$1" = true ]; then
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
}

# Starts one combined KRaft broker and controller (formatted like kafka-storage.sh format --standalone) with the JVM
# options of kafka-server-start.sh; extra server properties are the arguments. Sets $bootstrap.
start_kafka() {
  local port controller_port
  port=$(free_port)
  controller_port=$(free_port)
  while [ "$controller_port" = "$port" ]; do controller_port=$(free_port); done
  mkdir -p "$work/kafka"
  cat >"$work/kafka/server.properties" <<PROPS
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
PROPS
  for extra in "$@"; do echo "$extra" >>"$work/kafka/server.properties"; done
  local cluster_id
  cluster_id=$(java -cp "$kafka_cp" "$log4j" kafka.tools.StorageTool random-uuid)
  java -cp "$kafka_cp" "$log4j" kafka.tools.StorageTool format -t "$cluster_id" \
    -c "$work/kafka/server.properties" --standalone >"$logs/kafka-format.log" 2>&1 \
    || die_with_log "formatting Kafka's log dir failed" "$logs/kafka-format.log"
  say "starting Apache Kafka on 127.0.0.1:$port"
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
  bootstrap="127.0.0.1:$port"
}

# Starts the playground with one broker (embedded PostgreSQL, S3Proxy on local disk). Sets $bootstrap.
start_playground() {
  say "starting the playground with 1 broker"
  # DISKLESS_BENCH_JAVA_OPTS: extra JVM options for the playground, e.g. -XX:StartFlightRecording=filename=x.jfr
  # to profile what a benchmark measures.
  # The log exists before the loop reads it: the background redirect may not have created it yet.
  : >"$logs/diskless-server.log"
  # shellcheck disable=SC2086
  java ${DISKLESS_BENCH_JAVA_OPTS:-} -jar broker-image/target/diskless-broker.jar playground --brokers 1 --dir "$work/diskless" \
    >"$logs/diskless-server.log" 2>&1 &
  server_pid=$!
  for ((i = 0; ; i++)); do
    bootstrap=$(sed -n 's/^bootstrap\.servers=//p' "$logs/diskless-server.log")
    [ -z "$bootstrap" ] || break
    kill -0 "$server_pid" 2>/dev/null || die_with_log "the playground exited" "$logs/diskless-server.log"
    [ "$i" -lt 1200 ] || die_with_log "the playground did not start within 120 s" "$logs/diskless-server.log"
    sleep 0.1
  done
}
