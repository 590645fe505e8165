#!/usr/bin/env bash
# The aidi CRDs (crds/) and the manifests in examples/, driven by the installed kubectl (v1.32)
# against aidi-devcluster as a user would: install, apply the examples, printer columns, the
# `aidi` category, explain, schema validation (every rejection names its field), the status
# subresource and `kubectl wait --for=condition=Complete|Failed`. Plus static checks: yamllint
# and tests/crds/schema_lint.py (structural schema, a description on every field).
# Every check prints PASS or FAIL; the script exits non-zero on any FAIL and 77 (skipped) when
# kubectl is not installed.
#
#   tests/crds/crds_test.sh [path/to/aidi-devcluster]
#
# DC_KEEP_TMP=1 keeps the temp dir (devcluster log, kubeconfig) for a post-mortem.
#
# CEL rules (x-kubernetes-validations) in the CRDs are stored but not evaluated by devcluster,
# so this suite checks only what the OpenAPI schema enforces; crds/README.md lists both.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v kubectl >/dev/null 2>&1; then
  echo "SKIP: kubectl is not installed"
  exit 77
fi

# shellcheck source-path=SCRIPTDIR source=../devcluster/harness.sh
source tests/devcluster/harness.sh
dc_init "${1:-}"
PY=${AIDI_SYSTEM_PYTHON:-/usr/bin/python3}

# ---------------------------------------------------------------------------------------------
t_static() {
  if command -v yamllint >/dev/null 2>&1; then
    check "yamllint --strict crds/ examples/ (repo .yamllint)" yamllint --strict crds examples .yamllint
  else
    echo "SKIP: yamllint is not installed"
  fi
  check "schema_lint: structural schemas, a description on every field, printer column paths" \
    "$PY" tests/crds/schema_lint.py crds/pipelines.aidi.dev.yaml crds/edgesites.aidi.dev.yaml
}

# ---------------------------------------------------------------------------------------------
t_install() {
  check_out "apply -f crds/ creates both CRDs" 'customresourcedefinition.apiextensions.k8s.io/pipelines.aidi.dev created' \
    kubectl apply -f crds/
  expect "apply -f crds/ creates edgesites.aidi.dev" 'edgesites.aidi.dev created' "$OUT"
  check_out "CRDs become Established" 'pipelines.aidi.dev condition met' \
    kubectl wait --for=condition=Established crd/pipelines.aidi.dev crd/edgesites.aidi.dev --timeout=30s
  expect "edgesites.aidi.dev is Established" 'edgesites.aidi.dev condition met' "$OUT"
  check_out "re-apply of crds/ is unchanged" 'pipelines.aidi.dev unchanged' kubectl apply -f crds/
  expect "re-apply leaves edgesites.aidi.dev unchanged" 'edgesites.aidi.dev unchanged' "$OUT"
  check_out "api-resources: pipelines, short name aip, namespaced" \
    '^pipelines +aip +aidi\.dev/v1alpha1 +true +Pipeline$' kubectl api-resources --api-group=aidi.dev
  expect "api-resources: edgesites, short name es, cluster-scoped" \
    '^edgesites +es +aidi\.dev/v1alpha1 +false +EdgeSite$' "$OUT"
  check_out "api-resources -o wide: pipelines are in category aidi" '^pipelines .* aidi *$' \
    kubectl api-resources --api-group=aidi.dev -o wide
  expect "api-resources -o wide: edgesites are in category aidi" '^edgesites .* aidi *$' "$OUT"
  check_out "the stored CRD keeps its CEL rules" 'exactly one of op or image must be set' \
    kubectl get crd pipelines.aidi.dev -o 'jsonpath={..x-kubernetes-validations}'
}

# ---------------------------------------------------------------------------------------------
t_examples() {
  check_out "apply -f examples/ creates the sales-forecast pipeline" '^pipeline.aidi.dev/sales-forecast created$' \
    kubectl apply -f examples/
  local o=$OUT
  expect "apply -f examples/ creates the weather-report pipeline" '^pipeline.aidi.dev/weather-report created$' "$o"
  expect "apply -f examples/ creates the edge sites" '^edgesite.aidi.dev/edge-berlin created$' "$o"
  expect "apply -f examples/ creates the workspace PVC" '^persistentvolumeclaim/aidi-workspace created$' "$o"
  # For custom resources kubectl sends a three-way JSON merge patch, in which lists are atomic:
  # the live stages[] items carry schema defaults (placement.mode, retry.backoff), so the patch
  # repeats the list and kubectl says "configured", as it does against kube-apiserver. The write
  # is a no-op: neither resourceVersion nor generation moves.
  local before
  before=$(kubectl get aip sales-forecast -o 'jsonpath={.metadata.resourceVersion}/{.metadata.generation}' 2>&1)
  check_out "re-apply of examples/: edge sites unchanged" '^edgesite.aidi.dev/edge-berlin unchanged$' \
    kubectl apply -f examples/
  check_out "re-apply of examples/ is a no-op write (same resourceVersion and generation)" "^${before}\$" \
    kubectl get aip sales-forecast -o 'jsonpath={.metadata.resourceVersion}/{.metadata.generation}'
  check_out "kubectl diff -f examples/ is empty" '^$' kubectl diff -f examples/

  # Schema defaults.
  check_out "default: spec.suspend=false" '^false$' kubectl get aip sales-forecast -o 'jsonpath={.spec.suspend}'
  run kubectl apply -f - <<'EOF'
apiVersion: aidi.dev/v1alpha1
kind: Pipeline
metadata:
  name: minimal
spec:
  stages:
  - name: only
    op: read_csv
    placement: {}
    retry: {}
EOF
  expect "a minimal pipeline (one op stage) is accepted" '^pipeline.aidi.dev/minimal created$' "$OUT"
  check_out "default: spec.objective=Balanced" '^Balanced$' kubectl get aip minimal -o 'jsonpath={.spec.objective}'
  check_out "default: placement.mode=Auto" '^Auto$' kubectl get aip minimal -o 'jsonpath={.spec.stages[0].placement.mode}'
  check_out "default: retry.limit=0" '^0$' kubectl get aip minimal -o 'jsonpath={.spec.stages[0].retry.limit}'
  check_out "default: retry.backoff = 10s x2 up to 300s" '^10 2 300$' \
    kubectl get aip minimal -o 'jsonpath={.spec.stages[0].retry.backoff.initialSeconds} {.spec.stages[0].retry.backoff.factor} {.spec.stages[0].retry.backoff.maxSeconds}'
  check_out "default: no podGC, parallelism or workspace is invented" '^$' \
    kubectl get aip minimal -o 'jsonpath={.spec.podGC}{.spec.parallelism}{.spec.workspace}'
  check_out "sample params are kept as written (preserve-unknown-fields)" '^store_id sku$' \
    kubectl get aip sales-forecast -o 'jsonpath={.spec.stages[?(@.name=="store-stats")].params.keys[*]}'
  check_out "sample quantities keep their form" '^500m 1Gi$' \
    kubectl get aip sales-forecast -o 'jsonpath={.spec.stages[?(@.name=="clean")].resources.cpu} {.spec.stages[?(@.name=="clean")].resources.memory}'
  check_out "default: EdgeSite currency USD" '^USD$' kubectl get es edge-berlin -o 'jsonpath={.spec.cost.currency}'
  check_out "default: EdgeSite maintenance=false" '^false$' kubectl get es gpu-cloud -o 'jsonpath={.spec.maintenance}'
}

# ---------------------------------------------------------------------------------------------
t_printer_columns() {
  check_out "get aip: NAME PHASE PROGRESS SITES AGE" '^NAME +PHASE +PROGRESS +SITES +AGE$' kubectl get aip
  expect "get aip lists sales-forecast" '^sales-forecast +' "$OUT"
  check_out "get aip -o wide adds MESSAGE" '^NAME +PHASE +PROGRESS +SITES +AGE +MESSAGE$' kubectl get aip -o wide
  check_out "get pipelines.aidi.dev (plural, qualified)" '^weather-report ' kubectl get pipelines.aidi.dev
  check_out "get es: NAME TYPE READY GPUS LATENCY AGE" '^NAME +TYPE +READY +GPUS +LATENCY +AGE$' kubectl get es
  expect "get es shows edge-berlin's type and latency" '^edge-berlin +Edge +.* 18 +[0-9]+[smhd]$' "$OUT"
  expect "get es shows the OnPrem site" '^munich-plant +OnPrem ' "$OUT"
  check_out "get edgesites -A (cluster-scoped: no NAMESPACE column)" '^NAME +TYPE ' kubectl get edgesites -A
  check_out "get aidi (category) lists pipelines" '^pipeline\.aidi\.dev/sales-forecast ' kubectl get aidi
  expect "get aidi (category) lists edge sites" '^edgesite\.aidi\.dev/gpu-cloud ' "$OUT"
  expect "get aidi prints the pipeline columns" '^NAME +PHASE +PROGRESS +SITES +AGE$' "$OUT"
  expect "get aidi prints the edge site columns" '^NAME +TYPE +READY +GPUS +LATENCY +AGE$' "$OUT"
}

# ---------------------------------------------------------------------------------------------
t_explain() {
  check_out "explain pipeline.spec.stages shows its description" 'Stages of the pipeline, at least 1 and at most 1000' \
    kubectl explain pipeline.spec.stages
  local e=$OUT
  expect "explain pipeline.spec.stages lists name as required" 'name.*<string>.*-required-' "$e"
  expect "explain pipeline.spec.stages describes dependsOn" 'Names of the stages that must succeed before this' "$e"
  check_out "explain aip.spec.stages.placement.mode shows the enum" 'Auto.*Cloud|"Auto"' \
    kubectl explain aip.spec.stages.placement.mode
  check_out "explain aip.status.conditions mentions kubectl wait" 'kubectl wait' kubectl explain aip.status.conditions
  check_out "explain es.spec.link describes latencyMs" 'Round-trip latency in milliseconds' kubectl explain es.spec.link
  check_out "explain edgesite shows the kind's description" 'EdgeSite is a place stages can run' kubectl explain edgesite
}

# ---------------------------------------------------------------------------------------------
# reject NAME REGEX YAML: applying YAML (a Pipeline or EdgeSite) fails with output matching REGEX,
# and nothing is stored under its name.
reject() {
  local name=$1 re=$2 doc=$3
  run kubectl apply -f - <<<"$doc"
  if [[ $RC != 0 ]] && grep -Eq -- "$re" <<<"$OUT"; then
    pass "rejected: $name"
  else
    fail "rejected: $name" "expected a non-zero exit and output matching: $re" "got exit $RC, output:" "$OUT"
  fi
}

# pipeline STAGE_YAML [SPEC_YAML]: a Pipeline named `bad` with one stage (indented as a list item
# under spec.stages) and optional extra spec fields.
pipeline() {
  printf 'apiVersion: aidi.dev/v1alpha1\nkind: Pipeline\nmetadata:\n  name: bad\nspec:\n%s  stages:\n%s\n' "${2:-}" "$1"
}

# edgesite SPEC_YAML: an EdgeSite named `bad-site`.
edgesite() {
  printf 'apiVersion: aidi.dev/v1alpha1\nkind: EdgeSite\nmetadata:\n  name: bad-site\nspec:\n%s\n' "$1"
}

t_validation() {
  local ok='  - name: a
    op: read_csv'
  reject "uppercase stage name" \
    "spec\.stages\[0\]\.name: Invalid value: \"Read\": spec\.stages\[0\]\.name in body should match '\^\[a-z0-9\]" \
    "$(pipeline '  - name: Read
    op: read_csv')"
  expect "the rejection is reported as Invalid" '^The Pipeline "bad" is invalid' "$OUT"
  reject "stage name longer than 63" 'spec\.stages\[0\]\.name: Too long' \
    "$(pipeline "  - name: $(printf 'a%.0s' {1..64})
    op: read_csv")"
  reject "duplicate stage names" 'spec\.stages\[1\]: Duplicate value' "$(pipeline "$ok
$ok")"
  reject "missing stage name" 'spec\.stages\[0\]\.name: Required value' "$(pipeline '  - op: read_csv')"
  reject "unknown placement mode" \
    'spec\.stages\[0\]\.placement\.mode: Unsupported value: "Anywhere": supported values: "Auto", "Cloud", "Edge", "Sites"' \
    "$(pipeline "$ok
    placement: {mode: Anywhere}")"
  reject "negative retry limit" \
    'spec\.stages\[0\]\.retry\.limit: Invalid value: -1: spec\.stages\[0\]\.retry\.limit in body should be greater than or equal to 0' \
    "$(pipeline "$ok
    retry: {limit: -1}")"
  reject "retry limit over 100" 'spec\.stages\[0\]\.retry\.limit: Invalid value: 101: .*less than or equal to 100' \
    "$(pipeline "$ok
    retry: {limit: 101}")"
  reject "backoff factor below 1" 'spec\.stages\[0\]\.retry\.backoff\.factor: Invalid value: 0\.5' \
    "$(pipeline "$ok
    retry: {backoff: {factor: 0.5}}")"
  reject "both op and image" '"spec\.stages\[0\]" must validate one and only one schema \(oneOf\)\. Found 2 valid alternatives' \
    "$(pipeline "$ok
    image: busybox:1.36")"
  reject "neither op nor image" '"spec\.stages\[0\]" must validate one and only one schema \(oneOf\)\. Found none valid' \
    "$(pipeline '  - name: a')"
  reject "an input with both stage and uri" '"spec\.stages\[0\]\.inputs\[0\]" must validate one and only one schema' \
    "$(pipeline "$ok
    inputs: [{stage: b, uri: 's3://x/y'}]")"
  reject "an input uri without a scheme" 'spec\.stages\[0\]\.inputs\[0\]\.uri: Invalid value: "data/x\.csv"' \
    "$(pipeline "$ok
    inputs: [{uri: data/x.csv}]")"
  reject "negative input bytes" 'spec\.stages\[0\]\.inputs\[0\]\.bytes: Invalid value: -1' \
    "$(pipeline "$ok
    inputs: [{uri: 's3://x/y', bytes: -1}]")"
  reject "bad dependsOn item" 'spec\.stages\[0\]\.dependsOn\[0\]: Invalid value: "Load_Data"' \
    "$(pipeline "$ok
    dependsOn: [Load_Data]")"
  reject "duplicate dependsOn items" 'spec\.stages\[0\]\.dependsOn\[1\]: Duplicate value: "b"' \
    "$(pipeline "$ok
    dependsOn: [b, b]")"
  reject "bad cpu quantity" 'spec\.stages\[0\]\.resources\.cpu: Invalid value: "lots"' \
    "$(pipeline "$ok
    resources: {cpu: lots}")"
  reject "negative gpu count" 'spec\.stages\[0\]\.resources\.gpu\.count: Invalid value: -1' \
    "$(pipeline "$ok
    resources: {gpu: {count: -1}}")"
  reject "duplicate env names" 'spec\.stages\[0\]\.env\[1\]: Duplicate value' \
    "$(pipeline '  - name: a
    image: busybox:1.36
    env: [{name: A, value: "1"}, {name: A, value: "2"}]')"
  reject "unknown objective" 'spec\.objective: Unsupported value: "Cheapest": supported values: "MinCost", "MinTime", "Balanced"' \
    "$(pipeline "$ok" '  objective: Cheapest
')"
  reject "parallelism 0" 'spec\.parallelism: Invalid value: 0: spec\.parallelism in body should be greater than or equal to 1' \
    "$(pipeline "$ok" '  parallelism: 0
')"
  reject "unknown podGC strategy" 'spec\.podGC\.strategy: Unsupported value: "Sometimes"' \
    "$(pipeline "$ok" '  podGC: {strategy: Sometimes}
')"
  reject "empty stages" 'spec\.stages: Invalid value: 0: spec\.stages in body should have at least 1 items' \
    'apiVersion: aidi.dev/v1alpha1
kind: Pipeline
metadata: {name: bad}
spec: {stages: []}'
  reject "missing spec.stages" 'spec\.stages: Required value' \
    'apiVersion: aidi.dev/v1alpha1
kind: Pipeline
metadata: {name: bad}
spec: {objective: MinCost}'
  reject "missing spec" 'spec: Required value' \
    'apiVersion: aidi.dev/v1alpha1
kind: Pipeline
metadata: {name: bad}'
  reject "unknown stage field (strict field validation)" 'unknown field "spec\.stages\[0\]\.gpus"' \
    "$(pipeline "$ok
    gpus: 1")"
  check_fails "no invalid pipeline was stored" '"bad" not found' kubectl get aip bad

  reject "EdgeSite without type" 'spec\.type: Required value' "$(edgesite '  link: {latencyMs: 5}')"
  reject "unknown EdgeSite type" 'spec\.type: Unsupported value: "Fog": supported values: "Edge", "Cloud", "OnPrem"' \
    "$(edgesite '  type: Fog')"
  reject "negative latency" 'spec\.link\.latencyMs: Invalid value: -5: spec\.link\.latencyMs in body should be greater than or equal to 0' \
    "$(edgesite '  type: Edge
  link: {latencyMs: -5}')"
  reject "zero bandwidth" 'spec\.link\.bandwidthMbps: Invalid value: 0: spec\.link\.bandwidthMbps in body should be greater than 0' \
    "$(edgesite '  type: Edge
  link: {bandwidthMbps: 0}')"
  reject "negative GPU price" 'spec\.cost\.gpuHour\.NVIDIA-L4: Invalid value: -1' \
    "$(edgesite '  type: Edge
  cost: {gpuHour: {NVIDIA-L4: -1}}')"
  reject "lowercase currency" 'spec\.cost\.currency: Invalid value: "usd"' \
    "$(edgesite '  type: Cloud
  cost: {currency: usd}')"
  reject "unknown selector operator" 'spec\.nodeSelector\.matchExpressions\[0\]\.operator: Unsupported value: "Like"' \
    "$(edgesite '  type: Edge
  nodeSelector: {matchExpressions: [{key: a, operator: Like}]}')"
  check_fails "no invalid edge site was stored" '"bad-site" not found' kubectl get es bad-site
}

# ---------------------------------------------------------------------------------------------
# cond TYPE STATUS REASON: one metav1.Condition as JSON, for generation 1.
cond() {
  printf '{"type":"%s","status":"%s","reason":"%s","message":"set by the crds test","observedGeneration":1,"lastTransitionTime":"2026-01-01T00:00:00Z"}' "$1" "$2" "$3"
}

t_status_and_wait() {
  check_out "status patch (phase, progress, sites, message)" '^pipeline.aidi.dev/sales-forecast patched$' \
    kubectl patch aip sales-forecast --subresource=status --type=merge -p \
    '{"status":{"phase":"Running","progress":"2/5","sitesSummary":"edge-berlin","message":"2 of 5 stages done","observedGeneration":1,"counts":{"total":5,"succeeded":2,"running":1,"pending":2},"stages":[{"name":"read-sales","phase":"Succeeded","attempts":1,"podName":"sales-forecast-read-sales-1","node":"berlin-1","site":"edge-berlin","placement":{"node":"berlin-1","site":"edge-berlin","score":0.91,"estSeconds":40,"estCost":0.01,"transferSeconds":0,"reason":"data is local"}}]}}'
  check_out "get aip shows phase, progress and sites" '^sales-forecast +Running +2/5 +edge-berlin +[0-9]+[smhd]$' \
    kubectl get aip sales-forecast
  check_out "get aip -o wide shows the message" '^sales-forecast +Running +2/5 +edge-berlin +[0-9]+[smhd] +2 of 5 stages done$' \
    kubectl get aip sales-forecast -o wide
  run kubectl patch aip sales-forecast --type=merge -p '{"status":{"phase":"Failed"}}'
  check_out "a main-resource patch does not change status" '^Running$' \
    kubectl get aip sales-forecast -o 'jsonpath={.status.phase}'

  local f="$DC_TMP/wait-complete.out"
  kubectl wait --for=condition=Complete aip/sales-forecast --timeout=30s >"$f" 2>&1 &
  local wpid=$!
  sleep 0.5
  if kill -0 "$wpid" 2>/dev/null; then
    pass "wait --for=condition=Complete blocks while the pipeline runs"
  else
    fail "wait --for=condition=Complete blocks while the pipeline runs" "$(cat "$f")"
  fi
  check_out "status patch: Succeeded with conditions Complete and Succeeded" 'patched' \
    kubectl patch aip sales-forecast --subresource=status --type=merge -p \
    "{\"status\":{\"phase\":\"Succeeded\",\"progress\":\"5/5\",\"conditions\":[$(cond Accepted True Valid),$(cond Complete True Succeeded),$(cond Succeeded True AllStagesSucceeded),$(cond Failed False AllStagesSucceeded)]}}"
  local rc=0
  wait "$wpid" || rc=$?
  if [[ $rc == 0 ]] && grep -q '^pipeline.aidi.dev/sales-forecast condition met$' "$f"; then
    pass "wait --for=condition=Complete returns once Complete=True is set"
  else
    fail "wait --for=condition=Complete returns once Complete=True is set" "exit $rc" "$(cat "$f")"
  fi
  check_out "wait --for=condition=Complete aip/sales-forecast --timeout=5s" 'condition met' \
    kubectl wait --for=condition=Complete aip/sales-forecast --timeout=5s
  check_fails "wait --for=condition=Failed times out on a succeeded pipeline" 'timed out waiting for the condition' \
    kubectl wait --for=condition=Failed aip/sales-forecast --timeout=2s

  check_out "status patch: weather-report Failed" 'patched' \
    kubectl patch aip weather-report --subresource=status --type=merge -p \
    "{\"status\":{\"phase\":\"Failed\",\"progress\":\"1/3\",\"message\":\"stage warm-days failed after 1 attempt\",\"conditions\":[$(cond Complete False StageFailed),$(cond Failed True StageFailed)]}}"
  check_out "wait --for=condition=Failed aip/weather-report --timeout=5s" 'condition met' \
    kubectl wait --for=condition=Failed aip/weather-report --timeout=5s
  check_fails "wait --for=condition=Complete times out on a failed pipeline" 'timed out' \
    kubectl wait --for=condition=Complete aip/weather-report --timeout=2s

  # Status is validated and bounded too.
  check_fails "status: unknown phase is rejected" 'status\.phase: Unsupported value: "Exploded"' \
    kubectl patch aip sales-forecast --subresource=status --type=merge -p '{"status":{"phase":"Exploded"}}'
  check_fails "status: condition status must be True|False|Unknown" \
    'status\.conditions\[0\]\.status: Unsupported value: "Maybe": supported values: "True", "False", "Unknown"' \
    kubectl patch aip sales-forecast --subresource=status --type=merge -p \
    '{"status":{"conditions":[{"type":"Complete","status":"Maybe","reason":"X","message":"","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}'
  check_fails "status: a condition needs reason and lastTransitionTime" 'status\.conditions\[0\]\.reason: Required value' \
    kubectl patch aip sales-forecast --subresource=status --type=merge -p \
    '{"status":{"conditions":[{"type":"Complete","status":"True","message":""}]}}'
  expect "status: the missing lastTransitionTime is named too" 'status\.conditions\[0\]\.lastTransitionTime: Required value' "$OUT"
  local long
  long=$(printf 'x%.0s' {1..1025})
  check_fails "status: message over 1024 characters is rejected" 'status\.message: Too long' \
    kubectl patch aip sales-forecast --subresource=status --type=merge -p "{\"status\":{\"message\":\"$long\"}}"
  local many
  many=$(for i in $(seq 1001); do printf '{"name":"s%d","phase":"Pending"},' "$i"; done)
  check_fails "status: more than 1000 stage entries are rejected" 'status\.stages: Too many: 1001: must have at most 1000 items' \
    kubectl patch aip sales-forecast --subresource=status --type=merge -p "{\"status\":{\"stages\":[${many%,}]}}"
  check_out "the rejected status patches left the status alone" '^Succeeded 5/5$' \
    kubectl get aip sales-forecast -o 'jsonpath={.status.phase} {.status.progress}'

  check_out "EdgeSite status patch" '^edgesite.aidi.dev/gpu-cloud patched$' \
    kubectl patch es gpu-cloud --subresource=status --type=merge -p \
    "{\"status\":{\"phase\":\"Ready\",\"totalNodes\":4,\"readyNodes\":3,\"readySummary\":\"3/4\",\"gpus\":{\"total\":8,\"free\":2,\"byModel\":{\"NVIDIA-H100-80GB-HBM3\":{\"total\":8,\"free\":2}}},\"gpuSummary\":\"2/8 free\",\"conditions\":[$(cond Ready True NodesReady),$(cond CapacityAvailable True GPUsFree)]}}"
  check_out "get es shows READY and GPUS from status" '^gpu-cloud +Cloud +3/4 +2/8 free +1 +[0-9]+[smhd]$' kubectl get es gpu-cloud
  check_out "wait --for=condition=Ready es/gpu-cloud" 'condition met' kubectl wait --for=condition=Ready es/gpu-cloud --timeout=5s
}

# ---------------------------------------------------------------------------------------------
t_uninstall() {
  check_out "delete -f examples/" 'pipeline.aidi.dev "sales-forecast" deleted' kubectl delete -f examples/ --timeout=60s
  run kubectl delete aip minimal
  check_out "delete -f crds/" 'customresourcedefinition.apiextensions.k8s.io "pipelines.aidi.dev" deleted' \
    kubectl delete -f crds/ --timeout=60s
  check_fails "the CRD is gone" 'customresourcedefinitions.apiextensions.k8s.io "pipelines.aidi.dev" not found' \
    kubectl get crd pipelines.aidi.dev
  # (kubectl's cached discovery still maps aip: the list answers 404 until the cache refreshes.)
  check_fails "the kind is no longer served" "doesn't have a resource type|could not find the requested resource" \
    kubectl get aip
}

t_static
dc_start main
dc_use main
echo "devcluster: $(dc_var SERVER main)"
t_install
t_examples
t_printer_columns
t_explain
t_validation
t_status_and_wait
t_uninstall

dc_stop main
expect_eq "devcluster exits 0 on SIGTERM" 0 "$DC_EXIT"
dc_finish
