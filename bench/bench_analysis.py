"""How fast `load_scores` reads a large results set: 100,000 synthetic score files, read file by file with one thread
and with a thread pool, and through the data folder's index (built from nothing, then up to date), in one run. Prints
files per second and the ratios.

    .venv/bin/python bench/bench_analysis.py [--files 100000] [--dir /tmp/bench_analysis] [--workers 1 4 8]

The files are written once (plain writes, not atomic ones: only reading is measured) and reused by later runs with the
same --dir. The first read warms the OS file cache, so every timed read sees the same, cached, files."""
import argparse, json, os, time
from pathlib import Path

from vmevalkit.analysis import load_scores, score_files
from vmevalkit.core import DataLayout
from vmevalkit.core.index import INDEX_NAME
from vmevalkit.scoring import ScoreRecord, score_path

SCORERS, MODELS, DOMAINS = ['auto', 'gpt4o'], ['oracle', 'still', 'crossfade', 'cut-to-final', 'veo'], \
    ['chess', 'maze', 'raven', 'rotation', 'sudoku']

def write_records(root:Path, n:int)->int:
    "Write about n score files under root (10 samples per question); returns how many exist."
    layout, per_task = DataLayout(root), 10
    tasks = max(1, n//(len(SCORERS)*len(MODELS)*len(DOMAINS)*per_task))
    count = 0
    for scorer in SCORERS:
        for model in MODELS:
            for domain in DOMAINS:
                for t in range(tasks):
                    task_id = f"{domain}_{t:04d}"
                    q = layout.questions/f"{domain}_task"/task_id/'question_metadata.json'
                    if not q.exists():
                        q.parent.mkdir(parents=True, exist_ok=True)
                        q.write_text(json.dumps({'difficulty': 'easy'}))
                    for s in range(per_task):
                        score = (t + s) % 5 + 1
                        rec = ScoreRecord(scorer, model, task_id, f"{model}_{task_id}_s{s}", score=score,
                                          explanation='benchmark record', scoring_type='bench')
                        path = score_path(layout, 'bench', rec)
                        if count % (per_task) == 0: path.parent.mkdir(parents=True, exist_ok=True)
                        path.write_text(json.dumps(rec.to_dict(), indent=2))
                        count += 1
    return count

def timed(root:Path, workers:int=1, index:bool=False)->tuple:
    start = time.perf_counter()
    df = load_scores(root, workers=workers, index=index)
    return time.perf_counter() - start, len(df)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--files', type=int, default=100_000)
    ap.add_argument('--dir', type=Path, default=Path('/tmp/bench_analysis'))
    ap.add_argument('--workers', type=int, nargs='+', default=[1, 4, 8])
    args = ap.parse_args()
    marker = args.dir/f'.written-{args.files}'
    if not marker.exists():
        start = time.perf_counter()
        n = write_records(args.dir, args.files)
        marker.touch()
        print(f"wrote {n} score files in {time.perf_counter() - start:.1f} s")
    timed(args.dir, max(args.workers))  # warm the file cache
    base = None
    print(f"cpu cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    start = time.perf_counter()
    files = score_files(DataLayout(args.dir))
    for f in files:
        with open(f, 'rb') as fh: json.loads(fh.read())
    floor = time.perf_counter() - start
    print(f"floor (list, open, read, json.loads; nothing else): {len(files)/floor:,.0f} files/s")
    for w in args.workers:
        seconds, rows = timed(args.dir, w)
        base = base or seconds
        print(f"load_scores, {w} thread(s): {rows} rows in {seconds:.2f} s = {rows/seconds:,.0f} files/s "
              f"({base/seconds:.2f}x the first, {floor/seconds:.2f}x the floor's speed)")
    for f in args.dir.glob(INDEX_NAME + '*'): f.unlink()
    for what in ('building it', 'up to date'):
        seconds, rows = timed(args.dir, index=True)
        print(f"load_scores through the index, {what}: {rows} rows in {seconds:.2f} s = {rows/seconds:,.0f} files/s "
              f"({base/seconds:.2f}x the first, {floor/seconds:.2f}x the floor's speed)")

if __name__ == '__main__': main()
