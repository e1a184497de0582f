"Datasets written by the original toolkit are read as they are."
import json, shutil
from fastcore import test as fct
from vmevalkit.tasks import read_dataset_from_folders, validate_dataset, create_dataset
from vmevalkit.core import read_manifest

ORIGINAL_KEYS = ['id', 'domain', 'difficulty', 'task_category', 'first_image_path', 'final_image_path', 'prompt',
                 'created_at', 'metadata']

def as_original(questions):
    "Rewrite a dataset the way the original toolkit stored it: no `render`, no `generator`, flat question files."
    m = json.loads((questions/'vmeval_dataset.json').read_text())
    m['pairs'] = [{k: p[k] for k in ORIGINAL_KEYS} for p in m['pairs']]
    (questions/'vmeval_dataset.json').write_text(json.dumps(m))
    for p in m['pairs']:
        (questions/f"{p['domain']}_task"/p['id']/'question_metadata.json').write_text(json.dumps(p))
    return m

def test_original_manifest_and_folders_are_read(tmp_path):
    create_dataset(2, ['chess', 'maze'], seed=5, output_dir=tmp_path, workers=1)
    original = as_original(tmp_path)
    manifest = read_manifest(tmp_path)
    fct.test_eq([p.to_dict() for p in manifest['pairs']], [{**p, 'render': {}} for p in original['pairs']])
    fct.test_eq([p.id for p in read_dataset_from_folders(tmp_path)['pairs']], [p['id'] for p in original['pairs']])
    fct.test_eq(validate_dataset(tmp_path).ok, True)

def test_sparse_original_question_metadata(tmp_path):
    "Old question folders may hold only a few fields: the prompt then comes from prompt.txt, paths from the folder."
    create_dataset(1, ['maze'], seed=5, output_dir=tmp_path, workers=1)
    folder = tmp_path/'maze_task'/'maze_0000'
    (folder/'question_metadata.json').write_text(json.dumps({'domain': 'maze', 'metadata': {}}))
    pair = read_dataset_from_folders(tmp_path)['pairs'][0]
    fct.test_eq((pair.id, pair.prompt), ('maze_0000', (folder/'prompt.txt').read_text().strip()))
    fct.test_eq(pair.first_image_path, 'maze_task/maze_0000/first_frame.png')
