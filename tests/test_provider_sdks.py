"The providers' official Python SDKs driven against our stand-ins: if the official client cannot talk to a stand-in, the stand-in is wrong."
import base64, io, time
import pytest
from PIL import Image
from fastcore import test as fct

from provider_servers import LumaServer, RunwayServer, VeoServer, WaveSpeedServer

PROMPT = 'Solve the puzzle.'


@pytest.fixture(scope='module')
def png():
    buf = io.BytesIO()
    Image.new('RGB', (64, 36), (10, 120, 200)).save(buf, format='PNG')
    return buf.getvalue()

def data_uri(png): return 'data:image/png;base64,' + base64.b64encode(png).decode()

def fetch(url, **headers):
    "Download a result URL the way the wrappers do (plain GET; a CDN gets no key)."
    import httpx
    return httpx.get(url, headers=headers, timeout=10)


def test_runwayml_sdk(mp4, png):
    runwayml = pytest.importorskip('runwayml', reason='runwayml is not installed (pip install runwayml)')
    key = 'key_test_runway_0123456789'
    with RunwayServer(key, mp4) as srv:
        client = runwayml.RunwayML(api_key=key, base_url=srv.url, max_retries=0)
        task = client.image_to_video.create(model='gen4_turbo', prompt_image=data_uri(png), prompt_text=PROMPT,
                                            ratio='1280:720', duration=2, seed=7)
        fct.test_eq(srv.jobs[task.id]['request']['promptText'], PROMPT)
        while (t := client.tasks.retrieve(task.id)).status not in ('SUCCEEDED', 'FAILED'): time.sleep(0.01)
        fct.test_eq(t.status, 'SUCCEEDED')
        fct.test_eq(fetch(t.output[0]).content, mp4)
        fct.test_eq(fetch(t.output[0], Authorization=f'Bearer {key}').status_code, 403)  # the CDN refuses the key
        with pytest.raises(runwayml.BadRequestError):  # an option gen4_turbo does not take
            client.image_to_video.create(model='gen4_turbo', prompt_image=data_uri(png), prompt_text=PROMPT, ratio='1280:768')
        with pytest.raises(runwayml.AuthenticationError):
            runwayml.RunwayML(api_key='wrong', base_url=srv.url, max_retries=0).tasks.retrieve(task.id)


def test_lumaai_sdk(mp4, png):
    lumaai = pytest.importorskip('lumaai', reason='lumaai is not installed (pip install lumaai)')
    key = 'luma-test-key-0123456789'
    with LumaServer(key, mp4) as srv, VeoServer('unused', png) as image_host:
        # Luma fetches the keyframe from a URL: any plain HTTP host will do (here the Veo stand-in's file route)
        image_url = f'{image_host.url}/v1beta/files/frame:download'
        image_host.authorised = lambda headers: True
        client = lumaai.LumaAI(auth_token=key, base_url=f'{srv.url}/dream-machine/v1', max_retries=0)
        gen = client.generations.create(model='ray-2', prompt=PROMPT, duration='5s', resolution='720p', aspect_ratio='16:9',
                                        keyframes={'frame0': {'type': 'image', 'url': image_url}})
        fct.test_eq(srv.requests('submit')[0]['path'], '/dream-machine/v1/generations/video')
        while (g := client.generations.get(gen.id)).state not in ('completed', 'failed'): time.sleep(0.01)
        fct.test_eq((g.state, srv.fetched), ('completed', png))
        fct.test_eq(fetch(g.assets.video).content, mp4)
        with pytest.raises(lumaai.BadRequestError):
            client.generations.create(model='ray-2', prompt=PROMPT, duration='7s',
                                      keyframes={'frame0': {'type': 'image', 'url': image_url}})


def test_wavespeed_sdk(mp4, png):
    api = pytest.importorskip('wavespeed.api', reason='wavespeed is not installed (pip install wavespeed)')
    key = 'ws-test-key-0123456789'
    with WaveSpeedServer(key, mp4) as srv:
        client = api.Client(api_key=key, base_url=srv.url)
        out = client.run('wavespeed-ai/wan-2.2/i2v-720p', {'prompt': PROMPT, 'image': data_uri(png), 'duration': 5, 'seed': 7},
                         poll_interval=0.01, timeout=10)
        fct.test_eq(fetch(out['outputs'][0]).content, mp4)
        fct.test_eq(srv.jobs['job1']['request']['prompt'], PROMPT)
        srv.outcome = 'cancelled'  # a terminal state: the SDK stops at once, as our wrapper does
        fct.test_fail(lambda: client.run('wavespeed-ai/wan-2.2/i2v-720p', {'prompt': PROMPT, 'image': data_uri(png)},
                                         poll_interval=0.01, timeout=10), contains='Prediction cancelled')
        fct.test_fail(lambda: client.run('wavespeed-ai/wan-2.2/i2v-720p', {'prompt': PROMPT}, poll_interval=0.01, timeout=10),
                      contains='image is required')


def _genai_speaks_gemini_api():
    "google-genai 3.x refuses `generate_videos` on the Gemini Developer API; the 2.x line speaks it."
    from google.genai import models
    return hasattr(models, '_GenerateVideosConfig_to_mldev')

def test_google_genai_sdk(mp4, png, tmp_path):
    genai = pytest.importorskip('google.genai', reason='google-genai is not installed (pip install "google-genai>=2.30,<3")')
    if not _genai_speaks_gemini_api():
        pytest.skip(f'google-genai {genai.__version__} no longer sends generate_videos to the Gemini API '
                    '(it refuses outside Vertex AI); install "google-genai>=2.30,<3" to run this test')
    from google.genai import types
    key = 'AIza-test-VEO-0123456789'
    with VeoServer(key, mp4) as srv:
        client = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=srv.url))
        source = types.GenerateVideosSource(prompt=PROMPT, image=types.Image(image_bytes=png, mime_type='image/png'))
        op = client.models.generate_videos(model='veo-3.1-generate-001', source=source,
                                           config=types.GenerateVideosConfig(duration_seconds=8, resolution='4k', aspect_ratio='16:9'))
        while not op.done: op = client.operations.get(op); time.sleep(0.01)
        video = op.response.generated_videos[0].video
        client.files.download(file=video)
        fct.test_eq(video.video_bytes, mp4)
        fct.test_eq(srv.jobs['job1']['request']['instances'][0]['prompt'], PROMPT)
        fct.test_fail(lambda: client.models.generate_videos(model='veo-3.1-generate-001', source=source,
                                                            config=types.GenerateVideosConfig(seed=7)), contains='seed')
        mislabelled = types.GenerateVideosSource(prompt=PROMPT, image=types.Image(image_bytes=png, mime_type='image/jpeg'))
        fct.test_fail(lambda: client.models.generate_videos(model='veo-3.1-generate-001', source=mislabelled),
                      contains='labelled image/jpeg')
