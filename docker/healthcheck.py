"""The web container's healthcheck: GET /healthz (or the path given) on the local gunicorn.

Exits 0 on a 200 answer, 1 otherwise. It sends the site's own host name (the first entry of
DJANGO_ALLOWED_HOSTS) so that Django's host check accepts it; /healthz and /readyz are exempt from the
HTTPS redirect, so plain HTTP inside the container is enough.
"""

import os
import sys
import urllib.error
import urllib.request


def main(path="healthz"):
    port = os.environ.get("PORT", "8000")
    hosts = [
        h.strip().lstrip(".") for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h.strip()
    ]
    host = hosts[0] if hosts and hosts[0] != "*" else "localhost"
    request = urllib.request.Request(f"http://127.0.0.1:{port}/{path.lstrip('/')}", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=3) as response:
            ok = response.status == 200
    except (urllib.error.URLError, OSError) as exc:
        print(f"healthcheck {path}: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
