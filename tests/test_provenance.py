"Every file a later reader compares says what made it: the manifest, each run, each score record, the analysis."
import json
from pathlib import Path
from fastcore import test as fct
from fastcore.basics import in_
from conftest import vmevalkit
from vmevalkit import __version__

def _provenance_ok(p:dict):
    fct.test_eq(p['vmevalkit'], __version__)
    fct.test_eq({'av', 'numpy', 'pillow'} - set(p['libraries']), set())
    if 'commit' in p: fct.test_eq((len(p['commit']), type(p['dirty'])), (40, bool))

def test_every_written_file_records_what_made_it(tmp_path):
    data = tmp_path/'data'
    for args in (('create', '--pairs-per-domain', 2, '--domains', 'maze', 'sudoku', '--workers', 1),
                 ('infer', '--model', 'oracle', 'still', '--experiment', 'e'),
                 ('score', 'auto', '--experiment', 'e', '--workers', 1)):
        res = vmevalkit(*args, '--data-dir', data, '--quiet')
        fct.test_eq((args[0], res.returncode), (args[0], 0))
    manifest = json.loads((data/'questions/vmeval_dataset.json').read_text())
    _provenance_ok(manifest['provenance'])
    fct.test_eq({d: v['renderer_version'] for d, v in manifest['generation_info']['domains'].items()}, dict(maze=1, sudoku=1))
    fct.test_eq({p['generator']['renderer'] for p in manifest['pairs']}, {1})  # each question: its domain's drawing code
    runs = sorted((data/'outputs/e').glob('*/*_task/*/*/metadata.json'))
    records = sorted((data/'scorings/auto-eval/e').rglob('*.json'))
    fct.test_eq((len(runs), len(records)), (8, 8))
    for f in runs: _provenance_ok(json.loads(f.read_text())['provenance'])
    for f in records: _provenance_ok(json.loads(f.read_text())['metadata']['provenance'])
    res = vmevalkit('analyze', '--experiment', 'e', '--data-dir', data, '--quiet')
    fct.test_eq(res.returncode, 0)
    stats = json.loads((data/'analysis/e/statistics.json').read_text())
    _provenance_ok(stats['provenance'])
    fct.test_eq(stats['record_versions'], {__version__: 8})
    fct.test(f"by vmevalkit {__version__}", (data/'analysis/e/report.md').read_text(), in_)
    fct.test("Mixed versions", res.stdout, lambda a, b: a not in b)

def test_analyze_warns_when_an_experiment_mixes_versions(tmp_path):
    data = tmp_path/'data'
    for args in (('create', '--pairs-per-domain', 2, '--domains', 'maze', '--workers', 1),
                 ('infer', '--model', 'oracle', 'still', '--experiment', 'e'),
                 ('score', 'auto', '--experiment', 'e', '--workers', 1)):
        fct.test_eq(vmevalkit(*args, '--data-dir', data, '--quiet').returncode, 0)
    old = sorted((data/'scorings/auto-eval/e').rglob('*.json'))[0]
    rec = json.loads(old.read_text()); rec['metadata']['provenance']['vmevalkit'] = '0.0.9'
    old.write_text(json.dumps(rec))
    res = vmevalkit('analyze', '--experiment', 'e', '--data-dir', data, '--quiet')
    fct.test_eq(res.returncode, 0)
    fct.test(f"Mixed versions: these records were written by vmevalkit 0.0.9 (1), {__version__} (3)", res.stdout, in_)
    fct.test_eq(json.loads((data/'analysis/e/statistics.json').read_text())['record_versions'], {'0.0.9': 1, __version__: 3})
