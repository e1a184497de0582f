"The command line end to end: create, validate, resume, extend, and bad input that leaves data intact."
import json, shutil
from pathlib import Path
from fastcore import test as fct
from conftest import vmevalkit

DOMAINS = ['chess', 'maze', 'raven', 'rotation', 'sudoku']

def tree_bytes(folder:Path)->dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob('*')) if p.is_file()}

def test_create_15_gives_75_valid_questions(dataset_75):
    questions, res = dataset_75
    manifest = json.loads((questions/'vmeval_dataset.json').read_text())
    fct.test_eq(manifest['total_pairs'], 75)
    fct.test_eq(manifest['generation_info']['allocation'], {d: 15 for d in DOMAINS})
    fct.test_eq(sorted({p['domain'] for p in manifest['pairs']}), DOMAINS)
    fct.test_eq(len(list(questions.glob('*_task/*/first_frame.png'))), 75)
    assert '75 questions' in res.stdout
    val = vmevalkit('validate', questions)
    fct.test_eq(val.returncode, 0)
    assert 'OK: 75 questions, 0 problems' in val.stdout

def test_rerun_resumes_and_keeps_bytes(dataset_75, tmp_path):
    questions, _ = dataset_75
    copy = tmp_path/'questions'
    shutil.copytree(questions, copy)
    shutil.rmtree(copy/'maze_task'/'maze_0007')          # as if killed before this question was written
    before = tree_bytes(copy)
    res = vmevalkit('create', '--pairs-per-domain', 15, '--output-dir', copy)
    fct.test_eq(res.returncode, 0)
    after = tree_bytes(copy)
    fct.test_eq(sorted(set(after) - set(before)), [f'maze_task/maze_0007/{f}' for f in
                ['final_frame.png', 'first_frame.png', 'prompt.txt', 'question_metadata.json']])
    fct.test_eq({k: v for k, v in after.items() if k in before and not k.endswith('vmeval_dataset.json')},
                {k: v for k, v in before.items() if not k.endswith('vmeval_dataset.json')})
    fct.test_eq(after['maze_task/maze_0007/first_frame.png'], tree_bytes(questions)['maze_task/maze_0007/first_frame.png'])

def test_second_create_for_another_domain_merges(tmp_path):
    out = tmp_path/'q'
    fct.test_eq(vmevalkit('create', '--pairs-per-domain', 2, '--domains', 'maze', '--output-dir', out).returncode, 0)
    fct.test_eq(vmevalkit('create', '--pairs-per-domain', 3, '--domains', 'sudoku', '--output-dir', out).returncode, 0)
    manifest = json.loads((out/'vmeval_dataset.json').read_text())
    fct.test_eq(manifest['generation_info']['allocation'], {'maze': 2, 'sudoku': 3})
    fct.test_eq(vmevalkit('validate', out).returncode, 0)

def test_bad_requests_fail_clearly_and_write_nothing(tmp_path):
    out = tmp_path/'q'
    vmevalkit('create', '--pairs-per-domain', 2, '--domains', 'maze', '--output-dir', out)
    before = tree_bytes(out)
    cases = [(['--domains', 'chesss'], "Unknown domain 'chesss'. Did you mean 'chess'?"),
             (['--pairs-per-domain', 0], 'argument --pairs-per-domain: 0 is out of range: it must be at least 1'),
             (['--pairs-per-domain', -3], 'at least 1'),
             (['--difficulty', 'insane', '--domains', 'maze'], "Unknown maze difficulty 'insane'"),
             (['--domains', 'maze', '--seed', 1], 'made with seed 42')]
    for flags, message in cases:
        res = vmevalkit('create', '--output-dir', out, *flags)
        fct.test_eq(res.returncode, 2)
        assert message in res.stderr, (flags, res.stderr)
        assert 'Traceback' not in res.stderr
    fct.test_eq(tree_bytes(out), before)

def test_unwritable_output_dir(tmp_path):
    blocker = tmp_path/'a-file'
    blocker.write_text('not a folder')
    res = vmevalkit('create', '--pairs-per-domain', 1, '--domains', 'maze', '--output-dir', blocker/'questions')
    fct.test_eq(res.returncode, 2)
    assert 'Cannot write to' in res.stderr and 'writable --output-dir' in res.stderr
    fct.test_eq(blocker.read_text(), 'not a folder')

def test_corrupt_manifest_is_reported_not_replaced(tmp_path):
    out = tmp_path/'q'
    vmevalkit('create', '--pairs-per-domain', 1, '--domains', 'maze', '--output-dir', out)
    (out/'vmeval_dataset.json').write_text('{"pairs": [ {"id": "maze_0000"')
    before = tree_bytes(out)
    res = vmevalkit('create', '--pairs-per-domain', 2, '--domains', 'sudoku', '--output-dir', out)
    fct.test_eq(res.returncode, 2)
    assert 'vmeval_dataset.json is not valid JSON' in res.stderr
    fct.test_eq(tree_bytes(out), before)
    val = vmevalkit('validate', out)
    fct.test_eq(val.returncode, 1)
    assert 'not valid JSON' in val.stdout

def test_validate_names_every_damaged_file(tmp_path):
    out = tmp_path/'q'
    vmevalkit('create', '--pairs-per-domain', 3, '--domains', 'maze', 'sudoku', '--output-dir', out)
    (out/'maze_task/maze_0001/final_frame.png').unlink()
    (out/'sudoku_task/sudoku_0002/first_frame.png').write_bytes(b'garbage')
    meta = out/'sudoku_task/sudoku_0000/question_metadata.json'
    m = json.loads(meta.read_text()); m['metadata']['solution'][0][0] = 0; meta.write_text(json.dumps(m))
    res = vmevalkit('validate', out)
    fct.test_eq(res.returncode, 1)
    assert 'maze_0001/final_frame.png: Image not found' in res.stdout
    assert 'sudoku_0002/first_frame.png: Image' in res.stdout and 'corrupt' in res.stdout
    assert 'sudoku_0000/question_metadata.json: metadata differs from the manifest' in res.stdout

def test_read_only_writes_nothing(dataset_75):
    questions, _ = dataset_75
    before = tree_bytes(questions)
    res = vmevalkit('create', '--read-only', '--output-dir', questions)
    fct.test_eq(res.returncode, 0)
    assert '75 questions' in res.stdout
    fct.test_eq(tree_bytes(questions), before)

def test_pipeline_main_job(tmp_path):
    "The main job writes under ./data by default, under $VMEVAL_DATA_DIR when set, or under --data-dir."
    for env, flags, root in [({}, [], tmp_path/'data'), ({'VMEVAL_DATA_DIR': str(tmp_path/'env')}, [], tmp_path/'env'),
                             ({}, ['--data-dir', tmp_path/'flag'], tmp_path/'flag')]:
        res = vmevalkit('pipeline', '--pairs-per-domain', 1, *flags, cwd=tmp_path, env=env)
        fct.test_eq(res.returncode, 0)
        assert 'Validation: OK (5 questions, 0 problems)' in res.stdout
        fct.test_eq(json.loads((root/'questions/vmeval_dataset.json').read_text())['total_pairs'], 5)
