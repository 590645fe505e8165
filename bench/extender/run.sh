#!/usr/bin/env bash
# Runs the aidi-scheduler-extender benchmark and prints its results as markdown; with --write,
# also puts them in docs/benchmarks.md between the extender section's BEGIN/END markers.
#
#   bench/extender/run.sh [--write] [--no-build] [--seconds S] [--pods P]
#
# Starts aidi-devcluster, applies crds/, creates 9 EdgeSites and 6,000 Nodes (5,000 mixed GPU
# nodes gpu-NNNNN over 8 sites, 1,000 8-GPU nodes burst-NNNN) with bench/extender/loadgen, and
# writes the same cluster as a snapshot for the anchor. Starts aidi-scheduler-extender (cache
# fed from devcluster) and the anchor, bench/extender/anchor: a plain Go extender (net/http +
# encoding/json) with the same filter and cost scoring over that snapshot. Then, for N = 100,
# 1,000 and 5,000 candidate nodes, replays filter + prioritize (NodeNames form) against both over
# keep-alive loopback with 1 connection (latency) and 4 (throughput) for S seconds each
# (default 4), plus two more alternating throughput runs at N = 1,000. Finally the burst: P pods
# (default 10,000) of 1 GPU on the 1,000 burst nodes (8,000 GPUs), 16 concurrent workers doing
# filter + prioritize + /bind on the extender (refused pods retried, 4 rounds), and a count
# over the API of GPUs bound per node.
# Needs Debian's golang-go (scripts/bootstrap does not install it; `apt-get install golang-go`).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

WRITE=0
BUILD=1
SECONDS_PER_PHASE=4
PODS=10000
while (($#)); do
  case "$1" in
    --write) WRITE=1 ;;
    --no-build) BUILD=0 ;;
    --seconds) SECONDS_PER_PHASE=$2; shift ;;
    --pods) PODS=$2; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

if ((BUILD)); then scripts/build >&2; fi
EXT=${AIDI_EXTENDER:-}
if [[ -z $EXT ]]; then
  for f in build/bin/aidi-scheduler-extender build-ext2/bin/aidi-scheduler-extender; do
    [[ -x $f ]] && { EXT=$ROOT/$f; break; }
  done
fi
[[ -n $EXT && -x $EXT ]] || { echo "run.sh: aidi-scheduler-extender is missing (build first, or set AIDI_EXTENDER)" >&2; exit 1; }
[[ -x build/bin/aidi-devcluster ]] || { echo "run.sh: build/bin/aidi-devcluster is missing (build first)" >&2; exit 1; }
command -v go >/dev/null || { echo "run.sh: go is missing (apt-get install golang-go)" >&2; exit 1; }
command -v kubectl >/dev/null || { echo "run.sh: kubectl is missing" >&2; exit 1; }

# The Go programs: standard library only, no network.
GOBIN_DIR=$ROOT/build/bench/extender
mkdir -p "$GOBIN_DIR"
(cd bench/extender && GOCACHE=$ROOT/build/go-cache GOPATH=$ROOT/build/gopath GOFLAGS= GOPROXY=off \
  go build -o "$GOBIN_DIR/" ./anchor ./loadgen) >&2
LOADGEN=$GOBIN_DIR/loadgen

WORK=$(mktemp -d "$ROOT/build/extender-bench.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {  # URL, seconds
  for _ in $(seq $(($2 * 10))); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$1" 2>/dev/null) == 200 ]] && return 0
    sleep 0.1
  done
  return 1
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$(date +%s)
build/bin/aidi-devcluster --listen 127.0.0.1:0 --kubeconfig-out "$WORK/kubeconfig" \
  --log-level warn 2>"$WORK/devcluster.log" &
PIDS+=($!)
for _ in $(seq 300); do [[ -s $WORK/kubeconfig ]] && break; sleep 0.1; done
[[ -s $WORK/kubeconfig ]] || { echo "run.sh: devcluster did not start" >&2; cat "$WORK/devcluster.log" >&2; exit 1; }
export KUBECONFIG=$WORK/kubeconfig
kubectl apply -f crds/ >&2
kubectl wait --for condition=established --timeout=30s crd/edgesites.aidi.dev >&2
echo "run.sh: creating EdgeSites and 6,000 Nodes" >&2
"$LOADGEN" setup --kubeconfig "$WORK/kubeconfig" --nodes 5000 --burst-nodes 1000 --snapshot "$WORK/snapshot.json"

EXT_PORT=$(free_port)
# kube-api-qps/burst raised from kube-scheduler's defaults (50/100) so that the burst's 10,000
# binds (a GET, a PATCH and a POST each) measure the extender, not the client's rate limiter.
"$EXT" --listen "127.0.0.1:$EXT_PORT" --kubeconfig "$WORK/kubeconfig" --log-level warn \
  --kube-api-qps 5000 --kube-api-burst 10000 2>"$WORK/extender.log" &
EXT_PID=$!
PIDS+=($EXT_PID)
EXT_URL=http://127.0.0.1:$EXT_PORT
wait_http "$EXT_URL/readyz" 120 || { echo "run.sh: extender not ready in 120 s" >&2; tail -20 "$WORK/extender.log" >&2; exit 1; }
READY_S=$(($(date +%s) - T0))
ANC_PORT=$(free_port)
"$GOBIN_DIR/anchor" --listen "127.0.0.1:$ANC_PORT" --snapshot "$WORK/snapshot.json" 2>"$WORK/anchor.log" &
ANC_PID=$!
PIDS+=($ANC_PID)
ANC_URL=http://127.0.0.1:$ANC_PORT
wait_http "$ANC_URL/healthz" 30 || { echo "run.sh: anchor did not start" >&2; cat "$WORK/anchor.log" >&2; exit 1; }

for n in 100 1000 5000; do
  echo "run.sh: N=$n" >&2
  "$LOADGEN" bench --url "$EXT_URL" --pid "$EXT_PID" --nodes "$n" --clients 1,4 --seconds "$SECONDS_PER_PHASE" --out "$WORK/ext-$n.json"
  "$LOADGEN" bench --url "$ANC_URL" --pid "$ANC_PID" --nodes "$n" --clients 1,4 --seconds "$SECONDS_PER_PHASE" --out "$WORK/anc-$n.json"
done
for rep in 2 3; do
  echo "run.sh: N=1000 throughput, repetition $rep" >&2
  "$LOADGEN" bench --url "$ANC_URL" --pid "$ANC_PID" --nodes 1000 --clients 4 --seconds "$SECONDS_PER_PHASE" --out "$WORK/anc-1000-r$rep.json"
  "$LOADGEN" bench --url "$EXT_URL" --pid "$EXT_PID" --nodes 1000 --clients 4 --seconds "$SECONDS_PER_PHASE" --out "$WORK/ext-1000-r$rep.json"
done
EXT_RSS=$(awk '/VmRSS/ {print $2}' /proc/$EXT_PID/status)
ANC_RSS=$(awk '/VmRSS/ {print $2}' /proc/$ANC_PID/status)

echo "run.sh: burst of $PODS pods on 1,000 nodes" >&2
CPU0=$(awk '{print $14 + $15}' /proc/$EXT_PID/stat)
"$LOADGEN" burst --kubeconfig "$WORK/kubeconfig" --url "$EXT_URL" --pods "$PODS" --nodes 1000 --clients 16 --rounds 4 --out "$WORK/burst.json"
CPU1=$(awk '{print $14 + $15}' /proc/$EXT_PID/stat)
BURST_CPU=$(awk -v a="$CPU0" -v b="$CPU1" 'BEGIN {printf "%.1f", (b - a) / 100}')
curl -s "$EXT_URL/metrics" >"$WORK/metrics.txt" || true
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(($(date +%s) - T0))

COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git status --porcelain -- scheduler-extender costmodel kube http base bench 2>/dev/null | awk '{print $2}' | cut -d/ -f1 | sort -u | tr '\n' ' ')
if [[ -n $DIRTY ]]; then COMMIT+=" + uncommitted changes in: ${DIRTY% }"; fi
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
BLOCK=$WORK/block.md
{
  echo "Recorded $(date -u '+%Y-%m-%d %H:%M UTC') at commit \`$COMMIT\` with \`bench/extender/run.sh --seconds $SECONDS_PER_PHASE --pods $PODS\`"
  echo "on $(nproc) CPUs ($CPU), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM"
  echo "(devcluster, extender, anchor and load generator share them); anchor built with $(go version | cut -d' ' -f3)."
  echo
  /usr/bin/python3 - "$WORK" "$EXT_RSS" "$ANC_RSS" "$BURST_CPU" <<'PY'
import glob, json, os, statistics, sys
work, ext_rss, anc_rss, burst_cpu = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def load(name):
    return json.load(open(os.path.join(work, name)))
goals = {100: 150, 1000: 600, 5000: 2500}
print("#### filter + prioritize, NodeNames form, keep-alive loopback")
print()
print("Time of a pair = from writing the filter request to having read the whole prioritize answer, as the client sees it.")
print("Server time = aidi-scheduler-extender's own `aidi_extender_request_duration_seconds` histogram (decode to encode), filter and prioritize added;")
print("its buckets are 25-500 µs apart below 10 ms with edges at the goals (150 µs, 600 µs, 2.5 ms); the p99 is the bucket's bound, with Prometheus-style interpolation in brackets.")
print()
print("| N | server | conns | pairs/s | pair p50 / p99 (µs) | filter p50 / prioritize p50 (µs) | server time p99: filter + prioritize (µs) | server mean: filter + prioritize (µs) | server CPU per pair (µs) | goal: server p99 |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
summary = {}
for n in (100, 1000, 5000):
    for key, label in (("ext", "aidi-scheduler-extender"), ("anc", "anchor: Go net/http + encoding/json")):
        r = load("%s-%d.json" % (key, n))
        for ph in r["phases"]:
            st = ph.get("server_time") or {}
            f, p = st.get("filter"), st.get("prioritize")
            if f and p:
                bound = lambda s: ("> %.0f" % s["p99_bucket_above_us"]) if s["p99_bucket_le_us"] < 0 else "≤ %.0f" % s["p99_bucket_le_us"]
                server = "%s + %s (%.0f + %.0f)" % (bound(f), bound(p), f["p99_us"], p["p99_us"])
                mean = "%.0f + %.0f" % (f["mean_us"], p["mean_us"])
            else:
                server, mean = "—", "—"
            cpu = ph.get("server_cpu_seconds", 0) / ph["pairs"] * 1e6 if ph["pairs"] else 0
            goal = "≤ %d µs" % goals[n] if key == "ext" and ph["clients"] == 1 else ""
            print("| %d | %s | %d | %.0f | %.0f / %.0f | %.0f / %.0f | %s | %s | %.0f | %s |" % (
                n, label, ph["clients"], ph["pairs_per_second"], ph["pair_us"]["p50"], ph["pair_us"]["p99"],
                ph["filter_us"]["p50"], ph["prioritize_us"]["p50"], server, mean, cpu, goal))
            summary.setdefault((n, key, ph["clients"]), ph)
print()
ext1 = load("ext-1000.json"); anc1 = load("anc-1000.json")
def tput(key):
    runs = [p["pairs_per_second"] for p in load("%s-1000.json" % key)["phases"] if p["clients"] == 4]
    for f in sorted(glob.glob(os.path.join(work, "%s-1000-r*.json" % key))):
        runs += [p["pairs_per_second"] for p in json.load(open(f))["phases"]]
    return runs
te, ta = tput("ext"), tput("anc")
ratio = statistics.median(te) / statistics.median(ta)
print("Throughput at N = 1,000 over 4 connections, 3 alternating runs each: extender %s pairs/s (median %.0f), anchor %s (median %.0f): **%.1fx** the anchor (goal: at least 3x)." % (
    ", ".join("%.0f" % x for x in te), statistics.median(te), ", ".join("%.0f" % x for x in ta), statistics.median(ta), ratio))
print()
print("Answers compared (same pod, same candidates):")
print()
print("| N | request bytes (filter / prioritize) | passed / failed / unresolvable: extender | anchor | prioritize scores equal |")
print("|---:|---:|---|---|---|")
for n in (100, 1000, 5000):
    e, a = load("ext-%d.json" % n), load("anc-%d.json" % n)
    same = sum(1 for h, s in e["scores"].items() if a["scores"].get(h) == s)
    diff = max([abs(s - a["scores"].get(h, -99)) for h, s in e["scores"].items()] or [0])
    print("| %d | %d / %d | %d / %d / %d | %d / %d / %d | %d of %d%s |" % (
        n, e["filter_request_bytes"], e["prioritize_request_bytes"], e["passed"], e["failed"], e["unresolvable"],
        a["passed"], a["failed"], a["unresolvable"], same, len(e["scores"]),
        "" if same == len(e["scores"]) else " (largest difference %d)" % diff))
hz_e, hz_a = ext1["healthz_us"], anc1["healthz_us"]
print()
print("Loopback floor (GET /healthz on one keep-alive connection, p50 / p99): extender %.0f / %.0f µs, anchor %.0f / %.0f µs. "
      "Resident memory after the runs: extender %.0f MiB (6,000 nodes, 9 sites cached), anchor %.0f MiB." % (
      hz_e["p50"], hz_e["p99"], hz_a["p50"], hz_a["p99"], ext_rss / 1024, anc_rss / 1024))
print()
b = load("burst.json")
print("#### Burst: %d pods of 1 GPU, %d nodes of %d GPUs, %d concurrent workers" % (b["pods"], b["nodes"], b["gpus_per_node"], b["clients"]))
print()
print("Each worker takes a pod through filter (all %d burst nodes) and prioritize, then `/bind`s it to the top-scored node (ties: the first, so concurrent workers contend for one node); "
      "when no node passes the filter it binds anyway, round-robin over 8 nodes, to force a refusal. Refused pods go round again (%d rounds at most)." % (b["nodes"], len(b["rounds"]) if b["rounds"] else 0))
print()
print("| round | pods | bound | refused | of which forced (no node passed) | seconds |")
print("|---:|---:|---:|---:|---:|---:|")
for r in b["rounds"]:
    print("| %d | %d | %d | %d | %d | %.1f |" % (r["round"], r["pods"], r["ok"], r["refused"], r["forced_binds"], r["seconds"]))
print()
print("| measure | result |")
print("|---|---:|")
print("| /bind calls: succeeded / refused with an Error / HTTP errors | %d / %d / %d |" % (b["bind_ok"], b["bind_refused"], b["bind_http_errors"]))
print("| /bind time p50 / p99 (GET pod, reserve, annotate, POST binding) | %.1f / %.1f ms |" % (b["bind_us"]["p50"] / 1000, b["bind_us"]["p99"] / 1000))
print("| pods bound (counted over the API) / GPUs they hold / GPUs allocatable | %d / %d / %d |" % (b["pods_bound_api"], b["gpus_bound_api"], b["gpus_allocatable"]))
print("| bound pods with an aidi.dev/placement annotation | %d |" % b["bound_with_placement_annotation"])
print("| **over-allocated GPUs** (goal: 0) / nodes over their allocatable | **%d** / %d |" % (b["over_allocated_gpus"], b["nodes_over_allocated"]))
print("| time: creating the pods / scheduling them all | %.1f s / %.1f s |" % (b["create_seconds"], b["schedule_seconds"]))
print("| extender CPU during the burst | %s s |" % burst_cpu)
if b["refusal_samples"]:
    print()
    print("Refusals read, for example: %s." % "; ".join("`%s`" % " ".join(s.split()).replace("|", "/") for s in b["refusal_samples"][:2]))
PY
  echo
  echo "Load average (1/5/15 min) before: $LOAD_BEFORE; after: $LOAD_AFTER. Benchmark time: ${ELAPSED} s (extender ready ${READY_S} s after devcluster started, nodes created)."
} >"$BLOCK"
cat "$BLOCK"

if ((WRITE)); then
  /usr/bin/python3 - docs/benchmarks.md "$BLOCK" <<'PY'
import sys
doc_path, block_path = sys.argv[1], sys.argv[2]
begin = "<!-- BEGIN extender results: generated by bench/extender/run.sh --write -->\n"
end = "<!-- END extender results -->\n"
doc = open(doc_path).read()
block = begin + open(block_path).read().rstrip("\n") + "\n" + end
if begin in doc and end in doc:
    doc = doc[:doc.index(begin)] + block + doc[doc.index(end) + len(end):]
else:
    doc = doc.rstrip("\n") + "\n\n## aidi-scheduler-extender\n\n" + block
open(doc_path, "w").write(doc)
PY
  echo "run.sh: updated docs/benchmarks.md" >&2
fi
