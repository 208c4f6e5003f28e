"""Progress lines for the build's stages: tqdm on a terminal, nothing otherwise."""

from __future__ import annotations


def bar(progress: bool, **kwargs):
    """A tqdm line (counts, rate, ETA) when asked for and stderr is a terminal, else None."""
    if not progress:
        return None
    from tqdm import tqdm

    line = tqdm(disable=None, dynamic_ncols=True, **kwargs)  # disable=None: off when not a TTY
    return None if line.disable else line
