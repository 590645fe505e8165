# Shared bash harness for the devcluster end-to-end suites. Source it; do not run it.
#
#   source tests/devcluster/harness.sh
#   dc_init "$binary"              # resolves the binary, makes a private temp dir, installs traps
#   dc_start main --enable-faults  # starts one devcluster; sets DC_KUBECONFIG_main, DC_PID_main ...
#   dc_use main                    # points KUBECONFIG and KUBECACHEDIR (kubectl's discovery cache) at it
#   check "name" cmd...            # runs cmd, PASS when it exits 0
#   dc_finish                      # prints the summary and exits non-zero on any failure
#
# Every started devcluster is killed by the EXIT trap, whatever happens.

DC_TMP=""
DC_BIN=""
DC_NAMES=()
DC_PASS=0
DC_FAIL=0
DC_FAILED=()
OUT=""
RC=0

dc_log() { printf '%s\n' "$*" >&2; }

dc_init() {
  local bin=${1:-${AIDI_DEVCLUSTER:-build/bin/aidi-devcluster}}
  if [[ ! -x $bin ]]; then
    echo "FAIL: devcluster binary not found or not executable: $bin" >&2
    exit 1
  fi
  DC_BIN=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
  DC_TMP=$(mktemp -d "${TMPDIR:-/tmp}/aidi-devcluster-e2e.XXXXXX")
  # kubectl writes its discovery and HTTP caches under $HOME/.kube unless told otherwise;
  # a private HOME keeps runs independent of each other and of the developer's config.
  export HOME="$DC_TMP/home"
  mkdir -p "$HOME"
  unset KUBECONFIG
  trap dc_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

dc_cleanup() {
  local name pid
  # Reap background helpers (watches, waits) this script started.
  for pid in $(jobs -p 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  for name in "${DC_NAMES[@]}"; do
    pid=$(dc_var PID "$name")
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  if [[ -n ${DC_KEEP_TMP:-} ]]; then
    echo "kept $DC_TMP" >&2
  elif [[ -n $DC_TMP ]]; then
    rm -rf "$DC_TMP"
  fi
}

dc_var() { local v="DC_${1}_${2}"; printf '%s' "${!v:-}"; }

# dc_start NAME [devcluster flags...]: start a devcluster on a free port and wait until it has
# written its kubeconfig (it writes it only once it serves). Sets DC_PID_NAME, DC_KUBECONFIG_NAME,
# DC_CACHE_NAME, DC_LOG_NAME, DC_SERVER_NAME.
dc_start() {
  local name=$1; shift
  local dir="$DC_TMP/$name"
  mkdir -p "$dir/cache"
  local kc="$dir/kubeconfig"
  rm -f "$kc"
  "$DC_BIN" --listen 127.0.0.1:0 --kubeconfig-out "$kc" "$@" >>"$dir/devcluster.log" 2>&1 &
  local pid=$!
  printf -v "DC_PID_$name" '%s' "$pid"
  printf -v "DC_KUBECONFIG_$name" '%s' "$kc"
  printf -v "DC_CACHE_$name" '%s' "$dir/cache"
  printf -v "DC_LOG_$name" '%s' "$dir/devcluster.log"
  local seen=0
  for n in "${DC_NAMES[@]}"; do [[ $n == "$name" ]] && seen=1; done
  [[ $seen == 1 ]] || DC_NAMES+=("$name")
  local deadline=$((SECONDS + 30))
  while [[ ! -s $kc ]]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "devcluster '$name' exited before serving; its log:" >&2
      sed 's/^/  | /' "$dir/devcluster.log" >&2
      return 1
    fi
    if ((SECONDS > deadline)); then
      echo "devcluster '$name' did not write $kc within 30s; its log:" >&2
      sed 's/^/  | /' "$dir/devcluster.log" >&2
      return 1
    fi
    sleep 0.05
  done
  printf -v "DC_SERVER_$name" '%s' "$(awk '$1 == "server:" {print $2; exit}' "$kc")"
  local ca_data
  ca_data=$(awk '$1 == "certificate-authority-data:" {print $2; exit}' "$kc")
  if [[ -n $ca_data ]]; then
    base64 -d <<<"$ca_data" >"$dir/ca.crt"
    printf -v "DC_CA_$name" '%s' "$dir/ca.crt"
  else
    printf -v "DC_CA_$name" '%s' ""
  fi
}

# dc_stop NAME [SIGNAL]: signal the devcluster (TERM by default) and wait for it to exit.
# Sets DC_EXIT to its exit status.
dc_stop() {
  local name=$1 sig=${2:-TERM}
  local pid
  pid=$(dc_var PID "$name")
  DC_EXIT=""
  [[ -n $pid ]] || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  set +e
  wait "$pid" 2>/dev/null
  DC_EXIT=$?
  set -e
  printf -v "DC_PID_$name" '%s' ""
}

# dc_use NAME: make plain `kubectl` talk to devcluster NAME (no extra flags needed).
dc_use() {
  export KUBECONFIG
  KUBECONFIG=$(dc_var KUBECONFIG "$1")
  export KUBECACHEDIR
  KUBECACHEDIR=$(dc_var CACHE "$1")
  DC_CURRENT=$1
}

# dc_token NAME: the bearer token of devcluster NAME.
dc_token() { awk '$1 == "token:" {print $2; exit}' "$(dc_var KUBECONFIG "$1")"; }

# dc_curl PATH [curl args...]: an authenticated request to the current devcluster.
dc_curl() {
  local path=$1; shift
  local ca
  ca=$(dc_var CA "$DC_CURRENT")
  curl -sS --max-time 20 ${ca:+--cacert "$ca"} -H "Authorization: Bearer $(dc_token "$DC_CURRENT")" "$@" \
    "$(dc_var SERVER "$DC_CURRENT")$path"
}

# ---- checks ------------------------------------------------------------------------------

# Each line ends with the seconds since the suite started, to spot slow checks.
pass() { DC_PASS=$((DC_PASS + 1)); printf 'PASS: %s  [%ss]\n' "$1" "$SECONDS"; }

# fail NAME [detail lines...]
fail() {
  local name=$1; shift
  DC_FAIL=$((DC_FAIL + 1))
  DC_FAILED+=("$name")
  printf 'FAIL: %s  [%ss]\n' "$name" "$SECONDS"
  local line
  for line in "$@"; do printf '%s\n' "$line" | sed 's/^/    /' | head -40; done
}

# run cmd...: run a command, never aborting the script; sets OUT (stdout+stderr) and RC.
run() {
  set +e
  OUT=$("$@" 2>&1)
  RC=$?
  set -e
}

# check NAME cmd...: PASS when cmd exits 0.
check() {
  local name=$1; shift
  run "$@"
  if [[ $RC == 0 ]]; then pass "$name"; else fail "$name" "command: $*" "exit $RC, output:" "$OUT"; fi
}

# check_out NAME REGEX cmd...: PASS when cmd exits 0 and its output matches the extended REGEX.
check_out() {
  local name=$1 re=$2; shift 2
  run "$@"
  if [[ $RC == 0 ]] && grep -Eq -- "$re" <<<"$OUT"; then
    pass "$name"
  else
    fail "$name" "command: $*" "expected exit 0 and output matching: $re" "got exit $RC, output:" "$OUT"
  fi
}

# check_fails NAME REGEX cmd...: PASS when cmd exits non-zero and its output matches REGEX.
check_fails() {
  local name=$1 re=$2; shift 2
  run "$@"
  if [[ $RC != 0 ]] && grep -Eq -- "$re" <<<"$OUT"; then
    pass "$name"
  else
    fail "$name" "command: $*" "expected a non-zero exit and output matching: $re" "got exit $RC, output:" "$OUT"
  fi
}

# expect NAME REGEX TEXT: PASS when TEXT matches REGEX (for output captured earlier).
expect() {
  local name=$1 re=$2 text=$3
  if grep -Eq -- "$re" <<<"$text"; then pass "$name"; else fail "$name" "expected output matching: $re" "got:" "$text"; fi
}

# expect_fixed NAME STRING TEXT: PASS when TEXT contains STRING literally.
expect_fixed() {
  local name=$1 str=$2 text=$3
  if grep -Fq -- "$str" <<<"$text"; then pass "$name"; else fail "$name" "expected output containing: $str" "got:" "$text"; fi
}

# expect_not NAME REGEX TEXT: PASS when TEXT does not match REGEX.
expect_not() {
  local name=$1 re=$2 text=$3
  if grep -Eq -- "$re" <<<"$text"; then fail "$name" "expected no output matching: $re" "got:" "$text"; else pass "$name"; fi
}

# expect_eq NAME WANT GOT
expect_eq() {
  if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1" "want: $2" "got:  $3"; fi
}

# poll TIMEOUT_SECONDS cmd...: retry cmd until it exits 0 (returns 0) or time runs out (1).
poll() {
  local timeout=$1; shift
  local deadline=$((SECONDS + timeout))
  while true; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# wait_file PID TIMEOUT FILE REGEX: wait until FILE (written by background process PID) matches
# REGEX; gives up early when PID has exited without producing it.
wait_file() {
  local pid=$1 timeout=$2 file=$3 re=$4
  local deadline=$((SECONDS + timeout))
  while true; do
    file_has "$file" "$re" && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      file_has "$file" "$re"
      return
    fi
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# file_has FILE REGEX: for poll.
file_has() { [[ -f $1 ]] && grep -Eq -- "$2" "$1"; }

dc_finish() {
  echo
  echo "== $DC_PASS passed, $DC_FAIL failed"
  if ((DC_FAIL > 0)); then
    printf '   failed: %s\n' "${DC_FAILED[@]}"
    local name
    for name in "${DC_NAMES[@]}"; do
      local log
      log=$(dc_var LOG "$name")
      if [[ -f $log ]]; then
        echo "-- last lines of devcluster '$name' log ($log):"
        tail -n 15 "$log" | sed 's/^/  | /'
      fi
    done
    exit 1
  fi
  exit 0
}
