"""Hub sync against a local stand-in for the Hugging Face Hub (`hub_server.py`, real HTTP on 127.0.0.1, Git LFS included).
The client side runs in fresh processes (the `vmevalkit` command, or `python -c`), because `huggingface_hub` reads
`HF_ENDPOINT` when it is imported."""
import json, os, subprocess, sys
from pathlib import Path
import pytest
from fastcore import test as fct
from conftest import vmevalkit
from hub_server import HubStandIn

TOKEN = 'hf_test_token'


@pytest.fixture(scope='module')
def hub(tmp_path_factory):
    with HubStandIn(tmp_path_factory.mktemp('hub'), tokens={TOKEN: 'tester'}) as h: yield h


@pytest.fixture(scope='module')
def env(hub, tmp_path_factory):
    home = tmp_path_factory.mktemp('hf_home')
    return dict(HF_ENDPOINT=hub.url, HF_TOKEN=TOKEN, HF_HOME=str(home), HF_HUB_DISABLE_XET='1', HF_UPDATE_DOWNLOAD_COUNTS='0',
                HF_HUB_DISABLE_TELEMETRY='1', HF_HUB_DISABLE_PROGRESS_BARS='1', HF_DATASETS_DISABLE_PROGRESS_BARS='1')


@pytest.fixture(scope='module')
def questions(tmp_path_factory):
    "Six real questions (three domains), plus clutter that a sync must leave out."
    q = tmp_path_factory.mktemp('data')/'questions'
    res = vmevalkit('create', '--pairs-per-domain', 2, '--domains', 'maze', 'sudoku', 'chess', '--output-dir', q, '--workers', 1)
    assert res.returncode == 0, res.stderr
    (q/'.DS_Store').write_bytes(b'finder')
    (q/'__pycache__').mkdir(); (q/'__pycache__'/'x.pyc').write_bytes(b'\0')
    return q


def python(code:str, env:dict, *args):
    "Run `code` in a fresh interpreter with `env`; returns the CompletedProcess."
    base = {k: v for k, v in os.environ.items() if not k.startswith('HF_')}
    return subprocess.run([sys.executable, '-c', code, *map(str, args)], capture_output=True, text=True,
                          env={**base, **env}, timeout=300)


def tree_bytes(root:Path)->dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob('*')) if p.is_file()}


def synced(root:Path)->dict:
    return {k: v for k, v in tree_bytes(root).items() if '__pycache__' not in k and '.DS_Store' not in k}


def test_folder_round_trip(hub, env, questions, tmp_path):
    res = vmevalkit('hf', 'whoami', env=env)
    fct.test_eq((res.returncode, res.stdout.strip()), (0, f'tester on {hub.url}'))
    res = vmevalkit('hf', 'upload', '--path', questions, '--repo-id', 'tester/questions', '--private',
                    '--commit-message', 'Upload questions', '--tag', 'v1.0', env=env)
    assert res.returncode == 0, res.stderr
    local = synced(questions)
    assert f'{len(local)} files uploaded in 1 commits, 0 unchanged' in res.stdout
    repo = hub.repos[('dataset', 'tester/questions')]
    fct.test_eq(repo['private'], True)
    fct.test_eq(sorted(hub.files(repo, 'v1.0')), sorted([*local, '.gitattributes']))
    fct.test_eq(repo['commits'][repo['branches']['main']]['message'], 'Upload questions')
    pngs = [k for k in local if k.endswith('.png')]
    fct.test_eq(sum(1 for m, p, c in hub.log if m == 'PUT' and p.startswith('/lfs-upload/')), len(pngs))  # PNGs went by LFS

    res = vmevalkit('hf', 'ls', '--repo-id', 'tester/questions', '--revision', 'v1.0', env=env)
    fct.test_eq(res.stdout.splitlines()[-1], f'{len(local) + 1} files')

    target = tmp_path/'copy'
    res = vmevalkit('hf', 'download', '--repo-id', 'tester/questions', '--target', target, '--revision', 'v1.0', env=env)
    assert res.returncode == 0, res.stderr
    assert f'{len(local)} downloaded, 0 unchanged' in res.stdout
    fct.test_eq(tree_bytes(target), local)  # byte-identical, no .gitattributes, no .cache folder
    fct.test_eq(vmevalkit('validate', target).returncode, 0)

    n_log, head = len(hub.log), repo['branches']['main']
    res = vmevalkit('hf', 'upload', '--path', questions, '--repo-id', 'tester/questions', env=env)
    assert f'0 files uploaded in 0 commits, {len(local)} unchanged' in res.stdout
    fct.test_eq(repo['branches']['main'], head)  # nothing committed
    fct.test_eq([c for m, p, c in hub.log[n_log:] if m == 'POST' and '/commit/' in p], [])

    res = vmevalkit('hf', 'download', '--repo-id', 'tester/questions', '--target', target, env=env)
    assert f'0 downloaded, {len(local)} unchanged' in res.stdout


def test_update_and_delete_only_when_asked(hub, env, questions, tmp_path):
    src = tmp_path/'src'
    (src/'a').mkdir(parents=True)
    (src/'a'/'one.txt').write_text('one'); (src/'two.json').write_text('{}')
    assert vmevalkit('hf', 'upload', '--path', src, '--repo-id', 'tester/small', env=env).returncode == 0
    target = tmp_path/'dst'
    vmevalkit('hf', 'download', '--repo-id', 'tester/small', '--target', target, env=env)
    (target/'mine.txt').write_text('local notes')
    (src/'a'/'one.txt').write_text('one, edited')
    res = vmevalkit('hf', 'upload', '--path', src, '--repo-id', 'tester/small', env=env)
    assert '1 files uploaded in 1 commits, 1 unchanged' in res.stdout, res.stdout
    res = vmevalkit('hf', 'download', '--repo-id', 'tester/small', '--target', target, env=env)
    assert '1 downloaded, 1 unchanged' in res.stdout
    fct.test_eq(((target/'a'/'one.txt').read_text(), (target/'mine.txt').exists()), ('one, edited', True))
    res = vmevalkit('hf', 'download', '--repo-id', 'tester/small', '--target', target, '--delete', env=env)
    assert '1 deleted' in res.stdout
    fct.test_eq((target/'mine.txt').exists(), False)


RESUME = """
import sys
from vmevalkit.sync.hub import hf_upload
from vmevalkit.core import VMEvalError
try: print(hf_upload(sys.argv[1], 'tester/big', commit_message='Upload big', max_files=4))
except VMEvalError as e: print('ERROR', e)
"""

def test_large_tree_uploads_in_resumable_commits(hub, env, tmp_path):
    src = tmp_path/'big'
    for i in range(10): (src/f'd{i % 3}').mkdir(parents=True, exist_ok=True); (src/f'd{i % 3}'/f'f{i}.txt').write_text(f'file {i}')
    hub.commits_until_failure = 1  # the second commit fails: an outage in the middle of an upload
    out = python(RESUME, env, src).stdout
    assert out.startswith('ERROR') and 'simulated outage' in out, out
    repo = hub.repos[('dataset', 'tester/big')]
    fct.test_eq(len([p for p in hub.files(repo, 'main') if p.endswith('.txt')]), 4)  # the first commit's files are kept
    out = python(RESUME, env, src).stdout
    assert '6 files uploaded in 2 commits, 4 unchanged' in out, out
    fct.test_eq(sorted(p for p in hub.files(repo, 'main') if p.endswith('.txt')), sorted(synced(src)))
    titles = [c['message'] for c in repo['commits'].values()]
    assert 'Upload big (part 1/2)' in titles and 'Upload big (part 2/2)' in titles


def test_download_refuses_escaping_and_corrupt_files(hub, env, tmp_path):
    hub.create('dataset', 'tester/evil')
    hub.inject('dataset', 'tester/evil', 'ok.txt', b'fine')
    hub.inject('dataset', 'tester/evil', '../escape.txt', b'gotcha')
    target = tmp_path/'t'/'inside'
    res = vmevalkit('hf', 'download', '--repo-id', 'tester/evil', '--target', target, env=env)
    fct.test_eq(res.returncode, 2)
    assert "refusing remote path '../escape.txt'" in res.stderr
    fct.test_eq((list(target.rglob('*')) if target.exists() else [], (tmp_path/'t'/'escape.txt').exists()), ([], False))

    hub.create('dataset', 'tester/flaky')
    hub.inject('dataset', 'tester/flaky', 'data.txt', b'the right bytes')
    hub.corrupt.add('data.txt')
    target = tmp_path/'flaky'
    target.mkdir(); (target/'data.txt').write_bytes(b'old local copy')
    res = vmevalkit('hf', 'download', '--repo-id', 'tester/flaky', '--target', target, env=env)
    fct.test_eq(res.returncode, 2)
    assert 'data.txt from tester/flaky arrived corrupted' in res.stderr, res.stderr
    fct.test_eq([p.name for p in target.iterdir()], ['data.txt'])  # old copy kept, no temporary file left
    fct.test_eq((target/'data.txt').read_bytes(), b'old local copy')
    hub.corrupt.clear()
    assert vmevalkit('hf', 'download', '--repo-id', 'tester/flaky', '--target', target, env=env).returncode == 0
    fct.test_eq((target/'data.txt').read_bytes(), b'the right bytes')


def test_clear_errors(hub, env, questions, tmp_path):
    bad = {**env, 'HF_TOKEN': 'hf_wrong'}
    for cmd in [('hf', 'whoami'), ('hf', 'upload', '--path', questions, '--repo-id', 'tester/x')]:
        res = vmevalkit(*cmd, env=bad)
        fct.test_eq(res.returncode, 2)
        assert 'rejected the token' in res.stderr and 'HF_TOKEN' in res.stderr and 'hf_wrong' not in res.stderr, res.stderr
    res = vmevalkit('hf', 'whoami', env={**{k: v for k, v in env.items() if k != 'HF_TOKEN'}, 'HF_HOME': str(tmp_path)})
    assert res.returncode == 2 and 'No Hugging Face token found' in res.stderr, res.stderr
    anonymous = {**{k: v for k, v in env.items() if k != 'HF_TOKEN'}, 'HF_HOME': str(tmp_path)}
    res = vmevalkit('hf', 'download', '--repo-id', 'tester/questions', '--target', tmp_path/'x', env=anonymous)
    assert res.returncode == 2 and 'not found, or private' in res.stderr, res.stderr  # private repo, no token
    res = vmevalkit('hf', 'ls', '--repo-id', 'tester/small', '--revision', 'v9', env=env)
    assert res.returncode == 2 and "has no revision 'v9'" in res.stderr, res.stderr
    res = vmevalkit('hf', 'upload', '--repo-id', 'tester/x', env=env)
    assert res.returncode == 2 and '--type questions' in res.stderr


STRUCTURED = """
import json, sys
from pathlib import Path
import datasets
from vmevalkit.core import read_manifest
from vmevalkit.sync.hub_datasets import push_questions, load_hub_dataset
questions = Path(sys.argv[1])
push_questions(questions, 'tester/qds')
pairs = {p.id: p for p in read_manifest(questions)['pairs']}
def same(row):
    p = pairs[row['id']]
    return (row['first_frame']['bytes'] == (questions/p.first_image_path).read_bytes()
            and row['final_frame']['bytes'] == (questions/p.final_image_path).read_bytes()
            and json.loads(row['metadata']) == p.metadata and row['prompt'] == p.prompt and row['domain'] == p.domain)
raw = lambda ds: ds.cast_column('first_frame', datasets.Image(decode=False)).cast_column('final_frame', datasets.Image(decode=False))
full = load_hub_dataset('tester/qds', 'full')
maze = list(raw(load_hub_dataset('tester/qds', 'maze', streaming=True)))
try: load_hub_dataset('tester/qds', 'nope')
except Exception as e: no_split = str(e)
print(json.dumps(dict(full=sorted(full['id']), full_same=all(map(same, raw(full))), image=str(full[0]['first_frame'].size),
                      maze=[r['id'] for r in maze], maze_same=all(map(same, maze)), no_split=no_split)))
"""

def test_structured_questions_round_trip(hub, env, questions, tmp_path):
    res = python(STRUCTURED, env, questions)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.splitlines()[-1])
    assert out.pop('no_split').startswith("tester/qds has no split 'nope'")
    ids = sorted(p.parent.name for p in questions.glob('*_task/*/question_metadata.json'))
    fct.test_eq(out, dict(full=ids, full_same=True, image='(1280, 720)', maze=['maze_0000', 'maze_0001'], maze_same=True))
    readme = hub.object_bytes(hub.files(hub.repos[('dataset', 'tester/qds')], 'main')['README.md']['sha256']).decode()
    assert 'license: mit' in readme and 'size_categories:' in readme and 'configs:' in readme and '| maze | 2 |' in readme

    target = tmp_path/'pulled'
    res = vmevalkit('hf', 'pull-questions', '--repo-id', 'tester/qds', '--target', target, '--streaming', env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    fct.test_eq(vmevalkit('validate', target).returncode, 0)
    want = {k: v for k, v in synced(questions).items() if k != 'vmeval_dataset.json'}
    fct.test_eq({k: v for k, v in tree_bytes(target).items() if k != 'vmeval_dataset.json'}, want)


LEADERBOARD = """
import json, sys
from vmevalkit.sync.hub_datasets import leaderboard, load_hub_dataset
print(json.dumps([leaderboard('pilot', sys.argv[1]), load_hub_dataset('tester/board', 'full').to_list()]))
"""

def test_leaderboard_round_trip(hub, env, tmp_path):
    code = """
import sys
from vmevalkit.core import DataLayout
from vmevalkit.scoring import ScoreRecord, write_score
for model, scores in [('oracle', [5, 5, 4]), ('still', [1, 2, 4])]:
    for tid, s in zip(['maze_0000', 'maze_0001', 'chess_0000'], scores):
        write_score(DataLayout(sys.argv[1]), 'pilot', ScoreRecord('auto', model, tid, f'{model}_{tid}_s0', score=s))
"""
    assert python(code, env, tmp_path/'data').returncode == 0
    res = vmevalkit('hf', 'push-leaderboard', '--repo-id', 'tester/board', '--experiment', 'pilot', '--data-dir', tmp_path/'data', env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    assert '| still | maze | 2 | 0 | 0.0% |' in res.stdout
    local, remote = json.loads(python(LEADERBOARD, env, tmp_path/'data').stdout)
    fct.test_eq(remote, local)
    fct.test_eq([(r['model'], r['domain'], r['n'], r['successes']) for r in local if r['domain'] == 'all'], [('oracle', 'all', 3, 3), ('still', 'all', 3, 1)])


DOCUMENT_000 = """
import json, sys
from pathlib import Path
from datasets import Dataset, DatasetDict, Features, Image, Value
q = Path(sys.argv[1])
pairs = json.loads((q/'vmeval_dataset.json').read_text())['pairs']
rows = [dict(id=p['id'], domain=p['domain'], difficulty=p.get('difficulty', 'unknown'),
             task_category=p.get('task_category', 'unknown'), prompt=p['prompt'],
             first_frame=str(q/f"{p['domain']}_task"/p['id']/'first_frame.png'),
             final_frame=str(q/f"{p['domain']}_task"/p['id']/'final_frame.png'),
             metadata=json.dumps(p.get('metadata', {})), created_at=p.get('created_at', '')) for p in pairs]
features = Features({'id': Value('string'), 'domain': Value('string'), 'difficulty': Value('string'),
                     'task_category': Value('string'), 'prompt': Value('string'), 'first_frame': Image(),
                     'final_frame': Image(), 'metadata': Value('string'), 'created_at': Value('string')})
ds = Dataset.from_dict({k: [r[k] for r in rows] for k in rows[0]}, features=features)
DatasetDict({'full': ds, 'maze': ds.filter(lambda x: x['domain'] == 'maze')}).push_to_hub(
    'tester/doc000', commit_message='Upload VMEval questions dataset')
"""

UPSTREAM = Path(__file__).resolve().parents[2]/'shared'/'fixtures'/'upstream-v0.0.5'

@pytest.mark.skipif(not UPSTREAM.is_dir(), reason=f"the original toolkit's fixture is not at {UPSTREAM}")
def test_pull_a_dataset_built_as_document_000_shows(hub, env, tmp_path):
    "Original questions pushed with document 000's features (no render, no extra) pull back as valid question folders."
    res = python(DOCUMENT_000, env, UPSTREAM)
    assert res.returncode == 0, res.stderr[-3000:]
    target = tmp_path/'pulled'
    res = vmevalkit('hf', 'pull-questions', '--repo-id', 'tester/doc000', '--target', target, env=env)
    fct.test_eq((res.returncode, res.stderr), (0, ''))
    pulled = sorted(p.parent.name for p in target.glob('*_task/*/question_metadata.json'))
    fct.test_eq(pulled, sorted(p.parent.name for p in UPSTREAM.glob('*_task/*/question_metadata.json')))
    for name in ('first_frame.png', 'final_frame.png', 'prompt.txt'):
        fct.test_eq((target/'maze_task/maze_0001'/name).read_bytes(), (UPSTREAM/'maze_task/maze_0001'/name).read_bytes())
    res = vmevalkit('validate', target)
    fct.test_eq((res.returncode, res.stdout.splitlines()[-1]), (0, 'OK: 10 questions, 0 problems'))


def test_evaluations_round_trip(hub, env, tmp_path):
    "`--type evaluations`: the original toolkit's score root goes up and comes back byte for byte."
    root = tmp_path/'data'
    records = {'pilot/luma-ray-2/chess_task/chess_0000/human-eval.json': b'{"metadata": {"scorer": "human-eval"}}',
               'pilot/luma-ray-2/chess_task/chess_0000/GPT4OEvaluator.json': b'{"metadata": {"scorer": "GPT4OEvaluator"}}'}
    for rel, data in records.items():
        (root/'evaluations'/rel).parent.mkdir(parents=True, exist_ok=True)
        (root/'evaluations'/rel).write_bytes(data)
    res = vmevalkit('hf', 'upload', '--type', 'evaluations', '--data-dir', root, '--repo-id', 'tester/evals', env=env)
    fct.test_eq(res.returncode, 0)
    res = vmevalkit('hf', 'download', '--type', 'evaluations', '--data-dir', tmp_path/'other', '--repo-id', 'tester/evals',
                    env=env)
    fct.test_eq(res.returncode, 0)
    fct.test_eq(tree_bytes(tmp_path/'other'/'evaluations'), records)
