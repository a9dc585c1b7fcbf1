"""Fixtures shared by several test modules."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner


@pytest.fixture
def one_thread():
    """Run the test on one torch thread: tiny networks gain nothing from more, and on a shared
    CPU the extra threads only spin."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
