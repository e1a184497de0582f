"The fill puzzle: a row of rings, some filled from the left; fill the rest one at a time, left to right."
from PIL import Image, ImageDraw
from vmevalkit.core import CANVAS
from vmevalkit.tasks import Task

INK, RADIUS, Y = (40, 40, 40), 50, 360

def ring_centres(n:int)->list:
    "The x of each of `n` rings, spread evenly across the canvas."
    step = CANVAS[0]//(n + 1)
    return [step*(i + 1) for i in range(n)]

def draw_rings(filled:list)->Image.Image:
    "The rings, each filled with ink or empty."
    im = Image.new('RGB', CANVAS, 'white')
    d = ImageDraw.Draw(im)
    for x, full in zip(ring_centres(len(filled)), filled):
        d.ellipse((x - RADIUS, Y - RADIUS, x + RADIUS, Y + RADIUS), fill=INK if full else 'white', outline=INK, width=8)
    return im

class FillTask(Task):
    name, description, task_category = 'fill', 'Fill a row of rings one at a time, left to right', 'fill_in_order'
    metadata_keys = ('rings', 'filled')
    sizes = dict(easy=3, medium=5, hard=7)

    def sample(self, rng, difficulty):
        n = self.sizes[difficulty]
        return {'rings': n, 'filled': rng.randrange(n - 1)}  # at least two rings left to fill

    def prompt(self, state):
        return (f"Fill the empty rings with ink, one ring at a time from left to right, until all {state['rings']} "
                "rings are filled. Show each ring being filled.")

    def steps(self, state)->list:
        "The rings' states from the question to the solution, one more ring filled at each step."
        n = state['rings']
        return [[i < k for i in range(n)] for k in range(state['filled'], n + 1)]

    def first_frame(self, state): return draw_rings(self.steps(state)[0])
    def final_frame(self, state): return draw_rings(self.steps(state)[-1])
    def solution_frames(self, state): return [draw_rings(s) for s in self.steps(state)]
    def geometry(self, state): return dict(centres=ring_centres(state['rings']), y=Y, radius=RADIUS)

    def verify(self, state):
        n, k = state.get('rings'), state.get('filled')
        if isinstance(n, int) and isinstance(k, int) and 0 <= k < n - 1: return []
        return [f"filled={k!r} must be a whole number from 0 to rings - 2 (rings={n!r})"]
