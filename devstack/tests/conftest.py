"""No fixtures of its own (devstack's are in devstack.pytest_plugin): being a conftest, it puts
this folder on sys.path, so the tests in unit/ and integration/ import manifests_test_helpers."""
