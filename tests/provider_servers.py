"""Local stand-ins for the video providers: threaded HTTP servers on 127.0.0.1 that speak each provider's protocol.

Each one is held to what the real service accepts (checked 2026-12-04 against the providers' docs and official SDKs:
google-genai, runwayml, lumaai, wavespeed): it refuses a missing or wrong key, a body that is not what it says it is,
a missing prompt or image, fields it does not know and options the model does not take. Where the real service hands
videos out from a CDN (Luma, Runway, WaveSpeed), downloads come from a second server, `cdn`, that refuses any request
carrying the provider's key: a key sent to a CDN is caught. The real APIs accept an image-to-video request without a
prompt; these stand-ins require one because every benchmark request carries one (a missing prompt is a wrapper bug)."""
import base64, json, re, threading, time, urllib.request
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Headers(dict):
    "Request headers; names are case-insensitive, as in HTTP."
    def __init__(self, items=()): super().__init__((k.lower(), v) for k, v in items)
    def __getitem__(self, k): return super().__getitem__(k.lower())
    def __contains__(self, k): return super().__contains__(k.lower())
    def get(self, k, default=None): return super().get(k.lower(), default)


class RequestHandler(BaseHTTPRequestHandler):
    "Hands each request to `server.app.dispatch(method, path, headers, body)` -> (code, headers, body[, bytes to send])."
    def _serve(self):
        n = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(n) if n else b''
        code, headers, out, *send = self.server.app.dispatch(self.command, self.path, Headers(self.headers.items()), body)
        self.send_response(code)
        for k, v in {'Content-Length': str(len(out)), **headers}.items(): self.send_header(k, v)
        self.end_headers()
        self.wfile.write(out[:send[0]] if send else out)
    do_GET = do_POST = _serve
    def log_message(self, *a): pass


class LocalServer:
    "A threaded HTTP server on 127.0.0.1 handing requests to `self.dispatch`; what it received is in `self.seen`."
    def listen(self):
        self.seen = []
        self.srv = ThreadingHTTPServer(('127.0.0.1', 0), RequestHandler)
        self.srv.app, self.url = self, f'http://127.0.0.1:{self.srv.server_address[1]}'

    def __enter__(self): threading.Thread(target=self.srv.serve_forever, args=(0.05,), daemon=True).start(); return self
    def __exit__(self, *a): self.srv.shutdown(); self.srv.server_close()

    def requests(self, kind): return [r for r in self.seen if r['kind'] == kind]
    @property
    def submissions(self)->int: return len(self.requests('submit'))
    def json(self, code, obj): return code, {'Content-Type': 'application/json'}, json.dumps(obj).encode()


class Refused(Exception):
    "A request the real service would refuse: `code`, and the body it answers."
    def __init__(self, msg:str, code:int=400): super().__init__(msg); self.code = code


def need(cond, msg:str, code:int=400):
    if not cond: raise Refused(msg, code)


def known_fields(obj:dict, allowed:set, where:str):
    unknown = sorted(set(obj) - set(allowed))
    need(not unknown, f'Invalid JSON payload: unknown field(s) {unknown} in {where}')


IMAGE_MAGIC = {'image/png': b'\x89PNG', 'image/jpeg': b'\xff\xd8\xff', 'image/webp': b'RIFF'}

def image_bytes(data:bytes, mime:str|None, where:str)->bytes:
    "`data` if it is an image of type `mime` (when given); else `Refused`."
    need(data, f'{where}: no image')
    kind = next((m for m, magic in IMAGE_MAGIC.items() if data.startswith(magic)), None)
    need(kind is not None, f'{where}: not a supported image')
    need(mime is None or mime == kind, f'{where}: labelled {mime} but the bytes are {kind}')
    return data

def data_uri_image(uri:str, where:str)->bytes:
    "The image in a `data:image/...;base64,` URI (its label must match its bytes)."
    m = re.fullmatch(r'data:(image/[a-z]+);base64,(.+)', uri or '', re.S)
    need(m, f'{where}: expected a data:image/...;base64 URI or an https URL')
    return image_bytes(base64.b64decode(m.group(2)), m.group(1), where)


class _Cdn:
    "The download host: serves files, refuses any request that carries the provider's key."
    def __init__(self, stand_in): self.stand_in = stand_in
    def dispatch(self, method, path, headers, body): return self.stand_in.cdn_dispatch(method, path, headers, body)


class StandIn:
    """One provider's API. Knobs: `faults[kind]` (answers served first), `outcome`, `truncate`, `block`,
    `job_seconds` (a job runs that long, whatever the polls), `echo_at` (every submission is refused with a long body
    that holds the key it was sent at offset `echo_at` + the number of submissions before it)."""
    key_header, submit_route, poll_route = 'Authorization', None, None
    reads = {}  # free authenticated GETs (`vmevalkit models --check`): path -> answer
    uses_cdn = False  # downloads come from a separate host that must never see the key

    def __init__(self, key:str, mp4:bytes, polls_to_finish:int=2):
        self.key, self.mp4, self.polls_to_finish = key, mp4, polls_to_finish
        self.seen, self.jobs, self.faults = [], {}, {'submit': [], 'poll': [], 'download': []}
        self.outcome, self.truncate, self.block, self.job_seconds, self.echo_at = 'ok', 0, False, 0., None
        self.lock, self.echoed = threading.Lock(), 0
        self.srv = ThreadingHTTPServer(('127.0.0.1', 0), RequestHandler)
        self.srv.app, self.url = self, f'http://127.0.0.1:{self.srv.server_address[1]}'
        self.cdn = ThreadingHTTPServer(('127.0.0.1', 0), RequestHandler)
        self.cdn.app, self.cdn_url = _Cdn(self), f'http://127.0.0.1:{self.cdn.server_address[1]}'
        self.refused = []  # (kind, message) of every request refused as invalid

    def __enter__(self):
        for srv in (self.srv, self.cdn): threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True).start()
        return self
    def __exit__(self, *a):
        for srv in (self.srv, self.cdn): srv.shutdown(); srv.server_close()

    def requests(self, kind): return [r for r in self.seen if r['kind'] == kind]
    @property
    def submissions(self)->int: return len(self.requests('submit'))
    def sent_key(self, headers): return headers.get(self.key_header, '').removeprefix('Bearer ')

    def authorised(self, headers):
        want = f'Bearer {self.key}' if self.key_header == 'Authorization' else self.key
        return headers.get(self.key_header) == want

    def dispatch(self, method, path, headers, body):
        kind = self.kind(method, path)
        self.seen.append(dict(kind=kind, method=method, path=path, headers=headers, body=body, t=time.monotonic()))
        if kind in self.faults and self.faults[kind]:
            code, out, hdrs = self.faults[kind].pop(0)
            return code, {'Content-Type': 'application/json', **hdrs}, json.dumps(out).encode(), None
        if kind == 'download': return self.video(headers)
        if kind is None: return self.json(404, {'error': f'no route {method} {path}'})
        if not self.authorised(headers): return self.json(401, {'error': 'invalid api key'})
        if kind == 'read': return self.json(200, self.reads[path.split('?')[0]])
        if kind == 'submit':
            if self.block: return self.json(400, self.policy_error())
            if self.echo_at is not None:
                with self.lock: at, self.echoed = self.echo_at + self.echoed, self.echoed + 1
                return self.json(400, {'error': 'x'*at + f' {self.sent_key(headers)} ' + 'y'*400})
            try: request = self.parse_submit(headers, body); self.check_submit(request, path.split('?')[0], headers)
            except Refused as e:
                self.refused.append(('submit', str(e)))
                return self.json(e.code, self.invalid(str(e)))
            with self.lock:
                job_id = f'job{len(self.jobs) + 1}'
                self.jobs[job_id] = dict(polls=0, request=request, t=time.monotonic(), path=path.split('?')[0])
            return self.json(200, self.submitted(job_id))
        job_id = self.job_of(path)
        job = self.jobs.get(job_id)
        if job is None: return self.json(404, {'error': f'no job {job_id}'})
        job['polls'] += 1
        slow = time.monotonic() - job['t'] < self.job_seconds
        if self.outcome == 'never' or slow or job['polls'] < self.polls_to_finish: return self.json(200, self.running(job_id))
        if self.outcome == 'fail': return self.json(200, self.failed(job_id))
        if self.outcome != 'ok': return self.json(200, self.ended(job_id, self.outcome))
        return self.json(200, self.completed(job_id))

    def cdn_dispatch(self, method, path, headers, body):
        "The CDN: GET /files/... only, and never with the provider's key in any header."
        self.seen.append(dict(kind='download', method=method, path=path, headers=headers, body=body, t=time.monotonic(), cdn=True))
        if any(self.key in str(v) for v in headers.values()) or 'authorization' in headers:
            self.refused.append(('download', 'credentials sent to the CDN'))
            return 403, {'Content-Type': 'application/xml'}, b'<Error><Code>AccessDenied</Code></Error>', None
        if method != 'GET' or not path.startswith('/files/'): return self.json(404, {'error': 'no such object'})
        return self.video({})

    def invalid(self, msg): return {'error': msg}
    def check_submit(self, request, path, headers): pass
    def check_json(self, headers):
        need(headers.get('Content-Type', '').split(';')[0].strip() == 'application/json', 'Content-Type must be application/json')

    def video(self, headers):
        if self.needs_key_to_download and not self.authorised(headers): return self.json(401, {'error': 'no key'})
        send = None
        if self.truncate: self.truncate -= 1; send = len(self.mp4) // 2
        return 200, {'Content-Type': 'video/mp4'}, self.mp4, send

    needs_key_to_download = False
    def json(self, code, obj): return code, {'Content-Type': 'application/json'}, json.dumps(obj).encode(), None
    def kind(self, method, path):
        p = path.split('?')[0]
        if self.is_download(method, p): return 'download'
        if method == 'GET' and p in self.reads: return 'read'
        if method == 'POST' and re.fullmatch(self.submit_route, p): return 'submit'
        if method == 'GET' and re.fullmatch(self.poll_route, p): return 'poll'
    def is_download(self, method, p): return False  # the API host serves no files unless a provider says so
    def file_url(self, job_id): return f'{self.cdn_url if self.uses_cdn else self.url}/files/{job_id}.mp4'
    def job_of(self, path): return re.fullmatch(self.poll_route, path.split('?')[0]).group(1)
    def parse_submit(self, headers, body): return json.loads(body)


def parse_multipart(headers, body):
    "Fields of a multipart/form-data body: name -> str, or (filename, bytes) for files."
    msg = BytesParser(policy=HTTP).parsebytes(b'Content-Type: ' + headers['Content-Type'].encode() + b'\r\n\r\n' + body)
    out = {}
    for part in msg.iter_parts():
        name, data = part.get_param('name', header='content-disposition'), part.get_payload(decode=True)
        out[name] = (part.get_filename(), data) if part.get_filename() else data.decode()
    return out


class SoraServer(StandIn):
    "OpenAI Videos API (shut down 2026-09-24; kept for past runs): POST /v1/videos, GET /v1/videos/{id}, GET …/content."
    submit_route, poll_route, needs_key_to_download = r'/v1/videos', r'/v1/videos/([^/]+)', True
    def is_download(self, method, p): return method == 'GET' and p.endswith('/content')
    def parse_submit(self, headers, body):
        need(headers.get('Content-Type', '').startswith('multipart/form-data'), 'Content-Type must be multipart/form-data')
        return parse_multipart(headers, body)
    def check_submit(self, req, path, headers):
        known_fields(req, {'model', 'prompt', 'size', 'seconds', 'input_reference'}, 'the form')
        need(req.get('prompt'), "Missing required parameter: 'prompt'.")
        need(req.get('model') in ('sora-2', 'sora-2-pro'), f"Invalid model {req.get('model')!r}")
        need(req.get('seconds', '4') in ('4', '8', '12'), f"Invalid seconds {req.get('seconds')!r}")
        need(isinstance(req.get('input_reference'), tuple), "Missing required parameter: 'input_reference'.")
        image_bytes(req['input_reference'][1], None, 'input_reference')
    def invalid(self, msg): return {'error': {'message': msg, 'type': 'invalid_request_error'}}
    def submitted(self, i): return dict(id=i, object='video', status='queued', progress=0)
    def running(self, i): return dict(id=i, object='video', status='in_progress', progress=99)
    def completed(self, i): return dict(id=i, object='video', status='completed', progress=100)
    def failed(self, i): return dict(id=i, status='failed', error={'code': 'internal_error', 'message': 'Video render crashed'})
    def policy_error(self):
        return {'error': {'code': 'moderation_blocked', 'message': 'Your request was blocked by our moderation system.'}}


# What each Veo model takes on the Gemini API (ai.google.dev/gemini-api/docs/video, checked 2026-12-04): no `seed`
# (google-genai refuses it outside Vertex AI); 1080p and 4k only at 8 s.
_VEO31 = dict(durations={4, 6, 8}, resolutions={'720p', '1080p', '4k'})
VEO_ACCEPTS = {'veo-3.1-generate-001': _VEO31, 'veo-3.1-fast-generate-001': _VEO31,
               'veo-3.1-generate-preview': _VEO31, 'veo-3.1-fast-generate-preview': _VEO31}
VEO_PARAMETERS = {'aspectRatio', 'durationSeconds', 'resolution', 'negativePrompt', 'personGeneration', 'sampleCount',
                  'enhancePrompt', 'numberOfVideos'}

class VeoServer(StandIn):
    "Gemini API: POST :predictLongRunning, GET /v1beta/{operation}, GET the sample's file URI (with the key)."
    key_header, needs_key_to_download = 'x-goog-api-key', True
    submit_route, poll_route = r'/v1beta/models/([^/:]+):predictLongRunning', r'/v1beta/(models/[^/]+/operations/[^/]+)'
    reads = {'/v1beta/models': {'models': [{'name': f'models/{m}', 'supportedGenerationMethods': ['predictLongRunning']}
                                           for m in ('veo-3.1-generate-001', 'veo-3.1-fast-generate-001')]}}
    def is_download(self, method, p): return method == 'GET' and p.startswith('/v1beta/files/')
    def check_submit(self, req, path, headers):
        self.check_json(headers)
        model = re.fullmatch(self.submit_route, path).group(1)
        need(model in VEO_ACCEPTS, f'models/{model} is not found for API version v1beta', 404)
        known_fields(req, {'instances', 'parameters'}, 'the request')
        need(isinstance(req.get('instances'), list) and len(req['instances']) == 1, 'instances: exactly one instance')
        inst, params = req['instances'][0], req.get('parameters') or {}
        known_fields(inst, {'prompt', 'image', 'lastFrame', 'referenceImages'}, 'instances[0]')
        need(inst.get('prompt'), 'instances[0].prompt is required')
        img = inst.get('image') or {}
        known_fields(img, {'bytesBase64Encoded', 'mimeType'}, 'instances[0].image')
        image_bytes(base64.b64decode(img.get('bytesBase64Encoded') or ''), img.get('mimeType'), 'instances[0].image')
        known_fields(params, VEO_PARAMETERS, 'parameters')  # `seed` among them: the Gemini API does not take it
        spec, d, res = VEO_ACCEPTS[model], params.get('durationSeconds', 8), params.get('resolution', '720p')
        need(d in spec['durations'], f'durationSeconds {d} is not supported by {model}')
        need(res in spec['resolutions'], f'resolution {res} is not supported by {model}')
        need(res == '720p' or d == 8, f'{res} needs durationSeconds 8')
        need(params.get('aspectRatio', '16:9') in ('16:9', '9:16'), 'aspectRatio must be 16:9 or 9:16')
    def invalid(self, msg): return {'error': {'code': 400, 'message': msg, 'status': 'INVALID_ARGUMENT'}}
    def op(self, i): return f"models/{self.jobs[i]['path'].split('/')[-1].split(':')[0]}/operations/{i}"
    def job_of(self, path): return path.split('?')[0].rsplit('/', 1)[1]
    def submitted(self, i): return dict(name=self.op(i))
    def running(self, i): return dict(name=self.op(i))
    def completed(self, i):
        uri = f'{self.url}/v1beta/files/{i}:download?alt=media'
        return dict(name=self.op(i), done=True, response={'@type': 'type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse',
                                                          'generateVideoResponse': {'generatedSamples': [{'video': {'uri': uri}}]}})
    def failed(self, i): return dict(name=self.op(i), done=True, error={'code': 13, 'message': 'Video generation backend unavailable'})
    def policy_error(self):
        return {'error': {'code': 400, 'status': 'INVALID_ARGUMENT',
                          'message': "The input image violates the usage guidelines (safety)."}}


LUMA_FIELDS = {'model', 'prompt', 'aspect_ratio', 'callback_url', 'concepts', 'duration', 'generation_type', 'keyframes',
               'loop', 'resolution'}

class LumaServer(StandIn):
    "Luma Dream Machine: POST /generations/video, GET /generations/{id}; fetches keyframes.frame0.url like Luma does."
    submit_route, poll_route = r'/dream-machine/v1/generations/video', r'/dream-machine/v1/generations/([^/]+)'
    reads = {'/dream-machine/v1/credits': {'credit_balance': 0.}}
    uses_cdn, fetched = True, None
    def check_submit(self, req, path, headers):
        self.check_json(headers)
        known_fields(req, LUMA_FIELDS, 'the request')
        need(req.get('model') in ('ray-2', 'ray-flash-2'), f"model must be ray-2 or ray-flash-2, not {req.get('model')!r}")
        need(req.get('prompt'), 'prompt is required')
        need(req.get('duration', '5s') in ('5s', '9s'), f"duration {req.get('duration')!r} is not supported")
        need(req.get('resolution', '720p') in ('540p', '720p', '1080p', '4k'), f"resolution {req.get('resolution')!r} is not supported")
        need(req.get('aspect_ratio', '16:9') in ('1:1', '16:9', '9:16', '4:3', '3:4', '21:9', '9:21'), 'unsupported aspect_ratio')
        frame0 = (req.get('keyframes') or {}).get('frame0') or {}
        need(frame0.get('type') == 'image' and str(frame0.get('url', '')).startswith('http'), 'keyframes.frame0 must be an image URL')
        try:
            with urllib.request.urlopen(frame0['url'], timeout=10) as r: self.fetched = r.read()
        except Exception as e: raise Refused(f'could not fetch keyframes.frame0.url: {e}')
        image_bytes(self.fetched, None, 'keyframes.frame0')
    def invalid(self, msg): return {'detail': msg}
    def submitted(self, i): return dict(id=i, state='queued', assets=None, generation_type='video')
    def running(self, i): return dict(id=i, state='dreaming', assets=None, generation_type='video')
    def completed(self, i): return dict(id=i, state='completed', assets={'video': self.file_url(i)}, generation_type='video')
    def failed(self, i): return dict(id=i, state='failed', failure_reason='Generation failed: upstream GPU error')
    def policy_error(self): return {'detail': 'Prompt not allowed because it failed moderation'}


# Runway's image_to_video for gen4_turbo (runwayml 5.24.0 `Gen4Turbo` params; durations 2-10 s): checked 2026-12-04.
_GEN4 = dict(ratios={'1280:720', '720:1280', '1104:832', '832:1104', '960:960', '1584:672'}, durations=set(range(2, 11)))
RUNWAY_ACCEPTS = {'gen4_turbo': _GEN4, 'gen4.5': _GEN4}

class RunwayServer(StandIn):
    "Runway: POST /v1/image_to_video (needs X-Runway-Version), GET /v1/tasks/{id}; outputs on a CDN."
    submit_route, poll_route, uses_cdn = r'/v1/image_to_video', r'/v1/tasks/([^/]+)', True
    reads = {'/v1/organization': {'creditBalance': 0, 'tier': {'maxMonthlyCreditSpend': 0, 'models': {}}, 'usage': {'models': {}}}}
    def authorised(self, headers): return super().authorised(headers) and bool(headers.get('X-Runway-Version'))
    def check_submit(self, req, path, headers):
        self.check_json(headers)
        known_fields(req, {'model', 'promptImage', 'promptText', 'ratio', 'duration', 'seed', 'contentModeration'}, 'the request')
        spec = RUNWAY_ACCEPTS.get(req.get('model'))
        need(spec, f"model: Invalid enum value {req.get('model')!r}")
        need(req.get('promptText'), 'promptText is required')
        need(len(req['promptText']) <= 1000, 'promptText: at most 1000 characters')
        img = req.get('promptImage')
        need(isinstance(img, str), 'promptImage is required')
        if not img.startswith('https://'): data_uri_image(img, 'promptImage')
        need(req.get('ratio') in spec['ratios'], f"ratio {req.get('ratio')!r} is not supported by {req['model']}")
        need(req.get('duration', 10) in spec['durations'], f"duration {req.get('duration')!r} is not supported by {req['model']}")
        need('seed' not in req or (isinstance(req['seed'], int) and 0 <= req['seed'] <= 4294967295), 'seed: 0 to 4294967295')
    def submitted(self, i): return dict(id=i)
    def running(self, i): return dict(id=i, status='RUNNING', progress=0.5, createdAt='2026-12-04T00:00:00Z')
    def completed(self, i): return dict(id=i, status='SUCCEEDED', output=[self.file_url(i)], createdAt='2026-12-04T00:00:00Z')
    def failed(self, i): return dict(id=i, status='FAILED', failure='An unexpected error occurred.', failureCode='INTERNAL.BAD_OUTPUT',
                                     createdAt='2026-12-04T00:00:00Z')
    def ended(self, i, status): return dict(id=i, status=status.upper(), createdAt='2026-12-04T00:00:00Z')
    def policy_error(self): return {'error': 'Input rejected: SAFETY.INPUT.TEXT content moderation'}


# WaveSpeed model inputs (each model's API page on wavespeed.ai/docs; not all confirmed: see 22_wavespeed).
_WAN = lambda durations: dict(fields={'image', 'prompt', 'negative_prompt', 'duration', 'seed'}, durations=durations)
WAVESPEED_ACCEPTS = {'wavespeed-ai/wan-2.1/i2v-480p': _WAN({5, 10}), 'wavespeed-ai/wan-2.1/i2v-720p': _WAN({5, 10}),
                     'wavespeed-ai/wan-2.2/i2v-480p': _WAN({5, 8}), 'wavespeed-ai/wan-2.2/i2v-720p': _WAN({5, 8}),
                     'google/veo3.1/image-to-video': dict(fields={'image', 'prompt', 'negative_prompt', 'duration', 'seed',
                                                                  'resolution', 'aspect_ratio', 'generate_audio'}, durations={4, 6, 8})}

class WaveSpeedServer(StandIn):
    "WaveSpeed: POST /api/v3/{model path}, GET /api/v3/predictions/{id}/result; outputs on a CDN."
    submit_route, poll_route, uses_cdn = r'/api/v3/(?!predictions/).+', r'/api/v3/predictions/([^/]+)/result', True
    reads = {'/api/v3/balance': {'code': 200, 'message': 'success', 'data': {'balance': 0.}}}
    def kind(self, method, path):
        return 'poll' if method == 'GET' and re.fullmatch(self.poll_route, path.split('?')[0]) else super().kind(method, path)
    def check_submit(self, req, path, headers):
        self.check_json(headers)
        model = path.removeprefix('/api/v3/')
        spec = WAVESPEED_ACCEPTS.get(model)
        need(spec, f'model {model} not found', 404)
        known_fields(req, spec['fields'] | {'enable_sync_mode'}, 'the input')
        need(req.get('prompt'), 'prompt is required')
        img = req.get('image')
        need(isinstance(img, str) and img, 'image is required')
        if not img.startswith('https://'): data_uri_image(img, 'image')
        need(req.get('duration', min(spec['durations'])) in spec['durations'], f"duration {req.get('duration')!r} is not supported")
    def invalid(self, msg): return dict(code=400, message=msg)
    def wrap(self, data): return dict(code=200, message='success', data=data)
    def submitted(self, i): return self.wrap(dict(id=i, status='created', urls={'get': f'{self.url}/api/v3/predictions/{i}/result'}))
    def running(self, i): return self.wrap(dict(id=i, status='processing', outputs=[]))
    def completed(self, i): return self.wrap(dict(id=i, status='completed', outputs=[self.file_url(i)]))
    def failed(self, i): return self.wrap(dict(id=i, status='failed', outputs=[], error='worker crashed while decoding'))
    def ended(self, i, status): return self.wrap(dict(id=i, status=status, outputs=[], error=f'prediction {status}'))
    def policy_error(self): return dict(code=400, message='prompt flagged by content moderation')
