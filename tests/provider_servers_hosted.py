"""Stand-ins for DashScope, fal and Replicate: threaded HTTP servers on 127.0.0.1 that hold requests to the documented
protocols (auth, content type, required prompt and image, no unknown fields) and serve videos from a download route
that refuses any request carrying the provider key. Sources are cited in nbs/22_dashscope, 22_fal, 22_replicate."""
import base64, json, re, threading, time
from provider_servers import LocalServer




class Reject(Exception):
    def __init__(self, code, body): self.code, self.body = code, body


def is_png_data_uri(value)->bool:
    "Whether `value` is a `data:image/png;base64,` URI holding PNG bytes."
    if not isinstance(value, str) or not value.startswith('data:image/png;base64,'): return False
    try: return base64.b64decode(value.split(',', 1)[1], validate=True).startswith(b'\x89PNG')
    except ValueError: return False


class HostedStandIn(LocalServer):
    "Shared machinery. Knobs: `faults[kind]` (answers served first), `outcome` ('ok', 'fail', 'never'), `job_seconds`."
    def __init__(self, key:str, mp4:bytes, polls_to_finish:int=2):
        self.key, self.mp4, self.polls_to_finish = key, mp4, polls_to_finish
        self.jobs, self.faults = {}, {'submit': [], 'poll': [], 'download': []}
        self.outcome, self.job_seconds, self.lock = 'ok', 0., threading.Lock()
        self.listen()

    def dispatch(self, method, path, headers, body):
        p = path.split('?')[0]
        kind, arg = self.route(method, p)
        self.seen.append(dict(kind=kind, method=method, path=path, headers=headers, body=body, t=time.monotonic()))
        if kind in self.faults and self.faults[kind]:
            code, out, hdrs = self.faults[kind].pop(0)
            return code, {'Content-Type': 'application/json', **hdrs}, json.dumps(out).encode()
        try:
            if kind is None: raise Reject(404, self.error(404, f'no route {method} {p}'))
            if kind == 'download': return self.download(headers, arg)
            if not self.authorised(headers): raise Reject(401, self.error(401, 'invalid or missing credentials'))
            if kind == 'submit': return self.json(*self.create(headers, body, arg))
            if kind == 'read': return self.json(200, arg)  # a free authenticated read (`vmevalkit models --check`)
            return self.json(*self.poll(kind, arg))
        except Reject as r: return self.json(r.code, r.body)

    def download(self, headers, job_id):
        "The video: refused to any request that carries the key (a CDN must never see it)."
        if any(self.key in str(v) for v in headers.values()): raise Reject(403, {'error': 'provider key sent to the CDN'})
        if job_id not in self.jobs: raise Reject(404, {'error': 'no such file'})
        return 200, {'Content-Type': 'video/mp4'}, self.mp4

    def create(self, headers, body, arg):
        if not headers.get('Content-Type', '').startswith('application/json'):
            raise Reject(400, self.error(400, 'Content-Type must be application/json'))
        try: req = json.loads(body)
        except ValueError: raise Reject(400, self.error(400, 'body is not JSON'))
        self.check_request(req, arg, headers)
        with self.lock:
            job_id = f'job{len(self.jobs) + 1}'
            self.jobs[job_id] = dict(polls=0, request=req, t=time.monotonic(), model=arg)
        return 200, self.submitted(job_id)

    def state(self, job_id):
        "'running', 'failed' or 'done' for a known job (each poll counts)."
        job = self.jobs[job_id]
        job['polls'] += 1
        slow = time.monotonic() - job['t'] < self.job_seconds
        if self.outcome == 'never' or slow or job['polls'] < self.polls_to_finish: return 'running'
        return 'failed' if self.outcome == 'fail' else 'done'

    def file_url(self, job_id): return f'{self.url}/files/{job_id}.mp4'

    @staticmethod
    def unknown(given, allowed): return sorted(set(given) - set(allowed))


class DashScopeServer(HostedStandIn):
    "DashScope: POST /api/v1/services/aigc/video-generation/video-synthesis (async only), GET /api/v1/tasks/{id}."
    MODELS = {'wan2.7-i2v': 'media', 'wan2.6-i2v': 'img_url', 'wan2.6-i2v-flash': 'img_url', 'wan2.5-i2v-preview': 'img_url',
              'wan2.2-i2v-plus': 'img_url', 'wan2.1-i2v-plus': 'img_url', 'wan2.1-i2v-turbo': 'img_url'}
    INPUT = {'prompt', 'img_url', 'media', 'negative_prompt', 'audio_url', 'template',
             'extend_prompt', 'function'}  # the official SDK sends these two in every request
    PARAMETERS = {'resolution', 'duration', 'seed', 'prompt_extend', 'watermark', 'audio', 'shot_type', 'size'}

    def route(self, method, p):
        if method == 'POST' and p == '/api/v1/services/aigc/video-generation/video-synthesis': return 'submit', None
        if method == 'GET' and (m := re.fullmatch(r'/api/v1/tasks/([^/]+)', p)): return 'poll', m.group(1)
        if method == 'GET' and (m := re.fullmatch(r'/files/([^/]+)\.mp4', p)): return 'download', m.group(1)
        return None, None

    def error(self, code, msg):
        return dict(request_id='req-1', code={401: 'InvalidApiKey', 404: 'NotFound'}.get(code, 'InvalidParameter'), message=msg)
    def authorised(self, headers): return headers.get('Authorization') == f'Bearer {self.key}'

    def check_request(self, req, _, headers):
        bad = lambda msg: Reject(400, self.error(400, msg))
        if headers.get('X-DashScope-Async') != 'enable':
            raise Reject(403, dict(request_id='req-1', code='AccessDenied', message='current user api does not support synchronous calls'))
        if req.get('model') not in self.MODELS: raise bad(f"Model not exist: {req.get('model')!r}")
        if extra := self.unknown(req, {'model', 'input', 'parameters'}): raise bad(f'unknown fields {extra}')
        inp, params = req.get('input') or {}, req.get('parameters') or {}
        if extra := self.unknown(inp, self.INPUT) + self.unknown(params, self.PARAMETERS): raise bad(f'unknown fields {extra}')
        if not str(inp.get('prompt') or '').strip(): raise bad('input.prompt is required')  # stricter than the service: a run needs its instruction
        if self.MODELS[req['model']] == 'media':
            frames = [m.get('url') for m in inp.get('media') or [] if m.get('type') == 'first_frame']
            if len(frames) != 1 or not is_png_data_uri(frames[0]): raise bad('input.media needs one first_frame image')
        elif not is_png_data_uri(inp.get('img_url')): raise bad('input.img_url is required (a URL or a base64 data URI)')

    def submitted(self, i): return dict(request_id='req-1', output=dict(task_id=i, task_status='PENDING'))

    def poll(self, kind, task_id):
        if task_id not in self.jobs: return 200, dict(request_id='req-2', output=dict(task_id=task_id, task_status='UNKNOWN'))
        state = self.state(task_id)
        out = dict(task_id=task_id, task_status={'running': 'RUNNING', 'failed': 'FAILED', 'done': 'SUCCEEDED'}[state])
        if state == 'failed': out.update(code='InternalError.Algo', message='video generation backend crashed')
        if state == 'done': out.update(video_url=self.file_url(task_id))
        return 200, dict(request_id='req-2', output=out, usage=dict(duration=5, video_count=1) if state == 'done' else None)


class FalServer(HostedStandIn):
    "fal queue: POST /{model id}, GET /{owner}/{app}/requests/{id}/status, GET /{owner}/{app}/requests/{id}."
    IMAGE = {'fal-ai/kling-video/v2.5-turbo/standard/image-to-video': 'image_url', 'fal-ai/kling-video/v2.1/standard/image-to-video': 'image_url',
             'fal-ai/kling-video/v4/image-to-video': 'start_image_url', 'fal-ai/veo3.1/fast/image-to-video': 'image_url',
             'bytedance/seedance-2.0/image-to-video': 'image_url'}
    FIELDS = {'prompt', 'duration', 'negative_prompt', 'cfg_scale', 'resolution', 'aspect_ratio', 'generate_audio', 'seed'}

    def route(self, method, p):
        if method == 'GET' and (m := re.fullmatch(r'/files/([^/]+)\.mp4', p)): return 'download', m.group(1)
        if method == 'GET' and (m := re.fullmatch(r'/([^/]+/[^/]+)/requests/([^/]+)/status', p)): return 'poll', m.group(2)
        if method == 'GET' and (m := re.fullmatch(r'/([^/]+/[^/]+)/requests/([^/]+)', p)): return 'result', m.group(2)
        if method == 'POST' and p[1:] in self.IMAGE: return 'submit', p[1:]
        return None, None

    def error(self, code, msg): return dict(detail=msg)
    def authorised(self, headers): return headers.get('Authorization') == f'Key {self.key}'

    def check_request(self, req, model, headers):
        img = self.IMAGE[model]
        missing = [dict(loc=['body', f], msg='field required', type='value_error.missing')
                   for f in ('prompt', img) if not req.get(f)]
        extra = [dict(loc=['body', f], msg='extra fields not permitted', type='value_error.extra')
                 for f in self.unknown(req, self.FIELDS | {img})]
        if missing or extra: raise Reject(422, dict(detail=missing + extra))
        if not is_png_data_uri(req[img]): raise Reject(422, dict(detail=[dict(loc=['body', img], msg='not an image')]))

    def urls(self, model, i):
        base = f"{self.url}/{'/'.join(model.split('/')[:2])}/requests/{i}"
        return dict(request_id=i, response_url=base, status_url=base + '/status', cancel_url=base + '/cancel')

    def submitted(self, i): return dict(status='IN_QUEUE', queue_position=0, **self.urls(self.jobs[i]['model'], i))

    def poll(self, kind, i):
        if i not in self.jobs: raise Reject(404, dict(detail='Request not found'))
        job = self.jobs[i]
        if kind == 'result':
            if job.get('state') == 'failed': raise Reject(500, dict(detail='runner crashed while decoding', error_type='runner_error'))
            if job.get('state') != 'done': raise Reject(400, dict(detail='Request is still in progress'))
            return 200, dict(video=dict(url=self.file_url(i), content_type='video/mp4'), seed=1)
        job['state'] = state = self.state(i)
        if state == 'running': return 200, dict(status='IN_PROGRESS', logs=[], **self.urls(job['model'], i))
        done = dict(status='COMPLETED', logs=[], metrics={}, **self.urls(job['model'], i))
        if state == 'failed': done.update(error='runner crashed while decoding', error_type='runner_error')
        return 200, done


class ReplicateServer(HostedStandIn):
    "Replicate: POST /v1/models/{owner}/{name}/predictions, GET /v1/predictions/{id}."
    IMAGE = {'kwaivgi/kling-v2.1': 'start_image', 'google/veo-3.1-fast': 'image', 'wan-video/wan-2.5-i2v': 'image',
             'bytedance/seedance-1-pro': 'image', 'minimax/hailuo-02': 'first_frame_image'}
    FIELDS = {'prompt', 'duration', 'resolution', 'aspect_ratio', 'seed', 'negative_prompt', 'generate_audio'}

    def route(self, method, p):
        if method == 'GET' and (m := re.fullmatch(r'/files/([^/]+)\.mp4', p)): return 'download', m.group(1)
        if method == 'GET' and (m := re.fullmatch(r'/v1/predictions/([^/]+)', p)): return 'poll', m.group(1)
        if method == 'GET' and p == '/v1/account': return 'read', dict(type='user', username='stand-in', name='Stand-in')
        if method == 'POST' and (m := re.fullmatch(r'/v1/models/([^/]+/[^/]+)/predictions', p)) and m.group(1) in self.IMAGE:
            return 'submit', m.group(1)
        return None, None

    def error(self, code, msg): return dict(title={401: 'Unauthenticated', 404: 'Not found'}.get(code, 'Invalid input'), detail=msg, status=code)
    def authorised(self, headers): return headers.get('Authorization') == f'Bearer {self.key}'

    def check_request(self, req, model, headers):
        bad = lambda msg: Reject(422, self.error(422, msg))
        if extra := self.unknown(req, {'input', 'webhook', 'webhook_completed', 'webhook_events_filter', 'stream'}):
            raise bad(f'unknown fields {extra}')
        inp, img = req.get('input') or {}, self.IMAGE[model]
        if extra := self.unknown(inp, self.FIELDS | {img}): raise bad(f'input: Additional property {extra[0]} is not allowed')
        if not inp.get('prompt'): raise bad('input: prompt is required')
        if not is_png_data_uri(inp.get(img)): raise bad(f'input: {img} is required')

    def prediction(self, i, status, **kw):
        job = self.jobs[i]
        return dict(id=i, model=job['model'], version='hidden', status=status, input=job['request']['input'], output=None,
                    error=None, logs='', metrics={}, created_at='2026-12-04T00:00:00Z', data_removed=False,
                    urls=dict(get=f'{self.url}/v1/predictions/{i}', cancel=f'{self.url}/v1/predictions/{i}/cancel'), **kw)

    def submitted(self, i): return self.prediction(i, 'starting')

    def poll(self, kind, i):
        if i not in self.jobs: raise Reject(404, self.error(404, 'The requested resource could not be found.'))
        state = self.state(i)
        if state == 'running': return 200, self.prediction(i, 'processing')
        if state == 'failed': return 200, {**self.prediction(i, 'failed'), 'error': 'CUDA out of memory on the worker'}
        return 200, {**self.prediction(i, 'succeeded'), 'output': self.file_url(i)}
