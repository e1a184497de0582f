"The package itself: a light import, a working console command, a library that matches the notebooks."
import subprocess, sys
from fastcore import test as fct
from conftest import vmevalkit

HEAVY = ['torch', 'diffusers', 'transformers', 'boto3', 'datasets', 'huggingface_hub', 'cv2', 'av', 'pandas', 'chess', 'cairosvg']

def test_import_stays_light():
    code = ("import sys, vmevalkit, vmevalkit.core, vmevalkit.tasks, vmevalkit.cli; "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    fct.test_eq(out.strip(), '[]')

def test_console_help_and_domains():
    res = vmevalkit('--help')
    fct.test_eq(res.returncode, 0)
    for sub in ['create', 'domains', 'validate', 'pipeline']: assert sub in res.stdout
    fct.test_eq([l.split()[0] for l in vmevalkit('domains').stdout.splitlines()], ['chess', 'maze', 'raven', 'rotation', 'sudoku'])

def test_unknown_subcommand_is_a_usage_error():
    res = vmevalkit('creat')
    fct.test_eq(res.returncode, 2)
    assert "invalid choice: 'creat'" in res.stderr
