"A toy model: it fades the first frame to white. Motion without reasoning, for the scorers to fail."
import numpy as np
from vmevalkit.core import load_image, write_video
from vmevalkit.models import ModelWrapper

class FadeOutModel(ModelWrapper):
    def _generate(self, image_path, text_prompt, output_path, fps=8, duration=2, **_):
        first = np.asarray(load_image(image_path).convert('RGB'), dtype=float)
        n = max(2, round(fps*duration))
        write_video([(first + (255 - first)*k/(n - 1)).astype(np.uint8) for k in range(n)], output_path, fps=fps)
        return dict(generation_id='fade-out', metadata=dict(frames=n))

FADE_OUT = dict(family='toy', kind='reference', wrapper='vmevalkit_fill.model:FadeOutModel', model='fade-out',
                defaults=dict(fps=8, duration=2))
