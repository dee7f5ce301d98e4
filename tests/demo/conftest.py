"""The small simulated site is the session fixture ``small_site`` of tests/conftest.py."""
