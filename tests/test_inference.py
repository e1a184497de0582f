"Inference end to end: the demo config, resume after SIGKILL, shards that share one tree, and bad input."
import json, os, signal, subprocess, sys, time
from pathlib import Path
from fastcore import test as fct
from conftest import vmevalkit

ROOT = Path(__file__).resolve().parent.parent

def run_folders(outputs:Path)->dict:
    "run_id → status for every run folder under `outputs` (hidden temporary folders excluded)."
    out = {}
    for meta in outputs.rglob('metadata.json'):
        if any(part.startswith('.') for part in meta.relative_to(outputs).parts): continue
        m = json.loads(meta.read_text())
        out[m['inference']['run_id']] = m['inference']['status']
    return out

def test_demo_config_writes_the_documented_tree(tmp_path):
    res = vmevalkit('run', ROOT/'configs/demo.yaml', '--data-dir', tmp_path/'data', '--quiet')
    fct.test_eq(res.returncode, 0)
    assert '60 runs: 60 done, 0 skipped, 0 failed' in res.stdout
    run = tmp_path/'data/outputs/demo/oracle/maze_task/maze_0001/oracle_maze_0001_s0'
    fct.test_eq(sorted(p.relative_to(run).as_posix() for p in run.rglob('*') if p.is_file()),
                ['metadata.json', 'question/final_frame.png', 'question/first_frame.png', 'question/prompt.txt',
                 'question/question_metadata.json', 'video/generated_video.mp4'])
    m = json.loads((run/'metadata.json').read_text())
    fct.test_eq(sorted(m), ['inference', 'input', 'output', 'paths', 'provenance', 'question_data'])
    fct.test_eq(m['output']['video_path'], 'outputs/demo/oracle/maze_task/maze_0001/oracle_maze_0001_s0/video/generated_video.mp4')
    fct.test_eq(m['input']['image_path'], 'questions/maze_task/maze_0001/first_frame.png')
    fct.test_eq(m['question_data']['id'], 'maze_0001')
    again = vmevalkit('run', ROOT/'configs/demo.yaml', '--data-dir', tmp_path/'data', '--quiet')
    assert '60 runs: 0 done, 60 skipped, 0 failed' in again.stdout

def test_resume_after_sigkill_loses_nothing(tmp_path):
    cfg = tmp_path/'exp.yaml'
    cfg.write_text('experiment: kill\ntasks: {domains: [maze, sudoku], pairs_per_domain: 4}\nmodels: [oracle, crossfade]\nsamples: 2\n')
    exe = Path(sys.executable).parent/'vmevalkit'
    proc = subprocess.Popen([str(exe), 'run', str(cfg), '--data-dir', str(tmp_path/'data'), '--quiet'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    outputs = tmp_path/'data/outputs/kill'
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(run_folders(outputs) if outputs.exists() else {}) < 5: time.sleep(0.05)
    proc.send_signal(signal.SIGKILL); proc.wait()
    before = run_folders(outputs)
    assert 5 <= len(before) < 32, len(before)               # killed in the middle of the batch
    assert set(before.values()) == {'success'}              # every folder that looks complete is complete
    fct.test_eq(len([p for p in outputs.rglob('generated_video.mp4') if '.tmp' not in str(p)]), len(before))
    videos_before = {p: p.stat().st_mtime_ns for p in outputs.rglob('generated_video.mp4') if '.tmp' not in str(p)}
    res = vmevalkit('run', cfg, '--data-dir', tmp_path/'data', '--quiet')
    fct.test_eq(res.returncode, 0)
    assert f'32 runs: {32 - len(before)} done, {len(before)} skipped, 0 failed' in res.stdout, res.stdout
    fct.test_eq(len(run_folders(outputs)), 32)
    fct.test_eq({p: p.stat().st_mtime_ns for p in videos_before}, videos_before)   # completed runs untouched
    fct.test_eq([p for p in outputs.rglob('*.tmp')], [])                            # the killed run's leftovers cleaned

def test_shards_split_one_tree(tmp_path):
    q = tmp_path/'data/questions'
    vmevalkit('create', '--pairs-per-domain', 3, '--domains', 'maze', 'raven', '--output-dir', q)
    procs = [subprocess.Popen([str(Path(sys.executable).parent/'vmevalkit'), 'infer', '--model', 'still', 'oracle',
                               '--experiment', 'sharded', '--questions-dir', str(q), '--shard', f'{i}/3', '--quiet'],
                              stdout=subprocess.PIPE, text=True) for i in range(3)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    fct.test_eq([p.returncode for p in procs], [0, 0, 0])
    fct.test_eq(sum(int(o.split(' runs:')[0].split()[-1]) for o in outs), 12)
    fct.test_eq(len(run_folders(tmp_path/'data/outputs/sharded')), 12)

def test_bad_input_is_named_and_leaves_no_folder(tmp_path):
    q = tmp_path/'data/questions'
    vmevalkit('create', '--pairs-per-domain', 1, '--domains', 'maze', '--output-dir', q)
    cases = [(['--model', 'luma-ray'], "Unknown model 'luma-ray'. Did you mean 'luma-ray-2'"),
             (['--model', 'oracle', 'luma-ray-2'], 'needs key LUMA_API_KEY'),
             (['--model', 'oracle', '--shard', '2/2'], '0 ≤ I < N')]
    for flags, message in cases:
        res = vmevalkit('infer', '--questions-dir', q, '--experiment', 'bad', *flags, env={'LUMA_API_KEY': ''})
        fct.test_eq(res.returncode, 2)
        assert message in res.stderr, res.stderr
    fct.test_eq((tmp_path/'data/outputs').exists(), False)
    res = vmevalkit('run', tmp_path/'missing.yaml')
    assert res.returncode == 2 and 'Config not found' in res.stderr

def test_models_command_names_what_is_missing():
    res = vmevalkit('models', env={'LUMA_API_KEY': '', 'S3_BUCKET': ''})
    fct.test_eq(res.returncode, 0)
    lines = {l.split()[0]: l for l in res.stdout.splitlines()}
    assert lines['oracle'].endswith('ready')
    assert 'key LUMA_API_KEY' in lines['luma-ray-2'] and 'key S3_BUCKET' in lines['luma-ray-2']

def test_api_failures_are_recorded_redacted_and_redone(tmp_path, monkeypatch, caplog):
    "A provider that refuses the key, then one that is down, then one that works: every failure is recorded, the key never."
    import logging, socket
    import numpy as np
    from provider_servers import RunwayServer
    from vmevalkit.core import write_video
    from vmevalkit.inference import run_experiment
    from vmevalkit.tasks import create_dataset
    fast = dict(backoff=0.01, backoff_max=0.05, poll_interval=0.01, poll_timeout=5, attempts=2)
    questions = tmp_path/'data/questions'
    create_dataset(2, ['maze'], seed=0, output_dir=questions, workers=1)
    mp4 = write_video([np.zeros((64, 64, 3), np.uint8)]*4, tmp_path/'v.mp4').read_bytes()
    secret = 'key_live_SECRET_987654321'
    monkeypatch.setenv('RUNWAYML_API_SECRET', secret)
    caplog.set_level(logging.DEBUG)
    outputs = tmp_path/'data/outputs/api'
    with RunwayServer('another-key', mp4) as srv:
        monkeypatch.setenv('RUNWAY_BASE_URL', srv.url)
        srv.faults['submit'] = [(401, {'error': 'x'*at + f' {secret} is not a valid key ' + 'y'*300}, {}) for at in (280, 285)]
        refused = run_experiment(questions, ['runway-gen4-turbo'], 'api', quiet=True, **fast)
    fct.test_eq((refused.done, len(refused.failed)), (0, 2))
    assert all("RUNWAYML_API_SECRET" in e for e in refused.failed.values()), refused.failed
    fct.test_eq(sorted(run_folders(outputs).values()), ['failed', 'failed'])
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); closed = s.getsockname()[1]
    monkeypatch.setenv('RUNWAY_BASE_URL', f'http://127.0.0.1:{closed}')
    down = run_experiment(questions, ['runway-gen4-turbo'], 'api', quiet=True, **fast)
    assert all("ConnectError" in e for e in down.failed.values()), down.failed
    with RunwayServer(secret, mp4) as srv:
        monkeypatch.setenv('RUNWAY_BASE_URL', srv.url)
        ok = run_experiment(questions, ['runway-gen4-turbo'], 'api', quiet=True, **fast)
    fct.test_eq((ok.done, ok.skipped, len(ok.failed)), (2, 0, 0))
    fct.test_eq(sorted(run_folders(outputs).values()), ['success', 'success'])
    everything = ''.join(p.read_text(errors='replace') for p in outputs.rglob('*.json')) + caplog.text + str(refused) + str(down)
    fct.test_eq([secret[i:i+8] for i in range(len(secret) - 7) if secret[i:i+8] in everything], [])


def test_resume_redoes_a_success_whose_video_is_gone(tmp_path):
    "A run counts as done only when its metadata says success *and* its video is there."
    from vmevalkit.inference import run_experiment
    from vmevalkit.tasks import create_dataset
    questions = tmp_path/'data/questions'
    create_dataset(2, ['maze'], seed=0, output_dir=questions, workers=1)
    first = run_experiment(questions, ['still'], 'gone', quiet=True)
    fct.test_eq((first.done, first.skipped), (2, 0))
    video = next((tmp_path/'data/outputs/gone').rglob('generated_video.mp4'))
    video.unlink()
    again = run_experiment(questions, ['still'], 'gone', quiet=True)
    fct.test_eq((again.done, again.skipped), (1, 1))
    fct.test_eq(video.is_file(), True)
    fct.test_eq(json.loads((video.parent.parent/'metadata.json').read_text())['inference']['status'], 'success')


# retired models (Sora, Veo 3.0) are refused before any request, so the CLI can only reach available ones
PROVIDER_KEYS = {'runway-gen4-turbo': ('RunwayServer', 'RUNWAYML_API_SECRET', 'RUNWAY_BASE_URL'),
                 'luma-ray-2': ('LumaServer', 'LUMA_API_KEY', 'LUMA_BASE_URL'),
                 'wavespeed-wan-2.2-i2v-720p': ('WaveSpeedServer', 'WAVESPEED_API_KEY', 'WAVESPEED_BASE_URL')}
from vmevalkit.models.veo import VEO_MODELS
if 'veo-3.1-fast-generate-001' in VEO_MODELS:  # joins once the Veo wrapper knows the GA ids (issue 14)
    PROVIDER_KEYS['veo-3.1-fast-generate-001'] = ('VeoServer', 'GEMINI_API_KEY', 'GEMINI_BASE_URL')

def test_keys_echoed_by_every_provider_never_leak(tmp_path):
    "Each stand-in echoes the key it was sent in a long error body, across the 300-character cut: no piece of it in the CLI's output or any file."
    import socket
    import numpy as np
    import provider_servers
    from moto.server import ThreadedMotoServer
    from vmevalkit.core import write_video
    from vmevalkit.tasks import create_dataset
    questions = tmp_path/'data/questions'
    create_dataset(1, ['maze'], seed=0, output_dir=questions, workers=1)
    mp4 = write_video([np.zeros((64, 64, 3), np.uint8)]*4, tmp_path/'v.mp4').read_bytes()
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
    s3 = ThreadedMotoServer(ip_address='127.0.0.1', port=port); s3.start()
    s3env = dict(AWS_ENDPOINT_URL=f'http://127.0.0.1:{port}', AWS_ACCESS_KEY_ID='testing', AWS_SECRET_ACCESS_KEY='s3-secret-0123456789',
                 AWS_DEFAULT_REGION='us-east-1', S3_BUCKET='frames', VMEVAL_HTTP_BACKOFF='0.01')
    import boto3
    boto3.client('s3', endpoint_url=s3env['AWS_ENDPOINT_URL'], aws_access_key_id='testing', aws_secret_access_key='x',
                 region_name='us-east-1').create_bucket(Bucket='frames')
    try:
        for n, (model, (server, key_env, base_env)) in enumerate(PROVIDER_KEYS.items()):
            key = f'zQx{n}Vb-live-0123456789abcdefGH'
            with getattr(provider_servers, server)(key, mp4) as srv:
                srv.echo_at = 280  # the key lands at 291 … 298 of the body: across the cut at 300
                res = vmevalkit('infer', '--model', model, '--experiment', 'echo', '--samples', 8, '--questions-dir', questions,
                                '--quiet', '--yes', env={**s3env, key_env: key, base_env: srv.url})
            assert (res.returncode, srv.echoed) == (1, 8), res.stderr
            assert res.stdout.count('HTTP 400') == 8, res.stdout + res.stderr
            texts = [res.stdout, res.stderr] + [p.read_text(errors='replace') for p in (tmp_path/'data').rglob('*') if p.is_file() and p.suffix != '.png']
            fct.test_eq([key[i:i+8] for i in range(len(key) - 7) if any(key[i:i+8] in t for t in texts)], [])
    finally: s3.stop()
