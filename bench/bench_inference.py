"""Orchestration benchmark: N API jobs against a local provider stand-in with a fixed latency L, at concurrency C.

    .venv/bin/python bench/bench_inference.py [--jobs 64] [--latency 0.5] [--concurrency 16]

The stand-in speaks Runway's image-to-video protocol (submit, poll the task, download the output) and finishes
every task exactly L seconds after it was submitted. Prints the wall time at concurrency C against the ideal
N·L/C and against a sequential run (C = 1), all measured in this run.
"""
import argparse, json, os, tempfile, threading, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
import numpy as np

class LatencyRunway(BaseHTTPRequestHandler):
    "Runway's task protocol; each task succeeds `latency` seconds after submission."
    tasks, latency, video = {}, 0.5, b''
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
    from vmevalkit.inference import run_experiment
    start = time.perf_counter()
    summary = run_experiment(questions, ['runway-gen4-turbo'], experiment, samples=samples, concurrency=concurrency, quiet=True)
    assert not summary.failed and summary.done == summary.total, summary
    return time.perf_counter() - start

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--jobs', type=int, default=64)
    ap.add_argument('--latency', type=float, default=0.5)
    ap.add_argument('--concurrency', type=int, default=16)
    args = ap.parse_args()
    server = serve(args.latency)
    os.environ.update(RUNWAY_BASE_URL=f'http://127.0.0.1:{server.server_port}', RUNWAYML_API_SECRET='bench-key',
                      VMEVAL_POLL_INTERVAL=str(args.latency/20))  # real jobs: ~60 s, polled every 5 s
    from vmevalkit.tasks import create_dataset
    data = Path(tempfile.mkdtemp())
    samples = 4
    create_dataset(args.jobs // samples, ['maze'], seed=0, output_dir=data/'questions', workers=1)
    n, c, lat = args.jobs, args.concurrency, args.latency
    t_c = timed_batch(data/'questions', samples, c, 'concurrent')
    t_1 = timed_batch(data/'questions', samples, 1, 'sequential')
    ideal = n*lat/c
    print(f"{n} jobs, latency {lat} s, concurrency {c}")
    print(f"  concurrent: {t_c:6.2f} s   ideal N·L/C = {ideal:.2f} s   ratio to ideal {t_c/ideal:.2f}x (goal ≤ 1.3x)")
    print(f"  sequential: {t_1:6.2f} s   speed-up at C={c}: {t_1/t_c:.1f}x (goal ≥ 10x)")
    server.shutdown()

if __name__ == '__main__': main()
