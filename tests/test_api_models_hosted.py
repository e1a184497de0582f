"DashScope (Wan), fal and Replicate wrappers end to end against stand-ins that hold them to the documented protocols."
import base64, io, json
import httpx, pytest
from PIL import Image
from fastcore import test as fct
from fastcore.basics import ge

from vmevalkit.models.dashscope import DashScopeModel
from vmevalkit.models.fal import FalModel
from vmevalkit.models.replicate import ReplicateModel
from provider_servers_hosted import DashScopeServer, FalServer, ReplicateServer

FAST = dict(backoff=0.01, backoff_max=0.05, poll_interval=0.01, poll_timeout=5)
# wrapper, model id, stand-in, key variable, base-URL variable, key, how the failure reason reads
PROVIDERS = {
    'dashscope': (DashScopeModel, 'wan2.6-i2v', DashScopeServer, 'DASHSCOPE_API_KEY', 'DASHSCOPE_BASE_URL',
                  'sk-test-dashscope-0123456789', 'backend crashed'),
    'fal':       (FalModel, 'fal-ai/kling-video/v2.5-turbo/standard/image-to-video', FalServer, 'FAL_KEY', 'FAL_BASE_URL',
                  'fal-test-key-id:0123456789', 'runner crashed'),
    'replicate': (ReplicateModel, 'wan-video/wan-2.5-i2v', ReplicateServer, 'REPLICATE_API_TOKEN', 'REPLICATE_BASE_URL',
                  'r8_test_token_0123456789', 'CUDA out of memory'),
}

@pytest.fixture(params=list(PROVIDERS))
def provider(request, monkeypatch, mp4):
    "(which, wrapper, running stand-in) with the key and base URL pointed at the stand-in."
    cls, model, server, key_env, base_env, key, _ = PROVIDERS[request.param]
    monkeypatch.setenv(key_env, key)
    with server(key, mp4) as srv:
        monkeypatch.setenv(base_env, srv.url)
        yield request.param, cls(f'{request.param}-test', model), srv

def run(model, first_frame, out, **options):
    return model.generate(first_frame, 'Solve the puzzle.', output_path=out, **{**FAST, **options})

def sent(srv, which):
    "The prompt and the image (decoded) of the first submission the stand-in accepted."
    req = srv.jobs['job1']['request']
    inp = req if which == 'fal' else req['input']
    image = next(v for k, v in inp.items() if isinstance(v, str) and v.startswith('data:image/png'))
    return inp['prompt'], Image.open(io.BytesIO(base64.b64decode(image.split(',', 1)[1])))

def without(cls, monkeypatch, *fields):
    "Make the wrapper forget `fields` in its request, as a bug would."
    body = cls.body
    def drop(d): return {k: drop(v) if isinstance(v, dict) else v for k, v in d.items() if k not in fields}
    monkeypatch.setattr(cls, 'body', lambda self, *a: drop(body(self, *a)))


def test_success_end_to_end(provider, first_frame, tmp_path, mp4):
    which, model, srv = provider
    res = run(model, first_frame, tmp_path/'v.mp4', seed=7)
    assert res.success, res.error
    fct.test_eq((res.generation_id, (tmp_path/'v.mp4').read_bytes() == mp4), ('job1', True))
    fct.test_eq((srv.submissions, len(srv.requests('download'))), (1, 1))
    prompt, image = sent(srv, which)
    fct.test_eq((prompt, image.size), ('Solve the puzzle.', (1280, 720)))
    fct.test_eq(srv.key in json.dumps(res.to_dict()), False)
    fct.test_eq([p.name for p in tmp_path.iterdir()], ['v.mp4'])

def test_submit_shapes(provider, first_frame, tmp_path):
    "What each provider's protocol asks for beyond prompt and image."
    which, model, srv = provider
    assert run(model, first_frame, tmp_path/'v.mp4', seed=7, duration=10).success
    req = srv.jobs['job1']['request']
    if which == 'dashscope':
        fct.test_eq(req['parameters'], dict(resolution='1080P', duration=10, prompt_extend=False, watermark=False, audio=False, seed=7))
        fct.test_eq(srv.requests('submit')[0]['headers']['X-DashScope-Async'], 'enable')
    elif which == 'fal':
        fct.test_eq((req['duration'], 'seed' in req), ('10', False))  # Kling on fal: a string duration and no seed field
        fct.test_eq(srv.requests('submit')[0]['headers']['Authorization'], f'Key {srv.key}')
        fct.test_eq([r['path'].split('?')[0] for r in srv.requests('poll')][-1], '/fal-ai/kling-video/requests/job1/status')
    else:
        fct.test_eq((req['input']['duration'], req['input']['seed'], req['input']['resolution']), (10, 7, '720p'))

def test_download_refuses_the_key(provider, first_frame, tmp_path):
    "The wrapper fetches the video without the key; the stand-in's download host refuses a request that carries it."
    which, model, srv = provider
    assert run(model, first_frame, tmp_path/'v.mp4').success
    fct.test_eq(srv.key in json.dumps(srv.requests('download')[0]['headers']), False)
    fct.test_eq(httpx.get(srv.file_url('job1'), headers=model.headers()).status_code, 403)

def test_job_fails_with_reason(provider, first_frame, tmp_path):
    which, model, srv = provider
    srv.outcome = 'fail'
    res = run(model, first_frame, tmp_path/'v.mp4')
    fct.test_eq((res.success, PROVIDERS[which][-1] in res.error, (tmp_path/'v.mp4').exists()), (False, True, False))
    fct.test_eq(srv.submissions, 1)

def test_429_then_success(provider, first_frame, tmp_path):
    which, model, srv = provider
    srv.faults['submit'] = [(429, {'detail': 'rate limited'}, {'Retry-After': '0.3'})]
    res = run(model, first_frame, tmp_path/'v.mp4')
    assert res.success, res.error
    first, second = srv.requests('submit')
    fct.test(second['t'] - first['t'], 0.3, ge)

def test_bad_key_is_final_and_redacted(provider, first_frame, tmp_path, monkeypatch):
    "A wrong key is refused once (no retry) and the error names the variable, never the key the stand-in echoes."
    which, model, srv = provider
    wrong = 'wrong-key-ABCDEFGH-0123456789'
    monkeypatch.setenv(PROVIDERS[which][3], wrong)
    srv.faults['submit'] = [(401, {'detail': f'invalid credentials {wrong}'}, {})]
    res = run(model, first_frame, tmp_path/'v.mp4')
    fct.test_eq((res.success, srv.submissions, 'HTTP 401' in res.error, PROVIDERS[which][3] in res.error), (False, 1, True, True))
    fct.test_eq(wrong in json.dumps(res.to_dict()), False)

def test_wrong_key_is_refused_by_the_stand_in(provider, first_frame, tmp_path, monkeypatch):
    which, model, srv = provider
    monkeypatch.setenv(PROVIDERS[which][3], 'not-the-key-0123456789')
    res = run(model, first_frame, tmp_path/'v.mp4')
    fct.test_eq((res.success, 'HTTP 401' in res.error, srv.jobs), (False, True, {}))

def test_a_recorded_job_is_resumed_not_paid_again(provider, first_frame, tmp_path):
    which, model, srv = provider
    job_file, srv.job_seconds = tmp_path/'.r.job.json', 60
    first = run(model, first_frame, tmp_path/'v.mp4', poll_timeout=0.1, job_file=job_file)
    fct.test_eq((first.success, json.loads(job_file.read_text())['job_id']), (False, 'job1'))
    srv.job_seconds = 0
    again = run(model, first_frame, tmp_path/'v.mp4', job_file=job_file)
    assert again.success, again.error
    fct.test_eq((srv.submissions, again.generation_id), (1, 'job1'))
    srv.jobs.clear()  # the provider forgot every job (DashScope: UNKNOWN after 24 h; the others: 404)
    third = run(model, first_frame, tmp_path/'w.mp4', job_file=job_file)
    assert third.success, third.error
    fct.test_eq(srv.submissions, 2)

@pytest.mark.parametrize('field', ['prompt', 'image'])
def test_a_wrapper_without_prompt_or_image_fails(provider, first_frame, tmp_path, monkeypatch, field):
    "Mutation: a wrapper that drops the prompt or the image is caught by the stand-in, not paid for."
    which, model, srv = provider
    image_field = {'dashscope': 'img_url', 'fal': model.spec['image'] if which == 'fal' else None,
                   'replicate': model.spec['image'] if which == 'replicate' else None}[which]
    without(type(model), monkeypatch, 'prompt' if field == 'prompt' else image_field)
    res = run(model, first_frame, tmp_path/'v.mp4')
    fct.test_eq((res.success, srv.jobs, srv.submissions), (False, {}, 1))
    assert any(f'HTTP {c}' in res.error for c in (400, 422)), res.error

def test_an_unknown_field_is_refused(provider, first_frame, tmp_path, monkeypatch):
    which, model, srv = provider
    body = type(model).body
    def extra(self, *a):
        b = body(self, *a)
        (b if which == 'fal' else b['parameters' if which == 'dashscope' else 'input'])['motion_bucket'] = 127
        return b
    monkeypatch.setattr(type(model), 'body', extra)
    res = run(model, first_frame, tmp_path/'v.mp4')
    fct.test_eq((res.success, srv.jobs, 'motion_bucket' in res.error), (False, {}, True))

def test_impossible_options_make_no_request(provider, first_frame, tmp_path):
    which, model, srv = provider
    res = run(model, first_frame, tmp_path/'v.mp4', duration=7)
    fct.test_eq((res.success, 'duration=7' in res.error, srv.seen), (False, True, []))

def test_dashscope_base_url_forms(monkeypatch):
    m = DashScopeModel('d', 'wan2.6-i2v')
    for url in ('https://dashscope-us.aliyuncs.com', 'https://dashscope-us.aliyuncs.com/api/v1/', 'https://dashscope-us.aliyuncs.com/api'):
        monkeypatch.setenv('DASHSCOPE_BASE_URL', url)
        fct.test_eq(m.base_url, 'https://dashscope-us.aliyuncs.com')
    monkeypatch.delenv('DASHSCOPE_BASE_URL')
    fct.test_eq(m.base_url, 'https://dashscope-intl.aliyuncs.com')

def test_dashscope_stand_in_refuses_a_synchronous_call(mp4, first_frame, tmp_path, monkeypatch):
    "Without `X-DashScope-Async: enable` the service refuses the call; so does the stand-in."
    with DashScopeServer('sk-test-dashscope-0123456789', mp4) as srv:
        monkeypatch.setenv('DASHSCOPE_API_KEY', srv.key); monkeypatch.setenv('DASHSCOPE_BASE_URL', srv.url)
        monkeypatch.setattr(DashScopeModel, 'headers', lambda self: {'Authorization': f'Bearer {self.api_key}'})
        res = run(DashScopeModel('d', 'wan2.6-i2v'), first_frame, tmp_path/'v.mp4')
        fct.test_eq((res.success, 'HTTP 403' in res.error, srv.jobs), (False, True, {}))


# The official SDKs against the stand-ins: if the provider's own client cannot talk to a stand-in, the stand-in is wrong.

def _png_uri(first_frame): return 'data:image/png;base64,' + base64.b64encode(first_frame.read_bytes()).decode()

def test_dashscope_sdk_against_the_stand_in(mp4, first_frame, monkeypatch):
    dashscope = pytest.importorskip('dashscope')
    from dashscope import VideoSynthesis
    with DashScopeServer('sk-test-dashscope-0123456789', mp4) as srv:
        monkeypatch.setattr(dashscope, 'base_http_api_url', srv.url + '/api/v1')
        task = VideoSynthesis.async_call(model='wan2.6-i2v', prompt='Solve the puzzle.', img_url=_png_uri(first_frame),
                                         resolution='720P', duration=5, prompt_extend=False, api_key=srv.key)
        fct.test_eq((task.status_code, task.output.task_status), (200, 'PENDING'))
        done = VideoSynthesis.wait(task, api_key=srv.key)
        fct.test_eq(done.output.task_status, 'SUCCEEDED')
        fct.test_eq(httpx.get(done.output.video_url).content, mp4)
        fct.test_eq(VideoSynthesis.async_call(model='wan2.6-i2v', prompt='x', img_url=_png_uri(first_frame),
                                              api_key='sk-wrong-0123456789').status_code, 401)

def test_fal_client_against_the_stand_in(mp4, first_frame, monkeypatch):
    fal_client = pytest.importorskip('fal_client')
    with FalServer('fal-test-key-id:0123456789', mp4) as srv:
        monkeypatch.setattr('fal_client.client.QUEUE_URL_FORMAT', srv.url + '/')
        client = fal_client.SyncClient(key=srv.key)
        handle = client.submit('fal-ai/kling-video/v2.5-turbo/standard/image-to-video',
                               {'prompt': 'Solve the puzzle.', 'image_url': _png_uri(first_frame), 'duration': '5'})
        result = handle.get(interval=0.05)
        fct.test_eq(httpx.get(result['video']['url']).content, mp4)
        fct.test_eq(type(handle.status()).__name__, 'Completed')
        with pytest.raises(Exception, match='field required'):
            client.submit('fal-ai/kling-video/v2.5-turbo/standard/image-to-video', {'image_url': _png_uri(first_frame)})

def test_replicate_sdk_against_the_stand_in(mp4, first_frame, monkeypatch):
    replicate = pytest.importorskip('replicate')
    monkeypatch.setenv('REPLICATE_POLL_INTERVAL', '0.05')
    with ReplicateServer('r8_test_token_0123456789', mp4) as srv:
        client = replicate.Client(api_token=srv.key, base_url=srv.url)
        pred = client.predictions.create(model='wan-video/wan-2.5-i2v',
                                         input={'prompt': 'Solve the puzzle.', 'image': _png_uri(first_frame), 'duration': 5})
        fct.test_eq(pred.status, 'starting')
        pred.wait()
        fct.test_eq((pred.status, httpx.get(pred.output).content == mp4), ('succeeded', True))
        with pytest.raises(Exception, match='prompt is required'):
            client.predictions.create(model='wan-video/wan-2.5-i2v', input={'image': _png_uri(first_frame)})
