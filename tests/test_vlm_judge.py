"VLM judges end to end against a local OpenAI-compatible server: records, faults, retries, concurrency, cache, CLI."
import json, shutil, time
from pathlib import Path
import pytest
from fastcore import test as fct
from conftest import answered_mazes, ctrl_c_reaches_it, vmevalkit
from openai_server import OpenAIServer
from vmevalkit.core import VMEvalError
from vmevalkit.models.api import RetryPolicy
from vmevalkit.scoring.vlm import score_vlm

KEY = 'sk-judge-secret-4242'
FAST = RetryPolicy(attempts=3, backoff=.01, timeout=2)


@pytest.fixture(scope='module')
def experiment(tmp_path_factory):
    "Three maze questions answered by the oracle and the still model: six runs in experiment `e`."
    return answered_mazes(tmp_path_factory.mktemp('judge')/'data', 3, seed=1)


@pytest.fixture
def data(experiment, tmp_path):
    "A fresh copy of the experiment's data root."
    return Path(shutil.copytree(experiment, tmp_path/'data'))


@pytest.fixture
def env(monkeypatch):
    for k in ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'VMEVAL_JUDGE_API_KEY', 'VMEVAL_JUDGE_BASE_URL', 'VMEVAL_JUDGE_MODEL']:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv('VMEVAL_JUDGE_API_KEY', KEY)
    return monkeypatch


def records(data:Path, scorer:str, experiment:str='e')->dict:
    "run_id → record of every `scorer` record of `experiment`."
    return {d['metadata']['run_id']: d for d in (json.loads(p.read_text())
            for p in sorted((data/'scorings'/f'{scorer}-eval'/experiment).rglob('*.json')))}


def all_text(data:Path)->str:
    return ''.join(p.read_text() for p in (data/'scorings').rglob('*.json')) + \
           ''.join(p.read_text() for p in (data/'cache').rglob('*.json'))


def test_gpt4o_cli_writes_documented_records_and_resumes(data):
    with OpenAIServer(key=KEY, models=['gpt-4o', 'gpt-4o-mini']) as srv:
        env = dict(OPENAI_API_KEY=KEY, OPENAI_BASE_URL=srv.url + '/v1', VMEVAL_HTTP_BACKOFF='0.01')
        res = vmevalkit('score', 'gpt4o', '--experiment', 'e', '--data-dir', data, '--quiet', env=env)
        fct.test_eq(res.returncode, 0)
        recs = records(data, 'gpt4o')
        fct.test_eq(len(recs), 6)
        path = data/'scorings/gpt4o-eval/e/oracle/maze_task/maze_0000/gpt4o-eval.json'
        rec = json.loads(path.read_text())
        fct.test_eq((rec['metadata']['scorer'], rec['metadata']['task_type'], rec['result']['scoring_type']),
                    ('gpt4o', 'maze_task', 'final_frame_comparison'))
        scores = {r: d['result']['solution_correctness_score'] for r, d in recs.items()}
        fct.test_eq(sorted(v for r, v in scores.items() if r.startswith('oracle')), [5, 5, 5])
        fct.test_eq(sorted(v for r, v in scores.items() if r.startswith('still')), [1, 1, 1])
        details = rec['result']['details']
        fct.test_eq((details['judge_model'], details['calls'], details['cached']), ('gpt-4o', 1, False))
        assert details['usage']['total_tokens'] > 0
        total = sum(d['result']['details']['usage']['total_tokens'] for d in recs.values())
        assert f"= {total}" in res.stdout, res.stdout                                # tokens summed per pass
        body = srv.chats[0]['body']
        fct.test_eq(body['response_format'], {'type': 'json_object'})
        images = [p for p in body['messages'][1]['content'] if p['type'] == 'image_url']
        fct.test_eq(len(images), 3)                                                  # input, expected, last frame
        assert images[0]['image_url']['url'].startswith('data:image/png;base64,')
        assert srv.chats[0]['headers']['authorization'] == f'Bearer {KEY}'
        n = len(srv.chats)
        again = vmevalkit('score', 'gpt4o', '--experiment', 'e', '--data-dir', data, '--quiet', env=env)
        fct.test_eq(again.returncode, 0)
        assert '0 runs scored now, 6 already scored' in again.stdout, again.stdout
        fct.test_eq(len(srv.chats), n)                                               # a re-run pays nothing
    assert KEY not in all_text(data) + res.stdout + res.stderr


def test_internvl_reads_its_model_from_the_server_and_shows_n_frames(data, env):
    with OpenAIServer(key=KEY, models=['OpenGVLab/InternVL3-8B']) as srv:
        summary = score_vlm('e', data, 'internvl', srv.url, frames=4, quiet=True, policy=FAST)
        fct.test_eq({r['model']: r['success_rate'] for r in summary.table()}, {'oracle': 1.0, 'still': 0.0})
        fct.test_eq([r['path'] for r in srv.seen[:1]], ['/v1/models'])
        labels = [p['text'] for p in srv.chats[0]['body']['messages'][1]['content'] if p['type'] == 'text']
        assert 'Generated video, frame 4 of 4 (the last frame):' in labels, labels
        rec = records(data, 'internvl')['oracle_maze_0000_s0']
        fct.test_eq((rec['result']['details']['judge_model'], rec['result']['scoring_type']),
                    ('OpenGVLab/InternVL3-8B', '4_frame_comparison'))


def test_nonsense_refusal_and_hang_fail_with_reasons_and_the_run_goes_on(data, env):
    policy = RetryPolicy(attempts=2, backoff=.01, timeout=.5)
    with OpenAIServer(key=KEY, models=['judge']) as srv:
        srv.faults = ['nonsense']*3 + ['refuse'] + ['hang']*2           # runs are judged in order with concurrency 1
        start = time.monotonic()
        summary = score_vlm('e', data, 'vlm', srv.url, 'judge', concurrency=1, quiet=True, policy=policy)
        assert time.monotonic() - start < 15
    recs = records(data, 'vlm')
    first = [recs[f'oracle_maze_000{i}_s0']['result'] for i in range(3)]
    fct.test_eq([r['status'] for r in first], ['failed', 'failed', 'failed'])
    assert 'no valid verdict in 3 answers' in first[0]['explanation'], first[0]
    fct.test_eq(first[0]['details']['calls'], 3)
    assert first[0]['details']['answer'].startswith('The video shows a puzzle')
    fct.test_eq(first[1]['explanation'], "the judge refused: I'm sorry, I can't assist with that.")
    assert 'no answer within 0.5 s' in first[2]['explanation'], first[2]
    assert all(first[i]['solution_correctness_score'] is None for i in range(3))      # never guessed
    fct.test_eq([recs[f'still_maze_000{i}_s0']['result']['solution_correctness_score'] for i in range(3)], [1, 1, 1])
    assert 'failed oracle_maze_0000_s0: no valid verdict' in str(summary)
    with OpenAIServer(key=KEY, models=['judge']) as srv:                             # the next pass retries the failed
        again = score_vlm('e', data, 'vlm', srv.url, 'judge', quiet=True, policy=policy)
        fct.test_eq((len(again.records), again.already), (3, 3))
        fct.test_eq({r.score for r in again.records}, {5})


def test_429_and_500_are_retried_honouring_retry_after(data, env):
    with OpenAIServer(key=KEY, models=['judge'], retry_after='1') as srv:
        srv.faults = ['429', '500']
        start = time.monotonic()
        summary = score_vlm('e', data, 'vlm', srv.url, 'judge', concurrency=1, models=['oracle'], domains=['maze'],
                            quiet=True, policy=RetryPolicy(attempts=3, backoff=.01, timeout=2))
        assert time.monotonic() - start >= 1                                          # waited as the server asked
        fct.test_eq([r.status for r in summary.records], ['completed']*3)
        fct.test_eq(len(srv.chats), 5)
        fct.test_eq(summary.records[0].details['calls'], 1)                           # one answer, after two refusals
        srv.faults = ['500']*3
        failed = score_vlm('e', data, 'vlm', srv.url, 'judge', concurrency=1, models=['still'], quiet=True,
                           policy=RetryPolicy(attempts=3, backoff=.01, timeout=2))
        assert 'still failing after 3 attempts' in failed.records[0].explanation
        assert 'HTTP 500' in failed.records[0].explanation


def test_requests_in_flight_are_bounded(data, env):
    with OpenAIServer(key=KEY, models=['judge'], delay=.4) as srv:
        score_vlm('e', data, 'vlm', srv.url, 'judge', concurrency=2, quiet=True, policy=FAST)
        fct.test_eq((len(srv.chats), srv.max_in_flight), (6, 2))


def test_cache_means_a_rerun_never_pays_twice(data, env):
    with OpenAIServer(key=KEY, models=['judge']) as srv:
        first = score_vlm('e', data, 'vlm', srv.url, 'judge', quiet=True, policy=FAST)
        spent = first.tokens['total_tokens']
        assert spent > 0
        shutil.rmtree(data/'scorings')                                                 # records lost, cache kept
        second = score_vlm('e', data, 'vlm', srv.url, 'judge', quiet=True, policy=FAST)
        fct.test_eq(len(srv.chats), 6)
        fct.test_eq(second.tokens['total_tokens'], 0)
        assert all(r.details['cached'] for r in second.records)
        assert '(6 verdicts from the cache)' in str(second)
        fct.test_eq({r.run_id: r.score for r in second.records}, {r.run_id: r.score for r in first.records})
        third = score_vlm('e', data, 'vlm', srv.url, 'judge', frames=2, quiet=True, policy=FAST)  # another question
        fct.test_eq((len(srv.chats), third.already), (6, 6))                           # ... but all are scored


def test_server_without_json_mode_is_asked_again_without_it(data, env):
    with OpenAIServer(key=KEY, models=['judge'], json_mode=False, mode='fenced') as srv:
        summary = score_vlm('e', data, 'vlm', srv.url, 'judge', concurrency=1, models=['oracle'], quiet=True, policy=FAST)
        fct.test_eq([r.score for r in summary.records], [5, 5, 5])
        fct.test_eq(['response_format' in c['body'] for c in srv.chats], [True, False, False, False])


def test_bad_requests_stop_before_any_work(data, env):
    with OpenAIServer(key=KEY, models=['gpt-4o']) as srv:
        wrong = dict(OPENAI_API_KEY='sk-wrong-key-9999', OPENAI_BASE_URL=srv.url)
        res = vmevalkit('score', 'gpt4o', '--experiment', 'e', '--data-dir', data, env=wrong)
        fct.test_eq(res.returncode, 2)
        assert 'refused the key: check OPENAI_API_KEY' in res.stderr, res.stderr
        assert 'sk-wrong-key-9999' not in res.stderr + res.stdout
        fct.test_eq(len(srv.chats), 0)
    with pytest.raises(VMEvalError, match='OPENAI_API_KEY is not set'): score_vlm('e', data, 'gpt4o')
    with pytest.raises(VMEvalError, match='No judge answers at http://127.0.0.1:9/v1'):
        score_vlm('e', data, 'internvl', 'http://127.0.0.1:9', policy=FAST)
    with pytest.raises(VMEvalError, match="Unknown judge 'gpt-4o'. Did you mean 'gpt4o'"): score_vlm('e', data, 'gpt-4o')
    fct.test_eq((data/'scorings').exists(), False)


def test_runs_without_a_video_or_final_frame_are_skipped(data, env):
    run = data/'outputs/e/oracle/maze_task/maze_0001/oracle_maze_0001_s0'
    (run/'video/generated_video.mp4').unlink()
    other = data/'outputs/e/still/maze_task/maze_0002/still_maze_0002_s0'
    (other/'question/final_frame.png').unlink()
    (data/'questions/maze_task/maze_0002/final_frame.png').unlink()
    broken = data/'outputs/e/oracle/maze_task/maze_0002/oracle_maze_0002_s0/video/generated_video.mp4'
    broken.write_bytes(broken.read_bytes()[:300])
    with OpenAIServer(key=KEY, models=['judge']) as srv:
        summary = score_vlm('e', data, 'vlm', srv.url, 'judge', quiet=True, policy=FAST)
    status = {r.run_id: (r.status, r.explanation) for r in summary.records}
    fct.test_eq(status['oracle_maze_0001_s0'][0], 'skipped')
    assert 'no video to judge' in status['oracle_maze_0001_s0'][1]
    fct.test_eq(status['still_maze_0002_s0'], ('skipped', 'question maze_0002 has no expected final frame'))
    fct.test_eq(status['oracle_maze_0002_s0'][0], 'failed')
    assert 'Re-generate it' in status['oracle_maze_0002_s0'][1]
    fct.test_eq(len(srv.chats), 3)


def _echoing(srv, text):
    "Make `srv` answer every chat with `text`."
    plain = srv.completion
    def completion(body, mode):
        d = plain(body, 'nonsense'); d['choices'][0]['message']['content'] = text; return d
    srv.completion = completion


@pytest.mark.parametrize('text', ['x'*110 + KEY + ' no verdict',                  # the key across the 120-character cut
                                  "I'm sorry" + 'x'*181 + KEY,                   # ... across a refusal's 200
                                  'y'*490 + KEY + ' still no verdict'])          # ... across the stored answer's 500
def test_a_key_echoed_by_the_judge_is_redacted_before_any_cut(data, env, text):
    with OpenAIServer(key=KEY, models=['judge']) as srv:
        _echoing(srv, text)
        summary = score_vlm('e', data, 'vlm', srv.url, 'judge', models=['oracle'], quiet=True, policy=FAST)
    fct.test_eq({r.status for r in summary.records}, {'failed'})
    written = all_text(data) + str(summary)
    leaks = [KEY[i:i + 8] for i in range(len(KEY) - 7) if KEY[i:i + 8] in written]
    fct.test_eq(leaks, [])


def test_two_judges_at_once_share_the_work(data, env):
    import threading
    with OpenAIServer(key=KEY, models=['judge'], delay=.3) as srv:
        summaries = []
        judge = lambda: summaries.append(score_vlm('e', data, 'vlm', srv.url, 'judge', concurrency=2, quiet=True, policy=FAST))
        threads = [threading.Thread(target=judge) for _ in range(2)]
        for t in threads: t.start()
        for t in threads: t.join()
        fct.test_eq(len(srv.chats), 6)                                            # each run asked once in total
    fct.test_eq(sum(len(s.records) for s in summaries), 6)
    fct.test_eq(len(records(data, 'vlm')), 6)


def test_ctrl_c_stops_a_judge_at_once(data):
    import os, signal, subprocess, sys
    with OpenAIServer(key=KEY, models=['judge'], delay=2) as srv:
        exe = Path(sys.executable).parent/'vmevalkit'
        env = {**{k: v for k, v in os.environ.items() if k != 'VMEVAL_DATA_DIR'}, 'VMEVAL_JUDGE_API_KEY': KEY}
        p = subprocess.Popen([str(exe), 'score', 'vlm', '--experiment', 'e', '--data-dir', str(data), '--base-url', srv.url,
                              '--judge-model', 'judge', '--concurrency', '1', '--quiet'], env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=ctrl_c_reaches_it)
        end = time.monotonic() + 20
        while not srv.chats and time.monotonic() < end: time.sleep(.05)
        start = time.monotonic()
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=15)
        assert time.monotonic() - start < 5
    fct.test_eq(p.returncode, 130)
    fct.test_eq(len(err.strip().splitlines()), 1)
    assert 'resume with: vmevalkit score vlm --experiment e' in err.lower(), err
