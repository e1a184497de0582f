"The API model wrappers end to end against local stand-ins that speak each provider's protocol."
import base64, io, json, socket, time
import pytest
from PIL import Image
from fastcore import test as fct
from fastcore.basics import ge, in_, lt

from vmevalkit.core import read_frames
from vmevalkit.models import MODEL_CATALOG, load_model
from vmevalkit.sync.s3 import S3ImageUploader
from vmevalkit.models.luma import LumaModel
from vmevalkit.models.runway import RunwayModel
from vmevalkit.models.sora import SoraModel
from vmevalkit.models.veo import VeoModel
from vmevalkit.models.wavespeed import WaveSpeedModel
from provider_servers import LumaServer, RunwayServer, SoraServer, VeoServer, WaveSpeedServer

FAST = dict(backoff=0.01, backoff_max=0.05, poll_interval=0.01, poll_timeout=5)
# wrapper, provider model id, defaults, stand-in, key variable, base-URL variable, key value. The wrappers are built
# directly (not through the catalog) so that these protocol tests do not depend on which entries are current.
PROVIDERS = {
    'sora':      (SoraModel, 'sora-2', dict(duration=4, resolution='1280x720'), SoraServer, 'OPENAI_API_KEY', 'OPENAI_BASE_URL', 'sk-test-SORA-0123456789'),
    'veo':       (VeoModel, 'veo-3.1-generate-001', dict(duration=8, aspect_ratio='16:9', resolution='720p'), VeoServer,
                  'GEMINI_API_KEY', 'GEMINI_BASE_URL', 'AIza-test-VEO-0123456789'),
    'luma':      (LumaModel, 'ray-2', dict(duration=5, resolution='720p', aspect_ratio='16:9'), LumaServer, 'LUMA_API_KEY', 'LUMA_BASE_URL', 'luma-test-key-0123456789'),
    'runway':    (RunwayModel, 'gen4_turbo', dict(duration=5, ratio='1280:720'), RunwayServer, 'RUNWAYML_API_SECRET', 'RUNWAY_BASE_URL', 'key_test_runway_0123456789'),
    'wavespeed': (WaveSpeedModel, 'wavespeed-ai/wan-2.2/i2v-720p', dict(duration=5), WaveSpeedServer, 'WAVESPEED_API_KEY', 'WAVESPEED_BASE_URL', 'ws-test-key-0123456789'),
}
UNSUPPORTED = dict(sora=7, veo=5, luma=7, runway=11, wavespeed=10)
KEY_ENV = {k: v[4] for k, v in PROVIDERS.items()}


@pytest.fixture(scope='session')
def s3():
    "A real S3-compatible server (moto) on 127.0.0.1 with the bucket `frames`."
    from moto.server import ThreadedMotoServer
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
    srv = ThreadedMotoServer(ip_address='127.0.0.1', port=port)
    srv.start()
    yield f'http://127.0.0.1:{port}'
    srv.stop()

@pytest.fixture(params=list(PROVIDERS))
def provider(request, monkeypatch, mp4, s3):
    "(catalog name, running stand-in) with the key and base URL pointed at it."
    wrapper, model_id, defaults, cls, key_env, base_env, key = PROVIDERS[request.param]
    monkeypatch.setenv(key_env, key)
    monkeypatch.setenv('AWS_ENDPOINT_URL', s3)
    monkeypatch.setenv('AWS_ACCESS_KEY_ID', 'testing'); monkeypatch.setenv('AWS_SECRET_ACCESS_KEY', 'testing-secret')
    monkeypatch.setenv('AWS_DEFAULT_REGION', 'us-east-1'); monkeypatch.setenv('S3_BUCKET', 'frames')
    S3ImageUploader().client().create_bucket(Bucket='frames')
    with cls(key, mp4) as srv:
        monkeypatch.setenv(base_env, srv.url)
        yield request.param, request.param, srv

def model(which):
    wrapper, model_id, defaults = PROVIDERS[which][:3]
    return wrapper(f'test-{which}', model_id, **defaults)

def run(which, first_frame, out, **options):
    return model(which).generate(first_frame, 'Solve the puzzle.', output_path=out, **{**FAST, **options})

def assert_no_key(res, key):
    fct.test_eq(key in json.dumps(res.to_dict()), False)


def test_success_end_to_end(provider, first_frame, tmp_path, mp4):
    which, name, srv = provider
    res = run(name, first_frame, tmp_path/'v.mp4')
    assert res.success, res.error
    fct.test_eq((res.status, res.video_path, res.generation_id), ('success', str(tmp_path/'v.mp4'), 'job1' if which != 'veo' else res.generation_id))
    fct.test_eq((tmp_path/'v.mp4').read_bytes(), mp4)
    fct.test_eq(len(read_frames(tmp_path/'v.mp4')), 8)
    fct.test_eq([p.name for p in tmp_path.iterdir()], ['v.mp4'])  # no temporary file left
    fct.test_eq((len(srv.requests('submit')), len(srv.requests('poll')), len(srv.requests('download'))), (1, 2, 1))
    assert_no_key(res, srv.key)
    fct.test(res.metadata['provider'], ('openai', 'gemini', 'luma', 'runway', 'wavespeed'), in_)

def test_submit_shapes(provider, first_frame, tmp_path):
    "The stand-in received what the provider's protocol asks for."
    which, name, srv = provider
    assert run(name, first_frame, tmp_path/'v.mp4', seed=7).success
    req = srv.jobs['job1']['request']
    if which == 'sora':
        fct.test_eq((req['model'], req['size'], req['seconds']), ('sora-2', '1280x720', '4'))
        fname, png = req['input_reference']
        fct.test_eq(Image.open(io.BytesIO(png)).size, (1280, 720))
    elif which == 'veo':
        inst, params = req['instances'][0], req['parameters']
        fct.test_eq(Image.open(io.BytesIO(base64.b64decode(inst['image']['bytesBase64Encoded']))).size, (1280, 720))
        fct.test_eq((params['durationSeconds'], params['aspectRatio'], 'seed' in params), (8, '16:9', False))
        fct.test_eq(srv.requests('download')[0]['headers'].get('x-goog-api-key'), srv.key)
    elif which == 'luma':
        fct.test_eq((req['model'], req['duration'], req['resolution'], req['aspect_ratio']), ('ray-2', '5s', '720p', '16:9'))
        fct.test_eq(Image.open(io.BytesIO(srv.fetched)).size, (1280, 720))  # Luma's stand-in fetched the PNG from S3
        fct.test_eq(srv.requests('download')[0]['headers'].get('Authorization'), None)
    elif which == 'runway':
        fct.test_eq((req['model'], req['ratio'], req['duration'], req['seed']), ('gen4_turbo', '1280:720', 5, 7))
        fct.test_eq(req['promptImage'].startswith('data:image/png;base64,'), True)
        fct.test_eq(srv.requests('submit')[0]['headers']['X-Runway-Version'], '2024-11-06')
    else:
        fct.test_eq((req['duration'], req['seed'], req['prompt']), (5, 7, 'Solve the puzzle.'))
        fct.test_eq(srv.requests('submit')[0]['path'], '/api/v3/wavespeed-ai/wan-2.2/i2v-720p')

def test_429_retry_after_then_success(provider, first_frame, tmp_path):
    which, name, srv = provider
    srv.faults['submit'] = [(429, {'error': 'rate limited'}, {'Retry-After': '0.3'})]
    res = run(name, first_frame, tmp_path/'v.mp4')
    assert res.success, res.error
    first, second = srv.requests('submit')
    fct.test(second['t'] - first['t'], 0.3, ge)

def test_500_then_success(provider, first_frame, tmp_path):
    which, name, srv = provider
    srv.faults['poll'] = [(500, {'error': 'internal'}, {}), (502, {'error': 'bad gateway'}, {})]
    res = run(name, first_frame, tmp_path/'v.mp4')
    assert res.success, res.error
    fct.test_eq(len(srv.requests('poll')), 4)

def test_job_fails_with_reason(provider, first_frame, tmp_path):
    which, name, srv = provider
    srv.outcome = 'fail'
    res = run(name, first_frame, tmp_path/'v.mp4')
    fct.test_eq((res.success, res.status), (False, 'failed'))
    reason = dict(sora='Video render crashed', veo='backend unavailable', luma='upstream GPU error',
                  runway='INTERNAL.BAD_OUTPUT', wavespeed='worker crashed')[which]
    fct.test(reason, res.error, in_)
    fct.test_eq((tmp_path/'v.mp4').exists(), False)
    assert_no_key(res, srv.key)

def test_job_never_finishes(provider, first_frame, tmp_path):
    which, name, srv = provider
    srv.outcome = 'never'
    start = time.monotonic()
    res = run(name, first_frame, tmp_path/'v.mp4', poll_timeout=0.3)
    fct.test_eq(res.success, False)
    fct.test_eq('timed out after 0.3 s' in res.error and 'job1' in res.error, True)
    fct.test(time.monotonic() - start, 3, lt)
    fct.test_eq(len(srv.requests('download')), 0)

def test_truncated_download_is_retried(provider, first_frame, tmp_path, mp4):
    which, name, srv = provider
    srv.truncate = 1
    res = run(name, first_frame, tmp_path/'v.mp4')
    assert res.success, res.error
    fct.test_eq(len(srv.requests('download')), 2)
    fct.test_eq((tmp_path/'v.mp4').read_bytes(), mp4)

def test_truncated_download_every_time_fails(provider, first_frame, tmp_path):
    which, name, srv = provider
    srv.truncate = 99
    res = run(name, first_frame, tmp_path/'v.mp4', attempts=3)
    fct.test_eq(res.success, False)
    fct.test('after 3 attempts', res.error, in_)
    fct.test_eq(len(srv.requests('download')), 3)
    fct.test_eq(list(tmp_path.iterdir()), [])  # nothing half-written left behind

def test_content_policy_is_final(provider, first_frame, tmp_path):
    which, name, srv = provider
    srv.block = True
    res = run(name, first_frame, tmp_path/'v.mp4')
    fct.test_eq(res.success, False)
    fct.test('content policy', res.error, in_)
    fct.test_eq(len(srv.requests('submit')), 1)
    fct.test_eq(len(srv.seen), 1)

def test_unsupported_duration_makes_no_request(provider, first_frame, tmp_path):
    which, name, srv = provider
    res = run(name, first_frame, tmp_path/'v.mp4', duration=UNSUPPORTED[which])
    fct.test_eq(res.success, False)
    fct.test(f"duration={UNSUPPORTED[which]}", res.error, in_)
    fct.test_eq(srv.seen, [])

def test_bad_key_is_final_and_redacted(provider, first_frame, tmp_path):
    which, name, srv = provider
    srv.faults['submit'] = [(401, {'error': f'invalid key {srv.key}'}, {})]
    res = run(name, first_frame, tmp_path/'v.mp4')
    fct.test_eq((res.success, len(srv.requests('submit'))), (False, 1))
    fct.test_eq('HTTP 401' in res.error and KEY_ENV[which] in res.error, True)
    assert_no_key(res, srv.key)

def test_missing_key_names_the_variable(monkeypatch):
    monkeypatch.delenv('RUNWAYML_API_SECRET', raising=False)
    name = next(n for n, e in MODEL_CATALOG.items() if 'RUNWAYML_API_SECRET' in e['env'])
    fct.test_fail(lambda: load_model(name), contains='RUNWAYML_API_SECRET')
    fct.test_fail(lambda: RunwayModel('r', 'gen4_turbo').api_key, contains='RUNWAYML_API_SECRET is not set')

def test_a_recorded_job_is_resumed_not_paid_again(provider, first_frame, tmp_path):
    "A poll time-out keeps the job record; the next call polls that job (no second submission); a forgotten job is submitted anew."
    which, name, srv = provider
    job_file, srv.job_seconds = tmp_path/'.r.job.json', 60
    first = run(name, first_frame, tmp_path/'v.mp4', poll_timeout=0.1, job_file=job_file)
    recorded = json.loads(job_file.read_text())['job_id']
    fct.test_eq((first.success, recorded in first.error), (False, True))
    srv.job_seconds = 0
    again = run(name, first_frame, tmp_path/'v.mp4', job_file=job_file)
    assert again.success, again.error
    fct.test_eq((srv.submissions, again.generation_id), (1, recorded))
    srv.jobs.clear()  # the provider forgot every job
    third = run(name, first_frame, tmp_path/'w.mp4', job_file=job_file)
    assert third.success, third.error
    fct.test_eq(srv.submissions, 2)

def test_a_failed_job_is_forgotten_and_a_paid_submit_is_not_repeated(provider, first_frame, tmp_path):
    which, name, srv = provider
    srv.outcome, job_file = 'fail', tmp_path/'.r.job.json'
    fct.test_eq(run(name, first_frame, tmp_path/'v.mp4', job_file=job_file).success, False)
    fct.test_eq(job_file.exists(), False)  # that job is over: a re-run submits a new one
    srv.faults['submit'] = [(502, {'error': 'bad gateway'}, {})]
    res = run(name, first_frame, tmp_path/'v.mp4', job_file=job_file)
    fct.test_eq((res.success, srv.submissions, 'paid twice' in res.error), (False, 2, True))

def test_a_download_that_is_not_a_video_names_model_and_url(provider, first_frame, tmp_path):
    which, name, srv = provider
    srv.mp4 = b'<html>gateway error</html>'
    res = run(name, first_frame, tmp_path/'v.mp4')
    fct.test_eq(res.success, False)
    host = srv.cdn_url if srv.uses_cdn else srv.url
    assert f'test-{which}: job ' in res.error and host in res.error and 'is not a video' in res.error, res.error
    fct.test_eq('/tmp' in res.error.replace(host, ''), False)


# The stand-ins are held to the real protocols: a wrapper that drops the prompt or the image, mislabels the image,
# sends a field or an option the service does not take, or sends its key to a CDN, fails.
PROMPT = dict(sora=('data', 'prompt'), veo=('instances', 'prompt'), luma=(None, 'prompt'), runway=(None, 'promptText'),
              wavespeed=(None, 'prompt'))
IMAGE = dict(sora=('files', 'input_reference'), veo=('instances', 'image'), luma=(None, 'keyframes'),
             runway=(None, 'promptImage'), wavespeed=(None, 'image'))

def patch_body(monkeypatch, which, change):
    "Make the wrapper's request builder pass its body through `change` (a mutation of the wrapper)."
    cls = PROVIDERS[which][0]
    built = cls.body
    monkeypatch.setattr(cls, 'body', lambda self, *a: change(built(self, *a)))

def without(where):
    "A body mutation that deletes `where` = (part or None, field); Veo's part is its one instance."
    part, field = where
    def change(body):
        target = body if part is None else body[part][0] if part == 'instances' else body[part]
        del target[field]
        return body
    return change

@pytest.mark.parametrize('what', ['prompt', 'image'])
def test_a_wrapper_that_drops_the_prompt_or_the_image_fails(provider, first_frame, tmp_path, monkeypatch, what):
    which, _, srv = provider
    patch_body(monkeypatch, which, without((PROMPT if what == 'prompt' else IMAGE)[which]))
    res = run(which, first_frame, tmp_path/'v.mp4')
    fct.test_eq((res.success, srv.submissions, len(srv.jobs)), (False, 1, 0))
    fct.test_eq('HTTP 400' in res.error and len(srv.refused) == 1, True)

def test_an_unknown_field_is_refused(provider, first_frame, tmp_path, monkeypatch):
    which, _, srv = provider
    add = lambda b: ({**b, 'data': {**b['data'], 'colour': 'blue'}} if which == 'sora' else {**b, 'colour': 'blue'})
    patch_body(monkeypatch, which, add)
    res = run(which, first_frame, tmp_path/'v.mp4')
    fct.test_eq((res.success, 'colour' in res.error, len(srv.jobs)), (False, True, 0))

BAD_OPTION = dict(sora={'seconds': '10'}, veo={'durationSeconds': 5}, luma={'duration': '7s'}, runway={'duration': 11},
                  wavespeed={'duration': 10})

def test_an_option_the_model_does_not_take_is_refused(provider, first_frame, tmp_path, monkeypatch):
    "With the wrapper's own check bypassed, the stand-in still refuses what the model does not take."
    which, _, srv = provider
    cls, bad = PROVIDERS[which][0], BAD_OPTION[which]
    checked = cls.validate
    monkeypatch.setattr(cls, 'validate', lambda self, o: {**checked(self, o), **bad})
    res = run(which, first_frame, tmp_path/'v.mp4')
    fct.test_eq((res.success, 'HTTP 400' in res.error or 'HTTP 422' in res.error, len(srv.jobs)), (False, True, 0))

def test_veo_refuses_a_seed_and_a_mislabelled_image(provider, first_frame, tmp_path, monkeypatch):
    which, _, srv = provider
    if which != 'veo': pytest.skip('Veo only')
    res = run(which, first_frame, tmp_path/'v.mp4', seed=7)  # the wrapper leaves the seed out and says so
    assert res.success, res.error
    fct.test_eq(res.metadata['not_sent'], {'seed': 'the Gemini API does not accept seed for Veo; runs are not reproducible'})
    fct.test_eq('seed' in res.metadata, False)
    monkeypatch.setattr(VeoModel, 'dropped', lambda self, o: {})
    checked = VeoModel.validate
    monkeypatch.setattr(VeoModel, 'validate', lambda self, o: {**checked(self, o), 'seed': 7})
    fct.test('seed', run(which, first_frame, tmp_path/'w.mp4').error, in_)
    monkeypatch.setattr(VeoModel, 'validate', checked)
    def as_jpeg(b): b['instances'][0]['image']['mimeType'] = 'image/jpeg'; return b
    patch_body(monkeypatch, which, as_jpeg)
    res = run(which, first_frame, tmp_path/'x.mp4')
    fct.test_eq((res.success, 'labelled image/jpeg but the bytes are image/png' in res.error), (False, True))

def test_veo_4k_at_8_seconds(provider, first_frame, tmp_path):
    which, _, srv = provider
    if which != 'veo': pytest.skip('Veo only')
    assert run(which, first_frame, tmp_path/'v.mp4', resolution='4k').success
    fct.test_eq(srv.jobs['job1']['request']['parameters']['resolution'], '4k')
    res = run(which, first_frame, tmp_path/'w.mp4', resolution='4k', duration=4)
    fct.test_eq((res.success, 'duration=8' in res.error, srv.submissions), (False, True, 1))

def test_a_key_sent_to_the_cdn_is_caught(provider, first_frame, tmp_path, monkeypatch):
    which, _, srv = provider
    if not srv.uses_cdn: pytest.skip(f'{which} serves its videos from its own API, with the key')
    wrapper = PROVIDERS[which][0]
    monkeypatch.setattr(wrapper, 'key_for', lambda self, url: True)
    res = run(which, first_frame, tmp_path/'v.mp4')
    fct.test_eq((res.success, 'HTTP 403' in res.error), (False, True))
    fct.test_eq(srv.refused, [('download', 'credentials sent to the CDN')])
    assert_no_key(res, srv.key)

def test_downloads_come_from_the_cdn_without_the_key(provider, first_frame, tmp_path):
    which, _, srv = provider
    if not srv.uses_cdn: pytest.skip(f'{which} serves its videos from its own API')
    assert run(which, first_frame, tmp_path/'v.mp4').success
    (download,) = srv.requests('download')
    fct.test_eq((download.get('cdn'), srv.refused), (True, []))

@pytest.mark.parametrize('state', ['cancelled', 'timeout', 'deleted'])
def test_wavespeed_terminal_states_fail_at_once(provider, first_frame, tmp_path, state):
    which, _, srv = provider
    if which != 'wavespeed': pytest.skip('WaveSpeed only')
    srv.outcome = state
    start = time.monotonic()
    res = run(which, first_frame, tmp_path/'v.mp4', poll_timeout=30)
    fct.test_eq((res.success, f'{state}: prediction {state}' in res.error), (False, True))
    fct.test_eq((len(srv.requests('poll')), time.monotonic() - start < 5), (2, True))

def test_runway_takes_2_to_10_seconds(provider, first_frame, tmp_path):
    which, _, srv = provider
    if which != 'runway': pytest.skip('Runway only')
    assert run(which, first_frame, tmp_path/'v.mp4', duration=2).success
    fct.test_eq(srv.jobs['job1']['request']['duration'], 2)
