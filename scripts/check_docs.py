"""The docs check (Quarto cannot run here): every notebook must process under nbdev's docs rules, and its saved
outputs must be fit to publish.

    python scripts/check_docs.py [NOTEBOOK ...]

1. Docs rules: nbdev's docs processor (`nbdev-proc-nbs`, the step before Quarto) executes a notebook's export cells,
   every cell that contains an import and every `show_doc` cell, even when a test flag (`#| slow`, `#| notest`, ...)
   would skip them in `nbdev-test`, and without the lesson cells in between. Each notebook is processed exactly that
   way here (all of them, reporting every failure rather than the first).
2. Outputs: no errors, no warnings or other stderr text, no image over 400 kB, no notebook over 3 MB.
Exit code 1 when anything fails.
"""
import base64, os, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

NBS = Path(__file__).resolve().parent.parent/'nbs'
MAX_IMAGE, MAX_NOTEBOOK = 400_000, 3_000_000

def notebooks(args:list)->list:
    if args: return [Path(a).resolve() for a in args]
    return sorted(p for p in NBS.rglob('*.ipynb') if not any(part[0] in '._' for part in p.relative_to(NBS).parts))

def process_one(path:str):
    "Process one notebook as `nbdev-proc-nbs` does (in this process); exit 1 with the error on stdout."
    from nbdev.processors import FilterDefaults
    from fastcore.nbio import read_nb
    os.environ['IN_TEST'] = '1'
    try: FilterDefaults()(read_nb(path))
    except Exception as e:
        lines = str(e).strip().splitlines()
        print(f"{lines[-1]} ({lines[0][:120]})"); sys.exit(1)

def docs_rules(path:Path)->str|None:
    "The error processing `path` under the docs rules (in a fresh interpreter: IPython takes over `__main__`), or None."
    r = subprocess.run([sys.executable, __file__, '--one', str(path)], capture_output=True, text=True, cwd=NBS)
    return (r.stdout.strip() or r.stderr.strip()[-300:] or f"exit code {r.returncode}") if r.returncode else None

def output_problems(path:Path)->list:
    "Saved outputs that should not be published."
    import json
    nb, out = json.loads(path.read_text()), []
    if path.stat().st_size > MAX_NOTEBOOK: out.append(f"notebook is {path.stat().st_size/1e6:.1f} MB (limit 3 MB)")
    for i, cell in enumerate(nb['cells']):
        for o in cell.get('outputs', []):
            if o['output_type'] == 'error': out.append(f"cell {i}: saved error {o.get('ename')}")
            if o['output_type'] == 'stream' and o['name'] == 'stderr' and ''.join(o['text']).strip():
                out.append(f"cell {i}: stderr in output: {''.join(o['text']).strip().splitlines()[0][:100]}")
            for mime, data in o.get('data', {}).items():
                if mime.startswith('image/') and mime != 'image/svg+xml':
                    size = len(base64.b64decode(''.join(data)))
                    if size > MAX_IMAGE: out.append(f"cell {i}: {mime} of {size/1e3:.0f} kB (limit 400 kB)")
    return out

def main(args:list)->int:
    paths = notebooks(args)
    with ThreadPoolExecutor(2) as pool:
        errors = dict(zip(paths, pool.map(docs_rules, paths)))
    bad = 0
    for p in paths:
        rel = p.relative_to(NBS.parent)
        problems = ([f"docs processing failed: {errors[p]}"] if errors[p] else []) + output_problems(p)
        for problem in problems: print(f"{rel}: {problem}")
        bad += bool(problems)
    print(f"docs check: {len(paths)} notebooks, {bad} with problems")
    return 1 if bad else 0

if __name__ == '__main__':
    if sys.argv[1:2] == ['--one']: process_one(sys.argv[2])
    else: sys.exit(main(sys.argv[1:]))
