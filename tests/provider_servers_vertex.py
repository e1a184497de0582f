"""A local stand-in for Veo on Vertex AI, held to what the real service accepts (checked 2026-12-04 against the Veo on
Vertex AI API reference and google-genai 2.34.0 in Vertex mode).

`POST /{v1|v1beta1}/projects/{P}/locations/{L}/publishers/google/models/{M}:predictLongRunning` starts a job (Bearer
token, JSON, one instance with a prompt and a labelled image, only the parameters Vertex AI documents, only options the
model takes); `POST …/models/{M}:fetchPredictOperation` with `{operationName}` polls it; the finished operation holds the
video inline (`bytesBase64Encoded`) or, when `storageUri` was given, a `gcsUri` served by the Cloud Storage JSON API
(`GET /storage/v1/b/{bucket}/o/{object}?alt=media`, with the same token). google-genai uses `v1beta1`, the REST
reference `v1`: both are served. As with the other stand-ins, a prompt is required (every benchmark request has one)."""
import base64, json, re, threading
from urllib.parse import unquote, urlsplit, parse_qs

from provider_servers import Refused, StandIn, image_bytes, known_fields, need

_V31 = dict(durations={4, 6, 8}, resolutions={'720p', '1080p'})
VERTEX_ACCEPTS = {'veo-3.1-generate-001': _V31, 'veo-3.1-fast-generate-001': _V31}
# the `parameters` the Veo on Vertex AI API reference lists
VERTEX_PARAMETERS = {'aspectRatio', 'compressionQuality', 'durationSeconds', 'enhancePrompt', 'generateAudio',
                     'negativePrompt', 'personGeneration', 'resizeMode', 'resolution', 'sampleCount', 'seed', 'storageUri'}
_MODEL = r'/(?:v1|v1beta1)/projects/([^/]+)/locations/([^/]+)/publishers/google/models/([^/:]+)'


class VertexServer(StandIn):
    "Vertex AI: POST :predictLongRunning, POST :fetchPredictOperation, GET the Model Garden entry, GET Cloud Storage objects."
    submit_route, poll_route, needs_key_to_download = _MODEL + ':predictLongRunning', _MODEL + ':fetchPredictOperation', True
    reads = {f'/v1/publishers/google/models/{m}': {'name': f'publishers/google/models/{m}', 'versionId': '001',
                                                   'launchStage': 'GA'} for m in VERTEX_ACCEPTS}

    def __init__(self, key, mp4, polls_to_finish=2, project='test-project', location='us-central1'):
        super().__init__(key, mp4, polls_to_finish)
        self.project, self.location, self.objects, self.local = project, location, {}, threading.local()

    def kind(self, method, path):
        p = path.split('?')[0]
        if method == 'POST' and re.fullmatch(self.poll_route, p): return 'poll'
        return super().kind(method, p)
    def is_download(self, method, p): return method == 'GET' and p.startswith('/storage/v1/b/')

    def dispatch(self, method, path, headers, body):
        "Checks what the base class cannot see: the poll's body, the project and region in the path, the stored object."
        kind = self.kind(method, path)
        if kind in ('submit', 'poll') and self.authorised(headers):
            try: self.check_place(path)
            except Refused as e: return self.refuse(kind, method, path, headers, body, e)
        if kind == 'poll' and self.authorised(headers):
            try: self.local.job = self.operation_of(path, headers, body)
            except Refused as e: return self.refuse(kind, method, path, headers, body, e)
        if kind == 'download' and self.authorised(headers) and not self.faults['download']:
            obj = self.object_of(path)
            if obj is None:
                self.seen.append(dict(kind=kind, method=method, path=path, headers=headers, body=body))
                return self.json(404, {'error': {'code': 404, 'message': 'No such object'}})
        return super().dispatch(method, path, headers, body)

    def refuse(self, kind, method, path, headers, body, e):
        self.seen.append(dict(kind=kind, method=method, path=path, headers=headers, body=body))
        self.refused.append((kind, str(e)))
        return self.json(e.code, self.invalid(str(e), e.code))

    def check_place(self, path):
        project, location, model = re.fullmatch(self.submit_route.rsplit(':', 1)[0] + r':\w+', path.split('?')[0]).groups()
        need(project == self.project, f"Permission 'aiplatform.endpoints.predict' denied on resource "
                                      f"'//aiplatform.googleapis.com/projects/{project}' (or it may not exist).", 403)
        need(location == self.location, f'Location {location} is not served by this endpoint ({self.location}).', 400)
        need(model in VERTEX_ACCEPTS, f'Publisher Model `projects/{project}/locations/{location}/publishers/google/'
                                      f'models/{model}` was not found or your project does not have access to it.', 404)

    def operation_of(self, path, headers, body)->str:
        "The job a fetchPredictOperation body names (it must name an operation of the model in the path)."
        self.check_json(headers)
        req = json.loads(body or b'{}')
        known_fields(req, {'operationName'}, 'the request')
        name = req.get('operationName') or ''
        need(name.rpartition('/operations/')[0] == path.split('?')[0].split('/', 2)[2].rsplit(':', 1)[0],
             f'operationName {name!r} is not an operation of this model')
        return name.rsplit('/', 1)[1]

    def job_of(self, path): return self.local.job

    def object_of(self, path):
        parts = urlsplit(path)
        m = re.fullmatch(r'/storage/v1/b/([^/]+)/o/([^/]+)', parts.path)
        if not m or parse_qs(parts.query).get('alt') != ['media']: return None
        return self.objects.get(f'gs://{m.group(1)}/{unquote(m.group(2))}')

    def check_submit(self, req, path, headers):
        self.check_json(headers)
        model = re.fullmatch(self.submit_route, path).group(3)
        known_fields(req, {'instances', 'parameters'}, 'the request')
        need(isinstance(req.get('instances'), list) and len(req['instances']) == 1, 'instances: exactly one instance')
        inst, params = req['instances'][0], req.get('parameters') or {}
        known_fields(inst, {'prompt', 'image', 'lastFrame', 'video', 'referenceImages'}, 'instances[0]')
        need(inst.get('prompt'), 'instances[0].prompt is required')
        img = inst.get('image') or {}
        known_fields(img, {'bytesBase64Encoded', 'gcsUri', 'mimeType'}, 'instances[0].image')
        need(not img.get('gcsUri'), 'instances[0].image.gcsUri: this stand-in holds no Cloud Storage input')
        image_bytes(base64.b64decode(img.get('bytesBase64Encoded') or ''), img.get('mimeType'), 'instances[0].image')
        known_fields(params, VERTEX_PARAMETERS, 'parameters')
        spec, d, res = VERTEX_ACCEPTS[model], params.get('durationSeconds', 8), params.get('resolution', '720p')
        need(d in spec['durations'], f'durationSeconds {d} is not supported by {model}')
        need(res in spec['resolutions'], f'resolution {res} is not supported by {model}')
        need(res == '720p' or d == 8, f'{res} needs durationSeconds 8')
        need(params.get('aspectRatio', '16:9') in ('16:9', '9:16'), 'aspectRatio must be 16:9 or 9:16')
        need(params.get('sampleCount', 1) in (1, 2, 3, 4), 'sampleCount must be 1 to 4')
        seed = params.get('seed', 0)
        need(isinstance(seed, int) and 0 <= seed <= 2**32 - 1, 'seed must be a uint32')
        need(str(params.get('storageUri', 'gs://x')).startswith('gs://'), 'storageUri must be a gs:// URI')

    def invalid(self, msg, code=400):
        status = {403: 'PERMISSION_DENIED', 404: 'NOT_FOUND'}.get(code, 'INVALID_ARGUMENT')
        return {'error': {'code': code, 'message': msg, 'status': status}}
    def op(self, i):
        return (f"projects/{self.project}/locations/{self.location}/publishers/google/models/"
                f"{re.fullmatch(self.submit_route, self.jobs[i]['path']).group(3)}/operations/{i}")
    def submitted(self, i): return dict(name=self.op(i))
    def running(self, i): return dict(name=self.op(i))
    def completed(self, i):
        folder = (self.jobs[i]['request'].get('parameters') or {}).get('storageUri')
        if folder:
            uri = f"{folder.rstrip('/')}/{i}/sample_0.mp4"
            self.objects[uri] = self.mp4
            video = {'gcsUri': uri, 'mimeType': 'video/mp4'}
        else: video = {'bytesBase64Encoded': base64.b64encode(self.mp4).decode(), 'mimeType': 'video/mp4'}
        return dict(name=self.op(i), done=True, response={
            '@type': 'type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse',
            'raiMediaFilteredCount': 0, 'videos': [video]})
    def failed(self, i): return dict(name=self.op(i), done=True, error={'code': 13, 'message': 'Video generation backend unavailable'})
    def ended(self, i, outcome):
        "outcome 'filtered': the job ran and the safety filters removed its only video."
        return dict(name=self.op(i), done=True, response={
            '@type': 'type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse', 'raiMediaFilteredCount': 1,
            'raiMediaFilteredReasons': ['The video was filtered by the responsible AI safety filters (code 58061214).']})
    def policy_error(self):
        return {'error': {'code': 400, 'status': 'INVALID_ARGUMENT',
                          'message': 'The prompt could not be submitted. It violates Vertex AI usage guidelines.'}}
