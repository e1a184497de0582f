"Inference under attack and under faults: traversal names, kill -9, two processes at once, keys in long bodies, Ctrl-C."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import numpy as np, pytest
from fastcore import test as fct
from conftest import ctrl_c_reaches_it, vmevalkit
from provider_servers import RunwayServer

EXE = Path(sys.executable).parent/'vmevalkit'
KEY = 'key_live_ADVERSARY_0123456789abcdef'
FAST = {'VMEVAL_POLL_INTERVAL': '0.05', 'VMEVAL_HTTP_BACKOFF': '0.01', 'VMEVAL_HTTP_BACKOFF_MAX': '0.05'}


@pytest.fixture(scope='module')
def questions(tmp_path_factory):
    "Four maze questions, made in this process (no CLI start-up)."
    from vmevalkit.tasks import create_dataset
    q = tmp_path_factory.mktemp('q')/'questions'
    create_dataset(4, ['maze'], seed=0, output_dir=q, workers=1)
    return q

@pytest.fixture(scope='module')
def mp4(tmp_path_factory):
    from vmevalkit.core import write_video
    return write_video([np.full((64, 64, 3), 40*i, np.uint8) for i in range(4)], tmp_path_factory.mktemp('v')/'v.mp4').read_bytes()

@pytest.fixture
def runway(mp4):
    with RunwayServer(KEY, mp4) as srv: yield srv

def env_for(srv)->dict: return {'RUNWAYML_API_SECRET': KEY, 'RUNWAY_BASE_URL': srv.url, **FAST}

def infer_args(questions, out, experiment='adv', *more)->list:
    return ['infer', '--model', 'runway-gen4-turbo', '--experiment', experiment, '--questions-dir', questions,
            '--output-dir', out, '--quiet', *more]

def popen(args, env)->subprocess.Popen:
    base = {k: v for k, v in os.environ.items() if k != 'VMEVAL_DATA_DIR'}
    return subprocess.Popen([str(EXE), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**base, **env}, preexec_fn=ctrl_c_reaches_it)

def statuses(out:Path)->list:
    "The status of every run folder under `out` (hidden temporary folders excluded)."
    return sorted(json.loads(m.read_text())['inference']['status'] for m in out.rglob('metadata.json')
                  if not any(p.startswith('.') for p in m.relative_to(out).parts))

def wait_for(cond, seconds=30)->bool:
    "Whether `cond()` came true within `seconds`."
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline: return False
        time.sleep(0.02)
    return True

def jobs_in_flight(srv, out:Path, n:int):
    "Wait until `n` jobs are submitted and (given a moment) recorded, as a kill or Ctrl-C would find them."
    assert wait_for(lambda: srv.submissions >= n), 'no submissions'
    wait_for(lambda: len(list(out.rglob('.*.job.json'))) >= n, 3)

def tree(path:Path)->list: return sorted(p.relative_to(path).as_posix() for p in path.rglob('*'))


def test_traversal_names_write_and_delete_nothing(tmp_path, questions):
    "Question ids, experiments (flag and YAML) that walk out of the tree: exit 2, the folder outside intact."
    outside = tmp_path/'outside'; outside.mkdir(); (outside/'keep.txt').write_text('precious')
    data = tmp_path/'data'
    q = data/'questions'
    import shutil; shutil.copytree(questions, q)
    manifest = json.loads((q/'vmeval_dataset.json').read_text())
    before = tree(tmp_path)
    for bad in ['../../../outside', str(outside)]:
        manifest['pairs'][0]['id'] = bad
        (q/'vmeval_dataset.json').write_text(json.dumps(manifest))
        res = vmevalkit('infer', '--model', 'oracle', '--experiment', 'e', '--questions-dir', q, '--quiet')
        fct.test_eq(res.returncode, 2)
        assert 'Unsafe question id' in res.stderr and 'Traceback' not in res.stderr, res.stderr
    shutil.rmtree(q); shutil.copytree(questions, q)
    for bad in ['../../outside', str(outside), '', '..']:
        res = vmevalkit('infer', '--model', 'oracle', '--experiment', bad, '--questions-dir', q, '--quiet')
        fct.test_eq(res.returncode, 2)
        fct.test_eq(len(res.stderr.strip().splitlines()), 1)
        cfg = tmp_path/'exp.yaml'
        cfg.write_text(f'experiment: {json.dumps(bad)}\ntasks: {{domains: [maze], pairs_per_domain: 1}}\nmodels: [oracle]\n')
        res = vmevalkit('run', cfg, '--data-dir', tmp_path/'ydata', '--quiet')
        fct.test_eq(res.returncode, 2)
        assert "'experiment'" in res.stderr, res.stderr
    fct.test_eq((outside/'keep.txt').read_text(), 'precious')
    fct.test_eq(tree(outside), ['keep.txt'])
    fct.test_eq([p for p in tree(tmp_path) if p not in before and not p.startswith('data/questions')], ['exp.yaml'])


def slow_jobs_in_flight(tmp_path, questions, runway):
    "A `vmevalkit infer` of 8 slow jobs, returned once 3 of them are submitted and running: (process, outputs folder)."
    runway.job_seconds = 60
    out = tmp_path/'outputs'
    proc = popen(infer_args(questions, out, 'adv', '--samples', 2, '--concurrency', 3), env_for(runway))
    jobs_in_flight(runway, out, 3)
    return proc, out


def test_kill_9_then_rerun_pays_once(tmp_path, questions, runway):
    "kill -9 with slow jobs in flight, then a re-run: every job submitted exactly once, every run a success."
    proc, out = slow_jobs_in_flight(tmp_path, questions, runway)
    proc.kill(); proc.wait()
    fct.test_eq(runway.submissions, 3)
    runway.job_seconds = 0
    res = vmevalkit(*infer_args(questions, out, 'adv', '--samples', 2, '--concurrency', 3), env=env_for(runway))
    fct.test_eq(res.returncode, 0)
    assert '8 runs: 8 done, 0 skipped, 0 failed' in res.stdout, res.stdout + res.stderr
    fct.test_eq(runway.submissions, 8)                      # the three killed jobs were collected, not paid again
    fct.test_eq(statuses(out), ['success']*8)
    fct.test_eq(list(out.rglob('.*')), [])                   # no job record, lock or temporary folder left


def test_two_processes_share_the_work(tmp_path, questions, runway):
    "Two `infer` at once on one experiment: no failure, each job submitted once, every run a success."
    runway.job_seconds = 0.5
    out = tmp_path/'outputs'
    procs = [popen(infer_args(questions, out, 'adv', '--samples', 3, '--concurrency', 4), env_for(runway)) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    fct.test_eq([p.returncode for p in procs], [0, 0])
    for stdout, stderr in outs: assert ' 0 failed' in stdout and 'Traceback' not in stderr, stdout + stderr
    fct.test_eq(runway.submissions, 12)
    fct.test_eq(statuses(out), ['success']*12)               # what one left as busy, the other finished
    fct.test_eq(list(out.rglob('.*')), [])


def test_key_echoed_at_every_offset_never_leaks(tmp_path, questions, runway):
    "A key echoed at every offset 0…339 of a long error body: no 8-character piece of it in any output."
    runway.echo_at = 0
    out = tmp_path/'outputs'
    q = tmp_path/'one'
    from vmevalkit.tasks import create_dataset
    create_dataset(1, ['maze'], seed=0, output_dir=q, workers=1)
    res = vmevalkit(*infer_args(q, out, 'adv', '--samples', 340, '--concurrency', 8, '--yes'), env=env_for(runway))  # $85 estimated
    fct.test_eq(res.returncode, 1)
    fct.test_eq(runway.echoed, 340)
    texts = [res.stdout, res.stderr] + [p.read_text(errors='replace') for p in tmp_path.rglob('*') if p.is_file()]
    pieces = {KEY[i:i+8] for i in range(len(KEY) - 7)}
    fct.test_eq([p for p in pieces if any(p in t for t in texts)], [])
    assert res.stdout.count('HTTP 400') >= 340, res.stdout[:500]


@pytest.mark.parametrize('stop', [signal.SIGINT, signal.SIGTERM])
def test_stop_signal_stops_fast_and_resumes(tmp_path, questions, runway, stop):
    "Ctrl-C (or a scheduler's SIGTERM) during slow jobs: exit 130 within 5 s, one line on stderr; a re-run pays nothing twice."
    proc, out = slow_jobs_in_flight(tmp_path, questions, runway)
    start = time.monotonic()
    proc.send_signal(stop)
    stdout, stderr = proc.communicate(timeout=10)
    fct.test_eq((proc.returncode, time.monotonic() - start < 5), (130, True))
    fct.test_eq(len(stderr.strip().splitlines()), 1)
    assert '3 provider jobs already submitted are kept' in stderr and 'Resume with' in stderr, stderr
    fct.test_eq(runway.submissions, 3)                       # nothing queued was submitted after the stop
    runway.job_seconds = 0
    res = vmevalkit(*infer_args(questions, out, 'adv', '--samples', 2, '--concurrency', 3), env=env_for(runway))
    assert '8 runs: 8 done' in res.stdout, res.stdout + res.stderr
    fct.test_eq(runway.submissions, 8)
    fct.test_eq(statuses(out), ['success']*8)
