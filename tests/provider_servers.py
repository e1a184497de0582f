"Local stand-ins for the video providers: threaded HTTP servers on 127.0.0.1 that speak each provider's protocol."
import base64, io, json, re, threading, time, urllib.request
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    def _serve(self):
        n = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(n) if n else b''
        code, headers, out, send = self.server.app.dispatch(self.command, self.path, dict(self.headers), body)
        self.send_response(code)
        for k, v in {'Content-Length': str(len(out)), **headers}.items(): self.send_header(k, v)
        self.end_headers()
        self.wfile.write(out[:send])
    do_GET = do_POST = _serve
    def log_message(self, *a): pass


class StandIn:
    """One provider's API. Knobs: `faults[kind]` (answers served first), `outcome`, `truncate`, `block`,
    `job_seconds` (a job runs that long, whatever the polls), `echo_at` (every submission is refused with a long body
    that holds the key it was sent at offset `echo_at` + the number of submissions before it)."""
    key_header, submit_route, poll_route = 'Authorization', None, None

    def __init__(self, key:str, mp4:bytes, polls_to_finish:int=2):
        self.key, self.mp4, self.polls_to_finish = key, mp4, polls_to_finish
        self.seen, self.jobs, self.faults = [], {}, {'submit': [], 'poll': [], 'download': []}
        self.outcome, self.truncate, self.block, self.job_seconds, self.echo_at = 'ok', 0, False, 0., None
        self.lock, self.echoed = threading.Lock(), 0
        self.srv = ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
        self.srv.app, self.url = self, f'http://127.0.0.1:{self.srv.server_address[1]}'

    def __enter__(self): threading.Thread(target=self.srv.serve_forever, args=(0.05,), daemon=True).start(); return self
    def __exit__(self, *a): self.srv.shutdown(); self.srv.server_close()

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
        if kind == 'submit':
            if self.block: return self.json(400, self.policy_error())
            if self.echo_at is not None:
                with self.lock: at, self.echoed = self.echo_at + self.echoed, self.echoed + 1
                return self.json(400, {'error': 'x'*at + f' {self.sent_key(headers)} ' + 'y'*400})
            request = self.parse_submit(headers, body)
            with self.lock:
                job_id = f'job{len(self.jobs) + 1}'
                self.jobs[job_id] = dict(polls=0, request=request, t=time.monotonic())
            return self.json(200, self.submitted(job_id))
        job_id = self.job_of(path)
        job = self.jobs.get(job_id)
        if job is None: return self.json(404, {'error': f'no job {job_id}'})
        job['polls'] += 1
        slow = time.monotonic() - job['t'] < self.job_seconds
        if self.outcome == 'never' or slow or job['polls'] < self.polls_to_finish: return self.json(200, self.running(job_id))
        return self.json(200, self.failed(job_id) if self.outcome == 'fail' else self.completed(job_id))

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
        if method == 'POST' and re.fullmatch(self.submit_route, p): return 'submit'
        if method == 'GET' and re.fullmatch(self.poll_route, p): return 'poll'
    def is_download(self, method, p): return method == 'GET' and p.startswith('/files/')
    def file_url(self, job_id): return f'{self.url}/files/{job_id}.mp4'
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
    "OpenAI Videos API: POST /v1/videos, GET /v1/videos/{id}, GET /v1/videos/{id}/content."
    submit_route, poll_route, needs_key_to_download = r'/v1/videos', r'/v1/videos/([^/]+)', True
    def is_download(self, method, p): return method == 'GET' and p.endswith('/content')
    def parse_submit(self, headers, body): return parse_multipart(headers, body)
    def submitted(self, i): return dict(id=i, object='video', status='queued', progress=0)
    def running(self, i): return dict(id=i, object='video', status='in_progress', progress=99)
    def completed(self, i): return dict(id=i, object='video', status='completed', progress=100)
    def failed(self, i): return dict(id=i, status='failed', error={'code': 'internal_error', 'message': 'Video render crashed'})
    def policy_error(self):
        return {'error': {'code': 'moderation_blocked', 'message': 'Your request was blocked by our moderation system.'}}


class VeoServer(StandIn):
    "Gemini API: POST :predictLongRunning, GET /v1beta/{operation}, GET the sample's file URI (with the key)."
    key_header, needs_key_to_download = 'x-goog-api-key', True
    submit_route, poll_route = r'/v1beta/models/([^/:]+):predictLongRunning', r'/v1beta/(models/[^/]+/operations/[^/]+)'
    def is_download(self, method, p): return method == 'GET' and p.startswith('/v1beta/files/')
    def op(self, i): return f'models/veo-3.0-generate-001/operations/{i}'
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


class LumaServer(StandIn):
    "Luma Dream Machine: POST/GET /dream-machine/v1/generations; fetches keyframes.frame0.url like Luma does."
    submit_route, poll_route = r'/dream-machine/v1/generations', r'/dream-machine/v1/generations/([^/]+)'
    fetched = None
    def parse_submit(self, headers, body):
        req = json.loads(body)
        with urllib.request.urlopen(req['keyframes']['frame0']['url'], timeout=10) as r: self.fetched = r.read()
        return req
    def submitted(self, i): return dict(id=i, state='queued', assets=None)
    def running(self, i): return dict(id=i, state='dreaming', assets=None)
    def completed(self, i): return dict(id=i, state='completed', assets={'video': self.file_url(i)})
    def failed(self, i): return dict(id=i, state='failed', failure_reason='Generation failed: upstream GPU error')
    def policy_error(self): return {'detail': 'Prompt not allowed because it failed moderation'}


class RunwayServer(StandIn):
    "Runway: POST /v1/image_to_video (needs X-Runway-Version), GET /v1/tasks/{id}."
    submit_route, poll_route = r'/v1/image_to_video', r'/v1/tasks/([^/]+)'
    def authorised(self, headers): return super().authorised(headers) and bool(headers.get('X-Runway-Version'))
    def submitted(self, i): return dict(id=i)
    def running(self, i): return dict(id=i, status='RUNNING', progress=0.5)
    def completed(self, i): return dict(id=i, status='SUCCEEDED', output=[self.file_url(i)])
    def failed(self, i): return dict(id=i, status='FAILED', failure='An unexpected error occurred.', failureCode='INTERNAL.BAD_OUTPUT')
    def policy_error(self): return {'error': 'Input rejected: SAFETY.INPUT.TEXT content moderation'}


class WaveSpeedServer(StandIn):
    "WaveSpeed: POST /api/v3/{model path}, GET /api/v3/predictions/{id}/result."
    submit_route, poll_route = r'/api/v3/(?!predictions/).+', r'/api/v3/predictions/([^/]+)/result'
    def kind(self, method, path):
        return 'poll' if method == 'GET' and re.fullmatch(self.poll_route, path.split('?')[0]) else super().kind(method, path)
    def wrap(self, data): return dict(code=200, message='success', data=data)
    def submitted(self, i): return self.wrap(dict(id=i, status='created', urls={'get': f'{self.url}/api/v3/predictions/{i}/result'}))
    def running(self, i): return self.wrap(dict(id=i, status='processing', outputs=[]))
    def completed(self, i): return self.wrap(dict(id=i, status='completed', outputs=[self.file_url(i)]))
    def failed(self, i): return self.wrap(dict(id=i, status='failed', outputs=[], error='worker crashed while decoding'))
    def policy_error(self): return dict(code=400, message='prompt flagged by content moderation')
