"""Learned weights for answering: how candidate sentences rank, and when to abstain.

The models are linear over signals answering already computes (``rag.answering`` lists them);
their weights are data (``weights.json``), fitted by ``python -m rag.scoring.fit`` on the wiki
suite's fit articles only.
"""

from rag.scoring.model import WEIGHTS, Linear, Scorer, load_scorer

__all__ = ["WEIGHTS", "Linear", "Scorer", "load_scorer"]
