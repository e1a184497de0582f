"""The human scorer for real: `vmevalkit score human` writes the notebook, JupyterLab serves it on 127.0.0.1, headless
Chromium runs it and scores three runs blind with the keyboard (screenshots in tests/artifacts/); and two annotators
scoring at the same time in two processes."""
import json, os, re, socket, subprocess, sys, textwrap, time, urllib.request
from pathlib import Path
import pytest
from conftest import vmevalkit
from browser import chromium_page

TOKEN = 'vmeval-human-test'
MODELS = ['oracle', 'still', 'crossfade']
ARTIFACTS = Path(__file__).resolve().parent/'artifacts'

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
               JUPYTERLAB_WORKSPACES_DIR=str(home/'workspaces'), JUPYTERLAB_SETTINGS_DIR=str(home/'settings'))
    # no "get notified about Jupyter news?" toast over the page (it would cover the score bar)
    news = home/'settings/@jupyterlab/apputils-extension/notification.jupyterlab-settings'
    news.parent.mkdir(parents=True)
    news.write_text(json.dumps({'fetchNews': 'false'}))
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

MODEL_TEXT = re.compile(r'oracle|still|crossfade|outputs/|_s0')  # a model's name, a run id or a run's folder

IN_VIEW = """(sel => [...document.querySelectorAll(sel)].map(el => {
    const r = el.getBoundingClientRect(), x = r.left + r.width/2, y = r.top + r.height/2;
    return r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth &&
           el.contains(document.elementFromPoint(x, y));
}).every(Boolean))"""  # every element matching `sel` lies inside the viewport, uncovered

def _press(page, key:str, until:str, timeout_ms:int=60_000):
    "Press `key` and wait until the JavaScript condition `until` holds."
    page.keyboard.press(key)
    page.wait_for_function(until, timeout=timeout_ms)

def _status(text:str)->str:
    return f'document.querySelector(".vmeval-scorebar").innerText.includes({json.dumps(text)})'

VIDEO = 'document.querySelector(".vmeval-scorer video")'
LOADED = f'(v => v.readyState >= 2 && v.duration > 0)({VIDEO})'

def _frame(page)->dict:
    return page.evaluate(f"(v => ({{time: v.currentTime, src: v.src,"
                         f"readout: document.querySelector('.vmeval-frame').textContent}}))({VIDEO})")

def test_score_with_the_keyboard_in_jupyterlab(data, lab):
    """Ada scores the three answers to the question blind, with the keyboard, at 1280×720: the score buttons are in
    view without scrolling, typing a comment scores nothing, the video steps frame by frame, and the agreement panel
    compares her with Grace, who scored the same runs before."""
    from vmevalkit.core import DataLayout
    from vmevalkit.scoring.human import AnnotationQueue, annotator_order, scoring_items
    from vmevalkit.analysis.agreement import cohen_kappa
    notebook = data/'scorings/human-eval/score_demo.ipynb'
    notebook.write_text(notebook.read_text().replace('annotators_per_run=1', 'annotators_per_run=2'))
    first, second, third = annotator_order(scoring_items(DataLayout(data), 'demo'), 'Ada Lovelace', 'demo')
    grace, GRACE = AnnotationQueue('demo', 'Grace', data, annotators_per_run=2), {first: 5, second: 2, third: 1}
    while grace.current: grace.submit(GRACE[grace.current])
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page(viewport=(1280, 720)) as page:
        requests = []
        page.on('request', lambda r: requests.append(r.url))
        page.goto(f'{lab}/lab/tree/scorings/human-eval/score_demo.ipynb?token={TOKEN}')
        _run_all_cells(page).fill('Ada Lovelace')
        page.click('button:text-is("Start")')
        page.wait_for_function(_status('3 runs to score'), timeout=60_000)
        page.wait_for_function(LOADED, timeout=60_000)
        page.wait_for_function(f'{IN_VIEW}(".vmeval-run h4")')  # the screen scrolled the run into view
        page.screenshot(path=str(ARTIFACTS/'human_scoring_start.png'))
        # blind: every medium comes from a blob: address, and nothing in the screen or any request names a model
        sources = page.eval_on_selector_all('.vmeval-scorer video, .vmeval-scorer img', 'els => els.map(e => e.src)')
        assert len(sources) == 3 and all(s.startswith('blob:') for s in sources), sources
        assert not MODEL_TEXT.findall(page.eval_on_selector('.vmeval-scorer', 'e => e.outerHTML'))
        # the video is at least 640 px wide; the scores and Submit are in view without scrolling
        assert page.eval_on_selector('.vmeval-scorer video', 'v => v.getBoundingClientRect().width') >= 640
        assert page.locator('.vmeval-scorebar button').count() == 9
        assert page.evaluate(f'{IN_VIEW}(".vmeval-scorebar button")')  # no scrolling done by the test
        page.wait_for_function('document.querySelector(".vmeval-scorer").contains(document.activeElement)')

        _press(page, '5', 'document.querySelector("button.mod-active")?.innerText === "5 perfect"')
        page.click('.vmeval-scorer textarea')
        page.keyboard.type('1 smooth, solved')  # typed, not shortcuts: the score stays 5
        assert page.input_value('.vmeval-scorer textarea') == '1 smooth, solved'
        assert page.inner_text('button.mod-active') == '5 perfect'
        _press(page, 'Escape', 'document.activeElement === document.querySelector(".vmeval-scorer")')
        first_video = _frame(page)['src']
        _press(page, 'Enter', _status('Saved 5 (perfect) for maze_0000'))
        page.wait_for_function(f'{VIDEO}.src !== {json.dumps(first_video)} && {LOADED}', timeout=60_000)

        # frame stepping pauses the video and moves it by one frame; l turns the loop off
        _press(page, 'ArrowRight', f'{VIDEO}.paused')
        page.wait_for_function(f'!{VIDEO}.seeking')
        start = _frame(page)
        _press(page, 'ArrowRight', f'{VIDEO}.currentTime > {start["time"]} && !{VIDEO}.seeking')
        ahead = _frame(page)
        _press(page, 'ArrowLeft', f'{VIDEO}.currentTime < {ahead["time"]} && !{VIDEO}.seeking')
        assert abs(_frame(page)['time'] - start['time']) < 1e-3
        n = int(start['readout'].split()[1])
        assert (start['readout'].split()[:2], ahead['readout'].split()[:2]) == (['frame', str(n)], ['frame', str(n + 1)])
        _press(page, 'l', f'!{VIDEO}.loop && !document.querySelector(".vmeval-video-controls input").checked')
        _press(page, ' ', f'!{VIDEO}.paused')

        heading = 'document.querySelector(".vmeval-scorer h4").innerText'
        _press(page, 'p', f'{heading}.includes("1 of 3 · you scored this 5 before")')
        _press(page, 'n', f'{heading}.includes("2 of 3") && !{heading}.includes("before")')
        before = _frame(page)['src']
        _press(page, 's', f'{VIDEO}.src !== {json.dumps(before)} && {heading}.includes("2 of 3")')  # the third run now
        page.keyboard.press('1')
        _press(page, 'Enter', _status('Saved 1 (wrong) for maze_0000'))
        page.keyboard.press('3')
        _press(page, 'Enter', _status('All done'))
        page.wait_for_function(f'{IN_VIEW}(".vmeval-scorer table:last-child")')  # the agreement panel
        panel = page.inner_text('.vmeval-scorer table:has-text("agreement")')
        page.screenshot(path=str(ARTIFACTS/'human_scoring_done.png'))
        # none of the keys reached the notebook: its two cells are as they were, and s did not save it
        assert (page.locator('.jp-MarkdownCell').count(), page.locator('.jp-CodeCell').count()) == (1, 1)
        assert page.locator('.lm-TabBar-tab.jp-mod-dirty:has-text("score_demo.ipynb")').count() == 1
    kappa = cohen_kappa([5, 3, 1], [5, 2, 1])
    assert ['Ada Lovelace & Grace', '3', '67%', f'{kappa:.2f}'] == panel.splitlines()[-1].split('\t'), panel
    assert not [u for u in requests if MODEL_TEXT.search(u)]
    ada = {r['metadata']['run_id']: r for r in _records(data) if r['metadata']['annotator'] == 'Ada Lovelace'}
    assert {k: r['result']['solution_correctness_score'] for k, r in ada.items()} == {
        first.run_id: 5, second.run_id: 3, third.run_id: 1}
    assert ada[first.run_id]['result']['comments'] == '1 smooth, solved'
    assert ada[third.run_id]['result']['comments'] == ''

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
