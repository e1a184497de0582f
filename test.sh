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

echo "== 2/4 notebook lessons; each notebook's outputs are saved back and must come out as committed"
# Running a notebook twice must give the same saved outputs: this run is the second, the committed outputs the first.
before=$(state)
nbdev-test --n-workers 2 --save
nbdev-clean
after=$(state)
if [ "$before" != "$after" ]; then
  echo "Running the notebooks changed their saved outputs. Either an output differs from run to run (a clock time, a"
  echo "temporary path, a timing: show something stable instead), or the committed outputs are stale (commit these)."
  diff <(echo "$before") <(echo "$after") | head -200 || true
  exit 1
fi

echo "== 3/4 docs: every notebook processes under nbdev's docs rules; outputs fit to publish"
python scripts/check_docs.py

echo "== 4/4 integration tests"
python -m pytest -q tests
