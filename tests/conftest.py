"""Suite-wide settings. Area conftests (tests/<area>/conftest.py) hold their own fixtures."""

import os

# Everything here talks to 127.0.0.1 only; a proxy from the environment would swallow it.
for _name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_name, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
