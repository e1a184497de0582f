#!/usr/bin/env bash
# The whole test suite: library/notebook sync, notebook lessons (nbdev-test), the docs check, integration tests (pytest).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh --test
export PATH="$PWD/.venv/bin:$PATH" PYTHONHASHSEED=random

echo "== 1/4 notebooks and library in sync"
state() { git status --porcelain --untracked-files=all; git diff; }
before=$(state)
nbdev-export
nbdev-clean
python scripts/make_readme.py
after=$(state)
if [ "$before" != "$after" ]; then
  echo "nbdev-export / nbdev-clean / make_readme changed files: commit the regenerated library, cleaned notebooks and README."
  diff <(echo "$before") <(echo "$after") || true
  exit 1
fi

echo "== 2/4 notebook lessons"
nbdev-test --n-workers 2

echo "== 3/4 docs: every notebook processes under nbdev's docs rules; outputs fit to publish"
python scripts/check_docs.py

echo "== 4/4 integration tests"
python -m pytest -q tests
