#!/usr/bin/env python3
"""A loopback SMTP server for the mail tests (aiosmtpd).

    smtp_sink.py PORT DIR

Listens on 127.0.0.1:PORT and stores every accepted message as a file in DIR. How it answers
is told by the recipient's local part:

- `fail451x<N>...@...`: `451` (transient) to RCPT the first N times this address is seen,
  then accepts;
- `reject550...@...`: always `550` (permanent) to RCPT;
- anything else: accepted.

It writes `DIR/.ready` once it listens, and runs until killed or until its standard input is
closed (so that it never outlives the test process that started it).
"""

import os
import re
import sys
import uuid

from aiosmtpd.controller import Controller

FAIL = re.compile(r"^fail451x(\d+)")


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.seen = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject550"):
            return "550 5.1.1 mailbox unavailable"
        match = FAIL.match(local)
        if match:
            count = self.seen.get(address, 0)
            self.seen[address] = count + 1
            if count < int(match.group(1)):
                return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        name = uuid.uuid4().hex
        tmp = os.path.join(self.directory, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(("X-Sink-Rcpt: " + ",".join(envelope.rcpt_tos) + "\r\n").encode())
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, os.path.join(self.directory, name + ".eml"))
        return "250 Message accepted"


def main():
    port = int(sys.argv[1])
    directory = sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    with open(os.path.join(directory, ".ready"), "w") as f:
        f.write("ready\n")
    try:
        sys.stdin.buffer.read()  # returns when the parent closes the pipe or dies
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
