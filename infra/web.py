"""Browser sign-in (chalicelib/web/): server-side sessions and single sign-on login states."""
from infra import table


def tables(cfg):
    # SESSION#<sha256 of the cookie's id> / SESSION and SSO#<sha256 of the state> / STATE; both expire by TTL.
    return [table(cfg.sessions_table, ttl="expires_at")]
