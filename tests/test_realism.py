"The realism transformations' contracts: shapes, determinism, camera motion that grows, pacing that keeps both ends."
import numpy as np
import pytest
from fastcore import test as fct
from vmevalkit.core import UnknownNameError, read_frames
from vmevalkit.scoring.realism import (FPS, GROUPS, STRENGTHS, TRANSFORMS, crf_for, fps_for, puzzle_box, realistic,
                                       timed, write_realistic)

def canvas(k:int)->np.ndarray:
    "A white 1280×720 canvas with a dark 'puzzle' in the middle and a red mark that walks along with `k`."
    f = np.full((720, 1280, 3), 255, np.uint8)
    f[160:560, 340:940] = 30
    f[200:240, 380 + 20*k:420 + 20*k] = (220, 30, 30)
    return f

CLIP = timed([canvas(k) for k in range(8)], seconds=2)  # 48 frames, each step shown 6 times

def box(frame:np.ndarray)->tuple:
    "(x0, y0, x1, y1) of the pixels that are clearly not white."
    dark = np.minimum(np.minimum(frame[..., 0], frame[..., 1]), frame[..., 2]) < 195  # (a reduction over 3 is slow)
    xs, ys = np.flatnonzero(dark.any(axis=0)), np.flatnonzero(dark.any(axis=1))
    return xs[0], ys[0], xs[-1], ys[-1]

def test_clip_is_timed_and_shares_repeated_frames():
    fct.test_eq(len(CLIP), 2*FPS)
    fct.test_eq(len({id(f) for f in CLIP}), 8)
    fct.test_eq((CLIP[0], CLIP[-1]), (canvas(0), canvas(7)))

@pytest.mark.parametrize('name', list(TRANSFORMS))
def test_every_transform_is_rgb_even_and_deterministic(name):
    for strength in STRENGTHS:
        a, b = realistic(CLIP, [name], strength, seed=3), realistic(CLIP, [name], strength, seed=3)
        h, w, c = a[0].shape
        fct.test_eq((c, h % 2, w % 2, a[0].dtype, len({f.shape for f in a})), (3, 0, 0, np.uint8, 1))
        fct.test_eq([np.array_equal(x, y) for x, y in zip(a, b)], [True]*len(a))

def test_groups_cover_the_registry_once():
    fct.test_eq(sorted(sum(GROUPS.values(), [])), sorted(TRANSFORMS))

@pytest.mark.parametrize('name', GROUPS['camera'])
def test_camera_motion_starts_still_and_grows(name):
    for strength in STRENGTHS:
        out = realistic(CLIP, [name], strength, seed=1)
        fct.test_eq(out[0], CLIP[0])
        # how far the puzzle's corners have moved from where the question shows them, every quarter second
        away = lambda f: np.abs(np.subtract(box(f), box(CLIP[0]))).max()
        moved = [away(f) for f in out[::FPS//4] + out[-1:]]
        if name == 'shake':  # a hand wanders: it reaches its widest somewhere, 1–2 px (mild) or 3–5 px (strong) away
            widest = max(away(f) for f in out)
            assert (1 if strength == 'mild' else 3) <= widest <= (3 if strength == 'mild' else 6), (strength, widest)
        else:
            fct.test_eq(moved, sorted(moved))
            assert moved[-1] >= (5 if name == 'roll' or strength == 'strong' else 3), (strength, moved)

def test_strong_camera_moves_further_than_mild():
    for name in ['push_in', 'pan', 'roll']:
        reach = {s: np.abs(np.subtract(box(realistic(CLIP, [name], s, seed=1)[-1]), box(CLIP[0]))).max()
                 for s in STRENGTHS}
        assert reach['strong'] > 1.5*reach['mild'], (name, reach)

SIZES = dict(letterbox=((832, 480), (1920, 1080)), portrait=((720, 1280),)*2, square=((720, 720),)*2,
             four_three=((960, 720),)*2, small=((832, 480), (640, 360)))

@pytest.mark.parametrize('name', GROUPS['shape'])
def test_shapes_and_where_the_puzzle_sits(name):
    for strength, size in zip(STRENGTHS, SIZES[name]):
        out = realistic(CLIP[:1], [name], strength)[0]
        fct.test_eq(out.shape, (size[1], size[0], 3))
        if name == 'small': continue
        fill = dict(letterbox=(.9, .7)).get(name, (1., .85))[STRENGTHS.index(strength)]
        x, y, w, h = puzzle_box((1280, 720), size, fill)
        outside = out.copy()
        outside[y:y + h, x:x + w] = 0
        fct.test_eq((outside.max(), out[y + h//2, x + w//2].max() > 0), (0, True))

@pytest.mark.parametrize('name', GROUPS['pacing'])
def test_pacing_keeps_both_ends_and_only_reorders_time(name):
    for strength in STRENGTHS:
        out = realistic(CLIP, [name], strength, seed=2)
        fct.test_eq((out[0] is CLIP[0], out[-1] is CLIP[-1]), (True, True))
        assert {id(f) for f in out} <= {id(f) for f in CLIP}
        order = [next(k for k, g in enumerate(CLIP) if g is f) for f in out]
        fct.test_eq(order, sorted(order))  # time never runs backwards

def test_pacing_lengths():
    lengths = {n: [len(realistic(CLIP, [n], s)) for s in STRENGTHS] for n in GROUPS['pacing']}
    fct.test_eq(lengths, dict(hold=[96, 144], slow_start=[48, 48], fps16=[32, 25], dropped=[48, 48]))
    fct.test_eq([fps_for(['fps16'], s) for s in STRENGTHS] + [fps_for(['hold'])], [16, 12, FPS])

def test_picture_changes_pixels_not_shape():
    for name in ['grade', 'blur', 'logo', 'grain']:
        out = realistic(CLIP, [name], 'strong')
        fct.test_eq((out[0].shape, np.array_equal(out[0], CLIP[0])), (CLIP[0].shape, False))
    grain = realistic(CLIP[:2], ['grain'], 'mild')
    fct.test_eq(np.array_equal(grain[0], grain[1]), False)  # fresh noise on a held frame
    logo = realistic(CLIP, ['logo'], 'mild', seed=5)
    fct.test_eq([np.array_equal(f != g, logo[0] != CLIP[0]) for f, g in zip(logo[::8], CLIP[::8])], [True]*6)

def test_compress_is_the_encoders_crf():
    fct.test_eq(realistic(CLIP, ['compress'], 'strong'), CLIP)
    fct.test_eq([crf_for(['compress'], s) for s in STRENGTHS] + [crf_for(['grain'])], [35, 40, 18])

def test_order_of_names_does_not_matter_and_seeds_do():
    a, b = realistic(CLIP, ['grain', 'shake'], seed=4), realistic(CLIP, ['shake', 'grain'], seed=4)
    fct.test_eq(np.array_equal(a[-1], b[-1]), True)
    fct.test_eq(np.array_equal(a[-1], realistic(CLIP, ['grain', 'shake'], seed=5)[-1]), False)

def test_bad_names_are_refused():
    fct.test_fail(lambda: realistic(CLIP, ['zoom']), contains="Unknown transformation 'zoom'")
    fct.test_fail(lambda: realistic(CLIP, ['pan'], 'medium'), contains="Unknown strength 'medium'")
    with pytest.raises(UnknownNameError): crf_for(['compress'], 'heavy')

def test_written_video_has_the_asked_shape_rate_and_length(tmp_path):
    import av
    video = write_realistic(CLIP, tmp_path/'v.mp4', ['portrait', 'fps16'], 'strong')
    with av.open(str(video)) as f: rate = f.streams.video[0].average_rate
    frames = read_frames(video)
    fct.test_eq((len(frames), frames[0].shape, rate), (25, (1280, 720, 3), 12))
