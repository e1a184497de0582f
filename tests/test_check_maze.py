"The maze checker on a labelled suite: every case, paced as generators pace it, gets its exact expected score."
import numpy as np
import pytest
from fastcore import test as fct
from vmevalkit.core import read_frames, write_video
from vmevalkit.models import load_model
from vmevalkit.scoring import judge, register_frame
from vmevalkit.scoring.maze import MazeChecker, dead_end_walk, wall_jump_walk, walk_frames
from vmevalkit.tasks import get_task

TASK, CHECKER = get_task('maze'), MazeChecker()
QUESTIONS = [(level, 1) for level in TASK.difficulties]  # 3 questions × 10 cases = 30 verdicts

def verdict(frames:list, pair):
    "Register every frame to the question's first frame, read each one, judge (no frame is skipped)."
    reference = np.asarray(TASK.first_frame(pair.metadata))
    reg = register_frame(np.asarray(frames[0]), reference)
    return judge([CHECKER.read(reg.apply(np.asarray(f)), pair) for f in frames], pair, CHECKER, reg.quality)

def reference(name:str, pair, n:int=16)->list: return [np.asarray(f) for f in load_model(name).frames(TASK, pair, n)]

NOISE = np.random.default_rng(0).normal(0, 6, (720, 1280, 3)).astype(np.float32)
ZOOM_SHIFT = np.float32([[1.03, 0, 6 - 0.03*640], [0, 1.03, 4 - 0.03*360]])  # +3 % about the centre, then (6, 4) px

def perturbed(frame:np.ndarray)->np.ndarray:
    "The framework's 'rescale', 'shift', 'brighten' and 'noise' perturbations in one pass (one by one: ~0.2 s a frame)."
    import cv2
    moved = cv2.warpAffine(frame, ZOOM_SHIFT, (1280, 720), borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    return np.clip(moved*1.1 + NOISE, 0, 255).astype(np.uint8)

def h264(frames:list, tmp_path, name:str)->list: return read_frames(write_video(frames, tmp_path/f'{name}.mp4'))

def labelled_cases(pair, tmp_path)->dict:
    "name → (frames, the score a careful scorer gives)."
    m, oracle = pair.metadata, reference('oracle', pair)
    return {'oracle': (oracle, 5),
            'oracle h264': (h264(oracle, tmp_path, 'o'), 5),
            'oracle perturbed h264': (h264([perturbed(f) for f in oracle], tmp_path, 'p'), 5),
            'oracle at 1/3 h264': (h264(paced(oracle, 3), tmp_path, 's'), 5),
            'still': (reference('still', pair), 1),                    # nothing changed
            'cut-to-final h264': (h264(reference('cut-to-final', pair), tmp_path, 'c'), 3),  # solved, no walk
            'crossfade': (reference('crossfade', pair), 3),            # solved, the agent never walked
            'dead end': (walk_frames(m, dead_end_walk(m)), 2),         # moved, never reached the goal
            'wall jump': (walk_frames(m, wall_jump_walk(m)), 3),       # solved through a wall
            'wall jump at 1/2': (paced(walk_frames(m, wall_jump_walk(m)), 2), 3)}

def paced(frames:list, stride:int)->list:
    "A generator's pacing: the first frame held, every `stride`-th frame after it, the last frame held."
    return [frames[0]]*4 + frames[1::stride] + [frames[-1]]*8

@pytest.mark.parametrize('level,index', QUESTIONS)
def test_labelled_suite(level, index, tmp_path):
    pair = TASK.make_pair(index, seed=7, difficulty=level)
    got = {name: (verdict(frames, pair), want) for name, (frames, want) in labelled_cases(pair, tmp_path).items()}
    fct.test_eq({name: v.explanation for name, (v, want) in got.items() if v.score != want}, {})

def test_adversarial_baselines_fail_the_process_check():
    pair = TASK.make_pair(3, seed=7, difficulty='medium')
    for name in ['cut-to-final', 'crossfade']:
        v = verdict(reference(name, pair), pair)
        fct.test_eq((v.last_solved, v.score), (True, 3))
        assert any('jumped' in p for p in v.process_problems), v.process_problems

def test_wrong_walks_are_named():
    pair = TASK.make_pair(4, seed=7, difficulty='hard')
    m = pair.metadata
    dead = verdict(walk_frames(m, dead_end_walk(m)), pair)
    fct.test_eq((dead.last_solved, dead.score), (False, 2))
    assert any('never reaches the goal' in p for p in dead.process_problems), dead.process_problems
    jump = verdict(walk_frames(m, wall_jump_walk(m)), pair)
    fct.test_eq((jump.last_solved, jump.score), (True, 3))
    assert any('jumped' in p for p in jump.process_problems), jump.process_problems

def test_unclear_frames_are_unreadable():
    pair = TASK.make_pair(0, seed=7, difficulty='easy')
    first, final = (np.asarray(f(pair.metadata)) for f in (TASK.first_frame, TASK.final_frame))
    fct.test_eq(CHECKER.read(np.full_like(first, 255), pair), None)        # no agent, no maze
    fct.test_eq(CHECKER.read(((first.astype(np.float32) + final)/2).astype(np.uint8), pair), None)  # a dissolve
    dark = np.full_like(first, 30)
    fct.test_eq(CHECKER.read(dark, pair), None)
