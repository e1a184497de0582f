"""How fast the dashboard answers over a leaderboard-sized experiment: a synthetic experiment of N runs (default 150,000;
media hard-linked to one small file each), with the index and without it, in one run. Prints, per page, the first
request after start (cold) and the median of later ones (warm), and the ratios; then the time an annotator's queue
(`AnnotationQueue`) takes to open over the same experiment, through the index and as before (`--human-before REV`).

    .venv/bin/python bench/bench_dashboard.py [--runs 150000] [--dir /tmp/bench_dashboard] [--repeat 5]
                                              [--before 1d66726] [--before-repeat 3] [--human-before e3b0367]

"With the index" is this version of `vmevalkit.dashboard`. "Without" is the dashboard as it was before the index
(`git show REV:vmevalkit/dashboard.py`, `--before REV`; reading every file, as it did then); `--before ''` skips it.
The tree is written once and reused by later runs with the same --dir and --runs. Each cold request is the first of
a new application (the index, when used, already built: the build is timed on its own), with the OS file cache warm."""
import argparse, functools, importlib.util, json, os, statistics, subprocess, sys, time
from pathlib import Path

from vmevalkit.analysis import load_scores
from vmevalkit.core import DataLayout, write_bytes
from vmevalkit.core.index import INDEX_NAME
from vmevalkit.scoring import ScoreRecord, score_path
import vmevalkit.dashboard as dashboard
import vmevalkit.scoring.human as human

MODELS = ['oracle', 'still', 'crossfade', 'cut-to-final', 'veo', 'sora', 'kling', 'luma', 'runway', 'wan']
DOMAINS = ['chess', 'maze', 'raven', 'rotation', 'sudoku']
REPO = Path(__file__).resolve().parent.parent

def _link(src:Path, dest:Path):
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.link(src, dest)

def write_tree(root:Path, runs:int)->int:
    "About `runs` runs (3 samples per question) with media hard-linked, an auto record each and a human one for 1 in 10."
    layout, samples = DataLayout(root), 3
    def media(name:str, count:int)->Path:
        "The file to link: a new one every 50,000 runs (ext4 allows 65,000 links to one file)."
        src = root/'.media'/str(count//50_000)/name
        if not src.exists(): write_bytes(src, b'\0'*(2048 if name.endswith('mp4') else 512))
        return src
    tasks, count = max(1, runs//(len(MODELS)*len(DOMAINS)*samples)), 0
    for model in MODELS:
        for domain in DOMAINS:
            for t in range(tasks):
                task_id = f"{domain}_{t:04d}"
                for s in range(samples):
                    run_id = f"{model}_{task_id}_s{s}"
                    run = layout.outputs/'bench'/model/f"{domain}_task"/task_id/run_id
                    (run/'video').mkdir(parents=True)
                    (run/'metadata.json').write_text(
                        '{"inference": {"run_id": "%s", "model": "%s", "status": "success", "sample": %d}, '
                        '"input": {"prompt": "Solve it."}, "question_data": {"id": "%s", "domain": "%s", '
                        '"difficulty": "easy"}}' % (run_id, model, s, task_id, domain))
                    _link(media('generated_video.mp4', count), run/'video/generated_video.mp4')
                    for n in ('first_frame.png', 'final_frame.png'): _link(media(n, count), run/'question'/n)
                    score = (t + s + len(model)) % 5 + 1
                    recs = [ScoreRecord('auto', model, task_id, run_id, score=score, explanation='bench', scoring_type='bench')]
                    if count % 10 == 0: recs.append(ScoreRecord('human', model, task_id, run_id, score=6 - score,
                                                                explanation='bench', scoring_type='bench', annotator='ada'))
                    for rec in recs:
                        path = score_path(layout, 'bench', rec)
                        path.parent.mkdir(parents=True, exist_ok=True)
                        path.write_text(json.dumps(rec.to_dict()))
                    count += 1
    return count

def module_at(rev:str, path:str='vmevalkit/dashboard.py'):
    "The module at `path` as it was at `rev` (the dashboard's `load_scores` told not to use the index)."
    src = subprocess.run(['git', 'show', f'{rev}:{path}'], cwd=REPO, capture_output=True, text=True, check=True).stdout
    package = path.removesuffix('.py').replace('/', '.').rsplit('.', 1)[0]
    spec = importlib.util.spec_from_loader(f"{package}._before_{Path(path).stem}", loader=None)
    mod = importlib.util.module_from_spec(spec)
    mod.__package__ = package
    sys.modules[spec.name] = mod  # dataclasses look their module up
    exec(compile(src, f'{rev}:{path}', 'exec'), mod.__dict__)
    if hasattr(mod, 'load_scores'): mod.load_scores = functools.partial(load_scores, index=False)
    return mod

def time_queue(module, root:Path)->tuple:
    "Seconds to open an annotator's queue over the experiment, and how many runs it holds and has left."
    start = time.perf_counter()
    q = module.AnnotationQueue('bench', 'Grace', root)
    return time.perf_counter() - start, len(q.items), len(q.queue)

PAGES = {'leaderboard page': '/?experiment=bench', 'leaderboard API': '/api/leaderboard?experiment=bench',
         'filtered results API': '/api/results?experiment=bench&model=veo&scorer=auto&outcome=failure',
         'filtered results page': '/runs?experiment=bench&model=veo&domain=maze'}

def get(client, url:str)->float:
    start = time.perf_counter()
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code, r.get_data(as_text=True)[:300])
    return time.perf_counter() - start

def time_pages(module, root:Path, repeat:int)->dict:
    "page → (cold seconds, warm median seconds)."
    out = {}
    for name, url in PAGES.items():
        client = module.create_app(root).test_client()
        cold = get(client, url)
        out[name] = cold, statistics.median(get(client, url) for _ in range(repeat))
    return out

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--runs', type=int, default=150_000)
    ap.add_argument('--dir', type=Path, default=Path('/tmp/bench_dashboard'))
    ap.add_argument('--repeat', type=int, default=5, help='warm requests per page (the median is shown)')
    ap.add_argument('--before', default='1d66726', help="the commit of the dashboard without an index ('' skips it)")
    ap.add_argument('--before-repeat', type=int, default=3, help='warm requests per page without the index')
    ap.add_argument('--human-before', default='e3b0367', help="the commit of the annotation queue without the index ('' skips it)")
    args = ap.parse_args()
    root = args.dir/f'data-{args.runs}'
    if not (root/'.written').exists():
        start = time.perf_counter()
        n = write_tree(root, args.runs)
        (root/'.written').touch()
        print(f"wrote {n} runs in {time.perf_counter() - start:.0f} s")
    print(f"cpu cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    for f in root.glob(INDEX_NAME + '*'): f.unlink()
    build = get(dashboard.create_app(root).test_client(), PAGES['leaderboard page'])
    print(f"building the index (first request ever, no index yet): {build:.2f} s")
    results = {'index': time_pages(dashboard, root, args.repeat)}
    if args.before: results['before'] = time_pages(module_at(args.before), root, args.before_repeat)
    print(f"{'page':24} {'cold, index':>12} {'warm, index':>12}" +
          (f" {'cold, before':>13} {'warm, before':>13} {'cold ratio':>11} {'warm ratio':>11}" if args.before else ''))
    for name in PAGES:
        (c, w), line = results['index'][name], ''
        if args.before:
            bc, bw = results['before'][name]
            line = f" {bc*1000:11.0f}ms {bw*1000:11.0f}ms {bc/c:10.1f}x {bw/w:10.1f}x"
        print(f"{name:24} {c*1000:10.0f}ms {w*1000:10.0f}ms" + line)
    seconds, runs, left = time_queue(human, root)
    line = f"opening an annotator's queue: {runs} runs to score, {left} left for this annotator, {seconds:.2f} s with the index"
    if args.human_before:
        before, *same = time_queue(module_at(args.human_before, 'vmevalkit/scoring/human.py'), root)
        assert same == [runs, left], (same, runs, left)
        line += f", {before:.2f} s reading every run and record folder ({before/seconds:.1f}x)"
    print(line)

if __name__ == '__main__': main()
