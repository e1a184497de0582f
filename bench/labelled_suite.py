"""Each automatic checker's accuracy on its labelled suite, per domain and per kind of case.

    .venv/bin/python bench/labelled_suite.py [--questions 3] [--domains chess maze raven rotation sudoku]

The cases are those of the labelled-suite tests (tests/test_check_*.py), built by the tests' own helpers and judged
as the tests judge them (the same path through H.264, registration and `judge`, the same rule for a right verdict), on
the tests' questions: the first `--questions` of each test's list, continued the same way when more are asked for.
Prints per domain the cases, how many the checker got right, the accuracy and a breakdown by kind of case, then
every case judged wrong with the checker's explanation. Always exits 0: it is a report, not a test.
"""
import argparse, sys, tempfile, time
from collections import Counter
from pathlib import Path
import numpy as np
from vmevalkit.core import write_video
from vmevalkit.scoring import check_video, judge, perturb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent/'tests'))

def label(pair)->str: return f"{pair.id} ({pair.difficulty})"

def chess_outcomes(n:int, tmp:Path):
    "(question, case, right?, explanation): each case's H.264 video must get `EXPECTED`'s score."
    import test_check_chess as suite
    from vmevalkit.scoring.chess import EXPECTED, labelled_videos
    for index in range(2, 2 + n):  # the test's questions 2, 3, 4 (hard, easy, medium), then on
        pair = suite.TASK.make_pair(index, seed=3)
        for case, frames in labelled_videos(suite.TASK, pair).items():
            v = check_video(write_video(frames, tmp/f'{pair.id}_{case}.mp4'), pair, suite.CHECKER)
            right = v.score == EXPECTED[case] and (case not in ('cut', 'crossfade') or bool(v.process_problems))
            yield label(pair), case, right, v.explanation

def maze_outcomes(n:int, tmp:Path):
    "Each case passes (score ≥ 4) exactly when it should."
    import test_check_maze as suite
    levels = suite.TASK.difficulties
    for k in range(n):  # the test's question 1 at every level, then question 2 at every level, …
        pair = suite.TASK.make_pair(1 + k//len(levels), seed=7, difficulty=levels[k % len(levels)])
        for case, (frames, should_pass) in suite.labelled_cases(pair, tmp).items():
            v = suite.verdict(frames, pair)
            yield label(pair), case, (v.score is not None and v.score >= 4) == should_pass, v.explanation

RAVEN_LEVELS = ('easy', 'medium', 'hard', 'hard')  # the test's questions 0–3

def raven_outcomes(n:int, tmp:Path):
    "Each case's H.264 video gets the score a sound scorer gives."
    import test_check_raven as suite
    for index in range(n):
        pair = suite.task.make_pair(index, seed=5, difficulty=RAVEN_LEVELS[index % len(RAVEN_LEVELS)])
        for case, (frames, want) in suite.cases(pair).items():
            states, quality = suite.states_of(frames, pair, tmp)
            v = judge(states, pair, suite.checker, quality)
            yield label(pair), case, v.score == want, v.explanation

def sudoku_outcomes(n:int, tmp:Path):
    "Each case's last frame is solved or not as labelled, and its process sound or not where that is labelled."
    import test_check_sudoku as suite
    indices = [0, 2] + [i for i in range(1, n + 1) if i != 2]  # the test's easy and hard questions first
    for index in indices[:n]:
        pair = suite.task.make_pair(index, seed=3)
        for case, (frames, solved, sound) in suite.cases(pair).items():
            states, quality = suite.states_of(frames, pair, tmp)
            v = judge(states, pair, suite.checker, quality)
            right = v.last_solved == solved and (sound is None or (not v.process_problems) == sound)
            yield label(pair), case, right, v.explanation

def rotation_cases(suite, pair)->dict:
    "name → (frames, through H.264?, the test's rule for a right verdict)."
    from vmevalkit.models.reference import CrossfadeModel, CutToFinalModel, OracleModel, StillModel
    from vmevalkit.scoring.rotation import turn_frames
    q, oracle = pair.metadata, suite.reference(OracleModel, pair)
    perfect = lambda v: (v.score, v.process_problems) == (5, [])
    fails = lambda v: v.score is not None and v.score < 4 and bool(v.process_problems)
    fails_unsolved = lambda v: fails(v) and v.last_solved is False
    moved = [perturb(perturb(perturb(perturb(np.asarray(f), 'rescale'), 'shift'), 'brighten'), 'noise') for f in oracle]
    out = dict(oracle=(oracle, True, perfect), perturbed=(moved, True, perfect),
               still=(suite.reference(StillModel, pair), False, lambda v: v.last_solved is False),
               cut=(suite.reference(CutToFinalModel, pair), False, fails),
               crossfade=(suite.reference(CrossfadeModel, pair), False, fails),
               # a half turn the wrong way ends on the answer's view: only the process gives it away
               opposite=(turn_frames(q, -q['angle'], q['elev_change']), False,
                         fails if abs(q['angle']) == 180 else fails_unsolved),
               half=(turn_frames(q, q['angle']//2, q['elev_change']), False, fails_unsolved),
               overshoot=(turn_frames(q, q['angle'] + 90*np.sign(q['angle']), q['elev_change']), False, fails_unsolved))
    if q['elev_change']:
        out['camera wrong way'] = (turn_frames(q, q['angle'], -q['elev_change']), False,
                                   lambda v: not v.last_solved and any('camera' in p for p in v.process_problems))
    return out

def rotation_outcomes(n:int, tmp:Path):
    "Every case on every question (the tests spread the H.264 cases over some questions only)."
    import test_check_rotation as suite
    for index in range(n):  # the test's questions 0–5 (levels take turns), then on
        pair = suite.TASK.make_pair(index, seed=11)
        for case, (frames, h264, is_right) in rotation_cases(suite, pair).items():
            v = (check_video(write_video(frames, tmp/f'{pair.id}_{case}.mp4'), pair, suite.CHECKER) if h264
                 else suite.direct(frames, pair))
            yield label(pair), case, is_right(v), v.explanation

DOMAINS = dict(chess=chess_outcomes, maze=maze_outcomes, raven=raven_outcomes, rotation=rotation_outcomes,
               sudoku=sudoku_outcomes)

def collect(outcomes_of, n:int, tmp:Path)->tuple:
    "(outcomes, error): the cases judged, and what stopped the domain early (None when nothing did)."
    got = []
    try:
        for outcome in outcomes_of(n, tmp): got.append(outcome)
    except Exception as e: return got, f"{type(e).__name__}: {e}"
    return got, None

def by_kind(outcomes:list)->str:
    seen, right = Counter(), Counter()  # counters keep the order cases were first seen
    for _, case, ok, _ in outcomes: seen[case] += 1; right[case] += ok
    return ', '.join(f"{case} {right[case]}/{seen[case]}" for case in seen)

def row(name:str, cases:int, right:int, seconds:float, kinds:str='')->str:
    accuracy = f"{100*right/cases:.1f}%" if cases else '-'
    return f"{name:<9} {cases:>5} {right:>5} {accuracy:>8} {seconds:>6.0f}  {kinds}".rstrip()

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--questions', type=int, default=3, help='questions per domain (3: one per level)')
    p.add_argument('--domains', nargs='+', choices=list(DOMAINS), default=list(DOMAINS))
    args = p.parse_args()
    print(f"{'domain':<9} {'cases':>5} {'right':>5} {'accuracy':>8} {'time s':>6}  by kind")
    wrong, errors, total, total_right, t_all = [], [], 0, 0, time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.domains:
            folder, t0 = Path(tmp)/name, time.time()
            folder.mkdir()
            outcomes, error = collect(DOMAINS[name], args.questions, folder)
            right = sum(ok for _, _, ok, _ in outcomes)
            print(row(name, len(outcomes), right, time.time() - t0, by_kind(outcomes)), flush=True)
            wrong += [f"{name} {q} {case}: {why}" for q, case, ok, why in outcomes if not ok]
            if error: errors.append(f"{name}: stopped early: {error}")
            total, total_right = total + len(outcomes), total_right + right
    print(row('total', total, total_right, time.time() - t_all))
    print(f"\nJudged wrong ({len(wrong)}):" if wrong else '\nNo case judged wrong.', *wrong, sep='\n  ')
    if errors: print('\nErrors:', *errors, sep='\n  ')

if __name__ == '__main__': main()
