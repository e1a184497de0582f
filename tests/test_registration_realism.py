"Registration as real generators deliver videos: any output shape, a moving camera, cuts, bad input, compression, grain."
import json
from pathlib import Path
import numpy as np
import pytest
from fastcore import test as fct
from vmevalkit.core import write_video
from vmevalkit.scoring import CHANGED, Follower, _signature, check_video, score_run
from vmevalkit.tasks import get_task

FPS = 24

def oracle(domain:str, index:int=1, seconds:float=2.)->tuple:
    "(question, its oracle's canvas frames spread over `seconds` at `FPS`)."
    task = get_task(domain)
    pair = task.make_pair(index, seed=7)
    steps = [np.asarray(f) for f in task.solution_frames(pair.metadata)]
    return pair, [steps[i] for i in np.linspace(0, len(steps) - 1, round(FPS*seconds)).round().astype(int)]

def placed(frame:np.ndarray, size:tuple, fill:float=1.)->np.ndarray:
    "`frame` shrunk to `fill` of the largest copy that fits a black picture of `size` (width, height), centred."
    import cv2
    w, h = size
    s = fill*min(w/frame.shape[1], h/frame.shape[0])
    inner = cv2.resize(frame, (round(frame.shape[1]*s), round(frame.shape[0]*s)), interpolation=cv2.INTER_AREA)
    out = np.zeros((h, w, 3), np.uint8)
    y, x = (h - inner.shape[0])//2, (w - inner.shape[1])//2
    out[y:y + inner.shape[0], x:x + inner.shape[1]] = inner
    return out

def camera(n:int)->list:
    "Per frame, the 3×3 canvas → video map of a camera that pushes in 6 %, pans 24 and 12 px and rolls 1.5°, growing."
    import cv2
    maps = []
    for t in np.linspace(0, 1, n):
        m = cv2.getRotationMatrix2D((640, 360), 1.5*t, 1 + .06*t)
        m[:, 2] += (-24*t, -12*t)
        maps.append(np.vstack([m, [0, 0, 1]]))
    return maps

def filmed(frames:list)->list:
    "`frames` through `camera`."
    import cv2
    return [cv2.warpAffine(f, m[:2], (1280, 720), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            for f, m in zip(frames, camera(len(frames)))]

def grained(frames:list, sigma:float=6.)->list:
    "`frames` with fresh Gaussian grain of `sigma` grey levels on every frame."
    rng = np.random.default_rng(0)
    return [np.clip(f + rng.normal(0, sigma, f.shape), 0, 255).astype(np.uint8) for f in frames]

def verdict(frames:list, pair, path, crf:int=18):
    return check_video(write_video(frames, path, fps=FPS, crf=crf), pair)

# output shapes: (width, height) of the video and how much of what fits the puzzle fills
SHAPES = {'letterboxed 832x480': ((832, 480), .9), 'pillarboxed portrait 720x1280': ((720, 1280), 1.),
          'square': ((720, 720), 1.), '4:3': ((960, 720), .95), '1920x1080': ((1920, 1080), 1.)}
CASES = [(d, s) for d in ['maze', 'sudoku'] for s in SHAPES] + [
         ('chess', 'pillarboxed portrait 720x1280'), ('raven', 'letterboxed 832x480'), ('rotation', 'square')]

@pytest.mark.parametrize('domain,shape', CASES)
def test_any_output_shape_scores_as_the_clean_video(tmp_path, domain, shape):
    pair, frames = oracle(domain)
    size, fill = SHAPES[shape]
    v = verdict([placed(f, size, fill) for f in frames], pair, tmp_path/'shaped.mp4')
    fct.test_eq((v.score, v.uncertain), (5, None))

# rotation is left out: its puzzle is one small object that turns, which ECC cannot tell from a turning camera
@pytest.mark.parametrize('domain', ['chess', 'maze', 'raven', 'sudoku'])
def test_a_moving_camera_is_followed(tmp_path, domain):
    "Push-in, pan and roll growing over 4 s: the verdict stands, and every frame is registered within a few grey levels."
    import cv2
    from vmevalkit.core import iter_frames
    pair, frames = oracle(domain, seconds=4)
    video = write_video(filmed(frames), tmp_path/'camera.mp4', fps=FPS)
    fct.test_eq(check_video(video, pair).score, 5)
    follower, last, errors = Follower(np.asarray(get_task(domain).first_frame(pair.metadata)), bgr=True), None, []
    for i, f in enumerate(iter_frames(video, rgb=False)):
        sig = _signature(f, follower.block)
        if last is None or np.abs(sig - last).max() > CHANGED:
            track, _ = follower.follow(f, i, sig)
            last = _signature(f, follower.block)  # blocks of the puzzle's size, once it is found
        back = cv2.cvtColor(track.apply(f, bgr=True), cv2.COLOR_RGB2GRAY).astype(np.float32)
        clean = cv2.cvtColor(frames[i], cv2.COLOR_RGB2GRAY).astype(np.float32)
        errors.append(np.abs(back - clean)[72:-72, 128:-128].mean())  # the camera's replicated border left out
    assert max(errors) < 8, (domain, np.round(errors, 1))  # a pixel's misfit costs 6–7 levels along the puzzle's lines

def unrelated(n:int)->list:
    "`n` frames of a picture that is no puzzle: smooth coloured blobs."
    import cv2
    rng = np.random.default_rng(1)
    blobs = cv2.resize(rng.integers(0, 256, (9, 16, 3), dtype=np.uint8), (1280, 720), interpolation=cv2.INTER_CUBIC)
    return [blobs]*n

def another_question(n:int)->list:
    "`n` frames of a chess question's first frame: a render, but of another question."
    task = get_task('chess')
    return [np.asarray(task.first_frame(task.make_pair(0, seed=7).metadata))]*n

@pytest.mark.parametrize('cut_to', [unrelated, another_question])
def test_a_cut_to_another_scene_is_named(tmp_path, cut_to):
    pair, frames = oracle('maze')
    half = len(frames)//2
    v = verdict(frames[:half] + cut_to(len(frames) - half), pair, tmp_path/'cut.mp4')
    fct.test_eq((v.score, v.uncertain), (None, 'scene cut'))

def run_folder(tmp_path, pair, frames:list)->Path:
    "A run folder holding `frames` as the video of a successful run answering `pair`."
    run = tmp_path/'outputs/realism/model'/f"{pair.domain}_task"/pair.id/f"model_{pair.id}_s0"
    write_video(frames, run/'video/generated_video.mp4', fps=FPS)
    (run/'metadata.json').write_text(json.dumps(dict(inference=dict(status='success'), question_data=pair.to_dict())))
    return run

def letterbox_only(frames:list)->list:
    "The bars of a letterboxed video around an empty, flat picture."
    return [placed(np.full_like(f, 235), (832, 480), .9) for f in frames]

def noise(frames:list)->list:
    rng = np.random.default_rng(2)
    return [rng.integers(0, 256, f.shape, dtype=np.uint8) for f in frames]

def portrait_crop(frames:list)->list:
    "What a vertical generator makes of a horizontal question: the canvas's middle 9:16, filling a 720×1280 frame."
    import cv2
    return [cv2.resize(np.ascontiguousarray(f[:, 438:842]), (720, 1280), interpolation=cv2.INTER_CUBIC) for f in frames]

BAD = {'black': (lambda fs: [np.zeros_like(f) for f in fs], 'puzzle not found'),
       'letterbox only': (letterbox_only, 'puzzle not found'),
       'noise': (noise, 'puzzle not found'),
       'two frames': (lambda fs: [fs[0], fs[-1]], 'too short'),
       'portrait of the landscape question': (portrait_crop, 'no alignment')}  # a part of it is there

@pytest.mark.parametrize('case', BAD)
def test_bad_videos_are_skipped_with_their_cause(tmp_path, case):
    pair, frames = oracle('maze')
    make, cause = BAD[case]
    rec = score_run(run_folder(tmp_path, pair, make(frames)))
    fct.test_eq((rec.status, rec.score, rec.details.get('skip_cause')), ('skipped', None, cause))

@pytest.mark.parametrize('domain', ['maze', 'sudoku'])
def test_heavy_compression_and_film_grain_still_score_5(tmp_path, domain):
    pair, frames = oracle(domain)
    fct.test_eq(verdict(frames, pair, tmp_path/'crf38.mp4', crf=38).score, 5)
    fct.test_eq(verdict(grained(frames), pair, tmp_path/'grain.mp4').score, 5)
