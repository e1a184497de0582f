"The sudoku checker on a labelled suite (reference videos, perturbed and paced oracle copies, wrong digits) through H.264: exact scores."
from pathlib import Path

import numpy as np
import pytest
from fastcore import test as fct
from vmevalkit.core import read_frames, write_video
from vmevalkit.scoring import judge, perturb, register_frame
from vmevalkit.scoring.sudoku import SudokuChecker
from vmevalkit.tasks import get_task
from vmevalkit.tasks.sudoku import solving_order

task, checker = get_task('sudoku'), SudokuChecker()

def states_of(frames, pair, tmp):
    "Every frame of the H.264 video of `frames`, registered to the question and read."
    frames = read_frames(write_video(frames, Path(tmp)/'video.mp4'))
    reg = register_frame(np.asarray(frames[0]), np.asarray(task.first_frame(pair.metadata)))
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
    "name -> (frames, the score a careful scorer gives)."
    steps = [np.asarray(f) for f in task.solution_frames(pair.metadata)]
    a, b = steps[0].astype(np.float32), steps[-1].astype(np.float32)
    moved = [perturb(perturb(perturb(perturb(f, 'shift'), 'brighten'), 'noise'), 'small') for f in steps]
    held = lambda frames: [frames[0]]*6 + frames + [frames[-1]]*10  # as generators hold their ends
    return dict(oracle=(steps, 5), still=([steps[0]]*12, 1),
                cut=([steps[0]]*6 + [steps[-1]]*6, 3),              # solved, every digit at once
                crossfade=([((1 - t)*a + t*b).round().astype(np.uint8) for t in np.linspace(0, 1, 12)], 3),
                perturbed=(moved, 5), rescaled=([perturb(f, 'rescale') for f in steps], 5),
                paced=(held(steps[::3] + steps[-1:]), 5),           # three digits between frames: a fast writer
                pasted=(held(steps[:3] + steps[-1:]), 3),           # two digits written, the rest pasted in
                wrong=(wrong_frames(pair.metadata), 2))             # written one by one, the last digit wrong

PAIRS = [task.make_pair(i, seed=3) for i in (0, 2)]  # an easy (small grid) and a hard 9×9 question

@pytest.mark.parametrize('pair', PAIRS, ids=[p.id for p in PAIRS])
def test_labelled_suite(pair, tmp_path):
    wrong = {}
    for name, (frames, want) in cases(pair).items():
        states, quality = states_of(frames, pair, tmp_path)
        v = judge(states, pair, checker, quality)
        if v.score != want: wrong[name] = v.explanation
    fct.test_eq(wrong, {})

def test_unreadable_and_wrong_grids():
    pair = PAIRS[1]
    noise = np.random.default_rng(0).integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    fct.test_eq(checker.read(noise, pair), None)
    fct.test_eq(checker.read(noise[:100], pair), None)
    wrong = np.asarray(wrong_frames(pair.metadata)[-1])
    fct.test_eq(checker.solved(checker.read(wrong, pair), pair), False)
    fct.test_eq(checker.describe(None, pair), 'unreadable')
