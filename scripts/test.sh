#!/usr/bin/env bash
# Installs everything the tests need and runs all of them: the C++ suite (ctest) and the Python
# suite (pytest), each also against an ASan+UBSan build, plus a smoke run of the benchmarks.
# Usage: bash scripts/test.sh        (root on Debian/Ubuntu: installs libgtest-dev with apt)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n==> %s\n' "$*"; }

step "system packages (GoogleTest, compiler)"
need=()
dpkg -s libgtest-dev >/dev/null 2>&1 || need+=(libgtest-dev)
command -v g++ >/dev/null 2>&1 || need+=(g++)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi

step "Python environment (.venv) and the package with its test extra"
python3 -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1
python -m pip install -q --upgrade pip
python -m pip install -q cmake ninja

step "the wheel users install: sdist, a wheel built from it, repaired to a manylinux tag"
wheel=$(bash scripts/wheel.sh python | tail -1)
echo "$wheel"
python -m pip install -q "$wheel[test,spark,ray]"
# The oracles must be importable: tests that compare against them must not silently skip.
python -c "import xxhash, mmh3, polars, pandas, sklearn, scipy, farmhash, yaml, duckdb, pytest_benchmark, ray.data"

jobs=$(nproc 2>/dev/null || echo 2)

step "lint (ruff)"
python -m pip install -q ruff
ruff check python tests bench tools
ruff format --check python tests bench tools

step "C++ tests (Release, as wheels are built; warnings as errors)"
cmake -S . -B build/ctest -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DFEATFORGE_BUILD_TESTS=ON -DFEATFORGE_WERROR=ON >/dev/null
cmake --build build/ctest -j "$jobs"
ctest --test-dir build/ctest --output-on-failure -j "$jobs"

step "C++ tests under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build/sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DFEATFORGE_BUILD_TESTS=ON -DFEATFORGE_WERROR=ON -DFEATFORGE_SANITIZE=ON >/dev/null
cmake --build build/sanitize -j "$jobs"
ctest --test-dir build/sanitize --output-on-failure -j "$jobs"

step "Python tests (against the repaired wheel installed above)"
# The package is imported from site-packages (python/featforge has no compiled _core).
python -m pytest -q tests/python

step "the repaired wheel in a fresh venv with no compiler on PATH"
# What a user without a toolchain gets: nothing may compile at install or at run time. The
# engines' tests (Spark, Ray) ran above against the same wheel.
rm -rf build/wheel-venv
python -m venv build/wheel-venv
build/wheel-venv/bin/python -m pip install -q "$wheel[test]"
no_compiler=$(mktemp -d)
for tool in sh bash env java redis-server chromium; do
  if command -v "$tool" >/dev/null; then ln -s "$(command -v "$tool")" "$no_compiler/$tool"; fi
done
(cd "$root" && PATH="$root/build/wheel-venv/bin:$no_compiler" \
  build/wheel-venv/bin/python -c "import shutil; assert not any(shutil.which(c) for c in ('cc', 'gcc', 'g++', 'c++', 'clang', 'cmake'))" &&
  PATH="$root/build/wheel-venv/bin:$no_compiler" build/wheel-venv/bin/python -m pytest -q \
  tests/python -p no:cacheprovider --ignore=tests/python/test_spark.py \
  --ignore=tests/python/test_ray.py)

step "benchmark smoke run (small N, timings not reported)"
(cd "$root" && FEATFORGE_BENCH_N=20000 python -m pytest -q bench --benchmark-disable -p no:cacheprovider)

step "Python tests against an ASan+UBSan build of the extension"
# Installed beside the normal one (--target, first on PYTHONPATH); the sanitizer runtimes are
# preloaded into Python. Left out: the allocation-counting test (ASan replaces the allocator) and
# the Spark tests (the preload would reach the JVM; the normal run covers them).
asan_site="$root/build/asan-site"
rm -rf "$asan_site"
python -m pip install -q --no-deps --target "$asan_site" \
  -C cmake.define.FEATFORGE_SANITIZE=ON -C cmake.build-type=Debug -C build-dir=build/asan-ext .
PYTHONPATH="$asan_site" \
  LD_PRELOAD="$(g++ -print-file-name=libasan.so):$(g++ -print-file-name=libubsan.so)" \
  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  python -m pytest -q tests/python -p no:cacheprovider -k "not allocates_the_output" \
  --ignore=tests/python/test_spark.py
