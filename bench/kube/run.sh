#!/usr/bin/env bash
# Runs the kube runtime benchmarks and prints their results as markdown; with --write, also puts
# them in docs/benchmarks.md, between the kube section's BEGIN/END result markers.
#
#   bench/kube/run.sh [--write] [--no-build] [--pods N]
#
# 1. kube_cache_bench: memory per cached realistic pod (~4.5 KB JSON) and apply/read times.
# 2. kube_sync_bench against aidi-devcluster over HTTPS: initial sync of N pods (default
#    10,000), with `kubectl get pods -o name --chunk-size=500` timed on the same pods as anchor.
# 3. kube_queue_bench: work queue throughput next to a plain mutex+condvar deque.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

WRITE=0
BUILD=1
PODS=10000
while (($#)); do
  case "$1" in
    --write) WRITE=1 ;;
    --no-build) BUILD=0 ;;
    --pods) PODS=$2; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

if ((BUILD)); then scripts/build >&2; fi
B=$ROOT/build
for f in "$B/bin/aidi-devcluster" "$B/bench/kube_sync_bench" "$B/bench/kube_cache_bench" "$B/bench/kube_queue_bench"; do
  [[ -x $f ]] || { echo "run.sh: $f is missing (build first)" >&2; exit 1; }
done
command -v kubectl >/dev/null || { echo "run.sh: kubectl (the anchor) is missing" >&2; exit 1; }

WORK=$(mktemp -d "$ROOT/build/kube-bench.XXXXXX")
PID=""
cleanup() {
  [[ -n $PID ]] && { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT

"$B/bin/aidi-devcluster" --listen 127.0.0.1:0 --kubeconfig-out "$WORK/kubeconfig" \
  --log-level warn 2>"$WORK/devcluster.log" &
PID=$!
for _ in $(seq 300); do [[ -s $WORK/kubeconfig ]] && break; sleep 0.1; done
[[ -s $WORK/kubeconfig ]] || { echo "run.sh: devcluster did not start" >&2; cat "$WORK/devcluster.log" >&2; exit 1; }

echo "run.sh: cache benchmark" >&2
"$B/bench/kube_cache_bench" --benchmark_format=json >"$WORK/cache.json" 2>/dev/null
echo "run.sh: sync benchmark ($PODS pods; creating them takes a while)" >&2
"$B/bench/kube_sync_bench" --kubeconfig "$WORK/kubeconfig" --pods "$PODS" >"$WORK/sync.json"
anchor=()
for _ in 1 2 3; do
  start=$(date +%s%N)
  KUBECONFIG=$WORK/kubeconfig kubectl get pods -n sync-bench -o name --chunk-size=500 >"$WORK/names.txt"
  anchor+=("$(( ($(date +%s%N) - start) / 1000000 ))")
done
listed=$(wc -l <"$WORK/names.txt")
echo "run.sh: queue benchmark" >&2
"$B/bench/kube_queue_bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_format=json >"$WORK/queue.json" 2>/dev/null

COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git status --porcelain -- kube bench base 2>/dev/null | awk '{print $2}' | cut -d/ -f1 | sort -u | tr '\n' ' ')
if [[ -n $DIRTY ]]; then COMMIT+=" + uncommitted changes in: ${DIRTY% }"; fi
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
BLOCK=$WORK/block.md
/usr/bin/python3 - "$WORK" "$listed" "${anchor[@]}" >"$WORK/results.md" <<'PY'
import json, statistics, sys
work, listed, anchor = sys.argv[1], int(sys.argv[2]), [int(a) / 1000.0 for a in sys.argv[3:]]
cache = json.load(open(work + "/cache.json"))["benchmarks"]
sync = json.load(open(work + "/sync.json"))
queue = json.load(open(work + "/queue.json"))["benchmarks"]
def find(rows, prefix):
    return [r for r in rows if r["name"].startswith(prefix)]
print("#### Memory per cached pod (10,000 realistic pods, ~%d bytes of JSON each)" %
      find(cache, "BM_CacheMemory/store_typical")[0]["json_text_per_pod"])
print()
print("| cache | bytes per pod |")
print("|---|---:|")
labels = {"store_typical": "Store, typical controller projection + owner index (goal: at most 1 KiB)",
          "store_whole": "Store, whole object (managedFields, last-applied stripped)",
          "json_typical": "same projection held as nlohmann::json",
          "json_full": "anchor: full pods as nlohmann::json (a naive cache)"}
for key, label in labels.items():
    row = find(cache, "BM_CacheMemory/" + key)[0]
    print("| %s | %d |" % (label, row["bytes_per_pod"]))
print()
print("#### Initial sync of %d pods from aidi-devcluster over HTTPS (pages of %d)" % (sync["pods"], sync["page_size"]))
print()
print("| client | median seconds | runs |")
print("|---|---:|---|")
print("| aidi Watcher + Store (podcache projection) | %.2f | %s |" % (sync["median_sync_seconds"], ", ".join("%.2f" % s for s in sync["sync_seconds"])))
print("| anchor: `kubectl get pods -o name --chunk-size=500` (%d listed) | %.2f | %s |" % (listed, statistics.median(anchor), ", ".join("%.2f" % s for s in anchor)))
print()
print("Store's own estimate after sync: %d bytes per pod." % sync["store_bytes_per_pod"])
print()
print("#### Work queue throughput (Add + Get + Done over 10,000 keys, median of 3)")
print()
print("| benchmark | items per second |")
print("|---|---:|")
for r in queue:
    if r.get("aggregate_name") == "median" and "items_per_second" in r:
        print("| %s | %.0f |" % (r["run_name"], r["items_per_second"]))
PY
{
  echo "Recorded $(date -u '+%Y-%m-%d %H:%M UTC') at commit \`$COMMIT\` with \`bench/kube/run.sh --pods $PODS\`"
  echo "on $(nproc) CPUs ($CPU), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM;"
  echo "anchor: $(kubectl version --client 2>/dev/null | head -1)."
  echo
  cat "$WORK/results.md"
} >"$BLOCK"
cat "$BLOCK"

if ((WRITE)); then
  DOC=$ROOT/docs/benchmarks.md
  /usr/bin/python3 - "$DOC" "$BLOCK" <<'PY'
import sys
doc_path, block_path = sys.argv[1], sys.argv[2]
begin = "<!-- BEGIN kube results: generated by bench/kube/run.sh --write -->\n"
end = "<!-- END kube results -->\n"
doc = open(doc_path).read()
block = begin + open(block_path).read().rstrip("\n") + "\n" + end
if begin in doc and end in doc:
    doc = doc[:doc.index(begin)] + block + doc[doc.index(end) + len(end):]
else:
    doc = doc.rstrip("\n") + "\n\n## kube runtime\n\n" + block
open(doc_path, "w").write(doc)
PY
  echo "run.sh: updated $DOC" >&2
fi
