"Stages only look down (ARCHITECTURE.md, 'Stage order'): every import inside the package, at the top of a module or in a function."
import ast
from pathlib import Path
from fastcore import test as fct

PACKAGE = Path(__file__).resolve().parent.parent/'vmevalkit'
# a module may import from its own row and the rows below it; the package root holds only the version
STAGE = dict(core=0, tasks=1, models=1, inference=2, scoring=3, sync=4, analysis=4, pipeline=5, cli=5, dashboard=5,
             runner=5, utils=5, eval=5)  # the last three: the original toolkit's import paths, as aliases (03_compat)

def module_name(path:Path)->str:
    parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)

def imported(path:Path)->set:
    "The package's modules that the module at `path` imports, anywhere in it."
    me, out = module_name(path), set()
    here = me.split('.') if path.name == '__init__.py' else me.split('.')[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
        if isinstance(node, ast.Import): names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = '.'.join(here[:len(here) - node.level + 1]) if node.level else ''
            names = ['.'.join(p for p in (base, node.module) if p)]
            # `from . import x` may name a submodule
            names += [f"{names[0]}.{a.name}" for a in node.names]
        else: continue
        out |= {n for n in names if n.split('.')[0] == 'vmevalkit'}
    return out

def modules()->dict:
    "module name → the package's modules it imports (names that are not modules, like functions, dropped)."
    files = {module_name(p): p for p in PACKAGE.rglob('*.py') if p.name != '_modidx.py'}
    return {m: {n for n in imported(p) if n in files and n != m} for m, p in files.items()}

def stage(module:str)->int:
    return STAGE[module.split('.')[1]] if '.' in module else 0

def test_every_module_has_a_stage():
    fct.test_eq(sorted({m.split('.')[1] for m in modules() if '.' in m} - set(STAGE)), [])

def test_no_import_looks_up():
    up = sorted(f"{m} (stage {stage(m)}) imports {n} (stage {stage(n)})"
                for m, names in modules().items() for n in names if stage(n) > stage(m))
    fct.test_eq(up, [])

def test_no_import_circle():
    graph, circles = modules(), []
    def visit(m, path):
        for n in sorted(graph[m]):
            if n in path: circles.append(' → '.join(path[path.index(n):] + [n]))
            elif n not in done: visit(n, path + [n])
        done.add(m)
    done = set()
    for m in sorted(graph):
        if m not in done: visit(m, [m])
    fct.test_eq(circles, [])
