#!/usr/bin/env bash
# The Helm chart (charts/aidi) checked with the real helm v3.17:
#   - files/crds/ is a byte-identical copy of crds/ (the chart cannot read outside itself);
#   - values.yaml: a comment on every key, starting with the key's name; every define "aidi.";
#     yamllint on Chart.yaml and values.yaml;
#   - `helm lint --strict`, and values.schema.json rejecting a misspelt key and a root uid;
#   - `helm template` with the defaults and with variations (crds.install=false, crds.keep=false,
#     custom images and names, PDBs and Services off), each checked by check_rendered.py (RBAC
#     without wildcards and exactly what the code needs, pod security and resources, the
#     scheduler configuration, CRDs equal to crds/) and validated against the upstream
#     Kubernetes schemas (validate_manifests.mjs, npm kubernetes-models);
#   - NOTES.txt renders and names the next commands;
#   - when BIN_DIR has them, the real aidi-operator and aidi-scheduler-extender accept the
#     flags the chart renders.
#   chart_test.sh [HELM [BIN_DIR]]   (defaults: .tools/helm/helm, build/bin; scripts/bootstrap
#                                     installs the tools)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
HELM=${1:-$ROOT/.tools/helm/helm}
BIN=${2:-$ROOT/build/bin}
CHART=$ROOT/charts/aidi
PY=/usr/bin/python3
MODELS=$ROOT/.tools/kubernetes-models
HERE=$ROOT/tests/chart
NS=aidi-system

[[ -f $HELM && -x $HELM ]] || { echo "chart_test: no helm at $HELM; run scripts/bootstrap" >&2; exit 1; }
[[ -f $MODELS/node_modules/kubernetes-models/package.json ]] ||
  { echo "chart_test: $MODELS is missing; run scripts/bootstrap" >&2; exit 1; }
command -v node >/dev/null || { echo "chart_test: node is missing; run scripts/bootstrap" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }

echo "chart_test: $("$HELM" version --short)"

# 1. The CRD copies never drift from crds/, the single source of truth.
src=$(cd crds && printf '%s\n' ./*.yaml | sort)
copy=$(cd "$CHART/files/crds" && printf '%s\n' ./*.yaml | sort)
if [[ $src != "$copy" ]]; then
  bad "charts/aidi/files/crds/ holds [$copy], crds/ holds [$src]; run: cp crds/*.yaml charts/aidi/files/crds/"
else
  same=1
  for f in crds/*.yaml; do
    cmp -s "$f" "$CHART/files/crds/$(basename "$f")" || { bad "$f differs from its chart copy; run: cp crds/*.yaml charts/aidi/files/crds/"; same=0; }
  done
  ((same)) && ok "charts/aidi/files/crds/ is byte-identical to crds/ ($(echo "$src" | wc -l) files)"
fi

# 2. Conventions (docs/STYLE point 10) and YAML lint.
if $PY "$HERE/check_rendered.py" --values "$CHART/values.yaml"; then ok "every values.yaml key has a comment starting with its name"; else bad "values.yaml comments"; fi
undeclared=$(grep -ho 'define "[^"]*"' "$CHART"/templates/* | grep -v 'define "aidi\.' || true)
if [[ -z $undeclared ]]; then ok "every define is prefixed aidi."; else bad "defines without the aidi. prefix: $undeclared"; fi
if command -v yamllint >/dev/null; then
  if yamllint -s -c .yamllint "$CHART/Chart.yaml" "$CHART/values.yaml"; then ok "yamllint Chart.yaml values.yaml"; else bad "yamllint"; fi
fi
if $PY -c 'import json,sys; json.load(open(sys.argv[1]))' "$CHART/values.schema.json"; then ok "values.schema.json is JSON"; else bad "values.schema.json"; fi

# 3. helm lint --strict, and the schema refusing what it must refuse.
if "$HELM" lint --strict "$CHART" >"$tmp/lint" 2>&1 && ! grep -q '^\[\(WARNING\|ERROR\)\]' "$tmp/lint"; then
  ok "helm lint --strict"
else
  cat "$tmp/lint"; bad "helm lint --strict"
fi
refuse() {  # refuse DESCRIPTION HELM-ARGS...: helm template must fail (values.schema.json)
  local what=$1; shift
  if "$HELM" template t "$CHART" -n $NS "$@" >"$tmp/refused" 2>&1; then
    bad "values.schema.json accepted $what"
  else
    ok "values.schema.json refuses $what ($(grep -o 'Error: .*' "$tmp/refused" | head -c 110))"
  fi
}
refuse "a misspelt key" --set operator.replica=3
refuse "uid 0" --set securityContext.runAsUser=0
refuse "a log level it does not know" --set scheduler.extender.logLevel=verbose
refuse "a memory limit that is not a quantity" --set operator.resources.limits.memory=lots

# 4. Render, check and validate: defaults, then variations.
render() {  # render NAME CHECK-ARGS -- HELM-ARGS...
  local name=$1; shift
  local check=()
  while [[ $1 != -- ]]; do check+=("$1"); shift; done
  shift
  if ! "$HELM" template "$name" "$CHART" -n $NS "$@" >"$tmp/$name.yaml" 2>"$tmp/$name.err"; then
    cat "$tmp/$name.err"; bad "$name: helm template"; return
  fi
  if "$PY" "$HERE/check_rendered.py" "$tmp/$name.yaml" --out "$tmp/$name.json" --crds-dir crds \
      --namespace $NS "${check[@]}"; then
    ok "$name: rendered manifests pass the chart's checks"
  else
    bad "$name: rendered manifests (above)"; return
  fi
  if node "$HERE/validate_manifests.mjs" "$MODELS" "$tmp/$name.json"; then
    ok "$name: valid against the upstream Kubernetes schemas"
  else
    bad "$name: upstream schema validation (above)"
  fi
}
render aidi --crds keep --worker-image aidi/worker:0.1.0 --operator-image aidi/operator:0.1.0 \
  --extender-image aidi/scheduler-extender:0.1.0 --
render custom --crds none --scheduler-name gpu-sched --operator-lease custom-op \
  --operator-image registry.example.com/ml/aidi-operator:1.2.3 \
  --extender-image registry.example.com/ml/aidi-extender:1.2.3 \
  --worker-image registry.example.com/ml/aidi-worker:1.2.3-cuda -- \
  --set crds.install=false --set schedulerName=gpu-sched --set operator.leaseName=custom-op \
  --set operator.image.repository=registry.example.com/ml/aidi-operator --set operator.image.tag=1.2.3 \
  --set scheduler.extender.image.repository=registry.example.com/ml/aidi-extender \
  --set scheduler.extender.image.tag=1.2.3 \
  --set worker.image.repository=registry.example.com/ml/aidi-worker --set worker.image.tag=1.2.3-cuda \
  --set scheduler.kubeScheduler.image.tag=v1.31.6 --set 'imagePullSecrets[0]=regcred' \
  --set operator.watchNamespace=ml --set operator.replicas=1 --set scheduler.replicas=3 \
  --set scheduler.extender.port=9443 --set operator.metricsPort=9090 --set operator.healthPort=9091 \
  --set 'operator.tolerations[0].key=dedicated' --set 'operator.tolerations[0].operator=Exists' \
  --set operator.nodeSelector.role=control --set scheduler.priorityClassName=system-cluster-critical
render plain --crds plain -- --set crds.keep=false --set operator.pdb.enabled=false \
  --set scheduler.pdb.enabled=false --set operator.service.enabled=false \
  --set scheduler.service.enabled=false --set fullnameOverride=ai

# The checks catch what they claim to (a wildcard, a dropped security field, a drifted CRD).
sed 's/verbs: \["list", "watch", "patch", "delete"\]/verbs: ["*"]/' "$tmp/aidi.yaml" >"$tmp/wild.yaml"
sed '0,/readOnlyRootFilesystem: true/s//readOnlyRootFilesystem: false/' "$tmp/aidi.yaml" >"$tmp/rw.yaml"
sed '0,/maxLength: 253/s//maxLength: 254/' "$tmp/aidi.yaml" >"$tmp/drift.yaml"
for broken in wild rw drift; do
  if "$PY" "$HERE/check_rendered.py" "$tmp/$broken.yaml" --crds-dir crds --namespace $NS >"$tmp/$broken.out"; then
    bad "check_rendered.py accepted the $broken manifests"
  else
    ok "check_rendered.py rejects the $broken manifests ($(grep -m1 FAIL "$tmp/$broken.out" | head -c 100))"
  fi
done

# 5. NOTES.txt: helm renders it only on install, so a scratch copy of the chart renders it into a
#    ConfigMap (tpl of the same text, same values).
cp -r "$CHART" "$tmp/notes-chart"
cp "$CHART/templates/NOTES.txt" "$tmp/notes-chart/files/notes.txt"
cat >"$tmp/notes-chart/templates/notes-check.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: notes
data:
  notes: {{ tpl (.Files.Get "files/notes.txt") . | toJson }}
EOF
if "$HELM" template t "$tmp/notes-chart" -n $NS --show-only templates/notes-check.yaml >"$tmp/notes.yaml" 2>&1 &&
  "$PY" - "$tmp/notes.yaml" <<'EOF'
import sys, yaml
notes = yaml.safe_load(open(sys.argv[1]))["data"]["notes"]
for want in ("kubectl apply -f examples/", "kubectl get aip -w", "kubectl get es",
             "rollout status deployment/t-aidi-operator", "aidi/worker:0.1.0"):
    assert want in notes, f"NOTES.txt lacks {want!r}"
assert "{{" not in notes and "<no value>" not in notes, "NOTES.txt has unrendered parts"
EOF
then ok "NOTES.txt renders and tells the next commands"; else cat "$tmp/notes.yaml"; bad "NOTES.txt"; fi

# 6. The binaries accept the flags the chart gives them (when they are built): each must still be
#    running after a second (a flag error exits at once), against an API server that is not there.
flags_ok() {  # flags_ok BINARY CONTAINER-NAME
  local bin=$1 container=$2
  mapfile -t args < <("$PY" - "$tmp/ports.json" "$container" <<'EOF'
import json, sys
objs = json.load(open(sys.argv[1]))
for o in objs:
    if o["kind"] == "Deployment":
        for c in o["spec"]["template"]["spec"]["containers"]:
            if c["name"] == sys.argv[2]:
                print("\n".join(c.get("args", [])))
EOF
  )
  "$bin" "${args[@]}" --kubeconfig "$tmp/kubeconfig" >"$tmp/$container.log" 2>&1 &
  local pid=$!
  sleep 1
  if kill -0 $pid 2>/dev/null; then
    # Not a shutdown test: one whose API server never answered may take a while to stop.
    kill -TERM $pid
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 $pid 2>/dev/null || break; sleep 0.2; done
    kill -KILL $pid 2>/dev/null || true
    wait $pid 2>/dev/null || true
    ok "$(basename "$bin") accepts the chart's flags: ${args[*]}"
  else
    wait $pid 2>/dev/null || true
    cat "$tmp/$container.log"; bad "$(basename "$bin") refused the chart's flags: ${args[*]}"
  fi
}
if [[ -x $BIN/aidi-operator && -x $BIN/aidi-scheduler-extender ]]; then
  mapfile -t ports < <("$PY" -c 'import socket
for _ in range(3):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  cat >"$tmp/kubeconfig" <<'EOF'
apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "http://127.0.0.1:9"}}]
users: [{name: none, user: {}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
EOF
  "$HELM" template t "$CHART" -n $NS --set operator.metricsPort="${ports[0]}" \
    --set operator.healthPort="${ports[1]}" --set scheduler.extender.port="${ports[2]}" \
    --set operator.watchNamespace=ml >"$tmp/ports.yaml"
  "$PY" -c 'import json, sys, yaml; json.dump([d for d in yaml.safe_load_all(open(sys.argv[1])) if d], open(sys.argv[2], "w"))' \
    "$tmp/ports.yaml" "$tmp/ports.json"
  flags_ok "$BIN/aidi-operator" operator
  flags_ok "$BIN/aidi-scheduler-extender" extender
else
  echo "skip: $BIN has no aidi-operator or aidi-scheduler-extender; their flags are not run"
fi

if ((failures)); then
  echo "chart_test: $failures check(s) failed"
  exit 1
fi
echo "chart_test: all checks passed"
