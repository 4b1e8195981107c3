# -*- coding: utf-8 -*-
# Copyright: eco2.mesh contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is the API server there? One bounded look (GET /version) before a run starts, so that an unreachable
server stops the run at once, naming its address, instead of each task timing out or misreading it."""
from __future__ import annotations

import time

# Per attempt: connect, then read (seconds). Three attempts with a 1 s, then 2 s pause: at most 27 s.
CONNECT_TIMEOUT = 3
READ_TIMEOUT = 5
ATTEMPTS = 3


def check(version_call, server, sleep=time.sleep):
    """Call `version_call(timeout)` until it answers; returns its answer, or raises RuntimeError naming
    `server` and the last error after ATTEMPTS tries."""
    last = None
    for attempt in range(ATTEMPTS):
        try:
            return version_call((CONNECT_TIMEOUT, READ_TIMEOUT))
        except Exception as exc:  # urllib3/socket/ssl/API errors: all mean "not usable now"
            last = exc
            if attempt + 1 < ATTEMPTS:
                sleep(attempt + 1)
    raise RuntimeError("the Kubernetes API server at %s does not answer (%d attempts within %d s): %s"
                       % (server, ATTEMPTS, ATTEMPTS * (CONNECT_TIMEOUT + READ_TIMEOUT) + 3, _short(last)))


def _short(exc):
    text = str(exc).strip().splitlines()
    return (text[-1] if text else type(exc).__name__)[:300]
