"""Test helpers shared by every app's tests."""

PASSWORD = "correct horse battery staple"  # noqa: S105 (test data)
