"""A CRI client and a private containerd with the CRI plugin, for the CRI suite.

The client speaks runtime.v1 over gRPC with message classes built at run time from
cri.proto (compiled to a descriptor set by grpc_tools' protoc), so no generated code is kept
and the protoc that ships with python3-grpc-tools need not match python3-protobuf. The
streaming endpoints (Exec, Attach) are driven over WebSocket with the v4.channel.k8s.io
subprotocol, which containerd's streaming server speaks next to SPDY.

Node starts containerd through hack/containerd.sh with its own config.toml: the CRI plugin
on, runtime handlers runc (the reference), husk and husk-runsc (husk's OCI engine with
runsc, chosen by a husk config file through ConfigPath), a CNI bridge from Debian's
containernetworking-plugins, and a busybox image (Cmd `sleep inf`) as sandbox and
container image.
"""

import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.parse

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
IMAGE = "docker.io/library/husk-cri-busybox:latest"
CNI_BIN = "/usr/lib/cni"


def _timeout_scale():
    try:
        return max(1.0, float(os.environ.get("HUSK_TEST_TIMEOUT_MULTIPLIER", "1")))
    except ValueError:
        return 1.0


SCALE = _timeout_scale()


class Messages:
    """runtime.v1 message classes from cri.proto."""

    def __init__(self, workdir):
        from grpc_tools import protoc

        out = os.path.join(workdir, "cri.pb")
        rc = protoc.main(["protoc", "-I" + HERE, "--descriptor_set_out=" + out, "cri.proto"])
        if rc != 0:
            raise RuntimeError("protoc cri.proto failed (%d)" % rc)
        with open(out, "rb") as f:
            fds = descriptor_pb2.FileDescriptorSet.FromString(f.read())
        self.pool = descriptor_pool.DescriptorPool()
        for fd in fds.file:
            self.pool.Add(fd)
        self.factory = message_factory.MessageFactory(self.pool)
        self.classes = {}

    def cls(self, name):
        if name not in self.classes:
            desc = self.pool.FindMessageTypeByName("runtime.v1." + name)
            if hasattr(message_factory, "GetMessageClass"):
                self.classes[name] = message_factory.GetMessageClass(desc)
            else:
                self.classes[name] = self.factory.GetPrototype(desc)
        return self.classes[name]

    def new(self, name, fields=None):
        return json_format.ParseDict(fields or {}, self.cls(name)())


class Client:
    """RuntimeService and ImageService calls: c.rt("RunPodSandbox", {...})."""

    def __init__(self, sock, msgs):
        self.msgs = msgs
        self.channel = grpc.insecure_channel("unix://" + sock)

    def _call(self, service, method, fields, timeout):
        req = self.msgs.new(method + "Request", fields)
        resp_cls = self.msgs.cls(method + "Response")
        fn = self.channel.unary_unary(
            "/runtime.v1.%s/%s" % (service, method),
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=resp_cls.FromString,
        )
        return fn(req, timeout=timeout * SCALE)

    def rt(self, method, fields=None, timeout=60):
        return self._call("RuntimeService", method, fields, timeout)

    def img(self, method, fields=None, timeout=30):
        return self._call("ImageService", method, fields, timeout)

    def close(self):
        self.channel.close()


# ---- WebSocket streaming (RFC 6455 client; k8s channel protocol) --------------------------

STDIN, STDOUT, STDERR, ERROR, RESIZE = range(5)


class Stream:
    """One Exec or Attach session over WebSocket, v4.channel.k8s.io."""

    def __init__(self, url, timeout=30):
        u = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=timeout * SCALE)
        key = base64.b64encode(os.urandom(16)).decode()
        req = (
            "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: v4.channel.k8s.io\r\nOrigin: http://%s\r\n\r\n"
            % (u.path + ("?" + u.query if u.query else ""), u.netloc, key, u.netloc)
        )
        self.sock.sendall(req.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("streaming server closed during the handshake")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" ":
            raise ConnectionError("handshake refused: %r" % head)
        self.out = {STDOUT: b"", STDERR: b""}
        self.status = None
        self.closed = False

    def _recv_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError()
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _frame(self):
        b0, b1 = self._recv_exact(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._recv_exact(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._recv_exact(8))[0]
        mask = self._recv_exact(4) if b1 & 0x80 else None
        data = self._recv_exact(n)
        if mask:
            data = bytes(c ^ mask[i % 4] for i, c in enumerate(data))
        return b0 & 0x0F, data

    def _send_frame(self, opcode, payload):
        head = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload)))

    def send(self, channel, data):
        self._send_frame(0x2, bytes([channel]) + data)

    def resize(self, width, height):
        self.send(RESIZE, json.dumps({"Width": width, "Height": height}).encode())

    def pump(self):
        """Read one frame into out/status. False once the stream has ended."""
        if self.closed:
            return False
        try:
            op, data = self._frame()
        except (EOFError, ConnectionError):
            self.closed = True
            return False
        if op == 0x8:
            self.closed = True
            return False
        if op == 0x9:
            self._send_frame(0xA, data)
        elif op in (0x1, 0x2, 0x0) and data:
            ch, payload = data[0], data[1:]
            if ch == ERROR:
                if payload:
                    self.status = json.loads(payload)
            elif ch in self.out:
                self.out[ch] += payload
        return True

    def wait_for(self, channel, needle, timeout=30):
        """Read until needle is on channel; the output so far otherwise (assert on it)."""
        deadline = time.monotonic() + timeout * SCALE
        while needle not in self.out[channel] and time.monotonic() < deadline:
            if not self.pump():
                break
        return self.out[channel]

    def finish(self, timeout=30):
        """Read to the end of the stream; the exit status document (or None)."""
        deadline = time.monotonic() + timeout * SCALE
        while time.monotonic() < deadline and self.pump():
            pass
        return self.status

    def close(self):
        try:
            self._send_frame(0x8, struct.pack(">H", 1000))
        except OSError:
            pass
        self.sock.close()


def exit_code(status):
    """The exit code a v4 error-channel status stands for (0 for Success)."""
    if status is None:
        return None
    if status.get("status") == "Success":
        return 0
    for cause in status.get("details", {}).get("causes", []):
        if cause.get("reason") == "ExitCode":
            return int(cause["message"])
    return -1


# ---- the private node ---------------------------------------------------------------------

CONFIG = """\
# Private containerd with the CRI plugin for the husk CRI suite (test/cri/cri.py).
version = 2
root = "{dir}/root"
state = "{dir}/state"
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = "{dir}/containerd.sock"

[ttrpc]
  address = "{dir}/containerd.sock.ttrpc"

[debug]
  level = "info"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{dir}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{image}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  # The test runs as root without CAP_SYS_RESOURCE: containers may not lower their OOM
  # score below containerd's.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.husk]
      runtime_type = "io.containerd.husk.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.husk-runsc]
      runtime_type = "io.containerd.husk.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.husk-runsc.options]
        TypeUrl = "io.containerd.husk.v1.config"
        ConfigPath = "{dir}/husk-runsc.json"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{cni_bin}"
    conf_dir = "{dir}/cni"
    max_conf_num = 1
"""


def run(argv, env=None, check=True, timeout=120):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run(argv, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout * SCALE)
    if check and p.returncode != 0:
        raise RuntimeError("%s: exit %d\n%s%s" % (" ".join(argv), p.returncode,
                                                  p.stdout.decode(errors="replace"),
                                                  p.stderr.decode(errors="replace")))
    return p


class Node:
    """A private containerd with the CRI plugin, its CNI bridge and the test image."""

    def __init__(self, handler):
        self.handler = handler
        self.dir = tempfile.mkdtemp(prefix="husk-cri-", dir="/tmp")
        n = os.getpid() % 200 + 20
        self.bridge = "hcri%d" % n
        self.subnet = "10.231.%d." % n
        self.cgroup_parent = "/husk-cri-%d" % os.getpid()
        self.msgs = Messages(self.dir)
        self._write_files()
        shim = os.environ.get("HUSK_SHIM") or os.path.join(
            os.environ.get("HUSK_BINARY_DIR", os.path.join(TOP, "build/asan")),
            "shim/containerd-shim-husk-v2")
        self.env = {"HUSK_SHIM": shim, "HUSK_CONTAINERD_WATCH_PID": str(os.getpid())}
        self.started = False
        try:
            run([os.path.join(TOP, "hack/containerd.sh"), "start", self.dir], env=self.env)
            self.started = True
            self.client = Client(os.path.join(self.dir, "containerd.sock"), self.msgs)
            self._import_image()
        except BaseException:
            self.stop()
            raise

    def _write_files(self):
        os.makedirs(os.path.join(self.dir, "cni"))
        with open(os.path.join(self.dir, "config.toml"), "w") as f:
            f.write(CONFIG.format(dir=self.dir, image=IMAGE, cni_bin=CNI_BIN))
        net = {
            "cniVersion": "0.4.0",
            "name": "husk-cri",
            "plugins": [{
                "type": "bridge",
                "bridge": self.bridge,
                "isGateway": True,
                "ipMasq": False,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": self.subnet + "0/24"}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": os.path.join(self.dir, "cni-ipam"),
                },
            }],
        }
        with open(os.path.join(self.dir, "cni", "10-husk-cri.conflist"), "w") as f:
            json.dump(net, f)
        # The husk-runsc handler's husk config file (its ConfigPath): gVisor through the
        # OCI engine, with runsc flags that only work when runtime_args reach the binary.
        # --network=host: the sandbox still joins the pod's network namespace but uses the
        # kernel's stack there; Debian 12's runsc (2022) takes any namespace for the root
        # one on kernels where net.core.rmem_default is per namespace, and refuses
        # --network=sandbox ("cannot run with network enabled in root network namespace").
        runsc = {"engine": "oci", "binary": "runsc",
                 "root": os.path.join(self.dir, "runsc-root"),
                 "runtime_args": ["--platform=ptrace", "--network=host"]}
        with open(os.path.join(self.dir, "husk-runsc.json"), "w") as f:
            json.dump(runsc, f)

    def _import_image(self):
        tar = os.path.join(self.dir, "image.tar")
        run([os.path.join(TOP, "hack/mkimage.sh"), tar, IMAGE],
            env={"IMAGE_CMD": '["sleep","inf"]'})
        run(["ctr", "--address", os.path.join(self.dir, "containerd.sock"), "-n", "k8s.io",
             "images", "import", tar])
        # The CRI plugin learns of the import from containerd's events.
        deadline = time.monotonic() + 30 * SCALE
        while time.monotonic() < deadline:
            if self.client.img("ImageStatus", {"image": {"image": IMAGE}}).image.id:
                return
            time.sleep(0.1)
        raise RuntimeError("the CRI plugin never saw %s" % IMAGE)

    def stop(self):
        if getattr(self, "client", None):
            self.client.close()
        if self.started:
            run([os.path.join(TOP, "hack/containerd.sh"), "stop", self.dir], env=self.env,
                check=False)
        run(["ip", "link", "del", self.bridge], check=False)
        # The pods' parent cgroup (and whatever a runtime left below it), once empty.
        for d in cgroup_dirs(self.cgroup_parent):
            for sub, _, _ in sorted(os.walk(d), key=lambda w: -len(w[0])):
                try:
                    os.rmdir(sub)
                except OSError:
                    pass

    def sanitizer_reports(self):
        out = []
        for name in sorted(os.listdir(self.dir)):
            if name.startswith(("asan.", "ubsan.")):
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    out.append(name + ":\n" + f.read())
        return out

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- helpers over the client --------------------------------------------------------

    def pod_config(self, name, host_network=False, sysctls=None):
        cfg = {
            "metadata": {"name": name, "uid": "uid-" + name, "namespace": "husk-cri"},
            "hostname": name,
            "log_directory": os.path.join(self.dir, "logs", name),
            "linux": {
                "cgroup_parent": self.cgroup_parent,
                "security_context": {
                    "namespace_options": {"network": "NODE" if host_network else "POD"}},
            },
        }
        if host_network:
            del cfg["hostname"]
        if sysctls:
            cfg["linux"]["sysctls"] = sysctls
        return cfg

    def run_pod(self, name, **kw):
        cfg = self.pod_config(name, **kw)
        os.makedirs(cfg["log_directory"], exist_ok=True)
        r = self.client.rt("RunPodSandbox", {"config": cfg, "runtime_handler": self.handler},
                           timeout=120)
        return r.pod_sandbox_id, cfg

    def create(self, pod, pod_cfg, name, command, **kw):
        cfg = {
            "metadata": {"name": name},
            "image": {"image": IMAGE},
            "command": command,
            "log_path": name + ".log",
        }
        cfg.update(kw)
        r = self.client.rt("CreateContainer", {"pod_sandbox_id": pod, "config": cfg,
                                               "sandbox_config": pod_cfg}, timeout=120)
        return r.container_id

    def start(self, pod, pod_cfg, name, command, **kw):
        cid = self.create(pod, pod_cfg, name, command, **kw)
        self.client.rt("StartContainer", {"container_id": cid}, timeout=120)
        return cid

    def status(self, cid, verbose=False):
        return self.client.rt("ContainerStatus", {"container_id": cid, "verbose": verbose})

    def wait_exited(self, cid, timeout=60):
        deadline = time.monotonic() + timeout * SCALE
        while True:
            st = self.status(cid).status
            if st.state == self.msgs.pool.FindEnumTypeByName(
                    "runtime.v1.ContainerState").values_by_name["CONTAINER_EXITED"].number:
                return st
            if time.monotonic() > deadline:
                raise AssertionError("container %s did not exit: %s" % (cid, st))
            time.sleep(0.05)

    def exec_sync(self, cid, cmd, timeout=0, rpc_timeout=60):
        return self.client.rt("ExecSync", {"container_id": cid, "cmd": cmd,
                                           "timeout": timeout}, timeout=rpc_timeout)

    def remove_pod(self, pod):
        self.client.rt("StopPodSandbox", {"pod_sandbox_id": pod}, timeout=120)
        self.client.rt("RemovePodSandbox", {"pod_sandbox_id": pod}, timeout=120)

    def shim_pids(self):
        """Shim processes started by this containerd, not their forks, which keep the
        shim's command line: husk names its own husk:[...] (runsc waiters, short-lived
        workers). A process whose parent is one of the shim's command lines, or that is gone
        by the time its parent is read (ppid 0), is not counted either."""
        sock = os.path.join(self.dir, "containerd.sock")
        pids = []
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % p, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv and b"containerd-shim" in argv[0] and sock.encode() in argv and \
                    not _comm(int(p)).startswith("husk:["):
                pids.append(int(p))
        return [p for p in pids if _ppid(p) not in pids + [0]]

    def bundle(self, cid):
        return os.path.join(self.dir, "state/io.containerd.runtime.v2.task/k8s.io", cid)


def _comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return "?"


def describe_pids(pids):
    """One line per pid: its comm, its parent and the parent's comm, for failure messages."""
    return "; ".join("%d %s (parent %d %s)" % (p, _comm(p), _ppid(p), _comm(_ppid(p)))
                     for p in sorted(pids))


def _ppid(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("PPid:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cgroup_dirs(path):
    """Every controller's directory for a cgroup path (v1 hierarchies and the unified tree)."""
    out = []
    base = "/sys/fs/cgroup"
    for c in os.listdir(base):
        d = os.path.join(base, c, path.lstrip("/"))
        if os.path.isdir(d):
            out.append(d)
    d = os.path.join(base, path.lstrip("/"))
    if os.path.isdir(os.path.join(base, "cgroup.controllers")) and os.path.isdir(d):
        out.append(d)
    return out


def mounts_mentioning(text):
    with open("/proc/self/mountinfo") as f:
        return [line for line in f if text in line]


LOG_LINE = re.compile(
    rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)) (stdout|stderr) ([FP]) (.*)$")
