"""`vmevalkit run configs/frontier.yaml` end to end, offline: every model in the file against its provider's stand-in,
Luma's first frame through a real S3-compatible server (moto_server), the GPT-4o judge against the local OpenAI server.
Only `tasks.pairs_per_domain` is changed (to 1), so a model added to frontier.yaml without a stand-in fails this test."""
import contextlib, csv, json, socket, subprocess, sys, time
from pathlib import Path
import httpx, pytest, yaml
from fastcore import test as fct
from fastcore.basics import gt, lt

from conftest import vmevalkit
from openai_server import OpenAIServer
from provider_servers import LumaServer, RunwayServer, VeoServer, WaveSpeedServer
from provider_servers_more import ArkServer, KlingServer, MiniMaxServer
from provider_servers_hosted import DashScopeServer, FalServer, ReplicateServer
from vmevalkit.models import MODEL_CATALOG

ROOT = Path(__file__).parents[1]
KLING_SECRET = 'kling-secret-frontier-0123456789abcdef'
# a model's key variable (first of its catalog `env`) -> (stand-in class, base URL variable)
STAND_INS = {'GEMINI_API_KEY': (VeoServer, 'GEMINI_BASE_URL'), 'RUNWAYML_API_SECRET': (RunwayServer, 'RUNWAY_BASE_URL'),
             'LUMA_API_KEY': (LumaServer, 'LUMA_BASE_URL'), 'WAVESPEED_API_KEY': (WaveSpeedServer, 'WAVESPEED_BASE_URL'),
             'KLING_ACCESS_KEY': (KlingServer, 'KLING_BASE_URL'), 'ARK_API_KEY': (ArkServer, 'ARK_BASE_URL'),
             'MINIMAX_API_KEY': (MiniMaxServer, 'MINIMAX_BASE_URL'), 'DASHSCOPE_API_KEY': (DashScopeServer, 'DASHSCOPE_BASE_URL'),
             'FAL_KEY': (FalServer, 'FAL_BASE_URL'), 'REPLICATE_API_TOKEN': (ReplicateServer, 'REPLICATE_BASE_URL')}
FAST = dict(VMEVAL_POLL_INTERVAL='0.05', VMEVAL_POLL_TIMEOUT='60', VMEVAL_HTTP_BACKOFF='0.01', VMEVAL_HTTP_BACKOFF_MAX='0.1',
            VMEVAL_HTTP_TIMEOUT='20', VMEVAL_HTTP_ATTEMPTS='3')


def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@contextlib.contextmanager
def moto_server(log:Path):
    "An S3-compatible server (`moto_server`, as in test_sync_s3) in its own process; yields its URL."
    port, exe = _free_port(), Path(sys.executable).parent/'moto_server'
    proc = subprocess.Popen([str(exe), '-H', '127.0.0.1', '-p', str(port)], stdout=open(log, 'w'), stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}'
    try:
        for _ in range(300):
            try: httpx.get(url + '/moto-api/', timeout=1); break
            except httpx.TransportError: time.sleep(0.1)
        else: raise RuntimeError(f"moto_server did not start: {log.read_text()}")
        yield url
    finally: proc.terminate(); proc.wait(10)


def test_frontier_config_runs_offline_end_to_end(tmp_path, mp4):
    "configs/frontier.yaml (one question per domain) against every provider's stand-in: each run made, paid once, judged, reported."
    cfg = yaml.safe_load((ROOT/'configs/frontier.yaml').read_text())
    derived = {**cfg, 'tasks': {**cfg['tasks'], 'pairs_per_domain': 1}}
    (tmp_path/'frontier.yaml').write_text(yaml.safe_dump(derived, sort_keys=False))
    models, domains = cfg['models'], cfg['tasks']['domains']
    key_of = {m: MODEL_CATALOG[m]['env'][0] for m in models}
    needed = sorted(set(key_of.values()))
    assert set(needed) <= set(STAND_INS), f"no stand-in for {set(needed) - set(STAND_INS)}"

    keys = {k: f'sk-{k.lower()}-{i}-9f8e7d6c5b4a' for i, k in enumerate(needed)}
    judge_key = 'sk-judge-frontier-0a1b2c3d4e5f'
    env = dict(FAST, VMEVAL_CONFIRM_ABOVE_USD='100000', OPENAI_API_KEY=judge_key, KLING_SECRET_KEY=KLING_SECRET,
               AWS_ACCESS_KEY_ID='test-key', AWS_SECRET_ACCESS_KEY='test-secret', AWS_DEFAULT_REGION='us-east-1',
               S3_BUCKET='frontier-frames', **keys)
    data = tmp_path/'data'
    with contextlib.ExitStack() as stack:
        servers = {}
        for k in needed:
            cls, base_env = STAND_INS[k]
            srv = cls(keys[k], mp4, secret=KLING_SECRET) if cls is KlingServer else cls(keys[k], mp4)
            servers[k] = stack.enter_context(srv)
            env[base_env] = srv.url
        judge = stack.enter_context(OpenAIServer(key=judge_key, models=('gpt-4o',)))
        env['OPENAI_BASE_URL'] = judge.url + '/v1'
        if 'S3_BUCKET' in {e for m in models for e in MODEL_CATALOG[m]['env']}:
            env['AWS_ENDPOINT_URL'] = s3 = stack.enter_context(moto_server(tmp_path/'moto.log'))
            httpx.put(f"{s3}/{env['S3_BUCKET']}").raise_for_status()  # the bucket a user would have made
        res = vmevalkit('run', tmp_path/'frontier.yaml', '--data-dir', data, '--yes', '--quiet', env=env)
        output = res.stdout + res.stderr
        assert res.returncode == 0, output[-4000:]

        # every model × question ran once, successfully
        metas = {p: json.loads(p.read_text()) for p in (data/'outputs'/cfg['experiment']).rglob('metadata.json')}
        ran = {}
        for p, meta in metas.items():
            fct.test_eq((str(p.relative_to(data)), meta['inference']['status']), (str(p.relative_to(data)), 'success'))
            model = next(m for m in models if m in p.relative_to(data/'outputs'/cfg['experiment']).parts)
            ran[model] = ran.get(model, 0) + 1
        per_model = len(domains) * cfg.get('samples', 1)  # one question per domain
        fct.test_eq(ran, {m: per_model for m in models})

        # each stand-in was paid exactly once per run: no submission repeated
        fct.test_eq({k: s.submissions for k, s in servers.items()},
                    {k: per_model * sum(key_of[m] == k for m in models) for k in needed})
        fct.test(len(judge.chats), 0, gt)  # the GPT-4o judge was asked (identical requests may be answered once)

    # every run has a completed GPT-4o score
    judged = [json.loads(p.read_text())['result']['status'] for p in (data/'scorings').rglob('gpt4o-eval.json')]
    fct.test_eq((len(judged), set(judged)), (len(metas), {'completed'}))

    # the estimate is printed before the summary
    lines = res.stdout.splitlines()
    est = next(i for i, l in enumerate(lines) if l.startswith('Estimated cost $'))
    summary = next(i for i, l in enumerate(lines) if l.startswith(f'{len(metas)} runs: {len(metas)} done'))
    fct.test(est, summary, lt)

    # no key anywhere: not in the output, not in any file under the data dir
    secrets = [*keys.values(), KLING_SECRET, judge_key]
    fct.test_eq([s for s in secrets if s in output], [])
    leaks = [(str(p.relative_to(data)), s[:12]) for p in data.rglob('*') if p.is_file()
             for s in secrets if s.encode() in p.read_bytes()]
    fct.test_eq(leaks, [])

    # the report, with the spend per model
    report = data/'analysis'/cfg['experiment']
    fct.test_eq(((report/'report.md').is_file(), (report/'spend.csv').is_file()), (True, True))
    rows = list(csv.DictReader((report/'spend.csv').open()))
    fct.test_eq(sorted(r['model'] for r in rows), sorted(models))
