"""Hub mirroring throughput against the local Hub stand-in (`tests/hub_server.py`, run as its own process).

    .venv/bin/python bench/bench_sync_hub.py [--small 2000] [--large 3] [--large-mb 32] [--workers 8]

Two trees: `--small` small files (half PNG-like binaries that go through Git LFS, half text/JSON that go inline in
the commit, 1-4 KiB each, like question folders) and `--large` large binaries (`--large-mb` MiB each, like videos).
For each: `hf_upload` (first upload, then the same tree again: the plan finds nothing to send), and `hf_download`
into an empty folder with 1 file in flight and with `--workers` in flight, then again into the filled folder (every
file is only re-hashed). Prints files/s, MiB/s and the ratios, all measured in this run. The server is on the same
machine, so network latency is near zero: the concurrency gain on a real connection is larger than here.
"""
import argparse, os, random, shutil, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_hub(folder:Path):
    proc = subprocess.Popen([sys.executable, str(ROOT/'tests'/'hub_server.py'), str(folder)], stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def small_tree(folder:Path, n:int, rng:random.Random):
    for i in range(n):
        q = folder/f'domain{i % 5}_task'/f'q_{i // 2:05d}'
        q.mkdir(parents=True, exist_ok=True)
        size = rng.randint(1024, 4096)
        if i % 2: (q/'frame.png').write_bytes(b'\x89PNG\r\n\x1a\n' + rng.randbytes(size))
        else: (q/'question_metadata.json').write_text('{"prompt": "%s"}' % ('x' * size))


def large_tree(folder:Path, n:int, mb:int, rng:random.Random):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n): (folder/f'video_{i}.mp4').write_bytes(rng.randbytes(mb << 20))


def timed(f, *a, **kw):
    t = time.perf_counter(); out = f(*a, **kw)
    return out, time.perf_counter() - t


def measure(name:str, src:Path, repo:str, workers:int, scratch:Path):
    from vmevalkit.sync.hub import hf_download, hf_upload
    n, mib = sum(1 for p in src.rglob('*') if p.is_file()), sum(p.stat().st_size for p in src.rglob('*') if p.is_file()) / 2**20
    rows = []
    up, t_up = timed(hf_upload, src, repo)
    again, t_again = timed(hf_upload, src, repo)
    assert not again.uploaded and len(up.uploaded) == n
    _, t_one = timed(hf_download, repo, scratch/f'{name}_1', max_workers=1)
    _, t_many = timed(hf_download, repo, scratch/f'{name}_n', max_workers=workers)
    check, t_check = timed(hf_download, repo, scratch/f'{name}_n', max_workers=workers)
    assert not check.downloaded
    rows += [('upload', t_up), ('upload again (nothing to send)', t_again), ('download, 1 in flight', t_one),
             (f'download, {workers} in flight', t_many), (f'download again (verify only, {workers})', t_check)]
    print(f"\n{name}: {n} files, {mib:.1f} MiB")
    for label, t in rows: print(f"  {label:<36} {t:7.2f} s {n / t:9.1f} files/s {mib / t:8.1f} MiB/s")
    print(f"  download {workers} in flight vs 1: {t_one / t_many:.2f}x faster;  upload again vs first: {t_up / t_again:.1f}x faster")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--small', type=int, default=2000)
    ap.add_argument('--large', type=int, default=3)
    ap.add_argument('--large-mb', type=int, default=32)
    ap.add_argument('--workers', type=int, default=8)
    args = ap.parse_args()
    scratch, rng = Path(tempfile.mkdtemp(prefix='bench_hub_')), random.Random(0)
    proc, url = start_hub(scratch/'hub')
    os.environ.update(HF_ENDPOINT=url, HF_TOKEN='hf_test_token', HF_HUB_DISABLE_XET='1', HF_HOME=str(scratch/'hf_home'),
                      HF_HUB_DISABLE_PROGRESS_BARS='1', HF_HUB_DISABLE_TELEMETRY='1')
    try:
        small_tree(scratch/'small', args.small, rng)
        large_tree(scratch/'large', args.large, args.large_mb, rng)
        print(f"Hub stand-in at {url} (separate process), client hf_upload / hf_download")
        measure('small files', scratch/'small', 'tester/bench-small', args.workers, scratch)
        measure('large files', scratch/'large', 'tester/bench-large', args.workers, scratch)
    finally:
        proc.terminate(); proc.wait()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == '__main__': main()
