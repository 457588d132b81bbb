"""The tamper corpus: one scripted attack per way an insider could try to alter published data behind the
tool's back, each run on a fresh workspace and each shown detected (`attacks.py`).

    .venv/bin/python -m tests.tamper [--json out.json]     # every attack, a table of outcomes (make stress)
    .venv/bin/pytest tests/test_tamper.py                   # the same attacks as tests (make test)
"""
