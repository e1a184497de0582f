"""Questions per second per domain for a 1,000-question dataset (200 per domain), one process against a pool.

    .venv/bin/python bench/bench_create.py [--pairs-per-domain 200] [--workers 2]

Prints, per domain, questions/second with one worker and with the pool, and the ratio, all measured in this run.
"""
import argparse, os, shutil, tempfile, time
from vmevalkit.tasks import DOMAIN_REGISTRY, create_dataset, validate_dataset

def timed_create(n, domain, workers)->float:
    folder = tempfile.mkdtemp(prefix='vmeval-bench-')
    try:
        t = time.perf_counter()
        create_dataset(n, [domain], seed=0, output_dir=folder, workers=workers)
        return time.perf_counter() - t
    finally: shutil.rmtree(folder)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--pairs-per-domain', type=int, default=200)
    ap.add_argument('--workers', type=int, default=os.cpu_count())
    args = ap.parse_args()
    n, w = args.pairs_per_domain, args.workers
    print(f"{n} questions per domain, {n*len(DOMAIN_REGISTRY)} in all; pool of {w} workers on {os.cpu_count()} cores\n")
    print(f"{'domain':<10} {'1 worker q/s':>13} {f'{w} workers q/s':>15} {'speed-up':>9}")
    total1 = totalw = 0
    for d in DOMAIN_REGISTRY:
        t1, tw = timed_create(n, d, 1), timed_create(n, d, w)
        total1, totalw = total1 + t1, totalw + tw
        print(f"{d:<10} {n/t1:>13.1f} {n/tw:>15.1f} {t1/tw:>8.2f}x")
    all_n = n*len(DOMAIN_REGISTRY)
    print(f"{'all':<10} {all_n/total1:>13.1f} {all_n/totalw:>15.1f} {total1/totalw:>8.2f}x")
    folder = tempfile.mkdtemp(prefix='vmeval-bench-')
    try:
        create_dataset(n, seed=0, output_dir=folder, workers=w)
        t = time.perf_counter(); report = validate_dataset(folder); tv = time.perf_counter() - t
        print(f"\nvalidate: {report.checked} questions in {tv:.1f} s ({report.checked/tv:.1f} q/s), {len(report)} problems")
    finally: shutil.rmtree(folder)

if __name__ == '__main__': main()
