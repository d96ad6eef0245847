-- Test-only: room avatars (XEP-0486) for Prosody 0.12, which has none built in.
-- Loaded on the MUC component by tests/support/prosody.cfg.lua.in. A room's owner sets
-- the room's vcard-temp (an IQ set to the room's bare JID); anyone asks for it (IQ get).
-- The SHA-1 of its PHOTO is announced in the room's disco#info
-- (muc#roominfo_avatarhash) and, when it changes, in a presence from the room's bare
-- JID to every occupant (vcard-temp:x:update). Kept in memory: tests only.

local st = require "util.stanza";
local jid_bare = require "util.jid".bare;
local sha1 = require "util.hashes".sha1;
local base64 = require "util.encodings".base64;

local mod_muc = module:depends("muc");

local vcards = {}; -- room JID -> vCard element
local hashes = {}; -- room JID -> hex SHA-1 of its photo

local function photo_hash(vcard)
	local photo = vcard:get_child("PHOTO");
	local binval = photo and photo:get_child_text("BINVAL");
	if not binval then return nil; end
	local bytes = base64.decode((binval:gsub("%s", "")));
	if not bytes or #bytes == 0 then return nil; end
	return sha1(bytes, true);
end

module:hook("iq/bare/vcard-temp:vCard", function (event)
	local origin, stanza = event.origin, event.stanza;
	local room = mod_muc.get_room_from_jid(jid_bare(stanza.attr.to));
	if not room then return; end
	if stanza.attr.type == "get" then
		local reply = st.reply(stanza);
		local vcard = vcards[room.jid];
		if vcard then
			reply:add_child(st.clone(vcard));
		else
			reply:tag("vCard", { xmlns = "vcard-temp" });
		end
		origin.send(reply);
		return true;
	elseif stanza.attr.type == "set" then
		if room:get_affiliation(stanza.attr.from) ~= "owner" then
			origin.send(st.error_reply(stanza, "auth", "forbidden", "Only owners set the room's vCard"));
			return true;
		end
		local vcard = st.clone(stanza.tags[1]);
		vcards[room.jid] = vcard;
		hashes[room.jid] = photo_hash(vcard);
		origin.send(st.reply(stanza));
		local announce = st.presence({ from = room.jid })
			:tag("x", { xmlns = "vcard-temp:x:update" })
			:tag("photo"):text(hashes[room.jid] or ""):up():up();
		room:broadcast(announce);
		return true;
	end
end, 10);

module:hook("muc-disco#info", function (event)
	local hash = hashes[event.room.jid];
	if hash then
		table.insert(event.form, { name = "muc#roominfo_avatarhash", type = "text-multi" });
		event.formdata["muc#roominfo_avatarhash"] = hash; -- text-multi: lines of one string
	end
end);
