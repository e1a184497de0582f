"""The human scorer for real: `vmevalkit score human` writes the notebook, JupyterLab serves it on 127.0.0.1, headless
Chromium runs it and clicks through two runs; and two annotators scoring at the same time in two processes."""
import json, os, socket, subprocess, sys, textwrap, time, urllib.request
from pathlib import Path
import pytest
from conftest import vmevalkit
from browser import chromium_page

TOKEN = 'vmeval-human-test'
MODELS = ['oracle', 'still', 'crossfade']

def _free_port()->int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]

@pytest.fixture(scope='module')
def data(tmp_path_factory):
    "A data folder with one maze question answered by three reference models (experiment `demo`)."
    from vmevalkit.tasks import create_dataset
    from vmevalkit.inference import run_experiment
    data = tmp_path_factory.mktemp('human')/'data'
    create_dataset(1, ['maze'], seed=0, output_dir=data/'questions', workers=1)
    run_experiment(data/'questions', MODELS, 'demo', quiet=True)
    return data

def _records(data:Path, experiment:str='demo')->list:
    return [json.loads(p.read_text()) for p in sorted((data/'scorings/human-eval'/experiment).rglob('*.json'))]

def _wait_for_server(proc, port:int, log:Path, timeout:float=180):
    "Wait until Jupyter answers on `port`; fail with its log if it dies or never does."
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None: pytest.fail(f"JupyterLab exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(f'http://127.0.0.1:{port}/api/status?token={TOKEN}', timeout=5)
            return
        except OSError: time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer within {timeout}s:\n{log.read_text()[-3000:]}")

@pytest.fixture(scope='module')
def lab(data):
    "JupyterLab serving the data folder on 127.0.0.1 (its own runtime, config and workspace folders); yields the URL."
    res = vmevalkit('score', 'human', '--experiment', 'demo', '--data-dir', data)  # no tty: writes, prints, no launch
    assert res.returncode == 0, res.stderr
    assert 'score_demo.ipynb' in res.stdout and '-m jupyterlab' in res.stdout
    port, home = _free_port(), data.parent
    env = {k: v for k, v in os.environ.items() if k != 'VMEVAL_DATA_DIR'}
    env.update(JUPYTER_RUNTIME_DIR=str(home/'runtime'), JUPYTER_CONFIG_DIR=str(home/'config'),
               JUPYTERLAB_WORKSPACES_DIR=str(home/'workspaces'))
    cmd = [sys.executable, '-m', 'jupyterlab', '--no-browser', '--ServerApp.ip=127.0.0.1', f'--ServerApp.port={port}',
           '--ServerApp.port_retries=0', f'--IdentityProvider.token={TOKEN}', f'--ServerApp.root_dir={data}']
    if getattr(os, 'geteuid', lambda: 1)() == 0: cmd.append('--allow-root')
    log = home/'jupyterlab.log'
    with open(log, 'w') as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_server(proc, port, log)
        yield f'http://127.0.0.1:{port}'
    finally:
        proc.terminate()
        try: proc.wait(20)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait()

def _run_all_cells(page, timeout_ms:int=120_000):
    "Run → Run All Cells once the notebook's kernel is up (if Lab still asks for a kernel, accept its choice)."
    page.wait_for_selector('.jp-Notebook', timeout=timeout_ms)
    page.wait_for_function('(s => s && s.innerText.includes("Idle"))(document.querySelector("#jp-main-statusbar"))',
                           timeout=timeout_ms)
    page.click('.lm-MenuBar-itemLabel:text-is("Run")')
    page.click('.lm-Menu-itemLabel:text-is("Run All Cells")')
    name = page.locator('input[placeholder="Your name"]')
    select = page.locator('.jp-Dialog button.jp-mod-accept')
    name.or_(select).first.wait_for(timeout=timeout_ms)
    if select.count(): select.click()
    name.wait_for(timeout=timeout_ms)
    return name

def _submit(page, label:str, status:str, timeout_ms:int=60_000):
    page.click(f'button.widget-toggle-button:text-is("{label}")')
    page.click('button:text-is("Submit"):not([disabled])')
    page.wait_for_function(f'document.body.innerText.includes({json.dumps(status)})', timeout=timeout_ms)

def test_score_two_runs_in_jupyterlab(data, lab):
    with chromium_page() as page:
        page.goto(f'{lab}/lab/tree/scorings/human-eval/score_demo.ipynb?token={TOKEN}')
        _run_all_cells(page).fill('Ada Lovelace')
        page.click('button:text-is("Start")')
        page.wait_for_function('document.body.innerText.includes("3 runs to score")', timeout=60_000)
        # the video streams from Jupyter's /files/ route and the browser decodes it
        page.wait_for_function('(v => v && v.readyState >= 1 && v.duration > 0)(document.querySelector("video"))',
                               timeout=60_000)
        assert '/files/outputs/demo/' in page.evaluate('document.querySelector("video").src')
        assert page.locator('.widget-image').count() == 2
        page.fill('textarea', 'smooth and solved')
        _submit(page, '5 perfect', 'Saved 5 (perfect) for maze_0000')
        _submit(page, '1 wrong', 'Saved 1 (wrong) for maze_0000')
        assert 'scored by Ada Lovelace' in page.inner_text('body')
    recs = {r['metadata']['model_name']: r for r in _records(data)}
    assert set(recs) == {'crossfade', 'oracle'}  # question by question, models in name order
    assert {m: r['result']['solution_correctness_score'] for m, r in recs.items()} == {'crossfade': 5, 'oracle': 1}
    assert {(r['metadata']['scorer'], r['metadata']['annotator']) for r in recs.values()} == {('human', 'Ada Lovelace')}
    assert recs['crossfade']['result']['comments'] == 'smooth and solved' and recs['oracle']['result']['comments'] == ''
    assert recs['oracle']['metadata']['run_id'] == 'oracle_maze_0000_s0'
    assert (data/'scorings/human-eval/demo/crossfade/maze_task/maze_0000/human-eval.Ada-Lovelace.json').is_file()

ANNOTATE = textwrap.dedent("""
    import sys
    from vmevalkit.scoring.human import AnnotationQueue
    data, experiment, name, per_run = sys.argv[1:5]
    print('ready', flush=True)
    sys.stdin.readline()  # both processes begin together
    q = AnnotationQueue(experiment, name, data, annotators_per_run=int(per_run))
    while q.current is not None: q.submit(3 if name == 'Grace' else 4, f'by {name}')
""")

def _annotate_at_once(data:Path, experiment:str, per_run:int, names=('Grace', 'Alan')):
    procs = [subprocess.Popen([sys.executable, '-c', ANNOTATE, str(data), experiment, n, str(per_run)], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for n in names]
    for p in procs: assert p.stdout.readline() == 'ready\n', p.stderr.read()
    for p in procs: p.stdin.write('go\n'); p.stdin.flush()
    for p in procs: assert p.wait(120) == 0, p.stderr.read()

def test_two_annotators_at_once_keep_both(data, tmp_path):
    import shutil
    shutil.copytree(data/'outputs'/'demo', data/'outputs'/'both')
    _annotate_at_once(data, 'both', per_run=2)
    recs = _records(data, 'both')
    assert sorted((r['metadata']['model_name'], r['metadata']['annotator'], r['result']['solution_correctness_score'])
                  for r in recs) == sorted((m, n, s) for m in MODELS for n, s in [('Grace', 3), ('Alan', 4)])

def test_racing_annotators_lose_nothing(data):
    "One annotator per run wanted: the two may both score a run they reached at once, but every file is whole and kept."
    import shutil
    shutil.copytree(data/'outputs'/'demo', data/'outputs'/'race')
    _annotate_at_once(data, 'race', per_run=1)
    recs = _records(data, 'race')
    assert {r['metadata']['model_name'] for r in recs} == set(MODELS)
    for r in recs:
        assert r['result']['solution_correctness_score'] == {'Grace': 3, 'Alan': 4}[r['metadata']['annotator']]
    assert len(recs) == len({(r['metadata']['model_name'], r['metadata']['annotator']) for r in recs})
    assert not list((data/'scorings/human-eval/race').rglob('*.tmp'))
