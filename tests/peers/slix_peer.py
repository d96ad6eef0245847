"""A client Loquat did not write, for interoperability tests: slixmpp (from PyPI).

    python slix_peer.py --jid bob@localhost --password pw --port 5222 --ca ca.pem \
        flood --to alice@localhost --count 50 --prefix "msg"
    python slix_peer.py ... flood --room r@conference.localhost --nick peer \
        --first "hello room from peer" --count 500 --prefix "flood"

Sends at full speed, then asks the server for a ping answer, so everything sent before
it was handled by the server, and signs out. Prints `sent N` and exits 0, or prints
the error and exits 1. Messages are numbered `<prefix> 0001` and so on.

    python slix_peer.py ... modern --to alice@localhost [--listen]
    python slix_peer.py ... modern --room r@conference.localhost --nick peer [--listen] [--other alice]

Modern XMPP with slixmpp's own plugins (tests/modern.rs): sends a message `m1` "helo"
and its correction (XEP-0308) "hello", `m2` "react to me" and reactions to it
(XEP-0444), `m3` "delete me" and its retraction (XEP-0424), a reply to `m1`
(XEP-0461 with the XEP-0428 fallback), then composing and paused (XEP-0085). In a room
the reaction names the room's stanza-id of `m2`, as XEP-0444 asks. Prints `sent N`.
With `--listen` it then stays, printing `SEEN <json>` (what slixmpp's plugins read)
and `RECV <xml>` for every message from the other side until one with the body `bye`,
and `done`.

    python slix_peer.py ... private --room r@conference.localhost --nick peer --other alice

Private messages between occupants of a room (XEP-0045 7.5) with replies: sends `p1`
"psst" to the occupant `--other`, prints `sent 1`, then prints `SEEN <json>` for the
first private message from them that is a reply (XEP-0461), answers it with a reply
of its own ("indeed", quoting "sure" as fallback, XEP-0428) and prints `done`.

    python slix_peer.py ... forge --room r@conference.localhost --nick mallory

Someone else in the room tries to correct `m1` and retract `m2` of another occupant;
prints `sent 2`.
"""

import argparse
import asyncio
import json
import logging
import ssl
import sys
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp import JID
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import StanzaPath


class Peer(slixmpp.ClientXMPP):
    def __init__(self, args):
        super().__init__(args.jid, args.password)
        self.args = args
        self.result = 1
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0045")
        self.register_plugin("xep_0199")
        if args.command in ("modern", "forge", "private"):
            for plugin in ("xep_0085", "xep_0308", "xep_0359", "xep_0421", "xep_0424",
                           "xep_0428", "xep_0444", "xep_0461", "xep_0334"):
                self.register_plugin(plugin)
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
        if a.command == "modern":
            await self.modern()
            return
        if a.command == "forge":
            await self.forge()
            return
        if a.command == "private":
            await self.private()
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


    async def modern(self):
        a = self.args
        self.send_presence()
        await self.get_roster()
        reflected = {}
        bye = asyncio.get_event_loop().create_future()
        me = None

        def on_message(msg):
            if a.room:
                if msg["from"].bare != a.room:
                    return
                if msg["from"].resource == a.nick:
                    # Our own message back from the room: its stanza-id by the room.
                    reflected[msg["origin_id"]["id"] or msg["id"]] = msg["stanza_id"]["id"]
                    return
                if a.other and msg["from"].resource != a.other:
                    return
            elif msg["from"].bare != a.to:
                return
            if a.listen and msg["type"] in ("chat", "groupchat", "normal"):
                # What slixmpp's plugins read from it, then the stanza itself.
                seen = {
                    "body": msg["body"],
                    "replace": msg["replace"]["id"] if msg.xml.find(
                        "{urn:xmpp:message-correct:0}replace") is not None else None,
                    "reactions": [msg["reactions"]["id"],
                                  sorted(r["value"] for r in msg["reactions"])]
                    if msg.xml.find("{urn:xmpp:reactions:0}reactions") is not None else None,
                    "retract": msg["apply_to"]["id"] if msg.xml.find(
                        "{urn:xmpp:fasten:0}apply-to") is not None else None,
                    "reply": [msg["reply"]["id"], msg["reply"]["to"],
                              msg["reply"].get_fallback_body()]
                    if msg.xml.find("{urn:xmpp:reply:0}reply") is not None else None,
                    "chat_state": msg["chat_state"] or None,
                }
                print("SEEN " + json.dumps(seen, ensure_ascii=False), flush=True)
                print("RECV " + str(msg).replace("\n", "\\n"), flush=True)
                if msg["body"] == "bye" and not bye.done():
                    bye.set_result(True)

        # Every message stanza, also those without a body (reactions, chat states),
        # which slixmpp's "message" event leaves out.
        self.register_handler(Callback("modern: every message", StanzaPath("message"), on_message))
        if a.room:
            await self["xep_0045"].join_muc_wait(a.room, a.nick, maxstanzas=0, timeout=20)
            mtype, to = "groupchat", a.room
        else:
            mtype, to = "chat", a.to
        sent = 0

        def message(mid, body):
            msg = self.make_message(mto=to, mbody=body, mtype=mtype)
            msg["id"] = mid
            msg["origin_id"]["id"] = mid
            return msg

        async def reference(mid):
            """What others name message `mid` by: the room's stanza-id in a room."""
            if not a.room:
                return mid
            for _ in range(100):
                if mid in reflected:
                    return reflected[mid]
                await asyncio.sleep(0.1)
            raise RuntimeError(f"no reflection of {mid}")

        message("m1", "helo").send()
        correction = message("c1", "hello")
        correction["replace"]["id"] = "m1"
        correction.send()
        message("m2", "react to me").send()
        reaction = self.make_message(mto=to, mtype=mtype)
        self["xep_0444"].set_reactions(reaction, await reference("m2"), ["👍", "🎉"])
        reaction.enable("store")
        reaction.send()
        message("m3", "delete me").send()
        self["xep_0424"].send_retraction(JID(to), "m3", mtype=mtype)
        reply = message("r1", "yes, hello")
        reply["reply"]["id"] = await reference("m1")
        reply["reply"]["to"] = to if not a.room else f"{a.room}/{a.nick}"
        reply["reply"].add_quoted_fallback("hello")
        reply.send()
        sent += 6
        for state in ("composing", "paused"):
            st = self.make_message(mto=to, mtype=mtype)
            st["chat_state"] = state
            st.send()
            sent += 1
        await self["xep_0199"].ping(jid=self.boundjid.domain, timeout=60)
        if a.room:
            await self["xep_0030"].get_info(jid=a.room, timeout=60)
        print(f"sent {sent}", flush=True)
        if a.listen:
            await asyncio.wait_for(bye, timeout=120)
            print("done", flush=True)


    async def private(self):
        a = self.args
        self.send_presence()
        await self.get_roster()
        other = JID(f"{a.room}/{a.other}")
        got = asyncio.get_event_loop().create_future()

        def on_message(msg):
            if msg["from"] != other or msg["type"] != "chat":
                return
            if msg.xml.find("{urn:xmpp:reply:0}reply") is None or got.done():
                return
            seen = {
                "body": msg["body"],
                "type": msg["type"],
                "id": msg["origin_id"]["id"] or msg["id"],
                "muc_user": msg.xml.find("{http://jabber.org/protocol/muc#user}x") is not None,
                "reply": [msg["reply"]["id"], msg["reply"]["to"],
                          msg["reply"].get_fallback_body()],
            }
            print("SEEN " + json.dumps(seen, ensure_ascii=False), flush=True)
            print("RECV " + str(msg).replace("\n", "\\n"), flush=True)
            got.set_result(seen)

        self.register_handler(Callback("private: every message", StanzaPath("message"), on_message))
        await self["xep_0045"].join_muc_wait(a.room, a.nick, maxstanzas=0, timeout=20)

        def private(mid, body):
            msg = self.make_message(mto=other, mbody=body, mtype="chat")
            msg["id"] = mid
            msg["origin_id"]["id"] = mid
            msg.append(ET.Element("{http://jabber.org/protocol/muc#user}x"))
            return msg

        private("p1", "psst").send()
        await self["xep_0199"].ping(jid=self.boundjid.domain, timeout=60)
        print("sent 1", flush=True)
        theirs = await asyncio.wait_for(got, timeout=120)
        reply = private("pr1", "indeed")
        reply["reply"]["id"] = theirs["id"]
        reply["reply"]["to"] = str(other)
        reply["reply"].add_quoted_fallback("sure")
        reply.send()
        await self["xep_0199"].ping(jid=self.boundjid.domain, timeout=60)
        print("done", flush=True)


    async def forge(self):
        a = self.args
        self.send_presence()
        await self["xep_0045"].join_muc_wait(a.room, a.nick, maxstanzas=0, timeout=20)
        forged = self.make_message(mto=a.room, mbody="forged", mtype="groupchat")
        forged["replace"]["id"] = "m1"
        forged.send()
        self["xep_0424"].send_retraction(JID(a.room), "m2", mtype="groupchat")
        await self["xep_0199"].ping(jid=self.boundjid.domain, timeout=60)
        await self["xep_0030"].get_info(jid=a.room, timeout=60)
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
    m = sub.add_parser("modern")
    m.add_argument("--to")
    m.add_argument("--room")
    m.add_argument("--nick", default="peer")
    m.add_argument("--listen", action="store_true")
    m.add_argument("--other", help="in a room, listen to this occupant only")
    pr = sub.add_parser("private")
    pr.add_argument("--room", required=True)
    pr.add_argument("--nick", default="peer")
    pr.add_argument("--other", required=True)
    fo = sub.add_parser("forge")
    fo.add_argument("--room", required=True)
    fo.add_argument("--nick", default="mallory")
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)
    peer = Peer(args)
    peer.connect(address=(args.host, args.port), force_starttls=True)
    loop = asyncio.get_event_loop()
    loop.run_until_complete(peer.disconnected)
    sys.exit(peer.result)


if __name__ == "__main__":
    main()
