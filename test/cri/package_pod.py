"""One CRI pod per runtime handler on a running private containerd, for the package suite.

Usage: package_pod.py DIR HANDLER... where DIR is a private containerd (hack/containerd.sh)
whose config has the CRI plugin on, with the package's snippet. For each handler: a
host-network pod (no CNI needed), a container in it, ExecSync in the container, then
StopPodSandbox and RemovePodSandbox. Prints what ran; exits non-zero with the reason when
anything fails.
"""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cri  # noqa: E402


def import_image(d, client):
    with tempfile.TemporaryDirectory(dir=d) as tmp:
        tar = os.path.join(tmp, "image.tar")
        cri.run([os.path.join(cri.TOP, "hack/mkimage.sh"), tar, cri.IMAGE],
                env={"IMAGE_CMD": '["sleep","inf"]'})
        cri.run(["ctr", "--address", os.path.join(d, "containerd.sock"), "-n", "k8s.io",
                 "images", "import", tar])
    deadline = time.monotonic() + 30 * cri.SCALE
    while time.monotonic() < deadline:
        if client.img("ImageStatus", {"image": {"image": cri.IMAGE}}).image.id:
            return
        time.sleep(0.1)
    raise RuntimeError("the CRI plugin never saw %s" % cri.IMAGE)


def one_pod(d, client, handler, cgroup_parent):
    name = "pkg-" + handler
    cfg = {
        "metadata": {"name": name, "uid": "uid-" + name, "namespace": "husk-package"},
        "log_directory": os.path.join(d, "logs", name),
        "linux": {
            "cgroup_parent": cgroup_parent,
            "security_context": {"namespace_options": {"network": "NODE"}},
        },
    }
    os.makedirs(cfg["log_directory"], exist_ok=True)
    pod = client.rt("RunPodSandbox", {"config": cfg, "runtime_handler": handler},
                    timeout=120).pod_sandbox_id
    try:
        ccfg = {"metadata": {"name": "c"}, "image": {"image": cri.IMAGE},
                "command": ["sleep", "inf"], "log_path": "c.log"}
        cid = client.rt("CreateContainer", {"pod_sandbox_id": pod, "config": ccfg,
                                            "sandbox_config": cfg}, timeout=120).container_id
        client.rt("StartContainer", {"container_id": cid}, timeout=120)
        r = client.rt("ExecSync", {"container_id": cid, "cmd": ["sh", "-c", "echo in-$0", name],
                                   "timeout": 0}, timeout=60)
        if r.exit_code != 0 or r.stdout != ("in-%s\n" % name).encode():
            raise AssertionError("%s: ExecSync gave %d %r %r" % (handler, r.exit_code,
                                                                 r.stdout, r.stderr))
        if handler.endswith("runsc"):
            r = client.rt("ExecSync", {"container_id": cid, "cmd": ["dmesg"], "timeout": 0},
                          timeout=60)
            if b"gVisor" not in r.stdout:
                raise AssertionError("%s: not inside gVisor: %r" % (handler, r.stdout))
        print("%s: pod %s, container %s, ExecSync ok" % (handler, pod[:12], cid[:12]))
    finally:
        client.rt("StopPodSandbox", {"pod_sandbox_id": pod}, timeout=120)
        client.rt("RemovePodSandbox", {"pod_sandbox_id": pod}, timeout=120)


def main():
    d, handlers = sys.argv[1], sys.argv[2:]
    msgs = cri.Messages(tempfile.mkdtemp(dir=d))
    client = cri.Client(os.path.join(d, "containerd.sock"), msgs)
    cgroup_parent = "/husk-package-%d" % os.getpid()
    try:
        import_image(d, client)
        for h in handlers:
            one_pod(d, client, h, cgroup_parent)
    finally:
        client.close()
        for p in cri.cgroup_dirs(cgroup_parent):
            for sub, _, _ in sorted(os.walk(p), key=lambda w: -len(w[0])):
                try:
                    os.rmdir(sub)
                except OSError:
                    pass


if __name__ == "__main__":
    main()
