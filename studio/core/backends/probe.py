"""``python -m studio.core.backends.probe NAME``: print one JSON line of what backend NAME sees.

Run by ``studio.core.backends.probe`` in a fresh process so a broken or slow backend cannot hang
or crash the caller.
"""

from __future__ import annotations

import json
import sys


def main(name: str) -> dict:
    try:
        from studio.core.backends import adapter

        module = adapter(name)
        module.load()
        return {"usable": True, "gpus": module.list_gpus(), "reason": ""}
    except Exception as exc:  # noqa: BLE001 - any failure is the answer
        return {"usable": False, "reason": f"{type(exc).__name__}: {exc}".splitlines()[0][:300]}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
