"""Fixtures for end-to-end tests: the built `infiagent` binary, its scripted model
endpoint on loopback, and a fresh workspace holding the demo's requirement."""

import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("INFIAGENT_BIN", str(ROOT / "target" / "debug" / "infiagent"))
REQUIREMENT = ROOT / "server" / "infiagent-demo" / "files" / "requirement.md"


@pytest.fixture(scope="session")
def binary() -> str:
    if not os.access(BINARY, os.X_OK):
        pytest.fail(f"{BINARY} is missing: run `cargo build` first (or set INFIAGENT_BIN)")
    return BINARY


@pytest.fixture(scope="session")
def model_base_url(binary):
    """`infiagent demo --serve-model`: the scripted model as an OpenAI-compatible endpoint."""
    process = subprocess.Popen(
        [binary, "demo", "--serve-model", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base_url = process.stdout.readline().strip()
    if not base_url.startswith("http://127.0.0.1:"):
        process.kill()
        pytest.fail(f"the scripted endpoint did not start: {process.stderr.read()}")
    yield base_url
    process.terminate()
    process.wait(timeout=5)


@pytest.fixture
def workspace(tmp_path) -> pathlib.Path:
    shutil.copy(REQUIREMENT, tmp_path / "requirement.md")
    return tmp_path
