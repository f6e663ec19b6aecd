#!/usr/bin/python3
"""The CRI suite: a private containerd with husk as a CRI runtime handler, driven over CRI's
gRPC API (runtime.v1) as the kubelet drives it.

HUSK_CRI_HANDLER picks the runtime handler under test: husk (the native engine), runc (the
reference: a test that fails there is a wrong test) or husk-runsc (husk's OCI engine running
gVisor, chosen by a husk config file through ConfigPath). Every test runs its own pod; one
containerd serves the whole run.
"""

import contextlib
import json
import os
import shutil
import sys
import time
import unittest

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cri  # noqa: E402

HANDLER = os.environ.get("HUSK_CRI_HANDLER", "husk")
RUNSC = HANDLER == "husk-runsc"
node = None


def setUpModule():
    global node
    if os.getuid() != 0:
        raise unittest.SkipTest("the CRI suite needs root")
    if not os.path.isdir(cri.CNI_BIN):
        raise unittest.SkipTest("no CNI plugins in %s (apt-get install "
                                "containernetworking-plugins)" % cri.CNI_BIN)
    if RUNSC and not shutil.which("runsc"):
        raise unittest.SkipTest("runsc is not installed (apt-get install runsc)")
    node = cri.Node(HANDLER)


def tearDownModule():
    if node is None:
        return
    node.stop()
    reports = node.sanitizer_reports()
    if not reports:
        node.remove()
    if reports:
        raise AssertionError("sanitizer reports from shims:\n" + "\n".join(reports))


@contextlib.contextmanager
def divergence(handlers, why):
    """A known divergence of these handlers from the reference, being fixed elsewhere: its
    failure is reported as an expected failure with why, never hidden."""
    if HANDLER not in handlers:
        yield
        return
    try:
        yield
    except (AssertionError, grpc.RpcError, OSError) as e:
        detail = e.details() if isinstance(e, grpc.RpcError) else str(e)
        raise unittest.SkipTest("expected failure (%s): %s" % (why, detail))


class Pod:
    def __init__(self, name, **kw):
        self.id, self.cfg = node.run_pod(name, **kw)

    def start(self, name, command, **kw):
        return node.start(self.id, self.cfg, name, command, **kw)

    def create(self, name, command, **kw):
        return node.create(self.id, self.cfg, name, command, **kw)

    def remove(self):
        node.remove_pod(self.id)


class CriTest(unittest.TestCase):
    def pod(self, name, **kw):
        p = Pod("%s-%s" % (name, HANDLER), **kw)
        self.addCleanup(lambda: _quiet(p.remove))
        return p

    def sh(self, cid, script, **kw):
        return node.exec_sync(cid, ["sh", "-c", script], **kw)


def _quiet(fn):
    try:
        fn()
    except grpc.RpcError:
        pass


class Version(CriTest):
    def test_cri_answers(self):
        v = node.client.rt("Version", {"version": "v1"})
        self.assertEqual(v.runtime_name, "containerd")
        self.assertEqual(v.runtime_api_version, "v1")


class Sandboxes(CriTest):
    def test_host_network_pod_shares_the_node_network_namespace(self):
        if RUNSC:
            self.skipTest("gVisor's sandbox network would take over the host's interfaces; "
                          "host-network pods are not run under runsc")
        p = self.pod("hostnet", host_network=True)
        cid = p.start("c", ["sleep", "inf"])
        r = node.exec_sync(cid, ["readlink", "/proc/self/ns/net"])
        self.assertEqual(r.exit_code, 0, r.stderr)
        self.assertEqual(r.stdout.decode().strip(), os.readlink("/proc/self/ns/net"))

    def test_cni_bridge_pod_has_its_address(self):
        p = self.pod("bridge")
        st = node.client.rt("PodSandboxStatus", {"pod_sandbox_id": p.id}).status
        self.assertTrue(st.network.ip.startswith(node.subnet), st.network.ip)
        self.assertEqual(st.runtime_handler, HANDLER)
        cid = p.start("c", ["sleep", "inf"])
        r = node.exec_sync(cid, ["ip", "-4", "addr", "show", "eth0"])
        self.assertEqual(r.exit_code, 0, r.stderr)
        self.assertIn(st.network.ip + "/24", r.stdout.decode())
        self.assertNotEqual(node.exec_sync(cid, ["readlink", "/proc/self/ns/net"]).stdout
                            .decode().strip(), os.readlink("/proc/self/ns/net"))
        r = self.sh(cid, "hostname")
        self.assertEqual(r.stdout.decode().strip(), p.cfg["hostname"])

    def test_two_containers_in_a_pod_share_one_shim(self):
        before = set(node.shim_pids())
        p = self.pod("two")
        a = p.start("a", ["sleep", "inf"])
        b = p.start("b", ["sleep", "inf"])
        new = set(node.shim_pids()) - before
        self.assertEqual(len(new), 1, "one shim for the pod, got pids %s" % sorted(new))
        ra = node.exec_sync(a, ["cat", "/proc/sys/kernel/hostname"])
        rb = node.exec_sync(b, ["cat", "/proc/sys/kernel/hostname"])
        self.assertEqual(ra.stdout, rb.stdout)
        self.assertEqual(ra.stdout.decode().strip(), p.cfg["hostname"])
        if not RUNSC:
            na = node.exec_sync(a, ["readlink", "/proc/self/ns/net"]).stdout
            nb = node.exec_sync(b, ["readlink", "/proc/self/ns/net"]).stdout
            self.assertEqual(na, nb, "the pod's containers share its network namespace")
        # Stopping one container leaves the other and the shim running.
        node.client.rt("StopContainer", {"container_id": a, "timeout": 0})
        node.client.rt("RemoveContainer", {"container_id": a})
        with divergence(("husk-runsc",), "husk's OCI engine: removing one runsc pod "
                                         "container leaves the other reported as stopped"):
            self.assertEqual(node.exec_sync(b, ["true"]).exit_code, 0)
        self.assertEqual(set(node.shim_pids()) - before, new)

    def test_pod_sysctls_reach_the_containers(self):
        if RUNSC:
            self.skipTest("gVisor's /proc/sys has neither kernel.shm_rmid_forced nor "
                          "net.ipv4.ip_unprivileged_port_start")
        p = self.pod("sysctl", sysctls={"kernel.shm_rmid_forced": "1",
                                        "net.ipv4.ip_unprivileged_port_start": "1000"})
        cid = p.start("c", ["sleep", "inf"])
        r = node.exec_sync(cid, ["cat", "/proc/sys/kernel/shm_rmid_forced",
                                 "/proc/sys/net/ipv4/ip_unprivileged_port_start"])
        self.assertEqual(r.exit_code, 0, r.stderr)
        self.assertEqual(r.stdout.decode().split(), ["1", "1000"])


class Mounts(CriTest):
    def shared_dir(self, name):
        """A host directory that is a shared mount of its own, as CRI requires of a
        host-to-container volume's source."""
        d = os.path.join(node.dir, "vol-" + name)
        os.makedirs(d)
        cri.run(["mount", "--bind", d, d])
        self.addCleanup(lambda: cri.run(["umount", "-R", d], check=False))
        cri.run(["mount", "--make-shared", d])
        return d

    def test_host_to_container_propagation(self):
        if RUNSC:
            self.skipTest("gVisor does not propagate host mounts into a sandbox")
        vol = self.shared_dir("h2c")
        os.makedirs(os.path.join(vol, "sub"))
        p = self.pod("prop")
        cid = p.start("c", ["sleep", "inf"], mounts=[{
            "container_path": "/vol", "host_path": vol,
            "propagation": "PROPAGATION_HOST_TO_CONTAINER"}])
        # A mount made on the host after the container started reaches it (rslave).
        cri.run(["mount", "-t", "tmpfs", "tmpfs", os.path.join(vol, "sub")])
        with open(os.path.join(vol, "sub", "f"), "w") as f:
            f.write("from-host")
        r = node.exec_sync(cid, ["cat", "/vol/sub/f"])
        self.assertEqual((r.exit_code, r.stdout), (0, b"from-host"), r.stderr)

    def test_private_volume_sees_no_later_host_mount(self):
        vol = os.path.join(node.dir, "vol-private")
        os.makedirs(os.path.join(vol, "sub"))
        p = self.pod("private")
        cid = p.start("c", ["sleep", "inf"], mounts=[{"container_path": "/vol",
                                                      "host_path": vol}])
        cri.run(["mount", "-t", "tmpfs", "tmpfs", os.path.join(vol, "sub")])
        self.addCleanup(lambda: cri.run(["umount", os.path.join(vol, "sub")], check=False))
        with open(os.path.join(vol, "sub", "f"), "w") as f:
            f.write("from-host")
        r = node.exec_sync(cid, ["cat", "/vol/sub/f"])
        self.assertNotEqual(r.exit_code, 0, "a private volume got the host's later mount")


class Logs(CriTest):
    def test_cri_log_file_format(self):
        p = self.pod("logs")
        cid = p.start("c", ["sh", "-c", "echo out1; echo err1 >&2; echo out2; printf partial"])
        st = node.wait_exited(cid)
        path = os.path.join(p.cfg["log_directory"], "c.log")
        with divergence(("husk-runsc",), "husk's OCI engine: a runsc pod container's output "
                                         "and exit status are not yet those of runc's"):
            self.check_log(st, path)

    def check_log(self, st, path):
        with open(path, "rb") as f:
            self.assertEqual(st.exit_code, 0, f.read())
        self.assertEqual(st.log_path, path)
        # containerd writes the log from the shim's fifos; the last line may land just
        # after the exit is reported.
        deadline = time.monotonic() + 10 * cri.SCALE
        while True:
            with open(path, "rb") as f:
                lines = f.read().splitlines()
            if len(lines) >= 4 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        parsed = []
        for line in lines:
            m = cri.LOG_LINE.match(line)
            self.assertIsNotNone(m, "not a CRI log line: %r" % line)
            parsed.append((m.group(4), m.group(5), m.group(6)))
        out = [x for x in parsed if x[0] == b"stdout"]
        err = [x for x in parsed if x[0] == b"stderr"]
        self.assertEqual(out, [(b"stdout", b"F", b"out1"), (b"stdout", b"F", b"out2"),
                               (b"stdout", b"P", b"partial")])
        self.assertEqual(err, [(b"stderr", b"F", b"err1")])


class ExecSync(CriTest):
    @classmethod
    def setUpClass(cls):
        cls.p = Pod("execsync-" + HANDLER)
        cls.cid = cls.p.start("c", ["sleep", "inf"])

    @classmethod
    def tearDownClass(cls):
        _quiet(cls.p.remove)

    def test_exit_codes(self):
        for code in (0, 1, 3, 42, 255):
            r = self.sh(self.cid, "exit %d" % code)
            self.assertEqual(r.exit_code, code)

    def test_output_on_stdout_and_stderr(self):
        r = self.sh(self.cid, "echo to-out; echo to-err >&2; printf 'no-newline'")
        self.assertEqual(r.stdout, b"to-out\nno-newline")
        self.assertEqual(r.stderr, b"to-err\n")
        r = self.sh(self.cid, "head -c 300000 /dev/zero | tr '\\0' x")
        self.assertEqual(r.stdout, b"x" * 300000)

    def test_command_not_found(self):
        with self.assertRaises(grpc.RpcError) as e:
            node.exec_sync(self.cid, ["/no/such/binary"])
        self.assertIn("no/such/binary", e.exception.details())

    def test_timeout_kills_the_command(self):
        with divergence(("husk-runsc",), "husk's OCI engine does not kill a timed-out "
                                         "`runsc exec` yet; it runs to its end"):
            self.check_timeout()

    def check_timeout(self):
        t0 = time.monotonic()
        with self.assertRaises(grpc.RpcError) as e:
            self.sh(self.cid, "echo started; exec sleep 31", timeout=1)
        self.assertIn("timeout", e.exception.details())
        self.assertLess(time.monotonic() - t0, 20 * cri.SCALE)
        # The timed-out process is gone.
        deadline = time.monotonic() + 10 * cri.SCALE
        while True:
            r = node.exec_sync(self.cid, ["ps", "-o", "args"])
            if b"sleep 31" not in r.stdout or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertNotIn(b"sleep 31", r.stdout)


class Streaming(CriTest):
    @classmethod
    def setUpClass(cls):
        cls.p = Pod("stream-" + HANDLER)
        cls.cid = cls.p.start("c", ["sleep", "inf"])

    @classmethod
    def tearDownClass(cls):
        _quiet(cls.p.remove)

    def exec_stream(self, cmd, tty=False, stdin=True):
        r = node.client.rt("Exec", {"container_id": self.cid, "cmd": cmd, "tty": tty,
                                    "stdin": stdin, "stdout": True, "stderr": not tty})
        s = cri.Stream(r.url)
        self.addCleanup(s.close)
        return s

    def test_exec_without_terminal(self):
        s = self.exec_stream(["sh", "-c", "read l; echo got:$l; echo to-err >&2; exit 5"])
        s.send(cri.STDIN, b"hello\n")
        st = s.finish()
        self.assertEqual(s.out[cri.STDOUT], b"got:hello\n")
        self.assertEqual(s.out[cri.STDERR], b"to-err\n")
        self.assertEqual(cri.exit_code(st), 5, st)

    def test_exec_with_terminal(self):
        with divergence(("husk-runsc",), "husk's OCI engine: runsc exec with a terminal "
                                         "does not stream yet"):
            self.check_exec_with_terminal()

    def check_exec_with_terminal(self):
        s = self.exec_stream(["sh", "-c", "stty size; tty; read l; echo got:$l"], tty=True)
        s.resize(101, 33)
        s.wait_for(cri.STDOUT, b"/dev/pts/")
        s.send(cri.STDIN, b"typed\r")
        st = s.finish()
        out = s.out[cri.STDOUT]
        self.assertIn(b"/dev/pts/", out)
        self.assertIn(b"got:typed\r\n", out, "a terminal's output has CRLF")
        self.assertEqual(cri.exit_code(st), 0, st)

    def test_attach_without_terminal(self):
        with divergence(("husk-runsc",), "husk's OCI engine: a runsc pod container's stdin "
                                         "and output do not reach Attach yet"):
            self.check_attach_without_terminal()

    def check_attach_without_terminal(self):
        p = self.pod("attach")
        cid = p.start("a", ["sh", "-c", "while read l; do echo echo:$l; echo err:$l >&2; done"],
                      stdin=True)
        r = node.client.rt("Attach", {"container_id": cid, "stdin": True, "stdout": True,
                                      "stderr": True})
        s = cri.Stream(r.url)
        self.addCleanup(s.close)
        s.send(cri.STDIN, b"one\n")
        self.assertIn(b"echo:one\n", s.wait_for(cri.STDOUT, b"echo:one\n"))
        self.assertIn(b"err:one\n", s.wait_for(cri.STDERR, b"err:one\n"))

    def test_attach_with_terminal(self):
        p = self.pod("attachtty")
        cid = p.start("a", ["sh"], stdin=True, tty=True)
        r = node.client.rt("Attach", {"container_id": cid, "stdin": True, "stdout": True,
                                      "tty": True})
        s = cri.Stream(r.url)
        self.addCleanup(s.close)
        s.send(cri.STDIN, b"echo tty-$((40+2))\r")
        self.assertIn(b"tty-42", s.wait_for(cri.STDOUT, b"tty-42"))


class Resources(CriTest):
    def cgroup_file(self, cid, controller, name):
        path = "%s/%s" % (node.cgroup_parent, cid)
        f = os.path.join("/sys/fs/cgroup", controller, path.lstrip("/"), name)
        with open(f) as fh:
            return fh.read().strip()

    def test_oom_killed_reason(self):
        if RUNSC:
            self.skipTest("gVisor's sentry owns the memory of all the pod's containers: the "
                          "container's limit is not the kernel's, no OOM kill is reported")
        p = self.pod("oom")
        cid = p.start("c", ["sh", "-c", "tail /dev/zero"],
                      linux={"resources": {"memory_limit_in_bytes": 32 << 20}})
        st = node.wait_exited(cid, timeout=90)
        self.assertEqual(st.exit_code, 137)
        self.assertEqual(st.reason, "OOMKilled")

    def test_update_container_resources(self):
        if RUNSC:
            self.skipTest("runsc keeps one cgroup for the sandbox; per-container cgroup files "
                          "are not where the test reads them")
        p = self.pod("update")
        cid = p.start("c", ["sleep", "inf"],
                      linux={"resources": {"memory_limit_in_bytes": 64 << 20,
                                           "cpu_shares": 256}})
        self.assertEqual(self.cgroup_file(cid, "memory", "memory.limit_in_bytes"),
                         str(64 << 20))
        node.client.rt("UpdateContainerResources", {
            "container_id": cid,
            "linux": {"memory_limit_in_bytes": 96 << 20, "cpu_shares": 512,
                      "cpu_period": 100000, "cpu_quota": 50000}})
        self.assertEqual(self.cgroup_file(cid, "memory", "memory.limit_in_bytes"),
                         str(96 << 20))
        self.assertEqual(self.cgroup_file(cid, "cpu", "cpu.shares"), "512")
        self.assertEqual(self.cgroup_file(cid, "cpu", "cpu.cfs_quota_us"), "50000")

    def test_container_and_pod_stats(self):
        p = self.pod("stats")
        cid = p.start("c", ["sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; "
                                        "sleep inf"])
        deadline = time.monotonic() + 30 * cri.SCALE
        while True:
            st = node.client.rt("ContainerStats", {"container_id": cid}).stats
            if st.cpu.usage_core_nano_seconds.value > 0 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(st.attributes.id, cid)
        self.assertGreater(st.cpu.usage_core_nano_seconds.value, 0)
        self.assertGreater(st.cpu.timestamp, 0)
        self.assertGreater(st.memory.working_set_bytes.value, 0)
        ps = node.client.rt("PodSandboxStats", {"pod_sandbox_id": p.id}).stats
        self.assertEqual(ps.attributes.id, p.id)
        self.assertIn(cid, [c.attributes.id for c in ps.linux.containers])
        self.assertGreater(ps.linux.memory.working_set_bytes.value, 0)
        self.assertGreater(ps.linux.cpu.usage_core_nano_seconds.value, 0)


class Cleanup(CriTest):
    def test_stop_and_remove_leave_nothing(self):
        before = set(node.shim_pids())
        p = Pod("clean-" + HANDLER)
        a = p.start("a", ["sleep", "inf"])
        b = p.start("b", ["sh", "-c", "sleep inf & sleep inf"])
        shims = set(node.shim_pids()) - before
        self.assertEqual(len(shims), 1, cri.describe_pids(shims))
        info = json.loads(node.status(b, verbose=True).info["info"])
        pids = [info["pid"]]
        with open(os.path.join(node.bundle(p.id), "address")) as f:
            sock = f.read().strip().replace("unix://", "")
        self.assertTrue(os.path.exists(sock))
        node.client.rt("StopContainer", {"container_id": a, "timeout": 2})
        node.client.rt("RemoveContainer", {"container_id": a})
        p.remove()
        deadline = time.monotonic() + 10 * cri.SCALE
        while any(os.path.exists("/proc/%d" % x) for x in list(shims) + pids) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        for x in list(shims) + pids:
            self.assertFalse(os.path.exists("/proc/%d" % x), "process %d is left" % x)
        self.assertFalse(os.path.exists(sock), "shim socket %s is left" % sock)
        for cid in (p.id, a, b):
            self.assertEqual(cri.mounts_mentioning(cid), [], "mounts of %s are left" % cid)
            with divergence(("husk-runsc",), "husk's OCI engine leaves runsc's sandbox "
                                             "cgroups"):
                self.assertEqual(cri.cgroup_dirs("%s/%s" % (node.cgroup_parent, cid)), [],
                                 "cgroups of %s are left" % cid)
            self.assertFalse(os.path.exists(node.bundle(cid)), "bundle of %s is left" % cid)
            for root in ("/run/containerd/husk/k8s.io", "/run/containerd/runc/k8s.io",
                         os.path.join(node.dir, "runsc-root", "k8s.io")):
                if os.path.isdir(root):
                    left = [n for n in os.listdir(root) if cid in n]
                    self.assertEqual(left, [], "state of %s left in %s" % (cid, root))


class Gvisor(CriTest):
    def test_pod_runs_inside_gvisor(self):
        if not RUNSC:
            self.skipTest("only the husk-runsc handler runs gVisor")
        p = self.pod("gvisor")
        cid = p.start("c", ["sleep", "inf"])
        r = node.exec_sync(cid, ["dmesg"])
        self.assertEqual(r.exit_code, 0, r.stderr)
        self.assertIn(b"Starting gVisor", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
