#!/usr/bin/env bash
# Runs the end-to-end scenarios on the local Kubernetes (KubernetesScenariosIT) and prints a summary: scenario,
# pass/fail, key figures. Needs root (network namespaces) and Go (the control plane is built from source once).
#   e2e/kube-scenarios.sh            build what the scenarios run (broker jar, operator), run them, summarize
#   e2e/kube-scenarios.sh --summary  only summarize the last run (./mvnw verify runs the scenarios too)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" != "--summary" ]]; then
  source .ci/select-jdk.sh
  # The scenarios run broker-image/target/diskless-broker.jar and operator/target/quarkus-app.
  ./mvnw -B -ntp -q install -DskipTests -pl broker-config,storage-engine,broker-image,operator
  ./mvnw -B -ntp -pl e2e verify -Dtest='KubernetesScenariosIT*' -Dsurefire.failIfNoSpecifiedTests=false || status=$?
fi
status=${status:-0}
shown=0
for reports in e2e/target/surefire-reports e2e/target/surefire-reports-loopback; do
  xml=$reports/TEST-dev.diskless.e2e.kube.KubernetesScenariosIT.xml
  out=$reports/dev.diskless.e2e.kube.KubernetesScenariosIT-output.txt
  [[ -f $xml ]] || continue
  shown=1
  echo
  echo "== e2e scenarios on the local Kubernetes ($reports) =="
  python3 - "$xml" <<'PY'
import sys, xml.etree.ElementTree as ET
for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    failed = case.find("failure") is not None or case.find("error") is not None
    print(f"{'FAIL' if failed else 'pass'}  {float(case.get('time')):6.1f} s  {case.get('name')}")
PY
  grep -h '^scenario ' "$out" 2>/dev/null || true
done
if [[ $shown == 0 ]]; then
  echo "no scenario report under e2e/target: the scenarios did not run" >&2
  exit 1
fi
exit "$status"
