"`vmevalkit models --check`: one free, authenticated call per configured provider, against the local stand-ins."
import contextlib, os
import pytest
from fastcore import test as fct
from provider_servers import LumaServer, RunwayServer, VeoServer, WaveSpeedServer
from provider_servers_more import ArkServer, KlingServer, MiniMaxServer
from provider_servers_hosted import DashScopeServer, FalServer, ReplicateServer
from provider_servers_vertex import VertexServer
from vmevalkit.cli import main
from vmevalkit.models.api import RetryPolicy, check_providers

SECRET = 'kling-secret-for-tests-0123456789'
# provider name -> (stand-in class, key variable, base URL variable)
STAND_INS = {'gemini': (VeoServer, 'GEMINI_API_KEY', 'GEMINI_BASE_URL'), 'luma': (LumaServer, 'LUMA_API_KEY', 'LUMA_BASE_URL'),
             'runway': (RunwayServer, 'RUNWAYML_API_SECRET', 'RUNWAY_BASE_URL'),
             'wavespeed': (WaveSpeedServer, 'WAVESPEED_API_KEY', 'WAVESPEED_BASE_URL'),
             'kling': (KlingServer, 'KLING_ACCESS_KEY', 'KLING_BASE_URL'), 'seedance': (ArkServer, 'ARK_API_KEY', 'ARK_BASE_URL'),
             'minimax': (MiniMaxServer, 'MINIMAX_API_KEY', 'MINIMAX_BASE_URL'),
             'dashscope': (DashScopeServer, 'DASHSCOPE_API_KEY', 'DASHSCOPE_BASE_URL'),
             'fal': (FalServer, 'FAL_KEY', 'FAL_BASE_URL'), 'replicate': (ReplicateServer, 'REPLICATE_API_TOKEN', 'REPLICATE_BASE_URL'),
             'vertex': (VertexServer, 'GOOGLE_CLOUD_ACCESS_TOKEN', 'GOOGLE_VERTEX_BASE_URL')}
FAST = RetryPolicy(attempts=1, timeout=10.)

@pytest.fixture
def servers(monkeypatch):
    "Every provider's stand-in running, with its key and base URL in the environment."
    with contextlib.ExitStack() as stack:
        srvs = {}
        for name, (cls, key_env, base_env) in STAND_INS.items():
            key = f'{name}-key-0123456789abcdef'
            srv = cls(key, b'', secret=SECRET) if cls is KlingServer else cls(key, b'')
            srvs[name] = stack.enter_context(srv)
            monkeypatch.setenv(key_env, key); monkeypatch.setenv(base_env, srv.url)
        monkeypatch.setenv('KLING_SECRET_KEY', SECRET)
        yield srvs

def test_every_provider_works_and_nothing_is_submitted(servers):
    rows = {r['provider']: r for r in check_providers(policy=FAST)}
    fct.test_eq({p: r['state'] for p, r in rows.items()}, {p: 'works' for p in STAND_INS})
    fct.test_eq(rows['gemini']['models'], {'veo-3.1-generate-001': True, 'veo-3.1-fast-generate-001': True})
    fct.test_eq({p: s.submissions for p, s in servers.items()}, {p: 0 for p in STAND_INS})
    fct.test_eq(all(len(s.seen) == 1 for s in servers.values()), True)  # exactly one call per provider

@pytest.mark.parametrize('provider', ['runway', 'kling', 'minimax', 'replicate', 'fal'])
def test_a_wrong_key_is_refused_naming_its_variable(servers, monkeypatch, provider, capsys):
    key_env = STAND_INS[provider][1]
    monkeypatch.setenv(key_env, wrong := 'wrong-key-9876543210fedcba')
    code = main(['models', '--check'])
    out = capsys.readouterr()
    line = next(l for l in out.out.splitlines() if l.startswith(provider + ' '))
    fct.test_eq((code, line.split()[2], key_env in line), (1, 'refused', True))
    fct.test_eq(wrong in out.out + out.err, False)
    fct.test_eq(sum(s.submissions for s in servers.values()), 0)

def test_a_provider_without_key_is_skipped(servers, monkeypatch):
    monkeypatch.delenv('LUMA_API_KEY')
    rows = {r['provider']: r for r in check_providers(policy=FAST)}
    fct.test_eq((rows['luma']['state'], servers['luma'].seen), ('no key', []))
    fct.test_eq(rows['runway']['state'], 'works')

def test_a_model_the_provider_does_not_list_is_reported(servers):
    servers['gemini'].reads = {'/v1beta/models': {'models': [{'name': 'models/veo-3.1-generate-001'}]}}
    row = next(r for r in check_providers(policy=FAST) if r['provider'] == 'gemini')
    fct.test_eq(row['models'], {'veo-3.1-generate-001': True, 'veo-3.1-fast-generate-001': False})

def test_an_unreachable_provider_fails_the_check(servers, monkeypatch, capsys):
    monkeypatch.setenv('LUMA_BASE_URL', 'http://127.0.0.1:9')
    fct.test_eq(main(['models', '--check']), 1)
    fct.test_eq(next(l for l in capsys.readouterr().out.splitlines() if l.startswith('luma ')).split()[2], 'unreachable')

def test_a_moved_list_path_is_unclear_not_working(servers, capsys):
    servers['gemini'].reads = {}  # the models list is gone from where the chapter says it is
    fct.test_eq(main(['models', '--check']), 0)
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith('gemini '))
    fct.test_eq((line.split()[2], 'not found' in line), ('unclear', True))
