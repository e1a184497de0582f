"""Reports end to end: the main job's report from real videos and scores, `vmevalkit analyze` on partial and empty
experiments, replacing a report and refusing to replace anything else, `vmevalkit run` with scorers and analysis."""
import json, re, shutil
from pathlib import Path
import pytest
from fastcore import test as fct
from conftest import vmevalkit

@pytest.fixture(scope='module')
def pipeline_data(tmp_path_factory):
    "The main job on one question per domain, run once for the module."
    root = tmp_path_factory.mktemp('pipe')/'data'
    res = vmevalkit('pipeline', '--pairs-per-domain', 1, '--data-dir', root, '--quiet', '--workers', 2)
    assert res.returncode == 0, res.stdout + res.stderr
    return root, res

def tabulars(tex:str)->list:
    "Each tabular of a LaTeX text as (column spec, rows of cells), checking booktabs' rules and a cell per column."
    assert tex.count(r'\begin{table}') == tex.count(r'\end{table}') == tex.count(r'\begin{tabular}')
    unescaped = re.sub(r'\\[{}]', '', tex)
    assert unescaped.count('{') == unescaped.count('}'), 'unbalanced braces'
    found = []
    for spec, body in re.findall(r'\\begin\{tabular\}\{([lrc]+)\}\n(.*?)\n\\end\{tabular\}', tex, re.S):
        lines = body.splitlines()
        fct.test_eq((lines[0], lines[2], lines[-1]), (r'\toprule', r'\midrule', r'\bottomrule'))
        rows = [l for l in lines if l not in (r'\toprule', r'\midrule', r'\bottomrule')]
        assert all(r.endswith(r' \\') for r in rows), rows
        cells = [[c.strip() for c in re.split(r'(?<!\\)&', r[:-3])] for r in rows]
        fct.test_eq({len(c) for c in cells}, {len(spec)})
        found.append((spec, cells))
    return found

def comparisons_csv(path)->list:
    "The rows of a comparisons.csv, checked against McNemar's exact test computed here (scipy) and Holm's bound."
    import csv
    from scipy import stats
    rows = list(csv.DictReader(path.open()))
    for r in rows:
        b, c = int(r['a_only']), int(r['b_only'])
        fct.test_eq(int(r['n']), sum(int(r[k]) for k in ('both', 'a_only', 'b_only', 'neither')))
        p = stats.binomtest(b, b + c, .5).pvalue if b + c else 1.
        fct.test_close(float(r['p_value']), p, eps=1e-5*max(p, 1e-3))
        assert float(r['p_value']) <= float(r['p_holm']) <= min(1., len(rows)*float(r['p_value']) + 1e-9), r
    return rows

def headline_rows(text:str)->dict:
    "model → (scored, successes, success, CI) from a printed headline table."
    rows = re.findall(r'^(oracle|still|crossfade|cut-to-final)\s+(\d+)\s+(\d+)\s+(\d+%)\s+(\S+)\s+\S+$', text, re.M)
    return {m: (int(n), int(s), rate, ci) for m, n, s, rate, ci in rows}

def test_main_job_reports_oracle_100_still_0(pipeline_data):
    root, res = pipeline_data
    rows = headline_rows(res.stdout)
    fct.test_eq(rows['oracle'][:3], (5, 5, '100%'))
    fct.test_eq(rows['still'][:3], (5, 0, '0%'))
    fct.test_eq(rows['oracle'][3], '57%–100%')  # Wilson, 5 of 5
    for stage in ['[1/5] creating questions', '[5/5] writing the report', 'Stage times: create']: assert stage in res.stdout
    report = root/'analysis'/'pipeline'
    assert f"Report: {report/'report.html'}" in res.stdout
    page = (report/'report.html').read_text()
    assert '<td>oracle</td><td>5</td><td>5</td><td>100%</td><td>57%–100%</td>' in page
    assert 'src="data:image/png;base64,' in page and 'src="figures/' not in page
    for name in ['model_ranking', 'score_distribution', 'convergence']:  # 5 runs per model
        assert (report/'figures'/f'{name}.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
        assert (report/'figures'/f'{name}.pdf').read_bytes()[:5] == b'%PDF-'
    # one question per domain: a run per model and domain, four per domain and level; those figures say so instead
    for name, per in [('domain_heatmap', 'model and domain'), ('model_domains', 'model and domain'),
                      ('domain_difficulty', 'domain and difficulty')]:
        fct.test_eq(list((report/'figures').glob(f'{name}.*')), [])
        assert re.search(rf"Figure {name} not drawn: .* needs at least 5 scored runs per {per}, but \S+ has [14]:",
                         res.stdout), res.stdout
    (head, models), (_, pairs) = tabulars((report/'results.tex').read_text())
    fct.test_eq((head, [r[:3] for r in models[1:]][0]), ('lrrrrr', ['oracle', '5', '100.0']))
    fct.test_eq(sorted(r[0] for r in models[1:]), ['crossfade', 'cut-to-final', 'oracle', 'still'])
    fct.test_eq(len(pairs), 1 + 6)
    rows = comparisons_csv(report/'comparisons.csv')
    fct.test_eq([(r['model_a'], r['model_b']) for r in rows], [tuple(r[:2]) for r in pairs[1:]])
    stats = json.loads((report/'statistics.json').read_text())
    rates = {r['model']: r['rate'] for r in stats['scorers']['auto']['rates_by_model']}
    fct.test_eq((rates['oracle'], rates['still']), (1.0, 0.0))
    assert '| oracle | 5 | 5 | 100% | 57%–100% | 5.00 |' in (report/'report.md').read_text()
    # reference models record their price of nothing on every run: spend is known and zero, and no line says otherwise
    assert 'oracle,5,5,0.0,5,0.0,True' in (report/'spend.csv').read_text().splitlines()
    assert 'publish no price' not in res.stdout and '<td>oracle</td><td>5</td><td>5</td><td>$0.00</td>' in page

def test_partial_experiment_says_what_is_missing(pipeline_data, tmp_path):
    root = tmp_path/'data'
    shutil.copytree(pipeline_data[0], root)
    shutil.rmtree(root/'scorings'/'auto-eval'/'pipeline'/'still')
    meta = next((root/'outputs'/'pipeline'/'crossfade').rglob('metadata.json'))
    m = json.loads(meta.read_text()); m['inference']['status'] = 'failed'; meta.write_text(json.dumps(m))
    res = vmevalkit('analyze', '--experiment', 'pipeline', '--data-dir', root, '--formats', 'png')
    fct.test_eq(res.returncode, 0)
    assert 'still: 5 of 5 runs have no auto verdict yet; `vmevalkit score auto --experiment pipeline` scores them.' in res.stdout
    assert 'crossfade: 1 of 5 runs failed at inference' in res.stdout
    assert '  figure model_ranking (' in res.stdout  # progress while it draws
    fct.test_eq(set(headline_rows(res.stdout)), {'oracle', 'crossfade', 'cut-to-final'})
    cov = (root/'analysis'/'pipeline'/'coverage.csv').read_text().splitlines()
    assert 'still,5,0,0,0,0,5' in cov, cov
    fct.test_eq(list((root/'analysis'/'pipeline'/'figures').glob('*.pdf')), [])

def test_skipped_verdicts_are_reported_by_cause(pipeline_data, tmp_path):
    "Two oracle videos replaced by ones the checker cannot judge: the report names each cause and warns about the model."
    import numpy as np
    from vmevalkit.core import read_frames, write_video
    root = tmp_path/'data'
    shutil.copytree(pipeline_data[0], root)
    black, short = sorted(p.parent for p in (root/'outputs'/'pipeline'/'oracle').rglob('metadata.json'))[:2]
    write_video([np.zeros((720, 1280, 3), np.uint8)]*8, black/'video'/'generated_video.mp4')
    write_video(read_frames(short/'video'/'generated_video.mp4')[:1], short/'video'/'generated_video.mp4')
    for run in (black, short):  # the videos changed under unchanged metadata: their old verdicts go
        (root/'scorings'/'auto-eval'/'pipeline'/'oracle'/run.parent.parent.name/run.parent.name/'auto-eval.json').unlink()
    res = vmevalkit('score', 'auto', '--experiment', 'pipeline', '--data-dir', root, '--workers', 1)
    fct.test_eq(res.returncode, 0)
    res = vmevalkit('analyze', '--experiment', 'pipeline', '--data-dir', root, '--formats', 'png')
    fct.test_eq(res.returncode, 0)
    rows = (root/'analysis'/'pipeline'/'skips.csv').read_text().splitlines()
    fct.test_eq(rows, ['model,cause,skipped,verdicts,share', 'oracle,puzzle not found,1,5,0.2', 'oracle,too short,1,5,0.2'])
    assert ("oracle: 2 of 5 auto verdicts skipped (40%; mostly 'puzzle not found', 1)") in res.stdout, res.stdout
    assert '<h2>Skipped verdicts</h2>' in (root/'analysis'/'pipeline'/'report.html').read_text()

def test_empty_and_unknown_experiments_explain(pipeline_data, tmp_path):
    root = tmp_path/'data'
    (root/'questions').mkdir(parents=True)
    (root/'outputs'/'fresh'/'oracle').mkdir(parents=True)
    res = vmevalkit('analyze', '--experiment', 'fresh', '--data-dir', root)
    fct.test_eq(res.returncode, 2)
    assert "has 0 runs" in res.stderr and '`vmevalkit score auto --experiment fresh`' in res.stderr, res.stderr
    res = vmevalkit('analyze', '--experiment', 'nope', '--data-dir', root)
    fct.test_eq(res.returncode, 2)
    assert "No experiment 'nope'" in res.stderr and 'Known: fresh' in res.stderr, res.stderr
    res = vmevalkit('analyze', '--experiment', 'x', '--data-dir', tmp_path/'missing')
    assert res.returncode == 2 and 'does not exist' in res.stderr, res.stderr
    res = vmevalkit('analyze', '--experiment', 'pipeline', '--data-dir', pipeline_data[0], '--scorer', 'gpt4o')
    assert res.returncode == 2 and "No 'gpt4o' scores" in res.stderr, res.stderr

def test_rerun_replaces_only_its_report_and_never_a_foreign_folder(pipeline_data, tmp_path):
    root = tmp_path/'data'
    shutil.copytree(pipeline_data[0], root)
    report = root/'analysis'/'pipeline'
    (report/'stale.txt').write_text('from an older report')
    (root/'analysis'/'other').mkdir(); (root/'analysis'/'other'/'keep.txt').write_text('keep')
    res = vmevalkit('analyze', '--experiment', 'pipeline', '--data-dir', root, '--formats', 'png', '--quiet')
    fct.test_eq(res.returncode, 0)
    fct.test_eq((report/'stale.txt').exists(), False)
    fct.test_eq((root/'analysis'/'other'/'keep.txt').read_text(), 'keep')
    fct.test_eq([p.name for p in (root/'analysis').iterdir() if p.name.startswith('.')], [])  # no temporary leftovers
    mine = tmp_path/'my-paper'; mine.mkdir(); (mine/'draft.tex').write_text('\\section{}')
    res = vmevalkit('analyze', '--experiment', 'pipeline', '--data-dir', root, '--out', mine)
    fct.test_eq(res.returncode, 2)
    assert 'refusing to replace it' in res.stderr
    fct.test_eq(sorted(p.name for p in mine.iterdir()), ['draft.tex'])

def test_run_config_scores_and_analyses(tmp_path):
    cfg = tmp_path/'tiny.yaml'
    cfg.write_text('experiment: tiny\ntasks: {domains: [maze], pairs_per_domain: 5}\n'
                   'models: [oracle, still]\nscorers: {auto: {workers: 1}}\nanalysis: {scorer: auto, formats: [png, svg]}\n')
    res = vmevalkit('run', cfg, '--data-dir', tmp_path/'data')
    fct.test_eq(res.returncode, 0)
    assert -1 < res.stdout.find('10 runs:') < res.stdout.find('Scoring with auto'), res.stdout  # inference, then scoring
    report = tmp_path/'data'/'analysis'/'tiny'
    assert (report/'figures'/'model_ranking.svg').read_text().lstrip().startswith('<?xml')
    assert '| oracle | 5 | 5 | 100% |' in (report/'report.md').read_text()
    stats = json.loads((report/'statistics.json').read_text())
    fct.test_eq({r['model']: r['successes'] for r in stats['scorers']['auto']['rates_by_model']}, {'oracle': 5, 'still': 0})
    cfg.write_text('models: [oracle]\nanalysis: {headline: auto}\n')
    res = vmevalkit('run', cfg, '--data-dir', tmp_path/'data')
    assert res.returncode == 2 and 'analysis must be true, false or a mapping' in res.stderr, res.stderr

def test_spend_per_model_keeps_unknown_prices_unknown(tmp_path):
    "A priced model, a model with no published price, and runs from before costs were recorded: never counted as $0."
    from vmevalkit.analysis import write_synthetic_scores
    root, no_seed = tmp_path/'data', {'seed': 'seed not supported by veo-x: runs are not reproducible'}
    write_synthetic_scores(root, 'paid', {'veo-x': 4.6, 'kling-x': 3.4, 'old': 3.2}, ('maze',), tasks=3,
                           inference={'veo-x': {'estimated_cost_usd': .8, 'dropped': no_seed},
                                      'kling-x': {'estimated_cost_usd': None}})
    res = vmevalkit('analyze', '--experiment', 'paid', '--data-dir', root, '--scorer', 'auto', '--formats', 'png', '--quiet')
    fct.test_eq(res.returncode, 0)
    assert '2 of 3 models publish no price (or their runs predate cost records): their spend is unknown.' in res.stdout
    assert 'veo-x: seed not supported by veo-x: runs are not reproducible (not sent in 6 of 6 runs).' in res.stdout
    report = root/'analysis'/'paid'
    rows = {r.split(',')[0]: r.split(',') for r in (report/'spend.csv').read_text().splitlines()}
    fct.test_eq(rows['model'], ['model', 'runs', 'priced', 'usd', 'successes', 'usd_per_success', 'complete'])
    fct.test_eq(rows['veo-x'][1:4], ['6', '6', '4.8'])
    fct.test_eq(float(rows['veo-x'][5]), round(4.8/int(rows['veo-x'][4]), 4))
    for model in ['kling-x', 'old']: fct.test_eq(rows[model][1:4] + rows[model][5:], ['6', '0', '', '', 'False'])
    md = (report/'report.md').read_text()
    assert '## Spend' in md and '| veo-x | 6 | 6 | $4.80 |' in md and '| old | 6 | 0 | unknown | unknown |' in md, md
    assert '<td>kling-x</td><td>6</td><td>0</td><td>unknown</td><td>unknown</td>' in (report/'report.html').read_text()

def test_results_tex_comparisons_and_eps(tmp_path):
    "A model name LaTeX must escape, figures in EPS without transparency, and the comparison table recomputed here."
    from vmevalkit.analysis import write_synthetic_scores
    root = tmp_path/'data'
    write_synthetic_scores(root, 'paper', {'top_model': 4.6, 'mid-model': 3.2, 'low.model': 1.4}, ('maze', 'sudoku'), tasks=6)
    res = vmevalkit('analyze', '--experiment', 'paper', '--data-dir', root, '--scorer', 'auto', '--formats', 'png', 'eps',
                    '--quiet')
    fct.test_eq(res.returncode, 0)
    assert 'transparency' not in res.stderr, res.stderr  # PostScript's writer warns when an artist asks for it
    report = root/'analysis'/'paper'
    (head, models), (spec, pairs) = tabulars((report/'results.tex').read_text())
    fct.test_eq(models[0], ['Model', '$n$', r'Success (\%)', r'95\% CI', 'Mean', 'Median'])
    fct.test_eq([r[0] for r in models[1:]], [r'top\_model', 'mid-model', 'low.model'])
    stats = json.loads((report/'statistics.json').read_text())
    by_model = {r['model']: r for r in stats['scorers']['auto']['rates_by_model']}
    fct.test_eq(models[1][1:3], [str(by_model['top_model']['n']), f"{100*by_model['top_model']['rate']:.1f}"])
    fct.test_eq(models[1][5], f"{by_model['top_model']['median_score']:g}")
    rows = comparisons_csv(report/'comparisons.csv')
    fct.test_eq([(r['model_a'], r['model_b']) for r in rows],
                [('top_model', 'mid-model'), ('top_model', 'low.model'), ('mid-model', 'low.model')])
    fct.test_eq([r[:2] for r in pairs[1:]], [[r['model_a'].replace('_', r'\_'), r['model_b'].replace('_', r'\_')] for r in rows])
    fct.test_eq((spec, len(stats['scorers']['auto']['comparisons'])), ('llrrrrr', 3))
    eps = sorted((report/'figures').glob('*.eps'))
    fct.test_eq(len(eps), len(list((report/'figures').glob('*.png'))))
    for path in eps:
        head = path.read_bytes()[:400]
        assert head.startswith(b'%!PS-Adobe-3.0 EPSF-3.0') and b'%%BoundingBox: 0 0 ' in head, path
        assert b'%%CreationDate' not in head, path  # the same scores give the same bytes
    md = (report/'report.md').read_text()
    assert '## Which model is better' in md and '| top_model | low.model |' in md, md
