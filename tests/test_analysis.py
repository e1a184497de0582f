"""Analysis against independent computations: a results set written as real score files, and the same numbers computed
straight from the records written (scipy for the tests, plain formulas for κ, Wilson, pass@k)."""
import itertools, json, math, random, subprocess, sys, warnings
from pathlib import Path

import numpy as np, pandas as pd
import pytest
from fastcore import test as fct
from fastcore.basics import ge
from scipy import stats

from vmevalkit.analysis import load_scores, pass_at_k_table, success_rates, wilson_interval
from vmevalkit.analysis.agreement import (agreement, cohen_kappa, convergence, holm, matched_scores, model_comparisons,
                                          statistics, write_statistics)
from vmevalkit.core import DataError, DataLayout, write_json
from vmevalkit.scoring import ScoreRecord, write_score

LEVELS = ('easy', 'medium', 'hard')

def _verdicts(rng, truth):
    "(scorer, annotator, status, score) of one run: auto sometimes skips, gpt4o sometimes fails, 1–2 humans."
    clip = lambda v: int(min(5, max(1, round(v))))
    judge = clip(truth + .5 + rng.gauss(0, 1))
    out = [('auto', None, 'skipped', None) if rng.random() < .1 else ('auto', None, 'completed', clip(truth)),
           ('gpt4o', None, 'failed', None) if rng.random() < .05 else ('gpt4o', None, 'completed', judge)]
    humans = ['ada'] + (['bob'] if rng.random() < .4 else [])
    return out + [('human', h, 'completed', clip(truth + rng.gauss(0, .5))) for h in humans]

@pytest.fixture(scope='module')
def results(tmp_path_factory):
    "A data folder of real score files, and the list of what was written: (key, scorer, annotator, status, score)."
    root, rng, written = tmp_path_factory.mktemp('analysis')/'data', random.Random(7), []
    layout = DataLayout(root)
    for model, skill in [('alpha', 4.), ('beta', 2.5)]:
        for domain, t, s in itertools.product(['chess', 'maze'], range(10), range(3)):
            task_id, run_id = f"{domain}_{t:04d}", f"{model}_{domain}_{t:04d}_s{s}"
            write_json(layout.run_dir('exp', model, task_id, run_id)/'metadata.json',
                       {'question_data': {'id': task_id, 'difficulty': LEVELS[t % 3]}})
            truth = skill + rng.gauss(0, 1)
            for scorer, who, status, score in _verdicts(rng, truth):
                rec = ScoreRecord(scorer, model, task_id, run_id, status, score, 'why', 'test', who)
                write_score(layout, 'exp', rec)
                written.append(dict(model=model, domain=domain, task_id=task_id, run_id=run_id, sample=s,
                                    difficulty=LEVELS[t % 3], scorer=scorer, annotator=who or '', status=status,
                                    score=score))
    return root, written

def test_load_scores_reads_every_record_as_written(results):
    root, written = results
    df = load_scores(root)
    fct.test_eq(len(df), len(written))
    got = sorted((r.scorer, r.annotator, r.run_id, r.sample, r.difficulty, r.status,
                  None if pd.isna(r.score) else int(r.score), None if pd.isna(r.success) else bool(r.success))
                 for r in df.itertuples())
    want = sorted((w['scorer'], w['annotator'], w['run_id'], w['sample'], w['difficulty'], w['status'], w['score'],
                   None if w['status'] != 'completed' else w['score'] >= 4) for w in written)
    fct.test_eq(got, want)
    fct.test_eq(len(load_scores(root, 'exp', 'human')), sum(w['scorer'] == 'human' for w in written))

def test_empty_missing_and_broken(results, tmp_path):
    root, _ = results
    (tmp_path/'empty').mkdir()
    empty = load_scores(tmp_path/'empty')
    fct.test_eq((len(empty), list(empty.columns)[:3]), (0, ['experiment', 'scorer', 'annotator']))
    fct.test_eq(len(success_rates(empty)), 0)
    with pytest.raises(DataError, match='does not exist'): load_scores(tmp_path/'missing')
    with pytest.raises(DataError, match="No experiment 'nope'.*Known: exp"): load_scores(root, 'nope')
    bad = tmp_path/'bad'/'scorings'/'auto-eval'/'exp'/'alpha'/'maze_task'/'maze_0000'
    bad.mkdir(parents=True)
    (bad/'auto-eval.json').write_text('{"result": {"status": "done"}}')
    with pytest.raises(DataError, match=r"auto-eval.json \(status 'done' is not one of"): load_scores(tmp_path/'bad')

def _wilson_closed_form(c, n, conf=.95):
    "The Wilson bounds as the roots of (p̂ − p)² = z² p(1 − p)/n."
    z = stats.norm.ppf(1 - (1 - conf)/2)
    a, b, cc = 1 + z*z/n, -(2*c/n + z*z/n), (c/n)**2
    disc = math.sqrt(max(b*b - 4*a*cc, 0))
    return (-b - disc)/(2*a), (-b + disc)/(2*a)

def test_success_rates_match_counts_and_wilson(results):
    root, written = results
    rates = success_rates(load_scores(root, scorer='auto'), by=['model', 'difficulty'])
    for r in rates.itertuples():
        scores = [w['score'] for w in written if w['scorer'] == 'auto' and w['status'] == 'completed'
                  and w['model'] == r.model and w['difficulty'] == r.difficulty]
        c = sum(s >= 4 for s in scores)
        fct.test_eq((r.n, r.successes), (len(scores), c))
        fct.test_close(r.mean_score, sum(scores)/len(scores), eps=1e-12)
        fct.test_eq(r.median_score, float(np.median(scores)))
        fct.test_close((r.ci_low, r.ci_high), _wilson_closed_form(c, len(scores)), eps=1e-9)
    fct.test_eq(list(rates.difficulty[:3]), list(LEVELS))
    fct.test_close(wilson_interval(81, 263, .9), _wilson_closed_form(81, 263, .9), eps=1e-12)

def test_pass_at_k_matches_enumeration(results):
    root, written = results
    table = pass_at_k_table(load_scores(root, scorer='gpt4o'), ks=(1, 2, 3))
    for r in table.itertuples():
        per_task = {}
        for w in written:
            if w['scorer'] == 'gpt4o' and w['status'] == 'completed' and w['model'] == r.model:
                per_task.setdefault(w['task_id'], []).append(w['score'] >= 4)
        # the share of k-subsets of a question's samples with at least one success, averaged over questions
        est = [sum(any(c) for c in itertools.combinations(v, r.k))/math.comb(len(v), r.k)
               for v in per_task.values() if len(v) >= r.k]
        fct.test_eq(r.tasks, len(est))
        fct.test_close(r.pass_at_k, sum(est)/len(est), eps=1e-12)

def _paired(written, a, b):
    "Arrays of matched runs, by hand: several annotators' scores averaged per run."
    runs = {}
    for w in written:
        if w['status'] == 'completed' and w['scorer'] in (a, b):
            run = runs.setdefault((w['model'], w['domain'], w['task_id'], w['run_id']), {})
            run.setdefault(w['scorer'], []).append(w['score'])
    keys = sorted(k for k, v in runs.items() if a in v and b in v)
    return keys, np.array([np.mean(runs[k][a]) for k in keys]), np.array([np.mean(runs[k][b]) for k in keys])

def _kappa_by_hand(x, y, cats, quadratic=False):
    n = len(x)
    w = lambda i, j: ((i - j)/(len(cats) - 1))**2 if quadratic else float(i != j)
    obs = sum(w(cats.index(u), cats.index(v)) for u, v in zip(x, y))/n
    share = lambda v, c: list(v).count(c)/n
    exp = sum(w(i, j)*share(x, ci)*share(y, cj) for i, ci in enumerate(cats) for j, cj in enumerate(cats))
    return 1 - obs/exp

def test_agreement_matches_scipy_and_hand_formulas(results):
    root, written = results
    keys, x, y = _paired(written, 'gpt4o', 'human')
    res = agreement(load_scores(root), 'gpt4o', 'human')
    fct.test_eq(res['n'], len(keys))
    fct.test_close(res['scores']['mean_diff'], float(np.mean(x - y)), eps=1e-12)
    fct.test_close(res['tests']['paired_t']['p_value'], stats.ttest_rel(x, y).pvalue, eps=1e-12)
    fct.test_close(res['tests']['wilcoxon']['statistic'], stats.wilcoxon(x, y).statistic, eps=1e-9)
    fct.test_close(res['tests']['wilcoxon']['p_value'], stats.wilcoxon(x, y).pvalue, eps=1e-12)
    for name, f in [('pearson', stats.pearsonr), ('spearman', stats.spearmanr), ('kendall', stats.kendalltau)]:
        fct.test_close(res['correlation'][name]['r'], f(x, y)[0], eps=1e-12)
        fct.test_close(res['correlation'][name]['p_value'], f(x, y)[1], eps=1e-12)
    cx, cy = np.ceil(x - .5).astype(int), np.ceil(y - .5).astype(int)  # consensus: nearest score, halves down
    cats = [1, 2, 3, 4, 5]
    fct.test_close(res['kappa']['unweighted'], _kappa_by_hand(cx, cy, cats), eps=1e-12)
    fct.test_close(res['kappa']['quadratic'], _kappa_by_hand(cx, cy, cats, True), eps=1e-12)
    fct.test_close(res['kappa']['binary'], _kappa_by_hand(cx >= 4, cy >= 4, [False, True]), eps=1e-12)
    fct.test_close(res['agreement']['exact'], float(np.mean(cx == cy)), eps=1e-12)
    fct.test_eq(res['confusion']['scores'][2][3], int(((cx == 3) & (cy == 4)).sum()))
    fct.test_eq(res['bootstrap']['low'] < float(np.mean(x - y)) < res['bootstrap']['high'], True)
    fct.test_eq(agreement(load_scores(root), 'gpt4o', 'human'), res)  # seeded: same data, same document

def test_kappa_textbook_example():
    # 50 items, yes/no: 20 both yes, 15 both no, 5 and 10 split; p_o = .7, p_e = .5·.6 + .5·.4 = .5, κ = .4
    x = [1]*20 + [1]*5 + [0]*10 + [0]*15
    y = [1]*20 + [0]*5 + [1]*10 + [0]*15
    fct.test_close(cohen_kappa(x, y, (0, 1)), .4, eps=1e-12)
    fct.test_close(cohen_kappa([1, 2, 3], [1, 2, 3]), 1., eps=1e-12)

def test_convergence_is_the_paired_t_test_on_shuffled_prefixes(results):
    root, written = results
    matched = matched_scores(load_scores(root), 'auto', 'human')
    table = convergence(matched, alpha=.05, seed=3)
    d = (matched.score_a - matched.score_b).to_numpy()[np.random.default_rng(3).permutation(len(matched))]
    for n in (5, 17, len(d)):
        row = table[table.n == n].iloc[0]
        if np.ptp(d[:n]) > 0:
            fct.test_close(row.p_value, stats.ttest_rel(d[:n], np.zeros(n)).pvalue, eps=1e-9)
            lo, hi = stats.ttest_rel(d[:n], np.zeros(n)).confidence_interval(.95)
            fct.test_close((row.ci_low, row.ci_high), (lo, hi), eps=1e-9)
        fct.test_eq(bool(row.indistinguishable), bool(row.ci_low <= 0 <= row.ci_high))

def test_edge_cases_give_reasons_not_warnings(results):
    root, _ = results
    df = load_scores(root)
    one_model = df[df.model == 'alpha'].copy()
    one_model.loc[one_model.scorer == 'auto', 'score'] = 5.
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        res = agreement(one_model, 'auto', 'human')
        single = agreement(df[df.run_id == 'alpha_chess_0000_s0'], 'gpt4o', 'human')
        none = agreement(df, 'gpt4o', 'internvl')
    fct.test_eq(res['correlation']['pearson'], None)
    assert 'every auto score is 5' in res['undefined']['correlation.pearson']
    fct.test_eq((single['n'], single['tests']['paired_t'], single['undefined']['tests.paired_t']),
                (1, None, 'needs at least 2 matched runs'))
    assert "no completed scores from 'internvl'" in none['missing']

def test_statistics_document_and_files(results, tmp_path):
    root, written = results
    df = load_scores(root)
    paths = write_statistics(df, tmp_path/'out', resamples=300)
    doc = json.loads((tmp_path/'out'/'statistics.json').read_text())
    json.dumps(doc, allow_nan=False)  # no NaN anywhere
    fct.test_eq(set(doc['agreement']), {'gpt4o vs auto', 'gpt4o vs human', 'auto vs human'})
    failed = sum(w['scorer'] == 'gpt4o' and w['status'] == 'failed' for w in written)
    fct.test_eq(doc['records']['gpt4o']['failed'], failed)
    human_runs = {w['run_id'] for w in written if w['scorer'] == 'human'}
    fct.test_eq(sum(r['n'] for r in doc['scorers']['human']['rates_by_model']), len(human_runs))  # one per run
    fct.test_eq(sorted(doc['agreement']['auto vs human']['by_domain']), ['chess', 'maze'])
    fct.test({p.name for p in paths}, {'statistics.json', 'scores.csv', 'auto_rates_by_model.csv',
                                             'agreement_gpt4o_vs_human.csv'}, ge)

def test_model_comparisons_match_mcnemar_by_hand(results):
    "Each question's k-th completed auto verdict of alpha against beta's, counted here, and scipy's exact binomial test."
    root, written = results
    verdicts = {}
    for w in sorted(written, key=lambda w: w['sample']):
        if w['scorer'] == 'auto' and w['status'] == 'completed':
            verdicts.setdefault((w['model'], w['task_id']), []).append(w['score'] >= 4)
    pairs = [(x, y) for (m, task), xs in verdicts.items() if m == 'alpha'
             for x, y in zip(xs, verdicts.get(('beta', task), []))]
    b, c = sum(x and not y for x, y in pairs), sum(y and not x for x, y in pairs)
    row = model_comparisons(load_scores(root, scorer='auto')).iloc[0]
    fct.test_eq((row.model_a, row.model_b, row.n, row.a_only, row.b_only), ('alpha', 'beta', len(pairs), b, c))
    fct.test_close(row.p_value, stats.binomtest(b, b + c, .5).pvalue, eps=1e-12)
    fct.test_eq(row.p_holm, row.p_value)  # one pair, one test: nothing to correct

def test_holm_rejects_what_the_step_down_procedure_rejects():
    "Holm's procedure at level α: reject the smallest p-values while p_(i) ≤ α/(m − i + 1); adjusted p ≤ α says the same."
    rng = np.random.default_rng(5)
    for _ in range(200):
        p = list(rng.uniform(0, .1, rng.integers(1, 12)))
        for alpha in (.01, .05, .1):
            rejected, m = set(), len(p)
            for i, k in enumerate(sorted(range(m), key=lambda k: p[k])):
                if p[k] > alpha/(m - i): break
                rejected.add(k)
            fct.test_eq({k for k, q in enumerate(holm(p)) if q <= alpha}, rejected)

def test_analysis_imports_stay_light():
    code = ("import sys, vmevalkit.analysis, vmevalkit.analysis.agreement; "
            "print([m for m in ('pandas', 'scipy') if m in sys.modules])")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    fct.test_eq(out.strip(), '[]')
