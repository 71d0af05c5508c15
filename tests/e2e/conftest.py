"""The e2e tier uses the fake platforms of tests/conftest.py: a `dutybot serve` subprocess talks to them."""
