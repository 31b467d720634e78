"""`atiende serve` and `atiende demo`."""

from __future__ import annotations

import os
import sys

DEMO_TRY = """
Atiende demo is running at {url}  (embedded default: SQLite + Qdrant Edge under {data_dir}, offline answers)
Admin key: {key}

Try:
  printf 'hola\\n¿cuál es el horario de atención?\\nquiero hablar con un humano\\n' | atiende chat --tenant demo --json
  curl -s {url}/health/ready
  curl -s -H 'Authorization: Bearer {key}' {url}/admin/tenants/demo/conversations
  curl -s -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\
       -d '{{"query": "¿aceptan devoluciones?"}}' {url}/admin/tenants/demo/knowledge/search
  API docs: {url}/docs        Stop: Ctrl-C
"""


def serve(host: str, port: int, demo: bool = False) -> int:
    """Run the server until interrupted; the demo forces the development environment."""
    if demo:
        os.environ["APP_ENV"] = "development"
    import uvicorn

    from checkpoints.lock import DataDirInUse, DataDirLock
    from config.settings import get_settings
    from server.app import create_app
    from server.auth import effective_admin_key
    from server.logs import configure_logging
    from server.services import uses_embedded_storage

    settings = get_settings()
    configure_logging(settings.app_debug)
    if uses_embedded_storage(settings):
        try:
            with DataDirLock(settings.data_dir):
                pass
        except DataDirInUse as error:
            print(f"atiende: {error}", file=sys.stderr)
            return 1
    local_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{local_host}:{port}"
    key = effective_admin_key(settings)
    banner = DEMO_TRY.format(url=url, key=key, data_dir=settings.data_dir.resolve()) if demo else ""
    app = create_app(settings, admin_key=key, announce_url=url, banner=banner)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
    return 0
