import os, signal, subprocess, sys
from pathlib import Path
import pytest

def vmevalkit(*args, cwd=None, env=None):
    "Run the installed `vmevalkit` command in a fresh process; returns the CompletedProcess."
    exe = Path(sys.executable).parent/'vmevalkit'
    base = {k: v for k, v in os.environ.items() if k != 'VMEVAL_DATA_DIR'}  # a developer's own setting must not leak in
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env={**base, **(env or {})}, timeout=600)

def ctrl_c_reaches_it():
    """`preexec_fn` for a process a test stops with SIGINT: it gets Ctrl-C as from a terminal, even when the suite runs
    in a background job (whose processes inherit SIGINT ignored, so Ctrl-C would be silently dropped)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)

@pytest.fixture(scope='session')
def dataset_75(tmp_path_factory):
    "The issue's acceptance dataset: `vmevalkit create --pairs-per-domain 15`, made once per session."
    root = tmp_path_factory.mktemp('data')
    res = vmevalkit('create', '--pairs-per-domain', 15, cwd=root)
    assert res.returncode == 0, res.stderr
    return root/'data'/'questions', res


@pytest.fixture(scope='session')
def mp4(tmp_path_factory)->bytes:
    "A tiny H.264 video (8 frames, 64×64): what the provider stand-ins hand out."
    import numpy as np
    from vmevalkit.core import write_video
    path = tmp_path_factory.mktemp('video')/'tiny.mp4'
    write_video([np.full((64, 64, 3), 30*i, np.uint8) for i in range(8)], path, fps=8)
    return path.read_bytes()

@pytest.fixture(scope='session')
def first_frame(tmp_path_factory)->Path:
    "A 1280×720 first frame, as every question has."
    from PIL import Image
    path = tmp_path_factory.mktemp('q')/'first_frame.png'
    Image.new('RGB', (1280, 720), (10, 120, 200)).save(path)
    return path

def answered_mazes(root:Path, questions:int, seed:int)->Path:
    "The data root `root` with `questions` maze questions answered by the oracle and the still model (experiment `e`)."
    from vmevalkit.tasks import create_dataset
    from vmevalkit.inference import run_experiment
    create_dataset(questions, ['maze'], seed=seed, output_dir=root/'questions', workers=1)
    run_experiment(root/'questions', ['oracle', 'still'], 'e', quiet=True)
    return root
