"""The automatic checker against decoding alone, on 720p 8-second videos (192 frames at 24 fps).

    .venv/bin/python bench/bench_scoring.py [--videos 3] [--domains chess maze raven rotation sudoku]

For each domain: oracle videos (the solution trajectory spread over 8 s) and perturbed copies (shifted, brightened,
noisy: registration has to work), timed through `check_video` and through `read_frames` alone. Prints videos per
second and the ratio check / decode (goal: at most 1.5×), all measured in this run. Two decode baselines: `read_frames`
(decoded and converted to RGB, what a scorer that reads every frame pays) and bare decoding (`iter_frames(rgb=False)`,
nothing kept: the floor).
"""
import argparse, tempfile, time
from pathlib import Path
import numpy as np
from vmevalkit.core import iter_frames, read_frames, write_video
from vmevalkit.scoring import check_video, perturb
from vmevalkit.tasks import get_task

FPS, SECONDS = 24, 8

def eight_seconds(frames:list)->list:
    "The trajectory stretched (by repeating frames) to 8 s at 24 fps."
    idx = np.linspace(0, len(frames) - 1, FPS*SECONDS).round().astype(int)
    return [np.asarray(frames[i]) for i in idx]

def make_videos(domain:str, n:int, folder:Path)->list:
    task, out = get_task(domain), []
    for i in range(n):
        pair = task.make_pair(i, seed=7)
        frames = eight_seconds(task.solution_frames(pair.metadata))
        if i % 2: frames = [perturb(perturb(perturb(f, 'shift'), 'brighten'), 'noise') for f in frames]
        out.append((pair, write_video(frames, folder/f'{domain}_{i}.mp4', fps=FPS)))
    return out

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--videos', type=int, default=3)
    ap.add_argument('--domains', nargs='+', default=['chess', 'maze', 'raven', 'rotation', 'sudoku'])
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp())
    print(f"{args.videos} videos per domain, 1280×720, {SECONDS} s at {FPS} fps (odd ones shifted+brightened+noisy)\n")
    print(f"{'domain':<10} {'decode v/s':>10} {'bare v/s':>9} {'check v/s':>10} {'check/decode':>13} {'check/bare':>11}"
          f" {'scores':>12}")
    for d in args.domains:
        videos = make_videos(d, args.videos, folder)
        t = time.perf_counter()
        for _, v in videos: read_frames(v)
        decode = time.perf_counter() - t
        t = time.perf_counter()
        for _, v in videos: sum(1 for _ in iter_frames(v, rgb=False))
        bare = time.perf_counter() - t
        t = time.perf_counter()
        scores = [check_video(v, pair).score for pair, v in videos]
        check = time.perf_counter() - t
        print(f"{d:<10} {len(videos)/decode:>10.2f} {len(videos)/bare:>9.2f} {len(videos)/check:>10.2f}"
              f" {check/decode:>12.2f}x {check/bare:>10.2f}x {str(scores):>12}")

if __name__ == '__main__': main()
