"""A stranger (someone not in the roster) writing to a Loquat user, with slixmpp (PyPI),
for tests/strangers.rs.

    python stranger_peer.py --jid eve@localhost --password pw --port 5222 --ca ca.pem \
        --to alice@localhost --url https://localhost:1234/cat.png --id s1 --wait 30

Sends one chat message `--id` whose body is `--url`, with an OOB element (XEP-0066),
a delivery receipt request (XEP-0184) and a chat marker request (XEP-0333); prints
`sent 1`. Then, for `--wait` seconds, prints `RECEIPT <id>` for each delivery receipt
and `DISPLAYED <id>` for each displayed marker that comes back; exits after the first
receipt (printing `done`), or after the wait. Exits 0 unless it could not sign in.
"""

import argparse
import asyncio
import logging
import ssl
import sys

import slixmpp
from slixmpp.xmlstream import ET
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath


class Stranger(slixmpp.ClientXMPP):
    def __init__(self, args):
        super().__init__(args.jid, args.password)
        self.args = args
        self.result = 1
        self.got_receipt = asyncio.Event()
        self.ssl_context = ssl.create_default_context(cafile=args.ca)
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", self.failed)
        # slixmpp's "message" event is for messages with a body; receipts and markers
        # have none.
        for ns, name in (("urn:xmpp:receipts", "received"),
                         ("urn:xmpp:chat-markers:0", "displayed")):
            self.register_handler(Callback(
                f"stranger {name}",
                MatchXPath(f"{{{self.default_ns}}}message/{{{ns}}}{name}"),
                self.on_message))

    def failed(self, _event):
        print("authentication failed", flush=True)
        self.disconnect()

    def on_message(self, msg):
        xml = msg.xml
        for received in xml.iter("{urn:xmpp:receipts}received"):
            print(f"RECEIPT {received.get('id')}", flush=True)
            self.got_receipt.set()
        for displayed in xml.iter("{urn:xmpp:chat-markers:0}displayed"):
            print(f"DISPLAYED {displayed.get('id')}", flush=True)

    async def start(self, _event):
        a = self.args
        try:
            msg = self.make_message(mto=a.to, mbody=a.url, mtype="chat")
            msg["id"] = a.id
            oob = ET.Element("{jabber:x:oob}x")
            url = ET.SubElement(oob, "{jabber:x:oob}url")
            url.text = a.url
            msg.xml.append(oob)
            msg.xml.append(ET.Element("{urn:xmpp:receipts}request"))
            msg.xml.append(ET.Element("{urn:xmpp:chat-markers:0}markable"))
            msg.send()
            print("sent 1", flush=True)
            try:
                await asyncio.wait_for(self.got_receipt.wait(), timeout=a.wait)
                print("done", flush=True)
            except asyncio.TimeoutError:
                print("no receipt", flush=True)
            self.result = 0
        except Exception as e:  # reported to the test, which fails with it
            print(f"peer failed: {e!r}", flush=True)
        finally:
            await self.disconnect(wait=5)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--jid", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--to", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--id", default="s1")
    p.add_argument("--wait", type=float, default=30)
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)
    peer = Stranger(args)
    peer.connect(address=(args.host, args.port), force_starttls=True)
    loop = asyncio.get_event_loop()
    loop.run_until_complete(peer.disconnected)
    sys.exit(peer.result)


if __name__ == "__main__":
    main()
