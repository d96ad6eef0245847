"""Reads someone's profile as another client sees it, played by slixmpp (a client Loquat
did not write), for tests/own_profile.rs:

    python profile_reader.py --jid bob@localhost/reader --password pw --port 5222 \
        --ca ca.pem --target me@localhost

Asks the target to let it see its presence first (the PEP nodes we read are open to
contacts only, as most clients publish them), waits until it agrees, then asks the
target's bare JID for its vcard-temp (XEP-0054), its vCard4 PEP item
(XEP-0292), its nickname PEP item (XEP-0172) and its avatar metadata (XEP-0084), prints
what it found as one JSON line, and exits. With `--watch-photo`, it instead waits for a
presence of the target carrying an avatar hash (XEP-0153 `vcard-temp:x:update`) and
prints `photo <hash>` (or `no photo` after 40 s). With `--set-vcard XML`, it is the
target itself (another resource of the same account): it sets its own vcard-temp to XML,
prints `set`, and exits.
"""

import argparse
import asyncio
import json
import logging
import ssl
import sys
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout

VCARD = "{vcard-temp}"
V4 = "{urn:ietf:params:xml:ns:vcard-4.0}"
PUBSUB = "{http://jabber.org/protocol/pubsub}"


class Reader(slixmpp.ClientXMPP):
    def __init__(self, args):
        super().__init__(args.jid, args.password)
        self.args = args
        self.ssl_context = ssl.create_default_context(cafile=args.ca)
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", self.failed)
        # Prosody tells of the approval with a roster push; the target's presence coming
        # in shows it took effect.
        self.add_event_handler("presence_available", self.subscribed)
        self.agreed = asyncio.Event()
        self.photos = asyncio.Queue()

    def subscribed(self, presence):
        if presence["from"].bare != self.args.target:
            return
        self.agreed.set()
        x = presence.xml.find("{vcard-temp:x:update}x")
        photo = x.find("{vcard-temp:x:update}photo") if x is not None else None
        if photo is not None and photo.text:
            self.photos.put_nowait(photo.text)

    def failed(self, _event):
        print("authentication failed", flush=True)
        self.disconnect()

    async def ask(self, xml):
        iq = self.Iq()
        iq["type"] = "get"
        iq["to"] = self.args.target
        iq.append(ET.fromstring(xml))
        try:
            answer = await iq.send(timeout=20)
        except (IqError, IqTimeout):
            return None
        return answer.xml

    async def item(self, node):
        answer = await self.ask(
            f"<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='{node}'/></pubsub>"
        )
        if answer is None:
            return None
        for item in answer.iter(PUBSUB + "item"):
            for child in item:
                return child
        return None

    async def set_vcard(self):
        iq = self.Iq()
        iq["type"] = "set"
        iq.append(ET.fromstring(self.args.set_vcard))
        try:
            await iq.send(timeout=20)
            print("set", flush=True)
        except (IqError, IqTimeout) as e:
            print(f"set failed: {e!r}", flush=True)
        self.disconnect()

    async def start(self, _event):
        out = {}
        if self.args.set_vcard:
            await self.set_vcard()
            return
        try:
            self.send_presence()
            self.send_presence(pto=self.args.target, ptype="subscribe")
            print("asked", flush=True)
            await asyncio.wait_for(self.agreed.wait(), 30)
            if self.args.watch_photo:
                try:
                    photo = await asyncio.wait_for(self.photos.get(), 40)
                    print(f"photo {photo}", flush=True)
                except asyncio.TimeoutError:
                    print("no photo", flush=True)
                self.disconnect()
                return
            temp = await self.ask("<vCard xmlns='vcard-temp'/>")
            card = temp.find(VCARD + "vCard") if temp is not None else None
            if card is not None:
                def text(path):
                    found = card.find(path)
                    return found.text if found is not None else None
                out["FN"] = text(VCARD + "FN")
                out["NICKNAME"] = text(VCARD + "NICKNAME")
                out["EMAIL"] = text(f"{VCARD}EMAIL/{VCARD}USERID")
                out["TEL"] = text(f"{VCARD}TEL/{VCARD}NUMBER")
                out["URL"] = text(VCARD + "URL")
                out["BDAY"] = text(VCARD + "BDAY")
                out["DESC"] = text(VCARD + "DESC") or text(VCARD + "NOTE")
                out["EMAILS"] = [
                    e.text for e in card.findall(f"{VCARD}EMAIL/{VCARD}USERID")
                ]
                out["TELS"] = [
                    e.text for e in card.findall(f"{VCARD}TEL/{VCARD}NUMBER")
                ]
                out["PHOTO"] = bool(text(f"{VCARD}PHOTO/{VCARD}BINVAL"))
            v4 = await self.item("urn:xmpp:vcard4")
            if v4 is not None:
                def text4(name, inner):
                    found = v4.find(f"{V4}{name}/{V4}{inner}")
                    return found.text if found is not None else None
                out["vcard4"] = {
                    "fn": text4("fn", "text"),
                    "nickname": text4("nickname", "text"),
                    "email": text4("email", "text"),
                    "tel": text4("tel", "uri"),
                    "url": text4("url", "uri"),
                    "bday": text4("bday", "date"),
                    "note": text4("note", "text"),
                    "emails": [e.text for e in v4.findall(f"{V4}email/{V4}text")],
                    "tels": [e.text for e in v4.findall(f"{V4}tel/{V4}uri")],
                }
            nick = await self.item("http://jabber.org/protocol/nick")
            if nick is not None:
                out["nick"] = nick.text or ""
            meta = await self.item("urn:xmpp:avatar:metadata")
            if meta is not None:
                out["avatar"] = [i.get("id") for i in meta if i.tag.endswith("info")]
            print("profile " + json.dumps(out), flush=True)
        except Exception as e:  # reported to the test, which fails with it
            print(f"reader failed: {e!r}", flush=True)
        self.disconnect()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--jid", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--watch-photo", action="store_true")
    p.add_argument("--set-vcard")
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)
    reader = Reader(args)
    reader.connect(address=(args.host, args.port), force_starttls=True)
    asyncio.get_event_loop().run_until_complete(reader.disconnected)
    sys.exit(0)


if __name__ == "__main__":
    main()
