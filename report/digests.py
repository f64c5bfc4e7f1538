"""The one hash recipe of the project: sha256 of a plain value's canonical JSON.

Cache keys, result and record checksums, figure keys and the names of stored sample
images all use it, so "the same value" means the same thing everywhere. It lives with the
plumbing, outside the stages, because the data stage needs it as much as the runs stage.
"""

from __future__ import annotations

import hashlib
import json


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def digest(value: object) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()
