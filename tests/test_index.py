"""The index beside the data tree against a full scan: after runs are added, re-scored, deleted, copied in behind its
back, touched, after the index is deleted or broken, and with two processes writing records at once."""
import os, shutil, sqlite3, subprocess, sys, time
from contextlib import closing
from pathlib import Path

import pandas as pd
import pytest
from fastcore import test as fct

from vmevalkit.analysis import SCORE_TABLE, load_scores, score_files, write_synthetic_scores
from vmevalkit.analysis import _read_rows
from vmevalkit.core import DataLayout
from vmevalkit.core.index import INDEX_NAME, SCORES, connect, index_file, sync
from vmevalkit.scoring import ScoreRecord, write_score

REPO = Path(__file__).resolve().parent.parent

def same_as_scan(root, **filters):
    "The index's table equals a full read of every file (also with filters); returns it."
    indexed = load_scores(root, **filters)
    pd.testing.assert_frame_equal(indexed, load_scores(root, index=False, **filters))
    return indexed

def told_rows(root)->list:
    "The index's rows after taking only what writers told it (no walk of the tree), in file order."
    with closing(connect(root)) as con:
        sync(root, SCORE_TABLE, full=False, con=con)
        fct.test_eq(con.execute('SELECT count(*) FROM pending').fetchone(), (0,))
        return [r[:-1] for r in con.execute(f"SELECT {', '.join(SCORE_TABLE.columns)} FROM {SCORES} ORDER BY file")]

def scanned_rows(root)->list:
    layout = DataLayout(root)
    return [tuple(None if isinstance(v, float) and v != v else v for v in r)   # SQLite keeps NaN as NULL
            for r in _read_rows(score_files(layout), str(layout.root), 1)]

@pytest.fixture
def data(tmp_path):
    root = tmp_path/'data'
    write_synthetic_scores(root, tasks=3, samples=2)
    return root

def rescore(root, experiment, model, task_id, run_id, score, scorer='auto'):
    return write_score(DataLayout(root), experiment, ScoreRecord(scorer, model, task_id, run_id, 'completed', score,
                                                                 'rescored', 'test'))

def test_added_rescored_deleted(data):
    first = same_as_scan(data)
    fct.test_eq(index_file(data).is_file(), True)
    write_synthetic_scores(data, experiment='second', tasks=2, samples=1, seed=1)            # runs added
    both = same_as_scan(data)
    fct.test_eq(sorted(set(both.experiment)), ['second', 'synthetic'])
    same_as_scan(data, experiment='second'); same_as_scan(data, scorer='human'); same_as_scan(data, scorer='gpt4o-eval')
    run = first[(first.scorer == 'auto') & (first.status == 'completed')].iloc[0]
    new = 1 if run.score != 1 else 5
    rescore(data, run.experiment, run.model, run.task_id, run.run_id, new)                   # re-scored
    after = same_as_scan(data)
    fct.test_eq(after.loc[after.path == run.path, 'score'].tolist(), [float(new)])
    shutil.rmtree(data/'scorings/auto-eval/synthetic/oracle')                                  # deleted
    fct.test_eq('oracle' in set(same_as_scan(data, scorer='auto', experiment='synthetic').model), False)
    shutil.rmtree(data/'scorings/gpt4o-eval')
    fct.test_eq(sorted(set(same_as_scan(data).scorer)), ['auto', 'human'])

def test_tree_changed_behind_its_back(data, tmp_path):
    same_as_scan(data)
    other = tmp_path/'other'
    write_synthetic_scores(other, experiment='synced', tasks=2, samples=1, seed=3)
    for scorer in ('auto-eval', 'human-eval'):                                                 # a sync from elsewhere
        shutil.copytree(other/'scorings'/scorer/'synced', data/'scorings'/scorer/'synced')     # (times kept)
    fct.test_eq('synced' in set(same_as_scan(data).experiment), True)
    victim = Path(score_files(DataLayout(data), 'synced', 'auto')[0])                          # edited in place,
    text = victim.read_text()
    stamp = victim.stat()
    with open(victim, 'r+') as f: f.write(text.replace('"explanation": "synthetic', '"explanation": "Synthetic'))
    os.utime(victim, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1_000_000_000))               # then touched
    fct.test_eq(same_as_scan(data, experiment='synced').explanation.str.startswith('Synthetic').sum(), 1)
    shutil.rmtree(data/'scorings/human-eval/synced')                                           # a deleted folder
    fct.test_eq(set(same_as_scan(data, experiment='synced').scorer), {'auto'})

def test_broken_records_are_reported_alike(data):
    same_as_scan(data)
    victim = Path(score_files(DataLayout(data), scorer='human')[3])
    victim.write_text('{"metadata": {}, "result": {"status": "completed", "solution_correctness_score": 9}}')
    with pytest.raises(Exception) as scan: load_scores(data, index=False)
    with pytest.raises(Exception) as indexed: load_scores(data)
    fct.test_eq(str(indexed.value), str(scan.value))
    fct.test_eq(len(load_scores(data, scorer='auto')), len(load_scores(data, scorer='auto', index=False)))  # elsewhere fine
    victim.unlink()
    same_as_scan(data)

def test_deleting_or_breaking_the_index_loses_nothing(data):
    before = same_as_scan(data)
    for f in data.glob(INDEX_NAME + '*'): f.unlink()
    pd.testing.assert_frame_equal(same_as_scan(data), before)
    index_file(data).write_bytes(b'\0garbage, not SQLite' * 100)
    pd.testing.assert_frame_equal(same_as_scan(data), before)

def test_writers_tell_the_index(data):
    same_as_scan(data)
    rescore(data, 'synthetic', 'still', 'chess_0001', 'still_chess_0001_s1', 5)
    rescore(data, 'synthetic', 'still', 'chess_0009', 'still_chess_0009_s0', 4, scorer='human')  # a new file
    fct.test_eq(told_rows(data), scanned_rows(data))                                              # without a walk

WRITER = """
import sys; sys.path.insert(0, {repo!r})
from vmevalkit.core import DataLayout
from vmevalkit.scoring import ScoreRecord, write_score
who = sys.argv[1]
for i in range(60):
    write_score(DataLayout({root!r}), 'busy', ScoreRecord('human', 'still', f'maze_{{i:04d}}', f'still_maze_{{i:04d}}_s0',
                'completed', 1 + i % 5, 'x', 'human', annotator=who))
"""

def test_two_processes_writing_at_once(data):
    same_as_scan(data)
    script = WRITER.format(repo=str(REPO), root=str(data))
    procs = [subprocess.Popen([sys.executable, '-c', script, who]) for who in ('ada', 'bob')]
    fct.test_eq([p.wait(120) for p in procs], [0, 0])
    fct.test_eq(told_rows(data), scanned_rows(data))
    fct.test_eq(len(same_as_scan(data, experiment='busy')), 120)

def test_a_locked_index_never_fails_a_score(data):
    same_as_scan(data)
    with closing(sqlite3.connect(index_file(data), isolation_level=None)) as lock:
        lock.execute('BEGIN EXCLUSIVE')
        start = time.monotonic()
        path = rescore(data, 'synthetic', 'oracle', 'maze_0002', 'oracle_maze_0002_s0', 1)
        assert time.monotonic() - start < 15
        lock.execute('ROLLBACK')
    fct.test_eq(path.is_file(), True)
    fct.test_eq(load_scores(data).loc[lambda d: d.path == path.relative_to(data).as_posix(), 'score'].tolist(), [1.0])
    same_as_scan(data)

def test_the_dashboards_run_table_follows_the_tree(data, tmp_path):
    from vmevalkit.dashboard import ResultFolder, read_run, run_files
    def scanned():
        return [read_run(Path(f).parent, data/'outputs') for f in run_files(DataLayout(data)) if Path(f).is_file()]
    folder = ResultFolder(data)
    fct.test_eq(folder.runs(), scanned())
    write_synthetic_scores(data, experiment='second', tasks=2, samples=1, seed=1)              # added
    fct.test_eq(folder.runs(), scanned())
    shutil.rmtree(data/'outputs/synthetic/still')                                              # deleted
    shutil.copytree(data/'outputs/second', data/'outputs/copied')                              # copied in
    meta = next((data/'outputs/copied').rglob('metadata.json'))
    meta.write_text(meta.read_text().replace('"synthetic"', '"success"'))                      # edited
    runs = folder.runs()
    fct.test_eq(runs, scanned())
    fct.test_eq(sorted({r['experiment'] for r in runs}), ['copied', 'second', 'synthetic'])
    fct.test_eq(sum(r['status'] == 'success' for r in runs), 1)

def test_a_serving_dashboard_sees_changes_behind_its_back(data):
    from vmevalkit.dashboard import ResultFolder
    folder = ResultFolder(data, refresh=0.2)
    fct.test_eq(folder.read().count(model='still') > 0, True)
    shutil.rmtree(data/'outputs/synthetic/still')                                               # no writer told
    deadline = time.monotonic() + 20
    while folder.read().count(model='still') and time.monotonic() < deadline: time.sleep(0.1)
    fct.test_eq(folder.read().count(model='still'), 0)
    rescore(data, 'synthetic', 'oracle', 'maze_0000', 'oracle_maze_0000_s0', 1, scorer='human')  # a writer told:
    res = folder.read()                                                                           # the next request
    fct.test_eq([s['score'] for r in res.query(model='oracle', task_id='maze_0000', scorer='human') for s in r['scores']
                 if s['annotator'] == ''], [1.0])

def test_the_human_queue_from_the_index_equals_one_from_every_file(tmp_path):
    "An annotator's queue opened through the index holds what reading every run and record says, as the tree changes."
    import json
    from unittest import mock
    from conftest import answered_mazes
    from vmevalkit.scoring import human
    root = answered_mazes(tmp_path/'data', 3, seed=0)
    def queue(**kw):
        fast = human.AnnotationQueue('e', 'Grace', root, **kw)
        with mock.patch.object(human, '_indexed_runs', lambda layout, experiment: None), \
             mock.patch.object(human, 'experiment_human_records', lambda layout, experiment: None):
            slow = human.AnnotationQueue('e', 'Grace', root, **kw)
        fct.test_eq((fast.items, fast.scored_by, fast.queue), (slow.items, slow.scored_by, slow.queue))
        return fast
    fct.test_eq(len(queue().items), 6)
    fct.test_eq(index_file(root).is_file(), True)
    queue().submit(5)                                                                     # our own record
    human.write_human_record(DataLayout(root), 'e', ScoreRecord('human', 'still', 'maze_0001', 'still_maze_0001_s0', score=1,
                                                                 annotator='Ada'))       # another annotator's
    original = root/'evaluations/e/oracle/maze_task/maze_0002/human-eval.json'             # the original toolkit's
    original.parent.mkdir(parents=True)
    original.write_text(json.dumps(dict(metadata=dict(scorer='human-eval', annotator='Ann', model_name='oracle',
                                                      task_id='maze_0002'), result=dict(solution_correctness_score=4, status='completed'))))
    q = queue(annotators_per_run=2)
    fct.test_eq(sorted(len(v) for v in q.scored_by.values()), [0, 0, 0, 1, 1, 1])
    shutil.rmtree(root/'outputs/e/still/maze_task/maze_0002')                               # a run deleted
    run = root/'outputs/e/oracle/maze_task/maze_0001/oracle_maze_0001_s0'
    (run/'video/generated_video.mp4').unlink()                                               # a video lost
    fct.test_eq(len(queue().items), 4)
