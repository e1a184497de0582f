"A local OpenAI-compatible VLM server on 127.0.0.1: `POST /v1/chat/completions` and `GET /v1/models`, with bad days."
import base64, io, json, threading, time
from http.server import ThreadingHTTPServer

import numpy as np
from PIL import Image
from provider_servers import RequestHandler

MODES = ['good', 'fenced', 'nonsense', 'refuse', 'text_refusal', '429', '500', 'hang']


def _image(part:dict)->np.ndarray:
    "The RGB pixels of an `image_url` part holding a PNG data URI."
    uri = part['image_url']['url']
    assert uri.startswith('data:image/png;base64,'), uri[:40]
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(',', 1)[1]))).convert('RGB'), dtype=np.int16)


def pixel_judge(body:dict)->tuple:
    "A judge that looks: 5 when the video's last image matches the expected final frame, else 1."
    images = [p for m in body['messages'] if isinstance(m['content'], list) for p in m['content'] if p['type'] == 'image_url']
    expected, last = _blocks(_image(images[1])), _blocks(_image(images[-1]))
    diff = float(np.abs(expected - last).max())  # block means: video noise averages out, a moved piece does not
    return (5, f"the last frame matches the solution (largest difference {diff:.0f})") if diff < 40 else \
           (1, f"the last frame differs from the solution (largest difference {diff:.0f})")


def _blocks(img:np.ndarray, size:int=8)->np.ndarray:
    "The mean colour of each `size`×`size` block."
    h, w = img.shape[0]//size*size, img.shape[1]//size*size
    return img[:h, :w].reshape(h//size, size, w//size, size, 3).mean((1, 3))


class OpenAIServer:
    """An OpenAI-compatible chat server. `mode` is how every chat request is answered; `faults` (modes) are served
    first, one per request. `answer(body) -> (score, explanation)` decides good answers (default: `pixel_judge`)."""

    def __init__(self, key:str='sk-test-judge-key', models=('OpenGVLab/InternVL3-8B',), mode:str='good',
                 json_mode:bool=True, delay:float=0., retry_after:str='0', hang:float=10.):
        self.key, self.models, self.mode, self.json_mode = key, list(models), mode, json_mode
        self.delay, self.retry_after, self.hang = delay, retry_after, hang
        self.faults, self.seen, self.answer = [], [], pixel_judge
        self.in_flight = self.max_in_flight = 0
        self.lock, self.closing = threading.Lock(), threading.Event()
        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.srv.handle_error = lambda *a: None  # a client that timed out has hung up: nothing to report
        self.srv.app, self.url = self, f'http://127.0.0.1:{self.srv.server_address[1]}'

    def __enter__(self):
        threading.Thread(target=self.srv.serve_forever, args=(0.05,), daemon=True).start()
        return self
    def __exit__(self, *a): self.closing.set(); self.srv.shutdown(); self.srv.server_close()

    @property
    def chats(self): return [r for r in self.seen if r['path'] == '/v1/chat/completions']

    def dispatch(self, method, path, headers, body):
        path, headers = path.split('?')[0], {k.lower(): v for k, v in headers.items()}
        self.seen.append(dict(method=method, path=path, headers=headers, body=json.loads(body) if body else None))
        if headers.get('authorization') != f'Bearer {self.key}':
            return self.error(401, 'Incorrect API key provided.', 'invalid_api_key')
        if method == 'GET' and path == '/v1/models':
            return self.json(200, dict(object='list', data=[dict(id=m, object='model', created=0, owned_by='local')
                                                            for m in self.models]))
        if method == 'POST' and path == '/v1/chat/completions': return self.counted(self.seen[-1]['body'])
        return self.error(404, f'no route {method} {path}', 'not_found')

    def counted(self, body):
        with self.lock: self.in_flight += 1; self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            return self.chat(body)
        finally:
            with self.lock: self.in_flight -= 1

    def chat(self, body):
        if body.get('model') not in self.models: return self.error(404, f"The model `{body.get('model')}` does not exist.", 'model_not_found')
        if 'response_format' in body and not self.json_mode:
            return self.error(400, 'response_format is not supported by this server', 'invalid_request_error')
        mode = self.faults.pop(0) if self.faults else self.mode
        if mode == '429': return self.error(429, 'Rate limit reached for requests', 'rate_limit_exceeded', {'Retry-After': self.retry_after})
        if mode == '500': return self.error(500, 'The server had an error while processing your request.', 'server_error')
        if mode == 'hang': self.closing.wait(self.hang)
        return self.json(200, self.completion(body, mode))

    def completion(self, body, mode):
        score, why = self.answer(body)
        text = {'good': json.dumps(dict(solution_correctness_score=score, explanation=why)),
                'fenced': f"Here is my grade:\n```json\n{json.dumps(dict(score=str(score), explanation=why))}\n```",
                'nonsense': 'The video shows a puzzle. Score: maybe four-ish?',
                'text_refusal': "I'm sorry, but I can't help with grading this.",
                'hang': json.dumps(dict(solution_correctness_score=score, explanation=why))}.get(mode)
        message = dict(role='assistant', content=text, refusal="I'm sorry, I can't assist with that." if mode == 'refuse' else None)
        images = sum(p['type'] == 'image_url' for m in body['messages'] if isinstance(m['content'], list) for p in m['content'])
        prompt = 85*images + len(json.dumps([m['content'] if isinstance(m['content'], str) else
                                             [p.get('text', '') for p in m['content']] for m in body['messages']]))//4
        completion = len(text or '')//4 + 1
        return dict(id=f'chatcmpl-{len(self.seen)}', object='chat.completion', created=int(time.time()), model=body['model'],
                    choices=[dict(index=0, message=message, finish_reason='stop', logprobs=None)],
                    usage=dict(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion))

    def json(self, code, obj, headers=None):
        return code, {'Content-Type': 'application/json', **(headers or {})}, json.dumps(obj).encode(), None
    def error(self, code, message, kind, headers=None):
        return self.json(code, dict(error=dict(message=message, type=kind, param=None, code=kind)), headers)
