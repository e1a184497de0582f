"""Measure whether video generation models can reason: puzzles in, videos out, scores you can trust.

Modules:

- `vmevalkit.scoring.rotation`: Reads which view of the turning object a frame shows, by matching it against the question's own renders, and judges the turn: the stated way, step by step, to the stated view.
- `vmevalkit.tasks.rotation`: 3-D mental rotation: a chiral chain of cubes on a turntable is turned about the vertical axis; the model must show the turn and the view it ends on."""

__version__ = "0.1.0"
