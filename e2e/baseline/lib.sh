# Shared by the benchmark scripts (bench-baseline.sh, bench-compaction.sh): their working directories, and starting and
# stopping Apache Kafka (KRaft, from the Maven Central jars) and our playground on this machine. Call bench_dirs first;
# expects $log4j; sets $server_pid, $bootstrap, $kafka_cp and $tools_cp.

server_pid=""
store_pid=""
store_dir=""

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
  stop_store
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

# Trains the JVM's AOT cache with the broker's training run, as the broker image's build does (broker-image/Dockerfile),
# so that start_playground starts the broker from it as the image's ENTRYPOINT does: classes loaded and linked, and
# (JDK 25) method profiles that let the JIT compile the hot paths sooner. DISKLESS_BENCH_AOT=0 starts it without. Sets
# $aot_opts.
train_aot_cache() {
  aot_opts=""
  [ "${DISKLESS_BENCH_AOT:-1}" = 0 ] && return 0
  say "training the broker's AOT cache, as the broker image's build does"
  if java -XX:AOTCacheOutput="$work/broker.aot" -jar broker-image/target/diskless-broker.jar train \
    >"$logs/aot-train.log" 2>&1; then
    aot_opts="-XX:AOTCache=$work/broker.aot"
  else
    say "training the AOT cache failed (see $logs/aot-train.log); the playground starts without one"
  fi
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
  kafka_port=$port
  launch_kafka kafka-server
}

# (Re)starts Kafka on the log dir start_kafka formatted, with its output in $logs/LOG.log: launch_kafka LOG. Sets
# $bootstrap.
launch_kafka() {
  local log="$logs/$1.log" port=$kafka_port
  say "starting Apache Kafka on 127.0.0.1:$port"
  java -Xmx1G -Xms1G -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true "$log4j" -cp "$kafka_cp" \
    kafka.Kafka "$work/kafka/server.properties" >"$log" 2>&1 &
  server_pid=$!
  for ((i = 0; ; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || die_with_log "Kafka exited" "$log"
    [ "$i" -lt 600 ] || die_with_log "Kafka did not listen within 60 s" "$log"
    sleep 0.1
  done
  bootstrap="127.0.0.1:$port"
  metrics=""
}

# Starts the playground's object store (S3Proxy on local disk, `diskless-broker.jar object-store`) as a process of its
# own keeping its objects under DIR/s3, so that the brokers' CPU is measured apart from the store's (on S3 the store's
# work runs on AWS's machines, not the brokers'): start_store DIR. Sets $store_pid, $store_dir and $store_url. A store
# already running for DIR is kept.
start_store() {
  local data=$1 log
  [ -n "$store_pid" ] && [ "$store_dir" = "$data" ] && kill -0 "$store_pid" 2>/dev/null && return 0
  stop_store
  log="$logs/store-$(basename "$data").log"
  say "starting the object store for $(basename "$data")"
  : >"$log"
  java -jar broker-image/target/diskless-broker.jar object-store --dir "$data" >"$log" 2>&1 &
  store_pid=$!
  store_dir=$data
  store_url=$(await_printed "$log" 'object\.store' "$store_pid" "the object store" 60)
}

# Stops the object store start_store started, if any.
stop_store() {
  [ -n "$store_pid" ] || return 0
  kill "$store_pid" 2>/dev/null || true
  wait "$store_pid" 2>/dev/null || true
  store_pid=""
  store_dir=""
}

# Starts the playground with one broker (embedded PostgreSQL; the object store from start_store, started here if it
# is not running for DIR). Sets $bootstrap and $metrics (its brokers' Prometheus endpoints).
# Started again (start_playground diskless-server-2), it serves the same data from its directory with empty caches.
# start_playground [LOG [DIR [PLAYGROUND ARGS...]]]: DIR under the run's work directory (default diskless), e.g.
# start_playground diskless-volume diskless-volume --wal volume.
start_playground() {
  local log="$logs/${1:-diskless-server}.log" data="$work/${2:-diskless}"
  shift $(($# > 2 ? 2 : $#))
  start_store "$data"
  say "starting the playground with 1 broker $*"
  # DISKLESS_BENCH_JAVA_OPTS: extra JVM options for the playground, e.g. -XX:StartFlightRecording=filename=x.jfr
  # to profile what a benchmark measures.
  # The log exists before the loop reads it: the background redirect may not have created it yet.
  : >"$log"
  # A fixed 2 GiB heap: the broker image fixes its heap (75 % of the pod's memory) as Kafka's start script fixes
  # Kafka's (1 GiB, launch_kafka); the JVM's default here would start at 380 MiB and grow towards 6 GiB, faulting in
  # fresh memory during the measured phases.
  # shellcheck disable=SC2086
  java ${aot_opts:-} -Xms2g -Xmx2g ${DISKLESS_BENCH_JAVA_OPTS:-} -jar broker-image/target/diskless-broker.jar playground --brokers 1 --dir "$data" \
    --object-store "$store_url" "$@" >"$log" 2>&1 &
  server_pid=$!
  # metrics= comes after bootstrap.servers=.
  metrics=$(await_printed "$log" metrics "$server_pid" "the playground" 120)
  bootstrap=$(sed -n 's/^bootstrap\.servers=//p' "$log")
}

# await_printed LOG KEY PID WHAT SECONDS: the value of the line KEY=VALUE (KEY a sed pattern) that process PID (WHAT)
# prints into LOG once started; fails with the end of LOG if the process exits first or SECONDS pass. Called in a
# command substitution, whose failure ends the script (set -e).
await_printed() {
  local value i
  for ((i = 0; ; i++)); do
    value=$(sed -n "s/^$2=//p" "$1")
    [ -z "$value" ] || { echo "$value"; return 0; }
    kill -0 "$3" 2>/dev/null || die_with_log "$4 exited" "$1"
    [ "$i" -lt $(($5 * 10)) ] || die_with_log "$4 did not start within $5 s" "$1"
    sleep 0.1
  done
}

# CPU time (clock ticks, user + system) the system under test has used so far: the server process and, for our
# playground, its embedded PostgreSQL (the postmaster with the backends it has reaped, and the live backends), so that
# both systems are charged for everything they run. The clients and the object store (store_cpu_ticks) are separate
# processes and are not counted.
server_cpu_ticks() {
  local total pg_pid_file="$work/diskless/postgres/postmaster.pid" pg_pid pid
  total=$(proc_ticks "$server_pid" 0)
  if [ -f "$pg_pid_file" ]; then
    pg_pid=$(head -1 "$pg_pid_file")
    total=$((total + $(proc_ticks "$pg_pid" 1)))
    for pid in $(pgrep -P "$pg_pid" || true); do
      total=$((total + $(proc_ticks "$pid" 0)))
    done
  fi
  echo "$total"
}

# proc_ticks PID WITH_CHILDREN: utime + stime of a process (plus cutime + cstime of the children it has reaped when
# WITH_CHILDREN is 1); 0 for a process that is gone.
proc_ticks() {
  local f
  # The command name (field 2) may hold spaces: split what follows its closing parenthesis (field 3 on).
  read -r -a f <<<"$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null)" || true
  [ "${#f[@]}" -gt 14 ] || { echo 0; return; }
  if [ "$2" = 1 ]; then echo $((f[11] + f[12] + f[13] + f[14])); else echo $((f[11] + f[12])); fi
}

# CPU time (clock ticks) of the object store process so far; 0 without one (Apache Kafka).
store_cpu_ticks() {
  if [ -n "$store_pid" ]; then proc_ticks "$store_pid" 0; else echo 0; fi
}

# cpu_per_gb TICKS_BEFORE BYTES [COUNTER]: CPU-seconds per GB (10^9 bytes) since TICKS_BEFORE, of the system under test
# (COUNTER server_cpu_ticks, the default) or of the object store (store_cpu_ticks).
cpu_per_gb() {
  local now
  now=$("${3:-server_cpu_ticks}")
  ticks_per_gb $((now - $1)) "$2"
}

# ticks_per_gb TICKS BYTES: CPU-seconds per GB (10^9 bytes) for TICKS clock ticks.
ticks_per_gb() {
  awk -v t="$1" -v hz="$(getconf CLK_TCK)" -v b="$2" 'BEGIN { printf "%.1f", t / hz / (b / 1e9) }'
}

# CPU time (clock ticks) of this script's child processes that have ended: the kernel adds a child's time, with that
# of the children it waited for, to its parent's once the parent waits for it. Read before and after a tool in the
# foreground, it gives the tool's CPU (its JVM from start to exit).
children_cpu_ticks() {
  local f
  read -r -a f <<<"$(sed 's/^.*) //' "/proc/$$/stat")"
  echo $((f[13] + f[14]))
}

# Object-store requests of our playground so far, as "PUTS GETS GET_BYTES PUT_BYTES", from its brokers' Prometheus endpoints
# ($metrics, comma-separated; empty for Apache Kafka, which prints nothing).
object_requests() {
  [ -n "${metrics:-}" ] || return 0
  local url puts=0 gets=0 get_bytes=0 put_bytes=0 n
  for url in ${metrics//,/ }; do
    n=$(curl -fsS "$url" | awk '
      /^diskless_objectstore_requests_seconds_count\{/ {
        if ($0 ~ /operation="put"/) p += $NF; else if ($0 ~ /operation="get"/) g += $NF
      }
      /^diskless_objectstore_bytes_total\{/ { if ($0 ~ /operation="get"/) b += $NF; else if ($0 ~ /operation="put"/) pb += $NF }
      END { printf "%d %d %.0f %.0f", p, g, b, pb }') || die_with_log "cannot read $url" "$logs/diskless-server.log"
    read -r -a n <<<"$n"
    puts=$((puts + n[0]))
    gets=$((gets + n[1]))
    get_bytes=$((get_bytes + n[2]))
    put_bytes=$((put_bytes + n[3]))
  done
  echo "$puts $gets $get_bytes $put_bytes"
}

# put_ratio BEFORE AFTER BYTES: the bytes written to the object store between two object_requests readings (WAL
# objects, and the merges that ran meanwhile) per byte produced.
put_ratio() {
  local -a a b
  read -r -a a <<<"$1"
  read -r -a b <<<"$2"
  awk -v w=$((b[3] - a[3])) -v n="$3" 'BEGIN { printf "%.2f", w / n }'
}

# per_gb BEFORE AFTER BYTES: requests per GB between two counts.
per_gb() {
  awk -v n=$(($2 - $1)) -v b="$3" 'BEGIN { printf "%.0f", n / (b / 1e9) }'
}

# CPU time (clock ticks) the server's JIT compiler threads ("C1 CompilerThread0", ...) have used so far. Both servers
# are JVMs that still compile during the measured phases: this tells that share of their CPU from the data path's own.
# (A compiler thread HotSpot stops when idle takes its ticks with it; with two cores it keeps one of each kind.)
jit_cpu_ticks() {
  local total=0 task
  for task in /proc/"$server_pid"/task/*; do
    [[ $(cat "$task/comm" 2>/dev/null) == C[12]\ CompilerThre* ]] || continue
    # A thread's stat has the process's layout: proc_ticks reads it as "PID/task/TID".
    total=$((total + $(proc_ticks "${task#/proc/}" 0)))
  done
  echo "$total"
}

# With DISKLESS_BENCH_PROFILE=DIR, profile_start NAME records the server (either system: both are JVMs) with JDK Flight
# Recorder's profile settings into DIR/NAME.jfr until profile_stop; `jfr view hot-methods DIR/NAME.jfr` then shows where
# that phase's CPU went (`jfr print --events jdk.CPUTimeSample` with time in system calls).
profile_start() {
  [ -n "${DISKLESS_BENCH_PROFILE:-}" ] || return 0
  mkdir -p "$DISKLESS_BENCH_PROFILE"
  # jdk.CPUTimeSample (JDK 25) counts CPU time in system calls too, which jdk.ExecutionSample misses: socket and file
  # writes, sendfile.
  jcmd "$server_pid" JFR.start name=bench settings=profile jdk.CPUTimeSample#enabled=true \
    jdk.CPUTimeSample#throttle=2ms filename="$(cd "$DISKLESS_BENCH_PROFILE" && pwd)/$1.jfr" >>"$logs/jcmd.log" 2>&1
}

profile_stop() {
  [ -n "${DISKLESS_BENCH_PROFILE:-}" ] || return 0
  jcmd "$server_pid" JFR.stop name=bench >>"$logs/jcmd.log" 2>&1
}
