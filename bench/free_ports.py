#!/usr/bin/env python3
"""free_ports.py N: the first of N consecutive TCP ports free on 127.0.0.1.

Each is bound once to be sure; a race with another program remains
possible, as with any port picked before use."""
import random
import socket
import sys

count = int(sys.argv[1]) if len(sys.argv) > 1 else 1
for _ in range(200):
    base = random.randint(20000, 60000)
    socks = []
    try:
        for port in range(base, base + count):
            s = socket.socket()
            s.bind(("127.0.0.1", port))
            socks.append(s)
        print(base)
        sys.exit(0)
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
sys.exit("free_ports.py: no free range found")
