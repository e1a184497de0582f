"""Orchestration benchmark: N API jobs against a local provider stand-in with a fixed latency L, at concurrency C.

    .venv/bin/python bench/bench_inference.py [--jobs 64] [--latency 0.5 2] [--concurrency 16] [--sequential]

The stand-in speaks Runway's image-to-video protocol (submit, poll the task, download the output) over keep-alive
HTTP/1.1, as providers do, and finishes every task exactly L seconds after it was submitted. For each latency L it
prints the wall time at concurrency C against the ideal N·L/C (goal: within 1.3x), all measured in this run, each
batch a fresh experiment in the same process. A first batch of C jobs, timed and printed on its own, pays what a
process pays once (importing httpx and PyAV, building the HTTP client), so that the ratios measure orchestration.
`--sequential` adds a run at C = 1 for the speed-up (N·L seconds long).
"""
import argparse, json, os, tempfile, threading, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
import numpy as np

class LatencyRunway(BaseHTTPRequestHandler):
    "Runway's task protocol; each task succeeds `latency` seconds after submission."
    tasks, latency, video = {}, 0.5, b''
    protocol_version = 'HTTP/1.1'  # keep-alive, as providers do: the pooled client reuses its connections
    disable_nagle_algorithm = True  # headers and body go out in two writes: Nagle would hold the body ~40 ms
    def log_message(self, *a): pass
    def _json(self, obj, code=200):
        body = json.dumps(obj).encode()
        self.send_response(code); self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length', 0)))
        tid = uuid.uuid4().hex
        self.tasks[tid] = time.monotonic()
        self._json({'id': tid})
    def do_GET(self):
        if self.path.startswith('/v1/tasks/'):
            tid = self.path.rsplit('/', 1)[1]
            done = time.monotonic() - self.tasks[tid] >= self.latency
            host = f"http://{self.headers['Host']}"
            return self._json({'id': tid, 'status': 'SUCCEEDED', 'output': [f'{host}/video/{tid}.mp4']} if done
                              else {'id': tid, 'status': 'RUNNING'})
        self.send_response(200); self.send_header('Content-Type', 'video/mp4')
        self.send_header('Content-Length', str(len(self.video))); self.end_headers(); self.wfile.write(self.video)

def serve(latency:float)->ThreadingHTTPServer:
    from vmevalkit.core import write_video
    tmp = Path(tempfile.mkdtemp())
    LatencyRunway.video = write_video([np.zeros((64, 64, 3), np.uint8)]*4, tmp/'v.mp4').read_bytes()
    LatencyRunway.latency = latency
    ThreadingHTTPServer.request_queue_size = 256  # the default backlog of 5 drops concurrent connects (1 s SYN retry)
    server = ThreadingHTTPServer(('127.0.0.1', 0), LatencyRunway)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server

def timed_batch(questions:Path, samples:int, concurrency:int, experiment:str)->float:
    from vmevalkit.inference import run_experiment  # imported before the clock starts (a process pays it once)
    start = time.perf_counter()
    summary = run_experiment(questions, ['runway-gen4-turbo'], experiment, samples=samples, concurrency=concurrency, quiet=True)
    assert not summary.failed and summary.done == summary.total, summary
    return time.perf_counter() - start

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--jobs', type=int, default=64)
    ap.add_argument('--latency', type=float, nargs='+', default=[0.5, 2.])
    ap.add_argument('--concurrency', type=int, default=16)
    ap.add_argument('--sequential', action='store_true', help='also run at concurrency 1 (N·L seconds per latency)')
    args = ap.parse_args()
    from vmevalkit.tasks import create_dataset
    data, samples = Path(tempfile.mkdtemp()), 4
    create_dataset(args.jobs // samples, ['maze'], seed=0, output_dir=data/'questions', workers=1)
    create_dataset(max(1, args.concurrency // samples), ['maze'], seed=1, output_dir=data/'warmup', workers=1)
    n, c = args.jobs, args.concurrency
    server = serve(args.latency[0])
    os.environ.update(RUNWAY_BASE_URL=f'http://127.0.0.1:{server.server_port}', RUNWAYML_API_SECRET='bench-key',
                      VMEVAL_POLL_INTERVAL=str(args.latency[0]/20))
    t_w = timed_batch(data/'warmup', samples, c, 'warmup')
    print(f"{n} jobs at concurrency {c}; first batch of the process ({c} jobs, latency {args.latency[0]:g} s): {t_w:.2f} s")
    server.shutdown()
    for lat in args.latency:
        server = serve(lat)
        os.environ.update(RUNWAY_BASE_URL=f'http://127.0.0.1:{server.server_port}', RUNWAYML_API_SECRET='bench-key',
                          VMEVAL_POLL_INTERVAL=str(lat/20))  # real jobs: ~60 s, polled every 5 s
        t_c, ideal = timed_batch(data/'questions', samples, c, f'concurrent_{lat:g}'), n*lat/c
        print(f"  latency {lat:4g} s: {t_c:6.2f} s   ideal N·L/C = {ideal:6.2f} s   ratio to ideal {t_c/ideal:.2f}x (goal ≤ 1.3x)")
        if args.sequential:
            t_1 = timed_batch(data/'questions', samples, 1, f'sequential_{lat:g}')
            print(f"    sequential: {t_1:6.2f} s   speed-up at C={c}: {t_1/t_c:.1f}x (goal ≥ 10x)")
        server.shutdown()

if __name__ == '__main__': main()
