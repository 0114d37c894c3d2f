#!/usr/bin/env bash
# Builds real Kubernetes control-plane binaries (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl) FROM SOURCE, fetched only through the Go module proxy, at the pinned versions below, and caches them
# outside the repository in ${DISKLESS_KUBE_CACHE:-~/.cache/diskless-kube}/<KUBE_VERSION>/bin/.
#
# Why from source: this project's machines (and CI) reach package registries only; the usual release downloads
# (dl.k8s.io, GitHub releases, storage.googleapis.com, container images) are unreachable, but the Go module proxy
# serves the Kubernetes and etcd sources, and `go` verifies every module it downloads against the checksum
# database (sum.golang.org, reached through the proxy's /sumdb/ endpoint, so no extra host is needed).
#
# Usage:
#   e2e/kube/build-control-plane.sh            build what is missing (a second run is instant); prints the bin dir
#   e2e/kube/build-control-plane.sh --smoke    same, then start etcd + the whole control plane on loopback ports,
#                                               create a namespace through the REST API, check RBAC, check that the
#                                               controller-manager and scheduler do their work, and shut down
#   e2e/kube/build-control-plane.sh --print-bin-dir   print the bin dir only (no build)
#
# Environment knobs (all optional):
#   DISKLESS_KUBE_CACHE       cache root (default ~/.cache/diskless-kube)
#   DISKLESS_KUBE_COMPONENTS  which binaries (default: all five; "etcd kube-apiserver" is the minimum for
#                             fabric8 kube-api-test style operator tests)
#   DISKLESS_KUBE_JOBS        go build -p (default: number of CPUs)
#   DISKLESS_KUBE_KEEP_SRC=1  keep the writable source copies under <cache>/<version>/src after a build
#   GOMODCACHE, GOCACHE       honoured as usual; a cold build fills the module cache with ~0.9 GB and the build
#                             cache with ~3 GB (point GOCACHE at a temporary directory to throw the latter away)
#
# stdout carries only the bin dir (last line), so callers can do BIN=$(e2e/kube/build-control-plane.sh);
# every log line goes to stderr.
set -euo pipefail

# ---- pinned versions --------------------------------------------------------------------------------------------
# Kubernetes v1.36.3: its go.mod says `go 1.26.0`, which the machine's Go (1.26.x) builds without a toolchain
# download. Its staging modules (k8s.io/api, k8s.io/apiserver, ...) are published as v0.36.3.
KUBE_VERSION=v1.36.3
# etcd v3.6.8: the version Kubernetes v1.36.3 pins for its etcd client and ships with (build/dependencies.yaml,
# kubeadm's DefaultEtcdVersion "3.6.8-0").
ETCD_VERSION=v3.6.8
# Bump this when the build recipe below changes, so cached binaries built by an older recipe are rebuilt.
RECIPE_REV=1

ALL_COMPONENTS="etcd kube-apiserver kube-controller-manager kube-scheduler kubectl"
COMPONENTS=${DISKLESS_KUBE_COMPONENTS:-$ALL_COMPONENTS}
CACHE_ROOT=${DISKLESS_KUBE_CACHE:-$HOME/.cache/diskless-kube}
VERSION_DIR=$CACHE_ROOT/$KUBE_VERSION
BIN_DIR=$VERSION_DIR/bin
JOBS=${DISKLESS_KUBE_JOBS:-$(nproc)}

log() { printf '[build-control-plane %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

SMOKE=0
case "${1:-}" in
  "") ;;
  --smoke) SMOKE=1 ;;
  --print-bin-dir) echo "$BIN_DIR"; exit 0 ;;
  -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
  *) die "unknown argument '$1' (use --smoke, --print-bin-dir or --help)" ;;
esac

for c in $COMPONENTS; do
  case " $ALL_COMPONENTS " in *" $c "*) ;; *) die "unknown component '$c' (known: $ALL_COMPONENTS)" ;; esac
done

# A stamp next to each binary records what it was built from; a binary whose stamp differs is rebuilt.
stamp_of() {
  case "$1" in
    etcd) echo "go.etcd.io/etcd/server/v3@$ETCD_VERSION recipe=$RECIPE_REV" ;;
    *) echo "k8s.io/kubernetes/cmd/$1@$KUBE_VERSION recipe=$RECIPE_REV" ;;
  esac
}
is_current() { [[ -x $BIN_DIR/$1 && -f $BIN_DIR/.$1.stamp && "$(cat "$BIN_DIR/.$1.stamp")" == "$(stamp_of "$1")" ]]; }

missing() {
  local c out=()
  for c in $COMPONENTS; do is_current "$c" || out+=("$c"); done
  echo "${out[@]:+${out[@]}}"
}

# ---- Go environment ---------------------------------------------------------------------------------------------
setup_go_env() {
  command -v go >/dev/null || die "go is not installed"
  # Checksums: always verify against the public checksum database. Go asks the proxy first whether it serves
  # the database (<proxy>/sumdb/sum.golang.org/supported), so this works where only the proxy is reachable.
  # Clearing the private/no-sumdb lists makes sure no module of ours skips that check.
  export GOSUMDB=sum.golang.org
  unset GONOSUMDB GONOSUMCHECK GOPRIVATE GOINSECURE GOFLAGS
  [[ $(go env GOPROXY) != off ]] || die "GOPROXY=off: the build needs the Go module proxy"
  # The sources' go.mod files name the Go they need (`go 1.26.0`); with auto, an older local Go fetches that
  # toolchain from the module proxy (golang.org/toolchain) instead of failing; a new enough one is used as is.
  export GOTOOLCHAIN=auto
  # Kubernetes' module ships a go.work that points at staging/ directories the module zip does not contain.
  export GOWORK=off
  # Static binaries, as the upstream release builds them (CGO off for these commands).
  export CGO_ENABLED=0
  export GOFLAGS=-buildvcs=false
}

# go mod download -json prints {"Dir": ..., "Info": ...}; pull one field out without needing jq or python.
json_field() { sed -n "s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}\$/\1/p" | head -n1; }

# Copies a module from the module cache (read-only, checksum-verified) into a writable build directory.
# The copy is made under a temporary name and renamed at the end, so an interrupted run never leaves half a tree.
copy_module() { # module@version dest
  local json dir
  json=$(cd "$VERSION_DIR" && go mod download -json "$1") || die "go mod download $1 failed: $json"
  dir=$(json_field Dir <<<"$json")
  [[ -n $dir && -f $dir/go.mod ]] || die "no module directory for $1: $json"
  rm -rf "$2" "$2.tmp"
  cp -r "$dir" "$2.tmp"
  chmod -R u+w "$2.tmp"
  mv "$2.tmp" "$2"
  json_field Info <<<"$json" >"$2/.module-info-path"
}

# ---- Kubernetes -------------------------------------------------------------------------------------------------
# `go install k8s.io/kubernetes/cmd/kube-apiserver@v1.x` cannot work: the module's go.mod replaces every staging
# module (k8s.io/api, k8s.io/apiserver, ...) with ./staging/src/k8s.io/..., and the module zip does NOT contain
# those directories (a module zip leaves out every subdirectory that has its own go.mod). The staging code is
# published, commit for commit, as the k8s.io/* modules at v0.<minor>.<patch>, so we drop the replace directives
# and require those published versions instead; then the main module builds like any other.
prepare_kube_src() {
  local src=$1 staging_version mods=() edits=() m
  staging_version=v0.${KUBE_VERSION#v1.}
  copy_module "k8s.io/kubernetes@$KUBE_VERSION" "$src"
  rm -f "$src/go.work" "$src/go.work.sum"
  # Both `replace (` blocks and single-line `replace x => y` forms.
  mapfile -t mods < <(awk '
    /^replace[[:space:]]*\(/ { inblock = 1; next }
    inblock && /^\)/ { inblock = 0; next }
    inblock && $2 == "=>" && $3 ~ /^\.\/staging\// { print $1 }
    /^replace[[:space:]]+[^(]/ && $3 == "=>" && $4 ~ /^\.\/staging\// { print $2 }' "$src/go.mod")
  ((${#mods[@]} > 0)) || die "found no ./staging replace directives in k8s.io/kubernetes@$KUBE_VERSION go.mod"
  for m in "${mods[@]}"; do
    edits+=("-dropreplace=$m")
    # Only modules the main module requires (as v0.0.0) get a real version; others (e.g. sample-cli-plugin)
    # are not needed and are not all published.
    if grep -qE "^[[:space:]]*(require[[:space:]]+)?${m//./\\.} v0\.0\.0([[:space:]]|$)" "$src/go.mod"; then
      edits+=("-require=$m@$staging_version")
    fi
  done
  (cd "$src" && go mod edit "${edits[@]}")
  STAGING_MODULES=("${mods[@]}")
  STAGING_VERSION=$staging_version
}

# Fails if module resolution moved any of the given modules off the pinned version (that would mean the build
# is no longer the pinned release).
check_resolved_versions() { # dir want module...
  local dir=$1 want=$2 listed got
  shift 2
  listed=$(cd "$dir" && go list -mod=mod -m -f '{{.Path}} {{.Version}}' "$@") || die "go list -m failed in $dir"
  got=$(awk -v w="$want" '$2 != w' <<<"$listed")
  [[ -z $got ]] || die "modules resolved to unexpected versions (want $want): $got"
}

build_kube() { # component...
  local src=$VERSION_DIR/src/kubernetes major minor build_date commit info_file pkgs=() m c required=()
  prepare_kube_src "$src"
  # Version stamping as hack/lib/version.sh does it; `--version` then prints the real release, and the
  # apiserver's compatibility-version logic sees v1.36.3 rather than the v0.0.0-master placeholder.
  major=${KUBE_VERSION#v}; major=${major%%.*}
  minor=${KUBE_VERSION#v*.}; minor=${minor%%.*}
  info_file=$(cat "$src/.module-info-path")
  # The build date is the release's commit time from the proxy, so rebuilding gives the same bytes.
  build_date=$(sed -n 's/.*"Time": *"\([^"]*\)".*/\1/p' "$info_file")
  # The release commit, where the proxy records it (its .info "Origin"); otherwise the field stays unset.
  commit=$(sed -n 's/.*"Hash": *"\([0-9a-f]\{40\}\)".*/\1/p' "$info_file")
  local ldflags="-s -w" pkg
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date${commit:+ -X $pkg.gitCommit=$commit}"
  done
  for c in "$@"; do pkgs+=("./cmd/$c"); done
  # Pull in and verify the newly required staging modules before the long compile, and check that they
  # resolved to exactly the release's staging version.
  for m in "${STAGING_MODULES[@]}"; do
    if grep -qE "^[[:space:]]*(require[[:space:]]+)?${m//./\\.} " "$src/go.mod"; then required+=("$m"); fi
  done
  log "resolving modules for k8s.io/kubernetes@$KUBE_VERSION (staging modules at $STAGING_VERSION)"
  (cd "$src" && go mod download "${required[@]}")
  check_resolved_versions "$src" "$STAGING_VERSION" "${required[@]}"
  log "compiling ${*} (go build -p $JOBS)"
  mkdir -p "$src/_out"
  (cd "$src" && go build -mod=mod -p "$JOBS" -trimpath -ldflags "$ldflags" -o "$src/_out/" "${pkgs[@]}")
  for c in "$@"; do install_bin "$src/_out/$c" "$c"; done
  [[ ${DISKLESS_KUBE_KEEP_SRC:-0} == 1 ]] || rm -rf "$src"
}

# ---- etcd -------------------------------------------------------------------------------------------------------
# The etcd binary's main package is the root of the go.etcd.io/etcd/server/v3 module (server/main.go), whose
# go.mod replaces its sibling modules (api, client/pkg, client/v3, pkg) with ../ paths, so `go install` refuses
# it. Same fix: drop those replaces; the go.mod already requires the siblings at the same release version.
build_etcd() {
  local src=$VERSION_DIR/src/etcd-server edits=() m sha info_file siblings=()
  copy_module "go.etcd.io/etcd/server/v3@$ETCD_VERSION" "$src"
  mapfile -t siblings < <(awk '
    /^replace[[:space:]]*\(/ { inblock = 1; next }
    inblock && /^\)/ { inblock = 0; next }
    inblock && $2 == "=>" && $3 ~ /^\.\.\// { print $1 }
    /^replace[[:space:]]+[^(]/ && $3 == "=>" && $4 ~ /^\.\.\// { print $2 }' "$src/go.mod")
  ((${#siblings[@]} > 0)) || die "found no ../ replace directives in go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  for m in "${siblings[@]}"; do edits+=("-dropreplace=$m"); done
  (cd "$src" && go mod edit "${edits[@]}")
  log "resolving modules for go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  (cd "$src" && go mod download "${siblings[@]}")
  check_resolved_versions "$src" "$ETCD_VERSION" "${siblings[@]}"
  # etcd --version prints the git SHA when the proxy knows it (the release tag's commit).
  info_file=$(cat "$src/.module-info-path")
  sha=$(sed -n 's/.*"Hash": *"\([0-9a-f]\{7\}\).*/\1/p' "$info_file" | head -n1)
  log "compiling etcd"
  mkdir -p "$src/_out"
  (cd "$src" && go build -mod=mod -p "$JOBS" -trimpath \
    -ldflags "-s -w${sha:+ -X go.etcd.io/etcd/api/v3/version.GitSHA=$sha}" -o "$src/_out/etcd" .)
  install_bin "$src/_out/etcd" etcd
  [[ ${DISKLESS_KUBE_KEEP_SRC:-0} == 1 ]] || rm -rf "$src"
}

# Checks that the new binary runs, then moves it into place (rename in the same file system: atomic), and writes
# the stamp last, so a half-finished install is never taken as current.
install_bin() { # built-file name
  if [[ $2 == kubectl ]]; then
    "$1" version --client >/dev/null || die "$2 does not run"
  else
    "$1" --version >/dev/null || die "$2 does not run"
  fi
  rm -f "$BIN_DIR/.$2.stamp"
  mv -f "$1" "$BIN_DIR/$2"
  stamp_of "$2" >"$BIN_DIR/.$2.stamp"
  log "installed $BIN_DIR/$2 ($(du -h "$BIN_DIR/$2" | cut -f1))"
}

build_missing() {
  local todo kube=() c start
  todo=$(missing)
  if [[ -z $todo ]]; then
    log "up to date in $BIN_DIR: $COMPONENTS"
    return
  fi
  start=$SECONDS
  setup_go_env
  log "building: $todo (go: $(go version | cut -d' ' -f3-), GOMODCACHE=$(go env GOMODCACHE))"
  for c in $todo; do [[ $c == etcd ]] || kube+=("$c"); done
  if [[ " $todo " == *" etcd "* ]]; then build_etcd; fi
  if ((${#kube[@]} > 0)); then build_kube "${kube[@]}"; fi
  log "build finished in $((SECONDS - start)) s; bin dir $(du -sh "$BIN_DIR" | cut -f1)"
}

# ---- smoke test -------------------------------------------------------------------------------------------------
SMOKE_PIDS=()
SMOKE_DIR=
smoke_cleanup() {
  local i pid t0=$SECONDS n=${#SMOKE_PIDS[@]}
  # Stop only the processes this script started, in reverse start order (scheduler, controller-manager and
  # apiserver before etcd): SIGTERM, and SIGKILL for one that has not exited within 30 s.
  for ((i = n - 1; i >= 0; i--)); do
    pid=${SMOKE_PIDS[i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  SMOKE_PIDS=()
  ((n == 0)) || log "stopped $n processes in $((SECONDS - t0))s"
  [[ -z $SMOKE_DIR ]] || rm -rf "$SMOKE_DIR"
}

# A free loopback port: a random one that nothing answers on (bash's /dev/tcp, no extra tools needed).
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  die "no free port found"
}

wait_until() { # timeout-seconds description command...
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { log "timed out waiting for $what"; return 1; }
    sleep 0.5
  done
}

smoke() {
  local c
  for c in etcd kube-apiserver; do is_current "$c" || die "--smoke needs $c in $BIN_DIR"; done
  command -v openssl >/dev/null || die "--smoke needs openssl"
  command -v curl >/dev/null || die "--smoke needs curl"
  SMOKE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/diskless-kube-smoke.XXXXXX")
  trap smoke_cleanup EXIT
  trap 'exit 130' INT TERM
  local d=$SMOKE_DIR t0 t_etcd t_api
  local etcd_port peer_port api_port token=smoke-admin-token-$RANDOM$RANDOM viewer_token=smoke-viewer-$RANDOM
  etcd_port=$(free_port); peer_port=$(free_port); api_port=$(free_port)

  log "versions:"
  "$BIN_DIR/etcd" --version | sed 's/^/  /' >&2
  "$BIN_DIR/kube-apiserver" --version | sed 's/^/  /' >&2
  for c in kube-controller-manager kube-scheduler; do
    if is_current "$c"; then "$BIN_DIR/$c" --version | sed 's/^/  /' >&2; fi
  done
  if is_current kubectl; then "$BIN_DIR/kubectl" version --client | sed 's/^/  kubectl /' >&2; fi

  t0=$SECONDS
  # --unsafe-no-fsync: a throwaway test store; skipping fsync makes it much faster on slow disks.
  "$BIN_DIR/etcd" --name smoke --data-dir "$d/etcd" --unsafe-no-fsync \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "smoke=http://127.0.0.1:$peer_port" --log-level warn >"$d/etcd.log" 2>&1 &
  SMOKE_PIDS+=($!)
  wait_until 30 "etcd /health" curl -fsS "http://127.0.0.1:$etcd_port/health" || { tail -20 "$d/etcd.log" >&2; return 1; }
  t_etcd=$((SECONDS - t0))
  log "etcd ready on 127.0.0.1:$etcd_port after ${t_etcd}s"

  # Service-account token signing key pair (the apiserver refuses to start without one).
  openssl genrsa -out "$d/sa.key" 2048 2>/dev/null
  openssl rsa -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
  # Static tokens: an admin in system:masters, and a user with no RBAC bindings (to show RBAC is enforced).
  printf '%s,smoke-admin,smoke-admin-uid,system:masters\n%s,smoke-viewer,smoke-viewer-uid\n' \
    "$token" "$viewer_token" >"$d/tokens.csv"
  # The serving certificate is self-signed and generated by the apiserver itself into --cert-dir.
  t0=$SECONDS
  "$BIN_DIR/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" --cert-dir "$d/certs" \
    --authorization-mode RBAC --token-auth-file "$d/tokens.csv" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$d/sa.pub" --service-account-signing-key-file "$d/sa.key" \
    --service-cluster-ip-range 10.0.0.0/24 >"$d/kube-apiserver.log" 2>&1 &
  SMOKE_PIDS+=($!)
  local api=https://127.0.0.1:$api_port
  local -a kcurl=(curl -ksS --fail-with-body -H "Authorization: Bearer $token")
  wait_until 120 "kube-apiserver /readyz" "${kcurl[@]}" "$api/readyz" ||
    { tail -40 "$d/kube-apiserver.log" >&2; return 1; }
  t_api=$((SECONDS - t0))
  log "kube-apiserver ready on $api after ${t_api}s"
  "${kcurl[@]}" "$api/version" | tr -d '\n ' >&2; echo >&2

  local code
  code=$("${kcurl[@]}" -o "$d/ns.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -d '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"smoke"}}' "$api/api/v1/namespaces")
  [[ $code == 201 ]] || { cat "$d/ns.json" >&2; die "creating namespace: HTTP $code"; }
  log "created namespace 'smoke' (HTTP $code)"
  "${kcurl[@]}" "$api/api/v1/namespaces/smoke" | grep -q '"phase": "Active"' || die "namespace smoke is not Active"
  code=$(curl -ksS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $viewer_token" "$api/api/v1/namespaces")
  [[ $code == 403 ]] || die "RBAC: a user without bindings listing namespaces got HTTP $code, want 403"
  log "RBAC enforced: user without bindings gets HTTP 403"

  if is_current kubectl; then
    "$BIN_DIR/kubectl" --server "$api" --token "$token" --insecure-skip-tls-verify get namespaces >&2
  fi

  if is_current kube-controller-manager && is_current kube-scheduler; then
    smoke_kcm_scheduler "$api" "$token" || return 1
  fi
  log "SMOKE PASSED (etcd ready ${t_etcd}s, kube-apiserver ready ${t_api}s, total $((SECONDS - SMOKE_T0))s)"
}

smoke_kcm_scheduler() { # api token
  local api=$1 token=$2 d=$SMOKE_DIR kcm_port sched_port t0 code
  local -a kcurl=(curl -ksS --fail-with-body -H "Authorization: Bearer $token")
  kcm_port=$(free_port); sched_port=$(free_port)
  cat >"$d/admin.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: smoke, cluster: {server: "$api", insecure-skip-tls-verify: true}}]
users: [{name: admin, user: {token: "$token"}}]
contexts: [{name: smoke, context: {cluster: smoke, user: admin}}]
current-context: smoke
EOF
  t0=$SECONDS
  "$BIN_DIR/kube-controller-manager" --kubeconfig "$d/admin.kubeconfig" \
    --authentication-kubeconfig "$d/admin.kubeconfig" --authorization-kubeconfig "$d/admin.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$kcm_port" --cert-dir "$d/kcm-certs" --leader-elect=false \
    --service-account-private-key-file "$d/sa.key" --use-service-account-credentials=false \
    >"$d/kube-controller-manager.log" 2>&1 &
  SMOKE_PIDS+=($!)
  "$BIN_DIR/kube-scheduler" --kubeconfig "$d/admin.kubeconfig" \
    --authentication-kubeconfig "$d/admin.kubeconfig" --authorization-kubeconfig "$d/admin.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$sched_port" --cert-dir "$d/sched-certs" --leader-elect=false \
    >"$d/kube-scheduler.log" 2>&1 &
  SMOKE_PIDS+=($!)
  wait_until 60 "kube-controller-manager /healthz" curl -kfsS "https://127.0.0.1:$kcm_port/healthz" ||
    { tail -30 "$d/kube-controller-manager.log" >&2; return 1; }
  wait_until 60 "kube-scheduler /healthz" curl -kfsS "https://127.0.0.1:$sched_port/healthz" ||
    { tail -30 "$d/kube-scheduler.log" >&2; return 1; }
  log "kube-controller-manager and kube-scheduler healthy after $((SECONDS - t0))s"

  # The controller-manager's service-account controller creates "default" in every namespace.
  wait_until 60 "ServiceAccount smoke/default" "${kcurl[@]}" "$api/api/v1/namespaces/smoke/serviceaccounts/default" ||
    { tail -30 "$d/kube-controller-manager.log" >&2; return 1; }
  log "kube-controller-manager created ServiceAccount smoke/default"

  # A node object with room for pods (no kubelet behind it) and a pod: the scheduler must bind the pod to it.
  code=$("${kcurl[@]}" -o "$d/node.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{
    "apiVersion": "v1", "kind": "Node", "metadata": {"name": "smoke-node"},
    "status": {"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
               "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
               "conditions": [{"type": "Ready", "status": "True", "reason": "Smoke", "message": "smoke"}]}}' \
    "$api/api/v1/nodes")
  [[ $code == 201 ]] || { cat "$d/node.json" >&2; die "creating node: HTTP $code"; }
  code=$("${kcurl[@]}" -o "$d/pod.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{
    "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "smoke-pod"},
    "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}}' \
    "$api/api/v1/namespaces/smoke/pods")
  [[ $code == 201 ]] || { cat "$d/pod.json" >&2; die "creating pod: HTTP $code"; }
  scheduled() { "${kcurl[@]}" "$api/api/v1/namespaces/smoke/pods/smoke-pod" | grep -q '"nodeName": "smoke-node"'; }
  wait_until 60 "pod smoke/smoke-pod to be scheduled" scheduled ||
    { tail -30 "$d/kube-scheduler.log" >&2; return 1; }
  log "kube-scheduler bound pod smoke/smoke-pod to node smoke-node"

  # No kubelet will ever confirm the pod's termination, so remove it (and the node) at once with a zero grace
  # period; then deleting the namespace shows the controller-manager's namespace controller emptying it (its
  # ServiceAccount, ConfigMap, ...) and removing it.
  "${kcurl[@]}" -o /dev/null -X DELETE "$api/api/v1/namespaces/smoke/pods/smoke-pod?gracePeriodSeconds=0"
  "${kcurl[@]}" -o /dev/null -X DELETE "$api/api/v1/nodes/smoke-node"
  "${kcurl[@]}" -o /dev/null -X DELETE "$api/api/v1/namespaces/smoke"
  gone() { [[ $(curl -ksS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
    "$api/api/v1/namespaces/smoke") == 404 ]]; }
  wait_until 90 "namespace smoke to be deleted" gone || { tail -30 "$d/kube-controller-manager.log" >&2; return 1; }
  log "kube-controller-manager finalized the deletion of namespace smoke"
}

# ---- main -------------------------------------------------------------------------------------------------------
SMOKE_T0=$SECONDS
mkdir -p "$BIN_DIR" "$VERSION_DIR/src"
# One build at a time per version (two CI steps, or a developer and CI, may call this concurrently).
exec 9>"$VERSION_DIR/.lock"
flock 9
build_missing
flock -u 9
if ((SMOKE)); then
  SMOKE_T0=$SECONDS
  smoke
fi
echo "$BIN_DIR"
