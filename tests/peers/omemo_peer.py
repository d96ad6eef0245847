"""An OMEMO client Loquat did not write, for interoperability tests (tests/omemo.rs):
slixmpp-omemo (PyPI) on python-omemo with its oldmemo backend (OMEMO 0.3,
eu.siacs.conversations.axolotl) and twomemo (OMEMO 2).

    python omemo_peer.py --jid bob@localhost --password pw --port 5222 --ca ca.pem \
        --other alice@localhost

Signs in, creates and publishes its OMEMO identity (device list and bundle), then prints
`READY <device id>` and follows commands, one per line on stdin:

    send <text>   encrypt <text> to every device of --other and send it; prints `SENT`
                  (or `FAILED <error>`)
    send-bad-mac <text>
                  like send, with the last byte (the MAC) of every recipient's key
                  flipped: the recipient must report a bad MAC, not show text (with
                  --omemo2-only: OMEMO 2, a bit of the Signal MAC of every key that is
                  not a key exchange flipped)
    send-file <path>
                  encrypt the file with AES-256-GCM (XEP-0454: random 12-byte IV and
                  32-byte key), upload the ciphertext to upload.localhost
                  (http_file_share, XEP-0363), and send the `aesgcm://` link in an
                  OMEMO message; prints `SENT`
    devices <n>   wait (up to 30 s) until --other publishes at least n active OMEMO
                  devices; prints `DEVICES [ids]` (or `FAILED <error>`)
    make-room <room> <private|open>
                  create <room> as its owner (nick "peer"): private is members-only and
                  non-anonymous with --other made a member, open is neither; archived;
                  prints `ROOM-READY`
    configure <room> <private|open>
                  configure the room made before again, as make-room does; prints
                  `ROOM-READY`
    send-room <room> <text>
                  encrypt <text> to every member and occupant of <room> (their real
                  addresses) and send it to the room; prints `SENT`
    send-room-bad-mac <room> <text>
                  like send-room, with every recipient key's MAC broken
    quit          sign out and exit 0

With `--device-id N` the peer starts as a reinstalled device: a new identity under the
existing device id N.

With `--omemo2-only` the peer runs python-omemo with its twomemo backend alone (OMEMO 2,
urn:xmpp:omemo:2; no OMEMO 0.3 device list or bundle is published). slixmpp-omemo 2.2
has no SCE (XEP-0420) yet, so this script makes and reads the envelope itself: `send`
encrypts `<envelope xmlns='urn:xmpp:sce:1'>` with the body, `rpad`, `time` and
`<from jid>` (our bare JID) and prints `SENT {"kex": [...]}` (whether each key was a key
exchange), and `send-from <jid> <text>` does the same with another JID in `<from>`
(a forged envelope). A received OMEMO 2 message is printed as `DECRYPTED {"body": ...,
"device": ..., "from": <the envelope's from>, "kex": <whether our key was a key
exchange>, "fallback": <the plain-text body beside it>}`.

Group chat messages from others in a room we made are printed as `ROOM-DECRYPTED
{"body": ...}` (an `aesgcm://` link is then fetched as in a chat: `FILE ...`),
`ROOM-UNDECRYPTABLE {"error": ...}` or `ROOM-PLAIN {"body": ...}`.

Every message from --other is printed as `DECRYPTED {"body": ..., "device": ...}` when
it decrypts (`KEYTRANSPORT {"device": ...}` when it has no body: a key transport message), or `UNDECRYPTABLE {"error": ...}` when it does not (the error's class and
text). A decrypted body that is an `aesgcm://` link is downloaded (https, the test CA),
decrypted and its GCM tag checked: `FILE {"sha256": ..., "size": ...}`, or
`FILE-FAILED {"error": ...}`. Trust: blind trust before verification, as Conversations
does.
"""

import argparse
import base64
import asyncio
import hashlib
import json
import logging
import os
import ssl
import sys
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import slixmpp
from slixmpp import JID
from slixmpp.plugins import register_plugin
from slixmpp.stanza import Message
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from omemo.storage import Just, Maybe, Nothing, Storage
from omemo.types import JSONType
from slixmpp_omemo import TrustLevel, XEP_0384


class MemoryStorage(Storage):
    """python-omemo's key/value storage, in memory: the peer lives for one test."""

    def __init__(self):
        super().__init__()
        self.data = {}

    async def _load(self, key: str) -> Maybe[JSONType]:
        if key in self.data:
            return Just(self.data[key])
        return Nothing()

    async def _store(self, key: str, value: JSONType) -> None:
        self.data[key] = value

    async def _delete(self, key: str) -> None:
        self.data.pop(key, None)


class XEP_0384Impl(XEP_0384):  # pylint: disable=invalid-name
    default_config = {"fallback_message": "This message is OMEMO encrypted."}

    def plugin_init(self) -> None:
        self._storage = MemoryStorage()
        super().plugin_init()

    @property
    def storage(self) -> Storage:
        return self._storage

    @property
    def _btbv_enabled(self) -> bool:
        return True

    async def _devices_blindly_trusted(self, blindly_trusted, identifier):
        pass

    async def _prompt_manual_trust(self, manually_trusted, identifier):
        session_manager = await self.get_session_manager()
        for device in manually_trusted:
            await session_manager.set_trust(device.bare_jid, device.identity_key, TrustLevel.TRUSTED.value)


register_plugin(XEP_0384Impl)


def say(*parts):
    print(*parts, flush=True)


class Peer(slixmpp.ClientXMPP):
    def __init__(self, args):
        super().__init__(args.jid, args.password)
        self.args = args
        self.other = JID(args.other)
        self.result = 1
        for plugin in ("xep_0030", "xep_0045", "xep_0060", "xep_0163", "xep_0199", "xep_0280", "xep_0334"):
            self.register_plugin(plugin)
        self.register_plugin("xep_0384", module=sys.modules[__name__])
        self.ssl_context = ssl.create_default_context(cafile=args.ca)
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", self.failed)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("groupchat_message", self.on_groupchat)
        # slixmpp's "message" event needs a <body>: key transport messages have none.
        self.register_handler(
            Callback(
                "OMEMO without body",
                MatchXPath("{jabber:client}message/{eu.siacs.conversations.axolotl}encrypted"),
                self.on_bodiless,
            )
        )
        self.register_handler(
            Callback(
                "OMEMO 2 without body",
                MatchXPath("{jabber:client}message/{urn:xmpp:omemo:2}encrypted"),
                self.on_bodiless,
            )
        )

    def failed(self, _event):
        say("authentication failed")
        self.disconnect()

    async def start(self, _event):
        try:
            self.send_presence()
            await self.get_roster()
            xep_0384 = self["xep_0384"]
            session_manager = await xep_0384.get_session_manager()
            own = await session_manager.get_own_device_information()
            say("READY", own[0].device_id)
            loop = asyncio.get_running_loop()
            while True:
                line = await loop.run_in_executor(None, sys.stdin.readline)
                if not line or line.strip() == "quit":
                    break
                command, _, rest = line.rstrip("\n").partition(" ")
                if command == "send" and self.args.omemo2_only:
                    await self.send_twomemo(rest)
                elif command == "send-from":
                    sender, _, text = rest.partition(" ")
                    await self.send_twomemo(text, sender)
                elif command == "send":
                    await self.send_encrypted(rest)
                elif command == "send-bad-mac" and self.args.omemo2_only:
                    await self.send_twomemo(rest, bad_mac=True)
                elif command == "send-bad-mac":
                    await self.send_encrypted(rest, bad_mac=True)
                elif command == "send-file":
                    await self.send_file(rest)
                elif command == "devices":
                    await self.wait_devices(int(rest or "1"))
                elif command == "make-room":
                    room, _, kind = rest.partition(" ")
                    await self.make_room(JID(room), kind == "private")
                elif command == "configure":
                    room, _, kind = rest.partition(" ")
                    await self.make_room(JID(room), kind == "private", join=False)
                elif command == "send-room":
                    room, _, text = rest.partition(" ")
                    await self.send_room(JID(room), text)
                elif command == "send-room-bad-mac":
                    room, _, text = rest.partition(" ")
                    await self.send_room(JID(room), text, bad_mac=True)
                else:
                    say("FAILED", json.dumps({"error": f"unknown command {command!r}"}))
            self.result = 0
        except Exception as e:  # reported to the test, which fails with it
            say(f"peer failed: {e!r}")
        finally:
            await self.disconnect(wait=5)

    async def send_encrypted(self, text, bad_mac=False):
        xep_0384 = self["xep_0384"]
        try:
            await xep_0384.refresh_device_lists({self.other}, force_download=True)
            stanza = self.make_message(mto=self.other, mtype="chat")
            stanza["body"] = text
            encrypted, errors = await xep_0384.encrypt_message(stanza, self.other)
            for e in errors:
                say("ENCRYPTION-ERROR", json.dumps({"error": repr(e)}))
            if encrypted is None:
                say("FAILED", json.dumps({"error": "nothing to send"}))
                return
            if bad_mac:
                for key in encrypted.xml.iter("{eu.siacs.conversations.axolotl}key"):
                    data = bytearray(base64.b64decode(key.text))
                    data[-1] ^= 0x01
                    key.text = base64.b64encode(bytes(data)).decode()
            encrypted.send()
            await self["xep_0199"].ping(jid=JID(self.boundjid.domain), timeout=10)
            say("SENT")
        except Exception as e:
            say("FAILED", json.dumps({"error": f"{type(e).__name__}: {e}"}))

    async def send_twomemo(self, text, envelope_from=None, bad_mac=False):
        """OMEMO 2 with an SCE envelope (XEP-0420) made here; `bad_mac` flips a bit of
        the Signal MAC in each key that is not a key exchange (an OMEMOAuthenticatedMessage
        starts with its 16-byte `mac` field: tag, length, then the MAC)."""
        import datetime
        import secrets
        import twomemo
        import twomemo.etree
        try:
            xep_0384 = self["xep_0384"]
            await xep_0384.refresh_device_lists({self.other}, force_download=True)
            sce = "urn:xmpp:sce:1"
            envelope = ET.Element(f"{{{sce}}}envelope")
            content = ET.SubElement(envelope, f"{{{sce}}}content")
            ET.SubElement(content, "{jabber:client}body").text = text
            ET.SubElement(envelope, f"{{{sce}}}rpad").text = secrets.token_hex(secrets.randbelow(20))
            ET.SubElement(envelope, f"{{{sce}}}time", {
                "stamp": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            })
            ET.SubElement(envelope, f"{{{sce}}}from", {"jid": envelope_from or self.boundjid.bare})
            plain = ET.tostring(envelope)
            session_manager = await xep_0384.get_session_manager()
            ns = twomemo.twomemo.NAMESPACE
            messages, errors = await session_manager.encrypt(
                frozenset({self.other.bare}), {ns: plain}, backend_priority_order=[ns]
            )
            for e in errors:
                say("ENCRYPTION-ERROR", json.dumps({"error": repr(e)}))
            message = next((m for m in messages if m.namespace == ns), None)
            if message is None:
                say("FAILED", json.dumps({"error": "nothing to send"}))
                return
            stanza = self.make_message(mto=self.other, mtype="chat")
            stanza["body"] = "This message is OMEMO encrypted."
            element = twomemo.etree.serialize_message(message)
            kex = [k.get("kex") == "true" for k in element.iter(f"{{{ns}}}key")]
            if bad_mac:
                for key in element.iter(f"{{{ns}}}key"):
                    if key.get("kex") != "true":
                        data = bytearray(base64.b64decode(key.text))
                        data[2] ^= 0x01
                        key.text = base64.b64encode(bytes(data)).decode()
            stanza.xml.append(element)
            stanza.enable("store")
            stanza.send()
            await self["xep_0199"].ping(jid=JID(self.boundjid.domain), timeout=10)
            say("SENT", json.dumps({"kex": kex}))
        except Exception as e:
            say("FAILED", json.dumps({"error": f"{type(e).__name__}: {e}"}))

    async def on_twomemo(self, msg):
        """A chat message carrying OMEMO 2: decrypted, and its SCE envelope read."""
        import twomemo
        import twomemo.etree
        ns = twomemo.twomemo.NAMESPACE
        try:
            session_manager = await self["xep_0384"].get_session_manager()
            element = msg.xml.find(f"{{{ns}}}encrypted")
            own = (await session_manager.get_own_device_information())[0].device_id
            kex = any(
                k.get("rid") == str(own) and k.get("kex") in ("true", "1")
                for k in element.iter(f"{{{ns}}}key")
            )
            message = twomemo.etree.parse_message(element, msg["from"].bare)
            plain, device, _ = await session_manager.decrypt(message)
            if plain is None:
                say("KEYTRANSPORT", json.dumps({"device": device.device_id}))
                return
            envelope = ET.fromstring(plain)
            sce = "urn:xmpp:sce:1"
            body = envelope.find(f"{{{sce}}}content/{{jabber:client}}body")
            sender = envelope.find(f"{{{sce}}}from")
            say("DECRYPTED", json.dumps({
                "body": body.text if body is not None else None,
                "device": device.device_id,
                "from": sender.get("jid") if sender is not None else None,
                "kex": kex,
                "fallback": msg["body"],
            }))
            if body is not None and body.text and body.text.startswith("aesgcm://"):
                await self.fetch_file(body.text)
        except Exception as e:
            say("UNDECRYPTABLE", json.dumps({"error": f"{type(e).__name__}: {e}"}))

    def https(self, method, url, data=None, headers=None):
        request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        with urllib.request.urlopen(request, context=self.ssl_context, timeout=20) as response:
            return response.read()

    async def send_file(self, path):
        try:
            with open(path, "rb") as f:
                plain = f.read()
            iv, key = os.urandom(12), os.urandom(32)
            sealed = AESGCM(key).encrypt(iv, plain, None)
            ns = "urn:xmpp:http:upload:0"
            iq = self.make_iq_get(ito="upload.localhost")
            iq.xml.append(ET.Element(f"{{{ns}}}request", {
                "filename": os.path.basename(path),
                "size": str(len(sealed)),
                "content-type": "application/octet-stream",
            }))
            answer = await iq.send(timeout=15)
            slot = answer.xml.find(f"{{{ns}}}slot")
            put = slot.find(f"{{{ns}}}put")
            headers = {h.get("name"): h.text for h in put.findall(f"{{{ns}}}header")}
            headers["Content-Type"] = "application/octet-stream"
            get_url = slot.find(f"{{{ns}}}get").get("url")
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, self.https, "PUT", put.get("url"), sealed, headers)
            link = "aesgcm://" + get_url[len("https://"):] + "#" + iv.hex() + key.hex()
            if self.args.omemo2_only:
                await self.send_twomemo(link)
            else:
                await self.send_encrypted(link)
        except Exception as e:
            say("FAILED", json.dumps({"error": f"{type(e).__name__}: {e}"}))

    async def fetch_file(self, link):
        try:
            address, fragment = link.split("#", 1)
            raw = bytes.fromhex(fragment)
            iv, key = raw[:-32], raw[-32:]
            url = "https://" + address[len("aesgcm://"):]
            loop = asyncio.get_running_loop()
            sealed = await loop.run_in_executor(None, self.https, "GET", url)
            plain = AESGCM(key).decrypt(iv, sealed, None)
            say("FILE", json.dumps({"sha256": hashlib.sha256(plain).hexdigest(), "size": len(plain)}))
        except Exception as e:
            say("FILE-FAILED", json.dumps({"error": f"{type(e).__name__}: {e}"}))

    async def wait_devices(self, n):
        xep_0384 = self["xep_0384"]
        session_manager = await xep_0384.get_session_manager()
        ids = []
        for _ in range(60):
            await xep_0384.refresh_device_lists({self.other}, force_download=True)
            info = await session_manager.get_device_information(self.other.bare)
            ids = sorted(d.device_id for d in info if any(active for _, active in d.active))
            if len(ids) >= n:
                say("DEVICES", json.dumps(ids))
                return
            await asyncio.sleep(0.5)
        say("FAILED", json.dumps({"error": f"only devices {ids}"}))

    async def make_room(self, room, private, join=True):
        try:
            muc = self["xep_0045"]
            if join:
                await muc.join_muc_wait(room, "peer", maxstanzas=0, timeout=20)
            form = self["xep_0004"].make_form(ftype="submit")
            form.add_field(var="FORM_TYPE", value="http://jabber.org/protocol/muc#roomconfig")
            form.add_field(var="muc#roomconfig_persistentroom", ftype="boolean", value=True)
            form.add_field(var="muc#roomconfig_enablearchiving", ftype="boolean", value=True)
            form.add_field(var="muc#roomconfig_membersonly", ftype="boolean", value=private)
            form.add_field(var="muc#roomconfig_whois", ftype="list-single",
                           value="anyone" if private else "moderators")
            await muc.set_room_config(room, form, timeout=15)
            if private:
                await muc.set_affiliation(room, "member", jid=JID(self.other.bare), timeout=15)
            say("ROOM-READY")
        except Exception as e:
            say("FAILED", json.dumps({"error": f"{type(e).__name__}: {e}"}))

    async def send_room(self, room, text, bad_mac=False):
        try:
            muc = self["xep_0045"]
            xep_0384 = self["xep_0384"]
            me = self.boundjid.bare
            recipients = set()
            for affiliation in ("member", "admin", "owner"):
                for j in await muc.get_affiliation_list(room, affiliation, timeout=15):
                    recipients.add(JID(j).bare)
            for nick in muc.get_roster(room):
                real = muc.get_jid_property(room, nick, "jid")
                if real:
                    recipients.add(JID(real).bare)
            recipients.discard(me)
            if not recipients:
                say("FAILED", json.dumps({"error": "nobody to encrypt to"}))
                return
            await xep_0384.refresh_device_lists({JID(r) for r in recipients}, force_download=True)
            stanza = self.make_message(mto=room, mtype="groupchat")
            stanza["body"] = text
            encrypted, errors = await xep_0384.encrypt_message(stanza, {JID(r) for r in recipients})
            for e in errors:
                say("ENCRYPTION-ERROR", json.dumps({"error": repr(e)}))
            if encrypted is None:
                say("FAILED", json.dumps({"error": "nothing to send"}))
                return
            if bad_mac:
                for key in encrypted.xml.iter("{eu.siacs.conversations.axolotl}key"):
                    data = bytearray(base64.b64decode(key.text))
                    data[-1] ^= 0x01
                    key.text = base64.b64encode(bytes(data)).decode()
            encrypted.send()
            await self["xep_0199"].ping(jid=JID(self.boundjid.domain), timeout=10)
            say("SENT")
        except Exception as e:
            say("FAILED", json.dumps({"error": f"{type(e).__name__}: {e}"}))

    async def on_groupchat(self, msg: Message):
        muc = self["xep_0045"]
        room = JID(msg["from"].bare)
        if msg["from"].resource in ("", muc.our_nicks.get(room)):
            return
        xep_0384 = self["xep_0384"]
        if not xep_0384.is_encrypted(msg):
            if msg["body"]:
                say("ROOM-PLAIN", json.dumps({"body": msg["body"]}))
            return
        try:
            decrypted, _device = await xep_0384.decrypt_message(msg)
            say("ROOM-DECRYPTED", json.dumps({"body": decrypted["body"]}))
            if decrypted["body"].startswith("aesgcm://"):
                await self.fetch_file(decrypted["body"])
        except Exception as e:
            say("ROOM-UNDECRYPTABLE", json.dumps({"error": f"{type(e).__name__}: {e}"}))

    def on_bodiless(self, msg: Message):
        if not msg["body"]:
            asyncio.ensure_future(self.on_message(msg))

    async def on_message(self, msg: Message):
        if msg["from"].bare != self.other.bare or msg["type"] not in ("chat", "normal"):
            return
        xep_0384 = self["xep_0384"]
        if msg.xml.find("{urn:xmpp:omemo:2}encrypted") is not None:
            await self.on_twomemo(msg)
            return
        if not xep_0384.is_encrypted(msg):
            say("PLAIN", json.dumps({"body": msg["body"]}))
            return
        try:
            decrypted, device = await xep_0384.decrypt_message(msg)
            if not decrypted["body"]:
                say("KEYTRANSPORT", json.dumps({"device": device.device_id}))
                return
            say("DECRYPTED", json.dumps({"body": decrypted["body"], "device": device.device_id}))
            if decrypted["body"].startswith("aesgcm://"):
                await self.fetch_file(decrypted["body"])
        except Exception as e:
            say("UNDECRYPTABLE", json.dumps({"error": f"{type(e).__name__}: {e}"}))


def reinstall_as(device_id):
    """A fresh identity under an existing device id, as an app reinstalled with its old id.
    python-omemo picks a random id not in the published device lists at first run: here
    that pick is `device_id`, and the lists are not consulted for it (only for that pick)."""
    import builtins
    import omemo.session_manager as sm

    class FixedId:
        @staticmethod
        def randbelow(_n):
            return device_id - sm.SessionManager.DEVICE_ID_MIN

    class NothingListed:
        @staticmethod
        def union(*_lists):
            del sm.frozenset  # once: the first run's "ids already in use"
            return builtins.frozenset()

    sm.secrets = FixedId
    sm.frozenset = lambda *a: builtins.frozenset(*a) if a else NothingListed()


def twomemo_only():
    """python-omemo with the twomemo backend alone: OMEMO 0.3 is not spoken at all."""
    import oldmemo
    import omemo.session_manager as sm

    create = sm.SessionManager.create.__func__

    async def only_twomemo(cls, backends, *rest, **kw):
        kept = [b for b in backends if not isinstance(b, oldmemo.Oldmemo)]
        return await create(cls, kept, *rest, **kw)

    sm.SessionManager.create = classmethod(only_twomemo)

    # slixmpp-omemo still follows and fetches OMEMO 0.3 device lists: ignore them.
    for name in ("update_device_list", "refresh_device_list"):
        original = getattr(sm.SessionManager, name)

        async def skip_oldmemo(self, namespace, *rest, _original=original, **kw):
            if namespace == oldmemo.oldmemo.NAMESPACE:
                return None
            return await _original(self, namespace, *rest, **kw)

        setattr(sm.SessionManager, name, skip_oldmemo)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--jid", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--other", required=True)
    p.add_argument("--debug", action="store_true")
    p.add_argument("--device-id", type=int, help="a fresh identity under this existing device id")
    p.add_argument("--omemo2-only", action="store_true", help="OMEMO 2 (twomemo) alone")
    args = p.parse_args()
    if args.omemo2_only:
        twomemo_only()
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, stream=sys.stderr)
    if args.device_id:
        reinstall_as(args.device_id)
    peer = Peer(args)
    peer.connect(address=("127.0.0.1", args.port), force_starttls=True)
    asyncio.get_event_loop().run_until_complete(peer.disconnected)
    sys.exit(peer.result)


if __name__ == "__main__":
    main()
