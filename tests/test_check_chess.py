"The chess checker on a labelled suite of videos (oracle, still, cut, crossfade, wrong move, perturbed and paced oracle): exact scores."
import time
import numpy as np
import pytest
from fastcore import test as fct
from vmevalkit.core import write_video
from vmevalkit.scoring import check_video, perturb, register_frame
from vmevalkit.scoring.chess import ChessChecker, labelled_videos, placement, wrong_move_state
from vmevalkit.tasks import get_task

TASK, CHECKER = get_task('chess'), ChessChecker()
SUITE = [TASK.make_pair(i, seed=3) for i in (2, 3, 4)]  # hard, easy, medium; black, white, black to move
# the score a careful scorer gives each case: the mate on the board at the end and the move seen (oracle, perturbed,
# paced) 5; nothing changed 1; the mate at the end but the move never seen (cut, crossfade) 3; a move, no mate 2
EXPECTED = dict(oracle=5, still=1, cut=3, crossfade=3, wrong=2, perturbed=5, paced=5)

def test_suite_has_both_orientations():
    fct.test_eq({p.metadata['side_to_move'] for p in SUITE}, {'white', 'black'})

def test_reads_every_square_of_first_and_final_frames():
    for p in [TASK.make_pair(i, seed=5) for i in range(24)]:
        first, final = (CHECKER.read(np.asarray(f(p.metadata)), p) for f in (TASK.first_frame, TASK.final_frame))
        fct.test_eq((first['pieces'], first['unsure']), (placement(p.metadata['fen_initial']), []))
        fct.test_eq((CHECKER.solved(final, p), CHECKER.solved(first, p)), (True, False))

@pytest.mark.parametrize('kind', ['shift', 'rescale', 'brighten', 'noise', 'small'])
def test_perturbed_final_frames_registered_still_solved(kind):
    for p in SUITE:
        first, final = (np.asarray(f(p.metadata)) for f in (TASK.first_frame, TASK.final_frame))
        reg = register_frame(perturb(first, kind), first)
        fct.test_eq(CHECKER.solved(CHECKER.read(reg.apply(perturb(final, kind)), p), p), True)

def test_wrong_move_is_legal_and_not_a_mate():
    for p in SUITE:
        wrong = wrong_move_state(p.metadata)
        fct.test_ne(wrong['fen_final'], p.metadata['fen_final'])
        fct.test_eq(CHECKER.solved(CHECKER.read(np.asarray(TASK.final_frame(wrong)), p), p), False)

def test_not_a_board_is_unreadable():
    fct.test_eq(CHECKER.read(np.full((720, 1280, 3), 255, np.uint8), SUITE[0]), None)
    fct.test_eq(CHECKER.read(np.random.default_rng(0).integers(0, 256, (720, 1280, 3), dtype=np.uint8), SUITE[0]), None)

def test_labelled_suite(tmp_path):
    "Every case of every suite question, as an H.264 video through `check_video`, gets its expected score."
    wrong, t0, n = [], time.time(), 0
    for p in SUITE:
        for case, frames in labelled_videos(TASK, p).items():
            v = check_video(write_video(frames, tmp_path/f'{p.id}_{case}.mp4'), p, CHECKER)
            n += 1
            if v.score != EXPECTED[case]: wrong.append(f"{p.id} ({p.difficulty}) {case}: {v.explanation}")
            if case in ('cut', 'crossfade'): fct.test_eq(bool(v.process_problems), True)
    print(f"chess labelled suite: {n - len(wrong)}/{n} right in {time.time() - t0:.1f} s")
    fct.test_eq(wrong, [])
