"""A contact with a profile, played by slixmpp (a client Loquat did not write), for
tests/profile.rs:

    python profile_peer.py --jid bob@localhost/peer --password pw --port 5222 --ca ca.pem \
        --name "Bob Builder"

Publishes a vcard-temp (XEP-0054: FN, NICKNAME, EMAIL, DESC) with slixmpp's own plugin,
answers "which software?" (XEP-0092) as `slix-peer 1.0` on `TestOS`, prints `ready`,
and stays online until it is killed.
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
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0054")
        self.register_plugin(
            "xep_0092", {"software_name": "slix-peer", "version": "1.0", "os": "TestOS"}
        )
        self.ssl_context = ssl.create_default_context(cafile=args.ca)
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", self.failed)

    def failed(self, _event):
        print("authentication failed", flush=True)
        self.disconnect()

    async def start(self, _event):
        try:
            self.send_presence()
            vcard = self["xep_0054"].make_vcard()
            vcard["FN"] = self.args.name
            vcard["NICKNAME"] = "bob"
            vcard["DESC"] = "Can we fix it?"
            email = vcard["EMAIL"]
            email["USERID"] = "bob@example.org"
            await self["xep_0054"].publish_vcard(vcard, timeout=20)
            print("ready", flush=True)
        except Exception as e:  # reported to the test, which fails with it
            print(f"peer failed: {e!r}", flush=True)
            await self.disconnect()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--jid", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--name", required=True)
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)
    peer = Peer(args)
    peer.connect(address=(args.host, args.port), force_starttls=True)
    asyncio.get_event_loop().run_until_complete(peer.disconnected)
    sys.exit(0)


if __name__ == "__main__":
    main()
