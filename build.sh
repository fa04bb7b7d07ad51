#!/usr/bin/env bash
# build.sh: installs what is missing (Debian 12, as root), builds memscript in build/, and with
# "test" runs the whole test suite. The README's quick start and CI both run this.
set -euo pipefail
cd "$(dirname "$0")"

# What the build needs, and what the tests use: valgrind, clang's libFuzzer, and real peers: procps's pmap,
# lua5.4 (the CLI behaves as lua does),
# promtool (package prometheus) and prometheus-node-exporter, read back with curl;
# xmllint (libxml2-utils) and a headless chromium for the SVG pictures.
build_packages=(cmake make gcc pkg-config liblua5.4-dev lua-lpeg-dev lua-cjson-dev libedit-dev libarchive-dev)
test_packages=(procps lua5.4 valgrind clang libclang-rt-14-dev prometheus prometheus-node-exporter curl
  libxml2-utils chromium)

missing=()
want=("${build_packages[@]}")
[ "${1:-}" = test ] && want+=("${test_packages[@]}")
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "build.sh: missing packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

werror=OFF
[ -n "${CI:-}" ] && werror=ON
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMSCRIPT_WERROR=$werror >/dev/null
cmake --build build -j"$(nproc)"

# Runs the test suite of one build tree, then prints what passed, failed and was skipped (test
# files and the named tests in them, every skip with its reason); fails when ctest did.
run_suite() {
  local dir=$1 title=$2 status=0
  rm -f "$dir"/test-results/*
  ctest --test-dir "$dir" --output-on-failure -j2 --output-junit test-results/junit.xml || status=$?
  build/memscript tests/summary.lua "$dir" "$title" || true
  return "$status"
}

if [ "${1:-}" = test ]; then
  run_suite build "the normal suite (build)"
  # The same suite again with AddressSanitizer and UndefinedBehaviorSanitizer in memscript.
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMEMSCRIPT_SANITIZE=ON -DMEMSCRIPT_WERROR=$werror >/dev/null
  cmake --build build-asan -j"$(nproc)"
  run_suite build-asan "the ASan+UBSan suite (build-asan)"
  # A short, time-bounded run of every parser's libFuzzer harness (tests/fuzz; longer: tests/fuzz/run.sh).
  cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DMEMSCRIPT_FUZZ=ON -DMEMSCRIPT_WERROR=$werror >/dev/null
  cmake --build build-fuzz -j"$(nproc)"
  ctest --test-dir build-fuzz -L fuzz --output-on-failure -j2
fi
