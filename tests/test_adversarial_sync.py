"""Sync under attack (issue 13): hostile Hub rows and S3 targets never write outside the target, bad arguments are one
line with exit 2, and a stopped transfer leaves only complete files. Runs the `vmevalkit` command in fresh processes
against the local Hub stand-in (`hub_server.py`) and a local S3 server (moto, from `test_sync_s3.py`)."""
import json
from pathlib import Path
import pytest
from fastcore import test as fct

from conftest import vmevalkit
from hub_server import HubStandIn
from test_sync_hub import TOKEN, python
from test_sync_s3 import bucket, server  # noqa: F401 (fixtures)


def tree(root:Path)->dict:
    "Every path under `root` (links not followed) → its bytes, or None for a folder or link."
    return {p.relative_to(root).as_posix(): p.read_bytes() if p.is_file() and not p.is_symlink() else None
            for p in sorted(root.rglob('*'))}

def refused(res, *words):
    "The command failed the documented way: exit 2, one line on stderr naming `words`, no traceback."
    lines = [l for l in res.stderr.splitlines() if l.strip()]
    assert (res.returncode, len(lines)) == (2, 1), (res.returncode, res.stderr[-2000:])
    assert 'Traceback' not in res.stderr and all(w in lines[0] for w in words), lines[0]


@pytest.fixture(scope='module')
def hub(tmp_path_factory):
    with HubStandIn(tmp_path_factory.mktemp('hub'), tokens={TOKEN: 'tester'}) as h: yield h

@pytest.fixture(scope='module')
def env(hub, tmp_path_factory):
    return dict(HF_ENDPOINT=hub.url, HF_TOKEN=TOKEN, HF_HOME=str(tmp_path_factory.mktemp('hf_home')),
                HF_HUB_DISABLE_XET='1', HF_UPDATE_DOWNLOAD_COUNTS='0', HF_HUB_DISABLE_TELEMETRY='1',
                HF_HUB_DISABLE_PROGRESS_BARS='1', HF_DATASETS_DISABLE_PROGRESS_BARS='1')

@pytest.fixture(scope='module')
def questions(tmp_path_factory):
    q = tmp_path_factory.mktemp('data')/'questions'
    res = vmevalkit('create', '--pairs-per-domain', 2, '--domains', 'maze', '--output-dir', q, '--workers', 1)
    assert res.returncode == 0, res.stderr
    return q


PUSH_EVIL = """
import sys
from datasets import Dataset, DatasetDict
from vmevalkit.sync.hub_datasets import question_features, questions_dataset
rows = questions_dataset(sys.argv[1])['full'].to_list()
rows += [{**rows[0], 'id': '../../escape_0001'}, {**rows[1], 'id': sys.argv[2] + '/maze_0002', 'domain': 'maze'}]
DatasetDict(full=Dataset.from_list(rows, features=question_features())).push_to_hub('tester/evil-questions')
"""

def test_pull_refuses_traversal_and_absolute_ids(hub, env, questions, tmp_path):
    outside = tmp_path/'sentinel'
    outside.mkdir(); (outside/'keep.txt').write_text('mine')
    res = python(PUSH_EVIL, env, questions, outside)
    assert res.returncode == 0, res.stderr[-3000:]
    before = tree(tmp_path)
    target = tmp_path/'base'/'questions'
    res = vmevalkit('hf', 'pull-questions', '--repo-id', 'tester/evil-questions', '--target', target, env=env)
    refused(res, "row 2", "Unsafe question id '../../escape_0001'", 'Nothing was written')
    fct.test_eq(tree(tmp_path), before)  # nothing beside the target, in the sentinel, or half-written inside it
    res = vmevalkit('hf', 'pull-questions', '--repo-id', 'tester/evil-questions', '--target', target, '--streaming',
                    env=env)
    refused(res, "row 2", 'Unsafe question id')
    fct.test_eq(tree(tmp_path), before)


def test_push_refuses_unsafe_ids(hub, env, questions, tmp_path):
    local = tmp_path/'questions'
    res = vmevalkit('create', '--pairs-per-domain', 1, '--domains', 'maze', '--output-dir', local, '--workers', 1)
    assert res.returncode == 0, res.stderr
    manifest = json.loads((local/'vmeval_dataset.json').read_text())
    manifest['pairs'][0]['id'] = '../maze_0000'
    (local/'vmeval_dataset.json').write_text(json.dumps(manifest))
    res = vmevalkit('hf', 'push-questions', '--repo-id', 'tester/pushed', '--path', local, env=env)
    refused(res, "Unsafe question id '../maze_0000'")
    fct.test_eq(('dataset', 'tester/pushed') in hub.repos, False)


def test_s3_download_never_writes_through_a_link(bucket, tmp_path):
    data = tmp_path/'data'
    (data/'questions'/'maze_task'/'maze_0000').mkdir(parents=True)
    (data/'questions'/'maze_task'/'maze_0000'/'prompt.txt').write_text('solve it')
    assert vmevalkit('s3', 'upload', '--data-dir', data, '--quiet').returncode == 0
    outside = tmp_path/'outside'
    outside.mkdir(); (outside/'keep.txt').write_text('mine')
    target = tmp_path/'target'
    target.mkdir(); (target/'questions').symlink_to(outside)
    res = vmevalkit('s3', 'download', 'latest', '--to', target, '--quiet')
    refused(res, 'is a symlink')
    fct.test_eq(tree(outside), {'keep.txt': b'mine'})
    (data/'questions'/'elsewhere').symlink_to(outside)  # an upload never follows a link out of the tree either
    refused(vmevalkit('s3', 'upload', '--data-dir', data, '--quiet'), 'outside')


def test_s3_stop_leaves_only_complete_files(bucket, tmp_path, monkeypatch):
    from vmevalkit.core import Interrupted, reset_stop
    from vmevalkit.sync import s3
    data = tmp_path/'data'
    data.mkdir()
    for i in range(4): (data/f'f{i}.txt').write_text(f'file {i}')
    s3.sync_to_s3(data, quiet=True)
    moved, move = [], s3._verified_move
    def move_then_ctrl_c(*args):
        if moved: raise KeyboardInterrupt
        moved.append(move(*args))
    monkeypatch.setattr(s3, '_verified_move', move_then_ctrl_c)
    try:
        with pytest.raises(Interrupted, match='resume with'): s3.download_from_s3('latest', tmp_path/'copy', quiet=True)
    finally: reset_stop()
    got = tree(tmp_path/'copy')
    fct.test_eq((len(got), all(b.startswith(b'file ') for b in got.values())), (1, True))  # no temporary files


def test_bad_arguments_are_one_line(bucket, tmp_path):
    (tmp_path/'a_file').write_text('x')
    cases = [(('s3', 'download', '--workers', '0'), 'at least 1'), (('s3', 'upload', '--workers', '-1'), 'at least 1'),
             (('s3', 'prune', '--keep-last', '-1'), 'at least 0'),
             (('s3', 'download', '--to', tmp_path/'a_file', '--quiet'), 'is a file'),
             (('hf', 'download', '--repo-id', 'me/q', '--target', tmp_path, '--workers', '0'), 'at least 1'),
             (('hf', 'download', '--repo-id', 'not a repo', '--target', tmp_path), "'not a repo' is not a Hub repo id"),
             (('hf', 'pull-questions', '--repo-id', '../x/y'), 'is not a Hub repo id'),
             (('hf', 'upload', '--repo-id', 'me/q', '--type', 'outputs', '--experiment', '../../x'), 'Unsafe experiment'),
             (('hf', 'push-leaderboard', '--repo-id', 'me/q', '--experiment', '/abs'), 'Unsafe experiment')]
    for args, words in cases: refused(vmevalkit(*args), words)
