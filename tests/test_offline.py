"""The bundled model loads and encodes with the network blocked and no offline flags set."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

TEXTS = ["Russia wrote to the U.S. general.", "Gerasimov sent a letter to Dunford."]

# Patch the socket layer before anything else is imported: any connection attempt or DNS lookup
# is recorded and fails, as it would on a machine without network.
SCRIPT = """
import json, os, socket, sys
attempts = []
def blocked(self, address, *args, **kwargs):
    attempts.append(repr(address))
    raise OSError("network blocked by the test")
def no_dns(*args, **kwargs):
    attempts.append(repr(args[:2]))
    raise socket.gaierror("DNS blocked by the test")
socket.socket.connect = blocked
socket.socket.connect_ex = blocked
socket.getaddrinfo = no_dns
assert not any(k in os.environ for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))
from rag.embedding import TorchEncoder, bundled_model_path
encoder = TorchEncoder()
vectors = encoder.encode(json.loads(sys.argv[1]))
print(json.dumps({"dim": encoder.dim, "vectors": vectors.tolist(), "attempts": attempts,
                  "model": str(bundled_model_path())}))
"""


@pytest.mark.slow
def test_bundled_model_encodes_with_the_network_blocked(assistant):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")
    }
    env["HF_HOME"] = (
        env["RAG_INDEX_DIR"] + "-hf-home"
    )  # an empty hub cache: nothing to fall back on
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(TEXTS)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["attempts"] == []  # it never even tried the network
    vectors = np.array(result["vectors"], dtype=np.float32)
    assert vectors.shape == (2, 384) and result["dim"] == 384
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # The same model as the session's encoder (ONNX or torch): the same vectors.
    assert np.allclose(vectors, assistant.encoder.encode(TEXTS), atol=1e-4)
