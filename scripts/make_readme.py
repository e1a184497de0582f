"""Write README.md from nbs/index.ipynb: markdown cells as they are, code cells as Python blocks, text outputs as
plain blocks. (nbdev-readme needs Quarto, which these machines cannot install.)"""
from pathlib import Path
import nbformat

def cell_markdown(cell)->str:
    if cell.cell_type == 'markdown': return cell.source
    src = '\n'.join(l for l in cell.source.splitlines() if not l.startswith('#|'))
    if cell.source.lstrip().startswith('#| hide') or not src.strip(): return ''
    outs = [''.join(o.get('text', '')) or o.get('data', {}).get('text/plain', '') for o in cell.get('outputs', [])]
    outs = ''.join(f"\n\n```\n{o.rstrip()}\n```" for o in outs if o.strip())
    return f"```python\n{src}\n```{outs}"

def readme(nb_path='nbs/index.ipynb')->str:
    nb = nbformat.read(nb_path, as_version=4)
    parts = [cell_markdown(c) for c in nb.cells]
    note = '<!-- Generated from nbs/index.ipynb by scripts/make_readme.py: edit the notebook, not this file. -->'
    return note + '\n\n' + '\n\n'.join(p for p in parts if p.strip()) + '\n'

if __name__ == '__main__':
    root = Path(__file__).resolve().parent.parent
    (root/'README.md').write_text(readme(root/'nbs/index.ipynb'))
