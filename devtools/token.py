"""``make token USER=<name> [ROLE=support|senior-support|kb-editor]``: print a bearer token for the running stack."""
from __future__ import annotations

import argparse
import os

from devtools import stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("user")
    parser.add_argument("--role", default="", choices=["", "support", "senior-support", "kb-editor"])
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT") or 5500))
    args = parser.parse_args()
    stack.use_env({**stack.stage_env("dev"), **stack.aws_env(args.moto_port)})
    from chalicelib.config import settings
    from infra import local
    pool = local.find_user_pool(settings())
    token = local.ensure_user(pool, args.user, role=args.role or None)
    print(token)


if __name__ == "__main__":
    main()
