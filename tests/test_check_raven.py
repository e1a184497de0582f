"The raven checker on a labelled suite: reference videos, perturbed oracle copies and wrong panels, through H.264."
import copy, tempfile
from pathlib import Path

import numpy as np
import pytest
from fastcore import test as fct
from fastcore.basics import gt
from vmevalkit.core import read_frames, write_video
from vmevalkit.models import load_model
from vmevalkit.scoring import get_checker, judge, perturb, register_frame
from vmevalkit.scoring.raven import RavenChecker
from vmevalkit.tasks import get_task
from vmevalkit.tasks.raven import VALUES, draw_matrix

task, checker = get_task('raven'), RavenChecker()
PAIRS = [task.make_pair(i, seed=5, difficulty=d) for i, d in enumerate(['easy', 'medium', 'hard', 'hard'])]

def states_of(frames, pair, tmp):
    "(states, registration quality) of the H.264 video of `frames`, every frame registered and read."
    frames = read_frames(write_video(frames, Path(tmp)/'video.mp4'))
    reg = register_frame(np.asarray(frames[0]), np.asarray(task.first_frame(pair.metadata)))
    return [checker.read(reg.apply(f), pair) for f in frames], reg.quality

def one_off(metadata, attr, step=1):
    "A copy of `metadata` whose answer panel has `attr` moved `step` values along."
    m = copy.deepcopy(metadata)
    values, a = VALUES[attr], m['panels'][2][2]
    a[attr] = values[(values.index(a[attr]) + step) % len(values)]
    m['answer'] = a
    return m

def cases(pair):
    "name -> (frames, the score a careful scorer gives)."
    oracle = [np.asarray(f) for f in load_model('oracle').frames(task, pair, 32)]
    moved = oracle
    for kind in ['rescale', 'shift', 'brighten', 'noise']: moved = [perturb(f, kind) for f in moved]
    out = dict(oracle=(oracle, 5), perturbed=(moved, 5), small=([perturb(f, 'small') for f in oracle], 5))
    for name, score in [('still', 1), ('cut-to-final', 3), ('crossfade', 3)]:
        out[name] = (load_model(name).frames(task, pair, 32), score)
    steps = task.solution_frames(pair.metadata)
    held = lambda frames: [frames[0]]*6 + frames + [frames[-1]]*10  # as generators hold their ends
    out['paced'] = (held(steps[::3] + steps[-1:]), 5)             # a fast drawer: frames skipped
    out['jump cut'] = (held(steps[:len(steps)//2] + steps[-1:]), 3)  # half drawn, then a cut to the answer
    for attr in ['shape', 'size', 'color', 'count']:
        m = one_off(pair.metadata, attr)
        frames = [task.first_frame(pair.metadata)]*4 + task.solution_frames(m) + [task.final_frame(m)]*8
        out[f'wrong_{attr}'] = (frames, 2)
    return out

@pytest.mark.parametrize('pair', PAIRS, ids=[p.id for p in PAIRS])
def test_labelled_suite(pair):
    got = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (frames, want) in cases(pair).items():
            states, quality = states_of(frames, pair, tmp)
            got[name] = (judge(states, pair, checker, quality).score, want)
    fct.test_eq({k: s for k, (s, w) in got.items() if s != w}, {})

def test_adversarial_process():
    "Both adversarial references end on the answer and fail the process check, for every count of shapes."
    pair = next(p for p in (task.make_pair(i, seed=9) for i in range(40)) if p.metadata['answer']['count'] == 1)
    with tempfile.TemporaryDirectory() as tmp:
        for name in ['cut-to-final', 'crossfade']:
            states, _ = states_of(load_model(name).frames(task, pair, 32), pair, tmp)
            fct.test_eq(checker.solved(states[-1], pair), True)
            fct.test(len(checker.process_problems(states, pair)), 0, gt)

def test_context_change_named():
    pair = PAIRS[1]
    m = copy.deepcopy(pair.metadata)
    m['panels'][1][0]['count'] = 1 + m['panels'][1][0]['count'] % 4
    frames = load_model('oracle').frames(task, pair, 32) + [draw_matrix(m, m['answer']['count'])]*4
    with tempfile.TemporaryDirectory() as tmp: states, _ = states_of(frames, pair, tmp)
    fct.test_eq(checker.solved(states[-1], pair), True)
    fct.test_eq(checker.process_problems(states, pair)[0].startswith('context panel [1, 0] changed'), True)

def test_read_states_and_describe():
    pair = PAIRS[0]
    first, final = (np.asarray(f(pair.metadata)) for f in (task.first_frame, task.final_frame))
    fct.test_eq(checker.read(first, pair), dict(answer='question', shapes=0, question=True, changed=[]))
    fct.test_eq(checker.read(final, pair)['answer'], pair.metadata['answer'])
    fct.test_eq(checker.read(np.full_like(first, 128), pair), None)
    fct.test_eq(checker.describe(None, pair), 'unreadable')
    fct.test_eq(type(get_checker('raven')).__name__, 'RavenChecker')
