"""Bad arguments at the command line's edge (issue 13, item 7): each is refused with exit code 2 and one line on stderr,
no traceback, and nothing is written, neither in the data folder nor beside it."""
import contextlib, io
import pytest
from fastcore import test as fct
from conftest import vmevalkit

@pytest.fixture(scope='module')
def root(tmp_path_factory):
    "A folder holding a data folder (one maze question, one oracle run in experiment `e1`), a file and a sentinel."
    from vmevalkit.tasks import create_dataset
    from vmevalkit.inference import run_experiment
    root = tmp_path_factory.mktemp('adv')
    create_dataset(1, ['maze'], output_dir=root/'data'/'questions', workers=1)
    fct.test_eq(run_experiment(root/'data'/'questions', ['oracle'], 'e1', quiet=True).done, 1)
    (root/'run.yaml').write_text('experiment: e2\nmodels: [oracle]\n')
    (root/'a-file.txt').write_text('mine')
    (root/'outside').mkdir(); (root/'outside'/'keep.txt').write_text('keep')
    return root

def snapshot(root)->dict:
    "Every path under `root` with its size and modification time."
    return {p.relative_to(root).as_posix(): (p.is_dir(), p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob('*')}

def cases(root)->dict:
    "Bad argument lists, by what is wrong with them."
    D, Q, F = str(root/'data'), str(root/'data'/'questions'), str(root/'a-file.txt')
    infer = ['infer', '--model', 'oracle', '--questions-dir', Q, '--experiment', 'new']
    score = ['score', 'auto', '--experiment', 'e1', '--data-dir', D]
    create = ['create', '--domains', 'maze', '--output-dir', Q]
    out = {'models --family nosuch': ['models', '--family', 'nosuch'],
           'infer --model nosuch': ['infer', '--model', 'nosuch', '--questions-dir', Q],
           'infer --domains nosuch': [*infer, '--domains', 'nosuch'],
           'score --model nosuch': [*score, '--model', 'nosuch'],
           'score --domains mazes': [*score, '--domains', 'mazes'],
           'create --pairs-per-domain 1000000000': [*create, '--pairs-per-domain', '1000000000'],
           'pipeline --workers 0': ['pipeline', '--data-dir', D, '--workers', '0'],
           'run --concurrency 0': ['run', str(root/'run.yaml'), '--data-dir', D, '--concurrency', '0'],
           'dashboard --port 99999': ['dashboard', '--data-dir', D, '--port', '99999'],
           'dashboard --experiment ../../x': ['dashboard', '--data-dir', D, '--experiment', '../../x', '--port', '0'],
           'dashboard --data-dir FILE': ['dashboard', '--data-dir', F, '--port', '0'],
           'analyze --out FILE': ['analyze', '--experiment', 'e1', '--data-dir', D, '--out', F]}
    for v in ['0', '-1']:
        out |= {f'infer --concurrency {v}': [*infer, '--concurrency', v], f'infer --samples {v}': [*infer, '--samples', v],
                f'score --workers {v}': [*score, '--workers', v], f'create --workers {v}': [*create, '--workers', v]}
    for bad in ['', '../../x', str(root/'abs')]:
        out |= {f'infer --experiment {bad!r}': [*infer[:-1], bad],
                f'score --experiment {bad!r}': ['score', 'auto', '--data-dir', D, '--experiment', bad],
                f'analyze --experiment {bad!r}': ['analyze', '--data-dir', D, '--experiment', bad]}
    return out

def run_main(argv:list)->tuple:
    "Exit code, stdout and stderr of `vmevalkit.cli.main(argv)` in this process (argparse exits with SystemExit)."
    from vmevalkit.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try: code = main(argv)
        except SystemExit as e: code = e.code
    return code, out.getvalue(), err.getvalue()

@pytest.fixture
def guarded(root, monkeypatch):
    "`root` as the working folder, and the jobs a command starts made to fail: a bad argument must not get that far."
    import vmevalkit.analysis.report, vmevalkit.dashboard, vmevalkit.inference, vmevalkit.pipeline, vmevalkit.scoring
    import vmevalkit.tasks
    def reached(*args, **kwargs): raise AssertionError('the bad argument reached the work')
    monkeypatch.setattr(vmevalkit.dashboard, 'DashboardServer', reached)  # it would serve forever
    monkeypatch.setattr(vmevalkit.tasks, '_make_questions', reached)  # it would fill memory for hours
    for module, job in [(vmevalkit.inference, 'run_experiment'), (vmevalkit.pipeline, 'run_config'),
                        (vmevalkit.scoring, 'score_experiment'), (vmevalkit.analysis.report, '_scores_or_explain')]:
        monkeypatch.setattr(module, job, reached)
    monkeypatch.chdir(root)  # a default path (./data) lands where the snapshot sees it
    monkeypatch.delenv('VMEVAL_DATA_DIR', raising=False)
    return root

def test_every_bad_argument_is_one_line_and_exit_2(guarded):
    root = guarded
    before, problems = snapshot(root), []
    for name, argv in cases(root).items():
        try: code, _, err = run_main(argv)
        except Exception as e: code, err = repr(e), ''  # list every case that fails, not only the first
        if code != 2 or len(err.splitlines()) != 1 or 'Traceback' in err: problems.append((name, code, err))
    fct.test_eq(problems, [])
    fct.test_eq(snapshot(root), before)

@pytest.mark.parametrize('name', ['models --family nosuch', 'dashboard --port 99999', 'analyze --out FILE',
                                  'pipeline --workers 0'])
def test_the_command_itself_prints_one_line(root, name):
    before = snapshot(root)
    res = vmevalkit(*cases(root)[name], cwd=root)
    fct.test_eq(res.returncode, 2)
    fct.test_eq(len(res.stderr.splitlines()), 1)
    assert res.stderr.startswith(f"vmevalkit {name.split()[0]}: error: "), res.stderr
    fct.test_eq(snapshot(root), before)

def test_messages_say_what_to_do(guarded):
    root = guarded
    _, _, err = run_main(cases(root)['create --pairs-per-domain 1000000000'])
    assert 'Ask for at most 100001 now, then call again with a larger number' in err, err
    _, _, err = run_main(cases(root)['score --domains mazes'])
    assert "Unknown domain 'mazes'. Did you mean 'maze'?" in err, err
    _, _, err = run_main(cases(root)['analyze --out FILE'])
    assert 'is not a folder' in err, err
