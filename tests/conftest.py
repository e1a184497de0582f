import os, subprocess, sys
from pathlib import Path
import pytest

def vmevalkit(*args, cwd=None, env=None):
    "Run the installed `vmevalkit` command in a fresh process; returns the CompletedProcess."
    exe = Path(sys.executable).parent/'vmevalkit'
    base = {k: v for k, v in os.environ.items() if k != 'VMEVAL_DATA_DIR'}  # a developer's own setting must not leak in
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env={**base, **(env or {})}, timeout=600)

@pytest.fixture(scope='session')
def dataset_75(tmp_path_factory):
    "The issue's acceptance dataset: `vmevalkit create --pairs-per-domain 15`, made once per session."
    root = tmp_path_factory.mktemp('data')
    res = vmevalkit('create', '--pairs-per-domain', 15, cwd=root)
    assert res.returncode == 0, res.stderr
    return root/'data'/'questions', res
