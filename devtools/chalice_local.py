"""``chalice local`` with API Gateway's error responses configured as in the deployed template."""
import sys

from devtools.local_gateway import patch

if __name__ == "__main__":
    patch()
    from chalice.cli import main
    sys.exit(main())
