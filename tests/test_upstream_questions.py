"""Questions written by the original VMEvalKit generator (v0.0.5, ../shared/fixtures/upstream-v0.0.5, read from there):
validated for what they carry, answered by models that need only the images, judged, and honestly skipped by what needs
the state they lack."""
import json, shutil
from pathlib import Path
import pytest
from fastcore import test as fct
from fastcore.basics import in_
from conftest import vmevalkit
from openai_server import OpenAIServer
from vmevalkit.models.api import RetryPolicy
from vmevalkit.scoring.vlm import score_vlm

UPSTREAM = Path(__file__).resolve().parents[2]/'shared'/'fixtures'/'upstream-v0.0.5'
pytestmark = pytest.mark.skipif(not UPSTREAM.is_dir(), reason=f"the original toolkit's fixture is not at {UPSTREAM}")
DOMAINS = ['chess', 'maze', 'raven', 'rotation', 'sudoku']

@pytest.fixture(scope='module')
def answered(tmp_path_factory)->Path:
    "A data root whose questions are the fixture (copied: runs write beside it), answered by three reference models."
    root = tmp_path_factory.mktemp('upstream')
    shutil.copytree(UPSTREAM, root/'questions')
    res = vmevalkit('infer', '--model', 'still', 'cut-to-final', 'oracle', '--data-dir', root, '--experiment', 'e', '--quiet')
    fct.test_eq(res.returncode, 1)  # the oracle's runs fail, with their reason
    return root

def test_validate_proves_what_the_original_carries():
    res = vmevalkit('validate', UPSTREAM)
    fct.test_eq((res.returncode, res.stderr), (0, ''))
    fct.test_eq(res.stdout.splitlines()[-1], 'OK: 10 questions, 0 problems')
    notes = [l for l in res.stdout.splitlines() if l.startswith('note: ')]
    fct.test_eq([n.split()[2] for n in notes], DOMAINS)
    proved = {n.split()[2]: 're-proved from the original fields' in n for n in notes}
    fct.test_eq(proved, dict(chess=True, maze=False, raven=False, rotation=False, sudoku=True))
    fct.test("the maze's walls are not recorded", notes[1], in_)

def _tamper(q:Path, qid:str, change):
    "Apply `change` to question `qid`'s metadata, in its folder and in the manifest alike."
    folder = q/f"{qid.split('_')[0]}_task"/qid/'question_metadata.json'
    meta = json.loads(folder.read_text()); change(meta); folder.write_text(json.dumps(meta))
    manifest = json.loads((q/'vmeval_dataset.json').read_text())
    manifest['pairs'] = [meta if p['id'] == qid else p for p in manifest['pairs']]
    (q/'vmeval_dataset.json').write_text(json.dumps(manifest))

def test_validate_finds_a_broken_original_question(tmp_path):
    q = Path(shutil.copytree(UPSTREAM, tmp_path/'q'))
    _tamper(q, 'chess_0000', lambda m: m['chess_data'].update(mate_moves=['Rh7']))
    _tamper(q, 'sudoku_0000', lambda m: m['solution_array'].__setitem__(0, m['solution_array'][1]))
    (q/'maze_task/maze_0001/question_metadata.json').write_text('{"id": "maze_0001", ')
    raven = q/'raven_task/raven_0000/question_metadata.json'
    raven.write_text(raven.read_text().replace('Combination pattern', 'Progression'))  # the folder only
    res = vmevalkit('validate', q)
    fct.test_eq((res.returncode, res.stderr), (1, ''))
    problems = [l for l in res.stdout.splitlines() if not l.startswith(('note: ', 'FAILED'))]
    fct.test("Rh7 does not mate in k7/ppp5/8/8/8/8/8/K6R w - - 0 1", problems, lambda s, ps: any(s in p for p in ps))
    fct.test("the solution changes the given cells", problems, lambda s, ps: any(s in p for p in ps))
    fct.test("maze_0001/question_metadata.json", problems, lambda s, ps: any(s in p for p in ps))
    fct.test("raven_0000/question_metadata.json: metadata differs from the manifest", problems, lambda s, ps: any(s in p for p in ps))

def test_models_that_need_only_the_images_answer_every_question(answered):
    videos = sorted((answered/'outputs/e').glob('*/*_task/*/*/video/generated_video.mp4'))
    fct.test_eq(sorted({p.parts[-6] for p in videos}), ['cut-to-final', 'still'])
    fct.test_eq(len(videos), 20)
    meta = json.loads((answered/'outputs/e/oracle/maze_task/maze_0000/oracle_maze_0000_s0/metadata.json').read_text())
    fct.test_eq(meta['inference']['status'], 'failed')
    fct.test("original format: the maze's walls are not recorded", meta['inference']['error'], in_)

def test_auto_scoring_skips_with_the_reason(answered, tmp_path):
    root = Path(shutil.copytree(answered, tmp_path/'data'))
    res = vmevalkit('score', 'auto', '--experiment', 'e', '--data-dir', root, '--workers', 1)
    fct.test_eq((res.returncode, res.stderr), (0, ''))
    records = [json.loads(p.read_text()) for p in sorted((root/'scorings/auto-eval/e').rglob('*.json'))]
    fct.test_eq(len(records), 30)
    fct.test_eq({r['result']['status'] for r in records}, {'skipped'})
    causes = {r['result']['details']['skip_cause'] for r in records}
    fct.test_eq(causes, {'original format', 'no video'})

def test_a_judge_scores_original_questions(answered, tmp_path, monkeypatch):
    root = Path(shutil.copytree(answered, tmp_path/'data'))
    monkeypatch.setenv('VMEVAL_JUDGE_API_KEY', 'sk-judge')
    with OpenAIServer(key='sk-judge', models=['judge']) as srv:
        summary = score_vlm('e', root, 'vlm', srv.url, 'judge', models=['still', 'cut-to-final'], quiet=True,
                            policy=RetryPolicy(attempts=2, backoff=.01, timeout=5))
        chats = len(srv.chats)
    scores = {(r.model_name, r.status, r.score) for r in summary.records}
    fct.test_eq(scores, {('still', 'completed', 1), ('cut-to-final', 'completed', 5)})
    fct.test_eq((len(summary.records), chats), (20, 20))

def test_the_documents_runner_call_picks_up_the_question_folder(tmp_path):
    "Document 003's `InferenceRunner.run(model, image_path, prompt)`: the question comes from the folder around the image."
    from vmevalkit.inference import InferenceRunner
    from vmevalkit.scoring import score_run
    q = Path(shutil.copytree(UPSTREAM, tmp_path/'questions'))
    image = q/'sudoku_task/sudoku_0000/first_frame.png'
    res = InferenceRunner(tmp_path/'outputs').run('still', image, (image.parent/'prompt.txt').read_text())
    fct.test_eq(res['status'], 'success')
    meta = json.loads((Path(res['inference_dir'])/'metadata.json').read_text())
    fct.test_eq((meta['question_data']['difficulty'], meta['question_data']['sudoku_data']['num_given']), ('hard', 8))
    rec = score_run(res['inference_dir'])
    fct.test_eq((rec.status, rec.details['skip_cause']), ('skipped', 'original format'))

def _as_document_002(run:Path):
    "Rewrite a run the way document 002 lays it out: `video/model_output.mp4`, a question folder with prompt and first frame."
    (run/'video/generated_video.mp4').rename(run/'video/model_output.mp4')
    for name in ('final_frame.png', 'question_metadata.json'): (run/'question'/name).unlink()

def test_document_002_runs_are_read(answered, tmp_path):
    root = Path(shutil.copytree(answered, tmp_path/'data'))
    run = root/'outputs/e/still/maze_task/maze_0000/still_maze_0000_s0'
    _as_document_002(run)
    res = vmevalkit('infer', '--model', 'still', '--domains', 'maze', '--data-dir', root, '--experiment', 'e', '--quiet')
    fct.test_eq(res.returncode, 0)
    fct.test("2 runs: 0 done, 2 skipped", res.stdout, in_)  # the 002 run counts as done: nothing redone, nothing overwritten
    fct.test_eq(sorted(p.name for p in (run/'video').iterdir()), ['model_output.mp4'])
    vmevalkit('score', 'auto', '--experiment', 'e', '--data-dir', root, '--workers', 1, '--model', 'still', '--domains', 'maze')
    rec = json.loads((root/'scorings/auto-eval/e/still/maze_task/maze_0000/auto-eval.json').read_text())
    fct.test_eq(rec['result']['details']['skip_cause'], 'original format')  # the video was found
    from vmevalkit.dashboard import create_app
    body = create_app(root).test_client().get('/api/results?model=still&task_id=maze_0000').get_json()
    fct.test_eq([r['video_url'].split('?')[0].rsplit('/', 1)[-1] for r in body['results']], ['model_output.mp4'])

def _original_record(path:Path, scorer:str, model:str, task_id:str, score:int, annotator=None):
    "A record in the original toolkit's shape (document 004): no run id, no run state."
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = dict(scorer=scorer, annotator=annotator, timestamp='2025-01-15T10:30:00', model_name=model,
                task_type=f"{task_id.split('_')[0]}_task", task_id=task_id)
    path.write_text(json.dumps(dict(metadata=meta, result=dict(solution_correctness_score=score, status='completed',
                                                              comments='by hand' if annotator else None))))

def test_original_score_records_count_once_and_are_not_scored_again(answered, tmp_path, monkeypatch):
    root = Path(shutil.copytree(answered, tmp_path/'data'))
    tail = 'e/still/maze_task/maze_0000'
    _original_record(root/'evaluations'/tail/'GPT4OEvaluator.json', 'GPT4OEvaluator', 'still', 'maze_0000', 2)
    _original_record(root/'scorings/gpt4o-eval'/tail/'GPT4OScorer.json', 'GPT4OScorer', 'still', 'maze_0000', 2)
    _original_record(root/'evaluations'/tail/'human-eval.json', 'human-eval', 'still', 'maze_0000', 1, 'Ann')
    (root/'scorings/gpt4o-eval/e/GPT4OScorer_all_models.json').write_text('{"summary": "aggregate"}')
    monkeypatch.setenv('OPENAI_API_KEY', 'sk-judge')
    with OpenAIServer(key='sk-judge', models=['judge']) as srv:
        summary = score_vlm('e', root, 'gpt4o', srv.url, 'judge', models=['still'], domains=['maze'], quiet=True,
                            policy=RetryPolicy(attempts=2, backoff=.01, timeout=5))
        chats = len(srv.chats)
    fct.test_eq((len(summary.records), summary.already, chats), (1, 1, 1))  # maze_0000 was judged already: not paid twice
    from vmevalkit.analysis import load_scores
    df = load_scores(root, 'e')
    rows = df[(df.model == 'still') & (df.task_id == 'maze_0000')]
    fct.test_eq(sorted(zip(rows.scorer, rows.score, rows.annotator)), [('gpt4o', 2.0, ''), ('human', 1.0, 'Ann')])
    fct.test_eq(len(df[(df.scorer == 'gpt4o')]), 2)  # maze_0000 once (two original files), maze_0001 judged now
    from vmevalkit.dashboard import create_app
    body = create_app(root).test_client().get('/api/results?model=still&task_id=maze_0000').get_json()
    fct.test_eq(sorted((s['scorer'], s['score']) for s in body['results'][0]['scores']), [('gpt4o', 2.0), ('human', 1.0)])
    from vmevalkit.core import DataLayout
    from vmevalkit.scoring.human import annotators_of, human_records, scoring_items
    item = next(i for i in scoring_items(DataLayout(root), 'e', ['still'], ['maze']) if i.task_id == 'maze_0000')
    fct.test_eq(annotators_of(human_records(DataLayout(root), 'e', item)), {'Ann'})  # the human queue knows Ann's score

def _python_m(module:str, *args, env=None):
    "Run `python -m module args` the way the documents show it, in a fresh process."
    import os, subprocess, sys
    base = {k: v for k, v in os.environ.items() if k not in ('VMEVAL_DATA_DIR', 'OPENAI_API_KEY', 'OPENAI_BASE_URL')}
    return subprocess.run([sys.executable, '-m', module, *map(str, args)], capture_output=True, text=True,
                          env={**base, **(env or {})}, timeout=600)

def test_the_documents_commands_run(answered, tmp_path):
    "Documents 002 and 004's `python -m vmevalkit.runner.create_dataset` and `python -m vmevalkit.runner.score gpt4o`."
    res = _python_m('vmevalkit.runner.create_dataset', '--pairs-per-domain', 1, '--random-seed', 42,
                    '--output-dir', tmp_path/'questions', '--workers', 1, '--quiet')
    fct.test_eq((res.returncode, res.stderr), (0, ''))
    fct.test_eq(sorted(p.name for p in (tmp_path/'questions').glob('*_task')), [f'{d}_task' for d in DOMAINS])
    root = Path(shutil.copytree(answered, tmp_path/'data'))
    with OpenAIServer(key='sk-judge', models=['gpt-4o']) as srv:
        res = _python_m('vmevalkit.runner.score', 'gpt4o', '--experiment', 'e', '--output-dir', root/'scorings',
                        '--model', 'still', '--port', 7860, '--share', env=dict(OPENAI_API_KEY='sk-judge', OPENAI_BASE_URL=srv.url))
        chats = len(srv.chats)
    fct.test_eq(res.returncode, 0)
    fct.test("note: --port is not used", res.stderr, in_)
    records = [json.loads(p.read_text()) for p in (root/'scorings/gpt4o-eval/e/still').rglob('*.json')]
    fct.test_eq((len(records), chats), (10, 10))
    fct.test_eq({r['result']['solution_correctness_score'] for r in records}, {1})  # a still video solves nothing

def test_a_tree_in_the_original_layouts_is_analysed(answered, tmp_path):
    "Runs in document 002's layout and scores only in the original's evaluations/ folders: counted once, reported."
    root = Path(shutil.copytree(answered, tmp_path/'data'))
    runs = sorted(p.parent.parent for p in (root/'outputs/e').glob('*/*_task/*/*/video/generated_video.mp4'))
    for run in runs:
        _as_document_002(run)
        model, task_id = run.parts[-4], run.parts[-2]
        tail = Path('e', model, f"{task_id.split('_')[0]}_task", task_id)
        good = 5 if model == 'cut-to-final' else 1
        _original_record(root/'evaluations/gpt4o-eval'/tail/'GPT4OEvaluator.json', 'GPT4OEvaluator', model, task_id, good)
        _original_record(root/'evaluations'/tail/'GPT4OEvaluator.json', 'GPT4OEvaluator', model, task_id, good)
        _original_record(root/'evaluations'/tail/'human-eval.json', 'human-eval', model, task_id, good, 'Ann')
    (root/'evaluations/gpt4o-eval/e/GPT4OScorer_all_models.json').write_text('{"summary": "aggregate"}')
    res = vmevalkit('analyze', '--experiment', 'e', '--data-dir', root, '--scorer', 'gpt4o', '--quiet')
    fct.test_eq((res.returncode, res.stderr), (0, ''))
    folder = root/'analysis/e'
    import pandas as pd
    scores = pd.read_csv(folder/'scores.csv')
    fct.test_eq(len(runs), 20)
    fct.test_eq(scores.groupby('scorer').size().to_dict(), dict(gpt4o=20, human=20))  # two gpt4o files per run: once
    gpt4o = scores[scores.scorer == 'gpt4o']
    fct.test_eq(gpt4o.groupby('model').score.mean().to_dict(), {'cut-to-final': 5.0, 'still': 1.0})
    report = (folder/'report.md').read_text()
    fct.test("Left out 1 summary file(s) of the original toolkit (evaluations/gpt4o-eval/e/GPT4OScorer_all_models.json)",
             report, in_)
    from vmevalkit.dashboard import create_app
    body = create_app(root).test_client().get('/api/results?model=cut-to-final&task_id=chess_0000').get_json()
    fct.test_eq(sorted((s['scorer'], s['score']) for s in body['results'][0]['scores']), [('gpt4o', 5.0), ('human', 5.0)])

def test_an_api_model_answers_original_questions(answered, tmp_path, mp4):
    "A provider model (Runway, through its stand-in) on the original questions: each paid once, the question kept as it was."
    from provider_servers import RunwayServer
    root = Path(shutil.copytree(answered, tmp_path/'data'))
    key = 'key_test_runway_0123456789'
    env = dict(RUNWAYML_API_SECRET=key, VMEVAL_POLL_INTERVAL='0.05', VMEVAL_HTTP_BACKOFF='0.01', VMEVAL_HTTP_BACKOFF_MAX='0.05')
    args = ('infer', '--model', 'runway-gen4-turbo', '--experiment', 'api', '--data-dir', root, '--domains', 'chess', 'sudoku', '--quiet')
    with RunwayServer(key, mp4) as srv:
        first = vmevalkit(*args, env=dict(env, RUNWAY_BASE_URL=srv.url))
        again = vmevalkit(*args, env=dict(env, RUNWAY_BASE_URL=srv.url))
        jobs, refused = len(srv.jobs), srv.refused
    fct.test_eq((first.returncode, again.returncode, refused), (0, 0, []))
    fct.test_eq(jobs, 4)  # two chess and two sudoku questions, each submitted once
    videos = sorted(p.relative_to(root/'outputs/api').as_posix() for p in (root/'outputs/api').rglob('generated_video.mp4'))
    fct.test_eq([v.split('/')[2] for v in videos], ['chess_0000', 'chess_0001', 'sudoku_0000', 'sudoku_0001'])
    run = next((root/'outputs/api/runway-gen4-turbo/chess_task/chess_0000').iterdir())
    question = json.loads((UPSTREAM/'chess_task/chess_0000/question_metadata.json').read_text())
    kept = json.loads((run/'metadata.json').read_text())['question_data']
    fct.test_eq({k: kept.get(k) for k in question}, question)  # every field of the original, as it was
