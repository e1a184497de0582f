"Open-source models end to end on CPU: tiny random diffusers pipelines saved to a folder, loaded through `load_model`."
import subprocess, sys, warnings

import pytest
from fastcore import test as fct
from PIL import Image

from vmevalkit.core import read_frames, video_info
from vmevalkit.models import FinalError, load_model, missing_requirements
from vmevalkit.models import diffusers_models as dm

FAST = dict(device='cpu', dtype='float32', height=32, width=32, num_frames=9, fps=8, num_inference_steps=2,
            max_sequence_length=16)


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    "Tiny LTX and Wan pipelines saved to folders, and a first frame."
    warnings.filterwarnings('ignore')
    root = tmp_path_factory.mktemp('diffusers')
    Image.new('RGB', (40, 30), 'green').save(root/'first.png')
    folders = {f: dm.save_tiny_pipeline(f, root/f'tiny-{f}') for f in ('ltx', 'wan')}
    yield root, folders
    dm.clear_pipelines()


@pytest.fixture
def count_loads(monkeypatch):
    "Count `from_pretrained` calls of every diffusers pipeline class."
    import diffusers
    calls = []
    real = diffusers.DiffusionPipeline.from_pretrained.__func__
    def counting(cls, path, **kw):
        calls.append((cls.__name__, str(path)))
        return real(cls, path, **kw)
    monkeypatch.setattr(diffusers.DiffusionPipeline, 'from_pretrained', classmethod(counting))
    dm.clear_pipelines()
    return calls


@pytest.mark.parametrize('name,family', [('ltx-video', 'ltx'), ('wan-2.1-i2v-480p', 'wan')])
def test_generate_through_catalog(tiny, count_loads, name, family):
    root, folders = tiny
    model = load_model(name, model_path=str(folders[family]), **FAST)
    fct.test_eq(model.model, str(folders[family]))
    a = model.generate(root/'first.png', 'move the green dot', seed=5, output_path=root/f'{family}-a.mp4')
    b = model.generate(root/'first.png', 'move the green dot', seed=5, output_path=root/f'{family}-b.mp4')
    assert a.success and b.success, (a.error, b.error)
    frames = read_frames(a.video_path)
    fct.test_eq((len(frames), frames[0].shape), (9, (32, 32, 3)))
    fct.test_eq(video_info(a.video_path)['codec'], 'h264')
    fct.test_eq(all((x == y).all() for x, y in zip(frames, read_frames(b.video_path))), True)
    fct.test_eq(len(count_loads), 1)
    m = a.metadata
    fct.test_eq((m['frames'], m['fps'], m['height'], m['width'], m['steps'], m['seed'], m['dtype'], m['device']),
                (9, 8, 32, 32, 2, 5, 'float32', 'cpu'))
    fct.test_eq(m['model_path'], str(folders[family].resolve()))


def test_other_seed_other_frames(tiny):
    root, folders = tiny
    model = load_model('ltx-video', model_path=str(folders['ltx']), **FAST)
    a = model.generate(root/'first.png', 'move', seed=1, output_path=root/'s1.mp4')
    b = model.generate(root/'first.png', 'move', seed=2, output_path=root/'s2.mp4')
    fct.test_eq(all((x == y).all() for x, y in zip(read_frames(a.video_path), read_frames(b.video_path))), False)


def test_missing_folder_is_final_and_named(tiny):
    root, _ = tiny
    missing = root/'no-such-model'
    model = load_model('ltx-video', model_path=str(missing), **FAST)
    with pytest.raises(FinalError, match=str(missing)):
        model._generate(root/'first.png', 'x', root/'x.mp4', seed=0, **model.options)
    res = model.generate(root/'first.png', 'x', seed=0, output_path=root/'x.mp4')
    fct.test_eq((res.success, str(missing) in res.error), (False, True))


def test_wrong_family_folder(tiny):
    root, folders = tiny
    res = load_model('cogvideox-5b-i2v', model_path=str(folders['wan']), **FAST).generate(
        root/'first.png', 'x', seed=0, output_path=root/'w.mp4')
    fct.test_eq('holds a WanImageToVideoPipeline' in res.error, True)


def test_bad_request_rejected_before_loading(tiny, count_loads):
    root, folders = tiny
    model = load_model('wan-2.1-i2v-480p', model_path=str(folders['wan']), **{**FAST, 'num_frames': 10})
    res = model.generate(root/'first.png', 'x', seed=0, output_path=root/'bad.mp4')
    fct.test_eq(('num_frames=10' in res.error, count_loads), (True, []))


def test_gpu_never_required():
    for name in ('ltx-video', 'wan-2.2-ti2v-5b', 'svd-xt', 'hunyuan-video-i2v'):
        fct.test_eq(missing_requirements(name, device='cpu'), [])


def test_import_is_light():
    code = 'import sys, vmevalkit.models.diffusers_models; print("torch" in sys.modules or "diffusers" in sys.modules)'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    fct.test_eq(out.strip(), 'False')
