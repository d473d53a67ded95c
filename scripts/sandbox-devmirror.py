#!/usr/bin/python3
"""Mirror the kernel's macvtap character devices (/dev/tapN, made by
devtmpfs when a macvtap link appears) from the real /dev into the
sandbox's private /dev, so that libvirt's virNetDevMacVLanTapOpen (which
retries for 200 ms) finds them.  Watches with inotify: no polling.

    sandbox-devmirror.py REAL_DEV_DIR
"""
import ctypes
import os
import struct
import sys

IN_CREATE = 0x100
real = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init()
if fd < 0 or libc.inotify_add_watch(fd, real.encode(), IN_CREATE) < 0:
    sys.exit("devmirror: inotify: %s" % os.strerror(ctypes.get_errno()))


def mirror(name):
    if not (name.startswith("tap") and name[3:].isdigit()):
        return
    try:
        st = os.stat(os.path.join(real, name))
        if os.path.exists("/dev/" + name):
            os.unlink("/dev/" + name)
        os.mknod("/dev/" + name, st.st_mode, st.st_rdev)
    except OSError:
        pass


for n in os.listdir(real):
    mirror(n)
while True:
    buf = os.read(fd, 65536)
    i = 0
    while i + 16 <= len(buf):
        _, mask, _, ln = struct.unpack_from("iIII", buf, i)
        name = buf[i + 16:i + 16 + ln].rstrip(b"\0").decode(errors="replace")
        i += 16 + ln
        mirror(name)
