"The automatic scorer end to end: reference models bracket every score, bad input is recorded, re-runs resume."
import json
from pathlib import Path
import numpy as np
from fastcore import test as fct
from conftest import vmevalkit
from vmevalkit.core import write_video

ROOT = Path(__file__).resolve().parent.parent

def records(data:Path, experiment:str)->dict:
    "run_id → result of every auto record of `experiment`."
    out = {}
    for p in (data/'scorings/auto-eval'/experiment).rglob('*.json'):
        d = json.loads(p.read_text()); out[d['metadata']['run_id']] = d['result']
    return out

def test_reference_models_bracket_the_scores(tmp_path):
    data = tmp_path/'data'
    res = vmevalkit('run', ROOT/'configs/demo.yaml', '--data-dir', data, '--quiet')
    fct.test_eq(res.returncode, 0)
    scored = vmevalkit('score', 'auto', '--experiment', 'demo', '--data-dir', data)
    fct.test_eq(scored.returncode, 0)
    recs = records(data, 'demo')
    fct.test_eq(len(recs), 60)
    by_model = {}
    for run_id, r in recs.items(): by_model.setdefault(run_id.split('_')[0], []).append(r)
    fct.test_eq(sorted(r['solution_correctness_score'] for r in by_model['oracle']), [5]*15)
    fct.test_eq(sorted(r['solution_correctness_score'] for r in by_model['still']), [1]*15)
    for adversarial in ['cut-to-final', 'crossfade']:
        assert all(r['status'] == 'completed' and not r['success'] for r in by_model[adversarial]), by_model[adversarial]
        assert all(r['details']['process_problems'] for r in by_model[adversarial])
    again = vmevalkit('score', 'auto', '--experiment', 'demo', '--data-dir', data)
    assert '0 runs scored now, 60 already scored' in again.stdout, again.stdout

def test_bad_videos_are_recorded_and_the_run_goes_on(tmp_path):
    data = tmp_path/'data'
    cfg = tmp_path/'bad.yaml'
    cfg.write_text('experiment: bad\ntasks: {domains: [maze], pairs_per_domain: 6}\nmodels: [oracle]\nscorers: []\n')
    fct.test_eq(vmevalkit('run', cfg, '--data-dir', data, '--quiet').returncode, 0)
    runs = sorted((data/'outputs/bad/oracle/maze_task').glob('*/*'))
    video = lambda i: runs[i]/'video/generated_video.mp4'
    video(0).write_bytes(video(0).read_bytes()[:500])                                    # truncated
    video(1).write_bytes(b'')                                                             # empty
    write_video([np.zeros((1280, 720, 3), np.uint8)]*8, video(2))                         # portrait
    write_video([np.zeros((720, 1280, 3), np.uint8)], video(3))                           # one frame
    meta = json.loads((runs[4]/'metadata.json').read_text()); del meta['question_data']
    (runs[4]/'metadata.json').write_text(json.dumps(meta))                                # question missing
    res = vmevalkit('score', 'auto', '--experiment', 'bad', '--data-dir', data, '--workers', 1)
    fct.test_eq(res.returncode, 1)                                                        # failures are reported ...
    recs = records(data, 'bad')
    fct.test_eq(len(recs), 6)                                                             # ... and every run has a record
    status = {r.parent.name: (recs[r.name]['status'], recs[r.name]['explanation']) for r in runs}
    fct.test_eq(status['maze_0000'][0], 'failed'); fct.test_eq(status['maze_0001'][0], 'failed')
    cause = {r.parent.name: recs[r.name]['details'].get('skip_cause') for r in runs}
    fct.test_eq(status['maze_0002'][0], 'skipped'); fct.test_eq(cause['maze_0002'], 'puzzle not found')  # black, portrait
    fct.test_eq(status['maze_0003'][0], 'skipped'); assert 'no process to judge' in status['maze_0003'][1]
    fct.test_eq(cause['maze_0003'], 'too short')
    fct.test_eq(status['maze_0004'][0], 'skipped'); assert 'question_data' in status['maze_0004'][1]
    fct.test_eq(cause['maze_0004'], 'no question')
    fct.test_eq(recs[runs[5].name]['solution_correctness_score'], 5)
    assert all(recs[r.name]['solution_correctness_score'] is None for r in runs[:5])    # never a 0 or a guess

import pytest
from vmevalkit.scoring import check_video, perturb
from vmevalkit.tasks import get_task

@pytest.mark.parametrize('domain', ['chess', 'maze', 'raven', 'rotation', 'sudoku'])
def test_moved_recoloured_noisy_oracle_still_scores_5(tmp_path, domain):
    # every perturbation at once, on every frame: the checker must register the whole video and still read it
    task = get_task(domain)
    pair = task.make_pair(1, seed=11)
    frames = [perturb(perturb(perturb(np.asarray(f), 'shift'), 'brighten'), 'noise') for f in task.solution_frames(pair.metadata)]
    verdict = check_video(write_video(frames, tmp_path/'oracle.mp4'), pair)
    fct.test_eq(verdict.score, 5)
