"The catalog tells the truth about time: status, dates, sources, prices and capabilities, and the runner obeys them."
import json
from pathlib import Path
from fastcore import test as fct
from fastcore.basics import le
from conftest import vmevalkit
from vmevalkit.models import MODEL_CATALOG, ModelWrapper, estimate_cost, load_model, model_entry, FinalError
from vmevalkit.inference import InferenceRunner, run_experiment
from vmevalkit.tasks import create_dataset
from vmevalkit.core import write_video
import numpy as np

def test_every_entry_says_status_date_source_price_and_accepts():
    for name, e in MODEL_CATALOG.items():
        assert e['status'] in ('available', 'deprecated', 'retired'), name
        assert e['checked'] and e['source'], name
        assert e['price']['amount'] is not None or e['price']['reason'], name
        assert set(e['accepts']) == {'seed', 'durations', 'resolutions', 'aspect_ratios', 'audio', 'negative_prompt'}, name
        if e['status'] == 'retired':
            assert e['retired_on'] and e['successors'], name
            assert all(MODEL_CATALOG[s]['status'] != 'retired' for s in e['successors']), name

def test_retired_model_refuses_with_date_and_successors():
    fct.test_fail(lambda: load_model('openai-sora-2'), contains='retired on 2026-09-24')
    try: load_model('veo-3.0-fast-generate')
    except FinalError as e: assert 'veo-3.1-fast-generate-001' in str(e) and '\n' not in str(e)

def test_retired_model_refused_by_the_cli_in_one_line(tmp_path):
    q = tmp_path/'q'
    create_dataset(1, ['maze'], seed=0, output_dir=q)
    res = vmevalkit('infer', '--model', 'veo-3.0-generate', '--questions-dir', q, '--output-dir', tmp_path/'out')
    fct.test_eq((res.returncode, len(res.stderr.splitlines())), (2, 1))
    assert 'retired on 2026-06-30' in res.stderr and 'veo-3.1-generate-001' in res.stderr, res.stderr
    fct.test_eq((tmp_path/'out').exists(), False)
    res = vmevalkit('models')
    fct.test_eq(res.stdout.split()[:7], ['NAME', 'FAMILY', 'KIND', 'STATUS', 'CHECKED', 'PRICE', 'HERE'])
    assert any(l.split()[:4] == ['openai-sora-2', 'openai', 'api', 'retired'] for l in res.stdout.splitlines())

class SeedProbe(ModelWrapper):
    "A stand-in under a catalog name that records what it was sent."
    sent = []
    def _generate(self, image_path, text_prompt, output_path, seed=None, **options):
        SeedProbe.sent.append(dict(seed=seed, **{k: v for k, v in options.items() if k in ('negative_prompt', 'duration')}))
        write_video([np.zeros((16, 16, 3), np.uint8)]*4, output_path, 4)
        return dict(generation_id='probe')

def test_seed_not_sent_to_veo_and_the_run_says_so(tmp_path, monkeypatch, caplog):
    q = tmp_path/'data/questions'
    create_dataset(1, ['maze'], seed=0, output_dir=q)
    monkeypatch.setenv('GEMINI_API_KEY', 'gem-test-key')
    import vmevalkit.models as m
    monkeypatch.setattr(m, '_load', lambda name, options: SeedProbe(name, MODEL_CATALOG[name]['model'], **MODEL_CATALOG[name]['defaults']))
    SeedProbe.sent.clear()
    summary = run_experiment(q, ['veo-3.1-fast-generate-001'], 'caps', samples=2, quiet=True)
    fct.test_eq((summary.done, [s['seed'] for s in SeedProbe.sent]), (2, [None, None]))
    metas = [json.loads(p.read_text()) for p in (tmp_path/'data/outputs/caps').rglob('metadata.json')]
    fct.test_eq([mt['inference']['dropped'] for mt in metas],
                [{'seed': 'seed not supported by veo-3.1-fast-generate-001: runs are not reproducible'}]*2)
    fct.test_eq([mt['inference']['estimated_cost_usd'] for mt in metas], [0.8, 0.8])  # 8 s at $0.10/s
    fct.test_eq(summary.spend, {'veo-3.1-fast-generate-001': 1.6})
    fct.test_eq(sum('seed not supported by veo-3.1-fast-generate-001' in r.getMessage() for r in caplog.records), 1)

def test_a_model_that_takes_a_seed_gets_it(tmp_path, monkeypatch):
    q = tmp_path/'data/questions'
    create_dataset(1, ['maze'], seed=0, output_dir=q)
    monkeypatch.setenv('RUNWAYML_API_SECRET', 'rw-test-key')
    import vmevalkit.models as m
    monkeypatch.setattr(m, '_load', lambda name, options: SeedProbe(name, MODEL_CATALOG[name]['model'], **MODEL_CATALOG[name]['defaults']))
    SeedProbe.sent.clear()
    run_experiment(q, ['runway-gen4-turbo'], 'caps', quiet=True)
    fct.test_eq(SeedProbe.sent[0]['seed'] is not None, True)
    fct.test_fail(lambda: run_experiment(q, ['runway-gen4-turbo'], 'caps2', quiet=True, duration=11),
                  contains='cannot make a 11 s video')
    fct.test_eq(len(SeedProbe.sent), 1)  # the impossible request never reached the model

def test_cost_estimate_printed_and_confirmation_refused_without_yes(tmp_path):
    q = tmp_path/'q'
    create_dataset(2, ['maze'], seed=0, output_dir=q)
    env = {'RUNWAYML_API_SECRET': 'rw-test-key', 'VMEVAL_CONFIRM_ABOVE_USD': '0.3', 'RUNWAY_BASE_URL': 'http://127.0.0.1:9'}
    res = vmevalkit('infer', '--model', 'runway-gen4-turbo', '--questions-dir', q, '--output-dir', tmp_path/'out', env=env)
    fct.test_eq(res.returncode, 2)
    assert res.stdout.startswith('Estimated cost $0.50 for 2 runs'), res.stdout
    fct.test_eq(len(res.stderr.splitlines()), 1)
    assert 'above $0.30' in res.stderr and '--yes' in res.stderr and 'rw-test-key' not in res.stderr + res.stdout
    fct.test_eq((tmp_path/'out').exists(), False)
    res = vmevalkit('infer', '--model', 'oracle', '--questions-dir', q, '--output-dir', tmp_path/'free', '--quiet', env=env)
    fct.test_eq(res.returncode, 0)
    assert res.stdout.startswith('Estimated cost $0.00 for 2 runs'), res.stdout

def test_estimate_uses_resolution_price():
    fct.test_eq((estimate_cost('veo-3.1-fast-generate-001', 8), estimate_cost('veo-3.1-fast-generate-001', 8, resolution='4k')), (0.8, 2.4))


def test_configs_tell_the_truth_about_time():
    "frontier.yaml names only models that can be called today; paper.yaml is marked historical and names the retired."
    from vmevalkit.pipeline import read_config
    configs = Path(__file__).resolve().parent.parent/'configs'
    status = lambda cfg: {m: model_entry(m)['status'] for m in read_config(configs/cfg)['models']}
    fct.test_eq(set(status('frontier.yaml').values()), {'available'})
    fct.test({'openai-sora-2', 'veo-3.0-generate', 'veo-3.1-generate'}, {m for m, s in status('paper.yaml').items()
                                                                             if s == 'retired'}, le)
    fct.test_eq((configs/'paper.yaml').read_text().startswith('# HISTORICAL'), True)
