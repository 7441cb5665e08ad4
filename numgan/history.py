"""``History``: the record of every training step, kept by a callback of :func:`numgan.train.fit`."""
from __future__ import annotations

from typing import Any, Mapping

#: older names of record keys (before numgan 0.2), read from old checkpoints under their new names
RENAMED_KEYS = {"d_real": "p_real", "d_fake": "p_fake"}


class History(dict):
    """A callback that keeps every step's record: ``history[key]`` is the list of ``record[key]`` over steps.

    ``fit`` makes one (or continues the one it is given) and returns it. The
    keys are those of :meth:`numgan.gan.GAN.train_step`'s record: ``d_loss``,
    ``penalty``, ``d_grad_norm``, ``p_real``, ``p_fake``, ``g_loss``,
    ``g_grad_norm``. A key missing from a step's record is kept as NaN, so
    that every list has one entry per step.
    """

    @property
    def steps(self) -> int:
        """How many steps are recorded."""
        return len(next(iter(self.values()))) if self else 0

    def __call__(self, gan: Any, record: Mapping[str, float]) -> None:
        steps = self.steps
        for key in record:
            if key not in self:
                self[key] = [float("nan")] * steps
        for key, values in self.items():
            values.append(float(record.get(key, float("nan"))))

    @classmethod
    def from_lists(cls, lists: Mapping[str, Any]) -> "History":
        """A history from ``key -> sequence of numbers`` (old key names renamed), every list of one length."""
        history = cls({RENAMED_KEYS.get(key, key): [float(v) for v in values] for key, values in lists.items()})
        lengths = {len(values) for values in history.values()}
        if len(lengths) > 1:
            raise ValueError(f"history lists must all have one length, got lengths {sorted(lengths)}")
        return history
