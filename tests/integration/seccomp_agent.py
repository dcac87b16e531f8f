"""A seccomp notify agent for the tests (runtime-spec config-linux.md "Seccomp",
`listenerPath`): listens on a unix socket, takes the runtime's message (the
containerProcessState JSON with the notify fd in SCM_RIGHTS), then answers every
notification with a chosen errno (0: success without doing the syscall).

    seccomp_agent.py SOCKET ERRNO TIMEOUT

Prints the received JSON on the first line, then one line per answered
notification (`nr=83`), and exits when the container closed its end of the fd or
after TIMEOUT seconds. It writes `ready` to stderr once it listens.
"""
import array
import ctypes
import fcntl
import json
import os
import select
import socket
import sys
import time

SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100  # _IOWR('!', 0, struct seccomp_notif), 80 bytes
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101  # _IOWR('!', 1, struct seccomp_notif_resp), 24 bytes


class SeccompData(ctypes.Structure):
    _fields_ = [("nr", ctypes.c_int), ("arch", ctypes.c_uint32),
                ("instruction_pointer", ctypes.c_uint64), ("args", ctypes.c_uint64 * 6)]


class Notif(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64), ("pid", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("data", SeccompData)]


class Resp(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64), ("val", ctypes.c_int64), ("error", ctypes.c_int32),
                ("flags", ctypes.c_uint32)]


def main():
    path, answer, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    deadline = time.monotonic() + timeout
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(timeout)
    print("ready", file=sys.stderr, flush=True)
    conn, _ = srv.accept()
    conn.settimeout(max(1.0, deadline - time.monotonic()))
    msg, anc, _, _ = conn.recvmsg(65536, socket.CMSG_LEN(16))
    fds = []
    for level, typ, data in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds += array.array("i", data[: len(data) - len(data) % 4]).tolist()
    print(json.dumps({"msg": json.loads(msg), "nfds": len(fds)}), flush=True)
    if not fds:
        return
    nfd = fds[0]
    while time.monotonic() < deadline:
        r, _, _ = select.select([nfd], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            break
        n = Notif()
        try:
            fcntl.ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, n)
        except OSError:
            break  # every process of the filter is gone (or the target died)
        resp = Resp(id=n.id, val=0, error=-answer if answer else 0, flags=0)
        try:
            fcntl.ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, resp)
        except OSError:
            continue
        print(f"nr={n.data.nr}", flush=True)
    os.close(nfd)


if __name__ == "__main__":
    main()
