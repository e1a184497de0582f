"""Questions per second per domain, one worker against a pool, and the peak memory of a whole dataset.

    .venv/bin/python bench/bench_create.py [--pairs-per-domain 2000] [--workers 2]

Each measurement runs `create_dataset` in a fresh process, so its peak memory (the process and its pool workers, from
`resource.getrusage`) is its own. Prints, per domain, questions/second with one worker and with the pool and their
ratio, all measured in this run; then the whole dataset (every domain, `--pairs-per-domain` each) made by the pool,
with its speed and peak memory, and the time `validate_dataset` takes to check it.
"""
import argparse, json, os, resource, shutil, subprocess, sys, tempfile, time
from vmevalkit.tasks import DOMAIN_REGISTRY, create_dataset, validate_dataset

def measure(n:int, domains:list, workers:int, folder:str)->dict:
    "Make `n` questions per domain in `folder` here: seconds, CPU seconds and peak memory (MiB) of this process and its pool."
    cpu0, t = cpu_seconds(), time.perf_counter()
    create_dataset(n, domains, seed=0, output_dir=folder, workers=workers)
    seconds, cpu = time.perf_counter() - t, cpu_seconds() - cpu0
    self, child = (resource.getrusage(who).ru_maxrss/1024 for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return dict(seconds=seconds, cpu=cpu, questions=n*len(domains), parent_mib=self, worker_mib=child)

def cpu_seconds()->float:
    "CPU time of this process and its finished children (the pool's workers, once it is shut down)."
    return sum(r.ru_utime + r.ru_stime for r in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))

def timed_create(n:int, domains:list, workers:int, keep:str|None=None)->dict:
    "`measure` in a fresh process, in a temporary folder (or in `keep`, left in place)."
    folder = keep or tempfile.mkdtemp(prefix='vmeval-bench-')
    try:
        out = subprocess.run([sys.executable, __file__, '--measure', json.dumps([n, domains, workers, folder])],
                             capture_output=True, text=True, check=True).stdout
        return json.loads(out.splitlines()[-1])
    finally:
        if not keep: shutil.rmtree(folder)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--pairs-per-domain', type=int, default=2000)
    ap.add_argument('--workers', type=int, default=os.cpu_count())
    ap.add_argument('--measure', help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure: return print(json.dumps(measure(*json.loads(args.measure))))
    n, w, domains = args.pairs_per_domain, args.workers, list(DOMAIN_REGISTRY)
    print(f"{n} questions per domain, {n*len(domains)} in all; pool of {w} workers on {os.cpu_count()} cores\n")
    print("(CPU ms/q counts every process: equal figures mean the pool adds no work, and the speed-up is what the\n"
          " machine's free cores allow. Peak MiB: the parent / its largest worker.)\n")
    print(f"{'domain':<10} {'1 worker q/s':>13} {f'{w} workers q/s':>15} {'speed-up':>9} {'CPU ms/q (1 / pool)':>20} "
          f"{'peak MiB (1 / pool)':>20}")
    for d in domains:
        one, pool = timed_create(n, [d], 1), timed_create(n, [d], w)
        print(f"{d:<10} {n/one['seconds']:>13.1f} {n/pool['seconds']:>15.1f} {one['seconds']/pool['seconds']:>8.2f}x "
              f"{1000*one['cpu']/n:>11.1f} / {1000*pool['cpu']/n:<6.1f} {one['parent_mib']:>11.0f} / "
              f"{pool['parent_mib']:.0f} + {pool['worker_mib']:.0f}", flush=True)
    folder = tempfile.mkdtemp(prefix='vmeval-bench-')
    try:
        every = timed_create(n, domains, w, keep=folder)
        print(f"\nall domains, {w} workers: {every['questions']} questions in {every['seconds']:.1f} s "
              f"({every['questions']/every['seconds']:.1f} q/s), peak memory: parent {every['parent_mib']:.0f} MiB, largest worker "
              f"{every['worker_mib']:.0f} MiB", flush=True)
        t = time.perf_counter(); report = validate_dataset(folder); tv = time.perf_counter() - t
        print(f"validate: {report.checked} questions in {tv:.1f} s ({report.checked/tv:.1f} q/s), {len(report)} problems")
    finally: shutil.rmtree(folder)

if __name__ == '__main__': main()
