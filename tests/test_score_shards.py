"Scoring split over machines: `vmevalkit score auto|vlm --shard I/N` in processes running at once score each run once."
import json, os, re, shutil, subprocess, sys
from pathlib import Path
import pytest
from fastcore import test as fct
from conftest import answered_mazes, vmevalkit
from openai_server import OpenAIServer

KEY = 'sk-shard-judge-7373'


@pytest.fixture(scope='module')
def experiment(tmp_path_factory):
    "Four maze questions answered by the oracle and the still model: eight runs in experiment `e`."
    return answered_mazes(tmp_path_factory.mktemp('shards')/'data', 4, seed=3)


def run_ids(data:Path)->list:
    return sorted(p.parent.name for p in (data/'outputs/e').glob('*/*_task/*/*/metadata.json'))


def record_run_ids(data:Path, scorer:str)->list:
    "The run id of every record file of `scorer`, one entry per file (so a run recorded twice shows twice)."
    return sorted(json.loads(p.read_text())['metadata']['run_id']
                  for p in (data/'scorings'/f'{scorer}-eval'/'e').rglob('*.json'))


def at_once(*commands:list, env:dict)->list:
    "Start every `vmevalkit` command before waiting for any; their (returncode, stdout, stderr)."
    exe = Path(sys.executable).parent/'vmevalkit'
    base = {k: v for k, v in os.environ.items() if k != 'VMEVAL_DATA_DIR'}
    procs = [subprocess.Popen([str(exe), *map(str, c)], env={**base, **env}, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for c in commands]
    outputs = [p.communicate(timeout=300) for p in procs]
    return [(p.returncode, *out) for p, out in zip(procs, outputs)]


def scored_now(stdout:str)->int:
    return int(re.search(r'(\d+) runs scored now', stdout)[1])


def test_two_auto_shards_at_once_score_every_run_once(experiment, tmp_path):
    data = Path(shutil.copytree(experiment, tmp_path/'data'))
    score = lambda i: ['score', 'auto', '--experiment', 'e', '--data-dir', data, '--workers', 1, '--quiet', '--shard', f'{i}/2']
    results = at_once(score(0), score(1), env={})
    fct.test_eq([r[0] for r in results], [0, 0])
    fct.test_eq(record_run_ids(data, 'auto'), run_ids(data))                 # every run has exactly one record ...
    fct.test_eq([scored_now(out) for _, out, _ in results], [4, 4])          # ... made once: 8 scorings for 8 runs
    assert all('elsewhere' not in out for _, out, _ in results), results     # the shards never met at a run
    again = vmevalkit(*score(1))
    assert '0 runs scored now, 4 already scored' in again.stdout, again.stdout


def test_two_judge_shards_at_once_ask_for_every_run_once(experiment, tmp_path):
    data = Path(shutil.copytree(experiment, tmp_path/'data'))
    with OpenAIServer(key=KEY, models=['judge'], delay=.2) as srv:
        judge = lambda i: ['score', 'vlm', '--experiment', 'e', '--data-dir', data, '--base-url', srv.url,
                           '--judge-model', 'judge', '--concurrency', 2, '--quiet', '--shard', f'{i}/2']
        results = at_once(judge(0), judge(1), env={'VMEVAL_JUDGE_API_KEY': KEY})
        fct.test_eq([r[0] for r in results], [0, 0])
        fct.test_eq(len(srv.chats), 8)                                        # each run asked once in all
        fct.test_eq(record_run_ids(data, 'vlm'), run_ids(data))
        fct.test_eq([scored_now(out) for _, out, _ in results], [4, 4])


def test_a_shard_beside_a_whole_pass_still_scores_each_run_once(experiment, tmp_path):
    "Machines that disagree on N (here 0/2 beside no shard) are kept apart by the runs' claims."
    data = Path(shutil.copytree(experiment, tmp_path/'data'))
    with OpenAIServer(key=KEY, models=['judge'], delay=.2) as srv:
        judge = lambda *shard: ['score', 'vlm', '--experiment', 'e', '--data-dir', data, '--base-url', srv.url,
                                '--judge-model', 'judge', '--concurrency', 1, '--quiet', *shard]
        results = at_once(judge('--shard', '0/2'), judge(), env={'VMEVAL_JUDGE_API_KEY': KEY})
        fct.test_eq([r[0] for r in results], [0, 0])
        fct.test_eq(len(srv.chats), 8)
        fct.test_eq(record_run_ids(data, 'vlm'), run_ids(data))
        fct.test_eq(sum(scored_now(out) for _, out, _ in results), 8)


def test_a_bad_shard_is_refused_before_any_work(experiment):
    for shard in ['2/2', 'half', '1/0']:
        res = vmevalkit('score', 'auto', '--experiment', 'e', '--data-dir', experiment, '--shard', shard)
        fct.test_eq(res.returncode, 2)
        assert f"--shard must be I/N with 0 ≤ I < N (e.g. 0/4), got '{shard}'" in res.stderr, res.stderr
    fct.test_eq((experiment/'scorings').exists(), False)
