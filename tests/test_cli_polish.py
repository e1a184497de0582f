"The command line as people use it: a quick try with --limit, models as JSON, per-model options in a config, a progress bar on a terminal only."
import fcntl, json, os, pty, struct, subprocess, sys, termios
from pathlib import Path
import pytest
from fastcore import test as fct
from fastcore.basics import in_
from conftest import vmevalkit
from vmevalkit.core import read_frames

EXE = Path(sys.executable).parent/'vmevalkit'

@pytest.fixture(scope='module')
def data(tmp_path_factory)->Path:
    root = tmp_path_factory.mktemp('polish')/'data'
    res = vmevalkit('create', '--pairs-per-domain', 3, '--domains', 'maze', 'sudoku', '--workers', 1, '--data-dir', root, '--quiet')
    fct.test_eq(res.returncode, 0)
    return root

def test_limit_takes_the_first_questions_of_each_domain(data):
    res = vmevalkit('infer', '--model', 'still', '--limit', 2, '--experiment', 'try', '--data-dir', data, '--quiet')
    fct.test_eq(res.returncode, 0)
    fct.test_eq(sorted(p.name for p in (data/'outputs/try/still').glob('*_task/*')),
                ['maze_0000', 'maze_0001', 'sudoku_0000', 'sudoku_0001'])
    bad = vmevalkit('infer', '--model', 'still', '--limit', 0, '--experiment', 'try', '--data-dir', data)
    fct.test_eq(bad.returncode, 2)
    fct.test("--limit", bad.stderr, in_)

def test_models_as_json():
    res = vmevalkit('models', '--json')
    fct.test_eq(res.returncode, 0)
    rows = {r['name']: r for r in json.loads(res.stdout)}
    fct.test_eq((rows['oracle']['kind'], rows['oracle']['here']), ('reference', 'ready'))
    fct.test_eq(sorted(rows['oracle']), ['checked', 'family', 'here', 'kind', 'name', 'price', 'status'])

def test_a_config_gives_one_model_its_own_options(tmp_path):
    cfg = tmp_path/'own.yaml'
    cfg.write_text('experiment: own\ntasks: {domains: [maze], pairs_per_domain: 1}\n'
                   'models:\n  - still\n  - crossfade: {duration: 1}\nscorers: [auto]\nanalysis: false\n')
    res = vmevalkit('run', cfg, '--data-dir', tmp_path/'data', '--quiet')
    fct.test_eq(res.returncode, 0)
    frames = {m: len(read_frames(next((tmp_path/'data/outputs/own'/m).rglob('generated_video.mp4')))) for m in ('still', 'crossfade')}
    fct.test_eq(frames, dict(still=32, crossfade=8))  # still: its default 4 s at 8 fps; crossfade: the config's 1 s

def _in_terminal(*args)->tuple:
    "Run `vmevalkit args` with a pseudo-terminal as stdout and stderr; returns (exit code, everything it wrote)."
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', 24, 100, 0, 0))  # a new pty is 0 columns wide
    env = {k: v for k, v in os.environ.items() if k != 'VMEVAL_DATA_DIR'}
    proc = subprocess.Popen([str(EXE), *map(str, args)], stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    out = b''
    while True:
        try: chunk = os.read(master, 4096)
        except OSError: break  # the child closed the terminal
        if not chunk: break
        out += chunk
    os.close(master)
    return proc.wait(timeout=600), out.decode(errors='replace')

def test_score_auto_shows_progress_on_a_terminal_only(data):
    fct.test_eq(vmevalkit('infer', '--model', 'still', '--experiment', 'bar', '--data-dir', data, '--quiet').returncode, 0)
    code, out = _in_terminal('score', 'auto', '--experiment', 'bar', '--data-dir', data, '--workers', 1, '--model', 'still',
                             '--domains', 'maze')
    fct.test_eq(code, 0)
    fct.test("score auto: 100%", out, in_)
    fct.test("3/3", out, in_)
    piped = vmevalkit('score', 'auto', '--experiment', 'bar', '--data-dir', data, '--workers', 1)  # a pipe: no bar
    fct.test_eq((piped.returncode, piped.stderr), (0, ''))
