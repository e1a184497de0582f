"Same seed, same bytes: in a new process, with any number of workers, whatever PYTHONHASHSEED is."
import json
from pathlib import Path
from fastcore import test as fct
from conftest import vmevalkit

def snapshot(questions:Path)->dict:
    "Every file's bytes, with the timestamps (which record when, not what) blanked out."
    out = {}
    for p in sorted(questions.rglob('*')):
        if not p.is_file(): continue
        if p.suffix == '.json': out[p.relative_to(questions).as_posix()] = json.dumps(_untimed(json.loads(p.read_text())), sort_keys=True)
        else: out[p.relative_to(questions).as_posix()] = p.read_bytes()
    return out

def _untimed(o):
    if isinstance(o, dict): return {k: _untimed(v) for k, v in o.items() if k not in ('created_at', 'timestamp')}
    if isinstance(o, list): return [_untimed(v) for v in o]
    return o

def test_same_seed_same_bytes_across_processes_and_workers(tmp_path):
    a = vmevalkit('create', '--pairs-per-domain', 4, '--seed', 3, '--workers', 1, '--output-dir', tmp_path/'a', env={'PYTHONHASHSEED': '1'})
    b = vmevalkit('create', '--pairs-per-domain', 4, '--seed', 3, '--workers', 2, '--output-dir', tmp_path/'b', env={'PYTHONHASHSEED': '2'})
    fct.test_eq((a.returncode, b.returncode), (0, 0))
    sa, sb = snapshot(tmp_path/'a'), snapshot(tmp_path/'b')
    fct.test_eq(len(sa), 4*5*4 + 1)
    fct.test_eq(sa, sb)

def test_other_seed_other_questions(tmp_path):
    vmevalkit('create', '--pairs-per-domain', 2, '--seed', 1, '--output-dir', tmp_path/'a')
    vmevalkit('create', '--pairs-per-domain', 2, '--seed', 2, '--output-dir', tmp_path/'b')
    ma = json.loads((tmp_path/'a/vmeval_dataset.json').read_text())['pairs']
    mb = json.loads((tmp_path/'b/vmeval_dataset.json').read_text())['pairs']
    fct.test_eq(sum(pa['metadata'] == pb['metadata'] for pa, pb in zip(ma, mb)), 0)
