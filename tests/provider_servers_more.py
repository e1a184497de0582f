"""Strict local stand-ins for Kling, BytePlus ModelArk (Seedance) and MiniMax (Hailuo): threaded HTTP servers on
127.0.0.1 that refuse what the real services refuse (wrong auth, wrong content type, missing prompt or image, unknown
fields, options the model does not take) and serve videos from a download route that refuses any credentials.
The prompt is required here although the real APIs would run an image alone: the benchmark always sends one, so a
request without it is our bug."""
import base64, hashlib, hmac, json, re, threading, time
from provider_servers import LocalServer
from urllib.parse import parse_qs, urlsplit




class Bad(Exception):
    "A request the provider refuses: (HTTP code, body)."


def png_data(s:str, prefix:bool)->bytes:
    "The PNG bytes of a base64 image (with or without a `data:image/png;base64,` prefix), or `Bad`."
    if prefix != s.startswith('data:'): raise Bad('image: a data: prefix is ' + ('required' if prefix else 'not allowed'))
    raw = base64.b64decode(s.split(',', 1)[1] if prefix else s, validate=True)
    if not raw.startswith(b'\x89PNG'): raise Bad('image: not a PNG')
    return raw


class Provider(LocalServer):
    """One provider's API. Knobs: `faults[kind]` (answers served first), `outcome` ('ok', 'fail', 'policy', 'never'),
    `block` (the submission is refused by moderation), `job_seconds` (a job runs at least that long)."""
    submit_route = poll_route = None

    def __init__(self, key:str, mp4:bytes, polls_to_finish:int=2, secret:str|None=None):
        self.key, self.secret, self.mp4, self.polls_to_finish = key, secret, mp4, polls_to_finish
        self.jobs, self.faults = {}, {'submit': [], 'poll': [], 'download': []}
        self.outcome, self.block, self.job_seconds, self.lock = 'ok', False, 0., threading.Lock()
        self.listen()

    def file_url(self, job_id): return f'{self.url}/files/{job_id}.mp4'

    def kind(self, method, path):
        p = urlsplit(path).path
        if method == 'GET' and p.startswith('/files/'): return 'download'
        if method == 'POST' and re.fullmatch(self.submit_route, p): return 'submit'
        if method == 'GET' and re.fullmatch(self.poll_route, p): return 'poll'

    def dispatch(self, method, path, headers, body):
        kind = self.kind(method, path)
        self.seen.append(dict(kind=kind, method=method, path=path, headers=headers, body=body, t=time.monotonic()))
        if kind in self.faults and self.faults[kind]:
            code, out, hdrs = self.faults[kind].pop(0)
            return code, {'Content-Type': 'application/json', **hdrs}, json.dumps(out).encode()
        if kind == 'download': return self.video(headers)
        if kind is None: return self.json(404, {'error': f'no route {method} {path}'})
        if (refusal := self.auth_error(headers)): return refusal
        if kind == 'submit': return self.create(headers, body)
        return self.status(self.job_id(path))

    def video(self, headers):
        "A CDN: a request that carries credentials is refused (a key must never travel there)."
        if headers.get('Authorization') or headers.get('authorization'): return self.json(403, {'error': 'credentials sent to the CDN'})
        return 200, {'Content-Type': 'video/mp4'}, self.mp4

    def create(self, headers, body):
        if self.block: return self.policy_refusal()
        try:
            if headers.get('Content-Type', '').split(';')[0] != 'application/json': raise Bad('Content-Type must be application/json')
            try: req = json.loads(body)
            except ValueError: raise Bad('the body is not JSON') from None
            self.validate(req)
        except Bad as e: return self.invalid(str(e))
        with self.lock:
            job_id = f'job{len(self.jobs) + 1}'
            self.jobs[job_id] = dict(polls=0, request=req, t=time.monotonic())
        return self.submitted(job_id)

    def state(self, job_id):
        "'running', 'ok', 'fail' or 'policy' for this poll of `job_id` (None: no such job)."
        job = self.jobs.get(job_id)
        if job is None: return None
        job['polls'] += 1
        slow = time.monotonic() - job['t'] < self.job_seconds
        return 'running' if self.outcome == 'never' or slow or job['polls'] < self.polls_to_finish else self.outcome

    def check_fields(self, req, allowed, required):
        if (unknown := set(req) - set(allowed)): raise Bad(f'unknown field(s): {", ".join(sorted(unknown))}')
        if (missing := [f for f in required if not req.get(f)]): raise Bad(f'missing field(s): {", ".join(missing)}')


def jwt_claims(token:str, secret:str)->dict:
    "The claims of an HS256 JWT signed with `secret`, or `Bad` (an independent check of what Kling verifies)."
    try: header, payload, sig = token.split('.')
    except ValueError: raise Bad('not a JWT') from None
    unpad = lambda s: base64.urlsafe_b64decode(s + '=' * (-len(s) % 4))
    if json.loads(unpad(header)).get('alg') != 'HS256': raise Bad('alg must be HS256')
    if not hmac.compare_digest(unpad(sig), hmac.new(secret.encode(), f'{header}.{payload}'.encode(), hashlib.sha256).digest()):
        raise Bad('bad signature')
    return json.loads(unpad(payload))


class KlingServer(Provider):
    "Kling: POST /v1/videos/image2video, GET /v1/videos/image2video/{id}; a JWT from the access and secret keys."
    submit_route, poll_route = r'/v1/videos/image2video', r'/v1/videos/image2video/([^/]+)'
    models = {'kling-v2-1': ['std', 'pro'], 'kling-v2-1-master': ['pro'], 'kling-v2-5-turbo': ['std', 'pro'], 'kling-v2-6': ['pro']}
    fields = {'model_name', 'image', 'image_tail', 'prompt', 'negative_prompt', 'cfg_scale', 'mode', 'static_mask',
              'dynamic_masks', 'camera_control', 'duration', 'callback_url', 'external_task_id', 'sound', 'watermark_info'}

    def err(self, http, code, msg): return self.json(http, {'code': code, 'message': msg, 'request_id': 'req-1'})
    def job_id(self, path): return re.fullmatch(self.poll_route, urlsplit(path).path).group(1)

    def auth_error(self, headers):
        auth = headers.get('Authorization', '')
        if not auth.startswith('Bearer '): return self.err(401, 1001, 'Authorization is empty')
        try: claims = jwt_claims(auth[7:], self.secret)
        except (Bad, ValueError): return self.err(401, 1002, f'Authorization is invalid: {auth[7:]}')
        if claims.get('iss') != self.key: return self.err(401, 1000, f'Authentication failed: unknown access key {claims.get("iss")}')
        now = time.time()
        if claims.get('nbf', now) > now: return self.err(401, 1003, 'Authorization is not yet valid')
        if claims.get('exp', 0) < now or claims['exp'] - now > 1800 + 5: return self.err(401, 1004, 'Authorization has expired')

    def validate(self, req):
        self.check_fields(req, self.fields, ['model_name', 'image', 'prompt'])
        if req['model_name'] not in self.models: raise Bad(f'model_name {req["model_name"]!r} is not supported')
        png_data(req['image'], prefix=False)
        if req.get('duration', '5') not in ('5', '10'): raise Bad('duration must be "5" or "10"')
        if req.get('mode', 'std') not in self.models[req['model_name']]: raise Bad(f'mode {req.get("mode", "std")!r} is not supported by {req["model_name"]}')

    def invalid(self, msg): return self.err(400, 1201, f'Invalid request parameters: {msg}')
    def policy_refusal(self): return self.err(400, 1301, 'Trigger the content security policy of the platform')
    def task(self, i, status, **kw): return self.json(200, {'code': 0, 'message': 'SUCCEED', 'request_id': 'req-2',
                                                          'data': dict(task_id=i, task_status=status, created_at=1, updated_at=2, **kw)})
    def submitted(self, i): return self.task(i, 'submitted')

    def status(self, i):
        state = self.state(i)
        if state is None: return self.err(404, 1203, f'task {i} not found')
        if state == 'running': return self.task(i, 'processing')
        if state == 'fail': return self.task(i, 'failed', task_status_msg='Video generation failed: internal GPU error')
        if state == 'policy': return self.task(i, 'failed', task_status_msg='Failure to pass the risk control system')
        return self.task(i, 'succeed', task_result={'videos': [{'id': 'v1', 'url': self.file_url(i), 'duration': '5'}]})


class ArkServer(Provider):
    "BytePlus ModelArk: POST /api/v3/contents/generations/tasks, GET /api/v3/contents/generations/tasks/{id}."
    submit_route, poll_route = r'/api/v3/contents/generations/tasks', r'/api/v3/contents/generations/tasks/([^/]+)'
    models = {'seedance-1-0-pro-250528': (range(2, 13), False), 'seedance-1-0-pro-fast-251015': (range(2, 13), False),
              'seedance-1-0-lite-i2v-250428': (range(2, 13), False), 'seedance-1-5-pro-251215': (range(4, 13), True)}
    fields = {'model', 'content', 'safety_identifier', 'callback_url', 'return_last_frame', 'service_tier',
              'execution_expires_after', 'priority', 'generate_audio', 'draft', 'camera_fixed', 'watermark', 'seed',
              'resolution', 'ratio', 'duration', 'frames', 'output_format', 'omni_reference_task_type'}

    def err(self, http, code, msg): return self.json(http, {'error': {'code': code, 'message': msg, 'type': 'BadRequest'}})
    def job_id(self, path): return re.fullmatch(self.poll_route, urlsplit(path).path).group(1)

    def auth_error(self, headers):
        if headers.get('Authorization') != f'Bearer {self.key}':
            return self.err(401, 'AuthenticationError', f'The API key {headers.get("Authorization", "")[7:]} format is incorrect or invalid.')

    def validate(self, req):
        req = {k: v for k, v in req.items() if v is not None}  # the official SDK sends unset options as null
        self.check_fields(req, self.fields, ['model', 'content'])
        if req['model'] not in self.models: raise Bad(f'The model {req["model"]} does not exist or you do not have access to it.')
        durations, audio = self.models[req['model']]
        texts = [c for c in req['content'] if c.get('type') == 'text' and c.get('text', '').strip()]
        frames = [c for c in req['content'] if c.get('type') == 'image_url' and c.get('role', 'first_frame') == 'first_frame']
        if len(texts) != 1: raise Bad('content must hold one text item (the prompt)')
        if len(frames) != 1: raise Bad('content must hold one image_url item with role first_frame')
        url = frames[0]['image_url']['url']
        if not url.startswith('https://'): png_data(url, prefix=True)
        if 'duration' in req and req['duration'] not in durations: raise Bad(f'duration {req["duration"]} is not supported by {req["model"]}')
        if req.get('resolution', '720p') not in ('480p', '720p', '1080p'): raise Bad(f'resolution {req["resolution"]} is invalid')
        if req.get('ratio', 'adaptive') not in ('16:9', '4:3', '1:1', '3:4', '9:16', '21:9', 'adaptive'): raise Bad('ratio is invalid')
        if req.get('generate_audio') and not audio: raise Bad(f'generate_audio is not supported by {req["model"]}')

    def invalid(self, msg): return self.err(400, 'InvalidParameter', msg)
    def policy_refusal(self): return self.err(400, 'InputImageSensitiveContentDetected', 'The request failed because the input image may contain sensitive information.')
    def submitted(self, i): return self.json(200, {'id': i})
    def task(self, i, status, **kw): return self.json(200, dict(id=i, model='seedance-1-0-pro-250528', status=status, created_at=1, updated_at=2, **kw))

    def status(self, i):
        state = self.state(i)
        if state is None: return self.err(404, 'ResourceNotFound', f'task {i} not found')
        if state == 'running': return self.task(i, 'running')
        if state == 'fail': return self.task(i, 'failed', error={'code': 'InternalServiceError', 'message': 'The service encountered an unexpected internal error.'})
        if state == 'policy': return self.task(i, 'failed', error={'code': 'OutputVideoSensitiveContentDetected', 'message': 'The output video may contain sensitive information.'})
        return self.task(i, 'succeeded', content={'video_url': self.file_url(i)}, usage={'completion_tokens': 108900, 'total_tokens': 108900},
                         duration=5, ratio='16:9', resolution='720p', framespersecond=24, seed=7)


class MiniMaxServer(Provider):
    "MiniMax: POST /v1/video_generation, GET /v1/query/video_generation?task_id=, GET /v1/files/retrieve?file_id=."
    submit_route, poll_route = r'/v1/video_generation', r'/v1/query/video_generation|/v1/files/retrieve'
    models = {'MiniMax-Hailuo-2.3': {'768P': [6, 10], '1080P': [6]}, 'MiniMax-Hailuo-2.3-Fast': {'768P': [6, 10], '1080P': [6]},
              'MiniMax-Hailuo-02': {'512P': [6, 10], '768P': [6, 10], '1080P': [6]}}
    fields = {'model', 'prompt', 'first_frame_image', 'last_frame_image', 'duration', 'resolution', 'prompt_optimizer',
              'fast_pretreatment', 'callback_url', 'aigc_watermark'}

    def base(self, code, msg, **kw): return self.json(200, {**kw, 'base_resp': {'status_code': code, 'status_msg': msg}})

    def auth_error(self, headers):
        if headers.get('Authorization') != f'Bearer {self.key}':
            return self.base(1004, f'login fail: Please carry the API secret key in the Authorization field ({headers.get("Authorization", "")[7:]})')

    def validate(self, req):
        self.check_fields(req, self.fields, ['model', 'prompt', 'first_frame_image'])
        spec = self.models.get(req['model'])
        if spec is None: raise Bad(f'invalid params, model {req["model"]} not supported')
        png_data(req['first_frame_image'], prefix=True)
        res = req.get('resolution', '768P')
        if res not in spec or req.get('duration', 6) not in spec[res]: raise Bad(f'invalid params, {req["model"]} has no {req.get("duration", 6)} s at {res}')

    def invalid(self, msg): return self.base(2013, msg)
    def policy_refusal(self): return self.base(1026, 'input new_sensitive')
    def submitted(self, i): return self.base(0, 'success', task_id=i)
    def job_id(self, path): return path

    def status(self, path):
        parts = urlsplit(path)
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == '/v1/files/retrieve':
            i = q.get('file_id', '').removeprefix('file-')
            if i not in self.jobs: return self.base(1000, f'file {q.get("file_id")} not found')
            return self.base(0, 'success', file={'file_id': q['file_id'], 'bytes': len(self.mp4), 'created_at': 1,
                                                  'filename': 'output.mp4', 'purpose': 'video_generation', 'download_url': self.file_url(i)})
        i = q.get('task_id', '')
        state = self.state(i)
        if state is None: return self.json(404, {'base_resp': {'status_code': 1000, 'status_msg': f'task {i} not found'}})
        if state == 'running': return self.base(0, 'success', task_id=i, status='Processing')
        if state == 'fail': return self.base(1000, 'video generation failed: unknown error', task_id=i, status='Fail')
        if state == 'policy': return self.base(1027, 'output new_sensitive', task_id=i, status='Fail')
        return self.base(0, 'success', task_id=i, status='Success', file_id=f'file-{i}', video_width=1366, video_height=768)

    def kind(self, method, path):
        k = super().kind(method, path)
        return 'file' if k == 'poll' and urlsplit(path).path == '/v1/files/retrieve' else k
