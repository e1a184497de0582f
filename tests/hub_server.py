"""A local stand-in for the Hugging Face Hub: a threaded HTTP server on 127.0.0.1 that stores repos in a folder and
speaks the part of the Hub protocol that `huggingface_hub` (2.x, with `HF_HUB_DISABLE_XET=1`) and `datasets` use:
repo creation, repo info, the preupload check, the Git LFS batch API (upload + verify), NDJSON commits, trees,
paths-info, resolve (HEAD, GET, Range), commits, refs, tags and whoami."""
import base64, hashlib, json, re, socket, threading, time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

GITATTRIBUTES = b"*.png filter=lfs diff=lfs merge=lfs -text\n*.parquet filter=lfs diff=lfs merge=lfs -text\n"
LFS_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.mp4', '.parquet', '.arrow', '.bin', '.zip', '.gz')


def git_blob_id(data:bytes)->str:
    "The git object id of a blob holding `data`."
    return hashlib.sha1(b'blob %d\0' % len(data) + data).hexdigest()

def lfs_pointer(sha256:str, size:int)->bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()

def now()->str: return datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.000Z')


class HubError(Exception):
    def __init__(self, code, message, error_code=None): self.code, self.message, self.error_code = code, message, error_code


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def setup(self):
        super().setup()
        # headers and body go out as two writes: without TCP_NODELAY, Nagle + delayed ACK add ~40 ms to every response
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self):
        n = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(n) if n else b''
        hub = self.server.hub
        try: code, headers, out = hub.dispatch(self.command, self.path, self.headers, body)
        except HubError as e:
            headers = {'Content-Type': 'application/json', **({'X-Error-Code': e.error_code} if e.error_code else {})}
            code, out = e.code, json.dumps({'error': e.message}).encode()
            headers['X-Error-Message'] = e.message
        hub.log.append((self.command, urlsplit(self.path).path, code))
        self.send_response(code)
        length = headers.pop('Content-Length', str(len(out)))
        for k, v in {'Content-Length': length, **headers}.items(): self.send_header(k, v)
        self.end_headers()
        if self.command != 'HEAD': self.wfile.write(out)
    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _serve
    def log_message(self, *a): pass


class HubStandIn:
    "The stand-in. `tokens` maps token → user name; repos live under `root`. Use as a context manager."
    def __init__(self, root, tokens:dict|None=None, page_size:int=1000):
        self.root, self.page_size = Path(root), page_size
        self.tokens = tokens or {'hf_test_token': 'tester'}
        (self.root/'objects').mkdir(parents=True, exist_ok=True)
        self.repos, self.uploads, self.log, self.lock = {}, {}, [], threading.Lock()
        # fault knobs: refuse the commit that follows this many successful ones; serve these paths with a flipped byte
        self.commits_until_failure, self.corrupt = None, set()
        self.srv = ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
        self.srv.daemon_threads = True
        self.srv.hub, self.url = self, f'http://127.0.0.1:{self.srv.server_address[1]}'

    def __enter__(self): threading.Thread(target=self.srv.serve_forever, args=(0.05,), daemon=True).start(); return self
    def __exit__(self, *a): self.srv.shutdown(); self.srv.server_close()

    # ---- storage
    def put_object(self, data:bytes)->str:
        sha = hashlib.sha256(data).hexdigest()
        (self.root/'objects'/sha).write_bytes(data)
        return sha
    def object_bytes(self, sha:str)->bytes: return (self.root/'objects'/sha).read_bytes()
    def has_object(self, sha:str)->bool: return (self.root/'objects'/sha).is_file()

    def entry(self, data:bytes, lfs:bool)->dict:
        sha = self.put_object(data)
        return self.lfs_entry(sha, len(data)) if lfs else dict(sha256=sha, size=len(data), lfs=False, oid=git_blob_id(data))
    def lfs_entry(self, sha, size): return dict(sha256=sha, size=size, lfs=True, oid=git_blob_id(lfs_pointer(sha, size)))

    def new_commit(self, repo, parent, files, message)->str:
        oid = hashlib.sha1(json.dumps([parent, sorted((k, v['oid']) for k, v in files.items()), message, time.time_ns()])
                           .encode()).hexdigest()
        repo['commits'][oid] = dict(parent=parent, files=files, message=message, date=now())
        return oid

    def create(self, repo_type, repo_id, private=False):
        repo = dict(private=private, commits={}, branches={}, tags={}, created=now(), type=repo_type)
        repo['branches']['main'] = self.new_commit(repo, None, {'.gitattributes': self.entry(GITATTRIBUTES, False)},
                                                   'initial commit')
        self.repos[(repo_type, repo_id)] = repo
        return repo

    def inject(self, repo_type, repo_id, path, data:bytes, branch='main'):
        "Commit `data` at `path` without any check: how a test plays a malicious or broken repo."
        repo = self.repos[(repo_type, repo_id)]
        files = {**self.files(repo, branch), path: self.entry(data, False)}
        repo['branches'][branch] = self.new_commit(repo, repo['branches'][branch], files, f'inject {path}')

    # ---- lookup
    def user(self, headers, required=False):
        auth = headers.get('Authorization') or ''
        if auth.startswith('Bearer '):
            token = auth[7:]
            if token not in self.tokens: raise HubError(401, 'Invalid credentials in Authorization header', 'InvalidCredentials')
            return self.tokens[token]
        if required: raise HubError(401, 'You must be authenticated to access this resource', 'Unauthorized')

    def repo(self, repo_type, repo_id, headers, write=False):
        repo = self.repos.get((repo_type, repo_id))
        user = self.user(headers, required=write)
        if repo is None or (repo['private'] and user != repo_id.split('/')[0]):
            raise HubError(404 if user else 401, 'Repository not found', 'RepoNotFound')
        if write and user != repo_id.split('/')[0]: raise HubError(403, f'{user} cannot write to {repo_id}', 'Forbidden')
        return repo

    def commit_of(self, repo, rev:str)->str:
        rev = unquote(rev)
        if rev in repo['branches']: return repo['branches'][rev]
        if rev in repo['tags']: return repo['tags'][rev]
        if rev in repo['commits']: return rev
        raise HubError(404, f'Invalid rev id: {rev}', 'RevisionNotFound')

    def files(self, repo, rev)->dict: return repo['commits'][self.commit_of(repo, rev)]['files']

    # ---- routing
    ROUTES = [
        ('GET', r'/api/whoami-v2', 'whoami'),
        ('POST', r'/api/repos/create', 'create_repo'),
        ('POST', r'/api/validate-yaml', 'validate_yaml'),
        ('POST', r'/(?:(?P<prefix>datasets|spaces)/)?(?P<repo>[^/]+/[^/]+)\.git/info/lfs/objects/batch', 'lfs_batch'),
        ('PUT', r'/lfs-upload/(?P<oid>[0-9a-f]{64})', 'lfs_put'),
        ('POST', r'/lfs-verify/(?P<oid>[0-9a-f]{64})', 'lfs_verify'),
        ('POST', r'/api/(?P<type>\w+)s/(?P<repo>[^/]+/[^/]+)/preupload/(?P<rev>[^/]+)', 'preupload'),
        ('POST', r'/api/(?P<type>\w+)s/(?P<repo>[^/]+/[^/]+)/commit/(?P<rev>[^/]+)', 'commit'),
        ('POST', r'/api/(?P<type>\w+)s/(?P<repo>[^/]+/[^/]+)/tag/(?P<rev>[^/]+)', 'tag'),
        ('POST', r'/api/(?P<type>\w+)s/(?P<repo>[^/]+/[^/]+)/branch/(?P<branch>[^/]+)', 'branch'),
        ('POST', r'/api/(?P<type>\w+)s/(?P<repo>[^/]+/[^/]+)/paths-info/(?P<rev>[^/]+)', 'paths_info'),
        ('GET', r'/api/(?P<type>\w+)s/(?P<repo>[^/]+/[^/]+)/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?', 'tree'),
        ('GET', r'/api/(?P<type>\w+)s/(?P<repo>[^/]+/[^/]+)/commits/(?P<rev>[^/]+)', 'commits'),
        ('GET', r'/api/(?P<type>\w+)s/(?P<repo>[^/]+/[^/]+)/refs', 'refs'),
        ('GET', r'/api/(?P<type>\w+)s/(?P<repo>[^/]+/[^/]+)(?:/revision/(?P<rev>[^/]+))?', 'info'),
        ('GET|HEAD', r'/(?:(?P<prefix>datasets|spaces)/)?(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)', 'resolve'),
    ]

    def dispatch(self, method, raw_path, headers, body):
        parts = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        for methods, pattern, name in self.ROUTES:
            m = re.fullmatch(pattern, parts.path)
            if m and method in methods.split('|'):
                args = {k: unquote(v) if isinstance(v, str) else v for k, v in m.groupdict().items()}
                handler = getattr(self, name)
                if method in ('GET', 'HEAD'): return handler(headers=headers, body=body, query=query, **args)
                with self.lock: return handler(headers=headers, body=body, query=query, **args)
        raise HubError(404, f'no route {method} {parts.path}')

    def json(self, obj, code=200, **headers): return code, {'Content-Type': 'application/json', **headers}, json.dumps(obj).encode()

    # ---- handlers
    def whoami(self, headers, **_):
        user = self.user(headers, required=True)
        return self.json(dict(type='user', name=user, fullname=user, orgs=[],
                              auth=dict(type='access_token', accessToken=dict(displayName='test', role='write'))))

    def create_repo(self, headers, body, **_):
        user, req = self.user(headers, required=True), json.loads(body)
        repo_type, ns = req.get('type') or 'model', req.get('organization') or user
        repo_id = f"{ns}/{req['name']}"
        if ns != user: raise HubError(403, f'You cannot create a repo in the namespace {ns}', 'Forbidden')
        url = f"{self.url}/{'' if repo_type == 'model' else repo_type + 's/'}{repo_id}"
        if (repo_type, repo_id) in self.repos: return self.json({'error': 'You already created this repo', 'url': url}, 409)
        self.create(repo_type, repo_id, req.get('visibility', 'private' if req.get('private') else 'public') != 'public')
        return self.json({'url': url, 'name': repo_id})

    def validate_yaml(self, **_): return self.json({})

    def info(self, type, repo, rev, headers, **_):
        r = self.repo(type, repo, headers)
        sha = self.commit_of(r, rev or 'main')
        files = r['commits'][sha]['files']
        return self.json(dict(id=repo, author=repo.split('/')[0], sha=sha, private=r['private'], gated=False,
                              disabled=False, downloads=0, likes=0, tags=[], createdAt=r['created'],
                              lastModified=r['commits'][sha]['date'], cardData={},
                              siblings=[{'rfilename': p} for p in sorted(files)]))

    def refs(self, type, repo, headers, **_):
        r = self.repo(type, repo, headers)
        ref = lambda kind, name, oid: dict(name=name, ref=f'refs/{kind}/{name}', targetCommit=oid)
        return self.json(dict(branches=[ref('heads', k, v) for k, v in r['branches'].items()],
                              tags=[ref('tags', k, v) for k, v in r['tags'].items()], converts=[]))

    def preupload(self, type, repo, rev, headers, body, **_):
        r = self.repo(type, repo, headers, write=True)
        files = self.files(r, rev) if unquote(rev) in r['branches'] else {}
        out = []
        for f in json.loads(body)['files']:
            lfs = f['path'].lower().endswith(LFS_EXTENSIONS) or f['size'] > 10_000_000 or b'\0' in base64.b64decode(f['sample'])
            old = files.get(f['path'])
            oid = None if old is None else (old['sha256'] if old['lfs'] else old['oid'])
            out.append(dict(path=f['path'], uploadMode='lfs' if lfs else 'regular', shouldIgnore=False, oid=oid))
        return self.json({'files': out, 'commitOid': files and self.commit_of(r, rev)})

    def lfs_batch(self, prefix, repo, headers, body, **_):
        self.repo((prefix or 'models')[:-1], repo, headers, write=True)
        out = []
        for o in json.loads(body)['objects']:
            if self.has_object(o['oid']): out.append(dict(oid=o['oid'], size=o['size']))
            else:
                self.uploads[o['oid']] = o['size']
                out.append(dict(oid=o['oid'], size=o['size'], actions=dict(
                    upload=dict(href=f"{self.url}/lfs-upload/{o['oid']}"),
                    verify=dict(href=f"{self.url}/lfs-verify/{o['oid']}"))))
        return self.json({'transfer': 'basic', 'objects': out}, **{'Content-Type': 'application/vnd.git-lfs+json'})

    def lfs_put(self, oid, body, **_):
        if oid not in self.uploads: raise HubError(403, f'no upload was announced for {oid}')
        if hashlib.sha256(body).hexdigest() != oid or len(body) != self.uploads[oid]:
            raise HubError(400, f'uploaded bytes do not match {oid}')
        self.put_object(body)
        return 200, {}, b''

    def lfs_verify(self, oid, body, **_):
        if not self.has_object(oid) or json.loads(body)['size'] != self.uploads.get(oid):
            raise HubError(404, f'object {oid} was not uploaded')
        return self.json({'ok': True})

    def commit(self, type, repo, rev, headers, body, **_):
        r = self.repo(type, repo, headers, write=True)
        branch = unquote(rev)
        if branch not in r['branches']: raise HubError(404, f'Invalid rev id: {branch}', 'RevisionNotFound')
        if self.commits_until_failure is not None:
            if self.commits_until_failure == 0: self.commits_until_failure = None; raise HubError(503, 'simulated outage')
            self.commits_until_failure -= 1
        lines = [json.loads(l) for l in body.splitlines() if l.strip()]
        files, message = dict(self.files(r, branch)), lines[0]['value']['summary']
        for line in lines[1:]:
            v = line['value']
            if line['key'] == 'file': files[v['path']] = self.entry(base64.b64decode(v['content']), False)
            elif line['key'] == 'lfsFile':
                if not self.has_object(v['oid']): raise HubError(400, f"LFS object {v['oid']} of {v['path']} is missing")
                files[v['path']] = self.lfs_entry(v['oid'], v['size'])
            elif line['key'] == 'deletedFile':
                if files.pop(v['path'], None) is None: raise HubError(404, f"A file with this name doesn't exist: {v['path']}")
            elif line['key'] == 'deletedFolder':
                files = {p: e for p, e in files.items() if not p.startswith(v['path'].rstrip('/') + '/')}
        oid = self.new_commit(r, r['branches'][branch], files, message)
        r['branches'][branch] = oid
        prefix = '' if type == 'model' else f'{type}s/'
        return self.json(dict(commitUrl=f'{self.url}/{prefix}{repo}/commit/{oid}', commitOid=oid, success=True,
                              pullRequestUrl=None))

    def tag(self, type, repo, rev, headers, body, **_):
        r = self.repo(type, repo, headers, write=True)
        name = json.loads(body)['tag']
        if name in r['tags']: raise HubError(409, f'Tag {name} already exists')
        r['tags'][name] = self.commit_of(r, rev)
        return self.json({'name': name})

    def branch(self, type, repo, branch, headers, body, **_):
        r = self.repo(type, repo, headers, write=True)
        if branch in r['branches']: raise HubError(409, f'Branch {branch} already exists')
        start = (json.loads(body) if body else {}).get('startingPoint') or 'main'
        r['branches'][branch] = self.commit_of(r, start)
        return self.json({'name': branch})

    def commits(self, type, repo, rev, headers, **_):
        r, out = self.repo(type, repo, headers), []
        oid = self.commit_of(r, rev)
        while oid:
            c = r['commits'][oid]
            out.append(dict(id=oid, title=c['message'], message='', date=c['date'], authors=[{'user': 'tester'}]))
            oid = c['parent']
        return self.json(out)

    def path_info(self, path, e, expand=False):
        info = dict(type='file', path=path, size=e['size'], oid=e['oid'])
        if e['lfs']: info['lfs'] = dict(oid=e['sha256'], size=e['size'], pointerSize=len(lfs_pointer(e['sha256'], e['size'])))
        return info

    def listing(self, files, path, recursive):
        prefix = f'{path.rstrip("/")}/' if path else ''
        out, folders = [], set()
        for p in sorted(files):
            if not p.startswith(prefix): continue
            rest = p[len(prefix):].split('/')
            for i in range(1, len(rest) if recursive else min(2, len(rest))):
                folders.add(prefix + '/'.join(rest[:i]))
            if recursive or len(rest) == 1: out.append(self.path_info(p, files[p]))
        tree = [dict(type='directory', path=f, oid=hashlib.sha1(f.encode()).hexdigest(), size=0) for f in sorted(folders)]
        return sorted(tree + out, key=lambda x: x['path'])

    def tree(self, type, repo, rev, path, headers, query, **_):
        r = self.repo(type, repo, headers)
        files, path = self.files(r, rev), (path or '').strip('/')
        if path and not any(p.startswith(path + '/') for p in files):
            raise HubError(404, f'{path} does not exist on {rev}', 'EntryNotFound')
        items = self.listing(files, path, query.get('recursive') in ('True', 'true', '1'))
        start = int(query.get('cursor', 0))
        page, headers_out = items[start:start + self.page_size], {}
        if start + self.page_size < len(items):
            q = f"recursive={query.get('recursive', 'False')}&expand={query.get('expand', 'False')}&cursor={start + self.page_size}"
            headers_out['Link'] = f'<{self.url}/api/{type}s/{repo}/tree/{quote(rev, safe="")}/{quote(path)}?{q}>; rel="next"'
        return self.json(page, **headers_out)

    def paths_info(self, type, repo, rev, headers, body, **_):
        r = self.repo(type, repo, headers)
        files = self.files(r, rev)
        try: req = json.loads(body)
        except ValueError: req = {k: v for k, v in parse_qs(body.decode()).items()}
        out = []
        for p in req.get('paths', []):
            p = p.strip('/')
            if p in files: out.append(self.path_info(p, files[p]))
            elif any(f.startswith(p + '/') for f in files) or p == '':
                out.append(dict(type='directory', path=p, oid=hashlib.sha1(p.encode()).hexdigest(), size=0))
        return self.json(out)

    def resolve(self, prefix, repo, rev, path, headers, **_):
        r = self.repo((prefix or 'models')[:-1], repo, headers)
        sha = self.commit_of(r, rev)
        e = r['commits'][sha]['files'].get(path)
        if e is None: raise HubError(404, f'Entry not found: {path}', 'EntryNotFound')
        data = self.object_bytes(e['sha256'])
        if path in self.corrupt: data = bytes([data[0] ^ 1]) + data[1:]
        out = {'X-Repo-Commit': sha, 'ETag': f'"{e["oid"]}"', 'Accept-Ranges': 'bytes',
               'Content-Type': 'application/octet-stream'}
        if e['lfs']: out.update({'X-Linked-Etag': f'"{e["sha256"]}"', 'X-Linked-Size': str(e['size'])})
        m = re.fullmatch(r'bytes=(\d*)-(\d*)', headers.get('Range') or '')
        if m:
            start = int(m.group(1)) if m.group(1) else len(data) - int(m.group(2))
            end = min(int(m.group(2)), len(data) - 1) if m.group(1) and m.group(2) else len(data) - 1
            out['Content-Range'] = f'bytes {start}-{end}/{len(data)}'
            return 206, out, data[start:end + 1]
        return 200, out, data


if __name__ == '__main__':
    import sys, tempfile
    with HubStandIn(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()) as hub:
        print(hub.url, flush=True)
        threading.Event().wait()
