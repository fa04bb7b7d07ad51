#!/usr/bin/env bash
# build.sh: installs what is missing (Debian 12, as root), builds memscript in build/, and with
# "test" runs the whole test suite; "package" builds the Debian package in build-deb/ (below). The
# README's quick start and CI both run this.
set -euo pipefail
cd "$(dirname "$0")"

# What the build needs, and what the tests use: valgrind, clang's libFuzzer, and real peers: procps's pmap,
# lua5.4 (the CLI behaves as lua does),
# promtool (package prometheus) and prometheus-node-exporter, read back with curl; smem (system.lua's
# account compared with smem -w); xmllint (libxml2-utils) and a headless chromium for the SVG pictures.
build_packages=(cmake make gcc pkg-config liblua5.4-dev lua-lpeg-dev lua-cjson-dev libedit-dev libarchive-dev)
test_packages=(procps lua5.4 valgrind clang libclang-rt-14-dev prometheus prometheus-node-exporter curl smem
  libxml2-utils chromium)
# The Debian package: debhelper and lintian to build and check it; for the tests of what it installs,
# bash (completion), strace (the exporter unit's system call filter), sudo and the Icinga 2 and
# Nagios 4 that read the monitoring definitions (started by none: see install_missing).
package_packages=(debhelper dpkg-dev lintian)
package_test_packages=(bash strace sudo icinga2-bin nagios4-core)

missing=()
want=("${build_packages[@]}")
[ "${1:-}" = test ] && want+=("${test_packages[@]}" "${package_packages[@]}" "${package_test_packages[@]}")
[ "${1:-}" = package ] && want+=("${package_packages[@]}")
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "build.sh: missing packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Icinga 2 and Nagios are installed to read configuration, not to run: invoke-rc.d starts no
  # service while a policy-rc.d says no (one already there is left as it is). Nagios needs a mail
  # transport: msmtp-mta, which has no daemon, when the machine has none.
  policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\n# build.sh: no service starts while packages are installed\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  case " ${missing[*]} " in
    *" nagios4-core "*) [ -e /usr/sbin/sendmail ] || missing+=(msmtp-mta) ;;
  esac
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ -n "$policy" ]; then rm -f "$policy"; trap - EXIT; fi
fi

# ./build.sh package: dpkg-buildpackage -us -uc -b on a copy of the tree in build-deb/SOURCE-VERSION
# (the checkout stays clean: debhelper writes into the tree it builds), then lintian on the package
# and its source, which fails on any error or warning not overridden (with the reason) in debian/.
# The .deb is build-deb/memscript_VERSION_ARCH.deb. DEB_BUILD_OPTIONS=nocheck leaves out the test suite.
build_package() {
  local out=build-deb version started tree
  version=$(dpkg-parsechangelog -S Version)
  tree=$out/memscript-$version
  rm -rf "$out"
  mkdir -p "$tree"
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # the files of the checkout, committed or not, that git does not ignore
    git ls-files -z --cached --others --exclude-standard |
      while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
      tar --null -T - -cf - | tar -xf - -C "$tree"
  else
    tar --exclude=./build --exclude='./build-*' -cf - . | tar -xf - -C "$tree"
  fi
  # the source package first, from the clean tree, for lintian's checks of debian/
  (cd "$tree" && dpkg-source -b .) >"$out/source.log" 2>&1 ||
    { cat "$out/source.log" >&2; echo "build.sh: dpkg-source failed" >&2; return 1; }
  started=$(date +%s)
  (cd "$tree" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 ||
    { tail -n 40 "$out/build.log" >&2; echo "build.sh: dpkg-buildpackage failed (all of it in $out/build.log)" >&2; return 1; }
  echo "build.sh: built $(cd "$out" && ls memscript_*.deb) in $(( $(date +%s) - started )) s:" \
    "$(stat -c %s "$out"/memscript_*.deb) bytes"
  lintian --fail-on error,warning --display-info "$out"/memscript_*.dsc "$out"/memscript_*.deb
  echo "build.sh: lintian passed"
}

if [ "${1:-}" = package ]; then
  build_package
  exit 0
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

# tests/package/installed.lua: installs the package built in build-deb/, uses it from /usr/bin,
# removes and purges it. Its status 77 means tests were skipped where they may be, none failed.
check_installed_package() {
  local status=0
  env LUA_PATH_5_4="$PWD/tests/lib/?.lua" MEMSCRIPT_BIN=/usr/bin/memscript MEMSCRIPT_SOURCE="$PWD" \
    MEMSCRIPT_FIXTURES="$PWD/tests/fixtures" MEMSCRIPT_HELPER="$PWD/build/tests/memhelper" MEMSCRIPT_BUILD="$PWD/build" \
    build/memscript tests/package/installed.lua build-deb/memscript_*.deb || status=$?
  [ "$status" -eq 0 ] || [ "$status" -eq 77 ]
}

if [ "${1:-}" = test ]; then
  run_suite build "the normal suite (build)"
  # The Debian package, built once from the sources the suite has just tested (so without its own
  # run of the suite), then installed, used, removed and purged.
  DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" build_package
  check_installed_package
  # The same suite again with AddressSanitizer and UndefinedBehaviorSanitizer in memscript.
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMEMSCRIPT_SANITIZE=ON -DMEMSCRIPT_WERROR=$werror >/dev/null
  cmake --build build-asan -j"$(nproc)"
  run_suite build-asan "the ASan+UBSan suite (build-asan)"
  # A short, time-bounded run of every parser's libFuzzer harness (tests/fuzz; longer: tests/fuzz/run.sh).
  cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DMEMSCRIPT_FUZZ=ON -DMEMSCRIPT_WERROR=$werror >/dev/null
  cmake --build build-fuzz -j"$(nproc)"
  ctest --test-dir build-fuzz -L fuzz --output-on-failure -j2
fi
