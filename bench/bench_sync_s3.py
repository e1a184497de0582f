"""S3 upload and download throughput, concurrent against one transfer at a time, against a local S3 server.

    .venv/bin/python bench/bench_sync_s3.py [--small 2000] [--small-kb 4] [--large 4] [--large-mb 64] [--workers 16]

Starts `moto_server` on 127.0.0.1 as its own process, makes two trees (many small files; a few large ones, which go
multipart in 8 MiB parts), and for each tree uploads it with `sync_to_s3` and downloads it with `download_from_s3`,
once with `--workers` transfers in flight and once with one at a time (`workers=1`). Each run goes to its own fresh
bucket. Prints files/s and MB/s for each, and the ratio concurrent / one-at-a-time, all measured in this run.
The server is a Python process on the same machine, so absolute numbers say more about it than about S3; the ratio
is what the concurrency buys.
"""
import argparse, os, shutil, socket, subprocess, sys, tempfile, time, uuid
from pathlib import Path
import httpx
import numpy as np

from vmevalkit.sync.s3 import MiB, download_from_s3, s3_client, sync_to_s3

def start_server():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
    proc = subprocess.Popen([str(Path(sys.executable).parent/'moto_server'), '-H', '127.0.0.1', '-p', str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f'http://127.0.0.1:{port}'
    for _ in range(300):
        try: httpx.get(url + '/moto-api/', timeout=1); return proc, url
        except httpx.TransportError: time.sleep(0.1)
    proc.kill(); sys.exit('moto_server did not start')

def make_tree(root:Path, n:int, size:int)->Path:
    rng = np.random.default_rng(0)
    for i in range(n):
        p = root/f'part{i // 100:03d}'/f'file{i:05d}.bin'
        p.parent.mkdir(parents=True, exist_ok=True); p.write_bytes(rng.bytes(size))
    return root

def timed(fn)->float:
    start = time.perf_counter(); fn(); return time.perf_counter() - start

def measure(tree:Path, workers:int, scratch:Path)->tuple[float, float]:
    "Seconds to upload `tree` to a fresh bucket and to download it back."
    bucket = f'bench-{uuid.uuid4().hex[:10]}'
    s3_client().create_bucket(Bucket=bucket)
    up = timed(lambda: sync_to_s3(tree, '202501010000', bucket, workers=workers, quiet=True))
    target = scratch/bucket
    down = timed(lambda: download_from_s3('202501010000', target, bucket, workers=workers, quiet=True))
    shutil.rmtree(target)
    return up, down

def report(name:str, files:int, size:int, workers:int, fast:tuple, slow:tuple):
    for what, f, s in (('upload', fast[0], slow[0]), ('download', fast[1], slow[1])):
        print(f"{name:<22} {what:<8} {workers:>2} workers: {files / f:8.1f} files/s {size / MiB / f:8.1f} MB/s | "
              f"1 worker: {files / s:8.1f} files/s {size / MiB / s:8.1f} MB/s | ratio {s / f:4.1f}x")

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--small', type=int, default=2000); ap.add_argument('--small-kb', type=int, default=4)
    ap.add_argument('--large', type=int, default=4); ap.add_argument('--large-mb', type=int, default=64)
    ap.add_argument('--workers', type=int, default=16)
    args = ap.parse_args()
    proc, url = start_server()
    os.environ.update(AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID='bench', AWS_SECRET_ACCESS_KEY='bench',
                      AWS_DEFAULT_REGION='us-east-1')
    scratch = Path(tempfile.mkdtemp())
    try:
        trees = [(f'{args.small} x {args.small_kb} KB', make_tree(scratch/'small', args.small, args.small_kb * 1024)),
                 (f'{args.large} x {args.large_mb} MB', make_tree(scratch/'large', args.large, args.large_mb * MiB))]
        for name, tree in trees:
            n, size = len(list(tree.rglob('*.bin'))), sum(p.stat().st_size for p in tree.rglob('*.bin'))
            fast, slow = measure(tree, args.workers, scratch), measure(tree, 1, scratch)
            report(name, n, size, args.workers, fast, slow)
    finally:
        proc.terminate(); proc.wait(10); shutil.rmtree(scratch)

if __name__ == '__main__': main()
