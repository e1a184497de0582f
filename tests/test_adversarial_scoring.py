"Scoring under faults and misuse: redone runs, two scorers at once, kill -9, Ctrl-C, and bad filters, through the CLI."
import json, os, shutil, signal, subprocess, sys, time
from pathlib import Path
import pytest
from fastcore import test as fct
from conftest import ctrl_c_reaches_it, vmevalkit

RUNS = 24  # 12 maze questions × oracle and still

@pytest.fixture(scope='module')
def made(tmp_path_factory):
    "A data folder with `RUNS` finished runs in experiment 'x', made once; tests work on copies."
    root = tmp_path_factory.mktemp('made')
    assert vmevalkit('create', '--pairs-per-domain', 12, '--domains', 'maze', cwd=root).returncode == 0
    res = vmevalkit('infer', '--model', 'oracle', 'still', '--experiment', 'x', '--quiet', cwd=root)
    assert res.returncode == 0, res.stderr
    return root

@pytest.fixture
def work(made, tmp_path):
    "A fresh copy of the made data folder; the CLI runs with it as its working directory."
    shutil.copytree(made/'data', tmp_path/'data')
    return tmp_path

def records(work:Path)->list: return sorted((work/'data/scorings/auto-eval/x').rglob('*.json'))

def scored_now(out:str)->int: return int(out.split(' runs scored now')[0].split()[-1])

def score(work, *args): return vmevalkit('score', 'auto', '--experiment', 'x', *args, cwd=work)

def start_score(work, *args)->subprocess.Popen:
    "`vmevalkit score auto` in the background."
    exe = Path(sys.executable).parent/'vmevalkit'
    env = {k: v for k, v in os.environ.items() if k != 'VMEVAL_DATA_DIR'}
    return subprocess.Popen([str(exe), 'score', 'auto', '--experiment', 'x', '--workers', '2', *args], cwd=work, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=ctrl_c_reaches_it)

def children(pid:int)->list:
    "The live (not zombie) processes whose parent is `pid`."
    out = []
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try: fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError: continue
        if int(fields[1]) == pid and fields[0] != 'Z': out.append(int(stat.parent.name))
    return out

def alive(pid:int)->bool:
    try: return Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError: return False

def wait_for(cond, timeout:float=20.):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if v := cond(): return v
        time.sleep(.02)
    raise AssertionError('timed out waiting')

def test_a_redone_run_is_scored_again(work):
    run = next((work/'data/outputs/x/still/maze_task/maze_0000').iterdir())
    meta = json.loads((run/'metadata.json').read_text())
    meta['inference'].update(status='failed', error='provider timed out')
    (run/'metadata.json').write_text(json.dumps(meta)); (run/'video/generated_video.mp4').unlink()
    first = score(work, '--model', 'still', '--workers', 1)
    fct.test_eq(first.returncode, 0)
    rec = work/'data/scorings/auto-eval/x/still/maze_task/maze_0000/auto-eval.json'
    fct.test_eq(json.loads(rec.read_text())['result']['status'], 'skipped')
    redo = vmevalkit('infer', '--model', 'still', '--experiment', 'x', '--quiet', cwd=work)  # redoes the failed run
    fct.test_eq(redo.returncode, 0)
    again = score(work, '--model', 'still', '--workers', 1)
    assert again.stdout.startswith('1 runs scored now, 11 already scored'), again.stdout
    fct.test_eq(json.loads(rec.read_text())['result']['solution_correctness_score'], 1)

def test_an_old_skipped_record_of_a_run_that_now_has_a_video_is_scored(work):
    # a record from before run states: 'skipped', and no run_state; the run itself is a success
    fct.test_eq(score(work, '--model', 'oracle', '--workers', 1).returncode, 0)
    rec = work/'data/scorings/auto-eval/x/oracle/maze_task/maze_0003/auto-eval.json'
    d = json.loads(rec.read_text())
    d['metadata'].pop('run_state', None); d['result'].update(status='skipped', solution_correctness_score=None)
    rec.write_text(json.dumps(d))
    again = score(work, '--model', 'oracle', '--workers', 1)
    assert again.stdout.startswith('1 runs scored now, 11 already scored'), again.stdout
    fct.test_eq(json.loads(rec.read_text())['result']['solution_correctness_score'], 5)

def test_two_scorers_share_the_work(work):
    procs = [start_score(work), start_score(work)]
    outs = [p.communicate(timeout=120) for p in procs]
    fct.test_eq([p.returncode for p in procs], [0, 0])
    fct.test_eq(len(records(work)), RUNS)
    fct.test_eq(sum(scored_now(out) for out, _ in outs), RUNS)  # each run scored once in total, not once per process

def test_kill_9_takes_the_workers_with_it(work):
    p = start_score(work)
    workers = wait_for(lambda: (c := children(p.pid)) and len(c) >= 2 and c)
    assert len(records(work)) < RUNS
    os.kill(p.pid, signal.SIGKILL); p.wait()
    wait_for(lambda: not any(alive(w) for w in workers), timeout=5)

def test_ctrl_c_stops_at_once_and_a_rerun_resumes(work):
    p = start_score(work)
    wait_for(lambda: records(work))
    start = time.monotonic()
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=10)
    assert time.monotonic() - start < 5
    fct.test_eq(p.returncode, 130)
    lines = err.strip().splitlines()
    fct.test_eq(len(lines), 1)
    assert 'resume with: vmevalkit score auto --experiment x' in lines[0].lower(), lines
    left = RUNS - len(records(work))
    assert left > 0, 'every run was scored before the stop: Ctrl-C waited for the queue'
    rerun = score(work, '--workers', 2)
    fct.test_eq(rerun.returncode, 0)
    assert scored_now(rerun.stdout) > 0, rerun.stdout
    fct.test_eq(len(records(work)), RUNS)

@pytest.mark.parametrize('args, says', [
    (['--model', 'orcale'], "Did you mean 'oracle'"),
    (['--domains', 'chess'], "No run of experiment 'x' matches"),
    (['--domains', 'mazes'], "Did you mean 'maze'"),
    (['--workers', '0'], 'at least 1'),
])
def test_bad_filters_are_one_line_and_exit_2(made, args, says):
    res = score(made, *args)
    fct.test_eq(res.returncode, 2)
    lines = res.stderr.strip().splitlines()
    fct.test_eq(len(lines), 1)
    assert says in lines[0] and 'Traceback' not in res.stderr, res.stderr

def test_an_unsafe_experiment_is_refused(made):
    res = vmevalkit('score', 'auto', '--experiment', '../x', cwd=made/'data')
    fct.test_eq(res.returncode, 2)
    assert 'experiment' in res.stderr and '../x' in res.stderr and 'Traceback' not in res.stderr, res.stderr
