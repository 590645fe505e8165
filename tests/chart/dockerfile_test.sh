#!/usr/bin/env bash
# The Dockerfile, checked without a Docker engine (none runs on our machines):
#   - lint_dockerfile.mjs: npm dockerfile-utils' validator (any error or warning fails) and the
#     images' promises (builder runs scripts/bootstrap and `scripts/build release`; stages
#     operator, scheduler-extender, worker with numeric non-root USERs and exec ENTRYPOINTs);
#   - the paths it copies are the ones the build makes: the CMake targets' names, the release
#     preset's build/ folder, bootstrap's .tools/duckdb/lib/libduckdb.so;
#   - when build/bin has the binaries: every shared library they load comes from a Debian package
#     that the runtime stage installs or that debian:bookworm-slim already has (ldd + dpkg -S).
#   dockerfile_test.sh [BIN_DIR]     (default: build/bin)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-build/bin}
UTILS=.tools/dockerfile-utils
[[ -d $UTILS/node_modules/dockerfile-utils ]] || { echo "dockerfile_test: $UTILS is missing; run scripts/bootstrap" >&2; exit 1; }
failures=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }

if node tests/chart/lint_dockerfile.mjs "$UTILS" Dockerfile; then ok "dockerfile-utils lint and stage checks"; else bad "Dockerfile lint (above)"; fi

for target in aidi-operator aidi-scheduler-extender aidi-worker; do
  if git ls-files -co --exclude-standard '*CMakeLists.txt' | xargs grep -qs "add_executable($target\b"; then ok "$target is a CMake target"; else bad "no add_executable($target) in the tree"; fi
done
# shellcheck disable=SC2016  # ${sourceDir} is CMake's, not the shell's
if python3 -c 'import json, sys
p = {x["name"]: x for x in json.load(open("CMakePresets.json"))["configurePresets"]}
sys.exit(p["release"].get("binaryDir") != "${sourceDir}/build")'; then
  ok "scripts/build release writes build/ (the builder copies build/bin/)"
else
  bad "the release preset's binaryDir is not \${sourceDir}/build"
fi
# shellcheck disable=SC2016  # bootstrap's own text, not expanded here
if grep -q 'DUCKDB_DIR=$TOOLS/duckdb' scripts/bootstrap && grep -q '"$DUCKDB_DIR/lib/libduckdb.so"' scripts/bootstrap; then
  ok "scripts/bootstrap puts libduckdb.so in .tools/duckdb/lib"
else
  bad "scripts/bootstrap no longer installs .tools/duckdb/lib/libduckdb.so"
fi

# The runtime stage's apt packages, as written in the Dockerfile.
runtime_pkgs=$(awk '/^FROM debian:bookworm-slim AS runtime/{f=1} f&&/^FROM /&&!/AS runtime/{f=0} f' Dockerfile |
  grep -oE '\blib[a-z0-9.+-]+|\bzlib1g\b|\bca-certificates\b' | sort -u)
# Packages debian:bookworm-slim has: libc6, libstdc++6 (apt needs it), libgcc-s1, zlib1g (dpkg).
base_pkgs="libc6 libstdc++6 libgcc-s1 zlib1g"
declare -A owner=()  # library path -> Debian package, filled by one dpkg -S call
candidates() {  # the paths dpkg may know a library by (merged /usr tolerated)
  local real
  real=$(readlink -f "$1")
  printf '%s\n' "$1" "/usr$1" "$real" "${real#/usr}"
}
package_of() {
  local c
  while read -r c; do [[ -n ${owner[$c]:-} ]] && { echo "${owner[$c]}"; return 0; }; done < <(candidates "$1")
  return 1
}
libs_of() { ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'; }
if [[ -x $BIN/aidi-operator && -x $BIN/aidi-scheduler-extender && -x $BIN/aidi-worker ]] && command -v dpkg >/dev/null; then
  mapfile -t paths < <(for b in aidi-operator aidi-scheduler-extender aidi-worker; do
    libs_of "$BIN/$b" | while read -r lib; do candidates "$lib"; done; done | sort -u)
  while IFS= read -r line; do
    owner[${line#*: }]=${line%%:*}
  done < <(dpkg -S "${paths[@]}" 2>/dev/null || true)
  for b in aidi-operator aidi-scheduler-extender; do
    missing=()
    while read -r lib; do
      pkg=$(package_of "$lib") || { missing+=("$lib (no package)"); continue; }
      grep -qx "$pkg" <<<"$runtime_pkgs" || [[ " $base_pkgs " == *" $pkg "* ]] || missing+=("$lib ($pkg)")
    done < <(libs_of "$BIN/$b")
    if ((${#missing[@]})); then bad "$b loads libraries the runtime stage lacks: ${missing[*]}"; else ok "$b: every library it loads is in the runtime stage"; fi
  done
  missing=()
  while read -r lib; do
    [[ $(basename "$lib") == libduckdb.so ]] && continue  # copied by the worker stage
    pkg=$(package_of "$lib") || { missing+=("$lib (no package)"); continue; }
    [[ " $base_pkgs " == *" $pkg "* ]] || missing+=("$lib ($pkg)")
  done < <(libs_of "$BIN/aidi-worker")
  if ((${#missing[@]})); then bad "aidi-worker loads libraries no base has: ${missing[*]}"; else ok "aidi-worker: libduckdb.so (copied) and base-image libraries only"; fi
else
  echo "skip: $BIN lacks the binaries (or dpkg is missing); their libraries are not checked"
fi

if ((failures)); then
  echo "dockerfile_test: $failures check(s) failed"
  exit 1
fi
echo "dockerfile_test: all checks passed"
