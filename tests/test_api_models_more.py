"Kling, Seedance and Hailuo end to end against strict local stand-ins of their protocols (tests/provider_servers_more.py)."
import base64, io, json, time
import httpx, pytest
from PIL import Image
from fastcore import test as fct
from fastcore.basics import ge, in_

from vmevalkit.core import read_frames
from vmevalkit.models.hailuo import HailuoModel
from vmevalkit.models.kling import KlingModel
from vmevalkit.models.seedance import SeedanceModel
from provider_servers_more import ArkServer, KlingServer, MiniMaxServer, png_data

FAST = dict(backoff=0.01, backoff_max=0.05, poll_interval=0.01, poll_timeout=5)
KEYS = {'kling': 'ak-test-KLING-0123456789', 'seedance': 'ark-test-SEEDANCE-0123456789', 'hailuo': 'mm-test-HAILUO-0123456789'}
SECRET = 'sk-test-KLING-secret-0123456789'
# wrapper, stand-in, key variables, base-URL variable, the key variable a refusal names, an unsupported duration
PROVIDERS = {
    'kling':    (lambda: KlingModel('kling-v2-1', 'kling-v2-1', duration=5), KlingServer,
                 ['KLING_ACCESS_KEY', 'KLING_SECRET_KEY'], 'KLING_BASE_URL', 'KLING_ACCESS_KEY', 7),
    'seedance': (lambda: SeedanceModel('seedance-1-0-pro', 'seedance-1-0-pro-250528', duration=5), ArkServer,
                 ['ARK_API_KEY'], 'ARK_BASE_URL', 'ARK_API_KEY', 15),
    'hailuo':   (lambda: HailuoModel('hailuo-2.3', 'MiniMax-Hailuo-2.3', duration=6), MiniMaxServer,
                 ['MINIMAX_API_KEY'], 'MINIMAX_BASE_URL', 'MINIMAX_API_KEY', 8),
}


@pytest.fixture(params=list(PROVIDERS))
def provider(request, monkeypatch, mp4):
    "(name, wrapper factory, running stand-in) with the keys and base URL pointed at the stand-in."
    make, cls, key_envs, base_env, *_ = PROVIDERS[request.param]
    key = KEYS[request.param]
    monkeypatch.setenv(key_envs[0], key)
    if request.param == 'kling': monkeypatch.setenv('KLING_SECRET_KEY', SECRET)
    with cls(key, mp4, secret=SECRET) as srv:
        monkeypatch.setenv(base_env, srv.url)
        yield request.param, make, srv

def run(make, first_frame, out, **options):
    return make().generate(first_frame, 'Solve the puzzle.', output_path=out, **{**FAST, **options})

def no_secret_in(res):
    text = json.dumps(res.to_dict())
    fct.test_eq([s for s in [*KEYS.values(), SECRET] if s in text], [])
    fct.test_eq('eyJ' in text, False)  # no JWT either

def sent(which, req):
    "(prompt, PNG bytes) as the stand-in received them."
    if which == 'kling': return req['prompt'], base64.b64decode(req['image'])
    if which == 'hailuo': return req['prompt'], png_data(req['first_frame_image'], prefix=True)
    text = next(c['text'] for c in req['content'] if c['type'] == 'text')
    return text, png_data(next(c for c in req['content'] if c['type'] == 'image_url')['image_url']['url'], prefix=True)


def test_success_end_to_end(provider, first_frame, tmp_path, mp4):
    which, make, srv = provider
    res = run(make, first_frame, tmp_path/'v.mp4', seed=7)
    assert res.success, res.error
    fct.test_eq((res.status, res.generation_id), ('success', 'job1'))
    fct.test_eq((tmp_path/'v.mp4').read_bytes(), mp4)
    fct.test_eq(len(read_frames(tmp_path/'v.mp4')), 8)
    fct.test_eq((srv.submissions, len(srv.requests('download'))), (1, 1))
    fct.test_eq(srv.requests('download')[0]['headers'].get('Authorization'), None)
    prompt, png = sent(which, srv.jobs['job1']['request'])
    fct.test_eq((prompt, Image.open(io.BytesIO(png)).size), ('Solve the puzzle.', (1280, 720)))
    fct.test_eq(res.metadata['provider'], {'kling': 'kling', 'seedance': 'seedance', 'hailuo': 'minimax'}[which])
    no_secret_in(res)

def test_job_failure_keeps_the_reason(provider, first_frame, tmp_path):
    which, make, srv = provider
    srv.outcome = 'fail'
    res = run(make, first_frame, tmp_path/'v.mp4')
    fct.test_eq((res.success, srv.submissions), (False, 1))
    fct.test(dict(kling='internal GPU error', seedance='InternalServiceError', hailuo='unknown error')[which], res.error, in_)
    fct.test_eq('content policy' in res.error, False)
    fct.test_eq((tmp_path/'v.mp4').exists(), False)

@pytest.mark.parametrize('where', ['submit', 'job'])
def test_content_policy_is_final(provider, first_frame, tmp_path, where):
    which, make, srv = provider
    if where == 'submit': srv.block = True
    else: srv.outcome = 'policy'
    res = run(make, first_frame, tmp_path/'v.mp4', job_file=tmp_path/'.job.json')
    fct.test_eq((res.success, srv.submissions), (False, 1))
    fct.test('content policy', res.error, in_)
    fct.test_eq((tmp_path/'.job.json').exists(), False)  # over for good: a re-run does not resume it

def test_429_then_success(provider, first_frame, tmp_path):
    which, make, srv = provider
    srv.faults['submit'] = [(429, {'error': 'rate limited'}, {'Retry-After': '0.3'})]
    res = run(make, first_frame, tmp_path/'v.mp4')
    assert res.success, res.error
    first, second = srv.requests('submit')
    fct.test(second['t'] - first['t'], 0.3, ge)
    fct.test_eq(len(srv.jobs), 1)

def test_hailuo_rate_limit_inside_http_200_is_retried(monkeypatch, mp4, first_frame, tmp_path):
    monkeypatch.setenv('MINIMAX_API_KEY', KEYS['hailuo'])
    with MiniMaxServer(KEYS['hailuo'], mp4) as srv:
        monkeypatch.setenv('MINIMAX_BASE_URL', srv.url)
        srv.faults['submit'] = [(200, {'base_resp': {'status_code': 1002, 'status_msg': 'rate limit exceeded'}}, {})]
        res = run(PROVIDERS['hailuo'][0], first_frame, tmp_path/'v.mp4')
        assert res.success, res.error
        fct.test_eq((srv.submissions, len(srv.jobs)), (2, 1))

def test_bad_key_is_final_and_redacted(provider, first_frame, tmp_path, monkeypatch):
    "A wrong key is refused by the stand-in, which echoes it (and Kling's token) back: the run names the variable, not the key."
    which, make, srv = provider
    key_env = PROVIDERS[which][4]
    monkeypatch.setenv(key_env, 'wrong-' + KEYS[which])
    res = run(make, first_frame, tmp_path/'v.mp4')
    fct.test_eq((res.success, srv.submissions, len(srv.jobs)), (False, 1, 0))
    fct.test(key_env, res.error, in_)
    fct.test_eq('wrong-' + KEYS[which] in json.dumps(res.to_dict()), False)
    no_secret_in(res)

def test_kling_wrong_secret_is_refused(monkeypatch, mp4, first_frame, tmp_path):
    monkeypatch.setenv('KLING_ACCESS_KEY', KEYS['kling']); monkeypatch.setenv('KLING_SECRET_KEY', 'sk-wrong-0123456789')
    with KlingServer(KEYS['kling'], mp4, secret=SECRET) as srv:
        monkeypatch.setenv('KLING_BASE_URL', srv.url)
        res = run(PROVIDERS['kling'][0], first_frame, tmp_path/'v.mp4')
        fct.test_eq((res.success, 'HTTP 401' in res.error, len(srv.jobs)), (False, True, 0))
        no_secret_in(res)
        fct.test_eq('sk-wrong-0123456789' in res.error, False)

def test_a_recorded_job_is_resumed_not_paid_again(provider, first_frame, tmp_path):
    which, make, srv = provider
    job_file, srv.job_seconds = tmp_path/'.r.job.json', 60
    first = run(make, first_frame, tmp_path/'v.mp4', poll_timeout=0.1, job_file=job_file)
    recorded = json.loads(job_file.read_text())['job_id']
    fct.test_eq((first.success, recorded in first.error), (False, True))
    srv.job_seconds = 0
    again = run(make, first_frame, tmp_path/'v.mp4', job_file=job_file)
    assert again.success, again.error
    fct.test_eq((srv.submissions, again.generation_id), (1, recorded))

@pytest.mark.parametrize('drop', ['prompt', 'image'])
def test_a_wrapper_without_prompt_or_image_fails(provider, first_frame, tmp_path, monkeypatch, drop):
    "Mutation: a wrapper whose request lost the prompt or the first frame is refused by the stand-in, not paid for."
    which, make, srv = provider
    cls = type(make())
    build = cls.body
    def mutated(self, *a):
        b = build(self, *a)
        if which != 'seedance':
            field = drop if drop == 'prompt' or which == 'kling' else 'first_frame_image'
            return {k: v for k, v in b.items() if k != field}
        kind = 'text' if drop == 'prompt' else 'image_url'
        return {**b, 'content': [c for c in b['content'] if c['type'] != kind]}
    monkeypatch.setattr(cls, 'body', mutated)
    res = run(make, first_frame, tmp_path/'v.mp4')
    fct.test_eq((res.success, srv.submissions, len(srv.jobs)), (False, 1, 0))
    fct.test_eq(('prompt' if drop == 'prompt' else 'image') in res.error.lower() or 'text' in res.error, True)

def test_unknown_field_and_unsupported_option_are_refused(provider, first_frame, tmp_path, monkeypatch):
    which, make, srv = provider
    cls = type(make())
    build = cls.body
    monkeypatch.setattr(cls, 'body', lambda self, *a: {**build(self, *a), 'fps': 24})
    res = run(make, first_frame, tmp_path/'v.mp4')
    fct.test_eq((res.success, 'fps' in res.error), (False, True))
    option = dict(kling={'mode': 'turbo'}, seedance={'generate_audio': True}, hailuo={'resolution': '512P'})[which]
    monkeypatch.setattr(cls, 'body', lambda self, *a: {**build(self, *a), **option})
    res = run(make, first_frame, tmp_path/'w.mp4')
    fct.test_eq((res.success, len(srv.jobs)), (False, 0))

def test_unsupported_duration_makes_no_request(provider, first_frame, tmp_path):
    which, make, srv = provider
    res = run(make, first_frame, tmp_path/'v.mp4', duration=PROVIDERS[which][5])
    fct.test_eq((res.success, f"{PROVIDERS[which][5]} s" in res.error or f"duration={PROVIDERS[which][5]}" in res.error, srv.seen), (False, True, []))

def test_download_route_refuses_credentials(provider):
    which, make, srv = provider
    fct.test_eq(httpx.get(srv.file_url('job1'), headers={'Authorization': f'Bearer {KEYS[which]}'}).status_code, 403)
    fct.test_eq(httpx.get(srv.file_url('job1')).status_code, 200)

def test_kling_token_verified_by_pyjwt():
    "An independent JWT library accepts the token the wrapper signs."
    jwt = pytest.importorskip('jwt')
    from vmevalkit.models.kling import kling_token
    claims = jwt.decode(kling_token('ak-1', 'sk-1-' + 'x' * 32), 'sk-1-' + 'x' * 32, algorithms=['HS256'], issuer='ak-1')
    fct.test_close(claims['exp'] - time.time(), 1800, eps=5)
    fct.test_fail(lambda: jwt.decode(kling_token('ak-1', 'sk-1-' + 'x' * 32), 'sk-2', algorithms=['HS256']), contains='Signature')

def test_byteplus_sdk_against_the_ark_stand_in(monkeypatch, mp4, first_frame):
    "The official ModelArk client submits, polls and finds the video on our stand-in: if it cannot, the stand-in is wrong."
    ark = pytest.importorskip('byteplussdkarkruntime')
    from vmevalkit.models.api import data_uri, frame_png
    with ArkServer(KEYS['seedance'], mp4) as srv:
        client = ark.Ark(base_url=srv.url + '/api/v3', api_key=KEYS['seedance'], max_retries=0)
        content = [{'type': 'text', 'text': 'Solve the puzzle.'},
                   {'type': 'image_url', 'image_url': {'url': data_uri(frame_png(first_frame))}, 'role': 'first_frame'}]
        task = client.content_generation.tasks.create(model='seedance-1-0-pro-250528', content=content, ratio='16:9',
                                                      duration=5, resolution='720p', watermark=False, seed=7)
        for _ in range(5):
            got = client.content_generation.tasks.get(task_id=task.id)
            if got.status == 'succeeded': break
        fct.test_eq((got.status, got.usage.completion_tokens), ('succeeded', 108900))
        fct.test_eq(httpx.get(got.content.video_url).content, mp4)
        fct.test_fail(lambda: client.content_generation.tasks.create(model='seedance-1-0-pro-250528', content=content[:1]),
                      contains='first_frame')
        bad = ark.Ark(base_url=srv.url + '/api/v3', api_key='wrong-key', max_retries=0)
        fct.test_fail(lambda: bad.content_generation.tasks.get(task_id=task.id), contains='401')
