"""Extra RabbitMQ nodes for the integration tests: TLS, client certificates, a cluster, alarms.

The machine's default node (rabbit@<host> on 5672, started by scripts/broker.sh) is never touched:
every node made here has its own name (enoki-t<hex>@localhost), its own free AMQP, TLS and
distribution ports, its own data, log, config, plugins and pid files and its own Erlang cookie, all
in a temporary directory; nothing is read from /etc/rabbitmq or /var/lib/rabbitmq. The nodes run
as the test user (root in CI) straight from /usr/lib/rabbitmq/bin.

Use (the fixtures in conftest.py do this for you):

    certs = Certs(tmp / "certs")                # openssl: CAs, server and client certificates
    node = RabbitNode(tmp / "n1", tls=certs)    # TLS listener + EXTERNAL (rabbitmq_auth_mechanism_ssl)
    node.start()                                # returns when the node accepts AMQP connections
    node.amqp_uri(), node.amqps_uri()           # amqp://guest:guest@localhost:<port>/, amqps://...
    node.add_user("bob", "pw"); node.set_permissions("bob")
    node.set_memory_alarm(True)                 # publishers get connection.blocked
    node.kill(); node.start(); node.stop()      # stop() is also what teardown does

    cluster = RabbitCluster(tmp / "c")          # two disc nodes joined, started in parallel
    cluster.start(); cluster.a, cluster.b; cluster.stop()

Certs (PEM files, EC P-256, made at test time and never committed):
  ca / ca_key                 the CA the nodes trust (CN=enoki-test-ca)
  server / server_key         CN=localhost, SAN DNS:localhost, IP:127.0.0.1, signed by ca
  client / client_key         CN=enoki-client, signed by ca: logs in with EXTERNAL
  other_ca / other_ca_key     an unrelated CA: clients verifying the nodes with it must fail
  other_server / _key         CN=other.invalid (SAN DNS:other.invalid), signed by ca
  expired_server / _key       CN=localhost + the SANs above, signed by ca, expired in 2001
  expired_client / _key       CN=enoki-client, signed by ca, expired in 2001
  untrusted_client / _key     CN=enoki-client, signed by other_ca: the broker refuses it
  WRONG_HOST                  127.0.0.2: reaches the nodes but is in no certificate's names, so a
                              client checking the host name refuses amqps://127.0.0.2:<tls_port>/

A node with tls= listens for TLS on tls_port with ssl_options verify_peer and
fail_if_no_peer_cert false (a client may come without a certificate and log in with PLAIN),
auth_mechanisms PLAIN, AMQPLAIN, EXTERNAL and ssl_cert_login_from common_name. server= picks the
certificate it serves ("server", "other_server" or "expired_server").

Users: guest/guest (allowed from loopback only, as usual) exists on every node, plus the users=
mapping {name: password or None} given to RabbitNode (None: no password, for EXTERNAL); they are
loaded with load_definitions at boot, which costs nothing, while add_user() costs a rabbitmqctl run
(~1 s). The TLS fixture creates "enoki-client" this way. Every user gets all permissions on "/".

Speed: a node is ready when its AMQP listener answers the protocol header (the listeners open last
in RabbitMQ's boot), which is faster than polling rabbitmqctl. rabbitmqctl is run only for ctl(),
add_user(), set_permissions(), set_memory_alarm() and joining the cluster (one `eval`).

Measured on the 2-core CI machine (Debian 12, RabbitMQ 3.10.8, Erlang 25): certificates 0.3 s;
one node 5.5-7 s (mostly RabbitMQ scanning every loaded module for boot steps; linking only the
needed applications into the node's plugins directory saves ~0.7 s); the cluster 8-9 s (both nodes
booting at once, then ~1 s to join); stop() ~1.1 s (the cluster's nodes stop in parallel);
kill() at once; rabbitmqctl runs ~0.5 s. ENOKI_RABBIT_LOG_LEVEL=debug makes the node logs
(<dir>/log/*.log, <dir>/console.log) verbose; a start that fails raises with their tails.

Teardown: stop() sends SIGTERM (RabbitMQ stops cleanly), waits, then SIGKILLs what is left of the
process group; the node leaves epmd when its VM exits. Nodes started on the main thread also die
with the test process (PR_SET_PDEATHSIG), and an atexit hook stops any node still running, so
no beam.smp outlives the tests. Start nodes from the main thread (the fixtures do).
"""

import atexit
import base64
import ctypes
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

from ports import free_port

RABBIT_BIN = Path(os.environ.get("ENOKI_RABBITMQ_BIN", "/usr/lib/rabbitmq/bin"))
# The applications a node needs (rabbit's, rabbit_common's and rabbitmq_prelaunch's dependencies)
# and the plugin it may enable: the only ones linked into a node's plugins directory. RabbitMQ reads
# the configuration schema and the .app of everything there at each start; Debian ships 70.
CORE_APPS = ("rabbit", "rabbit_common", "rabbitmq_prelaunch", "ranch", "ra", "aten", "gen_batch_server",
             "sysmon_handler", "stdout_formatter", "recon", "observer_cli", "osiris", "amqp10_common",
             "syslog", "systemd", "seshat", "jsx", "credentials_obfuscation", "cuttlefish", "getopt")
PLUGINS = ("rabbitmq_auth_mechanism_ssl",)
WRONG_HOST = "127.0.0.2"
START_TIMEOUT = float(os.environ.get("ENOKI_RABBIT_START_TIMEOUT", "90"))
CTL_TIMEOUT = 60

_LIVE = set()   # nodes whose VM may be running; stopped at exit


def _run(cmd, cwd=None, env=None, timeout=CTL_TIMEOUT):
    result = subprocess.run(cmd, cwd=cwd, env=env, timeout=timeout, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise RuntimeError("{} exited {}:\n{}{}".format(" ".join(map(str, cmd)), result.returncode,
                                                        result.stdout, result.stderr))
    return result.stdout


# --- certificates ------------------------------------------------------------------------------------------


class Certs:
    """The certificates of the docstring above, made with the openssl command in directory."""

    NAMES = ("ca", "other_ca", "server", "other_server", "expired_server", "client",
             "expired_client", "untrusted_client")

    def __init__(self, directory):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._ca("ca", "enoki-test-ca")
        self._ca("other_ca", "enoki-other-ca")
        local = "DNS:localhost,IP:127.0.0.1"
        self._leaf("server", "ca", "localhost", local, "serverAuth")
        self._leaf("other_server", "ca", "other.invalid", "DNS:other.invalid", "serverAuth")
        self._leaf("expired_server", "ca", "localhost", local, "serverAuth", expired=True)
        self._leaf("client", "ca", "enoki-client", None, "clientAuth")
        self._leaf("expired_client", "ca", "enoki-client", None, "clientAuth", expired=True)
        self._leaf("untrusted_client", "other_ca", "enoki-client", None, "clientAuth")
        for name in self.NAMES:
            setattr(self, name, str(self.dir / (name + ".pem")))
            setattr(self, name + "_key", str(self.dir / (name + ".key")))

    def _key(self, name):
        key = self.dir / (name + ".key")
        _run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-out", str(key)])
        os.chmod(key, 0o600)
        return key

    def _ca(self, name, cn):
        key = self._key(name)
        _run(["openssl", "req", "-x509", "-new", "-key", str(key), "-sha256", "-days", "30",
              "-subj", "/O=enoki tests/CN=" + cn, "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", str(self.dir / (name + ".pem"))])

    def _leaf(self, name, ca, cn, san, usage, expired=False):
        key = self._key(name)
        csr = self.dir / (name + ".csr")
        ext = self.dir / (name + ".ext")
        _run(["openssl", "req", "-new", "-key", str(key), "-subj", "/O=enoki tests/CN=" + cn,
              "-out", str(csr)])
        lines = ["basicConstraints=critical,CA:FALSE",
                 "keyUsage=critical,digitalSignature,keyEncipherment",
                 "extendedKeyUsage=" + usage]
        if san:
            lines.append("subjectAltName=" + san)
        ext.write_text("\n".join(lines) + "\n")
        out = self.dir / (name + ".pem")
        ca_pem, ca_key = self.dir / (ca + ".pem"), self.dir / (ca + ".key")
        if expired:
            # openssl x509 cannot backdate; openssl ca can, with a throw-away database.
            db = self.dir / (name + ".db")
            db.mkdir(exist_ok=True)
            (db / "index.txt").write_text("")
            conf = db / "ca.cnf"
            conf.write_text(
                "[ca]\ndefault_ca=t\n[t]\ndatabase={0}/index.txt\nnew_certs_dir={0}\n"
                "serial={0}/serial\ndefault_md=sha256\npolicy=p\nunique_subject=no\n"
                "[p]\ncommonName=supplied\norganizationName=optional\n".format(db))
            (db / "serial").write_text("1000\n")
            _run(["openssl", "ca", "-batch", "-config", str(conf), "-cert", str(ca_pem),
                  "-keyfile", str(ca_key), "-in", str(csr), "-out", str(out), "-notext",
                  "-startdate", "20000101000000Z", "-enddate", "20010101000000Z",
                  "-extfile", str(ext)])
            shutil.rmtree(db)
        else:
            _run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_pem), "-CAkey", str(ca_key),
                  "-CAcreateserial", "-days", "30", "-sha256", "-extfile", str(ext), "-out", str(out)])
        csr.unlink()
        ext.unlink()


# --- one node ----------------------------------------------------------------------------------------------


def _password_hash(password):
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))."""
    salt = os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def _die_with_parent():
    # Runs in the child between fork and exec: SIGKILL when the thread that started it ends.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _amqp_answers(port, host="127.0.0.1"):
    """True when an AMQP 0-9-1 listener on port answers the protocol header with a method frame."""
    try:
        with socket.create_connection((host, port), timeout=1) as s:
            s.sendall(b"AMQP\x00\x00\x09\x01")
            return s.recv(1)[:1] == b"\x01"
    except OSError:
        return False


class RabbitNode:
    """One RabbitMQ node of its own in directory (see the module docstring)."""

    def __init__(self, directory, tls=None, server="server", users=None, cookie=None, name=None,
                 extra_conf=""):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.name = name or "enoki-t{}".format(uuid.uuid4().hex[:10])
        self.nodename = self.name + "@localhost"
        self.certs = tls
        self.server_cert = server
        self.users = {"guest": "guest"}
        self.users.update(users or {})
        self.cookie = cookie or uuid.uuid4().hex
        self.extra_conf = extra_conf
        self.port = free_port()
        self.tls_port = free_port() if tls else None
        self.dist_port = free_port()
        self.proc = None
        self.log = self.dir / "log"
        self._write_files()

    # -- files

    def _write_files(self):
        home = self.dir / "home"
        home.mkdir(exist_ok=True)
        cookie = home / ".erlang.cookie"
        if cookie.exists():
            cookie.chmod(0o600)
        cookie.write_text(self.cookie)
        cookie.chmod(0o400)
        self.log.mkdir(exist_ok=True)
        self._link_plugins()
        (self.dir / "rabbitmq-env.conf").write_text("")
        plugins = ["rabbitmq_auth_mechanism_ssl"] if self.certs else []
        (self.dir / "enabled_plugins").write_text("[{}].\n".format(",".join(plugins)))
        defs = {
            "users": [{"name": n, "password_hash": _password_hash(p) if p is not None else "",
                       "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []}
                      for n, p in self.users.items()],
            "vhosts": [{"name": "/"}],
            "permissions": [{"user": n, "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}
                            for n in self.users],
        }
        (self.dir / "definitions.json").write_text(json.dumps(defs))
        conf = [
            "listeners.tcp.default = {}".format(self.port),
            "load_definitions = {}".format(self.dir / "definitions.json"),
            "loopback_users.guest = true",
            "log.file.level = " + os.environ.get("ENOKI_RABBIT_LOG_LEVEL", "info"),
            "log.console = false",
        ]
        if self.certs:
            c = self.certs
            conf += [
                "listeners.ssl.default = {}".format(self.tls_port),
                "ssl_options.cacertfile = {}".format(c.ca),
                "ssl_options.certfile = {}".format(getattr(c, self.server_cert)),
                "ssl_options.keyfile = {}".format(getattr(c, self.server_cert + "_key")),
                "ssl_options.verify = verify_peer",
                "ssl_options.fail_if_no_peer_cert = false",
                "auth_mechanisms.1 = PLAIN",
                "auth_mechanisms.2 = AMQPLAIN",
                "auth_mechanisms.3 = EXTERNAL",
                "ssl_cert_login_from = common_name",
            ]
        (self.dir / "rabbitmq.conf").write_text("\n".join(conf) + "\n" + self.extra_conf)

    def _link_plugins(self):
        plugins = self.dir / "plugins"
        if plugins.exists():
            return
        plugins.mkdir()
        home = Path(os.path.realpath(RABBIT_BIN / "rabbitmq-server")).parents[1] / "plugins"
        for app in home.iterdir():
            base = app.name.rsplit("-", 1)[0]
            if base in CORE_APPS or base in PLUGINS:
                (plugins / app.name).symlink_to(app)

    def _env(self, server):
        env = {k: v for k, v in os.environ.items() if not k.startswith("RABBITMQ_")}
        env.update({
            "HOME": str(self.dir / "home"),
            "RABBITMQ_CONF_ENV_FILE": str(self.dir / "rabbitmq-env.conf"),
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.dir / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.log),
            "RABBITMQ_PID_FILE": str(self.dir / "pid"),
            "RABBITMQ_PLUGINS_DIR": str(self.dir / "plugins"),
        })
        if server:
            env.update({
                "RABBITMQ_NODE_PORT": str(self.port),
                "RABBITMQ_DIST_PORT": str(self.dist_port),
                # exec the VM directly (no shell in between): the pid is the VM's, and
                # PR_SET_PDEATHSIG survives the exec. -noinput as the script would have added.
                "RABBITMQ_ALLOW_INPUT": "1",
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-noinput",
            })
        return env

    # -- life cycle

    def spawn(self):
        """Starts the VM and returns at once; wait_ready() waits for it."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        main = threading.current_thread() is threading.main_thread()
        self._console = open(self.dir / "console.log", "ab")
        self.proc = subprocess.Popen([str(RABBIT_BIN / "rabbitmq-server")], env=self._env(True),
                                     cwd=str(self.dir), stdin=subprocess.DEVNULL, stdout=self._console,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=_die_with_parent if main else None)
        _LIVE.add(self)
        self.started_at = time.monotonic()

    def wait_ready(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while not _amqp_answers(self.port):
            if self.proc.poll() is not None:
                raise RuntimeError("{} exited {} while starting:\n{}".format(
                    self.nodename, self.proc.returncode, self.log_tail()))
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("{} not ready after {:.0f}s:\n{}".format(
                    self.nodename, timeout, self.log_tail()))
            time.sleep(0.05)
        self.start_seconds = time.monotonic() - self.started_at
        return self

    def start(self, timeout=START_TIMEOUT):
        """Starts the node (again, after stop() or kill(): same name, ports and data)."""
        self.spawn()
        return self.wait_ready(timeout)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=30):
        """Stops the node cleanly (SIGTERM), SIGKILL after timeout s; nothing is left running."""
        self.request_stop()
        self.wait_stopped(timeout)

    def request_stop(self):
        """Sends the SIGTERM of stop() and returns at once (to stop several nodes in parallel)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)

    def wait_stopped(self, timeout=30):
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        self._reap()

    def kill(self):
        """SIGKILL: the node dies at once, as in a crash or a lost machine."""
        if self.proc is not None:
            self._reap()

    def _reap(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the VM and its helpers (erl_child_setup ...)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self._console.close()
        _LIVE.discard(self)
        # epmd drops a name when the VM's connection to it closes: make sure it did.
        deadline = time.monotonic() + 5
        while self.registered():
            if time.monotonic() > deadline:
                raise RuntimeError("{} is still registered with epmd".format(self.nodename))
            time.sleep(0.05)

    def registered(self):
        """True while epmd knows this node's name."""
        out = subprocess.run(["epmd", "-names"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True).stdout
        return "name {} at port".format(self.name) in out

    def log_tail(self, lines=40):
        text = ""
        for path in sorted(self.log.glob("*.log")) + [self.dir / "console.log"]:
            try:
                text += "== {}\n{}\n".format(path, "\n".join(path.read_text(errors="replace")
                                                              .splitlines()[-lines:]))
            except OSError:
                pass
        return text

    # -- rabbitmqctl

    def ctl(self, *args, timeout=CTL_TIMEOUT):
        """Runs `rabbitmqctl -n <node> args...` and returns its output; raises if it fails."""
        return _run([str(RABBIT_BIN / "rabbitmqctl"), "-q", "-n", self.nodename] + list(args),
                    cwd=str(self.dir), env=self._env(False), timeout=timeout)

    def eval(self, erlang):
        return self.ctl("eval", erlang).strip()

    def add_user(self, name, password=None):
        """Adds a user with all permissions on "/"; password None: no password (EXTERNAL only)."""
        self.eval(
            'ok = rabbit_auth_backend_internal:add_user(<<"{0}">>, {1}, <<"enoki-tests">>), '
            'rabbit_auth_backend_internal:set_permissions(<<"{0}">>, <<"/">>, <<".*">>, <<".*">>, '
            '<<".*">>, <<"enoki-tests">>).'.format(
                name, '<<"{}">>'.format(password) if password is not None else "undefined"))

    def set_permissions(self, name, configure=".*", write=".*", read=".*", vhost="/"):
        self.ctl("set_permissions", "-p", vhost, name, configure, write, read)

    def set_memory_alarm(self, on):
        """on: a watermark so low that the memory alarm goes off (publishers are blocked);
        off: RabbitMQ's default 0.4 again (the alarm clears)."""
        self.ctl("set_vm_memory_high_watermark", "0.0000001" if on else "0.4")

    # -- addresses

    def amqp_uri(self, user="guest", password="guest", host="localhost"):
        return "amqp://{}:{}@{}:{}/".format(user, password, host, self.port)

    def amqps_uri(self, user="guest", password="guest", host="localhost"):
        assert self.tls_port, "this node has no TLS listener"
        auth = "{}:{}@".format(user, password) if user else ""
        return "amqps://{}{}:{}/".format(auth, host, self.tls_port)

    def __repr__(self):
        return "RabbitNode({}, amqp {}, tls {})".format(self.nodename, self.port, self.tls_port)


# --- two nodes, one cluster --------------------------------------------------------------------------------


class RabbitCluster:
    """Two disc nodes a and b sharing a cookie, started in parallel; b joins a's cluster."""

    def __init__(self, directory, tls=None, users=None):
        self.dir = Path(directory)
        cookie = uuid.uuid4().hex
        self.a = RabbitNode(self.dir / "a", tls=tls, users=users, cookie=cookie)
        self.b = RabbitNode(self.dir / "b", tls=tls, users=users, cookie=cookie)
        self.nodes = (self.a, self.b)

    def start(self):
        t0 = time.monotonic()
        self.a.spawn()
        self.b.spawn()
        try:
            self.a.wait_ready()
            self.b.wait_ready()
            # rabbitmqctl stop_app; join_cluster a; start_app, in one rabbitmqctl run. Mnesia
            # sometimes cannot reach a node that has only just started ("could not connect to any
            # nodes"): then again, a few times.
            t1 = time.monotonic()
            for attempt in range(3):
                try:
                    self.b.eval('_ = rabbit:stop(), pong = net_adm:ping(\'{0}\'), '
                                'ok = rabbit_mnesia:join_cluster(\'{0}\', disc), '
                                'ok = rabbit:start().'.format(self.a.nodename))
                    break
                except RuntimeError:
                    if attempt == 2:
                        raise
                    time.sleep(1)
            self.join_seconds = time.monotonic() - t1
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - t0
        return self

    def ensure_running(self):
        """Starts again whichever node a test stopped or killed (they rejoin on their own)."""
        stopped = [n for n in self.nodes if not n.running()]
        for node in stopped:
            node.spawn()
        for node in stopped:
            node.wait_ready()

    def running_nodes(self, via):
        """The running nodes of the cluster as `via` sees them (a sorted list of names)."""
        return sorted(via.eval("rabbit_nodes:all_running().").strip("[]\n").replace("'", "").split(","))

    def stop(self):
        for node in self.nodes:
            node.request_stop()
        for node in self.nodes:
            node.wait_stopped()

    def uris(self, tls=False):
        """kombu's failover syntax: the nodes' URIs joined by ';'."""
        return ";".join(n.amqps_uri() if tls else n.amqp_uri() for n in self.nodes)


@atexit.register
def _stop_all():
    for node in list(_LIVE):
        node.kill()
