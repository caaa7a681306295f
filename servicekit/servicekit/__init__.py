"""The shared runtime every service is built on. Keep it small: see README.md."""
