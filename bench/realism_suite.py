"""Each automatic checker on correct and wrong answers re-shot the way image-to-video generators deliver them.

    .venv/bin/python bench/realism_suite.py [--questions 6] [--domains chess maze raven rotation sudoku]
                                            [--transforms push_in pan …] [--cases oracle 'wrong turn' …]
                                            [--workers 2] [--rows rows.jsonl]

For each domain, `--questions` questions (the difficulty levels take turns, so 3 or more cover every level) are answered
correctly (the oracle) and wrongly or incompletely: the labelled-suite tests' wrong answers (tests/test_check_*.py: a
wrong move, a dead end, a jump through a wall, a wrong panel, a wrong turn, a wrong digit), the still first frame, a
jump cut to the end, and the right end reached and then undone. Every answer goes through every transformation of
`vmevalkit.scoring.realism` at both strengths and through 3 random combinations of three (one from each of three
groups: camera, shape, pacing, picture), is written at the frame rate and crf the transformation asks for, and is
judged by `check_video`.

A correct answer is judged right when it scores 4–5; a wrong one when it scores 1–3. A `skipped` (uncertain) verdict is
neither. Prints per domain × transformation the right / skipped / wrong counts of correct and of wrong answers, then
the headline figures against the targets of issue 15, the causes of skips, and every case judged wrong.
Always exits 0: it is a report, not a test. With `--rows`, every finished answer's verdicts are appended to that file
and a rerun with the same file judges only the answers it lacks, so a long run that was stopped loses nothing.
"""
import argparse, json, multiprocessing, signal, sys, tempfile, time, zlib
from collections import Counter, defaultdict
from pathlib import Path
import numpy as np
from vmevalkit.scoring import check_video
from vmevalkit.scoring.realism import GROUPS, STRENGTHS, TRANSFORMS, timed, write_realistic

sys.path.insert(0, str(Path(__file__).resolve().parent.parent/'tests'))

def reference(model_cls, task, pair, n:int=16)->list:
    "The frames of a reference model's answer (`n`: frames of the still and the cut)."
    return model_cls(model_cls.__name__, 'reference', fps=8).frames(task, pair, n)

def common_cases(task, pair)->dict:
    "name → (frames, correct?): the oracle, and the wrong answers every domain has."
    from vmevalkit.models.reference import CutToFinalModel, OracleModel, StillModel
    oracle = reference(OracleModel, task, pair)
    return {'oracle': (oracle, True), 'still': (reference(StillModel, task, pair), False),
            'jump cut to the end': (reference(CutToFinalModel, task, pair), False),
            'solved then undone': (list(oracle) + list(oracle)[::-1], False)}

def chess_cases(k:int):
    import test_check_chess as suite
    from vmevalkit.scoring.chess import labelled_videos
    pair = suite.TASK.make_pair(k, seed=3)
    return pair, {**common_cases(suite.TASK, pair), 'wrong move': (labelled_videos(suite.TASK, pair)['wrong'], False)}

def maze_cases(k:int):
    import test_check_maze as suite
    from vmevalkit.scoring.maze import dead_end_walk, wall_jump_walk, walk_frames
    pair = suite.TASK.make_pair(k, seed=7)
    m = pair.metadata
    return pair, {**common_cases(suite.TASK, pair), 'dead end': (walk_frames(m, dead_end_walk(m)), False),
                  'wall jump': (walk_frames(m, wall_jump_walk(m)), False)}

def raven_cases(k:int):
    import test_check_raven as suite
    pair = suite.task.make_pair(k, seed=5)
    wrong = {f"wrong panel ({name[6:]})": (frames, False) for name, (frames, _) in suite.cases(pair).items()
             if name.startswith('wrong_')}
    return pair, {**common_cases(suite.task, pair), **wrong}

def rotation_cases(k:int):
    import test_check_rotation as suite
    from vmevalkit.scoring.rotation import turn_frames
    pair = suite.TASK.make_pair(k, seed=11)
    q = pair.metadata
    out = {**common_cases(suite.TASK, pair),
           'wrong turn (opposite)': (turn_frames(q, -q['angle'], q['elev_change']), False),
           'wrong turn (half)': (turn_frames(q, q['angle']//2, q['elev_change']), False),
           'wrong turn (overshoot)': (turn_frames(q, q['angle'] + 90*np.sign(q['angle']), q['elev_change']), False)}
    if abs(q['angle']) == 180: del out['wrong turn (opposite)']  # a half turn either way ends on the same view
    if q['elev_change']: out['camera the wrong way'] = (turn_frames(q, q['angle'], -q['elev_change']), False)
    return pair, out

def sudoku_cases(k:int):
    import test_check_sudoku as suite
    pair = suite.task.make_pair(k, seed=3)
    return pair, {**common_cases(suite.task, pair), 'wrong digit': (suite.wrong_frames(pair.metadata), False)}

DOMAINS = dict(chess=chess_cases, maze=maze_cases, raven=raven_cases, rotation=rotation_cases, sudoku=sudoku_cases)

def variants(names:list, combos:int=3, seed:int=0)->list:
    "(label, names, strength): each transformation at each strength, then `combos` random combinations of three."
    out, rng = [(f"{n} {s}", [n], s) for n in names for s in STRENGTHS], np.random.default_rng(seed)
    groups = [[n for n in group if n in names] for group in GROUPS.values()]
    groups = [g for g in groups if g]
    for _ in range(50):  # one from each of three groups (two shapes at once make no video), `combos` different ones
        if len(out) == 2*len(names) + combos or len(groups) < 3: break
        picked = sorted(str(rng.choice(groups[i])) for i in rng.choice(len(groups), 3, replace=False))
        label = f"{'+'.join(picked)} {rng.choice(STRENGTHS)}"
        if label not in [o[0] for o in out]: out.append((label, picked, label.split()[-1]))
    return out

def run_case(job:tuple)->list:
    "Every variant of one answer: (domain, question, case, correct?, variant label, score or 'error', why, skip cause)."
    domain, k, case, chosen, folder = job
    try:
        pair, cases = DOMAINS[domain](k)
        frames, correct = cases[case]
        clip = timed(frames)
    except Exception as e: return [(domain, f"question {k}", case, None, '(building the case)', 'error', repr(e), None)]
    out, label = [], f"{pair.id} ({pair.difficulty})"
    for name, names, strength in chosen:
        seed = zlib.crc32(f"{pair.id}/{case}/{name}".encode())
        video = Path(folder)/f"{pair.id}_{zlib.crc32(case.encode())}_{seed}.mp4"
        try:
            v = check_video(write_realistic(clip, video, names, strength, seed), pair)
            score, why, cause = v.score, v.explanation, getattr(v, 'uncertain', None)
        except Exception as e: score, why, cause = 'error', f"{type(e).__name__}: {e}", None
        finally: video.unlink(missing_ok=True)
        out.append((domain, label, case, correct, name, score, why, cause))
    return out

def outcome(correct:bool, score)->str:
    "'right', 'skipped' or 'wrong' for one verdict ('error' when the checker raised)."
    if score == 'error': return 'error'
    if score is None: return 'skipped'
    return 'right' if (score >= 4) == correct else 'wrong'

def jobs_for(args, folder:str)->list:
    "One job per (domain, question, case): correct answers first, domains taking turns (so an early stop covers all)."
    chosen, queues = variants(args.transforms), []
    for domain in args.domains:
        for k in range(args.questions):
            try: _, cases = DOMAINS[domain](k)
            except Exception as e:
                print(f"{domain} question {k}: its cases cannot be built: {type(e).__name__}: {e}", file=sys.stderr)
                continue
            picked = [c for c in cases if not args.cases or any(part in c for part in args.cases)]
            queues.append([(domain, k, case, chosen, folder) for case in sorted(picked, key=lambda c: not cases[c][1])])
    return [q[i] for i in range(max(map(len, queues), default=0)) for q in queues if i < len(q)]

def counts(rows:list, correct:bool)->str:
    c = Counter(outcome(r[3], r[5]) for r in rows if r[3] == correct)
    return f"{c['right']:>3}/{c['skipped']:>3}/{c['wrong']:>3}" + (f" +{c['error']} err" if c['error'] else '')

def table(rows:list, chosen:list):
    "Per domain × transformation: right/skipped/wrong of correct answers, then of wrong ones."
    print(f"{'domain':<9} {'transformation':<34} {'correct r/s/w':>15} {'wrong r/s/w':>15}")
    by = defaultdict(list)
    for r in rows: by[r[0], r[4]].append(r)
    for domain in dict.fromkeys(r[0] for r in rows):
        for label, _, _ in chosen:
            got = by[domain, label]
            if got: print(f"{domain:<9} {label:<34} {counts(got, True):>15} {counts(got, False):>15}")

def share(part:int, whole:int)->str: return f"{100*part/whole:5.1f} %" if whole else '    -'

def headline(rows:list):
    "The three figures of issue 15, with their targets."
    print()
    good = [r for r in rows if r[3] is True and r[4] != '(building the case)']
    bad = [r for r in rows if r[3] is False]
    passed = sum(isinstance(r[5], int) and r[5] >= 4 for r in good)
    skipped = sum(r[5] is None for r in good)
    fooled = sum(isinstance(r[5], int) and r[5] >= 4 for r in bad)
    for what, part, whole, target in [('Correct answers scored 4–5:', passed, len(good), '≥ 97 %'),
                                      ('Correct answers skipped:', skipped, len(good), '≤ 3 %'),
                                      ('Wrong answers scored ≥ 4:', fooled, len(bad), '≤ 2 %')]:
        print(f"{what:<27} {share(part, whole)} of {whole}  (target {target})")
    errors = [r for r in rows if r[5] == 'error']
    if errors: print(f"Errors (the checker raised): {len(errors)}")

def causes(rows:list):
    "Why verdicts were skipped, most common first."
    c = Counter(r[7] or 'no cause given' for r in rows if r[5] is None)
    if c: print('\nSkip causes:', ', '.join(f"{k} {n}" for k, n in c.most_common()))

def judged_wrong(rows:list, limit:int):
    bad = [r for r in rows if outcome(r[3], r[5]) in ('wrong', 'error')]
    print(f"\nJudged wrong or raised ({len(bad)}, first {min(limit, len(bad))}):" if bad else '\nNo case judged wrong.')
    for r in bad[:limit]: print(f"  {r[0]} {r[1]} {r[2]} [{r[4]}]: {r[6][:160]}")

def _ignore_interrupt(): signal.signal(signal.SIGINT, signal.SIG_IGN)  # workers: Ctrl-C is the parent's to handle

def job_key(domain:str, k:int, case:str)->str: return f"{domain}/{k}/{case}"

def saved_rows(path)->dict:
    "job key → its rows, from a `--rows` file (none when there is no file yet)."
    if path is None or not Path(path).exists(): return {}
    out = {}
    for line in Path(path).read_text().splitlines():
        try: d = json.loads(line)
        except json.JSONDecodeError: continue  # a line torn by a kill: that answer is judged again
        out[d['job']] = [tuple(r) for r in d['rows']]
    return out

def save_rows(path, job:tuple, got:list):
    "Append one answer's verdicts to the `--rows` file, one JSON line flushed at once (a stop loses at most a line)."
    if path is None: return
    with open(path, 'a') as f:
        f.write(json.dumps({'job': job_key(*job[:3]), 'rows': got}) + '\n'); f.flush()

def judge_all(jobs:list, workers:int, rows:list, t0:float, keep=None):
    "Run `jobs`, adding their rows to `rows` (and to the file `keep`) as they finish."
    def done_one(done, job, got):
        rows.extend(got); save_rows(keep, job, got)
        print(f"  {done}/{len(jobs)} answers, {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    if workers <= 1:
        for done, j in enumerate(jobs, 1): done_one(done, j, run_case(j))
        return
    pool = multiprocessing.get_context('fork').Pool(workers, initializer=_ignore_interrupt)
    try:
        for done, (j, got) in enumerate(pool.imap_unordered(run_job, jobs), 1): done_one(done, j, got)
    finally: pool.terminate()

def run_job(job:tuple)->tuple: return job, run_case(job)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--questions', type=int, default=6, help='questions per domain (levels take turns)')
    p.add_argument('--domains', nargs='+', choices=list(DOMAINS), default=list(DOMAINS))
    p.add_argument('--transforms', nargs='+', choices=list(TRANSFORMS), default=list(TRANSFORMS))
    p.add_argument('--cases', nargs='+', help="only the answers whose name holds one of these ('oracle', 'wrong turn', …)")
    p.add_argument('--workers', type=int, default=1, help='processes judging videos at once')
    p.add_argument('--show', type=int, default=40, help='how many wrongly judged cases to list')
    p.add_argument('--rows', help='JSON-lines file that keeps every verdict; a rerun with it resumes')
    p.add_argument('--report', action='store_true', help='judge nothing: report what the --rows file holds')
    args = p.parse_args()
    t0, saved = time.time(), saved_rows(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        every = jobs_for(args, tmp)
        jobs = [j for j in every if job_key(*j[:3]) not in saved]
        rows = [r for j in every if job_key(*j[:3]) in saved for r in saved[job_key(*j[:3])]]
        print(f"{len(jobs)} answers × {len(variants(args.transforms))} variants, {args.workers} worker(s)"
              + (f" ({len(every) - len(jobs)} answers already in {args.rows})" if saved else ''),
              file=sys.stderr, flush=True)
        try: judge_all([] if args.report else jobs, args.workers, rows, t0, args.rows)
        except KeyboardInterrupt: print(f"Stopped early: the report covers {len(rows)} videos.\n", flush=True)
    order = {d: i for i, d in enumerate(args.domains)}
    rows.sort(key=lambda r: (order[r[0]], r[1], not r[3], r[2]))
    table(rows, variants(args.transforms))
    headline(rows)
    causes(rows)
    judged_wrong(rows, args.show)
    print(f"\n{len(rows)} videos in {time.time() - t0:.0f} s ({args.workers} worker(s))")

if __name__ == '__main__': main()
