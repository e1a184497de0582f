"A plug-in package installed with pip extends every command (its domain, checker, model and scorer) with no change here."
import json, os, shutil, subprocess, sys, urllib.request
from pathlib import Path
import pytest
from fastcore import test as fct
from fastcore.basics import in_
from conftest import ctrl_c_reaches_it, vmevalkit

EXAMPLE = Path(__file__).resolve().parent.parent/'examples'/'vmevalkit-fill'

@pytest.fixture(scope='module')
def site(tmp_path_factory)->Path:
    "The example plug-in, installed by pip from its source (offline) into a folder that the commands get on their path."
    src, target = tmp_path_factory.mktemp('src')/'vmevalkit-fill', tmp_path_factory.mktemp('site')
    shutil.copytree(EXAMPLE, src)  # pip may write build files beside the source: not in the repository
    res = subprocess.run([sys.executable, '-m', 'pip', 'install', '--quiet', '--no-deps', '--no-build-isolation',
                          '--no-index', '--target', str(target), str(src)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    fct.test_eq(sorted(p.name for p in target.iterdir()), ['vmevalkit_fill', 'vmevalkit_fill-0.1.0.dist-info'])
    return target

def cli(site:Path|None, *args, cwd):
    return vmevalkit(*args, cwd=cwd, env={'PYTHONPATH': str(site)} if site else {})

def test_without_the_plugin_the_names_are_unknown(tmp_path):
    res = cli(None, 'create', '--domains', 'fill', '--output-dir', tmp_path/'q', cwd=tmp_path)
    fct.test_eq(res.returncode, 2)
    fct.test("Unknown domain 'fill'", res.stderr, in_)
    fct.test_eq([l.split()[0] for l in cli(None, 'domains', cwd=tmp_path).stdout.splitlines()],
                ['chess', 'maze', 'raven', 'rotation', 'sudoku'])

def test_every_command_uses_the_plugin(site, tmp_path):
    run = lambda *a: cli(site, *a, cwd=tmp_path)
    domains = run('domains')
    fct.test_eq((domains.returncode, domains.stdout.splitlines()[-1].split()[0]), (0, 'fill'))
    toys = run('models', '--family', 'toy').stdout.splitlines()[1:]
    fct.test_eq([l.split()[:3] for l in toys], [['fade-out', 'toy', 'reference']])
    res = run('create', '--pairs-per-domain', 2, '--domains', 'fill', '--workers', 1)
    fct.test_eq(res.returncode, 0)
    fct.test_eq(sorted(p.name for p in (tmp_path/'data/questions/fill_task').iterdir()), ['fill_0000', 'fill_0001'])
    res = run('validate', 'data/questions')
    fct.test_eq((res.returncode, res.stdout.splitlines()[-1]), (0, 'OK: 2 questions, 0 problems'))
    res = run('infer', '--model', 'oracle', 'still', 'fade-out', '--domains', 'fill', '--experiment', 'plug', '--quiet')
    fct.test_eq((res.returncode, res.stdout.splitlines()[-1].split(':')[0]), (0, '6 runs'))
    fct.test_eq(run('score', 'auto', '--experiment', 'plug', '--workers', 1).returncode, 0)
    fct.test_eq(run('score', 'moved', '--experiment', 'plug').returncode, 0)
    moved = sorted((tmp_path/'data/scorings/moved-eval/plug').rglob('*.json'))
    fct.test_eq(len(moved), 6)
    wrong = run('score', 'moved', '--experiment', 'plug', '--workers', 2)
    fct.test_eq(wrong.returncode, 2)
    fct.test("--workers does not apply to scorer 'moved'", wrong.stderr, in_)
    res = run('analyze', '--experiment', 'plug', '--scorer', 'auto', '--formats', 'png', '--quiet')
    fct.test_eq(res.returncode, 0)
    stats = json.loads((tmp_path/'data/analysis/plug/statistics.json').read_text())
    rates = {r['model']: r['rate'] for r in stats['scorers']['auto']['rates_by_model']}
    fct.test_eq(rates, {'fade-out': 0.0, 'oracle': 1.0, 'still': 0.0})
    fct.test_eq([r['domain'] for r in stats['scorers']['auto']['rates_by_domain']], ['fill'])
    fct.test_eq(sorted(stats['records']), ['auto', 'moved'])
    fct.test_eq(_dashboard_results(site, tmp_path), {('fade-out', 'fill'): 2, ('oracle', 'fill'): 2, ('still', 'fill'): 2})

def _dashboard_results(site:Path, cwd:Path)->dict:
    "Start `vmevalkit dashboard` with the plug-in installed; (model, domain) → runs its results API lists."
    exe = Path(sys.executable).parent/'vmevalkit'
    proc = subprocess.Popen([str(exe), 'dashboard', '--port', '0', '--data-dir', 'data'], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, env={**_env(), 'PYTHONPATH': str(site)}, preexec_fn=ctrl_c_reaches_it)
    try:
        url = proc.stdout.readline().split(' at ')[1].split()[0]
        with urllib.request.urlopen(url + 'api/results?domain=fill&per_page=100', timeout=30) as r: body = json.load(r)
        counts = {}
        for run in body['results']: counts[(run['model'], run['domain'])] = counts.get((run['model'], run['domain']), 0) + 1
        return counts
    finally:
        proc.terminate(); proc.wait(timeout=30)

def _env()->dict:
    return {k: v for k, v in os.environ.items() if k != 'VMEVAL_DATA_DIR'}

def test_a_broken_plugin_is_skipped_with_a_warning(site, tmp_path):
    broken = tmp_path/'broken-site'
    (broken/'mylab_broken-1.0.dist-info').mkdir(parents=True)
    (broken/'mylab_broken-1.0.dist-info/METADATA').write_text('Metadata-Version: 2.1\nName: mylab-broken\nVersion: 1.0\n')
    (broken/'mylab_broken-1.0.dist-info/entry_points.txt').write_text(
        '[vmevalkit.domains]\nlost = mylab_broken.gone:LostTask\nmaze = vmevalkit_fill.task:FillTask\n')
    res = vmevalkit('domains', cwd=tmp_path, env={'PYTHONPATH': f"{site}:{broken}"})
    fct.test_eq(res.returncode, 0)
    names = [l.split()[0] for l in res.stdout.splitlines()]
    fct.test_eq(names, ['chess', 'maze', 'raven', 'rotation', 'sudoku', 'fill'])  # the built-in maze is kept
    fct.test("plug-in lost = 'mylab_broken.gone:LostTask'", res.stderr, in_)
    fct.test("no module named 'mylab_broken'", res.stderr, in_)
    fct.test("plug-in maze = 'vmevalkit_fill.task:FillTask' (entry point group vmevalkit.domains) skipped: 'maze' is "
             "already registered", res.stderr, in_)
