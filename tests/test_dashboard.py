"The dashboard as users meet it: `vmevalkit dashboard` in its own process, its JSON API, media and pages in Chromium."
import http.client, json, os, re, subprocess, sys, time, urllib.parse
from pathlib import Path
import pytest
from fastcore import test as fct
from browser import chromium_page
from conftest import vmevalkit

ARTIFACTS = Path(__file__).resolve().parent/'artifacts'

@pytest.fixture(scope='module')
def data(tmp_path_factory):
    "A real results folder: 2 questions × 2 models scored by the checkers, and one run also in a second experiment."
    from vmevalkit.tasks import create_dataset
    from vmevalkit.inference import run_experiment
    from vmevalkit.scoring import score_experiment
    root = tmp_path_factory.mktemp('dash')/'data'
    create_dataset(1, ['maze', 'sudoku'], seed=0, output_dir=root/'questions', workers=1)
    run_experiment(root/'questions', ['oracle', 'still'], 'demo', quiet=True)
    run_experiment(root/'questions', ['still'], 'other', domains=['maze'], quiet=True)
    score_experiment('demo', root, workers=1)
    return root

def start_dashboard(*args, log:Path):
    "`vmevalkit dashboard ARGS --port 0` in a subprocess; returns (process, base URL) once it listens."
    exe = Path(sys.executable).parent/'vmevalkit'
    env = {k: v for k, v in os.environ.items() if k != 'VMEVAL_DATA_DIR'}
    proc = subprocess.Popen([str(exe), 'dashboard', *map(str, args), '--port', '0'], stdout=subprocess.PIPE,
                            stderr=open(log, 'w'), text=True, env=env)
    line = proc.stdout.readline()
    m = re.search(r'(http://127\.0\.0\.1:\d+)/', line)
    if not m: proc.kill(); pytest.fail(f"dashboard did not start: {line!r} {log.read_text()}")
    return proc, m.group(1)

@pytest.fixture(scope='module')
def base(data, tmp_path_factory):
    proc, url = start_dashboard('--data-dir', data, log=tmp_path_factory.mktemp('log')/'server.log')
    yield url
    proc.terminate(); proc.wait(10)

def fetch(url:str, path:str, headers=None)->tuple:
    "(status, headers, body) of a GET sent exactly as written (no client-side path clean-up)."
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.request('GET', path, headers=headers or {})
    r = conn.getresponse()
    out = r.status, dict(r.getheaders()), r.read()
    conn.close()
    return out

def api(base, query='')->dict:
    status, _, body = fetch(base, '/api/results' + query)
    fct.test_eq(status, 200)
    return json.loads(body)

def test_api_filters_and_pagination(base):
    everything = api(base)
    fct.test_eq(everything['total'], 5)
    fct.test_eq(api(base, '?experiment=demo')['total'], 4)
    fct.test_eq({r['model'] for r in api(base, '?model=oracle')['results']}, {'oracle'})
    fct.test_eq(api(base, '?domain=maze')['total'], 3)
    fct.test_eq(api(base, '?domain=maze_task')['total'], 3)                      # the folder name works too
    one = api(base, '?experiment=demo&model=oracle&task_id=maze_0000')
    fct.test_eq(one['total'], 1)
    run = one['results'][0]
    fct.test_eq([(s['scorer'], s['score'], s['success']) for s in run['scores']], [('auto', 5.0, True)])
    assert run['scores'][0]['explanation'] and run['prompt'].startswith('This is a top-down view')
    assert run['video_url'].endswith('generated_video.mp4?experiment=demo')
    fct.test_eq(api(base, '?scorer=auto')['total'], 4)                           # the run in 'other' is not scored
    fct.test_eq(api(base, '?scorer=auto&outcome=failure')['total'], 2)
    pages = [api(base, f'?per_page=2&page={p}') for p in (1, 2, 3, 4)]
    fct.test_eq([p['pages'] for p in pages], [3]*4)
    fct.test_eq([len(p['results']) for p in pages], [2, 2, 1, 0])
    paged = sorted(r['path'] for p in pages for r in p['results'])
    fct.test_eq(paged, sorted(r['path'] for r in everything['results']))
    for bad in ['?page=0', '?per_page=x', '?per_page=501', '?outcome=won']:
        status, headers, body = fetch(base, '/api/results' + bad)
        fct.test_eq((status, headers['Content-Type']), (400, 'application/json'))
        assert json.loads(body)['error'], body

def test_media_ranges_and_types(base, data):
    run = api(base, '?experiment=demo&model=oracle&task_id=sudoku_0000')['results'][0]
    video = (data/run['path']/'video/generated_video.mp4').read_bytes()
    status, headers, body = fetch(base, run['video_url'])
    fct.test_eq((status, headers['Content-Type'], headers['Accept-Ranges']), (200, 'video/mp4', 'bytes'))
    fct.test_eq(body, video)
    status, headers, body = fetch(base, run['video_url'], {'Range': 'bytes=100-1099'})
    fct.test_eq((status, headers['Content-Range']), (206, f'bytes 100-1099/{len(video)}'))
    fct.test_eq(body, video[100:1100])
    status, headers, body = fetch(base, run['video_url'], {'Range': 'bytes=-64'})
    fct.test_eq((status, body == video[-64:]), (206, True))
    fct.test_eq(fetch(base, run['video_url'], {'Range': f'bytes={len(video) + 10}-'})[0], 416)
    for key in ('first_frame_url', 'final_frame_url'):
        status, headers, body = fetch(base, run[key])
        fct.test_eq((status, headers['Content-Type'], body[:8]), (200, 'image/png', b'\x89PNG\r\n\x1a\n'))
    # the original toolkit's URL has no experiment: fine when one experiment holds the run, refused when several do
    fct.test_eq(fetch(base, run['video_url'].split('?')[0])[0], 200)
    status, _, body = fetch(base, '/media/video/still/maze/maze_0000/still_maze_0000_s0/generated_video.mp4')
    fct.test_eq(status, 400); assert b'experiment' in body

def test_paths_outside_the_data_folder_are_refused(base, data):
    secret = data.parent/'secret.png'
    secret.write_bytes(b'\x89PNG top secret')
    q = data/'outputs/demo/oracle/maze_task/maze_0000/oracle_maze_0000_s0/question'
    (q/'escape.png').symlink_to(secret)
    run = 'oracle/maze/maze_0000/oracle_maze_0000_s0'
    for path in ['/media/image/../../../secret.png', f'/media/image/{run}/..%2F..%2F..%2F..%2F..%2F..%2Fsecret.png',
                 f'/media/image/{run}/%2e%2e', '/media/image/oracle/maze/maze_0000/..%2F..%2F..%2F../secret.png',
                 f'/media/image/{run}/escape.png?experiment=demo',
                 f'/media/image/{run}/first_frame.png?experiment=../..',
                 f'/media/image/{run}/first_frame.png?experiment=%2Fetc',
                 f'/media/video/{run}/metadata.json?experiment=demo',
                 '/media/image/oracle/maze/maze_0000/..\\..\\..\\secret.png']:
        status, _, body = fetch(base, path)
        assert status in (400, 404), (path, status)
        assert b'top secret' not in body, path

def test_new_results_show_without_restart(base, data):
    from vmevalkit.core import DataLayout
    from vmevalkit.scoring import ScoreRecord, write_score
    fct.test_eq(api(base, '?scorer=human')['total'], 0)
    write_score(DataLayout(data), 'demo', ScoreRecord('human', 'still', 'maze_0000', 'still_maze_0000_s0', score=2,
                                                      explanation='the agent never moves <script>alert(1)</script>',
                                                      annotator='ada'))
    scored = api(base, '?scorer=human')['results']
    fct.test_eq([(r['model'], r['scores'][0]['annotator'], r['scores'][0]['score']) for r in scored],
                [('still', 'ada', 2.0)])
    status, _, page = fetch(base, '/?experiment=demo')
    assert b'data-scorer="human"' in page
    status, _, page = fetch(base, '/runs?experiment=demo&scorer=human')
    assert b'the agent never moves &lt;script&gt;' in page and b'<script>alert' not in page   # text is escaped

def test_binds_to_this_machine_only(base):
    port = urllib.parse.urlsplit(base).port
    with pytest.raises(ConnectionRefusedError): fetch(f'http://127.0.0.2:{port}', '/')
    fct.test_eq(fetch(base, '/')[0], 200)

def test_empty_folder_says_what_to_run(tmp_path):
    (tmp_path/'empty').mkdir()
    for folder in [tmp_path/'empty', tmp_path/'not-yet']:
        proc, url = start_dashboard('--data-dir', folder, log=tmp_path/'server.log')
        try:
            for path in ['/', '/runs']:
                status, _, page = fetch(url, path)
                fct.test_eq(status, 200)
                assert f'vmevalkit pipeline --data-dir {folder}'.encode() in page, page
            fct.test_eq(json.loads(fetch(url, '/api/results')[2])['total'], 0)
        finally: proc.terminate(); proc.wait(10)

def test_port_in_use_is_a_clear_error(base, tmp_path):
    res = vmevalkit('dashboard', '--data-dir', tmp_path, '--port', urllib.parse.urlsplit(base).port)
    fct.test_eq(res.returncode, 2)
    assert 'pass another --port' in res.stderr, res.stderr

def test_pages_in_chromium(base):
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page() as page:
        page.goto(base + '/')
        fct.test_eq(page.locator('h1').inner_text(), 'Leaderboard · demo')
        rows = page.locator('section[data-scorer="auto"] tbody tr')
        fct.test_eq([rows.nth(i).locator('th').inner_text() for i in range(rows.count())], ['oracle', 'still'])
        assert page.locator('a.rate').first.inner_text().startswith('100%')
        page.screenshot(path=str(ARTIFACTS/'dashboard.png'), full_page=True)
        rows.first.locator('a.rate').first.click()                                    # oracle, all domains
        page.wait_for_load_state()
        fct.test_eq(page.locator('article.run').count(), 2)
        ready = page.evaluate("""async () => { const v = document.querySelector('article.run video');
            await v.play(); const t0 = Date.now();
            while (v.readyState < 2 && Date.now() - t0 < 10000) await new Promise(r => setTimeout(r, 50));
            v.currentTime = v.duration / 2; await new Promise(r => v.addEventListener('seeked', r, {once: true}));
            return [v.readyState, v.videoWidth, v.currentTime > 0]; }""")
        fct.test_eq((ready[0] >= 2, ready[1], ready[2]), (True, 1280, True))
        page.select_option('select[name=domain]', 'maze')
        page.click('form.filters button[type=submit]')
        page.wait_for_load_state()
        fct.test_eq(page.locator('article.run').count(), 1)
        assert 'oracle · maze_0000' in page.locator('article.run h3').inner_text()
        fct.test_eq(page.locator('article.run img').count(), 2)
        loaded = "[...document.querySelectorAll('article.run img')].every(i => i.complete && i.naturalWidth == 1280)"
        fct.test_eq(page.evaluate(loaded), True)

def test_leaderboard_csv_api(base):
    status, headers, body = fetch(base, '/api/leaderboard?experiment=demo&format=csv')
    fct.test_eq((status, headers['Content-Type'].split(';')[0]), (200, 'text/csv'))
    assert 'filename="leaderboard-demo.csv"' in headers['Content-Disposition'], headers
    rows = body.decode().splitlines()
    fct.test_eq(rows[0], 'experiment,scorer,model,domain,n,successes,rate,ci_low,ci_high,mean_score,not_scored')
    assert 'demo,auto,oracle,all,2,2,1.0,' in rows[1], rows
    fct.test_eq(fetch(base, '/api/leaderboard?format=xml')[0], 400)

SORT_FILTER_DOWNLOAD = "section[data-scorer='auto']"

def check_table_tools(page, screenshot:str):
    "Sort the auto leaderboard by its rate both ways, filter its rows by text, and download what is shown as CSV and JSON."
    board = page.locator(SORT_FILTER_DOWNLOAD)
    models = lambda: board.locator('tbody tr:visible th').all_inner_texts()
    fct.test_eq(models(), ['oracle', 'still'])
    header = board.locator('thead th', has_text='all domains')
    header.click()
    fct.test_eq((models(), header.get_attribute('aria-sort')), (['still', 'oracle'], 'ascending'))
    header.click()
    fct.test_eq((models(), header.get_attribute('aria-sort')), (['oracle', 'still'], 'descending'))
    board.locator('thead th', has_text='model').click()
    fct.test_eq(models(), ['oracle', 'still'])
    board.locator('.tools input').fill('stil')
    fct.test_eq(models(), ['still'])
    with page.expect_download() as got: board.locator('.tools button', has_text='CSV').click()
    fct.test_eq(got.value.suggested_filename, 'leaderboard-demo-auto.csv')
    lines = Path(got.value.path()).read_text().splitlines()
    fct.test_eq((lines[0], len(lines)), ('model,all domains,maze,sudoku,not scored', 2))
    assert lines[1].startswith('still,0% [0–66] n=2,'), lines
    with page.expect_download() as got: board.locator('.tools button', has_text='JSON').click()
    fct.test_eq([r['model'] for r in json.loads(Path(got.value.path()).read_text())], ['still'])
    page.screenshot(path=str(ARTIFACTS/screenshot), full_page=True)
    board.locator('.tools input').fill('')
    fct.test_eq(models(), ['oracle', 'still'])

def test_leaderboard_sorts_filters_downloads(base):
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page() as page:
        page.goto(base + '/?experiment=demo')
        check_table_tools(page, 'dashboard-table-tools.png')

PLAY_IN_SYNC = """async () => {
    const videos = [...document.querySelectorAll('.compare video')];
    const t0 = Date.now();
    while (videos.some(v => v.readyState < 3) && Date.now() - t0 < 10000) await new Promise(r => setTimeout(r, 50));
    document.querySelector('.player button').click();
    await new Promise(r => setTimeout(r, 1200));
    const playing = videos.map(v => [v.currentTime, v.paused, v.videoWidth]);
    document.querySelector('.player button').click();
    const seek = document.querySelector('.player input');
    seek.value = 250; seek.dispatchEvent(new Event('input'));
    await new Promise(r => setTimeout(r, 300));
    return {playing, paused: videos.map(v => v.paused), seeked: videos.map(v => v.currentTime),
            longest: Math.max(...videos.map(v => v.duration))};
}"""

def check_compare_plays(page, models:list):
    "The compare view shows the question and every answer; one control plays them together, in step, and seeks them."
    fct.test_eq(page.locator('.compare figure.answer').evaluate_all('fs => fs.map(f => f.dataset.model)'), models)
    fct.test_eq(page.locator('.compare figure.question img').count(), 2)
    loaded = "[...document.querySelectorAll('.compare figure.question img')].every(i => i.complete && i.naturalWidth == 1280)"
    page.wait_for_function(loaded, timeout=10000)
    got = page.evaluate(PLAY_IN_SYNC)
    times = [t for t, _, _ in got['playing']]
    fct.test_eq([(paused, width) for _, paused, width in got['playing']], [(False, 1280)]*len(models))
    assert min(times) > 0.5, got                          # the videos really played (about 1.2 s)
    assert max(times) - min(times) < 0.15, got            # ... and in step
    fct.test_eq(got['paused'], [True]*len(models))
    assert all(abs(t - got['longest']/4) < 0.1 for t in got['seeked']), got   # the slider at 1/4 moves every video

def test_compare_view_plays_every_answer_in_sync(base):
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page() as page:
        page.goto(base + '/runs?experiment=demo&model=still&domain=maze')
        page.click('article.run a.compare-link')
        page.wait_for_load_state()
        fct.test_eq(page.locator('h1').inner_text(), 'maze_0000 · every answer')
        check_compare_plays(page, ['oracle', 'still'])
        page.screenshot(path=str(ARTIFACTS/'dashboard-compare.png'), full_page=True)

def test_badges_are_verdicts_not_generation(base):
    with chromium_page() as page:
        page.goto(base + '/runs?experiment=demo&scorer=auto&outcome=failure')
        fct.test_eq(page.locator('article.run').count(), 2)
        badges = page.locator('article.run h3 .verdict').all_inner_texts()
        fct.test_eq(sorted(badges), ['failed 1/5 · auto', 'failed 1/5 · auto'])
        fct.test_eq(page.locator('.verdict.solved').count(), 0)
        fct.test_eq(page.locator('article.run h3 .gen').all_inner_texts(), ['video generated']*2)
        colour = page.locator('article.run h3 .gen').first.evaluate('e => getComputedStyle(e).backgroundColor')
        fct.test_eq(colour, 'rgb(255, 255, 255)')                           # not the green of a solved verdict
        page.goto(base + '/runs?experiment=demo&model=oracle&domain=maze')
        fct.test_eq(page.locator('article.run h3 .verdict').all_inner_texts(), ['solved 5/5 · auto'])
        width = page.locator('article.run video').evaluate('v => v.getBoundingClientRect().width')
        assert width >= 640, width                                          # media are large where there is room

def test_narrow_window_does_not_scroll_sideways(base):
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page(viewport=(375, 800)) as page:
        for name, path in [('leaderboard', '/?experiment=demo'), ('runs', '/runs?experiment=demo'),
                           ('compare', '/compare?experiment=demo&task_id=maze_0000')]:
            page.goto(base + path)
            widths = page.evaluate('[document.documentElement.scrollWidth, document.documentElement.clientWidth]')
            fct.test_eq(widths, [375, 375])
            page.screenshot(path=str(ARTIFACTS/f'dashboard-narrow-{name}.png'), full_page=True)
        video = page.locator('.compare video').first.evaluate('v => v.getBoundingClientRect().width')
        assert 300 < video <= 375, video

def test_static_export_opens_from_disk(data, tmp_path):
    from vmevalkit.core import write_text
    write_text(data/'analysis/demo/report.html', '<!doctype html><title>report</title><h1>The demo report</h1>')
    site = tmp_path/'site'
    (site/'notes').mkdir(parents=True)
    res = vmevalkit('dashboard', '--data-dir', data, '--export', site)                  # a folder of something else
    fct.test_eq(res.returncode, 2)
    assert 'is not empty and has no vmevalkit-export.json: refusing to overwrite it' in res.stderr, res.stderr
    assert (site/'notes').is_dir()
    (site/'notes').rmdir()
    res = vmevalkit('dashboard', '--data-dir', data, '--export', site, '--experiment', 'demo')
    fct.test_eq(res.returncode, 0)
    assert f"open {site/'index.html'}" in res.stdout, res.stdout
    res = vmevalkit('dashboard', '--data-dir', data, '--export', site, '--experiment', 'demo')  # a previous export
    fct.test_eq(res.returncode, 0)
    for f in ['index.html', '.nojekyll', 'README.md', 'experiments/demo/report.html', 'experiments/other/index.html',
              'experiments/demo/leaderboard.csv', 'experiments/demo/leaderboard.json',
              'experiments/demo/compare/maze_0000.html',
              'experiments/demo/media/still/maze/maze_0000/still_maze_0000_s0/generated_video.mp4']:
        assert (site/f).is_file(), f
    pages = [p.read_text() for p in site.rglob('*.html') if p.name != 'report.html']
    fct.test_eq([n for p in pages for n in re.findall(r'(?:href|src|action)="(/[^"]*|[a-z]+:[^"]*)"', p)], [])
    assert str(data) not in ''.join(pages)                                  # the data folder's path stays private
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page() as page:
        page.goto((site/'index.html').as_uri())
        fct.test_eq(page.locator('h1').inner_text(), 'Leaderboard · demo')
        check_table_tools(page, 'export-leaderboard.png')
        page.click('p.report a')
        fct.test_eq(page.locator('h1').inner_text(), 'The demo report')
        page.go_back()
        page.locator(f"{SORT_FILTER_DOWNLOAD} tbody tr", has_text='still').locator('a.rate').first.click()
        page.wait_for_load_state()
        assert page.url.endswith('experiments/demo/runs.html?model=still&scorer=auto&outcome=scored'), page.url
        fct.test_eq(page.locator('article.run:visible').count(), 2)
        fct.test_eq(page.locator('.count').inner_text(), '2 runs')
        page.select_option('select[name=domain]', 'maze')
        page.click('form.filters button[type=submit]')
        page.wait_for_load_state()
        fct.test_eq(page.locator('article.run:visible h3').all_inner_texts()[0].split(' · ')[:2], ['still', 'maze_0000'])
        fct.test_eq(page.locator('article.run:visible').count(), 1)
        fct.test_eq(page.locator('article.run:visible .verdict:visible').all_inner_texts(), ['failed 1/5 · auto']*2)
        page.locator('article.run:visible a.compare-link').click()
        page.wait_for_load_state()
        assert page.url.endswith('experiments/demo/compare/maze_0000.html'), page.url
        check_compare_plays(page, ['oracle', 'still'])
        page.screenshot(path=str(ARTIFACTS/'export-compare.png'), full_page=True)
        page.goto((site/'experiments/demo/runs.html').as_uri() + '?outcome=failure')
        fct.test_eq(page.locator('.verdict.solved:visible').count(), 0)
        fct.test_eq(page.locator('article.run:visible').count(), 2)
