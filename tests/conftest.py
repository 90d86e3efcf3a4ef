"""Shared fixtures: models load once per session; tests never touch the network."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

DATA_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(autouse=True)
def _no_outbound_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse connections to anything but loopback (no hub, no dataset downloads)."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("localhost", "::1") or host.startswith("/")):
            raise RuntimeError(f"test tried to reach the network ({host}); tests must stay offline")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def torch_encoder():
    from verirank.encoders import load_encoder

    return load_encoder("torch")


@pytest.fixture(scope="session")
def onnx_encoder():
    from verirank.encoders import load_encoder

    return load_encoder("onnx")


@pytest.fixture(scope="session")
def data_root() -> Path:
    if not DATA_ROOT.exists():
        pytest.skip(f"shared data not found at {DATA_ROOT}")
    return DATA_ROOT


@pytest.fixture(scope="session")
def shipped_verifier():
    from verirank.verifier.runtime import NearMissVerifier

    return NearMissVerifier.load()
