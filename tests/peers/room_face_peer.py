"""A room owner and occupant with faces, played by slixmpp (a client Loquat did not
write), for tests/room_faces.rs:

    python room_face_peer.py --jid bob@localhost/peer --password pw --port 5222 \
        --ca ca.pem --room tea@conference.localhost --nick bob \
        --photo bob.png --room-photo room.png --room-photo-2 room2.png

Publishes its own vcard-temp (XEP-0054: FN, NICKNAME, DESC and PHOTO `--photo`), joins
`--room` as `--nick` with the photo's SHA-1 in its presence (XEP-0153,
`vcard-temp:x:update`), makes the new room an instant room, sets the room's vcard-temp
PHOTO to `--room-photo` (XEP-0486; the test server's `mod_muc_room_vcard`), answers
"which software?" (XEP-0092) as `face-peer 2.0` on `TestOS`, prints
`ready <photo sha1> <room photo sha1>` and stays. A line `change` on its input sets the
room's photo to `--room-photo-2` and prints `changed <sha1>`.
"""

import argparse
import asyncio
import base64
import hashlib
import logging
import ssl
import sys
from xml.etree import ElementTree as ET

import slixmpp


def vcard_xml(photo, fields):
    parts = [f"<{k}>{v}</{k}>" for k, v in fields]
    b64 = base64.b64encode(photo).decode()
    parts.append(f"<PHOTO><TYPE>image/png</TYPE><BINVAL>{b64}</BINVAL></PHOTO>")
    return ET.fromstring("<vCard xmlns='vcard-temp'>" + "".join(parts) + "</vCard>")


class Peer(slixmpp.ClientXMPP):
    def __init__(self, args):
        super().__init__(args.jid, args.password)
        self.args = args
        self.register_plugin("xep_0030")
        self.register_plugin(
            "xep_0092", {"software_name": "face-peer", "version": "2.0", "os": "TestOS"}
        )
        self.ssl_context = ssl.create_default_context(cafile=args.ca)
        self.joined = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", self.failed)
        self.add_event_handler("presence", self.presence)

    def failed(self, _event):
        print("authentication failed", flush=True)
        self.disconnect()

    def presence(self, pres):
        if str(pres["from"]) == f"{self.args.room}/{self.args.nick}" and not self.joined.done():
            self.joined.set_result(True)

    async def iq_set(self, to, payload):
        iq = self.make_iq_set(ito=to)
        iq.append(payload)
        await iq.send(timeout=20)

    async def set_room_photo(self, path):
        with open(path, "rb") as f:
            data = f.read()
        await self.iq_set(self.args.room, vcard_xml(data, [("FN", "Tea room")]))
        return hashlib.sha1(data).hexdigest()

    async def start(self, _event):
        try:
            self.send_presence()
            with open(self.args.photo, "rb") as f:
                photo = f.read()
            sha = hashlib.sha1(photo).hexdigest()
            await self.iq_set(
                None,
                vcard_xml(
                    photo,
                    [("FN", "Bob Occupant"), ("NICKNAME", "bobby"), ("DESC", "Tea, please")],
                ),
            )
            self.send_raw(
                f"<presence to='{self.args.room}/{self.args.nick}'>"
                "<x xmlns='http://jabber.org/protocol/muc'/>"
                f"<x xmlns='vcard-temp:x:update'><photo>{sha}</photo></x></presence>"
            )
            await asyncio.wait_for(self.joined, 20)
            await self.iq_set(
                self.args.room,
                ET.fromstring(
                    "<query xmlns='http://jabber.org/protocol/muc#owner'>"
                    "<x xmlns='jabber:x:data' type='submit'/></query>"
                ),
            )
            room_sha = await self.set_room_photo(self.args.room_photo)
            print(f"ready {sha} {room_sha}", flush=True)
            loop = asyncio.get_event_loop()
            while True:
                line = await loop.run_in_executor(None, sys.stdin.readline)
                if not line:
                    break
                if line.strip() == "change":
                    new = await self.set_room_photo(self.args.room_photo_2)
                    print(f"changed {new}", flush=True)
        except Exception as e:  # reported to the test, which fails with it
            print(f"peer failed: {e!r}", flush=True)
        await self.disconnect()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--jid", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--room", required=True)
    p.add_argument("--nick", required=True)
    p.add_argument("--photo", required=True)
    p.add_argument("--room-photo", required=True)
    p.add_argument("--room-photo-2", required=True)
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)
    peer = Peer(args)
    peer.connect(address=("127.0.0.1", args.port), force_starttls=True)
    asyncio.get_event_loop().run_until_complete(peer.disconnected)
    sys.exit(0)


if __name__ == "__main__":
    main()
