"The sudoku checker on a labelled suite: reference videos, perturbed oracle copies and a wrong digit, through H.264."
import tempfile
from pathlib import Path

import numpy as np
import pytest
from fastcore import test as fct
from vmevalkit.core import read_frames, write_video
from vmevalkit.scoring import judge, perturb, register, to_canvas
from vmevalkit.scoring.sudoku import SudokuChecker
from vmevalkit.tasks import get_task
from vmevalkit.tasks.sudoku import solving_order

task, checker = get_task('sudoku'), SudokuChecker()

def states_of(frames, pair, tmp):
    "Every frame of the H.264 video of `frames`, registered to the question and read."
    frames = read_frames(write_video(frames, Path(tmp)/'video.mp4'))
    reg = register(to_canvas(frames[0]), np.asarray(task.first_frame(pair.metadata)))
    return [checker.read(reg.apply(f), pair) for f in frames], reg.quality

def wrong_frames(m):
    "The solving, with the last digit written as the next one up."
    grid, order = [row[:] for row in m['puzzle']], solving_order(m['puzzle'], m['solution'])
    out = [np.asarray(task.render(m, grid))]
    for k, (r, c) in enumerate(order):
        grid[r][c] = m['solution'][r][c] % m['size'] + 1 if k == len(order) - 1 else m['solution'][r][c]
        out.append(np.asarray(task.render(m, grid)))
    return out

def cases(pair):
    "name -> (frames, last frame solved?, process sound? (None: not judged))."
    steps = [np.asarray(f) for f in task.solution_frames(pair.metadata)]
    a, b = steps[0].astype(np.float32), steps[-1].astype(np.float32)
    moved = [perturb(perturb(perturb(perturb(f, 'shift'), 'brighten'), 'noise'), 'small') for f in steps]
    return dict(oracle=(steps, True, True), still=([steps[0]]*12, False, None),
                cut=([steps[0]]*6 + [steps[-1]]*6, True, False),
                crossfade=([((1 - t)*a + t*b).round().astype(np.uint8) for t in np.linspace(0, 1, 12)], True, False),
                perturbed=(moved, True, True), rescaled=([perturb(f, 'rescale') for f in steps], True, True),
                wrong=(wrong_frames(pair.metadata), False, True))

PAIRS = [task.make_pair(i, seed=3) for i in (0, 2)]  # an easy (small grid) and a hard 9×9 question

@pytest.mark.parametrize('pair', PAIRS, ids=[p.id for p in PAIRS])
def test_labelled_suite(pair, tmp_path):
    wrong = []
    for name, (frames, solved, sound) in cases(pair).items():
        states, quality = states_of(frames, pair, tmp_path)
        v = judge(states, pair, checker, quality)
        if v.last_solved != solved or (sound is not None and (not v.process_problems) != sound):
            wrong.append(f"{name}: {v.explanation}")
    fct.test_eq(wrong, [])

def test_unreadable_and_wrong_grids():
    pair = PAIRS[1]
    noise = np.random.default_rng(0).integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    fct.test_eq(checker.read(noise, pair), None)
    fct.test_eq(checker.read(noise[:100], pair), None)
    wrong = np.asarray(wrong_frames(pair.metadata)[-1])
    fct.test_eq(checker.solved(checker.read(wrong, pair), pair), False)
    fct.test_eq(checker.describe(None, pair), 'unreadable')
