"Reads which rings of a fill puzzle a video frame shows filled."
from vmevalkit.scoring import Checker

DARK, LIGHT = 90, 170  # mean grey inside a ring: filled below DARK, empty above LIGHT, unreadable between

def next_ring(before:list, after:list)->bool:
    "Whether `after` is `before` with the next ring from the left filled."
    return sum(after) == sum(before) + 1 and after == sorted(after, reverse=True)

class FillChecker(Checker):
    domain = 'fill'

    def read(self, frame, pair):
        g, filled = pair.render, []
        r = g['radius']//2  # the inside of a ring, clear of its outline
        for x in g['centres']:
            grey = frame[g['y'] - r:g['y'] + r, x - r:x + r].mean()
            if DARK < grey < LIGHT: return None  # half filled, or not a ring: cannot tell
            filled.append(bool(grey <= DARK))
        return {'filled': filled}

    def solved(self, state, pair): return all(state['filled'])

    def process_problems(self, states, pair):
        seen = [s['filled'] for s in states if s is not None]
        changes = [(a, b) for a, b in zip(seen, seen[1:]) if a != b]
        return [f"{sum(a)} filled rings became {sum(b)}, not the next ring" for a, b in changes if not next_ring(a, b)]
