"""A client Loquat did not write, for interoperability tests: slixmpp (from PyPI).

    python slix_peer.py --jid bob@localhost --password pw --port 5222 --ca ca.pem \
        flood --to alice@localhost --count 50 --prefix "msg"
    python slix_peer.py ... flood --room r@conference.localhost --nick peer \
        --first "hello room from peer" --count 500 --prefix "flood"

Sends at full speed, then asks the server for a ping answer, so everything sent before
it was handled by the server, and signs out. Prints `sent N` and exits 0, or prints
the error and exits 1. Messages are numbered `<prefix> 0001` and so on.
"""

import argparse
import asyncio
import logging
import ssl
import sys

import slixmpp


class Peer(slixmpp.ClientXMPP):
    def __init__(self, args):
        super().__init__(args.jid, args.password)
        self.args = args
        self.result = 1
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0045")
        self.register_plugin("xep_0199")
        ctx = ssl.create_default_context(cafile=args.ca)
        self.ssl_context = ctx
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", self.failed)

    def failed(self, _event):
        print("authentication failed", flush=True)
        self.disconnect()

    async def start(self, _event):
        try:
            await self.run()
            self.result = 0
        except Exception as e:  # reported to the test, which fails with it
            print(f"peer failed: {e!r}", flush=True)
        finally:
            await self.disconnect(wait=5)

    async def run(self):
        a = self.args
        if a.command == "deep":
            await self.deep()
            return
        self.send_presence()
        await self.get_roster()
        sent = 0
        if a.room:
            await self["xep_0045"].join_muc_wait(a.room, a.nick, maxstanzas=0, timeout=20)
            mtype, to = "groupchat", a.room
        else:
            mtype, to = "chat", a.to
        if a.first:
            self.send_message(mto=to, mbody=a.first, mtype=mtype)
            sent += 1
        for i in range(1, a.count + 1):
            self.send_message(mto=to, mbody=f"{a.prefix} {i:04d}", mtype=mtype)
            sent += 1
        # The server handles a client's stanzas in order: its answer to this comes after
        # every message above was routed (and archived).
        await self["xep_0199"].ping(jid=self.boundjid.domain, timeout=60)
        if a.room:
            # The room answers in order too: everything above reached it.
            await self["xep_0030"].get_info(jid=a.room, timeout=60)
        print(f"sent {sent}", flush=True)


    async def deep(self):
        """Sends one chat message nested `--depth` levels deep (written as raw XML, as a
        hostile client would), then an ordinary message `--then`."""
        a = self.args
        inner = "<a>" * a.depth + "</a>" * a.depth
        self.send_raw(
            f"<message to='{a.to}' type='chat' id='deep-1'><body>deep</body>"
            f"<x xmlns='urn:loquat:test:deep'>{inner}</x></message>"
        )
        self.send_message(mto=a.to, mbody=a.then, mtype="chat")
        await self["xep_0199"].ping(jid=self.boundjid.domain, timeout=60)
        print("sent 2", flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--jid", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser("flood")
    f.add_argument("--to")
    f.add_argument("--room")
    f.add_argument("--nick", default="peer")
    f.add_argument("--first")
    f.add_argument("--count", type=int, default=50)
    f.add_argument("--prefix", default="msg")
    d = sub.add_parser("deep")
    d.add_argument("--to", required=True)
    d.add_argument("--depth", type=int, default=40000)
    d.add_argument("--then", default="after the deep one")
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)
    peer = Peer(args)
    peer.connect(address=(args.host, args.port), force_starttls=True)
    loop = asyncio.get_event_loop()
    loop.run_until_complete(peer.disconnected)
    sys.exit(peer.result)


if __name__ == "__main__":
    main()
