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
    from vmevalkit.scoring.chess import labelled_videos
    for index in range(2, 2 + n):  # the test's questions 2, 3, 4 (hard, easy, medium), then on
        pair = suite.TASK.make_pair(index, seed=3)
        for case, frames in labelled_videos(suite.TASK, pair).items():
            v = check_video(write_video(frames, tmp/f'{pair.id}_{case}.mp4'), pair, suite.CHECKER)
            right = v.score == suite.EXPECTED[case] and (case not in ('cut', 'crossfade') or bool(v.process_problems))
            yield label(pair), case, right, v.explanation

def maze_outcomes(n:int, tmp:Path):
    "Each case gets the exact score the test expects."
    import test_check_maze as suite
    levels = suite.TASK.difficulties
    for k in range(n):  # the test's question 1 at every level, then question 2 at every level, …
        pair = suite.TASK.make_pair(1 + k//len(levels), seed=7, difficulty=levels[k % len(levels)])
        for case, (frames, want) in suite.labelled_cases(pair, tmp).items():
            v = suite.verdict(frames, pair)
            yield label(pair), case, v.score == want, v.explanation

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
    "Each case gets the exact score the test expects."
    import test_check_sudoku as suite
    indices = [0, 2] + [i for i in range(1, n + 1) if i != 2]  # the test's easy and hard questions first
    for index in indices[:n]:
        pair = suite.task.make_pair(index, seed=3)
        for case, (frames, want) in suite.cases(pair).items():
            states, quality = suite.states_of(frames, pair, tmp)
            v = judge(states, pair, suite.checker, quality)
            yield label(pair), case, v.score == want, v.explanation

def rotation_cases(suite, pair)->dict:
    "name → (frames, through H.264?, the exact score the test expects)."
    from vmevalkit.models.reference import OracleModel
    oracle = suite.reference(OracleModel, pair)
    moved = [perturb(perturb(perturb(perturb(np.asarray(f), 'rescale'), 'shift'), 'brighten'), 'noise') for f in oracle]
    want = suite.expected_scores(pair.metadata)
    return dict(oracle=(oracle, True, 5), perturbed=(moved, True, 5),
                **{case: (frames, False, want[case]) for case, frames in suite.wrong_cases(pair).items()})

def rotation_outcomes(n:int, tmp:Path):
    "Every case on every question (the tests spread the H.264 cases over some questions only)."
    import test_check_rotation as suite
    for index in range(n):  # the test's questions 0–5 (levels take turns), then on
        pair = suite.TASK.make_pair(index, seed=11)
        for case, (frames, h264, want) in rotation_cases(suite, pair).items():
            v = (check_video(write_video(frames, tmp/f'{pair.id}_{case}.mp4'), pair, suite.CHECKER) if h264
                 else suite.direct(frames, pair))
            yield label(pair), case, v.score == want, v.explanation

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
