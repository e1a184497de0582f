"""The automatic checker against decoding alone, on 720p 8-second videos (192 frames at 24 fps).

    .venv/bin/python bench/bench_scoring.py [--videos 4] [--domains chess maze raven rotation sudoku] [--smooth] [--camera]

For each domain: oracle videos (the solution trajectory spread over 8 s) and perturbed copies (shifted, brightened,
noisy: registration has to work), each a different question. Every video is decoded and checked in turn (so a slow
moment of the machine weighs on both alike): through `read_frames` (decoded and converted to RGB, what a scorer that
reads every frame pays), bare decoding (`iter_frames(rgb=False)`, nothing kept: the floor), `check_video` the first
time its question is seen (*cold*: a checker's per-question work, such as drawing the rotation checker's candidate
views, included), and `check_video` again (*warm*: the question's work already done, as for every model and sample
after the first in an experiment). Prints videos per second and the ratios check / decode, all measured in this run,
in wall-clock time and in CPU time (all threads: `check_video` decodes a few frames ahead in a thread while it checks,
so its wall-clock ratio profits from a core that decoding leaves partly idle; the CPU ratio is what a machine already
busy with `--workers` pays). Goal: checking costs at most 1.5× decoding.

The oracle trajectories hold each state for several frames, so a check reads only the frames where the state changes.
`--smooth` makes the rotation videos turn a little on every frame instead (192 distinct views, each one read): the
most a check can cost. `--camera` re-shoots every video with a camera that moves on every frame (a slow push-in, a
pan and a small roll, growing over the clip), so the checker has to follow the puzzle from frame to frame.
"""
import argparse, os, tempfile, time
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

def turning_every_frame(q:dict)->list:
    "A rotation question's turn spread over all 8 s, a new view on every frame."
    from vmevalkit.tasks.rotation import draw_view
    v0, n = q['first_view'], FPS*SECONDS
    return [np.asarray(draw_view(q['voxels'], dict(azim=v0['azim'] + q['angle']*i/(n - 1),
                                                   elev=v0['elev'] + q['elev_change']*i/(n - 1)))) for i in range(n)]

def moving_camera(frames:list)->list:
    "`frames` filmed by a camera that pushes in 6 %, pans 24 px right and 12 px down and rolls 1.5°, all growing over the clip."
    import cv2
    n, out = len(frames), []
    for i, f in enumerate(frames):
        t = i/max(1, n - 1)
        m = cv2.getRotationMatrix2D((640, 360), 1.5*t, 1 + .06*t)
        m[:, 2] += (-24*t, -12*t)
        out.append(cv2.warpAffine(np.asarray(f), m, (1280, 720), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE))
    return out

def make_videos(domain:str, n:int, folder:Path, smooth:bool=False, camera:bool=False)->list:
    task, out = get_task(domain), []
    for i in range(n):
        pair = task.make_pair(i, seed=7)
        frames = (turning_every_frame(pair.metadata) if smooth and domain == 'rotation'
                  else eight_seconds(task.solution_frames(pair.metadata)))
        if i % 2: frames = [perturb(perturb(perturb(f, 'shift'), 'brighten'), 'noise') for f in frames]
        if camera: frames = moving_camera(frames)
        out.append((pair, write_video(frames, folder/f'{domain}_{i}.mp4', fps=FPS)))
    return out

def cpu()->float:
    t = os.times(); return t.user + t.system

def seconds(fn)->np.ndarray:
    "(wall, CPU) seconds that `fn()` takes."
    t, c = time.perf_counter(), cpu(); fn(); return np.array([time.perf_counter() - t, cpu() - c])

def time_domain(videos:list)->tuple:
    "Summed (wall, CPU) seconds of decode, bare, cold check and warm check over `videos` (a 4×2 array), and the scores."
    totals, scores = np.zeros((4, 2)), []
    for pair, v in videos:
        totals += [seconds(lambda: read_frames(v)), seconds(lambda: sum(1 for _ in iter_frames(v, rgb=False))),
                   seconds(lambda: scores.append(check_video(v, pair).score)), seconds(lambda: check_video(v, pair))]
    return totals, scores

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--videos', type=int, default=4)
    ap.add_argument('--domains', nargs='+', default=['chess', 'maze', 'raven', 'rotation', 'sudoku'])
    ap.add_argument('--smooth', action='store_true', help='rotation videos turn on every frame')
    ap.add_argument('--camera', action='store_true', help='a camera that moves on every frame (push-in, pan, roll)')
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp())
    camera = ', filmed by a moving camera' if args.camera else ''
    print(f"{args.videos} videos per domain, 1280×720, {SECONDS} s at {FPS} fps (odd ones shifted+brightened+noisy{camera})\n")
    print(f"{'':<10} {'videos per second':^21}  {'check / decode, wall clock':^26}  {'check / decode, CPU':^26}")
    print(f"{'domain':<10} {'decode':>10} {'check':>10}  {'cold':>8} {'warm':>8} {'/bare':>8}  {'cold':>8} {'warm':>8}"
          f" {'/bare':>8}  scores")
    for d in args.domains:
        videos = make_videos(d, args.videos, folder, args.smooth, args.camera)
        (decode, bare, cold, warm), scores = time_domain(videos)
        n = len(videos)
        ratios = lambda k: f"{cold[k]/decode[k]:>7.2f}x {warm[k]/decode[k]:>7.2f}x {cold[k]/bare[k]:>7.2f}x"
        print(f"{d:<10} {n/decode[0]:>10.2f} {n/cold[0]:>10.2f}  {ratios(0)}  {ratios(1)}  {scores}")

if __name__ == '__main__': main()
