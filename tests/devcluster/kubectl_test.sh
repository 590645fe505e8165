#!/usr/bin/env bash
# End-to-end: the installed kubectl (v1.32) drives aidi-devcluster exactly as a user would,
# with no extra flags. Every check prints PASS or FAIL; the script exits non-zero on any FAIL
# and 77 (skipped) when kubectl is not installed.
#
#   tests/devcluster/kubectl_test.sh [path/to/aidi-devcluster]
#
# DC_KEEP_TMP=1 keeps the temp dir (devcluster logs, kubeconfigs) for a post-mortem.
#
# The main devcluster runs with default flags, which must serve HTTPS: client-go (so kubectl)
# reads a kubeconfig's credentials only when the server URL is https ("only try to read the auth
# information if we are secure", clientcmd/client_config.go), so a token-protected plain-HTTP
# server cannot authenticate kubectl. t_other_modes checks an explicit --tls and --plain-http.
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=tests/devcluster
FIX=$HERE/fixtures

if ! command -v kubectl >/dev/null 2>&1; then
  echo "SKIP: kubectl is not installed"
  exit 77
fi

# shellcheck source=harness.sh
source "$HERE/harness.sh"
dc_init "${1:-}"

dc_start main --enable-faults
dc_use main
echo "devcluster main: $(dc_var SERVER main), kubectl $(kubectl version --client -o json | jq -r .clientVersion.gitVersion)"
expect "default mode is TLS: kubeconfig points at https" '^https://127\.0\.0\.1:[0-9]+$' "$(dc_var SERVER main)"
check_out "TLS: kubeconfig carries certificate-authority-data" 'certificate-authority-data: ' cat "$KUBECONFIG"
run curl -sS --max-time 10 "$(dc_var SERVER main)/version"
if [[ $RC != 0 ]]; then pass "TLS: a client without the CA is refused"; else fail "TLS: a client without the CA is refused" "$OUT"; fi

# ---------------------------------------------------------------------------------------------
t_basics() {
  check_out "get --raw /version returns version JSON" '"gitVersion": *"v[0-9]+\.[0-9]+' \
    kubectl get --raw /version
  check_out "kubectl version reports a server version" '^Server Version: v[0-9]+\.[0-9]+' kubectl version
  check_out "get namespaces lists default and kube-system" 'kube-system +Active' kubectl get namespaces
  expect "get namespaces shows default Active" '^default +Active' "$OUT"
  check_out "get pods -A on an empty cluster" 'No resources found' kubectl get pods -A
}

# ---------------------------------------------------------------------------------------------
t_crd() {
  check_out "apply CRD creates it" \
    '^customresourcedefinition.apiextensions.k8s.io/gadgets.tests.aidi.dev created$' \
    kubectl apply -f "$FIX/gadget-crd.yaml"
  check_out "wait for CRD Established" 'condition met' \
    kubectl wait --for=condition=Established crd/gadgets.tests.aidi.dev --timeout=30s
  check_out "re-apply CRD is unchanged" \
    '^customresourcedefinition.apiextensions.k8s.io/gadgets.tests.aidi.dev unchanged$' \
    kubectl apply -f "$FIX/gadget-crd.yaml"
  check_out "api-resources lists the CRD" \
    '^gadgets +gd +tests\.aidi\.dev/v1alpha1 +true +Gadget$' kubectl api-resources
  expect "api-resources lists configmaps" '^configmaps +cm +v1 +true +ConfigMap$' "$OUT"
  expect "api-resources lists deployments" '^deployments +deploy +apps/v1 +true +Deployment$' "$OUT"
  expect "api-resources lists namespaces (cluster-scoped)" '^namespaces +ns +v1 +false +Namespace$' "$OUT"
  check_out "api-resources --api-group filters to the CRD group" '^gadgets +gd' \
    kubectl api-resources --api-group=tests.aidi.dev
  expect_not "api-resources --api-group hides other groups" 'ConfigMap' "$OUT"
  check_out "api-versions lists tests.aidi.dev/v1alpha1" '^tests\.aidi\.dev/v1alpha1$' kubectl api-versions

  check_out "apply CR creates it" '^gadget.tests.aidi.dev/sample created$' \
    kubectl apply -f "$FIX/gadget-sample.yaml"
  check_out "re-apply CR is unchanged" '^gadget.tests.aidi.dev/sample unchanged$' \
    kubectl apply -f "$FIX/gadget-sample.yaml"
  check_out "schema default is applied (spec.owner)" '^nobody$' \
    kubectl get gadget sample -o 'jsonpath={.spec.owner}'
  check_out "re-apply after defaulting is still unchanged" '^gadget.tests.aidi.dev/sample unchanged$' \
    kubectl apply -f "$FIX/gadget-sample.yaml"
  check_out "last-applied-configuration annotation is stored" '"kind":"Gadget"' \
    kubectl get gd sample -o 'jsonpath={.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}'
}

# ---------------------------------------------------------------------------------------------
t_printer_columns() {
  run kubectl get gd
  local header
  header=$(head -n1 <<<"$OUT")
  if [[ $RC == 0 ]] && grep -Eq '^NAME +SIZE +COLOR +PHASE +AGE$' <<<"$header"; then
    pass "get gd shows printer columns NAME SIZE COLOR PHASE AGE (priority-1 OWNER hidden)"
  else
    fail "get gd shows printer columns NAME SIZE COLOR PHASE AGE (priority-1 OWNER hidden)" \
      "exit $RC, output:" "$OUT"
  fi
  expect "get gd row has integer and string cells and an age" '^sample +3 +red +[0-9]+[smhd]' "$OUT"
  check_out "get gd -o wide adds the priority-1 column" '^NAME +SIZE +COLOR +PHASE +AGE +OWNER$' \
    kubectl get gd -o wide
  expect "get gd -o wide row shows the defaulted owner" '^sample +3 +red +[0-9]+[smhd] +nobody$' "$OUT"
  check_out "get gadget (singular) works" '^sample ' kubectl get gadget
  check_out "get gadgets (plural) works" '^sample ' kubectl get gadgets
  check_out "get gadgets.tests.aidi.dev (qualified) works" '^sample ' kubectl get gadgets.tests.aidi.dev
  check_out "get gadget.v1alpha1.tests.aidi.dev (fully qualified) works" '^sample ' \
    kubectl get gadget.v1alpha1.tests.aidi.dev
  # A category that expands to one resource type prints like `get gd` (no kind prefix).
  check_out "get testcat (category) lists the gadget" '^sample +3 +red' kubectl get testcat
  check_out "get gd --show-labels" 'tier=gold' kubectl get gd --show-labels
  check_out "get gd -l tier=gold selects it" '^sample ' kubectl get gd -l tier=gold
  check_out "get gd -l tier=silver selects nothing" 'No resources found in default namespace' \
    kubectl get gd -l tier=silver
  check_out "get gd -o name" '^gadget\.tests\.aidi\.dev/sample$' kubectl get gd -o name
  check_out "get gd -o yaml round-trips the spec" '^  size: 3$' kubectl get gd sample -o yaml
  check_out "get gd -o custom-columns" '^sample +red$' \
    kubectl get gd -o 'custom-columns=N:.metadata.name,C:.spec.color' --no-headers
  check_fails "get of a missing gadget is NotFound" \
    '^Error from server \(NotFound\): gadgets\.tests\.aidi\.dev "nope" not found$' kubectl get gd nope
  check_fails "get of an unknown resource type" \
    "error: the server doesn't have a resource type \"widgets\"" kubectl get widgets
}

# ---------------------------------------------------------------------------------------------
t_get_watch() {
  local f="$DC_TMP/watch.out"
  timeout 40 kubectl get gd -w >"$f" 2>&1 &
  local wpid=$!
  if wait_file "$wpid" 20 "$f" '^sample +3 +red'; then
    pass "get -w prints the current row"
  else
    fail "get -w prints the current row" "$(cat "$f")"
  fi
  run kubectl patch gd sample --type=merge -p '{"spec":{"color":"blue"}}'
  expect "patch --type=merge on the CR" '^gadget.tests.aidi.dev/sample patched$' "$OUT"
  if wait_file "$wpid" 20 "$f" '^sample +3 +blue'; then
    pass "get -w prints the changed row"
  else
    fail "get -w prints the changed row" "$(cat "$f")"
  fi
  run kubectl apply -f - <<'EOF'
apiVersion: tests.aidi.dev/v1alpha1
kind: Gadget
metadata:
  name: watched
spec:
  size: 9
  color: green
EOF
  if wait_file "$wpid" 20 "$f" '^watched +9 +green'; then
    pass "get -w prints a newly created object"
  else
    fail "get -w prints a newly created object" "$(cat "$f")"
  fi
  kill "$wpid" 2>/dev/null || true
  wait "$wpid" 2>/dev/null || true
  run kubectl delete gd watched --wait=false
  check_out "patch back to red" 'patched' kubectl patch gd sample --type=merge -p '{"spec":{"color":"red"}}'

  # --output-watch-events labels each row with its event type.
  f="$DC_TMP/watch-events.out"
  timeout 40 kubectl get gd sample -w --output-watch-events >"$f" 2>&1 &
  wpid=$!
  wait_file "$wpid" 20 "$f" '^ADDED +sample' || true
  run kubectl label gd sample touched=yes
  if wait_file "$wpid" 20 "$f" '^MODIFIED +sample'; then
    pass "get -w --output-watch-events shows ADDED then MODIFIED"
  else
    fail "get -w --output-watch-events shows ADDED then MODIFIED" "$(cat "$f")"
  fi
  kill "$wpid" 2>/dev/null || true
  wait "$wpid" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
t_status_and_wait() {
  # Spec changes through /status are ignored; status changes through the main resource are ignored.
  check_out "patch --subresource=status" '^gadget.tests.aidi.dev/sample patched$' \
    kubectl patch gd sample --subresource=status --type=merge -p '{"status":{"phase":"Running"},"spec":{"size":42}}'
  check_out "status subresource patch set status.phase" '^Running$' \
    kubectl get gd sample -o 'jsonpath={.status.phase}'
  check_out "status subresource patch ignored the spec change" '^3$' \
    kubectl get gd sample -o 'jsonpath={.spec.size}'
  run kubectl patch gd sample --type=merge -p '{"status":{"phase":"Hacked"}}'
  check_out "main-resource patch ignores status (status subresource enabled)" '^Running$' \
    kubectl get gd sample -o 'jsonpath={.status.phase}'
  check_out "get --subresource=status" '^sample ' kubectl get gd sample --subresource=status
  check_out "get gd shows the status column" '^sample +3 +red +Running +' kubectl get gd sample

  # kubectl wait --for=condition: the condition appears after wait has started.
  local f="$DC_TMP/wait-cond.out"
  kubectl wait --for=condition=Ready gd/sample --timeout=30s >"$f" 2>&1 &
  local wpid=$!
  sleep 0.5
  if kill -0 "$wpid" 2>/dev/null; then
    pass "wait --for=condition=Ready blocks while the condition is absent"
  else
    fail "wait --for=condition=Ready blocks while the condition is absent" "$(cat "$f")"
  fi
  check_out "set the Ready condition via patch --subresource=status" 'patched' \
    kubectl patch gd sample --subresource=status --type=merge \
    -p '{"status":{"conditions":[{"type":"Ready","status":"True","reason":"E2E","message":"ready now","lastTransitionTime":"2024-01-01T00:00:00Z"}]}}'
  local rc=0
  wait "$wpid" || rc=$?
  if [[ $rc == 0 ]] && grep -q '^gadget.tests.aidi.dev/sample condition met$' "$f"; then
    pass "wait --for=condition=Ready returns once the condition is set"
  else
    fail "wait --for=condition=Ready returns once the condition is set" "exit $rc" "$(cat "$f")"
  fi
  check_out "wait --for=condition=Ready on an already-ready object" 'condition met' \
    kubectl wait --for=condition=Ready gd/sample --timeout=10s
  check_fails "wait --for=condition=Missing times out" 'timed out waiting for the condition' \
    kubectl wait --for=condition=Missing gd/sample --timeout=2s

  f="$DC_TMP/wait-jsonpath.out"
  kubectl wait --for=jsonpath='{.status.phase}'=Done gd/sample --timeout=30s >"$f" 2>&1 &
  wpid=$!
  sleep 0.5
  check_out "set status.phase=Done" 'patched' \
    kubectl patch gd sample --subresource=status --type=merge -p '{"status":{"phase":"Done"}}'
  rc=0
  wait "$wpid" || rc=$?
  if [[ $rc == 0 ]] && grep -q '^gadget.tests.aidi.dev/sample condition met$' "$f"; then
    pass "wait --for=jsonpath={.status.phase}=Done"
  else
    fail "wait --for=jsonpath={.status.phase}=Done" "exit $rc" "$(cat "$f")"
  fi
}

# ---------------------------------------------------------------------------------------------
t_describe_events() {
  local uid
  uid=$(kubectl get gd sample -o 'jsonpath={.metadata.uid}' 2>/dev/null || true)
  if [[ -n $uid ]]; then pass "CR has a uid"; else fail "CR has a uid"; fi
  local now
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  run kubectl create -f - <<EOF
apiVersion: v1
kind: Event
metadata:
  name: sample.e2e-tested
  namespace: default
involvedObject:
  apiVersion: tests.aidi.dev/v1alpha1
  kind: Gadget
  name: sample
  namespace: default
  uid: $uid
reason: Tested
message: hello from the e2e suite
type: Normal
source:
  component: e2e-suite
count: 1
firstTimestamp: "$now"
lastTimestamp: "$now"
EOF
  expect "create a core/v1 Event about the CR" '^event/sample.e2e-tested created$' "$OUT"
  # An event about some other object must not show up.
  run kubectl create -f - <<EOF
apiVersion: v1
kind: Event
metadata:
  name: other.e2e-noise
  namespace: default
involvedObject:
  apiVersion: v1
  kind: ConfigMap
  name: sample
  namespace: default
reason: Noise
message: this event is about a configmap
type: Warning
source:
  component: e2e-suite
count: 1
firstTimestamp: "$now"
lastTimestamp: "$now"
EOF
  check_out "get events lists it" 'Tested' kubectl get events
  check_out "describe gd shows metadata" '^Name: +sample$' kubectl describe gd sample
  local d=$OUT
  expect "describe gd shows the kind" '^Kind: +Gadget$' "$d"
  expect "describe gd shows the spec" 'Size: +3' "$d"
  expect "describe gd has an Events section" '^Events:' "$d"
  expect "describe gd shows the event row" 'Normal +Tested +.*e2e-suite +hello from the e2e suite' "$d"
  expect_not "describe gd does not show events of other objects" 'Noise' "$d"
  check_out "get events --field-selector involvedObject.kind=Gadget" 'Tested' \
    kubectl get events --field-selector involvedObject.kind=Gadget,involvedObject.name=sample
  expect_not "event field selector filters out other kinds" 'Noise' "$OUT"
}

# ---------------------------------------------------------------------------------------------
t_explain() {
  check_out "explain gadget.spec shows the CRD's description" 'GadgetSpec is what the user asks for\.' \
    kubectl explain gadget.spec
  local e=$OUT
  expect "explain gadget.spec shows the kind" 'KIND: +Gadget' "$e"
  expect "explain gadget.spec lists the size field as required" 'size.*<integer>.*-required-' "$e"
  expect "explain gadget.spec shows field descriptions" 'Number of units in the gadget, between 0 and 100\.' "$e"
  expect "explain gadget.spec shows the color description" 'Paint colour of the gadget\.' "$e"
  check_out "explain gadgets shows the top-level description" 'Gadget is a widget the end-to-end tests push around\.' \
    kubectl explain gadgets
  check_out "explain gd.spec.parts (short name, nested)" 'Parts the gadget is built from\.' \
    kubectl explain gd.spec.parts
  check_out "explain configmap.data (built-in)" 'FIELD: +data' kubectl explain configmap.data
}

# ---------------------------------------------------------------------------------------------
t_delete() {
  run kubectl apply -f - <<'EOF'
apiVersion: tests.aidi.dev/v1alpha1
kind: Gadget
metadata:
  name: held
  finalizers:
  - tests.aidi.dev/hold
spec:
  size: 1
  color: green
EOF
  expect "create a gadget with a finalizer" '^gadget.tests.aidi.dev/held created$' "$OUT"
  local f="$DC_TMP/delete-held.out"
  kubectl delete gd held --timeout=60s >"$f" 2>&1 &
  local dpid=$!
  if poll 20 bash -c '[[ -n $(kubectl get gd held -o "jsonpath={.metadata.deletionTimestamp}") ]]'; then
    pass "delete sets deletionTimestamp on an object with a finalizer"
  else
    fail "delete sets deletionTimestamp on an object with a finalizer" "$(kubectl get gd held -o yaml 2>&1)"
  fi
  check_out "object with a finalizer is still readable while terminating" '^held$' \
    kubectl get gd held -o 'jsonpath={.metadata.name}'
  if kill -0 "$dpid" 2>/dev/null; then
    pass "kubectl delete (--wait) blocks while the finalizer is present"
  else
    fail "kubectl delete (--wait) blocks while the finalizer is present" "$(cat "$f")"
  fi
  # Another process releases the finalizer.
  check_out "release the finalizer with a patch" '^gadget.tests.aidi.dev/held patched$' \
    kubectl patch gd held --type=merge -p '{"metadata":{"finalizers":null}}'
  local rc=0
  wait "$dpid" || rc=$?
  if [[ $rc == 0 ]] && grep -q '^gadget.tests.aidi.dev "held" deleted' "$f"; then
    pass "kubectl delete --wait returns once the finalizer is released"
  else
    fail "kubectl delete --wait returns once the finalizer is released" "exit $rc" "$(cat "$f")"
  fi
  check_fails "the released object is gone" \
    '^Error from server \(NotFound\): gadgets\.tests\.aidi\.dev "held" not found$' kubectl get gd held

  run kubectl apply -f - <<<'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"doomed"},"data":{"a":"b"}}'
  check_out "delete --wait of a plain object" '^configmap "doomed" deleted' kubectl delete configmap doomed --wait
  check_fails "deleted configmap is NotFound" '\(NotFound\): configmaps "doomed" not found' kubectl get cm doomed
  check_fails "delete of a missing object is NotFound" \
    '^Error from server \(NotFound\): configmaps "doomed" not found$' kubectl delete cm doomed
  check_out "delete --ignore-not-found of a missing object" '^$' kubectl delete cm doomed --ignore-not-found
}

# ---------------------------------------------------------------------------------------------
t_chunking() {
  local docs="" i
  for i in 1 2 3 4 5 6 7; do
    docs+="---
apiVersion: v1
kind: ConfigMap
metadata:
  name: chunk-$i
  labels:
    set: chunk
data:
  i: \"$i\"
"
  done
  run kubectl create -f - <<<"$docs"
  expect "create 7 configmaps from one multi-document stream" 'configmap/chunk-7 created' "$OUT"
  for i in 1 2 3 4 5; do
    docs="apiVersion: tests.aidi.dev/v1alpha1
kind: Gadget
metadata:
  name: bulk-$i
  labels:
    set: chunk
spec:
  size: $i
  color: green
"
    run kubectl create -f - <<<"$docs"
  done
  run dc_curl /devcluster/requests -X DELETE
  check_out "get cm --chunk-size=2 returns all 7" 'chunk-7' \
    kubectl get configmaps -l set=chunk --chunk-size=2 -o name
  local n
  n=$(grep -c '^configmap/chunk-' <<<"$OUT" || true)
  expect_eq "get cm --chunk-size=2 returns exactly 7 names" 7 "$n"
  run dc_curl /devcluster/requests
  local lists
  lists=$(jq -r '[.counts | to_entries[] | select(.key | test("^list configmaps")) | .value] | add // 0' <<<"$OUT" 2>/dev/null || echo 0)
  if ((lists >= 4)); then
    pass "kubectl really paged: $lists list requests for 7 objects at chunk size 2"
  else
    fail "kubectl really paged (want >= 4 list configmaps requests)" "request counts: $OUT"
  fi
  check_out "get gd --chunk-size=2 (table) returns all 5 bulk gadgets" 'bulk-5' \
    kubectl get gd -l set=chunk --chunk-size=2
  local rows headers
  rows=$(grep -c '^bulk-' <<<"$OUT" || true)
  headers=$(grep -c '^NAME ' <<<"$OUT" || true)
  expect_eq "chunked table has 5 rows" 5 "$rows"
  expect_eq "chunked table prints its header once" 1 "$headers"
  check_out "get gd --chunk-size=1 -o json returns a List of all" '"bulk-5"' \
    kubectl get gd -l set=chunk --chunk-size=1 -o json
  n=$(jq '.items | length' <<<"$OUT" 2>/dev/null || echo -1)
  expect_eq "chunked -o json has 5 items" 5 "$n"
  check_out "delete by label selector" 'deleted' kubectl delete gd -l set=chunk
  check_out "label-selected gadgets are gone" 'No resources found' kubectl get gd -l set=chunk
}

# ---------------------------------------------------------------------------------------------
t_pods_and_logs() {
  check_out "kubectl run creates a pod" '^pod/logpod created$' \
    kubectl run logpod --image=busybox:1.36 --restart=Never -- echo hi
  check_out "get pods -A shows the NAMESPACE column" '^NAMESPACE +NAME +READY +STATUS +RESTARTS +AGE$' \
    kubectl get pods -A
  expect "get pods -A shows the pod" '^default +logpod +[0-9]+/1 ' "$OUT"
  check_out "get pods --all-namespaces -o wide" '^NAMESPACE +NAME +READY +STATUS +RESTARTS +AGE +IP +NODE ' \
    kubectl get pods --all-namespaces -o wide
  run kubectl logs logpod
  if [[ $RC == 0 ]]; then pass "kubectl logs answers (exit 0)"; else fail "kubectl logs answers (exit 0)" "$OUT"; fi
  check "kubectl logs --tail=10 answers" kubectl logs logpod --tail=10
  check "kubectl logs -c <container> answers" kubectl logs logpod -c logpod
  check_fails "kubectl logs of a missing pod is NotFound" 'pods "ghost" not found' kubectl logs ghost
  check_out "delete pod" '^pod "logpod" deleted' kubectl delete pod logpod
}

# ---------------------------------------------------------------------------------------------
t_validation() {
  check_fails "apply of an invalid CR is rejected as Invalid" 'is invalid' kubectl apply -f "$FIX/gadget-invalid.yaml"
  local o=$OUT
  expect "422 names spec.size (minimum)" 'spec\.size: Invalid value: -1: spec\.size in body should be greater than or equal to 0' "$o"
  expect "422 names spec.color (enum)" 'spec\.color: Unsupported value: "purple": supported values: "red", "green", "blue"' "$o"
  expect_fixed "422 names spec.code (pattern)" "spec.code: Invalid value: \"Not Valid!\": spec.code in body should match '^[a-z0-9-]+\$'" "$o"
  expect "422 names spec.parts[0].name (required)" 'spec\.parts\[0\]\.name: Required value' "$o"
  expect "422 is reported the way kubectl reports Invalid" '^The Gadget "broken" is invalid: ?$' "$o"
  check_fails "the invalid CR was not stored" 'NotFound' kubectl get gd broken

  check_fails "apply of an unknown field is rejected (strict field validation)" \
    'strict decoding error: unknown field "spec\.foo"' kubectl apply -f "$FIX/gadget-unknown-field.yaml"
  check_fails "the CR with an unknown field was not stored" 'NotFound' kubectl get gd stranger
  run kubectl apply -f - <<'EOF'
apiVersion: tests.aidi.dev/v1alpha1
kind: Gadget
metadata:
  name: sample
  labels:
    tier: gold
spec:
  size: 3
  color: red
  code: gd-001
  foo: bar
EOF
  if [[ $RC != 0 ]] && grep -q 'strict decoding error: unknown field "spec.foo"' <<<"$OUT"; then
    pass "apply (patch path) of an unknown field is rejected"
  else
    fail "apply (patch path) of an unknown field is rejected" "exit $RC, output:" "$OUT"
  fi
  run kubectl apply -f - <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: strict-cm
data:
  a: b
bogus: true
EOF
  if [[ $RC != 0 ]] && grep -q 'strict decoding error: unknown field "bogus"' <<<"$OUT"; then
    pass "apply of a ConfigMap with an unknown top-level field is rejected"
  else
    fail "apply of a ConfigMap with an unknown top-level field is rejected" "exit $RC, output:" "$OUT"
  fi
  run kubectl apply -f - <<<'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"},"data":{"a":"b"}}'
  # (kubectl prints a single cause on the same line, several as "* field: message" lines.)
  if [[ $RC != 0 ]] && grep -q '^The ConfigMap "Bad_Name" is invalid: ' <<<"$OUT" &&
    grep -q 'metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of' <<<"$OUT"; then
    pass "a ConfigMap with an invalid name is Invalid (metadata.name)"
  else
    fail "a ConfigMap with an invalid name is Invalid (metadata.name)" "exit $RC, output:" "$OUT"
  fi
}

# ---------------------------------------------------------------------------------------------
# ensure_ns NAME: make sure namespace NAME exists even when `kubectl create namespace` failed, so
# the checks after it still test what they are about.
ensure_ns() {
  kubectl get namespace "$1" >/dev/null 2>&1 ||
    kubectl apply -f - <<<"{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$1\"}}" >/dev/null 2>&1 || true
}

t_namespaces() {
  # kubectl create <namespace|configmap|secret|deployment...> uses typed clients, which send
  # protobuf (application/vnd.kubernetes.protobuf) for built-in kinds.
  check_out "create namespace" '^namespace/e2e-ns created$' kubectl create namespace e2e-ns
  ensure_ns e2e-ns
  check_out "create configmap --from-literal in it" '^configmap/inner created$' \
    kubectl create configmap inner -n e2e-ns --from-literal=a=b
  kubectl get cm inner -n e2e-ns >/dev/null 2>&1 ||
    kubectl apply -n e2e-ns -f - <<<'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"inner"},"data":{"a":"b"}}' >/dev/null 2>&1 || true
  check_out "create secret generic" '^secret/s1 created$' kubectl create secret generic s1 -n e2e-ns --from-literal=k=v
  check_out "create deployment" '^deployment.apps/d1 created$' kubectl create deployment d1 -n e2e-ns --image=nginx:1.27
  check_out "get -n e2e-ns lists it" '^inner ' kubectl get cm -n e2e-ns
  check_out "get pods -A still works" '' kubectl get pods -A
  check_fails "create namespace twice is AlreadyExists" \
    '^Error from server \(AlreadyExists\): namespaces "e2e-ns" already exists$' kubectl create namespace e2e-ns
  check_out "delete namespace (waits until gone)" '^namespace "e2e-ns" deleted$' \
    kubectl delete namespace e2e-ns --timeout=60s
  check_fails "deleted namespace is NotFound" '^Error from server \(NotFound\): namespaces "e2e-ns" not found$' \
    kubectl get namespace e2e-ns
  check_out "objects of the deleted namespace are gone" 'No resources found in e2e-ns namespace' \
    kubectl get cm -n e2e-ns
  run kubectl apply -n e2e-ns -f - <<<'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"late"}}'
  if [[ $RC != 0 ]] && grep -q 'namespaces "e2e-ns" not found' <<<"$OUT"; then
    pass "create in a missing namespace is NotFound"
  else
    fail "create in a missing namespace is NotFound" "exit $RC, output:" "$OUT"
  fi

  # A namespace whose content has a finalizer stays Terminating and refuses new content.
  check_out "create namespace e2e-term" 'created' kubectl create namespace e2e-term
  ensure_ns e2e-term
  run kubectl apply -n e2e-term -f - <<'EOF'
apiVersion: tests.aidi.dev/v1alpha1
kind: Gadget
metadata:
  name: sticky
  finalizers: [tests.aidi.dev/hold]
spec:
  size: 1
  color: red
EOF
  expect "create a held gadget in it" 'created' "$OUT"
  check_out "delete namespace --wait=false" '^namespace "e2e-term" deleted$' kubectl delete ns e2e-term --wait=false
  if poll 20 bash -c 'kubectl get ns e2e-term --no-headers | grep -q Terminating'; then
    pass "namespace with held content shows Terminating"
  else
    fail "namespace with held content shows Terminating" "$(kubectl get ns e2e-term -o yaml 2>&1)"
  fi
  run kubectl apply -n e2e-term -f - <<<'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"late"}}'
  if [[ $RC != 0 ]] && grep -q 'Forbidden.*unable to create new content in namespace e2e-term because it is being terminated' <<<"$OUT"; then
    pass "create in a terminating namespace is Forbidden"
  else
    fail "create in a terminating namespace is Forbidden" "exit $RC, output:" "$OUT"
  fi
  run kubectl patch gd sticky -n e2e-term --type=merge -p '{"metadata":{"finalizers":null}}'
  if poll 30 bash -c '! kubectl get ns e2e-term >/dev/null 2>&1'; then
    pass "namespace disappears once its content's finalizer is released"
  else
    fail "namespace disappears once its content's finalizer is released" "$(kubectl get ns e2e-term -o yaml 2>&1)"
  fi
}

# ---------------------------------------------------------------------------------------------
t_app_apply() {
  check_out "apply Deployment + Service + ConfigMap" '^deployment.apps/web created$' kubectl apply -f "$FIX/app.yaml"
  local o=$OUT
  expect "apply created the configmap" '^configmap/web-config created$' "$o"
  expect "apply created the service" '^service/web created$' "$o"
  check_out "re-apply: deployment unchanged" '^deployment.apps/web unchanged$' kubectl apply -f "$FIX/app.yaml"
  o=$OUT
  expect "re-apply: configmap unchanged" '^configmap/web-config unchanged$' "$o"
  expect "re-apply: service unchanged" '^service/web unchanged$' "$o"
  check_out "get deploy shows the deployment table" '^NAME +READY +UP-TO-DATE +AVAILABLE +AGE$' kubectl get deploy
  expect "get deploy row" '^web +[0-9]+/2 ' "$OUT"
  check_out "get svc shows a ClusterIP" '^web +ClusterIP +[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+ +<none> +80/TCP ' kubectl get svc web
  check_out "get cm web-config" '^web-config +2 ' kubectl get cm web-config

  # Change one env var and re-apply: a strategic merge patch of that one list element.
  local changed="$DC_TMP/app-changed.yaml"
  sed -e 's/value: info/value: debug/' "$FIX/app.yaml" >"$changed"
  check_out "apply with a changed env var configures the deployment" '^deployment.apps/web configured$' \
    kubectl apply -f "$changed"
  o=$OUT
  expect "apply of the changed file leaves the configmap unchanged" '^configmap/web-config unchanged$' "$o"
  expect "apply of the changed file leaves the service unchanged" '^service/web unchanged$' "$o"
  check_out "re-apply of the changed file is unchanged" '^deployment.apps/web unchanged$' kubectl apply -f "$changed"
  run kubectl get deployment web -o json
  local env
  env=$(jq -c '[.spec.template.spec.containers[0].env[] | {(.name): .value}] | add' <<<"$OUT" 2>/dev/null || echo "$OUT")
  expect_eq "env after the changed apply" '{"GREETING":"hello","LOG_LEVEL":"debug"}' "$env"
  check_out "generation bumped by the spec change" '^2$' \
    kubectl get deployment web -o 'jsonpath={.metadata.generation}'

  # Another actor adds an env var; apply must merge env by name (strategic merge patch), not
  # replace the list.
  check_out "kubectl set env adds EXTRA" 'env updated' kubectl set env deployment/web EXTRA=kept
  local changed2="$DC_TMP/app-changed2.yaml"
  sed -e 's/value: hello/value: bonjour/' "$changed" >"$changed2"
  check_out "apply changing GREETING configures the deployment" '^deployment.apps/web configured$' \
    kubectl apply -f "$changed2"
  run kubectl get deployment web -o json
  env=$(jq -c '[.spec.template.spec.containers[0].env[] | {(.name): .value}] | add' <<<"$OUT" 2>/dev/null || echo "$OUT")
  expect_eq "env after SMP apply: changed, kept, and the other actor's var retained" \
    '{"GREETING":"bonjour","LOG_LEVEL":"debug","EXTRA":"kept"}' "$env"
  local ncont
  ncont=$(jq '.spec.template.spec.containers | length' <<<"$OUT" 2>/dev/null || echo -1)
  expect_eq "still exactly one container" 1 "$ncont"
  # The other actor's EXTRA makes kubectl send a $setElementOrder-only patch from now on
  # (so it says "configured", as upstream); the server must treat it as a no-op.
  local rv_before rv_after
  rv_before=$(kubectl get deployment web -o 'jsonpath={.metadata.resourceVersion}' 2>/dev/null || true)
  run kubectl apply -f "$changed2"
  rv_after=$(kubectl get deployment web -o 'jsonpath={.metadata.resourceVersion}' 2>/dev/null || true)
  expect_eq "re-apply (order-only patch) does not write: resourceVersion unchanged" "$rv_before" "$rv_after"
  check_out "kubectl scale uses the scale subresource" '^deployment.apps/web scaled$' \
    kubectl scale deployment web --replicas=3
  check_out "scale took effect" '^3$' kubectl get deployment web -o 'jsonpath={.spec.replicas}'
  check_out "kubectl label" '^deployment.apps/web labeled$' kubectl label deployment web team=e2e
  check_out "kubectl annotate" '^deployment.apps/web annotated$' kubectl annotate deployment web note=hi
  check_out "delete -f the app" '^deployment.apps "web" deleted' kubectl delete -f "$FIX/app.yaml"
}

# ---------------------------------------------------------------------------------------------
# Everyday kubectl flows beyond the issue's list: server dry-run, diff, server-side apply, get all.
t_extras() {
  run kubectl apply --dry-run=server -f - <<<'{"apiVersion":"tests.aidi.dev/v1alpha1","kind":"Gadget","metadata":{"name":"dry"},"spec":{"size":1,"color":"red"}}'
  expect "apply --dry-run=server" '^gadget.tests.aidi.dev/dry created \(server dry run\)$' "$OUT"
  check_fails "a server dry-run does not persist" 'NotFound' kubectl get gd dry
  run kubectl apply -f "$FIX/gadget-sample.yaml"
  check_out "kubectl diff of an unchanged manifest is empty (exit 0)" '^$' kubectl diff -f "$FIX/gadget-sample.yaml"
  run kubectl diff -f - < <(sed 's/size: 3/size: 5/' "$FIX/gadget-sample.yaml")
  if [[ $RC == 1 ]] && grep -q '^-  size: 3$' <<<"$OUT" && grep -q '^+  size: 5$' <<<"$OUT"; then
    pass "kubectl diff of a changed manifest shows the change (exit 1)"
  else
    fail "kubectl diff of a changed manifest shows the change (exit 1)" "exit $RC, output:" "$OUT"
  fi
  check_out "the diff's dry-run did not change the object" '^3$' kubectl get gd sample -o 'jsonpath={.spec.size}'

  local ssa="$DC_TMP/ssa.yaml"
  printf 'apiVersion: tests.aidi.dev/v1alpha1\nkind: Gadget\nmetadata:\n  name: ssa\nspec:\n  size: 2\n  color: red\n' >"$ssa"
  check_out "apply --server-side creates a new object" '^gadget.tests.aidi.dev/ssa serverside-applied$' \
    kubectl apply --server-side -f "$ssa"
  check_out "apply --server-side of a new ConfigMap" '^configmap/ssa-cm serverside-applied$' \
    kubectl apply --server-side -f - <<<'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ssa-cm"},"data":{"a":"b"}}'
  kubectl get gd ssa >/dev/null 2>&1 || run kubectl apply -f "$ssa"
  check_out "apply --server-side updates an existing object" '^gadget.tests.aidi.dev/ssa serverside-applied$' \
    kubectl apply --server-side -f - < <(sed 's/size: 2/size: 4/' "$ssa")
  check_out "server-side apply took effect" '^4$' kubectl get gd ssa -o 'jsonpath={.spec.size}'
  run kubectl get gd ssa -o json --show-managed-fields
  local managers
  managers=$(jq -r '[.metadata.managedFields[]? | "\(.manager)/\(.operation)"] | join(",")' <<<"$OUT" 2>/dev/null || true)
  expect "server-side apply records managedFields (kubectl/Apply)" '(^|,)kubectl/Apply(,|$)' "$managers"
  run kubectl patch gd ssa --type=merge -p '{"spec":{"size":7}}'
  run kubectl apply --server-side -f - < <(sed 's/size: 2/size: 4/' "$ssa")
  if [[ $RC != 0 ]] && grep -q 'Apply failed with 1 conflict: conflict with "kubectl-patch"' <<<"$OUT" && grep -q '\.spec\.size' <<<"$OUT"; then
    pass "server-side apply conflicts on a field another manager changed"
  else
    fail "server-side apply conflicts on a field another manager changed" "exit $RC, output:" "$OUT"
  fi
  check_out "apply --server-side --force-conflicts takes the field" 'serverside-applied' \
    kubectl apply --server-side --force-conflicts -f - < <(sed 's/size: 2/size: 4/' "$ssa")
  check_out "kubectl get all" '' kubectl get all
}

# ---------------------------------------------------------------------------------------------
# ---------------------------------------------------------------------------------------------
t_auth_reviews() {
  check_out "auth can-i (SelfSubjectAccessReview, sent as protobuf)" '^yes$' kubectl auth can-i create pods
  check_out "auth whoami (SelfSubjectReview)" 'aidi-devcluster-admin' kubectl auth whoami
}

t_wrong_token() {
  local bad="$DC_TMP/bad-kubeconfig"
  sed -E 's/^( *token: ).*/\1not-the-right-token/' "$(dc_var KUBECONFIG main)" >"$bad"
  mkdir -p "$DC_TMP/bad-cache"
  run env KUBECONFIG="$bad" KUBECACHEDIR="$DC_TMP/bad-cache" kubectl get pods
  # kubectl v1.32 reports the 401 of its discovery request; both spellings are upstream behaviour.
  if [[ $RC != 0 ]] && grep -Eq '^error: You must be logged in to the server \((Unauthorized|the server has asked for the client to provide credentials)\)$' <<<"$OUT"; then
    pass "wrong token: You must be logged in to the server"
  else
    fail "wrong token: You must be logged in to the server" "exit $RC, output:" "$OUT"
  fi
  run env KUBECONFIG="$bad" KUBECACHEDIR="$DC_TMP/bad-cache" kubectl get --raw /api/v1/namespaces
  if [[ $RC != 0 ]] && grep -Eq 'Unauthorized|provide credentials' <<<"$OUT"; then
    pass "wrong token: get --raw is Unauthorized"
  else
    fail "wrong token: get --raw is Unauthorized" "exit $RC, output:" "$OUT"
  fi
}

# ---------------------------------------------------------------------------------------------
# Explicit --tls: kubectl works with the generated CA. --plain-http: documented as curl-only
# (kubectl sends no credentials over http), so only the server side is checked here.
t_other_modes() {
  if ! dc_start tls --tls; then
    fail "--tls: devcluster starts"
    return
  fi
  pass "--tls: devcluster starts"
  local saved=$DC_CURRENT
  dc_use tls
  expect "--tls: kubeconfig points at https" '^https://127\.0\.0\.1:[0-9]+$' "$(dc_var SERVER tls)"
  check_out "--tls: get --raw /version" '"gitVersion"' kubectl get --raw /version
  check_out "--tls: get namespaces" '^default +Active' kubectl get namespaces
  check_out "--tls: apply the CRD" 'created' kubectl apply -f "$FIX/gadget-crd.yaml"
  check_out "--tls: wait for Established" 'condition met' \
    kubectl wait --for=condition=Established crd/gadgets.tests.aidi.dev --timeout=30s
  check_out "--tls: apply a CR" '^gadget.tests.aidi.dev/sample created$' kubectl apply -f "$FIX/gadget-sample.yaml"
  check_out "--tls: get gd" '^sample +3 +red' kubectl get gd
  local f="$DC_TMP/tls-watch.out"
  timeout 30 kubectl get gd -w >"$f" 2>&1 &
  local wpid=$!
  wait_file "$wpid" 15 "$f" '^sample' || true
  run kubectl patch gd sample --type=merge -p '{"spec":{"size":4}}'
  if wait_file "$wpid" 15 "$f" '^sample +4 +red'; then pass "--tls: get -w streams changes"; else fail "--tls: get -w streams changes" "$(cat "$f")"; fi
  kill "$wpid" 2>/dev/null || true
  wait "$wpid" 2>/dev/null || true
  dc_stop tls
  expect_eq "--tls: devcluster exits 0 on SIGTERM" 0 "$DC_EXIT"

  if "$DC_BIN" --help 2>&1 | grep -q -- '--plain-http'; then
    if dc_start plain --plain-http; then
      pass "--plain-http: devcluster starts"
      dc_use plain
      expect "--plain-http: kubeconfig points at http" '^http://127\.0\.0\.1:[0-9]+$' "$(dc_var SERVER plain)"
      check_out "--plain-http: curl with the token is served" '"gitVersion"' dc_curl /version --fail
      run curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "$(dc_var SERVER plain)/api/v1/namespaces"
      expect_eq "--plain-http: no token is 401" 401 "$OUT"
      dc_stop plain
      expect_eq "--plain-http: devcluster exits 0 on SIGTERM" 0 "$DC_EXIT"
    else
      fail "--plain-http: devcluster starts"
    fi
  fi
  dc_use "$saved"
}

t_basics
t_crd
t_printer_columns
t_get_watch
t_status_and_wait
t_describe_events
t_explain
t_delete
t_chunking
t_pods_and_logs
t_validation
t_namespaces
t_app_apply
t_extras
t_auth_reviews
t_wrong_token
t_other_modes

dc_stop main
expect_eq "devcluster exits 0 on SIGTERM" 0 "$DC_EXIT"
dc_finish
