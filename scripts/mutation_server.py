"""A fork server for scripts/mutation.sh: each mutant's pytest without re-importing the libraries.

    python scripts/mutation_server.py serve SOCKET MAP     # started by mutation.sh, in the copy
    (client side: run(SOCKET, pytest_args), called by scripts/mutation_select.py)

Importing Django, allauth, Celery, psycopg, Faker, pytest... takes about 95 % of a pytest start
(5 s of CPU here); the project's own modules, 3 %. The server imports, once, the third-party and
standard-library modules the baseline run had loaded (MAP's "preload", in their order), but no
module of the tree: a finder refuses them while it preloads, so the module being mutated, and
every module that imports it, is imported afresh by each mutant's pytest. Django is not set up
(pytest-django does it in the child). For each request the server forks; the child takes the
client's stdin/stdout/stderr (passed over the Unix socket), its directory and environment, runs
pytest.main and exits with its status, which the server sends back. The client disconnecting
(cosmic-ray's timeout kills it) kills the child.
"""

import importlib
import importlib.abc
import importlib.machinery
import json
import os
import select
import signal
import socket
import struct
import sys
import traceback
import warnings


class _RefuseTree(importlib.abc.MetaPathFinder):
    def __init__(self, root: str):
        self.root = root

    def find_spec(self, name, path, target=None):
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        origin = spec and (spec.origin or (spec.submodule_search_locations or [None])[0])
        if origin and os.path.realpath(origin).startswith(self.root):
            raise ImportError(f"{name}: module of the tree, not preloaded")
        return None


def preload(names: list[str]) -> int:
    root = os.path.realpath(os.getcwd()) + os.sep
    finder = _RefuseTree(root)
    sys.meta_path.insert(0, finder)
    loaded = 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name in names:
                try:
                    importlib.import_module(name)
                    loaded += 1
                except BaseException:  # noqa: BLE001 - a module that needs Django set up: the child imports it
                    pass
    finally:
        sys.meta_path.remove(finder)
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        if not name.startswith(("__", "mutation_")) and origin and os.path.realpath(origin).startswith(root):
            raise SystemExit(f"mutation_server: {name} of the tree was preloaded")
    import django.apps

    if django.apps.apps.ready:
        raise SystemExit("mutation_server: Django was set up while preloading")
    return loaded


def _child(fds, cwd, env, args):
    try:
        os.setsid()
        for i, fd in enumerate(fds):
            os.dup2(fd, i)
            os.close(fd)
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        sys.dont_write_bytecode = bool(env.get("PYTHONDONTWRITEBYTECODE"))
        sys.path[0] = cwd  # as `python -m pytest` from cwd
        import pytest

        status = pytest.main(args)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(int(status))
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(3)


def _recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("client gone")
        data += chunk
    return data


def serve(path: str, map_path: str) -> None:
    with open(map_path, encoding="utf-8") as f:
        names = json.load(f)["preload"]
    sys.path.insert(0, os.getcwd())
    loaded = preload(names)
    print(f"mutation_server: {loaded} of {len(names)} modules preloaded", flush=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(path):
        os.unlink(path)
    server.bind(path)
    server.listen(1)
    while True:
        conn, _ = server.accept()
        try:
            header, fds, _flags, _addr = socket.recv_fds(conn, 8, 3)
            if len(header) < 8:
                header += _recv_exact(conn, 8 - len(header))
            (size,) = struct.unpack("!Q", header)
            request = json.loads(_recv_exact(conn, size))
        except (OSError, ValueError, ConnectionError):
            conn.close()
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            server.close()
            conn.close()
            _child(fds, request["cwd"], request["env"], request["args"])
        for fd in fds:
            os.close(fd)
        status = None
        while status is None:
            done, _, _ = select.select([conn], [], [], 0.2)
            finished, wait_status = os.waitpid(pid, os.WNOHANG)
            if finished:
                status = os.waitstatus_to_exitcode(wait_status)
                break
            if done and not conn.recv(1, socket.MSG_PEEK):  # the client is gone (timeout)
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:  # not yet its own group
                    os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                break
        if status is not None:
            try:
                conn.sendall(struct.pack("!i", status if status >= 0 else 128 - status))
            except OSError:
                pass
        conn.close()


def run(path: str, args: list[str], timeout: float) -> int | None:
    """pytest `args` in the server, stopped after `timeout` seconds (status 124); None if the
    server cannot be reached (run pytest yourself)."""
    payload = json.dumps({"cwd": os.getcwd(), "env": dict(os.environ), "args": args}).encode()
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect(path)
        socket.send_fds(client, [struct.pack("!Q", len(payload))], [0, 1, 2])
        client.sendall(payload)
    except OSError:
        return None
    client.settimeout(timeout)
    try:
        (status,) = struct.unpack("!i", _recv_exact(client, 4))
        return status
    except TimeoutError:
        print(f"mutation_select: timeout ({timeout} s)", flush=True)
        return 124  # closing the socket makes the server kill the child
    except (OSError, ConnectionError):
        return None
    finally:
        client.close()


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
