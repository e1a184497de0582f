"""Measure whether video generation models can reason: puzzles in, videos out, scores you can trust.

Modules:

- `vmevalkit.tasks.rotation`: 3-D mental rotation: a chiral chain of cubes on a turntable is turned about the vertical axis; the model must show the turn and the view it ends on."""

__version__ = "0.1.0"
