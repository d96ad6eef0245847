"""Avatars (XEP-0084) from a client Loquat did not write: slixmpp (tests/avatars.rs).

    python avatar_peer.py --jid bob@localhost --password pw --port 5222 --ca ca.pem \
        --other alice@localhost publish --file pic.png

Signs in, accepts `--other`'s subscription and asks for theirs (slixmpp's roster does
both by itself), waits until the subscription is mutual, publishes `--file` as its
avatar (data, then metadata) and prints `published <sha1>`. With `--alone` it does not
wait for a subscription; with `--open` anyone may read the avatar (publish-options
`pubsub#access_model` open), so a client that wrongly fetched it would succeed.

    python avatar_peer.py ... --other alice@localhost fetch

Reads `--other`'s avatar metadata from their PEP service, then the data item it names,
and prints `avatar <id> <sha1 of the data> <width>x<height>` (the size from the PNG
header), or `none` when there is no metadata.

    python avatar_peer.py ... --other alice@localhost stranger --hash <sha1>

Not a contact: sends `--other` a presence with the XEP-0153 photo hash `--hash` and a
forged PEP metadata notification announcing it, then prints `sent`.
"""

import argparse
import asyncio
import base64
import hashlib
import logging
import ssl
import struct
import sys

import slixmpp


class Peer(slixmpp.ClientXMPP):
    def __init__(self, args):
        super().__init__(args.jid, args.password)
        self.args = args
        self.result = 1
        for plugin in ("xep_0004", "xep_0030", "xep_0060", "xep_0084", "xep_0163", "xep_0199"):
            self.register_plugin(plugin)
        self.ssl_context = ssl.create_default_context(cafile=args.ca)
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", self.failed)

    def failed(self, _event):
        print("authentication failed", flush=True)
        self.disconnect()

    async def start(self, _event):
        try:
            self.send_presence()
            await self.get_roster()
            await getattr(self, self.args.command)()
            self.result = 0
        except Exception as e:  # reported to the test, which fails with it
            print(f"peer failed: {e!r}", flush=True)
        finally:
            await self.disconnect(wait=5)

    async def mutual(self):
        other = self.args.other
        for _ in range(300):
            item = self.client_roster[other]
            if item["subscription"] == "both":
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"no mutual subscription with {other}")

    async def publish(self):
        if not self.args.alone:
            await self.mutual()
        with open(self.args.file, "rb") as f:
            data = f.read()
        sha = hashlib.sha1(data).hexdigest()
        kwargs = {}
        if self.args.open:
            form = self["xep_0004"].make_form("submit")
            form.add_field(
                var="FORM_TYPE",
                ftype="hidden",
                value="http://jabber.org/protocol/pubsub#publish-options",
            )
            form.add_field(var="pubsub#access_model", value="open")
            kwargs["options"] = form
        await self["xep_0084"].publish_avatar(data, **kwargs)
        w, h = struct.unpack(">II", data[16:24])
        await self["xep_0084"].publish_avatar_metadata(
            {"id": sha, "type": "image/png", "bytes": str(len(data)), "width": str(w), "height": str(h)},
            **kwargs,
        )
        print(f"published {sha}", flush=True)

    async def fetch(self):
        other = self.args.other
        iq = await self["xep_0060"].get_items(other, "urn:xmpp:avatar:metadata", max_items=1)
        items = list(iq["pubsub"]["items"])
        if not items:
            print("none", flush=True)
            return
        meta = items[0].xml.find("{urn:xmpp:avatar:metadata}metadata")
        info = meta.find("{urn:xmpp:avatar:metadata}info")
        aid = info.get("id")
        iq = await self["xep_0084"].retrieve_avatar(other, aid)
        data_el = list(iq["pubsub"]["items"])[0].xml.find("{urn:xmpp:avatar:data}data")
        data = base64.b64decode(data_el.text)
        w, h = struct.unpack(">II", data[16:24])
        print(f"avatar {aid} {hashlib.sha1(data).hexdigest()} {w}x{h}", flush=True)

    async def stranger(self):
        other, h = self.args.other, self.args.hash
        self.send_raw(
            f"<presence to='{other}'><x xmlns='vcard-temp:x:update'><photo>{h}</photo></x></presence>"
        )
        self.send_raw(
            f"<message to='{other}'><event xmlns='http://jabber.org/protocol/pubsub#event'>"
            f"<items node='urn:xmpp:avatar:metadata'><item id='{h}'>"
            f"<metadata xmlns='urn:xmpp:avatar:metadata'>"
            f"<info bytes='100' id='{h}' type='image/png'/></metadata></item></items></event></message>"
        )
        await self["xep_0199"].ping(self.boundjid.domain)
        print("sent", flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--jid", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--other", required=True)
    sub = p.add_subparsers(dest="command", required=True)
    pub = sub.add_parser("publish")
    pub.add_argument("--file", required=True)
    pub.add_argument("--alone", action="store_true")
    pub.add_argument("--open", action="store_true")
    sub.add_parser("fetch")
    st = sub.add_parser("stranger")
    st.add_argument("--hash", required=True)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    peer = Peer(args)
    peer.connect(address=("127.0.0.1", args.port), force_starttls=True)
    asyncio.get_event_loop().run_until_complete(peer.disconnected)
    sys.exit(peer.result)


if __name__ == "__main__":
    main()
