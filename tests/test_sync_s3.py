"S3 sync against a real S3-compatible server process (moto_server on 127.0.0.1): multipart, incremental, latest, CLI."
import os, shutil, socket, subprocess, sys, time, uuid
from pathlib import Path
import httpx, numpy as np, pytest
from fastcore import test as fct
from fastcore.basics import in_

from conftest import vmevalkit
from vmevalkit.core import write_video
from vmevalkit.models import FinalError
from vmevalkit.sync import file_digest, local_files
from vmevalkit.sync.s3 import (MiB, S3Error, S3ImageUploader, S3Store, download_from_s3, list_uploads, read_versions,
                               s3_etag, sync_to_s3)

SMALL = dict(threshold=MiB, chunk=MiB, quiet=True)  # a file of a few MB goes multipart (5 MiB parts, S3's minimum)


def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _moto_server(tmp_path_factory, **env):
    "Start `moto_server` as its own process; return (url, process) once it answers."
    port, log = _free_port(), tmp_path_factory.mktemp('moto')/'server.log'
    exe = Path(sys.executable).parent/'moto_server'
    proc = subprocess.Popen([str(exe), '-H', '127.0.0.1', '-p', str(port)], stdout=open(log, 'w'),
                            stderr=subprocess.STDOUT, env={**os.environ, **env})
    url = f'http://127.0.0.1:{port}'
    for _ in range(200):
        try: httpx.get(url + '/moto-api/', timeout=1); return url, proc
        except httpx.TransportError: time.sleep(0.1)
    proc.kill(); raise RuntimeError(f"moto_server did not start: {log.read_text()}")

@pytest.fixture(scope='session')
def server(tmp_path_factory):
    url, proc = _moto_server(tmp_path_factory)
    yield url
    proc.terminate(); proc.wait(10)

@pytest.fixture(scope='session')
def strict_server(tmp_path_factory):
    "A second server that checks credentials (moto's IAM): every key it has not issued is refused."
    url, proc = _moto_server(tmp_path_factory, INITIAL_NO_AUTH_ACTION_COUNT='0')
    yield url
    proc.terminate(); proc.wait(10)

@pytest.fixture
def bucket(server, monkeypatch):
    "A fresh bucket on the server, configured through the environment as a user would."
    name = f'vmeval-{uuid.uuid4().hex[:12]}'
    monkeypatch.setenv('AWS_ENDPOINT_URL', server); monkeypatch.setenv('AWS_DEFAULT_REGION', 'us-east-1')
    monkeypatch.setenv('AWS_ACCESS_KEY_ID', 'test-key'); monkeypatch.setenv('AWS_SECRET_ACCESS_KEY', 'test-secret')
    monkeypatch.setenv('S3_BUCKET', name)
    from vmevalkit.sync.s3 import s3_client
    s3_client().create_bucket(Bucket=name)
    return name

@pytest.fixture(scope='session')
def data_tree(tmp_path_factory):
    "A real data tree: one question per domain, one answer video, and one large file that goes multipart."
    from vmevalkit.tasks import create_dataset
    root = tmp_path_factory.mktemp('tree')/'data'
    create_dataset(1, output_dir=root/'questions', workers=1)
    run = root/'outputs'/'pilot'/'still'/'maze_task'/'maze_0000'/'run1'
    write_video([np.full((64, 64, 3), 20 * i, np.uint8) for i in range(8)], run/'video'/'generated_video.mp4', fps=8)
    (run/'metadata.json').write_text('{"inference": {"status": "success"}}')
    (root/'analysis').mkdir(); (root/'analysis'/'big.bin').write_bytes(np.random.default_rng(0).bytes(12 * MiB + 7))
    return root

def same_tree(a, b):
    fa, fb = local_files(a), local_files(b)
    return list(fa) == list(fb) and all(fa[n].read_bytes() == fb[n].read_bytes() for n in fa)


def test_round_trip_through_the_cli(bucket, data_tree, tmp_path):
    res = vmevalkit('s3', 'upload', '--data-dir', data_tree, '--date', '202501151030', '--log', '--note', 'first',
                    '--quiet')
    assert res.returncode == 0, res.stderr
    fct.test_eq(f's3://{bucket}/202501151030/data:' in res.stdout and 'logged as a new version' in res.stdout, True)
    res = vmevalkit('s3', 'download', 'latest', '--to', tmp_path/'copy', '--quiet')
    assert res.returncode == 0, res.stderr
    fct.test_eq(same_tree(data_tree, tmp_path/'copy'), True)
    versions = vmevalkit('s3', 'versions').stdout
    fct.test_eq(versions.startswith(f'v1.0 (20250115) -> s3://{bucket}/202501151030/data'), True)
    fct.test('chess 1, maze 1, raven 1, rotation 1, sudoku 1', versions, in_)

def test_multipart_objects_carry_etag_and_sha256(bucket, data_tree, tmp_path):
    sync_to_s3(data_tree, '202501151030', **SMALL)
    store = S3Store(**SMALL)
    big = store.objects('202501151030/data/')['analysis/big.bin']
    fct.test_eq(big['etag'].endswith('-3'), True)  # 12 MiB in 5 MiB parts
    fct.test_eq(big['etag'], s3_etag(data_tree/'analysis'/'big.bin', MiB, MiB))
    head = store.client.head_object(Bucket=bucket, Key='202501151030/data/analysis/big.bin')
    fct.test_eq(head['Metadata']['sha256'], file_digest(data_tree/'analysis'/'big.bin'))
    download_from_s3('202501151030', tmp_path/'copy', **SMALL)
    fct.test_eq(file_digest(tmp_path/'copy'/'analysis'/'big.bin'), head['Metadata']['sha256'])

def test_unchanged_tree_transfers_nothing(bucket, data_tree, tmp_path):
    first = sync_to_s3(data_tree, '202501151030', **SMALL)
    fct.test_eq((first.sent, first.files > 10), (first.files, True))
    before = S3Store(**SMALL).objects('202501151030/data/')
    again = sync_to_s3(data_tree, '202501151030', **SMALL)
    fct.test_eq((again.sent, again.copied, again.skipped), (0, 0, first.files))
    fct.test_eq(S3Store(**SMALL).objects('202501151030/data/'), before)  # not even re-written
    fresh = sync_to_s3(data_tree, **SMALL)  # a new upload of the same tree: nothing to do
    fct.test_eq((fresh.unchanged, fresh.uri), (True, first.uri))

def test_a_change_uploads_one_file_and_copies_the_rest(bucket, data_tree, tmp_path):
    tree = tmp_path/'data'
    shutil.copytree(data_tree, tree)  # a copy, so the session's tree stays as it is
    sync_to_s3(tree, '202501151030', **SMALL)
    (tree/'questions'/'maze_task'/'maze_0000'/'prompt.txt').write_text('Find the exit.')
    second = sync_to_s3(tree, **SMALL)
    fct.test_eq((second.sent, second.copied, second.skipped), (1, second.files - 1, 0))
    fct.test_eq(S3Store(**SMALL).latest()['uri'], second.uri)
    download_from_s3('latest', tmp_path/'copy', **SMALL)
    fct.test_eq(same_tree(tree, tmp_path/'copy'), True)
    fct.test_eq([u['latest'] for u in list_uploads()], [False, True])

def test_download_resumes_and_protects_local_files(bucket, data_tree, tmp_path):
    sync_to_s3(data_tree, '202501151030', **SMALL)
    copy = tmp_path/'copy'
    download_from_s3(target=copy, **SMALL)
    gone = sorted(local_files(copy))[::3]
    for n in gone: (copy/n).unlink()  # as if the first download had been cut short
    again = download_from_s3(target=copy, **SMALL)
    fct.test_eq((again.sent, again.skipped), (len(gone), again.files - len(gone)))
    fct.test_eq(same_tree(data_tree, copy), True)
    (copy/'questions'/'vmeval_dataset.json').write_text('{"mine": true}')
    fct.test_fail(lambda: download_from_s3(target=copy, **SMALL), contains='pass --overwrite')
    fct.test_eq((copy/'questions'/'vmeval_dataset.json').read_text(), '{"mine": true}')
    (copy/'extra.txt').write_text('kept')
    download_from_s3(target=copy, overwrite=True, **SMALL)
    fct.test_eq(((copy/'extra.txt').read_text(), same_tree(data_tree/'questions', copy/'questions')), ('kept', True))

def test_interrupted_upload_is_not_latest_and_resumes(bucket, data_tree, tmp_path):
    store = S3Store(**SMALL)
    files = local_files(data_tree)
    half = dict(list(files.items())[:len(files) // 2])
    store.upload_files({f'202501151030/data/{n}': p for n, p in half.items()})  # what a killed upload leaves
    fct.test_eq(store.latest(), None)
    fct.test_eq([(u['prefix'], u['complete']) for u in list_uploads()], [('202501151030', False)])
    fct.test_fail(lambda: download_from_s3('202501151030', tmp_path/'x', **SMALL), contains='--partial')
    resumed = sync_to_s3(data_tree, '202501151030', **SMALL)
    fct.test_eq((resumed.skipped, resumed.sent), (len(half), len(files) - len(half)))
    fct.test_eq(list_uploads()[0]['complete'], True)

def test_keys_that_escape_are_refused(bucket, tmp_path):
    store = S3Store(**SMALL)
    store.client.put_object(Bucket=bucket, Key='evil/data/../../../escape.txt', Body=b'x')
    store.put_json('evil/upload.json', {})
    fct.test_fail(lambda: download_from_s3('evil', tmp_path/'t', **SMALL), contains='refusing')
    fct.test_eq(list(tmp_path.rglob('*')), [])

def test_presigned_image_url(bucket, data_tree):
    png = data_tree/'questions'/'maze_task'/'maze_0000'/'first_frame.png'
    up = S3ImageUploader(expires=60)
    url = up.upload_image(png)
    fct.test_eq(url.split('?')[0].startswith(f'{os.environ["AWS_ENDPOINT_URL"]}/{bucket}/tmp/vmevalkit-inputs/'), True)
    fct.test_eq(httpx.get(url).content, png.read_bytes())
    fct.test_eq((up.cleanup(), up.cleanup(older_than=-1)), (0, 1))
    fct.test_eq(httpx.get(url).status_code, 404)
    fct.test_fail(lambda: up.upload_image(png.with_name('nope.png')), contains='image not found')

def test_missing_bucket(bucket, data_tree):
    res = vmevalkit('s3', 'upload', '--data-dir', data_tree, '--bucket', 'no-such-bucket-here')
    fct.test_eq(res.returncode, 2)
    fct.test("bucket 'no-such-bucket-here' does not exist", res.stderr, in_)
    fct.test_fail(lambda: S3ImageUploader('no-such-bucket-here').upload(b'x'), contains='does not exist')

def test_bad_credentials(strict_server, data_tree, monkeypatch):
    monkeypatch.setenv('AWS_ENDPOINT_URL', strict_server)
    monkeypatch.setenv('AWS_ACCESS_KEY_ID', 'AKIAWRONGWRONGWRONG0')
    monkeypatch.setenv('AWS_SECRET_ACCESS_KEY', 'wrong-secret')
    res = vmevalkit('s3', 'ls', '--bucket', 'vmevalkit')
    fct.test_eq((res.returncode, 'access to s3://vmevalkit/ denied' in res.stderr), (2, True))
    fct.test_eq('wrong-secret' in res.stderr + res.stdout, False)
    with pytest.raises(FinalError, match='denied'): S3ImageUploader('vmevalkit').upload(b'x')

def test_missing_credentials(tmp_path, data_tree):
    env = {k: v for k, v in os.environ.items() if not k.startswith('AWS_')}
    env.update(AWS_EC2_METADATA_DISABLED='true', AWS_CONFIG_FILE=str(tmp_path/'none'),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path/'none'), S3_BUCKET='vmevalkit')
    res = subprocess.run([str(Path(sys.executable).parent/'vmevalkit'), 's3', 'upload', '--data-dir', str(data_tree)],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    fct.test_eq((res.returncode, 'no AWS credentials: set AWS_ACCESS_KEY_ID' in res.stderr), (2, True))

def test_prune_keeps_latest(bucket, data_tree):
    from vmevalkit.sync.s3 import prune_uploads
    for stamp in ['202401010000', '202402010000', '202403010000']: sync_to_s3(data_tree, stamp, **SMALL)
    fct.test_eq(prune_uploads(keep_last=1), ['202401010000', '202402010000'])  # a dry run
    fct.test_eq(len(list_uploads()), 3)
    res = vmevalkit('s3', 'prune', '--keep-last', '1', '--yes')
    fct.test_eq((res.returncode, res.stdout.splitlines()[-1]), (0, '2 uploads deleted'))
    ls = vmevalkit('s3', 'ls').stdout.splitlines()
    fct.test_eq((len(ls), ls[1].split()[0], ls[1].endswith('complete  <- latest')), (2, '202403010000', True))
