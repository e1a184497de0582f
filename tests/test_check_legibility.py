"An end that cannot be read is never scored, in every domain: the oracle whose last frames go out of focus (σ 8)."
import numpy as np, pytest
from fastcore import test as fct
from vmevalkit.core import write_video
from vmevalkit.models import load_model
from vmevalkit.scoring import check_video, get_checker
from vmevalkit.tasks import get_task

# domain -> the question (index, seed, difficulty) each domain's own suite uses
QUESTIONS = {'chess': (2, 3, None), 'maze': (1, 7, 'medium'), 'raven': (1, 5, 'medium'), 'rotation': (0, 11, None),
             'sudoku': (2, 3, None)}

@pytest.mark.parametrize('domain', list(QUESTIONS))
def test_an_end_blurred_past_reading_is_uncertain(domain, tmp_path):
    import cv2
    task, (index, seed, level) = get_task(domain), QUESTIONS[domain]
    pair = task.make_pair(index, seed=seed, **({'difficulty': level} if level else {}))
    frames = [np.asarray(f) for f in load_model('oracle').frames(task, pair, 16)]
    frames = frames[:-4] + [cv2.GaussianBlur(frames[-1], (0, 0), 8)]*4
    v = check_video(write_video(frames, tmp_path/'blurred.mp4'), pair, get_checker(domain))
    fct.test_eq((v.score, v.uncertain), (None, 'end unreadable'))
