"The rotation checker on a labelled suite: oracle and perturbed oracle pass, baselines and wrong turns fail."
import numpy as np
import pytest
from fastcore import test as fct
from vmevalkit.core import write_video
from vmevalkit.models.reference import CrossfadeModel, CutToFinalModel, OracleModel, StillModel
from vmevalkit.scoring import check_video, judge, perturb
from vmevalkit.scoring.rotation import RotationChecker, turn_frames, view_bank
from vmevalkit.tasks import get_task
from vmevalkit.tasks.rotation import draw_view

TASK, CHECKER = get_task('rotation'), RotationChecker()
PAIRS = [TASK.make_pair(i, seed=11) for i in range(6)]  # two questions of each level (levels take turns)

def reference(cls, pair, n=24): return cls(cls.__name__, 'reference', fps=8).frames(TASK, pair, n)
def direct(frames, pair): return judge([CHECKER.read(np.asarray(f), pair) for f in frames], pair, CHECKER)
def gap(a, b): return abs((a - b + 180) % 360 - 180)

def test_levels_covered():
    fct.test_eq(sorted(p.difficulty for p in PAIRS), ['easy']*2 + ['hard']*2 + ['medium']*2)

@pytest.mark.parametrize('pair', PAIRS[:3], ids=lambda p: p.id)
def test_reads_every_oracle_view(pair):
    q, frames = pair.metadata, TASK.solution_frames(pair.metadata)
    n = len(frames)
    for k in range(0, n, 3):
        s = CHECKER.read(np.asarray(frames[k]), pair)
        assert s is not None, f"frame {k} unreadable"
        azim = q['first_view']['azim'] + q['angle']*k/(n - 1)
        elev = q['first_view']['elev'] + q['elev_change']*k/(n - 1)
        assert gap(s['azim'], azim) <= 5 and abs(s['elev'] - elev) <= 5, (k, s, azim, elev)

def test_unreadable_frames():
    pair = PAIRS[0]
    empty = np.asarray(draw_view([[0, 0, 0]], pair.metadata['first_view']))
    other = np.asarray(draw_view(PAIRS[1].metadata['voxels'], pair.metadata['first_view']))
    fct.test_eq((CHECKER.read(empty, pair), CHECKER.read(other, pair)), (None, None))
    fct.test_eq(CHECKER.describe(None, pair), 'no view readable')

@pytest.mark.parametrize('pair', PAIRS[::2], ids=lambda p: p.id)
def test_oracle_through_h264_scores_5(pair, tmp_path):
    v = check_video(write_video(reference(OracleModel, pair), tmp_path/'oracle.mp4'), pair, CHECKER)
    fct.test_eq((v.score, v.process_problems), (5, []))

@pytest.mark.parametrize('pair', [PAIRS[1], PAIRS[5]], ids=lambda p: p.id)
def test_perturbed_oracle_scores_5(pair, tmp_path):
    frames = [perturb(perturb(perturb(perturb(np.asarray(f), 'rescale'), 'shift'), 'brighten'), 'noise')
              for f in reference(OracleModel, pair)]
    v = check_video(write_video(frames, tmp_path/'perturbed.mp4'), pair, CHECKER)
    fct.test_eq((v.score, v.process_problems), (5, []))

@pytest.mark.parametrize('pair', PAIRS, ids=lambda p: p.id)
def test_baselines_fail(pair):
    fct.test_eq(direct(reference(StillModel, pair), pair).last_solved, False)
    for cls in (CutToFinalModel, CrossfadeModel):
        v = direct(reference(cls, pair), pair)
        assert v.process_problems and v.score < 4, (cls.__name__, v.explanation)

@pytest.mark.parametrize('pair', PAIRS, ids=lambda p: p.id)
def test_wrong_turns_fail(pair):
    q = pair.metadata
    wrong = dict(opposite=turn_frames(q, -q['angle'], q['elev_change']),
                 half=turn_frames(q, q['angle']//2, q['elev_change']),
                 overshoot=turn_frames(q, q['angle'] + 90*np.sign(q['angle']), q['elev_change']))
    for case, frames in wrong.items():
        v = direct(frames, pair)
        assert v.score < 4 and v.process_problems, (case, v.explanation)
        if case != 'opposite' or abs(q['angle']) != 180: fct.test_eq(v.last_solved, False)

@pytest.mark.parametrize('pair', [p for p in PAIRS if p.metadata['elev_change']][::2], ids=lambda p: p.id)
def test_camera_moving_the_wrong_way_fails(pair):
    q = pair.metadata
    v = direct(turn_frames(q, q['angle'], -q['elev_change']), pair)
    assert not v.last_solved and any('camera' in p for p in v.process_problems), v.explanation

def test_views_are_drawn_once_per_question():
    pair = PAIRS[0]
    CHECKER.read(np.asarray(TASK.first_frame(pair.metadata)), pair)
    drawn = len(view_bank(pair).views)
    CHECKER.read(np.asarray(TASK.first_frame(pair.metadata)), pair)
    fct.test_eq(len(view_bank(pair).views), drawn)
