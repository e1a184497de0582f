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

def expected_scores(q:dict)->dict:
    "The score a careful scorer gives each case of question `q`, by the 1–5 rule (not by asking the checker)."
    return dict(still=1,              # nothing changed
                cut=3, crossfade=3,   # ends on the final view, the turn never seen
                # the wrong way ends on the answer's view only after a half turn; else it is somewhere else
                opposite=3 if abs(q['angle']) == 180 else 2,
                half=2,               # turned, never reached the final view
                overshoot=3,          # passed through the final view, then turned on
                **({'camera wrong way': 2} if q['elev_change'] else {}))  # the height never matches

def wrong_cases(pair)->dict:
    q = pair.metadata
    out = dict(still=reference(StillModel, pair), cut=reference(CutToFinalModel, pair),
               crossfade=reference(CrossfadeModel, pair), opposite=turn_frames(q, -q['angle'], q['elev_change']),
               half=turn_frames(q, q['angle']//2, q['elev_change']),
               overshoot=turn_frames(q, q['angle'] + 90*np.sign(q['angle']), q['elev_change']))
    if q['elev_change']: out['camera wrong way'] = turn_frames(q, q['angle'], -q['elev_change'])
    return out

@pytest.mark.parametrize('pair', PAIRS, ids=lambda p: p.id)
def test_wrong_answers_get_their_exact_score(pair):
    got = {case: direct(frames, pair) for case, frames in wrong_cases(pair).items()}
    fct.test_eq({case: v.score for case, v in got.items()}, expected_scores(pair.metadata))
    for case in ('cut', 'crossfade', 'opposite', 'overshoot'):
        assert got[case].process_problems, (case, got[case].explanation)
    if 'camera wrong way' in got: assert any('camera' in p for p in got['camera wrong way'].process_problems)

@pytest.mark.parametrize('pair', PAIRS[:3], ids=lambda p: p.id)
def test_paced_oracle_scores_5_and_a_jump_cut_3(pair):
    "The turn at 1/4 of its frames, ends held, is sound; half the turn and a cut to the end is not."
    frames = [np.asarray(f) for f in TASK.solution_frames(pair.metadata)]
    held = lambda xs: xs[:1]*6 + xs + xs[-1:]*10
    fct.test_eq(direct(held(frames[::4] + frames[-1:]), pair).score, 5)
    fct.test_eq(direct(held(frames[:len(frames)//2:4] + frames[-1:]), pair).score, 3)

def test_views_are_drawn_once_per_question():
    pair = PAIRS[0]
    CHECKER.read(np.asarray(TASK.first_frame(pair.metadata)), pair)
    drawn = len(view_bank(pair).views)
    CHECKER.read(np.asarray(TASK.first_frame(pair.metadata)), pair)
    fct.test_eq(len(view_bank(pair).views), drawn)
