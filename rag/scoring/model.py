"""Linear models read from JSON: a sentence ranker and an abstention classifier."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

WEIGHTS = Path(__file__).with_name("weights.json")


@dataclass(frozen=True)
class Linear:
    """``bias + weights · x`` over named features, in the order of ``names``.

    Example:
        >>> Linear(("a", "b"), (1.0, -2.0), 0.5).score((3.0, 1.0))
        1.5
    """

    names: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float = 0.0

    def score(self, x: tuple[float, ...]) -> float:
        if len(x) != len(self.weights):
            raise ValueError(f"expected {len(self.weights)} features {self.names}, got {len(x)}")
        return self.bias + math.fsum(w * v for w, v in zip(self.weights, x, strict=True))

    def as_dict(self) -> dict:
        return {"names": list(self.names), "weights": list(self.weights), "bias": self.bias}

    @classmethod
    def from_dict(cls, d: dict) -> Linear:
        return cls(tuple(d["names"]), tuple(float(w) for w in d["weights"]), float(d["bias"]))


@dataclass(frozen=True)
class Scorer:
    """The ranker (in cosine units: the sentence cosine weighs 1) and the abstention model.

    ``confidence`` is the abstention model's probability that the answer is right to give; the
    fit places its bias so that the chosen operating point is 0.5 (``Settings.abstain_threshold``).

    Example:
        >>> s = Scorer(Linear(("cos",), (1.0,)), Linear(("cos",), (4.0,), -2.0))
        >>> s.rank((0.7,)), round(s.confidence((0.5,)), 3)
        (0.7, 0.5)
    """

    ranking: Linear
    abstention: Linear
    about: str = ""

    def rank(self, features: tuple[float, ...]) -> float:
        return self.ranking.score(features)

    def confidence(self, signals: tuple[float, ...]) -> float:
        z = self.abstention.score(signals)
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def save(self, path: Path, meta: dict | None = None) -> None:
        body = {
            "about": self.about,
            "ranking": self.ranking.as_dict(),
            "abstention": self.abstention.as_dict(),
            "fit": meta or {},
        }
        path.write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")


@lru_cache(maxsize=4)
def load_scorer(path: Path = WEIGHTS) -> Scorer:
    """The shipped weights (or another file of the same shape).

    Example:
        >>> load_scorer().ranking.names[0]
        'cosine'
    """
    d = json.loads(Path(path).read_text(encoding="utf-8"))
    return Scorer(Linear.from_dict(d["ranking"]), Linear.from_dict(d["abstention"]), d["about"])
