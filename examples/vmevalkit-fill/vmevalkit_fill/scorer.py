"A scorer of the plain kind: 5 when a video's last frame differs from its first, 1 when the video stands still."
import numpy as np
from vmevalkit.core import DataLayout, Run, read_frames
from vmevalkit.scoring import ScoreRecord, ScoreSummary, run_dirs, write_score

MOVED = 0.5  # mean change (of 255) from the first frame to the last that counts as movement

def score_moved(experiment:str, data_dir=None, models:list|None=None, domains:list|None=None)->ScoreSummary:
    "Score every run of `experiment` that has a video by whether it moves."
    layout, records = DataLayout(data_dir), []
    for folder in run_dirs(layout, experiment, models, domains):
        run = Run.from_dir(folder)
        if not run.video.exists(): continue
        frames = read_frames(run.video)
        change = float(np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean())
        rec = ScoreRecord('moved', run.model, run.task_id, run.run_id, score=5 if change > MOVED else 1,
                          explanation=f"the last frame differs from the first by {change:.1f} of 255 on average",
                          scoring_type='first_last_difference')
        write_score(layout, experiment, rec)
        records.append(rec)
    return ScoreSummary(records)
