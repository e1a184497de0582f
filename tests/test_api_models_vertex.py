"Veo on Vertex AI end to end against a strict local stand-in (tests/provider_servers_vertex.py), our wrapper and google-genai."
import base64, json, time
import pytest
from fastcore import test as fct
from fastcore.basics import in_

from vmevalkit.core import read_frames
from vmevalkit.models import MODEL_CATALOG, FinalError, fit_request, load_model
from vmevalkit.models.api import RetryPolicy, check_providers
from vmevalkit.models.vertex import VertexVeoModel
from provider_servers_vertex import VertexServer

TOKEN, PROJECT, PROMPT = 'ya29.test-VERTEX-token-0123456789', 'test-project', 'Solve the puzzle.'
FAST = dict(backoff=0.01, backoff_max=0.05, poll_interval=0.01, poll_timeout=5)


@pytest.fixture
def srv(monkeypatch, mp4):
    "A running stand-in, with the token, project, region and both base URLs pointed at it."
    with VertexServer(TOKEN, mp4) as s:
        for k, v in dict(GOOGLE_CLOUD_ACCESS_TOKEN=TOKEN, GOOGLE_CLOUD_PROJECT=PROJECT, GOOGLE_CLOUD_LOCATION='us-central1',
                         GOOGLE_VERTEX_BASE_URL=s.url, GOOGLE_STORAGE_BASE_URL=s.url).items():
            monkeypatch.setenv(k, v)
        yield s

def model(model_id='veo-3.1-generate-001', **defaults):
    return VertexVeoModel(f'vertex-{model_id}', model_id, **{**dict(duration=8, aspect_ratio='16:9', resolution='720p'), **defaults})

@pytest.fixture
def run(srv, first_frame):
    "generate(out, **options) with a Vertex Veo 3.1 wrapper, fast retries and the first frame."
    return lambda out, **options: model().generate(first_frame, PROMPT, output_path=out, **{**FAST, **options})

def submitted(srv, n=0): return json.loads(srv.requests('submit')[n]['body'])

def no_token_in(res): fct.test_eq('ya29' in json.dumps(res.to_dict()), False)


def test_the_whole_job_inline(srv, tmp_path, mp4, first_frame, run):
    res = run(tmp_path/'v.mp4', seed=7)
    assert res.success, res.error
    op = f'projects/{PROJECT}/locations/us-central1/publishers/google/models/veo-3.1-generate-001/operations/job1'
    fct.test_eq((res.generation_id, (tmp_path/'v.mp4').read_bytes() == mp4, len(read_frames(tmp_path/'v.mp4'))), (op, True, 8))
    sub = srv.requests('submit')[0]
    fct.test_eq(sub['path'], f'/v1/projects/{PROJECT}/locations/us-central1/publishers/google/models/veo-3.1-generate-001:predictLongRunning')
    fct.test_eq(sub['headers']['Authorization'], f'Bearer {TOKEN}')
    body = submitted(srv)
    fct.test_eq(body['instances'][0]['prompt'], PROMPT)
    fct.test_eq(base64.b64decode(body['instances'][0]['image']['bytesBase64Encoded']), first_frame.read_bytes())
    fct.test_eq(body['parameters'], {'aspectRatio': '16:9', 'durationSeconds': 8, 'resolution': '720p', 'sampleCount': 1,
                                     'generateAudio': False, 'seed': 7})
    polls = srv.requests('poll')
    fct.test_eq({(p['method'], json.loads(p['body'])['operationName']) for p in polls}, {('POST', op)})
    fct.test_eq((res.metadata['seed'], 'not_sent' in res.metadata, res.metadata['video_url']), (7, False, f'inline:{op}'))
    fct.test_eq(srv.refused, [])
    no_token_in(res)

def test_the_seed_goes_through_the_catalog_to_vertex(srv, tmp_path, caplog, first_frame):
    "Unlike the Gemini API, Vertex AI takes a seed: the catalog says so, nothing is dropped, the request carries it."
    fct.test_eq((MODEL_CATALOG['vertex-veo-3.1-generate-001']['accepts']['seed'], MODEL_CATALOG['veo-3.1-generate-001']['accepts']['seed']),
                (True, False))
    fct.test_eq(fit_request('vertex-veo-3.1-fast-generate-001', 8, seed=123), (123, {}, {}))
    res = load_model('vertex-veo-3.1-fast-generate-001').generate(first_frame, PROMPT, output_path=tmp_path/'v.mp4',
                                                                  seed=123, **FAST)
    assert res.success, res.error
    fct.test_eq((submitted(srv)['parameters']['seed'], res.metadata['seed']), (123, 123))
    fct.test_eq('not supported' in caplog.text, False)

def test_a_storage_uri_result_is_read_from_cloud_storage_with_the_token(srv, tmp_path, mp4, run):
    res = run(tmp_path/'v.mp4', storage_uri='gs://vmeval-out/veo/')
    assert res.success, res.error
    fct.test_eq(((tmp_path/'v.mp4').read_bytes() == mp4, res.metadata['video_url']), (True, 'gs://vmeval-out/veo/job1/sample_0.mp4'))
    fct.test_eq(submitted(srv)['parameters']['storageUri'], 'gs://vmeval-out/veo/')
    dl = srv.requests('download')[-1]
    fct.test_eq((dl['path'], dl['headers']['Authorization']),
                ('/storage/v1/b/vmeval-out/o/veo%2Fjob1%2Fsample_0.mp4?alt=media', f'Bearer {TOKEN}'))

def test_a_bucket_the_token_may_not_read_names_the_object(srv, tmp_path, run):
    srv.faults['download'] = [(403, {'error': {'code': 403, 'message': f'{TOKEN} does not have storage.objects.get access'}}, {})]
    res = run(tmp_path/'v.mp4', storage_uri='gs://vmeval-out/veo/')
    fct.test_eq((res.success, res.status), (False, 'failed'))
    fct.test('the video is at gs://vmeval-out/veo/job1/sample_0.mp4, which this token may not read', res.error, in_)
    fct.test_eq(srv.submissions, 1)
    no_token_in(res)

def test_a_wrong_token_or_project_is_final_and_names_the_fix(srv, tmp_path, monkeypatch, run):
    monkeypatch.setenv('GOOGLE_CLOUD_ACCESS_TOKEN', 'ya29.wrong-token-0123456789')
    res = run(tmp_path/'a.mp4')
    fct.test_eq((res.success, 'HTTP 401' in res.error, 'GOOGLE_CLOUD_ACCESS_TOKEN' in res.error), (False, True, True))
    no_token_in(res)
    monkeypatch.setenv('GOOGLE_CLOUD_ACCESS_TOKEN', TOKEN); monkeypatch.setenv('GOOGLE_CLOUD_PROJECT', 'someone-else')
    res = run(tmp_path/'b.mp4')
    fct.test_eq(("HTTP 403" in res.error, "projects/someone-else" in res.error, srv.jobs), (True, True, {}))
    monkeypatch.delenv('GOOGLE_CLOUD_PROJECT')
    fct.test_eq(run(tmp_path/'c.mp4').error.count('GOOGLE_CLOUD_PROJECT is not set'), 1)

@pytest.mark.parametrize('what', ['prompt', 'image', 'mime', 'unknown', 'option'])
def test_a_wrapper_that_breaks_the_request_is_refused(srv, tmp_path, monkeypatch, what, run):
    "Mutations of a correct wrapper: each one must fail against the stand-in, so a wrapper bug cannot pass unnoticed."
    body = VertexVeoModel.body
    def broken(self, image_path, prompt, params):
        b = body(self, image_path, prompt, params)
        inst = b['instances'][0]
        if what == 'prompt': del inst['prompt']
        if what == 'image': del inst['image']
        if what == 'mime': inst['image']['mimeType'] = 'image/jpeg'
        if what == 'unknown': b['parameters']['fps'] = 24
        if what == 'option': b['parameters'].update(resolution='4k')  # what validate() refuses, sent anyway
        return b
    monkeypatch.setattr(VertexVeoModel, 'body', broken)
    res = run(tmp_path/'v.mp4')
    fct.test_eq((res.success, 'HTTP 400' in res.error, len(srv.refused), srv.jobs), (False, True, 1, {}))

def test_what_the_model_does_not_take_is_refused_before_any_request(srv, tmp_path, run):
    for opts, says in [(dict(duration=5), 'accepts 4, 6, 8'), (dict(resolution='4k'), 'accepts 720p, 1080p'),
                       (dict(seed=2**32), 'takes whole numbers 0 to 4294967295'), (dict(storage_uri='/tmp/x'), 'Cloud Storage folder')]:
        res = run(tmp_path/'v.mp4', **opts)
        fct.test(says, res.error, in_)
    fct.test_eq(srv.seen, [])

def test_rate_limits_are_retried_but_a_submit_that_may_have_started_a_job_is_not(srv, tmp_path, run):
    srv.faults['submit'] = [(429, {'error': {'code': 429, 'status': 'RESOURCE_EXHAUSTED'}}, {'Retry-After': '0'})]
    srv.faults['poll'] = [(503, {'error': {'code': 503}}, {'Retry-After': '0'})]
    assert run(tmp_path/'a.mp4').success
    fct.test_eq(srv.submissions, 2)
    srv.faults['submit'] = [(500, {'error': {'code': 500, 'status': 'INTERNAL'}}, {})]
    res = run(tmp_path/'b.mp4')
    fct.test_eq((res.success, 'Not sent again' in res.error, srv.submissions), (False, True, 3))

def test_a_failed_or_filtered_job(srv, tmp_path, run):
    srv.outcome = 'fail'
    fct.test('Video generation backend unavailable', run(tmp_path/'a.mp4').error, in_)
    srv.outcome = 'filtered'
    res = run(tmp_path/'b.mp4')
    fct.test_eq(('removed by the safety filters' in res.error, 'content policy' in res.error), (True, True))

def test_a_recorded_job_is_resumed_not_paid_again(srv, tmp_path, mp4, run):
    srv.outcome = 'never'
    res = run(tmp_path/'v.mp4', job_file=tmp_path/'job.json', poll_timeout=0.05)
    fct.test_eq((res.success, (tmp_path/'job.json').exists()), (False, True))
    srv.outcome = 'ok'
    res = run(tmp_path/'v.mp4', job_file=tmp_path/'job.json')
    fct.test_eq((res.success, srv.submissions, (tmp_path/'v.mp4').read_bytes() == mp4), (True, 1, True))

@pytest.mark.parametrize('cut', [8, 20, 60])
def test_a_token_the_server_echoes_is_removed_even_when_cut(srv, tmp_path, cut, run):
    "The error body is cut at 300 characters: the echoed token may be whole or cut anywhere."
    srv.echo_at = 300 - len('{"error": "') - cut
    res = run(tmp_path/'v.mp4')
    fct.test_eq(res.success, False)
    fct.test_eq(TOKEN[:max(cut - 1, 6)] in res.error, False)
    no_token_in(res)

def test_models_check_reads_the_model_for_free(srv, monkeypatch):
    fast = RetryPolicy(attempts=1, timeout=10.)
    catalog = {n: e for n, e in MODEL_CATALOG.items() if n.startswith('vertex-')}
    rows = check_providers(catalog, fast)
    fct.test_eq([(r['provider'], r['key'], r['state']) for r in rows], [('vertex', 'GOOGLE_CLOUD_ACCESS_TOKEN', 'works')])
    fct.test_eq(([r['path'] for r in srv.seen], srv.submissions), (['/v1/publishers/google/models/veo-3.1-generate-001'], 0))
    monkeypatch.setenv('GOOGLE_CLOUD_ACCESS_TOKEN', 'ya29.wrong-0123456789')
    row = check_providers(catalog, fast)[0]
    fct.test_eq((row['state'], 'GOOGLE_CLOUD_ACCESS_TOKEN' in row['detail'], 'ya29' in row['detail']), ('refused', True, False))


def test_google_genai_sdk_in_vertex_mode(srv, mp4, first_frame):
    "The official SDK in Vertex mode drives our stand-in: if it cannot, the stand-in is wrong."
    genai = pytest.importorskip('google.genai', reason='google-genai is not installed (pip install "google-genai>=2.30,<3")')
    from google.genai import errors, types
    from google.oauth2.credentials import Credentials
    client = genai.Client(vertexai=True, project=PROJECT, location='us-central1', credentials=Credentials(token=TOKEN),
                          http_options=types.HttpOptions(base_url=srv.url))
    png = first_frame.read_bytes()
    source = types.GenerateVideosSource(prompt=PROMPT, image=types.Image(image_bytes=png, mime_type='image/png'))
    op = client.models.generate_videos(model='veo-3.1-generate-001', source=source,
                                       config=types.GenerateVideosConfig(duration_seconds=8, seed=7, aspect_ratio='16:9'))
    while not op.done: op = client.operations.get(op); time.sleep(0.01)
    fct.test_eq(op.response.generated_videos[0].video.video_bytes, mp4)
    fct.test_eq((submitted(srv)['parameters']['seed'], submitted(srv)['instances'][0]['prompt']), (7, PROMPT))
    fct.test_eq({r['path'].split('/')[1] for r in srv.seen}, {'v1beta1'})  # the SDK speaks v1beta1, the wrapper v1
    stored = client.models.generate_videos(model='veo-3.1-generate-001', source=source,
                                           config=types.GenerateVideosConfig(output_gcs_uri='gs://vmeval-out/sdk/'))
    while not stored.done: stored = client.operations.get(stored); time.sleep(0.01)
    fct.test_eq(stored.response.generated_videos[0].video.uri, 'gs://vmeval-out/sdk/job2/sample_0.mp4')
    mislabelled = types.GenerateVideosSource(prompt=PROMPT, image=types.Image(image_bytes=png, mime_type='image/jpeg'))
    with pytest.raises(errors.ClientError, match='labelled image/jpeg'):
        client.models.generate_videos(model='veo-3.1-generate-001', source=mislabelled)
    with pytest.raises(errors.ClientError, match='4k is not supported|resolution 4k'):
        client.models.generate_videos(model='veo-3.1-generate-001', source=source, config=types.GenerateVideosConfig(resolution='4k'))
    wrong = genai.Client(vertexai=True, project=PROJECT, location='us-central1', credentials=Credentials(token='ya29.wrong'),
                         http_options=types.HttpOptions(base_url=srv.url))
    with pytest.raises(errors.ClientError): wrong.models.generate_videos(model='veo-3.1-generate-001', source=source)
