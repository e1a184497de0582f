"""Write README.md from nbs/index.ipynb: markdown cells as they are, code cells as Python blocks, text outputs as
plain blocks, image outputs as PNG files under nbs/images/. (nbdev-readme needs Quarto, which these machines cannot
install.)"""
import base64
from pathlib import Path
import nbformat

ROOT = Path(__file__).resolve().parent.parent

def output_markdown(out, name:str)->str:
    "One cell output as Markdown: a saved image, or a text block."
    data = out.get('data', {})
    if 'image/png' in data:
        img = ROOT/'nbs'/'images'/f'{name}.png'
        img.parent.mkdir(exist_ok=True)
        img.write_bytes(base64.b64decode(data['image/png']))
        return f"![]({img.relative_to(ROOT).as_posix()})"
    text = ''.join(out.get('text', '')) or ''.join(data.get('text/plain', ''))
    return f"```\n{text.rstrip()}\n```" if text.strip() else ''

def cell_markdown(cell, i:int)->str:
    if cell.cell_type == 'markdown': return cell.source
    if cell.source.lstrip().startswith('#| hide'): return ''
    src = '\n'.join(l for l in cell.source.splitlines() if not l.startswith('#|'))
    outs = [output_markdown(o, f'readme_{i}_{j}') for j, o in enumerate(cell.get('outputs', []))]
    return '\n\n'.join([f"```python\n{src}\n```", *[o for o in outs if o]]) if src.strip() else ''

def readme(nb_path)->str:
    nb = nbformat.read(nb_path, as_version=4)
    parts = [cell_markdown(c, i) for i, c in enumerate(nb.cells)]
    note = '<!-- Generated from nbs/index.ipynb by scripts/make_readme.py: edit the notebook, not this file. -->'
    return note + '\n\n' + '\n\n'.join(p for p in parts if p.strip()) + '\n'

if __name__ == '__main__':
    for old in (ROOT/'nbs'/'images').glob('readme_*.png'): old.unlink()
    (ROOT/'README.md').write_text(readme(ROOT/'nbs/index.ipynb'))
