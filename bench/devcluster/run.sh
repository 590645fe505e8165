#!/usr/bin/env bash
# Runs the devcluster benchmark and prints its markdown; with --write, also replaces the
# "## devcluster" section of docs/benchmarks.md with it.
#
#   bench/devcluster/run.sh [--write] [--no-build] [-- extra devcluster_bench flags]
#
# Starts four servers on 127.0.0.1 with free ports: aidi-devcluster in memory (--plain-http),
# with --state-dir (--plain-http; the state directory sits under build/, on the repository's
# disk, not a tmpfs), over HTTPS (the default), and the anchor (anchor_server.py on the
# system Python). Stops them on exit. A whole run takes about two to three minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

WRITE=0
BUILD=1
EXTRA=()
while (($#)); do
  case "$1" in
    --write) WRITE=1 ;;
    --no-build) BUILD=0 ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

if ((BUILD)); then scripts/build >&2; fi
DEVCLUSTER=$ROOT/build/bin/aidi-devcluster
BENCH=$ROOT/build/bench/devcluster_bench
PYTHON=/usr/bin/python3
for f in "$DEVCLUSTER" "$BENCH" "$PYTHON"; do
  [[ -x $f ]] || { echo "run.sh: $f is missing (build first)" >&2; exit 1; }
done

WORK=$(mktemp -d "$ROOT/build/devcluster-bench.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# start NAME COMMAND...: runs a server that writes $WORK/NAME.kubeconfig once it is serving.
start() {
  local name=$1; shift
  "$@" --kubeconfig-out "$WORK/$name.kubeconfig" 2>"$WORK/$name.log" &
  PIDS+=("$!")
  eval "PID_${name}=$!"
}
start mem "$DEVCLUSTER" --listen 127.0.0.1:0 --plain-http
start disk "$DEVCLUSTER" --listen 127.0.0.1:0 --plain-http --state-dir "$WORK/state"
start tls "$DEVCLUSTER" --listen 127.0.0.1:0
start anchor "$PYTHON" "$ROOT/bench/devcluster/anchor_server.py" --listen 127.0.0.1:0
for name in mem disk tls anchor; do
  for _ in $(seq 300); do [[ -s $WORK/$name.kubeconfig ]] && break; sleep 0.1; done
  [[ -s $WORK/$name.kubeconfig ]] || { echo "run.sh: $name did not start:" >&2; cat "$WORK/$name.log" >&2; exit 1; }
done

CMD="bench/devcluster/run.sh${EXTRA:+ -- ${EXTRA[*]}}"
RESULTS=$WORK/results.md
"$BENCH" \
  --devcluster "$WORK/mem.kubeconfig" --devcluster-pid "$PID_mem" \
  --devcluster-disk "$WORK/disk.kubeconfig" --devcluster-disk-pid "$PID_disk" \
  --devcluster-tls "$WORK/tls.kubeconfig" --devcluster-tls-pid "$PID_tls" \
  --anchor "$WORK/anchor.kubeconfig" --anchor-pid "$PID_anchor" \
  "${EXTRA[@]}" >"$RESULTS"

COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain -- devcluster bench 2>/dev/null) ]]; then COMMIT+=" (with uncommitted changes)"; fi
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
FS=$(df -T "$WORK" | awk 'NR==2 {print $2}')
SECTION=$WORK/section.md
{
  echo "## devcluster"
  echo
  echo "Recorded $(date -u '+%Y-%m-%d %H:%M UTC') at commit \`$COMMIT\` with \`$CMD\`"
  echo "on $(nproc) CPUs ($CPU), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM;"
  echo "state directory on $FS; servers: \`aidi-devcluster --plain-http\` (in memory and with"
  echo "\`--state-dir\`), \`aidi-devcluster\` over HTTPS, and \`anchor_server.py\` on $($PYTHON --version)."
  echo
  cat "$ROOT/bench/devcluster/method.md"
  echo
  echo "### Results"
  echo
  cat "$RESULTS"
} >"$SECTION"
cat "$SECTION"

if ((WRITE)); then
  DOC=$ROOT/docs/benchmarks.md
  [[ -f $DOC ]] || { echo "run.sh: $DOC is missing" >&2; exit 1; }
  # Replace from "## devcluster" up to the next "## " heading (or the end); append if absent.
  "$PYTHON" - "$DOC" "$SECTION" <<'EOF'
import re, sys
doc_path, section_path = sys.argv[1], sys.argv[2]
doc = open(doc_path).read()
section = open(section_path).read().rstrip("\n") + "\n"
m = re.search(r"^## devcluster\n", doc, re.M)
if m:
    nxt = re.search(r"^## ", doc[m.end():], re.M)
    end = m.end() + nxt.start() if nxt else len(doc)
    doc = doc[:m.start()] + section + ("\n" if nxt else "") + doc[end:]
else:
    doc = doc.rstrip("\n") + "\n\n" + section
open(doc_path, "w").write(doc)
EOF
  echo "run.sh: updated $DOC" >&2
fi
