"""Dataset names and release labels are plain labels: nothing that could lead a write out of the workspace."""

from __future__ import annotations

import pytest

from audit.errors import ConfigError
from audit.labels import plain_label


@pytest.mark.parametrize("label", ["2023-09", "v1.0", "2024-03-r", "week_01", "1", "Fall+Winter", "Montréal-2024"])
def test_plain_labels_are_accepted(label):
    assert plain_label(label, "release label") == label


@pytest.mark.parametrize("label", ["../../x", "a/b", "a\\b", "..", ".hidden", "a..b", "-x", "", " x", "a\nb", "a\x00b",
                                   "C:x", "x" * 101, "a b"])
def test_anything_else_is_refused(label):
    with pytest.raises(ConfigError, match="is not a plain label"):
        plain_label(label, "release label")
