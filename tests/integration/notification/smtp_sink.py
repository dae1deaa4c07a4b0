#!/usr/bin/python3
"""A real SMTP server for the notification tests (aiosmtpd). Every accepted message is written
to OUT_DIR as <n>.eml; recipients whose local part starts with "reject" get 550 (a permanent
failure). Writes the bound port to PORT_FILE once it is listening.

usage: smtp_sink.py OUT_DIR PORT_FILE
"""
import os
import socket
import sys
import time

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.split("@")[0].startswith("reject"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = os.path.join(self.out_dir, "%06d.eml" % self.count)
        with open(name + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(name + ".tmp", name)  # readers never see half a message
        return "250 Message accepted"


def main():
    out_dir, port_file = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    with socket.socket() as s:  # pick a free port
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Handler(out_dir), hostname="127.0.0.1", port=port)
    controller.start()
    with open(port_file + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(port_file + ".tmp", port_file)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
